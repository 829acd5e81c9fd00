// SPDX-License-Identifier: Apache-2.0
/*
 * Watches (?watch=true): newline-delimited {"type","object"} events on a chunked stream, as
 * apimachinery's watch.Event over HTTP. resourceVersion semantics of the apiserver's watch
 * cache (staging/src/k8s.io/apiserver/pkg/storage/cacher): absent or "0" starts with a
 * synthetic ADDED of every matching object; a list's resourceVersion sends only what changed
 * after it (pods changed since then as they are now, pods deleted since then from a bounded
 * ring of tombstones); a resourceVersion older than that ring is 410 Gone "too old resource
 * version", after which clients re-list. Streams stay open until timeoutSeconds, the client
 * goes, or it reads too slowly (the server drops it past its backlog cap).
 */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

#include "podprobe/event_ring.h"
#include "podprobe/pod_status.h"

static const char *const change_names[_API_CHANGE_MAX] = {
	[API_ADDED] = "ADDED",
	[API_MODIFIED] = "MODIFIED",
	[API_DELETED] = "DELETED",
};

static void watch_unlink(struct api_watch *w)
{
	struct pp_api *api = w->api;

	if (w->prev)
		w->prev->next = w->next;
	else
		api->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	api->n_watches--;
	pp_api_query_fini(&w->q);
	free(w);
}

static void on_conn_close(void *arg)
{
	watch_unlink(arg);
}

/* Send <obj> (taken) as a <change> event; a failed write drops the watch (its close runs). */
static void send_event(struct api_watch *w, enum api_change change, json_t *obj)
{
	json_t *ev;

	if (!obj)
		return;
	ev = json_pack("{s:s, s:o}", "type", change_names[change], "object", obj);
	if (ev)
		pp_api_stream_json(w->conn, ev);
}

static void send_pod(struct api_watch *w, struct pod_rt *pr, enum api_change change)
{
	struct pod_rt *v[1] = {pr};

	send_event(w, change, pp_api_pods_render(w->api, v, 1, &w->q, !w->sent_defs, false));
	w->sent_defs = true;
}

/* A gone pod's last object as this watch shows it: the Pod, or a one-row Table. */
static json_t *tomb_object(struct api_watch *w, const struct api_tombstone *t)
{
	json_t *table, *cells;

	if (!w->q.table)
		return json_incref(t->pod);
	table = pp_pod_table(NULL, 0, w->api->sup->rv, w->q.inc, !w->sent_defs);
	cells = json_deep_copy(t->cells);
	if (!table || !cells ||
	    pp_table_add_row(table, cells, pp_table_row_object(t->pod, w->q.inc)) < 0) {
		json_decref(table);
		return NULL;
	}
	return table;
}

static bool tomb_matches(const struct api_watch *w, json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	struct pp_kv labels[64];
	size_t n = 0;
	const char *k;
	json_t *v;

	if (w->q.ns && (!ns || strcmp(ns, w->q.ns)))
		return false;
	if (w->q.fields) {
		const char *want = pp_selector_equals(w->q.fields, "metadata.name");

		if (want && (!name || strcmp(want, name)))
			return false;
	}
	if (!w->q.labels)
		return true;
	json_object_foreach(json_object_get(meta, "labels"), k, v)
	{
		if (n < 64)
			labels[n++] = (struct pp_kv){(char *)k, (char *)json_string_value(v)};
	}
	return pp_selector_match_labels(w->q.labels, labels, n);
}

static void replay_pods(struct pp_api *api, struct api_watch *w)
{
	struct pp_supervisor *sup = api->sup;

	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (!pr || pr->waiting || !pp_api_pod_matches(pr, &w->q))
			continue;
		if (!w->q.has_rv)
			send_pod(w, pr, API_ADDED);
		else if (pr->rv > w->q.rv)
			send_pod(w, pr, pr->created_rv > w->q.rv ? API_ADDED : API_MODIFIED);
	}
	for (size_t i = 0; w->q.has_rv && i < api->tomb_len; i++) {
		struct api_tombstone *t = &api->tomb[(api->tomb_head + i) % API_TOMBSTONES];

		if (t->rv > w->q.rv && tomb_matches(w, t->pod)) {
			send_event(w, API_DELETED, tomb_object(w, t));
			w->sent_defs = true;
		}
	}
}

static void replay_events(struct pp_api *api, struct api_watch *w)
{
	struct pp_event_ring *ring = &api->sup->events;

	const struct pp_event *e =
		w->q.has_rv ? pp_event_ring_after(ring, w->q.rv) : pp_event_ring_first(ring);

	for (; e; e = pp_event_ring_next(ring, e)) {
		if (!pp_api_event_matches(e, &w->q))
			continue;
		send_event(w, w->q.has_rv && e->count > 1 ? API_MODIFIED : API_ADDED,
			   pp_api_event_render(api, e, &w->q, !w->sent_defs));
		w->sent_defs = true;
	}
}

