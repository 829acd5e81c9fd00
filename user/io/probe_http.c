// SPDX-License-Identifier: Apache-2.0
/*
 * httpGet (H-HTTP.1-8): connect, (TLS), send one GET with Connection: close, parse the
 * response incrementally (core/http_parse.c), follow same-host redirects up to 10. HTTPS uses
 * OpenSSL on memory BIOs, so the socket stays on the loop: TLS bytes move through the same
 * send/recv operations as plain HTTP. One operation is in flight per attempt at any time.
 *
 * The connection goes on a pooled socket (prober.c: pp_attempt_pooled_socket), as tcpSocket's
 * do: after the attempt it is reset with connect(AF_UNSPEC), which answers the server with the
 * RST that closing a zero-linger socket sends, so a probe creates, configures and frees no
 * socket. The request and its wire exchange are those of a fresh socket.
 *
 * Keep-alive (pp_probe_target.keepalive, plain http): the request goes without "Connection:
 * close", and after a complete, fully framed response the connection is parked in the engine
 * for the next attempt on the same address. A parked connection the server has closed is
 * seen before use (a peek) and replaced; one that fails before a status line arrives is
 * retried once on a fresh connection, so a stale pooled connection never counts as a failure
 * (kubelet turned keep-alive off over exactly that: kubernetes #15733).
 */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "podprobe/http_parse.h"
#include "podprobe/loop.h"
#include "prober_int.h"

#define IO_BUF	   4096
#define DEFAULT_UA "kube-probe/1.34"
/* Released attempt states kept for the next attempts (no 24 KB malloc per probe). */
#define POOL_MAX 256

struct http_state {
	struct pp_http_resp resp;
	struct pp_http_target cur;    /* where this request goes */
	struct sockaddr_storage addr; /* cur's address */
	int redirects;
	bool reused;  /* the connection came from the keep-alive pool */
	bool retried; /* a fresh connection replaced a failed reused one */
	bool at_eof;  /* the server closed: nothing to keep */
	bool tls;
	bool hs_done;	  /* TLS handshake finished */
	bool req_written; /* request handed to TLS */
	bool send_busy;
	size_t req_len;
	size_t req_sent;
	size_t out_len; /* TLS bytes in <out> to send */
	size_t out_sent;
	SSL *ssl;
	BIO *rbio; /* network -> OpenSSL */
	BIO *wbio; /* OpenSSL -> network */
	char req[IO_BUF];
	char in[IO_BUF];
	char out[IO_BUF];
	char body[PP_HTTP_MAX_BODY_BYTES];
};

static SSL_CTX *tls_ctx;
/* The engine runs on one thread: a plain stack of free states. */
static struct http_state *pool[POOL_MAX];
static unsigned int pool_len;

static struct http_state *state_get(void)
{
	return pool_len ? pool[--pool_len] : malloc(sizeof(struct http_state));
}

/* Only once the kernel is done with the state's buffers (the attempt's release). */
static void state_put(struct http_state *h)
{
	if (pool_len < POOL_MAX)
		pool[pool_len++] = h;
	else
		free(h);
}

/* One client context for every HTTPS probe: no verification, as kubelet (H-HTTP.3). */
static SSL_CTX *get_tls_ctx(void)
{
	if (!tls_ctx) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (tls_ctx)
			SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	}
	return tls_ctx;
}

static void url(const struct http_state *h, char *buf, size_t size)
{
	char hp[300];

	pp_http_format_host(hp, sizeof(hp), h->cur.host, h->cur.port);
	snprintf(buf, size, "%s://%s%s", h->cur.scheme, hp, h->cur.path);
}

static void fail(struct attempt *a, const char *fmt, const char *detail)
{
	struct http_state *h = a->proto;
	char u[2400];

	url(h, u, sizeof(u));
	pp_attempt_finish(a, PP_RESULT_FAILURE, h->resp.status, fmt, u, detail);
}

static void pump(struct attempt *a);
static int connect_cur(struct attempt *a);

