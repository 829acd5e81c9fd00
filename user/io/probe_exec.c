// SPDX-License-Identifier: Apache-2.0
/*
 * exec (H-EXEC.1-4): the command runs in its own process group in the container's context
 * (its env, working directory, cgroup and, with volumes, its mount namespace). stdout and
 * stderr are read through the loop into two buffers and reported stdout first, up to 10 KiB.
 * The result is known once the process has exited and both pipes are at EOF; a timeout kills
 * the group, reports at once, and keeps the slot until the process is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podprobe/loop.h"
#include "podprobe/runtime.h"
#include "prober_int.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct stream {
	int fd;
	uint64_t op;
	bool eof;
	size_t len;
	char buf[PP_PROBE_OUTPUT_MAX];
};

struct exec_state {
	pid_t pid;
	int pidfd;
	uint64_t pid_op;
	bool exited; /* reaped: the pid (and group id) may belong to someone else now */
	int code;
	int sig;
	char discard[1024];
	struct stream out;
	struct stream err;
};

static void exec_maybe_done(struct attempt *a);

static void arm_read(struct attempt *a, struct stream *s);

static void on_read(struct attempt *a, struct stream *s, int res)
{
	s->op = 0;
	if (res <= 0) {
		s->eof = true;
		exec_maybe_done(a);
		return;
	}
	if (s->len < sizeof(s->buf))
		s->len += (size_t)res;
	arm_read(a, s);
}

static void on_out(void *ctx, int res)
{
	struct attempt *a = ctx;

	on_read(a, &((struct exec_state *)a->proto)->out, res);
}

static void on_err(void *ctx, int res)
{
	struct attempt *a = ctx;

	on_read(a, &((struct exec_state *)a->proto)->err, res);
}

static void arm_read(struct attempt *a, struct stream *s)
{
	struct exec_state *x = a->proto;
	bool full = s->len >= sizeof(s->buf);
	int rc;

	/* Past 10 KiB the output is read and dropped, so the command never blocks on a pipe. */
	rc = pp_loop_read(pp_attempt_loop(a), s->fd, full ? x->discard : s->buf + s->len,
			  full ? sizeof(x->discard) : (unsigned int)(sizeof(s->buf) - s->len),
			  s == &x->out ? on_out : on_err, a, &s->op);
	if (rc < 0)
		s->eof = true;
}

