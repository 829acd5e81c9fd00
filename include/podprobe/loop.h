/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The io_uring event loop: one-shot operations with a completion callback. Each operation gets
 * a slot; user_data packs the slot index and a generation (house style §7), so a completion
 * for a cancelled or recycled slot is dropped instead of reaching the wrong owner.
 */
#ifndef PODPROBE_LOOP_H
#define PODPROBE_LOOP_H

#include <stdint.h>

#include "podprobe/time-t.h"

struct pp_loop;

/* Completion callback: <res> is the CQE result (>= 0, or -errno). */
typedef void (*pp_loop_fn)(void *ctx, int res);

/* Create a loop with a ring of <entries> SQEs. Returns 0 or -errno. */
int pp_loop_new(unsigned int entries, struct pp_loop **ret);

/*
 * Cancel every operation still in flight (no callback runs), wait up to a second for their
 * final completions, run the release callbacks they were retired with, and free <loop>.
 * Operations the kernel has not finished by then keep their memory (leaked, never freed while
 * in use). Accepts NULL.
 */
void pp_loop_free(struct pp_loop *loop);

/* Wait for <events> (POLLIN...) on <fd> once. <ret_id> (may be NULL) names it for cancel. */
int pp_loop_poll(struct pp_loop *loop, int fd, unsigned int events, pp_loop_fn fn, void *ctx,
		 uint64_t *ret_id);

/* Read up to <len> bytes from <fd> into <buf> once (<buf> must stay valid until completion). */
int pp_loop_read(struct pp_loop *loop, int fd, void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id);

struct sockaddr;

/* Connect <fd> to <addr> (<addr> must stay valid until completion). */
int pp_loop_connect(struct pp_loop *loop, int fd, const struct sockaddr *addr, unsigned int len,
		    pp_loop_fn fn, void *ctx, uint64_t *ret_id);

/* send() / recv() once on socket <fd>; <buf> must stay valid until completion. */
int pp_loop_send(struct pp_loop *loop, int fd, const void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id);
int pp_loop_recv(struct pp_loop *loop, int fd, void *buf, unsigned int len, pp_loop_fn fn,
		 void *ctx, uint64_t *ret_id);

/*
 * Close <fd> through the ring: the close rides along with the next submission instead of
 * costing a syscall of its own. Falls back to close(2) when the ring is full.
 */
void pp_loop_close(struct pp_loop *loop, int fd);

/*
 * Direct descriptors (io_uring_register_files(3)): register a table of <n> slots once, so that
 * pp_loop_connect_direct() can run a whole connection without a file descriptor. A table
 * counts against RLIMIT_NOFILE as <n> descriptors would. Returns the table's size (the
 * existing one when called again), or -errno (then there are no direct descriptors; the
 * kernel also needs IORING_OP_SOCKET and socket setsockopt commands, Linux 6.7).
 */
int pp_loop_direct_files(struct pp_loop *loop, unsigned int n);

/* Slots of the direct descriptor table, 0 = none. */
unsigned int pp_loop_direct_count(const struct pp_loop *loop);

/* A setsockopt() of an int or a struct linger; <val> must stay valid until completion. */
struct pp_loop_sockopt {
	int level;
	int name;
	const void *val;
	unsigned int len;
};

/*
 * A socket's whole life as one linked chain in one submission, on direct descriptor <file>:
 * socket(<family>, SOCK_STREAM), the <n_opts> (at most 4) setsockopts, connect to <addr>, and
 * the close, which runs however the connect ends. <fn>(<ctx>, res) runs once with the
 * connect's result, or the socket's error when there was no socket. ret_ids[0] names the
 * connect (cancel it to end early); ret_ids[1] the close, which is never cancelled: retire both
 * (pp_loop_retire), and <file> is free again once the release has run. <addr> must stay valid
 * until completion. Returns 0 or -errno (nothing queued).
 */
int pp_loop_connect_direct(struct pp_loop *loop, unsigned int file, int family,
			   const struct pp_loop_sockopt *opts, unsigned int n_opts,
			   const struct sockaddr *addr, unsigned int len, pp_loop_fn fn, void *ctx,
			   uint64_t ret_ids[2]);

/*
 * Ownership rule: the kernel may read or write an operation's buffers, and use its fd, until
 * that operation's final completion (its result, or -ECANCELED) has been seen. Cancelling only
 * asks the kernel to finish early; it does not end that use. So memory an operation can touch
 * is released from a release callback that the loop runs after the final completion.
 */
typedef void (*pp_loop_release_fn)(void *obj);

/*
 * Cancel operation <id> whose callback must not run any more. Only for operations that touch
 * no memory of the caller's (a poll); use pp_loop_retire() for the others. Unknown or finished
 * ids are ignored.
 */
void pp_loop_cancel(struct pp_loop *loop, uint64_t id);

/*
 * Cancel the <n> operations <ids> (0 entries, unknown and finished ids are skipped): their
 * callbacks will not run. <release>(<obj>) runs once every one of them has completed — from
 * inside this call when none is in flight any more, else from a later pp_loop_run_once() or
 * pp_loop_free(). <release> may be NULL. Returns 0, or -ENOMEM: then the operations are
 * cancelled but <obj> is never released (leaked rather than freed while the kernel may use it).
 */
int pp_loop_retire(struct pp_loop *loop, const uint64_t *ids, unsigned int n,
		   pp_loop_release_fn release, void *obj);

/*
 * Submit what is queued now, without waiting: for an answer that must not wait behind slow
 * work later in the same pass (a reply queued before a process is spawned).
 */
void pp_loop_submit(struct pp_loop *loop);

/*
 * Submit what is queued, wait until a completion arrives or CLOCK_MONOTONIC reaches
 * <deadline> (PP_NSEC_INFINITY = no limit), and run the callbacks of every ready completion.
 * Returns the number of callbacks run, or -errno.
 */
int pp_loop_run_once(struct pp_loop *loop, pp_nsec deadline);

/*
 * <fn>(<ctx>) runs at every wake-up of pp_loop_run_once(), before its completions: for input
 * that arrives without waking the loop (the kernel's sampled records, user/io/signals.c) and
 * must be seen before what the completions report. One per loop; NULL removes it.
 */
typedef void (*pp_loop_wake_fn)(void *ctx);
void pp_loop_set_on_wake(struct pp_loop *loop, pp_loop_wake_fn fn, void *ctx);

/* Operations in flight, cancelled ones included until their final completion. */
unsigned int pp_loop_pending(const struct pp_loop *loop);

#endif
