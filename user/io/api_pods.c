// SPDX-License-Identifier: Apache-2.0
/*
 * The pods resource: list, get, watch, create (POST), patch of labels and annotations, and
 * graceful delete, as the apiserver answers them (pkg/registry/core/pod/storage and
 * apimachinery's generic registry: 201 on create, 409 AlreadyExists, 422 Invalid with causes,
 * 200 with deletionTimestamp on delete).
 */
#include "api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/clock.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"

struct pod_rt *pp_api_pod_find(struct pp_api *api, const char *ns, const char *name)
{
	struct pp_supervisor *sup = api->sup;

	/* The newest: a pod replaced by a new spec is on its way out before its successor. */
	for (size_t i = sup->n_pods; i-- > 0;) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (pr && !pr->waiting && !strcmp(pr->spec->name, name) &&
		    !strcmp(pr->spec->namespace, ns))
			return pr;
	}
	return NULL;
}

json_t *pp_api_pod_json(struct pp_api *api, const struct pod_rt *pr)
{
	struct pp_pod_view v;
	pp_nsec mono;
	pp_wall_ns wall;

	pp_api_clock(&mono, &wall);
	pp_sup_pod_view(pr, &v, mono, wall);
	return pp_pod_json(&v);
}

static const char *pod_field(void *ctx, const char *field)
{
	const struct pod_rt *pr = ctx;
	const struct pp_pod *s = pr->spec;

	if (!strcmp(field, "metadata.name"))
		return s->name;
	if (!strcmp(field, "metadata.namespace"))
		return s->namespace;
	if (!strcmp(field, "spec.nodeName"))
		return pr->sup->node_name;
	if (!strcmp(field, "spec.restartPolicy"))
		return pp_restart_policy_str(s->restart_policy);
	if (!strcmp(field, "spec.schedulerName"))
		return "default-scheduler";
	if (!strcmp(field, "spec.serviceAccountName"))
		return "default";
	if (!strcmp(field, "spec.hostNetwork"))
		return "true"; /* containers are host processes */
	if (!strcmp(field, "status.phase"))
		return pp_phase_str(pr->st.phase);
	if (!strcmp(field, "status.podIP") || !strcmp(field, "status.podIPs"))
		return pr->st.start_time ? "127.0.0.1" : "";
	return "";
}

bool pp_api_pod_matches(const struct pod_rt *pr, const struct api_query *q)
{
	if (q->ns && strcmp(pr->spec->namespace, q->ns))
		return false;
	if (q->labels && !pp_selector_match_labels(q->labels, pr->spec->labels, pr->spec->n_labels))
		return false;
	return !q->fields || pp_selector_match_fields(q->fields, pod_field, (void *)pr);
}

json_t *pp_api_pods_render(struct pp_api *api, struct pod_rt *const *pods, size_t n,
			   const struct api_query *q, bool with_defs, bool list)
{
	struct pp_pod_view *views = calloc(n ? n : 1, sizeof(*views));
	const struct pp_pod_view **pv = calloc(n ? n : 1, sizeof(*pv));
	char rv[24];
	pp_nsec mono;
	pp_wall_ns wall;
	json_t *out = NULL, *items;

	if (!views || !pv)
		goto out;
	pp_api_clock(&mono, &wall);
	for (size_t i = 0; i < n; i++) {
		pp_sup_pod_view(pods[i], &views[i], mono, wall);
		pv[i] = &views[i];
	}
	if (q->table) {
		out = pp_pod_table(pv, n, api->sup->rv, q->inc, with_defs);
		goto out;
	}
	if (!list) {
		out = n ? pp_pod_json(pv[0]) : NULL;
		goto out;
	}
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)api->sup->rv);
	out = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "PodList", "apiVersion", "v1",
			"metadata", "resourceVersion", rv, "items");
	items = json_object_get(out, "items");
	for (size_t i = 0; out && i < n; i++) {
		json_t *p = pp_pod_json(pv[i]);

		if (!p || json_array_append_new(items, p) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
out:
	free(views);
	free(pv);
	return out;
}

static void reply_pods(struct pp_api *api, struct pp_api_conn *conn, struct pod_rt *const *pods,
		       size_t n, const struct api_query *q, bool list, int code)
{
	json_t *doc = pp_api_pods_render(api, pods, n, q, true, list);

	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, code, NULL, NULL, doc);
}

