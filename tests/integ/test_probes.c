// SPDX-License-Identifier: Apache-2.0
/*
 * The probe engine against real local servers (tools/fake-target, tools/grpc-health-server,
 * tools/demo-app) on 127.0.0.1: every handler's verdicts and messages, timeouts that keep the
 * loop responsive, 2,000 probes at once, no TIME_WAIT left behind, and probes inside pods.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/probe.h"
#include "podprobe/probe_runner.h"
#include "podprobe/probe_once.h"
#include "podprobe/prober.h"
#include "../../user/io/prober_int.h" /* PP_KEEPALIVE_PER_ADDR, PP_KEEPALIVE_IDLE */

static pid_t http_pid, tls_pid, noacc_pid;
static int http_port, tls_port, noacc_port;

static int group_setup(void **state)
{
	http_pid = t_server_start((const char *const[]){ "fake-target", "--port=0", "--quiet", NULL },
				  &http_port);
	tls_pid = t_server_start(
		(const char *const[]){ "fake-target", "--port=0", "--tls", "--quiet", NULL }, &tls_port);
	noacc_pid = t_server_start((const char *const[]){ "fake-target", "--port=0", "--no-accept",
							  "--backlog=4", "--quiet", NULL },
				   &noacc_port);
	return 0;
}

static int group_teardown(void **state)
{
	t_server_stop(http_pid);
	t_server_stop(tls_pid);
	t_server_stop(noacc_pid);
	return 0;
}

/* One attempt on <url>; returns the report (static). */
static const struct pp_probe_report *probe_url(const char *url, pp_nsec timeout)
{
	static struct pp_probe_report rep;
	struct pp_probe_target t;
	char buf[2048], err[256];

	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_probe_once(&t, timeout, &rep), 0);
	return &rep;
}

static const struct pp_probe_report *probe_path(int port, const char *scheme, const char *path,
						pp_nsec timeout)
{
	char url[512];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, port, path);
	return probe_url(url, timeout);
}

#define SEC PP_NSEC_PER_SEC
#define MS PP_NSEC_PER_MSEC

static void assert_result(const struct pp_probe_report *r, enum pp_probe_result want,
			  const char *msg_part)
{
	if (r->result != want || (msg_part && !strstr(r->message, msg_part)))
		fail_msg("got %s \"%s\", want %s with \"%s\"", pp_probe_result_str(r->result),
			 r->message, pp_probe_result_str(want), msg_part ? msg_part : "");
}

/* ---- tcpSocket ----------------------------------------------------------------------------- */

static void test_tcp_open_port_succeeds(void **state)
{
	assert_result(probe_path(http_port, "tcp", "", SEC), PP_RESULT_SUCCESS, NULL);
}

static void test_tcp_closed_port_fails_with_go_message(void **state)
{
	const struct pp_probe_report *r = probe_url("tcp://127.0.0.1:1", SEC);
	assert_result(r, PP_RESULT_FAILURE, "dial tcp 127.0.0.1:1: connect: connection refused");
}

static void test_tcp_listener_that_never_accepts_still_passes(void **state)
{
	/* The kernel completes the handshake (kubernetes issue 103632): tcpSocket passes. */
	assert_result(probe_path(noacc_port, "tcp", "", SEC), PP_RESULT_SUCCESS, NULL);
}

static void test_tcp_probe_stops_at_the_syn_ack(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct pp_probe_report rep;
	struct pp_probe_target t;
	char buf[128], err[128], url[64];
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), cfd;
	struct pollfd pfd;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	/* Default: success on the SYN-ACK, then RST instead of the last ACK: nothing to accept. */
	assert_int_equal(pp_probe_once(&t, SEC, &rep), 0);
	assert_int_equal(rep.result, PP_RESULT_SUCCESS);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_int_equal(cfd, -1);
	assert_int_equal(errno, EAGAIN);
	/* full_handshake (probe.podprobe.io/tcp-accept): the server gets a connection to accept. */
	t.full_handshake = true;
	assert_int_equal(pp_probe_once(&t, SEC, &rep), 0);
	assert_int_equal(rep.result, PP_RESULT_SUCCESS);
	pfd = (struct pollfd){ lfd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	close(cfd);
	close(lfd);
}

/* ---- httpGet ------------------------------------------------------------------------------- */

static void test_http_healthy_succeeds(void **state)
{
	const struct pp_probe_report *r = probe_path(http_port, "http", "/healthz", SEC);

	assert_result(r, PP_RESULT_SUCCESS, "ok");
	assert_int_equal(r->http_status, 200);
}

static void test_http_error_statuses_fail_with_kubelet_message(void **state)
{
	assert_result(probe_path(http_port, "http", "/status/404", SEC), PP_RESULT_FAILURE,
		      "HTTP probe failed with statuscode: 404");
	assert_result(probe_path(http_port, "http", "/status/500", SEC), PP_RESULT_FAILURE,
		      "HTTP probe failed with statuscode: 500");
	assert_result(probe_path(http_port, "http", "/status/204", SEC), PP_RESULT_SUCCESS, NULL);
}

static void test_http_refused_fails(void **state)
{
	assert_result(probe_url("http://127.0.0.1:1/x", SEC), PP_RESULT_FAILURE,
		      "Get \"http://127.0.0.1:1/x\": dial tcp 127.0.0.1:1: connect: connection refused");
}

