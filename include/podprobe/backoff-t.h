/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CrashLoopBackOff bookkeeping, as kubelet's client-go Backoff
 * (k8s.io/client-go/util/flowcontrol/backoff.go).
 */
#ifndef PODPROBE_BACKOFF_T_H
#define PODPROBE_BACKOFF_T_H

#include <stdbool.h>

#include "podprobe/time-t.h"

#define PP_BACKOFF_BASE_DEFAULT (10 * PP_NSEC_PER_SEC)
#define PP_BACKOFF_MAX_DEFAULT	(300 * PP_NSEC_PER_SEC)

struct pp_backoff_cfg {
	pp_nsec base;  /* first delay after the immediate restart: 10 s */
	pp_nsec max;   /* cap of the doubling: 300 s */
	pp_nsec reset; /* a run longer than this resets the entry: 600 s (2 x max) */
};

/* One container's entry. Zeroed = no entry yet. */
struct pp_backoff {
	bool active;	     /* an entry exists */
	pp_nsec delay;	     /* current window */
	pp_nsec last_update; /* when the entry last moved (about the last start) */
};

#endif
