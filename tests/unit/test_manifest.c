/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod manifests: reading (user/io/manifest_yaml.c with user/core/yaml_tree.c and
 * user/core/manifest_schema.c), the model (user/core/pod.c) and
 * validation (user/core/manifest_validate.c). YAML is inline; the comment after each line
 * gives its line number, so that the positions asserted below can be checked by eye.
 */
#include <errno.h>
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

#include "podprobe/manifest.h"
#include "podprobe/pod.h"

/* One parse: the pods, the findings, and the return values. */
struct t_run {
	struct pp_pod_list pods;
	struct pp_diag_list diags;
	int parse_ret;
	int validate_ret;	/* sum over the pods */
};

static int t_setup(void **state)
{
	*state = calloc(1, sizeof(struct t_run));
	return *state ? 0 : -1;
}

static int t_teardown(void **state)
{
	struct t_run *r = *state;

	pp_pod_list_free(&r->pods);
	pp_diag_list_free(&r->diags);
	free(r);
	return 0;
}

/* Parse <yaml> as "web.yaml" (no validation). */
static void t_parse(struct t_run *r, const char *yaml)
{
	r->parse_ret = pp_manifest_parse_buffer("web.yaml", yaml, strlen(yaml), &r->pods, &r->diags);
}

/* Parse, then validate every pod. */
static void t_check(struct t_run *r, const char *yaml)
{
	t_parse(r, yaml);
	assert_true(r->parse_ret >= 0);
	for (size_t i = 0; i < r->pods.n; i++) {
		int n = pp_pod_validate(r->pods.items[i], &r->diags);

		assert_true(n >= 0);
		r->validate_ret += n;
	}
}

static const struct pp_diag *t_find(const struct t_run *r, const char *path)
{
	for (size_t i = 0; i < r->diags.n; i++)
		if (!strcmp(r->diags.items[i].path, path))
			return &r->diags.items[i];
	return NULL;
}

/* The finding for <path> is a <sev> at <line>:<col> saying <msg>. */
static void t_expect(const struct t_run *r, enum pp_diag_severity sev, uint32_t line, uint32_t col,
		     const char *path, const char *msg)
{
	const struct pp_diag *d = t_find(r, path);

	if (!d) {
		for (size_t i = 0; i < r->diags.n; i++)
			print_message("have: %s: %s\n", r->diags.items[i].path,
				      r->diags.items[i].message);
		fail_msg("no finding for path '%s'", path);
	}
	assert_int_equal(d->severity, sev);
	assert_string_equal(d->message, msg);
	assert_int_equal(d->pos.line, line);
	assert_int_equal(d->pos.col, col);
	assert_string_equal(d->file, "web.yaml");
}

#define t_error(r, line, col, path, msg) t_expect(r, PP_DIAG_ERROR, line, col, path, msg)
#define t_warning(r, line, col, path, msg) t_expect(r, PP_DIAG_WARNING, line, col, path, msg)

/* Exactly one finding, and it is this error. */
static void t_only_error(const struct t_run *r, uint32_t line, uint32_t col, const char *path,
			 const char *msg)
{
	assert_int_equal(r->diags.n, 1);
	assert_int_equal(r->diags.n_errors, 1);
	t_error(r, line, col, path, msg);
}

static void t_clean(const struct t_run *r)
{
	for (size_t i = 0; i < r->diags.n; i++)
		print_message("unexpected: %s: %s\n", r->diags.items[i].path,
			      r->diags.items[i].message);
	assert_int_equal(r->diags.n, 0);
	assert_int_equal(r->parse_ret, 0);
	assert_int_equal(r->validate_ret, 0);
}

/* Lines 1-6 of most manifests below; containers start at line 7. */
#define POD_HEAD                                                                                   \
	"apiVersion: v1\n"     /* 1 */                                                             \
	"kind: Pod\n"          /* 2 */                                                             \
	"metadata:\n"          /* 3 */                                                             \
	"  name: web\n"        /* 4 */                                                             \
	"spec:\n"              /* 5 */                                                             \
	"  containers:\n"      /* 6 */

/* A valid container at lines 7-9. */
#define WEB_CONTAINER                                                                              \
	"  - name: web\n"                      /* 7 */                                             \
	"    image: python:3\n"                /* 8 */                                             \
	"    command: [python3, -m, http.server]\n" /* 9 */

static const struct pp_container_spec *t_container(const struct t_run *r, size_t pod, size_t i)
{
	assert_true(pod < r->pods.n);
	assert_true(i < pp_pod_n_all(r->pods.items[pod]));
	return pp_pod_container(r->pods.items[pod], i);
}

/* ---- good manifests ------------------------------------------------------------------------ */

static void test_minimal_pod_gets_api_defaults(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;
	const struct pp_pod *pod;

	t_check(r, POD_HEAD WEB_CONTAINER);
	t_clean(r);
	assert_int_equal(r->pods.n, 1);
	pod = r->pods.items[0];
	assert_string_equal(pod->file, "web.yaml");
	assert_string_equal(pod->api_version, "v1");
	assert_string_equal(pod->kind, "Pod");
	assert_string_equal(pod->name, "web");
	assert_string_equal(pod->namespace, "default");
	assert_null(pod->uid);
	assert_int_equal(pod->restart_policy, PP_RESTART_ALWAYS);
	assert_null(pod->restart_policy_raw);
	assert_int_equal(pod->termination_grace_s, PP_DEFAULT_GRACE_S);
	assert_false(pod->has_active_deadline);
	assert_int_equal(pod->n_init_containers, 0);
	assert_int_equal(pod->n_containers, 1);
	assert_int_equal(pod->pos.line, 1);
	assert_int_equal(pod->pos.col, 1);

	c = t_container(r, 0, 0);
	assert_string_equal(c->name, "web");
	assert_string_equal(c->image, "python:3");
	assert_int_equal(c->n_command, 3);
	assert_string_equal(c->command[0], "python3");
	assert_string_equal(c->command[2], "http.server");
	assert_null(c->args);
	assert_null(c->working_dir);
	assert_false(c->is_init);
	assert_false(c->sidecar);
	assert_false(c->liveness.set);
	assert_false(c->has_post_start);
	assert_int_equal(c->memory_limit, 0);
}

static void test_multi_document_stream_skips_empty_documents(void **state)
{
	struct t_run *r = *state;

	t_check(r, "---\n"
		   "# nothing here\n"
		   "---\n" POD_HEAD WEB_CONTAINER /* lines 4-12 */
		   "---\n"
		   "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: db, namespace: data, uid: 1234-abcd}\n"
		   "spec:\n"
		   "  restartPolicy: Never\n"
		   "  terminationGracePeriodSeconds: 0\n"
		   "  activeDeadlineSeconds: 600\n"
		   "  containers: [{name: db, image: pg, command: [postgres], args: [-p, '5433']}]\n"
		   "---\n");
	t_clean(r);
	assert_int_equal(r->pods.n, 2);
	assert_string_equal(r->pods.items[0]->name, "web");
	assert_int_equal(r->pods.items[0]->pos.line, 4);
	assert_string_equal(r->pods.items[1]->name, "db");
	assert_string_equal(r->pods.items[1]->namespace, "data");
	assert_string_equal(r->pods.items[1]->uid, "1234-abcd");
	assert_true(r->pods.items[0]->doc_index < r->pods.items[1]->doc_index);
	assert_int_equal(r->pods.items[1]->restart_policy, PP_RESTART_NEVER);
	assert_int_equal(r->pods.items[1]->termination_grace_s, 0);
	assert_true(r->pods.items[1]->has_active_deadline);
	assert_int_equal(r->pods.items[1]->active_deadline_s, 600);
	assert_int_equal(t_container(r, 1, 0)->n_args, 2);
	assert_string_equal(t_container(r, 1, 0)->args[1], "5433");
}

static void test_init_containers_and_sidecar_come_first(void **state)
{
	struct t_run *r = *state;
	char path[64];

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  initContainers:\n"
		   "  - {name: migrate, image: app, command: [migrate]}\n"
		   "  - name: proxy\n"
		   "    image: envoy\n"
		   "    command: [envoy]\n"
		   "    restartPolicy: Always\n"
		   "    readinessProbe: {tcpSocket: {port: 9901}}\n"
		   "  containers:\n" WEB_CONTAINER);
	t_clean(r);
	assert_int_equal(pp_pod_n_all(r->pods.items[0]), 3);
	assert_string_equal(t_container(r, 0, 0)->name, "migrate");
	assert_true(t_container(r, 0, 0)->is_init);
	assert_false(t_container(r, 0, 0)->sidecar);
	assert_string_equal(t_container(r, 0, 1)->name, "proxy");
	assert_true(t_container(r, 0, 1)->sidecar);
	assert_string_equal(t_container(r, 0, 1)->restart_policy, "Always");
	assert_string_equal(t_container(r, 0, 2)->name, "web");
	assert_false(t_container(r, 0, 2)->is_init);
	assert_null(pp_pod_container(r->pods.items[0], 3));

	assert_int_equal(pp_pod_container_path(r->pods.items[0], 1, path, sizeof(path)), 22);
	assert_string_equal(path, "spec.initContainers[1]");
	assert_true(pp_pod_container_path(r->pods.items[0], 2, path, sizeof(path)) > 0);
	assert_string_equal(path, "spec.containers[0]");
	assert_int_equal(pp_pod_container_path(r->pods.items[0], 3, path, sizeof(path)), -EINVAL);
	assert_int_equal(pp_pod_container_path(r->pods.items[0], 0, path, 8), -ENOSPC);
}

static void test_probe_fields_and_effective_defaults(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;
	struct pp_probe_spec eff;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      httpGet:\n"
		   "        host: 127.0.0.1\n"
		   "        path: /healthz\n"
		   "        port: 8080\n"
		   "        scheme: HTTPS\n"
		   "        httpHeaders: [{name: X-Probe, value: podprobe}]\n"
		   "      initialDelaySeconds: 5\n"
		   "      failureThreshold: 6\n"
		   "      terminationGracePeriodSeconds: 10\n"
		   "    readinessProbe:\n"
		   "      exec: {command: [cat, /tmp/ready]}\n"
		   "      periodSeconds: 2\n"
		   "      successThreshold: 3\n"
		   "    startupProbe:\n"
		   "      grpc: {port: 9090, service: health}\n");
	t_clean(r);
	c = t_container(r, 0, 0);

	assert_true(c->liveness.set);
	assert_int_equal(c->liveness.handler.kind, PP_HANDLER_HTTP_GET);
	assert_int_equal(c->liveness.handler.n_kinds, 1);
	assert_string_equal(c->liveness.handler.host, "127.0.0.1");
	assert_string_equal(c->liveness.handler.path, "/healthz");
	assert_int_equal(c->liveness.handler.port.number, 8080);
	assert_null(c->liveness.handler.port.name);
	assert_string_equal(c->liveness.handler.scheme, "HTTPS");
	assert_int_equal(c->liveness.handler.n_headers, 1);
	assert_string_equal(c->liveness.handler.headers[0].name, "X-Probe");
	assert_string_equal(c->liveness.handler.headers[0].value, "podprobe");
	assert_true(c->liveness.has_termination_grace);
	assert_int_equal(c->liveness.termination_grace_s, 10);

	/* As written: 0 = unset. Effective: the API server's defaults (P1.1). */
	assert_int_equal(c->liveness.timeout_s, 0);
	pp_probe_effective(&c->liveness, &eff);
	assert_int_equal(eff.initial_delay_s, 5);
	assert_int_equal(eff.timeout_s, PP_DEFAULT_PROBE_TIMEOUT_S);
	assert_int_equal(eff.period_s, PP_DEFAULT_PROBE_PERIOD_S);
	assert_int_equal(eff.success_threshold, PP_DEFAULT_PROBE_SUCCESS);
	assert_int_equal(eff.failure_threshold, 6);

	assert_int_equal(c->readiness.handler.kind, PP_HANDLER_EXEC);
	assert_int_equal(c->readiness.handler.n_command, 2);
	assert_string_equal(c->readiness.handler.command[1], "/tmp/ready");
	pp_probe_effective(&c->readiness, &eff);
	assert_int_equal(eff.period_s, 2);
	assert_int_equal(eff.success_threshold, 3);
	assert_int_equal(eff.failure_threshold, PP_DEFAULT_PROBE_FAILURE);

	assert_int_equal(c->startup.handler.kind, PP_HANDLER_GRPC);
	assert_int_equal(c->startup.handler.port.number, 9090);
	assert_string_equal(c->startup.handler.service, "health");
}

