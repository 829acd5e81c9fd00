// SPDX-License-Identifier: Apache-2.0
/*
 * Pod records as text. Each recorded field is a row of a table (name, offset, type, size), so
 * encoding, decoding and range checks are one loop each and a new field is one row.
 */
#include "podprobe/pod_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "podprobe-state"

enum ftype {
	F_BOOL = 0,
	F_U8,  /* uint8_t, below <max> */
	F_I32, /* int */
	F_U32,
	F_U64,
	F_ENUM, /* an enum stored as int, below <max> */
	F_STR,	/* char[size] */
	_F_MAX,
};

struct field {
	const char *name;
	size_t off;
	enum ftype type;
	size_t size;
	uint64_t max; /* F_ENUM, F_U8: values must be below it */
};

#define FLD(s, f, t)                                          \
	{                                                     \
#f, offsetof(s, f), t, sizeof(((s *)0)->f), 0 \
	}
#define FLD_MAX(s, f, t, m)                                   \
	{                                                     \
#f, offsetof(s, f), t, sizeof(((s *)0)->f), m \
	}
#define FLD_AT(s, n, f, t, m)                                \
	{                                                    \
		n, offsetof(s, f), t, sizeof(((s *)0)->f), m \
	}

#define POD(f, t)	 FLD(struct pp_pod_record, f, t)
#define POD_MAX(f, t, m) FLD_MAX(struct pp_pod_record, f, t, m)

static const struct field pod_fields[] = {
	POD(boot_id, F_STR),
	POD(digest, F_STR),
	POD(created, F_U64),
	POD(pod.uid, F_STR),
	POD_MAX(pod.phase, F_ENUM, _PP_PHASE_MAX),
	POD(pod.reason, F_STR),
	POD(pod.message, F_STR),
	POD(pod.start_time, F_U64),
	POD(pod.initialized, F_BOOL),
	POD(pod.ever_ran_main, F_BOOL),
	POD(pod.terminating, F_BOOL),
	POD(pod.deleted, F_BOOL),
	POD(pod.terminate_start, F_U64),
	POD(pod.terminal, F_BOOL),
};

#define C(f, t)	       FLD(struct pp_cont_record, f, t)
#define C_MAX(f, t, m) FLD_MAX(struct pp_cont_record, f, t, m)
#define TERM(w)                                                                 \
	C(st.w.exit_code, F_I32), C(st.w.signal, F_I32), C(st.w.reason, F_STR), \
		C(st.w.message, F_STR), C(st.w.started_at, F_U64), C(st.w.finished_at, F_U64)

static const struct field cont_fields[] = {
	C_MAX(st.state, F_ENUM, _PP_CSTATE_MAX),
	C(st.reason, F_STR),
	C(st.message, F_STR),
	C(st.restart_count, F_U32),
	C(st.instance, F_U32),
	C(st.alive, F_BOOL),
	C(st.start_pending, F_BOOL),
	C(st.started, F_BOOL),
	C(st.ever_started, F_BOOL),
	C(st.ready, F_BOOL),
	FLD_AT(struct pp_cont_record, "st.probe_ok.startup", st.probe_ok[PP_PROBE_STARTUP], F_BOOL,
	       0),
	FLD_AT(struct pp_cont_record, "st.probe_ok.liveness", st.probe_ok[PP_PROBE_LIVENESS],
	       F_BOOL, 0),
	FLD_AT(struct pp_cont_record, "st.probe_ok.readiness", st.probe_ok[PP_PROBE_READINESS],
	       F_BOOL, 0),
	C(st.init_done, F_BOOL),
	C(st.started_at, F_U64),
	TERM(term),
	C(st.has_term, F_BOOL),
	TERM(last),
	C(st.has_last, F_BOOL),
	C(st.backoff.active, F_BOOL),
	C(st.backoff.delay, F_U64),
	C(st.backoff.last_update, F_U64),
	C(st.restart_due, F_BOOL),
	C(st.restart_at, F_U64),
	C(st.post_start_running, F_BOOL),
	C(st.stopping, F_BOOL),
	C(st.pre_stop_running, F_BOOL),
	C(st.stop_deadline, F_U64),
	C(st.term_sent, F_BOOL),
	C(st.kill_at, F_U64),
	C(st.kill_sent, F_BOOL),
	C(st.restart_after_stop, F_BOOL),
	C(st.created, F_U32),
	C(st.config_error, F_BOOL),
	C(st.config_retry_at, F_U64),
	FLD_AT(struct pp_cont_record, "probe.startup", probe_published[PP_PROBE_STARTUP], F_U8, 3),
	FLD_AT(struct pp_cont_record, "probe.liveness", probe_published[PP_PROBE_LIVENESS], F_U8,
	       3),
	FLD_AT(struct pp_cont_record, "probe.readiness", probe_published[PP_PROBE_READINESS], F_U8,
	       3),
	C(pid, F_I32),
	C(pid_start, F_U64),
	C(cg2, F_STR),
	C(memv1, F_STR),
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- encoding --------------------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *b;

		while (o->len + n + 1 > cap)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b) {
			o->oom = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* <v> in decimal, as "%" PRIu64 would print it (a record has ~100 numbers: no vsnprintf). */
static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		put(o, "-", 1);
		put_u64(o, -(uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

/* Bytes that would split a value (space, line break), '%' and non-ASCII become %XX. */
static void put_escaped(struct out *o, const char *s, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '%') {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};

			put(o, e, 3);
		} else {
			put(o, (const char *)&ch, 1);
		}
	}
}

