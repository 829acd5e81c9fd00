/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake-target: the odd HTTP/TCP server that podprobe's probe integration tests and benchmarks
 * aim at. The request path picks the behaviour (/status/503, /slow, /hang, /big, /garbage, ...),
 * so one process stands in for every server a tcpSocket or httpGet probe has to get right.
 *
 * One thread, one level-triggered epoll loop, non-blocking sockets (and non-blocking OpenSSL
 * with --tls, on a self-signed certificate made in memory at start-up). Memory per connection
 * is bounded: the request head is parsed straight out of a shared scratch buffer when it comes
 * in one read, and only a head split over several reads gets its own 16 KiB buffer, freed once
 * the head is complete. /big and /bighdr are sent from two shared read-only blocks, never
 * copied per connection. Every deadline (idle close, /slow pacing, lingering close, accept
 * backoff) sits in one binary min-heap, so the loop sleeps in epoll_wait() until the earliest
 * one and never spins. Signals arrive through a signalfd, so there is no signal handler.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/tool_util.h"

#define PROG		"fake-target"
#define EXIT_USAGE	2
#define MAX_LISTENERS	64
#define DEFAULT_BACKLOG 4096 /* the kernel caps it at net.core.somaxconn */
#define DEFAULT_IDLE_S	30
#define IDLE_MAX_S	86400
#define REQ_MAX		(16 * 1024) /* request line + headers, else 431 */
#define PATH_LEN	512	    /* a longer path is none of ours: 404 */
#define QUERY_LEN	512
#define LINGER_NS	(2 * PP_NSEC_PER_SEC) /* drain the peer after our half-close */
#define ACCEPT_BATCH	256		      /* accepts per wakeup: a SYN storm can't starve */
#define FLUSH_BUDGET	(256 * 1024)	      /* bytes per connection per wakeup, same reason */
#define DRAIN_READS	4		      /* discarding reads per connection per wakeup */
#define MAX_EVENTS	512
#define SLOW_DEFAULT_MS 100
#define SLOW_MAX_MS	3600000
#define REDIRECT_MAX	1000000
#define BIG_BODY_LEN	(1024 * 1024)
#define PATTERN_LEN	(64 * 1024) /* /big body block; BIG_BODY_LEN is a multiple of it */
#define PAD_LINE_LEN	64
#define PAD_LINES	64
#define PAD_BLOCK_LEN	(PAD_LINE_LEN * PAD_LINES)
#define PAD_BLOCKS	17 /* 17 x 4 KiB = 68 KiB of X-Pad headers, over 64 KiB */

_Static_assert(BIG_BODY_LEN % PATTERN_LEN == 0, "/big is sent in whole pattern blocks");
_Static_assert(BIG_BODY_LEN == 1048576, "resp_big_head spells the length out");
_Static_assert((PAD_BLOCK_LEN * PAD_BLOCKS) > 64 * 1024, "/bighdr must exceed 64 KiB");

/* Long-only options get keys above the ASCII range. */
enum opt_key {
	OPT_HOST = 0x100,
	OPT_NO_ACCEPT,
	OPT_TLS,
	OPT_BACKLOG,
	OPT_IDLE_TIMEOUT,
};

struct pp_opts {
	const char *host;	  /* address or name to bind, default 127.0.0.1 */
	int ports[MAX_LISTENERS]; /* 0..65535, 0 = the kernel picks a free port */
	int n_ports;		  /* one listener per --port */
	bool no_accept;		  /* listen, never accept() */
	bool tls;		  /* HTTPS with a self-signed certificate */
	int backlog;		  /* listen() backlog */
	int idle_s;		  /* close a silent or stalled connection after this, 0 = never */
	bool quiet;		  /* no per-request lines on stderr */
};

const char tu_prog[] = PROG;
const char *argp_program_version = PROG " (podprobe) 0.1";

/* What an epoll event or a timer belongs to: the first member of each owner. */
enum src_kind {
	SRC_SIGNAL = 0,
	SRC_LISTENER,
	SRC_CONN,
	_SRC_MAX,
};

struct timer {
	uint64_t when_ns;     /* absolute CLOCK_MONOTONIC deadline */
	long idx;	      /* slot in the heap, -1 when not armed */
	enum src_kind *owner; /* the kind field of the listener or conn that holds it */
};

struct heap {
	struct timer **v; /* min-heap on when_ns */
	size_t len;
	size_t cap;
};

struct sig_src {
	enum src_kind kind; /* SRC_SIGNAL */
	int fd;		    /* signalfd for SIGTERM, SIGINT, SIGUSR1 */
};

struct listener {
	enum src_kind kind; /* SRC_LISTENER */
	int fd;
	int port;		    /* bound port, resolved when --port 0 */
	bool paused;		    /* accept() backoff after running out of fds or memory */
	struct timer tm;	    /* end of the backoff */
	char addr[TU_ADDR_STR_MAX]; /* "127.0.0.1:8080" as printed */
};

enum conn_state {
	CS_HANDSHAKE = 0, /* TLS handshake */
	CS_READ,	  /* collecting the request head */
	CS_WRITE,	  /* sending the response */
	CS_SLOW_WAIT,	  /* /slow: response paused until the next byte's tick */
	CS_HANG,	  /* /hang: request read, never answered */
	CS_LINGER,	  /* response out, write side shut: draining the peer until EOF */
	_CS_MAX,
};

struct conn {
	enum src_kind kind; /* SRC_CONN */
	int fd;
	enum conn_state state;
	struct timer tm;	    /* idle, /slow tick or linger deadline, by state */
	uint32_t events;	    /* epoll interest currently registered */
	SSL *ssl;		    /* NULL without --tls, and once lingering */
	uint32_t ssl_want;	    /* EPOLLIN or EPOLLOUT, as the last SSL call asked */
	const struct listener *lst; /* where it was accepted */
	char *req;		    /* head split over reads: REQ_MAX + 1 bytes, else NULL */
	size_t req_len;		    /* bytes in req */
	char *own;		    /* formatted response, freed with the conn, or NULL */
	const char *seg;	    /* response piece being sent... */
	size_t seg_len;		    /* ...its length... */
	size_t seg_off;		    /* ...and how much of it is out */
	const char *rep;	    /* then this block... */
	size_t rep_len;
	unsigned int rep_left; /* ...this many more times... */
	const char *tail;      /* ...then this, or NULL */
	size_t tail_len;
	uint64_t slow_ns;  /* /slow: one byte per interval, 0 = full speed */
	bool peer_eof;	   /* /slow: the peer shut its write side, stop reading */
	bool dead;	   /* closed; freed after this loop pass */
	struct conn *prev; /* live list, or the graveyard (next only) */
	struct conn *next;
	char peer[TU_ADDR_STR_MAX]; /* for log lines, empty with --quiet */
};

