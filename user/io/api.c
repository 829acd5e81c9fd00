// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes API of `podprobe run`: starts the HTTPS listener (self-signed certificate,
 * bearer token, kubeconfig) and the unix socket, and routes each request to its resource. What
 * kubectl 1.32 sends and expects is in README.md ("kubectl against podprobe").
 */
#include "api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/api_discovery.h"
#include "podprobe/api_tls.h"
#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/metrics.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"
#include "podprobe/signals.h"

#define NOT_FOUND_MSG "the server could not find the requested resource"

void pp_api_clock(pp_nsec *ret_mono, pp_wall_ns *ret_wall)
{
	*ret_mono = pp_clock_now();
	*ret_wall = pp_clock_wall();
}

/* ---- query parameters -------------------------------------------------------------------- */

/* Field names the apiserver supports in pod field selectors (pkg/registry/core/pod/strategy.go
 * ToSelectableFields) and in event ones (pkg/registry/core/event/strategy.go). */
static const char *const pod_fields[] = {
	"metadata.name",
	"metadata.namespace",
	"spec.nodeName",
	"spec.restartPolicy",
	"spec.schedulerName",
	"spec.serviceAccountName",
	"spec.hostNetwork",
	"status.phase",
	"status.podIP",
	"status.podIPs",
	"status.nominatedNodeName",
	NULL,
};

static int bad_request(struct pp_api_conn *conn, const char *msg)
{
	pp_api_reply_status(conn, 400, "BadRequest", msg, NULL, NULL);
	return -EINVAL;
}

int pp_api_query_parse(struct pp_api_conn *conn, const struct pp_http_req *req, enum api_kind kind,
		       const char *ns, struct api_query *ret)
{
	const char *accept = pp_http_req_header(req, "accept");
	struct api_query q = {.kind = kind, .until = PP_NSEC_INFINITY};
	char buf[4096], err[512], msg[700];
	int n;

	if (ns) {
		snprintf(q.ns_buf, sizeof(q.ns_buf), "%s", ns);
		q.ns = q.ns_buf;
	}
	q.table = accept && strstr(accept, "as=Table");
	n = pp_http_query_get(req->query, "includeObject", buf, sizeof(buf));
	if (n >= 0 && pp_include_object_parse(buf, &q.inc) < 0) {
		snprintf(msg, sizeof(msg), "includeObject: unsupported value \"%.64s\"", buf);
		return bad_request(conn, msg);
	}
	n = pp_http_query_get(req->query, "watch", buf, sizeof(buf));
	q.watch = n >= 0 && (!strcmp(buf, "true") || !strcmp(buf, "1") || !*buf);
	n = pp_http_query_get(req->query, "resourceVersion", buf, sizeof(buf));
	if (n > 0 && strcmp(buf, "0")) {
		char *end;

		errno = 0;
		q.rv = strtoull(buf, &end, 10);
		if (errno || *end)
			return bad_request(conn, "resourceVersion: invalid value");
		q.has_rv = true;
	}
	n = pp_http_query_get(req->query, "timeoutSeconds", buf, sizeof(buf));
	if (n > 0) {
		long t = strtol(buf, NULL, 10);

		if (t > 0)
			q.until = pp_clock_now() + (pp_nsec)t * PP_NSEC_PER_SEC;
	}
	/* Chunked lists (apiserver's limit/continue): kubectl asks for 500 at a time. */
	n = pp_http_query_get(req->query, "limit", buf, sizeof(buf));
	if (n > 0)
		q.limit = strtoul(buf, NULL, 10);
	n = pp_http_query_get(req->query, "continue", buf, sizeof(buf));
	if (n > 0) {
		char *end = buf;

		errno = 0;
		if (!strncmp(buf, PP_API_CONTINUE, strlen(PP_API_CONTINUE)))
			q.cont = strtoull(buf + strlen(PP_API_CONTINUE), &end, 10);
		if (!q.cont || errno || *end)
			return bad_request(conn, "continue: invalid value (it is only good for "
						 "the list it came from)");
	}
	n = pp_http_query_get(req->query, "labelSelector", buf, sizeof(buf));
	if (n == -ENOSPC)
		return bad_request(conn, "labelSelector: too long");
	if (n > 0 && pp_selector_parse_labels(buf, &q.labels, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "unable to parse requirement: %s", err);
		return bad_request(conn, msg);
	}
	n = pp_http_query_get(req->query, "fieldSelector", buf, sizeof(buf));
	if (n == -ENOSPC) {
		pp_api_query_fini(&q);
		return bad_request(conn, "fieldSelector: too long");
	}
	if (n > 0 && pp_selector_parse_fields(buf, kind == API_PODS ? pod_fields : pp_event_fields,
					      &q.fields, err, sizeof(err)) < 0) {
		pp_api_query_fini(&q);
		return bad_request(conn, err);
	}
	*ret = q;
	if (ns)
		ret->ns = ret->ns_buf; /* the copy's own buffer, not this frame's */
	return 0;
}

