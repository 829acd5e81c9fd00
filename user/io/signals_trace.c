// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe signals`: a live trace of the kernel events pp_signals reports, one line each, in
 * the manner of libbpf-tools' exitsnoop and tcpstates. Without --all it follows what podprobe
 * tracks: the podprobe-<pid> cgroups of running daemons (found by walking the cgroup v2 tree
 * every second) and the ports their processes listen on (tracked when the LISTEN arrives, so
 * their accepts are counted from then on).
 */
#include "podprobe/signals.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/kubefmt.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"

#define RESCAN_PERIOD  PP_NSEC_PER_SEC
#define SCAN_MAX_DEPTH 6     /* cgroup levels searched for podprobe-<pid> directories */
#define SCAN_MAX_DIRS  20000 /* directories visited per scan, at most */
#define MAX_AUTO       256   /* cgroups and ports followed without --all */

struct followed_cgroup {
	uint64_t id;
	bool seen; /* found again by the latest scan */
};

struct trace {
	struct pp_loop *loop;
	struct pp_signals *sig;
	bool all;
	bool json;
	bool stop; /* SIGINT/SIGTERM received, or stdout failed */
	int sig_fd;
	struct signalfd_siginfo si;
	char cg2_mount[PATH_MAX]; /* "" when no cgroup2 mount */
	struct followed_cgroup cgroups[MAX_AUTO];
	size_t n_cgroups;
	uint16_t ports[MAX_AUTO]; /* tracked because a followed process listens there */
	size_t n_ports;
	unsigned int scanned; /* directories visited by the current scan */
};

/* ---- output --------------------------------------------------------------------------------- */

/* Local wall-clock "HH:MM:SS.mmm" of monotonic instant <ts>. */
static void fmt_time(pp_nsec ts, char *buf, size_t size)
{
	pp_nsec now = pp_clock_now(), wall;
	struct timespec rt;
	struct tm tm;
	time_t secs;

	clock_gettime(CLOCK_REALTIME, &rt);
	wall = (pp_nsec)rt.tv_sec * PP_NSEC_PER_SEC + (pp_nsec)rt.tv_nsec;
	wall = ts <= now ? wall - (now - ts) : wall + (ts - now);
	secs = (time_t)(wall / PP_NSEC_PER_SEC);
	localtime_r(&secs, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(wall % PP_NSEC_PER_SEC / PP_NSEC_PER_MSEC));
}

/* "127.0.0.1:8080" or "[::1]:8080". */
static void fmt_endpoint(const struct pp_ksig *k, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(k->family == AF_INET6 ? AF_INET6 : AF_INET, k->addr, a, sizeof(a));
	snprintf(buf, size, k->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, k->port);
}

static void fmt_signal(int sig, char *buf, size_t size)
{
	const char *name = pp_signal_name(sig);

	if (name)
		snprintf(buf, size, "SIG%s", name);
	else
		snprintf(buf, size, "signal %d", sig);
}

/* What an EXIT says about the process as a whole. */
static const char *exit_scope(const struct pp_ksig *k)
{
	if (k->leader && k->group_dead)
		return "";
	if (k->leader)
		return " (main thread; others run on)";
	if (k->group_dead)
		return " (last thread)";
	return " (thread)";
}

