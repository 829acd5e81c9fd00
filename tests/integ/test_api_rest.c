// SPDX-License-Identifier: Apache-2.0
/*
 * The API's answers as the apiserver gives them, through api.sock with curl: 422 Invalid with
 * causes for a pod that does not validate, 400 for unknown fields under
 * fieldValidation=Strict and a Warning header under Warn, 409 AlreadyExists, field selectors
 * (an unsupported field is 400 "field label not supported"), label selectors on list, watch
 * and delete, 404 Status, and a hundred watchers that each see the same change.
 */
#include <errno.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

#define N_WATCHERS 100

static struct t_run R;
static char sock[400], out[131072];

/* curl over api.sock with <args>; the output (with -i, headers too) in <out>. */
static int api(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int api(const char *fmt, ...)
{
	char args[4096], cmd[5000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 20 curl -sS --unix-socket %s %s", sock, args);
	return t_system(cmd, out, sizeof(out));
}

static const char pod_json[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"NAME\","
	"\"labels\":{\"app\":\"APP\"}},\"spec\":{\"terminationGracePeriodSeconds\":2,"
	"\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\",\"60\"]"
	"EXTRA}]}}";

/* POST a pod <name> with label app=<app> and <extra> in its container; the HTTP status. */
static int create(const char *name, const char *app, const char *extra, const char *query)
{
	char body[2048], path[600];
	const char *src = pod_json;
	size_t len = 0;
	int fd;

	while (*src && len < sizeof(body) - 200) {
		if (!strncmp(src, "NAME", 4)) {
			len += (size_t)snprintf(body + len, sizeof(body) - len, "%s", name);
			src += 4;
		} else if (!strncmp(src, "APP", 3)) {
			len += (size_t)snprintf(body + len, sizeof(body) - len, "%s", app);
			src += 3;
		} else if (!strncmp(src, "EXTRA", 5)) {
			len += (size_t)snprintf(body + len, sizeof(body) - len, "%s", extra);
			src += 5;
		} else {
			body[len++] = *src++;
		}
	}
	snprintf(path, sizeof(path), "%s/body.json", R.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	close(fd);
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary @%s "
			     "'http://x/api/v1/namespaces/default/pods%s'",
			     path, query ? query : ""),
			 0);
	return atoi(out + 9); /* "HTTP/1.1 201 Created" */
}

/* A run with no pods (api.sock only) for one test. */
static void start(void)
{
	const char *argv[2] = {"--api-addr=none", NULL};

	t_run_init(&R);
	/* With no path and no TCP API there is nothing to run: give it a pod to keep it up. */
	argv[0] = t_write_manifest(
		&R, "keep.yaml",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: keep}\nspec:\n"
		"  containers:\n  - {name: k, image: busybox, command: [sleep, '60']}\n");
	t_run_start(&R, argv);
	snprintf(sock, sizeof(sock), "%s/api.sock", R.state_dir);
	t_wait_file(sock, 10000);
}

static void test_create_errors(void **state)
{
	(void)state;
	start();
	/* podprobe validate's field paths and messages, as 422 causes. */
	assert_int_equal(create("Bad_Name", "x", "", NULL), 422);
	assert_non_null(strstr(out, "\"reason\":\"Invalid\""));
	assert_non_null(strstr(out, "\"field\":\"metadata.name\""));
	assert_non_null(strstr(out, "\"causes\":["));
	/* Strict: unknown fields are a 400; Warn: a Warning header; Ignore: nothing. */
	assert_int_equal(create("strict", "x", ",\"bogus\":1", "?fieldValidation=Strict"), 400);
	assert_non_null(strstr(out, "strict decoding error: unknown field "
				    "\\\"spec.containers[0].bogus\\\""));
	assert_int_equal(create("warn", "x", ",\"bogus\":1", "?fieldValidation=Warn"), 201);
	assert_non_null(strstr(out, "Warning: 299 - \"unknown field"));
	assert_int_equal(create("warn", "x", "", NULL), 409);
	assert_non_null(strstr(out, "\"reason\":\"AlreadyExists\""));
	assert_non_null(strstr(out, "pods \\\"warn\\\" already exists"));
	/* Not JSON at all. */
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary '{nope' "
			     "http://x/api/v1/namespaces/default/pods"),
			 0);
	assert_int_equal(atoi(out + 9), 400);
	/* A namespace in the body that is not the request's. */
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary "
			     "'{\"metadata\":{\"name\":\"n\",\"namespace\":\"other\"}}' "
			     "http://x/api/v1/namespaces/default/pods"),
			 0);
	assert_int_equal(atoi(out + 9), 400);
	assert_int_equal(api("-i http://x/api/v1/namespaces/default/pods/nope"), 0);
	assert_int_equal(atoi(out + 9), 404);
	assert_non_null(strstr(out, "pods \\\"nope\\\" not found"));
	t_run_cleanup(&R);
}

