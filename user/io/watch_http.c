// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s plain-HTTP server (probe proxy, /metrics): HTTP/1.1 requests read with
 * the API's request parser (user/core/http_req.c) on the io_uring loop, one answer per
 * connection (Connection: close), as a kubelet prober opens one connection per probe.
 */
#include "watch_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "podprobe/http_req.h"
#include "podprobe/loop.h"

#define MAX_CONNS 256

struct conn {
	struct pp_watch_http *h;
	int fd;
	uint64_t op; /* recv or poll in flight, 0 = none */
	struct pp_http_req req;
	char *out;
	size_t out_len, out_off;
	struct conn *next;
	char buf[4096];
};

struct pp_watch_http {
	struct pp_loop *loop;
	int fd;
	uint64_t accept_op;
	pp_watch_http_fn fn;
	void *ctx;
	struct conn *conns;
	unsigned int n_conns;
};

static void conn_release(void *obj)
{
	struct conn *c = obj;

	pp_http_req_fini(&c->req);
	free(c->out);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void conn_drop(struct conn *c)
{
	struct conn **pp;

	for (pp = &c->h->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->h->n_conns--;
	conn_release(c);
}

static void on_recv(void *ctx, int res);

static void on_writable(void *ctx, int res)
{
	struct conn *c = ctx;
	ssize_t n;

	c->op = 0;
	while (res >= 0 && c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			if (pp_loop_poll(c->h->loop, c->fd, POLLOUT, on_writable, c, &c->op) == 0)
				return;
			break;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	conn_drop(c);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void respond(struct conn *c, struct pp_watch_reply *rep, bool head_only)
{
	char head[1024]; /* the status line, three headers and rep->extra */
	int hl;

	if (!rep->status)
		rep->status = 500;
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		      "Connection: close\r\n\r\n",
		      rep->status, status_text(rep->status),
		      rep->content_type ? rep->content_type : "text/plain; charset=utf-8",
		      rep->body_len, rep->extra);
	c->out_len = (size_t)hl + (head_only ? 0 : rep->body_len);
	c->out = malloc(c->out_len);
	if (!c->out) {
		free(rep->body);
		conn_drop(c);
		return;
	}
	memcpy(c->out, head, (size_t)hl);
	if (!head_only && rep->body_len)
		memcpy(c->out + hl, rep->body, rep->body_len);
	free(rep->body);
	on_writable(c, 0);
}

static void on_recv(void *ctx, int res)
{
	struct conn *c = ctx;
	struct pp_watch_reply rep = {0};
	int rc;

	c->op = 0;
	if (res <= 0) {
		conn_drop(c);
		return;
	}
	rc = pp_http_req_feed(&c->req, c->buf, (size_t)res);
	if (rc < 0 && rc != -ENOMEM) {
		rep.status = c->req.status ? c->req.status : 400;
		rep.body = strdup(c->req.error ? c->req.error : "bad request");
		rep.body_len = rep.body ? strlen(rep.body) : 0;
		respond(c, &rep, false);
		return;
	}
	if (rc < 0) {
		conn_drop(c);
		return;
	}
	if (!c->req.complete) {
		if (pp_loop_recv(c->h->loop, c->fd, c->buf, sizeof(c->buf), on_recv, c, &c->op) < 0)
			conn_drop(c);
		return;
	}
	if (c->req.method != PP_HTTP_GET && c->req.method != PP_HTTP_HEAD) {
		rep.status = 405;
		snprintf(rep.extra, sizeof(rep.extra), "Allow: GET, HEAD\r\n");
	} else
		c->h->fn(c->h->ctx, &c->req, &rep);
	respond(c, &rep, c->req.method == PP_HTTP_HEAD);
}

static void on_accept(void *ctx, int res)
{
	struct pp_watch_http *h = ctx;
	int fd;

	h->accept_op = 0;
	while ((fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c;

		if (h->n_conns >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->h = h;
		c->fd = fd;
		pp_http_req_init(&c->req, 16384, 4096);
		c->next = h->conns;
		h->conns = c;
		h->n_conns++;
		if (pp_loop_recv(h->loop, fd, c->buf, sizeof(c->buf), on_recv, c, &c->op) < 0)
			conn_drop(c);
	}
	(void)res;
	pp_loop_poll(h->loop, h->fd, POLLIN, on_accept, h, &h->accept_op);
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, hl ? host : "0.0.0.0", &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	}
	return 0;
}

int pp_watch_http_new(struct pp_loop *loop, const char *addr, pp_watch_http_fn fn, void *ctx,
		      struct pp_watch_http **ret, int *ret_port, char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pp_watch_http *h;
	int one = 1, rc;

	if (parse_addr(addr, &ss, &len) < 0) {
		snprintf(err, err_size, "'%s' is not IP:PORT", addr);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	h->loop = loop;
	h->fn = fn;
	h->ctx = ctx;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->fd, (struct sockaddr *)&ss, len) < 0 || listen(h->fd, 128) < 0 ||
	    getsockname(h->fd, (struct sockaddr *)&ss, &len) < 0) {
		rc = -errno;
		snprintf(err, err_size, "listen on %s: %s", addr, strerror(-rc));
		goto fail;
	}
	rc = pp_loop_poll(loop, h->fd, POLLIN, on_accept, h, &h->accept_op);
	if (rc < 0) {
		snprintf(err, err_size, "poll: %s", strerror(-rc));
		goto fail;
	}
	*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*ret = h;
	return 0;
fail:
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return rc;
}

void pp_watch_http_free(struct pp_watch_http *h)
{
	if (!h)
		return;
	pp_loop_cancel(h->loop, h->accept_op);
	while (h->conns) {
		struct conn *c = h->conns;

		h->conns = c->next;
		/* A recv may still write into c->buf: free once the kernel is done with it. */
		if (c->op && pp_loop_retire(h->loop, &c->op, 1, conn_release, c) == 0)
			continue;
		if (!c->op)
			conn_release(c);
	}
	close(h->fd);
	free(h);
}
