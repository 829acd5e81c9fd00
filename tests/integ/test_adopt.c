// SPDX-License-Identifier: Apache-2.0
/*
 * podprobe survives its own restart as kubelet does: SIGKILL it mid-run and start it again on
 * the same state directory, and the containers that still run are re-adopted (not started
 * twice), restart counts and back-offs go on, a pod in its init phase finishes it, pods no
 * longer listed are deleted gracefully and changed ones recreated; records are never seen
 * half-written, and nothing is left behind at the end.
 */
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/naming.h"
#include "podprobe/pod_record.h"

/* Lines in <path> (0 when it does not exist). */
static int count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	int n = 0, ch;

	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* The first line of <path> as a number, or -1. */
static long first_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Decode the record of pod <key> into <rec>: 0, or -errno / -EBADMSG. */
static int read_record(const struct t_run *r, const char *key, struct pp_pod_record *rec)
{
	char path[PATH_MAX], err[128], *buf;
	struct stat st;
	size_t n;
	int fd, rc;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pods/%s/record", r->state_dir, key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	f = fdopen(fd, "r");
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	rc = pp_pod_record_decode(buf, n, rec, err, sizeof(err));
	if (rc < 0)
		print_message("record %s: %s\n", key, err);
	free(buf);
	return rc;
}

static bool pid_alive(long pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state && state != 'Z';
}

/* Directories named like the run's cgroup tree anywhere in the cgroup mounts (naming.h). */
static int count_cgroups(const struct t_run *r)
{
	char real[PATH_MAX], name[32], cmd[256], out[32];

	assert_non_null(realpath(r->state_dir, real));
	assert_int_equal(pp_cgroup_root_name(real, name, sizeof(name)), 0);
	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -maxdepth 8 -type d -name %s | wc -l", name);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	return atoi(out);
}

static const char *pods_yaml(const struct t_run *r, char *buf, size_t size)
{
	snprintf(buf, size,
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: steady}\n"
		 "spec:\n"
		 "  containers:\n"
		 "  - name: steady\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'echo $$$$ >> %s/steady.starts; exec sleep 600']\n"
		 "    readinessProbe:\n"
		 "      exec: {command: [test, -e, %s/ready]}\n"
		 "      periodSeconds: 1\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: crashy}\n"
		 "spec:\n"
		 "  containers:\n"
		 "  - name: crashy\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'echo x >> %s/crashy.starts; sleep 0.2; exit 3']\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: slowinit}\n"
		 "spec:\n"
		 "  initContainers:\n"
		 "  - name: init\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'echo i >> %s/init.starts; while [ ! -e %s/go ]; do "
		 "sleep 0.05; done']\n"
		 "  containers:\n"
		 "  - name: main\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'echo m >> %s/main.starts; exec sleep 600']\n",
		 r->dir, r->dir, r->dir, r->dir, r->dir, r->dir);
	return buf;
}

static void start(struct t_run *r, const char *manifest)
{
	const char *argv[] = {"--backoff-base=1s", "--backoff-max=2s", manifest, NULL};

	t_run_start(r, argv);
}

static void kill_podprobe(struct t_run *r)
{
	t_run_signal(r, SIGKILL);
	t_run_wait_exit(r, 5000);
}

