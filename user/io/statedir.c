// SPDX-License-Identifier: Apache-2.0
/*
 * The state directory: ownership and mode checks, the run's lock, and link-safe directory
 * operations. Everything below the directory itself is reached with openat() and O_NOFOLLOW
 * from a directory fd, so a symbolic link planted anywhere in the tree is never followed.
 */
#include "podprobe/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "podprobe/pod.h"

#define MAX_TREE_DEPTH 256

int pp_mkdir_parents(const char *path, mode_t mode, bool last)
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
	if (last && mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int pp_statedir_open(const char *path, bool create, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (!path || !*path) {
		snprintf(err, errlen, "no state directory given");
		return -EINVAL;
	}
	if (create) {
		rc = pp_mkdir_parents(path, 0700, false);
		if (rc == 0 && mkdir(path, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		if (rc < 0) {
			snprintf(err, errlen, "cannot create state directory '%s': %s", path,
				 strerror(-rc));
			return rc;
		}
	}
	/* O_NOFOLLOW: the directory itself must not be a link someone else could point. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		/* O_DIRECTORY answers ENOTDIR for a link, O_NOFOLLOW alone ELOOP. */
		if ((rc == -ENOTDIR || rc == -ELOOP) && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			rc = -ELOOP;
		if (rc == -ELOOP)
			snprintf(err, errlen, "state directory '%s' is a symbolic link, refusing",
				 path);
		else
			snprintf(err, errlen, "cannot open state directory '%s': %s", path,
				 strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat state directory '%s': %s", path, strerror(-rc));
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		rc = -EPERM;
		snprintf(err, errlen,
			 "state directory '%s' is owned by uid %u, not by podprobe's uid %u, "
			 "refusing",
			 path, (unsigned int)st.st_uid, (unsigned int)geteuid());
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = -EACCES;
		snprintf(err, errlen,
			 "state directory '%s' is writable by group or others (mode %04o), "
			 "refusing (chmod go-w, or remove it)",
			 path, (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/* The pid written in lock file <fd>, or 0. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v <= 1 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

int pp_statedir_lock(int dirfd, pid_t *ret_holder)
{
	char buf[32];
	struct stat st;
	int fd, rc, n;

	fd = openat(dirfd, PP_STATEDIR_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK)
			*ret_holder = read_pid(fd);
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		rc = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/* Does fd <name> of process <pid> hold the FLOCK write lock (on the file it has open)? */
static bool fd_holds_lock(pid_t pid, const char *name)
{
	char path[320], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	/* fs/locks.c show_fd_locks(): "lock:\t1: FLOCK  ADVISORY  WRITE <pid> ..." */
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "lock:", 5) && strstr(line, " FLOCK ") &&
			strstr(line, " WRITE ");
	fclose(f);
	return found;
}

/* Does process <pid> hold the lock on the file <lock> through one of its fds? */
static int holds_lock(pid_t pid, const struct stat *lock)
{
	char path[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!found && (e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		/* Follows the fd's magic link to the open file itself. */
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (st.st_dev == lock->st_dev && st.st_ino == lock->st_ino)
			found = fd_holds_lock(pid, e->d_name);
	}
	closedir(d);
	return found ? 0 : -ESRCH;
}

int pp_statedir_holder(const char *dir, pid_t *ret_pid, int *ret_pidfd)
{
	struct pollfd pfd;
	struct stat st;
	int dfd, fd, pidfd = -1, rc;
	pid_t pid;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT || errno == ELOOP ? -ESRCH : -errno;
	fd = openat(dfd, PP_STATEDIR_LOCK, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ESRCH : -errno;
	rc = -ESRCH;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	/* A shared lock we can take means nobody holds the exclusive one: no run. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		goto out;
	if (errno != EWOULDBLOCK) {
		rc = -errno;
		goto out;
	}
	pid = read_pid(fd);
	if (pid <= 1)
		goto out;
	/* The pidfd first: from here on the pid cannot be recycled under us unnoticed. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		rc = errno == ESRCH ? -ESRCH : -errno;
		goto out;
	}
	rc = holds_lock(pid, &st);
	if (rc < 0)
		goto out;
	/* Still alive after the check, so the process checked is the one behind the pidfd. */
	pfd = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 0) {
		rc = -ESRCH;
		goto out;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	pidfd = -1;
	rc = 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	close(fd);
	return rc;
}

bool pp_statedir_name_ok(const char *name)
{
	return pp_is_dns1123_label(name);
}

bool pp_statedir_pod_key_ok(const char *key)
{
	const char *sep = key ? strchr(key, '_') : NULL;
	char ns[64];

	if (!sep || (size_t)(sep - key) >= sizeof(ns))
		return false;
	memcpy(ns, key, (size_t)(sep - key));
	ns[sep - key] = '\0';
	return pp_is_dns1123_label(ns) && pp_is_dns1123_subdomain(sep + 1);
}

int pp_statedir_mkdirat(int dirfd, const char *name, mode_t mode)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	/* Opened first: the directory is there on all but the first call (a pod's records). */
	int fd = openat(dirfd, name, flags);

	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, flags);
	return fd < 0 ? -errno : fd;
}

static int remove_below(int fd, dev_t dev, unsigned int depth)
{
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (depth > MAX_TREE_DEPTH) {
		close(fd);
		return -ELOOP;
	}
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = -errno;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev) {
				rc = -EXDEV; /* a mount point: not ours to empty */
				break;
			}
			sub = openat(fd, e->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
			if (sub < 0 && errno == EPERM)
				sub = openat(fd, e->d_name,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = errno == ENOENT ? 0 : -errno;
				continue;
			}
			rc = remove_below(sub, dev, depth + 1);
			if (rc == 0 && unlinkat(fd, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				rc = -errno;
		} else if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) {
			rc = -errno;
		}
	}
	closedir(d);
	return rc;
}

int pp_statedir_remove_tree(int dirfd, const char *name)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = remove_below(fd, st.st_dev, 1);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}
