// SPDX-License-Identifier: Apache-2.0
/* The API's event ring: kubelet's de-duplication, eviction, expiry, Event JSON and Table rows. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/event_ring.h"

#define SEC ((pp_wall_ns)PP_NSEC_PER_SEC)
#define MIN (60 * SEC)
/* 2026-12-01T05:35:42Z */
#define T0 ((pp_wall_ns)1796103342 * SEC)

static const struct pp_event_in started = {
	.ns = "default",
	.pod = "web",
	.pod_uid = "0b5f9f52-3c61-4b0e-9d1e-2a7d1f0c9a01",
	.field_path = "spec.containers{web}",
	.reason = "Started",
	.message = "Started container web",
	.type = PP_EVENT_NORMAL,
};

static int setup(void **state)
{
	struct pp_event_ring *r = calloc(1, sizeof(*r));

	if (!r || pp_event_ring_init(r, 4, 60 * MIN) < 0)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	pp_event_ring_fini(*state);
	free(*state);
	return 0;
}

static const struct pp_event *t_record(struct pp_event_ring *r, const struct pp_event_in *in,
				       pp_wall_ns now, uint64_t rv, bool want_added)
{
	const struct pp_event *e = NULL;
	bool added = !want_added;

	assert_int_equal(pp_event_ring_record(r, in, now, rv, &e, &added), 0);
	assert_non_null(e);
	assert_int_equal(added, want_added);
	return e;
}

static void assert_order(const struct pp_event_ring *r, const char *const *reasons, size_t n)
{
	const struct pp_event *e = pp_event_ring_first(r);

	assert_int_equal(pp_event_ring_len(r), n);
	for (size_t i = 0; i < n; i++, e = pp_event_ring_next(r, e)) {
		assert_non_null(e);
		assert_string_equal(e->reason, reasons[i]);
	}
	assert_null(e);
}

static void test_repeat_updates_the_kept_event(void **state)
{
	struct pp_event_ring *r = *state;
	const struct pp_event *a, *b;
	char name[64];

	a = t_record(r, &started, T0, 10, true);
	snprintf(name, sizeof(name), "%s", a->name);
	assert_int_equal(a->count, 1);
	b = t_record(r, &started, T0 + 5 * SEC, 11, false);
	assert_ptr_equal(a, b);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->rv, 11);
	assert_true(b->first == T0);
	assert_true(b->last == T0 + 5 * SEC);
	assert_string_equal(b->name, name);
	assert_int_equal(pp_event_ring_len(r), 1);
}

static void test_any_key_difference_makes_a_new_event(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	uint64_t rv = 1;

	t_record(r, &in, T0, rv++, true);
	in.message = "Started container web again";
	t_record(r, &in, T0, rv++, true);
	in = started;
	in.field_path = "spec.initContainers{web}";
	t_record(r, &in, T0, rv++, true);
	in = started;
	in.type = PP_EVENT_WARNING;
	t_record(r, &in, T0, rv++, true);
	assert_int_equal(pp_event_ring_len(r), 4);
	/* Every one of them is still matched exactly. */
	t_record(r, &started, T0, rv++, false);
	in = started;
	in.field_path = NULL; /* pod-level: "" is a value of its own */
	t_record(r, &in, T0, rv++, true);
}

static void test_new_pod_uid_is_a_new_event(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;

	t_record(r, &in, T0, 1, true);
	in.pod_uid = "1b5f9f52-3c61-4b0e-9d1e-2a7d1f0c9a01"; /* the pod re-created */
	t_record(r, &in, T0, 2, true);
}

static void test_full_ring_evicts_least_recently_recorded(void **state)
{
	struct pp_event_ring *r = *state;
	const char *names[] = {"A", "B", "C", "D", "E"};
	struct pp_event_in in = started;
	uint64_t rv = 1;

	for (size_t i = 0; i < 4; i++) {
		in.reason = names[i];
		t_record(r, &in, T0 + (pp_wall_ns)i * SEC, rv++, true);
	}
	assert_order(r, (const char *const[]){"A", "B", "C", "D"}, 4);
	in.reason = "A"; /* a repeat makes A the newest */
	t_record(r, &in, T0 + 10 * SEC, rv++, false);
	assert_order(r, (const char *const[]){"B", "C", "D", "A"}, 4);
	in.reason = "E";
	t_record(r, &in, T0 + 11 * SEC, rv++, true);
	assert_order(r, (const char *const[]){"C", "D", "A", "E"}, 4);
	in.reason = "B"; /* evicted, so it starts over */
	assert_int_equal(t_record(r, &in, T0 + 12 * SEC, rv++, true)->count, 1);
	assert_order(r, (const char *const[]){"D", "A", "E", "B"}, 4);
}

