// SPDX-License-Identifier: Apache-2.0
/*
 * The eBPF loader: exits.bpf.c and sockets.bpf.c, each opened, configured (rodata and
 * autoload from BTF feature probes), loaded and attached with every step checked. They share
 * one ring buffer and the tracked-set maps: the first object loaded creates them and the
 * second reuses their fds. The ring buffer's epoll fd is polled on the io_uring loop and
 * drained with ring_buffer__consume() in the completion, then re-armed; it is also drained at
 * every wake-up of the loop, before the completions, for the records that do not wake it
 * (pp_signals_cfg.lazy_samples).
 */
#include "podprobe/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/exits.skel.h"
#include "bpf/sockets.skel.h"
#include "podprobe/abi/events.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"

_Static_assert(sizeof(struct pp_ev_exit) == 64 && sizeof(struct pp_ev_sock) == 104,
	       "ABI records as the BPF side builds them");
_Static_assert(__builtin_offsetof(struct pp_ev_hdr, type) == 8, "pp_ev_hdr layout");
_Static_assert(_PP_EV_MAX <= 16, "drops map is indexed by type");

#define KERNEL_BTF		"/sys/kernel/btf/vmlinux"
#define DEFAULT_ACCEPT_INTERVAL (250 * PP_NSEC_PER_MSEC)
#define KERNEL_ENOTSUPP		524 /* the kernel's internal ENOTSUPP, which bpf() can return */
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum oom_variant {
	OOM_NONE = 0,
	OOM_PID,  /* mark_victim(int pid), older kernels */
	OOM_TASK, /* mark_victim(struct task_struct *, uid_t) */
	_OOM_MAX,
};

/* What the kernel's BTF says about the tracepoints we attach to. */
struct features {
	int exit_args; /* sched_process_exit arguments: 1, or 2 with group_dead */
	enum oom_variant oom;
	bool sock; /* inet_sock_set_state exists (4.16+) */
};

struct pp_signals {
	struct pp_loop *loop;
	pp_ksig_fn fn;
	void *ctx;
	struct exits_bpf *exits;     /* NULL when not loaded */
	struct sockets_bpf *sockets; /* NULL when not loaded */
	struct ring_buffer *rb;
	int fd_events; /* shared maps, owned by whichever skeleton made them */
	int fd_drops;
	int fd_tgids;
	int fd_cgroups;
	int fd_ports; /* sockets only, -1 without it */
	int fd_accepts;
	uint64_t poll_id;
	bool polling;
	bool live_count; /* exits: the process's end told by signal->live (no group_dead) */
	bool lazy;	 /* pp_signals_cfg.lazy_samples: it holds the loop's on_wake */
	bool has[_PP_KSIG_MAX];
	uint64_t events;
	uint64_t malformed;
	unsigned int batch; /* records delivered by the consume in progress */
	char mode[192];
};

/*
 * Records one consume delivers at most. Each may start a container at once, and records keep
 * arriving meanwhile: without a bound, a fast crash loop of many pods would keep the loop in
 * ring_buffer__consume() and starve signals, probes and timers. The rest waits for the next
 * pass (the ring's fd is still readable).
 */
#define CONSUME_BUDGET 256

/* ---- libbpf messages ------------------------------------------------------------------------ */

/*
 * libbpf_set_print() takes no context, hence these two statics. While opening, libbpf's
 * warnings go to debug: the caller reports the outcome in one line (house style §5).
 */
static bool libbpf_debug;
static bool opening;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum pp_log_level to = level == LIBBPF_WARN && !opening ? PP_LOG_WARN : PP_LOG_DEBUG;
	char *msg, *line, *save = NULL;

	if (level == LIBBPF_DEBUG && !libbpf_debug)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	/* Verifier logs come as one multi-line message: one log line each. */
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pp_log(to, "%s%s", strncmp(line, "libbpf: ", 8) ? "libbpf: " : "", line);
	free(msg);
	return 0;
}

/* ---- feature probes ------------------------------------------------------------------------- */

/*
 * The prototype of tracepoint <tp> (btf_trace_<tp>: pointer to a function whose first
 * argument is the context). Returns the number of tracepoint arguments and fills <ret_params>,
 * or -ENOENT when the kernel has no such tracepoint.
 */
