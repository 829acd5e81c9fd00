// SPDX-License-Identifier: Apache-2.0
/*
 * Containers as processes. A container starts with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)
 * on a stack of its own, as glibc's posix_spawn does: no copy of podprobe's page tables, the
 * pidfd comes back atomically (no pid-reuse race) and, because the parent sleeps until the
 * child has exec'd or failed, a failed exec is known synchronously through a CLOEXEC pipe
 * without blocking on anything else. The child puts itself in its own process group and
 * cgroup leaves before exec, so nothing it forks escapes them.
 */
#include "podprobe/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/naming.h"
#include "podprobe/pod.h"
#include "podprobe/proc_identity.h"
#include "podprobe/statedir.h"

#if defined(__SANITIZE_ADDRESS__)
#define PP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PP_ASAN 1
#endif
#endif
#ifdef PP_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- small file helpers --------------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/* Copy <s> into a filesystem-safe component of at most <max> bytes. */
static void safe_component(const char *s, char *out, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < max; i++)
		out[i] = s[i] == '/' ? '_' : s[i];
	out[i] = '\0';
}

/* ---- cgroups -------------------------------------------------------------------------------- */

/*
 * Find the directory of podprobe's own cgroup in the hierarchy matching <want>: "" for the
 * unified (v2) hierarchy, "memory" for the v1 memory controller.
 */
