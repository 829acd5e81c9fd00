// SPDX-License-Identifier: Apache-2.0
/*
 * One HTTPS connection of the Kubernetes API client on the loop. TLS runs on OpenSSL memory
 * BIOs as in probe_http.c and api_conn.c: a recv completes into <in>, its bytes go to the read
 * BIO, SSL_read() yields plaintext for the response parser (core/http_parse.c); SSL_write()
 * puts records in the write BIO, whose bytes are queued for a send. A recv stays posted for
 * the whole life of the connection, so an idle keep-alive connection notices the server
 * closing it; at most one send is in flight. The connection's memory is released through
 * pp_loop_retire() once the kernel is done with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "kube_int.h"
#include "podprobe/loop.h"

static void pump(struct kube_conn *c);

static void release(void *obj)
{
	struct kube_conn *c = obj;

	if (c->fd >= 0)
		close(c->fd);
	SSL_free(c->ssl); /* and both BIOs */
	free(c->req);
	free(c->out);
	free(c);
}

static void really_close(struct kube_conn *c)
{
	uint64_t ids[3] = {c->op_connect, c->op_recv, c->op_send};

	if (pp_loop_retire(c->loop, ids, 3, release, c) < 0)
		return; /* leaked rather than freed under the kernel's feet */
}

void kube_conn_close(struct kube_conn *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	c->ops = NULL;
	if (!c->depth)
		really_close(c);
}

static void enter(struct kube_conn *c)
{
	c->depth++;
}

static void leave(struct kube_conn *c)
{
	if (!--c->depth && c->closing)
		really_close(c);
}

/* The request in flight ends with <err>; the owner hears of it. */
static void finish(struct kube_conn *c, int err)
{
	const struct kube_conn_ops *ops = c->ops;

	if (!c->active)
		return;
	c->active = false;
	if (!err)
		c->served++;
	if (ops && ops->on_done)
		ops->on_done(c->ctx, c, err);
}

/* The connection cannot go on. */
static void die(struct kube_conn *c, int err, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	snprintf(c->why, sizeof(c->why), "%s", why);
	finish(c, err);
}

static void feed(struct kube_conn *c, const char *data, size_t len)
{
	/* The parser's body buffer is drained after every slice, so it never fills (a full
	 * buffer would end the parse): slices are one byte shorter than it. */
	const size_t slice = sizeof(c->body) - 1;

	if (!c->active) {
		die(c, -EPROTO, "the server sent bytes while no request was in flight");
		return;
	}
	c->got_bytes = true;
	while (len && c->active && !c->closing) {
		size_t n = len < slice ? len : slice;
		int rc = pp_http_resp_feed(&c->resp, data, n);

		data += n;
		len -= n;
		if (c->resp.body_len) {
			size_t got = c->resp.body_len;

			pp_http_resp_take_body(&c->resp);
			if (c->ops && c->ops->on_body)
				c->ops->on_body(c->ctx, c, c->body, got);
		}
		if (rc == 1) {
			finish(c, 0);
			return; /* no pipelining: nothing else is expected */
		}
		if (rc < 0) {
			char why[200];

			snprintf(why, sizeof(why), "malformed HTTP response: %s",
				 c->resp.error ? c->resp.error : "bad response");
			die(c, -EBADMSG, why);
			return;
		}
	}
}

static void eof(struct kube_conn *c, int err)
{
	char why[200];

	if (c->dead)
		return;
	if (c->active && !err && pp_http_resp_eof(&c->resp) == 1) {
		finish(c, 0);
		c->dead = true;
		return;
	}
	if (err)
		snprintf(why, sizeof(why), "read: %s", strerror(-err));
	else if (c->active && c->resp.status)
		snprintf(why, sizeof(why), "unexpected EOF");
	else
		snprintf(why, sizeof(why), "EOF");
	die(c, err ? err : -ECONNRESET, why);
}

static void on_recv(void *ctx, int res)
{
	struct kube_conn *c = ctx;

	c->op_recv = 0;
	c->recv_busy = false;
	enter(c);
	if (res <= 0) {
		eof(c, res);
	} else if (BIO_write(SSL_get_rbio(c->ssl), c->in, res) != res) {
		die(c, -ENOMEM, "TLS: out of memory");
	} else {
		pump(c);
	}
	leave(c);
}

static void on_send(void *ctx, int res)
{
	struct kube_conn *c = ctx;
	char why[200];

	c->op_send = 0;
	c->send_busy = false;
	enter(c);
	if (res < 0) {
		snprintf(why, sizeof(why), "write: %s", strerror(-res));
		die(c, res, why);
	} else {
		c->out_sent += (size_t)res;
		if (c->out_sent == c->out_len)
			c->out_sent = c->out_len = 0;
		pump(c);
	}
	leave(c);
}

static void on_connect(void *ctx, int res)
{
	struct kube_conn *c = ctx;
	char why[200];

	c->op_connect = 0;
	enter(c);
	if (res < 0) {
		snprintf(why, sizeof(why), "dial tcp: connect: %s", strerror(-res));
		die(c, res, why);
	} else {
		c->connected = true;
		pump(c);
	}
	leave(c);
}

/* Move the write BIO's records into <out>. */
static int take_records(struct kube_conn *c)
{
	BIO *w = SSL_get_wbio(c->ssl);
	size_t pend = BIO_ctrl_pending(w);

	if (!pend)
		return 0;
	if (c->out_len + pend > c->out_cap) {
		size_t cap = c->out_len + pend + KUBE_IO_BUF;
		char *n = realloc(c->out, cap);

		if (!n)
			return -ENOMEM;
		c->out = n;
		c->out_cap = cap;
	}
	c->out_len += (size_t)BIO_read(w, c->out + c->out_len, (int)pend);
	return 0;
}

