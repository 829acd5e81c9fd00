/* SPDX-License-Identifier: Apache-2.0 */
/* Names podprobe derives from its configuration, shared by the runtime and its tests. */
#ifndef PODPROBE_NAMING_H
#define PODPROBE_NAMING_H

#include <stddef.h>

/*
 * The name of the cgroup below podprobe's own that holds the containers of the run on state
 * directory <state_dir> (its real path): "podprobe-" and 16 hex digits of its FNV-1a hash. The
 * same for every run on that directory, so a restarted run finds the cgroups it re-adopts.
 * Returns 0, or -ENAMETOOLONG when <size> is below 26.
 */
int pp_cgroup_root_name(const char *state_dir, char *buf, size_t size);

#endif