static void test_http_hanging_server_times_out_on_time(void **state)
{
	const struct pp_probe_report *r = probe_path(http_port, "http", "/hang", 300 * MS);

	assert_result(r, PP_RESULT_FAILURE,
		      "context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
	assert_true(r->latency >= 300 * MS && r->latency < 600 * MS);
}

static void test_http_slow_byte_by_byte_server(void **state)
{
	/* ~40 bytes at 5 ms each fit in 1 s; at 100 ms each they do not. */
	assert_result(probe_path(http_port, "http", "/slow?ms=5", SEC), PP_RESULT_SUCCESS, "ok");
	assert_result(probe_path(http_port, "http", "/slow?ms=100", 500 * MS), PP_RESULT_FAILURE,
		      "context deadline exceeded");
}

static void test_http_redirect_chains_are_followed(void **state)
{
	const struct pp_probe_report *r = probe_path(http_port, "http", "/redirect/3", SEC);

	assert_result(r, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(r->http_status, 200);
	assert_result(probe_path(http_port, "http", "/moved", SEC), PP_RESULT_SUCCESS, NULL);
	assert_result(probe_path(http_port, "http", "/redirect-abs/2", SEC), PP_RESULT_SUCCESS,
		      NULL);
}

static void test_http_redirect_loop_fails_after_ten(void **state)
{
	assert_result(probe_path(http_port, "http", "/redirect-loop", SEC), PP_RESULT_FAILURE,
		      "stopped after 10 redirects");
}

static void test_http_redirect_to_other_host_is_a_warning(void **state)
{
	const struct pp_probe_report *r = probe_path(http_port, "http", "/redirect-other-host", SEC);

	assert_result(r, PP_RESULT_WARNING, "Probe terminated redirects, Response body: ");
	assert_int_equal(r->http_status, 302);
}

static void test_http_big_body_is_read_only_up_to_10k(void **state)
{
	const struct pp_probe_report *r = probe_path(http_port, "http", "/big", SEC);

	assert_result(r, PP_RESULT_SUCCESS, NULL);
	assert_int_equal(strlen(r->message), PP_PROBE_OUTPUT_MAX);
}

static void test_http_odd_responses(void **state)
{
	assert_result(probe_path(http_port, "http", "/chunked", SEC), PP_RESULT_SUCCESS, NULL);
	assert_result(probe_path(http_port, "http", "/no-reason", SEC), PP_RESULT_SUCCESS, "ok");
	assert_result(probe_path(http_port, "http", "/garbage", SEC), PP_RESULT_FAILURE,
		      "malformed HTTP response");
	assert_result(probe_path(http_port, "http", "/bighdr", SEC), PP_RESULT_FAILURE,
		      "malformed HTTP response");
	assert_result(probe_path(http_port, "http", "/close", SEC), PP_RESULT_FAILURE, "EOF");
}

static void test_http_sends_kubelet_headers_and_host_override(void **state)
{
	static const struct pp_kv hdrs[] = { { "Host", "example.com" }, { "x-custom", "1" } };
	struct pp_probe_report *rep = malloc(sizeof(*rep));
	struct pp_probe_target t;
	char buf[512], err[256], url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", http_port);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	t.headers = hdrs;
	t.n_headers = 2;
	assert_int_equal(pp_probe_once(&t, SEC, rep), 0);
	assert_result(rep, PP_RESULT_SUCCESS, "Host: example.com");
	assert_non_null(strstr(rep->message, "User-Agent: kube-probe/1.34"));
	assert_non_null(strstr(rep->message, "Accept: */*"));
	assert_non_null(strstr(rep->message, "Connection: close"));
	assert_non_null(strstr(rep->message, "X-Custom: 1"));
	free(rep);
}

static void test_https_without_verification_succeeds(void **state)
{
	assert_result(probe_path(tls_port, "https", "/healthz", SEC), PP_RESULT_SUCCESS, "ok");
	assert_result(probe_path(tls_port, "https", "/status/503", SEC), PP_RESULT_FAILURE,
		      "statuscode: 503");
	/* Plain HTTP spoken to a TLS port is an error, not a hang. */
	assert_result(probe_path(http_port, "https", "/healthz", SEC), PP_RESULT_FAILURE, NULL);
}

/* ---- exec ---------------------------------------------------------------------------------- */

static const struct pp_probe_report *probe_exec(char *const *argv, pp_nsec timeout)
{
	static struct pp_probe_report rep;
	struct pp_probe_target t = { .kind = PP_HANDLER_EXEC, .argv = argv, .mnt_ns_fd = -1 };

	assert_int_equal(pp_probe_once(&t, timeout, &rep), 0);
	return &rep;
}

static void test_exec_exit_codes_and_output(void **state)
{
	assert_result(probe_exec((char *[]){ "true", NULL }, SEC), PP_RESULT_SUCCESS, NULL);
	/* H-EXEC.2: stdout, then stderr. */
	assert_result(probe_exec((char *[]){ "sh", "-c", "echo err >&2; echo out; exit 1", NULL },
				 SEC),
		      PP_RESULT_FAILURE, "out\nerr\n");
	assert_result(probe_exec((char *[]){ "no-such-cmd-here", NULL }, SEC), PP_RESULT_UNKNOWN,
		      "executable file not found in $PATH");
}

static void test_exec_hang_is_killed_at_timeout(void **state)
{
	const struct pp_probe_report *r =
		probe_exec((char *[]){ "sh", "-c", "sleep 30; echo never", NULL }, 300 * MS);

	assert_result(r, PP_RESULT_FAILURE, "command \"sh -c sleep 30; echo never\" timed out");
	assert_true(r->latency < 700 * MS);
	/* The whole process group went: no sleep 30 of ours is left behind. */
	assert_int_equal(t_count_descendants("sleep 30"), 0);
}

static void test_exec_output_is_capped(void **state)
{
	const struct pp_probe_report *r =
		probe_exec((char *[]){ "sh", "-c", "yes x | head -c 100000; exit 1", NULL }, SEC);

	assert_int_equal(r->result, PP_RESULT_FAILURE);
	assert_int_equal(strlen(r->message), PP_PROBE_OUTPUT_MAX);
}

/* ---- gRPC ---------------------------------------------------------------------------------- */

static void test_grpc_health_statuses(void **state)
{
	pid_t pid;
	int port;
	char url[128];

	pid = t_server_start((const char *const[]){ "grpc-health-server", "--port=0",
						    "--service=down=NOT_SERVING", NULL },
			     &port);
	snprintf(url, sizeof(url), "grpc://127.0.0.1:%d", port);
	assert_result(probe_url(url, SEC), PP_RESULT_SUCCESS, "service healthy");
	snprintf(url, sizeof(url), "grpc://127.0.0.1:%d/down", port);
	assert_result(probe_url(url, SEC), PP_RESULT_FAILURE,
		      "service unhealthy (responded with \"NOT_SERVING\")");
	snprintf(url, sizeof(url), "grpc://127.0.0.1:%d/nope", port);
	assert_result(probe_url(url, SEC), PP_RESULT_FAILURE, "NotFound");
	t_server_stop(pid);
	/* An HTTP/1 server is not a gRPC server: a failure, never a hang or a crash. */
	snprintf(url, sizeof(url), "grpc://127.0.0.1:%d", http_port);
	assert_int_equal(probe_url(url, SEC)->result, PP_RESULT_FAILURE);
}

/* ---- many at once ---------------------------------------------------------------------------- */

struct many {
	unsigned int done;
	unsigned int ok;
	unsigned int late;
	pp_nsec timeout;
};

static void on_many(void *ctx, const struct pp_probe_report *rep)
{
	struct many *m = ctx;

	m->done++;
	m->ok += rep->result == PP_RESULT_SUCCESS;
	m->late += rep->latency > m->timeout + 200 * MS;
}

static int count_time_wait(int port)
{
	char cmd[256], out[64];

	snprintf(cmd, sizeof(cmd),
		 "ss -Htan state time-wait '( sport = :%d or dport = :%d )' | wc -l", port, port);
	if (t_system(cmd, out, sizeof(out)) != 0)
		return -1;
	return atoi(out);
}

static void run_many(enum pp_handler_kind kind, const char *path, unsigned int n)
{
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t;
	struct many m = { .timeout = 5 * SEC };
	char buf[256], err[128], url[128];
	uint64_t until = t_now_ms() + 20000;
	int tw_before = count_time_wait(http_port);

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s",
		 kind == PP_HANDLER_TCP_SOCKET ? "tcp" : "http", http_port, path);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(4096, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pp_prober_start(pr, &t, m.timeout, on_many, &m, NULL), 0);
	while (m.done < n && t_now_ms() < until) {
		pp_nsec next = pp_prober_next_deadline(pr);

		assert_true(pp_loop_run_once(loop, next) >= 0);
		pp_prober_run_expired(pr, pp_clock_now());
	}
	assert_int_equal(m.done, n);
	assert_int_equal(m.late, 0);
	assert_int_equal(m.ok, n);
	assert_int_equal(pp_prober_stats(pr)->in_flight, 0);
	pp_prober_free(pr);
	pp_loop_free(loop);
	/* Probes close with RST: none of them leaves a TIME_WAIT socket. */
	if (tw_before >= 0)
		assert_int_equal(count_time_wait(http_port), tw_before);
}

static void test_two_thousand_concurrent_probes_all_get_a_verdict(void **state)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4500) {
		rl.rlim_cur = rl.rlim_max < 4500 ? rl.rlim_max : 4500;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 2100) {
		print_message("skip: RLIMIT_NOFILE %lu is below 2100\n", (unsigned long)rl.rlim_cur);
		skip();
	}
	run_many(PP_HANDLER_TCP_SOCKET, "", 2000);
	run_many(PP_HANDLER_HTTP_GET, "/healthz", 2000);
}