void pp_api_pods_list(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns)
{
	struct pp_supervisor *sup = api->sup;
	struct api_query q;
	struct pod_rt **v;
	size_t n = 0, i;
	json_t *doc;

	if (pp_api_query_parse(conn, req, API_PODS, ns, &q) < 0)
		return;
	if (q.watch) {
		pp_api_watch_start(api, conn, &q);
		return;
	}
	v = calloc(sup->n_pods ? sup->n_pods : 1, sizeof(*v));
	if (!v) {
		pp_api_query_fini(&q);
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	/* A page starts at its token's slot; the next page's token is where this one stopped. */
	for (i = q.cont ? q.cont - 1 : 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (!pr || pr->waiting || !pp_api_pod_matches(pr, &q))
			continue;
		if (q.limit && n == q.limit)
			break;
		v[n++] = pr;
	}
	doc = pp_api_pods_render(api, v, n, &q, true, true);
	if (doc && i < sup->n_pods)
		pp_api_set_continue(doc, i + 1);
	if (doc)
		pp_api_reply_json(conn, 200, NULL, NULL, doc);
	else
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
	free(v);
	pp_api_query_fini(&q);
}

static void not_found(struct pp_api_conn *conn, const char *name)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "pods \"%s\" not found", name);
	pp_api_reply_status(conn, 404, "NotFound", msg, name, "pods");
}

void pp_api_pod_get(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		    const char *ns, const char *name)
{
	struct pod_rt *pr = pp_api_pod_find(api, ns, name);
	struct api_query q;

	if (!pr) {
		not_found(conn, name);
		return;
	}
	if (pp_api_query_parse(conn, req, API_PODS, ns, &q) < 0)
		return;
	reply_pods(api, conn, &pr, 1, &q, false, 200);
	pp_api_query_fini(&q);
}

/* ---- create ------------------------------------------------------------------------------ */

/* A 422 Invalid for the errors of <diags> (the texts `podprobe validate` prints). */
static void reply_invalid(struct pp_api_conn *conn, const char *name,
			  const struct pp_diag_list *diags)
{
	json_t *st, *causes = json_array();
	char msg[4096];
	size_t len;

	len = (size_t)snprintf(msg, sizeof(msg), "Pod \"%s\" is invalid: ", name ? name : "");
	for (size_t i = 0, k = 0; i < diags->n && causes; i++) {
		const struct pp_diag *d = &diags->items[i];

		if (d->severity != PP_DIAG_ERROR)
			continue;
		json_array_append_new(causes,
				      json_pack("{s:s, s:s, s:s}", "reason", "FieldValueInvalid",
						"message", d->message ? d->message : "", "field",
						d->path ? d->path : ""));
		if (len < sizeof(msg))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s%s%s",
						k++ ? ", " : "", d->path ? d->path : "",
						d->path && *d->path ? ": " : "",
						d->message ? d->message : "");
	}
	st = pp_api_status(422, "Invalid", msg, name ? name : "", "Pod");
	if (st && causes)
		json_object_set_new(json_object_get(st, "details"), "causes", causes);
	else
		json_decref(causes);
	if (!st) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, 422, NULL, NULL, st);
}

/*
 * fieldValidation (KEP-2885): unknown fields are an error (Strict, kubectl's default), a
 * Warning header (Warn), or nothing (Ignore).
 */
