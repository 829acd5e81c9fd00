// SPDX-License-Identifier: Apache-2.0
/*
 * What a process podprobe starts runs as: securityContext applied by the runtime between
 * clone and exec (uid, gid, groups, capability sets, no_new_privs), seen from the process's
 * own /proc/self/status; log files and volumes the container's user can write; the
 * open-file limit (podprobe's raised, the process's as it was). Most cases need root.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/pod.h"
#include "podprobe/runtime.h"
#include "podprobe/security.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("skip: changing uid, groups and capabilities needs root\n");
		skip();
	}
}

/* The value of "<key>:" in a /proc/PID/status text, tabs turned into spaces. */
static const char *status_field(const char *status, const char *key)
{
	static char val[256];
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\n%s:", key);
	p = strstr(status, pat);
	if (!p)
		return "";
	for (p += strlen(pat); *p == '\t' || *p == ' '; p++)
		;
	while (p[n] && p[n] != '\n' && n + 1 < sizeof(val)) {
		val[n] = p[n] == '\t' ? ' ' : p[n];
		n++;
	}
	while (n && val[n - 1] == ' ')
		n--;
	val[n] = '\0';
	return val;
}

/* The host's bounding set: what "every capability" can be here. */
static uint64_t host_bounding(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf + 1, sizeof(buf) - 2);
	close(fd);
	assert_true(n > 0);
	buf[0] = '\n';
	buf[n + 1] = '\0';
	return strtoull(status_field(buf, "CapBnd"), NULL, 16);
}

/*
 * Run `cat /proc/self/status` through pp_proc_spawn() with <sec>; returns the text (with a
 * leading newline, for status_field()).
 */
