// SPDX-License-Identifier: Apache-2.0
/*
 * A pod's volumes and config objects at container start: kubelet's volume plugins
 * (pkg/volume/configmap, secret, downwardapi, projected: SetUpAt; hostpath: checkType) and
 * kubelet_pods.go makeMounts (subPath, subPathExpr).
 */
#include "sup_volumes.h"
#include "supervisor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "podprobe/atomic_writer.h"
#include "podprobe/log.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/pod_env.h"
#include "podprobe/statedir.h"

/* status.podIP and hostIP: containers are host processes on the loopback (sup_pods.c). */
#define POD_IP "127.0.0.1"

static bool pod_uses_configs(const struct pp_pod *pod)
{
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (pp_env_uses_configs(pp_pod_container(pod, i)))
			return true;
	for (size_t i = 0; i < pod->n_volumes; i++)
		if (pp_vol_uses_configs(&pod->volumes[i]))
			return true;
	return false;
}

int pp_sup_configs_load(struct pod_rt *pr, struct pp_config_list *ret)
{
	char *const *paths = pr->sup->cfg->watch_dirs;
	struct pp_config_list list = {0};

	if (paths && pod_uses_configs(pr->spec)) {
		for (size_t i = 0; paths[i]; i++) {
			struct pp_pod_list pods = {0};
			struct pp_diag_list diags = {0};
			int rc = pp_manifest_load_objects(paths[i], &pods, &list, &diags);

			/* What is wrong with the files was said when they were read for the pods.
			 */
			pp_pod_list_free(&pods);
			pp_diag_list_free(&diags);
			if (rc == -ENOMEM) {
				pp_config_list_free(&list);
				return rc;
			}
		}
	}
	*ret = list;
	return 0;
}

void pp_sup_node_read(struct pp_supervisor *sup)
{
	struct sysinfo si;
	struct statvfs vfs;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* Node allocatable = capacity: podprobe reserves nothing (no kube/system-reserved). */
	sup->node = (struct pp_env_host){
		.node_name = sup->node_name,
		.host_ip = POD_IP,
		.pod_ip = POD_IP,
		.cpu_m = (cpus > 0 ? cpus : 1) * 1000,
	};
	if (sysinfo(&si) == 0)
		sup->node.memory = (int64_t)si.totalram * (int64_t)si.mem_unit;
	if (statvfs(sup->cfg->state_dir, &vfs) == 0)
		sup->node.storage = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
}

void pp_sup_env_host(const struct pod_rt *pr, struct pp_env_host *ret)
{
	*ret = pr->sup->node;
	ret->uid = pr->st.uid;
}

/* Go's error text: the first letter of strerror() lowered ("no such file or directory"). */
static const char *go_strerror(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* pkg/volume/hostpath/host_path.go checkTypeInternal; stat() follows links as os.Stat does. */
static int host_path_check(const char *path, const char *type, char *err, size_t errlen)
{
	struct stat st;
	bool exists = stat(path, &st) == 0;
	mode_t fmt = exists ? st.st_mode & S_IFMT : 0;
	const char *want = NULL;
	char e[128];
	int fd;

	if (!type || !*type)
		return 0;
	if (!strcmp(type, "DirectoryOrCreate") && !exists) {
		int rc = pp_mkdir_parents(path, 0755, true); /* os.MkdirAll(path, 0755) */

		if (rc < 0)
			snprintf(err, errlen, "mkdir %s: %s", path, go_strerror(-rc, e, sizeof(e)));
		return rc;
	}
	if (!strcmp(type, "FileOrCreate") && !exists) {
		/* os.OpenFile(path, os.O_CREATE, 0644): the directory must exist. */
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			int rc = -errno;

			snprintf(err, errlen, "open %s: %s", path, go_strerror(-rc, e, sizeof(e)));
			return rc;
		}
		close(fd);
		return 0;
	}
	if (!strcmp(type, "Directory") || !strcmp(type, "DirectoryOrCreate"))
		want = fmt == S_IFDIR ? NULL : "a directory";
	else if (!strcmp(type, "File") || !strcmp(type, "FileOrCreate"))
		want = fmt == S_IFREG ? NULL : "a file";
	else if (!strcmp(type, "Socket"))
		want = fmt == S_IFSOCK ? NULL : "a socket file";
	else if (!strcmp(type, "CharDevice"))
		want = fmt == S_IFCHR ? NULL : "a character device";
	else if (!strcmp(type, "BlockDevice"))
		want = fmt == S_IFBLK ? NULL : "a block device";
	else {
		snprintf(err, errlen, "%s is an invalid volume type", type);
		return -EINVAL;
	}
	if (!want)
		return 0;
	snprintf(err, errlen, "hostPath type check failed: %s is not %s", path, want);
	return -ENOENT;
}