static int field_validation(const struct pp_diag_list *diags, const char *mode, char *warn,
			    size_t warn_size, char *err, size_t err_size)
{
	size_t wl = 0;
	bool strict = !strcmp(mode, "Strict"), warnm = !strcmp(mode, "Warn");

	warn[0] = '\0';
	for (size_t i = 0; i < diags->n; i++) {
		const struct pp_diag *d = &diags->items[i];
		const char *m = d->message ? d->message : "";
		char field[600];

		if (d->severity != PP_DIAG_WARNING || strncmp(m, "unknown field \"", 15))
			continue;
		/* The reader's path names the unknown field itself. */
		if (d->path && *d->path)
			snprintf(field, sizeof(field), "%s", d->path);
		else
			snprintf(field, sizeof(field), "%.*s", (int)(strlen(m + 15) - 1), m + 15);
		if (strict) {
			snprintf(
				err, err_size,
				"Pod in version \"v1\" cannot be handled as a Pod: strict decoding "
				"error: unknown field \"%s\"",
				field);
			return -EINVAL;
		}
		if (warnm && wl < warn_size)
			wl += (size_t)snprintf(warn + wl, warn_size - wl,
					       "Warning: 299 - \"unknown field \\\"%s\\\"\"\r\n",
					       field);
	}
	return 0;
}

void pp_api_pods_create(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
			const char *ns)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	char mode[16] = "Ignore", warn[2048], err[1024];
	json_t *obj, *meta, *ons;
	json_error_t jerr;
	struct pod_rt *pr;
	struct pp_pod *pod;
	int rc;

	obj = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj || !json_is_object(obj)) {
		snprintf(err, sizeof(err), "the body of the request was in an unknown format: %s",
			 obj ? "not an object" : jerr.text);
		json_decref(obj);
		pp_api_reply_status(conn, 400, "BadRequest", err, NULL, NULL);
		return;
	}
	meta = json_object_get(obj, "metadata");
	ons = meta ? json_object_get(meta, "namespace") : NULL;
	if (ons && json_is_string(ons) && strcmp(json_string_value(ons), ns)) {
		json_decref(obj);
		pp_api_reply_status(conn, 400, "BadRequest",
				    "the namespace of the provided object does not match the "
				    "namespace sent on the request",
				    NULL, NULL);
		return;
	}
	if (meta && json_is_object(meta) && !ons)
		json_object_set_new(meta, "namespace", json_string(ns));
	pp_http_query_get(req->query, "fieldValidation", mode, sizeof(mode));
	/* The document as stored: JSON is YAML, so the file reader reads it. */
	{
		char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

		rc = text ? pp_manifest_parse_buffer("request", text, strlen(text), &pods, &diags)
			  : -ENOMEM;
		free(text);
	}
	if (rc >= 0 && pods.n == 1)
		rc = pp_pod_validate(pods.items[0], &diags);
	if (rc < 0) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		goto out;
	}
	if (diags.n_errors || pods.n != 1) {
		json_t *name = meta ? json_object_get(meta, "name") : NULL;

		if (!diags.n_errors)
			pp_diag_add(&diags, PP_DIAG_ERROR, "request", (struct pp_src_pos){0},
				    "kind", "the body must be one Pod object");
		reply_invalid(conn, json_is_string(name) ? json_string_value(name) : NULL, &diags);
		goto out;
	}
	if (field_validation(&diags, mode, warn, sizeof(warn), err, sizeof(err)) < 0) {
		pp_api_reply_status(conn, 400, "BadRequest", err, NULL, NULL);
		goto out;
	}
	pod = pods.items[0];
	if (pp_api_pod_find(api, ns, pod->name)) {
		snprintf(err, sizeof(err), "pods \"%s\" already exists", pod->name);
		pp_api_reply_status(conn, 409, "AlreadyExists", err, pod->name, "pods");
		goto out;
	}
	pods.items[0] = NULL;
	pods.n = 0;
	rc = pp_sup_pod_create(api->sup, pod, obj, true, NULL, &pr);
	obj = NULL; /* taken */
	if (rc < 0) {
		snprintf(err, sizeof(err), "cannot start pod: %s", strerror(-rc));
		pp_api_reply_status(conn, 500, "InternalError", err, NULL, NULL);
		goto out;
	}
	{
		json_t *doc = pp_api_pod_json(api, pr);

		if (doc)
			pp_api_reply_json(conn, 201, NULL, warn[0] ? warn : NULL, doc);
		else
			pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL,
					    NULL);
	}
