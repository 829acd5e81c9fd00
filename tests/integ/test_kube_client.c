// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes API client (user/io/kube_*.c) on a real loop, in this process:
 * - against a real `podprobe run --api-addr=127.0.0.1:0`, through the kubeconfig it writes:
 *   the list delivers the run's pods between SYNC_BEGIN and SYNC_END, `kubectl delete` gives
 *   POD_DELETE, nothing is asked at steady state but the watch, condition patches show in
 *   `kubectl get pod -o jsonpath` (latency measured), a burst of 100 changes is coalesced,
 *   and a restarted run (--keep-pods, same state directory: new port, CA and token) is
 *   followed by reading the kubeconfig again and one re-list that delivers each pod once;
 * - against a small API server in this process (the project's own pp_api_server with a
 *   handler of the test's): an ERROR 410 on the watch forces a re-list, Events are posted and
 *   aggregated (POST then PATCH of count), a 409 on a patch drops it without retries, an
 *   exec-plugin kubeconfig is refused with the field's path.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "integ/support/integ.h"
#include "podprobe/api_server.h"
#include "podprobe/api_tls.h"
#include "podprobe/clock.h"
#include "podprobe/http_req.h"
#include "podprobe/kube_client.h"
#include "podprobe/loop.h"

#define KUBECTL "/usr/bin/kubectl"
#define GATE	"podprobe.io/ready"
#define MS	PP_NSEC_PER_MSEC

/* What the client delivered. */
struct seen {
	unsigned int begins, ends, upserts, deletes;
	unsigned int upserts_in_sync; /* since the last SYNC_BEGIN */
	bool in_sync;
	char sync_names[64][64]; /* pods delivered since the last SYNC_BEGIN */
	unsigned int n_sync, dup_in_sync;
	char deleted[64];
	char uid[64][64]; /* by sync_names index */
	unsigned int logs;
	char last_log[512];
};

struct h {
	struct pp_loop *loop;
	struct pp_kube_client *kc;
	struct pp_api_server *srv; /* the fake, when used */
	struct seen s;
	char kubeconfig[400];
	char cache[400];
	char out[65536];
	struct t_run r;
	char node[256];
};

static struct h H;

static void on_pod(void *ctx, enum pp_kube_pod_event ev, json_t *pod)
{
	struct seen *s = &((struct h *)ctx)->s;
	json_t *meta = json_object_get(pod, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));

	switch (ev) {
	case PP_KUBE_SYNC_BEGIN:
		assert_null(pod);
		s->begins++;
		s->in_sync = true;
		s->n_sync = s->upserts_in_sync = 0;
		break;
	case PP_KUBE_SYNC_END:
		assert_null(pod);
		assert_true(s->in_sync);
		s->ends++;
		s->in_sync = false;
		break;
	case PP_KUBE_POD_UPSERT:
		assert_non_null(name);
		assert_string_equal(json_string_value(json_object_get(pod, "kind")), "Pod");
		s->upserts++;
		if (s->in_sync) {
			s->upserts_in_sync++;
			for (unsigned int i = 0; i < s->n_sync; i++)
				if (!strcmp(s->sync_names[i], name))
					s->dup_in_sync++;
			if (s->n_sync < 64) {
				snprintf(s->sync_names[s->n_sync], 64, "%s", name);
				snprintf(s->uid[s->n_sync], 64, "%s", uid ? uid : "");
				s->n_sync++;
			}
		}
		break;
	case PP_KUBE_POD_DELETE:
		s->deletes++;
		snprintf(s->deleted, sizeof(s->deleted), "%s", name ? name : "");
		break;
	}
}

static void on_log(void *ctx, bool error, const char *msg)
{
	struct seen *s = &((struct h *)ctx)->s;

	s->logs++;
	snprintf(s->last_log, sizeof(s->last_log), "%s", msg);
	if (getenv("T_KUBE_VERBOSE"))
		print_message("  kube %s: %s\n", error ? "error" : "info", msg);
}

