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
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/naming.h"
#include "podprobe/prober.h"

#define EVENT_CHUNK 64 /* events per chunk; chunks never move once allocated */
#define MAX_RES	    64 /* podprobe runs and servers alive at once */

/*
 * What the harness must be able to undo after a failed assertion, when the test's own
 * struct t_run is gone with its stack frame: the process it started, the temporary directory
 * and the events. Events live in fixed chunks, so a pointer t_wait_event() returned stays
 * valid while more are read (a realloc'd array moved them under the caller's feet).
 */
struct t_res {
	bool used;
	bool in_test;		 /* started inside a T_TEST test: t_teardown() undoes it */
	pid_t pid;		 /* process started (podprobe or a server), 0 = none or reaped */
	char cg_name[32];	 /* podprobe cgroup tree to remove (naming.h), "" = none */
	char state_dir[300];	 /* ...unless a live run still holds this directory's lock */
	char dir[256];		 /* temporary directory to remove, "" = none */
	struct t_event **chunks; /* events: chunk i holds events i*EVENT_CHUNK... */
	size_t n_chunks;
};

static struct t_res res_table[MAX_RES];
static bool in_test;
static pid_t harness_pid; /* the test program; a fork of it inherits the table, not the duty */

static void kill_tree(pid_t root);
static void remove_cgroups(const char *name);

/*
 * Is the state directory's lock held, by a run other than the one just killed (a test that
 * starts a second run on the first one's directory)? Its cgroups are that run's then.
 */
static bool lock_held(const char *state_dir)
{
	char path[400];
	bool held;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static void res_release(struct t_res *res)
{
	char cmd[400];

	if (res->pid > 0)
		kill_tree(res->pid);
	if (res->cg_name[0] && !lock_held(res->state_dir))
		remove_cgroups(res->cg_name);
	if (res->dir[0] && !getenv("T_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", res->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", res->dir);
	}
	for (size_t i = 0; i < res->n_chunks; i++)
		free(res->chunks[i]);
	free(res->chunks);
	memset(res, 0, sizeof(*res));
}

/* Kill every process left by a test program, descendants included, at its exit. */
static void release_all(void)
{
	if (getpid() != harness_pid)
		return;
	for (size_t i = 0; i < MAX_RES; i++)
		if (res_table[i].used)
			res_release(&res_table[i]);
	kill_tree(getpid());
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/*
 * Make the test a child subreaper (orphans of what it started stay its descendants, so they
 * can be found and killed) and register the exit clean-up; idempotent.
 */
static void harness_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	harness_pid = getpid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	atexit(release_all);
}

static struct t_res *res_new(void)
{
	harness_init();
	for (size_t i = 0; i < MAX_RES; i++)
		if (!res_table[i].used) {
			res_table[i].used = true;
			res_table[i].in_test = in_test;
			return &res_table[i];
		}
	fail_msg("more than %d podprobe runs and servers at once", MAX_RES);
	return NULL;
}

static struct t_res *res_of_pid(pid_t pid)
{
	for (size_t i = 0; i < MAX_RES; i++)
		if (res_table[i].used && res_table[i].pid == pid)
			return &res_table[i];
	return NULL;
}

int t_setup(void **state)
{
	harness_init();
	in_test = true;
	return 0;
}

int t_teardown(void **state)
{
	if (getpid() != harness_pid)
		return 0;
	for (size_t i = 0; i < MAX_RES; i++)
		if (res_table[i].used && res_table[i].in_test)
			res_release(&res_table[i]);
	in_test = false;
	return 0;
}

/* ---- process trees ------------------------------------------------------------------------ */

struct proc_entry {
	pid_t pid;
	pid_t ppid;
	char state;
};

/* Every process of the system with its parent; returns the count, *<ret> to free. */
static size_t scan_procs(struct proc_entry **ret)
{
	struct proc_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	*ret = NULL;
	if (!d)
		return 0;
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
		    sscanf(p + 2, "%c %d", &state, &ppid) == 2) {
			if (n == cap) {
				struct proc_entry *nv;

				cap = cap ? cap * 2 : 1024;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					fclose(f);
					break;
				}
				v = nv;
			}
			v[n++] = (struct proc_entry){atoi(e->d_name), ppid, state};
		}
		fclose(f);
	}
	closedir(d);
	*ret = v;
	return n;
}

