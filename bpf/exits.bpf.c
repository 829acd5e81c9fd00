// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process exits and OOM kills of the processes podprobe tracks, for the supervisor's fast path:
 * the exit code and the killing signal arrive here as the task dies, before SIGCHLD/pidfd,
 * and for every process of a container's cgroup rather than only the main pid.
 *
 * tp_btf/sched_process_exit runs in the exiting task's context. A process is tracked when its
 * tgid is in tracked_tgids, or its cgroup v2 (or an ancestor of it) is in tracked_cgroups, or
 * trace_all is set. Only the death of the whole thread group is reported unless exit_threads
 * is set, so thread pools do not flood the ring and a main thread that ends with
 * pthread_exit() while other threads run on is not taken for the process's end: that leader
 * record said "exit 0" while the process lived on (cilium/tetragon PR 558 met the same trap
 * and moved off this tracepoint; we keep it and use group_dead).
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
const volatile bool exit_threads = false;	/* also exits of threads that are not the last */

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
 * The fallback for kernels whose tracepoint has no group_dead: do_exit() decrements
 * signal->live before trace_sched_process_exit() in every version, so a task that reads 0
 * there is past the point of no return with all its siblings. Two threads dying at once
 * can both read 0; the first to insert the process's identity here reports the group's
 * death and the other stays a thread exit. (tgid, start time of the leader) never repeats,
 * so entries need no removal and the LRU recycles them.
 */
struct group_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_time; /* the group leader's task->start_time */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct group_key);
	__type(value, __u8);
} dead_groups SEC(".maps");

static __always_inline bool live_zero(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, live.counter) == 0;
}

/* Of the tasks that saw live_zero(), is <task> the first to report the group's death? */
static __always_inline bool first_of_group(struct task_struct *task, __u32 tgid)
{
	struct group_key key = {.tgid = tgid};
	__u8 one = 1;

	key.start_time = BPF_CORE_READ(task, group_leader, start_time);
	return bpf_map_update_elem(&dead_groups, &key, &one, BPF_NOEXIST) == 0;
}

/* include/linux/sched/signal.h; unchanged since 2.6.x and not in BTF (a #define). */
#define SIGNAL_GROUP_EXIT 0x00000004

/*
 * The wait(2) status the parent will get for the whole process, as wait_task_zombie()
 * (kernel/exit.c) computes it: the group's code when the process died in a group exit
 * (exit_group(), a fatal signal), else the leader's own exit code. The last thread's own
 * code can differ: the leader's pthread_exit() then a raw SYS_exit of the last thread.
 */
static __always_inline __u32 group_status(struct task_struct *task)
{
	if (BPF_CORE_READ(task, signal, flags) & SIGNAL_GROUP_EXIT)
		return BPF_CORE_READ(task, signal, group_exit_code);
	return BPF_CORE_READ(task, group_leader, exit_code);
}

/*
 * <group_dead> is -1 when the tracepoint does not pass it: kernels before commit
 * 3e816361e94a ("sched/tracepoints: Move and extend the sched_process_exit() tracepoint",
 * v6.16), see live_zero() and first_of_group(). On newer kernels the argument is do_exit()'s
 * own atomic_dec_and_test(&signal->live): true for exactly one task of the group.
 */
static __always_inline int on_exit(struct task_struct *task, int group_dead)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	bool maybe_dead = group_dead > 0 || (group_dead < 0 && live_zero(task));
	struct pp_ev_exit *e;
	__u32 flags = 0;

	/* Cheap tests first: every thread exit on the host runs this. */
	if (!maybe_dead && !exit_threads)
		return 0;
	if (!trace_all && !tgid_tracked(tgid) && !current_cgroup_tracked())
		return 0;
	if (group_dead < 0)
		group_dead = maybe_dead && first_of_group(task, tgid);
	if (!group_dead && !exit_threads)
		return 0;
	if (pid == tgid)
		flags |= PP_EV_EXIT_LEADER;
	if (group_dead)
		flags |= PP_EV_EXIT_GROUP_DEAD;
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
	/* do_exit() stored the thread's code before the tracepoint, in both positions. */
	e->exit_code = group_dead ? group_status(task) : BPF_CORE_READ(task, exit_code);
	e->flags = flags;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit_event(e, false);
	return 0;
}

/* Newer kernels (6.16+, 6.18 here): sched_process_exit(struct task_struct *p, bool group_dead). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_gd, struct task_struct *task, bool group_dead)
{
	return on_exit(task, group_dead ? 1 : 0);
}

/*
 * Older kernels: sched_process_exit(struct task_struct *p). The loader also runs it on newer
 * ones when asked (pp_signals_cfg.live_fallback), so the fallback is tested where it is not
 * needed: the extra argument is then simply not read.
 */
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
	submit_event(e, false);
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
	submit_event(e, false);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
