// SPDX-License-Identifier: Apache-2.0
/*
 * The client of <state-dir>/api.sock for podprobe's own commands: a blocking HTTP/1.1
 * request per connection ("Connection: close"), with the peer proven to be the run that holds
 * the state directory before a byte is sent; and the kubectl printers the commands share.
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
#include "podprobe/kubefmt.h"
#include "podprobe/statedir.h"

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

/* ---- text/tabwriter ---------------------------------------------------------------------- */

/*
 * Go's text/tabwriter (the elastic tabstops of format() and writeLines()), for a text already
 * complete: cells end at '\t'; the last cell of a line belongs to no column; a column's
 * width is that of its widest cell plus <padding>, at least <minwidth>, over each block of
 * consecutive lines that have that column. Cell widths count UTF-8 code points.
 */
struct tw_cell {
	const char *s;
	size_t size;
	size_t width;
};

struct tw_line {
	struct tw_cell *cells;
	size_t n;
};

struct tw {
	FILE *out;
	struct tw_line *lines;
	size_t n_lines;
	size_t *widths;
	size_t n_widths;
	size_t minwidth;
	size_t padding;
};

static size_t utf8_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void tw_pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

static void tw_write_lines(struct tw *t, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct tw_line *l = &t->lines[i];

		for (size_t j = 0; j < l->n; j++) {
			const struct tw_cell *c = &l->cells[j];

			fwrite(c->s, 1, c->size, t->out);
			if (j < t->n_widths)
				tw_pad(t->out, t->widths[j] - c->width);
		}
		if (i + 1 < t->n_lines)
			fputc('\n', t->out);
	}
}

static void tw_format(struct tw *t, size_t line0, size_t line1)
{
	size_t column = t->n_widths;

	for (size_t this = line0; this < line1; this ++) {
		size_t width = t->minwidth;

		if (column + 1 >= t->lines[this].n)
			continue;
		tw_write_lines(t, line0, this);
		line0 = this;
		for (; this < line1; this ++) {
			const struct tw_line *l = &t->lines[this];

			if (column + 1 >= l->n)
				break;
			if (l->cells[column].width + t->padding > width)
				width = l->cells[column].width + t->padding;
		}
		t->widths[t->n_widths++] = width;
		tw_format(t, line0, this);
		t->n_widths--;
		line0 = this;
	}
	tw_write_lines(t, line0, line1);
}

/* Lay out <text> (<len> bytes) to <out>. Returns 0 or -ENOMEM. */
static int tabwrite(FILE *out, const char *text, size_t len, size_t minwidth, size_t padding)
{
	struct tw t = {.out = out, .minwidth = minwidth, .padding = padding};
	size_t n_lines = 1, n_cells = 1, max_cells = 0;
	struct tw_cell *cells;
	const char *p = text, *end = text + len;
	int err = 0;

	for (size_t i = 0; i < len; i++) {
		n_lines += text[i] == '\n';
		n_cells += text[i] == '\n' || text[i] == '\t';
	}
	t.lines = calloc(n_lines, sizeof(*t.lines));
	cells = calloc(n_cells, sizeof(*cells));
	if (!t.lines || !cells) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, k = 0; i < n_lines; i++) {
		struct tw_line *l = &t.lines[i];

		l->cells = &cells[k];
		for (;;) {
			const char *e = p;

			while (e < end && *e != '\t' && *e != '\n')
				e++;
			cells[k++] = (struct tw_cell){p, (size_t)(e - p),
						      utf8_width(p, (size_t)(e - p))};
			l->n++;
			p = e < end ? e + 1 : e;
			if (e == end || *e == '\n')
				break;
		}
		if (l->n > max_cells)
			max_cells = l->n;
	}
	t.n_lines = n_lines;
	t.widths = calloc(max_cells + 1, sizeof(*t.widths));
	if (!t.widths) {
		err = -ENOMEM;
		goto out;
	}
	tw_format(&t, 0, n_lines);
out:
	free(t.widths);
	free(cells);
	free(t.lines);
	return err;
}

/* ---- kubectl get ------------------------------------------------------------------------- */

