// SPDX-License-Identifier: Apache-2.0
/*
 * Probe metrics. Series are keyed by (pod uid, container, probe kind) and chained in a hash
 * of the uid alone, so a probe finds its series in O(1) and a deleted pod's series are one
 * chain walk. The text is written as client_golang's expfmt text encoder does (labels sorted
 * by name, series by label values, "le" last on buckets).
 */
#include "podprobe/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pp_metrics_series {
	struct pp_metrics_series *next; /* hash chain */
	uint64_t hash;			/* of uid */
	enum pp_probe_kind kind;
	const char *ns; /* the four strings live in one block after the struct */
	const char *pod;
	const char *uid;
	const char *container;
	uint64_t total[_PP_METRIC_RESULT_MAX]; /* prober_probe_total by result */
	uint64_t bucket[PP_METRICS_N_BUCKETS]; /* observations per bucket, not cumulative */
	uint64_t observed;		       /* observations in all (the +Inf bucket) */
	uint64_t sum_ns;		       /* their sum */
};

/* client_golang DefBuckets, as ns bounds and as its 'g' formatting writes them. */
static const pp_nsec bucket_ns[PP_METRICS_N_BUCKETS] = {
	5 * PP_NSEC_PER_MSEC,	10 * PP_NSEC_PER_MSEC,	25 * PP_NSEC_PER_MSEC,
	50 * PP_NSEC_PER_MSEC,	100 * PP_NSEC_PER_MSEC, 250 * PP_NSEC_PER_MSEC,
	500 * PP_NSEC_PER_MSEC, PP_NSEC_PER_SEC,	2500 * PP_NSEC_PER_MSEC,
	5 * PP_NSEC_PER_SEC,	10 * PP_NSEC_PER_SEC,
};
static const char *const bucket_le[PP_METRICS_N_BUCKETS] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

/* prober_manager.go probeType.String(). */
static const char *const kind_names[_PP_PROBE_MAX] = {
	[PP_PROBE_STARTUP] = "Startup",
	[PP_PROBE_LIVENESS] = "Liveness",
	[PP_PROBE_READINESS] = "Readiness",
};

static const char *const result_names[_PP_METRIC_RESULT_MAX] = {
	[PP_METRIC_SUCCESSFUL] = "successful",
	[PP_METRIC_FAILED] = "failed",
	[PP_METRIC_UNKNOWN] = "unknown",
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

int pp_metrics_init(struct pp_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->buckets = calloc(64, sizeof(*m->buckets));
	if (!m->buckets)
		return -ENOMEM;
	m->n_buckets = 64;
	return 0;
}

void pp_metrics_fini(struct pp_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct pp_metrics_series *s = m->buckets[i], *n; s; s = n) {
			n = s->next;
			free(s);
		}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

/* Double the table when the series outnumber its chains; on ENOMEM keep the old one. */
static void grow(struct pp_metrics *m)
{
	size_t nb = m->n_buckets * 2;
	struct pp_metrics_series **b;

	if (m->n < m->n_buckets)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct pp_metrics_series *s = m->buckets[i], *n; s; s = n) {
			n = s->next;
			s->next = b[s->hash & (nb - 1)];
			b[s->hash & (nb - 1)] = s;
		}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = nb;
}

static struct pp_metrics_series *series_new(const char *ns, const char *pod, const char *uid,
					    const char *container, enum pp_probe_kind kind,
					    uint64_t hash)
{
	size_t l[4] = {strlen(ns) + 1, strlen(pod) + 1, strlen(uid) + 1, strlen(container) + 1};
	struct pp_metrics_series *s = calloc(1, sizeof(*s) + l[0] + l[1] + l[2] + l[3]);
	char *p;

	if (!s)
		return NULL;
	p = (char *)(s + 1);
	s->ns = memcpy(p, ns, l[0]);
	s->pod = memcpy(p += l[0], pod, l[1]);
	s->uid = memcpy(p += l[1], uid, l[2]);
	s->container = memcpy(p += l[2], container, l[3]);
	s->kind = kind;
	s->hash = hash;
	return s;
}

