// SPDX-License-Identifier: Apache-2.0
/*
 * Containers as processes. A container starts with clone3(CLONE_PIDFD | CLONE_VFORK): the
 * pidfd comes back atomically (no pid-reuse race) and, because the parent sleeps until the
 * child has exec'd or failed, a failed exec is known synchronously through a CLOEXEC pipe
 * without blocking on anything else. The child puts itself in its own process group and
 * cgroup leaves before exec, so nothing it forks escapes them.
 */
#include "podprobe/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"

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

/* mkdir -p <path> with <mode>. */
static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf <path>, staying on its file system and never following links. */
static int rm_rf(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return -errno;
	return 0;
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

static char *make_root(const char *want)
{
	char own[PATH_MAX], dir[PATH_MAX + 32];

	if (own_cgroup_dir(want, own, sizeof(own)) < 0)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/podprobe-%d", own, (int)getpid());
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

int pp_runtime_init(struct pp_runtime *rt, const char *state_dir, bool use_cgroups)
{
	char own[PATH_MAX];
	int err;

	memset(rt, 0, sizeof(*rt));
	rt->state_dir = strdup(state_dir);
	if (!rt->state_dir)
		return -ENOMEM;
	err = mkdir_p(state_dir, 0755);
	if (err < 0)
		return pp_log_errno(PP_LOG_ERR, err, "cannot create state directory '%s'",
				    state_dir);
	rt->can_mount = geteuid() == 0;
	if (!use_cgroups)
		return 0;
	rt->cg2_root = make_root("");
	if (rt->cg2_root && own_cgroup_dir("", own, sizeof(own)) == 0)
		rt->cg2_memory = enable_memory(own) && enable_memory(rt->cg2_root);
	if (!rt->cg2_memory)
		rt->memv1_root = make_root("memory");
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
}

/* rmdir what can go now; keep the rest for later. */
static void graveyard_sweep(struct pp_runtime *rt)
{
	size_t i, kept = 0;

	for (i = 0; i < rt->n_graveyard; i++) {
		if (rmdir(rt->graveyard[i]) == 0 || errno == ENOENT)
			free(rt->graveyard[i]);
		else
			rt->graveyard[kept++] = rt->graveyard[i];
	}
	rt->n_graveyard = kept;
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
	free(rt->cg2_root);
	free(rt->memv1_root);
	free(rt->state_dir);
	memset(rt, 0, sizeof(*rt));
}

/* Make <root>/<pod_key>/<leaf>; returns the leaf path or NULL. */
static char *make_leaf(const char *root, const char *pod_key, const char *leaf, bool memory)
{
	char dir[PATH_MAX], key[200];

	safe_component(pod_key, key, sizeof(key));
	snprintf(dir, sizeof(dir), "%s/%s", root, key);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return NULL;
	if (memory)
		enable_memory(dir);
	snprintf(dir, sizeof(dir), "%s/%s/%s", root, key, leaf);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return NULL;
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

int pp_runtime_prepare_pod(struct pp_runtime *rt, const char *pod_key, char *const *volumes,
			   size_t n, char *ret_dir, size_t size)
{
	char key[200], dir[PATH_MAX], vol[PATH_MAX + 256];
	int err;

	safe_component(pod_key, key, sizeof(key));
	snprintf(dir, sizeof(dir), "%s/pods/%s/volumes", rt->state_dir, key);
	/* emptyDir: a fresh directory for each run of the pod. */
	err = rm_rf(dir);
	if (err < 0)
		return err;
	err = mkdir_p(dir, 0755);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(vol, sizeof(vol), "%s/%s", dir, volumes[i]);
		if (mkdir(vol, 0777) < 0 && errno != EEXIST)
			return -errno;
		chmod(vol, 0777); /* emptyDir is world-writable, as kubelet makes it */
	}
	if (snprintf(ret_dir, size, "%s", dir) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- spawning -------------------------------------------------------------------------------- */

enum child_stage {
	STAGE_SETUP = 0,
	STAGE_CGROUP,
	STAGE_MOUNT,
	STAGE_CHDIR,
	STAGE_EXEC,
	_STAGE_MAX,
};

struct child_error {
	int err;   /* positive errno */
	int stage; /* enum child_stage */
	int index; /* which mount */
};

/* Runs in the child between clone3 and exec: only plain system calls, then exec. */
static void __attribute__((noreturn)) child_exec(const struct pp_exec_spec *x, int err_fd)
{
	struct child_error ce = {0};
	extern char **environ;
	sigset_t none;
	int null_fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);

	ce.stage = STAGE_CGROUP;
	for (size_t i = 0; i < 2; i++)
		if (x->join_cgroups[i] && write_file(x->join_cgroups[i], "cgroup.procs", "0") < 0)
			goto fail;

	ce.stage = STAGE_MOUNT;
	if (x->mnt_ns_fd >= 0 && setns(x->mnt_ns_fd, CLONE_NEWNS) < 0)
		goto fail;
	if (x->n_mounts) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			goto fail;
		for (size_t i = 0; i < x->n_mounts; i++) {
			const struct pp_mount_req *m = &x->mounts[i];

			ce.index = (int)i;
			if (mkdir_p(m->target, 0755) < 0 ||
			    mount(m->source, m->target, NULL, MS_BIND | MS_REC, NULL) < 0)
				goto fail;
			if (m->read_only && mount(NULL, m->target, NULL,
						  MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
				goto fail;
		}
	}

	ce.stage = STAGE_SETUP;
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(x->stdout_fd, 1) < 0 ||
	    dup2(x->stderr_fd, 2) < 0)
		goto fail;
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);

	ce.stage = STAGE_CHDIR;
	if (x->working_dir && chdir(x->working_dir) < 0)
		goto fail;

	ce.stage = STAGE_EXEC;
	if (x->envp)
		environ = (char **)x->envp; /* execvp searches the container's PATH */
	execvp(x->argv[0], x->argv);
fail:
	ce.err = errno;
	if (write(err_fd, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

static void describe_failure(const struct pp_exec_spec *x, const struct child_error *ce, char *err,
			     size_t errlen)
{
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
	default:
		snprintf(err, errlen, "process set-up failed: %s", strerror(ce->err));
	}
}

int pp_proc_spawn(const struct pp_exec_spec *x, pid_t *ret_pid, int *ret_pidfd, char *err,
		  size_t errlen)
{
	struct clone_args args = {0};
	struct child_error ce;
	int pipefd[2], pidfd = -1, rc;
	long pid;
	ssize_t n;

	if (!x->argv || !x->argv[0]) {
		snprintf(err, errlen, "no command to run");
		return -EINVAL;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return rc;
	}
	args.flags = CLONE_PIDFD | CLONE_VFORK;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "clone3: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(x, pipefd[1]);
	close(pipefd[1]);
	pipefd[1] = -1;
	/* CLONE_VFORK: the child has exec'd (pipe closed, read gives 0) or failed by now. */
	n = read(pipefd[0], &ce, sizeof(ce));
	if (n == (ssize_t)sizeof(ce)) {
		siginfo_t si;

		describe_failure(x, &ce, err, errlen);
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
		rc = -ce.err;
		goto out;
	}
	*ret_pid = (pid_t)pid;
	*ret_pidfd = pidfd;
	rc = 0;
out:
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
	graveyard_sweep(rt);
}

int pp_runtime_spawn(struct pp_runtime *rt, const struct pp_spawn_req *req, struct pp_proc *ret,
		     char *err, size_t errlen)
{
	struct pp_proc p = {.pid = -1, .pidfd = -1};
	struct pp_exec_spec x = {0};
	char path[PATH_MAX], leaf[300], name[128];
	int log_fd = -1, rc;

	rc = pp_runtime_log_path(rt->state_dir, req->pod_key, req->container, req->restart, path,
				 sizeof(path));
	if (rc == 0) {
		*strrchr(path, '/') = '\0';
		rc = mkdir_p(path, 0755);
		pp_runtime_log_path(rt->state_dir, req->pod_key, req->container, req->restart, path,
				    sizeof(path));
	}
	if (rc == 0) {
		log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0)
			rc = -errno;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot open log file \"%s\": %s", path, strerror(-rc));
		goto out;
	}

	safe_component(req->container, name, sizeof(name));
	snprintf(leaf, sizeof(leaf), "%s-%u", name, req->restart);
	if (rt->cg2_root)
		p.cg2 = make_leaf(rt->cg2_root, req->pod_key, leaf, rt->cg2_memory);
	if (req->memory_limit > 0) {
		char limit[32];

		snprintf(limit, sizeof(limit), "%lld", (long long)req->memory_limit);
		if (rt->cg2_memory && p.cg2) {
			rc = write_file(p.cg2, "memory.max", limit);
		} else if (rt->memv1_root) {
			p.memv1 = make_leaf(rt->memv1_root, req->pod_key, leaf, false);
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
		.mounts = req->mounts,
		.n_mounts = req->n_mounts,
		.mnt_ns_fd = -1,
	};
	rc = pp_proc_spawn(&x, &p.pid, &p.pidfd, err, errlen);
	if (rc < 0)
		goto out;
	*ret = p;
	p.cg2 = p.memv1 = NULL;
	p.pidfd = -1;
out:
	release_cgroups(rt, &p);
	if (log_fd >= 0)
		close(log_fd);
	return rc;
}

int pp_runtime_signal(const struct pp_proc *p, int sig)
{
	int err = 0;

	if (p->pid <= 0)
		return -ESRCH;
	if (killpg(p->pid, sig) < 0)
		err = -errno;
	if (sig == SIGKILL && p->cg2 && write_file(p->cg2, "cgroup.kill", "1") == 0)
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

int pp_runtime_reap(struct pp_runtime *rt, struct pp_proc *p, struct pp_exit_info *ret)
{
	siginfo_t si = {0};

	if (p->pidfd < 0)
		return -EBADF;
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
	ret->oom_killed = ret->signal == SIGKILL &&
			  (oom_kills(p->memv1, "memory.oom_control") > 0 ||
			   (rt->cg2_memory && oom_kills(p->cg2, "memory.events") > 0));
	close(p->pidfd);
	p->pidfd = -1;
	p->pid = -1;
	release_cgroups(rt, p);
	return 0;
}
