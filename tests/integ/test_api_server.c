// SPDX-License-Identifier: Apache-2.0
/*
 * The API server's transport (user/io/api_server.c, api_conn.c, api_reply.c) on a real loop:
 * HTTPS with a self-signed P-256 certificate (SAN IP:127.0.0.1) and a bearer token, a unix
 * socket with plain HTTP, driven by /usr/bin/curl run as children and by raw sockets for
 * malformed, oversized, pipelined and slow clients. The test runs the loop itself: each turn
 * waits in pp_loop_run_once() until the earliest of the server's deadline and the test's, then
 * calls pp_api_server_run(); children are waited for through a pidfd polled on the same loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "integ/support/integ.h"
#include "podprobe/api_server.h"
#include "podprobe/clock.h"
#include "podprobe/http_req.h"
#include "podprobe/loop.h"

#define MS	    PP_NSEC_PER_MSEC
#define TOKEN	    "0123456789abcdef0123456789abcdef"
#define BACKLOG_CAP (1u << 20)

static char dir[256], cert[300], sock_path[300], sock2_path[300];
static struct pp_loop *loop;
static struct pp_api_server *srv, *srv2; /* srv2: short timeouts, unix socket only */
static SSL_CTX *ctx;
static unsigned int port;

/* The stream the handler started last, and what happened to it. */
static struct pp_api_conn *stream_conn;
static unsigned int stream_closes;

static void on_stream_close(void *arg)
{
	stream_closes++;
	stream_conn = NULL;
}

/*
 * Echo method, path, query and body as JSON; /stream?n=N[&end] starts a chunked stream of N
 * lines (and ends it with &end).
 */
static void handler(void *hctx, struct pp_api_conn *c, const struct pp_http_req *req)
{
	char buf[32];

	if (!strcmp(req->path, "/stream")) {
		int n = pp_http_query_get(req->query, "n", buf, sizeof(buf)) > 0 ? atoi(buf) : 0;

		if (pp_api_stream_start(c, 200, NULL) < 0)
			return;
		for (int i = 0; i < n; i++)
			pp_api_stream_json(c, json_pack("{s:s,s:i}", "type", "ADDED", "i", i));
		if (pp_http_query_get(req->query, "end", buf, sizeof(buf)) >= 0) {
			pp_api_stream_end(c);
			return;
		}
		stream_conn = c;
		pp_api_conn_on_close(c, on_stream_close, NULL);
		return;
	}
	pp_api_reply_json(c, 200, NULL, NULL,
			  json_pack("{s:s,s:s,s:s,s:s%,s:b}", "method", req->method_str, "path",
				    req->path, "query", req->query, "body", req->body,
				    req->body_len, "local", pp_api_conn_is_local(c)));
}

/* One turn of the loop, waiting at most until <until>. */
static void turn(pp_nsec until)
{
	pp_nsec d = pp_api_server_next(srv);

	if (pp_api_server_next(srv2) < d)
		d = pp_api_server_next(srv2);
	if (until < d)
		d = until;
	assert_true(pp_loop_run_once(loop, d) >= 0);
	pp_api_server_run(srv, pp_clock_now());
	pp_api_server_run(srv2, pp_clock_now());
}

static void set_flag(void *arg, int res)
{
	*(int *)arg = res >= 0 ? 1 : -1;
}

/* Run the loop until <fd> has <events>, or <timeout_ms>; true when it has. */
static bool wait_fd(int fd, unsigned int events, int timeout_ms)
{
	pp_nsec until = pp_clock_now() + (pp_nsec)timeout_ms * MS;
	uint64_t id = 0;
	int flag = 0;

	assert_int_equal(pp_loop_poll(loop, fd, events, set_flag, &flag, &id), 0);
	while (!flag && pp_clock_now() < until)
		turn(until);
	if (!flag)
		pp_loop_cancel(loop, id);
	return flag != 0;
}

/*
 * Run <argv> (a NULL-terminated list) with stdout to <out_path>, driving the loop until it
 * exits; returns its exit status. A child still running after 30 s is killed (failing).
 */
