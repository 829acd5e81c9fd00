/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label and field selectors as the API server parses them from `?labelSelector=` and
 * `?fieldSelector=` (k8s.io/apimachinery pkg/labels/selector.go Parse, pkg/fields/selector.go
 * ParseSelector). A selector is an AND of requirements; built by user/core/selector.c.
 */
#ifndef PODPROBE_SELECTOR_T_H
#define PODPROBE_SELECTOR_T_H

#include <stdbool.h>
#include <stddef.h>

/* selection.Operator; fields use only EQUALS, DOUBLE_EQUALS and NOT_EQUALS. */
enum pp_sel_op {
	PP_SEL_EQUALS = 0,     /* k=v */
	PP_SEL_DOUBLE_EQUALS,  /* k==v */
	PP_SEL_NOT_EQUALS,     /* k!=v: also true when k is absent */
	PP_SEL_IN,	       /* k in (a,b) */
	PP_SEL_NOT_IN,	       /* k notin (a,b): also true when k is absent */
	PP_SEL_EXISTS,	       /* k */
	PP_SEL_DOES_NOT_EXIST, /* !k */
	PP_SEL_GREATER_THAN,   /* k>N (labels only, integers) */
	PP_SEL_LESS_THAN,      /* k<N */
	_PP_SEL_OP_MAX,
};

struct pp_sel_req {
	char *key; /* label key or field name */
	enum pp_sel_op op;
	char **values;	 /* sorted and without duplicates, as sets.String holds them */
	size_t n_values; /* 1 for the (in)equality operators, 0 for (DOES_NOT_)EXISTS */
};

struct pp_selector {
	bool fields;		 /* a field selector (pp_selector_parse_fields) */
	struct pp_sel_req *reqs; /* labels by key, fields by term, as the apiserver sorts; AND */
	size_t n_reqs;		 /* 0: matches everything */
};

#endif /* PODPROBE_SELECTOR_T_H */
