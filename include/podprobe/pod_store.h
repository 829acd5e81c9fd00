/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-file reads and atomic writes of small state files (pod records) in a directory fd:
 * never through a symbolic link, never a half-written file under the final name.
 */
#ifndef PODPROBE_POD_STORE_H
#define PODPROBE_POD_STORE_H

#include <stddef.h>

/*
 * Replace <name> in <dirfd> with <len> bytes of <data>: written to "<name>.tmp" (mode 0600),
 * then exchanged with <name> (renamed over it where the file system cannot exchange), so a
 * reader (or a podprobe killed at any moment) sees the old file or the new one, never a part.
 * "<name>.tmp" keeps the old version as the next write's spare: remove it with <name>.
 * Returns 0 or -errno.
 *
 * Nothing is fsync'd: these files serve a podprobe restarted on the same boot (the page cache
 * is theirs), and what a previous boot wrote is dropped unread (its processes are gone; see
 * pp_sup_record_load()). An fsync here cost the loop about 0.3 ms per file on ext4, blocking
 * probes and kernel events behind every pod's state change.
 */
int pp_store_write(int dirfd, const char *name, const char *data, size_t len);

/*
 * Read regular file <name> in <dirfd> (not a link, FIFO or device) of at most <max> bytes.
 * Returns 0 with a malloc'd, NUL-terminated copy in <ret_data> and its length in <ret_len>,
 * -ENOENT, -EFBIG (larger than <max>), -EINVAL (not a regular file), or -errno.
 */
int pp_store_read(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len);

#endif
