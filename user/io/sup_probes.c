// SPDX-License-Identifier: Apache-2.0
/*
 * The probes of each container: targets for the running instance, the runner's callbacks
 * (allowed, shortcut, adjust, result) and verdicts fed to the controller.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "podprobe/accept_watch.h"
#include "podprobe/clock.h"
#include "podprobe/expand.h"
#include "podprobe/lifecycle.h"
#include "podprobe/metrics.h"
#include "podprobe/log.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"

/* ---- probes ------------------------------------------------------------------------------------
 */

static const struct pp_probe_spec *probe_spec(const struct pp_container_spec *cs,
					      enum pp_probe_kind kind)
{
	return kind == PP_PROBE_STARTUP	   ? &cs->startup
	       : kind == PP_PROBE_LIVENESS ? &cs->liveness
					   : &cs->readiness;
}

static bool pod_annotation_true(const struct pp_pod *pod, const char *name)
{
	const char *v = pp_pod_annotation(pod, name);

	return v && !strcmp(v, "true");
}

void pp_sup_exec_target(const struct cont_rt *c, struct pp_probe_target *t, char *const *argv)
{
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);

	t->argv = argv;
	t->envp = c->env.v;
	t->working_dir = cs->working_dir;
	t->cgroup = c->proc.cg2;
	/* Its volumes are mounted in the container's own mount namespace: join that one. */
	t->mnt_ns_fd = cs->n_mounts ? c->proc.pidfd : -1;
	t->sec = &c->sec;
}

/* Where the probe of the container's new instance goes (named ports, hosts, exec argv). */
static void probe_prepare_target(struct probe_rt *p)
{
	struct cont_rt *c = p->c;
	struct pp_probe_job *job = &p->job;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);
	const struct pp_handler *h = &probe_spec(cs, job->w.kind)->handler;
	struct pp_probe_target *t = &job->target;
	int port, err;

	pp_strv_free(&p->argv);
	memset(t, 0, sizeof(*t));
	t->kind = h->kind;
	t->mnt_ns_fd = -1;
	job->target_err = 0;
	if (h->kind == PP_HANDLER_EXEC) {
		/* H-EXEC.1: $(VAR) from the container's literal env values only. */
		for (size_t i = 0; i < h->n_command && !job->target_err; i++)
			job->target_err = pp_strv_push(
				&p->argv, pp_expand_vars(h->command[i], cs->env, cs->n_env));
		pp_sup_exec_target(c, t, p->argv.v);
		if (job->target_err)
			snprintf(job->target_msg, sizeof(job->target_msg), "out of memory");
		return;
	}
	port = pp_container_resolve_port(cs, &h->port);
	if (port < 0) {
		/* P1.7: an unknown port name errors (Unknown), it does not fail. */
		job->target_err = port;
		snprintf(job->target_msg, sizeof(job->target_msg), "port %s not found",
			 h->port.name ? h->port.name : "?");
		return;
	}
	err = pp_probe_target_resolve(t, h->host, port);
	if (err < 0) {
		job->target_err = err;
		snprintf(job->target_msg, sizeof(job->target_msg), "lookup %s: no such host",
			 h->host ? h->host : "");
		return;
	}
	t->host = h->host && *h->host ? h->host : "127.0.0.1";
	t->https = h->scheme && !strcasecmp(h->scheme, "HTTPS");
	t->path = h->path;
	t->headers = h->headers;
	t->n_headers = h->n_headers;
	t->service = h->service;
	/* tcp-accept judges the listener's accept queue: the probe must reach that queue. */
	t->full_handshake = pod_annotation_true(c->pod->spec, PP_ANN_TCP_ACCEPT);
	/* Opt-in: one HTTP/1.1 connection per target, retried fresh once (kubernetes #15733). */
	t->keepalive = h->kind == PP_HANDLER_HTTP_GET &&
		       pod_annotation_true(c->pod->spec, PP_ANN_HTTP_KEEPALIVE);
}

/* kubelet's prober_probe_total result label (pkg/kubelet/prober/prober_manager.go). */
static enum pp_metric_result metric_result(enum pp_probe_result r)
{
	switch (r) {
	case PP_RESULT_SUCCESS:
		return PP_METRIC_SUCCESSFUL;
	case PP_RESULT_FAILURE:
		return PP_METRIC_FAILED;
	default:
		return PP_METRIC_UNKNOWN;
	}
}

/* One attempt in prober_probe_total: the series looked up by name once, then through p->mref. */
static void count_metrics(struct probe_rt *p, enum pp_metric_result result, pp_nsec latency)
{
	struct pod_rt *pr = p->pod;
	struct pp_metrics *m = &p->sup->metrics;

	if (pp_metrics_count(m, &p->mref, result, latency))
		return;
	if (!pp_metrics_find(m, pr->spec->namespace, pr->spec->name, pr->st.uid,
			     pp_pod_container(pr->spec, p->c->ci)->name, p->job.w.kind, &p->mref))
		pp_metrics_count(m, &p->mref, result, latency);
}

