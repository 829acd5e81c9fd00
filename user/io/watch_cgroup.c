// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`: finding a container's cgroup v2 directory, its main process, and killing
 * it (cgroup.kill, Linux 5.14 commit 661ee6280931 "cgroup: introduce cgroup.kill").
 */
#include "watch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "podprobe/watch_pod.h"

int pp_watch_cg2_root(const char *root, char *buf, size_t size)
{
	struct statfs sfs;

	if (statfs(root, &sfs) < 0)
		return -errno;
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		snprintf(buf, size, "%s", root);
		return 0;
	}
	snprintf(buf, size, "%s/unified", root);
	if (statfs(buf, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		return 0;
	return -EMEDIUMTYPE;
}

struct walk_dir {
	char *path;
	unsigned int depth;
};

int pp_watch_cg_walk(const char *root, bool (*fn)(void *ctx, const char *name, const char *path),
		     void *ctx)
{
	struct walk_dir *q;
	size_t head = 0, tail = 0, cap = 256;
	int seen = 0, rc = 0;
	bool stop = false;

	q = malloc(cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	q[tail++] = (struct walk_dir){.path = strdup(root), .depth = 0};
	if (!q[0].path) {
		free(q);
		return -ENOMEM;
	}
	while (head < tail && !stop) {
		struct walk_dir d = q[head++];
		DIR *dir = opendir(d.path);
		struct dirent *e;

		while (dir && !stop && (e = readdir(dir))) {
			char path[PATH_MAX];

			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			if (++seen > PP_WATCH_CG_MAX_DIRS) {
				stop = true;
				break;
			}
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", d.path, e->d_name) >=
			    sizeof(path))
				continue;
			if (fn(ctx, e->d_name, path)) {
				stop = true;
				break;
			}
			if (d.depth + 1 >= PP_WATCH_CG_MAX_DEPTH)
				continue;
			if (tail == cap) {
				/* Compact what was taken, then grow. */
				struct walk_dir *nq;

				memmove(q, q + head, (tail - head) * sizeof(*q));
				tail -= head;
				head = 0;
				if (tail == cap) {
					nq = realloc(q, 2 * cap * sizeof(*q));
					if (!nq) {
						rc = -ENOMEM;
						stop = true;
						break;
					}
					q = nq;
					cap *= 2;
				}
			}
			q[tail].path = strdup(path);
			q[tail].depth = d.depth + 1;
			if (q[tail].path)
				tail++;
		}
		if (dir)
			closedir(dir);
		free(d.path);
	}
	for (; head < tail; head++)
		free(q[head].path);
	free(q);
	return rc < 0 ? rc : seen;
}

static int32_t parent_of(int32_t pid)
{
	char path[64], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* The comm may hold ") ": the state and ppid follow the last ')' (proc(5)). */
	if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

int pp_watch_cg_main_pid(const char *path)
{
	char file[PATH_MAX];
	int32_t pids[256], ppids[256];
	size_t n = 0;
	int pid;
	FILE *f;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (n < 256 && fscanf(f, "%d", &pid) == 1) {
		pids[n] = pid;
		ppids[n] = parent_of(pid);
		n++;
	}
	fclose(f);
	return pp_watch_main_pid(pids, ppids, n);
}

int pp_watch_cg_kill(const char *path)
{
	char file[PATH_MAX];
	int fd, rc = 0;

	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		rc = -errno;
	close(fd);
	return rc;
}
