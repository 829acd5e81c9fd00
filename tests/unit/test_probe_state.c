// SPDX-License-Identifier: Apache-2.0
/*
 * Probe workers under a fake clock: defaults and annotations, initial verdicts, thresholds,
 * holds, the fast period, kernel bursts, late starts, event texts. Rule ids are those of
 * user/core/probe_state.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakes/fake_pod.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"

#define SEC PP_NSEC_PER_SEC
#define MS  PP_NSEC_PER_MSEC

static struct pp_probe_cfg cfg(pp_nsec period, uint32_t success, uint32_t failure)
{
	return (struct pp_probe_cfg){.period = period,
				     .timeout = SEC,
				     .success_threshold = success,
				     .failure_threshold = failure};
}

/* Run one attempt at the worker's due time with <r>; returns whether a verdict was published. */
static bool step(struct pp_probe_worker *w, const struct pp_probe_cfg *c, enum pp_probe_result r,
		 bool *ret_ok)
{
	struct pp_probe_change chg;

	assert_true(pp_probe_worker_due(w, w->next_at));
	pp_probe_worker_begin(w, c, w->next_at);
	pp_probe_worker_result(w, c, r, &chg);
	if (ret_ok)
		*ret_ok = chg.ok;
	return chg.published;
}

static void test_defaults_and_annotations(void **state)
{
	struct pp_pod *pod = t_pod_new("p", PP_RESTART_ALWAYS);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_probe_cfg got;

	c->liveness.set = true;
	assert_int_equal(pp_probe_cfg_from_spec(pod, c, PP_PROBE_LIVENESS, &got), 0);
	/* P1.1: 1 s timeout, 10 s period, thresholds 1 and 3. */
	assert_int_equal(got.timeout, SEC);
	assert_int_equal(got.period, 10 * SEC);
	assert_int_equal(got.success_threshold, 1);
	assert_int_equal(got.failure_threshold, 3);
	assert_int_equal(got.fast_period, 0);

	pod->annotations = calloc(4, sizeof(*pod->annotations));
	pod->annotations[0] = (struct pp_kv){strdup(PP_ANN_PERIOD_MS), strdup("200")};
	pod->annotations[1] =
		(struct pp_kv){strdup("probe.podprobe.io/app.period-ms"), strdup("50")};
	pod->annotations[2] = (struct pp_kv){strdup(PP_ANN_TIMEOUT_MS), strdup("30")};
	pod->annotations[3] = (struct pp_kv){strdup(PP_ANN_FAST_UNTIL_READY), strdup("10")};
	pod->n_annotations = 4;
	c->readiness.set = true;
	assert_int_equal(pp_probe_cfg_from_spec(pod, c, PP_PROBE_READINESS, &got), 0);
	/* The container's annotation wins over the pod's. */
	assert_int_equal(got.period, 50 * MS);
	assert_int_equal(got.timeout, 30 * MS);
	assert_int_equal(got.fast_period, 10 * MS);
	/* fast-until-ready never applies to liveness. */
	assert_int_equal(pp_probe_cfg_from_spec(pod, c, PP_PROBE_LIVENESS, &got), 0);
	assert_int_equal(got.fast_period, 0);
	free(pod->annotations[2].value);
	pod->annotations[2].value = strdup("soon");
	assert_int_equal(pp_probe_cfg_from_spec(pod, c, PP_PROBE_LIVENESS, &got), -EINVAL);
	assert_int_equal(got.timeout, SEC);
	pp_pod_free(pod);
}

static void test_initial_verdicts_per_kind(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 3);
	struct pp_probe_worker w;

	/* P2.2: readiness starts Failure, liveness Success, startup unknown. */
	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 100 * SEC, 0);
	assert_int_equal(w.published, PP_VERDICT_FAILURE);
	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 100 * SEC, 0);
	assert_int_equal(w.published, PP_VERDICT_SUCCESS);
	pp_probe_worker_init(&w, PP_PROBE_STARTUP);
	pp_probe_worker_arm(&w, &c, 1, 100 * SEC, 0);
	assert_int_equal(w.published, PP_VERDICT_NONE);
}

static void test_first_attempt_after_initial_delay_and_spread(void **state)
{
	struct pp_probe_cfg c = cfg(2 * SEC, 1, 3);
	struct pp_probe_worker w;

	c.initial_delay = 5 * SEC;
	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 100 * SEC, 300 * MS);
	assert_false(pp_probe_worker_due(&w, 105 * SEC));
	assert_true(pp_probe_worker_due(&w, 105 * SEC + 300 * MS));
	assert_false(pp_probe_worker_due(&(struct pp_probe_worker){.next_at = 0}, 1));
}

