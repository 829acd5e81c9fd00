// SPDX-License-Identifier: Apache-2.0
/*
 * The log index (user/io/log_index.c) against real writes: a child writes lines into a log
 * file as a container does (the file is its stdout, no pipe through podprobe) while this
 * program drives the loop; the times the index records must match the writes, survive a
 * restart of the index (what was written meanwhile gets the file's mtime), and a full index
 * is rewritten coarser, times only later. Then, when supervisor.c wires the index, `kubectl
 * logs --timestamps` and the API's timestamps=true end to end.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "podprobe/clock.h"
#include "podprobe/log_index.h"
#include "podprobe/log_times.h"
#include "podprobe/loop.h"
#include "podprobe/statedir.h"
#include "integ/support/integ.h"

#define MS ((int64_t)PP_NSEC_PER_MSEC)

static pid_t writer = -1;
static char tmp_dir[256];

static int setup(void **state)
{
	writer = -1;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/pp-logtimes-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	return t_setup(state);
}

static int teardown(void **state)
{
	char cmd[300];

	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
	writer = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_dir);
	return t_teardown(state);
}

/* <tmp_dir>/state/logs/default_web/app/<n>.log, opened as the runtime opens it. */
static int make_log(unsigned int n, char *path, size_t size, bool create)
{
	int fd;

	snprintf(path, size, "%s/state/logs/default_web/app", tmp_dir);
	assert_int_equal(pp_mkdir_parents(path, 0700, true), 0);
	snprintf(path, size, "%s/state/logs/default_web/app/%u.log", tmp_dir, n);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0640);
	assert_true(fd >= 0);
	return fd;
}

static char *state_dir(void)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), "%s/state", tmp_dir);
	return buf;
}

/* A child writing <n> lines "line I WALLNS" to <fd>, <gap_ms> apart: the container. */
static pid_t start_writer(int fd, int n, int gap_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < n; i++) {
			struct timespec gap = {gap_ms / 1000, (gap_ms % 1000) * 1000000L};
			char line[64];
			int len;

			len = snprintf(line, sizeof(line), "line %d %lld\n", i,
				       (long long)pp_clock_wall());
			if (write(fd, line, (size_t)len) != len)
				_exit(1);
			if (i + 1 < n)
				nanosleep(&gap, NULL);
		}
		_exit(0);
	}
	return pid;
}

/* Drive the loop for the index until <pid> has exited (0: for <ms>). */
static void drive(struct pp_loop *loop, struct pp_log_index *idx, pid_t pid, int ms)
{
	pp_nsec until = pp_clock_now() + (pp_nsec)ms * PP_NSEC_PER_MSEC;
	int status;

	while (pp_clock_now() < until) {
		pp_nsec d = pp_log_index_next(idx), cap = pp_clock_now() + 20 * PP_NSEC_PER_MSEC;

		assert_true(pp_loop_run_once(loop, d < cap ? d : cap) >= 0);
		pp_log_index_run(idx, pp_clock_now());
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			writer = -1;
			return;
		}
	}
	assert_int_equal(pid, 0); /* the writer took far too long */
}

/*
 * How far a time the kernel stamps (a file's mtime: its coarse clock, moved on at each tick)
 * may trail the writer's own clock read just before: a tick and then some, for a tick that
 * came late (5.6 ms seen at HZ=250 on an idle 2-core VM, more under the sanitizers' load).
 * Four ticks plus 5 ms still tells a line's time from its neighbours' 100 ms away.
 */
static int64_t coarse_lag_max(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_REALTIME_COARSE, &res) < 0)
		return 25 * MS;
	return 4 * ((int64_t)res.tv_sec * PP_NSEC_PER_SEC + res.tv_nsec) + 5 * MS;
}

struct line_time {
	uint64_t off;
	int64_t wrote, got;
};