static void on_fast(void *ctx, const struct pp_probe_report *rep)
{
	*(pp_nsec *)ctx = pp_clock_now();
}

static void test_hanging_probes_do_not_delay_others(void **state)
{
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target hang, ok;
	char b1[256], b2[256], err[128], u1[128], u2[128];
	pp_nsec start, fast_done = 0;
	struct many m = { .timeout = SEC };

	snprintf(u1, sizeof(u1), "http://127.0.0.1:%d/hang", http_port);
	snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/healthz", http_port);
	assert_int_equal(pp_probe_parse_url(u1, &hang, b1, sizeof(b1), err, sizeof(err)), 0);
	assert_int_equal(pp_probe_parse_url(u2, &ok, b2, sizeof(b2), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(256, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(pp_prober_start(pr, &hang, SEC, on_many, &m, NULL), 0);
	start = pp_clock_now();
	assert_int_equal(pp_prober_start(pr, &ok, SEC, on_fast, &fast_done, NULL), 0);
	while ((!fast_done || m.done < 50) && pp_clock_now() - start < 3 * SEC) {
		assert_true(pp_loop_run_once(loop, pp_prober_next_deadline(pr)) >= 0);
		pp_prober_run_expired(pr, pp_clock_now());
	}
	assert_true(fast_done && fast_done - start < 200 * MS);
	assert_int_equal(m.done, 50);
	assert_int_equal(m.ok, 0);
	pp_prober_free(pr);
	pp_loop_free(loop);
}

/* One-shot probes (podprobe probe) close their sockets before their loop goes: no fd left. */
static void test_probe_once_leaves_no_fd_behind(void **state)
{
	int before = t_count_fds(getpid());

	for (int i = 0; i < 10; i++) {
		assert_result(probe_path(http_port, "tcp", "", SEC), PP_RESULT_SUCCESS, NULL);
		assert_result(probe_path(http_port, "http", "/healthz", SEC), PP_RESULT_SUCCESS,
			      NULL);
	}
	assert_int_equal(t_count_fds(getpid()), before);
}

struct tally {
	unsigned int n[_PP_RESULT_MAX];
	char unknown_msg[256];
};

static void on_tally(void *ctx, const struct pp_probe_report *rep)
{
	struct tally *t = ctx;

	t->n[rep->result]++;
	if (rep->result == PP_RESULT_UNKNOWN)
		snprintf(t->unknown_msg, sizeof(t->unknown_msg), "%.200s", rep->message);
}

static void test_out_of_fds_gives_unknown_not_failure(void **state)
{
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t;
	struct tally tally = { 0 };
	struct rlimit old, low;
	char buf[256], err[128], url[128];
	int fds = t_count_fds(getpid());

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", http_port);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(256, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)fds + 20;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pp_prober_start(pr, &t, SEC, on_tally, &tally, NULL), 0);
	while (tally.n[0] + tally.n[1] + tally.n[2] + tally.n[3] < 100) {
		assert_true(pp_loop_run_once(loop, pp_prober_next_deadline(pr)) >= 0);
		pp_prober_run_expired(pr, pp_clock_now());
	}
	setrlimit(RLIMIT_NOFILE, &old);
	/* Some got a socket and passed; the rest are Unknown (discarded), none a false failure. */
	assert_true(tally.n[PP_RESULT_SUCCESS] > 0);
	assert_true(tally.n[PP_RESULT_UNKNOWN] > 0);
	assert_int_equal(tally.n[PP_RESULT_FAILURE], 0);
	assert_string_equal(tally.unknown_msg, "too many open files");
	assert_int_equal(pp_prober_stats(pr)->resource_errors, tally.n[PP_RESULT_UNKNOWN]);
	pp_prober_free(pr);
	pp_loop_free(loop);
}

struct overload {
	uint64_t results[_PP_RESULT_MAX];
};

static void on_overload_result(struct pp_probe_job *job, enum pp_probe_result result,
			       const char *output, const struct pp_probe_change *chg)
{
	struct overload *o = job->ctx;

	o->results[result]++;
}

static const struct pp_probe_job_ops overload_ops = { .result = on_overload_result };

static void test_overload_spreads_load_without_false_failures(void **state)
{
	enum { N = 4000 };
	struct pp_probe_job *jobs = calloc(N, sizeof(*jobs));
	struct pp_probe_runner *r;
	struct pp_loop *loop;
	struct pp_probe_target t;
	struct overload o = { 0 };
	char buf[256], err[128], url[128];
	pp_nsec start, end;
	const struct pp_probe_runner_stats *st;
	unsigned int starved = 0;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", http_port);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(1024, &loop), 0);
	/* 4,000 workers every 10 ms ask for 400,000 probes/s: several times what one core runs. */
	assert_int_equal(pp_probe_runner_new(loop, 256, &r), 0);
	start = pp_clock_now();
	for (int i = 0; i < N; i++) {
		pp_probe_worker_init(&jobs[i].w, PP_PROBE_LIVENESS);
		jobs[i].cfg = (struct pp_probe_cfg){ .period = 10 * MS, .timeout = SEC,
						     .success_threshold = 1, .failure_threshold = 1 };
		jobs[i].target = t;
		jobs[i].ops = &overload_ops;
		jobs[i].ctx = &o;
		assert_int_equal(pp_probe_runner_add(r, &jobs[i]), 0);
		pp_probe_runner_arm(r, &jobs[i], 1, start, 0);
	}
	end = start + SEC;
	while (pp_clock_now() < end) {
		pp_nsec next = pp_probe_runner_next(r);

		assert_true(pp_loop_run_once(loop, next < end ? next : end) >= 0);
		pp_probe_runner_run(r, pp_clock_now());
	}
	st = pp_probe_runner_stats(r);
	/* Overloaded: probes started late and waited for room... */
	assert_true(st->late > 0);
	assert_true(st->queued > 0);
	/* ...yet none failed, and no worker was starved (each ran and still holds Success). */
	assert_int_equal(o.results[PP_RESULT_FAILURE], 0);
	assert_int_equal(o.results[PP_RESULT_UNKNOWN], 0);
	for (int i = 0; i < N; i++)
		starved += jobs[i].w.streak == 0 || jobs[i].w.published != PP_VERDICT_SUCCESS;
	assert_int_equal(starved, 0);
	print_message("overload: %llu attempts in 1 s, %llu late, max lateness %.0f ms\n",
		      (unsigned long long)st->attempts, (unsigned long long)st->late,
		      (double)st->max_lateness / 1e6);
	pp_probe_runner_free(r);
	pp_loop_free(loop);
	free(jobs);
}

/* ---- httpGet keep-alive --------------------------------------------------------------------- */

/*
 * A keep-alive HTTP/1.1 server on a thread: answers "200 ok" with a Content-Length to every
 * request and keeps the connection; with <one_per_conn> it answers only a connection's first
 * request and closes on the next one without an answer (a server that dropped an idle
 * connection just as it was reused). ka_expire() has it time its idle connections out.
 */
struct ka_server {
	int lfd, stop[2], ack[2], port;
	bool one_per_conn;
	pthread_t th;
	unsigned int accepts, requests; /* read by the test after stop */
};

static void *ka_serve(void *arg)
{
	struct ka_server *k = arg;
	struct pollfd p[66];
	unsigned int served[66] = { 0 };
	int n = 2;

	p[0] = (struct pollfd){ .fd = k->stop[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = k->lfd, .events = POLLIN };
	for (;;) {
		char cmd = 0;

		if (poll(p, (nfds_t)n, 10000) <= 0)
			break;
		if (p[0].revents) {
			/* 'e': an idle timeout, answered unasked as some servers do, then closed. */
			static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\n"
						      "Content-Length: 0\r\nConnection: close\r\n\r\n";

			if (read(k->stop[0], &cmd, 1) != 1 || cmd != 'e')
				break;
			for (int i = 2; i < n; i++) {
				ssize_t w = write(p[i].fd, timeout, sizeof(timeout) - 1);

				(void)w; /* a client that left already is only closed */
				close(p[i].fd);
			}
			n = 2;
			if (write(k->ack[1], "e", 1) != 1)
				break;
			continue;
		}
		if (p[1].fd >= 0 && p[1].revents) {
			int c = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0) {
				p[1].fd = -1; /* shut down: refuses from now on */
			} else if (n < 66) {
				__atomic_add_fetch(&k->accepts, 1, __ATOMIC_SEQ_CST);
				served[n] = 0;
				p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
			} else {
				close(c);
			}
		}
		for (int i = 2; i < n; i++) {
			char buf[4096];
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			/* One request per read: the probes send one and wait for the answer. */
			if (r > 0)
				__atomic_add_fetch(&k->requests, 1, __ATOMIC_SEQ_CST);
			if (r <= 0 || (k->one_per_conn && served[i])) {
				close(p[i].fd);
				p[i] = p[n - 1];
				served[i] = served[n - 1];
				n--;
				i--;
				continue;
			}
			served[i]++;
			if (write(p[i].fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40) != 40)
				p[i].events = 0;
		}
	}
	for (int i = 2; i < n; i++)
		close(p[i].fd);
	return NULL;
}

static void ka_start(struct ka_server *k, bool one_per_conn)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(k, 0, sizeof(*k));
	k->one_per_conn = one_per_conn;
	k->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(k->lfd >= 0);
	assert_int_equal(bind(k->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(k->lfd, 64), 0);
	assert_int_equal(getsockname(k->lfd, (struct sockaddr *)&sa, &len), 0);
	k->port = ntohs(sa.sin_port);
	assert_int_equal(pipe2(k->stop, O_CLOEXEC), 0);
	assert_int_equal(pipe2(k->ack, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&k->th, NULL, ka_serve, k), 0);
}

/* The server answers its open connections 408 and closes them; returns once it has. */
static void ka_expire(struct ka_server *k)
{
	struct pollfd p = { .fd = k->ack[0], .events = POLLIN };
	char c;

	assert_int_equal(write(k->stop[1], "e", 1), 1);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(k->ack[0], &c, 1), 1);
}

static void ka_stop(struct ka_server *k)
{
	assert_int_equal(write(k->stop[1], "x", 1), 1);
	pthread_join(k->th, NULL);
	close(k->lfd);
	close(k->stop[0]);
	close(k->stop[1]);
	close(k->ack[0]);
	close(k->ack[1]);
}

struct ka_wait {
	struct pp_probe_report rep;
	bool done;
};

static void ka_done(void *ctx, const struct pp_probe_report *r)
{
	struct ka_wait *w = ctx;

	w->rep = *r;
	w->done = true;
}

/* One attempt on each of <t>[0..n) at once, into <w>[0..n); returns once all have reported. */
static void ka_probe_all(struct pp_loop *loop, struct pp_prober *pr,
			 const struct pp_probe_target *t, struct ka_wait *w, unsigned int n)
{
	pp_nsec end = pp_clock_now() + 5 * SEC;
	unsigned int done = 0;

	for (unsigned int i = 0; i < n; i++) {
		w[i].done = false;
		assert_int_equal(pp_prober_start(pr, &t[i], 2 * SEC, ka_done, &w[i], NULL), 0);
	}
	while (done < n && pp_clock_now() < end) {
		pp_nsec next = pp_prober_next_deadline(pr);

		assert_true(pp_loop_run_once(loop, next < end ? next : end) >= 0);
		pp_prober_run_expired(pr, pp_clock_now());
		for (done = 0; done < n && w[done].done; done++)
			;
	}
	assert_int_equal(done, n);
}

/* One attempt on <pr>; returns the report (static). */
static const struct pp_probe_report *ka_probe(struct pp_loop *loop, struct pp_prober *pr,
					      const struct pp_probe_target *t)
{
	static struct ka_wait w;

	ka_probe_all(loop, pr, t, &w, 1);
	return &w.rep;
}

static void ka_target(struct pp_probe_target *t, char *buf, size_t size, int port, bool ka)
{
	char url[128], err[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
	assert_int_equal(pp_probe_parse_url(url, t, buf, size, err, sizeof(err)), 0);
	t->keepalive = ka;
}

/* Five keep-alive probes go over one connection; without keep-alive each opens its own. */
static void test_http_keepalive_reuses_one_connection(void **state)
{
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t;
	char buf[512];

	ka_start(&k, false);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	ka_target(&t, buf, sizeof(buf), k.port, true);
	for (int i = 0; i < 5; i++) {
		const struct pp_probe_report *r = ka_probe(loop, pr, &t);

		assert_result(r, PP_RESULT_SUCCESS, NULL);
		assert_string_equal(r->message, "ok");
		assert_int_equal(r->http_status, 200);
	}
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), 5);
	/* kubelet's default: a connection per probe. */
	t.keepalive = false;
	for (int i = 0; i < 3; i++)
		assert_result(ka_probe(loop, pr, &t), PP_RESULT_SUCCESS, "ok");
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 4);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/*
 * Two keep-alive targets of one address (a pod's liveness and readiness on one port) whose
 * attempts overlap: each keeps a connection of its own, none reconnects.
 */
static void test_http_keepalive_targets_of_one_address_keep_one_each(void **state)
{
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t[2];
	char buf[2][512];

	ka_start(&k, false);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	for (int i = 0; i < 2; i++)
		ka_target(&t[i], buf[i], sizeof(buf[i]), k.port, true);
	for (int round = 0; round < 4; round++) {
		struct ka_wait w[2];

		ka_probe_all(loop, pr, t, w, 2);
		for (int i = 0; i < 2; i++)
			assert_result(&w[i].rep, PP_RESULT_SUCCESS, "ok");
	}
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 2);
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), 8);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/*
 * More overlapping keep-alive targets on one address than it keeps: PP_KEEPALIVE_PER_ADDR are
 * parked and reused, the rest are closed after their answer and dial again next round.
 */
