// SPDX-License-Identifier: Apache-2.0
#include "podprobe/pod_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pp_store_write(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	size_t off = 0;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && !err)
		err = -errno;
	/*
	 * The new version takes the name and the old one becomes the spare, so the next write
	 * reuses its inode: a fresh inode per write made ext4's allocator scan its recently
	 * deleted inodes (fs/ext4/ialloc.c recently_deleted()), milliseconds per write once a
	 * few thousand records had been replaced. The first write has nothing to exchange with.
	 */
	if (!err && renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) < 0 &&
	    ((errno != ENOENT && errno != EINVAL) || renameat(dirfd, tmp, dirfd, name) < 0))
		err = -errno;
	if (err) {
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	return 0;
}

int pp_store_read(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO planted under the name must not hang the reader. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break; /* shorter than fstat said: what was read is the file */
		len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*ret_data = buf;
	*ret_len = len;
	return 0;
}
