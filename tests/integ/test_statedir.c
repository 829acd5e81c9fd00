// SPDX-License-Identifier: Apache-2.0
/*
 * The state directory belongs to one `podprobe run`: a second run on it is refused and
 * leaves the first one's volumes alone; a directory owned by someone else, writable by
 * others or reached through a link is refused; links planted inside it are not followed;
 * and the control path finds only a live run that provably holds the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/statedir.h"

/* A `sleep` the test starts itself (not podprobe's): killed by the teardown. */
static pid_t bystander = -1;

static int setup(void **state)
{
	return t_setup(state);
}

static int teardown(void **state)
{
	if (bystander > 0) {
		kill(bystander, SIGKILL);
		waitpid(bystander, NULL, 0);
		bystander = -1;
	}
	return t_teardown(state);
}

static pid_t start_bystander(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	bystander = pid;
	return pid;
}

/* Alive and not a zombie: a signal would have ended it. */
static bool alive(pid_t pid)
{
	siginfo_t si = {0};

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *read_text(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char simple_pod[] = "apiVersion: v1\n"
				 "kind: Pod\n"
				 "metadata: {name: p}\n"
				 "spec:\n"
				 "  restartPolicy: Never\n"
				 "  containers:\n"
				 "  - {name: app, image: busybox, command: [sh, -c, 'echo hello']}\n";

static void test_second_run_on_the_same_state_dir_is_refused(void **state)
{
	struct t_run a, b;
	char yaml[2048], mnt[300], vol_file[700], want[600];
	bool root = geteuid() == 0;

	t_run_init(&a);
	snprintf(mnt, sizeof(mnt), "%s/mnt/data", a.dir);
	if (root)
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: v1\n"
			 "kind: Pod\n"
			 "metadata: {name: vol}\n"
			 "spec:\n"
			 "  volumes: [{name: data, emptyDir: {}}]\n"
			 "  containers:\n"
			 "  - name: app\n"
			 "    image: busybox\n"
			 "    command: [sh, -c, 'echo live > %s/f && exec sleep 30']\n"
			 "    volumeMounts: [{name: data, mountPath: '%s'}]\n",
			 mnt, mnt);
	else
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: v1\n"
			 "kind: Pod\n"
			 "metadata: {name: vol}\n"
			 "spec:\n"
			 "  containers:\n"
			 "  - {name: app, image: busybox, command: [sleep, '30']}\n");
	t_run_start(&a, (const char *const[]){t_write_manifest(&a, "vol.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&a, "Started", "app", 0, 5000));
	snprintf(vol_file, sizeof(vol_file), "%s/pods/default_vol/volumes/data/f", a.state_dir);
	if (root)
		t_wait_file(vol_file, 5000);
	else
		print_message("not root: no emptyDir volume (bind mounts need root), only the lock "
			      "is checked\n");

	/* The same manifest, the same state directory, a second podprobe. */
	t_run_init(&b);
	snprintf(b.state_dir, sizeof(b.state_dir), "%s", a.state_dir);
	t_run_start(&b, (const char *const[]){t_write_manifest(&b, "vol.yaml", yaml), NULL});
	assert_int_equal(t_run_wait_exit(&b, 5000), 2);
	snprintf(want, sizeof(want), "state directory %s is in use by podprobe pid %d",
		 a.state_dir, (int)a.pid);
	assert_non_null(strstr(b.err_text, want));
	assert_int_equal(b.n_events, 0);
	t_run_cleanup(&b);

	/* The first run and its volume are untouched. */
	if (root)
		assert_string_equal(read_text(vol_file), "live\n");
	t_drain(&a, 100);
	assert_int_equal(t_count_events(&a, "Terminated", NULL), 0);
	t_run_signal(&a, SIGTERM);
	t_run_wait_exit(&a, 10000);
	t_run_cleanup(&a);
}

/* `podprobe run` on <state>, made beforehand by the test, must exit 2 saying <why>. */
static void assert_refused(struct t_run *r, const char *why)
{
	t_run_start(r, (const char *const[]){t_write_manifest(r, "p.yaml", simple_pod), NULL});
	assert_int_equal(t_run_wait_exit(r, 5000), 2);
	if (!strstr(r->err_text, why))
		fail_msg("stderr lacks '%s': %s", why, r->err_text);
	assert_int_equal(r->n_events, 0);
}

static void test_state_dir_writable_by_others_is_refused(void **state)
{
	struct t_run r;
	char why[400];

	t_run_init(&r);
	assert_int_equal(mkdir(r.state_dir, 0700), 0);
	assert_int_equal(chmod(r.state_dir, 0777), 0);
	snprintf(why, sizeof(why),
		 "state directory '%s' is writable by group or others (mode 0777), refusing",
		 r.state_dir);
	assert_refused(&r, why);
	t_run_cleanup(&r);
}

static void test_state_dir_of_another_user_is_refused(void **state)
{
	struct t_run r;
	char why[400];

	if (geteuid() != 0) {
		print_message("skip: making a directory owned by another uid needs root\n");
		skip();
	}
	t_run_init(&r);
	assert_int_equal(mkdir(r.state_dir, 0700), 0);
	assert_int_equal(chown(r.state_dir, 65534, 65534), 0);
	snprintf(why, sizeof(why), "state directory '%s' is owned by uid 65534, not by podprobe's",
		 r.state_dir);
	assert_refused(&r, why);
	t_run_cleanup(&r);
}

static void test_state_dir_that_is_a_link_is_refused(void **state)
{
	struct t_run r;
	char target[300], why[400];

	t_run_init(&r);
	snprintf(target, sizeof(target), "%s/elsewhere", r.dir);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, r.state_dir), 0);
	snprintf(why, sizeof(why), "state directory '%s' is a symbolic link, refusing",
		 r.state_dir);
	assert_refused(&r, why);
	t_run_cleanup(&r);
}

static void test_new_state_dir_is_private(void **state)
{
	struct t_run r;
	char path[400];
	struct stat st;

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "p.yaml", simple_pod), NULL});
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	assert_int_equal(stat(r.state_dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	snprintf(path, sizeof(path), "%s/logs/default_p/app", r.state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/logs/default_p/app/0.log", r.state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0007, 0);
	t_run_cleanup(&r);
}

static void test_planted_log_link_is_not_followed(void **state)
{
	struct t_run r;
	char dir[400], link_path[450], victim[300], cmd[2048], out[256];

	t_run_init(&r);
	snprintf(victim, sizeof(victim), "%s/victim", r.dir);
	write_text(victim, "precious\n");
	/* The log file the container's first instance will get is a link to the victim. */
	snprintf(dir, sizeof(dir), "%s/logs/default_p/app", r.state_dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p -m 0700 %s && chmod 0700 %s %s/logs %s/logs/default_p",
		 dir, r.state_dir, r.state_dir, r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	snprintf(link_path, sizeof(link_path), "%s/0.log", dir);
	assert_int_equal(symlink(victim, link_path), 0);

	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "p.yaml", simple_pod), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	assert_string_equal(read_text(victim), "precious\n");
	/* The log went to a file of its own in place of the link. */
	snprintf(cmd, sizeof(cmd), "%s logs --state-dir=%s p", t_podprobe(), r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "hello\n");
	t_run_cleanup(&r);
}

static void test_holder_is_never_a_stale_pid(void **state)
{
	char lock[320], pid_text[32];
	pid_t pid = -1, sleeper;
	int pidfd = -1, fd;
	struct t_run r;
	const char *dir;

	t_run_init(&r); /* for its temporary directory */
	dir = r.dir;
	snprintf(lock, sizeof(lock), "%s/" PP_STATEDIR_LOCK, dir);
	sleeper = start_bystander();
	snprintf(pid_text, sizeof(pid_text), "%d\n", (int)sleeper);

	/* No lock file: no run. */
	assert_int_equal(pp_statedir_holder(dir, &pid, &pidfd), -ESRCH);

	/* A lock file left behind (crash, SIGKILL) naming an unrelated process. */
	write_text(lock, pid_text);
	assert_int_equal(pp_statedir_holder(dir, &pid, &pidfd), -ESRCH);

	/* Even with the lock held, by someone else: the named process does not hold it. */
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(pp_statedir_holder(dir, &pid, &pidfd), -ESRCH);
	close(fd);
	assert_int_equal(pid, -1);
	assert_int_equal(pidfd, -1);
	assert_true(alive(sleeper));
	t_run_cleanup(&r);
}

static void test_holder_is_the_running_podprobe(void **state)
{
	struct t_run r;
	pid_t pid = -1;
	int pidfd = -1;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: s}\n"
				   "spec:\n"
				   "  containers:\n"
				   "  - {name: app, image: busybox, command: [sleep, '30']}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "s.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "Started", "app", 0, 5000));
	assert_int_equal(pp_statedir_holder(r.state_dir, &pid, &pidfd), 0);
	assert_int_equal(pid, r.pid);
	/* The pidfd is live and names that process (signal 0 only probes). */
	assert_int_equal(syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0), 0);
	close(pidfd);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 10000);
	/* Gone, and its lock file stays behind with its pid: not a holder any more. */
	assert_int_equal(pp_statedir_holder(r.state_dir, &pid, &pidfd), -ESRCH);
	t_run_cleanup(&r);
}

