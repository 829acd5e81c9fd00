// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`'s plain-HTTP answers (served by watch_http.c): the probe proxy
 * (GET /probe/NS/POD/CONTAINER/KIND: podprobe's latest verdict as 200 or 503, with its age),
 * /metrics and /healthz, on --probe-proxy-addr and --metrics-addr.
 */
#include "watch_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/clock.h"
#include "podprobe/watch_pod.h"

/* Chains of proxied probes longer than this are a loop (a probe that asks itself). */
#define MAX_HOPS 8

static const struct wcont *find_cont(struct pp_watch *w, const char *ns, const char *pod,
				     const char *container)
{
	for (size_t i = 0; i < w->n_pods; i++) {
		struct wpod *p = w->pods[i];

		if (strcmp(p->wp->namespace, ns) || strcmp(p->wp->name, pod))
			continue;
		for (size_t j = 0; j < p->wp->n_containers; j++)
			if (!strcmp(p->wp->containers[j].name, container))
				return &p->c[j];
	}
	return NULL;
}

static void set_body(struct pp_watch_reply *rep, const char *text)
{
	rep->body = strdup(text);
	rep->body_len = rep->body ? strlen(rep->body) : 0;
}

/*
 * The answer for probe <kind> of <container> in <ns>/<pod>: its latest verdict; for a pod's
 * probe that asks the proxy itself (not run), the answer of the path its URL names, which is
 * what kubelet running that probe would get.
 */
static void answer(struct pp_watch *w, const char *ns, const char *pod, const char *container,
		   enum pp_probe_kind kind, struct pp_watch_reply *rep)
{
	const struct pp_watch_proxy_ref *ref = NULL;
	const struct wcont *c;
	const struct wprobe *p;
	char body[160];
	size_t len;

	for (int hop = 0;; hop++) {
		c = find_cont(w, ns, pod, container);
		p = c ? c->probes[kind] : NULL;
		if (p)
			break;
		if (!c || !c->proxied[kind]) {
			rep->status = 404;
			set_body(rep, "no such pod, container or probe\n");
			return;
		}
		ref = c->proxied[kind];
		if (!ref->named || hop == MAX_HOPS) {
			rep->status = 503;
			set_body(rep, !ref->named
					      ? "the probe asks the probe proxy for a path it "
						"does not serve\n"
					      : "the probe asks the probe proxy about itself\n");
			return;
		}
		ns = ref->ns;
		pod = ref->pod;
		container = ref->container;
		kind = ref->kind;
	}
	rep->status = p->has_verdict && p->ok ? 200 : 503;
	len = 0;
	if (p->has_verdict)
		len = (size_t)snprintf(
			rep->extra, sizeof(rep->extra), "X-Podprobe-Verdict-Age: %llu\r\n",
			(unsigned long long)((pp_clock_now() - p->seen) / PP_NSEC_PER_MSEC));
	/* Whose verdict it is, when the probe asked is one podprobe does not run. */
	if (ref) {
		char of[sizeof(rep->extra)];
		int n = snprintf(of, sizeof(of), "X-Podprobe-Verdict-Of: %s/%s/%s/%s\r\n", ns, pod,
				 container, pp_watch_kind_str(kind));

		if (n > 0 && len + (size_t)n < sizeof(rep->extra))
			memcpy(rep->extra + len, of, (size_t)n + 1);
	}
	snprintf(body, sizeof(body), "%s\n",
		 !p->has_verdict ? "no verdict yet"
		 : p->ok	 ? "success"
				 : "failure");
	set_body(rep, body);
}

static void on_http(void *ctx, const struct pp_http_req *req, struct pp_watch_reply *rep)
{
	struct pp_watch *w = ctx;
	char ns[256], pod[256], container[256];
	enum pp_probe_kind kind;
	int rc;

	if (!strcmp(req->path, "/metrics")) {
		pp_watch_metrics_reply(w, rep);
		return;
	}
	if (!strcmp(req->path, "/healthz")) {
		rep->status = 200;
		set_body(rep, "ok\n");
		return;
	}
	rc = pp_watch_proxy_path(req->path, ns, pod, container, sizeof(ns), &kind);
	if (rc < 0) {
		rep->status = 404;
		set_body(rep, "not found\n");
		return;
	}
	answer(w, ns, pod, container, kind, rep);
}

int pp_watch_serve_setup(struct pp_watch *w)
{
	char err[256];
	int port, rc;

	if (w->cfg->probe_proxy_addr) {
		rc = pp_watch_http_new(w->loop, w->cfg->probe_proxy_addr, on_http, w, &w->proxy,
				       &port, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "podprobe watch: --probe-proxy-addr: %s\n", err);
			return rc;
		}
		w->proxy_port = port;
		fprintf(stderr, "podprobe watch: probe proxy listening on %.*s:%d\n",
			(int)(strrchr(w->cfg->probe_proxy_addr, ':') - w->cfg->probe_proxy_addr),
			w->cfg->probe_proxy_addr, port);
	}
	if (w->cfg->metrics_addr) {
		rc = pp_watch_http_new(w->loop, w->cfg->metrics_addr, on_http, w, &w->metrics_http,
				       &port, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "podprobe watch: --metrics-addr: %s\n", err);
			return rc;
		}
		w->metrics_port = port;
		fprintf(stderr, "podprobe watch: metrics listening on %.*s:%d\n",
			(int)(strrchr(w->cfg->metrics_addr, ':') - w->cfg->metrics_addr),
			w->cfg->metrics_addr, port);
	}
	return 0;
}
