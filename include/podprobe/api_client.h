/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of <state-dir>/api.sock, for podprobe's own commands (get, describe, delete,
 * logs): one blocking HTTP/1.1 request per connection, to a socket trusted only when the
 * process serving it is the live holder of the state directory's lock; and the kubectl
 * printers those commands use (the "Error from server" lines; the Table as `kubectl get`
 * lays it out and a reduced `kubectl describe pod`, whose text the core makes).
 */
#ifndef PODPROBE_API_CLIENT_H
#define PODPROBE_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PP_API_CLIENT_MAX_BODY	 (64u << 20) /* bytes a buffered reply may have */
#define PP_API_CLIENT_TIMEOUT_MS 30000	     /* default bound of one request */

/* What a request came back with. */
struct pp_api_resp {
	int status;	 /* HTTP status code */
	char *body;	 /* NUL-terminated (not counted in len); NULL when streamed */
	size_t len;	 /* bytes of body */
	char ctype[128]; /* Content-Type, "" when none */
};

/*
 * Where a streamed (2xx) body goes as it arrives: <len> bytes at <data>. Return 0 to go on, 1
 * to stop reading (the request then succeeds), or -errno to fail it.
 */
typedef int (*pp_api_sink)(void *ctx, const char *data, size_t len);

/*
 * Connect to <state_dir>/api.sock. The peer (SO_PEERCRED) must be the process that provably
 * holds the state directory's lock (pp_statedir_holder()), so a stale or planted socket is
 * never spoken to: nothing is sent before that check. Returns a connected fd (CLOEXEC), or
 * -ESRCH (no socket, connection refused, or no live lock holder: no run uses <state_dir>),
 * -EPERM (a run holds the lock but another process serves the socket; its pid, when known, in
 * <ret_holder>), -ENAMETOOLONG, or -errno.
 */
int pp_api_client_connect(const char *state_dir, int *ret_holder);

/*
 * Send <method> <target> (path and query, already escaped) with the extra header lines
 * <headers> ("Name: value\r\n"..., may be NULL) and <body> (<body_len> bytes, may be NULL),
 * and read the answer (Content-Length, chunked, or until close) into <ret>. With <sink> a 2xx
 * body goes to <sink> as it arrives instead (chunked encoding removed) and ret->body stays
 * NULL; other statuses are buffered. <timeout_ms> bounds the whole exchange (< 0: no bound,
 * for follow streams). Returns 0 (any HTTP status) or what pp_api_client_connect() returns,
 * -ETIMEDOUT, -EFBIG (a buffered body past PP_API_CLIENT_MAX_BODY), -EPROTO (not HTTP/1.x),
 * -ECONNRESET, or -errno. The caller releases <ret> with pp_api_resp_fini().
 */
int pp_api_request(const char *state_dir, const char *method, const char *target,
		   const char *headers, const char *body, size_t body_len, int timeout_ms,
		   pp_api_sink sink, void *sink_ctx, struct pp_api_resp *ret);

/* Release what <r> holds (NULL and a zeroed one are fine). */
void pp_api_resp_fini(struct pp_api_resp *r);

/*
 * The line kubectl prints for a non-2xx answer <r> to a request on <what> ("get pods web"):
 * "Error from server (NotFound): pods \"web\" not found" from a Status body, or kubectl's texts
 * for a body that is not one (client-go rest/request.go newUnstructuredResponseError). Into
 * <buf>; returns the length (truncated to <size> - 1).
 */
int pp_api_error_line(const struct pp_api_resp *r, const char *what, char *buf, size_t size);

/*
 * Print the meta.k8s.io/v1 Table <table> to <out> as `kubectl get` does: the text of
 * pp_tabwriter_get_table() (podprobe/tabwriter.h), -o wide with <wide>, -A with <namespace>.
 * Returns the number of rows printed, or -EINVAL when <table> is not a Table, -ENOMEM, -EIO
 * (<out> took less than all of it).
 */
int pp_api_print_table(FILE *out, json_t *table, bool wide, bool namespace);

/*
 * Print pod <pod> (a Pod object) and its events <events> (an EventList, may be NULL) to <out>
 * as `kubectl describe pod` does: the text of pp_describe_pod() (podprobe/describe.h), times
 * in the local zone, ages counted from wall time <now_ns> (ns since the epoch). Returns 0, or
 * -EINVAL when <pod> is not an object, -ENOMEM, -EIO.
 */
int pp_api_print_describe(FILE *out, json_t *pod, json_t *events, int64_t now_ns);

#endif
