// SPDX-License-Identifier: Apache-2.0
#include "integ.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

/*
 * Processes started by the tests: a failed assertion skips a test's clean-up, so whatever is
 * still running when the program exits is killed here.
 */
static pid_t started[64];

static void kill_started(void)
{
	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
		if (started[i] > 0) {
			kill(started[i], SIGKILL);
			waitpid(started[i], NULL, 0);
		}
}

static void track(pid_t pid, bool on)
{
	static bool registered;

	if (!registered) {
		atexit(kill_started);
		registered = true;
	}
	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++) {
		if (on && started[i] <= 0) {
			started[i] = pid;
			return;
		}
		if (!on && started[i] == pid) {
			started[i] = 0;
			return;
		}
	}
}

uint64_t t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *t_podprobe(void)
{
	static char path[PATH_MAX];
	char rel[PATH_MAX];
	const char *p = getenv("PODPROBE"), *o = getenv("O");

	if (p && *p)
		return p;
	snprintf(rel, sizeof(rel), "%s/podprobe", o && *o ? o : "build");
	/* Absolute, so tests may run it from another directory. */
	if (!realpath(rel, path))
		snprintf(path, sizeof(path), "%s", rel);
	return path;
}

void t_run_init(struct t_run *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->out_fd = r->err_fd = -1;
	r->status = -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/podprobe-integ-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->state_dir, sizeof(r->state_dir), "%s/state", r->dir);
}

const char *t_write_manifest(struct t_run *r, const char *name, const char *yaml)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	return path;
}

