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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/sched.h"
#include "prober_int.h"

struct pp_prober {
	struct pp_loop *loop;
	struct attempt **slots;
	uint32_t n_slots;
	uint32_t *free_idx; /* stack of free slot indices */
	uint32_t n_free;
	struct pp_sched deadlines;
	struct pp_prober_stats stats;
	struct pp_probe_report report; /* scratch: one report is built at a time */
};

/* An attempt whose start failed: nothing to time out or clean. */
static const struct handler_ops deferred_ops;

struct pp_loop *pp_attempt_loop(const struct attempt *a)
{
	return a->pr->loop;
}

int pp_prober_new(struct pp_loop *loop, struct pp_prober **ret)
{
	struct pp_prober *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return -ENOMEM;
	pr->loop = loop;
	*ret = pr;
	return 0;
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
}

void pp_prober_free(struct pp_prober *pr)
{
	if (!pr)
		return;
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
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
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
		pr->stats.timeouts++;
		a->ops->timeout(a);
	}
}

const struct pp_prober_stats *pp_prober_stats(const struct pp_prober *pr)
{
	return &pr->stats;
}

/* ---- helpers shared by the handlers -------------------------------------------------------------
 */

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
