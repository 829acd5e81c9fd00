// SPDX-License-Identifier: Apache-2.0
/*
 * tcpSocket without a socket per probe: a stateless SYN prober. Each attempt is one hand-built
 * SYN from a source port of podprobe's own range, sent on an IPPROTO_RAW socket (through the
 * netfilter OUTPUT hooks and conntrack, as a connect() is), and the reply is read on an
 * AF_PACKET socket whose classic BPF filter keeps only TCP segments to that range (and ICMP
 * destination-unreachable errors). The verdict is connect()'s (net/ipv4/tcp_input.c,
 * tcp_rcv_synsent_state_process; tcp_ipv4.c, tcp_v4_err): a SYN-ACK acknowledging our ISN is
 * success, a RST acknowledging it is "connection refused", an ICMP unreachable quoting our
 * SYN is the errno tcp_v4_err would set, and nothing by the timeout is the dial's i/o
 * timeout. The SYN is retransmitted on the kernel's schedule (TCP_TIMEOUT_INIT 1 s, doubling,
 * tcp_syn_retries 6) while the timeout allows. No socket owns the source port, so the kernel
 * answers the SYN-ACK with RST itself (tcp_v4_rcv: no socket -> tcp_v4_send_reset): the
 * server drops its request sock and never gets a connection to accept; nothing is left in
 * TIME_WAIT on either side.
 *
 * Source ports: a pool of ports outside net.ipv4.ip_local_port_range, each held by a TCP
 * socket that is bound (to the wildcard address, without SO_REUSEADDR) and never listens. A
 * port in a bind bucket is skipped by connect()'s port search (__inet_hash_connect: buckets
 * made by bind() have fastreuse >= 0) and by bind(0), and any other bind() of it fails, so
 * the kernel never hands it to a real socket; a non-listening socket is in no lookup table an
 * incoming segment reaches, so SYN-ACKs still meet "no socket" and the kernel's RST. Ports in
 * use by someone else are skipped; several podprobe engines (or processes) end up with
 * disjoint pools. Nothing global changes (ip_local_reserved_ports is a netns-wide setting
 * other software may own, and it outlives a crash); the pool goes when the sockets close,
 * also when the process dies. The pool grows on demand up to SYN_PORTS_MAX.
 *
 * Matching: a flow is (our port, target address, target port) with a random ISN; a reply
 * counts only when its addresses and ports are the flow's and its ack number is ISN + 1 (an
 * ICMP error must quote the SYN's sequence number). A flow outlives its attempt: the 4-tuple
 * is not reused until SYN_HOLD after an answer (the kernel has sent the RST before we read
 * the SYN-ACK) or SYN_HOLD_TIMEOUT after an attempt that got no answer (late replies then
 * meet a flow with no attempt and are dropped).
 *
 * Sends are batched: an attempt queues its SYN and the first of a batch arms a poll for
 * POLLOUT on the raw socket, which completes at the next submission; its callback sends the
 * whole batch with sendmmsg() and reads the replies loopback has already delivered. Replies
 * that come later wake the loop through a poll on the packet socket. The sends are
 * synchronous and the polls touch no memory: the io_uring ownership rule holds trivially.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "prober_int.h"

#define SYN_PORTS_CHUNK	 128  /* ports bound at a time */
#define SYN_PORTS_MAX	 4096 /* the most one engine holds */
#define SYN_HOLD	 (250 * PP_NSEC_PER_MSEC)
#define SYN_HOLD_TIMEOUT PP_NSEC_PER_SEC
#define SYN_BUCKETS	 8192
#define SYN_BATCH	 128
#define SYN_SNAP	 128  /* bytes of a reply kept: IP + TCP headers, or ICMP + quoted header */
#define SYN_ROUTE_SETS	 1024 /* x SYN_ROUTE_WAYS source addresses cached */
#define SYN_ROUTE_WAYS	 4
#define SYN_ROUTE_TTL	 (10 * PP_NSEC_PER_SEC)
#define SYN_PKT_LEN	 44  /* IPv4 20 + TCP 20 + MSS option 4 */
#define SYN_RETRIES	 6   /* net.ipv4.tcp_syn_retries default */
#define RING_FRAME	 256 /* TPACKET_V2 header, sockaddr_ll and SYN_SNAP bytes fit */
#define RING_BLOCK	 4096
#define RING_BLOCKS	 256 /* 4096 frames: a batch's replies with room to spare */
#define NONE		 UINT32_MAX

