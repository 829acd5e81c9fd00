/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes' display formats, pure: Go durations ("1m20s"), kubectl's HumanDuration ("3m5s"),
 * the `kubectl get pods` READY/STATUS/RESTARTS columns, and JSON string escaping.
 */
#ifndef PODPROBE_KUBEFMT_H
#define PODPROBE_KUBEFMT_H

#include <stddef.h>

#include "podprobe/lifecycle-t.h"

/* Go's time.Duration.String() of <d>: "0s", "500ms", "10s", "1m20s", "5m0s". */
int pp_fmt_go_duration(pp_nsec d, char *buf, size_t size);

/*
 * Parse a Go-style duration ("250ms", "10s", "1m30s", "1.5h"; "us", "µs" (U+00B5 or U+03BC),
 * "ns" too) or a plain number of seconds into <ret>. Returns 0, or -EINVAL for anything else
 * (a sign, spaces, empty, an unknown unit, more than INT64_MAX ns as Go's time.Duration).
 */
int pp_parse_duration(const char *s, pp_nsec *ret);

/* kubectl's HumanDuration of <d> (K.5): "95s", "3m5s", "125m", "5h3m", "3d". */
int pp_fmt_human_duration(pp_nsec d, char *buf, size_t size);

/* READY column: "r/t" (K.1). */
int pp_fmt_pod_ready(const struct pp_pod_state *ps, char *buf, size_t size);

/* STATUS column (K.2): "Init:0/2", "PodInitializing", "Running", "CrashLoopBackOff"... */
int pp_fmt_pod_status(const struct pp_pod_state *ps, char *buf, size_t size);

/* RESTARTS column (K.4) at <now>: "0", "3 (45s ago)". */
int pp_fmt_pod_restarts(const struct pp_pod_state *ps, pp_nsec now, char *buf, size_t size);

/* Name of signal <sig> without "SIG" ("TERM", "KILL"), or NULL when unknown. */
const char *pp_signal_name(int sig);

/*
 * Append <s> to <buf> (of <size>, holding a string of length *<len>) as a JSON string with
 * quotes. Returns 0 or -ENOSPC (the output is then truncated but terminated).
 */
int pp_json_append_string(char *buf, size_t size, size_t *len, const char *s);

#endif
