// SPDX-License-Identifier: Apache-2.0
/* Display formats: Go durations, kubectl's HumanDuration, duration parsing, JSON strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/expand.h"
#include "podprobe/kubefmt.h"

#define SEC PP_NSEC_PER_SEC

static void assert_go(pp_nsec d, const char *want)
{
	char buf[32];

	assert_true(pp_fmt_go_duration(d, buf, sizeof(buf)) >= 0);
	assert_string_equal(buf, want);
}

static void test_go_duration_matches_go_string(void **state)
{
	assert_go(0, "0s");
	assert_go(10 * SEC, "10s");
	assert_go(80 * SEC, "1m20s");
	assert_go(160 * SEC, "2m40s");
	assert_go(300 * SEC, "5m0s");
	assert_go(3600 * SEC, "1h0m0s");
	assert_go(500 * PP_NSEC_PER_MSEC, "500ms");
	assert_go(1500 * PP_NSEC_PER_MSEC, "1.5s");
	assert_go(1500, "1.5\xc2\xb5s");
	assert_go(999, "999ns");
}

#define S   ((int64_t)SEC)
#define MIN (60 * S)
#define H   (60 * MIN)
#define D   (24 * H)
#define Y   (365 * D)

/* apimachinery duration.go HumanDuration, one case at each edge of every range. */
static void test_human_duration_matches_apimachinery(void **state)
{
	static const struct {
		int64_t d;
		const char *want;
	} cases[] = {
		{-3 * S, "<invalid>"},
		{-2 * S, "<invalid>"},
		{-2 * S + 1, "0s"}, /* int(d.Seconds()) == -1 */
		{-S, "0s"},
		{-1, "0s"},
		{0, "0s"},
		{S - 1, "0s"},
		{95 * S, "95s"},
		{2 * MIN - 1, "119s"},
		{2 * MIN, "2m"},
		{3 * MIN + 5 * S, "3m5s"},
		{10 * MIN - 1, "9m59s"},
		{10 * MIN, "10m"},
		{125 * MIN, "125m"},
		{3 * H - 1, "179m"},
		{3 * H, "3h"},
		{5 * H + 3 * MIN, "5h3m"},
		{8 * H - 1, "7h59m"},
		{8 * H, "8h"},
		{30 * H, "30h"},
		{48 * H - 1, "47h"},
		{48 * H, "2d"},
		{3 * D + 4 * H, "3d4h"},
		{8 * D - 1, "7d23h"},
		{8 * D, "8d"},
		{100 * D, "100d"},
		{2 * Y - 1, "729d"},
		{2 * Y, "2y"},
		{3 * Y + 10 * D, "3y10d"},
		{8 * Y - 1, "7y364d"},
		{8 * Y, "8y"},
		{9 * Y, "9y"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(pp_fmt_human_duration(cases[i].d, buf, sizeof(buf)) >= 0);
		assert_string_equal(buf, cases[i].want);
	}
	assert_int_equal(pp_fmt_human_duration(3 * MIN + 5 * S, buf, 4), -ENOSPC);
}

static void test_parse_duration_accepts_go_forms_and_seconds(void **state)
{
	pp_nsec d;

	assert_int_equal(pp_parse_duration("250ms", &d), 0);
	assert_int_equal(d, 250 * PP_NSEC_PER_MSEC);
	assert_int_equal(pp_parse_duration("1m30s", &d), 0);
	assert_int_equal(d, 90 * SEC);
	assert_int_equal(pp_parse_duration("2", &d), 0);
	assert_int_equal(d, 2 * SEC);
	assert_int_equal(pp_parse_duration("1.5s", &d), 0);
	assert_int_equal(d, 1500 * PP_NSEC_PER_MSEC);
	assert_int_equal(pp_parse_duration("2h", &d), 0);
	assert_int_equal(d, 7200 * SEC);
	assert_int_equal(pp_parse_duration("", &d), -EINVAL);
	assert_int_equal(pp_parse_duration("-1s", &d), -EINVAL);
	assert_int_equal(pp_parse_duration("10x", &d), -EINVAL);
	assert_int_equal(pp_parse_duration("s", &d), -EINVAL);
	assert_int_equal(pp_parse_duration("99999999999999999999s", &d), -EINVAL);
}

static void assert_duration(const char *s, pp_nsec want)
{
	pp_nsec d = 0;

	assert_int_equal(pp_parse_duration(s, &d), 0);
	assert_int_equal(d, want);
}

static void assert_bad_duration(const char *s)
{
	pp_nsec d = 42;

	assert_int_equal(pp_parse_duration(s, &d), -EINVAL);
	assert_int_equal(d, 42); /* untouched on failure */
}

static void test_parse_duration_takes_both_micro_signs(void **state)
{
	assert_duration("1\xc2\xb5s", PP_NSEC_PER_USEC);	 /* U+00B5 micro sign */
	assert_duration("250\xce\xbcs", 250 * PP_NSEC_PER_USEC); /* U+03BC Greek mu, as Go */
	assert_duration("3us", 3 * PP_NSEC_PER_USEC);
}

static void test_parse_duration_fractions_of_large_units_are_exact(void **state)
{
	/* frac * unit used to overflow 64 bits from about 7 fraction digits of an hour */
	assert_duration("0.9000000h", 3240 * SEC);
	assert_duration("1.999999999h", 7199999996400ull);
	assert_duration("0.999999999m", 59999999940ull);
	assert_duration(".5s", 500 * PP_NSEC_PER_MSEC);
	assert_duration("1.s", SEC);
	assert_duration("0.0000000015s", 1); /* below a nanosecond: truncated */
	assert_duration("1.5", 1500 * PP_NSEC_PER_MSEC);
}

static void test_parse_duration_stops_at_go_duration_range(void **state)
{
	assert_duration("2562047h47m16.854775807s", (pp_nsec)INT64_MAX);
	assert_bad_duration("2562047h47m16.854775808s");
	assert_bad_duration("9223372037s");
	assert_bad_duration("2562048h");
	/* each part fits, the sum does not (it used to wrap around) */
	assert_bad_duration("10000000000s10000000000s");
	assert_bad_duration("18446744073s18446744073s");
}

static void test_parse_duration_rejects_signs_spaces_and_stray_text(void **state)
{
	assert_bad_duration("+1s");
	assert_bad_duration(" 1s");
	assert_bad_duration("1s ");
	assert_bad_duration("1 s");
	assert_bad_duration(".");
	assert_bad_duration(".s");
	assert_bad_duration("1s2"); /* a bare number only as the whole string */
	assert_bad_duration("1.5.5s");
	assert_bad_duration("1S");
	assert_bad_duration("1d");
	assert_bad_duration("0x10s");
}

static void test_json_string_escapes_controls_and_quotes(void **state)
{
	char buf[64];
	size_t len = 0;

	assert_int_equal(pp_json_append_string(buf, sizeof(buf), &len, "a\"b\\c\n\x01"), 0);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	len = 0;
	assert_int_equal(pp_json_append_string(buf, 4, &len, "abcdef"), -ENOSPC);
	assert_int_equal(strlen(buf), 3);
}

static void test_expand_vars_follows_kubernetes_rules(void **state)
{
	const struct pp_kv vars[] = {{"A", "x"}, {"B", "$(A)y"}, {"A", "z"}};
	char *s;

	s = pp_expand_vars("$(A)-$(B)-$(C)-$$(A)-$$-$", vars, 3);
	assert_string_equal(s, "z-$(A)y-$(C)-$(A)-$-$");
	free(s);
	s = pp_expand_vars("$(A", vars, 3);
	assert_string_equal(s, "$(A");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_duration_matches_go_string),
		cmocka_unit_test(test_human_duration_matches_apimachinery),
		cmocka_unit_test(test_parse_duration_accepts_go_forms_and_seconds),
		cmocka_unit_test(test_parse_duration_takes_both_micro_signs),
		cmocka_unit_test(test_parse_duration_fractions_of_large_units_are_exact),
		cmocka_unit_test(test_parse_duration_stops_at_go_duration_range),
		cmocka_unit_test(test_parse_duration_rejects_signs_spaces_and_stray_text),
		cmocka_unit_test(test_json_string_escapes_controls_and_quotes),
		cmocka_unit_test(test_expand_vars_follows_kubernetes_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
