/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to JSON (user/io/yaml_json.c): YAML 1.2 core schema typing, documents of a stream,
 * keys, aliases as copies, and the bounds that stop alias bombs and deep nesting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "podprobe/yaml_json.h"
#include "podprobe/yaml_scalar.h"

/* Convert document <doc> of <yaml>, which must succeed. */
static json_t *t_conv(const char *yaml, unsigned int doc)
{
	char err[256];
	json_t *j = NULL;
	int rc = pp_yaml_to_json(yaml, strlen(yaml), doc, &j, err, sizeof(err));

	if (rc)
		fail_msg("conversion failed (%d): %s", rc, err);
	assert_non_null(j);
	return j;
}

/* <yaml> converts to the JSON text <json>. */
static void t_same(const char *yaml, const char *json)
{
	json_error_t jerr;
	json_t *want = json_loads(json, JSON_DECODE_ANY, &jerr), *got;
	char *text;

	if (!want)
		fail_msg("bad expected JSON: %s", jerr.text);
	got = t_conv(yaml, 0);
	if (!json_equal(got, want)) {
		text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("'%s' gave %s, want %s", yaml, text, json);
	}
	json_decref(got);
	json_decref(want);
}

/* Conversion of <yaml> fails with <rc> and a message containing <msg>. */
static void t_fails(const char *yaml, int rc, const char *msg)
{
	char err[256];
	json_t *j = (json_t *)0x1;

	assert_int_equal(pp_yaml_to_json(yaml, strlen(yaml), 0, &j, err, sizeof(err)), rc);
	assert_ptr_equal(j, (json_t *)0x1);
	if (!strstr(err, msg))
		fail_msg("'%s': error '%s' lacks '%s'", yaml, err, msg);
}

static void test_plain_scalars_follow_the_core_schema(void **state)
{
	t_same("a: 1\nb: -2\nc: +3\nd: 1.5\ne: .5\nf: 1e3\ng: 2.\n",
	       "{\"a\":1,\"b\":-2,\"c\":3,\"d\":1.5,\"e\":0.5,\"f\":1000,\"g\":2}");
	t_same("a: true\nb: False\nc: TRUE\nd: ~\ne: null\nf: NULL\ng:\n",
	       "{\"a\":true,\"b\":false,\"c\":true,\"d\":null,\"e\":null,\"f\":null,\"g\":null}");
	/* 012 is octal, as go-yaml v2 reads it (test_go_yaml_v2_conversions) */
	t_same("a: 0x1F\nb: 0o17\nc: 0xg\nd: 012\n", "{\"a\":31,\"b\":15,\"c\":\"0xg\",\"d\":10}");
	/* YAML 1.1 words are strings in 1.2 */
	t_same("a: yes\nb: off\nc: 1_000\nd: 12abc\ne: 1.2.3\n",
	       "{\"a\":\"yes\",\"b\":\"off\",\"c\":\"1_000\",\"d\":\"12abc\",\"e\":\"1.2.3\"}");
	/* a decimal past int64 becomes a real, as encoding/json reads it */
	t_same("a: 99999999999999999999\nb: -9223372036854775808\n",
	       "{\"a\":1e20,\"b\":-9223372036854775808}");
	t_fails("a: 0xffffffffffffffffff\n", -EINVAL, "line 1 column 4: integer");
	t_fails("a: .inf\n", -EINVAL, "cannot be represented in JSON");
	t_fails("a: -.Inf\n", -EINVAL, "cannot be represented in JSON");
	t_fails("a: .nan\n", -EINVAL, "cannot be represented in JSON");
}

static void test_quoted_and_str_tagged_scalars_are_strings(void **state)
{
	t_same("a: 'true'\nb: \"null\"\nc: '1'\nd: !!str 12\ne: ''\nf: \"\\x41\\u00e9\"\ng: ! 5\n",
	       "{\"a\":\"true\",\"b\":\"null\",\"c\":\"1\",\"d\":\"12\",\"e\":\"\","
	       "\"f\":\"A\\u00e9\",\"g\":\"5\"}");
	/* a core tag on a quoted scalar types it */
	t_same("a: !!int '7'\nb: !!bool \"true\"\n", "{\"a\":7,\"b\":true}");
	/* block scalars */
	t_same("a: |\n  x\n  y\nb: >-\n  p\n  q\n", "{\"a\":\"x\\ny\\n\",\"b\":\"p q\"}");
}

static void test_collections_nest_as_objects_and_arrays(void **state)
{
	t_same("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\n"
	       "spec:\n  containers:\n  - name: web\n    image: busybox\n    args: [sleep, 10]\n"
	       "    ports:\n    - containerPort: 8080\n",
	       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
	       "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
	       "\"image\":\"busybox\",\"args\":[\"sleep\",10],\"ports\":[{\"containerPort\":"
	       "8080}]}]}}");
	/* JSON is YAML */
	t_same("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"x\":[1,2.5,null,"
	       "true,\"s\"]}]}}",
	       "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"x\":[1,2.5,null,"
	       "true,\"s\"]}]}}");
	t_same("- 1\n- [a, {b: c}]\n- {}\n- []\n", "[1,[\"a\",{\"b\":\"c\"}],{},[]]");
	t_same("plain text\n", "\"plain text\"");
}

