// SPDX-License-Identifier: GPL-2.0-only
/*
 * What exits.bpf.c and sockets.bpf.c share: the maps the loader creates once and hands to both
 * objects (bpf_map__reuse_fd() rejects a definition mismatch, so they are defined here once)
 * and the filters over them. BPF-only; include after vmlinux.h and the libbpf headers.
 */
#ifndef PODPROBE_COMMON_BPF_H
#define PODPROBE_COMMON_BPF_H

#include "podprobe/abi/events.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PP_EV_RINGBUF_BYTES);
} events SEC(".maps");

/* Records lost to a full ring buffer, per CPU, indexed by enum pp_ev_type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, _PP_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PP_EV_MAX_TGIDS);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);	/* unused (1) */
} tracked_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PP_EV_MAX_CGROUPS);
	__type(key, __u64);	/* cgroup v2 id: it and its descendants are tracked */
	__type(value, __u32);	/* unused (1) */
} tracked_cgroups SEC(".maps");

/* Set by the loader: sampled records do not wake the reader (submit_event()). */
const volatile bool lazy_samples = false;

/*
 * Submit <e>. Waking the reader costs more than the record (an irq_work: a self-IPI, which on
 * a VM is an exit). With lazy_samples a sampled record (<sample>: ACCEPTS) does not wake it:
 * its loop reads the ring first thing at every wake-up (user/io/signals.c), which its probes
 * bring often, and a ring a quarter full wakes it anyway. Every other record then forces the
 * wake-up, since the kernel's default wakes only a reader that has read everything before it
 * (bpf_ringbuf_commit(), kernel/bpf/ringbuf.c), and a sample may be waiting.
 */
static __always_inline void submit_event(void *e, bool sample)
{
	__u64 flags = 0;

	if (lazy_samples)
		flags = sample && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) <
					  PP_EV_RINGBUF_BYTES / 4
				? BPF_RB_NO_WAKEUP
				: BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void count_drop(__u32 type)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &type);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Is the current task's cgroup, or one of its ancestors, tracked? */
static __always_inline bool current_cgroup_tracked(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	int level;

	if (bpf_map_lookup_elem(&tracked_cgroups, &id))
		return true;
	/* Level 0 is the root; an id of 0 means the task's cgroup is not that deep. */
	for (level = 1; level < PP_EV_CGROUP_MAX_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		if (bpf_map_lookup_elem(&tracked_cgroups, &id))
			return true;
	}
	return false;
}

#endif