static void test_sigkill_restart_readopts_running_containers(void **state)
{
	char yaml[4096], path[PATH_MAX], manifest[PATH_MAX];
	struct pp_pod_record rec = {0};
	unsigned int crashy_before, started_before;
	uint32_t restarts_before;
	long steady_pid;
	struct t_run r;

	t_run_init(&r);
	snprintf(manifest, sizeof(manifest), "%s",
		 t_write_manifest(&r, "pods.yaml", pods_yaml(&r, yaml, sizeof(yaml))));
	snprintf(path, sizeof(path), "%s/ready", r.dir);
	t_write_manifest(&r, "ready", "");
	start(&r, manifest);
	t_wait_event(&r, "Started", "steady", 0, 10000);
	t_wait_event(&r, "Started", "init", 0, 10000);
	/* crashy has restarted at least once. */
	t_wait_event(&r, "Started", "crashy", 1, 10000);
	snprintf(path, sizeof(path), "%s/steady.starts", r.dir);
	for (int i = 0; i < 250 && count_lines(path) < 1; i++)
		t_drain(&r, 20);
	steady_pid = first_number(path);
	assert_true(steady_pid > 1);

	/* SIGKILL mid-run: slowinit's init container is still waiting for its file. */
	kill_podprobe(&r);
	assert_true(pid_alive(steady_pid));
	assert_int_equal(read_record(&r, "default_crashy", &rec), 0);
	restarts_before = rec.c[0].st.restart_count;
	pp_pod_record_free(&rec);
	assert_true(restarts_before >= 1);
	snprintf(path, sizeof(path), "%s/crashy.starts", r.dir);
	crashy_before = (unsigned int)count_lines(path);
	started_before = t_count_events(&r, "Started", "crashy");

	start(&r, manifest);
	/* slowinit: its init container was adopted; it finishes and main starts once. */
	t_write_manifest(&r, "go", "");
	t_wait_event(&r, "Started", "main", 0, 10000);
	/* crashy goes on from where it was: more starts, the count carried over. */
	t_wait_event(&r, "Started", "crashy", started_before, 10000);
	t_drain(&r, 300);
	assert_int_equal(read_record(&r, "default_crashy", &rec), 0);
	assert_true(rec.c[0].st.restart_count > restarts_before);
	/* One start per instance, none lost or repeated: the log numbers carried over too. */
	assert_true(rec.c[0].st.restart_count + 1 == (uint32_t)count_lines(path) ||
		    rec.c[0].st.restart_count + 2 == (uint32_t)count_lines(path));
	pp_pod_record_free(&rec);
	assert_true((unsigned int)count_lines(path) > crashy_before);

	/* Nothing that was running started twice. */
	snprintf(path, sizeof(path), "%s/steady.starts", r.dir);
	assert_int_equal(count_lines(path), 1);
	assert_int_equal(first_number(path), steady_pid);
	assert_true(pid_alive(steady_pid));
	snprintf(path, sizeof(path), "%s/init.starts", r.dir);
	assert_int_equal(count_lines(path), 1);
	snprintf(path, sizeof(path), "%s/main.starts", r.dir);
	assert_int_equal(count_lines(path), 1);
	/* The adopted steady container is still probed: its readiness follows the file. */
	assert_int_equal(read_record(&r, "default_steady", &rec), 0);
	assert_true(rec.c[0].st.ready);
	assert_int_equal(rec.c[0].pid, steady_pid);
	pp_pod_record_free(&rec);
	snprintf(path, sizeof(path), "%s/ready", r.dir);
	unlink(path);
	t_wait_event(&r, "Unhealthy", "steady", 0, 5000);

	/* A graceful end: every process goes, and no record is left for a later run. */
	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 15000), 1);
	assert_false(pid_alive(steady_pid));
	snprintf(path, sizeof(path), "%s/pods/default_steady/record", r.state_dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(t_count_descendants("sleep 600"), 0);
	assert_int_equal(count_cgroups(&r), 0);
	t_run_cleanup(&r);
}

/* The adopted process dies while the new run watches it: its exit code is still known. */
static void test_adopted_container_exit_is_reported_with_its_code(void **state)
{
	char path[PATH_MAX], manifest[PATH_MAX], yaml[1024];
	const struct t_event *ev;
	unsigned int before;
	struct t_run r;

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: quitter}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'while [ ! -e %s/quit ]; do sleep 0.05; done; exit 7']\n",
		 r.dir);
	snprintf(manifest, sizeof(manifest), "%s", t_write_manifest(&r, "q.yaml", yaml));
	start(&r, manifest);
	t_wait_event(&r, "Started", "app", 0, 10000);
	kill_podprobe(&r);
	before = t_count_events(&r, "Terminated", NULL);
	start(&r, manifest);
	snprintf(path, sizeof(path), "%s/quit", r.dir);
	/* Once the new run has adopted it (its record rewritten), let it go. */
	t_drain(&r, 500);
	t_write_manifest(&r, "quit", "");
	ev = t_wait_event(&r, "Terminated", "app", before, 10000);
	assert_non_null(strstr(ev->message, "exit code 7, reason Error"));
	/* With eBPF the kernel's exit report names it first: the new run knows its pid. */
	if (strstr(r.err_text, "kernel signals: eBPF"))
		assert_string_equal(ev->source, "kernel");
	else
		print_message("no eBPF here: the exit came through the pidfd (%s)\n", ev->source);
	t_wait_event(&r, "PodFailed", NULL, 0, 5000);
	assert_int_equal(t_run_wait_exit(&r, 5000), 1);
	t_run_cleanup(&r);
}

