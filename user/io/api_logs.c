// SPDX-License-Identifier: Apache-2.0
/*
 * pods/NAME/log: a container's log file as text/plain, as kubelet serves it
 * (pkg/kubelet/kuberuntime/logs and the apiserver's pod log REST): container=, previous=,
 * tailLines=, limitBytes=, timestamps=, sinceSeconds=, sinceTime=, and follow= which streams
 * what the container writes (inotify on the loop) until its instance ends. Line times come
 * from the log's index (podprobe/log_index.h; its header says how precise they are). Errors
 * use the apiserver's texts (pkg/registry/core/pod/strategy.go LogLocation and
 * validateContainer, pkg/apis/core/validation ValidatePodLogOptions).
 */
#include "api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log_index.h"
#include "podprobe/log_times.h"
#include "podprobe/logs.h"
#include "podprobe/loop.h"
#include "podprobe/pod.h"

#define LOG_CHUNK     (64u << 10)
#define LOG_MAX_REPLY (2u << 20) /* at most what a reply carries without follow */

struct api_follow {
	struct pp_api *api;
	struct pp_api_conn *conn;
	char uid[40];
	uint32_t ci;
	uint32_t instance; /* the instance followed: the stream ends with it */
	int fd;
	int wd;
	int64_t limit; /* bytes left under limitBytes, -1 none */
	bool lines;    /* timestamps or since: line by line (sel, idx, recs, pos) */
	struct pp_log_sel sel;
	struct pp_log_index_reader idx;
	struct pp_log_recs recs;
	uint64_t pos; /* the file offset the next line starts at */
	struct api_follow *next;
};

/* The inotify read's fd and buffer: released once the read's final completion is seen. */
struct api_inotify {
	int fd;
	uint64_t op;
	char buf[4096];
};

static void ino_release(void *obj)
{
	struct api_inotify *ino = obj;

	close(ino->fd);
	free(ino);
}

static void follow_free(struct api_follow *f)
{
	struct pp_api *api = f->api;

	for (struct api_follow **pp = &api->follows; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (f->wd >= 0 && api->ino)
		inotify_rm_watch(api->ino->fd, f->wd);
	close(f->fd);
	if (f->lines) {
		pp_log_index_close(&f->idx);
		pp_log_recs_fini(&f->recs);
	}
	free(f);
}

static void on_follow_close(void *arg)
{
	follow_free(arg);
}

/* Send what <fd> holds past its offset, up to <limit> (-1 none). Returns bytes or -errno. */
static ssize_t pump(struct pp_api_conn *conn, int fd, int64_t *limit, bool stream)
{
	char buf[LOG_CHUNK];
	ssize_t total = 0, r;

	while (!limit || *limit != 0) {
		size_t want = sizeof(buf);

		if (limit && *limit > 0 && (int64_t)want > *limit)
			want = (size_t)*limit;
		r = read(fd, buf, want);
		if (r <= 0)
			return r < 0 && errno != EAGAIN ? -errno : total;
		if (stream && pp_api_stream_write(conn, buf, (size_t)r) < 0)
			return -EPIPE;
		total += r;
		if (limit && *limit > 0)
			*limit -= r;
		if (pp_api_conn_backlog(conn) > LOG_MAX_REPLY)
			break; /* a reader that slow gets the rest when the file changes again */
	}
	return total;
}

/*
 * Line mode of a follow: send the complete lines past f->pos (every line once <final>),
 * timed by the index as it grows. Returns bytes consumed or -errno.
 */
static ssize_t pump_lines(struct api_follow *f, bool final)
{
	char buf[LOG_CHUNK];
	ssize_t total = 0, r;

	if (pp_log_index_read(&f->idx, &f->recs) < 0)
		return -ENOMEM;
	while (f->sel.limit != 0) {
		struct pp_log_out out = {0};
		pp_wall_ns after;
		long used;

		r = pread(f->fd, buf, sizeof(buf), (off_t)f->pos);
		if (r <= 0)
			return r < 0 && errno != EAGAIN ? -errno : total;
		after = pp_log_index_tail_time(f->fd,
					       f->recs.n ? f->recs.v[f->recs.n - 1].t : INT64_MIN);
		used = pp_log_render(&f->sel, f->recs.v, f->recs.n, after, buf, (size_t)r, f->pos,
				     final, &out);
		/* A line longer than a chunk goes out in pieces, each with its time. */
		if (used == 0 && r == (ssize_t)sizeof(buf))
			used = pp_log_render(&f->sel, f->recs.v, f->recs.n, after, buf, (size_t)r,
					     f->pos, true, &out);
		if (used > 0 && out.len && pp_api_stream_write(f->conn, out.buf, out.len) < 0)
			used = -EPIPE;
		pp_log_out_fini(&out);
		if (used <= 0)
			return used < 0 ? used : total;
		f->pos += (uint64_t)used;
		total += used;
		if (pp_api_conn_backlog(f->conn) > LOG_MAX_REPLY)
			break;
	}
	return total;
}

/* Start <fd> <n> lines before its end (tailLines). */
static void seek_tail(int fd, long n)
{
	char buf[4096];
	off_t end = lseek(fd, 0, SEEK_END), pos = end;
	long lines = 0;

	if (end <= 0)
		return;
	if (n == 0) {
		lseek(fd, end, SEEK_SET); /* tailLines=0: nothing (pkg/util/tail) */
		return;
	}
	while (pos > 0) {
		size_t len = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t r;

		pos -= (off_t)len;
		r = pread(fd, buf, len, pos);
		if (r <= 0)
			break;
		for (ssize_t i = r - 1; i >= 0; i--) {
			/* The newline that ends the last line does not start a line. */
			if (buf[i] != '\n' || pos + i == end - 1)
				continue;
			if (++lines == n) {
				lseek(fd, pos + i + 1, SEEK_SET);
				return;
			}
		}
	}
	lseek(fd, 0, SEEK_SET);
}

static void on_inotify(void *ctx, int res);

static int ino_arm(struct pp_api *api)
{
	struct api_inotify *ino = api->ino;

	if (!ino) {
		ino = calloc(1, sizeof(*ino));
		if (!ino)
			return -ENOMEM;
		ino->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ino->fd < 0) {
			free(ino);
			return -errno;
		}
		api->ino = ino;
	}
	if (ino->op)
		return 0;
	return pp_loop_read(api->sup->loop, ino->fd, ino->buf, sizeof(ino->buf), on_inotify, api,
			    &ino->op);
}

