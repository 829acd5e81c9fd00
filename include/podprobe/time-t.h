/* SPDX-License-Identifier: Apache-2.0 */
/* The one time unit: nanoseconds of CLOCK_MONOTONIC (house style §2). */
#ifndef PODPROBE_TIME_T_H
#define PODPROBE_TIME_T_H

#include <stdint.h>

typedef uint64_t pp_nsec;

/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME): only for times the API shows. */
typedef int64_t pp_wall_ns;

#define PP_NSEC_PER_USEC 1000ull
#define PP_NSEC_PER_MSEC 1000000ull
#define PP_NSEC_PER_SEC	 1000000000ull
#define PP_NSEC_INFINITY UINT64_MAX

#endif