/*
 * Kernel pokes (a LISTEN, a closed listener) and startup's success never bring an attempt
 * before initialDelaySeconds: kubelet's worker.doProbe skips them all until then (upstream
 * e2e "should not be ready before initial delay and never restart").
 */
static void test_pokes_respect_the_initial_delay(void **state)
{
	struct pp_probe_cfg c = cfg(10 * SEC, 1, 3);
	struct pp_probe_worker w;

	c.initial_delay = 3 * SEC;
	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 100 * SEC, 0);
	pp_probe_worker_poke(&w, 100 * SEC + 500 * MS); /* the port began to listen */
	assert_false(pp_probe_worker_due(&w, 102 * SEC));
	assert_true(pp_probe_worker_due(&w, 103 * SEC));
	pp_probe_worker_burst(&w, 101 * SEC); /* it closed */
	assert_false(pp_probe_worker_due(&w, 102 * SEC + 999 * MS));
	assert_true(pp_probe_worker_due(&w, 103 * SEC));
	/* After the delay a poke is immediate. */
	pp_probe_worker_begin(&w, &c, 103 * SEC);
	pp_probe_worker_result(&w, &c, PP_RESULT_SUCCESS, &(struct pp_probe_change){0});
	pp_probe_worker_poke(&w, 104 * SEC);
	assert_true(pp_probe_worker_due(&w, 104 * SEC));
}

static void test_readiness_publishes_only_at_thresholds(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 3, 2);
	struct pp_probe_worker w;
	bool ok;

	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	/* P2.6: F, S, S, S -> Ready only after the third S. */
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	assert_false(step(&w, &c, PP_RESULT_SUCCESS, NULL));
	assert_false(step(&w, &c, PP_RESULT_SUCCESS, NULL));
	assert_true(step(&w, &c, PP_RESULT_SUCCESS, &ok));
	assert_true(ok);
	/* Then two failures to flip back; a warning counts as success (H0.2). */
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	assert_false(step(&w, &c, PP_RESULT_WARNING, NULL));
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	assert_true(step(&w, &c, PP_RESULT_FAILURE, &ok));
	assert_false(ok);
	/* Readiness keeps probing after a failure. */
	assert_false(w.on_hold);
}

static void test_unknown_results_change_nothing(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 2);
	struct pp_probe_worker w;

	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	for (int i = 0; i < 5; i++)
		assert_false(step(&w, &c, PP_RESULT_UNKNOWN, NULL));
	assert_int_equal(w.streak, 1);
	assert_true(step(&w, &c, PP_RESULT_FAILURE, NULL));
}

static void test_liveness_trip_and_startup_success_put_the_worker_on_hold(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 1);
	struct pp_probe_worker w;

	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	assert_true(step(&w, &c, PP_RESULT_FAILURE, NULL));
	/* P2.10: no more attempts until a new instance. */
	assert_true(w.on_hold);
	assert_false(pp_probe_worker_due(&w, 1000 * SEC));
	pp_probe_worker_arm(&w, &c, 2, 10 * SEC, 0);
	assert_true(pp_probe_worker_due(&w, 10 * SEC));

	pp_probe_worker_init(&w, PP_PROBE_STARTUP);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	assert_true(step(&w, &c, PP_RESULT_SUCCESS, NULL));
	assert_true(w.on_hold);
}

static void test_fast_period_until_first_success(void **state)
{
	struct pp_probe_cfg c = cfg(10 * SEC, 1, 3);
	struct pp_probe_worker w;
	pp_nsec t0;

	c.fast_period = 100 * MS;
	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	t0 = w.next_at;
	step(&w, &c, PP_RESULT_FAILURE, NULL);
	assert_int_equal(w.next_at, t0 + 100 * MS);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	/* First success: back to periodSeconds. */
	assert_int_equal(w.next_at, t0 + 100 * MS + 10 * SEC);
}

static void test_kernel_burst_reprobes_every_few_ms_until_it_settles(void **state)
{
	struct pp_probe_cfg c = cfg(10 * SEC, 1, 3);
	struct pp_probe_worker w;
	pp_nsec t;
	bool ok;

	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	t = 3 * SEC;
	pp_probe_worker_burst(&w, t);
	assert_true(pp_probe_worker_due(&w, t));
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	assert_int_equal(w.next_at, t + PP_PROBE_BURST_PERIOD);
	assert_false(step(&w, &c, PP_RESULT_FAILURE, NULL));
	assert_true(step(&w, &c, PP_RESULT_FAILURE, &ok));
	assert_false(ok);
	/* Published: the burst is over (and liveness is on hold). */
	assert_false(w.burst);

	/* A burst that meets a success goes back to the period. */
	pp_probe_worker_arm(&w, &c, 2, 20 * SEC, 0);
	pp_probe_worker_burst(&w, 20 * SEC);
	assert_false(step(&w, &c, PP_RESULT_SUCCESS, NULL));
	assert_false(w.burst);
	assert_int_equal(w.next_at, 30 * SEC);
}

