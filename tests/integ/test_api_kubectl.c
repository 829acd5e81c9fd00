// SPDX-License-Identifier: Apache-2.0
/*
 * The real kubectl against a running `podprobe run --api-addr=127.0.0.1:0`: get (table, wide,
 * json, -A, -l, -w), describe, logs, events, apply (created, unchanged, configured), create
 * (AlreadyExists), delete (graceful: preStop before SIGTERM, waits until gone; -l), wait,
 * --raw /metrics, and curl for 401 and TLS verification. Skipped when kubectl is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
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

#define KUBECTL "/usr/bin/kubectl"

struct kctx {
	struct t_run r;
	char kubeconfig[400];
	char cache[400];
	char out[65536];
};

static struct kctx K;

static const char web_yaml[] = "apiVersion: v1\n"
			       "kind: Pod\n"
			       "metadata:\n"
			       "  name: web\n"
			       "  labels: {app: web}\n"
			       "spec:\n"
			       "  terminationGracePeriodSeconds: 5\n"
			       "  containers:\n"
			       "  - name: web\n"
			       "    image: busybox\n"
			       "    command: [sh, -c, 'echo hello from web; exec sleep 60']\n"
			       "    readinessProbe:\n"
			       "      exec: {command: ['true']}\n"
			       "      periodSeconds: 1\n";

static const char crash_yaml[] = "apiVersion: v1\n"
				 "kind: Pod\n"
				 "metadata: {name: crash, labels: {app: crash}}\n"
				 "spec:\n"
				 "  containers:\n"
				 "  - name: app\n"
				 "    image: busybox\n"
				 "    command: [sh, -c, 'echo boom; exit 3']\n";

/* Run kubectl with the run's kubeconfig; output (stdout+stderr) in K.out; its exit code. */
static int kubectl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int kubectl(const char *fmt, ...)
{
	char args[4096], cmd[6000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 40 " KUBECTL " --kubeconfig %s --cache-dir %s %s 2>&1",
		 K.kubeconfig, K.cache, args);
	return t_system(cmd, K.out, sizeof(K.out));
}

/* Start a run serving the API on a free port with <yaml> (may be NULL) as pod file <name>. */
static void start(const char *name, const char *yaml)
{
	const char *argv[4];
	char path[512];
	size_t n = 0;

	t_run_init(&K.r);
	argv[n++] = "--api-addr=127.0.0.1:0";
	argv[n++] = "--backoff-base=200ms";
	if (yaml) {
		snprintf(path, sizeof(path), "%s", t_write_manifest(&K.r, name, yaml));
		argv[n++] = path;
	}
	argv[n] = NULL;
	t_run_start(&K.r, argv);
	snprintf(K.kubeconfig, sizeof(K.kubeconfig), "%s/kubeconfig", K.r.state_dir);
	snprintf(K.cache, sizeof(K.cache), "%s/kcache", K.r.dir);
	t_wait_file(K.kubeconfig, 10000);
}

static int setup(void **state)
{
	if (access(KUBECTL, X_OK) != 0) {
		print_message("kubectl is not installed at " KUBECTL ": skipped\n");
		skip();
	}
	return t_setup(state);
}

