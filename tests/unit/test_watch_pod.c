// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s pure half: Pod JSON, changes, cgroup names, main pid, proxy paths, probes
 * that ask the probe proxy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/watch_pod.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The shape `kubectl get pods -o json` prints for one item, trimmed. */
static const char pod_json[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	"\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"uid\":\"1b2c3d4e-aaaa\","
	"\"resourceVersion\":\"77\",\"managedFields\":[{\"manager\":\"kubectl\"}],"
	"\"annotations\":{\"probe.podprobe.io/act\":\"restart\","
	"\"probe.podprobe.io/period-ms\":\"200\","
	"\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\"}},"
	"\"spec\":{\"nodeName\":\"n1\",\"dnsPolicy\":\"ClusterFirst\","
	"\"readinessGates\":[{\"conditionType\":\"other\"},{\"conditionType\":\"podprobe.io/"
	"ready\"}],"
	"\"containers\":[{\"name\":\"app\",\"image\":\"nginx\",\"resources\":{},"
	"\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}],"
	"\"readinessProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":\"http\",\"scheme\":"
	"\"HTTP\"},\"periodSeconds\":10,\"timeoutSeconds\":1,\"successThreshold\":1,"
	"\"failureThreshold\":3},"
	"\"livenessProbe\":{\"tcpSocket\":{\"port\":8080}}},"
	"{\"name\":\"side\",\"image\":\"busybox\"}]},"
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.2.3\",\"hostIP\":\"192.168.1.5\","
	"\"containerStatuses\":[{\"name\":\"side\",\"containerID\":\"docker://abc\","
	"\"restartCount\":0,\"ready\":false,\"started\":true,\"state\":{\"waiting\":{}}},"
	"{\"name\":\"app\",\"containerID\":\"containerd://" ID64 "\",\"restartCount\":2,"
	"\"ready\":true,\"started\":true,\"state\":{\"running\":{\"startedAt\":\"x\"}}}]}}";

static struct pp_watch_pod *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	struct pp_watch_pod *p = NULL;
	char err[128];

	assert_non_null(j);
	assert_int_equal(pp_watch_pod_from_json(j, &p, err, sizeof(err)), 0);
	json_decref(j);
	return p;
}

static void test_pod_fields(void **state)
{
	struct pp_watch_pod *p = parse(pod_json);

	assert_string_equal(p->namespace, "shop");
	assert_string_equal(p->name, "web-1");
	assert_string_equal(p->uid, "1b2c3d4e-aaaa");
	assert_string_equal(p->pod_ip, "10.1.2.3");
	assert_string_equal(p->host_ip, "192.168.1.5");
	assert_true(p->gate);
	assert_true(p->act_restart);
	assert_true(p->has_probes);
	assert_int_equal(p->n_containers, 2);
	/* Statuses are matched by name, not by position. */
	assert_string_equal(p->containers[0].name, "app");
	assert_string_equal(p->containers[0].container_id, "containerd://" ID64);
	assert_int_equal(p->containers[0].restart_count, 2);
	assert_true(p->containers[0].ready);
	assert_true(p->containers[0].running);
	assert_string_equal(p->containers[1].container_id, "docker://abc");
	assert_false(p->containers[1].running);
	assert_false(p->containers[1].ready);
	pp_watch_pod_free(p);
}

static void test_probe_doc_is_a_minimal_manifest(void **state)
{
	struct pp_watch_pod *p = parse(pod_json);
	json_t *d = p->probe_doc, *c0, *ann;

	assert_string_equal(json_string_value(json_object_get(d, "kind")), "Pod");
	/* Only what the manifest reader knows: no status, managedFields, nodeName. */
	assert_null(json_object_get(d, "status"));
	assert_null(json_object_get(json_object_get(d, "metadata"), "managedFields"));
	assert_null(json_object_get(json_object_get(d, "spec"), "nodeName"));
	ann = json_object_get(json_object_get(d, "metadata"), "annotations");
	assert_non_null(json_object_get(ann, "probe.podprobe.io/period-ms"));
	assert_null(json_object_get(ann, "kubectl.kubernetes.io/last-applied-configuration"));
	c0 = json_array_get(json_object_get(json_object_get(d, "spec"), "containers"), 0);
	assert_null(json_object_get(c0, "resources"));
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(c0, "readinessProbe"), "httpGet"), "port")),
		"http");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(c0, "ports"), 0), "containerPort")),
			 8080);
	pp_watch_pod_free(p);
}

