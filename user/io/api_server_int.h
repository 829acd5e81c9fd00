/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the API server's transport: the server (api_server.c: listeners, connection cap,
 * timeouts), one connection (api_conn.c: TLS, receive, parse, send, close) and the answers
 * (api_reply.c). Not for other modules.
 */
#ifndef PODPROBE_API_SERVER_INT_H
#define PODPROBE_API_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "podprobe/api_server.h"
#include "podprobe/http_req-t.h"

#define API_IN_BUF    8192	  /* one recv */
#define API_PEND_BUF  8192	  /* plaintext received but not yet parsed */
#define API_RBIO_MAX  (64u << 10) /* TLS bytes buffered unread while a request is served */
#define API_LINGER_NS (500 * PP_NSEC_PER_MSEC)

/* Where a connection is; "busy" is everything but reading before a request's head is in. */
enum api_conn_state {
	API_READING = 0, /* waiting for or parsing a request */
	API_HANDLING,	 /* the handler has the request; its answer is due */
	API_STREAMING,	 /* a chunked answer is being written */
	API_CLOSING,	 /* output flushing, then LINGER */
	API_LINGER,	 /* write side shut: reading what the peer still sends, then close */
	API_CLOSED,	 /* operations retired; memory freed by the server's next run */
	_API_CONN_STATE_MAX,
};

/* A byte buffer: bytes [off, len) are live. */
struct api_buf {
	char *data;
	size_t off, len, cap;
};

struct pp_api_conn {
	struct pp_api_server *s;
	struct pp_api_conn *prev, *next; /* the server's live or dead list */
	int fd;
	bool local; /* unix socket: plain, no token */
	enum api_conn_state state;
	bool drop;	    /* pp_api_stream_write() passed the backlog: close at the next run */
	bool close_after;   /* close once the current answer is out */
	bool ops_done;	    /* its operations have all completed (retire release ran) */
	bool orphan;	    /* the server is gone: the release frees the connection */
	bool in_pump;	    /* inside pump(): answers given meanwhile do not recurse */
	bool sent_continue; /* "100 Continue" went out for the current request */
	bool served;	    /* at least one request answered */
	bool recv_eof;	    /* the peer closed its side */
	bool tls_shut;	    /* close_notify queued */
	uint64_t recv_op, send_op, poll_in, poll_out;
	pp_nsec t_wait;	    /* when it began waiting for the current request */
	pp_nsec t_progress; /* last byte received or sent */
	pp_nsec linger_until;
	SSL *ssl; /* NULL on plain connections */
	BIO *rbio, *wbio;
	struct pp_http_req req;
	struct api_buf q;   /* output not yet handed to a send */
	struct api_buf snd; /* output of the send in flight: never moves until it completes */
	void (*on_close)(void *arg);
	void *on_close_arg;
	size_t pend_off, pend_len;
	char in[API_IN_BUF];
	char pend[API_PEND_BUF];
};

struct pp_api_server {
	struct pp_api_server_cfg cfg; /* strings below are our copies */
	char *tcp_addr, *token, *unix_path;
	size_t token_len;
	int tcp_fd, unix_fd;
	uint64_t tcp_poll, unix_poll;
	unsigned int port;
	pp_nsec accept_paused_until; /* out of fds: accepting again at this time */
	struct pp_api_conn *live;    /* newest first */
	struct pp_api_conn *dead;    /* closed, waiting for their final completions */
	unsigned int n_live;
	bool want_run; /* a dropped stream waits for pp_api_server_run() */
	bool ssl_ref;  /* we hold a reference of cfg.ssl */
};

/* api_conn.c */
struct pp_api_conn *pp_api_conn_new(struct pp_api_server *s, int fd, bool local, pp_nsec now);
void pp_api_conn_pump(struct pp_api_conn *c);
void pp_api_conn_close(struct pp_api_conn *c);
void pp_api_conn_destroy(struct pp_api_conn *c);
bool pp_api_conn_idle(const struct pp_api_conn *c);
pp_nsec pp_api_conn_deadline(const struct pp_api_conn *c);
/* Queue output (TLS-encrypted on TCP); -errno leaves the caller to doom <c>. */
int pp_api_conn_out(struct pp_api_conn *c, const void *data, size_t len);
/* Close <c> from the server's next run, not under the caller. */
void pp_api_conn_doom(struct pp_api_conn *c);
void pp_api_conn_answered(struct pp_api_conn *c);

/* api_reply.c */
const char *pp_api_reason_phrase(int status);

#endif