struct server {
	const struct pp_opts *opts;
	int ep; /* epoll fd */
	struct sig_src sig;
	struct listener lst[MAX_LISTENERS];
	int n_lst;
	struct heap timers;
	SSL_CTX *tls;	    /* NULL without --tls */
	struct conn *live;  /* open connections */
	struct conn *grave; /* closed this pass, freed at its end */
	char *pattern;	    /* PATTERN_LEN bytes of /big body */
	char *pad;	    /* PAD_BLOCK_LEN bytes of X-Pad header lines */
	uint64_t now_ns;    /* cached after each epoll_wait() */
	uint64_t idle_ns;   /* 0 = never */
	unsigned long long n_accepted;
	unsigned long long n_requests;
	unsigned long long n_active;
	unsigned long long n_flip;	 /* /flip requests so far */
	unsigned long long n_fail_after; /* /fail-after/N requests so far */
	bool stop;			 /* SIGTERM or SIGINT seen */
	char scratch[REQ_MAX + 1];	 /* request heads that come in one read, drained bytes */
};

/* Responses that never change. Every one says "Connection: close", and we close after it. */
static const char resp_slow[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static const char resp_no_reason[] =
	"HTTP/1.1 200\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static const char resp_garbage[] = "this is not http\r\n\r\n";
static const char resp_chunked[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: text/plain\r\n"
				   "Transfer-Encoding: chunked\r\n"
				   "Connection: close\r\n"
				   "\r\n"
				   "8;name=value\r\n"
				   "chunked \r\n"
				   "a;quoted=\"x y\";flag\r\n"
				   "body is ok\r\n"
				   "1\r\n"
				   "\n\r\n"
				   "0\r\n"
				   "\r\n";
static const char resp_big_head[] = "HTTP/1.1 200 OK\r\n"
				    "Content-Type: application/octet-stream\r\n"
				    "Content-Length: 1048576\r\n"
				    "Connection: close\r\n"
				    "\r\n";
static const char resp_bighdr_head[] = "HTTP/1.1 200 OK\r\n"
				       "Content-Type: text/plain\r\n"
				       "Content-Length: 2\r\n"
				       "Connection: close\r\n";
static const char resp_bighdr_tail[] = "\r\nok";

/* ---- small helpers ------------------------------------------------------------------------- */

/* Copy <n> bytes of request text into <buf> for a log line, replacing control bytes. */
static void fmt_printable(const char *s, size_t n, char *buf, size_t buf_len)
{
	size_t i;

	if (n > buf_len - 1)
		n = buf_len - 1;
	for (i = 0; i < n; i++)
		buf[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[n] = '\0';
}

static const char *reason_phrase(int code)
{
	static const struct {
		int code;
		const char *text;
	} reasons[] = {
		{100, "Continue"},
		{101, "Switching Protocols"},
		{200, "OK"},
		{201, "Created"},
		{202, "Accepted"},
		{204, "No Content"},
		{206, "Partial Content"},
		{301, "Moved Permanently"},
		{302, "Found"},
		{303, "See Other"},
		{304, "Not Modified"},
		{307, "Temporary Redirect"},
		{308, "Permanent Redirect"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{418, "I'm a teapot"},
		{429, "Too Many Requests"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].text;
	return "Unknown";
}

/* ---- timers: a binary min-heap of deadlines -------------------------------------------------- */

static void heap_put(struct heap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = (long)i;
}

static void heap_up(struct heap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent]->when_ns <= t->when_ns)
			break;
		heap_put(h, i, h->v[parent]);
		i = parent;
	}
	heap_put(h, i, t);
}

static void heap_down(struct heap *h, size_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len && h->v[child + 1]->when_ns < h->v[child]->when_ns)
			child++;
		if (h->v[child]->when_ns >= t->when_ns)
			break;
		heap_put(h, i, h->v[child]);
		i = child;
	}
	heap_put(h, i, t);
}

/* Make room for <n> armed timers, so that timer_arm() cannot fail. Returns 0 or -ENOMEM. */
static int heap_reserve(struct heap *h, size_t n)
{
	struct timer **v;
	size_t cap;

	if (n <= h->cap)
		return 0;
	cap = h->cap ? h->cap : 256;
	while (cap < n)
		cap *= 2;
	v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

/* Arm or move <t> to <when>. The caller reserved a slot (heap_reserve). */
static void timer_arm(struct heap *h, struct timer *t, uint64_t when)
{
	uint64_t old = t->when_ns;

	t->when_ns = when;
	if (t->idx >= 0) {
		if (when < old)
			heap_up(h, (size_t)t->idx);
		else
			heap_down(h, (size_t)t->idx);
		return;
	}
	h->v[h->len++] = t;
	heap_up(h, h->len - 1);
}

static void timer_disarm(struct heap *h, struct timer *t)
{
	struct timer *last;
	size_t i;

	if (t->idx < 0)
		return;
	i = (size_t)t->idx;
	t->idx = -1;
	last = h->v[--h->len];
	if (i == h->len)
		return;
	heap_put(h, i, last);
	heap_up(h, i);
	heap_down(h, (size_t)last->idx);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static void tls_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error())) {
		ERR_error_string_n(e, buf, sizeof(buf));
		tu_errln("%s: %s", what, buf);
	}
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/*
 * A server context on a fresh EC P-256 key and a self-signed certificate for localhost,
 * 127.0.0.1 and ::1, valid from an hour ago for a year. Nothing touches the disk, so every run
 * has a new key: clients must skip verification (curl -k, a Kubernetes HTTPS probe does).
 * Returns the context or NULL, with OpenSSL's errors logged.
 */
static SSL_CTX *tls_ctx_new(void)
{
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pkey;
	X509_NAME *name;
	uint64_t serial;
	X509 *x;

	pkey = EVP_EC_gen("P-256");
	if (!pkey)
		goto out_log;
	x = X509_new();
	if (!x)
		goto out_free_pkey;
	if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto out_free_x509;
	serial >>= 1; /* positive, at most 63 bits */
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) ||
	    !X509_set_pubkey(x, pkey) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"podprobe fake-target", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto out_free_x509;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0)
		goto out_free_x509;
	if (!X509_sign(x, pkey, EVP_sha256()))
		goto out_free_x509;

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		goto out_free_x509;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
		goto out_free_x509;
	}
	/*
	 * Partial writes let a big response go out as the socket takes it; a moving buffer lets
	 * a retry after WANT_WRITE come from the same bytes at a recomputed address; released
	 * buffers keep thousands of idle TLS connections small. A peer that drops TCP without
	 * close_notify is a plain EOF to us, as it is to most servers.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);

out_free_x509:
	X509_free(x); /* the context holds its own references */
out_free_pkey:
	EVP_PKEY_free(pkey);
out_log:
	if (!ctx)
		tls_log_errors("tls setup");
	return ctx;
}

/*
 * Map the result <r> of an SSL call on <c> to our convention: -EAGAIN (with ssl_want set to
 * what to wait for), 0 for EOF, or a negative errno.
 */
static int ssl_result(struct conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->ssl_want = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : 0;
	default:
		return -EPROTO;
	}
}

