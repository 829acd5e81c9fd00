/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `podprobe run` keeps of each pod in its state directory, so that a restarted podprobe
 * re-adopts the containers that still run instead of starting them again (kubelet's promise:
 * restarting the node agent restarts no workload).
 */
#ifndef PODPROBE_POD_RECORD_T_H
#define PODPROBE_POD_RECORD_T_H

#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"

#define PP_RECORD_VERSION   1
#define PP_RECORD_PATH_MAX  4096 /* cgroup paths */
#define PP_RECORD_MAX_CONTS 1024 /* containers of one pod, init containers included */
#define PP_RECORD_MAX_BYTES (4u << 20)

/* One container: the controller's view plus what identifies its running process. */
struct pp_cont_record {
	struct pp_container_state st;		/* the controller's state of the container */
	uint8_t probe_published[_PP_PROBE_MAX]; /* probes' published verdicts (pp_probe_verdict) */
	int32_t pid;				/* main process of instance st.instance, 0 = none */
	uint64_t pid_start;		/* its start time: /proc/PID/stat field 22, clock ticks */
	char cg2[PP_RECORD_PATH_MAX];	/* its cgroup v2 leaf, "" = none */
	char memv1[PP_RECORD_PATH_MAX]; /* its v1 memory cgroup, "" = none */
};

struct pp_pod_record {
	char boot_id[40]; /* the kernel's boot id when written: pids mean nothing after a reboot */
	char digest[72];  /* of the pod's spec: another spec means another pod */
	pp_nsec created;  /* when podprobe first created the pod (CLOCK_MONOTONIC) */
	struct pp_pod_state pod; /* scalar fields only; spec, cfg, n and c are not recorded */
	size_t n;		 /* containers, in pp_pod_container() order */
	struct pp_cont_record *c;
};

#endif
