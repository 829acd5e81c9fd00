// SPDX-License-Identifier: Apache-2.0
/*
 * pp_proc_spawn() as a process sees it: the child runs in podprobe's memory until exec
 * (CLONE_VM | CLONE_VFORK), so the command is looked up in the container's own PATH without
 * touching podprobe's environment, with execvp's rules (an empty element is the working
 * directory, EACCES is remembered while the search goes on, a file without #! goes to
 * /bin/sh) and kubelet's messages; the child starts with only fds 0-2, an empty signal mask
 * and default dispositions; podprobe gets its fds and signal mask back unchanged.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/runtime.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* <dir>/<name> with <text> and <mode>; returns the path in <buf>. */
static const char *put_file(const char *dir, const char *name, const char *text, mode_t mode,
			    char *buf, size_t size)
{
	int fd;

	snprintf(buf, size, "%s/%s", dir, name);
	fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(buf, mode), 0);
	return buf;
}

static void make_dir(const char *dir, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, name);
	assert_int_equal(mkdir(buf, 0755), 0);
}

/*
 * Run <argv> with <envp> (and <cwd>) through pp_proc_spawn(); its stdout and stderr in <out>.
 * Returns pp_proc_spawn()'s result (the reason in <err>); on success the exit status is in
 * <ret_status> and the output complete (read to EOF, bounded by a 5 s poll).
 */
static int spawn_out(char *const *argv, char *const *envp, const char *cwd, char *out, size_t size,
		     char *err, size_t errlen, int *ret_status)
{
	struct pp_exec_spec x;
	int p[2], pidfd = -1, rc;
	siginfo_t si = {0};
	size_t len = 0;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	x = (struct pp_exec_spec){
		.argv = argv,
		.envp = envp,
		.working_dir = cwd,
		.stdout_fd = p[1],
		.stderr_fd = p[1],
		.mnt_ns_fd = -1,
	};
	err[0] = '\0';
	rc = pp_proc_spawn(&x, &pid, &pidfd, err, errlen);
	close(p[1]);
	if (rc == 0) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};

		/* EOF comes only if podprobe kept no copy of the pipe's write end. */
		while (len + 1 < size) {
			assert_int_equal(poll(&pfd, 1, 5000), 1);
			n = read(p[0], out + len, size - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
		close(pidfd);
		*ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	}
	out[len] = '\0';
	close(p[0]);
	return rc;
}

static size_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own */
}

/* This process's SigIgn: dispositions it inherited as ignored. */
static unsigned long long ignored_signals(void)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	p = strstr(buf, "\nSigIgn:");
	assert_non_null(p);
	return strtoull(p + 9, NULL, 16);
}

static void test_command_is_found_in_the_containers_path(void **state)
{
	char bin[300], envpath[700], file[400], out[256], err[512];
	struct t_run r;
	int status = -1;

	t_run_init(&r);
	make_dir(r.dir, "bin", bin, sizeof(bin));
	put_file(bin, "pp-only-here", "#!/bin/sh\necho found \"$1\" \"$PP_X\"\n", 0755, file,
		 sizeof(file));
	/* Not in podprobe's PATH: only the pod's env can find it; a missing dir is skipped. */
	snprintf(envpath, sizeof(envpath), "PATH=%s/missing:%s", r.dir, bin);
	assert_int_equal(spawn_out((char *const[]){"pp-only-here", "arg", NULL},
				   (char *const[]){"PP_X=env", envpath, NULL}, NULL, out,
				   sizeof(out), err, sizeof(err), &status),
			 0);
	assert_int_equal(status, 0);
	assert_string_equal(out, "found arg env\n");
	/* podprobe's own environment is untouched (the child used to replace environ). */
	assert_null(getenv("PP_X"));
	t_run_cleanup(&r);
}

