// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch --pods FILE` beside a runtime it did not start: the test plays containerd.
 * It makes systemd-driver cgroups (kubepods.slice/.../cri-containerd-<64 hex>.scope) below
 * its own cgroup v2, starts small HTTP servers in them, writes the PodList `kubectl get pods
 * -o json` would print for them (podIP 127.0.0.1, periodSeconds 10), and checks what watch
 * makes of a killed process, a closed port, a new container ID, and the restart opt-in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/integ.h"

/* The verdict must follow the kernel within this, although periodSeconds is 10. */
#define DETECT_MS 50

static char cg_base[PATH_MAX]; /* this test's cgroup tree, below its own cgroup */
static char skip_reason[PATH_MAX + 128];

#define MAX_PROCS 16
static pid_t procs[MAX_PROCS]; /* test servers: killed by teardown (podprobe: by the harness) */

static void track(pid_t pid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (!procs[i]) {
			procs[i] = pid;
			return;
		}
	fail_msg("too many processes");
}

static void reap(pid_t pid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

static void rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 64];

	/* Deepest first: a cgroup directory goes with rmdir only once it is empty. */
	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", dir);
	if (system(cmd) < 0)
		return;
}

static int teardown(void **state)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i] > 0) {
			kill(-procs[i], SIGKILL);
			kill(procs[i], SIGKILL);
			waitpid(procs[i], NULL, 0);
			procs[i] = 0;
		}
	rm_tree(cg_base);
	return t_teardown(state);
}

static int setup(void **state)
{
	return t_setup(state);
}

