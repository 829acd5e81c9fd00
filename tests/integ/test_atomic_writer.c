// SPDX-License-Identifier: Apache-2.0
/*
 * user/io/atomic_writer.c on a real directory: kubelet's AtomicWriter layout, updates that
 * switch ..data in one rename and clean up after themselves, an unchanged payload left alone,
 * and links planted in the directory (as a container could) never followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/atomic_writer.h"
#include "podprobe/statedir.h"

struct t_dir {
	char path[256];
	int fd;
};

static void t_dir_make(struct t_dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/podprobe-aw-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->fd >= 0);
}

static void t_dir_remove(struct t_dir *d)
{
	int parent = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	close(d->fd);
	assert_int_equal(pp_statedir_remove_tree(parent, d->path + 5), 0);
	close(parent);
}

static const char *t_cat(int dir, const char *name, char *buf, size_t size)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static const char *t_link(int dir, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dir, name, buf, size - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void test_layout_update_and_unchanged(void **state)
{
	struct pp_vol_file v1[] = {{"a", "1", 1, 0644}, {"d/b", "2", 1, 0400}};
	struct pp_vol_file v2[] = {{"a", "3", 1, 0600}};
	struct pp_vol_payload p1 = {.v = v1, .n = 2}, p2 = {.v = v2, .n = 1};
	char err[256], buf[64], first[64], target[PATH_MAX];
	struct t_dir d;
	struct stat st;
	mode_t old_umask = umask(077);

	t_dir_make(&d);
	assert_int_equal(pp_atomic_write(d.fd, &p1, err, sizeof(err)), 1);
	assert_string_equal(t_link(d.fd, "a", buf, sizeof(buf)), "..data/a");
	assert_string_equal(t_link(d.fd, "d", buf, sizeof(buf)), "..data/d");
	assert_non_null(t_link(d.fd, "..data", first, sizeof(first)));
	assert_memory_equal(first, "..", 2);
	assert_string_equal(t_cat(d.fd, "a", buf, sizeof(buf)), "1");
	assert_string_equal(t_cat(d.fd, "d/b", buf, sizeof(buf)), "2");
	/* The modes asked for, whatever the umask. */
	snprintf(target, sizeof(target), "%s/d/b", first);
	assert_int_equal(fstatat(d.fd, target, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0400);

	/* The same payload again: nothing is written, ..data stays. */
	assert_int_equal(pp_atomic_write(d.fd, &p1, err, sizeof(err)), 0);
	assert_string_equal(t_link(d.fd, "..data", buf, sizeof(buf)), first);

	/* A new one: ..data moves, the old directory and the name it lacks go. */
	assert_int_equal(pp_atomic_write(d.fd, &p2, err, sizeof(err)), 1);
	assert_non_null(t_link(d.fd, "..data", buf, sizeof(buf)));
	assert_string_not_equal(buf, first);
	assert_int_equal(fstatat(d.fd, first, &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(t_link(d.fd, "d", buf, sizeof(buf)));
	assert_string_equal(t_cat(d.fd, "a", buf, sizeof(buf)), "3");
	/* A mode change alone is a change too. */
	v2[0].mode = 0640;
	assert_int_equal(pp_atomic_write(d.fd, &p2, err, sizeof(err)), 1);
	umask(old_umask);
	t_dir_remove(&d);
}

static void test_planted_links_are_not_followed(void **state)
{
	struct pp_vol_file v[] = {{"a", "new", 3, 0644}, {"b", "x", 1, 0644}};
	struct pp_vol_payload p = {.v = v, .n = 2};
	char err[256], buf[64], outside[300], victim[320];
	struct t_dir d, o;
	int ofd;

	t_dir_make(&d);
	t_dir_make(&o);
	snprintf(outside, sizeof(outside), "%s", o.path);
	ofd = openat(o.fd, "keep", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(ofd >= 0);
	assert_int_equal(write(ofd, "precious", 8), 8);
	close(ofd);
	/* ..data pointing out of the volume, and a user-visible name linked to a host file. */
	assert_int_equal(symlinkat(outside, d.fd, "..data"), 0);
	snprintf(victim, sizeof(victim), "%s/keep", outside);
	assert_int_equal(symlinkat(victim, d.fd, "a"), 0);

	assert_int_equal(pp_atomic_write(d.fd, &p, err, sizeof(err)), 1);
	/* Nothing outside was read as the old payload, removed or written through. */
	assert_string_equal(t_cat(o.fd, "keep", buf, sizeof(buf)), "precious");
	assert_non_null(t_link(d.fd, "..data", buf, sizeof(buf)));
	assert_memory_equal(buf, "..", 2);
	assert_string_equal(t_cat(d.fd, "b", buf, sizeof(buf)), "x");
	t_dir_remove(&d);
	t_dir_remove(&o);
}

static void test_bad_paths_are_refused(void **state)
{
	struct pp_vol_file v[] = {{"../escape", "x", 1, 0644}};
	struct pp_vol_payload p = {.v = v, .n = 1};
	char err[256], buf[8];
	struct t_dir d;

	t_dir_make(&d);
	assert_int_equal(pp_atomic_write(d.fd, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid path ../escape");
	assert_null(t_link(d.fd, "..data", buf, sizeof(buf)));
	t_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_update_and_unchanged),
		cmocka_unit_test(test_planted_links_are_not_followed),
		cmocka_unit_test(test_bad_paths_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
