/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the `podprobe run` engine: what a container start needs from its pod's volumes and
 * from ConfigMaps and Secrets (user/io/sup_volumes.c, called from supervisor.c).
 */
#ifndef PODPROBE_SUP_VOLUMES_H
#define PODPROBE_SUP_VOLUMES_H

#include <limits.h>
#include <stddef.h>

#include "podprobe/pod_env-t.h"
#include "podprobe/runtime.h"

struct pp_supervisor;
struct pod_rt;

/*
 * The ConfigMaps and Secrets <pr> can read, into <ret> (pp_config_list_free): the documents of
 * the manifest paths `podprobe run` was given (cfg->watch_dirs), read again at each call so that
 * an object added to them since is found (kubelet asks the API server at each attempt). Nothing
 * is read for a pod that refers to none. Returns 0 or -ENOMEM.
 */
int pp_sup_configs_load(struct pod_rt *pr, struct pp_config_list *ret);

/*
 * This host's part of what the downward API reads (sup->node), once at start: kubelet caches
 * the machine's figures too, "can't change without a reboot" (pkg/kubelet/kubelet_getters.go
 * GetCachedMachineInfo).
 */
void pp_sup_node_read(struct pp_supervisor *sup);
/* What the downward API reads of <pr> and this host (see struct pp_env_host). */
void pp_sup_env_host(const struct pod_rt *pr, struct pp_env_host *ret);

#define SUP_MOUNT_MSG 640

/*
 * Set up <pr>'s volumes, as kubelet's volume manager does before any container of the pod
 * (supervisor.c: at the controller's PP_ACT_MOUNT, and again before each restart to refresh
 * the contents): configMap, secret, downwardAPI and projected contents written (or refreshed)
 * atomically, hostPath type checks, claim directories. Each volume that cannot be set up
 * yields kubelet's FailedMount text in <msgs> (`MountVolume.SetUp failed for volume "v" :
 * configmap "x" not found`), at most <max>. Returns how many failed, or -ENOMEM.
 */
int pp_sup_volumes_setup(struct pod_rt *pr, const struct pp_config_list *configs,
			 char (*msgs)[SUP_MOUNT_MSG], size_t max);

struct sup_mounts {
	struct pp_mount_req *v;
	char (*srcs)[PATH_MAX + 256];
	int *fds; /* subPath: a detached mount of the opened path (open_tree), -1 none */
	size_t n;
};

/*
 * The bind mounts of container <cs> of <pr>: the volume's directory (or hostPath), or its
 * subPath / subPathExpr (expanded with <env>) opened without leaving the volume (kubelet's
 * PrepareSafeSubpath) and made when missing. Returns 0, -EINVAL / -ENOENT with kubelet's
 * message in <err> (a CreateContainerConfigError), or -ENOMEM.
 */
int pp_sup_mounts_build(struct pod_rt *pr, const struct pp_container_spec *cs,
			const struct pp_env_list *env, struct sup_mounts *ret, char *err,
			size_t errlen);
void pp_sup_mounts_free(struct sup_mounts *m);

#endif