/* Turn the loop until <cond> holds (checked after every turn); fails after <timeout_ms>. */
static void spin(bool (*cond)(void), int timeout_ms, const char *what)
{
	pp_nsec end = pp_clock_now() + (pp_nsec)timeout_ms * MS;

	while (!cond()) {
		pp_nsec now = pp_clock_now(), dl = pp_kube_client_next(H.kc);

		if (now >= end)
			fail_msg("timed out after %d ms waiting for %s (last log: %s)", timeout_ms,
				 what, H.s.last_log);
		if (H.srv && pp_api_server_next(H.srv) < dl)
			dl = pp_api_server_next(H.srv);
		if (dl > now + 20 * MS)
			dl = now + 20 * MS;
		pp_loop_run_once(H.loop, dl);
		now = pp_clock_now();
		pp_api_server_run(H.srv, now);
		pp_kube_client_run(H.kc, now);
	}
}

/* Turn the loop for <ms> whatever happens. */
static bool never(void)
{
	return false;
}

static void spin_for(int ms)
{
	pp_nsec end = pp_clock_now() + (pp_nsec)ms * MS;

	while (pp_clock_now() < end) {
		pp_nsec dl = pp_kube_client_next(H.kc);

		if (dl > end)
			dl = end;
		pp_loop_run_once(H.loop, dl);
		pp_api_server_run(H.srv, pp_clock_now());
		pp_kube_client_run(H.kc, pp_clock_now());
	}
	(void)never;
}

static unsigned int want_ends;
static bool synced(void)
{
	return H.s.ends >= want_ends && pp_kube_client_stats(H.kc)->synced;
}

