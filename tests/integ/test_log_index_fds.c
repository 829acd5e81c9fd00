// SPDX-License-Identifier: Apache-2.0
/*
 * The log index (user/io/log_index.c) holds no fd per watched log: every fd podprobe holds is
 * one that each container's execve must close (fs/exec.c do_close_on_exec), so fds per pod
 * make starting n pods O(n^2). In process: 50 watches cost at most the state directory's one
 * fd, and a log or index removed or replaced between batches is handled. End to end: a run of
 * 20 pods whose containers write a line every 4 ms holds about one fd per pod (its pidfd),
 * and the API's and kubectl's timestamps are still each line's write time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "podprobe/clock.h"
#include "podprobe/log_index.h"
#include "podprobe/log_times.h"
#include "podprobe/loop.h"
#include "podprobe/statedir.h"
#include "integ/support/integ.h"

#define MS ((int64_t)PP_NSEC_PER_MSEC)

static char tmp_dir[256];

static int setup(void **state)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/pp-logfds-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	return t_setup(state);
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp_dir);
	return t_teardown(state);
}

static char *state_dir(void)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), "%s/state", tmp_dir);
	return buf;
}

/* <state>/logs/default_web/<container>/<n>.log: its path in <path>. */
static void log_path(const char *container, unsigned int n, char *path, size_t size)
{
	snprintf(path, size, "%s/logs/default_web/%s", state_dir(), container);
	assert_int_equal(pp_mkdir_parents(path, 0700, true), 0);
	snprintf(path, size, "%s/logs/default_web/%s/%u.log", state_dir(), container, n);
}

/* Append <text> to <path> as a container writes its stdout (created when missing). */
static void append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Drive the loop for the index for <ms>: every batch due meanwhile is read. */
static void drive(struct pp_loop *loop, struct pp_log_index *idx, int ms)
{
	pp_nsec until = pp_clock_now() + (pp_nsec)ms * PP_NSEC_PER_MSEC;

	while (pp_clock_now() < until) {
		pp_nsec d = pp_log_index_next(idx), cap = pp_clock_now() + 5 * PP_NSEC_PER_MSEC;

		assert_true(pp_loop_run_once(loop, d < cap ? d : cap) >= 0);
		pp_log_index_run(idx, pp_clock_now());
	}
}

/* The records of <path>'s index as a reader sees them (none: a missing or foreign index). */
static void read_recs(const char *path, struct pp_log_recs *recs)
{
	struct pp_log_index_reader rd;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	recs->n = 0;
	assert_int_equal(pp_log_index_open(fd, &rd), 0);
	assert_int_equal(pp_log_index_read(&rd, recs), 0);
	pp_log_index_close(&rd);
	close(fd);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* 50 watched logs: no fd each (the state directory's one at most), and still indexed. */
static void test_watches_hold_no_fd(void **state)
{
	enum { N = 50 };
	struct pp_log_recs recs = {0};
	struct pp_loop *loop;
	struct pp_log_index *idx;
	char path[600], name[16];
	int f0, f1, f2;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		log_path(name, 1, path, sizeof(path));
		append(path, "before the watch\n");
	}
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	f0 = t_count_fds(getpid());
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", name, 1, true),
				 0);
	}
	f1 = t_count_fds(getpid());
	printf("# %d watches: %d fds more (was 2 per watch)\n", N, f1 - f0);
	assert_true(f1 - f0 <= 1);
	/* Written while watched: a batch opens the files, records, and closes them again. */
	for (int i = 0; i < N; i += 7) {
		snprintf(name, sizeof(name), "c%d", i);
		log_path(name, 1, path, sizeof(path));
		append(path, "while watched\n");
	}
	drive(loop, idx, 60);
	f2 = t_count_fds(getpid());
	assert_int_equal(f2, f1);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		log_path(name, 1, path, sizeof(path));
		read_recs(path, &recs);
		assert_true(recs.n >= 1);
		assert_int_equal(recs.v[recs.n - 1].off, file_size(path));
	}
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		pp_log_index_unwatch(idx, "default_web", name, 1);
	}
	assert_true(t_count_fds(getpid()) <= f1);
	pp_log_recs_fini(&recs);
	pp_log_index_free(idx);
	pp_loop_free(loop);
}

