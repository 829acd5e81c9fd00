// SPDX-License-Identifier: Apache-2.0
/*
 * bench_spawn: the cost of starting a process the way `podprobe run` starts a container,
 * in a process shaped like podprobe with many pods: --rss-mib of touched heap (page tables a
 * fork would copy) and --fds open files (a pidfd and log files per container, which a child
 * that copies the fd table must close again at exec). Starts --count times `true` (argv and
 * PATH as a container gets them), each waited for before the next, and prints
 *
 *   bench=spawn mode=runtime count=2000 rss_mib=60 fds=3000 us_per_spawn=... \
 *   cpu_us_per_spawn=... child_cpu_us_per_spawn=...
 *
 * us_per_spawn is wall time from spawn to reaped; cpu_us_per_spawn this process's CPU per
 * spawn, child_cpu_us_per_spawn the children's (their set-up before exec included). --mode
 * copy is the reference: clone3(CLONE_PIDFD | CLONE_VFORK) without CLONE_VM, as podprobe
 * spawned before, with the same child work (dup2, close_range, execve).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_self.h"
#include "podprobe/clock.h"
#include "podprobe/runtime.h"
#include "podprobe/security-t.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static struct {
	unsigned long count, rss_mib, fds;
	bool copy, security;
} opt = {.count = 2000, .rss_mib = 60, .fds = 3000};

static const struct argp_option options[] = {
	{"count", 'n', "N", 0, "processes to start (default 2000)", 0},
	{"rss-mib", 'r', "MIB", 0, "heap to touch first (default 60)", 0},
	{"fds", 'f', "N", 0, "extra open fds (default 3000)", 0},
	{"mode", 'm', "runtime|copy", 0, "pp_proc_spawn() or the copying reference", 0},
	{"security", 's', NULL, 0,
	 "runtime: with a container's default security as root has it (containerd's "
	 "capabilities: the bounding set cut down, the sets reduced)",
	 0},
	{0},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n':
		opt.count = strtoul(arg, NULL, 10);
		break;
	case 'r':
		opt.rss_mib = strtoul(arg, NULL, 10);
		break;
	case 'f':
		opt.fds = strtoul(arg, NULL, 10);
		break;
	case 's':
		opt.security = true;
		break;
	case 'm':
		if (strcmp(arg, "runtime") && strcmp(arg, "copy"))
			argp_error(state, "--mode is runtime or copy");
		opt.copy = !strcmp(arg, "copy");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static double children_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* The reference: a child with a copy of this process's memory and fd table. */
static int spawn_copy(char *const *argv, char *const *envp, int out_fd, int *ret_pidfd)
{
	struct clone_args args = {.flags = CLONE_PIDFD | CLONE_VFORK, .exit_signal = SIGCHLD};
	int pidfd = -1;
	long pid;

	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(null_fd, 0);
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve("/usr/bin/true", argv, envp);
		execve("/bin/true", argv, envp);
		_exit(127);
	}
	*ret_pidfd = pidfd;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		options, parse_opt, NULL, "Cost of starting a container's process.",
		NULL,	 NULL,	    NULL};
	const struct pp_exec_security sec = {
		.set_caps = true, .caps = PP_CAPS_DEFAULT, .fs_group = -1};
	char *const cargv[] = {"true", NULL};
	char *const cenv[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      "HOSTNAME=bench", NULL};
	double cpu0, ccpu0, cpu1, ccpu1;
	size_t heap_len;
	pp_nsec t0, t1, in_call = 0;
	char *heap;
	int log_fd;

	argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (opt.count == 0)
		return 0;
	heap_len = opt.rss_mib << 20;
	heap = malloc(heap_len ? heap_len : 1);
	if (!heap) {
		fprintf(stderr, "bench_spawn: cannot allocate %lu MiB\n", opt.rss_mib);
		return 1;
	}
	memset(heap, 1, heap_len);
	log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (unsigned long i = 0; i < opt.fds; i++)
		if (fcntl(log_fd, F_DUPFD_CLOEXEC, 3) < 0) {
			fprintf(stderr, "bench_spawn: %lu fds: %s (ulimit -n)\n", opt.fds,
				strerror(errno));
			return 1;
		}

	cpu0 = bench_cpu_seconds();
	ccpu0 = children_cpu_seconds();
	t0 = pp_clock_now();
	for (unsigned long i = 0; i < opt.count; i++) {
		struct pp_exec_spec x = {
			.argv = cargv,
			.envp = cenv,
			.stdout_fd = log_fd,
			.stderr_fd = log_fd,
			.mnt_ns_fd = -1,
			.sec = opt.security ? &sec : NULL,
		};
		char err[256];
		siginfo_t si;
		pid_t pid;
		int pidfd, rc;

		pp_nsec c0 = pp_clock_now();

		rc = opt.copy ? spawn_copy(cargv, cenv, log_fd, &pidfd)
			      : pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "bench_spawn: spawn: %s\n", opt.copy ? strerror(-rc) : err);
			return 1;
		}
		in_call += pp_clock_now() - c0;
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
	}
	t1 = pp_clock_now();
	cpu1 = bench_cpu_seconds();
	ccpu1 = children_cpu_seconds();
	printf("bench=spawn mode=%s count=%lu rss_mib=%lu fds=%lu us_per_spawn=%.1f "
	       "us_in_spawn_call=%.1f cpu_us_per_spawn=%.1f child_cpu_us_per_spawn=%.1f\n",
	       opt.copy ? "copy" : "runtime", opt.count, opt.rss_mib, opt.fds,
	       (double)(t1 - t0) / 1e3 / (double)opt.count,
	       (double)in_call / 1e3 / (double)opt.count, (cpu1 - cpu0) * 1e6 / (double)opt.count,
	       (ccpu1 - ccpu0) * 1e6 / (double)opt.count);
	free(heap);
	return 0;
}
