// SPDX-License-Identifier: Apache-2.0
/* The pid map against a model: sets, lookups and deletions in random order, growth included. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "podprobe/pid_map.h"

#define MAX_PIDS 5000

/*
 * <steps> random operations on a pool of <range> pids (1..<range> itself, or as many drawn
 * from the whole pid space with <scatter>: consecutive pids land in distinct slots, random ones
 * collide), every answer checked against a plain array.
 */
static void against_model(int range, bool scatter, int steps, unsigned int seed)
{
	static uint32_t model[MAX_PIDS]; /* value + 1, 0 = absent */
	static int32_t pool[MAX_PIDS];
	struct pp_pid_map m = { 0 };
	size_t n = 0;

	for (int k = 0; k < range; k++) {
		model[k] = 0;
		pool[k] = k + 1;
		/* Distinct: k + 1 in the low bits, random above. */
		if (scatter)
			pool[k] = (int32_t)((uint32_t)(rand_r(&seed) % 512) << 13 | (uint32_t)(k + 1));
	}
	for (int step = 0; step < steps; step++) {
		int k = rand_r(&seed) % range;
		int32_t pid = pool[k];
		uint32_t v = (uint32_t)(rand_r(&seed) % 1000000), got = 0;
		int op = rand_r(&seed) % 3;

		if (op == 0) {
			assert_int_equal(pp_pid_map_set(&m, pid, v), 0);
			n += !model[k];
			model[k] = v + 1;
		} else if (op == 1) {
			assert_int_equal(pp_pid_map_del(&m, pid), model[k] != 0);
			n -= model[k] != 0;
			model[k] = 0;
		}
		assert_int_equal(pp_pid_map_get(&m, pid, &got), model[k] != 0);
		if (model[k])
			assert_int_equal(got + 1, model[k]);
		assert_int_equal(m.n, n);
	}
	/* Every pid at the end, not only the ones just touched. */
	for (int k = 0; k < range; k++) {
		uint32_t got;

		assert_int_equal(pp_pid_map_get(&m, pool[k], &got), model[k] != 0);
		if (model[k])
			assert_int_equal(got + 1, model[k]);
	}
	assert_true(2 * m.n <= m.cap); /* at most half full: every probe run ends */
	pp_pid_map_free(&m);
}

/* Thousands of pids: the table grows several times. */
static void test_random_operations_match_a_model(void **state)
{
	against_model(MAX_PIDS, false, 200000, 11);
	against_model(MAX_PIDS, true, 200000, 12);
}

/*
 * Few pids in a small table: long runs that wrap around its end, where a deletion that moves
 * the wrong entry back (or none) loses one.
 */
static void test_deletions_in_a_crowded_table_lose_nothing(void **state)
{
	for (unsigned int seed = 1; seed <= 20; seed++)
		against_model(45, true, 20000, seed);
}

static void test_bad_pids_and_empty_maps(void **state)
{
	struct pp_pid_map m = { 0 };
	uint32_t got;

	assert_false(pp_pid_map_get(&m, 64, &got));
	assert_false(pp_pid_map_del(&m, 64));
	assert_int_equal(pp_pid_map_set(&m, 0, 1), -EINVAL);
	assert_int_equal(pp_pid_map_set(&m, -3, 1), -EINVAL);
	assert_int_equal(pp_pid_map_set(&m, 64, 7), 0);
	assert_int_equal(pp_pid_map_set(&m, 64, 8), 0);
	assert_int_equal(m.n, 1);
	assert_true(pp_pid_map_get(&m, 64, &got));
	assert_int_equal(got, 8);
	assert_false(pp_pid_map_get(&m, 0, &got));
	pp_pid_map_free(&m);
	assert_false(pp_pid_map_get(&m, 64, &got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_operations_match_a_model),
		cmocka_unit_test(test_deletions_in_a_crowded_table_lose_nothing),
		cmocka_unit_test(test_bad_pids_and_empty_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
