/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of `podprobe watch`'s pure half (user/core/watch_pod.c): what one Pod object of the
 * Kubernetes API (or of a `kubectl get pods -o json` PodList) says is to be watched.
 */
#ifndef PODPROBE_WATCH_POD_T_H
#define PODPROBE_WATCH_POD_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"

struct json_t;

/* The readiness gate podprobe owns (KEP-580 pod readiness gates). */
#define PP_WATCH_GATE "podprobe.io/ready"
/* Per-pod opt-in to --act=restart (value "restart"). */
#define PP_WATCH_ACT_ANNOTATION "probe.podprobe.io/act"

/* Containers of one pod that are watched (spec.containers; more are ignored). */
#define PP_WATCH_MAX_CONTAINERS 64
/* Candidate cgroup directory names of one container ID. */
#define PP_WATCH_CG_NAMES    3
#define PP_WATCH_CG_NAME_MAX 192

/* The runtime named by a containerStatuses[].containerID ("<runtime>://<id>"). */
enum pp_watch_runtime {
	PP_WATCH_RT_CONTAINERD = 0,
	PP_WATCH_RT_CRIO,
	PP_WATCH_RT_DOCKER,
	PP_WATCH_RT_PODPROBE,
	_PP_WATCH_RT_MAX,
};

/* One of spec.containers with its containerStatuses entry (matched by name). */
struct pp_watch_container {
	char *name;
	char *container_id; /* "containerd://0123...", or NULL before the runtime made one */
	uint32_t restart_count;
	bool ready;   /* status.containerStatuses[].ready as kubelet last said */
	bool started; /* ... .started */
	bool running; /* ... .state.running is present */
};

struct pp_watch_pod {
	char *namespace; /* "default" when absent */
	char *name;
	char *uid;
	char *pod_ip;	  /* status.podIP, or NULL */
	char *host_ip;	  /* status.hostIP, or NULL */
	bool gate;	  /* spec.readinessGates lists PP_WATCH_GATE */
	bool act_restart; /* annotation PP_WATCH_ACT_ANNOTATION is "restart" */
	bool has_probes;  /* some container has a startup, liveness or readiness probe */
	struct pp_watch_container *containers;
	size_t n_containers;
	/*
	 * A minimal Pod manifest (apiVersion, kind, metadata name/namespace/uid and the
	 * probe.podprobe.io/ annotations, spec.containers[] name/image/ports/probes) for the
	 * manifest reader: the one probe parser of podprobe run reads the probes of a live Pod.
	 */
	struct json_t *probe_doc;
};

/* What changed between two versions of a pod with the same uid. */
enum pp_watch_change {
	PP_WATCH_SAME = 0,   /* nothing watched changed */
	PP_WATCH_CONTAINERS, /* a container's ID, restart count or running state: those anew */
	PP_WATCH_SPEC,	     /* probes, ports, podIP, gate or opt-in: the whole pod anew */
	_PP_WATCH_CHANGE_MAX,
};

struct pp_watch_cg_names {
	enum pp_watch_runtime runtime;
	size_t n;
	char names[PP_WATCH_CG_NAMES][PP_WATCH_CG_NAME_MAX];
};

/* Longest namespace, pod or container name a probe proxy path names (DNS-1123 subdomain). */
#define PP_WATCH_NAME_MAX 254

/*
 * A pod's own probe that asks podprobe's probe proxy (pp_watch_probe_proxied()): podprobe
 * does not run it (it would ask itself) and answers its proxy path from the verdict it names.
 */
struct pp_watch_proxy_ref {
	bool named;		     /* the path parsed: the fields below are set */
	enum pp_probe_kind kind;     /* the verdict it asks for */
	char ns[PP_WATCH_NAME_MAX];  /* of pod <pod> */
	char pod[PP_WATCH_NAME_MAX]; /* ... */
	char container[PP_WATCH_NAME_MAX];
};

#endif
