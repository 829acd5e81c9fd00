/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PODPROBE_PID_MAP_H
#define PODPROBE_PID_MAP_H

#include <stdbool.h>

#include "podprobe/pid_map-t.h"

/* Map <pid> (> 0) to <value>, replacing what it mapped to. Returns 0, -EINVAL or -ENOMEM. */
int pp_pid_map_set(struct pp_pid_map *m, int32_t pid, uint32_t value);

/* What <pid> maps to, into <ret>; false when nothing. */
bool pp_pid_map_get(const struct pp_pid_map *m, int32_t pid, uint32_t *ret);

/* Forget <pid>; true when it was there. */
bool pp_pid_map_del(struct pp_pid_map *m, int32_t pid);

/* Free the table. Accepts a zeroed struct. */
void pp_pid_map_free(struct pp_pid_map *m);

#endif
