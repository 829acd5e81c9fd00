// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes API client (podprobe/kube_client.h) on the loop, over two HTTPS connections:
 *
 * - the stream connection lists and then watches the node's pods, as client-go's reflector
 *   (tools/cache/reflector.go ListAndWatch): pages of 500 (limit/continue, so no response holds
 *   more than 500 pods and each page is parsed on its own), then a watch from the list's
 *   resourceVersion with bookmarks and a random timeoutSeconds of 300..600 s
 *   (minWatchTimeout × (1 + rand)). A watch that ends is opened again from the last
 *   resourceVersion; a broken one too, at once; a watch or list answered 410 Gone, or an
 *   ERROR event with code 410, starts a re-list at once; other errors re-list after the
 *   reflector's back-off. Lists go on this connection rather than the request one so that a
 *   large list never holds a readiness patch back.
 * - the request connection (kept alive) carries condition patches and Events, one at a time,
 *   patches first.
 *
 * The kubeconfig is looked at again before each new connection: a restarted `podprobe run`
 * writes a new CA, token and port. When the server or its CA changed, the next watch becomes
 * a re-list, since resourceVersions mean nothing across two servers' histories.
 */
#include "podprobe/kube_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_int.h"
#include "podprobe/clock.h"
#include "podprobe/loop.h"

#define LIST_LIMIT	  500
#define MAX_BODY	  (256u << 20) /* a list page or a Status */
#define MAX_LINE	  (64u << 20)  /* one watch event */
#define REQ_TIMEOUT	  (30 * PP_NSEC_PER_SEC)
#define LIST_TIMEOUT	  (60 * PP_NSEC_PER_SEC)
#define WATCH_GRACE	  (60 * PP_NSEC_PER_SEC) /* past timeoutSeconds, the stream is dead */
#define MAX_CONDS	  8
#define MAX_JOBS	  1024
#define EVENT_CACHE	  4096			  /* events_cache.go maxLruCacheEntries */
#define EVENT_WINDOW	  (600 * PP_NSEC_PER_SEC) /* defaultAggregateIntervalInSeconds */
#define EVENT_TRIES	  12			  /* event.go maxTriesPerEvent */
#define DEFAULT_PATCH_GAP (100 * PP_NSEC_PER_MSEC)
#define SHORT_WATCH	  PP_NSEC_PER_SEC

struct buf {
	char *p;
	size_t len, cap;
};

struct kcond {
	char *type, *reason, *message;
	bool want;
	unsigned int gen, sent_gen, flight_gen;
	bool sent_known, sent; /* the value the API has from us */
	bool flight_val;       /* the value of the patch in flight */
	pp_nsec set_at;	       /* when <gen> was asked for */
	pp_nsec flight_set_at;
};

struct kpod {
	struct kpod *next;
	char *ns, *name, *uid;
	struct kcond c[MAX_CONDS];
	unsigned int n;
	bool inflight;
	pp_nsec due, last_sent;
	struct pp_kube_backoff bo;
};

enum job_kind {
	JOB_EVENT_POST = 0,
	JOB_EVENT_PATCH,
	_JOB_MAX,
};

struct kjob {
	struct kjob *next;
	enum job_kind kind;
	char *ns, *name; /* the Event's */
	json_t *event;	 /* POST body */
	unsigned int count;
	unsigned int tries;
};

struct kevent {
	char *key, *ns, *name;
	unsigned int count;
	pp_nsec last;
	json_t *event; /* as first posted, to post again if it went */
};

enum s_state {
	S_WAIT = 0, /* until s_due */
	S_LIST,
	S_WATCH,
	_S_MAX,
};

enum r_kind {
	R_NONE = 0,
	R_PATCH,
	R_JOB,
	_R_MAX,
};

struct pp_kube_client {
	struct pp_loop *loop;
	char *node, *user_agent;
	pp_nsec patch_gap;
	pp_kube_pod_fn on_pod;
	pp_kube_log_fn on_log;
	void *ctx;
	struct kube_cfg k;
	struct pp_kube_client_stats st;
	uint64_t rnd;
	bool force_token;

	/* stream connection */
	struct kube_conn *sc;
	enum s_state s;
	bool relist;	    /* the next start lists (else it watches from <rv>) */
	bool list_begun;    /* SYNC_BEGIN went out for the list in progress */
	pp_nsec s_due;	    /* S_WAIT: when to start */
	pp_nsec s_deadline; /* S_LIST/S_WATCH: when the exchange is given up */
	pp_nsec watch_start;
	unsigned int watch_events, list_pods;
	char rv[128];
	char *cont;
	struct buf sbody, line;
	struct pp_kube_backoff sbo;

	/* request connection */
	struct kube_conn *rc;
	enum r_kind r;
	struct kpod *rpod;
	struct kjob *rjob;
	pp_nsec r_deadline, r_due;
	struct buf rbody;
	struct pp_kube_backoff rbo;

	struct kpod *pods;
	struct kjob *jobs, *jobs_tail;
	unsigned int n_jobs;
	struct kevent *ev;
	size_t n_ev;
	uint64_t last_unique;
};

static const struct kube_conn_ops s_ops, r_ops;
static void count_pending(struct pp_kube_client *kc);

/* ---- small helpers -------------------------------------------------------------------- */

