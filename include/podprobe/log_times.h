/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times of log lines from a log file's index records, and `kubectl logs` output as kubelet
 * writes it: timestamps, sinceSeconds/sinceTime, tailLines, limitBytes. Pure.
 */
#ifndef PODPROBE_LOG_TIMES_H
#define PODPROBE_LOG_TIMES_H

#include "podprobe/log_times-t.h"

/*
 * The time of the byte at file offset <off>: the <t> of the first of the <n> records <recs>
 * whose <off> passes it, or <after> when none does yet.
 */
pp_wall_ns pp_log_time_at(const struct pp_log_rec *recs, size_t n, uint64_t off, pp_wall_ns after);

/*
 * The lowest file offset from which on every byte's time is at least <since> (bytes past the
 * last record have time <after>), or <end> when no byte below <end> is that recent.
 */
uint64_t pp_log_since_offset(const struct pp_log_rec *recs, size_t n, pp_wall_ns since,
			     pp_wall_ns after, uint64_t end);

/*
 * <t> as kubelet's timeFormatOut (RFC3339NanoFixed, "2006-01-02T15:04:05.000000000Z07:00", in
 * UTC): always nine fraction digits. <buf> holds PP_LOG_TIME_LEN + 1 bytes. Returns the length.
 */
size_t pp_log_time_format(pp_wall_ns t, char *buf);

/*
 * Parse RFC 3339 <s> (Go's time.RFC3339 as metav1.Time reads sinceTime: an optional fraction,
 * "Z" or a numeric offset). Returns 0 with <ret>, or -EINVAL.
 */
int pp_log_time_parse(const char *s, pp_wall_ns *ret);

/*
 * Append record (<off>, <t>) to <recs>; records that do not pass the last offset are dropped.
 * Returns 0 or -ENOMEM.
 */
int pp_log_recs_push(struct pp_log_recs *recs, uint64_t off, pp_wall_ns t);
void pp_log_recs_fini(struct pp_log_recs *recs);

/*
 * Coarsen <n> records in place to at most one per <gap>: a record is dropped when the next one
 * kept is less than <gap> after the first of its run, so a byte's time moves later by less
 * than <gap>, never earlier. Returns how many are left.
 */
size_t pp_log_recs_coarsen(struct pp_log_rec *recs, size_t n, pp_wall_ns gap);

/*
 * Render the lines of <buf> (<len> bytes read from file offset <base>) for <sel> into <out>,
 * as kubelet's ReadLogs/logWriter.write do: tail first (when <sel>->tail >= 0: the last lines
 * of <buf>, a last line without its newline counted, so <buf> must reach the file's end),
 * then lines older than since left out, then the output cut at <sel>->limit (which counts
 * down; 0 means done). A line's time is the time of its first byte (pp_log_time_at()). Only
 * lines ending in a newline are rendered unless <final> (the file is complete: the last bytes
 * are a line too). Returns the bytes of <buf> consumed (what to skip next time), or -ENOMEM.
 */
long pp_log_render(struct pp_log_sel *sel, const struct pp_log_rec *recs, size_t n,
		   pp_wall_ns after, const char *buf, size_t len, uint64_t base, bool final,
		   struct pp_log_out *out);

void pp_log_out_fini(struct pp_log_out *out);

#endif
