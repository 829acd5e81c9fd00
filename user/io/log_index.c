// SPDX-License-Identifier: Apache-2.0
/*
 * The log index (podprobe/log_index.h): one inotify fd for every watched log file, read on the
 * loop. After each batch the fd is left unread for PP_LOG_INDEX_BATCH, so a chatty container
 * costs at most one wakeup per batch: meanwhile the kernel merges a repeated IN_MODIFY with the
 * one queued before it (fs/notify/inotify/inotify_fsnotify.c inotify_merge). Kubelet's CRI
 * logs carry the runtime's time per line (pkg/kubelet/kuberuntime/logs/logs.go parseCRILog);
 * here the container owns the file, so the times are what podprobe saw of it.
 *
 * A watch holds no fd: an inotify mark pins the inode, not a file (fs/notify/mark.c), and every
 * fd podprobe holds is one more that each container's execve closes (fs/exec.c
 * do_close_on_exec), so fds per pod would make starting n pods O(n^2). The log is looked at by
 * name, through the state directory's one fd and without following links, when a batch names
 * it (fstatat: its size and mtime) and the index is opened only to write records. The watched
 * file is known by st_dev/st_ino: a file removed or replaced at that name is not the watched
 * one, and is left alone. A log with no bytes yet has no index file (one inode less per quiet
 * container; a reader takes a missing index for no records).
 */
#include "podprobe/log_index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log_times.h"
#include "podprobe/loop.h"
#include "podprobe/statedir.h"

#define MIN_GAP	    ((pp_wall_ns)(10 * PP_NSEC_PER_MSEC)) /* records closer are merged */
#define BUCKETS	    256					  /* by wd */
#define KEY_BUCKETS 1024				  /* by pod, container and restart */
#define NAME_MAX_   254

struct watch {
	char pod_key[NAME_MAX_ * 2 + 2];
	char container[NAME_MAX_];
	uint32_t restart;
	int wd;
	bool ignored; /* the kernel dropped the watch (IN_IGNORED): the inode is gone */
	dev_t dev;    /* the log file watched */
	ino_t ino;
	dev_t idx_dev; /* its index, as last written (idx_ino 0: none yet) */
	ino_t idx_ino;
	uint64_t idx_size; /* bytes of the index, the header included */
	uint64_t last_off; /* the last record's */
	pp_wall_ns last_t;
	pp_wall_ns run_t; /* the first time merged into the last record */
	pp_wall_ns gap;	  /* the spacing the file was last coarsened to */
	bool dirty;
	struct watch *next;	/* in its wd bucket */
	struct watch *next_key; /* in its key bucket */
};

/* The inotify read's fd and buffer: released once the read's final completion is seen. */
struct idx_inotify {
	int fd;
	uint64_t op;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
};

struct pp_log_index {
	struct pp_loop *loop;
	struct idx_inotify *ino;
	struct watch *buckets[BUCKETS];
	struct watch *by_name[KEY_BUCKETS];
	size_t n_watches;
	pp_nsec next_read; /* when the inotify fd is read again */
	char *state_dir;
	int dir_fd; /* <state_dir>, -1 not open yet: the one fd of every watch */
};

static void ino_release(void *obj)
{
	struct idx_inotify *ino = obj;

	close(ino->fd);
	free(ino);
}

int pp_log_index_new(struct pp_loop *loop, struct pp_log_index **ret)
{
	struct pp_log_index *idx = calloc(1, sizeof(*idx));
	int err;

	if (!idx)
		return -ENOMEM;
	idx->ino = calloc(1, sizeof(*idx->ino));
	if (!idx->ino) {
		free(idx);
		return -ENOMEM;
	}
	idx->ino->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (idx->ino->fd < 0) {
		err = -errno;
		free(idx->ino);
		free(idx);
		return err;
	}
	idx->loop = loop;
	idx->dir_fd = -1;
	*ret = idx;
	return 0;
}

