/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records that cross the kernel boundary: events in the BPF ring buffer and the values of
 * the maps userspace reads or fills. Shared by the bpf/ programs and user/io/signals.c
 * (house style §5): no includes, so the BPF side includes vmlinux.h first and userspace
 * <linux/types.h>.
 * Fixed-width types, largest fields first, explicit padding, sizes in multiples of 8. Both
 * sides compile the _Static_asserts at the end, so a layout drift breaks whichever build
 * changed.
 */
#ifndef PODPROBE_ABI_EVENTS_H
#define PODPROBE_ABI_EVENTS_H

/*
 * Bumped whenever a record below changes; userspace drops events of another version.
 * 2: EXIT records only for the whole process (flags), ACCEPTS with per-listener counters.
 */
#define PP_EV_ABI_VERSION 2

#define PP_EV_COMM_LEN 16

/* Sizes of the shared maps (both programs declare them; the loader reuses one set). */
#define PP_EV_RINGBUF_BYTES    (256 * 1024)
#define PP_EV_MAX_TGIDS	       8192
#define PP_EV_MAX_CGROUPS      1024
#define PP_EV_MAX_ACCEPT_PORTS 4096 /* listen_ports: listeners whose port is remembered */
/* tracked_ports: a bit per TCP port, in 64-bit words; every port can be tracked. */
#define PP_EV_PORT_WORDS (65536 / 64)
/* ports: a port's listener and counters, an array indexed by port (3.5 MiB). */
#define PP_EV_MAX_PORTS 65536

/* How many cgroup levels below the root a tracked cgroup's descendants are matched at. */
#define PP_EV_CGROUP_MAX_DEPTH 16

/* pp_ev_hdr.type. Stored in a __u32. */
enum pp_ev_type {
	PP_EV_NONE = 0, /* never sent */
	PP_EV_EXIT,	/* struct pp_ev_exit: a task of a tracked process exited */
	PP_EV_OOM,	/* struct pp_ev_oom: the OOM killer chose a tracked victim */
	PP_EV_LISTEN,	/* struct pp_ev_sock: a TCP socket entered LISTEN */
	PP_EV_UNLISTEN, /* struct pp_ev_sock: a TCP socket left LISTEN */
	PP_EV_ACCEPTS,	/* struct pp_ev_sock: connections completed on a tracked port */
	_PP_EV_MAX,
};

/* pp_ev_exit.flags */
enum pp_ev_exit_flags {
	PP_EV_EXIT_LEADER = 1u << 0,	 /* the thread-group leader (pid == tgid) exited */
	PP_EV_EXIT_GROUP_DEAD = 1u << 1, /* the last thread: the whole process is gone */
};

/* pp_ev_sock.flags */
enum pp_ev_sock_flags {
	PP_EV_SOCK_QUEUE = 1u << 0, /* backlog, max_backlog, established sample a known listener */
};

/* Every ring buffer record begins with this. */
struct pp_ev_hdr {
	__u64 ts_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, compares with pp_nsec */
	__u32 type;    /* enum pp_ev_type */
	__u16 size;    /* sizeof the whole record */
	__u16 version; /* PP_EV_ABI_VERSION */
};

/* PP_EV_EXIT, from tp_btf/sched_process_exit in the exiting task's context. */
struct pp_ev_exit {
	struct pp_ev_hdr hdr;
	__u64 cgroup_id; /* cgroup v2 id of the task (inode number of its directory) */
	__u32 pid;	 /* thread id */
	__u32 tgid;	 /* process id */
	__u32 ppid;	 /* tgid of the real parent */
	__u32 exit_code; /* wait(2) status, decoded in userspace: the process's with
			  * GROUP_DEAD (as wait would report it), else the thread's */
	__u32 flags;	 /* enum pp_ev_exit_flags */
	__u32 pad;
	char comm[PP_EV_COMM_LEN];
};

/* PP_EV_OOM, from tp_btf/mark_victim (the OOM killer's context, not the victim's). */
struct pp_ev_oom {
	struct pp_ev_hdr hdr;
	__u64 cgroup_id; /* the victim's cgroup v2 id; 0 when unknown (old tracepoint) */
	__u32 pid;	 /* victim thread */
	__u32 tgid;	 /* victim process; 0 when unknown */
	__u32 uid;	 /* victim's uid; (__u32)-1 when unknown */
	__u32 pad;
	char comm[PP_EV_COMM_LEN]; /* the victim's; empty when unknown */
};

