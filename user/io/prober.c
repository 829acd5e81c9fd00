// SPDX-License-Identifier: Apache-2.0
/*
 * The probe engine. An attempt is a slot in a pool (reused, generation-tagged like the loop's
 * slots) plus a handler's small state. Deadlines sit in one heap (core/sched.c) whose
 * earliest entry the owner passes to the loop's wait; a passed deadline hands the attempt to
 * its handler's timeout, which cancels the operation in flight and reports.
 */
#include "podprobe/prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/sched.h"
#include "prober_int.h"

#define KA_BUCKETS 1024

/* A pooled tcpSocket client socket (pp_attempt_pooled_socket). */
enum tcp_sock_state {
	TCP_SOCK_IDLE,	    /* on its free list */
	TCP_SOCK_LENT,	    /* an attempt's a->fd; the attempt owns it */
	TCP_SOCK_RESETTING, /* its connect(AF_UNSPEC) is in flight */
};

struct pp_tcp_sock {
	struct pp_prober *pr;
	int fd;
	uint32_t idx;		  /* in pr->tcp_socks */
	uint8_t kind;		  /* free list: TCP_POOL_V6 | TCP_POOL_DEFER */
	uint8_t state;		  /* enum tcp_sock_state */
	uint64_t op;		  /* the reset in flight, 0 = none */
	struct pp_tcp_sock *next; /* free list */
};

#define TCP_POOL_V6    1u
#define TCP_POOL_DEFER 2u
#define TCP_POOL_KINDS 4u

/*
 * The idle keep-alive connections to one address: a stack, the most recently parked on top
 * (taken first; the bottom ones idle longest and are the first the sweep closes). One node per
 * address, found by one comparison, so parking and taking do not walk the connections of
 * busy addresses (5,000 targets on 256 ports: ~16 each). Empty nodes stay until the next
 * sweep, so an address that parks and takes every second keeps its node.
 */
struct ka_addr {
	struct ka_addr *next;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	unsigned int len;
	unsigned int n;
	int fd[PP_KEEPALIVE_PER_ADDR];
	pp_nsec since[PP_KEEPALIVE_PER_ADDR];
};

struct pp_prober {
	struct pp_loop *loop;
	struct ka_addr **ka; /* KA_BUCKETS chains by address, NULL until the first park */
	unsigned int ka_parked;
	pp_nsec ka_sweep; /* next look for connections idle too long */
	struct attempt **slots;
	uint32_t n_slots;
	uint32_t *free_idx; /* stack of free slot indices */
	uint32_t n_free;
	struct pp_sched deadlines;
	struct pp_prober_stats stats;
	struct pp_probe_report report;	/* scratch: one report is built at a time */
	bool direct_tried;		/* pp_loop_direct_files() was asked */
	struct pp_syn *syn;		/* the raw SYN engine, NULL until first used */
	bool syn_off;			/* pp_prober_set_raw_syn(false) or PODPROBE_NO_RAW_SYN=1 */
	bool syn_broken;		/* its set-up failed for good (no CAP_NET_RAW...) */
	pp_nsec syn_retry_at;		/* after another set-up failure: when to try again */
	unsigned int syn_logged;	/* fallback reasons already logged (1u << enum syn_why) */
	struct pp_tcp_sock **tcp_socks; /* every pooled socket, PP_TCP_POOL_MAX entries */
	uint32_t n_tcp_socks;
	uint32_t tcp_pool_max; /* PP_TCP_POOL_MAX, or less with a low RLIMIT_NOFILE */
	struct pp_tcp_sock *tcp_free[TCP_POOL_KINDS];
	uint32_t n_tcp_idle; /* on the free lists */
	uint32_t tcp_peak;   /* the most lent or resetting at once since the last trim */
	pp_nsec tcp_trim_at; /* next trim of the idle sockets beyond tcp_peak */
	bool tcp_pool_off;   /* PODPROBE_NO_TCP_POOL=1 */
	bool closing;	     /* pp_prober_free() runs: sockets coming back are closed */
};

