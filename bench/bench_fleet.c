// SPDX-License-Identifier: Apache-2.0
/*
 * bench_fleet: the targets of the benchmark scenarios (bench/scenarios.sh). One process, one
 * thread, one epoll loop serving N targets on consecutive loopback ports BASE..BASE+N-1:
 *
 *   tcp   listeners that accept and close (a half-open tcpSocket probe never reaches accept());
 *   http  `GET /healthz` -> 200 "ok" (other paths 404), HTTP/1.1 keep-alive unless the client
 *         says `Connection: close` (kubelet's transport does, DisableKeepAlives); a closing
 *         answer is followed by the fleet's FIN at once (shutdown), as Go's net/http server
 *         does, and the socket is closed on the client's FIN or RST.
 *
 * gRPC health targets are not served here: tools/grpc-health-server is one (nghttp2) target.
 *
 * Counting: per target the SYNs it receives, through an AF_PACKET socket on lo with a classic
 * BPF filter (TCP, dst 127.0.0.1, SYN without ACK, dst port in the range) — the only way to
 * count half-open probes — and the connections accepted, requests answered and 500s sent.
 * Retransmitted SYNs count again. The filter runs in the sender's softirq on loopback, so its
 * (small) cost lands on the prober like the listener's own SYN handling does.
 *
 * Faults, through a unix control socket (one command per connection, one line answered):
 *   close P        close the listener (SYNs get RST: connection refused)
 *   open P         listen again
 *   stall P        stop accepting: backlog 0 and one connection of the fleet's own parked in
 *                  the accept queue, so the queue is full and SYNs are dropped (timeout)
 *   status500 P    http: answer 500
 *   slow P MS      http: answer MS milliseconds late
 *   heal P         all of the above undone (open, accepting, 200, no delay)
 *   stats [P]      counters (totals, or of P), the fleet's CPU (getrusage) and RSS
 *   reset          zero the counters
 *   syncount off|on  stop or restart counting SYNs. The counter copies every SYN, even those
 *                  a real server never sees (a half-open probe's, or any to a closed port),
 *                  in the sender's context, and the fleet drains it every 5 ms, on loopback
 *                  maybe on the prober's CPU: detection turns it off, as nothing there reads
 *                  the counts, so that it times the prober and not the counter.
 * P is a port or a range A-B. Every answer is `ok t_ns=T ...` with T the CLOCK_MONOTONIC time
 * at which the fault had taken effect (after the last port of a range), or `err REASON`; a
 * fault's answer adds `t0_ns=T0`, the time before its first port (a fast prober may report the
 * range's first ports before T).
 *
 * Also a client and a line stamper, so scripts need neither socat nor a clock of their own:
 *   bench_fleet ctl PATH WORDS...   send one command, print the answer (exit 1 on err)
 *   bench_fleet stamp               copy stdin to stdout, each line prefixed by the
 *                                   CLOCK_MONOTONIC ns at which it was read
 *
 * Memory is bounded: N targets, at most --max-conns connections (more are closed at once and
 * counted as overflow), a 1 KiB request buffer each. SIGTERM/SIGINT: prints the final stats
 * line and exits 0. Loopback only.
 */
#include <arpa/inet.h>
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench_self.h"

#define REQ_MAX	  1024
#define CTL_MAX	  8
#define PKT_BATCH 64
/*
 * The SYN counter is drained every PKT_DRAIN_NS, not woken by epoll: a wake-up per SYN burst
 * would run in the sender's context (sock_def_readable -> ep_poll_callback -> try_to_wake_up
 * from packet_rcv) and be charged to the prober measured. Its 8 MiB receive buffer holds far
 * more than 5 ms of SYNs at 100k/s; drops are counted (pkt_drops) all the same.
 */
#define PKT_DRAIN_NS   5000000ULL
#define PKT_ROUNDS_MAX 1024
#define IDLE_NS	       (5ULL * 1000000000ULL) /* a connection idle this long is closed */

enum ev_kind { EV_LISTEN, EV_CONN, EV_CTL_LISTEN, EV_CTL, EV_SIG };

