// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch` with pods from the API server (podprobe/kube_client.h): the list and watch
 * of the node's pods feed the same upsert/delete/sync as the PodList file; readiness verdicts
 * go to the pods' podprobe.io/ready condition (KEP-580 readiness gates) and Warnings become
 * core/v1 Events.
 */
#include "watch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/kube_client.h"
#include "podprobe/log.h"
#include "podprobe/metrics.h"

struct wkube {
	struct pp_watch *w;
	struct pp_kube_client *kc;
	uint64_t patches_seen;	       /* stats.patches when last looked at */
	struct pp_prom_hist patch_lat; /* readiness-gate patch round trips */
};

static void on_pod(void *ctx, enum pp_kube_pod_event ev, json_t *pod)
{
	struct wkube *k = ctx;
	const char *uid;

	switch (ev) {
	case PP_KUBE_SYNC_BEGIN:
		pp_watch_sync_begin(k->w);
		break;
	case PP_KUBE_POD_UPSERT:
		pp_watch_upsert(k->w, pod);
		break;
	case PP_KUBE_POD_DELETE:
		uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
		if (uid)
			pp_watch_delete(k->w, uid);
		break;
	case PP_KUBE_SYNC_END:
		pp_watch_sync_end(k->w);
		break;
	}
}

static void on_log(void *ctx, bool error, const char *msg)
{
	pp_log(error ? PP_LOG_WARN : PP_LOG_INFO, "kubernetes API: %s", msg);
}

static void gate(void *kctx, const struct wpod *p, bool ready, const char *message)
{
	struct wkube *k = kctx;

	if (pp_kube_set_condition(k->kc, p->wp->namespace, p->wp->name, p->wp->uid, PP_WATCH_GATE,
				  ready, ready ? "PodprobeReady" : "PodprobeNotReady", message) < 0)
		pp_log(PP_LOG_WARN, "pod %s/%s: out of memory for its condition", p->wp->namespace,
		       p->wp->name);
}

static void gate_lost(void *kctx, const struct wpod *p)
{
	struct wkube *k = kctx;

	pp_kube_condition_lost(k->kc, p->wp->namespace, p->wp->name, PP_WATCH_GATE);
}

static void event(void *kctx, const struct wpod *p, const char *type, const char *reason,
		  const char *message)
{
	struct wkube *k = kctx;

	pp_kube_event(k->kc, p->wp->namespace, p->wp->name, p->wp->uid, type, reason, message);
}

static pp_nsec next(void *kctx)
{
	return pp_kube_client_next(((struct wkube *)kctx)->kc);
}

/*
 * A patch that succeeded since the last look: its latency (pp_kube_set_condition() to the 2xx
 * answer). The client keeps only the latest, so patches completing in one loop pass count
 * as one observation: the histogram's _count may be below podprobe_watch_gate_patches_total.
 */
static void observe_patches(struct wkube *k)
{
	const struct pp_kube_client_stats *st = pp_kube_client_stats(k->kc);

	if (!st || st->patches == k->patches_seen)
		return;
	k->patches_seen = st->patches;
	pp_prom_hist_observe(&k->patch_lat, st->last_patch_latency);
}

static void run(void *kctx, pp_nsec now)
{
	struct wkube *k = kctx;

	pp_kube_client_run(k->kc, now);
	observe_patches(k);
}

static void metrics(void *kctx, struct pp_prom_buf *b)
{
	struct wkube *k = kctx;
	const struct pp_kube_client_stats *st;

	observe_patches(k);
	st = pp_kube_client_stats(k->kc);
	if (!st)
		return;
	pp_prom_family(b, "podprobe_watch_api_relists_total", "counter",
		       "Lists of the node's pods after the first one (410 Gone, a broken watch, a "
		       "new API server).");
	pp_prom_add(b, "podprobe_watch_api_relists_total %llu\n",
		    (unsigned long long)(st->lists ? st->lists - 1 : 0));
	pp_prom_family(b, "podprobe_watch_api_requests_total", "counter",
		       "HTTP requests sent to the Kubernetes API.");
	pp_prom_add(b, "podprobe_watch_api_requests_total %llu\n",
		    (unsigned long long)st->requests);
	pp_prom_family(b, "podprobe_watch_api_synced", "gauge",
		       "1 when a list of the node's pods has completed and its watch is open.");
	pp_prom_add(b, "podprobe_watch_api_synced %d\n", st->synced ? 1 : 0);
	pp_prom_family(b, "podprobe_watch_gate_patch_seconds", "histogram",
		       "From a readiness-gate verdict to the API's 2xx answer to its patch.");
	pp_prom_hist_write(b, "podprobe_watch_gate_patch_seconds", NULL, &k->patch_lat);
	pp_prom_family(b, "podprobe_watch_gate_patches_total", "counter",
		       "Readiness-gate condition patches of pods/NAME/status, by result.");
	pp_prom_add(b, "podprobe_watch_gate_patches_total{result=\"error\"} %llu\n",
		    (unsigned long long)st->patch_errors);
	pp_prom_add(b, "podprobe_watch_gate_patches_total{result=\"ok\"} %llu\n",
		    (unsigned long long)st->patches);
}

static void kube_free(void *kctx)
{
	struct wkube *k = kctx;

	pp_kube_client_free(k->kc);
	free(k);
}

static const struct pp_watch_kube_ops ops = {
	.gate = gate,
	.gate_lost = gate_lost,
	.event = event,
	.next = next,
	.metrics = metrics,
	.run = run,
	.free = kube_free,
};

int pp_watch_kube_start(struct pp_watch *w, char *err, size_t size)
{
	struct pp_kube_client_cfg cfg = {
		.kubeconfig = w->cfg->kubeconfig,
		.node = w->cfg->node,
		.on_pod = on_pod,
		.on_log = on_log,
	};
	struct wkube *k = calloc(1, sizeof(*k));
	int rc;

	if (!k) {
		snprintf(err, size, "out of memory");
		return -ENOMEM;
	}
	k->w = w;
	cfg.ctx = k;
	rc = pp_kube_client_new(w->loop, &cfg, &k->kc, err, size);
	if (rc < 0) {
		free(k);
		return rc;
	}
	w->kube = &ops;
	w->kctx = k;
	pp_log(PP_LOG_NOTICE, "watching the pods of node %s through the API", w->cfg->node);
	return 0;
}