static int run_child(char *const argv[], const char *out_path)
{
	int status = -1, pfd, flag = 0;
	pp_nsec until = pp_clock_now() + 30000 * MS;
	uint64_t id;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	pfd = (int)pidfd_open(pid, 0);
	assert_true(pfd >= 0);
	assert_int_equal(pp_loop_poll(loop, pfd, POLLIN, set_flag, &flag, &id), 0);
	while (!flag && pp_clock_now() < until)
		turn(until);
	if (!flag) {
		kill(pid, SIGKILL);
		pp_loop_cancel(loop, id);
	}
	waitpid(pid, &status, 0);
	close(pfd);
	assert_true(flag);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static size_t slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

/*
 * curl <args...>; an argument "tls:/path" stands for https://127.0.0.1:PORT/path. Returns the
 * HTTP code, the body in <body>.
 */
static int curl(char *body, size_t size, ...)
{
	char *argv[32], *urls[8], code_path[300], body_path[300], codes[256], url[512];
	const char *a;
	va_list ap;
	int n = 0, n_urls = 0, code;

	snprintf(code_path, sizeof(code_path), "%s/curl.code", dir);
	snprintf(body_path, sizeof(body_path), "%s/curl.body", dir);
	argv[n++] = "/usr/bin/curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "20";
	argv[n++] = "--cacert";
	argv[n++] = cert;
	argv[n++] = "-o";
	argv[n++] = body_path;
	argv[n++] = "-w";
	argv[n++] = "%{http_code} %{num_connects}\\n";
	va_start(ap, size);
	while ((a = va_arg(ap, const char *)) && n < 30) {
		if (!strncmp(a, "tls:", 4) && n_urls < 8) { /* a path on the TLS port */
			snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, a + 4);
			a = urls[n_urls++] = strdup(url);
		}
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	code = run_child(argv, code_path);
	while (n_urls)
		free(urls[--n_urls]);
	assert_int_equal(code, 0);
	slurp(code_path, codes, sizeof(codes));
	if (body)
		slurp(body_path, body, size);
	code = atoi(codes);
	return code;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Write all of <len> bytes, running the loop while the socket is full. */
static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			assert_true(wait_fd(fd, POLLOUT, 5000));
			continue;
		}
		if (n < 0)
			return; /* the server closed: what it answered is still to read */
		data += n;
		len -= (size_t)n;
	}
}

/*
 * Read one response (head + Content-Length body) into <buf>; returns its status, or 0 on EOF
 * before one. <ret_len> gets the response's length; bytes after it stay in <buf>.
 */
static int read_response(int fd, char *buf, size_t size, size_t *have, size_t *ret_len)
{
	for (;;) {
		char *end = memmem(buf, *have, "\r\n\r\n", 4);
		ssize_t n;

		if (end) {
			const char *cl = strcasestr(buf, "Content-Length:");
			size_t head = (size_t)(end + 4 - buf),
			       body = cl ? strtoul(cl + 15, NULL, 10) : 0;

			if (*have >= head + body) {
				*ret_len = head + body;
				return atoi(buf + 9);
			}
		}
		if (!wait_fd(fd, POLLIN, 10000))
			fail_msg("no response within 10 s");
		n = recv(fd, buf + *have, size - 1 - *have, 0);
		if (n <= 0)
			return 0;
		*have += (size_t)n;
		buf[*have] = '\0';
	}
}

/* True when the server closes <fd> within <timeout_ms> (reading and dropping what comes). */
static bool closed_by_server(int fd, int timeout_ms)
{
	pp_nsec until = pp_clock_now() + (pp_nsec)timeout_ms * MS;
	char buf[4096];

	while (pp_clock_now() < until) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		if (n < 0 && !wait_fd(fd, POLLIN, (int)((until - pp_clock_now()) / MS) + 1))
			return false;
	}
	return false;
}