static const char *spawn_status(const struct pp_exec_security *sec)
{
	static char out[8192];
	char *const argv[] = {"cat", "/proc/self/status", NULL};
	struct pp_exec_spec x;
	char err[512] = "";
	int p[2], pidfd = -1;
	siginfo_t si = {0};
	size_t len = 1;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	x = (struct pp_exec_spec){
		.argv = argv,
		.stdout_fd = p[1],
		.stderr_fd = p[1],
		.mnt_ns_fd = -1,
		.sec = sec,
	};
	if (pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err)) < 0)
		fail_msg("spawn failed: %s", err);
	close(p[1]);
	out[0] = '\n';
	while (len + 1 < sizeof(out) && (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
	close(pidfd);
	assert_int_equal(si.si_status, 0);
	return out;
}

static uint64_t cap_field(const char *status, const char *key)
{
	return strtoull(status_field(status, key), NULL, 16);
}

static void test_runtime_applies_uid_groups_and_drops_capabilities(void **state)
{
	struct pp_exec_security sec = {
		.set_ids = true,
		.uid = 1000,
		.gid = 1000,
		.n_groups = 2,
		.groups = {2000, 3000},
		.set_caps = true,
		.caps = PP_CAPS_DEFAULT,
		.no_new_privs = true,
		.fs_group = -1,
	};
	const char *st;

	need_root();
	st = spawn_status(&sec);
	assert_string_equal(status_field(st, "Uid"), "1000 1000 1000 1000");
	assert_string_equal(status_field(st, "Gid"), "1000 1000 1000 1000");
	assert_string_equal(status_field(st, "Groups"), "2000 3000");
	/* As containerd and moby: a non-root process keeps no capabilities, only the bounding
	 * set (the defaults, 00000000a80425fb as in `docker run`) limits what it could gain. */
	assert_int_equal(cap_field(st, "CapEff"), 0);
	assert_int_equal(cap_field(st, "CapPrm"), 0);
	assert_int_equal(cap_field(st, "CapInh"), 0);
	assert_int_equal(cap_field(st, "CapAmb"), 0);
	assert_int_equal(cap_field(st, "CapBnd"), PP_CAPS_DEFAULT & host_bounding());
	assert_int_equal(cap_field(st, "CapBnd"), 0xa80425fbull);
	assert_string_equal(status_field(st, "NoNewPrivs"), "1");
}

static void test_root_keeps_only_the_resolved_capabilities(void **state)
{
	struct pp_exec_security sec = {.set_caps = true, .fs_group = -1};
	const char *st;

	need_root();
	/* Nothing said: containerd's defaults, effective for uid 0. */
	sec.caps = PP_CAPS_DEFAULT;
	st = spawn_status(&sec);
	assert_string_equal(status_field(st, "Uid"), "0 0 0 0");
	assert_int_equal(cap_field(st, "CapEff"), 0xa80425fbull);
	assert_int_equal(cap_field(st, "CapBnd"), 0xa80425fbull);
	assert_string_equal(status_field(st, "NoNewPrivs"), "0");

	/* drop: [ALL], add: [NET_BIND_SERVICE]. */
	sec.caps = PP_CAP_BIT(PP_CAP_NET_BIND_SERVICE);
	st = spawn_status(&sec);
	assert_int_equal(cap_field(st, "CapEff"), 0x400);
	assert_int_equal(cap_field(st, "CapBnd"), 0x400);
	assert_int_equal(cap_field(st, "CapInh"), 0);

	/* privileged / add: [ALL]: everything the host has. */
	sec.caps = PP_CAPS_ALL;
	st = spawn_status(&sec);
	assert_int_equal(cap_field(st, "CapEff"), host_bounding());
	assert_int_equal(cap_field(st, "CapBnd"), host_bounding());

	/* No sec: podprobe's own (what probes and hooks got before securityContext). */
	st = spawn_status(NULL);
	assert_int_equal(cap_field(st, "CapBnd"), host_bounding());
}

static void test_failed_identity_change_is_a_clear_start_error(void **state)
{
	char *const argv[] = {"true", NULL};
	struct pp_exec_security sec = {.set_ids = true, .uid = 1000, .gid = 1000, .fs_group = -1};
	struct pp_exec_spec x = {.argv = argv, .stdout_fd = 1, .stderr_fd = 2, .mnt_ns_fd = -1};
	char err[512] = "";
	pid_t pid;
	int pidfd;

	if (geteuid() == 0) {
		/* As root every change works; what fails is the chdir as that user. */
		struct t_run r;

		t_run_init(&r); /* its directory is 0700 root: not for uid 1000 */
		x.working_dir = r.dir;
		x.sec = &sec;
		assert_int_equal(pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, "chdir to workingDir \""));
		assert_non_null(strstr(err, "\" failed: Permission denied"));
		t_run_cleanup(&r);
		return;
	}
	x.sec = &sec;
	assert_true(pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "(securityContext)"));
}

/* Wait for <p>'s main process and collect it. */
static void reap(struct pp_runtime *rt, struct pp_proc *p, struct pp_exit_info *ex)
{
	struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(pp_runtime_reap(rt, p, ex), 0);
}