/* Not listed any more: deleted gracefully (preStop runs) from its saved manifest. */
static void test_pod_no_longer_listed_is_deleted_gracefully(void **state)
{
	char yaml[2048], one[PATH_MAX], both[PATH_MAX], path[PATH_MAX];
	struct t_run r;

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: keep}\n"
		 "spec:\n"
		 "  containers: [{name: app, image: x, command: [sleep, '600']}]\n");
	snprintf(one, sizeof(one), "%s", t_write_manifest(&r, "one.yaml", yaml));
	snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml),
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: gone}\n"
		 "spec:\n"
		 "  terminationGracePeriodSeconds: 5\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: x\n"
		 "    command: [sleep, '600']\n"
		 "    lifecycle:\n"
		 "      preStop: {exec: {command: [sh, -c, 'echo bye > %s/gone.prestop']}}\n",
		 r.dir);
	snprintf(both, sizeof(both), "%s", t_write_manifest(&r, "both.yaml", yaml));
	start(&r, both);
	t_wait_event(&r, "Started", "app", 1, 10000);
	kill_podprobe(&r);
	start(&r, one);
	t_wait_event(&r, "Killing", "app", 0, 10000);
	snprintf(path, sizeof(path), "%s/gone.prestop", r.dir);
	t_wait_file(path, 5000);
	t_wait_event(&r, "Terminated", "app", 0, 10000);
	snprintf(path, sizeof(path), "%s/pods/default_gone/record", r.state_dir);
	for (int i = 0; i < 100 && access(path, F_OK) == 0; i++)
		t_drain(&r, 20);
	assert_int_equal(access(path, F_OK), -1);
	/* keep was re-adopted: one sleep left, started once. */
	assert_int_equal(t_count_descendants("sleep 600"), 1);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 15000);
	assert_int_equal(t_count_descendants("sleep 600"), 0);
	t_run_cleanup(&r);
}

/* Another spec under the same name: the old pod goes, then the new one starts. */
static void test_changed_manifest_recreates_the_pod(void **state)
{
	char yaml[1024], path[PATH_MAX];
	unsigned int started;
	struct t_run r;

	t_run_init(&r);
	snprintf(path, sizeof(path), "%s",
		 t_write_manifest(&r, "p.yaml",
				  "apiVersion: v1\n"
				  "kind: Pod\n"
				  "metadata: {name: web}\n"
				  "spec:\n"
				  "  terminationGracePeriodSeconds: 2\n"
				  "  containers: [{name: app, image: x, command: [sleep, '600']}]\n"));
	start(&r, path);
	t_wait_event(&r, "Started", "app", 0, 10000);
	kill_podprobe(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  terminationGracePeriodSeconds: 2\n"
		 "  containers: [{name: app, image: x, command: [sleep, '601']}]\n");
	t_write_manifest(&r, "p.yaml", yaml);
	started = t_count_events(&r, "Started", "app");
	start(&r, path);
	t_wait_event(&r, "Killing", "app", 0, 10000);
	t_wait_event(&r, "Started", "app", started, 10000);
	t_drain(&r, 200);
	assert_int_equal(t_count_descendants("sleep 600"), 0);
	assert_int_equal(t_count_descendants("sleep 601"), 1);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 15000);
	t_run_cleanup(&r);
}

/*
 * Killed at any moment, podprobe leaves every record whole: the old one or the new one.
 * Crash-looping pods rewrite their records many times a second.
 */
