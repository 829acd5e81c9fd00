// SPDX-License-Identifier: Apache-2.0
/*
 * tcpSocket by raw SYN (user/io/probe_syn.c) on 127.0.0.1: the same verdicts and messages as
 * connect() (success on a listener, "connection refused" on a closed port, "i/o timeout" on a
 * listener whose accept queue is full, so that the kernel drops the SYN), nothing left on the
 * target (no request sock waiting in SYN-RECV: the kernel answered the SYN-ACK with RST; no
 * TIME_WAIT; nothing to accept), the SYN retransmitted at 1 s as connect() does, forged
 * segments to the reserved ports ignored unless they acknowledge the attempt's ISN, late
 * replies to an attempt that timed out ignored and its source port not reused at once, an
 * ICMP error quoting the SYN ending it as tcp_v4_err ends a connect(), and the connect()
 * fallback without CAP_NET_RAW, for full_handshake targets and when turned off.
 * Needs root (CAP_NET_RAW); skips otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "integ/support/integ.h"
#include "podprobe/clock.h"
#include "podprobe/loop.h"
#include "podprobe/probe_once.h"
#include "podprobe/prober.h"

#define SEC PP_NSEC_PER_SEC
#define MS  PP_NSEC_PER_MSEC

/* Run until <t> has <n> reports (bounded by 10 s). */
static void eng_wait(struct t_eng *e, struct t_tally *t, unsigned int n)
{
	t_eng_wait(e, &t->done, n);
}

static void target_for(struct pp_probe_target *t, int port)
{
	memset(t, 0, sizeof(*t));
	t->kind = PP_HANDLER_TCP_SOCKET;
	t->host = "127.0.0.1";
	assert_int_equal(pp_probe_target_resolve(t, "127.0.0.1", port), 0);
}

/* Sockets on 127.0.0.1:<port> in TCP state <st> (/proc/net/tcp), the listener excluded. */
static int count_state(int port, unsigned int st)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/net/tcp", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned int la, lp, ra, rp, s;

		if (sscanf(line, " %*d: %x:%x %x:%x %x", &la, &lp, &ra, &rp, &s) != 5)
			continue;
		if (s == st && (lp == (unsigned int)port || rp == (unsigned int)port))
			n++;
	}
	fclose(f);
	return n;
}

#define TCP_ST_ESTABLISHED 0x01
#define TCP_ST_TIME_WAIT   0x06
#define TCP_ST_SYN_RECV	   0x03

static void test_success_leaves_nothing_on_the_target(void **state)
{
	struct pp_probe_target t;
	struct t_tally tally = {0};
	struct t_eng e;
	int port, lfd = t_tcp_listener(64, &port);
	const unsigned int n = 200;

	target_for(&t, port);
	t_eng_new(&e, true);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(pp_prober_start(e.pr, &t, SEC, t_tally_done, &tally, NULL), 0);
	eng_wait(&e, &tally, n);
	assert_int_equal(tally.n[PP_RESULT_SUCCESS], n);
	assert_string_equal(tally.msg, "");
	/* Every one went as a raw SYN, none by connect(). */
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn, n);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn_fallbacks, 0);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn_sent, n);
	/*
	 * The kernel answered each SYN-ACK with RST: without it the listener would keep n request
	 * socks in SYN-RECV (retransmitting SYN-ACKs for a minute). Nothing completed the
	 * handshake (nothing to accept, nothing established), nothing is in TIME_WAIT.
	 */
	assert_int_equal(count_state(port, TCP_ST_SYN_RECV), 0);
	assert_int_equal(count_state(port, TCP_ST_ESTABLISHED), 0);
	assert_int_equal(count_state(port, TCP_ST_TIME_WAIT), 0);
	assert_int_equal(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_int_equal(errno, EAGAIN);
	t_eng_free(&e);
	close(lfd);
}

