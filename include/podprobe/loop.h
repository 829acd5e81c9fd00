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

/* Cancel operation <id>; its callback will not run. Unknown ids are ignored. */
void pp_loop_cancel(struct pp_loop *loop, uint64_t id);

/*
 * Submit what is queued, wait until a completion arrives or CLOCK_MONOTONIC reaches
 * <deadline> (PP_NSEC_INFINITY = no limit), and run the callbacks of every ready completion.
 * Returns the number of callbacks run, or -errno.
 */
int pp_loop_run_once(struct pp_loop *loop, pp_nsec deadline);

/* Operations in flight. */
unsigned int pp_loop_pending(const struct pp_loop *loop);

#endif
