// SPDX-License-Identifier: Apache-2.0
/*
 * End to end: the real podprobe binary runs pods built from /bin/sh commands and the test
 * reads its JSON events. Ports and paths are private to each test; traffic stays on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/naming.h"

static int t_listen(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void test_init_container_waits_for_port_before_main_starts(void **state)
{
	struct t_run r;
	char yaml[2048];
	const struct t_event *init_started, *main_started;
	int port = t_free_port(), lfd;
	uint64_t opened;

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata:\n"
		 "  name: web\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  initContainers:\n"
		 "  - name: wait-db\n"
		 "    image: busybox:1.36\n"
		 "    command: [bash, -c, 'until echo > /dev/tcp/127.0.0.1/%d; do sleep 0.05; "
		 "done']\n"
		 "  containers:\n"
		 "  - name: web\n"
		 "    image: busybox:1.36\n"
		 "    command: [sh, -c, 'echo web up']\n",
		 port);
	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "web.yaml", yaml), NULL});
	init_started = t_wait_event(&r, "Started", "wait-db", 0, 5000);
	assert_non_null(init_started);
	/* The port stays closed: the main container must not start meanwhile. */
	t_drain(&r, 500);
	assert_int_equal(t_count_events(&r, "Started", "web"), 0);
	lfd = t_listen(port);
	opened = t_now_ms();
	main_started = t_wait_event(&r, "Started", "web", 0, 5000);
	assert_true(main_started->at_ms >= opened);
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	close(lfd);
	t_run_cleanup(&r);
}

static void test_init_container_creates_directory_main_reads(void **state)
{
	struct t_run r;
	char yaml[2048], cmd[1024], out[256];

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: data}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  initContainers:\n"
		 "  - name: init-data\n"
		 "    image: busybox:1.36\n"
		 "    command: [sh, -c, 'mkdir -p $(DIR)/content && echo hello > "
		 "$(DIR)/content/index.txt']\n"
		 "    env: [{name: DIR, value: '%s/shared'}]\n"
		 "  containers:\n"
		 "  - name: reader\n"
		 "    image: busybox:1.36\n"
		 "    command: [cat, '%s/shared/content/index.txt']\n",
		 r.dir, r.dir);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "data.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	/* The main container's output is in its log (podprobe logs). */
	snprintf(cmd, sizeof(cmd), "%s logs --state-dir=%s data -c reader", t_podprobe(),
		 r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "hello\n");
	t_run_cleanup(&r);
}

static void test_empty_dir_volume_is_shared_between_init_and_main(void **state)
{
	struct t_run r;
	char yaml[2048], mnt[300];

	if (geteuid() != 0) {
		print_message("skip: volumeMounts need root (bind mounts)\n");
		skip();
	}
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt/data", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: vol}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes: [{name: data, emptyDir: {}}]\n"
		 "  initContainers:\n"
		 "  - name: writer\n"
		 "    image: busybox:1.36\n"
		 "    command: [sh, -c, 'echo shared > %s/f']\n"
		 "    volumeMounts: [{name: data, mountPath: '%s'}]\n"
		 "  containers:\n"
		 "  - name: reader\n"
		 "    image: busybox:1.36\n"
		 "    command: [sh, -c, 'test \"$(cat %s/f)\" = shared']\n"
		 "    volumeMounts: [{name: data, mountPath: '%s', readOnly: true}]\n",
		 mnt, mnt, mnt, mnt);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "vol.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

static void test_failing_init_under_never_fails_pod_and_skips_main(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] =
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: broken}\n"
		"spec:\n"
		"  restartPolicy: Never\n"
		"  initContainers:\n"
		"  - {name: check, image: busybox, command: [sh, -c, 'exit 3']}\n"
		"  containers:\n"
		"  - {name: app, image: busybox, command: [sh, -c, 'echo never']}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "b.yaml", yaml), NULL});
	ev = t_wait_event(&r, "Terminated", "check", 0, 5000);
	assert_string_equal(ev->type, "Warning");
	assert_non_null(strstr(ev->message, "exit code 3"));
	ev = t_wait_event(&r, "PodFailed", "", 0, 5000);
	assert_non_null(strstr(ev->message, "init container check"));
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	assert_int_equal(t_count_events(&r, "Created", "app"), 0);
	assert_int_equal(t_count_events(&r, "Started", "app"), 0);
	t_run_cleanup(&r);
}

/*
 * Open fds of <pid> during the 150 ms after a BackOff event (no process runs then): the
 * minimum, since the exited instance's pidfd may still be closing when the event comes.
 */
