// SPDX-License-Identifier: Apache-2.0
/*
 * bench_uring_ref: the kernel-cost reference of the benchmarks — a bare liburing loop doing
 * tcpSocket probes and nothing else. N targets, each probed every period (spread evenly over
 * one period, round-robin over PORTS consecutive ports from the target's port), each probe:
 *
 *   socket() + SO_LINGER {1, 0} + TCP_QUICKACK 0 (syscalls), then on the ring IORING_OP_CONNECT
 *   linked to an IORING_OP_LINK_TIMEOUT of --timeout, then IORING_OP_CLOSE.
 *
 * TCP_QUICKACK 0 defers the ACK of the SYN-ACK and the zero linger turns close() into an RST,
 * so the listener sees SYN, SYN-ACK, RST and never an accept() — the half-open probe podprobe's
 * engine and HAProxy's tcp-check also make. One wakeup per --slack (default 1 ms, podprobe's
 * PP_PROBE_SLACK) launches every probe due by then; one io_uring_enter per wakeup. A target
 * whose previous probe is still in flight waits for it (as kubelet's worker does), and counts
 * late when it starts more than period/10 after its time (probe_runner.c's rule). Prints the
 * line bench_probe prints, plus the connect latency:
 *
 *   bench=uring_ref kind=tcp targets=1000 period_ms=1000 seconds=10.0 attempts=... rate=...
 *   cpu_s=... cpu_s_per_1000=... late_pct=... failures=... unknown=0 max_late_ms=...
 *   rss_kib=... rss_bytes_per_target=... p50_ms=... p99_ms=...
 *
 * --latency-out FILE writes the latency CDF (`ms fraction` lines) for bench/plot.sh.
 * Loopback only; bounded by --seconds.
 */
#include <arpa/inet.h>
#include <argp.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_self.h"
#include "podprobe/clock.h"
#include "podprobe/kubefmt.h"

/* Latency histogram: 10 µs buckets up to 1 s, then one overflow bucket. */
#define HIST_US 10
#define HIST_N	100001

enum op { OP_CONNECT = 1, OP_TIMEOUT, OP_CLOSE };

struct target {
	struct sockaddr_in sa;
	pp_nsec due;	 /* next start */
	pp_nsec started; /* in flight since, 0 when idle */
	int fd;
	int result; /* connect's res, kept until the CLOSE completes */
};

static struct {
	unsigned long n, ports;
	unsigned int port;
	pp_nsec period, duration, timeout, slack;
	const char *latency_out;
} opts = {.n = 1000,
	  .ports = 1,
	  .port = 11000,
	  .period = PP_NSEC_PER_SEC,
	  .duration = 10 * PP_NSEC_PER_SEC,
	  .timeout = PP_NSEC_PER_SEC,
	  .slack = PP_NSEC_PER_MSEC};

static struct target *targets;
static uint64_t hist[HIST_N];
static uint64_t attempts, failures, late, in_flight;
static pp_nsec max_late;
static bool measuring;

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static uint64_t ud(enum op op, unsigned long i)
{
	return (uint64_t)op << 32 | i;
}

static int start_probe(struct io_uring *ring, unsigned long i, pp_nsec now)
{
	static struct __kernel_timespec ts;
	struct target *t = &targets[i];
	struct linger lg = {1, 0};
	struct io_uring_sqe *sqe;
	int zero = 0;

	ts.tv_sec = (long long)(opts.timeout / PP_NSEC_PER_SEC);
	ts.tv_nsec = (long long)(opts.timeout % PP_NSEC_PER_SEC);
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
	sqe = sqe_get(ring);
	io_uring_prep_connect(sqe, t->fd, (struct sockaddr *)&t->sa, sizeof(t->sa));
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, ud(OP_CONNECT, i));
	sqe = sqe_get(ring);
	/* The timespec is read at submission (IORING_OP_LINK_TIMEOUT copies it). */
	io_uring_prep_link_timeout(sqe, &ts, 0);
	io_uring_sqe_set_data64(sqe, ud(OP_TIMEOUT, i));
	t->started = now;
	in_flight++;
	return 0;
}