static void logf_(struct pp_kube_client *kc, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(struct pp_kube_client *kc, bool error, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!kc->on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kc->on_log(kc->ctx, error, msg);
}

static double rand01(struct pp_kube_client *kc)
{
	/* xorshift64*: jitter, not secrets */
	kc->rnd ^= kc->rnd >> 12;
	kc->rnd ^= kc->rnd << 25;
	kc->rnd ^= kc->rnd >> 27;
	return (double)((kc->rnd * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int buf_add(struct buf *b, const char *p, size_t n, size_t max)
{
	if (b->len + n + 1 > max)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap > (1u << 20)) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){0};
}

/* The message of a Status body, or the status line's reason. */
static void status_text(const struct buf *b, int status, char *out, size_t size)
{
	json_t *doc = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(doc, "message"));

	snprintf(out, size, "%d %s%s%s", status, pp_http_status_text(status), m ? ": " : "",
		 m ? m : "");
	json_decref(doc);
}

/* A request's bytes into *<ret> (free it); returns the length or -errno. */
static int build_req(struct pp_kube_client *kc, const char *method, const char *path,
		     const char *ctype, const char *body, pp_nsec now, char **ret)
{
	const char *tok = kube_cfg_token(&kc->k, now, kc->force_token);
	size_t blen = body ? strlen(body) : 0;
	char head[8192];
	int n;
	char *r;

	kc->force_token = false;
	if (strpbrk(tok, "\r\n"))
		tok = ""; /* never a header of the token's making */
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n%s%s%s"
		     "Accept: application/json\r\n",
		     method, path, kc->k.host_header, kc->user_agent,
		     *tok ? "Authorization: Bearer " : "", tok, *tok ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENOSPC;
	if (body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, blen);
	if ((size_t)n + 3 >= sizeof(head))
		return -ENOSPC;
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	r = malloc((size_t)n + blen + 1);
	if (!r)
		return -ENOMEM;
	memcpy(r, head, (size_t)n);
	if (blen)
		memcpy(r + n, body, blen);
	r[(size_t)n + blen] = '\0';
	*ret = r;
	kc->st.requests++;
	return n + (int)blen;
}

/* Look at the kubeconfig again before a new connection. */
static void maybe_reload(struct pp_kube_client *kc)
{
	struct kube_cfg nk;
	char err[1024];
	bool same;

	if (!kube_cfg_changed(&kc->k))
		return;
	if (kube_cfg_load(kc->k.kubeconfig, NULL, &nk, err, sizeof(err)) < 0) {
		logf_(kc, true, "%s (keeping the configuration read before)", err);
		return;
	}
	same = !strcmp(nk.c.server, kc->k.c.server) &&
	       !strcmp(nk.c.ca_pem ? nk.c.ca_pem : "", kc->k.c.ca_pem ? kc->k.c.ca_pem : "") &&
	       !strcmp(nk.c.ca_file ? nk.c.ca_file : "", kc->k.c.ca_file ? kc->k.c.ca_file : "");
	kube_cfg_fini(&kc->k);
	kc->k = nk;
	kc->st.config_reloads++;
	logf_(kc, false, "kubeconfig %s changed: read again%s", nk.kubeconfig,
	      same ? "" : " (another server or CA: re-listing)");
	if (!same) {
		kc->relist = true;
		kc->st.synced = false;
	}
}

static int open_conn(struct pp_kube_client *kc, struct kube_conn **c)
{
	int err;

	kube_conn_close(*c);
	*c = NULL;
	maybe_reload(kc);
	err = kube_conn_open(kc->loop, &kc->k, c);
	if (err < 0)
		*c = NULL;
	return err;
}

/* ---- stream: list and watch ------------------------------------------------------------- */

static void s_start(struct pp_kube_client *kc, pp_nsec now);

/* Wait, then list again (<relist>) or watch again. */
static void s_retry(struct pp_kube_client *kc, pp_nsec now, bool relist, bool backoff,
		    const char *why)
{
	pp_nsec wait = backoff ? pp_kube_backoff_next(&kc->sbo, now, rand01(kc)) : 0;

	kube_conn_close(kc->sc);
	kc->sc = NULL;
	kc->s = S_WAIT;
	kc->relist = kc->relist || relist;
	if (kc->relist)
		kc->st.synced = false;
	kc->s_due = now + wait;
	if (backoff) {
		kc->st.errors++;
		logf_(kc, true, "%s; %s in %llu ms", why,
		      kc->relist ? "re-listing" : "watching again",
		      (unsigned long long)(wait / PP_NSEC_PER_MSEC));
	} else if (why) {
		logf_(kc, false, "%s; %s", why, kc->relist ? "re-listing" : "watching again");
	}
}

static int s_send(struct pp_kube_client *kc, const char *path, pp_nsec now)
{
	char *req;
	int n, err;

	if (!kube_conn_usable(kc->sc)) {
		err = open_conn(kc, &kc->sc);
		if (err < 0)
			return err;
	}
	n = build_req(kc, "GET", path, NULL, NULL, now, &req);
	if (n < 0)
		return n;
	buf_reset(&kc->sbody);
	buf_reset(&kc->line);
	err = kube_conn_request(kc->sc, req, (size_t)n, &s_ops, kc);
	free(req);
	return err;
}

static void s_list_page(struct pp_kube_client *kc, pp_nsec now)
{
	char path[4096];
	int err;

	if (pp_kube_list_path(path, sizeof(path), kc->node, LIST_LIMIT, kc->cont) < 0) {
		s_retry(kc, now, true, true, "list: node name or continue token too long");
		return;
	}
	kc->s = S_LIST;
	kc->s_deadline = now + LIST_TIMEOUT;
	err = s_send(kc, path, now);
	if (err < 0 && kc->s == S_LIST) {
		char why[300];

		snprintf(why, sizeof(why), "list pods: %s", strerror(-err));
		s_retry(kc, now, true, true, why);
	}
}

static void s_watch(struct pp_kube_client *kc, pp_nsec now)
{
	unsigned int timeout = 300 + (unsigned int)(rand01(kc) * 300);
	char path[4096];
	int err;

	if (pp_kube_watch_path(path, sizeof(path), kc->node, kc->rv, timeout) < 0) {
		s_retry(kc, now, true, true, "watch: node name too long");
		return;
	}
	kc->s = S_WATCH;
	kc->watch_start = now;
	kc->watch_events = 0;
	kc->s_deadline = now + (pp_nsec)timeout * PP_NSEC_PER_SEC + WATCH_GRACE;
	kc->st.watches++;
	err = s_send(kc, path, now);
	if (err < 0 && kc->s == S_WATCH) {
		char why[300];

		snprintf(why, sizeof(why), "watch pods: %s", strerror(-err));
		s_retry(kc, now, false, true, why);
	}
}

static void s_start(struct pp_kube_client *kc, pp_nsec now)
{
	maybe_reload(kc); /* may turn this start into a re-list */
	if (kc->relist || !kc->rv[0]) {
		kc->relist = false;
		kc->list_begun = false;
		kc->list_pods = 0;
		free(kc->cont);
		kc->cont = NULL;
		kc->st.lists++;
		s_list_page(kc, now);
	} else {
		s_watch(kc, now);
	}
}

static void set_rv(struct pp_kube_client *kc, const char *rv)
{
	if (rv && *rv)
		snprintf(kc->rv, sizeof(kc->rv), "%s", rv);
}

static void deliver(struct pp_kube_client *kc, enum pp_kube_pod_event ev, json_t *pod)
{
	kc->on_pod(kc->ctx, ev, pod);
}

static void forget_pod(struct pp_kube_client *kc, json_t *pod);

/* A page came: deliver its pods, then ask for the next page or watch. */
static void s_page(struct pp_kube_client *kc, pp_nsec now)
{
	json_error_t je;
	json_t *doc = json_loadb(kc->sbody.p ? kc->sbody.p : "", kc->sbody.len, 0, &je);
	json_t *meta = json_object_get(doc, "metadata"), *items = json_object_get(doc, "items"), *p;
	const char *cont = json_string_value(json_object_get(meta, "continue"));
	char why[300];
	size_t i;

	buf_reset(&kc->sbody);
	if (!json_is_array(items)) {
		snprintf(why, sizeof(why), "list pods: not a PodList (%s)",
			 doc ? "no items" : je.text);
		json_decref(doc);
		s_retry(kc, now, true, true, why);
		return;
	}
	if (!kc->list_begun) {
		kc->list_begun = true;
		deliver(kc, PP_KUBE_SYNC_BEGIN, NULL);
	}
	json_array_foreach(items, i, p)
	{
		/* List items carry no kind (the apiserver leaves it to the list). */
		if (!json_object_get(p, "kind"))
			json_object_set_new(p, "kind", json_string("Pod"));
		if (!json_object_get(p, "apiVersion"))
			json_object_set_new(p, "apiVersion", json_string("v1"));
		deliver(kc, PP_KUBE_POD_UPSERT, p);
		kc->list_pods++;
	}
	set_rv(kc, json_string_value(json_object_get(meta, "resourceVersion")));
	free(kc->cont);
	kc->cont = cont && *cont ? strdup(cont) : NULL;
	json_decref(doc);
	if (kc->cont) {
		s_list_page(kc, now);
		return;
	}
	kc->list_begun = false;
	deliver(kc, PP_KUBE_SYNC_END, NULL);
	kc->st.synced = true;
	pp_kube_backoff_success(&kc->sbo, now);
	logf_(kc, false, "listed %u pods of node %s at resourceVersion %s", kc->list_pods, kc->node,
	      kc->rv);
	s_watch(kc, now);
}

/* One line of the watch stream. Returns false when the stream is to be left. */
static bool s_line(struct pp_kube_client *kc, const char *line, size_t len, pp_nsec now)
{
	struct pp_kube_watch_ev ev;
	char err[300];

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return true;
	if (pp_kube_watch_decode(line, len, &ev, err, sizeof(err)) < 0) {
		s_retry(kc, now, true, true, err);
		return false;
	}
	kc->watch_events++;
	switch (ev.type) {
	case PP_KUBE_WATCH_ADDED:
	case PP_KUBE_WATCH_MODIFIED:
		set_rv(kc, ev.rv);
		deliver(kc, PP_KUBE_POD_UPSERT, ev.object);
		break;
	case PP_KUBE_WATCH_DELETED:
		set_rv(kc, ev.rv);
		forget_pod(kc, ev.object);
		deliver(kc, PP_KUBE_POD_DELETE, ev.object);
		break;
	case PP_KUBE_WATCH_BOOKMARK:
		set_rv(kc, ev.rv);
		break;
	case PP_KUBE_WATCH_ERROR:
	default: {
		const char *m = json_string_value(json_object_get(ev.object, "message"));

		snprintf(err, sizeof(err), "watch pods: ERROR %d: %s", ev.code, m ? m : "");
		json_decref(ev.object);
		if (ev.code == 410) {
			kc->st.gone++;
			s_retry(kc, now, true, false, err);
		} else {
			s_retry(kc, now, true, true, err);
		}
		return false;
	}
	}
	json_decref(ev.object);
	return true;
}

static void s_on_body(void *ctx, struct kube_conn *c, const char *data, size_t len)
{
	struct pp_kube_client *kc = ctx;
	pp_nsec now;
	size_t start = 0;
	char *nl;

	if (c != kc->sc)
		return;
	if (kc->s != S_WATCH || c->resp.status != 200) {
		if (buf_add(&kc->sbody, data, len, MAX_BODY) < 0)
			s_retry(kc, pp_clock_now(), true, true, "list pods: response too large");
		return;
	}
	if (buf_add(&kc->line, data, len, MAX_LINE) < 0) {
		s_retry(kc, pp_clock_now(), true, true, "watch pods: event too large");
		return;
	}
	now = pp_clock_now();
	/* Every complete line is an event; the rest waits for more bytes. */
	while ((nl = memchr(kc->line.p + start, '\n', kc->line.len - start))) {
		size_t n = (size_t)(nl - (kc->line.p + start));

		if (!s_line(kc, kc->line.p + start, n, now))
			return; /* the stream was left (and <line> reset) */
		start += n + 1;
	}
	if (start) {
		memmove(kc->line.p, kc->line.p + start, kc->line.len - start);
		kc->line.len -= start;
	}
}

static void s_on_done(void *ctx, struct kube_conn *c, int err)
{
	struct pp_kube_client *kc = ctx;
	pp_nsec now = pp_clock_now();
	int st = c->resp.status;
	char why[600], text[400];

	if (c != kc->sc)
		return;
	if (err < 0) {
		/* The server closed a kept-alive connection as we used it: again, at once. */
		if (c->served && !c->got_bytes) {
			kube_conn_close(kc->sc);
			kc->sc = NULL;
			if (kc->s == S_LIST)
				s_list_page(kc, now);
			else
				s_watch(kc, now);
			return;
		}
		if (kc->s == S_WATCH && st == 200) {
			/* A broken stream: watch again from the last resourceVersion. */
			snprintf(why, sizeof(why), "watch pods: stream broken (%s)", c->why);
			s_retry(kc, now, false, false, why);
			return;
		}
		snprintf(why, sizeof(why), "%s pods: %s", kc->s == S_LIST ? "list" : "watch",
			 c->why);
		if (err == -EKEYREJECTED || st == 401)
			kc->force_token = true;
		s_retry(kc, now, kc->s == S_LIST, true, why);
		return;
	}
	if (kc->s == S_LIST) {
		if (st == 200) {
			s_page(kc, now);
			return;
		}
		status_text(&kc->sbody, st, text, sizeof(text));
		snprintf(why, sizeof(why), "list pods: %s", text);
		if (st == 401)
			kc->force_token = true;
		if (st == 410) { /* an expired continue token: list from the start */
			kc->st.gone++;
			s_retry(kc, now, true, false, why);
		} else {
			s_retry(kc, now, true, true, why);
		}
		return;
	}
	if (st == 200) {
		if (now - kc->watch_start < SHORT_WATCH && !kc->watch_events) {
			/* reflector.go handleWatch: "very short watch" is an error */
			s_retry(kc, now, true, true, "watch pods: very short watch");
			return;
		}
		pp_kube_backoff_success(&kc->sbo, now);
		kc->s = S_WAIT;
		kc->s_due = now;
		if (!c->dead && kube_conn_usable(c)) {
			s_start(kc, now);
			return;
		}
		s_retry(kc, now, false, false, NULL);
		return;
	}
	status_text(&kc->sbody, st, text, sizeof(text));
	snprintf(why, sizeof(why), "watch pods: %s", text);
	if (st == 401)
		kc->force_token = true;
	if (st == 410) {
		kc->st.gone++;
		s_retry(kc, now, true, false, why);
	} else {
		/* 429 and 5xx: watch again after the back-off; others re-list after it. */
		s_retry(kc, now, !(st == 429 || st >= 500), true, why);
	}
}

static const struct kube_conn_ops s_ops = {.on_body = s_on_body, .on_done = s_on_done};

/* ---- requests: patches and Events ---------------------------------------------------------- */

static void r_kick(struct pp_kube_client *kc, pp_nsec now);

static void cond_free(struct kcond *c)
{
	free(c->type);
	free(c->reason);
	free(c->message);
}

static void kpod_free(struct kpod *p)
{
	for (unsigned int i = 0; i < p->n; i++)
		cond_free(&p->c[i]);
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p);
}