static int make_cert(void)
{
	char cmd[2048], out[4096], key[300];

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout %s -out %s -days 1 -subj /CN=podprobe "
		 "-addext subjectAltName=IP:127.0.0.1 2>&1",
		 key, cert);
	if (t_system(cmd, out, sizeof(out)) != 0) {
		fprintf(stderr, "openssl: %s\n", out);
		return -1;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return -1;
	return 0;
}

static int group_setup(void **state)
{
	struct rlimit rl;
	struct pp_api_server_cfg cfg = {0};

	if (access("/usr/bin/curl", X_OK) || access("/usr/bin/openssl", X_OK)) {
		printf("SKIP: needs /usr/bin/curl and /usr/bin/openssl\n");
		exit(T_EXIT_SKIP);
	}
	/* 1,100 client sockets and the server's 1,024 live in this one process. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(dir, sizeof(dir), "/tmp/pp-api-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	snprintf(sock2_path, sizeof(sock2_path), "%s/api2.sock", dir);
	if (make_cert() < 0)
		return -1;
	if (pp_loop_new(256, &loop) < 0) {
		printf("SKIP: no io_uring\n");
		exit(T_EXIT_SKIP);
	}
	cfg.loop = loop;
	cfg.tcp_addr = "127.0.0.1:0";
	cfg.ssl = ctx;
	cfg.token = TOKEN;
	cfg.unix_path = sock_path;
	cfg.handler = handler;
	cfg.max_backlog = BACKLOG_CAP;
	if (pp_api_server_new(&cfg, &srv) < 0)
		return -1;
	port = pp_api_server_port(srv);
	cfg.tcp_addr = NULL;
	cfg.unix_path = sock2_path;
	cfg.head_timeout = 400 * MS;
	cfg.idle_timeout = 800 * MS;
	if (pp_api_server_new(&cfg, &srv2) < 0)
		return -1;
	return port ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[400], out[64];

	pp_api_server_free(srv);
	pp_api_server_free(srv2);
	pp_loop_free(loop);
	SSL_CTX_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	t_system(cmd, out, sizeof(out));
	return 0;
}

static void test_tls_request_with_token_is_answered(void **state)
{
	char body[4096];
	json_t *j;

	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN,
			      "tls:/api/v1/namespaces/default/pods?limit=500&x=%41", NULL),
			 200);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(j, "path")),
			    "/api/v1/namespaces/default/pods");
	assert_string_equal(json_string_value(json_object_get(j, "query")), "limit=500&x=%41");
	assert_false(json_boolean_value(json_object_get(j, "local")));
	json_decref(j);

	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN, "-X",
			      "POST", "-H", "Content-Type: application/json", "--data-binary",
			      "{\"kind\":\"Pod\"}", "tls:/api/v1/namespaces/default/pods", NULL),
			 200);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"kind\":\"Pod\"}");
	json_decref(j);
}

static void test_no_or_wrong_token_is_401_with_a_status(void **state)
{
	char body[4096];
	json_t *j;

	assert_int_equal(curl(body, sizeof(body), "tls:/api/v1/pods", NULL), 401);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "Status");
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "Unauthorized");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "Failure");
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 401);
	json_decref(j);
	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN "x",
			      "tls:/api/v1/pods", NULL),
			 401);
	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Basic " TOKEN,
			      "tls:/api/v1/pods", NULL),
			 401);
	/* A path that merely starts like an open one is not open. */
	assert_int_equal(curl(body, sizeof(body), "tls:/healthzx", NULL), 401);
}

static void test_health_and_version_need_no_token(void **state)
{
	char body[4096];

	assert_int_equal(curl(body, sizeof(body), "tls:/healthz", NULL), 200);
	assert_non_null(strstr(body, "\"path\":\"/healthz\""));
	assert_int_equal(curl(body, sizeof(body), "tls:/readyz/ping", NULL), 200);
	assert_int_equal(curl(body, sizeof(body), "tls:/livez", NULL), 200);
	assert_int_equal(curl(body, sizeof(body), "tls:/version", NULL), 200);
}