/* ISNs drawn per getrandom(): one call per 1,024 SYNs (64 cost ~0.6% of a run's CPU at 5k/s) */
#define ISN_POOL 1024

struct flow {
	uint32_t hnext; /* hash chain */
	uint32_t qnext; /* hold queue, or free list */
	struct attempt *a;
	uint32_t a_gen;
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport; /* network order */
	uint32_t isn;
	pp_nsec free_at;
	uint8_t retries;
	bool answered;
	bool queued; /* in the send batch */
	bool hashed;
	uint8_t pkt[SYN_PKT_LEN];
};

struct hold_queue {
	uint32_t head, tail;
};

struct route {
	uint32_t daddr, saddr;
	pp_nsec until;
	int err;
};

struct pp_syn {
	struct pp_loop *loop;
	int raw_fd, pkt_fd, udp_fd;
	uint64_t tx_poll, rx_poll; /* 0 = none armed */
	uint16_t *ports;	   /* host order */
	int *holders;
	unsigned int n_ports, cursor;
	unsigned int next_cand; /* next candidate port to bind */
	unsigned int cand_lo, cand_hi;
	bool ports_exhausted;
	uint16_t port_min, port_max;
	struct flow *flows;
	uint32_t n_flows, free_flow;
	uint32_t buckets[SYN_BUCKETS];
	struct hold_queue hold_short, hold_long;
	uint32_t *batch;
	unsigned int n_batch, batch_cap;
	struct route routes[SYN_ROUTE_SETS][SYN_ROUTE_WAYS];
	uint64_t *n_sent;	/* the prober's count of SYNs sent */
	unsigned int n_waiting; /* flows whose attempt waits for its reply */
	bool flushing;		/* inside tx_flush: it sends what is added meanwhile */
	/* random ISNs, refilled by one getrandom() */
	uint32_t isn_pool[ISN_POOL];
	unsigned int isn_left;
	uint8_t *ring; /* TPACKET_V2 receive ring, NULL = recvmmsg() */
	unsigned int ring_head;
	uint8_t rx[SYN_BATCH][SYN_SNAP];
};

static uint32_t flow_hash(uint16_t sport, uint32_t daddr, uint16_t dport)
{
	uint32_t h = daddr ^ ((uint32_t)sport << 16 | dport) * 2654435761u;

	/* murmur3's finaliser: every input bit reaches the bucket bits */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & (SYN_BUCKETS - 1);
}

static struct flow *flow_find(struct pp_syn *s, uint16_t sport, uint32_t daddr, uint16_t dport)
{
	for (uint32_t i = s->buckets[flow_hash(sport, daddr, dport)]; i != NONE;
	     i = s->flows[i].hnext) {
		struct flow *f = &s->flows[i];

		if (f->sport == sport && f->daddr == daddr && f->dport == dport)
			return f;
	}
	return NULL;
}

static void flow_unhash(struct pp_syn *s, uint32_t idx)
{
	struct flow *f = &s->flows[idx];
	uint32_t *pp = &s->buckets[flow_hash(f->sport, f->daddr, f->dport)];

	while (*pp != NONE && *pp != idx)
		pp = &s->flows[*pp].hnext;
	if (*pp == idx)
		*pp = f->hnext;
	f->hashed = false;
}

/* Give the 4-tuples whose hold has passed back. */
static void hold_sweep(struct pp_syn *s, struct hold_queue *q, pp_nsec now)
{
	while (q->head != NONE && s->flows[q->head].free_at <= now) {
		uint32_t idx = q->head;
		struct flow *f = &s->flows[idx];

		q->head = f->qnext;
		if (q->head == NONE)
			q->tail = NONE;
		flow_unhash(s, idx);
		f->qnext = s->free_flow;
		s->free_flow = idx;
	}
}

