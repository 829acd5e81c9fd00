/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PODPROBE_SCHED_H
#define PODPROBE_SCHED_H

#include <stdbool.h>

#include "podprobe/sched-t.h"

/* Add a deadline. O(log n). Returns 0 or -ENOMEM. */
int pp_sched_push(struct pp_sched *s, pp_nsec deadline, uint32_t key, uint32_t gen);

/* The earliest deadline, or PP_NSEC_INFINITY when empty. */
pp_nsec pp_sched_next(const struct pp_sched *s);

/* Pop the earliest entry into <ret> if its deadline is <= <now>. Returns true if one was popped. */
bool pp_sched_pop_expired(struct pp_sched *s, pp_nsec now, struct pp_sched_entry *ret);

/* Free the heap. Accepts a zeroed struct. */
void pp_sched_free(struct pp_sched *s);

#endif