static void test_http_keepalive_address_keeps_at_most_its_cap(void **state)
{
	enum { N = PP_KEEPALIVE_PER_ADDR + 4, ROUNDS = 3 };
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t[N];
	struct ka_wait w[N];
	char buf[N][512];

	ka_start(&k, false);
	assert_int_equal(pp_loop_new(256, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	for (int i = 0; i < N; i++)
		ka_target(&t[i], buf[i], sizeof(buf[i]), k.port, true);
	for (int round = 0; round < ROUNDS; round++) {
		ka_probe_all(loop, pr, t, w, N);
		for (int i = 0; i < N; i++)
			assert_result(&w[i].rep, PP_RESULT_SUCCESS, "ok");
	}
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST),
			 N + (ROUNDS - 1) * (N - PP_KEEPALIVE_PER_ADDR));
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), ROUNDS * N);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/*
 * The sweep closes what idled PP_KEEPALIVE_IDLE and keeps what was parked since: two
 * connections of one address, one of them used again 20 ms later; a sweep that the older one
 * is due for leaves the younger one, which the next probe reuses while its peer dials anew.
 */
static void test_http_keepalive_sweep_closes_only_the_idle(void **state)
{
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t[2];
	struct ka_wait w[2];
	char buf[2][512];
	pp_nsec after_first;

	ka_start(&k, false);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	for (int i = 0; i < 2; i++)
		ka_target(&t[i], buf[i], sizeof(buf[i]), k.port, true);
	ka_probe_all(loop, pr, t, w, 2);
	after_first = pp_clock_now();
	/* Time passing, not a wait for anything: the second park is 20 ms younger. */
	usleep(20000);
	assert_result(ka_probe(loop, pr, &t[0]), PP_RESULT_SUCCESS, "ok");
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 2);
	pp_prober_run_expired(pr, after_first + PP_KEEPALIVE_IDLE + 10 * PP_NSEC_PER_MSEC);
	ka_probe_all(loop, pr, t, w, 2);
	for (int i = 0; i < 2; i++)
		assert_result(&w[i].rep, PP_RESULT_SUCCESS, "ok");
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 3);
	/* Long after both were parked, nothing is left to reuse. */
	pp_prober_run_expired(pr, pp_clock_now() + PP_KEEPALIVE_IDLE + PP_NSEC_PER_SEC);
	assert_result(ka_probe(loop, pr, &t[0]), PP_RESULT_SUCCESS, "ok");
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 4);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/*
 * A reused connection that the server drops instead of answering is retried once on a fresh
 * one, and nothing fails; when that fresh connection fails too (the listener is gone), the
 * failure counts, with the message a new connection gives.
 */
