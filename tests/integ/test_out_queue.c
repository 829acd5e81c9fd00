// SPDX-License-Identifier: Apache-2.0
/*
 * The output queue (podprobe/out_queue.h) on a real pipe and the real loop: nothing blocks, a
 * line that does not fit is dropped whole (never cut), what waits goes out once the reader
 * reads, and a reader that is gone ends the writing without an error to the writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/out_queue.h"

#define LINE_LEN 100

struct fixture {
	struct pp_loop *loop;
	int rd, wr;
	struct pp_outq *q;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fds[2];

	if (!f || pipe2(fds, O_CLOEXEC) < 0 || pp_loop_new(64, &f->loop) < 0)
		return -1;
	f->rd = fds[0];
	f->wr = fds[1];
	/* The smallest pipe (one page): a few lines fill it. */
	fcntl(f->wr, F_SETPIPE_SZ, 4096);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pp_outq_free(f->q);
	pp_loop_free(f->loop);
	if (f->rd >= 0)
		close(f->rd);
	close(f->wr);
	free(f);
	return 0;
}

/* Line <i>: LINE_LEN bytes, its number first, a newline last. */
static void line_of(unsigned int i, char *buf)
{
	memset(buf, 'a' + (char)(i % 26), LINE_LEN);
	snprintf(buf, 12, "%010u", i);
	buf[10] = ' ';
	buf[LINE_LEN - 1] = '\n';
}

/* Read what the pipe holds now (non-blocking) into <buf>; returns the bytes read. */
static size_t read_now(int fd, char *buf, size_t size)
{
	size_t n = 0;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	fcntl(fd, F_SETFL, fl);
	return n;
}

/* Every line of <buf> (<n> bytes) is whole and they come in order from <first>. */
static unsigned int check_lines(const char *buf, size_t n, unsigned int first)
{
	char want[LINE_LEN];
	unsigned int count = 0;

	assert_int_equal(n % LINE_LEN, 0);
	for (size_t off = 0; off < n; off += LINE_LEN, count++) {
		line_of(first + count, want);
		assert_memory_equal(buf + off, want, LINE_LEN);
	}
	return count;
}

static void test_full_reader_drops_whole_lines_and_resumes(void **state)
{
	struct fixture *f = *state;
	enum { CAP = 20 * LINE_LEN + LINE_LEN / 2 }; /* 20 lines and half of one */
	static char got[1 << 20];
	char line[LINE_LEN];
	unsigned int put = 0, dropped = 0;
	size_t n = 0;
	pp_nsec t0 = pp_clock_now();

	assert_int_equal(pp_outq_new(f->loop, f->wr, CAP, &f->q), 0);
	/* Far more than the pipe and the queue hold, and not one call blocks. */
	for (unsigned int i = 0; i < 200; i++) {
		line_of(put, line);
		if (pp_outq_put(f->q, line, LINE_LEN))
			put++;
		else
			dropped++;
		pp_outq_flush(f->q);
	}
	assert_true(pp_clock_now() - t0 < PP_NSEC_PER_SEC);
	assert_true(dropped > 0);
	n = read_now(f->rd, got, sizeof(got));
	assert_true(n < (size_t)put * LINE_LEN); /* the rest waits in the queue */
	/* Room again: the loop's poll writes what waited. */
	for (int turns = 0; turns < 100 && n < (size_t)put * LINE_LEN; turns++) {
		pp_loop_run_once(f->loop, pp_clock_now() + 100 * 1000 * 1000);
		n += read_now(f->rd, got + n, sizeof(got) - n);
	}
	/* Every line taken came out whole and in order; the dropped ones left no piece. */
	assert_int_equal(check_lines(got, n, 0), put);
	/* And new lines go out at once. */
	line_of(put, line);
	assert_true(pp_outq_put(f->q, line, LINE_LEN));
	pp_outq_flush(f->q);
	n = read_now(f->rd, got, sizeof(got));
	assert_int_equal(check_lines(got, n, put), 1);
}

static void test_gone_reader_ends_the_writing(void **state)
{
	struct fixture *f = *state;
	char line[LINE_LEN];

	assert_int_equal(pp_outq_new(f->loop, f->wr, 1 << 20, &f->q), 0);
	close(f->rd);
	f->rd = -1;
	line_of(0, line);
	assert_true(pp_outq_put(f->q, line, LINE_LEN));
	pp_outq_flush(f->q); /* EPIPE (SIGPIPE ignored below): nothing more is written */
	for (unsigned int i = 1; i < 1000; i++) {
		line_of(i, line);
		assert_true(pp_outq_put(f->q, line, LINE_LEN)); /* taken and let go, not held */
		pp_outq_flush(f->q);
	}
	assert_int_equal(pp_outq_drain(f->q, pp_clock_now() + PP_NSEC_PER_SEC), 0);
}

static void test_drain_stops_at_its_deadline(void **state)
{
	struct fixture *f = *state;
	char line[LINE_LEN];
	pp_nsec t0;
	size_t left;

	assert_int_equal(pp_outq_new(f->loop, f->wr, 1 << 20, &f->q), 0);
	for (unsigned int i = 0; i < 1000; i++) {
		line_of(i, line);
		assert_true(pp_outq_put(f->q, line, LINE_LEN));
	}
	pp_outq_flush(f->q);
	t0 = pp_clock_now();
	left = pp_outq_drain(f->q, t0 + 200 * 1000 * 1000);
	assert_true(left > 0);
	assert_true(pp_clock_now() - t0 >= 150 * 1000 * 1000);
	assert_true(pp_clock_now() - t0 < 2 * PP_NSEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_reader_drops_whole_lines_and_resumes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_reader_ends_the_writing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_stops_at_its_deadline, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