/* ---- connection I/O: plain or TLS ----------------------------------------------------------- */

/* Bytes read (> 0), 0 at EOF, -EAGAIN, or a negative errno. */
static ssize_t conn_recv(struct conn *c, char *buf, size_t len)
{
	ssize_t n;
	int r;

	if (!c->ssl) {
		do
			n = recv(c->fd, buf, len, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		return n;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0) {
		c->ssl_want = EPOLLIN;
		return r;
	}
	return ssl_result(c, r);
}

/* Bytes written (> 0), -EAGAIN, or a negative errno. */
static ssize_t conn_send(struct conn *c, const char *buf, size_t len)
{
	ssize_t n;
	int r;

	if (!c->ssl) {
		do
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		return n;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0) {
		c->ssl_want = EPOLLOUT;
		return r;
	}
	r = ssl_result(c, r);
	return r == 0 ? -EPIPE : r;
}

/* ---- connection lifetime -------------------------------------------------------------------- */

static void conn_close(struct server *srv, struct conn *c)
{
	if (c->dead)
		return;
	timer_disarm(&srv->timers, &c->tm);
	SSL_free(c->ssl); /* does not close the fd */
	c->ssl = NULL;
	close(c->fd); /* also drops it from the epoll set */
	c->fd = -1;
	free(c->req);
	c->req = NULL;
	free(c->own);
	c->own = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* Freed after this pass: the current epoll batch may still name it. */
	c->dead = true;
	c->prev = NULL;
	c->next = srv->grave;
	srv->grave = c;
	srv->n_active--;
}

static void reap(struct server *srv)
{
	while (srv->grave) {
		struct conn *c = srv->grave;

		srv->grave = c->next;
		free(c);
	}
}

/* Enter <st>, arming the deadline that goes with it. */
static void set_state(struct server *srv, struct conn *c, enum conn_state st)
{
	c->state = st;
	switch (st) {
	case CS_HANDSHAKE:
	case CS_READ:
	case CS_WRITE:
		if (srv->idle_ns)
			timer_arm(&srv->timers, &c->tm, srv->now_ns + srv->idle_ns);
		else
			timer_disarm(&srv->timers, &c->tm);
		break;
	case CS_SLOW_WAIT:
		timer_arm(&srv->timers, &c->tm, srv->now_ns + c->slow_ns);
		break;
	case CS_HANG:
		/* Until the peer closes, however long: that is the point of /hang. */
		timer_disarm(&srv->timers, &c->tm);
		break;
	case CS_LINGER:
		timer_arm(&srv->timers, &c->tm, srv->now_ns + LINGER_NS);
		break;
	default:
		break;
	}
	c->ssl_want = st == CS_WRITE ? EPOLLOUT : EPOLLIN;
}

/* Bytes moved: push the idle deadline back. */
static void touch(struct server *srv, struct conn *c)
{
	if (srv->idle_ns && c->state <= CS_WRITE)
		timer_arm(&srv->timers, &c->tm, srv->now_ns + srv->idle_ns);
}

/* Register the interest the state needs; closes <c> if epoll refuses. */
static void update_interest(struct server *srv, struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	switch (c->state) {
	case CS_LINGER:
		ev.events = EPOLLIN;
		break;
	case CS_WRITE:
		ev.events = c->ssl ? c->ssl_want : EPOLLOUT;
		break;
	case CS_SLOW_WAIT:
		ev.events = c->peer_eof ? 0 : c->ssl ? c->ssl_want : EPOLLIN;
		break;
	default:
		ev.events = c->ssl ? c->ssl_want : EPOLLIN;
		break;
	}
	if (ev.events == c->events)
		return;
	if (epoll_ctl(srv->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		tu_errln("epoll_ctl: %s", strerror(errno));
		conn_close(srv, c);
		return;
	}
	c->events = ev.events;
}

/* ---- responses ------------------------------------------------------------------------------ */

/* Send <len> bytes at <p> (not owned), then nothing more. */
static void queue(struct conn *c, const char *p, size_t len)
{
	c->seg = p;
	c->seg_len = len;
	c->seg_off = 0;
	c->rep = NULL;
	c->rep_len = 0;
	c->rep_left = 0;
	c->tail = NULL;
	c->tail_len = 0;
	c->slow_ns = 0;
}

/* The next piece of the response into seg; false once everything is out. */
static bool next_piece(struct conn *c)
{
	if (c->rep_left) {
		c->rep_left--;
		c->seg = c->rep;
		c->seg_len = c->rep_len;
	} else if (c->tail) {
		c->seg = c->tail;
		c->seg_len = c->tail_len;
		c->tail = NULL;
	} else {
		return false;
	}
	c->seg_off = 0;
	return true;
}

static bool more_to_send(const struct conn *c)
{
	return c->seg_off < c->seg_len || c->rep_left || c->tail;
}

/*
 * Format a <code> response into c->own and queue it: <location> (or NULL) as a Location
 * header, <body> of <body_len> bytes unless the status forbids a body (1xx, 204, 304), in
 * which case there is no Content-Length either. Returns 0 or -ENOMEM.
 */
static int reply(struct conn *c, int code, const char *location, const char *body, size_t body_len)
{
	bool bodyless = (code >= 100 && code < 200) || code == 204 || code == 304;
	char *head, *p;
	int n;

	if (bodyless)
		n = asprintf(&head, "HTTP/1.1 %d %s\r\n%s%s%sConnection: close\r\n\r\n", code,
			     reason_phrase(code), location ? "Location: " : "",
			     location ? location : "", location ? "\r\n" : "");
	else
		n = asprintf(&head,
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			     "%s%s%sConnection: close\r\n\r\n",
			     code, reason_phrase(code), body_len, location ? "Location: " : "",
			     location ? location : "", location ? "\r\n" : "");
	if (n < 0)
		return -ENOMEM;
	if (!bodyless && body_len) {
		p = realloc(head, (size_t)n + body_len);
		if (!p) {
			free(head);
			return -ENOMEM;
		}
		head = p;
		memcpy(head + n, body, body_len);
		n += (int)body_len;
	}
	free(c->own);
	c->own = head;
	queue(c, head, (size_t)n);
	return 0;
}

static int reply_ok(struct conn *c)
{
	return reply(c, 200, NULL, "ok", 2);
}

/* ---- requests ------------------------------------------------------------------------------- */

struct http_req {
	const char *head; /* request line onwards, up to (not including) the blank line */
	size_t head_len;
	const char *method; /* request line tokens, not NUL-terminated */
	int method_len;
	const char *target;
	int target_len;
	const char *host; /* first Host header value, trimmed, or NULL */
	int host_len;
	char path[PATH_LEN];   /* target's path without query, "" if too long */
	char query[QUERY_LEN]; /* after '?', "" if none or too long */
	bool query_too_long;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim a line to [<*p>, <*end>) without the trailing CR and surrounding blanks. */
static void trim(const char **p, const char **end)
{
	if (*end > *p && (*end)[-1] == '\r')
		(*end)--;
	while (*p < *end && is_space(**p))
		(*p)++;
	while (*end > *p && is_space((*end)[-1]))
		(*end)--;
}

/*
 * Split the head <head> of <len> bytes (request line first, ends with the blank line) into
 * <ret>. Tolerant: LF or CRLF line ends, runs of blanks between tokens, no HTTP version,
 * absolute-form targets. Returns 0, or -EINVAL when there is no method or no target.
 */
static int parse_request(const char *head, size_t len, struct http_req *ret)
{
	const char *end = head + len, *p, *le, *eol, *t, *tend, *q;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	/* The echo copy stops before the blank line that ends the head. */
	n = len;
	if (n && head[n - 1] == '\n')
		n--;
	if (n && head[n - 1] == '\r')
		n--;
	ret->head = head;
	ret->head_len = n;

	eol = memchr(head, '\n', len);
	if (!eol)
		return -EINVAL;
	p = head;
	le = eol;
	trim(&p, &le);
	ret->method = p;
	while (p < le && !is_space(*p))
		p++;
	ret->method_len = (int)(p - ret->method);
	while (p < le && is_space(*p))
		p++;
	ret->target = p;
	while (p < le && !is_space(*p))
		p++;
	ret->target_len = (int)(p - ret->target);
	if (!ret->method_len || !ret->target_len)
		return -EINVAL;

	for (p = eol + 1; p < end; p = eol + 1) {
		const char *colon, *v, *vend;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon - p != 4 || strncasecmp(p, "host", 4))
			continue;
		v = colon + 1;
		vend = eol;
		trim(&v, &vend);
		ret->host = v;
		ret->host_len = (int)(vend - v);
		break;
	}

	/* "http://authority/path?query" or "/path?query" */
	t = ret->target;
	tend = t + ret->target_len;
	q = memchr(t, ':', (size_t)(tend - t));
	if (*t != '/' && q && tend - q >= 3 && !memcmp(q, "://", 3)) {
		t = memchr(q + 3, '/', (size_t)(tend - q - 3));
		if (!t)
			t = tend;
	}
	q = memchr(t, '?', (size_t)(tend - t));
	n = (size_t)((q ? q : tend) - t);
	if (n == 0)
		snprintf(ret->path, sizeof(ret->path), "/");
	else if (n < sizeof(ret->path))
		memcpy(ret->path, t, n);
	if (q) {
		n = (size_t)(tend - q - 1);
		if (n < sizeof(ret->query))
			memcpy(ret->query, q + 1, n);
		else
			ret->query_too_long = true;
	}
	return 0;
}

/* <path> is <prefix> followed by a number in [<min>, <max>], stored in <ret_n>. */
static bool path_num(const char *path, const char *prefix, long min, long max, long *ret_n)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && tu_parse_long(path + n, min, max, ret_n) == 0;
}

/* /slow's "ms=N" query parameter into <ret_ms>, default SLOW_DEFAULT_MS. 0 or -EINVAL. */
static int slow_interval(const struct http_req *rq, long *ret_ms)
{
	char query[QUERY_LEN], *save = NULL, *kv;
	long ms = SLOW_DEFAULT_MS;

	if (rq->query_too_long)
		return -EINVAL;
	snprintf(query, sizeof(query), "%s", rq->query);
	for (kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save))
		if (!strncmp(kv, "ms=", 3) && tu_parse_long(kv + 3, 0, SLOW_MAX_MS, &ms) < 0)
			return -EINVAL;
	*ret_ms = ms;
	return 0;
}

