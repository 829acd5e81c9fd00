/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the test apps in tools/; see tool_util.h. */
#include "tool_util.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* ---- logging ------------------------------------------------------------------------------- */

void tu_vlogln(const char *fmt, va_list ap)
{
	fprintf(stdout, "%s: ", tu_prog);
	vprintf(fmt, ap);
	putchar('\n');
}

void tu_logln(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tu_vlogln(fmt, ap);
	va_end(ap);
}

void tu_errln(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", tu_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- time ---------------------------------------------------------------------------------- */

pp_nsec tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (pp_nsec)ts.tv_sec * PP_NSEC_PER_SEC + (pp_nsec)ts.tv_nsec;
}

pp_nsec tu_deadline_after(pp_nsec start, pp_nsec delta)
{
	if (delta == TU_NO_DEADLINE)
		return TU_NO_DEADLINE;
	return start + delta; /* delta <= INT64_MAX and start is small: no overflow */
}

int tu_poll_timeout_ms(pp_nsec deadline, pp_nsec now)
{
	pp_nsec ms;

	if (deadline == TU_NO_DEADLINE)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + PP_NSEC_PER_MSEC - 1) / PP_NSEC_PER_MSEC;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- parsing and formatting ---------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int tu_parse_long(const char *s, long min, long max, long *ret_val)
{
	char *end;
	long v;

	/* strtol() would also take leading spaces and a '+': refuse them */
	if (!is_digit(s[0]) && !(s[0] == '-' && is_digit(s[1])))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret_val = v;
	return 0;
}

void tu_fmt_sockaddr(const struct sockaddr *sa, socklen_t len, char *buf, size_t buf_len)
{
	char host[INET6_ADDRSTRLEN], port[8];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, buf_len, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, buf_len, "[%s]:%s", host, port);
	else
		snprintf(buf, buf_len, "%s:%s", host, port);
}

/* ---- sockets and signals ------------------------------------------------------------------- */

int tu_listen_tcp(const char *host, int port, int backlog, char *ret_name, size_t name_len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	char port_str[8];
	int fd = -1, err = -EADDRNOTAVAIL, one = 1, gai;

	snprintf(port_str, sizeof(port_str), "%d", port);
	gai = getaddrinfo(host, port_str, &hints, &res);
	if (gai) {
		tu_errln("cannot resolve '%s': %s", host, gai_strerror(gai));
		return -EINVAL;
	}
	/* The first address that works, as a server given a name would do. */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* Restarted servers must rebind at once despite TIME_WAIT leftovers. */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		tu_errln("cannot listen on '%s' port %d: %s", host, port, strerror(-err));
		return err;
	}
	if (!ret_name)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &ss_len) == 0)
		tu_fmt_sockaddr((struct sockaddr *)&ss, ss_len, ret_name, name_len);
	else
		snprintf(ret_name, name_len, "%s:%d", host, port);
	return fd;
}

int tu_accept(int listen_fd, pp_nsec now, pp_nsec *accept_resume_ns,
	      struct sockaddr_storage *ret_ss, socklen_t *ret_len)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd, err;

		fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			*ret_ss = ss;
			*ret_len = len;
			return fd;
		}
		err = -errno;
		if (err == -EINTR || err == -ECONNABORTED)
			continue;
		if (err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM) {
			/* The connection stays queued; polling now would spin. */
			tu_errln("accept: %s, pausing accepts for %llums", strerror(-err),
				 TU_ACCEPT_BACKOFF_NS / PP_NSEC_PER_MSEC);
			*accept_resume_ns = now + TU_ACCEPT_BACKOFF_NS;
		} else if (err != -EAGAIN && err != -EWOULDBLOCK) {
			tu_errln("accept: %s, ignoring", strerror(-err));
		}
		return err;
	}
}

int tu_signalfd(const sigset_t *mask)
{
	int fd, err;

	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0) {
		err = -errno;
		tu_errln("sigprocmask: %s", strerror(-err));
		return err;
	}
	fd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		tu_errln("signalfd: %s", strerror(-err));
		return err;
	}
	return fd;
}