static int own_cgroup_dir(const char *want, char *buf, size_t size)
{
	char line[4096], cgpath[PATH_MAX] = "", mnt[PATH_MAX] = "", root[PATH_MAX] = "";
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *path;

		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		/* "ID:CONTROLLERS:PATH": cut after ID and after CONTROLLERS. */
		*ctrl++ = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (*want ? strstr(ctrl, want) != NULL && line[0] != '0'
			  : !strcmp(line, "0") && !*ctrl) {
			snprintf(cgpath, sizeof(cgpath), "%s", path);
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found)
		return -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	found = false;
	while (fgets(line, sizeof(line), f)) {
		char r[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024];
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (*want ? !strcmp(fstype, "cgroup") && strstr(opts, want)
			  : !strcmp(fstype, "cgroup2")) {
			snprintf(mnt, sizeof(mnt), "%s", m);
			snprintf(root, sizeof(root), "%s", r);
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	/* The cgroup path is relative to the hierarchy's root; the mount may show a sub-tree. */
	if (strcmp(root, "/") && !strncmp(cgpath, root, strlen(root)))
		memmove(cgpath, cgpath + strlen(root), strlen(cgpath + strlen(root)) + 1);
	if (snprintf(buf, size, "%s%s", mnt, strcmp(cgpath, "/") ? cgpath : "") >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* podprobe-<id>: the same for every run on one state directory (naming.h). */
static void root_name(const char *state_dir, char *buf, size_t size)
{
	char real[PATH_MAX];

	pp_cgroup_root_name(realpath(state_dir, real) ? real : state_dir, buf, size);
}

static char *make_root(const char *want, const char *name)
{
	char own[PATH_MAX], dir[PATH_MAX + 32];

	if (own_cgroup_dir(want, own, sizeof(own)) < 0)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/%s", own, name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return NULL;
	return strdup(dir);
}

/* Enable the memory controller for the children of <dir> (plain v2 nodes). */
static bool enable_memory(const char *dir)
{
	char path[PATH_MAX], buf[512];

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (read_file(path, buf, sizeof(buf)) < 0 || !strstr(buf, "memory"))
		return false;
	return write_file(dir, "cgroup.subtree_control", "+memory") == 0;
}

static bool fd_slots_reserve(void);

int pp_runtime_init(struct pp_runtime *rt, const char *state_dir, bool use_cgroups)
{
	char own[PATH_MAX], msg[PATH_MAX + 128], name[64];
	int err;

	memset(rt, 0, sizeof(*rt));
	rt->dir_fd = -1;
	rt->cg2_fd = -1;
	rt->state_dir = strdup(state_dir);
	if (!rt->state_dir)
		return -ENOMEM;
	err = pp_statedir_open(state_dir, true, msg, sizeof(msg));
	if (err < 0) {
		pp_log(PP_LOG_ERR, "%s", msg);
		return err;
	}
	rt->dir_fd = err;
	rt->can_mount = geteuid() == 0;
	fd_slots_reserve(); /* while podprobe's fds are few (pp_proc_spawn()) */
	if (!use_cgroups)
		return 0;
	root_name(state_dir, name, sizeof(name));
	rt->cg2_root = make_root("", name);
	if (rt->cg2_root)
		rt->cg2_fd = open(rt->cg2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rt->cg2_root && own_cgroup_dir("", own, sizeof(own)) == 0)
		rt->cg2_memory = enable_memory(own) && enable_memory(rt->cg2_root);
	if (!rt->cg2_memory)
		rt->memv1_root = make_root("memory", name);
	pp_log(PP_LOG_DEBUG, "cgroups: v2 %s, memory %s", rt->cg2_root ? rt->cg2_root : "none",
	       rt->cg2_memory	? "v2 memory.max"
	       : rt->memv1_root ? rt->memv1_root
				: "none");
	return 0;
}

static void graveyard_add(struct pp_runtime *rt, char *dir)
{
	char **g = realloc(rt->graveyard, (rt->n_graveyard + 1) * sizeof(*g));

	if (!g) {
		free(dir);
		return;
	}
	rt->graveyard = g;
	rt->graveyard[rt->n_graveyard++] = dir;
	rt->n_untried++;
}

/* <dir>, a leaf below cg2_root, by its name there: a walk of two names instead of the path. */
static const char *below_cg2_root(const struct pp_runtime *rt, const char *dir)
{
	size_t n = rt->cg2_root ? strlen(rt->cg2_root) : 0;

	if (!n || rt->cg2_fd < 0 || strncmp(dir, rt->cg2_root, n) || dir[n] != '/')
		return NULL;
	return dir + n + 1;
}

static int remove_cgroup(const struct pp_runtime *rt, const char *dir)
{
	const char *rel = below_cg2_root(rt, dir);

	return rel ? unlinkat(rt->cg2_fd, rel, AT_REMOVEDIR) : rmdir(dir);
}

/*
 * rmdir up to <max> of the graveyard from <from> on; keep what cannot go yet for later. The
 * untried entries are the last n_untried, so trying them in order keeps them last.
 */
static void graveyard_try(struct pp_runtime *rt, size_t from, size_t max)
{
	size_t i, kept = from, tried = 0;

	for (i = from; i < rt->n_graveyard; i++) {
		if (tried < max) {
			tried++;
			if (remove_cgroup(rt, rt->graveyard[i]) == 0 || errno == ENOENT) {
				free(rt->graveyard[i]);
				continue;
			}
		}
		rt->graveyard[kept++] = rt->graveyard[i];
	}
	rt->n_graveyard = kept;
	rt->n_untried = rt->n_untried > tried ? rt->n_untried - tried : 0;
}

/* rmdir what can go now; keep the rest for later. */
static void graveyard_sweep(struct pp_runtime *rt)
{
	graveyard_try(rt, 0, SIZE_MAX);
	rt->n_untried = 0;
}

void pp_runtime_tidy(struct pp_runtime *rt, size_t max)
{
	if (rt->n_untried)
		graveyard_try(rt, rt->n_graveyard - rt->n_untried, max);
}

void pp_runtime_tidy_retry(struct pp_runtime *rt)
{
	rt->n_untried = rt->n_graveyard;
}

/* rmdir every directory below and including <root>, children first. */
static void rm_cgroup_tree(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", root, e->d_name);
		rm_cgroup_tree(sub);
	}
	closedir(d);
	rmdir(root);
}

void pp_runtime_fini(struct pp_runtime *rt)
{
	pp_nsec until = pp_clock_now() + PP_NSEC_PER_SEC;

	if (!rt)
		return;
	graveyard_sweep(rt);
	while (rt->n_graveyard && pp_clock_now() < until) {
		poll(NULL, 0, 10); /* killed processes still exiting: at most 1 s at shutdown */
		graveyard_sweep(rt);
	}
	for (size_t i = 0; i < rt->n_graveyard; i++)
		free(rt->graveyard[i]);
	free(rt->graveyard);
	if (rt->cg2_root)
		rm_cgroup_tree(rt->cg2_root);
	if (rt->memv1_root)
		rm_cgroup_tree(rt->memv1_root);
	if (rt->cg2_root && rt->cg2_fd >= 0)
		close(rt->cg2_fd);
	free(rt->cg2_root);
	free(rt->memv1_root);
	/* A zeroed rt never opened a directory (its fd 0 is not ours). */
	if (rt->state_dir && rt->dir_fd >= 0)
		close(rt->dir_fd);
	free(rt->state_dir);
	memset(rt, 0, sizeof(*rt));
	rt->dir_fd = -1;
	rt->cg2_fd = -1;
}

/*
 * Make <root>/<pod_key>/<leaf>; returns the leaf path or NULL. With <root_fd> (>= 0, <root>
 * opened) the directories are made relative to it, two names to walk for each instead of the
 * whole path, and with <ret_fd> the leaf is opened into it (for CLONE_INTO_CGROUP and its id;
 * 0 when it could not be, as pp_exec_spec.join_cgroup_fd has it).
 */
static char *make_leaf(const char *root, int root_fd, const char *pod_key, const char *leaf,
		       bool memory, int *ret_fd)
{
	const int at = root_fd >= 0 ? root_fd : AT_FDCWD;
	const char *base = root_fd >= 0 ? "" : root, *sep = root_fd >= 0 ? "" : "/";
	char dir[PATH_MAX], key[200];
	int fd;

	if (ret_fd)
		*ret_fd = 0;
	safe_component(pod_key, key, sizeof(key));
	snprintf(dir, sizeof(dir), "%s%s%s", base, sep, key);
	if (mkdirat(at, dir, 0755) < 0 && errno != EEXIST)
		return NULL;
	if (memory) {
		snprintf(dir, sizeof(dir), "%s/%s", root, key);
		enable_memory(dir);
	}
	snprintf(dir, sizeof(dir), "%s%s%s/%s", base, sep, key, leaf);
	if (mkdirat(at, dir, 0755) < 0 && errno != EEXIST)
		return NULL;
	if (ret_fd) {
		fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == 0)
			close(fd); /* 0 means none: spawn_into_cgroup() opens it by name */
		*ret_fd = fd > 0 ? fd : 0;
	}
	snprintf(dir, sizeof(dir), "%s/%s/%s", root, key, leaf);
	return strdup(dir);
}

/* ---- paths and volumes ----------------------------------------------------------------------- */

int pp_runtime_log_path(const char *state_dir, const char *pod_key, const char *container,
			uint32_t restart, char *buf, size_t size)
{
	char key[200];
	int n;

	safe_component(pod_key, key, sizeof(key));
	n = snprintf(buf, size, "%s/logs/%s/%s/%u.log", state_dir, key, container, restart);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Open (making them, 0700) the directories <a>/<b>/<c> below the state directory. */
static int open_dirs(struct pp_runtime *rt, const char *a, const char *b, const char *c)
{
	const char *names[] = {a, b, c};
	int fd = rt->dir_fd, next;

	if (fd < 0)
		return -EBADF;
	for (size_t i = 0; i < 3 && names[i]; i++) {
		next = pp_statedir_mkdirat(fd, names[i], 0700);
		if (fd != rt->dir_fd)
			close(fd);
		if (next < 0)
			return next;
		fd = next;
	}
	return fd == rt->dir_fd ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
}

static int prepare_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes, size_t n,
		       bool keep, char *ret_dir, size_t size)
{
	int pod_fd, vol_fd = -1, err = 0;

	if (!pp_statedir_pod_key_ok(pod_key))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pp_statedir_name_ok(volumes[i]))
			return -EINVAL;
	pod_fd = open_dirs(rt, "pods", pod_key, NULL);
	if (pod_fd < 0)
		return pod_fd;
	/*
	 * emptyDir: a fresh directory for each new pod; a re-adopted one keeps its own. A pod
	 * without volumes gets none (nothing is written there), only an old one's goes.
	 */
	if (!keep)
		err = pp_statedir_remove_tree(pod_fd, "volumes");
	if (err == 0 && n) {
		vol_fd = pp_statedir_mkdirat(pod_fd, "volumes", 0700);
		err = vol_fd < 0 ? vol_fd : 0;
	}
	for (size_t i = 0; err == 0 && i < n; i++) {
		struct stat st;
		int fd;

		if (keep && fstatat(vol_fd, volumes[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			continue; /* as the running containers left it (fsGroup, contents) */
		fd = pp_statedir_mkdirat(vol_fd, volumes[i], 0777);
		if (fd < 0) {
			err = fd;
			break;
		}
		/* World-writable as kubelet makes an emptyDir (the umask would narrow it). */
		if (fchmod(fd, 0777) < 0)
			err = -errno;
		close(fd);
	}
	if (vol_fd >= 0)
		close(vol_fd);
	close(pod_fd);
	if (err == 0 &&
	    snprintf(ret_dir, size, "%s/pods/%s/volumes", rt->state_dir, pod_key) >= (int)size)
		err = -ENAMETOOLONG;
	return err;
}

int pp_runtime_prepare_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes,
			   size_t n, char *ret_dir, size_t size)
{
	return prepare_pod(rt, pod_key, volumes, n, false, ret_dir, size);
}

int pp_runtime_reuse_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes, size_t n,
			 char *ret_dir, size_t size)
{
	return prepare_pod(rt, pod_key, volumes, n, true, ret_dir, size);
}

int pp_runtime_claim_dir(struct pp_runtime *rt, const char *ns, const char *claim, char *ret_dir,
			 size_t size)
{
	int ns_fd, fd, err = 0;

	if (!pp_is_dns1123_label(ns) || !pp_is_dns1123_subdomain(claim))
		return -EINVAL;
	ns_fd = open_dirs(rt, "volumes", "pvc", ns);
	if (ns_fd < 0)
		return ns_fd;
	fd = pp_statedir_mkdirat(ns_fd, claim, 0777);
	close(ns_fd);
	if (fd < 0)
		return fd;
	/* World-writable as local-path-provisioner makes it (the umask would narrow it). */
	if (fchmod(fd, 0777) < 0)
		err = -errno;
	close(fd);
	if (err == 0 &&
	    snprintf(ret_dir, size, "%s/volumes/pvc/%s/%s", rt->state_dir, ns, claim) >= (int)size)
		err = -ENAMETOOLONG;
	return err;
}

/* ---- spawning -------------------------------------------------------------------------------- */

/*
 * RLIMIT_NOFILE as podprobe found it, given back to the processes it starts; set once by
 * pp_proc_raise_nofile() before anything is spawned, read-only afterwards.
 */
static struct rlimit child_nofile;
static bool child_nofile_set;

int pp_proc_raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	if (r.rlim_cur >= r.rlim_max)
		return 0;
	child_nofile = r;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r) < 0)
		return -errno;
	child_nofile_set = true;
	return 0;
}