static int min_fds(pid_t pid)
{
	return t_min_fds(pid, 150);
}

static void test_crashing_container_restarts_with_growing_backoff(void **state)
{
	struct t_run r;
	uint64_t at[6];
	int fds_early = 0, fds_late;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: crash}\n"
				   "spec:\n"
				   "  restartPolicy: Always\n"
				   "  terminationGracePeriodSeconds: 1\n"
				   "  containers:\n"
				   "  - {name: app, image: busybox, command: [sh, -c, 'exit 1']}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){"--backoff-base=200ms", "--backoff-max=2s",
					      t_write_manifest(&r, "c.yaml", yaml), NULL});
	for (unsigned int i = 0; i < 6; i++) {
		at[i] = t_wait_event(&r, "Started", "app", i, 10000)->at_ms;
		/* Right after a BackOff event no process runs for >= 200 ms: a stable point. */
		if (i == 2) {
			t_wait_event(&r, "BackOff", "app", 1, 5000);
			fds_early = min_fds(r.pid);
		}
	}
	/* Starts: immediate, then 200, 400, 800, 1600 ms after each exit (R.4, scaled). */
	assert_true(at[1] - at[0] < 150);
	for (unsigned int i = 2; i < 6; i++) {
		uint64_t want = 200u << (i - 2);

		if (at[i] - at[i - 1] < want * 9 / 10 || at[i] - at[i - 1] > want + 500)
			fail_msg("restart %u came %llu ms after the previous, want about %llu", i,
				 (unsigned long long)(at[i] - at[i - 1]), (unsigned long long)want);
	}
	assert_true(t_count_events(&r, "BackOff", "app") >= 4);
	/* No fd leaks and no zombies across restarts. */
	t_wait_event(&r, "BackOff", "app", 4, 5000);
	fds_late = min_fds(r.pid);
	assert_int_equal(fds_late, fds_early);
	assert_int_equal(t_count_zombie_children(r.pid), 0);
	t_run_signal(&r, SIGTERM);
	assert_non_null(t_wait_event(&r, "PodFailed", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

static void test_sigterm_stops_pods_gracefully(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: graceful}\n"
				   "spec:\n"
				   "  terminationGracePeriodSeconds: 10\n"
				   "  containers:\n"
				   "  - name: app\n"
				   "    image: busybox\n"
				   "    command: [sh, -c, 'trap \"echo bye; exit 0\" TERM; touch "
				   "ready; while :; do sleep 0.05; done']\n"
				   "    workingDir: '%s'\n";
	char manifest[1024], ready[400];

	t_run_init(&r);
	snprintf(manifest, sizeof(manifest), yaml, r.dir);
	snprintf(ready, sizeof(ready), "%s/ready", r.dir);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "g.yaml", manifest), NULL});
	t_wait_event(&r, "Started", "app", 0, 5000);
	t_wait_file(ready, 5000); /* the shell has installed its trap */
	t_run_signal(&r, SIGTERM);
	ev = t_wait_event(&r, "Killing", "app", 0, 5000);
	assert_string_equal(ev->message, "Stopping container app");
	ev = t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_string_equal(ev->message, "Container app terminated: exit code 0, reason Completed");
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

/*
 * The stop signal goes to the container's main process only, as container runtimes send it to
 * PID 1; the children of a shell that does not pass it on get nothing, and die with the
 * container when its main process ends (issue 11, item 5).
 */
static void test_sigterm_goes_to_the_main_process_only(void **state)
{
	struct t_run r;
	static const char yaml[] =
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: tree}\n"
		"spec:\n"
		"  terminationGracePeriodSeconds: 10\n"
		"  containers:\n"
		"  - name: app\n"
		"    image: busybox\n"
		"    command: [sh, -c, 'sh child.sh & trap \"echo main >> order; exit 0\" TERM; "
		"touch ready; while :; do sleep 0.05; done']\n"
		"    workingDir: '%s'\n";
	char manifest[1024], path[400], buf[64] = "";
	int fd;
	ssize_t n;

	t_run_init(&r);
	t_write_manifest(&r, "child.sh",
			 "trap 'echo child >> order' TERM\ntouch child-ready\n"
			 "while :; do sleep 0.05; done\n");
	snprintf(manifest, sizeof(manifest), yaml, r.dir);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "t.yaml", manifest), NULL});
	t_wait_event(&r, "Started", "app", 0, 5000);
	snprintf(path, sizeof(path), "%s/ready", r.dir);
	t_wait_file(path, 5000);
	snprintf(path, sizeof(path), "%s/child-ready", r.dir);
	t_wait_file(path, 5000);
	t_run_signal(&r, SIGTERM);
	t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	snprintf(path, sizeof(path), "%s/order", r.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "main\n");
	assert_int_equal(t_count_descendants("sh child.sh"), 0);
	t_run_cleanup(&r);
}