static void put_cell(FILE *w, json_t *cell)
{
	const char *s;
	size_t n;

	if (json_is_integer(cell)) {
		fprintf(w, "%lld", (long long)json_integer_value(cell));
		return;
	}
	if (json_is_real(cell)) {
		fprintf(w, "%g", json_real_value(cell));
		return;
	}
	if (json_is_true(cell) || json_is_false(cell)) {
		fputs(json_is_true(cell) ? "true" : "false", w);
		return;
	}
	s = json_string_value(cell);
	if (!s)
		return;
	/* As printTable: cut at the first line break, marked with "...". */
	n = strcspn(s, "\f\n\r");
	for (size_t i = 0; i < n; i++)
		fputc(s[i] == '\t' ? ' ' : s[i], w);
	if (s[n])
		fputs("...", w);
}

int pp_api_print_table(FILE *out, json_t *table, bool wide, bool namespace)
{
	json_t *cols = json_object_get(table, "columnDefinitions");
	json_t *rows = json_object_get(table, "rows");
	char *text = NULL;
	size_t len = 0, n_cols = json_array_size(cols), i;
	FILE *w;
	int err;

	if (!json_is_array(cols) || !json_is_array(rows))
		return -EINVAL;
	if (!json_array_size(rows))
		return 0;
	w = open_memstream(&text, &len);
	if (!w)
		return -ENOMEM;
	/* cli-runtime printers/tableprinter.go printTable */
	{
		bool first = true;

		if (namespace) {
			fputs("NAMESPACE", w);
			first = false;
		}
		for (i = 0; i < n_cols; i++) {
			json_t *c = json_array_get(cols, i);
			const char *name = json_string_value(json_object_get(c, "name"));

			if (!wide && json_integer_value(json_object_get(c, "priority")) != 0)
				continue;
			if (!first)
				fputc('\t', w);
			first = false;
			for (const char *p = name ? name : ""; *p; p++)
				fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, w);
		}
		fputc('\n', w);
	}
	for (size_t r = 0; r < json_array_size(rows); r++) {
		json_t *row = json_array_get(rows, r);
		json_t *cells = json_object_get(row, "cells");
		bool first = true;

		if (namespace) {
			json_t *md = json_object_get(json_object_get(row, "object"), "metadata");
			const char *ns = json_string_value(json_object_get(md, "namespace"));

			fputs(ns ? ns : "", w);
			first = false;
		}
		for (i = 0; i < json_array_size(cells) && i < n_cols; i++) {
			json_t *c = json_array_get(cols, i);

			if (!wide && json_integer_value(json_object_get(c, "priority")) != 0)
				continue;
			if (!first)
				fputc('\t', w);
			first = false;
			put_cell(w, json_array_get(cells, i));
		}
		fputc('\n', w);
	}
	if (fclose(w) != 0) {
		free(text);
		return -ENOMEM;
	}
	/* cli-runtime printers/tabwriter.go: minwidth 6, tabwidth 4, padding 3, ' ' */
	err = tabwrite(out, text, len, 6, 3);
	free(text);
	return err < 0 ? err : (int)json_array_size(rows);
}

/* ---- kubectl describe pod ---------------------------------------------------------------- */

/* An RFC 3339 time ("2026-12-01T05:35:42Z", fractions and offsets allowed) as epoch ns. */
static bool parse_time(json_t *v, int64_t *ret)
{
	const char *s = json_string_value(v);
	struct tm tm = {0};
	int64_t t, frac = 0, scale = 1000000000;
	const char *p;
	int off = 0;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6 ||
	    strlen(s) < 19)
		return false;
	p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	if (*p == '+' || *p == '-') {
		int h = 0, m = 0;

		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
			return false;
		off = (h * 60 + m) * 60 * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z') {
		return false;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm) - off;
	*ret = t * 1000000000 + frac;
	return true;
}

/* Go's time.RFC1123Z in the local zone ("Tue, 01 Dec 2026 10:49:16 +0000"); the zero time. */
static const char *rfc1123z(json_t *v, char *buf, size_t size)
{
	int64_t ns;
	time_t t;
	struct tm tm;

	if (!parse_time(v, &ns)) {
		snprintf(buf, size, "Mon, 01 Jan 0001 00:00:00 +0000");
		return buf;
	}
	t = (time_t)(ns / 1000000000);
	if (!localtime_r(&t, &tm) || !strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm))
		snprintf(buf, size, "?");
	return buf;
}