/*
 * "<what>: <strerror>", and for EMFILE/ENFILE what ran out, so that fd exhaustion reads as
 * such in the StartError event and never as a mystery.
 */
static void describe_errno(char *err, size_t errlen, const char *what, int e)
{
	struct rlimit r = {0};

	if (e == EMFILE && getrlimit(RLIMIT_NOFILE, &r) == 0)
		snprintf(err, errlen,
			 "%s: %s (podprobe is out of file descriptors: its limit is %llu, raise it "
			 "with ulimit -n or LimitNOFILE=)",
			 what, strerror(e), (unsigned long long)r.rlim_cur);
	else if (e == ENFILE)
		snprintf(err, errlen, "%s: %s (the system-wide file table is full: fs.file-max)",
			 what, strerror(e));
	else
		snprintf(err, errlen, "%s: %s", what, strerror(e));
}

enum child_stage {
	STAGE_SETUP = 0,
	STAGE_CGROUP,
	STAGE_MOUNT,
	STAGE_SECURITY,
	STAGE_CHDIR,
	STAGE_EXEC,
	_STAGE_MAX,
};

/* What STAGE_SECURITY was doing (child_error.index). */
enum sec_step {
	SEC_BOUNDING = 0,
	SEC_GROUPS,
	SEC_GID,
	SEC_UID,
	SEC_CAPS,
	SEC_NO_NEW_PRIVS,
	_SEC_MAX,
};

static const char *const sec_step_names[_SEC_MAX] = {
	[SEC_BOUNDING] = "dropping capabilities from the bounding set",
	[SEC_GROUPS] = "setting the supplemental groups",
	[SEC_GID] = "setting the group id",
	[SEC_UID] = "setting the user id",
	[SEC_CAPS] = "setting the capabilities",
	[SEC_NO_NEW_PRIVS] = "setting no_new_privs",
};

struct child_error {
	int err;   /* positive errno */
	int stage; /* enum child_stage */
	int index; /* which mount, or enum sec_step */
};

/*
 * Take on <s> in the child, with raw system calls only (glibc's set*id wrappers would try to
 * reach the parent's threads). The order is runc's (libcontainer/init_linux.go
 * finalizeNamespace): bounding set while CAP_SETPCAP is still there, then groups, gid and
 * uid, then the capability sets. Like containerd and moby (oci.SetCapabilities) only uid 0
 * keeps permitted and effective capabilities: for another uid they are cleared by setresuid,
 * as execve would clear them anyway; inheritable and ambient are always empty.
 */
static int take_security(const struct pp_exec_security *s, struct child_error *ce)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	ce->stage = STAGE_SECURITY;
	if (s->set_caps) {
		ce->index = SEC_BOUNDING;
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		for (unsigned long cap = 0; cap < 64; cap++) {
			if (s->caps & (1ull << cap) || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
				continue;
			if (errno != EINVAL)
				return -1;
			break; /* beyond the kernel's cap_last_cap, as is every higher one */
		}
	}
	if (s->set_ids) {
		ce->index = SEC_GROUPS;
		if (syscall(SYS_setgroups, (size_t)s->n_groups, s->groups) < 0)
			return -1;
		ce->index = SEC_GID;
		if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) < 0)
			return -1;
		ce->index = SEC_UID;
		if (syscall(SYS_setresuid, s->uid, s->uid, s->uid) < 0)
			return -1;
	}
	if (s->set_caps) {
		ce->index = SEC_CAPS;
		if (syscall(SYS_capget, &hdr, data) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			uint32_t want = (uint32_t)(s->caps >> (32 * i));

			data[i].permitted &= want;
			data[i].effective = data[i].permitted;
			data[i].inheritable = 0;
		}
		if (syscall(SYS_capset, &hdr, data) < 0)
			return -1;
	}
	ce->index = SEC_NO_NEW_PRIVS;
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return 0;
}

/* A file to bind a file onto: made empty when missing, left as it is otherwise. */
static int make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

/* What the child gets: everything is prepared by the parent, the child only reads it. */
struct child_args {
	const struct pp_exec_spec *x;
	char *const *envp;   /* x->envp or podprobe's environment */
	const char *path;    /* the $PATH execvp would search in <envp> */
	int err_fd;	     /* the CLOEXEC error pipe */
	int out_fd, eout_fd; /* become fds 1 and 2 */
	int ns_fd;	     /* the mount namespace to join, or -1 */
	int keep_below;	     /* >= 0: the fd table is podprobe's (CLONE_FILES); keep only these */
	bool in_cgroup;	     /* born in join_cgroups[0] (CLONE_INTO_CGROUP): not joined again */
	const sigset_t *reset_signals; /* back to SIG_DFL before exec (reset_signals()) */
};

/* glibc's default search path when the environment has none (posix/execvpe.c: _CS_PATH). */
#define DEFAULT_EXEC_PATH "/bin:/usr/bin"

/* The PATH of <envp> as getenv() would find it (the first one), else the default. */
static const char *exec_path(char *const *envp)
{
	const char *p;

	if (!envp)
		return (p = getenv("PATH")) ? p : DEFAULT_EXEC_PATH;
	for (; *envp; envp++)
		if (!strncmp(*envp, "PATH=", 5))
			return *envp + 5;
	return DEFAULT_EXEC_PATH;
}

/*
 * The rest of the child's work, from here to exec, runs on its own stack in podprobe's memory
 * (CLONE_VM) while podprobe sleeps (CLONE_VFORK), as glibc's posix_spawn child does
 * (sysdeps/unix/sysv/linux/spawni.c): it writes nothing but its own stack, errno and its
 * error record, allocates nothing, takes no lock and uses no stdio; only system calls and
 * string functions.
 */

