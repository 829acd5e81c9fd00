/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The probe engine: runs probe attempts (tcpSocket, httpGet, exec, gRPC) as small state
 * records on the io_uring loop, each with a deadline kept in the engine's heap. Any number run
 * at once; none blocks; each ends with exactly one report (unless cancelled).
 */
#ifndef PODPROBE_PROBER_H
#define PODPROBE_PROBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "podprobe/pod-t.h"
#include "podprobe/probe-t.h"
#include "podprobe/security-t.h"

struct pp_loop;
struct pp_prober;

#define PP_PROBE_OUTPUT_MAX    10240 /* bytes of body or command output kept (H-HTTP.5, H-EXEC.2) */
#define PP_PROBE_MAX_REDIRECTS 10

/* What to probe. Strings and arrays are borrowed: they must outlive the attempt. */
struct pp_probe_target {
	enum pp_handler_kind kind;
	/* tcpSocket, httpGet, grpc */
	struct sockaddr_storage addr;
	unsigned int addrlen;
	const char *host; /* as written, for messages and the Host header */
	int port;
	bool full_handshake; /* tcpSocket: send the handshake's last ACK (default: RST instead) */
	/* httpGet */
	bool https;
	const char *path; /* NULL = "/" */
	const struct pp_kv *headers;
	size_t n_headers;
	const char *user_agent; /* NULL = kube-probe/1.34 */
	/*
	 * Reuse one HTTP/1.1 connection per target address across attempts (plain http only;
	 * probe.podprobe.io/http-keepalive). Kubelet opens one per probe (kubernetes #15733): so a
	 * reused connection that fails before a response is retried once on a fresh one, within
	 * the same timeout, before anything is counted.
	 */
	bool keepalive;
	/* grpc */
	const char *service; /* NULL = "" */
	/* exec */
	char *const *argv;
	char *const *envp; /* NULL = podprobe's environment */
	const char *working_dir;
	const char *cgroup;		    /* join this cgroup v2 directory, or NULL */
	int mnt_ns_fd;			    /* enter this mount namespace (a pidfd), -1 = none */
	const struct pp_exec_security *sec; /* run as the container (H-EXEC.1), NULL = podprobe */
};

struct pp_probe_report {
	enum pp_probe_result result;
	pp_nsec latency;
	int http_status; /* final HTTP status, 0 = none */
	char message[PP_PROBE_OUTPUT_MAX + 1024];
};

typedef void (*pp_probe_done_fn)(void *ctx, const struct pp_probe_report *rep);

struct pp_prober_stats {
	uint64_t started;
	uint64_t results[_PP_RESULT_MAX];
	uint64_t timeouts;
	uint64_t resource_errors;   /* EMFILE, ENOBUFS, no ephemeral port... (Unknown) */
	unsigned int in_flight;	    /* attempts holding a slot, retiring ones included */
	unsigned int retiring;	    /* ended, waiting for the kernel to finish their operations */
	uint64_t raw_syn;	    /* tcpSocket attempts sent as raw SYNs */
	uint64_t raw_syn_sent;	    /* SYN segments sent, retransmissions included */
	uint64_t raw_syn_fallbacks; /* tcpSocket attempts that took connect() instead */
};

int pp_prober_new(struct pp_loop *loop, struct pp_prober **ret);

/* Cancel every attempt (no callbacks) and free. Accepts NULL. */
void pp_prober_free(struct pp_prober *pr);

/*
 * Start an attempt on <t> with <timeout>; <fn>(<ctx>, report) runs once when it ends, never
 * from inside this call. Returns 0 and an id for pp_prober_cancel() in <ret_id>, or -errno.
 */
int pp_prober_start(struct pp_prober *pr, const struct pp_probe_target *t, pp_nsec timeout,
		    pp_probe_done_fn fn, void *ctx, uint64_t *ret_id);

/* Cancel attempt <id>: its callback will not run. Unknown or finished ids are ignored. */
void pp_prober_cancel(struct pp_prober *pr, uint64_t id);

/* Earliest attempt deadline, or PP_NSEC_INFINITY. */
pp_nsec pp_prober_next_deadline(const struct pp_prober *pr);

/*
 * End the attempts whose deadline is <= <now> (timeouts), and run deferred reports. Every
 * PP_TCP_POOL_TRIM it also closes the idle pooled client sockets beyond the most that were in
 * use at once since the last time.
 */
void pp_prober_run_expired(struct pp_prober *pr, pp_nsec now);
#define PP_TCP_POOL_TRIM (60 * PP_NSEC_PER_SEC)

const struct pp_prober_stats *pp_prober_stats(const struct pp_prober *pr);

/*
 * tcpSocket probes as stateless raw SYNs (needs CAP_NET_RAW; IPv4; not for full_handshake
 * targets): on by default unless the environment has PODPROBE_NO_RAW_SYN=1; where it cannot
 * be used an attempt connects as without it. Applies to attempts started from now on.
 */
void pp_prober_set_raw_syn(struct pp_prober *pr, bool on);

/*
 * The raw SYN source ports this prober holds (lowest, highest, how many), for tests;
 * returns false when it has none (off, unavailable or not used yet).
 */
bool pp_prober_raw_syn_ports(const struct pp_prober *pr, unsigned int *ret_min,
			     unsigned int *ret_max, unsigned int *ret_n);

/*
 * Resolve <host> (NULL/"" = 127.0.0.1) and <port> into t->addr. Numeric addresses never block;
 * names go through getaddrinfo (files/DNS), so call this when a container starts, not per
 * attempt. Returns 0 or -errno (-ENOENT for an unknown name).
 */
int pp_probe_target_resolve(struct pp_probe_target *t, const char *host, int port);

#endif
