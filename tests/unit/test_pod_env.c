// SPDX-License-Identifier: Apache-2.0
/*
 * Env valueFrom / envFrom and volume payloads (user/core/pod_env.c) against kubelet's rules:
 * makeEnvironmentVariables' order and expansion, its error texts, the downward API's values
 * and defaults, and the configMap/secret/downwardAPI/projected payloads.
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

#include "fakes/fake_pod.h"
#include "podprobe/pod.h"
#include "podprobe/pod_env.h"

static const struct pp_env_host host = {
	.uid = "uid-1",
	.node_name = "node-a",
	.host_ip = "127.0.0.1",
	.pod_ip = "127.0.0.1",
	.cpu_m = 2000,
	.memory = 8ll << 30,
	.storage = 100ll << 30,
};

static char *t_dup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	assert_true(!s || d);
	return d;
}

/* Append env entry <name> = <value> (NULL: a valueFrom entry, returned for filling). */
static struct pp_value_src *t_env(struct pp_container_spec *c, const char *name, const char *value)
{
	size_t n = c->n_env + 1;

	c->env = realloc(c->env, n * sizeof(*c->env));
	c->env_src = realloc(c->env_src, n * sizeof(*c->env_src));
	assert_non_null(c->env);
	assert_non_null(c->env_src);
	c->env[n - 1] = (struct pp_kv){t_dup(name), t_dup(value ? value : "")};
	memset(&c->env_src[n - 1], 0, sizeof(c->env_src[0]));
	c->n_env = n;
	return &c->env_src[n - 1];
}

static void t_ref(struct pp_value_src *s, enum pp_value_kind kind, const char *name,
		  const char *key, bool optional)
{
	s->kind = kind;
	s->name = t_dup(name);
	s->key = t_dup(key);
	s->optional = optional;
}

static void t_env_from(struct pp_container_spec *c, bool secret, const char *name,
		       const char *prefix, bool optional)
{
	size_t n = c->n_env_from + 1;

	c->env_from = realloc(c->env_from, n * sizeof(*c->env_from));
	assert_non_null(c->env_from);
	c->env_from[n - 1] = (struct pp_env_from){
		.secret = secret,
		.name = t_dup(name),
		.prefix = t_dup(prefix),
		.optional = optional,
		.has_ref = true,
		.n_refs = 1,
	};
	c->n_env_from = n;
}

/* ConfigMaps and Secrets in "default", built in code; freed by t_configs_free(). */
static struct pp_config_obj *t_config(struct pp_config_list *l, enum pp_config_kind kind,
				      const char *name)
{
	l->items = realloc(l->items, (l->n + 1) * sizeof(*l->items));
	assert_non_null(l->items);
	l->items[l->n] = (struct pp_config_obj){
		.kind = kind,
		.name = t_dup(name),
		.namespace = t_dup("default"),
	};
	return &l->items[l->n++];
}

static void t_kv(struct pp_kv **v, size_t *n, const char *k, const char *val)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	assert_non_null(*v);
	(*v)[(*n)++] = (struct pp_kv){t_dup(k), t_dup(val)};
}

static void t_kvs_free(struct pp_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static void t_configs_free(struct pp_config_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].namespace);
		t_kvs_free(l->items[i].data, l->items[i].n_data);
		t_kvs_free(l->items[i].b64, l->items[i].n_b64);
	}
	free(l->items);
}

static const char *t_get(const struct pp_env_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return l->v[i].value;
	return NULL;
}

struct t_env {
	struct pp_pod *pod;
	struct pp_container_spec *c;
	struct pp_config_list configs;
	struct pp_env_list env;
	char err[256];
};

static int t_setup(void **state)
{
	struct t_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->pod = t_pod_new("web", PP_RESTART_ALWAYS);
	e->c = t_pod_add(e->pod, "app", false, false);
	*state = e;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_env *e = *state;

	pp_env_list_free(&e->env);
	t_configs_free(&e->configs);
	pp_pod_free(e->pod);
	free(e);
	return 0;
}

static int t_build(struct t_env *e)
{
	static const struct pp_kv base[] = {{"PATH", "/bin"}, {"HOSTNAME", "web"}};

	pp_env_list_free(&e->env);
	e->err[0] = '\0';
	return pp_env_build(e->pod, e->c, &host, &e->configs, base, 2, &e->env, e->err,
			    sizeof(e->err));
}