/* Write <v>'s payload into its directory below <vol_fd>. */
static int write_volume(struct pod_rt *pr, int vol_fd, const struct pp_volume *v,
			const struct pp_config_list *configs, char *err, size_t errlen)
{
	struct pp_vol_payload p = {0};
	struct pp_env_host host;
	int rc, fd;

	pp_sup_env_host(pr, &host);
	rc = pp_vol_payload_build(pr->spec, v, &host, configs, &p, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < p.n_warnings; i++)
		pp_log(PP_LOG_DEBUG, "pod '%s': %s", pr->spec->name, p.warnings[i]);
	fd = openat(vol_fd, v->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the volume's directory: %s", strerror(-rc));
	} else {
		/* Only podprobe writes here: not world-writable as an emptyDir is. */
		if (fchmod(fd, 0755) < 0)
			rc = -errno;
		if (rc == 0)
			rc = pp_atomic_write(fd, &p, err, errlen);
		else
			snprintf(err, errlen, "cannot set up the volume's directory: %s",
				 strerror(-rc));
		close(fd);
	}
	pp_vol_payload_free(&p);
	return rc < 0 ? rc : 0;
}

int pp_sup_volumes_setup(struct pod_rt *pr, const struct pp_config_list *configs,
			 char (*msgs)[SUP_MOUNT_MSG], size_t max)
{
	const struct pp_pod *spec = pr->spec;
	int vol_fd = -1, n = 0;

	for (size_t i = 0; i < spec->n_volumes; i++) {
		const struct pp_volume *v = &spec->volumes[i];
		char err[512] = "";
		int rc = 0;

		switch (v->kind) {
		case PP_VOL_CONFIG_MAP:
		case PP_VOL_SECRET:
		case PP_VOL_DOWNWARD_API:
		case PP_VOL_PROJECTED:
			if (vol_fd < 0)
				vol_fd = open(pr->vol_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (vol_fd < 0) {
				rc = -errno;
				snprintf(err, sizeof(err), "cannot open the pod's volumes: %s",
					 strerror(-rc));
				break;
			}
			rc = write_volume(pr, vol_fd, v, configs, err, sizeof(err));
			break;
		case PP_VOL_HOST_PATH:
			rc = host_path_check(v->host_path ? v->host_path : "", v->host_type, err,
					     sizeof(err));
			break;
		case PP_VOL_PVC: {
			char dir[PATH_MAX];

			rc = pp_runtime_claim_dir(&pr->sup->rt, spec->namespace,
						  v->claim_name ? v->claim_name : "", dir,
						  sizeof(dir));
			if (rc == -EINVAL)
				/* No claim can have that name: kubelet's text for a missing one. */
				snprintf(err, sizeof(err), "persistentvolumeclaim \"%s\" not found",
					 v->claim_name ? v->claim_name : "");
			else if (rc < 0)
				snprintf(err, sizeof(err), "cannot make the claim's directory: %s",
					 strerror(-rc));
			break;
		}
		case PP_VOL_UNSUPPORTED:
			snprintf(err, sizeof(err), "volume type %s is not supported by podprobe",
				 v->source ? v->source : "");
			rc = -EINVAL;
			break;
		default:
			break;
		}
		if (rc == -ENOMEM) {
			n = rc;
			break;
		}
		if (rc < 0 && (size_t)n < max)
			snprintf(msgs[n++], SUP_MOUNT_MSG,
				 "MountVolume.SetUp failed for volume \"%s\" : %s",
				 v->name ? v->name : "", err);
	}
	if (vol_fd >= 0)
		close(vol_fd);
	return n;
}

/* ---- mounts ------------------------------------------------------------------------------------
 */

static const struct pp_volume *find_volume(const struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; name && i < pod->n_volumes; i++)
		if (pod->volumes[i].name && !strcmp(pod->volumes[i].name, name))
			return &pod->volumes[i];
	return NULL;
}

static int open_beneath(int base, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, base, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* SafeMakeDir: each missing element of <sub> made below <base> with <mode>, never leaving it. */
static int make_beneath(int base, const char *sub, mode_t mode)
{
	char comp[NAME_MAX + 1];
	int fd = fcntl(base, F_DUPFD_CLOEXEC, 3);

	for (const char *p = sub; fd >= 0 && *p;) {
		size_t n = strcspn(p, "/");
		int next;

		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (p[n] == '/');
			continue;
		}
		if (n > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(fd, comp, mode) == 0) {
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && fchmod(next, mode) < 0) {
				close(next);
				next = -1;
			}
			next = next < 0 ? -errno : next;
		} else if (errno == EEXIST) {
			next = open_beneath(fd, comp);
		} else {
			next = -errno;
		}
		close(fd);
		fd = next;
		p += n + (p[n] == '/');
	}
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The element ".." anywhere (ValidatePathNoBacksteps). */
static bool has_backsteps(const char *p)
{
	for (; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n + (p[n] == '/');
	}
	return false;
}

