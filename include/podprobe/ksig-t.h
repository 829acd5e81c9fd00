/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel signals, decoded: what bpf/exits.bpf.c and bpf/sockets.bpf.c report, as userspace
 * sees it (struct pp_ksig). The raw records are in podprobe/abi/events.h; pp_ksig_decode()
 * turns one into the other.
 */
#ifndef PODPROBE_KSIG_T_H
#define PODPROBE_KSIG_T_H

#include <stdbool.h>
#include <stdint.h>

#include "podprobe/time-t.h"

enum pp_ksig_kind {
	PP_KSIG_EXIT = 0, /* a tracked process (or, with <threads>, thread) exited */
	PP_KSIG_OOM,	  /* the OOM killer chose a tracked victim (its EXIT follows) */
	PP_KSIG_LISTEN,	  /* a TCP socket started listening */
	PP_KSIG_UNLISTEN, /* a TCP listener was closed */
	PP_KSIG_ACCEPTS,  /* a sample of a tracked port's listener and its connections */
	_PP_KSIG_MAX,
};

/*
 * One kernel event, decoded. Fields not listed for a kind are 0.
 *
 * EXIT: one record per process, when its last thread exits (<group_dead>; <leader> too when
 * that thread is the main one), with the exit code or signal wait(2) will report for the
 * process. A main thread that ends with pthread_exit() while others run on gives no record.
 * With <threads>, every other thread's exit is reported too, without <group_dead> and with
 * that thread's own code.
 *
 * ACCEPTS: a sample of the listener on <port> (see bpf/sockets.bpf.c for when). With
 * <queue_known>, <backlog> connections wait in its accept queue and <accepted> of the
 * <established> it completed since listen() were taken by accept(), all at time <ts>.
 */
struct pp_ksig {
	enum pp_ksig_kind kind;
	pp_nsec ts;	    /* when the kernel saw it (CLOCK_MONOTONIC) */
	uint32_t pid;	    /* EXIT, OOM: thread id */
	uint32_t tgid;	    /* EXIT, OOM, LISTEN, UNLISTEN: process id */
	uint32_t ppid;	    /* EXIT: parent's tgid */
	uint64_t cgroup_id; /* EXIT, OOM, LISTEN, UNLISTEN: cgroup v2 id (0 = unknown) */
	char comm[16];	    /* EXIT, OOM, LISTEN, UNLISTEN: task name */
	int exit_code;	    /* EXIT: 0..255 when it exited, -1 when a signal killed it */
	int signal;	    /* EXIT: the killing signal, 0 when it exited */
	bool core_dumped;   /* EXIT: the signal dumped core */
	bool leader;	    /* EXIT: the exiting thread is the thread-group leader (pid == tgid) */
	bool group_dead;    /* EXIT: the last thread exited: the process is gone */
	uint32_t uid;	    /* OOM: victim's uid, UINT32_MAX when unknown */
	int family;	    /* LISTEN, UNLISTEN, ACCEPTS: AF_INET or AF_INET6 */
	uint16_t port;	    /* LISTEN, UNLISTEN, ACCEPTS: local port of the listener */
	uint8_t addr[16];   /* LISTEN, UNLISTEN, ACCEPTS: local address, network order */
	int oldstate;	    /* LISTEN, UNLISTEN, ACCEPTS: kernel TCP states; ACCEPTS: of the
			     * socket whose change took the sample */
	int newstate;
	uint64_t cookie;      /* LISTEN, UNLISTEN: the listener's SO_COOKIE; ACCEPTS: the
			       * latest listener's on <port> (0 = unknown) */
	uint32_t backlog;     /* LISTEN, UNLISTEN, ACCEPTS: the listener's accept queue */
	uint32_t max_backlog; /* LISTEN, UNLISTEN, ACCEPTS: its limit (listen()'s backlog) */
	uint64_t accepts;     /* ACCEPTS: connections established on <port> since tracked */
	uint64_t established; /* ACCEPTS, UNLISTEN: connections the listener completed */
	uint64_t accepted;    /* ACCEPTS: of those, accepted: established - backlog (>= 0) */
	bool queue_known;     /* LISTEN, UNLISTEN, ACCEPTS: the four above describe the
			       * listener (ACCEPTS: false when it is unknown) */
};

#endif
