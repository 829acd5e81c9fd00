/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes' display formats, pure and a leaf (nothing of the controller): Go durations
 * ("1m20s"), apimachinery's HumanDuration ("3m5s"), signal names and JSON string escaping.
 * The `kubectl get pods` columns built on them are in podprobe/pod_status.h.
 */
#ifndef PODPROBE_KUBEFMT_H
#define PODPROBE_KUBEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/* Go's time.Duration.String() of <d>: "0s", "500ms", "10s", "1m20s", "5m0s". */
int pp_fmt_go_duration(pp_nsec d, char *buf, size_t size);

/*
 * Parse a Go-style duration ("250ms", "10s", "1m30s", "1.5h"; "us", "µs" (U+00B5 or U+03BC),
 * "ns" too) or a plain number of seconds into <ret>. Returns 0, or -EINVAL for anything else
 * (a sign, spaces, empty, an unknown unit, more than INT64_MAX ns as Go's time.Duration).
 */
int pp_parse_duration(const char *s, pp_nsec *ret);

/*
 * apimachinery's HumanDuration of <d> (nanoseconds, may be negative: a time in the future):
 * "<invalid>" below -1 s, "0s" below 0, then "95s", "3m5s", "125m", "5h3m", "30h", "3d4h",
 * "100d", "3y10d", "9y". Returns the length or -ENOSPC.
 */
int pp_fmt_human_duration(int64_t d, char *buf, size_t size);

/* Name of signal <sig> without "SIG" ("TERM", "KILL"), or NULL when unknown. */
const char *pp_signal_name(int sig);

/*
 * Append <s> to <buf> (of <size>, holding a string of length *<len>) as a JSON string with
 * quotes. Returns 0 or -ENOSPC (the output is then truncated but terminated).
 */
int pp_json_append_string(char *buf, size_t size, size_t *len, const char *s);

/*
 * Length of the well-formed UTF-8 sequence at <p> (1..4: no overlong forms, no surrogates,
 * nothing above U+10FFFF, RFC 3629), or 0 when the bytes there are not one. Reads at most up to
 * the first byte that breaks the sequence, so a NUL-terminated string is never overrun.
 */
size_t pp_utf8_seq_len(const unsigned char *p);

#endif
