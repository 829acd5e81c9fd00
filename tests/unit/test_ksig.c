// SPDX-License-Identifier: Apache-2.0
/* The BPF record decoder (user/core/ksig.c): each record type, and what it rejects. */
#include <errno.h>
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/abi/events.h"
#include "podprobe/ksig.h"

static struct pp_ev_hdr hdr(__u32 type, size_t size)
{
	return (struct pp_ev_hdr){ .ts_ns = 123456789, .type = type, .size = (__u16)size,
				   .version = PP_EV_ABI_VERSION };
}

static struct pp_ev_exit exit_rec(__u32 status, __u32 flags)
{
	struct pp_ev_exit e = { .hdr = hdr(PP_EV_EXIT, sizeof(e)), .cgroup_id = 77, .pid = 101,
				.tgid = 100, .ppid = 1, .exit_code = status, .flags = flags };

	memcpy(e.comm, "demo-app", 9);
	return e;
}

static struct pp_ev_sock sock_rec(__u32 type)
{
	struct pp_ev_sock e = { .hdr = hdr(type, sizeof(e)), .cookie = 4242, .accepts = 9,
				.established = 12, .backlog = 3, .max_backlog = 128,
				.flags = PP_EV_SOCK_QUEUE, .family = 2, .port = 8080,
				.addr_be = { 127, 0, 0, 1 }, .oldstate = 3, .newstate = 1 };

	return e;
}

static void test_exit_with_code_of_the_whole_process(void **state)
{
	struct pp_ev_exit e = exit_rec(7 << 8, PP_EV_EXIT_GROUP_DEAD);
	struct pp_ksig k;

	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.kind, PP_KSIG_EXIT);
	assert_int_equal(k.ts, 123456789);
	assert_int_equal(k.pid, 101);
	assert_int_equal(k.tgid, 100);
	assert_int_equal(k.ppid, 1);
	assert_int_equal(k.cgroup_id, 77);
	assert_string_equal(k.comm, "demo-app");
	assert_int_equal(k.exit_code, 7);
	assert_int_equal(k.signal, 0);
	assert_false(k.core_dumped);
	assert_false(k.leader);
	assert_true(k.group_dead);
}

static void test_exit_by_signal_and_core_dump(void **state)
{
	struct pp_ev_exit e = exit_rec(9, PP_EV_EXIT_LEADER | PP_EV_EXIT_GROUP_DEAD);
	struct pp_ksig k;

	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.exit_code, -1);
	assert_int_equal(k.signal, 9);
	assert_false(k.core_dumped);
	assert_true(k.leader);
	e = exit_rec(0x80 | 11, PP_EV_EXIT_GROUP_DEAD);
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.signal, 11);
	assert_true(k.core_dumped);
	/* A "stopped" status is no signal death: it reads as an exit, as WIFSIGNALED() says. */
	e = exit_rec((3 << 8) | 0x7f, 0);
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.signal, 0);
	assert_int_equal(k.exit_code, 3);
	assert_false(k.group_dead);
}

static void test_comm_without_terminator_is_cut(void **state)
{
	struct pp_ev_exit e = exit_rec(0, PP_EV_EXIT_GROUP_DEAD);
	struct pp_ksig k;

	memset(e.comm, 'x', sizeof(e.comm));
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(strlen(k.comm), sizeof(k.comm) - 1);
}

static void test_oom(void **state)
{
	struct pp_ev_oom e = { .hdr = hdr(PP_EV_OOM, sizeof(e)), .cgroup_id = 5, .pid = 9,
			       .tgid = 8, .uid = 1000, .comm = "hog" };
	struct pp_ksig k;

	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.kind, PP_KSIG_OOM);
	assert_int_equal(k.pid, 9);
	assert_int_equal(k.tgid, 8);
	assert_int_equal(k.uid, 1000);
	assert_int_equal(k.cgroup_id, 5);
	assert_string_equal(k.comm, "hog");
}

static void test_accepts_sample_gives_the_accepted_count(void **state)
{
	struct pp_ev_sock e = sock_rec(PP_EV_ACCEPTS);
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct pp_ksig k;

	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.kind, PP_KSIG_ACCEPTS);
	assert_int_equal(k.port, 8080);
	assert_int_equal(k.family, 2);
	assert_memory_equal(k.addr, lo, 4);
	assert_int_equal(k.cookie, 4242);
	assert_int_equal(k.accepts, 9);
	assert_int_equal(k.backlog, 3);
	assert_int_equal(k.max_backlog, 128);
	assert_int_equal(k.established, 12);
	assert_int_equal(k.accepted, 9);
	assert_true(k.queue_known);
	assert_int_equal(k.oldstate, 3);
	assert_int_equal(k.newstate, 1);
	/* More queued than counted (a sample racing a new connection): none accepted. */
	e.backlog = 13;
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.accepted, 0);
	/* Listener unknown: no queue figures to judge by. */
	e = sock_rec(PP_EV_ACCEPTS);
	e.flags = 0;
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_false(k.queue_known);
	assert_int_equal(k.accepted, 0);
}