/* Each line of <path> with the time it was written (in it) and the time the index gives. */
static size_t line_times(const char *path, struct line_time *lt, size_t max)
{
	struct pp_log_index_reader rd;
	struct pp_log_recs recs = {0};
	static char buf[1 << 20];
	size_t n = 0, len;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	pp_wall_ns after;

	assert_true(fd >= 0);
	r = read(fd, buf, sizeof(buf) - 1);
	assert_true(r >= 0);
	len = (size_t)r;
	buf[len] = '\0';
	assert_int_equal(pp_log_index_open(fd, &rd), 0);
	assert_int_equal(pp_log_index_read(&rd, &recs), 0);
	after = pp_log_index_tail_time(fd, recs.n ? recs.v[recs.n - 1].t : 0);
	for (char *p = buf; p < buf + len && n < max; n++) {
		char *nl = strchr(p, '\n');
		long long w = 0;

		assert_int_equal(sscanf(p, "line %*d %lld", &w), 1);
		lt[n].off = (uint64_t)(p - buf);
		lt[n].wrote = w;
		lt[n].got = pp_log_time_at(recs.v, recs.n, lt[n].off, after);
		p = nl ? nl + 1 : buf + len;
	}
	pp_log_index_close(&rd);
	pp_log_recs_fini(&recs);
	close(fd);
	return n;
}

/*
 * Lines 300 ms apart get their own times within 50 ms (the batch is 10 ms; mtime is the
 * kernel's coarse clock, which may read a few ms before the writer's own clock); a restarted
 * index keeps them, and what was written with nobody watching gets the last write's time.
 */
static void test_times_match_writes_and_survive_restart(void **state)
{
	struct line_time a[16], b[16];
	char path[512];
	struct pp_loop *loop;
	struct pp_log_index *idx;
	int64_t worst = 0;
	size_t n, m;
	int fd;

	(void)state;
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	fd = make_log(1, path, sizeof(path), true);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 1, true), 0);
	writer = start_writer(fd, 8, 300);
	drive(loop, idx, writer, 10000);
	drive(loop, idx, 0, 50);
	pp_log_index_unwatch(idx, "default_web", "app", 1);
	n = line_times(path, a, 16);
	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		int64_t d = a[i].got - a[i].wrote;

		if (d > worst || -d > worst)
			worst = d < 0 ? -d : d;
		assert_true(d > -coarse_lag_max());
		assert_true(d < 50 * MS);
	}
	printf("# 8 lines 300 ms apart: recorded within %.1f ms of the writes\n",
	       (double)worst / (double)MS);
	pp_log_index_free(idx);

	/* Nobody watches: three more lines, then a new index takes the file over. */
	writer = start_writer(fd, 3, 100);
	while (waitpid(writer, NULL, 0) < 0 && errno == EINTR)
		;
	writer = -1;
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 1, false), 0);
	m = line_times(path, b, 16);
	assert_int_equal(m, 11);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(b[i].got, a[i].got); /* read back from <n>.log.idx */
	for (size_t i = n; i < m; i++) {
		/* the last write's time */
		assert_true(b[i].got - b[m - 1].wrote > -coarse_lag_max());
		assert_true(b[i].got - b[m - 1].wrote < 50 * MS);
	}
	/* Watched again: a new line gets its own time. */
	writer = start_writer(fd, 1, 0);
	drive(loop, idx, writer, 5000);
	drive(loop, idx, 0, 50);
	m = line_times(path, b, 16);
	assert_int_equal(m, 12);
	assert_true(b[11].got - b[11].wrote > -coarse_lag_max() &&
		    b[11].got - b[11].wrote < 50 * MS);
	/* A fresh file of the same name (a new pod of that name) starts a new index. */
	pp_log_index_unwatch(idx, "default_web", "app", 1);
	close(fd);
	fd = make_log(1, path, sizeof(path), true);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 1, true), 0);
	{
		struct stat st;
		char ipath[600];

		snprintf(ipath, sizeof(ipath), "%s.idx", path);
		assert_int_equal(stat(ipath, &st), 0);
		assert_int_equal(st.st_size, PP_LOG_REC_SIZE); /* the header only */
	}
	close(fd);
	pp_log_index_free(idx);
	pp_loop_free(loop);
}

