// SPDX-License-Identifier: Apache-2.0
/*
 * bench_api: time from a container's state change to the pod watch event reaching a client.
 * Talks to a running `podprobe run` over STATE-DIR/api.sock: takes the pod list's
 * resourceVersion, opens a watch from it as `kubectl get pods -w` does (Table Accept, one
 * newline-delimited {"type","object"} event per chunk; the request sequence is kubectl's,
 * staging/src/k8s.io/kubectl/pkg/cmd/get/get.go watch), then for each trial SIGKILLs the main
 * process of pod PREFIX<i> (found by its command line, `sleep 3600.<i>` as bench/bench_api.sh
 * writes it) and reads the stream until the first MODIFIED event of that pod. Both ends are
 * CLOCK_MONOTONIC in this process. Prints one machine-readable line:
 *
 *   bench=api_watch pods=1000 trials=100 p50_ms=... p90_ms=... p99_ms=... max_ms=... missed=0
 *
 * A trial whose event has not come within 5 s counts as missed. Local socket only.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define TABLE_ACCEPT	 "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
#define TRIAL_TIMEOUT_MS 5000.0

struct opts {
	const char *sock;
	const char *prefix;
	unsigned int trials;
	unsigned int first;
	unsigned int gap_ms;
	bool plain;
};

static struct opts opts = {.prefix = "bench-", .trials = 100, .first = 1, .gap_ms = 50};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	unsigned long v;
	char *end;

	switch (key) {
	case 's':
		opts.sock = arg;
		break;
	case 'P':
		opts.prefix = arg;
		break;
	case 'n':
	case 'f':
	case 'g':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || v > 100000)
			argp_error(state, "-%c wants 0..100000", key);
		if (key == 'n')
			opts.trials = (unsigned int)v;
		else if (key == 'f')
			opts.first = (unsigned int)v;
		else
			opts.gap_ms = (unsigned int)v;
		break;
	case 'j':
		opts.plain = true;
		break;
	case ARGP_KEY_END:
		if (!opts.sock)
			argp_error(state, "--sock is required");
		if (!opts.trials)
			argp_error(state, "--trials wants at least 1");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- HTTP over the unix socket ---------------------------------------------------------- */

