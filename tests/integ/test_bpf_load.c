// SPDX-License-Identifier: Apache-2.0
/*
 * The eBPF programs loaded, attached and read through the io_uring loop: exits of tracked
 * processes (code, signal, threads, a main thread that exits first, with group_dead and with
 * the signal->live fallback), a grandchild in a tracked cgroup, listeners opening and
 * closing on a tracked port, accepts counted and accept queues sampled (a prompt acceptor,
 * a stalled one, judged by the wedged-listener rule), silence about what is not tracked, and
 * no events dropped. Needs root and kernel BTF: otherwise the whole program exits 77 with the
 * reason. Traffic stays on 127.0.0.1; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/accept_watch.h"
#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/signals.h"

#define MAX_EVENTS 4096
#define EXIT_WAIT_MS 100	/* the brief: exits arrive within 100 ms */
#define SOCK_WAIT_MS 50		/* LISTEN/UNLISTEN within 50 ms */
#define QUIET_MS 100		/* how long "nothing happens" is watched */
#define INTERVAL_MS 200		/* accept_interval of <sig> */

/* The kernel's TCP states (include/net/tcp_states.h). */
enum {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT = 2,
	TCP_SYN_RECV = 3,
	TCP_FIN_WAIT1 = 4,
	TCP_CLOSE = 7,
	TCP_CLOSE_WAIT = 8,
	TCP_LAST_ACK = 9,
	TCP_LISTEN = 10,
};

struct t_sink {
	struct pp_ksig ev[MAX_EVENTS];
	pp_nsec seen[MAX_EVENTS];	/* when the callback ran */
	size_t n;
};

static struct pp_loop *loop;
static struct pp_signals *sig;		/* filtered: what the tests track */
static struct t_sink sink;

static void on_ksig(void *ctx, const struct pp_ksig *k)
{
	struct t_sink *s = ctx;

	if (s->n == MAX_EVENTS)
		return;
	s->seen[s->n] = pp_clock_now();
	s->ev[s->n++] = *k;
}

/* The first event of <s> from index <from> matching <kind>, <tgid> and <port> (0 = any). */
static const struct pp_ksig *t_find(const struct t_sink *s, size_t from, enum pp_ksig_kind kind,
				    uint32_t tgid, uint16_t port, size_t *ret_idx)
{
	for (size_t i = from; i < s->n; i++) {
		const struct pp_ksig *k = &s->ev[i];

		if (k->kind == kind && (!tgid || k->tgid == tgid) && (!port || k->port == port)) {
			if (ret_idx)
				*ret_idx = i;
			return k;
		}
	}
	return NULL;
}

/* Run the loop until a matching event is in <s>, or <timeout_ms> passed (NULL then). */
static const struct pp_ksig *t_wait(struct t_sink *s, enum pp_ksig_kind kind, uint32_t tgid,
				    uint16_t port, unsigned int timeout_ms, size_t *ret_idx)
{
	pp_nsec deadline = pp_clock_now() + timeout_ms * PP_NSEC_PER_MSEC;
	const struct pp_ksig *k;

	while (!(k = t_find(s, 0, kind, tgid, port, ret_idx)) && pp_clock_now() < deadline)
		assert_true(pp_loop_run_once(loop, deadline) >= 0);
	return k;
}

/* Run the loop for <ms> milliseconds, collecting whatever arrives. */
static void t_pump(unsigned int ms)
{
	pp_nsec deadline = pp_clock_now() + ms * PP_NSEC_PER_MSEC;

	while (pp_clock_now() < deadline)
		assert_true(pp_loop_run_once(loop, deadline) >= 0);
}

/* A child that waits for a byte on a pipe, then runs <fn>. Returns its pid and the pipe. */
static pid_t t_fork_held(void (*fn)(void *), void *arg, int *ret_go)
{
	int p[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(100);
		fn(arg);
		_exit(101);
	}
	close(p[0]);
	*ret_go = p[1];
	return pid;
}

static void t_release(int go)
{
	assert_int_equal(write(go, "x", 1), 1);
	close(go);
}

static void do_exit7(void *arg)
{
	_exit(7);
}

static void do_pause(void *arg)
{
	for (;;)
		pause();
}

static int t_reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int setup(void **state)
{
	sink.n = 0;
	return 0;
}

/* ---- exits ---------------------------------------------------------------------------------- */

static void test_exit_code_of_tracked_child(void **state)
{
	const struct pp_ksig *k;
	pp_nsec released;
	size_t i;
	int go;
	pid_t pid = t_fork_held(do_exit7, NULL, &go);

	assert_int_equal(pp_signals_track_tgid(sig, (uint32_t)pid, true), 0);
	released = pp_clock_now();
	t_release(go);
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, EXIT_WAIT_MS, &i);
	assert_non_null(k);
	assert_int_equal(k->exit_code, 7);
	assert_int_equal(k->signal, 0);
	assert_int_equal(k->pid, pid);
	assert_int_equal(k->ppid, getpid());
	assert_true(k->leader);
	assert_true(k->group_dead);
	assert_true(k->ts >= released);
	printf("latency: EXIT callback %llu us after release, %llu us after the kernel event\n",
	       (unsigned long long)(sink.seen[i] - released) / 1000,
	       (unsigned long long)(sink.seen[i] - k->ts) / 1000);
	assert_int_equal(WEXITSTATUS(t_reap(pid)), 7);
	/* The kernel side dropped the entry when the process died: untracking is a no-op. */
	assert_int_equal(pp_signals_track_tgid(sig, (uint32_t)pid, false), 0);
}