static void test_named_probe_port_resolves_to_container_port(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;
	struct pp_port_ref ref = { 0 };

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    ports:\n"
		   "    - {name: metrics, containerPort: 9100}\n"
		   "    - {name: http, containerPort: 8080, protocol: TCP}\n"
		   "    - {name: http, containerPort: 8081, protocol: UDP}\n"
		   "    livenessProbe: {tcpSocket: {port: http}}\n");
	/* The duplicate name is an API error, but resolution still takes the first. */
	t_only_error(r, 13, 8, "spec.containers[0].ports[2].name", "Duplicate value: \"http\"");
	c = t_container(r, 0, 0);
	assert_string_equal(c->liveness.handler.port.name, "http");
	assert_int_equal(pp_container_resolve_port(c, &c->liveness.handler.port), 8080);
	assert_null(c->ports[0].protocol);
	assert_string_equal(c->ports[2].protocol, "UDP");

	ref.number = 443;
	assert_int_equal(pp_container_resolve_port(c, &ref), 443);
	ref.number = 70000;
	assert_int_equal(pp_container_resolve_port(c, &ref), -ERANGE);
	ref.number = 0;
	assert_int_equal(pp_container_resolve_port(c, &ref), -ERANGE);
	ref.name = "grpc";
	assert_int_equal(pp_container_resolve_port(c, &ref), -ENOENT);
}

static void test_memory_limit_quantities(void **state)
{
	static const struct {
		const char *text;
		int64_t bytes;
	} cases[] = {
		{ "64Mi", 64ll << 20 },	  { "\"1Gi\"", 1ll << 30 },
		{ "1.5Gi", 3ll << 29 },	  { "128974848", 128974848 },
		{ "129e6", 129000000 },	  { "129M", 129000000 },
		{ "1k", 1000 },		  { "2Ki", 2048 },
		{ "0.5", 1 },		  { "500m", 1 },
		{ "1E", 1000000000000000000ll }, { "7Ei", 7ll << 60 },
		{ "0", 0 },		  { "+4T", 4000000000000ll },
	};
	struct t_run *r = *state;
	char yaml[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml),
			 POD_HEAD WEB_CONTAINER "    resources:\n"
						"      requests: {cpu: 250m}\n"
						"      limits: {cpu: '1', memory: %s}\n",
			 cases[i].text);
		t_check(r, yaml);
		t_clean(r);
		assert_int_equal(t_container(r, 0, 0)->memory_limit, cases[i].bytes);
		pp_pod_list_free(&r->pods);
	}
}

static void test_bad_memory_quantities_are_errors(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    resources:\n"
		   "      limits:\n"
		   "        memory: 64MB\n");
	t_only_error(r, 12, 9, "spec.containers[0].resources.limits[memory]",
		     "quantities must match the regular expression "
		     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
	pp_diag_list_free(&r->diags);
	pp_pod_list_free(&r->pods);

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    resources:\n"
		   "      limits:\n"
		   "        memory: 9Ei\n");
	t_only_error(r, 12, 9, "spec.containers[0].resources.limits[memory]",
		     "quantity out of range");
	pp_diag_list_free(&r->diags);
	pp_pod_list_free(&r->pods);

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    resources:\n"
		   "      limits:\n"
		   "        memory: -1Mi\n");
	t_only_error(r, 12, 9, "spec.containers[0].resources.limits[memory]",
		     "Invalid value: \"-1Mi\": must be greater than or equal to 0");
}

static void test_json_manifest_is_accepted(void **state)
{
	struct t_run *r = *state;

	t_check(r, "{\n"
		   "  \"apiVersion\": \"v1\",\n"
		   "  \"kind\": \"Pod\",\n"
		   "  \"metadata\": {\"name\": \"web\"},\n"
		   "  \"spec\": {\n"
		   "\t\"containers\": [{\n"
		   "      \"name\": \"web\", \"image\": \"x\", \"command\": [\"sleep\", \"60\"],\n"
		   "      \"livenessProbe\": {\"exec\": {\"command\": [\"true\"]}, "
		   "\"periodSeconds\": 3, \"foo\": null}\n"
		   "    }]\n"
		   "  }\n"
		   "}\n");
	assert_int_equal(r->pods.n, 1);
	assert_int_equal(t_container(r, 0, 0)->liveness.period_s, 3);
	assert_string_equal(t_container(r, 0, 0)->liveness.handler.command[0], "true");
	t_warning(r, 8, 76, "spec.containers[0].livenessProbe.foo", "unknown field \"foo\"");
	assert_int_equal(r->diags.n_errors, 0);
}

static void test_annotations_and_labels_are_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_pod *pod;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: web\n"
		   "  labels: {app: web, tier: \"1\"}\n"
		   "  annotations:\n"
		   "    podprobe.io/ebpf: \"true\"\n"
		   "    note: ''\n"
		   "spec:\n"
		   "  containers:\n" WEB_CONTAINER);
	t_clean(r);
	pod = r->pods.items[0];
	assert_int_equal(pod->n_labels, 2);
	assert_string_equal(pod->labels[1].name, "tier");
	assert_string_equal(pod->labels[1].value, "1");
	assert_int_equal(pod->n_annotations, 2);
	assert_string_equal(pp_pod_annotation(pod, "podprobe.io/ebpf"), "true");
	assert_string_equal(pp_pod_annotation(pod, "note"), "");
	assert_null(pp_pod_annotation(pod, "missing"));
	assert_int_equal(pp_pod_field_pos(pod, "metadata.annotations.podprobe.io/ebpf").line, 7);
}

static void test_annotation_values_must_be_strings(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: web\n"
		   "  annotations:\n"
		   "    enabled: true\n"
		   "spec:\n"
		   "  containers:\n"
		   "  - {name: web, image: x, command: [x]}\n");
	t_only_error(r, 6, 5, "metadata.annotations.enabled", "must be a string, got true");
	assert_int_equal(r->pods.items[0]->n_annotations, 0);
}

static void test_lifecycle_hooks_are_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    lifecycle:\n"
		   "      postStart:\n"
		   "        exec: {command: [sh, -c, 'echo hi']}\n"
		   "      preStop:\n"
		   "        sleep: {seconds: 5}\n");
	t_clean(r);
	c = t_container(r, 0, 0);
	assert_true(c->has_post_start);
	assert_int_equal(c->post_start.kind, PP_HANDLER_EXEC);
	assert_string_equal(c->post_start.command[2], "echo hi");
	assert_true(c->has_pre_stop);
	assert_int_equal(c->pre_stop.kind, PP_HANDLER_SLEEP);
	assert_int_equal(c->pre_stop.sleep_seconds, 5);
}

static void test_volumes_mounts_env_and_working_dir_are_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;
	const struct pp_pod *pod;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  volumes:\n"
		   "  - name: scratch\n"
		   "    emptyDir: {medium: Memory, sizeLimit: 64Mi}\n"
		   "  - name: cache\n"
		   "  containers:\n" WEB_CONTAINER /* lines 10-12 */
		   "    workingDir: /srv\n"
		   "    env:\n"
		   "    - {name: PORT, value: '8080'}\n"
		   "    - name: EMPTY\n"
		   "    volumeMounts:\n"
		   "    - {name: scratch, mountPath: /tmp/scratch, readOnly: true}\n"
		   "    - {name: cache, mountPath: /cache}\n");
	t_clean(r);
	pod = r->pods.items[0];
	assert_int_equal(pod->n_volumes, 2);
	assert_string_equal(pod->volumes[0].name, "scratch");
	assert_true(pod->volumes[0].empty_dir);
	assert_true(pod->volumes[1].empty_dir); /* no source: defaulted to emptyDir */
	c = t_container(r, 0, 0);
	assert_string_equal(c->working_dir, "/srv");
	assert_int_equal(c->n_env, 2);
	assert_string_equal(c->env[0].name, "PORT");
	assert_string_equal(c->env[0].value, "8080");
	assert_string_equal(c->env[1].value, "");
	assert_int_equal(c->n_mounts, 2);
	assert_string_equal(c->mounts[0].mount_path, "/tmp/scratch");
	assert_true(c->mounts[0].read_only);
	assert_false(c->mounts[1].read_only);
}

static void test_env_value_from_is_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    env:\n"
		   "    - name: NODE\n"
		   "      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}\n"
		   "    - {name: PLAIN, value: x}\n"
		   "    - name: MEM\n"
		   "      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}\n"
		   "    - name: CM\n"
		   "      valueFrom: {configMapKeyRef: {name: cfg, key: k, optional: true}}\n"
		   "    - name: S\n"
		   "      valueFrom: {secretKeyRef: {name: sec, key: pw}}\n"
		   "    envFrom:\n"
		   "    - {prefix: P_, configMapRef: {name: cfg}}\n"
		   "    - secretRef: {name: sec, optional: true}\n");
	t_clean(r);
	c = t_container(r, 0, 0);
	assert_int_equal(c->n_env, 5);
	assert_non_null(c->env_src);
	assert_int_equal(c->env_src[0].kind, PP_VALUE_FIELD);
	assert_string_equal(c->env_src[0].key, "spec.nodeName");
	assert_int_equal(c->env_src[1].kind, PP_VALUE_NONE);
	assert_int_equal(c->env_src[2].kind, PP_VALUE_RESOURCE);
	assert_string_equal(c->env_src[2].key, "limits.memory");
	assert_int_equal(c->env_src[2].divisor, 1 << 20);
	assert_int_equal(c->env_src[3].kind, PP_VALUE_CONFIG_MAP);
	assert_string_equal(c->env_src[3].name, "cfg");
	assert_string_equal(c->env_src[3].key, "k");
	assert_true(c->env_src[3].optional);
	assert_int_equal(c->env_src[4].kind, PP_VALUE_SECRET);
	assert_false(c->env_src[4].optional);
	assert_int_equal(c->n_env_from, 2);
	assert_false(c->env_from[0].secret);
	assert_string_equal(c->env_from[0].prefix, "P_");
	assert_string_equal(c->env_from[0].name, "cfg");
	assert_true(c->env_from[1].secret);
	assert_true(c->env_from[1].optional);
	assert_null(c->env_from[1].prefix);
}

static void test_common_kubectl_fields_are_accepted_silently(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: web\n"
		   "  generateName: web-\n"
		   "  creationTimestamp: null\n"
		   "spec:\n"
		   "  nodeSelector: {kubernetes.io/os: linux}\n"
		   "  tolerations: [{operator: Exists}]\n"
		   "  serviceAccountName: default\n"
		   "  dnsPolicy: ClusterFirst\n"
		   "  hostNetwork: true\n"
		   "  enableServiceLinks: false\n"
		   "  readinessGates: [{conditionType: example.com/ready}]\n"
		   "  securityContext: {runAsNonRoot: true}\n"
		   "  containers:\n"
		   "  - name: web\n"
		   "    image: x\n"
		   "    command: [x]\n"
		   "    imagePullPolicy: IfNotPresent\n"
		   "    terminationMessagePath: /dev/termination-log\n"
		   "    terminationMessagePolicy: File\n"
		   "    stdin: false\n"
		   "    tty: false\n"
		   "    securityContext: {allowPrivilegeEscalation: false}\n"
		   "    resources: {requests: {cpu: 100m}}\n"
		   "    ports: [{containerPort: 80, hostPort: 8080}]\n"
		   "status: {phase: Pending}\n");
	t_clean(r);
}

static void test_field_positions_fall_back_to_ancestors(void **state)
{
	struct t_run *r = *state;
	const struct pp_pod *pod;
	struct pp_src_pos pos;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      exec: {command: [\"true\"]}\n"
		   "      periodSeconds: 5\n");
	t_clean(r);
	pod = r->pods.items[0];
	/* Keys: where the key starts. Items: where the item starts. */
	pos = pp_pod_field_pos(pod, "spec.containers[0].livenessProbe.periodSeconds");
	assert_int_equal(pos.line, 12);
	assert_int_equal(pos.col, 7);
	pos = pp_pod_field_pos(pod, "spec.containers[0].command[1]");
	assert_int_equal(pos.line, 9);
	assert_int_equal(pos.col, 24);
	pos = pp_pod_field_pos(pod, "spec.containers[0]");
	assert_int_equal(pos.line, 7);
	assert_int_equal(pos.col, 5);
	/* Absent: the closest recorded ancestor. */
	pos = pp_pod_field_pos(pod, "spec.containers[0].livenessProbe.timeoutSeconds");
	assert_int_equal(pos.line, 10);
	assert_int_equal(pos.col, 5);
	pos = pp_pod_field_pos(pod, "spec.containers[0].ports[0].containerPort");
	assert_int_equal(pos.line, 7);
	pos = pp_pod_field_pos(pod, "spec.volumes");
	assert_int_equal(pos.line, 5);
	/* Nothing at all: the start of the document. */
	pos = pp_pod_field_pos(pod, "nothing.here");
	assert_int_equal(pos.line, 1);
	assert_int_equal(pos.col, 1);
	pos = pp_pod_field_pos(pod, "");
	assert_int_equal(pos.line, 1);
}

static void test_aliases_share_values_and_keep_their_position(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  containers:\n"
		   "  - name: a\n"
		   "    image: &img registry.local/app:1\n"
		   "    command: &cmd [app, serve]\n"
		   "    env: &env [{name: MODE, value: prod}]\n"
		   "  - name: b\n"
		   "    image: *img\n"
		   "    command: [*img, \"--check\"]\n"
		   "    env: *env\n");
	t_clean(r);
	assert_string_equal(t_container(r, 0, 1)->image, "registry.local/app:1");
	assert_string_equal(t_container(r, 0, 1)->command[0], "registry.local/app:1");
	assert_string_equal(t_container(r, 0, 1)->env[0].value, "prod");
	/* The item that is an alias sits where the alias is written. */
	assert_int_equal(pp_pod_field_pos(r->pods.items[0], "spec.containers[1].command[0]").line,
			 12);
	assert_int_equal(pp_pod_field_pos(r->pods.items[0], "spec.containers[1].command[0]").col,
			 15);
}

