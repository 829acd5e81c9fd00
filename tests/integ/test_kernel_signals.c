// SPDX-License-Identifier: Apache-2.0
/*
 * podprobe run with eBPF kernel signals (root and kernel BTF; skipped with the reason
 * otherwise): exits reported by the kernel, a main thread that exits before its process, a
 * dying grandchild, a closed listener declared unhealthy in milliseconds with a 10 s period,
 * the --no-bpf fallback, wedged and healthy listeners under load, an OOM kill.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

static const char *no_bpf_reason;

static int group_setup(void **state)
{
	if (geteuid() != 0)
		no_bpf_reason = "eBPF needs root";
	else if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		no_bpf_reason = "no kernel BTF at /sys/kernel/btf/vmlinux";
	return 0;
}

static void require_bpf(void)
{
	if (no_bpf_reason) {
		print_message("skip: %s\n", no_bpf_reason);
		skip();
	}
}

/* Start podprobe (on an initialised <r>) on <yaml>; skip when it runs without eBPF here. */
static void start_with_bpf(struct t_run *r, const char *yaml, const char *extra)
{
	require_bpf();
	if (!r->dir[0])
		t_run_init(r);
	t_run_start(r, (const char *const[]){"--min-kill-gap=100ms", extra ? extra : "-v",
					     t_write_manifest(r, "pod.yaml", yaml), NULL});
	t_wait_event(r, "Started", NULL, 0, 5000);
	if (!strstr(r->err_text, "kernel signals: eBPF")) {
		print_message("skip: podprobe runs without eBPF here: %s\n", r->err_text);
		t_run_cleanup(r);
		skip();
	}
}

static void test_sigkilled_container_is_seen_by_the_kernel_and_restarted(void **state)
{
	struct t_run r = {0};
	const struct t_event *ev;
	char yaml[1024], pidfile[400], buf[32];
	FILE *f;
	int pid = 0;

	require_bpf();
	t_run_init(&r);
	/* "$$$$" is "$$" after Kubernetes' $(VAR) expansion: the shell's pid. */
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: victim}\nspec:\n  containers:\n"
		 "  - name: app\n    image: busybox\n"
		 "    command: [sh, -c, 'echo $$$$ > pid.tmp && mv pid.tmp pid && exec sleep "
		 "1000']\n"
		 "    workingDir: '%s'\n",
		 r.dir);
	start_with_bpf(&r, yaml, NULL);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", r.dir);
	t_wait_file(pidfile, 5000);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	if (fgets(buf, sizeof(buf), f))
		pid = atoi(buf);
	fclose(f);
	assert_true(pid > 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	ev = t_wait_event(&r, "Terminated", "app", 0, 2000);
	assert_string_equal(
		ev->message,
		"Container app terminated by signal 9 (SIGKILL): exit code 137, reason Error");
	assert_string_equal(ev->source, "kernel");
	/* The restart is the controller's doing: its events carry no kernel tag (issue 11, 7). */
	ev = t_wait_event(&r, "Started", "app", 1, 2000);
	assert_string_equal(ev->source, "");
	assert_string_equal(t_wait_event(&r, "Pulled", "app", 1, 2000)->source, "");
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/*
 * Issue 8, defect 6: the main thread ends with pthread_exit() 200 ms after the start while a
 * second thread serves on and exits 7 at 1.5 s. The kernel reports the exit of the thread
 * group's leader at 200 ms; only the group's death is the container's exit.
 */
static void test_main_thread_exit_is_not_the_container_exit(void **state)
{
	struct t_run r = {0};
	const struct t_event *started, *ev;
	char yaml[1024], cmdline[160];
	int port = t_free_port();

	snprintf(cmdline, sizeof(cmdline),
		 "demo-app serve --port %d --main-thread-exit-after 200ms --crash-after 1500ms "
		 "--exit-code 7",
		 port);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: mte}\nspec:\n"
		 "  restartPolicy: Never\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\", --main-thread-exit-after, 200ms,"
		 " --crash-after, 1500ms, --exit-code, \"7\"]\n",
		 port);
	start_with_bpf(&r, yaml, NULL);
	started = t_wait_event(&r, "Started", "app", 0, 0);
	ev = t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_string_equal(ev->message, "Container app terminated: exit code 7, reason Error");
	assert_string_equal(ev->type, "Warning");
	if (ev->at_ms - started->at_ms < 1300)
		fail_msg("terminated %llu ms after the start: the main thread's exit at 200 ms",
			 (unsigned long long)(ev->at_ms - started->at_ms));
	assert_non_null(t_wait_event(&r, "PodFailed", NULL, 0, 2000));
	assert_int_equal(t_count_events(&r, "PodSucceeded", NULL), 0);
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	/* Nothing of it outlives podprobe. */
	assert_int_equal(t_count_descendants(cmdline), 0);
	t_run_cleanup(&r);
}

