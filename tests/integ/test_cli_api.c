// SPDX-License-Identifier: Apache-2.0
/*
 * podprobe's own clients of a running `podprobe run` over STATE-DIR/api.sock: `get pods`
 * prints what kubectl prints (byte for byte, when /usr/bin/kubectl is there), `describe pod`,
 * `logs` (plain, -c, -p after a restart, -f until the container ends, --tail, the files of a
 * finished run), `delete` (waits until the pod is gone, preStop before SIGTERM, --wait=false,
 * NotFound); a socket that the state directory's lock holder does not serve is never spoken
 * to; no run is a clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

#define KUBECTL "/usr/bin/kubectl"

struct cctx {
	struct t_run r;
	char kubeconfig[400];
	char cache[400];
	char out[65536];
};

static struct cctx C;

static const char pods_yaml[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata:\n"
	"  name: web\n"
	"  labels: {app: web, tier: front}\n"
	"  annotations: {note: hello}\n"
	"spec:\n"
	"  terminationGracePeriodSeconds: 5\n"
	"  containers:\n"
	"  - name: web\n"
	"    image: busybox\n"
	"    command: [sh, -c, 'echo hello from web; exec sleep 60']\n"
	"    readinessProbe:\n"
	"      exec: {command: ['true']}\n"
	"      periodSeconds: 1\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: duo, namespace: other, labels: {app: duo}}\n"
	"spec:\n"
	"  initContainers:\n"
	"  - {name: prep, image: busybox, command: [sh, -c, 'echo prep done']}\n"
	"  containers:\n"
	"  - {name: a, image: busybox, command: [sh, -c, 'echo from a; exec sleep 60']}\n"
	"  - {name: b, image: alpine, command: [sh, -c, 'echo from b; exec sleep 60']}\n";

/* Run podprobe <args> on the run's state directory; stdout (and stderr when <err>) in C.out. */
static int pp(bool err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pp(bool err, const char *fmt, ...)
{
	char args[4096], cmd[6000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 40 %s %s --state-dir=%s %s", t_podprobe(), args,
		 C.r.state_dir, err ? "2>&1" : "2>/dev/null");
	return t_system(cmd, C.out, sizeof(C.out));
}

static int kubectl(char *out, size_t size, bool err, const char *args)
{
	char cmd[6000];

	snprintf(cmd, sizeof(cmd), "timeout 40 " KUBECTL " --kubeconfig %s --cache-dir %s %s %s",
		 C.kubeconfig, C.cache, args, err ? "2>&1" : "2>/dev/null");
	return t_system(cmd, out, size);
}

/* <s> starts with <prefix>. */
#define assert_prefix(s, prefix) assert_memory_equal((s), (prefix), strlen(prefix))

static bool have_kubectl(void)
{
	return access(KUBECTL, X_OK) == 0;
}

/* Start a run serving the API with <yaml> as pod file <name>; wait until it serves. */
static void start(const char *name, const char *yaml)
{
	char path[512];

	t_run_init(&C.r);
	snprintf(path, sizeof(path), "%s", t_write_manifest(&C.r, name, yaml));
	t_run_start(&C.r, (const char *const[]){"--api-addr=127.0.0.1:0", "--backoff-base=200ms",
						path, NULL});
	snprintf(C.kubeconfig, sizeof(C.kubeconfig), "%s/kubeconfig", C.r.state_dir);
	snprintf(C.cache, sizeof(C.cache), "%s/kcache", C.r.dir);
	/* Written once the listeners accept (api.sock is bound before it). */
	t_wait_file(C.kubeconfig, 10000);
}

/* Poll `podprobe <args>` until its output holds <needle> (a state the run reaches), 15 s. */
static void wait_output(const char *args, const char *needle)
{
	for (int i = 0; i < 150; i++) {
		if (pp(true, "%s", args) == 0 && strstr(C.out, needle))
			return;
		poll(NULL, 0, 100);
	}
	fail_msg("podprobe %s never showed '%s'; last:\n%s", args, needle, C.out);
}

/*
 * podprobe <args> prints what kubectl <args> prints. An AGE may tick over between two
 * commands, so kubectl's output must equal podprobe's from just before or just after it.
 */
static void assert_same_as_kubectl(const char *args, bool err)
{
	static char a[65536], b[65536], c[65536];
	int ra = 0, rb = 0;

	for (int i = 0; i < 3; i++) {
		ra = pp(err, "%s", args);
		snprintf(a, sizeof(a), "%s", C.out);
		rb = kubectl(b, sizeof(b), err, args);
		pp(err, "%s", args);
		snprintf(c, sizeof(c), "%s", C.out);
		if (ra == rb && (!strcmp(a, b) || !strcmp(b, c)))
			return;
	}
	fail_msg("'%s' differs (exit %d vs %d)\npodprobe:\n%s\nkubectl:\n%s", args, ra, rb, a, b);
}

static void test_get_prints_what_kubectl_prints(void **state)
{
	(void)state;
	start("pods.yaml", pods_yaml);
	wait_output("get pods", "1/1     Running");
	wait_output("get pods -n other", "2/2     Running");
	if (have_kubectl()) {
		assert_same_as_kubectl("get pods", false);
		assert_same_as_kubectl("get pods -o wide", false);
		assert_same_as_kubectl("get pods -A", false);
		assert_same_as_kubectl("get pods -A -o wide", false);
		assert_same_as_kubectl("get pods -l app=web", false);
		assert_same_as_kubectl("get pods -l app=nope", true);
		assert_same_as_kubectl("get pods -n other -o name", false);
		assert_same_as_kubectl("get pod web -o json", false);
		assert_same_as_kubectl("get pod nope", true);
	} else {
		print_message("kubectl is not installed at " KUBECTL
			      ": comparing with the expected text\n");
	}
	/* The layout itself: tabwriter columns, padding 3, NAMESPACE first with -A. */
	assert_int_equal(pp(false, "get pods"), 0);
	assert_prefix(C.out, "NAME   READY   STATUS    RESTARTS   AGE\n"
			     "web    1/1     Running   0          ");
	assert_int_equal(pp(false, "get pods -A"), 0);
	assert_prefix(C.out, "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE\n"
			     "default     web    1/1     Running   0          ");
	assert_non_null(strstr(C.out, "\nother       duo    2/2     Running   0          "));
	assert_int_equal(pp(false, "get pods -o wide -n other"), 0);
	assert_non_null(strstr(C.out, "IP          NODE"));
	assert_non_null(strstr(C.out, "   NOMINATED NODE   READINESS GATES\n"));
	assert_non_null(strstr(C.out, "   127.0.0.1   "));
	assert_int_equal(pp(false, "get pods -l 'tier in (front)' -o name"), 0);
	assert_string_equal(C.out, "pod/web\n");
	assert_int_equal(pp(true, "get pods -l app=nope"), 0);
	assert_string_equal(C.out, "No resources found in default namespace.\n");
	assert_int_equal(pp(true, "get pod nope"), 1);
	assert_string_equal(C.out, "Error from server (NotFound): pods \"nope\" not found\n");
	t_run_cleanup(&C.r);
}

static void test_describe_shows_the_pod_and_only_its_events(void **state)
{
	char node[256];

	(void)state;
	start("pods.yaml", pods_yaml);
	wait_output("get pods", "1/1     Running");
	wait_output("get pods -n other", "2/2     Running");
	if (have_kubectl()) {
		assert_same_as_kubectl("describe pod web", false);
		assert_same_as_kubectl("describe pod duo -n other", false);
		assert_same_as_kubectl("describe pod nope", true);
	}
	gethostname(node, sizeof(node));
	assert_int_equal(pp(false, "describe pod web"), 0);
	assert_prefix(C.out, "Name:         web\nNamespace:    default\n");
	{
		char line[400];

		snprintf(line, sizeof(line), "\nNode:         %s/127.0.0.1\nStart Time:   ", node);
		assert_non_null(strstr(C.out, line));
	}
	assert_non_null(strstr(C.out, "\nLabels:       app=web\n              tier=front\n"));
	assert_non_null(strstr(C.out, "\nAnnotations:  note: hello\nStatus:       Running\n"
				      "IP:           127.0.0.1\nIPs:\n  IP:  127.0.0.1\n"));
	assert_non_null(strstr(C.out, "\nContainers:\n  web:\n    Container ID:  podprobe://"));
	assert_non_null(strstr(C.out, "\n    Image:         busybox\n"));
	assert_non_null(strstr(C.out, "\n    State:          Running\n      Started:      "));
	assert_non_null(strstr(C.out, "\n    Ready:          True\n    Restart Count:  0\n"));
	assert_non_null(strstr(C.out, "\nConditions:\n  Type                        Status\n"
				      "  PodReadyToStartContainers   True \n"));
	assert_non_null(strstr(C.out, "\n  Ready                       True \n"));
	assert_non_null(strstr(C.out, "\nEvents:\n  Type    Reason   "));
	assert_non_null(strstr(C.out, "Started container web\n"));
	/* Scoped to the pod: nothing of duo's containers. */
	assert_null(strstr(C.out, "container a"));
	assert_null(strstr(C.out, "prep"));
	assert_int_equal(pp(false, "describe pod duo -n other"), 0);
	assert_non_null(strstr(C.out, "\nInit Containers:\n  prep:\n"));
	assert_non_null(strstr(C.out, "\n    State:          Terminated\n      Reason:       "
				      "Completed\n      Exit Code:    0\n"));
	assert_non_null(strstr(C.out, "\n  b:\n"));
	assert_int_equal(pp(true, "describe pod nope"), 1);
	assert_string_equal(C.out, "Error from server (NotFound): pods \"nope\" not found\n");
	t_run_cleanup(&C.r);
}

static const char logs_yaml[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: duo}\n"
	"spec:\n"
	"  containers:\n"
	"  - {name: a, image: busybox, command: [sh, -c, 'echo from a; exec sleep 60']}\n"
	"  - {name: b, image: busybox, command: [sh, -c, 'echo from b; exec sleep 60']}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: crash}\n"
	"spec:\n"
	"  containers:\n"
	"  - {name: app, image: busybox, command: [sh, -c, 'echo boom $$$$; exit 3']}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: talk}\n"
	"spec:\n"
	"  restartPolicy: Never\n"
	"  containers:\n"
	"  - name: t\n"
	"    image: busybox\n"
	"    workingDir: DIR\n"
	"    command: [sh, -c, 'echo ready; while [ ! -e go ]; do sleep 0.02; done;"
	" for i in 1 2 3; do echo line $i; sleep 0.1; done']\n";

static void test_logs(void **state)
{
	char yaml[4096], cmd[2000], buf[4096], path[600];
	const char *p;
	size_t len = 0;
	FILE *f;
	int fd;

	(void)state;
	t_run_init(&C.r);
	/* talk waits in the test's directory for "go". */
	p = strstr(logs_yaml, "DIR");
	snprintf(yaml, sizeof(yaml), "%.*s%s%s", (int)(p - logs_yaml), logs_yaml, C.r.dir, p + 3);
	{
		char mpath[512];

		snprintf(mpath, sizeof(mpath), "%s", t_write_manifest(&C.r, "logs.yaml", yaml));
		t_run_start(&C.r, (const char *const[]){"--api-addr=127.0.0.1:0",
							"--backoff-base=200ms", mpath, NULL});
	}
	snprintf(C.kubeconfig, sizeof(C.kubeconfig), "%s/kubeconfig", C.r.state_dir);
	t_wait_file(C.kubeconfig, 10000);
	wait_output("get pod duo", "2/2");

	/* The first container by default (kubectl's note on stderr), or the one asked for. */
	assert_int_equal(pp(false, "logs duo"), 0);
	assert_string_equal(C.out, "from a\n");
	assert_int_equal(pp(true, "logs duo"), 0);
	assert_string_equal(C.out, "Defaulted container \"a\" out of: a, b\nfrom a\n");
	assert_int_equal(pp(true, "logs duo -c b"), 0);
	assert_string_equal(C.out, "from b\n");
	assert_int_equal(pp(true, "logs duo -c nope"), 1);
	assert_string_equal(C.out,
			    "Error from server (BadRequest): container nope is not valid for pod "
			    "duo\n");
	assert_int_equal(pp(true, "logs nope"), 1);
	assert_string_equal(C.out, "Error from server (NotFound): pods \"nope\" not found\n");

	/* -p: the instance before the current one, after a restart. */
	wait_output("logs crash -p", "boom ");
	assert_prefix(C.out, "boom ");
	{
		char prev[64];

		snprintf(prev, sizeof(prev), "%.60s", C.out);
		assert_int_equal(pp(true, "logs crash"), 0);
		assert_prefix(C.out, "boom ");
		/* Another instance, another pid in its line. */
		assert_string_not_equal(C.out, prev);
	}

	wait_output("logs talk", "ready");
	/* -f streams: "ready" arrives while the container waits, the rest once it goes on. */
	snprintf(cmd, sizeof(cmd), "timeout 20 %s logs -f talk --state-dir=%s; echo exit=$?",
		 t_podprobe(), C.r.state_dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "ready\n");
	snprintf(path, sizeof(path), "%s/go", C.r.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* ... and the stream ends when the container does. */
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	pclose(f);
	assert_string_equal(buf, "line 1\nline 2\nline 3\nexit=0\n");
	assert_int_equal(pp(true, "logs talk --tail 2"), 0);
	assert_string_equal(C.out, "line 2\nline 3\n");

	/* A finished run: its log files. */
	t_run_signal(&C.r, SIGTERM);
	t_run_wait_exit(&C.r, 10000);
	assert_int_equal(pp(true, "logs duo -c b"), 0);
	assert_string_equal(C.out, "from b\n");
	assert_int_equal(pp(true, "logs talk"), 0);
	assert_string_equal(C.out, "ready\nline 1\nline 2\nline 3\n");
	t_run_cleanup(&C.r);
}

static const char delete_yaml[] =
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: NAME}\n"
	"spec:\n"
	"  terminationGracePeriodSeconds: 10\n"
	"  containers:\n"
	"  - name: app\n"
	"    image: busybox\n"
	"    workingDir: DIR\n"
	"    command: [sh, -c, 'trap \"echo TERM >> NAME.order; while [ ! -e NAME.release ]; do "
	"sleep 0.02; done; sleep 0.3; echo EXIT >> NAME.order; exit 0\" TERM; echo up; while true; "
	"do "
	"sleep 0.05; done']\n"
	"    lifecycle:\n"
	"      preStop:\n"
	"        exec: {command: [sh, -c, 'echo preStop >> NAME.order']}\n";

/* delete_yaml for pod <name> with marks in the test's directory. */
static void write_delete_pod(char *buf, size_t size, const char *name)
{
	size_t len = 0;

	for (const char *s = delete_yaml; *s && len + 300 < size;) {
		if (!strncmp(s, "NAME", 4)) {
			len += (size_t)snprintf(buf + len, size - len, "%s", name);
			s += 4;
		} else if (!strncmp(s, "DIR", 3)) {
			len += (size_t)snprintf(buf + len, size - len, "%s", C.r.dir);
			s += 3;
		} else {
			buf[len++] = *s++;
		}
	}
	buf[len] = '\0';
}

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static void touch(const char *name)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", C.r.dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_delete_waits_until_gone(void **state)
{
	char a[2048], b[2048], all[4200], path[600], text[256];

	(void)state;
	t_run_init(&C.r);
	write_delete_pod(a, sizeof(a), "one");
	write_delete_pod(b, sizeof(b), "two");
	snprintf(all, sizeof(all), "%s---\n%s", a, b);
	{
		char mpath[512];

		snprintf(mpath, sizeof(mpath), "%s", t_write_manifest(&C.r, "del.yaml", all));
		t_run_start(&C.r, (const char *const[]){"--api-addr=127.0.0.1:0", mpath, NULL});
	}
	snprintf(C.kubeconfig, sizeof(C.kubeconfig), "%s/kubeconfig", C.r.state_dir);
	t_wait_file(C.kubeconfig, 10000);
	wait_output("logs one", "up");
	wait_output("logs two", "up");

	/*
	 * Graceful: preStop, then SIGTERM; the command returns once the pod is gone, so after
	 * its container's last words (300 ms after the TERM).
	 */
	touch("one.release");
	assert_int_equal(pp(true, "delete one"), 0);
	assert_string_equal(C.out, "pod \"one\" deleted\n");
	snprintf(path, sizeof(path), "%s/one.order", C.r.dir);
	read_text(path, text, sizeof(text));
	assert_string_equal(text, "preStop\nTERM\nEXIT\n");
	assert_int_equal(pp(true, "get pod one"), 1);
	assert_string_equal(C.out, "Error from server (NotFound): pods \"one\" not found\n");

	/* --wait=false returns while the pod is still Terminating (its TERM trap holds). */
	assert_int_equal(pp(true, "delete two --wait=false --grace-period 8"), 0);
	assert_string_equal(C.out, "pod \"two\" deleted\n");
	assert_int_equal(pp(false, "get pod two"), 0);
	assert_non_null(strstr(C.out, "Terminating"));
	/* A second delete of it waits for it too, and it goes once the trap lets it. */
	touch("two.release");
	assert_int_equal(pp(true, "delete two"), 0);
	assert_int_equal(pp(true, "get pod two"), 1);
	snprintf(path, sizeof(path), "%s/two.order", C.r.dir);
	read_text(path, text, sizeof(text));
	assert_string_equal(text, "preStop\nTERM\nEXIT\n");

	assert_int_equal(pp(true, "delete nope"), 1);
	assert_string_equal(C.out, "Error from server (NotFound): pods \"nope\" not found\n");
	t_run_cleanup(&C.r);
}

/* A listening socket at <dir>/api.sock, served by this test. Returns its fd. */
static int plant_socket(const char *dir)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_true(strlen(dir) + 10 < sizeof(sun.sun_path));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.96s/api.sock", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* Every connection made to <lfd> so far sent nothing at all. */
static void assert_nothing_sent(int lfd)
{
	int c;

	while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		char b[64];
		struct pollfd pfd = {.fd = c, .events = POLLIN};

		/* The client has closed it by now: EOF, not a request. */
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_int_equal(read(c, b, sizeof(b)), 0);
		close(c);
	}
}