static void test_unix_socket_serves_plain_http_without_token(void **state)
{
	char body[4096];

	assert_int_equal(curl(body, sizeof(body), "--unix-socket", sock_path,
			      "http://localhost/api/v1/pods?watch=1", NULL),
			 200);
	assert_non_null(strstr(body, "\"path\":\"/api/v1/pods\""));
	assert_non_null(strstr(body, "\"local\":true"));
}

static void test_4mib_body_is_413(void **state)
{
	char body[4096], path[300], arg[310];
	FILE *f;

	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++)
		fprintf(f, "%01023d\n", i);
	fclose(f);
	snprintf(arg, sizeof(arg), "@%s", path);
	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN,
			      "--data-binary", arg, "tls:/api/v1/namespaces/default/pods", NULL),
			 413);
	assert_non_null(strstr(body, "\"code\":413"));
	/* Without curl's Expect: 100-continue the body is on its way: still 413, not a reset. */
	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN, "-H",
			      "Expect:", "--data-binary", arg,
			      "tls:/api/v1/namespaces/default/pods", NULL),
			 413);
}

static void test_70k_header_is_431_and_closes(void **state)
{
	size_t n = 70 << 10, have = 0, len;
	char *req = malloc(n + 64), resp[8192];
	int fd = unix_connect(sock_path);

	assert_non_null(req);
	strcpy(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + strlen(req), 'a', n);
	strcpy(req + n, "\r\n\r\n");
	send_all(fd, req, n + 4);
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 431);
	assert_non_null(strstr(resp, "Connection: close"));
	assert_true(closed_by_server(fd, 3000));
	close(fd);
	free(req);
}

static void test_garbage_is_400_and_closes(void **state)
{
	static const char *const bad[] = {
		"garbage\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"\x16\x03\x01\x02\x01\x01\n\n", /* TLS on the plain socket */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char resp[4096];
		size_t have = 0, len;
		int fd = unix_connect(sock_path);

		send_all(fd, bad[i], strlen(bad[i]));
		assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 400);
		assert_non_null(strstr(resp, "\"kind\":\"Status\""));
		assert_true(closed_by_server(fd, 3000));
		close(fd);
	}
}

static void test_keep_alive_serves_two_requests_on_one_connection(void **state)
{
	char resp[8192], codes[64];
	size_t have = 0, len;
	int fd = unix_connect(sock_path);

	send_all(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n", 30);
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	assert_non_null(strstr(resp, "/one"));
	assert_null(strstr(resp, "Connection: close"));
	have = 0;
	send_all(fd, "GET /two HTTP/1.1\r\nHost: x\r\n\r\n", 30);
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	assert_non_null(strstr(resp, "/two"));
	close(fd);

	/* curl over TLS: the second URL reuses the first connection (num_connects 1, then 0). */
	{
		char url2[128], code_path[300];

		snprintf(url2, sizeof(url2), "https://127.0.0.1:%u/b", port);
		assert_int_equal(curl(NULL, 0, "-H", "Authorization: Bearer " TOKEN, "tls:/a", "-o",
				      "/dev/null", url2, NULL),
				 200);
		snprintf(code_path, sizeof(code_path), "%s/curl.code", dir);
		slurp(code_path, codes, sizeof(codes));
		assert_string_equal(codes, "200 1\n200 0\n");
	}
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
	static const char reqs[] = "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
				   "POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
				   "GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char resp[16384];
	size_t have = 0, len;
	int fd = unix_connect(sock_path);

	send_all(fd, reqs, sizeof(reqs) - 1);
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	assert_non_null(memmem(resp, len, "/p1", 3));
	memmove(resp, resp + len, have - len + 1);
	have -= len;
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	assert_non_null(memmem(resp, len, "\"body\":\"hello\"", 14));
	memmove(resp, resp + len, have - len + 1);
	have -= len;
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	assert_non_null(memmem(resp, len, "/p3", 3));
	assert_non_null(memmem(resp, len, "Connection: close", 17));
	assert_true(closed_by_server(fd, 3000));
	close(fd);
}

static void test_stream_is_chunked_and_ends(void **state)
{
	char body[4096];

	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN,
			      "tls:/stream?n=3&end", NULL),
			 200);
	assert_string_equal(body, "{\"type\":\"ADDED\",\"i\":0}\n{\"type\":\"ADDED\",\"i\":1}\n"
				  "{\"type\":\"ADDED\",\"i\":2}\n");
}

