// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring loop. Timers are not ring operations: the owner keeps deadlines in a heap
 * (core/sched.c) and passes the earliest to pp_loop_run_once(), which waits with
 * io_uring_submit_and_wait_timeout() — one submit-and-wait syscall per pass, no timer fd.
 */
#include "podprobe/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <liburing.h>

#include "podprobe/clock.h"

#define UD_CANCEL UINT64_MAX /* completions of cancel requests themselves */

struct slot {
	pp_loop_fn fn; /* NULL when cancelled */
	void *ctx;
	uint32_t gen; /* bumped at each reuse */
	bool busy;
	uint32_t next_free;
};

struct pp_loop {
	struct io_uring ring;
	struct slot *slots;
	uint32_t n_slots;
	uint32_t free_head; /* UINT32_MAX = none */
	unsigned int pending;
};

static uint64_t ud_pack(uint32_t idx, uint32_t gen)
{
	return (uint64_t)gen << 32 | idx;
}

int pp_loop_new(unsigned int entries, struct pp_loop **ret)
{
	struct pp_loop *loop = calloc(1, sizeof(*loop));
	int err;

	if (!loop)
		return -ENOMEM;
	loop->free_head = UINT32_MAX;
	err = io_uring_queue_init(entries, &loop->ring, 0);
	if (err < 0) {
		free(loop);
		return err;
	}
	*ret = loop;
	return 0;
}

void pp_loop_free(struct pp_loop *loop)
{
	if (!loop)
		return;
	io_uring_queue_exit(&loop->ring);
	free(loop->slots);
	free(loop);
}

static int slot_get(struct pp_loop *loop, pp_loop_fn fn, void *ctx, uint64_t *ret_ud)
{
	uint32_t idx;

	if (loop->free_head == UINT32_MAX) {
		uint32_t n = loop->n_slots ? 2 * loop->n_slots : 64, i;
		struct slot *s = realloc(loop->slots, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = loop->n_slots; i < n; i++)
			s[i] = (struct slot){.next_free = i + 1 < n ? i + 1 : UINT32_MAX};
		loop->slots = s;
		loop->free_head = loop->n_slots;
		loop->n_slots = n;
	}
	idx = loop->free_head;
	loop->free_head = loop->slots[idx].next_free;
	loop->slots[idx].fn = fn;
	loop->slots[idx].ctx = ctx;
	loop->slots[idx].busy = true;
	loop->slots[idx].gen++;
	*ret_ud = ud_pack(idx, loop->slots[idx].gen);
	return 0;
}

static void slot_put(struct pp_loop *loop, uint32_t idx)
{
	loop->slots[idx].busy = false;
	loop->slots[idx].fn = NULL;
	loop->slots[idx].next_free = loop->free_head;
	loop->free_head = idx;
}

static struct io_uring_sqe *sqe_get(struct pp_loop *loop)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);

	if (!sqe) {
		/* The SQ is full: flush it and try once more. */
		io_uring_submit(&loop->ring);
		sqe = io_uring_get_sqe(&loop->ring);
	}
	return sqe;
}

static int queue(struct pp_loop *loop, struct io_uring_sqe *sqe, pp_loop_fn fn, void *ctx,
		 uint64_t *ret_id)
{
	uint64_t ud;
	int err = slot_get(loop, fn, ctx, &ud);

	if (err < 0) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
		return err;
	}
	io_uring_sqe_set_data64(sqe, ud);
	loop->pending++;
	if (ret_id)
		*ret_id = ud;
	return 0;
}

int pp_loop_poll(struct pp_loop *loop, int fd, unsigned int events, pp_loop_fn fn, void *ctx,
		 uint64_t *ret_id)
{
	struct io_uring_sqe *sqe = sqe_get(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, events);
	return queue(loop, sqe, fn, ctx, ret_id);
}

int pp_loop_read(struct pp_loop *loop, int fd, void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id)
{
	struct io_uring_sqe *sqe = sqe_get(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, len, (uint64_t)-1);
	return queue(loop, sqe, fn, ctx, ret_id);
}

int pp_loop_connect(struct pp_loop *loop, int fd, const struct sockaddr *addr, unsigned int len,
		    pp_loop_fn fn, void *ctx, uint64_t *ret_id)
{
	struct io_uring_sqe *sqe = sqe_get(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_connect(sqe, fd, addr, len);
	return queue(loop, sqe, fn, ctx, ret_id);
}

int pp_loop_send(struct pp_loop *loop, int fd, const void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id)
{
	struct io_uring_sqe *sqe = sqe_get(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
	return queue(loop, sqe, fn, ctx, ret_id);
}

int pp_loop_recv(struct pp_loop *loop, int fd, void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id)
{
	struct io_uring_sqe *sqe = sqe_get(loop);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, fd, buf, len, 0);
	return queue(loop, sqe, fn, ctx, ret_id);
}

void pp_loop_close(struct pp_loop *loop, int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);

	if (!sqe) {
		close(fd);
		return;
	}
	io_uring_prep_close(sqe, fd);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
}

void pp_loop_cancel(struct pp_loop *loop, uint64_t id)
{
	uint32_t idx = (uint32_t)id, gen = (uint32_t)(id >> 32);
	struct io_uring_sqe *sqe;

	if (idx >= loop->n_slots || !loop->slots[idx].busy || loop->slots[idx].gen != gen)
		return;
	loop->slots[idx].fn = NULL; /* the -ECANCELED completion is then dropped */
	sqe = sqe_get(loop);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, id, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
}

static void dispatch(struct pp_loop *loop, uint64_t ud, int res)
{
	uint32_t idx = (uint32_t)ud, gen = (uint32_t)(ud >> 32);
	struct slot *s;
	pp_loop_fn fn;
	void *ctx;

	if (ud == UD_CANCEL || idx >= loop->n_slots)
		return;
	s = &loop->slots[idx];
	if (!s->busy || s->gen != gen)
		return;
	fn = s->fn;
	ctx = s->ctx;
	slot_put(loop, idx);
	loop->pending--;
	if (fn)
		fn(ctx, res);
}

int pp_loop_run_once(struct pp_loop *loop, pp_nsec deadline)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	unsigned int head, n = 0, ran = 0;
	uint64_t uds[64];
	int res[64];
	int err;

	if (deadline == PP_NSEC_INFINITY) {
		err = io_uring_submit_and_wait(&loop->ring, 1);
	} else {
		pp_nsec now = pp_clock_now(), rel = deadline > now ? deadline - now : 0;

		ts.tv_sec = (long long)(rel / PP_NSEC_PER_SEC);
		ts.tv_nsec = (long long)(rel % PP_NSEC_PER_SEC);
		err = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
	}
	if (err < 0 && err != -ETIME && err != -EINTR && err != -EAGAIN)
		return err;
	/* Callbacks may queue new operations: copy the CQEs out before running them. */
	for (;;) {
		n = 0;
		io_uring_for_each_cqe(&loop->ring, head, cqe)
		{
			uds[n] = io_uring_cqe_get_data64(cqe);
			res[n] = cqe->res;
			if (++n == 64)
				break;
		}
		if (!n)
			break;
		io_uring_cq_advance(&loop->ring, n);
		for (unsigned int i = 0; i < n; i++)
			dispatch(loop, uds[i], res[i]);
		ran += n;
	}
	return (int)ran;
}

unsigned int pp_loop_pending(const struct pp_loop *loop)
{
	return loop->pending;
}