/* One attempt on <port> with <timeout>, by raw SYN or connect(); the report's text. */
static void probe_one(int port, bool raw, pp_nsec timeout, struct t_tally *tally, uint64_t *ret_raw,
		      uint64_t *ret_sent)
{
	struct pp_probe_target t;
	struct t_eng e;

	target_for(&t, port);
	t_eng_new(&e, raw);
	assert_int_equal(pp_prober_start(e.pr, &t, timeout, t_tally_done, tally, NULL), 0);
	eng_wait(&e, tally, 1);
	*ret_raw = pp_prober_stats(e.pr)->raw_syn;
	*ret_sent = pp_prober_stats(e.pr)->raw_syn_sent;
	t_eng_free(&e);
}

static void test_closed_port_is_refused_as_connect_says(void **state)
{
	struct t_tally raw = {0}, conn = {0};
	uint64_t n_raw, sent;
	char want[128];
	int port, lfd = t_tcp_listener(1, &port);

	close(lfd); /* nobody listens there now */
	probe_one(port, true, SEC, &raw, &n_raw, &sent);
	assert_int_equal(n_raw, 1);
	probe_one(port, false, SEC, &conn, &n_raw, &sent);
	assert_int_equal(n_raw, 0);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
	assert_int_equal(raw.n[PP_RESULT_FAILURE], 1);
	assert_string_equal(raw.msg, want);
	assert_string_equal(conn.msg, want);
}

static void test_dropped_syn_times_out_with_a_retransmission(void **state)
{
	struct t_tally raw = {0}, conn = {0};
	uint64_t n_raw, sent;
	char want[128];
	int port, c, lfd = t_tcp_blackhole(&port, &c);
	uint64_t t0 = t_now_ms();

	/* 1.5 s: connect() sends the SYN again at 1 s (TCP_TIMEOUT_INIT); so does the raw path. */
	probe_one(port, true, 1500 * MS, &raw, &n_raw, &sent);
	assert_true(t_now_ms() - t0 >= 1500);
	assert_int_equal(n_raw, 1);
	assert_int_equal(sent, 2);
	probe_one(port, false, 300 * MS, &conn, &n_raw, &sent);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
	assert_int_equal(raw.n[PP_RESULT_FAILURE], 1);
	assert_string_equal(raw.msg, want);
	assert_string_equal(conn.msg, want);
	close(c);
	close(lfd);
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A segment from 127.0.0.1:<sport> to 127.0.0.1:<dport> with <flags> and ack <ack>. */
static void forge(int raw, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t ack)
{
	uint8_t pkt[40] = {0}, pseudo[32];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct tcphdr *th = (struct tcphdr *)(pkt + 20);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint32_t sum = 0;

	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = ip->daddr = htonl(INADDR_LOOPBACK);
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(12345);
	th->ack_seq = htonl(ack);
	th->doff = 5;
	((uint8_t *)th)[13] = flags;
	th->window = htons(1000);
	memcpy(pseudo, &ip->saddr, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	for (size_t i = 0; i < 12; i += 2)
		sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
	th->check = htons(csum(th, 20, sum));
	assert_int_equal(sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)), 40);
}