static void test_kill_signal_of_tracked_child(void **state)
{
	const struct pp_ksig *k;
	int go;
	pid_t pid = t_fork_held(do_pause, NULL, &go);

	assert_int_equal(pp_signals_track_tgid(sig, (uint32_t)pid, true), 0);
	t_release(go);
	assert_int_equal(kill(pid, SIGKILL), 0);
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, EXIT_WAIT_MS, NULL);
	assert_non_null(k);
	assert_int_equal(k->signal, SIGKILL);
	assert_int_equal(k->exit_code, -1);
	assert_false(k->core_dumped);
	assert_true(k->group_dead);
	assert_true(WIFSIGNALED(t_reap(pid)));
}

static void test_untracked_child_is_silent(void **state)
{
	int go;
	pid_t pid = t_fork_held(do_exit7, NULL, &go);

	t_release(go);
	t_reap(pid);
	t_pump(QUIET_MS);
	assert_null(t_find(&sink, 0, PP_KSIG_EXIT, (uint32_t)pid, 0, NULL));
}

static void *thread_block(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static void do_threads_exit5(void *arg)
{
	pthread_t th;

	for (int i = 0; i < 3; i++)
		if (pthread_create(&th, NULL, thread_block, NULL))
			_exit(102);
	usleep(20000);
	/*
	 * exit_group(5) as exit(5) would make it, without the libc exit path: under SANITIZE=1 that
	 * path runs LeakSanitizer, which cannot always stop the three threads and says so.
	 */
	_exit(5);
}

/*
 * exit_group(5) from a process with three more threads: every thread dies with the group's code,
 * the leader's record says so, and exactly one record (the last thread's) is GROUP_DEAD.
 */
static void test_thread_exits_carry_the_group_code(void **state)
{
	struct pp_signals_cfg cfg = { .threads = true, .fn = on_ksig, .ctx = &sink };
	struct pp_signals *threads;
	unsigned int n = 0, dead = 0, leaders = 0;
	int go;
	pid_t pid = t_fork_held(do_threads_exit5, NULL, &go);

	assert_int_equal(pp_signals_open(loop, &cfg, &threads), 0);
	assert_int_equal(pp_signals_track_tgid(threads, (uint32_t)pid, true), 0);
	t_release(go);
	assert_int_equal(WEXITSTATUS(t_reap(pid)), 5);
	t_pump(QUIET_MS);
	for (size_t i = 0; i < sink.n; i++) {
		const struct pp_ksig *k = &sink.ev[i];

		if (k->kind != PP_KSIG_EXIT || k->tgid != (uint32_t)pid)
			continue;
		n++;
		dead += k->group_dead;
		leaders += k->leader;
		assert_int_equal(k->signal, 0);
		assert_int_equal(k->exit_code, 5);
	}
	pp_signals_close(threads);
	printf("threads: %u EXIT records for a 4-thread process, %u leader, %u group-dead\n", n,
	       leaders, dead);
	assert_int_equal(n, 4);
	assert_int_equal(leaders, 1);
	assert_int_equal(dead, 1);
}

/* State letter of process <pid> (/proc/PID/stat field 3), or 0 when it is gone. */
static char t_proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

struct t_mte {
	int go2; /* read end: the second thread exits 7 once a byte arrives */
};

static void *thread_exit7_on_byte(void *arg)
{
	int go2 = (int)(intptr_t)arg;
	char c;

	if (read(go2, &c, 1) != 1)
		_exit(109);
	/* exit_group() all the same; _exit() skips LeakSanitizer's check of a forked child. */
	_exit(7);
}

/* The main thread ends with pthread_exit() at once; a second thread exit(7)s when told. */
static void do_main_thread_exits(void *arg)
{
	pthread_t th;

	/*
	 * The fd by value: <arg> lives on this thread's stack, which pthread_exit()'s unwinding
	 * may reuse while the other thread still needs it.
	 */
	if (pthread_create(&th, NULL, thread_exit7_on_byte,
			   (void *)(intptr_t)((struct t_mte *)arg)->go2))
		_exit(110);
	pthread_exit(NULL);
}

/*
 * The process lives on after its main thread's pthread_exit(): nothing is reported then; its
 * end, from the second thread's exit(7), is reported once with the code wait(2) gives.
 */
static void check_main_thread_exit(struct pp_signals *s)
{
	const struct pp_ksig *k;
	struct t_mte m;
	int go, p[2], n = 0;
	pp_nsec end;
	pid_t pid;

	size_t from = sink.n; /* records of earlier tests, perhaps of a pid reused since */

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	m.go2 = p[0];
	pid = t_fork_held(do_main_thread_exits, &m, &go);
	close(p[0]);
	assert_int_equal(pp_signals_track_tgid(s, (uint32_t)pid, true), 0);
	t_release(go);
	/* The leader is a zombie once its thread has exited; the process is not. */
	end = pp_clock_now() + 2 * PP_NSEC_PER_SEC;
	while (t_proc_state(pid) != 'Z' && pp_clock_now() < end)
		t_pump(1);
	assert_int_equal(t_proc_state(pid), 'Z');
	t_pump(QUIET_MS);
	k = t_find(&sink, from, PP_KSIG_EXIT, (uint32_t)pid, 0, NULL);
	if (k)
		fail_msg("EXIT of %d reported while it lives: thread %u, code %d, flags%s%s", pid,
			 k->pid, k->exit_code, k->leader ? " leader" : "",
			 k->group_dead ? " group_dead" : "");

	assert_int_equal(write(p[1], "x", 1), 1);
	close(p[1]);
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, EXIT_WAIT_MS, NULL);
	assert_non_null(k);
	assert_true(k->group_dead);
	assert_false(k->leader);
	assert_int_not_equal(k->pid, pid);
	assert_int_equal(k->exit_code, 7);
	assert_int_equal(k->signal, 0);
	assert_int_equal(WEXITSTATUS(t_reap(pid)), 7);
	t_pump(QUIET_MS);
	for (size_t i = from; i < sink.n; i++)
		n += sink.ev[i].kind == PP_KSIG_EXIT && sink.ev[i].tgid == (uint32_t)pid;
	assert_int_equal(n, 1);
}