static void test_pod_without_uid_is_refused(void **state)
{
	json_t *j = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);
	struct pp_watch_pod *p = NULL;
	char err[64];

	assert_int_equal(pp_watch_pod_from_json(j, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no metadata.uid");
	assert_null(p);
	json_decref(j);
	j = json_loads("[1]", 0, NULL);
	assert_int_equal(pp_watch_pod_from_json(j, &p, err, sizeof(err)), -EINVAL);
	json_decref(j);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(s) + strlen(to) + 1);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

static void assert_change(const char *from, const char *to, enum pp_watch_change want,
			  uint64_t want_mask)
{
	char *text = replace(pod_json, from, to);
	struct pp_watch_pod *a = parse(pod_json), *b = parse(text);
	uint64_t mask = 99;

	assert_string_equal(pp_watch_change_str(pp_watch_pod_compare(a, b, &mask)),
			    pp_watch_change_str(want));
	assert_int_equal(mask, want_mask);
	pp_watch_pod_free(a);
	pp_watch_pod_free(b);
	free(text);
}

static void test_compare(void **state)
{
	/* Status noise (kubelet's ready flag, resourceVersion) is not a change. */
	assert_change("\"ready\":true", "\"ready\":false", PP_WATCH_SAME, 0);
	assert_change("\"resourceVersion\":\"77\"", "\"resourceVersion\":\"78\"", PP_WATCH_SAME, 0);
	/* A restarted container: a new ID, or a new restart count (podprobe run's leaf). */
	assert_change("containerd://0123", "containerd://9123", PP_WATCH_CONTAINERS, 1);
	assert_change("\"restartCount\":0", "\"restartCount\":1", PP_WATCH_CONTAINERS, 2);
	assert_change("\"state\":{\"waiting\":{}}", "\"state\":{\"running\":{}}",
		      PP_WATCH_CONTAINERS, 2);
	/* Probes, podIP, opt-in and gate rebuild the pod. */
	assert_change("\"periodSeconds\":10", "\"periodSeconds\":5", PP_WATCH_SPEC, 0);
	assert_change("10.1.2.3", "10.1.2.4", PP_WATCH_SPEC, 0);
	assert_change("\"restart\"", "\"none\"", PP_WATCH_SPEC, 0);
	assert_change("podprobe.io/ready", "podprobe.io/other", PP_WATCH_SPEC, 0);
	assert_string_equal(pp_watch_change_str(_PP_WATCH_CHANGE_MAX), "?");
}

static void test_cgroup_names(void **state)
{
	struct pp_watch_cg_names n;

	assert_int_equal(pp_watch_cgroup_names("containerd://" ID64, "u", "app", 0, &n), 0);
	assert_int_equal(n.runtime, PP_WATCH_RT_CONTAINERD);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.names[0], "cri-containerd-" ID64 ".scope");
	assert_string_equal(n.names[1], ID64);
	assert_int_equal(pp_watch_cgroup_names("cri-o://" ID64, "u", "app", 0, &n), 0);
	assert_string_equal(n.names[0], "crio-" ID64 ".scope");
	assert_string_equal(n.names[1], "crio-" ID64);
	assert_int_equal(pp_watch_cgroup_names("docker://abc", "u", "app", 0, &n), 0);
	assert_string_equal(n.names[0], "docker-abc.scope");
	assert_string_equal(n.names[1], "abc");
	/* podprobe run: <container>-<first 8 bytes of the uid>-<restart count>. */
	assert_int_equal(
		pp_watch_cgroup_names("podprobe://fnv1a64:00ff", "1b2c3d4e-aaaa", "web", 3, &n), 0);
	assert_int_equal(n.runtime, PP_WATCH_RT_PODPROBE);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.names[0], "web-1b2c3d4e-3");
	/* Nothing that could walk out of the tree, nothing unknown. */
	assert_int_equal(pp_watch_cgroup_names("containerd://../x", "u", "a", 0, &n), -EINVAL);
	assert_int_equal(pp_watch_cgroup_names("containerd://..", "u", "a", 0, &n), -EINVAL);
	assert_int_equal(pp_watch_cgroup_names("containerd://", "u", "a", 0, &n), -EINVAL);
	assert_int_equal(pp_watch_cgroup_names(ID64, "u", "a", 0, &n), -EINVAL);
	assert_int_equal(pp_watch_cgroup_names(NULL, "u", "a", 0, &n), -EINVAL);
	assert_int_equal(pp_watch_cgroup_names("rkt://abc", "u", "a", 0, &n), -EPROTONOSUPPORT);
	assert_int_equal(pp_watch_cgroup_names("podprobe://h", "u", "../a", 0, &n), -EINVAL);
}

