// SPDX-License-Identifier: Apache-2.0
/*
 * The client of <state-dir>/api.sock for podprobe's own commands: a blocking HTTP/1.1
 * request per connection ("Connection: close"), with the peer proven to be the run that holds
 * the state directory before a byte is sent; and the kubectl printers the commands share,
 * which write to a stream the text user/core/tabwriter.c and describe.c make.
 */
#include "podprobe/api_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/describe.h"
#include "podprobe/statedir.h"
#include "podprobe/tabwriter.h"

#define HEAD_MAX  (64u << 10) /* status line and headers of a reply */
#define CHUNK_MAX 256	      /* a chunk-size line */

/* ---- connection -------------------------------------------------------------------------- */

int pp_api_client_connect(const char *state_dir, int *ret_holder)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ucred cr;
	socklen_t len = sizeof(cr);
	pid_t holder;
	int fd, pidfd, rc;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/api.sock", state_dir) >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR ? -ESRCH : -errno;
		close(fd);
		return rc;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* The pidfd held across the comparison: the holder's pid cannot be recycled meanwhile. */
	rc = pp_statedir_holder(state_dir, &holder, &pidfd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	close(pidfd);
	if (cr.pid != holder) {
		if (ret_holder)
			*ret_holder = (int)holder;
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* ---- request and reply ------------------------------------------------------------------- */

enum body_mode {
	BODY_EOF = 0, /* until the server closes */
	BODY_LENGTH,
	BODY_CHUNKED,
	_BODY_MAX,
};

enum chunk_state {
	CH_SIZE = 0, /* reading a chunk-size line */
	CH_DATA,     /* <left> bytes of data */
	CH_DATA_END, /* the CRLF after the data */
	CH_TRAILER,  /* trailer lines up to an empty one */
	CH_DONE,
	_CH_MAX,
};

struct reader {
	int fd;
	pp_nsec until; /* PP_NSEC_INFINITY: no bound */
	struct pp_api_resp *resp;
	pp_api_sink sink; /* NULL unless the status is 2xx and the caller gave one */
	void *sink_ctx;
	size_t cap;
	enum body_mode mode;
	enum chunk_state ch;
	uint64_t left; /* BODY_LENGTH, CH_DATA: bytes still to come */
	char line[CHUNK_MAX];
	size_t line_len;
	bool stopped; /* the sink asked to stop */
};

/* Wait until <fd> has <events>, up to the reader's deadline. */
static int wait_fd(int fd, short events, pp_nsec until)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int ms = -1, n;

	if (until != PP_NSEC_INFINITY) {
		pp_nsec now = pp_clock_now();

		if (now >= until)
			return -ETIMEDOUT;
		ms = (int)((until - now + PP_NSEC_PER_MSEC - 1) / PP_NSEC_PER_MSEC);
	}
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(int fd, const char *p, size_t len, pp_nsec until)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int err;

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = wait_fd(fd, POLLOUT, until);
			if (err < 0)
				return err;
			continue;
		}
		if (w < 0)
			return errno == EPIPE ? -ECONNRESET : -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Body bytes, decoded: to the sink, or appended to the reply. */
static int deliver(struct reader *r, const char *p, size_t n)
{
	struct pp_api_resp *resp = r->resp;

	if (!n || r->stopped)
		return 0;
	if (r->sink) {
		int rc = r->sink(r->sink_ctx, p, n);

		if (rc > 0)
			r->stopped = true;
		return rc < 0 ? rc : 0;
	}
	if (resp->len + n > PP_API_CLIENT_MAX_BODY)
		return -EFBIG;
	if (resp->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < resp->len + n + 1)
			cap *= 2;
		b = realloc(resp->body, cap);
		if (!b)
			return -ENOMEM;
		resp->body = b;
		r->cap = cap;
	}
	memcpy(resp->body + resp->len, p, n);
	resp->len += n;
	resp->body[resp->len] = '\0';
	return 0;
}