/* ICMP host unreachable from 127.0.0.1 quoting a SYN <sport> -> <dport> with <isn>. */
static void forge_icmp_unreach(int raw, uint16_t sport, uint16_t dport, uint32_t isn)
{
	uint8_t pkt[56] = {0};
	struct iphdr *ip = (struct iphdr *)pkt, *in = (struct iphdr *)(pkt + 28);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint8_t *ic = pkt + 20, *q = pkt + 48;
	uint16_t c;

	ip->version = in->version = 4;
	ip->ihl = in->ihl = 5;
	ip->tot_len = htons(sizeof(pkt));
	in->tot_len = htons(44);
	ip->ttl = in->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	in->protocol = IPPROTO_TCP;
	ip->saddr = ip->daddr = in->saddr = in->daddr = htonl(INADDR_LOOPBACK);
	ic[0] = 3; /* ICMP_DEST_UNREACH */
	ic[1] = 1; /* ICMP_HOST_UNREACH */
	sport = htons(sport);
	dport = htons(dport);
	isn = htonl(isn);
	memcpy(q, &sport, 2);
	memcpy(q + 2, &dport, 2);
	memcpy(q + 4, &isn, 4);
	c = htons(csum(ic, 36, 0));
	memcpy(ic + 2, &c, 2);
	assert_int_equal(sendto(raw, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(pkt));
}

static void test_forged_replies_to_reserved_ports_are_ignored(void **state)
{
	struct pp_probe_target t;
	struct t_tally tally = {0};
	struct t_eng e;
	unsigned int lo, hi, n;
	char want[128];
	int port, c, lfd = t_tcp_blackhole(&port, &c);
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	assert_true(raw >= 0);
	target_for(&t, port);
	t_eng_new(&e, true);
	assert_int_equal(pp_prober_start(e.pr, &t, 800 * MS, t_tally_done, &tally, NULL), 0);
	/* One pass sends the SYN (the listener drops it). */
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 50 * MS) >= 0);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn_sent, 1);
	assert_true(pp_prober_raw_syn_ports(e.pr, &lo, &hi, &n));
	assert_true(n > 0 && lo <= hi);
	/*
	 * From the target's address and port to every reserved port: RSTs and SYN-ACKs whose ack
	 * numbers are not our ISN + 1, RSTs without ACK, and a SYN-ACK from another source port.
	 */
	for (unsigned int p = lo; p <= hi; p++) {
		uint32_t r[2];

		assert_int_equal(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
		forge(raw, (uint16_t)port, (uint16_t)p, TH_RST | TH_ACK, r[0]);
		forge(raw, (uint16_t)port, (uint16_t)p, TH_SYN | TH_ACK, r[1]);
		forge(raw, (uint16_t)port, (uint16_t)p, TH_RST, 0);
		forge(raw, (uint16_t)(port ^ 1), (uint16_t)p, TH_SYN | TH_ACK, r[1]);
		if ((p - lo) % 256 == 255)
			assert_true(pp_loop_run_once(e.loop, pp_clock_now()) >= 0);
	}
	eng_wait(&e, &tally, 1);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
	assert_int_equal(tally.n[PP_RESULT_FAILURE], 1);
	assert_string_equal(tally.msg, want);
	t_eng_free(&e);
	close(raw);
	close(c);
	close(lfd);
}

/* A packet socket on lo that sees every IPv4 packet (to read our SYNs off the wire). */
static int capture_open(void)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = (int)if_nametoindex("lo")};
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP));

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ll, sizeof(ll)), 0);
	return fd;
}

/* The next SYN to 127.0.0.1:<port> from a port in [lo, hi]: its source port and ISN. */
static void capture_syn(int fd, int port, unsigned int lo, unsigned int hi, uint16_t *ret_sport,
			uint32_t *ret_isn)
{
	uint64_t until = t_now_ms() + 2000;
	uint8_t pkt[256];

	while (t_now_ms() < until) {
		struct pollfd pfd = {fd, POLLIN, 0};
		const struct tcphdr *th;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(fd, pkt, sizeof(pkt), 0);
		if (n < 40 || pkt[9] != IPPROTO_TCP)
			continue;
		th = (const struct tcphdr *)(pkt + (pkt[0] & 0xf) * 4);
		if (ntohs(th->dest) != port || !th->syn || th->ack || ntohs(th->source) < lo ||
		    ntohs(th->source) > hi)
			continue;
		*ret_sport = ntohs(th->source);
		*ret_isn = ntohl(th->seq);
		return;
	}
	fail_msg("no SYN to port %d seen", port);
}

