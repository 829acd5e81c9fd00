// SPDX-License-Identifier: Apache-2.0
/*
 * Probe workers, as kubelet's prober/worker.go, minus the goroutine: the worker says when it
 * is due, the shell runs the attempt on the loop and hands the result back. Rule ids (P2.5...)
 * name kubelet's prober behaviours (pkg/kubelet/prober: worker.go, prober_manager.go).
 */
#include "podprobe/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"

static const char *const result_names[_PP_RESULT_MAX] = {
	[PP_RESULT_SUCCESS] = "success", [PP_RESULT_WARNING] = "warning",
	[PP_RESULT_FAILURE] = "failure", [PP_RESULT_UNKNOWN] = "unknown",
	[PP_RESULT_HELD] = "held",
};

const char *pp_probe_result_str(enum pp_probe_result result)
{
	return result < _PP_RESULT_MAX ? result_names[result] : "unknown";
}

/* A positive integer annotation value in milliseconds; 0 when absent, -EINVAL when bad. */
static int64_t annotation_ms(const struct pp_pod *pod, const char *container, const char *key)
{
	char name[320];
	const char *v;
	char *end;
	long long ms;

	snprintf(name, sizeof(name), PP_ANN_PREFIX "%s.%s", container, key);
	v = pp_pod_annotation(pod, name);
	if (!v) {
		snprintf(name, sizeof(name), PP_ANN_PREFIX "%s", key);
		v = pp_pod_annotation(pod, name);
	}
	if (!v)
		return 0;
	errno = 0;
	ms = strtoll(v, &end, 10);
	if (errno || end == v || *end || ms < 1 || ms > 86400000)
		return -EINVAL;
	return ms;
}

int pp_probe_cfg_from_spec(const struct pp_pod *pod, const struct pp_container_spec *c,
			   enum pp_probe_kind kind, struct pp_probe_cfg *ret)
{
	const struct pp_probe_spec *spec = kind == PP_PROBE_STARTUP    ? &c->startup
					   : kind == PP_PROBE_LIVENESS ? &c->liveness
								       : &c->readiness;
	struct pp_probe_spec eff;
	int64_t period_ms, timeout_ms, fast_ms;
	int err = 0;

	pp_probe_effective(spec, &eff);
	memset(ret, 0, sizeof(*ret));
	ret->initial_delay = (pp_nsec)eff.initial_delay_s * PP_NSEC_PER_SEC;
	ret->period = (pp_nsec)eff.period_s * PP_NSEC_PER_SEC;
	ret->timeout = (pp_nsec)eff.timeout_s * PP_NSEC_PER_SEC;
	ret->success_threshold = (uint32_t)eff.success_threshold;
	ret->failure_threshold = (uint32_t)eff.failure_threshold;

	period_ms = annotation_ms(pod, c->name, "period-ms");
	timeout_ms = annotation_ms(pod, c->name, "timeout-ms");
	fast_ms = annotation_ms(pod, c->name, "fast-until-ready");
	if (period_ms > 0)
		ret->period = (pp_nsec)period_ms * PP_NSEC_PER_MSEC;
	if (timeout_ms > 0)
		ret->timeout = (pp_nsec)timeout_ms * PP_NSEC_PER_MSEC;
	if (fast_ms > 0 && kind != PP_PROBE_LIVENESS &&
	    (pp_nsec)fast_ms * PP_NSEC_PER_MSEC < ret->period)
		ret->fast_period = (pp_nsec)fast_ms * PP_NSEC_PER_MSEC;
	if (period_ms < 0 || timeout_ms < 0 || fast_ms < 0)
		err = -EINVAL;
	return err;
}

void pp_probe_worker_init(struct pp_probe_worker *w, enum pp_probe_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->kind = (uint8_t)kind;
	w->next_at = PP_NSEC_INFINITY;
}

