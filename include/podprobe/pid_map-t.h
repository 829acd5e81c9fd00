/* SPDX-License-Identifier: Apache-2.0 */
/* Process ids to small integers: which container a process the kernel reports is. */
#ifndef PODPROBE_PID_MAP_T_H
#define PODPROBE_PID_MAP_T_H

#include <stddef.h>
#include <stdint.h>

struct pp_pid_map_slot {
	int32_t pid; /* 0 = empty */
	uint32_t value;
};

/* Open addressing, linear probing, at most half full. Zeroed = empty. */
struct pp_pid_map {
	struct pp_pid_map_slot *slots;
	size_t n;
	size_t cap; /* a power of two, or 0 */
};

#endif