static bool probe_allowed(struct pp_probe_job *job)
{
	struct probe_rt *p = job->ctx;

	return pp_lc_probe_allowed(&p->pod->st, p->ci, job->w.kind);
}

/* What probe_allowed() reads: the pod's gate fields and the container's state. */
static void probe_prefetch(const struct pp_probe_job *job)
{
	const struct probe_rt *p = job->ctx;

	__builtin_prefetch(&p->pod->st.c[p->ci]);
}

static void probe_result(struct pp_probe_job *job, enum pp_probe_result result, const char *output,
			 const struct pp_probe_change *chg)
{
	struct probe_rt *p = job->ctx;
	struct cont_rt *c = p->c;
	struct pod_rt *pr = p->pod;
	char msg[PP_PROBE_OUTPUT_MAX + 256];
	const char *reason;
	bool kernel;
	pp_nsec now;

	if (result == PP_RESULT_HELD)
		return; /* no attempt as far as anyone outside is concerned */
	kernel = job->kernel_hint;
	if (result != PP_RESULT_FAILURE || chg->published)
		job->kernel_hint = false;
	count_metrics(p, metric_result(result), job->latency);
	reason = pp_probe_event(job->w.kind, result, output, msg, sizeof(msg));
	if (!reason && !chg->published)
		return; /* the common case: no event, no change, no clock read, no pod line */
	/* A burst means the kernel saw the listener close: say so in what follows. */
	pr->sup->source = kernel ? "kernel" : "probe";
	now = pp_clock_now();
	if (reason) {
		pp_sup_emit_event(pr, c->ci, PP_EVENT_WARNING, reason, msg, now);
		pp_sup_record_event(pr, c->ci, PP_EVENT_WARNING, reason, msg);
	}
	if (!chg->published) {
		pr->sup->source = NULL;
		return;
	}
	/* Start to first readiness, the figure kubernetes issue 96411 asks of kubelet. */
	if (job->w.kind == PP_PROBE_READINESS && chg->ok && c->ready_counted != job->w.instance &&
	    pr->st.c[c->ci].started_at && pr->st.c[c->ci].started_at <= now) {
		c->ready_counted = job->w.instance;
		pp_prom_hist_observe(&pr->sup->first_ready, now - pr->st.c[c->ci].started_at);
	}
	pp_lc_on_probe_verdict(&pr->st, c->ci, job->w.instance, job->w.kind, chg->ok, now,
			       &pr->sup->acts);
	/* P2.5: a container that just started gets its readiness probe at once. */
	if (job->w.kind == PP_PROBE_STARTUP && chg->ok && c->probes[PP_PROBE_READINESS])
		pp_probe_runner_poke(pr->sup->runner, &c->probes[PP_PROBE_READINESS]->job, now);
	pp_sup_run_actions(pr);
	pr->sup->source = NULL;
}

#define PORT_TAB_SIZE 65536

/*
 * By port number, in a table of pointers: the kernel's records name a port and come with
 * every accept sample, so finding its watch must not cost a search over every port. calloc()
 * of 512 KiB maps zero pages: only the pages of ports in use are ever touched.
 */
struct port_watch *pp_sup_port_watch(struct pp_supervisor *sup, uint16_t port, bool add)
{
	struct port_watch *w;

	if (!sup->ports) {
		if (!add)
			return NULL;
		sup->ports = calloc(PORT_TAB_SIZE, sizeof(*sup->ports));
		if (!sup->ports)
			return NULL;
	}
	w = sup->ports[port];
	if (w || !add)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->port = port;
	w->stale = true;
	sup->ports[port] = w;
	return w;
}

void pp_sup_ports_free(struct pp_supervisor *sup)
{
	if (!sup->ports)
		return;
	for (size_t i = 0; i < PORT_TAB_SIZE; i++)
		free(sup->ports[i]);
	free(sup->ports);
	sup->ports = NULL;
}

void pp_sup_port_tcp_refresh(struct port_watch *w)
{
	if (!w->stale)
		return;
	w->tcp_owner = NULL;
	w->tcp_timeout = PP_NSEC_PER_SEC;
	for (struct probe_rt *p = w->probes; p; p = p->port_next) {
		const struct pp_probe_job *job = &p->job;

		if (!job->w.instance || job->target.kind != PP_HANDLER_TCP_SOCKET)
			continue;
		if (!w->tcp_owner || job->cfg.timeout < w->tcp_timeout)
			w->tcp_timeout = job->cfg.timeout;
		if (!w->tcp_owner)
			w->tcp_owner = p;
	}
	w->stale = false;
}