/* The raw records of index <ipath>: the header's inode in <ret_ino>, the last offset returned. */
static uint64_t idx_last_off(const char *ipath, uint64_t *ret_ino)
{
	struct pp_log_rec v[64];
	int fd = open(ipath, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	assert_true(fd >= 0);
	r = read(fd, v, sizeof(v));
	close(fd);
	assert_true(r >= (ssize_t)(2 * PP_LOG_REC_SIZE) && r < (ssize_t)sizeof(v));
	assert_int_equal(v[0].off, PP_LOG_IDX_MAGIC);
	*ret_ino = (uint64_t)v[0].t;
	return v[r / (ssize_t)PP_LOG_REC_SIZE - 1].off;
}

/*
 * A fresh empty log gets its index with its first bytes. Between batches the index is removed
 * (made again, from the header), the log is replaced (the new file at that name is not the
 * watched one: nothing of it recorded), and the watched file goes away altogether
 * (IN_IGNORED); a new watch on that name then works as the first did.
 */
static void test_removed_or_replaced_between_batches(void **state)
{
	struct pp_log_recs recs = {0};
	struct pp_loop *loop;
	struct pp_log_index *idx;
	char path[600], ipath[700], old[700];
	uint64_t size, ino, hdr_ino;
	struct stat st;
	int fd;

	(void)state;
	log_path("app", 1, path, sizeof(path));
	snprintf(ipath, sizeof(ipath), "%s.idx", path);
	snprintf(old, sizeof(old), "%s.old", path);
	append(path, "");
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_log_index_new(loop, &idx), 0);
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 1, true), 0);
	/* A fresh log with nothing in it yet has no index file: no inode for a quiet one. */
	assert_true(access(ipath, F_OK) < 0 && errno == ENOENT);
	assert_int_equal(stat(path, &st), 0);
	ino = (uint64_t)st.st_ino;
	append(path, "one\ntwo\n");
	drive(loop, idx, 40);
	read_recs(path, &recs);
	assert_true(recs.n >= 1);
	assert_int_equal(recs.v[recs.n - 1].off, 8);

	/* The index removed: the next batch makes it again and records the file's size. */
	assert_int_equal(unlink(ipath), 0);
	append(path, "three\n");
	drive(loop, idx, 40);
	read_recs(path, &recs);
	assert_int_equal(recs.n, 1);
	assert_int_equal(recs.v[0].off, 14);

	/* The log replaced: the watched file grows under another name, a new one takes its. */
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(rename(path, old), 0);
	append(path, "a new file, larger than the watched one\n");
	assert_int_equal(write(fd, "four\n", 5), 5);
	drive(loop, idx, 40);
	size = idx_last_off(ipath, &hdr_ino);
	assert_int_equal(size, 14); /* nothing of either file since: it is not at its name */
	assert_int_equal(hdr_ino, ino);
	read_recs(path, &recs);
	assert_int_equal(recs.n, 0); /* the index is the watched file's, not the new one's */

	/* The watched file gone altogether: its watch ends (IN_IGNORED), the index stays. */
	close(fd);
	assert_int_equal(unlink(old), 0);
	drive(loop, idx, 40);
	pp_log_index_unwatch(idx, "default_web", "app", 1);
	size = idx_last_off(ipath, &hdr_ino);
	assert_int_equal(size, 14);

	/* The new file watched as a fresh one: indexed from the header on. */
	assert_int_equal(pp_log_index_watch(idx, state_dir(), "default_web", "app", 1, true), 0);
	append(path, "more\n");
	drive(loop, idx, 40);
	read_recs(path, &recs);
	assert_true(recs.n >= 1);
	assert_int_equal(recs.v[recs.n - 1].off, file_size(path));
	pp_log_index_unwatch(idx, "default_web", "app", 1);
	pp_log_recs_fini(&recs);
	pp_log_index_free(idx);
	pp_loop_free(loop);
}

/* ---- end to end: a run of chatty pods ---- */

#define N_PODS 20

static struct t_run R;
static char out[1 << 20];

static int curl(const char *args)
{
	char cmd[2000];

	snprintf(cmd, sizeof(cmd), "timeout 20 curl -sS --unix-socket %s/api.sock %s", R.state_dir,
		 args);
	return t_system(cmd, out, sizeof(out));
}

/* POST pod w<i>: a container writing "line N <its wall clock ns>" every 4 ms. */
static void post_pod(int i)
{
	char path[600], args[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/w%02d.json", R.dir, i);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"w%02d\"},"
		"\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"app\","
		"\"image\":\"busybox\",\"command\":[\"/usr/bin/perl\","
		"\"-MTime::HiRes=time,sleep\",\"-e\",\"$|=1; for ($i = 0;; $i++) "
		"{ printf qq(line %%d %%.0f\\\\n), $i, time() * 1e9; sleep 0.004 }\"]}]}}",
		i);
	fclose(f);
	snprintf(args, sizeof(args),
		 "-o /dev/null -w '%%{http_code}' -H 'Content-Type: application/json' "
		 "--data-binary @%s http://x/api/v1/namespaces/default/pods",
		 path);
	assert_int_equal(curl(args), 0);
	assert_string_equal(out, "201");
}

/* The fewest fds podprobe holds over 150 ms (a batch has two open for a moment). */
static int min_fds(pid_t pid)
{
	return t_min_fds(pid, 150);
}