static void print_text(const struct pp_ksig *k)
{
	char when[32], pid[16] = "-", tgid[16] = "-", cg[24] = "-", port[8] = "-";
	char detail[192], ep[64], sig[24];

	fmt_time(k->ts, when, sizeof(when));
	if (k->pid)
		snprintf(pid, sizeof(pid), "%u", k->pid);
	if (k->tgid)
		snprintf(tgid, sizeof(tgid), "%u", k->tgid);
	if (k->cgroup_id)
		snprintf(cg, sizeof(cg), "%llu", (unsigned long long)k->cgroup_id);
	if (k->kind >= PP_KSIG_LISTEN)
		snprintf(port, sizeof(port), "%u", k->port);

	switch (k->kind) {
	case PP_KSIG_EXIT:
		if (k->signal) {
			fmt_signal(k->signal, sig, sizeof(sig));
			snprintf(detail, sizeof(detail), "killed by %s%s, ppid %u%s", sig,
				 k->core_dumped ? " (core dumped)" : "", k->ppid, exit_scope(k));
		} else {
			snprintf(detail, sizeof(detail), "exit code %d, ppid %u%s", k->exit_code,
				 k->ppid, exit_scope(k));
		}
		break;
	case PP_KSIG_OOM:
		if (k->uid != UINT32_MAX)
			snprintf(detail, sizeof(detail), "OOM killer chose it, uid %u", k->uid);
		else
			snprintf(detail, sizeof(detail), "OOM killer chose it");
		break;
	case PP_KSIG_LISTEN:
	case PP_KSIG_UNLISTEN:
		fmt_endpoint(k, ep, sizeof(ep));
		snprintf(detail, sizeof(detail), "%s backlog %u/%u cookie %llu", ep, k->backlog,
			 k->max_backlog, (unsigned long long)k->cookie);
		break;
	default:
		fmt_endpoint(k, ep, sizeof(ep));
		if (k->queue_known)
			snprintf(detail, sizeof(detail),
				 "%llu established so far, on %s, accept queue %u/%u, "
				 "listener accepted %llu of %llu",
				 (unsigned long long)k->accepts, ep, k->backlog, k->max_backlog,
				 (unsigned long long)k->accepted,
				 (unsigned long long)k->established);
		else
			snprintf(detail, sizeof(detail),
				 "%llu established so far, on %s, listener unknown",
				 (unsigned long long)k->accepts, ep);
		break;
	}
	printf("%-12s %-8s %7s %7s %-16s %-10s %5s %s\n", when, pp_ksig_kind_str(k->kind), pid,
	       tgid, k->comm[0] ? k->comm : "-", cg, port, detail);
}