/*
 * <p> was armed, disarmed or goes: its port's cached tcp_owner and tcp_timeout are stale.
 * Returns that port's watch (NULL when <p> is on none).
 */
static struct port_watch *port_touch(struct pp_supervisor *sup, const struct probe_rt *p)
{
	struct port_watch *w = p->port_of ? pp_sup_port_watch(sup, p->port_of, false) : NULL;

	if (w)
		w->stale = true;
	return w;
}

static void port_unlink(struct pp_supervisor *sup, struct probe_rt *p)
{
	struct port_watch *w = port_touch(sup, p);

	for (struct probe_rt **pp = w ? &w->probes : NULL; pp && *pp; pp = &(*pp)->port_next)
		if (*pp == p) {
			*pp = p->port_next;
			break;
		}
	p->port_next = NULL;
	p->port_of = 0;
}

/* <p> on the list of the port its target now names (a network probe), off any other. */
static void port_link(struct pp_supervisor *sup, struct probe_rt *p)
{
	const struct pp_probe_target *t = &p->job.target;
	uint16_t port = t->kind != PP_HANDLER_EXEC && t->port > 0 && t->port <= 65535
				? (uint16_t)t->port
				: 0;
	struct port_watch *w;

	if (p->port_of == port)
		return;
	port_unlink(sup, p);
	w = port ? pp_sup_port_watch(sup, port, true) : NULL;
	if (!w)
		return;
	p->port_next = w->probes;
	w->probes = p;
	p->port_of = port;
}

/* probe.podprobe.io/tcp-accept: a tcpSocket success on a wedged listener is a failure. */
/*
 * Issue 11, item 6: a startup or readiness attempt refused in the container's first period,
 * on a port the kernel has not yet seen listen, came before the app could: it counts for
 * nothing and makes no Unhealthy event; the LISTEN pokes the next attempt (or the period
 * brings it). Only with eBPF, which sees the LISTEN; liveness is never held.
 */
static bool held_before_listen(struct pp_probe_job *job, enum pp_probe_result result,
			       const char *output)
{
	struct probe_rt *p = job->ctx;
	struct pp_supervisor *sup;
	const struct pp_container_state *cs;
	struct port_watch *w;

	/* The attempt's own fields first: a success decides without the pod's cache lines. */
	if (result != PP_RESULT_FAILURE || job->w.kind == PP_PROBE_LIVENESS ||
	    job->target.kind == PP_HANDLER_EXEC || job->target.port <= 0 || !output ||
	    !strstr(output, "connection refused"))
		return false;
	sup = p->pod->sup;
	cs = &p->pod->st.c[p->ci];
	if (!sup->bpf)
		return false;
	if (pp_clock_now() > cs->started_at + job->cfg.initial_delay + job->cfg.period)
		return false;
	w = pp_sup_port_watch(sup, (uint16_t)job->target.port, false);
	return !w || !w->seen_listen;
}

static enum pp_probe_result probe_adjust(struct pp_probe_job *job, enum pp_probe_result result,
					 const char **output)
{
	struct probe_rt *p = job->ctx;
	struct pp_supervisor *sup;
	struct port_watch *w;

	if (held_before_listen(job, result, *output))
		return PP_RESULT_HELD;
	/* tcp-accept, as the attempt's target has it (probe_prepare_target()): no lookup per result
	 */
	if (result != PP_RESULT_SUCCESS || job->target.kind != PP_HANDLER_TCP_SOCKET ||
	    !job->target.full_handshake)
		return result;
	sup = p->pod->sup;
	w = pp_sup_port_watch(sup, (uint16_t)job->target.port, false);
	if (!w || !pp_accept_watch_wedged(&w->aw))
		return result;
	snprintf(sup->adjust_msg, sizeof(sup->adjust_msg),
		 "listener on port %d is not accepting connections (%u waiting)", job->target.port,
		 w->aw.backlog);
	*output = sup->adjust_msg;
	return PP_RESULT_FAILURE;
}

/*
 * probe.podprobe.io/passive: connections the kernel saw established on the port since the
 * last attempt (not counting the probe's own) stand in for a tcpSocket liveness success.
 */