static int prepare_sub_path(const char *base, const char *sub, const struct pp_container_spec *cs,
			    const struct pp_volume_mount *m, int *ret_fd, bool *ret_file, char *err,
			    size_t errlen)
{
	int base_fd, fd, rc;
	struct stat st;

	if (sub[0] == '/') {
		snprintf(err, errlen, "error SubPath `%s` must not be an absolute path", sub);
		return -EINVAL;
	}
	if (has_backsteps(sub)) {
		snprintf(err, errlen, "unable to provision SubPath `%s`: must not contain '..'",
			 sub);
		return -EINVAL;
	}
	base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base_fd < 0) {
		rc = -errno;
		goto fail;
	}
	fd = open_beneath(base_fd, sub);
	if (fd == -ENOENT && fstat(base_fd, &st) == 0) {
		/* Made now with the volume's mode, as kubelet does before the container. */
		rc = make_beneath(base_fd, sub, st.st_mode & 07777);
		if (rc < 0) {
			close(base_fd);
			snprintf(err, errlen,
				 "failed to create subPath directory for volumeMount \"%s\" of "
				 "container \"%s\"",
				 m->name, cs->name);
			return rc == -ENOMEM ? rc : -EINVAL;
		}
		fd = open_beneath(base_fd, sub);
	}
	close(base_fd);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	*ret_file = !S_ISDIR(st.st_mode);
	/* PrepareSafeSubpath binds the opened path; here a detached copy of it is the source. */
	*ret_fd = open_tree(fd, "",
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	rc = *ret_fd < 0 ? -errno : 0;
	close(fd);
	if (rc == 0)
		return 0;
fail:
	/* kubelet does not say why either: that would tell about the host's files. */
	snprintf(err, errlen,
		 "failed to prepare subPath for volumeMount \"%s\" of container \"%s\"", m->name,
		 cs->name);
	return rc == -ENOMEM ? rc : -EINVAL;
}

void pp_sup_mounts_free(struct sup_mounts *m)
{
	for (size_t i = 0; m->fds && i < m->n; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	free(m->fds);
	free(m->v);
	free(m->srcs);
	memset(m, 0, sizeof(*m));
}

int pp_sup_mounts_build(struct pod_rt *pr, const struct pp_container_spec *cs,
			const struct pp_env_list *env, struct sup_mounts *ret, char *err,
			size_t errlen)
{
	struct sup_mounts m = {0};
	int rc = 0;

	if (!cs->n_mounts) {
		*ret = m;
		return 0;
	}
	m.v = calloc(cs->n_mounts, sizeof(*m.v));
	m.srcs = calloc(cs->n_mounts, sizeof(*m.srcs));
	m.fds = malloc(cs->n_mounts * sizeof(*m.fds));
	if (!m.v || !m.srcs || !m.fds) {
		pp_sup_mounts_free(&m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cs->n_mounts; i++)
		m.fds[i] = -1;
	m.n = cs->n_mounts;
	for (size_t i = 0; rc == 0 && i < cs->n_mounts; i++) {
		const struct pp_volume_mount *vm = &cs->mounts[i];
		const struct pp_volume *v = find_volume(pr->spec, vm->name);
		struct pp_mount_req *req = &m.v[i];
		char *sub = NULL;
		struct stat st;

		req->target = vm->mount_path;
		req->read_only = vm->read_only;
		if (v && v->kind == PP_VOL_HOST_PATH) {
			snprintf(m.srcs[i], sizeof(m.srcs[i]), "%s",
				 v->host_path ? v->host_path : "");
			req->skip_owner = true; /* hostPath has no ownership management */
			req->file = stat(m.srcs[i], &st) == 0 && !S_ISDIR(st.st_mode);
		} else if (v && v->kind == PP_VOL_PVC) {
			/* Made by pp_sup_volumes_setup() before any container starts. */
			snprintf(m.srcs[i], sizeof(m.srcs[i]), "%s/volumes/pvc/%s/%s",
				 pr->sup->rt.state_dir, pr->spec->namespace,
				 v->claim_name ? v->claim_name : "");
			req->read_only |= v->claim_read_only;
		} else {
			snprintf(m.srcs[i], sizeof(m.srcs[i]), "%s/%s", pr->vol_dir, vm->name);
			/* Since 1.9.3 these are always mounted read-only (kubelet makeMounts). */
			req->read_only |= v && v->kind != PP_VOL_EMPTY_DIR;
		}
		if (vm->sub_path_expr && *vm->sub_path_expr) {
			rc = pp_env_sub_path_expr(vm->sub_path_expr, env, &sub, err, errlen);
			if (rc < 0)
				break;
		} else if (vm->sub_path && *vm->sub_path) {
			sub = strdup(vm->sub_path);
			if (!sub) {
				rc = -ENOMEM;
				break;
			}
		}
		if (sub && *sub) {
			rc = prepare_sub_path(m.srcs[i], sub, cs, vm, &m.fds[i], &req->file, err,
					      errlen);
			if (rc == 0) {
				size_t len = strlen(m.srcs[i]);

				snprintf(m.srcs[i] + len, sizeof(m.srcs[i]) - len, "/%s", sub);
				req->detached = true;
				req->tree_fd = m.fds[i];
				req->skip_owner = true;
			}
		}
		free(sub);
		req->source = m.srcs[i];
	}
	if (rc < 0) {
		pp_sup_mounts_free(&m);
		return rc;
	}
	*ret = m;
	return 0;
}
