// SPDX-License-Identifier: Apache-2.0
/* Pod records: exact round trips, strict decoding, tolerance of other versions' fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/pod_record.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return rng >> 11;
}

static void rand_str(char *s, size_t size)
{
	size_t n = next() % size;

	for (size_t i = 0; i < n; i++)
		s[i] = (char)(next() % 255 + 1); /* any byte but NUL: spaces, line breaks, % */
	s[n] = '\0';
}

static void rand_term(struct pp_term_state *t)
{
	t->exit_code = (int)(next() % 512) - 256;
	t->signal = (int)(next() % 65);
	rand_str(t->reason, sizeof(t->reason));
	rand_str(t->message, sizeof(t->message));
	t->started_at = next();
	t->finished_at = next() << 11;
}

/* Every recorded field set at random. */
static void rand_record(struct pp_pod_record *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	rand_str(r->boot_id, sizeof(r->boot_id));
	rand_str(r->digest, sizeof(r->digest));
	r->created = next();
	rand_str(r->pod.uid, sizeof(r->pod.uid));
	r->pod.phase = (enum pp_phase)(next() % _PP_PHASE_MAX);
	rand_str(r->pod.reason, sizeof(r->pod.reason));
	rand_str(r->pod.message, sizeof(r->pod.message));
	r->pod.start_time = next();
	r->pod.initialized = next() & 1;
	r->pod.ever_ran_main = next() & 1;
	r->pod.terminating = next() & 1;
	r->pod.deleted = next() & 1;
	r->pod.terminate_start = next();
	r->pod.terminal = next() & 1;
	r->n = n;
	r->c = calloc(n ? n : 1, sizeof(*r->c));
	assert_non_null(r->c);
	for (size_t i = 0; i < n; i++) {
		struct pp_cont_record *c = &r->c[i];
		struct pp_container_state *s = &c->st;

		s->state = (enum pp_cstate)(next() % _PP_CSTATE_MAX);
		rand_str(s->reason, sizeof(s->reason));
		rand_str(s->message, sizeof(s->message));
		s->restart_count = (uint32_t)next();
		s->instance = (uint32_t)next();
		s->alive = next() & 1;
		s->start_pending = next() & 1;
		s->started = next() & 1;
		s->ever_started = next() & 1;
		s->ready = next() & 1;
		for (int k = 0; k < _PP_PROBE_MAX; k++) {
			s->probe_ok[k] = next() & 1;
			c->probe_published[k] = (uint8_t)(next() % 3);
		}
		s->init_done = next() & 1;
		s->started_at = next();
		rand_term(&s->term);
		s->has_term = next() & 1;
		rand_term(&s->last);
		s->has_last = next() & 1;
		s->backoff.active = next() & 1;
		s->backoff.delay = next();
		s->backoff.last_update = next();
		s->restart_due = next() & 1;
		s->restart_at = next();
		s->post_start_running = next() & 1;
		s->stopping = next() & 1;
		s->pre_stop_running = next() & 1;
		s->stop_deadline = next();
		s->term_sent = next() & 1;
		s->kill_at = next();
		s->kill_sent = next() & 1;
		s->restart_after_stop = next() & 1;
		s->created = (uint32_t)next();
		s->config_error = next() & 1;
		s->config_retry_at = next();
		c->pid = (int32_t)(next() % 4194304);
		c->pid_start = next();
		rand_str(c->cg2, 300);
		rand_str(c->memv1, 300);
	}
}

static void assert_same_term(const struct pp_term_state *a, const struct pp_term_state *b)
{
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->signal, b->signal);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->message, b->message);
	assert_int_equal(a->started_at, b->started_at);
	assert_int_equal(a->finished_at, b->finished_at);
}