static int tp_proto(const struct btf *btf, const char *tp, const struct btf_param **ret_params)
{
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -EINVAL;
	*ret_params = btf_params(t);
	return btf_vlen(t) - 1;
}

static bool param_is_ptr(const struct btf *btf, const struct btf_param *p)
{
	int id = btf__resolve_type(btf, p->type);
	const struct btf_type *t = id >= 0 ? btf__type_by_id(btf, id) : NULL;

	return t && btf_is_ptr(t);
}

static int probe_features(struct features *f)
{
	const struct btf_param *p;
	struct btf *btf;
	int n;

	if (access(KERNEL_BTF, R_OK) < 0)
		return -errno == -EACCES ? -EPERM : -ENOENT;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -errno;
	*f = (struct features){0};
	n = tp_proto(btf, "sched_process_exit", &p);
	if (n == 1 || n == 2)
		f->exit_args = n;
	n = tp_proto(btf, "mark_victim", &p);
	if (n >= 1)
		f->oom = param_is_ptr(btf, &p[1]) ? OOM_TASK : OOM_PID;
	f->sock = tp_proto(btf, "inet_sock_set_state", &p) == 3;
	btf__free(btf);
	pp_log(PP_LOG_DEBUG,
	       "bpf: sched_process_exit with %d argument(s), mark_victim %s, "
	       "inet_sock_set_state %s",
	       f->exit_args,
	       f->oom == OOM_TASK  ? "(task, uid)"
	       : f->oom == OOM_PID ? "(pid)"
				   : "missing",
	       f->sock ? "present" : "missing");
	return 0;
}

/* ---- loading -------------------------------------------------------------------------------- */

/* Give <map> of the object being opened the fd of the shared map, when there is one yet. */
static int share(struct bpf_map *map, int fd)
{
	return fd >= 0 ? bpf_map__reuse_fd(map, fd) : 0;
}

static int exits_load(struct pp_signals *s, const struct features *f,
		      const struct pp_signals_cfg *cfg, bool with_oom)
{
	struct exits_bpf *skel;
	int err;

	if (!f->exit_args)
		return -EOPNOTSUPP;
	skel = exits_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->trace_all = cfg->trace_all;
	skel->rodata->lazy_samples = cfg->lazy_samples;
	skel->rodata->exit_threads = cfg->threads;
	/* The one-argument program also fits the newer tracepoint: it reads only the task. */
	err = bpf_program__set_autoload(skel->progs.handle_exit_gd,
					f->exit_args == 2 && !cfg->live_fallback);
	if (!err)
		err = bpf_program__set_autoload(skel->progs.handle_exit,
						f->exit_args == 1 || cfg->live_fallback);
	if (!err)
		err = bpf_program__set_autoload(skel->progs.handle_mark_victim,
						with_oom && f->oom == OOM_TASK);
	if (!err)
		err = bpf_program__set_autoload(skel->progs.handle_mark_victim_pid,
						with_oom && f->oom == OOM_PID);
	if (err)
		goto out_destroy;
	err = exits_bpf__load(skel);
	if (err)
		goto out_destroy;
	err = exits_bpf__attach(skel);
	if (err)
		goto out_destroy;
	s->exits = skel;
	s->live_count = f->exit_args == 1 || cfg->live_fallback;
	return 0;

out_destroy:
	exits_bpf__destroy(skel);
	return err;
}

static int sockets_load(struct pp_signals *s, const struct features *f,
			const struct pp_signals_cfg *cfg)
{
	struct sockets_bpf *skel;
	int err;

	if (!f->sock)
		return -EOPNOTSUPP;
	skel = sockets_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->trace_all = cfg->trace_all;
	skel->rodata->lazy_samples = cfg->lazy_samples;
	skel->rodata->accept_interval_ns =
		cfg->accept_interval ? cfg->accept_interval : DEFAULT_ACCEPT_INTERVAL;
	err = share(skel->maps.events, s->fd_events);
	if (!err)
		err = share(skel->maps.drops, s->fd_drops);
	if (!err)
		err = share(skel->maps.tracked_tgids, s->fd_tgids);
	if (!err)
		err = share(skel->maps.tracked_cgroups, s->fd_cgroups);
	if (err)
		goto out_destroy;
	err = sockets_bpf__load(skel);
	if (err)
		goto out_destroy;
	err = sockets_bpf__attach(skel);
	if (err)
		goto out_destroy;
	s->sockets = skel;
	return 0;

out_destroy:
	sockets_bpf__destroy(skel);
	return err;
}