/* ---- the environment ------------------------------------------------------------------------ */

static void test_env_from_first_then_env_with_expansion(void **state)
{
	struct t_env *e = *state;
	struct pp_config_obj *cm = t_config(&e->configs, PP_CONFIG_MAP, "cfg");

	t_kv(&cm->data, &cm->n_data, "HOST", "db");
	t_kv(&cm->data, &cm->n_data, "PORT", "5432");
	t_env_from(e->c, false, "cfg", NULL, false);
	t_env_from(e->c, false, "cfg", "DB_", false);
	t_env(e->c, "URL", "pg://$(HOST):$(DB_PORT)/$(LATER)$$(HOST)");
	t_env(e->c, "PORT", "6543"); /* env overrides envFrom, in place */
	t_env(e->c, "LATER", "x");
	t_env(e->c, "URL2", "$(URL)");
	t_ref(t_env(e->c, "CMREF", NULL), PP_VALUE_CONFIG_MAP, "cfg", "HOST", false);

	assert_int_equal(t_build(e), 0);
	assert_string_equal(t_get(&e->env, "HOST"), "db");
	assert_string_equal(t_get(&e->env, "DB_HOST"), "db");
	/* Expanded against what is set so far: LATER is not yet, $$ escapes. */
	assert_string_equal(t_get(&e->env, "URL"), "pg://db:5432/$(LATER)$(HOST)");
	assert_string_equal(t_get(&e->env, "PORT"), "6543");
	assert_string_equal(t_get(&e->env, "URL2"), "pg://db:5432/$(LATER)$(HOST)");
	assert_string_equal(t_get(&e->env, "CMREF"), "db");
	assert_string_equal(t_get(&e->env, "PATH"), "/bin");
	/* Names are unique: PORT kept its first place (after PATH, HOSTNAME, HOST). */
	assert_string_equal(e->env.v[3].name, "PORT");
	assert_int_equal(e->env.n, 2 + 2 + 2 + 3 + 1);
}

static void test_value_from_is_not_expanded(void **state)
{
	struct t_env *e = *state;
	struct pp_config_obj *cm = t_config(&e->configs, PP_CONFIG_MAP, "cfg");

	t_kv(&cm->data, &cm->n_data, "v", "$(PATH)");
	t_ref(t_env(e->c, "A", NULL), PP_VALUE_CONFIG_MAP, "cfg", "v", false);
	assert_int_equal(t_build(e), 0);
	assert_string_equal(t_get(&e->env, "A"), "$(PATH)");
}

static void test_missing_config_map_and_key_texts(void **state)
{
	struct t_env *e = *state;
	struct pp_value_src *s = t_env(e->c, "A", NULL);

	t_ref(s, PP_VALUE_CONFIG_MAP, "cfg", "k", false);
	assert_int_equal(t_build(e), -ENOENT);
	assert_string_equal(e->err, "configmap \"cfg\" not found");

	t_config(&e->configs, PP_CONFIG_MAP, "cfg");
	assert_int_equal(t_build(e), -ENOENT);
	assert_string_equal(e->err, "couldn't find key k in ConfigMap default/cfg");

	/* Optional: the variable is simply not set, whether the key or the map is missing. */
	s->optional = true;
	assert_int_equal(t_build(e), 0);
	assert_null(t_get(&e->env, "A"));
	free(s->name);
	s->name = t_dup("other");
	assert_int_equal(t_build(e), 0);
	assert_null(t_get(&e->env, "A"));
}

static void test_secret_key_ref_decodes_data_and_prefers_string_data(void **state)
{
	struct t_env *e = *state;
	struct pp_config_obj *s = t_config(&e->configs, PP_CONFIG_SECRET, "sec");
	struct pp_value_src *miss;

	t_kv(&s->b64, &s->n_b64, "pw", "aHVudGVyMg==");
	t_kv(&s->b64, &s->n_b64, "user", "YWRtaW4=");
	t_kv(&s->data, &s->n_data, "user", "root"); /* stringData wins */
	t_ref(t_env(e->c, "PW", NULL), PP_VALUE_SECRET, "sec", "pw", false);
	t_ref(t_env(e->c, "USER", NULL), PP_VALUE_SECRET, "sec", "user", false);
	assert_int_equal(t_build(e), 0);
	assert_string_equal(t_get(&e->env, "PW"), "hunter2");
	assert_string_equal(t_get(&e->env, "USER"), "root");

	miss = t_env(e->c, "X", NULL);
	t_ref(miss, PP_VALUE_SECRET, "sec", "nope", false);
	assert_int_equal(t_build(e), -ENOENT);
	assert_string_equal(e->err, "couldn't find key nope in Secret default/sec");
	free(miss->name);
	miss->name = t_dup("gone");
	assert_int_equal(t_build(e), -ENOENT);
	assert_string_equal(e->err, "secret \"gone\" not found");
}