static bool cond_dirty(const struct kcond *c)
{
	return c->gen != c->sent_gen;
}

static bool kpod_dirty(const struct kpod *p)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (cond_dirty(&p->c[i]))
			return true;
	return false;
}

/* When <p> may be patched next: a change to False at once, others after the gap. */
static void kpod_schedule(struct pp_kube_client *kc, struct kpod *p, pp_nsec now)
{
	pp_nsec due = p->last_sent ? p->last_sent + kc->patch_gap : now;

	for (unsigned int i = 0; i < p->n; i++) {
		struct kcond *c = &p->c[i];

		if (cond_dirty(c) && !c->want && (!c->sent_known || c->sent))
			due = now;
	}
	if (p->bo.step && p->due > due)
		due = p->due; /* a retry keeps its back-off */
	p->due = due < now ? now : due;
}

static void kpod_unlink(struct pp_kube_client *kc, struct kpod *p)
{
	for (struct kpod **pp = &kc->pods; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (kc->rpod == p)
		kc->rpod = NULL; /* its answer is ignored */
	kpod_free(p);
	count_pending(kc);
}

static struct kpod *kpod_find(struct pp_kube_client *kc, const char *ns, const char *name)
{
	for (struct kpod *p = kc->pods; p; p = p->next)
		if (!strcmp(p->ns, ns) && !strcmp(p->name, name))
			return p;
	return NULL;
}

/* A deleted pod's pending patches go with it. */
static void forget_pod(struct pp_kube_client *kc, json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	struct kpod *p = ns && name ? kpod_find(kc, ns, name) : NULL;

	if (p && (!uid || !strcmp(uid, p->uid)))
		kpod_unlink(kc, p);
}

static int dup_opt(const char *s, char **ret)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		return -ENOMEM;
	free(*ret);
	*ret = d;
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* A namespace or pod name as it may appear in a path (DNS-1123 subdomain characters). */
static bool path_name(const char *s)
{
	return s && *s && strlen(s) <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == strlen(s);
}

int pp_kube_set_condition(struct pp_kube_client *kc, const char *ns, const char *name,
			  const char *uid, const char *type, bool status, const char *reason,
			  const char *message)
{
	pp_nsec now = pp_clock_now();
	struct kpod *p;
	struct kcond *c = NULL;

	if (!path_name(ns) || !path_name(name) || !type || !*type)
		return -EINVAL;
	p = kpod_find(kc, ns, name);

	if (p && !str_eq(p->uid, uid ? uid : "")) {
		kpod_unlink(kc, p); /* another pod of that name */
		p = NULL;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->ns = strdup(ns);
		p->name = strdup(name);
		p->uid = strdup(uid ? uid : "");
		if (!p->ns || !p->name || !p->uid) {
			kpod_free(p);
			return -ENOMEM;
		}
		p->next = kc->pods;
		kc->pods = p;
	}
	for (unsigned int i = 0; i < p->n; i++)
		if (!strcmp(p->c[i].type, type))
			c = &p->c[i];
	if (!c) {
		if (p->n == MAX_CONDS)
			return -ENOMEM;
		c = &p->c[p->n];
		*c = (struct kcond){.type = strdup(type)};
		if (!c->type)
			return -ENOMEM;
		p->n++;
	} else if (c->want == status && str_eq(c->reason, reason) && str_eq(c->message, message) &&
		   (cond_dirty(c) || c->sent_known)) {
		return 0; /* nothing new */
	}
	if (dup_opt(reason, &c->reason) < 0 || dup_opt(message, &c->message) < 0)
		return -ENOMEM;
	c->want = status;
	c->gen++;
	c->set_at = now;
	if (!p->inflight)
		kpod_schedule(kc, p, now);
	r_kick(kc, now);
	return 0;
}

void pp_kube_condition_lost(struct pp_kube_client *kc, const char *ns, const char *name,
			    const char *type)
{
	struct kpod *p = kpod_find(kc, ns, name);

	for (unsigned int i = 0; p && i < p->n; i++)
		if (!strcmp(p->c[i].type, type))
			p->c[i].sent_known = false;
}

/* The bounded Event cache: the entry of <key>, or a slot for it (the least recent). */
static struct kevent *ev_slot(struct pp_kube_client *kc, const char *key, bool *ret_found)
{
	struct kevent *old = NULL;

	for (size_t i = 0; i < kc->n_ev; i++) {
		if (!strcmp(kc->ev[i].key, key)) {
			*ret_found = true;
			return &kc->ev[i];
		}
		if (!old || kc->ev[i].last < old->last)
			old = &kc->ev[i];
	}
	*ret_found = false;
	if (kc->n_ev < EVENT_CACHE) {
		if (!kc->ev) {
			kc->ev = calloc(EVENT_CACHE, sizeof(*kc->ev));
			if (!kc->ev)
				return NULL;
		}
		return &kc->ev[kc->n_ev++];
	}
	free(old->key);
	free(old->ns);
	free(old->name);
	json_decref(old->event);
	memset(old, 0, sizeof(*old));
	return old;
}

static void job_free(struct kjob *j)
{
	free(j->ns);
	free(j->name);
	json_decref(j->event);
	free(j);
}

static int job_push(struct pp_kube_client *kc, enum job_kind kind, const char *ns, const char *name,
		    json_t *event, unsigned int count)
{
	struct kjob *j;

	if (kc->n_jobs >= MAX_JOBS) {
		kc->st.events_dropped++;
		json_decref(event);
		return 0; /* best effort */
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->ns = strdup(ns)) || !(j->name = strdup(name))) {
		if (j)
			job_free(j);
		json_decref(event);
		return -ENOMEM;
	}
	j->kind = kind;
	j->event = event;
	j->count = count;
	if (kc->jobs_tail)
		kc->jobs_tail->next = j;
	else
		kc->jobs = j;
	kc->jobs_tail = j;
	kc->n_jobs++;
	return 0;
}