void pp_probe_worker_arm(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			 uint32_t instance, pp_nsec started_at, pp_nsec spread)
{
	enum pp_probe_kind kind = w->kind;

	pp_probe_worker_init(w, kind);
	w->instance = instance;
	/* P2.2: readiness starts failed, liveness passed, startup unknown. */
	w->published = kind == PP_PROBE_READINESS  ? PP_VERDICT_FAILURE
		       : kind == PP_PROBE_LIVENESS ? PP_VERDICT_SUCCESS
						   : PP_VERDICT_NONE;
	/* kubelet's worker.doProbe skips every attempt, triggered ones too, until the delay. */
	w->not_before = started_at + cfg->initial_delay;
	w->next_at = w->not_before + spread;
	w->grid_at = w->next_at;
}

void pp_probe_worker_restore(struct pp_probe_worker *w, uint8_t published)
{
	if (published >= _PP_VERDICT_MAX)
		return;
	w->published = published;
	/* A verdict of success was earned: the fast period is over. */
	w->ever_succeeded = published == PP_VERDICT_SUCCESS;
}

void pp_probe_worker_disarm(struct pp_probe_worker *w)
{
	pp_probe_worker_init(w, w->kind);
}

bool pp_probe_worker_due(const struct pp_probe_worker *w, pp_nsec now)
{
	return w->instance && !w->in_flight && !w->on_hold && now >= w->next_at;
}

/* The probe's own period: the fast one until its first success, when it has one. */
static pp_nsec period_of(const struct pp_probe_worker *w, const struct pp_probe_cfg *cfg)
{
	return cfg->fast_period && !w->ever_succeeded ? cfg->fast_period : cfg->period;
}

static pp_nsec interval(const struct pp_probe_worker *w, const struct pp_probe_cfg *cfg)
{
	if (w->burst && PP_PROBE_BURST_PERIOD < cfg->period)
		return PP_PROBE_BURST_PERIOD;
	return period_of(w, cfg);
}

/* The first tick of the probe's own period after <t> (what extra attempts left in place). */
static pp_nsec grid_after(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg, pp_nsec t)
{
	pp_nsec iv = period_of(w, cfg), g = w->grid_at;

	if (g <= t && iv)
		g += (t - g) / iv * iv + iv;
	w->grid_at = g;
	return g;
}

void pp_probe_worker_burst(struct pp_probe_worker *w, pp_nsec now)
{
	if (!w->instance || w->on_hold)
		return;
	w->burst = true;
	w->burst_at = now;
	pp_probe_worker_nudge(w, now);
}

/* Does the worker take a triggered attempt? <at> then moves past the initial delay. */
static bool triggered(const struct pp_probe_worker *w, pp_nsec *at)
{
	if (!w->instance || w->on_hold)
		return false;
	if (*at < w->not_before)
		*at = w->not_before;
	return true;
}

void pp_probe_worker_poke(struct pp_probe_worker *w, pp_nsec at)
{
	if (!triggered(w, &at))
		return;
	w->extra = false;
	if (w->next_at > at)
		w->next_at = at;
}

void pp_probe_worker_nudge(struct pp_probe_worker *w, pp_nsec at)
{
	if (!triggered(w, &at) || w->next_at <= at)
		return;
	w->next_at = at;
	w->extra = true;
}

/*
 * The next due time on this one's grid, as kubelet's worker gets from its time.Ticker
 * (pkg/kubelet/prober/worker.go run()): one interval after this one was due, and when this one
 * started more than an interval late, the first tick after <now>; the ticks in between are
 * dropped, as a Ticker drops them for a slow receiver. Re-timing late attempts from <now>
 * instead would give every attempt that one busy turn made late the same phase, and keep them
 * in one burst for good.
 */