static void test_env_from_skips_invalid_names_with_one_event(void **state)
{
	struct t_env *e = *state;
	struct pp_config_obj *cm = t_config(&e->configs, PP_CONFIG_MAP, "cfg");

	t_kv(&cm->data, &cm->n_data, "ok", "1");
	t_kv(&cm->data, &cm->n_data, "b=x", "2");
	t_kv(&cm->data, &cm->n_data, "a=y", "3");
	t_kv(&cm->data, &cm->n_data, "1st", "4"); /* valid since 1.34 (relaxed names) */
	t_env_from(e->c, false, "cfg", NULL, false);
	t_env_from(e->c, true, "missing", NULL, true); /* optional: skipped */
	assert_int_equal(t_build(e), 0);
	assert_string_equal(t_get(&e->env, "ok"), "1");
	assert_string_equal(t_get(&e->env, "1st"), "4");
	assert_null(t_get(&e->env, "a=y"));
	assert_int_equal(e->env.n_events, 1);
	assert_string_equal(e->env.events[0],
			    "Keys [a=y, b=x] from the EnvFrom configMap default/cfg were skipped "
			    "since they are considered invalid environment variable names.");

	e->c->env_from[1].optional = false;
	assert_int_equal(t_build(e), -ENOENT);
	assert_string_equal(e->err, "secret \"missing\" not found");
}

/* ---- the downward API -------------------------------------------------------------------------
 */

static void test_field_refs(void **state)
{
	struct t_env *e = *state;
	static const char *const cases[][2] = {
		{"metadata.name", "web"},
		{"metadata.namespace", "default"},
		{"metadata.uid", "uid-1"},
		{"metadata.labels['app']", "shop"},
		{"metadata.labels['none']", ""},
		{"metadata.annotations['note']", "say \"hi\""},
		{"metadata.labels", "app=\"shop\"\ntier=\"web\""},
		{"spec.nodeName", "node-a"},
		{"spec.serviceAccountName", "default"},
		{"status.hostIP", "127.0.0.1"},
		{"status.hostIPs", "127.0.0.1"},
		{"status.podIP", "127.0.0.1"},
		{"status.podIPs", "127.0.0.1"},
	};
	char *v;

	t_kv(&e->pod->labels, &e->pod->n_labels, "tier", "web");
	t_kv(&e->pod->labels, &e->pod->n_labels, "app", "shop");
	t_kv(&e->pod->annotations, &e->pod->n_annotations, "note", "say \"hi\"");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			pp_env_field_value(e->pod, &host, cases[i][0], &v, e->err, sizeof(e->err)),
			0);
		assert_string_equal(v, cases[i][1]);
		free(v);
	}
	/* FormatMap quotes as Go's %q. */
	assert_int_equal(pp_env_field_value(e->pod, &host, "metadata.annotations", &v, e->err,
					    sizeof(e->err)),
			 0);
	assert_string_equal(v, "note=\"say \\\"hi\\\"\"");
	free(v);
	assert_int_equal(pp_env_field_value(e->pod, &host, "spec.foo", &v, e->err, sizeof(e->err)),
			 -EINVAL);
	assert_string_equal(e->err, "unsupported fieldPath: spec.foo");
	e->pod->service_account = t_dup("builder");
	assert_int_equal(pp_env_field_value(e->pod, &host, "spec.serviceAccountName", &v, e->err,
					    sizeof(e->err)),
			 0);
	assert_string_equal(v, "builder");
	free(v);
}

static const char *t_resource(struct t_env *e, const char *res, int64_t div_m, int64_t div)
{
	static char out[32];
	struct pp_value_src s = {
		.kind = PP_VALUE_RESOURCE, .key = (char *)res, .divisor_m = div_m, .divisor = div};
	char *v;

	assert_int_equal(pp_env_resource_value(e->c, &host, &s, &v, e->err, sizeof(e->err)), 0);
	snprintf(out, sizeof(out), "%s", v);
	free(v);
	return out;
}