static void test_http_keepalive_stale_connection_is_retried_once(void **state)
{
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t;
	char buf[512], want[128];
	const struct pp_probe_report *r;

	ka_start(&k, true);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	ka_target(&t, buf, sizeof(buf), k.port, true);
	for (int i = 0; i < 4; i++)
		assert_result(ka_probe(loop, pr, &t), PP_RESULT_SUCCESS, "ok");
	/* The first on a new connection; each later one: the reused try, then a fresh one. */
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 4);
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), 7);
	assert_int_equal(pp_prober_stats(pr)->results[PP_RESULT_FAILURE], 0);
	/* No listener any more: the reused connection is dropped, the fresh one is refused. */
	assert_int_equal(shutdown(k.lfd, SHUT_RD), 0);
	r = ka_probe(loop, pr, &t);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", k.port);
	assert_result(r, PP_RESULT_FAILURE, want);
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), 8);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/*
 * A server that timed the parked connection out with an unasked 408 and a close: a probe soon
 * after reuses the connection without a check (probe_http.c, KEEPALIVE_TRUSTED), finds that 408
 * there, and asks again on a fresh connection instead of counting it.
 */
static void test_http_keepalive_idle_timeout_408_is_not_the_answer(void **state)
{
	struct ka_server k;
	struct pp_loop *loop;
	struct pp_prober *pr;
	struct pp_probe_target t;
	char buf[512];
	const struct pp_probe_report *r;

	ka_start(&k, false);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_prober_new(loop, &pr), 0);
	ka_target(&t, buf, sizeof(buf), k.port, true);
	for (int round = 0; round < 3; round++) {
		assert_result(ka_probe(loop, pr, &t), PP_RESULT_SUCCESS, "ok");
		ka_expire(&k);
		r = ka_probe(loop, pr, &t);
		assert_result(r, PP_RESULT_SUCCESS, "ok");
		assert_int_equal(r->http_status, 200);
	}
	/* Each round: the connection the server timed out, then the fresh one the retry made. */
	assert_int_equal(__atomic_load_n(&k.accepts, __ATOMIC_SEQ_CST), 4);
	assert_int_equal(__atomic_load_n(&k.requests, __ATOMIC_SEQ_CST), 6);
	assert_int_equal(pp_prober_stats(pr)->results[PP_RESULT_FAILURE], 0);
	pp_prober_free(pr);
	pp_loop_free(loop);
	ka_stop(&k);
}