static void test_keys_are_strings_and_repeats_are_refused(void **state)
{
	t_same("1: a\ntrue: b\n~: c\n0x10: d\n'x': e\n1.50: f\n",
	       "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"16\":\"d\",\"x\":\"e\",\"1.50\":"
	       "\"f\"}");
	t_fails("a: 1\nb: 2\na: 3\n", -EINVAL,
		"line 3 column 1: mapping key \"a\" already defined");
	/* keys compare after conversion: 0x1 and 1 are the same key */
	t_fails("1: a\n0x1: b\n", -EINVAL, "mapping key \"1\" already defined");
	t_fails("? [a]\n: b\n", -EINVAL, "a mapping key must be a scalar, not a sequence");
	t_fails("? {a: 1}\n: b\n", -EINVAL, "a mapping key must be a scalar, not a mapping");
}

static void test_documents_of_a_stream_are_picked_by_index(void **state)
{
	static const char stream[] = "a: 1\n---\nb: 2\n---\n- x\n";
	json_t *j = (json_t *)0x1;
	char err[128];

	j = t_conv(stream, 1);
	assert_int_equal(json_integer_value(json_object_get(j, "b")), 2);
	json_decref(j);
	j = t_conv(stream, 2);
	assert_string_equal(json_string_value(json_array_get(j, 0)), "x");
	json_decref(j);
	j = (json_t *)0x1;
	assert_int_equal(pp_yaml_to_json(stream, strlen(stream), 3, &j, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "the stream has no document 3");
	assert_int_equal(pp_yaml_to_json("", 0, 0, &j, err, sizeof(err)), -ENOENT);
	assert_int_equal(pp_yaml_to_json(NULL, 0, 0, &j, NULL, 0), -ENOENT);
	assert_ptr_equal(j, (json_t *)0x1);
	/* an empty document is null; a later syntax error does not matter to an earlier one */
	j = t_conv("---\n---\na: 1\n", 0);
	assert_true(json_is_null(j));
	j = t_conv("a: 1\n---\n[unclosed\n", 0);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	json_decref(j);
}

static void test_aliases_are_independent_copies(void **state)
{
	json_t *j, *base, *copy;

	t_same("base: &b {x: 1, y: [1, 2]}\ncopy: *b\ns: &s hello\nt: *s\n",
	       "{\"base\":{\"x\":1,\"y\":[1,2]},\"copy\":{\"x\":1,\"y\":[1,2]},\"s\":\"hello\","
	       "\"t\":\"hello\"}");
	j = t_conv("base: &b {x: [1]}\ncopy: *b\n", 0);
	base = json_object_get(j, "base");
	copy = json_object_get(j, "copy");
	assert_ptr_not_equal(base, copy);
	assert_ptr_not_equal(json_object_get(base, "x"), json_object_get(copy, "x"));
	json_array_append_new(json_object_get(copy, "x"), json_integer(2));
	assert_int_equal(json_array_size(json_object_get(base, "x")), 1);
	json_decref(j);
	/* the latest definition of a name wins; a string alias may be a key */
	t_same("a: &n 1\nb: &n 2\nc: *n\n", "{\"a\":1,\"b\":2,\"c\":2}");
	t_same("k: &k name\n*k : v\n", "{\"k\":\"name\",\"name\":\"v\"}");
	t_fails("a: *nope\n", -EINVAL, "unknown anchor 'nope' referenced");
	t_fails("a: &a [1, *a]\n", -EINVAL, "anchor 'a' value contains itself");
}

/* The billion laughs: 9 levels of 9 aliases each (9^9 strings) are refused, and quickly. */
static void test_alias_bombs_are_refused(void **state)
{
	char yaml[4096];
	size_t n = 0;

	n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			      "a0: &a0 [lol,lol,lol,lol,lol,lol,lol,"
			      "lol,lol]\n");
	for (int i = 1; i < 10; i++) {
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "a%d: &a%d [", i, i);
		for (int k = 0; k < 9; k++)
			n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "%s*a%d", k ? "," : "",
					      i - 1);
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "]\n");
	}
	t_fails(yaml, -E2BIG, "the document expands to more than 262144 values");

	/* one 1 MiB string aliased: 5 MiB of text is refused, 3 MiB is fine */
	{
		size_t len = 1u << 20, off;
		char *big = malloc(len + 64);
		json_t *j = NULL;

		assert_non_null(big);
		off = (size_t)sprintf(big, "s: &s ");
		memset(big + off, 'x', len);
		off += len;
		sprintf(big + off, "\nt: [*s, *s, *s, *s]\n");
		t_fails(big, -E2BIG, "the document expands to more than 4194304 bytes of text");
		sprintf(big + off, "\nt: [*s, *s]\n");
		assert_int_equal(pp_yaml_to_json(big, strlen(big), 0, &j, NULL, 0), 0);
		assert_int_equal(json_array_size(json_object_get(j, "t")), 2);
		assert_int_equal(json_string_length(json_array_get(json_object_get(j, "t"), 1)),
				 len);
		json_decref(j);
		free(big);
	}
}

