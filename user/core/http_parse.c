// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x for the httpGet probe (pkg/probe/http/http.go), without I/O.
 *
 * The response parser is a byte-at-a-time state machine, so a read may end anywhere (one byte
 * at a time included) and nothing but a few counters survives between reads: header lines are
 * never buffered. Header names are matched on the fly against the three the probe needs
 * (Content-Length, Transfer-Encoding, Location); every other header is scanned for validity
 * and forgotten. Only the Location value is kept, in a fixed field. Body bytes are copied in
 * bulk into the caller's buffer up to its size, after which the response counts as complete:
 * kubelet reads at most 10 KiB and drops the rest without error (H-HTTP.5).
 *
 * Where the RFCs leave a choice, the parser follows Go's net/http client, which kubelet uses:
 * - bare "\n" ends lines as well as "\r\n";
 * - obsolete line folding (a header line starting with SP or HTAB) continues the previous
 *   header's value, the fold and its whitespace read as one space, as RFC 9112 §5.2 asks of
 *   user agents and as Go's textproto does; a fold before the first header is an error;
 * - 1xx responses other than 101 are interim and skipped; 101 is final and has no body;
 * - 1xx, 204 and 304 responses have no body whatever their headers say;
 * - repeated Content-Length headers must agree, and chunked framing overrides Content-Length;
 * - a Transfer-Encoding without "chunked" leaves the body delimited by the connection close
 *   (RFC 9112 §6.3), where Go would refuse the response;
 * - the first Location header wins, an empty one means "no Location";
 * - chunk sizes take at most 16 hex digits and chunk lines at most 4096 bytes, as Go's
 *   chunked reader. Trailers are skipped but count against the header limit.
 */
#include "podprobe/http_parse.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

enum {
	S_STATUS_PROTO = 0, /* "HTTP/1." matched up to <count> */
	S_STATUS_MINOR,	    /* the minor version digit */
	S_STATUS_SP,	    /* the space after the version */
	S_STATUS_CODE,	    /* more spaces, then three digits counted in <count> */
	S_STATUS_AFTER,	    /* a space before the reason, or the end of the line */
	S_STATUS_REASON,    /* the reason phrase, skipped */
	S_STATUS_LF,	    /* a CR ended the status line: LF must follow */
	S_HDR_START,	    /* start of a header line, or the empty line ending the head */
	S_HDR_NAME,	    /* header name, <count> bytes so far */
	S_HDR_VALUE,	    /* header value */
	S_HDR_FOLD,	    /* whitespace starting a folded line, which stands for one space */
	S_HDR_LF,	    /* a CR ended a header line */
	S_HEAD_END_LF,	    /* a CR began the empty line */
	S_BODY_LENGTH,	    /* <remaining> bytes of a Content-Length body */
	S_BODY_CLOSE,	    /* body delimited by the connection close */
	S_CHUNK_SIZE,	    /* hex size of the next chunk */
	S_CHUNK_SIZE_WS,    /* whitespace after the size */
	S_CHUNK_EXT,	    /* ";ext", skipped */
	S_CHUNK_SIZE_LF,    /* a CR ended the chunk size line */
	S_CHUNK_DATA,	    /* <remaining> bytes of chunk data */
	S_CHUNK_DATA_END,   /* the CRLF after chunk data */
	S_CHUNK_DATA_LF,    /* its LF */
	S_TRAILER_START,    /* start of a trailer line, or the empty line ending the body */
	S_TRAILER_LINE,	    /* a trailer line, skipped */
	S_TRAILER_END_LF,   /* a CR began the final empty line */
	S_DONE,
	S_ERROR,
};

/* The headers the parser looks at; H_NONE means no header yet in this response. */
enum { H_NONE = 0, H_OTHER, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_LOCATION };

/* Content-Length scan states. */
enum { CL_EMPTY = 0, CL_DIGITS, CL_TRAILING };

/* Known names, lower case, in the order of the H_* values from H_CONTENT_LENGTH on. */
static const char *const known_names[] = {"content-length", "transfer-encoding", "location"};
#define N_KNOWN	  (sizeof(known_names) / sizeof(known_names[0]))
#define ALL_KNOWN ((1u << N_KNOWN) - 1)

