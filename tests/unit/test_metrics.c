// SPDX-License-Identifier: Apache-2.0
/* Probe metrics: kubelet's prober_probe_total and prober_probe_duration_seconds as text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/metrics.h"

#define MS  PP_NSEC_PER_MSEC
#define SEC PP_NSEC_PER_SEC

static int setup(void **state)
{
	struct pp_metrics *m = calloc(1, sizeof(*m));

	if (!m || pp_metrics_init(m) < 0)
		return -1;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	pp_metrics_fini(*state);
	free(*state);
	return 0;
}

static char *t_write(struct pp_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(pp_metrics_write(m, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void t_probe(struct pp_metrics *m, const char *pod, const char *uid, const char *c,
		    enum pp_probe_kind k, enum pp_metric_result r, pp_nsec d)
{
	assert_int_equal(pp_metrics_probe(m, "default", pod, uid, c, k, r, d), 0);
}

static void test_empty_set_writes_nothing(void **state)
{
	char *s = t_write(*state);

	assert_string_equal(s, "");
	free(s);
}

/* The whole text of one container's readiness probe: every line as kubelet's /metrics has it. */
static void test_one_series_full_text(void **state)
{
	struct pp_metrics *m = *state;
	static const char want[] =
		"# HELP prober_probe_duration_seconds [ALPHA] Duration in seconds for a probe "
		"response.\n"
		"# TYPE prober_probe_duration_seconds histogram\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.005\"} 2\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.01\"} 3\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.025\"} 3\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.05\"} 3\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.1\"} 3\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.25\"} 3\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"0.5\"} 4\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"1\"} 4\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"2.5\"} 4\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"5\"} 4\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"10\"} 4\n"
		"prober_probe_duration_seconds_bucket{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\",le=\"+Inf\"} 5\n"
		"prober_probe_duration_seconds_sum{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\"} 20.313\n"
		"prober_probe_duration_seconds_count{container=\"web\",namespace=\"default\","
		"pod=\"web\",probe_type=\"Readiness\"} 5\n"
		"# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness or "
		"startup probe for a container by result.\n"
		"# TYPE prober_probe_total counter\n"
		"prober_probe_total{container=\"web\",namespace=\"default\",pod=\"web\","
		"pod_uid=\"u1\",probe_type=\"Readiness\",result=\"failed\"} 2\n"
		"prober_probe_total{container=\"web\",namespace=\"default\",pod=\"web\","
		"pod_uid=\"u1\",probe_type=\"Readiness\",result=\"successful\"} 4\n"
		"prober_probe_total{container=\"web\",namespace=\"default\",pod=\"web\","
		"pod_uid=\"u1\",probe_type=\"Readiness\",result=\"unknown\"} 1\n";
	char *s;

	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_SUCCESSFUL, 1 * MS);
	/* a bucket's bound is inclusive (le) */
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_SUCCESSFUL, 5 * MS);
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_SUCCESSFUL, 7 * MS);
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_UNKNOWN, 300 * MS);
	/* failures are counted but not timed, as kubelet's worker does */
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_FAILED, 1 * SEC);
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_FAILED, 1 * SEC);
	/* past the last bound: only +Inf */
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_SUCCESSFUL, 20 * SEC);
	s = t_write(m);
	assert_string_equal(s, want);
	free(s);
}