static void complete(struct io_uring *ring, struct io_uring_cqe *cqe)
{
	unsigned long i = (unsigned long)(cqe->user_data & 0xffffffffu);
	enum op op = (enum op)(cqe->user_data >> 32);
	struct target *t = &targets[i];
	struct io_uring_sqe *sqe;

	if (op == OP_TIMEOUT)
		return;
	if (op == OP_CONNECT) {
		pp_nsec lat = pp_clock_now() - t->started;
		uint64_t b = lat / (HIST_US * 1000);

		t->result = cqe->res;
		if (measuring) {
			hist[b < HIST_N ? b : HIST_N - 1]++;
			attempts++;
			if (cqe->res < 0)
				failures++;
		}
		sqe = sqe_get(ring);
		io_uring_prep_close(sqe, t->fd);
		io_uring_sqe_set_data64(sqe, ud(OP_CLOSE, i));
		return;
	}
	/* OP_CLOSE: the target is idle again. */
	t->fd = -1;
	t->started = 0;
	in_flight--;
}

static double hist_pct(double q, uint64_t total)
{
	uint64_t want = (uint64_t)(q * (double)total), sum = 0;

	for (unsigned int b = 0; b < HIST_N; b++) {
		sum += hist[b];
		if (sum > want)
			return (double)(b + 1) * HIST_US / 1000.0;
	}
	return 0;
}

