/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text form of a pod record: "podprobe-state 1", then one "KEY VALUE" line per field, the
 * pod's first and each container's after a "container N" line. Strings are %XX-escaped, so a
 * value never holds a space or a line break. Unknown keys are skipped and missing ones stay
 * zero, so records survive an upgrade of podprobe that adds or drops fields.
 */
#ifndef PODPROBE_POD_RECORD_H
#define PODPROBE_POD_RECORD_H

#include "podprobe/pod_record-t.h"

/*
 * Encode <r> (r->pod's recorded fields and r->c[0..n)). Returns 0 with a malloc'd NUL-terminated
 * text in <ret_text> and its length in <ret_len>, or -ENOMEM.
 */
int pp_pod_record_encode(const struct pp_pod_record *r, char **ret_text, size_t *ret_len);

/*
 * Decode <len> bytes of <text> into <ret> (its containers malloc'd; free with
 * pp_pod_record_free). Rejects a missing or newer header, malformed lines, values out of range
 * (enums, numbers, too long strings), more than PP_RECORD_MAX_CONTS containers and texts over
 * PP_RECORD_MAX_BYTES: -EBADMSG with a "line N: why" text in <err>. Returns 0, -EBADMSG or
 * -ENOMEM.
 */
int pp_pod_record_decode(const char *text, size_t len, struct pp_pod_record *ret, char *err,
			 size_t errlen);

/* Free what pp_pod_record_decode() allocated; accepts a zeroed record. */
void pp_pod_record_free(struct pp_pod_record *r);

#endif