/* A Host header value we are willing to put into a Location header verbatim. */
static bool host_ok(const char *h, int len)
{
	int i;

	if (!h || len < 1 || len > 255)
		return false;
	for (i = 0; i < len; i++)
		if (h[i] <= 0x20 || h[i] >= 0x7f || h[i] == '/' || h[i] == '?' || h[i] == '#' ||
		    h[i] == '@' || h[i] == '\\')
			return false;
	return true;
}

/* 302 to /redirect-abs/<n> at the authority the client used (its Host), or our address. */
static int reply_redirect_abs(struct conn *c, const struct http_req *rq, long n)
{
	const char *scheme = c->ssl ? "https" : "http";
	char local[TU_ADDR_STR_MAX], *loc;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int err;

	if (host_ok(rq->host, rq->host_len)) {
		if (asprintf(&loc, "%s://%.*s/redirect-abs/%ld", scheme, rq->host_len, rq->host,
			     n) < 0)
			return -ENOMEM;
	} else {
		if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0)
			snprintf(local, sizeof(local), "%s", c->lst->addr);
		else
			tu_fmt_sockaddr((struct sockaddr *)&ss, len, local, sizeof(local));
		if (asprintf(&loc, "%s://%s/redirect-abs/%ld", scheme, local, n) < 0)
			return -ENOMEM;
	}
	err = reply(c, 302, loc, "redirect\n", 9);
	free(loc);
	return err;
}

enum action {
	ACT_REPLY = 0, /* send what is queued, then close */
	ACT_SLOW,      /* send what is queued one byte per c->slow_ns */
	ACT_HANG,      /* never answer */
	ACT_CLOSE,     /* close at once */
	_ACT_MAX,
};

static const char *const action_names[_ACT_MAX] = {
	[ACT_REPLY] = "reply",
	[ACT_SLOW] = "slow",
	[ACT_HANG] = "hang",
	[ACT_CLOSE] = "close",
};

/*
 * Choose the response to <rq> by its path and queue it on <c>. Sets <ret_code> for the log
 * line (0 when the response has no status line of ours). Returns the action, or -ENOMEM.
 */
