/* SPDX-License-Identifier: Apache-2.0 */
/* The wedged-listener verdict of one port (pure; times are the kernel's report times). */
#ifndef PODPROBE_ACCEPT_WATCH_H
#define PODPROBE_ACCEPT_WATCH_H

#include "podprobe/accept_watch-t.h"

/*
 * Feed <w> one kernel report on its port's listener <listener> (socket cookie; 0 = unknown),
 * taken at <now> (pp_ksig.ts): <backlog> connections in its accept queue, <accepted> of the
 * <established> it completed since listen() taken by accept() (pp_ksig.accepted,
 * .established; only reports with pp_ksig.queue_known). <timeout> is the probe timeout the
 * listener is judged by.
 *
 * The listener is wedged once a run (see struct pp_accept_watch) spans at least <timeout>:
 * two reports that far apart, connections waiting in both, none accepted in between. That
 * takes two reports, whatever <timeout>. It stays wedged until a report shows the queue
 * empty or the accepted count moved, or another listener; counters that go backwards mean a
 * new listener as well. A report older than the latest counts as taken at the latest.
 *
 * Returns PP_ACCEPT_WEDGED when this report proves the listener wedged, PP_ACCEPT_CLEARED
 * when it was wedged and this report ends that, else PP_ACCEPT_SAME.
 */
enum pp_accept_change pp_accept_watch_on_report(struct pp_accept_watch *w, uint64_t listener,
						uint32_t backlog, uint64_t accepted,
						uint64_t established, pp_nsec now, pp_nsec timeout);

/*
 * The listener closed or another opened (PP_KSIG_UNLISTEN, PP_KSIG_LISTEN): forget <w>'s
 * evidence. Returns PP_ACCEPT_CLEARED when it was wedged, else PP_ACCEPT_SAME.
 */
enum pp_accept_change pp_accept_watch_reset(struct pp_accept_watch *w);

/* Is the listener of <w> proven not accepting? */
static inline bool pp_accept_watch_wedged(const struct pp_accept_watch *w)
{
	return w->wedged;
}

/* How long nothing was accepted while connections waited, as of the latest report; 0 = none. */
pp_nsec pp_accept_watch_stalled_for(const struct pp_accept_watch *w);

/* "same", "wedged", "cleared"; "?" when out of range. */
const char *pp_accept_change_str(enum pp_accept_change c);

#endif
