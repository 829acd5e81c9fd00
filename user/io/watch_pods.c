// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s pods and containers: a Pod object of the source into watched containers
 * and their probes (added to the shared probe runner), what changed between two versions of
 * a pod (a new container instance starts its probes over, as kubelet's workers do), and the
 * scan of the cgroup tree for the containers' cgroups and main processes.
 */
#include "watch_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/manifest.h"
#include "podprobe/metrics.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"
#include "podprobe/signals.h"
#include "podprobe/watch_pod.h"

#define SCAN_PERIOD (2 * PP_NSEC_PER_SEC)

/* ---- containers --------------------------------------------------------------------------- */

static void on_pidfd(void *ctx, int res);

static void track_ports(struct wcont *c, bool on)
{
	struct pp_signals *bpf = c->pod->w->bpf;

	if (!bpf)
		return;
	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct wprobe *p = c->probes[k];

		if (p && p->job.target.kind != PP_HANDLER_EXEC && p->job.target.port > 0 &&
		    p->job.target.port <= 65535)
			pp_signals_track_port(bpf, (uint16_t)p->job.target.port, on);
	}
}

/* Watch the main process of <c>'s cgroup (again, after it changed). */
void pp_watch_follow_main(struct wcont *c)
{
	struct pp_watch *w = c->pod->w;
	int pid = pp_watch_cg_main_pid(c->cg), fd;

	if (pid <= 0 || pid == c->main_pid)
		return;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return;
	if (c->pidfd >= 0) {
		pp_loop_cancel(w->loop, c->poll_id);
		close(c->pidfd);
	}
	c->main_pid = pid;
	c->pidfd = fd;
	c->exited = false;
	if (pp_loop_poll(w->loop, fd, POLLIN, on_pidfd, c, &c->poll_id) < 0)
		c->poll_id = 0;
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k] && c->probes[k]->job.target.kind == PP_HANDLER_EXEC)
			pp_watch_prepare_target(c->probes[k]);
}

static void cont_resolved(struct wcont *c)
{
	struct pp_watch *w = c->pod->w;

	if (pp_signals_cgroup_id(c->cg, &c->cg_id) < 0)
		c->cg_id = 0;
	if (w->bpf && c->cg_id && pp_signals_track_cgroup(w->bpf, c->cg_id, true) < 0)
		pp_log(PP_LOG_WARN, "pod %s/%s: cannot track the cgroup of container %s",
		       c->pod->wp->namespace, c->pod->wp->name, cont_name(c));
	pp_log(PP_LOG_INFO, "pod %s/%s: container %s is %s", c->pod->wp->namespace,
	       c->pod->wp->name, cont_name(c), c->cg);
	pp_watch_follow_main(c);
	pp_watch_gate_update(c->pod, NULL); /* a pod whose containers have no readiness probe */
}

static void on_pidfd(void *ctx, int res)
{
	struct wcont *c = ctx;

	c->poll_id = 0;
	if (res < 0)
		return;
	/* The ring buffer may hold the kernel's record of the same exit, with its code. */
	pp_signals_drain(c->pod->w->bpf);
	pp_watch_cont_exited(c, "exited", 0);
}

static void cont_attach(struct wcont *c)
{
	struct pp_watch *w = c->pod->w;
	const struct pp_watch_container *wc = &c->pod->wp->containers[c->i];
	pp_nsec now = pp_clock_now();
	int rc;

	c->names.n = 0;
	/*
	 * No running instance (not created yet, waiting, terminated: its ID names a cgroup that
	 * is gone): kubelet probes running containers only, so nothing to do until one runs.
	 */
	if (!wc->container_id || !wc->running)
		return;
	rc = pp_watch_cgroup_names(wc->container_id, c->pod->wp->uid, wc->name, wc->restart_count,
				   &c->names);
	if (rc < 0) {
		c->names.n = 0;
		pp_log(PP_LOG_WARN, "pod %s/%s: container %s: %s '%s', no kernel signals for it",
		       c->pod->wp->namespace, c->pod->wp->name, wc->name,
		       rc == -EPROTONOSUPPORT ? "unknown runtime in" : "malformed",
		       wc->container_id);
	} else
		w->next_scan = 0; /* look for its cgroup at the next chance */
	w->instance++;
	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct wprobe *p = c->probes[k];

		if (!p)
			continue;
		pp_watch_prepare_target(p);
		p->has_verdict = p->forced = p->evidence = false;
		p->signal_ts = 0;
		pp_probe_runner_arm(w->runner, &p->job, w->instance, now, 0);
		/* kubelet's initial results (prober worker.go): liveness starts as Success. */
		if (p->job.w.published != PP_VERDICT_NONE) {
			p->has_verdict = true;
			p->ok = p->job.w.published == PP_VERDICT_SUCCESS;
			p->seen = p->changed = now;
		}
	}
	track_ports(c, true);
}