/*
 * An attempt in flight when the listener closes was answered by the old listener: its success
 * must not end the burst, or the failure waits for the next period.
 */
static void test_success_begun_before_the_burst_does_not_end_it(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 1);
	struct pp_probe_worker w;
	struct pp_probe_change chg;
	pp_nsec t;
	bool ok;

	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	t = w.next_at;
	pp_probe_worker_begin(&w, &c, t);      /* in flight ... */
	pp_probe_worker_burst(&w, t + 2 * MS); /* ... when the port closes */
	pp_probe_worker_result(&w, &c, PP_RESULT_SUCCESS, &chg);
	assert_false(chg.published);
	assert_true(w.burst);
	/* The next attempt is a burst's, not a period away, and its refusal is published. */
	assert_true(w.next_at <= t + 2 * MS + PP_PROBE_BURST_PERIOD);
	assert_true(step(&w, &c, PP_RESULT_FAILURE, &ok));
	assert_false(ok);
	assert_false(w.burst);
}

/*
 * A kernel signal's extra attempt (a LISTEN, a burst after a close) leaves the probe's period
 * where it was; a poke (startup's success) re-times it, as kubelet's manual trigger resets
 * its ticker. Probes nudged together stay as far apart as they were.
 */
static void test_kernel_nudges_keep_the_period_pokes_retime_it(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 3);
	struct pp_probe_worker w, v;

	pp_probe_worker_init(&w, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 300 * MS);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(w.next_at, 1300 * MS);
	pp_probe_worker_nudge(&w, 1000 * MS);
	assert_true(pp_probe_worker_due(&w, 1000 * MS));
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(w.next_at, 1300 * MS);
	/* A nudge after the next tick changes nothing. */
	pp_probe_worker_nudge(&w, 1400 * MS);
	assert_int_equal(w.next_at, 1300 * MS);

	pp_probe_worker_poke(&w, 1100 * MS);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(w.next_at, 2100 * MS);

	/* A burst, then its success: back on the period's ticks, not a period after it. */
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(w.next_at, 3100 * MS);
	pp_probe_worker_burst(&w, 2500 * MS);
	step(&w, &c, PP_RESULT_FAILURE, NULL);
	assert_int_equal(w.next_at, 2500 * MS + PP_PROBE_BURST_PERIOD);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	assert_false(w.burst);
	assert_int_equal(w.next_at, 3100 * MS);

	/* Two probes 600 ms apart, nudged by one signal: still 600 ms apart. */
	pp_probe_worker_init(&v, PP_PROBE_READINESS);
	pp_probe_worker_arm(&w, &c, 2, 0, 100 * MS);
	pp_probe_worker_arm(&v, &c, 1, 0, 700 * MS);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	step(&v, &c, PP_RESULT_SUCCESS, NULL);
	pp_probe_worker_nudge(&w, 1050 * MS);
	pp_probe_worker_nudge(&v, 1050 * MS);
	step(&w, &c, PP_RESULT_SUCCESS, NULL);
	step(&v, &c, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(w.next_at, 1100 * MS);
	assert_int_equal(v.next_at, 1700 * MS);
}