static int route(struct server *srv, struct conn *c, const struct http_req *rq, int *ret_code)
{
	const char *path = rq->path;
	char loc[64];
	long n;
	int err;

	*ret_code = 200;
	if (!strcmp(path, "/") || !strcmp(path, "/ok") || !strcmp(path, "/healthz")) {
		err = reply_ok(c);
	} else if (!strncmp(path, "/status/", 8)) {
		if (strlen(path + 8) == 3 && path_num(path, "/status/", 100, 999, &n)) {
			char body[32];
			int len = snprintf(body, sizeof(body), "status %ld\n", n);

			*ret_code = (int)n;
			err = reply(c, (int)n, NULL, body, (size_t)len);
		} else {
			*ret_code = 404;
			err = reply(c, 404, NULL, "not found\n", 10);
		}
	} else if (path_num(path, "/redirect/", 0, REDIRECT_MAX, &n)) {
		if (n == 0) {
			err = reply_ok(c);
		} else {
			snprintf(loc, sizeof(loc), "/redirect/%ld", n - 1);
			*ret_code = 302;
			err = reply(c, 302, loc, "redirect\n", 9);
		}
	} else if (path_num(path, "/redirect-abs/", 0, REDIRECT_MAX, &n)) {
		if (n == 0) {
			err = reply_ok(c);
		} else {
			*ret_code = 302;
			err = reply_redirect_abs(c, rq, n - 1);
		}
	} else if (!strcmp(path, "/redirect-loop")) {
		*ret_code = 302;
		err = reply(c, 302, "/redirect-loop", "redirect\n", 9);
	} else if (!strcmp(path, "/redirect-other-host")) {
		snprintf(loc, sizeof(loc), "%s://other.invalid:%d/ok", c->ssl ? "https" : "http",
			 c->lst->port);
		*ret_code = 302;
		err = reply(c, 302, loc, "redirect\n", 9);
	} else if (!strcmp(path, "/moved")) {
		*ret_code = 301;
		err = reply(c, 301, "/ok", "moved\n", 6);
	} else if (!strcmp(path, "/slow")) {
		if (slow_interval(rq, &n) < 0) {
			*ret_code = 400;
			err = reply(c, 400, NULL, "bad ms, expected 0..3600000\n", 28);
		} else {
			queue(c, resp_slow, sizeof(resp_slow) - 1);
			c->slow_ns = (uint64_t)n * PP_NSEC_PER_MSEC;
			/* 0 ms is full speed: a slow_ns of 0 means "not paced" */
			return n ? ACT_SLOW : ACT_REPLY;
		}
	} else if (!strcmp(path, "/hang")) {
		*ret_code = 0;
		return ACT_HANG;
	} else if (!strcmp(path, "/close")) {
		*ret_code = 0;
		return ACT_CLOSE;
	} else if (!strcmp(path, "/big")) {
		queue(c, resp_big_head, sizeof(resp_big_head) - 1);
		c->rep = srv->pattern;
		c->rep_len = PATTERN_LEN;
		c->rep_left = BIG_BODY_LEN / PATTERN_LEN;
		return ACT_REPLY;
	} else if (!strcmp(path, "/bighdr")) {
		queue(c, resp_bighdr_head, sizeof(resp_bighdr_head) - 1);
		c->rep = srv->pad;
		c->rep_len = PAD_BLOCK_LEN;
		c->rep_left = PAD_BLOCKS;
		c->tail = resp_bighdr_tail;
		c->tail_len = sizeof(resp_bighdr_tail) - 1;
		return ACT_REPLY;
	} else if (!strcmp(path, "/chunked")) {
		queue(c, resp_chunked, sizeof(resp_chunked) - 1);
		return ACT_REPLY;
	} else if (!strcmp(path, "/garbage")) {
		*ret_code = 0;
		queue(c, resp_garbage, sizeof(resp_garbage) - 1);
		return ACT_REPLY;
	} else if (!strcmp(path, "/no-reason")) {
		queue(c, resp_no_reason, sizeof(resp_no_reason) - 1);
		return ACT_REPLY;
	} else if (!strcmp(path, "/echo")) {
		err = reply(c, 200, NULL, rq->head, rq->head_len);
	} else if (!strcmp(path, "/flip")) {
		/* 200, 503, 200, ... process-wide, starting with 200 */
		if (srv->n_flip++ % 2 == 0) {
			err = reply_ok(c);
		} else {
			*ret_code = 503;
			err = reply(c, 503, NULL, "flip\n", 5);
		}
	} else if (path_num(path, "/fail-after/", 0, LONG_MAX, &n)) {
		/* One counter for all /fail-after/N requests of this process. */
		if (++srv->n_fail_after <= (unsigned long long)n) {
			err = reply_ok(c);
		} else {
			*ret_code = 500;
			err = reply(c, 500, NULL, "fail\n", 5);
		}
	} else {
		*ret_code = 404;
		err = reply(c, 404, NULL, "not found\n", 10);
	}
	return err < 0 ? err : ACT_REPLY;
}

/* Serve the complete head at <head> (<len> bytes, request line first) on <c>. */
static void handle_request(struct server *srv, struct conn *c, const char *head, size_t len)
{
	char method[16], target[128], what[16];
	struct http_req rq;
	int act, code;

	srv->n_requests++;
	if (parse_request(head, len, &rq) < 0) {
		code = 400;
		act = reply(c, 400, NULL, "bad request\n", 12) < 0 ? -ENOMEM : ACT_REPLY;
	} else {
		act = route(srv, c, &rq, &code);
	}
	if (!srv->opts->quiet) {
		fmt_printable(rq.method, (size_t)rq.method_len, method, sizeof(method));
		fmt_printable(rq.target, (size_t)rq.target_len, target, sizeof(target));
		if (act < 0)
			snprintf(what, sizeof(what), "error");
		else if (code)
			snprintf(what, sizeof(what), "%d%s", code, act == ACT_SLOW ? " slow" : "");
		else
			snprintf(what, sizeof(what), "%s",
				 rq.path[0] && !strcmp(rq.path, "/garbage") ? "garbage"
									    : action_names[act]);
		tu_errln("%s %s %s -> %s", c->peer, method[0] ? method : "-",
			 target[0] ? target : "-", what);
	}
	free(c->req); /* the response no longer refers to the head */
	c->req = NULL;
	c->req_len = 0;
	switch (act) {
	case ACT_REPLY:
	case ACT_SLOW:
		set_state(srv, c, CS_WRITE);
		break;
	case ACT_HANG:
		set_state(srv, c, CS_HANG);
		break;
	case ACT_CLOSE:
	default:
		conn_close(srv, c);
		break;
	}
}

/*
 * The end of a request head in <buf>[0, <len>) as an offset just past its blank line, or 0
 * when not there yet. Empty lines before the request line are skipped (RFC 9112 2.2), and
 * their count goes to <ret_skip>. Lines may end in CRLF or a bare LF. <from> is where the
 * previous scan stopped.
 */