static void new_client(const char *kubeconfig, pp_nsec gap)
{
	struct pp_kube_client_cfg cfg = {
		.kubeconfig = kubeconfig,
		.node = H.node,
		.patch_min_interval = gap,
		.on_pod = on_pod,
		.on_log = on_log,
		.ctx = &H,
	};
	char err[512];

	assert_int_equal(pp_kube_client_new(H.loop, &cfg, &H.kc, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	memset(&H, 0, sizeof(H));
	if (gethostname(H.node, sizeof(H.node) - 1) < 0 || !H.node[0])
		snprintf(H.node, sizeof(H.node), "podprobe");
	if (pp_loop_new(256, &H.loop) < 0) {
		print_message("no io_uring: skipped\n");
		skip();
	}
	return t_setup(state);
}

static int teardown(void **state)
{
	pp_kube_client_free(H.kc);
	H.kc = NULL;
	pp_api_server_free(H.srv);
	H.srv = NULL;
	pp_loop_free(H.loop);
	H.loop = NULL;
	return t_teardown(state);
}

/* ---- against `podprobe run` ------------------------------------------------------------- */

static const char pods_yaml[] = "apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: alpha}\n"
				"spec:\n"
				"  containers:\n"
				"  - {name: c, image: busybox, command: [sleep, '300']}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: beta}\n"
				"spec:\n"
				"  terminationGracePeriodSeconds: 1\n"
				"  containers:\n"
				"  - {name: c, image: busybox, command: [sleep, '300']}\n"
				"---\n"
				"apiVersion: v1\n"
				"kind: Pod\n"
				"metadata: {name: gated}\n"
				"spec:\n"
				"  readinessGates:\n"
				"  - conditionType: " GATE "\n"
				"  containers:\n"
				"  - {name: c, image: busybox, command: [sleep, '300']}\n";

static int kubectl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int kubectl(const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "timeout 40 " KUBECTL " --kubeconfig %s --cache-dir %s %s 2>&1",
		 H.kubeconfig, H.cache, args);
	return t_system(cmd, H.out, sizeof(H.out));
}

static void start_run(bool keep)
{
	const char *argv[4];
	char path[512];
	size_t n = 0;

	if (!H.r.dir[0]) {
		t_run_init(&H.r);
		snprintf(path, sizeof(path), "%s", t_write_manifest(&H.r, "pods.yaml", pods_yaml));
	} else {
		snprintf(path, sizeof(path), "%s/pods.yaml", H.r.dir);
	}
	argv[n++] = "--api-addr=127.0.0.1:0";
	if (keep)
		argv[n++] = "--keep-pods";
	argv[n++] = path;
	argv[n] = NULL;
	t_run_start(&H.r, argv);
	snprintf(H.kubeconfig, sizeof(H.kubeconfig), "%s/kubeconfig", H.r.state_dir);
	snprintf(H.cache, sizeof(H.cache), "%s/kcache", H.r.dir);
	t_wait_file(H.kubeconfig, 10000);
}

static int sync_index(const char *name)
{
	for (unsigned int i = 0; i < H.s.n_sync; i++)
		if (!strcmp(H.s.sync_names[i], name))
			return (int)i;
	return -1;
}

static bool got_delete(void)
{
	return H.s.deletes > 0;
}

static void test_list_watch_delete(void **state)
{
	const struct pp_kube_client_stats *st;
	uint64_t req;

	(void)state;
	if (access(KUBECTL, X_OK) != 0) {
		print_message("kubectl is not installed at " KUBECTL ": skipped\n");
		skip();
	}
	start_run(false);
	new_client(H.kubeconfig, 0);
	want_ends = 1;
	spin(synced, 15000, "the first list");
	st = pp_kube_client_stats(H.kc);
	assert_int_equal(H.s.begins, 1);
	assert_int_equal(H.s.n_sync, 3);
	assert_int_equal(H.s.dup_in_sync, 0);
	assert_true(sync_index("alpha") >= 0 && sync_index("beta") >= 0 &&
		    sync_index("gated") >= 0);
	assert_int_equal(st->lists, 1);
	assert_int_equal(st->watches, 1);
	assert_int_equal(st->errors, 0);

	/* Steady state: nothing asked but the watch that is open. */
	req = st->requests;
	spin_for(3000);
	print_message("  requests in 3 s at steady state: %llu\n",
		      (unsigned long long)(st->requests - req));
	assert_int_equal(st->requests, req);

	assert_int_equal(kubectl("delete pod beta --wait=false"), 0);
	spin(got_delete, 20000, "POD_DELETE of beta");
	assert_string_equal(H.s.deleted, "beta");
	assert_int_equal(H.s.deletes, 1);
	assert_int_equal(st->lists, 1); /* no re-list for it */
	t_run_cleanup(&H.r);
}

static const struct pp_kube_client_stats *ST;
static uint64_t want_patches;
static bool patched(void)
{
	return ST->patches >= want_patches && !ST->patches_pending;
}
static bool idle(void)
{
	return !ST->patches_pending;
}

static int cmp_ns(const void *a, const void *b)
{
	pp_nsec x = *(const pp_nsec *)a, y = *(const pp_nsec *)b;

	return x < y ? -1 : x > y;
}

static const char *gate_status(void)
{
	assert_int_equal(kubectl("get pod gated -o jsonpath='{.status.conditions[?(@.type==\"" GATE
				 "\")].status}'"),
			 0);
	return H.out;
}

static void test_condition_patch(void **state)
{
	enum { TRIALS = 200 };
	pp_nsec lat[TRIALS];
	const char *uid;
	uint64_t reqs;
	int i;

	(void)state;
	if (access(KUBECTL, X_OK) != 0) {
		print_message("kubectl is not installed at " KUBECTL ": skipped\n");
		skip();
	}
	start_run(false);
	new_client(H.kubeconfig, 1 * MS);
	ST = pp_kube_client_stats(H.kc);
	want_ends = 1;
	spin(synced, 15000, "the first list");
	assert_true(sync_index("gated") >= 0);
	uid = H.s.uid[sync_index("gated")];
	assert_true(uid[0]);

	assert_int_equal(pp_kube_set_condition(H.kc, "default", "gated", uid, GATE, true,
					       "ProbeSucceeded", "all good"),
			 0);
	want_patches = 1;
	spin(patched, 10000, "the first patch");
	assert_string_equal(gate_status(), "True");
	assert_int_equal(kubectl("get pod gated -o jsonpath='{.status.conditions[?(@.type==\"" GATE
				 "\")].reason}'"),
			 0);
	assert_string_equal(H.out, "ProbeSucceeded");

	/* Latency: one change at a time, from the call to the 2xx answer. */
	for (i = 0; i < TRIALS; i++) {
		assert_int_equal(pp_kube_set_condition(H.kc, "default", "gated", uid, GATE, i & 1,
						       "Trial", NULL),
				 0);
		want_patches = ST->patches + 1;
		spin(patched, 10000, "a patch");
		lat[i] = ST->last_patch_latency;
	}
	qsort(lat, TRIALS, sizeof(lat[0]), cmp_ns);
	print_message("  patch latency against podprobe run: p50 %.2f ms, p99 %.2f ms (%d)\n",
		      (double)lat[TRIALS / 2] / 1e6, (double)lat[TRIALS * 99 / 100] / 1e6, TRIALS);
	assert_true(lat[TRIALS / 2] < 1000 * MS);

	/* A burst: only the latest value goes out, one patch in flight at a time. */
	reqs = ST->patch_requests;
	for (i = 0; i < 100; i++)
		assert_int_equal(pp_kube_set_condition(H.kc, "default", "gated", uid, GATE,
						       i % 2 == 0, "Burst", NULL),
				 0);
	spin(idle, 10000, "the burst to settle");
	print_message("  100 alternating set_condition calls: %llu patch requests\n",
		      (unsigned long long)(ST->patch_requests - reqs));
	assert_true(ST->patch_requests - reqs <= 3);
	assert_string_equal(gate_status(), "False"); /* i = 99: False */

	/* Another uid: the apiserver would answer 409 (or 404 for a gone pod); either drops. */
	t_run_cleanup(&H.r);
}

static bool relisted(void)
{
	return H.s.ends >= 2 && ST->synced;
}

static void test_restart_relist(void **state)
{
	char uids[3][64], old[65536];
	int fd;
	ssize_t n;

	(void)state;
	start_run(true);
	new_client(H.kubeconfig, 0);
	ST = pp_kube_client_stats(H.kc);
	want_ends = 1;
	spin(synced, 15000, "the first list");
	assert_int_equal(H.s.n_sync, 3);
	for (int i = 0; i < 3; i++)
		snprintf(uids[i], sizeof(uids[i]), "%s", H.s.uid[i]);
	fd = open(H.kubeconfig, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, old, sizeof(old) - 1);
	close(fd);
	assert_true(n > 0);

	/* Stop the run (its pods stay), start it again on the same state directory. */
	t_run_signal(&H.r, SIGTERM);
	assert_int_equal(t_run_wait_exit(&H.r, 20000), 0);
	spin_for(300); /* the client notices the stream is gone meanwhile */
	start_run(true);
	spin(relisted, 30000, "a re-list after the restart");
	assert_true(ST->config_reloads >= 1);
	assert_int_equal(ST->lists, 2);
	assert_int_equal(H.s.begins, 2);
	/* Each pod once in the new list, with its uid: adopted, not recreated. */
	assert_int_equal(H.s.dup_in_sync, 0);
	assert_int_equal(H.s.n_sync, 3);
	for (int i = 0; i < 3; i++) {
		bool found = false;

		for (unsigned int j = 0; j < H.s.n_sync; j++)
			found = found || !strcmp(uids[i], H.s.uid[j]);
		assert_true(found);
	}
	assert_int_equal(H.s.deletes, 0);
	t_run_signal(&H.r, SIGTERM); /* now without --keep-pods' survivors: cleanup kills all */
	t_run_cleanup(&H.r);
}

/* ---- against a small server in this process ---------------------------------------------- */

struct fake {
	unsigned int lists, pages2, watches, posts, event_patches, status_patches;
	char post_body[8][4096];
	char patch_path[8][512];
	char patch_body[8][512];
	struct pp_api_conn *watch;
	int status_reply; /* to PATCH pods/NAME/status */
	char cert_pem[8192], token[65], dir[64];
	char watch_query[4][512]; /* of watches 1..4 */
	unsigned int port;
};

static struct fake F;

static void fake_handler(void *ctx, struct pp_api_conn *conn, const struct pp_http_req *req)
{
	char w[16] = "";

	(void)ctx;
	if (req->method == PP_HTTP_GET && !strcmp(req->path, "/api/v1/pods")) {
		if (pp_http_query_get(req->query, "watch", w, sizeof(w)) >= 0 && w[0]) {
			if (F.watches < 4)
				snprintf(F.watch_query[F.watches], sizeof(F.watch_query[0]), "%s",
					 req->query);
			F.watches++;
			if (F.watches == 3) { /* the apiserver's other way of saying 410 */
				pp_api_reply_status(conn, 410, "Expired",
						    "too old resource version", NULL, NULL);
				return;
			}
			pp_api_stream_start(conn, 200, "application/json");
			if (F.watches == 1)
				pp_api_stream_json(
					conn,
					json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:i}}", "type",
						  "ERROR", "object", "kind", "Status", "apiVersion",
						  "v1", "status", "Failure", "message",
						  "too old resource version", "code", 410));
			F.watch = conn;
			return;
		}
		/* Two pages: web with a continue token, then db. */
		if (pp_http_query_get(req->query, "continue", w, sizeof(w)) > 0) {
			static const char *const rvs[] = {"5", "9", "20", "21"};

			F.pages2++;
			pp_api_reply_json(conn, 200, NULL, NULL,
					  json_pack("{s:s, s:s, s:{s:s}, s:[{s:{s:s, s:s, s:s}}]}",
						    "kind", "PodList", "apiVersion", "v1",
						    "metadata", "resourceVersion",
						    rvs[(F.lists - 1) & 3], "items", "metadata",
						    "name", "db", "namespace", "default", "uid",
						    "u-2"));
			return;
		}
		F.lists++;
		pp_api_reply_json(conn, 200, NULL, NULL,
				  json_pack("{s:s, s:s, s:{s:s, s:s}, s:[{s:{s:s, s:s, s:s}}]}",
					    "kind", "PodList", "apiVersion", "v1", "metadata",
					    "resourceVersion", "4", "continue", "c1", "items",
					    "metadata", "name", "web", "namespace", "default",
					    "uid", "u-1"));
		return;
	}
	if (req->method == PP_HTTP_POST &&
	    !strcmp(req->path, "/api/v1/namespaces/default/events")) {
		if (F.posts < 8)
			snprintf(F.post_body[F.posts], sizeof(F.post_body[0]), "%.*s",
				 (int)req->body_len, req->body);
		F.posts++;
		pp_api_reply(conn, 201, NULL, NULL, req->body, req->body_len);
		return;
	}
	if (req->method == PP_HTTP_PATCH &&
	    !strncmp(req->path, "/api/v1/namespaces/default/events/", 34)) {
		if (F.event_patches < 8) {
			snprintf(F.patch_path[F.event_patches], sizeof(F.patch_path[0]), "%s",
				 req->path);
			snprintf(F.patch_body[F.event_patches], sizeof(F.patch_body[0]), "%.*s",
				 (int)req->body_len, req->body);
		}
		F.event_patches++;
		pp_api_reply(conn, 200, NULL, NULL, "{}", 2);
		return;
	}
	if (req->method == PP_HTTP_PATCH &&
	    !strcmp(req->path, "/api/v1/namespaces/default/pods/web/status")) {
		F.status_patches++;
		pp_api_reply_status(conn, F.status_reply, "Conflict", "Precondition failed: UID",
				    "web", "pods");
		return;
	}
	pp_api_reply_status(conn, 404, "NotFound", "the server could not find it", NULL, NULL);
}

