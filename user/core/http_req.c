// SPDX-License-Identifier: Apache-2.0
/*
 * The API server's HTTP/1.1 request parser (RFC 9112), without I/O.
 *
 * The head (request line and header fields) is copied into the request's buffer until its
 * empty line, then parsed in place: line ends and separators become NULs, so every string the
 * request hands out points into that one buffer. The body follows the head in the same buffer,
 * Content-Length bytes as they are, a chunked body de-chunked by a byte-at-a-time state
 * machine, so a request may arrive split anywhere. Nothing else is allocated; the buffer grows
 * up to max_head + max_body + 1 bytes.
 *
 * Choices, following Go's net/http server (which the apiserver runs on) where RFC 9112 leaves
 * one:
 * - bare "\n" ends lines as well as "\r\n", and empty lines before a request line are skipped
 *   (§2.2);
 * - obsolete line folding, whitespace before a header's colon and a header name that is not a
 *   token are 400 (§5.1, §5.2: a server rejects folding);
 * - HTTP/1.1 needs exactly one Host (§3.2); HTTP/1.x other than 1.0 and 1.1 is 505;
 * - Content-Length is digits only; repeated ones must agree; both Content-Length and
 *   Transfer-Encoding is 400 (request smuggling, §6.3); a Transfer-Encoding other than
 *   exactly "chunked" is 501, as Go's "unsupported transfer encoding";
 * - a declared or de-chunked body past max_body is 413 as soon as it is known, the head past
 *   max_head (or more than PP_HTTP_REQ_MAX_HEADERS fields) 431;
 * - chunk size lines take at most 4096 bytes (Go's maxLineLength); trailers are skipped but
 *   count against max_head;
 * - "Expect: 100-continue" is flagged for the transport to answer; another expectation is 417.
 */
#include "podprobe/http_req.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	S_HEAD = 0,	  /* head bytes until the empty line */
	S_BODY_LENGTH,	  /* <need> bytes of a Content-Length body */
	S_CHUNK_SIZE,	  /* hex size of the next chunk, <scan> bytes of its line so far */
	S_CHUNK_EXT,	  /* ";ext" or whitespace after the size, skipped to the line end */
	S_CHUNK_SIZE_LF,  /* a CR ended the size line */
	S_CHUNK_DATA,	  /* <need> bytes of chunk data */
	S_CHUNK_DATA_CR,  /* the CRLF after chunk data */
	S_CHUNK_DATA_LF,  /* its LF */
	S_TRAILER_START,  /* a trailer line, or the empty line ending the body */
	S_TRAILER_LINE,	  /* a trailer line, skipped */
	S_TRAILER_END_LF, /* a CR began the final empty line */
	S_DONE,
	S_ERROR,
};

#define CHUNK_LINE_MAX 4096
#define BUF_MIN	       1024
#define BUF_KEEP       (64u << 10) /* reset keeps at most this much memory */

