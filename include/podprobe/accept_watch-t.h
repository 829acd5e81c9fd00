/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Is a listener accepting? The verdict on one TCP port from the kernel's samples of its
 * listener (PP_KSIG_ACCEPTS): kubernetes issue 103632, a listener whose process no longer
 * calls accept() still completes handshakes, so a tcpSocket probe passes.
 */
#ifndef PODPROBE_ACCEPT_WATCH_T_H
#define PODPROBE_ACCEPT_WATCH_T_H

#include <stdbool.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/* What one report changed. */
enum pp_accept_change {
	PP_ACCEPT_SAME = 0, /* the verdict stands */
	PP_ACCEPT_WEDGED,   /* the listener is proven not accepting: from now on wedged */
	PP_ACCEPT_CLEARED,  /* it was wedged and accepts again (or its listener is gone) */
	_PP_ACCEPT_CHANGE_MAX,
};

/*
 * One port's watch; zero-initialised means "nothing seen". A run is a sequence of reports
 * with connections waiting and the listener's accepted count unchanged: nothing was accepted
 * between its first report and its latest, while the connections of the first still waited.
 */
struct pp_accept_watch {
	uint64_t listener;    /* socket cookie of the listener the counters belong to */
	uint64_t accepted;    /* its accepted count at the latest report */
	uint64_t established; /* its established count at the latest report */
	pp_nsec since;	      /* first report of the run */
	pp_nsec last;	      /* latest report */
	uint32_t backlog;     /* connections waiting at the latest report */
	bool seen;	      /* a report was taken */
	bool stalled;	      /* a run is open */
	bool wedged;	      /* the run has lasted a probe timeout: not accepting */
};

#endif