static void test_main_thread_exit_is_not_the_process_exit(void **state)
{
	check_main_thread_exit(sig);
}

/* The same where the tracepoint lacks group_dead (forced here): told from signal->live. */
static void test_main_thread_exit_with_the_live_count_fallback(void **state)
{
	struct pp_signals_cfg cfg = { .live_fallback = true, .fn = on_ksig, .ctx = &sink };
	struct pp_signals *live;

	assert_int_equal(pp_signals_open(loop, &cfg, &live), 0);
	assert_non_null(strstr(pp_signals_mode(live), "signal->live"));
	check_main_thread_exit(live);
	pp_signals_close(live);
}

static void *thread_spin_exit(void *arg)
{
	pthread_barrier_t *b = arg;

	pthread_barrier_wait(b);
	_exit(5); /* exit_group(), without LeakSanitizer's exit-time check (see do_threads_exit5) */
}

/* Eight threads that exit_group(5) at the same moment, each racing to be the last. */
static void do_racing_exits(void *arg)
{
	static pthread_barrier_t b;
	pthread_t th;

	pthread_barrier_init(&b, NULL, 8);
	for (int i = 0; i < 7; i++)
		if (pthread_create(&th, NULL, thread_spin_exit, &b))
			_exit(111);
	thread_spin_exit(&b);
}

/* EXIT records of <pid> in the sink (each checked for code 5); group deaths in <ret_dead>. */
static unsigned int count_exits(pid_t pid, unsigned int *ret_dead)
{
	unsigned int n = 0, dead = 0;

	for (size_t i = 0; i < sink.n; i++) {
		const struct pp_ksig *k = &sink.ev[i];

		if (k->kind != PP_KSIG_EXIT || k->tgid != (uint32_t)pid)
			continue;
		n++;
		dead += k->group_dead;
		assert_int_equal(k->exit_code, 5);
	}
	if (ret_dead)
		*ret_dead = dead;
	return n;
}

/*
 * signal->live read after do_exit() decremented it can be 0 for several dying threads at once;
 * the fallback still reports the process's death exactly once, with the group's code.
 */
static void test_live_count_fallback_reports_each_death_once(void **state)
{
	struct pp_signals_cfg cfg = { .live_fallback = true, .threads = true, .fn = on_ksig,
				      .ctx = &sink };
	struct pp_signals *live;
	const int rounds = 30;

	assert_int_equal(pp_signals_open(loop, &cfg, &live), 0);
	for (int r = 0; r < rounds; r++) {
		unsigned int n = 0, dead = 0;
		int go;
		pid_t pid = t_fork_held(do_racing_exits, NULL, &go);

		assert_int_equal(pp_signals_track_tgid(live, (uint32_t)pid, true), 0);
		t_release(go);
		assert_int_equal(WEXITSTATUS(t_reap(pid)), 5);
		/* Until the group's death is in (bounded), then a moment for any duplicate. */
		for (pp_nsec until = pp_clock_now() + 2 * PP_NSEC_PER_SEC;
		     (count_exits(pid, &dead), !dead) && pp_clock_now() < until;)
			t_pump(5);
		t_pump(20);
		n = count_exits(pid, &dead);
		/*
		 * Threads that also read 0 but came after the first find the process untracked by
		 * its report, so they may go unreported: at most 8 records, and one death.
		 */
		assert_true(n >= 1 && n <= 8);
		assert_int_equal(dead, 1);
		sink.n = 0;
	}
	pp_signals_close(live);
}

static void test_trace_all_sees_untracked(void **state)
{
	struct pp_signals_cfg cfg = { .trace_all = true, .fn = on_ksig, .ctx = &sink };
	struct pp_signals *all;
	const struct pp_ksig *k;
	int go;
	pid_t pid = t_fork_held(do_exit7, NULL, &go);

	assert_int_equal(pp_signals_open(loop, &cfg, &all), 0);
	t_release(go);
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, EXIT_WAIT_MS, NULL);
	pp_signals_close(all);
	assert_non_null(k);
	assert_int_equal(k->exit_code, 7);
	t_reap(pid);
}

/* ---- cgroups -------------------------------------------------------------------------------- */

/* Directory of this process's cgroup v2 into <buf>, or -errno. */
static int t_own_cg2(char *buf, size_t size)
{
	char line[4096], path[PATH_MAX] = "", mnt[PATH_MAX] = "", fstype[64];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			snprintf(path, sizeof(path), "%s", line + 3);
	fclose(f);
	path[strcspn(path, "\n")] = '\0';
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    sscanf(sep + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2"))
			break;
		mnt[0] = '\0';
	}
	fclose(f);
	if (!path[0] || !mnt[0])
		return -ENOENT;
	snprintf(buf, size, "%s%s", mnt, strcmp(path, "/") ? path : "");
	return 0;
}

