/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PODPROBE_BACKOFF_H
#define PODPROBE_BACKOFF_H

#include "podprobe/backoff-t.h"

/* <cfg> with the defaults for any 0 field; reset defaults to 2 x max. */
void pp_backoff_cfg_fill(struct pp_backoff_cfg *cfg);

/*
 * Is a container that exited at <finished_at> still backing off at <now>? When it is,
 * <ret_until> (may be NULL) receives the time the restart becomes due. An expired entry (the
 * container ran longer than cfg->reset) never holds a restart back.
 */
bool pp_backoff_holds(const struct pp_backoff *b, const struct pp_backoff_cfg *cfg,
		      pp_nsec finished_at, pp_nsec now, pp_nsec *ret_until);

/*
 * Record a restart at <now> for an exit at <finished_at>: a new or expired entry starts at
 * cfg->base, otherwise the window doubles up to cfg->max.
 */
void pp_backoff_next(struct pp_backoff *b, const struct pp_backoff_cfg *cfg, pp_nsec finished_at,
		     pp_nsec now);

#endif