/* Keep <state_dir> open (checked as pp_statedir_open() checks it). Returns 0 or -errno. */
static int open_state_dir(struct pp_log_index *idx, const char *state_dir)
{
	char msg[PATH_MAX + 128];
	char *s;
	int fd;

	if (idx->dir_fd >= 0 && !strcmp(idx->state_dir, state_dir))
		return 0;
	s = strdup(state_dir);
	if (!s)
		return -ENOMEM;
	fd = pp_statedir_open(state_dir, false, msg, sizeof(msg));
	if (fd < 0) {
		free(s);
		return fd;
	}
	if (idx->dir_fd >= 0)
		close(idx->dir_fd);
	free(idx->state_dir);
	idx->state_dir = s;
	idx->dir_fd = fd;
	return 0;
}

/* Open <state_dir>/logs/<pod_key>/<container> of <w> without following links. */
static int open_cdir(const struct pp_log_index *idx, const struct watch *w)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *names[] = {"logs", w->pod_key, w->container};
	char path[sizeof(w->pod_key) + sizeof(w->container) + 8];
	long r;
	int fd, next;

	if (idx->dir_fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "logs/%s/%s", w->pod_key, w->container);
	r = syscall(SYS_openat2, idx->dir_fd, path, &how, sizeof(how));
	if (r >= 0 || errno != ENOSYS)
		return r < 0 ? -errno : (int)r;
	/* Before Linux 5.6: one component at a time. */
	fd = fcntl(idx->dir_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; fd >= 0 && i < 3; i++) {
		next = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			next = -errno;
		close(fd);
		fd = next;
	}
	return fd;
}

