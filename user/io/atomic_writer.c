// SPDX-License-Identifier: Apache-2.0
/*
 * kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go, Write): payload into a new
 * timestamped directory, "..data" switched to it by renaming "..data_tmp" over it, user-visible
 * names as symlinks "name -> ..data/name", then the old directory and the names the new payload
 * lacks removed. Every step goes through directory fds with O_NOFOLLOW.
 */
#include "podprobe/atomic_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "podprobe/pod_env.h"
#include "podprobe/statedir.h"

#define DATA_DIR  "..data"
#define DATA_TMP  "..data_tmp"
#define MAX_DEPTH 64
#define DIR_MODE  0755

/*
 * The directory that holds <path>'s last element, below <base> (made with <mode> when
 * <create>); *<ret_leaf> points into <path>. Returns an fd or -errno.
 */
static int open_parent(int base, const char *path, bool create, const char **ret_leaf)
{
	char comp[NAME_MAX + 1];
	int fd = fcntl(base, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -errno;
	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int next;

		if (!slash) {
			*ret_leaf = p;
			return fd;
		}
		if (n == 0 || n > NAME_MAX) {
			p = slash + 1;
			if (n == 0)
				continue;
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (create) {
			next = pp_statedir_mkdirat(fd, comp, DIR_MODE);
		} else {
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				next = -errno;
		}
		close(fd);
		if (next < 0)
			return next;
		fd = next;
		p = slash + 1;
	}
}

/* <path> below <dir> holds exactly <f>'s bytes and mode. */
static bool file_matches(int dir, const struct pp_vol_file *f)
{
	const char *leaf;
	int pfd = open_parent(dir, f->path, false, &leaf), fd;
	char buf[8192];
	struct stat st;
	size_t off = 0;
	bool same = false;

	if (pfd < 0)
		return false;
	fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(pfd);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == f->mode &&
	    (size_t)st.st_size == f->len) {
		for (same = true; same && off < f->len;) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n <= 0 || (size_t)n > f->len - off ||
			    memcmp(buf, f->data + off, (size_t)n))
				same = false;
			else
				off += (size_t)n;
		}
	}
	close(fd);
	return same;
}

