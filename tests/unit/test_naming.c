// SPDX-License-Identifier: Apache-2.0
/* The cgroup root name of a state directory: stable per directory, distinct between them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/naming.h"

static void test_root_name_is_stable_and_per_directory(void **state)
{
	char a[32], b[32], c[32];

	assert_int_equal(pp_cgroup_root_name("/run/podprobe", a, sizeof(a)), 0);
	assert_int_equal(pp_cgroup_root_name("/run/podprobe", b, sizeof(b)), 0);
	assert_int_equal(pp_cgroup_root_name("/run/podprobe2", c, sizeof(c)), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 25);
	assert_memory_equal(a, "podprobe-", 9);
	for (size_t i = 9; i < 25; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_int_equal(pp_cgroup_root_name("/x", a, 25), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_name_is_stable_and_per_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
