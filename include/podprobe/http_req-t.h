/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the API server's HTTP/1.1 request parser (user/core/http_req.c): incremental, so a
 * request can arrive in any number of pieces, and bounded (RFC 9112 message syntax; the limits
 * are the server's, not the RFC's).
 */
#ifndef PODPROBE_HTTP_REQ_T_H
#define PODPROBE_HTTP_REQ_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_HTTP_REQ_MAX_HEAD	(64u << 10) /* request line + headers */
#define PP_HTTP_REQ_MAX_BODY	(3u << 20)  /* the apiserver's default MaxRequestBodyBytes */
#define PP_HTTP_REQ_MAX_HEADERS 100

enum pp_http_method {
	PP_HTTP_GET = 0,
	PP_HTTP_HEAD,
	PP_HTTP_POST,
	PP_HTTP_PUT,
	PP_HTTP_PATCH,
	PP_HTTP_DELETE,
	PP_HTTP_OPTIONS,
	PP_HTTP_OTHER, /* a valid token the server does not serve (405) */
	_PP_HTTP_METHOD_MAX,
};

/* One header as received: name and value point into the request's own buffer. */
struct pp_http_hdr {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* leading/trailing whitespace removed, NUL-terminated */
};

/*
 * A request being parsed. pp_http_req_init() sets it up; pp_http_req_feed() takes bytes until
 * <complete> (or an error); the fields above "private" are then valid and read-only, and
 * point into memory the parser owns until pp_http_req_reset() / pp_http_req_fini().
 */
struct pp_http_req {
	enum pp_http_method method;
	const char *method_str; /* as sent */
	const char *path;	/* request target up to '?', still percent-encoded */
	const char *query;	/* after '?', "" when none; still percent-encoded */
	struct pp_http_hdr *headers;
	size_t n_headers;
	const char *body; /* Content-Length or de-chunked body, NUL-terminated; "" when none */
	size_t body_len;
	bool keep_alive;      /* HTTP/1.1 without "Connection: close" (or 1.0 with keep-alive) */
	bool expect_continue; /* "Expect: 100-continue" with a body still to come */
	bool complete;
	int status;	   /* on failure: the HTTP status to answer (400, 413, 431, 501...) */
	const char *error; /* on failure: static text saying why */

	/* private */
	char *buf; /* head + body bytes as received, grown up to the limits */
	size_t len, cap;
	size_t head_len; /* bytes of the head once parsed, 0 before */
	size_t max_head, max_body;
	uint64_t need; /* body bytes still expected (Content-Length or current chunk) */
	uint8_t state;
	bool chunked;
	size_t body_start; /* where the (de-chunked) body begins in buf */
	size_t scan;	   /* head: start of the current line; body: bytes of the current line */
	size_t trailer;	   /* trailer bytes so far (they count against max_head) */
	struct pp_http_hdr hdr_store[PP_HTTP_REQ_MAX_HEADERS]; /* <headers> points here */
};

#endif