/*
 * A reused connection failed before any response, or answered 408 Request Timeout: a server
 * that times an idle connection out may say so unasked before it closes (RFC 9110 15.5.9; Go's
 * transport drops such a connection too: transport.go is408Message). Drop it and go again on a
 * fresh one, once. Returns true when the attempt goes on (or has ended) that way.
 */
static bool retry_fresh(struct attempt *a)
{
	struct http_state *h = a->proto;
	char why[128];
	int err;

	if (!h->reused || h->retried || (h->resp.status && h->resp.status != 408) || h->tls)
		return false;
	h->reused = false;
	h->retried = true;
	pp_attempt_socket_drop(a); /* no operation in flight: we run from a completion */
	err = connect_cur(a);
	if (err < 0)
		fail(a, "Get \"%s\": %s", pp_errno_text(err, why, sizeof(why)));
	return true;
}

/* After a complete response on the original address: may the connection serve the next? */
static void maybe_park(struct attempt *a)
{
	struct http_state *h = a->proto;
	const struct pp_http_resp *r = &h->resp;
	bool framed = (r->content_length >= 0 && (uint64_t)r->content_length == r->body_len) ||
		      (r->chunked && r->body_len < sizeof(h->body));

	if (!a->t->keepalive || h->tls || h->redirects || h->at_eof || !r->complete || !framed ||
	    a->fd < 0)
		return;
	pp_prober_conn_park(pp_attempt_prober(a), &a->t->addr, a->t->addrlen, a->fd);
	a->fd = -1;
}

/* Only with no operation in flight: after a completion, or from the release (cleanup). */
static void close_conn(struct attempt *a)
{
	struct http_state *h = a->proto;

	pp_attempt_socket_drop(a);
	if (h->ssl) {
		SSL_free(h->ssl); /* frees both BIOs */
		h->ssl = NULL;
	}
}

/* A 3xx: follow it (same hostname, H-HTTP.7), or end with a Warning. */
static void redirect(struct attempt *a)
{
	struct http_state *h = a->proto;
	struct pp_http_target next;
	const char *orig = a->t->host && *a->t->host ? a->t->host : "127.0.0.1";
	int st = h->resp.status, err;

	if (!h->resp.has_location ||
	    (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) ||
	    pp_http_resolve_redirect(h->cur.scheme, h->cur.host, h->cur.port, h->cur.path,
				     h->resp.location, &next) < 0 ||
	    !pp_http_same_host(next.host, orig)) {
		pp_attempt_finish(a, PP_RESULT_WARNING, st,
				  "Probe terminated redirects, Response body: %.*s",
				  (int)h->resp.body_len, h->body);
		return;
	}
	if (h->redirects >= PP_PROBE_MAX_REDIRECTS) {
		fail(a, "Get \"%s\": %s", "stopped after 10 redirects");
		return;
	}
	h->redirects++;
	close_conn(a); /* a->op is 0: we run from a completion */
	h->cur = next;
	/* Same hostname, so the same address; only the port may change. */
	if (h->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&h->addr)->sin6_port = htons((uint16_t)next.port);
	else
		((struct sockaddr_in *)&h->addr)->sin_port = htons((uint16_t)next.port);
	err = connect_cur(a);
	if (err < 0) {
		char why[128];

		fail(a, "Get \"%s\": %s", pp_errno_text(err, why, sizeof(why)));
	}
}

static void response_done(struct attempt *a)
{
	struct http_state *h = a->proto;
	int st = h->resp.status;

	if (st == 408 && retry_fresh(a))
		return;
	if (st < 300 || st >= 400)
		maybe_park(a);
	if (st >= 200 && st < 300)
		pp_attempt_finish(a, PP_RESULT_SUCCESS, st, "%.*s", (int)h->resp.body_len, h->body);
	else if (st >= 300 && st < 400)
		redirect(a);
	else
		pp_attempt_finish(a, PP_RESULT_FAILURE, st, "HTTP probe failed with statuscode: %d",
				  st);
}