#define CHUNK_LINE_MAX	 4096 /* Go's maxLineLength for chunk size lines */
#define CHUNK_DIGITS_MAX 16   /* 16 hex digits fill a uint64_t, so the size cannot overflow */

static const char chunked_token[] = "chunked";

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(int c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_ws(int c)
{
	return c == ' ' || c == '\t';
}

/* Bytes forbidden in header values: controls other than HTAB, and DEL. */
static bool is_ctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* RFC 9110 tchar: the bytes a header name is made of. */
static bool is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static int fail(struct pp_http_resp *r, int err, const char *msg)
{
	r->state = S_ERROR;
	r->err = err;
	r->error = msg;
	return err;
}

static int done(struct pp_http_resp *r)
{
	r->state = S_DONE;
	r->complete = true;
	return 1;
}

/* Forget what an interim (1xx) response set, before the next status line. */
static void reset_response(struct pp_http_resp *r)
{
	r->status = 0;
	r->has_location = false;
	r->chunked = false;
	r->content_length = -1;
	r->te_seen = false;
	r->loc_seen = false;
	r->location[0] = '\0';
	r->hdr = H_NONE;
	r->count = 0;
	r->state = S_STATUS_PROTO;
}

void pp_http_resp_init(struct pp_http_resp *r, char *body_buf, size_t body_cap)
{
	/* Around <location> (2 KiB, read only once has_location is set): one per probe attempt. */
	memset(r, 0, offsetof(struct pp_http_resp, location));
	r->location[0] = '\0';
	memset((char *)r + offsetof(struct pp_http_resp, body), 0,
	       sizeof(*r) - offsetof(struct pp_http_resp, body));
	r->max_header_bytes = PP_HTTP_MAX_HEADER_BYTES;
	r->body = body_buf;
	r->body_cap = body_buf ? body_cap : 0;
	reset_response(r);
}

/* The name just read (all <count> bytes matched the names left in <name_match>) is complete. */
static void name_end(struct pp_http_resp *r)
{
	r->hdr = H_OTHER;
	for (unsigned int i = 0; i < N_KNOWN; i++)
		if ((r->name_match & (1u << i)) && strlen(known_names[i]) == r->count)
			r->hdr = H_CONTENT_LENGTH + i;

	switch (r->hdr) {
	case H_CONTENT_LENGTH:
		r->cl_state = CL_EMPTY;
		r->cl_val = 0;
		break;
	case H_TRANSFER_ENCODING:
		r->te_seen = true;
		r->te_match = 0;
		break;
	case H_LOCATION:
		if (!r->loc_seen)
			r->loc_len = r->loc_end = 0;
		break;
	}
}

/* One byte of a header value (folded lines included), CR and LF excluded. */
static int value_byte(struct pp_http_resp *r, int c)
{
	switch (r->hdr) {
	case H_CONTENT_LENGTH:
		if (is_ws(c)) {
			if (r->cl_state == CL_DIGITS)
				r->cl_state = CL_TRAILING;
			return 0;
		}
		/* Digits only: no sign, no list ("5, 5"), no inner space, no overflow. */
		if (!is_digit(c) || r->cl_state == CL_TRAILING ||
		    r->cl_val > (INT64_MAX - (c - '0')) / 10)
			return fail(r, -EBADMSG, "invalid Content-Length");
		r->cl_val = r->cl_val * 10 + (c - '0');
		r->cl_state = CL_DIGITS;
		return 0;
	case H_TRANSFER_ENCODING:
		/* "chunked" has no proper prefix that is also its suffix, so on a mismatch the
		 * match can only restart at this byte. */
		c = lower(c);
		if (c == chunked_token[r->te_match]) {
			if (!chunked_token[++r->te_match]) {
				r->chunked = true;
				r->te_match = 0;
			}
		} else {
			r->te_match = c == chunked_token[0];
		}
		return 0;
	case H_LOCATION:
		if (r->loc_seen)
			return 0;
		if (is_ws(c)) {
			/* Leading whitespace is dropped; inner whitespace is stored while it fits,
			 * and trailing whitespace is trimmed by loc_end, so it may overflow
			 * (loc_len saturates) without error unless more value follows. */
			if (!r->loc_len)
				return 0;
			if (r->loc_len < PP_HTTP_LOCATION_MAX - 1)
				r->location[r->loc_len] = (char)c;
			if (r->loc_len < PP_HTTP_LOCATION_MAX)
				r->loc_len++;
			return 0;
		}
		if (r->loc_len >= PP_HTTP_LOCATION_MAX - 1)
			return fail(r, -EBADMSG, "Location header too long");
		r->location[r->loc_len++] = (char)c;
		r->loc_end = r->loc_len;
		return 0;
	}
	return 0;
}

/* The header being scanned is over (its line ended and the next one is no fold). */
static int header_end(struct pp_http_resp *r)
{
	switch (r->hdr) {
	case H_CONTENT_LENGTH:
		if (r->cl_state == CL_EMPTY)
			return fail(r, -EBADMSG, "invalid Content-Length");
		if (r->content_length >= 0 && r->content_length != r->cl_val)
			return fail(r, -EBADMSG, "conflicting Content-Length headers");
		r->content_length = r->cl_val;
		break;
	case H_LOCATION:
		if (r->loc_seen)
			break;
		r->loc_seen = true;
		r->location[r->loc_end] = '\0';
		r->has_location = r->loc_end > 0;
		break;
	}
	r->hdr = H_OTHER;
	return 0;
}

/* Start the body once the head is over. */
static int body_start(struct pp_http_resp *r, int state)
{
	r->state = state;
	/* A zero-sized buffer is full before the first body byte. */
	return r->body_len >= r->body_cap ? done(r) : 0;
}

/* The empty line ending a head came. */
static int head_end(struct pp_http_resp *r)
{
	int err = header_end(r);

	if (err)
		return err;
	if (r->status < 200 && r->status != 101) {
		/* 100 Continue, 103 Early Hints...: the final response follows. */
		reset_response(r);
		return 0;
	}
	r->headers_done = true;
	if (r->chunked)
		r->content_length = -1;
	if (r->status < 200 || r->status == 204 || r->status == 304)
		return done(r);
	if (r->chunked) {
		r->count = 0;
		r->digits = 0;
		r->remaining = 0;
		return body_start(r, S_CHUNK_SIZE);
	}
	if (r->te_seen || r->content_length < 0)
		return body_start(r, S_BODY_CLOSE);
	if (!r->content_length)
		return done(r);
	r->remaining = (uint64_t)r->content_length;
	return body_start(r, S_BODY_LENGTH);
}

/* One byte of the status line. */
static int status_byte(struct pp_http_resp *r, int c)
{
	static const char proto[] = "HTTP/1.";

	switch (r->state) {
	case S_STATUS_PROTO:
		if (c != proto[r->count])
			return fail(r, -EBADMSG,
				    r->count < 5 ? "malformed HTTP response"
						 : "malformed HTTP version");
		if (!proto[++r->count])
			r->state = S_STATUS_MINOR;
		return 0;
	case S_STATUS_MINOR:
		if (!is_digit(c))
			return fail(r, -EBADMSG, "malformed HTTP version");
		r->state = S_STATUS_SP;
		return 0;
	case S_STATUS_SP:
		if (c != ' ')
			return fail(r, -EBADMSG, "malformed HTTP version");
		r->count = 0;
		r->state = S_STATUS_CODE;
		return 0;
	case S_STATUS_CODE:
		if (c == ' ' && !r->count)
			return 0;
		if (!is_digit(c))
			return fail(r, -EBADMSG, "malformed HTTP status code");
		r->status = r->status * 10 + (c - '0');
		if (++r->count < 3)
			return 0;
		if (r->status < 100)
			return fail(r, -EBADMSG, "malformed HTTP status code");
		r->state = S_STATUS_AFTER;
		return 0;
	case S_STATUS_AFTER:
		/* The reason phrase is optional: "HTTP/1.1 200\r\n" is a whole status line. */
		if (c == ' ')
			r->state = S_STATUS_REASON;
		else if (c == '\r')
			r->state = S_STATUS_LF;
		else if (c == '\n')
			r->state = S_HDR_START;
		else
			return fail(r, -EBADMSG, "malformed HTTP status code");
		return 0;
	case S_STATUS_REASON:
		if (c == '\r')
			r->state = S_STATUS_LF;
		else if (c == '\n')
			r->state = S_HDR_START;
		return 0;
	case S_STATUS_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "malformed HTTP response");
		r->state = S_HDR_START;
		return 0;
	}
	return 0;
}

