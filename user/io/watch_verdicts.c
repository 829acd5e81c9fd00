// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s verdicts: probe results from the shared probe runner (kubelet
 * pkg/kubelet/prober/worker.go doProbe: counters, initial results, startup before the others),
 * kernel signals that make a verdict False at once, verdict lines, the readiness gate
 * (KEP-580) and the opt-in restart through cgroup.kill.
 */
#include "watch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "podprobe/accept_watch.h"
#include "podprobe/clock.h"
#include "podprobe/event_fmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/metrics.h"
#include "podprobe/out_queue.h"
#include "podprobe/pod.h"

/* ---- output ------------------------------------------------------------------------------- */

void pp_watch_emit(struct wpod *p, const struct wcont *c, const char *type, const char *reason,
		   const char *message, const char *source)
{
	struct pp_watch *w = p->w;
	char ts[64];
	struct pp_event_line ev = {
		.time = ts,
		.namespace = p->wp->namespace,
		.pod = p->wp->name,
		.container = c ? cont_name(c) : "",
		.type = type,
		.reason = reason,
		.message = message,
		.source = source,
	};
	size_t size;
	char *line;
	int len;

	/* Failures and actions become Events; a recovery shows in the pod's conditions. */
	if (w->kube && w->kube->event && (!strcmp(type, "Warning") || !strcmp(reason, "Killing")))
		w->kube->event(w->kctx, p, type, reason, message);
	if (w->cfg->events == PP_EVENTS_NONE)
		return;
	pp_clock_rfc3339(pp_clock_now(), ts, sizeof(ts));
	size = pp_event_line_max(&ev);
	line = malloc(size);
	if (!line)
		return;
	len = w->cfg->events == PP_EVENTS_JSON ? pp_event_format_json(&ev, line, size)
					       : pp_event_format_text(&ev, line, size);
	if (len >= 0) {
		/* A reader that does not keep up holds up no probe (podprobe/out_queue.h). */
		line[len] = '\n';
		pp_outq_put(w->out, line, (size_t)len + 1);
		pp_outq_flush(w->out);
	}
	free(line);
}

/* ---- verdicts ----------------------------------------------------------------------------- */

/*
 * podprobe's readiness of pod <p>: every container running, each readiness verdict Success.
 * *<ret_known> is false while a readiness probe has had no attempt and nothing else says
 * False (the first verdict is awaited instead of telling a False that would flap).
 */
static bool pod_ready(const struct wpod *p, bool *ret_known)
{
	bool unknown = false;

	for (size_t i = 0; i < p->wp->n_containers; i++) {
		const struct wcont *c = &p->c[i];
		const struct wprobe *r = c->probes[PP_PROBE_READINESS];

		if (c->exited || !p->wp->containers[i].container_id ||
		    !p->wp->containers[i].running || (r && r->evidence && !r->ok)) {
			*ret_known = true;
			return false;
		}
		if (r && (!r->has_verdict || !r->evidence))
			unknown = true;
	}
	*ret_known = !unknown;
	return !unknown;
}

/* The readiness gate (KEP-580): told once the first verdict is in, then on each change. */
void pp_watch_gate_update(struct wpod *p, const char *message)
{
	struct pp_watch *w = p->w;
	bool known, ready = pod_ready(p, &known);

	if (!p->wp->gate || !w->kube || !w->kube->gate || !known || p->gate_sent == (int)ready)
		return;
	p->gate_sent = ready;
	w->kube->gate(w->kctx, p, ready, message);
}

void pp_watch_act_kill(struct wcont *c, const char *why)
{
	struct wpod *p = c->pod;
	char msg[512];
	int rc;

	/* A container whose main process ended is its runtime's to restart already. */
	if (!p->act || c->killed || !c->resolved || c->exited)
		return;
	c->killed = true; /* once per container ID: its runtime makes a new one */
	rc = pp_watch_cg_kill(c->cg);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "Cannot kill container %s (%s): %s", cont_name(c), why,
			 strerror(-rc));
		pp_watch_emit(p, c, "Warning", "FailedKill", msg, NULL);
		return;
	}
	p->w->restarts++;
	snprintf(msg, sizeof(msg),
		 "Container %s %s, killed its cgroup so that its runtime restarts it", cont_name(c),
		 why);
	pp_watch_emit(p, c, "Normal", "Killing", msg, NULL);
}

static void observe_latency(struct pp_watch *w, pp_nsec ts, pp_nsec now)
{
	if (ts && now >= ts)
		pp_prom_hist_observe(&w->detect_lat, now - ts);
}

