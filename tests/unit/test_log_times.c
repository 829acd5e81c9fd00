// SPDX-License-Identifier: Apache-2.0
/* Log-line times and kubelet's `kubectl logs` output rules (user/core/log_times.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/log_times.h"

#define S(x) ((pp_wall_ns)(x) * (pp_wall_ns)PP_NSEC_PER_SEC)
/* 2026-12-01T10:00:00Z */
#define T0 S(1796119200)

static void t_fmt(pp_wall_ns t, const char *want)
{
	char buf[PP_LOG_TIME_LEN + 1];
	pp_wall_ns back;

	assert_int_equal(pp_log_time_format(t, buf), PP_LOG_TIME_LEN);
	assert_string_equal(buf, want);
	assert_int_equal(pp_log_time_parse(buf, &back), 0);
	assert_int_equal(back, t);
}

/* kubelet's timeFormatOut is RFC3339NanoFixed: nine digits, zeros kept. */
static void test_format_is_fixed_width(void **state)
{
	(void)state;
	t_fmt(T0, "2026-12-01T10:00:00.000000000Z");
	t_fmt(T0 + 500000000, "2026-12-01T10:00:00.500000000Z");
	t_fmt(T0 + 123456789, "2026-12-01T10:00:00.123456789Z");
	t_fmt(0, "1970-01-01T00:00:00.000000000Z");
	t_fmt(-1, "1969-12-31T23:59:59.999999999Z");
	t_fmt(S(951782400), "2000-02-29T00:00:00.000000000Z");
	t_fmt(S(4102444799) + 1, "2099-12-31T23:59:59.000000001Z");
}

static void test_parse_rfc3339(void **state)
{
	pp_wall_ns t = 0;

	(void)state;
	assert_int_equal(pp_log_time_parse("2026-12-01T10:00:00Z", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(pp_log_time_parse("2026-12-01T11:30:00+01:30", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(pp_log_time_parse("2026-12-01T09:00:00.25-01:00", &t), 0);
	assert_int_equal(t, T0 + 250000000);
	assert_int_equal(pp_log_time_parse("2026-12-01T10:00:00.1234567891Z", &t), 0);
	assert_int_equal(t, T0 + 123456789);
	t = 7;
	assert_int_equal(pp_log_time_parse("2026-12-01 10:00:00Z", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("2026-12-01T10:00:00", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("2026-02-29T10:00:00Z", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("2026-12-01T10:00:00Zx", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("2026-12-01T10:00:00.Z", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("2026-13-01T10:00:00Z", &t), -EINVAL);
	assert_int_equal(pp_log_time_parse("", &t), -EINVAL);
	assert_int_equal(t, 7);
}

static const struct pp_log_rec recs[] = {
	{4, T0 + S(1)},	 /* "one\n" */
	{8, T0 + S(2)},	 /* "two\n" */
	{14, T0 + S(3)}, /* "thr" + "ee\nf": a record in mid-line */
	{16, T0 + S(4)}, /* "our" */
};

static void test_time_lookup(void **state)
{
	(void)state;
	assert_int_equal(pp_log_time_at(recs, 4, 0, 99), T0 + S(1));
	assert_int_equal(pp_log_time_at(recs, 4, 3, 99), T0 + S(1));
	assert_int_equal(pp_log_time_at(recs, 4, 4, 99), T0 + S(2));
	assert_int_equal(pp_log_time_at(recs, 4, 13, 99), T0 + S(3));
	assert_int_equal(pp_log_time_at(recs, 4, 15, 99), T0 + S(4));
	assert_int_equal(pp_log_time_at(recs, 4, 16, 99), 99);
	assert_int_equal(pp_log_time_at(NULL, 0, 0, 99), 99);

	assert_int_equal(pp_log_since_offset(recs, 4, T0, 0, 100), 0);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(2), 0, 100), 4);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(2) + 1, 0, 100), 8);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(5), T0 + S(5), 100), 16);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(5), T0 + S(4), 100), 100);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(2), 0, 6), 4);
	assert_int_equal(pp_log_since_offset(recs, 4, T0 + S(3), 0, 6), 6);
}