/* One byte of the header block. */
static int header_byte(struct pp_http_resp *r, int c)
{
	int err;

	switch (r->state) {
	case S_HDR_START:
		if (c == '\r') {
			r->state = S_HEAD_END_LF;
			return 0;
		}
		if (c == '\n')
			return head_end(r);
		if (is_ws(c)) {
			/* Obsolete folding: the value goes on, joined by whitespace. */
			if (r->hdr == H_NONE)
				return fail(r, -EBADMSG, "malformed header line");
			r->state = S_HDR_FOLD;
			return value_byte(r, ' ');
		}
		if (!is_tchar(c))
			return fail(r, -EBADMSG, "malformed header line");
		err = header_end(r);
		if (err)
			return err;
		r->name_match = ALL_KNOWN;
		r->count = 0;
		r->state = S_HDR_NAME;
		/* fall through */
	case S_HDR_NAME:
		if (c == ':') {
			name_end(r);
			r->state = S_HDR_VALUE;
			return 0;
		}
		/* A space before the colon is refused too (RFC 9112 §5.1). */
		if (!is_tchar(c))
			return fail(r, -EBADMSG, "malformed header line");
		/*
		 * Only the names still matching, each compared at <count>: a name matched so far
		 * is at least <count> long, and its NUL differs from any tchar <c>.
		 */
		for (unsigned int i = 0; r->name_match && i < N_KNOWN; i++)
			if ((r->name_match & (1u << i)) && known_names[i][r->count] != lower(c))
				r->name_match &= ~(1u << i);
		if (r->count < UINT32_MAX)
			r->count++;
		return 0;
	case S_HDR_FOLD:
		if (is_ws(c))
			return 0;
		r->state = S_HDR_VALUE;
		/* fall through */
	case S_HDR_VALUE:
		if (c == '\r')
			r->state = S_HDR_LF;
		else if (c == '\n')
			r->state = S_HDR_START;
		else if (is_ctl(c))
			return fail(r, -EBADMSG, "malformed header line");
		else
			return value_byte(r, c);
		return 0;
	case S_HDR_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "malformed header line");
		r->state = S_HDR_START;
		return 0;
	case S_HEAD_END_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "malformed header line");
		return head_end(r);
	}
	return 0;
}

