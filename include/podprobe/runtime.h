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
#include "podprobe/security-t.h"

struct pp_runtime {
	char *state_dir;
	int dir_fd;	  /* the state directory (checked by pp_statedir_open), -1 none */
	char *cg2_root;	  /* <podprobe's v2 cgroup>/podprobe-<pid>, or NULL */
	int cg2_fd;	  /* cg2_root opened (the leaves are made relative to it), -1 none */
	char *memv1_root; /* the same below podprobe's v1 memory cgroup, or NULL */
	bool cg2_memory;  /* memory.max can be set in v2 leaves */
	bool can_mount;	  /* bind mounts for volumeMounts (CAP_SYS_ADMIN) */
	char **graveyard; /* cgroup dirs to remove once their processes are gone */
	size_t n_graveyard;
	size_t n_untried; /* the graveyard's last ones, not tried since they came or were retried */
	bool defer_tidy;  /* the owner removes them (pp_runtime_tidy()), not each container's end */
};

struct pp_mount_req {
	const char *source; /* host directory (or file), for messages when <detached> */
	const char *target; /* mountPath */
	bool read_only;
	bool file;	 /* the source is not a directory: the target is made as an empty file */
	bool skip_owner; /* fsGroup leaves it alone (hostPath, subPath: kubelet does too) */
	bool detached;	 /* attach the detached mount <tree_fd> (open_tree) instead of <source> */
	int tree_fd;
};

struct pp_spawn_req {
	const char *pod_key; /* "<namespace>_<pod>": directory names */
	const char *container;
	uint32_t restart;    /* the log file's number */
	const char *pod_uid; /* names the cgroup leaf too: a pod's successor of the same name
			      * never shares a cgroup with what is left of it (NULL: none) */
	char *const *argv;
	char *const *envp;
	const char *working_dir; /* NULL: podprobe's working directory */
	const struct pp_mount_req *mounts;
	size_t n_mounts;
	int64_t memory_limit;		    /* bytes, 0 = none */
	const struct pp_exec_security *sec; /* pp_security_resolve()'s, NULL: as podprobe */
};

struct pp_proc {
	pid_t pid; /* also the process group id */
	int pidfd; /* -1 when none */
	char *cg2; /* cgroup leaves, or NULL */
	char *memv1;
	uint64_t start_ticks; /* /proc/PID/stat start time: the process's identity with the pid */
	uint64_t cg2_id;      /* the v2 leaf's cgroup id (its inode number), 0 unknown */
	bool adopted;	      /* started by an earlier podprobe run: not our child */
};

/* How to start one process: a container's main process, or an exec probe or hook. */
struct pp_exec_spec {
	char *const *argv;
	char *const *envp;	 /* NULL: podprobe's environment */
	const char *working_dir; /* NULL: podprobe's working directory */
	int stdout_fd;		 /* become the process's fds 1 and 2 */
	int stderr_fd;
	const char *join_cgroups[2]; /* cgroup directories to join, or NULL */
	int join_cgroup_fd; /* join_cgroups[0] opened (O_DIRECTORY), or 0: opened here by name */
	const struct pp_mount_req *mounts; /* bind mounts in a new private mount namespace */
	size_t n_mounts;
	int mnt_ns_fd; /* or join this mount namespace (a pidfd works), -1 none */
	const struct pp_exec_security *sec; /* identity and capabilities, NULL: podprobe's */
};

/*
 * Raise this process's soft RLIMIT_NOFILE to its hard limit (podprobe holds a pidfd, and
 * pipes or a log file, per process it runs) and remember the soft limit it had, which
 * pp_proc_spawn() gives back to every process it starts (select()-based programs misbehave
 * above 1024). Call once at start-up, before any spawn. Returns 0 or -errno (nothing changed).
 */
int pp_proc_raise_nofile(void);

/*
 * Start <x> in a new process group with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) on a stack
 * of its own, as posix_spawn does: on return the process has exec'd or failed. The child shares
 * podprobe's fd table until it keeps only the fds it needs, and looks the command up in
 * <x>->envp's PATH (podprobe's when envp is NULL, /bin:/usr/bin when there is none) with
 * execvp's rules. Between clone and exec the child joins its cgroups and mount
 * namespace, gets podprobe's original soft RLIMIT_NOFILE back and then takes <x>->sec (bounding
 * set, groups, gid, uid, capability sets, no_new_privs, in that order, as runc does) before
 * changing to the working directory as that user. Fills <ret_pid> and <ret_pidfd> (CLOEXEC)
 * and returns 0, or returns -errno with a kubelet-style reason in <err> (nothing is left
 * running; running out of file descriptors says so).
 */
int pp_proc_spawn(const struct pp_exec_spec *x, pid_t *ret_pid, int *ret_pidfd, char *err,
		  size_t errlen);

/*
 * Prepare <rt> with state directory <state_dir> (created 0700 and checked as by
 * pp_statedir_open(); the caller holds its lock): find podprobe's cgroups (v2 and v1 memory)
 * and make a podprobe-<id> cgroup below each when writable, <id> named after the state
 * directory, so that a restarted run finds the cgroups of the containers it re-adopts (the
 * lock keeps two runs out of one). <use_cgroups> false skips cgroups. It also reserves the
 * calling thread's five low fds on /dev/null that pp_proc_spawn() hands its children through,
 * for the life of the process. Returns 0 or -errno (only the state directory is mandatory).
 */