int pp_metrics_find(struct pp_metrics *m, const char *ns, const char *pod, const char *uid,
		    const char *container, enum pp_probe_kind kind, struct pp_metrics_ref *ref)
{
	struct pp_metrics_series *s, **chain;
	uint64_t h;

	if (!ns || !pod || !uid || !container || (unsigned int)kind >= _PP_PROBE_MAX)
		return -EINVAL;
	h = hash_str(uid);
	chain = &m->buckets[h & (m->n_buckets - 1)];
	for (s = *chain; s; s = s->next)
		if (s->hash == h && s->kind == kind && !strcmp(s->uid, uid) &&
		    !strcmp(s->container, container))
			break;
	if (!s) {
		s = series_new(ns, pod, uid, container, kind, h);
		if (!s)
			return -ENOMEM;
		s->next = *chain;
		*chain = s;
		m->n++;
		grow(m);
	}
	*ref = (struct pp_metrics_ref){.s = s, .epoch = m->epoch};
	return 0;
}

bool pp_metrics_count(struct pp_metrics *m, const struct pp_metrics_ref *ref,
		      enum pp_metric_result result, pp_nsec duration)
{
	struct pp_metrics_series *s = ref->s;

	if (!s || ref->epoch != m->epoch || (unsigned int)result >= _PP_METRIC_RESULT_MAX)
		return false;
	s->total[result]++;
	/* worker.go doProbe: ProberDuration.Observe for Success and the default (unknown) case. */
	if (result != PP_METRIC_FAILED) {
		size_t b = 0;

		while (b < PP_METRICS_N_BUCKETS && duration > bucket_ns[b])
			b++;
		if (b < PP_METRICS_N_BUCKETS)
			s->bucket[b]++;
		s->observed++;
		s->sum_ns += duration;
	}
	return true;
}

int pp_metrics_probe(struct pp_metrics *m, const char *ns, const char *pod, const char *uid,
		     const char *container, enum pp_probe_kind kind, enum pp_metric_result result,
		     pp_nsec duration)
{
	struct pp_metrics_ref ref;
	int err;

	if ((unsigned int)result >= _PP_METRIC_RESULT_MAX)
		return -EINVAL;
	err = pp_metrics_find(m, ns, pod, uid, container, kind, &ref);
	if (err)
		return err;
	pp_metrics_count(m, &ref, result, duration);
	return 0;
}

void pp_metrics_forget_pod(struct pp_metrics *m, const char *uid)
{
	uint64_t h;

	if (!m->buckets)
		return;
	h = hash_str(uid);
	for (struct pp_metrics_series **p = &m->buckets[h & (m->n_buckets - 1)]; *p;) {
		struct pp_metrics_series *s = *p;

		if (s->hash == h && !strcmp(s->uid, uid)) {
			*p = s->next;
			free(s);
			m->n--;
			m->epoch++;
		} else {
			p = &s->next;
		}
	}
}

/* ---- writing ---------------------------------------------------------------------------- */

static bool pp_prom_reserve(struct pp_prom_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->oom)
		return false;
	while (cap - b->len <= more)
		cap *= 2;
	if (cap == b->cap)
		return true;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void pp_prom_add(struct pp_prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !pp_prom_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A label value: backslash, double quote and line feed escaped (exposition format 0.0.4). */
void pp_prom_label(struct pp_prom_buf *b, const char *name, const char *v, bool comma)
{
	size_t n = strlen(v);

	if (!pp_prom_reserve(b, strlen(name) + 2 * n + 5))
		return;
	b->len +=
		(size_t)snprintf(b->p + b->len, b->cap - b->len, "%s%s=\"", comma ? "," : "", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = *v;
		} else if (*v == '\n') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = 'n';
		} else {
			b->p[b->len++] = *v;
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

/* Seconds of <ns> as an exact decimal: "0.0125", "3", "0". */
void pp_prom_seconds(struct pp_prom_buf *b, uint64_t ns)
{
	char frac[16];
	int n;

	if (!(ns % PP_NSEC_PER_SEC)) {
		pp_prom_add(b, "%llu", (unsigned long long)(ns / PP_NSEC_PER_SEC));
		return;
	}
	n = snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % PP_NSEC_PER_SEC));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	pp_prom_add(b, "%llu.%s", (unsigned long long)(ns / PP_NSEC_PER_SEC), frac);
}