static void test_stale_replies_are_ignored_and_icmp_errors_count(void **state)
{
	struct pp_probe_target t;
	struct t_tally a = {0}, b = {0}, c = {0};
	struct t_eng e;
	unsigned int lo, hi, n;
	uint16_t sport_a, sport_b, sport_c;
	uint32_t isn_a, isn_b, isn_c;
	char want[128];
	int port, conn, lfd = t_tcp_blackhole(&port, &conn);
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), cap = capture_open();

	assert_true(raw >= 0);
	target_for(&t, port);
	t_eng_new(&e, true);
	/* A: its SYN is dropped; it times out. */
	assert_int_equal(pp_prober_start(e.pr, &t, 200 * MS, t_tally_done, &a, NULL), 0);
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 20 * MS) >= 0);
	assert_true(pp_prober_raw_syn_ports(e.pr, &lo, &hi, &n));
	capture_syn(cap, port, lo, hi, &sport_a, &isn_a);
	eng_wait(&e, &a, 1);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
	assert_string_equal(a.msg, want);
	/* B: a reply that acknowledges its ISN is believed (the forgery below is a real one). */
	assert_int_equal(pp_prober_start(e.pr, &t, 2 * SEC, t_tally_done, &b, NULL), 0);
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 20 * MS) >= 0);
	capture_syn(cap, port, lo, hi, &sport_b, &isn_b);
	/* A's 4-tuple rests after its timeout: B got another source port. */
	assert_int_not_equal(sport_b, sport_a);
	forge(raw, (uint16_t)port, sport_b, TH_RST | TH_ACK, isn_b + 1);
	eng_wait(&e, &b, 1);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
	assert_string_equal(b.msg, want);
	/* C waits; A's late answers (right ack, right ports) reach nobody. */
	assert_int_equal(pp_prober_start(e.pr, &t, 300 * MS, t_tally_done, &c, NULL), 0);
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 20 * MS) >= 0);
	capture_syn(cap, port, lo, hi, &sport_c, &isn_c);
	assert_int_not_equal(sport_c, sport_a);
	forge(raw, (uint16_t)port, sport_a, TH_SYN | TH_ACK, isn_a + 1);
	forge(raw, (uint16_t)port, sport_a, TH_RST | TH_ACK, isn_a + 1);
	eng_wait(&e, &c, 1);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
	assert_string_equal(c.msg, want);
	assert_int_equal(a.done, 1);
	assert_int_equal(pp_prober_stats(e.pr)->results[PP_RESULT_SUCCESS], 0);
	/* D: an ICMP error quoting its SYN ends it as tcp_v4_err ends a connect(). */
	memset(&c, 0, sizeof(c));
	assert_int_equal(pp_prober_start(e.pr, &t, 2 * SEC, t_tally_done, &c, NULL), 0);
	assert_true(pp_loop_run_once(e.loop, pp_clock_now() + 20 * MS) >= 0);
	capture_syn(cap, port, lo, hi, &sport_c, &isn_c);
	forge_icmp_unreach(raw, sport_c, (uint16_t)port, isn_c + 1); /* not our SYN's */
	forge_icmp_unreach(raw, sport_c, (uint16_t)port, isn_c);
	eng_wait(&e, &c, 1);
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: no route to host", port);
	assert_string_equal(c.msg, want);
	t_eng_free(&e);
	close(cap);
	close(raw);
	close(conn);
	close(lfd);
}