/* Why a tcpSocket attempt connects instead of sending a raw SYN (logged once each). */
enum syn_why {
	SYN_WHY_SETUP = 0,
	SYN_WHY_HANDSHAKE,
	SYN_WHY_FAMILY,
	SYN_WHY_ADDRESS,
	SYN_WHY_START,
	_SYN_WHY_MAX,
};

/* An attempt whose start failed: nothing to time out or clean. */
static const struct handler_ops deferred_ops;

struct pp_loop *pp_attempt_loop(const struct attempt *a)
{
	return a->pr->loop;
}

struct pp_prober *pp_attempt_prober(const struct attempt *a)
{
	return a->pr;
}

static unsigned int ka_hash(const struct sockaddr_storage *addr, unsigned int len)
{
	const unsigned char *p = (const unsigned char *)addr;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (unsigned int i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % KA_BUCKETS;
}

static struct ka_addr *ka_find(struct ka_addr *c, const struct sockaddr_storage *addr,
			       unsigned int len)
{
	for (; c; c = c->next)
		if (c->len == len && !memcmp(&c->addr, addr, len))
			return c;
	return NULL;
}

int pp_prober_conn_take(struct pp_prober *pr, const struct sockaddr_storage *addr, unsigned int len,
			pp_nsec *ret_since)
{
	struct ka_addr *c;

	if (!pr->ka || !(c = ka_find(pr->ka[ka_hash(addr, len)], addr, len)) || !c->n)
		return -1;
	c->n--;
	pr->ka_parked--;
	*ret_since = c->since[c->n];
	return c->fd[c->n];
}

void pp_prober_conn_park(struct pp_prober *pr, const struct sockaddr_storage *addr,
			 unsigned int len, int fd)
{
	struct ka_addr *c = NULL;
	unsigned int b;

	if (!pr->ka)
		pr->ka = calloc(KA_BUCKETS, sizeof(*pr->ka));
	if (pr->ka && len <= sizeof(c->addr)) {
		b = ka_hash(addr, len);
		c = ka_find(pr->ka[b], addr, len);
		if (!c && (c = calloc(1, sizeof(*c)))) {
			memcpy(&c->addr, addr, len);
			c->len = len;
			c->next = pr->ka[b];
			pr->ka[b] = c;
		}
	}
	if (!c || c->n == PP_KEEPALIVE_PER_ADDR) {
		pp_loop_close(pr->loop, fd);
		return;
	}
	c->fd[c->n] = fd;
	c->since[c->n] = pp_clock_now();
	c->n++;
	pr->ka_parked++;
}

/*
 * Close the connections idle for PP_KEEPALIVE_IDLE (all of them, and free every node, when
 * <all>); an address left with none loses its node.
 */
static void ka_sweep(struct pp_prober *pr, pp_nsec now, bool all)
{
	if (!pr->ka || (!all && now < pr->ka_sweep))
		return;
	pr->ka_sweep = now + PP_NSEC_PER_SEC;
	for (unsigned int b = 0; b < KA_BUCKETS; b++)
		for (struct ka_addr **pp = &pr->ka[b]; *pp;) {
			struct ka_addr *c = *pp;
			unsigned int k = 0;

			while (k < c->n && (all || now - c->since[k] >= PP_KEEPALIVE_IDLE)) {
				if (all)
					close(c->fd[k]);
				else
					pp_loop_close(pr->loop, c->fd[k]);
				k++;
			}
			c->n -= k;
			pr->ka_parked -= k;
			memmove(c->fd, c->fd + k, c->n * sizeof(*c->fd));
			memmove(c->since, c->since + k, c->n * sizeof(*c->since));
			if (c->n) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			free(c);
		}
}

int pp_prober_new(struct pp_loop *loop, struct pp_prober **ret)
{
	struct pp_prober *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return -ENOMEM;
	pr->loop = loop;
	/* The bench and the tests compare both paths; operators can turn it off. */
	if (getenv("PODPROBE_NO_RAW_SYN") && !strcmp(getenv("PODPROBE_NO_RAW_SYN"), "1"))
		pr->syn_off = true;
	if (getenv("PODPROBE_NO_TCP_POOL") && !strcmp(getenv("PODPROBE_NO_TCP_POOL"), "1"))
		pr->tcp_pool_off = true;
	*ret = pr;
	return 0;
}

/* Drop pooled socket <ts> for good (its slot in pr->tcp_socks too, when <pr>). */
static void tcp_sock_drop(struct pp_prober *pr, struct pp_tcp_sock *ts)
{
	if (pr && !pr->closing)
		pp_loop_close(pr->loop, ts->fd);
	else
		close(ts->fd); /* a zero linger: RST if it was still connected */
	if (pr) {
		struct pp_tcp_sock *last = pr->tcp_socks[--pr->n_tcp_socks];

		pr->tcp_socks[ts->idx] = last;
		last->idx = ts->idx;
	}
	free(ts);
}

static void tcp_sock_idle(struct pp_prober *pr, struct pp_tcp_sock *ts)
{
	ts->state = TCP_SOCK_IDLE;
	ts->next = pr->tcp_free[ts->kind];
	pr->tcp_free[ts->kind] = ts;
	pr->n_tcp_idle++;
}

/* The first idle pooled socket of kind <kind>, taken off its free list; NULL when none. */
static struct pp_tcp_sock *tcp_sock_unidle(struct pp_prober *pr, unsigned int kind)
{
	struct pp_tcp_sock *ts = pr->tcp_free[kind];

	if (ts) {
		pr->tcp_free[kind] = ts->next;
		pr->n_tcp_idle--;
	}
	return ts;
}

/*
 * Every PP_TCP_POOL_TRIM, close the idle pooled sockets beyond the most that were in use at
 * once in the last one: a burst's sockets (a node's probes all due together after a restart,
 * saturation) do not stay for good, while the periods a pool serves (kubelet's default 10 s,
 * most below a minute) keep theirs.
 */
static void tcp_pool_trim(struct pp_prober *pr, pp_nsec now)
{
	if (now < pr->tcp_trim_at)
		return;
	pr->tcp_trim_at = now + PP_TCP_POOL_TRIM;
	for (unsigned int k = 0; k < TCP_POOL_KINDS && pr->n_tcp_socks > pr->tcp_peak; k++) {
		struct pp_tcp_sock *ts;

		while (pr->n_tcp_socks > pr->tcp_peak && (ts = tcp_sock_unidle(pr, k)))
			tcp_sock_drop(pr, ts);
	}
	pr->tcp_peak = pr->n_tcp_socks - pr->n_tcp_idle;
}

static void on_tcp_sock_reset(void *ctx, int res)
{
	struct pp_tcp_sock *ts = ctx;

	ts->op = 0;
	if (res < 0)
		tcp_sock_drop(ts->pr, ts);
	else
		tcp_sock_idle(ts->pr, ts);
}

/* pp_prober_free() retired a reset in flight: its final completion came. */
static void tcp_sock_release(void *obj)
{
	struct pp_tcp_sock *ts = obj;

	close(ts->fd);
	free(ts);
}

static const struct sockaddr tcp_unspec = {.sa_family = AF_UNSPEC};

/*
 * Pooled socket <ts> comes back from an attempt whose every operation has completed, so the
 * kernel no longer works on it for that attempt (a cancelled connect included). Reset it
 * through the ring (it rides with the next submission); it is lent again only after that
 * reset's completion. A prober that is gone or going closes it.
 */
static void tcp_sock_put(struct pp_prober *pr, struct pp_tcp_sock *ts)
{
	if (!pr || pr->closing) {
		tcp_sock_drop(pr, ts);
		return;
	}
	ts->state = TCP_SOCK_RESETTING;
	if (pp_loop_connect(pr->loop, ts->fd, &tcp_unspec, sizeof(tcp_unspec), on_tcp_sock_reset,
			    ts, &ts->op) == 0)
		return;
	/* No room in the ring: the same reset as a syscall. */
	ts->op = 0;
	if (connect(ts->fd, &tcp_unspec, sizeof(tcp_unspec)) < 0)
		tcp_sock_drop(pr, ts);
	else
		tcp_sock_idle(pr, ts);
}

static void tcp_pool_free(struct pp_prober *pr)
{
	for (uint32_t i = 0; i < pr->n_tcp_socks; i++) {
		struct pp_tcp_sock *ts = pr->tcp_socks[i];

		if (ts->state == TCP_SOCK_IDLE) {
			close(ts->fd);
			free(ts);
		} else if (ts->state == TCP_SOCK_RESETTING) {
			/* Closed and freed after the reset's final completion. */
			if (pp_loop_retire(pr->loop, &ts->op, 1, tcp_sock_release, ts) < 0)
				pp_log(PP_LOG_ERR,
				       "out of memory: a probe socket is kept for good");
		} else {
			/* Lent to an attempt still retiring: attempt_release() closes it. */
			ts->pr = NULL;
		}
	}
	free(pr->tcp_socks);
}

/*
 * The kernel is done with every operation of <a>: free the handler's state, close the socket
 * and give the slot back (or, when the prober is gone, the attempt's memory).
 */
static void attempt_release(void *obj)
{
	struct attempt *a = obj;
	struct pp_prober *pr = a->pr;

	if (a->ops && a->ops->cleanup)
		a->ops->cleanup(a);
	a->ops = NULL;
	a->retiring = false;
	if (a->tcp_sock) {
		tcp_sock_put(pr, a->tcp_sock);
		a->tcp_sock = NULL;
		a->fd = -1;
	}
	if (a->fd >= 0) {
		if (pr)
			pp_loop_close(pr->loop, a->fd);
		else
			close(a->fd);
		a->fd = -1;
	}
	if (!pr) {
		free(a);
		return;
	}
	pr->free_idx[pr->n_free++] = a->idx;
	pr->stats.in_flight--;
	pr->stats.retiring--;
}

/*
 * Drop the deadlines of attempts that have ended from the top of the heap: left there, each
 * would wake the loop for nothing a timeout after its attempt (nearly every attempt ends long
 * before its timeout).
 */
static void prune_deadlines(struct pp_prober *pr)
{
	struct pp_sched_entry e;

	while (pr->deadlines.n) {
		const struct pp_sched_entry *top = &pr->deadlines.heap[0];
		const struct attempt *a = top->key < pr->n_slots ? pr->slots[top->key] : NULL;

		if (a && a->gen == top->gen && a->ops && !a->retiring)
			return;
		pp_sched_pop_expired(&pr->deadlines, PP_NSEC_INFINITY, &e);
	}
}

/* End <a>: no callback runs any more; its memory goes once its operations have completed. */
static void slot_free(struct pp_prober *pr, struct attempt *a)
{
	uint64_t ids[PP_ATTEMPT_MAX_OPS];
	unsigned int n = 0;

	ids[n++] = a->op;
	if (a->ops && a->ops->retire)
		n += a->ops->retire(a, ids + n);
	a->op = 0;
	a->gen++; /* stale heap entries and ids no longer match */
	a->fn = NULL;
	a->retiring = true;
	pr->stats.retiring++;
	if (pp_loop_retire(pr->loop, ids, n, attempt_release, a) < 0)
		pp_log(PP_LOG_ERR, "out of memory: a probe attempt's memory is kept for good");
	prune_deadlines(pr);
}

void pp_prober_free(struct pp_prober *pr)
{
	if (!pr)
		return;
	pr->closing = true;
	for (uint32_t i = 0; i < pr->n_slots; i++)
		if (pr->slots[i]->ops && !pr->slots[i]->retiring)
			slot_free(pr, pr->slots[i]);
	for (uint32_t i = 0; i < pr->n_slots; i++) {
		/* Still in the kernel's hands: pp_loop_free() releases it after its completions. */
		if (pr->slots[i]->retiring)
			pr->slots[i]->pr = NULL;
		else
			free(pr->slots[i]);
	}
	free(pr->slots);
	free(pr->free_idx);
	pp_sched_free(&pr->deadlines);
	ka_sweep(pr, 0, true);
	free(pr->ka);
	tcp_pool_free(pr);
	/* Every attempt has let go of its flow (slot_free above); the polls cancel here. */
	pp_syn_free(pr->syn);
	free(pr);
}

static struct attempt *slot_get(struct pp_prober *pr)
{
	struct attempt *a;

	if (!pr->n_free) {
		uint32_t n = pr->n_slots ? 2 * pr->n_slots : 64;
		struct attempt **slots = realloc(pr->slots, n * sizeof(*slots));
		uint32_t *free_idx;

		if (!slots)
			return NULL;
		pr->slots = slots;
		free_idx = realloc(pr->free_idx, n * sizeof(*free_idx));
		if (!free_idx)
			return NULL;
		pr->free_idx = free_idx;
		for (uint32_t i = pr->n_slots; i < n; i++) {
			slots[i] = calloc(1, sizeof(**slots));
			if (!slots[i]) {
				pr->n_slots = i;
				return NULL;
			}
			slots[i]->idx = i;
			slots[i]->fd = -1;
			slots[i]->pr = pr;
		}
		/* Push in reverse so low indices are used first. */
		for (uint32_t i = n; i-- > pr->n_slots;)
			pr->free_idx[pr->n_free++] = i;
		pr->n_slots = n;
	}
	a = pr->slots[pr->free_idx[--pr->n_free]];
	pr->stats.in_flight++;
	return a;
}

static const struct handler_ops *ops_for(enum pp_handler_kind kind)
{
	switch (kind) {
	case PP_HANDLER_TCP_SOCKET:
		return &pp_probe_tcp_ops;
	case PP_HANDLER_HTTP_GET:
		return &pp_probe_http_ops;
	case PP_HANDLER_EXEC:
		return &pp_probe_exec_ops;
	case PP_HANDLER_GRPC:
		return &pp_probe_grpc_ops;
	default:
		return NULL;
	}
}

/* Handler state must not be released before the report: reports happen through here. */
static void vreport(struct attempt *a, enum pp_probe_result result, int http_status,
		    const char *fmt, va_list ap)
{
	struct pp_prober *pr = a->pr;
	struct pp_probe_report *rep = &pr->report;
	pp_probe_done_fn fn = a->fn;

	if (a->reported)
		return;
	a->reported = true;
	rep->result = result;
	rep->http_status = http_status;
	rep->latency = pp_clock_now() - a->start;
	if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2]) {
		/* Most reports (every tcp success): a copy, not a pass through printf. */
		const char *msg = va_arg(ap, const char *);
		size_t n = msg ? strnlen(msg, sizeof(rep->message) - 1) : 0;

		if (n)
			memcpy(rep->message, msg, n);
		rep->message[n] = '\0';
	} else {
		vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	}
	pr->stats.results[result < _PP_RESULT_MAX ? result : PP_RESULT_UNKNOWN]++;
	a->fn = NULL;
	if (fn)
		fn(a->ctx, rep);
}