/* `podprobe delete` with a stale pid in the state directory must not signal that process. */
static void test_delete_never_signals_a_stale_pid(void **state)
{
	char path[400], pid_text[32], cmd[1024], out[512];
	struct t_run r;
	const char *dir;
	pid_t sleeper;
	int rc;

	t_run_init(&r); /* for its temporary directory (mode 0700) */
	dir = r.dir;
	sleeper = start_bystander();
	snprintf(pid_text, sizeof(pid_text), "%d\n", (int)sleeper);
	/* What a crashed run leaves: its pid, now someone else's (today's and older files). */
	snprintf(path, sizeof(path), "%s/" PP_STATEDIR_LOCK, dir);
	write_text(path, pid_text);
	snprintf(path, sizeof(path), "%s/podprobe.pid", dir);
	write_text(path, pid_text);
	snprintf(cmd, sizeof(cmd), "%s delete --state-dir=%s web 2>&1", t_podprobe(), dir);
	rc = t_system(cmd, out, sizeof(out));
	/* SIGUSR1 would have killed it. */
	poll(NULL, 0, 50);
	assert_true(alive(sleeper));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "no running 'podprobe run' uses state directory"));
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_run_on_the_same_state_dir_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_writable_by_others_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_of_another_user_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_that_is_a_link_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_state_dir_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_log_link_is_not_followed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_holder_is_never_a_stale_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_is_the_running_podprobe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_never_signals_a_stale_pid, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
