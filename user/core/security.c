// SPDX-License-Identifier: Apache-2.0
/*
 * securityContext resolution: which uid, gid, groups and capabilities a process of a
 * container gets, decided the way kubelet (pkg/securitycontext, kuberuntime) and containerd
 * (internal/cri/opts/spec_linux_opts.go, oci/spec.go) decide it. Pure: the runtime applies the
 * result between clone and exec (user/io/runtime.c).
 */
#include "podprobe/security.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* linux/capability.h, without the CAP_ prefix as the Kubernetes API writes them. */
static const char *const cap_names[PP_CAP_CHECKPOINT_RESTORE + 1] = {
	"CHOWN",
	"DAC_OVERRIDE",
	"DAC_READ_SEARCH",
	"FOWNER",
	"FSETID",
	"KILL",
	"SETGID",
	"SETUID",
	"SETPCAP",
	"LINUX_IMMUTABLE",
	"NET_BIND_SERVICE",
	"NET_BROADCAST",
	"NET_ADMIN",
	"NET_RAW",
	"IPC_LOCK",
	"IPC_OWNER",
	"SYS_MODULE",
	"SYS_RAWIO",
	"SYS_CHROOT",
	"SYS_PTRACE",
	"SYS_PACCT",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_NICE",
	"SYS_RESOURCE",
	"SYS_TIME",
	"SYS_TTY_CONFIG",
	"MKNOD",
	"LEASE",
	"AUDIT_WRITE",
	"AUDIT_CONTROL",
	"SETFCAP",
	"MAC_OVERRIDE",
	"MAC_ADMIN",
	"SYSLOG",
	"WAKE_ALARM",
	"BLOCK_SUSPEND",
	"AUDIT_READ",
	"PERFMON",
	"BPF",
	"CHECKPOINT_RESTORE",
};

const char *pp_cap_name(unsigned int cap)
{
	return cap < sizeof(cap_names) / sizeof(cap_names[0]) ? cap_names[cap] : NULL;
}

int pp_cap_from_name(const char *name)
{
	for (unsigned int i = 0; name && i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -ENOENT;
}

/* containerd's util.InStringSlice compares case-insensitively. */
static bool has_all(char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && !strcasecmp(v[i], "ALL"))
			return true;
	return false;
}

/* The container's field when set, else the pod's (DetermineEffectiveSecurityContext). */
#define EFFECTIVE(pod_sc, c_sc, has, field, ret_set, ret_val) \
	do {                                                  \
		if ((c_sc)->has) {                            \
			*(ret_set) = true;                    \
			*(ret_val) = (c_sc)->field;           \
		} else if ((pod_sc)->has) {                   \
			*(ret_set) = true;                    \
			*(ret_val) = (pod_sc)->field;         \
		}                                             \
	} while (0)

static bool valid_id(int64_t id)
{
	return id >= 0 && id <= INT32_MAX;
}

static uint64_t resolve_caps(const struct pp_security_spec *sc, int *ret_err)
{
	uint64_t caps = PP_CAPS_DEFAULT;
	int cap;

	*ret_err = 0;
	if (sc->has_privileged && sc->privileged)
		return PP_CAPS_ALL;
	if (!sc->has_capabilities)
		return caps;
	if (has_all(sc->cap_add, sc->n_cap_add))
		caps = PP_CAPS_ALL;
	if (has_all(sc->cap_drop, sc->n_cap_drop))
		caps = 0;
	for (size_t i = 0; i < sc->n_cap_add; i++) {
		if (!strcasecmp(sc->cap_add[i], "ALL"))
			continue;
		cap = pp_cap_from_name(sc->cap_add[i]);
		if (cap < 0)
			*ret_err = -EINVAL;
		else
			caps |= PP_CAP_BIT(cap);
	}
	for (size_t i = 0; i < sc->n_cap_drop; i++) {
		if (!strcasecmp(sc->cap_drop[i], "ALL"))
			continue;
		cap = pp_cap_from_name(sc->cap_drop[i]);
		if (cap < 0)
			*ret_err = -EINVAL;
		else
			caps &= ~PP_CAP_BIT(cap);
	}
	return caps;
}

int pp_security_resolve(const struct pp_pod *pod, const struct pp_container_spec *cs,
			const char *pod_uid, uint32_t host_uid, uint32_t host_gid,
			struct pp_exec_security *ret, char *err, size_t errlen)
{
	const struct pp_security_spec *psc = &pod->security, *csc = &cs->security;
	bool has_user = false, has_group = false, has_non_root = false, non_root = false;
	int64_t user = 0, group = 0;
	struct pp_exec_security s = {.fs_group = -1};
	size_t n_groups;
	char ref[512];
	int rc;