static void test_restart_policies_are_named_like_the_api(void **state)
{
	struct t_run *r = *state;

	assert_string_equal(pp_restart_policy_str(PP_RESTART_ALWAYS), "Always");
	assert_string_equal(pp_restart_policy_str(PP_RESTART_ON_FAILURE), "OnFailure");
	assert_string_equal(pp_restart_policy_str(PP_RESTART_NEVER), "Never");
	assert_string_equal(pp_restart_policy_str(_PP_RESTART_MAX), "Unknown");

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  restartPolicy: OnFailure\n"
		   "  containers:\n" WEB_CONTAINER);
	t_clean(r);
	assert_int_equal(r->pods.items[0]->restart_policy, PP_RESTART_ON_FAILURE);
	assert_string_equal(r->pods.items[0]->restart_policy_raw, "OnFailure");
}

/* ---- bad manifests: validation ------------------------------------------------------------ */

static void test_negative_period_points_at_the_key(void **state)
{
	struct t_run *r = *state;
	char line[256];
	int ret;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"               /* 10 */
		   "      httpGet: {port: 8080}\n"      /* 11 */
		   "      initialDelaySeconds: 0\n"     /* 12 */
		   "      timeoutSeconds: 1\n"          /* 13 */
		   "      periodSeconds: -1\n");        /* 14 */
	assert_int_equal(r->validate_ret, 1);
	t_only_error(r, 14, 7, "spec.containers[0].livenessProbe.periodSeconds",
		     "must be greater than or equal to 0");
	ret = pp_diag_format(&r->diags.items[0], line, sizeof(line));
	assert_int_equal(ret, strlen(line));
	assert_string_equal(line, "web.yaml:14:7: spec.containers[0].livenessProbe.periodSeconds: "
				  "must be greater than or equal to 0");
}

static void test_two_probe_handlers_are_rejected(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    readinessProbe:\n"
		   "      tcpSocket: {port: 8080}\n"
		   "      httpGet: {port: 8080}\n");
	/* validateHandler tests exec, httpGet, tcpSocket, grpc in turn: tcpSocket is the 2nd. */
	t_only_error(r, 11, 7, "spec.containers[0].readinessProbe.tcpSocket",
		     "Forbidden: may not specify more than 1 handler type");
	c = t_container(r, 0, 0);
	assert_int_equal(c->readiness.handler.n_kinds, 2);
	assert_int_equal(c->readiness.handler.kind, PP_HANDLER_TCP_SOCKET); /* the first one */
}

static void test_probe_without_handler_is_rejected(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    startupProbe:\n"
		   "      failureThreshold: 30\n");
	t_only_error(r, 10, 5, "spec.containers[0].startupProbe",
		     "Required value: must specify a handler type");
}

static void test_liveness_success_threshold_must_be_1(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    readinessProbe: {tcpSocket: {port: 8080}, successThreshold: 2}\n"
		   "    livenessProbe:\n"
		   "      tcpSocket: {port: 8080}\n"
		   "      successThreshold: 2\n");
	t_only_error(r, 13, 7, "spec.containers[0].livenessProbe.successThreshold", "must be 1");
}

static void test_duplicate_container_name_across_init_and_regular(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  initContainers:\n"
		   "  - {name: web, image: x, command: [x]}\n"
		   "  containers:\n"
		   "  - {name: app, image: x, command: [x]}\n"
		   "  - {name: web, image: x, command: [x]}\n");
	/* validateInitContainers starts from the regular containers' names. */
	t_only_error(r, 6, 6, "spec.initContainers[0].name", "Duplicate value: \"web\"");
}

static void test_missing_command_and_image_point_at_the_container(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD
		   "  - name: web\n"
		   "    args: [\"--port\", \"80\"]\n");
	/* args alone run as the command, with a warning; image is still required. */
	assert_int_equal(r->diags.n_errors, 1);
	assert_int_equal(r->diags.n, 2);
	t_error(r, 7, 5, "spec.containers[0].image", "Required value");
	t_warning(r, 8, 5, "spec.containers[0].args",
		  "no command: podprobe runs args as the command (the image's ENTRYPOINT is not "
		  "known here)");
	pp_diag_list_free(&r->diags);
	pp_pod_list_free(&r->pods);

	t_check(r, POD_HEAD
		   "  - name: web\n"
		   "    image: x\n");
	t_only_error(r, 7, 5, "spec.containers[0].command",
		     "Required value: the process runtime has no image entrypoint or default "
		     "command; add command (or args, which then run as the command)");
}

static void test_bad_names_are_rejected(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: Web_1\n"
		   "  namespace: my.ns\n"
		   "spec:\n"
		   "  containers:\n"
		   "  - {name: web-, image: x, command: [x]}\n"
		   "  - {image: x, command: [x]}\n");
	assert_int_equal(r->diags.n_errors, 4);
	t_error(r, 4, 3, "metadata.name",
		"Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower "
		"case alphanumeric characters, '-' or '.', and must start and end with an "
		"alphanumeric character (e.g. 'example.com', regex used for validation is "
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
	t_error(r, 5, 3, "metadata.namespace",
		"Invalid value: \"my.ns\": a lowercase RFC 1123 label must consist of lower case "
		"alphanumeric characters or '-', and must start and end with an alphanumeric "
		"character (e.g. 'my-name',  or '123-abc', regex used for validation is "
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
	assert_non_null(t_find(r, "spec.containers[0].name"));
	t_error(r, 9, 5, "spec.containers[1].name", "Required value");
}

static void test_missing_pod_name_is_required(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  labels: {app: web}\n"
		   "spec:\n"
		   "  containers:\n" WEB_CONTAINER);
	t_only_error(r, 3, 1, "metadata.name", "Required value");
}

static void test_unsupported_restart_policy(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  restartPolicy: Sometimes\n"
		   "  terminationGracePeriodSeconds: -5\n"
		   "  activeDeadlineSeconds: 0\n"
		   "  containers:\n" WEB_CONTAINER);
	/* ValidatePodSpec does not bound the pod's grace period: -5 is valid. */
	assert_int_equal(r->diags.n_errors, 2);
	assert_null(t_find(r, "spec.terminationGracePeriodSeconds"));
	assert_int_equal(r->pods.items[0]->termination_grace_s, 1); /* as PrepareForCreate */
	t_error(r, 5, 3, "spec.restartPolicy",
		"Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", "
		"\"Never\"");
	t_error(r, 7, 3, "spec.activeDeadlineSeconds", "must be between 1 and 2147483647, inclusive");
}

static void test_probe_termination_grace_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      exec: {command: [\"true\"]}\n"
		   "      terminationGracePeriodSeconds: 0\n"
		   "    readinessProbe:\n"
		   "      exec: {command: [\"true\"]}\n"
		   "      terminationGracePeriodSeconds: 5\n");
	assert_int_equal(r->diags.n_errors, 2);
	t_error(r, 12, 7, "spec.containers[0].livenessProbe.terminationGracePeriodSeconds",
		"must be greater than 0");
	t_error(r, 15, 7, "spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
		"must not be set for readinessProbes");
}

static void test_regular_init_container_may_not_have_probes_or_hooks(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  initContainers:\n"
		   "  - name: init\n"
		   "    image: x\n"
		   "    command: [x]\n"
		   "    restartPolicy: Never\n"
		   "    livenessProbe: {exec: {command: [\"true\"]}}\n"
		   "    lifecycle: {preStop: {exec: {command: [\"true\"]}}}\n"
		   "  containers:\n"
		   "  - name: web\n"
		   "    image: x\n"
		   "    command: [x]\n"
		   "    restartPolicy: Always\n");
	assert_int_equal(r->diags.n_errors, 4);
	t_error(r, 9, 5, "spec.initContainers[0].restartPolicy",
		"Unsupported value: \"Never\": supported values: \"Always\"");
	t_error(r, 10, 5, "spec.initContainers[0].livenessProbe",
		"may not be set for init containers without restartPolicy=Always");
	t_error(r, 11, 5, "spec.initContainers[0].lifecycle",
		"may not be set for init containers without restartPolicy=Always");
	t_error(r, 16, 5, "spec.containers[0].restartPolicy",
		"may not be set for non-init containers");
}

static void test_container_port_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    ports:\n"
		   "    - containerPort: 70000\n"
		   "    - name: HTTP\n"
		   "      containerPort: 80\n"
		   "      protocol: ICMP\n"
		   "    - name: metrics\n");
	assert_int_equal(r->diags.n_errors, 4);
	t_error(r, 11, 7, "spec.containers[0].ports[0].containerPort",
		"must be between 1 and 65535, inclusive");
	t_error(r, 12, 7, "spec.containers[0].ports[1].name",
		"Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and "
		"hyphens (-)");
	t_error(r, 14, 7, "spec.containers[0].ports[1].protocol",
		"Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
	t_error(r, 15, 7, "spec.containers[0].ports[2].containerPort", "Required value");
}

static void test_probe_port_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    ports: [{name: http, containerPort: 8080}]\n"
		   "    livenessProbe: {httpGet: {port: 0, scheme: FTP}}\n"
		   "    readinessProbe: {tcpSocket: {port: metrics}}\n"
		   "    startupProbe: {httpGet: {port: \"8080\"}}\n");
	assert_int_equal(r->diags.n_errors, 3);
	t_error(r, 11, 31, "spec.containers[0].livenessProbe.httpGet.port",
		"must be between 1 and 65535, inclusive");
	t_error(r, 11, 40, "spec.containers[0].livenessProbe.httpGet.scheme",
		"Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"");
	/* A name that no container port has is a run-time problem (P1.7), not an API error. */
	t_warning(r, 12, 34, "spec.containers[0].readinessProbe.tcpSocket.port",
		  "port name \"metrics\" not found in the container's ports");
	/* A quoted number is a name (IntOrString), and not a valid one. */
	t_error(r, 13, 30, "spec.containers[0].startupProbe.httpGet.port",
		"Invalid value: \"8080\": must contain at least one letter (a-z)");
}

static void test_grpc_port_must_be_a_number(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    ports: [{name: grpc, containerPort: 9090}]\n"
		   "    livenessProbe:\n"
		   "      grpc:\n"
		   "        port: grpc\n");
	/* The type error while reading, then the port is missing for validation. */
	assert_int_equal(r->parse_ret, 1);
	assert_int_equal(r->diags.n_errors, 2);
	t_error(r, 13, 9, "spec.containers[0].livenessProbe.grpc.port",
		"must be an integer, got \"grpc\"");
}

static void test_exec_command_and_header_names_are_checked(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      exec: {command: []}\n"
		   "    readinessProbe:\n"
		   "      httpGet:\n"
		   "        port: 80\n"
		   "        httpHeaders:\n"
		   "        - {name: 'X Bad', value: v}\n");
	assert_int_equal(r->diags.n_errors, 2);
	t_error(r, 11, 14, "spec.containers[0].livenessProbe.exec.command", "Required value");
	/* validateHTTPGetAction reports on the list, without an index. */
	t_error(r, 15, 9, "spec.containers[0].readinessProbe.httpGet.httpHeaders",
		"Invalid value: \"X Bad\": a valid HTTP header must consist of alphanumeric "
		"characters or '-' (e.g. 'X-Header-Name', regex used for validation is "
		"'[-A-Za-z0-9]+')");
}

