// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel signals (eBPF) in `podprobe run`: exits acted on at once (a reaper collects the
 * zombie later), deaths elsewhere in a container's tree, OOM kills, listeners opening and
 * closing, wedged accept queues.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "podprobe/accept_watch.h"
#include "podprobe/clock.h"
#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/metrics.h"
#include "podprobe/pid_map.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"

static void on_reaper(void *ctx, int res)
{
	struct reaper *r = ctx, **pp;
	struct pp_exit_info ex;

	if (pp_runtime_reap(&r->sup->rt, &r->proc, &ex) == -EAGAIN) {
		pp_loop_poll(r->sup->loop, r->proc.pidfd, POLLIN, on_reaper, r, NULL);
		return;
	}
	for (pp = &r->sup->reapers; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

/*
 * The kernel reported the exit of <c>'s main process: act on it now; the pidfd (moved to a
 * reaper) only collects the zombie later. Whichever comes first wins; the other is ignored.
 */
static void kernel_exit(struct cont_rt *c, const struct pp_ksig *sig)
{
	struct pp_supervisor *sup = c->pod->sup;
	struct pp_exit_info ex = {.code = sig->exit_code < 0 ? 0 : sig->exit_code,
				  .signal = sig->signal};
	struct reaper *r = calloc(1, sizeof(*r));
	uint32_t instance = c->instance;

	if (!r)
		return; /* the pidfd path will handle it */
	ex.oom_killed = c->oom_seen && sig->signal == SIGKILL;
	pp_loop_cancel(sup->loop, c->poll_id);
	r->sup = sup;
	r->proc = c->proc;
	r->next = sup->reapers;
	sup->reapers = r;
	if (pp_loop_poll(sup->loop, r->proc.pidfd, POLLIN, on_reaper, r, NULL) < 0)
		pp_log(PP_LOG_WARN, "cannot watch an exited process, ignoring");
	c->proc = (struct pp_proc){.pid = -1, .pidfd = -1};
	sup->source = "kernel";
	pp_sup_container_exited(c, instance, &ex);
	sup->source = NULL;
}

/*
 * The running container whose main process is <pid>. Every exit of a container's processes
 * comes here (exec probes' too: they run in its cgroup), so it is a lookup, not a walk over
 * the pods: at 1,000 pods with exec probes at 1 s the walk was podprobe's largest item in perf
 * (7% of its samples), and it grew with pods x exits.
 */
static struct cont_rt *find_by_pid(struct pp_supervisor *sup, pid_t pid)
{
	struct cont_rt *c;
	uint32_t g;

	if (sup->main_pids_partial) {
		for (size_t i = 0; i < sup->n_pods; i++) {
			struct pod_rt *pr = pp_sup_pod(sup, i);

			for (size_t j = 0; pr && j < pr->st.n; j++)
				if (pr->c[j].instance && pr->c[j].proc.pid == pid)
					return &pr->c[j];
		}
		return NULL;
	}
	if (!pp_pid_map_get(&sup->main_pids, pid, &g) || g >= sup->n_conts)
		return NULL;
	/* The entry may be stale (that process is gone, the index taken again): the container
	 * says. */
	c = sup->conts[g];
	return c && c->instance && c->proc.pid == pid && c->pod->spec && !c->pod->gone ? c : NULL;
}

/* <c>'s main process by pid, for find_by_pid(); its previous one forgotten. */
static void pid_track(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;

	pp_sup_pid_untrack(c);
	if (c->proc.pid <= 0)
		return;
	if (pp_pid_map_set(&sup->main_pids, c->proc.pid, c->gidx) == 0)
		c->pid_tracked = c->proc.pid;
	else
		sup->main_pids_partial = true;
}

void pp_sup_pid_untrack(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;
	uint32_t g;

	/* Only its own entry: the pid may be another container's by now. */
	if (c->pid_tracked > 0 && pp_pid_map_get(&sup->main_pids, c->pid_tracked, &g) &&
	    g == c->gidx)
		pp_pid_map_del(&sup->main_pids, c->pid_tracked);
	c->pid_tracked = 0;
}

/* The parent of <pid> from /proc, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	pid_t ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

/*
 * The container whose main process is an ancestor of a process whose parent is <ppid>. Exec
 * probes and their children descend from podprobe itself, so they never match.
 */
static struct cont_rt *find_by_ancestry(struct pp_supervisor *sup, pid_t ppid)
{
	for (int depth = 0; depth < 16 && ppid > 1 && ppid != getpid(); depth++) {
		struct cont_rt *c = find_by_pid(sup, ppid);

		if (c)
			return c;
		ppid = parent_of(ppid);
	}
	return NULL;
}

static bool crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGKILL || sig == SIGSYS;
}

static void ksig_exit(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct cont_rt *c = find_by_pid(sup, (pid_t)sig->tgid);
	const char *sname;
	char msg[256];

	if (c) {
		if (sig->group_dead)
			kernel_exit(c, sig);
		return;
	}
	c = find_by_ancestry(sup, (pid_t)sig->ppid);
	/*
	 * A process of the container's tree (not its main process) died. Clean exits are routine,
	 * and so are deaths while podprobe itself stops the container.
	 */
	if (!c || (!sig->signal && !sig->exit_code) || c->pod->st.c[c->ci].stopping)
		return;
	/*
	 * Non-zero exits and polite signals are a script's business (a grep that matched nothing,
	 * a helper told to stop); the signals of a crash are worth an event.
	 */
	if (!crash_signal(sig->signal)) {
		pp_log(PP_LOG_DEBUG,
		       "process %s (pid %u) in container %s exited: code %d, signal %d", sig->comm,
		       sig->tgid, pp_pod_container(c->pod->spec, c->ci)->name, sig->exit_code,
		       sig->signal);
		return;
	}
	sname = pp_signal_name(sig->signal);
	if (sig->signal)
		snprintf(msg, sizeof(msg),
			 "Process %s (pid %u) in container %s was killed by signal %d (SIG%s)",
			 sig->comm, sig->tgid, pp_pod_container(c->pod->spec, c->ci)->name,
			 sig->signal, sname ? sname : "?");
	else
		snprintf(msg, sizeof(msg),
			 "Process %s (pid %u) in container %s exited with code %d", sig->comm,
			 sig->tgid, pp_pod_container(c->pod->spec, c->ci)->name, sig->exit_code);
	sup->source = "kernel";
	pp_sup_emit_event(c->pod, c->ci, PP_EVENT_WARNING, "ProcessExited", msg, pp_clock_now());
	sup->source = NULL;
}

static void ksig_oom(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct cont_rt *c = find_by_pid(sup, (pid_t)sig->tgid);
	char msg[256];

	if (!c)
		c = find_by_ancestry(sup, (pid_t)sig->ppid);
	if (!c)
		for (size_t i = 0; !c && i < sup->n_pods; i++) {
			struct pod_rt *pr = pp_sup_pod(sup, i);

			for (size_t j = 0; pr && !c && j < pr->st.n; j++)
				if (sig->cgroup_id && pr->c[j].cgroup_id == sig->cgroup_id)
					c = &pr->c[j];
		}
	if (!c)
		return;
	if (c->proc.pid == (pid_t)sig->tgid)
		c->oom_seen = true;
	snprintf(msg, sizeof(msg),
		 "Memory cgroup out of memory: killed process %u (%s) in container %s", sig->tgid,
		 sig->comm, pp_pod_container(c->pod->spec, c->ci)->name);
	sup->source = "kernel";
	pp_sup_emit_event(c->pod, c->ci, PP_EVENT_WARNING, "OOMKilling", msg, pp_clock_now());
	sup->source = NULL;
}

/* A listener on <port> opened (<open>) or closed: probe the affected probes now. */
static void ksig_listener(struct pp_supervisor *sup, uint16_t port, bool open)
{
	pp_nsec now = pp_clock_now();
	struct port_watch *w;

	if (!port)
		return;
	/* Another listener, or none: the evidence about the old one no longer applies. */
	w = pp_sup_port_watch(sup, port, open);
	if (!w)
		return;
	pp_accept_watch_reset(&w->aw);
	if (open)
		w->seen_listen = true;
	for (struct probe_rt *p = w->probes; p; p = p->port_next) {
		struct pp_probe_job *job = &p->job;
		enum pp_probe_kind kind = job->w.kind;

		if (!job->w.instance)
			continue;
		if (open && kind != PP_PROBE_LIVENESS) {
			/* Startup or readiness: the port is up, ask now instead of next period. */
			job->kernel_hint = true;
			pp_probe_runner_nudge(sup->runner, job, now);
		} else if (!open && kind != PP_PROBE_STARTUP && sup->cfg->fast_detect) {
			/* Liveness or readiness: probe now and again every few ms until it settles.
			 */
			job->kernel_hint = true;
			pp_probe_runner_burst(sup->runner, job, now);
		}
	}
}

/*
 * Wedged listeners (kubernetes issue 103632): the kernel completes handshakes for an app that
 * never calls accept(), so tcpSocket probes pass. pp_accept_watch judges the kernel's samples
 * of the listener: connections waiting and none accepted for a probe timeout is NotAccepting;
 * an accept or an empty queue clears it.
 */
static void ksig_accepts(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct port_watch *w;
	char msg[256];

	if (!sig->queue_known)
		return;
	w = pp_sup_port_watch(sup, sig->port, true);
	if (!w)
		return;
	pp_sup_port_tcp_refresh(w);
	switch (pp_accept_watch_on_report(&w->aw, sig->cookie, sig->backlog, sig->accepted,
					  sig->established, sig->ts, w->tcp_timeout)) {
	case PP_ACCEPT_WEDGED:
		if (!w->tcp_owner)
			break;
		snprintf(
			msg, sizeof(msg),
			"Listener on port %u has %u connections that were not accepted for %llu ms",
			sig->port, sig->backlog,
			(unsigned long long)(pp_accept_watch_stalled_for(&w->aw) /
					     PP_NSEC_PER_MSEC));
		sup->source = "kernel";
		pp_sup_emit_event(w->tcp_owner->pod, w->tcp_owner->ci, PP_EVENT_WARNING,
				  "NotAccepting", msg, pp_clock_now());
		sup->source = NULL;
		break;
	case PP_ACCEPT_CLEARED:
		pp_log(PP_LOG_DEBUG, "kernel: port %u accepts connections again", sig->port);
		break;
	default:
		break;
	}
}

static void on_ksig(void *ctx, const struct pp_ksig *sig)
{
	struct pp_supervisor *sup = ctx;
	pp_nsec now;

	switch (sig->kind) {
	case PP_KSIG_EXIT:
		ksig_exit(sup, sig);
		break;
	case PP_KSIG_OOM:
		ksig_oom(sup, sig);
		break;
	case PP_KSIG_ACCEPTS:
		ksig_accepts(sup, sig);
		break;
	case PP_KSIG_LISTEN:
	case PP_KSIG_UNLISTEN:
		pp_log(PP_LOG_DEBUG, "kernel: port %u %s (pid %u)", sig->port,
		       sig->kind == PP_KSIG_LISTEN ? "listening" : "closed", sig->tgid);
		ksig_listener(sup, sig->port, sig->kind == PP_KSIG_LISTEN);
		break;
	default:
		break;
	}
	/* Detection latency: from the kernel seeing it to podprobe having acted on it. */
	now = pp_clock_now();
	if ((unsigned int)sig->kind < _PP_KSIG_MAX && sig->ts && sig->ts <= now)
		pp_prom_hist_observe(&sup->ksig_latency[sig->kind], now - sig->ts);
}

/* Watch <c>'s new instance: its cgroup (or pid) and the ports its probes and spec name. */
void pp_sup_bpf_track(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);

	pid_track(c); /* with eBPF or not: find_by_pid() must know every main process */
	if (!sup->bpf)
		return;
	c->cgroup_id = c->proc.cg2_id; /* pp_runtime_spawn()'s; an adopted one's by its path */
	if (!c->proc.cg2 || (!c->cgroup_id && pp_signals_cgroup_id(c->proc.cg2, &c->cgroup_id) < 0))
		pp_signals_track_tgid(sup->bpf, (uint32_t)c->proc.pid, true);
	for (size_t i = 0; i < cs->n_ports; i++)
		if (cs->ports[i].container_port > 0 && cs->ports[i].container_port <= 65535)
			pp_signals_track_port(sup->bpf, (uint16_t)cs->ports[i].container_port,
					      true);
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k] && c->probes[k]->job.target.kind != PP_HANDLER_EXEC &&
		    c->probes[k]->job.target.port > 0)
			pp_signals_track_port(sup->bpf, (uint16_t)c->probes[k]->job.target.port,
					      true);
}