	EFFECTIVE(psc, csc, has_run_as_user, run_as_user, &has_user, &user);
	EFFECTIVE(psc, csc, has_run_as_group, run_as_group, &has_group, &group);
	EFFECTIVE(psc, csc, has_run_as_non_root, run_as_non_root, &has_non_root, &non_root);
	if ((has_user && !valid_id(user)) || (has_group && !valid_id(group)) ||
	    (psc->has_fs_group && !valid_id(psc->fs_group))) {
		snprintf(err, errlen, "invalid user or group id");
		return -EINVAL;
	}
	/* format.Pod: "<name>_<namespace>(<uid>)", quoted with %q in the message. */
	snprintf(ref, sizeof(ref), "%s_%s(%s)", pod->name ? pod->name : "",
		 pod->namespace ? pod->namespace : "", pod_uid ? pod_uid : "");

	/* K: kuberuntime/security_context_others.go verifyRunAsNonRoot. */
	if (has_non_root && non_root) {
		if (has_user && user == 0) {
			snprintf(err, errlen,
				 "container's runAsUser breaks non-root policy (pod: \"%s\", "
				 "container: %s)",
				 ref, cs->name);
			return -EPERM;
		}
		if (!has_user && host_uid == 0) {
			snprintf(err, errlen,
				 "container has runAsNonRoot and image will run as root (pod: "
				 "\"%s\", "
				 "container: %s)",
				 ref, cs->name);
			return -EPERM;
		}
	}

	s.uid = has_user ? (uint32_t)user : host_uid;
	/* Kubernetes docs: without runAsGroup the primary group is 0. A non-root podprobe
	 * cannot give that, and keeps its own (only the uid is then checked below). */
	s.gid = has_group ? (uint32_t)group : has_user && host_uid == 0 ? 0 : host_gid;
	n_groups = psc->n_supplemental_groups + (psc->has_fs_group ? 1 : 0);
	if (n_groups > PP_SEC_MAX_GROUPS) {
		snprintf(err, errlen, "more than %d supplemental groups", PP_SEC_MAX_GROUPS);
		return -EINVAL;
	}
	for (size_t i = 0; i < psc->n_supplemental_groups; i++) {
		if (!valid_id(psc->supplemental_groups[i])) {
			snprintf(err, errlen, "invalid supplemental group");
			return -EINVAL;
		}
		s.groups[s.n_groups++] = (uint32_t)psc->supplemental_groups[i];
	}
	if (psc->has_fs_group) {
		s.groups[s.n_groups++] = (uint32_t)psc->fs_group;
		s.fs_group = psc->fs_group;
	}
	s.caps = resolve_caps(csc, &rc);
	if (rc < 0) {
		snprintf(err, errlen, "unknown capability name");
		return rc;
	}
	s.no_new_privs = csc->has_allow_privilege_escalation && !csc->allow_privilege_escalation;

	if (host_uid == 0) {
		s.set_ids = has_user || has_group || s.n_groups;
		s.set_caps = true;
	} else if (s.uid != host_uid || s.gid != host_gid) {
		/* Only root can become someone else; running as podprobe instead would lie. */
		snprintf(err, errlen,
			 "podprobe runs as uid %u gid %u and cannot start a process as uid %u gid "
			 "%u (runAsUser, runAsGroup; run podprobe as root)",
			 host_uid, host_gid, s.uid, s.gid);
		return -EPERM;
	} else {
		/* Supplementary groups and capabilities: pp_security_host_warnings(). */
		s.n_groups = 0;
	}
	*ret = s;
	return 0;
}

static int host_warning(const struct pp_pod *pod, struct pp_diag_list *diags, const char *path,
			const char *what)
{
	return pp_diag_add(diags, PP_DIAG_WARNING, pod->file, pp_pod_field_pos(pod, path), path,
			   "podprobe is not running as root and cannot apply %s, ignoring", what);
}

int pp_security_host_warnings(const struct pp_pod *pod, uint32_t host_uid,
			      struct pp_diag_list *diags)
{
	const struct pp_security_spec *psc = &pod->security;
	char path[128];
	int n = 0;

	if (host_uid == 0)
		return 0;
	if (psc->n_supplemental_groups) {
		if (host_warning(pod, diags, "spec.securityContext.supplementalGroups",
				 "supplementary groups"))
			return -ENOMEM;
		n++;
	}
	if (psc->has_fs_group) {
		if (host_warning(pod, diags, "spec.securityContext.fsGroup", "fsGroup"))
			return -ENOMEM;
		n++;
	}
	for (size_t i = 0; i < pp_pod_n_all(pod); i++) {
		const struct pp_security_spec *sc = &pp_pod_container(pod, i)->security;
		int len = pp_pod_container_path(pod, i, path, sizeof(path));

		if (len < 0)
			continue;
		if (sc->has_capabilities) {
			snprintf(path + len, sizeof(path) - (size_t)len,
				 ".securityContext.capabilities");
			if (host_warning(pod, diags, path,
					 "capabilities (the bounding set stays podprobe's)"))
				return -ENOMEM;
			n++;
		}
		if (sc->has_privileged && sc->privileged) {
			snprintf(path + len, sizeof(path) - (size_t)len,
				 ".securityContext.privileged");
			if (host_warning(pod, diags, path, "privileged"))
				return -ENOMEM;
			n++;
		}
	}
	return n;
}