static const char file[] = "one\ntwo\nthree\nfour"; /* 18 bytes, the last line partial */
#define NONE INT64_MIN

static char rendered[1024];

/* Render <file> for <sel>; returns the output as a string, the bytes used in *<ret_used>. */
static const char *render(struct pp_log_sel sel, bool final, long *ret_used)
{
	struct pp_log_out out = {0};
	long used;

	used = pp_log_render(&sel, recs, 4, T0 + S(9), file, sizeof(file) - 1, 0, final, &out);
	assert_true(used >= 0);
	assert_true(out.len < sizeof(rendered));
	if (out.len)
		memcpy(rendered, out.buf, out.len);
	rendered[out.len] = '\0';
	pp_log_out_fini(&out);
	if (ret_used)
		*ret_used = used;
	return rendered;
}

static void test_lines_and_partial_last_line(void **state)
{
	long used;

	(void)state;
	/* Without timestamps the bytes come out as they are. */
	assert_string_equal(render((struct pp_log_sel){false, NONE, -1, -1}, true, &used), file);
	assert_int_equal(used, 18);
	/* A follow holds the partial line back until its newline comes. */
	assert_string_equal(render((struct pp_log_sel){false, NONE, -1, -1}, false, &used),
			    "one\ntwo\nthree\n");
	assert_int_equal(used, 14);
	/* Each line gets the time of its first byte; "three" began before the mid-line record. */
	assert_string_equal(render((struct pp_log_sel){true, NONE, -1, -1}, true, NULL),
			    "2026-12-01T10:00:01.000000000Z one\n"
			    "2026-12-01T10:00:02.000000000Z two\n"
			    "2026-12-01T10:00:03.000000000Z three\n"
			    "2026-12-01T10:00:04.000000000Z four");
	/* Past the last record a line takes the caller's time. */
	{
		struct pp_log_sel sel = {true, NONE, -1, -1};
		struct pp_log_out out = {0};

		assert_int_equal(pp_log_render(&sel, recs, 2, T0 + S(9), file, 18, 0, true, &out),
				 18);
		assert_memory_equal(out.buf + 2 * 35, "2026-12-01T10:00:09.000000000Z three\n", 37);
		pp_log_out_fini(&out);
	}
	/* Nothing at all, and a buffer starting at a later file offset. */
	{
		struct pp_log_sel sel = {true, NONE, -1, -1};
		struct pp_log_out out = {0};

		assert_int_equal(pp_log_render(&sel, recs, 4, 0, "", 0, 0, true, &out), 0);
		assert_int_equal(out.len, 0);
		assert_int_equal(pp_log_render(&sel, recs, 4, 0, "two\n", 4, 4, true, &out), 4);
		assert_memory_equal(out.buf, "2026-12-01T10:00:02.000000000Z two\n", 35);
		pp_log_out_fini(&out);
	}
}

static void test_since(void **state)
{
	(void)state;
	/* logWriter.write skips lines Before(since): a line at since itself stays. */
	assert_string_equal(render((struct pp_log_sel){false, T0 + S(2), -1, -1}, true, NULL),
			    "two\nthree\nfour");
	assert_string_equal(render((struct pp_log_sel){false, T0 + S(2) + 1, -1, -1}, true, NULL),
			    "three\nfour");
	assert_string_equal(render((struct pp_log_sel){false, T0 + S(10), -1, -1}, true, NULL), "");
	assert_string_equal(render((struct pp_log_sel){true, T0 + S(4), -1, -1}, true, NULL),
			    "2026-12-01T10:00:04.000000000Z four");
}

static void test_tail(void **state)
{
	(void)state;
	assert_string_equal(render((struct pp_log_sel){false, NONE, 0, -1}, true, NULL), "");
	assert_string_equal(render((struct pp_log_sel){false, NONE, 1, -1}, true, NULL), "four");
	assert_string_equal(render((struct pp_log_sel){false, NONE, 2, -1}, true, NULL),
			    "three\nfour");
	assert_string_equal(render((struct pp_log_sel){false, NONE, 4, -1}, true, NULL), file);
	assert_string_equal(render((struct pp_log_sel){false, NONE, 40, -1}, true, NULL), file);
	{
		struct pp_log_sel sel = {false, NONE, 1, -1};
		struct pp_log_out out = {0};

		/* A last line with its newline is one line, not two. */
		assert_int_equal(pp_log_render(&sel, recs, 4, 0, "a\nb\n", 4, 0, true, &out), 4);
		assert_int_equal(out.len, 2);
		assert_memory_equal(out.buf, "b\n", 2);
		pp_log_out_fini(&out);
	}
}