static void cont_detach(struct wcont *c)
{
	struct pp_watch *w = c->pod->w;

	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k]) {
			pp_probe_runner_disarm(w->runner, &c->probes[k]->job);
			c->probes[k]->has_verdict = false;
		}
	if (c->pidfd >= 0) {
		pp_loop_cancel(w->loop, c->poll_id);
		close(c->pidfd);
	}
	if (w->bpf && c->cg_id)
		pp_signals_track_cgroup(w->bpf, c->cg_id, false);
	c->poll_id = 0;
	c->pidfd = -1;
	c->main_pid = 0;
	c->cg_id = 0;
	c->cg[0] = '\0';
	c->resolved = c->exited = c->killed = false;
	c->names.n = 0;
	memset(&c->aw, 0, sizeof(c->aw));
}

/* ---- pods --------------------------------------------------------------------------------- */

static void pod_free(struct wpod *p)
{
	struct pp_watch *w = p->w;

	for (size_t i = 0; p->c && i < p->wp->n_containers; i++) {
		struct wcont *c = &p->c[i];

		cont_detach(c);
		for (int k = 0; k < _PP_PROBE_MAX; k++)
			free(c->proxied[k]);
		for (int k = 0; k < _PP_PROBE_MAX; k++)
			if (c->probes[k]) {
				pp_probe_runner_remove(w->runner, &c->probes[k]->job);
				free(c->probes[k]->argv);
				free(c->probes[k]);
			}
	}
	pp_metrics_forget_pod(&w->metrics, p->wp->uid);
	free(p->c);
	pp_pod_list_free(&p->parsed);
	pp_watch_pod_free(p->wp);
	free(p);
}

/* The probes of the pod's spec, through the manifest reader podprobe run uses. */
static void pod_parse_probes(struct wpod *p)
{
	struct pp_diag_list diags = {0};
	char name[300], line[1024];
	char *doc;

	if (!p->wp->has_probes)
		return;
	doc = json_dumps(p->wp->probe_doc, JSON_COMPACT);
	if (!doc)
		return;
	snprintf(name, sizeof(name), "pod %s/%s", p->wp->namespace, p->wp->name);
	/* JSON is YAML (YAML 1.2 §1.3): one reader for both. */
	pp_manifest_parse_buffer(name, doc, strlen(doc), &p->parsed, &diags);
	free(doc);
	for (size_t i = 0; i < diags.n; i++) {
		pp_diag_format(&diags.items[i], line, sizeof(line));
		pp_log(PP_LOG_WARN, "%s", line);
	}
	pp_diag_list_free(&diags);
	p->spec = p->parsed.n ? p->parsed.items[0] : NULL;
}

static const struct pp_container_spec *spec_container(const struct pp_pod *spec, const char *name)
{
	for (size_t i = 0; spec && i < spec->n_containers; i++)
		if (spec->containers[i].name && !strcmp(spec->containers[i].name, name))
			return &spec->containers[i];
	return NULL;
}

/*
 * Does the pod's own probe <ps> (of kind <k>) ask podprobe's probe proxy (or the same
 * answers on the metrics port)? Run by podprobe it would ask itself, so it is not run; the
 * proxy answers its path from the verdict its URL names. Returns 1 then, 0, or -ENOMEM.
 */
static int cont_proxied(struct wcont *c, enum pp_probe_kind k, const struct pp_probe_spec *ps)
{
	struct pp_watch *w = c->pod->w;
	struct pp_watch_proxy_ref ref;
	int port = -1;

	if (ps->handler.kind == PP_HANDLER_HTTP_GET)
		port = pp_container_resolve_port(c->cs, &ps->handler.port);
	if (!pp_watch_probe_proxied(&ps->handler, port, w->proxy_port, &ref) &&
	    !pp_watch_probe_proxied(&ps->handler, port, w->metrics_port, &ref))
		return 0;
	c->proxied[k] = malloc(sizeof(ref));
	if (!c->proxied[k])
		return -ENOMEM;
	*c->proxied[k] = ref;
	fprintf(stderr,
		"podprobe watch: probe %s of %s/%s/%s asks podprobe's probe proxy: not run by "
		"podprobe\n",
		pp_watch_kind_str(k), c->pod->wp->namespace, c->pod->wp->name, cont_name(c));
	return 1;
}

