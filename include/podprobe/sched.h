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

/*
 * Add an entry due at <deadline> that may start up to <slack> later. Slack values beyond
 * PP_SLACK_CLASSES distinct ones share the largest class whose slack is smaller (0 at worst):
 * an entry never waits longer than it allows. Returns 0 or -ENOMEM.
 */
int pp_slack_sched_push(struct pp_slack_sched *s, pp_nsec deadline, pp_nsec slack, uint32_t key,
			uint32_t gen);

/*
 * When to wake: the earliest deadline + slack of any entry (PP_NSEC_INFINITY when empty).
 * Stale entries count too, as with pp_sched: owners drop them when they pop.
 */
pp_nsec pp_slack_sched_next(const struct pp_slack_sched *s);

/*
 * Pop an entry whose deadline is <= <now> (the earliest such one) into <ret>; its deadline is
 * ret->deadline. Popping until false after a wake at pp_slack_sched_next() starts in one go
 * everything that was due by then. Returns true if one was popped.
 */
bool pp_slack_sched_pop_expired(struct pp_slack_sched *s, pp_nsec now, struct pp_sched_entry *ret);

/* Entries held, stale ones included. */
size_t pp_slack_sched_len(const struct pp_slack_sched *s);

/* Free every class. Accepts a zeroed struct. */
void pp_slack_sched_free(struct pp_slack_sched *s);

#endif
