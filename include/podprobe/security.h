/* SPDX-License-Identifier: Apache-2.0 */
/*
 * securityContext resolution (pure): the pod's and the container's securityContext, and who
 * podprobe runs as, become the identity and capability sets of a process.
 */
#ifndef PODPROBE_SECURITY_H
#define PODPROBE_SECURITY_H

#include <stddef.h>

#include "podprobe/pod.h"
#include "podprobe/security-t.h"

/* The name of capability <cap> as Kubernetes writes it ("NET_ADMIN"), or NULL. */
const char *pp_cap_name(unsigned int cap);

/*
 * The number of capability <name>, written as in a securityContext: without the "CAP_"
 * prefix, any case (containerd upper-cases it and adds the prefix). Returns 0..40, or
 * -ENOENT (including for "ALL", which is not one capability).
 */
int pp_cap_from_name(const char *name);

/*
 * Resolve what container <cs> of <pod> runs as, as kubelet and containerd would, given that
 * podprobe runs as <host_uid>:<host_gid> (the "image user" when runAsUser is unset: there is
 * no image). <pod_uid> is the pod's UID for messages. Container fields win over the pod's
 * (K: pkg/securitycontext/util.go DetermineEffectiveSecurityContext):
 *  - uid: runAsUser, else <host_uid>; gid: runAsGroup, else 0 when runAsUser is set and
 *    podprobe is root (as the Kubernetes docs say), else <host_gid>; groups: the pod's
 *    supplementalGroups, then fsGroup (K: kuberuntime/security_context.go
 *    determineEffectiveSecurityContext);
 *  - capabilities: containerd's defaults (PP_CAPS_DEFAULT), then add ALL, drop ALL, the
 *    other adds, the other drops (containerd internal/cri/opts WithCapabilities);
 *    privileged: every capability, add and drop ignored (containerd WithPrivileged);
 *  - no_new_privs only for allowPrivilegeEscalation: false (K: securitycontext
 *    AddNoNewPrivileges).
 * Identity and capabilities are applied only when <host_uid> is 0 (set_ids, set_caps).
 *
 * Returns 0 with <ret> filled, or -EPERM with kubelet's CreateContainerConfigError message in
 * <err>: runAsNonRoot with an effective uid 0 (K: kuberuntime/security_context_others.go
 * verifyRunAsNonRoot), or an identity a non-root podprobe cannot take. -EINVAL for values
 * validation rejects (never for a validated pod). Any failure is a CreateContainerConfigError
 * for the caller (pp_lc_on_config_error()); <ret> is written only on success.
 */
int pp_security_resolve(const struct pp_pod *pod, const struct pp_container_spec *cs,
			const char *pod_uid, uint32_t host_uid, uint32_t host_gid,
			struct pp_exec_security *ret, char *err, size_t errlen);

/*
 * For `podprobe run`: warnings about what a podprobe running as <host_uid> cannot honour
 * (as non-root: supplementary groups, capabilities, privileged), appended to <diags>.
 * Returns the number of warnings, or -ENOMEM.
 */
int pp_security_host_warnings(const struct pp_pod *pod, uint32_t host_uid,
			      struct pp_diag_list *diags);

#endif
