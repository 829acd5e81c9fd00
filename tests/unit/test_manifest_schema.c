// SPDX-License-Identifier: Apache-2.0
/*
 * The YAML document tree (user/core/yaml_tree.c) and the Pod schema over it
 * (user/core/manifest_schema.c), without libyaml: trees are built here node by node, as a
 * parser's events would, and read with the reader's API. tests/unit/test_manifest.c covers
 * the same code through libyaml and pp_manifest_parse_buffer().
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

#include "podprobe/manifest_schema.h"
#include "podprobe/pod.h"
#include "podprobe/yaml_tree.h"

/* A reader and what it produced; each node added goes on the next line, column 1. */
struct t_doc {
	struct pp_manifest_reader ps;
	struct pp_pod_list pods;
	struct pp_config_list configs;
	struct pp_diag_list diags;
	uint32_t line;
};

static int t_setup(void **state)
{
	struct t_doc *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	pp_manifest_reader_init(&t->ps, "t.yaml", NULL, 0, &t->pods, &t->configs, &t->diags);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_doc *t = *state;

	pp_manifest_reader_release(&t->ps);
	pp_pod_list_free(&t->pods);
	pp_config_list_free(&t->configs);
	pp_diag_list_free(&t->diags);
	free(t);
	return 0;
}

static struct pp_src_pos next_pos(struct t_doc *t)
{
	return (struct pp_src_pos){.line = ++t->line, .col = 1};
}

/* A scalar (<plain>: written plain, untagged) with an optional anchor; returns the result. */
static int add_scalar(struct t_doc *t, const char *tag, bool plain, const char *text,
		      const char *anchor)
{
	char *s = strdup(text), *a = anchor ? strdup(anchor) : NULL;
	int err;

	assert_non_null(s);
	err = pp_ydoc_add_node(&t->ps.doc, PP_YNODE_SCALAR, next_pos(t), tag, plain, &s,
			       strlen(text), &a);
	free(s);
	free(a);
	return err;
}

static int add_open(struct t_doc *t, enum pp_ynode_type type, const char *anchor)
{
	char *a = anchor ? strdup(anchor) : NULL;
	int err = pp_ydoc_add_node(&t->ps.doc, type, next_pos(t), NULL, false, NULL, 0, &a);

	free(a);
	return err;
}

/* Plain and quoted scalars, collections, aliases: each must be accepted. */
#define S(t, text)     assert_int_equal(add_scalar(t, NULL, true, text, NULL), 0)
#define Q(t, text)     assert_int_equal(add_scalar(t, NULL, false, text, NULL), 0)
#define MAP(t)	       assert_int_equal(add_open(t, PP_YNODE_MAPPING, NULL), 0)
#define MAP_A(t, a)    assert_int_equal(add_open(t, PP_YNODE_MAPPING, a), 0)
#define SEQ(t)	       assert_int_equal(add_open(t, PP_YNODE_SEQUENCE, NULL), 0)
#define END(t)	       assert_int_equal(pp_ydoc_end_collection(&(t)->ps.doc), 0)
#define ALIAS(t, name) assert_int_equal(pp_ydoc_add_alias(&(t)->ps.doc, next_pos(t), name), 0)
#define KV(t, k, v)      \
	do {             \
		S(t, k); \
		S(t, v); \
	} while (0)

/* The head of a v1 Pod: "apiVersion: v1, kind: Pod, metadata:" opened. */
static void pod_head(struct t_doc *t)
{
	MAP(t);
	KV(t, "apiVersion", "v1");
	KV(t, "kind", "Pod");
	S(t, "metadata");
	MAP(t);
}

/* "spec: {containers: [{name: c, image: x, <extra key and value, plain>}]}" and the end. */
static void pod_tail(struct t_doc *t, const char *key, const char *value, bool quoted)
{
	S(t, "spec");
	MAP(t);
	S(t, "containers");
	SEQ(t);
	MAP(t);
	KV(t, "name", "c");
	KV(t, "image", "x");
	if (key) {
		S(t, key);
		if (quoted)
			Q(t, value);
		else
			S(t, value);
	}
	END(t);
	END(t);
	END(t);
	END(t);
}