int pp_api_set_continue(json_t *list, uint64_t next)
{
	char tok[40];

	snprintf(tok, sizeof(tok), PP_API_CONTINUE "%llu", (unsigned long long)next);
	return json_object_set_new(json_object_get(list, "metadata"), "continue", json_string(tok));
}

void pp_api_query_fini(struct api_query *q)
{
	pp_selector_free(q->labels);
	pp_selector_free(q->fields);
	q->labels = q->fields = NULL;
}

/* ---- fixed documents --------------------------------------------------------------------- */

static void reply_doc(struct pp_api_conn *conn, json_t *doc, const char *ctype)
{
	if (!doc) {
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	pp_api_reply_json(conn, 200, ctype, NULL, doc);
}

/* The "kind" label of podprobe_kernel_events_total, by enum pp_ksig_kind. */
static const char *const ksig_names[_PP_KSIG_MAX] = {
	[PP_KSIG_EXIT] = "exit",	 [PP_KSIG_OOM] = "oom",		[PP_KSIG_LISTEN] = "listen",
	[PP_KSIG_UNLISTEN] = "unlisten", [PP_KSIG_ACCEPTS] = "accepts",
};

/*
 * The node's families after kubelet's prober ones: kubelet's running pods and containers
 * (pkg/kubelet/metrics/metrics.go RunningPodCount, RunningContainerCount), restarts, and
 * podprobe's own (API, kernel signals, probe scheduling, start to first readiness).
 */
static void node_metrics(struct pp_api *api, struct pp_prom_buf *b)
{
	struct pp_supervisor *sup = api->sup;
	const struct pp_probe_runner_stats *rs = pp_probe_runner_stats(sup->runner);
	const struct pp_prober_stats *ps = pp_prober_stats(pp_probe_runner_prober(sup->runner));
	struct pp_signals_stats ks = {0};
	uint64_t states[4] = {0}, pods = 0;
	static const char *const state_names[4] = {"created", "exited", "running", "unknown"};

	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (!pr || pr->gone || pr->waiting)
			continue;
		pods += !pr->st.terminal;
		for (size_t j = 0; j < pr->st.n; j++) {
			const struct pp_container_state *c = &pr->st.c[j];

			if (c->state == PP_CSTATE_RUNNING)
				states[2]++;
			else if (c->state == PP_CSTATE_TERMINATED || c->instance)
				states[1]++;
			else
				states[0]++;
		}
	}
	pp_prom_family(b, "kubelet_running_containers", "gauge",
		       "[ALPHA] Number of containers currently running");
	for (size_t i = 0; i < 4; i++)
		pp_prom_add(b, "kubelet_running_containers{container_state=\"%s\"} %llu\n",
			    state_names[i], (unsigned long long)states[i]);
	pp_prom_family(b, "kubelet_running_pods", "gauge",
		       "[ALPHA] Number of pods that have a running pod sandbox");
	pp_prom_add(b, "kubelet_running_pods %llu\n", (unsigned long long)pods);

	pp_prom_family(b, "podprobe_api_requests_total", "counter", "API requests served.");
	pp_prom_add(b, "podprobe_api_requests_total %llu\n", (unsigned long long)api->requests);
	pp_prom_family(b, "podprobe_api_watches", "gauge", "Watch streams open.");
	pp_prom_add(b, "podprobe_api_watches %zu\n", api->n_watches);

	pp_prom_family(b, "podprobe_container_restarts_total", "counter",
		       "Restarts of each container, as its restartCount.");
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		for (size_t j = 0; pr && !pr->gone && !pr->waiting && j < pr->st.n; j++) {
			pp_prom_add(b, "podprobe_container_restarts_total{");
			pp_prom_label(b, "container", pp_pod_container(pr->spec, j)->name, false);
			pp_prom_label(b, "namespace", pr->spec->namespace, true);
			pp_prom_label(b, "pod", pr->spec->name, true);
			pp_prom_add(b, "} %u\n", pr->st.c[j].restart_count);
		}
	}

	pp_prom_family(b, "podprobe_first_readiness_seconds", "histogram",
		       "Time from a container's start to its first successful readiness probe.");
	pp_prom_hist_write(b, "podprobe_first_readiness_seconds", NULL, &sup->first_ready);

	if (sup->bpf) {
		pp_signals_stats(sup->bpf, &ks);
		pp_prom_family(b, "podprobe_kernel_event_latency_seconds", "histogram",
			       "Time from the kernel recording an event (eBPF) to podprobe having "
			       "acted on it.");
		for (size_t k = 0; k < _PP_KSIG_MAX; k++) {
			char labels[32];

			snprintf(labels, sizeof(labels), "kind=\"%s\"", ksig_names[k]);
			pp_prom_hist_write(b, "podprobe_kernel_event_latency_seconds", labels,
					   &sup->ksig_latency[k]);
		}
		pp_prom_family(b, "podprobe_kernel_events_lost_total", "counter",
			       "Kernel events dropped on a full ring buffer.");
		pp_prom_add(b, "podprobe_kernel_events_lost_total %llu\n",
			    (unsigned long long)ks.lost);
		pp_prom_family(b, "podprobe_kernel_events_total", "counter",
			       "Kernel events (eBPF) podprobe handled, by kind.");
		for (size_t k = 0; k < _PP_KSIG_MAX; k++)
			pp_prom_add(b, "podprobe_kernel_events_total{kind=\"%s\"} %llu\n",
				    ksig_names[k], (unsigned long long)sup->ksig_latency[k].count);
	}

	pp_prom_family(b, "podprobe_loop_lag_seconds", "histogram",
		       "How late the event loop woke up for a deadline (probes, timers).");
	pp_prom_hist_write(b, "podprobe_loop_lag_seconds", NULL, &sup->loop_lag);

	pp_prom_family(b, "podprobe_probes_in_flight", "gauge", "Probe attempts running now.");
	pp_prom_add(b, "podprobe_probes_in_flight %u\n", ps->in_flight);
	pp_prom_family(b, "podprobe_probes_late_total", "counter",
		       "Probe attempts that started more than a tenth of their period late.");
	pp_prom_add(b, "podprobe_probes_late_total %llu\n", (unsigned long long)rs->late);
	pp_prom_family(b, "podprobe_probes_started_total", "counter", "Probe attempts started.");
	pp_prom_add(b, "podprobe_probes_started_total %llu\n", (unsigned long long)rs->attempts);
}

