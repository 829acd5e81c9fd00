/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo-app: the test application behind podprobe's examples and integration tests.
 *
 * `serve` is a small HTTP/1.1 server (/healthz, /ready, /) whose start-up delay, readiness,
 * health, crash and SIGTERM behaviour are chosen on the command line, so a manifest can
 * reproduce each kubelet scenario with real processes and sockets. `wait-tcp` waits for a TCP
 * port, the way an init container waits for a database.
 *
 * One thread, one poll() loop, non-blocking sockets. Every timer counts from process start
 * (CLOCK_MONOTONIC), so "--ready-after 5s --crash-after 20s" reads the way a test expects.
 * Signals arrive through a signalfd, so there is no signal handler and no global flag at all.
 * The one exception to "one thread" is --main-thread-exit-after: the server then runs in a
 * second thread and the main thread ends with pthread_exit() while the process lives on.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/tool_util.h"
#include "podprobe/kubefmt.h"

#define PROG		       "demo-app"
#define MAX_CLIENTS	       1024
#define REQ_MAX		       8192			/* request line + headers */
#define RESP_MAX	       512			/* status line + headers + body */
#define CLIENT_TIMEOUT_NS      (10 * PP_NSEC_PER_SEC)	/* whole request/response exchange */
#define LINGER_TIMEOUT_NS      (1 * PP_NSEC_PER_SEC)	/* drain after our half-close */
#define CONNECT_TIMEOUT_MIN_NS (1 * PP_NSEC_PER_SEC)	/* per wait-tcp attempt */
#define FINAL_CONNECT_NS       (100 * PP_NSEC_PER_MSEC) /* last attempt, at --timeout */
#define DEFAULT_PORT	       8080
#define DEFAULT_INTERVAL_NS    (200 * PP_NSEC_PER_MSEC)
#define EXIT_USAGE	       2

enum demo_cmd {
	CMD_NONE = 0,
	CMD_SERVE,
	CMD_WAIT_TCP,
	_CMD_MAX,
};

static const char *const cmd_names[_CMD_MAX] = {
	[CMD_NONE] = "",
	[CMD_SERVE] = "serve",
	[CMD_WAIT_TCP] = "wait-tcp",
};

/* Long-only options get keys above the ASCII range. */
enum opt_key {
	OPT_HOST = 0x100,
	OPT_LISTEN_DELAY,
	OPT_FAIL_HEALTH_AFTER,
	OPT_CRASH_AFTER,
	OPT_CLOSE_LISTENER_AFTER,
	OPT_EXIT_CODE,
	OPT_READY_AFTER,
	OPT_IGNORE_SIGTERM,
	OPT_TERM_DELAY,
	OPT_WRITE_FILE,
	OPT_TIMEOUT,
	OPT_INTERVAL,
	OPT_STOP_ACCEPTING_AFTER,
	OPT_MAIN_THREAD_EXIT_AFTER,
};

struct pp_opts {
	enum demo_cmd cmd; /* subcommand */
	int sub_argc;	   /* argv of the subcommand, argv[0] = command name */
	char **sub_argv;
	/* serve */
	const char *host;		  /* address or name to bind */
	int port;			  /* 1..65535 */
	uint64_t listen_delay_ns;	  /* before bind + listen */
	uint64_t fail_health_after_ns;	  /* /healthz -> 500 from then on, TU_NO_DEADLINE = never */
	uint64_t crash_after_ns;	  /* exit(exit_code) then, TU_NO_DEADLINE = never */
	uint64_t close_listener_after_ns; /* stop listening, keep running; TU_NO_DEADLINE = never */
	uint64_t stop_accepting_after_ns; /* keep listening, never accept(); TU_NO_DEADLINE = never
					   */
	uint64_t
		main_thread_exit_after_ns; /* main thread pthread_exit()s; TU_NO_DEADLINE = never */
	int exit_code;			   /* for --crash-after */
	uint64_t ready_after_ns;	   /* /ready -> 200 from then on */
	bool ignore_sigterm;		   /* log SIGTERM and keep running */
	uint64_t term_delay_ns;		   /* keep serving this long after SIGTERM */
	const char *write_file;		   /* marker file while listening and healthy, or NULL */
	/* wait-tcp */
	const char *target;    /* HOST:PORT as given */
	char target_host[256]; /* HOST without brackets */
	char target_port[8];   /* PORT, validated */
	uint64_t timeout_ns;   /* 0 = wait forever */
	uint64_t interval_ns;  /* between attempt starts */
};

const char tu_prog[] = PROG;
const char *argp_program_version = PROG " (podprobe) 0.1";

/* ---- small helpers ------------------------------------------------------------------------- */

/*
 * <ns> in the largest unit that divides it ("90s", "1500ms", "250us"): the option as a user
 * would write it, which is not Go's "1m30s" of pp_fmt_go_duration(), so log lines stay as they
 * were.
 */