static void test_dying_grandchild_is_reported(void **state)
{
	struct t_run r = {0};
	const struct t_event *ev;
	char yaml[1024];

	require_bpf();
	t_run_init(&r);
	/* main (sleep 1000) -> child (sh child.sh) -> grandchild (sh grandchild.sh, killed). */
	t_write_manifest(&r, "grandchild.sh", "sleep 0.2\nkill -9 $$\n");
	/* A helper that exits 3 first: a script's business, no event (issue 11, item 7). */
	t_write_manifest(&r, "child.sh", "sh -c 'exit 3'\nsh grandchild.sh\nsleep 100\n");
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: tree}\nspec:\n  containers:\n"
		 "  - name: app\n    image: busybox\n"
		 "    command: [sh, -c, 'sh child.sh & exec sleep 1000']\n"
		 "    workingDir: '%s'\n",
		 r.dir);
	start_with_bpf(&r, yaml, NULL);
	ev = t_wait_event(&r, "ProcessExited", "app", 0, 3000);
	assert_string_equal(ev->type, "Warning");
	assert_non_null(strstr(ev->message, "was killed by signal 9 (SIGKILL)"));
	assert_string_equal(ev->source, "kernel");
	assert_int_equal(t_count_events(&r, "ProcessExited", "app"), 1);
	/* The main process lives on: no restart. */
	assert_int_equal(t_count_events(&r, "Terminated", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static const char *closing_pod(char *buf, size_t size, int port, const char *close_after)
{
	snprintf(buf, size,
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: port}\nspec:\n"
		 "  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\", --close-listener-after, %s]\n"
		 "    livenessProbe: {tcpSocket: {port: %d}, periodSeconds: %s, failureThreshold: "
		 "3}\n",
		 port, close_after, port, strcmp(close_after, "500ms") ? "2" : "10");
	return buf;
}

static void test_closed_listener_is_unhealthy_within_50ms_with_10s_period(void **state)
{
	struct t_run r = {0};
	const struct t_event *started, *killing;
	char yaml[1024];

	start_with_bpf(&r, closing_pod(yaml, sizeof(yaml), t_free_port(), "500ms"), NULL);
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	killing = t_wait_event(&r, "Killing", "app", 0, 5000);
	assert_string_equal(killing->message,
			    "Container app failed liveness probe, will be restarted");
	assert_string_equal(killing->source, "kernel");
	/* The listener closes 500 ms after the start; the verdict follows within 50 ms. */
	if (killing->at_ms - started->at_ms > 550)
		fail_msg("declared unhealthy %llu ms after the port closed",
			 (unsigned long long)(killing->at_ms - started->at_ms - 500));
	assert_true(t_count_events(&r, "Unhealthy", "app") >= 3);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/*
 * Two pods probe one port: the listener's close reaches every probe aimed at the port (the
 * supervisor keeps them on the port's list, sup_probes.c), not only the first one found.
 */
static void test_closed_listener_reaches_every_pod_probing_the_port(void **state)
{
	struct t_run r = {0};
	const struct t_event *started, *killing;
	char yaml[2048], server[1024];
	int port = t_free_port();

	snprintf(yaml, sizeof(yaml),
		 "%s---\napiVersion: v1\nkind: Pod\nmetadata: {name: peer}\nspec:\n"
		 "  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: peer\n    image: busybox\n    command: [sleep, \"60\"]\n"
		 "    livenessProbe: {tcpSocket: {port: %d}, periodSeconds: 10, "
		 "failureThreshold: 3}\n",
		 closing_pod(server, sizeof(server), port, "500ms"), port);
	start_with_bpf(&r, yaml, NULL);
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	for (const char *const *c = (const char *const[]){"app", "peer", NULL}; *c; c++) {
		killing = t_wait_event(&r, "Killing", *c, 0, 5000);
		assert_string_equal(killing->source, "kernel");
		if (killing->at_ms - started->at_ms > 550)
			fail_msg("%s declared unhealthy %llu ms after the port closed", *c,
				 (unsigned long long)(killing->at_ms - started->at_ms - 500));
	}
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_without_bpf_detection_waits_for_the_period(void **state)
{
	struct t_run r;
	const struct t_event *started, *killing;
	char yaml[1024];

	if (no_bpf_reason) {
		print_message("skip: %s\n", no_bpf_reason);
		skip();
	}
	t_run_init(&r);
	t_run_start(&r,
		    (const char *const[]){"--no-bpf", "--min-kill-gap=100ms",
					  t_write_manifest(&r, "pod.yaml",
							   closing_pod(yaml, sizeof(yaml),
								       t_free_port(), "1500ms")),
					  NULL});
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	assert_non_null(strstr(r.err_text, "kernel signals: off (--no-bpf)"));
	killing = t_wait_event(&r, "Killing", "app", 0, 10000);
	assert_string_equal(killing->source, "probe");
	/*
	 * Probes every 2 s (the first within 1 s of the start), 3 failures needed: nothing can be
	 * declared before the third probe after the close at 1.5 s, i.e. 2 periods later.
	 */
	assert_true(killing->at_ms - started->at_ms >= 1500 + 3500);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_wedged_listener_is_not_accepting(void **state)
{
	struct t_run r = {0};
	const struct t_event *ev;
	char yaml[1024];
	int port = t_free_port();

	/* fake-target --no-accept listens but never calls accept(): the kernel queues handshakes.
	 */
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: wedged\n  annotations:\n"
		 "    probe.podprobe.io/period-ms: \"200\"\n"
		 "    probe.podprobe.io/tcp-accept: \"true\"\n"
		 "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [fake-target, --port, \"%d\", --no-accept, --backlog, \"64\", "
		 "--quiet]\n"
		 "    livenessProbe: {tcpSocket: {port: %d}, failureThreshold: 2}\n",
		 port, port);
	start_with_bpf(&r, yaml, NULL);
	ev = t_wait_event(&r, "NotAccepting", "app", 0, 6000);
	assert_string_equal(ev->source, "kernel");
	assert_non_null(strstr(ev->message, "connections that were not accepted for"));
	/* With probe.podprobe.io/tcp-accept the passing handshake no longer counts. */
	ev = t_wait_event(&r, "Unhealthy", "app", 0, 3000);
	if (!strstr(ev->message, "is not accepting connections"))
		print_message("Unhealthy: %s\n", ev->message);
	assert_non_null(strstr(ev->message, "is not accepting connections"));
	assert_non_null(t_wait_event(&r, "Killing", "app", 0, 3000));
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/* A loopback client: connect to <port> (bounded by 200 ms) and close. Returns 0 or -errno. */
static int t_connect_close(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t len = sizeof(err);
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = errno == EINPROGRESS ? 0 : -errno;
		if (!err && poll(&pfd, 1, 200) != 1)
			err = -ETIMEDOUT;
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
			err = -err;
	}
	close(fd);
	return err;
}

/*
 * Steady load from this test for <ms> (a connection every ~20 ms) while reading events;
 * stops early when <stop_reason> is seen. Returns the connections completed.
 */
static unsigned int t_load(struct t_run *r, int port, int ms, const char *stop_reason)
{
	uint64_t until = t_now_ms() + (uint64_t)ms;
	unsigned int ok = 0;

	while (t_now_ms() < until) {
		ok += t_connect_close(port) == 0;
		t_drain(r, 20);
		if (stop_reason && t_count_events(r, stop_reason, NULL))
			break;
	}
	return ok;
}

/*
 * A liveness probe never waits for the listen (only startup and readiness attempts are held
 * before it): the first attempt comes after 1 s, once demo-app listens, or a refusal (seen
 * once under ASan, where it starts slower) would fail a failureThreshold of 1.
 */
static const char *accept_pod(char *buf, size_t size, int port, const char *extra)
{
	snprintf(buf, size,
		 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: acc\n  annotations:\n"
		 "    probe.podprobe.io/period-ms: \"200\"\n"
		 "    probe.podprobe.io/tcp-accept: \"true\"\n"
		 "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\"%s]\n"
		 "    livenessProbe: {tcpSocket: {port: %d}, timeoutSeconds: 1, "
		 "initialDelaySeconds: 1, failureThreshold: %s}\n",
		 port, extra, port, *extra ? "3" : "1");
	return buf;
}

/*
 * Issue 8, defect 7: a server that accepts every connection, under steady load and tcp-accept
 * probes every 200 ms, is never reported NotAccepting nor failed, even with failureThreshold 1.
 * Before the fix the queue read as never empty and the container was killed every few seconds.
 */
static void test_healthy_listener_under_load_is_never_not_accepting(void **state)
{
	struct t_run r = {0};
	char yaml[1024];
	int port = t_free_port();
	unsigned int n;

	start_with_bpf(&r, accept_pod(yaml, sizeof(yaml), port, ""), NULL);
	n = t_load(&r, port, 6000, "NotAccepting");
	print_message("load: %u connections in 6 s\n", n);
	/* What went wrong, when something did (seen once, on a slow spell of the VM). */
	for (const char *const *why = (const char *const[]){"NotAccepting", "Unhealthy", NULL}; *why;
	     why++)
		for (unsigned int i = 0; i < t_count_events(&r, *why, NULL); i++)
			print_message("%s: %s\n", *why, t_wait_event(&r, *why, NULL, i, 1000)->message);
	assert_int_equal(t_count_events(&r, "NotAccepting", NULL), 0);
	assert_int_equal(t_count_events(&r, "Unhealthy", NULL), 0);
	assert_int_equal(t_count_events(&r, "Killing", NULL), 0);
	assert_true(n > 100);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/*
 * Issue 8, defect 7: the server stops calling accept() 2 s after its start, under the same
 * load: NotAccepting within 2 x the probe timeout (1 s), none before, and the tcp-accept
 * probe fails from then on.
 */
static void test_listener_that_stops_accepting_is_not_accepting_within_2x_timeout(void **state)
{
	struct t_run r = {0};
	const struct t_event *started, *ev;
	char yaml[1024];
	int port = t_free_port();

	start_with_bpf(&r, accept_pod(yaml, sizeof(yaml), port, ", --stop-accepting-after, 2s"),
		       NULL);
	started = t_wait_event(&r, "Started", "app", 0, 0);
	t_load(&r, port, 6000, "NotAccepting");
	ev = t_wait_event(&r, "NotAccepting", "app", 0, 0);
	print_message("NotAccepting %llu ms after accept() stopped: %s\n",
		      (unsigned long long)(ev->at_ms - started->at_ms - 2000), ev->message);
	assert_string_equal(ev->source, "kernel");
	assert_non_null(strstr(ev->message, "connections that were not accepted for"));
	assert_true(ev->at_ms >= started->at_ms + 2000);
	if (ev->at_ms > started->at_ms + 2000 + 2 * 1000)
		fail_msg("NotAccepting %llu ms after accept() stopped, more than 2 x 1 s",
			 (unsigned long long)(ev->at_ms - started->at_ms - 2000));
	/* The failure that follows (an attempt timing out under the load may come before). */
	for (unsigned int i = 0;; i++) {
		ev = t_wait_event(&r, "Unhealthy", "app", i, 3000);
		if (strstr(ev->message, "is not accepting connections"))
			break;
	}
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_oom_kill_is_reported_by_the_kernel(void **state)
{
	struct t_run r = {0};
	const struct t_event *ev;
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: hog}\nspec:\n  restartPolicy: Never\n"
		"  containers:\n  - name: app\n    image: busybox\n"
		"    command: [sh, -c, 'sleep 0.3; exec tail /dev/zero']\n"
		"    resources: {limits: {memory: 32Mi}}\n";

	start_with_bpf(&r, yaml, NULL);
	ev = t_wait_event(&r, "Terminated", "app", 0, 20000);
	if (strstr(ev->message, "no writable memory cgroup")) {
		print_message("skip: no writable memory cgroup here\n");
		t_run_cleanup(&r);
		skip();
	}
	assert_non_null(strstr(ev->message, "reason OOMKilled"));
	ev = t_wait_event(&r, "OOMKilling", "app", 0, 1000);
	assert_string_equal(ev->source, "kernel");
	assert_non_null(strstr(ev->message, "Memory cgroup out of memory: killed process"));
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/* Reads the run's pod watch on api.sock until pod <argv[2]> is Ready (bounded by timeout). */
static const char ready_py[] =
	"import json, socket, sys\n"
	"s = socket.socket(socket.AF_UNIX)\n"
	"s.connect(sys.argv[1])\n"
	"s.sendall(('GET /api/v1/namespaces/default/pods?watch=true&fieldSelector=metadata.name%3D'"
	" + sys.argv[2] + ' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n').encode())\n"
	"buf = b''\n"
	"while True:\n"
	"    d = s.recv(65536)\n"
	"    if not d: sys.exit(1)\n"
	"    buf += d\n"
	"    *lines, buf = buf.split(b'\\n')\n"
	"    for l in lines:\n"
	"        l = l.strip()\n"
	"        if not l.startswith(b'{'): continue\n"
	"        o = json.loads(l)['object']\n"
	"        for c in o.get('status', {}).get('conditions', []):\n"
	"            if c['type'] == 'Ready' and c['status'] == 'True': sys.exit(0)\n";

/* Wait (10 s at most) until pod <name> of <r> is Ready, from its watch; returns the time. */
static uint64_t wait_ready(struct t_run *r, const char *name)
{
	char script[400], cmd[1200];
	FILE *f;

	snprintf(script, sizeof(script), "%s/ready.py", r->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(ready_py, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "timeout 10 /usr/bin/python3 %s %s/api.sock %s", script,
		 r->state_dir, name);
	assert_int_equal(t_system(cmd, NULL, 0), 0);
	return t_now_ms();
}

/*
 * upstream test/e2e/common/node/container_probe.go "with readiness probe should not be ready
 * before initial delay and never restart": the kernel sees the port listen at once, and still
 * the first readiness attempt waits for initialDelaySeconds (kubelet worker.doProbe).
 */
static void test_listen_does_not_bypass_initial_delay(void **state)
{
	struct t_run r = {0};
	const struct t_event *started;
	char yaml[1024];
	int port = t_free_port();
	uint64_t ready_ms;

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: delay}\nspec:\n"
		 "  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\"]\n"
		 "    readinessProbe: {tcpSocket: {port: %d}, initialDelaySeconds: 3, "
		 "periodSeconds: 10}\n",
		 port, port);
	start_with_bpf(&r, yaml, NULL);
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	ready_ms = wait_ready(&r, "delay");
	if (ready_ms - started->at_ms < 2900)
		fail_msg("Ready %llu ms after Started, before initialDelaySeconds (3 s)",
			 (unsigned long long)(ready_ms - started->at_ms));
	assert_true(ready_ms - started->at_ms < 4500);
	assert_int_equal(t_count_events(&r, "Unhealthy", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/*
 * Issue 11, item 6: the app listens 500 ms after its start and readiness probes every 10 s.
 * The attempt refused before the port listens counts for nothing and says nothing; the
 * kernel's LISTEN brings the next one, so the pod is Ready right after 500 ms with no
 * "connection refused" Unhealthy event.
 */
static void test_first_readiness_waits_for_listen(void **state)
{
	struct t_run r = {0};
	const struct t_event *started;
	char yaml[1024];
	int port = t_free_port();
	uint64_t ready_ms;

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: late}\nspec:\n"
		 "  terminationGracePeriodSeconds: 1\n  containers:\n"
		 "  - name: app\n    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\", --listen-delay, 500ms]\n"
		 "    readinessProbe: {tcpSocket: {port: %d}, periodSeconds: 10}\n",
		 port, port);
	start_with_bpf(&r, yaml, NULL);
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	ready_ms = wait_ready(&r, "late");
	assert_true(ready_ms - started->at_ms < 2000);
	t_drain(&r, 200);
	assert_int_equal(t_count_events(&r, "Unhealthy", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkilled_container_is_seen_by_the_kernel_and_restarted),
		T_TEST(test_main_thread_exit_is_not_the_container_exit),
		cmocka_unit_test(test_dying_grandchild_is_reported),
		cmocka_unit_test(test_closed_listener_is_unhealthy_within_50ms_with_10s_period),
		cmocka_unit_test(test_closed_listener_reaches_every_pod_probing_the_port),
		cmocka_unit_test(test_without_bpf_detection_waits_for_the_period),
		cmocka_unit_test(test_wedged_listener_is_not_accepting),
		T_TEST(test_healthy_listener_under_load_is_never_not_accepting),
		T_TEST(test_listener_that_stops_accepting_is_not_accepting_within_2x_timeout),
		cmocka_unit_test(test_oom_kill_is_reported_by_the_kernel),
		T_TEST(test_listen_does_not_bypass_initial_delay),
		T_TEST(test_first_readiness_waits_for_listen),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
