/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sans-I/O client for one grpc.health.v1.Health/Check call over h2c (plaintext HTTP/2 with
 * prior knowledge), built on nghttp2. It never touches a socket: the caller moves bytes
 * between pp_grpc_health_pending()/pp_grpc_health_consumed() and the socket, feeds what it
 * reads to pp_grpc_health_feed(), and reads the verdict and the kubelet-style probe output
 * (pkg/probe/grpc/grpc.go) from pp_grpc_health_result().
 *
 * Typical loop, one object per probe attempt (one connection, one RPC, then close):
 *
 *	pp_grpc_health_new(...);
 *	on connect, and after every feed: while ((n = pending(g, &p)) > 0) send, consumed(g, sent);
 *	on readable: feed(g, buf, len); on EOF or a socket error: eof(g, 0 or -errno);
 *	on the probe deadline: timeout(g);
 *	once result() != PP_GRPC_PENDING: close the socket, pp_grpc_health_free(g).
 *
 * Link with `pkg-config --libs libnghttp2`.
 */
#ifndef PODPROBE_GRPC_HEALTH_H
#define PODPROBE_GRPC_HEALTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PP_GRPC_SERVICE_MAX  1024 /* longest HealthCheckRequest.service accepted */
#define PP_GRPC_RESPONSE_MAX 4096 /* largest response message accepted (grpc-go allows 4 MiB) */

enum pp_grpc_verdict {
	PP_GRPC_PENDING = 0, /* no result yet */
	PP_GRPC_SERVING,     /* HealthCheckResponse.status == SERVING: probe Success */
	PP_GRPC_UNHEALTHY,   /* any other ServingStatus: Failure */
	PP_GRPC_ERROR,	     /* non-OK grpc-status, HTTP/2 or framing error: Failure */
	PP_GRPC_TIMEOUT,     /* deadline passed (ours, or DEADLINE_EXCEEDED from the server) */
	_PP_GRPC_VERDICT_MAX,
};

struct pp_grpc_health;

/*
 * Create a client for one Check call. <authority> is the ":authority" and the address named in
 * messages ("host:port", IPv6 in brackets); <service> is HealthCheckRequest.service ("" = the
 * whole server); <user_agent> is sent as is (kubelet: "kube-probe/<major>.<minor>"; grpc-go
 * appends " grpc-go/<version>" to it); <timeout_ms> is sent as grpc-timeout and used in timeout
 * messages (0 = no grpc-timeout header). Nothing is sent until pp_grpc_health_pending().
 * Returns 0 and the new object in <ret>, -EINVAL for a NULL or empty <authority>, a NULL
 * <service> or <user_agent>, a value nghttp2 would reject as a header value (CR, LF, NUL, ...),
 * or a <service> longer than PP_GRPC_SERVICE_MAX; -ENOMEM.
 */
int pp_grpc_health_new(const char *authority, const char *service, const char *user_agent,
		       unsigned int timeout_ms, struct pp_grpc_health **ret);

/* Free <g> and its nghttp2 session. Accepts NULL. */
void pp_grpc_health_free(struct pp_grpc_health *g);

/*
 * Bytes to write to the socket now (HTTP/2 preface, SETTINGS, the request, then ACKs and
 * WINDOW_UPDATEs as the server's frames arrive). Sets <ret_data> to them, valid until the next
 * call on <g>, and returns their length; returns 0 when there is nothing to send (then
 * <ret_data> is untouched) and always 0 once the result is known. Call it again after
 * pp_grpc_health_consumed() and after every pp_grpc_health_feed(). Returns -ENOMEM or -EPROTO
 * when nghttp2 fails; the result is then known.
 */
ssize_t pp_grpc_health_pending(struct pp_grpc_health *g, const uint8_t **ret_data);

/* The caller wrote the first <n> of the bytes pending() returned (more than pending is capped). */
void pp_grpc_health_consumed(struct pp_grpc_health *g, size_t n);

/*
 * Feed <len> bytes read from the socket. Returns 0 when more input is needed, 1 when the
 * result is known, or -EPROTO (the peer broke HTTP/2) / -ENOMEM; the result is known then too.
 * Bytes fed after the result is known are ignored.
 */
int pp_grpc_health_feed(struct pp_grpc_health *g, const uint8_t *data, size_t len);

/*
 * The connection ended before the result was known: <err> is 0 when the peer closed it (EOF),
 * or the -errno of a failed recv/send. Records an error result. Returns 1 if the result was
 * already known (nothing changes), otherwise -ECONNRESET.
 */
int pp_grpc_health_eof(struct pp_grpc_health *g, int err);

/*
 * The probe deadline passed. If no result is known yet, records PP_GRPC_TIMEOUT with kubelet's
 * text: `timeout: failed to connect service "<authority>" within <d>: context deadline
 * exceeded` while the server's SETTINGS have not arrived yet (grpc-go's blocking dial is not
 * done until then), `timeout: health rpc did not complete within <d>` after. <d> is
 * <timeout_ms> printed as Go prints a time.Duration ("1s", "1.5s", "1m30s").
 */
void pp_grpc_health_timeout(struct pp_grpc_health *g);

/*
 * The verdict so far. When it is not PP_GRPC_PENDING and <ret_message> is not NULL, sets
 * <ret_message> to the probe output ("service healthy", `service unhealthy (responded with
 * "NOT_SERVING")`, "error: ...", "timeout: ..."), owned by <g>.
 */
enum pp_grpc_verdict pp_grpc_health_result(const struct pp_grpc_health *g,
					   const char **ret_message);

/* "pending", "serving", "unhealthy", "error", "timeout"; "?" for values out of range. */
const char *pp_grpc_verdict_to_string(enum pp_grpc_verdict v);

#endif
