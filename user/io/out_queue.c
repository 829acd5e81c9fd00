// SPDX-License-Identifier: Apache-2.0
/*
 * The output queue (podprobe/out_queue.h). Bytes wait in fixed chunks, oldest first, and are
 * written synchronously: without blocking to a pipe or socket (pipe_write() and
 * sock_write_iter() honour IOCB_NOWAIT whatever the fd's O_NONBLOCK, which stays as the parent
 * set it: it belongs to an open file other processes share), then a POLLOUT in the ring waits
 * for room. The poll touches none of our memory, so cancelling it is enough (podprobe/loop.h).
 *
 * Why not stdio: printf() to a pipe nobody read blocked the whole loop, the API included, once
 * the pipe's 64 KiB were full (tests/integ/test_pods.c, test_unread_stdout_holds_up_nothing).
 */
#include "podprobe/out_queue.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "podprobe/log.h"
#include "podprobe/loop.h"

#define CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t len; /* bytes filled */
	char data[CHUNK];
};

struct pp_outq {
	struct pp_loop *loop;
	int fd;
	bool nowait; /* a pipe or socket: written with RWF_NOWAIT, waited on with a poll */
	size_t cap;
	size_t queued; /* bytes not yet written */
	struct chunk *head, *tail;
	size_t off;	  /* bytes of head written */
	uint64_t poll_id; /* POLLOUT armed, 0 = none */
	bool failed;	  /* the fd failed: nothing more is written */
	uint64_t dropped;
	uint64_t dropped_told; /* of <dropped>, already logged */
};

int pp_outq_new(struct pp_loop *loop, int fd, size_t cap, struct pp_outq **ret)
{
	struct pp_outq *q = calloc(1, sizeof(*q));
	struct stat st;

	if (!q)
		return -ENOMEM;
	q->loop = loop;
	q->fd = fd;
	q->cap = cap;
	q->nowait = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	*ret = q;
	return 0;
}

static void chunks_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

bool pp_outq_put(struct pp_outq *q, const char *buf, size_t len)
{
	struct chunk *t, *fresh = NULL, *last = NULL, **link = &fresh;
	size_t room;

	if (q->failed)
		return true; /* nowhere to write to: as a write to a closed stdout */
	if (len > q->cap - q->queued) {
		if (q->dropped++ == q->dropped_told)
			pp_log(PP_LOG_WARN,
			       "output is not read: lines are dropped while %zu bytes wait for the "
			       "reader",
			       q->queued);
		return false;
	}
	/* The chunks it needs first: a line is queued whole or not at all. */
	t = q->tail;
	room = t ? CHUNK - t->len : 0;
	for (size_t need = len > room ? len - room : 0; need; need -= need < CHUNK ? need : CHUNK) {
		struct chunk *c = malloc(sizeof(*c));

		if (!c) {
			chunks_free(fresh);
			q->dropped++;
			return false;
		}
		c->next = NULL;
		c->len = 0;
		*link = c;
		link = &c->next;
		last = c;
	}
	if (fresh) {
		if (t)
			t->next = fresh;
		else
			q->head = fresh;
		q->tail = last;
	}
	if (!t || t->len == CHUNK)
		t = fresh;
	while (len) {
		size_t n = CHUNK - t->len < len ? CHUNK - t->len : len;

		memcpy(t->data + t->len, buf, n);
		t->len += n;
		q->queued += n;
		buf += n;
		len -= n;
		t = t->next;
	}
	return true;
}

bool pp_outq_printf(struct pp_outq *q, const char *fmt, ...)
{
	char small[1024], *big = NULL;
	va_list ap;
	int n;
	bool ok;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n >= sizeof(small)) {
		big = malloc((size_t)n + 1);
		if (!big) {
			q->dropped++;
			return false;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	ok = pp_outq_put(q, big ? big : small, (size_t)n);
	free(big);
	return ok;
}

static void fail(struct pp_outq *q, int err)
{
	/* EPIPE, EBADF...: the reader is gone; what is left can never be written. */
	pp_log_errno(PP_LOG_WARN, err, "output failed: %zu bytes and what follows are not written",
		     q->queued);
	q->failed = true;
	chunks_free(q->head);
	q->head = q->tail = NULL;
	q->queued = q->off = 0;
}

/* <n> bytes of head went out. */
static void consume(struct pp_outq *q, size_t n)
{
	q->off += n;
	q->queued -= n;
	if (q->off < q->head->len)
		return;
	q->off = 0;
	if (q->head == q->tail) {
		q->head->len = 0; /* kept for the next lines */
	} else {
		struct chunk *done = q->head;

		q->head = done->next;
		free(done);
	}
}

/* Write what the reader takes now: 0 (all of it), -EAGAIN (no room for the rest) or -errno. */
static int write_some(struct pp_outq *q)
{
	while (q->queued) {
		struct iovec iov = {q->head->data + q->off, q->head->len - q->off};
		ssize_t n = q->nowait ? pwritev2(q->fd, &iov, 1, -1, RWF_NOWAIT)
				      : writev(q->fd, &iov, 1);

		if (n > 0) {
			consume(q, (size_t)n);
		} else if (n < 0 && errno == EOPNOTSUPP && q->nowait) {
			/* A kernel without RWF_NOWAIT for this fd: written as stdio would. */
			q->nowait = false;
		} else if (n < 0 && errno != EINTR) {
			/* -EAGAIN too: no room now (RWF_NOWAIT, or an fd left O_NONBLOCK). */
			return -errno;
		} else if (!n) {
			return -EIO;
		}
	}
	return 0;
}

static void on_writable(void *ctx, int res)
{
	struct pp_outq *q = ctx;

	(void)res; /* POLLERR or POLLHUP: the write says which error */
	q->poll_id = 0;
	pp_outq_flush(q);
}

void pp_outq_flush(struct pp_outq *q)
{
	int rc;

	if (!q || q->poll_id || q->failed || !q->queued)
		return;
	rc = write_some(q);
	if (rc == -EAGAIN) {
		/* -EBUSY (a full ring): the next flush, at the end of this turn, tries again. */
		pp_loop_poll(q->loop, q->fd, POLLOUT, on_writable, q, &q->poll_id);
		return;
	}
	if (rc < 0) {
		fail(q, rc);
		return;
	}
	if (q->dropped > q->dropped_told) {
		pp_log(PP_LOG_WARN, "output is read again: %llu lines were dropped",
		       (unsigned long long)(q->dropped - q->dropped_told));
		q->dropped_told = q->dropped;
	}
}

size_t pp_outq_drain(struct pp_outq *q, pp_nsec deadline)
{
	if (!q)
		return 0;
	if (q->poll_id) {
		pp_loop_cancel(q->loop, q->poll_id);
		q->poll_id = 0;
	}
	while (!q->failed && q->queued) {
		struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};
		pp_nsec now = pp_clock_now();
		int rc = write_some(q);

		if (rc != -EAGAIN) {
			if (rc < 0)
				fail(q, rc);
			break;
		}
		if (now >= deadline)
			break;
		poll(&pfd, 1, (int)((deadline - now + PP_NSEC_PER_MSEC - 1) / PP_NSEC_PER_MSEC));
	}
	if (q->queued)
		pp_log(PP_LOG_WARN, "output is not read: %zu bytes of events are not written",
		       q->queued);
	return q->queued;
}

void pp_outq_free(struct pp_outq *q)
{
	if (!q)
		return;
	if (q->poll_id)
		pp_loop_cancel(q->loop, q->poll_id);
	chunks_free(q->head);
	free(q);
}