static int write_all(int fd, const void *data, size_t len, uint64_t at)
{
	ssize_t r = pwrite(fd, data, len, (off_t)at);

	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

/* Take over index file <fd> (<st>) of log <log_st>: its header checked, its last record read. */
static int adopt_index(struct watch *w, int fd, const struct stat *st, const struct stat *log_st)
{
	uint64_t hdr[2] = {PP_LOG_IDX_MAGIC, (uint64_t)log_st->st_ino}, got[2];
	struct pp_log_rec last;

	w->last_off = 0;
	w->last_t = w->run_t = 0;
	w->idx_size = (uint64_t)st->st_size / PP_LOG_REC_SIZE * PP_LOG_REC_SIZE;
	if (w->idx_size >= PP_LOG_REC_SIZE &&
	    (pread(fd, got, sizeof(got), 0) != (ssize_t)sizeof(got) ||
	     memcmp(got, hdr, sizeof(hdr))))
		w->idx_size = 0; /* another file's: start again */
	if (w->idx_size != (uint64_t)st->st_size && ftruncate(fd, (off_t)w->idx_size) < 0)
		return -errno;
	if (!w->idx_size) {
		if (write_all(fd, hdr, sizeof(hdr), 0) < 0)
			return -EIO;
		w->idx_size = PP_LOG_REC_SIZE;
		return 0;
	}
	if (w->idx_size > PP_LOG_REC_SIZE &&
	    pread(fd, &last, sizeof(last), (off_t)(w->idx_size - PP_LOG_REC_SIZE)) ==
		    (ssize_t)sizeof(last)) {
		w->last_off = last.off;
		w->last_t = w->run_t = last.t;
	}
	return 0;
}

/*
 * Open the index of <w> (log <log_st>) in its directory <dir> for writing, <flags> added. The
 * file last written, as it was left, goes on where it was; any other (the first open, or the
 * index was removed, replaced or changed meanwhile) is taken over. Returns the fd, or -errno.
 */
static int open_idx(struct watch *w, int dir, const struct stat *log_st, int flags)
{
	char name[48];
	struct stat st;
	int fd, err;

	snprintf(name, sizeof(name), "%u.log.idx", w->restart);
	fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | flags, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (w->idx_ino && st.st_ino == w->idx_ino && st.st_dev == w->idx_dev &&
		 (uint64_t)st.st_size == w->idx_size && !(flags & O_TRUNC))
		return fd; /* the size too: a new file may get the inode number of a removed one */
	else
		err = adopt_index(w, fd, &st, log_st);
	if (err < 0) {
		close(fd);
		w->idx_ino = 0;
		return err;
	}
	w->idx_dev = st.st_dev;
	w->idx_ino = st.st_ino;
	return fd;
}

/*
 * The index past PP_LOG_INDEX_MAX: rewrite it at twice the spacing (more if needed) until it
 * holds half, as a new file renamed over the old, so a reader sees one or the other whole.
 * On success *<fd> is the new file.
 */
static int compact(struct watch *w, int dir_fd, int *fd)
{
	size_t n = (size_t)(w->idx_size / PP_LOG_REC_SIZE);
	struct pp_log_rec *v = malloc(n * sizeof(*v));
	char name[48], tmp[56];
	struct stat st;
	int nfd = -1, err;
	ssize_t r;

	if (!v)
		return -ENOMEM;
	r = pread(*fd, v, n * sizeof(*v), 0);
	err = r < 0 ? -errno : (size_t)r != n * sizeof(*v) ? -EIO : 0;
	if (err < 0)
		goto out;
	/* v[0] is the header. */
	do {
		w->gap = w->gap < MIN_GAP ? 2 * MIN_GAP : 2 * w->gap;
		n = 1 + pp_log_recs_coarsen(v + 1, n - 1, w->gap);
	} while (n * PP_LOG_REC_SIZE > PP_LOG_INDEX_MAX / 2 && n > 2);
	snprintf(name, sizeof(name), "%u.log.idx", w->restart);
	snprintf(tmp, sizeof(tmp), "%s.new", name);
	nfd = openat(dir_fd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	err = nfd < 0 ? -errno : write_all(nfd, v, n * sizeof(*v), 0);
	if (!err && fstat(nfd, &st) < 0)
		err = -errno;
	if (!err && renameat(dir_fd, tmp, dir_fd, name) < 0)
		err = -errno;
	if (err < 0) {
		unlinkat(dir_fd, tmp, 0);
		goto out;
	}
	close(*fd);
	*fd = nfd;
	nfd = -1;
	w->idx_dev = st.st_dev;
	w->idx_ino = st.st_ino;
	w->idx_size = n * PP_LOG_REC_SIZE;
out:
	if (nfd >= 0)
		close(nfd);
	free(v);
	return err;
}

/* Record in index *<fd> (in <dir_fd>) that the first <off> bytes were there at <t>. */
static void record(struct watch *w, int dir_fd, int *fd, uint64_t off, pp_wall_ns t)
{
	struct pp_log_rec rec = {off, t};
	uint64_t at = w->idx_size;

	if (w->idx_size > PP_LOG_REC_SIZE && t - w->run_t < MIN_GAP) {
		at -= PP_LOG_REC_SIZE; /* merged into the last record: its bytes move later */
	} else {
		if (at + PP_LOG_REC_SIZE > PP_LOG_INDEX_MAX && compact(w, dir_fd, fd) == 0)
			at = w->idx_size;
		if (at + PP_LOG_REC_SIZE > PP_LOG_INDEX_MAX)
			return; /* no room, and it cannot be rewritten: later bytes get later times
				 */
		w->run_t = t;
	}
	if (write_all(*fd, &rec, sizeof(rec), at) < 0)
		return;
	if (at == w->idx_size)
		w->idx_size += PP_LOG_REC_SIZE;
	w->last_off = off;
	w->last_t = t;
}

/* The mtime of <st>, clamped between <last> and now. */
static pp_wall_ns tail_time(const struct stat *st, pp_wall_ns last)
{
	pp_wall_ns now = pp_clock_wall(), t = now;

	if (st)
		t = (pp_wall_ns)st->st_mtim.tv_sec * (pp_wall_ns)PP_NSEC_PER_SEC +
		    st->st_mtim.tv_nsec;
	if (t > now)
		t = now;
	return t < last ? last : t;
}

pp_wall_ns pp_log_index_tail_time(int log_fd, pp_wall_ns last)
{
	struct stat st;

	return tail_time(fstat(log_fd, &st) == 0 ? &st : NULL, last);
}

/* The log <log_st> grew past the last record: record it in index *<fd> of <w> in <dir_fd>. */
static void sample_at(struct watch *w, int dir_fd, int *fd, const struct stat *log_st)
{
	if ((uint64_t)log_st->st_size > w->last_off)
		record(w, dir_fd, fd, (uint64_t)log_st->st_size, tail_time(log_st, w->last_t));
}

/* What the file holds now, as a record when it grew. */
static void sample(struct pp_log_index *idx, struct watch *w)
{
	char name[48];
	struct stat st;
	int dir_fd, fd;

	w->dirty = false;
	if (w->ignored)
		return;
	dir_fd = open_cdir(idx, w);
	if (dir_fd < 0)
		return;
	snprintf(name, sizeof(name), "%u.log", w->restart);
	/* Only the file watched: one removed or replaced since has nothing more to record. */
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_ino == w->ino && st.st_dev == w->dev && (uint64_t)st.st_size > w->last_off) {
		fd = open_idx(w, dir_fd, &st, O_CREAT);
		if (fd >= 0) {
			sample_at(w, dir_fd, &fd, &st);
			close(fd);
		}
	}
	close(dir_fd);
}

static void on_inotify(void *ctx, int res);

static void arm(struct pp_log_index *idx)
{
	if (idx->ino->op)
		return;
	if (pp_loop_read(idx->loop, idx->ino->fd, idx->ino->buf, sizeof(idx->ino->buf), on_inotify,
			 idx, &idx->ino->op) < 0)
		idx->next_read = pp_clock_now() + PP_LOG_INDEX_BATCH; /* ring full: next turn */
}

static struct watch *by_wd(struct pp_log_index *idx, int wd)
{
	for (struct watch *w = idx->buckets[(unsigned int)wd % BUCKETS]; w; w = w->next)
		if (w->wd == wd && !w->ignored)
			return w;
	return NULL;
}

static void sample_all(struct pp_log_index *idx, bool dirty_only)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct watch *w = idx->buckets[b]; w; w = w->next)
			if (!dirty_only || w->dirty)
				sample(idx, w);
}

