/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process runtime: containers as host processes, each in its own process group, with its
 * output in a log file, and in a cgroup leaf below podprobe's own cgroup when that is writable
 * (so the whole tree can be killed and OOM kills seen). Thin effects; decisions live in core.
 */
#ifndef PODPROBE_RUNTIME_H
#define PODPROBE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "podprobe/lifecycle-t.h"

struct pp_runtime {
	char *state_dir;
	char *cg2_root;	  /* <podprobe's v2 cgroup>/podprobe-<pid>, or NULL */
	char *memv1_root; /* the same below podprobe's v1 memory cgroup, or NULL */
	bool cg2_memory;  /* memory.max can be set in v2 leaves */
	bool can_mount;	  /* bind mounts for volumeMounts (CAP_SYS_ADMIN) */
	char **graveyard; /* cgroup dirs to remove once their processes are gone */
	size_t n_graveyard;
};

struct pp_mount_req {
	const char *source; /* host directory */
	const char *target; /* mountPath */
	bool read_only;
};

struct pp_spawn_req {
	const char *pod_key; /* "<namespace>_<pod>": directory names */
	const char *container;
	uint32_t restart; /* the log file's number */
	char *const *argv;
	char *const *envp;
	const char *working_dir; /* NULL: podprobe's working directory */
	const struct pp_mount_req *mounts;
	size_t n_mounts;
	int64_t memory_limit; /* bytes, 0 = none */
};

struct pp_proc {
	pid_t pid; /* also the process group id */
	int pidfd; /* -1 when none */
	char *cg2; /* cgroup leaves, or NULL */
	char *memv1;
};

/* How to start one process: a container's main process, or an exec probe or hook. */
struct pp_exec_spec {
	char *const *argv;
	char *const *envp;	 /* NULL: podprobe's environment */
	const char *working_dir; /* NULL: podprobe's working directory */
	int stdout_fd;		 /* become the process's fds 1 and 2 */
	int stderr_fd;
	const char *join_cgroups[2];	   /* cgroup directories to join, or NULL */
	const struct pp_mount_req *mounts; /* bind mounts in a new private mount namespace */
	size_t n_mounts;
	int mnt_ns_fd; /* or join this mount namespace (a pidfd works), -1 none */
};

/*
 * Start <x> in a new process group with clone3(CLONE_PIDFD | CLONE_VFORK): on return the
 * process has exec'd or failed. Fills <ret_pid> and <ret_pidfd> (CLOEXEC) and returns 0, or
 * returns -errno with a kubelet-style reason in <err> (nothing is left running).
 */
int pp_proc_spawn(const struct pp_exec_spec *x, pid_t *ret_pid, int *ret_pidfd, char *err,
		  size_t errlen);

/*
 * Prepare <rt> with state directory <state_dir> (created): find podprobe's cgroups (v2 and v1
 * memory) and make a podprobe-<pid> cgroup below each when writable. <use_cgroups> false
 * skips cgroups. Returns 0 or -errno (only the state directory is mandatory).
 */
int pp_runtime_init(struct pp_runtime *rt, const char *state_dir, bool use_cgroups);

/* Remove the cgroups made by <rt> (waiting briefly for dying processes). Accepts a zeroed rt. */
void pp_runtime_fini(struct pp_runtime *rt);

/* "<state>/logs/<pod_key>/<container>/<restart>.log" into <buf>. */
int pp_runtime_log_path(const char *state_dir, const char *pod_key, const char *container,
			uint32_t restart, char *buf, size_t size);

/*
 * Create the pod's directory with a fresh, empty directory for each of the <n> volume names
 * (emptyDir). <ret_dir> receives "<state>/pods/<pod_key>/volumes". Returns 0 or -errno.
 */
int pp_runtime_prepare_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes,
			   size_t n, char *ret_dir, size_t size);

/*
 * Start a container process for <req>. On success fills <ret> and returns 0. On failure returns
 * -errno and writes a kubelet-style reason into <err> (e.g. `exec: "x": executable file not
 * found in $PATH`); nothing is left running.
 */
int pp_runtime_spawn(struct pp_runtime *rt, const struct pp_spawn_req *req, struct pp_proc *ret,
		     char *err, size_t errlen);

/* Send <sig> to the container's process group (and, for SIGKILL, to its whole cgroup). */
int pp_runtime_signal(const struct pp_proc *p, int sig);

/*
 * Collect the exit of <p>'s main process if it has ended: kill what is left of the container,
 * read its OOM counter, release its cgroup and pidfd. Returns 0 with <ret> filled, -EAGAIN if
 * it still runs, or -errno.
 */
int pp_runtime_reap(struct pp_runtime *rt, struct pp_proc *p, struct pp_exit_info *ret);

#endif
