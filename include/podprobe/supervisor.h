/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `podprobe run` engine: owns the loop, the runtime and one controller per pod, carries
 * out the controllers' actions and prints events and the live pod table.
 */
#ifndef PODPROBE_SUPERVISOR_H
#define PODPROBE_SUPERVISOR_H

#include <stdbool.h>
#include <stdio.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/pod.h"

enum pp_events_format {
	PP_EVENTS_TEXT = 0,
	PP_EVENTS_JSON,
	PP_EVENTS_NONE,
	_PP_EVENTS_MAX,
};

enum pp_table_mode {
	PP_TABLE_AUTO = 0,	/* when stdout is a terminal and events are text */
	PP_TABLE_ALWAYS,
	PP_TABLE_NEVER,
	_PP_TABLE_MAX,
};

struct pp_supervisor_cfg {
	const char *state_dir;
	enum pp_events_format events;
	enum pp_table_mode table;
	bool use_cgroups;
	bool use_bpf;		/* kernel signals through eBPF when the host allows */
	bool fast_detect;	/* a closed listener triggers a probe burst */
	struct pp_lc_cfg lc;
};

/*
 * Run every pod of <pods> until each is Succeeded or Failed; SIGINT/SIGTERM delete them all
 * gracefully (a second one kills at once). Returns 0 when every pod Succeeded, 1 when any
 * Failed, or -errno when the engine could not start.
 */
int pp_supervisor_run(const struct pp_supervisor_cfg *cfg, struct pp_pod_list *pods);

#endif