/* Feed received application bytes; returns true when the attempt has ended. */
static bool feed(struct attempt *a, const char *data, size_t len)
{
	struct http_state *h = a->proto;
	int rc = pp_http_resp_feed(&h->resp, data, len);

	if (rc == 0)
		return false;
	if (rc == 1)
		response_done(a);
	else
		fail(a, "Get \"%s\": malformed HTTP response: %s",
		     h->resp.error ? h->resp.error : "bad response");
	return true;
}

static void on_eof(struct attempt *a, int err)
{
	struct http_state *h = a->proto;
	char why[128];

	if (retry_fresh(a))
		return;
	h->at_eof = true;
	if (err < 0 && err != -ECONNRESET) {
		fail(a, "Get \"%s\": %s", pp_errno_text(err, why, sizeof(why)));
		return;
	}
	if (pp_http_resp_eof(&h->resp) == 1)
		response_done(a);
	else if (!h->resp.status)
		fail(a, "Get \"%s\": %s", err ? "read: connection reset by peer" : "EOF");
	else
		fail(a, "Get \"%s\": %s", h->resp.error ? h->resp.error : "unexpected EOF");
}

static void on_recv(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct http_state *h = a->proto;

	a->op = 0;
	if (res <= 0) {
		on_eof(a, res);
		return;
	}
	if (!h->tls) {
		if (!feed(a, h->in, (size_t)res))
			pump(a);
		return;
	}
	BIO_write(h->rbio, h->in, res);
	pump(a);
}

static void on_send(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct http_state *h = a->proto;
	char why[128];

	a->op = 0;
	h->send_busy = false;
	if (res < 0) {
		if (retry_fresh(a))
			return;
		fail(a, "Get \"%s\": write: %s", pp_errno_text(res, why, sizeof(why)));
		return;
	}
	if (h->tls)
		h->out_sent += (size_t)res;
	else
		h->req_sent += (size_t)res;
	pump(a);
}

static void send_bytes(struct attempt *a, const char *p, size_t n)
{
	struct http_state *h = a->proto;
	char why[128];
	int rc;

	h->send_busy = true;
	rc = pp_loop_send(pp_attempt_loop(a), a->fd, p, (unsigned int)n, on_send, a, &a->op);
	if (rc < 0)
		fail(a, "Get \"%s\": %s", pp_errno_text(rc, why, sizeof(why)));
}

static void recv_bytes(struct attempt *a)
{
	struct http_state *h = a->proto;
	char why[128];
	int rc = pp_loop_recv(pp_attempt_loop(a), a->fd, h->in, sizeof(h->in), on_recv, a, &a->op);

	if (rc < 0)
		fail(a, "Get \"%s\": %s", pp_errno_text(rc, why, sizeof(why)));
}

/* The TLS half of pump(): returns true when it queued an operation or ended the attempt. */
static bool pump_tls(struct attempt *a)
{
	struct http_state *h = a->proto;
	char buf[IO_BUF], reason[256];
	int r;

	if (h->out_sent < h->out_len) {
		send_bytes(a, h->out + h->out_sent, h->out_len - h->out_sent);
		return true;
	}
	if (!h->hs_done) {
		r = SSL_do_handshake(h->ssl);
		if (r == 1) {
			h->hs_done = true;
		} else {
			int e = SSL_get_error(h->ssl, r);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				snprintf(reason, sizeof(reason), "remote error: tls: %s",
					 ERR_reason_error_string(ERR_peek_last_error())
						 ?: "handshake failure");
				ERR_clear_error();
				fail(a, "Get \"%s\": %s", reason);
				return true;
			}
		}
	}
	if (h->hs_done && !h->req_written) {
		if (SSL_write(h->ssl, h->req, (int)h->req_len) <= 0) {
			ERR_clear_error();
			fail(a, "Get \"%s\": %s", "tls: write failed");
			return true;
		}
		h->req_written = true;
	}
	if (BIO_pending(h->wbio) > 0) {
		h->out_len = (size_t)BIO_read(h->wbio, h->out, sizeof(h->out));
		h->out_sent = 0;
		send_bytes(a, h->out, h->out_len);
		return true;
	}
	while (h->hs_done && (r = SSL_read(h->ssl, buf, sizeof(buf))) > 0)
		if (feed(a, buf, (size_t)r))
			return true;
	if (h->hs_done && SSL_get_error(h->ssl, r) == SSL_ERROR_ZERO_RETURN) {
		on_eof(a, 0);
		return true;
	}
	ERR_clear_error();
	return false;
}