static void test_events_expire_by_last_record(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;

	in.reason = "A";
	t_record(r, &in, T0, 1, true);
	in.reason = "B";
	t_record(r, &in, T0 + 10 * MIN, 2, true);
	in.reason = "A"; /* refreshed: A now ages from T0 + 20m */
	t_record(r, &in, T0 + 20 * MIN, 3, false);
	assert_int_equal(pp_event_ring_expire(r, T0 + 70 * MIN), 0); /* exactly max_age: kept */
	assert_int_equal(pp_event_ring_expire(r, T0 + 70 * MIN + 1), 1);
	assert_order(r, (const char *const[]){"A"}, 1);
	assert_int_equal(pp_event_ring_expire(r, T0 + 80 * MIN), 0);
	/* A record expires first, so a repeat after max_age starts a new event. */
	assert_int_equal(t_record(r, &in, T0 + 81 * MIN, 4, true)->count, 1);
	assert_int_equal(pp_event_ring_len(r), 1);
	/* A clock stepped back expires nothing. */
	assert_int_equal(pp_event_ring_expire(r, T0), 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_names_and_uids_are_unique(void **state)
{
	enum { N = 500 };
	struct pp_event_ring r;
	struct pp_event_in in = started;
	char *names[N], *uids[N], msg[32], want[64];
	const struct pp_event *e;
	size_t n = 0;

	(void)state;
	assert_int_equal(pp_event_ring_init(&r, N, PP_NSEC_INFINITY), 0);
	for (int i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		in.message = msg;
		/* all at one instant, and the clock stepping back half-way */
		e = t_record(&r, &in, i < N / 2 ? T0 : T0 - SEC, (uint64_t)i + 1, true);
		if (!i) {
			snprintf(want, sizeof(want), "web.%llx", (unsigned long long)T0);
			assert_string_equal(e->name, want);
		}
	}
	for (e = pp_event_ring_first(&r); e; e = pp_event_ring_next(&r, e)) {
		assert_int_equal(strlen(e->uid), 36);
		assert_int_equal(e->uid[14], '4');
		names[n] = (char *)e->name;
		uids[n++] = (char *)e->uid;
	}
	assert_int_equal(n, N);
	qsort(names, N, sizeof(names[0]), cmp_str);
	qsort(uids, N, sizeof(uids[0]), cmp_str);
	for (size_t i = 1; i < N; i++) {
		assert_string_not_equal(names[i - 1], names[i]);
		assert_string_not_equal(uids[i - 1], uids[i]);
	}
	pp_event_ring_fini(&r);
}

static void assert_json_str(json_t *o, const char *path, const char *want)
{
	char buf[128], *save, *key;
	json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save))
		v = json_object_get(v, key);
	if (!want) {
		assert_null(v);
		return;
	}
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), want);
}