out:
	json_decref(obj);
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
}

/* ---- patch ------------------------------------------------------------------------------- */

/* Merge <patch> (an object of string or null values) into the object <dst>. */
static int merge_strings(json_t *dst, json_t *patch)
{
	const char *k;
	json_t *v;

	json_object_foreach(patch, k, v)
	{
		if (json_is_null(v))
			json_object_del(dst, k);
		else if (!json_is_string(v))
			return -EINVAL;
		else if (json_object_set(dst, k, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

void pp_api_pod_patch(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns, const char *name)
{
	const char *ctype = pp_http_req_header(req, "content-type");
	struct pod_rt *pr = pp_api_pod_find(api, ns, name);
	json_t *patch, *meta, *k, *newobj, *newmeta, *doc;
	const char *key;
	char msg[600];
	json_error_t jerr;
	int rc;

	if (!pr) {
		not_found(conn, name);
		return;
	}
	if (!ctype || (strncmp(ctype, "application/strategic-merge-patch+json", 38) &&
		       strncmp(ctype, "application/merge-patch+json", 28))) {
		snprintf(msg, sizeof(msg), "the server does not support patches of type %s",
			 ctype ? ctype : "(none)");
		pp_api_reply_status(conn, 415, "UnsupportedMediaType", msg, NULL, NULL);
		return;
	}
	patch = json_loadb(req->body, req->body_len, 0, &jerr);
	if (!json_is_object(patch)) {
		json_decref(patch);
		pp_api_reply_status(conn, 400, "BadRequest", "the patch is not a JSON object", NULL,
				    NULL);
		return;
	}
	/* Labels and annotations are what a pod lets change (ValidatePodUpdate). */
	json_object_foreach(patch, key, k)
	{
		if (strcmp(key, "metadata") && strcmp(key, "kind") && strcmp(key, "apiVersion"))
			break;
	}
	meta = json_object_get(patch, "metadata");
	if (key || (meta && !json_is_object(meta))) {
		snprintf(msg, sizeof(msg),
			 "Pod \"%s\" is invalid: spec: Forbidden: podprobe lets a patch change "
			 "only metadata.labels and metadata.annotations (delete and create the "
			 "pod for anything else)",
			 name);
		json_decref(patch);
		pp_api_reply_status(conn, 422, "Invalid", msg, name, "Pod");
		return;
	}
	newobj = json_deep_copy(pr->object);
	newmeta = newobj ? json_object_get(newobj, "metadata") : NULL;
	rc = newmeta ? 0 : -ENOMEM;
	json_object_foreach(meta, key, k)
	{
		json_t *dst;

		if (rc)
			break;
		if (strcmp(key, "labels") && strcmp(key, "annotations")) {
			rc = -EPERM;
			break;
		}
		dst = json_object_get(newmeta, key);
		if (!dst) {
			dst = json_object();
			json_object_set_new(newmeta, key, dst);
		}
		rc = json_is_null(k)	 ? (json_object_clear(dst), 0)
		     : json_is_object(k) ? merge_strings(dst, k)
					 : -EINVAL;
	}
	json_decref(patch);
	if (rc == 0)
		rc = pp_sup_pod_relabel(pr, newobj);
	else
		json_decref(newobj);
	if (rc == -EPERM || rc == -EINVAL) {
		snprintf(msg, sizeof(msg),
			 "Pod \"%s\" is invalid: metadata: Invalid value: only labels and "
			 "annotations of string values can be patched",
			 name);
		pp_api_reply_status(conn, 422, "Invalid", msg, name, "Pod");
		return;
	}
	if (rc < 0) {
		pp_api_reply_status(conn, 500, "InternalError", strerror(-rc), NULL, NULL);
		return;
	}
	doc = pp_api_pod_json(api, pr);
	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, 200, NULL, NULL, doc);
}

/* ---- delete ------------------------------------------------------------------------------ */

void pp_api_pod_delete(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		       const char *ns, const char *name)
{
	struct pod_rt *pr = pp_api_pod_find(api, ns, name);
	int64_t grace = -1;
	char buf[32], msg[400];
	json_t *opts = NULL, *g, *pre, *doc;

	if (!pr) {
		not_found(conn, name);
		return;
	}
	if (req->body_len) {
		opts = json_loadb(req->body, req->body_len, 0, NULL);
		if (!json_is_object(opts)) {
			json_decref(opts);
			pp_api_reply_status(conn, 400, "BadRequest",
					    "the body is not a DeleteOptions object", NULL, NULL);
			return;
		}
	}
	g = opts ? json_object_get(opts, "gracePeriodSeconds") : NULL;
	if (json_is_integer(g))
		grace = json_integer_value(g);
	else if (pp_http_query_get(req->query, "gracePeriodSeconds", buf, sizeof(buf)) > 0)
		grace = strtoll(buf, NULL, 10);
	pre = opts ? json_object_get(opts, "preconditions") : NULL;
	pre = pre ? json_object_get(pre, "uid") : NULL;
	if (json_is_string(pre) && strcmp(json_string_value(pre), pr->st.uid)) {
		snprintf(msg, sizeof(msg),
			 "Precondition failed: UID in precondition: %s, UID in object meta: %s",
			 json_string_value(pre), pr->st.uid);
		json_decref(opts);
		pp_api_reply_status(conn, 409, "Conflict", msg, name, "pods");
		return;
	}
	json_decref(opts);
	if (pp_sup_static_owns(pr)) {
		/* Its object goes and comes back (a mirror pod); the answer is the one that went.
		 */
		doc = pp_api_pod_json(api, pr);
		pp_sup_static_mirror_deleted(pr);
		if (!doc)
			pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL,
					    NULL);
		else
			pp_api_reply_json(conn, 200, NULL, NULL, doc);
		return;
	}
	if (grace < 0)
		grace = pr->spec->termination_grace_s;
	pp_sup_pod_delete(pr, grace, "API");
	doc = pp_api_pod_json(api, pr);
	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, 200, NULL, NULL, doc);
}

/* ---- pods/status: conditions others own ----------------------------------------------------- */

/* The conditions kubelet computes itself (status/generate.go): a patch does not own them. */
static bool kubelet_condition(const char *type)
{
	static const char *const own[] = {"PodReadyToStartContainers", "Initialized", "Ready",
					  "ContainersReady", "PodScheduled"};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(type, own[i]))
			return true;
	return false;
}