/* describe.go translateTimestampSince: HumanDuration of now - <v>, "<unknown>" when unset. */
static const char *since(json_t *v, int64_t now_ns, char *buf, size_t size)
{
	int64_t t;

	if (!parse_time(v, &t) || pp_fmt_human_duration(now_ns - t, buf, size) < 0)
		snprintf(buf, size, "<unknown>");
	return buf;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object <o> sorted, without <skip> (may be NULL); NULL when none or ENOMEM. */
static const char **sorted_keys(json_t *o, const char *skip, size_t *ret_n)
{
	const char **keys = calloc(json_object_size(o) + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	size_t n = 0;

	*ret_n = 0;
	if (!keys)
		return NULL;
	json_object_foreach(o, k, v)
	{
		if (!skip || strcmp(k, skip))
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_n = n;
	return keys;
}

/* describe.go printLabelsMultiline: "Title:\tk=v", then "\tk=v" per further label. */
static void labels_multiline(FILE *w, const char *title, json_t *labels)
{
	size_t n;
	const char **keys = sorted_keys(labels, NULL, &n);

	fprintf(w, "%s:\t", title);
	if (!n)
		fputs("<none>\n", w);
	for (size_t i = 0; i < n; i++)
		fprintf(w, "%s%s=%s\n", i ? "\t" : "", keys[i], str(labels, keys[i]));
	free(keys);
}

#define MAX_ANNOTATION_LEN 140 /* describe.go maxAnnotationLen */

/* describe.go printAnnotationsMultiline (without last-applied-configuration). */
static void annotations_multiline(FILE *w, json_t *ann)
{
	size_t n;
	const char **keys =
		sorted_keys(ann, "kubectl.kubernetes.io/last-applied-configuration", &n);

	fputs("Annotations:\t", w);
	if (!n)
		fputs("<none>\n", w);
	for (size_t i = 0; i < n; i++) {
		const char *v = str(ann, keys[i]);
		size_t vl = strlen(v);

		if (i)
			fputc('\t', w);
		if (vl && v[vl - 1] == '\n')
			vl--;
		if (vl + strlen(keys[i]) + 2 > MAX_ANNOTATION_LEN || memchr(v, '\n', vl)) {
			fprintf(w, "%s:\n", keys[i]);
			for (const char *s = v; s <= v + vl;) {
				const char *e = memchr(s, '\n', (size_t)(v + vl - s));
				size_t l = e ? (size_t)(e - s) : (size_t)(v + vl - s);

				fprintf(w, "\t  %.*s%s\n",
					(int)(l > MAX_ANNOTATION_LEN - 2 ? MAX_ANNOTATION_LEN - 2
									 : l),
					s, l > MAX_ANNOTATION_LEN - 2 ? "..." : "");
				s += l + 1;
			}
		} else {
			fprintf(w, "%s: %.*s\n", keys[i], (int)vl, v);
		}
	}
	free(keys);
}

/* describe.go describeStatus: State / Last State of a container. */
static void container_state(FILE *w, const char *title, json_t *state)
{
	json_t *run = json_object_get(state, "running");
	json_t *wait = json_object_get(state, "waiting");
	json_t *term = json_object_get(state, "terminated");
	char t[64];

	if (run) {
		fprintf(w, "    %s:\tRunning\n", title);
		fprintf(w, "      Started:\t%s\n",
			rfc1123z(json_object_get(run, "startedAt"), t, sizeof(t)));
	} else if (wait) {
		fprintf(w, "    %s:\tWaiting\n", title);
		if (*str(wait, "reason"))
			fprintf(w, "      Reason:\t%s\n", str(wait, "reason"));
	} else if (term) {
		long long sig = json_integer_value(json_object_get(term, "signal"));

		fprintf(w, "    %s:\tTerminated\n", title);
		if (*str(term, "reason"))
			fprintf(w, "      Reason:\t%s\n", str(term, "reason"));
		if (*str(term, "message"))
			fprintf(w, "      Message:\t%s\n", str(term, "message"));
		fprintf(w, "      Exit Code:\t%lld\n",
			(long long)json_integer_value(json_object_get(term, "exitCode")));
		if (sig > 0)
			fprintf(w, "      Signal:\t%lld\n", sig);
		fprintf(w, "      Started:\t%s\n",
			rfc1123z(json_object_get(term, "startedAt"), t, sizeof(t)));
		fprintf(w, "      Finished:\t%s\n",
			rfc1123z(json_object_get(term, "finishedAt"), t, sizeof(t)));
	} else {
		fprintf(w, "    %s:\tWaiting\n", title);
	}
}

/* describe.go describeContainerPorts / describeContainerHostPorts: "8080/TCP, 9090/UDP". */
static void ports_string(json_t *ports, const char *key, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(ports) && len < size; i++) {
		json_t *p = json_array_get(ports, i);

		len += (size_t)snprintf(buf + len, size - len, "%s%lld/%s", i ? ", " : "",
					(long long)json_integer_value(json_object_get(p, key)),
					str(p, "protocol"));
	}
}

static void lines_of(FILE *w, const char *title, json_t *list)
{
	if (!json_array_size(list))
		return;
	fprintf(w, "    %s:\n", title);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));

		for (s = s ? s : ""; s;) {
			const char *e = strchr(s, '\n');

			fprintf(w, "      %.*s\n", e ? (int)(e - s) : (int)strlen(s), s);
			s = e ? e + 1 : NULL;
		}
	}
}