/* An index at its cap is rewritten at a coarser spacing: smaller, and times only later. */
static void test_full_index_gets_coarser(void **state)
{
	enum { N = PP_LOG_INDEX_MAX / PP_LOG_REC_SIZE - 1 };
	static struct pp_log_rec v[N + 1];
	struct pp_log_index_reader rd;
	struct pp_log_recs recs = {0};
	const pp_wall_ns t0 = pp_clock_wall() - 3600 * (pp_wall_ns)PP_NSEC_PER_SEC;
	char path[512], ipath[600], pad[4096];
	struct pp_loop *loop;
	struct pp_log_index *idx;
	struct stat st;
	pp_wall_ns worst = 0;
	int fd, ifd;

	(void)state;
	fd = make_log(2, path, sizeof(path), true);
	memset(pad, 'x', sizeof(pad));
	for (size_t left = N + 100; left;) {
		size_t k = left < sizeof(pad) ? left : sizeof(pad);

		assert_int_equal(write(fd, pad, k), (ssize_t)k);
		left -= k;
	}
	assert_int_equal(fstat(fd, &st), 0);
	/* One record per byte, 1 ms apart: an hour-old index at its cap. */
	v[0].off = PP_LOG_IDX_MAGIC;
	v[0].t = (pp_wall_ns)st.st_ino;
	for (size_t i = 1; i <= N; i++)
		v[i] = (struct pp_log_rec){i, t0 + (pp_wall_ns)i * MS};
	snprintf(ipath, sizeof(ipath), "%s.idx", path);
	ifd = open(ipath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(ifd >= 0);
	assert_int_equal(write(ifd, v, sizeof(v)), (ssize_t)sizeof(v));
	close(ifd);

	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 2, false), 0);
	assert_int_equal(stat(ipath, &st), 0);
	assert_true(st.st_size <= PP_LOG_INDEX_MAX / 2);
	assert_int_equal(pp_log_index_open(fd, &rd), 0);
	assert_int_equal(pp_log_index_read(&rd, &recs), 0);
	assert_true(recs.n > 1000 && recs.n < N / 2);
	for (uint64_t b = 0; b < N; b += 97) {
		pp_wall_ns d = pp_log_time_at(recs.v, recs.n, b, 0) - v[b + 1].t;

		assert_true(d >= 0);
		if (d > worst)
			worst = d;
	}
	assert_true(worst < 100 * MS);
	/* The bytes past the old records came while nobody watched: the file's mtime. */
	assert_int_equal(recs.v[recs.n - 1].off, N + 100);
	printf("# full index: %zu -> %zu records, times later by at most %.0f ms\n", (size_t)N,
	       recs.n, (double)worst / (double)MS);
	pp_log_index_close(&rd);
	pp_log_recs_fini(&recs);
	pp_log_index_free(idx);
	pp_loop_free(loop);
	close(fd);
}