static void test_command_missing_from_path_has_kubelets_message(void **state)
{
	char bin[300], envpath[400], out[64], err[512];
	struct t_run r;
	int status = -1;

	t_run_init(&r);
	make_dir(r.dir, "bin", bin, sizeof(bin));
	snprintf(envpath, sizeof(envpath), "PATH=%s", bin);
	/* "true" is in podprobe's PATH, not in the container's. */
	assert_int_equal(spawn_out((char *const[]){"true", NULL}, (char *const[]){envpath, NULL},
				   NULL, out, sizeof(out), err, sizeof(err), &status),
			 -ENOENT);
	assert_string_equal(err, "exec: \"true\": executable file not found in $PATH");
	/* A name with a slash is not searched: the file itself is missing. */
	assert_int_equal(spawn_out((char *const[]){"./true", NULL}, (char *const[]){envpath, NULL},
				   bin, out, sizeof(out), err, sizeof(err), &status),
			 -ENOENT);
	assert_string_equal(err, "exec: \"./true\": No such file or directory");
	t_run_cleanup(&r);
}

static void test_non_executable_in_path_is_permission_denied(void **state)
{
	char a[300], b[300], envpath[700], file[400], out[64], err[512];
	struct t_run r;
	int status = -1;

	t_run_init(&r);
	make_dir(r.dir, "a", a, sizeof(a));
	make_dir(r.dir, "b", b, sizeof(b));
	/* No x bit at all: EACCES even for root. */
	put_file(a, "tool", "#!/bin/sh\necho from-a\n", 0644, file, sizeof(file));
	snprintf(envpath, sizeof(envpath), "PATH=%s", a);
	assert_int_equal(spawn_out((char *const[]){"tool", NULL}, (char *const[]){envpath, NULL},
				   NULL, out, sizeof(out), err, sizeof(err), &status),
			 -EACCES);
	assert_string_equal(err, "exec: \"tool\": Permission denied");
	/* As execvp: EACCES is remembered, the search goes on and a later hit wins. */
	put_file(b, "tool", "#!/bin/sh\necho from-b\n", 0755, file, sizeof(file));
	snprintf(envpath, sizeof(envpath), "PATH=%s:%s", a, b);
	assert_int_equal(spawn_out((char *const[]){"tool", NULL}, (char *const[]){envpath, NULL},
				   NULL, out, sizeof(out), err, sizeof(err), &status),
			 0);
	assert_string_equal(out, "from-b\n");
	t_run_cleanup(&r);
}

static void test_execvp_rules_for_empty_element_scripts_and_no_path(void **state)
{
	char bin[300], file[400], out[256], err[512];
	struct t_run r;
	int status = -1;

	t_run_init(&r);
	make_dir(r.dir, "bin", bin, sizeof(bin));
	/* No #!: execve says ENOEXEC and execvp hands it to /bin/sh with its arguments. */
	put_file(bin, "plain", "echo plain \"$1\" \"$2\"\n", 0755, file, sizeof(file));
	/* An empty element is the working directory. */
	assert_int_equal(spawn_out((char *const[]){"plain", "x", "y", NULL},
				   (char *const[]){"PATH=/nonexistent:", NULL}, bin, out,
				   sizeof(out), err, sizeof(err), &status),
			 0);
	assert_string_equal(out, "plain x y\n");
	/* No PATH in the env: glibc's default (/bin:/usr/bin) finds true. */
	assert_int_equal(spawn_out((char *const[]){"true", NULL}, (char *const[]){"A=1", NULL},
				   NULL, out, sizeof(out), err, sizeof(err), &status),
			 0);
	assert_int_equal(status, 0);
	/* An empty command is not found. */
	assert_int_equal(spawn_out((char *const[]){"", NULL}, (char *const[]){"A=1", NULL}, NULL,
				   out, sizeof(out), err, sizeof(err), &status),
			 -ENOENT);
	t_run_cleanup(&r);
}

/*
 * Podprobe holds many fds (a pidfd and log files per container) and blocks or ignores
 * signals; the child has none of those fds and the program starts with an empty mask and
 * default dispositions, and podprobe keeps its fds and mask.
 */