static const char *const method_names[_PP_HTTP_METHOD_MAX] = {
	[PP_HTTP_GET] = "GET",	       [PP_HTTP_HEAD] = "HEAD",	  [PP_HTTP_POST] = "POST",
	[PP_HTTP_PUT] = "PUT",	       [PP_HTTP_PATCH] = "PATCH", [PP_HTTP_DELETE] = "DELETE",
	[PP_HTTP_OPTIONS] = "OPTIONS", [PP_HTTP_OTHER] = NULL,
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool ieq(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return !*a && !*b;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void clear_public(struct pp_http_req *r)
{
	r->method = PP_HTTP_OTHER;
	r->method_str = r->path = r->query = r->body = "";
	r->headers = r->hdr_store;
	r->n_headers = 0;
	r->body_len = 0;
	r->keep_alive = false;
	r->expect_continue = false;
	r->complete = false;
	r->status = 0;
	r->error = NULL;
}

void pp_http_req_init(struct pp_http_req *r, size_t max_head, size_t max_body)
{
	memset(r, 0, offsetof(struct pp_http_req, hdr_store));
	r->max_head = max_head ? max_head : PP_HTTP_REQ_MAX_HEAD;
	r->max_body = max_body ? max_body : PP_HTTP_REQ_MAX_BODY;
	clear_public(r);
}

void pp_http_req_reset(struct pp_http_req *r)
{
	if (r->cap > BUF_KEEP) {
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
	r->len = r->head_len = r->body_start = r->scan = r->trailer = 0;
	r->need = 0;
	r->state = S_HEAD;
	r->chunked = false;
	clear_public(r);
}

void pp_http_req_fini(struct pp_http_req *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->len = 0;
	clear_public(r);
}

static int fail(struct pp_http_req *r, int status, const char *why)
{
	r->state = S_ERROR;
	r->status = status;
	r->error = why;
	r->complete = false;
	return status == 413 || status == 431 ? -EMSGSIZE : status == 500 ? -ENOMEM : -EINVAL;
}

static int sticky(const struct pp_http_req *r)
{
	return r->status == 413 || r->status == 431 ? -EMSGSIZE
	       : r->status == 500		    ? -ENOMEM
						    : -EINVAL;
}

/* Point <*p> at the same offset of <nb> when it points into <old> (<old_len> bytes). */
static void move_ptr(const char **p, const char *old, size_t old_len, char *nb)
{
	if (*p >= old && *p <= old + old_len)
		*p = nb + (*p - old);
}

/*
 * Make room for <more> bytes past r->len plus a NUL. The bytes move to a new block (copied,
 * not realloc'ed, so the old one is still valid while the pointers into the head follow).
 */
static int reserve(struct pp_http_req *r, size_t more)
{
	size_t want = r->len + more + 1, ncap, hard = r->max_head + r->max_body + 1;
	char *nb;

	if (want <= r->cap)
		return 0;
	ncap = r->cap ? r->cap : BUF_MIN;
	while (ncap < want)
		ncap *= 2;
	if (ncap > hard)
		ncap = hard > want ? hard : want;
	nb = malloc(ncap);
	if (!nb)
		return -ENOMEM;
	if (r->buf) {
		memcpy(nb, r->buf, r->len);
		if (r->head_len) {
			for (size_t i = 0; i < r->n_headers; i++) {
				move_ptr(&r->hdr_store[i].name, r->buf, r->len, nb);
				move_ptr(&r->hdr_store[i].value, r->buf, r->len, nb);
			}
			move_ptr(&r->method_str, r->buf, r->len, nb);
			move_ptr(&r->path, r->buf, r->len, nb);
			move_ptr(&r->query, r->buf, r->len, nb);
		}
		free(r->buf);
	}
	r->buf = nb;
	r->cap = ncap;
	return 0;
}

/* Cut the next line off <*p> (up to <end>): NUL-terminate it without its CR LF / LF. */
static char *next_line(char **p, char *end)
{
	char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));

	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return s;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* Does the comma-separated list <v> hold <tok> (case-insensitive)? */
static bool list_has(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v) {
		const char *e;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		e = v;
		while (*e && *e != ',')
			e++;
		const char *t = e;

		while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - v) == n) {
			size_t i = 0;

			while (i < n && lower((unsigned char)v[i]) == tok[i])
				i++;
			if (i == n)
				return true;
		}
		v = e;
	}
	return false;
}