static void end_doc(struct t_doc *t)
{
	pp_manifest_reader_end_document(&t->ps, 0, 0);
}

static const struct pp_diag *only_diag(const struct t_doc *t)
{
	assert_int_equal(t->diags.n, 1);
	return &t->diags.items[0];
}

static bool fixed_random(void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)buf)[i] = (unsigned char)i;
	return true;
}

static bool no_random(void *buf, size_t len)
{
	return false;
}

/* generateName: the prefix and 5 characters of the alphabet, from the caller's randomness. */
static void test_generate_name_uses_callers_random(void **state)
{
	struct t_doc *t = *state;

	t->ps.fill_random = fixed_random;
	pod_head(t);
	KV(t, "generateName", "web-");
	END(t);
	pod_tail(t, NULL, NULL, false);
	end_doc(t);
	assert_int_equal(t->diags.n, 0);
	assert_int_equal(t->pods.n, 1);
	/* bytes 0..4 of "bcdfghjklmnpqrstvwxz2456789" */
	assert_string_equal(t->pods.items[0]->name, "web-bcdfg");
	assert_true(t->pods.items[0]->name_generated);
}

/* Without randomness (none given, or it fails) the bytes come from the document's digest. */
static void test_generate_name_falls_back_on_digest(void **state)
{
	struct t_doc *t = *state;

	t->ps.fill_random = no_random;
	t->ps.digest = 0x01001c1b1aull; /* bytes 26, 27, 28, 0, 1 */
	pod_head(t);
	KV(t, "generateName", "web-");
	END(t);
	pod_tail(t, NULL, NULL, false);
	end_doc(t);
	assert_int_equal(t->pods.n, 1);
	assert_string_equal(t->pods.items[0]->name, "web-9bcbc");
	assert_string_equal(t->pods.items[0]->digest, "fnv1a64:00000001001c1b1a");
}

/* A name beats generateName. */
static void test_name_wins_over_generate_name(void **state)
{
	struct t_doc *t = *state;

	t->ps.fill_random = fixed_random;
	pod_head(t);
	KV(t, "generateName", "web-");
	KV(t, "name", "api");
	END(t);
	pod_tail(t, NULL, NULL, false);
	end_doc(t);
	assert_string_equal(t->pods.items[0]->name, "api");
	assert_false(t->pods.items[0]->name_generated);
}

/* "<<: *base" adds the keys the mapping lacks: the mapping's own name wins, namespace merges. */
static void test_merge_key_in_tree(void **state)
{
	struct t_doc *t = *state;
	const struct pp_pod *pod;

	MAP(t);
	S(t, "base");
	MAP_A(t, "b");
	KV(t, "name", "from-base");
	KV(t, "namespace", "ns1");
	END(t);
	KV(t, "apiVersion", "v1");
	KV(t, "kind", "Pod");
	S(t, "metadata");
	MAP(t);
	S(t, "<<");
	ALIAS(t, "b");
	KV(t, "name", "own");
	END(t);
	/* "base" is no field of a Pod: a warning (checked below) */
	S(t, "spec");
	MAP(t);
	S(t, "containers");
	SEQ(t);
	MAP(t);
	KV(t, "name", "c");
	KV(t, "image", "x");
	END(t);
	END(t);
	END(t);
	END(t);
	end_doc(t);
	assert_int_equal(t->pods.n, 1);
	pod = t->pods.items[0];
	assert_string_equal(pod->name, "own");
	assert_string_equal(pod->namespace, "ns1");
	assert_int_equal(t->diags.n, 1);
	assert_string_equal(t->diags.items[0].path, "base");
	assert_string_equal(t->diags.items[0].message, "unknown field \"base\"");
}

