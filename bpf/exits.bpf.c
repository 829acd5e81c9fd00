// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process exits and OOM kills of the processes podprobe tracks, for the supervisor's fast path:
 * the exit code and the killing signal arrive here as the task dies, before SIGCHLD/pidfd,
 * and for every process of a container's cgroup rather than only the main pid.
 *
 * tp_btf/sched_process_exit runs in the exiting task's context. A process is tracked when its
 * tgid is in tracked_tgids, or its cgroup v2 (or an ancestor of it) is in tracked_cgroups, or
 * trace_all is set. Only the leader's exit and the last thread's exit are reported unless
 * exit_threads is set, so thread pools do not flood the ring.
 *
 * tp_btf/mark_victim (oom:mark_victim) fires in the OOM killer's context with the victim as
 * argument; the loader drops it (autoload false) when the kernel has no such tracepoint.
 *
 * Requires BTF-enabled tracepoints (tp_btf, 5.5+). No fentry/fexit/LSM: they are refused on
 * some hosts we run on.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"

_Static_assert(sizeof(struct pp_ev_exit) % 8 == 0, "ringbuf records stay 8-byte aligned");
_Static_assert(sizeof(struct pp_ev_oom) % 8 == 0, "ringbuf records stay 8-byte aligned");

/* Set by the loader between open and load. */
const volatile bool trace_all = false;		/* report every process */
const volatile bool exit_threads = false;	/* also exits of non-leader, non-last threads */

/* kernfs_node::parent became the RCU-protected __parent in 6.15 (include/linux/kernfs.h). */
struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline bool tgid_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked_tgids, &tgid) != NULL;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	struct kernfs_node___new *kn_new = (void *)kn;
	struct kernfs_node___old *kn_old = (void *)kn;

	if (bpf_core_field_exists(kn_new->__parent))
		return BPF_CORE_READ(kn_new, __parent);
	return BPF_CORE_READ(kn_old, parent);
}

/* Is <task>'s cgroup v2, or one of its ancestors, tracked? (For a task other than current.) */
static __always_inline bool task_cgroup_tracked(struct task_struct *task)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	int i;

	for (i = 0; i < PP_EV_CGROUP_MAX_DEPTH && kn; i++) {
		__u64 id = BPF_CORE_READ(kn, id);

		if (bpf_map_lookup_elem(&tracked_cgroups, &id))
			return true;
		kn = kn_parent(kn);
	}
	return false;
}

/*
 * <group_dead> is -1 when the tracepoint does not pass it (older kernels): the task is the last
 * one when signal->live has dropped to 0. Two threads dying at once may both see 0, so on
 * those kernels a process can rarely produce two GROUP_DEAD records.
 */
static __always_inline int on_exit(struct task_struct *task, int group_dead)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	struct pp_ev_exit *e;
	__u32 flags = 0;

	if (pid == tgid)
		flags |= PP_EV_EXIT_LEADER;
	if (group_dead < 0)
		group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	if (group_dead)
		flags |= PP_EV_EXIT_GROUP_DEAD;
	if (!flags && !exit_threads)
		return 0;
	if (!trace_all && !tgid_tracked(tgid) && !current_cgroup_tracked())
		return 0;
	/* The process is gone: its pid may be reused by anything, which must not be tracked. */
	if (group_dead)
		bpf_map_delete_elem(&tracked_tgids, &tgid);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(PP_EV_EXIT);
		return 0;
	}
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.type = PP_EV_EXIT;
	e->hdr.size = sizeof(*e);
	e->hdr.version = PP_EV_ABI_VERSION;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid;
	e->tgid = tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->flags = flags;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Newer kernels (6.18 here): sched_process_exit(struct task_struct *p, bool group_dead). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_gd, struct task_struct *task, bool group_dead)
{
	return on_exit(task, group_dead ? 1 : 0);
}

/* Older kernels: sched_process_exit(struct task_struct *p). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	return on_exit(task, -1);
}

static __always_inline struct pp_ev_oom *oom_reserve(void)
{
	struct pp_ev_oom *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop(PP_EV_OOM);
		return NULL;
	}
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.type = PP_EV_OOM;
	e->hdr.size = sizeof(*e);
	e->hdr.version = PP_EV_ABI_VERSION;
	e->pad = 0;
	return e;
}

/* Newer kernels (6.18 here): mark_victim(struct task_struct *task, uid_t uid). */
SEC("tp_btf/mark_victim")
int BPF_PROG(handle_mark_victim, struct task_struct *task, uid_t uid)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct pp_ev_oom *e;

	if (!trace_all && !tgid_tracked(tgid) && !task_cgroup_tracked(task))
		return 0;
	e = oom_reserve();
	if (!e)
		return 0;
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	e->pid = BPF_CORE_READ(task, pid);
	e->tgid = tgid;
	e->uid = uid;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Older kernels: mark_victim(int pid), the victim's pid only (a process picked by the OOM killer
 * is a group leader, so pid is its tgid). Its cgroup is not known here: tgid filter only.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(handle_mark_victim_pid, int pid)
{
	struct pp_ev_oom *e;

	if (!trace_all && !tgid_tracked((__u32)pid))
		return 0;
	e = oom_reserve();
	if (!e)
		return 0;
	e->cgroup_id = 0;
	e->pid = (__u32)pid;
	e->tgid = (__u32)pid;
	e->uid = (__u32)-1;
	__builtin_memset(e->comm, 0, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
