/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated, growable string vectors (argv, envp) that own their strings. */
#ifndef PODPROBE_STRV_H
#define PODPROBE_STRV_H

#include <stddef.h>

struct pp_strv {
	char **v; /* NULL-terminated once non-empty; NULL when empty */
	size_t n;
};

/*
 * Append <s> (taken over: freed on failure; NULL counts as a failed allocation). Returns 0 or
 * -ENOMEM.
 */
int pp_strv_push(struct pp_strv *sv, char *s);

/* Free every string and the vector; <sv> is empty afterwards. */
void pp_strv_free(struct pp_strv *sv);

#endif
