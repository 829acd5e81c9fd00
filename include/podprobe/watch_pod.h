/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `podprobe watch`'s pure half: a Pod object of the API into what to watch, changes between
 * two versions of a pod, a container ID into the names of its cgroup directory, the main
 * process of a cgroup, and probe proxy paths.
 */
#ifndef PODPROBE_WATCH_POD_H
#define PODPROBE_WATCH_POD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/pod-t.h"
#include "podprobe/watch_pod-t.h"

/*
 * Read Pod object <pod> (as the API serves it, status included). Returns 0 and a new pod in
 * *<ret>, or -EINVAL with a reason in <err> (no metadata.name or uid, not an object),
 * -ENOMEM.
 */
int pp_watch_pod_from_json(const json_t *pod, struct pp_watch_pod **ret, char *err, size_t size);

/* Free <p> (NULL is fine). */
void pp_watch_pod_free(struct pp_watch_pod *p);

/*
 * What changed from <old> to <new> (same uid). For PP_WATCH_CONTAINERS, bit i of
 * *<ret_mask> is set for each container i whose ID, restart count or running state changed
 * (containers beyond 63 share bit 63).
 */
enum pp_watch_change pp_watch_pod_compare(const struct pp_watch_pod *old,
					  const struct pp_watch_pod *new, uint64_t *ret_mask);

/* "same", "containers", "spec"; "?" when out of range. */
const char *pp_watch_change_str(enum pp_watch_change c);

/*
 * The names the cgroup directory of container <container_id> ("containerd://ID",
 * "cri-o://ID", "docker://ID", "podprobe://...") may have, for container <container> of pod
 * <pod_uid> in its <restart_count>th restart: systemd-driver scopes (cri-containerd-ID.scope,
 * crio-ID.scope, docker-ID.scope), the bare ID of the cgroupfs driver (kubepods/.../podUID/ID),
 * or podprobe run's leaf <container>-<uid prefix>-<restart> (user/io/runtime.c). Returns 0,
 * -EINVAL for an ID that is malformed or could name a path ('/', "..", empty),
 * -EPROTONOSUPPORT for another runtime.
 */
int pp_watch_cgroup_names(const char *container_id, const char *pod_uid, const char *container,
			  uint32_t restart_count, struct pp_watch_cg_names *ret);

/*
 * The main process among the <n> processes <pids> of a cgroup, whose parents are <ppids>: the
 * one whose parent is outside the set (the container's init, child of the runtime's shim);
 * the lowest such pid when there are several. Returns the pid, or -ENOENT when <n> is 0.
 */
int pp_watch_main_pid(const int32_t *pids, const int32_t *ppids, size_t n);

/*
 * Parse probe proxy path <path> ("/probe/NS/POD/CONTAINER/{startup,liveness,readiness}",
 * percent-encoded segments). Returns 0 and fills the buffers (each <size> bytes) and
 * *<ret_kind>, -ENOENT when <path> is not a probe path of that shape, -ENAMETOOLONG.
 */
int pp_watch_proxy_path(const char *path, char *ns, char *pod, char *container, size_t size,
			enum pp_probe_kind *ret_kind);

/* The kind as a probe proxy path names it: "startup", "liveness", "readiness"; "?" else. */
const char *pp_watch_kind_str(enum pp_probe_kind kind);

/*
 * Does probe handler <h> ask podprobe's probe proxy on port <proxy_port> (1..65535)? An
 * httpGet whose path starts with "/probe/" and whose port, <port> as the caller resolved it
 * (named ports; -1 = unknown), is <proxy_port>; an exec whose command line (the arguments
 * joined by spaces) contains "/probe/" and ":<proxy_port>/", as a `wget
 * http://$(HOST_IP):PORT/probe/...` does. Returns true and fills *<ret>: ret->named says
 * whether the path in it (for exec, the one after ":<proxy_port>", else the first; up to a
 * space, quote, '?' or '#') is one pp_watch_proxy_path() reads (a $(VAR) left in it is not).
 * False for any other handler, or <proxy_port> out of range; *<ret> is then untouched.
 */
bool pp_watch_probe_proxied(const struct pp_handler *h, int port, int proxy_port,
			    struct pp_watch_proxy_ref *ret);

#endif