static void advance(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg, pp_nsec now)
{
	pp_nsec iv = interval(w, cfg), next = w->next_at + iv;
	bool extra = w->extra;

	w->extra = false;
	if (extra && !w->burst) {
		/* An extra attempt: the next is the period's own tick (pp_probe_worker_nudge). */
		w->next_at = grid_after(w, cfg, now);
		return;
	}
	if (next <= now && iv)
		next += (now - next) / iv * iv + iv;
	w->next_at = next;
	if (!w->burst)
		w->grid_at = next;
}

pp_nsec pp_probe_worker_begin(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			      pp_nsec now)
{
	pp_nsec late = now > w->next_at ? now - w->next_at : 0;

	w->in_flight = true;
	w->due_at = w->next_at;
	w->begun_at = now;
	advance(w, cfg, now);
	return late;
}

void pp_probe_worker_skip(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg, pp_nsec now)
{
	advance(w, cfg, now);
}

void pp_probe_worker_result(struct pp_probe_worker *w, const struct pp_probe_cfg *cfg,
			    enum pp_probe_result result, struct pp_probe_change *ret)
{
	uint8_t r;
	uint32_t threshold;

	memset(ret, 0, sizeof(*ret));
	w->in_flight = false;
	if (result == PP_RESULT_UNKNOWN || result == PP_RESULT_HELD || !w->instance)
		return; /* H0.2: an errored (or held) attempt changes no counter */
	r = result == PP_RESULT_FAILURE ? PP_VERDICT_FAILURE : PP_VERDICT_SUCCESS;
	if (r == PP_VERDICT_SUCCESS && w->burst) {
		/*
		 * The target answers again: back to the normal schedule. Unless the attempt began
		 * before the signal: its answer came from the listener that just closed (one in
		 * flight across the close ended the burst and left the failure to the next period).
		 */
		if (w->begun_at >= w->burst_at) {
			w->burst = false;
			w->next_at = grid_after(w, cfg, w->due_at);
		}
	}
	if (r == PP_VERDICT_SUCCESS && !w->ever_succeeded) {
		w->ever_succeeded = true;
		/* Leaving the fast period: from now on the normal period applies. */
		if (cfg->fast_period)
			w->next_at = w->grid_at = w->due_at + cfg->period;
	}
	if (w->streak_result == r) {
		if (w->streak < UINT32_MAX)
			w->streak++;
	} else {
		w->streak_result = r;
		w->streak = 1;
	}
	threshold = r == PP_VERDICT_SUCCESS ? cfg->success_threshold : cfg->failure_threshold;
	if (w->streak < threshold)
		return;
	if (w->published != r) {
		w->published = r;
		ret->published = true;
		ret->ok = r == PP_VERDICT_SUCCESS;
	}
	/* A failure is published (or already was): the burst has done its job. */
	if (r == PP_VERDICT_FAILURE && w->burst) {
		w->burst = false;
		w->next_at = grid_after(w, cfg, w->due_at);
	}
	/* P2.10: a startup success, or a liveness/startup trip, ends probing of this instance. */
	if ((w->kind == PP_PROBE_STARTUP && r == PP_VERDICT_SUCCESS) ||
	    (w->kind != PP_PROBE_READINESS && r == PP_VERDICT_FAILURE)) {
		w->on_hold = true;
		w->streak = 0;
		w->streak_result = PP_VERDICT_NONE;
	}
}

const char *pp_probe_event(enum pp_probe_kind kind, enum pp_probe_result result, const char *output,
			   char *buf, size_t size)
{
	const char *type = pp_probe_kind_str(kind);

	switch (result) {
	case PP_RESULT_FAILURE:
		snprintf(buf, size, "%s probe failed: %s", type, output ? output : "");
		return "Unhealthy";
	case PP_RESULT_WARNING:
		snprintf(buf, size, "%s probe warning: %s", type, output ? output : "");
		return "ProbeWarning";
	case PP_RESULT_UNKNOWN:
		snprintf(buf, size, "%s probe errored and resulted in unknown state: %s", type,
			 output ? output : "");
		return "Unhealthy";
	default:
		return NULL;
	}
}