static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns % PP_NSEC_PER_SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / PP_NSEC_PER_SEC));
	else if (ns % PP_NSEC_PER_MSEC == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / PP_NSEC_PER_MSEC));
	else if (ns % PP_NSEC_PER_USEC == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / PP_NSEC_PER_USEC));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/*
 * Split "HOST:PORT" or "[V6ADDR]:PORT" into <ret_host> and <ret_port> (validated 1..65535).
 * Returns 0 or -EINVAL.
 */
static int split_host_port(const char *s, char *ret_host, size_t host_len, char *ret_port,
			   size_t port_len)
{
	const char *colon, *host = s;
	size_t n;
	long port;

	colon = strrchr(s, ':');
	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return -EINVAL;
		host = s + 1;
		n -= 2;
	} else if (memchr(s, ':', n)) {
		return -EINVAL; /* bare IPv6 needs brackets */
	}
	if (n == 0 || n >= host_len)
		return -EINVAL;
	if (tu_parse_long(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memcpy(ret_host, host, n);
	ret_host[n] = '\0';
	snprintf(ret_port, port_len, "%ld", port);
	return 0;
}

/* ---- command line -------------------------------------------------------------------------- */

static const char top_doc[] =
	"Test application for podprobe's examples and integration tests.\n"
	"\n"
	"USAGE: demo-app COMMAND [OPTION...]\n"
	"\n"
	"COMMANDS:\n"
	"    serve      HTTP/1.1 server: /healthz, /ready and /, with scripted failures\n"
	"    wait-tcp   wait until HOST:PORT accepts a TCP connection\n"
	"\n"
	"Run 'demo-app COMMAND --help' for the options of one command.\n"
	"\n"
	"EXAMPLES:\n"
	"    demo-app serve --port 8080               # serve until SIGTERM\n"
	"    demo-app serve --fail-health-after 10s   # /healthz 500 after 10 s\n"
	"    demo-app wait-tcp 127.0.0.1:15432 --timeout 60s\n";

static const char serve_doc[] =
	"Serve HTTP/1.1 on HOST:PORT, one request per connection (Connection: close).\n"
	"\n"
	"USAGE: demo-app serve [--port N] [--host ADDR] [OPTION...]\n"
	"\n"
	"    GET /healthz   200 \"ok\", or 500 once --fail-health-after has passed\n"
	"    GET /ready     200 once --ready-after has passed, 503 before\n"
	"    GET /          200 with a short text\n"
	"    other paths    404; methods other than GET and HEAD get 405\n"
	"\n"
	"All times count from process start. DURATION is Go-style (500ms, 2s,\n"
	"1m30s, 1h) or a plain number of seconds. SIGTERM exits 0 (after\n"
	"--term-delay; never with --ignore-sigterm); SIGINT always exits 0 at once.\n"
	"--crash-after exits with --exit-code (default 1). Usage errors exit 2.\n"
	"\n"
	"EXAMPLES:\n"
	"    demo-app serve --port 18080\n"
	"    demo-app serve --listen-delay 3s --ready-after 5s   # slow start\n"
	"    demo-app serve --crash-after 2s --exit-code 3       # crash loop\n"
	"    demo-app serve --ignore-sigterm                     # needs SIGKILL\n"
	"    demo-app serve --term-delay 2s --write-file /tmp/up # drain, marker\n"
	"    demo-app serve --stop-accepting-after 5s            # a wedged listener\n"
	"    demo-app serve --main-thread-exit-after 1s --crash-after 3s --exit-code 7\n";

static const char wait_tcp_doc[] =
	"Try to connect to HOST:PORT every --interval until it accepts (exit 0)\n"
	"or --timeout passes (exit 1). Usage errors exit 2.\n"
	"\n"
	"USAGE: demo-app wait-tcp HOST:PORT [--timeout DURATION] [--interval D]\n"
	"\n"
	"EXAMPLES:\n"
	"    demo-app wait-tcp 127.0.0.1:15432                  # wait forever\n"
	"    demo-app wait-tcp localhost:8080 --timeout 60s --interval 500ms\n"
	"    demo-app wait-tcp [::1]:8080 --timeout 10\n";

static const struct argp_option top_options[] = {
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
	{},
};

static const struct argp_option serve_options[] = {
	{"port", 'p', "N", 0, "TCP port to listen on, 1..65535 (default 8080)", 0},
	{"host", OPT_HOST, "ADDR", 0, "Address or name to bind (default 127.0.0.1)", 0},
	{"listen-delay", OPT_LISTEN_DELAY, "DURATION", 0, "Wait this long before listening", 0},
	{"ready-after", OPT_READY_AFTER, "DURATION", 0, "GET /ready returns 503 until then", 0},
	{"fail-health-after", OPT_FAIL_HEALTH_AFTER, "DURATION", 0,
	 "GET /healthz returns 500 from then on", 0},
	{"crash-after", OPT_CRASH_AFTER, "DURATION", 0, "Exit with --exit-code at that time", 0},
	{"close-listener-after", OPT_CLOSE_LISTENER_AFTER, "DURATION", 0,
	 "Close the listening socket then and keep running (a dead port, a live process)", 0},
	{"stop-accepting-after", OPT_STOP_ACCEPTING_AFTER, "DURATION", 0,
	 "Stop calling accept() then and keep the listener open: connections queue up in the "
	 "kernel (a wedged listener)",
	 0},
	{"main-thread-exit-after", OPT_MAIN_THREAD_EXIT_AFTER, "DURATION", 0,
	 "Serve from a second thread; the main thread ends with pthread_exit() then, the "
	 "process lives on (until --crash-after, SIGTERM...)",
	 0},
	{"exit-code", OPT_EXIT_CODE, "N", 0, "Exit status for --crash-after, 0..255 (default 1)",
	 0},
	{"ignore-sigterm", OPT_IGNORE_SIGTERM, NULL, 0, "Log SIGTERM and keep running", 0},
	{"term-delay", OPT_TERM_DELAY, "DURATION", 0,
	 "After SIGTERM, keep serving this long, then exit 0", 0},
	{"write-file", OPT_WRITE_FILE, "PATH", 0,
	 "Write our pid to PATH once listening; remove it when /healthz starts failing and on "
	 "SIGTERM/SIGINT exit (not on --crash-after)",
	 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
	{},
};

static const struct argp_option wait_tcp_options[] = {
	{"timeout", OPT_TIMEOUT, "DURATION", 0, "Give up after this long (default 0 = never)", 0},
	{"interval", OPT_INTERVAL, "DURATION", 0, "Time between attempts (default 200ms)", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
	{},
};

static uint64_t duration_arg(struct argp_state *state, const char *name, const char *arg)
{
	uint64_t ns = 0;

	if (pp_parse_duration(arg, &ns) < 0)
		argp_error(state, "invalid %s '%s': expected a duration such as 500ms, 2s, 1m or 3",
			   name, arg);
	return ns;
}

static error_t parse_top(int key, char *arg, struct argp_state *state)
{
	struct pp_opts *o = state->input;
	int i;

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		for (i = CMD_NONE + 1; i < _CMD_MAX; i++)
			if (!strcmp(arg, cmd_names[i]))
				break;
		if (i == _CMD_MAX)
			argp_error(state, "unknown command '%s'", arg);
		o->cmd = (enum demo_cmd)i;
		/* Hand the rest of argv, starting at the command name, to the command's parser. */
		o->sub_argv = &state->argv[state->next - 1];
		o->sub_argc = state->argc - state->next + 1;
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (o->cmd == CMD_NONE)
			argp_error(state, "missing COMMAND");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static error_t parse_serve(int key, char *arg, struct argp_state *state)
{
	struct pp_opts *o = state->input;
	long v;

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'p':
		if (tu_parse_long(arg, 1, 65535, &v) < 0)
			argp_error(state, "invalid port '%s': expected 1..65535", arg);
		o->port = (int)v;
		break;
	case OPT_HOST:
		if (!*arg)
			argp_error(state, "empty --host");
		o->host = arg;
		break;
	case OPT_LISTEN_DELAY:
		o->listen_delay_ns = duration_arg(state, "--listen-delay", arg);
		break;
	case OPT_READY_AFTER:
		o->ready_after_ns = duration_arg(state, "--ready-after", arg);
		break;
	case OPT_FAIL_HEALTH_AFTER:
		o->fail_health_after_ns = duration_arg(state, "--fail-health-after", arg);
		break;
	case OPT_CRASH_AFTER:
		o->crash_after_ns = duration_arg(state, "--crash-after", arg);
		break;
	case OPT_CLOSE_LISTENER_AFTER:
		o->close_listener_after_ns = duration_arg(state, "--close-listener-after", arg);
		break;
	case OPT_STOP_ACCEPTING_AFTER:
		o->stop_accepting_after_ns = duration_arg(state, "--stop-accepting-after", arg);
		break;
	case OPT_MAIN_THREAD_EXIT_AFTER:
		o->main_thread_exit_after_ns = duration_arg(state, "--main-thread-exit-after", arg);
		break;
	case OPT_EXIT_CODE:
		if (tu_parse_long(arg, 0, 255, &v) < 0)
			argp_error(state, "invalid exit code '%s': expected 0..255", arg);
		o->exit_code = (int)v;
		break;
	case OPT_IGNORE_SIGTERM:
		o->ignore_sigterm = true;
		break;
	case OPT_TERM_DELAY:
		o->term_delay_ns = duration_arg(state, "--term-delay", arg);
		break;
	case OPT_WRITE_FILE:
		if (!*arg)
			argp_error(state, "empty --write-file");
		o->write_file = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static error_t parse_wait_tcp(int key, char *arg, struct argp_state *state)
{
	struct pp_opts *o = state->input;

	switch (key) {
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_TIMEOUT:
		o->timeout_ns = duration_arg(state, "--timeout", arg);
		break;
	case OPT_INTERVAL:
		o->interval_ns = duration_arg(state, "--interval", arg);
		if (o->interval_ns == 0)
			argp_error(state, "--interval must be greater than 0");
		break;
	case ARGP_KEY_ARG:
		if (o->target)
			argp_error(state, "unexpected argument '%s'", arg);
		if (split_host_port(arg, o->target_host, sizeof(o->target_host), o->target_port,
				    sizeof(o->target_port)) < 0)
			argp_error(state, "invalid target '%s': expected HOST:PORT, port 1..65535",
				   arg);
		o->target = arg;
		break;
	case ARGP_KEY_END:
		if (!o->target)
			argp_error(state, "missing HOST:PORT");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- serve --------------------------------------------------------------------------------- */

enum client_state {
	CS_FREE = 0, /* slot unused */
	CS_READ,     /* collecting the request head */
	CS_WRITE,    /* sending the response */
	CS_LINGER,   /* half-closed, draining input so close() sends FIN, not RST */
	_CS_MAX,
};

struct client {
	int fd; /* -1 when the slot is free */
	enum client_state state;
	uint64_t deadline_ns;	    /* close the connection then */
	size_t in_len;		    /* bytes in <in> */
	size_t out_len;		    /* bytes in <out> */
	size_t out_off;		    /* bytes of <out> already sent */
	char peer[TU_ADDR_STR_MAX]; /* "addr:port", for the access log */
	char in[REQ_MAX];
	char out[RESP_MAX];
};

struct server {
	const struct pp_opts *opts;
	uint64_t start_ns;	   /* every option's time counts from here */
	int sig_fd;		   /* signalfd for SIGTERM and SIGINT */
	int listen_fd;		   /* -1 until --listen-delay has passed */
	uint64_t accept_resume_ns; /* accept() backoff after EMFILE and friends, or 0 */
	uint64_t term_at_ns;	   /* exit 0 then (SIGTERM + --term-delay), or TU_NO_DEADLINE */
	bool ready_logged;
	bool unhealthy_logged;
	bool listener_closed; /* --close-listener-after happened: never listen again */
	bool accept_stopped;  /* --stop-accepting-after happened: never accept again */
	bool file_written;    /* --write-file currently exists because of us */
	size_t n_clients;
	struct client *clients; /* MAX_CLIENTS slots */
	struct pollfd *pfds;	/* 2 + MAX_CLIENTS */
	int *pfd_client;	/* pfds[i] -> clients index, -1 for sig_fd and listen_fd */
};

static bool serve_is_ready(const struct server *srv, uint64_t now)
{
	return srv->listen_fd >= 0 &&
	       now >= tu_deadline_after(srv->start_ns, srv->opts->ready_after_ns);
}

static bool serve_is_healthy(const struct server *srv, uint64_t now)
{
	return now < tu_deadline_after(srv->start_ns, srv->opts->fail_health_after_ns);
}

/* Write "<pid>\n" to --write-file through a temporary name, so readers never see it half done. */
static int write_marker(const char *path)
{
	char tmp[PATH_MAX], buf[32];
	int fd, err = 0, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n)
		err = errno ? -errno : -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void remove_marker(struct server *srv)
{
	if (!srv->file_written)
		return;
	if (unlink(srv->opts->write_file) < 0 && errno != ENOENT)
		tu_errln("cannot remove '%s': %s, ignoring", srv->opts->write_file,
			 strerror(errno));
	srv->file_written = false;
}

static void client_close(struct server *srv, struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CS_FREE;
	srv->n_clients--;
}

static void serve_close_all(struct server *srv)
{
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i].fd >= 0)
			client_close(srv, &srv->clients[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
}

/* Copy the request line for the log: bounded, printable ASCII only. */
static void log_request(const struct client *c, int status)
{
	char line[160];
	size_t i;

	for (i = 0; i < c->in_len && i < sizeof(line) - 1; i++) {
		char ch = c->in[i];

		if (ch == '\r' || ch == '\n')
			break;
		line[i] = (ch >= 0x20 && ch < 0x7f && ch != '"') ? ch : '?';
	}
	line[i] = '\0';
	tu_logln("%s \"%s\" %d", c->peer, line, status);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

static void set_response(struct client *c, int status, const char *body, bool head)
{
	int n;

	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\n"
		     "Server: " PROG "\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n"
		     "Connection: close\r\n"
		     "%s"
		     "\r\n"
		     "%s",
		     status, status_text(status), strlen(body),
		     status == 405 ? "Allow: GET, HEAD\r\n" : "", head ? "" : body);
	c->out_len = n < 0 ? 0 : ((size_t)n < sizeof(c->out) ? (size_t)n : sizeof(c->out) - 1);
	c->out_off = 0;
	c->state = CS_WRITE;
	log_request(c, status);
}

static bool path_is(const char *path, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - path) == n && !memcmp(path, lit, n);
}

/*
 * Answer the request head in c->in (complete, or truncated when <too_large>). Only the
 * request line matters: headers and any body are ignored, and the connection closes after
 * the response, which keeps the parser small.
 */
static void handle_request(const struct server *srv, struct client *c, bool too_large, uint64_t now)
{
	const char *p = c->in, *end = c->in + c->in_len, *eol, *sp1, *sp2, *path, *path_end;
	size_t method_len;
	bool head;

	if (too_large) {
		set_response(c, 431, "request head too large\n", false);
		return;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	if (eol > p && eol[-1] == '\r')
		eol--;
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1 || eol - sp2 - 1 < 8 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7)) {
		set_response(c, 400, "bad request\n", false);
		return;
	}
	method_len = (size_t)(sp1 - p);
	head = method_len == 4 && !memcmp(p, "HEAD", 4);
	if (!head && !(method_len == 3 && !memcmp(p, "GET", 3))) {
		set_response(c, 405, "method not allowed\n", false);
		return;
	}

	path = sp1 + 1;
	path_end = sp2;
	if (*path != '/') {
		/* absolute-form "http://host:port/path" (RFC 9112 3.2.2): skip to the path */
		const char *s = memmem(path, (size_t)(path_end - path), "://", 3);

		if (!s) {
			set_response(c, 400, "bad request\n", head);
			return;
		}
		for (path = s + 3; path < path_end && *path != '/'; path++)
			;
		if (path == path_end) {
			path = "/";
			path_end = path + 1;
		}
	}
	for (p = path; p < path_end; p++)
		if (*p == '?' || *p == '#')
			break;
	path_end = p;

	if (path_is(path, path_end, "/healthz")) {
		if (serve_is_healthy(srv, now))
			set_response(c, 200, "ok\n", head);
		else
			set_response(c, 500, "unhealthy\n", head);
	} else if (path_is(path, path_end, "/ready")) {
		if (serve_is_ready(srv, now))
			set_response(c, 200, "ready\n", head);
		else
			set_response(c, 503, "not ready\n", head);
	} else if (path_is(path, path_end, "/")) {
		set_response(c, 200, "podprobe demo-app: hello\n", head);
	} else {
		set_response(c, 404, "not found\n", head);
	}
}

/* Send what is left of the response; on completion half-close and start lingering. */
static void client_write(struct server *srv, struct client *c, uint64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(srv, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/*
	 * Closing with unread input would send RST, and a client could then lose the response
	 * still in its receive buffer. Half-close and drain until its FIN instead (bounded).
	 */
	if (shutdown(c->fd, SHUT_WR) < 0) {
		client_close(srv, c);
		return;
	}
	c->state = CS_LINGER;
	c->deadline_ns = now + LINGER_TIMEOUT_NS;
}

static void client_read(struct server *srv, struct client *c, uint64_t now)
{
	char drain[1024];

	for (;;) {
		char *buf = c->state == CS_LINGER ? drain : c->in + c->in_len;
		size_t room = c->state == CS_LINGER ? sizeof(drain) : REQ_MAX - 1 - c->in_len;
		ssize_t n = recv(c->fd, buf, room, 0);

		if (n == 0) {
			client_close(srv, c); /* EOF: done lingering, or gave up mid-request */
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(srv, c);
			return;
		}
		if (c->state == CS_LINGER)
			continue;
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		if (memmem(c->in, c->in_len, "\r\n\r\n", 4) || memmem(c->in, c->in_len, "\n\n", 2))
			handle_request(srv, c, false, now);
		else if (c->in_len == REQ_MAX - 1)
			handle_request(srv, c, true, now);
		else
			continue;
		client_write(srv, c, now);
		return;
	}
}

static struct client *client_slot(struct server *srv)
{
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i].fd < 0)
			return &srv->clients[i];
	return NULL;
}

static void serve_accept(struct server *srv, uint64_t now)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len;
		struct client *c = client_slot(srv);
		int fd;

		if (!c)
			return; /* full: build_pollfds() leaves the listener out until a slot frees
				 */
		fd = tu_accept(srv->listen_fd, now, &srv->accept_resume_ns, &ss, &len);
		if (fd < 0)
			return;
		c->fd = fd;
		c->state = CS_READ;
		c->deadline_ns = now + CLIENT_TIMEOUT_NS;
		c->in_len = 0;
		c->out_len = 0;
		c->out_off = 0;
		tu_fmt_sockaddr((struct sockaddr *)&ss, len, c->peer, sizeof(c->peer));
		srv->n_clients++;
	}
}

/* Returns true when the process should exit, with the status in <ret_code>. */
static bool serve_signals(struct server *srv, uint64_t now, int *ret_code)
{
	struct signalfd_siginfo si;
	char d[32];

	for (;;) {
		ssize_t n = read(srv->sig_fd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return false;
		if (si.ssi_signo == SIGINT) {
			tu_logln("SIGINT received, exiting");
			*ret_code = EXIT_SUCCESS;
			return true;
		}
		if (si.ssi_signo != SIGTERM)
			continue;
		if (srv->opts->ignore_sigterm) {
			tu_logln("SIGTERM received, ignoring (--ignore-sigterm)");
		} else if (srv->term_at_ns != TU_NO_DEADLINE) {
			tu_logln("SIGTERM received again, already exiting");
		} else if (srv->opts->term_delay_ns == 0) {
			tu_logln("SIGTERM received, exiting");
			*ret_code = EXIT_SUCCESS;
			return true;
		} else {
			fmt_duration(srv->opts->term_delay_ns, d, sizeof(d));
			tu_logln("SIGTERM received, exiting in %s", d);
			srv->term_at_ns = now + srv->opts->term_delay_ns;
		}
	}
}

/*
 * Fire every timer that is due at <now>. Returns true when the process should exit, with the
 * status in <ret_code>. Each timer is disarmed as it fires, so next_deadline() never returns a
 * time in the past and poll() never spins.
 */
static bool serve_timers(struct server *srv, uint64_t now, int *ret_code)
{
	const struct pp_opts *o = srv->opts;
	char name[TU_ADDR_STR_MAX];
	size_t i;
	int err;

	if (srv->term_at_ns != TU_NO_DEADLINE && now >= srv->term_at_ns) {
		tu_logln("term delay over, exiting");
		*ret_code = EXIT_SUCCESS;
		return true;
	}
	if (now >= tu_deadline_after(srv->start_ns, o->crash_after_ns)) {
		tu_logln("crashing with exit code %d (--crash-after)", o->exit_code);
		*ret_code = o->exit_code;
		return true;
	}
	if (srv->listen_fd >= 0 &&
	    now >= tu_deadline_after(srv->start_ns, o->close_listener_after_ns)) {
		close(srv->listen_fd);
		srv->listen_fd = -1;
		srv->listener_closed = true;
		tu_logln("closed the listening socket (--close-listener-after), still running");
	}
	if (srv->listen_fd >= 0 && !srv->accept_stopped &&
	    now >= tu_deadline_after(srv->start_ns, o->stop_accepting_after_ns)) {
		srv->accept_stopped = true;
		tu_logln("stopped calling accept() (--stop-accepting-after), still listening");
	}
	if (srv->listen_fd < 0 && !srv->listener_closed &&
	    now >= srv->start_ns + o->listen_delay_ns) {
		srv->listen_fd = tu_listen_tcp(o->host, o->port, SOMAXCONN, name, sizeof(name));
		if (srv->listen_fd < 0) {
			*ret_code = EXIT_FAILURE;
			return true;
		}
		tu_logln("listening on %s", name);
		if (o->write_file && serve_is_healthy(srv, now)) {
			err = write_marker(o->write_file);
			if (err < 0) {
				tu_errln("cannot write '%s': %s", o->write_file, strerror(-err));
				*ret_code = EXIT_FAILURE;
				return true;
			}
			srv->file_written = true;
			tu_logln("wrote '%s'", o->write_file);
		}
	}
	if (!srv->ready_logged && serve_is_ready(srv, now)) {
		tu_logln("ready");
		srv->ready_logged = true;
	}
	if (!srv->unhealthy_logged && !serve_is_healthy(srv, now)) {
		tu_logln("health check failing from now on, /healthz returns 500");
		srv->unhealthy_logged = true;
		remove_marker(srv);
	}
	if (srv->accept_resume_ns && now >= srv->accept_resume_ns)
		srv->accept_resume_ns = 0;
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd >= 0 && now >= c->deadline_ns)
			client_close(srv, c);
	}
	return false;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The earliest time serve_timers() has something to do, mirroring its conditions. */
static uint64_t next_deadline(const struct server *srv)
{
	const struct pp_opts *o = srv->opts;
	uint64_t d = srv->term_at_ns;
	size_t i;

	d = min_u64(d, tu_deadline_after(srv->start_ns, o->crash_after_ns));
	if (srv->listen_fd < 0 && !srv->listener_closed)
		d = min_u64(d, srv->start_ns + o->listen_delay_ns);
	if (srv->listen_fd >= 0)
		d = min_u64(d, tu_deadline_after(srv->start_ns, o->close_listener_after_ns));
	if (srv->listen_fd >= 0 && !srv->accept_stopped)
		d = min_u64(d, tu_deadline_after(srv->start_ns, o->stop_accepting_after_ns));
	else if (!srv->ready_logged)
		d = min_u64(d, tu_deadline_after(srv->start_ns, o->ready_after_ns));
	if (!srv->unhealthy_logged)
		d = min_u64(d, tu_deadline_after(srv->start_ns, o->fail_health_after_ns));
	if (srv->accept_resume_ns)
		d = min_u64(d, srv->accept_resume_ns);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i].fd >= 0)
			d = min_u64(d, srv->clients[i].deadline_ns);
	return d;
}