/* Feed <n> raw body bytes; returns 1 once the body is complete, 0 for more, or -errno. */
static int feed(struct reader *r, const char *p, size_t n)
{
	int err;

	if (r->mode == BODY_EOF)
		return deliver(r, p, n);
	if (r->mode == BODY_LENGTH) {
		size_t take = n < r->left ? n : (size_t)r->left;

		err = deliver(r, p, take);
		r->left -= take;
		return err < 0 ? err : r->left == 0;
	}
	/* RFC 9112 §7.1: chunk-size [; ext] CRLF data CRLF ... 0 CRLF trailers CRLF */
	while (n) {
		switch (r->ch) {
		case CH_DATA: {
			size_t take = n < r->left ? n : (size_t)r->left;

			err = deliver(r, p, take);
			if (err < 0)
				return err;
			p += take;
			n -= take;
			r->left -= take;
			if (!r->left)
				r->ch = CH_DATA_END;
			break;
		}
		case CH_SIZE:
		case CH_DATA_END:
		case CH_TRAILER: {
			char c = *p++;

			n--;
			if (c != '\n') {
				if (r->line_len == sizeof(r->line) - 1)
					return -EPROTO;
				r->line[r->line_len++] = c;
				break;
			}
			if (r->line_len && r->line[r->line_len - 1] == '\r')
				r->line_len--;
			r->line[r->line_len] = '\0';
			if (r->ch == CH_DATA_END) {
				if (r->line_len)
					return -EPROTO;
				r->ch = CH_SIZE;
			} else if (r->ch == CH_TRAILER) {
				if (!r->line_len) {
					r->ch = CH_DONE;
					return 1;
				}
			} else {
				char *end;

				errno = 0;
				r->left = strtoull(r->line, &end, 16);
				if (errno || end == r->line || (*end && *end != ';' && *end != ' '))
					return -EPROTO;
				r->ch = r->left ? CH_DATA : CH_TRAILER;
			}
			r->line_len = 0;
			break;
		}
		case CH_DONE:
		case _CH_MAX:
			return 1;
		}
	}
	return 0;
}

/* The header <name> in the header block <h> (value trimmed into <buf>); false when absent. */
static bool header(const char *h, const char *name, char *buf, size_t size)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(h, "\r\n"); l; l = strstr(l, "\r\n")) {
		const char *v, *e;

		l += 2;
		if (strncasecmp(l, name, nl) || l[nl] != ':')
			continue;
		v = l + nl + 1;
		v += strspn(v, " \t");
		e = strstr(v, "\r\n");
		if (!e)
			e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		snprintf(buf, size, "%.*s", (int)(e - v), v);
		return true;
	}
	return false;
}

/* Parse the head <h> (NUL-terminated, without the final empty line) into <r>. */
static int parse_head(struct reader *r, char *h, pp_api_sink sink)
{
	char buf[128];
	int status;

	if (strncmp(h, "HTTP/1.", 7) || !h[7] || h[8] != ' ' ||
	    sscanf(h + 9, "%3d", &status) != 1 || status < 100)
		return -EPROTO;
	r->resp->status = status;
	header(h, "content-type", r->resp->ctype, sizeof(r->resp->ctype));
	r->sink = status >= 200 && status < 300 ? sink : NULL;
	if (header(h, "transfer-encoding", buf, sizeof(buf)) && strcasestr(buf, "chunked")) {
		r->mode = BODY_CHUNKED;
	} else if (header(h, "content-length", buf, sizeof(buf))) {
		char *end;

		errno = 0;
		r->left = strtoull(buf, &end, 10);
		if (errno || *end || end == buf)
			return -EPROTO;
		r->mode = BODY_LENGTH;
	}
	return 0;
}

static int exchange(int fd, const char *req, size_t req_len, const char *body, size_t body_len,
		    struct reader *r, pp_api_sink sink)
{
	char *buf = malloc(HEAD_MAX + 1);
	size_t have = 0;
	bool in_body = false;
	int err;

	if (!buf)
		return -ENOMEM;
	err = send_all(fd, req, req_len, r->until);
	if (!err && body_len)
		err = send_all(fd, body, body_len, r->until);
	while (!err) {
		size_t room = in_body ? HEAD_MAX : HEAD_MAX - have;
		ssize_t n;

		err = wait_fd(fd, POLLIN, r->until);
		if (err < 0)
			break;
		n = read(fd, buf + (in_body ? 0 : have), room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0) {
			/* The end: fine when the body runs to the close. */
			err = in_body && r->mode == BODY_EOF ? 0 : -ECONNRESET;
			break;
		}
		if (in_body) {
			err = feed(r, buf, (size_t)n);
		} else {
			char *end;

			have += (size_t)n;
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
			if (!end) {
				err = have == HEAD_MAX ? -EPROTO : 0;
				continue;
			}
			*end = '\0';
			err = parse_head(r, buf, sink);
			if (err < 0)
				break;
			in_body = true;
			if (r->mode == BODY_LENGTH && r->left == 0) {
				err = 1;
				break;
			}
			err = feed(r, end + 4, have - (size_t)(end + 4 - buf));
		}
		if (err == 0 && r->stopped)
			err = 1;
	}
	free(buf);
	return err < 0 ? err : 0;
}

