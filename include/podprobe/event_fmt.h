/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One event of `podprobe run` as an output line: a JSON object (--events=json) or the text
 * line. Pure: the caller passes the timestamp already formatted and prints the result.
 */
#ifndef PODPROBE_EVENT_FMT_H
#define PODPROBE_EVENT_FMT_H

#include <stddef.h>

struct pp_event_line {
	const char *time; /* RFC 3339 with nanoseconds */
	const char *namespace;
	const char *pod;
	const char *container; /* "" for pod-level events */
	const char *type;      /* Normal, Warning */
	const char *reason;
	const char *message; /* any bytes up to a NUL: probe output included */
	const char *source;  /* "kernel", "probe", or NULL */
};

/* A buffer of this size holds the JSON or text line of <ev> whatever its bytes. */
size_t pp_event_line_max(const struct pp_event_line *ev);

/*
 * Write <ev> as one JSON object (no newline) into <buf>. Every string is escaped so that the
 * line is valid JSON and valid UTF-8 (bytes that are not UTF-8 become U+FFFD, as Go's
 * encoding/json does). Returns the length, or -ENOSPC when <size> is below
 * pp_event_line_max() and the line did not fit (<buf> then holds nothing useful).
 */
int pp_event_format_json(const struct pp_event_line *ev, char *buf, size_t size);

/*
 * Write <ev> as the text line `TIME  NS/POD  CONTAINER TYPE REASON MESSAGE [source]` (no
 * newline), with milliseconds in the time and control characters of the message shown as
 * \n, \r, \t or \xNN, so one event stays one line and cannot drive the terminal. Returns the
 * length or -ENOSPC.
 */
int pp_event_format_text(const struct pp_event_line *ev, char *buf, size_t size);

#endif