void pp_attempt_report(struct attempt *a, enum pp_probe_result result, int http_status,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(a, result, http_status, fmt, ap);
	va_end(ap);
}

void pp_attempt_finish(struct attempt *a, enum pp_probe_result result, int http_status,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(a, result, http_status, fmt, ap);
	va_end(ap);
	pp_attempt_release(a);
}

void pp_attempt_release(struct attempt *a)
{
	if (a->ops && !a->retiring)
		slot_free(a->pr, a);
}

int pp_prober_start(struct pp_prober *pr, const struct pp_probe_target *t, pp_nsec timeout,
		    pp_probe_done_fn fn, void *ctx, uint64_t *ret_id)
{
	const struct handler_ops *ops = ops_for(t->kind);
	struct attempt *a;
	int err;

	if (!ops)
		return -EINVAL;
	a = slot_get(pr);
	if (!a)
		return -ENOMEM;
	a->t = t;
	a->ops = ops;
	a->fn = fn;
	a->ctx = ctx;
	a->start = pp_clock_now();
	a->timeout = timeout;
	a->deadline = a->start + timeout;
	a->reported = false;
	a->start_err = 0;
	a->start_msg[0] = '\0';
	a->proto = NULL;
	a->op = 0;
	a->close_op = 0;
	a->syn_flow = 0;
	a->tcp_sock = NULL;
	a->fd = -1;
	pr->stats.started++;
	if (ret_id)
		*ret_id = (uint64_t)a->gen << 32 | a->idx;
	err = pp_sched_push(&pr->deadlines, a->deadline, a->idx, a->gen);
	if (err < 0) {
		slot_free(pr, a);
		return err;
	}
	err = ops->start(a);
	if (err < 0) {
		/* Reported from the next pass of the loop, never from inside this call. */
		if (ops->cleanup)
			ops->cleanup(a);
		a->ops = &deferred_ops;
		a->start_err = err;
		if (pp_errno_is_resource(err))
			pr->stats.resource_errors++;
		pp_sched_push(&pr->deadlines, a->start, a->idx, a->gen);
	}
	return 0;
}