static void test_listen_and_unlisten(void **state)
{
	struct pp_ev_sock e = sock_rec(PP_EV_LISTEN);
	struct pp_ksig k;

	e.tgid = 55;
	memcpy(e.comm, "srv", 4);
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.kind, PP_KSIG_LISTEN);
	assert_int_equal(k.tgid, 55);
	assert_string_equal(k.comm, "srv");
	assert_int_equal(k.accepted, 0);
	e.hdr.type = PP_EV_UNLISTEN;
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), &k), 0);
	assert_int_equal(k.kind, PP_KSIG_UNLISTEN);
	assert_int_equal(k.established, 12);
}

/* The ring buffer gives 8-byte aligned samples; the decoder must not rely on it anyway. */
static void test_unaligned_sample(void **state)
{
	struct pp_ev_sock e = sock_rec(PP_EV_ACCEPTS);
	unsigned char buf[sizeof(e) + 3];
	struct pp_ksig k;

	memset(buf, 0, sizeof(buf));
	memcpy(buf + 3, &e, sizeof(e));
	assert_int_equal(pp_ksig_decode(buf + 3, sizeof(e), &k), 0);
	assert_int_equal(k.established, 12);
	/* Read from the wrong offset: a header of zeros. */
	assert_int_equal(pp_ksig_decode(buf, sizeof(buf), &k), -EBADMSG);
	/* A sample longer than its record is fine. */
	memcpy(buf, &e, sizeof(e));
	assert_int_equal(pp_ksig_decode(buf, sizeof(buf), &k), 0);
}

static void test_bad_records_are_rejected_and_leave_ret_alone(void **state)
{
	struct pp_ev_exit e = exit_rec(0, PP_EV_EXIT_GROUP_DEAD), bad;
	struct pp_ksig k, before;

	memset(&k, 0x5a, sizeof(k));
	before = k;
	assert_int_equal(pp_ksig_decode(NULL, sizeof(e), &k), -EINVAL);
	assert_int_equal(pp_ksig_decode(&e, sizeof(e), NULL), -EINVAL);
	assert_int_equal(pp_ksig_decode(&e, sizeof(struct pp_ev_hdr) - 1, &k), -EBADMSG);
	assert_int_equal(pp_ksig_decode(&e, 0, &k), -EBADMSG);
	/* The sample is shorter than the header says. */
	assert_int_equal(pp_ksig_decode(&e, sizeof(e) - 1, &k), -EBADMSG);
	bad = e;
	bad.hdr.version = PP_EV_ABI_VERSION + 1;
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	bad = e;
	bad.hdr.type = PP_EV_NONE;
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	bad.hdr.type = _PP_EV_MAX;
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	bad.hdr.type = 0xffffffff;
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	/* A header too short for its type: an exit record claiming to be a socket one. */
	bad = e;
	bad.hdr.type = PP_EV_ACCEPTS;
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	bad = e;
	bad.hdr.size = sizeof(struct pp_ev_hdr);
	assert_int_equal(pp_ksig_decode(&bad, sizeof(bad), &k), -EBADMSG);
	assert_memory_equal(&k, &before, sizeof(k));
}

static void test_kind_names(void **state)
{
	assert_string_equal(pp_ksig_kind_str(PP_KSIG_EXIT), "exit");
	assert_string_equal(pp_ksig_kind_str(PP_KSIG_ACCEPTS), "accepts");
	assert_string_equal(pp_ksig_kind_str(_PP_KSIG_MAX), "?");
	assert_string_equal(pp_ksig_kind_str((enum pp_ksig_kind)-1), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_with_code_of_the_whole_process),
		cmocka_unit_test(test_exit_by_signal_and_core_dump),
		cmocka_unit_test(test_comm_without_terminator_is_cut),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_accepts_sample_gives_the_accepted_count),
		cmocka_unit_test(test_listen_and_unlisten),
		cmocka_unit_test(test_unaligned_sample),
		cmocka_unit_test(test_bad_records_are_rejected_and_leave_ret_alone),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