static size_t head_end(const char *buf, size_t len, size_t from, size_t *ret_skip)
{
	size_t skip = 0, i;

	while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
		skip++;
	*ret_skip = skip;
	/* A terminator must follow a line that starts at or after skip. */
	for (i = from > skip + 1 ? from : skip + 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n')
			return i + 1;
		if (buf[i - 1] == '\r' && i >= skip + 2 && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/*
 * Read the request head. Returns 1 when it is complete and handled, 0 at EOF, -EAGAIN, or
 * a negative errno. A head over REQ_MAX gets a 431.
 */
static int read_request(struct server *srv, struct conn *c)
{
	size_t end, skip, from;
	ssize_t n;

	for (;;) {
		if (!c->req) {
			/* Most heads come in one read: parse them from the shared scratch. */
			n = conn_recv(c, srv->scratch, REQ_MAX);
			if (n <= 0)
				return (int)n;
			touch(srv, c);
			end = head_end(srv->scratch, (size_t)n, 0, &skip);
			if (end) {
				handle_request(srv, c, srv->scratch + skip, end - skip);
				return 1;
			}
			c->req = malloc(REQ_MAX + 1);
			if (!c->req)
				return -ENOMEM;
			memcpy(c->req, srv->scratch, (size_t)n);
			c->req_len = (size_t)n;
			continue;
		}
		if (c->req_len == REQ_MAX) {
			srv->n_requests++;
			if (!srv->opts->quiet)
				tu_errln("%s request head over %d bytes -> 431", c->peer, REQ_MAX);
			free(c->req);
			c->req = NULL;
			if (reply(c, 431, NULL, "request header fields too large\n", 32) < 0)
				return -ENOMEM;
			set_state(srv, c, CS_WRITE);
			return 1;
		}
		n = conn_recv(c, c->req + c->req_len, REQ_MAX - c->req_len);
		if (n <= 0)
			return (int)n;
		touch(srv, c);
		from = c->req_len;
		c->req_len += (size_t)n;
		end = head_end(c->req, c->req_len, from, &skip);
		if (end) {
			/* handle_request() frees c->req, after which nothing reads it */
			handle_request(srv, c, c->req + skip, end - skip);
			return 1;
		}
	}
}

/*
 * Send the queued response. Returns 1 when all of it is out, 0 to wait for the socket (or
 * for the next wakeup once FLUSH_BUDGET is spent), 2 when /slow pacing wants the next byte
 * later, or a negative errno.
 */
static int flush_response(struct server *srv, struct conn *c)
{
	size_t budget = FLUSH_BUDGET, len;
	ssize_t n;

	for (;;) {
		if (c->seg_off == c->seg_len && !next_piece(c))
			return 1;
		if (!budget)
			return 0;
		len = c->seg_len - c->seg_off;
		if (c->slow_ns)
			len = 1;
		else if (len > budget)
			len = budget;
		n = conn_send(c, c->seg + c->seg_off, len);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		c->seg_off += (size_t)n;
		budget -= (size_t)n;
		touch(srv, c);
		if (c->slow_ns)
			return more_to_send(c) ? 2 : 1;
	}
}

/* Read and drop what the peer sends. Returns 0 at EOF, -EAGAIN, or a negative errno. */
static int discard_input(struct server *srv, struct conn *c)
{
	ssize_t n;
	int i;

	for (i = 0; i < DRAIN_READS || (c->ssl && SSL_pending(c->ssl) > 0); i++) {
		n = conn_recv(c, srv->scratch, REQ_MAX);
		if (n <= 0)
			return (int)n;
	}
	return -EAGAIN; /* more later: level-triggered epoll reports it again */
}

/*
 * Response complete: send close_notify, shut our write side so the peer sees EOF at once,
 * then read until its EOF before closing, so that unread request bytes can't make the kernel
 * answer with a RST that destroys the response in the peer's receive queue.
 */
static void finish(struct server *srv, struct conn *c)
{
	if (c->ssl) {
		ERR_clear_error();
		SSL_shutdown(c->ssl); /* best effort: the response is complete anyway */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	free(c->own);
	c->own = NULL;
	c->seg = NULL;
	if (shutdown(c->fd, SHUT_WR) < 0) {
		conn_close(srv, c);
		return;
	}
	set_state(srv, c, CS_LINGER);
}

static void log_conn_error(struct server *srv, struct conn *c, const char *what, int err)
{
	if (srv->opts->quiet)
		return;
	if (c->ssl && err == -EPROTO)
		tls_log_errors(c->peer);
	else
		tu_errln("%s %s: %s", c->peer, what, strerror(-err));
}

/* Make as much progress on <c> as its sockets allow, then wait for the next event. */
static void conn_run(struct server *srv, struct conn *c)
{
	int r;

	while (!c->dead) {
		switch (c->state) {
		case CS_HANDSHAKE:
			ERR_clear_error();
			errno = 0;
			r = SSL_do_handshake(c->ssl);
			if (r != 1) {
				r = ssl_result(c, r);
				if (r == -EAGAIN)
					goto wait;
				/* EOF: a tcpSocket probe on a TLS port, nothing to report */
				if (r < 0)
					log_conn_error(srv, c, "tls handshake", r);
				conn_close(srv, c);
				return;
			}
			touch(srv, c);
			set_state(srv, c, CS_READ);
			break;
		case CS_READ:
			r = read_request(srv, c);
			if (r == -EAGAIN)
				goto wait;
			if (r < 0)
				log_conn_error(srv, c, "read", r);
			if (r <= 0) {
				conn_close(srv, c);
				return;
			}
			break;
		case CS_WRITE:
			r = flush_response(srv, c);
			if (r == 0)
				goto wait;
			if (r == 2) {
				set_state(srv, c, CS_SLOW_WAIT);
				goto wait;
			}
			if (r < 0) {
				if (r != -EPIPE && r != -ECONNRESET)
					log_conn_error(srv, c, "write", r);
				conn_close(srv, c);
				return;
			}
			finish(srv, c);
			break;
		case CS_SLOW_WAIT:
		case CS_HANG:
		case CS_LINGER:
			r = discard_input(srv, c);
			if (r == -EAGAIN)
				goto wait;
			if (r == 0 && c->state == CS_SLOW_WAIT) {
				/* A half-close still reads the rest; a full close fails our write.
				 */
				c->peer_eof = true;
				goto wait;
			}
			conn_close(srv, c);
			return;
		default:
			conn_close(srv, c);
			return;
		}
	}
	return;
wait:
	update_interest(srv, c);
}

static void conn_on_event(struct server *srv, struct conn *c, uint32_t events)
{
	if (c->dead)
		return;
	/* HUP: both directions are shut (a RST, or the peer's FIN after our own); ERR: reset. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(srv, c);
		return;
	}
	conn_run(srv, c);
}

static void conn_on_timer(struct server *srv, struct conn *c)
{
	switch (c->state) {
	case CS_SLOW_WAIT:
		set_state(srv, c, CS_WRITE);
		conn_run(srv, c);
		break;
	case CS_LINGER:
		conn_close(srv, c);
		break;
	default:
		if (!srv->opts->quiet)
			tu_errln("%s idle for %ds, closing", c->peer, srv->opts->idle_s);
		conn_close(srv, c);
		break;
	}
}

/* ---- listeners ------------------------------------------------------------------------------ */

static void conn_new(struct server *srv, struct listener *l, int fd,
		     const struct sockaddr_storage *ss, socklen_t len)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct conn *c;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->kind = SRC_CONN;
	c->fd = fd;
	c->tm.idx = -1;
	c->tm.owner = &c->kind;
	c->lst = l;
	if (!srv->opts->quiet)
		tu_fmt_sockaddr((const struct sockaddr *)ss, len, c->peer, sizeof(c->peer));
	/* /slow writes single bytes: send each at once, not when the last one is ACKed */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (srv->tls) {
		c->ssl = SSL_new(srv->tls);
		if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
			tls_log_errors("SSL_new");
			SSL_free(c->ssl);
			free(c);
			close(fd);
			return;
		}
		SSL_set_accept_state(c->ssl);
	}
	ev.data.ptr = c;
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		tu_errln("epoll_ctl: %s", strerror(errno));
		SSL_free(c->ssl);
		free(c);
		close(fd);
		return;
	}
	c->events = EPOLLIN;
	c->next = srv->live;
	if (srv->live)
		srv->live->prev = c;
	srv->live = c;
	srv->n_accepted++;
	srv->n_active++;
	set_state(srv, c, c->ssl ? CS_HANDSHAKE : CS_READ);
}

static void listener_set_paused(struct server *srv, struct listener *l, bool paused)
{
	struct epoll_event ev = {.events = paused ? 0 : EPOLLIN, .data.ptr = l};

	if (epoll_ctl(srv->ep, EPOLL_CTL_MOD, l->fd, &ev) < 0)
		tu_errln("epoll_ctl %s: %s", l->addr, strerror(errno));
	l->paused = paused;
	if (paused)
		timer_arm(&srv->timers, &l->tm, srv->now_ns + TU_ACCEPT_BACKOFF_NS);
	else
		timer_disarm(&srv->timers, &l->tm);
}

static void listener_on_event(struct server *srv, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		/* One timer per connection and per listener: reserve before accepting. */
		if (heap_reserve(&srv->timers, srv->n_active + (size_t)srv->n_lst + 1) < 0) {
			tu_errln("%s: out of memory, pausing accept", l->addr);
			listener_set_paused(srv, l, true);
			return;
		}
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(srv, l, fd, &ss, len);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			continue; /* that connection is gone, or refused by a firewall rule */
		default:
			/* EMFILE and friends: the queue stays readable, so stop polling it a bit.
			 */
			tu_errln("accept on %s: %s, pausing accept for %llums", l->addr,
				 strerror(errno), TU_ACCEPT_BACKOFF_NS / PP_NSEC_PER_MSEC);
			listener_set_paused(srv, l, true);
			return;
		}
	}
}