void t_run_start(struct t_run *r, const char *const *args)
{
	const char *argv[64];
	char state_arg[400], path_env[8192], tools[PATH_MAX];
	int out[2], err[2];
	size_t n = 0;
	const char *o = getenv("O");

	argv[n++] = t_podprobe();
	argv[n++] = "run";
	argv[n++] = "--events=json";
	argv[n++] = "--table=never";
	snprintf(state_arg, sizeof(state_arg), "--state-dir=%s", r->state_dir);
	argv[n++] = state_arg;
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	if (!realpath(o && *o ? o : "build", tools))
		snprintf(tools, sizeof(tools), "build");
	snprintf(path_env, sizeof(path_env), "%s/tools:%s", tools, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		/* A test that dies (or fails an assertion and exits) takes podprobe with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		dup2(err[1], 2);
		setenv("PATH", path_env, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	track(r->pid, true);
	r->out_fd = out[0];
	r->err_fd = err[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
}

/* Pull "key":"value" out of a flat JSON object line (podprobe's own output, so simple). */
static void json_field(const char *line, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	if (!p)
		return;
	for (p += strlen(pat); *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
}

static void parse_lines(struct t_run *r)
{
	char *nl;

	while ((nl = memchr(r->buf, '\n', r->len))) {
		struct t_event *ev;
		size_t line_len = (size_t)(nl - r->buf);

		*nl = '\0';
		if (r->buf[0] == '{') {
			r->events = realloc(r->events, (r->n_events + 1) * sizeof(*r->events));
			assert_non_null(r->events);
			ev = &r->events[r->n_events++];
			json_field(r->buf, "pod", ev->pod, sizeof(ev->pod));
			json_field(r->buf, "container", ev->container, sizeof(ev->container));
			json_field(r->buf, "type", ev->type, sizeof(ev->type));
			json_field(r->buf, "reason", ev->reason, sizeof(ev->reason));
			json_field(r->buf, "message", ev->message, sizeof(ev->message));
			json_field(r->buf, "source", ev->source, sizeof(ev->source));
			ev->at_ms = t_now_ms();
			if (getenv("T_VERBOSE"))
				fprintf(stderr, "event: %s\n", r->buf);
		}
		memmove(r->buf, nl + 1, r->len - line_len - 1);
		r->len -= line_len + 1;
	}
}

/* Drain podprobe's stderr to ours, so failures show why. */
static void pump_stderr(struct t_run *r)
{
	char buf[4096];
	ssize_t n;

	while (r->err_fd >= 0 && (n = read(r->err_fd, buf, sizeof(buf))) > 0) {
		size_t room = sizeof(r->err_text) - 1 - r->err_len;
		size_t take = (size_t)n < room ? (size_t)n : room;

		memcpy(r->err_text + r->err_len, buf, take);
		r->err_len += take;
		r->err_text[r->err_len] = '\0';
		fwrite(buf, 1, (size_t)n, stderr);
	}
}

/* Read what is there within <timeout_ms>; returns false at EOF. */
static bool pump(struct t_run *r, int timeout_ms)
{
	struct pollfd pfd[2] = { { r->out_fd, POLLIN, 0 }, { r->err_fd, POLLIN, 0 } };
	ssize_t n;

	if (r->out_fd < 0)
		return false;
	poll(pfd, 2, timeout_ms);
	pump_stderr(r);
	n = read(r->out_fd, r->buf + r->len, sizeof(r->buf) - r->len - 1);
	if (n > 0) {
		r->len += (size_t)n;
		parse_lines(r);
		return true;
	}
	if (n == 0) {
		close(r->out_fd);
		r->out_fd = -1;
		return false;
	}
	return true;
}

static bool matches(const struct t_event *e, const char *reason, const char *container)
{
	return !strcmp(e->reason, reason) && (!container || !strcmp(e->container, container));
}

const struct t_event *t_wait_event(struct t_run *r, const char *reason, const char *container,
				   unsigned int skip, int timeout_ms)
{
	uint64_t until = t_now_ms() + (uint64_t)timeout_ms;
	size_t i = 0;
	unsigned int seen = 0;

	for (;;) {
		for (; i < r->n_events; i++)
			if (matches(&r->events[i], reason, container) && seen++ == skip)
				return &r->events[i];
		if (t_now_ms() >= until || !pump(r, (int)(until - t_now_ms())))
			break;
	}
	for (; i < r->n_events; i++)
		if (matches(&r->events[i], reason, container) && seen++ == skip)
			return &r->events[i];
	fail_msg("no event '%s'%s%s (#%u) within %d ms; %zu events read", reason,
		 container ? " for container " : "", container ? container : "", skip, timeout_ms,
		 r->n_events);
	return NULL;
}

void t_drain(struct t_run *r, int ms)
{
	uint64_t until = t_now_ms() + (uint64_t)ms;

	while (t_now_ms() < until && pump(r, (int)(until - t_now_ms())))
		;
}

void t_wait_file(const char *path, int timeout_ms)
{
	uint64_t until = t_now_ms() + (uint64_t)timeout_ms;

	while (access(path, F_OK) != 0) {
		if (t_now_ms() >= until)
			fail_msg("'%s' did not appear within %d ms", path, timeout_ms);
		poll(NULL, 0, 5);
	}
}

unsigned int t_count_events(const struct t_run *r, const char *reason, const char *container)
{
	unsigned int n = 0;

	for (size_t i = 0; i < r->n_events; i++)
		n += (!reason || !strcmp(r->events[i].reason, reason)) &&
		     (!container || !strcmp(r->events[i].container, container));
	return n;
}

void t_run_signal(struct t_run *r, int sig)
{
	assert_true(r->pid > 0);
	assert_int_equal(kill(r->pid, sig), 0);
}

int t_run_wait_exit(struct t_run *r, int timeout_ms)
{
	uint64_t until = t_now_ms() + (uint64_t)timeout_ms;
	int status;

	while (r->status < 0) {
		pid_t p = waitpid(r->pid, &status, WNOHANG);

		if (p == r->pid) {
			r->status = status;
			break;
		}
		if (t_now_ms() >= until)
			fail_msg("podprobe did not exit within %d ms", timeout_ms);
		if (!pump(r, 50))
			poll(NULL, 0, 10); /* stdout closed: only the exit is left */
	}
	while (pump(r, 0))
		;
	pump_stderr(r);
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

void t_run_cleanup(struct t_run *r)
{
	char cmd[400];

	if (r->pid > 0 && r->status < 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	if (r->pid > 0)
		track(r->pid, false);
	if (r->out_fd >= 0)
		close(r->out_fd);
	if (r->err_fd >= 0)
		close(r->err_fd);
	free(r->events);
	if (r->dir[0] && !getenv("T_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", r->dir);
	}
	memset(r, 0, sizeof(*r));
}

int t_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int t_count_zombie_children(pid_t pid)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], buf[512], *p, state;
		int ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%c %d", &state, &ppid) == 2 && ppid == pid && state == 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

int t_system(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int status;

	if (!p)
		return -1;
	if (out && size) {
		n = fread(out, 1, size - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *t_tool(const char *name)
{
	static char path[PATH_MAX];
	char rel[PATH_MAX];
	const char *o = getenv("O");

	snprintf(rel, sizeof(rel), "%s/tools/%s", o && *o ? o : "build", name);
	if (!realpath(rel, path))
		snprintf(path, sizeof(path), "%s", rel);
	return path;
}

pid_t t_server_start(const char *const *argv, int *ret_port)
{
	char line[512], *p;
	const char *path = t_tool(argv[0]);
	int out[2];
	size_t len = 0;
	uint64_t until = t_now_ms() + 5000;
	pid_t pid;

	if (access(path, X_OK) != 0) {
		print_message("skip: %s is not built\n", path);
		skip();
	}
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], 1);
		if (!getenv("T_VERBOSE") && null_fd >= 0)
			dup2(null_fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	track(pid, true);
	/* Read byte by byte up to the first "listening on" line, so nothing past it is lost. */
	while (t_now_ms() < until && len + 1 < sizeof(line)) {
		struct pollfd pfd = { out[0], POLLIN, 0 };
		char ch;

		if (poll(&pfd, 1, (int)(until - t_now_ms())) <= 0 || read(out[0], &ch, 1) != 1)
			break;
		if (ch != '\n') {
			line[len++] = ch;
			continue;
		}
		line[len] = '\0';
		p = strstr(line, "listening on ");
		if (p && (p = strrchr(p, ':'))) {
			/* The pipe stays open (and unread): a server that logs more never gets EPIPE. */
			*ret_port = atoi(p + 1);
			return pid;
		}
		len = 0;
	}
	close(out[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("%s did not report its port", argv[0]);
	return -1;
}

void t_server_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	track(pid, false);
}

/* A free loopback port: bind to 0, read it back, close. */
int t_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

