// SPDX-License-Identifier: Apache-2.0
#include "podprobe/logs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/log.h"
#include "podprobe/runtime.h"

/* The container directories of <dir>, sorted, as one "a b c" string. */
static int list_containers(const char *dir, char *buf, size_t size, char *only, size_t only_size)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), count = 0;
	size_t len = 0;

	if (n < 0)
		return -errno;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
						count ? " " : "", names[i]->d_name);
			snprintf(only, only_size, "%s", names[i]->d_name);
			count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

/* The highest (or second highest) restart number with a log file in <dir>. */
static int pick_restart(const char *dir, bool previous)
{
	long best = -1, second = -1;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long v;

		errno = 0;
		v = strtol(e->d_name, &end, 10);
		if (errno || end == e->d_name || strcmp(end, ".log") || v < 0 || v > INT_MAX)
			continue;
		if (v > best) {
			second = best;
			best = v;
		} else if (v > second) {
			second = v;
		}
	}
	closedir(d);
	if (previous)
		return second >= 0 ? (int)second : -ENOENT;
	return best >= 0 ? (int)best : -ENOENT;
}

int pp_logs_print(const char *state_dir, const char *ns, const char *pod, const char *container,
		  bool previous)
{
	char key[330], dir[PATH_MAX], list[2048], only[256], path[PATH_MAX + 512], buf[65536];
	int restart, fd, n;
	ssize_t r;

	snprintf(key, sizeof(key), "%s_%s", ns, pod);
	snprintf(dir, sizeof(dir), "%s/logs/%s", state_dir, key);
	n = list_containers(dir, list, sizeof(list), only, sizeof(only));
	if (n <= 0) {
		pp_log(PP_LOG_ERR, "no logs for pod '%s' in namespace '%s' under '%s'", pod, ns,
		       state_dir);
		return -ENOENT;
	}
	if (!container) {
		if (n > 1) {
			pp_log(PP_LOG_ERR,
			       "a container name must be specified for pod %s, choose one of: [%s]",
			       pod, list);
			return -EINVAL;
		}
		container = only;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, container);
	restart = pick_restart(path, previous);
	if (restart < 0) {
		if (previous)
			pp_log(PP_LOG_ERR,
			       "previous terminated container \"%s\" in pod \"%s\" not found",
			       container, pod);
		else
			pp_log(PP_LOG_ERR,
			       "container %s is not valid for pod %s, choose one of: [%s]",
			       container, pod, list);
		return -ENOENT;
	}
	pp_runtime_log_path(state_dir, key, container, (uint32_t)restart, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_log_errno(PP_LOG_ERR, -errno, "cannot open '%s'", path);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			break;
	close(fd);
	fflush(stdout);
	return 0;
}
