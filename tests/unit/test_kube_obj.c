// SPDX-License-Identifier: Apache-2.0
/*
 * The pure half of the Kubernetes API client: kubeconfig reading (current context, data and
 * file fields, relative paths, refused plugins, field paths in errors), server URLs, base64,
 * request paths, watch lines, the condition patch, Events and their key, and the back-off.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/kube_obj.h"

/* base64("-----BEGIN CERTIFICATE-----\nX\n") */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClgK"

static json_t *doc(const char *text)
{
	json_error_t je;
	json_t *d = json_loads(text, 0, &je);

	if (!d)
		fail_msg("bad test JSON: %s", je.text);
	return d;
}

static int parse(const char *text, struct pp_kube_config *c, char *err, size_t size)
{
	json_t *d = doc(text);
	int rc = pp_kube_config_parse(d, "/k/config", "/k", c, err, size);

	json_decref(d);
	return rc;
}

static void test_config_current_context(void **state)
{
	struct pp_kube_config c;
	char err[512];

	(void)state;
	assert_int_equal(parse("{\"current-context\":\"b\",\"clusters\":["
			       "{\"name\":\"x\",\"cluster\":{\"server\":\"https://10.9.9.9\"}},"
			       "{\"name\":\"y\",\"cluster\":{\"server\":\"https://[::1]:6443/\","
			       "\"certificate-authority-data\":\"" CA_B64 "\"}}],"
			       "\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"abc\"}}],"
			       "\"contexts\":[{\"name\":\"a\",\"context\":{\"cluster\":\"x\","
			       "\"user\":\"u\"}},"
			       "{\"name\":\"b\",\"context\":{\"cluster\":\"y\",\"user\":\"u\","
			       "\"namespace\":\"ns1\"}}]}",
			       &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.host, "::1");
	assert_int_equal(c.port, 6443);
	assert_true(c.host_is_ip);
	assert_string_equal(c.ca_pem, "-----BEGIN CERTIFICATE-----\nX\n");
	assert_null(c.ca_file);
	assert_string_equal(c.token, "abc");
	assert_string_equal(c.ns, "ns1");
	assert_string_equal(c.context, "b");
	assert_false(c.insecure);
	pp_kube_config_fini(&c);
	assert_null(c.server);
}

static void test_config_files_relative(void **state)
{
	struct pp_kube_config c;
	char err[512];

	(void)state;
	assert_int_equal(
		parse("{\"current-context\":\"a\",\"clusters\":[{\"name\":\"x\",\"cluster\":{"
		      "\"server\":\"https://api.example:443\",\"certificate-authority\":\"ca.pem\","
		      "\"insecure-skip-tls-verify\":true}}],"
		      "\"users\":[{\"name\":\"u\",\"user\":{\"tokenFile\":\"/t/tok\","
		      "\"client-certificate\":\"c.pem\",\"client-key\":\"/abs/k.pem\"}}],"
		      "\"contexts\":[{\"name\":\"a\",\"context\":{\"cluster\":\"x\",\"user\":\"u\"}"
		      "}]}",
		      &c, err, sizeof(err)),
		0);
	assert_string_equal(c.host, "api.example");
	assert_false(c.host_is_ip);
	assert_int_equal(c.port, 443);
	assert_true(c.insecure);
	assert_string_equal(c.ca_file, "/k/ca.pem");
	assert_string_equal(c.token_file, "/t/tok");
	assert_null(c.token);
	assert_string_equal(c.cert_file, "/k/c.pem");
	assert_string_equal(c.key_file, "/abs/k.pem");
	assert_string_equal(c.ns, "default");
	pp_kube_config_fini(&c);
}

static void expect_err(const char *text, int rc, const char *needle)
{
	struct pp_kube_config c = {0};
	char err[512] = "";

	assert_int_equal(parse(text, &c, err, sizeof(err)), rc);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	assert_non_null(strstr(err, "kubeconfig /k/config: "));
	assert_null(c.server);
}

#define CTX_U "\"contexts\":[{\"name\":\"a\",\"context\":{\"cluster\":\"x\",\"user\":\"u\"}}]"
#define CL_X  "\"clusters\":[{\"name\":\"x\",\"cluster\":{\"server\":\"https://1.2.3.4:1\"}}]"

static void test_config_errors(void **state)
{
	(void)state;
	expect_err("{\"clusters\":[]}", -EINVAL, "current-context: not set");
	expect_err("{\"current-context\":\"zz\"," CTX_U "}", -EINVAL, "no context named \"zz\"");
	expect_err("{\"current-context\":\"a\"," CTX_U "}", -EINVAL,
		   "contexts[0].context.cluster: no cluster named \"x\"");
	expect_err("{\"current-context\":\"a\"," CTX_U "," CL_X "}", -EINVAL,
		   "contexts[0].context.user: no user named \"u\"");
	expect_err("{\"current-context\":\"a\"," CTX_U "," CL_X ",\"users\":[{\"name\":\"v\"},"
		   "{\"name\":\"u\",\"user\":{\"exec\":{\"command\":\"x\"}}}]}",
		   -ENOTSUP, "users[1].user.exec: exec credential plugins are not supported");
	expect_err("{\"current-context\":\"a\"," CTX_U "," CL_X ",\"users\":[{\"name\":\"u\","
		   "\"user\":{\"auth-provider\":{\"name\":\"gcp\"}}}]}",
		   -ENOTSUP, "users[0].user.auth-provider");
	expect_err("{\"current-context\":\"a\"," CTX_U ",\"users\":[{\"name\":\"u\",\"user\":{}}],"
		   "\"clusters\":[{\"name\":\"x\",\"cluster\":{\"server\":\"http://1.2.3.4\"}}]}",
		   -ENOTSUP, "clusters[0].cluster.server: only https://");
	expect_err("{\"current-context\":\"a\"," CTX_U ",\"users\":[{\"name\":\"u\",\"user\":{}}],"
		   "\"clusters\":[{\"name\":\"x\",\"cluster\":{\"server\":\"https://h:1\","
		   "\"certificate-authority-data\":\"%%%\"}}]}",
		   -EINVAL, "clusters[0].cluster.certificate-authority-data: not valid base64");
	expect_err("{\"current-context\":\"a\"," CTX_U "," CL_X ",\"users\":[{\"name\":\"u\","
		   "\"user\":{\"client-certificate-data\":\"" CA_B64 "\"}}]}",
		   -EINVAL, "users[0].user: a client certificate needs its key");
}

static void test_server_parse(void **state)
{
	char host[64];
	int port;
	bool ip;

	(void)state;
	assert_int_equal(
		pp_kube_server_parse("https://127.0.0.1:41000", host, sizeof(host), &port, &ip), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 41000);
	assert_true(ip);
	assert_int_equal(
		pp_kube_server_parse("HTTPS://kube.local/", host, sizeof(host), &port, &ip), 0);
	assert_int_equal(port, 443);
	assert_false(ip);
	assert_int_equal(pp_kube_server_parse("https://1.2.3.4.5", host, sizeof(host), &port, &ip),
			 0);
	assert_false(ip); /* not an address: verified as a name */
	assert_int_equal(pp_kube_server_parse("http://h", host, sizeof(host), &port, &ip),
			 -ENOTSUP);
	assert_int_equal(pp_kube_server_parse("https://h:0", host, sizeof(host), &port, &ip),
			 -EINVAL);
	assert_int_equal(pp_kube_server_parse("https://h:70000", host, sizeof(host), &port, &ip),
			 -EINVAL);
	assert_int_equal(pp_kube_server_parse("https://h/prefix", host, sizeof(host), &port, &ip),
			 -EINVAL);
	assert_int_equal(pp_kube_server_parse("https://", host, sizeof(host), &port, &ip), -EINVAL);
	assert_int_equal(pp_kube_server_parse("https://[::1", host, sizeof(host), &port, &ip),
			 -EINVAL);
	assert_int_equal(
		pp_kube_server_parse("https://averyveryverylonghostname", host, 8, &port, &ip),
		-ENAMETOOLONG);
}

static void test_b64(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(pp_kube_b64_decode("aGVsbG8=", &out), 5);
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(pp_kube_b64_decode("aGVs\nbG8", &out), 5); /* no padding, a newline */
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(pp_kube_b64_decode("", &out), 0);
	free(out);
	assert_int_equal(pp_kube_b64_decode("aGVsbG8=x", &out), -EINVAL);
	assert_int_equal(pp_kube_b64_decode("a", &out), -EINVAL);
	assert_int_equal(pp_kube_b64_decode("a!==", &out), -EINVAL);
}

static void test_paths(void **state)
{
	char buf[512];

	(void)state;
	assert_true(pp_kube_list_path(buf, sizeof(buf), "node-1", 500, NULL) > 0);
	assert_string_equal(buf, "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500");
	assert_true(pp_kube_list_path(buf, sizeof(buf), "n", 500, "tok/+=") > 0);
	assert_string_equal(buf,
			    "/api/v1/pods?fieldSelector=spec.nodeName%3Dn&limit=500&continue=tok%2F"
			    "%2B%3D");
	assert_true(pp_kube_watch_path(buf, sizeof(buf), "n&x", "107", 421) > 0);
	assert_string_equal(buf, "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=spec."
				 "nodeName%3Dn%26x&resourceVersion=107&timeoutSeconds=421&watch=1");
	assert_int_equal(pp_kube_list_path(buf, 20, "node-1", 500, NULL), -ENOSPC);
	assert_int_equal(pp_kube_query_escape("abc", buf, 3), -ENOSPC);
}

static void test_watch_decode(void **state)
{
	struct pp_kube_watch_ev ev;
	char err[200];
	const char *l;

	(void)state;
	l = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
	    "\"resourceVersion\":\"42\"}}}";
	assert_int_equal(pp_kube_watch_decode(l, strlen(l), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PP_KUBE_WATCH_MODIFIED);
	assert_string_equal(ev.rv, "42");
	assert_string_equal(json_string_value(json_object_get(ev.object, "kind")), "Pod");
	json_decref(ev.object);

	l = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"77\"}}}";
	assert_int_equal(pp_kube_watch_decode(l, strlen(l), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PP_KUBE_WATCH_BOOKMARK);
	assert_string_equal(ev.rv, "77");
	json_decref(ev.object);

	l = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
	    "\"Expired\",\"message\":\"too old resource version: 1 (5)\"}}";
	assert_int_equal(pp_kube_watch_decode(l, strlen(l), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PP_KUBE_WATCH_ERROR);
	assert_int_equal(ev.code, 410);
	assert_null(ev.rv);
	json_decref(ev.object);

	/* only <len> bytes count: a line cut out of a larger buffer */
	l = "{\"type\":\"DELETED\",\"object\":{}}{garbage";
	assert_int_equal(pp_kube_watch_decode(l, 30, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, PP_KUBE_WATCH_DELETED);
	json_decref(ev.object);

	assert_int_equal(pp_kube_watch_decode("{\"type\":\"ADDED\"}", 16, &ev, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "no object"));
	l = "{\"type\":\"RENAMED\",\"object\":{}}";
	assert_int_equal(pp_kube_watch_decode(l, strlen(l), &ev, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown type"));
	assert_int_equal(pp_kube_watch_decode("{not json", 9, &ev, err, sizeof(err)), -EBADMSG);
	assert_int_equal(pp_kube_watch_decode("", 0, &ev, NULL, 0), -EBADMSG);
}

/* 2026-12-01T05:35:42Z */
#define T0 ((pp_wall_ns)1796103342 * 1000000000)

static void test_condition_patch(void **state)
{
	json_t *p;
	char *s;

	(void)state;
	p = pp_kube_condition_patch("u-1", "podprobe.io/ready", false, "ProbeFailed", "port 80",
				    T0);
	s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"metadata\":{\"uid\":\"u-1\"},\"status\":{\"conditions\":[{"
			       "\"lastProbeTime\":null,\"lastTransitionTime\":"
			       "\"2026-12-01T05:35:42Z\",\"message\":\"port 80\",\"reason\":"
			       "\"ProbeFailed\",\"status\":\"False\",\"type\":\"podprobe.io/"
			       "ready\"}]}}");
	free(s);
	json_decref(p);
	p = pp_kube_condition_patch(NULL, "x", true, NULL, NULL, T0);
	s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"status\":{\"conditions\":[{\"lastProbeTime\":null,"
			       "\"lastTransitionTime\":\"2026-12-01T05:35:42Z\",\"status\":"
			       "\"True\",\"type\":\"x\"}]}}");
	free(s);
	json_decref(p);
}

static void test_event(void **state)
{
	struct pp_kube_event_info e = {.ns = "default",
				       .name = "web",
				       .uid = "u-1",
				       .type = "Warning",
				       .reason = "Unhealthy",
				       .message = "Readiness probe failed",
				       .node = "n1"};
	struct pp_kube_event_info e2 = e;
	char k1[512], k2[512];
	json_t *ev, *p;
	char *s;

	(void)state;
	ev = pp_kube_event_new(&e, 0x1abc, T0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ev, "metadata"), "name")),
		"web.1abc");
	s = json_dumps(json_object_get(ev, "involvedObject"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"web\","
			       "\"namespace\":\"default\",\"uid\":\"u-1\"}");
	free(s);
	s = json_dumps(json_object_get(ev, "source"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"component\":\"podprobe\",\"host\":\"n1\"}");
	free(s);
	assert_string_equal(json_string_value(json_object_get(ev, "reportingComponent")),
			    "podprobe");
	assert_string_equal(json_string_value(json_object_get(ev, "reportingInstance")), "n1");
	assert_string_equal(json_string_value(json_object_get(ev, "firstTimestamp")),
			    "2026-12-01T05:35:42Z");
	assert_string_equal(json_string_value(json_object_get(ev, "lastTimestamp")),
			    "2026-12-01T05:35:42Z");
	assert_int_equal(json_integer_value(json_object_get(ev, "count")), 1);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "Warning");
	json_decref(ev);

	p = pp_kube_event_count_patch(3, T0);
	s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"count\":3,\"lastTimestamp\":\"2026-12-01T05:35:42Z\"}");
	free(s);
	json_decref(p);

	assert_true(pp_kube_event_key(&e, k1, sizeof(k1)) > 0);
	assert_true(pp_kube_event_key(&e2, k2, sizeof(k2)) > 0);
	assert_string_equal(k1, k2);
	e2.message = "Readiness probe failed!";
	pp_kube_event_key(&e2, k2, sizeof(k2));
	assert_string_not_equal(k1, k2);
	/* fields cannot run into each other */
	e2 = e;
	e2.reason = "Unhealthy Readiness";
	e2.message = "probe failed";
	pp_kube_event_key(&e2, k2, sizeof(k2));
	assert_string_not_equal(k1, k2);
	assert_int_equal(pp_kube_event_key(&e, k1, 10), -ENOSPC);
}

#define MS PP_NSEC_PER_MSEC
#define S  PP_NSEC_PER_SEC

static void test_backoff(void **state)
{
	struct pp_kube_backoff b = {0};
	pp_nsec now = 1000 * S, w;

	(void)state;
	assert_int_equal(pp_kube_backoff_next(&b, now, 0), 800 * MS);
	assert_int_equal(pp_kube_backoff_next(&b, now, 0), 1600 * MS);
	assert_int_equal(pp_kube_backoff_next(&b, now, 0.5), 3200 * MS + 1600 * MS);
	for (int i = 0; i < 10; i++)
		w = pp_kube_backoff_next(&b, now, 0);
	assert_int_equal(w, 30 * S); /* capped */
	w = pp_kube_backoff_next(&b, now, 0.999);
	assert_true(w >= 59 * S && w < 60 * S); /* jitter 1.0: up to twice the step */
	assert_int_equal(pp_kube_backoff_next(&b, now, 7.0), 30 * S); /* bad rnd: none */
	/* untouched for more than 2 minutes: from the start again */
	assert_int_equal(pp_kube_backoff_next(&b, now + 121 * S, 0), 800 * MS);
	assert_int_equal(pp_kube_backoff_next(&b, now + 122 * S, 0), 1600 * MS);
	pp_kube_backoff_success(&b, now + 123 * S);
	assert_int_equal(b.step, 1600 * MS); /* not stable long enough */
	pp_kube_backoff_success(&b, now + 300 * S);
	assert_int_equal(b.step, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_current_context),
		cmocka_unit_test(test_config_files_relative),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_server_parse),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_watch_decode),
		cmocka_unit_test(test_condition_patch),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