int pp_kube_event(struct pp_kube_client *kc, const char *ns, const char *name, const char *uid,
		  const char *type, const char *reason, const char *message)
{
	struct pp_kube_event_info e = {.ns = ns,
				       .name = name,
				       .uid = uid,
				       .type = type,
				       .reason = reason,
				       .message = message,
				       .node = kc->node};
	pp_nsec now = pp_clock_now();
	pp_wall_ns wall = pp_clock_wall();
	struct kevent *ev;
	char key[4096];
	bool found;
	json_t *obj;
	uint64_t unique;

	if (!path_name(ns) || !path_name(name))
		return -EINVAL;
	if (pp_kube_event_key(&e, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "%s/%s/%s", ns, name, reason ? reason : "");
	ev = ev_slot(kc, key, &found);
	if (!ev)
		return -ENOMEM;
	if (found && now - ev->last < EVENT_WINDOW) {
		/* events_cache.go eventLogger.eventObserve: the same Event again is counted into
		 * the one posted before, by a patch of count and lastTimestamp. */
		ev->count++;
		ev->last = now;
		if (job_push(kc, JOB_EVENT_PATCH, ev->ns, ev->name, NULL, ev->count) < 0)
			return -ENOMEM;
		r_kick(kc, now);
		return 0;
	}
	if (found) {
		free(ev->key);
		free(ev->ns);
		free(ev->name);
		json_decref(ev->event);
		memset(ev, 0, sizeof(*ev));
	}
	unique = (uint64_t)wall > kc->last_unique ? (uint64_t)wall : kc->last_unique + 1;
	kc->last_unique = unique;
	obj = pp_kube_event_new(&e, unique, wall);
	ev->key = strdup(key);
	ev->ns = strdup(ns);
	ev->name = obj ? strdup(json_string_value(
				 json_object_get(json_object_get(obj, "metadata"), "name")))
		       : NULL;
	ev->count = 1;
	ev->last = now;
	ev->event = json_incref(obj);
	if (!obj || !ev->key || !ev->ns || !ev->name) {
		json_decref(obj);
		return -ENOMEM;
	}
	if (job_push(kc, JOB_EVENT_POST, ns, ev->name, obj, 1) < 0)
		return -ENOMEM;
	r_kick(kc, now);
	return 0;
}

/* The earliest pod that may be patched now. */
static struct kpod *due_pod(struct pp_kube_client *kc, pp_nsec now)
{
	struct kpod *best = NULL;

	for (struct kpod *p = kc->pods; p; p = p->next)
		if (!p->inflight && p->due <= now && kpod_dirty(p) && (!best || p->due < best->due))
			best = p;
	return best;
}

static char *patch_body(struct kpod *p, pp_wall_ns wall)
{
	json_t *doc = NULL, *list = NULL;
	char *s;

	for (unsigned int i = 0; i < p->n; i++) {
		struct kcond *c = &p->c[i];
		json_t *one;

		if (!cond_dirty(c))
			continue;
		one = pp_kube_condition_patch(p->uid, c->type, c->want, c->reason, c->message,
					      wall);
		if (!one) {
			json_decref(doc);
			return NULL;
		}
		if (!doc) {
			doc = one;
			list = json_object_get(json_object_get(doc, "status"), "conditions");
		} else {
			json_array_extend(list, json_object_get(json_object_get(one, "status"),
								"conditions"));
			json_decref(one);
		}
		c->flight_gen = c->gen;
		c->flight_val = c->want;
		c->flight_set_at = c->set_at;
	}
	s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return s;
}

static void r_send(struct pp_kube_client *kc, const char *method, const char *path,
		   const char *ctype, const char *body, pp_nsec now);

static void r_kick_(struct pp_kube_client *kc, pp_nsec now);

static void r_kick(struct pp_kube_client *kc, pp_nsec now)
{
	r_kick_(kc, now);
	count_pending(kc);
}

static void r_kick_(struct pp_kube_client *kc, pp_nsec now)
{
	char path[1200];
	struct kpod *p;
	struct kjob *j;
	char *body;

	if (kc->r != R_NONE || now < kc->r_due)
		return;
	p = due_pod(kc, now);
	if (p) {
		body = patch_body(p, pp_clock_wall());
		if (!body)
			return;
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", p->ns,
			 p->name);
		p->inflight = true;
		kc->r = R_PATCH;
		kc->rpod = p;
		kc->st.patch_requests++;
		r_send(kc, "PATCH", path, "application/strategic-merge-patch+json", body, now);
		free(body);
		return;
	}
	j = kc->jobs;
	if (!j)
		return;
	kc->r = R_JOB;
	kc->rjob = j;
	if (j->kind == JOB_EVENT_POST) {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", j->ns);
		body = json_dumps(j->event, JSON_COMPACT);
		r_send(kc, "POST", path, "application/json", body ? body : "{}", now);
	} else {
		json_t *patch = pp_kube_event_count_patch(j->count, pp_clock_wall());

		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s", j->ns, j->name);
		body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
		json_decref(patch);
		r_send(kc, "PATCH", path, "application/strategic-merge-patch+json",
		       body ? body : "{}", now);
	}
	free(body);
}

