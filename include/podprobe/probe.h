/* SPDX-License-Identifier: Apache-2.0 */
/* Probe workers (pure): schedule, thresholds, published verdicts, event texts. */
#ifndef PODPROBE_PROBE_H
#define PODPROBE_PROBE_H

#include <stddef.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/pod-t.h"
#include "podprobe/probe-t.h"

/*
 * The effective configuration of <c>'s probe <kind> in <pod>: the spec with P1.1's defaults,
 * then the pod's annotations (per-container ones win). Returns 0, or -EINVAL when an
 * annotation is not a positive integer (the spec values are used then).
 */
int pp_probe_cfg_from_spec(const struct pp_pod *pod, const struct pp_container_spec *c,
			   enum pp_probe_kind kind, struct pp_probe_cfg *ret);

void pp_probe_worker_init(struct pp_probe_worker *w, enum pp_probe_kind kind);

/*
 * A new container instance <instance> started at <started_at>: reset to P2.2's initial
 * verdicts and schedule the first attempt at started_at + initialDelay + <spread> (the caller
 * picks <spread> in [0, min(period, PP_PROBE_SPREAD_MAX))).
 */
void pp_probe_worker_arm(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			 uint32_t instance, pp_nsec started_at, pp_nsec spread);

/*
 * After pp_probe_worker_arm() for an instance a restarted podprobe re-adopted: the verdict
 * the worker had published (pp_probe_verdict; out-of-range values are ignored) stands, so
 * the next result changes it only as it would have without the restart.
 */
void pp_probe_worker_restore(struct pp_probe_worker *w, uint8_t published);

/* Stop probing (container gone, pod terminal). */
void pp_probe_worker_disarm(struct pp_probe_worker *w);

/* An attempt should start at <now>. */
bool pp_probe_worker_due(const struct pp_probe_worker *w, pp_nsec now);

/*
 * An attempt starts at <now>: the next one is due one interval after this one was due, or
 * at the first such tick after <now> when this one started more than an interval late (the
 * ticks missed are dropped: late work never piles up, and keeps its phase).
 * Returns how late this attempt started.
 */
pp_nsec pp_probe_worker_begin(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			      pp_nsec now);

/*
 * The attempt ended with <result> (P2.6, H0.2): counts the streak and publishes a verdict at
 * its threshold. Liveness/startup failures and startup success put the worker on hold
 * (P2.10). Fills <ret>.
 */
void pp_probe_worker_result(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			    enum pp_probe_result result, struct pp_probe_change *ret);

/*
 * A kernel signal says the target may have changed (its listener closed): probe at <now> and
 * then every PP_PROBE_BURST_PERIOD until a success, or until the failure is published. No-op
 * for a worker on hold or without an instance.
 */
void pp_probe_worker_burst(struct pp_probe_worker *w, pp_nsec now);

/*
 * Run the next attempt at <at> at the latest (startup's success), but never before the
 * instance's initialDelaySeconds have passed; the period then counts from that attempt, as
 * kubelet's worker resets its ticker after a manual trigger (pkg/kubelet/prober/worker.go
 * run()). Nothing for a worker on hold or without an instance.
 */
void pp_probe_worker_poke(struct pp_probe_worker *w, pp_nsec at);

/*
 * The same for an extra attempt (a kernel signal: a listener opened, events were lost), which
 * leaves the probe's period where it was: the attempts after it come on the old ticks. A
 * signal that reaches thousands of probes at once (a node's listeners restarting) would
 * otherwise leave them all in one burst every period. Bursts (pp_probe_worker_burst) are
 * extra attempts too.
 */
void pp_probe_worker_nudge(struct pp_probe_worker *w, pp_nsec at);

/* A tick was skipped (the gate was closed): move to the next tick without an attempt. */
void pp_probe_worker_skip(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg, pp_nsec now);

/*
 * The event kubelet records for an attempt's <result> with <output> (E.7, E.8): returns the
 * reason ("Unhealthy", "ProbeWarning") and writes the message, or NULL when there is none.
 */
const char *pp_probe_event(enum pp_probe_kind kind, enum pp_probe_result result, const char *output,
			   char *buf, size_t size);

const char *pp_probe_result_str(enum pp_probe_result result);

#endif