static void serve_metrics(struct pp_api *api, struct pp_api_conn *conn)
{
	struct pp_prom_buf b = {0};
	char *buf = NULL, *all = NULL;
	size_t len = 0, own_len = 0;

	node_metrics(api, &b);
	if (pp_prom_take(&b, &all, &own_len) < 0 ||
	    pp_metrics_write(&api->sup->metrics, &buf, &len) < 0) {
		free(all);
		pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	/* kubelet's prober families first (as before), then the node's. */
	{
		char *joined = realloc(buf, len + own_len + 1);

		if (!joined) {
			free(buf);
			free(all);
			pp_api_reply_status(conn, 500, "InternalError", "out of memory", NULL,
					    NULL);
			return;
		}
		memcpy(joined + len, all, own_len + 1);
		free(all);
		all = joined;
	}
	pp_api_reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, all,
		     len + own_len);
	free(all);
}

/* ---- routing ----------------------------------------------------------------------------- */

/* Split <path> ("/api/v1/namespaces/x/pods") into at most <max> decoded segments. */
static int split_path(const char *path, char seg[][254], int max)
{
	int n = 0;

	if (*path != '/')
		return -EINVAL;
	while (*path == '/') {
		const char *s = ++path, *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (!len && !e)
			break; /* a trailing slash */
		if (n == max || pp_http_unescape(s, len, seg[n], sizeof(seg[0])) < 0 || !len)
			return -EINVAL;
		n++;
		path = s + len;
	}
	return n;
}

