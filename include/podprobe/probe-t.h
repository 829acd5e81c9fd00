/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe workers: one per (container, probe kind), as kubelet's prober workers (P2.1). The
 * worker is pure bookkeeping: when the next attempt is due, the consecutive-result streak
 * against successThreshold / failureThreshold, and which verdict was last published.
 */
#ifndef PODPROBE_PROBE_T_H
#define PODPROBE_PROBE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/*
 * Pod annotations (README "Probes" and "Kernel signals"): sub-second schedules; "true" in
 * tcp-accept makes a tcpSocket pass on a wedged listener a failure; "true" in passive lets
 * accepted traffic stand in for a tcpSocket liveness attempt.
 */
#define PP_ANN_PERIOD_MS	"probe.podprobe.io/period-ms"
#define PP_ANN_TIMEOUT_MS	"probe.podprobe.io/timeout-ms"
#define PP_ANN_FAST_UNTIL_READY "probe.podprobe.io/fast-until-ready"
#define PP_ANN_PREFIX		"probe.podprobe.io/"
#define PP_ANN_TCP_ACCEPT	"probe.podprobe.io/tcp-accept"
#define PP_ANN_HTTP_KEEPALIVE	"probe.podprobe.io/http-keepalive"
#define PP_ANN_PASSIVE		"probe.podprobe.io/passive"

/*
 * Attempt timeouts and sub-second probes wake on this step; other probes get the runner's
 * slack (probe_runner.h).
 */
#define PP_PROBE_SLACK PP_NSEC_PER_MSEC

/* Re-probe interval after a kernel signal (a listener closed) until the verdict settles. */
#define PP_PROBE_BURST_PERIOD (5 * PP_NSEC_PER_MSEC)

/* The first attempts of many probes are spread over at most this much (the anti-burst). */
#define PP_PROBE_SPREAD_MAX PP_NSEC_PER_SEC

/* What one attempt of a handler produced (H0.1). */
enum pp_probe_result {
	PP_RESULT_SUCCESS = 0,
	PP_RESULT_WARNING, /* success with a ProbeWarning event (a 3xx not followed) */
	PP_RESULT_FAILURE,
	PP_RESULT_UNKNOWN, /* errored: no verdict, the attempt is discarded (H0.2) */
	PP_RESULT_HELD,	   /* no verdict and no event: the attempt came before the app could
			    * listen (its owner knows), and the next one waits for it */
	_PP_RESULT_MAX,
};

enum pp_probe_verdict {
	PP_VERDICT_NONE = 0, /* nothing published yet (startup before its first verdict) */
	PP_VERDICT_SUCCESS,
	PP_VERDICT_FAILURE,
	_PP_VERDICT_MAX,
};

/* Effective schedule and thresholds of one probe (defaults and annotations applied). */
struct pp_probe_cfg {
	pp_nsec initial_delay;
	pp_nsec period;
	pp_nsec timeout;
	pp_nsec fast_period; /* period until the first success; 0 = none */
	uint32_t success_threshold;
	uint32_t failure_threshold;
};

struct pp_probe_worker {
	pp_nsec next_at;    /* next attempt due; PP_NSEC_INFINITY when none */
	pp_nsec due_at;	    /* when the attempt in flight was due */
	pp_nsec begun_at;   /* when the attempt in flight began */
	pp_nsec burst_at;   /* when the kernel signal that started the burst came */
	pp_nsec not_before; /* start + initialDelaySeconds: no attempt before, triggered or not */
	pp_nsec grid_at;    /* the next tick of the probe's own period (extra attempts keep it) */
	uint32_t instance;  /* container instance being probed; 0 = none */
	uint32_t streak;    /* consecutive identical results */
	uint8_t kind;	    /* enum pp_probe_kind */
	uint8_t streak_result; /* PP_VERDICT_* of the streak */
	uint8_t published;     /* enum pp_probe_verdict */
	bool in_flight;
	bool on_hold;	     /* P2.10: stopped until a new instance */
	bool ever_succeeded; /* ends the fast period */
	bool burst;	     /* re-probing at PP_PROBE_BURST_PERIOD after a kernel signal */
	bool extra;	     /* the next attempt is an extra one (pp_probe_worker_nudge) */
};

/* What a result changed. */
struct pp_probe_change {
	bool published; /* the verdict changed: tell the controller */
	bool ok;	/* the new verdict is Success */
};

#endif
