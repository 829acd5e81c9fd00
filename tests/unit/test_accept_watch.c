// SPDX-License-Identifier: Apache-2.0
/*
 * The wedged-listener verdict (user/core/accept_watch.c), driven by scripted kernel reports:
 * times, accept queue lengths and the listener's accepted/established counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "podprobe/accept_watch.h"

#define MS PP_NSEC_PER_MSEC
#define SEC PP_NSEC_PER_SEC
#define COOKIE 0x1234

/* A report on listener COOKIE with <backlog> waiting of <established>, at <t>. */
static enum pp_accept_change report(struct pp_accept_watch *w, pp_nsec t, uint32_t backlog,
				    uint64_t established, pp_nsec timeout)
{
	return pp_accept_watch_on_report(w, COOKIE, backlog, established - backlog, established,
					 t, timeout);
}

/*
 * What the kernel reports of a healthy server under steady load: every sample taken as a
 * connection is established holds that connection (backlog 1, sometimes more), so the queue
 * is never seen empty; the accepted count moves between samples.
 */
static void test_busy_listener_that_accepts_is_never_wedged(void **state)
{
	struct pp_accept_watch w = { 0 };
	uint64_t est = 0;

	for (pp_nsec t = 100 * SEC; t < 160 * SEC; t += 250 * MS) {
		est += 40;
		assert_int_equal(report(&w, t, 1 + (uint32_t)(t / MS) % 3, est, 1 * SEC),
				 PP_ACCEPT_SAME);
		assert_false(pp_accept_watch_wedged(&w));
	}
}

/* Sparse traffic: one connection now and then, each accepted before the next arrives. */
static void test_sparse_connections_each_seen_waiting_are_not_wedged(void **state)
{
	struct pp_accept_watch w = { 0 };

	for (uint64_t i = 1; i <= 20; i++)
		assert_int_equal(report(&w, i * 5 * SEC, 1, i, 1 * SEC), PP_ACCEPT_SAME);
	assert_false(pp_accept_watch_wedged(&w));
	/* The latest report's connection waits, but nothing has shown it waiting for long. */
	assert_int_equal(pp_accept_watch_stalled_for(&w), 0);
}

static void test_listener_that_stops_accepting_is_wedged_after_the_timeout(void **state)
{
	struct pp_accept_watch w = { 0 };
	const pp_nsec stop = 10 * SEC, timeout = 1 * SEC;
	pp_nsec t, wedged_at = 0;
	uint64_t est = 0, accepted = 0;

	for (t = 0; t < 20 * SEC; t += 250 * MS) {
		enum pp_accept_change c;

		est += 5;
		if (t < stop)
			accepted = est - 1;
		c = pp_accept_watch_on_report(&w, COOKIE, (uint32_t)(est - accepted), accepted, est,
					      t, timeout);
		if (c == PP_ACCEPT_WEDGED) {
			assert_int_equal(wedged_at, 0);
			wedged_at = t;
		} else {
			assert_int_equal(c, PP_ACCEPT_SAME);
		}
	}
	/*
	 * The last report with progress, at 9.75 s, already shows its new connection waiting,
	 * never accepted after: the run starts there.
	 */
	assert_int_equal(wedged_at, stop - 250 * MS + timeout);
	assert_true(pp_accept_watch_wedged(&w));
	assert_int_equal(pp_accept_watch_stalled_for(&w), t - 250 * MS - (stop - 250 * MS));
}

static void test_wedged_clears_when_an_accept_happens(void **state)
{
	struct pp_accept_watch w = { 0 };

	assert_int_equal(report(&w, 1 * SEC, 3, 3, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(report(&w, 2 * SEC, 4, 4, 1 * SEC), PP_ACCEPT_WEDGED);
	assert_int_equal(report(&w, 3 * SEC, 5, 5, 1 * SEC), PP_ACCEPT_SAME);
	assert_true(pp_accept_watch_wedged(&w));
	/* One accepted: the queue is still long, but the listener moves. */
	assert_int_equal(report(&w, 4 * SEC, 5, 6, 1 * SEC), PP_ACCEPT_CLEARED);
	assert_false(pp_accept_watch_wedged(&w));
	/* A new run from there, judged afresh. */
	assert_int_equal(report(&w, 4500 * MS, 6, 7, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(report(&w, 5 * SEC, 7, 8, 1 * SEC), PP_ACCEPT_WEDGED);
}

static void test_wedged_clears_when_the_queue_drains(void **state)
{
	struct pp_accept_watch w = { 0 };

	/* A listener that never accepted anything: accepted stays 0. */
	pp_accept_watch_on_report(&w, COOKIE, 2, 0, 2, 1 * SEC, 1 * SEC);
	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 3, 0, 3, 2 * SEC, 1 * SEC),
			 PP_ACCEPT_WEDGED);
	/* The queue empty with the same count: connections went away without an accept. */
	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 0, 0, 3, 3 * SEC, 1 * SEC),
			 PP_ACCEPT_CLEARED);
	assert_false(pp_accept_watch_wedged(&w));
	assert_int_equal(pp_accept_watch_stalled_for(&w), 0);
}

