/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When the bytes of the container log files were written, learnt without being in the write
 * path (a container's stdout and stderr are the file itself, so it outlives podprobe): inotify
 * IN_MODIFY on each running container's current log file, on the loop, read again at most
 * every PP_LOG_INDEX_BATCH; each event records (size, time) in <n>.log.idx beside the log.
 * Readers (the API's pods/NAME/log) turn the records into line times (podprobe/log_times.h).
 * A watch holds no fd (the files are opened by name when a batch names them): podprobe's fds
 * do not grow with its containers, and no container's execve has them to close.
 *
 * Precision: a line's time is the file's mtime at the first event after it was written,
 * clamped between the last record's time and now: within PP_LOG_INDEX_BATCH (plus the
 * kernel's coarse timestamp granularity) of the write while podprobe watches. Bytes written
 * while no podprobe watched (it was down) all get the mtime the next watch finds, that is the
 * time of the last of them. Records closer than 10 ms are merged; past PP_LOG_INDEX_MAX bytes
 * the file is rewritten at twice the spacing, so old times get coarser, never earlier.
 */
#ifndef PODPROBE_LOG_INDEX_H
#define PODPROBE_LOG_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "podprobe/log_times-t.h"
#include "podprobe/time-t.h"

#define PP_LOG_INDEX_BATCH (10 * PP_NSEC_PER_MSEC)
#define PP_LOG_INDEX_MAX   (1u << 20)

struct pp_loop;
struct pp_log_index;

/* A log index on <loop>. Returns 0 with <ret>, or -errno. */
int pp_log_index_new(struct pp_loop *loop, struct pp_log_index **ret);

/*
 * Record what each watched file holds now and stop watching. The inotify fd and its buffer go
 * once the loop has seen its read's final completion, so call it before pp_loop_free().
 * Accepts NULL.
 */
void pp_log_index_free(struct pp_log_index *idx);

/*
 * Watch <state_dir>/logs/<pod_key>/<container>/<restart>.log: <fresh> for a file the runtime
 * has just created (an index left by an earlier file of that name is emptied), false for a
 * re-adopted container (its index goes on; what was written meanwhile gets the file's mtime).
 * Watching a file twice is a no-op, and so is a NULL <idx>. Returns 0 or -errno.
 */
int pp_log_index_watch(struct pp_log_index *idx, const char *state_dir, const char *pod_key,
		       const char *container, uint32_t restart, bool fresh);

/* Record what the file holds now (the instance ended) and stop watching it. Unknown: no-op. */
void pp_log_index_unwatch(struct pp_log_index *idx, const char *pod_key, const char *container,
			  uint32_t restart);

/*
 * When pp_log_index_run() has work (the next inotify read is due), or PP_NSEC_INFINITY: take
 * it into the loop's deadline, and call pp_log_index_run() after each pp_loop_run_once().
 * Both accept NULL.
 */
pp_nsec pp_log_index_next(const struct pp_log_index *idx);
void pp_log_index_run(struct pp_log_index *idx, pp_nsec now);

/* ---- readers ---- */

/* The index of an open log file, read incrementally. */
struct pp_log_index_reader {
	int fd;		 /* <log>.idx, -1 none */
	uint64_t pos;	 /* bytes of it read */
	uint64_t ino;	 /* the log file's inode (the header must name it) */
	char path[4200]; /* <log>.idx */
};

/*
 * Open the index of log file <log_fd> (found through /proc/self/fd). A missing or foreign
 * index is no error: the reader then yields no records. Returns 0 or -errno.
 */
int pp_log_index_open(int log_fd, struct pp_log_index_reader *r);

/*
 * Append the records written since the last call to <recs> (an index rewritten meanwhile is
 * read again from its start; what <recs> holds already is skipped). Returns 0 or -ENOMEM.
 */
int pp_log_index_read(struct pp_log_index_reader *r, struct pp_log_recs *recs);

void pp_log_index_close(struct pp_log_index_reader *r);

/*
 * The time of the bytes of <log_fd> past its last record <last>: its mtime, clamped between
 * <last> and now (a container could set its file's mtime).
 */
pp_wall_ns pp_log_index_tail_time(int log_fd, pp_wall_ns last);

#endif