#define W_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Root, cgroup v2 (plain or the hybrid's unified), and our own cgroup in it. */
static bool find_cgroup_base(void)
{
	static const char *const mounts[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	char line[PATH_MAX], own[PATH_MAX] = "";
	struct statfs sfs;
	const char *mnt = NULL;
	FILE *f;

	if (geteuid() != 0) {
		snprintf(skip_reason, sizeof(skip_reason), "needs root (cgroups, eBPF)");
		return false;
	}
	for (size_t i = 0; i < 2 && !mnt; i++)
		if (statfs(mounts[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
			mnt = mounts[i];
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(own, sizeof(own), "%s", line + 3);
		}
	if (f)
		fclose(f);
	if (!mnt || !own[0]) {
		snprintf(skip_reason, sizeof(skip_reason), "no cgroup v2 hierarchy");
		return false;
	}
	snprintf(cg_base, sizeof(cg_base), "%s%s/podprobe-watch-test-%d", mnt,
		 strcmp(own, "/") ? own : "", (int)getpid());
	if (mkdir(cg_base, 0755) < 0 && errno != EEXIST) {
		snprintf(skip_reason, sizeof(skip_reason), "cannot create %s: %s", cg_base,
			 strerror(errno));
		return false;
	}
	rmdir(cg_base);
	return true;
}

static void random_id(char out[65])
{
	static unsigned int n;
	unsigned long long x = t_now_ms() * 1000003ull + (unsigned long long)getpid() * 7919 + n++;

	for (int i = 0; i < 64; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = "0123456789abcdef"[(x >> 33) & 15];
	}
	out[64] = '\0';
}

struct server {
	pid_t pid;
	int port;
	char id[65];
	char cg[PATH_MAX + 512];
};

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX + 1024];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/*
 * An HTTP server on 127.0.0.1:<argv[1]> that answers 200 to anything, closes its listener on
 * SIGUSR1 and lives on: a port closing while the process runs. The port is bound explicitly,
 * as a containerPort is.
 */
static const char server_py[] =
	"import select, signal, socket, sys\n"
	"s = socket.socket()\n"
	"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
	"s.bind(('127.0.0.1', int(sys.argv[1])))\n"
	"s.listen(64)\n"
	"st = {'s': s}\n"
	"def close(*a):\n"
	"    if st['s']:\n"
	"        st['s'].close()\n"
	"        st['s'] = None\n"
	"signal.signal(signal.SIGUSR1, close)\n"
	"print('listening on 127.0.0.1:%d' % s.getsockname()[1], flush=True)\n"
	"while True:\n"
	"    if not st['s']:\n"
	"        signal.pause()\n"
	"        continue\n"
	"    try:\n"
	"        r, _, _ = select.select([st['s']], [], [], 0.2)\n"
	"        if not r:\n"
	"            continue\n"
	"        c, _ = st['s'].accept()\n"
	"    except (OSError, ValueError, AttributeError):\n"
	"        continue\n"
	"    c.settimeout(1)\n"
	"    try:\n"
	"        c.recv(4096)\n"
	"        c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: "
	"close\\r\\n\\r\\nok')\n"
	"    except OSError:\n"
	"        pass\n"
	"    c.close()\n";

static bool cgroupfs_layout; /* next server_start(): the cgroupfs driver's layout */

/* Start the server in a new containerd-style scope of pod <uid>. */
static void server_start(struct t_run *r, const char *uid, struct server *s)
{
	char script[PATH_MAX], slice[128], buf[256] = "", port[16];
	int out[2];
	size_t len = 0;
	uint64_t until = t_now_ms() + 5000;
	FILE *f;

	snprintf(script, sizeof(script), "%s/server.py", r->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(server_py, f);
	fclose(f);
	random_id(s->id);
	/* kubelet's systemd driver: pod slices named with the uid's '-' as '_'. */
	snprintf(slice, sizeof(slice), "%s", uid);
	for (char *p = slice; *p; p++)
		if (*p == '-')
			*p = '_';
	if (cgroupfs_layout) /* kubelet's cgroupfs driver: kubepods/burstable/pod<uid>/<id> */
		snprintf(s->cg, sizeof(s->cg), "%s/kubepods/burstable/pod%s/%s", cg_base, uid,
			 s->id);
	else
		snprintf(
			s->cg, sizeof(s->cg),
			"%s/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
			"cri-containerd-%s.scope",
			cg_base, slice, s->id);
	mkdir_p(s->cg);
	snprintf(port, sizeof(port), "%d", t_free_port());
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		char procs_file[PATH_MAX + 544];
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		snprintf(procs_file, sizeof(procs_file), "%s/cgroup.procs", s->cg);
		fd = open(procs_file, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(126);
		close(fd);
		dup2(out[1], 1);
		execl("/usr/bin/python3", "python3", "-u", script, port, (char *)NULL);
		_exit(127);
	}
	track(s->pid);
	close(out[1]);
	while (!strstr(buf, "\n") && t_now_ms() < until) {
		struct pollfd pfd = {out[0], POLLIN, 0};
		ssize_t n;

		poll(&pfd, 1, 100);
		n = read(out[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(out[0]);
	assert_non_null(strstr(buf, "listening on 127.0.0.1:"));
	s->port = atoi(strstr(buf, "127.0.0.1:") + 10);
	assert_true(s->port > 0);
}

struct pod {
	const char *name;
	const char *uid;
	const char *container;
	bool act;
	const struct server *srv;
	unsigned int restarts;
	const char *exec; /* readiness: exec of /bin/sh -c <exec> (no quotes in it) */
};

/* The PodList, written to a temporary file and renamed over <path> (as kubectl > tmp; mv). */
static void write_pods(struct t_run *r, const char *path, const struct pod *pods, size_t n)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{},\"items\":[");
	for (size_t i = 0; i < n; i++) {
		const struct pod *p = &pods[i];
		char readiness[512];

		if (p->exec)
			snprintf(readiness, sizeof(readiness),
				 "{\"exec\":{\"command\":[\"/bin/sh\",\"-c\",\"%s\"]},"
				 "\"periodSeconds\":10}",
				 p->exec);
		else
			snprintf(readiness, sizeof(readiness),
				 "{\"httpGet\":{\"path\":\"/\",\"port\":\"http\","
				 "\"scheme\":\"HTTP\"},\"periodSeconds\":10,\"timeoutSeconds\":1,"
				 "\"successThreshold\":1,\"failureThreshold\":3}");

		fprintf(f,
			"%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
			"\"namespace\":\"default\",\"uid\":\"%s\",\"resourceVersion\":\"1\","
			"\"annotations\":{%s}},"
			"\"spec\":{\"nodeName\":\"node1\",\"readinessGates\":[{\"conditionType\":"
			"\"podprobe.io/ready\"}],\"containers\":[{\"name\":\"%s\","
			"\"image\":\"python:3\",\"ports\":[{\"name\":\"http\","
			"\"containerPort\":%d,\"protocol\":\"TCP\"}],"
			"\"readinessProbe\":%s,"
			"\"livenessProbe\":{\"tcpSocket\":{\"port\":%d},\"periodSeconds\":10,"
			"\"timeoutSeconds\":1,\"successThreshold\":1,\"failureThreshold\":3}}]},"
			"\"status\":{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\","
			"\"podIP\":\"127.0.0.1\",\"containerStatuses\":[{\"name\":\"%s\","
			"\"containerID\":\"containerd://%s\",\"restartCount\":%u,\"ready\":true,"
			"\"started\":true,\"state\":{\"running\":{}}}]}}",
			i ? "," : "", p->name, p->uid,
			p->act ? "\"probe.podprobe.io/act\":\"restart\"" : "", p->container,
			p->srv->port, readiness, p->srv->port, p->container, p->srv->id,
			p->restarts);
	}
	fprintf(f, "]}\n");
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

/*
 * Start `podprobe watch --events=json --probe-proxy-addr=127.0.0.1:0 <args>` on <r> (a later
 * --probe-proxy-addr in <args> wins); returns the probe proxy's port.
 */
static int watch_start(struct t_run *r, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;
	uint64_t until;
	const char *at;

	argv[n++] = "--probe-proxy-addr=127.0.0.1:0";
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	t_watch_start(r, argv);
	until = t_now_ms() + 5000;
	while (!(at = strstr(r->err_text, "probe proxy listening on 127.0.0.1:")) &&
	       t_now_ms() < until)
		t_drain(r, 20);
	assert_non_null(at);
	return atoi(at + strlen("probe proxy listening on 127.0.0.1:"));
}

static char resp[65536]; /* the latest response of http_get() */

/* GET <path> from the probe proxy; returns the status, the verdict age in <ret_age> (-1). */
static int proxy_get(int port, const char *path, long *ret_age)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[512];
	size_t len = 0;
	ssize_t n;
	const char *age;
	int fd, status = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len < sizeof(resp) - 1 && (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0)
		len += (size_t)n;
	resp[len] = '\0';
	close(fd);
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	age = strstr(resp, "X-Podprobe-Verdict-Age: ");
	if (ret_age)
		*ret_age = age ? atol(age + 24) : -1;
	return status;
}

/* Wait until <path> answers <want>; returns the ms it took, fails after <timeout_ms>. */
static uint64_t proxy_wait(int port, const char *path, int want, int timeout_ms)
{
	uint64_t start = t_now_ms(), until = start + (uint64_t)timeout_ms;
	int got = -1;

	while (t_now_ms() < until) {
		got = proxy_get(port, path, NULL);
		if (got == want)
			return t_now_ms() - start;
		usleep(1000);
	}
	fail_msg("%s: %d, not %d, after %d ms", path, got, want, timeout_ms);
	return 0;
}

/* The value of series <series> (name and labels, as written) in /metrics <body>, or -1. */
static double metric_value(const char *body, const char *series)
{
	char pat[256];
	const char *at;

	snprintf(pat, sizeof(pat), "\n%s ", series);
	at = strstr(body, pat);
	return at ? strtod(at + strlen(pat), NULL) : -1;
}

/* GET /metrics from <port>: the body (in resp), status 200 checked. */
static const char *metrics_get(int port)
{
	const char *body;

	assert_int_equal(proxy_get(port, "/metrics", NULL), 200);
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	return body + 3; /* the head's last "\n": every series line then follows a '\n' */
}

/* `promtool check metrics` finds nothing in <body> (when promtool is installed). */
static void lint_metrics(struct t_run *r, const char *body)
{
	char file[PATH_MAX], cmd[PATH_MAX + 64], lint[4096];
	FILE *f;

	if (access("/usr/bin/promtool", X_OK) != 0) {
		print_message("promtool missing (Debian package prometheus): lint skipped\n");
		return;
	}
	snprintf(file, sizeof(file), "%s/metrics.txt", r->dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(body + 1, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s 2>&1", file);
	assert_int_equal(t_system(cmd, lint, sizeof(lint)), 0);
	assert_string_equal(lint, "");
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/*
 * A killed main process and a port closed in a live process are both reported (event line,
 * probe proxy 503) within DETECT_MS, where kubelet with periodSeconds 10 would take 10-30 s.
 * The cgroup is found from the default root (/sys/fs/cgroup: the hybrid's unified below it).
 */
static void test_kill_and_close_detected(void **state)
{
	struct t_run r;
	struct server killed, closer;
	char pods_file[PATH_MAX];
	struct pod pods[2] = {
		{"victim", "11111111-aaaa-4000-8000-000000000001", "killed", false, &killed, 0,
		 NULL},
		{"closing", "22222222-bbbb-4000-8000-000000000002", "closer", false, &closer, 0,
		 NULL},
	};
	const struct t_event *ev;
	uint64_t t0, ms;
	long age;
	int port;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &killed);
	server_start(&r, pods[1].uid, &closer);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 2);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, NULL});
	/* Before: the first readiness verdicts are in, and they are Success. */
	proxy_wait(port, "/probe/default/victim/killed/readiness", 200, 5000);
	proxy_wait(port, "/probe/default/closing/closer/readiness", 200, 5000);
	proxy_wait(port, "/probe/default/closing/closer/liveness", 200, 5000);
	assert_int_equal(proxy_get(port, "/probe/default/victim/killed/readiness", &age), 200);
	assert_true(age >= 0 && age < 10000);
	/* Unknown pod, container, probe kind: 404. */
	assert_int_equal(proxy_get(port, "/probe/default/nobody/killed/readiness", NULL), 404);
	assert_int_equal(proxy_get(port, "/probe/default/victim/other/readiness", NULL), 404);
	assert_int_equal(proxy_get(port, "/probe/default/victim/killed/startup", NULL), 404);
	t_drain(&r, 50);

	/* The process dies: ProcessExited and readiness False, from the kernel. */
	t0 = t_now_ms();
	kill(killed.pid, SIGKILL);
	ev = t_wait_event(&r, "ProcessExited", "killed", 0, 2000);
	assert_string_equal(ev->source, "kernel");
	assert_non_null(strstr(ev->message, "SIGKILL"));
	ev = t_wait_event(&r, "Unhealthy", "killed", 0, 2000);
	ms = ev->at_ms - t0;
	print_message("process kill -> readiness event line: %llu ms\n", (unsigned long long)ms);
	assert_non_null(strstr(ev->message, "Readiness probe failed"));
	assert_true(ms <= DETECT_MS);
	assert_int_equal(proxy_get(port, "/probe/default/victim/killed/readiness", NULL), 503);
	waitpid(killed.pid, NULL, 0);
	reap(killed.pid);

	/* The port closes while its process runs on: the proxy says 503 within DETECT_MS. */
	kill(closer.pid, SIGUSR1);
	ms = proxy_wait(port, "/probe/default/closing/closer/readiness", 503, 2000);
	print_message("port close -> probe proxy 503: %llu ms\n", (unsigned long long)ms);
	assert_true(ms <= DETECT_MS);
	ev = t_wait_event(&r, "Unhealthy", "closer", 0, 2000);
	assert_string_equal(ev->source, "kernel");
	assert_non_null(strstr(ev->message, "closed"));
	/* Liveness follows through its burst (failureThreshold 3 at 5 ms), not its period. */
	proxy_wait(port, "/probe/default/closing/closer/liveness", 503, 1000);
	assert_true(alive(closer.pid));
	/* Not opted in to restarts: nothing is killed. */
	t_drain(&r, 100);
	assert_int_equal(t_count_events(&r, "Killing", NULL), 0);
	assert_true(alive(closer.pid));

	/* /metrics on the same port: kubelet's prober families and watch's own, lint-clean. */
	{
		const char *body = metrics_get(port);

		assert_non_null(strstr(body, "prober_probe_total{container=\"closer\","
					     "namespace=\"default\",pod=\"closing\""));
		assert_non_null(strstr(body, "result=\"failed\"} "));
		assert_non_null(strstr(body, "\npodprobe_watch_pods 2\n"));
		assert_true(metric_value(body, "podprobe_kernel_events_total{kind=\"exit\"}") > 0);
		assert_true(metric_value(body, "podprobe_detection_latency_seconds_count") > 0);
		/* Pods from a file: no API families. */
		assert_null(strstr(body, "podprobe_watch_api_"));
		lint_metrics(&r, body);
	}
	t_run_cleanup(&r);
}

/* A later PodList: a new container ID is picked up (new cgroup, probes anew), a pod goes. */
static void test_pods_file_changes(void **state)
{
	struct t_run r;
	struct server first, second;
	char pods_file[PATH_MAX], root_arg[PATH_MAX + 32];
	struct pod pods[1] = {
		{"web", "33333333-cccc-4000-8000-000000000003", "app", false, &first, 0, NULL},
	};
	const struct t_event *ev;
	int port;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &first);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 1);
	/* The cgroup root named directly (a plain v2 tree). */
	snprintf(root_arg, sizeof(root_arg), "--cgroup-root=%s", cg_base);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, root_arg, NULL});
	proxy_wait(port, "/probe/default/web/app/readiness", 200, 5000);
	kill(first.pid, SIGKILL);
	t_wait_event(&r, "ProcessExited", "app", 0, 2000);
	assert_int_equal(proxy_get(port, "/probe/default/web/app/readiness", NULL), 503);

	/* The runtime restarts the container under a new ID (this time in a cgroupfs layout). */
	cgroupfs_layout = true;
	server_start(&r, pods[0].uid, &second);
	cgroupfs_layout = false;
	pods[0].srv = &second;
	pods[0].restarts = 1;
	write_pods(&r, pods_file, pods, 1);
	proxy_wait(port, "/probe/default/web/app/readiness", 200, 5000);
	/* And the new process is the one watched now. */
	kill(second.pid, SIGKILL);
	ev = t_wait_event(&r, "ProcessExited", "app", 1, 2000);
	assert_non_null(strstr(ev->message, "SIGKILL"));

	/* The pod leaves the list: it is forgotten. */
	write_pods(&r, pods_file, pods, 0);
	proxy_wait(port, "/probe/default/web/app/readiness", 404, 5000);
	/* SIGTERM: a clean stop (everything freed: the sanitizer build checks). */
	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