static void test_label_values_are_escaped(void **state)
{
	struct pp_metrics *m = *state;
	char *s;

	assert_int_equal(pp_metrics_probe(m, "n\"s", "p\\d", "u\n1", "c\"\\\n", PP_PROBE_LIVENESS,
					  PP_METRIC_FAILED, 0),
			 0);
	s = t_write(m);
	assert_non_null(strstr(s, "prober_probe_total{container=\"c\\\"\\\\\\n\","
				  "namespace=\"n\\\"s\",pod=\"p\\\\d\",pod_uid=\"u\\n1\","
				  "probe_type=\"Liveness\",result=\"failed\"} 1\n"));
	/* a failure alone makes no histogram series, so no histogram family either */
	assert_null(strstr(s, "prober_probe_duration_seconds"));
	free(s);
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_forget_pod_drops_its_series(void **state)
{
	struct pp_metrics *m = *state;
	char *s;

	t_probe(m, "a", "ua", "c", PP_PROBE_STARTUP, PP_METRIC_SUCCESSFUL, MS);
	t_probe(m, "a", "ua", "c", PP_PROBE_LIVENESS, PP_METRIC_SUCCESSFUL, MS);
	t_probe(m, "a", "ua", "d", PP_PROBE_LIVENESS, PP_METRIC_SUCCESSFUL, MS);
	t_probe(m, "b", "ub", "c", PP_PROBE_LIVENESS, PP_METRIC_SUCCESSFUL, MS);
	assert_int_equal(m->n, 4);
	pp_metrics_forget_pod(m, "ua");
	pp_metrics_forget_pod(m, "nope");
	assert_int_equal(m->n, 1);
	s = t_write(m);
	assert_null(strstr(s, "pod=\"a\""));
	assert_int_equal(count_str(s, "pod=\"b\""), 15); /* 12 buckets, sum, count, total */
	free(s);
	/* the pod's probes start from zero again */
	t_probe(m, "a", "ua", "c", PP_PROBE_STARTUP, PP_METRIC_SUCCESSFUL, MS);
	s = t_write(m);
	assert_non_null(
		strstr(s, "pod_uid=\"ua\",probe_type=\"Startup\",result=\"successful\"} 1\n"));
	free(s);
	pp_metrics_forget_pod(m, "ua");
	pp_metrics_forget_pod(m, "ub");
	assert_int_equal(m->n, 0);
	s = t_write(m);
	assert_string_equal(s, "");
	free(s);
}

/* Forget pod <uid>: <ref> (pod "a") is refused, found again, and counts <r> once more. */
static void forget_then_count(struct pp_metrics *m, const char *uid, struct pp_metrics_ref *ref,
			      enum pp_metric_result r)
{
	pp_metrics_forget_pod(m, uid);
	assert_false(pp_metrics_count(m, ref, r, MS));
	assert_int_equal(pp_metrics_find(m, "default", "a", "ua", "c", PP_PROBE_READINESS, ref), 0);
	assert_true(pp_metrics_count(m, ref, r, MS));
}

/*
 * A memo counts into the series pp_metrics_find() gave, until a pod's series are freed: then
 * it is refused (a stale pointer is never followed) and found again, from zero if its own pod
 * was the one forgotten.
 */
static void test_ref_counts_until_a_series_is_freed(void **state)
{
	struct pp_metrics *m = *state;
	struct pp_metrics_ref ref = {0}, other;
	char *s;

	assert_false(pp_metrics_count(m, &ref, PP_METRIC_SUCCESSFUL, MS));
	assert_int_equal(pp_metrics_find(m, "default", "a", "ua", "c", PP_PROBE_READINESS, &ref), 0);
	for (int i = 0; i < 3; i++)
		assert_true(pp_metrics_count(m, &ref, PP_METRIC_FAILED, MS));
	assert_false(pp_metrics_count(m, &ref, _PP_METRIC_RESULT_MAX, MS));
	t_probe(m, "a", "ua", "c", PP_PROBE_READINESS, PP_METRIC_FAILED, MS); /* the same series */
	assert_int_equal(m->n, 1);
	s = t_write(m);
	assert_non_null(strstr(s, "probe_type=\"Readiness\",result=\"failed\"} 4\n"));
	free(s);
	/* another pod's series freed: the memo may be stale, so it is refused and found again */
	assert_int_equal(pp_metrics_find(m, "default", "b", "ub", "c", PP_PROBE_READINESS, &other),
			 0);
	forget_then_count(m, "ub", &ref, PP_METRIC_FAILED);
	s = t_write(m);
	assert_non_null(strstr(s, "probe_type=\"Readiness\",result=\"failed\"} 5\n"));
	free(s);
	/* its own pod forgotten: found again, it counts from zero */
	forget_then_count(m, "ua", &ref, PP_METRIC_SUCCESSFUL);
	s = t_write(m);
	assert_null(strstr(s, "result=\"failed\""));
	assert_non_null(strstr(s, "probe_type=\"Readiness\",result=\"successful\"} 1\n"));
	free(s);
	assert_int_equal(pp_metrics_find(m, NULL, "a", "ua", "c", PP_PROBE_READINESS, &ref), -EINVAL);
}

static void test_replaced_pod_shares_one_histogram_series(void **state)
{
	struct pp_metrics *m = *state;
	char *s;

	/* between the two, another pod's series sorts in by uid */
	t_probe(m, "web", "u1", "web", PP_PROBE_LIVENESS, PP_METRIC_SUCCESSFUL, 2 * MS);
	t_probe(m, "web", "u1", "web", PP_PROBE_READINESS, PP_METRIC_SUCCESSFUL, 2 * MS);
	t_probe(m, "web", "u2", "web", PP_PROBE_LIVENESS, PP_METRIC_SUCCESSFUL, 3 * MS);
	s = t_write(m);
	assert_int_equal(count_str(s, "prober_probe_duration_seconds_count{"), 2);
	assert_non_null(strstr(s,
			       "prober_probe_duration_seconds_count{container=\"web\","
			       "namespace=\"default\",pod=\"web\",probe_type=\"Liveness\"} 2\n"));
	assert_non_null(
		strstr(s, "prober_probe_duration_seconds_sum{container=\"web\","
			  "namespace=\"default\",pod=\"web\",probe_type=\"Liveness\"} 0.005\n"));
	assert_int_equal(count_str(s, "prober_probe_total{"), 3);
	free(s);
}

/* ---- a checker of the text format ------------------------------------------------------- */

struct family {
	const char *name;
	const char *type;
	bool help;
	bool typed;
	bool samples;
};

/* Parse `name{labels} value`; the label block and the value into <labels>/<value>. */
static void check_sample(const char *line, struct family *f, size_t nf, char *labels, size_t lsize,
			 double *value)
{
	const char *brace = strchr(line, '{'), *p;
	size_t nlen = (size_t)(brace - line), li = 0;
	char name[128];
	bool ok = false;

	assert_non_null(brace);
	assert_true(nlen < sizeof(name));
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	for (size_t i = 0; i < nf; i++) {
		size_t fl = strlen(f[i].name);

		if (strncmp(name, f[i].name, fl))
			continue;
		if (!strcmp(f[i].type, "counter")
			    ? !strcmp(name + fl, "")
			    : (!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
			       !strcmp(name + fl, "_count"))) {
			assert_true(f[i].help && f[i].typed); /* HELP and TYPE come first */
			f[i].samples = true;
			ok = true;
		}
	}
	assert_true(ok);
	/* labels: name="value" pairs, values with only \\, \" and \n escapes */
	for (p = brace + 1; *p != '}';) {
		assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		assert_int_equal(*p++, '=');
		assert_int_equal(*p++, '"');
		for (; *p != '"'; p++) {
			assert_true(*p && *p != '\n');
			if (*p == '\\') {
				p++;
				assert_true(*p == '\\' || *p == '"' || *p == 'n');
			}
		}
		p++;
		if (*p == ',')
			p++;
		else
			assert_int_equal(*p, '}');
	}
	li = (size_t)(p - line) + 1;
	assert_true(li < lsize);
	memcpy(labels, line, li);
	labels[li] = '\0';
	assert_int_equal(p[1], ' ');
	*value = strtod(p + 2, NULL);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Hundreds of pods (the hash grows) with random results: the text parses, every family has
 * one HELP and one TYPE before its samples, no series repeats, buckets only grow and end at
 * _count, and the counts add up to the probes made.
 */
static void test_many_series_write_well_formed_text(void **state)
{
	struct pp_metrics *m = *state;
	struct family fam[] = {
		{"prober_probe_duration_seconds", "histogram", false, false, false},
		{"prober_probe_total", "counter", false, false, false},
	};
	uint64_t x = 42, probes = 0, timed = 0;
	double total = 0, counts = 0, last_bucket = -1, value;
	char *s, *line, *save, **keys, labels[512], prev_series[512] = "";
	size_t nkeys = 0;

	for (int pod = 0; pod < 300; pod++) {
		char name[16], uid[16];

		snprintf(name, sizeof(name), "p%d", pod % 250); /* 50 replaced pods */
		snprintf(uid, sizeof(uid), "u%d", pod);
		for (int i = 0; i < 20; i++) {
			enum pp_metric_result r;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			r = (enum pp_metric_result)((x >> 33) % 3);
			assert_int_equal(pp_metrics_probe(m, "ns", name, uid,
							  (x >> 40) & 1 ? "a" : "b",
							  (enum pp_probe_kind)((x >> 45) % 3), r,
							  (x >> 20) % (12 * SEC)),
					 0);
			probes++;
			timed += r != PP_METRIC_FAILED;
		}
	}
	assert_true(m->n_buckets >= m->n);
	s = t_write(m);
	keys = calloc(strlen(s) / 20 + 1, sizeof(*keys));
	assert_non_null(keys);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			bool help = line[2] == 'H', found = false;

			for (size_t i = 0; i < 2; i++) {
				size_t fl = strlen(fam[i].name);

				if (strncmp(line + 7, fam[i].name, fl) || line[7 + fl] != ' ')
					continue;
				found = true;
				assert_false(fam[i].samples);
				if (help) {
					assert_false(fam[i].help);
					fam[i].help = true;
				} else {
					assert_false(fam[i].typed);
					assert_string_equal(line + 8 + fl, fam[i].type);
					fam[i].typed = true;
				}
			}
			assert_true(found);
			continue;
		}
		assert_int_not_equal(line[0], '#');
		check_sample(line, fam, 2, labels, sizeof(labels), &value);
		keys[nkeys++] = strdup(labels);
		if (!strncmp(line, "prober_probe_total{", 19)) {
			total += value;
		} else if (strstr(line, "_bucket{")) {
			char series[512];
			char *le = strstr(labels, ",le=\"");

			assert_non_null(le);
			snprintf(series, sizeof(series), "%.*s", (int)(le - labels), labels);
			if (strcmp(series + strlen("prober_probe_duration_seconds_bucket"),
				   prev_series)) {
				snprintf(prev_series, sizeof(prev_series), "%s",
					 series + strlen("prober_probe_duration_seconds_bucket"));
				last_bucket = -1;
			}
			assert_true(value >= last_bucket);
			last_bucket = value;
		} else if (strstr(line, "_count{")) {
			assert_true(value == last_bucket); /* the +Inf bucket */
			counts += value;
		}
	}
	assert_true(fam[0].samples && fam[1].samples);
	assert_true(total == (double)probes);
	assert_true(counts == (double)timed);
	qsort(keys, nkeys, sizeof(*keys), cmp_line);
	for (size_t i = 1; i < nkeys; i++)
		assert_string_not_equal(keys[i - 1], keys[i]);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(s);
}

