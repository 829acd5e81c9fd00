/* SPDX-License-Identifier: Apache-2.0 */
/* `podprobe logs`: print a container's log file from the state directory. */
#ifndef PODPROBE_LOGS_H
#define PODPROBE_LOGS_H

#include <stdbool.h>

/*
 * Copy the log of <container> (NULL: the pod's only container) of pod <ns>/<pod> to stdout:
 * the newest instance's, or the one before it when <previous>. Returns 0, -ENOENT (with a
 * message naming what is missing), -EINVAL when a container must be chosen, or -errno.
 */
int pp_logs_print(const char *state_dir, const char *ns, const char *pod, const char *container,
		  bool previous);

/*
 * Open (read-only, non-blocking) the log file of <container> of pod <pod_key> ("<ns>_<name>"):
 * the newest instance's, or the one before it when <previous>. Returns 0 with <ret_fd>,
 * -ENOENT when there is none, -EINVAL for bad names, or -errno.
 */
int pp_logs_open(const char *state_dir, const char *pod_key, const char *container, bool previous,
		 int *ret_fd);

#endif