static void test_nesting_deeper_than_64_is_refused(void **state)
{
	char yaml[256];
	json_t *j;

	memset(yaml, '[', 64);
	memset(yaml + 64, ']', 64);
	yaml[128] = '\0';
	j = t_conv(yaml, 0);
	assert_true(json_is_array(j));
	json_decref(j);
	memset(yaml, '[', 65);
	memset(yaml + 65, ']', 65);
	yaml[130] = '\0';
	t_fails(yaml, -E2BIG, "nesting deeper than 64 levels");

	/* an alias counts its own depth: 40 levels placed 30 deep */
	{
		char *y = malloc(1024);
		size_t n = 0;

		assert_non_null(y);
		n += (size_t)sprintf(y, "a: &a ");
		memset(y + n, '[', 40);
		n += 40;
		memset(y + n, ']', 40);
		n += 40;
		n += (size_t)sprintf(y + n, "\nb: ");
		memset(y + n, '[', 29);
		n += 29;
		n += (size_t)sprintf(y + n, "*a");
		memset(y + n, ']', 29);
		n += 29;
		y[n] = '\0';
		t_fails(y, -E2BIG, "nesting deeper than 64 levels");
		free(y);
	}
}

static void test_malformed_yaml_reports_where(void **state)
{
	char err[16];
	json_t *j;

	t_fails("a: [1, 2\n", -EINVAL, "line 2 column 1: did not find expected ',' or ']'");
	t_fails("a: b: c\n", -EINVAL, "mapping values are not allowed in this context");
	t_fails("a:\n  - x\n y: 1\n", -EINVAL, "line 3");
	/* a short buffer is cut, never overrun */
	assert_int_equal(pp_yaml_to_json("a: [", 4, 0, &j, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* The go-yaml v2 typing the manifest reader applies where a field wants a bool or an int. */
static void test_yaml11_bools_and_whole_floats(void **state)
{
	int64_t i = 0;
	bool b = false;

	(void)state;
	assert_true(pp_yaml_bool11("yes", &b) && b);
	assert_true(pp_yaml_bool11("ON", &b) && b);
	assert_true(pp_yaml_bool11("n", &b) && !b);
	assert_true(pp_yaml_bool11("Off", &b) && !b);
	assert_false(pp_yaml_bool11("oN", &b));
	assert_false(pp_yaml_bool11("", &b));
	assert_true(pp_yaml_float_int("30.0", &i) && i == 30);
	assert_true(pp_yaml_float_int("1e3", &i) && i == 1000);
	assert_true(pp_yaml_float_int("-2.", &i) && i == -2);
	assert_false(pp_yaml_float_int("30.5", &i));
	assert_false(pp_yaml_float_int(".inf", &i));
	assert_false(pp_yaml_float_int("1e19", &i));
	assert_false(pp_yaml_float_int("30.0x", &i));
}

/*
 * What sigs.k8s.io/yaml (go-yaml v2 -> JSON) makes of what the manifest reader accepts, so a
 * file pod's API object is whole: whole floats as integers, merge keys (own keys win, the
 * first merge wins), and \' inside double quotes.
 */
static void test_go_yaml_v2_conversions(void **state)
{
	t_same("d: 30.0\ne: 2.5\n", "{\"d\":30,\"e\":2.5}");
	t_same("base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\n"
	       "m:\n  <<: [*b, *o]\n  x: 9\n",
	       "{\"base\":{\"x\":1,\"y\":2},\"other\":{\"y\":3,\"z\":4},\"m\":{\"x\":9,\"y\":2,"
	       "\"z\":4}}");
	t_same("s: \"it\\'s\"\n", "{\"s\":\"it's\"}");
	/* strconv.ParseInt(s, 0, 64): a plain leading 0 is octal; quoted, a string; 08 is 8. */
	t_same("defaultMode: 0644\nn: -010\nq: \"0644\"\nd: 08\nz: 0\n",
	       "{\"defaultMode\":420,\"n\":-8,\"q\":\"0644\",\"d\":8,\"z\":0}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_yaml_v2_conversions),
		cmocka_unit_test(test_plain_scalars_follow_the_core_schema),
		cmocka_unit_test(test_yaml11_bools_and_whole_floats),
		cmocka_unit_test(test_quoted_and_str_tagged_scalars_are_strings),
		cmocka_unit_test(test_collections_nest_as_objects_and_arrays),
		cmocka_unit_test(test_keys_are_strings_and_repeats_are_refused),
		cmocka_unit_test(test_documents_of_a_stream_are_picked_by_index),
		cmocka_unit_test(test_aliases_are_independent_copies),
		cmocka_unit_test(test_alias_bombs_are_refused),
		cmocka_unit_test(test_nesting_deeper_than_64_is_refused),
		cmocka_unit_test(test_malformed_yaml_reports_where),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
