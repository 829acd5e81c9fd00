/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the probe engine: the attempt record shared by the engine and the handlers. */
#ifndef PODPROBE_PROBER_INT_H
#define PODPROBE_PROBER_INT_H

#include <stdarg.h>

#include "podprobe/prober.h"
#include "podprobe/sched-t.h"

struct attempt;

#define PP_ATTEMPT_MAX_OPS 4 /* loop operations one attempt may have in flight */

struct handler_ops {
	/*
	 * Begin the attempt: returns 0, or -errno (the engine reports it). An error return leaves
	 * no loop operation in flight: queue operations last.
	 */
	int (*start)(struct attempt *a);
	/* The deadline passed: the handler reports (pp_attempt_finish) with its timeout text. */
	void (*timeout)(struct attempt *a);
	/*
	 * The attempt ends: stop what the handler started (kill an exec process) and write the
	 * ids of its loop operations still in flight, besides a->op, into <ids>; returns how
	 * many (at most PP_ATTEMPT_MAX_OPS - 1). NULL when a->op is all there is.
	 */
	unsigned int (*retire)(struct attempt *a, uint64_t *ids);
	/*
	 * Free handler state (a->proto) and close its fds. Runs once, after the final completion
	 * of every operation of the attempt (loop.h's ownership rule), so the kernel no longer
	 * touches its buffers. It must not use the loop: at shutdown it runs from pp_loop_free().
	 */
	void (*cleanup)(struct attempt *a);
	/* A time the handler asked for (pp_attempt_tick_at) came, before the deadline. */
	void (*tick)(struct attempt *a, pp_nsec now);
};

struct attempt {
	struct pp_prober *pr; /* NULL once pp_prober_free() left a retiring attempt to the loop */
	uint32_t idx;
	uint32_t gen;
	const struct pp_probe_target *t;
	const struct handler_ops *ops;
	pp_probe_done_fn fn;
	void *ctx;
	pp_nsec start;
	pp_nsec deadline;
	pp_nsec timeout;
	int fd;		     /* socket, -1 = none */
	uint64_t op;	     /* loop operation in flight on fd, 0 = none */
	uint64_t close_op;   /* a direct chain's close (pp_loop_connect_direct), 0 = none */
	bool reported;	     /* the report went out; only clean-up is left */
	bool retiring;	     /* ended; released once the kernel is done with its operations */
	int start_err;	     /* the start failed (-errno): report it next pass */
	char start_msg[200]; /* ...with this text when set */
	void *proto;	     /* handler state */
	uint32_t syn_flow;   /* tcpSocket by raw SYN: its flow + 1, 0 = none (probe_syn.c) */
	struct pp_tcp_sock *tcp_sock; /* a pooled socket lent to a->fd, NULL = none */
};

struct pp_loop *pp_attempt_loop(const struct attempt *a);

/*
 * Report <result> with a message from <fmt> (nothing when already reported) and release the
 * attempt unless <keep> (an exec process still has to be reaped: the handler calls
 * pp_attempt_release later).
 */
