// SPDX-License-Identifier: Apache-2.0
/*
 * bench_probe: the probe engine (probe runner + prober, the same code `podprobe run` uses,
 * minus pods) against a loopback target. N probe workers with period P run for S seconds;
 * prints one machine-readable line:
 *
 *   bench=probe kind=tcp targets=1000 period_ms=1000 seconds=10 attempts=... rate=...
 *   cpu_s=... cpu_s_per_1000=... late_pct=... failures=... unknown=... max_late_ms=...
 *   rss_kib=... rss_bytes_per_target=...
 *
 * --ports P spreads the targets over P consecutive ports from TARGET's (a fleet such as
 * bench_fleet serves one target per port); --keepalive reuses one HTTP/1.1 connection per
 * target address (pp_probe_target.keepalive); --no-raw-syn makes tcpSocket probes connect()
 * instead of sending raw SYNs (pp_prober_set_raw_syn), to compare both (raw_syn= counts the
 * attempts that went as raw SYNs); --no-tcp-pool gives connect() a socket per attempt instead of
 * a pooled one reset between attempts (PODPROBE_NO_TCP_POOL=1), to compare both. Loopback only;
 * bounded by --seconds.
 */
#include <arpa/inet.h>
#include <argp.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_self.h"
#include "podprobe/clock.h"
#include "podprobe/kubefmt.h"
#include "podprobe/loop.h"
#include "podprobe/probe.h"
#include "podprobe/probe_once.h"
#include "podprobe/probe_runner.h"
#include "podprobe/prober.h"

struct bench_opts {
	const char *url;
	unsigned long targets;
	pp_nsec period;
	pp_nsec duration;
	pp_nsec timeout;
	unsigned long in_flight;
	unsigned long ports;
	bool keepalive;
	bool no_raw_syn;
	bool no_tcp_pool;
};

static struct bench_opts opts = {
	.targets = 1000,
	.period = PP_NSEC_PER_SEC,
	.duration = 10 * PP_NSEC_PER_SEC,
	.timeout = PP_NSEC_PER_SEC,
	.in_flight = 4096,
	.ports = 1,
};

static uint64_t results[_PP_RESULT_MAX];

static void on_result(struct pp_probe_job *job, enum pp_probe_result result, const char *output,
		      const struct pp_probe_change *chg)
{
	results[result]++;
}