static void on_inotify(void *ctx, int res)
{
	struct pp_log_index *idx = ctx;
	bool overflow = false;

	idx->ino->op = 0;
	for (int pos = 0; res > 0 && pos + (int)sizeof(struct inotify_event) <= res;) {
		const struct inotify_event *ev = (const void *)(idx->ino->buf + pos);
		struct watch *w;

		if (ev->mask & IN_Q_OVERFLOW)
			overflow = true;
		else if ((w = by_wd(idx, ev->wd)) && (ev->mask & IN_IGNORED))
			w->ignored = true; /* its wd is free again: never removed, never matched */
		else if (w)
			w->dirty = true;
		pos += (int)(sizeof(*ev) + ev->len);
	}
	sample_all(idx, !overflow);
	/* A full buffer leaves more queued: read on at once. */
	idx->next_read = pp_clock_now() +
			 (res >= (int)(sizeof(idx->ino->buf) - 64) ? 0 : PP_LOG_INDEX_BATCH);
}

pp_nsec pp_log_index_next(const struct pp_log_index *idx)
{
	if (!idx || idx->ino->op || !idx->n_watches)
		return PP_NSEC_INFINITY;
	return idx->next_read;
}

void pp_log_index_run(struct pp_log_index *idx, pp_nsec now)
{
	if (idx && idx->n_watches && !idx->ino->op && now >= idx->next_read)
		arm(idx);
}