static void test_limit_and_combinations(void **state)
{
	(void)state;
	/* limitBytes cuts the output, timestamps included, even in mid-prefix. */
	assert_string_equal(render((struct pp_log_sel){false, NONE, -1, 6}, true, NULL), "one\ntw");
	assert_string_equal(render((struct pp_log_sel){true, NONE, -1, 40}, true, NULL),
			    "2026-12-01T10:00:01.000000000Z one\n2026-");
	assert_string_equal(render((struct pp_log_sel){true, NONE, -1, 10}, true, NULL),
			    "2026-12-01");
	/* tail, then since: the last 3 lines, less the one older than since. */
	assert_string_equal(render((struct pp_log_sel){false, T0 + S(3), 3, -1}, true, NULL),
			    "three\nfour");
	/* ... then the limit on what is left. */
	assert_string_equal(render((struct pp_log_sel){true, T0 + S(3), 3, 33}, true, NULL),
			    "2026-12-01T10:00:03.000000000Z th");
	/* since removes everything the tail kept. */
	assert_string_equal(render((struct pp_log_sel){false, T0 + S(5), 2, 100}, true, NULL), "");
	/* The limit counts down across calls (a follow), and 0 means done. */
	{
		struct pp_log_sel sel = {false, NONE, -1, 5};
		struct pp_log_out out = {0};

		assert_int_equal(pp_log_render(&sel, recs, 4, 0, "one\n", 4, 0, false, &out), 4);
		assert_int_equal(sel.limit, 1);
		pp_log_render(&sel, recs, 4, 0, "two\n", 4, 4, false, &out);
		assert_int_equal(sel.limit, 0);
		assert_int_equal(out.len, 5);
		assert_memory_equal(out.buf, "one\nt", 5);
		pp_log_out_fini(&out);
	}
}

static void test_recs_push_and_coarsen(void **state)
{
	struct pp_log_recs r = {0};
	struct pp_log_rec v[] = {
		{10, 0}, {20, 4}, {30, 9}, {40, 10}, {50, 25}, {60, 26}, {70, 100},
	};
	size_t n;

	(void)state;
	assert_int_equal(pp_log_recs_push(&r, 10, 5), 0);
	assert_int_equal(pp_log_recs_push(&r, 10, 6), 0); /* no new bytes: no record */
	assert_int_equal(pp_log_recs_push(&r, 20, 3), 0); /* the clock went back */
	for (uint64_t i = 0; i < 200; i++)
		assert_int_equal(pp_log_recs_push(&r, 30 + i, 10 + (pp_wall_ns)i), 0);
	assert_int_equal(r.n, 202);
	assert_int_equal(r.v[1].off, 20);
	assert_int_equal(r.v[1].t, 5);
	pp_log_recs_fini(&r);
	assert_null(r.v);

	/* Runs of records within 10 of their first keep their last: times only move later. */
	n = pp_log_recs_coarsen(v, 7, 10);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].off, 30);
	assert_int_equal(v[0].t, 9);
	assert_int_equal(v[1].off, 40);
	assert_int_equal(v[1].t, 10);
	assert_int_equal(v[2].off, 60);
	assert_int_equal(v[2].t, 26);
	assert_int_equal(v[3].off, 70);
	assert_int_equal(pp_log_recs_coarsen(v, 4, 1000), 1);
	assert_int_equal(v[0].off, 70);
	assert_int_equal(pp_log_recs_coarsen(v, 0, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_is_fixed_width),
		cmocka_unit_test(test_parse_rfc3339),
		cmocka_unit_test(test_time_lookup),
		cmocka_unit_test(test_lines_and_partial_last_line),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_limit_and_combinations),
		cmocka_unit_test(test_recs_push_and_coarsen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