/* Bind and listen on --host at <port> (0 = any free port) into <l>. Returns 0 or -errno. */
static int listener_open(const struct pp_opts *o, int port, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err, fd;

	fd = tu_listen_tcp(o->host, port, o->backlog, NULL, 0);
	if (fd < 0)
		return fd;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		err = -errno;
		tu_errln("getsockname: %s", strerror(errno));
		close(fd);
		return err;
	}
	l->kind = SRC_LISTENER;
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	l->tm.idx = -1;
	l->tm.owner = &l->kind;
	tu_fmt_sockaddr((struct sockaddr *)&ss, len, l->addr, sizeof(l->addr));
	return 0;
}

/* ---- the server ----------------------------------------------------------------------------- */

static void on_timer(struct server *srv, struct timer *t)
{
	if (*t->owner == SRC_LISTENER) {
		struct listener *l = (struct listener *)t->owner;

		listener_set_paused(srv, l, false);
		listener_on_event(srv, l);
	} else {
		conn_on_timer(srv, (struct conn *)t->owner);
	}
}

static void run_timers(struct server *srv)
{
	struct heap *h = &srv->timers;

	while (h->len && h->v[0]->when_ns <= srv->now_ns) {
		struct timer *t = h->v[0];

		timer_disarm(h, t);
		on_timer(srv, t);
	}
}

static void on_signal(struct server *srv)
{
	struct signalfd_siginfo si;

	while (read(srv->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			tu_logln("accepted=%llu requests=%llu active=%llu", srv->n_accepted,
				 srv->n_requests, srv->n_active);
			break;
		case SIGTERM:
		case SIGINT:
			if (!srv->opts->quiet)
				tu_errln("%s, exiting", strsignal((int)si.ssi_signo));
			srv->stop = true;
			break;
		default:
			break;
		}
	}
}

/* Soft RLIMIT_NOFILE up to the hard limit: thousands of connections need thousands of fds. */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	/* An infinite hard limit is still capped by fs.nr_open; try its default. */
	rl.rlim_cur = 1 << 20;
	if (rl.rlim_max == RLIM_INFINITY && setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	tu_errln("cannot raise RLIMIT_NOFILE: %s, ignoring", strerror(errno));
}

static void server_free(struct server *srv)
{
	int i;

	while (srv->live)
		conn_close(srv, srv->live);
	reap(srv);
	for (i = 0; i < srv->n_lst; i++)
		if (srv->lst[i].fd >= 0)
			close(srv->lst[i].fd);
	srv->n_lst = 0;
	if (srv->sig.fd >= 0)
		close(srv->sig.fd);
	srv->sig.fd = -1;
	if (srv->ep >= 0)
		close(srv->ep);
	srv->ep = -1;
	SSL_CTX_free(srv->tls);
	srv->tls = NULL;
	free(srv->timers.v);
	srv->timers.v = NULL;
	free(srv->pattern);
	srv->pattern = NULL;
	free(srv->pad);
	srv->pad = NULL;
}

/* The shared /big body block and /bighdr header block. */
static int make_blocks(struct server *srv)
{
	static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t i, j;

	srv->pattern = malloc(PATTERN_LEN);
	srv->pad = malloc(PAD_BLOCK_LEN);
	if (!srv->pattern || !srv->pad)
		return -ENOMEM;
	/* 64-byte lines, so a dump of the body is readable */
	for (i = 0; i < PATTERN_LEN; i++)
		srv->pattern[i] = i % 64 == 63 ? '\n' : alnum[(i / 64 + i % 64) % 62];
	for (i = 0; i < PAD_LINES; i++) {
		char *line = srv->pad + i * PAD_LINE_LEN;

		memcpy(line, "X-Pad: ", 7);
		for (j = 7; j < PAD_LINE_LEN - 2; j++)
			line[j] = alnum[(i + j) % 62];
		memcpy(line + PAD_LINE_LEN - 2, "\r\n", 2);
	}
	return 0;
}

/* Listeners, signalfd, epoll set and TLS context. Returns 0 or -errno, logged. */
static int server_init(struct server *srv, const struct pp_opts *o)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t mask;
	int i, err;

	srv->opts = o;
	srv->idle_ns = (uint64_t)o->idle_s * PP_NSEC_PER_SEC;
	srv->sig.kind = SRC_SIGNAL;

	err = make_blocks(srv);
	if (err < 0) {
		tu_errln("out of memory");
		return err;
	}
	if (o->tls) {
		srv->tls = tls_ctx_new();
		if (!srv->tls)
			return -EINVAL;
	}
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv->ep < 0) {
		err = -errno;
		tu_errln("epoll_create1: %s", strerror(errno));
		return err;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	err = tu_signalfd(&mask);
	if (err < 0)
		return err;
	srv->sig.fd = err;
	ev.data.ptr = &srv->sig;
	if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->sig.fd, &ev) < 0) {
		err = -errno;
		tu_errln("epoll_ctl: %s", strerror(errno));
		return err;
	}

	for (i = 0; i < o->n_ports; i++) {
		struct listener *l = &srv->lst[i];

		err = listener_open(o, o->ports[i], l);
		if (err < 0)
			return err;
		srv->n_lst++;
		if (o->no_accept)
			continue; /* the kernel completes handshakes into a queue nobody drains */
		ev.data.ptr = l;
		if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
			err = -errno;
			tu_errln("epoll_ctl: %s", strerror(errno));
			return err;
		}
	}
	err = heap_reserve(&srv->timers, (size_t)srv->n_lst + 1);
	if (err < 0) {
		tu_errln("out of memory");
		return err;
	}
	/* Only now, so a test that reads these lines knows every port is ready. */
	for (i = 0; i < srv->n_lst; i++)
		tu_logln("listening on %s", srv->lst[i].addr);
	return 0;
}