static void test_full_handshake_and_switch_take_connect(void **state)
{
	struct pp_probe_target t;
	struct t_tally tally = {0};
	struct t_eng e;
	int port, lfd = t_tcp_listener(16, &port), cfd;
	struct pollfd pfd;

	target_for(&t, port);
	/* probe.podprobe.io/tcp-accept: only a real socket completes the handshake. */
	t.full_handshake = true;
	t_eng_new(&e, true);
	assert_int_equal(pp_prober_start(e.pr, &t, SEC, t_tally_done, &tally, NULL), 0);
	eng_wait(&e, &tally, 1);
	assert_int_equal(tally.n[PP_RESULT_SUCCESS], 1);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn, 0);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn_fallbacks, 1);
	t_eng_free(&e);
	pfd = (struct pollfd){lfd, POLLIN, 0};
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	close(cfd);
	/* Turned off: connect(), and that is not a fallback. */
	t.full_handshake = false;
	t_eng_new(&e, false);
	assert_int_equal(pp_prober_start(e.pr, &t, SEC, t_tally_done, &tally, NULL), 0);
	eng_wait(&e, &tally, 2);
	assert_int_equal(tally.n[PP_RESULT_SUCCESS], 2);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn, 0);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn_fallbacks, 0);
	t_eng_free(&e);
	/* PODPROBE_NO_RAW_SYN=1 turns it off for new probers. */
	setenv("PODPROBE_NO_RAW_SYN", "1", 1);
	assert_int_equal(pp_loop_new(64, &e.loop), 0);
	assert_int_equal(pp_prober_new(e.loop, &e.pr), 0);
	unsetenv("PODPROBE_NO_RAW_SYN");
	assert_int_equal(pp_prober_start(e.pr, &t, SEC, t_tally_done, &tally, NULL), 0);
	eng_wait(&e, &tally, 3);
	assert_int_equal(tally.n[PP_RESULT_SUCCESS], 3);
	assert_int_equal(pp_prober_stats(e.pr)->raw_syn, 0);
	t_eng_free(&e);
	close(lfd);
}

/* Drop CAP_NET_RAW from this process's effective and permitted sets. */
static int drop_net_raw(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	d[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
	d[CAP_NET_RAW / 32].inheritable &= ~(1u << (CAP_NET_RAW % 32));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static void test_without_cap_net_raw_it_connects_and_says_why(void **state)
{
	int port, lfd = t_tcp_listener(16, &port), errp[2], status;
	char err[4096] = "";
	ssize_t len = 0, r;
	pid_t pid;

	assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pp_probe_target t;
		struct t_tally tally = {0};
		struct t_eng e;

		dup2(errp[1], 2);
		if (drop_net_raw() < 0)
			_exit(10);
		target_for(&t, port);
		t_eng_new(&e, true);
		for (int i = 0; i < 3; i++)
			if (pp_prober_start(e.pr, &t, SEC, t_tally_done, &tally, NULL) < 0)
				_exit(11);
		eng_wait(&e, &tally, 3);
		if (tally.n[PP_RESULT_SUCCESS] != 3)
			_exit(12);
		if (pp_prober_stats(e.pr)->raw_syn != 0 ||
		    pp_prober_stats(e.pr)->raw_syn_fallbacks != 3)
			_exit(13);
		t_eng_free(&e);
		_exit(0);
	}
	close(errp[1]);
	while (len < (ssize_t)sizeof(err) - 1 &&
	       (r = read(errp[0], err + len, sizeof(err) - 1 - (size_t)len)) > 0)
		len += r;
	err[len] = '\0';
	close(errp[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("child: status %d, stderr \"%s\"", status, err);
	/* One line, once, with the reason. */
	assert_non_null(strstr(err, "not raw SYN: socket(AF_INET, SOCK_RAW, IPPROTO_RAW): "
				    "operation not permitted"));
	assert_null(strstr(strstr(err, "not raw SYN") + 1, "not raw SYN"));
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_success_leaves_nothing_on_the_target),
		T_TEST(test_closed_port_is_refused_as_connect_says),
		T_TEST(test_dropped_syn_times_out_with_a_retransmission),
		T_TEST(test_forged_replies_to_reserved_ports_are_ignored),
		T_TEST(test_stale_replies_are_ignored_and_icmp_errors_count),
		T_TEST(test_full_handshake_and_switch_take_connect),
		T_TEST(test_without_cap_net_raw_it_connects_and_says_why),
	};
	int fd;

	if (geteuid() != 0) {
		printf("skip: raw SYN probes need root (CAP_NET_RAW)\n");
		return 77;
	}
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		printf("skip: no raw socket here (%s)\n", strerror(errno));
		return 77;
	}
	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