/* Is <pid> a descendant of <root> (not <root> itself) in <v>? Bounded by the table size. */
static bool descends_from(const struct proc_entry *v, size_t n, pid_t pid, pid_t root)
{
	for (size_t hops = 0; hops < n && pid > 1; hops++) {
		pid_t parent = 0;

		for (size_t i = 0; i < n; i++)
			if (v[i].pid == pid) {
				parent = v[i].ppid;
				break;
			}
		if (parent == root)
			return true;
		pid = parent;
	}
	return false;
}

static bool in_set(const pid_t *set, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == pid)
			return true;
	return false;
}

/*
 * SIGKILL <root> (unless it is the test itself) and all its descendants, and reap those that
 * are or become children of the test. They are stopped first, rescanning until no new one
 * appears, so nothing forks its way out between the scan and the kill. Only the killed
 * processes are reaped: a test's own children stay its to wait for.
 */
static void kill_tree(pid_t root)
{
	pid_t self = getpid(), *killed = NULL;
	size_t n_killed = 0;
	uint64_t until;

	if (root != self && kill(root, SIGSTOP) < 0)
		return;
	for (int round = 0; round < 20; round++) {
		struct proc_entry *v;
		size_t n = scan_procs(&v);
		bool more = false;

		for (size_t i = 0; i < n; i++)
			if (v[i].state != 'Z' && v[i].state != 'T' &&
			    descends_from(v, n, v[i].pid, root)) {
				kill(v[i].pid, SIGSTOP);
				more = true;
			}
		if (!more || round == 19) {
			killed = calloc(n + 1, sizeof(*killed));
			for (size_t i = 0; killed && i < n; i++)
				if (v[i].state != 'Z' && descends_from(v, n, v[i].pid, root))
					killed[n_killed++] = v[i].pid;
			free(v);
			break;
		}
		free(v);
		poll(NULL, 0, 1); /* let the stops land before the next scan */
	}
	if (root != self && killed)
		killed[n_killed++] = root;
	for (size_t i = 0; i < n_killed; i++)
		kill(killed[i], SIGKILL);
	/* Reap ours; the others are reparented to the test (a subreaper) as their parents die. */
	until = t_now_ms() + 2000;
	while (n_killed && t_now_ms() < until) {
		struct proc_entry *v;
		size_t n = scan_procs(&v), left = 0;

		for (size_t i = 0; i < n; i++) {
			if (!in_set(killed, n_killed, v[i].pid))
				continue;
			if (v[i].ppid == self && waitpid(v[i].pid, NULL, WNOHANG) == v[i].pid)
				continue;
			left++;
		}
		free(v);
		if (!left)
			break;
		poll(NULL, 0, 5);
	}
	free(killed);
}

int t_count_descendants(const char *cmdline)
{
	struct proc_entry *v;
	size_t n = scan_procs(&v);
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		char path[64], buf[4096];
		size_t len;
		FILE *f;

		if (v[i].state == 'Z' || !descends_from(v, n, v[i].pid, getpid()))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)v[i].pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		while (len && buf[len - 1] == '\0')
			len--;
		for (size_t j = 0; j < len; j++)
			if (buf[j] == '\0')
				buf[j] = ' ';
		buf[len] = '\0';
		count += !strcmp(buf, cmdline);
	}
	free(v);
	return count;
}

/* ---- cgroups podprobe left ----------------------------------------------------------------- */