int pp_runtime_init(struct pp_runtime *rt, const char *state_dir, bool use_cgroups);

/* Remove the cgroups made by <rt> (waiting briefly for dying processes). Accepts a zeroed rt. */
void pp_runtime_fini(struct pp_runtime *rt);

/* "<state>/logs/<pod_key>/<container>/<restart>.log" into <buf>. */
int pp_runtime_log_path(const char *state_dir, const char *pod_key, const char *container,
			uint32_t restart, char *buf, size_t size);

/*
 * Create the pod's directory with a fresh, empty directory (mode 0777, as kubelet makes an
 * emptyDir) for each of the <n> volume names, removing what an earlier run left without
 * following links. Names are checked again (-EINVAL unless DNS labels, <pod_key> as
 * "<ns>_<pod>"). <ret_dir> receives "<state>/pods/<pod_key>/volumes". Returns 0 or -errno.
 */
int pp_runtime_prepare_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes,
			   size_t n, char *ret_dir, size_t size);

/*
 * The same for a pod whose containers an earlier run started and this one re-adopts: the
 * volumes stay as they are (their containers use them); missing ones are made.
 */
int pp_runtime_reuse_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes, size_t n,
			 char *ret_dir, size_t size);

/*
 * The directory of PersistentVolumeClaim <claim> in namespace <ns>, as a local-path provisioner
 * keeps one: "<state>/volumes/pvc/<ns>/<claim>", made (0777) when missing and never removed
 * with a pod. <ns> must be a DNS label and <claim> a DNS subdomain (-EINVAL). Fills <ret_dir>
 * and returns 0, or -errno.
 */
int pp_runtime_claim_dir(struct pp_runtime *rt, const char *ns, const char *claim, char *ret_dir,
			 size_t size);

/*
 * Take over container process <pid> of an earlier podprobe run on this state directory. It
 * must still be the process that run started: the same start time <start_ticks> and, when
 * <cg2> is set, a member of that cgroup (never a pid alone). Returns 0 with <ret> filled
 * (pidfd, copies of <cg2> and <memv1>, adopted) when it runs; 1 with <ret_exit> when it has
 * ended and its status could still be read (a zombie nobody reaped); -ESRCH when it is gone
 * and how it ended is lost. In both ended cases whatever is left in its cgroups is killed and
 * they are removed; a process that is not the container's is never touched.
 */
int pp_runtime_adopt(struct pp_runtime *rt, pid_t pid, uint64_t start_ticks, const char *cg2,
		     const char *memv1, struct pp_proc *ret, struct pp_exit_info *ret_exit);

/*
 * With rt->defer_tidy, an ended container's cgroups wait in the graveyard for the owner, who
 * removes them when it has nothing more urgent to do (a start does not wait for the removal
 * of the last container's cgroup): pp_runtime_tidy() tries up to <max> of those not tried
 * yet (rt->n_untried counts them); pp_runtime_tidy_retry() makes those that could not go yet
 * (processes still exiting) due again. Without it every end tries them all at once.
 */
void pp_runtime_tidy(struct pp_runtime *rt, size_t max);
void pp_runtime_tidy_retry(struct pp_runtime *rt);

/*
 * Kill and remove every container cgroup below <rt>'s roots that is not one of the <n> paths
 * in <keep> (re-adopted containers): what an earlier run left that no record accounts for.
 * Returns the number of those that still held processes.
 */
int pp_runtime_sweep(struct pp_runtime *rt, const char *const *keep, size_t n);

/*
 * Start a container process for <req>. Its output goes to a fresh log file
 * "<state>/logs/<pod_key>/<container>/<restart>.log" (made through directory fds with
 * O_NOFOLLOW, whatever was at that name is replaced, never written through), owned by the
 * container's user when <req>->sec changes it; with an fsGroup the volume directories given
 * as mount sources get that group (setgid, group-writable), as kubelet's
 * SetVolumeOwnership does. On success fills <ret> and returns 0. On failure returns -errno
 * and writes a kubelet-style reason into <err> (e.g. `exec: "x": executable file not found in
 * $PATH`); nothing is left running.
 */
int pp_runtime_spawn(struct pp_runtime *rt, const struct pp_spawn_req *req, struct pp_proc *ret,
		     char *err, size_t errlen);

/*
 * Let go of <p> without touching the process (podprobe ends and leaves it running, e.g. with
 * --keep-pods): close its pidfd, free its cgroup paths. Accepts an empty <p>.
 */
void pp_runtime_forget(struct pp_proc *p);

/*
 * Send <sig> to the container: SIGKILL to its process group and whole cgroup, any other signal
 * (the stop signal) to its main process only, as container runtimes do.
 */
int pp_runtime_signal(const struct pp_proc *p, int sig);

/*
 * Collect the exit of <p>'s main process if it has ended: kill what is left of the container,
 * read its OOM counter, release its cgroup and pidfd. Returns 0 with <ret> filled, -EAGAIN if
 * it still runs, or -errno. An adopted process is not our child: its status comes from the
 * kernel's exit record behind the pidfd, or its zombie's /proc entry, else it is unknown
 * (ret->unknown).
 */
int pp_runtime_reap(struct pp_runtime *rt, struct pp_proc *p, struct pp_exit_info *ret);

#endif
