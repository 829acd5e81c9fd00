/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the pod status module: what a pod looks like through the Kubernetes API (the Pod
 * object's status, the `kubectl get pods` row), computed from the lifecycle controller's state.
 */
#ifndef PODPROBE_POD_STATUS_T_H
#define PODPROBE_POD_STATUS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/pod-t.h"
#include "podprobe/time-t.h"

/* jansson's json_t is "typedef struct json_t json_t": named here without <jansson.h>. */
struct json_t;

/* The pod conditions kubelet writes, in its order (kubelet_pods.go generateAPIPodStatus). */
enum pp_pod_cond {
	PP_COND_READY_TO_START = 0, /* PodReadyToStartContainers */
	PP_COND_INITIALIZED,	    /* Initialized */
	PP_COND_READY,		    /* Ready */
	PP_COND_CONTAINERS_READY,   /* ContainersReady */
	PP_COND_SCHEDULED,	    /* PodScheduled */
	_PP_COND_MAX,
};

/* Condition statuses as last seen, and when each last flipped (lastTransitionTime). */
struct pp_pod_conds {
	bool known;			/* set by the first pp_pod_conds_update() */
	bool status[_PP_COND_MAX];	/* "True" */
	pp_wall_ns since[_PP_COND_MAX]; /* wall time of the last flip (or of the first update) */
};

/* Everything the API shows of one pod; every pointer is borrowed. */
struct pp_pod_view {
	const struct pp_pod *spec;
	const struct pp_pod_state *st;
	const struct json_t *object;	     /* manifest as stored ({"metadata","spec"}), or NULL */
	const struct pp_pod_conds *conds;    /* or NULL: lastTransitionTime = creation */
	const struct json_t *ext_conditions; /* conditions others set (pods/status), or NULL */
	uint64_t resource_version;
	pp_wall_ns created;	  /* metadata.creationTimestamp, 0 = unknown */
	pp_wall_ns deletion;	  /* metadata.deletionTimestamp, 0 = not deleted */
	int64_t deletion_grace_s; /* metadata.deletionGracePeriodSeconds */
	const char *node_name;	  /* spec.nodeName, or NULL */
	const char *host_ip;	  /* status.hostIP and podIP, or NULL */
	pp_nsec mono_now;	  /* the clock pair that turns the monotonic times of <st> ... */
	pp_wall_ns wall_now;	  /* ... into wall time: wall = t - mono_now + wall_now */
};

/* The nine cells of a `kubectl get pods` row (printers.go printPod, with Wide). */
struct pp_pod_cells {
	char name[254];
	char ready[24];	   /* "1/2" */
	char status[64];   /* "Running", "Init:0/2", "CrashLoopBackOff", "Terminating" */
	char restarts[48]; /* "0", "4 (53s ago)" */
	char age[24];	   /* "5m8s", "<unknown>" */
	char ip[64];	   /* "127.0.0.1", "<none>" */
	char node[254];	   /* "<none>" when unscheduled */
	char nominated[8]; /* always "<none>" */
	char gates[24];	   /* readiness gates true of all: "0/1", "<none>" when there are none */
};

#endif