static void assert_same(const struct pp_pod_record *a, const struct pp_pod_record *b)
{
	assert_string_equal(a->boot_id, b->boot_id);
	assert_string_equal(a->digest, b->digest);
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->pod.uid, b->pod.uid);
	assert_int_equal(a->pod.phase, b->pod.phase);
	assert_string_equal(a->pod.reason, b->pod.reason);
	assert_string_equal(a->pod.message, b->pod.message);
	assert_int_equal(a->pod.start_time, b->pod.start_time);
	assert_int_equal(a->pod.initialized, b->pod.initialized);
	assert_int_equal(a->pod.ever_ran_main, b->pod.ever_ran_main);
	assert_int_equal(a->pod.terminating, b->pod.terminating);
	assert_int_equal(a->pod.deleted, b->pod.deleted);
	assert_int_equal(a->pod.terminate_start, b->pod.terminate_start);
	assert_int_equal(a->pod.terminal, b->pod.terminal);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct pp_cont_record *x = &a->c[i], *y = &b->c[i];
		const struct pp_container_state *s = &x->st, *t = &y->st;

		assert_int_equal(s->state, t->state);
		assert_string_equal(s->reason, t->reason);
		assert_string_equal(s->message, t->message);
		assert_int_equal(s->restart_count, t->restart_count);
		assert_int_equal(s->instance, t->instance);
		assert_int_equal(s->alive, t->alive);
		assert_int_equal(s->start_pending, t->start_pending);
		assert_int_equal(s->started, t->started);
		assert_int_equal(s->ever_started, t->ever_started);
		assert_int_equal(s->ready, t->ready);
		assert_memory_equal(s->probe_ok, t->probe_ok, sizeof(s->probe_ok));
		assert_memory_equal(x->probe_published, y->probe_published,
				    sizeof(x->probe_published));
		assert_int_equal(s->init_done, t->init_done);
		assert_int_equal(s->started_at, t->started_at);
		assert_same_term(&s->term, &t->term);
		assert_int_equal(s->has_term, t->has_term);
		assert_same_term(&s->last, &t->last);
		assert_int_equal(s->has_last, t->has_last);
		assert_memory_equal(&s->backoff, &t->backoff, sizeof(s->backoff));
		assert_int_equal(s->restart_due, t->restart_due);
		assert_int_equal(s->restart_at, t->restart_at);
		assert_int_equal(s->post_start_running, t->post_start_running);
		assert_int_equal(s->stopping, t->stopping);
		assert_int_equal(s->pre_stop_running, t->pre_stop_running);
		assert_int_equal(s->stop_deadline, t->stop_deadline);
		assert_int_equal(s->term_sent, t->term_sent);
		assert_int_equal(s->kill_at, t->kill_at);
		assert_int_equal(s->kill_sent, t->kill_sent);
		assert_int_equal(s->restart_after_stop, t->restart_after_stop);
		assert_int_equal(s->created, t->created);
		assert_int_equal(s->config_error, t->config_error);
		assert_int_equal(s->config_retry_at, t->config_retry_at);
		assert_int_equal(x->pid, y->pid);
		assert_int_equal(x->pid_start, y->pid_start);
		assert_string_equal(x->cg2, y->cg2);
		assert_string_equal(x->memv1, y->memv1);
	}
}

static void test_round_trip_keeps_every_field(void **state)
{
	for (int round = 0; round < 300; round++) {
		struct pp_pod_record a, b = {0};
		char *text, err[128];
		size_t len;

		rand_record(&a, (size_t)(round % 5));
		assert_int_equal(pp_pod_record_encode(&a, &text, &len), 0);
		assert_int_equal(strlen(text), len);
		/* One line per field: nothing in a value may break a line or a KEY VALUE pair. */
		for (const char *l = text; *l;) {
			const char *eol = strchr(l, '\n');

			assert_non_null(eol);
			assert_non_null(memchr(l, ' ', (size_t)(eol - l)));
			assert_null(memchr(strchr(l, ' ') + 1, ' ', (size_t)(eol - strchr(l, ' ') - 1)));
			l = eol + 1;
		}
		assert_int_equal(pp_pod_record_decode(text, len, &b, err, sizeof(err)), 0);
		assert_same(&a, &b);
		free(text);
		free(a.c);
		pp_pod_record_free(&b);
	}
}

/* The numbers at their extremes come out in decimal, as printf would write them, and back. */
static void test_extreme_numbers_are_written_in_full(void **state)
{
	struct pp_pod_record a, b = {0};
	char *text, err[128];
	size_t len;

	(void)state;
	rand_record(&a, 1);
	a.created = 0;
	a.c[0].st.term.exit_code = INT32_MIN;
	a.c[0].st.restart_count = UINT32_MAX;
	a.c[0].pid_start = UINT64_MAX;
	assert_int_equal(pp_pod_record_encode(&a, &text, &len), 0);
	assert_non_null(strstr(text, "\nst.term.exit_code -2147483648\n"));
	assert_non_null(strstr(text, "\nst.restart_count 4294967295\n"));
	assert_non_null(strstr(text, "\npid_start 18446744073709551615\n"));
	assert_non_null(strstr(text, "\ncreated 0\n"));
	assert_int_equal(pp_pod_record_decode(text, len, &b, err, sizeof(err)), 0);
	assert_same(&a, &b);
	free(text);
	free(a.c);
	pp_pod_record_free(&b);
}