/*
 * --act=restart per pod (annotation): the opted-in pod's liveness failure kills its cgroup
 * (cgroup.kill: its process dies of SIGKILL); the same failure in a pod without the opt-in
 * touches nothing.
 */
static void test_restart_only_opted_in(void **state)
{
	struct t_run r;
	struct server in, out;
	char pods_file[PATH_MAX];
	struct pod pods[2] = {
		{"optin", "44444444-dddd-4000-8000-000000000004", "optin", true, &in, 0, NULL},
		{"optout", "55555555-eeee-4000-8000-000000000005", "optout", false, &out, 0, NULL},
	};
	const struct t_event *ev;
	int port, status;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &in);
	server_start(&r, pods[1].uid, &out);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 2);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, NULL});
	proxy_wait(port, "/probe/default/optin/optin/liveness", 200, 5000);
	proxy_wait(port, "/probe/default/optout/optout/liveness", 200, 5000);
	/* Both close their port and live on: both fail liveness. */
	kill(out.pid, SIGUSR1);
	kill(in.pid, SIGUSR1);
	ev = t_wait_event(&r, "Killing", "optin", 0, 2000);
	assert_non_null(strstr(ev->message, "liveness"));
	assert_int_equal(waitpid(in.pid, &status, 0), in.pid);
	reap(in.pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	proxy_wait(port, "/probe/default/optout/optout/liveness", 503, 2000);
	t_drain(&r, 200);
	assert_int_equal(t_count_events(&r, "Killing", "optout"), 0);
	assert_int_equal(t_count_events(&r, "Killing", "optin"), 1);
	assert_true(alive(out.pid));
	t_run_cleanup(&r);
}