static void r_end(struct pp_kube_client *kc, pp_nsec now, bool ok, bool retry, bool stale);

static void r_send(struct pp_kube_client *kc, const char *method, const char *path,
		   const char *ctype, const char *body, pp_nsec now)
{
	char *req;
	int n, err = 0;

	if (!kube_conn_usable(kc->rc))
		err = open_conn(kc, &kc->rc);
	n = err < 0 ? err : build_req(kc, method, path, ctype, body, now, &req);
	if (n < 0) {
		logf_(kc, true, "%s %s: %s", method, path, strerror(-n));
		r_end(kc, now, false, true, false);
		return;
	}
	kc->r_deadline = now + REQ_TIMEOUT;
	buf_reset(&kc->rbody);
	err = kube_conn_request(kc->rc, req, (size_t)n, &r_ops, kc);
	free(req);
	if (err < 0 && kc->r != R_NONE) {
		logf_(kc, true, "%s %s: %s", method, path, strerror(-err));
		r_end(kc, now, false, true, false);
	}
}

/* The request in flight ended: success, failure to retry, failure for good; <stale>: the
 * connection was found closed, send again without a back-off. */
static void r_end(struct pp_kube_client *kc, pp_nsec now, bool ok, bool retry, bool stale)
{
	struct kpod *p = kc->r == R_PATCH ? kc->rpod : NULL;
	struct kjob *j = kc->r == R_JOB ? kc->rjob : NULL;
	enum r_kind kind = kc->r;

	kc->r = R_NONE;
	kc->rpod = NULL;
	kc->rjob = NULL;
	if (!ok && !stale) {
		kc->st.errors++;
		if (retry)
			kc->r_due = now + pp_kube_backoff_next(&kc->rbo, now, rand01(kc));
	} else if (ok) {
		kc->rbo.step = 0;
		kc->r_due = 0;
	}
	if (kind == R_PATCH && p) {
		p->inflight = false;
		if (ok || !retry) {
			for (unsigned int i = 0; i < p->n; i++) {
				struct kcond *c = &p->c[i];

				if (!c->flight_gen)
					continue;
				if (ok) {
					c->sent_known = true;
					c->sent = c->flight_val;
					kc->st.last_patch_latency = now - c->flight_set_at;
				}
				if (c->gen == c->flight_gen)
					c->sent_gen = c->gen; /* sent, or given up */
				c->flight_gen = 0;
			}
			if (ok) {
				kc->st.patches++;
				p->last_sent = now;
				p->bo.step = 0;
			} else {
				kc->st.patch_errors++;
			}
		} else {
			for (unsigned int i = 0; i < p->n; i++)
				p->c[i].flight_gen = 0;
			if (!stale)
				p->due = now + pp_kube_backoff_next(&p->bo, now, rand01(kc));
		}
		kpod_schedule(kc, p, now);
	} else if (kind == R_JOB && j) {
		bool done = ok || !retry || ++j->tries >= EVENT_TRIES;

		if (done) {
			kc->jobs = j->next;
			if (!kc->jobs)
				kc->jobs_tail = NULL;
			kc->n_jobs--;
			if (ok && j->kind == JOB_EVENT_POST)
				kc->st.events_posted++;
			else if (ok)
				kc->st.events_aggregated++;
			else
				kc->st.events_dropped++;
			job_free(j);
		}
	}
	r_kick(kc, now);
}