struct target {
	int fd;	  /* listener, -1 when closed */
	int park; /* stall: the fleet's own connection filling the accept queue */
	bool stalled;
	bool status500;
	unsigned int slow_ms;
	uint64_t syn, accepted, requests, resp500;
};

enum conn_state { C_FREE, C_READ, C_DELAY, C_DRAIN };

struct conn {
	int fd;
	uint32_t target;
	enum conn_state state;
	bool close_after;
	uint16_t len;
	uint64_t deadline; /* C_DELAY: when to answer; else idle limit */
	uint32_t heap_i;
	char buf[REQ_MAX];
};

struct ctl {
	int fd;
	size_t len;
	char buf[256];
};

static struct {
	unsigned int base, n, backlog, max_conns;
	const char *kind, *ctl_path;
	bool http;
} opts = {.base = 11000, .n = 1000, .backlog = 4096, .max_conns = 16384, .kind = "tcp"};

static struct target *targets;
static struct conn *conns;
static uint32_t *free_conns, n_free;
static uint32_t *heap, heap_n; /* delayed answers, min-heap on deadline */
static struct ctl ctls[CTL_MAX];
static int epfd, pktfd = -1;
static uint64_t conn_overflow, conns_open;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t ev_data(enum ev_kind k, uint32_t i)
{
	return (uint64_t)k << 32 | i;
}