/*
 * PP_EV_LISTEN / PP_EV_UNLISTEN / PP_EV_ACCEPTS, from tp_btf/inet_sock_set_state. For LISTEN
 * and UNLISTEN the task fields describe the caller of listen()/close(); ACCEPTS is raised in
 * softirq context or by another socket, so they are 0 there.
 *
 * ACCEPTS is a sample of the listener on <port> taken when one of its connections is
 * established, when the server closes a connection it accepted, or when a local client
 * connects to the port; <oldstate>/<newstate> are that socket's. The listener has accepted
 * established - backlog connections at that moment (the new connection of an ESTABLISHED
 * sample is counted in both).
 */
struct pp_ev_sock {
	struct pp_ev_hdr hdr;
	__u64 cookie;	   /* the listener's socket cookie (SO_COOKIE); 0 = unknown */
	__u64 cgroup_id;   /* of the calling task; 0 for ACCEPTS */
	__u64 accepts;	   /* ACCEPTS: connections established on <port> since it was tracked */
	__u64 established; /* ACCEPTS, UNLISTEN: connections the listener completed since listen()
			    */
	__u32 tgid;	   /* of the calling task; 0 for ACCEPTS */
	__u32 backlog;	   /* the listener's sk_ack_backlog (accept queue length) */
	__u32 max_backlog; /* the listener's sk_max_ack_backlog */
	__u32 flags;	   /* enum pp_ev_sock_flags */
	__u16 family;	   /* AF_INET or AF_INET6 */
	__u16 port;	   /* local port of the listener, host byte order */
	__u8 addr_be[16];  /* local address, network byte order (4 bytes used for AF_INET) */
	__u8 oldstate;	   /* TCP_* of the kernel (TCP_LISTEN = 10) */
	__u8 newstate;
	__u8 pad[2];
	char comm[PP_EV_COMM_LEN]; /* of the calling task; empty for ACCEPTS */
};

/*
 * Values of the ports map (key: __u32 port, host byte order): what one lookup per TCP state
 * change needs. The listener is the latest seen on the port (<sk> 0 = none known), so that a
 * sample can carry its accept queue; <sk> is only ever read with bpf_probe_read_kernel().
 */
struct pp_ev_port {
	__u64 accepts;	       /* SYN_RECV -> ESTABLISHED transitions since the program loaded */
	__u64 last_ns;	       /* CLOCK_MONOTONIC of the latest */
	__u64 emitted_ns;      /* CLOCK_MONOTONIC of the latest PP_EV_ACCEPTS record */
	__u64 sk;	       /* the listener's struct sock, 0 = none known */
	__u64 cookie;	       /* its socket cookie */
	__u64 established;     /* its connections that reached ESTABLISHED since listen() */
	__u32 emitted_backlog; /* the backlog the latest record carried */
	__u32 pad;
};

_Static_assert(sizeof(struct pp_ev_hdr) == 16, "pp_ev_hdr layout");
_Static_assert(sizeof(struct pp_ev_exit) == 64, "pp_ev_exit layout");
_Static_assert(__builtin_offsetof(struct pp_ev_exit, cgroup_id) == 16, "pp_ev_exit layout");
_Static_assert(__builtin_offsetof(struct pp_ev_exit, exit_code) == 36, "pp_ev_exit layout");
_Static_assert(__builtin_offsetof(struct pp_ev_exit, comm) == 48, "pp_ev_exit layout");
_Static_assert(sizeof(struct pp_ev_oom) == 56, "pp_ev_oom layout");
_Static_assert(__builtin_offsetof(struct pp_ev_oom, comm) == 40, "pp_ev_oom layout");
_Static_assert(sizeof(struct pp_ev_sock) == 104, "pp_ev_sock layout");
_Static_assert(sizeof(struct pp_ev_port) == 56, "pp_ev_port layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, established) == 40, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, tgid) == 48, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, flags) == 60, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, port) == 66, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, addr_be) == 68, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_sock, comm) == 88, "pp_ev_sock layout");
_Static_assert(__builtin_offsetof(struct pp_ev_port, sk) == 24, "pp_ev_port layout");

#endif
