// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring loop. Timers are not ring operations: the owner keeps deadlines in a heap
 * (core/sched.c) and passes the earliest to pp_loop_run_once(), which waits with
 * io_uring_submit_and_wait_timeout() — one submit-and-wait syscall per pass, no timer fd —
 * then runs the deferred task work that wait left (drain_task_work(): one more, or a few).
 *
 * A slot stays busy until its operation's one completion arrives, cancelled or not: only then
 * is the kernel done with the operation's buffers and fd (io_uring_prep_cancel(3): a cancel
 * request completes on its own, and the target still posts its own CQE). A retired slot
 * carries a shared record whose release callback runs when the last of its slots completes.
 */
#include "podprobe/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <liburing.h>

#include "podprobe/clock.h"

#define UD_CANCEL UINT64_MAX /* completions of cancel requests themselves */

/* include/uapi/linux/io_uring.h, Linux 6.7 (io_uring_cmd_sock()): not in liburing 2.3. */
#ifndef SOCKET_URING_OP_SETSOCKOPT
#define SOCKET_URING_OP_SETSOCKOPT 3
#endif
#define MAX_CHAIN_OPTS 4
#define DRAIN_TIMEOUT  PP_NSEC_PER_SEC
#define DRAIN_ROUNDS   16 /* of deferred task work a pass, see drain_task_work() */
#define TW_BATCH       20 /* deferred task work a kernel pass runs, see drain_task_work() */

/* Operations retired together; <release>(<obj>) runs when the last one completes. */
struct retire {
	pp_loop_release_fn release;
	void *obj;
	unsigned int left; /* operations still in flight */
};

struct slot {
	pp_loop_fn fn; /* NULL when cancelled */
	void *ctx;
	struct retire *retire; /* set when retired with a release */
	uint32_t gen;	       /* bumped at each reuse */
	bool busy;
	bool cancelled;	 /* a cancel request went out */
	bool nocancel;	 /* ends by itself (a chain's close): never cancelled */
	int err;	 /* a chain's connect: the socket's error, reported instead of -ECANCELED */
	uint64_t err_to; /* a chain's socket: the connect that reports its error */
	uint32_t next_free;
};

struct pp_loop {
	struct io_uring ring;
	struct slot *slots;
	uint32_t n_slots;
	uint32_t free_head; /* UINT32_MAX = none */
	unsigned int pending;
	unsigned int n_files;	 /* direct descriptor table, 0 = none */
	int files_err;		 /* why there is none (once tried) */
	pp_loop_wake_fn on_wake; /* pp_loop_set_on_wake() */
	void *wake_ctx;
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
	/*
	 * One thread submits and reaps (podprobe runs its loop on one thread), and it reaps only
	 * after a wait that enters the kernel with GETEVENTS (pp_loop_run_once(), pp_loop_free()):
	 * so the kernel may keep completions' task work until then (IORING_SETUP_DEFER_TASKRUN,
	 * Linux 6.1, which needs SINGLE_ISSUER) instead of interrupting the thread to run it as
	 * each socket becomes ready (io_uring_setup(2)). Older kernels refuse the flags: the
	 * default then.
	 */
	err = io_uring_queue_init(entries, &loop->ring,
				  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
	if (err == -EINVAL)
		err = io_uring_queue_init(entries, &loop->ring, 0);
	if (err < 0) {
		free(loop);
		return err;
	}
	*ret = loop;
	return 0;
}

static void dispatch(struct pp_loop *loop, uint64_t ud, int res);
static void cancel_slot(struct pp_loop *loop, uint32_t idx);

/* Move every ready completion out of the CQ and dispatch it; returns how many. */
static unsigned int reap_cqes(struct pp_loop *loop)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n, ran = 0;
	uint64_t uds[64];
	int res[64];

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
	return ran;
}