/* Label-value order of the histogram: container, namespace, pod, probe_type. */
static int cmp_hist(const struct pp_metrics_series *a, const struct pp_metrics_series *b)
{
	int c = strcmp(a->container, b->container);

	if (!c)
		c = strcmp(a->ns, b->ns);
	if (!c)
		c = strcmp(a->pod, b->pod);
	if (!c)
		c = strcmp(kind_names[a->kind], kind_names[b->kind]);
	return c;
}

/* The histogram's order, then the uid: the series one histogram series folds are adjacent. */
static int cmp_hist_uid(const void *pa, const void *pb)
{
	const struct pp_metrics_series *a = *(const struct pp_metrics_series *const *)pa;
	const struct pp_metrics_series *b = *(const struct pp_metrics_series *const *)pb;
	int c = cmp_hist(a, b);

	return c ? c : strcmp(a->uid, b->uid);
}

/* The counter's: container, namespace, pod, pod_uid, probe_type (then result). */
static int cmp_series(const void *pa, const void *pb)
{
	const struct pp_metrics_series *a = *(const struct pp_metrics_series *const *)pa;
	const struct pp_metrics_series *b = *(const struct pp_metrics_series *const *)pb;
	int c = strcmp(a->container, b->container);

	if (!c)
		c = strcmp(a->ns, b->ns);
	if (!c)
		c = strcmp(a->pod, b->pod);
	if (!c)
		c = strcmp(a->uid, b->uid);
	if (!c)
		c = strcmp(kind_names[a->kind], kind_names[b->kind]);
	return c;
}

static void write_totals(struct pp_prom_buf *b, struct pp_metrics_series *const *v, size_t n)
{
	/* component-base metrics prefix the help with the stability level; this one is BETA. */
	pp_prom_add(b,
		    "# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness "
		    "or startup probe for a container by result.\n"
		    "# TYPE prober_probe_total counter\n");
	for (size_t i = 0; i < n; i++) {
		/* result names sort as failed < successful < unknown */
		static const enum pp_metric_result order[] = {
			PP_METRIC_FAILED, PP_METRIC_SUCCESSFUL, PP_METRIC_UNKNOWN};

		for (size_t j = 0; j < 3; j++) {
			enum pp_metric_result r = order[j];

			if (!v[i]->total[r])
				continue;
			pp_prom_add(b, "prober_probe_total{");
			pp_prom_label(b, "container", v[i]->container, false);
			pp_prom_label(b, "namespace", v[i]->ns, true);
			pp_prom_label(b, "pod", v[i]->pod, true);
			pp_prom_label(b, "pod_uid", v[i]->uid, true);
			pp_prom_label(b, "probe_type", kind_names[v[i]->kind], true);
			pp_prom_label(b, "result", result_names[r], true);
			pp_prom_add(b, "} %llu\n", (unsigned long long)v[i]->total[r]);
		}
	}
}

static void hist_labels(struct pp_prom_buf *b, const struct pp_metrics_series *s)
{
	pp_prom_label(b, "container", s->container, false);
	pp_prom_label(b, "namespace", s->ns, true);
	pp_prom_label(b, "pod", s->pod, true);
	pp_prom_label(b, "probe_type", kind_names[s->kind], true);
}

static void write_hist(struct pp_prom_buf *b, struct pp_metrics_series *const *v, size_t n)
{
	bool header = false;

	for (size_t i = 0; i < n;) {
		uint64_t bucket[PP_METRICS_N_BUCKETS] = {0}, observed = 0, sum = 0, cum = 0;
		size_t j = i;

		for (; j < n && !cmp_hist(v[i], v[j]); j++) {
			for (size_t k = 0; k < PP_METRICS_N_BUCKETS; k++)
				bucket[k] += v[j]->bucket[k];
			observed += v[j]->observed;
			sum += v[j]->sum_ns;
		}
		if (observed && !header) {
			pp_prom_add(b, "# HELP prober_probe_duration_seconds [ALPHA] Duration in "
				       "seconds for a probe response.\n"
				       "# TYPE prober_probe_duration_seconds histogram\n");
			header = true;
		}
		for (size_t k = 0; observed && k <= PP_METRICS_N_BUCKETS; k++) {
			cum += k < PP_METRICS_N_BUCKETS ? bucket[k] : 0;
			pp_prom_add(b, "prober_probe_duration_seconds_bucket{");
			hist_labels(b, v[i]);
			pp_prom_add(
				b, ",le=\"%s\"} %llu\n",
				k < PP_METRICS_N_BUCKETS ? bucket_le[k] : "+Inf",
				(unsigned long long)(k < PP_METRICS_N_BUCKETS ? cum : observed));
		}
		if (observed) {
			pp_prom_add(b, "prober_probe_duration_seconds_sum{");
			hist_labels(b, v[i]);
			pp_prom_add(b, "} ");
			pp_prom_seconds(b, sum);
			pp_prom_add(b, "\nprober_probe_duration_seconds_count{");
			hist_labels(b, v[i]);
			pp_prom_add(b, "} %llu\n", (unsigned long long)observed);
		}
		i = j;
	}
}

