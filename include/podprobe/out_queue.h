// SPDX-License-Identifier: Apache-2.0
/*
 * An output stream (podprobe run's stdout) that does not block the loop: lines are queued in
 * memory, and a pipe or socket is written without blocking (pwritev2(2) RWF_NOWAIT) and waited
 * on with a poll in the ring, so a reader that does not keep up (a full pipe, a slow journald)
 * holds up neither the probes nor the API. At most <cap> bytes wait; a line that does not fit
 * is dropped whole and counted, never cut. Regular files and terminals are written as stdio
 * would, blocking (a file does not stall for good; a terminal's line discipline buffers).
 */
#ifndef PODPROBE_OUT_QUEUE_H
#define PODPROBE_OUT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/clock.h"

struct pp_loop;
struct pp_outq;

/* What podprobe's stdout holds for a slow reader (~14,000 event lines), and how long its last
 * lines may hold up the exit. */
#define PP_OUTQ_CAP	  (4u << 20)
#define PP_OUTQ_DRAIN_MAX (10 * PP_NSEC_PER_SEC)

/* A queue writing to <fd>, waiting through <loop>, holding at most <cap> bytes. 0 or -errno. */
int pp_outq_new(struct pp_loop *loop, int fd, size_t cap, struct pp_outq **ret);

/* Queue <len> bytes (one or more whole lines): false when they do not fit (then dropped). */
bool pp_outq_put(struct pp_outq *q, const char *buf, size_t len);

/* pp_outq_put() of a printf-formatted text. */
bool pp_outq_printf(struct pp_outq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write what is queued as far as the reader takes it now; the loop's poll does the rest. */
void pp_outq_flush(struct pp_outq *q);

/*
 * At exit, without the loop: write until everything queued is written, the fd fails, or
 * CLOCK_MONOTONIC reaches <deadline> (then a warning says what is left). Returns the bytes
 * left unwritten.
 */
size_t pp_outq_drain(struct pp_outq *q, pp_nsec deadline);

/* Free <q> (its poll, if armed, is cancelled). Accepts NULL. */
void pp_outq_free(struct pp_outq *q);

#endif
