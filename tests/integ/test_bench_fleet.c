// SPDX-License-Identifier: Apache-2.0
/*
 * bench/bench_fleet, the benchmarks' target fleet: its SYN counter attributes SYNs to the
 * right target (and only to the fleet's ports), and its faults take effect when it answers
 * (close: refused; stall: SYNs dropped; heal: back; status500: a 500). Runs $O/bench/bench_fleet;
 * skips without root (the SYN counter needs CAP_NET_RAW) or without the binary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define NTARGETS 4

static char fleet_bin[512];

struct fleet {
	pid_t pid;
	int base;
	char dir[64];
	char sock[128];
};

static struct fleet fl = {.pid = -1};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A port with NTARGETS free ones from it, a moment ago (a bound socket on each). */
static int free_base(void)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof(sa);
		int fds[NTARGETS], ok = 1, base, fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
			return -1;
		close(fd);
		base = ntohs(sa.sin_port);
		if (base + NTARGETS > 65535)
			continue;
		for (int i = 0; i < NTARGETS; i++) {
			fds[i] = socket(AF_INET, SOCK_STREAM, 0);
			sa.sin_port = htons((uint16_t)(base + i));
			if (bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
				ok = 0;
		}
		for (int i = 0; i < NTARGETS; i++)
			close(fds[i]);
		if (ok)
			return base;
	}
	return -1;
}

/* Start the fleet; 0 once it printed "fleet ready", -1 if it exited (port taken: retry). */
static int fleet_start(const char *kind)
{
	char base[16], n[16], line[512] = "";
	size_t len = 0;
	int pfd[2];

	fl.base = free_base();
	assert_true(fl.base > 0);
	snprintf(base, sizeof(base), "%d", fl.base);
	snprintf(n, sizeof(n), "%d", NTARGETS);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	fl.pid = fork();
	assert_true(fl.pid >= 0);
	if (!fl.pid) {
		setpgid(0, 0);
		dup2(pfd[1], 1);
		execl(fleet_bin, fleet_bin, "-k", kind, "-b", base, "-n", n, "--ctl", fl.sock,
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		ssize_t r;

		assert_true(poll(&p, 1, 5000) == 1);
		r = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		line[len] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	close(pfd[0]);
	if (!strstr(line, "fleet ready")) {
		waitpid(fl.pid, NULL, 0);
		fl.pid = -1;
		return -1;
	}
	assert_non_null(strstr(line, "syn_counter=on"));
	return 0;
}

static int setup(void **state)
{
	snprintf(fl.dir, sizeof(fl.dir), "/tmp/pp-fleet-XXXXXX");
	if (!mkdtemp(fl.dir))
		return -1;
	snprintf(fl.sock, sizeof(fl.sock), "%s/ctl.sock", fl.dir);
	return 0;
}

static int teardown(void **state)
{
	if (fl.pid > 0) {
		kill(-fl.pid, SIGKILL);
		waitpid(fl.pid, NULL, 0);
		fl.pid = -1;
	}
	unlink(fl.sock);
	rmdir(fl.dir);
	return 0;
}

static void start(const char *kind)
{
	for (int i = 0; i < 5; i++)
		if (!fleet_start(kind))
			return;
	fail_msg("bench_fleet did not start on free ports");
}

/* `bench_fleet ctl SOCK WORDS`: its answer in <out>, exit code returned. */
static int ctl(char *out, size_t size, const char *cmd)
{
	char line[768];
	size_t len = 0;
	FILE *p;
	int st;

	snprintf(line, sizeof(line), "%s ctl %s %s", fleet_bin, fl.sock, cmd);
	p = popen(line, "r");
	assert_non_null(p);
	out[0] = '\0';
	while (len < size - 1 && fgets(out + len, (int)(size - len), p))
		len = strlen(out);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned long long answer_field(const char *ans, const char *key)
{
	char pat[40];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(ans, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 10);
}

/* Counter <key> of port <port>, once it reaches <want> (the SYN counter reads asynchronously). */
static unsigned long long wait_count(int port, const char *key, unsigned long long want)
{
	char cmd[64], ans[512];
	unsigned long long v = 0;

	snprintf(cmd, sizeof(cmd), "stats %d", port);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
		v = answer_field(ans, key);
		if (v >= want)
			break;
		usleep(10000);
	}
	return v;
}

/* connect() to 127.0.0.1:<port> with a timeout: 0, or -errno (-ETIMEDOUT). */
static int try_connect(int port, int timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p = {fd, POLLOUT, 0};

	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		err = -errno;
	} else if (poll(&p, 1, timeout_ms) != 1) {
		err = -ETIMEDOUT;
	} else {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		err = -err;
	}
	close(fd);
	return err;
}

static void test_syns_are_counted_per_target(void **state)
{
	char ans[512], cmd[64];

	start("tcp");
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_connect(fl.base + 1, 2000), 0);
	assert_int_equal(try_connect(fl.base + 2, 2000), 0);
	assert_int_equal(wait_count(fl.base + 1, "syn", 3), 3);
	assert_int_equal(wait_count(fl.base + 2, "syn", 1), 1);
	assert_int_equal(wait_count(fl.base + 1, "accepted", 3), 3);
	/* Nothing was sent to the others, and the range total is the sum. */
	snprintf(cmd, sizeof(cmd), "stats %d", fl.base);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(answer_field(ans, "syn"), 0);
	assert_int_equal(ctl(ans, sizeof(ans), "stats"), 0);
	assert_int_equal(answer_field(ans, "syn"), 4);
	assert_int_equal(answer_field(ans, "pkt_drops"), 0);
	/* reset zeroes them. */
	assert_int_equal(ctl(ans, sizeof(ans), "reset"), 0);
	assert_int_equal(ctl(ans, sizeof(ans), "stats"), 0);
	assert_int_equal(answer_field(ans, "syn"), 0);
}

