/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label and field selectors (types in selector-t.h). Pure: parsing and matching only; the
 * API server turns a parse error into a 400 BadRequest Status with <err> as the message.
 */
#ifndef PODPROBE_SELECTOR_H
#define PODPROBE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "podprobe/pod-t.h"
#include "podprobe/selector-t.h"

/*
 * Parse the label selector <s> (labels.Parse): `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, `k>N`, `k<N`, joined by commas (AND), with blanks around
 * tokens. Keys must be qualified names and values label values (validation.IsQualifiedName,
 * IsValidLabelValue). <s> "" or NULL gives a selector that matches everything.
 * Returns 0 and stores the selector in *<ret> (the caller frees it with pp_selector_free()),
 * -EINVAL with the apiserver's message in <err> (truncated to <err_size>; <err> may be NULL),
 * or -ENOMEM. *<ret> is written only on success.
 */
int pp_selector_parse_labels(const char *s, struct pp_selector **ret, char *err, size_t err_size);

/*
 * Parse the field selector <s> (fields.ParseSelector): `f=v`, `f==v`, `f!=v` joined by commas,
 * with `\\`, `\,` and `\=` escapes in values; nothing is trimmed. Every field must be in
 * <allowed>, a NULL-terminated list (NULL: any field), else -EINVAL with <err>
 * "field label not supported: <field>" (the apiserver's field label conversion). Returns as
 * pp_selector_parse_labels().
 */
int pp_selector_parse_fields(const char *s, const char *const *allowed, struct pp_selector **ret,
			     char *err, size_t err_size);

/* Whether the <n> <labels> satisfy every requirement of <s> (NULL: everything matches). */
bool pp_selector_match_labels(const struct pp_selector *s, const struct pp_kv *labels, size_t n);

/*
 * Whether an object satisfies every requirement of <s> (NULL: everything matches). <get>
 * returns the value of a field of the object <ctx>, "" (or NULL) when it has none.
 */
bool pp_selector_match_fields(const struct pp_selector *s,
			      const char *(*get)(void *ctx, const char *field), void *ctx);

/*
 * The value that a `<field>=value` (or `==`, or `in` with one value) requirement of <s>
 * demands, or NULL when none does (RequiresExactMatch): a server may look the object up by
 * it instead of scanning. Points into <s>.
 */
const char *pp_selector_equals(const struct pp_selector *s, const char *field);

/* Whether <s> restricts nothing (NULL, or no requirement). */
bool pp_selector_empty(const struct pp_selector *s);

/* Frees <s>; accepts NULL. */
void pp_selector_free(struct pp_selector *s);

#endif /* PODPROBE_SELECTOR_H */
