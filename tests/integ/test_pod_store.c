// SPDX-License-Identifier: Apache-2.0
/*
 * pp_store_write() (include/podprobe/pod_store.h): the name always holds one whole version, the
 * spare "<name>.tmp" the one before, and after the first two writes no write allocates an inode
 * (the spare is exchanged with the name, never unlinked), on this test's own temp directory.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "podprobe/pod_store.h"

struct store_dir {
	char path[64];
	int fd;
};

static int setup(void **state)
{
	struct store_dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/pp-store-XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = d;
	return d->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct store_dir *d = *state;
	char cmd[128];

	close(d->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d->path);
	free(d);
	return 0;
}

static void assert_content(int dirfd, const char *name, const char *want)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(pp_store_read(dirfd, name, 4096, &text, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
}

static ino_t inode_of(int dirfd, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

static void test_versions_and_spare(void **state)
{
	struct store_dir *d = *state;
	char want[64], prev[64];
	ino_t a, b;

	assert_int_equal(pp_store_write(d->fd, "record", "one", 3), 0);
	assert_content(d->fd, "record", "one");
	assert_int_equal(faccessat(d->fd, "record.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(pp_store_write(d->fd, "record", "two, longer", 11), 0);
	assert_content(d->fd, "record", "two, longer");
	assert_content(d->fd, "record.tmp", "one");
	a = inode_of(d->fd, "record");
	b = inode_of(d->fd, "record.tmp");
	assert_true(a != b);
	/* From now on the two inodes take turns; a shorter version leaves no tail behind. */
	for (int i = 0; i < 50; i++) {
		snprintf(prev, sizeof(prev), "%s", i ? want : "two, longer");
		snprintf(want, sizeof(want), "v%d%s", i, i % 2 ? "" : " with a longer tail");
		assert_int_equal(pp_store_write(d->fd, "record", want, strlen(want)), 0);
		assert_content(d->fd, "record", want);
		assert_content(d->fd, "record.tmp", prev);
		assert_true(inode_of(d->fd, "record") == (i % 2 ? a : b));
		assert_true(inode_of(d->fd, "record.tmp") == (i % 2 ? b : a));
	}
}

/* A symbolic link planted as the spare is not followed, and the name keeps its version. */
static void test_spare_link_refused(void **state)
{
	struct store_dir *d = *state;
	char target[128];

	assert_int_equal(pp_store_write(d->fd, "pod.yaml", "kept", 4), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", d->path);
	assert_int_equal(symlinkat(target, d->fd, "pod.yaml.tmp"), 0);
	assert_int_equal(pp_store_write(d->fd, "pod.yaml", "new", 3), -ELOOP);
	assert_content(d->fd, "pod.yaml", "kept");
	assert_int_equal(faccessat(d->fd, "elsewhere", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_versions_and_spare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_link_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
