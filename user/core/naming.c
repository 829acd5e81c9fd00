// SPDX-License-Identifier: Apache-2.0
#include "podprobe/naming.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

int pp_cgroup_root_name(const char *state_dir, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	if (snprintf(buf, size, "podprobe-%016llx", (unsigned long long)h) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}