static void test_event_json_has_the_api_shape(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	const struct pp_event *e;
	json_t *o;

	in.type = PP_EVENT_WARNING;
	in.reason = "Unhealthy";
	in.message = "Readiness probe failed: connection refused";
	t_record(r, &in, T0, 6, true);
	e = t_record(r, &in, T0 + 30 * SEC, 7, false);
	o = pp_event_json(e, "node1");
	assert_non_null(o);
	assert_json_str(o, "kind", "Event");
	assert_json_str(o, "apiVersion", "v1");
	assert_json_str(o, "metadata.name", e->name);
	assert_json_str(o, "metadata.namespace", "default");
	assert_json_str(o, "metadata.uid", e->uid);
	assert_json_str(o, "metadata.resourceVersion", "7");
	assert_json_str(o, "metadata.creationTimestamp", "2026-12-01T05:35:42Z");
	assert_json_str(o, "involvedObject.kind", "Pod");
	assert_json_str(o, "involvedObject.apiVersion", "v1");
	assert_json_str(o, "involvedObject.namespace", "default");
	assert_json_str(o, "involvedObject.name", "web");
	assert_json_str(o, "involvedObject.uid", started.pod_uid);
	assert_json_str(o, "involvedObject.fieldPath", "spec.containers{web}");
	assert_json_str(o, "reason", "Unhealthy");
	assert_json_str(o, "message", "Readiness probe failed: connection refused");
	assert_json_str(o, "type", "Warning");
	assert_json_str(o, "source.component", "kubelet");
	assert_json_str(o, "source.host", "node1");
	assert_json_str(o, "firstTimestamp", "2026-12-01T05:35:42Z");
	assert_json_str(o, "lastTimestamp", "2026-12-01T05:36:12Z");
	assert_json_str(o, "reportingComponent", "kubelet");
	assert_json_str(o, "reportingInstance", "node1");
	assert_true(json_is_integer(json_object_get(o, "count")));
	assert_int_equal(json_integer_value(json_object_get(o, "count")), 2);
	assert_true(json_is_null(json_object_get(o, "eventTime")));
	json_decref(o);

	in.field_path = NULL;
	e = t_record(r, &in, T0 + 31 * SEC, 8, true);
	o = pp_event_json(e, "node1");
	assert_non_null(o);
	assert_json_str(o, "involvedObject.fieldPath", NULL); /* omitempty */
	assert_json_str(o, "type", "Warning");
	json_decref(o);
}

static void test_field_selector_values(void **state)
{
	struct pp_event_ring *r = *state;
	const struct pp_event *e = t_record(r, &started, T0, 1, true);
	size_t n = 0;

	assert_string_equal(pp_event_field(e, "involvedObject.kind"), "Pod");
	assert_string_equal(pp_event_field(e, "involvedObject.namespace"), "default");
	assert_string_equal(pp_event_field(e, "involvedObject.name"), "web");
	assert_string_equal(pp_event_field(e, "involvedObject.uid"), started.pod_uid);
	assert_string_equal(pp_event_field(e, "involvedObject.apiVersion"), "v1");
	assert_string_equal(pp_event_field(e, "involvedObject.resourceVersion"), "");
	assert_string_equal(pp_event_field(e, "involvedObject.fieldPath"), "spec.containers{web}");
	assert_string_equal(pp_event_field(e, "reason"), "Started");
	assert_string_equal(pp_event_field(e, "reportingComponent"), "kubelet");
	assert_string_equal(pp_event_field(e, "source"), "kubelet");
	assert_string_equal(pp_event_field(e, "type"), "Normal");
	assert_string_equal(pp_event_field(e, "metadata.name"), e->name);
	assert_string_equal(pp_event_field(e, "metadata.namespace"), "default");
	assert_null(pp_event_field(e, "metadata.uid"));
	assert_null(pp_event_field(e, "message"));
	assert_null(pp_event_field(e, "involvedObject"));
	assert_null(pp_event_field(e, ""));
	for (; pp_event_fields[n]; n++)
		assert_non_null(pp_event_field(e, pp_event_fields[n]));
	assert_int_equal(n, 13);
}

static const char *cell(json_t *t, size_t row, size_t col)
{
	json_t *c = json_array_get(
		json_object_get(json_array_get(json_object_get(t, "rows"), row), "cells"), col);

	assert_true(json_is_string(c));
	return json_string_value(c);
}

