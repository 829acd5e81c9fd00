// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest directories given to `podprobe run`, followed as kubelet follows its static pod path
 * (pkg/kubelet/config/file.go, file_linux.go: inotify on the directory, the whole directory
 * re-read on a change): a new file's pods start, a removed file's pods are deleted gracefully,
 * a changed pod is replaced (the old one is deleted; the new one begins once it is gone). A
 * file that no longer reads or validates keeps its pods as they are, and says why.
 *
 * Pods from a file are the file's. Deleting one through the API recreates its API object at
 * once, as kubelet does with a static pod's mirror pod (pkg/kubelet/pod/mirror_client.go and
 * the pod workers' syncPod, which recreates a missing mirror pod): its containers keep running.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"

#define STATIC_EVENTS \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

/* The inotify read: its fd and buffer are released after the read's final completion. */
struct static_read {
	int fd;
	uint64_t op;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
};

struct sup_static {
	struct pp_supervisor *sup;
	struct static_read *rd;
	char **dirs;
	size_t n_dirs;
	bool dirty; /* a directory changed: sync at the end of the turn */
};

static void on_read(void *ctx, int res);

static int arm(struct sup_static *st)
{
	return pp_loop_read(st->sup->loop, st->rd->fd, st->rd->buf, sizeof(st->rd->buf), on_read,
			    st, &st->rd->op);
}

static void on_read(void *ctx, int res)
{
	struct sup_static *st = ctx;

	st->rd->op = 0;
	if (res > 0)
		st->dirty = true; /* which file does not matter: the directory is read again */
	if (res < 0 && res != -EINTR && res != -EAGAIN) {
		pp_log_errno(PP_LOG_WARN, res, "manifest directories are no longer followed");
		return;
	}
	if (arm(st) < 0)
		pp_log(PP_LOG_WARN, "manifest directories are no longer followed");
}