static void arm(struct pp_signals *s);
static int consume(struct pp_signals *s);

/* Read what the ring holds: at every wake-up of the loop (lazy_samples), and when it polls in. */
static void on_wake(void *ctx)
{
	struct pp_signals *s = ctx;
	int n = consume(s);

	if (n < 0)
		pp_log_errno(PP_LOG_WARN, n, "bpf: reading the ring buffer failed, ignoring");
}

static void on_ready(void *ctx, int res)
{
	struct pp_signals *s = ctx;

	s->polling = false;
	if (res < 0 && res != -EINTR) {
		pp_log_errno(PP_LOG_WARN, res, "bpf: polling the ring buffer failed, events stop");
		return;
	}
	on_wake(s);
	arm(s);
}

int pp_signals_drain(struct pp_signals *s)
{
	int n;

	if (!s)
		return 0;
	n = consume(s);
	return n;
}

static void arm(struct pp_signals *s)
{
	int err;

	if (s->polling)
		return;
	err = pp_loop_poll(s->loop, ring_buffer__epoll_fd(s->rb), POLLIN, on_ready, s, &s->poll_id);
	if (err < 0) {
		pp_log_errno(PP_LOG_WARN, err, "bpf: cannot poll the ring buffer, events stop");
		return;
	}
	s->polling = true;
}

/* ---- events --------------------------------------------------------------------------------- */

static int on_sample(void *ctx, void *data, size_t size)
{
	struct pp_signals *s = ctx;
	struct pp_ksig k;

	if (pp_ksig_decode(data, size, &k) < 0) {
		s->malformed++;
		return 0;
	}
	s->events++;
	s->fn(s->ctx, &k);
	/* A negative return stops libbpf after this record, which counts as consumed. */
	return ++s->batch >= CONSUME_BUDGET ? -EAGAIN : 0;
}

/* ring_buffer__consume() within CONSUME_BUDGET: records delivered, or -errno. */
static int consume(struct pp_signals *s)
{
	int n;

	s->batch = 0;
	n = ring_buffer__consume(s->rb);
	return n == -EAGAIN ? (int)s->batch : n;
}

/* ---- public --------------------------------------------------------------------------------- */

static void set_mode(struct pp_signals *s, int exits_err, int oom_err, int sockets_err)
{
	size_t len;

	snprintf(s->mode, sizeof(s->mode), "%s%s%s%s", s->exits ? "exits" : "",
		 s->has[PP_KSIG_OOM] ? "+oom" : "", s->exits && s->sockets ? "+" : "",
		 s->sockets ? "sockets" : "");
	len = strlen(s->mode);
	if (!s->exits)
		len += snprintf(s->mode + len, sizeof(s->mode) - len, " (exits: %s)",
				strerror(-exits_err));
	else if (!s->has[PP_KSIG_OOM] && len < sizeof(s->mode))
		len += snprintf(s->mode + len, sizeof(s->mode) - len, " (oom: %s)",
				oom_err == -ENOENT ? "no mark_victim tracepoint"
						   : strerror(-oom_err));
	if (s->exits && s->live_count && len < sizeof(s->mode))
		len += snprintf(s->mode + len, sizeof(s->mode) - len,
				" (exits: last thread told by signal->live)");
	if (!s->sockets && len < sizeof(s->mode))
		snprintf(s->mode + len, sizeof(s->mode) - len, " (sockets: %s)",
			 sockets_err == -EOPNOTSUPP ? "no inet_sock_set_state tracepoint"
						    : strerror(-sockets_err));
}

