// SPDX-License-Identifier: Apache-2.0
/* The deadline heap, its slack variant and the back-off arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "podprobe/backoff.h"
#include "podprobe/sched.h"

#define SEC PP_NSEC_PER_SEC

static void test_heap_pops_in_deadline_order(void **state)
{
	struct pp_sched s = { 0 };
	struct pp_sched_entry e;
	unsigned int seed = 7;
	pp_nsec last = 0;
	size_t n = 0;

	for (uint32_t i = 0; i < 20000; i++)
		assert_int_equal(pp_sched_push(&s, (pp_nsec)(rand_r(&seed) % 100000), i, 0), 0);
	while (pp_sched_pop_expired(&s, PP_NSEC_INFINITY - 1, &e)) {
		assert_true(e.deadline >= last);
		last = e.deadline;
		n++;
	}
	assert_int_equal(n, 20000);
	assert_int_equal(pp_sched_next(&s), PP_NSEC_INFINITY);
	pp_sched_free(&s);
}

/* Pushes and pops interleaved, against a model: every pop is the earliest entry, and its own. */
static void test_heap_interleaved_matches_a_model(void **state)
{
	static uint32_t count[1000]; /* entries per deadline */
	static pp_nsec of_key[30000];
	struct pp_sched s = { 0 };
	struct pp_sched_entry e;
	unsigned int seed = 11;
	size_t n = 0, pops = 0;
	uint32_t key = 0;

	for (int round = 0; round < 3000; round++) {
		int pushes = (int)(rand_r(&seed) % 10), popn = (int)(rand_r(&seed) % 10);

		for (int i = 0; i < pushes && key < 30000; i++, key++, n++) {
			pp_nsec d = (pp_nsec)(rand_r(&seed) % 1000);

			assert_int_equal(pp_sched_push(&s, d, key, 0), 0);
			count[d]++;
			of_key[key] = d;
		}
		for (int i = 0; i < popn; i++) {
			pp_nsec min = 0;

			if (!n) {
				assert_false(pp_sched_pop_expired(&s, PP_NSEC_INFINITY - 1, &e));
				break;
			}
			while (!count[min])
				min++;
			assert_int_equal(pp_sched_next(&s), min);
			assert_true(pp_sched_pop_expired(&s, PP_NSEC_INFINITY - 1, &e));
			assert_int_equal(e.deadline, min);
			assert_int_equal(of_key[e.key], e.deadline);
			count[min]--;
			n--;
			pops++;
		}
	}
	assert_true(pops > 10000);
	assert_int_equal(s.n, n);
	pp_sched_free(&s);
}

static void test_pop_expired_leaves_future_entries(void **state)
{
	struct pp_sched s = { 0 };
	struct pp_sched_entry e;

	pp_sched_push(&s, 30, 3, 1);
	pp_sched_push(&s, 10, 1, 1);
	pp_sched_push(&s, 20, 2, 1);
	assert_false(pp_sched_pop_expired(&s, 9, &e));
	assert_true(pp_sched_pop_expired(&s, 20, &e));
	assert_int_equal(e.key, 1);
	assert_true(pp_sched_pop_expired(&s, 20, &e));
	assert_int_equal(e.key, 2);
	assert_false(pp_sched_pop_expired(&s, 20, &e));
	assert_int_equal(pp_sched_next(&s), 30);
	pp_sched_free(&s);
}

#define MS PP_NSEC_PER_MSEC

/* 1,000 entries due 1 ms apart with 10 ms slack: about one wake-up per 10 ms, none late. */
static void test_slack_coalesces_due_entries_into_few_wakes(void **state)
{
	struct pp_slack_sched s = { 0 };
	struct pp_sched_entry e;
	pp_nsec now, base = 1000 * SEC;
	unsigned int wakes = 0, popped = 0;

	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(pp_slack_sched_push(&s, base + i * MS, 10 * MS, i, 0), 0);
	while ((now = pp_slack_sched_next(&s)) != PP_NSEC_INFINITY) {
		unsigned int batch = 0;

		wakes++;
		while (pp_slack_sched_pop_expired(&s, now, &e)) {
			/* Never before it is due, never after its slack. */
			assert_true(e.deadline <= now);
			assert_true(now - e.deadline <= 10 * MS);
			batch++;
		}
		assert_true(batch >= 1);
		popped += batch;
	}
	assert_int_equal(popped, 1000);
	/* 1,000 ms of deadlines in steps of 11 ms (the first due + 10 ms takes 11 of them). */
	assert_true(wakes >= 90 && wakes <= 100);
	pp_slack_sched_free(&s);
}