static nfds_t build_pollfds(struct server *srv)
{
	nfds_t n = 0;
	size_t i;

	srv->pfds[n] = (struct pollfd){.fd = srv->sig_fd, .events = POLLIN};
	srv->pfd_client[n++] = -1;
	/* Leave the listener out while full or backing off: its POLLIN would spin the loop. */
	if (srv->listen_fd >= 0 && srv->n_clients < MAX_CLIENTS && !srv->accept_resume_ns &&
	    !srv->accept_stopped) {
		srv->pfds[n] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
		srv->pfd_client[n++] = -1;
	}
	for (i = 0; i < MAX_CLIENTS; i++) {
		const struct client *c = &srv->clients[i];

		if (c->fd < 0)
			continue;
		srv->pfds[n] = (struct pollfd){
			.fd = c->fd,
			.events = c->state == CS_WRITE ? POLLOUT : POLLIN,
		};
		srv->pfd_client[n++] = (int)i;
	}
	return n;
}

/* More descriptors than MAX_CLIENTS need, if the hard limit allows it (best effort). */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= MAX_CLIENTS + 64)
		return;
	rl.rlim_cur = MAX_CLIENTS + 64;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

static int cmd_serve(const struct pp_opts *o)
{
	struct server srv = {
		.opts = o,
		.sig_fd = -1,
		.listen_fd = -1,
		.term_at_ns = TU_NO_DEADLINE,
	};
	sigset_t mask;
	int code = EXIT_FAILURE;
	size_t i;

	raise_nofile_limit();
	srv.start_ns = tu_now_ns();
	srv.clients = calloc(MAX_CLIENTS, sizeof(*srv.clients));
	srv.pfds = calloc(MAX_CLIENTS + 2, sizeof(*srv.pfds));
	srv.pfd_client = calloc(MAX_CLIENTS + 2, sizeof(*srv.pfd_client));
	if (!srv.clients || !srv.pfds || !srv.pfd_client) {
		tu_errln("out of memory");
		goto out_free;
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		srv.clients[i].fd = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	srv.sig_fd = tu_signalfd(&mask);
	if (srv.sig_fd < 0)
		goto out_free;
	if (o->listen_delay_ns) {
		char d[32];

		fmt_duration(o->listen_delay_ns, d, sizeof(d));
		tu_logln("waiting %s before listening (--listen-delay)", d);
	}

	for (;;) {
		uint64_t now = tu_now_ns();
		nfds_t n, k;
		int r;

		if (serve_timers(&srv, now, &code))
			break;
		n = build_pollfds(&srv);
		r = poll(srv.pfds, n, tu_poll_timeout_ms(next_deadline(&srv), now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			tu_errln("poll: %s", strerror(errno));
			code = EXIT_FAILURE;
			break;
		}
		if (r == 0)
			continue;
		now = tu_now_ns();
		if (srv.pfds[0].revents && serve_signals(&srv, now, &code))
			break;
		for (k = 1; k < n; k++) {
			struct pollfd *pfd = &srv.pfds[k];
			struct client *c;

			if (!pfd->revents)
				continue;
			if (srv.pfd_client[k] < 0) {
				serve_accept(&srv, now);
				continue;
			}
			c = &srv.clients[srv.pfd_client[k]];
			if (c->fd != pfd->fd)
				continue; /* slot recycled during this pass */
			if (pfd->revents & POLLNVAL) {
				client_close(&srv, c);
			} else if (c->state != CS_WRITE) {
				client_read(&srv, c, now); /* also sees EOF and errors */
			} else if (pfd->revents & (POLLERR | POLLHUP)) {
				client_close(&srv, c);
			} else {
				client_write(&srv, c, now);
			}
		}
	}

	/* A crash leaves the marker behind, as a real crash would; a clean exit tidies up. */
	if (code == EXIT_SUCCESS)
		remove_marker(&srv);
	serve_close_all(&srv);
out_free:
	if (srv.sig_fd >= 0)
		close(srv.sig_fd);
	free(srv.pfd_client);
	free(srv.pfds);
	free(srv.clients);
	fflush(stdout);
	return code;
}

/* ---- wait-tcp ------------------------------------------------------------------------------ */

static void sleep_until(uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / PP_NSEC_PER_SEC),
		.tv_nsec = (long)(deadline % PP_NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Non-blocking connect to <ai> bounded by <deadline>. Returns 0 or -errno (-ETIMEDOUT). */
static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
	int fd, err = 0, r;
	socklen_t len = sizeof(err);
	struct pollfd pfd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out_close;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto out_close;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	for (;;) {
		uint64_t now = tu_now_ns();

		if (now >= deadline) {
			err = -ETIMEDOUT;
			goto out_close;
		}
		r = poll(&pfd, 1, tu_poll_timeout_ms(deadline, now));
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR) {
			err = -errno;
			goto out_close;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	err = -err;
out_close:
	close(fd);
	return err;
}

/* One attempt over every address of the target. Returns 0, or -1 with <errbuf> filled. */
static int try_connect(const struct pp_opts *o, uint64_t deadline, char *errbuf, size_t len)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	int gai, err = -EADDRNOTAVAIL;

	gai = getaddrinfo(o->target_host, o->target_port, &hints, &res);
	if (gai) {
		snprintf(errbuf, len, "%s",
			 gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		err = connect_one(ai, deadline);
		if (!err)
			break;
	}
	freeaddrinfo(res);
	if (err)
		snprintf(errbuf, len, "%s", strerror(-err));
	return err ? -1 : 0;
}

static int cmd_wait_tcp(const struct pp_opts *o)
{
	uint64_t start = tu_now_ns(), deadline, connect_ns;
	char errbuf[128] = "no attempt made", d[32];

	deadline = o->timeout_ns ? start + o->timeout_ns : TU_NO_DEADLINE;
	/* A silently dropped SYN must not stall the loop, nor cut a slow accept short. */
	connect_ns =
		o->interval_ns > CONNECT_TIMEOUT_MIN_NS ? o->interval_ns : CONNECT_TIMEOUT_MIN_NS;
	tu_logln("waiting for %s", o->target);
	for (;;) {
		uint64_t attempt = tu_now_ns(), limit = attempt + connect_ns, next;

		/* Stay within --timeout, but give the attempt at the deadline a fair chance. */
		if (limit > deadline)
			limit = deadline > attempt + FINAL_CONNECT_NS ? deadline
								      : attempt + FINAL_CONNECT_NS;
		if (try_connect(o, limit, errbuf, sizeof(errbuf)) == 0) {
			tu_logln("%s is up", o->target);
			return EXIT_SUCCESS;
		}
		if (tu_now_ns() >= deadline) {
			fmt_duration(o->timeout_ns, d, sizeof(d));
			tu_errln("timed out after %s waiting for %s: %s", d, o->target, errbuf);
			return EXIT_FAILURE;
		}
		next = attempt + o->interval_ns;
		sleep_until(next < deadline ? next : deadline);
	}
}

/* ---- --main-thread-exit-after --------------------------------------------------------------- */

static void *serve_thread(void *arg)
{
	/* The process's exit status is the server's, whichever thread is left. */
	exit(cmd_serve(arg));
}

/*
 * Serve from a second thread and end the main thread (the thread-group leader) with
 * pthread_exit() after <o>->main_thread_exit_after_ns: the process goes on with its pid, and
 * its exit status is the server thread's exit(). SIGTERM and SIGINT are blocked first, so
 * the server thread's signalfd receives them rather than the default action killing all.
 */
static int serve_main_thread_exits(const struct pp_opts *o)
{
	uint64_t start = tu_now_ns();
	struct pp_opts *copy;
	struct timespec ts;
	pthread_t th;
	sigset_t mask;
	char d[32];
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* Not on this thread's stack, which is gone once it has exited. */
	copy = malloc(sizeof(*copy));
	if (!copy) {
		tu_errln("out of memory");
		return EXIT_FAILURE;
	}
	*copy = *o;
	err = pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (!err)
		err = pthread_create(&th, NULL, serve_thread, copy);
	if (err) {
		tu_errln("cannot start the server thread: %s", strerror(err));
		return EXIT_FAILURE;
	}
	start += o->main_thread_exit_after_ns;
	ts = (struct timespec){.tv_sec = (time_t)(start / PP_NSEC_PER_SEC),
			       .tv_nsec = (long)(start % PP_NSEC_PER_SEC)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	fmt_duration(o->main_thread_exit_after_ns, d, sizeof(d));
	tu_logln("main thread exiting after %s (--main-thread-exit-after), server thread goes on",
		 d);
	pthread_exit(NULL);
}

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct pp_opts opts = {
		.host = "127.0.0.1",
		.port = DEFAULT_PORT,
		.fail_health_after_ns = TU_NO_DEADLINE,
		.crash_after_ns = TU_NO_DEADLINE,
		.close_listener_after_ns = TU_NO_DEADLINE,
		.stop_accepting_after_ns = TU_NO_DEADLINE,
		.main_thread_exit_after_ns = TU_NO_DEADLINE,
		.exit_code = 1,
		.interval_ns = DEFAULT_INTERVAL_NS,
	};
	static const struct argp top_argp = {
		.options = top_options,
		.parser = parse_top,
		.args_doc = "COMMAND [ARG...]",
		.doc = top_doc,
	};
	static const struct argp serve_argp = {
		.options = serve_options,
		.parser = parse_serve,
		.doc = serve_doc,
	};
	static const struct argp wait_tcp_argp = {
		.options = wait_tcp_options,
		.parser = parse_wait_tcp,
		.args_doc = "HOST:PORT",
		.doc = wait_tcp_doc,
	};
	char sub_name[64];
	int err;

	argp_err_exit_status = EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* ARGP_IN_ORDER stops option permutation, so the command's options reach its parser. */
	err = argp_parse(&top_argp, argc, argv, ARGP_IN_ORDER, NULL, &opts);
	if (err)
		return EXIT_USAGE;

	/* Messages from the command's parser then read "demo-app serve: ...". */
	snprintf(sub_name, sizeof(sub_name), PROG " %s", cmd_names[opts.cmd]);
	opts.sub_argv[0] = sub_name;
	err = argp_parse(opts.cmd == CMD_SERVE ? &serve_argp : &wait_tcp_argp, opts.sub_argc,
			 opts.sub_argv, 0, NULL, &opts);
	if (err)
		return EXIT_USAGE;

	switch (opts.cmd) {
	case CMD_SERVE:
		if (opts.main_thread_exit_after_ns != TU_NO_DEADLINE)
			return serve_main_thread_exits(&opts);
		return cmd_serve(&opts);
	case CMD_WAIT_TCP:
		return cmd_wait_tcp(&opts);
	default:
		return EXIT_USAGE;
	}
}