static void start_fake(void)
{
	char dir[] = "/tmp/t_kube_XXXXXX", url[64];
	struct pp_api_tls *tls;
	int dfd;

	memset(&F, 0, sizeof(F));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pp_api_tls_new(NULL, 0, &tls), 0);
	struct pp_api_server_cfg cfg = {
		.loop = H.loop,
		.tcp_addr = "127.0.0.1:0",
		.ssl = tls->ctx,
		.token = tls->token,
		.handler = fake_handler,
	};
	assert_int_equal(pp_api_server_new(&cfg, &H.srv), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", pp_api_server_port(H.srv));
	dfd = open(dir, O_DIRECTORY | O_RDONLY);
	assert_true(dfd >= 0);
	assert_int_equal(pp_api_kubeconfig_write(dfd, "kubeconfig", url, tls), 0);
	close(dfd);
	snprintf(H.kubeconfig, sizeof(H.kubeconfig), "%s/kubeconfig", dir);
	snprintf(F.cert_pem, sizeof(F.cert_pem), "%s", tls->cert_pem);
	snprintf(F.token, sizeof(F.token), "%s", tls->token);
	snprintf(F.dir, sizeof(F.dir), "%s", dir);
	F.port = pp_api_server_port(H.srv);
	pp_api_tls_free(tls); /* the server keeps its SSL_CTX reference */
}

