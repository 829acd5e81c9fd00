// SPDX-License-Identifier: Apache-2.0
/* $(VAR) expansion with the rules of k8s.io/kubernetes/third_party/forked/golang/expansion. */
#include "podprobe/expand.h"

#include <stdlib.h>
#include <string.h>

static const char *lookup(const struct pp_kv *vars, size_t n, const char *name, size_t len)
{
	for (size_t i = n; i-- > 0;)
		if (vars[i].name && strlen(vars[i].name) == len && !memcmp(vars[i].name, name, len))
			return vars[i].value ? vars[i].value : "";
	return NULL;
}

char *pp_expand_vars(const char *in, const struct pp_kv *vars, size_t n)
{
	size_t cap = strlen(in) + 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (const char *p = in; *p;) {
		const char *add = p, *close;
		size_t add_len = 1;

		if (p[0] == '$' && p[1] == '$') {
			add_len = 1; /* "$$" -> "$" */
			p += 2;
		} else if (p[0] == '$' && p[1] == '(' && (close = strchr(p + 2, ')'))) {
			const char *v = lookup(vars, n, p + 2, (size_t)(close - p - 2));

			if (v) {
				add = v;
				add_len = strlen(v);
			} else {
				add_len = (size_t)(close - p + 1);
			}
			p = close + 1;
		} else {
			p++;
		}
		if (len + add_len + 1 > cap) {
			char *grown;

			cap = 2 * (len + add_len + 1);
			grown = realloc(out, cap);
			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + len, add, add_len);
		len += add_len;
	}
	out[len] = '\0';
	return out;
}
