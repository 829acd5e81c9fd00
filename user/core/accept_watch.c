// SPDX-License-Identifier: Apache-2.0
/*
 * Wedged listeners from the kernel's samples (bpf/sockets.bpf.c). Evidence of no progress,
 * not a queue length: a busy listener that accepts has connections in its queue at every
 * sample, and a sample taken when a connection is established always holds that one. What a
 * wedged listener shows and a busy one cannot is an accepted count that does not move while
 * connections wait: accept() takes the oldest first, so any accept between two samples moves
 * the count, and a connection waiting at the first sample that is still unaccepted at the
 * second waited at least the time between them.
 */
#include "podprobe/accept_watch.h"

static const char *const change_names[_PP_ACCEPT_CHANGE_MAX] = {
	[PP_ACCEPT_SAME] = "same",
	[PP_ACCEPT_WEDGED] = "wedged",
	[PP_ACCEPT_CLEARED] = "cleared",
};

const char *pp_accept_change_str(enum pp_accept_change c)
{
	return (unsigned int)c < _PP_ACCEPT_CHANGE_MAX ? change_names[c] : "?";
}

enum pp_accept_change pp_accept_watch_reset(struct pp_accept_watch *w)
{
	bool was = w->wedged;

	*w = (struct pp_accept_watch){0};
	return was ? PP_ACCEPT_CLEARED : PP_ACCEPT_SAME;
}

enum pp_accept_change pp_accept_watch_on_report(struct pp_accept_watch *w, uint64_t listener,
						uint32_t backlog, uint64_t accepted,
						uint64_t established, pp_nsec now, pp_nsec timeout)
{
	enum pp_accept_change change = PP_ACCEPT_SAME;
	bool progress;

	if (w->seen &&
	    (listener != w->listener || accepted < w->accepted || established < w->established))
		change = pp_accept_watch_reset(w);
	if (w->seen && now < w->last)
		now = w->last;
	progress = !w->seen || accepted != w->accepted;
	w->seen = true;
	w->listener = listener;
	w->accepted = accepted;
	w->established = established;
	w->last = now;
	w->backlog = backlog;

	if (!backlog || progress) {
		/* Nothing waits, or something was accepted: any run ends; a new one may start. */
		if (w->wedged)
			change = PP_ACCEPT_CLEARED;
		w->wedged = false;
		w->stalled = backlog > 0;
		w->since = now;
		return change;
	}
	if (!w->stalled) {
		/* The queue was seen empty before: its connections came after that report. */
		w->stalled = true;
		w->since = now;
		return change;
	}
	if (!w->wedged && now - w->since >= timeout) {
		w->wedged = true;
		change = PP_ACCEPT_WEDGED;
	}
	return change;
}

pp_nsec pp_accept_watch_stalled_for(const struct pp_accept_watch *w)
{
	return w->stalled ? w->last - w->since : 0;
}
