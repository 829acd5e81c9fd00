/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grpc-health-server: a grpc.health.v1.Health/Check server over h2c, the target of podprobe's
 * gRPC probe tests.
 *
 * It answers like grpc-go's health server (google.golang.org/grpc/health): the empty service
 * name gets the overall --status, configured names get theirs, any other name gets grpc-status
 * 5 (NOT_FOUND) "unknown service", and with --unimplemented every call gets grpc-status 12, as
 * from a server without the Health service registered. --delay holds each answer back.
 *
 * One thread, one poll() loop, non-blocking sockets, nghttp2's server session per connection.
 * Delayed answers wait in their stream; poll()'s timeout is the earliest of them, so nothing
 * sleeps. Signals arrive through a signalfd. Links with tools/lib/tool_util.o, libppcore.a
 * and `pkg-config --libs libnghttp2`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, signalfd */
#endif
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "lib/tool_util.h"
#include "podprobe/grpc_wire.h"
#include "podprobe/h2_nv.h"
#include "podprobe/kubefmt.h"

#define PROG	     "grpc-health-server"
#define MAX_CONNS    1024
#define MAX_SERVICES 64
#define MAX_STREAMS  100  /* SETTINGS_MAX_CONCURRENT_STREAMS per connection */
#define REQ_MAX	     4096 /* largest request message accepted */
#define OUT_MAX	     (PP_GRPC_FRAME_HDR_LEN + PP_GRPC_CHECK_RESPONSE_MAX) /* a framed response */
#define PATH_MAX_LEN 256
#define READ_BUF     16384
#define EXIT_USAGE   2

#define UNUSED __attribute__((unused)) /* nghttp2 callback parameters */

/* Long-only options get keys above the ASCII range. */
enum opt_key {
	OPT_HOST = 0x100,
	OPT_STATUS,
	OPT_SERVICE,
	OPT_UNIMPLEMENTED,
	OPT_DELAY,
};

struct service {
	const char *name; /* from argv */
	size_t len;
	enum pp_grpc_serving_status status;
};

struct pp_opts {
	const char *host;		       /* address or name to bind */
	int port;			       /* 0..65535, 0 = any free port; -1 = not given */
	enum pp_grpc_serving_status status;    /* answer for the service "" */
	struct service services[MAX_SERVICES]; /* --service NAME=STATUS, last one wins */
	size_t n_services;
	bool unimplemented; /* grpc-status 12 for every call */
	uint64_t delay_ns;  /* before each answer */
	bool quiet;	    /* no line per call */
};

struct conn;

/* One request stream; freed by nghttp2's stream-close callback or with its connection. */
struct stream {
	struct stream *prev, *next; /* the connection's streams */
	struct conn *conn;	    /* owner */
	int32_t id;		    /* HTTP/2 stream id */
	bool post;		    /* :method POST */
	bool have_ctype;	    /* content-type present */
	bool ctype_grpc;	    /* ... and application/grpc[+;...] */
	bool too_big;		    /* request body over body[] */
	bool answered;		    /* response submitted */
	uint64_t due_ns;	    /* answer then (--delay), TU_NO_DEADLINE = none */
	char path[PATH_MAX_LEN];    /* :path, truncated */
	char ctype[64];		    /* content-type, truncated, for messages */
	uint8_t out[OUT_MAX];	    /* response message, length-prefixed */
	size_t out_len, out_off;    /* ... and how much nghttp2 has taken */
	size_t body_len;	    /* bytes in body[] */
	uint8_t body[PP_GRPC_FRAME_HDR_LEN + REQ_MAX]; /* request message, length-prefixed */
};

struct conn {
	int fd;			    /* socket */
	nghttp2_session *session;   /* server session */
	struct stream *streams;	    /* open request streams */
	bool dead;		    /* close at the end of this loop pass */
	char peer[TU_ADDR_STR_MAX]; /* for the log */
	const struct pp_opts *opts;
};

struct server {
	const struct pp_opts *opts;
	int listen_fd;		   /* non-blocking listener */
	int sig_fd;		   /* signalfd for SIGTERM and SIGINT */
	uint64_t accept_resume_ns; /* accept() backoff after EMFILE and friends, or 0 */
	struct conn *conns[MAX_CONNS];
	size_t n_conns;
	struct pollfd pfds[MAX_CONNS + 2];
};