static void test_selectors(void **state)
{
	(void)state;
	start();
	assert_int_equal(create("s1", "red", "", NULL), 201);
	assert_int_equal(create("s2", "blue", "", NULL), 201);
	assert_int_equal(api("'http://x/api/v1/namespaces/default/pods?labelSelector=app%%3Dred'"),
			 0);
	assert_non_null(strstr(out, "\"name\":\"s1\""));
	assert_null(strstr(out, "\"name\":\"s2\""));
	assert_int_equal(api("'http://x/api/v1/pods?labelSelector=app+in+(red,blue)'"), 0);
	assert_non_null(strstr(out, "\"name\":\"s1\""));
	assert_non_null(strstr(out, "\"name\":\"s2\""));
	assert_int_equal(api("'http://x/api/v1/pods?fieldSelector=metadata.name%%3Ds2'"), 0);
	assert_null(strstr(out, "\"name\":\"s1\""));
	assert_non_null(strstr(out, "\"name\":\"s2\""));
	assert_int_equal(api("-i 'http://x/api/v1/pods?fieldSelector=spec.bogus%%3D1'"), 0);
	assert_int_equal(atoi(out + 9), 400);
	assert_non_null(strstr(out, "field label not supported: spec.bogus"));
	assert_int_equal(api("-i 'http://x/api/v1/pods?labelSelector=a%%3D%%3D%%3D'"), 0);
	assert_int_equal(atoi(out + 9), 400);
	/* Pages (limit/continue): keep, s1 and s2 one at a time, each page naming the next. */
	{
		char tok[64] = "", names[256] = "";
		size_t len = 0;

		for (int page = 0; page < 5; page++) {
			char *p, *c;

			assert_int_equal(
				api("'http://x/api/v1/namespaces/default/pods?limit=1%s%s'",
				    tok[0] ? "&continue=" : "", tok),
				0);
			p = strstr(out, "\"items\":[{");
			assert_non_null(p);
			p = strstr(p, "\"name\":\"");
			assert_non_null(p);
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%.*s ",
						(int)strcspn(p + 8, "\""), p + 8);
			c = strstr(out, "\"continue\":\"");
			if (!c)
				break;
			snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(c + 12, "\""), c + 12);
		}
		assert_string_equal(names, "keep s1 s2 ");
	}
	assert_int_equal(api("-i 'http://x/api/v1/pods?limit=1&continue=bogus'"), 0);
	assert_int_equal(atoi(out + 9), 400);
	/* Events of one pod only, by the uid describe filters on. */
	assert_int_equal(api("'http://x/api/v1/namespaces/default/events?fieldSelector="
			     "involvedObject.name%%3Ds1'"),
			 0);
	assert_non_null(strstr(out, "\"name\":\"s1\""));
	assert_null(strstr(out, "\"name\":\"s2\""));
	t_run_cleanup(&R);
}