/* Move the exchange forward: at most one send or recv in flight. */
static void pump(struct attempt *a)
{
	struct http_state *h = a->proto;

	if (h->send_busy || a->op)
		return;
	if (h->tls) {
		if (!pump_tls(a))
			recv_bytes(a);
		return;
	}
	if (h->req_sent < h->req_len)
		send_bytes(a, h->req + h->req_sent, h->req_len - h->req_sent);
	else
		recv_bytes(a);
}

static void on_connect(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct http_state *h = a->proto;
	char hp[300], why[128];

	a->op = 0;
	if (res < 0) {
		pp_http_format_host(hp, sizeof(hp), h->cur.host, h->cur.port);
		snprintf(h->in, sizeof(h->in), "dial tcp %s: connect: %s", hp,
			 pp_errno_text(res, why, sizeof(why)));
		if (pp_errno_is_resource(res)) {
			char u[2400];

			url(h, u, sizeof(u));
			pp_attempt_finish(a, PP_RESULT_UNKNOWN, 0, "Get \"%s\": %s", u, h->in);
		} else {
			fail(a, "Get \"%s\": %s", h->in);
		}
		return;
	}
	pump(a);
}

/* Build h->cur's request and set up the exchange (TLS included). */
static int prepare(struct attempt *a)
{
	static const char conn_close[] = "Connection: close\r\n\r\n";
	struct http_state *h = a->proto;
	const struct pp_probe_target *t = a->t;
	char host_header[300];
	int n;

	h->tls = !strcmp(h->cur.scheme, "https");
	h->hs_done = h->req_written = h->send_busy = false;
	h->req_sent = h->out_len = h->out_sent = 0;
	pp_http_resp_init(&h->resp, h->body, sizeof(h->body));
	pp_http_format_host(host_header, sizeof(host_header), h->cur.host, h->cur.port);
	n = pp_http_build_request(h->req, sizeof(h->req), host_header, h->cur.path, t->headers,
				  t->n_headers, t->user_agent ? t->user_agent : DEFAULT_UA);
	if (n < 0)
		return n;
	h->req_len = (size_t)n;
	/* Keep-alive: HTTP/1.1's default once the request's last header goes. */
	if (t->keepalive && !strcmp(h->cur.scheme, "http") &&
	    h->req_len >= sizeof(conn_close) - 1 &&
	    !memcmp(h->req + h->req_len - (sizeof(conn_close) - 1), conn_close,
		    sizeof(conn_close) - 1)) {
		h->req_len -= sizeof(conn_close) - 1;
		memcpy(h->req + h->req_len, "\r\n", 2);
		h->req_len += 2;
	}
	if (h->tls) {
		SSL_CTX *ctx = get_tls_ctx();

		h->ssl = ctx ? SSL_new(ctx) : NULL;
		h->rbio = BIO_new(BIO_s_mem());
		h->wbio = BIO_new(BIO_s_mem());
		if (!h->ssl || !h->rbio || !h->wbio) {
			BIO_free(h->rbio);
			BIO_free(h->wbio);
			return -ENOMEM;
		}
		SSL_set_bio(h->ssl, h->rbio, h->wbio);
		SSL_set_connect_state(h->ssl);
		if (!strchr(h->cur.host, ':') &&
		    strspn(h->cur.host, "0123456789.") != strlen(h->cur.host))
			SSL_set_tlsext_host_name(h->ssl, h->cur.host);
	}
	return 0;
}

/* Open a connection to h->cur and prepare its request. */
static int connect_cur(struct attempt *a)
{
	struct http_state *h = a->proto;
	int err = prepare(a);

	if (err < 0)
		return err;
	/*
	 * A pooled socket but for keep-alive, whose connection outlives the attempt (parked). Its
	 * reset after the attempt is the RST the zero-linger close below sends.
	 */
	if (a->t->keepalive || pp_attempt_pooled_socket(a, false) < 0)
		err = pp_attempt_socket(a);
	if (err < 0)
		return err;
	return pp_loop_connect(pp_attempt_loop(a), a->fd, (const struct sockaddr *)&h->addr,
			       a->t->addrlen, on_connect, a, &a->op);
}

