// SPDX-License-Identifier: Apache-2.0
/*
 * End to end: ConfigMaps and Secrets in the manifest files feed env valueFrom / envFrom and
 * configMap, secret, downwardAPI and projected volumes, written as kubelet's AtomicWriter does;
 * hostPath type checks; subPath; and the waiting states kubelet shows when an object is
 * missing (ContainerCreating with FailedMount, CreateContainerConfigError), until it appears.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

static void t_need_root(void)
{
	if (geteuid() != 0) {
		print_message("skip: volumes are bind mounts, which need root\n");
		skip();
	}
}

/* The contents of <path> (at most <size> - 1 bytes, trailing newline cut) into <buf>. */
static const char *t_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/*
 * Put <yaml> in <r>->dir/<name> in one rename, as a config tool would: podprobe reads the
 * directory whenever a container starts and must never see half a file.
 */
static void t_replace_manifest(struct t_run *r, const char *name, const char *yaml)
{
	char tmp[64], path[512], to[512];

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(path, sizeof(path), "%s", t_write_manifest(r, tmp, yaml));
	snprintf(to, sizeof(to), "%s/%s", r->dir, name);
	assert_int_equal(rename(path, to), 0);
}

static void test_env_value_from_and_env_from(void **state)
{
	struct t_run r;
	char yaml[8192], out[512], buf[1024];

	t_run_init(&r);
	snprintf(out, sizeof(out), "%s/env.txt", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: ConfigMap\n"
		 "metadata: {name: cfg}\n"
		 "data: {HOST: db, PORT: '5432', bad=key: x}\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Secret\n"
		 "metadata: {name: sec}\n"
		 "data: {password: aHVudGVyMg==}\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: web, labels: {app: shop}}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'echo \"$HOST|$DB_PORT|$PW|$URL|$POD|$APP|$MEM|$NOPE-\" > "
		 "%s']\n"
		 "    resources: {limits: {memory: 64Mi}}\n"
		 "    envFrom:\n"
		 "    - configMapRef: {name: cfg}\n"
		 "    - {prefix: DB_, configMapRef: {name: cfg}}\n"
		 "    env:\n"
		 "    - {name: URL, value: 'pg://$(HOST):$(PORT)'}\n"
		 "    - name: PW\n"
		 "      valueFrom: {secretKeyRef: {name: sec, key: password}}\n"
		 "    - name: POD\n"
		 "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
		 "    - name: APP\n"
		 "      valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}\n"
		 "    - name: MEM\n"
		 "      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}\n"
		 "    - name: NOPE\n"
		 "      valueFrom: {configMapKeyRef: {name: absent, key: k, optional: true}}\n",
		 out);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "web.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 10000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	assert_string_equal(t_read(out, buf, sizeof(buf)),
			    "db|5432|hunter2|pg://db:5432|web|shop|64|-");
	/* kubelet's event for the keys envFrom cannot use (pod-level, Warning). */
	assert_int_equal(t_count_events(&r, "InvalidEnvironmentVariableNames", ""), 2);
	t_run_cleanup(&r);
}

