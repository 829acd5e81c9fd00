/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel signals from eBPF (bpf/exits.bpf.c, bpf/sockets.bpf.c): process exits with their
 * code or signal, OOM kills, TCP listeners opening and closing, and accepted connections, for
 * the processes, cgroups and ports podprobe tracks. They are an assist: the supervisor and
 * the probes work without them (house style §5, failure policy), and use them to react
 * sooner and to explain more.
 *
 * Events reach the caller through the io_uring loop: the BPF ring buffer's epoll fd is polled
 * with pp_loop_poll() and drained with ring_buffer__consume() when ready; no thread.
 *
 * The events are struct pp_ksig (podprobe/ksig-t.h), decoded by the pure pp_ksig_decode().
 * The loader's own types live here rather than in a signals-t.h because nothing else needs
 * them yet.
 */
#ifndef PODPROBE_SIGNALS_H
#define PODPROBE_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/ksig.h"
#include "podprobe/time-t.h"

struct pp_loop;
struct pp_signals;

/* Called for each event, from pp_loop_run_once(). It must not call pp_signals_close(). */
typedef void (*pp_ksig_fn)(void *ctx, const struct pp_ksig *sig);

struct pp_signals_cfg {
	bool trace_all;		 /* no in-kernel filter: every process and port */
	bool threads;		 /* also report the exits of threads other than the last */
	bool libbpf_debug;	 /* pass libbpf's DEBUG messages (verifier logs) to pp_log */
	bool live_fallback;	 /* tests: tell a process's end from signal->live, as on kernels
				  * whose sched_process_exit has no group_dead */
	pp_nsec accept_interval; /* least gap between two ACCEPTS of a port; 0 = 250 ms */
	/*
	 * ACCEPTS records do not wake the loop (until the ring is a quarter full): they are read
	 * at its next wake-up, before its completions. For a caller whose loop wakes often for
	 * its own work (probes); a waking record costs an irq_work, more than the record.
	 * It takes the loop's pp_loop_set_on_wake(): one such pp_signals per loop.
	 */
	bool lazy_samples;
	pp_ksig_fn fn; /* required */
	void *ctx;
};

struct pp_signals_stats {
	uint64_t events;    /* events delivered to the callback */
	uint64_t lost;	    /* events the BPF side dropped on a full ring buffer */
	uint64_t malformed; /* records rejected for a bad size, version or type */
};

struct pp_port_accepts {
	uint64_t accepts; /* connections established since the port was first seen */
	pp_nsec last;	  /* CLOCK_MONOTONIC of the latest, 0 = none */
};

/*
 * Load, configure and attach the BPF programs and start polling their ring buffer on <loop>.
 * <cfg>->fn is required. Optional parts the kernel lacks are left out (see pp_signals_mode()):
 * the OOM tracepoint, or the whole socket program. On success fills <ret> (owned by the
 * caller, freed with pp_signals_close(), which must happen before <loop> is freed) and
 * returns 0. Returns -EINVAL for a bad <cfg>, -ENOENT when the kernel has no BTF, -EPERM
 * without privileges, and other -errno from libbpf or the verifier; for all of these
 * pp_signals_unsupported() tells whether to carry on without BPF.
 */
int pp_signals_open(struct pp_loop *loop, const struct pp_signals_cfg *cfg,
		    struct pp_signals **ret);

/* Detach and free <s> (NULL is fine). Pending events are discarded. */
void pp_signals_close(struct pp_signals *s);

/*
 * Is <err> from pp_signals_open() an "no eBPF on this host" condition (EPERM, ENOSYS,
 * EINVAL, ENOENT, EOPNOTSUPP, E2BIG...) rather than a bug or ENOMEM? The caller then logs
 * one warning ending in ", continuing without eBPF assist".
 */
bool pp_signals_unsupported(int err);

/* A short reason for <err> from pp_signals_open() ("no kernel BTF at ..."); never NULL. */
const char *pp_signals_strerror(int err);

/* What is active, e.g. "exits+oom+sockets" or "exits (sockets: Invalid argument)". */
const char *pp_signals_mode(const struct pp_signals *s);

/* Is <kind> reported on this kernel (its program loaded and attached)? */
bool pp_signals_has(const struct pp_signals *s, enum pp_ksig_kind kind);

/*
 * Start (<on>) or stop tracking process <tgid> (> 0): its exits, OOM kill and listeners are
 * reported. The entry is dropped by the kernel side once the whole process has exited, so
 * a recycled pid is not tracked by accident. Stopping an untracked tgid is not an error.
 * Returns 0, -EINVAL, -E2BIG when PP_EV_MAX_TGIDS are tracked, or -errno.
 */
int pp_signals_track_tgid(struct pp_signals *s, uint32_t tgid, bool on);

/*
 * Start or stop tracking cgroup v2 <cgroup_id> (> 0, see pp_signals_cgroup_id()): every
 * process in it or in a cgroup below it (up to PP_EV_CGROUP_MAX_DEPTH levels from the root)
 * is tracked. Returns 0, -EINVAL, -E2BIG when full, or -errno.
 */
int pp_signals_track_cgroup(struct pp_signals *s, uint64_t cgroup_id, bool on);

/*
 * Start or stop tracking TCP port <port> (1..65535): its listeners are reported whoever opens
 * them, and connections established on it are counted. Every port can be tracked. Returns 0,
 * -EINVAL, -EOPNOTSUPP when the socket program is not loaded, or -errno. Stopping keeps the
 * count.
 */
int pp_signals_track_port(struct pp_signals *s, uint16_t port, bool on);

/* Connections established on <port> so far (zeros when none). Returns 0 or -errno. */
int pp_signals_port_accepts(const struct pp_signals *s, uint16_t port, struct pp_port_accepts *ret);

/*
 * The cgroup v2 id of directory <path> (on a cgroup2 mount), the value the kernel's
 * bpf_get_current_cgroup_id() returns for its processes. Returns 0 and fills <ret_id>,
 * -EMEDIUMTYPE when <path> is not on cgroup2, or -errno.
 */
int pp_signals_cgroup_id(const char *path, uint64_t *ret_id);

/* Counters of <s> into <ret>. Returns 0 or -errno (reading the BPF drop counters). */
int pp_signals_stats(const struct pp_signals *s, struct pp_signals_stats *ret);

/*
 * Deliver the records already in the ring buffer now (their callbacks run from inside this
 * call), without waiting for the loop to poll it: another source about to act on the same
 * event (a pidfd) sees what the kernel said first. Accepts NULL. Returns the number of
 * records delivered, or -errno.
 */
int pp_signals_drain(struct pp_signals *s);

/*
 * The `podprobe signals` command: print kernel events as they happen, one line each (text
 * columns TIME KIND PID TGID COMM CGROUP PORT DETAIL, or JSON lines with <json>), until
 * SIGINT/SIGTERM or <duration_ms> (0 = no limit). Without <all>, only what podprobe tracks:
 * processes in the cgroups of running `podprobe run` daemons (podprobe-<pid> directories of
 * the cgroup v2 tree, rescanned every second) and the ports they listen on. Returns an exit
 * status: EXIT_SUCCESS, or EXIT_FAILURE when eBPF is unavailable (after saying why).
 */
int pp_signals_trace(bool all, bool json, unsigned int duration_ms);

#endif