static void on_inotify(void *ctx, int res)
{
	struct pp_api *api = ctx;

	api->ino->op = 0;
	if (res < 0 && res != -EAGAIN && res != -EINTR)
		return;
	pp_api_logs_wake(api, false);
	if (api->follows)
		ino_arm(api);
}

void pp_api_logs_wake(struct pp_api *api, bool all)
{
	for (struct api_follow *f = api->follows, *next; f; f = next) {
		struct pod_rt *pr = pp_sup_pod_by_uid(api->sup, f->uid);
		const struct pp_container_state *cs = pr ? &pr->st.c[f->ci] : NULL;
		bool over = !cs || cs->instance != f->instance || !cs->alive;
		ssize_t r;

		next = f->next;
		if (f->lines)
			r = pump_lines(f, over);
		else
			r = pump(f->conn, f->fd, f->limit >= 0 ? &f->limit : NULL, true);
		if (r < 0 || over || f->limit == 0 || (f->lines && f->sel.limit == 0)) {
			struct pp_api_conn *c = f->conn;

			pp_api_conn_on_close(c, NULL, NULL);
			follow_free(f);
			if (r != -EPIPE)
				pp_api_stream_end(c);
		}
	}
	(void)all;
}

void pp_api_logs_fini(struct pp_api *api)
{
	while (api->follows) {
		pp_api_conn_on_close(api->follows->conn, NULL, NULL);
		follow_free(api->follows);
	}
	if (api->ino && pp_loop_retire(api->sup->loop, &api->ino->op, 1, ino_release, api->ino) < 0)
		close(api->ino->fd); /* its buffer is left to the kernel, never freed in use */
	api->ino = NULL;
}

static void bad(struct pp_api_conn *conn, const char *fmt, const char *a, const char *b)
{
	char msg[600];

	snprintf(msg, sizeof(msg), fmt, a, b);
	pp_api_reply_status(conn, 400, "BadRequest", msg, NULL, NULL);
}

/*
 * sinceSeconds= / sinceTime= as the apiserver takes them (metav1 query conversion, then
 * ValidatePodLogOptions) and kubelet's NewLogOptions. Returns 0 with <ret> (INT64_MIN:
 * neither), or -EINVAL once it answered.
 */
