// SPDX-License-Identifier: Apache-2.0
/*
 * The loop's ownership rule (loop.h): memory an operation can touch is released only after the
 * operation's final completion. Cancelling only asks the kernel to finish early; a recv can
 * still complete with data into its buffer afterwards, which is how a cancelled http probe's
 * receive buffer was written after it had been freed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/probe_once.h"
#include "podprobe/prober.h"

#define MS (1000 * 1000ull)

struct release_rec {
	struct pp_loop *loop;
	char *buf;
	size_t len;
	unsigned int calls;
	unsigned int pending_at_release; /* operations still in flight when it ran */
	char seen[64];			 /* the buffer as the release found it */
};

static void on_release(void *obj)
{
	struct release_rec *r = obj;

	r->calls++;
	r->pending_at_release = pp_loop_pending(r->loop);
	memcpy(r->seen, r->buf, r->len < sizeof(r->seen) ? r->len : sizeof(r->seen));
	/* From here on the buffer is "freed": nothing may write into it any more. */
	memset(r->buf, 'Z', r->len);
}

static void must_not_run(void *ctx, int res)
{
	fail_msg("the callback of a retired operation ran (res %d)", res);
}

static bool all_z(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != 'Z')
			return false;
	return true;
}

static void run_until_released(struct pp_loop *loop, const struct release_rec *r)
{
	pp_nsec until = pp_clock_now() + 2000 * MS;

	while (!r->calls && pp_clock_now() < until)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + 10 * MS) >= 0);
}

/* The reproducer: recv submitted, cancelled, fd closed, data written, next pass. */
static void test_retired_recv_buffer_is_released_only_after_its_final_completion(void **state)
{
	struct pp_loop *loop;
	struct release_rec r = {0};
	char buf[64];
	uint64_t id = 0;
	int sv[2];

	assert_int_equal(pp_loop_new(16, &loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(buf, 'A', sizeof(buf));
	r = (struct release_rec){.loop = loop, .buf = buf, .len = sizeof(buf)};
	assert_int_equal(pp_loop_recv(loop, sv[0], buf, sizeof(buf), must_not_run, NULL, &id), 0);
	/* One pass submits the recv; it waits for data. */
	assert_true(pp_loop_run_once(loop, pp_clock_now()) >= 0);
	assert_int_equal(pp_loop_pending(loop), 1);

	assert_int_equal(pp_loop_retire(loop, &id, 1, on_release, &r), 0);
	/* The kernel still owns the buffer: no release before the completion. */
	assert_int_equal(r.calls, 0);
	close(sv[0]);
	/* Data arrives before the cancel reaches the kernel: the recv may complete with it. */
	assert_int_equal(write(sv[1], "kernel", 6), 6);
	run_until_released(loop, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.pending_at_release, 0);
	/* Whatever the kernel wrote, it wrote before the release: nothing lands afterwards. */
	/* (The socket is gone with its last reference, the recv's: this may fail with EPIPE.) */
	send(sv[1], "more", 4, MSG_NOSIGNAL | MSG_DONTWAIT);
	for (int i = 0; i < 5; i++)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + MS) >= 0);
	assert_true(all_z(buf, sizeof(buf)));
	close(sv[1]);
	pp_loop_free(loop);
	assert_int_equal(r.calls, 1);
}

static void test_retire_of_finished_operations_releases_at_once(void **state)
{
	struct pp_loop *loop;
	struct release_rec r = {0};
	char buf[8] = "xxxxxxx";
	uint64_t ids[3] = {0, 12345, 0};

	assert_int_equal(pp_loop_new(16, &loop), 0);
	r = (struct release_rec){.loop = loop, .buf = buf, .len = sizeof(buf)};
	assert_int_equal(pp_loop_retire(loop, ids, 3, on_release, &r), 0);
	assert_int_equal(r.calls, 1);
	pp_loop_free(loop);
}

