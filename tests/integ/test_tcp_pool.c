// SPDX-License-Identifier: Apache-2.0
/*
 * tcpSocket's pooled client sockets (user/io/prober.c: pp_attempt_pooled_socket) on 127.0.0.1,
 * raw SYN off: one socket reused for many attempts keeps connect()'s verdicts and messages while
 * its target alternates between open, closed (refused) and a listener whose accept queue is full
 * (the kernel drops the SYN: timeout); nothing is left on the targets (no TIME_WAIT, nothing
 * established or half-open, nothing to accept unless the full handshake is asked for, and then
 * one connection per probe, as a fresh socket gives); the pool grows only to the attempts in
 * flight, and a trim closes what a burst left idle; and no fd is left once the prober and the
 * loop are gone, also when attempts were still connecting. httpGet attempts take pooled sockets
 * too (of a kind without TCP_DEFER_ACCEPT): answers, redirects and TLS keep their verdicts on
 * reused sockets, the reset leaves nothing on the server, and a pool full of tcpSocket's idle
 * sockets makes room.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/probe.h"
#include "podprobe/probe_once.h"
#include "podprobe/prober.h"

#define SEC PP_NSEC_PER_SEC
#define MS  PP_NSEC_PER_MSEC

/* The connect() path whatever the privileges. */
static void eng_new(struct t_eng *e)
{
	t_eng_new(e, false);
}

/* Run until <t> has <n> reports, then until the loop has nothing in flight (bounded). */
static void eng_wait(struct t_eng *e, struct t_tally *t, unsigned int n)
{
	uint64_t until;

	t_eng_wait(e, &t->done, n);
	until = t_now_ms() + 10000;
	/* The resets of the sockets given back complete: the pool is idle again. */
	while (pp_loop_pending(e->loop) && t_now_ms() < until)
		assert_true(pp_loop_run_once(e->loop, pp_clock_now() + 10 * MS) >= 0);
	assert_int_equal(pp_loop_pending(e->loop), 0);
}

static void target_for(struct pp_probe_target *t, int port, bool full_handshake)
{
	memset(t, 0, sizeof(*t));
	t->kind = PP_HANDLER_TCP_SOCKET;
	t->host = "127.0.0.1";
	t->full_handshake = full_handshake;
	assert_int_equal(pp_probe_target_resolve(t, "127.0.0.1", port), 0);
}

/* Sockets in ss state <state> with <port> at either end. */
static int count_ss(const char *state, int port)
{
	char cmd[256], out[64];

	snprintf(cmd, sizeof(cmd), "ss -Htan state %s '( sport = :%d or dport = :%d )' | wc -l",
		 state, port, port);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	return atoi(out);
}

/* Sockets on <port>, either end, in no state of TCP's but LISTEN. */
static void assert_nothing_left(int port, int established)
{
	assert_int_equal(count_ss("time-wait", port), 0);
	assert_int_equal(count_ss("syn-recv", port), 0);
	assert_int_equal(count_ss("syn-sent", port), 0);
	assert_int_equal(count_ss("established", port), established);
	assert_int_equal(count_ss("close-wait", port), 0);
	assert_int_equal(count_ss("fin-wait-1", port), 0);
	assert_int_equal(count_ss("fin-wait-2", port), 0);
}

/* One attempt on <t>; its report must be <want> with message <msg> exactly. */
static void probe_expect(struct t_eng *e, const struct pp_probe_target *t, pp_nsec timeout,
			 enum pp_probe_result want, const char *msg)
{
	struct t_tally tally = {0};

	assert_int_equal(pp_prober_start(e->pr, t, timeout, t_tally_done, &tally, NULL), 0);
	eng_wait(e, &tally, 1);
	if (!tally.n[want] || strcmp(tally.msg, msg))
		fail_msg("got \"%s\" (success %u failure %u unknown %u), want %s \"%s\"", tally.msg,
			 tally.n[PP_RESULT_SUCCESS], tally.n[PP_RESULT_FAILURE],
			 tally.n[PP_RESULT_UNKNOWN], pp_probe_result_str(want), msg);
}

