// SPDX-License-Identifier: Apache-2.0
/*
 * A directory given to `podprobe run` is followed as kubelet's static pod path: a new file's pod
 * starts, a changed pod is replaced, a removed file's pod is deleted gracefully, a file that does
 * not validate leaves the pods alone, and an API delete of a directory's pod recreates its API
 * object (a new uid) while its containers run on. Driven through api.sock with curl.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
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

static char pods_dir[400], sock[400], out[65536];

static void pod_file(struct t_run *r, const char *name, const char *pod, const char *container,
		     const char *label)
{
	char text[1024], tmp[600], path[600];
	int fd;

	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels: {v: %s}\nspec:\n"
		 "  terminationGracePeriodSeconds: 5\n  containers:\n  - name: %s\n"
		 "    image: busybox\n    command: [sleep, '60']\n",
		 pod, label, container);
	/* Written aside and renamed in, as editors and config tools do. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", r->dir, name);
	snprintf(path, sizeof(path), "%s/%s", pods_dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(rename(tmp, path), 0);
}

/* curl over the run's api.sock; the body in <out>, the exit code returned. */
static int api(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int api(const char *fmt, ...)
{
	char args[2048], cmd[3000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 20 curl -sS --unix-socket %s %s", sock, args);
	return t_system(cmd, out, sizeof(out));
}

/* The metadata.uid of pod <name>, or "" when it is not there. */
static void uid_of(const char *name, char *buf, size_t size)
{
	char *p;

	buf[0] = '\0';
	if (api("http://x/api/v1/namespaces/default/pods/%s", name) != 0)
		return;
	p = strstr(out, "\"uid\":\"");
	if (p)
		snprintf(buf, size, "%.36s", p + 7);
}

static void test_directory_is_followed(void **state)
{
	struct t_run r;
	const char *argv[3];
	char uid1[64], uid2[64];
	unsigned int kills;

	(void)state;
	t_run_init(&r);
	snprintf(pods_dir, sizeof(pods_dir), "%s/pods", r.dir);
	assert_int_equal(mkdir(pods_dir, 0755), 0);
	pod_file(&r, "a.yaml", "a", "ca", "one");
	argv[0] = pods_dir;
	argv[1] = NULL;
	t_run_start(&r, argv);
	snprintf(sock, sizeof(sock), "%s/api.sock", r.state_dir);
	t_wait_event(&r, "Started", "ca", 0, 10000);

	/* A new file: its pod starts. */
	pod_file(&r, "b.yaml", "b", "cb", "one");
	t_wait_event(&r, "Started", "cb", 0, 10000);

	/* A changed pod: the old one stops, the new one starts. */
	pod_file(&r, "a.yaml", "a", "ca", "two");
	t_wait_event(&r, "Killing", "ca", 0, 10000);
	t_wait_event(&r, "Started", "ca", 1, 15000);
	assert_int_equal(api("'http://x/api/v1/namespaces/default/pods?labelSelector=v%%3Dtwo'"),
			 0);
	assert_non_null(strstr(out, "\"name\":\"a\""));

	/* A removed file: its pod is deleted gracefully and leaves the API. */
	{
		char path[600];
		unsigned long long rv = 0;
		char *p;

		/* Watched from the list's resourceVersion: the DELETED comes even if it is past. */
		assert_int_equal(api("http://x/api/v1/namespaces/default/pods"), 0);
		p = strstr(out, "\"resourceVersion\":\"");
		assert_non_null(p);
		rv = strtoull(p + 19, NULL, 10);
		snprintf(path, sizeof(path), "%s/b.yaml", pods_dir);
		assert_int_equal(unlink(path), 0);
		t_wait_event(&r, "Killing", "cb", 0, 10000);
		assert_int_equal(api("-N 'http://x/api/v1/namespaces/default/pods?watch=true&"
				     "resourceVersion=%llu&timeoutSeconds=5&fieldSelector=metadata."
				     "name%%3Db' | "
				     "grep -m1 -o '\"type\":\"DELETED\"'",
				     rv),
				 0);
	}

	/* A file that does not validate: nothing changes, and the error names the file. */
	{
		char path[600];
		int fd;

		snprintf(path, sizeof(path), "%s/bad.yaml", pods_dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_true(write(fd, "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n",
				  52) == 52);
		close(fd);
	}

	/* An API delete of a directory's pod: a new object (uid), the containers run on. */
	uid_of("a", uid1, sizeof(uid1));
	assert_int_equal(strlen(uid1), 36);
	kills = t_count_events(&r, "Killing", "ca");
	assert_int_equal(api("-X DELETE http://x/api/v1/namespaces/default/pods/a"), 0);
	t_wait_event(&r, "MirrorPodRecreated", NULL, 0, 5000);
	uid_of("a", uid2, sizeof(uid2));
	assert_int_equal(strlen(uid2), 36);
	assert_string_not_equal(uid1, uid2);
	t_drain(&r, 500);
	assert_int_equal(t_count_events(&r, "Killing", "ca"), kills);

	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 20000), 1); /* SIGTERM deaths count as Failed */
	assert_non_null(strstr(r.err_text, "bad.yaml:"));
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_directory_is_followed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