/* describe.go describeResources: Limits and Requests, names sorted. */
static void resources(FILE *w, json_t *res)
{
	static const char *const kinds[2] = {"limits", "requests"};
	static const char *const titles[2] = {"Limits", "Requests"};

	for (int k = 0; k < 2; k++) {
		json_t *m = json_object_get(res, kinds[k]);
		size_t n;
		const char **keys = sorted_keys(m, NULL, &n);

		if (n)
			fprintf(w, "    %s:\n", titles[k]);
		for (size_t i = 0; i < n; i++) {
			json_t *q = json_object_get(m, keys[i]);

			if (json_is_integer(q))
				fprintf(w, "      %s:\t%lld\n", keys[i],
					(long long)json_integer_value(q));
			else
				fprintf(w, "      %s:\t%s\n", keys[i], str(m, keys[i]));
		}
		free(keys);
	}
}

/* An IntOrString port as text. */
static void port_text(json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, size, "%s", json_string_value(v) ? json_string_value(v) : "");
}

/* describe.go DescribeProbe */
static void probe(FILE *w, const char *title, json_t *p)
{
	json_t *exec = json_object_get(p, "exec"), *http = json_object_get(p, "httpGet");
	json_t *tcp = json_object_get(p, "tcpSocket"), *grpc = json_object_get(p, "grpc");
	char port[64];

	if (!json_is_object(p))
		return;
	fprintf(w, "    %s:\t", title);
	if (exec) {
		json_t *cmd = json_object_get(exec, "command");

		fputs("exec [", w);
		for (size_t i = 0; i < json_array_size(cmd); i++)
			fprintf(w, "%s%s", i ? " " : "", json_string_value(json_array_get(cmd, i)));
		fputs("]", w);
	} else if (http) {
		const char *scheme = str(http, "scheme");

		port_text(json_object_get(http, "port"), port, sizeof(port));
		fputs("http-get ", w);
		if (*scheme) {
			for (const char *c = scheme; *c; c++)
				fputc(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c, w);
			fputc(':', w);
		}
		fprintf(w, "//%s%s%s%s", str(http, "host"), *port ? ":" : "", port,
			str(http, "path"));
	} else if (tcp) {
		port_text(json_object_get(tcp, "port"), port, sizeof(port));
		fprintf(w, "tcp-socket %s:%s", str(tcp, "host"), port);
	} else if (grpc) {
		fprintf(w, "grpc <pod>:%lld %s",
			(long long)json_integer_value(json_object_get(grpc, "port")),
			str(grpc, "service"));
	} else {
		fputs("unknown", w);
	}
	fprintf(w, " delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld\n",
		(long long)json_integer_value(json_object_get(p, "initialDelaySeconds")),
		(long long)json_integer_value(json_object_get(p, "timeoutSeconds")),
		(long long)json_integer_value(json_object_get(p, "periodSeconds")),
		(long long)json_integer_value(json_object_get(p, "successThreshold")),
		(long long)json_integer_value(json_object_get(p, "failureThreshold")));
}