/*
 * A parked connection idle for less than this is reused without asking the kernel whether the
 * server closed it. Servers time idle connections out after seconds (Apache's and Node's
 * keep-alive timeouts are 5 s, gunicorn's 2 s), so at the periods where a system call per
 * probe shows (1 s) the answer is nearly always "open"; when the server did close it, the
 * request fails or draws its idle-timeout 408, and retry_fresh() goes again on a new
 * connection. Longer idle connections are checked first (take_alive()).
 */
#define KEEPALIVE_TRUSTED (2 * PP_NSEC_PER_SEC)

/* A parked connection the server has not closed (as far as can be told), or -1. */
static int take_alive(struct attempt *a)
{
	pp_nsec since;
	int fd = pp_prober_conn_take(pp_attempt_prober(a), &a->t->addr, a->t->addrlen, &since);
	char c;

	if (fd < 0)
		return -1;
	if (a->start - since < KEEPALIVE_TRUSTED)
		return fd;
	/* Nothing to read and no FIN: still open (anything else cannot serve a request). */
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		return fd;
	close(fd);
	return -1;
}

/* Keep-alive: the request on a parked connection, else on a new one. */
static int start_reused(struct attempt *a)
{
	struct http_state *h = a->proto;
	int fd = take_alive(a), err;

	if (fd < 0)
		return connect_cur(a);
	a->fd = fd;
	h->reused = true;
	err = prepare(a);
	if (err < 0)
		return err;
	h->send_busy = true;
	err = pp_loop_send(pp_attempt_loop(a), a->fd, h->req, (unsigned int)h->req_len, on_send, a,
			   &a->op);
	if (err < 0)
		h->send_busy = false;
	return err;
}

/* snprintf(dst, size, "%s", src), truncation included, without the formatter: once per attempt. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	while (n + 1 < size && src[n])
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int http_start(struct attempt *a)
{
	const struct pp_probe_target *t = a->t;
	struct http_state *h = state_get();

	if (!h)
		return -ENOMEM;
	/*
	 * Not the kilobytes of <cur> and <addr>, set whole below, nor <resp>: every path from here
	 * goes through prepare(), which initialises it before anything reads it.
	 */
	memset((char *)h + offsetof(struct http_state, redirects), 0,
	       offsetof(struct http_state, req) - offsetof(struct http_state, redirects));
	a->proto = h;
	copy_str(h->cur.scheme, sizeof(h->cur.scheme), t->https ? "https" : "http");
	copy_str(h->cur.host, sizeof(h->cur.host), t->host && *t->host ? t->host : "127.0.0.1");
	h->cur.port = t->port;
	copy_str(h->cur.path, sizeof(h->cur.path), t->path && *t->path ? t->path : "/");
	memcpy(&h->addr, &t->addr, sizeof(h->addr));
	if (t->keepalive && !t->https)
		return start_reused(a);
	return connect_cur(a);
}

static void http_timeout(struct attempt *a)
{
	struct http_state *h = a->proto;
	char u[2400];

	url(h, u, sizeof(u));
	pp_attempt_finish(a, PP_RESULT_FAILURE, h->resp.status,
			  "Get \"%s\": context deadline exceeded (%s)", u,
			  h->resp.headers_done
				  ? "Client.Timeout or context cancellation while reading body"
				  : "Client.Timeout exceeded while awaiting headers");
}

static void http_cleanup(struct attempt *a)
{
	struct http_state *h = a->proto;

	if (!h)
		return;
	/* The engine closes a->fd through the ring after this (prober.c, attempt_release). */
	if (h->ssl) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	state_put(h);
	a->proto = NULL;
}

const struct handler_ops pp_probe_http_ops = {
	.start = http_start,
	.timeout = http_timeout,
	.cleanup = http_cleanup,
};