void pp_prober_cancel(struct pp_prober *pr, uint64_t id)
{
	uint32_t idx = (uint32_t)id, gen = (uint32_t)(id >> 32);
	struct attempt *a;

	if (idx >= pr->n_slots)
		return;
	a = pr->slots[idx];
	if (a->gen != gen || !a->ops || a->retiring)
		return;
	a->fn = NULL;
	a->reported = true;
	/* A handler with a process to reap keeps the slot until it is reaped. */
	if (a->ops->timeout && a->ops == &pp_probe_exec_ops)
		a->ops->timeout(a);
	else
		pp_attempt_release(a);
}

pp_nsec pp_prober_next_deadline(const struct pp_prober *pr)
{
	return pp_sched_next(&pr->deadlines);
}

void pp_prober_run_expired(struct pp_prober *pr, pp_nsec now)
{
	struct pp_sched_entry e;

	ka_sweep(pr, now, false);
	tcp_pool_trim(pr, now);
	while (pp_sched_pop_expired(&pr->deadlines, now, &e)) {
		struct attempt *a;

		if (e.key >= pr->n_slots)
			continue;
		a = pr->slots[e.key];
		if (a->gen != e.gen || !a->ops || a->retiring)
			continue;
		if (a->start_err) {
			char buf[128];

			pp_attempt_finish(a, PP_RESULT_UNKNOWN, 0, "%s",
					  a->start_msg[0]
						  ? a->start_msg
						  : pp_errno_text(a->start_err, buf, sizeof(buf)));
			continue;
		}
		if (a->reported)
			continue;
		if (e.deadline < a->deadline) {
			if (a->ops->tick)
				a->ops->tick(a, now);
			continue;
		}
		pr->stats.timeouts++;
		a->ops->timeout(a);
	}
}