static void test_child_gets_only_stdio_and_default_signals(void **state)
{
	char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	char out[8192], err[512], want[128];
	int many[300], status = -1, null_fd;
	unsigned long long ign;
	sigset_t block, before, after;
	size_t fds;

	null_fd = open("/dev/null", O_RDONLY); /* not CLOEXEC: must not leak either */
	assert_true(null_fd >= 0);
	for (size_t i = 0; i < 300; i++)
		assert_true((many[i] = fcntl(null_fd, F_DUPFD_CLOEXEC, 3)) >= 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &before), 0);
	ign = ignored_signals();
	signal(SIGPIPE, SIG_IGN);

	/* The first spawn may reserve what the runtime keeps; count after it. */
	assert_int_equal(spawn_out((char *const[]){"true", NULL}, env, NULL, out, sizeof(out), err,
				   sizeof(err), &status),
			 0);
	fds = count_fds();
	assert_int_equal(spawn_out((char *const[]){"ls", "/proc/self/fd", NULL}, env, NULL, out,
				   sizeof(out), err, sizeof(err), &status),
			 0);
	assert_int_equal(status, 0);
	/* 0-2 and ls's own directory fd. */
	assert_string_equal(out, "0\n1\n2\n3\n");
	assert_int_equal(spawn_out((char *const[]){"grep", "^Sig[BI]", "/proc/self/status", NULL},
				   env, NULL, out, sizeof(out), err, sizeof(err), &status),
			 0);
	/* What was ignored before podprobe stays so (execve keeps it), but not SIGPIPE. */
	snprintf(want, sizeof(want), "SigBlk:\t0000000000000000\nSigIgn:\t%016llx\n",
		 ign & ~(1ull << (SIGPIPE - 1)));
	assert_string_equal(out, want);
	/* A failed start and a started one leave podprobe's fds and mask as they were. */
	assert_int_equal(spawn_out((char *const[]){"true", NULL}, env, "/nonexistent", out,
				   sizeof(out), err, sizeof(err), &status),
			 -ENOENT);
	assert_int_equal(spawn_out((char *const[]){"true", NULL}, env, NULL, out, sizeof(out), err,
				   sizeof(err), &status),
			 0);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &after), 0);
	assert_int_equal(sigismember(&after, SIGTERM), 1);
	assert_int_equal(sigismember(&after, SIGCHLD), 1);
	assert_int_equal(sigismember(&after, SIGUSR1), 0);
	for (size_t i = 0; i < 300; i++)
		close(many[i]);
	close(null_fd);
	sigprocmask(SIG_SETMASK, &before, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/*
 * A failed child's record goes through an error pipe that lives as long as the thread: every
 * start reads its own child's record or finds none, so failures of different kinds in a row,
 * then a start that works, each get their own verdict.
 */
static void test_each_start_reports_its_own_failure(void **state)
{
	char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	char out[64], err[512];
	int status = -1;

	for (int round = 0; round < 3; round++) {
		assert_int_equal(spawn_out((char *const[]){"true", NULL}, env, "/nonexistent", out,
					   sizeof(out), err, sizeof(err), &status),
				 -ENOENT);
		assert_string_equal(err, "chdir to workingDir \"/nonexistent\" failed: "
					 "No such file or directory");
		assert_int_equal(spawn_out((char *const[]){"pp-no-such-command", NULL}, env, NULL,
					   out, sizeof(out), err, sizeof(err), &status),
				 -ENOENT);
		assert_string_equal(
			err, "exec: \"pp-no-such-command\": executable file not found in $PATH");
		status = -1;
		assert_int_equal(spawn_out((char *const[]){"sh", "-c", "echo ok; exit 3", NULL},
					   env, NULL, out, sizeof(out), err, sizeof(err), &status),
				 0);
		assert_int_equal(status, 3);
		assert_string_equal(out, "ok\n");
	}
}

/*
 * An exec probe of a container with volumes joins the container's mount namespace through
 * its pidfd (sup_probes.c): what is mounted there is what the probe sees.
 */
static void test_exec_joins_the_containers_mount_namespace(void **state)
{
	char src[300], target[300], marker[400], probe[400], out[256], err[512];
	struct pp_mount_req m = {.source = src, .target = target, .tree_fd = -1};
	char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	struct pp_exec_spec x;
	struct t_run r;
	int status = -1, pidfd = -1, null_fd, outside, rc = -1, p[2], ppidfd = -1;
	siginfo_t si = {0};
	pid_t pid, ppid;

	if (geteuid() != 0) {
		print_message("skip: bind mounts need root\n");
		skip();
	}
	t_run_init(&r);
	make_dir(r.dir, "src", src, sizeof(src));
	snprintf(target, sizeof(target), "%s/target", r.dir);
	put_file(src, "marker", "in-the-volume\n", 0644, marker, sizeof(marker));
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(null_fd >= 0);
	x = (struct pp_exec_spec){
		.argv = (char *const[]){"sleep", "30", NULL},
		.envp = env,
		.stdout_fd = null_fd,
		.stderr_fd = null_fd,
		.mounts = &m,
		.n_mounts = 1,
		.mnt_ns_fd = -1,
	};
	if (pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err)) < 0)
		fail_msg("container: %s", err);
	snprintf(probe, sizeof(probe), "%s/marker", target);
	/* Outside, the target is the empty directory made for the mount. */
	outside = access(probe, F_OK);
	/* Nothing asserted until the container is killed: no process outlives a failure. */
	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == 0) {
		struct pp_exec_spec ex = {.argv = (char *const[]){"cat", probe, NULL},
					  .envp = env,
					  .stdout_fd = p[1],
					  .stderr_fd = p[1],
					  .mnt_ns_fd = pidfd};
		size_t len = 0;
		ssize_t n;

		rc = pp_proc_spawn(&ex, &ppid, &ppidfd, err, sizeof(err));
		close(p[1]);
		while (rc == 0 && len + 1 < sizeof(out) &&
		       (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
			len += (size_t)n;
		out[len] = '\0';
		close(p[0]);
		if (rc == 0 && waitid(P_PIDFD, (id_t)ppidfd, &si, WEXITED) == 0)
			status = si.si_status;
		if (rc == 0)
			close(ppidfd);
	}
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	close(null_fd);
	assert_int_equal(outside, -1);
	assert_int_equal(rc, 0);
	assert_int_equal(status, 0);
	assert_string_equal(out, "in-the-volume\n");
	t_run_cleanup(&r);
}

/* A long argv: the script fallback copies it onto the child's stack, which grows for it. */
static void test_long_argv_reaches_the_program(void **state)
{
	enum { N = 20000 };
	char **argv = calloc(N + 4, sizeof(*argv)), out[64], err[512], bin[300], file[400];
	struct t_run r;
	int status = -1;

	assert_non_null(argv);
	t_run_init(&r);
	make_dir(r.dir, "bin", bin, sizeof(bin));
	put_file(bin, "count", "echo $#\n", 0755, file, sizeof(file)); /* no #!: via /bin/sh */
	argv[0] = "count";
	for (size_t i = 1; i <= N; i++)
		argv[i] = "a";
	{
		char envpath[400];

		snprintf(envpath, sizeof(envpath), "PATH=%s", bin);
		assert_int_equal(spawn_out(argv, (char *const[]){envpath, NULL}, NULL, out,
					   sizeof(out), err, sizeof(err), &status),
				 0);
	}
	assert_string_equal(out, "20000\n");
	free(argv);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_command_is_found_in_the_containers_path),
		T_TEST(test_command_missing_from_path_has_kubelets_message),
		T_TEST(test_non_executable_in_path_is_permission_denied),
		T_TEST(test_execvp_rules_for_empty_element_scripts_and_no_path),
		T_TEST(test_child_gets_only_stdio_and_default_signals),
		T_TEST(test_each_start_reports_its_own_failure),
		T_TEST(test_exec_joins_the_containers_mount_namespace),
		T_TEST(test_long_argv_reaches_the_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