static void method_not_allowed(struct pp_api_conn *conn, const struct pp_http_req *req)
{
	char msg[128];

	snprintf(msg, sizeof(msg),
		 "the server does not allow this method on the requested "
		 "resource");
	pp_api_reply_status(conn, 405, "MethodNotAllowed", msg, NULL, NULL);
	(void)req;
}

static void route_pods(struct pp_api *api, struct pp_api_conn *conn, const struct pp_http_req *req,
		       const char *ns, const char *name, const char *sub)
{
	enum pp_http_method m = req->method;

	if (!name) {
		if (m == PP_HTTP_GET)
			pp_api_pods_list(api, conn, req, ns);
		else if (m == PP_HTTP_POST && ns)
			pp_api_pods_create(api, conn, req, ns);
		else
			method_not_allowed(conn, req);
	} else if (!sub) {
		if (m == PP_HTTP_GET)
			pp_api_pod_get(api, conn, req, ns, name);
		else if (m == PP_HTTP_PATCH)
			pp_api_pod_patch(api, conn, req, ns, name);
		else if (m == PP_HTTP_DELETE)
			pp_api_pod_delete(api, conn, req, ns, name);
		else
			method_not_allowed(conn, req);
	} else if (!strcmp(sub, "log") && m == PP_HTTP_GET) {
		pp_api_pod_log(api, conn, req, ns, name);
	} else if (!strcmp(sub, "status") && m == PP_HTTP_GET) {
		pp_api_pod_get(api, conn, req, ns, name);
	} else if (!strcmp(sub, "status") && m == PP_HTTP_PATCH) {
		pp_api_pod_patch_status(api, conn, req, ns, name);
	} else {
		pp_api_reply_status(conn, 404, "NotFound", NOT_FOUND_MSG, NULL, NULL);
	}
}

