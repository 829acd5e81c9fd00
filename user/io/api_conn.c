// SPDX-License-Identifier: Apache-2.0
/*
 * One API connection on the loop. TLS runs on OpenSSL memory BIOs, as in probe_http.c: a recv
 * completes into <in>, its bytes go to the read BIO, SSL_read() yields plaintext into <pend>;
 * SSL_write() puts records in the write BIO, whose bytes are queued for a send. Plain (unix
 * socket) connections skip the BIOs. At most one recv and one send are in flight; the send's
 * buffer (<snd>) is never touched until its completion, new output goes to <q> meanwhile.
 *
 * A request is parsed from <pend> (core/http_req.c); once complete and authorised it goes to
 * the handler, and the connection reads no further request until the answer has been given
 * (pipelined bytes wait in <pend>, bounded). Closing shuts the socket down and retires the
 * operations (loop.h ownership rule); the memory goes in the server's next run after their
 * final completions, so a connection is never freed under a caller on the stack.
 *
 * A connection closing after an answer (an error, or "Connection: close") shuts its write
 * side and reads what the peer still sends for up to API_LINGER_NS before closing, as Go's
 * net/http closeWriteAndWait does: closing with unread input would reset the connection and
 * could destroy the answer before the client read it (RFC 9112 §9.6).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "podprobe/api_obj.h"
#include "podprobe/clock.h"
#include "podprobe/http_req.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "api_server_int.h"

static void on_recv(void *ctx, int res);
static void on_send(void *ctx, int res);

static int buf_append(struct api_buf *b, const void *data, size_t len)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *nd;

		if (b->off) {
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (ncap < b->len + len)
			ncap *= 2;
		if (ncap != b->cap) {
			nd = realloc(b->data, ncap);
			if (!nd)
				return -ENOMEM;
			b->data = nd;
			b->cap = ncap;
		}
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static size_t buf_used(const struct api_buf *b)
{
	return b->len - b->off;
}

struct pp_api_conn *pp_api_conn_new(struct pp_api_server *s, int fd, bool local, pp_nsec now)
{
	struct pp_api_conn *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	memset(c, 0, offsetof(struct pp_api_conn, in));
	c->s = s;
	c->fd = fd;
	c->local = local;
	c->t_wait = c->t_progress = now;
	pp_http_req_init(&c->req, s->cfg.max_head, s->cfg.max_body);
	if (!local) {
		c->ssl = SSL_new(s->cfg.ssl);
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		if (!c->ssl || !c->rbio || !c->wbio) {
			BIO_free(c->rbio);
			BIO_free(c->wbio);
			SSL_free(c->ssl);
			free(c);
			return NULL;
		}
		/* An empty memory BIO reads as "retry", not EOF. */
		BIO_set_mem_eof_return(c->rbio, -1);
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		SSL_set_accept_state(c->ssl);
	}
	return c;
}

/* Frees everything; only once no operation can touch the connection (ops_done). */
void pp_api_conn_destroy(struct pp_api_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	SSL_free(c->ssl); /* and both BIOs */
	pp_http_req_fini(&c->req);
	free(c->q.data);
	free(c->snd.data);
	free(c);
}

static void conn_release(void *obj)
{
	struct pp_api_conn *c = obj;

	c->ops_done = true;
	if (c->orphan)
		pp_api_conn_destroy(c);
}

