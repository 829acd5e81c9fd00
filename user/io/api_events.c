// SPDX-License-Identifier: Apache-2.0
/* The events resource (core/v1 Event): list and watch of the kept ring, with selectors. */
#include "api_int.h"

#include <errno.h>
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

/* ---- create, get, patch: Events posted by other components (a `podprobe watch`) --------- */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void reply_event(struct pp_api *api, struct pp_api_conn *conn, int code,
			const struct pp_event *e)
{
	json_t *doc = pp_event_json(e, api->sup->node_name);

	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, code, NULL, NULL, doc);
}

/* 422 Invalid about Event <name> with one cause at <field>. */
static void invalid(struct pp_api_conn *conn, const char *name, const char *field, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "Event \"%s\" is invalid: %s: %s", name ? name : "", field, why);
	pp_api_reply_status(conn, 422, "Invalid", msg, NULL, NULL);
}

/*
 * POST /api/v1/namespaces/NS/events: the fields of a core/v1 Event the ring keeps (about a
 * Pod: the ring is the pods' events), checked as pkg/apis/core/validation/events.go
 * ValidateEventCreate does for them.
 */
void pp_api_events_create(struct pp_api *api, struct pp_api_conn *conn,
			  const struct pp_http_req *req, const char *ns)
{
	struct pp_supervisor *sup = api->sup;
	json_t *obj, *meta, *io, *src;
	const char *name, *type, *io_ns, *kind, *first, *comp, *host;
	struct pp_event_in in = {0};
	const struct pp_event *e;
	json_error_t jerr;
	pp_wall_ns first_ns = 0;
	bool added;
	int rc;

	obj = json_loadb(req->body, req->body_len, 0, &jerr);
	if (!obj || !json_is_object(obj)) {
		char err[256];

		snprintf(err, sizeof(err), "the body of the request was in an unknown format: %s",
			 obj ? "not an object" : jerr.text);
		json_decref(obj);
		pp_api_reply_status(conn, 400, "BadRequest", err, NULL, NULL);
		return;
	}
	meta = json_object_get(obj, "metadata");
	io = json_object_get(obj, "involvedObject");
	src = json_object_get(obj, "source");
	name = str(meta, "name");
	if (str(meta, "namespace") && strcmp(str(meta, "namespace"), ns)) {
		pp_api_reply_status(conn, 400, "BadRequest",
				    "the namespace of the provided object does not match the "
				    "namespace sent on the request",
				    NULL, NULL);
		goto out;
	}
	kind = str(io, "kind");
	io_ns = str(io, "namespace");
	type = str(obj, "type");
	comp = str(obj, "reportingComponent");
	if (!comp || !*comp)
		comp = str(src, "component");
	host = str(obj, "reportingInstance");
	if (!host || !*host)
		host = str(src, "host");
	first = str(obj, "firstTimestamp");
	if (!name || !*name) {
		invalid(conn, name, "metadata.name",
			"Required value: name or generateName is "
			"required");
		goto out;
	}
	if (!kind || strcmp(kind, "Pod")) {
		invalid(conn, name, "involvedObject.kind",
			"Unsupported value: podprobe keeps the events of pods only");
		goto out;
	}
	if (io_ns && strcmp(io_ns, ns)) {
		invalid(conn, name, "involvedObject.namespace",
			"Invalid value: does not match "
			"event.namespace");
		goto out;
	}
	if (type && strcmp(type, "Normal") && strcmp(type, "Warning")) {
		invalid(conn, name, "type",
			"Unsupported value: supported values: \"Normal\", "
			"\"Warning\"");
		goto out;
	}
	if (first && *first && pp_api_time_parse(first, &first_ns) < 0) {
		invalid(conn, name, "firstTimestamp", "Invalid value: not an RFC 3339 time");
		goto out;
	}
	in = (struct pp_event_in){
		.ns = ns,
		.pod = str(io, "name"),
		.pod_uid = str(io, "uid"),
		.field_path = str(io, "fieldPath"),
		.reason = str(obj, "reason"),
		.message = str(obj, "message") ? str(obj, "message") : "",
		.type = type && !strcmp(type, "Warning") ? PP_EVENT_WARNING : PP_EVENT_NORMAL,
		.name = name,
		.component = comp && *comp ? comp : NULL,
		.host = host && *host ? host : NULL,
		.first = first_ns,
		.count = json_is_integer(json_object_get(obj, "count")) &&
					 json_integer_value(json_object_get(obj, "count")) > 0 &&
					 json_integer_value(json_object_get(obj, "count")) <=
						 UINT32_MAX
				 ? (uint32_t)json_integer_value(json_object_get(obj, "count"))
				 : 0,
	};
	rc = pp_event_ring_record(&sup->events, &in, pp_clock_wall(), sup->rv + 1, &e, &added);
	if (rc == -EEXIST) {
		char msg[400];

		snprintf(msg, sizeof(msg), "events \"%s\" already exists", name);
		pp_api_reply_status(conn, 409, "AlreadyExists", msg, NULL, NULL);
	} else if (rc == -ENOMEM) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
	} else if (rc < 0) {
		invalid(conn, name, "involvedObject",
			"Invalid value: name, uid and reason are required, within their lengths");
	} else {
		sup->rv++;
		pp_api_event_recorded(sup, e, added);
		reply_event(api, conn, 201, e);
	}
out:
	json_decref(obj);
}

/* GET or PATCH /api/v1/namespaces/NS/events/NAME. */
void pp_api_event_one(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns, const char *name)
{
	struct pp_supervisor *sup = api->sup;
	const struct pp_event *e;
	json_t *patch, *count;
	uint32_t n = 0;
	char msg[400];

	pp_event_ring_expire(&sup->events, pp_clock_wall());
	e = pp_event_ring_find(&sup->events, ns, name);
	if (!e) {
		snprintf(msg, sizeof(msg), "events \"%s\" not found", name);
		pp_api_reply_status(conn, 404, "NotFound", msg, NULL, NULL);
		return;
	}
	if (req->method == PP_HTTP_GET) {
		reply_event(api, conn, 200, e);
		return;
	}
	/*
	 * client-go's recorder patches a repeat (events_cache.go: count, lastTimestamp, message
	 * of the same event); the ring keeps the rest as it was created.
	 */
	patch = json_loadb(req->body, req->body_len, 0, NULL);
	if (!json_is_object(patch)) {
		json_decref(patch);
		pp_api_reply_status(conn, 400, "BadRequest", "the body is not a JSON patch object",
				    NULL, NULL);
		return;
	}
	count = json_object_get(patch, "count");
	if (json_is_integer(count) && json_integer_value(count) > 0 &&
	    json_integer_value(count) <= UINT32_MAX)
		n = (uint32_t)json_integer_value(count);
	json_decref(patch);
	if (pp_event_ring_bump(&sup->events, e, n, pp_clock_wall(), sup->rv + 1) < 0) {
		pp_api_reply_status(conn, 500, "InternalError", "resourceVersion out of order",
				    NULL, NULL);
		return;
	}
	sup->rv++;
	pp_api_event_recorded(sup, e, false);
	reply_event(api, conn, 200, e);
}