/* go-yaml v2 typing: readOnly: yes (YAML 1.1 boolean), 30.0 as an integer, 0644 as octal. */
static void test_go_yaml_typing(void **state)
{
	struct t_doc *t = *state;
	const struct pp_pod *pod;

	pod_head(t);
	KV(t, "name", "p");
	END(t);
	S(t, "spec");
	MAP(t);
	KV(t, "terminationGracePeriodSeconds", "30.0");
	S(t, "volumes");
	SEQ(t);
	MAP(t);
	KV(t, "name", "v");
	S(t, "configMap");
	MAP(t);
	KV(t, "name", "cm");
	KV(t, "defaultMode", "0644");
	END(t);
	END(t);
	END(t);
	S(t, "containers");
	SEQ(t);
	MAP(t);
	KV(t, "name", "c");
	KV(t, "image", "x");
	S(t, "volumeMounts");
	SEQ(t);
	MAP(t);
	KV(t, "name", "v");
	KV(t, "mountPath", "/v");
	KV(t, "readOnly", "yes");
	END(t);
	END(t);
	END(t);
	END(t);
	END(t);
	END(t);
	end_doc(t);
	assert_int_equal(t->diags.n, 0);
	pod = t->pods.items[0];
	assert_int_equal(pod->termination_grace_s, 30);
	assert_true(pod->volumes[0].has_default_mode);
	assert_int_equal(pod->volumes[0].default_mode, 0644);
	assert_true(pod->containers[0].mounts[0].read_only);
}

/* A quoted "yes" is a string: a boolean field refuses it, at the API server's field path. */
static void test_quoted_bool_is_a_string(void **state)
{
	struct t_doc *t = *state;
	const struct pp_diag *d;

	pod_head(t);
	KV(t, "name", "p");
	END(t);
	S(t, "spec");
	MAP(t);
	S(t, "containers");
	SEQ(t);
	MAP(t);
	KV(t, "name", "c");
	KV(t, "image", "x");
	S(t, "securityContext");
	MAP(t);
	S(t, "privileged");
	Q(t, "yes");
	END(t);
	END(t);
	END(t);
	END(t);
	END(t);
	end_doc(t);
	d = only_diag(t);
	assert_int_equal(d->severity, PP_DIAG_ERROR);
	assert_string_equal(d->path, "spec.containers[0].securityContext.privileged");
	assert_string_equal(d->message, "must be a boolean, got \"yes\"");
	assert_false(t->pods.items[0]->containers[0].security.privileged);
}

/* A string field refuses a plain number, with its path and the position of its key. */
static void test_type_error_path_and_position(void **state)
{
	struct t_doc *t = *state;
	const struct pp_diag *d;

	pod_head(t);
	KV(t, "name", "p");
	END(t);
	pod_tail(t, "workingDir", "3", false);
	end_doc(t);
	d = only_diag(t);
	assert_int_equal(d->severity, PP_DIAG_ERROR);
	assert_string_equal(d->path, "spec.containers[0].workingDir");
	assert_string_equal(d->message, "must be a string, got 3");
	assert_int_equal(d->pos.line, 19); /* the 19th node: the key */
	assert_string_equal(t->pods.items[0]->fields[t->pods.items[0]->n_fields - 1].path,
			    "spec.containers[0].workingDir");
}

/* ConfigMaps are kept; other kinds are skipped with a warning on "kind". */
static void test_kinds(void **state)
{
	struct t_doc *t = *state;

	MAP(t);
	KV(t, "apiVersion", "v1");
	KV(t, "kind", "ConfigMap");
	S(t, "metadata");
	MAP(t);
	KV(t, "name", "cm");
	END(t);
	S(t, "data");
	MAP(t);
	KV(t, "k", "v");
	END(t);
	END(t);
	end_doc(t);
	assert_int_equal(t->configs.n, 1);
	assert_string_equal(t->configs.items[0].name, "cm");
	assert_string_equal(t->configs.items[0].namespace, "default");
	assert_string_equal(t->configs.items[0].data[0].value, "v");

	t->line = 0;
	MAP(t);
	KV(t, "apiVersion", "apps/v1");
	KV(t, "kind", "Deployment");
	END(t);
	end_doc(t);
	assert_int_equal(t->pods.n, 0);
	assert_int_equal(t->diags.n, 1);
	assert_int_equal(t->diags.items[0].severity, PP_DIAG_WARNING);
	assert_string_equal(t->diags.items[0].path, "kind");
	assert_int_equal(t->diags.items[0].pos.line, 4);
	assert_string_equal(
		t->diags.items[0].message,
		"skipping kind \"Deployment\" in version \"apps/v1\": podprobe runs Pods "
		"and reads ConfigMaps and Secrets only");
}