static void stop_fake(void)
{
	char cmd[600];

	pp_kube_client_free(H.kc);
	H.kc = NULL;
	pp_api_server_free(H.srv);
	H.srv = NULL;
	snprintf(cmd, sizeof(cmd), "%s", H.kubeconfig);
	unlink(cmd);
	*strrchr(cmd, '/') = '\0';
	rmdir(cmd); /* fails while the test left more in it: removed by the caller then */
}

static bool two_lists(void)
{
	return H.s.ends >= 2 && F.watches >= 2 && ST->synced;
}

static bool four_watches(void)
{
	return F.watches >= 4 && ST->synced;
}

static bool events_done(void)
{
	return F.posts + F.event_patches >= 4 && ST->events_posted + ST->events_aggregated >= 4;
}

static bool status_dropped(void)
{
	return ST->patch_errors >= 1 && !ST->patches_pending;
}

static void test_fake_gone_events_conflict(void **state)
{
	json_t *ev;
	uint64_t reqs;

	(void)state;
	start_fake();
	new_client(H.kubeconfig, 0);
	ST = pp_kube_client_stats(H.kc);

	/* The first watch answers ERROR 410: a re-list at once, then a second watch. */
	spin(two_lists, 10000, "the re-list after 410");
	assert_int_equal(F.lists, 2);
	assert_int_equal(F.pages2, 2);
	assert_int_equal(ST->gone, 1);
	assert_int_equal(H.s.begins, 2);
	assert_int_equal(H.s.n_sync, 2); /* both pages in one sync */
	assert_int_equal(H.s.dup_in_sync, 0);
	assert_non_null(strstr(F.watch_query[0], "resourceVersion=5&"));
	assert_non_null(strstr(F.watch_query[1], "resourceVersion=9&"));
	assert_non_null(strstr(F.watch_query[1], "allowWatchBookmarks=true"));
	assert_non_null(strstr(F.watch_query[1], "fieldSelector=spec.nodeName%3D"));
	{
		const char *t = strstr(F.watch_query[1], "timeoutSeconds=");
		int secs = t ? atoi(t + 15) : 0;

		assert_true(secs >= 300 && secs <= 600);
	}

	/* A change and a bookmark move the resourceVersion; the stream's end is followed by a
	 * watch from there, without a re-list. */
	assert_non_null(F.watch);
	pp_api_stream_json(F.watch, json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s}}}", "type",
					      "MODIFIED", "object", "kind", "Pod", "apiVersion",
					      "v1", "metadata", "name", "web", "namespace",
					      "default", "uid", "u-1", "resourceVersion", "10"));
	pp_api_stream_json(F.watch, json_pack("{s:s, s:{s:s, s:s, s:{s:s}}}", "type", "BOOKMARK",
					      "object", "kind", "Pod", "apiVersion", "v1",
					      "metadata", "resourceVersion", "12"));
	pp_api_stream_end(F.watch);
	F.watch = NULL;
	/* That watch is answered 410 Gone: a re-list at once, then a fourth watch from it. */
	spin(four_watches, 10000, "the watch after the stream ended, 410 and a re-list");
	assert_non_null(strstr(F.watch_query[2], "resourceVersion=12&"));
	assert_non_null(strstr(F.watch_query[3], "resourceVersion=20&"));
	assert_int_equal(F.lists, 3);
	assert_int_equal(ST->gone, 2);
	assert_int_equal(H.s.begins, 3);
	assert_int_equal(H.s.ends, 3);
	assert_int_equal(H.s.upserts, 7); /* three lists of two and the MODIFIED */
	assert_int_equal(ST->errors, 0);

	/* Events: the same one three times is one POST and two PATCHes of its count. */
	assert_int_equal(pp_kube_event(H.kc, "default", "web", "u-1", "Warning", "Unhealthy",
				       "Readiness probe failed: connection refused"),
			 0);
	assert_int_equal(pp_kube_event(H.kc, "default", "web", "u-1", "Warning", "Unhealthy",
				       "Readiness probe failed: connection refused"),
			 0);
	assert_int_equal(pp_kube_event(H.kc, "default", "web", "u-1", "Warning", "Unhealthy",
				       "Readiness probe failed: connection refused"),
			 0);
	assert_int_equal(
		pp_kube_event(H.kc, "default", "web", "u-1", "Normal", "Recovered", "ready again"),
		0);
	spin(events_done, 10000, "the Events");
	assert_int_equal(F.posts, 2);
	assert_int_equal(F.event_patches, 2);
	assert_int_equal(ST->events_posted, 2);
	assert_int_equal(ST->events_aggregated, 2);
	ev = json_loads(F.post_body[0], 0, NULL);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "reportingComponent")),
			    "podprobe");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ev, "source"), "host")), H.node);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ev, "involvedObject"), "uid")),
		"u-1");
	assert_int_equal(
		strncmp(json_string_value(json_object_get(json_object_get(ev, "metadata"), "name")),
			"web.", 4),
		0);
	{
		char want[512];

		snprintf(want, sizeof(want), "/api/v1/namespaces/default/events/%s",
			 json_string_value(
				 json_object_get(json_object_get(ev, "metadata"), "name")));
		assert_string_equal(F.patch_path[0], want);
		assert_string_equal(F.patch_path[1], want);
	}
	assert_non_null(strstr(F.patch_body[0], "\"count\":2"));
	assert_non_null(strstr(F.patch_body[1], "\"count\":3"));
	assert_non_null(strstr(F.post_body[1], "\"reason\":\"Recovered\""));
	json_decref(ev);

	/* A patch answered 409 (another uid) is dropped: no retry. */
	F.status_reply = 409;
	assert_int_equal(
		pp_kube_set_condition(H.kc, "default", "web", "u-0", GATE, true, NULL, NULL), 0);
	spin(status_dropped, 10000, "the 409 to drop the patch");
	reqs = ST->requests;
	spin_for(1500);
	assert_int_equal(F.status_patches, 1);
	assert_int_equal(ST->requests, reqs);
	stop_fake();
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[300], tmp[310];
	FILE *f;

	/* Atomically, as kubelet's AtomicWriter swaps a projected volume. */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static bool said_401(void)
{
	return strstr(H.s.last_log, "401") != NULL;
}