static void test_get_describe_logs(void **state)
{
	(void)state;
	start("web.yaml", web_yaml);
	assert_int_equal(kubectl("wait --for=condition=Ready pod/web --timeout=20s"), 0);
	assert_non_null(strstr(K.out, "pod/web condition met"));

	assert_int_equal(kubectl("get pods"), 0);
	assert_non_null(strstr(K.out, "NAME"));
	assert_non_null(strstr(K.out, "READY"));
	assert_non_null(strstr(K.out, "RESTARTS"));
	assert_non_null(strstr(K.out, "web "));
	assert_non_null(strstr(K.out, "1/1"));
	assert_non_null(strstr(K.out, "Running"));

	assert_int_equal(kubectl("get po -o wide"), 0);
	assert_non_null(strstr(K.out, "127.0.0.1"));
	assert_non_null(strstr(K.out, "NOMINATED NODE"));

	assert_int_equal(kubectl("get pods -A"), 0);
	assert_non_null(strstr(K.out, "NAMESPACE"));
	assert_non_null(strstr(K.out, "default"));

	assert_int_equal(kubectl("get pods -l app=nope"), 0);
	assert_non_null(strstr(K.out, "No resources found in default namespace."));

	assert_int_equal(kubectl("get pod web -o jsonpath='{.status.phase} "
				 "{.status.containerStatuses[0].ready} {.metadata.labels.app}'"),
			 0);
	assert_string_equal(K.out, "Running true web");

	assert_int_equal(kubectl("describe pod web"), 0);
	assert_non_null(strstr(K.out, "Name:"));
	assert_non_null(strstr(K.out, "Status:"));
	assert_non_null(strstr(K.out, "Running"));
	assert_non_null(strstr(K.out, "Events:"));
	assert_non_null(strstr(K.out, "Started"));

	assert_int_equal(kubectl("logs web"), 0);
	assert_string_equal(K.out, "hello from web\n");
	assert_int_equal(kubectl("logs web -c nope"), 1);

	assert_int_equal(kubectl("get events"), 0);
	assert_non_null(strstr(K.out, "pod/web"));
	assert_non_null(strstr(K.out, "Started"));

	assert_int_equal(kubectl("get --raw /metrics"), 0);
	assert_non_null(strstr(K.out, "prober_probe_total{"));
	assert_non_null(strstr(K.out, "probe_type=\"Readiness\""));

	assert_int_equal(kubectl("get pod nope"), 1);
	assert_non_null(strstr(K.out, "Error from server (NotFound): pods \"nope\" not found"));

	t_run_cleanup(&K.r);
}

static const char newpod_yaml[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata:\n"
	"  name: newpod\n"
	"  labels: {app: LABEL}\n"
	"spec:\n"
	"  terminationGracePeriodSeconds: 10\n"
	"  containers:\n"
	"  - name: app\n"
	"    image: busybox\n"
	"    command: [sh, -c, 'trap \"echo TERM >> DIR/order; exit 0\" TERM; "
	"while true; do sleep 0.1; done']\n"
	"    lifecycle:\n"
	"      preStop:\n"
	"        exec: {command: [sh, -c, 'echo preStop >> DIR/order']}\n";

/* Write newpod_yaml with label <label> and marks in the run's dir to <name>. */
static const char *write_newpod(const char *name, const char *label)
{
	static char path[600];
	char text[2048], *p;
	const char *src = newpod_yaml;
	size_t len = 0;

	while (*src && len < sizeof(text) - 300) {
		if (!strncmp(src, "LABEL", 5)) {
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", label);
			src += 5;
		} else if (!strncmp(src, "DIR", 3)) {
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", K.r.dir);
			src += 3;
		} else {
			text[len++] = *src++;
		}
	}
	text[len] = '\0';
	p = (char *)t_write_manifest(&K.r, name, text);
	snprintf(path, sizeof(path), "%s", p);
	return path;
}

static void test_apply_create_delete(void **state)
{
	char order[600], buf[256];
	int fd;
	ssize_t n;

	(void)state;
	start(NULL, NULL);
	assert_int_equal(kubectl("apply -f %s", write_newpod("new.yaml", "one")), 0);
	assert_non_null(strstr(K.out, "pod/newpod created"));
	assert_int_equal(kubectl("wait --for=condition=Ready pod/newpod --timeout=20s"), 0);
	assert_int_equal(kubectl("apply -f %s", write_newpod("new.yaml", "one")), 0);
	assert_non_null(strstr(K.out, "pod/newpod unchanged"));
	assert_int_equal(kubectl("apply -f %s", write_newpod("new.yaml", "two")), 0);
	assert_non_null(strstr(K.out, "pod/newpod configured"));
	assert_int_equal(kubectl("get pods -l app=two -o name"), 0);
	assert_string_equal(K.out, "pod/newpod\n");
	assert_int_equal(kubectl("create -f %s", write_newpod("new.yaml", "two")), 1);
	assert_non_null(strstr(K.out, "(AlreadyExists)"));
	assert_non_null(strstr(K.out, "pods \"newpod\" already exists"));

	/* Graceful: preStop runs before the SIGTERM, and delete returns once it is gone. */
	assert_int_equal(kubectl("delete pod newpod"), 0);
	assert_non_null(strstr(K.out, "pod \"newpod\" deleted"));
	snprintf(order, sizeof(order), "%s/order", K.r.dir);
	fd = open(order, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "preStop\nTERM\n");
	assert_int_equal(kubectl("get pod newpod"), 1);
	assert_non_null(strstr(K.out, "(NotFound)"));
	t_run_cleanup(&K.r);
}

static void test_status_strings(void **state)
{
	(void)state;
	start("crash.yaml", crash_yaml);
	/* kubectl's own watch waits for the back-off. */
	assert_int_equal(kubectl("wait --for=jsonpath='{.status.containerStatuses[0].state.waiting"
				 ".reason}'=CrashLoopBackOff pod/crash --timeout=30s"),
			 0);
	assert_int_equal(kubectl("get pod crash --no-headers"), 0);
	assert_non_null(strstr(K.out, "crash"));
	assert_non_null(strstr(K.out, "0/1"));
	assert_non_null(strstr(K.out, "CrashLoopBackOff"));
	assert_non_null(strstr(K.out, " ago)"));
	assert_int_equal(kubectl("get pod crash -o jsonpath='{.status.containerStatuses[0]"
				 ".lastState.terminated.exitCode}'"),
			 0);
	assert_string_equal(K.out, "3");
	assert_int_equal(kubectl("logs crash --previous"), 0);
	assert_string_equal(K.out, "boom\n");
	t_run_cleanup(&K.r);
}

/* Wait until file <path> holds <text> (output of a command in the background). */
static void wait_text(const char *path, const char *text, int timeout_ms)
{
	char buf[16384];
	uint64_t until = t_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, text))
			return;
		if (t_now_ms() > until)
			fail_msg("'%s' did not show \"%s\" within %d ms: %s", path, text,
				 timeout_ms, buf);
		usleep(20000);
	}
}