/* Probe <p>'s verdict is now <ok> (why: <output>), from <source>; <ts>: kernel signal time. */
static void set_verdict(struct wprobe *p, bool ok, const char *output, const char *source,
			pp_nsec ts)
{
	struct wcont *c = p->c;
	enum pp_probe_kind kind = p->job.w.kind;
	pp_nsec now = pp_clock_now();
	char msg[768];

	p->seen = now;
	if (p->has_verdict && p->ok == ok)
		return;
	p->has_verdict = true;
	p->ok = ok;
	p->changed = now;
	if (ok) {
		p->forced = false;
		snprintf(msg, sizeof(msg), "%s probe succeeded", pp_probe_kind_str(kind));
		pp_watch_emit(c->pod, c, "Normal", "Healthy", msg, source);
	} else {
		observe_latency(c->pod->w, ts, now);
		snprintf(msg, sizeof(msg), "%s probe failed: %s", pp_probe_kind_str(kind),
			 output && *output ? output : "failed");
		pp_watch_emit(c->pod, c, "Warning", "Unhealthy", msg, source);
	}
	if (kind == PP_PROBE_READINESS)
		pp_watch_gate_update(c->pod, ok ? NULL : msg);
}

/*
 * A kernel signal says probe <p> fails now: False at once. With <burst> (a listener closed),
 * re-probe every few ms until the worker agrees or a success proves it a false alarm; after
 * the main process exited there is nothing to re-probe (its sockets may linger for a moment
 * and answer, so a success then proves nothing), the period goes on as scheduled.
 */
void pp_watch_force_false(struct wprobe *p, const char *why, pp_nsec ts, bool burst)
{
	struct pp_watch *w = p->c->pod->w;

	if (!p->job.w.instance)
		return;
	p->evidence = true;
	if (!p->has_verdict || p->ok) {
		p->forced = true;
		set_verdict(p, false, why, "kernel", ts);
	}
	if (!burst)
		return;
	p->job.kernel_hint = true;
	p->signal_ts = ts;
	pp_probe_runner_burst(w->runner, &p->job, pp_clock_now());
}

static enum pp_metric_result metric_result(enum pp_probe_result r)
{
	return r == PP_RESULT_SUCCESS	? PP_METRIC_SUCCESSFUL
	       : r == PP_RESULT_FAILURE ? PP_METRIC_FAILED
					: PP_METRIC_UNKNOWN;
}

static void probe_result(struct pp_probe_job *job, enum pp_probe_result result, const char *output,
			 const struct pp_probe_change *chg)
{
	struct wprobe *p = job->ctx;
	struct wcont *c = p->c;
	struct wpod *pod = c->pod;
	const char *source = job->kernel_hint ? "kernel" : "probe";

	if (result == PP_RESULT_HELD)
		return;
	if (result != PP_RESULT_UNKNOWN)
		p->evidence = true;
	pp_metrics_probe(&pod->w->metrics, pod->wp->namespace, pod->wp->name, pod->wp->uid,
			 cont_name(c), job->w.kind, metric_result(result), job->latency);
	if (result != PP_RESULT_FAILURE || chg->published)
		job->kernel_hint = false;
	/* The first counted readiness attempt tells the gate even when nothing changed (a
	 * True left by an earlier run must not stand). */
	if (job->w.kind == PP_PROBE_READINESS && result != PP_RESULT_UNKNOWN && !chg->published)
		pp_watch_gate_update(pod, output);
	if (chg->published) {
		set_verdict(p, chg->ok, output, source, chg->ok ? 0 : p->signal_ts);
		p->signal_ts = 0;
		/* kubelet: a startup success lets readiness run at once (worker.go). */
		if (job->w.kind == PP_PROBE_STARTUP && chg->ok && c->probes[PP_PROBE_READINESS])
			pp_probe_runner_poke(pod->w->runner, &c->probes[PP_PROBE_READINESS]->job,
					     pp_clock_now());
		if (job->w.kind == PP_PROBE_LIVENESS && !chg->ok)
			pp_watch_act_kill(c, "failed its liveness probe");
		return;
	}
	if (result == PP_RESULT_SUCCESS || result == PP_RESULT_WARNING) {
		/* A kernel signal was a false alarm: the worker never left Success. */
		if (p->forced && !c->exited && job->w.published == PP_VERDICT_SUCCESS)
			set_verdict(p, true, output, source, 0);
		else if (p->has_verdict && p->ok)
			p->seen = pp_clock_now();
	} else if (result == PP_RESULT_FAILURE && p->has_verdict && !p->ok)
		p->seen = pp_clock_now();
}

/* Is the startup probe (if any) done? kubelet runs the others only after it (P2.8). */
static bool probe_allowed(struct pp_probe_job *job)
{
	struct wprobe *p = job->ctx;
	struct wprobe *s = p->c->probes[PP_PROBE_STARTUP];

	return job->w.kind == PP_PROBE_STARTUP || !s || (s->has_verdict && s->ok);
}