static int parse_request_line(struct pp_http_req *r, char *line, int *ret_minor)
{
	char *sp1 = strchr(line, ' '), *sp2, *target, *ver, *q;

	if (!sp1)
		return fail(r, 400, "malformed request line");
	*sp1 = '\0';
	target = sp1 + 1;
	sp2 = strchr(target, ' ');
	if (!sp2)
		return fail(r, 400, "malformed request line");
	*sp2 = '\0';
	ver = sp2 + 1;
	if (!is_token(line))
		return fail(r, 400, "bad method");
	if (target[0] != '/' && !(target[0] == '*' && !target[1]))
		return fail(r, 400, "bad request target");
	for (q = target; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return fail(r, 400, "bad request target");
	if (strncmp(ver, "HTTP/", 5) || ver[5] < '0' || ver[5] > '9' || ver[6] != '.' ||
	    ver[7] < '0' || ver[7] > '9' || ver[8])
		return fail(r, 400, "malformed HTTP version");
	if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
		return fail(r, 505, "HTTP version not supported");
	*ret_minor = ver[7] - '0';
	r->method_str = line;
	r->method = PP_HTTP_OTHER;
	for (int m = 0; m < _PP_HTTP_METHOD_MAX; m++)
		if (method_names[m] && !strcmp(line, method_names[m]))
			r->method = (enum pp_http_method)m;
	q = strchr(target, '?');
	if (q) {
		*q = '\0';
		r->query = q + 1;
	} else {
		r->query = "";
	}
	r->path = target;
	return 0;
}

static int parse_content_length(struct pp_http_req *r, const char *v, uint64_t *cl, bool *have)
{
	uint64_t n = 0;

	if (!*v)
		return fail(r, 400, "bad Content-Length");
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(r, 400, "bad Content-Length");
		if (n > (UINT64_MAX - 9) / 10)
			return fail(r, 413, "request body too large");
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*have && n != *cl)
		return fail(r, 400, "conflicting Content-Length");
	*have = true;
	*cl = n;
	return 0;
}

/* Parse the head in buf[0, head_len): request line and fields; set up the body state. */
static int parse_head(struct pp_http_req *r)
{
	char *p = r->buf, *end = r->buf + r->head_len, *line;
	bool have_cl = false, have_te = false, close = false, ka = false;
	unsigned int n_host = 0;
	uint64_t cl = 0;
	int minor = 1, err;

	if (memchr(r->buf, '\0', r->head_len))
		return fail(r, 400, "NUL in request head");
	line = next_line(&p, end);
	err = parse_request_line(r, line, &minor);
	if (err < 0)
		return err;
	while ((line = next_line(&p, end)) && *line) {
		char *colon, *v, *ve;

		if (*line == ' ' || *line == '\t')
			return fail(r, 400, "obsolete line folding");
		colon = strchr(line, ':');
		if (!colon)
			return fail(r, 400, "malformed header line");
		*colon = '\0';
		if (!is_token(line))
			return fail(r, 400, "bad header name");
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*ve = '\0';
		if (has_ctl(v))
			return fail(r, 400, "bad header value");
		if (r->n_headers == PP_HTTP_REQ_MAX_HEADERS)
			return fail(r, 431, "too many header fields");
		r->hdr_store[r->n_headers].name = line;
		r->hdr_store[r->n_headers].value = v;
		r->n_headers++;
		if (ieq(line, "content-length")) {
			err = parse_content_length(r, v, &cl, &have_cl);
			if (err < 0)
				return err;
		} else if (ieq(line, "transfer-encoding")) {
			if (have_te || !ieq(v, "chunked"))
				return fail(r, 501, "unsupported transfer encoding");
			have_te = true;
		} else if (ieq(line, "host")) {
			n_host++;
		} else if (ieq(line, "connection")) {
			close |= list_has(v, "close");
			ka |= list_has(v, "keep-alive");
		} else if (ieq(line, "expect")) {
			if (!ieq(v, "100-continue"))
				return fail(r, 417, "unsupported expectation");
			r->expect_continue = minor == 1;
		}
	}
	if (minor == 1 && n_host != 1)
		return fail(r, 400, n_host ? "more than one Host" : "missing Host");
	if (have_cl && have_te)
		return fail(r, 400, "both Content-Length and Transfer-Encoding");
	r->keep_alive = minor == 1 ? !close : ka && !close;
	r->body_start = r->head_len;
	r->chunked = have_te;
	if (have_te) {
		r->state = S_CHUNK_SIZE;
		r->scan = 0;
		r->need = 0;
		return 0;
	}
	if (cl > r->max_body)
		return fail(r, 413, "request body too large");
	r->need = cl;
	if (cl) {
		err = reserve(r, (size_t)cl);
		if (err < 0)
			return fail(r, 500, "out of memory");
	}
	r->state = cl ? S_BODY_LENGTH : S_DONE;
	if (!cl)
		r->expect_continue = false;
	return 0;
}