static void test_watch(void **state)
{
	char cmd[2000], out[8192], watch[600];

	(void)state;
	start("web.yaml", web_yaml);
	assert_int_equal(kubectl("wait --for=condition=Ready pod/web --timeout=20s"), 0);
	/* A watch that sees the pod go Terminating and then gone, while delete waits for it. */
	snprintf(watch, sizeof(watch), "%s/watch.out", K.r.dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 20 " KUBECTL
		 " --kubeconfig %.400s --cache-dir %.400s get pods -w > %.500s "
		 "2>&1 &",
		 K.kubeconfig, K.cache, watch);
	assert_int_equal(t_system(cmd, NULL, 0), 0);
	wait_text(watch, "Running", 20000); /* its list is printed: the watch is next */
	assert_int_equal(kubectl("delete pod web"), 0);
	snprintf(out, sizeof(out), "%.8000s", K.out);
	wait_text(watch, "Terminating", 20000);
	assert_non_null(strstr(out, "pod \"web\" deleted"));
	t_run_cleanup(&K.r);
}

static void test_auth_tls(void **state)
{
	char cmd[2000], out[8192], ca[600];

	(void)state;
	start(NULL, NULL);
	assert_int_equal(kubectl("config view --raw -o jsonpath='{.clusters[0].cluster.server}'"),
			 0);
	{
		char server[256];

		snprintf(server, sizeof(server), "%.200s", K.out);
		snprintf(ca, sizeof(ca), "%s/ca.pem", K.r.dir);
		snprintf(cmd, sizeof(cmd),
			 KUBECTL " --kubeconfig %s config view --raw -o "
				 "jsonpath='{.clusters[0].cluster.certificate-authority-data}' | "
				 "base64 -d > %s",
			 K.kubeconfig, ca);
		assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
		/* Verified against the kubeconfig's CA, and no token: 401 with a Status. */
		snprintf(cmd, sizeof(cmd), "curl -sS --cacert %s %s/api/v1/pods", ca, server);
		assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "\"kind\":\"Status\""));
		assert_non_null(strstr(out, "\"code\":401"));
		/* Health needs no token. */
		snprintf(cmd, sizeof(cmd), "curl -sS --cacert %s %s/healthz", ca, server);
		assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
		assert_string_equal(out, "ok");
		/* Without the CA the certificate does not verify. */
		snprintf(cmd, sizeof(cmd), "curl -sS %s/healthz", server);
		assert_int_not_equal(t_system(cmd, out, sizeof(out)), 0);
	}
	t_run_cleanup(&K.r);
}

