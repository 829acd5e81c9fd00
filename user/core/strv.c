// SPDX-License-Identifier: Apache-2.0
#include "podprobe/strv.h"

#include <errno.h>
#include <stdlib.h>

int pp_strv_push(struct pp_strv *sv, char *s)
{
	char **v;

	if (!s)
		return -ENOMEM;
	v = realloc(sv->v, (sv->n + 2) * sizeof(*v));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	sv->v = v;
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

void pp_strv_free(struct pp_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}