static void test_table_cells_follow_print_event(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	const struct pp_event *ev[2];
	json_t *t, *defs, *count, *obj;
	static const char *const cols[] = {"Last Seen", "Type",	  "Reason",  "Object",
					   "Subobject", "Source", "Message", "First Seen",
					   "Count",	"Name"};
	static const int prio[] = {0, 0, 0, 0, 1, 1, 0, 1, 1, 1};

	in.type = PP_EVENT_WARNING;
	in.reason = "Unhealthy";
	in.message = " \tReadiness probe failed: refused\n\xc2\xa0";
	t_record(r, &in, T0, 1, true);
	t_record(r, &in, T0 + 100 * SEC, 2, false);
	ev[0] = t_record(r, &in, T0 + 200 * SEC, 3, false);
	in = started;
	in.field_path = NULL;
	in.reason = "Scheduled";
	ev[1] = t_record(r, &in, T0 + 300 * SEC, 4, true);

	t = pp_event_table(ev, 2, 42, PP_INCLUDE_METADATA, true, T0 + 305 * SEC, "node1");
	assert_non_null(t);
	assert_json_str(t, "kind", "Table");
	assert_json_str(t, "metadata.resourceVersion", "42");
	defs = json_object_get(t, "columnDefinitions");
	assert_int_equal(json_array_size(defs), 10);
	for (size_t i = 0; i < 10; i++) {
		json_t *d = json_array_get(defs, i);

		assert_string_equal(json_string_value(json_object_get(d, "name")), cols[i]);
		assert_int_equal(json_integer_value(json_object_get(d, "priority")), prio[i]);
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(defs, 9), "format")),
			    "name");
	assert_int_equal(json_array_size(json_object_get(t, "rows")), 2);
	assert_string_equal(cell(t, 0, 0), "105s");
	assert_string_equal(cell(t, 0, 1), "Warning");
	assert_string_equal(cell(t, 0, 2), "Unhealthy");
	assert_string_equal(cell(t, 0, 3), "pod/web");
	assert_string_equal(cell(t, 0, 4), "spec.containers{web}");
	assert_string_equal(cell(t, 0, 5), "kubelet, node1");
	assert_string_equal(cell(t, 0, 6), "Readiness probe failed: refused");
	assert_string_equal(cell(t, 0, 7), "5m5s");
	count = json_array_get(
		json_object_get(json_array_get(json_object_get(t, "rows"), 0), "cells"), 8);
	assert_true(json_is_integer(count));
	assert_int_equal(json_integer_value(count), 3);
	assert_string_equal(cell(t, 0, 9), ev[0]->name);
	assert_string_equal(cell(t, 1, 0), "5s");
	assert_string_equal(cell(t, 1, 4), "");
	obj = json_object_get(json_array_get(json_object_get(t, "rows"), 1), "object");
	assert_json_str(obj, "kind", "PartialObjectMetadata");
	assert_json_str(obj, "metadata.name", ev[1]->name);
	json_decref(t);

	t = pp_event_table(ev, 1, 43, PP_INCLUDE_NONE, false, T0 + 305 * SEC, "node1");
	assert_non_null(t);
	assert_true(json_is_null(json_object_get(t, "columnDefinitions")));
	assert_null(json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object"));
	json_decref(t);
	t = pp_event_table(ev, 1, 44, PP_INCLUDE_OBJECT, false, T0 + 305 * SEC, "node1");
	assert_non_null(t);
	obj = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
	assert_json_str(obj, "kind", "Event");
	/* a future time: HumanDuration says "0s" within a second, "<invalid>" past it */
	json_decref(t);
	t = pp_event_table(ev, 1, 45, PP_INCLUDE_NONE, false, T0 + 200 * SEC - SEC / 2, "node1");
	assert_string_equal(cell(t, 0, 0), "0s");
	json_decref(t);
	t = pp_event_table(ev, 1, 46, PP_INCLUDE_NONE, false, T0 + 198 * SEC, "node1");
	assert_string_equal(cell(t, 0, 0), "<invalid>");
	json_decref(t);
}

static bool valid_utf8_json(const char *s)
{
	json_t *v = json_string(s); /* jansson refuses invalid UTF-8 */
	bool ok = v != NULL;

	json_decref(v);
	return ok;
}

static void test_long_message_is_cut_on_a_character_boundary(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	char *big = malloc(4001);
	const struct pp_event *e;
	size_t len;

	assert_non_null(big);
	memset(big, 'x', 1024);
	big[1024] = '\0';
	in.message = big; /* exactly the limit: kept whole */
	e = t_record(r, &in, T0, 1, true);
	assert_int_equal(strlen(e->message), 1024);
	assert_string_equal(e->message, big);

	big[1024] = 'y';
	big[1025] = '\0';
	e = t_record(r, &in, T0, 2, true);
	assert_int_equal(strlen(e->message), 1024);
	assert_memory_equal(e->message, big, 1020);
	assert_string_equal(e->message + 1020, " ...");

	for (size_t i = 0; i < 2000; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2); /* é */
	big[4000] = '\0';
	e = t_record(r, &in, T0, 3, true);
	len = strlen(e->message);
	assert_true(len <= 1024);
	assert_string_equal(e->message + len - 4, " ...");
	assert_int_equal((len - 4) % 2, 0);
	assert_true(valid_utf8_json(e->message));
	/* the same long message again folds into it */
	assert_int_equal(t_record(r, &in, T0, 4, false)->count, 2);
	free(big);
}