static void put_fields(struct out *o, const void *base, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + f[i].off;

		put(o, f[i].name, strlen(f[i].name));
		put(o, " ", 1);
		switch (f[i].type) {
		case F_BOOL:
			put(o, *(const bool *)p ? "1" : "0", 1);
			break;
		case F_U8:
			put_u64(o, *(const uint8_t *)p);
			break;
		case F_I32:
		case F_ENUM:
			put_i64(o, *(const int *)p);
			break;
		case F_U32:
			put_u64(o, *(const uint32_t *)p);
			break;
		case F_U64:
			put_u64(o, *(const uint64_t *)p);
			break;
		case F_STR:
			put_escaped(o, p, f[i].size);
			break;
		default:
			break;
		}
		put(o, "\n", 1);
	}
}

int pp_pod_record_encode(const struct pp_pod_record *r, char **ret_text, size_t *ret_len)
{
	struct out o = {0};

	putf(&o, HEADER " %d\n", PP_RECORD_VERSION);
	put_fields(&o, r, pod_fields, N_OF(pod_fields));
	for (size_t i = 0; i < r->n; i++) {
		putf(&o, "container %zu\n", i);
		put_fields(&o, &r->c[i], cont_fields, N_OF(cont_fields));
	}
	putf(&o, "end %zu\n", r->n);
	if (o.oom) {
		free(o.buf);
		return -ENOMEM;
	}
	*ret_text = o.buf;
	*ret_len = o.len;
	return 0;
}

/* ---- decoding --------------------------------------------------------------------------- */

static int bad(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "line %u: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* A decimal number (an optional '-' only when <sign>), whole value, no overflow. */
static bool parse_num(const char *s, size_t n, bool sign, int64_t min, uint64_t max,
		      uint64_t *ret_abs, bool *ret_neg)
{
	bool neg = false;
	uint64_t v = 0;
	size_t i = 0;

	if (sign && n && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg ? v > (uint64_t)(-(min + 1)) + 1 : v > max)
		return false;
	*ret_abs = v;
	*ret_neg = neg;
	return true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Set field <f> of <base> from value <v> (<n> bytes); false when it is not valid for it. */
static bool set_field(void *base, const struct field *f, const char *v, size_t n)
{
	char *p = (char *)base + f->off;
	uint64_t abs;
	bool neg;

	switch (f->type) {
	case F_BOOL:
		if (n != 1 || (v[0] != '0' && v[0] != '1'))
			return false;
		*(bool *)p = v[0] == '1';
		return true;
	case F_U8:
		if (!parse_num(v, n, false, 0, f->max - 1, &abs, &neg))
			return false;
		*(uint8_t *)p = (uint8_t)abs;
		return true;
	case F_I32:
	case F_ENUM:
		if (!parse_num(v, n, f->type == F_I32, INT32_MIN,
			       f->type == F_ENUM ? f->max - 1 : INT32_MAX, &abs, &neg))
			return false;
		*(int *)p = neg ? (int)(-(int64_t)abs) : (int)abs;
		return true;
	case F_U32:
		if (!parse_num(v, n, false, 0, UINT32_MAX, &abs, &neg))
			return false;
		*(uint32_t *)p = (uint32_t)abs;
		return true;
	case F_U64:
		if (!parse_num(v, n, false, 0, UINT64_MAX, &abs, &neg))
			return false;
		*(uint64_t *)p = abs;
		return true;
	case F_STR: {
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			char ch = v[i];

			if (ch == '%') {
				int hi, lo;

				if (i + 2 >= n)
					return false;
				hi = hexval(v[i + 1]);
				lo = hexval(v[i + 2]);
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
					return false;
				ch = (char)(hi << 4 | lo);
				i += 2;
			} else if ((unsigned char)ch <= 0x20 || (unsigned char)ch >= 0x7f) {
				return false;
			}
			if (k + 1 >= f->size)
				return false;
			p[k++] = ch;
		}
		p[k] = '\0';
		return true;
	}
	default:
		return false;
	}
}

static const struct field *find_field(const struct field *f, size_t n, const char *key, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(f[i].name) == len && !memcmp(f[i].name, key, len))
			return &f[i];
	return NULL;
}