static void tls_fail(struct kube_conn *c)
{
	long v = SSL_get_verify_result(c->ssl);
	char why[256];

	if (v != X509_V_OK)
		snprintf(why, sizeof(why), "tls: failed to verify certificate: %s",
			 X509_verify_cert_error_string(v));
	else
		snprintf(why, sizeof(why), "tls: %s",
			 ERR_reason_error_string(ERR_peek_last_error()) ?: "handshake failure");
	ERR_clear_error();
	die(c, v != X509_V_OK ? -EKEYREJECTED : -ECONNABORTED, why);
}

static void pump(struct kube_conn *c)
{
	char buf[KUBE_IO_BUF];
	int r;

	if (c->dead || c->closing || !c->connected)
		return;
	if (!c->hs_done) {
		r = SSL_do_handshake(c->ssl);
		if (r == 1) {
			c->hs_done = true;
		} else {
			int e = SSL_get_error(c->ssl, r);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				tls_fail(c);
				return;
			}
		}
	}
	if (c->hs_done && c->active && !c->req_written) {
		if (SSL_write(c->ssl, c->req, (int)c->req_len) != (int)c->req_len) {
			ERR_clear_error();
			die(c, -EIO, "tls: write failed");
			return;
		}
		c->req_written = true;
	}
	if (take_records(c) < 0) {
		die(c, -ENOMEM, "out of memory");
		return;
	}
	if (c->out_sent < c->out_len && !c->send_busy) {
		size_t n = c->out_len - c->out_sent;

		if (n > 1u << 20)
			n = 1u << 20;
		r = pp_loop_send(c->loop, c->fd, c->out + c->out_sent, (unsigned int)n, on_send, c,
				 &c->op_send);
		if (r < 0) {
			die(c, r, "send: cannot queue");
			return;
		}
		c->send_busy = true;
	}
	while (c->hs_done && !c->dead && !c->closing) {
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r > 0) {
			feed(c, buf, (size_t)r);
			continue;
		}
		r = SSL_get_error(c->ssl, r);
		if (r == SSL_ERROR_ZERO_RETURN) {
			eof(c, 0);
			return;
		}
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE) {
			tls_fail(c);
			return;
		}
		ERR_clear_error();
		break;
	}
	if (c->dead || c->closing)
		return;
	/* A renegotiation or key update may have queued records. */
	if (take_records(c) == 0 && c->out_sent < c->out_len && !c->send_busy &&
	    pp_loop_send(c->loop, c->fd, c->out + c->out_sent,
			 (unsigned int)(c->out_len - c->out_sent), on_send, c, &c->op_send) == 0)
		c->send_busy = true;
	if (!c->recv_busy) {
		r = pp_loop_recv(c->loop, c->fd, c->in, sizeof(c->in), on_recv, c, &c->op_recv);
		if (r < 0) {
			die(c, r, "recv: cannot queue");
			return;
		}
		c->recv_busy = true;
	}
}

int kube_conn_open(struct pp_loop *loop, struct kube_cfg *k, struct kube_conn **ret)
{
	struct kube_conn *c = calloc(1, sizeof(*c));
	X509_VERIFY_PARAM *vp;
	BIO *rb, *wb;
	int err;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->fd = -1;
	c->ssl = SSL_new(k->ssl);
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	if (!c->ssl || !rb || !wb) {
		BIO_free(rb);
		BIO_free(wb);
		err = -ENOMEM;
		goto fail;
	}
	BIO_set_mem_eof_return(rb, -1); /* empty reads "retry", not EOF */
	SSL_set_bio(c->ssl, rb, wb);
	SSL_set_connect_state(c->ssl);
	/* The server's name or address must be in its certificate (Go's crypto/tls
	 * verifyHostname, which client-go uses). */
	vp = SSL_get0_param(c->ssl);
	if (!k->c.insecure) {
		if (k->c.host_is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(vp, k->c.host)
				    : !X509_VERIFY_PARAM_set1_host(vp, k->c.host, 0)) {
			err = -EINVAL;
			goto fail;
		}
	}
	if (!k->c.host_is_ip)
		SSL_set_tlsext_host_name(c->ssl, k->c.host);
	c->addr = k->addr;
	c->addrlen = k->addrlen;
	c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = -errno;
		goto fail;
	}
	err = pp_loop_connect(loop, c->fd, (const struct sockaddr *)&c->addr, c->addrlen,
			      on_connect, c, &c->op_connect);
	if (err < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	release(c);
	return err;
}

bool kube_conn_usable(const struct kube_conn *c)
{
	return c && !c->dead && !c->closing && !c->active;
}

int kube_conn_request(struct kube_conn *c, const char *req, size_t len,
		      const struct kube_conn_ops *ops, void *ctx)
{
	char *copy;

	if (c->active)
		return -EBUSY;
	if (c->dead || c->closing)
		return -EPIPE;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, req, len);
	free(c->req);
	c->req = copy;
	c->req_len = len;
	c->req_written = false;
	c->got_bytes = false;
	c->active = true;
	c->ops = ops;
	c->ctx = ctx;
	pp_http_resp_init(&c->resp, c->body, sizeof(c->body));
	c->why[0] = '\0';
	enter(c);
	pump(c);
	leave(c);
	return 0;
}
