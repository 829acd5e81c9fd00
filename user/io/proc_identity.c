// SPDX-License-Identifier: Apache-2.0
#include "podprobe/proc_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/types.h>

/* include/uapi/linux/pidfd.h of Linux 6.15; Debian 12's headers predate it. */
struct pidfd_info_v0 {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code;
};
#define PIDFD_GET_INFO_V0   _IOWR(0xFF, 11, struct pidfd_info_v0)
#define PIDFD_INFO_EXIT_BIT (1ULL << 3)

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return (int)n;
}

int pp_proc_stat(pid_t pid, struct pp_proc_stat *ret)
{
	char path[64], buf[2048], *p, *tok, *save = NULL;
	struct pp_proc_stat st = {0};
	int n, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : n;
	/* The command name may hold spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	field = 3;
	for (tok = strtok_r(p + 1, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 3)
			st.state = tok[0];
		else if (field == 4)
			st.ppid = (pid_t)strtol(tok, NULL, 10);
		else if (field == 22)
			st.start_ticks = strtoull(tok, NULL, 10);
		else if (field == 52)
			st.exit_code = (int)strtol(tok, NULL, 10);
	}
	if (field <= 22)
		return -EINVAL;
	*ret = st;
	return 0;
}

int pp_boot_id(char *buf, size_t size)
{
	char tmp[64];
	int n = read_small("/proc/sys/kernel/random/boot_id", tmp, sizeof(tmp));

	if (n < 0)
		return n;
	tmp[strcspn(tmp, "\n")] = '\0';
	if (snprintf(buf, size, "%s", tmp) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int pp_pidfd_exit_status(int pidfd, int *ret_status)
{
	struct pidfd_info_v0 info = {.mask = PIDFD_INFO_EXIT_BIT};

	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info) < 0)
		return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
	if (!(info.mask & PIDFD_INFO_EXIT_BIT))
		return -EAGAIN;
	*ret_status = info.exit_code;
	return 0;
}

bool pp_cgroup_has_pid(const char *cg, pid_t pid)
{
	char path[4200], line[32];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strtol(line, NULL, 10) == pid;
	fclose(f);
	return found;
}
