/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory (--state-dir): logs, volumes, records and api.sock of one `podprobe run`.
 * It belongs to whoever runs podprobe: created 0700, refused when someone else owns it or it
 * is writable by group or others, locked (flock on <dir>/lock) for the life of a run, and
 * walked only through directory fds with O_NOFOLLOW, so that nothing planted in it is followed.
 */
#ifndef PODPROBE_STATEDIR_H
#define PODPROBE_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PP_STATEDIR_LOCK "lock" /* holds the pid of the run that has it locked */

/*
 * Open the state directory <path>; when <create>, make it and missing parents first (mode
 * 0700). Refuses a symbolic link (-ELOOP), a non-directory (-ENOTDIR), a directory that the
 * effective uid does not own (-EPERM) or that group or others can write (-EACCES), each with
 * a message naming <path> in <err>. Returns an O_DIRECTORY|O_CLOEXEC fd, or -errno.
 */
int pp_statedir_open(const char *path, bool create, char *err, size_t errlen);

/*
 * Take the run's exclusive lock on state directory <dirfd>: flock(LOCK_EX|LOCK_NB) on
 * "lock" (created 0600, never through a link) and write this process's pid in it. Returns
 * the lock's fd (CLOEXEC; the lock lasts until it is closed), -EWOULDBLOCK when another
 * process holds it (its pid in <ret_holder>, 0 when the file does not name one yet), or -errno.
 */
int pp_statedir_lock(int dirfd, pid_t *ret_holder);

/*
 * Find the live process that holds the lock of state directory <dir> (api.sock clients check
 * that it is the one serving the socket):
 * the lock must be held, the pid read from the lock file, a pidfd opened for it, and that
 * process proven to hold the lock (one of its fds is the lock file, and its fdinfo shows the
 * FLOCK WRITE lock) while it is still alive behind the pidfd, so a stale pid or a reused pid
 * is never taken for the holder. Returns 0 with <ret_pid> and <ret_pidfd> (CLOEXEC, the
 * caller closes it), -ESRCH when no live process provably holds the lock, or -errno (-EACCES:
 * the holder's /proc entries cannot be read). Writes the outputs only on success.
 */
int pp_statedir_holder(const char *dir, pid_t *ret_pid, int *ret_pidfd);

/*
 * Can <name> be one path component of the state directory? A DNS-1123 label (namespace,
 * container and volume names), which validation already requires; checked again where the
 * path is made. pp_statedir_pod_key_ok(): "<namespace>_<pod>", the pod name a DNS-1123
 * subdomain.
 */
bool pp_statedir_name_ok(const char *name);
bool pp_statedir_pod_key_ok(const char *key);

/*
 * mkdir -p: make the missing parents of <path> (and <path> itself when <last>) with <mode>;
 * existing directories are left as they are. Allocates nothing and uses no locks, so a child
 * between clone and exec may call it. Returns 0 or -errno.
 */
int pp_mkdir_parents(const char *path, mode_t mode, bool last);

/*
 * Open directory <name> in <dirfd>, creating it with <mode> when missing, never through a
 * symbolic link. Returns an O_DIRECTORY|O_CLOEXEC fd, or -errno (-ELOOP for a link,
 * -ENOTDIR for anything else in the way).
 */
int pp_statedir_mkdirat(int dirfd, const char *name, mode_t mode);

/*
 * Remove <name> in <dirfd> and everything below it, without following symbolic links or
 * leaving <dirfd>'s file system (whatever the contents were made of by the processes that
 * could write there). ENOENT is success. Returns 0 or -errno (-ELOOP past 256 levels).
 */
int pp_statedir_remove_tree(int dirfd, const char *name);

#endif