int pp_api_request(const char *state_dir, const char *method, const char *target,
		   const char *headers, const char *body, size_t body_len, int timeout_ms,
		   pp_api_sink sink, void *sink_ctx, struct pp_api_resp *ret)
{
	struct pp_api_resp resp = {0};
	struct reader r = {
		.resp = &resp,
		.sink_ctx = sink_ctx,
		.until = timeout_ms < 0 ? PP_NSEC_INFINITY
					: pp_clock_now() + (pp_nsec)timeout_ms * PP_NSEC_PER_MSEC,
	};
	char *req = NULL;
	int fd, n, err;

	fd = pp_api_client_connect(state_dir, NULL);
	if (fd < 0)
		return fd;
	r.fd = fd;
	n = asprintf(&req,
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: podprobe\r\n"
		     "Connection: close\r\n%sContent-Length: %zu\r\n\r\n",
		     method, target, headers ? headers : "", body_len);
	if (n < 0) {
		close(fd);
		return -ENOMEM;
	}
	err = exchange(fd, req, (size_t)n, body, body_len, &r, sink);
	free(req);
	close(fd);
	if (err < 0) {
		pp_api_resp_fini(&resp);
		return err;
	}
	if (!resp.body && !r.sink) {
		resp.body = strdup("");
		if (!resp.body)
			return -ENOMEM;
	}
	*ret = resp;
	return 0;
}

void pp_api_resp_fini(struct pp_api_resp *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

/* ---- errors as kubectl prints them ------------------------------------------------------- */

/* Reasons client-go gives a status without a Status body (apimachinery errors.go). */
static const char *status_reason(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 504:
		return "Timeout";
	default:
		return "InternalError";
	}
}

int pp_api_error_line(const struct pp_api_resp *r, const char *what, char *buf, size_t size)
{
	json_t *st = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *kind = json_string_value(json_object_get(st, "kind"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	const char *msg = json_string_value(json_object_get(st, "message"));
	int n;

	if (kind && !strcmp(kind, "Status") && msg) {
		n = snprintf(buf, size, "Error from server (%s): %s",
			     reason && *reason ? reason : status_reason(r->status), msg);
	} else if (r->status == 404) {
		n = snprintf(buf, size,
			     "Error from server (NotFound): the server could not find the "
			     "requested resource (%s)",
			     what);
	} else {
		/* client-go rest/request.go newUnstructuredResponseError, its common texts */
		n = snprintf(buf, size,
			     "Error from server (%s): an error on the server (\"%.*s\") has "
			     "prevented the request from succeeding (%s)",
			     status_reason(r->status), r->len > 512 ? 512 : (int)r->len,
			     r->body ? r->body : "", what);
	}
	json_decref(st);
	if (n < 0)
		return 0;
	return (size_t)n >= size ? (int)size - 1 : n;
}

/* ---- the kubectl printers, to a stream ------------------------------------------------- */

/* <b>'s text to <out>; -EIO when it does not all get there. */
static int write_text(FILE *out, const struct pp_strbuf *b)
{
	if (b->len && fwrite(b->p, 1, b->len, out) != b->len)
		return -EIO;
	return 0;
}

int pp_api_print_table(FILE *out, json_t *table, bool wide, bool namespace)
{
	struct pp_strbuf b = {0};
	int n = pp_tabwriter_get_table(&b, table, wide, namespace);
	int err = n < 0 ? n : write_text(out, &b);

	pp_strbuf_fini(&b);
	return err < 0 ? err : n;
}

/* The local zone's offset at <t>, as Go's time.Local gives it (metav1.Time shows Local). */
static long local_offset(int64_t t, void *ctx)
{
	time_t tt = (time_t)t;
	struct tm tm;

	(void)ctx;
	return localtime_r(&tt, &tm) ? tm.tm_gmtoff : 0;
}

int pp_api_print_describe(FILE *out, json_t *pod, json_t *events, int64_t now_ns)
{
	struct pp_describe_env env = {.now_ns = now_ns, .utc_offset = local_offset};
	struct pp_strbuf b = {0};
	int err = pp_describe_pod(&b, pod, events, &env);

	if (!err)
		err = write_text(out, &b);
	pp_strbuf_fini(&b);
	return err;
}
