/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the Kubernetes API of `podprobe run`: api.c starts the server and routes requests;
 * api_pods.c, api_events.c and api_logs.c serve the resources; api_watch.c keeps the watches
 * and fans changes out to them. They read the supervisor's pods (supervisor_int.h).
 */
#ifndef PODPROBE_API_INT_H
#define PODPROBE_API_INT_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "podprobe/api_obj.h"
#include "podprobe/api_server.h"
#include "podprobe/http_req.h"
#include "podprobe/event_ring.h"
#include "podprobe/selector.h"

#include "supervisor_int.h"

enum api_kind {
	API_PODS = 0,
	API_EVENTS,
	_API_KIND_MAX,
};

enum api_change {
	API_ADDED = 0,
	API_MODIFIED,
	API_DELETED,
	_API_CHANGE_MAX,
};

/* What a list or watch request asks for. */
struct api_query {
	enum api_kind kind;
	const char *ns; /* NULL = every namespace, else ns_buf (fix it up in a copy) */
	char ns_buf[254];
	struct pp_selector *labels; /* NULL = everything */
	struct pp_selector *fields;
	bool table;		    /* Accept asked for as=Table */
	enum pp_include_object inc; /* includeObject */
	bool watch;
	bool has_rv;   /* resourceVersion given and not "0" */
	uint64_t rv;   /* ... its value */
	pp_nsec until; /* timeoutSeconds: the watch ends then; PP_NSEC_INFINITY none */
	size_t limit;  /* ?limit: items per page, 0 = all */
	uint64_t cont; /* ?continue: where this page starts (a slot + 1, an event's rv) */
};

/* A pod that is gone, kept a while so that a watch from an older resourceVersion sees it. */
struct api_tombstone {
	uint64_t rv;
	json_t *pod;   /* its last object */
	json_t *cells; /* ... and its Table row's cells */
};

#define API_TOMBSTONES 256

struct api_watch {
	struct pp_api *api;
	struct pp_api_conn *conn;
	struct api_query q;
	bool sent_defs; /* a Table watch sent its columnDefinitions */
	struct api_watch *prev, *next;
};

struct api_follow;
struct api_inotify;

struct pp_api {
	struct pp_supervisor *sup;
	struct pp_api_server *server;
	struct pp_api_tls *tls;
	char server_addr[80]; /* "127.0.0.1:10443" */
	char kubeconfig[PATH_MAX];
	char build_date[32];
	struct api_watch *watches;
	size_t n_watches;
	struct api_tombstone tomb[API_TOMBSTONES];
	size_t tomb_head, tomb_len;
	uint64_t oldest_rv; /* watches from before it get 410 Gone */
	struct api_follow *follows;
	struct api_inotify *ino; /* inotify of followed log files, NULL none */
	uint64_t requests;
	pp_nsec watch_next; /* the earliest timeoutSeconds of a watch */
};

/* api.c */
/* Parse the query of <req> for kind <kind> in namespace <ns>; on error it answered already. */
int pp_api_query_parse(struct pp_api_conn *conn, const struct pp_http_req *req, enum api_kind kind,
		       const char *ns, struct api_query *ret);
void pp_api_query_fini(struct api_query *q);
/* The continue token of a page that ends before <next> (a slot + 1, an event's rv): pp1-N. */
#define PP_API_CONTINUE "pp1-"
int pp_api_set_continue(json_t *list, uint64_t next);
/* The monotonic/wall clock pair of this moment (views convert times with it). */
void pp_api_clock(pp_nsec *ret_mono, pp_wall_ns *ret_wall);

/* api_pods.c */
void pp_api_pods_list(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns);
void pp_api_pods_create(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
			const char *ns);
void pp_api_pod_get(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		    const char *ns, const char *name);
void pp_api_pod_patch(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns, const char *name);
/* PATCH pods/NAME/status: conditions others own (readiness gates, KEP-580). */
void pp_api_pod_patch_status(struct pp_api *api, struct pp_api_conn *conn,
			     const struct pp_http_req *req, const char *ns, const char *name);
void pp_api_pod_delete(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		       const char *ns, const char *name);
/* The live pod <ns>/<name> (not one being replaced), or NULL. */
struct pod_rt *pp_api_pod_find(struct pp_api *api, const char *ns, const char *name);
/* <pr> as a Pod object (new reference), or NULL. */
json_t *pp_api_pod_json(struct pp_api *api, const struct pod_rt *pr);
bool pp_api_pod_matches(const struct pod_rt *pr, const struct api_query *q);
/* Table or PodList / Pod for <pods>. */
json_t *pp_api_pods_render(struct pp_api *api, struct pod_rt *const *pods, size_t n,
			   const struct api_query *q, bool with_defs, bool list);

/* api_events.c */
void pp_api_events_list(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
			const char *ns);
void pp_api_events_create(struct pp_api *api, struct pp_api_conn *conn,
			  const struct pp_http_req *req, const char *ns);
void pp_api_event_one(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		      const char *ns, const char *name);
bool pp_api_event_matches(const struct pp_event *e, const struct api_query *q);
json_t *pp_api_event_render(struct pp_api *api, const struct pp_event *e, const struct api_query *q,
			    bool with_defs);

/* api_logs.c */
void pp_api_pod_log(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		    const char *ns, const char *name);
/* Container <c> ended or wrote: followers catch up, and end when the instance is over. */
void pp_api_logs_wake(struct pp_api *api, bool all);
void pp_api_logs_fini(struct pp_api *api);

/* api_watch.c */
/* Start watch <q> (taken over) on <conn>; sends what happened after q->rv first. */
void pp_api_watch_start(struct pp_api *api, struct pp_api_conn *conn, struct api_query *q);
void pp_api_watch_pod(struct pp_api *api, struct pod_rt *pr, enum api_change change);
/* <pr> is gone (its rv says when): DELETED to the watches, and a tombstone for later ones. */
void pp_api_watch_pod_gone(struct pp_api *api, struct pod_rt *pr);
void pp_api_watch_event(struct pp_api *api, const struct pp_event *e, bool added);
/* Watches whose timeoutSeconds passed end; returns the next such deadline. */
pp_nsec pp_api_watch_expire(struct pp_api *api, pp_nsec now);
void pp_api_watch_fini(struct pp_api *api);

#endif
