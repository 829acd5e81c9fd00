// SPDX-License-Identifier: Apache-2.0
/*
 * Log-line times and `kubectl logs` output. Kubelet reads CRI log files whose lines carry
 * the runtime's timestamp; podprobe's log files are the containers' bytes as written, and the
 * times come from an index of (offset, time) records kept beside them (user/io/log_index.c).
 * The output follows kubelet's pkg/kubelet/kuberuntime/logs/logs.go: NewLogOptions (since is
 * the later of sinceSeconds and sinceTime), ReadLogs (tail by pkg/util/tail
 * FindTailLineStartIndex first, then lines) and logWriter.write (lines before since skipped,
 * "<timeFormatOut> " prefix, the output cut at limitBytes).
 */
#include "podprobe/log_times.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/api_obj.h"

pp_wall_ns pp_log_time_at(const struct pp_log_rec *recs, size_t n, uint64_t off, pp_wall_ns after)
{
	size_t lo = 0, hi = n;

	/* The first record with recs[i].off > off. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (recs[mid].off > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < n ? recs[lo].t : after;
}

uint64_t pp_log_since_offset(const struct pp_log_rec *recs, size_t n, pp_wall_ns since,
			     pp_wall_ns after, uint64_t end)
{
	size_t lo = 0, hi = n;
	uint64_t from;

	/* The first record as recent as <since>: bytes from its predecessor's offset on. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (recs[mid].t >= since)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == n && after < since)
		return end;
	from = lo ? recs[lo - 1].off : 0;
	return from < end ? from : end;
}

static void put_num(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

size_t pp_log_time_format(pp_wall_ns t, char *buf)
{
	int64_t secs = t / (int64_t)PP_NSEC_PER_SEC, ns = t % (int64_t)PP_NSEC_PER_SEC, days, sod;
	unsigned int mon, day;
	int64_t year;

	if (ns < 0) {
		ns += (int64_t)PP_NSEC_PER_SEC;
		secs--;
	}
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	sod = secs - days * 86400;
	pp_civil_from_days(days, &year, &mon, &day);
	if (year < 0)
		year = 0; /* Go prints such years otherwise; they are no log line's */
	if (year > 9999)
		year = 9999;
	put_num(buf, (uint64_t)year, 4);
	buf[4] = '-';
	put_num(buf + 5, mon, 2);
	buf[7] = '-';
	put_num(buf + 8, day, 2);
	buf[10] = 'T';
	put_num(buf + 11, (uint64_t)(sod / 3600), 2);
	buf[13] = ':';
	put_num(buf + 14, (uint64_t)(sod / 60 % 60), 2);
	buf[16] = ':';
	put_num(buf + 17, (uint64_t)(sod % 60), 2);
	buf[19] = '.';
	put_num(buf + 20, (uint64_t)ns, 9);
	buf[29] = 'Z';
	buf[30] = '\0';
	return PP_LOG_TIME_LEN;
}

int pp_log_time_parse(const char *s, pp_wall_ns *ret)
{
	return pp_api_time_parse(s, ret);
}

int pp_log_recs_push(struct pp_log_recs *recs, uint64_t off, pp_wall_ns t)
{
	if (recs->n && off <= recs->v[recs->n - 1].off)
		return 0;
	if (recs->n && t < recs->v[recs->n - 1].t)
		t = recs->v[recs->n - 1].t; /* a clock stepped back: times never go backwards */
	if (recs->n == recs->cap) {
		size_t cap = recs->cap ? recs->cap * 2 : 64;
		struct pp_log_rec *v = realloc(recs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		recs->v = v;
		recs->cap = cap;
	}
	recs->v[recs->n++] = (struct pp_log_rec){off, t};
	return 0;
}

void pp_log_recs_fini(struct pp_log_recs *recs)
{
	free(recs->v);
	*recs = (struct pp_log_recs){0};
}

size_t pp_log_recs_coarsen(struct pp_log_rec *recs, size_t n, pp_wall_ns gap)
{
	size_t out = 0;
	pp_wall_ns run_start = 0;

	for (size_t i = 0; i < n; i++) {
		/* Within <gap> of its run's first record: it takes the run's last place. */
		if (out && recs[i].t - run_start < gap) {
			recs[out - 1] = recs[i];
			continue;
		}
		run_start = recs[i].t;
		recs[out++] = recs[i];
	}
	return out;
}

static int out_put(struct pp_log_out *out, const char *data, size_t len)
{
	if (out->cap - out->len < len) {
		size_t cap = out->cap ? out->cap : 4096;
		char *buf;

		while (cap - out->len < len)
			cap *= 2;
		buf = realloc(out->buf, cap);
		if (!buf)
			return -ENOMEM;
		out->buf = buf;
		out->cap = cap;
	}
	memcpy(out->buf + out->len, data, len);
	out->len += len;
	return 0;
}

/* Output <len> bytes under <sel>'s limit. Returns 1 when the limit is reached, 0, -ENOMEM. */
static int out_limited(struct pp_log_sel *sel, struct pp_log_out *out, const char *data, size_t len)
{
	bool cut = sel->limit >= 0 && (int64_t)len >= sel->limit;

	if (cut)
		len = (size_t)sel->limit;
	if (out_put(out, data, len) < 0)
		return -ENOMEM;
	if (sel->limit >= 0)
		sel->limit -= (int64_t)len;
	return cut ? 1 : 0;
}

/* Where the last <tail> lines of <buf> start (a last line without newline counts). */
static size_t tail_start(const char *buf, size_t len, int64_t tail)
{
	int64_t lines = 0;

	if (tail == 0)
		return len;
	for (size_t i = len; i-- > 0;) {
		if (buf[i] != '\n' || i == len - 1)
			continue;
		if (++lines == tail)
			return i + 1;
	}
	return 0;
}

long pp_log_render(struct pp_log_sel *sel, const struct pp_log_rec *recs, size_t n,
		   pp_wall_ns after, const char *buf, size_t len, uint64_t base, bool final,
		   struct pp_log_out *out)
{
	size_t pos = 0;

	if (sel->tail >= 0)
		pos = tail_start(buf, len, sel->tail);
	while (pos < len && sel->limit != 0) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;
		pp_wall_ns t;
		int rc;

		if (!nl && !final)
			break;
		t = pp_log_time_at(recs, n, base + pos, after);
		if (t >= sel->since) {
			if (sel->timestamps) {
				char ts[PP_LOG_TIME_LEN + 2];

				pp_log_time_format(t, ts);
				ts[PP_LOG_TIME_LEN] = ' ';
				rc = out_limited(sel, out, ts, PP_LOG_TIME_LEN + 1);
				if (rc < 0)
					return rc;
			}
			if (sel->limit != 0) {
				rc = out_limited(sel, out, buf + pos, end - pos);
				if (rc < 0)
					return rc;
			}
		}
		pos = end;
	}
	return (long)pos;
}

void pp_log_out_fini(struct pp_log_out *out)
{
	free(out->buf);
	*out = (struct pp_log_out){0};
}
