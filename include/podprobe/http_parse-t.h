/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the httpGet probe's HTTP/1.x helpers (pkg/probe/http/http.go): an incremental
 * response parser small enough to keep thousands in flight, and the request/redirect targets.
 */
#ifndef PODPROBE_HTTP_PARSE_T_H
#define PODPROBE_HTTP_PARSE_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_HTTP_MAX_HEADER_BYTES 65536 /* default limit of status lines + headers + trailers */
#define PP_HTTP_MAX_BODY_BYTES	 10240 /* body bytes a probe keeps (H-HTTP.5) */
#define PP_HTTP_MAX_REDIRECTS	 10    /* redirects a probe follows (H-HTTP.7) */
#define PP_HTTP_LOCATION_MAX	 2048  /* Location value, NUL included */
#define PP_HTTP_HOST_MAX	 256   /* host name or address, NUL included, no brackets */
#define PP_HTTP_PATH_MAX	 2048  /* path plus query, NUL included */

/*
 * One response being parsed. Set up by pp_http_resp_init(), fed by pp_http_resp_feed() and
 * closed by pp_http_resp_eof(). The result fields are public and read-only to callers; the
 * fields after "parser state" are private. Nothing is allocated: the body goes to the buffer
 * the caller passed to pp_http_resp_init(), which must outlive the parse. The struct is the
 * Location field plus about a hundred bytes.
 */
struct pp_http_resp {
	int status;		 /* status code of the final response, 0 until its line is read */
	bool headers_done;	 /* the final response's headers are complete */
	bool complete;		 /* the whole response is read (or the body limit was reached) */
	bool has_location;	 /* <location> holds a non-empty Location value */
	bool chunked;		 /* Transfer-Encoding named "chunked" */
	int64_t content_length;	 /* Content-Length, -1 when absent or overridden by chunked */
	size_t body_len;	 /* body bytes stored in the caller's buffer */
	const char *error;	 /* static text of the failure, NULL while none */
	size_t max_header_bytes; /* head limit, PP_HTTP_MAX_HEADER_BYTES after init */
	char location[PP_HTTP_LOCATION_MAX]; /* Location value, valid when has_location */

	/* parser state: private */
	char *body;	    /* caller's body buffer */
	size_t body_cap;    /* its size: body bytes past it are dropped */
	size_t head_bytes;  /* head and trailer bytes seen so far, against max_header_bytes */
	uint64_t remaining; /* bytes left of the Content-Length body or the current chunk */
	int64_t cl_val;	    /* Content-Length value being scanned */
	int err;	    /* sticky -errno once failed */
	uint32_t count;	    /* per-state position: version byte, name length, chunk line */
	uint16_t loc_len;   /* Location bytes taken, trailing whitespace included */
	uint16_t loc_end;   /* Location length without trailing whitespace */
	uint8_t state;	    /* enum of http_parse.c */
	uint8_t hdr;	    /* header whose value is being scanned (enum of http_parse.c) */
	uint8_t name_match; /* bitmask of known names still matching the name being read */
	uint8_t cl_state;   /* Content-Length scan: empty, digits, trailing whitespace */
	uint8_t te_match;   /* bytes of "chunked" matched in Transfer-Encoding */
	uint8_t digits;	    /* hex digits of the chunk size */
	bool te_seen;	    /* a Transfer-Encoding header came: framing is not Content-Length */
	bool loc_seen;	    /* a Location header came: later ones are ignored, as Go's Get */
};

/* Where a redirect leads: what pp_http_resolve_redirect() returns. */
struct pp_http_target {
	char scheme[8];		     /* "http" or "https" */
	char host[PP_HTTP_HOST_MAX]; /* name or address, IPv6 without brackets */
	int port;		     /* 1..65535, the scheme's default when not given */
	char path[PP_HTTP_PATH_MAX]; /* absolute path with the query, never empty, no fragment */
};

#endif
