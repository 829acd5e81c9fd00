// SPDX-License-Identifier: Apache-2.0
/* The deadline heap and the back-off arithmetic. */
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
		cmocka_unit_test(test_pop_expired_leaves_future_entries),
		cmocka_unit_test(test_backoff_first_restart_immediate_then_doubling),
		cmocka_unit_test(test_backoff_scaled_by_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