static void hold_push(struct pp_syn *s, struct hold_queue *q, uint32_t idx)
{
	s->flows[idx].qnext = NONE;
	if (q->tail == NONE)
		q->head = idx;
	else
		s->flows[q->tail].qnext = idx;
	q->tail = idx;
}

static int flow_alloc(struct pp_syn *s, uint32_t *ret)
{
	if (s->free_flow == NONE) {
		uint32_t n = s->n_flows ? 2 * s->n_flows : 256;
		struct flow *f = realloc(s->flows, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		s->flows = f;
		for (uint32_t i = s->n_flows; i < n; i++)
			f[i].qnext = i + 1 < n ? i + 1 : NONE;
		s->free_flow = s->n_flows;
		s->n_flows = n;
	}
	*ret = s->free_flow;
	s->free_flow = s->flows[*ret].qnext;
	return 0;
}

/* ---- source ports ------------------------------------------------------------------------ */

/*
 * Candidates: PODPROBE_RAW_SYN_PORTS=LO-HI, else above net.ipv4.ip_local_port_range (from
 * 65535 down: the ports servers least often use), or below it when there is little room.
 */
static void ports_range(struct pp_syn *s)
{
	unsigned int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	/* An operator who knows which ports are free may name them. */
	if (getenv("PODPROBE_RAW_SYN_PORTS") &&
	    sscanf(getenv("PODPROBE_RAW_SYN_PORTS"), "%u-%u", &lo, &hi) == 2 && lo >= 1 &&
	    lo <= hi && hi <= 65535) {
		s->cand_lo = lo;
		s->cand_hi = hi;
	} else if (hi < 65535 && 65535 - hi >= 1024) {
		s->cand_lo = hi + 1;
		s->cand_hi = 65535;
	} else {
		s->cand_lo = 1024;
		s->cand_hi = lo > 1024 ? lo - 1 : 1024;
	}
	s->next_cand = s->cand_hi;
}

static int filter_set(struct pp_syn *s);

/* Bind up to <want> more placeholder sockets; returns how many were added, or -errno. */
static int ports_grow(struct pp_syn *s, unsigned int want)
{
	unsigned int added = 0;
	int err = 0;

	if (s->ports_exhausted || s->n_ports >= SYN_PORTS_MAX)
		return 0;
	if (!s->ports) {
		s->ports = calloc(SYN_PORTS_MAX, sizeof(*s->ports));
		s->holders = calloc(SYN_PORTS_MAX, sizeof(*s->holders));
		if (!s->ports || !s->holders)
			return -ENOMEM;
	}
	while (added < want && s->n_ports < SYN_PORTS_MAX) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = INADDR_ANY};
		unsigned int p = s->next_cand;
		int fd;

		if (p < s->cand_lo) {
			s->ports_exhausted = true;
			break;
		}
		s->next_cand--;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			s->next_cand++;
			break;
		}
		sa.sin_port = htons((uint16_t)p);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			/* Someone else's port: skip it. */
			close(fd);
			continue;
		}
		s->ports[s->n_ports] = (uint16_t)p;
		s->holders[s->n_ports++] = fd;
		if (!s->port_min || p < s->port_min)
			s->port_min = (uint16_t)p;
		if (p > s->port_max)
			s->port_max = (uint16_t)p;
		added++;
	}
	if (added && filter_set(s) < 0)
		return -errno;
	return added ? (int)added : err;
}

/* ---- packets ------------------------------------------------------------------------------- */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build_syn(struct flow *f)
{
	struct iphdr *ip = (struct iphdr *)f->pkt;
	struct tcphdr *th = (struct tcphdr *)(f->pkt + sizeof(*ip));
	uint8_t *opt = f->pkt + sizeof(*ip) + sizeof(*th);
	uint8_t pseudo[12];
	uint32_t sum;

	memset(f->pkt, 0, sizeof(f->pkt));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(SYN_PKT_LEN);
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	/* id 0 and check 0: the kernel fills both in (raw_send_hdrinc). */
	ip->saddr = f->saddr;
	ip->daddr = f->daddr;
	th->source = f->sport;
	th->dest = f->dport;
	th->seq = htonl(f->isn);
	th->doff = 6;
	th->syn = 1;
	th->window = htons(64240);
	opt[0] = TCPOPT_MAXSEG;
	opt[1] = TCPOLEN_MAXSEG;
	opt[2] = 1460 >> 8;
	opt[3] = 1460 & 0xff;
	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = SYN_PKT_LEN - sizeof(*ip);
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, th, SYN_PKT_LEN - sizeof(*ip));
	th->check = htons(csum_fold(sum));
}