const struct pp_prober_stats *pp_prober_stats(const struct pp_prober *pr)
{
	return &pr->stats;
}

void pp_prober_set_raw_syn(struct pp_prober *pr, bool on)
{
	pr->syn_off = !on;
}

bool pp_prober_raw_syn_ports(const struct pp_prober *pr, unsigned int *ret_min,
			     unsigned int *ret_max, unsigned int *ret_n)
{
	if (!pr->syn)
		return false;
	pp_syn_ports(pr->syn, ret_min, ret_max, ret_n);
	return true;
}

/* ---- helpers shared by the handlers -------------------------------------------------------------
 */

int pp_attempt_direct_file(struct attempt *a)
{
	struct pp_prober *pr = a->pr;

	if (!pr->direct_tried) {
		struct rlimit rl;
		unsigned int n = PP_PROBER_DIRECT_FILES;

		pr->direct_tried = true;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
			n = (unsigned int)rl.rlim_cur;
		if (pp_loop_direct_files(pr->loop, n) < 0)
			pp_log(PP_LOG_DEBUG,
			       "probes: no io_uring direct descriptors, plain sockets");
	}
	return a->idx < pp_loop_direct_count(pr->loop) ? (int)a->idx : -1;
}

void pp_attempt_tick_at(struct attempt *a, pp_nsec when)
{
	/* Without memory for it the attempt still ends at its deadline. */
	pp_sched_push(&a->pr->deadlines, when, a->idx, a->gen);
}