static void test_in_cluster_token_rotation(void **state)
{
	struct pp_kube_client_cfg cfg = {
		.node = H.node, .on_pod = on_pod, .on_log = on_log, .ctx = &H};
	char sa[128], port[16], cmd[300];

	(void)state;
	start_fake();
	snprintf(sa, sizeof(sa), "%s/sa", F.dir);
	assert_int_equal(mkdir(sa, 0700), 0);
	put(sa, "ca.crt", F.cert_pem);
	put(sa, "namespace", "kube-system\n");
	put(sa, "token", "not-the-token\n");
	snprintf(port, sizeof(port), "%u", F.port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	cfg.sa_dir = sa;
	assert_int_equal(pp_kube_client_new(H.loop, &cfg, &H.kc, NULL, 0), 0);
	ST = pp_kube_client_stats(H.kc);
	spin(said_401, 10000, "a 401 with the old token");
	assert_false(ST->synced);
	/* The token rotates: the next attempt (after a 401, at once) reads the new one. */
	{
		char tok[80];

		snprintf(tok, sizeof(tok), "%s\n", F.token);
		put(sa, "token", tok);
	}
	want_ends = 1;
	spin(synced, 10000, "a list with the new token");
	assert_true(F.lists >= 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	stop_fake();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", F.dir);
	assert_int_equal(system(cmd), 0);
}

static void test_config_errors(void **state)
{
	struct pp_kube_client_cfg cfg = {.node = "n", .on_pod = on_pod, .ctx = &H};
	char dir[] = "/tmp/t_kube_XXXXXX", path[300], err[600];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	      "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
	      "users:\n- name: u\n  user:\n    exec: {command: aws}\n"
	      "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
	      f);
	fclose(f);
	cfg.kubeconfig = path;
	assert_int_equal(pp_kube_client_new(H.loop, &cfg, &H.kc, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "users[0].user.exec"));

	/* A CA file that is not there, named with the path. */
	f = fopen(path, "w");
	fputs("current-context: c\n"
	      "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1', "
	      "certificate-authority: nope.pem}\n"
	      "users:\n- name: u\n  user: {token: t}\n"
	      "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
	      f);
	fclose(f);
	assert_int_equal(pp_kube_client_new(H.loop, &cfg, &H.kc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope.pem"));
	assert_non_null(strstr(err, dir));

	/* In-cluster without the environment. */
	cfg.kubeconfig = NULL;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(pp_kube_client_new(H.loop, &cfg, &H.kc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
	H.kc = NULL;
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_gone_events_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_cluster_token_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_watch_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_condition_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_relist, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