static void test_one_socket_reused_keeps_every_verdict(void **state)
{
	struct pp_probe_target open_t, closed_t, hole_t;
	int open_port, closed_port, hole_port, conn;
	int open_fd = t_tcp_listener(64, &open_port), closed_fd = t_tcp_listener(-1, &closed_port);
	int hole_fd = t_tcp_blackhole(&hole_port, &conn);
	char refused[128], timeout[128];
	int fds = t_count_fds(getpid());
	struct t_eng e;
	int with_ring;
	/* Every transition between the three: success, refused and timeout after each other. */
	static const char order[] = "ocohcoohhccho";
	const unsigned int rounds = 8;

	target_for(&open_t, open_port, false);
	target_for(&closed_t, closed_port, false);
	target_for(&hole_t, hole_port, false);
	snprintf(refused, sizeof(refused), "dial tcp 127.0.0.1:%d: connect: connection refused",
		 closed_port);
	snprintf(timeout, sizeof(timeout), "dial tcp 127.0.0.1:%d: i/o timeout", hole_port);
	eng_new(&e);
	with_ring = t_count_fds(getpid()); /* the loop's ring */
	for (unsigned int r = 0; r < rounds; r++)
		for (const char *p = order; *p; p++) {
			if (*p == 'o')
				probe_expect(&e, &open_t, SEC, PP_RESULT_SUCCESS, "");
			else if (*p == 'c')
				probe_expect(&e, &closed_t, SEC, PP_RESULT_FAILURE, refused);
			else
				probe_expect(&e, &hole_t, 100 * MS, PP_RESULT_FAILURE, timeout);
			/* One attempt at a time, each socket reset before the next: one socket. */
			assert_int_equal(t_count_fds(getpid()), with_ring + 1);
		}
	/*
	 * The reset's RST ended each handshake and TCP_DEFER_ACCEPT, set once, still held the last
	 * ACK back after every reset: the listener never got a connection to queue.
	 */
	assert_int_equal(accept4(open_fd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_int_equal(errno, EAGAIN);
	assert_nothing_left(open_port, 0);
	assert_nothing_left(closed_port, 0);
	/* Only the connection that fills the accept queue, both its ends. */
	assert_nothing_left(hole_port, 2);
	t_eng_free(&e);
	assert_int_equal(t_count_fds(getpid()), fds);
	close(conn);
	close(hole_fd);
	close(closed_fd);
	close(open_fd);
}

static void test_full_handshake_socket_completes_each_handshake(void **state)
{
	struct pp_probe_target t, plain;
	int port, lfd = t_tcp_listener(64, &port), fds = t_count_fds(getpid());
	const unsigned int n = 20;
	unsigned int accepted = 0;
	struct t_eng e;
	int with_ring;

	target_for(&t, port, true);
	target_for(&plain, port, false);
	eng_new(&e);
	with_ring = t_count_fds(getpid()); /* the loop's ring */
	for (unsigned int i = 0; i < n; i++) {
		probe_expect(&e, &t, SEC, PP_RESULT_SUCCESS, "");
		/* A socket without TCP_DEFER_ACCEPT of its own: nothing to accept from this one. */
		probe_expect(&e, &plain, SEC, PP_RESULT_SUCCESS, "");
	}
	/* Two kinds of socket, one each. */
	assert_int_equal(t_count_fds(getpid()), with_ring + 2);
	/* probe.podprobe.io/tcp-accept: one accepted connection per probe, then its RST. */
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			break;
		accepted++;
		close(c);
	}
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(accepted, n);
	assert_nothing_left(port, 0);
	t_eng_free(&e);
	assert_int_equal(t_count_fds(getpid()), fds);
	close(lfd);
}

/* <n> attempts on <t> at once, all of them answered and their sockets given back. */
static void round_of(struct t_eng *e, const struct pp_probe_target *t, unsigned int n)
{
	struct t_tally tally = {0};

	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pp_prober_start(e->pr, t, SEC, t_tally_done, &tally, NULL), 0);
	eng_wait(e, &tally, n);
	assert_int_equal(tally.n[PP_RESULT_SUCCESS], n);
}