static void syn_log_once(struct pp_prober *pr, enum syn_why why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void syn_log_once(struct pp_prober *pr, enum syn_why why, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (pr->syn_logged & (1u << why))
		return;
	pr->syn_logged |= 1u << why;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Per-target reasons are the expected kind: only a failure is worth the operator's eye. */
	pp_log(why == SYN_WHY_SETUP || why == SYN_WHY_START ? PP_LOG_INFO : PP_LOG_DEBUG,
	       "probes: tcpSocket by connect(), not raw SYN: %s", msg);
}

struct pp_syn *pp_attempt_syn_engine(const struct attempt *a)
{
	return a->pr->syn;
}

static struct pp_syn *attempt_syn(struct attempt *a)
{
	struct pp_prober *pr = a->pr;
	const struct pp_probe_target *t = a->t;
	char where[300];

	if (pr->syn_off || pr->syn_broken)
		return NULL;
	if (t->full_handshake) {
		pp_target_hostport(t, where, sizeof(where));
		/* probe.podprobe.io/tcp-accept: only a socket completes the handshake. */
		syn_log_once(pr, SYN_WHY_HANDSHAKE, "%s wants the full handshake", where);
		return NULL;
	}
	if (t->addr.ss_family != AF_INET) {
		pp_target_hostport(t, where, sizeof(where));
		syn_log_once(pr, SYN_WHY_FAMILY, "%s is not IPv4", where);
		return NULL;
	}
	{
		uint32_t d = ntohl(((const struct sockaddr_in *)&t->addr)->sin_addr.s_addr);

		/* 0.0.0.0 (connect()'s "this host"), multicast, broadcast: leave them to it. */
		if (d == INADDR_ANY || d >= 0xe0000000u) {
			pp_target_hostport(t, where, sizeof(where));
			syn_log_once(pr, SYN_WHY_ADDRESS, "%s is not a unicast address", where);
			return NULL;
		}
	}
	if (!pr->syn && a->start >= pr->syn_retry_at) {
		const char *what = "";
		char why[128];
		int err = pp_syn_new(pr->loop, &pr->stats.raw_syn_sent, &pr->syn, &what);

		if (err < 0) {
			pr->syn = NULL;
			/* No privilege or no such socket: it will not change. */
			if (err == -EPERM || err == -EACCES || err == -EAFNOSUPPORT ||
			    err == -EPROTONOSUPPORT || err == -ESOCKTNOSUPPORT)
				pr->syn_broken = true;
			else
				pr->syn_retry_at = a->start + 10 * PP_NSEC_PER_SEC;
			syn_log_once(pr, SYN_WHY_SETUP, "%s: %s", what,
				     pp_errno_text(err, why, sizeof(why)));
		}
	}
	return pr->syn;
}

int pp_attempt_syn_start(struct attempt *a)
{
	struct pp_prober *pr = a->pr;
	struct pp_syn *s = attempt_syn(a);
	char why[128];
	int err;

	if (!s) {
		if (!pr->syn_off)
			pr->stats.raw_syn_fallbacks++;
		return -EOPNOTSUPP;
	}
	err = pp_syn_start(s, a);
	if (err < 0) {
		pr->stats.raw_syn_fallbacks++;
		if (err == -EADDRNOTAVAIL)
			syn_log_once(pr, SYN_WHY_START,
				     "every source port of the raw SYN range is busy for %s "
				     "(this attempt and others like it)",
				     a->t->host ? a->t->host : "its target");
		else
			syn_log_once(pr, SYN_WHY_START, "%s (this attempt and others like it)",
				     pp_errno_text(err, why, sizeof(why)));
		return err;
	}
	pr->stats.raw_syn++;
	return 0;
}

/*
 * The pool is full: make room by closing an idle socket of another kind, so that one kind's
 * idle sockets (tcpSocket's) do not keep another (httpGet's) out for good. False when every
 * pooled socket is lent or resetting.
 */
static bool tcp_pool_evict(struct pp_prober *pr, unsigned int kind)
{
	for (unsigned int k = 0; k < TCP_POOL_KINDS; k++) {
		struct pp_tcp_sock *ts = k == kind ? NULL : tcp_sock_unidle(pr, k);

		if (!ts)
			continue;
		tcp_sock_drop(pr, ts);
		return true;
	}
	return false;
}

int pp_attempt_pooled_socket(struct attempt *a, bool hold_ack)
{
	static const struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct pp_prober *pr = a->pr;
	int family = a->t->addr.ss_family, one = 1, fd;
	unsigned int kind =
		(family == AF_INET6 ? TCP_POOL_V6 : 0) | (hold_ack ? TCP_POOL_DEFER : 0);
	struct pp_tcp_sock *ts;

	if (pr->tcp_pool_off || (family != AF_INET && family != AF_INET6))
		return -EOPNOTSUPP;
	ts = tcp_sock_unidle(pr, kind);
	if (ts)
		goto lend;
	if (!pr->tcp_socks) {
		struct rlimit rl;

		/* Idle sockets hold fds: a quarter of the limit at most, the rest is for others. */
		pr->tcp_pool_max = PP_TCP_POOL_MAX;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 4 < pr->tcp_pool_max)
			pr->tcp_pool_max = (uint32_t)(rl.rlim_cur / 4);
		pr->tcp_socks = calloc(PP_TCP_POOL_MAX, sizeof(*pr->tcp_socks));
		if (!pr->tcp_socks)
			return -ENOMEM;
	}
	if (pr->n_tcp_socks >= pr->tcp_pool_max && !tcp_pool_evict(pr, kind))
		return -EBUSY;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = -errno;

		free(ts);
		return err;
	}
	/*
	 * Once for the socket's life. The zero linger only matters when a connected one is closed
	 * (the prober goes): the reset between attempts is the same tcp_disconnect() it makes
	 * close() do (tcp_close()). TCP_DEFER_ACCEPT on a connecting socket delays the last ACK
	 * like TCP_QUICKACK 0 (tcp_rcv_synsent_state_process()), and, unlike it, survives
	 * tcp_disconnect(): the server never gets an established connection to accept.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    (kind & TCP_POOL_DEFER &&
	     setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one)) < 0)) {
		int err = -errno;

		close(fd);
		free(ts);
		return err;
	}
	ts->pr = pr;
	ts->fd = fd;
	ts->kind = (uint8_t)kind;
	ts->idx = pr->n_tcp_socks;
	pr->tcp_socks[pr->n_tcp_socks++] = ts;
lend:
	ts->state = TCP_SOCK_LENT;
	ts->next = NULL;
	if (pr->n_tcp_socks - pr->n_tcp_idle > pr->tcp_peak)
		pr->tcp_peak = pr->n_tcp_socks - pr->n_tcp_idle;
	a->tcp_sock = ts;
	a->fd = ts->fd;
	return 0;
}

void pp_attempt_socket_drop(struct attempt *a)
{
	if (a->tcp_sock) {
		tcp_sock_put(a->pr, a->tcp_sock);
		a->tcp_sock = NULL;
	} else if (a->fd >= 0) {
		close(a->fd);
	}
	a->fd = -1;
}

int pp_attempt_socket(struct attempt *a)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = socket(a->t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Close with RST: the probe leaves no TIME_WAIT behind (H-TCP.2's note). */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	a->fd = fd;
	return 0;
}