static void test_resource_refs_round_up_and_default_to_allocatable(void **state)
{
	struct t_env *e = *state;

	/* Nothing set: limits are the node's allocatable, requests 0. */
	assert_string_equal(t_resource(e, "limits.cpu", 0, 0), "2");
	assert_string_equal(t_resource(e, "limits.memory", 0, 0), "8589934592");
	assert_string_equal(t_resource(e, "limits.memory", 1 << 30, 1 << 30), "8");
	assert_string_equal(t_resource(e, "requests.cpu", 0, 0), "0");

	e->c->cpu_limit_m = 500;
	e->c->memory_limit = 100 * 1000 * 1000;
	/* 500m in cores rounds up to 1; in millicores it is 500. */
	assert_string_equal(t_resource(e, "limits.cpu", 1000, 1), "1");
	assert_string_equal(t_resource(e, "limits.cpu", 1, 1), "500");
	assert_string_equal(t_resource(e, "limits.memory", 1 << 20, 1 << 20), "96");
	/* Unset requests take the limits (the API server's SetDefaults_Pod). */
	assert_string_equal(t_resource(e, "requests.cpu", 1, 1), "500");
	assert_string_equal(t_resource(e, "requests.memory", 1000000, 1000000), "100");
	e->c->has_cpu_request = true;
	e->c->cpu_request_m = 250;
	assert_string_equal(t_resource(e, "requests.cpu", 1, 1), "250");
}

/* ---- volume payloads --------------------------------------------------------------------------
 */

static struct pp_vol_proj *t_vol(struct pp_volume *v, enum pp_volume_kind kind, size_t n_proj)
{
	memset(v, 0, sizeof(*v));
	v->name = "v";
	v->kind = kind;
	v->proj = calloc(n_proj, sizeof(*v->proj));
	assert_non_null(v->proj);
	v->n_proj = n_proj;
	return v->proj;
}

static void t_item(struct pp_vol_proj *p, const char *key, const char *path, int64_t mode)
{
	p->items = realloc(p->items, (p->n_items + 1) * sizeof(*p->items));
	assert_non_null(p->items);
	p->items[p->n_items++] = (struct pp_vol_item){
		.key = (char *)key, .path = (char *)path, .has_mode = mode >= 0, .mode = mode};
}

static const struct pp_vol_file *t_file(const struct pp_vol_payload *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].path, path))
			return &p->v[i];
	return NULL;
}

static void test_config_map_payload(void **state)
{
	struct t_env *e = *state;
	struct pp_config_obj *cm = t_config(&e->configs, PP_CONFIG_MAP, "cfg");
	struct pp_vol_payload p = {0};
	struct pp_volume v;
	struct pp_vol_proj *pj = t_vol(&v, PP_VOL_CONFIG_MAP, 1);

	pj->kind = PP_PROJ_CONFIG_MAP;
	pj->name = "cfg";
	t_kv(&cm->data, &cm->n_data, "a.conf", "A");
	t_kv(&cm->b64, &cm->n_b64, "bin", "AAEC");
	/* Every key, binaryData decoded, mode 0644. */
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		0);
	assert_int_equal(p.n, 2);
	assert_int_equal(t_file(&p, "a.conf")->mode, 0644);
	assert_int_equal(t_file(&p, "bin")->len, 3);
	assert_memory_equal(t_file(&p, "bin")->data, "\0\1\2", 3);
	pp_vol_payload_free(&p);

	/* items choose and rename; a mode of its own beats defaultMode. */
	v.has_default_mode = true;
	v.default_mode = 0600;
	t_item(pj, "a.conf", "etc/app.conf", -1);
	t_item(pj, "bin", "b", 0400);
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		0);
	assert_int_equal(p.n, 2);
	assert_int_equal(t_file(&p, "etc/app.conf")->mode, 0600);
	assert_int_equal(t_file(&p, "b")->mode, 0400);
	pp_vol_payload_free(&p);

	t_item(pj, "nope", "n", -1);
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		-ENOENT);
	assert_string_equal(e->err, "configmap references non-existent config key: nope");
	pj->optional = true;
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		0);
	assert_int_equal(p.n, 2);
	pp_vol_payload_free(&p);

	/* Optional and missing altogether: an empty volume. */
	pj->name = "gone";
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		0);
	assert_int_equal(p.n, 0);
	pp_vol_payload_free(&p);
	pj->optional = false;
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		-ENOENT);
	assert_string_equal(e->err, "configmap \"gone\" not found");
	free(pj->items);
	free(v.proj);
}