static void test_volume_sources_are_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_pod *pod;
	const struct pp_container_spec *c;

	t_check(r, "apiVersion: v1\n"						  /* 1 */
		   "kind: Pod\n"						  /* 2 */
		   "metadata: {name: web}\n"					  /* 3 */
		   "spec:\n"							  /* 4 */
		   "  serviceAccountName: builder\n"				  /* 5 */
		   "  volumes:\n"						  /* 6 */
		   "  - name: cm\n"						  /* 7 */
		   "    configMap:\n"						  /* 8 */
		   "      name: web-config\n"					  /* 9 */
		   "      defaultMode: 0640\n"					  /* 10 */
		   "      optional: true\n"					  /* 11 */
		   "      items: [{key: a, path: dir/a.conf, mode: 0400}]\n"	  /* 12 */
		   "  - {name: sec, secret: {secretName: tls}}\n"		  /* 13 */
		   "  - name: info\n"						  /* 14 */
		   "    downwardAPI:\n"						  /* 15 */
		   "      items:\n"						  /* 16 */
		   "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n" /* 17 */
		   "      - path: cpu\n"					  /* 18 */
		   "        resourceFieldRef: {containerName: web, resource: limits.cpu, divisor: 1m}\n"
		   "  - name: all\n"						  /* 20 */
		   "    projected:\n"						  /* 21 */
		   "      sources:\n"						  /* 22 */
		   "      - configMap: {name: web-config}\n"			  /* 23 */
		   "      - serviceAccountToken: {path: token, expirationSeconds: 3600}\n" /* 24 */
		   "  - name: host\n"						  /* 25 */
		   "    hostPath: {path: /var/log, type: Directory}\n"		  /* 26 */
		   "  containers:\n"						  /* 27 */
		   "  - name: web\n"						  /* 28 */
		   "    image: x\n"						  /* 29 */
		   "    command: [x]\n"						  /* 30 */
		   "    volumeMounts:\n"					  /* 31 */
		   "    - {name: cm, mountPath: /etc/web, subPath: dir}\n"	  /* 32 */
		   "    - {name: host, mountPath: /logs, subPathExpr: $(POD)}\n"); /* 33 */
	/* The token is the one thing not honoured: a warning naming the source. */
	assert_int_equal(r->diags.n, 1);
	t_warning(r, 24, 9, "spec.volumes[3].projected.sources[1].serviceAccountToken",
		  "podprobe has no API server to issue service account tokens: no token file is "
		  "written, ignoring");
	assert_int_equal(r->validate_ret, 0);
	pod = r->pods.items[0];
	assert_string_equal(pod->service_account, "builder");
	assert_int_equal(pod->n_volumes, 5);
	assert_int_equal(pod->volumes[0].kind, PP_VOL_CONFIG_MAP);
	assert_false(pod->volumes[0].empty_dir);
	/* go-yaml v2 reads 0640 as octal, as the API server receives it. */
	assert_true(pod->volumes[0].has_default_mode);
	assert_int_equal(pod->volumes[0].default_mode, 0640);
	assert_int_equal(pod->volumes[0].n_proj, 1);
	assert_string_equal(pod->volumes[0].proj[0].name, "web-config");
	assert_true(pod->volumes[0].proj[0].optional);
	assert_int_equal(pod->volumes[0].proj[0].n_items, 1);
	assert_string_equal(pod->volumes[0].proj[0].items[0].key, "a");
	assert_string_equal(pod->volumes[0].proj[0].items[0].path, "dir/a.conf");
	assert_int_equal(pod->volumes[0].proj[0].items[0].mode, 0400);
	assert_int_equal(pod->volumes[1].kind, PP_VOL_SECRET);
	assert_string_equal(pod->volumes[1].proj[0].name, "tls");
	assert_int_equal(pod->volumes[2].kind, PP_VOL_DOWNWARD_API);
	assert_int_equal(pod->volumes[2].proj[0].items[0].ref.kind, PP_VALUE_FIELD);
	assert_int_equal(pod->volumes[2].proj[0].items[1].ref.kind, PP_VALUE_RESOURCE);
	assert_string_equal(pod->volumes[2].proj[0].items[1].ref.container, "web");
	assert_int_equal(pod->volumes[2].proj[0].items[1].ref.divisor_m, 1);
	assert_int_equal(pod->volumes[3].kind, PP_VOL_PROJECTED);
	assert_int_equal(pod->volumes[3].n_proj, 2);
	assert_int_equal(pod->volumes[3].proj[1].kind, PP_PROJ_SA_TOKEN);
	assert_string_equal(pod->volumes[3].proj[1].token_path, "token");
	assert_int_equal(pod->volumes[4].kind, PP_VOL_HOST_PATH);
	assert_string_equal(pod->volumes[4].host_path, "/var/log");
	assert_string_equal(pod->volumes[4].host_type, "Directory");
	c = t_container(r, 0, 0);
	assert_string_equal(c->mounts[0].sub_path, "dir");
	assert_string_equal(c->mounts[1].sub_path_expr, "$(POD)");
}

static void test_persistent_volume_claims(void **state)
{
	struct t_run *r = *state;
	const struct pp_pod *pod;

	t_check(r, "apiVersion: v1\n"						/* 1 */
		   "kind: Pod\n"						/* 2 */
		   "metadata: {name: web}\n"					/* 3 */
		   "spec:\n"							/* 4 */
		   "  volumes:\n"						/* 5 */
		   "  - {name: a, persistentVolumeClaim: {claimName: data, readOnly: true}}\n"
		   "  - {name: b, persistentVolumeClaim: {readOnly: false}}\n" /* 7 */
		   "  containers:\n"						/* 8 */
		   "  - {name: web, image: x, command: [x]}\n");		/* 9 */
	pod = r->pods.items[0];
	assert_int_equal(pod->volumes[0].kind, PP_VOL_PVC);
	assert_string_equal(pod->volumes[0].claim_name, "data");
	assert_true(pod->volumes[0].claim_read_only);
	/* validatePersistentClaimVolumeSource: a name is all it asks. */
	t_only_error(r, 7, 15, "spec.volumes[1].persistentVolumeClaim.claimName", "Required value");
}

static void test_volume_source_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"						    /* 1 */
		   "kind: Pod\n"						    /* 2 */
		   "metadata: {name: web}\n"					    /* 3 */
		   "spec:\n"							    /* 4 */
		   "  volumes:\n"						    /* 5 */
		   "  - name: a\n"						    /* 6 */
		   "    configMap: {items: [{key: k, path: ../x, mode: 01000}]}\n"    /* 7 */
		   "  - name: b\n"						    /* 8 */
		   "    hostPath: {path: /x, type: Dir}\n"			    /* 9 */
		   "  - name: c\n"						    /* 10 */
		   "    nfs: {server: s, path: /}\n"				    /* 11 */
		   "  - name: d\n"						    /* 12 */
		   "    downwardAPI: {items: [{path: n, fieldRef: {fieldPath: spec.nodeName}}]}\n"
		   "  - name: e\n"						    /* 14 */
		   "    secret: {defaultMode: 512}\n"				    /* 15 */
		   "  - name: f\n"						    /* 16 */
		   "    emptyDir: {}\n"						    /* 17 */
		   "    hostPath: {path: /tmp}\n"				    /* 18 */
		   "  containers:\n"						    /* 19 */
		   "  - name: web\n"						    /* 20 */
		   "    image: x\n"						    /* 21 */
		   "    command: [x]\n"						    /* 22 */
		   "    volumeMounts:\n"					    /* 23 */
		   "    - {name: f, mountPath: /a, subPath: /abs, subPathExpr: x}\n"); /* 24 */
	t_error(r, 7, 5, "spec.volumes[0].configMap.name", "Required value");
	t_error(r, 7, 34, "spec.volumes[0].configMap.items[0].path",
		"Invalid value: \"../x\": must not contain '..'");
	t_error(r, 7, 46, "spec.volumes[0].configMap.items[0].mode",
		"must be a number between 0 and 0777 (octal), both inclusive");
	t_error(r, 9, 26, "spec.volumes[1].hostPath.type",
		"Unsupported value: \"Dir\": supported values: \"\", \"BlockDevice\", \"CharDevice\", "
		"\"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"");
	t_error(r, 11, 5, "spec.volumes[2].nfs",
		"Forbidden: volume \"c\": nfs volumes are not supported by the process runtime "
		"(supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath, "
		"persistentVolumeClaim)");
	t_error(r, 13, 48, "spec.volumes[3].downwardAPI.items[0].fieldRef.fieldPath",
		"Unsupported value: \"spec.nodeName\": supported values: \"metadata.annotations\", "
		"\"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\"");
	t_error(r, 15, 14, "spec.volumes[4].secret.defaultMode",
		"must be a number between 0 and 0777 (octal), both inclusive");
	t_error(r, 15, 5, "spec.volumes[4].secret.secretName", "Required value");
	t_error(r, 16, 5, "spec.volumes[5]", "Forbidden: may not specify more than 1 volume type");
	/* Upstream's paths for these two lack the mount's index. */
	t_error(r, 23, 5, "spec.containers[0].volumeMounts.subPath",
		"Invalid value: \"/abs\": must be a relative path");
	t_error(r, 24, 47, "spec.containers[0].volumeMounts[0].subPathExpr",
		"Invalid value: \"x\": subPathExpr and subPath are mutually exclusive");
	/* "../x" breaks two rules, and ValidateLocalNonReservedPath reports both. */
	assert_int_equal(r->diags.n_errors, 12);
}

static void test_env_source_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    env:\n"								  /* 10 */
		   "    - {name: A, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}\n"	  /* 11 */
		   "    - {name: B, valueFrom: {fieldRef: {fieldPath: spec.foo}}}\n"	  /* 12 */
		   "    - {name: C, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}\n" /* 13 */
		   "    - name: D\n"							  /* 14 */
		   "      valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 2}}\n" /* 15 */
		   "    - {name: E, valueFrom: {configMapKeyRef: {name: cfg, key: a b}}}\n"	  /* 16 */
		   "    - {name: F, valueFrom: {secretKeyRef: {key: k}}}\n"		  /* 17 */
		   "    - {name: G, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n"
		   "    envFrom:\n"							  /* 19 */
		   "    - {prefix: \"a=\"}\n"						  /* 20 */
		   "    - {configMapRef: {name: x}, secretRef: {name: y}}\n");		  /* 21 */
	t_error(r, 11, 40, "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
		"Unsupported value: \"metadata.labels\": supported values: \"metadata.name\", "
		"\"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", "
		"\"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", "
		"\"status.podIP\", \"status.podIPs\"");
	t_error(r, 12, 40, "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath",
		"Invalid value: \"spec.foo\": error converting fieldPath: field label not "
		"supported: spec.foo");
	t_error(r, 13, 48, "spec.containers[0].env[2].valueFrom.resourceFieldRef.resource",
		"Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", "
		"\"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", "
		"\"requests.ephemeral-storage\", \"requests.memory\"");
	t_error(r, 15, 60, "spec.containers[0].env[3].valueFrom.resourceFieldRef.divisor",
		"Invalid value: \"limits.cpu\": only divisor's values 1m and 1 are supported with "
		"the cpu resource");
	t_error(r, 16, 58, "spec.containers[0].env[4].valueFrom.configMapKeyRef.key",
		"Invalid value: \"a b\": a valid config key must consist of alphanumeric "
		"characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
		"regex used for validation is '[-._a-zA-Z0-9]+')");
	assert_non_null(t_find(r, "spec.containers[0].env[5].valueFrom.secretKeyRef.name"));
	assert_null(t_find(r, "spec.containers[0].env[6].valueFrom.fieldRef.fieldPath"));
	t_error(r, 20, 8, "spec.containers[0].envFrom[0].prefix",
		"Invalid value: \"a=\": a valid environment variable name must consist only of "
		"printable ASCII characters other than '='");
	assert_int_equal(r->diags.n_errors, 9);
}

static void test_volume_rules(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  volumes:\n"
		   "  - name: config\n"
		   "    configMap: {name: web-config}\n"
		   "  - {name: config, emptyDir: {}}\n"
		   "  containers:\n" WEB_CONTAINER /* 10-12 */
		   "    volumeMounts:\n"
		   "    - {name: data, mountPath: /data}\n"
		   "    - {name: config, mountPath: etc/app}\n"
		   "    env: [{name: 1ST, value: x}, {name: \"a=b\"}]\n");
	/* A relative mountPath and 1ST are valid (1.34: IsRelaxedEnvVarName). */
	assert_int_equal(r->diags.n_errors, 3);
	assert_null(t_find(r, "spec.containers[0].volumeMounts[1].mountPath"));
	assert_null(t_find(r, "spec.containers[0].env[0].name"));
	t_error(r, 8, 6, "spec.volumes[1].name", "Duplicate value: \"config\"");
	t_error(r, 14, 8, "spec.containers[0].volumeMounts[0].name", "Not found: \"data\"");
	t_error(r, 16, 35, "spec.containers[0].env[1].name",
		"Invalid value: \"a=b\": a valid environment variable name must consist only of "
		"printable ASCII characters other than '='");
}

