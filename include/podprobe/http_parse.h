/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PODPROBE_HTTP_PARSE_H
#define PODPROBE_HTTP_PARSE_H

#include "podprobe/http_parse-t.h"
#include "podprobe/pod-t.h"

/*
 * Start parsing a response into <r>. The body goes to <body_buf> (<body_cap> bytes, NULL only
 * when <body_cap> is 0), which the caller owns and keeps alive while <r> is used; bytes past
 * <body_cap> are dropped and end the parse as complete (H-HTTP.5). r->max_header_bytes may be
 * lowered after this call and before the first feed.
 */
void pp_http_resp_init(struct pp_http_resp *r, char *body_buf, size_t body_cap);

/*
 * Feed the next <len> bytes of the connection, split anywhere. 1xx interim responses (except
 * 101) are skipped. Returns 0 when more data is needed, 1 once the response is complete (bytes
 * after that are ignored), -EBADMSG on a malformed response or -E2BIG when the status lines,
 * headers and trailers exceed r->max_header_bytes; r->error then holds a static message. The
 * result is sticky: later calls return it again.
 */
int pp_http_resp_feed(struct pp_http_resp *r, const char *data, size_t len);

/*
 * The peer closed the connection. Returns 1 when the response is complete (a body delimited by
 * the close ends here), -EBADMSG with r->error set when the head or a framed body was cut short,
 * or the earlier failure.
 */
int pp_http_resp_eof(struct pp_http_resp *r);

/*
 * For a reader that streams the body: it has consumed the body_len bytes stored so far, which
 * makes room for more (body_len back to 0). To never hit the body limit, such a reader feeds
 * at most body_cap - 1 bytes between two calls.
 */
static inline void pp_http_resp_take_body(struct pp_http_resp *r)
{
	r->body_len = 0;
}

/*
 * Write the probe's GET request (H-HTTP.2) into <buf> of <size> bytes, NUL-terminated.
 * <host_header> is the default Host ("10.0.0.5:8080", see pp_http_format_host()); a non-empty
 * Host in <headers> replaces it. <path> is the request target ("/" when NULL or empty; a
 * fragment is dropped, bytes that cannot appear in a request line are %-escaped). <headers>
 * (<n_headers> entries, NULL values taken as "") are sent in order with canonical names;
 * User-Agent and Accept follow H-HTTP.2 with <user_agent> as the default (NULL or "" for none);
 * Connection, Content-Length, Transfer-Encoding and Trailer entries are dropped because the
 * request always ends with "Connection: close" and has no body. Returns the length without
 * the NUL, -EINVAL for a header name that is not a token or a value or Host holding control
 * bytes (CR/LF injection), -ENOSPC when <buf> is too small (its content is then unspecified).
 */
int pp_http_build_request(char *buf, size_t size, const char *host_header, const char *path,
			  const struct pp_kv *headers, size_t n_headers, const char *user_agent);

/*
 * Write "<host>:<port>" into <buf> of <size> bytes, with brackets around an IPv6 address,
 * as Go's net.JoinHostPort (H-HTTP.1). Returns the length, -EINVAL for a port outside
 * 1..65535 or an empty host, -ENOSPC when <buf> is too small.
 */
int pp_http_format_host(char *buf, size_t size, const char *host, int port);

/*
 * Resolve the Location <location> of a response to the request <base_scheme>://<base_host>:
 * <base_port><base_path> (RFC 3986 §5.2: absolute "http[s]://h[:p]/x", scheme-relative "//h/x",
 * absolute-path "/x?q", relative "x/y" or "?q"; dot segments removed, fragment dropped,
 * userinfo ignored). <base_scheme> is compared case-insensitively. Fills <ret_target> on
 * success only and returns 0; -EINVAL for a scheme other than http/https, a malformed
 * authority or port, or control bytes; -ENAMETOOLONG when the host or path does not fit.
 */
int pp_http_resolve_redirect(const char *base_scheme, const char *base_host, int base_port,
			     const char *base_path, const char *location,
			     struct pp_http_target *ret_target);

/*
 * Do two hostnames name the same host, ignoring ASCII case? A redirect is followed only to the
 * original request's hostname, whatever the port (H-HTTP.7). NULL equals nothing.
 */
bool pp_http_same_host(const char *a, const char *b);

/* The reason phrase of <status> as Go's http.StatusText gives it, or "" when unknown. */
const char *pp_http_status_text(int status);

#endif