static void list_del(struct pp_api_conn **head, struct pp_api_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

void pp_api_conn_close(struct pp_api_conn *c)
{
	struct pp_api_server *s = c->s;
	uint64_t ids[4] = {c->recv_op, c->send_op, c->poll_in, c->poll_out};
	bool owed = c->state == API_HANDLING || c->state == API_STREAMING;

	if (c->state == API_CLOSED)
		return;
	c->state = API_CLOSED;
	c->recv_op = c->send_op = c->poll_in = c->poll_out = 0;
	list_del(&s->live, c);
	s->n_live--;
	c->next = s->dead;
	if (s->dead)
		s->dead->prev = c;
	s->dead = c;
	/* Wake the operations up at once; the fd itself closes with the memory. */
	shutdown(c->fd, SHUT_RDWR);
	if (pp_loop_retire(s->cfg.loop, ids, 4, conn_release, c) < 0) {
		pp_log(PP_LOG_ERR, "out of memory: an API connection's memory is kept for good");
		list_del(&s->dead, c);
	}
	if (owed && c->on_close) {
		void (*fn)(void *) = c->on_close;

		c->on_close = NULL;
		fn(c->on_close_arg);
	}
}

bool pp_api_conn_idle(const struct pp_api_conn *c)
{
	return c->state == API_READING && !c->req.head_len && !buf_used(&c->q) && !c->send_op;
}

pp_nsec pp_api_conn_deadline(const struct pp_api_conn *c)
{
	const struct pp_api_server_cfg *cfg = &c->s->cfg;
	pp_nsec d = PP_NSEC_INFINITY;

	if (c->drop)
		return 0;
	switch (c->state) {
	case API_READING:
		if (c->req.head_len)
			d = c->t_progress + cfg->idle_timeout; /* a body on its way */
		else if (!c->served || c->req.len || (c->ssl && !SSL_is_init_finished(c->ssl)))
			d = c->t_wait + cfg->head_timeout;
		else
			d = c->t_wait + cfg->idle_timeout;
		break;
	case API_LINGER:
		return c->linger_until;
	case API_CLOSED:
		return PP_NSEC_INFINITY;
	default:
		break;
	}
	/* Output that does not move: the peer stopped reading. */
	if (c->send_op && c->t_progress + cfg->idle_timeout < d)
		d = c->t_progress + cfg->idle_timeout;
	return d;
}

/* Move what TLS wrote into the output queue. */
static int tls_flush(struct pp_api_conn *c)
{
	char tmp[4096];
	int n;

	while ((n = BIO_read(c->wbio, tmp, sizeof(tmp))) > 0)
		if (buf_append(&c->q, tmp, (size_t)n) < 0)
			return -ENOMEM;
	return 0;
}

static void kick_send(struct pp_api_conn *c)
{
	struct pp_api_server *s = c->s;
	struct api_buf t;
	int err;

	if (c->send_op || c->state == API_CLOSED || c->poll_out)
		return;
	if (buf_used(&c->snd) == 0) {
		if (!buf_used(&c->q))
			return;
		/* The queue becomes the send buffer; the old one is reused for the queue. */
		t = c->snd;
		c->snd = c->q;
		c->q = t;
		c->q.off = c->q.len = 0;
	}
	err = pp_loop_send(
		s->cfg.loop, c->fd, c->snd.data + c->snd.off,
		(unsigned int)(buf_used(&c->snd) > (1u << 30) ? 1u << 30 : buf_used(&c->snd)),
		on_send, c, &c->send_op);
	if (err < 0) {
		c->send_op = 0;
		pp_api_conn_close(c);
	}
}

int pp_api_conn_out(struct pp_api_conn *c, const void *data, size_t len)
{
	int err;

	if (c->state == API_CLOSED || c->state == API_LINGER)
		return -EPIPE;
	if (!len)
		return 0;
	if (!c->ssl) {
		err = buf_append(&c->q, data, len);
	} else {
		err = SSL_write(c->ssl, data, (int)len) == (int)len ? tls_flush(c) : -EIO;
		ERR_clear_error();
	}
	if (err < 0)
		return err;
	if (!c->in_pump)
		kick_send(c);
	return 0;
}

void pp_api_conn_doom(struct pp_api_conn *c)
{
	c->drop = true;
	c->s->want_run = true;
}

static void kick_recv(struct pp_api_conn *c)
{
	int err;

	if (c->recv_op || c->poll_in || c->recv_eof || c->state == API_CLOSED)
		return;
	/* While an answer is owed, bytes wait; stop reading once they would pass a bound. */
	if (c->state == API_HANDLING || c->state == API_STREAMING || c->state == API_CLOSING) {
		if (c->pend_len == API_PEND_BUF ||
		    (c->ssl && BIO_ctrl_pending(c->rbio) > API_RBIO_MAX))
			return;
	}
	err = pp_loop_recv(c->s->cfg.loop, c->fd, c->in, sizeof(c->in), on_recv, c, &c->recv_op);
	if (err < 0) {
		c->recv_op = 0;
		pp_api_conn_close(c);
	}
}

/* Answer a request that cannot be served with <status> and a Status, then close. */
static void refuse(struct pp_api_conn *c, int status, const char *why)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{400, "BadRequest"},   {413, "RequestEntityTooLarge"},
		{401, "Unauthorized"}, {417, "BadRequest"},
		{431, "BadRequest"},   {501, "BadRequest"},
		{505, "BadRequest"},   {500, "InternalError"},
	};
	const char *reason = "BadRequest";

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			reason = reasons[i].reason;
	c->close_after = true;
	c->state = API_HANDLING;
	pp_api_reply_status(c, status, reason, why, NULL, NULL);
}