static void test_sigterm_ignored_gets_sigkill_after_grace(void **state)
{
	struct t_run r;
	const struct t_event *kill_ev, *term_ev;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: stubborn}\n"
				   "spec:\n"
				   "  terminationGracePeriodSeconds: 1\n"
				   "  containers:\n"
				   "  - name: app\n"
				   "    image: busybox\n"
				   "    command: [sh, -c, 'trap \"\" TERM; touch ready; while :; "
				   "do sleep 0.05; done']\n"
				   "    workingDir: '%s'\n";
	char manifest[1024], ready[400];

	t_run_init(&r);
	snprintf(manifest, sizeof(manifest), yaml, r.dir);
	snprintf(ready, sizeof(ready), "%s/ready", r.dir);
	t_run_start(&r, (const char *const[]){"--min-kill-gap=200ms",
					      t_write_manifest(&r, "s.yaml", manifest), NULL});
	t_wait_event(&r, "Started", "app", 0, 5000);
	t_wait_file(ready, 5000);
	t_run_signal(&r, SIGTERM);
	kill_ev = t_wait_event(&r, "Killing", "app", 0, 5000);
	term_ev = t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_non_null(strstr(term_ev->message, "SIGKILL"));
	assert_non_null(strstr(term_ev->message, "exit code 137"));
	/* SIGKILL at the 1 s grace period: not earlier, not much later. */
	assert_true(term_ev->at_ms - kill_ev->at_ms >= 950);
	assert_true(term_ev->at_ms - kill_ev->at_ms < 1800);
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

static void test_missing_executable_is_start_error(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] =
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: nocmd}\n"
		"spec:\n"
		"  restartPolicy: Never\n"
		"  containers:\n"
		"  - {name: app, image: busybox, command: [no-such-binary-here]}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "n.yaml", yaml), NULL});
	ev = t_wait_event(&r, "Failed", "app", 0, 5000);
	assert_string_equal(ev->type, "Warning");
	assert_string_equal(
		ev->message,
		"Error: exec: \"no-such-binary-here\": executable file not found in $PATH");
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

static void test_invalid_manifest_is_refused_before_anything_starts(void **state)
{
	struct t_run r;
	char cmd[1024], out[4096];
	const char *path;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: bad}\n"
				   "spec:\n"
				   "  containers:\n"
				   "  - name: app\n"
				   "    image: busybox\n"
				   "    command: [sh, -c, 'touch should-not-exist']\n"
				   "    livenessProbe:\n"
				   "      exec: {command: [\"true\"]}\n"
				   "      periodSeconds: -1\n";

	t_run_init(&r);
	path = t_write_manifest(&r, "bad.yaml", yaml);
	snprintf(cmd, sizeof(cmd), "%s validate %s 2>&1", t_podprobe(), path);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out,
			       "bad.yaml:11:7: spec.containers[0].livenessProbe.periodSeconds: "
			       "must be greater than or equal to 0"));
	snprintf(cmd, sizeof(cmd), "cd %s && %s run --api-addr=none --state-dir=%s %s 2>&1", r.dir,
		 t_podprobe(), r.state_dir, path);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 2);
	snprintf(cmd, sizeof(cmd), "test -e %s/should-not-exist", r.dir);
	assert_int_not_equal(t_system(cmd, NULL, 0), 0);
	t_run_cleanup(&r);
}

static void test_oom_killed_container_reads_oomkilled(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: hog}\n"
				   "spec:\n"
				   "  restartPolicy: Never\n"
				   "  containers:\n"
				   "  - name: app\n"
				   "    image: busybox\n"
				   "    command: [sh, -c, 'exec tail /dev/zero']\n"
				   "    resources: {limits: {memory: 32Mi}}\n";

	if (geteuid() != 0) {
		print_message("skip: memory cgroups need root\n");
		skip();
	}
	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "o.yaml", yaml), NULL});
	ev = t_wait_event(&r, "Terminated", "app", 0, 20000);
	if (strstr(ev->message, "no writable memory cgroup") || !strcmp(ev->reason, "Failed")) {
		print_message("skip: no writable memory cgroup here\n");
		t_run_cleanup(&r);
		skip();
	}
	assert_non_null(strstr(ev->message, "reason OOMKilled"));
	assert_non_null(strstr(ev->message, "exit code 137"));
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