static void test_pool_grows_to_attempts_in_flight_only(void **state)
{
	struct pp_probe_target t;
	int port, lfd = t_tcp_listener(256, &port), fds = t_count_fds(getpid());
	const unsigned int n = 100;
	struct t_eng e;
	int with_ring;

	target_for(&t, port, false);
	eng_new(&e);
	with_ring = t_count_fds(getpid()); /* the loop's ring */
	for (unsigned int r = 0; r < 3; r++) {
		round_of(&e, &t, n);
		/* The first round made the sockets; the next ones reuse them. */
		assert_int_equal(t_count_fds(getpid()), with_ring + (int)n);
	}
	assert_int_equal(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_nothing_left(port, 0);
	t_eng_free(&e);
	assert_int_equal(t_count_fds(getpid()), fds);
	close(lfd);
}

/*
 * pp_prober_run_expired() at <now> with nothing in flight (a trim's clock), then one turn of
 * the loop: the closes ride with its submission.
 */
static void trim_at(struct t_eng *e, pp_nsec now)
{
	pp_prober_run_expired(e->pr, now);
	assert_true(pp_loop_run_once(e->loop, pp_clock_now()) >= 0);
}

static void test_pool_trims_what_a_burst_left_idle(void **state)
{
	struct pp_probe_target t;
	int port, lfd = t_tcp_listener(1024, &port);
	pp_nsec now = pp_clock_now();
	struct rlimit old, lim;
	struct t_eng e;
	int with_ring;

	/* A pool of 300 needs a limit of 1,200 fds: it keeps to a quarter of it. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	if (lim.rlim_cur < 2048)
		lim.rlim_cur = lim.rlim_max < 2048 ? lim.rlim_max : 2048;
	if (lim.rlim_cur < 1200) {
		close(lfd);
		print_message("skipped: RLIMIT_NOFILE's hard limit %llu is below 1200\n",
			      (unsigned long long)lim.rlim_max);
		skip();
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	target_for(&t, port, false);
	eng_new(&e);
	with_ring = t_count_fds(getpid());
	/* A burst of 300 at once: a pooled socket each. */
	round_of(&e, &t, 300);
	assert_int_equal(t_count_fds(getpid()), with_ring + 300);
	/* The trim closes nothing that was in use at once since the last one. */
	trim_at(&e, now + PP_TCP_POOL_TRIM + SEC);
	assert_int_equal(t_count_fds(getpid()), with_ring + 300);
	/* A quieter stretch: 20 at a time, twice. The next trim comes a whole stretch later. */
	round_of(&e, &t, 20);
	round_of(&e, &t, 20);
	trim_at(&e, now + PP_TCP_POOL_TRIM + SEC + PP_TCP_POOL_TRIM / 2);
	assert_int_equal(t_count_fds(getpid()), with_ring + 300);
	trim_at(&e, now + 2 * (PP_TCP_POOL_TRIM + SEC));
	assert_int_equal(t_count_fds(getpid()), with_ring + 20);
	/* The next burst grows it again. */
	round_of(&e, &t, 50);
	assert_int_equal(t_count_fds(getpid()), with_ring + 50);
	assert_int_equal(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_nothing_left(port, 0);
	t_eng_free(&e);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	close(lfd);
}

static void test_free_with_attempts_connecting_leaves_no_fd(void **state)
{
	struct pp_probe_target hole_t, open_t;
	int hole_port, conn, hole_fd = t_tcp_blackhole(&hole_port, &conn);
	int open_port, open_fd = t_tcp_listener(64, &open_port);
	int fds = t_count_fds(getpid());
	struct t_tally tally = {0};
	struct t_eng e;
	int with_ring;

	target_for(&hole_t, hole_port, false);
	target_for(&open_t, open_port, false);
	eng_new(&e);
	with_ring = t_count_fds(getpid()); /* the loop's ring */
	/* Idle sockets in the pool... */
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(pp_prober_start(e.pr, &open_t, SEC, t_tally_done, &tally, NULL),
				 0);
	eng_wait(&e, &tally, 5);
	assert_int_equal(t_count_fds(getpid()), with_ring + 5);
	/* ...lent ones, whose connects are in flight (SYN-SENT)... */
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(
			pp_prober_start(e.pr, &hole_t, 5 * SEC, t_tally_done, &tally, NULL), 0);
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 20 * MS) >= 0);
	/* ...and resetting ones, given back by the cancelled attempts. */
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(pp_prober_start(e.pr, &open_t, SEC, t_tally_done, &tally, NULL),
				 0);
	t_eng_free(&e);
	/* No report from the attempts cancelled, and no fd, socket or SYN-SENT left. */
	assert_int_equal(tally.done, 5);
	assert_int_equal(t_count_fds(getpid()), fds);
	assert_nothing_left(hole_port, 2);
	assert_nothing_left(open_port, 0);
	close(conn);
	close(hole_fd);
	close(open_fd);
}