int pp_signals_open(struct pp_loop *loop, const struct pp_signals_cfg *cfg, struct pp_signals **ret)
{
	struct pp_signals *s;
	struct features f = {0};
	int err, exits_err, oom_err = 0, sockets_err;

	if (!loop || !cfg || !cfg->fn || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->fn = cfg->fn;
	s->ctx = cfg->ctx;
	s->fd_events = s->fd_drops = s->fd_tgids = s->fd_cgroups = -1;
	s->fd_ports = s->fd_accepts = -1;

	libbpf_debug = cfg->libbpf_debug;
	opening = true;
	libbpf_set_print(libbpf_print);

	err = probe_features(&f);
	if (err < 0)
		goto out_free;
	if (f.oom == OOM_NONE)
		oom_err = -ENOENT;

	/* The OOM program is optional: when the object fails with it, try once without. */
	exits_err = exits_load(s, &f, cfg, f.oom != OOM_NONE);
	if (exits_err < 0 && f.oom != OOM_NONE && exits_err != -EPERM) {
		oom_err = exits_err;
		exits_err = exits_load(s, &f, cfg, false);
	}
	if (s->exits) {
		s->has[PP_KSIG_EXIT] = true;
		s->has[PP_KSIG_OOM] = f.oom != OOM_NONE && !oom_err;
		s->fd_events = bpf_map__fd(s->exits->maps.events);
		s->fd_drops = bpf_map__fd(s->exits->maps.drops);
		s->fd_tgids = bpf_map__fd(s->exits->maps.tracked_tgids);
		s->fd_cgroups = bpf_map__fd(s->exits->maps.tracked_cgroups);
	} else {
		pp_log_errno(PP_LOG_DEBUG, exits_err, "bpf: exits.bpf.c not loaded");
	}

	sockets_err = sockets_load(s, &f, cfg);
	if (s->sockets) {
		s->has[PP_KSIG_LISTEN] = s->has[PP_KSIG_UNLISTEN] = true;
		s->has[PP_KSIG_ACCEPTS] = true;
		s->fd_ports = bpf_map__fd(s->sockets->maps.tracked_ports);
		s->fd_accepts = bpf_map__fd(s->sockets->maps.ports);
		if (s->fd_events < 0) {
			s->fd_events = bpf_map__fd(s->sockets->maps.events);
			s->fd_drops = bpf_map__fd(s->sockets->maps.drops);
			s->fd_tgids = bpf_map__fd(s->sockets->maps.tracked_tgids);
			s->fd_cgroups = bpf_map__fd(s->sockets->maps.tracked_cgroups);
		}
	} else {
		pp_log_errno(PP_LOG_DEBUG, sockets_err, "bpf: sockets.bpf.c not loaded");
	}
	if (!s->exits && !s->sockets) {
		/* Report the more telling of the two failures. */
		err = exits_err == -EOPNOTSUPP ? sockets_err : exits_err;
		goto out_free;
	}

	s->rb = ring_buffer__new(s->fd_events, on_sample, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto out_destroy;
	}
	set_mode(s, exits_err, oom_err, sockets_err);
	arm(s);
	if (!s->polling) {
		err = -ENOMEM;
		goto out_free_rb;
	}
	/* Records that did not wake the loop (lazy_samples) come before its completions. */
	s->lazy = cfg->lazy_samples;
	if (s->lazy)
		pp_loop_set_on_wake(s->loop, on_wake, s);
	opening = false;
	pp_log(PP_LOG_DEBUG, "bpf: %s", s->mode);
	*ret = s;
	return 0;

out_free_rb:
	ring_buffer__free(s->rb);
out_destroy:
	sockets_bpf__destroy(s->sockets);
	exits_bpf__destroy(s->exits);
out_free:
	opening = false;
	free(s);
	return err;
}

void pp_signals_close(struct pp_signals *s)
{
	if (!s)
		return;
	if (s->lazy)
		pp_loop_set_on_wake(s->loop, NULL, NULL);
	if (s->polling)
		pp_loop_cancel(s->loop, s->poll_id);
	ring_buffer__free(s->rb);
	sockets_bpf__destroy(s->sockets);
	exits_bpf__destroy(s->exits);
	free(s);
}

bool pp_signals_unsupported(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
	case -ENOSYS:
	case -EINVAL:
	case -ENOENT:
	case -EOPNOTSUPP:
	case -E2BIG:
	case -ESRCH:
	case -KERNEL_ENOTSUPP:
		return true;
	default:
		return false;
	}
}

const char *pp_signals_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no kernel BTF at " KERNEL_BTF;
	case -EPERM:
	case -EACCES:
		return "not permitted (needs root, or CAP_BPF with CAP_PERFMON)";
	case -ENOSYS:
		return "the kernel has no bpf() system call";
	case -EINVAL:
	case -E2BIG:
	case -ESRCH:
		return "the kernel rejected the BPF programs (run with -v for libbpf's log)";
	case -EOPNOTSUPP:
	case -KERNEL_ENOTSUPP:
		return "the kernel lacks the tracepoints or program types needed";
	default:
		return strerror(-err);
	}
}

