// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s /metrics: kubelet's prober families (podprobe/metrics.h) and watch's own,
 * in the Prometheus text exposition format 0.0.4.
 */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

#include "podprobe/metrics.h"
#include "podprobe/signals.h"

static const char *const ksig_names[_PP_KSIG_MAX] = {
	[PP_KSIG_EXIT] = "exit",	 [PP_KSIG_OOM] = "oom",		[PP_KSIG_LISTEN] = "listen",
	[PP_KSIG_UNLISTEN] = "unlisten", [PP_KSIG_ACCEPTS] = "accepts",
};

/* Watch's own families, after kubelet's prober ones; names and help as before the split. */
static void write_own(struct pp_watch *w, struct pp_prom_buf *b)
{
	struct pp_signals_stats st = {0};

	pp_prom_family(b, "podprobe_watch_pods", "gauge", "Pods podprobe watch is watching.");
	pp_prom_add(b, "podprobe_watch_pods %zu\n", w->n_pods);
	pp_prom_family(b, "podprobe_watch_restarts_total", "counter",
		       "Containers killed through cgroup.kill (--act=restart).");
	pp_prom_add(b, "podprobe_watch_restarts_total %llu\n", (unsigned long long)w->restarts);
	pp_prom_family(b, "podprobe_kernel_events_total", "counter",
		       "Kernel events received, by kind.");
	for (size_t k = 0; k < _PP_KSIG_MAX; k++)
		pp_prom_add(b, "podprobe_kernel_events_total{kind=\"%s\"} %llu\n", ksig_names[k],
			    (unsigned long long)w->ksig[k]);
	if (w->bpf)
		pp_signals_stats(w->bpf, &st);
	pp_prom_family(b, "podprobe_kernel_events_lost_total", "counter",
		       "Kernel events dropped on a full ring buffer.");
	pp_prom_add(b, "podprobe_kernel_events_lost_total %llu\n", (unsigned long long)st.lost);
	pp_prom_family(b, "podprobe_detection_latency_seconds", "histogram",
		       "From a kernel signal to the failed verdict it caused.");
	pp_prom_hist_write(b, "podprobe_detection_latency_seconds", NULL, &w->detect_lat);
	if (w->kube && w->kube->metrics)
		w->kube->metrics(w->kctx, b);
}

void pp_watch_metrics_reply(struct pp_watch *w, struct pp_watch_reply *rep)
{
	struct pp_prom_buf b = {0};
	char *base = NULL, *own = NULL, *out;
	size_t blen = 0, olen = 0;

	if (pp_metrics_write(&w->metrics, &base, &blen) < 0)
		return;
	write_own(w, &b);
	if (pp_prom_take(&b, &own, &olen) < 0) {
		free(base);
		return;
	}
	out = malloc(blen + olen + 1);
	if (!out) {
		free(base);
		free(own);
		return;
	}
	memcpy(out, base, blen);
	memcpy(out + blen, own, olen + 1);
	free(base);
	free(own);
	rep->status = 200;
	rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
	rep->body = out;
	rep->body_len = blen + olen;
}