static void test_main_pid(void **state)
{
	/* A shell (parent: the shim, 10) with two children and a grandchild. */
	const int32_t pids[] = {300, 120, 200, 400}, ppids[] = {120, 10, 120, 300};
	const int32_t two[] = {50, 40}, two_pp[] = {1, 1};
	const int32_t cyc[] = {7, 8}, cyc_pp[] = {8, 7};

	assert_int_equal(pp_watch_main_pid(pids, ppids, 4), 120);
	assert_int_equal(pp_watch_main_pid(two, two_pp, 2), 40);
	assert_int_equal(pp_watch_main_pid(cyc, cyc_pp, 2), 7);
	assert_int_equal(pp_watch_main_pid(NULL, NULL, 0), -ENOENT);
}

static void test_proxy_path(void **state)
{
	char ns[16], pod[16], c[16];
	enum pp_probe_kind k = _PP_PROBE_MAX;

	assert_int_equal(pp_watch_proxy_path("/probe/shop/web-1/app/readiness", ns, pod, c, 16, &k),
			 0);
	assert_string_equal(ns, "shop");
	assert_string_equal(pod, "web-1");
	assert_string_equal(c, "app");
	assert_int_equal(k, PP_PROBE_READINESS);
	assert_int_equal(pp_watch_proxy_path("/probe/a/b%2Dc/d/liveness", ns, pod, c, 16, &k), 0);
	assert_string_equal(pod, "b-c");
	assert_int_equal(k, PP_PROBE_LIVENESS);
	assert_int_equal(pp_watch_proxy_path("/probe/a/b/c/startup", ns, pod, c, 16, &k), 0);
	assert_int_equal(k, PP_PROBE_STARTUP);
	for (k = 0; k < _PP_PROBE_MAX; k++) {
		char path[64];
		enum pp_probe_kind got = _PP_PROBE_MAX;

		snprintf(path, sizeof(path), "/probe/a/b/c/%s", pp_watch_kind_str(k));
		assert_int_equal(pp_watch_proxy_path(path, ns, pod, c, 16, &got), 0);
		assert_int_equal(got, k);
	}
	assert_string_equal(pp_watch_kind_str(_PP_PROBE_MAX), "?");
	assert_int_equal(pp_watch_proxy_path("/probe/a/b/c/other", ns, pod, c, 16, &k), -ENOENT);
	assert_int_equal(pp_watch_proxy_path("/probe/a/b/readiness", ns, pod, c, 16, &k), -ENOENT);
	assert_int_equal(pp_watch_proxy_path("/probe/a//c/readiness", ns, pod, c, 16, &k), -ENOENT);
	assert_int_equal(pp_watch_proxy_path("/probe/a/b/c/readiness/x", ns, pod, c, 16, &k),
			 -ENOENT);
	assert_int_equal(pp_watch_proxy_path("/metrics", ns, pod, c, 16, &k), -ENOENT);
	assert_int_equal(pp_watch_proxy_path("/probe/a/%00/c/readiness", ns, pod, c, 16, &k),
			 -ENOENT);
	assert_int_equal(
		pp_watch_proxy_path("/probe/a/0123456789abcdefXYZ/c/readiness", ns, pod, c, 16, &k),
		-ENAMETOOLONG);
}

/* An exec handler of the <n> arguments <argv>. */
static struct pp_handler exec_of(char **argv, size_t n)
{
	return (struct pp_handler){.kind = PP_HANDLER_EXEC, .command = argv, .n_command = n};
}

