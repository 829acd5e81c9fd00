// SPDX-License-Identifier: Apache-2.0
/*
 * Lifecycle hooks and termination with the real binary: the order of postStart, container
 * starts, preStop and signals as seen through files the hooks and containers write; failing
 * hooks; a preStop that outlives the grace period; sidecar start and stop order; the example
 * pods with their hooks.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

/* The lines of <dir>/order.txt, joined with ",". */
static const char *order(const struct t_run *r)
{
	static char out[1024];
	char path[400], line[128];
	FILE *f;
	size_t len = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/order.txt", r->dir);
	f = fopen(path, "r");
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f) && len < sizeof(out) - 1) {
		line[strcspn(line, "\n")] = '\0';
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", line);
	}
	fclose(f);
	return out;
}

/* Wait until order.txt reads <want> (containers write it a moment after their Started event). */
static void assert_order(const struct t_run *r, const char *want)
{
	uint64_t until = t_now_ms() + 3000;

	while (strcmp(order(r), want) && t_now_ms() < until)
		poll(NULL, 0, 10);
	assert_string_equal(order(r), want);
}

static void test_hooks_run_in_kubelet_order(void **state)
{
	struct t_run r;
	char yaml[2048];

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: order}\nspec:\n"
		 "  terminationGracePeriodSeconds: 5\n  containers:\n"
		 "  - name: a\n    image: busybox\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo a-start >> order.txt; trap \"echo a-term >> order.txt; exit 0\" TERM;"
		 " while :; do sleep 0.02; done']\n"
		 "    lifecycle:\n"
		 "      postStart: {exec: {command: [sh, -c, 'sleep 0.3; echo a-poststart >> order.txt']}}\n"
		 "      preStop: {exec: {command: [sh, -c, 'echo a-prestop >> order.txt; sleep 0.2']}}\n"
		 "  - name: b\n    image: busybox\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo b-start >> order.txt; exec sleep 100']\n",
		 r.dir, r.dir);
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "p.yaml", yaml), NULL });
	t_wait_event(&r, "Started", "b", 0, 5000);
	/* L.3: a's postStart (0.3 s) ran beside a, and b started only after it returned. */
	assert_order(&r, "a-start,a-poststart,b-start");
	t_run_signal(&r, SIGTERM);
	t_wait_event(&r, "Terminated", "a", 0, 5000);
	/* L.5/T.2: Killing, preStop, then SIGTERM. */
	assert_order(&r, "a-start,a-poststart,b-start,a-prestop,a-term");
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_failing_post_start_kills_and_restarts(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: bad-hook}\nspec:\n"
		"  terminationGracePeriodSeconds: 1\n  containers:\n"
		"  - name: app\n    image: busybox\n    command: [sleep, \"100\"]\n"
		"    lifecycle: {postStart: {exec: {command: [\"false\"]}}}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ "--backoff-base=100ms", "--min-kill-gap=100ms",
					       t_write_manifest(&r, "p.yaml", yaml), NULL });
	ev = t_wait_event(&r, "FailedPostStartHook", "app", 0, 5000);
	assert_string_equal(ev->message, "PostStartHook failed");
	ev = t_wait_event(&r, "Killing", "app", 0, 5000);
	assert_string_equal(ev->message, "FailedPostStartHook");
	/* Restarted under Always, and failing again. */
	assert_non_null(t_wait_event(&r, "Started", "app", 1, 5000));
	assert_non_null(t_wait_event(&r, "FailedPostStartHook", "app", 1, 5000));
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_failing_pre_stop_does_not_stop_termination(void **state)
{
	struct t_run r;
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: bad-stop}\nspec:\n  containers:\n"
		"  - name: app\n    image: busybox\n    command: [sleep, \"100\"]\n"
		"    lifecycle: {preStop: {httpGet: {port: 1, path: /bye}}}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "p.yaml", yaml), NULL });
	t_wait_event(&r, "Started", "app", 0, 5000);
	t_run_signal(&r, SIGTERM);
	assert_string_equal(t_wait_event(&r, "FailedPreStopHook", "app", 0, 5000)->message,
			    "PreStopHook failed");
	assert_non_null(strstr(t_wait_event(&r, "Terminated", "app", 0, 5000)->message, "SIGTERM"));
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_pre_stop_longer_than_grace_is_cut_at_the_deadline(void **state)
{
	struct t_run r;
	const struct t_event *killing, *term;
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: slow-stop}\nspec:\n"
		"  terminationGracePeriodSeconds: 1\n  containers:\n"
		"  - name: app\n    image: busybox\n"
		"    command: [sh, -c, 'trap \"\" TERM; while :; do sleep 0.02; done']\n"
		"    lifecycle: {preStop: {sleep: {seconds: 1}}}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ "--min-kill-gap=300ms",
					       t_write_manifest(&r, "p.yaml", yaml), NULL });
	t_wait_event(&r, "Started", "app", 0, 5000);
	t_run_signal(&r, SIGTERM);
	killing = t_wait_event(&r, "Killing", "app", 0, 5000);
	term = t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_non_null(strstr(term->message, "SIGKILL"));
	/* SIGTERM at G = 1 s (the preStop used it all), SIGKILL the kill gap (0.3 s) later. */
	if (term->at_ms - killing->at_ms < 1250 || term->at_ms - killing->at_ms > 1700)
		fail_msg("SIGKILL came %llu ms after Killing, want about 1300",
			 (unsigned long long)(term->at_ms - killing->at_ms));
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_sidecars_start_in_order_and_stop_in_reverse(void **state)
{
	struct t_run r;
	char yaml[4096];

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: sidecars}\nspec:\n"
		 "  restartPolicy: Never\n  terminationGracePeriodSeconds: 5\n  initContainers:\n"
		 "  - name: s1\n    image: busybox\n    restartPolicy: Always\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo s1-start >> order.txt; touch s1-up;"
		 " trap \"echo s1-stop >> order.txt; exit 0\" TERM; while :; do sleep 0.02; done']\n"
		 "    startupProbe: {exec: {command: [test, -e, s1-up]}, periodSeconds: 1}\n"
		 "  - name: s2\n    image: busybox\n    restartPolicy: Always\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo s2-start >> order.txt; touch s2-up;"
		 " trap \"echo s2-stop >> order.txt; exit 0\" TERM; while :; do sleep 0.02; done']\n"
		 "    startupProbe: {exec: {command: [test, -e, s2-up]}, periodSeconds: 1}\n"
		 "  - name: init\n    image: busybox\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo init >> order.txt']\n"
		 "  containers:\n"
		 "  - name: main\n    image: busybox\n    workingDir: '%s'\n"
		 "    command: [sh, -c, 'echo main >> order.txt; sleep 0.3']\n",
		 r.dir, r.dir, r.dir, r.dir);
	/*
	 * A sidecar counts as started once its process runs and its startup probe passed
	 * (kubelet's computeInitContainerActions): its shell may not have written its line yet. Each one's probe waits for a file the
	 * shell makes after its line, so the order below is the controller's, not the scheduler's.
	 */
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "p.yaml", yaml), NULL });
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 10000));
	/* I.5: s1, s2 (after its startup probe), init, main; T.4: main ends, then s2, then s1. */
	assert_order(&r, "s1-start,s2-start,init,main,s2-stop,s1-stop");
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

