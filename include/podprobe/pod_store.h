/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-file reads and atomic writes of small state files (pod records) in a directory fd:
 * never through a symbolic link, never a half-written file under the final name.
 */
#ifndef PODPROBE_POD_STORE_H
#define PODPROBE_POD_STORE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Replace <name> in <dirfd> with <len> bytes of <data>: written to "<name>.tmp" (mode 0600),
 * then renamed over <name>, so a reader (or a podprobe killed at any moment) sees the old file
 * or the new one, never a part. With <durable> the data and the directory are fsync'd (for
 * state directories on disk; /run is tmpfs). Returns 0 or -errno.
 */
int pp_store_write(int dirfd, const char *name, const char *data, size_t len, bool durable);

/*
 * Read regular file <name> in <dirfd> (not a link, FIFO or device) of at most <max> bytes.
 * Returns 0 with a malloc'd, NUL-terminated copy in <ret_data> and its length in <ret_len>,
 * -ENOENT, -EFBIG (larger than <max>), -EINVAL (not a regular file), or -errno.
 */
int pp_store_read(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len);

/* Does the file system of <dirfd> outlive a reboot (not tmpfs or ramfs)? */
bool pp_store_is_durable(int dirfd);

#endif
