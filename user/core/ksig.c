// SPDX-License-Identifier: Apache-2.0
/*
 * Raw BPF ring buffer records (podprobe/abi/events.h) into struct pp_ksig. Everything that
 * comes out of the ring is checked here before use: the header's version, type and size
 * against the sample's, and the record is copied out, so no alignment is assumed.
 */
#include "podprobe/ksig.h"

#include <errno.h>
#include <linux/types.h>
#include <string.h>

#include "podprobe/abi/events.h"

static const char *const kind_names[_PP_KSIG_MAX] = {
	[PP_KSIG_EXIT] = "exit",	 [PP_KSIG_OOM] = "oom",		[PP_KSIG_LISTEN] = "listen",
	[PP_KSIG_UNLISTEN] = "unlisten", [PP_KSIG_ACCEPTS] = "accepts",
};

/* Record sizes by type; 0 = unknown type. */
static const size_t record_sizes[_PP_EV_MAX] = {
	[PP_EV_EXIT] = sizeof(struct pp_ev_exit),    [PP_EV_OOM] = sizeof(struct pp_ev_oom),
	[PP_EV_LISTEN] = sizeof(struct pp_ev_sock),  [PP_EV_UNLISTEN] = sizeof(struct pp_ev_sock),
	[PP_EV_ACCEPTS] = sizeof(struct pp_ev_sock),
};

const char *pp_ksig_kind_str(enum pp_ksig_kind kind)
{
	return (unsigned int)kind < _PP_KSIG_MAX ? kind_names[kind] : "?";
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, PP_EV_COMM_LEN);
	dst[PP_EV_COMM_LEN - 1] = '\0';
}

/*
 * <status> is a wait(2) status (the kernel's task->exit_code layout): the low 7 bits are the
 * killing signal (0 = exited, 0x7f = stopped), bit 7 the core dump, bits 8-15 the exit code.
 * What is not a signal reads as an exit, as WIFSIGNALED()/WEXITSTATUS() would.
 */
static void decode_status(uint32_t status, struct pp_ksig *k)
{
	uint32_t sig = status & 0x7f;

	if (sig && sig != 0x7f) {
		k->exit_code = -1;
		k->signal = (int)sig;
		k->core_dumped = status & 0x80;
	} else {
		k->exit_code = (int)((status >> 8) & 0xff);
	}
}

static void decode_exit(const void *data, struct pp_ksig *k)
{
	struct pp_ev_exit e;

	memcpy(&e, data, sizeof(e));
	k->kind = PP_KSIG_EXIT;
	k->pid = e.pid;
	k->tgid = e.tgid;
	k->ppid = e.ppid;
	k->cgroup_id = e.cgroup_id;
	copy_comm(k->comm, e.comm);
	decode_status(e.exit_code, k);
	k->leader = e.flags & PP_EV_EXIT_LEADER;
	k->group_dead = e.flags & PP_EV_EXIT_GROUP_DEAD;
}

static void decode_oom(const void *data, struct pp_ksig *k)
{
	struct pp_ev_oom e;

	memcpy(&e, data, sizeof(e));
	k->kind = PP_KSIG_OOM;
	k->pid = e.pid;
	k->tgid = e.tgid;
	k->cgroup_id = e.cgroup_id;
	k->uid = e.uid;
	copy_comm(k->comm, e.comm);
}

static void decode_sock(const void *data, enum pp_ksig_kind kind, struct pp_ksig *k)
{
	struct pp_ev_sock e;

	memcpy(&e, data, sizeof(e));
	k->kind = kind;
	k->tgid = e.tgid;
	k->cgroup_id = e.cgroup_id;
	copy_comm(k->comm, e.comm);
	k->family = e.family;
	k->port = e.port;
	memcpy(k->addr, e.addr_be, sizeof(k->addr));
	k->oldstate = e.oldstate;
	k->newstate = e.newstate;
	k->cookie = e.cookie;
	k->backlog = e.backlog;
	k->max_backlog = e.max_backlog;
	k->accepts = e.accepts;
	k->established = e.established;
	k->queue_known = e.flags & PP_EV_SOCK_QUEUE;
	/* Transiently fewer counted than queued (see bpf/sockets.bpf.c): none accepted then. */
	if (kind == PP_KSIG_ACCEPTS && k->queue_known && e.established > e.backlog)
		k->accepted = e.established - e.backlog;
}

int pp_ksig_decode(const void *data, size_t size, struct pp_ksig *ret)
{
	struct pp_ksig k = {0};
	struct pp_ev_hdr h;

	if (!data || !ret)
		return -EINVAL;
	if (size < sizeof(h))
		return -EBADMSG;
	memcpy(&h, data, sizeof(h));
	if (h.version != PP_EV_ABI_VERSION || h.type >= _PP_EV_MAX || !record_sizes[h.type] ||
	    h.size < record_sizes[h.type] || h.size > size)
		return -EBADMSG;
	switch (h.type) {
	case PP_EV_EXIT:
		decode_exit(data, &k);
		break;
	case PP_EV_OOM:
		decode_oom(data, &k);
		break;
	case PP_EV_LISTEN:
		decode_sock(data, PP_KSIG_LISTEN, &k);
		break;
	case PP_EV_UNLISTEN:
		decode_sock(data, PP_KSIG_UNLISTEN, &k);
		break;
	default:
		decode_sock(data, PP_KSIG_ACCEPTS, &k);
		break;
	}
	k.ts = h.ts_ns;
	*ret = k;
	return 0;
}