static void test_late_start_keeps_its_phase_instead_of_piling_up(void **state)
{
	struct pp_probe_cfg c = cfg(SEC, 1, 3);
	struct pp_probe_worker w, v;
	struct pp_probe_change chg;

	pp_probe_worker_init(&w, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	/* Started 3.5 periods late: lateness reported, the ticks missed dropped, the next on the
	 * grid of the first (kubelet's time.Ticker), not a period from now. */
	assert_int_equal(pp_probe_worker_begin(&w, &c, 3500 * MS), 3500 * MS);
	assert_int_equal(w.next_at, 4000 * MS);
	assert_false(pp_probe_worker_due(&w, 4000 * MS)); /* in flight */
	pp_probe_worker_result(&w, &c, PP_RESULT_SUCCESS, &chg);
	assert_true(pp_probe_worker_due(&w, 4000 * MS));
	/* A gated turn moves on without counting anything. */
	pp_probe_worker_skip(&w, &c, 4000 * MS);
	assert_int_equal(w.next_at, 5000 * MS);
	assert_int_equal(w.streak, 1);
	/* Late by less than an interval: the next tick stays one interval after this one's. */
	pp_probe_worker_begin(&w, &c, 5900 * MS);
	assert_int_equal(w.next_at, 6000 * MS);
	/* Two workers armed 300 ms apart, both begun late in the same turn: still 300 ms apart. */
	pp_probe_worker_init(&v, PP_PROBE_LIVENESS);
	pp_probe_worker_arm(&v, &c, 1, 300 * MS, 0);
	pp_probe_worker_arm(&w, &c, 1, 0, 0);
	pp_probe_worker_begin(&w, &c, 2700 * MS);
	pp_probe_worker_begin(&v, &c, 2700 * MS);
	assert_int_equal(w.next_at, 3000 * MS);
	assert_int_equal(v.next_at, 3300 * MS);
}

static void test_event_texts(void **state)
{
	char buf[128];

	assert_string_equal(
		pp_probe_event(PP_PROBE_LIVENESS, PP_RESULT_FAILURE, "boom", buf, sizeof(buf)),
		"Unhealthy");
	assert_string_equal(buf, "Liveness probe failed: boom");
	assert_string_equal(
		pp_probe_event(PP_PROBE_READINESS, PP_RESULT_WARNING, "x", buf, sizeof(buf)),
		"ProbeWarning");
	assert_string_equal(buf, "Readiness probe warning: x");
	assert_string_equal(pp_probe_event(PP_PROBE_STARTUP, PP_RESULT_UNKNOWN, "port x not found",
					   buf, sizeof(buf)),
			    "Unhealthy");
	assert_string_equal(
		buf, "Startup probe errored and resulted in unknown state: port x not found");
	assert_null(pp_probe_event(PP_PROBE_STARTUP, PP_RESULT_SUCCESS, "", buf, sizeof(buf)));
}

static void test_random_results_keep_invariants(void **state)
{
	unsigned int seed = 99;

	for (int round = 0; round < 500; round++) {
		struct pp_probe_cfg c =
			cfg((pp_nsec)(1 + rand_r(&seed) % 10) * SEC,
			    1 + (uint32_t)(rand_r(&seed) % 3), 1 + (uint32_t)(rand_r(&seed) % 4));
		enum pp_probe_kind kind = (enum pp_probe_kind)(rand_r(&seed) % 3);
		struct pp_probe_worker w;
		pp_nsec now = 0;
		int run = 0;
		uint8_t last = 0;

		if (kind != PP_PROBE_READINESS)
			c.success_threshold = 1;
		pp_probe_worker_init(&w, kind);
		pp_probe_worker_arm(&w, &c, 1, 0, 0);
		for (int i = 0; i < 100 && !w.on_hold; i++) {
			enum pp_probe_result r = (enum pp_probe_result)(rand_r(&seed) % 4);
			struct pp_probe_change chg;
			uint8_t v =
				r == PP_RESULT_FAILURE ? PP_VERDICT_FAILURE : PP_VERDICT_SUCCESS;

			if (rand_r(&seed) % 5 == 0)
				pp_probe_worker_burst(&w, now);
			now = w.next_at > now ? w.next_at : now;
			pp_probe_worker_begin(&w, &c, now);
			assert_true(w.next_at > now);
			pp_probe_worker_result(&w, &c, r, &chg);
			if (r == PP_RESULT_UNKNOWN) {
				assert_false(chg.published);
				continue;
			}
			run = v == last ? run + 1 : 1;
			last = v;
			/* A verdict flips only after threshold consecutive equal results. */
			if (chg.published)
				assert_true(run >= (int)(v == PP_VERDICT_SUCCESS
								 ? c.success_threshold
								 : c.failure_threshold));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_annotations),
		cmocka_unit_test(test_initial_verdicts_per_kind),
		cmocka_unit_test(test_first_attempt_after_initial_delay_and_spread),
		cmocka_unit_test(test_pokes_respect_the_initial_delay),
		cmocka_unit_test(test_readiness_publishes_only_at_thresholds),
		cmocka_unit_test(test_unknown_results_change_nothing),
		cmocka_unit_test(test_liveness_trip_and_startup_success_put_the_worker_on_hold),
		cmocka_unit_test(test_fast_period_until_first_success),
		cmocka_unit_test(test_kernel_burst_reprobes_every_few_ms_until_it_settles),
		cmocka_unit_test(test_success_begun_before_the_burst_does_not_end_it),
		cmocka_unit_test(test_kernel_nudges_keep_the_period_pokes_retime_it),
		cmocka_unit_test(test_late_start_keeps_its_phase_instead_of_piling_up),
		cmocka_unit_test(test_event_texts),
		cmocka_unit_test(test_random_results_keep_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