static int decode(const char *text, char *err, size_t errlen)
{
	struct pp_pod_record r = {0};
	int rc = pp_pod_record_decode(text, strlen(text), &r, err, errlen);

	pp_pod_record_free(&r);
	return rc;
}

static void assert_rejected(const char *text, const char *why)
{
	char err[128] = "";

	assert_int_equal(decode(text, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void test_decoding_rejects_what_podprobe_did_not_write(void **state)
{
	assert_rejected("", "no end line");
	assert_rejected("hello 1\nend 0\n", "not a podprobe state record");
	assert_rejected("podprobe-state 2\nend 0\n", "version 2");
	assert_rejected("podprobe-state 1\npod.phase 4\nend 0\n", "pod.phase");
	assert_rejected("podprobe-state 1\npod.phase -1\nend 0\n", "pod.phase");
	assert_rejected("podprobe-state 1\ncreated 18446744073709551616\nend 0\n", "created");
	assert_rejected("podprobe-state 1\npod.terminal 2\nend 0\n", "pod.terminal");
	assert_rejected("podprobe-state 1\npod.uid a%0\nend 0\n", "pod.uid");
	assert_rejected("podprobe-state 1\npod.uid a%00b\nend 0\n", "pod.uid");
	assert_rejected("podprobe-state 1\npod.uid a b\nend 0\n", "pod.uid");
	assert_rejected("podprobe-state 1\nboot_id "
			"0123456789012345678901234567890123456789\nend 0\n",
			"boot_id");
	assert_rejected("podprobe-state 1\ncontainer 1\nend 1\n", "out of order");
	assert_rejected("podprobe-state 1\ncontainer 0\nend 2\n", "count");
	assert_rejected("podprobe-state 1\ncontainer 0\nst.state 3\nend 1\n", "st.state");
	assert_rejected("podprobe-state 1\ncontainer 0\nprobe.readiness 3\nend 1\n",
			"probe.readiness");
	assert_rejected("podprobe-state 1\ncontainer 0\nst.term.exit_code 2147483648\nend 1\n",
			"exit_code");
	/* A write cut short (no rename yet, or a torn file) never passes as a record. */
	assert_rejected("podprobe-state 1\npod.phase 1\nen", "unterminated");
	assert_rejected("podprobe-state 1\npod.phase 1\n", "no end line");
	assert_rejected("podprobe-state 1\nend 0\nextra 1\n", "after the end");
	assert_rejected("podprobe-state 1\nnospace\nend 0\n", "KEY VALUE");
}

static void test_decoding_skips_unknown_keys_and_defaults_missing_ones(void **state)
{
	const char *text = "podprobe-state 1\n"
			   "pod.uid abc\n"
			   "a.field.from.a.newer.podprobe whatever\n"
			   "container 0\n"
			   "st.restart_count 7\n"
			   "st.term.exit_code -2147483648\n"
			   "end 1\n";
	struct pp_pod_record r = {0};
	char err[128];

	assert_int_equal(pp_pod_record_decode(text, strlen(text), &r, err, sizeof(err)), 0);
	assert_string_equal(r.pod.uid, "abc");
	assert_int_equal(r.pod.phase, PP_PHASE_PENDING);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.c[0].st.restart_count, 7);
	assert_int_equal(r.c[0].st.term.exit_code, INT32_MIN);
	assert_int_equal(r.c[0].pid, 0);
	pp_pod_record_free(&r);
}

static void test_every_cut_of_a_record_is_rejected(void **state)
{
	struct pp_pod_record a;
	char *text, err[128];
	size_t len;

	rand_record(&a, 2);
	assert_int_equal(pp_pod_record_encode(&a, &text, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		struct pp_pod_record b = {0};

		assert_int_equal(pp_pod_record_decode(text, cut, &b, err, sizeof(err)), -EBADMSG);
	}
	free(text);
	free(a.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_every_field),
		cmocka_unit_test(test_extreme_numbers_are_written_in_full),
		cmocka_unit_test(test_decoding_rejects_what_podprobe_did_not_write),
		cmocka_unit_test(test_decoding_skips_unknown_keys_and_defaults_missing_ones),
		cmocka_unit_test(test_every_cut_of_a_record_is_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