int pp_metrics_write(const struct pp_metrics *m, char **ret_buf, size_t *ret_len)
{
	struct pp_metrics_series **v = NULL;
	struct pp_prom_buf b = {0};
	size_t n = 0;

	if (m->n) {
		v = malloc(m->n * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct pp_metrics_series *s = m->buckets[i]; s; s = s->next)
			v[n++] = s;
	/* client_golang writes the families in name order. */
	if (n) {
		qsort(v, n, sizeof(*v), cmp_hist_uid);
		write_hist(&b, v, n);
		qsort(v, n, sizeof(*v), cmp_series);
		write_totals(&b, v, n);
	}
	free(v);
	return pp_prom_take(&b, ret_buf, ret_len);
}

/* ---- small families: counters, gauges and duration histograms of podprobe's own ------------ */

/* 50 us to 2.5 s: kernel-signal detection, loop lag, patch round trips. */
const pp_nsec pp_prom_latency_bounds[PP_PROM_LATENCY_N] = {
	50 * PP_NSEC_PER_USEC,	100 * PP_NSEC_PER_USEC, 250 * PP_NSEC_PER_USEC,
	500 * PP_NSEC_PER_USEC, PP_NSEC_PER_MSEC,	2500 * PP_NSEC_PER_USEC,
	5 * PP_NSEC_PER_MSEC,	10 * PP_NSEC_PER_MSEC,	25 * PP_NSEC_PER_MSEC,
	50 * PP_NSEC_PER_MSEC,	100 * PP_NSEC_PER_MSEC, 250 * PP_NSEC_PER_MSEC,
	500 * PP_NSEC_PER_MSEC, PP_NSEC_PER_SEC,	2500 * PP_NSEC_PER_MSEC,
};

void pp_prom_hist_observe(struct pp_prom_hist *h, pp_nsec v)
{
	size_t i = 0;

	while (i < PP_PROM_LATENCY_N && v > pp_prom_latency_bounds[i])
		i++;
	if (i < PP_PROM_LATENCY_N)
		h->counts[i]++;
	h->count++;
	h->sum += v;
}

void pp_prom_family(struct pp_prom_buf *b, const char *name, const char *type, const char *help)
{
	pp_prom_add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void pp_prom_hist_write(struct pp_prom_buf *b, const char *name, const char *labels,
			const struct pp_prom_hist *h)
{
	const char *sep = labels && *labels ? "," : "";
	uint64_t cum = 0;

	if (!labels)
		labels = "";
	for (size_t i = 0; i < PP_PROM_LATENCY_N; i++) {
		cum += h->counts[i];
		pp_prom_add(b, "%s_bucket{%s%sle=\"", name, labels, sep);
		pp_prom_seconds(b, pp_prom_latency_bounds[i]);
		pp_prom_add(b, "\"} %llu\n", (unsigned long long)cum);
	}
	pp_prom_add(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
		    (unsigned long long)h->count);
	pp_prom_add(b, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels, *labels ? "}" : "");
	pp_prom_seconds(b, h->sum);
	pp_prom_add(b, "\n%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
		    *labels ? "}" : "", (unsigned long long)h->count);
}

int pp_prom_take(struct pp_prom_buf *b, char **ret_buf, size_t *ret_len)
{
	if (b->oom || !pp_prom_reserve(b, 0)) {
		free(b->p);
		*b = (struct pp_prom_buf){0};
		return -ENOMEM;
	}
	b->p[b->len] = '\0';
	*ret_buf = b->p;
	*ret_len = b->len;
	*b = (struct pp_prom_buf){0};
	return 0;
}