const char tu_prog[] = PROG;
const char *argp_program_version = PROG " (podprobe) 0.1";

/* ---- small helpers ------------------------------------------------------------------------- */

static void logln(const struct pp_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One event, one line on stdout (line-buffered, so a test's pipe sees it at once). */
static void logln(const struct pp_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o && o->quiet)
		return;
	va_start(ap, fmt);
	tu_vlogln(fmt, ap);
	va_end(ap);
}

/* "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN" (any case) or 0..3. */
static int parse_status(const char *s, enum pp_grpc_serving_status *ret)
{
	long v;
	int i;

	for (i = 0; i < _PP_GRPC_SERVING_MAX; i++)
		if (!strcasecmp(s, pp_grpc_serving_status_name(i))) {
			*ret = (enum pp_grpc_serving_status)i;
			return 0;
		}
	if (tu_parse_long(s, 0, _PP_GRPC_SERVING_MAX - 1, &v) < 0)
		return -EINVAL;
	*ret = (enum pp_grpc_serving_status)v;
	return 0;
}

/* Printable ASCII for the log, '?' for the rest, truncated to <size>. */
static void copy_printable(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"') ? (char)src[i] : '?';
	dst[len] = '\0';
}

/* grpc-message is percent-encoded: everything outside ' '..'~', and '%' itself. */
static void percent_encode(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *src && n + 4 <= size; src++) {
		uint8_t c = (uint8_t)*src;

		if (c >= ' ' && c <= '~' && c != '%') {
			dst[n++] = (char)c;
		} else {
			dst[n++] = '%';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	dst[n] = '\0';
}

/* ---- answers ------------------------------------------------------------------------------- */

static ssize_t read_message_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
			       size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			       void *user_data UNUSED)
{
	static const nghttp2_nv ok[] = {
		{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
	struct stream *s = source->ptr;
	size_t n = s->out_len - s->out_off;

	if (n > length)
		n = length;
	memcpy(buf, s->out + s->out_off, n);
	s->out_off += n;
	if (s->out_off == s->out_len) {
		/* The status goes in trailers, after the message. */
		*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(session, stream_id, ok, 1))
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

/* HEADERS, DATA (the HealthCheckResponse), trailers with grpc-status 0. */
static int answer_status(struct stream *s, enum pp_grpc_serving_status st)
{
	const nghttp2_nv nva[] = {
		pp_h2_nv(":status", "200"),
		pp_h2_nv("content-type", "application/grpc"),
	};
	nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_message_cb};

	size_t n = pp_grpc_check_response_encode(st, s->out + PP_GRPC_FRAME_HDR_LEN,
						 sizeof(s->out) - PP_GRPC_FRAME_HDR_LEN);

	pp_grpc_frame_put(s->out, 0, (uint32_t)n);
	s->out_len = PP_GRPC_FRAME_HDR_LEN + n;
	s->out_off = 0;
	return nghttp2_submit_response(s->conn->session, s->id, nva, 2, &prd);
}

/* A trailers-only response: one HEADERS frame with END_STREAM. */
static int answer_error(struct stream *s, const char *http_status, enum pp_grpc_code code,
			const char *message)
{
	char code_str[8], encoded[512];
	nghttp2_nv nva[4];

	snprintf(code_str, sizeof(code_str), "%d", code);
	percent_encode(encoded, sizeof(encoded), message);
	nva[0] = pp_h2_nv(":status", http_status);
	nva[1] = pp_h2_nv("content-type", "application/grpc");
	nva[2] = pp_h2_nv("grpc-status", code_str);
	nva[3] = pp_h2_nv("grpc-message", encoded);
	return nghttp2_submit_response(s->conn->session, s->id, nva, 4, NULL);
}

/* The request is complete (and its delay over): answer it as grpc-go's health server would. */
static int answer(struct stream *s)
{
	const struct pp_opts *o = s->conn->opts;
	const uint8_t *body, *name;
	char msg[PATH_MAX_LEN + 64], svc[PATH_MAX_LEN];
	size_t name_len, i;
	uint32_t len;
	uint8_t flag;

	s->answered = true;
	s->due_ns = TU_NO_DEADLINE;
	if (!s->post) {
		logln(o, "%s %s: method is not POST, resetting the stream", s->conn->peer, s->path);
		return nghttp2_submit_rst_stream(s->conn->session, NGHTTP2_FLAG_NONE, s->id,
						 NGHTTP2_PROTOCOL_ERROR);
	}
	if (!s->ctype_grpc) {
		snprintf(msg, sizeof(msg), "invalid gRPC request content-type \"%s\"", s->ctype);
		logln(o, "%s %s -> 415, grpc-status 3 (%s)", s->conn->peer, s->path, msg);
		return answer_error(s, "415", PP_GRPC_CODE_INVALID_ARGUMENT, msg);
	}
	if (strcmp(s->path, PP_GRPC_CHECK_PATH) || o->unimplemented) {
		const char *slash = s->path[0] == '/' ? strchr(s->path + 1, '/') : NULL;

		if (!slash) {
			snprintf(msg, sizeof(msg), "malformed method name: \"%s\"", s->path);
		} else {
			snprintf(svc, sizeof(svc), "%.*s", (int)(slash - s->path - 1), s->path + 1);
			if (o->unimplemented || strcmp(svc, PP_GRPC_HEALTH_SERVICE))
				snprintf(msg, sizeof(msg), "unknown service %s", svc);
			else
				snprintf(msg, sizeof(msg), "unknown method %s for service %s",
					 slash + 1, svc);
		}
		logln(o, "%s %s -> grpc-status 12 (%s)", s->conn->peer, s->path, msg);
		return answer_error(s, "200", PP_GRPC_CODE_UNIMPLEMENTED, msg);
	}
	if (s->too_big) {
		snprintf(msg, sizeof(msg), "grpc: received message larger than max (%zu vs. %d)",
			 s->body_len, REQ_MAX);
		logln(o, "%s Check -> grpc-status 8 (%s)", s->conn->peer, msg);
		return answer_error(s, "200", PP_GRPC_CODE_RESOURCE_EXHAUSTED, msg);
	}
	if (s->body_len < PP_GRPC_FRAME_HDR_LEN) {
		logln(o, "%s Check -> grpc-status 13 (no request message)", s->conn->peer);
		return answer_error(s, "200", PP_GRPC_CODE_INTERNAL,
				    "grpc: no request message received");
	}
	pp_grpc_frame_get(s->body, &flag, &len);
	if (flag) {
		logln(o, "%s Check -> grpc-status 13 (compressed request)", s->conn->peer);
		return answer_error(s, "200", PP_GRPC_CODE_INTERNAL,
				    "grpc: compressed flag set with identity or empty encoding");
	}
	body = s->body + PP_GRPC_FRAME_HDR_LEN;
	if (len != s->body_len - PP_GRPC_FRAME_HDR_LEN ||
	    pp_grpc_check_request_decode(body, len, &name, &name_len) < 0) {
		logln(o, "%s Check -> grpc-status 13 (malformed request)", s->conn->peer);
		return answer_error(s, "200", PP_GRPC_CODE_INTERNAL,
				    "grpc: error unmarshalling request: proto: cannot parse "
				    "invalid wire-format data");
	}
	copy_printable(svc, sizeof(svc), name, name_len);
	if (!name_len) {
		logln(o, "%s Check service=\"\" -> %s", s->conn->peer,
		      pp_grpc_serving_status_name(o->status));
		return answer_status(s, o->status);
	}
	for (i = o->n_services; i-- > 0;) {
		const struct service *sv = &o->services[i];

		if (sv->len == name_len && !memcmp(sv->name, name, name_len)) {
			logln(o, "%s Check service=\"%s\" -> %s", s->conn->peer, svc,
			      pp_grpc_serving_status_name(sv->status));
			return answer_status(s, sv->status);
		}
	}
	logln(o, "%s Check service=\"%s\" -> grpc-status 5 (unknown service)", s->conn->peer, svc);
	return answer_error(s, "200", PP_GRPC_CODE_NOT_FOUND, "unknown service");
}

/* ---- nghttp2 callbacks --------------------------------------------------------------------- */

static ssize_t send_cb(nghttp2_session *session UNUSED, const uint8_t *data, size_t length,
		       int flags UNUSED, void *user_data)
{
	struct conn *c = user_data;
	ssize_t n;

	do
		n = send(c->fd, data, length, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return NGHTTP2_ERR_WOULDBLOCK;
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static void stream_free(struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->conn->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static int on_begin_headers_cb(nghttp2_session *session, const nghttp2_frame *frame,
			       void *user_data)
{
	struct conn *c = user_data;
	struct stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s->conn = c;
	s->id = frame->hd.stream_id;
	s->due_ns = TU_NO_DEADLINE;
	s->next = c->streams;
	if (c->streams)
		c->streams->prev = s;
	c->streams = s;
	if (nghttp2_session_set_stream_user_data(session, s->id, s)) {
		stream_free(s);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
			size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags UNUSED,
			void *user_data UNUSED)
{
	struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (!s || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (namelen == 7 && !memcmp(name, ":method", 7)) {
		s->post = valuelen == 4 && !memcmp(value, "POST", 4);
	} else if (namelen == 5 && !memcmp(name, ":path", 5)) {
		copy_printable(s->path, sizeof(s->path), value, valuelen);
	} else if (namelen == 12 && !memcmp(name, "content-type", 12)) {
		s->have_ctype = true;
		s->ctype_grpc = pp_grpc_content_type_is_grpc(value, valuelen);
		copy_printable(s->ctype, sizeof(s->ctype), value, valuelen);
	}
	return 0;
}

static int on_data_chunk_cb(nghttp2_session *session, uint8_t flags UNUSED, int32_t stream_id,
			    const uint8_t *data, size_t len, void *user_data UNUSED)
{
	struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

	if (!s)
		return 0;
	if (s->too_big || len > sizeof(s->body) - s->body_len) {
		s->too_big = true;
		s->body_len += len; /* only reported from now on */
		return 0;
	}
	memcpy(s->body + s->body_len, data, len);
	s->body_len += len;
	return 0;
}

static int on_frame_recv_cb(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct conn *c = user_data;
	struct stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!s || s->answered)
		return 0;
	if (c->opts->delay_ns) {
		s->due_ns = tu_now_ns() + c->opts->delay_ns;
		return 0;
	}
	return answer(s) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_stream_close_cb(nghttp2_session *session, int32_t stream_id,
			      uint32_t error_code UNUSED, void *user_data UNUSED)
{
	struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

	if (s) {
		nghttp2_session_set_stream_user_data(session, stream_id, NULL);
		stream_free(s);
	}
	return 0;
}

/* ---- connections --------------------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	/* nghttp2_session_del() does not call the stream-close callback. */
	nghttp2_session_del(c->session);
	while (c->streams)
		stream_free(c->streams);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static struct conn *conn_new(const struct pp_opts *o, int fd)
{
	static const nghttp2_settings_entry iv[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
	};
	nghttp2_session_callbacks *cbs;
	struct conn *c;
	int rv;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->opts = o;
	if (nghttp2_session_callbacks_new(&cbs)) {
		free(c);
		return NULL;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
	rv = nghttp2_session_server_new(&c->session, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv) {
		free(c);
		return NULL;
	}
	if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 1)) {
		c->fd = -1; /* the caller closes it */
		conn_free(c);
		return NULL;
	}
	return c;
}

static void conn_read(struct conn *c)
{
	uint8_t buf[READ_BUF];

	/* A few reads per pass keep one busy connection from starving the others. */
	for (int i = 0; i < 4; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->dead = true; /* EOF or error: the client is done with us */
			return;
		}
		if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0) {
			c->dead = true;
			return;
		}
	}
}

/* Flush what nghttp2 has to say; mark the connection dead when it is finished or broken. */
static void conn_flush(struct conn *c)
{
	if (c->dead)
		return;
	if (nghttp2_session_send(c->session) < 0)
		c->dead = true;
	else if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
		c->dead = true;
}

/* ---- the server ---------------------------------------------------------------------------- */

static void serve_accept(struct server *srv, uint64_t now)
{
	while (srv->n_conns < MAX_CONNS) {
		struct sockaddr_storage ss;
		socklen_t len;
		struct conn *c;
		int fd;

		fd = tu_accept(srv->listen_fd, now, &srv->accept_resume_ns, &ss, &len);
		if (fd < 0)
			return;
		c = conn_new(srv->opts, fd);
		if (!c) {
			tu_errln("out of memory, dropping a connection");
			close(fd);
			continue;
		}
		tu_fmt_sockaddr((struct sockaddr *)&ss, len, c->peer, sizeof(c->peer));
		srv->conns[srv->n_conns++] = c;
		conn_flush(c); /* our SETTINGS */
	}
}

/* Answer the delayed streams that are due; returns the next due time or TU_NO_DEADLINE. */
static uint64_t serve_timers(struct server *srv, uint64_t now)
{
	uint64_t next = TU_NO_DEADLINE;

	for (size_t i = 0; i < srv->n_conns; i++) {
		struct conn *c = srv->conns[i];
		bool fired = false;

		for (struct stream *s = c->streams; s; s = s->next) {
			if (s->due_ns == TU_NO_DEADLINE)
				continue;
			if (s->due_ns <= now) {
				if (answer(s))
					c->dead = true;
				fired = true;
			} else if (s->due_ns < next) {
				next = s->due_ns;
			}
		}
		if (fired)
			conn_flush(c);
	}
	return next;
}

/* Drop the connections marked dead, keeping the array dense. */
static void serve_reap(struct server *srv)
{
	size_t i = 0;

	while (i < srv->n_conns) {
		if (!srv->conns[i]->dead) {
			i++;
			continue;
		}
		conn_free(srv->conns[i]);
		srv->conns[i] = srv->conns[--srv->n_conns];
	}
}

/* Returns true on SIGTERM or SIGINT. */
static bool serve_signals(struct server *srv)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t n = read(srv->sig_fd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return false;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			logln(NULL, "%s received, exiting",
			      si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			return true;
		}
	}
}

static int serve(const struct pp_opts *o)
{
	struct server *srv;
	char name[TU_ADDR_STR_MAX];
	sigset_t mask;
	int ret = EXIT_FAILURE;

	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		tu_errln("out of memory");
		return EXIT_FAILURE;
	}
	srv->opts = o;
	srv->sig_fd = -1;
	/* A shell starts background jobs with SIGINT ignored; ignored signals never queue. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	srv->sig_fd = tu_signalfd(&mask);
	if (srv->sig_fd < 0)
		goto out_free;
	srv->listen_fd = tu_listen_tcp(o->host, o->port, SOMAXCONN, name, sizeof(name));
	if (srv->listen_fd < 0)
		goto out_close_sig;
	logln(NULL, "listening on %s", name);

	for (;;) {
		uint64_t now = tu_now_ns(), next;
		nfds_t n = 0;
		bool listening;
		int rc;

		next = serve_timers(srv, now);
		serve_reap(srv);
		if (srv->accept_resume_ns && now >= srv->accept_resume_ns)
			srv->accept_resume_ns = 0;
		if (srv->accept_resume_ns && srv->accept_resume_ns < next)
			next = srv->accept_resume_ns;

		srv->pfds[n++] = (struct pollfd){.fd = srv->sig_fd, .events = POLLIN};
		listening = srv->n_conns < MAX_CONNS && !srv->accept_resume_ns;
		srv->pfds[n++] =
			(struct pollfd){.fd = listening ? srv->listen_fd : -1, .events = POLLIN};
		for (size_t i = 0; i < srv->n_conns; i++) {
			struct conn *c = srv->conns[i];
			short ev = POLLIN;

			if (nghttp2_session_want_write(c->session))
				ev |= POLLOUT;
			srv->pfds[n++] = (struct pollfd){.fd = c->fd, .events = ev};
		}

		rc = poll(srv->pfds, n, tu_poll_timeout_ms(next, now));
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			tu_errln("poll: %s", strerror(errno));
			goto out_close_conns;
		}
		now = tu_now_ns();
		if ((srv->pfds[0].revents & POLLIN) && serve_signals(srv)) {
			ret = EXIT_SUCCESS;
			goto out_close_conns;
		}
		/* Connections first: the array grows in serve_accept(). */
		for (size_t i = 0; i < srv->n_conns; i++) {
			struct conn *c = srv->conns[i];
			short rev = srv->pfds[i + 2].revents;

			if (rev & (POLLIN | POLLHUP | POLLERR))
				conn_read(c);
			conn_flush(c);
		}
		if (srv->pfds[1].revents & POLLIN)
			serve_accept(srv, now);
	}

out_close_conns:
	for (size_t i = 0; i < srv->n_conns; i++)
		conn_free(srv->conns[i]);
	close(srv->listen_fd);
out_close_sig:
	close(srv->sig_fd);
out_free:
	free(srv);
	return ret;
}

/* ---- command line -------------------------------------------------------------------------- */

static const char doc[] =
	"Serve grpc.health.v1.Health/Check over h2c (plaintext HTTP/2, prior knowledge)\n"
	"on HOST:PORT, answering like grpc-go's health server:\n"
	"\n"
	"    service \"\"        --status (default SERVING)\n"
	"    --service names   their STATUS\n"
	"    other names       grpc-status 5 (NOT_FOUND) \"unknown service\"\n"
	"    --unimplemented   grpc-status 12 (UNIMPLEMENTED) for every call\n"
	"\n"
	"STATUS is SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN (any case) or\n"
	"0..3. DURATION is Go-style (500ms, 2s, 1m30s) or a number of seconds.\n"
	"--port 0 picks a free port; the \"listening on ADDR:PORT\" line names it.\n"
	"One line per call on stdout (line-buffered) unless --quiet. SIGTERM and\n"
	"SIGINT exit 0; usage errors exit 2.\n"
	"\n"
	"EXAMPLES:\n"
	"    grpc-health-server --port 50051\n"
	"    grpc-health-server --port 50051 --status NOT_SERVING\n"
	"    grpc-health-server -p 50051 --service db=SERVING --service q=NOT_SERVING\n"
	"    grpc-health-server --port 50051 --unimplemented\n"
	"    grpc-health-server --port 50051 --delay 3s       # slower than a 1 s probe\n"
	"    grpc-health-server --port 0 --host ::1 --quiet\n";

static const struct argp_option options[] = {
	{"port", 'p', "N", 0, "TCP port to listen on, 0..65535 (required; 0 = any free port)", 0},
	{"host", OPT_HOST, "ADDR", 0, "Address or name to bind (default 127.0.0.1)", 0},
	{"status", OPT_STATUS, "STATUS", 0, "Answer for the service \"\" (default SERVING)", 0},
	{"service", OPT_SERVICE, "NAME=STATUS", 0,
	 "Answer STATUS for service NAME (repeatable, up to 64; the last one wins)", 0},
	{"unimplemented", OPT_UNIMPLEMENTED, NULL, 0,
	 "Answer grpc-status 12 (UNIMPLEMENTED) to everything", 0},
	{"delay", OPT_DELAY, "DURATION", 0, "Wait this long before each answer", 0},
	{"quiet", 'q', NULL, 0, "No line per call", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pp_opts *o = state->input;
	enum pp_grpc_serving_status st;
	struct service *sv;
	const char *eq;
	long v;

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'p':
		if (tu_parse_long(arg, 0, 65535, &v) < 0)
			argp_error(state, "invalid port '%s': expected 0..65535", arg);
		o->port = (int)v;
		break;
	case OPT_HOST:
		if (!*arg)
			argp_error(state, "empty --host");
		o->host = arg;
		break;
	case OPT_STATUS:
		if (parse_status(arg, &o->status) < 0)
			argp_error(state,
				   "invalid --status '%s': expected SERVING, NOT_SERVING, UNKNOWN "
				   "or SERVICE_UNKNOWN",
				   arg);
		break;
	case OPT_SERVICE:
		eq = strrchr(arg, '=');
		if (!eq || parse_status(eq + 1, &st) < 0)
			argp_error(state, "invalid --service '%s': expected NAME=STATUS", arg);
		if (eq == arg) { /* "=STATUS" is the service "" */
			o->status = st;
			break;
		}
		if (o->n_services == MAX_SERVICES)
			argp_error(state, "too many --service options (at most %d)", MAX_SERVICES);
		sv = &o->services[o->n_services++];
		sv->name = arg;
		sv->len = (size_t)(eq - arg);
		sv->status = st;
		break;
	case OPT_UNIMPLEMENTED:
		o->unimplemented = true;
		break;
	case OPT_DELAY:
		if (pp_parse_duration(arg, &o->delay_ns) < 0)
			argp_error(state,
				   "invalid --delay '%s': expected a duration such as 500ms, 2s "
				   "or 1m",
				   arg);
		break;
	case 'q':
		o->quiet = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->port < 0)
			argp_error(state, "missing --port");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct pp_opts opts = {
		.host = "127.0.0.1",
		.port = -1,
		.status = PP_GRPC_SERVING_SERVING,
	};
	static const struct argp argp = {
		.options = options,
		.parser = parse_opt,
		.doc = doc,
	};

	argp_err_exit_status = EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argp_parse(&argp, argc, argv, 0, NULL, &opts))
		return EXIT_USAGE;
	return serve(&opts);
}