/* A container writing 10,000 lines/s for 5 s: wakeups bounded by the batch, CPU small. */
static void test_chatty_container_overhead(void **state)
{
	struct rusage r0, r1;
	struct pp_log_index_reader rd;
	struct pp_log_recs recs = {0};
	struct pp_loop *loop;
	struct pp_log_index *idx;
	char path[512];
	double cpu_ms;
	int fd, rfd;
	pid_t pid;

	(void)state;
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	fd = make_log(3, path, sizeof(path), true);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 3, true), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pp_nsec start = pp_clock_now();

		/* 10 lines per 1 ms tick, 5,000 ticks, each at its due time. */
		for (long tick = 0; tick < 5000; tick++) {
			struct timespec due;
			pp_nsec at = start + (pp_nsec)tick * PP_NSEC_PER_MSEC;

			due.tv_sec = (time_t)(at / PP_NSEC_PER_SEC);
			due.tv_nsec = (long)(at % PP_NSEC_PER_SEC);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
			for (int i = 0; i < 10; i++) {
				char line[80];
				int len = snprintf(line, sizeof(line), "line %ld %lld\n",
						   tick * 10 + i, (long long)pp_clock_wall());

				if (write(fd, line, (size_t)len) != len)
					_exit(1);
			}
		}
		_exit(0);
	}
	writer = pid;
	getrusage(RUSAGE_SELF, &r0);
	drive(loop, idx, pid, 20000);
	getrusage(RUSAGE_SELF, &r1);
	drive(loop, idx, 0, 30);
	cpu_ms = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
			  r0.ru_stime.tv_sec) *
			 1000.0 +
		 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
			  r0.ru_stime.tv_usec) /
			 1000.0;
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(rfd >= 0);
	assert_int_equal(pp_log_index_open(rfd, &rd), 0);
	assert_int_equal(pp_log_index_read(&rd, &recs), 0);
	printf("# 50,000 lines in 5 s: %zu records, index CPU %.1f ms (%.2f%% of one core)\n",
	       recs.n, cpu_ms, cpu_ms / 50.0);
	/* One record per batch at most (10 ms), with slack for a slow machine. */
	assert_true(recs.n >= 50 && recs.n <= 5000 / 10 + 50);
	assert_true(cpu_ms < 1000.0);
	pp_log_index_close(&rd);
	pp_log_recs_fini(&recs);
	close(rfd);
	close(fd);
	pp_log_index_free(idx);
	pp_loop_free(loop);
}

/* ---- end to end: the API of a real run ---- */

static struct t_run R;
static char out[65536];

static int api(const char *query)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd),
		 "timeout 20 curl -sS --unix-socket %s/api.sock "
		 "'http://x/api/v1/namespaces/default/pods/web/log?%s'",
		 R.state_dir, query);
	return t_system(cmd, out, sizeof(out));
}