static int parse_since(struct pp_api_conn *conn, const struct pp_http_req *req, const char *name,
		       pp_wall_ns *ret)
{
	char secs[32], when[64], msg[400], *end;
	bool has_secs, has_time;
	pp_wall_ns t = INT64_MIN;
	long long n = 0;

	has_secs = pp_http_query_get(req->query, "sinceSeconds", secs, sizeof(secs)) > 0;
	has_time = pp_http_query_get(req->query, "sinceTime", when, sizeof(when)) > 0;
	if (has_secs) {
		errno = 0;
		n = strtoll(secs, &end, 10);
		if (errno || *end || end == secs) {
			bad(conn, "sinceSeconds: invalid value \"%s\"%s", secs, "");
			return -EINVAL;
		}
	}
	if (has_time && pp_log_time_parse(when, &t) < 0) {
		bad(conn, "parsing time \"%s\" as \"2006-01-02T15:04:05Z07:00\": cannot parse%s",
		    when, "");
		return -EINVAL;
	}
	if ((has_secs && n < 1) || (has_secs && has_time)) {
		snprintf(msg, sizeof(msg), "PodLogOptions \"%s\" is invalid: %s", name,
			 has_time ? "[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` "
				    "may be specified"
				  : "sinceSeconds: Invalid value: ");
		if (!has_time)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "%lld: must be greater than 0", n);
		pp_api_reply_status(conn, 422, "Invalid", msg, name, "PodLogOptions");
		return -EINVAL;
	}
	if (has_secs) {
		if (n > INT64_MAX / (long long)PP_NSEC_PER_SEC)
			n = INT64_MAX / (long long)PP_NSEC_PER_SEC;
		t = pp_clock_wall() - (pp_wall_ns)n * (pp_wall_ns)PP_NSEC_PER_SEC;
	}
	*ret = t;
	return 0;
}

/*
 * The offset of the first line at or after <from> whose time is at least <since> (INT64_MIN:
 * <from> itself), reading the index of <fd> into <recs>.
 */
static uint64_t since_start(int fd, struct pp_log_index_reader *idx, struct pp_log_recs *recs,
			    pp_wall_ns since, uint64_t from)
{
	struct stat st;
	uint64_t b, size;
	char c[4096];
	ssize_t r;

	if (pp_log_index_read(idx, recs) < 0 || since == INT64_MIN || fstat(fd, &st) < 0)
		return from;
	size = (uint64_t)st.st_size;
	b = pp_log_since_offset(recs->v, recs->n, since,
				pp_log_index_tail_time(fd, recs->n ? recs->v[recs->n - 1].t : 0),
				size);
	if (b <= from)
		return from;
	/* b may fall inside a line that began earlier: start at the next line. */
	for (uint64_t at = b - 1; at < size; at += (uint64_t)r) {
		r = pread(fd, c, sizeof(c), (off_t)at);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (c[i] == '\n')
				return at + (uint64_t)i + 1;
	}
	return size;
}

/* Answer with the lines of <fd> from its offset on, as <sel> asks (timestamps, since). */
static void reply_lines(struct pp_api_conn *conn, int fd, struct pp_log_sel *sel)
{
	struct pp_log_index_reader idx;
	struct pp_log_recs recs = {0};
	struct pp_log_out out = {0};
	uint64_t from = (uint64_t)lseek(fd, 0, SEEK_CUR);
	char *body = malloc(LOG_MAX_REPLY);
	ssize_t len = 0, r;
	long rc = -ENOMEM;

	pp_log_index_open(fd, &idx);
	from = since_start(fd, &idx, &recs, sel->since, from);
	/* At most LOG_MAX_REPLY of the file per reply, as without timestamps. */
	while (body && len < (ssize_t)LOG_MAX_REPLY) {
		r = pread(fd, body + len, LOG_MAX_REPLY - (size_t)len, (off_t)from + len);
		if (r <= 0)
			break;
		len += r;
	}
	if (body)
		rc = pp_log_render(sel, recs.v, recs.n,
				   pp_log_index_tail_time(fd, recs.n ? recs.v[recs.n - 1].t : 0),
				   body, (size_t)len, from, true, &out);
	if (rc < 0)
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
	else
		pp_api_reply(conn, 200, "text/plain", NULL, out.len ? out.buf : "", out.len);
	pp_log_out_fini(&out);
	pp_log_recs_fini(&recs);
	pp_log_index_close(&idx);
	free(body);
}