/*
 * Merge condition <c> into <list> by type (the strategic-merge patch key of
 * PodStatus.conditions); lastTransitionTime moves only when the status changes, as kubelet's
 * status manager keeps it.
 */
static int merge_condition(json_t *list, json_t *c, pp_wall_ns now)
{
	const char *type = json_string_value(json_object_get(c, "type"));
	const char *status = json_string_value(json_object_get(c, "status"));
	json_t *n, *old = NULL;
	size_t i;

	if (!type || !*type || !status ||
	    (strcmp(status, "True") && strcmp(status, "False") && strcmp(status, "Unknown")))
		return -EINVAL;
	if (kubelet_condition(type))
		return 0; /* the node's own: recomputed, never taken from a patch */
	json_array_foreach(list, i, n)
	{
		if (!strcmp(json_string_value(json_object_get(n, "type")), type)) {
			old = n;
			break;
		}
	}
	n = json_deep_copy(c);
	if (!n)
		return -ENOMEM;
	if (!json_object_get(n, "lastTransitionTime")) {
		const char *was = old ? json_string_value(json_object_get(old, "status")) : NULL;
		json_t *t = was && !strcmp(was, status)
				    ? json_incref(json_object_get(old, "lastTransitionTime"))
				    : pp_api_time_json(now);

		json_object_set_new(n, "lastTransitionTime", t ? t : json_null());
	}
	if (!json_object_get(n, "lastProbeTime"))
		json_object_set_new(n, "lastProbeTime", json_null());
	return old ? json_array_set_new(list, i, n) : json_array_append_new(list, n);
}