int pp_sup_static_setup(struct pp_supervisor *sup)
{
	char *const *dirs = sup->cfg->watch_dirs;
	struct sup_static *st;
	int err = -ENOMEM;

	if (!dirs || !dirs[0])
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->sup = sup;
	st->rd = calloc(1, sizeof(*st->rd));
	if (!st->rd)
		goto fail;
	st->rd->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (st->rd->fd < 0) {
		err = -errno;
		goto fail;
	}
	for (size_t i = 0; dirs[i]; i++) {
		struct stat sb;
		char **v;

		if (stat(dirs[i], &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue; /* a file is read once, as given */
		if (inotify_add_watch(st->rd->fd, dirs[i], STATIC_EVENTS) < 0) {
			err = -errno;
			pp_log_errno(PP_LOG_ERR, err, "cannot follow %s", dirs[i]);
			goto fail;
		}
		v = realloc(st->dirs, (st->n_dirs + 1) * sizeof(*v));
		if (!v)
			goto fail;
		st->dirs = v;
		if (!(st->dirs[st->n_dirs] = strdup(dirs[i])))
			goto fail;
		st->n_dirs++;
	}
	sup->statics = st;
	if (!st->n_dirs) {
		pp_sup_static_stop(sup);
		return 0;
	}
	err = arm(st);
	if (err < 0)
		goto fail;
	return 0;
fail:
	sup->statics = st;
	pp_sup_static_stop(sup);
	return err;
}

static void read_release(void *obj)
{
	struct static_read *rd = obj;

	close(rd->fd);
	free(rd);
}

void pp_sup_static_stop(struct pp_supervisor *sup)
{
	struct sup_static *st = sup->statics;

	if (!st)
		return;
	if (st->rd) {
		if (st->rd->fd < 0)
			free(st->rd);
		else if (pp_loop_retire(sup->loop, &st->rd->op, 1, read_release, st->rd) < 0)
			close(st->rd->fd); /* the buffer is left to the kernel, never freed in use
					    */
	}
	for (size_t i = 0; i < st->n_dirs; i++)
		free(st->dirs[i]);
	free(st->dirs);
	free(st);
	sup->statics = NULL;
}

/* True when <file> is in directory <dir> (as pp_manifest_load_path names its files). */
static bool in_dir(const char *file, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return file && !strncmp(file, dir, n) && file[n] == '/' && !strchr(file + n + 1, '/');
}

/* The live pod of the file(s) of <dir> with <ns>/<name>, or NULL. */
static struct pod_rt *file_pod(struct pp_supervisor *sup, const char *dir, const char *ns,
			       const char *name)
{
	for (size_t i = sup->n_pods; i-- > 0;) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (pr && !pr->from_api && !pr->deletion_wall && in_dir(pr->spec->file, dir) &&
		    !strcmp(pr->spec->name, name) && !strcmp(pr->spec->namespace, ns))
			return pr;
	}
	return NULL;
}

static bool file_failed(const struct pp_diag_list *diags, const char *file)
{
	for (size_t i = 0; i < diags->n; i++)
		if (diags->items[i].severity == PP_DIAG_ERROR && diags->items[i].file &&
		    !strcmp(diags->items[i].file, file))
			return true;
	return false;
}

/* Bring the pods of <dir> in line with its files. */
static void sync_dir(struct pp_supervisor *sup, const char *dir)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	char line[2048];
	int rc;

	rc = pp_manifest_load_path(dir, &pods, &diags);
	for (size_t i = 0; rc >= 0 && i < pods.n; i++)
		if (!file_failed(&diags, pods.items[i]->file))
			pp_pod_validate(pods.items[i], &diags);
	for (size_t i = 0; i < diags.n; i++)
		if (diags.items[i].severity == PP_DIAG_ERROR &&
		    pp_diag_format(&diags.items[i], line, sizeof(line)) >= 0)
			pp_log(PP_LOG_ERR, "%s (its pods are left as they are)", line);
	if (rc < 0) {
		pp_log_errno(PP_LOG_ERR, rc, "cannot read %s", dir);
		goto out;
	}
	/* Pods whose file is gone, or no longer lists them: deleted. */
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);
		bool listed = false;

		if (!pr || pr->from_api || pr->deletion_wall || pr->waiting ||
		    !in_dir(pr->spec->file, dir) || file_failed(&diags, pr->spec->file))
			continue;
		for (size_t j = 0; j < pods.n && !listed; j++)
			listed = !strcmp(pods.items[j]->name, pr->spec->name) &&
				 !strcmp(pods.items[j]->namespace, pr->spec->namespace);
		if (!listed)
			pp_sup_pod_delete(pr, -1, "its manifest is gone");
	}
	/* New pods start; changed ones replace theirs. */
	for (size_t j = 0; j < pods.n; j++) {
		struct pp_pod *spec = pods.items[j];
		struct pod_rt *old, *pr;

		if (file_failed(&diags, spec->file))
			continue;
		old = file_pod(sup, dir, spec->namespace, spec->name);
		if (old && !strcmp(old->spec->digest, spec->digest))
			continue;
		if (old)
			pp_sup_pod_delete(old, -1, "its manifest changed");
		pods.items[j] = NULL;
		rc = pp_sup_pod_create(sup, spec, NULL, false, old, &pr);
		if (rc < 0)
			pp_log_errno(PP_LOG_ERR, rc, "pod '%s' of %s cannot start", spec->name,
				     dir);
	}
out:
	/* The list keeps the pods not taken over (NULL entries are skipped by the free). */
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
}

void pp_sup_static_sync(struct pp_supervisor *sup)
{
	struct sup_static *st = sup->statics;

	if (!st || !st->dirty || sup->stopping)
		return;
	st->dirty = false;
	for (size_t i = 0; i < st->n_dirs; i++)
		sync_dir(sup, st->dirs[i]);
}

bool pp_sup_static_owns(const struct pod_rt *pr)
{
	const struct sup_static *st = pr->sup->statics;

	for (size_t i = 0; st && !pr->from_api && i < st->n_dirs; i++)
		if (in_dir(pr->spec->file, st->dirs[i]))
			return true;
	return false;
}

void pp_sup_static_mirror_deleted(struct pod_rt *pr)
{
	char msg[700];

	/* The object goes (DELETED) and comes back under a new UID; the containers run on. */
	pr->rv = ++pr->sup->rv;
	pp_api_pod_gone(pr);
	pr->announced = false;
	pp_sup_new_uid(pr->sup, pr->st.uid, sizeof(pr->st.uid));
	pr->created_wall = pp_clock_wall();
	pr->created = pp_clock_now();
	pp_sup_pod_touch(pr);
	pp_sup_record_write(pr);
	snprintf(msg, sizeof(msg),
		 "Pod from %s is the file's (a static pod): its API object was recreated and its "
		 "containers keep running; remove or change the file to stop or replace it",
		 pr->spec->file ? pr->spec->file : "a file");
	pp_sup_emit_event(pr, PP_NO_CONTAINER, PP_EVENT_NORMAL, "MirrorPodRecreated", msg,
			  pp_clock_now());
	pp_sup_record_event(pr, PP_NO_CONTAINER, PP_EVENT_NORMAL, "MirrorPodRecreated", msg);
}