/*
 * Without eBPF the main process's pidfd still reports the kill at once. And READY=1 goes to
 * $NOTIFY_SOCKET (systemd Type=notify) once the loop runs.
 */
static void test_no_bpf_pidfd(void **state)
{
	struct t_run r;
	struct server srv;
	char pods_file[PATH_MAX];
	struct pod pods[1] = {
		{"plain", "66666666-ffff-4000-8000-000000000006", "app", false, &srv, 0, NULL},
	};
	const struct t_event *ev;
	uint64_t t0, ms;
	int port, nfd;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &srv);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 1);
	/* systemd's notify socket: READY=1 once the loop runs. */
	{
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		struct pollfd pfd;
		char msg[256] = "";
		ssize_t n;

		nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(nfd >= 0);
		assert_true(strlen(r.dir) < 90);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%.90s/notify", r.dir);
		assert_int_equal(bind(nfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		setenv("NOTIFY_SOCKET", sun.sun_path, 1);
		port = watch_start(&r, (const char *[]){"--pods", pods_file, "--no-bpf", NULL});
		unsetenv("NOTIFY_SOCKET");
		pfd = (struct pollfd){nfd, POLLIN, 0};
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		n = recv(nfd, msg, sizeof(msg) - 1, 0);
		assert_true(n > 0);
		msg[n] = '\0';
		assert_non_null(strstr(msg, "READY=1"));
		close(nfd);
	}
	proxy_wait(port, "/probe/default/plain/app/readiness", 200, 5000);
	t_drain(&r, 50);
	t0 = t_now_ms();
	kill(srv.pid, SIGKILL);
	ev = t_wait_event(&r, "Unhealthy", "app", 0, 2000);
	ms = ev->at_ms - t0;
	print_message("--no-bpf: process kill -> readiness event line: %llu ms\n",
		      (unsigned long long)ms);
	assert_true(ms <= DETECT_MS);
	assert_non_null(strstr(ev->message, "main process exited"));
	assert_int_equal(proxy_get(port, "/probe/default/plain/app/readiness", NULL), 503);
	t_run_cleanup(&r);
}

/* An exec probe runs in the container's cgroup (and mount namespace, through its pidfd). */
static void test_exec_probe_in_container(void **state)
{
	struct t_run r;
	struct server srv;
	char pods_file[PATH_MAX], cmd[PATH_MAX + 64], out[PATH_MAX + 32], got[PATH_MAX] = "";
	struct pod pods[1] = {
		{"exec", "88888888-1111-4000-8000-000000000008", "app", false, &srv, 0, cmd},
	};
	int port;
	FILE *f;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &srv);
	snprintf(out, sizeof(out), "%s/exec-cgroup", r.dir);
	snprintf(cmd, sizeof(cmd), "cat /proc/self/cgroup > %s", out);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 1);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, NULL});
	proxy_wait(port, "/probe/default/exec/app/readiness", 200, 5000);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(got, sizeof(got), f) && strncmp(got, "0::", 3))
		;
	fclose(f);
	assert_non_null(strstr(got, srv.id));
	t_run_cleanup(&r);
}

