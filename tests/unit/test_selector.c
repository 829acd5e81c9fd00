/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label and field selectors (user/core/selector.c): what `?labelSelector=` and
 * `?fieldSelector=` select, and the apiserver's error texts (cases from apimachinery
 * pkg/labels/selector_test.go TestSelectorParse / TestLexer and pkg/fields/selector_test.go).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/selector.h"

#define QNAME_HELP                                                                               \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " \
	"an "                                                                                    \
	"alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for "     \
	"validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_HELP                                                                               \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' " \
	"or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "     \
	"'my_value', or '12345', regex used for validation is "                                  \
	"'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static const char *const pod_fields[] = {"metadata.name", "metadata.namespace", "spec.nodeName",
					 "status.phase", NULL};

/* Whether label selector <sel> selects the labels "k=v,k2=v2,..." (pairs in <kv>). */
static bool t_sel(const char *sel, const char *const *kv, size_t n_pairs)
{
	struct pp_kv labels[8];
	struct pp_selector *s = NULL;
	char err[512];
	bool m;

	assert_true(n_pairs <= 8);
	for (size_t i = 0; i < n_pairs; i++)
		labels[i] = (struct pp_kv){(char *)kv[2 * i], (char *)kv[2 * i + 1]};
	if (pp_selector_parse_labels(sel, &s, err, sizeof(err)))
		fail_msg("'%s' did not parse: %s", sel, err);
	m = pp_selector_match_labels(s, labels, n_pairs);
	pp_selector_free(s);
	return m;
}