/* glibc's maybe_script_execute(): a file the kernel cannot run (ENOEXEC) goes to /bin/sh. */
static void exec_script(const char *file, char *const *argv, char *const *envp)
{
	size_t argc = 1;

	while (argv[argc])
		argc++;
	{
		/* Room for it is on the child's stack (child_stack_top()). */
		char *sh_argv[argc + 2];

		sh_argv[0] = (char *)"/bin/sh";
		sh_argv[1] = (char *)file;
		memcpy(sh_argv + 2, argv + 1, argc * sizeof(*argv)); /* argv[1..argc-1], NULL */
		execve(sh_argv[0], sh_argv, envp);
	}
}

/*
 * execvpe(3) over <path> without touching environ: glibc's posix/execvpe.c __execvpe_common.
 * An empty element is the working directory; EACCES is remembered and the search goes on;
 * errors other than "not here" stop it. Returns with errno set.
 */
static void exec_search(char *const *argv, char *const *envp, const char *path)
{
	const char *file = argv[0], *p, *end;
	char buf[PATH_MAX];
	bool eacces = false;
	size_t flen, dlen;

	if (!*file) {
		errno = ENOENT;
		return;
	}
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		if (errno == ENOEXEC)
			exec_script(file, argv, envp);
		return;
	}
	flen = strnlen(file, NAME_MAX + 1);
	if (flen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return;
	}
	errno = ENOENT;
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		if (dlen + 1 + flen < sizeof(buf)) {
			memcpy(buf, p, dlen);
			if (dlen)
				buf[dlen++] = '/';
			memcpy(buf + dlen, file, flen + 1);
			execve(buf, argv, envp);
			if (errno == ENOEXEC)
				exec_script(buf, argv, envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				/* fallthrough */
			case ENOENT:
			case ESTALE:
			case ENOTDIR:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				return;
			}
		}
		if (!*end)
			break;
	}
	if (eacces)
		errno = EACCES;
}

/*
 * Signals: the parent blocks them all around clone, so none reaches the child before it is
 * ready. A handler of podprobe's would run here on podprobe's memory, so every caught signal
 * goes back to SIG_DFL (as execve would do) before the mask opens, as glibc's __spawni_child
 * does; SIGPIPE, ignored by podprobe, is the program's default again. Which signals those are
 * the parent found out once (child_signals_init()): the child resets only them instead of
 * asking for all 64 dispositions while podprobe waits (CLONE_VFORK).
 */
