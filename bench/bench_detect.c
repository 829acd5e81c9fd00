// SPDX-License-Identifier: Apache-2.0
/*
 * bench_detect: how long `podprobe run` takes to notice a dead process or a closed port, from
 * the moment this program kills the process (or closes the listener) to the moment it reads
 * podprobe's event (Terminated, or the first Unhealthy) on a pipe. Repeats the trial N times and
 * prints one machine-readable line:
 *
 *   bench=detect mode=exit bpf=on trials=200 p50_ms=... p99_ms=... max_ms=...
 *
 * mode=exit: the container's main process is SIGKILLed. mode=port: the liveness probe's port
 * (a listener of this program) closes; liveness period 10 s with eBPF, 1 s without (--no-bpf),
 * failureThreshold 1. Loopback only; each trial bounded by 15 s.
 */
#include <arpa/inet.h>
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *mode;
	unsigned int trials;
	bool no_bpf;
	const char *podprobe;
};

static struct opts opts = {.mode = "exit", .trials = 200, .podprobe = "build/podprobe"};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case 'm':
		if (strcmp(arg, "exit") && strcmp(arg, "port"))
			argp_error(state, "--mode is exit or port");
		opts.mode = arg;
		break;
	case 'n':
		errno = 0;
		opts.trials = (unsigned int)strtoul(arg, &end, 10);
		if (errno || *end || opts.trials < 1 || opts.trials > 100000)
			argp_error(state, "--trials wants 1..100000");
		break;
	case 'B':
		opts.no_bpf = true;
		break;
	case 'p':
		opts.podprobe = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static char linebuf[1 << 16];
static size_t linelen;

/* Read podprobe's events until one has "reason":"<reason>"; returns the read time or -1. */
static double wait_reason(int fd, const char *reason, double timeout_ms)
{
	char pat[64];
	double until = now_ms() + timeout_ms;

	snprintf(pat, sizeof(pat), "\"reason\":\"%s\"", reason);
	for (;;) {
		char *nl;

		while ((nl = memchr(linebuf, '\n', linelen))) {
			bool hit;

			*nl = '\0';
			hit = strstr(linebuf, pat) != NULL;
			linelen -= (size_t)(nl + 1 - linebuf);
			memmove(linebuf, nl + 1, linelen);
			if (hit)
				return now_ms();
		}
		struct pollfd pfd = {fd, POLLIN, 0};
		double left = until - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left + 1) <= 0)
			return -1;
		n = read(fd, linebuf + linelen, sizeof(linebuf) - linelen - 1);
		if (n <= 0)
			return -1;
		linelen += (size_t)n;
	}
}

static int listen_on(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	socklen_t len = sizeof(sa);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&sa, &len);
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	getsockname(fd, (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin_port);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int read_pid(const char *path, int last)
{
	char buf[32];
	int pid = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		pid = atoi(buf);
	fclose(f);
	return pid != last ? pid : 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{"mode", 'm', "exit|port", 0, "What to break (default exit)", 0},
		{"trials", 'n', "N", 0, "Trials (default 200)", 0},
		{"no-bpf", 'B', NULL, 0, "Run podprobe with --no-bpf", 0},
		{"podprobe", 'p', "PATH", 0, "The binary (default build/podprobe)", 0},
		{0},
	};
	static const struct argp argp = {options,
					 parse,
					 NULL,
					 "Measure podprobe's detection latency for a dead process "
					 "or a closed port.",
					 NULL,
					 NULL,
					 NULL};
	char dir[] = "/tmp/podprobe-bench-XXXXXX", yaml[2048], path[PATH_MAX], state[PATH_MAX];
	char pidfile[PATH_MAX];
	double *lat;
	int out[2], lfd = -1, last_pid = 0, port = 0;
	unsigned int done = 0;
	pid_t child;
	FILE *f;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	lat = calloc(opts.trials, sizeof(*lat));
	if (!lat || !mkdtemp(dir))
		return 1;
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	if (!strcmp(opts.mode, "exit")) {
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: v1\nkind: Pod\nmetadata: {name: detect}\nspec:\n  "
			 "containers:\n"
			 "  - name: app\n    image: busybox\n    workingDir: '%s'\n"
			 "    command: [sh, -c, 'echo $$$$ > pid.tmp; mv pid.tmp pid; exec sleep "
			 "100000']\n",
			 dir);
	} else {
		/*
		 * Bind the port explicitly, as services do: for a kernel-chosen port the kernel
		 * no longer knows the number when it reports the close of a listener it never saw
		 * open (one opened before podprobe started watching).
		 */
		lfd = listen_on(0);
		if (lfd < 0)
			return 1;
		port = port_of(lfd);
		close(lfd);
		lfd = listen_on(port);
		if (lfd < 0)
			return 1;
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: v1\nkind: Pod\nmetadata: {name: detect}\nspec:\n"
			 "  terminationGracePeriodSeconds: 1\n  containers:\n"
			 "  - name: app\n    image: busybox\n    command: [sleep, \"100000\"]\n"
			 "    livenessProbe: {tcpSocket: {port: %d}, periodSeconds: %d, "
			 "failureThreshold: 1}\n",
			 port, opts.no_bpf ? 1 : 10);
	}
	snprintf(path, sizeof(path), "%s/pod.yaml", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs(yaml, f);
	fclose(f);
	snprintf(state, sizeof(state), "--state-dir=%s/state", dir);
	if (pipe2(out, O_CLOEXEC) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(out[1], 1);
		dup2(null_fd, 2);
		execl(opts.podprobe, opts.podprobe, "run", "--api-addr=none", "--events=json",
		      "--table=never", state, "--backoff-base=1ms", "--backoff-max=1ms",
		      "--min-kill-gap=50ms", opts.no_bpf ? "--no-bpf" : "-v", path, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	for (unsigned int i = 0; i < opts.trials; i++) {
		double t0, t1;

		if (!strcmp(opts.mode, "exit")) {
			int pid = 0;
			double until = now_ms() + 15000;

			while (!(pid = read_pid(pidfile, last_pid)) && now_ms() < until)
				poll(NULL, 0, 2);
			if (!pid)
				break;
			last_pid = pid;
			t0 = now_ms();
			kill(pid, SIGKILL);
			t1 = wait_reason(out[0], "Terminated", 15000);
		} else {
			/* Listening again: wait for the (re)started container, then close. */
			if (lfd < 0 && (lfd = listen_on(port)) < 0)
				break;
			/* Its probes are armed before podprobe prints Started. */
			if (wait_reason(out[0], "Started", 15000) < 0)
				break;
			t0 = now_ms();
			close(lfd);
			lfd = -1;
			t1 = wait_reason(out[0], "Unhealthy", 15000);
		}
		if (t1 < 0)
			break;
		lat[done++] = t1 - t0;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "bench_detect: cannot remove %s\n", dir);
	if (!done) {
		fprintf(stderr, "bench_detect: no trial completed\n");
		return 1;
	}
	qsort(lat, done, sizeof(*lat), cmp_double);
	printf("bench=detect mode=%s bpf=%s trials=%u p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	       opts.mode, opts.no_bpf ? "off" : "on", done, lat[done / 2],
	       lat[(size_t)((double)done * 0.99) < done ? (size_t)((double)done * 0.99) : done - 1],
	       lat[done - 1]);
	free(lat);
	return done == opts.trials ? 0 : 1;
}