static void test_sleep_hook_must_fit_the_grace_period(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  terminationGracePeriodSeconds: 10\n"
		   "  containers:\n"
		   "  - name: web\n"
		   "    image: x\n"
		   "    command: [x]\n"
		   "    lifecycle:\n"
		   "      preStop: {sleep: {seconds: 11}}\n"
		   "      postStart: {sleep: {seconds: -1}}\n");
	/* validateSleepAction: the path is the sleep action's. */
	assert_int_equal(r->diags.n_errors, 2);
	t_error(r, 11, 17, "spec.containers[0].lifecycle.preStop.sleep",
		"Invalid value: 11: must be non-negative and less than "
		"terminationGracePeriodSeconds (10)");
	t_error(r, 12, 19, "spec.containers[0].lifecycle.postStart.sleep",
		"Invalid value: -1: must be non-negative and less than "
		"terminationGracePeriodSeconds (10)");
}

static void test_hook_handler_count_is_checked(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    lifecycle:\n"
		   "      postStart: {}\n"
		   "      preStop: {grpc: {port: 1}}\n");
	/* grpc is no hook handler: unknown, and the hook has none left. */
	t_warning(r, 12, 17, "spec.containers[0].lifecycle.preStop.grpc", "unknown field \"grpc\"");
	t_error(r, 11, 7, "spec.containers[0].lifecycle.postStart",
		"Required value: must specify a handler type");
	t_error(r, 12, 7, "spec.containers[0].lifecycle.preStop",
		"Required value: must specify a handler type");
}

static void test_pod_without_containers_is_rejected(void **state)
{
	struct t_run *r = *state;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  containers: []\n");
	t_only_error(r, 5, 3, "spec.containers", "Required value");
	assert_int_equal(r->validate_ret, 1);
}

/* ---- bad manifests: reading --------------------------------------------------------------- */

static void test_string_for_integer_is_a_type_error(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      exec: {command: [\"true\"]}\n"
		   "      periodSeconds: abc\n"
		   "      timeoutSeconds: \"10\"\n"
		   "      failureThreshold: 1.5\n"
		   "      initialDelaySeconds: 99999999999\n"
		   "      terminationGracePeriodSeconds: 0x10\n");
	assert_int_equal(r->parse_ret, 4);
	t_error(r, 12, 7, "spec.containers[0].livenessProbe.periodSeconds",
		"must be an integer, got \"abc\"");
	t_error(r, 13, 7, "spec.containers[0].livenessProbe.timeoutSeconds",
		"must be an integer, got \"10\"");
	t_error(r, 14, 7, "spec.containers[0].livenessProbe.failureThreshold",
		"must be an integer, got 1.5");
	t_error(r, 15, 7, "spec.containers[0].livenessProbe.initialDelaySeconds",
		"must be an integer, got 99999999999 (out of range)");
	/* YAML 1.2 hexadecimal is an integer. */
	assert_int_equal(t_container(r, 0, 0)->liveness.termination_grace_s, 16);
}

static void test_wrong_container_types_are_errors(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD
		   "  - name: {first: web}\n"
		   "    image: [nginx]\n"
		   "    command: sleep 60\n"
		   "    env: {PORT: 80}\n"
		   "    workingDir: 42\n"
		   "    volumeMounts: [[a]]\n"
		   "    ports: [{containerPort: 80, name: true}]\n"
		   "    livenessProbe: [exec]\n"
		   "    terminationGracePeriodSeconds: 99999999999999999999\n"
		   "  - just-a-string\n");
	assert_int_equal(r->pods.n, 1);
	t_error(r, 7, 5, "spec.containers[0].name", "must be a string, got a mapping");
	t_error(r, 8, 5, "spec.containers[0].image", "must be a string, got a sequence");
	t_error(r, 9, 5, "spec.containers[0].command", "must be a sequence, got \"sleep 60\"");
	t_error(r, 10, 5, "spec.containers[0].env", "must be a sequence, got a mapping");
	t_error(r, 11, 5, "spec.containers[0].workingDir", "must be a string, got 42");
	t_error(r, 12, 20, "spec.containers[0].volumeMounts[0]", "must be a mapping, got a sequence");
	t_error(r, 13, 33, "spec.containers[0].ports[0].name", "must be a string, got true");
	t_error(r, 14, 5, "spec.containers[0].livenessProbe", "must be a mapping, got a sequence");
	t_warning(r, 15, 5, "spec.containers[0].terminationGracePeriodSeconds",
		  "unknown field \"terminationGracePeriodSeconds\"");
	t_error(r, 16, 5, "spec.containers[1]", "must be a mapping, got \"just-a-string\"");
	assert_int_equal(r->parse_ret, 9);
}

static void test_pod_level_integer_overflow_is_an_error(void **state)
{
	struct t_run *r = *state;

	t_parse(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  terminationGracePeriodSeconds: 99999999999999999999\n"
		   "  activeDeadlineSeconds: -9223372036854775808\n"
		   "  containers: [{name: web, image: x, command: [x], stdin: yes}]\n");
	assert_int_equal(r->parse_ret, 1);
	t_error(r, 5, 3, "spec.terminationGracePeriodSeconds",
		"must be an integer, got 99999999999999999999 (out of range)");
	assert_int_equal(r->pods.items[0]->termination_grace_s, PP_DEFAULT_GRACE_S);
	assert_int_equal(r->pods.items[0]->active_deadline_s, INT64_MIN);
}

static void test_boolean_fields_take_true_and_false(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER
		   "    volumeMounts:\n"
		   "    - {name: a, mountPath: /a, readOnly: True}\n"
		   "    - {name: b, mountPath: /b, readOnly: false}\n"
		   "    - {name: c, mountPath: /c, readOnly: yes}\n"
		   "    - {name: d, mountPath: /d, readOnly: Off}\n"
		   "    - {name: e, mountPath: /e, readOnly: \"on\"}\n");
	/* go-yaml v2 reads YAML 1.1 bools when plain; quoted, "on" is a string. */
	assert_int_equal(r->parse_ret, 1);
	assert_true(t_container(r, 0, 0)->mounts[0].read_only);
	assert_false(t_container(r, 0, 0)->mounts[1].read_only);
	assert_true(t_container(r, 0, 0)->mounts[2].read_only);
	assert_false(t_container(r, 0, 0)->mounts[3].read_only);
	t_only_error(r, 15, 32, "spec.containers[0].volumeMounts[4].readOnly",
		     "must be a boolean, got \"on\"");
}

static void test_malformed_yaml_reports_libyaml_position(void **state)
{
	struct t_run *r = *state;
	char line[256];

	t_parse(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: web: x\n");
	assert_int_equal(r->parse_ret, 1);
	assert_int_equal(r->pods.n, 0);
	t_only_error(r, 4, 12, "", "mapping values are not allowed in this context");
	pp_diag_format(&r->diags.items[0], line, sizeof(line));
	assert_string_equal(line, "web.yaml:4:12: mapping values are not allowed in this context");
}

static void test_pods_before_a_syntax_error_are_kept(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER
		   "---\n"
		   "apiVersion: v1\n"
		   "kind: [Pod\n");
	assert_int_equal(r->pods.n, 1);
	assert_int_equal(r->parse_ret, 1);
	assert_int_equal(r->diags.items[0].pos.line, 13);
}

static void test_unknown_field_is_a_warning_with_full_path(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    livenessProbe:\n"
		   "      exec: {command: [\"true\"]}\n"
		   "      periodSecond: 5\n"
		   "  restartPolicyy: Never\n");
	assert_int_equal(r->diags.n, 2);
	assert_int_equal(r->diags.n_errors, 0);
	t_warning(r, 12, 7, "spec.containers[0].livenessProbe.periodSecond",
		  "unknown field \"periodSecond\"");
	t_warning(r, 13, 3, "spec.restartPolicyy", "unknown field \"restartPolicyy\"");
	assert_int_equal(r->parse_ret, 0);
	assert_int_equal(r->pods.n, 1);
}

static void test_duplicate_key_is_an_error(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER
		   "    image: other\n");
	t_only_error(r, 10, 5, "spec.containers[0].image", "duplicate field \"image\"");
	assert_string_equal(t_container(r, 0, 0)->image, "python:3"); /* the first one */
}

static void test_other_kinds_are_skipped_by_name(void **state)
{
	struct t_run *r = *state;

	t_parse(r, "apiVersion: apps/v1\n"
		   "kind: Deployment\n"
		   "metadata: {name: web}\n"
		   "spec: {replicas: 3}\n"
		   "---\n"
		   "apiVersion: v2\n"
		   "kind: Pod\n"
		   "---\n"
		   "kind: Pod\n"
		   "---\n"
		   "apiVersion: v1\n"
		   "kind: {name: Pod}\n"
		   "---\n"
		   "- apiVersion: v1\n");
	/* Other kinds are skipped with a warning naming them; a malformed Pod stays an error. */
	assert_int_equal(r->pods.n, 0);
	assert_int_equal(r->parse_ret, 4);
	t_warning(r, 2, 1, "kind",
		  "skipping kind \"Deployment\" in version \"apps/v1\": podprobe runs Pods and "
		  "reads ConfigMaps and Secrets only");
	assert_int_equal(r->diags.items[1].pos.line, 6);
	assert_string_equal(r->diags.items[1].path, "apiVersion");
	assert_string_equal(r->diags.items[2].message, "Required value");
	assert_string_equal(r->diags.items[2].path, "apiVersion");
	assert_string_equal(r->diags.items[3].message, "must be a string, got a mapping");
	assert_int_equal(r->diags.items[3].pos.line, 12);
	assert_string_equal(r->diags.items[4].message,
			    "a Pod manifest must be a mapping, got a sequence");
	assert_int_equal(r->diags.items[4].pos.line, 14);
}

/* ---- junk input ----------------------------------------------------------------------------- */

static void test_binary_junk_is_an_error(void **state)
{
	struct t_run *r = *state;
	unsigned char junk[4096];
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(junk); i++) { /* xorshift32: deterministic noise */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (unsigned char)x;
	}
	r->parse_ret = pp_manifest_parse_buffer("web.yaml", (const char *)junk, sizeof(junk),
						&r->pods, &r->diags);
	assert_true(r->parse_ret >= 1);
	assert_int_equal(r->pods.n, 0);

	pp_diag_list_free(&r->diags);
	t_parse(r, "just some words");
	t_only_error(r, 1, 1, "", "a Pod manifest must be a mapping, got \"just some words\"");
}