bool pp_errno_is_resource(int err)
{
	if (err < 0)
		err = -err;
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL || err == EAGAIN || err == EBUSY;
}

const char *pp_errno_text(int err, char *buf, size_t size)
{
	if (err < 0)
		err = -err;
	/* Go prints syscall errors in lower case. */
	snprintf(buf, size, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

void pp_target_hostport(const struct pp_probe_target *t, char *buf, size_t size)
{
	const char *host = t->host && *t->host ? t->host : "127.0.0.1";

	if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%d", host, t->port);
	else
		snprintf(buf, size, "%s:%d", host, t->port);
}

int pp_probe_target_resolve(struct pp_probe_target *t, const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res = NULL;
	char port_s[16];
	int rc;

	if (!host || !*host)
		host = "127.0.0.1";
	if (port < 1 || port > 65535)
		return -ERANGE;
	snprintf(port_s, sizeof(port_s), "%d", port);
	rc = getaddrinfo(host, port_s, &hints, &res);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_ADDRCONFIG;
		rc = getaddrinfo(host, port_s, &hints, &res);
	}
	if (rc != 0 || !res)
		return rc == EAI_NONAME || rc == EAI_NODATA ? -ENOENT : -EHOSTUNREACH;
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	t->port = port;
	freeaddrinfo(res);
	return 0;
}
