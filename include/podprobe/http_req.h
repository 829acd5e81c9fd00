/* SPDX-License-Identifier: Apache-2.0 */
/* The API server's HTTP/1.1 request parser, pure and incremental. */
#ifndef PODPROBE_HTTP_REQ_H
#define PODPROBE_HTTP_REQ_H

#include "podprobe/http_req-t.h"

/* Set up <r> with the limits (0 = PP_HTTP_REQ_MAX_HEAD / PP_HTTP_REQ_MAX_BODY). */
void pp_http_req_init(struct pp_http_req *r, size_t max_head, size_t max_body);

/*
 * Feed <len> bytes. Returns the number of bytes consumed (less than <len> once the request is
 * complete: the rest belongs to the next, pipelined request), -EAGAIN never (0 consumed is
 * possible only for len == 0), -ENOMEM, or -EINVAL / -EMSGSIZE for a request that cannot be
 * served: then r->status and r->error say what to answer (400, 413 Payload Too Large, 431,
 * 501 for a Transfer-Encoding other than chunked...) and the connection must be closed after.
 * Both ends are sticky: once complete, a feed takes nothing (0) until pp_http_req_reset(); after
 * an error every feed returns the same error. r->head_len > 0 tells that the head is in while
 * the body is still to come; r->expect_continue then says the client waits for "100 Continue".
 */
int pp_http_req_feed(struct pp_http_req *r, const char *data, size_t len);

/* Ready <r> for the next request on the same connection (memory kept for reuse). */
void pp_http_req_reset(struct pp_http_req *r);
void pp_http_req_fini(struct pp_http_req *r);

/* The value of header <name> (case-insensitive; the first one), or NULL. */
const char *pp_http_req_header(const struct pp_http_req *r, const char *name);

/*
 * Query parameter <name> of <query> ("a=1&b=x%3Dy"), percent- and '+'-decoded into <buf>.
 * Returns its length, -ENOENT when absent, -ENOSPC when it does not fit, -EINVAL for a bad
 * escape or a %00 (values are C strings). A parameter without '=' has the value "". The
 * first occurrence of <name> wins.
 */
int pp_http_query_get(const char *query, const char *name, char *buf, size_t size);

/* Percent-decode <len> bytes of <s> into <buf> (a path segment). Same returns as above. */
int pp_http_unescape(const char *s, size_t len, char *buf, size_t size);

#endif