void pp_api_pod_log(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		    const char *ns, const char *name)
{
	struct pod_rt *pr = pp_api_pod_find(api, ns, name);
	char cname[254], buf[32], path[64], msg[400];
	bool follow, previous;
	const struct pp_container_state *cs;
	struct pp_log_sel sel = {false, INT64_MIN, -1, -1};
	int64_t limit = -1;
	long tail = -1;
	uint32_t ci;
	int fd, rc;

	if (!pr) {
		snprintf(msg, sizeof(msg), "pods \"%s\" not found", name);
		pp_api_reply_status(conn, 404, "NotFound", msg, name, "pods");
		return;
	}
	if (pp_http_query_get(req->query, "container", cname, sizeof(cname)) <= 0) {
		if (pr->spec->n_containers != 1 || pr->spec->n_init_containers) {
			bad(conn, "a container name must be specified for pod %s%s", name, "");
			return;
		}
		snprintf(cname, sizeof(cname), "%s", pr->spec->containers[0].name);
	}
	for (ci = 0; ci < pr->st.n; ci++)
		if (!strcmp(pp_pod_container(pr->spec, ci)->name, cname))
			break;
	if (ci == pr->st.n) {
		bad(conn, "container %s is not valid for pod %s", cname, name);
		return;
	}
	follow = pp_http_query_get(req->query, "follow", buf, sizeof(buf)) >= 0 &&
		 strcmp(buf, "false");
	previous = pp_http_query_get(req->query, "previous", buf, sizeof(buf)) >= 0 &&
		   strcmp(buf, "false");
	if (pp_http_query_get(req->query, "tailLines", buf, sizeof(buf)) > 0)
		tail = strtol(buf, NULL, 10);
	if (pp_http_query_get(req->query, "limitBytes", buf, sizeof(buf)) > 0)
		limit = strtoll(buf, NULL, 10);
	sel.timestamps = pp_http_query_get(req->query, "timestamps", buf, sizeof(buf)) >= 0 &&
			 strcmp(buf, "false");
	if (parse_since(conn, req, name, &sel.since) < 0)
		return;
	cs = &pr->st.c[ci];
	if (!previous && !cs->instance) {
		bad(conn, "container \"%s\" in pod \"%s\" is waiting to start: ContainerCreating",
		    cname, name);
		return;
	}
	rc = pp_logs_open(api->sup->cfg->state_dir, pr->key, cname, previous, &fd);
	if (rc == -ENOENT && previous) {
		bad(conn, "previous terminated container \"%s\" in pod \"%s\" not found", cname,
		    name);
		return;
	}
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot read the log of container \"%s\": %s", cname,
			 strerror(-rc));
		pp_api_reply_status(conn, 500, "InternalError", msg, NULL, NULL);
		return;
	}
	if (tail >= 0)
		seek_tail(fd, tail);
	sel.limit = limit;
	if (sel.timestamps || sel.since != INT64_MIN) {
		if (!follow || previous || !cs->alive) {
			reply_lines(conn, fd, &sel);
			close(fd);
			return;
		}
	} else if (!follow || previous || !cs->alive) {
		char *body = malloc(LOG_MAX_REPLY);
		ssize_t len = 0, r;

		while (body && len < (ssize_t)LOG_MAX_REPLY && (limit < 0 || len < limit)) {
			size_t want = LOG_MAX_REPLY - (size_t)len;

			if (limit >= 0 && (int64_t)want > limit - len)
				want = (size_t)(limit - len);
			r = read(fd, body + len, want);
			if (r <= 0)
				break;
			len += r;
		}
		close(fd);
		if (!body) {
			pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL,
					    NULL);
			return;
		}
		pp_api_reply(conn, 200, "text/plain", NULL, body, (size_t)len);
		free(body);
		return;
	}
	{
		struct api_follow *f = calloc(1, sizeof(*f));

		if (!f || ino_arm(api) < 0 || pp_api_stream_start(conn, 200, "text/plain") < 0) {
			free(f);
			close(fd);
			pp_api_reply_status(conn, 500, "InternalError", "cannot follow the log",
					    NULL, NULL);
			return;
		}
		f->api = api;
		f->conn = conn;
		snprintf(f->uid, sizeof(f->uid), "%s", pr->st.uid);
		f->ci = ci;
		f->instance = cs->instance;
		f->fd = fd;
		f->limit = limit;
		if (sel.timestamps || sel.since != INT64_MIN) {
			f->lines = true;
			f->sel = sel;
			pp_log_index_open(fd, &f->idx);
			f->pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
			f->pos = since_start(fd, &f->idx, &f->recs, sel.since, f->pos);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		f->wd = inotify_add_watch(api->ino->fd, path, IN_MODIFY | IN_CLOSE_WRITE);
		f->next = api->follows;
		api->follows = f;
		pp_api_conn_on_close(conn, on_follow_close, f);
		pp_api_logs_wake(api, false);
	}
}
