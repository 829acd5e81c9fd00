// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s kernel signals (podprobe/signals.h): a container's main process exiting,
 * an OOM kill in its cgroup, a listener of its ports closing or opening, a wedged accept
 * queue; each matched to the watched containers by cgroup id, pid and port.
 */
#include "watch_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/accept_watch.h"
#include "podprobe/clock.h"
#include "podprobe/kubefmt.h"
#include "podprobe/log.h"
#include "podprobe/signals.h"

/* ---- kernel signals ----------------------------------------------------------------------- */

static void ksig_exit(struct pp_watch *w, const struct pp_ksig *sig)
{
	struct wcont *c;
	char how[128];
	const char *sname;

	if (!sig->group_dead)
		return;
	FOR_EACH_CONT(w, c)
	{
		if (!c->main_pid || c->main_pid != (int)sig->tgid || c->exited)
			continue;
		if (c->cg_id && sig->cgroup_id && c->cg_id != sig->cgroup_id)
			continue; /* a recycled pid elsewhere */
		sname = pp_signal_name(sig->signal);
		if (sig->signal)
			snprintf(how, sizeof(how), "was killed by signal %d (SIG%s)", sig->signal,
				 sname ? sname : "?");
		else
			snprintf(how, sizeof(how), "exited with code %d", sig->exit_code);
		pp_watch_cont_exited(c, how, sig->ts);
		return;
	}
}

static void ksig_oom(struct pp_watch *w, const struct pp_ksig *sig)
{
	struct wcont *c;
	char msg[256];

	FOR_EACH_CONT(w, c)
	{
		if (!(sig->cgroup_id && c->cg_id == sig->cgroup_id) &&
		    !(c->main_pid && c->main_pid == (int)sig->tgid))
			continue;
		snprintf(msg, sizeof(msg),
			 "Memory cgroup out of memory: killed process %u (%s) in container %s",
			 sig->tgid, sig->comm, cont_name(c));
		pp_watch_emit(c->pod, c, "Warning", "OOMKilling", msg, "kernel");
		return;
	}
}

/*
 * Does listener event <sig> concern probe <p> (its port, and its cgroup when known)? Port 0:
 * a listener on a port the kernel chose closed, whose LISTEN came before podprobe watched
 * (bpf/sockets.bpf.c): any listener of the container's cgroup then.
 */
static bool listener_of(const struct wprobe *p, const struct pp_ksig *sig)
{
	const struct wcont *c = p->c;

	if (!p->job.w.instance || p->job.target.kind == PP_HANDLER_EXEC)
		return false;
	if (!sig->port)
		return sig->cgroup_id && c->cg_id == sig->cgroup_id;
	if (p->job.target.port != sig->port)
		return false;
	return !sig->cgroup_id || !c->cg_id || c->cg_id == sig->cgroup_id;
}

static void ksig_listener(struct pp_watch *w, const struct pp_ksig *sig)
{
	bool open = sig->kind == PP_KSIG_LISTEN;
	pp_nsec now = pp_clock_now();
	struct wcont *c;
	char why[96];

	snprintf(why, sizeof(why), "listener on port %u closed", sig->port);
	FOR_EACH_CONT(w, c)
	{
		for (int k = 0; k < _PP_PROBE_MAX; k++) {
			struct wprobe *p = c->probes[k];

			if (!p || !listener_of(p, sig) || c->exited)
				continue;
			if (k == PP_PROBE_LIVENESS || k == PP_PROBE_READINESS)
				pp_accept_watch_reset(&c->aw);
			if (open && k != PP_PROBE_LIVENESS) {
				p->job.kernel_hint = true;
				pp_probe_runner_nudge(w->runner, &p->job, now);
			} else if (!open && k == PP_PROBE_READINESS && sig->port) {
				pp_watch_force_false(p, why, sig->ts, true);
			} else if (!open && k != PP_PROBE_STARTUP) {
				/*
				 * Liveness (its failureThreshold counts, as kubelet's), or a
				 * listener whose port is unknown: re-probe now, the worker decides.
				 */
				p->job.kernel_hint = true;
				p->signal_ts = sig->ts;
				pp_probe_runner_burst(w->runner, &p->job, now);
			}
		}
		if (!open && sig->port && c->probes[PP_PROBE_READINESS] &&
		    listener_of(c->probes[PP_PROBE_READINESS], sig))
			pp_watch_gate_update(c->pod, why);
	}
}