void pp_attempt_finish(struct attempt *a, enum pp_probe_result result, int http_status,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pp_attempt_report(struct attempt *a, enum pp_probe_result result, int http_status,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pp_attempt_release(struct attempt *a);

/*
 * Direct descriptors the engine registers for tcpSocket chains (attempt slot i uses
 * descriptor i): at most this many, and never more than RLIMIT_NOFILE allows.
 */
#define PP_PROBER_DIRECT_FILES 4096

/* The direct descriptor of <a> (its slot index), or -1 when it has to use a plain fd. */
int pp_attempt_direct_file(struct attempt *a);

/*
 * Idle keep-alive connections (pp_probe_target.keepalive) by address: take one for <addr> (its
 * fd and when it was parked, or -1 when none is), or park <fd> after a complete response (the
 * engine closes it when PP_KEEPALIVE_PER_ADDR are parked already, or after PP_KEEPALIVE_IDLE
 * unused). Any connection to an address serves any target there; the targets of one address
 * (a pod's liveness and readiness on one port, pods behind one host port) whose attempts
 * overlap each park their own, so each keeps one connection, as the annotation says, instead
 * of reconnecting whenever another attempt holds the address's only one.
 */
#define PP_KEEPALIVE_IDLE     (90 * PP_NSEC_PER_SEC) /* Go's http.DefaultTransport IdleConnTimeout */
#define PP_KEEPALIVE_PER_ADDR 16
int pp_prober_conn_take(struct pp_prober *pr, const struct sockaddr_storage *addr, unsigned int len,
			pp_nsec *ret_since);
void pp_prober_conn_park(struct pp_prober *pr, const struct sockaddr_storage *addr,
			 unsigned int len, int fd);
struct pp_prober *pp_attempt_prober(const struct attempt *a);

/* Run <a>'s handler tick at <when> (before its deadline). */
void pp_attempt_tick_at(struct attempt *a, pp_nsec when);

/*
 * tcpSocket by raw SYN (probe_syn.c): start <a> on that path when it may take it (the
 * prober's engine is set up on first use): 0, or -errno when it is off, unavailable or not
 * for this target, and <a> connects instead (one log line per reason). The engine of a
 * started one is pp_attempt_syn_engine(a).
 */
struct pp_syn;
int pp_attempt_syn_start(struct attempt *a);
struct pp_syn *pp_attempt_syn_engine(const struct attempt *a);

/* <n_sent> counts the SYNs sent; <ret_what> names the step that failed. */
int pp_syn_new(struct pp_loop *loop, uint64_t *n_sent, struct pp_syn **ret, const char **ret_what);
void pp_syn_free(struct pp_syn *s);
/* 0, or -errno: nothing was queued and the attempt takes connect(). */
int pp_syn_start(struct pp_syn *s, struct attempt *a);
void pp_syn_tick(struct pp_syn *s, struct attempt *a, pp_nsec now);
/* The attempt ended: its flow no longer reports, and its 4-tuple rests before reuse. */
void pp_syn_retire(struct pp_syn *s, struct attempt *a);
void pp_syn_ports(const struct pp_syn *s, unsigned int *ret_min, unsigned int *ret_max,
		  unsigned int *ret_n);

/*
 * Pooled client sockets of tcpSocket and httpGet attempts, one per attempt in flight at most
 * (and at most PP_TCP_POOL_MAX, or a quarter of RLIMIT_NOFILE): lend one to <a> as a->fd (0), or
 * -errno when the pool is off (PODPROBE_NO_TCP_POOL=1), full of sockets in use, or no socket can
 * be made; <a> then takes a socket of its own. A socket that goes back once the attempt's
 * operations have all completed is reset with connect(AF_UNSPEC) (tcp_disconnect(): RST when
 * it got connected, whatever the server sent, no FIN, no TIME_WAIT: what close() with a zero
 * linger does) and reused; one whose reset fails is closed. Its options are set once: SO_LINGER
 * 0, and with <hold_ack> TCP_DEFER_ACCEPT (so the handshake's last ACK is held back, as
 * TCP_QUICKACK 0 does for a fresh socket; tcp_disconnect() clears that one, not this one): a
 * tcpSocket attempt unless t->full_handshake. Each kind (family, hold_ack) has its own idle
 * list; a full pool closes an idle socket of another kind to make one of this kind.
 * 4096, the attempts podprobe run and watch have in flight at most (MAX_PROBES_IN_FLIGHT): 10 ms
 * of coalescing at 5,000 probes/s lends about 50, but a prober behind its schedule (bursts,
 * saturation) has thousands of connections open at once, and each one beyond the pool cost a
 * socket(2) and a close. Idle sockets beyond the most in use at once in the last
 * PP_TCP_POOL_TRIM are closed (pp_prober_run_expired()), so a burst's do not stay. Idle fds cost
 * a container's spawn nothing (runtime.c starts it with a private table).
 */
#define PP_TCP_POOL_MAX 4096
struct pp_tcp_sock;
int pp_attempt_pooled_socket(struct attempt *a, bool hold_ack);

/*
 * Give up <a>'s socket while no operation of <a> is in flight on it (a redirect's next hop, a
 * retry): a pooled one goes back to the pool (reset), another is closed. a->fd is -1 after.
 */
void pp_attempt_socket_drop(struct attempt *a);

/* A socket for t->addr: CLOEXEC, SO_LINGER 0 (close sends RST: no TIME_WAIT). -errno on error. */
int pp_attempt_socket(struct attempt *a);

/* Go's spelling of an errno ("connection refused"); resource errors make Unknown results. */
const char *pp_errno_text(int err, char *buf, size_t size);
bool pp_errno_is_resource(int err);

/* "host:port" with IPv6 brackets. */
void pp_target_hostport(const struct pp_probe_target *t, char *buf, size_t size);

extern const struct handler_ops pp_probe_tcp_ops;
extern const struct handler_ops pp_probe_exec_ops;
extern const struct handler_ops pp_probe_http_ops;
extern const struct handler_ops pp_probe_grpc_ops;

#endif