/* A client that stops reading is dropped once the unsent backlog passes the cap. */
static void test_slow_stream_reader_is_dropped_past_the_backlog_cap(void **state)
{
	char chunk[64 << 10];
	int fd = unix_connect(sock_path), rc = 0, rcvbuf = 4096;
	unsigned int closes = stream_closes, writes = 0;
	struct pp_api_conn *c;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(chunk, 'w', sizeof(chunk));
	send_all(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 33);
	for (int i = 0; i < 100 && !stream_conn; i++)
		turn(pp_clock_now() + 50 * MS);
	assert_non_null(stream_conn);
	c = stream_conn;
	/* The client reads nothing; the socket buffers fill, then the backlog grows. */
	while (writes < 1000) {
		rc = pp_api_stream_write(c, chunk, sizeof(chunk));
		if (rc < 0)
			break;
		writes++;
		assert_true(pp_api_conn_backlog(c) <= BACKLOG_CAP);
		turn(pp_clock_now() + MS);
	}
	assert_int_equal(rc, -ENOBUFS);
	/* The close callback did not run inside the write; it runs from the server's run. */
	assert_int_equal(stream_closes, closes);
	assert_int_equal(pp_api_stream_write(c, "x", 1), -EPIPE);
	turn(pp_clock_now() + 10 * MS);
	assert_int_equal(stream_closes, closes + 1);
	assert_null(stream_conn);
	assert_true(closed_by_server(fd, 3000));
	close(fd);
	printf("# slow reader dropped after %u writes of 64 KiB (cap %u KiB)\n", writes,
	       BACKLOG_CAP >> 10);
}

/* A stream whose client goes away reports it through the close callback. */
static void test_stream_client_gone_runs_the_close_callback(void **state)
{
	unsigned int closes = stream_closes;
	int fd = unix_connect(sock_path);

	send_all(fd, "GET /stream?n=1 HTTP/1.1\r\nHost: x\r\n\r\n", 37);
	for (int i = 0; i < 100 && !stream_conn; i++)
		turn(pp_clock_now() + 50 * MS);
	assert_non_null(stream_conn);
	close(fd);
	for (int i = 0; i < 100 && stream_closes == closes; i++)
		turn(pp_clock_now() + 50 * MS);
	assert_int_equal(stream_closes, closes + 1);
	assert_null(stream_conn);
}

static void test_slow_head_is_closed_at_the_head_timeout(void **state)
{
	int fd = unix_connect(sock2_path);
	pp_nsec t0 = pp_clock_now(), dt;

	send_all(fd, "GET / HTTP/1.1\r\nHost:", 21);
	assert_true(closed_by_server(fd, 5000));
	dt = pp_clock_now() - t0;
	close(fd);
	assert_true(dt >= 350 * MS);
	assert_true(dt < 2000 * MS);
	printf("# partial head closed after %llu ms (head timeout 400 ms)\n",
	       (unsigned long long)(dt / MS));
}

static void test_idle_keep_alive_is_closed_at_the_idle_timeout(void **state)
{
	char resp[4096];
	size_t have = 0, len;
	int fd = unix_connect(sock2_path);
	pp_nsec t0, dt;

	send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	assert_int_equal(read_response(fd, resp, sizeof(resp), &have, &len), 200);
	t0 = pp_clock_now();
	assert_true(closed_by_server(fd, 5000));
	dt = pp_clock_now() - t0;
	close(fd);
	assert_true(dt >= 700 * MS);
	assert_true(dt < 3000 * MS);
}

/*
 * With idle keep-alive connections, a connection that never sent a byte and an open stream,
 * the server gives the loop nothing to do: no busy polling, only its deadlines.
 */
