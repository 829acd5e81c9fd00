// SPDX-License-Identifier: Apache-2.0
/* `podprobe watch` (podprobe/watch.h). Placeholder until the watcher lands. */
#include <errno.h>
#include <stdio.h>

#include "podprobe/watch.h"

int pp_watch_run(const struct pp_watch_cfg *cfg)
{
	(void)cfg;
	fprintf(stderr, "podprobe watch: not built yet\n");
	return 1;
}