/*
 * Our own cgroup directory in the v2 hierarchy (<want> "") or the v1 memory one ("memory"):
 * podprobe makes its tree "podprobe-<id>" there (naming.h; README, "How manifests map to
 * processes").
 */
static int own_cgroup(const char *want, char *buf, size_t size)
{
	char line[4096], cg[PATH_MAX] = "", mnt[PATH_MAX] = "";
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *path;

		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		*ctrl++ = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (*want ? strstr(ctrl, want) && strcmp(line, "0")
			  : !strcmp(line, "0") && !*ctrl) {
			snprintf(cg, sizeof(cg), "%s", path);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024],
			*sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, m) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (*want ? !strcmp(fstype, "cgroup") && strstr(opts, want)
			  : !strcmp(fstype, "cgroup2")) {
			/* The path is relative to the hierarchy's root; the mount may show less. */
			size_t rl = strlen(root);

			snprintf(mnt, sizeof(mnt), "%s%s", m,
				 strcmp(root, "/") && !strncmp(cg, root, rl) ? cg + rl : cg);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	snprintf(buf, size, "%s", mnt);
	return 0;
}

/* rmdir <dir> and every directory below it, children first. */
static void rm_cgroup_dirs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		rm_cgroup_dirs(sub);
	}
	closedir(d);
	rmdir(dir);
}

