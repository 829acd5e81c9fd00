/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envelopes of the Kubernetes API that every resource shares, pure: the Status object of
 * errors (apimachinery pkg/apis/meta/v1 types.go, Status), the meta.k8s.io/v1 Table that
 * `kubectl get` prints (the apiserver's TableConvertor output), and RFC 3339 timestamps.
 * Objects are jansson values; the caller owns what a function returns.
 */
#ifndef PODPROBE_API_OBJ_H
#define PODPROBE_API_OBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/*
 * <t> as RFC 3339 UTC: "2026-12-01T05:35:42Z" (metav1.Time), or with <nanos>
 * "2026-12-01T05:35:42.123456789Z" (RFC3339Nano as `kubectl logs --timestamps` shows, trailing
 * zeros kept). Returns the length, or -ENOSPC when <size> is too small (< 31 is never enough
 * for nanos, < 21 for seconds).
 */
int pp_api_time(pp_wall_ns t, bool nanos, char *buf, size_t size);

/*
 * RFC 3339 <s> ("2026-12-01T10:00:00Z", a fraction and a +hh:mm offset allowed) into <ret>.
 * Returns 0, or -EINVAL for anything else (a day the month lacks, trailing bytes...).
 */
int pp_api_time_parse(const char *s, pp_wall_ns *ret);

/* Civil dates (proleptic Gregorian) and days since 1970-01-01, both ways (H. Hinnant's
 * "chrono-compatible low-level date algorithms"). */
void pp_civil_from_days(int64_t days, int64_t *y, unsigned int *m, unsigned int *d);
int64_t pp_days_from_civil(int64_t y, unsigned int m, unsigned int d);

/* A JSON string of pp_api_time(<t>, false), or JSON null when <t> is 0. NULL on ENOMEM. */
json_t *pp_api_time_json(pp_wall_ns t);

/*
 * A Status object: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 * "message":<message>,"reason":<reason>,"code":<code>,"details":{"name":<name>,"kind":<kind>}}
 * (details only when <name> or <kind> is non-NULL). <code> 2xx gives "status":"Success".
 * NULL on ENOMEM.
 */
json_t *pp_api_status(int code, const char *reason, const char *message, const char *name,
		      const char *kind);

/* One column of a Table (metav1.TableColumnDefinition). */
struct pp_table_col {
	const char *name;
	const char *type;   /* "string", "integer", "date" */
	const char *format; /* "name", or "" */
	const char *description;
	int priority; /* 0: always shown; 1: only with -o wide */
};

/*
 * An empty Table {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":
 * "<rv>"},"columnDefinitions":[...],"rows":[]}; columnDefinitions is null when !<with_defs>
 * (watch events after the first). NULL on ENOMEM.
 */
json_t *pp_table_new(const struct pp_table_col *cols, size_t n_cols, uint64_t rv, bool with_defs);

/*
 * Append a row {"cells":<cells>,"object":<object>} to <table>; takes the references of <cells>
 * (an array) and <object> (may be NULL: no "object" key). Returns 0 or -ENOMEM (both are then
 * released).
 */
int pp_table_add_row(json_t *table, json_t *cells, json_t *object);

/* How much of the object a Table row carries (?includeObject=None|Metadata|Object). */
enum pp_include_object {
	PP_INCLUDE_METADATA = 0, /* the default: PartialObjectMetadata */
	PP_INCLUDE_NONE,
	PP_INCLUDE_OBJECT,
	_PP_INCLUDE_MAX,
};

/*
 * The row object for <obj> (a full object with "metadata") under <inc>: a new reference to
 * <obj> itself (OBJECT), {"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
 * "metadata":<copy of obj.metadata>} (METADATA), or NULL (NONE, or ENOMEM).
 */
json_t *pp_table_row_object(json_t *obj, enum pp_include_object inc);

/* Parse an includeObject value; -EINVAL for anything but None, Metadata, Object. */
int pp_include_object_parse(const char *s, enum pp_include_object *ret);

#endif