/* Head bytes: copy up to and including the empty line; returns bytes used, or -errno. */
static int feed_head(struct pp_http_req *r, const char *data, size_t len)
{
	size_t used = 0;

	while (used < len) {
		const char *nl;
		size_t n, line_len;

		/* Empty lines before the request line are skipped (RFC 9112 §2.2). */
		if (!r->len && (data[used] == '\r' || data[used] == '\n')) {
			used++;
			continue;
		}
		nl = memchr(data + used, '\n', len - used);
		n = nl ? (size_t)(nl - (data + used)) + 1 : len - used;
		if (r->len + n > r->max_head)
			return fail(r, 431, "request header too large");
		if (reserve(r, n) < 0)
			return fail(r, 500, "out of memory");
		memcpy(r->buf + r->len, data + used, n);
		r->len += n;
		used += n;
		if (!nl)
			break;
		/* A line ended at r->len - 1; it began at r->scan. */
		line_len = r->len - 1 - r->scan;
		if (line_len && r->buf[r->len - 2] == '\r')
			line_len--;
		r->scan = r->len;
		if (!line_len && r->len > 2) {
			int err;

			r->head_len = r->len;
			err = parse_head(r);
			if (err < 0)
				return err;
			break;
		}
	}
	return (int)used;
}

static int body_bytes(struct pp_http_req *r, const char *data, size_t n)
{
	if (r->len - r->body_start + n > r->max_body)
		return fail(r, 413, "request body too large");
	if (reserve(r, n) < 0)
		return fail(r, 500, "out of memory");
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

/* Body bytes; returns bytes used (stops at the request's end), or -errno. */
static int feed_body(struct pp_http_req *r, const char *data, size_t len)
{
	size_t i = 0;
	int err, d;

	while (i < len && r->state != S_DONE) {
		unsigned char c = (unsigned char)data[i];

		switch (r->state) {
		case S_BODY_LENGTH:
		case S_CHUNK_DATA: {
			size_t n = len - i < r->need ? len - i : (size_t)r->need;

			err = body_bytes(r, data + i, n);
			if (err < 0)
				return err;
			i += n;
			r->need -= n;
			if (!r->need)
				r->state = r->state == S_BODY_LENGTH ? S_DONE : S_CHUNK_DATA_CR;
			continue;
		}
		case S_CHUNK_SIZE:
			if (++r->scan > CHUNK_LINE_MAX)
				return fail(r, 400, "chunk size line too long");
			d = hexval(c);
			if (d >= 0) {
				if (r->need > (r->max_body - (r->len - r->body_start)) >> 4)
					return fail(r, 413, "request body too large");
				r->need = r->need * 16 + (uint64_t)d;
				if (r->need > r->max_body - (r->len - r->body_start))
					return fail(r, 413, "request body too large");
				break;
			}
			if (r->scan == 1)
				return fail(r, 400, "bad chunk size");
			if (c == ';' || c == ' ' || c == '\t')
				r->state = S_CHUNK_EXT;
			else if (c == '\r')
				r->state = S_CHUNK_SIZE_LF;
			else if (c == '\n')
				goto size_done;
			else
				return fail(r, 400, "bad chunk size");
			break;
		case S_CHUNK_EXT:
			if (++r->scan > CHUNK_LINE_MAX)
				return fail(r, 400, "chunk size line too long");
			if (c == '\n')
				goto size_done;
			if (c == '\r')
				r->state = S_CHUNK_SIZE_LF;
			else if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(r, 400, "bad chunk extension");
			break;
		case S_CHUNK_SIZE_LF:
			if (c != '\n')
				return fail(r, 400, "bad chunk size line end");
		size_done:
			r->scan = 0;
			r->state = r->need ? S_CHUNK_DATA : S_TRAILER_START;
			break;
		case S_CHUNK_DATA_CR:
			if (c == '\n') {
				r->state = S_CHUNK_SIZE;
				break;
			}
			if (c != '\r')
				return fail(r, 400, "missing CRLF after chunk data");
			r->state = S_CHUNK_DATA_LF;
			break;
		case S_CHUNK_DATA_LF:
			if (c != '\n')
				return fail(r, 400, "missing CRLF after chunk data");
			r->state = S_CHUNK_SIZE;
			break;
		case S_TRAILER_START:
		case S_TRAILER_LINE:
			if (r->head_len + ++r->trailer > r->max_head)
				return fail(r, 431, "request trailers too large");
			if (r->state == S_TRAILER_START && c == '\r')
				r->state = S_TRAILER_END_LF;
			else if (c == '\n')
				r->state = r->state == S_TRAILER_START ? S_DONE : S_TRAILER_START;
			else
				r->state = S_TRAILER_LINE;
			break;
		case S_TRAILER_END_LF:
			if (c != '\n')
				return fail(r, 400, "bad trailer section");
			r->state = S_DONE;
			break;
		default:
			return fail(r, 500, "parser state lost");
		}
		i++;
	}
	return (int)i;
}

static void finish(struct pp_http_req *r)
{
	if (!r->buf) {
		r->body = "";
	} else {
		r->buf[r->len] = '\0'; /* reserve() always leaves room for it */
		r->body = r->buf + r->body_start;
	}
	r->body_len = r->len - r->body_start;
	r->expect_continue = false;
	r->complete = true;
}

int pp_http_req_feed(struct pp_http_req *r, const char *data, size_t len)
{
	size_t used = 0;
	int n;

	if (r->state == S_ERROR)
		return sticky(r);
	if (r->complete)
		return 0;
	if (r->state == S_HEAD) {
		n = feed_head(r, data, len);
		if (n < 0)
			return n;
		used = (size_t)n;
	}
	if (r->state != S_HEAD && r->state != S_DONE) {
		n = feed_body(r, data + used, len - used);
		if (n < 0)
			return n;
		used += (size_t)n;
	}
	if (r->state == S_DONE)
		finish(r);
	return (int)used;
}

const char *pp_http_req_header(const struct pp_http_req *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (ieq(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

/* Decode <len> bytes of <s> (with '+' as space when <plus>) into <buf>; see the header. */
static int unescape(const char *s, size_t len, bool plus, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -EINVAL;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi << 4 | lo;
			if (!c)
				return -EINVAL;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (o + 1 >= size)
			return -ENOSPC;
		buf[o++] = (char)c;
	}
	if (o >= size)
		return -ENOSPC;
	buf[o] = '\0';
	return (int)o;
}

int pp_http_unescape(const char *s, size_t len, char *buf, size_t size)
{
	return unescape(s, len, false, buf, size);
}

/* Is the query key <k> (<len> bytes, encoded) <name> once decoded? */
static bool key_is(const char *k, size_t len, const char *name)
{
	size_t j = 0;

	for (size_t i = 0; i < len; i++, j++) {
		int c = (unsigned char)k[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return false;
			hi = hexval((unsigned char)k[i + 1]);
			lo = hexval((unsigned char)k[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (!name[j] || (unsigned char)name[j] != c)
			return false;
	}
	return !name[j];
}

int pp_http_query_get(const char *query, const char *name, char *buf, size_t size)
{
	const char *p = query;

	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *kend = eq ? eq : end;

		if (key_is(p, (size_t)(kend - p), name)) {
			if (!eq)
				return unescape("", 0, true, buf, size);
			return unescape(eq + 1, (size_t)(end - eq - 1), true, buf, size);
		}
		p = amp ? amp + 1 : NULL;
	}
	return -ENOENT;
}
