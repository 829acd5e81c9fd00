// SPDX-License-Identifier: Apache-2.0
/* The events resource (core/v1 Event): list and watch of the kept ring, with selectors. */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/clock.h"
#include "podprobe/event_ring.h"

static const char *event_field(void *ctx, const char *field)
{
	const char *v = pp_event_field(ctx, field);

	return v ? v : "";
}

bool pp_api_event_matches(const struct pp_event *e, const struct api_query *q)
{
	if (q->ns && strcmp(e->ns, q->ns))
		return false;
	if (q->labels && !pp_selector_match_labels(q->labels, NULL, 0))
		return false;
	return !q->fields || pp_selector_match_fields(q->fields, event_field, (void *)e);
}

json_t *pp_api_event_render(struct pp_api *api, const struct pp_event *e, const struct api_query *q,
			    bool with_defs)
{
	if (q->table)
		return pp_event_table(&e, 1, api->sup->rv, q->inc, with_defs, pp_clock_wall(),
				      api->sup->node_name);
	return pp_event_json(e, api->sup->node_name);
}

void pp_api_events_list(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
			const char *ns)
{
	struct pp_event_ring *ring = &api->sup->events;
	const struct pp_event **v, *e = NULL;
	struct api_query q;
	size_t n = 0, len;
	char rv[24];
	json_t *doc, *items;

	if (pp_api_query_parse(conn, req, API_EVENTS, ns, &q) < 0)
		return;
	pp_event_ring_expire(ring, pp_clock_wall());
	if (q.watch) {
		pp_api_watch_start(api, conn, &q);
		return;
	}
	len = pp_event_ring_len(ring);
	v = calloc(len ? len : 1, sizeof(*v));
	if (!v)
		goto oom;
	/* The ring is in resourceVersion order: a page starts at its token's rv. */
	for (e = pp_event_ring_first(ring); e; e = pp_event_ring_next(ring, e)) {
		if (e->rv < q.cont || !pp_api_event_matches(e, &q))
			continue;
		if ((q.limit && n == q.limit) || n == len)
			break; /* <e> starts the next page */
		v[n++] = e;
	}
	if (q.table) {
		doc = pp_event_table(v, n, api->sup->rv, q.inc, true, pp_clock_wall(),
				     api->sup->node_name);
	} else {
		snprintf(rv, sizeof(rv), "%llu", (unsigned long long)api->sup->rv);
		doc = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "EventList", "apiVersion",
				"v1", "metadata", "resourceVersion", rv, "items");
		items = json_object_get(doc, "items");
		for (size_t i = 0; doc && i < n; i++)
			if (json_array_append_new(items, pp_event_json(v[i], api->sup->node_name)) <
			    0) {
				json_decref(doc);
				doc = NULL;
			}
	}
	free(v);
	if (!doc)
		goto oom;
	if (e)
		pp_api_set_continue(doc, e->rv);
	pp_api_query_fini(&q);
	pp_api_reply_json(conn, 200, NULL, NULL, doc);
	return;
oom:
	pp_api_query_fini(&q);
	pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
}