static void write_cdf(uint64_t total)
{
	FILE *f = fopen(opts.latency_out, "we");
	uint64_t sum = 0;

	if (!f) {
		perror(opts.latency_out);
		return;
	}
	for (unsigned int b = 0; b < HIST_N && total; b++) {
		if (!hist[b])
			continue;
		sum += hist[b];
		fprintf(f, "%.3f %.6f\n", (double)(b + 1) * HIST_US / 1000.0,
			(double)sum / (double)total);
	}
	fclose(f);
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	pp_nsec *d = NULL;
	unsigned long v;
	char *end;

	switch (key) {
	case 'n':
	case 'P':
	case 'o':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || !v || v > 1000000)
			argp_error(state, "bad number '%s'", arg);
		if (key == 'n')
			opts.n = v;
		else if (key == 'P')
			opts.ports = v;
		else if (v > 65535)
			argp_error(state, "bad port");
		else
			opts.port = (unsigned int)v;
		break;
	case 'p':
		d = &opts.period;
		break;
	case 's':
		d = &opts.duration;
		break;
	case 't':
		d = &opts.timeout;
		break;
	case 'S':
		if (pp_parse_duration(arg, &opts.slack) < 0)
			argp_error(state, "bad --slack '%s'", arg);
		break;
	case 'L':
		opts.latency_out = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (d && (pp_parse_duration(arg, d) < 0 || !*d))
		argp_error(state, "bad duration '%s'", arg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{"targets", 'n', "N", 0, "Probed targets (default 1000)", 0},
		{"port", 'o', "PORT", 0, "First target port on 127.0.0.1 (default 11000)", 0},
		{"ports", 'P', "K", 0, "Spread the targets over K consecutive ports (default 1)",
		 0},
		{"period", 'p', "DURATION", 0, "Period of each target (default 1s)", 0},
		{"seconds", 's', "DURATION", 0, "Measured run time (default 10s)", 0},
		{"timeout", 't', "DURATION", 0, "Connect timeout (default 1s)", 0},
		{"slack", 'S', "DURATION", 0, "Wake coalescing (default 1ms)", 0},
		{"latency-out", 'L', "FILE", 0, "Write the connect latency CDF", 0},
		{0},
	};
	static const struct argp argp = {
		options,
		parse,
		NULL,
		"Reference tcp prober: socket + ring CONNECT + ring CLOSE per probe, nothing "
		"else.\v"
		"EXAMPLE:\n  bench_uring_ref -n 5000 -p 1s -s 10s --port 11000 --ports 5000",
		NULL,
		NULL,
		NULL,
	};
	struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE, .cq_entries = 65536};
	struct io_uring ring;
	struct rlimit rl;
	pp_nsec start, warm, end;
	unsigned long cursor = 0;
	double cpu0 = 0, cpu1;
	long rss_before, rss_after;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	err = io_uring_queue_init_params(4096, &ring, &p);
	if (err < 0) {
		fprintf(stderr, "bench_uring_ref: io_uring: %s\n", strerror(-err));
		return 1;
	}
	rss_before = bench_rss_kib();
	targets = calloc(opts.n, sizeof(*targets));
	if (!targets)
		return 1;
	start = pp_clock_now();
	for (unsigned long i = 0; i < opts.n; i++) {
		targets[i].sa = (struct sockaddr_in){
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)(opts.port + i % opts.ports)),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		targets[i].fd = -1;
		targets[i].due = start + opts.period * i / opts.n;
	}
	warm = start + opts.period;
	end = warm + opts.duration;
	for (;;) {
		pp_nsec now = pp_clock_now(), next;
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		if (!measuring && now >= warm) {
			measuring = true;
			cpu0 = bench_cpu_seconds();
		}
		if (now >= end)
			break;
		/* Targets fall due round-robin: launch from the cursor while due by now + slack. */
		for (unsigned long k = 0; k < opts.n; k++) {
			struct target *t = &targets[cursor];

			if (t->due > now + opts.slack)
				break;
			if (t->started)
				break; /* still in flight: it (and those after it) wait */
			if (measuring && now > t->due) {
				if (now - t->due > opts.period / 10)
					late++;
				if (now - t->due > max_late)
					max_late = now - t->due;
			}
			if (start_probe(&ring, cursor, now) < 0) {
				if (measuring) {
					attempts++;
					failures++;
				}
			}
			t->due += opts.period;
			cursor = (cursor + 1) % opts.n;
		}
		next = targets[cursor].due;
		if (next < now + opts.slack)
			next = now + opts.slack; /* waiting for an in-flight one */
		if (next > end)
			next = end;
		/* Wake on whole slack steps, as podprobe's loop does. */
		if (opts.slack > 1 && next % opts.slack)
			next += opts.slack - next % opts.slack;
		ts.tv_sec = (long long)((next - now) / PP_NSEC_PER_SEC);
		ts.tv_nsec = (long long)((next - now) % PP_NSEC_PER_SEC);
		err = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		if (err < 0 && err != -ETIME && err != -EINTR) {
			fprintf(stderr, "bench_uring_ref: io_uring_enter: %s\n", strerror(-err));
			return 1;
		}
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			complete(&ring, cqe);
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	cpu1 = bench_cpu_seconds();
	rss_after = bench_rss_kib();
	{
		double secs = (double)opts.duration / 1e9;

		printf("bench=uring_ref kind=tcp targets=%lu period_ms=%llu seconds=%.1f "
		       "attempts=%llu rate=%.0f cpu_s=%.3f cpu_s_per_1000=%.4f late_pct=%.2f "
		       "failures=%llu unknown=0 max_late_ms=%.1f rss_kib=%ld "
		       "rss_bytes_per_target=%.0f p50_ms=%.2f p99_ms=%.2f\n",
		       opts.n, (unsigned long long)(opts.period / PP_NSEC_PER_MSEC), secs,
		       (unsigned long long)attempts, (double)attempts / secs, cpu1 - cpu0,
		       attempts ? (cpu1 - cpu0) * 1000.0 / (double)attempts : 0.0,
		       attempts ? 100.0 * (double)late / (double)attempts : 0.0,
		       (unsigned long long)failures, (double)max_late / 1e6, rss_after,
		       (double)(rss_after - rss_before) * 1024.0 / (double)opts.n,
		       hist_pct(0.50, attempts), hist_pct(0.99, attempts));
	}
	if (opts.latency_out)
		write_cdf(attempts);
	io_uring_queue_exit(&ring);
	free(targets);
	return 0;
}