static void test_records_are_never_half_written(void **state)
{
	char yaml[8192], manifest[PATH_MAX];
	size_t len = 0;
	struct t_run r;

	t_run_init(&r);
	for (int i = 0; i < 10; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
					"---\n"
					"apiVersion: v1\n"
					"kind: Pod\n"
					"metadata: {name: loop%d}\n"
					"spec:\n"
					"  containers: [{name: app, image: x, command: [sh, -c, "
					"'exit 1']}]\n",
					i);
	snprintf(manifest, sizeof(manifest), "%s", t_write_manifest(&r, "loops.yaml", yaml));
	for (int round = 0; round < 15; round++) {
		const char *argv[] = {"--backoff-base=10ms", "--backoff-max=20ms", manifest, NULL};
		struct timespec ts = {0, (long)(50 + (round * 37) % 250) * 1000000L};

		t_run_start(&r, argv);
		nanosleep(&ts, NULL); /* a kill at an arbitrary moment is the point here */
		kill_podprobe(&r);
		for (int i = 0; i < 10; i++) {
			struct pp_pod_record rec = {0};
			char key[32];
			int rc;

			snprintf(key, sizeof(key), "default_loop%d", i);
			rc = read_record(&r, key, &rec);
			/* Not written yet (a very early kill) is fine; cut or garbled is not. */
			assert_true(rc == 0 || rc == -ENOENT);
			pp_pod_record_free(&rec);
		}
	}
	/* The last run ends gracefully and leaves nothing behind. */
	{
		const char *argv[] = {"--backoff-base=10ms", "--backoff-max=20ms", manifest, NULL};

		t_run_start(&r, argv);
		t_wait_event(&r, "Started", NULL, t_count_events(&r, "Started", NULL), 10000);
		t_run_signal(&r, SIGTERM);
		t_run_wait_exit(&r, 15000);
	}
	assert_int_equal(t_count_descendants("sh -c exit 1"), 0);
	t_run_cleanup(&r);
}

/* --keep-pods: SIGTERM ends podprobe and leaves its pods running; the next run adopts them. */
static void test_keep_pods_leaves_them_for_the_next_run(void **state)
{
	char path[PATH_MAX], manifest[PATH_MAX], yaml[1024];
	struct pp_pod_record rec = {0};
	unsigned int started;
	long pid;
	struct t_run r;

	t_run_init(&r);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: kept}\n"
		 "spec:\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: x\n"
		 "    command: [sh, -c, 'echo $$$$ >> %s/kept.starts; exec sleep 600']\n",
		 r.dir);
	snprintf(manifest, sizeof(manifest), "%s", t_write_manifest(&r, "k.yaml", yaml));
	{
		const char *argv[] = {"--keep-pods", manifest, NULL};

		t_run_start(&r, argv);
	}
	t_wait_event(&r, "Started", "app", 0, 10000);
	snprintf(path, sizeof(path), "%s/kept.starts", r.dir);
	for (int i = 0; i < 250 && count_lines(path) < 1; i++)
		t_drain(&r, 20);
	pid = first_number(path);
	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	/* No Killing, the container lives on, its record waits. */
	assert_int_equal(t_count_events(&r, "Killing", NULL), 0);
	assert_true(pid_alive(pid));
	assert_int_equal(read_record(&r, "default_kept", &rec), 0);
	assert_int_equal(rec.c[0].pid, pid);
	pp_pod_record_free(&rec);

	started = t_count_events(&r, "Started", NULL);
	start(&r, manifest);
	t_drain(&r, 500);
	assert_int_equal(t_count_events(&r, "Started", NULL), started);
	assert_int_equal(count_lines(path), 1);
	assert_true(pid_alive(pid));
	/* Without the flag, SIGTERM deletes it. */
	t_run_signal(&r, SIGTERM);
	t_wait_event(&r, "Killing", "app", 0, 5000);
	t_run_wait_exit(&r, 15000);
	assert_false(pid_alive(pid));
	assert_int_equal(count_cgroups(&r), 0);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_sigkill_restart_readopts_running_containers),
		T_TEST(test_adopted_container_exit_is_reported_with_its_code),
		T_TEST(test_pod_no_longer_listed_is_deleted_gracefully),
		T_TEST(test_changed_manifest_recreates_the_pod),
		T_TEST(test_records_are_never_half_written),
		T_TEST(test_keep_pods_leaves_them_for_the_next_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
