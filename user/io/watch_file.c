// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch --pods FILE`: a PodList (`kubectl get pods -o json`) or a single Pod, read
 * again whenever the file is written or replaced (inotify on its directory).
 */
#include "watch_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"

/* ---- the pods file ------------------------------------------------------------------------ */

int pp_watch_file_load(struct pp_watch *w)
{
	json_error_t je;
	json_t *root, *items, *item;
	size_t i;

	root = json_load_file(w->cfg->pods_file, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		pp_log(PP_LOG_WARN, "%s:%d: %s (keeping the pods as they were)", w->cfg->pods_file,
		       je.line, je.text);
		return -EINVAL;
	}
	items = json_object_get(root, "items");
	pp_watch_sync_begin(w);
	if (json_is_array(items)) {
		json_array_foreach(items, i, item) pp_watch_upsert(w, item);
	} else if (json_object_get(root, "metadata"))
		pp_watch_upsert(w, root); /* a single Pod (kubectl get pod X -o json) */
	pp_watch_sync_end(w);
	json_decref(root);
	pp_watch_scan_cgroups(w, pp_clock_now());
	return 0;
}

static void on_inotify(void *ctx, int res)
{
	struct pp_watch *w = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	w->ino_op = 0;
	while ((n = read(w->ino_fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len && !strcmp(ev->name, w->pods_base))
				w->reload = true;
			p += sizeof(*ev) + ev->len;
		}
	(void)res;
	pp_loop_poll(w->loop, w->ino_fd, POLLIN, on_inotify, w, &w->ino_op);
}

/* Re-read the file when it is written or replaced (inotify on its directory: renames too). */
int pp_watch_file_setup(struct pp_watch *w)
{
	char *copy = strdup(w->cfg->pods_file), *slash;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		w->pods_dir = strdup(*copy ? copy : "/");
		w->pods_base = strdup(slash + 1);
	} else {
		w->pods_dir = strdup(".");
		w->pods_base = strdup(copy);
	}
	free(copy);
	if (!w->pods_dir || !w->pods_base)
		return -ENOMEM;
	w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ino_fd < 0 ||
	    inotify_add_watch(w->ino_fd, w->pods_dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE) < 0)
		return -errno;
	return pp_loop_poll(w->loop, w->ino_fd, POLLIN, on_inotify, w, &w->ino_op);
}