/* The tree refuses an alias to an anchor whose node is not complete (a cycle). */
static void test_tree_alias_to_open_anchor(void **state)
{
	struct t_doc *t = *state;
	struct pp_ydoc *d = &t->ps.doc;

	MAP_A(t, "m");
	S(t, "name");
	assert_int_equal(pp_ydoc_add_alias(d, next_pos(t), "m"), -EINVAL);
	assert_string_equal(d->err, "anchor \"m\" value contains itself");
	assert_int_equal(d->err_pos.line, 3);
	assert_int_equal(pp_ydoc_add_alias(d, next_pos(t), "x"), -EINVAL);
	assert_string_equal(d->err, "found undefined alias \"x\"");
}

/* The tree refuses collections nested deeper than PP_YAML_MAX_DEPTH. */
static void test_tree_depth(void **state)
{
	struct t_doc *t = *state;

	for (int i = 0; i < PP_YAML_MAX_DEPTH; i++)
		SEQ(t);
	assert_int_equal(add_open(t, PP_YNODE_SEQUENCE, NULL), -EINVAL);
	assert_string_equal(t->ps.doc.err, "nesting deeper than 64 levels");
	assert_int_equal(t->ps.doc.err_pos.line, PP_YAML_MAX_DEPTH + 1);
	S(t, "a scalar still fits");
}

/* A merge of a scalar is refused at the merge key; !!merge is a merge key too. */
static void test_tree_merge_of_scalar(void **state)
{
	struct t_doc *t = *state;
	struct pp_ydoc *d = &t->ps.doc;

	MAP(t);
	assert_int_equal(add_scalar(t, "tag:yaml.org,2002:merge", false, "x", NULL), 0);
	S(t, "3");
	assert_int_equal(pp_ydoc_end_collection(d), -EINVAL);
	assert_string_equal(d->err, "map merge requires map or seq of maps as the value");
	assert_int_equal(d->err_pos.line, 2);
}

/* An alias keeps its own position; the node it resolves to is the anchored one. */
static void test_tree_alias_node(void **state)
{
	struct t_doc *t = *state;
	struct pp_ydoc *d = &t->ps.doc;
	const struct pp_ynode *root, *v;

	SEQ(t);
	assert_int_equal(add_scalar(t, NULL, true, "42", "n"), 0);
	ALIAS(t, "n");
	END(t);
	root = pp_ydoc_node(d, d->root);
	assert_int_equal(root->n_kids, 2);
	v = pp_ydoc_node(d, root->kids[1]);
	assert_int_equal(v->type, PP_YNODE_SCALAR);
	assert_int_equal(v->stype, PP_YAML_INT);
	assert_string_equal(v->text, "42");
	assert_int_equal(d->nodes[root->kids[1]].type, PP_YNODE_ALIAS);
	assert_int_equal(d->nodes[root->kids[1]].pos.line, 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
	const struct CMUnitTest tests[] = {
		T(test_generate_name_uses_callers_random),
		T(test_generate_name_falls_back_on_digest),
		T(test_name_wins_over_generate_name),
		T(test_merge_key_in_tree),
		T(test_go_yaml_typing),
		T(test_quoted_bool_is_a_string),
		T(test_type_error_path_and_position),
		T(test_kinds),
		T(test_tree_alias_to_open_anchor),
		T(test_tree_depth),
		T(test_tree_merge_of_scalar),
		T(test_tree_alias_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