/* /healthz, /livez, /readyz, /version and below: open to anyone (system:public-info-viewer). */
static bool public_path(const char *path)
{
	static const char *const open_paths[] = {"/healthz", "/livez", "/readyz", "/version"};

	for (size_t i = 0; i < sizeof(open_paths) / sizeof(open_paths[0]); i++) {
		size_t n = strlen(open_paths[i]);

		if (!strncmp(path, open_paths[i], n) && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

static bool authorised(const struct pp_api_conn *c)
{
	const struct pp_api_server *s = c->s;
	const char *v;
	size_t n;

	if (c->local || public_path(c->req.path))
		return true;
	v = pp_http_req_header(&c->req, "authorization");
	if (!v || strncasecmp(v, "bearer ", 7))
		return false;
	v += 7;
	while (*v == ' ')
		v++;
	n = strlen(v);
	/* Constant time in the token's bytes (the length is no secret). */
	return s->token_len && n == s->token_len && !CRYPTO_memcmp(v, s->token, n);
}

static void dispatch(struct pp_api_conn *c)
{
	c->state = API_HANDLING;
	c->close_after = !c->req.keep_alive;
	if (!authorised(c)) {
		pp_api_reply_status(c, 401, "Unauthorized", "Unauthorized", NULL, NULL);
		return;
	}
	c->s->cfg.handler(c->s->cfg.ctx, c, &c->req);
}

/* Parse what <pend> holds while reading requests. */
static void parse_pending(struct pp_api_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	while (c->state == API_READING && c->pend_off < c->pend_len) {
		int n = pp_http_req_feed(&c->req, c->pend + c->pend_off, c->pend_len - c->pend_off);

		if (n < 0) {
			c->pend_off = c->pend_len = 0;
			refuse(c, c->req.status, c->req.error);
			return;
		}
		c->pend_off += (size_t)n;
		if (c->req.complete) {
			dispatch(c);
		} else if (c->req.expect_continue && !c->sent_continue) {
			c->sent_continue = true;
			if (pp_api_conn_out(c, cont, sizeof(cont) - 1) < 0)
				pp_api_conn_doom(c);
		}
	}
	if (c->pend_off == c->pend_len)
		c->pend_off = c->pend_len = 0;
}

/* Plaintext from TLS into <pend>; returns false when the connection ended. */
static bool tls_read(struct pp_api_conn *c)
{
	int r;

	if (!SSL_is_init_finished(c->ssl)) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);

			tls_flush(c); /* an alert, or the next flight */
			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return true;
			c->close_after = true;
			c->state = API_CLOSING;
			return true;
		}
		if (tls_flush(c) < 0)
			return false;
	}
	if (c->pend_off) {
		memmove(c->pend, c->pend + c->pend_off, c->pend_len - c->pend_off);
		c->pend_len -= c->pend_off;
		c->pend_off = 0;
	}
	while (c->pend_len < API_PEND_BUF) {
		r = SSL_read(c->ssl, c->pend + c->pend_len, (int)(API_PEND_BUF - c->pend_len));
		if (r > 0) {
			c->pend_len += (size_t)r;
			continue;
		}
		r = SSL_get_error(c->ssl, r);
		ERR_clear_error();
		tls_flush(c); /* key updates, session tickets */
		if (r == SSL_ERROR_ZERO_RETURN) {
			c->recv_eof = true;
			break;
		}
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			return false;
		break;
	}
	return true;
}

/* After the flush: shut the write side and read the rest for a moment (see the top). */
static void start_linger(struct pp_api_conn *c)
{
	if (c->ssl && !c->tls_shut) {
		c->tls_shut = true;
		SSL_shutdown(c->ssl); /* close_notify */
		ERR_clear_error();
		tls_flush(c);
		if (buf_used(&c->q)) {
			kick_send(c);
			return;
		}
	}
	c->state = API_LINGER;
	c->linger_until = pp_clock_now() + API_LINGER_NS;
	shutdown(c->fd, SHUT_WR);
	if (c->recv_eof)
		pp_api_conn_close(c);
}

void pp_api_conn_pump(struct pp_api_conn *c)
{
	if (c->state == API_CLOSED)
		return;
	c->in_pump = true;
	if (c->ssl && c->state <= API_STREAMING && !tls_read(c)) {
		c->in_pump = false;
		pp_api_conn_close(c);
		return;
	}
	if (c->state == API_LINGER)
		c->pend_off = c->pend_len = 0; /* discarded */
	parse_pending(c);
	c->in_pump = false;
	if (c->state == API_CLOSED)
		return;
	if (c->state == API_READING && c->recv_eof) {
		/* The peer is done: nothing more comes; the answers given still go out. */
		if (!buf_used(&c->q) && !buf_used(&c->snd) && !c->send_op) {
			pp_api_conn_close(c);
			return;
		}
		c->state = API_CLOSING;
	}
	if (c->state == API_CLOSING && !buf_used(&c->q) && !buf_used(&c->snd) && !c->send_op)
		start_linger(c);
	if (c->state == API_CLOSED)
		return;
	kick_send(c);
	kick_recv(c);
}

