// SPDX-License-Identifier: Apache-2.0
/*
 * The API server: its listeners, the connection cap and the timeouts. Accepting is a poll on
 * each listening socket followed by non-blocking accept4() calls until EAGAIN; every socket is
 * non-blocking, so nothing here can stall the loop.
 *
 * The cap keeps idle or stuck clients from locking out a working one: at the cap, a new
 * connection closes the connection that has waited longest without a complete request head
 * (idle keep-alive connections, connections that never sent one, slow heads); connections
 * being answered or streamed are never chosen. When every one is busy, the new connection is
 * closed at once. Out of fds (EMFILE), accepting pauses for a moment instead of spinning on a
 * listener that stays readable.
 */
#include "podprobe/api_server.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "api_server_int.h"

#define DEFAULT_MAX_CONNS    1024
#define DEFAULT_HEAD_TIMEOUT (10 * PP_NSEC_PER_SEC)
#define DEFAULT_IDLE_TIMEOUT (90 * PP_NSEC_PER_SEC)
#define DEFAULT_MAX_BACKLOG  (4u << 20)
#define ACCEPT_BATCH	     64
#define ACCEPT_PAUSE	     (100 * PP_NSEC_PER_MSEC)

static void on_accept_ready(void *ctx, int res);

/* "host:port" or "[v6]:port", numeric only. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	char host[128];
	const char *port, *h = addr;
	size_t hl;
	int err;

	if (*addr == '[') {
		const char *e = strchr(addr, ']');

		if (!e || e[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hl = (size_t)(e - h);
		port = e + 2;
	} else {
		const char *colon = strrchr(addr, ':');

		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - addr);
		port = colon + 1;
	}
	if (hl >= sizeof(host) || !*port)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	err = getaddrinfo(host, port, &hints, &ai);
	if (err || !ai)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int listen_tcp(struct pp_api_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int one = 1, fd, err;

	err = parse_addr(s->tcp_addr, &ss, &len);
	if (err < 0)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	s->tcp_fd = fd;
	return 0;
}

static int listen_unix(struct pp_api_server *s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, err;

	if (strlen(s->unix_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, s->unix_path);
	/* A socket left by an earlier run (the run lock says no other is live). */
	if (lstat(s->unix_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(s->unix_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/* SO_PEERCRED checks every peer; the mode keeps others from connecting at all. */
	if (chmod(s->unix_path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		close(fd);
		unlink(s->unix_path);
		return err;
	}
	s->unix_fd = fd;
	return 0;
}

static int arm(struct pp_api_server *s, int fd)
{
	uint64_t *id = fd == s->tcp_fd ? &s->tcp_poll : &s->unix_poll;
	/* The context tells the listeners apart: the low bit marks the unix one. */
	void *ctx = (void *)((uintptr_t)s | (fd == s->unix_fd));

	return pp_loop_poll(s->cfg.loop, fd, POLLIN, on_accept_ready, ctx, id);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

int pp_api_server_new(const struct pp_api_server_cfg *cfg, struct pp_api_server **ret)
{
	struct pp_api_server *s;
	bool oom = false;
	int err;

	if (!cfg->loop || !cfg->handler || (cfg->tcp_addr && (!cfg->ssl || !cfg->token)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->tcp_fd = s->unix_fd = -1;
	s->tcp_addr = dup_or_null(cfg->tcp_addr, &oom);
	s->token = dup_or_null(cfg->token, &oom);
	s->unix_path = dup_or_null(cfg->unix_path, &oom);
	s->cfg.tcp_addr = s->tcp_addr;
	s->cfg.token = s->token;
	s->cfg.unix_path = s->unix_path;
	s->token_len = s->token ? strlen(s->token) : 0;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = DEFAULT_MAX_CONNS;
	if (!s->cfg.head_timeout)
		s->cfg.head_timeout = DEFAULT_HEAD_TIMEOUT;
	if (!s->cfg.idle_timeout)
		s->cfg.idle_timeout = DEFAULT_IDLE_TIMEOUT;
	if (!s->cfg.max_backlog)
		s->cfg.max_backlog = DEFAULT_MAX_BACKLOG;
	err = -ENOMEM;
	if (oom)
		goto out_free;
	if (s->cfg.ssl && s->tcp_addr)
		s->ssl_ref = SSL_CTX_up_ref(s->cfg.ssl) == 1;
	if (s->tcp_addr) {
		err = listen_tcp(s);
		if (err < 0)
			goto out_free;
		err = arm(s, s->tcp_fd);
		if (err < 0)
			goto out_free;
	}
	if (s->unix_path) {
		err = listen_unix(s);
		if (err < 0)
			goto out_free;
		err = arm(s, s->unix_fd);
		if (err < 0)
			goto out_free;
	}
	*ret = s;
	return 0;

out_free:
	pp_api_server_free(s);
	return err;
}

unsigned int pp_api_server_port(const struct pp_api_server *s)
{
	return s && s->tcp_fd >= 0 ? s->port : 0;
}

/* Unix peers: root or our own uid only. */
static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

/* At the cap: close the connection idle longest; false when every one is busy. */
static bool make_room(struct pp_api_server *s)
{
	struct pp_api_conn *oldest = NULL;

	for (struct pp_api_conn *c = s->live; c; c = c->next)
		if (pp_api_conn_idle(c) && (!oldest || c->t_wait <= oldest->t_wait))
			oldest = c;
	if (!oldest)
		return false;
	pp_api_conn_close(oldest);
	return true;
}

static void add_conn(struct pp_api_server *s, int fd, bool local, pp_nsec now)
{
	struct pp_api_conn *c;

	if (s->n_live >= s->cfg.max_conns && !make_room(s)) {
		close(fd);
		return;
	}
	c = pp_api_conn_new(s, fd, local, now);
	if (!c) {
		close(fd);
		return;
	}
	c->next = s->live;
	if (s->live)
		s->live->prev = c;
	s->live = c;
	s->n_live++;
	pp_api_conn_pump(c);
}

static void on_accept_ready(void *ctx, int res)
{
	struct pp_api_server *s = (void *)((uintptr_t)ctx & ~(uintptr_t)1);
	bool local = (uintptr_t)ctx & 1;
	int lfd = local ? s->unix_fd : s->tcp_fd;
	pp_nsec now = pp_clock_now();

	*(local ? &s->unix_poll : &s->tcp_poll) = 0;
	if (res < 0 && res != -EINTR) {
		pp_log(PP_LOG_WARN, "api: poll on the %s listener: %s", local ? "unix" : "tcp",
		       strerror(-res));
		s->accept_paused_until = now + ACCEPT_PAUSE;
		return;
	}
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				break;
			/* EMFILE, ENFILE, ENOBUFS: try again in a moment, do not spin. */
			pp_log(PP_LOG_WARN, "api: accept: %s, pausing", strerror(errno));
			s->accept_paused_until = now + ACCEPT_PAUSE;
			return;
		}
		if (local && !peer_allowed(fd)) {
			close(fd);
			continue;
		}
		add_conn(s, fd, local, now);
	}
	if (arm(s, lfd) < 0)
		s->accept_paused_until = now + ACCEPT_PAUSE;
}

pp_nsec pp_api_server_next(const struct pp_api_server *s)
{
	pp_nsec next = PP_NSEC_INFINITY;

	if (!s)
		return next;
	if (s->want_run)
		return 0;
	if (s->accept_paused_until)
		next = s->accept_paused_until;
	for (const struct pp_api_conn *c = s->live; c; c = c->next) {
		pp_nsec d = pp_api_conn_deadline(c);

		if (d < next)
			next = d;
	}
	return next;
}

static void reap_dead(struct pp_api_server *s)
{
	struct pp_api_conn *c = s->dead, *n;

	for (; c; c = n) {
		n = c->next;
		if (!c->ops_done)
			continue;
		if (c->prev)
			c->prev->next = c->next;
		else
			s->dead = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pp_api_conn_destroy(c);
	}
}

void pp_api_server_run(struct pp_api_server *s, pp_nsec now)
{
	struct pp_api_conn *c, *n;

	if (!s)
		return;
	s->want_run = false;
	if (s->accept_paused_until && now >= s->accept_paused_until) {
		s->accept_paused_until = 0;
		if (s->tcp_fd >= 0 && !s->tcp_poll && arm(s, s->tcp_fd) < 0)
			s->accept_paused_until = now + ACCEPT_PAUSE;
		if (s->unix_fd >= 0 && !s->unix_poll && arm(s, s->unix_fd) < 0)
			s->accept_paused_until = now + ACCEPT_PAUSE;
	}
	for (c = s->live; c; c = n) {
		n = c->next; /* closing moves <c> to the dead list */
		if (c->drop || pp_api_conn_deadline(c) <= now)
			pp_api_conn_close(c);
	}
	reap_dead(s);
}

void pp_api_server_free(struct pp_api_server *s)
{
	struct pp_api_conn *c, *n;

	if (!s)
		return;
	while (s->live)
		pp_api_conn_close(s->live);
	for (c = s->dead; c; c = n) {
		n = c->next;
		if (c->ops_done) {
			pp_api_conn_destroy(c);
		} else {
			/* The loop's release frees it after its final completion. */
			c->orphan = true;
			c->s = NULL;
		}
	}
	/* Polls touch no memory of ours: cancelling is enough. */
	if (s->tcp_poll)
		pp_loop_cancel(s->cfg.loop, s->tcp_poll);
	if (s->unix_poll)
		pp_loop_cancel(s->cfg.loop, s->unix_poll);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	if (s->unix_fd >= 0) {
		close(s->unix_fd);
		unlink(s->unix_path);
	}
	if (s->ssl_ref)
		SSL_CTX_free(s->cfg.ssl);
	free(s->tcp_addr);
	free(s->token);
	free(s->unix_path);
	free(s);
}