static void test_projected_payload_aggregates_errors(void **state)
{
	struct t_env *e = *state;
	struct pp_vol_payload p = {0};
	struct pp_volume v;
	struct pp_vol_proj *pj = t_vol(&v, PP_VOL_PROJECTED, 4);

	pj[0] = (struct pp_vol_proj){.kind = PP_PROJ_SECRET, .name = "s1"};
	pj[1] = (struct pp_vol_proj){.kind = PP_PROJ_CONFIG_MAP, .name = "c1"};
	pj[2] = (struct pp_vol_proj){.kind = PP_PROJ_DOWNWARD_API};
	pj[3] = (struct pp_vol_proj){.kind = PP_PROJ_SA_TOKEN, .token_path = "token"};
	t_item(&pj[2], NULL, "name", -1);
	pj[2].items[0].ref = (struct pp_value_src){.kind = PP_VALUE_FIELD, .key = "metadata.name"};
	/* utilerrors.NewAggregate of two: "[a, b]". */
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		-ENOENT);
	assert_string_equal(e->err, "[secret \"s1\" not found, configmap \"c1\" not found]");

	t_config(&e->configs, PP_CONFIG_SECRET, "s1");
	t_config(&e->configs, PP_CONFIG_MAP, "c1");
	assert_int_equal(
		pp_vol_payload_build(e->pod, &v, &host, &e->configs, &p, e->err, sizeof(e->err)),
		0);
	/* The token is not written; the downward API file is. */
	assert_int_equal(p.n, 1);
	assert_string_equal(t_file(&p, "name")->data, "web");
	assert_int_equal(p.n_warnings, 1);
	pp_vol_payload_free(&p);
	free(pj[2].items);
	free(v.proj);
}

static void test_payload_paths_and_base64(void **state)
{
	char *out;
	size_t len;

	assert_true(pp_vol_path_ok("a"));
	assert_true(pp_vol_path_ok("a/b..c/d"));
	assert_false(pp_vol_path_ok(""));
	assert_false(pp_vol_path_ok("/etc/passwd"));
	assert_false(pp_vol_path_ok("..data"));
	assert_false(pp_vol_path_ok("a/../b"));
	assert_false(pp_vol_path_ok("a/.."));

	assert_int_equal(pp_base64_decode("aGk=\n", &out, &len), 0);
	assert_int_equal(len, 2);
	assert_string_equal(out, "hi");
	free(out);
	/* Go's StdEncoding wants the padding, and no stray bits. */
	assert_int_equal(pp_base64_decode("aGk", &out, &len), -EINVAL);
	assert_int_equal(pp_base64_decode("aGl=", &out, &len), -EINVAL);
	assert_int_equal(pp_base64_decode("a*==", &out, &len), -EINVAL);
	assert_int_equal(pp_base64_decode("", &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
}

static void test_sub_path_expr(void **state)
{
	struct pp_kv v[] = {{"POD", "web-1"}, {"EMPTY", ""}};
	struct pp_env_list env = {.v = v, .n = 2};
	char err[128], *out;

	assert_int_equal(pp_env_sub_path_expr("logs/$(POD)", &env, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "logs/web-1");
	free(out);
	/* ExpandContainerVolumeMounts: unknown or empty is an error, named. */
	assert_int_equal(pp_env_sub_path_expr("$(NOPE)/$(EMPTY)", &env, &out, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "missing value for NOPE, EMPTY");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
	const struct CMUnitTest tests[] = {
		T(test_env_from_first_then_env_with_expansion),
		T(test_value_from_is_not_expanded),
		T(test_missing_config_map_and_key_texts),
		T(test_secret_key_ref_decodes_data_and_prefers_string_data),
		T(test_env_from_skips_invalid_names_with_one_event),
		T(test_field_refs),
		T(test_resource_refs_round_up_and_default_to_allocatable),
		T(test_config_map_payload),
		T(test_projected_payload_aggregates_errors),
		cmocka_unit_test(test_payload_paths_and_base64),
		cmocka_unit_test(test_sub_path_expr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