static void test_many_watchers(void **state)
{
	char cmd[2048], done[600], ready[64];

	(void)state;
	start();
	/* A hundred watches from "now" on, each ended by timeoutSeconds; <done> once all are. */
	snprintf(done, sizeof(done), "%s/watchers.done", R.dir);
	snprintf(cmd, sizeof(cmd),
		 "(for i in $(seq %d); do timeout 20 curl -sS -N --unix-socket %s "
		 "'http://x/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=3&"
		 "labelSelector=app%%3Dflood' > %s/w$i.out 2>&1 & done; wait; touch %s) "
		 ">/dev/null 2>&1 &",
		 N_WATCHERS, sock, R.dir, done);
	assert_int_equal(t_system(cmd, NULL, 0), 0);
	/* They are all registered once the server's gauge says so (bounded: 200 x 20 ms). */
	snprintf(ready, sizeof(ready), "podprobe_api_watches %d\n", N_WATCHERS);
	for (int tries = 0; tries < 200; tries++) {
		assert_int_equal(api("http://x/metrics"), 0);
		if (strstr(out, ready))
			break;
		usleep(20000);
	}
	assert_non_null(strstr(out, ready));
	assert_int_equal(create("flood", "flood", "", NULL), 201);
	t_wait_file(done, 15000);
	snprintf(cmd, sizeof(cmd), "grep -l '\"name\":\"flood\"' %s/w*.out | wc -l", R.dir);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_int_equal(atoi(out), N_WATCHERS);
	t_run_cleanup(&R);
}

/* A public --api-addr needs --api-addr-public; a malformed one is a usage error. */
static void test_api_addr_checks(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s run --state-dir=/nonexistent/x --api-addr=10.1.2.3:0 2>&1",
		 t_podprobe());
	assert_int_equal(t_system(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "10.1.2.3 is not a loopback address: add --api-addr-public"));
	snprintf(cmd, sizeof(cmd), "%s run --state-dir=/nonexistent/x --api-addr=127.0.0.1 2>&1",
		 t_podprobe());
	assert_int_equal(t_system(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "expected ADDRESS:PORT"));
	snprintf(cmd, sizeof(cmd), "%s run --state-dir=/nonexistent/x --api-addr=[::2]:1 2>&1",
		 t_podprobe());
	assert_int_equal(t_system(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "::2 is not a loopback address"));
}

/*
 * Readiness gates (KEP-580): Ready needs every gate's condition True; others set them with a
 * PATCH of pods/NAME/status (what `podprobe watch` does for podprobe.io/ready); kubelet's own
 * conditions are not taken from a patch.
 */