static void test_nul_bytes_are_an_error(void **state)
{
	static const char yaml[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\0eb\n";
	struct t_run *r = *state;

	r->parse_ret = pp_manifest_parse_buffer("web.yaml", yaml, sizeof(yaml) - 1, &r->pods,
						&r->diags);
	assert_int_equal(r->pods.n, 0);
	t_only_error(r, 4, 10, "", "control characters are not allowed");

	/* A NUL from an escape reaches the tree, but not a C string. */
	pp_diag_list_free(&r->diags);
	t_parse(r, POD_HEAD "  - {name: \"w\\0eb\", image: x, command: [x]}\n");
	t_only_error(r, 7, 6, "spec.containers[0].name", "must not contain NUL characters");
}

static void test_deep_nesting_is_refused(void **state)
{
	struct t_run *r = *state;
	size_t depth = 100000;
	char *yaml = malloc(2 * depth + 1);

	assert_non_null(yaml);
	memset(yaml, '[', depth);
	memset(yaml + depth, ']', depth);
	yaml[2 * depth] = '\0';
	t_parse(r, yaml);
	free(yaml);
	t_only_error(r, 1, PP_MANIFEST_MAX_DEPTH + 1, "", "nesting deeper than 64 levels");

	/* Deep nesting under an unknown field is refused as well. */
	pp_diag_list_free(&r->diags);
	t_parse(r, "apiVersion: v1\nkind: Pod\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		   "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		   "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n");
	assert_int_equal(r->diags.n_errors, 1);
	assert_string_equal(r->diags.items[0].message, "nesting deeper than 64 levels");
	assert_int_equal(r->pods.n, 0);
}

static void test_billion_laughs_is_bounded(void **state)
{
	struct t_run *r = *state;

	/* 9^9 strings if expanded: fine as a DAG, and the walk never expands it into fields. */
	t_parse(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata:\n"
		   "  name: lol\n"
		   "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		   "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		   "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		   "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		   "  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		   "  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		   "  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		   "  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		   "  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
		   "  annotations: *i\n"
		   "spec:\n"
		   "  containers: *i\n");
	assert_true(r->parse_ret >= 1);
	assert_true(r->diags.n <= 101);
	t_error(r, 14, 3, "metadata.annotations", "must be a mapping, got a sequence");
	/* An item reached through aliases sits where its alias is written: *h in line 13. */
	t_error(r, 13, 10, "spec.containers[0]", "must be a mapping, got a sequence");
}

static void test_alias_expansion_within_the_schema_is_bounded(void **state)
{
	struct t_run *r = *state;
	size_t cap = 64 * 1024, len;
	char *yaml = malloc(cap);

	/* 400 containers sharing a 400-entry env: 160000 env items once expanded. */
	assert_non_null(yaml);
	len = (size_t)snprintf(yaml, cap, "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
					  "x: &c {name: c, image: i, command: [c], env: [");
	for (int i = 0; i < 400; i++)
		len += (size_t)snprintf(yaml + len, cap - len, "%s{name: E%d}", i ? "," : "", i);
	len += (size_t)snprintf(yaml + len, cap - len, "]}\nspec:\n  containers: [");
	for (int i = 0; i < 400; i++)
		len += (size_t)snprintf(yaml + len, cap - len, "%s*c", i ? "," : "");
	snprintf(yaml + len, cap - len, "]\n");
	t_parse(r, yaml);
	free(yaml);
	assert_true(r->parse_ret >= 1);
	assert_non_null(strstr(r->diags.items[r->diags.n - 1].message,
			       "too many fields (limit 100000 per document, aliases expanded)"));
	assert_true(r->pods.items[0]->n_fields <= 100000);
}

static void test_recursive_and_undefined_aliases_are_refused(void **state)
{
	struct t_run *r = *state;

	t_parse(r, "apiVersion: v1\nkind: Pod\nspec: &s {containers: [*s]}\n");
	t_only_error(r, 3, 24, "", "anchor \"s\" value contains itself");
	assert_int_equal(r->pods.n, 0);

	pp_diag_list_free(&r->diags);
	t_parse(r, "apiVersion: v1\nkind: Pod\nspec: *nope\n");
	t_only_error(r, 3, 7, "", "found undefined alias \"nope\"");
}

static void test_oversize_input_is_refused(void **state)
{
	struct t_run *r = *state;
	size_t len = 5u << 20;
	char *yaml = malloc(len);
	char line[128];

	assert_non_null(yaml);
	memset(yaml, '#', len); /* one long comment: valid YAML, but too big */
	r->parse_ret = pp_manifest_parse_buffer("web.yaml", yaml, len, &r->pods, &r->diags);
	free(yaml);
	assert_int_equal(r->parse_ret, 1);
	assert_int_equal(r->diags.items[0].pos.line, 0);
	pp_diag_format(&r->diags.items[0], line, sizeof(line));
	assert_string_equal(line, "web.yaml: input is larger than 4194304 bytes, refusing");
}

static void test_too_many_findings_stop_the_reader(void **state)
{
	struct t_run *r = *state;
	size_t cap = 64 * 1024, len;
	char *yaml = malloc(cap);

	assert_non_null(yaml);
	len = (size_t)snprintf(yaml, cap, POD_HEAD WEB_CONTAINER);
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(yaml + len, cap - len, "    x%d: 1\n", i);
	t_parse(r, yaml);
	free(yaml);
	assert_int_equal(r->diags.n, 101);
	assert_string_equal(r->diags.items[100].message, "too many errors and warnings, giving up");
}

/* ---- securityContext ------------------------------------------------------------------------ */

static void test_security_context_is_read(void **state)
{
	struct t_run *r = *state;
	const struct pp_security_spec *c, *p;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    securityContext:\n"                                          /* 10 */
		   "      runAsUser: 2000\n"                                         /* 11 */
		   "      allowPrivilegeEscalation: false\n"                         /* 12 */
		   "      capabilities: {add: [NET_BIND_SERVICE, sys_time], drop: [ALL]}\n"
		   "      privileged: false\n"                                       /* 14 */
		   "      seccompProfile: {type: Unconfined}\n"                      /* 15 */
		   "  securityContext:\n"                                            /* 16 */
		   "    runAsUser: 1000\n"                                           /* 17 */
		   "    runAsGroup: 3000\n"                                          /* 18 */
		   "    runAsNonRoot: true\n"                                        /* 19 */
		   "    fsGroup: 2000\n"                                             /* 20 */
		   "    supplementalGroups: [4000, 5000]\n"                          /* 21 */
		   "    fsGroupChangePolicy: OnRootMismatch\n"                       /* 22 */
		   "    supplementalGroupsPolicy: Strict\n");                        /* 23 */
	t_clean(r);
	c = &t_container(r, 0, 0)->security;
	p = &r->pods.items[0]->security;
	assert_true(c->set);
	assert_true(c->has_run_as_user);
	assert_int_equal(c->run_as_user, 2000);
	assert_false(c->has_run_as_group);
	assert_true(c->has_allow_privilege_escalation);
	assert_false(c->allow_privilege_escalation);
	assert_true(c->has_capabilities);
	assert_int_equal(c->n_cap_add, 2);
	assert_string_equal(c->cap_add[1], "sys_time");
	assert_int_equal(c->n_cap_drop, 1);
	assert_string_equal(c->cap_drop[0], "ALL");
	assert_true(c->has_privileged);
	assert_false(c->privileged);
	assert_string_equal(c->seccomp.type, "Unconfined");
	assert_true(p->set);
	assert_int_equal(p->run_as_user, 1000);
	assert_true(p->has_run_as_group);
	assert_int_equal(p->run_as_group, 3000);
	assert_true(p->has_run_as_non_root);
	assert_true(p->run_as_non_root);
	assert_true(p->has_fs_group);
	assert_int_equal(p->fs_group, 2000);
	assert_int_equal(p->n_supplemental_groups, 2);
	assert_int_equal(p->supplemental_groups[1], 5000);
	assert_string_equal(p->fs_group_change_policy, "OnRootMismatch");
}

static void test_security_context_values_are_validated(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    securityContext:\n"                                          /* 10 */
		   "      runAsGroup: 2147483648\n"                                  /* 11 */
		   "      privileged: true\n"                                        /* 12 */
		   "      allowPrivilegeEscalation: false\n"                         /* 13 */
		   "      capabilities:\n"                                           /* 14 */
		   "        add:\n"                                                  /* 15 */
		   "        - CAP_NET_ADMIN\n"                                       /* 16 */
		   "        drop: [NET_RAW, bogus]\n"                                /* 17 */
		   "      procMount: Weird\n"                                        /* 18 */
		   "  securityContext:\n"                                            /* 19 */
		   "    runAsUser: -1\n"                                             /* 20 */
		   "    supplementalGroups: [1, -5]\n"                               /* 21 */
		   "    seccompProfile: {type: Localhost}\n"                         /* 22 */
		   "    appArmorProfile: {type: RuntimeDefault, localhostProfile: x}\n"
		   "    supplementalGroupsPolicy: Always\n");                        /* 24 */
	t_error(r, 11, 7, "spec.containers[0].securityContext.runAsGroup",
		"must be between 0 and 2147483647, inclusive");
	t_error(r, 10, 5, "spec.containers[0].securityContext",
		"cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
	t_error(r, 16, 11, "spec.containers[0].securityContext.capabilities.add[0]",
		"Unsupported value: \"CAP_NET_ADMIN\": not a Linux capability (write names "
		"without the CAP_ prefix, e.g. \"NET_ADMIN\", or \"ALL\")");
	t_error(r, 17, 25, "spec.containers[0].securityContext.capabilities.drop[1]",
		"Unsupported value: \"bogus\": not a Linux capability (write names without the "
		"CAP_ prefix, e.g. \"NET_ADMIN\", or \"ALL\")");
	t_error(r, 18, 7, "spec.containers[0].securityContext.procMount",
		"Unsupported value: \"Weird\": supported values: \"Default\", \"Unmasked\"");
	t_error(r, 20, 5, "spec.securityContext.runAsUser",
		"must be between 0 and 2147483647, inclusive");
	t_error(r, 21, 29, "spec.securityContext.supplementalGroups[1]",
		"must be between 0 and 2147483647, inclusive");
	t_error(r, 22, 5, "spec.securityContext.seccompProfile.localhostProfile",
		"Required value: must be set when seccomp type is Localhost");
	t_error(r, 23, 45, "spec.securityContext.appArmorProfile.localhostProfile",
		"can only be set when AppArmor type is Localhost");
	t_error(r, 24, 5, "spec.securityContext.supplementalGroupsPolicy",
		"Unsupported value: \"Always\": supported values: \"Merge\", \"Strict\"");
	assert_int_equal(r->validate_ret, 10);
}

static void test_seccomp_type_must_be_known(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    securityContext: {seccompProfile: {localhostProfile: p.json}}\n");
	t_error(r, 10, 23, "spec.containers[0].securityContext.seccompProfile.type",
		"Unsupported value: \"\": supported values: \"Localhost\", \"RuntimeDefault\", "
		"\"Unconfined\"");
}

static void test_unhonoured_security_fields_are_warnings(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    securityContext:\n"                                          /* 10 */
		   "      readOnlyRootFilesystem: true\n"                            /* 11 */
		   "      privileged: true\n"                                        /* 12 */
		   "      procMount: Default\n"                                      /* 13 */
		   "      seccompProfile: {type: RuntimeDefault}\n"                  /* 14 */
		   "      supplementalGroups: [1]\n"                                 /* 15 */
		   "  securityContext:\n"                                            /* 16 */
		   "    seLinuxOptions: {level: \"s0:c123,c456\"}\n"                 /* 17 */
		   "    windowsOptions: {hostProcess: false}\n"                      /* 18 */
		   "    sysctls: [{name: net.core.somaxconn, value: \"1024\"}]\n"    /* 19 */
		   "    appArmorProfile: {type: Localhost, localhostProfile: k8s-apparmor}\n");
	assert_int_equal(r->validate_ret, 0);
	assert_int_equal(r->diags.n_errors, 0);
	t_warning(r, 11, 7, "spec.containers[0].securityContext.readOnlyRootFilesystem",
		  "there is no image root file system: the host's file system stays writable to "
		  "the process, ignoring");
	t_warning(r, 12, 7, "spec.containers[0].securityContext.privileged",
		  "podprobe gives the process every capability and changes nothing else: it "
		  "already shares the host's devices, /proc and /sys");
	t_warning(r, 13, 7, "spec.containers[0].securityContext.procMount",
		  "processes see the host's /proc, nothing is masked, ignoring");
	t_warning(r, 14, 7, "spec.containers[0].securityContext.seccompProfile",
		  "podprobe applies no seccomp profile: the process runs Unconfined, ignoring");
	/* supplementalGroups exist only at pod level. */
	t_warning(r, 15, 7, "spec.containers[0].securityContext.supplementalGroups",
		  "unknown field \"supplementalGroups\"");
	t_warning(r, 17, 5, "spec.securityContext.seLinuxOptions",
		  "podprobe does not set SELinux labels, ignoring");
	t_warning(r, 18, 5, "spec.securityContext.windowsOptions",
		  "Windows only: podprobe runs Linux processes, ignoring");
	t_warning(r, 19, 5, "spec.securityContext.sysctls",
		  "podprobe does not set sysctls: pods share the host's network and IPC "
		  "namespaces, ignoring");
	t_warning(r, 20, 5, "spec.securityContext.appArmorProfile",
		  "podprobe applies no AppArmor profile: the process runs Unconfined, ignoring");
	assert_int_equal(r->diags.n, 9);
}

static void test_security_context_types_are_checked(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    securityContext: {runAsNonRoot: \"true\", capabilities: {add: NET_RAW}}\n"
		   "  securityContext: {runAsUser: \"1000\", supplementalGroups: 5}\n");
	t_error(r, 10, 23, "spec.containers[0].securityContext.runAsNonRoot",
		"must be a boolean, got \"true\"");
	t_error(r, 10, 60, "spec.containers[0].securityContext.capabilities.add",
		"must be a sequence, got \"NET_RAW\"");
	t_error(r, 11, 21, "spec.securityContext.runAsUser", "must be an integer, got \"1000\"");
	t_error(r, 11, 40, "spec.securityContext.supplementalGroups", "must be a sequence, got 5");
}

/* ---- files ---------------------------------------------------------------------------------- */