/* An entry without slack wakes on time even when entries with slack are due earlier. */
static void test_slack_zero_entry_is_not_delayed(void **state)
{
	struct pp_slack_sched s = { 0 };
	struct pp_sched_entry e;

	assert_int_equal(pp_slack_sched_push(&s, 100 * MS, 10 * MS, 1, 0), 0);
	assert_int_equal(pp_slack_sched_push(&s, 105 * MS, 0, 2, 0), 0);
	assert_int_equal(pp_slack_sched_push(&s, 101 * MS, 10 * MS, 3, 0), 0);
	/* Wake for the slack-0 entry at 105 ms, not at 110 ms. */
	assert_int_equal(pp_slack_sched_next(&s), 105 * MS);
	/* That wake takes the two with slack along, earliest first. */
	assert_true(pp_slack_sched_pop_expired(&s, 105 * MS, &e));
	assert_int_equal(e.key, 1);
	assert_true(pp_slack_sched_pop_expired(&s, 105 * MS, &e));
	assert_int_equal(e.key, 3);
	assert_true(pp_slack_sched_pop_expired(&s, 105 * MS, &e));
	assert_int_equal(e.key, 2);
	assert_int_equal(e.deadline, 105 * MS);
	assert_false(pp_slack_sched_pop_expired(&s, 105 * MS, &e));
	assert_int_equal(pp_slack_sched_next(&s), PP_NSEC_INFINITY);
	assert_int_equal(pp_slack_sched_len(&s), 0);
	pp_slack_sched_free(&s);
}

/* Nothing pops before its deadline, whatever its slack. */
static void test_slack_never_pops_early(void **state)
{
	struct pp_slack_sched s = { 0 };
	struct pp_sched_entry e;

	assert_int_equal(pp_slack_sched_push(&s, 50 * MS, 10 * MS, 1, 0), 0);
	assert_false(pp_slack_sched_pop_expired(&s, 50 * MS - 1, &e));
	assert_int_equal(pp_slack_sched_next(&s), 60 * MS);
	assert_true(pp_slack_sched_pop_expired(&s, 50 * MS, &e));
	pp_slack_sched_free(&s);
}

/* More distinct slacks than classes: the extra ones share a class with less slack, never more. */
static void test_slack_classes_overflow_rounds_down(void **state)
{
	struct pp_slack_sched s = { 0 };
	struct pp_sched_entry e;
	pp_nsec now;
	unsigned int n = 0;

	for (uint32_t i = 0; i < 3 * PP_SLACK_CLASSES; i++)
		assert_int_equal(pp_slack_sched_push(&s, SEC, (i + 1) * MS, i, 0), 0);
	assert_true(s.n_cls <= PP_SLACK_CLASSES);
	/* The smallest slack is 1 ms: the wake comes no later than that. */
	assert_true(pp_slack_sched_next(&s) <= SEC + MS);
	/* Pushed with slack 1..3N ms, each waits at most its own slack. */
	for (uint32_t i = 0; i < 3 * PP_SLACK_CLASSES; i++) {
		struct pp_slack_sched one = { 0 };

		for (uint32_t j = 0; j <= i; j++)
			pp_slack_sched_push(&one, SEC, (j + 1) * MS, j, 0);
		assert_true(pp_slack_sched_next(&one) <= SEC + (i + 1) * MS);
		pp_slack_sched_free(&one);
	}
	/* A slack larger than every class, pushed when the table is full: still bounded. */
	assert_int_equal(pp_slack_sched_push(&s, 2 * SEC, 1000 * MS, 99, 0), 0);
	now = pp_slack_sched_next(&s);
	while (pp_slack_sched_pop_expired(&s, PP_NSEC_INFINITY - 1, &e))
		n++;
	assert_true(now <= SEC + MS);
	assert_int_equal(n, 3 * PP_SLACK_CLASSES + 1);
	pp_slack_sched_free(&s);
}

static void test_backoff_first_restart_immediate_then_doubling(void **state)
{
	struct pp_backoff_cfg cfg = { 0 };
	struct pp_backoff b = { 0 };
	pp_nsec until, t = 1000 * SEC;

	pp_backoff_cfg_fill(&cfg);
	assert_int_equal(cfg.reset, 600 * SEC);
	assert_false(pp_backoff_holds(&b, &cfg, t, t, &until));
	pp_backoff_next(&b, &cfg, t, t);
	t += SEC;
	assert_true(pp_backoff_holds(&b, &cfg, t, t, &until));
	assert_int_equal(until, t + 10 * SEC);
	assert_false(pp_backoff_holds(&b, &cfg, t, t + 10 * SEC, &until));
	pp_backoff_next(&b, &cfg, t, t + 10 * SEC);
	assert_int_equal(b.delay, 20 * SEC);
	for (int i = 0; i < 10; i++)
		pp_backoff_next(&b, &cfg, t, t + 10 * SEC);
	assert_int_equal(b.delay, 300 * SEC);
}

static void test_backoff_scaled_by_flags(void **state)
{
	struct pp_backoff_cfg cfg = { .base = 100 * PP_NSEC_PER_MSEC, .max = SEC };

	pp_backoff_cfg_fill(&cfg);
	assert_int_equal(cfg.reset, 2 * SEC);
	struct pp_backoff_cfg odd = { .base = 5 * SEC, .max = SEC };
	pp_backoff_cfg_fill(&odd);
	assert_int_equal(odd.base, SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_pops_in_deadline_order),
		cmocka_unit_test(test_heap_interleaved_matches_a_model),
		cmocka_unit_test(test_pop_expired_leaves_future_entries),
		cmocka_unit_test(test_slack_coalesces_due_entries_into_few_wakes),
		cmocka_unit_test(test_slack_zero_entry_is_not_delayed),
		cmocka_unit_test(test_slack_never_pops_early),
		cmocka_unit_test(test_slack_classes_overflow_rounds_down),
		cmocka_unit_test(test_backoff_first_restart_immediate_then_doubling),
		cmocka_unit_test(test_backoff_scaled_by_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