/* --act=restart acts for every pod, annotation or not. */
static void test_act_restart_flag(void **state)
{
	struct t_run r;
	struct server srv;
	char pods_file[PATH_MAX];
	struct pod pods[1] = {
		{"all", "77777777-0000-4000-8000-000000000007", "app", false, &srv, 0, NULL},
	};
	int port, status;

	t_run_init(&r);
	server_start(&r, pods[0].uid, &srv);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	write_pods(&r, pods_file, pods, 1);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, "--act=restart", NULL});
	proxy_wait(port, "/probe/default/all/app/liveness", 200, 5000);
	kill(srv.pid, SIGUSR1);
	t_wait_event(&r, "Killing", "app", 0, 2000);
	assert_int_equal(waitpid(srv.pid, &status, 0), srv.pid);
	reap(srv.pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Once per container ID: the dead container is not killed again. */
	t_drain(&r, 200);
	assert_int_equal(t_count_events(&r, "Killing", "app"), 1);
	t_run_cleanup(&r);
}

/* How often <needle> occurs in <hay>. */
static unsigned int count_of(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * A pod's own probe that asks podprobe's probe proxy (deploy/example-workload.yaml's exec
 * wget; an httpGet on the proxy's port) is not run by podprobe watch, which would ask
 * itself: it is reported once, and its proxy path answers from the verdict its URL names.
 * Pod px: startup exec (runs: touches <ran>), readiness httpGet on the app (runs), liveness
 * exec that touches <looped> and asks the proxy for px's readiness (never run). Pod chain's
 * readiness asks for px's liveness path (two hops to px's readiness), pod self's for its own.
 */
static void test_probe_asking_proxy_not_run(void **state)
{
	struct t_run r;
	struct server srv;
	char pods_file[PATH_MAX], tmp[PATH_MAX + 8], ran[PATH_MAX], looped[PATH_MAX];
	char proxy_arg[64], px_series[256];
	int pport = t_free_port(), port;
	FILE *f;

	t_run_init(&r);
	server_start(&r, "99999999-2222-4000-8000-000000000009", &srv);
	snprintf(ran, sizeof(ran), "%s/startup-ran", r.dir);
	snprintf(looped, sizeof(looped), "%s/liveness-ran", r.dir);
	snprintf(pods_file, sizeof(pods_file), "%s/pods.json", r.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", pods_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
		/* px: period 50 ms, so a liveness probe podprobe ran would run within 300 ms */
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"px\","
		"\"namespace\":\"default\",\"uid\":\"99999999-2222-4000-8000-000000000009\","
		"\"annotations\":{\"probe.podprobe.io/period-ms\":\"50\"}},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"python:3\","
		"\"ports\":[{\"name\":\"http\",\"containerPort\":%d}],"
		"\"startupProbe\":{\"exec\":{\"command\":[\"/bin/sh\",\"-c\",\"touch %s\"]}},"
		"\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":\"http\"}},"
		"\"livenessProbe\":{\"exec\":{\"command\":[\"/bin/sh\",\"-c\",\"touch %s; wget -q "
		"-O /dev/null http://$(HOST_IP):%d/probe/default/px/app/readiness\"]}}}]},"
		"\"status\":{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\",\"podIP\":\"127.0.0."
		"1\","
		"\"containerStatuses\":[{\"name\":\"app\",\"containerID\":\"containerd://%s\","
		"\"restartCount\":0,\"ready\":true,\"started\":true,\"state\":{\"running\":{}}}]}},"
		/* chain: no container running, only a probe that asks the proxy */
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"chain\","
		"\"namespace\":\"default\",\"uid\":\"99999999-2222-4000-8000-000000000010\"},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x\","
		"\"readinessProbe\":{\"httpGet\":{\"path\":\"/probe/default/px/app/liveness\","
		"\"port\":%d}}}]},\"status\":{\"phase\":\"Pending\"}},"
		/* self: asks about itself; and for a path with a $(VAR) podprobe cannot read */
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"self\","
		"\"namespace\":\"default\",\"uid\":\"99999999-2222-4000-8000-000000000011\"},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x\","
		"\"readinessProbe\":{\"httpGet\":{\"path\":\"/probe/default/self/app/readiness\","
		"\"port\":%d}},"
		"\"livenessProbe\":{\"exec\":{\"command\":[\"wget\",\"http://127.0.0.1:%d/probe/"
		"default/$(POD_NAME)/app/readiness\"]}}}]},\"status\":{\"phase\":\"Pending\"}}"
		"]}\n",
		srv.port, ran, looped, pport, srv.id, pport, pport, pport);
	fclose(f);
	assert_int_equal(rename(tmp, pods_file), 0);
	snprintf(proxy_arg, sizeof(proxy_arg), "--probe-proxy-addr=127.0.0.1:%d", pport);
	port = watch_start(&r, (const char *[]){"--pods", pods_file, proxy_arg, NULL});
	assert_int_equal(port, pport);

	/* Startup ran (exec works here) and readiness is in; liveness asks for it. */
	proxy_wait(port, "/probe/default/px/app/readiness", 200, 5000);
	assert_int_equal(access(ran, F_OK), 0);
	assert_int_equal(proxy_get(port, "/probe/default/px/app/liveness", NULL), 200);
	assert_non_null(strstr(resp, "X-Podprobe-Verdict-Of: default/px/app/readiness\r\n"));
	assert_non_null(strstr(resp, "X-Podprobe-Verdict-Age: "));
	assert_int_equal(proxy_get(port, "/probe/default/chain/app/readiness", NULL), 200);
	assert_non_null(strstr(resp, "X-Podprobe-Verdict-Of: default/px/app/readiness\r\n"));
	assert_int_equal(proxy_get(port, "/probe/default/self/app/readiness", NULL), 503);
	assert_non_null(strstr(resp, "about itself"));
	assert_int_equal(proxy_get(port, "/probe/default/self/app/liveness", NULL), 503);
	assert_non_null(strstr(resp, "does not serve"));
	assert_int_equal(proxy_get(port, "/probe/default/chain/app/liveness", NULL), 404);

	/* Twelve periods later the liveness command has still never run, nor been counted. */
	t_drain(&r, 600);
	assert_int_equal(access(looped, F_OK), -1);
	assert_int_equal(proxy_get(port, "/metrics", NULL), 200);
	snprintf(px_series, sizeof(px_series),
		 "pod=\"px\",pod_uid=\"99999999-2222-4000-8000-000000000009\",probe_type=\"%s\"",
		 "Readiness");
	assert_non_null(strstr(resp, px_series));
	snprintf(px_series, sizeof(px_series),
		 "pod=\"px\",pod_uid=\"99999999-2222-4000-8000-000000000009\",probe_type=\"%s\"",
		 "Liveness");
	assert_null(strstr(resp, px_series));
	/* Said once per probe on stderr. */
	assert_int_equal(count_of(r.err_text, "probe liveness of default/px/app asks podprobe's "
					      "probe proxy: not run by podprobe\n"),
			 1);
	assert_int_equal(count_of(r.err_text, "probe readiness of default/chain/app asks "
					      "podprobe's probe proxy: not run by podprobe\n"),
			 1);
	assert_int_equal(count_of(r.err_text, "asks podprobe's probe proxy"), 4);
	assert_int_equal(count_of(r.err_text, "probe startup of default/px/app asks"), 0);

	/* The app's port closes: readiness fails, and the paths that name it follow at once. */
	kill(srv.pid, SIGUSR1);
	proxy_wait(port, "/probe/default/px/app/readiness", 503, 2000);
	assert_int_equal(proxy_get(port, "/probe/default/px/app/liveness", NULL), 503);
	assert_int_equal(proxy_get(port, "/probe/default/chain/app/readiness", NULL), 503);
	assert_int_equal(access(looped, F_OK), -1);
	/* A clean stop frees what the proxied probes hold (the sanitizer build checks). */
	t_run_signal(&r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&r, 5000), 0);
	t_run_cleanup(&r);
}