void pp_loop_free(struct pp_loop *loop)
{
	pp_nsec until;

	if (!loop)
		return;
	for (uint32_t i = 0; i < loop->n_slots; i++)
		if (loop->slots[i].busy) {
			loop->slots[i].fn = NULL;
			cancel_slot(loop, i);
		}
	until = pp_clock_now() + DRAIN_TIMEOUT;
	while (loop->pending) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		pp_nsec now = pp_clock_now();
		int err;

		if (now >= until)
			break;
		ts.tv_sec = (long long)((until - now) / PP_NSEC_PER_SEC);
		ts.tv_nsec = (long long)((until - now) % PP_NSEC_PER_SEC);
		err = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
		if (err < 0 && err != -ETIME && err != -EINTR && err != -EAGAIN)
			break;
		reap_cqes(loop);
	}
	/* Closes queued since (pp_loop_close, a release's) still have to reach the kernel. */
	io_uring_submit(&loop->ring);
	/*
	 * What is still pending keeps its retire record and object: the ring's teardown may
	 * complete it later, into that memory.
	 */
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
	loop->slots[idx].retire = NULL;
	loop->slots[idx].cancelled = false;
	loop->slots[idx].nocancel = false;
	loop->slots[idx].err = 0;
	loop->slots[idx].err_to = 0;
	loop->slots[idx].busy = true;
	loop->slots[idx].gen++;
	*ret_ud = ud_pack(idx, loop->slots[idx].gen);
	return 0;
}

static void slot_put(struct pp_loop *loop, uint32_t idx)
{
	loop->slots[idx].busy = false;
	loop->slots[idx].fn = NULL;
	loop->slots[idx].retire = NULL;
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
	/*
	 * Most receives here wait (a response to a request just sent): poll first, instead of a
	 * read of the empty socket before the poll is armed; data already there is seen by that
	 * poll and read at once (io_uring_prep_recv(3), Linux 5.19; a ring that defers task work
	 * is 6.1 or later, and older kernels refuse the flag).
	 */
	if (loop->ring.flags & IORING_SETUP_DEFER_TASKRUN)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
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
	/* No completion unless it fails: a close must not end the next wait early. */
	io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
}

/* The slot of live operation <id>, or NULL when it has completed (or never was). */
static struct slot *live_slot(struct pp_loop *loop, uint64_t id)
{
	uint32_t idx = (uint32_t)id, gen = (uint32_t)(id >> 32);

	if (!id || id == UD_CANCEL || idx >= loop->n_slots || !loop->slots[idx].busy ||
	    loop->slots[idx].gen != gen)
		return NULL;
	return &loop->slots[idx];
}

/* Ask the kernel to end slot <idx>'s operation early; its own completion still follows. */
static void cancel_slot(struct pp_loop *loop, uint32_t idx)
{
	struct slot *s = &loop->slots[idx];
	uint64_t id = ud_pack(idx, s->gen);
	struct io_uring_sqe *sqe;

	if (s->cancelled || s->nocancel)
		return;
	s->cancelled = true;
	sqe = sqe_get(loop);
	if (sqe) {
		io_uring_prep_cancel64(sqe, id, 0);
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
		return;
	}
	/* No SQE even after a flush: cancel synchronously (the completion still follows). */
	struct io_uring_sync_cancel_reg reg = {.addr = id, .timeout = {-1, -1}};

	io_uring_register_sync_cancel(&loop->ring, &reg);
}

void pp_loop_cancel(struct pp_loop *loop, uint64_t id)
{
	pp_loop_retire(loop, &id, 1, NULL, NULL);
}

int pp_loop_retire(struct pp_loop *loop, const uint64_t *ids, unsigned int n,
		   pp_loop_release_fn release, void *obj)
{
	struct retire *r = NULL;
	unsigned int live = 0;
	int err = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct slot *s = live_slot(loop, ids[i]);

		/* Each operation is retired once: a slot that has a record keeps it. */
		if (s && !s->retire)
			live++;
	}
	if (!live) {
		if (release)
			release(obj);
		return 0;
	}
	if (release) {
		r = malloc(sizeof(*r));
		if (r)
			*r = (struct retire){.release = release, .obj = obj, .left = live};
		else
			err = -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct slot *s = live_slot(loop, ids[i]);

		if (!s || s->retire)
			continue;
		s->fn = NULL; /* the completion is then dropped */
		s->retire = r;
		cancel_slot(loop, (uint32_t)ids[i]);
	}
	return err;
}