static void test_invalid_utf8_is_replaced(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	const struct pp_event *e;
	json_t *o;

	/* a stray byte, a cut sequence, an overlong '/', a surrogate, past U+10FFFF */
	in.message = "ok\xff|\xc3(|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82\xac";
	e = t_record(r, &in, T0, 1, true);
	assert_string_equal(e->message, "ok\xef\xbf\xbd|\xef\xbf\xbd(|"
					"\xef\xbf\xbd\xef\xbf\xbd|"
					"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
					"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
					"\xe2\x82\xac");
	o = pp_event_json(e, "node1");
	assert_non_null(o);
	assert_json_str(o, "message", e->message);
	json_decref(o);
	/* the same bytes again are the same event */
	assert_int_equal(t_record(r, &in, T0, 2, false)->count, 2);
}

static void test_bad_input_is_refused_and_changes_nothing(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	const struct pp_event *e = NULL;
	char reason[PP_EVENT_REASON_MAX + 2];
	bool added = false;

	t_record(r, &started, T0, 5, true);
	assert_int_equal(pp_event_ring_record(r, &started, T0, 5, &e, &added), -EINVAL);
	assert_int_equal(pp_event_ring_record(r, &started, T0, 4, &e, &added), -EINVAL);
	in.pod_uid = "";
	assert_int_equal(pp_event_ring_record(r, &in, T0, 6, &e, &added), -EINVAL);
	in = started;
	in.pod_uid = NULL;
	assert_int_equal(pp_event_ring_record(r, &in, T0, 6, &e, &added), -EINVAL);
	in = started;
	in.pod = "w\xff"
		 "b";
	assert_int_equal(pp_event_ring_record(r, &in, T0, 6, &e, &added), -EINVAL);
	in = started;
	memset(reason, 'R', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	in.reason = reason;
	assert_int_equal(pp_event_ring_record(r, &in, T0, 6, &e, &added), -EINVAL);
	reason[PP_EVENT_REASON_MAX] = '\0'; /* exactly the limit is fine */
	assert_int_equal(pp_event_ring_record(r, &in, T0, 6, &e, &added), 0);
	in = started;
	in.message = NULL;
	assert_int_equal(pp_event_ring_record(r, &in, T0, 7, &e, &added), -EINVAL);
	in = started;
	in.type = _PP_EVENT_MAX;
	assert_int_equal(pp_event_ring_record(r, &in, T0, 7, &e, &added), -EINVAL);
	assert_int_equal(pp_event_ring_len(r), 2);
	assert_int_equal(pp_event_ring_first(r)->count, 1);
}

static void test_after_resumes_a_watch_in_rv_order(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;

	in.reason = "A";
	t_record(r, &in, T0, 10, true);
	in.reason = "B";
	t_record(r, &in, T0, 20, true);
	in.reason = "C";
	t_record(r, &in, T0, 30, true);
	in.reason = "A";
	t_record(r, &in, T0, 40, false); /* A is modified at 40 */
	assert_string_equal(pp_event_ring_after(r, 0)->reason, "B");
	assert_string_equal(pp_event_ring_after(r, 10)->reason, "B");
	assert_string_equal(pp_event_ring_after(r, 20)->reason, "C");
	assert_string_equal(pp_event_ring_after(r, 35)->reason, "A");
	assert_null(pp_event_ring_after(r, 40));
	assert_null(pp_event_ring_next(r, pp_event_ring_after(r, 35)));
}

/* Random records over a small key space: the ring stays bounded, in rv order, de-duplicated. */
static void test_random_records_keep_the_invariants(void **state)
{
	struct pp_event_ring r;
	uint64_t x = 0x5eed, rv = 0;
	char msg[8];

	(void)state;
	assert_int_equal(pp_event_ring_init(&r, 8, 10 * MIN), 0);
	for (int i = 0; i < 20000; i++) {
		struct pp_event_in in = started;
		const struct pp_event *e, *f;
		uint64_t prev_rv = 0;
		size_t n = 0;
		bool added;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		snprintf(msg, sizeof(msg), "m%u", (unsigned int)(x >> 60));
		in.message = msg;
		in.type = (x >> 40) & 1 ? PP_EVENT_WARNING : PP_EVENT_NORMAL;
		assert_int_equal(pp_event_ring_record(&r, &in, T0 + i * SEC / 4, ++rv, &e, &added),
				 0);
		assert_int_equal(e->rv, rv);
		for (f = pp_event_ring_first(&r); f; f = pp_event_ring_next(&r, f), n++) {
			assert_true(f->rv > prev_rv);
			prev_rv = f->rv;
			if (f != e)
				assert_false(f->type == e->type && !strcmp(f->message, e->message));
		}
		assert_int_equal(n, pp_event_ring_len(&r));
		assert_true(n <= 8);
		assert_ptr_equal(pp_event_ring_after(&r, rv - 1), e);
	}
	pp_event_ring_fini(&r);
	pp_event_ring_fini(&r); /* idempotent */
	pp_event_ring_fini(NULL);
}

/* An Event another component posts (a `podprobe watch`): its name, source and count kept. */
static void test_posted_event_keeps_its_name_and_source(void **state)
{
	struct pp_event_ring *r = *state;
	struct pp_event_in in = started;
	const struct pp_event *e, *again;
	bool added;
	json_t *j;

	in.name = "web.1234abcd";
	in.component = "podprobe";
	in.host = "node-7";
	in.first = T0 - 5 * SEC;
	in.count = 3;
	e = t_record(r, &in, T0, 1, true);
	assert_string_equal(e->name, "web.1234abcd");
	assert_int_equal(e->count, 3);
	assert_true(e->first == T0 - 5 * SEC);
	j = pp_event_json(e, "this-node");
	assert_string_equal(json_string_value(json_object_get(j, "reportingComponent")),
			    "podprobe");
	assert_string_equal(json_string_value(json_object_get(j, "reportingInstance")), "node-7");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "source"), "component")),
		"podprobe");
	json_decref(j);
	assert_string_equal(pp_event_field(e, "source"), "podprobe");
	/* The same name again in that namespace is refused; in another it is a new event. */
	assert_int_equal(pp_event_ring_record(r, &in, T0 + SEC, 2, &again, &added), -EEXIST);
	assert_int_equal(pp_event_ring_len(r), 1);
	in.ns = "other";
	t_record(r, &in, T0 + SEC, 2, true);
	/* A posted event is never folded into an equal kubelet one, nor the reverse. */
	in = started;
	e = t_record(r, &in, T0 + SEC, 3, true);
	assert_string_equal(pp_event_field(e, "source"), "kubelet");
	assert_int_equal(pp_event_ring_len(r), 3);
	/* Found by name, bumped by its poster's PATCH: the count it says, newest rv. */
	e = pp_event_ring_find(r, "default", "web.1234abcd");
	assert_non_null(e);
	assert_null(pp_event_ring_find(r, "default", "web.nothere"));
	assert_int_equal(pp_event_ring_bump(r, e, 7, T0 + 2 * SEC, 4), 0);
	assert_int_equal(e->count, 7);
	assert_true(e->last == T0 + 2 * SEC);
	assert_ptr_equal(pp_event_ring_after(r, 3), e);
	assert_int_equal(pp_event_ring_bump(r, e, 0, T0 + 3 * SEC, 5), 0);
	assert_int_equal(e->count, 8);
	assert_int_equal(pp_event_ring_bump(r, e, 0, T0 + 3 * SEC, 5), -EINVAL);
}

static void test_init_rejects_zero_capacity(void **state)
{
	struct pp_event_ring r;

	(void)state;
	assert_int_equal(pp_event_ring_init(&r, 0, MIN), -EINVAL);
	assert_int_equal(pp_event_ring_len(&r), 0);
	assert_null(pp_event_ring_first(&r));
	pp_event_ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeat_updates_the_kept_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_any_key_difference_makes_a_new_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_pod_uid_is_a_new_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_evicts_least_recently_recorded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_expire_by_last_record, setup, teardown),
		cmocka_unit_test(test_names_and_uids_are_unique),
		cmocka_unit_test_setup_teardown(test_event_json_has_the_api_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_selector_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_cells_follow_print_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_message_is_cut_on_a_character_boundary,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_is_refused_and_changes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_resumes_a_watch_in_rv_order, setup,
						teardown),
		cmocka_unit_test(test_random_records_keep_the_invariants),
		cmocka_unit_test_setup_teardown(test_posted_event_keeps_its_name_and_source, setup,
						teardown),
		cmocka_unit_test(test_init_rejects_zero_capacity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
