/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of securityContext resolution: what a process must run as (identity, capability
 * sets, no_new_privs), computed by pp_security_resolve() from the pod and container
 * securityContext and applied by the runtime between clone and exec.
 */
#ifndef PODPROBE_SECURITY_T_H
#define PODPROBE_SECURITY_T_H

#include <stdbool.h>
#include <stdint.h>

/* Supplementary groups a process can get (supplementalGroups plus fsGroup). */
#define PP_SEC_MAX_GROUPS 64

/* Capability numbers used below (linux/capability.h). */
#define PP_CAP_CHOWN		  0
#define PP_CAP_DAC_OVERRIDE	  1
#define PP_CAP_FOWNER		  3
#define PP_CAP_FSETID		  4
#define PP_CAP_KILL		  5
#define PP_CAP_SETGID		  6
#define PP_CAP_SETUID		  7
#define PP_CAP_SETPCAP		  8
#define PP_CAP_NET_BIND_SERVICE	  10
#define PP_CAP_NET_RAW		  13
#define PP_CAP_SYS_CHROOT	  18
#define PP_CAP_SYS_ADMIN	  21
#define PP_CAP_MKNOD		  27
#define PP_CAP_AUDIT_WRITE	  29
#define PP_CAP_SETFCAP		  31
#define PP_CAP_CHECKPOINT_RESTORE 40 /* the highest one podprobe knows by name */

#define PP_CAP_BIT(n) (1ull << (n))

/*
 * The capabilities a container gets when its securityContext says nothing: containerd's
 * oci.defaultUnixCaps() (oci/spec.go), the same 14 as moby's caps.DefaultCapabilities().
 */
#define PP_CAPS_DEFAULT                                                                           \
	(PP_CAP_BIT(PP_CAP_CHOWN) | PP_CAP_BIT(PP_CAP_DAC_OVERRIDE) | PP_CAP_BIT(PP_CAP_FSETID) | \
	 PP_CAP_BIT(PP_CAP_FOWNER) | PP_CAP_BIT(PP_CAP_MKNOD) | PP_CAP_BIT(PP_CAP_NET_RAW) |      \
	 PP_CAP_BIT(PP_CAP_SETGID) | PP_CAP_BIT(PP_CAP_SETUID) | PP_CAP_BIT(PP_CAP_SETFCAP) |     \
	 PP_CAP_BIT(PP_CAP_SETPCAP) | PP_CAP_BIT(PP_CAP_NET_BIND_SERVICE) |                       \
	 PP_CAP_BIT(PP_CAP_SYS_CHROOT) | PP_CAP_BIT(PP_CAP_KILL) | PP_CAP_BIT(PP_CAP_AUDIT_WRITE))

/* "ALL": every capability the kernel has (bits above cap_last_cap are ignored). */
#define PP_CAPS_ALL UINT64_MAX

/*
 * How to start one process (a container, or an exec probe or hook in its context). Plain
 * data, no pointers: the runtime reads it in the child between clone and exec.
 */
struct pp_exec_security {
	bool set_ids;			    /* switch to uid, gid and groups */
	uint32_t uid;			    /* runAsUser */
	uint32_t gid;			    /* runAsGroup */
	uint32_t n_groups;		    /* supplementary groups (setgroups) */
	uint32_t groups[PP_SEC_MAX_GROUPS]; /* supplementalGroups, then fsGroup */
	bool set_caps;			    /* reduce the capability sets to caps */
	uint64_t caps;			    /* bounding set; also permitted/effective for uid 0 */
	bool no_new_privs;		    /* allowPrivilegeEscalation: false */
	int64_t fs_group;		    /* the pod's volumes' group (fsGroup), -1 none */
};

#endif