static void jprintf(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void jprintf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

static void print_json(const struct pp_ksig *k)
{
	char buf[1024], when[48], ep[64], sig[24];
	size_t len = 0;

	pp_clock_rfc3339(k->ts, when, sizeof(when));
	jprintf(buf, sizeof(buf), &len, "{\"time\":\"%s\",\"kind\":\"%s\"", when,
		pp_ksig_kind_str(k->kind));
	if (k->pid)
		jprintf(buf, sizeof(buf), &len, ",\"pid\":%u", k->pid);
	if (k->tgid)
		jprintf(buf, sizeof(buf), &len, ",\"tgid\":%u", k->tgid);
	if (k->comm[0]) {
		jprintf(buf, sizeof(buf), &len, ",\"comm\":");
		if (len < sizeof(buf))
			pp_json_append_string(buf, sizeof(buf), &len, k->comm);
	}
	if (k->cgroup_id)
		jprintf(buf, sizeof(buf), &len, ",\"cgroup\":%llu",
			(unsigned long long)k->cgroup_id);
	switch (k->kind) {
	case PP_KSIG_EXIT:
		jprintf(buf, sizeof(buf), &len, ",\"ppid\":%u,\"leader\":%s,\"group_dead\":%s",
			k->ppid, k->leader ? "true" : "false", k->group_dead ? "true" : "false");
		if (k->signal) {
			fmt_signal(k->signal, sig, sizeof(sig));
			jprintf(buf, sizeof(buf), &len, ",\"signal\":\"%s\",\"core_dumped\":%s",
				sig, k->core_dumped ? "true" : "false");
		} else {
			jprintf(buf, sizeof(buf), &len, ",\"exit_code\":%d", k->exit_code);
		}
		break;
	case PP_KSIG_OOM:
		if (k->uid != UINT32_MAX)
			jprintf(buf, sizeof(buf), &len, ",\"uid\":%u", k->uid);
		break;
	default:
		fmt_endpoint(k, ep, sizeof(ep));
		jprintf(buf, sizeof(buf), &len,
			",\"port\":%u,\"local\":\"%s\",\"cookie\":%llu,\"backlog\":%u,"
			"\"max_backlog\":%u",
			k->port, ep, (unsigned long long)k->cookie, k->backlog, k->max_backlog);
		if (k->kind == PP_KSIG_ACCEPTS)
			jprintf(buf, sizeof(buf), &len, ",\"accepts\":%llu,\"queue_known\":%s",
				(unsigned long long)k->accepts, k->queue_known ? "true" : "false");
		if (k->kind != PP_KSIG_LISTEN)
			jprintf(buf, sizeof(buf), &len, ",\"established\":%llu",
				(unsigned long long)k->established);
		if (k->kind == PP_KSIG_ACCEPTS)
			jprintf(buf, sizeof(buf), &len, ",\"accepted\":%llu",
				(unsigned long long)k->accepted);
		break;
	}
	jprintf(buf, sizeof(buf), &len, "}");
	puts(buf);
}

/* ---- following podprobe's cgroups and ports ------------------------------------------------- */

static void follow_port(struct trace *t, uint16_t port, bool on)
{
	size_t i;

	for (i = 0; i < t->n_ports && t->ports[i] != port; i++)
		;
	if (on && i == t->n_ports && t->n_ports < MAX_AUTO &&
	    pp_signals_track_port(t->sig, port, true) == 0)
		t->ports[t->n_ports++] = port;
	else if (!on && i < t->n_ports && pp_signals_track_port(t->sig, port, false) == 0)
		t->ports[i] = t->ports[--t->n_ports];
}

static void on_event(void *ctx, const struct pp_ksig *k)
{
	struct trace *t = ctx;

	if (!t->all && k->kind == PP_KSIG_LISTEN)
		follow_port(t, k->port, true);
	else if (!t->all && k->kind == PP_KSIG_UNLISTEN)
		follow_port(t, k->port, false);
	if (t->json)
		print_json(k);
	else
		print_text(k);
	if (fflush(stdout) == EOF)
		t->stop = true;
}

static void follow_cgroup(struct trace *t, const char *path)
{
	uint64_t id;
	size_t i;

	if (pp_signals_cgroup_id(path, &id) < 0)
		return;
	for (i = 0; i < t->n_cgroups; i++) {
		if (t->cgroups[i].id == id) {
			t->cgroups[i].seen = true;
			return;
		}
	}
	if (t->n_cgroups == MAX_AUTO || pp_signals_track_cgroup(t->sig, id, true) < 0)
		return;
	t->cgroups[t->n_cgroups++] = (struct followed_cgroup){.id = id, .seen = true};
	pp_log(PP_LOG_DEBUG, "signals: following cgroup '%s' (id %llu)", path,
	       (unsigned long long)id);
}

/* Look for podprobe-<pid> directories below <dir> (not inside them: they are tracked whole). */
static void scan_dir(struct trace *t, const char *dir, int depth)
{
	struct dirent *e;
	char sub[PATH_MAX];
	DIR *d;

	if (depth > SCAN_MAX_DEPTH || t->scanned >= SCAN_MAX_DIRS)
		return;
	d = opendir(dir);
	if (!d)
		return;
	t->scanned++;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub))
			continue;
		if (!strncmp(e->d_name, "podprobe-", 9))
			follow_cgroup(t, sub);
		else
			scan_dir(t, sub, depth + 1);
	}
	closedir(d);
}

/* Track the podprobe cgroups that appeared since the last scan; forget the ones gone. */
static void rescan(struct trace *t)
{
	size_t i;

	if (!t->cg2_mount[0])
		return;
	for (i = 0; i < t->n_cgroups; i++)
		t->cgroups[i].seen = false;
	t->scanned = 0;
	scan_dir(t, t->cg2_mount, 0);
	for (i = 0; i < t->n_cgroups;) {
		if (t->cgroups[i].seen) {
			i++;
			continue;
		}
		pp_signals_track_cgroup(t->sig, t->cgroups[i].id, false);
		t->cgroups[i] = t->cgroups[--t->n_cgroups];
	}
}