#define KUBECTL "/usr/bin/kubectl"

static const char gated_pod[] = "apiVersion: v1\n"
				"kind: Pod\n"
				"metadata:\n"
				"  name: gated\n"
				"spec:\n"
				"  readinessGates:\n"
				"  - conditionType: podprobe.io/ready\n"
				"  containers:\n"
				"  - name: app\n"
				"    image: python\n"
				"    command: [/usr/bin/python3, -u, %s, \"%d\"]\n"
				"    ports:\n"
				"    - {name: http, containerPort: %d}\n"
				"    readinessProbe:\n"
				"      httpGet: {path: /, port: http}\n"
				"      periodSeconds: 10\n";

/* The podprobe.io/ready condition of pod gated as kubectl shows it ("" = none). */
static void gate_status(const char *kubeconfig, char *out, size_t size)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd),
		 KUBECTL " --kubeconfig %s get pod gated -o "
			 "jsonpath='{.status.conditions[?(@.type==\"podprobe.io/ready\")].status}'",
		 kubeconfig);
	if (t_system(cmd, out, size) != 0)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static void gate_wait(const char *kubeconfig, const char *want, int timeout_ms)
{
	uint64_t until = t_now_ms() + (uint64_t)timeout_ms;
	char got[256] = "";

	while (t_now_ms() < until) {
		gate_status(kubeconfig, got, sizeof(got));
		if (!strcmp(got, want))
			return;
		usleep(20000);
	}
	fail_msg("condition podprobe.io/ready is '%s', not '%s'", got, want);
}

