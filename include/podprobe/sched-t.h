/* SPDX-License-Identifier: Apache-2.0 */
/* A binary min-heap of deadlines: the one timer structure of the loop. */
#ifndef PODPROBE_SCHED_T_H
#define PODPROBE_SCHED_T_H

#include <stddef.h>
#include <stdint.h>

#include "podprobe/time-t.h"

struct pp_sched_entry {
	pp_nsec deadline; /* absolute CLOCK_MONOTONIC time */
	uint32_t key;	  /* owner-defined: which object is due */
	uint32_t gen;	  /* owner-defined generation; stale entries are dropped by the owner */
};

struct pp_sched {
	struct pp_sched_entry *heap;
	size_t n;
	size_t cap;
};

#endif