static void test_bad_arguments_are_refused(void **state)
{
	struct pp_metrics *m = *state;

	assert_int_equal(
		pp_metrics_probe(m, NULL, "p", "u", "c", PP_PROBE_LIVENESS, PP_METRIC_FAILED, 0),
		-EINVAL);
	assert_int_equal(
		pp_metrics_probe(m, "n", "p", NULL, "c", PP_PROBE_LIVENESS, PP_METRIC_FAILED, 0),
		-EINVAL);
	assert_int_equal(
		pp_metrics_probe(m, "n", "p", "u", "c", _PP_PROBE_MAX, PP_METRIC_FAILED, 0),
		-EINVAL);
	assert_int_equal(pp_metrics_probe(m, "n", "p", "u", "c", PP_PROBE_LIVENESS,
					  _PP_METRIC_RESULT_MAX, 0),
			 -EINVAL);
	assert_int_equal(m->n, 0);
	pp_metrics_fini(NULL);
}

/* podprobe's own histograms: cumulative buckets in seconds, sum and count, labels kept. */
static void test_own_histogram_text(void **state)
{
	struct pp_prom_buf b = {0};
	struct pp_prom_hist h = {0};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	pp_prom_hist_observe(&h, 40 * PP_NSEC_PER_USEC); /* <= 50 us */
	pp_prom_hist_observe(&h, 3 * PP_NSEC_PER_MSEC);	 /* <= 5 ms */
	pp_prom_hist_observe(&h, 9 * PP_NSEC_PER_SEC);	 /* only +Inf */
	pp_prom_family(&b, "x_seconds", "histogram", "X.");
	pp_prom_hist_write(&b, "x_seconds", "kind=\"exit\"", &h);
	pp_prom_add(&b, "y{");
	pp_prom_label(&b, "pod", "a\"b\\c\nd", false);
	pp_prom_add(&b, "} 1\n");
	assert_int_equal(pp_prom_take(&b, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{kind=\"exit\",le=\"0.00005\"} 1\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{kind=\"exit\",le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{kind=\"exit\",le=\"0.005\"} 2\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{kind=\"exit\",le=\"2.5\"} 2\n"));
	assert_non_null(strstr(text, "x_seconds_bucket{kind=\"exit\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "x_seconds_sum{kind=\"exit\"} 9.00304\n"));
	assert_non_null(strstr(text, "x_seconds_count{kind=\"exit\"} 3\n"));
	assert_non_null(strstr(text, "y{pod=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(text);
	/* No labels: bare _sum and _count. */
	pp_prom_hist_write(&b, "z", NULL, &h);
	assert_int_equal(pp_prom_take(&b, &text, &len), 0);
	assert_non_null(strstr(text, "z_bucket{le=\"0.0001\"} 1\n"));
	assert_non_null(strstr(text, "\nz_sum 9.00304\nz_count 3\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_set_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_series_full_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_values_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_pod_drops_its_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ref_counts_until_a_series_is_freed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replaced_pod_shares_one_histogram_series,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_series_write_well_formed_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments_are_refused, setup, teardown),
		cmocka_unit_test(test_own_histogram_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