/* The first cgroup2 mount point of /proc/self/mountinfo into <buf>; -ENOENT when none. */
static int find_cg2_mount(char *buf, size_t size)
{
	char line[4096], mnt[PATH_MAX], fstype[64];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		snprintf(buf, size, "%s", mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* ---- the command ---------------------------------------------------------------------------- */

static void on_signal(void *ctx, int res)
{
	struct trace *t = ctx;

	if (res == (int)sizeof(t->si) || res < 0) {
		t->stop = true;
		return;
	}
	pp_loop_read(t->loop, t->sig_fd, &t->si, sizeof(t->si), on_signal, t, NULL);
}

int pp_signals_trace(bool all, bool json, unsigned int duration_ms)
{
	struct trace t = {.all = all, .json = json, .sig_fd = -1};
	struct pp_signals_cfg cfg = {.trace_all = all, .fn = on_event, .ctx = &t};
	pp_nsec now = pp_clock_now(), deadline = PP_NSEC_INFINITY, next_scan;
	struct pp_signals_stats st;
	sigset_t set, old;
	int err, rc = EXIT_FAILURE;

	if (duration_ms)
		deadline = now + (pp_nsec)duration_ms * PP_NSEC_PER_MSEC;
	err = pp_loop_new(64, &t.loop);
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot create the io_uring loop");
		return EXIT_FAILURE;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0) {
		pp_log_errno(PP_LOG_ERR, -errno, "cannot block signals");
		goto out_loop;
	}
	t.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (t.sig_fd < 0) {
		pp_log_errno(PP_LOG_ERR, -errno, "cannot create a signalfd");
		goto out_mask;
	}
	err = pp_loop_read(t.loop, t.sig_fd, &t.si, sizeof(t.si), on_signal, &t, NULL);
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot read the signalfd");
		goto out_sigfd;
	}

	err = pp_signals_open(t.loop, &cfg, &t.sig);
	if (err < 0) {
		pp_log(PP_LOG_ERR, "cannot trace kernel events: %s", pp_signals_strerror(err));
		goto out_sigfd;
	}
	pp_log(PP_LOG_DEBUG, "signals: eBPF %s", pp_signals_mode(t.sig));
	if (!all) {
		if (find_cg2_mount(t.cg2_mount, sizeof(t.cg2_mount)) < 0)
			pp_log(PP_LOG_WARN, "no cgroup2 mount: podprobe's containers cannot be "
					    "followed (use --all), ignoring");
		rescan(&t);
		if (!t.n_cgroups)
			pp_log(PP_LOG_NOTICE, "no podprobe daemon found yet; waiting for one "
					      "(--all shows every process)");
	}
	if (!json)
		printf("%-12s %-8s %7s %7s %-16s %-10s %5s %s\n", "TIME", "KIND", "PID", "TGID",
		       "COMM", "CGROUP", "PORT", "DETAIL");
	fflush(stdout);

	next_scan = pp_clock_now() + RESCAN_PERIOD;
	while (!t.stop) {
		pp_nsec wake = all || deadline < next_scan ? deadline : next_scan;

		err = pp_loop_run_once(t.loop, wake);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "event loop failed");
			goto out_signals;
		}
		now = pp_clock_now();
		if (now >= deadline)
			break;
		if (!all && now >= next_scan) {
			rescan(&t);
			next_scan = now + RESCAN_PERIOD;
		}
	}
	rc = EXIT_SUCCESS;
	if (pp_signals_stats(t.sig, &st) == 0 && st.lost)
		pp_log(PP_LOG_WARN, "%llu events lost to a full ring buffer",
		       (unsigned long long)st.lost);

out_signals:
	pp_signals_close(t.sig);
out_sigfd:
	close(t.sig_fd);
out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
out_loop:
	pp_loop_free(t.loop);
	return rc;
}