/*
 * Seen empty at one report, waiting at the next: the connections arrived in between, so the
 * run starts at the second report, not the first.
 */
static void test_a_run_starts_where_connections_were_first_seen_waiting(void **state)
{
	struct pp_accept_watch w = { 0 };

	assert_int_equal(report(&w, 1 * SEC, 0, 10, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(report(&w, 1900 * MS, 1, 11, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 2, 10, 12, 2500 * MS, 1 * SEC),
			 PP_ACCEPT_SAME);
	assert_int_equal(pp_accept_watch_stalled_for(&w), 600 * MS);
	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 3, 10, 13, 2900 * MS, 1 * SEC),
			 PP_ACCEPT_WEDGED);
}

/* Evidence takes two reports, even with a timeout of 0. */
static void test_one_report_is_never_evidence(void **state)
{
	struct pp_accept_watch w = { 0 };

	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 100, 0, 100, 5 * SEC, 0),
			 PP_ACCEPT_SAME);
	assert_false(pp_accept_watch_wedged(&w));
	assert_int_equal(pp_accept_watch_on_report(&w, COOKIE, 100, 0, 100, 5 * SEC, 0),
			 PP_ACCEPT_WEDGED);
}

static void test_another_listener_starts_afresh(void **state)
{
	struct pp_accept_watch w = { 0 };

	report(&w, 1 * SEC, 5, 5, 1 * SEC);
	assert_int_equal(report(&w, 2 * SEC, 6, 6, 1 * SEC), PP_ACCEPT_WEDGED);
	/* Same counts from another listener (a restarted container): not its evidence. */
	assert_int_equal(pp_accept_watch_on_report(&w, 0x9999, 1, 5, 6, 3 * SEC, 1 * SEC),
			 PP_ACCEPT_CLEARED);
	assert_false(pp_accept_watch_wedged(&w));
	assert_int_equal(pp_accept_watch_on_report(&w, 0x9999, 1, 5, 6, 3500 * MS, 1 * SEC),
			 PP_ACCEPT_SAME);
	/* Counters going backwards on an unknown (0) cookie: a new listener too. */
	w = (struct pp_accept_watch){ 0 };
	pp_accept_watch_on_report(&w, 0, 5, 3, 8, 1 * SEC, 1 * SEC);
	assert_int_equal(pp_accept_watch_on_report(&w, 0, 5, 3, 8, 2 * SEC, 1 * SEC),
			 PP_ACCEPT_WEDGED);
	assert_int_equal(pp_accept_watch_on_report(&w, 0, 1, 0, 1, 3 * SEC, 1 * SEC),
			 PP_ACCEPT_CLEARED);
	assert_int_equal(pp_accept_watch_on_report(&w, 0, 2, 0, 2, 3500 * MS, 1 * SEC),
			 PP_ACCEPT_SAME);
}