static void on_exit_ready(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct exec_state *x = a->proto;
	siginfo_t si = {0};

	x->pid_op = 0;
	/* Peek first (WNOWAIT): the zombie keeps the group id from being reused for the kill. */
	if (waitid(P_PIDFD, (id_t)x->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0) {
		pp_loop_poll(pp_attempt_loop(a), x->pidfd, POLLIN, on_exit_ready, a, &x->pid_op);
		return;
	}
	/* Whatever the command left behind goes with it. */
	killpg(x->pid, SIGKILL);
	waitid(P_PIDFD, (id_t)x->pidfd, &si, WEXITED | WNOHANG);
	x->exited = true;
	if (si.si_code == CLD_EXITED)
		x->code = si.si_status;
	else
		x->sig = si.si_status;
	exec_maybe_done(a);
}

static void exec_maybe_done(struct attempt *a)
{
	struct exec_state *x = a->proto;
	char output[PP_PROBE_OUTPUT_MAX + 1];
	size_t n_out, n_err;

	if (!x->exited || !x->out.eof || !x->err.eof)
		return;
	if (a->reported) {
		pp_attempt_release(a);
		return;
	}
	n_out = x->out.len;
	n_err = x->err.len < sizeof(output) - 1 - n_out ? x->err.len : sizeof(output) - 1 - n_out;
	memcpy(output, x->out.buf, n_out);
	memcpy(output + n_out, x->err.buf, n_err);
	output[n_out + n_err] = '\0';
	pp_attempt_finish(a, !x->sig && x->code == 0 ? PP_RESULT_SUCCESS : PP_RESULT_FAILURE, 0,
			  "%s", output);
}

/*
 * Kill the command's group and reap it without blocking the loop for long: only on paths where
 * its exit is not watched (a failed start, the prober's end), where SIGKILL ends it within
 * moments. A process the kernel cannot kill in a second (stuck in D state) is left unreaped.
 */
static void kill_and_reap(struct exec_state *x)
{
	struct pollfd pfd = {.fd = x->pidfd, .events = POLLIN};

	if (x->exited)
		return;
	killpg(x->pid, SIGKILL);
	if (poll(&pfd, 1, 1000) == 1)
		waitid(P_PIDFD, (id_t)x->pidfd, &(siginfo_t){0}, WEXITED | WNOHANG);
	x->exited = true;
}

static int exec_start(struct attempt *a)
{
	const struct pp_probe_target *t = a->t;
	struct exec_state *x = calloc(1, sizeof(*x));
	int out[2] = {-1, -1}, err[2] = {-1, -1}, rc;
	struct pp_exec_spec spec;

	if (!x)
		return -ENOMEM;
	a->proto = x;
	x->pidfd = x->out.fd = x->err.fd = -1;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	spec = (struct pp_exec_spec){
		.argv = t->argv,
		.envp = t->envp,
		.working_dir = t->working_dir,
		.stdout_fd = out[1],
		.stderr_fd = err[1],
		.join_cgroups = {t->cgroup, NULL},
		.mnt_ns_fd = t->mnt_ns_fd,
		.sec = t->sec,
	};
	rc = pp_proc_spawn(&spec, &x->pid, &x->pidfd, a->start_msg, sizeof(a->start_msg));
	if (rc < 0)
		goto out;
	x->out.fd = out[0];
	x->err.fd = err[0];
	out[0] = err[0] = -1;
	/* The exit watch first: a start that fails leaves nothing in flight (prober_int.h). */
	rc = pp_loop_poll(pp_attempt_loop(a), x->pidfd, POLLIN, on_exit_ready, a, &x->pid_op);
	if (rc < 0) {
		kill_and_reap(x);
		goto out;
	}
	arm_read(a, &x->out);
	arm_read(a, &x->err);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

/* Deadline passed, or the attempt was cancelled: kill, report, reap later. */
static void exec_timeout(struct attempt *a)
{
	struct exec_state *x = a->proto;
	char cmd[1024];
	size_t len = 0;

	if (!x || x->pid <= 0) {
		pp_attempt_release(a);
		return;
	}
	if (!x->exited)
		killpg(x->pid, SIGKILL);
	cmd[0] = '\0';
	for (size_t i = 0; a->t->argv[i] && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i ? " " : "",
					a->t->argv[i]);
	pp_attempt_report(a, PP_RESULT_FAILURE, 0, "command \"%s\" timed out", cmd);
	exec_maybe_done(a);
}

/* The attempt ends: the command's group dies with it; its operations are handed back. */
static unsigned int exec_retire(struct attempt *a, uint64_t *ids)
{
	struct exec_state *x = a->proto;

	if (!x)
		return 0;
	/* Not reaped yet, so the group id is still the command's own. */
	if (x->pid > 0 && !x->exited)
		killpg(x->pid, SIGKILL);
	ids[0] = x->pid_op;
	ids[1] = x->out.op;
	ids[2] = x->err.op;
	x->pid_op = x->out.op = x->err.op = 0;
	return 3;
}

/* After the final completions: close the pipes, reap the command if it is not yet. */
static void exec_cleanup(struct attempt *a)
{
	struct exec_state *x = a->proto;

	if (!x)
		return;
	if (x->pidfd >= 0) {
		if (!x->exited)
			kill_and_reap(x);
		close(x->pidfd);
	}
	if (x->out.fd >= 0)
		close(x->out.fd);
	if (x->err.fd >= 0)
		close(x->err.fd);
	free(x);
	a->proto = NULL;
}

const struct handler_ops pp_probe_exec_ops = {
	.start = exec_start,
	.timeout = exec_timeout,
	.retire = exec_retire,
	.cleanup = exec_cleanup,
};