static int cont_setup(struct wcont *c)
{
	struct pp_watch *w = c->pod->w;
	const struct pp_pod *spec = c->pod->spec;
	int rc;

	c->pidfd = -1;
	c->cs = spec_container(spec, cont_name(c));
	for (int k = 0; c->cs && k < _PP_PROBE_MAX; k++) {
		const struct pp_probe_spec *ps = probe_spec(c->cs, (enum pp_probe_kind)k);
		struct wprobe *p;

		if (!ps->set || ps->handler.kind == PP_HANDLER_NONE)
			continue;
		rc = cont_proxied(c, (enum pp_probe_kind)k, ps);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->c = c;
		p->job.ctx = p;
		p->job.ops = &pp_watch_probe_ops;
		pp_probe_worker_init(&p->job.w, (enum pp_probe_kind)k);
		if (pp_probe_cfg_from_spec(spec, c->cs, (enum pp_probe_kind)k, &p->job.cfg) < 0)
			pp_log(PP_LOG_WARN,
			       "pod '%s': a " PP_ANN_PREFIX "* annotation is not a number of "
			       "milliseconds, ignoring",
			       spec->name);
		if (ps->handler.kind == PP_HANDLER_EXEC) {
			p->argv = calloc(ps->handler.n_command + 1, sizeof(*p->argv));
			if (!p->argv) {
				free(p);
				return -ENOMEM;
			}
			for (size_t i = 0; i < ps->handler.n_command; i++)
				p->argv[i] = ps->handler.command[i];
		}
		if (pp_probe_runner_add(w->runner, &p->job) < 0) {
			free(p->argv);
			free(p);
			return -ENOMEM;
		}
		c->probes[k] = p;
	}
	return 0;
}

static struct wpod *pod_new(struct pp_watch *w, struct pp_watch_pod *wp)
{
	struct wpod *p = calloc(1, sizeof(*p));

	if (!p) {
		pp_watch_pod_free(wp);
		return NULL;
	}
	p->w = w;
	p->wp = wp;
	p->gate_sent = -1;
	p->act = w->cfg->act_restart || wp->act_restart;
	p->c = calloc(wp->n_containers ? wp->n_containers : 1, sizeof(*p->c));
	if (!p->c) {
		pod_free(p);
		return NULL;
	}
	for (size_t i = 0; i < wp->n_containers; i++) {
		p->c[i].pod = p;
		p->c[i].i = i;
		p->c[i].pidfd = -1;
	}
	pod_parse_probes(p);
	for (size_t i = 0; i < wp->n_containers; i++)
		if (cont_setup(&p->c[i]) < 0) {
			pod_free(p);
			return NULL;
		}
	for (size_t i = 0; i < wp->n_containers; i++)
		cont_attach(&p->c[i]);
	return p;
}

static ssize_t pod_index(struct pp_watch *w, const char *uid)
{
	for (size_t i = 0; i < w->n_pods; i++)
		if (!strcmp(w->pods[i]->wp->uid, uid))
			return (ssize_t)i;
	return -1;
}

static void pod_remove_at(struct pp_watch *w, size_t i)
{
	struct wpod *p = w->pods[i];

	pp_log(PP_LOG_INFO, "pod %s/%s (%s) is gone", p->wp->namespace, p->wp->name, p->wp->uid);
	w->pods[i] = w->pods[--w->n_pods];
	pod_free(p);
}

/* The status of condition podprobe.io/ready in Pod <obj>: 1 True, 0 otherwise, -1 absent. */
static int gate_in(const json_t *obj)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (type && !strcmp(type, PP_WATCH_GATE))
			return st && !strcmp(st, "True");
	}
	return -1;
}

/*
 * The API's object says otherwise than the gate podprobe set (an API server that came back
 * without it, someone else's patch): tell it again, so a lost False never stands as True and
 * a lost True does not keep a pod out of its Services.
 */
static void gate_check(struct wpod *p, const json_t *obj)
{
	struct pp_watch *w = p->w;

	if (p->gate_sent >= 0 && gate_in(obj) != p->gate_sent && w->kube && w->kube->gate_lost) {
		w->kube->gate_lost(w->kctx, p);
		p->gate_sent = -1;
		pp_watch_gate_update(p, NULL);
	}
}