/* FNV-1a of the names and the restart count: every start and end looks its watch up. */
static size_t key_bucket(const char *pod_key, const char *container, uint32_t restart)
{
	uint32_t h = 2166136261u;

	for (const char *p = pod_key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = container; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (h ^ restart) * 16777619u % KEY_BUCKETS;
}

static struct watch *by_key(struct pp_log_index *idx, const char *pod_key, const char *container,
			    uint32_t restart, struct watch ***ret_link)
{
	struct watch **pp = &idx->by_name[key_bucket(pod_key, container, restart)];

	for (; *pp; pp = &(*pp)->next_key)
		if ((*pp)->restart == restart && !strcmp((*pp)->pod_key, pod_key) &&
		    !strcmp((*pp)->container, container)) {
			if (ret_link)
				*ret_link = pp;
			return *pp;
		}
	return NULL;
}

/*
 * Watch log <w> in <dir_fd>: its index taken over (emptied when <fresh>), an inotify watch on
 * the file itself (through an O_PATH fd, so never a link's target), and what it holds already
 * recorded. Returns 0 or -errno; no fd is left open.
 */
static int watch_open(struct pp_log_index *idx, struct watch *w, int dir_fd, bool fresh)
{
	char name[48], path[64];
	struct stat st;
	int fd, ifd, err;

	snprintf(name, sizeof(name), "%u.log", w->restart);
	fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fstat(fd, &st) < 0    ? -errno
	      : S_ISLNK(st.st_mode) ? -ELOOP /* as O_NOFOLLOW answers a link when opened */
	      : S_ISREG(st.st_mode) ? 0
				    : -EINVAL;
	if (err < 0) {
		close(fd);
		return err;
	}
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	if (fresh && !st.st_size) {
		/* No index until the log has bytes (one inode less per quiet container): only
		 * one left by an earlier file of that name is emptied. */
		ifd = open_idx(w, dir_fd, &st, O_TRUNC);
		err = ifd < 0 && ifd != -ENOENT ? ifd : 0;
	} else {
		ifd = open_idx(w, dir_fd, &st, O_CREAT | (fresh ? O_TRUNC : 0));
		err = ifd < 0 ? ifd : 0;
	}
	if (!err) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		w->wd = inotify_add_watch(idx->ino->fd, path, IN_MODIFY);
		err = w->wd < 0 ? -errno : 0;
	}
	/* What came before the watch (since the spawn, or while no podprobe watched). */
	if (!err && fstat(fd, &st) == 0 && (uint64_t)st.st_size > w->last_off) {
		if (ifd < 0)
			ifd = open_idx(w, dir_fd, &st, O_CREAT);
		if (ifd >= 0)
			sample_at(w, dir_fd, &ifd, &st);
	}
	if (ifd >= 0)
		close(ifd);
	close(fd);
	return err;
}

int pp_log_index_watch(struct pp_log_index *idx, const char *state_dir, const char *pod_key,
		       const char *container, uint32_t restart, bool fresh)
{
	struct watch *w;
	int dir_fd, err;

	if (!idx)
		return 0; /* no index: lines get their file's mtime */
	if (!pp_statedir_pod_key_ok(pod_key) || !pp_statedir_name_ok(container) ||
	    strlen(pod_key) >= sizeof(w->pod_key) || strlen(container) >= sizeof(w->container))
		return -EINVAL;
	if (by_key(idx, pod_key, container, restart, NULL))
		return 0;
	err = open_state_dir(idx, state_dir);
	if (err < 0)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	snprintf(w->pod_key, sizeof(w->pod_key), "%s", pod_key);
	snprintf(w->container, sizeof(w->container), "%s", container);
	w->restart = restart;
	w->wd = -1;
	dir_fd = open_cdir(idx, w);
	err = dir_fd < 0 ? dir_fd : watch_open(idx, w, dir_fd, fresh);
	if (dir_fd >= 0)
		close(dir_fd);
	if (err < 0) {
		free(w);
		return err;
	}
	w->next = idx->buckets[(unsigned int)w->wd % BUCKETS];
	idx->buckets[(unsigned int)w->wd % BUCKETS] = w;
	w->next_key = idx->by_name[key_bucket(pod_key, container, restart)];
	idx->by_name[key_bucket(pod_key, container, restart)] = w;
	idx->n_watches++;
	pp_log_index_run(idx, pp_clock_now());
	return 0;
}