/* The answer to the current request is complete (queued): on to the next one, or close. */
void pp_api_conn_answered(struct pp_api_conn *c)
{
	if (c->state == API_CLOSED)
		return;
	c->on_close = NULL;
	c->served = true;
	c->sent_continue = false;
	pp_http_req_reset(&c->req);
	c->t_wait = pp_clock_now();
	c->state = c->close_after ? API_CLOSING : API_READING;
	if (!c->in_pump)
		pp_api_conn_pump(c);
}

static void ready_in(void *ctx, int res)
{
	struct pp_api_conn *c = ctx;

	c->poll_in = 0;
	if (res < 0)
		pp_api_conn_close(c);
	else
		pp_api_conn_pump(c);
}

static void ready_out(void *ctx, int res)
{
	struct pp_api_conn *c = ctx;

	c->poll_out = 0;
	if (res < 0)
		pp_api_conn_close(c);
	else
		pp_api_conn_pump(c);
}

/*
 * A non-blocking socket said EAGAIN (io_uring normally waits for readiness itself): wait for
 * it, then try again.
 */
static void wait_ready(struct pp_api_conn *c, bool in)
{
	uint64_t *id = in ? &c->poll_in : &c->poll_out;

	if (pp_loop_poll(c->s->cfg.loop, c->fd, in ? POLLIN : POLLOUT, in ? ready_in : ready_out, c,
			 id) < 0) {
		*id = 0;
		pp_api_conn_close(c);
	}
}

static void on_recv(void *ctx, int res)
{
	struct pp_api_conn *c = ctx;

	c->recv_op = 0;
	if (res == -EAGAIN || res == -EINTR) {
		wait_ready(c, true);
		return;
	}
	if (res < 0) {
		pp_api_conn_close(c);
		return;
	}
	c->t_progress = pp_clock_now();
	if (res == 0) {
		c->recv_eof = true;
		/* Gone while an answer is owed (nobody reads it), or at the end of a linger. */
		if (c->state == API_HANDLING || c->state == API_STREAMING ||
		    c->state == API_LINGER) {
			pp_api_conn_close(c);
			return;
		}
		pp_api_conn_pump(c);
		return;
	}
	if (c->state == API_READING && !c->req.len && !c->pend_len && c->served &&
	    (!c->ssl || SSL_is_init_finished(c->ssl)))
		c->t_wait = c->t_progress; /* a new request starts: the head timeout runs */
	if (c->state == API_LINGER) {
		pp_api_conn_pump(c);
		return;
	}
	if (c->ssl) {
		if (BIO_write(c->rbio, c->in, res) != res) {
			pp_api_conn_close(c);
			return;
		}
	} else {
		if (c->pend_off) {
			memmove(c->pend, c->pend + c->pend_off, c->pend_len - c->pend_off);
			c->pend_len -= c->pend_off;
			c->pend_off = 0;
		}
		/* kick_recv() posts a recv only while <pend> has room for a full one. */
		if ((size_t)res > API_PEND_BUF - c->pend_len) {
			pp_api_conn_close(c);
			return;
		}
		memcpy(c->pend + c->pend_len, c->in, (size_t)res);
		c->pend_len += (size_t)res;
	}
	pp_api_conn_pump(c);
}

static void on_send(void *ctx, int res)
{
	struct pp_api_conn *c = ctx;

	c->send_op = 0;
	if (res == -EAGAIN || res == -EINTR) {
		wait_ready(c, false);
		return;
	}
	if (res <= 0) {
		pp_api_conn_close(c);
		return;
	}
	c->t_progress = pp_clock_now();
	c->snd.off += (size_t)res;
	if (c->snd.off == c->snd.len)
		c->snd.off = c->snd.len = 0;
	pp_api_conn_pump(c);
}

void pp_api_conn_on_close(struct pp_api_conn *c, void (*fn)(void *arg), void *arg)
{
	c->on_close = fn;
	c->on_close_arg = arg;
}

size_t pp_api_conn_backlog(const struct pp_api_conn *c)
{
	return buf_used(&c->q) + buf_used(&c->snd);
}

bool pp_api_conn_is_local(const struct pp_api_conn *c)
{
	return c->local;
}