static void test_readiness_gates(void **state)
{
	char body[600];

	(void)state;
	start();
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"gate\"},"
		 "\"spec\":{\"readinessGates\":[{\"conditionType\":\"podprobe.io/ready\"}],"
		 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\","
		 "\"60\"]}]}}");
	assert_int_equal(api("-H 'Content-Type: application/json' --data-binary '%s' "
			     "http://x/api/v1/namespaces/default/pods",
			     body),
			 0);
	/* Its containers become ready; the pod does not, for want of the gate. */
	assert_int_equal(api("-N 'http://x/api/v1/namespaces/default/pods?watch=true&"
			     "timeoutSeconds=10&fieldSelector=metadata.name%%3Dgate' | grep -m1 -o "
			     "'\"type\":\"ContainersReady\",\"status\":\"True\"'"),
			 0);
	assert_int_equal(api("http://x/api/v1/namespaces/default/pods/gate"), 0);
	assert_non_null(strstr(out, "\"reason\":\"ReadinessGatesNotReady\""));
	assert_non_null(strstr(out, "corresponding condition of pod readiness gate "
				    "\\\"podprobe.io/ready\\\" does not exist."));
	/* The gate turns True: Ready; a patched "Ready" of kubelet's is ignored. */
	assert_int_equal(api("-X PATCH -H 'Content-Type: application/strategic-merge-patch+json' "
			     "--data-binary '{\"status\":{\"conditions\":[{\"type\":"
			     "\"podprobe.io/ready\",\"status\":\"True\"},{\"type\":\"Ready\","
			     "\"status\":\"False\"}]}}' "
			     "http://x/api/v1/namespaces/default/pods/gate/status"),
			 0);
	assert_non_null(strstr(out, "\"type\":\"Ready\",\"status\":\"True\""));
	assert_non_null(strstr(out, "\"type\":\"podprobe.io/ready\",\"status\":\"True\""));
	assert_int_equal(api("-H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "
			     "http://x/api/v1/namespaces/default/pods/gate"),
			 0);
	assert_non_null(strstr(out, "\"gate\",\"1/1\",\"Running\""));
	assert_non_null(strstr(out, "\"<none>\",\"1/1\"]"));
	/* False again: NotReady, with kubelet's message. */
	assert_int_equal(api("-X PATCH -H 'Content-Type: application/strategic-merge-patch+json' "
			     "--data-binary '{\"status\":{\"conditions\":[{\"type\":"
			     "\"podprobe.io/ready\",\"status\":\"False\"}]}}' "
			     "http://x/api/v1/namespaces/default/pods/gate/status"),
			 0);
	assert_non_null(strstr(out, "the status of pod readiness gate \\\"podprobe.io/ready\\\" is "
				    "not \\\"True\\\", but False."));
	assert_int_equal(
		api("-i -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' "
		    "--data-binary '{\"status\":{\"conditions\":[{\"type\":\"x\"}]}}' "
		    "http://x/api/v1/namespaces/default/pods/gate/status"),
		0);
	assert_int_equal(atoi(out + 9), 422);
	/* A uid precondition of another pod of that name: 409 Conflict, nothing changed. */
	assert_int_equal(
		api("-i -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' "
		    "--data-binary "
		    "'{\"metadata\":{\"uid\":\"0b5f9f52-3c61-4b0e-9d1e-2a7d1f0c9a01\"},"
		    "\"status\":{\"conditions\":[{\"type\":\"podprobe.io/ready\",\"status\":"
		    "\"True\"}]}}' http://x/api/v1/namespaces/default/pods/gate/status"),
		0);
	assert_int_equal(atoi(out + 9), 409);
	assert_non_null(strstr(out, "Precondition failed: UID in precondition: "
				    "0b5f9f52-3c61-4b0e-9d1e-2a7d1f0c9a01"));
	assert_int_equal(api("http://x/api/v1/namespaces/default/pods/gate"), 0);
	assert_non_null(strstr(out, "\"type\":\"podprobe.io/ready\",\"status\":\"False\""));
	/* A watch from a resourceVersion this run never gave out (an earlier run's): 410. */
	assert_int_equal(api("-i 'http://x/api/v1/namespaces/default/pods?watch=true&"
			     "resourceVersion=99999999999999999'"),
			 0);
	assert_int_equal(atoi(out + 9), 410);
	t_run_cleanup(&R);
}