static void handle(void *ctx, struct pp_api_conn *conn, const struct pp_http_req *req)
{
	struct pp_api *api = ctx;
	const char *accept = pp_http_req_header(req, "accept");
	bool aggregated = accept && strstr(accept, "as=APIGroupDiscoveryList");
	char seg[8][254];
	int n = split_path(req->path, seg, 8);

	api->requests++;
	if (n < 0) {
		pp_api_reply_status(conn, 404, "NotFound", NOT_FOUND_MSG, NULL, NULL);
		return;
	}
	if (n == 1 &&
	    (!strcmp(seg[0], "healthz") || !strcmp(seg[0], "livez") || !strcmp(seg[0], "readyz"))) {
		pp_api_reply(conn, 200, "text/plain; charset=utf-8", NULL, "ok", 2);
		return;
	}
	if (n == 1 && !strcmp(seg[0], "version")) {
		reply_doc(conn, pp_api_version_doc(api->build_date), NULL);
		return;
	}
	if (n == 1 && !strcmp(seg[0], "metrics")) {
		serve_metrics(api, conn);
		return;
	}
	if (n == 1 && !strcmp(seg[0], "api")) {
		reply_doc(conn, pp_api_core_doc(aggregated, api->server_addr),
			  aggregated ? PP_API_AGGREGATED_CTYPE : NULL);
		return;
	}
	if (n == 1 && !strcmp(seg[0], "apis")) {
		reply_doc(conn, pp_api_groups_doc(aggregated),
			  aggregated ? PP_API_AGGREGATED_CTYPE : NULL);
		return;
	}
	if (n == 2 && !strcmp(seg[0], "openapi") && !strcmp(seg[1], "v3")) {
		reply_doc(conn, pp_api_openapi_root(), NULL);
		return;
	}
	if (n == 4 && !strcmp(seg[0], "openapi") && !strcmp(seg[1], "v3") &&
	    !strcmp(seg[2], "api") && !strcmp(seg[3], "v1")) {
		reply_doc(conn, pp_api_openapi_v1(), NULL);
		return;
	}
	if (n < 2 || strcmp(seg[0], "api") || strcmp(seg[1], "v1")) {
		pp_api_reply_status(conn, 404, "NotFound", NOT_FOUND_MSG, NULL, NULL);
		return;
	}
	if (n == 2) {
		reply_doc(conn, pp_api_v1_doc(), NULL);
		return;
	}
	/* /api/v1/pods, /api/v1/events: every namespace. */
	if (n == 3 && !strcmp(seg[2], "pods")) {
		route_pods(api, conn, req, NULL, NULL, NULL);
		return;
	}
	if (n == 3 && !strcmp(seg[2], "events") && req->method == PP_HTTP_GET) {
		pp_api_events_list(api, conn, req, NULL);
		return;
	}
	/* /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]] */
	if (n >= 5 && n <= 7 && !strcmp(seg[2], "namespaces")) {
		const char *ns = seg[3];

		if (!strcmp(seg[4], "pods")) {
			route_pods(api, conn, req, ns, n > 5 ? seg[5] : NULL,
				   n > 6 ? seg[6] : NULL);
			return;
		}
		if (!strcmp(seg[4], "events") && n == 5 && req->method == PP_HTTP_GET) {
			pp_api_events_list(api, conn, req, ns);
			return;
		}
		if (!strcmp(seg[4], "events") && n == 5 && req->method == PP_HTTP_POST) {
			pp_api_events_create(api, conn, req, ns);
			return;
		}
		if (!strcmp(seg[4], "events") && n == 6 &&
		    (req->method == PP_HTTP_GET || req->method == PP_HTTP_PATCH)) {
			pp_api_event_one(api, conn, req, ns, seg[5]);
			return;
		}
	}
	pp_api_reply_status(conn, 404, "NotFound", NOT_FOUND_MSG, NULL, NULL);
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* "127.0.0.1:10443" -> the host part, for the certificate and the kubeconfig URL. */
static void addr_host(const char *addr, char *buf, size_t size)
{
	const char *colon = strrchr(addr, ':');
	size_t len = colon ? (size_t)(colon - addr) : strlen(addr);

	if (len && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	snprintf(buf, size, "%.*s", (int)len, addr);
}

int pp_api_start(struct pp_supervisor *sup)
{
	const struct pp_supervisor_cfg *cfg = sup->cfg;
	struct pp_api_server_cfg scfg = {0};
	char host[64], url[128], sock[PATH_MAX];
	const char *ips[1];
	struct pp_api *api;
	int dir_fd, err;

	if (!cfg->api_addr && !cfg->api_socket)
		return 0;
	/*
	 * resourceVersions never go back across a restart: a watcher of the previous run resuming
	 * from its last version must not miss what changed (it gets 410 and re-lists instead).
	 * They start from the wall clock in microseconds, above anything an earlier run gave out
	 * unless the clock went back.
	 */
	{
		uint64_t us = (uint64_t)pp_clock_wall() / 1000;

		if (sup->rv < us)
			sup->rv = us;
	}
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->sup = sup;
	api->watch_next = PP_NSEC_INFINITY;
	pp_api_time(pp_clock_wall(), false, api->build_date, sizeof(api->build_date));
	scfg.loop = sup->loop;
	scfg.handler = handle;
	scfg.ctx = api;
	if (cfg->api_addr) {
		addr_host(cfg->api_addr, host, sizeof(host));
		ips[0] = host;
		err = pp_api_tls_new(ips, 1, &api->tls);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "cannot make the API's TLS certificate");
			goto fail;
		}
		scfg.tcp_addr = cfg->api_addr;
		scfg.ssl = api->tls->ctx;
		scfg.token = api->tls->token;
	}
	if (cfg->api_socket) {
		snprintf(sock, sizeof(sock), "%s/api.sock", cfg->state_dir);
		scfg.unix_path = sock;
	}
	err = pp_api_server_new(&scfg, &api->server);
	if (err == -ENAMETOOLONG && scfg.unix_path) {
		/* A unix socket path has 108 bytes at most: the TCP API still serves. */
		pp_log(PP_LOG_WARN, "%s: path too long for a unix socket, not serving it", sock);
		scfg.unix_path = NULL;
		err = scfg.tcp_addr ? pp_api_server_new(&scfg, &api->server) : 0;
		if (!scfg.tcp_addr) {
			free(api);
			return 0;
		}
	}
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot serve the API on %s",
			     cfg->api_addr ? cfg->api_addr : sock);
		goto fail;
	}
	if (cfg->api_addr) {
		bool v6 = strchr(host, ':') != NULL;

		snprintf(api->server_addr, sizeof(api->server_addr), v6 ? "[%s]:%u" : "%s:%u", host,
			 pp_api_server_port(api->server));
		snprintf(url, sizeof(url), "https://%s", api->server_addr);
		snprintf(api->kubeconfig, sizeof(api->kubeconfig), "%s/kubeconfig", cfg->state_dir);
		dir_fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = dir_fd < 0 ? -errno
				 : pp_api_kubeconfig_write(dir_fd, "kubeconfig", url, api->tls);
		if (dir_fd >= 0)
			close(dir_fd);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "cannot write %s", api->kubeconfig);
			goto fail;
		}
		pp_log(PP_LOG_NOTICE, "API on %s: export KUBECONFIG=%s", url, api->kubeconfig);
	}
	sup->api = api;
	return 0;