static void test_podprobe_delete_stops_one_pod_gracefully(void **state)
{
	struct t_run r;
	char yaml[2048], cmd[1024], out[256];

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec:\n  containers:\n"
		 "  - name: app\n    image: busybox\n    workingDir: '%s'\n    command: [sleep, \"100\"]\n"
		 "    lifecycle: {preStop: {exec: {command: [sh, -c, 'echo one-prestop >> order.txt']}}}\n"
		 "---\n"
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: two}\nspec:\n  containers:\n"
		 "  - name: app\n    image: busybox\n    command: [sleep, \"100\"]\n",
		 r.dir);
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "p.yaml", yaml), NULL });
	t_wait_event(&r, "Started", "app", 1, 5000);
	snprintf(cmd, sizeof(cmd), "%s delete --state-dir=%s one 2>&1", t_podprobe(), r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "pod \"one\" deleted\n");
	assert_string_equal(t_wait_event(&r, "Killing", "app", 0, 5000)->message,
			    "Stopping container app");
	assert_non_null(t_wait_event(&r, "PodFailed", "", 0, 5000));
	assert_order(&r, "one-prestop");
	/* The other pod runs on; an unknown pod is an error. */
	assert_int_equal(t_count_events(&r, "Killing", "app"), 1);
	snprintf(cmd, sizeof(cmd), "%s delete --state-dir=%s nope 2>&1", t_podprobe(), r.state_dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 1);
	assert_string_equal(out, "Error from server (NotFound): pods \"nope\" not found\n");
	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