/* describe.go describeContainers, reduced (envFrom and env sources not resolved). */
static void containers(FILE *w, const char *label, json_t *specs, json_t *statuses)
{
	char ports[512];

	fprintf(w, "%s:%s\n", label, json_array_size(specs) ? "" : " <none>");
	for (size_t i = 0; i < json_array_size(specs); i++) {
		json_t *c = json_array_get(specs, i), *st = NULL, *env, *mounts;
		const char *name = str(c, "name");

		for (size_t j = 0; j < json_array_size(statuses); j++)
			if (!strcmp(str(json_array_get(statuses, j), "name"), name))
				st = json_array_get(statuses, j);
		fprintf(w, "  %s:\n", name);
		if (st)
			fprintf(w, "    Container ID:\t%s\n", str(st, "containerID"));
		fprintf(w, "    Image:\t%s\n", str(c, "image"));
		if (st)
			fprintf(w, "    Image ID:\t%s\n", str(st, "imageID"));
		ports_string(json_object_get(c, "ports"), "containerPort", ports, sizeof(ports));
		fprintf(w, "    %s:\t%s\n", strchr(ports, ',') ? "Ports" : "Port",
			*ports ? ports : "<none>");
		ports_string(json_object_get(c, "ports"), "hostPort", ports, sizeof(ports));
		fprintf(w, "    %s:\t%s\n", strchr(ports, ',') ? "Host Ports" : "Host Port",
			*ports ? ports : "<none>");
		lines_of(w, "Command", json_object_get(c, "command"));
		lines_of(w, "Args", json_object_get(c, "args"));
		if (st) {
			json_t *last = json_object_get(st, "lastState");

			container_state(w, "State", json_object_get(st, "state"));
			if (json_object_get(last, "terminated"))
				container_state(w, "Last State", last);
			fprintf(w, "    Ready:\t%s\n",
				json_is_true(json_object_get(st, "ready")) ? "True" : "False");
			fprintf(w, "    Restart Count:\t%lld\n",
				(long long)json_integer_value(json_object_get(st, "restartCount")));
		}
		resources(w, json_object_get(c, "resources"));
		probe(w, "Liveness", json_object_get(c, "livenessProbe"));
		probe(w, "Readiness", json_object_get(c, "readinessProbe"));
		probe(w, "Startup", json_object_get(c, "startupProbe"));
		env = json_object_get(c, "env");
		if (!json_array_size(env))
			fputs("    Environment:\t<none>\n", w);
		else
			fputs("    Environment:\n", w);
		for (size_t j = 0; j < json_array_size(env); j++) {
			json_t *e = json_array_get(env, j);

			if (json_object_get(e, "valueFrom"))
				fprintf(w, "      %s:\t<set from a source>\n", str(e, "name"));
			else
				fprintf(w, "      %s:\t%s\n", str(e, "name"), str(e, "value"));
		}
		mounts = json_object_get(c, "volumeMounts");
		if (!json_array_size(mounts))
			fputs("    Mounts:\t<none>\n", w);
		else
			fputs("    Mounts:\n", w);
		for (size_t j = 0; j < json_array_size(mounts); j++) {
			json_t *m = json_array_get(mounts, j);

			fprintf(w, "      %s from %s (%s", str(m, "mountPath"), str(m, "name"),
				json_is_true(json_object_get(m, "readOnly")) ? "ro" : "rw");
			if (*str(m, "subPath"))
				fprintf(w, ",path=\"%s\"", str(m, "subPath"));
			fputs(")\n", w);
		}
	}
}

static void volumes(FILE *w, json_t *vols)
{
	if (!json_array_size(vols)) {
		fputs("Volumes:\t<none>\n", w);
		return;
	}
	fputs("Volumes:\n", w);
	for (size_t i = 0; i < json_array_size(vols); i++) {
		json_t *v = json_array_get(vols, i), *ed = json_object_get(v, "emptyDir");

		fprintf(w, "  %s:\n", str(v, "name"));
		if (ed)
			fprintf(w,
				"    Type:\tEmptyDir (a temporary directory that shares a pod's "
				"lifetime)\n    Medium:\t%s\n    SizeLimit:\t%s\n",
				str(ed, "medium"),
				*str(ed, "sizeLimit") ? str(ed, "sizeLimit") : "<unset>");
		else
			fputs("  <unknown>\n", w);
	}
}

