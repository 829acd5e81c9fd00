/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a container's environment and its pod's projected volumes are made of: the pod, the
 * ConfigMaps and Secrets known, and what the host tells (user/core/pod_env.c).
 */
#ifndef PODPROBE_POD_ENV_T_H
#define PODPROBE_POD_ENV_T_H

#include <stddef.h>
#include <stdint.h>

#include "podprobe/pod-t.h"

/*
 * The node and pod facts the downward API reads. Node allocatable is what kubelet defaults
 * an unset limit to (defaultPodLimitsForDownwardAPI); podprobe reserves nothing for itself, so
 * the caller gives the host's capacity: online CPUs and MemTotal.
 */
struct pp_env_host {
	const char *uid;       /* metadata.uid */
	const char *node_name; /* spec.nodeName */
	const char *host_ip;   /* status.hostIP (and hostIPs) */
	const char *pod_ip;    /* status.podIP (and podIPs) */
	int64_t cpu_m;	       /* allocatable cpu in thousandths */
	int64_t memory;	       /* allocatable memory in bytes */
	int64_t storage;       /* allocatable ephemeral-storage in bytes */
};

/* A container's environment: names unique, in the order first set (values owned). */
struct pp_env_list {
	struct pp_kv *v;
	size_t n;
	size_t cap;
	char **events; /* InvalidEnvironmentVariableNames messages (Warning events) */
	size_t n_events;
};

/* One file of a volume's payload (kubelet's volumeutil.FileProjection). */
struct pp_vol_file {
	char *path; /* relative, checked by pp_vol_path_ok() */
	char *data;
	size_t len;
	uint32_t mode;
};

struct pp_vol_payload {
	struct pp_vol_file *v;
	size_t n;
	size_t cap;
	char **warnings; /* what was left out and why (serviceAccountToken) */
	size_t n_warnings;
};

#endif