static void test_ipv6_sockets_have_a_pool_of_their_own(void **state)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(sa);
	struct pp_probe_target t6, t4;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), port, port4;
	int lfd4 = t_tcp_listener(64, &port4), with_ring;
	char refused[128];
	struct t_eng e;

	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		close(lfd4);
		print_message("skip: no ::1 here (%s)\n", strerror(errno));
		skip();
	}
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin6_port);
	memset(&t6, 0, sizeof(t6));
	t6.kind = PP_HANDLER_TCP_SOCKET;
	t6.host = "::1";
	assert_int_equal(pp_probe_target_resolve(&t6, "::1", port), 0);
	target_for(&t4, port4, false);
	eng_new(&e);
	with_ring = t_count_fds(getpid());
	for (unsigned int i = 0; i < 10; i++) {
		probe_expect(&e, &t6, SEC, PP_RESULT_SUCCESS, "");
		probe_expect(&e, &t4, SEC, PP_RESULT_SUCCESS, "");
	}
	assert_int_equal(t_count_fds(getpid()), with_ring + 2);
	assert_int_equal(accept4(fd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
	/* The v6 socket, reused, gets the refusal (brackets as Go prints them). */
	snprintf(refused, sizeof(refused), "dial tcp [::1]:%d: connect: connection refused", port);
	probe_expect(&e, &t6, SEC, PP_RESULT_FAILURE, refused);
	/* The same two sockets; the listener is gone. */
	assert_int_equal(t_count_fds(getpid()), with_ring + 1);
	assert_nothing_left(port, 0);
	t_eng_free(&e);
	close(lfd4);
}

/* An httpGet target <path> on 127.0.0.1:<port> (<https>). */
static void http_target(struct pp_probe_target *t, char *buf, size_t size, bool https, int port,
			const char *path)
{
	char url[256], err[256];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", https ? "https" : "http", port, path);
	assert_int_equal(pp_probe_parse_url(url, t, buf, size, err, sizeof(err)), 0);
}

static void test_http_reuses_pooled_sockets_and_keeps_verdicts(void **state)
{
	pid_t http_pid, tls_pid;
	int port, tls_port, fds, with_ring;
	struct pp_probe_target ok, redir, err500, tls;
	char b1[512], b2[512], b3[512], b4[512];
	struct t_eng e;

	http_pid = t_server_start((const char *const[]){ "fake-target", "--port=0", "--quiet", NULL },
				  &port);
	tls_pid = t_server_start(
		(const char *const[]){ "fake-target", "--port=0", "--tls", "--quiet", NULL }, &tls_port);
	fds = t_count_fds(getpid());
	http_target(&ok, b1, sizeof(b1), false, port, "/healthz");
	http_target(&redir, b2, sizeof(b2), false, port, "/redirect/3");
	http_target(&err500, b3, sizeof(b3), false, port, "/status/500");
	http_target(&tls, b4, sizeof(b4), true, tls_port, "/healthz");
	eng_new(&e);
	with_ring = t_count_fds(getpid()); /* the loop's ring */
	for (unsigned int i = 0; i < 10; i++) {
		probe_expect(&e, &ok, SEC, PP_RESULT_SUCCESS, "ok");
		/* Each hop gives its socket back (its reset in flight) and takes the other. */
		probe_expect(&e, &redir, SEC, PP_RESULT_SUCCESS, "ok");
		probe_expect(&e, &err500, SEC, PP_RESULT_FAILURE,
			     "HTTP probe failed with statuscode: 500");
		probe_expect(&e, &tls, SEC, PP_RESULT_SUCCESS, "ok");
	}
	/* Two sockets, reset and lent again by every attempt and every hop. */
	assert_int_equal(t_count_fds(getpid()), with_ring + 2);
	/* The resets answered every connection: nothing on either end, no TIME_WAIT. */
	assert_nothing_left(port, 0);
	assert_nothing_left(tls_port, 0);
	t_eng_free(&e);
	assert_int_equal(t_count_fds(getpid()), fds);
	t_server_stop(tls_pid);
	t_server_stop(http_pid);
}

/* This process's TCP client sockets (not listening) with and without TCP_DEFER_ACCEPT set. */
static void count_client_sockets(int *defer, int *plain)
{
	*defer = *plain = 0;
	for (int fd = 0; fd < 1024; fd++) {
		int v = 0, acc = 0;
		socklen_t len = sizeof(v), alen = sizeof(acc);

		if (getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) < 0 || acc)
			continue;
		if (v)
			(*defer)++;
		else
			(*plain)++;
	}
}