static void drop(struct pp_log_index *idx, struct watch *w)
{
	sample(idx, w);
	if (w->wd >= 0 && !w->ignored)
		inotify_rm_watch(idx->ino->fd, w->wd);
	free(w);
	idx->n_watches--;
}

void pp_log_index_unwatch(struct pp_log_index *idx, const char *pod_key, const char *container,
			  uint32_t restart)
{
	struct watch **link, *w = idx ? by_key(idx, pod_key, container, restart, &link) : NULL;

	if (!w)
		return;
	*link = w->next_key;
	for (link = &idx->buckets[(unsigned int)w->wd % BUCKETS]; *link != w;)
		link = &(*link)->next;
	*link = w->next;
	drop(idx, w);
}

void pp_log_index_free(struct pp_log_index *idx)
{
	if (!idx)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		while (idx->buckets[b]) {
			struct watch *w = idx->buckets[b];

			idx->buckets[b] = w->next;
			drop(idx, w);
		}
	if (pp_loop_retire(idx->loop, &idx->ino->op, 1, ino_release, idx->ino) < 0)
		close(idx->ino->fd); /* its buffer is left to the kernel, never freed in use */
	if (idx->dir_fd >= 0)
		close(idx->dir_fd);
	free(idx->state_dir);
	free(idx);
}

/* ---- readers --------------------------------------------------------------------------------- */

static void reader_reopen(struct pp_log_index_reader *r)
{
	uint64_t hdr[2];

	if (r->fd >= 0)
		close(r->fd);
	r->pos = 0;
	r->fd = r->path[0] ? open(r->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (r->fd < 0)
		return;
	if (pread(r->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr[0] != PP_LOG_IDX_MAGIC || hdr[1] != r->ino) {
		close(r->fd); /* not this file's (yet) */
		r->fd = -1;
		return;
	}
	r->pos = PP_LOG_REC_SIZE;
}

int pp_log_index_open(int log_fd, struct pp_log_index_reader *r)
{
	char link[64];
	struct stat st;
	ssize_t n;

	r->fd = -1;
	r->pos = 0;
	r->path[0] = '\0';
	if (fstat(log_fd, &st) < 0)
		return -errno;
	r->ino = (uint64_t)st.st_ino;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", log_fd);
	n = readlink(link, r->path, sizeof(r->path) - 8);
	if (n < 0 || n >= (ssize_t)sizeof(r->path) - 8) {
		r->path[0] = '\0';
		return 0;
	}
	memcpy(r->path + n, ".idx", 5);
	reader_reopen(r);
	return 0;
}

int pp_log_index_read(struct pp_log_index_reader *r, struct pp_log_recs *recs)
{
	struct pp_log_rec buf[256];
	struct stat st;
	ssize_t got;

	if (r->fd < 0 || (fstat(r->fd, &st) == 0 && st.st_nlink == 0))
		reader_reopen(r); /* none yet, or rewritten (renamed over) since */
	while (r->fd >= 0) {
		got = pread(r->fd, buf, sizeof(buf), (off_t)r->pos);
		if (got < (ssize_t)PP_LOG_REC_SIZE)
			break;
		got -= got % (ssize_t)PP_LOG_REC_SIZE;
		r->pos += (uint64_t)got;
		for (size_t i = 0; i < (size_t)got / PP_LOG_REC_SIZE; i++)
			if (pp_log_recs_push(recs, buf[i].off, buf[i].t) < 0)
				return -ENOMEM;
	}
	return 0;
}

void pp_log_index_close(struct pp_log_index_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