/* One byte of a chunk size line, of the CRLF after chunk data, or of the trailers. */
static int chunk_byte(struct pp_http_resp *r, int c)
{
	int v;

	if (r->state <= S_CHUNK_SIZE_LF && ++r->count > CHUNK_LINE_MAX)
		return fail(r, -EBADMSG, "chunk size line too long");

	switch (r->state) {
	case S_CHUNK_SIZE:
		v = hex_val(c);
		if (v >= 0) {
			if (++r->digits > CHUNK_DIGITS_MAX)
				return fail(r, -EBADMSG, "chunk size too large");
			r->remaining = r->remaining << 4 | (uint64_t)v;
			return 0;
		}
		if (!r->digits)
			return fail(r, -EBADMSG, "invalid chunk size");
		/* fall through - the size ended */
	case S_CHUNK_SIZE_WS:
		if (is_ws(c))
			r->state = S_CHUNK_SIZE_WS;
		else if (c == ';')
			r->state = S_CHUNK_EXT;
		else if (c == '\r')
			r->state = S_CHUNK_SIZE_LF;
		else if (c == '\n')
			break;
		else
			return fail(r, -EBADMSG, "invalid chunk size");
		return 0;
	case S_CHUNK_EXT:
		if (c == '\r')
			r->state = S_CHUNK_SIZE_LF;
		else if (c == '\n')
			break;
		else if (is_ctl(c))
			return fail(r, -EBADMSG, "invalid chunk extension");
		return 0;
	case S_CHUNK_SIZE_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "invalid chunk size");
		break;
	case S_CHUNK_DATA_END:
		if (c == '\r') {
			r->state = S_CHUNK_DATA_LF;
			return 0;
		}
		/* fall through - a bare LF is accepted */
	case S_CHUNK_DATA_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "malformed chunked encoding");
		r->count = 0;
		r->digits = 0;
		r->remaining = 0;
		r->state = S_CHUNK_SIZE;
		return 0;
	case S_TRAILER_START:
		if (c == '\r')
			r->state = S_TRAILER_END_LF;
		else if (c == '\n')
			return done(r);
		else
			r->state = S_TRAILER_LINE;
		return 0;
	case S_TRAILER_LINE:
		if (c == '\n')
			r->state = S_TRAILER_START;
		return 0;
	case S_TRAILER_END_LF:
		if (c != '\n')
			return fail(r, -EBADMSG, "malformed chunked encoding");
		return done(r);
	}

	/* The size line ended: a chunk of data follows, or the last chunk's trailers. */
	r->state = r->remaining ? S_CHUNK_DATA : S_TRAILER_START;
	return 0;
}