static int t_join(const char *dir)
{
	char procs[PATH_MAX + 16];
	int fd, ok;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

struct t_cg {
	char parent[PATH_MAX + 32];	/* tracked */
	char sub[PATH_MAX + 40];	/* below it, not tracked itself */
};

/* Child: join <parent>, fork a grandchild that joins <sub> and exits 9; exit 0. */
static void do_cgroup_family(void *arg)
{
	struct t_cg *cg = arg;
	pid_t gc;
	int status;

	if (t_join(cg->parent) < 0)
		_exit(103);
	gc = fork();
	if (gc < 0)
		_exit(104);
	if (gc == 0) {
		if (t_join(cg->sub) < 0)
			_exit(105);
		_exit(9);
	}
	if (waitpid(gc, &status, 0) != gc || WEXITSTATUS(status) != 9)
		_exit(106);
	_exit(0);
}

static void test_grandchild_in_tracked_cgroup(void **state)
{
	const struct pp_ksig *k = NULL;
	char own[PATH_MAX];
	struct t_cg cg;
	uint64_t id, sub_id;
	int go, status;
	pid_t pid;

	if (t_own_cg2(own, sizeof(own)) < 0) {
		printf("skip: no cgroup v2 hierarchy\n");
		skip();
	}
	snprintf(cg.parent, sizeof(cg.parent), "%s/pp-test-bpf-%d", own, (int)getpid());
	snprintf(cg.sub, sizeof(cg.sub), "%s/sub", cg.parent);
	if (mkdir(cg.parent, 0755) < 0 || mkdir(cg.sub, 0755) < 0) {
		printf("skip: cannot create cgroup '%s': %s\n", cg.parent, strerror(errno));
		rmdir(cg.parent);
		skip();
	}
	assert_int_equal(pp_signals_cgroup_id(cg.parent, &id), 0);
	assert_int_equal(pp_signals_cgroup_id(cg.sub, &sub_id), 0);
	assert_int_not_equal(id, sub_id);
	assert_int_equal(pp_signals_cgroup_id("/proc", &id), -EMEDIUMTYPE);
	assert_int_equal(pp_signals_cgroup_id(cg.parent, &id), 0);
	assert_int_equal(pp_signals_track_cgroup(sig, id, true), 0);

	pid = t_fork_held(do_cgroup_family, &cg, &go);
	t_release(go);
	/* The grandchild: not a tracked tgid, in a cgroup below the tracked one. */
	for (pp_nsec end = pp_clock_now() + EXIT_WAIT_MS * PP_NSEC_PER_MSEC;
	     pp_clock_now() < end && !k;) {
		pp_loop_run_once(loop, end);
		for (size_t i = 0; i < sink.n && !k; i++)
			if (sink.ev[i].kind == PP_KSIG_EXIT && sink.ev[i].ppid == (uint32_t)pid)
				k = &sink.ev[i];
	}
	assert_non_null(k);
	assert_int_equal(k->exit_code, 9);
	assert_int_equal(k->cgroup_id, sub_id);
	/* The child itself, in the tracked cgroup. */
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, EXIT_WAIT_MS, NULL);
	assert_non_null(k);
	assert_int_equal(k->exit_code, 0);
	assert_int_equal(k->cgroup_id, id);
	status = t_reap(pid);
	assert_int_equal(pp_signals_track_cgroup(sig, id, false), 0);
	rmdir(cg.sub);
	rmdir(cg.parent);
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- OOM ------------------------------------------------------------------------------------ */

static int t_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * A fresh memory cgroup limited to 16 MiB with no swap, below this process's own: v1 memory
 * controller when mounted (hybrid hosts), else v2 when memory is delegated to our children.
 */
static int t_mem_cgroup(char *buf, size_t size)
{
	char line[4096], path[PATH_MAX] = "", mnt[PATH_MAX] = "", own[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (c && !strncmp(c + 1, "memory:", 7))
			snprintf(path, sizeof(path), "%s", c + 8);
	}
	fclose(f);
	path[strcspn(path, "\n")] = '\0';
	f = fopen("/proc/self/mountinfo", "re");
	while (path[0] && f && fgets(line, sizeof(line), f)) {
		char m[PATH_MAX], fstype[64], opts[1024], *sep = strstr(line, " - ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1 &&
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) == 2 &&
		    !strcmp(fstype, "cgroup") && strstr(opts, "memory")) {
			snprintf(mnt, sizeof(mnt), "%s", m);
			break;
		}
	}
	if (f)
		fclose(f);
	if (mnt[0]) {
		snprintf(buf, size, "%s%s/pp-test-oom-%d", mnt, strcmp(path, "/") ? path : "",
			 (int)getpid());
		if (mkdir(buf, 0755) < 0)
			return -1;
		if (t_write(buf, "memory.limit_in_bytes", "16777216") < 0) {
			rmdir(buf);
			return -1;
		}
		t_write(buf, "memory.memsw.limit_in_bytes", "16777216");
		return 0;
	}
	if (t_own_cg2(own, sizeof(own)) < 0)
		return -1;
	snprintf(buf, size, "%s/pp-test-oom-%d", own, (int)getpid());
	if (mkdir(buf, 0755) < 0)
		return -1;
	if (t_write(buf, "memory.max", "16777216") < 0) {
		rmdir(buf);
		return -1;
	}
	t_write(buf, "memory.swap.max", "0");
	return 0;
}

static char *volatile hog_sink;

static void do_hog(void *arg)
{
	const size_t chunk = 1 << 20;

	if (t_join(arg) < 0)
		_exit(107);
	for (int i = 0; i < 256; i++) {
		char *p = malloc(chunk);

		if (!p)
			_exit(108);
		memset(p, i + 1, chunk);
		hog_sink = p; /* kept: the compiler may not drop memory nobody reads */
	}
	_exit(0);
}

