// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP listeners of the processes podprobe tracks, and evidence that they serve traffic, from
 * tp_btf/inet_sock_set_state:
 *   CLOSE -> LISTEN        PP_EV_LISTEN    (listen(); caller's context)
 *   LISTEN -> CLOSE        PP_EV_UNLISTEN  (close() or shutdown() of the listener, or exit)
 *                          (LISTEN -> SYN_RECV is a new connection cloned from the listener)
 *   on a tracked port, a sample of its listener's accept queue, PP_EV_ACCEPTS, at most once
 *   per accept_interval_ns per port (plus one when the queue is seen drained), when
 *     SYN_RECV -> ESTABLISHED         a connection completed (and sits in the accept queue):
 *                                     also counted in ports (softirq context)
 *     ESTABLISHED -> FIN_WAIT1,       the server closes a connection it accepted (a queued
 *     CLOSE_WAIT -> LAST_ACK          connection has no fd: only accept() makes this possible)
 *     CLOSE -> SYN_SENT               a local client (a podprobe probe) connects to the port
 *   A sample need not wake the reader (lazy_samples, common.bpf.h: submit_event()); LISTEN
 *   and UNLISTEN always do.
 *
 * Wedged listeners. The accept queue alone does not tell a wedged listener from a busy one:
 * sampled when a connection is established it holds at least that connection. So each
 * listener counts its connections that reached ESTABLISHED since listen() (<established>),
 * and a sample pairs that count with the queue length read at the same moment: the listener
 * has accepted established - backlog of them. Two samples a probe timeout apart with
 * connections waiting and that number unchanged prove that nothing was accepted for that
 * long; userspace decides (user/core/accept_watch.c). A connection is queued
 * (inet_csk_complete_hashdance() in tcp_check_req()) just before tcp_rcv_state_process()
 * makes it ESTABLISHED: a sample taken on another CPU in between counts it in the queue
 * but not yet in <established>, one accept too few for that one sample.
 * LISTEN/UNLISTEN are reported when the port is in tracked_ports, or the caller's tgid or
 * cgroup (or an ancestor of it) is tracked, or trace_all is set.
 *
 * Kernel notes:
 * - CLOSE -> LISTEN is traced on 6.18, before listen() picks the port of an unbound socket
 *   (tests/integ/test_bpf_load.c checks it on the running kernel). A kernel whose listen path
 *   stores TCP_LISTEN without the tracepoint (inet_sk_state_store() does not trace) would
 *   show only LISTEN -> CLOSE; the fallback there is a cgroup sock_ops program on
 *   BPF_SOCK_OPS_TCP_LISTEN_CB, not built here: podprobe then learns about listeners from
 *   its own TCP probes, as it does without BPF.
 * - LISTEN -> CLOSE comes from tcp_set_state() in close()/shutdown(), after the port was
 *   released when the kernel had chosen it (skc_num reads 0): see on_listen().
 * - listen() on a socket never bound picks its port after the tracepoint: such a LISTEN
 *   (and its UNLISTEN) carries port 0. Servers bind first; podprobe's probes know the port.
 * - bpf_get_socket_cookie() is allowed in tracing programs since 5.12; older kernels reject
 *   this object, and the loader runs with exits.bpf.c alone.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"

#define AF_INET 2
#define AF_INET6 10

_Static_assert(sizeof(struct pp_ev_sock) % 8 == 0, "ringbuf records stay 8-byte aligned");

/* Set by the loader between open and load. */
const volatile bool trace_all = false;		/* every listener, and accepts on every port */
const volatile __u64 accept_interval_ns = 250000000; /* least gap of ACCEPTS records per port */

/*
 * Ports filled by userspace: bit (port % 64) of word (port / 64). An array lookup is inlined by
 * the verifier: the test costs no helper call on the TCP state changes of untracked ports.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PP_EV_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} tracked_ports SEC(".maps");

/*
 * Each port's latest listener and accept counters, read by userspace, indexed by port: one
 * inlined lookup per TCP state change (a hash map costs a helper call, a hash and a miss on
 * its bucket array too). 3.5 MiB for every port; trace_all counts every port.
 * The listener's <sk> is only read with bpf_probe_read_kernel(): its fields are cleared when
 * that listener closes, and a stale read in the race window yields a wrong number, not a
 * fault. With SO_REUSEPORT only the latest listener's queue is read while <established>
 * counts the port's connections: more accepts than there were, never fewer.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PP_EV_MAX_PORTS);
	__type(key, __u32); /* the port */
	__type(value, struct pp_ev_port);
} ports SEC(".maps");

/* The port of every listener reported, by socket cookie (see on_listen()). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PP_EV_MAX_ACCEPT_PORTS);
	__type(key, __u64);	/* socket cookie */
	__type(value, __u16);	/* port */
} listen_ports SEC(".maps");

static __always_inline bool current_tracked(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&tracked_tgids, &tgid) || current_cgroup_tracked();
}

static __always_inline bool port_tracked(__u16 port)
{
	__u32 word = port / 64;
	__u64 *bits = bpf_map_lookup_elem(&tracked_ports, &word);

	return bits && (*bits >> (port % 64) & 1);
}

static __always_inline struct pp_ev_port *port_entry(__u16 port)
{
	__u32 key = port;

	return bpf_map_lookup_elem(&ports, &key);
}