/* Wedged listeners (kubernetes issue 103632), judged as podprobe run does (sup_kernel.c). */
static void ksig_accepts(struct pp_watch *w, const struct pp_ksig *sig)
{
	struct wcont *c;
	char msg[256];

	if (!sig->queue_known)
		return;
	FOR_EACH_CONT(w, c)
	{
		struct wprobe *p = c->probes[PP_PROBE_LIVENESS] ? c->probes[PP_PROBE_LIVENESS]
								: c->probes[PP_PROBE_READINESS];

		if (!p || p->job.target.kind != PP_HANDLER_TCP_SOCKET ||
		    p->job.target.port != sig->port || !p->job.w.instance)
			continue;
		if (pp_accept_watch_on_report(&c->aw, sig->cookie, sig->backlog, sig->accepted,
					      sig->established, sig->ts,
					      p->job.cfg.timeout) != PP_ACCEPT_WEDGED)
			continue;
		snprintf(
			msg, sizeof(msg),
			"Listener on port %u has %u connections that were not accepted for %llu ms",
			sig->port, sig->backlog,
			(unsigned long long)(pp_accept_watch_stalled_for(&c->aw) /
					     PP_NSEC_PER_MSEC));
		pp_watch_emit(c->pod, c, "Warning", "NotAccepting", msg, "kernel");
		pp_watch_act_kill(c, "stopped accepting connections");
	}
}

static void on_ksig(void *ctx, const struct pp_ksig *sig)
{
	struct pp_watch *w = ctx;

	if ((unsigned int)sig->kind < 8)
		w->ksig[sig->kind]++;
	switch (sig->kind) {
	case PP_KSIG_EXIT:
		ksig_exit(w, sig);
		break;
	case PP_KSIG_OOM:
		ksig_oom(w, sig);
		break;
	case PP_KSIG_LISTEN:
	case PP_KSIG_UNLISTEN:
		ksig_listener(w, sig);
		break;
	case PP_KSIG_ACCEPTS:
		ksig_accepts(w, sig);
		break;
	default:
		break;
	}
}

void pp_watch_bpf_setup(struct pp_watch *w)
{
	/* Its probes wake the loop often: accept samples wait for them (pp_signals_cfg). */
	struct pp_signals_cfg cfg = {.fn = on_ksig, .ctx = w, .lazy_samples = true};
	int err;

	if (!w->cfg->use_bpf || geteuid() != 0) {
		pp_log(PP_LOG_NOTICE,
		       "kernel signals: off (%s): exits through pidfds, ports "
		       "through probes only",
		       w->cfg->use_bpf ? "not root" : "--no-bpf");
		return;
	}
	err = pp_signals_open(w->loop, &cfg, &w->bpf);
	if (err < 0) {
		w->bpf = NULL;
		pp_log(PP_LOG_WARN, "eBPF: %s, continuing without eBPF assist",
		       pp_signals_strerror(err));
		return;
	}
	pp_log(PP_LOG_NOTICE, "kernel signals: eBPF (%s)", pp_signals_mode(w->bpf));
}

void pp_watch_bpf_check(struct pp_watch *w)
{
	struct pp_signals_stats st;
	struct wcont *c;

	if (!w->bpf || pp_signals_stats(w->bpf, &st) < 0 || st.lost == w->bpf_lost)
		return;
	pp_log(PP_LOG_WARN, "kernel dropped %llu events (ring buffer full); probing every port now",
	       (unsigned long long)(st.lost - w->bpf_lost));
	w->bpf_lost = st.lost;
	FOR_EACH_CONT(w, c)
	{
		for (int k = 0; k < _PP_PROBE_MAX; k++)
			if (c->probes[k] && c->probes[k]->job.w.instance)
				pp_probe_runner_nudge(w->runner, &c->probes[k]->job,
						      pp_clock_now());
	}
}