static int server_run(struct server *srv)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n, timeout;

	while (!srv->stop) {
		srv->now_ns = tu_now_ns();
		run_timers(srv);
		reap(srv);
		timeout = tu_poll_timeout_ms(
			srv->timers.len ? srv->timers.v[0]->when_ns : TU_NO_DEADLINE, srv->now_ns);
		n = epoll_wait(srv->ep, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			tu_errln("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		srv->now_ns = tu_now_ns();
		for (i = 0; i < n; i++) {
			enum src_kind *kind = evs[i].data.ptr;

			switch (*kind) {
			case SRC_SIGNAL:
				on_signal(srv);
				break;
			case SRC_LISTENER:
				listener_on_event(srv, (struct listener *)kind);
				break;
			case SRC_CONN:
				conn_on_event(srv, (struct conn *)kind, evs[i].events);
				break;
			default:
				break;
			}
		}
		reap(srv);
	}
	return 0;
}

/* ---- command line --------------------------------------------------------------------------- */

static const char doc[] =
	"HTTP and TCP test server for podprobe's probe integration tests and benchmarks.\n"
	"\n"
	"USAGE: fake-target --port N [--port N...] [--host ADDR] [--no-accept] [--tls]\n"
	"                   [--backlog N] [--idle-timeout SEC] [--quiet]\n"
	"\n"
	"Once every port listens, prints one line per listener on stdout:\n"
	"'fake-target: listening on 127.0.0.1:PORT'. SIGUSR1 prints\n"
	"'fake-target: accepted=N requests=N active=N'; SIGTERM and SIGINT exit 0.\n"
	"\v"
	"Every response carries 'Connection: close' and the connection closes after it.\n"
	"A connection that sends nothing is closed after --idle-timeout (tcpSocket probes).\n"
	"Request heads over 16 KiB get a 431. The path chooses the behaviour:\n"
	"    /, /ok, /healthz        200 \"ok\"\n"
	"    /status/NNN             that status (100..999); no body for 1xx, 204, 304\n"
	"    /redirect/N             302 to /redirect/N-1; /redirect/0 is 200\n"
	"    /redirect-abs/N         same, absolute, at the request's Host\n"
	"    /redirect-loop          302 to itself\n"
	"    /redirect-other-host    302 to http://other.invalid:PORT/ok\n"
	"    /moved                  301 to /ok\n"
	"    /slow[?ms=N]            200 \"ok\" sent one byte every N ms (default 100)\n"
	"    /hang                   read the request, never answer\n"
	"    /close                  close without answering\n"
	"    /big                    200 with a 1 MiB body\n"
	"    /bighdr                 200 with over 64 KiB of X-Pad headers\n"
	"    /chunked                200, chunked, with chunk extensions\n"
	"    /garbage                \"this is not http\", then close\n"
	"    /no-reason              \"HTTP/1.1 200\" without a reason phrase\n"
	"    /echo                   200, the request line and headers as received\n"
	"    /flip                   200, 503, 200, ... per request\n"
	"    /fail-after/N           200 for the first N such requests, then 500\n"
	"    anything else           404\n"
	"\n"
	"EXAMPLES:\n"
	"    fake-target --port 0                      # a free port, printed\n"
	"    fake-target --port 8080 --port 8081 -q    # two listeners, no request log\n"
	"    fake-target --port 0 --no-accept --backlog 1   # a wedged application\n"
	"    fake-target --port 8443 --tls             # curl -k https://127.0.0.1:8443/ok\n";

static const struct argp_option options[] = {
	{"port", 'p', "N", 0, "Listen on port N, 0..65535, 0 = a free one (repeatable)", 0},
	{"host", OPT_HOST, "ADDR", 0, "Address or name to bind (default 127.0.0.1)", 0},
	{"no-accept", OPT_NO_ACCEPT, NULL, 0, "Listen but never accept(): the queue fills up", 0},
	{"tls", OPT_TLS, NULL, 0, "Serve HTTPS with a self-signed certificate made at start", 0},
	{"backlog", OPT_BACKLOG, "N", 0, "listen() backlog, 0..65535 (default 4096)", 0},
	{"idle-timeout", OPT_IDLE_TIMEOUT, "SEC", 0,
	 "Close a silent or stalled connection after SEC seconds, 0..86400, 0 = never "
	 "(default 30)",
	 0},
	{"quiet", 'q', NULL, 0, "No per-request lines on stderr", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct pp_opts *o = state->input;
	long v;

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'p':
		if (tu_parse_long(arg, 0, 65535, &v) < 0)
			argp_error(state, "invalid port '%s': expected 0..65535", arg);
		if (o->n_ports == MAX_LISTENERS)
			argp_error(state, "too many --port, at most %d", MAX_LISTENERS);
		o->ports[o->n_ports++] = (int)v;
		break;
	case OPT_HOST:
		if (!*arg)
			argp_error(state, "empty --host");
		o->host = arg;
		break;
	case OPT_NO_ACCEPT:
		o->no_accept = true;
		break;
	case OPT_TLS:
		o->tls = true;
		break;
	case OPT_BACKLOG:
		if (tu_parse_long(arg, 0, 65535, &v) < 0)
			argp_error(state, "invalid backlog '%s': expected 0..65535", arg);
		o->backlog = (int)v;
		break;
	case OPT_IDLE_TIMEOUT:
		if (tu_parse_long(arg, 0, IDLE_MAX_S, &v) < 0)
			argp_error(state, "invalid idle timeout '%s': expected 0..%d seconds", arg,
				   IDLE_MAX_S);
		o->idle_s = (int)v;
		break;
	case 'q':
		o->quiet = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!o->n_ports)
			argp_error(state, "missing --port");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = options,
		.parser = parse_arg,
		.doc = doc,
	};
	struct pp_opts opts = {
		.host = "127.0.0.1",
		.backlog = DEFAULT_BACKLOG,
		.idle_s = DEFAULT_IDLE_S,
	};
	struct server *srv;
	int err;

	argp_err_exit_status = EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	err = argp_parse(&argp, argc, argv, 0, NULL, &opts);
	if (err)
		return EXIT_USAGE;
	raise_nofile_limit();

	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		tu_errln("out of memory");
		return EXIT_FAILURE;
	}
	srv->ep = -1;
	srv->sig.fd = -1;
	err = server_init(srv, &opts);
	if (err < 0)
		goto out_free_server;
	err = server_run(srv);

out_free_server:
	server_free(srv);
	free(srv);
	return err < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
