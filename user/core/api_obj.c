// SPDX-License-Identifier: Apache-2.0
/*
 * Shared envelopes of the Kubernetes API: Status, Table, timestamps. Times are civil UTC
 * computed from the epoch count (the days-from-civil inverse of H. Hinnant's "chrono-compatible
 * low-level date algorithms"), so the core needs no <time.h>.
 */
#include "podprobe/api_obj.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 to year/month/day (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int pp_api_time(pp_wall_ns t, bool nanos, char *buf, size_t size)
{
	int64_t secs = t / (int64_t)PP_NSEC_PER_SEC, ns = t % (int64_t)PP_NSEC_PER_SEC;
	int64_t days, rem, y;
	unsigned int mo, d;
	int n;

	if (ns < 0) {
		ns += PP_NSEC_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (nanos)
		n = snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
			     (long long)y, mo, d, (long long)(rem / 3600),
			     (long long)(rem / 60 % 60), (long long)(rem % 60), (long long)ns);
	else
		n = snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, mo,
			     d, (long long)(rem / 3600), (long long)(rem / 60 % 60),
			     (long long)(rem % 60));
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

json_t *pp_api_time_json(pp_wall_ns t)
{
	char buf[40];

	if (!t)
		return json_null();
	if (pp_api_time(t, false, buf, sizeof(buf)) < 0)
		return NULL;
	return json_string(buf);
}

json_t *pp_api_status(int code, const char *reason, const char *message, const char *name,
		      const char *kind)
{
	bool ok = code >= 200 && code < 300;
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
			       "v1", "metadata", "status", ok ? "Success" : "Failure", "message",
			       message ? message : "", "code", code);

	if (!st)
		return NULL;
	if (reason && *reason && json_object_set_new(st, "reason", json_string(reason)) < 0)
		goto fail;
	if (name || kind) {
		json_t *det = json_object();

		if (!det || json_object_set_new(st, "details", det) < 0)
			goto fail;
		if (name && json_object_set_new(det, "name", json_string(name)) < 0)
			goto fail;
		if (kind && json_object_set_new(det, "kind", json_string(kind)) < 0)
			goto fail;
	}
	return st;
fail:
	json_decref(st);
	return NULL;
}

json_t *pp_table_new(const struct pp_table_col *cols, size_t n_cols, uint64_t rv, bool with_defs)
{
	char rvs[24];
	json_t *t, *defs;

	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	t = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
		      "metadata", "resourceVersion", rvs, "rows");
	if (!t)
		return NULL;
	if (!with_defs) {
		if (json_object_set_new(t, "columnDefinitions", json_null()) < 0)
			goto fail;
		return t;
	}
	defs = json_array();
	if (!defs || json_object_set_new(t, "columnDefinitions", defs) < 0)
		goto fail;
	for (size_t i = 0; i < n_cols; i++) {
		json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", cols[i].name, "type",
				      cols[i].type, "format", cols[i].format ? cols[i].format : "",
				      "description", cols[i].description ? cols[i].description : "",
				      "priority", cols[i].priority);

		if (!c || json_array_append_new(defs, c) < 0)
			goto fail;
	}
	return t;
fail:
	json_decref(t);
	return NULL;
}

int pp_table_add_row(json_t *table, json_t *cells, json_t *object)
{
	json_t *rows = json_object_get(table, "rows"), *row = json_object();

	if (!row || !cells || json_object_set_new(row, "cells", cells) < 0) {
		if (!row || !cells)
			json_decref(cells);
		json_decref(object);
		json_decref(row);
		return -ENOMEM;
	}
	if (object && json_object_set_new(row, "object", object) < 0) {
		json_decref(row);
		return -ENOMEM;
	}
	if (json_array_append_new(rows, row) < 0)
		return -ENOMEM;
	return 0;
}

json_t *pp_table_row_object(json_t *obj, enum pp_include_object inc)
{
	switch (inc) {
	case PP_INCLUDE_OBJECT:
		return json_incref(obj);
	case PP_INCLUDE_METADATA:
		return json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion",
				 "meta.k8s.io/v1", "metadata", json_object_get(obj, "metadata"));
	default:
		return NULL;
	}
}

int pp_include_object_parse(const char *s, enum pp_include_object *ret)
{
	static const char *const names[_PP_INCLUDE_MAX] = {
		[PP_INCLUDE_METADATA] = "Metadata",
		[PP_INCLUDE_NONE] = "None",
		[PP_INCLUDE_OBJECT] = "Object",
	};

	for (int i = 0; i < _PP_INCLUDE_MAX; i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum pp_include_object)i;
			return 0;
		}
	return -EINVAL;
}