/* Keep what fits of <n> body bytes; true when the buffer is now full. */
static bool body_take(struct pp_http_resp *r, const unsigned char *p, size_t n)
{
	size_t room = r->body_cap - r->body_len;

	if (n > room)
		n = room;
	if (n) {
		memcpy(r->body + r->body_len, p, n);
		r->body_len += n;
	}
	return r->body_len >= r->body_cap;
}

/* Bytes of head or trailer, which count against the header limit. */
static bool is_head_state(int state)
{
	return state < S_BODY_LENGTH || state >= S_TRAILER_START;
}

/*
 * How many bytes from <p> the byte machine would only count, at most <max>: a reason phrase's
 * up to its CR or LF, a value's that no header of interest owns up to a CR, LF or control
 * byte, and a name's that matches no known name up to its colon or a byte no name may hold.
 * The byte that ends the run goes through the machine, so errors come as before.
 */
static size_t plain_run(const struct pp_http_resp *r, const unsigned char *p, size_t max)
{
	size_t n = 0;

	switch (r->state) {
	case S_STATUS_REASON:
		while (n < max && p[n] != '\r' && p[n] != '\n')
			n++;
		break;
	case S_HDR_VALUE:
		if (r->hdr == H_OTHER)
			while (n < max && !is_ctl(p[n]))
				n++;
		break;
	case S_HDR_NAME:
		if (!r->name_match)
			while (n < max && (p[n] == '-' || is_tchar(p[n])))
				n++;
		break;
	}
	return n;
}

int pp_http_resp_feed(struct pp_http_resp *r, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	const unsigned char *end;
	size_t n;
	int err = 0;

	if (r->state == S_DONE)
		return 1;
	if (r->state == S_ERROR)
		return r->err;
	if (!len)
		return 0;

	for (end = p + len; p < end && !err;) {
		switch (r->state) {
		case S_BODY_CLOSE:
			n = (size_t)(end - p);
			err = body_take(r, p, n) ? done(r) : 0;
			p += n;
			continue;
		case S_BODY_LENGTH:
		case S_CHUNK_DATA:
			n = (size_t)(end - p);
			if (n > r->remaining)
				n = (size_t)r->remaining;
			r->remaining -= n;
			p += n;
			if (body_take(r, p - n, n))
				err = done(r);
			else if (!r->remaining && r->state == S_BODY_LENGTH)
				err = done(r);
			else if (!r->remaining)
				r->state = S_CHUNK_DATA_END;
			continue;
		}

		if (r->head_bytes < r->max_header_bytes) {
			n = r->max_header_bytes - r->head_bytes;
			n = plain_run(r, p, n < (size_t)(end - p) ? n : (size_t)(end - p));
			if (n) {
				r->head_bytes += n;
				p += n;
				continue;
			}
		}
		if (is_head_state(r->state) && ++r->head_bytes > r->max_header_bytes)
			return fail(r, -E2BIG, "headers too large");
		if (r->state <= S_STATUS_LF)
			err = status_byte(r, *p);
		else if (r->state <= S_HEAD_END_LF)
			err = header_byte(r, *p);
		else
			err = chunk_byte(r, *p);
		p++;
	}
	/* done() returns 1 and fail() the -errno: either ends the loop and is the answer. */
	return err;
}

int pp_http_resp_eof(struct pp_http_resp *r)
{
	switch (r->state) {
	case S_DONE:
		return 1;
	case S_ERROR:
		return r->err;
	case S_BODY_CLOSE:
		return done(r);
	}
	if (!r->headers_done)
		return fail(r, -EBADMSG,
			    "connection closed before the response headers were complete");
	return fail(r, -EBADMSG, "connection closed before the response body was complete");
}

