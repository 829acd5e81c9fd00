/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the test apps in tools/ (demo-app, fake-target, grpc-health-server) have in common: log
 * lines prefixed with the program name, the monotonic clock and poll() timeouts, validated
 * strtol, "addr:port" formatting, and the listen/accept/signalfd steps of a one-thread server.
 * Durations are parsed by libppcore's pp_parse_duration() (podprobe/kubefmt.h).
 *
 * Unlike libppcore this is the I/O edge: it reads the clock, makes syscalls and logs, in the
 * tools' format. Every function that fails returns -errno; the ones that log say so.
 */
#ifndef TOOLS_TOOL_UTIL_H
#define TOOLS_TOOL_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include "podprobe/time-t.h"

#define TU_NO_DEADLINE	     PP_NSEC_INFINITY	      /* a deadline that never comes */
#define TU_ACCEPT_BACKOFF_NS (100 * PP_NSEC_PER_MSEC) /* after EMFILE/ENFILE/ENOBUFS/ENOMEM */
#define TU_ADDR_STR_MAX	     64			      /* "[v6addr]:port" */

/*
 * The program name that starts every log line ("demo-app"). Each tool defines it once, so the
 * prefix is fixed at build time whatever argv[0] says.
 */
extern const char tu_prog[];

/*
 * "<tu_prog>: <message>\n" on stdout: one event, one line, for a supervisor or test reading a
 * line-buffered pipe.
 */
void tu_logln(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tu_vlogln(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* The same on stderr, after flushing stdout so that the two streams stay in order. */
void tu_errln(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC now. */
pp_nsec tu_now_ns(void);

/*
 * <delta> after <start>, or TU_NO_DEADLINE when <delta> is TU_NO_DEADLINE. Parsed durations
 * stay below INT64_MAX (pp_parse_duration), so the sum cannot wrap for a monotonic <start>.
 */
pp_nsec tu_deadline_after(pp_nsec start, pp_nsec delta);

/*
 * Milliseconds from <now> to <deadline> for poll() or epoll_wait(): -1 (forever) for
 * TU_NO_DEADLINE, 0 once due, else rounded up so that the wait never ends before <deadline>
 * and spins, and capped at INT_MAX.
 */
int tu_poll_timeout_ms(pp_nsec deadline, pp_nsec now);

/*
 * Validated strtol: the whole of <s> in base 10, an optional '-' and digits only (strtol
 * alone would take leading spaces and a '+'), within [<min>, <max>], into <ret_val>. Returns
 * 0, -EINVAL for anything that is not such a number, or -ERANGE.
 */
int tu_parse_long(const char *s, long min, long max, long *ret_val);

/*
 * "addr:port" of <sa> (<len> bytes) into <buf> of <buf_len>, with brackets for IPv6
 * ("[::1]:80"), numeric; "?" when getnameinfo() cannot make sense of it.
 */
void tu_fmt_sockaddr(const struct sockaddr *sa, socklen_t len, char *buf, size_t buf_len);

/*
 * Resolve <host> and bind <port> (0 = any free port) with SO_REUSEADDR on the first address
 * that works, then listen() with <backlog>. The socket is non-blocking and close-on-exec. When
 * <ret_name> is not NULL, the bound "addr:port" goes there (or "<host>:<port>" should
 * getsockname() fail). Returns the fd, or -errno after logging why (-EINVAL when <host> does
 * not resolve).
 */
int tu_listen_tcp(const char *host, int port, int backlog, char *ret_name, size_t name_len);

/*
 * accept4() one connection on <listen_fd> (non-blocking, close-on-exec), retrying EINTR and
 * ECONNABORTED, with the peer's address in <ret_ss>/<ret_len>. Returns the fd, or -errno when
 * there is nothing to accept now: -EAGAIN when the queue is empty; after EMFILE, ENFILE,
 * ENOBUFS or ENOMEM, whose connection stays queued, it logs the pause and sets
 * <accept_resume_ns> to <now> + TU_ACCEPT_BACKOFF_NS so that the caller stops polling the
 * listener until then; anything else is logged and ignored.
 */
int tu_accept(int listen_fd, pp_nsec now, pp_nsec *accept_resume_ns,
	      struct sockaddr_storage *ret_ss, socklen_t *ret_len);

/*
 * Block the signals of <mask> and return a non-blocking, close-on-exec signalfd for them, or
 * -errno after logging which call failed.
 */
int tu_signalfd(const sigset_t *mask);

#endif