/* Regular files below <fd> (taken over), or -1 on anything unexpected. */
static long count_files(int fd, unsigned int depth)
{
	struct dirent *e;
	long n = 0;
	DIR *d;

	if (depth > MAX_DEPTH) {
		close(fd);
		return -1;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while (n >= 0 && (e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			n = -1;
		} else if (S_ISREG(st.st_mode)) {
			n++;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			long k = sub < 0 ? -1 : count_files(sub, depth + 1);

			n = k < 0 ? -1 : n + k;
		} else {
			n = -1;
		}
	}
	closedir(d);
	return n;
}

/* The name "..data" points at, when it is ours: a "..*" entry of <dir>, one component. */
static bool read_data_link(int dir, char *buf, size_t size)
{
	ssize_t n = readlinkat(dir, DATA_DIR, buf, size - 1);

	if (n <= 2 || (size_t)n >= size - 1)
		return false;
	buf[n] = '\0';
	return !strncmp(buf, "..", 2) && !strchr(buf, '/') && strcmp(buf, DATA_DIR) &&
	       strcmp(buf, DATA_TMP);
}

static int write_one(int ts, const struct pp_vol_file *f)
{
	const char *leaf;
	int pfd = open_parent(ts, f->path, true, &leaf), fd, rc = 0;
	size_t off = 0;

	if (pfd < 0)
		return pfd;
	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(pfd);
	if (fd < 0)
		return -errno;
	while (rc == 0 && off < f->len) {
		ssize_t n = write(fd, f->data + off, f->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	/* fchmod: the umask does not narrow it, as os.WriteFile + Chmod in kubelet. */
	if (rc == 0 && fchmod(fd, f->mode) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* The top-level element of <path> into <buf>. */
static void top_name(const char *path, char *buf, size_t size)
{
	size_t n = strcspn(path, "/");

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), path);
}

static bool payload_has_top(const struct pp_vol_payload *p, const char *name)
{
	char top[NAME_MAX + 1];

	for (size_t i = 0; i < p->n; i++) {
		top_name(p->v[i].path, top, sizeof(top));
		if (!strcmp(top, name))
			return true;
	}
	return false;
}

/* Names of the old payload the new one lacks: their "name -> ..data/name" links go. */
static void remove_stale_links(int dir, int old_ts, const struct pp_vol_payload *p)
{
	struct dirent *e;
	DIR *d = fdopendir(old_ts);

	if (!d) {
		close(old_ts);
		return;
	}
	while ((e = readdir(d))) {
		char want[NAME_MAX + 16], got[NAME_MAX + 16];
		ssize_t n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    payload_has_top(p, e->d_name))
			continue;
		n = readlinkat(dir, e->d_name, got, sizeof(got) - 1);
		if (n < 0)
			continue;
		got[n] = '\0';
		snprintf(want, sizeof(want), DATA_DIR "/%s", e->d_name);
		if (!strcmp(got, want))
			unlinkat(dir, e->d_name, 0);
	}
	closedir(d);
}

int pp_atomic_write(int dir_fd, const struct pp_vol_payload *p, char *err, size_t errlen)
{
	char old[NAME_MAX + 1] = "", ts_name[64], top[NAME_MAX + 1], target[NAME_MAX + 16];
	bool have_old = read_data_link(dir_fd, old, sizeof(old));
	struct timespec now;
	struct tm tm;
	int ts = -1, rc = 0, old_fd;

	for (size_t i = 0; i < p->n; i++)
		if (!pp_vol_path_ok(p->v[i].path)) {
			snprintf(err, errlen, "invalid path %s", p->v[i].path);
			return -EINVAL;
		}
	/* shouldWritePayload: the same files with the same bytes and modes are left alone. */
	if (have_old) {
		old_fd = openat(dir_fd, old, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (old_fd >= 0) {
			bool same = true;
			int cnt = fcntl(old_fd, F_DUPFD_CLOEXEC, 3);

			for (size_t i = 0; same && i < p->n; i++)
				same = file_matches(old_fd, &p->v[i]);
			if (same && cnt >= 0 && count_files(cnt, 0) == (long)p->n) {
				close(old_fd);
				return 0;
			}
			if (!same && cnt >= 0)
				close(cnt);
			close(old_fd);
		}
	}

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	for (unsigned int attempt = 0; attempt < 100; attempt++) {
		/* time.Now().UTC().Format("..2006_01_02_15_04_05.") and a unique suffix */
		int n = snprintf(ts_name, sizeof(ts_name), "..%04d_%02d_%02d_%02d_%02d_%02d.%09ld",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec, now.tv_nsec);

		if (attempt)
			snprintf(ts_name + n, sizeof(ts_name) - (size_t)n, "_%u", attempt);
		if (mkdirat(dir_fd, ts_name, DIR_MODE) == 0)
			break;
		if (errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot create data directory: %s", strerror(-rc));
			return rc;
		}
	}
	ts = openat(dir_fd, ts_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ts < 0 || fchmod(ts, DIR_MODE) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create data directory: %s", strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		rc = write_one(ts, &p->v[i]);
		if (rc < 0)
			snprintf(err, errlen, "cannot write %s: %s", p->v[i].path, strerror(-rc));
	}
	if (rc < 0)
		goto fail;
	/* The switch: one rename of a symlink over "..data". */
	if ((unlinkat(dir_fd, DATA_TMP, 0) < 0 && errno != ENOENT) ||
	    symlinkat(ts_name, dir_fd, DATA_TMP) < 0 ||
	    renameat(dir_fd, DATA_TMP, dir_fd, DATA_DIR) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot switch %s: %s", DATA_DIR, strerror(-rc));
		goto fail;
	}
	/* createUserVisibleFiles: only where nothing is yet. */
	for (size_t i = 0; i < p->n; i++) {
		struct stat st;

		top_name(p->v[i].path, top, sizeof(top));
		if (fstatat(dir_fd, top, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		snprintf(target, sizeof(target), DATA_DIR "/%s", top);
		if (symlinkat(target, dir_fd, top) < 0 && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot link %s: %s", top, strerror(-rc));
			break;
		}
	}
	close(ts);
	if (have_old) {
		old_fd = openat(dir_fd, old, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (old_fd >= 0)
			remove_stale_links(dir_fd, old_fd, p);
		pp_statedir_remove_tree(dir_fd, old);
	}
	return rc < 0 ? rc : 1;
fail:
	if (ts >= 0)
		close(ts);
	pp_statedir_remove_tree(dir_fd, ts_name);
	return rc;
}