/*
 * The pods of a large manifest begin a few at a time while the loop keeps turning
 * (supervisor.c, begin_some()): the API answers during the start, listing every pod, those not
 * begun yet as Pending; a SIGTERM then ends the run without starting the rest.
 */
/*
 * Start one `podprobe run` of <n> pods named <prefix>NNN (one `sleep` each) from one manifest
 * file, and wait for its API socket, whose path goes to <sock>.
 */
static void start_sleepers(struct t_run *r, int n, const char *prefix, char *sock, size_t size)
{
	static char yaml[500 * 200];
	size_t len = 0;

	assert_true(n <= 500);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
					"---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s%03d}\n"
					"spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
					"  - {name: app, image: busybox, command: [sleep, '600']}\n",
					prefix, i);
	t_run_init(r);
	t_run_start(r, (const char *const[]){t_write_manifest(r, "many.yaml", yaml), NULL});
	snprintf(sock, size, "%s/api.sock", r->state_dir);
	t_wait_file(sock, 10000);
}

static void test_large_manifest_begins_while_the_api_answers(void **state)
{
	enum { N = 500 };
	char sock[400], cmd[2400], out[512], rc_file[300];
	unsigned int listed = 0, pending = 0, started;
	int rc;
	struct t_run r;

	start_sleepers(&r, N, "p", sock, sizeof(sock));
	/*
	 * curl in the background, its status and errors in files: meanwhile this test reads the
	 * events podprobe prints (a pipe left unread is test_unread_stdout_holds_up_nothing's).
	 */
	snprintf(cmd, sizeof(cmd),
		 "(timeout 20 curl -sS -o %s/pods.json --unix-socket %s http://x/api/v1/pods "
		 "2>%s/curl.err; echo $? >%s/curl.rc.tmp; mv %s/curl.rc.tmp %s/curl.rc) "
		 ">/dev/null 2>&1 &",
		 r.dir, sock, r.dir, r.dir, r.dir, r.dir);
	assert_int_equal(t_system(cmd, NULL, 0), 0);
	snprintf(rc_file, sizeof(rc_file), "%s/curl.rc", r.dir);
	for (uint64_t until = t_now_ms() + 30000; access(rc_file, F_OK) != 0;) {
		assert_true(t_now_ms() < until);
		t_drain(&r, 20);
	}
	snprintf(cmd, sizeof(cmd), "cat %s/curl.rc %s/curl.err", r.dir, r.dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	rc = atoi(out);
	if (rc != 0)
		print_message("curl: %s\n", out);
	assert_int_equal(rc, 0);
	snprintf(cmd, sizeof(cmd), "grep -o '\"phase\":\"[A-Za-z]*\"' %s/pods.json | sort | uniq -c",
		 r.dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned int n = (unsigned int)strtoul(line, NULL, 10);

		listed += n;
		if (strstr(line, "Pending"))
			pending += n;
	}
	if (listed != N)
		print_message("listed %u: %s\n%s\n", listed, out, r.err_text);
	assert_int_equal(listed, N);
	assert_true(pending > 0);
	t_run_signal(&r, SIGTERM);
	assert_true(t_run_wait_exit(&r, 30000) >= 0);
	started = t_count_events(&r, "Started", "app");
	assert_true(started < N);
	t_run_cleanup(&r);
}

/*
 * Nobody reads podprobe's stdout (a full pipe, as a stuck journald or `| less` leaves it): the
 * loop goes on, pods start and the API answers, and every event waits for the reader.
 */
static void test_unread_stdout_holds_up_nothing(void **state)
{
	enum { N = 300 }; /* ~3 events of ~250 bytes each: well past a pipe's 64 KiB */
	char sock[400], cmd[800], out[64];
	unsigned int running = 0;
	struct t_run r;

	start_sleepers(&r, N, "q", sock, sizeof(sock));
	/* Its events are not read from here on, until every pod runs (as the API says). */
	snprintf(cmd, sizeof(cmd),
		 "timeout 10 curl -sS --unix-socket %s http://x/api/v1/pods | "
		 "grep -o '\"phase\":\"Running\"' | wc -l",
		 sock);
	for (uint64_t until = t_now_ms() + 30000; running < N && t_now_ms() < until;) {
		assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
		running = (unsigned int)strtoul(out, NULL, 10);
		if (running < N)
			usleep(100 * 1000);
	}
	if (running != N)
		print_message("running %u of %u\n%s\n", running, N, r.err_text);
	assert_int_equal(running, N);
	/* Nothing was lost: every pod's Created and Started. */
	t_run_signal(&r, SIGTERM);
	assert_true(t_run_wait_exit(&r, 30000) >= 0);
	assert_int_equal(t_count_events(&r, "Started", "app"), N);
	assert_int_equal(t_count_events(&r, "Created", "app"), N);
	t_run_cleanup(&r);
}

/* Cgroup directories of the run's pod <pod> whose names start with <leaf> (naming.h). */
static int count_leaves(const struct t_run *r, const char *pod, const char *leaf)
{
	char real[PATH_MAX], name[32], cmd[512], out[32];

	assert_non_null(realpath(r->state_dir, real));
	assert_int_equal(pp_cgroup_root_name(real, name, sizeof(name)), 0);
	snprintf(cmd, sizeof(cmd),
		 "find /sys/fs/cgroup -maxdepth 9 -type d -path '*/%s/default_%s/%s*' | wc -l",
		 name, pod, leaf);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	return atoi(out);
}

/*
 * The container ends with its main process, what it left behind included (cgroup.kill): here
 * the init container leaves a loop in its own session (out of the container's process group;
 * the init waits until it is). SIGKILL takes a moment to end it, so the cgroup is still busy
 * when the init is reaped; the removal is tried again a second later. The build before tried
 * once and then only at another container's end (here: never), so the directory stayed.
 */
static void test_ended_containers_cgroup_goes_once_empty(void **state)
{
	struct t_run r;
	char yaml[2048], mark[300], pid_text[32] = "";
	int n = -1, fd;
	long pid;

	(void)state;
	if (geteuid() != 0) {
		print_message("skip: cgroups need root\n");
		skip();
	}
	t_run_init(&r);
	snprintf(mark, sizeof(mark), "%s/left.pid", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: tidy}\n"
		 "spec:\n"
		 "  terminationGracePeriodSeconds: 1\n"
		 "  initContainers:\n"
		 "  - name: init\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'setsid sh -c \"echo \\$\\$ > %s.tmp; mv %s.tmp %s; "
		 "for i in \\$(seq 400); do sleep 0.05; done\" </dev/null >/dev/null 2>&1 & "
		 "for i in $(seq 500); do [ -e %s ] && exit 0; sleep 0.01; done; exit 1']\n"
		 "  containers:\n"
		 "  - {name: main, image: x, command: [sleep, '30']}\n",
		 mark, mark, mark, mark);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "tidy.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "Started", "main", 0, 5000));
	if (count_leaves(&r, "tidy", "main-") != 1) {
		print_message("skip: podprobe runs without cgroups here\n");
		t_run_cleanup(&r);
		skip();
	}
	fd = open(mark, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, pid_text, sizeof(pid_text) - 1) > 0);
	close(fd);
	pid = strtol(pid_text, NULL, 10);
	assert_true(pid > 1);
	/* Gone within a retry (1 s) of the loop's end; bounded at 8 s. */
	for (int i = 0; i < 160 && (n = count_leaves(&r, "tidy", "init-")) != 0; i++)
		poll(NULL, 0, 50);
	assert_int_equal(n, 0);
	/* An empty cgroup: the loop was killed (at most a zombie until its new parent reaps). */
	snprintf(mark, sizeof(mark), "/proc/%ld/stat", pid);
	fd = open(mark, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char stat[256] = "", *end;

		assert_true(read(fd, stat, sizeof(stat) - 1) > 0);
		close(fd);
		end = strrchr(stat, ')');
		assert_non_null(end);
		assert_int_equal(end[2], 'Z');
	}
	assert_int_equal(count_leaves(&r, "tidy", "main-"), 1);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_init_container_waits_for_port_before_main_starts),
		T_TEST(test_init_container_creates_directory_main_reads),
		T_TEST(test_empty_dir_volume_is_shared_between_init_and_main),
		T_TEST(test_failing_init_under_never_fails_pod_and_skips_main),
		T_TEST(test_crashing_container_restarts_with_growing_backoff),
		T_TEST(test_sigterm_stops_pods_gracefully),
		T_TEST(test_sigterm_goes_to_the_main_process_only),
		T_TEST(test_sigterm_ignored_gets_sigkill_after_grace),
		T_TEST(test_missing_executable_is_start_error),
		T_TEST(test_invalid_manifest_is_refused_before_anything_starts),
		T_TEST(test_oom_killed_container_reads_oomkilled),
		T_TEST(test_large_manifest_begins_while_the_api_answers),
		T_TEST(test_unread_stdout_holds_up_nothing),
		T_TEST(test_ended_containers_cgroup_goes_once_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