/* Several operations retired together: one release, after the last completion. */
static void test_release_waits_for_every_retired_operation(void **state)
{
	struct pp_loop *loop;
	struct release_rec r = {0};
	char buf[2][32];
	uint64_t ids[2];
	int a[2], b[2];

	assert_int_equal(pp_loop_new(16, &loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
	memset(buf, 'A', sizeof(buf));
	r = (struct release_rec){.loop = loop, .buf = &buf[0][0], .len = sizeof(buf)};
	assert_int_equal(pp_loop_recv(loop, a[0], buf[0], 32, must_not_run, NULL, &ids[0]), 0);
	assert_int_equal(pp_loop_recv(loop, b[0], buf[1], 32, must_not_run, NULL, &ids[1]), 0);
	assert_true(pp_loop_run_once(loop, pp_clock_now()) >= 0);
	assert_int_equal(pp_loop_retire(loop, ids, 2, on_release, &r), 0);
	assert_int_equal(write(a[1], "one", 3), 3);
	assert_int_equal(write(b[1], "two", 3), 3);
	run_until_released(loop, &r);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.pending_at_release, 0);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	pp_loop_free(loop);
}

/* At the end, pp_loop_free() waits for what is in flight and then runs the releases. */
static void test_loop_free_releases_after_the_kernel_is_done(void **state)
{
	struct pp_loop *loop;
	struct release_rec r = {0};
	char *buf = malloc(64);
	uint64_t id;
	int sv[2];

	assert_non_null(buf);
	assert_int_equal(pp_loop_new(16, &loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r = (struct release_rec){.loop = loop, .buf = buf, .len = 64};
	assert_int_equal(pp_loop_recv(loop, sv[0], buf, 64, must_not_run, NULL, &id), 0);
	assert_true(pp_loop_run_once(loop, pp_clock_now()) >= 0);
	assert_int_equal(pp_loop_retire(loop, &id, 1, on_release, &r), 0);
	assert_int_equal(r.calls, 0);
	/* A recv nobody retired is cancelled by pp_loop_free() too. */
	assert_int_equal(pp_loop_recv(loop, sv[0], buf, 0, must_not_run, NULL, NULL), 0);
	pp_loop_free(loop);
	assert_int_equal(r.calls, 1);
	assert_int_equal(write(sv[1], "late", 4), 4);
	assert_true(all_z(buf, 64));
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

static void count_call(void *ctx, int res)
{
	if (res > 0)
		(*(unsigned int *)ctx)++;
}

/*
 * Many sockets ready at once: one pass reports them all. The kernel runs a deferred ring's
 * task work 20 items at a time (loop.c, drain_task_work()), so a pass that took only what its
 * wait ran would leave most of them for later passes.
 */
static void test_one_pass_reports_every_ready_socket(void **state)
{
	enum { N = 200 };
	struct pp_loop *loop;
	static int sv[N][2];
	static char buf[N][8];
	unsigned int calls = 0;
	int ran;

	assert_int_equal(pp_loop_new(1024, &loop), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]), 0);
		assert_int_equal(pp_loop_recv(loop, sv[i][0], buf[i], sizeof(buf[i]), count_call,
					      &calls, NULL),
				 0);
	}
	/* Submitted: every recv waits for data. */
	assert_int_equal(pp_loop_run_once(loop, pp_clock_now()), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(write(sv[i][1], "x", 1), 1);
	ran = pp_loop_run_once(loop, pp_clock_now() + 1000 * MS);
	assert_int_equal(ran, N);
	assert_int_equal(calls, N);
	assert_int_equal(pp_loop_pending(loop), 0);
	for (int i = 0; i < N; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	pp_loop_free(loop);
}

/* A receive polls before it reads (loop.c): data queued before it is submitted is read at once. */
static void test_recv_takes_data_already_queued(void **state)
{
	struct pp_loop *loop;
	unsigned int calls = 0;
	char buf[16] = {0};
	int sv[2];

	assert_int_equal(pp_loop_new(16, &loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], "early", 5), 5);
	assert_int_equal(pp_loop_recv(loop, sv[0], buf, sizeof(buf), count_call, &calls, NULL), 0);
	assert_int_equal(pp_loop_run_once(loop, pp_clock_now() + 1000 * MS), 1);
	assert_int_equal(calls, 1);
	assert_string_equal(buf, "early");
	close(sv[0]);
	close(sv[1]);
	pp_loop_free(loop);
}

struct report_rec {
	unsigned int calls;
};

static void on_report(void *ctx, const struct pp_probe_report *rep)
{
	((struct report_rec *)ctx)->calls++;
}

/*
 * A cancelled http attempt whose recv is in flight keeps its state (receive buffer) until the
 * recv's completion, then gives its slot back.
 */
static void test_cancelled_http_attempt_is_released_after_its_recv_completes(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	struct pp_probe_target t;
	struct report_rec rep = {0};
	struct pp_loop *loop;
	struct pp_prober *pr;
	char url[128], buf[256], err[128];
	pp_nsec until;
	uint64_t id;
	int lfd, cfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	assert_int_equal(pp_prober_start(pr, &t, 5000 * MS, on_report, &rep, &id), 0);
	/* Connect, send the request: then the attempt waits in recv for an answer. */
	until = pp_clock_now() + 2000 * MS;
	while ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0 &&
	       pp_clock_now() < until)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + MS) >= 0);
	assert_true(cfd >= 0);
	while (recv(cfd, buf, sizeof(buf), MSG_DONTWAIT) <= 0 && pp_clock_now() < until)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + MS) >= 0);
	for (int i = 0; i < 3; i++)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + MS) >= 0);
	assert_int_equal(pp_loop_pending(loop), 1);

	pp_prober_cancel(pr, id);
	assert_int_equal(pp_prober_stats(pr)->retiring, 1);
	assert_int_equal(pp_prober_stats(pr)->in_flight, 1);
	/* The answer arrives before the cancel is submitted: the recv may complete with it. */
	assert_true(write(cfd, "HTTP/1.1 200 OK\r\n\r\n", 19) == 19);
	until = pp_clock_now() + 2000 * MS;
	while (pp_prober_stats(pr)->retiring && pp_clock_now() < until)
		assert_true(pp_loop_run_once(loop, pp_clock_now() + 10 * MS) >= 0);
	assert_int_equal(pp_prober_stats(pr)->retiring, 0);
	assert_int_equal(pp_prober_stats(pr)->in_flight, 0);
	assert_int_equal(rep.calls, 0);
	pp_prober_free(pr);
	pp_loop_free(loop);
	close(cfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_retired_recv_buffer_is_released_only_after_its_final_completion),
		cmocka_unit_test(test_retire_of_finished_operations_releases_at_once),
		cmocka_unit_test(test_release_waits_for_every_retired_operation),
		cmocka_unit_test(test_loop_free_releases_after_the_kernel_is_done),
		cmocka_unit_test(test_cancelled_http_attempt_is_released_after_its_recv_completes),
		cmocka_unit_test(test_one_pass_reports_every_ready_socket),
		cmocka_unit_test(test_recv_takes_data_already_queued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
