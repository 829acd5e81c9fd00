// SPDX-License-Identifier: Apache-2.0
/*
 * The API server's answers: whole replies with Content-Length (the connection then stays
 * open for the next request unless the client asked to close), and chunked streams for
 * watches and followed logs (RFC 9112 §7.1), one chunk per write, dropped when the client
 * reads too slowly to keep the unsent backlog under the server's cap (the apiserver's watch
 * cache likewise closes a watcher whose buffer fills: cacheWatcher.add, "Forcing ... watcher
 * close due to unresponsiveness").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/api_obj.h"
#include "podprobe/api_server.h"
#include "podprobe/http_parse.h"
#include "api_server_int.h"

#define DEFAULT_CTYPE "application/json"

const char *pp_api_reason_phrase(int status)
{
	const char *text = pp_http_status_text(status);

	return *text ? text : "Unknown";
}

/* An answer may be given while one is owed, once. */
static bool owed(const struct pp_api_conn *c)
{
	return c->state == API_HANDLING;
}

/* The status line and headers; returns a malloc'ed string in <ret> and its length. */
static int head(const struct pp_api_conn *c, int status, const char *ctype, const char *headers,
		const char *framing, char **ret)
{
	char *h = NULL;
	int n;

	if (status < 100 || status > 999)
		return -EINVAL;
	n = asprintf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%s%s\r\n", status,
		     pp_api_reason_phrase(status), ctype ? ctype : DEFAULT_CTYPE,
		     headers ? headers : "", framing,
		     c->close_after ? "Connection: close\r\n" : "");
	if (n < 0)
		return -ENOMEM;
	*ret = h;
	return n;
}

int pp_api_reply(struct pp_api_conn *c, int status, const char *ctype, const char *headers,
		 const void *body, size_t len)
{
	char framing[48], *h = NULL;
	int n, err;

	if (c->state == API_CLOSED || c->drop)
		return -EPIPE;
	if (!owed(c))
		return -EALREADY;
	c->on_close = NULL; /* the answer is given: the owner is done with <c> */
	snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", len);
	n = head(c, status, ctype, headers, framing, &h);
	if (n < 0) {
		pp_api_conn_doom(c);
		return n;
	}
	err = pp_api_conn_out(c, h, (size_t)n);
	free(h);
	if (!err)
		err = pp_api_conn_out(c, body, len);
	if (err < 0) {
		pp_api_conn_doom(c);
		return err;
	}
	pp_api_conn_answered(c);
	return 0;
}

int pp_api_reply_json(struct pp_api_conn *c, int status, const char *ctype, const char *headers,
		      json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	int err;

	json_decref(obj);
	if (!s) {
		static const char oom[] =
			"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			"\"status\":\"Failure\",\"message\":\"out of memory\","
			"\"reason\":\"InternalError\",\"code\":500}";

		pp_api_reply(c, 500, NULL, NULL, oom, sizeof(oom) - 1);
		return -ENOMEM;
	}
	err = pp_api_reply(c, status, ctype, headers, s, strlen(s));
	free(s);
	return err;
}

int pp_api_reply_status(struct pp_api_conn *c, int code, const char *reason, const char *message,
			const char *name, const char *kind)
{
	return pp_api_reply_json(c, code, NULL, NULL,
				 pp_api_status(code, reason, message, name, kind));
}

int pp_api_stream_start(struct pp_api_conn *c, int status, const char *ctype)
{
	char *h = NULL;
	int n, err;

	if (c->state == API_CLOSED || c->drop)
		return -EPIPE;
	if (!owed(c))
		return -EALREADY;
	n = head(c, status, ctype, NULL, "Transfer-Encoding: chunked\r\n", &h);
	if (n < 0) {
		pp_api_conn_doom(c);
		return n;
	}
	err = pp_api_conn_out(c, h, (size_t)n);
	free(h);
	if (err < 0) {
		pp_api_conn_doom(c);
		return err;
	}
	c->state = API_STREAMING;
	return 0;
}

int pp_api_stream_write(struct pp_api_conn *c, const void *data, size_t len)
{
	char size_line[24], *chunk;
	int n, err;

	if (c->state != API_STREAMING || c->drop)
		return -EPIPE;
	if (!len)
		return 0; /* an empty chunk would end the stream */
	if (pp_api_conn_backlog(c) + len + 32 > c->s->cfg.max_backlog) {
		/* Closed from the server's next run, so the caller's state stays intact now. */
		c->drop = true;
		c->s->want_run = true;
		return -ENOBUFS;
	}
	/*
	 * The chunk goes out as one piece: written in three, its size line would leave in a send
	 * of its own and the rest wait for that send's completion, a whole loop turn later.
	 */
	n = snprintf(size_line, sizeof(size_line), "%zx\r\n", len);
	chunk = malloc((size_t)n + len + 2);
	if (!chunk) {
		pp_api_conn_doom(c);
		return -ENOMEM;
	}
	memcpy(chunk, size_line, (size_t)n);
	memcpy(chunk + n, data, len);
	memcpy(chunk + n + len, "\r\n", 2);
	err = pp_api_conn_out(c, chunk, (size_t)n + len + 2);
	free(chunk);
	if (err < 0) {
		pp_api_conn_doom(c);
		return -EPIPE;
	}
	return 0;
}

int pp_api_stream_json(struct pp_api_conn *c, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t n;
	int err;

	json_decref(obj);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	s[n] = '\n'; /* replaces the NUL: the length says where it ends */
	err = pp_api_stream_write(c, s, n + 1);
	free(s);
	return err;
}

void pp_api_stream_end(struct pp_api_conn *c)
{
	if (c->state != API_STREAMING || c->drop)
		return;
	c->on_close = NULL;
	if (pp_api_conn_out(c, "0\r\n\r\n", 5) < 0) {
		pp_api_conn_doom(c);
		return;
	}
	c->state = API_HANDLING; /* so that answered() moves on */
	pp_api_conn_answered(c);
}