/*
 * Keep IPv4 TCP segments (first fragments only) to the pool's ports and ICMP destination
 * unreachable errors; offsets are from the IP header (SOCK_DGRAM packet socket).
 */
static int filter_set(struct pp_syn *s)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 10, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, s->port_min, 0, 5),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, s->port_max, 4, 3),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMP, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_DEST_UNREACH, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SYN_SNAP),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	return setsockopt(s->pkt_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* ---- engine --------------------------------------------------------------------------------- */

void pp_syn_free(struct pp_syn *s)
{
	if (!s)
		return;
	if (s->tx_poll)
		pp_loop_cancel(s->loop, s->tx_poll);
	if (s->rx_poll)
		pp_loop_cancel(s->loop, s->rx_poll);
	/* The polls hold their own file references until their completions. */
	if (s->raw_fd >= 0)
		close(s->raw_fd);
	if (s->ring)
		munmap(s->ring, (size_t)RING_BLOCK * RING_BLOCKS);
	if (s->pkt_fd >= 0)
		close(s->pkt_fd);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	for (unsigned int i = 0; i < s->n_ports; i++)
		close(s->holders[i]);
	free(s->ports);
	free(s->holders);
	free(s->flows);
	free(s->batch);
	free(s);
}

static void rx_arm(struct pp_syn *s);

/*
 * Replies through a memory-mapped ring (PACKET_RX_RING): the kernel copies each accepted
 * packet's first SYN_SNAP bytes into a frame, with no socket buffer queued and no syscall to
 * read it. Without one, recvmmsg() reads them.
 */
static void ring_setup(struct pp_syn *s)
{
	struct tpacket_req req = {.tp_block_size = RING_BLOCK,
				  .tp_block_nr = RING_BLOCKS,
				  .tp_frame_size = RING_FRAME,
				  .tp_frame_nr = RING_BLOCK / RING_FRAME * RING_BLOCKS};
	int v = TPACKET_V2;
	void *m;

	if (setsockopt(s->pkt_fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    setsockopt(s->pkt_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return;
	m = mmap(NULL, (size_t)RING_BLOCK * RING_BLOCKS, PROT_READ | PROT_WRITE, MAP_SHARED,
		 s->pkt_fd, 0);
	if (m == MAP_FAILED) {
		req = (struct tpacket_req){0};
		setsockopt(s->pkt_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		return;
	}
	s->ring = m;
}

int pp_syn_new(struct pp_loop *loop, uint64_t *n_sent, struct pp_syn **ret, const char **ret_what)
{
	struct pp_syn *s = calloc(1, sizeof(*s));
	int buf = 4 << 20, one = 1, err;
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->n_sent = n_sent;
	s->pkt_fd = s->udp_fd = -1;
	s->free_flow = NONE;
	s->hold_short = s->hold_long = (struct hold_queue){NONE, NONE};
	memset(s->buckets, 0xff, sizeof(s->buckets));
	*ret_what = "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)";
	s->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
	if (s->raw_fd < 0)
		goto fail;
	if (setsockopt(s->raw_fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(s->raw_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	/* Protocol 0 until the filter is on: no unfiltered packet is ever queued. */
	*ret_what = "socket(AF_PACKET, SOCK_DGRAM)";
	s->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->pkt_fd < 0)
		goto fail;
	if (setsockopt(s->pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(s->pkt_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* Our own SYNs (and the kernel's RSTs) leaving through lo are not replies. */
	*ret_what = "PACKET_IGNORE_OUTGOING";
	if (setsockopt(s->pkt_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		goto fail;
	ring_setup(s);
	*ret_what = "socket(AF_INET, SOCK_DGRAM)";
	s->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->udp_fd < 0)
		goto fail;
	*ret_what = "binding source ports";
	ports_range(s);
	err = ports_grow(s, SYN_PORTS_CHUNK);
	if (err <= 0) {
		errno = err < 0 ? -err : EADDRNOTAVAIL;
		goto fail;
	}
	*ret_what = "bind(AF_PACKET)";
	if (bind(s->pkt_fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	err = -errno;
	pp_syn_free(s);
	return err;
}

void pp_syn_ports(const struct pp_syn *s, unsigned int *ret_min, unsigned int *ret_max,
		  unsigned int *ret_n)
{
	*ret_min = s->port_min;
	*ret_max = s->port_max;
	*ret_n = s->n_ports;
}

static uint32_t isn_next(struct pp_syn *s)
{
	if (!s->isn_left) {
		size_t got = 0;

		/* Above 256 bytes a signal may cut a read short (getrandom(2)): go on. */
		while (got < sizeof(s->isn_pool)) {
			ssize_t n =
				getrandom((char *)s->isn_pool + got, sizeof(s->isn_pool) - got, 0);

			if (n > 0)
				got += (size_t)n;
			else if (n == 0 || errno != EINTR)
				break;
		}
		if (got < sizeof(s->isn_pool)) {
			/* Unreachable in practice (getrandom never fails once seeded). */
			uint64_t x = pp_clock_now() * 0x9e3779b97f4a7c15ull;

			for (unsigned int i = 0; i < ISN_POOL; i++) {
				x ^= x >> 29;
				x *= 0xbf58476d1ce4e5b9ull;
				s->isn_pool[i] = (uint32_t)(x >> 32);
			}
		}
		s->isn_left = ISN_POOL;
	}
	return s->isn_pool[--s->isn_left];
}

/*
 * The source address the kernel would pick for <daddr> (a connected UDP socket's name),
 * cached for SYN_ROUTE_TTL: one lookup per target address every 10 s.
 */
static int route_src(struct pp_syn *s, uint32_t daddr, pp_nsec now, uint32_t *ret)
{
	struct route *set = s->routes[(daddr * 2654435761u) >> 22], *r = NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
	socklen_t len = sizeof(sa);

	for (unsigned int w = 0; w < SYN_ROUTE_WAYS; w++) {
		if (set[w].until && set[w].daddr == daddr) {
			r = &set[w];
			break;
		}
		/* Else the free or expired way, or the one that expires first. */
		if (!r || set[w].until < r->until)
			r = &set[w];
	}
	if (r->daddr != daddr || now >= r->until) {
		r->daddr = daddr;
		r->until = now + SYN_ROUTE_TTL;
		r->err = 0;
		sa.sin_addr.s_addr = daddr;
		if (connect(s->udp_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(s->udp_fd, (struct sockaddr *)&sa, &len) < 0)
			r->err = -errno;
		else
			r->saddr = sa.sin_addr.s_addr;
	}
	if (r->err)
		return r->err;
	*ret = r->saddr;
	return 0;
}

static void tx_flush(void *ctx, int res);

static void batch_add(struct pp_syn *s, uint32_t idx)
{
	if (s->flows[idx].queued)
		return;
	if (s->n_batch == s->batch_cap) {
		unsigned int n = s->batch_cap ? 2 * s->batch_cap : 256;
		uint32_t *b = realloc(s->batch, n * sizeof(*b));

		if (!b)
			return; /* the retransmit (or the timeout) covers it */
		s->batch = b;
		s->batch_cap = n;
	}
	s->flows[idx].queued = true;
	s->batch[s->n_batch++] = idx;
	if (!s->tx_poll && !s->flushing &&
	    pp_loop_poll(s->loop, s->raw_fd, POLLOUT, tx_flush, s, &s->tx_poll) < 0)
		s->tx_poll = 0;
}

/* Retransmission times of the kernel's SYN after the first: 1, 3, 7, 15, 31, 63 s. */
static pp_nsec retransmit_at(const struct attempt *a, unsigned int retries)
{
	return a->start + (((pp_nsec)2 << retries) - 1) * PP_NSEC_PER_SEC;
}

int pp_syn_start(struct pp_syn *s, struct attempt *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->t->addr;
	pp_nsec now = a->start;
	uint32_t saddr = 0, idx;
	unsigned int tries;
	struct flow *f;
	int err;

	hold_sweep(s, &s->hold_short, now);
	hold_sweep(s, &s->hold_long, now);
	err = route_src(s, sin->sin_addr.s_addr, now, &saddr);
	if (err < 0)
		return err;
	for (tries = 0;; tries++) {
		uint16_t p;

		if (tries >= s->n_ports) {
			unsigned int old = s->n_ports;

			/* Every port is busy for this target: bind more, or use connect(). */
			if (ports_grow(s, SYN_PORTS_CHUNK) <= 0)
				return -EADDRNOTAVAIL;
			s->cursor = old; /* the first new one */
		}
		p = htons(s->ports[s->cursor++ % s->n_ports]);
		if (!flow_find(s, p, sin->sin_addr.s_addr, sin->sin_port))
			break;
	}
	err = flow_alloc(s, &idx);
	if (err < 0)
		return err;
	f = &s->flows[idx];
	*f = (struct flow){
		.a = a,
		.a_gen = a->gen,
		.saddr = saddr,
		.daddr = sin->sin_addr.s_addr,
		.sport = htons(s->ports[(s->cursor - 1) % s->n_ports]),
		.dport = sin->sin_port,
		.isn = isn_next(s),
		.qnext = NONE,
		.hashed = true,
	};
	build_syn(f);
	{
		uint32_t b = flow_hash(f->sport, f->daddr, f->dport);

		f->hnext = s->buckets[b];
		s->buckets[b] = idx;
	}
	a->syn_flow = idx + 1;
	s->n_waiting++;
	batch_add(s, idx);
	if (retransmit_at(a, 0) < a->deadline)
		pp_attempt_tick_at(a, retransmit_at(a, 0));
	return 0;
}

void pp_syn_tick(struct pp_syn *s, struct attempt *a, pp_nsec now)
{
	struct flow *f;

	if (!a->syn_flow)
		return;
	f = &s->flows[a->syn_flow - 1];
	if (f->retries >= SYN_RETRIES || now < retransmit_at(a, f->retries))
		return;
	f->retries++;
	batch_add(s, a->syn_flow - 1);
	if (f->retries < SYN_RETRIES && retransmit_at(a, f->retries) < a->deadline)
		pp_attempt_tick_at(a, retransmit_at(a, f->retries));
}

void pp_syn_retire(struct pp_syn *s, struct attempt *a)
{
	uint32_t idx;
	struct flow *f;
	pp_nsec now;

	if (!a->syn_flow)
		return;
	idx = a->syn_flow - 1;
	a->syn_flow = 0;
	f = &s->flows[idx];
	f->a = NULL;
	if (!f->answered)
		s->n_waiting--;
	now = pp_clock_now();
	/* Without an answer the SYN may still be answered late: hold past its timeout. */
	if (f->answered) {
		f->free_at = now + SYN_HOLD;
		hold_push(s, &s->hold_short, idx);
	} else {
		f->free_at = (now > a->deadline ? now : a->deadline) + SYN_HOLD_TIMEOUT;
		hold_push(s, &s->hold_long, idx);
	}
}

/* The errno tcp_v4_err sets for an ICMP destination unreachable <code> (icmp_err_convert). */
static int icmp_errno(unsigned int code)
{
	static const int conv[] = {
		[ICMP_NET_UNREACH] = ENETUNREACH,
		[ICMP_HOST_UNREACH] = EHOSTUNREACH,
		[ICMP_PROT_UNREACH] = ENOPROTOOPT,
		[ICMP_PORT_UNREACH] = ECONNREFUSED,
		[ICMP_FRAG_NEEDED] = 0,
		[ICMP_SR_FAILED] = EOPNOTSUPP,
		[ICMP_NET_UNKNOWN] = ENETUNREACH,
		[ICMP_HOST_UNKNOWN] = EHOSTDOWN,
		[ICMP_HOST_ISOLATED] = ENONET,
		[ICMP_NET_ANO] = ENETUNREACH,
		[ICMP_HOST_ANO] = EHOSTUNREACH,
		[ICMP_NET_UNR_TOS] = ENETUNREACH,
		[ICMP_HOST_UNR_TOS] = EHOSTUNREACH,
		[ICMP_PKT_FILTERED] = EHOSTUNREACH,
		[ICMP_PREC_VIOLATION] = EHOSTUNREACH,
		[ICMP_PREC_CUTOFF] = EHOSTUNREACH,
	};

	return code < sizeof(conv) / sizeof(conv[0]) ? conv[code] : 0;
}

/* End the flow's attempt with connect()'s result <err> (0 = connected). */
static void flow_answer(struct pp_syn *s, struct flow *f, int err)
{
	struct attempt *a = f->a;
	char where[300], why[128];

	if (!a || a->gen != f->a_gen || a->reported)
		return;
	f->answered = true;
	s->n_waiting--;
	if (!err) {
		pp_attempt_finish(a, PP_RESULT_SUCCESS, 0, "%s", "");
		return;
	}
	pp_target_hostport(a->t, where, sizeof(where));
	pp_attempt_finish(a, pp_errno_is_resource(err) ? PP_RESULT_UNKNOWN : PP_RESULT_FAILURE, 0,
			  "dial tcp %s: connect: %s", where, pp_errno_text(err, why, sizeof(why)));
}

static void rx_packet(struct pp_syn *s, const uint8_t *p, size_t len)
{
	const struct iphdr *ip = (const struct iphdr *)p;
	size_t ihl;

	if (len < sizeof(*ip) || ip->version != 4)
		return;
	ihl = (size_t)ip->ihl * 4;
	if (ihl < sizeof(*ip) || len < ihl + 8)
		return;
	if (ip->protocol == IPPROTO_TCP && len >= ihl + sizeof(struct tcphdr)) {
		const struct tcphdr *th = (const struct tcphdr *)(p + ihl);
		struct flow *f = flow_find(s, th->dest, ip->saddr, th->source);

		/* Ours only if it acknowledges our SYN: ack = ISN + 1. */
		if (!f || !f->a || f->saddr != ip->daddr || !th->ack ||
		    ntohl(th->ack_seq) != f->isn + 1)
			return;
		if (th->rst)
			flow_answer(s, f, ECONNREFUSED);
		else if (th->syn)
			flow_answer(s, f, 0);
		return;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		const struct icmphdr *ic = (const struct icmphdr *)(p + ihl);
		const struct iphdr *in = (const struct iphdr *)(p + ihl + 8);
		const uint8_t *q;
		size_t inl;
		uint16_t sport, dport;
		uint32_t seq;
		struct flow *f;
		int err;

		if (ic->type != ICMP_DEST_UNREACH || len < ihl + 8 + sizeof(*in))
			return;
		inl = (size_t)in->ihl * 4;
		if (in->version != 4 || in->protocol != IPPROTO_TCP || inl < sizeof(*in) ||
		    len < ihl + 8 + inl + 8)
			return;
		q = p + ihl + 8 + inl;
		memcpy(&sport, q, 2);
		memcpy(&dport, q + 2, 2);
		memcpy(&seq, q + 4, 4);
		f = flow_find(s, sport, in->daddr, dport);
		err = icmp_errno(ic->code);
		/* It must quote our SYN: our address and ISN. */
		if (!f || !f->a || f->saddr != in->saddr || ntohl(seq) != f->isn || !err)
			return;
		flow_answer(s, f, err);
	}
}

static void ring_drain(struct pp_syn *s)
{
	const unsigned int n = RING_BLOCK / RING_FRAME * RING_BLOCKS;

	for (unsigned int k = 0; k < n; k++) {
		struct tpacket2_hdr *h =
			(struct tpacket2_hdr *)(s->ring + s->ring_head * RING_FRAME);
		uint8_t pkt[SYN_SNAP];
		size_t len;

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return;
		len = h->tp_snaplen < SYN_SNAP ? h->tp_snaplen : SYN_SNAP;
		if (h->tp_net + len <= RING_FRAME)
			memcpy(pkt, (uint8_t *)h + h->tp_net, len);
		else
			len = 0;
		/* The frame goes back before the reply runs callbacks. */
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		s->ring_head = (s->ring_head + 1) % n;
		rx_packet(s, pkt, len);
	}
}

/* Read every queued reply (non-blocking). */
static void rx_drain(struct pp_syn *s)
{
	struct mmsghdr msgs[SYN_BATCH];
	struct iovec iov[SYN_BATCH];

	if (s->ring) {
		ring_drain(s);
		return;
	}

	for (unsigned int round = 0; round < 1024; round++) {
		int n;

		for (unsigned int i = 0; i < SYN_BATCH; i++) {
			iov[i] = (struct iovec){s->rx[i], SYN_SNAP};
			msgs[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		n = recvmmsg(s->pkt_fd, msgs, SYN_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			rx_packet(s, s->rx[i], msgs[i].msg_len);
		if (n < SYN_BATCH)
			return;
	}
}

static void rx_ready(void *ctx, int res)
{
	struct pp_syn *s = ctx;

	s->rx_poll = 0;
	rx_drain(s);
	rx_arm(s);
}

/*
 * Wait for replies while some attempt waits for one. On loopback a batch's replies are read
 * right after its send, so mostly none does, and the loop does not wake for the poll.
 */
static void rx_arm(struct pp_syn *s)
{
	if (s->n_waiting && !s->rx_poll &&
	    pp_loop_poll(s->loop, s->pkt_fd, POLLIN, rx_ready, s, &s->rx_poll) < 0)
		s->rx_poll = 0;
}

/* A SYN could not be sent: connect() would have failed the same way. */
static void tx_failed(struct pp_syn *s, struct flow *f, int err)
{
	flow_answer(s, f, err);
}

static void tx_flush(void *ctx, int res)
{
	struct pp_syn *s = ctx;
	struct mmsghdr msgs[SYN_BATCH];
	struct iovec iov[SYN_BATCH];
	struct sockaddr_in to[SYN_BATCH];
	uint32_t idx[SYN_BATCH], pos[SYN_BATCH];
	unsigned int done = 0;

	s->tx_poll = 0;
	s->flushing = true;
	while (done < s->n_batch) {
		unsigned int n = 0, scan = done;
		int sent;

		/* Flows whose attempt ended since need no SYN. */
		for (; n < SYN_BATCH && scan < s->n_batch; scan++) {
			uint32_t i = s->batch[scan];
			struct flow *f = &s->flows[i];

			if (!f->a) {
				f->queued = false;
				continue;
			}
			idx[n] = i;
			pos[n] = scan;
			to[n] = (struct sockaddr_in){.sin_family = AF_INET,
						     .sin_addr.s_addr = f->daddr};
			iov[n] = (struct iovec){f->pkt, SYN_PKT_LEN};
			msgs[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &to[n],
							       .msg_namelen = sizeof(to[n]),
							       .msg_iov = &iov[n],
							       .msg_iovlen = 1}};
			n++;
		}
		if (!n) {
			done = scan;
			break;
		}
		sent = sendmmsg(s->raw_fd, msgs, n, MSG_DONTWAIT);
		if (sent < 0) {
			int err = errno;

			if (err == EAGAIN || err == ENOBUFS || err == EINTR) {
				done = pos[0];
				break; /* the socket's buffer is full: wait for POLLOUT */
			}
			/* The first message failed: its attempt fails as its connect() would. */
			s->flows[idx[0]].queued = false;
			done = pos[0] + 1;
			tx_failed(s, &s->flows[idx[0]], err);
			continue;
		}
		for (int i = 0; i < sent; i++)
			s->flows[idx[i]].queued = false;
		*s->n_sent += (uint64_t)sent;
		done = (unsigned int)sent == n ? scan : pos[sent];
		/* On loopback the replies are in already: read them before the queue grows. */
		rx_drain(s);
	}
	s->flushing = false;
	/* Keep what was not sent (the callbacks above may have added more). */
	memmove(s->batch, s->batch + done, (s->n_batch - done) * sizeof(*s->batch));
	s->n_batch -= done;
	if (s->n_batch && !s->tx_poll &&
	    pp_loop_poll(s->loop, s->raw_fd, POLLOUT, tx_flush, s, &s->tx_poll) < 0)
		s->tx_poll = 0;
	rx_arm(s);
}
