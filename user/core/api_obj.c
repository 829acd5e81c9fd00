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

void pp_civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
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

int64_t pp_days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + 365 * yoe + yoe / 4 - yoe / 100 + doy - 719468;
}

/* <n> digits at *<p> as a number, advancing *<p>; -1 when they are not all digits. */
static int64_t digits(const char **p, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int pp_api_time_parse(const char *s, pp_wall_ns *ret)
{
	static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int64_t y, mo, d, h, mi, sec, ns = 0, off = 0, secs;

	y = digits(&p, 4);
	if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-')
		return -EINVAL;
	d = digits(&p, 2);
	if (d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))))
		return -EINVAL;
	if (*p++ != 'T' || (h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':')
		return -EINVAL;
	if ((mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' || (sec = digits(&p, 2)) < 0 ||
	    sec > 59)
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		int n = 0;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				ns = ns * 10 + (*p - '0');
		for (; n < 9; n++)
			ns *= 10;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int64_t oh = digits(&p, 2), om;

		if (oh < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	secs = pp_days_from_civil(y, (unsigned int)mo, (unsigned int)d) * 86400 + h * 3600 +
	       mi * 60 + sec - off;
	*ret = secs * (int64_t)PP_NSEC_PER_SEC + ns;
	return 0;
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
	pp_civil_from_days(days, &y, &mo, &d);
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