void pp_api_pod_patch_status(struct pp_api *api, struct pp_api_conn *conn,
			     const struct pp_http_req *req, const char *ns, const char *name)
{
	const char *ctype = pp_http_req_header(req, "content-type");
	struct pod_rt *pr = pp_api_pod_find(api, ns, name);
	json_t *patch, *conds, *list, *c, *doc;
	bool merge_patch;
	char msg[400];
	size_t i;
	int rc = 0;

	if (!pr) {
		not_found(conn, name);
		return;
	}
	if (!ctype || (strncmp(ctype, "application/strategic-merge-patch+json", 38) &&
		       strncmp(ctype, "application/merge-patch+json", 28))) {
		snprintf(msg, sizeof(msg), "the server does not support patches of type %s",
			 ctype ? ctype : "(none)");
		pp_api_reply_status(conn, 415, "UnsupportedMediaType", msg, NULL, NULL);
		return;
	}
	merge_patch = !strncmp(ctype, "application/merge-patch+json", 28);
	patch = json_loadb(req->body, req->body_len, 0, NULL);
	conds = json_object_get(json_object_get(patch, "status"), "conditions");
	if (!json_is_object(patch) || (conds && !json_is_array(conds))) {
		json_decref(patch);
		pp_api_reply_status(conn, 400, "BadRequest",
				    "expected {\"status\":{\"conditions\":[...]}}", NULL, NULL);
		return;
	}
	/*
	 * A uid in the patch is a precondition (kubelet's PatchPodStatus sends one): another pod
	 * of the same name is a 409, as the apiserver's registry store answers
	 * (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go).
	 */
	{
		const char *uid = json_string_value(
			json_object_get(json_object_get(patch, "metadata"), "uid"));

		if (uid && *uid && strcmp(uid, pr->st.uid)) {
			snprintf(msg, sizeof(msg),
				 "Precondition failed: UID in precondition: %.64s, UID in object "
				 "meta: %s",
				 uid, pr->st.uid);
			json_decref(patch);
			pp_api_reply_status(conn, 409, "Conflict", msg, name, "pods");
			return;
		}
	}
	/* A merge patch replaces the list; a strategic one merges it by type. */
	list = merge_patch || !pr->ext_conds ? json_array() : json_deep_copy(pr->ext_conds);
	json_array_foreach(conds, i, c)
	{
		if (!list || (rc = merge_condition(list, c, pp_clock_wall())) < 0)
			break;
	}
	json_decref(patch);
	if (!list || rc < 0) {
		json_decref(list);
		snprintf(msg, sizeof(msg),
			 "Pod \"%s\" is invalid: status.conditions: Invalid value: each needs a "
			 "type "
			 "and a status of True, False or Unknown",
			 name);
		pp_api_reply_status(conn, 422, "Invalid", msg, name, "Pod");
		return;
	}
	json_decref(pr->ext_conds);
	pr->ext_conds = list;
	pp_sup_pod_touch(pr);
	doc = pp_api_pod_json(api, pr);
	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, 200, NULL, NULL, doc);
}