/* ---- batching: slack ------------------------------------------------------------------------ */

struct slack_rec {
	pp_nsec max_wait;   /* longest start - due */
	unsigned int early; /* started before due */
	unsigned int starts;
};

/* Runs just before each attempt starts: the worker's next_at is still when it was due. */
static bool slack_allowed(struct pp_probe_job *job)
{
	struct slack_rec *rec = job->ctx;
	pp_nsec now = pp_clock_now();

	rec->starts++;
	if (now < job->w.next_at)
		rec->early++;
	else if (now - job->w.next_at > rec->max_wait)
		rec->max_wait = now - job->w.next_at;
	return true;
}

static const struct pp_probe_job_ops slack_ops = { .allowed = slack_allowed };

/* Drive <r> until <end>; returns how many passes started at least one attempt. */
static unsigned int run_runner(struct pp_loop *loop, struct pp_probe_runner *r, pp_nsec end)
{
	unsigned int batches = 0;

	while (pp_clock_now() < end) {
		pp_nsec next = pp_probe_runner_next(r);
		uint64_t before = pp_probe_runner_stats(r)->attempts;

		assert_true(pp_loop_run_once(loop, next < end ? next : end) >= 0);
		pp_probe_runner_run(r, pp_clock_now());
		batches += pp_probe_runner_stats(r)->attempts != before;
	}
	return batches;
}

/*
 * 500 tcpSocket workers at 1 s: each attempt starts no earlier than due and within its slack
 * (10 ms, + scheduling noise), and attempts share wake-ups instead of one each.
 */
static void test_runner_starts_periodic_probes_within_period_plus_slack(void **state)
{
	enum { N = 500 };
	struct pp_probe_job *jobs = calloc(N, sizeof(*jobs));
	struct slack_rec rec = { 0 };
	struct pp_probe_runner *r;
	struct pp_loop *loop;
	struct pp_probe_target t;
	char buf[256], err[128], url[128];
	unsigned int batches;
	pp_nsec start;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", http_port);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(1024, &loop), 0);
	assert_int_equal(pp_probe_runner_new(loop, 4096, &r), 0);
	start = pp_clock_now();
	for (int i = 0; i < N; i++) {
		pp_probe_worker_init(&jobs[i].w, PP_PROBE_LIVENESS);
		jobs[i].cfg = (struct pp_probe_cfg){ .period = SEC, .timeout = SEC,
						     .success_threshold = 1, .failure_threshold = 3 };
		jobs[i].target = t;
		jobs[i].ops = &slack_ops;
		jobs[i].ctx = &rec;
		assert_int_equal(pp_probe_runner_add(r, &jobs[i]), 0);
		assert_int_equal(pp_probe_runner_slack(r, &jobs[i]), PP_PROBE_RUNNER_SLACK);
		pp_probe_runner_arm(r, &jobs[i], 1, start, SEC * i / N);
	}
	batches = run_runner(loop, r, start + 2 * SEC + 500 * MS);
	print_message("slack: %u attempts in %u wake-ups, longest wait %.1f ms\n", rec.starts,
		      batches, (double)rec.max_wait / 1e6);
	assert_true(rec.starts >= 2 * N);
	assert_int_equal(rec.early, 0);
	/*
	 * Not late by the runner's own measure (a tenth of the period): how close to due + slack
	 * they start is make bench's to measure, a loaded machine's wake-ups vary too much here.
	 */
	assert_true(rec.max_wait <= PP_NSEC_PER_SEC / 10);
	/* 500 probes/s with 10 ms of slack: about 100 wake-ups a second, not 500. */
	assert_true(batches * 2 < rec.starts);
	assert_int_equal(pp_probe_runner_stats(r)->late, 0);
	pp_probe_runner_free(r);
	pp_loop_free(loop);
	free(jobs);
}

/* Jobs due together that the first result removes (a pod deleted by what its probe decided). */
struct removing {
	struct pp_probe_runner *r;
	struct pp_probe_job *jobs[8];
	unsigned int results;
	unsigned int prefetched;
	unsigned int stale; /* results of removed jobs' reused memory: must stay 0 */
};

static void stale_result(struct pp_probe_job *job, enum pp_probe_result result,
			 const char *output, const struct pp_probe_change *chg)
{
	((struct removing *)job->ctx)->stale++;
}

static const struct pp_probe_job_ops stale_ops = { .result = stale_result };