/*
 * A probe that asks podprobe's own probe proxy is recognised (deploy/example-workload.yaml's
 * exec wget, an httpGet on the proxy's port), with the verdict its path names; everything
 * else, the same path on another port included, is an ordinary probe.
 */
static void test_probe_proxied(void **state)
{
	char *wget[] = {"wget", "-q", "-O", "/dev/null",
			"http://$(HOST_IP):10280/probe/default/web/web/readiness"};
	char *sh[] = {"/bin/sh", "-c",
		      "curl -fs 'http://10.0.0.1:10280/probe/shop/db-0/pg/liveness?x=1' && true"};
	char *other_port[] = {"wget", "http://$(HOST_IP):8080/probe/default/web/web/readiness"};
	char *longer_port[] = {"wget", "http://$(HOST_IP):102800/probe/default/web/web/readiness"};
	char *no_probe[] = {"wget", "http://$(HOST_IP):10280/healthz"};
	char *var_path[] = {"wget",
			    "http://$(HOST_IP):10280/probe/default/$(POD_NAME)/web/readiness"};
	char *bad_kind[] = {"wget", "http://127.0.0.1:10280/probe/default/web/web/ready"};
	struct pp_handler http = {.kind = PP_HANDLER_HTTP_GET,
				  .path = "/probe/default/web/web/liveness"};
	struct pp_handler h;
	struct pp_watch_proxy_ref ref;

	memset(&ref, 0, sizeof(ref));
	h = exec_of(wget, 5);
	assert_true(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	assert_true(ref.named);
	assert_string_equal(ref.ns, "default");
	assert_string_equal(ref.pod, "web");
	assert_string_equal(ref.container, "web");
	assert_int_equal(ref.kind, PP_PROBE_READINESS);

	/* One shell argument; the path ends at the quote or the query. */
	h = exec_of(sh, 3);
	assert_true(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	assert_true(ref.named);
	assert_string_equal(ref.pod, "db-0");
	assert_string_equal(ref.container, "pg");
	assert_int_equal(ref.kind, PP_PROBE_LIVENESS);

	/* The proxy listens elsewhere: an ordinary probe (and ref untouched). */
	memset(&ref, 0x5a, sizeof(ref));
	h = exec_of(wget, 5);
	assert_false(pp_watch_probe_proxied(&h, -1, 10281, &ref));
	h = exec_of(other_port, 2);
	assert_false(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	h = exec_of(longer_port, 2);
	assert_false(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	h = exec_of(no_probe, 2);
	assert_false(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	assert_int_equal(((unsigned char *)&ref)[0], 0x5a);
	assert_false(pp_watch_probe_proxied(&h, -1, 0, &ref));
	assert_false(pp_watch_probe_proxied(NULL, -1, 10280, &ref));

	/* Asks the proxy, but for a path it cannot name: not run, and nothing to answer from. */
	h = exec_of(var_path, 2);
	assert_true(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	assert_false(ref.named);
	h = exec_of(bad_kind, 2);
	assert_true(pp_watch_probe_proxied(&h, -1, 10280, &ref));
	assert_false(ref.named);

	/* httpGet: the path and the (resolved) port decide. */
	assert_true(pp_watch_probe_proxied(&http, 10280, 10280, &ref));
	assert_true(ref.named);
	assert_int_equal(ref.kind, PP_PROBE_LIVENESS);
	assert_false(pp_watch_probe_proxied(&http, 8080, 10280, &ref));
	assert_false(pp_watch_probe_proxied(&http, -1, 10280, &ref));
	http.path = "/healthz/probe/default/web/web/liveness";
	assert_false(pp_watch_probe_proxied(&http, 10280, 10280, &ref));
	http.path = NULL; /* "/" */
	assert_false(pp_watch_probe_proxied(&http, 10280, 10280, &ref));
	h = (struct pp_handler){.kind = PP_HANDLER_TCP_SOCKET, .port = {.number = 10280}};
	assert_false(pp_watch_probe_proxied(&h, 10280, 10280, &ref));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_fields),
		cmocka_unit_test(test_probe_doc_is_a_minimal_manifest),
		cmocka_unit_test(test_pod_without_uid_is_refused),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_cgroup_names),
		cmocka_unit_test(test_main_pid),
		cmocka_unit_test(test_proxy_path),
		cmocka_unit_test(test_probe_proxied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