static void r_on_body(void *ctx, struct kube_conn *c, const char *data, size_t len)
{
	struct pp_kube_client *kc = ctx;

	if (c == kc->rc)
		buf_add(&kc->rbody, data, len, 1u << 20); /* a Status is enough */
}

static void r_on_done(void *ctx, struct kube_conn *c, int err)
{
	struct pp_kube_client *kc = ctx;
	pp_nsec now = pp_clock_now();
	int st = c->resp.status;
	char text[400];
	const char *what = kc->r == R_PATCH ? "patch pod status" : "event";

	if (c != kc->rc)
		return;
	if (err < 0) {
		bool stale = c->served && !c->got_bytes;

		if (!stale)
			logf_(kc, true, "%s: %s", what, c->why);
		if (err == -EKEYREJECTED)
			kc->force_token = true;
		kube_conn_close(kc->rc);
		kc->rc = NULL;
		r_end(kc, now, false, true, stale);
		return;
	}
	if (st >= 200 && st < 300) {
		r_end(kc, now, true, false, false);
		return;
	}
	status_text(&kc->rbody, st, text, sizeof(text));
	if (kc->r == R_PATCH && (st == 404 || st == 409)) {
		/* The pod is gone, or another pod has its name now: drop what was pending. */
		struct kpod *p = kc->rpod;

		logf_(kc, true, "%s %s/%s: %s (dropped)", what, p ? p->ns : "", p ? p->name : "",
		      text);
		r_end(kc, now, false, false, false);
		if (p)
			kpod_unlink(kc, p);
		return;
	}
	if (kc->r == R_JOB && kc->rjob->kind == JOB_EVENT_PATCH && st == 404) {
		/* event.go recordEvent: an Event gone before its patch is created again */
		struct kjob *j = kc->rjob;

		for (size_t i = 0; i < kc->n_ev; i++) {
			struct kevent *ev = &kc->ev[i];

			if (ev->name && ev->event && !strcmp(ev->name, j->name)) {
				json_object_set_new(ev->event, "count", json_integer(j->count));
				j->event = json_deep_copy(ev->event);
				j->kind = j->event ? JOB_EVENT_POST : j->kind;
				break;
			}
		}
		if (j->kind == JOB_EVENT_POST) {
			kc->r = R_NONE;
			kc->rjob = NULL;
			r_kick(kc, now);
			return;
		}
	}
	if (kc->r == R_JOB && st == 409 && kc->rjob->kind == JOB_EVENT_POST) {
		r_end(kc, now, true, false, false); /* AlreadyExists: it is there */
		return;
	}
	logf_(kc, true, "%s: %s", what, text);
	if (st == 401)
		kc->force_token = true;
	/* Malformed or refused for good; others (401, 403, 429, 5xx) are tried again. */
	r_end(kc, now, false, !(st == 400 || st == 415 || st == 422), false);
}

