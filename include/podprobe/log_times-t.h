/* SPDX-License-Identifier: Apache-2.0 */
/* Types of the log-line times: the index records of a log file and what a reader asks for. */
#ifndef PODPROBE_LOG_TIMES_T_H
#define PODPROBE_LOG_TIMES_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/*
 * One index record: the first <off> bytes of the log file were there at wall time <t>. A
 * file's records grow in both <off> and <t>; a byte's time is the <t> of the first record
 * whose <off> passes it. On disk (<n>.log.idx) each is 16 bytes, host order, after a header
 * record of the same size: PP_LOG_IDX_MAGIC and the log file's inode number.
 */
struct pp_log_rec {
	uint64_t off;
	pp_wall_ns t;
};

#define PP_LOG_IDX_MAGIC 0x31584449676c7070ull /* "pplgIDX1" read as little-endian bytes */
#define PP_LOG_REC_SIZE	 16u

/* "2006-01-02T15:04:05.000000000Z": the fixed-width RFC 3339 kubelet prefixes lines with. */
#define PP_LOG_TIME_LEN 30

/* Records in memory. */
struct pp_log_recs {
	struct pp_log_rec *v;
	size_t n, cap;
};

/* What a reader asks for (kubelet pkg/kubelet/kuberuntime/logs/logs.go LogOptions). */
struct pp_log_sel {
	bool timestamps;  /* prefix each line with its time and a space */
	pp_wall_ns since; /* lines older than it are left out; INT64_MIN: none */
	int64_t tail;	  /* only the last <tail> lines; -1: all */
	int64_t limit;	  /* output bytes still allowed; -1: no limit (counts down) */
};

/* A growing output buffer. */
struct pp_log_out {
	char *buf;
	size_t len, cap;
};

#endif
