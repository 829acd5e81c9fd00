// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe logs`: the state directory is checked as `podprobe run` checks it and walked
 * through directory fds with O_NOFOLLOW, and the names that become path components are
 * checked again, so the command only ever reads the log files podprobe wrote.
 */
#include "podprobe/logs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podprobe/log.h"
#include "podprobe/pod.h"
#include "podprobe/statedir.h"

static int open_dir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The container directories of <dir_fd>, sorted, as one "a b c" string. */
static int list_containers(int dir_fd, char *buf, size_t size, char *only, size_t only_size)
{
	struct dirent **names;
	char path[64];
	int n, count = 0;
	size_t len = 0;

	/* scandir() wants a path: the fd's own, which cannot be swapped under us. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir_fd);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (pp_statedir_name_ok(names[i]->d_name)) {
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

/* The highest (or second highest) restart number with a log file in <dir_fd>. */
static int pick_restart(int dir_fd, bool previous)
{
	long best = -1, second = -1;
	struct dirent *e;
	int fd = dup(dir_fd);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
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

int pp_logs_open(const char *state_dir, const char *pod_key, const char *container, bool previous,
		 int *ret_fd)
{
	char msg[PATH_MAX + 128], name[32];
	int state_fd, logs_fd = -1, pod_fd = -1, c_fd = -1, fd = -1, restart, rc;
	struct stat st;

	if (!pp_statedir_pod_key_ok(pod_key) || !pp_statedir_name_ok(container))
		return -EINVAL;
	state_fd = pp_statedir_open(state_dir, false, msg, sizeof(msg));
	rc = state_fd < 0 ? state_fd : (logs_fd = open_dir_at(state_fd, "logs"));
	if (rc >= 0)
		rc = pod_fd = open_dir_at(logs_fd, pod_key);
	if (rc >= 0)
		rc = c_fd = open_dir_at(pod_fd, container);
	restart = rc < 0 ? rc : pick_restart(c_fd, previous);
	rc = restart;
	if (rc >= 0) {
		snprintf(name, sizeof(name), "%d.log", restart);
		fd = openat(c_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0)
			rc = -errno;
		else
			rc = S_ISREG(st.st_mode) ? 0 : -EINVAL;
	}
	if (rc == 0) {
		*ret_fd = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (pod_fd >= 0)
		close(pod_fd);
	if (logs_fd >= 0)
		close(logs_fd);
	if (state_fd >= 0)
		close(state_fd);
	return rc;
}

static int copy_out(int fd)
{
	char buf[65536];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			return -EIO;
	fflush(stdout);
	return r < 0 ? -errno : 0;
}

int pp_logs_print(const char *state_dir, const char *ns, const char *pod, const char *container,
		  bool previous)
{
	char key[330], list[2048], only[256], msg[PATH_MAX + 128];
	int state_fd = -1, logs_fd = -1, pod_fd = -1, fd = -1, n, rc;

	if (!pp_is_dns1123_label(ns) || !pp_is_dns1123_subdomain(pod) ||
	    (container && !pp_statedir_name_ok(container))) {
		pp_log(PP_LOG_ERR, "invalid namespace, pod or container name");
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%s_%s", ns, pod);
	state_fd = pp_statedir_open(state_dir, false, msg, sizeof(msg));
	if (state_fd < 0 && state_fd != -ENOENT) {
		pp_log(PP_LOG_ERR, "%s", msg);
		return state_fd;
	}
	rc = state_fd < 0 ? state_fd : open_dir_at(state_fd, "logs");
	logs_fd = rc;
	if (rc >= 0)
		rc = pod_fd = open_dir_at(logs_fd, key);
	n = rc < 0 ? rc : list_containers(pod_fd, list, sizeof(list), only, sizeof(only));
	if (n <= 0) {
		pp_log(PP_LOG_ERR, "no logs for pod '%s' in namespace '%s' under '%s'", pod, ns,
		       state_dir);
		rc = -ENOENT;
		goto out;
	}
	if (!container) {
		if (n > 1) {
			pp_log(PP_LOG_ERR,
			       "a container name must be specified for pod %s, choose one of: [%s]",
			       pod, list);
			rc = -EINVAL;
			goto out;
		}
		container = only;
	}
	rc = pp_statedir_name_ok(container) ? pp_logs_open(state_dir, key, container, previous, &fd)
					    : -ENOENT;
	if (rc == -ENOENT) {
		if (previous)
			pp_log(PP_LOG_ERR,
			       "previous terminated container \"%s\" in pod \"%s\" not found",
			       container, pod);
		else
			pp_log(PP_LOG_ERR,
			       "container %s is not valid for pod %s, choose one of: [%s]",
			       container, pod, list);
		goto out;
	}
	if (rc < 0) {
		pp_log_errno(PP_LOG_ERR, rc, "cannot open the log of '%s/logs/%s/%s'", state_dir,
			     key, container);
		goto out;
	}
	rc = copy_out(fd);
out:
	if (fd >= 0)
		close(fd);
	if (pod_fd >= 0)
		close(pod_fd);
	if (logs_fd >= 0)
		close(logs_fd);
	if (state_fd >= 0)
		close(state_fd);
	return rc;
}
