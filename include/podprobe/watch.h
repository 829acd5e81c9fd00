/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `podprobe watch`: beside kubelet, probe and kernel-watch the pods of this node that another
 * runtime started (containerd, CRI-O, docker, or a `podprobe run`), and make the verdicts
 * count at once: readiness-gate conditions on the pods, Events, kubelet's prober metrics, a
 * probe proxy, and (opt-in) killing a failed container's cgroup so its runtime restarts it.
 */
#ifndef PODPROBE_WATCH_H
#define PODPROBE_WATCH_H

#include <stdbool.h>

#include "podprobe/supervisor.h"
#include "podprobe/time-t.h"
#include "podprobe/watch_pod-t.h"

struct pp_watch_cfg {
	const char *pods_file;	      /* --pods: a PodList file, re-read when it changes; or NULL */
	const char *kubeconfig;	      /* --kubeconfig; NULL with no pods_file = in-cluster */
	const char *node;	      /* --node (main fills the default: NODE_NAME, host name) */
	const char *cgroup_root;      /* --cgroup-root (default /sys/fs/cgroup) */
	const char *probe_proxy_addr; /* --probe-proxy-addr ADDR:PORT, or NULL */
	const char *metrics_addr;     /* --metrics-addr ADDR:PORT, or NULL */
	bool act_restart;	      /* --act=restart for every pod (else per annotation) */
	bool use_bpf;		      /* !--no-bpf */
	enum pp_events_format events; /* verdict and action lines on stdout */
	pp_nsec duration;	      /* stop after this long; 0 = at SIGINT/SIGTERM */
};

/*
 * Run until SIGINT/SIGTERM (or cfg->duration). Returns 0 on a clean stop, 2 for a
 * configuration error (said on stderr), 1 for a fatal runtime error.
 */
int pp_watch_run(const struct pp_watch_cfg *cfg);

#endif
