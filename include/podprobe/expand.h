/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes' $(VAR) expansion of env values, command and args (§13, H-EXEC.1). Pure. */
#ifndef PODPROBE_EXPAND_H
#define PODPROBE_EXPAND_H

#include <stddef.h>

#include "podprobe/pod-t.h"

/*
 * Expand <in>: "$(NAME)" becomes the value of the last entry named NAME among the first <n>
 * of <vars>, an unknown reference stays as written, "$$" gives "$" (so "$$(X)" stays
 * "$(X)"). Returns a malloc'd string, or NULL on ENOMEM.
 */
char *pp_expand_vars(const char *in, const struct pp_kv *vars, size_t n);

#endif