int pp_pod_record_decode(const char *text, size_t len, struct pp_pod_record *ret, char *err,
			 size_t errlen)
{
	struct pp_pod_record r = {0};
	const char *p = text, *end = text + len;
	unsigned int line = 0;
	bool header = false, done = false;
	void *cur = &r;
	int rc = 0;

	if (len > PP_RECORD_MAX_BYTES)
		return bad(err, errlen, 0, "record of %zu bytes is too large", len);
	while (p < end && !rc) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *sp, *v;
		size_t klen, vlen;
		uint64_t num;
		bool neg;

		line++;
		if (!eol) {
			rc = bad(err, errlen, line, "unterminated line (record cut short)");
			break;
		}
		if (done) {
			rc = bad(err, errlen, line, "data after the end");
			break;
		}
		sp = memchr(p, ' ', (size_t)(eol - p));
		if (!sp) {
			rc = bad(err, errlen, line, "expected KEY VALUE");
			break;
		}
		klen = (size_t)(sp - p);
		v = sp + 1;
		vlen = (size_t)(eol - v);
		if (!header) {
			if (klen != strlen(HEADER) || memcmp(p, HEADER, klen) ||
			    !parse_num(v, vlen, false, 0, UINT32_MAX, &num, &neg))
				rc = bad(err, errlen, line, "not a podprobe state record");
			else if (num != PP_RECORD_VERSION)
				rc = bad(err, errlen, line, "record version %" PRIu64 " is not %d",
					 num, PP_RECORD_VERSION);
			header = true;
		} else if (klen == 9 && !memcmp(p, "container", 9)) {
			struct pp_cont_record *c;

			if (!parse_num(v, vlen, false, 0, UINT64_MAX, &num, &neg) || num != r.n) {
				rc = bad(err, errlen, line, "containers out of order");
			} else if (r.n >= PP_RECORD_MAX_CONTS) {
				rc = bad(err, errlen, line, "more than %d containers",
					 PP_RECORD_MAX_CONTS);
			} else if (!(c = realloc(r.c, (r.n + 1) * sizeof(*c)))) {
				rc = -ENOMEM;
			} else {
				r.c = c;
				memset(&r.c[r.n], 0, sizeof(r.c[r.n]));
				cur = &r.c[r.n++];
			}
		} else if (klen == 3 && !memcmp(p, "end", 3)) {
			if (!parse_num(v, vlen, false, 0, UINT64_MAX, &num, &neg) || num != r.n)
				rc = bad(err, errlen, line, "end: the count of containers differs");
			done = true;
		} else {
			const struct field *f =
				cur == &r ? find_field(pod_fields, N_OF(pod_fields), p, klen)
					  : find_field(cont_fields, N_OF(cont_fields), p, klen);

			/* Unknown keys come from another version of podprobe: skipped. */
			if (f && !set_field(cur, f, v, vlen))
				rc = bad(err, errlen, line, "bad value for '%.*s'", (int)klen, p);
		}
		p = eol + 1;
	}
	if (!rc && !done)
		rc = bad(err, errlen, line, "no end line (record cut short)");
	if (rc) {
		free(r.c);
		return rc;
	}
	*ret = r;
	return 0;
}

void pp_pod_record_free(struct pp_pod_record *r)
{
	if (!r)
		return;
	free(r->c);
	r->c = NULL;
	r->n = 0;
}
