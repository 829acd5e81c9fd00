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

/* Pods one run holds at most (kubelet's --max-pods is 110; podprobe aims at dense nodes). */
#define PP_DEFAULT_MAX_PODS 16384

enum pp_events_format {
	PP_EVENTS_TEXT = 0,
	PP_EVENTS_JSON,
	PP_EVENTS_NONE,
	_PP_EVENTS_MAX,
};

enum pp_table_mode {
	PP_TABLE_AUTO = 0, /* when stdout is a terminal and events are text */
	PP_TABLE_ALWAYS,
	PP_TABLE_NEVER,
	_PP_TABLE_MAX,
};

struct pp_supervisor_cfg {
	const char *state_dir;
	enum pp_events_format events;
	enum pp_table_mode table;
	bool use_cgroups;
	bool use_bpf;		 /* kernel signals through eBPF when the host allows */
	bool fast_detect;	 /* a closed listener triggers a probe burst */
	bool keep_pods;		 /* SIGINT/SIGTERM: exit, the pods run on for the next run */
	const char *api_addr;	 /* serve the Kubernetes API over HTTPS here, NULL = not */
	bool api_socket;	 /* ... and on <state_dir>/api.sock */
	bool serve;		 /* run on when every pod has ended (pods come through the API) */
	size_t max_pods;	 /* 0 = PP_DEFAULT_MAX_PODS */
	char *const *watch_dirs; /* manifest directories to follow (static pods), NULL-ended */
	struct pp_lc_cfg lc;
};

/*
 * Run every pod of <pods> until each is Succeeded or Failed; SIGINT/SIGTERM delete them all
 * gracefully (a second one kills at once), or with cfg->keep_pods end the run and leave them
 * running with their records for the next run. Pods are deleted, added and changed through the
 * API (cfg->api_addr, <state_dir>/api.sock) and followed directories (cfg->watch_dirs).
 * Returns 0 when every pod Succeeded (or the pods were kept), 1 when any Failed, or -errno
 * when the engine could not start.
 */
int pp_supervisor_run(const struct pp_supervisor_cfg *cfg, struct pp_pod_list *pods);

#endif