static void dispatch(struct pp_loop *loop, uint64_t ud, int res)
{
	uint32_t idx = (uint32_t)ud, gen = (uint32_t)(ud >> 32);
	struct retire *r;
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
	r = s->retire;
	if (s->err && res == -ECANCELED)
		res = s->err;
	if (s->err_to && res < 0) {
		struct slot *c = live_slot(loop, s->err_to);

		if (c)
			c->err = res;
	}
	slot_put(loop, idx);
	loop->pending--;
	if (r && --r->left == 0) {
		r->release(r->obj);
		free(r);
	}
	if (fn)
		fn(ctx, res);
}

/* Linux 6.7 or later: socket commands (setsockopt) on io_uring. */
static bool kernel_has_socket_cmds(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
}

int pp_loop_direct_files(struct pp_loop *loop, unsigned int n)
{
	struct io_uring_probe *probe;
	bool ok;
	int err;

	if (loop->n_files)
		return (int)loop->n_files;
	if (loop->files_err)
		return loop->files_err;
	probe = io_uring_get_probe_ring(&loop->ring);
	ok = probe && io_uring_opcode_supported(probe, IORING_OP_SOCKET) &&
	     io_uring_opcode_supported(probe, IORING_OP_URING_CMD) && kernel_has_socket_cmds();
	if (probe)
		io_uring_free_probe(probe);
	if (!ok) {
		loop->files_err = -EOPNOTSUPP;
		return loop->files_err;
	}
	err = n ? io_uring_register_files_sparse(&loop->ring, n) : -EINVAL;
	if (err < 0) {
		loop->files_err = err;
		return err;
	}
	loop->n_files = n;
	return (int)n;
}

unsigned int pp_loop_direct_count(const struct pp_loop *loop)
{
	return loop->n_files;
}

/* A setsockopt as a socket command (io_uring_prep_cmd_sock() of later liburings). */
static void prep_setsockopt(struct io_uring_sqe *sqe, unsigned int file,
			    const struct pp_loop_sockopt *o)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = (int)file;
	sqe->cmd_op = SOCKET_URING_OP_SETSOCKOPT;
	/* The uapi's level and optname share addr's place, optlen file_index's, optval addr3's. */
	sqe->addr = (uint64_t)(uint32_t)o->name << 32 | (uint32_t)o->level;
	sqe->file_index = o->len;
	sqe->addr3 = (uint64_t)(uintptr_t)o->val;
}

int pp_loop_connect_direct(struct pp_loop *loop, unsigned int file, int family,
			   const struct pp_loop_sockopt *opts, unsigned int n_opts,
			   const struct sockaddr *addr, unsigned int len, pp_loop_fn fn, void *ctx,
			   uint64_t ret_ids[2])
{
	unsigned int need = 3 + n_opts, k = 0;
	uint64_t conn_ud, sock_ud, close_ud;
	struct io_uring_sqe *sqes[3 + MAX_CHAIN_OPTS], *sqe;
	int err;

	if (file >= loop->n_files || n_opts > MAX_CHAIN_OPTS)
		return -EINVAL;
	/* The chain goes in one submission: a flush in its middle would cut the links. */
	if (io_uring_sq_space_left(&loop->ring) < need)
		io_uring_submit(&loop->ring);
	if (io_uring_sq_space_left(&loop->ring) < need)
		return -EBUSY;
	for (unsigned int i = 0; i < need; i++) {
		sqes[i] = io_uring_get_sqe(&loop->ring);
		if (!sqes[i])
			return -EBUSY; /* unreachable: there was room */
	}
	err = slot_get(loop, fn, ctx, &conn_ud);
	if (err < 0)
		goto nop;
	err = slot_get(loop, NULL, NULL, &sock_ud);
	if (err < 0) {
		slot_put(loop, (uint32_t)conn_ud);
		goto nop;
	}
	err = slot_get(loop, NULL, NULL, &close_ud);
	if (err < 0) {
		slot_put(loop, (uint32_t)conn_ud);
		slot_put(loop, (uint32_t)sock_ud);
		goto nop;
	}
	loop->slots[(uint32_t)sock_ud].err_to = conn_ud;
	loop->slots[(uint32_t)close_ud].nocancel = true;
	loop->pending += 3;

	/* No socket: the rest of the chain is cancelled and the connect reports its error. */
	sqe = sqes[k++];
	/* Direct descriptors are never inherited: SOCK_CLOEXEC is refused with them. */
	io_uring_prep_socket_direct(sqe, family, SOCK_STREAM, 0, file, 0);
	io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
	io_uring_sqe_set_data64(sqe, sock_ud);
	/* Hard links: a failed option does not stop the probe (setsockopt(2) as before). */
	for (unsigned int i = 0; i < n_opts; i++) {
		sqe = sqes[k++];
		prep_setsockopt(sqe, file, &opts[i]);
		io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK |
						    IOSQE_CQE_SKIP_SUCCESS);
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
	}
	sqe = sqes[k++];
	io_uring_prep_connect(sqe, (int)file, addr, len);
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK);
	io_uring_sqe_set_data64(sqe, conn_ud);
	sqe = sqes[k];
	io_uring_prep_close_direct(sqe, file);
	io_uring_sqe_set_data64(sqe, close_ud);
	ret_ids[0] = conn_ud;
	ret_ids[1] = close_ud;
	return 0;