static void test_log_and_volume_are_writable_by_the_container_user(void **state)
{
	char state_dir[300], vol_dir[PATH_MAX], src[PATH_MAX + 16], mnt[300], log_path[PATH_MAX],
	     cmd[1024], buf[PATH_MAX + 64];
	char *vols[] = {"data"};
	char *argv[] = {"sh", "-c", cmd, NULL};
	struct pp_exec_security sec = {
		.set_ids = true,
		.uid = 1000,
		.gid = 1000,
		.n_groups = 1,
		.groups = {2000},
		.set_caps = true,
		.caps = PP_CAPS_DEFAULT,
		.fs_group = 2000,
	};
	struct pp_runtime rt;
	struct pp_mount_req m;
	struct pp_spawn_req req;
	struct pp_proc p = {.pid = -1, .pidfd = -1};
	struct pp_exit_info ex;
	struct stat st;
	struct t_run r;
	char err[512] = "";
	int fd;
	ssize_t n;

	need_root();
	t_run_init(&r); /* for its temporary directory */
	assert_int_equal(chmod(r.dir, 0755), 0); /* uid 1000 reaches the mount point */
	snprintf(state_dir, sizeof(state_dir), "%s/state", r.dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	assert_int_equal(pp_runtime_init(&rt, state_dir, false), 0);
	assert_int_equal(pp_runtime_prepare_pod(&rt, "default_p", vols, 1, vol_dir,
						sizeof(vol_dir)),
			 0);
	snprintf(src, sizeof(src), "%s/data", vol_dir);
	m = (struct pp_mount_req){.source = src, .target = mnt};
	/* Write to the volume, then reopen its own output by name (as /dev/stdout users do). */
	snprintf(cmd, sizeof(cmd),
		 "id -u; touch %s/made && echo volume-ok; echo reopened >> /proc/self/fd/1", mnt);
	req = (struct pp_spawn_req){
		.pod_key = "default_p",
		.container = "app",
		.argv = argv,
		.mounts = &m,
		.n_mounts = 1,
		.sec = &sec,
	};
	if (pp_runtime_spawn(&rt, &req, &p, err, sizeof(err)) < 0)
		fail_msg("spawn failed: %s", err);
	reap(&rt, &p, &ex);
	assert_int_equal(ex.code, 0);

	assert_int_equal(pp_runtime_log_path(state_dir, "default_p", "app", 0, log_path,
					     sizeof(log_path)),
			 0);
	assert_int_equal(stat(log_path, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	fd = open(log_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "1000\nvolume-ok\nreopened\n");
	/* fsGroup: the volume is the group's, setgid, so what the container makes is too. */
	assert_int_equal(stat(src, &st), 0);
	assert_int_equal(st.st_gid, 2000);
	assert_true(st.st_mode & S_ISGID);
	snprintf(buf, sizeof(buf), "%s/made", src);
	assert_int_equal(stat(buf, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 2000);

	pp_runtime_fini(&rt);
	t_run_cleanup(&r);
}

static void test_fd_exhaustion_says_so(void **state)
{
	char *const argv[] = {"true", NULL};
	struct pp_exec_spec x = {.argv = argv, .stdout_fd = 1, .stderr_fd = 2, .mnt_ns_fd = -1};
	struct rlimit old, low;
	char err[512] = "";
	pid_t pid;
	int pidfd, rc, fd;

	/* Leave no fd free: the next one (the spawn's pipe) fails with EMFILE. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	low = (struct rlimit){.rlim_cur = (rlim_t)fd, .rlim_max = old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = pp_proc_spawn(&x, &pid, &pidfd, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(rc, -EMFILE);
	assert_non_null(strstr(err, "Too many open files (podprobe is out of file descriptors: its "
				    "limit is "));
	assert_non_null(strstr(err, "raise it with ulimit -n or LimitNOFILE=)"));
}

static void test_many_pods_start_under_a_low_soft_limit(void **state)
{
	struct t_run r;
	struct rlimit old, low;
	char *yaml, cmd[512], out[64];
	size_t cap = 256 * 1024, len = 0;
	int pods = 100;

	/* A soft limit well below what 100 pods need (each holds a pidfd in podprobe). */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	if (old.rlim_max < 1024) {
		print_message("skip: hard RLIMIT_NOFILE %llu is too low to raise to\n",
			      (unsigned long long)old.rlim_max);
		skip();
	}
	yaml = malloc(cap);
	assert_non_null(yaml);
	len += (size_t)snprintf(yaml + len, cap - len,
				"apiVersion: v1\nkind: Pod\nmetadata: {name: limits}\n"
				"spec:\n  restartPolicy: Never\n  containers:\n"
				"  - {name: app, image: busybox, command: [sh, -c, 'ulimit -Sn']}\n");
	for (int i = 0; i < pods; i++)
		len += (size_t)snprintf(yaml + len, cap - len,
					"---\napiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\n"
					"spec:\n  containers:\n"
					"  - {name: app, image: busybox, command: [sleep, '30']}\n",
					i);
	t_run_init(&r);
	low = (struct rlimit){.rlim_cur = 64, .rlim_max = old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	t_run_start(&r, (const char *const[]){"--no-bpf", t_write_manifest(&r, "fleet.yaml", yaml),
					      NULL});
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	free(yaml);
	/* Every sleep starts (podprobe raised its own limit) ... */
	assert_non_null(t_wait_event(&r, "Started", "app", (unsigned int)pods, 20000));
	t_drain(&r, 200);
	assert_int_equal(t_count_events(&r, "Started", "app"), pods + 1);
	assert_int_equal(t_count_events(&r, "Failed", NULL), 0);
	/* ... and the processes got the limit podprobe was started with. */
	snprintf(cmd, sizeof(cmd), "%s logs --state-dir=%s limits", t_podprobe(), r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "64\n");
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 15000);
	t_run_cleanup(&r);
}

/* ---- end to end through `podprobe run` ------------------------------------------------------ */

static void test_pod_runs_as_its_security_context(void **state)
{
	struct t_run r;
	char cmd[512], out[4096], mark[300], yaml[2048];
	const char *st;

	need_root();
	t_run_init(&r);
	snprintf(mark, sizeof(mark), "%s/hook", r.dir);
	assert_int_equal(chmod(r.dir, 0777), 0);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: sec}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  securityContext: {runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [2000],"
		 " runAsNonRoot: true}\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'cat /proc/self/status; sleep 1']\n"
		 "    securityContext:\n"
		 "      allowPrivilegeEscalation: false\n"
		 "      capabilities: {drop: [ALL]}\n"
		 "    readinessProbe:\n"
		 "      exec: {command: [sh, -c, 'test $(id -u) = 1000']}\n"
		 "      periodSeconds: 1\n"
		 "    lifecycle:\n"
		 "      postStart: {exec: {command: [sh, -c, 'id -u > %s']}}\n",
		 mark);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "sec.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 10000));
	assert_int_equal(t_count_events(&r, "Unhealthy", NULL), 0);
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	snprintf(cmd, sizeof(cmd), "%s logs --state-dir=%s sec", t_podprobe(), r.state_dir);
	assert_int_equal(t_system(cmd, out + 1, sizeof(out) - 1), 0);
	out[0] = '\n';
	st = out;
	assert_string_equal(status_field(st, "Uid"), "1000 1000 1000 1000");
	assert_string_equal(status_field(st, "Groups"), "2000");
	assert_int_equal(cap_field(st, "CapBnd"), 0);
	assert_string_equal(status_field(st, "NoNewPrivs"), "1");
	t_wait_file(mark, 1000);
	snprintf(cmd, sizeof(cmd), "cat %s", mark);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "1000\n");
	t_run_cleanup(&r);
}

static void test_run_as_non_root_without_user_is_a_config_error(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: nonroot, uid: 1234-5678}\n"
				   "spec:\n"
				   "  securityContext: {runAsNonRoot: true}\n"
				   "  containers:\n"
				   "  - {name: app, image: busybox, command: [sleep, '30']}\n";

	need_root();
	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "n.yaml", yaml), NULL});
	ev = t_wait_event(&r, "Failed", "app", 0, 5000);
	assert_string_equal(ev->type, "Warning");
	assert_string_equal(ev->message, "Error: container has runAsNonRoot and image will run as "
					 "root (pod: \"nonroot_default(1234-5678)\", container: "
					 "app)");
	/* Never created, never started. */
	t_drain(&r, 300);
	assert_int_equal(t_count_events(&r, "Created", "app"), 0);
	assert_int_equal(t_count_events(&r, "Started", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_runtime_applies_uid_groups_and_drops_capabilities),
		T_TEST(test_root_keeps_only_the_resolved_capabilities),
		T_TEST(test_failed_identity_change_is_a_clear_start_error),
		T_TEST(test_log_and_volume_are_writable_by_the_container_user),
		T_TEST(test_fd_exhaustion_says_so),
		T_TEST(test_many_pods_start_under_a_low_soft_limit),
		T_TEST(test_pod_runs_as_its_security_context),
		T_TEST(test_run_as_non_root_without_user_is_a_config_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