/* Events other components post (a `podprobe watch`): create, get, aggregate, list, watch. */
static void test_events_posted(void **state)
{
	static const char ev[] =
		"{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
		"\"keep.17f0c0ffee\",\"namespace\":\"default\"},\"involvedObject\":{\"kind\":"
		"\"Pod\",\"namespace\":\"default\",\"name\":\"keep\",\"uid\":\"0b5f9f52-3c61-4b0e-"
		"9d1e-2a7d1f0c9a01\","
		"\"apiVersion\":\"v1\"},\"reason\":\"PortClosed\",\"message\":\"listener "
		"127.0.0.1:80 closed\",\"type\":\"Warning\",\"source\":{\"component\":"
		"\"podprobe\",\"host\":\"node-1\"},\"reportingComponent\":\"podprobe\","
		"\"reportingInstance\":\"node-1\",\"count\":1,\"firstTimestamp\":"
		"\"2026-12-01T10:00:00Z\",\"lastTimestamp\":\"2026-12-01T10:00:00Z\"}";
	char watch[500];

	(void)state;
	start();
	snprintf(watch, sizeof(watch), "%s/watch.out", R.dir);
	/* A watcher of the namespace's events from now on. */
	assert_int_equal(api("-N 'http://x/api/v1/namespaces/default/events?watch=true&"
			     "timeoutSeconds=20&fieldSelector=reason%%3DPortClosed' > %s 2>&1 &",
			     watch),
			 0);
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary '%s' "
			     "http://x/api/v1/namespaces/default/events",
			     ev),
			 0);
	assert_int_equal(atoi(out + 9), 201);
	assert_non_null(strstr(out, "\"name\":\"keep.17f0c0ffee\""));
	assert_non_null(strstr(out, "\"reportingComponent\":\"podprobe\""));
	assert_non_null(strstr(out, "\"firstTimestamp\":\"2026-12-01T10:00:00Z\""));
	/* The same name again: AlreadyExists, as the API server answers. */
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary '%s' "
			     "http://x/api/v1/namespaces/default/events",
			     ev),
			 0);
	assert_int_equal(atoi(out + 9), 409);
	/* The recorder's PATCH of a repeat. */
	assert_int_equal(
		api("-i -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' "
		    "--data-binary '{\"count\":2,\"lastTimestamp\":\"2026-12-01T10:00:05Z\"}' "
		    "http://x/api/v1/namespaces/default/events/keep.17f0c0ffee"),
		0);
	assert_int_equal(atoi(out + 9), 200);
	assert_non_null(strstr(out, "\"count\":2"));
	assert_int_equal(api("http://x/api/v1/namespaces/default/events/keep.17f0c0ffee"), 0);
	assert_non_null(strstr(out, "\"count\":2"));
	/* Listed with kubelet's, selectable by its source. */
	assert_int_equal(api("'http://x/api/v1/namespaces/default/events?fieldSelector="
			     "source%%3Dpodprobe'"),
			 0);
	assert_non_null(strstr(out, "keep.17f0c0ffee"));
	assert_null(strstr(out, "\"component\":\"kubelet\""));
	assert_int_equal(api("-i http://x/api/v1/namespaces/default/events/nothere"), 0);
	assert_int_equal(atoi(out + 9), 404);
	/* Not a pod's, or a namespace mismatch: refused. */
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary "
			     "'{\"metadata\":{\"name\":\"n.1\"},\"involvedObject\":{\"kind\":"
			     "\"Node\",\"name\":\"n\"},\"reason\":\"R\"}' "
			     "http://x/api/v1/namespaces/default/events"),
			 0);
	assert_int_equal(atoi(out + 9), 422);
	assert_int_equal(api("-i -H 'Content-Type: application/json' --data-binary "
			     "'{\"metadata\":{\"name\":\"n.1\",\"namespace\":\"other\"}}' "
			     "http://x/api/v1/namespaces/default/events"),
			 0);
	assert_int_equal(atoi(out + 9), 400);
	/* The watcher saw it added, then modified with count 2. */
	{
		uint64_t t0 = t_now_ms();
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "grep -c '\"count\":2' %s", watch);
		while (t_system(cmd, out, sizeof(out)) != 0 && t_now_ms() - t0 < 10000)
			usleep(50 *
			       1000); /* curl writes the file: nothing to wait on but its content */
		snprintf(cmd, sizeof(cmd), "cat %s", watch);
		t_system(cmd, out, sizeof(out));
		assert_non_null(strstr(out, "{\"type\":\"ADDED\""));
		assert_non_null(strstr(out, "{\"type\":\"MODIFIED\""));
	}
	t_run_cleanup(&R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_create_errors),   T_TEST(test_selectors),
		T_TEST(test_many_watchers),   T_TEST(test_api_addr_checks),
		T_TEST(test_readiness_gates), T_TEST(test_events_posted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