static void test_idle_server_does_not_wake_the_loop(void **state)
{
	char resp[4096];
	size_t have, len;
	int fds[6], woke = 0;
	pp_nsec until;

	for (int i = 0; i < 4; i++) {
		fds[i] = unix_connect(sock_path);
		have = 0;
		send_all(fds[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
		assert_int_equal(read_response(fds[i], resp, sizeof(resp), &have, &len), 200);
	}
	fds[4] = unix_connect(sock_path);
	fds[5] = unix_connect(sock_path);
	send_all(fds[5], "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 33);
	for (int i = 0; i < 100 && !stream_conn; i++)
		turn(pp_clock_now() + 50 * MS);
	assert_non_null(stream_conn);
	until = pp_clock_now() + 500 * MS;
	while (pp_clock_now() < until) {
		pp_nsec d = pp_api_server_next(srv);

		/* The earliest deadline is the fresh connection's head timeout, seconds away. */
		assert_true(d > pp_clock_now() + 5 * PP_NSEC_PER_SEC);
		assert_true(pp_loop_run_once(loop, d < until ? d : until) >= 0);
		pp_api_server_run(srv, pp_clock_now());
		woke++;
	}
	printf("# 500 ms idle with 6 connections: %d loop turns\n", woke);
	assert_true(woke <= 3);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	for (int i = 0; i < 100 && stream_conn; i++)
		turn(pp_clock_now() + 50 * MS);
	assert_null(stream_conn);
}

/* 1,100 connections that never send a byte cannot lock out a working client. */
static void test_1100_idle_connections_do_not_lock_out_a_client(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	enum { N = 1100 };
	int *fds = malloc(N * sizeof(int)), evicted = 0;
	char body[4096];
	struct rlimit rl;

	assert_non_null(fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 2 * N + 200) {
		free(fds);
		skip();
	}
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fds[i] >= 0);
		if (connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0)
			assert_int_equal(errno, EINPROGRESS);
		if (i % 64 == 63)
			turn(pp_clock_now() + MS); /* let the server accept as they come */
	}
	/* Until every one is accepted (the loop goes quiet). */
	for (int i = 0; i < 200; i++)
		turn(pp_clock_now() + 5 * MS);
	assert_int_equal(curl(body, sizeof(body), "-H", "Authorization: Bearer " TOKEN,
			      "tls:/api/v1/pods", NULL),
			 200);
	assert_non_null(strstr(body, "/api/v1/pods"));
	/* The oldest idle ones made room: at least N - 1024 + 1 were closed by the server. */
	for (int i = 0; i < N; i++) {
		char b;
		ssize_t n = recv(fds[i], &b, 1, 0);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			evicted++;
		close(fds[i]);
	}
	free(fds);
	printf("# %d of %d idle connections closed to make room\n", evicted, N);
	assert_true(evicted >= N - 1024 + 1);
	for (int i = 0; i < 50; i++)
		turn(pp_clock_now() + 5 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_request_with_token_is_answered),
		cmocka_unit_test(test_no_or_wrong_token_is_401_with_a_status),
		cmocka_unit_test(test_health_and_version_need_no_token),
		cmocka_unit_test(test_unix_socket_serves_plain_http_without_token),
		cmocka_unit_test(test_4mib_body_is_413),
		cmocka_unit_test(test_70k_header_is_431_and_closes),
		cmocka_unit_test(test_garbage_is_400_and_closes),
		cmocka_unit_test(test_keep_alive_serves_two_requests_on_one_connection),
		cmocka_unit_test(test_pipelined_requests_are_answered_in_order),
		cmocka_unit_test(test_stream_is_chunked_and_ends),
		cmocka_unit_test(test_slow_stream_reader_is_dropped_past_the_backlog_cap),
		cmocka_unit_test(test_stream_client_gone_runs_the_close_callback),
		cmocka_unit_test(test_slow_head_is_closed_at_the_head_timeout),
		cmocka_unit_test(test_idle_keep_alive_is_closed_at_the_idle_timeout),
		cmocka_unit_test(test_idle_server_does_not_wake_the_loop),
		cmocka_unit_test(test_1100_idle_connections_do_not_lock_out_a_client),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