static void test_missing_key_is_create_container_config_error(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] = "apiVersion: v1\n"
				   "kind: ConfigMap\n"
				   "metadata: {name: cfg}\n"
				   "data: {a: b}\n"
				   "---\n"
				   "apiVersion: v1\n"
				   "kind: Pod\n"
				   "metadata: {name: web}\n"
				   "spec:\n"
				   "  containers:\n"
				   "  - name: app\n"
				   "    image: busybox\n"
				   "    command: [sleep, '30']\n"
				   "    env:\n"
				   "    - name: X\n"
				   "      valueFrom: {configMapKeyRef: {name: cfg, key: nope}}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "web.yaml", yaml), NULL});
	/* kubelet: Warning Failed "Error: <message>", nothing created, no Started. */
	ev = t_wait_event(&r, "Failed", "app", 0, 5000);
	assert_string_equal(ev->type, "Warning");
	assert_string_equal(ev->message, "Error: couldn't find key nope in ConfigMap default/cfg");
	t_drain(&r, 300);
	assert_int_equal(t_count_events(&r, "Started", "app"), 0);
	assert_int_equal(t_count_events(&r, "Created", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

/*
 * The layout AtomicWriter leaves: name -> ..data/name, ..data -> ..<timestamp>, and there
 * <name> a file of <mode> (or, with <mode> 0, a directory).
 */
static void t_check_atomic_layout(const char *vol, const char *name, mode_t mode)
{
	char p[3 * PATH_MAX], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", vol, name);
	n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	snprintf(p, sizeof(p), "..data/%s", name);
	assert_string_equal(link, p);
	snprintf(p, sizeof(p), "%s/..data", vol);
	n = readlink(p, link, sizeof(link) - 1);
	assert_true(n > 2);
	link[n] = '\0';
	assert_memory_equal(link, "..", 2);
	assert_null(strchr(link, '/'));
	snprintf(p, sizeof(p), "%s/%s/%s", vol, link, name);
	assert_int_equal(lstat(p, &st), 0);
	if (!mode) {
		assert_true(S_ISDIR(st.st_mode));
		return;
	}
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_config_map_secret_downward_volumes(void **state)
{
	struct t_run r;
	char yaml[16384], mnt[512], out[512], vol[640], buf[1024];

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(out, sizeof(out), "%s/out.txt", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: ConfigMap\n"
		 "metadata: {name: cfg}\n"
		 "data: {app.conf: 'port=80', other: x}\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Secret\n"
		 "metadata: {name: tls}\n"
		 "stringData: {key.pem: secret}\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: web, labels: {app: shop}}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes:\n"
		 "  - name: cfg\n"
		 "    configMap: {name: cfg, items: [{key: app.conf, path: conf/app.conf}]}\n"
		 "  - name: tls\n"
		 "    secret: {secretName: tls, defaultMode: 0400}\n"
		 "  - name: info\n"
		 "    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: "
		 "metadata.labels}}]}\n"
		 "  - name: all\n"
		 "    projected:\n"
		 "      sources:\n"
		 "      - configMap: {name: cfg, items: [{key: other, path: o}]}\n"
		 "      - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: "
		 "metadata.name}}]}\n"
		 "      - serviceAccountToken: {path: token}\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'cat %s/c/conf/app.conf %s/t/key.pem %s/i/labels %s/p/o "
		 "%s/p/name"
		 " > %s && test ! -e %s/p/token && { touch %s/c/x 2>/dev/null && echo rw >> %s; "
		 "true; }']\n"
		 "    volumeMounts:\n"
		 "    - {name: cfg, mountPath: '%s/c'}\n"
		 "    - {name: tls, mountPath: '%s/t'}\n"
		 "    - {name: info, mountPath: '%s/i'}\n"
		 "    - {name: all, mountPath: '%s/p'}\n",
		 mnt, mnt, mnt, mnt, mnt, out, mnt, mnt, out, mnt, mnt, mnt, mnt);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "web.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 10000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	/* The files' contents; the configMap mount is read-only as kubelet makes it. */
	assert_string_equal(t_read(out, buf, sizeof(buf)), "port=80secretapp=\"shop\"xweb");
	snprintf(vol, sizeof(vol), "%s/pods/default_web/volumes/tls", r.state_dir);
	t_check_atomic_layout(vol, "key.pem", 0400);
	snprintf(vol, sizeof(vol), "%s/pods/default_web/volumes/cfg", r.state_dir);
	t_check_atomic_layout(vol, "conf", 0);
	t_run_cleanup(&r);
}

/* `podprobe <args> --state-dir=<run's>` (the run's API socket); its stdout in <out>. */
static int t_pp(struct t_run *r, const char *args, char *out, size_t size)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "timeout 20 %s %s --state-dir=%s 2>&1", t_podprobe(), args,
		 r->state_dir);
	return t_system(cmd, out, size);
}

/*
 * kubelet's SyncPod waits for the volumes (WaitForAttachAndMount) before it creates any
 * container: the pod stays Pending with its containers Waiting in ContainerCreating, the
 * volume manager tries the mount again after 500 ms, 1 s, 2 s... (nestedpendingoperations)
 * with a FailedMount each time and no Pulled; once the ConfigMap exists the pod starts
 * once, with one Pulled, Created and Started per container.
 */
static void test_missing_config_map_waits_in_container_creating_until_it_appears(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static char text[65536];
	char yaml[16384], mnt[512], out[512], buf[256];
	static const char *const conts[] = {"app", "side"};
	uint64_t written, at[3];

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(out, sizeof(out), "%s/out.txt", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes: [{name: cfg, configMap: {name: later}}]\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'cat %s/k > %s']\n"
		 "    volumeMounts: [{name: cfg, mountPath: '%s'}]\n"
		 "  - {name: side, image: busybox, command: ['true']}\n",
		 mnt, out, mnt);
	t_write_manifest(&r, "web.yaml", yaml);
	/* The directory is followed: the ConfigMap can appear there later. */
	t_run_start(&r, (const char *const[]){r.dir, NULL});
	for (unsigned int i = 0; i < 3; i++) {
		/* Not kubelet's flat 10 s pod-sync retry: the next try comes within 1 s. */
		ev = t_wait_event(&r, "FailedMount", "", i, 5000);
		assert_string_equal(ev->type, "Warning");
		assert_string_equal(ev->message, "MountVolume.SetUp failed for volume \"cfg\" : "
						 "configmap \"later\" not found");
		at[i] = ev->at_ms;
	}
	/* 500 ms, then 1 s (read times: a little early is jitter, not a shorter back-off). */
	assert_true(at[1] - at[0] >= 350);
	assert_true(at[2] - at[1] >= 800);
	assert_true(at[2] - at[1] > at[1] - at[0]);
	/* Nothing of the containers: no image pulled, none created, no config error. */
	assert_int_equal(t_count_events(&r, "Pulled", NULL), 0);
	assert_int_equal(t_count_events(&r, "Created", NULL), 0);
	assert_int_equal(t_count_events(&r, "Started", NULL), 0);
	assert_int_equal(t_count_events(&r, "Failed", NULL), 0);
	/* What kubectl shows meanwhile: Pending, each container Waiting in ContainerCreating. */
	assert_int_equal(t_pp(&r, "get pods", text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nweb    0/2     ContainerCreating   0          "));
	assert_int_equal(t_pp(&r, "describe pod web", text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nStatus:       Pending\n"));
	assert_non_null(strstr(text, "  app:\n"));
	assert_non_null(strstr(text, "    State:          Waiting\n"
				     "      Reason:       ContainerCreating\n"));
	assert_null(strstr(text, "CreateContainerConfigError"));
	assert_non_null(strstr(text, "  Warning  FailedMount  "));

	t_replace_manifest(
		&r, "cfg.yaml",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {k: v}\n");
	written = t_now_ms();
	/* Tried again at the back-off's next step (at most 4 s here), then it starts. */
	ev = t_wait_event(&r, "Started", "app", 0, 8000);
	assert_true(ev->at_ms >= written);
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_string_equal(t_read(out, buf, sizeof(buf)), "v");
	t_drain(&r, 300);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(t_count_events(&r, "Pulled", conts[i]), 1);
		assert_int_equal(t_count_events(&r, "Created", conts[i]), 1);
		assert_int_equal(t_count_events(&r, "Started", conts[i]), 1);
	}
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_config_map_update_reaches_the_next_start(void **state)
{
	struct t_run r;
	char yaml[16384], mnt[512], out[512], buf[256];
	unsigned int starts;

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(out, sizeof(out), "%s/out.txt", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  restartPolicy: OnFailure\n"
		 "  volumes: [{name: cfg, configMap: {name: cfg}}]\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'printf \"%%s\\n\" \"$(cat %s/k)\" >> %s; "
		 "test \"$(cat %s/k)\" = v2']\n"
		 "    volumeMounts: [{name: cfg, mountPath: '%s'}]\n",
		 mnt, out, mnt, mnt);
	t_write_manifest(&r, "web.yaml", yaml);
	t_write_manifest(&r, "cfg.yaml",
			 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v1}\n");
	t_run_start(&r, (const char *const[]){"--backoff-base=200ms", r.dir, NULL});
	assert_non_null(t_wait_event(&r, "Terminated", "app", 0, 5000));
	/*
	 * One line per start (appended: a restart may already be under way when the event is
	 * read): the first saw v1.
	 */
	t_read(out, buf, sizeof(buf));
	assert_true(!strncmp(buf, "v1", 2) && (buf[2] == '\0' || buf[2] == '\n'));
	/* Changed in the file: the volume's next set-up (the restart) writes it atomically. */
	t_replace_manifest(
		&r, "cfg.yaml",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v2}\n");
	starts = t_count_events(&r, "Started", "app");
	assert_non_null(t_wait_event(&r, "Started", "app", starts, 10000));
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 10000));
	/* The start that succeeded, the last, saw v2. */
	t_read(out, buf, sizeof(buf));
	assert_true(strlen(buf) >= 2 && !strcmp(buf + strlen(buf) - 2, "v2"));
	assert_true(strlen(buf) == 2 || buf[strlen(buf) - 3] == '\n');
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_host_path_types_and_sub_path(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	char yaml[16384], mnt[512], host[512], missing[512], p[1024], buf[64];
	struct stat st;

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(host, sizeof(host), "%s/host/made", r.dir);
	snprintf(missing, sizeof(missing), "%s/absent", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: hp}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes:\n"
		 "  - {name: made, hostPath: {path: '%s', type: DirectoryOrCreate}}\n"
		 "  - {name: data, emptyDir: {}}\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [sh, -c, 'echo h > %s/h/f && echo s > %s/s/f']\n"
		 "    volumeMounts:\n"
		 "    - {name: made, mountPath: '%s/h', subPath: logs}\n"
		 "    - {name: data, mountPath: '%s/s', subPath: a/b}\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: strict}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes: [{name: d, hostPath: {path: '%s', type: Directory}}]\n"
		 "  containers:\n"
		 "  - {name: app, image: busybox, command: ['true'], volumeMounts: [{name: d, "
		 "mountPath: '%s/x'}]}\n",
		 host, mnt, mnt, mnt, mnt, missing, mnt);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "hp.yaml", yaml), NULL});
	ev = t_wait_event(&r, "FailedMount", "", 0, 5000);
	assert_string_equal(ev->pod, "strict");
	snprintf(p, sizeof(p),
		 "MountVolume.SetUp failed for volume \"d\" : hostPath type check failed: %s is "
		 "not a directory",
		 missing);
	assert_string_equal(ev->message, p);
	ev = t_wait_event(&r, "Terminated", "app", 0, 5000);
	assert_string_equal(ev->pod, "hp");
	/* DirectoryOrCreate made the directory; the subPaths were made inside the volumes. */
	assert_int_equal(stat(host, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(p, sizeof(p), "%s/logs/f", host);
	assert_string_equal(t_read(p, buf, sizeof(buf)), "h");
	snprintf(p, sizeof(p), "%s/pods/default_hp/volumes/data/a/b/f", r.state_dir);
	assert_string_equal(t_read(p, buf, sizeof(buf)), "s");
	assert_int_equal(t_count_events(&r, "Started", "app"), 1);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_sub_path_symlink_out_of_the_volume_is_refused(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	char yaml[8192], mnt[600], secret[512];

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(secret, sizeof(secret), "%s/outside", r.dir);
	assert_int_equal(mkdir(secret, 0700), 0);
	/* The init container plants a link to a host directory; the next mount must not use it. */
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: esc}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes: [{name: data, emptyDir: {}}]\n"
		 "  initContainers:\n"
		 "  - name: plant\n"
		 "    image: busybox\n"
		 "    command: [ln, -s, '%s', '%s/d/esc']\n"
		 "    volumeMounts: [{name: data, mountPath: '%s/d'}]\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: busybox\n"
		 "    command: [touch, '%s/e/pwned']\n"
		 "    volumeMounts: [{name: data, mountPath: '%s/e', subPath: esc}]\n",
		 secret, mnt, mnt, mnt, mnt);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "esc.yaml", yaml), NULL});
	ev = t_wait_event(&r, "Failed", "app", 0, 5000);
	assert_string_equal(
		ev->message,
		"Error: failed to prepare subPath for volumeMount \"data\" of container "
		"\"app\"");
	snprintf(mnt, sizeof(mnt), "%s/pwned", secret);
	assert_int_equal(access(mnt, F_OK), -1);
	assert_int_equal(t_count_events(&r, "Started", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_claim_directory_outlives_the_pod(void **state)
{
	struct t_run r;
	char yaml[8192], mnt[512], p[1024], buf[64];

	t_need_root();
	t_run_init(&r);
	snprintf(mnt, sizeof(mnt), "%s/mnt", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata: {name: writer}\n"
		 "spec:\n"
		 "  restartPolicy: Never\n"
		 "  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n"
		 "  containers:\n"
		 "  - {name: app, image: busybox, command: [sh, -c, 'echo kept > %s/f'],\n"
		 "     volumeMounts: [{name: d, mountPath: '%s'}]}\n",
		 mnt, mnt);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "w.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	/* Outside the pod's own directory, where a local-path provisioner keeps it. */
	snprintf(p, sizeof(p), "%s/volumes/pvc/default/data/f", r.state_dir);
	assert_string_equal(t_read(p, buf, sizeof(buf)), "kept");

	/* Another pod of the same claim, read-only, finds it. */
	snprintf(
		yaml, sizeof(yaml),
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: reader}\n"
		"spec:\n"
		"  restartPolicy: Never\n"
		"  volumes: [{name: d, persistentVolumeClaim: {claimName: data, readOnly: true}}]\n"
		"  containers:\n"
		"  - {name: app, image: busybox, command: [sh, -c, 'test \"$(cat %s/f)\" = kept && "
		"! touch %s/g 2>/dev/null'],\n"
		"     volumeMounts: [{name: d, mountPath: '%s'}]}\n",
		mnt, mnt, mnt);
	unlink(t_write_manifest(&r, "w.yaml", ""));
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "r.yaml", yaml), NULL});
	assert_non_null(t_wait_event(&r, "PodSucceeded", "", 0, 5000));
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_env_value_from_and_env_from),
		T_TEST(test_missing_key_is_create_container_config_error),
		T_TEST(test_config_map_secret_downward_volumes),
		T_TEST(test_missing_config_map_waits_in_container_creating_until_it_appears),
		T_TEST(test_config_map_update_reaches_the_next_start),
		T_TEST(test_host_path_types_and_sub_path),
		T_TEST(test_sub_path_symlink_out_of_the_volume_is_refused),
		T_TEST(test_claim_directory_outlives_the_pod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