static const char more_yaml[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: init, labels: {app: x}}\n"
	"spec:\n"
	"  initContainers:\n"
	"  - {name: wait, image: busybox, command: [sleep, '60']}\n"
	"  containers:\n"
	"  - {name: main, image: busybox, command: [sleep, '60']}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: talk, labels: {app: x}}\n"
	"spec:\n"
	"  restartPolicy: Never\n"
	"  containers:\n"
	"  - name: talk\n"
	"    image: busybox\n"
	"    command: [sh, -c, 'for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done']\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: other, labels: {app: y}}\n"
	"spec:\n"
	"  terminationGracePeriodSeconds: 30\n"
	"  containers:\n"
	"  - {name: o, image: busybox, command: [sleep, '60']}\n";

static void test_more_commands(void **state)
{
	(void)state;
	start("more.yaml", more_yaml);
	assert_int_equal(kubectl("wait --for=condition=Ready pod/other --timeout=20s"), 0);
	assert_int_equal(kubectl("get pod init --no-headers"), 0);
	assert_non_null(strstr(K.out, "Init:0/1"));
	/* Follows until the container ends; the lines as they came. */
	assert_int_equal(kubectl("logs -f talk"), 0);
	assert_string_equal(K.out, "line 1\nline 2\nline 3\nline 4\nline 5\n");
	assert_int_equal(kubectl("logs talk --tail 2"), 0);
	assert_string_equal(K.out, "line 4\nline 5\n");
	/* Each line with the time it was written (0.3 s apart), RFC3339Nano as kubelet's. */
	assert_int_equal(kubectl("logs talk --timestamps"), 0);
	{
		double t[5];
		char *p = K.out;

		for (int i = 0; i < 5; i++) {
			unsigned int h, m;
			double sec;
			char text[16];

			assert_int_equal(sscanf(p, "%*4d-%*2d-%*2dT%2u:%2u:%lfZ %15[^\n]", &h, &m,
						&sec, text),
					 4);
			assert_int_equal(strlen(p) > 31 && p[19] == '.' && p[29] == 'Z', 1);
			t[i] = h * 3600.0 + m * 60.0 + sec;
			p = strchr(p, '\n');
			assert_non_null(p);
			p++;
		}
		for (int i = 1; i < 5; i++)
			assert_true(t[i] - t[i - 1] > 0.2 && t[i] - t[i - 1] < 0.6);
	}
	assert_int_equal(kubectl("get pod talk -o yaml"), 0);
	assert_non_null(strstr(K.out, "phase: Succeeded"));
	assert_non_null(strstr(K.out, "reason: Completed"));
	assert_int_equal(kubectl("get pods --no-headers"), 0);
	assert_non_null(strstr(K.out, "Completed"));
	/* kubectl follows the server's continue tokens: one pod per page, all three rows. */
	assert_int_equal(kubectl("get pods --chunk-size=1 -o name"), 0);
	assert_string_equal(K.out, "pod/init\npod/talk\npod/other\n");
	/* -l deletes only what it selects. */
	assert_int_equal(kubectl("delete pods -l app=x --grace-period=1"), 0);
	assert_non_null(strstr(K.out, "pod \"init\" deleted"));
	assert_non_null(strstr(K.out, "pod \"talk\" deleted"));
	assert_null(strstr(K.out, "\"other\""));
	assert_int_equal(kubectl("get pods -o name"), 0);
	assert_string_equal(K.out, "pod/other\n");
	/* --now: one second of grace instead of the pod's 30. */
	{
		uint64_t t0 = t_now_ms();

		assert_int_equal(kubectl("delete pod other --now"), 0);
		assert_true(t_now_ms() - t0 < 10000);
	}
	assert_int_equal(kubectl("get pods"), 0);
	assert_non_null(strstr(K.out, "No resources found in default namespace."));
	assert_int_equal(kubectl("delete pod nope"), 1);
	assert_non_null(strstr(K.out, "Error from server (NotFound): pods \"nope\" not found"));
	t_run_cleanup(&K.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_describe_logs, setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_apply_create_delete, setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_status_strings, setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_auth_tls, setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_more_commands, setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