static void t_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void t_unlink(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void test_load_path_reads_a_directory_in_name_order(void **state)
{
	struct t_run *r = *state;
	char dir[] = "/tmp/podprobe-test-XXXXXX", file[64];
	int ret;

	assert_non_null(mkdtemp(dir));
	t_write(dir, "b.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n");
	t_write(dir, "a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n");
	t_write(dir, "c.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"c\"}}");
	t_write(dir, "notes.txt", "not a manifest");

	ret = pp_manifest_load_path(dir, &r->pods, &r->diags);
	assert_int_equal(ret, 0);
	assert_int_equal(r->pods.n, 3);
	assert_string_equal(r->pods.items[0]->name, "a");
	assert_string_equal(r->pods.items[1]->name, "b");
	assert_string_equal(r->pods.items[2]->name, "c");
	snprintf(file, sizeof(file), "%s/b.yml", dir);
	assert_string_equal(r->pods.items[1]->file, file);

	pp_pod_list_free(&r->pods);
	ret = pp_manifest_load_path(file, &r->pods, &r->diags);
	assert_int_equal(ret, 0);
	assert_int_equal(r->pods.n, 1);

	t_unlink(dir, "a.yaml");
	t_unlink(dir, "b.yml");
	t_unlink(dir, "c.json");
	ret = pp_manifest_load_path(dir, &r->pods, &r->diags);
	assert_int_equal(ret, 1);
	assert_string_equal(r->diags.items[0].file, dir);
	assert_string_equal(r->diags.items[0].message,
			    "no *.yaml, *.yml or *.json files in the directory");
	t_unlink(dir, "notes.txt");
	rmdir(dir);
}

static void test_many_pods_in_one_file_are_accepted(void **state)
{
	struct t_run *r = *state;
	size_t cap = 3u << 20, len = 0;
	char *yaml = malloc(cap);

	/* 10,000 pods in 2 MB: about 200,000 fields, every document well within its limits. */
	assert_non_null(yaml);
	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(yaml + len, cap - len,
					"---\n"
					"apiVersion: v1\n"
					"kind: Pod\n"
					"metadata: {name: pod-%05d, labels: {app: fleet}}\n"
					"spec:\n"
					"  restartPolicy: Never\n"
					"  containers:\n"
					"  - name: app\n"
					"    image: busybox:1.36\n"
					"    command: [sleep, \"3600\"]\n"
					"    env: [{name: A, value: b}]\n",
					i);
	assert_true(len > 2000000 && len < PP_MANIFEST_MAX_BYTES);
	t_check(r, yaml);
	free(yaml);
	t_clean(r);
	assert_int_equal(r->pods.n, 10000);
	assert_string_equal(r->pods.items[9999]->name, "pod-09999");
}

static void test_alias_expansion_across_documents_is_bounded(void **state)
{
	struct t_run *r = *state;
	size_t cap = 512 * 1024, len = 0;
	char *yaml = malloc(cap);

	/* Each document expands to about 81,000 fields (under its limit); 40 of them are far
	 * more than 220 KB of YAML may cost. */
	assert_non_null(yaml);
	for (int d = 0; d < 40; d++) {
		len += (size_t)snprintf(yaml + len, cap - len,
					"---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
					"x: &c {name: c, image: i, command: [c], env: [");
		for (int i = 0; i < 400; i++)
			len += (size_t)snprintf(yaml + len, cap - len, "%s{name: E%d}", i ? "," : "",
						i);
		len += (size_t)snprintf(yaml + len, cap - len, "]}\nspec:\n  containers: [");
		for (int i = 0; i < 100; i++)
			len += (size_t)snprintf(yaml + len, cap - len, "%s*c", i ? "," : "");
		len += (size_t)snprintf(yaml + len, cap - len, "]\n");
	}
	t_parse(r, yaml);
	free(yaml);
	assert_true(r->parse_ret >= 1);
	assert_string_equal(r->diags.items[r->diags.n - 1].message,
			    "too many fields in the file for its size (aliases expanded)");
	assert_true(r->pods.n >= 1 && r->pods.n < 40);
}

/* Fails (SIGALRM) instead of hanging when a read blocks. */
static void test_fifo_is_refused_without_blocking(void **state)
{
	struct t_run *r = *state;
	char dir[] = "/tmp/podprobe-test-XXXXXX", fifo[64], line[256];

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/pod.yaml", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_int_equal(pp_manifest_load_path(fifo, &r->pods, &r->diags), 1);
	pp_diag_format(&r->diags.items[0], line, sizeof(line));
	assert_non_null(strstr(line, ": cannot read: a FIFO, not a regular file"));
	/* The same through a directory listing. */
	assert_int_equal(pp_manifest_load_path(dir, &r->pods, &r->diags), 1);
	assert_string_equal(r->diags.items[1].file, fifo);
	alarm(0);
	assert_int_equal(r->pods.n, 0);
	unlink(fifo);
	rmdir(dir);
}

static void test_empty_directory_is_an_error(void **state)
{
	struct t_run *r = *state;
	char dir[] = "/tmp/podprobe-test-XXXXXX";

	/* No names to sort: must not hand qsort() a NULL array (UBSan: nonnull-attribute). */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pp_manifest_load_path(dir, &r->pods, &r->diags), 1);
	assert_string_equal(r->diags.items[0].message,
			    "no *.yaml, *.yml or *.json files in the directory");
	rmdir(dir);
}

static void test_load_path_reports_unreadable_files(void **state)
{
	struct t_run *r = *state;
	char line[256];

	assert_int_equal(pp_manifest_load_path("/nonexistent/web.yaml", &r->pods, &r->diags), 1);
	pp_diag_format(&r->diags.items[0], line, sizeof(line));
	assert_string_equal(line, "/nonexistent/web.yaml: cannot read: No such file or directory");
}

/* ---- the model's helpers ------------------------------------------------------------------ */

static void test_diag_format_variants(void **state)
{
	struct pp_diag_list diags = { 0 };
	char line[128];

	assert_int_equal(pp_diag_add(&diags, PP_DIAG_WARNING, "p.yaml", (struct pp_src_pos){ 3, 5 },
				     "spec.x", "unknown field %s", "\"x\""), 0);
	assert_int_equal(pp_diag_add(&diags, PP_DIAG_ERROR, "p.yaml", (struct pp_src_pos){ 1, 1 },
				     "", "oops %d", 42), 0);
	assert_int_equal(pp_diag_add(&diags, PP_DIAG_ERROR, "", (struct pp_src_pos){ 0 }, "a.b",
				     "bad"), 0);
	assert_int_equal(diags.n, 3);
	assert_int_equal(diags.n_errors, 2);

	pp_diag_format(&diags.items[0], line, sizeof(line));
	assert_string_equal(line, "p.yaml:3:5: warning: spec.x: unknown field \"x\"");
	pp_diag_format(&diags.items[1], line, sizeof(line));
	assert_string_equal(line, "p.yaml:1:1: oops 42");
	pp_diag_format(&diags.items[2], line, sizeof(line));
	assert_string_equal(line, "a.b: bad");
	assert_int_equal(pp_diag_format(&diags.items[0], line, 10), -ENOSPC);
	assert_string_equal(line, "p.yaml:3:");

	pp_diag_list_free(&diags);
	assert_int_equal(diags.n, 0);
	pp_diag_list_free(&diags); /* idempotent */
}

static void test_quote_escapes_and_truncates(void **state)
{
	char buf[16];

	assert_string_equal(pp_quote(buf, sizeof(buf), "a\"b\n", 4), "\"a\\\"b\\x0a\"");
	assert_string_equal(pp_quote(buf, sizeof(buf), "abcdefghijklmnopqrstuvwxyz", 26),
			    "\"abcdefghij...\"");
	assert_string_equal(pp_quote(buf, sizeof(buf), "abcdefghijklm", 13), "\"abcdefghijklm\"");
}

static void test_dns1123_label_predicate(void **state)
{
	char long_label[65];

	assert_true(pp_is_dns1123_label("web"));
	assert_true(pp_is_dns1123_label("a"));
	assert_true(pp_is_dns1123_label("123-abc"));
	assert_false(pp_is_dns1123_label(""));
	assert_false(pp_is_dns1123_label(NULL));
	assert_false(pp_is_dns1123_label("-web"));
	assert_false(pp_is_dns1123_label("web-"));
	assert_false(pp_is_dns1123_label("Web"));
	assert_false(pp_is_dns1123_label("my.web"));
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_false(pp_is_dns1123_label(long_label));
	long_label[63] = '\0';
	assert_true(pp_is_dns1123_label(long_label));
}

static void test_destructors_accept_null_and_empty(void **state)
{
	struct pp_pod_list pods = { 0 };

	pp_pod_free(NULL);
	pp_pod_list_free(NULL);
	pp_diag_list_free(NULL);
	assert_int_equal(pp_pod_list_push(&pods, calloc(1, sizeof(struct pp_pod))), 0);
	assert_int_equal(pods.n, 1);
	pp_pod_list_free(&pods);
	assert_int_equal(pods.n, 0);
	pp_pod_list_free(&pods);
}

/* Each pod keeps its document's text and a digest of what it says, not of how. */
static void test_pod_keeps_its_document_and_a_layout_blind_digest(void **state)
{
	static const char a[] = "# a comment\n"
				"apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: web}\n"
				"spec:\n"
				"  containers: [{name: app, image: x, command: [sleep, '9']}]\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: db}\n"
				"spec: {containers: [{name: db, image: x, command: [sleep, '9']}]}\n";
	static const char b[] = "apiVersion: v1   # the same pod, written another way\n"
				"kind: Pod\n"
				"metadata:\n"
				"  name: web\n"
				"spec:\n"
				"  containers:\n"
				"  - name: app\n"
				"    image: x\n"
				"    command:\n"
				"    - sleep\n"
				"    - '9'\n";
	static const char c[] = "apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: web}\n"
				"spec:\n"
				"  containers: [{name: app, image: x, command: [sleep, '9'], "
				"workingDir: /}]\n";
	struct t_run *r = *state, again = {0};

	t_parse(r, a);
	t_parse(r, b);
	t_parse(r, c);
	t_clean(r);
	assert_int_equal(r->pods.n, 4);
	assert_memory_equal(r->pods.items[0]->digest, "fnv1a64:", 8);
	assert_int_equal(strlen(r->pods.items[0]->digest), 24);
	assert_string_equal(r->pods.items[0]->digest, r->pods.items[2]->digest);
	assert_string_not_equal(r->pods.items[0]->digest, r->pods.items[1]->digest);
	/* One field more is another pod. */
	assert_string_not_equal(r->pods.items[0]->digest, r->pods.items[3]->digest);
	/* The second document's text is a manifest of its own, with the same digest. */
	assert_non_null(r->pods.items[1]->source);
	assert_non_null(strstr(r->pods.items[1]->source, "name: db"));
	assert_null(strstr(r->pods.items[1]->source, "name: web"));
	again.parse_ret = pp_manifest_parse_buffer("saved.yaml", r->pods.items[1]->source,
						   r->pods.items[1]->source_len, &again.pods,
						   &again.diags);
	assert_int_equal(again.parse_ret, 0);
	assert_int_equal(again.pods.n, 1);
	assert_string_equal(again.pods.items[0]->name, "db");
	assert_string_equal(again.pods.items[0]->digest, r->pods.items[1]->digest);
	pp_pod_list_free(&again.pods);
	pp_diag_list_free(&again.diags);
}

#define T(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)

/* ---- issue 11: API-server validation and go-yaml decoding -------------------------------- */

static void test_duplicate_host_port_across_containers(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER                                  /* 7-9 */
		   "    ports: [{containerPort: 80, hostPort: 8080}]\n"     /* 10 */
		   "  - name: b\n"                                          /* 11 */
		   "    image: x\n"                                         /* 12 */
		   "    command: [x]\n"                                     /* 13 */
		   "    ports:\n"                                           /* 14 */
		   "    - {containerPort: 81, hostPort: 8080}\n"            /* 15 */
		   "    - {containerPort: 82, hostPort: 8080, protocol: UDP}\n"
		   "    - {containerPort: 83, hostPort: 8080, hostIP: 127.0.0.2}\n");
	/* checkHostPortConflicts: "<protocol>/<hostIP>/<port>" must be unique. */
	t_only_error(r, 15, 27, "spec.containers[1].ports[0].hostPort",
		     "Duplicate value: \"TCP//8080\"");
}

static void test_env_value_and_value_from_are_exclusive(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER
		   "    env:\n"                                                        /* 10 */
		   "    - name: A\n"                                                   /* 11 */
		   "      value: x\n"                                                  /* 12 */
		   "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"         /* 13 */
		   "    - {name: B, valueFrom: {}}\n");                                /* 14 */
	/* validateEnvVarValueFrom's texts. */
	assert_int_equal(r->parse_ret, 2);
	assert_int_equal(r->diags.n, 2);
	assert_string_equal(r->diags.items[0].path, "spec.containers[0].env[0].valueFrom");
	assert_string_equal(r->diags.items[0].message,
			    "Invalid value: \"\": may not be specified when `value` is not empty");
	assert_string_equal(r->diags.items[1].path, "spec.containers[0].env[1].valueFrom");
	assert_string_equal(r->diags.items[1].message,
			    "Invalid value: \"\": must specify one of: `fieldRef`, "
			    "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
}

static void test_memory_request_above_limit_is_rejected(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    resources:\n"                  /* 10 */
		   "      requests: {memory: 2Gi}\n"   /* 11 */
		   "      limits: {memory: 1Gi}\n");   /* 12 */
	t_only_error(r, 11, 18, "spec.containers[0].resources.requests[memory]",
		     "Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi");
	assert_int_equal(t_container(r, 0, 0)->memory_request, 2ll << 30);
}