/*
 * A `podprobe run` serving the API with the gated pod (its app is server_py), running; with
 * <keep>, --keep-pods. <args> (4 entries) gets its arguments, for a restart; <kubeconfig> its
 * kubeconfig's path. Skips without kubectl.
 */
static void gated_run_start(struct t_run *run, bool keep, const char **args, char *kubeconfig,
			    size_t size)
{
	static char path[PATH_MAX];
	char script[PATH_MAX], yaml[2048 + PATH_MAX];
	int app_port = t_free_port();
	size_t n = 0;
	FILE *f;

	if (access(KUBECTL, X_OK) != 0) {
		print_message("kubectl is not installed at " KUBECTL ": skipped\n");
		skip();
	}
	t_run_init(run);
	snprintf(script, sizeof(script), "%s/server.py", run->dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(server_py, f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), gated_pod, script, app_port, app_port);
	snprintf(path, sizeof(path), "%s", t_write_manifest(run, "pod.yaml", yaml));
	args[n++] = "--api-addr=127.0.0.1:0";
	if (keep)
		args[n++] = "--keep-pods";
	args[n++] = path;
	args[n] = NULL;
	t_run_start(run, args);
	snprintf(kubeconfig, size, "%s/kubeconfig", run->state_dir);
	t_wait_file(kubeconfig, 10000);
	t_wait_event(run, "Started", "app", 0, 10000);
}

/*
 * Over the API: `podprobe run --api-addr` stands in for the node and API server; `podprobe
 * watch --kubeconfig` finds its pod (podprobe:// container ID, podprobe run's cgroup leaf),
 * patches the readiness gate True, and False as soon as the app's port closes.
 */