/* ---- requests ---------------------------------------------------------------------------- */

/* A bounded string builder: overflow is remembered and reported once at the end. */
struct sbuf {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static void put_mem(struct sbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->size - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void put_str(struct sbuf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

static void put_char(struct sbuf *b, char c)
{
	put_mem(b, &c, 1);
}

static int sbuf_result(const struct sbuf *b)
{
	return b->overflow || b->len > INT_MAX ? -ENOSPC : (int)b->len;
}

/* ASCII case-insensitive equality of two NUL-terminated strings, locale-free. */
static bool eq_nocase(const char *a, const char *b)
{
	for (; *a && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
		;
	return lower((unsigned char)*a) == lower((unsigned char)*b);
}

static bool valid_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static bool valid_value(const char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s))
			return false;
	return true;
}

static const char *kv_value(const struct pp_kv *kv)
{
	return kv->value ? kv->value : "";
}

/* Go's CanonicalMIMEHeaderKey for a valid token: upper case at the start and after '-'. */
static void put_canonical(struct sbuf *b, const char *name)
{
	bool up = true;

	for (; *name; name++) {
		int c = (unsigned char)*name;

		if (up && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		else if (!up)
			c = lower(c);
		put_char(b, (char)c);
		up = c == '-';
	}
}

/* A header value as Go writes it: leading and trailing whitespace trimmed. */
static void put_trimmed(struct sbuf *b, const char *v)
{
	size_t n;

	while (is_ws((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n && is_ws((unsigned char)v[n - 1]))
		n--;
	put_mem(b, v, n);
}

/* The request target: fragment dropped, request-line breakers and non-ASCII %-escaped. */
static void put_target(struct sbuf *b, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!path || !*path || *path == '#')
		path = "/";
	if (*path != '/')
		put_char(b, '/');
	for (; *path && *path != '#'; path++) {
		unsigned char c = (unsigned char)*path;

		if (c <= ' ' || c >= 0x7f) {
			put_char(b, '%');
			put_char(b, hex[c >> 4]);
			put_char(b, hex[c & 15]);
		} else {
			put_char(b, (char)c);
		}
	}
}

/* Headers the builder writes itself, or that would frame a body a GET does not have. */
static bool is_reserved(const char *name)
{
	static const char *const reserved[] = {"host",		 "user-agent",	      "connection",
					       "content-length", "transfer-encoding", "trailer"};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (eq_nocase(name, reserved[i]))
			return true;
	return false;
}

int pp_http_build_request(char *buf, size_t size, const char *host_header, const char *path,
			  const struct pp_kv *headers, size_t n_headers, const char *user_agent)
{
	const struct pp_kv *host = NULL, *ua = NULL, *accept = NULL;
	struct sbuf b = {.buf = buf, .size = size};
	const char *host_value = host_header;

	for (size_t i = 0; i < n_headers; i++) {
		const struct pp_kv *h = &headers[i];

		if (!valid_name(h->name) || !valid_value(kv_value(h)))
			return -EINVAL;
		/* Like Go's Header.Get, only the first of each counts. */
		if (!host && eq_nocase(h->name, "host"))
			host = h;
		else if (!ua && eq_nocase(h->name, "user-agent"))
			ua = h;
		else if (!accept && eq_nocase(h->name, "accept"))
			accept = h;
	}
	if (host && *kv_value(host))
		host_value = kv_value(host);
	if (!host_value || !*host_value || !valid_value(host_value) || strpbrk(host_value, " \t"))
		return -EINVAL;
	if (!size)
		return -ENOSPC;
	buf[0] = '\0';

	put_str(&b, "GET ");
	put_target(&b, path);
	put_str(&b, " HTTP/1.1\r\nHost: ");
	put_str(&b, host_value);
	put_str(&b, "\r\n");

	/* A User-Agent given empty means "send none" (H-HTTP.2). */
	if (ua)
		user_agent = kv_value(ua);
	if (user_agent && *user_agent) {
		put_str(&b, "User-Agent: ");
		put_trimmed(&b, user_agent);
		put_str(&b, "\r\n");
	}

	for (size_t i = 0; i < n_headers; i++) {
		const struct pp_kv *h = &headers[i];

		if (is_reserved(h->name))
			continue;
		/* An Accept whose first value is empty removes Accept altogether. */
		if (accept && !*kv_value(accept) && eq_nocase(h->name, "accept"))
			continue;
		put_canonical(&b, h->name);
		put_str(&b, ": ");
		put_trimmed(&b, kv_value(h));
		put_str(&b, "\r\n");
	}
	if (!accept)
		put_str(&b, "Accept: */*\r\n");
	put_str(&b, "Connection: close\r\n\r\n");
	return sbuf_result(&b);
}

int pp_http_format_host(char *buf, size_t size, const char *host, int port)
{
	struct sbuf b = {.buf = buf, .size = size};
	char digits[8];
	int n = 0;

	if (!host || !*host || port < 1 || port > 65535)
		return -EINVAL;
	if (!size)
		return -ENOSPC;
	buf[0] = '\0';
	for (; port; port /= 10)
		digits[n++] = (char)('0' + port % 10);

	if (strchr(host, ':') && host[0] != '[') {
		put_char(&b, '[');
		put_str(&b, host);
		put_char(&b, ']');
	} else {
		put_str(&b, host);
	}
	put_char(&b, ':');
	while (n)
		put_char(&b, digits[--n]);
	return sbuf_result(&b);
}

/* ---- redirects --------------------------------------------------------------------------- */

static int default_port(const char *scheme)
{
	return scheme[4] == 's' ? 443 : 80;
}

/* "http" or "https" in <out>, from <s> of <n> bytes in any case; false for anything else. */
static bool parse_scheme(const char *s, size_t n, char out[8])
{
	if (n < 4 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)lower((unsigned char)s[i]);
	out[n] = '\0';
	return !strcmp(out, "http") || !strcmp(out, "https");
}

static bool is_alnum(int c)
{
	return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z');
}

/* RFC 3986 reg-name and IPv4 bytes (unreserved, sub-delims, percent-encoding). */
static bool is_host_char(int c)
{
	return is_alnum(c) || (c && strchr("-._~%!$&'()*+,;=", c));
}

/* RFC 3986 scheme bytes after the first letter. */
static bool is_scheme_char(int c)
{
	return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/*
 * Parse the authority <a> (<n> bytes, "[userinfo@]host[:port]") into <t>'s host and port,
 * with <def_port> for an absent or empty port, as Go's url.Parse.
 */
static int parse_authority(const char *a, size_t n, int def_port, struct pp_http_target *t)
{
	const char *end = a + n, *host, *host_end, *at;
	int port = 0;

	at = memrchr(a, '@', n);
	if (at)
		a = at + 1;
	if (a < end && *a == '[') {
		host = a + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return -EINVAL;
		/* IPv6, IPvFuture or a zone ("fe80::1%25eth0") */
		for (const char *s = host; s < host_end; s++)
			if (*s != ':' && !is_host_char((unsigned char)*s))
				return -EINVAL;
		if (!memchr(host, ':', (size_t)(host_end - host)))
			return -EINVAL;
		a = host_end + 1;
	} else {
		host = a;
		while (a < end && *a != ':') {
			if (!is_host_char((unsigned char)*a))
				return -EINVAL;
			a++;
		}
		host_end = a;
	}
	if (host_end == host)
		return -EINVAL;
	if ((size_t)(host_end - host) >= sizeof(t->host))
		return -ENAMETOOLONG;

	if (a < end) {
		if (*a++ != ':')
			return -EINVAL;
		if (a == end)
			port = def_port;
		for (; a < end; a++) {
			if (!is_digit(*a))
				return -EINVAL;
			port = port * 10 + (*a - '0');
			if (port > 65535)
				return -EINVAL;
		}
		if (!port)
			return -EINVAL;
	} else {
		port = def_port;
	}
	memcpy(t->host, host, (size_t)(host_end - host));
	t->host[host_end - host] = '\0';
	t->port = port;
	return 0;
}

/*
 * RFC 3986 §5.2.4 on <in> (<n> bytes, starting with '/') into <out>, which has room for n + 1
 * bytes: the result is never longer than the input.
 */
static void remove_dot_segments(char *out, const char *in, size_t n)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t j = i + 1, seg;
		bool last;

		while (j < n && in[j] != '/')
			j++;
		seg = j - i - 1;
		last = j == n;
		if (seg == 1 && in[i + 1] == '.') {
			if (last)
				out[o++] = '/';
		} else if (seg == 2 && in[i + 1] == '.' && in[i + 2] == '.') {
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			if (last)
				out[o++] = '/';
		} else {
			memcpy(out + o, in + i, seg + 1);
			o += seg + 1;
		}
		i = j;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
}

int pp_http_resolve_redirect(const char *base_scheme, const char *base_host, int base_port,
			     const char *base_path, const char *location,
			     struct pp_http_target *ret_target)
{
	struct pp_http_target t;
	char merged[PP_HTTP_PATH_MAX];
	const char *ref = location, *ref_end, *path, *query = NULL, *s;
	size_t path_len, query_len = 0, n;
	int err;

	if (!base_scheme || !base_host || !location ||
	    !parse_scheme(base_scheme, strlen(base_scheme), t.scheme))
		return -EINVAL;
	if (!base_path || *base_path != '/')
		base_path = "/";
	for (s = location; *s; s++)
		if (is_ctl((unsigned char)*s))
			return -EINVAL;
	ref_end = strchr(location, '#');
	if (!ref_end)
		ref_end = location + strlen(location);

	/* A scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':'. */
	s = ref;
	if (s < ref_end && !is_digit(*s))
		while (s < ref_end && is_scheme_char((unsigned char)*s))
			s++;
	if (s > ref && s < ref_end && *s == ':') {
		if (!parse_scheme(ref, (size_t)(s - ref), t.scheme))
			return -EINVAL;
		ref = s + 1;
		/* "http:x" is a valid reference, but no server means it: refuse it. */
		if (ref_end - ref < 2 || ref[0] != '/' || ref[1] != '/')
			return -EINVAL;
	}

	if (ref_end - ref >= 2 && ref[0] == '/' && ref[1] == '/') {
		ref += 2;
		for (s = ref; s < ref_end && *s != '/' && *s != '?'; s++)
			;
		err = parse_authority(ref, (size_t)(s - ref), default_port(t.scheme), &t);
		if (err)
			return err;
		ref = s;
	} else {
		n = strlen(base_host);
		if (!n || n >= sizeof(t.host))
			return n ? -ENAMETOOLONG : -EINVAL;
		memcpy(t.host, base_host, n + 1);
		t.port = base_port;
	}

	path = ref;
	for (s = ref; s < ref_end && *s != '?'; s++)
		;
	path_len = (size_t)(s - ref);
	if (s < ref_end) {
		query = s;
		query_len = (size_t)(ref_end - s);
	}

	if (!path_len && ref == location) {
		/* "?q" or "": the base path, with the base query only when no query is given. */
		path = base_path;
		path_len = strcspn(base_path, "?");
		if (!query && base_path[path_len]) {
			query = base_path + path_len;
			query_len = strlen(query);
		}
	} else if (!path_len) {
		/* "http://h" or "//h?q": the root. */
		path = "/";
		path_len = 1;
	}

	if (*path != '/') {
		/* Relative: the base path's directory, then the reference. */
		size_t dir = strcspn(base_path, "?");

		while (dir && base_path[dir - 1] != '/')
			dir--;
		if (dir + path_len >= sizeof(merged))
			return -ENAMETOOLONG;
		memcpy(merged, base_path, dir);
		memcpy(merged + dir, path, path_len);
		path = merged;
		path_len += dir;
	} else if (path_len >= sizeof(merged)) {
		return -ENAMETOOLONG;
	}

	/* The output is never longer than the input, which fits <merged>, and t.path is as big. */
	remove_dot_segments(t.path, path, path_len);
	n = strlen(t.path);
	if (n + query_len >= sizeof(t.path))
		return -ENAMETOOLONG;
	if (query_len)
		memcpy(t.path + n, query, query_len);
	t.path[n + query_len] = '\0';

	*ret_target = t;
	return 0;
}

bool pp_http_same_host(const char *a, const char *b)
{
	return a && b && eq_nocase(a, b);
}

/* Go's net/http StatusText: what kubelet prints and Go servers (the apiserver) send. */
const char *pp_http_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "Request Entity Too Large";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 421:
		return "Misdirected Request";
	case 422:
		return "Unprocessable Entity";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}