/* Kill what is left in the podprobe cgroup tree <name> (its run is gone now) and remove it. */
static void remove_cgroups(const char *name)
{
	static const char *const hier[] = {"", "memory"};

	for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		char own[PATH_MAX], dir[PATH_MAX + 32], kill_file[PATH_MAX + 64];
		uint64_t until = t_now_ms() + 1000;
		int fd;

		if (own_cgroup(hier[i], own, sizeof(own)) < 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", own, name);
		if (access(dir, F_OK) != 0)
			continue;
		snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", dir);
		fd = open(kill_file, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				fprintf(stderr, "cannot kill cgroup %s\n", dir);
			close(fd);
		}
		/* A killed process leaves its cgroup a moment after the signal. */
		while (rm_cgroup_dirs(dir), access(dir, F_OK) == 0 && t_now_ms() < until)
			poll(NULL, 0, 10);
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
	r->res = res_new();
	snprintf(r->dir, sizeof(r->dir), "/tmp/podprobe-integ-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->res->dir, sizeof(r->res->dir), "%s", r->dir);
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

/*
 * The cgroup tree podprobe names after its state directory's real path (naming.h); the
 * directory may not exist yet: it is <dir>/state then.
 */
static void cgroup_name(struct t_run *r)
{
	char real[PATH_MAX], state[PATH_MAX + 16];

	if (realpath(r->state_dir, real))
		snprintf(state, sizeof(state), "%s", real);
	else
		snprintf(state, sizeof(state), "%s/state", realpath(r->dir, real) ? real : r->dir);
	pp_cgroup_root_name(state, r->res->cg_name, sizeof(r->res->cg_name));
	snprintf(r->res->state_dir, sizeof(r->res->state_dir), "%s", r->state_dir);
}

/*
 * Fork and exec <argv> as <r>'s podprobe, its stdout and stderr piped, PATH set to <path_env>
 * when not NULL: in its own process group, and a test that dies (or fails an assertion and
 * exits) takes it with it; with r->keep_caps, the other capabilities dropped.
 */
static void spawn(struct t_run *r, const char *const *argv, const char *path_env)
{
	int out[2], err[2];

	/* Again on the same <r> (a restart on the same state directory): a new process. */
	if (r->out_fd >= 0)
		close(r->out_fd);
	if (r->err_fd >= 0)
		close(r->err_fd);
	r->out_fd = r->err_fd = -1;
	r->status = -1;
	r->len = 0;
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setpgid(0, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (path_env)
			setenv("PATH", path_env, 1);
		/* Root's permitted set after exec is its bounding set (capabilities(7)). */
		for (int cap = 0; r->keep_caps && cap < 64; cap++)
			if (!(r->keep_caps & (1ull << cap)) &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
				_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	r->res->pid = r->pid;
	r->out_fd = out[0];
	r->err_fd = err[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
}

void t_run_start(struct t_run *r, const char *const *args)
{
	const char *argv[64];
	char state_arg[400], path_env[8192], tools[PATH_MAX];
	size_t n = 0;
	const char *o = getenv("O");

	argv[n++] = t_podprobe();
	argv[n++] = "run";
	argv[n++] = "--events=json";
	argv[n++] = "--table=never";
	/* No API unless the test asks (a later --api-addr wins): runs end with their pods. */
	argv[n++] = "--api-addr=none";
	snprintf(state_arg, sizeof(state_arg), "--state-dir=%s", r->state_dir);
	argv[n++] = state_arg;
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	if (!realpath(o && *o ? o : "build", tools))
		snprintf(tools, sizeof(tools), "build");
	snprintf(path_env, sizeof(path_env), "%s/tools:%s", tools,
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	spawn(r, argv, path_env);
	cgroup_name(r);
}

void t_watch_start(struct t_run *r, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = t_podprobe();
	argv[n++] = "watch";
	argv[n++] = "--events=json";
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	spawn(r, argv, NULL);
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

/* Room for one more event, at an address that never changes. */
static struct t_event *new_event(struct t_run *r)
{
	struct t_res *res = r->res;
	size_t chunk = r->n_events / EVENT_CHUNK;

	if (chunk == res->n_chunks) {
		struct t_event **v = realloc(res->chunks, (chunk + 1) * sizeof(*v));

		assert_non_null(v);
		res->chunks = v;
		res->chunks[chunk] = calloc(EVENT_CHUNK, sizeof(struct t_event));
		assert_non_null(res->chunks[chunk]);
		res->n_chunks++;
	}
	return &res->chunks[chunk][r->n_events++ % EVENT_CHUNK];
}

const struct t_event *t_event_at(const struct t_run *r, size_t i)
{
	assert_true(i < r->n_events);
	return &r->res->chunks[i / EVENT_CHUNK][i % EVENT_CHUNK];
}

static void parse_lines(struct t_run *r)
{
	char *nl;

	while ((nl = memchr(r->buf, '\n', r->len))) {
		struct t_event *ev;
		size_t line_len = (size_t)(nl - r->buf);

		*nl = '\0';
		if (r->buf[0] == '{') {
			ev = new_event(r);
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
	struct pollfd pfd[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
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
			if (matches(t_event_at(r, i), reason, container) && seen++ == skip)
				return t_event_at(r, i);
		if (t_now_ms() >= until || !pump(r, (int)(until - t_now_ms())))
			break;
	}
	for (; i < r->n_events; i++)
		if (matches(t_event_at(r, i), reason, container) && seen++ == skip)
			return t_event_at(r, i);
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

	for (size_t i = 0; i < r->n_events; i++) {
		const struct t_event *e = t_event_at(r, i);

		n += (!reason || !strcmp(e->reason, reason)) &&
		     (!container || !strcmp(e->container, container));
	}
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
			r->res->pid = 0; /* reaped: its pid may be reused, never signal it again */
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
	if (r->out_fd >= 0)
		close(r->out_fd);
	if (r->err_fd >= 0)
		close(r->err_fd);
	if (r->res)
		res_release(r->res);
	memset(r, 0, sizeof(*r));
	r->out_fd = r->err_fd = -1;
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
	struct proc_entry *v;
	size_t n = scan_procs(&v);
	int zombies = 0;

	for (size_t i = 0; i < n; i++)
		zombies += v[i].ppid == pid && v[i].state == 'Z';
	free(v);
	return zombies;
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
	struct t_res *res;
	pid_t pid;

	if (access(path, X_OK) != 0) {
		print_message("skip: %s is not built\n", path);
		skip();
	}
	res = res_new();
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setpgid(0, 0);
		dup2(out[1], 1);
		if (!getenv("T_VERBOSE") && null_fd >= 0)
			dup2(null_fd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	res->pid = pid;
	/* Read byte by byte up to the first "listening on" line, so nothing past it is lost. */
	while (t_now_ms() < until && len + 1 < sizeof(line)) {
		struct pollfd pfd = {out[0], POLLIN, 0};
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
			/* The pipe stays open (and unread): a server that logs more never gets
			 * EPIPE. */
			*ret_port = atoi(p + 1);
			return pid;
		}
		len = 0;
	}
	close(out[0]);
	res_release(res);
	fail_msg("%s did not report its port", argv[0]);
	return -1;
}

void t_server_stop(pid_t pid)
{
	struct t_res *res = res_of_pid(pid);

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (res) {
		res->pid = 0;
		res_release(res);
	}
}

/* A free loopback port: bind to 0, read it back, close. */
int t_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

const char *t_copy_example(struct t_run *r, const char *name, const char *const *from,
			   const char *const *to, size_t n)
{
	char src[PATH_MAX], text[65536], *out = NULL;
	size_t len, out_len = 0;
	FILE *in, *mem;

	snprintf(src, sizeof(src), "examples/%s", name);
	in = fopen(src, "re");
	if (!in) {
		print_message("skip: %s not found (tests run from the top of the tree)\n", src);
		skip();
	}
	len = fread(text, 1, sizeof(text) - 1, in);
	assert_true(feof(in));
	fclose(in);
	text[len] = '\0';
	mem = open_memstream(&out, &out_len);
	assert_non_null(mem);
	for (const char *p = text; *p;) {
		size_t i;

		for (i = 0; i < n && strncmp(p, from[i], strlen(from[i])); i++)
			;
		if (i < n) {
			fputs(to[i], mem);
			p += strlen(from[i]);
		} else {
			fputc(*p++, mem);
		}
	}
	assert_int_equal(fclose(mem), 0);
	name = t_write_manifest(r, name, out);
	free(out);
	return name;
}

void t_eng_new(struct t_eng *e, bool raw_syn)
{
	assert_int_equal(pp_loop_new(1024, &e->loop), 0);
	assert_int_equal(pp_prober_new(e->loop, &e->pr), 0);
	pp_prober_set_raw_syn(e->pr, raw_syn);
}

void t_eng_free(struct t_eng *e)
{
	pp_prober_free(e->pr);
	pp_loop_free(e->loop);
}

void t_eng_wait(struct t_eng *e, const unsigned int *done, unsigned int n)
{
	uint64_t until = t_now_ms() + 10000;

	while (*done < n && t_now_ms() < until) {
		assert_true(pp_loop_run_once(e->loop, pp_prober_next_deadline(e->pr)) >= 0);
		pp_prober_run_expired(e->pr, pp_clock_now());
	}
	assert_int_equal(*done, n);
}

int t_min_fds(pid_t pid, int ms)
{
	uint64_t until = t_now_ms() + (uint64_t)ms;
	int min = t_count_fds(pid);

	while (t_now_ms() < until) {
		int n = t_count_fds(pid);

		if (n < min)
			min = n;
		poll(NULL, 0, 10);
	}
	return min;
}

int t_tcp_listener(int backlog, int *ret_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

int t_tcp_blackhole(int *ret_port, int *ret_conn)
{
	int lfd = t_tcp_listener(0, ret_port), c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)*ret_port)};

	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*ret_conn = c;
	return lfd;
}

void t_tally_done(void *ctx, const struct pp_probe_report *rep)
{
	struct t_tally *t = ctx;

	t->done++;
	t->n[rep->result]++;
	snprintf(t->msg, sizeof(t->msg), "%.500s", rep->message);
}