static const struct kube_conn_ops r_ops = {.on_body = r_on_body, .on_done = r_on_done};

/* ---- life -------------------------------------------------------------------------------- */

int pp_kube_client_new(struct pp_loop *loop, const struct pp_kube_client_cfg *cfg,
		       struct pp_kube_client **ret, char *err, size_t err_size)
{
	struct pp_kube_client *kc;
	char ebuf[1024];
	char ua[64];
	int rc;

	if (!err || !err_size) {
		err = ebuf;
		err_size = sizeof(ebuf);
	}
	err[0] = '\0';
	if (!loop || !cfg || !cfg->node || !*cfg->node || !cfg->on_pod) {
		snprintf(err, err_size, "kube client: a loop, a node name and on_pod are required");
		return -EINVAL;
	}
	kc = calloc(1, sizeof(*kc));
	if (!kc)
		return -ENOMEM;
	rc = kube_cfg_load(cfg->kubeconfig, cfg->sa_dir, &kc->k, err, err_size);
	if (rc < 0) {
		free(kc);
		return rc;
	}
	snprintf(ua, sizeof(ua), "podprobe/%s", "0.1.0");
	kc->loop = loop;
	kc->node = strdup(cfg->node);
	kc->user_agent = strdup(cfg->user_agent ? cfg->user_agent : ua);
	kc->patch_gap = cfg->patch_min_interval ? cfg->patch_min_interval : DEFAULT_PATCH_GAP;
	kc->on_pod = cfg->on_pod;
	kc->on_log = cfg->on_log;
	kc->ctx = cfg->ctx;
	kc->rnd = (uint64_t)pp_clock_wall() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	if (!kc->rnd)
		kc->rnd = 1;
	if (!kc->node || !kc->user_agent) {
		pp_kube_client_free(kc);
		return -ENOMEM;
	}
	kc->relist = true;
	s_start(kc, pp_clock_now());
	*ret = kc;
	return 0;
}

