/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: label and field selectors (user/core/selector.c) on arbitrary query text,
 * as `?labelSelector=` and `?fieldSelector=` bring it. The first byte picks the parser (even:
 * labels, odd: fields) and the size of the error buffer; the rest is the selector. A refusal
 * must leave a NUL-terminated message; a selector that parses is written back in the
 * apiserver's String() form (labels.Requirement.String, fields hasTerm with EscapeValue),
 * which must parse again to the same requirements. Matching runs on labels and fields made
 * from the selector's own values. Seeds: tests/fuzz/corpus/selector/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {"metadata.name", "metadata.namespace", "status.phase", NULL};

struct out {
	char *p;
	size_t len;
	size_t cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			abort();
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void format(const struct pp_selector *s, struct out *o)
{
	static const char *const ops[_PP_SEL_OP_MAX] = {
		[PP_SEL_EQUALS] = "=",	      [PP_SEL_DOUBLE_EQUALS] = "==",
		[PP_SEL_NOT_EQUALS] = "!=",   [PP_SEL_IN] = " in (",
		[PP_SEL_NOT_IN] = " notin (", [PP_SEL_EXISTS] = "",
		[PP_SEL_DOES_NOT_EXIST] = "", [PP_SEL_GREATER_THAN] = ">",
		[PP_SEL_LESS_THAN] = "<",
	};

	put(o, "", 0);
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct pp_sel_req *r = &s->reqs[i];

		if (i)
			puts_(o, ",");
		if (r->op == PP_SEL_DOES_NOT_EXIST)
			puts_(o, "!");
		puts_(o, r->key);
		puts_(o, ops[r->op]);
		for (size_t j = 0; j < r->n_values; j++) {
			if (j)
				puts_(o, ",");
			for (const char *c = r->values[j]; *c; c++) {
				if (s->fields && strchr("\\,=", *c))
					puts_(o, "\\");
				put(o, c, 1);
			}
		}
		if (r->op == PP_SEL_IN || r->op == PP_SEL_NOT_IN)
			puts_(o, ")");
	}
}

static bool same_req(const struct pp_sel_req *a, const struct pp_sel_req *b)
{
	if (strcmp(a->key, b->key) || a->op != b->op || a->n_values != b->n_values)
		return false;
	for (size_t i = 0; i < a->n_values; i++)
		if (strcmp(a->values[i], b->values[i]))
			return false;
	return true;
}

/* Every requirement of <a> is in <b> and the counts agree (parse order may differ). */
static bool same(const struct pp_selector *a, const struct pp_selector *b)
{
	if (a->n_reqs != b->n_reqs)
		return false;
	for (size_t i = 0; i < a->n_reqs; i++) {
		size_t j = 0;

		while (j < b->n_reqs && !same_req(&a->reqs[i], &b->reqs[j]))
			j++;
		if (j == b->n_reqs)
			return false;
	}
	return true;
}

static const char *get(void *ctx, const char *field)
{
	const struct pp_selector *s = ctx;

	return s->n_reqs && !strcmp(field, s->reqs[0].key) && s->reqs[0].n_values
		       ? s->reqs[0].values[0]
		       : NULL;
}

static int parse(bool labels, const char *in, struct pp_selector **ret, char *err, size_t size)
{
	return labels ? pp_selector_parse_labels(in, ret, err, size)
		      : pp_selector_parse_fields(in, NULL, ret, err, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_selector *s = NULL, *again = NULL, *strict = NULL;
	struct out o = {0};
	struct pp_kv *labels;
	size_t err_size;
	char *in, *err;
	bool is_labels;
	int rc;

	if (size == 0)
		return 0;
	is_labels = !(data[0] & 1);
	err_size = data[0] >> 1; /* 0..127: small sizes check truncation */
	in = malloc(size);
	err = malloc(err_size + 1);
	if (!in || !err)
		abort();
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0'; /* an embedded NUL ends the selector early, as a C string does */
	err[err_size] = 'Z';

	rc = parse(is_labels, in, &s, err_size ? err : NULL, err_size);
	if (err[err_size] != 'Z')
		abort(); /* wrote past <err_size> */
	if (rc) {
		if (rc != -EINVAL && rc != -ENOMEM)
			abort();
		if (err_size && strnlen(err, err_size) == err_size)
			abort();
		goto out;
	}

	format(s, &o);
	if (parse(is_labels, o.p, &again, NULL, 0) || !same(s, again)) {
		fprintf(stderr, "'%s' -> '%s' did not parse back the same\n", in, o.p);
		abort();
	}
	if (!is_labels && pp_selector_parse_fields(in, fields, &strict, NULL, 0) == 0 &&
	    !same(s, strict))
		abort();

	labels = calloc(s->n_reqs + 1, sizeof(*labels));
	if (!labels)
		abort();
	for (size_t i = 0; i < s->n_reqs; i++)
		labels[i] = (struct pp_kv){s->reqs[i].key,
					   s->reqs[i].n_values ? s->reqs[i].values[0] : ""};
	if (pp_selector_match_labels(s, labels, s->n_reqs) !=
	    pp_selector_match_labels(again, labels, s->n_reqs))
		abort();
	pp_selector_match_fields(s, get, s);
	for (size_t i = 0; i < s->n_reqs; i++) {
		const char *v = pp_selector_equals(s, s->reqs[i].key);

		/* an exact-match value is one the selector demands: a label holding it passes */
		if (v && !pp_selector_equals(again, s->reqs[i].key))
			abort();
	}
	free(labels);
out:
	pp_selector_free(s);
	pp_selector_free(again);
	pp_selector_free(strict);
	free(o.p);
	free(in);
	free(err);
	return 0;
}