static void removing_result(struct pp_probe_job *job, enum pp_probe_result result,
			    const char *output, const struct pp_probe_change *chg)
{
	struct removing *rm = job->ctx;

	if (rm->results++)
		return;
	for (size_t i = 0; i < sizeof(rm->jobs) / sizeof(rm->jobs[0]); i++) {
		if (!rm->jobs[i] || rm->jobs[i] == job)
			continue;
		pp_probe_runner_remove(rm->r, rm->jobs[i]);
		/*
		 * Its memory reused at once, as an allocator may: a due job of no runner, whose
		 * result would count in rm->stale if the runner began it from a stale pointer.
		 */
		memset(rm->jobs[i], 0, sizeof(*rm->jobs[i]));
		pp_probe_worker_init(&rm->jobs[i]->w, PP_PROBE_READINESS);
		rm->jobs[i]->cfg = job->cfg;
		pp_probe_worker_arm(&rm->jobs[i]->w, &rm->jobs[i]->cfg, 1, 0, 0);
		rm->jobs[i]->target_err = -EINVAL;
		rm->jobs[i]->ops = &stale_ops;
		rm->jobs[i]->ctx = rm;
		rm->jobs[i]->runner = rm->r;
	}
}

static void removing_prefetch(const struct pp_probe_job *job)
{
	((struct removing *)job->ctx)->prefetched++;
}

static const struct pp_probe_job_ops removing_ops = { .prefetch = removing_prefetch,
						      .result = removing_result };

/*
 * The runner begins due jobs in batches: one whose result removes the others of its batch (and
 * whose owner reuses their memory) must not have them begun from a stale pointer.
 */
static void test_runner_batch_survives_removal_by_an_earlier_result(void **state)
{
	struct removing rm = { 0 };
	struct pp_loop *loop;
	pp_nsec start = pp_clock_now();
	size_t n = sizeof(rm.jobs) / sizeof(rm.jobs[0]);

	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_probe_runner_new(loop, 64, &rm.r), 0);
	for (size_t i = 0; i < n; i++) {
		struct pp_probe_job *job = calloc(1, sizeof(*job));

		assert_non_null(job);
		pp_probe_worker_init(&job->w, PP_PROBE_READINESS);
		job->cfg = (struct pp_probe_cfg){ .period = SEC, .timeout = SEC,
						  .success_threshold = 1, .failure_threshold = 3 };
		/* An unresolvable target: the attempt ends inside begin, no network. */
		job->target_err = -EINVAL;
		snprintf(job->target_msg, sizeof(job->target_msg), "no target");
		job->ops = &removing_ops;
		job->ctx = &rm;
		rm.jobs[i] = job;
		assert_int_equal(pp_probe_runner_add(rm.r, job), 0);
		pp_probe_runner_arm(rm.r, job, 1, start, 0);
	}
	pp_probe_runner_run(rm.r, start + SEC / 100);
	/* All were due and warmed together; the first to end removed the rest. */
	assert_int_equal(rm.prefetched, n);
	assert_int_equal(rm.results, 1);
	assert_int_equal(rm.stale, 0);
	for (size_t i = 0; i < n; i++)
		free(rm.jobs[i]);
	pp_probe_runner_free(rm.r);
	pp_loop_free(loop);
}

/*
 * A kernel-triggered poke starts its attempt at once, even with a large slack (100 ms here) and
 * other workers due around it; sub-second periods get at most 1 ms.
 */
static void test_runner_kernel_hint_poke_is_not_delayed(void **state)
{
	enum { N = 20 };
	struct pp_probe_job jobs[2] = { 0 };
	struct slack_rec rec = { 0 };
	struct pp_probe_runner *r;
	struct pp_loop *loop;
	struct pp_probe_target t;
	char buf[256], err[128], url[128];
	pp_nsec start, waits[N] = { 0 };

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", http_port);
	assert_int_equal(pp_probe_parse_url(url, &t, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(pp_loop_new(64, &loop), 0);
	assert_int_equal(pp_probe_runner_new(loop, 64, &r), 0);
	pp_probe_runner_set_slack(r, 100 * MS);
	for (int i = 0; i < 2; i++) {
		pp_probe_worker_init(&jobs[i].w, PP_PROBE_LIVENESS);
		jobs[i].cfg = (struct pp_probe_cfg){ .period = 3600 * SEC, .timeout = SEC,
						     .success_threshold = 1, .failure_threshold = 3 };
		jobs[i].target = t;
		jobs[i].ops = &slack_ops;
		jobs[i].ctx = &rec;
		assert_int_equal(pp_probe_runner_add(r, &jobs[i]), 0);
	}
	/* A period of an hour: 100 ms of slack (the most set). Sub-second: the 1 ms step. */
	assert_int_equal(pp_probe_runner_slack(r, &jobs[0]), 100 * MS);
	jobs[1].cfg.period = 500 * MS;
	assert_int_equal(pp_probe_runner_slack(r, &jobs[1]), MS);
	jobs[1].cfg.period = 3600 * SEC;
	start = pp_clock_now();
	/* The first attempts, then an hour of nothing. */
	pp_probe_runner_arm(r, &jobs[0], 1, start, 0);
	pp_probe_runner_arm(r, &jobs[1], 1, start, 0);
	run_runner(loop, r, start + 200 * MS);
	assert_int_equal(rec.starts, 2);
	for (int i = 0; i < N; i++) {
		pp_nsec poked;
		unsigned int before = rec.starts;

		/* Job 1 falls due now with its 100 ms of slack; job 0 is poked by a kernel signal. */
		pp_probe_runner_arm(r, &jobs[1], 1, pp_clock_now(), 0);
		jobs[0].kernel_hint = true;
		poked = pp_clock_now();
		pp_probe_runner_poke(r, &jobs[0], poked);
		assert_int_equal(pp_probe_runner_slack(r, &jobs[0]), 0);
		for (int k = 0; k < 1000 && rec.starts < before + 2; k++) {
			pp_nsec next = pp_probe_runner_next(r), cap = pp_clock_now() + 100 * MS;

			assert_true(pp_loop_run_once(loop, next < cap ? next : cap) >= 0);
			pp_probe_runner_run(r, pp_clock_now());
			if (rec.starts > before && !waits[i])
				waits[i] = pp_clock_now() - poked;
		}
		assert_int_equal(rec.starts, before + 2);
		jobs[0].kernel_hint = false;
		/* Let both attempts end before the next round. */
		for (int k = 0; k < 1000 && (jobs[0].attempt || jobs[1].attempt); k++) {
			pp_nsec next = pp_probe_runner_next(r), cap = pp_clock_now() + 100 * MS;

			assert_true(pp_loop_run_once(loop, next < cap ? next : cap) >= 0);
			pp_probe_runner_run(r, pp_clock_now());
		}
	}
	/* Sorted: the median poke is answered in well under the 100 ms slack. */
	for (int i = 1; i < N; i++)
		for (int j = i; j > 0 && waits[j - 1] > waits[j]; j--) {
			pp_nsec x = waits[j];

			waits[j] = waits[j - 1];
			waits[j - 1] = x;
		}
	print_message("kernel poke: start after %.2f ms (median), %.2f ms (max)\n",
		      (double)waits[N / 2] / 1e6, (double)waits[N - 1] / 1e6);
	assert_true(waits[N / 2] < 5 * MS);
	assert_true(waits[N - 1] < 50 * MS);
	assert_int_equal(rec.early, 0);
	pp_probe_runner_free(r);
	pp_loop_free(loop);
}

/* ---- probes inside pods ---------------------------------------------------------------------- */

static void test_liveness_failure_restarts_container_with_events(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	char yaml[2048];
	int port = t_free_port(), live_fails = 0;
	uint64_t second_fail_ms;

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\n"
		 "kind: Pod\n"
		 "metadata:\n"
		 "  name: live\n"
		 "  annotations: {probe.podprobe.io/period-ms: \"100\"}\n"
		 "spec:\n"
		 "  terminationGracePeriodSeconds: 1\n"
		 "  containers:\n"
		 "  - name: app\n"
		 "    image: demo\n"
		 "    command: [demo-app, serve, --port, \"%d\", --fail-health-after, 500ms]\n"
		 "    ports: [{name: http, containerPort: %d}]\n"
		 "    startupProbe: {tcpSocket: {port: http}, failureThreshold: 50}\n"
		 "    readinessProbe: {httpGet: {path: /ready, port: http}}\n"
		 "    livenessProbe: {httpGet: {path: /healthz, port: http}, failureThreshold: 2}\n",
		 port, port);
	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ "--min-kill-gap=100ms",
					       t_write_manifest(&r, "live.yaml", yaml), NULL });
	/* Startup may fail while demo-app is not listening yet; then liveness takes over. */
	for (unsigned int i = 0;; i++) {
		ev = t_wait_event(&r, "Unhealthy", "app", i, 5000);
		if (!strncmp(ev->message, "Liveness", 8)) {
			live_fails++;
			assert_string_equal(ev->message, "Liveness probe failed: HTTP probe failed "
							 "with statuscode: 500");
			if (live_fails == 2)
				break;
		} else {
			assert_memory_equal(ev->message, "Startup probe failed: ", 22);
		}
	}
	second_fail_ms = ev->at_ms;
	ev = t_wait_event(&r, "Killing", "app", 0, 5000);
	assert_string_equal(ev->message, "Container app failed liveness probe, will be restarted");
	/* failureThreshold 2 at 100 ms: the kill comes with the second failure, not later. */
	assert_true(ev->at_ms - second_fail_ms < 50);
	assert_non_null(t_wait_event(&r, "Started", "app", 1, 5000));
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