static int ep_add(int fd, uint32_t events, enum ev_kind k, uint32_t i)
{
	struct epoll_event ev = {.events = events, .data.u64 = ev_data(k, i)};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static struct sockaddr_in lo_addr(unsigned int port)
{
	return (struct sockaddr_in){.sin_family = AF_INET,
				    .sin_port = htons((uint16_t)port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

static int listen_target(uint32_t i)
{
	struct sockaddr_in sa = lo_addr(opts.base + i);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, (int)opts.backlog) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = ep_add(fd, EPOLLIN, EV_LISTEN, i);
	if (err) {
		close(fd);
		return err;
	}
	targets[i].fd = fd;
	return 0;
}

/* ---- delayed answers: a binary min-heap of connection indices on their deadline ---------- */
static void heap_swap(uint32_t a, uint32_t b)
{
	uint32_t t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	conns[heap[a]].heap_i = a;
	conns[heap[b]].heap_i = b;
}

static void heap_up(uint32_t i)
{
	while (i && conns[heap[(i - 1) / 2]].deadline > conns[heap[i]].deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_n && conns[heap[l]].deadline < conns[heap[m]].deadline)
			m = l;
		if (r < heap_n && conns[heap[r]].deadline < conns[heap[m]].deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void heap_push(uint32_t c)
{
	conns[c].heap_i = heap_n;
	heap[heap_n++] = c;
	heap_up(heap_n - 1);
}

static void heap_remove(uint32_t c)
{
	uint32_t i = conns[c].heap_i;

	heap_swap(i, --heap_n);
	if (i < heap_n) {
		heap_down(i);
		heap_up(i);
	}
}

/* ---- connections ------------------------------------------------------------------------ */
static void conn_close(uint32_t c)
{
	if (conns[c].state == C_DELAY)
		heap_remove(c);
	close(conns[c].fd);
	conns[c].state = C_FREE;
	free_conns[n_free++] = c;
	conns_open--;
}

static void conn_answer(uint32_t c)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 2\r\n";
	static const char e500[] = "HTTP/1.1 500 Internal Server Error\r\n"
				   "Content-Type: text/plain\r\nContent-Length: 2\r\n";
	static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 2\r\n";
	struct conn *k = &conns[c];
	struct target *t = &targets[k->target];
	const char *head = ok, *body = "ok";
	char out[256];
	int n;

	if (strncmp(k->buf, "GET /healthz ", 13) && strncmp(k->buf, "GET /healthz?", 13)) {
		head = nf;
		body = "no";
	} else if (t->status500) {
		head = e500;
		body = "no";
		t->resp500++;
	}
	n = snprintf(out, sizeof(out), "%s%s\r\n%s", head,
		     k->close_after ? "Connection: close\r\n" : "", body);
	t->requests++;
	if (send(k->fd, out, (size_t)n, MSG_NOSIGNAL) != n) {
		conn_close(c);
		return;
	}
	k->len = 0;
	k->deadline = now_ns() + IDLE_NS;
	/* Closing answer: FIN now; close on the client's FIN or RST, bounded by IDLE_NS. */
	if (k->close_after)
		shutdown(k->fd, SHUT_WR);
	k->state = k->close_after ? C_DRAIN : C_READ;
}

/* A whole request in buf: answer it now or at its target's delay. */
static void conn_request(uint32_t c)
{
	struct conn *k = &conns[c];
	const char *p;

	k->close_after =
		!!strcasestr(k->buf, "\r\nConnection: close") ||
		((p = strstr(k->buf, " HTTP/1.0\r\n")) && !strcasestr(k->buf, "keep-alive"));
	if (targets[k->target].slow_ms) {
		k->state = C_DELAY;
		k->deadline = now_ns() + (uint64_t)targets[k->target].slow_ms * 1000000ULL;
		heap_push(c);
		return;
	}
	conn_answer(c);
}

static void conn_readable(uint32_t c)
{
	struct conn *k = &conns[c];

	for (;;) {
		char drain[512];
		ssize_t n;

		if (k->state != C_READ) {
			/* Delayed or draining: consume and look only for EOF. */
			n = recv(k->fd, drain, sizeof(drain), 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				conn_close(c);
				return;
			}
			if (n < 0)
				return;
			continue;
		}
		n = recv(k->fd, k->buf + k->len, REQ_MAX - 1 - k->len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n < 0)
			return;
		k->len += (uint16_t)n;
		k->buf[k->len] = '\0';
		if (strstr(k->buf, "\r\n\r\n")) {
			conn_request(c);
			if (k->state == C_FREE)
				return;
		} else if (k->len >= REQ_MAX - 1) {
			conn_close(c); /* too long for a probe */
			return;
		}
	}
}

static void accept_ready(uint32_t i)
{
	struct target *t = &targets[i];

	for (int burst = 0; burst < 64 && t->fd >= 0 && !t->stalled; burst++) {
		int fd = accept4(t->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint32_t c;

		if (fd < 0)
			return;
		t->accepted++;
		if (!opts.http) {
			close(fd);
			continue;
		}
		if (!n_free) {
			conn_overflow++;
			close(fd);
			continue;
		}
		c = free_conns[--n_free];
		conns[c] = (struct conn){
			.fd = fd, .target = i, .state = C_READ, .deadline = now_ns() + IDLE_NS};
		conns_open++;
		if (ep_add(fd, EPOLLIN | EPOLLRDHUP, EV_CONN, c) < 0) {
			conn_close(c);
			continue;
		}
	}
}

/* ---- SYN counter ------------------------------------------------------------------------ */
static int pkt_open(void)
{
	/* SOCK_DGRAM: the filter and recv see the IP header at offset 0. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 12),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 16), /* daddr */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, INADDR_LOOPBACK, 0, 10),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* fragment offset */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IHL * 4 */
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13), /* tcp flags */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TH_SYN | TH_ACK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_SYN, 0, 4),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2), /* dst port */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, opts.base, 0, 2),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, opts.base + opts.n, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 64),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)if_nametoindex("lo")};
	int fd, rcv = 8 << 20;

	/* Created with protocol 0 (no packets), filtered, then bound: nothing unfiltered queues. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

static uint64_t pkt_drops;

static void pkt_readable(void)
{
	static unsigned char bufs[PKT_BATCH][64];
	struct mmsghdr msgs[PKT_BATCH];
	struct iovec iov[PKT_BATCH];

	for (int round = 0; round < PKT_ROUNDS_MAX; round++) {
		int n;

		for (int i = 0; i < PKT_BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
			msgs[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		n = recvmmsg(pktfd, msgs, PKT_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			unsigned int ihl = (bufs[i][0] & 0xfu) * 4u, port;

			if (msgs[i].msg_len < ihl + 4)
				continue;
			port = (unsigned int)bufs[i][ihl + 2] << 8 | bufs[i][ihl + 3];
			if (port >= opts.base && port < opts.base + opts.n)
				targets[port - opts.base].syn++;
		}
		if (n < PKT_BATCH)
			return;
	}
}

static void pkt_stats(void)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* Reading resets the kernel's counters: accumulate. */
	if (pktfd >= 0 && !getsockopt(pktfd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		pkt_drops += st.tp_drops;
}

/* ---- faults and stats ------------------------------------------------------------------- */
static int do_close(uint32_t i)
{
	struct target *t = &targets[i];

	if (t->park >= 0) {
		close(t->park);
		t->park = -1;
	}
	t->stalled = false;
	if (t->fd >= 0) {
		close(t->fd); /* also drops what waits in its accept queue */
		t->fd = -1;
	}
	return 0;
}

static int do_open(uint32_t i)
{
	return targets[i].fd >= 0 ? 0 : listen_target(i);
}

static int do_stall(uint32_t i)
{
	struct target *t = &targets[i];
	struct sockaddr_in sa = lo_addr(opts.base + i);
	int fd;

	if (t->fd < 0 || t->stalled)
		return t->fd < 0 ? -ENOTCONN : 0;
	t->stalled = true;
	/* Out of the loop until healed: a level-triggered listener with a queued connection. */
	epoll_ctl(epfd, EPOLL_CTL_DEL, t->fd, NULL);
	/*
	 * listen() on a listening socket only changes its backlog. With 0, the queue is full
	 * once it holds one connection (sk_acceptq_is_full: more than sk_max_ack_backlog), and
	 * the listener then drops SYNs (tcp_conn_request), as a wedged server does. The one
	 * connection is ours, completed before connect() returns on loopback.
	 */
	if (listen(t->fd, 0) < 0)
		return -errno;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	t->park = fd;
	return 0;
}

static int do_heal(uint32_t i)
{
	struct target *t = &targets[i];
	int err;

	t->status500 = false;
	t->slow_ms = 0;
	if (t->stalled) {
		int fd;

		t->stalled = false;
		listen(t->fd, (int)opts.backlog);
		close(t->park);
		t->park = -1;
		while ((fd = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
		err = ep_add(t->fd, EPOLLIN, EV_LISTEN, i);
		if (err)
			return err;
	}
	err = do_open(i);
	return err;
}

static void stats_line(char *out, size_t size, uint32_t from, uint32_t to, uint64_t t)
{
	uint64_t syn = 0, acc = 0, req = 0, r500 = 0;

	pkt_readable(); /* the SYNs queued since the last drain count too */
	for (uint32_t i = from; i <= to; i++) {
		syn += targets[i].syn;
		acc += targets[i].accepted;
		req += targets[i].requests;
		r500 += targets[i].resp500;
	}
	pkt_stats();
	snprintf(out, size,
		 "ok t_ns=%llu kind=%s base=%u targets=%u syn=%llu accepted=%llu requests=%llu "
		 "status500=%llu conns_open=%llu conn_overflow=%llu pkt_drops=%llu cpu_s=%.3f "
		 "rss_kib=%ld\n",
		 (unsigned long long)t, opts.kind, opts.base + from, to - from + 1,
		 (unsigned long long)syn, (unsigned long long)acc, (unsigned long long)req,
		 (unsigned long long)r500, (unsigned long long)conns_open,
		 (unsigned long long)conn_overflow, (unsigned long long)pkt_drops,
		 bench_cpu_seconds(), bench_rss_kib());
}

/* "P" or "A-B" -> target indices; -ERANGE outside the fleet. */
static int parse_ports(const char *s, uint32_t *from, uint32_t *to)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b = a;

	if (end == s)
		return -EINVAL;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (*end || a < opts.base || b < a || b >= (unsigned long)opts.base + opts.n)
		return -ERANGE;
	*from = (uint32_t)(a - opts.base);
	*to = (uint32_t)(b - opts.base);
	return 0;
}

static void ctl_command(char *line, char *out, size_t size)
{
	char *save, *cmd = strtok_r(line, " \t\r", &save), *arg = strtok_r(NULL, " \t\r", &save);
	char *arg2 = strtok_r(NULL, " \t\r", &save);
	int (*fn)(uint32_t) = NULL;
	uint32_t from = 0, to = opts.n - 1;
	uint64_t t0;
	int err = 0;

	char word[32];

	snprintf(word, sizeof(word), " %s ", cmd ? cmd : "");
	if (!cmd || !strstr(" reset stats close open stall heal status500 slow syncount ", word)) {
		snprintf(out, size, "err unknown command '%s'\n", cmd ? cmd : "");
		return;
	}
	if (!strcmp(cmd, "reset")) {
		pkt_readable();
		for (uint32_t i = 0; i < opts.n; i++)
			targets[i].syn = targets[i].accepted = targets[i].requests =
				targets[i].resp500 = 0;
		pkt_stats();
		pkt_drops = conn_overflow = 0;
		snprintf(out, size, "ok t_ns=%llu\n", (unsigned long long)now_ns());
		return;
	}
	if (!strcmp(cmd, "syncount")) {
		bool on = arg && !strcmp(arg, "on");

		if (!arg || (!on && strcmp(arg, "off"))) {
			snprintf(out, size, "err syncount wants on or off\n");
			return;
		}
		if (!on && pktfd >= 0) {
			pkt_readable();
			pkt_stats();
			close(pktfd);
			pktfd = -1;
		} else if (on && pktfd < 0) {
			pktfd = pkt_open();
			if (pktfd < 0) {
				snprintf(out, size, "err syncount on: %s\n", strerror(-pktfd));
				return;
			}
		}
		snprintf(out, size, "ok t_ns=%llu\n", (unsigned long long)now_ns());
		return;
	}
	if (arg && parse_ports(arg, &from, &to) < 0) {
		snprintf(out, size, "err bad port '%s' (fleet: %u-%u)\n", arg, opts.base,
			 opts.base + opts.n - 1);
		return;
	}
	if (!strcmp(cmd, "stats")) {
		stats_line(out, size, from, to, now_ns());
		return;
	}
	if (!arg) {
		snprintf(out, size, "err %s needs a port\n", cmd);
		return;
	}
	if (!strcmp(cmd, "close")) {
		fn = do_close;
	} else if (!strcmp(cmd, "open")) {
		fn = do_open;
	} else if (!strcmp(cmd, "stall")) {
		fn = do_stall;
	} else if (!strcmp(cmd, "heal")) {
		fn = do_heal;
	} else if (!strcmp(cmd, "status500") || !strcmp(cmd, "slow")) {
		unsigned long ms = arg2 ? strtoul(arg2, NULL, 10) : 0;

		if (!opts.http) {
			snprintf(out, size, "err %s: not an http fleet\n", cmd);
			return;
		}
		if (cmd[1] == 'l' && (!ms || ms > 600000)) {
			snprintf(out, size, "err slow wants MS in 1..600000\n");
			return;
		}
		for (uint32_t i = from; i <= to; i++) {
			if (cmd[1] == 'l')
				targets[i].slow_ms = (unsigned int)ms;
			else
				targets[i].status500 = true;
		}
	} else {
		snprintf(out, size, "err unknown command '%s'\n", cmd);
		return;
	}
	t0 = now_ns();
	for (uint32_t i = from; fn && i <= to && !err; i++)
		err = fn(i);
	if (err)
		snprintf(out, size, "err %s %s: %s\n", cmd, arg, strerror(-err));
	else
		snprintf(out, size, "ok t_ns=%llu t0_ns=%llu\n", (unsigned long long)now_ns(),
			 (unsigned long long)t0);
}

static void ctl_readable(int slot)
{
	struct ctl *c = &ctls[slot];
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	char out[512], *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	}
	nl = strchr(c->buf, '\n');
	if (!nl && n > 0 && c->len < sizeof(c->buf) - 1)
		return;
	if (nl)
		*nl = '\0';
	ctl_command(c->buf, out, sizeof(out));
	send(c->fd, out, strlen(out), MSG_NOSIGNAL);
	close(c->fd);
	c->fd = -1;
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* ---- the loop --------------------------------------------------------------------------- */
static int serve(void)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	sigset_t mask;
	int sfd, cfd = -1, err;
	uint64_t next_sweep, next_drain;
	char out[512];

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((uint64_t)opts.n + (opts.http ? opts.max_conns : 0) + 64 > rl.rlim_cur) {
		fprintf(stderr, "bench_fleet: %u targets%s need more than RLIMIT_NOFILE %llu\n",
			opts.n, opts.http ? " and --max-conns" : "",
			(unsigned long long)rl.rlim_cur);
		return 1;
	}
	targets = calloc(opts.n, sizeof(*targets));
	if (opts.http) {
		conns = calloc(opts.max_conns, sizeof(*conns));
		free_conns = calloc(opts.max_conns, sizeof(*free_conns));
		heap = calloc(opts.max_conns, sizeof(*heap));
	}
	if (!targets || (opts.http && (!conns || !free_conns || !heap)))
		return 1;
	for (uint32_t c = opts.http ? opts.max_conns : 0; c-- > 0;)
		free_conns[n_free++] = c;
	for (int i = 0; i < CTL_MAX; i++)
		ctls[i].fd = -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (epfd < 0 || sfd < 0 || ep_add(sfd, EPOLLIN, EV_SIG, 0) < 0)
		return 1;
	for (uint32_t i = 0; i < opts.n; i++) {
		targets[i].park = -1;
		err = listen_target(i);
		if (err) {
			fprintf(stderr, "bench_fleet: listen 127.0.0.1:%u: %s\n", opts.base + i,
				strerror(-err));
			return 1;
		}
	}
	pktfd = pkt_open();
	if (pktfd < 0)
		fprintf(stderr, "bench_fleet: no SYN counter (AF_PACKET: %s; needs CAP_NET_RAW)\n",
			strerror(-pktfd));
	if (opts.ctl_path) {
		cfd = ctl_listen(opts.ctl_path);
		if (cfd < 0 || ep_add(cfd, EPOLLIN, EV_CTL_LISTEN, 0) < 0) {
			fprintf(stderr, "bench_fleet: control socket %s: %s\n", opts.ctl_path,
				strerror(cfd < 0 ? -cfd : errno));
			return 1;
		}
	}
	printf("fleet ready kind=%s base=%u targets=%u syn_counter=%s ctl=%s\n", opts.kind,
	       opts.base, opts.n, pktfd >= 0 ? "on" : "off", opts.ctl_path ? opts.ctl_path : "-");
	fflush(stdout);
	next_sweep = now_ns() + 1000000000ULL;
	next_drain = now_ns() + PKT_DRAIN_NS;
	for (;;) {
		uint64_t now = now_ns(), wake = next_sweep;
		int n, timeout;

		if (heap_n && conns[heap[0]].deadline < wake)
			wake = conns[heap[0]].deadline;
		if (pktfd >= 0 && next_drain < wake)
			wake = next_drain;
		timeout = wake <= now ? 0 : (int)((wake - now + 999999) / 1000000);
		n = epoll_wait(epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			return 1;
		for (int e = 0; e < n; e++) {
			enum ev_kind k = (enum ev_kind)(evs[e].data.u64 >> 32);
			uint32_t i = (uint32_t)evs[e].data.u64;

			switch (k) {
			case EV_LISTEN:
				accept_ready(i);
				break;
			case EV_CONN:
				if (conns[i].state != C_FREE)
					conn_readable(i);
				break;
			case EV_CTL_LISTEN:
				for (int s = 0; s < CTL_MAX; s++) {
					if (ctls[s].fd >= 0)
						continue;
					ctls[s].fd = accept4(cfd, NULL, NULL,
							     SOCK_NONBLOCK | SOCK_CLOEXEC);
					ctls[s].len = 0;
					if (ctls[s].fd >= 0 &&
					    ep_add(ctls[s].fd, EPOLLIN, EV_CTL, (uint32_t)s) < 0) {
						close(ctls[s].fd);
						ctls[s].fd = -1;
					}
					break;
				}
				break;
			case EV_CTL:
				if (ctls[i].fd >= 0)
					ctl_readable((int)i);
				break;
			case EV_SIG:
				stats_line(out, sizeof(out), 0, opts.n - 1, now_ns());
				printf("fleet exit %s", out + 3);
				fflush(stdout);
				if (opts.ctl_path)
					unlink(opts.ctl_path);
				return 0;
			}
		}
		now = now_ns();
		while (heap_n && conns[heap[0]].deadline <= now) {
			uint32_t c = heap[0];

			heap_remove(c);
			conns[c].state = C_READ; /* conn_answer sets the next state */
			conn_answer(c);
		}
		if (now >= next_drain) {
			if (pktfd >= 0)
				pkt_readable();
			next_drain = now + PKT_DRAIN_NS;
		}
		if (now >= next_sweep) {
			for (uint32_t c = 0; opts.http && c < opts.max_conns; c++)
				if ((conns[c].state == C_READ || conns[c].state == C_DRAIN) &&
				    conns[c].deadline <= now)
					conn_close(c);
			next_sweep = now + 1000000000ULL;
		}
	}
}

/* ---- client modes ----------------------------------------------------------------------- */
static int ctl_client(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[512] = "", buf[1024];
	size_t len = 0;
	ssize_t n;
	int fd;

	if (argc < 4 || strlen(argv[2]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: bench_fleet ctl PATH COMMAND [ARGS...]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[2]);
	for (int i = 3; i < argc; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i > 3 ? " " : "",
					argv[i]);
	if (len >= sizeof(line) - 1)
		return 2;
	line[len++] = '\n';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bench_fleet ctl: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (write(fd, line, len) != (ssize_t)len)
		return 1;
	len = 0;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	fputs(buf, stdout);
	return strncmp(buf, "ok", 2) ? 1 : 0;
}

static int stamp(void)
{
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;

	while ((n = read(0, buf + len, sizeof(buf) - len)) > 0) {
		uint64_t t = now_ns();
		char *p = buf, *nl;

		len += (size_t)n;
		while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
			printf("%llu %.*s\n", (unsigned long long)t, (int)(nl - p), p);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == sizeof(buf)) /* a line longer than the buffer: cut it */
			len = 0;
		fflush(stdout);
	}
	return 0;
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	char *end;
	unsigned long v;

	switch (key) {
	case 'b':
	case 'n':
	case 'B':
	case 'm':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || !v || v > 1000000)
			argp_error(state, "bad number '%s'", arg);
		if (key == 'b')
			opts.base = (unsigned int)v;
		else if (key == 'n')
			opts.n = (unsigned int)v;
		else if (key == 'B')
			opts.backlog = (unsigned int)v;
		else
			opts.max_conns = (unsigned int)v;
		break;
	case 'k':
		if (strcmp(arg, "tcp") && strcmp(arg, "http"))
			argp_error(state, "--kind is tcp or http");
		opts.kind = arg;
		opts.http = !strcmp(arg, "http");
		break;
	case 'c':
		opts.ctl_path = arg;
		break;
	case ARGP_KEY_END:
		if (opts.base + opts.n > 65536)
			argp_error(state, "ports past 65535");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{"base-port", 'b', "PORT", 0, "First port (default 11000)", 0},
		{"targets", 'n', "N", 0, "Targets on consecutive ports (default 1000)", 0},
		{"kind", 'k', "tcp|http", 0, "What every target serves (default tcp)", 0},
		{"ctl", 'c', "PATH", 0, "Unix control socket for faults and stats", 0},
		{"backlog", 'B', "N", 0, "listen() backlog (default 4096)", 0},
		{"max-conns", 'm', "N", 0, "http: connections at once (default 16384)", 0},
		{0},
	};
	static const struct argp argp = {
		options,
		parse,
		NULL,
		"Serve N loopback targets for the benchmarks, count the SYNs and requests each "
		"receives, inject faults through --ctl.\v"
		"Also: bench_fleet ctl PATH COMMAND [ARGS]   (close|open|stall|heal P, status500 "
		"P, "
		"slow P MS, stats [P], reset; P = PORT or A-B)\n"
		"      bench_fleet stamp   (prefix each stdin line with CLOCK_MONOTONIC ns)\n"
		"EXAMPLE:\n  bench_fleet -k http -b 21000 -n 5000 --ctl /tmp/fleet.sock",
		NULL,
		NULL,
		NULL,
	};

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_client(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "stamp"))
		return stamp();
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	return serve();
}