/* The error of label selector <sel>, which must fail with -EINVAL; static buffer. */
static const char *t_label_err(const char *sel)
{
	static char err[2048];
	struct pp_selector *s = (struct pp_selector *)0x1;

	assert_int_equal(pp_selector_parse_labels(sel, &s, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(s, (struct pp_selector *)0x1); /* ret untouched on failure */
	return err;
}

static const char *t_field_err(const char *sel)
{
	static char err[2048];
	struct pp_selector *s = (struct pp_selector *)0x1;

	assert_int_equal(pp_selector_parse_fields(sel, pod_fields, &s, err, sizeof(err)), -EINVAL);
	assert_ptr_equal(s, (struct pp_selector *)0x1);
	return err;
}

static void test_empty_selector_matches_everything(void **state)
{
	static const char *const web[] = {"app", "web"};
	struct pp_selector *s = NULL;

	assert_true(t_sel("", NULL, 0));
	assert_true(t_sel("", web, 1));
	assert_true(t_sel("  ", web, 1));
	assert_int_equal(pp_selector_parse_labels(NULL, &s, NULL, 0), 0);
	assert_true(pp_selector_empty(s));
	assert_true(pp_selector_match_labels(s, NULL, 0));
	pp_selector_free(s);
	assert_true(pp_selector_match_labels(NULL, NULL, 0));
	pp_selector_free(NULL);
}

static void test_equality_operators_select_by_value(void **state)
{
	static const char *const web[] = {"app", "web", "tier", "front"};
	static const char *const db[] = {"app", "db"};

	assert_true(t_sel("app=web", web, 2));
	assert_false(t_sel("app=web", db, 1));
	assert_true(t_sel("app==web", web, 2));
	assert_false(t_sel("app==web", NULL, 0));
	assert_false(t_sel("app!=web", web, 2));
	assert_true(t_sel("app!=web", db, 1));
	assert_true(t_sel("app!=web", NULL, 0)); /* != also holds when the label is absent */
	assert_true(t_sel("app=web,tier=front", web, 2));
	assert_false(t_sel("app=web,tier=front", db, 1)); /* comma is AND */
	assert_false(t_sel("app=web,tier=back", web, 2));
	/* k= selects the empty value, not absence */
	assert_false(t_sel("app=", NULL, 0));
	static const char *const empty[] = {"app", ""};
	assert_true(t_sel("app=", empty, 1));
}

static void test_set_operators_and_existence(void **state)
{
	static const char *const web[] = {"app", "web"};
	static const char *const db[] = {"app", "db"};
	static const char *const other[] = {"zone", "a"};
	static const char *const empty[] = {"x", ""};

	assert_true(t_sel("app in (web,db)", web, 1));
	assert_true(t_sel("app in (web,db)", db, 1));
	assert_false(t_sel("app in (web,db)", other, 1));
	assert_false(t_sel("app notin (web,db)", web, 1));
	assert_true(t_sel("app notin (web,db)", other, 1)); /* absent: notin holds */
	assert_true(t_sel("app", web, 1));
	assert_false(t_sel("app", other, 1));
	assert_false(t_sel("!app", web, 1));
	assert_true(t_sel("!app", other, 1));
	assert_true(t_sel("!app,zone", other, 1));
	/* "()", "(a,)" and "(,,)" hold the empty value */
	assert_true(t_sel("x in ()", empty, 1));
	assert_true(t_sel("x in (foo,,baz)", empty, 1));
	assert_true(t_sel("x in (foo,)", empty, 1));
	assert_false(t_sel("x in (foo,baz)", empty, 1));
	/* "in" and "notin" are names where a key or value stands */
	static const char *const in[] = {"in", "in"};
	assert_true(t_sel("in in (in)", in, 1));
	assert_true(t_sel("in=in", in, 1));
	assert_true(t_sel("notin notin (a)", in, 1));
}

static void test_blanks_are_tolerated_around_tokens(void **state)
{
	static const char *const web[] = {"app", "web", "tier", "front"};

	assert_true(t_sel(" app = web , tier in ( front , back ) ", web, 2));
	assert_true(t_sel("\tapp\n!=\rdb", web, 2));
	assert_true(t_sel("app , ! zone", web, 2));
}

static void test_greater_and_less_than_compare_integers(void **state)
{
	static const char *const n5[] = {"n", "5"};
	static const char *const nx[] = {"n", "x"};

	assert_true(t_sel("n>4", n5, 1));
	assert_false(t_sel("n>5", n5, 1));
	assert_true(t_sel("n<6", n5, 1));
	assert_false(t_sel("n<5", nx, 1)); /* a non-integer label never compares */
	assert_false(t_sel("n>1", NULL, 0));
	assert_string_equal(t_label_err("n>x"),
			    "unable to parse requirement: values[0]: Invalid value: \"x\": for "
			    "'Gt', 'Lt' operators, the value must be an integer");
}

static void test_syntax_errors_use_the_apiservers_text(void **state)
{
	assert_string_equal(t_label_err("a=b c"), "found 'c', expected: ',' or 'end of string'");
	assert_string_equal(t_label_err("a,"), "found '', expected: identifier after ','");
	assert_string_equal(t_label_err("a,,b"), "found ',', expected: identifier after ','");
	assert_string_equal(t_label_err("=a"),
			    "found '=', expected: !, identifier, or 'end of string'");
	assert_string_equal(t_label_err("a in b"),
			    "unable to parse requirement: found 'b' expected: '('");
	assert_string_equal(t_label_err("a ("), "unable to parse requirement: found '(', "
						"expected: in, notin, =, ==, !=, gt, lt");
	assert_string_equal(t_label_err("a in (x y)"),
			    "unable to parse requirement: found 'y', expected: ',' or ')'");
	assert_string_equal(t_label_err("a in (x"),
			    "unable to parse requirement: found '', expected: ',' or ')'");
	assert_string_equal(t_label_err("a in (x,="),
			    "unable to parse requirement: found '=', expected: ',', or identifier");
	assert_string_equal(t_label_err("a in (="), "unable to parse requirement: found '=', "
						    "expected: ',', ')' or identifier");
	assert_string_equal(t_label_err("a=("),
			    "unable to parse requirement: found '(', expected: identifier");
	assert_string_equal(t_label_err("!"),
			    "unable to parse requirement: found '', expected: identifier");
	assert_string_equal(t_label_err("!a=b"), "found '=', expected: ',' or 'end of string'");
	assert_string_equal(t_label_err("a==="),
			    "unable to parse requirement: found '=', expected: identifier");
}

static void test_invalid_keys_and_values_are_refused(void **state)
{
	char key64[80];

	assert_string_equal(
		t_label_err("-a=b"),
		"unable to parse requirement: <nil>: Invalid value: \"-a\": name part " QNAME_HELP);
	assert_string_equal(
		t_label_err("a=-b"),
		"unable to parse requirement: values[0][a]: Invalid value: \"-b\": " VALUE_HELP);
	/* several bad values: aggregated in brackets, in sorted order */
	assert_string_equal(
		t_label_err("a in (-y,-x)"),
		"unable to parse requirement: [values[0][a]: Invalid value: \"-x\": " VALUE_HELP
		", values[1][a]: Invalid value: \"-y\": " VALUE_HELP "]");
	assert_string_equal(t_label_err("/a"), "unable to parse requirement: <nil>: Invalid "
					       "value: \"/a\": prefix part must be non-empty");
	assert_string_equal(
		t_label_err("a/"),
		"unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be "
		"non-empty; name part " QNAME_HELP);
	assert_string_equal(
		t_label_err("Ex.com/a"),
		"unable to parse requirement: <nil>: Invalid value: \"Ex.com/a\": prefix part a "
		"lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
		"'-' or '.', and must start and end with an alphanumeric character (e.g. "
		"'example.com', regex used for validation is "
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
		"([-a-z0-9]*[a-z0-9])?)*')");
	assert_string_equal(t_label_err("a/b/c"),
			    "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a "
			    "qualified name " QNAME_HELP " with an optional DNS subdomain prefix "
			    "and '/' (e.g. 'example.com/MyName')");
	memset(key64, 'k', 64);
	key64[64] = '\0';
	assert_string_equal(t_label_err(key64),
			    "unable to parse requirement: <nil>: Invalid value: "
			    "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": "
			    "name part must be no more than 63 characters");
	/* Go's %q quoting of the bad value */
	assert_string_equal(t_label_err("a=\"x"), "unable to parse requirement: values[0][a]: "
						  "Invalid value: \"\\\"x\": " VALUE_HELP);
	/* valid: a prefixed key, the longest name, dots and dashes inside */
	static const char *const ok[] = {"example.com/my-app_1.x", "v"};
	assert_true(t_sel("example.com/my-app_1.x=v", ok, 1));
	key64[63] = '\0';
	assert_false(t_sel(key64, NULL, 0));
}

static void test_errors_are_truncated_safely(void **state)
{
	struct pp_selector *s = NULL;
	char err[8];

	memset(err, 'x', sizeof(err));
	assert_int_equal(pp_selector_parse_labels("a=b c", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "found '");
	assert_int_equal(pp_selector_parse_labels("a=b c", &s, NULL, 0), -EINVAL);
	assert_int_equal(pp_selector_parse_fields("x", NULL, &s, err, 1), -EINVAL);
	assert_string_equal(err, "");
	assert_null(s);
}

static void test_equals_answers_exact_match_lookups(void **state)
{
	struct pp_selector *s;

	assert_int_equal(pp_selector_parse_labels("tier!=db,app=web", &s, NULL, 0), 0);
	assert_string_equal(pp_selector_equals(s, "app"), "web");
	assert_null(pp_selector_equals(s, "tier"));
	assert_null(pp_selector_equals(s, "zone"));
	/* requirements are sorted by key, as the apiserver keeps them */
	assert_int_equal(s->n_reqs, 2);
	assert_string_equal(s->reqs[0].key, "app");
	pp_selector_free(s);
	assert_int_equal(pp_selector_parse_labels("a in (x)", &s, NULL, 0), 0);
	assert_string_equal(pp_selector_equals(s, "a"), "x");
	pp_selector_free(s);
	assert_int_equal(pp_selector_parse_labels("a in (x,y)", &s, NULL, 0), 0);
	assert_null(pp_selector_equals(s, "a"));
	pp_selector_free(s);
	assert_null(pp_selector_equals(NULL, "a"));
}

/* ---- fields ---------------------------------------------------------------------------- */

struct t_pod {
	const char *name;
	const char *phase;
};

static const char *t_get(void *ctx, const char *field)
{
	const struct t_pod *p = ctx;

	if (!strcmp(field, "metadata.name"))
		return p->name;
	if (!strcmp(field, "metadata.namespace"))
		return "default";
	if (!strcmp(field, "status.phase"))
		return p->phase;
	return NULL; /* spec.nodeName: absent */
}

static bool t_fsel(const char *sel, struct t_pod *p)
{
	struct pp_selector *s = NULL;
	char err[512];
	bool m;

	if (pp_selector_parse_fields(sel, pod_fields, &s, err, sizeof(err)))
		fail_msg("'%s' did not parse: %s", sel, err);
	assert_true(s->fields);
	m = pp_selector_match_fields(s, t_get, p);
	pp_selector_free(s);
	return m;
}

static void test_field_selector_selects_by_field_value(void **state)
{
	struct t_pod web = {"web", "Running"}, crash = {"crash", "Pending"};
	struct pp_selector *s;

	/* kubectl wait pod/web: only web (the measured bug was crash matching too) */
	assert_true(t_fsel("metadata.name=web", &web));
	assert_false(t_fsel("metadata.name=web", &crash));
	assert_true(t_fsel("metadata.name==web,status.phase!=Pending", &web));
	assert_false(t_fsel("metadata.name==web,status.phase!=Running", &web));
	assert_true(t_fsel("status.phase!=Pending", &web));
	assert_true(t_fsel("spec.nodeName=", &web)); /* absent reads as "" */
	assert_false(t_fsel("spec.nodeName!=", &web));
	assert_true(t_fsel("", &web));
	assert_true(t_fsel(",,", &crash));
	assert_true(t_fsel("metadata.name=web,metadata.namespace=default", &web));

	assert_int_equal(pp_selector_parse_fields("metadata.namespace=default,metadata.name=web",
						  pod_fields, &s, NULL, 0),
			 0);
	assert_string_equal(pp_selector_equals(s, "metadata.name"), "web");
	assert_null(pp_selector_equals(s, "status.phase"));
	pp_selector_free(s);
	assert_int_equal(pp_selector_parse_fields("metadata.name!=web", pod_fields, &s, NULL, 0),
			 0);
	assert_null(pp_selector_equals(s, "metadata.name"));
	pp_selector_free(s);
	/* NULL <allowed>: any field */
	assert_int_equal(pp_selector_parse_fields("anything=x", NULL, &s, NULL, 0), 0);
	pp_selector_free(s);
}

static void test_field_values_take_backslash_escapes(void **state)
{
	struct t_pod odd = {"a,b=c\\d", "Running"};

	assert_true(t_fsel("metadata.name=a\\,b\\=c\\\\d", &odd));
	assert_true(t_fsel("metadata.name=a\\,b\\=c\\\\d,status.phase=Running", &odd));
	assert_false(t_fsel("metadata.name=a\\,b", &odd));
	assert_string_equal(t_field_err("metadata.name=a\\x"),
			    "invalid field selector: invalid escape sequence: \\x");
	assert_string_equal(t_field_err("metadata.name=a\\"),
			    "invalid field selector: invalid escape sequence: \\");
	/* Go prints the rune as a number */
	assert_string_equal(t_field_err("metadata.name=a=b"),
			    "invalid field selector: unescaped character in value: 61");
	assert_string_equal(t_field_err("metadata.name!==x"),
			    "invalid field selector: unescaped character in value: 61");
}

static void test_unsupported_fields_are_refused(void **state)
{
	assert_string_equal(t_field_err("spec.foo=x"), "field label not supported: spec.foo");
	/* nothing is trimmed */
	assert_string_equal(t_field_err("metadata.name=web, status.phase=Running"),
			    "field label not supported:  status.phase");
	assert_string_equal(t_field_err("=x"), "field label not supported: ");
	assert_string_equal(t_field_err("metadata.name"),
			    "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
	/* terms are sorted, and all parse before any field is checked */
	assert_string_equal(t_field_err("zz=1,metadata.name"),
			    "invalid selector: 'zz=1,metadata.name'; can't understand "
			    "'metadata.name'");
	assert_string_equal(t_field_err("zz=1,aa=2"), "field label not supported: aa");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_selector_matches_everything),
		cmocka_unit_test(test_equality_operators_select_by_value),
		cmocka_unit_test(test_set_operators_and_existence),
		cmocka_unit_test(test_blanks_are_tolerated_around_tokens),
		cmocka_unit_test(test_greater_and_less_than_compare_integers),
		cmocka_unit_test(test_syntax_errors_use_the_apiservers_text),
		cmocka_unit_test(test_invalid_keys_and_values_are_refused),
		cmocka_unit_test(test_errors_are_truncated_safely),
		cmocka_unit_test(test_equals_answers_exact_match_lookups),
		cmocka_unit_test(test_field_selector_selects_by_field_value),
		cmocka_unit_test(test_field_values_take_backslash_escapes),
		cmocka_unit_test(test_unsupported_fields_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