static void test_active_deadline_fails_the_pod_and_stops_it(void **state)
{
	struct t_run r;
	const struct t_event *started, *ev;
	static const char yaml[] =
		"apiVersion: v1\nkind: Pod\nmetadata: {name: deadline}\nspec:\n"
		"  activeDeadlineSeconds: 1\n  containers:\n"
		"  - name: app\n    image: busybox\n    command: [sleep, \"100\"]\n"
		"    lifecycle: {preStop: {exec: {command: [\"true\"]}}}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "p.yaml", yaml), NULL });
	started = t_wait_event(&r, "Started", "app", 0, 5000);
	ev = t_wait_event(&r, "DeadlineExceeded", "", 0, 5000);
	assert_string_equal(ev->message, "Pod was active on the node longer than the specified deadline");
	assert_true(ev->at_ms - started->at_ms >= 900 && ev->at_ms - started->at_ms < 1500);
	assert_non_null(t_wait_event(&r, "Killing", "app", 0, 1000));
	ev = t_wait_event(&r, "PodFailed", "", 0, 5000);
	assert_non_null(strstr(ev->message, "longer than the specified deadline"));
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

/* Wait (10 s at most) until `podprobe get pods` shows every container of pod NAME ready. */
static void wait_ready(const struct t_run *r, const char *name)
{
	char cmd[1024], out[512];
	uint64_t until = t_now_ms() + 10000;
	const char *line;
	int ready, total;

	snprintf(cmd, sizeof(cmd), "%s get pods --state-dir=%s %s", t_podprobe(), r->state_dir,
		 name);
	for (;;) {
		assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
		/* NAME READY STATUS ...: READY is "n/n" once the pod is Ready. */
		line = strchr(out, '\n');
		if (line && sscanf(line + 1, "%*s %d/%d", &ready, &total) == 2 && ready == total)
			return;
		if (t_now_ms() >= until)
			fail_msg("pod %s not Ready within 10 s:\n%s", name, out);
		poll(NULL, 0, 50);
	}
}

static void test_example_pods_register_and_deregister(void **state)
{
	struct t_run r;
	char cmd[1024], out[256], db_port[8], web_port[8], registry[300], data[300], entry[320];
	char db[300], web[300];
	int port;

	if (geteuid() != 0) {
		print_message("skip: the example's emptyDir volume needs root\n");
		skip();
	}
	t_run_init(&r);
	/* The example as shipped, on ports and directories of this test's own. */
	port = t_free_port();
	snprintf(db_port, sizeof(db_port), "%d", port);
	do
		snprintf(web_port, sizeof(web_port), "%d", t_free_port());
	while (atoi(web_port) == port);
	snprintf(registry, sizeof(registry), "%s/registry", r.dir);
	snprintf(data, sizeof(data), "%s/web-data", r.dir);
	snprintf(entry, sizeof(entry), "%s/web", registry);
	{
		const char *const from[] = { "15432", "18080", "/tmp/podprobe-registry",
					     "/var/lib/podprobe-web" };
		const char *const to[] = { db_port, web_port, registry, data };

		snprintf(db, sizeof(db), "%s", t_copy_example(&r, "db.yaml", from, to, 4));
		snprintf(web, sizeof(web), "%s", t_copy_example(&r, "web.yaml", from, to, 4));
	}
	snprintf(cmd, sizeof(cmd),
		 "grep -e 15432 -e 18080 -e /tmp/podprobe-registry -e /var/lib/podprobe-web %s %s",
		 db, web);
	assert_int_equal(t_system(cmd, NULL, 0), 1); /* grep: no line matched */
	t_run_start(&r, (const char *const[]){ db, web, NULL });
	t_wait_event(&r, "Started", "web", 0, 10000);
	/* postStart registers web; the server may still be binding its port then. */
	t_wait_file(entry, 5000);
	wait_ready(&r, "web");
	snprintf(cmd, sizeof(cmd), "%s probe http://127.0.0.1:%s/", t_podprobe(), web_port);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	t_run_signal(&r, SIGTERM);
	t_wait_event(&r, "Terminated", "web", 0, 10000);
	/* preStop removed the entry before SIGTERM. */
	assert_int_not_equal(access(entry, F_OK), 0);
	t_run_wait_exit(&r, 10000);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_hooks_run_in_kubelet_order),
		T_TEST(test_failing_post_start_kills_and_restarts),
		T_TEST(test_failing_pre_stop_does_not_stop_termination),
		T_TEST(test_pre_stop_longer_than_grace_is_cut_at_the_deadline),
		T_TEST(test_sidecars_start_in_order_and_stop_in_reverse),
		T_TEST(test_podprobe_delete_stops_one_pod_gracefully),
		T_TEST(test_active_deadline_fails_the_pod_and_stops_it),
		T_TEST(test_example_pods_register_and_deregister),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
