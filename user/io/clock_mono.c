// SPDX-License-Identifier: Apache-2.0
#include "podprobe/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

pp_nsec pp_clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (pp_nsec)ts.tv_sec * PP_NSEC_PER_SEC + (pp_nsec)ts.tv_nsec;
}

int pp_clock_rfc3339(pp_nsec mono, char *buf, size_t size)
{
	/* Wall time minus monotonic time, taken once: stamps then keep their monotonic order. */
	static int64_t offset;
	static bool have_offset;
	pp_nsec wall;
	struct tm tm;
	time_t secs;
	int n;

	if (!have_offset) {
		struct timespec rt;
		pp_nsec now = pp_clock_now();

		clock_gettime(CLOCK_REALTIME, &rt);
		offset = (int64_t)((pp_nsec)rt.tv_sec * PP_NSEC_PER_SEC + (pp_nsec)rt.tv_nsec) -
			 (int64_t)now;
		have_offset = true;
	}
	wall = (pp_nsec)((int64_t)mono + offset);
	secs = (time_t)(wall / PP_NSEC_PER_SEC);
	gmtime_r(&secs, &tm);
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned long long)(wall % PP_NSEC_PER_SEC));
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

pp_wall_ns pp_clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (pp_wall_ns)ts.tv_sec * (pp_wall_ns)PP_NSEC_PER_SEC + ts.tv_nsec;
}
