// SPDX-License-Identifier: Apache-2.0
/*
 * Crash back-off as kubelet does it (client-go flowcontrol.Backoff with kubelet's
 * HasExpiredFunc): the first restart is immediate and creates the entry with the base delay;
 * each later exit waits the current window counted from that exit, then doubles it up to the
 * cap. An exit more than <reset> after the entry last moved (the container ran that long)
 * expires the entry, so the next restart is immediate again.
 */
#include "podprobe/backoff.h"

void pp_backoff_cfg_fill(struct pp_backoff_cfg *cfg)
{
	if (!cfg->base)
		cfg->base = PP_BACKOFF_BASE_DEFAULT;
	if (!cfg->max)
		cfg->max = PP_BACKOFF_MAX_DEFAULT;
	if (cfg->base > cfg->max)
		cfg->base = cfg->max;
	if (!cfg->reset)
		cfg->reset = 2 * cfg->max;
}

static bool expired(const struct pp_backoff *b, const struct pp_backoff_cfg *cfg,
		    pp_nsec finished_at)
{
	return finished_at > b->last_update && finished_at - b->last_update > cfg->reset;
}

bool pp_backoff_holds(const struct pp_backoff *b, const struct pp_backoff_cfg *cfg,
		      pp_nsec finished_at, pp_nsec now, pp_nsec *ret_until)
{
	if (!b->active || expired(b, cfg, finished_at))
		return false;
	if (now >= finished_at && now - finished_at >= b->delay)
		return false;
	if (ret_until)
		*ret_until = finished_at + b->delay;
	return true;
}

void pp_backoff_next(struct pp_backoff *b, const struct pp_backoff_cfg *cfg, pp_nsec finished_at,
		     pp_nsec now)
{
	if (!b->active || expired(b, cfg, finished_at)) {
		b->active = true;
		b->delay = cfg->base;
	} else {
		b->delay = b->delay > cfg->max / 2 ? cfg->max : 2 * b->delay;
	}
	b->last_update = now;
}
