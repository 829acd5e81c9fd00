/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server's transport, on the one io_uring loop: an HTTPS listener (TLS through OpenSSL
 * memory BIOs, so the loop does every read and write) and a unix socket, bounded connections,
 * bearer-token and peer-credential checks, HTTP/1.1 keep-alive, replies and chunked streams.
 * What a request means is the handler's business (user/io/api_router.c).
 */
#ifndef PODPROBE_API_SERVER_H
#define PODPROBE_API_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "podprobe/http_req-t.h"
#include "podprobe/time-t.h"

struct pp_loop;
struct pp_api_server;
struct pp_api_conn;
struct ssl_ctx_st;

/*
 * A complete, authenticated request on <conn>. The handler answers with exactly one
 * pp_api_reply*() or pp_api_stream_start(), now or later; <req> is valid until then.
 */
typedef void (*pp_api_handler_fn)(void *ctx, struct pp_api_conn *conn,
				  const struct pp_http_req *req);

struct pp_api_server_cfg {
	struct pp_loop *loop;
	const char *tcp_addr;	/* "127.0.0.1:10443", "[::1]:0"...; NULL = no TCP listener */
	struct ssl_ctx_st *ssl; /* the TCP listener speaks TLS with it (required with tcp_addr) */
	const char *token;	/* bearer token the TCP listener requires */
	const char *unix_path;	/* unix socket to create (mode 0600), NULL = none */
	pp_api_handler_fn handler;
	void *ctx;
	unsigned int max_conns;	   /* 0 = 1024; past it the oldest idle connection is closed */
	size_t max_head, max_body; /* 0 = PP_HTTP_REQ_MAX_HEAD / _BODY */
	pp_nsec head_timeout;	   /* a request's head must arrive within it; 0 = 10 s */
	pp_nsec idle_timeout;	   /* keep-alive connection without a request; 0 = 90 s */
	size_t max_backlog; /* stream bytes queued unsent past which it is dropped; 0 = 4 MiB */
};

/*
 * Listen as <cfg> says (copied). Returns 0, or -errno (-EADDRINUSE...). Requests for /healthz,
 * /livez, /readyz and /version are passed on without a token (the apiserver's anonymous
 * system:public-info-viewer); any other request over TCP without "Authorization: Bearer
 * <token>" is answered 401 with a Status here. Unix-socket peers must have uid 0 or ours.
 */
int pp_api_server_new(const struct pp_api_server_cfg *cfg, struct pp_api_server **ret);

/* The bound TCP port (useful with port 0), or 0 without a TCP listener. */
unsigned int pp_api_server_port(const struct pp_api_server *s);

/*
 * The earliest connection timeout, or PP_NSEC_INFINITY; 0 when a dropped stream waits to be
 * closed. Take it into the loop's deadline, and call pp_api_server_run() after every
 * pp_loop_run_once(): it closes timed-out and dropped connections (their close callbacks run
 * from there), resumes accepting after an fd shortage, and frees closed connections whose
 * operations have completed. Both accept NULL.
 */
pp_nsec pp_api_server_next(const struct pp_api_server *s);
void pp_api_server_run(struct pp_api_server *s, pp_nsec now);

/*
 * Close every connection (their close callbacks run), stop listening, remove the unix socket
 * and free <s>. A connection whose operations are still in flight is freed by the loop after
 * their final completions (in pp_loop_run_once() or pp_loop_free()), so call this before
 * pp_loop_free(). Accepts NULL.
 */
void pp_api_server_free(struct pp_api_server *s);

/* ---- answers ---- */

/*
 * Answer with <status>, Content-Type <ctype> (NULL = application/json), extra header lines
 * <headers> (each "Name: value\r\n", or NULL) and <len> bytes of <body> (copied). Returns 0 or
 * -errno (the connection is then closed).
 */
int pp_api_reply(struct pp_api_conn *c, int status, const char *ctype, const char *headers,
		 const void *body, size_t len);

/* pp_api_reply() of <obj> serialized compactly; takes the reference of <obj>. */
int pp_api_reply_json(struct pp_api_conn *c, int status, const char *ctype, const char *headers,
		      json_t *obj);

/* pp_api_reply_json() of pp_api_status(<code>, <reason>, <message>, <name>, <kind>). */
int pp_api_reply_status(struct pp_api_conn *c, int code, const char *reason, const char *message,
			const char *name, const char *kind);

/*
 * Start a streamed answer (Transfer-Encoding: chunked, flushed per write). Until
 * pp_api_stream_end() the connection reads no further request.
 */
int pp_api_stream_start(struct pp_api_conn *c, int status, const char *ctype);

/*
 * Queue <len> bytes as one chunk. Returns 0; -ENOBUFS when the unsent backlog would pass
 * max_backlog: the connection is then dropped (its close callback runs from a later loop
 * turn, never from inside this call); -EPIPE once the peer is gone.
 */
int pp_api_stream_write(struct pp_api_conn *c, const void *data, size_t len);

/* pp_api_stream_write() of <obj> serialized compactly plus "\n"; takes its reference. */
int pp_api_stream_json(struct pp_api_conn *c, json_t *obj);

/* End the stream (last chunk); the connection then serves its next request or closes. */
void pp_api_stream_end(struct pp_api_conn *c);

/*
 * <fn>(<arg>) runs once when <c> closes before its answer or stream has ended (peer gone,
 * dropped, timeout, server freed): the owner of a deferred answer or stream forgets <c> then.
 * One callback per connection; NULL clears it.
 */
void pp_api_conn_on_close(struct pp_api_conn *c, void (*fn)(void *arg), void *arg);

/* Unsent bytes queued on <c>. */
size_t pp_api_conn_backlog(const struct pp_api_conn *c);

/* True when <c> came through the unix socket. */
bool pp_api_conn_is_local(const struct pp_api_conn *c);

#endif