/* describe.go printPodTolerationsMultiline */
static void tolerations(FILE *w, json_t *tol)
{
	fputs("Tolerations:\t", w);
	if (!json_array_size(tol))
		fputs("<none>\n", w);
	for (size_t i = 0; i < json_array_size(tol); i++) {
		json_t *t = json_array_get(tol, i), *secs = json_object_get(t, "tolerationSeconds");
		const char *key = str(t, "key"), *val = str(t, "value"), *eff = str(t, "effect");

		fprintf(w, "%s%s", i ? "\t" : "", key);
		if (*val)
			fprintf(w, "=%s", val);
		if (*eff)
			fprintf(w, ":%s", eff);
		if (!strcmp(str(t, "operator"), "Exists") && !*val)
			fprintf(w, "%sop=Exists", *key ? " " : "");
		if (json_is_integer(secs))
			fprintf(w, " for %llds", (long long)json_integer_value(secs));
		fputc('\n', w);
	}
}

/* describe.go DescribeEvents: sorted by lastTimestamp (stable), ages from firstTimestamp. */
static void events_block(FILE *w, json_t *list, int64_t now_ns)
{
	json_t *items = json_object_get(list, "items");
	size_t n = json_array_size(items);
	json_t **ev = calloc(n ? n : 1, sizeof(*ev));
	int64_t *last = calloc(n ? n : 1, sizeof(*last));
	char a[32], b[32], interval[96];

	if (!ev || !last || !n) {
		fputs("Events:\t<none>\n", w);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		ev[i] = json_array_get(items, i);
		if (!parse_time(json_object_get(ev[i], "lastTimestamp"), &last[i]))
			last[i] = INT64_MIN;
		/* insertion sort: stable, as sort.Sort is for these sizes */
		while (j > 0 && last[j - 1] > last[j]) {
			json_t *te = ev[j - 1];
			int64_t tl = last[j - 1];

			ev[j - 1] = ev[j];
			last[j - 1] = last[j];
			ev[j] = te;
			last[j] = tl;
			j--;
		}
	}
	/* a flush: the Events block lines up on its own */
	fputc('\f', w);
	fputs("Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n",
	      w);
	for (size_t i = 0; i < n; i++) {
		json_t *e = ev[i], *series = json_object_get(e, "series");
		long long count = json_integer_value(json_object_get(e, "count"));
		const char *src = str(json_object_get(e, "source"), "component");
		const char *msg = str(e, "message");
		size_t ml;

		if (json_is_string(json_object_get(e, "eventTime")))
			since(json_object_get(e, "eventTime"), now_ns, a, sizeof(a));
		else
			since(json_object_get(e, "firstTimestamp"), now_ns, a, sizeof(a));
		if (series)
			snprintf(interval, sizeof(interval), "%s (x%lld over %s)",
				 since(json_object_get(series, "lastObservedTime"), now_ns, b,
				       sizeof(b)),
				 (long long)json_integer_value(json_object_get(series, "count")),
				 a);
		else if (count > 1)
			snprintf(interval, sizeof(interval), "%s (x%lld over %s)",
				 since(json_object_get(e, "lastTimestamp"), now_ns, b, sizeof(b)),
				 count, a);
		else
			snprintf(interval, sizeof(interval), "%s", a);
		if (!*src)
			src = str(e, "reportingController");
		msg += strspn(msg, " \t\n\r");
		ml = strlen(msg);
		while (ml && strchr(" \t\n\r", msg[ml - 1]))
			ml--;
		fprintf(w, "  %s\t%s\t%s\t%s\t%.*s\n", str(e, "type"), str(e, "reason"), interval,
			src, (int)ml, msg);
	}
out:
	free(ev);
	free(last);
}

/* Lay out <text> as the describe tabwriter does; '\f' marks a flush (blocks end there). */
static int describe_write(FILE *out, char *text, size_t len)
{
	char *p = text, *end = text + len;
	int err = 0;

	while (p < end && !err) {
		char *f = memchr(p, '\f', (size_t)(end - p));
		size_t n = f ? (size_t)(f - p) : (size_t)(end - p);

		/* describe.go tabbedString: minwidth 0, tabwidth 8, padding 2, ' ' */
		err = tabwrite(out, p, n, 0, 2);
		p += n + (f != NULL);
	}
	return err;
}

