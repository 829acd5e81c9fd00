/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What tells one process from another that later gets the same pid, and how a process that is
 * not podprobe's child ended: the pieces a restarted podprobe needs to re-adopt containers
 * (never by pid alone).
 */
#ifndef PODPROBE_PROC_IDENTITY_H
#define PODPROBE_PROC_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pp_proc_stat {
	uint64_t start_ticks; /* field 22: clock ticks after boot the process started */
	char state;	      /* field 3: 'R', 'S', 'Z'... */
	int exit_code;	      /* field 52: its wait(2) status once a zombie */
	pid_t ppid;
};

/* Read /proc/<pid>/stat. Returns 0, -ESRCH when there is no such process, or -errno. */
int pp_proc_stat(pid_t pid, struct pp_proc_stat *ret);

/* The kernel's boot id (/proc/sys/kernel/random/boot_id) into <buf>. Returns 0 or -errno. */
int pp_boot_id(char *buf, size_t size);

/*
 * How the process behind <pidfd> ended, from the kernel's record of its exit (PIDFD_GET_INFO
 * with PIDFD_INFO_EXIT, Linux 6.15): available to any holder of a pidfd once the process has
 * been reaped, by whichever parent it had. Returns 0 with its wait(2) status in <ret_status>,
 * -EAGAIN while that is not known (not reaped yet), -EOPNOTSUPP on older kernels, or -errno.
 */
int pp_pidfd_exit_status(int pidfd, int *ret_status);

/* Is <pid> listed in cgroup directory <cg>'s cgroup.procs? */
bool pp_cgroup_has_pid(const char *cg, pid_t pid);

#endif