static int reset_signals(const sigset_t *reset)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(reset, sig) == 1 && sigaction(sig, &sa, NULL) < 0)
			return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * ASan would take the child's stack for a foreign one at every noreturn call and say so
 * (__asan_handle_no_return, google/sanitizers#189): the two functions that make them are left
 * uninstrumented; what they call is checked as everywhere.
 */
#define CHILD_ENTRY __attribute__((no_sanitize("address")))

static void CHILD_ENTRY __attribute__((noreturn)) child_exec(const struct child_args *a)
{
	const struct pp_exec_spec *x = a->x;
	struct child_error ce = {0};
	int null_fd;

	ce.stage = STAGE_SETUP;
	/*
	 * A table of our own with only the fds below keep_below, podprobe's low fds and the
	 * slots (fd_slots_fill()): the kernel copies nothing above (close_range(2),
	 * CLOSE_RANGE_UNSHARE: dup_fd() punches the hole), and exec has nothing to close.
	 * Kernels without it copy the whole table, as without CLONE_FILES.
	 */
	if (a->keep_below >= 0 &&
	    syscall(SYS_close_range, a->keep_below, ~0U, CLOSE_RANGE_UNSHARE) < 0 &&
	    unshare(CLONE_FILES) < 0)
		goto fail;
	if (setpgid(0, 0) < 0)
		goto fail;

	ce.stage = STAGE_CGROUP;
	for (size_t i = a->in_cgroup ? 1 : 0; i < 2; i++)
		if (x->join_cgroups[i] && write_file(x->join_cgroups[i], "cgroup.procs", "0") < 0)
			goto fail;

	ce.stage = STAGE_MOUNT;
	if (a->ns_fd >= 0 && setns(a->ns_fd, CLONE_NEWNS) < 0)
		goto fail;
	if (x->n_mounts) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			goto fail;
		for (size_t i = 0; i < x->n_mounts; i++) {
			const struct pp_mount_req *m = &x->mounts[i];

			ce.index = (int)i;
			if (pp_mkdir_parents(m->target, 0755, !m->file) < 0 ||
			    (m->file && make_file(m->target) < 0))
				goto fail;
			/*
			 * A subPath comes opened (never by name: a link could be swapped in) as a
			 * detached copy of its tree, which may join this new namespace.
			 */
			if (m->detached
				    ? move_mount(m->tree_fd, "", AT_FDCWD, m->target,
						 MOVE_MOUNT_F_EMPTY_PATH) < 0
				    : mount(m->source, m->target, NULL, MS_BIND | MS_REC, NULL) < 0)
				goto fail;
			if (m->read_only && mount(NULL, m->target, NULL,
						  MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
				goto fail;
		}
	}

	ce.stage = STAGE_SETUP;
	ce.index = 0;
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(a->out_fd, 1) < 0 ||
	    dup2(a->eout_fd, 2) < 0)
		goto fail;
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* Last of the fd work: a lower soft limit only bites new fds, and none come now. */
	if (child_nofile_set && setrlimit(RLIMIT_NOFILE, &child_nofile) < 0)
		goto fail;

	if (x->sec && take_security(x->sec, &ce) < 0)
		goto fail;

	/* As the container's user, as runc does: its permissions decide. */
	ce.stage = STAGE_CHDIR;
	if (x->working_dir && chdir(x->working_dir) < 0)
		goto fail;

	ce.stage = STAGE_SETUP;
	if (reset_signals(a->reset_signals) < 0)
		goto fail;
	ce.stage = STAGE_EXEC;
	exec_search(x->argv, a->envp, a->path); /* the container's PATH (kubelet passes its env) */
fail:
	ce.err = errno;
	if (write(a->err_fd, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

static int CHILD_ENTRY child_main(void *arg)
{
	child_exec(arg);
}

/*
 * The child's stack, mapped once per thread and reused: the thread sleeps while its child
 * runs on it (CLONE_VFORK), and it only grows for a longer argv (exec_script() copies it).
 * A PROT_NONE page below it turns an overflow into a fault instead of podprobe's memory.
 */
static __thread char *child_stack;
static __thread size_t child_stack_len;

/*
 * The deepest path is child_exec() -> exec_search() (PATH_MAX) -> exec_script() (argv) or
 * -> write_file()/pp_mkdir_parents() (PATH_MAX each); 64 KiB leaves room for libc and for
 * sanitizer frames. Pages never touched cost nothing.
 */
#define CHILD_STACK_BASE (64 * 1024)

static void *child_stack_top(size_t argc)
{
	size_t page = (size_t)getpagesize();
	size_t len = (CHILD_STACK_BASE + (argc + 2) * sizeof(char *) + page - 1) & ~(page - 1);
	char *p;

	if (child_stack_len < len) {
		p = mmap(NULL, len + page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (mprotect(p, page, PROT_NONE) < 0) {
			munmap(p, len + page);
			return NULL;
		}
		if (child_stack)
			munmap(child_stack - page, child_stack_len + page);
		child_stack = p + page;
		child_stack_len = len;
	}
	/* The frames the last child left behind are garbage, not poisoned memory. */
	ASAN_UNPOISON_MEMORY_REGION(child_stack, child_stack_len);
	return child_stack + child_stack_len; /* it grows down */
}

static void describe_failure(const struct pp_exec_spec *x, const struct child_error *ce, char *err,
			     size_t errlen)
{
	char what[PATH_MAX + 64];

	switch (ce->stage) {
	case STAGE_EXEC:
		if (ce->err == ENOENT && !strchr(x->argv[0], '/'))
			snprintf(err, errlen, "exec: \"%s\": executable file not found in $PATH",
				 x->argv[0]);
		else
			snprintf(err, errlen, "exec: \"%s\": %s", x->argv[0], strerror(ce->err));
		break;
	case STAGE_CHDIR:
		snprintf(err, errlen, "chdir to workingDir \"%s\" failed: %s", x->working_dir,
			 strerror(ce->err));
		break;
	case STAGE_MOUNT:
		if (ce->index < (int)x->n_mounts)
			snprintf(err, errlen, "mount volume at \"%s\" failed: %s%s",
				 x->mounts[ce->index].target, strerror(ce->err),
				 ce->err == EPERM
					 ? " (volumeMounts need root in the process runtime)"
					 : "");
		else
			snprintf(err, errlen, "entering the container's mount namespace failed: %s",
				 strerror(ce->err));
		break;
	case STAGE_CGROUP:
		snprintf(err, errlen, "joining the container's cgroup failed: %s",
			 strerror(ce->err));
		break;
	case STAGE_SECURITY:
		if (ce->index == SEC_UID || ce->index == SEC_GID)
			snprintf(what, sizeof(what), "%s to %u (securityContext)",
				 sec_step_names[ce->index],
				 ce->index == SEC_UID ? x->sec->uid : x->sec->gid);
		else
			snprintf(what, sizeof(what), "%s (securityContext)",
				 ce->index >= 0 && ce->index < _SEC_MAX ? sec_step_names[ce->index]
									: "?");
		describe_errno(err, errlen, what, ce->err);
		break;
	default:
		describe_errno(err, errlen, "process set-up failed", ce->err);
	}
}

/*
 * Fd slots: a few low fds (>= 3) of this thread, reserved on /dev/null, into which the fds a
 * child needs are dup'd just before it starts. The child then shares podprobe's table
 * (CLONE_FILES) and keeps only what is below the last slot, however many fds podprobe holds
 * (a pidfd and log files per container): neither copying them at clone nor closing them at
 * exec. fd_slots[FD_NULL] stays on /dev/null to put the others back. fd_slots[FD_PIPE] holds
 * the write end of this thread's error pipe for good (err_pipe_rd is its read end): a failed
 * child writes its record there before it exits, so by the time CLONE_VFORK lets the parent
 * go on the record is in the pipe or there is none, and a non-blocking read tells which
 * without a pipe per spawn (glibc's spawni.c makes one each time, as podprobe did).
 */
enum fd_slot {
	FD_OUT = 0,
	FD_EOUT,
	FD_PIPE,
	FD_NS,
	FD_NULL,
	_FD_MAX,
};

static __thread int fd_slots[_FD_MAX] = {-1, -1, -1, -1, -1};
static __thread int err_pipe_rd = -1;

/* Reserve the slots and the error pipe, once per thread; false when they cannot be had. */
static bool fd_slots_reserve(void)
{
	int tmp, pipefd[2], i;

	if (fd_slots[FD_NULL] >= 0)
		return true;
	tmp = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (tmp < 0)
		return false;
	for (i = 0; i < _FD_MAX; i++) {
		fd_slots[i] = fcntl(tmp, F_DUPFD_CLOEXEC, 3);
		if (fd_slots[i] < 0)
			break;
	}
	close(tmp);
	if (i == _FD_MAX && pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == 0) {
		if (dup3(pipefd[1], fd_slots[FD_PIPE], O_CLOEXEC) >= 0) {
			close(pipefd[1]);
			err_pipe_rd = pipefd[0];
			return true;
		}
		close(pipefd[0]);
		close(pipefd[1]);
	}
	while (i-- > 0) {
		close(fd_slots[i]);
		fd_slots[i] = -1;
	}
	return false;
}

/* Put the slots fd_slots_fill() filled back on /dev/null, dropping what it put there. */
static void fd_slots_clear(bool ns)
{
	dup3(fd_slots[FD_NULL], fd_slots[FD_OUT], O_CLOEXEC);
	dup3(fd_slots[FD_NULL], fd_slots[FD_EOUT], O_CLOEXEC);
	if (ns)
		dup3(fd_slots[FD_NULL], fd_slots[FD_NS], O_CLOEXEC);
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#if defined(__x86_64__) && defined(SYS_clone3)
/*
 * clone3(2) onto <stack> (<size> bytes), running <fn>(<arg>) there in the child. glibc exports
 * no clone3, and syscall() would return into a stack the child does not have: the call is
 * made here, and the child goes straight from the system call to <fn> (the kernel starts it
 * at stack + size, 16-byte aligned, so the call leaves the ABI's alignment), then exit(2).
 * Returns the pid, or -errno.
 */
static long clone3_on_stack(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %[arg], %%rdi\n\t"
			 "call *%[fn]\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[nr_exit], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(ca),
			   "S"(sizeof(*ca)), [fn] "r"(fn), [arg] "r"(arg), [nr_exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	return ret;
}
#define HAVE_CLONE3_ON_STACK 1
#endif

/*
 * Start the child in its cgroup v2 leaf (CLONE_INTO_CGROUP, Linux 5.7) instead of having it
 * write cgroup.procs: a migration takes cgroup_threadgroup_rwsem for writing, whose RCU grace
 * period the parent sleeps through (CLONE_VFORK) - about 0.45 ms per container here. Returns
 * the pid, or -errno; -ENOSYS when the caller should use clone() and the write instead.
 */
static long spawn_into_cgroup(const struct pp_exec_spec *x, int flags, void *stack_top,
			      struct child_args *a, int *ret_pidfd)
{
#ifdef HAVE_CLONE3_ON_STACK
	static bool unsupported;
	struct clone_args ca = {0};
	long pid;
	int cg;

	if (unsupported || !x->join_cgroups[0])
		return -ENOSYS;
	cg = x->join_cgroup_fd > 0 ? x->join_cgroup_fd
				   : open(x->join_cgroups[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -ENOSYS; /* the child's write says what is wrong */
	ca.flags = ((uint64_t)flags & ~(uint64_t)0xff) | CLONE_INTO_CGROUP;
	ca.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
	ca.exit_signal = (uint64_t)(flags & 0xff);
	ca.stack = (uint64_t)(uintptr_t)child_stack;
	ca.stack_size = (uint64_t)((char *)stack_top - child_stack);
	ca.cgroup = (uint64_t)cg;
	a->in_cgroup = true;
	pid = clone3_on_stack(&ca, child_main, a);
	if (cg != x->join_cgroup_fd)
		close(cg);
	if (pid < 0) {
		a->in_cgroup = false;
		/* No clone3 or no CLONE_INTO_CGROUP here: not again. Other errors are clone's. */
		if (pid == -ENOSYS || pid == -EINVAL || pid == -E2BIG)
			unsupported = true;
		return pid == -EMFILE || pid == -ENFILE || pid == -ENOMEM || pid == -EAGAIN
			       ? pid
			       : -ENOSYS;
	}
	return pid;
#else
	(void)x, (void)flags, (void)stack_top, (void)a, (void)ret_pidfd;
	return -ENOSYS;
#endif
}

/*
 * Copy the fds of <x> into the slots (reserved) and point <a> at them; false (nothing changed)
 * when the child needs other fds of podprobe's: detached mount trees.
 */
static bool fd_slots_fill(const struct pp_exec_spec *x, struct child_args *a)
{
	int top = 0;

	for (size_t i = 0; i < x->n_mounts; i++)
		if (x->mounts[i].detached)
			return false;
	if (dup3(x->stdout_fd, fd_slots[FD_OUT], O_CLOEXEC) < 0 ||
	    dup3(x->stderr_fd, fd_slots[FD_EOUT], O_CLOEXEC) < 0 ||
	    (x->mnt_ns_fd >= 0 && dup3(x->mnt_ns_fd, fd_slots[FD_NS], O_CLOEXEC) < 0)) {
		fd_slots_clear(x->mnt_ns_fd >= 0);
		return false;
	}
	for (int i = 0; i < _FD_MAX; i++)
		top = fd_slots[i] > top ? fd_slots[i] : top;
	a->out_fd = fd_slots[FD_OUT];
	a->eout_fd = fd_slots[FD_EOUT];
	a->ns_fd = x->mnt_ns_fd >= 0 ? fd_slots[FD_NS] : -1;
	a->keep_below = top + 1;
	return true;
}

/*
 * The signals a child resets (reset_signals()): SIGPIPE, which podprobe ignores from
 * pp_supervisor_run() or pp_watch_run() on (a no-op where it does not), and those it catches.
 * Which it catches is taken once, at the first spawn: podprobe installs no handler of its own
 * (signals come through signalfd and the ring) and a sanitizer's come before main().
 */
static sigset_t child_signals;
static pthread_once_t child_signals_once = PTHREAD_ONCE_INIT;

static void child_signals_init(void)
{
	struct sigaction sa;

	sigemptyset(&child_signals);
	sigaddset(&child_signals, SIGPIPE);
	for (int sig = 1; sig < NSIG; sig++) {
		/* EINVAL: SIGKILL, SIGSTOP and glibc's own signals. */
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			sigaddset(&child_signals, sig);
	}
}

int pp_proc_spawn(const struct pp_exec_spec *x, pid_t *ret_pid, int *ret_pidfd, char *err,
		  size_t errlen)
{
	struct child_args a = {.x = x, .keep_below = -1};
	struct child_error ce;
	sigset_t all, old;
	int pipefd[2] = {-1, -1}, rd, pidfd = -1, rc;
	int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD;
	bool slots = false;
	size_t argc = 0;
	void *stack;
	pid_t pid;
	ssize_t n;

	if (!x->argv || !x->argv[0]) {
		snprintf(err, errlen, "no command to run");
		return -EINVAL;
	}
	while (x->argv[argc])
		argc++;
	stack = child_stack_top(argc);
	if (!stack) {
		rc = -errno;
		describe_errno(err, errlen, "mmap of the child's stack", errno);
		return rc;
	}
	pthread_once(&child_signals_once, child_signals_init);
	a.reset_signals = &child_signals;
	a.envp = x->envp ? x->envp : environ;
	a.path = exec_path(x->envp);
	a.out_fd = x->stdout_fd;
	a.eout_fd = x->stderr_fd;
	a.ns_fd = x->mnt_ns_fd;
	if (fd_slots_reserve()) {
		/* The thread's error pipe, in the child's table whether shared or copied. */
		a.err_fd = fd_slots[FD_PIPE];
		rd = err_pipe_rd;
		slots = fd_slots_fill(x, &a);
		if (slots)
			flags |= CLONE_FILES;
	} else {
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			rc = -errno;
			describe_errno(err, errlen, "pipe", errno);
			return rc;
		}
		a.err_fd = pipefd[1];
		rd = pipefd[0];
	}
	/*
	 * CLONE_VM: no copy of podprobe's page tables for the child, and no teardown of that copy
	 * at its exec; CLONE_VFORK: podprobe sleeps until the child has exec'd or died, so the
	 * child may use its memory (glibc's posix_spawn, spawni.c). glibc's clone() switches to
	 * the child's stack, which the syscall() wrapper of clone3 cannot; the kernel does the
	 * same either way and returns the pidfd through parent_tid (CLONE_PIDFD, kernel 5.2).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = (pid_t)spawn_into_cgroup(x, flags, stack, &a, &pidfd);
	if (pid == -ENOSYS) {
		pid = clone(child_main, stack, flags, &a, &pidfd);
		rc = pid < 0 ? -errno : 0;
	} else {
		rc = pid < 0 ? pid : 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (slots)
		fd_slots_clear(x->mnt_ns_fd >= 0);
	if (pid < 0) {
		describe_errno(err, errlen, "clone", -rc);
		goto out;
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	pipefd[1] = -1;
	/*
	 * The child has exec'd or failed by now: a failure's record is in the pipe (the thread's
	 * gives EAGAIN when there is none; a pipe of this spawn's own, 0 once exec closed it).
	 */
	n = read(rd, &ce, sizeof(ce));
	if (n == (ssize_t)sizeof(ce)) {
		siginfo_t si;

		describe_failure(x, &ce, err, errlen);
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
		rc = -ce.err;
		goto out;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	rc = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return rc;
}

static void release_cgroups(struct pp_runtime *rt, struct pp_proc *p)
{
	if (p->cg2)
		graveyard_add(rt, p->cg2);
	if (p->memv1)
		graveyard_add(rt, p->memv1);
	p->cg2 = p->memv1 = NULL;
	if (!rt->defer_tidy)
		graveyard_sweep(rt);
}

/*
 * A fresh log file for <req> (see pp_runtime_spawn()), as an fd, or -errno with the reason in
 * <err>. Names are checked again here: they become path components.
 */
static int open_log(struct pp_runtime *rt, const struct pp_spawn_req *req, char *err, size_t errlen)
{
	const struct pp_exec_security *sec = req->sec;
	char name[32], path[PATH_MAX], what[PATH_MAX + 32];
	int dir_fd, fd;

	pp_runtime_log_path(rt->state_dir, req->pod_key, req->container, req->restart, path,
			    sizeof(path));
	if (!pp_statedir_pod_key_ok(req->pod_key) || !pp_statedir_name_ok(req->container)) {
		snprintf(err, errlen, "cannot open log file \"%s\": invalid pod or container name",
			 path);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%u.log", req->restart);
	dir_fd = open_dirs(rt, "logs", req->pod_key, req->container);
	fd = dir_fd;
	if (dir_fd >= 0) {
		/*
		 * A new file, replacing whatever is there (a planted link stays unfollowed and
		 * goes): usually nothing is, so the unlink comes only after the create found
		 * something.
		 */
		const int flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC;

		fd = openat(dir_fd, name, flags, 0640);
		if (fd < 0 && errno == EEXIST)
			fd = unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT
				     ? -1
				     : openat(dir_fd, name, flags, 0640);
		if (fd < 0)
			fd = -errno;
		close(dir_fd);
	}
	/* The container's user may reopen its output (/dev/stdout is this file). */
	if (fd >= 0 && sec && sec->set_ids && fchown(fd, sec->uid, sec->gid) < 0) {
		int e = errno;

		close(fd);
		fd = -e;
	}
	if (fd < 0) {
		snprintf(what, sizeof(what), "cannot open log file \"%s\"", path);
		describe_errno(err, errlen, what, -fd);
	}
	return fd;
}

/*
 * fsGroup: the volume directories get its group, group-writable and setgid (kubelet's
 * pkg/volume/volume_linux.go SetVolumeOwnership, for the directory itself).
 */
static int own_volumes(const struct pp_spawn_req *req, char *err, size_t errlen)
{
	for (size_t i = 0; req->sec && req->sec->fs_group >= 0 && i < req->n_mounts; i++) {
		const char *src = req->mounts[i].source;
		int fd, rc = 0;
		struct stat st;

		if (req->mounts[i].skip_owner)
			continue;
		fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0 ||
		    fchown(fd, (uid_t)-1, (gid_t)req->sec->fs_group) < 0 ||
		    fchmod(fd, (st.st_mode & 07777) | S_ISGID | S_IRWXG) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
		if (rc < 0) {
			snprintf(err, errlen, "cannot give volume \"%s\" to fsGroup %lld: %s", src,
				 (long long)req->sec->fs_group, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int pp_runtime_spawn(struct pp_runtime *rt, const struct pp_spawn_req *req, struct pp_proc *ret,
		     char *err, size_t errlen)
{
	struct pp_proc p = {.pid = -1, .pidfd = -1};
	struct pp_exec_spec x = {0};
	char leaf[300], name[128];
	int log_fd, cg_fd = 0, rc;

	log_fd = open_log(rt, req, err, errlen);
	if (log_fd < 0)
		return log_fd;
	if (geteuid() == 0) {
		rc = own_volumes(req, err, errlen);
		if (rc < 0)
			goto out;
	}

	safe_component(req->container, name, sizeof(name));
	if (req->pod_uid) {
		char uid[9];

		safe_component(req->pod_uid, uid, sizeof(uid)); /* 8 bytes, no '/' */
		snprintf(leaf, sizeof(leaf), "%s-%s-%u", name, uid, req->restart);
	} else
		snprintf(leaf, sizeof(leaf), "%s-%u", name, req->restart);
	if (rt->cg2_root)
		p.cg2 = make_leaf(rt->cg2_root, rt->cg2_fd, req->pod_key, leaf, rt->cg2_memory,
				  &cg_fd);
	if (req->memory_limit > 0) {
		char limit[32];

		snprintf(limit, sizeof(limit), "%lld", (long long)req->memory_limit);
		if (rt->cg2_memory && p.cg2) {
			rc = write_file(p.cg2, "memory.max", limit);
		} else if (rt->memv1_root) {
			p.memv1 = make_leaf(rt->memv1_root, -1, req->pod_key, leaf, false, NULL);
			rc = p.memv1 ? write_file(p.memv1, "memory.limit_in_bytes", limit) : -errno;
		} else {
			rc = -EOPNOTSUPP;
		}
		if (rc < 0) {
			snprintf(err, errlen, "cannot apply memory limit %s: %s", limit,
				 rc == -EOPNOTSUPP ? "no writable memory cgroup" : strerror(-rc));
			goto out;
		}
	}

	x = (struct pp_exec_spec){
		.argv = req->argv,
		.envp = req->envp,
		.working_dir = req->working_dir,
		.stdout_fd = log_fd,
		.stderr_fd = log_fd,
		.join_cgroups = {p.cg2, p.memv1},
		.join_cgroup_fd = cg_fd,
		.mounts = req->mounts,
		.n_mounts = req->n_mounts,
		.mnt_ns_fd = -1,
		.sec = req->sec,
	};
	rc = pp_proc_spawn(&x, &p.pid, &p.pidfd, err, errlen);
	if (rc < 0)
		goto out;
	/* Its identity for a later run's re-adoption (0 if unreadable: it then never matches). */
	{
		struct pp_proc_stat st;

		struct stat cst;

		if (pp_proc_stat(p.pid, &st) == 0)
			p.start_ticks = st.start_ticks;
		/* A cgroup2 directory's inode number is its cgroup id (64-bit kernfs ids). */
		if (cg_fd > 0 && fstat(cg_fd, &cst) == 0)
			p.cg2_id = cst.st_ino;
	}
	*ret = p;
	p.cg2 = p.memv1 = NULL;
	p.pidfd = -1;
out:
	release_cgroups(rt, &p);
	if (cg_fd > 0)
		close(cg_fd);
	close(log_fd);
	return rc;
}

void pp_runtime_forget(struct pp_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->cg2);
	free(p->memv1);
	*p = (struct pp_proc){.pid = -1, .pidfd = -1};
}

int pp_runtime_signal(const struct pp_proc *p, int sig)
{
	int err = 0;

	if (p->pid <= 0)
		return -ESRCH;
	if (sig != SIGKILL) {
		/*
		 * The stop signal goes to the main process only, as a container runtime sends it
		 * to the container's PID 1 (containerd's task Kill without all): a shell that does
		 * not pass it on keeps its children until the final SIGKILL of everything.
		 */
		if (p->pidfd >= 0)
			return syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0 ? -errno
											  : 0;
		return kill(p->pid, sig) < 0 ? -errno : 0;
	}
	if (killpg(p->pid, sig) < 0)
		err = -errno;
	if (p->cg2 && write_file(p->cg2, "cgroup.kill", "1") == 0)
		err = 0;
	return err;
}

/* The oom_kill counter of a memory cgroup leaf, 0 when unknown. */
static long oom_kills(const char *dir, const char *file)
{
	char path[PATH_MAX], buf[2048], *p;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_file(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "oom_kill ")))
		return 0;
	return strtol(p + 9, NULL, 10);
}

/* Did the memory cgroup of <p> kill a process? */
static bool oom_killed(const struct pp_runtime *rt, const struct pp_proc *p)
{
	return oom_kills(p->memv1, "memory.oom_control") > 0 ||
	       (rt->cg2_memory && oom_kills(p->cg2, "memory.events") > 0);
}

/* An ended container's cgroups: kill what is left in them and remove them once empty. */
static void end_cgroups(struct pp_runtime *rt, struct pp_proc *p)
{
	if (p->cg2)
		write_file(p->cg2, "cgroup.kill", "1");
	release_cgroups(rt, p);
}

/* <status> as wait(2) gives it, into <ret>. */
static void exit_from_status(int status, struct pp_exit_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (WIFSIGNALED(status))
		ret->signal = WTERMSIG(status);
	else
		ret->code = WEXITSTATUS(status);
}

/*
 * How adopted process <p> ended: the kernel's exit record (it was reaped by its new parent),
 * else its zombie (not reaped yet, still the same process), else unknown.
 */
static void adopted_exit(const struct pp_proc *p, struct pp_exit_info *ret)
{
	struct pp_proc_stat st;
	int status;

	if (pp_pidfd_exit_status(p->pidfd, &status) == 0) {
		exit_from_status(status, ret);
	} else if (pp_proc_stat(p->pid, &st) == 0 && st.start_ticks == p->start_ticks &&
		   st.state == 'Z') {
		exit_from_status(st.exit_code, ret);
	} else if (pp_pidfd_exit_status(p->pidfd, &status) == 0) {
		exit_from_status(status, ret); /* reaped between the two looks */
	} else {
		memset(ret, 0, sizeof(*ret));
		ret->unknown = true;
	}
}

int pp_runtime_adopt(struct pp_runtime *rt, pid_t pid, uint64_t start_ticks, const char *cg2,
		     const char *memv1, struct pp_proc *ret, struct pp_exit_info *ret_exit)
{
	struct pp_proc p = {.pid = pid, .pidfd = -1, .start_ticks = start_ticks, .adopted = true};
	struct pp_proc_stat st;
	bool ours;
	int rc;

	if ((cg2 && *cg2 && !(p.cg2 = strdup(cg2))) ||
	    (memv1 && *memv1 && !(p.memv1 = strdup(memv1)))) {
		free(p.cg2);
		return -ENOMEM;
	}
	if (pid > 1 && start_ticks) {
		p.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (p.pidfd >= 0)
			fcntl(p.pidfd, F_SETFD, FD_CLOEXEC);
	}
	/* The pidfd first, then the checks: a pid reused after them is not behind this pidfd. */
	ours = p.pidfd >= 0 && pp_proc_stat(pid, &st) == 0 && st.start_ticks == start_ticks &&
	       (!p.cg2 || st.state == 'Z' || pp_cgroup_has_pid(p.cg2, pid));
	if (ours && st.state != 'Z') {
		*ret = p;
		return 0;
	}
	if (ours) {
		exit_from_status(st.exit_code, ret_exit);
		rc = 1;
	} else {
		rc = -ESRCH;
	}
	if (p.pidfd >= 0)
		close(p.pidfd);
	end_cgroups(rt, &p);
	return rc;
}

/* Bytes in <dir>/<name> (up to a small buffer), or -errno. */
static int read_file_len(const char *dir, const char *name)
{
	char path[PATH_MAX + 300], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_file(path, buf, sizeof(buf));
}

static bool strdup_into_graveyard(struct pp_runtime *rt, const char *dir)
{
	char *d = strdup(dir);

	if (d)
		graveyard_add(rt, d);
	return d != NULL;
}

/* Kill and queue for removal the leaves below <root> (two levels: pod, container) not kept. */
static int sweep_root(struct pp_runtime *rt, const char *root, const char *const *keep, size_t n)
{
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *e;
	int swept = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char pod[PATH_MAX];
		struct dirent *l;
		DIR *pd;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(pod, sizeof(pod), "%s/%s", root, e->d_name);
		pd = opendir(pod);
		while (pd && (l = readdir(pd))) {
			char leaf[PATH_MAX + 256];
			bool kept = false;

			if (l->d_type != DT_DIR || l->d_name[0] == '.')
				continue;
			snprintf(leaf, sizeof(leaf), "%s/%s", pod, l->d_name);
			for (size_t i = 0; i < n && !kept; i++)
				kept = keep[i] && !strcmp(keep[i], leaf);
			if (kept)
				continue;
			/* Processes in it: what it holds is killed (an empty one just goes). */
			if (read_file_len(leaf, "cgroup.procs") > 0) {
				write_file(leaf, "cgroup.kill", "1");
				swept++;
			}
			strdup_into_graveyard(rt, leaf);
		}
		if (pd)
			closedir(pd);
	}
	closedir(d);
	graveyard_sweep(rt);
	return swept;
}

int pp_runtime_sweep(struct pp_runtime *rt, const char *const *keep, size_t n)
{
	return sweep_root(rt, rt->cg2_root, keep, n) + sweep_root(rt, rt->memv1_root, keep, n);
}

int pp_runtime_reap(struct pp_runtime *rt, struct pp_proc *p, struct pp_exit_info *ret)
{
	siginfo_t si = {0};

	if (p->pidfd < 0)
		return -EBADF;
	if (p->adopted) {
		struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};

		/* Not our child: no waitid. The pidfd turns readable when it exits. */
		if (poll(&pfd, 1, 0) == 0)
			return -EAGAIN;
		adopted_exit(p, ret);
		ret->oom_killed = ret->signal == SIGKILL && oom_killed(rt, p);
		close(p->pidfd);
		p->pidfd = -1;
		p->pid = -1;
		end_cgroups(rt, p);
		return 0;
	}
	/* Peek first (WNOWAIT): the zombie keeps the process group id from being reused. */
	if (waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -errno;
	if (si.si_pid == 0)
		return -EAGAIN;
	/* The container ends with its main process, as with a PID namespace's init. */
	pp_runtime_signal(p, SIGKILL);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	if (si.si_code == CLD_EXITED)
		ret->code = si.si_status;
	else
		ret->signal = si.si_status;
	ret->oom_killed = ret->signal == SIGKILL && oom_killed(rt, p);
	close(p->pidfd);
	p->pidfd = -1;
	p->pid = -1;
	release_cgroups(rt, p);
	return 0;
}