int pp_api_print_describe(FILE *out, json_t *pod, json_t *events, int64_t now_ns)
{
	json_t *md = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
	json_t *st = json_object_get(pod, "status"), *conds, *ips;
	char t[64], *text = NULL;
	size_t len = 0;
	FILE *w;
	int err;

	if (!json_is_object(pod))
		return -EINVAL;
	w = open_memstream(&text, &len);
	if (!w)
		return -ENOMEM;
	/* describe.go describePod */
	fprintf(w, "Name:\t%s\n", str(md, "name"));
	fprintf(w, "Namespace:\t%s\n", str(md, "namespace"));
	if (json_is_integer(json_object_get(spec, "priority")))
		fprintf(w, "Priority:\t%lld\n",
			(long long)json_integer_value(json_object_get(spec, "priority")));
	if (*str(spec, "priorityClassName"))
		fprintf(w, "Priority Class Name:\t%s\n", str(spec, "priorityClassName"));
	if (*str(spec, "serviceAccountName"))
		fprintf(w, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
	if (!*str(spec, "nodeName"))
		fputs("Node:\t<none>\n", w);
	else
		fprintf(w, "Node:\t%s/%s\n", str(spec, "nodeName"), str(st, "hostIP"));
	if (json_object_get(st, "startTime") && !json_is_null(json_object_get(st, "startTime")))
		fprintf(w, "Start Time:\t%s\n",
			rfc1123z(json_object_get(st, "startTime"), t, sizeof(t)));
	labels_multiline(w, "Labels", json_object_get(md, "labels"));
	annotations_multiline(w, json_object_get(md, "annotations"));
	if (json_is_string(json_object_get(md, "deletionTimestamp")) &&
	    strcmp(str(st, "phase"), "Failed") && strcmp(str(st, "phase"), "Succeeded")) {
		fprintf(w, "Status:\tTerminating (lasts %s)\n",
			since(json_object_get(md, "deletionTimestamp"), now_ns, t, sizeof(t)));
		fprintf(w, "Termination Grace Period:\t%llds\n",
			(long long)json_integer_value(
				json_object_get(md, "deletionGracePeriodSeconds")));
	} else {
		fprintf(w, "Status:\t%s\n", str(st, "phase"));
	}
	if (*str(st, "reason"))
		fprintf(w, "Reason:\t%s\n", str(st, "reason"));
	if (*str(st, "message"))
		fprintf(w, "Message:\t%s\n", str(st, "message"));
	fprintf(w, "IP:\t%s\n", str(st, "podIP"));
	ips = json_object_get(st, "podIPs");
	if (!json_array_size(ips))
		fputs("IPs:\t<none>\n", w);
	else
		fputs("IPs:\n", w);
	for (size_t i = 0; i < json_array_size(ips); i++)
		fprintf(w, "  IP:\t%s\n", str(json_array_get(ips, i), "ip"));
	if (json_array_size(json_object_get(spec, "initContainers")))
		containers(w, "Init Containers", json_object_get(spec, "initContainers"),
			   json_object_get(st, "initContainerStatuses"));
	containers(w, "Containers", json_object_get(spec, "containers"),
		   json_object_get(st, "containerStatuses"));
	conds = json_object_get(st, "conditions");
	if (json_array_size(conds)) {
		fputs("Conditions:\n  Type\tStatus\n", w);
		for (size_t i = 0; i < json_array_size(conds); i++)
			fprintf(w, "  %s \t%s \n", str(json_array_get(conds, i), "type"),
				str(json_array_get(conds, i), "status"));
	}
	volumes(w, json_object_get(spec, "volumes"));
	if (*str(st, "qosClass"))
		fprintf(w, "QoS Class:\t%s\n", str(st, "qosClass"));
	labels_multiline(w, "Node-Selectors", json_object_get(spec, "nodeSelector"));
	tolerations(w, json_object_get(spec, "tolerations"));
	events_block(w, events, now_ns);
	if (fclose(w) != 0) {
		free(text);
		return -ENOMEM;
	}
	err = describe_write(out, text, len);
	free(text);
	return err;
}