/* Once a second: events the kernel had to drop mean a resync (probe every port now). */
void pp_sup_bpf_check(struct pp_supervisor *sup)
{
	struct pp_signals_stats st;

	if (!sup->bpf || pp_signals_stats(sup->bpf, &st) < 0 || st.lost == sup->bpf_lost)
		return;
	pp_log(PP_LOG_WARN, "kernel dropped %llu events (ring buffer full); probing every port now",
	       (unsigned long long)(st.lost - sup->bpf_lost));
	sup->bpf_lost = st.lost;
	for (uint32_t i = 0; i < sup->n_probes; i++)
		if (sup->probes[i]->job.target.kind != PP_HANDLER_EXEC)
			pp_probe_runner_nudge(sup->runner, &sup->probes[i]->job, pp_clock_now());
}

void pp_sup_bpf_setup(struct pp_supervisor *sup)
{
	/* Its probes wake the loop often: accept samples wait for them (pp_signals_cfg). */
	struct pp_signals_cfg cfg = {.fn = on_ksig, .ctx = sup, .lazy_samples = true};
	int err;

	if (!sup->cfg->use_bpf) {
		pp_log(PP_LOG_NOTICE, "kernel signals: off (--no-bpf): exits through pidfds, "
				      "ports through probes only");
		return;
	}
	if (geteuid() != 0) {
		pp_log(PP_LOG_NOTICE, "kernel signals: off (not root): exits through pidfds, "
				      "ports through probes only");
		return;
	}
	err = pp_signals_open(sup->loop, &cfg, &sup->bpf);
	if (err < 0) {
		sup->bpf = NULL;
		pp_log(PP_LOG_WARN, "eBPF: %s, continuing without eBPF assist",
		       pp_signals_strerror(err));
		return;
	}
	/* podprobe's own cgroup subtree holds every container: one entry covers them all. */
	if (sup->rt.cg2_root) {
		uint64_t id;

		if (pp_signals_cgroup_id(sup->rt.cg2_root, &id) == 0)
			pp_signals_track_cgroup(sup->bpf, id, true);
	}
	pp_log(PP_LOG_NOTICE, "kernel signals: eBPF (%s)%s", pp_signals_mode(sup->bpf),
	       sup->cfg->fast_detect ? "" : ", fast detection off");
	pp_sched_push(&sup->sched, pp_clock_now() + SUP_BPF_CHECK_PERIOD, SUP_BPF_KEY, 0);
}

void pp_sup_reapers_free(struct pp_supervisor *sup)
{
	while (sup->reapers) {
		struct reaper *r = sup->reapers;
		struct pp_exit_info ex;

		/* Killed or dead already: the zombie appears within moments. */
		for (int i = 0; i < 200 && pp_runtime_reap(&sup->rt, &r->proc, &ex) == -EAGAIN; i++)
			poll(NULL, 0, 5);
		pp_runtime_forget(&r->proc); /* what a reap that never came left */
		sup->reapers = r->next;
		free(r);
	}
}