fail:
	pp_api_server_free(api->server);
	pp_api_tls_free(api->tls);
	free(api);
	return err;
}

void pp_api_stop(struct pp_supervisor *sup)
{
	struct pp_api *api = sup->api;

	if (!api)
		return;
	pp_api_watch_fini(api);
	pp_api_logs_fini(api);
	pp_api_server_free(api->server);
	if (api->kubeconfig[0])
		unlink(api->kubeconfig);
	pp_api_tls_free(api->tls);
	for (size_t i = 0; i < api->tomb_len; i++) {
		json_decref(api->tomb[(api->tomb_head + i) % API_TOMBSTONES].pod);
		json_decref(api->tomb[(api->tomb_head + i) % API_TOMBSTONES].cells);
	}
	free(api);
	sup->api = NULL;
}

void pp_api_pod_flush(struct pod_rt *pr, pp_wall_ns wall)
{
	struct pp_api *api = pr->sup->api;

	pr->api_dirty = false;
	{
		struct pp_pod_view v;

		pp_sup_pod_view(pr, &v, pp_clock_now(), wall);
		pp_pod_conds_update_view(&pr->conds, &v, wall);
	}
	if (api && !pr->waiting) {
		pp_api_watch_pod(api, pr, pr->announced ? API_MODIFIED : API_ADDED);
		pr->announced = true;
	}
}

void pp_api_run(struct pp_supervisor *sup, pp_nsec now, bool sweep)
{
	struct pp_api *api = sup->api;
	pp_wall_ns wall = pp_clock_wall();

	for (size_t i = 0; sweep && i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (pr && pr->api_dirty)
			pp_api_pod_flush(pr, wall);
	}
	if (!api)
		return;
	pp_api_server_run(api->server, now);
	api->watch_next = pp_api_watch_expire(api, now);
}

pp_nsec pp_api_next(struct pp_supervisor *sup)
{
	pp_nsec a, b;

	if (!sup->api)
		return PP_NSEC_INFINITY;
	a = pp_api_server_next(sup->api->server);
	b = sup->api->watch_next;
	return a < b ? a : b;
}

void pp_api_pod_gone(struct pod_rt *pr)
{
	if (pr->sup->api && pr->announced)
		pp_api_watch_pod_gone(pr->sup->api, pr);
}

void pp_api_event_recorded(struct pp_supervisor *sup, const struct pp_event *ev, bool added)
{
	if (sup->api)
		pp_api_watch_event(sup->api, ev, added);
}

void pp_api_logs_changed(struct pp_supervisor *sup)
{
	if (sup->api && sup->api->follows)
		pp_api_logs_wake(sup->api, true);
}