/* probe.podprobe.io/tcp-accept: a tcpSocket success on a wedged listener is a failure. */
static enum pp_probe_result probe_adjust(struct pp_probe_job *job, enum pp_probe_result result,
					 const char **output)
{
	struct wprobe *p = job->ctx;
	const char *v =
		p->c->pod->spec ? pp_pod_annotation(p->c->pod->spec, PP_ANN_TCP_ACCEPT) : NULL;
	static char msg[128];

	if (result != PP_RESULT_SUCCESS || job->target.kind != PP_HANDLER_TCP_SOCKET || !v ||
	    strcmp(v, "true") || !pp_accept_watch_wedged(&p->c->aw))
		return result;
	snprintf(msg, sizeof(msg), "listener on port %d is not accepting connections (%u waiting)",
		 job->target.port, p->c->aw.backlog);
	*output = msg;
	return PP_RESULT_FAILURE;
}

const struct pp_probe_job_ops pp_watch_probe_ops = {
	.allowed = probe_allowed,
	.adjust = probe_adjust,
	.result = probe_result,
};

/* Where probe <p> goes: the pod's IP (kubelet's default host) and the resolved port. */
void pp_watch_prepare_target(struct wprobe *p)
{
	struct wcont *c = p->c;
	const struct pp_pod *spec = c->pod->spec;
	const struct pp_handler *h = &probe_spec(c->cs, p->job.w.kind)->handler;
	struct pp_probe_target *t = &p->job.target;
	const char *host = h->host && *h->host ? h->host : c->pod->wp->pod_ip;
	const char *acc = spec ? pp_pod_annotation(spec, PP_ANN_TCP_ACCEPT) : NULL, *ka;
	int port, err;

	memset(t, 0, sizeof(*t));
	t->kind = h->kind;
	t->mnt_ns_fd = -1;
	p->job.target_err = 0;
	if (h->kind == PP_HANDLER_EXEC) {
		t->argv = p->argv;
		t->cgroup = c->resolved ? c->cg : NULL;
		t->mnt_ns_fd = c->pidfd;
		if (!c->resolved || c->pidfd < 0) {
			p->job.target_err = -ENOENT;
			snprintf(p->job.target_msg, sizeof(p->job.target_msg),
				 "container's cgroup or main process not found yet");
		}
		return;
	}
	port = pp_container_resolve_port(c->cs, &h->port);
	if (port < 0) {
		/* kubelet prober.go: an unknown port name is an error (Unknown), no failure. */
		p->job.target_err = port;
		snprintf(p->job.target_msg, sizeof(p->job.target_msg), "port %s not found",
			 h->port.name ? h->port.name : "?");
		return;
	}
	if (!host) {
		p->job.target_err = -EADDRNOTAVAIL;
		t->port = port;
		snprintf(p->job.target_msg, sizeof(p->job.target_msg), "pod has no IP yet");
		return;
	}
	err = pp_probe_target_resolve(t, host, port);
	if (err < 0) {
		p->job.target_err = err;
		snprintf(p->job.target_msg, sizeof(p->job.target_msg), "lookup %s: no such host",
			 host);
		return;
	}
	t->host = host;
	t->https = h->scheme && !strcasecmp(h->scheme, "HTTPS");
	t->path = h->path;
	t->headers = h->headers;
	t->n_headers = h->n_headers;
	t->service = h->service;
	t->full_handshake = acc && !strcmp(acc, "true");
	ka = spec ? pp_pod_annotation(spec, PP_ANN_HTTP_KEEPALIVE) : NULL;
	t->keepalive = h->kind == PP_HANDLER_HTTP_GET && ka && !strcmp(ka, "true");
}

/* The main process of <c> exited (<how>); <ts> is the kernel's time of it, 0 = unknown. */
void pp_watch_cont_exited(struct wcont *c, const char *how, pp_nsec ts)
{
	char msg[384];

	if (c->exited)
		return;
	c->exited = true;
	snprintf(msg, sizeof(msg), "Main process (pid %d) of container %s %s", c->main_pid,
		 cont_name(c), how);
	pp_watch_emit(c->pod, c, "Warning", "ProcessExited", msg, "kernel");
	if (c->probes[PP_PROBE_READINESS])
		pp_watch_force_false(c->probes[PP_PROBE_READINESS], "main process exited", ts,
				     false);
	if (c->probes[PP_PROBE_LIVENESS])
		pp_watch_force_false(c->probes[PP_PROBE_LIVENESS], "main process exited", ts,
				     false);
	pp_watch_gate_update(c->pod, msg);
}
