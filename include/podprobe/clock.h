/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks of the shell; the core takes time as a parameter instead. */
#ifndef PODPROBE_CLOCK_H
#define PODPROBE_CLOCK_H

#include <stddef.h>

#include "podprobe/time-t.h"

/* CLOCK_MONOTONIC now. */
pp_nsec pp_clock_now(void);

/* CLOCK_REALTIME now. */
pp_wall_ns pp_clock_wall(void);

/* Wall-clock time of monotonic instant <mono> as RFC 3339 UTC with nanoseconds. */
int pp_clock_rfc3339(pp_nsec mono, char *buf, size_t size);

#endif