/*
 * "<RFC3339Nano> line I WALLNS" lines of <s>: each one's time as given against the time the
 * container wrote in it. Returns the number of lines; the worst differences in <ret_lo>,
 * <ret_hi>, the first and last line's times in <ret_first>, <ret_last>.
 */
static size_t check_lines(const char *s, int64_t *ret_lo, int64_t *ret_hi, pp_wall_ns *ret_first,
			  pp_wall_ns *ret_last)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	pp_wall_ns prev = 0, t = 0;
	size_t n = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		char ts[PP_LOG_TIME_LEN + 1];
		long long wrote;

		if (!nl)
			break; /* a line being written as it was read */
		assert_int_equal(s[PP_LOG_TIME_LEN], ' ');
		memcpy(ts, s, PP_LOG_TIME_LEN);
		ts[PP_LOG_TIME_LEN] = '\0';
		assert_int_equal(pp_log_time_parse(ts, &t), 0);
		assert_int_equal(sscanf(s + PP_LOG_TIME_LEN + 1, "line %*d %lld", &wrote), 1);
		assert_true(t >= prev);
		if (!n)
			*ret_first = t;
		prev = t;
		if (t - wrote < lo)
			lo = t - wrote;
		if (t - wrote > hi)
			hi = t - wrote;
		n++;
		s = nl + 1;
	}
	*ret_lo = lo;
	*ret_hi = hi;
	*ret_last = t;
	return n;
}

static void check_pod_log(int i, bool via_kubectl)
{
	char args[1200];
	int64_t lo, hi;
	pp_wall_ns first = 0, last = 0;
	size_t n;

	if (via_kubectl) {
		snprintf(args, sizeof(args),
			 "timeout 40 /usr/bin/kubectl --kubeconfig %s/kubeconfig --cache-dir "
			 "%s/kcache logs w%02d --timestamps 2>&1",
			 R.state_dir, R.dir, i);
		assert_int_equal(t_system(args, out, sizeof(out)), 0);
	} else {
		snprintf(args, sizeof(args),
			 "'http://x/api/v1/namespaces/default/pods/w%02d/log?timestamps=true'", i);
		assert_int_equal(curl(args), 0);
	}
	n = check_lines(out, &lo, &hi, &first, &last);
	printf("# w%02d via %s: %zu lines over %.0f ms, times %+.1f..%+.1f ms of the writes\n", i,
	       via_kubectl ? "kubectl" : "the API", n, (double)(last - first) / (double)MS,
	       (double)lo / (double)MS, (double)hi / (double)MS);
	assert_true(n >= 50);
	/* The kernel's coarse mtime may read a tick before the writer's clock; a batch is 10 ms,
	 * and a loaded machine adds its delays. Unindexed, every line would get the last's time. */
	assert_true(lo > -10 * MS);
	assert_true(hi < 250 * MS);
	assert_true(last - first > 100 * MS);
}

static void test_run_holds_one_fd_per_pod(void **state)
{
	const char *argv[] = {"--api-addr=127.0.0.1:0", NULL};
	bool kubectl = access("/usr/bin/kubectl", X_OK) == 0;
	char path[600];
	int f1, fn;
	double per_pod;

	(void)state;
	if (access("/usr/bin/perl", X_OK) != 0 || system("perl -MTime::HiRes -e 1") != 0) {
		print_message("perl with Time::HiRes is not installed: skipped\n");
		skip();
	}
	t_run_init(&R);
	t_run_start(&R, argv);
	snprintf(path, sizeof(path), "%s/kubeconfig", R.state_dir);
	t_wait_file(path, 10000);
	post_pod(0);
	t_wait_event(&R, "Started", "app", 0, 20000);
	f1 = min_fds(R.pid);
	for (int i = 1; i < N_PODS; i++)
		post_pod(i);
	for (int i = 1; i < N_PODS; i++)
		t_wait_event(&R, "Started", "app", (unsigned int)i, 30000);
	fn = min_fds(R.pid);
	per_pod = (double)(fn - f1) / (N_PODS - 1);
	printf("# %d chatty pods: %d fds, %d with one: %.2f fds per pod (was 3)\n", N_PODS, fn, f1,
	       per_pod);
	assert_true(per_pod < 1.5);
	/* Enough lines for their times to tell writes apart (a line every 4 ms). */
	t_drain(&R, 500);
	check_pod_log(0, false);
	check_pod_log(N_PODS / 2, false);
	check_pod_log(N_PODS - 1, kubectl);
	if (!kubectl)
		printf("# kubectl is not installed at /usr/bin/kubectl: the API only\n");
	t_run_cleanup(&R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watches_hold_no_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_or_replaced_between_batches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_run_holds_one_fd_per_pod, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