static __always_inline struct pp_ev_sock *sock_reserve(__u32 type, const struct sock *sk,
						       int oldstate, int newstate)
{
	struct pp_ev_sock *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u16 family;

	if (!e) {
		count_drop(type);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.version = PP_EV_ABI_VERSION;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = family;
	e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == AF_INET)
		bpf_core_read(e->addr_be, 4, &sk->__sk_common.skc_rcv_saddr);
	else if (family == AF_INET6 && bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr))
		BPF_CORE_READ_INTO(&e->addr_be, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	e->oldstate = (__u8)oldstate;
	e->newstate = (__u8)newstate;
	return e;
}

static __always_inline int on_listen(const struct sock *sk, int oldstate, int newstate)
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num), *known;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	bool listen = newstate == TCP_LISTEN;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pp_ev_port *p;
	__u64 established = 0;
	struct pp_ev_sock *e;

	/*
	 * A listener reported at LISTEN is reported at UNLISTEN too, whoever closes it, and
	 * with its port: closing a socket whose port the kernel chose (bind to port 0, or
	 * listen() without bind) releases the port before the tracepoint, so skc_num reads 0.
	 */
	known = bpf_map_lookup_elem(&listen_ports, &cookie);
	if (known && !port)
		port = *known;
	if (!trace_all && !known && !port_tracked(port) && !current_tracked())
		return 0;
	if (listen) {
		p = port_entry(port);
		if (p) {
			p->sk = (__u64)(unsigned long)sk;
			p->cookie = cookie;
			p->established = 0;
		}
		bpf_map_update_elem(&listen_ports, &cookie, &port, BPF_ANY);
	} else {
		p = port_entry(port);
		if (p && p->sk && p->cookie == cookie) {
			established = p->established;
			p->sk = 0;
			p->cookie = 0;
			p->established = 0;
		}
		bpf_map_delete_elem(&listen_ports, &cookie);
	}

	e = sock_reserve(listen ? PP_EV_LISTEN : PP_EV_UNLISTEN, sk, oldstate, newstate);
	if (!e)
		return 0;
	e->port = port;
	e->cookie = cookie;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->tgid = pid_tgid >> 32;
	e->backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	e->max_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->established = established;
	e->flags = PP_EV_SOCK_QUEUE;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit_event(e, false);
	return 0;
}

/*
 * <sk> changed state on tracked port <port> (its local port, or the port it connects to):
 * count it when <established>, and sample the port's listener. <sk> is the new connection, a
 * connection the server closes, or a local client's socket.
 */
static __always_inline int on_sample(const struct sock *sk, __u16 port, int oldstate,
				     int newstate, bool established)
{
	__u32 backlog = 0, max_backlog = 0, flags = 0;
	__u64 now, accepts, count = 0, cookie = 0;
	struct sock *lsk = NULL;
	struct pp_ev_port *p;
	struct pp_ev_sock *e;
	bool drained;

	if (!trace_all && !port_tracked(port))
		return 0;
	p = port_entry(port);
	if (!p)
		return 0;
	if (p->sk)
		lsk = (struct sock *)(unsigned long)p->sk;
	/* Only a new connection is news when the listener is unknown (opened before tracking). */
	if (!lsk && !established)
		return 0;
	now = bpf_ktime_get_ns();
	if (established) {
		__sync_fetch_and_add(&p->accepts, 1);
		p->last_ns = now;
	}
	if (lsk) {
		if (established)
			__sync_fetch_and_add(&p->established, 1);
		cookie = p->cookie;
		backlog = BPF_CORE_READ(lsk, sk_ack_backlog);
		max_backlog = BPF_CORE_READ(lsk, sk_max_ack_backlog);
		count = p->established;
		flags = PP_EV_SOCK_QUEUE;
	}
	/*
	 * Racy across CPUs on purpose: at worst two records in one interval. A drained queue
	 * is reported at once, so that a listener seen stuck is seen recovered without delay.
	 */
	drained = lsk && !backlog && p->emitted_backlog;
	if (p->emitted_ns && now - p->emitted_ns < accept_interval_ns && !drained)
		return 0;
	p->emitted_ns = now;
	p->emitted_backlog = backlog;
	accepts = p->accepts;

	/* The listener's address rather than a client's, when the listener is known. */
	e = sock_reserve(PP_EV_ACCEPTS, lsk ? lsk : sk, oldstate, newstate);
	if (!e)
		return 0;
	e->port = port;
	e->accepts = accepts;
	e->cookie = cookie;
	e->backlog = backlog;
	e->max_backlog = max_backlog;
	e->established = count;
	e->flags = flags;
	submit_event(e, true);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	/*
	 * <sk> is the tracepoint's own argument, a trusted BTF pointer: read directly (CO-RE
	 * relocated through vmlinux.h), without a bpf_probe_read_kernel() call per field.
	 */
	if (BPF_CORE_READ_BITFIELD(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/*
	 * Not any LISTEN -> X: a new connection is cloned from its listener and goes through
	 * LISTEN -> SYN_RECV.
	 */
	if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE))
		return on_listen(sk, oldstate, newstate);
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		return on_sample(sk, sk->__sk_common.skc_num, oldstate, newstate, true);
	if ((oldstate == TCP_ESTABLISHED && newstate == TCP_FIN_WAIT1) ||
	    (oldstate == TCP_CLOSE_WAIT && newstate == TCP_LAST_ACK))
		return on_sample(sk, sk->__sk_common.skc_num, oldstate, newstate, false);
	/* tcp_v4_connect() and tcp_v6_connect() set the peer's port before this. */
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT)
		return on_sample(sk, bpf_ntohs(sk->__sk_common.skc_dport), oldstate, newstate,
				 false);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