void pp_api_watch_start(struct pp_api *api, struct pp_api_conn *conn, struct api_query *q)
{
	struct api_watch *w;

	/*
	 * Older than the tombstones reach, or newer than this run has given out (a client of an
	 * earlier run): 410, and the client's reflector re-lists.
	 */
	if (q->has_rv && (q->rv < api->oldest_rv || q->rv > api->sup->rv)) {
		pp_api_query_fini(q);
		pp_api_reply_status(conn, 410, "Expired", "too old resource version", NULL, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w || pp_api_stream_start(conn, 200, "application/json") < 0) {
		free(w);
		pp_api_query_fini(q);
		if (!w)
			pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL,
					    NULL);
		return;
	}
	w->api = api;
	w->conn = conn;
	w->q = *q;
	if (q->ns)
		w->q.ns = w->q.ns_buf; /* its own copy's */
	w->next = api->watches;
	if (api->watches)
		api->watches->prev = w;
	api->watches = w;
	api->n_watches++;
	pp_api_conn_on_close(conn, on_conn_close, w);
	if (q->until < api->watch_next)
		api->watch_next = q->until;
	if (q->kind == API_PODS)
		replay_pods(api, w);
	else
		replay_events(api, w);
}

void pp_api_watch_pod(struct pp_api *api, struct pod_rt *pr, enum api_change change)
{
	/* One rendering per shape (Pod; Table with or without columns, per includeObject). */
	json_t *cache[2][2][_PP_INCLUDE_MAX] = {{{NULL}}};

	for (struct api_watch *w = api->watches, *next; w; w = next) {
		json_t **slot;

		next = w->next;
		if (w->q.kind != API_PODS || !pp_api_pod_matches(pr, &w->q))
			continue;
		slot = &cache[w->q.table][w->q.table && !w->sent_defs][w->q.table ? w->q.inc : 0];
		if (!*slot) {
			struct pod_rt *v[1] = {pr};

			*slot = pp_api_pods_render(api, v, 1, &w->q, !w->sent_defs, false);
		}
		w->sent_defs = true;
		send_event(w, change, json_incref(*slot));
	}
	for (int t = 0; t < 2; t++)
		for (int d = 0; d < 2; d++)
			for (int i = 0; i < _PP_INCLUDE_MAX; i++)
				json_decref(cache[t][d][i]);
}

void pp_api_watch_pod_gone(struct pp_api *api, struct pod_rt *pr)
{
	struct api_query all = {.table = true, .inc = PP_INCLUDE_NONE};
	struct pod_rt *v[1] = {pr};
	struct api_tombstone *t, now;
	json_t *table;

	now.rv = pr->rv;
	now.pod = pp_api_pod_json(api, pr);
	table = pp_api_pods_render(api, v, 1, &all, false, false);
	now.cells = json_incref(
		json_object_get(json_array_get(json_object_get(table, "rows"), 0), "cells"));
	json_decref(table);
	if (!now.pod || !now.cells) {
		json_decref(now.pod);
		json_decref(now.cells);
		return;
	}
	for (struct api_watch *w = api->watches, *next; w; w = next) {
		next = w->next;
		if (w->q.kind == API_PODS && tomb_matches(w, now.pod)) {
			send_event(w, API_DELETED, tomb_object(w, &now));
			w->sent_defs = true;
		}
	}
	/* Kept for watches that start from an older resourceVersion. */
	if (api->tomb_len == API_TOMBSTONES) {
		t = &api->tomb[api->tomb_head];
		api->oldest_rv = t->rv;
		json_decref(t->pod);
		json_decref(t->cells);
		api->tomb_head = (api->tomb_head + 1) % API_TOMBSTONES;
		api->tomb_len--;
	}
	api->tomb[(api->tomb_head + api->tomb_len++) % API_TOMBSTONES] = now;
}

void pp_api_watch_event(struct pp_api *api, const struct pp_event *e, bool added)
{
	for (struct api_watch *w = api->watches, *next; w; w = next) {
		next = w->next;
		if (w->q.kind != API_EVENTS || !pp_api_event_matches(e, &w->q))
			continue;
		send_event(w, added ? API_ADDED : API_MODIFIED,
			   pp_api_event_render(api, e, &w->q, !w->sent_defs));
		w->sent_defs = true;
	}
}

pp_nsec pp_api_watch_expire(struct pp_api *api, pp_nsec now)
{
	pp_nsec next = PP_NSEC_INFINITY;

	for (struct api_watch *w = api->watches, *nw; w; w = nw) {
		nw = w->next;
		if (w->q.until <= now) {
			struct pp_api_conn *c = w->conn;

			pp_api_conn_on_close(c, NULL, NULL);
			watch_unlink(w);
			pp_api_stream_end(c);
		} else if (w->q.until < next) {
			next = w->q.until;
		}
	}
	return next;
}

void pp_api_watch_fini(struct pp_api *api)
{
	while (api->watches) {
		struct api_watch *w = api->watches;

		pp_api_conn_on_close(w->conn, NULL, NULL);
		watch_unlink(w);
	}
}