static int sock_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(opts.sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, opts.sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int send_get(int fd, const char *target, const char *accept)
{
	char req[1024];
	size_t off = 0;
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n\r\n", target,
		     accept);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -E2BIG;
	while (off < (size_t)n) {
		ssize_t w = write(fd, req + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

/*
 * An HTTP/1.1 response read incrementally: the head, then a chunked body (RFC 9112 §7.1)
 * or one of Content-Length bytes, handed on as complete newline-terminated lines.
 */
struct resp {
	int fd;
	bool head_done;
	bool chunked;
	bool done;
	int status;
	size_t body_left; /* Content-Length left, or the current chunk's bytes left */
	int chunk_state;  /* 0: size line, 1: data, 2: CRLF after data */
	char raw[1 << 16];
	size_t raw_len;
	char *line; /* body bytes not yet returned as a line */
	size_t line_len;
	size_t line_cap;
};

static int body_append(struct resp *r, const char *p, size_t n)
{
	if (r->line_len + n + 1 > r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap : 1 << 16;
		char *nb;

		while (cap < r->line_len + n + 1)
			cap *= 2;
		nb = realloc(r->line, cap);
		if (!nb)
			return -ENOMEM;
		r->line = nb;
		r->line_cap = cap;
	}
	memcpy(r->line + r->line_len, p, n);
	r->line_len += n;
	r->line[r->line_len] = '\0';
	return 0;
}

/* Consume r->raw into the body buffer; returns 0, or -EPROTO on a malformed response. */
static int resp_feed(struct resp *r)
{
	size_t off = 0;
	char *end;

	if (!r->head_done) {
		char *eoh = memmem(r->raw, r->raw_len, "\r\n\r\n", 4);

		if (!eoh)
			return r->raw_len == sizeof(r->raw) ? -EPROTO : 0;
		*eoh = '\0';
		if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
			return -EPROTO;
		for (char *l = strstr(r->raw, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
			if (!strncasecmp(l + 2, "transfer-encoding:", 18) &&
			    strcasestr(l + 2, "chunked"))
				r->chunked = true;
			else if (!strncasecmp(l + 2, "content-length:", 15))
				r->body_left = strtoul(l + 17, NULL, 10);
		}
		r->head_done = true;
		off = (size_t)(eoh + 4 - r->raw);
		if (!r->chunked && !r->body_left)
			r->done = true;
	}
	while (off < r->raw_len && !r->done) {
		size_t avail = r->raw_len - off, take;
		char *crlf;

		if (!r->chunked || r->chunk_state == 1) {
			take = avail < r->body_left ? avail : r->body_left;
			if (body_append(r, r->raw + off, take) < 0)
				return -ENOMEM;
			off += take;
			r->body_left -= take;
			if (!r->body_left) {
				if (r->chunked)
					r->chunk_state = 2;
				else
					r->done = true;
			}
			continue;
		}
		crlf = memmem(r->raw + off, avail, "\r\n", 2);
		if (!crlf)
			break;
		if (r->chunk_state == 2) {
			if (crlf != r->raw + off)
				return -EPROTO;
			r->chunk_state = 0;
		} else {
			r->body_left = strtoul(r->raw + off, &end, 16);
			if (end == r->raw + off)
				return -EPROTO;
			if (!r->body_left) {
				r->done = true; /* the last chunk; no trailers are sent */
				off = r->raw_len;
				break;
			}
			r->chunk_state = 1;
		}
		off = (size_t)(crlf + 2 - r->raw);
	}
	memmove(r->raw, r->raw + off, r->raw_len - off);
	r->raw_len -= off;
	return 0;
}

/* Read more of the response, waiting at most <wait_ms>: 1 read, 0 timed out, -errno. */
static int resp_read(struct resp *r, double wait_ms)
{
	struct pollfd pfd = {r->fd, POLLIN, 0};
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, wait_ms <= 0 ? 0 : (int)wait_ms + 1);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (!rc)
		return 0;
	n = read(r->fd, r->raw + r->raw_len, sizeof(r->raw) - r->raw_len);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (!n)
		return -ECONNRESET;
	r->raw_len += (size_t)n;
	rc = resp_feed(r);
	return rc < 0 ? rc : 1;
}

/* The next complete body line (NUL-terminated, owned by the caller), or NULL. */
static char *resp_line(struct resp *r)
{
	char *nl = r->line_len ? memchr(r->line, '\n', r->line_len) : NULL;
	size_t n;
	char *out;

	if (!nl)
		return NULL;
	n = (size_t)(nl - r->line);
	out = strndup(r->line, n);
	r->line_len -= n + 1;
	memmove(r->line, nl + 1, r->line_len);
	return out;
}

/* ---- the trials ------------------------------------------------------------------------- */

/* The list's metadata.resourceVersion, or -errno. */
static int list_rv(char *ret_rv, size_t size)
{
	struct resp r = {0};
	json_t *doc;
	const char *rv;
	double until = now_ms() + 30000;
	int rc;

	r.fd = sock_connect();
	if (r.fd < 0)
		return r.fd;
	rc = send_get(r.fd, "/api/v1/namespaces/default/pods", "application/json");
	while (rc >= 0 && !r.done && now_ms() < until)
		rc = resp_read(&r, until - now_ms());
	close(r.fd);
	if (rc < 0 || !r.done || r.status != 200) {
		free(r.line);
		return rc < 0 ? rc : -EPROTO;
	}
	doc = json_loadb(r.line ? r.line : "", r.line_len, 0, NULL);
	free(r.line);
	rv = json_string_value(
		json_object_get(json_object_get(doc, "metadata"), "resourceVersion"));
	rc = rv && strlen(rv) < size ? 0 : -EPROTO;
	if (!rc)
		strcpy(ret_rv, rv);
	json_decref(doc);
	return rc;
}

/* The pid whose command line is exactly "sleep" "3600.<i>", or 0. */
static void find_pids(pid_t *pids, unsigned int first, unsigned int n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], buf[64];
		unsigned int i;
		ssize_t len;
		int fd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len < 16 || memcmp(buf, "sleep\0003600.", 11))
			continue;
		buf[len] = '\0';
		if (sscanf(buf + 11, "%u", &i) == 1 && i >= first && i - first < n)
			pids[i - first] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
}

/* The event's type and pod name (Table row or Pod), into the buffers; false when neither. */
static bool event_parse(const char *line, char *type, size_t tsz, char *name, size_t nsz,
			char *status, size_t ssz)
{
	json_t *ev = json_loads(line, 0, NULL), *obj, *row, *meta;
	const char *t, *n, *s = "";

	if (!ev)
		return false;
	obj = json_object_get(ev, "object");
	t = json_string_value(json_object_get(ev, "type"));
	row = json_array_get(json_object_get(obj, "rows"), 0);
	meta = json_object_get(row ? json_object_get(row, "object") : obj, "metadata");
	n = json_string_value(json_object_get(meta, "name"));
	if (row)
		s = json_string_value(json_array_get(json_object_get(row, "cells"), 2));
	else
		s = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	if (t && n) {
		snprintf(type, tsz, "%s", t);
		snprintf(name, nsz, "%s", n);
		snprintf(status, ssz, "%s", s ? s : "");
	}
	json_decref(ev);
	return t && n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option options[] = {
		{"sock", 's', "PATH", 0, "podprobe's STATE-DIR/api.sock", 0},
		{"trials", 'n', "N", 0, "pods to kill, one per trial (default 100)", 0},
		{"first", 'f', "I", 0, "first pod index (default 1)", 0},
		{"prefix", 'P', "NAME", 0,
		 "pod name prefix before the 4-digit index (default bench-)", 0},
		{"gap-ms", 'g', "MS", 0, "quiet time before each kill (default 50)", 0},
		{"json", 'j', 0, 0, "watch plain Pod JSON instead of kubectl's Table", 0},
		{0},
	};
	static const struct argp argp = {
		.options = options,
		.parser = parse,
		.doc = "Watch-event latency of a running podprobe's API",
	};
	char target[256], rv[32], type[32], name[300], status[64], first_status[64] = "";
	struct resp w = {0};
	unsigned int missed = 0, n_ok = 0, seen = 0;
	double *lat;
	pid_t *pids;
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	lat = calloc(opts.trials, sizeof(*lat));
	pids = calloc(opts.trials, sizeof(*pids));
	if (!lat || !pids)
		return 1;
	rc = list_rv(rv, sizeof(rv));
	if (rc < 0) {
		fprintf(stderr, "bench_api: list: %s\n", strerror(-rc));
		return 1;
	}
	find_pids(pids, opts.first, opts.trials);
	w.fd = sock_connect();
	if (w.fd < 0) {
		fprintf(stderr, "bench_api: connect %s: %s\n", opts.sock, strerror(-w.fd));
		return 1;
	}
	snprintf(target, sizeof(target),
		 "/api/v1/namespaces/default/pods?resourceVersion=%s&watch=true", rv);
	rc = send_get(w.fd, target, opts.plain ? "application/json" : TABLE_ACCEPT);
	for (unsigned int i = 0; rc >= 0 && i < opts.trials; i++) {
		char want[300];
		double t0, until;
		bool hit = false;
		char *line;

		snprintf(want, sizeof(want), "%s%04u", opts.prefix, opts.first + i);
		if (!pids[i]) {
			missed++;
			continue;
		}
		/* Let the last trial's restart go by: read and drop what comes for gap_ms. */
		until = now_ms() + opts.gap_ms;
		while (rc >= 0 && now_ms() < until) {
			rc = resp_read(&w, until - now_ms());
			while ((line = resp_line(&w))) {
				seen++;
				free(line);
			}
		}
		if (rc < 0 || (w.head_done && w.status != 200))
			break;
		t0 = now_ms();
		if (kill(pids[i], SIGKILL) < 0) {
			missed++;
			continue;
		}
		until = t0 + TRIAL_TIMEOUT_MS;
		while (!hit && now_ms() < until) {
			while (!hit && (line = resp_line(&w))) {
				seen++;
				hit = event_parse(line, type, sizeof(type), name, sizeof(name),
						  status, sizeof(status)) &&
				      !strcmp(type, "MODIFIED") && !strcmp(name, want);
				free(line);
			}
			if (hit)
				break;
			rc = resp_read(&w, until - now_ms());
			if (rc < 0)
				break;
		}
		if (!hit) {
			missed++;
			continue;
		}
		lat[n_ok++] = now_ms() - t0;
		if (!first_status[0])
			snprintf(first_status, sizeof(first_status), "%s", status);
	}
	close(w.fd);
	free(w.line);
	if (rc < 0 && !n_ok) {
		fprintf(stderr, "bench_api: watch: %s\n", strerror(-rc));
		return 1;
	}
	if (w.status != 200) {
		fprintf(stderr, "bench_api: watch answered HTTP %d\n", w.status);
		return 1;
	}
	qsort(lat, n_ok, sizeof(*lat), cmp_double);
	printf("bench=api_watch accept=%s trials=%u ok=%u missed=%u p50_ms=%.2f p90_ms=%.2f "
	       "p99_ms=%.2f max_ms=%.2f events_read=%u first_status=%s\n",
	       opts.plain ? "json" : "table", opts.trials, n_ok, missed, pct(lat, n_ok, 0.50),
	       pct(lat, n_ok, 0.90), pct(lat, n_ok, 0.99), n_ok ? lat[n_ok - 1] : 0, seen,
	       first_status[0] ? first_status : "-");
	free(lat);
	free(pids);
	return n_ok ? 0 : 1;
}