static void test_unknown_named_port_errors_without_killing(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	static const char yaml[] =
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata:\n"
		"  name: named\n"
		"  annotations: {probe.podprobe.io/period-ms: \"50\"}\n"
		"spec:\n"
		"  containers:\n"
		"  - name: app\n"
		"    image: busybox\n"
		"    command: [sleep, \"30\"]\n"
		"    livenessProbe: {tcpSocket: {port: nope}, failureThreshold: 1}\n";

	t_run_init(&r);
	t_run_start(&r, (const char *const[]){ t_write_manifest(&r, "n.yaml", yaml), NULL });
	ev = t_wait_event(&r, "Unhealthy", "app", 2, 5000);
	assert_string_equal(ev->message,
			    "Liveness probe errored and resulted in unknown state: port nope not found");
	assert_int_equal(t_count_events(&r, "Killing", "app"), 0);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 5000);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_tcp_open_port_succeeds),
		T_TEST(test_tcp_closed_port_fails_with_go_message),
		T_TEST(test_tcp_listener_that_never_accepts_still_passes),
		T_TEST(test_tcp_probe_stops_at_the_syn_ack),
		T_TEST(test_http_healthy_succeeds),
		T_TEST(test_http_error_statuses_fail_with_kubelet_message),
		T_TEST(test_http_refused_fails),
		T_TEST(test_http_hanging_server_times_out_on_time),
		T_TEST(test_http_slow_byte_by_byte_server),
		T_TEST(test_http_redirect_chains_are_followed),
		T_TEST(test_http_redirect_loop_fails_after_ten),
		T_TEST(test_http_redirect_to_other_host_is_a_warning),
		T_TEST(test_http_big_body_is_read_only_up_to_10k),
		T_TEST(test_http_odd_responses),
		T_TEST(test_http_sends_kubelet_headers_and_host_override),
		T_TEST(test_https_without_verification_succeeds),
		T_TEST(test_exec_exit_codes_and_output),
		T_TEST(test_exec_hang_is_killed_at_timeout),
		T_TEST(test_exec_output_is_capped),
		T_TEST(test_grpc_health_statuses),
		T_TEST(test_two_thousand_concurrent_probes_all_get_a_verdict),
		T_TEST(test_hanging_probes_do_not_delay_others),
		T_TEST(test_probe_once_leaves_no_fd_behind),
		T_TEST(test_out_of_fds_gives_unknown_not_failure),
		T_TEST(test_overload_spreads_load_without_false_failures),
		T_TEST(test_runner_starts_periodic_probes_within_period_plus_slack),
		T_TEST(test_runner_kernel_hint_poke_is_not_delayed),
		T_TEST(test_runner_batch_survives_removal_by_an_earlier_result),
		T_TEST(test_http_keepalive_reuses_one_connection),
		T_TEST(test_http_keepalive_targets_of_one_address_keep_one_each),
		T_TEST(test_http_keepalive_address_keeps_at_most_its_cap),
		T_TEST(test_http_keepalive_sweep_closes_only_the_idle),
		T_TEST(test_http_keepalive_stale_connection_is_retried_once),
		T_TEST(test_http_keepalive_idle_timeout_408_is_not_the_answer),
		T_TEST(test_liveness_failure_restarts_container_with_events),
		T_TEST(test_unknown_named_port_errors_without_killing),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
