/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the bench programs report of themselves (bench_probe, bench_fleet, bench_uring_ref):
 * their CPU time and resident set, in the units of their key=value lines.
 */
#ifndef PODPROBE_BENCH_SELF_H
#define PODPROBE_BENCH_SELF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* VmRSS of this process in KiB, or -1. */
static inline long bench_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* User plus system CPU time of this process so far, in seconds. */
static inline double bench_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

#endif