nop:
	/* The SQEs are taken: they go out as no-ops without completions. */
	for (unsigned int i = 0; i < need; i++) {
		io_uring_prep_nop(sqes[i]);
		io_uring_sqe_set_flags(sqes[i], IOSQE_CQE_SKIP_SUCCESS);
		io_uring_sqe_set_data64(sqes[i], UD_CANCEL);
	}
	return err;
}

void pp_loop_submit(struct pp_loop *loop)
{
	io_uring_submit(&loop->ring);
}

/*
 * Run the task work the kernel holds for this ring (DEFER_TASKRUN) and has not run yet. Since
 * Linux 6.13 an enter runs at most TW_BATCH items a pass, and two passes, unless it waits for
 * more completions than that (io_uring/io_uring.c, IO_LOCAL_TW_DEFAULT_MAX; commit "io_uring:
 * limit local tw done"); and liburing's wait leaves out GETEVENTS, which runs them, when a
 * completion is ready. A wait for one completion so left the rest (the completions of sockets
 * that became ready) for later passes of the loop: of 200 sockets ready at once, a pass
 * reported 20 (tests/integ/test_loop.c). An enter that only gets events runs the next items
 * without a wait (a wait with no time for more completions sleeps until its timer fires, which
 * cost ~8% more CPU per raw SYN probe here). Fewer completions than a batch mean the batch was
 * not the limit: the drain stops there, so completions trickling in meanwhile do not keep it
 * entering the kernel.
 */
static void drain_task_work(struct pp_loop *loop)
{
	unsigned int ready = io_uring_cq_ready(&loop->ring), now;

	if (!(loop->ring.flags & IORING_SETUP_DEFER_TASKRUN) || ready < TW_BATCH)
		return;
	for (unsigned int i = 0; i < DRAIN_ROUNDS && ready < loop->ring.cq.ring_entries / 2; i++) {
		if (io_uring_get_events(&loop->ring) < 0)
			return;
		now = io_uring_cq_ready(&loop->ring);
		if (now - ready < TW_BATCH)
			return;
		ready = now;
	}
}

int pp_loop_run_once(struct pp_loop *loop, pp_nsec deadline)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
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
	drain_task_work(loop);
	if (loop->on_wake)
		loop->on_wake(loop->wake_ctx);
	return (int)reap_cqes(loop);
}

void pp_loop_set_on_wake(struct pp_loop *loop, pp_loop_wake_fn fn, void *ctx)
{
	loop->on_wake = fn;
	loop->wake_ctx = ctx;
}

unsigned int pp_loop_pending(const struct pp_loop *loop)
{
	return loop->pending;
}
