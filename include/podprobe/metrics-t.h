/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the probe metrics /metrics serves, as kubelet exports them
 * (pkg/kubelet/prober/prober_manager.go ProberResults and ProberDuration).
 */
#ifndef PODPROBE_METRICS_T_H
#define PODPROBE_METRICS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/time-t.h"

/* The "result" label of prober_probe_total (prober_manager.go probeResult*). */
enum pp_metric_result {
	PP_METRIC_SUCCESSFUL = 0,
	PP_METRIC_FAILED,
	PP_METRIC_UNKNOWN,
	_PP_METRIC_RESULT_MAX,
};

/*
 * prober_probe_duration_seconds has no Buckets in its HistogramOpts, so client_golang's
 * DefBuckets apply (prometheus/histogram.go): .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10, + +Inf.
 */
#define PP_METRICS_N_BUCKETS 11

struct pp_metrics_series; /* private to metrics.c: one per pod uid, container and probe kind */

struct pp_metrics {
	struct pp_metrics_series **buckets; /* hash of the pod uid: chains of series */
	size_t n_buckets;		    /* a power of 2 */
	size_t n;			    /* series */
	uint64_t epoch;			    /* + 1 whenever a series is freed */
};

/*
 * A caller's memo of one series (pp_metrics_find(), pp_metrics_count()): good while <epoch> is
 * the set's, as no series has been freed since it was taken. A zeroed one is empty.
 */
struct pp_metrics_ref {
	struct pp_metrics_series *s;
	uint64_t epoch;
};

/* A growing text buffer for the exposition format; <oom> sticks once an allocation failed. */
struct pp_prom_buf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

/* A histogram of durations over pp_prom_latency_bounds (counts per bucket, not cumulative). */
#define PP_PROM_LATENCY_N 15
struct pp_prom_hist {
	uint64_t counts[PP_PROM_LATENCY_N];
	uint64_t count;
	pp_nsec sum;
};

#endif