static void test_api_readiness_gate(void **state)
{
	struct t_run run, w;
	char kubeconfig[PATH_MAX + 16], node_arg[128], host[64] = "";
	const char *args[4];
	const struct t_event *ev;
	int proxy;
	uint64_t t0;

	gated_run_start(&run, false, args, kubeconfig, sizeof(kubeconfig));

	t_run_init(&w);
	gethostname(host, sizeof(host) - 1);
	snprintf(node_arg, sizeof(node_arg), "--node=%s", host);
	proxy = watch_start(&w, (const char *[]){"--kubeconfig", kubeconfig, node_arg, NULL});
	gate_wait(kubeconfig, "True", 10000);
	proxy_wait(proxy, "/probe/default/gated/app/readiness", 200, 2000);

	/* The app closes its port: the condition is False after one API round trip. */
	{
		char cmd[PATH_MAX + 64], pid[32] = "";
		const char *cg;
		uint64_t until = t_now_ms() + 5000;

		while (!(cg = strstr(w.err_text, "container app is ")) && t_now_ms() < until)
			t_drain(&w, 20);
		assert_non_null(cg);
		snprintf(cmd, sizeof(cmd), "head -1 '%.*s/cgroup.procs'",
			 (int)strcspn(cg + 17, "\n"), cg + 17);
		assert_int_equal(t_system(cmd, pid, sizeof(pid)), 0);
		t0 = t_now_ms();
		assert_int_equal(kill(atoi(pid), SIGUSR1), 0);
	}
	ev = t_wait_event(&w, "Unhealthy", "app", 0, 2000);
	assert_true(ev->at_ms - t0 <= DETECT_MS);
	gate_wait(kubeconfig, "False", 5000);
	print_message("port close -> watch event %llu ms, condition False in the API (kubectl "
		      "polling) %llu ms\n",
		      (unsigned long long)(ev->at_ms - t0), (unsigned long long)(t_now_ms() - t0));
	/* The API client's figures: synced, requests, both patches and their latency. */
	{
		uint64_t until = t_now_ms() + 2000;
		const char *body = metrics_get(proxy);

		/* The False patch's 2xx may come a moment after kubectl saw the condition. */
		while (metric_value(body, "podprobe_watch_gate_patches_total{result=\"ok\"}") < 2 &&
		       t_now_ms() < until) {
			usleep(10000);
			body = metrics_get(proxy);
		}
		assert_true(metric_value(body,
					 "podprobe_watch_gate_patches_total{result=\"ok\"}") >= 2);
		assert_true(
			metric_value(body, "podprobe_watch_gate_patches_total{result=\"error\"}") ==
			0);
		assert_true(metric_value(body, "podprobe_watch_api_synced") == 1);
		assert_true(metric_value(body, "podprobe_watch_api_relists_total") == 0);
		/* A list, a watch and two patches at least. */
		assert_true(metric_value(body, "podprobe_watch_api_requests_total") >= 4);
		assert_true(metric_value(body, "podprobe_watch_gate_patch_seconds_count") >= 1);
		assert_true(metric_value(body, "podprobe_watch_gate_patch_seconds_sum") > 0);
		assert_true(metric_value(body,
					 "podprobe_watch_gate_patch_seconds_bucket{le=\"+Inf\"}") >=
			    1);
		print_message("gate patch latency: %.3f ms mean over %.0f\n",
			      1e3 * metric_value(body, "podprobe_watch_gate_patch_seconds_sum") /
				      metric_value(body, "podprobe_watch_gate_patch_seconds_count"),
			      metric_value(body, "podprobe_watch_gate_patch_seconds_count"));
		lint_metrics(&w, body);
	}
	t_run_signal(&w, SIGTERM);
	assert_int_equal(t_run_wait_exit(&w, 5000), 0);
	t_run_cleanup(&w);
	t_run_cleanup(&run);
}

/*
 * The API server restarts (a `podprobe run --keep-pods` stopped and started again on its state
 * directory: a new port, CA and token in the same kubeconfig file, pods re-adopted, their gate
 * conditions gone with the old process's memory): the watch re-reads the kubeconfig, re-lists
 * once, keeps its pod (no second "watching pod"), sets the gate True again on the new server,
 * and a port closed afterwards is False there.
 */
static void test_api_server_restart(void **state)
{
	struct t_run run, w;
	char kubeconfig[PATH_MAX + 16], node_arg[128], host[64] = "", cmd[PATH_MAX + 64];
	char pid[32] = "";
	const char *args[4], *cg, *first;
	int proxy;
	uint64_t until;

	gated_run_start(&run, true, args, kubeconfig, sizeof(kubeconfig));

	t_run_init(&w);
	gethostname(host, sizeof(host) - 1);
	snprintf(node_arg, sizeof(node_arg), "--node=%s", host);
	proxy = watch_start(&w, (const char *[]){"--kubeconfig", kubeconfig, node_arg, NULL});
	gate_wait(kubeconfig, "True", 10000);

	/* Down (pods left running), and up again on the same state directory. */
	t_run_signal(&run, SIGTERM);
	assert_int_equal(t_run_wait_exit(&run, 10000), 0);
	t_run_start(&run, args);
	t_wait_file(kubeconfig, 10000);
	/* The new server re-adopted the pod without the gate; the watch sets it again. */
	gate_wait(kubeconfig, "True", 20000);
	until = t_now_ms() + 5000;
	while (metric_value(metrics_get(proxy), "podprobe_watch_api_relists_total") < 1 &&
	       t_now_ms() < until)
		usleep(20000);
	assert_true(metric_value(metrics_get(proxy), "podprobe_watch_api_relists_total") >= 1);
	t_drain(&w, 50);
	first = strstr(w.err_text, "watching pod default/gated");
	assert_non_null(first);
	assert_null(strstr(first + 1, "watching pod default/gated"));

	/* Still the same container, still watched: its port closes, False on the new server. */
	cg = strstr(w.err_text, "container app is ");
	assert_non_null(cg);
	snprintf(cmd, sizeof(cmd), "head -1 '%.*s/cgroup.procs'", (int)strcspn(cg + 17, "\n"),
		 cg + 17);
	assert_int_equal(t_system(cmd, pid, sizeof(pid)), 0);
	assert_int_equal(kill(atoi(pid), SIGUSR1), 0);
	gate_wait(kubeconfig, "False", 5000);
	t_run_signal(&w, SIGTERM);
	assert_int_equal(t_run_wait_exit(&w, 5000), 0);
	t_run_cleanup(&w);
	t_run_cleanup(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		W_TEST(test_kill_and_close_detected), W_TEST(test_pods_file_changes),
		W_TEST(test_restart_only_opted_in),   W_TEST(test_no_bpf_pidfd),
		W_TEST(test_act_restart_flag),	      W_TEST(test_api_readiness_gate),
		W_TEST(test_exec_probe_in_container), W_TEST(test_probe_asking_proxy_not_run),
		W_TEST(test_api_server_restart),
	};

	if (!find_cgroup_base()) {
		printf("SKIP: %s\n", skip_reason);
		return T_EXIT_SKIP;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
