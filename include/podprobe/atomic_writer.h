/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volume files written as kubelet's AtomicWriter writes them (pkg/volume/util/atomic_writer.go):
 * the payload goes into a fresh "..<timestamp>" directory, a "..data" symlink is switched to it
 * with one rename, and each top-level name is a symlink through "..data". A reader sees the
 * old payload or the new one, never a mix.
 */
#ifndef PODPROBE_ATOMIC_WRITER_H
#define PODPROBE_ATOMIC_WRITER_H

#include <stddef.h>

#include "podprobe/pod_env-t.h"

/*
 * Write <p> into the directory <dir_fd>. Everything is made relative to directory fds with
 * O_NOFOLLOW (no link a container planted is followed; "..data" is only trusted when it names a
 * "..*" entry of <dir_fd>). Nothing is written when the payload is what "..data" holds already.
 * Returns 1 when written, 0 when unchanged, or -errno with a message in <err>.
 */
int pp_atomic_write(int dir_fd, const struct pp_vol_payload *p, char *err, size_t errlen);

#endif
