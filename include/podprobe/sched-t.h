/* SPDX-License-Identifier: Apache-2.0 */
/* A 4-ary min-heap of deadlines: the one timer structure of the loop. */
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

/* Distinct slack values a pp_slack_sched keeps apart (more are rounded down to one of them). */
#define PP_SLACK_CLASSES 8

/*
 * Deadlines with slack: an entry is due at its deadline and may wait until deadline + slack,
 * so one wake-up can start every entry that is due by then. One heap per slack value: inside
 * one, the earliest deadline is also the earliest latest start. Zeroed = empty.
 */
struct pp_slack_sched {
	struct pp_sched cls[PP_SLACK_CLASSES];
	pp_nsec slack[PP_SLACK_CLASSES];
	unsigned int n_cls; /* classes in use, in order of creation */
};

#endif