static bool probe_shortcut(struct pp_probe_job *job, const char **ret_output)
{
	struct probe_rt *p = job->ctx;
	struct pp_supervisor *sup;
	struct pp_port_accepts pa;

	/* The job's own fields first: most attempts decide without the pod's cache lines. */
	if (job->w.kind != PP_PROBE_LIVENESS || job->target.kind != PP_HANDLER_TCP_SOCKET)
		return false;
	sup = p->pod->sup;
	if (!sup->bpf || !pod_annotation_true(p->pod->spec, PP_ANN_PASSIVE) ||
	    pp_signals_port_accepts(sup->bpf, (uint16_t)job->target.port, &pa) < 0)
		return false;
	if (p->passive_seen && pa.accepts > p->passive_seen &&
	    pa.last + job->cfg.period >= pp_clock_now()) {
		snprintf(sup->adjust_msg, sizeof(sup->adjust_msg),
			 "passive: %llu connections accepted since the last check",
			 (unsigned long long)(pa.accepts - p->passive_seen));
		p->passive_seen = pa.accepts;
		*ret_output = sup->adjust_msg;
		return true;
	}
	/* A real probe follows; a full handshake of its own would count once, and is no evidence.
	 */
	p->passive_seen = pa.accepts + (job->target.full_handshake ? 1 : 0);
	return false;
}

static const struct pp_probe_job_ops probe_ops = {
	.allowed = probe_allowed,
	.prefetch = probe_prefetch,
	.shortcut = probe_shortcut,
	.adjust = probe_adjust,
	.result = probe_result,
};

/* The container's instance <instance> runs: start its probes (P2.2, P2.3). */
void pp_sup_probes_arm(struct cont_rt *c, uint32_t instance, pp_nsec now, const uint8_t *published)
{
	struct pp_supervisor *sup = c->pod->sup;

	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct probe_rt *p = c->probes[k];
		pp_nsec spread = 0, window;

		if (!p)
			continue;
		probe_prepare_target(p);
		port_link(sup, p);
		/* Liveness first runs are spread so that many pods do not probe in bursts. */
		window = p->job.cfg.period < PP_PROBE_SPREAD_MAX ? p->job.cfg.period
								 : PP_PROBE_SPREAD_MAX;
		if (k == PP_PROBE_LIVENESS && window) {
			sup->rand = sup->rand * 6364136223846793005ull + 1442695040888963407ull;
			spread = (sup->rand >> 11) % window;
		}
		pp_probe_runner_arm(sup->runner, &p->job, instance, now, spread);
		port_touch(sup, p);
		if (published)
			pp_probe_worker_restore(&p->job.w, published[k]);
	}
}

/* The container's process is gone: stop its probes and drop attempts in flight. */
void pp_sup_probes_disarm(struct cont_rt *c)
{
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k]) {
			pp_probe_runner_disarm(c->pod->sup->runner, &c->probes[k]->job);
			port_touch(c->pod->sup, c->probes[k]);
		}
}

int pp_sup_probes_setup(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);

	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct probe_rt *p, **tab;

		if (!probe_spec(cs, (enum pp_probe_kind)k)->set)
			continue;
		/* Cache-line aligned: the job's tail, pod, sup, ci and mref share one line. */
		p = aligned_alloc(64, (sizeof(*p) + 63) & ~(size_t)63);
		if (p)
			memset(p, 0, sizeof(*p));
		tab = realloc(sup->probes, (sup->n_probes + 1) * sizeof(*tab));
		if (tab)
			sup->probes = tab;
		if (!p || !tab || pp_probe_runner_add(sup->runner, &p->job) < 0) {
			free(p);
			return -ENOMEM;
		}
		sup->probes[sup->n_probes++] = p;
		p->c = c;
		p->pod = c->pod;
		p->sup = sup;
		p->ci = c->ci;
		p->job.ctx = p;
		p->job.ops = &probe_ops;
		c->probes[k] = p;
		pp_probe_worker_init(&p->job.w, (enum pp_probe_kind)k);
		if (pp_probe_cfg_from_spec(c->pod->spec, cs, (enum pp_probe_kind)k, &p->job.cfg) <
		    0)
			pp_log(PP_LOG_WARN,
			       "pod '%s': a " PP_ANN_PREFIX "* annotation is not a number of "
			       "milliseconds (1..86400000), ignoring",
			       c->pod->spec->name);
	}
	return 0;
}

void pp_sup_probes_release(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;

	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct probe_rt *p = c->probes[k];

		if (!p)
			continue;
		pp_probe_runner_remove(sup->runner, &p->job);
		port_unlink(sup, p);
		for (uint32_t i = 0; i < sup->n_probes; i++)
			if (sup->probes[i] == p) {
				sup->probes[i] = sup->probes[--sup->n_probes];
				break;
			}
		pp_strv_free(&p->argv);
		free(p);
		c->probes[k] = NULL;
	}
}

void pp_sup_probes_free(struct pp_supervisor *sup)
{
	for (uint32_t i = 0; i < sup->n_probes; i++) {
		pp_strv_free(&sup->probes[i]->argv);
		free(sup->probes[i]);
	}
	free(sup->probes);
	sup->probes = NULL;
	sup->n_probes = 0;
}