static const struct pp_probe_job_ops ops = {.result = on_result};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case 'n':
		errno = 0;
		opts.targets = strtoul(arg, &end, 10);
		if (errno || *end || opts.targets < 1 || opts.targets > 1000000)
			argp_error(state, "--targets wants 1..1000000");
		break;
	case 'p':
		if (pp_parse_duration(arg, &opts.period) < 0 || !opts.period)
			argp_error(state, "bad --period '%s'", arg);
		break;
	case 's':
		if (pp_parse_duration(arg, &opts.duration) < 0 || !opts.duration)
			argp_error(state, "bad --seconds '%s'", arg);
		break;
	case 't':
		if (pp_parse_duration(arg, &opts.timeout) < 0 || !opts.timeout)
			argp_error(state, "bad --timeout '%s'", arg);
		break;
	case 'f':
		errno = 0;
		opts.in_flight = strtoul(arg, &end, 10);
		if (errno || *end || opts.in_flight < 1 || opts.in_flight > 1000000)
			argp_error(state, "--in-flight wants 1..1000000");
		break;
	case 'P':
		errno = 0;
		opts.ports = strtoul(arg, &end, 10);
		if (errno || *end || opts.ports < 1 || opts.ports > 60000)
			argp_error(state, "--ports wants 1..60000");
		break;
	case 'k':
		opts.keepalive = true;
		break;
	case 'R':
		opts.no_raw_syn = true;
		break;
	case 'S':
		opts.no_tcp_pool = true;
		break;
	case ARGP_KEY_ARG:
		if (opts.url)
			argp_error(state, "one TARGET");
		opts.url = arg;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{"targets", 'n', "N", 0, "Probe workers (default 1000)", 0},
		{"period", 'p', "DURATION", 0, "Period of each worker (default 1s)", 0},
		{"seconds", 's', "DURATION", 0, "Measured run time (default 10s)", 0},
		{"timeout", 't', "DURATION", 0, "Attempt timeout (default 1s)", 0},
		{"in-flight", 'f', "N", 0, "Attempts at once (default 4096, as podprobe run)", 0},
		{"ports", 'P', "N", 0, "Spread the targets over N ports from TARGET's (default 1)",
		 0},
		{"keepalive", 'k', NULL, 0, "httpGet: one kept-alive connection per target", 0},
		{"no-raw-syn", 'R', NULL, 0, "tcpSocket: connect(), not raw SYNs", 0},
		{"no-tcp-pool", 'S', NULL, 0, "tcpSocket: a new socket per connect(), none pooled",
		 0},
		{0},
	};
	static const struct argp argp = {
		options,
		parse,
		"TARGET",
		"Measure the probe engine: N workers probing TARGET (tcp://, http://, https://, "
		"grpc://) every period, on one thread.\v"
		"EXAMPLE:\n  bench_probe -n 5000 -p 1s -s 10s tcp://127.0.0.1:8080",
		NULL,
		NULL,
		NULL,
	};
	struct pp_probe_target target;
	struct pp_probe_runner *runner;
	struct pp_probe_job *jobs;
	struct pp_loop *loop;
	struct rlimit rl;
	char buf[1024], err[256];
	long rss_before, rss_after;
	pp_nsec start, end, warm;
	double cpu0, cpu1;
	uint64_t attempts0, late0;
	const char *kind;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (pp_probe_parse_url(opts.url, &target, buf, sizeof(buf), err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_probe: %s\n", err);
		return 2;
	}
	kind = target.kind == PP_HANDLER_TCP_SOCKET ? "tcp"
	       : target.kind == PP_HANDLER_GRPC	    ? "grpc"
	       : target.https			    ? "https"
						    : "http";
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	/* The prober reads it when it is made (user/io/prober.c). */
	if (opts.no_tcp_pool)
		setenv("PODPROBE_NO_TCP_POOL", "1", 1);
	if (pp_loop_new(4096, &loop) < 0 || pp_probe_runner_new(loop, opts.in_flight, &runner) < 0)
		return 1;
	if (opts.no_raw_syn)
		pp_prober_set_raw_syn(pp_probe_runner_prober(runner), false);
	rss_before = bench_rss_kib();
	jobs = calloc(opts.targets, sizeof(*jobs));
	if (!jobs)
		return 1;
	start = pp_clock_now();
	for (unsigned long i = 0; i < opts.targets; i++) {
		struct pp_probe_job *j = &jobs[i];

		pp_probe_worker_init(&j->w, PP_PROBE_LIVENESS);
		j->cfg = (struct pp_probe_cfg){.period = opts.period,
					       .timeout = opts.timeout,
					       .success_threshold = 1,
					       .failure_threshold = 3};
		j->target = target;
		j->target.keepalive = opts.keepalive;
		if (opts.ports > 1) {
			int port = target.port + (int)(i % opts.ports);

			if (port > 65535)
				return 2;
			j->target.port = port;
			if (j->target.addr.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&j->target.addr)->sin6_port =
					htons((uint16_t)port);
			else
				((struct sockaddr_in *)&j->target.addr)->sin_port =
					htons((uint16_t)port);
		}
		j->ops = &ops;
		if (pp_probe_runner_add(runner, j) < 0)
			return 1;
		/* Spread over one period, as podprobe does for first runs. */
		pp_probe_runner_arm(runner, j, 1, start, opts.period * i / opts.targets);
	}
	/* One period of warm-up, then measure. */
	warm = start + opts.period;
	end = warm + opts.duration;
	attempts0 = late0 = 0;
	cpu0 = 0;
	for (bool measuring = false;;) {
		pp_nsec now = pp_clock_now(), next = pp_probe_runner_next(runner);

		if (!measuring && now >= warm) {
			measuring = true;
			cpu0 = bench_cpu_seconds();
			attempts0 = pp_probe_runner_stats(runner)->attempts;
			late0 = pp_probe_runner_stats(runner)->late;
			memset(results, 0, sizeof(results));
		}
		if (now >= end)
			break;
		if (pp_loop_run_once(loop, next < end ? next : end) < 0)
			return 1;
		pp_probe_runner_run(runner, pp_clock_now());
	}
	cpu1 = bench_cpu_seconds();
	rss_after = bench_rss_kib();
	{
		const struct pp_probe_runner_stats *st = pp_probe_runner_stats(runner);
		uint64_t n = st->attempts - attempts0, late = st->late - late0;
		double secs = (double)opts.duration / 1e9;

		printf("bench=probe kind=%s targets=%lu period_ms=%llu seconds=%.1f attempts=%llu "
		       "rate=%.0f cpu_s=%.3f cpu_s_per_1000=%.4f late_pct=%.2f failures=%llu "
		       "unknown=%llu max_late_ms=%.1f rss_kib=%ld rss_bytes_per_target=%.0f "
		       "ports=%lu keepalive=%d attempts_total=%llu raw_syn=%llu\n",
		       kind, opts.targets, (unsigned long long)(opts.period / PP_NSEC_PER_MSEC),
		       secs, (unsigned long long)n, (double)n / secs, cpu1 - cpu0,
		       n ? (cpu1 - cpu0) * 1000.0 / (double)n : 0.0,
		       n ? 100.0 * (double)late / (double)n : 0.0,
		       (unsigned long long)results[PP_RESULT_FAILURE],
		       (unsigned long long)results[PP_RESULT_UNKNOWN],
		       (double)st->max_lateness / 1e6, rss_after,
		       (double)(rss_after - rss_before) * 1024.0 / (double)opts.targets, opts.ports,
		       opts.keepalive, (unsigned long long)st->attempts,
		       (unsigned long long)pp_prober_stats(pp_probe_runner_prober(runner))
			       ->raw_syn);
	}
	pp_probe_runner_free(runner);
	pp_loop_free(loop);
	free(jobs);
	return 0;
}