static void test_full_pool_of_idle_tcp_sockets_makes_room_for_http(void **state)
{
	struct rlimit old, low;
	struct pp_probe_target t, h;
	int lport, lfd = t_tcp_listener(64, &lport), hport, with_ring, defer, plain;
	pid_t http_pid;
	char buf[512];
	struct t_eng e;

	http_pid = t_server_start((const char *const[]){ "fake-target", "--port=0", "--quiet", NULL },
				  &hport);
	target_for(&t, lport, false);
	http_target(&h, buf, sizeof(buf), false, hport, "/healthz");
	/* A pool of 8: a quarter of this limit. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 32;
	assert_true(t_count_fds(getpid()) < 20);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	eng_new(&e);
	with_ring = t_count_fds(getpid());
	round_of(&e, &t, 8);
	assert_int_equal(t_count_fds(getpid()), with_ring + 8);
	count_client_sockets(&defer, &plain);
	assert_int_equal(defer, 8);
	assert_int_equal(plain, 0);
	/* The pool is full of idle tcpSocket sockets: httpGet's first takes the place of one. */
	for (unsigned int i = 0; i < 3; i++)
		probe_expect(&e, &h, SEC, PP_RESULT_SUCCESS, "ok");
	assert_int_equal(t_count_fds(getpid()), with_ring + 8);
	count_client_sockets(&defer, &plain);
	/* The next ones reuse that one (each waited for the resets to complete). */
	assert_int_equal(defer, 7);
	assert_int_equal(plain, 1);
	assert_nothing_left(hport, 0);
	t_eng_free(&e);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	t_server_stop(http_pid);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_one_socket_reused_keeps_every_verdict),
		T_TEST(test_full_handshake_socket_completes_each_handshake),
		T_TEST(test_pool_grows_to_attempts_in_flight_only),
		T_TEST(test_pool_trims_what_a_burst_left_idle),
		T_TEST(test_free_with_attempts_connecting_leaves_no_fd),
		T_TEST(test_ipv6_sockets_have_a_pool_of_their_own),
		T_TEST(test_http_reuses_pooled_sockets_and_keeps_verdicts),
		T_TEST(test_full_pool_of_idle_tcp_sockets_makes_room_for_http),
	};
	char out[64];

	if (t_system("command -v ss", out, sizeof(out)) != 0) {
		printf("skip: no ss(8) to look at the sockets left\n");
		return 77;
	}
	/* The pool is on by default; this environment must not turn it off. */
	unsetenv("PODPROBE_NO_TCP_POOL");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