static void test_faults_take_effect_when_answered(void **state)
{
	char ans[512], cmd[64];
	uint64_t before;
	int p;

	start("tcp");
	p = fl.base + 3;
	assert_int_equal(try_connect(p, 2000), 0);
	snprintf(cmd, sizeof(cmd), "close %d", p);
	before = mono_ns();
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	/* The answer's time is CLOCK_MONOTONIC, taken after the fault. */
	assert_true(answer_field(ans, "t_ns") >= before);
	assert_true(answer_field(ans, "t_ns") <= mono_ns());
	assert_int_equal(try_connect(p, 2000), -ECONNREFUSED);
	snprintf(cmd, sizeof(cmd), "heal %d", p);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(try_connect(p, 2000), 0);
	/* stall: the accept queue is full, the SYN is dropped and the connect hangs. */
	snprintf(cmd, sizeof(cmd), "stall %d", p);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(try_connect(p, 300), -ETIMEDOUT);
	snprintf(cmd, sizeof(cmd), "heal %d", p);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(try_connect(p, 2000), 0);
	/* Unknown commands and ports outside the fleet are refused. */
	assert_int_equal(ctl(ans, sizeof(ans), "frobnicate 1"), 1);
	snprintf(cmd, sizeof(cmd), "close %d", fl.base + NTARGETS);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 1);
}

/* One GET /healthz on <port>: the status code, or -1. */
static int http_get(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
	struct timeval tv = {2, 0};
	size_t len = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1) {
		while (len < sizeof(buf) - 1 &&
		       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (!strncmp(buf, "HTTP/1.1 ", 9))
			code = atoi(buf + 9);
	}
	close(fd);
	return code;
}

static void test_http_status500_and_heal(void **state)
{
	char ans[512], cmd[64];
	int p;

	start("http");
	p = fl.base;
	assert_int_equal(http_get(p), 200);
	snprintf(cmd, sizeof(cmd), "status500 %d-%d", p, p + 1);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(http_get(p), 500);
	assert_int_equal(http_get(p + 1), 500);
	assert_int_equal(http_get(p + 2), 200);
	snprintf(cmd, sizeof(cmd), "heal %d-%d", p, p + 1);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(http_get(p), 200);
	snprintf(cmd, sizeof(cmd), "stats %d", p);
	assert_int_equal(ctl(ans, sizeof(ans), cmd), 0);
	assert_int_equal(answer_field(ans, "requests"), 3);
	assert_int_equal(answer_field(ans, "status500"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syns_are_counted_per_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_take_effect_when_answered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_status500_and_heal, setup, teardown),
	};
	const char *o = getenv("O");

	snprintf(fleet_bin, sizeof(fleet_bin), "%s/bench/bench_fleet", o && *o ? o : "build");
	if (geteuid() != 0) {
		printf("skip: the fleet's SYN counter needs root (CAP_NET_RAW)\n");
		return 77;
	}
	if (access(fleet_bin, X_OK)) {
		printf("skip: no %s (make %s)\n", fleet_bin, fleet_bin);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