static void test_oom_kill_of_tracked_child(void **state)
{
	char dir[PATH_MAX + 64];
	const struct pp_ksig *k;
	size_t oom_i, exit_i;
	int go;
	pid_t pid;

	if (!pp_signals_has(sig, PP_KSIG_OOM)) {
		printf("skip: no OOM tracepoint: %s\n", pp_signals_mode(sig));
		skip();
	}
	if (t_mem_cgroup(dir, sizeof(dir)) < 0) {
		printf("skip: no writable memory cgroup to provoke an OOM kill in\n");
		skip();
	}
	pid = t_fork_held(do_hog, dir, &go);
	assert_int_equal(pp_signals_track_tgid(sig, (uint32_t)pid, true), 0);
	t_release(go);
	/* Touching 256 MiB against a 16 MiB limit: bounded by the hog's own run time. */
	k = t_wait(&sink, PP_KSIG_OOM, (uint32_t)pid, 0, 5000, &oom_i);
	assert_non_null(k);
	assert_int_equal(k->pid, pid);
	assert_string_equal(k->comm, "test_bpf_load");
	k = t_wait(&sink, PP_KSIG_EXIT, (uint32_t)pid, 0, 1000, &exit_i);
	assert_non_null(k);
	assert_int_equal(k->signal, SIGKILL);
	assert_true(exit_i > oom_i);
	assert_true(WIFSIGNALED(t_reap(pid)));
	rmdir(dir);
}

/* ---- sockets -------------------------------------------------------------------------------- */

/* A TCP socket bound to 127.0.0.1 on an ephemeral port, not listening yet. */
static int t_bound(uint16_t *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static uint64_t t_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
	return cookie;
}