/* Does supervisor.c feed the index (then line times are per write, else the file's mtime)? */
static bool index_wired(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("user/io/supervisor.c", "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, "pp_log_index_watch(") != NULL;
	if (f)
		fclose(f);
	return found;
}

/* "<RFC3339NanoFixed> <text>\n" lines of <s>: their times and texts. */
static size_t parse_lines(const char *s, pp_wall_ns *t, char (*text)[32], size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		const char *nl = strchr(s, '\n');
		char ts[PP_LOG_TIME_LEN + 1];

		assert_non_null(nl);
		assert_true(nl - s > PP_LOG_TIME_LEN + 1);
		assert_int_equal(s[PP_LOG_TIME_LEN], ' ');
		memcpy(ts, s, PP_LOG_TIME_LEN);
		ts[PP_LOG_TIME_LEN] = '\0';
		assert_int_equal(ts[19], '.'); /* nine digits, zeros kept */
		assert_int_equal(ts[29], 'Z');
		assert_int_equal(pp_log_time_parse(ts, &t[n]), 0);
		snprintf(text[n], sizeof(text[n]), "%.*s", (int)(nl - s - PP_LOG_TIME_LEN - 1),
			 s + PP_LOG_TIME_LEN + 1);
		n++;
		s = nl + 1;
	}
	return n;
}

static void test_api_timestamps_since_tail_limit(void **state)
{
	const char *argv[3] = {"--api-addr=none", NULL, NULL};
	pp_wall_ns t[8], t2[8], begin = pp_clock_wall();
	char text[8][32], q[200], ts[PP_LOG_TIME_LEN + 1];
	bool wired = index_wired();
	size_t n;

	(void)state;
	t_run_init(&R);
	argv[1] =
		t_write_manifest(&R, "web.yaml",
				 "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
				 "  containers:\n  - name: web\n    image: busybox\n"
				 "    command: [sh, -c, 'echo one; sleep 0.3; echo two; sleep 0.3;"
				 " echo three; exec sleep 60']\n");
	t_run_start(&R, argv);
	t_wait_event(&R, "Started", "web", 0, 10000);
	/* The container's output has no event: poll the log, bounded. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(api("timestamps=true"), 0);
		if (strstr(out, " three\n"))
			break;
		t_drain(&R, 50);
	}
	n = parse_lines(out, t, text, 8);
	assert_int_equal(n, 3);
	assert_string_equal(text[0], "one");
	assert_string_equal(text[2], "three");
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i] >= begin - 1000 * MS && t[i] <= pp_clock_wall());
		assert_true(i == 0 || t[i] >= t[i - 1]);
	}
	if (wired) {
		/* Per-write times: the sleeps between the lines show. */
		assert_true(t[1] - t[0] > 250 * MS && t[1] - t[0] < 450 * MS);
		assert_true(t[2] - t[1] > 250 * MS && t[2] - t[1] < 450 * MS);
		printf("# via the API: lines %.0f and %.0f ms apart (slept 300)\n",
		       (double)(t[1] - t[0]) / (double)MS, (double)(t[2] - t[1]) / (double)MS);
	} else {
		printf("# supervisor.c does not call pp_log_index_watch yet: mtime times only\n");
	}
	/* The same times again (the index is on disk, not per request). */
	assert_int_equal(api("timestamps=true"), 0);
	assert_int_equal(parse_lines(out, t2, text, 8), 3);
	assert_memory_equal(t, t2, 3 * sizeof(t[0]));
	/* sinceTime at the last line's time keeps it (not Before(since)); tail and limit. */
	pp_log_time_format(t[2], ts);
	snprintf(q, sizeof(q), "sinceTime=%s", ts);
	assert_int_equal(api(q), 0);
	/* Unwired, every line has the file's mtime: all three are that recent. */
	assert_string_equal(out, wired ? "three\n" : "one\ntwo\nthree\n");
	snprintf(q, sizeof(q), "sinceTime=%s&timestamps=true&limitBytes=20", ts);
	assert_int_equal(api(q), 0);
	assert_int_equal(strlen(out), 20);
	assert_memory_equal(out, ts, 20);
	assert_int_equal(api("sinceSeconds=3600"), 0);
	assert_string_equal(out, "one\ntwo\nthree\n");
	assert_int_equal(api("tailLines=1&timestamps=true"), 0);
	assert_int_equal(parse_lines(out, t2, text, 8), 1);
	assert_string_equal(text[0], "three");
	assert_int_equal(api("tailLines=0"), 0);
	assert_string_equal(out, "");
	assert_int_equal(api("sinceSeconds=0"), 0);
	assert_non_null(strstr(out, "sinceSeconds: Invalid value: 0: must be greater than 0"));
	assert_int_equal(api("sinceTime=yesterday"), 0);
	assert_non_null(strstr(out, "\"code\":400"));
	/* Follow with timestamps: the lines so far, then the stream (cut by curl's timeout). */
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd),
			 "timeout 2 curl -sS -N --unix-socket %s/api.sock "
			 "'http://x/api/v1/namespaces/default/pods/web/log?follow=true&"
			 "timestamps=true'",
			 R.state_dir);
		t_system(cmd, out, sizeof(out));
		assert_int_equal(parse_lines(out, t2, text, 8), 3);
		assert_memory_equal(t, t2, 3 * sizeof(t[0]));
	}
	if (access("/usr/bin/kubectl", X_OK) == 0)
		printf("# kubectl: see test_api_kubectl for the TLS path; here curl on api.sock\n");
	t_run_cleanup(&R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_times_match_writes_and_survive_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_index_gets_coarser, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chatty_container_overhead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_timestamps_since_tail_limit, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