void pp_watch_upsert(struct pp_watch *w, const json_t *obj)
{
	struct pp_watch_pod *wp;
	struct wpod *p;
	char err[128];
	uint64_t mask;
	ssize_t i;

	if (pp_watch_pod_from_json(obj, &wp, err, sizeof(err)) < 0) {
		pp_log(PP_LOG_WARN, "skipping a pod: %s", err);
		return;
	}
	i = pod_index(w, wp->uid);
	if (i >= 0) {
		p = w->pods[i];
		p->seen = true;
		switch (pp_watch_pod_compare(p->wp, wp, &mask)) {
		case PP_WATCH_SAME:
			pp_watch_pod_free(wp);
			gate_check(p, obj);
			return;
		case PP_WATCH_CONTAINERS:
			/* A new instance: its probes start over, as kubelet's workers do. */
			for (size_t k = 0; k < p->wp->n_containers; k++)
				if (mask & (1ull << (k < 63 ? k : 63)))
					cont_detach(&p->c[k]);
			{
				struct pp_watch_pod *old = p->wp;

				p->wp = wp;
				pp_watch_pod_free(old);
			}
			for (size_t k = 0; k < p->wp->n_containers; k++)
				if (mask & (1ull << (k < 63 ? k : 63)))
					cont_attach(&p->c[k]);
			gate_check(p, obj);
			return;
		default:
			pod_remove_at(w, (size_t)i);
			break;
		}
	}
	if (w->n_pods == w->cap_pods) {
		size_t cap = w->cap_pods ? 2 * w->cap_pods : 64;
		struct wpod **np = realloc(w->pods, cap * sizeof(*np));

		if (!np) {
			pp_watch_pod_free(wp);
			return;
		}
		w->pods = np;
		w->cap_pods = cap;
	}
	p = pod_new(w, wp);
	if (!p)
		return;
	p->seen = true;
	w->pods[w->n_pods++] = p;
	pp_log(PP_LOG_INFO, "watching pod %s/%s (%s)", wp->namespace, wp->name, wp->uid);
}

void pp_watch_delete(struct pp_watch *w, const char *uid)
{
	ssize_t i = pod_index(w, uid);

	if (i >= 0)
		pod_remove_at(w, (size_t)i);
}

void pp_watch_sync_begin(struct pp_watch *w)
{
	for (size_t i = 0; i < w->n_pods; i++)
		w->pods[i]->seen = false;
}

void pp_watch_sync_end(struct pp_watch *w)
{
	for (size_t i = w->n_pods; i-- > 0;)
		if (!w->pods[i]->seen)
			pod_remove_at(w, i);
}

/* ---- cgroups ------------------------------------------------------------------------------ */

static bool on_cg_dir(void *ctx, const char *name, const char *path)
{
	struct pp_watch *w = ctx;

	for (size_t i = 0; i < w->n_pods; i++)
		for (size_t j = 0; j < w->pods[i]->wp->n_containers; j++) {
			struct wcont *c = &w->pods[i]->c[j];

			if (c->resolved || !c->names.n)
				continue;
			for (size_t k = 0; k < c->names.n; k++)
				if (!strcmp(name, c->names.names[k])) {
					snprintf(c->cg, sizeof(c->cg), "%s", path);
					c->resolved = true;
					w->unresolved--;
					cont_resolved(c);
					break;
				}
		}
	return w->unresolved == 0;
}

void pp_watch_scan_cgroups(struct pp_watch *w, pp_nsec now)
{
	struct wcont *c;

	if (!w->cg2[0] || now < w->next_scan)
		return;
	w->unresolved = 0;
	FOR_EACH_CONT(w, c)
	{
		w->unresolved += c->names.n && !c->resolved;
	}
	if (!w->unresolved)
		return;
	w->next_scan = now + SCAN_PERIOD;
	pp_watch_cg_walk(w->cg2, on_cg_dir, w);
}

void pp_watch_tick(struct pp_watch *w, pp_nsec now)
{
	struct wcont *c;

	pp_watch_scan_cgroups(w, now);
	/* A container whose main process ended may have a new one (a restart in place): watch
	 * it. */
	FOR_EACH_CONT(w, c)
	{
		if (c->resolved && (c->exited || c->pidfd < 0))
			pp_watch_follow_main(c);
	}
}

void pp_watch_pods_free(struct pp_watch *w)
{
	while (w->n_pods)
		pod_remove_at(w, w->n_pods - 1);
	free(w->pods);
	w->pods = NULL;
	w->cap_pods = 0;
}