const char *pp_signals_mode(const struct pp_signals *s)
{
	return s ? s->mode : "off";
}

bool pp_signals_has(const struct pp_signals *s, enum pp_ksig_kind kind)
{
	return s && (unsigned int)kind < _PP_KSIG_MAX && s->has[kind];
}

/* Add <key> -> <val> to map <fd> (<on>), or remove it; removing a missing key is fine. */
static int map_set(int fd, const void *key, const void *val, bool on)
{
	int err;

	if (fd < 0)
		return -EOPNOTSUPP;
	if (on)
		return bpf_map_update_elem(fd, key, val, BPF_ANY);
	err = bpf_map_delete_elem(fd, key);
	return err == -ENOENT ? 0 : err;
}

int pp_signals_track_tgid(struct pp_signals *s, uint32_t tgid, bool on)
{
	__u32 key = tgid, one = 1;

	if (!s || !tgid)
		return -EINVAL;
	return map_set(s->fd_tgids, &key, &one, on);
}

int pp_signals_track_cgroup(struct pp_signals *s, uint64_t cgroup_id, bool on)
{
	__u64 key = cgroup_id;
	__u32 one = 1;

	if (!s || !cgroup_id)
		return -EINVAL;
	return map_set(s->fd_cgroups, &key, &one, on);
}

int pp_signals_track_port(struct pp_signals *s, uint16_t port, bool on)
{
	__u32 word = port / 64;
	__u64 bits, bit = 1ull << (port % 64);
	int err;

	if (!s || !port)
		return -EINVAL;
	if (s->fd_ports < 0)
		return -EOPNOTSUPP;
	/* The BPF side only reads the words: this read-modify-write has no other writer. */
	err = bpf_map_lookup_elem(s->fd_ports, &word, &bits);
	if (err < 0)
		return err;
	bits = on ? bits | bit : bits & ~bit;
	return bpf_map_update_elem(s->fd_ports, &word, &bits, BPF_ANY);
}

int pp_signals_port_accepts(const struct pp_signals *s, uint16_t port, struct pp_port_accepts *ret)
{
	struct pp_ev_port st;
	__u32 key = port;
	int err;

	if (!s || !port || !ret)
		return -EINVAL;
	if (s->fd_accepts < 0)
		return -EOPNOTSUPP;
	err = bpf_map_lookup_elem(s->fd_accepts, &key, &st);
	if (err == -ENOENT) {
		*ret = (struct pp_port_accepts){0};
		return 0;
	}
	if (err < 0)
		return err;
	*ret = (struct pp_port_accepts){.accepts = st.accepts, .last = st.last_ns};
	return 0;
}

int pp_signals_cgroup_id(const char *path, uint64_t *ret_id)
{
	struct file_handle *fh;
	struct statfs sfs;
	struct stat st;
	uint64_t id = 0;
	int mount_id;

	if (!path || !ret_id)
		return -EINVAL;
	if (statfs(path, &sfs) < 0)
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	/* The file handle of a kernfs directory is its 64-bit node id, the cgroup id. */
	fh = malloc(sizeof(*fh) + sizeof(id));
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = sizeof(id);
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0) == 0 &&
	    fh->handle_bytes == sizeof(id))
		memcpy(&id, fh->f_handle, sizeof(id));
	free(fh);
	if (!id) {
		/* On 64-bit kernels the inode number is the same id. */
		if (stat(path, &st) < 0)
			return -errno;
		id = st.st_ino;
	}
	*ret_id = id;
	return 0;
}

int pp_signals_stats(const struct pp_signals *s, struct pp_signals_stats *ret)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t lost = 0;
	__u64 *vals;
	__u32 type;
	int err = 0;

	if (!s || !ret)
		return -EINVAL;
	if (ncpus < 0)
		return ncpus;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (type = 0; type < _PP_EV_MAX && !err; type++) {
		err = bpf_map_lookup_elem(s->fd_drops, &type, vals);
		for (int cpu = 0; !err && cpu < ncpus; cpu++)
			lost += vals[cpu];
	}
	free(vals);
	if (err < 0)
		return err;
	*ret = (struct pp_signals_stats){
		.events = s->events, .lost = lost, .malformed = s->malformed};
	return 0;
}