static void test_image_pull_policy_is_case_sensitive(void **state)
{
	struct t_run *r = *state;

	t_parse(r, POD_HEAD WEB_CONTAINER "    imagePullPolicy: always\n");
	t_only_error(r, 10, 5, "spec.containers[0].imagePullPolicy",
		     "Unsupported value: \"always\": supported values: \"Always\", "
		     "\"IfNotPresent\", \"Never\"");
	pp_diag_list_free(&r->diags);
	pp_pod_list_free(&r->pods);
	t_check(r, POD_HEAD WEB_CONTAINER "    imagePullPolicy: IfNotPresent\n");
	t_clean(r);
}

static void test_pre_stop_sleep_zero_is_valid(void **state)
{
	struct t_run *r = *state;

	/* KEP-4818 (PodLifecycleSleepActionAllowZero, GA 1.34): 0 means no sleep. */
	t_check(r, POD_HEAD WEB_CONTAINER "    lifecycle: {preStop: {sleep: {seconds: 0}}}\n");
	t_clean(r);
	assert_int_equal(t_container(r, 0, 0)->pre_stop.kind, PP_HANDLER_SLEEP);
	assert_int_equal(t_container(r, 0, 0)->pre_stop.sleep_seconds, 0);
}

static void test_relaxed_env_names_are_valid(void **state)
{
	struct t_run *r = *state;

	t_check(r, POD_HEAD WEB_CONTAINER
		   "    env: [{name: 1ST_VALUE, value: a}, {name: my var, value: b}]\n");
	t_clean(r);
}

static void test_merge_key_and_float_integers(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {name: web}\n"
		   "spec:\n"
		   "  terminationGracePeriodSeconds: 30.0\n"
		   "  containers:\n"
		   "  - &base\n"
		   "    name: a\n"
		   "    image: x\n"
		   "    command: [x]\n"
		   "    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 5}\n"
		   "  - <<: *base\n"
		   "    name: b\n");
	t_clean(r);
	assert_int_equal(r->pods.items[0]->termination_grace_s, 30);
	c = t_container(r, 0, 1);
	assert_string_equal(c->name, "b"); /* the mapping's own key wins */
	assert_string_equal(c->image, "x");
	assert_int_equal(c->readiness.period_s, 5);
	pp_pod_list_free(&r->pods);

	/* 30.5 is no integer, and a merge needs mappings. */
	t_parse(r, POD_HEAD WEB_CONTAINER "    readinessProbe: {tcpSocket: {port: 80}, "
					  "periodSeconds: 30.5}\n");
	t_only_error(r, 10, 45, "spec.containers[0].readinessProbe.periodSeconds",
		     "must be an integer, got 30.5");
	pp_diag_list_free(&r->diags);
	t_parse(r, "a: {<<: [1]}\n");
	assert_int_equal(r->parse_ret, 1);
	assert_string_equal(r->diags.items[0].message,
			    "map merge requires map or seq of maps as the value");
}

static void test_escaped_single_quote_in_double_quotes(void **state)
{
	struct t_run *r = *state;
	const struct pp_container_spec *c;

	t_check(r, POD_HEAD
		   "  - name: web\n"
		   "    image: x\n"
		   "    command: [sh, -c, \"echo \\'a\\' \\\\\\\\ \\\"b\\\"\", x]\n"
		   "    workingDir: /tmp\n");
	t_clean(r);
	c = t_container(r, 0, 0);
	assert_int_equal(c->n_command, 4);
	assert_string_equal(c->command[2], "echo 'a' \\\\ \"b\"");
	assert_string_equal(c->command[3], "x");
	pp_pod_list_free(&r->pods);

	/* With an ESC escape elsewhere nothing is mended: libyaml's error stands. */
	t_parse(r, POD_HEAD "  - {name: \"\\e\", image: \"\\'\"}\n");
	assert_int_equal(r->parse_ret, 1);
	assert_string_equal(r->diags.items[0].message, "found unknown escape character");
}

static void test_generate_name_makes_a_name(void **state)
{
	struct t_run *r = *state;
	const char *name;

	t_check(r, "apiVersion: v1\n"
		   "kind: Pod\n"
		   "metadata: {generateName: web-}\n"
		   "spec:\n"
		   "  containers:\n" WEB_CONTAINER);
	t_clean(r);
	name = r->pods.items[0]->name;
	assert_true(r->pods.items[0]->name_generated);
	assert_int_equal(strlen(name), 9);
	assert_memory_equal(name, "web-", 4);
	/* SimpleNameGenerator: utilrand.String's alphabet. */
	assert_int_equal(strspn(name + 4, "bcdfghjklmnpqrstvwxz2456789"), 5);
}

/*
 * A name used again in its namespace is found against the first pod of that name, in the
 * list's order; the same name in another namespace is no duplicate.
 */
static void test_duplicate_names_point_at_the_first(void **state)
{
	static const char c[] = "spec: {containers: [{name: c, image: x}]}\n";
	char yaml[1024];
	struct t_run *r = *state;
	size_t first[6];

	snprintf(yaml, sizeof(yaml),
		 "kind: Pod\napiVersion: v1\nmetadata: {name: b}\n%s"
		 "---\nkind: Pod\napiVersion: v1\nmetadata: {name: a}\n%s"
		 "---\nkind: Pod\napiVersion: v1\nmetadata: {name: b, namespace: other}\n%s"
		 "---\nkind: Pod\napiVersion: v1\nmetadata: {name: b}\n%s"
		 "---\nkind: Pod\napiVersion: v1\nmetadata: {name: c}\n%s"
		 "---\nkind: Pod\napiVersion: v1\nmetadata: {name: b}\n%s",
		 c, c, c, c, c, c);
	t_check(r, yaml);
	assert_int_equal(r->pods.n, 6);
	assert_int_equal(pp_pod_list_duplicates(&r->pods, first), 0);
	assert_true(first[0] == SIZE_MAX && first[1] == SIZE_MAX && first[2] == SIZE_MAX);
	assert_int_equal(first[3], 0);
	assert_true(first[4] == SIZE_MAX);
	assert_int_equal(first[5], 0);
}

static void test_config_maps_and_secrets_are_kept(void **state)
{
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: ConfigMap\n"
				   "metadata: {name: cfg, labels: {a: b}}\n"
				   "data: {k: v}\n"
				   "binaryData: {b: AAEC}\n"
				   "---\n"
				   "apiVersion: v1\n"
				   "kind: Secret\n"
				   "metadata: {name: sec, namespace: ns}\n"
				   "type: Opaque\n"
				   "data: {password: cGFzcw==}\n"
				   "stringData: {user: admin}\n"
				   "---\n"
				   "apiVersion: v1\n"
				   "kind: Service\n"
				   "metadata: {name: svc}\n"
				   "---\n" POD_HEAD WEB_CONTAINER;
	struct t_run *r = *state;
	struct pp_config_list cfg = {0};
	int rc;

	rc = pp_manifest_parse_objects("web.yaml", yaml, strlen(yaml), &r->pods, &cfg, &r->diags);
	assert_int_equal(rc, 0);
	assert_int_equal(r->pods.n, 1);
	t_warning(r, 15, 1, "kind",
		  "skipping kind \"Service\" in version \"v1\": podprobe runs Pods and reads "
		  "ConfigMaps and Secrets only");
	assert_int_equal(r->diags.n, 1);
	assert_int_equal(cfg.n, 2);
	assert_int_equal(cfg.items[0].kind, PP_CONFIG_MAP);
	assert_string_equal(cfg.items[0].name, "cfg");
	assert_string_equal(cfg.items[0].namespace, "default");
	assert_int_equal(cfg.items[0].n_data, 1);
	assert_string_equal(cfg.items[0].data[0].value, "v");
	assert_string_equal(cfg.items[0].b64[0].value, "AAEC");
	assert_int_equal(cfg.items[1].kind, PP_CONFIG_SECRET);
	assert_string_equal(cfg.items[1].namespace, "ns");
	assert_string_equal(cfg.items[1].type, "Opaque");
	assert_string_equal(cfg.items[1].data[0].name, "user");
	assert_string_equal(cfg.items[1].b64[0].value, "cGFzcw==");
	assert_int_equal(cfg.items[1].pos.line, 7);
	pp_config_list_free(&cfg);
	pp_config_list_free(&cfg);
	pp_config_list_free(NULL);

	/* Without a list, ConfigMaps and Secrets are skipped silently. */
	pp_diag_list_free(&r->diags);
	pp_pod_list_free(&r->pods);
	t_parse(r, yaml);
	assert_int_equal(r->parse_ret, 0);
	assert_int_equal(r->diags.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_minimal_pod_gets_api_defaults),
		T(test_multi_document_stream_skips_empty_documents),
		T(test_pod_keeps_its_document_and_a_layout_blind_digest),
		T(test_init_containers_and_sidecar_come_first),
		T(test_probe_fields_and_effective_defaults),
		T(test_named_probe_port_resolves_to_container_port),
		T(test_memory_limit_quantities),
		T(test_bad_memory_quantities_are_errors),
		T(test_json_manifest_is_accepted),
		T(test_annotations_and_labels_are_read),
		T(test_annotation_values_must_be_strings),
		T(test_lifecycle_hooks_are_read),
		T(test_volumes_mounts_env_and_working_dir_are_read),
		T(test_env_value_from_is_read),
		T(test_common_kubectl_fields_are_accepted_silently),
		T(test_field_positions_fall_back_to_ancestors),
		T(test_aliases_share_values_and_keep_their_position),
		T(test_restart_policies_are_named_like_the_api),
		T(test_negative_period_points_at_the_key),
		T(test_two_probe_handlers_are_rejected),
		T(test_probe_without_handler_is_rejected),
		T(test_liveness_success_threshold_must_be_1),
		T(test_duplicate_container_name_across_init_and_regular),
		T(test_missing_command_and_image_point_at_the_container),
		T(test_bad_names_are_rejected),
		T(test_missing_pod_name_is_required),
		T(test_unsupported_restart_policy),
		T(test_probe_termination_grace_rules),
		T(test_regular_init_container_may_not_have_probes_or_hooks),
		T(test_container_port_rules),
		T(test_probe_port_rules),
		T(test_grpc_port_must_be_a_number),
		T(test_exec_command_and_header_names_are_checked),
		T(test_volume_rules),
		T(test_volume_sources_are_read),
		T(test_persistent_volume_claims),
		T(test_volume_source_rules),
		T(test_env_source_rules),
		T(test_sleep_hook_must_fit_the_grace_period),
		T(test_hook_handler_count_is_checked),
		T(test_pod_without_containers_is_rejected),
		T(test_string_for_integer_is_a_type_error),
		T(test_wrong_container_types_are_errors),
		T(test_pod_level_integer_overflow_is_an_error),
		T(test_boolean_fields_take_true_and_false),
		T(test_malformed_yaml_reports_libyaml_position),
		T(test_pods_before_a_syntax_error_are_kept),
		T(test_unknown_field_is_a_warning_with_full_path),
		T(test_duplicate_key_is_an_error),
		T(test_other_kinds_are_skipped_by_name),
		T(test_binary_junk_is_an_error),
		T(test_nul_bytes_are_an_error),
		T(test_deep_nesting_is_refused),
		T(test_billion_laughs_is_bounded),
		T(test_alias_expansion_within_the_schema_is_bounded),
		T(test_recursive_and_undefined_aliases_are_refused),
		T(test_oversize_input_is_refused),
		T(test_too_many_findings_stop_the_reader),
		T(test_load_path_reads_a_directory_in_name_order),
		T(test_load_path_reports_unreadable_files),
		T(test_many_pods_in_one_file_are_accepted),
		T(test_alias_expansion_across_documents_is_bounded),
		T(test_fifo_is_refused_without_blocking),
		T(test_empty_directory_is_an_error),
		T(test_diag_format_variants),
		T(test_quote_escapes_and_truncates),
		T(test_dns1123_label_predicate),
		T(test_destructors_accept_null_and_empty),
		T(test_security_context_is_read),
		T(test_security_context_values_are_validated),
		T(test_seccomp_type_must_be_known),
		T(test_unhonoured_security_fields_are_warnings),
		T(test_security_context_types_are_checked),
		T(test_duplicate_host_port_across_containers),
		T(test_env_value_and_value_from_are_exclusive),
		T(test_memory_request_above_limit_is_rejected),
		T(test_image_pull_policy_is_case_sensitive),
		T(test_pre_stop_sleep_zero_is_valid),
		T(test_relaxed_env_names_are_valid),
		T(test_merge_key_and_float_integers),
		T(test_escaped_single_quote_in_double_quotes),
		T(test_generate_name_makes_a_name),
		T(test_config_maps_and_secrets_are_kept),
		T(test_duplicate_names_point_at_the_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