static void test_planted_socket_is_never_spoken_to(void **state)
{
	char dir[400], path[600], pid_text[32];
	int lfd, fd;
	pid_t child;

	(void)state;
	t_run_init(&C.r);
	snprintf(dir, sizeof(dir), "%s/state", C.r.dir);
	snprintf(C.r.state_dir, sizeof(C.r.state_dir), "%.290s", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	/* A lock file naming this live process, but no lock held: no run. */
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	snprintf(pid_text, sizeof(pid_text), "%d\n", (int)getpid());
	assert_int_equal(write(fd, pid_text, strlen(pid_text)), (ssize_t)strlen(pid_text));
	close(fd);
	lfd = plant_socket(dir);
	assert_int_equal(pp(true, "get pods"), 1);
	assert_prefix(C.out, "podprobe: no running 'podprobe run' uses state directory '");
	assert_int_equal(pp(true, "delete web"), 1);
	assert_non_null(strstr(C.out, "no running 'podprobe run' uses state directory"));
	assert_int_equal(pp(true, "describe pod web"), 1);
	assert_nothing_sent(lfd);

	/* The lock held by a live process that is not the socket's server: refused too. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int lk = open(path, O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(30);
		if (lk < 0 || flock(lk, LOCK_EX) < 0 || ftruncate(lk, 0) < 0)
			_exit(1);
		snprintf(pid_text, sizeof(pid_text), "%d\n", (int)getpid());
		if (write(lk, pid_text, strlen(pid_text)) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	/* Until the child holds it (the lock file then names the child). */
	for (int i = 0; i < 200; i++) {
		char t[32];

		read_text(path, t, sizeof(t));
		if (atoi(t) == (int)child)
			break;
		poll(NULL, 0, 10);
	}
	assert_int_equal(pp(true, "get pods"), 1);
	assert_non_null(strstr(C.out, "api.sock is not served by the podprobe run that holds the "
				      "state directory, refusing it"));
	assert_int_equal(pp(true, "logs web -c app"), 1);
	assert_int_equal(pp(true, "delete web"), 1);
	assert_nothing_sent(lfd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(lfd);
	t_run_cleanup(&C.r);
}

static void test_no_run_is_a_clear_error(void **state)
{
	char want[800];

	(void)state;
	t_run_init(&C.r);
	snprintf(C.r.state_dir, sizeof(C.r.state_dir), "%s/none", C.r.dir);
	snprintf(want, sizeof(want),
		 "podprobe: no running 'podprobe run' uses state directory '%s'\n", C.r.state_dir);
	assert_int_equal(pp(true, "get pods"), 1);
	assert_string_equal(C.out, want);
	assert_int_equal(pp(true, "describe pod web"), 1);
	assert_string_equal(C.out, want);
	assert_int_equal(pp(true, "delete web"), 1);
	assert_string_equal(C.out, want);
	assert_int_equal(pp(true, "logs web --tail 3"), 1);
	t_run_cleanup(&C.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_get_prints_what_kubectl_prints),
		T_TEST(test_describe_shows_the_pod_and_only_its_events),
		T_TEST(test_logs),
		T_TEST(test_delete_waits_until_gone),
		T_TEST(test_planted_socket_is_never_spoken_to),
		T_TEST(test_no_run_is_a_clear_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