static int t_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_listen_and_close_on_tracked_port(void **state)
{
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	const struct pp_ksig *k;
	uint16_t port;
	uint64_t cookie;
	pp_nsec t0;
	size_t i;
	int fd = t_bound(&port);

	if (!pp_signals_has(sig, PP_KSIG_LISTEN)) {
		printf("skip: socket program not loaded: %s\n", pp_signals_mode(sig));
		close(fd);
		skip();
	}
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	cookie = t_cookie(fd);
	t0 = pp_clock_now();
	assert_int_equal(listen(fd, 16), 0);
	k = t_wait(&sink, PP_KSIG_LISTEN, 0, port, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	printf("latency: LISTEN callback %llu us after listen()\n",
	       (unsigned long long)(sink.seen[i] - t0) / 1000);
	assert_int_equal(k->family, AF_INET);
	assert_memory_equal(k->addr, lo, 4);
	assert_int_equal(k->tgid, getpid());
	assert_int_equal(k->cookie, cookie);
	assert_int_equal(k->max_backlog, 16);
	assert_int_equal(k->oldstate, TCP_CLOSE);
	assert_int_equal(k->newstate, TCP_LISTEN);

	t0 = pp_clock_now();
	close(fd);
	k = t_wait(&sink, PP_KSIG_UNLISTEN, 0, port, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	printf("latency: UNLISTEN callback %llu us after close()\n",
	       (unsigned long long)(sink.seen[i] - t0) / 1000);
	assert_int_equal(k->cookie, cookie);
	assert_int_equal(k->max_backlog, 16);
	assert_int_equal(k->oldstate, TCP_LISTEN);
	assert_int_equal(k->newstate, TCP_CLOSE);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
}

/* Dense nodes: every port can be tracked, not a first thousand or so. */
static void test_port_tracked_after_thousands_of_others(void **state)
{
	const uint16_t others = 5000;
	uint16_t port;
	int fd = t_bound(&port);

	if (!pp_signals_has(sig, PP_KSIG_LISTEN)) {
		printf("skip: socket program not loaded: %s\n", pp_signals_mode(sig));
		close(fd);
		skip();
	}
	for (uint16_t p = 1; p <= others; p++)
		assert_int_equal(pp_signals_track_port(sig, p, true), 0);
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_non_null(t_wait(&sink, PP_KSIG_LISTEN, 0, port, SOCK_WAIT_MS, NULL));
	close(fd);
	assert_non_null(t_wait(&sink, PP_KSIG_UNLISTEN, 0, port, SOCK_WAIT_MS, NULL));
	for (uint16_t p = 1; p <= others; p++)
		assert_int_equal(pp_signals_track_port(sig, p, false), 0);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
}

/* Skip the test when the socket program, which delivers <kind>, is not loaded. */
static void require_socket_kind(enum pp_ksig_kind kind)
{
	if (!pp_signals_has(sig, kind)) {
		printf("skip: socket program not loaded: %s\n", pp_signals_mode(sig));
		skip();
	}
}

static void test_accepts_counted_on_tracked_port(void **state)
{
	struct pp_port_accepts acc = { 0 };
	const struct pp_ksig *k;
	int fd, conns[5];
	uint16_t port;
	pp_nsec end;

	require_socket_kind(PP_KSIG_ACCEPTS);
	fd = t_bound(&port);
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	assert_int_equal(listen(fd, 16), 0);
	/* Never accepted: they wait in the accept queue. */
	for (int i = 0; i < 5; i++)
		conns[i] = t_connect(port);
	/* The first sample: the first connect(), before its connection exists. */
	k = t_wait(&sink, PP_KSIG_ACCEPTS, 0, port, SOCK_WAIT_MS, NULL);
	assert_non_null(k);
	assert_true(k->queue_known);
	assert_int_equal(k->cookie, t_cookie(fd));
	assert_int_equal(k->max_backlog, 16);
	assert_int_equal(k->oldstate, TCP_CLOSE);
	assert_int_equal(k->newstate, TCP_SYN_SENT);
	assert_int_equal(k->backlog, 0);
	assert_int_equal(k->established, 0);
	assert_int_equal(k->accepts, 0);
	end = pp_clock_now() + SOCK_WAIT_MS * PP_NSEC_PER_MSEC;
	while (pp_clock_now() < end) {
		assert_int_equal(pp_signals_port_accepts(sig, port, &acc), 0);
		if (acc.accepts == 5)
			break;
		t_pump(5);
	}
	assert_int_equal(acc.accepts, 5);
	assert_true(acc.last >= k->ts);
	/* New connections pass through LISTEN -> SYN_RECV: not an UNLISTEN. */
	assert_null(t_find(&sink, 0, PP_KSIG_UNLISTEN, 0, port, NULL));
	/* Rate limited: five connections within the interval, fewer than five records. */
	t_pump(10);
	{
		unsigned int n = 0;

		for (size_t i = 0; i < sink.n; i++)
			n += sink.ev[i].kind == PP_KSIG_ACCEPTS && sink.ev[i].port == port;
		printf("accepts: 5 connections, %u ACCEPTS records\n", n);
		assert_true(n >= 1 && n < 5);
	}
	for (int i = 0; i < 5; i++)
		close(conns[i]);
	close(fd);
	t_pump(10);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
}

/* Run the loop until an ACCEPTS record of <port> at or after index <from> is in. */
static const struct pp_ksig *t_wait_sample(uint16_t port, size_t from, unsigned int timeout_ms,
					   size_t *ret_idx)
{
	pp_nsec deadline = pp_clock_now() + timeout_ms * PP_NSEC_PER_MSEC;
	const struct pp_ksig *k;

	while (!(k = t_find(&sink, from, PP_KSIG_ACCEPTS, 0, port, ret_idx)) &&
	       pp_clock_now() < deadline)
		assert_true(pp_loop_run_once(loop, deadline) >= 0);
	return k;
}

static int t_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/*
 * With no rate limit, one connection's life gives the three samples: its connect() (queue
 * empty), its establishment (in the queue, counted), the server's close() of it (accepted).
 */
static void test_samples_of_one_connection(void **state)
{
	struct pp_signals_cfg cfg = { .accept_interval = 1, .fn = on_ksig, .ctx = &sink };
	struct pp_signals *every;
	const struct pp_ksig *k;
	int lfd, c, a;
	uint16_t port;
	size_t i;

	require_socket_kind(PP_KSIG_ACCEPTS);
	assert_int_equal(pp_signals_open(loop, &cfg, &every), 0);
	lfd = t_bound(&port);
	assert_int_equal(pp_signals_track_port(every, port, true), 0);
	assert_int_equal(listen(lfd, 8), 0);
	c = t_connect(port);
	k = t_wait_sample(port, 0, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	assert_int_equal(k->newstate, TCP_SYN_SENT);
	assert_int_equal(k->backlog, 0);
	assert_int_equal(k->established, 0);
	k = t_wait_sample(port, i + 1, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	assert_int_equal(k->oldstate, TCP_SYN_RECV);
	assert_int_equal(k->newstate, TCP_ESTABLISHED);
	assert_int_equal(k->backlog, 1);
	assert_int_equal(k->established, 1);
	assert_int_equal(k->accepted, 0);
	assert_int_equal(k->accepts, 1);
	a = t_accept(lfd);
	close(a);
	k = t_wait_sample(port, i + 1, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	assert_int_equal(k->oldstate, TCP_ESTABLISHED);
	assert_int_equal(k->newstate, TCP_FIN_WAIT1);
	assert_int_equal(k->backlog, 0);
	assert_int_equal(k->established, 1);
	assert_int_equal(k->accepted, 1);
	assert_int_equal(k->cookie, t_cookie(lfd));
	close(c);
	close(lfd);
	k = t_wait(&sink, PP_KSIG_UNLISTEN, 0, port, SOCK_WAIT_MS, NULL);
	assert_non_null(k);
	assert_int_equal(k->established, 1);
	pp_signals_close(every);
}

/*
 * lazy_samples: an accept sample does not wake the loop, and is read at its next wake-up
 * before anything else; a listener's close wakes it at once even with a sample unread before
 * it (the kernel's default would not: the reader has not caught up).
 */
static void test_lazy_samples_wait_for_the_next_wake_up(void **state)
{
	static struct t_sink lazy_sink;
	struct pp_signals_cfg cfg = { .accept_interval = 1, .lazy_samples = true, .fn = on_ksig,
				      .ctx = &lazy_sink };
	struct pp_signals *lazy;
	size_t samples, unlisten;
	pp_nsec t0, took;
	int lfd, c, c2;
	uint16_t port;

	require_socket_kind(PP_KSIG_ACCEPTS);
	lazy_sink.n = 0;
	assert_int_equal(pp_signals_open(loop, &cfg, &lazy), 0);
	lfd = t_bound(&port);
	assert_int_equal(pp_signals_track_port(lazy, port, true), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_non_null(t_wait(&lazy_sink, PP_KSIG_LISTEN, 0, port, SOCK_WAIT_MS, NULL));

	/*
	 * Its connect() and its establishment: two samples, and no wake-up for them. The ring's
	 * poll is submitted first: one armed after records arrived completes at once.
	 */
	pp_loop_submit(loop);
	c = t_connect(port);
	samples = lazy_sink.n;
	t0 = pp_clock_now();
	assert_true(pp_loop_run_once(loop, t0 + 100 * PP_NSEC_PER_MSEC) >= 0);
	took = pp_clock_now() - t0;
	printf("lazy: the loop slept %llu ms with 2 samples waiting; %zu delivered then\n",
	       (unsigned long long)(took / PP_NSEC_PER_MSEC), lazy_sink.n - samples);
	assert_true(took >= 90 * PP_NSEC_PER_MSEC);
	assert_int_equal(lazy_sink.n - samples, 2);
	assert_int_equal(lazy_sink.ev[samples].kind, PP_KSIG_ACCEPTS);
	assert_int_equal(lazy_sink.ev[samples + 1].kind, PP_KSIG_ACCEPTS);

	/* One more sample unread, then the listener closes: that wakes the loop at once. */
	pp_loop_submit(loop);
	c2 = t_connect(port);
	samples = lazy_sink.n;
	t0 = pp_clock_now();
	close(lfd);
	assert_non_null(t_wait(&lazy_sink, PP_KSIG_UNLISTEN, 0, port, 2000, &unlisten));
	took = pp_clock_now() - t0;
	printf("lazy: UNLISTEN %llu us after close(), behind %zu samples\n",
	       (unsigned long long)(took / 1000), unlisten - samples);
	assert_true(took < 1000 * PP_NSEC_PER_MSEC);
	assert_true(unlisten > samples);
	assert_int_equal(lazy_sink.ev[samples].kind, PP_KSIG_ACCEPTS);
	close(c);
	close(c2);
	pp_signals_close(lazy);
}

/*
 * A server that accepts each connection at once: every sample shows the queue empty (or only
 * the connection just made) and the accepted count keeping up; never judged wedged, even by
 * a timeout shorter than the gaps.
 */
static void test_prompt_acceptor_is_never_wedged(void **state)
{
	struct pp_accept_watch w = { 0 };
	const int rounds = 5;
	uint16_t port;
	size_t from = 0, i;
	int lfd;

	require_socket_kind(PP_KSIG_ACCEPTS);
	lfd = t_bound(&port);
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	assert_int_equal(listen(lfd, 16), 0);
	for (int r = 0; r < rounds; r++) {
		const struct pp_ksig *k;
		int c = t_connect(port), a = t_accept(lfd);

		close(c);
		close(a);
		/* Each connect() is the first socket change past the rate limit: it is sampled. */
		k = t_wait_sample(port, from, SOCK_WAIT_MS, &i);
		assert_non_null(k);
		assert_int_equal(k->newstate, TCP_SYN_SENT);
		assert_int_equal(k->established, r);
		assert_int_equal(k->backlog, 0);
		assert_int_equal(k->accepted, r);
		t_pump(INTERVAL_MS + 20);
		from = sink.n;
	}
	for (i = 0; i < sink.n; i++) {
		const struct pp_ksig *k = &sink.ev[i];

		if (k->kind != PP_KSIG_ACCEPTS || k->port != port)
			continue;
		assert_true(k->queue_known);
		assert_true(k->backlog <= 1);
		assert_int_equal(k->accepted + k->backlog, k->established);
		assert_int_equal(pp_accept_watch_on_report(&w, k->cookie, k->backlog, k->accepted,
							   k->established, k->ts,
							   50 * PP_NSEC_PER_MSEC),
				 PP_ACCEPT_SAME);
	}
	assert_false(pp_accept_watch_wedged(&w));
	close(lfd);
	t_pump(10);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
}

/*
 * A server that never calls accept(): the samples show the queue growing and the accepted
 * count stuck at 0, and the rule finds it wedged once they span the timeout. Accepting
 * everything and closing one is seen at once (a drained queue skips the rate limit).
 */
static void test_stalled_listener_is_wedged_then_drained(void **state)
{
	const pp_nsec timeout = 500 * PP_NSEC_PER_MSEC;
	struct pp_accept_watch w = { 0 };
	const int rounds = 6;
	int lfd, conns[7], acc[7], wedged = 0;
	pp_nsec first_waiting = 0, closed;
	const struct pp_ksig *k;
	uint16_t port;
	size_t from = 0, i;

	require_socket_kind(PP_KSIG_ACCEPTS);
	lfd = t_bound(&port);
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	assert_int_equal(listen(lfd, 16), 0);
	for (int r = 0; r < rounds; r++) {
		enum pp_accept_change c;

		conns[r] = t_connect(port);
		k = t_wait_sample(port, from, SOCK_WAIT_MS, &i);
		assert_non_null(k);
		assert_int_equal(k->newstate, TCP_SYN_SENT);
		assert_int_equal(k->backlog, r);
		assert_int_equal(k->established, r);
		assert_int_equal(k->accepted, 0);
		if (r == 1)
			first_waiting = k->ts;
		c = pp_accept_watch_on_report(&w, k->cookie, k->backlog, k->accepted,
					      k->established, k->ts, timeout);
		if (c == PP_ACCEPT_WEDGED) {
			assert_int_equal(wedged, 0);
			assert_true(k->ts - first_waiting >= timeout);
			wedged = r;
		} else {
			assert_int_equal(c, PP_ACCEPT_SAME);
		}
		t_pump(INTERVAL_MS + 20);
		from = sink.n;
	}
	printf("stalled: wedged at sample %d; at the last, nothing accepted for %llu ms\n", wedged,
	       (unsigned long long)(pp_accept_watch_stalled_for(&w) / PP_NSEC_PER_MSEC));
	assert_true(pp_accept_watch_wedged(&w));
	assert_true(wedged >= 3);

	/* One more connection (sampled), then everything accepted and one closed at once. */
	conns[rounds] = t_connect(port);
	k = t_wait_sample(port, from, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	assert_int_equal(k->backlog, rounds);
	from = i + 1;
	for (int r = 0; r <= rounds; r++)
		acc[r] = t_accept(lfd);
	closed = pp_clock_now();
	close(acc[0]);
	k = t_wait_sample(port, from, SOCK_WAIT_MS, &i);
	assert_non_null(k);
	assert_true(k->ts - closed < INTERVAL_MS * PP_NSEC_PER_MSEC);
	assert_int_equal(k->newstate, TCP_FIN_WAIT1);
	assert_int_equal(k->backlog, 0);
	assert_int_equal(k->accepted, rounds + 1);
	assert_int_equal(pp_accept_watch_on_report(&w, k->cookie, k->backlog, k->accepted,
						   k->established, k->ts, timeout),
			 PP_ACCEPT_CLEARED);
	for (int r = 0; r <= rounds; r++) {
		if (r)
			close(acc[r]);
		close(conns[r]);
	}
	close(lfd);
	t_pump(10);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
}

static void test_untracked_port_is_silent(void **state)
{
	int fd, c;
	uint16_t port;

	fd = t_bound(&port);
	assert_int_equal(listen(fd, 4), 0);
	c = t_connect(port);
	close(c);
	close(fd);
	t_pump(QUIET_MS);
	for (size_t i = 0; i < sink.n; i++)
		assert_int_not_equal(sink.ev[i].port, port);
}

static void test_no_events_dropped(void **state)
{
	struct pp_signals_stats st;

	assert_int_equal(pp_signals_stats(sig, &st), 0);
	printf("stats: %llu events, %llu lost, %llu malformed; mode %s\n",
	       (unsigned long long)st.events, (unsigned long long)st.lost,
	       (unsigned long long)st.malformed, pp_signals_mode(sig));
	assert_true(st.events > 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.malformed, 0);
}

/*
 * Not draining the loop while a tracked port opens and closes 1,500 listeners (3,000 records of
 * 112 bytes against a 256 KiB ring): what does not fit is counted on the BPF side, and what
 * was counted plus what arrived is every record.
 */
static void test_full_ring_counts_drops(void **state)
{
	const unsigned int cycles = 1500;
	struct pp_signals_stats before, after;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned int got = 0;
	uint16_t port;
	int one = 1;

	require_socket_kind(PP_KSIG_LISTEN);
	assert_int_equal(pp_signals_stats(sig, &before), 0);
	close(t_bound(&port));
	a.sin_port = htons(port);
	assert_int_equal(pp_signals_track_port(sig, port, true), 0);
	for (unsigned int i = 0; i < cycles; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		assert_true(fd >= 0);
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(fd, 1), 0);
		close(fd);
	}
	t_pump(QUIET_MS);
	assert_int_equal(pp_signals_track_port(sig, port, false), 0);
	for (size_t i = 0; i < sink.n; i++)
		got += sink.ev[i].port == port;
	assert_int_equal(pp_signals_stats(sig, &after), 0);
	printf("full ring: %u records, %u delivered, %llu counted as lost\n", 2 * cycles, got,
	       (unsigned long long)(after.lost - before.lost));
	assert_true(after.lost > before.lost);
	assert_int_equal(got + (after.lost - before.lost), 2 * cycles);
}

static void test_bad_arguments_rejected(void **state)
{
	struct pp_signals_cfg cfg = { 0 };
	struct pp_signals *s = NULL;

	assert_int_equal(pp_signals_open(loop, &cfg, &s), -EINVAL);
	assert_int_equal(pp_signals_track_port(sig, 0, true), -EINVAL);
	assert_int_equal(pp_signals_track_tgid(sig, 0, true), -EINVAL);
	assert_int_equal(pp_signals_track_cgroup(sig, 0, true), -EINVAL);
	assert_int_equal(pp_signals_track_tgid(NULL, 1, true), -EINVAL);
	pp_signals_close(NULL);
}

int main(void)
{
	struct pp_signals_cfg cfg = { .accept_interval = INTERVAL_MS * PP_NSEC_PER_MSEC, .fn = on_ksig,
				      .ctx = &sink };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exit_code_of_tracked_child, setup),
		cmocka_unit_test_setup(test_kill_signal_of_tracked_child, setup),
		cmocka_unit_test_setup(test_untracked_child_is_silent, setup),
		cmocka_unit_test_setup(test_thread_exits_carry_the_group_code, setup),
		cmocka_unit_test_setup(test_main_thread_exit_is_not_the_process_exit, setup),
		cmocka_unit_test_setup(test_main_thread_exit_with_the_live_count_fallback, setup),
		cmocka_unit_test_setup(test_live_count_fallback_reports_each_death_once, setup),
		cmocka_unit_test_setup(test_trace_all_sees_untracked, setup),
		cmocka_unit_test_setup(test_grandchild_in_tracked_cgroup, setup),
		cmocka_unit_test_setup(test_oom_kill_of_tracked_child, setup),
		cmocka_unit_test_setup(test_listen_and_close_on_tracked_port, setup),
		cmocka_unit_test_setup(test_port_tracked_after_thousands_of_others, setup),
		cmocka_unit_test_setup(test_accepts_counted_on_tracked_port, setup),
		cmocka_unit_test_setup(test_samples_of_one_connection, setup),
		cmocka_unit_test_setup(test_lazy_samples_wait_for_the_next_wake_up, setup),
		cmocka_unit_test_setup(test_prompt_acceptor_is_never_wedged, setup),
		cmocka_unit_test_setup(test_stalled_listener_is_wedged_then_drained, setup),
		cmocka_unit_test_setup(test_untracked_port_is_silent, setup),
		cmocka_unit_test(test_no_events_dropped),
		cmocka_unit_test_setup(test_full_ring_counts_drops, setup),
		cmocka_unit_test(test_bad_arguments_rejected),
	};
	int err, rc;

	if (geteuid() != 0) {
		printf("skip: loading BPF programs needs root\n");
		return T_EXIT_SKIP;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		printf("skip: no kernel BTF at /sys/kernel/btf/vmlinux\n");
		return T_EXIT_SKIP;
	}
	if (getenv("PP_TEST_VERBOSE"))
		pp_log_set_level(PP_LOG_DEBUG);
	err = pp_loop_new(64, &loop);
	if (err < 0) {
		printf("skip: no io_uring: %s\n", strerror(-err));
		return T_EXIT_SKIP;
	}
	err = pp_signals_open(loop, &cfg, &sig);
	if (err < 0) {
		printf("%s: cannot load the BPF programs: %s (%s)\n",
		       pp_signals_unsupported(err) ? "skip" : "error", pp_signals_strerror(err),
		       strerror(-err));
		pp_loop_free(loop);
		return pp_signals_unsupported(err) ? T_EXIT_SKIP : EXIT_FAILURE;
	}
	printf("bpf mode: %s\n", pp_signals_mode(sig));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	pp_signals_close(sig);
	pp_loop_free(loop);
	return rc;
}