static void test_reset_forgets_the_evidence(void **state)
{
	struct pp_accept_watch w = { 0 };

	assert_int_equal(pp_accept_watch_reset(&w), PP_ACCEPT_SAME);
	report(&w, 1 * SEC, 5, 5, 1 * SEC);
	report(&w, 2 * SEC, 6, 6, 1 * SEC);
	assert_true(pp_accept_watch_wedged(&w));
	assert_int_equal(pp_accept_watch_reset(&w), PP_ACCEPT_CLEARED);
	assert_false(pp_accept_watch_wedged(&w));
	/* The first report after a reset opens a run; it is not evidence on its own. */
	assert_int_equal(report(&w, 10 * SEC, 6, 6, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(pp_accept_watch_stalled_for(&w), 0);
}

/* Records of two CPUs may arrive slightly out of order: an older one does not add time. */
static void test_an_older_report_does_not_lengthen_the_run(void **state)
{
	struct pp_accept_watch w = { 0 };

	report(&w, 2 * SEC, 3, 3, 1 * SEC);
	assert_int_equal(report(&w, 1 * SEC, 3, 3, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(pp_accept_watch_stalled_for(&w), 0);
	assert_int_equal(report(&w, 2999 * MS, 4, 4, 1 * SEC), PP_ACCEPT_SAME);
	assert_int_equal(report(&w, 3 * SEC, 4, 4, 1 * SEC), PP_ACCEPT_WEDGED);
}

static void test_change_names(void **state)
{
	assert_string_equal(pp_accept_change_str(PP_ACCEPT_SAME), "same");
	assert_string_equal(pp_accept_change_str(PP_ACCEPT_WEDGED), "wedged");
	assert_string_equal(pp_accept_change_str(PP_ACCEPT_CLEARED), "cleared");
	assert_string_equal(pp_accept_change_str(_PP_ACCEPT_CHANGE_MAX), "?");
}

/*
 * Thousands of random report sequences (seeded) against a direct reading of the rule: after
 * report k the listener is wedged exactly when a run of reports j..k (j < k, connections
 * waiting in each, the accepted count the same in each) spans the timeout, and the returned
 * changes mark exactly the flips.
 */
struct t_rep {
	pp_nsec t;
	uint32_t backlog;
	uint64_t accepted;
};

static bool oracle_wedged(const struct t_rep *r, size_t k, pp_nsec timeout)
{
	size_t j = k;

	if (!r[k].backlog)
		return false;
	while (j > 0 && r[j - 1].backlog && r[j - 1].accepted == r[k].accepted)
		j--;
	return j < k && r[k].t - r[j].t >= timeout;
}

static void test_random_sequences_match_the_rule(void **state)
{
	enum { RUNS = 3000, LEN = 60 };
	const pp_nsec timeout = 1 * SEC;
	unsigned int seed = 20251127, flips[_PP_ACCEPT_CHANGE_MAX] = { 0 };
	struct t_rep r[LEN];

	for (int run = 0; run < RUNS; run++) {
		struct pp_accept_watch w = { 0 };
		uint64_t accepted = (uint64_t)rand_r(&seed) % 5, est = accepted;
		bool was = false;
		pp_nsec t = 1000 * SEC;

		for (size_t k = 0; k < LEN; k++) {
			enum pp_accept_change c;
			bool now_wedged;

			/* Both counters only grow; accepts are rare in some runs, frequent in others. */
			t += (pp_nsec)(rand_r(&seed) % 700) * MS;
			est += (uint64_t)rand_r(&seed) % 3;
			if (rand_r(&seed) % (2 + run % 7) == 0)
				accepted += 1 + (uint64_t)rand_r(&seed) % 3;
			if (accepted > est)
				accepted = est;
			if (run % 3 == 0 && accepted == est)
				est++; /* ESTABLISHED-time samples: never an empty queue */
			r[k] = (struct t_rep){ .t = t, .backlog = (uint32_t)(est - accepted),
					       .accepted = accepted };
			c = pp_accept_watch_on_report(&w, COOKIE, r[k].backlog, accepted, est, t,
						      timeout);
			now_wedged = oracle_wedged(r, k, timeout);
			assert_int_equal(pp_accept_watch_wedged(&w), now_wedged);
			assert_int_equal(c, now_wedged == was ? PP_ACCEPT_SAME
					    : now_wedged      ? PP_ACCEPT_WEDGED
							      : PP_ACCEPT_CLEARED);
			assert_true(pp_accept_watch_stalled_for(&w) <= t - 1000 * SEC);
			flips[c]++;
			was = now_wedged;
		}
	}
	/* Both verdicts were reached many times. */
	assert_true(flips[PP_ACCEPT_WEDGED] > RUNS / 4);
	assert_true(flips[PP_ACCEPT_CLEARED] > RUNS / 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_listener_that_accepts_is_never_wedged),
		cmocka_unit_test(test_sparse_connections_each_seen_waiting_are_not_wedged),
		cmocka_unit_test(test_listener_that_stops_accepting_is_wedged_after_the_timeout),
		cmocka_unit_test(test_wedged_clears_when_an_accept_happens),
		cmocka_unit_test(test_wedged_clears_when_the_queue_drains),
		cmocka_unit_test(test_a_run_starts_where_connections_were_first_seen_waiting),
		cmocka_unit_test(test_one_report_is_never_evidence),
		cmocka_unit_test(test_another_listener_starts_afresh),
		cmocka_unit_test(test_reset_forgets_the_evidence),
		cmocka_unit_test(test_an_older_report_does_not_lengthen_the_run),
		cmocka_unit_test(test_change_names),
		cmocka_unit_test(test_random_sequences_match_the_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