void pp_kube_client_free(struct pp_kube_client *kc)
{
	if (!kc)
		return;
	kube_conn_close(kc->sc);
	kube_conn_close(kc->rc);
	while (kc->pods) {
		struct kpod *p = kc->pods;

		kc->pods = p->next;
		kpod_free(p);
	}
	while (kc->jobs) {
		struct kjob *j = kc->jobs;

		kc->jobs = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < kc->n_ev; i++) {
		free(kc->ev[i].key);
		free(kc->ev[i].ns);
		free(kc->ev[i].name);
		json_decref(kc->ev[i].event);
	}
	free(kc->ev);
	free(kc->cont);
	buf_free(&kc->sbody);
	buf_free(&kc->line);
	buf_free(&kc->rbody);
	kube_cfg_fini(&kc->k);
	free(kc->node);
	free(kc->user_agent);
	free(kc);
}

const struct pp_kube_client_stats *pp_kube_client_stats(const struct pp_kube_client *kc)
{
	return &kc->st;
}

/* Keep stats.patches_pending current: after every change of a pod's patch state. */
static void count_pending(struct pp_kube_client *kc)
{
	uint32_t n = 0;

	for (const struct kpod *p = kc->pods; p; p = p->next)
		n += p->inflight || kpod_dirty(p);
	kc->st.patches_pending = n;
}

pp_nsec pp_kube_client_next(const struct pp_kube_client *kc)
{
	pp_nsec next = PP_NSEC_INFINITY;

	if (!kc)
		return next;
	next = kc->s == S_WAIT ? kc->s_due : kc->s_deadline;
	if (kc->r != R_NONE) {
		if (kc->r_deadline < next)
			next = kc->r_deadline;
	} else {
		/* The earliest work that may go, but not before the connection's back-off. */
		pp_nsec want = kc->jobs ? 0 : PP_NSEC_INFINITY;

		for (const struct kpod *p = kc->pods; p; p = p->next)
			if (!p->inflight && kpod_dirty(p) && p->due < want)
				want = p->due;
		if (want != PP_NSEC_INFINITY && want < kc->r_due)
			want = kc->r_due;
		if (want < next)
			next = want;
	}
	return next;
}

void pp_kube_client_run(struct pp_kube_client *kc, pp_nsec now)
{
	if (!kc)
		return;
	if (kc->s == S_WAIT && now >= kc->s_due) {
		s_start(kc, now);
	} else if (kc->s != S_WAIT && now >= kc->s_deadline) {
		if (kc->s == S_WATCH)
			s_retry(kc, now, false, false, "watch pods: silent past timeoutSeconds");
		else
			s_retry(kc, now, true, true, "list pods: no answer in 60 s");
	}
	if (kc->r != R_NONE && now >= kc->r_deadline) {
		logf_(kc, true, "%s: no answer in 30 s",
		      kc->r == R_PATCH ? "patch pod status" : "event");
		kube_conn_close(kc->rc);
		kc->rc = NULL;
		r_end(kc, now, false, true, false);
	}
	r_kick(kc, now);
}
