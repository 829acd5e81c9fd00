// SPDX-License-Identifier: Apache-2.0
/*
 * The pod as the API shows it, driven through the real lifecycle controller under a fake
 * clock: the `kubectl get pods` cells (printers.go printPod), the Pod object's status
 * (kubelet's conditions and container statuses) and the Table.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakes/fake_pod.h"
#include "podprobe/api_obj.h"
#include "podprobe/backoff.h"
#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"

#define SEC PP_NSEC_PER_SEC
/* The wall clock of the fake monotonic 0: 2026-12-01T00:00:00Z. */
#define WALL0 ((pp_wall_ns)1796083200 * (pp_wall_ns)SEC)

struct t_env {
	struct pp_pod *pod;
	struct pp_lc_cfg cfg;
	struct pp_pod_state ps;
	struct pp_actions acts;
	pp_nsec created; /* monotonic */
};

static struct t_env *t_env_new(struct pp_pod *pod)
{
	struct t_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->pod = pod;
	e->cfg.min_kill_gap = PP_MIN_KILL_GAP;
	pp_backoff_cfg_fill(&e->cfg.backoff);
	assert_int_equal(pp_lc_init(&e->ps, pod, &e->cfg, "8d3c5f0e-uid"), 0);
	e->created = t_now();
	return e;
}

static void t_env_free(struct t_env *e)
{
	pp_lc_free(&e->ps);
	pp_actions_free(&e->acts);
	pp_pod_free(e->pod);
	free(e);
}

/* Play the shell: answer every START with "started" until none is left. */
static void t_settle(struct t_env *e)
{
	for (int round = 0; round < 16; round++) {
		struct pp_action starts[16];
		size_t n = 0;

		for (size_t i = 0; i < e->acts.n && n < 16; i++)
			if (e->acts.v[i].kind == PP_ACT_START)
				starts[n++] = e->acts.v[i];
		if (!n)
			return;
		for (size_t i = 0; i < n; i++) {
			pp_actions_clear(&e->acts);
			pp_lc_on_started(&e->ps, starts[i].container, starts[i].instance, t_now(),
					 &e->acts);
		}
	}
	fail_msg("START actions did not settle");
}

static void t_start(struct t_env *e)
{
	pp_actions_clear(&e->acts);
	pp_lc_start(&e->ps, t_now(), &e->acts);
	t_settle(e);
}

static void t_exit(struct t_env *e, uint32_t ci, int code, int sig)
{
	struct pp_exit_info ex = {.code = code, .signal = sig};

	pp_actions_clear(&e->acts);
	pp_lc_on_exit(&e->ps, ci, e->ps.c[ci].instance, &ex, t_now(), &e->acts);
}

/* Let back-off pass until <ci> runs again. */
static void t_until_running(struct t_env *e, uint32_t ci)
{
	t_settle(e);
	for (int i = 0; i < 8 && e->ps.c[ci].state != PP_CSTATE_RUNNING; i++) {
		pp_nsec next = pp_lc_next_deadline(&e->ps);

		assert_true(next != PP_NSEC_INFINITY);
		if (next > t_now())
			t_clock_set(next);
		pp_actions_clear(&e->acts);
		pp_lc_on_timer(&e->ps, t_now(), &e->acts);
		t_settle(e);
	}
	assert_int_equal(e->ps.c[ci].state, PP_CSTATE_RUNNING);
}

static void t_ready(struct t_env *e, uint32_t ci, bool ok)
{
	pp_actions_clear(&e->acts);
	pp_lc_on_probe_verdict(&e->ps, ci, e->ps.c[ci].instance, PP_PROBE_READINESS, ok, t_now(),
			       &e->acts);
}

static struct pp_pod_view t_view(const struct t_env *e)
{
	struct pp_pod_view v = {
		.spec = e->pod,
		.st = &e->ps,
		.resource_version = 107,
		.created = WALL0 + (pp_wall_ns)e->created,
		.node_name = "podprobe",
		.host_ip = "127.0.0.1",
		.mono_now = t_now(),
		.wall_now = WALL0 + (pp_wall_ns)t_now(),
	};

	return v;
}

static void assert_row(const struct pp_pod_view *v, const char *ready, const char *status,
		       const char *restarts)
{
	struct pp_pod_cells c;

	assert_int_equal(pp_pod_cells(v, &c), 0);
	assert_string_equal(c.ready, ready);
	assert_string_equal(c.status, status);
	assert_string_equal(c.restarts, restarts);
}

static void assert_env_row(const struct t_env *e, const char *ready, const char *status,
			   const char *restarts)
{
	struct pp_pod_view v = t_view(e);

	assert_row(&v, ready, status, restarts);
}

/* The value at dotted <path> of <o> ("status.conditions.2.reason"; numbers index arrays). */
static json_t *t_get(json_t *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); o && tok; tok = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, strtoul(tok, NULL, 10))
				     : json_object_get(o, tok);
	return o;
}

static const char *t_str(json_t *o, const char *path)
{
	const char *s = json_string_value(t_get(o, path));

	if (!s)
		fail_msg("no string at %s", path);
	return s;
}

static void assert_json_str(json_t *o, const char *path, const char *want)
{
	assert_string_equal(t_str(o, path), want);
}

static void assert_no_key(json_t *o, const char *path)
{
	if (t_get(o, path))
		fail_msg("unexpected %s", path);
}

static json_t *t_pod_json(const struct t_env *e)
{
	struct pp_pod_view v = t_view(e);
	json_t *o = pp_pod_json(&v);

	assert_non_null(o);
	return o;
}

/* ---- the measured rows ---------------------------------------------------------------------- */

static void test_crash_loop_row_counts_restarts_and_age_of_last_exit(void **state)
{
	struct pp_pod *pod = t_pod_new("crash", PP_RESTART_ALWAYS);
	struct pp_pod_view v;
	struct pp_pod_cells c;
	struct t_env *e;
	char when[40];
	json_t *o;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	for (int i = 0; i < 4; i++) {
		t_clock_advance(SEC);
		t_exit(e, 0, 3, 0);
		t_until_running(e, 0);
	}
	t_clock_advance(SEC);
	t_exit(e, 0, 3, 0);
	pp_api_time(WALL0 + (pp_wall_ns)t_now(), false, when, sizeof(when));
	t_clock_advance(53 * SEC);
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_WAITING);

	v = t_view(e);
	v.created = v.wall_now - 308 * (pp_wall_ns)SEC;
	assert_int_equal(pp_pod_cells(&v, &c), 0);
	assert_string_equal(c.name, "crash");
	assert_string_equal(c.ready, "0/1");
	assert_string_equal(c.status, "CrashLoopBackOff");
	assert_string_equal(c.restarts, "4 (53s ago)");
	assert_string_equal(c.age, "5m8s");

	o = pp_pod_json(&v);
	assert_non_null(o);
	assert_json_str(o, "status.phase", "Running");
	assert_json_str(o, "status.containerStatuses.0.state.waiting.reason", "CrashLoopBackOff");
	assert_true(!strncmp(t_str(o, "status.containerStatuses.0.state.waiting.message"),
			     "back-off ", 9));
	assert_int_equal(json_integer_value(t_get(
				 o, "status.containerStatuses.0.lastState.terminated.exitCode")),
			 3);
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.reason", "Error");
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.finishedAt", when);
	assert_int_equal(json_integer_value(t_get(o, "status.containerStatuses.0.restartCount")),
			 4);
	assert_true(json_is_false(t_get(o, "status.containerStatuses.0.ready")));
	assert_true(json_is_false(t_get(o, "status.containerStatuses.0.started")));
	assert_json_str(o, "status.conditions.2.type", "Ready");
	assert_json_str(o, "status.conditions.2.status", "False");
	assert_json_str(o, "status.conditions.2.reason", "ContainersNotReady");
	assert_json_str(o, "status.conditions.2.message", "containers with unready status: [app]");
	/* The last container's id names the dead one, as in lastState. */
	assert_string_equal(
		t_str(o, "status.containerStatuses.0.containerID"),
		t_str(o, "status.containerStatuses.0.lastState.terminated.containerID"));
	json_decref(o);
	t_env_free(e);
}

/* While volumes wait there is no sandbox: PodReadyToStartContainers False, then True. */
static void test_pod_waiting_for_volumes_is_not_ready_to_start(void **state)
{
	struct pp_pod *pod = t_pod_new("vols", PP_RESTART_ALWAYS);
	static const char *const msg[] = {"configmap \"x\" not found"};
	struct t_env *e;
	json_t *o;

	(void)state;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	e->cfg.wait_for_volumes = true;
	t_start(e);
	pp_actions_clear(&e->acts);
	pp_lc_on_volumes_pending(&e->ps, msg, 1, t_now(), &e->acts);
	o = t_pod_json(e);
	assert_json_str(o, "status.conditions.0.type", "PodReadyToStartContainers");
	assert_json_str(o, "status.conditions.0.status", "False");
	assert_json_str(o, "status.containerStatuses.0.state.waiting.reason", "ContainerCreating");
	json_decref(o);
	pp_actions_clear(&e->acts);
	pp_lc_volumes_ready(&e->ps, t_now(), &e->acts);
	t_settle(e);
	o = t_pod_json(e);
	assert_json_str(o, "status.conditions.0.status", "True");
	json_decref(o);
	t_env_free(e);
}

static void test_succeeded_pod_reads_completed_with_kubelet_conditions(void **state)
{
	static const char *const types[] = {"PodReadyToStartContainers", "Initialized", "Ready",
					    "ContainersReady", "PodScheduled"};
	static const char *const statuses[] = {"False", "True", "False", "False", "True"};
	static const char *const reasons[] = {NULL, "PodCompleted", "PodCompleted", "PodCompleted",
					      NULL};
	struct pp_pod *pod = t_pod_new("done", PP_RESTART_NEVER);
	struct t_env *e;
	json_t *o;
	char path[64];

	t_pod_add(pod, "job", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_clock_advance(2 * SEC);
	t_exit(e, 0, 0, 0);
	assert_int_equal(e->ps.phase, PP_PHASE_SUCCEEDED);
	assert_env_row(e, "0/1", "Completed", "0");

	o = t_pod_json(e);
	assert_json_str(o, "status.phase", "Succeeded");
	assert_int_equal(json_array_size(t_get(o, "status.conditions")), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "status.conditions.%d.type", i);
		assert_json_str(o, path, types[i]);
		snprintf(path, sizeof(path), "status.conditions.%d.status", i);
		assert_json_str(o, path, statuses[i]);
		snprintf(path, sizeof(path), "status.conditions.%d.reason", i);
		if (reasons[i])
			assert_json_str(o, path, reasons[i]);
		else
			assert_no_key(o, path);
		snprintf(path, sizeof(path), "status.conditions.%d.lastProbeTime", i);
		assert_true(json_is_null(t_get(o, path)));
	}
	assert_json_str(o, "status.containerStatuses.0.state.terminated.reason", "Completed");
	assert_int_equal(json_integer_value(
				 t_get(o, "status.containerStatuses.0.state.terminated.exitCode")),
			 0);
	json_decref(o);
	t_env_free(e);
}

static void test_init_containers_show_progress_then_pod_initializing(void **state)
{
	struct pp_pod *pod = t_pod_new("init", PP_RESTART_ALWAYS);
	struct t_env *e;
	json_t *o;

	t_pod_add(pod, "wait-db", true, false);
	t_pod_add(pod, "init-data", true, false);
	t_pod_add(pod, "web", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_env_row(e, "0/1", "Init:0/2", "0");

	o = t_pod_json(e);
	assert_json_str(o, "status.phase", "Pending");
	assert_json_str(o, "status.conditions.1.type", "Initialized");
	assert_json_str(o, "status.conditions.1.status", "False");
	assert_json_str(o, "status.conditions.1.reason", "ContainersNotInitialized");
	assert_json_str(o, "status.conditions.1.message",
			"containers with incomplete status: [wait-db init-data]");
	assert_non_null(t_get(o, "status.initContainerStatuses.0.state.running.startedAt"));
	assert_true(json_is_true(t_get(o, "status.initContainerStatuses.0.started")));
	assert_json_str(o, "status.initContainerStatuses.1.state.waiting.reason",
			"PodInitializing");
	assert_json_str(o, "status.containerStatuses.0.state.waiting.reason", "PodInitializing");
	assert_no_key(o, "status.containerStatuses.0.containerID");
	json_decref(o);

	t_clock_advance(SEC);
	t_exit(e, 0, 0, 0);
	t_settle(e);
	assert_env_row(e, "0/1", "Init:1/2", "0");
	o = t_pod_json(e);
	/* A finished init container is ready and no longer started (prober_manager.go). */
	assert_json_str(o, "status.initContainerStatuses.0.state.terminated.reason", "Completed");
	assert_true(json_is_true(t_get(o, "status.initContainerStatuses.0.ready")));
	assert_true(json_is_false(t_get(o, "status.initContainerStatuses.0.started")));
	json_decref(o);

	/* Init done, the container being created. */
	t_exit(e, 1, 0, 0);
	assert_env_row(e, "0/1", "PodInitializing", "0");
	t_settle(e);
	assert_env_row(e, "1/1", "Running", "0");
	o = t_pod_json(e);
	assert_json_str(o, "status.conditions.1.status", "True");
	assert_no_key(o, "status.conditions.1.reason");
	json_decref(o);
	t_env_free(e);
}

static void test_deleted_pod_reads_terminating_with_deletion_metadata(void **state)
{
	struct pp_pod *pod = t_pod_new("term", PP_RESTART_ALWAYS);
	struct pp_pod_view v;
	struct t_env *e;
	char when[40];
	json_t *o;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_env_row(e, "1/1", "Running", "0");
	/* The API's deletionTimestamp alone makes the row Terminating. */
	v = t_view(e);
	v.deletion = v.wall_now;
	v.deletion_grace_s = 30;
	assert_row(&v, "1/1", "Terminating", "0");

	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	assert_true(e->ps.c[0].alive);
	assert_env_row(e, "1/1", "Terminating", "0");

	v = t_view(e);
	v.deletion = v.wall_now + 5 * (pp_wall_ns)SEC;
	v.deletion_grace_s = 5;
	pp_api_time(v.deletion, false, when, sizeof(when));
	o = pp_pod_json(&v);
	assert_non_null(o);
	assert_json_str(o, "metadata.deletionTimestamp", when);
	assert_int_equal(json_integer_value(t_get(o, "metadata.deletionGracePeriodSeconds")), 5);
	json_decref(o);
	/* Without the API's time, the controller's deletion shows with the pod's grace. */
	o = t_pod_json(e);
	assert_int_equal(json_integer_value(t_get(o, "metadata.deletionGracePeriodSeconds")), 30);
	json_decref(o);

	/* Once the pod is terminal the phase shows, not Terminating. */
	t_exit(e, 0, 0, SIGTERM);
	assert_true(e->ps.terminal);
	assert_env_row(e, "0/1", "Error", "0");
	t_env_free(e);
}

static void test_running_pod_object_has_kubelet_shape(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *c;
	struct t_env *e;
	char created[40], started[40];
	json_t *o, *o2;
	const char *id;

	c = t_pod_add(pod, "web", false, false);
	c->readiness.set = true;
	e = t_env_new(pod);
	t_clock_advance(SEC);
	t_start(e);
	pp_api_time(WALL0 + (pp_wall_ns)t_now(), false, started, sizeof(started));
	pp_api_time(WALL0 + (pp_wall_ns)e->created, false, created, sizeof(created));
	assert_env_row(e, "0/1", "Running", "0");
	t_ready(e, 0, true);
	assert_env_row(e, "1/1", "Running", "0");

	o = t_pod_json(e);
	assert_json_str(o, "kind", "Pod");
	assert_json_str(o, "apiVersion", "v1");
	assert_json_str(o, "metadata.name", "web");
	assert_json_str(o, "metadata.namespace", "default");
	assert_json_str(o, "metadata.uid", "8d3c5f0e-uid");
	assert_json_str(o, "metadata.resourceVersion", "107");
	assert_json_str(o, "metadata.creationTimestamp", created);
	assert_no_key(o, "metadata.deletionTimestamp");
	assert_json_str(o, "spec.nodeName", "podprobe");
	assert_json_str(o, "spec.containers.0.name", "web");
	assert_json_str(o, "spec.containers.0.image", "busybox:1.36");
	assert_json_str(o, "spec.containers.0.command.0", "sh");
	assert_json_str(o, "spec.restartPolicy", "Always");
	assert_int_equal(json_integer_value(t_get(o, "spec.terminationGracePeriodSeconds")), 30);
	assert_json_str(o, "status.phase", "Running");
	assert_json_str(o, "status.hostIP", "127.0.0.1");
	assert_json_str(o, "status.hostIPs.0.ip", "127.0.0.1");
	assert_json_str(o, "status.podIP", "127.0.0.1");
	assert_json_str(o, "status.podIPs.0.ip", "127.0.0.1");
	assert_json_str(o, "status.startTime", started);
	assert_json_str(o, "status.qosClass", "BestEffort");
	for (int i = 0; i < 5; i++) {
		char path[48];

		snprintf(path, sizeof(path), "status.conditions.%d.status", i);
		assert_json_str(o, path, "True");
	}
	assert_no_key(o, "status.initContainerStatuses");
	assert_json_str(o, "status.containerStatuses.0.name", "web");
	assert_json_str(o, "status.containerStatuses.0.state.running.startedAt", started);
	assert_true(json_is_object(t_get(o, "status.containerStatuses.0.lastState")));
	assert_int_equal(json_object_size(t_get(o, "status.containerStatuses.0.lastState")), 0);
	assert_true(json_is_true(t_get(o, "status.containerStatuses.0.ready")));
	assert_true(json_is_true(t_get(o, "status.containerStatuses.0.started")));
	assert_json_str(o, "status.containerStatuses.0.image", "busybox:1.36");
	assert_json_str(o, "status.containerStatuses.0.imageID", "");
	id = t_str(o, "status.containerStatuses.0.containerID");
	assert_int_equal(strlen(id), strlen("podprobe://") + 64);
	assert_true(!strncmp(id, "podprobe://", 11));
	/* Stable: the same pod, container and instance give the same id. */
	o2 = t_pod_json(e);
	assert_string_equal(t_str(o2, "status.containerStatuses.0.containerID"), id);
	json_decref(o2);
	json_decref(o);
	t_env_free(e);
}

static void test_restarted_container_gets_new_id_and_last_state(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;
	char first[128], finished[40];
	json_t *o;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	o = t_pod_json(e);
	snprintf(first, sizeof(first), "%s", t_str(o, "status.containerStatuses.0.containerID"));
	json_decref(o);
	t_clock_advance(7 * SEC);
	t_exit(e, 0, 0, SIGKILL);
	pp_api_time(WALL0 + (pp_wall_ns)t_now(), false, finished, sizeof(finished));
	t_until_running(e, 0);
	t_clock_advance(45 * SEC);
	assert_env_row(e, "1/1", "Running", "1 (45s ago)");

	o = t_pod_json(e);
	assert_true(strcmp(t_str(o, "status.containerStatuses.0.containerID"), first) != 0);
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.containerID", first);
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.finishedAt", finished);
	assert_int_equal(json_integer_value(t_get(
				 o, "status.containerStatuses.0.lastState.terminated.exitCode")),
			 128 + SIGKILL);
	assert_int_equal(json_integer_value(t_get(
				 o, "status.containerStatuses.0.lastState.terminated.signal")),
			 SIGKILL);
	json_decref(o);
	t_env_free(e);
}

static void test_failed_init_reads_init_error_or_crash_loop(void **state)
{
	struct pp_pod *pod = t_pod_new("bad", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_exit(e, 0, 1, 0);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_env_row(e, "0/1", "Init:Error", "0");
	t_env_free(e);

	pod = t_pod_new("bad", PP_RESTART_ALWAYS);
	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_exit(e, 0, 1, 0);
	t_settle(e);
	for (int i = 0; i < 4 && strcmp(e->ps.c[0].reason, "CrashLoopBackOff"); i++) {
		t_clock_advance(SEC);
		t_exit(e, 0, 1, 0);
		t_settle(e);
	}
	t_clock_advance(SEC);
	assert_env_row(e, "0/1", "Init:CrashLoopBackOff", "1 (1s ago)");
	t_env_free(e);
}

static void test_sidecars_count_in_ready_once_started(void **state)
{
	struct pp_pod *pod = t_pod_new("mesh", PP_RESTART_ALWAYS);
	struct pp_container_spec *sc;
	struct t_env *e;

	sc = t_pod_add(pod, "proxy", true, true);
	sc->readiness.set = true;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	/* The sidecar started but is not ready: counted in the total only. */
	assert_env_row(e, "1/2", "Running", "0");
	t_ready(e, 0, true);
	assert_env_row(e, "2/2", "Running", "0");
	/* A sidecar's restarts count beside the containers'. */
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0);
	t_until_running(e, 0);
	t_clock_advance(10 * SEC);
	assert_env_row(e, "1/2", "Running", "1 (10s ago)");
	t_env_free(e);
}

static void test_completed_beside_running_reads_not_ready_or_running(void **state)
{
	struct pp_pod *pod = t_pod_new("pair", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "a", false, false);
	t_pod_add(pod, "b", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_exit(e, 0, 0, 0);
	/* "a" sorts first and wins with Completed; "b" runs, Ready is False. */
	assert_env_row(e, "1/2", "NotReady", "0");
	/* With a Ready condition True (a readiness the status still reports) it is Running. */
	e->ps.c[0].ready = true;
	assert_env_row(e, "1/2", "Running", "0");
	t_env_free(e);
}

static void test_terminated_without_reason_shows_signal_or_exit_code(void **state)
{
	struct pp_pod *pod = t_pod_new("raw", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_exit(e, 0, 0, SIGKILL);
	assert_env_row(e, "0/1", "Error", "0");
	/* A record without reason (an older run's) falls back as printPod does. */
	e->ps.c[0].term.reason[0] = '\0';
	assert_env_row(e, "0/1", "Signal:9", "0");
	e->ps.c[0].term.signal = 0;
	e->ps.c[0].term.exit_code = 3;
	assert_env_row(e, "0/1", "ExitCode:3", "0");
	t_env_free(e);

	pod = t_pod_new("raw", PP_RESTART_NEVER);
	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_exit(e, 0, 0, SIGKILL);
	e->ps.c[0].term.reason[0] = '\0';
	assert_env_row(e, "0/1", "Init:Signal:9", "0");
	e->ps.c[0].term.signal = 0;
	e->ps.c[0].term.exit_code = 3;
	assert_env_row(e, "0/1", "Init:ExitCode:3", "0");
	t_env_free(e);
}

static void test_deadline_exceeded_shows_pod_reason(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_ALWAYS);
	struct t_env *e;
	json_t *o;

	pod->has_active_deadline = true;
	pod->active_deadline_s = 5;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_clock_advance(5 * SEC);
	pp_actions_clear(&e->acts);
	pp_lc_on_timer(&e->ps, t_now(), &e->acts);
	/* status.reason stands while the container is killed... */
	assert_env_row(e, "1/1", "DeadlineExceeded", "0");
	t_exit(e, 0, 0, SIGTERM);
	/* ... then, as printPod goes on, the container's termination is the STATUS. */
	assert_env_row(e, "0/1", "Error", "0");
	o = t_pod_json(e);
	assert_json_str(o, "status.phase", "Failed");
	assert_json_str(o, "status.reason", "DeadlineExceeded");
	assert_json_str(o, "status.conditions.3.reason", "PodFailed");
	json_decref(o);
	t_env_free(e);
}

/* ---- conditions over time ---------------------------------------------------------------------
 */

static void test_conditions_keep_transition_times_until_they_flip(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *c;
	struct pp_pod_conds conds = {0};
	struct pp_pod_view v;
	struct t_env *e;
	pp_wall_ns t0;
	char at0[40], at1[40];
	json_t *o;

	c = t_pod_add(pod, "web", false, false);
	c->readiness.set = true;
	e = t_env_new(pod);
	t_start(e);
	t0 = WALL0 + (pp_wall_ns)t_now();
	pp_pod_conds_update(&conds, &e->ps, t0);
	assert_true(conds.known);
	for (int i = 0; i < _PP_COND_MAX; i++)
		assert_int_equal(conds.since[i], t0);
	assert_false(conds.status[PP_COND_READY]);

	t_clock_advance(3 * SEC);
	pp_pod_conds_update(&conds, &e->ps, t0 + 3 * (pp_wall_ns)SEC);
	assert_int_equal(conds.since[PP_COND_READY], t0);
	t_ready(e, 0, true);
	pp_pod_conds_update(&conds, &e->ps, t0 + 3 * (pp_wall_ns)SEC);
	assert_true(conds.status[PP_COND_READY]);
	assert_int_equal(conds.since[PP_COND_READY], t0 + 3 * (pp_wall_ns)SEC);
	assert_int_equal(conds.since[PP_COND_CONTAINERS_READY], t0 + 3 * (pp_wall_ns)SEC);
	assert_int_equal(conds.since[PP_COND_INITIALIZED], t0);

	v = t_view(e);
	v.conds = &conds;
	o = pp_pod_json(&v);
	assert_non_null(o);
	pp_api_time(t0, false, at0, sizeof(at0));
	pp_api_time(t0 + 3 * (pp_wall_ns)SEC, false, at1, sizeof(at1));
	assert_json_str(o, "status.conditions.1.lastTransitionTime", at0);
	assert_json_str(o, "status.conditions.2.lastTransitionTime", at1);
	json_decref(o);
	assert_string_equal(pp_pod_cond_str(PP_COND_READY_TO_START), "PodReadyToStartContainers");
	t_env_free(e);
}

/* ---- the stored object ---------------------------------------------------------------------- */

static json_t *t_object(const char *text)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);

	if (!o)
		fail_msg("bad test JSON: %s", err.text);
	return o;
}

static const char *t_qos(struct t_env *e, const char *object)
{
	static char ret[32];
	struct pp_pod_view v = t_view(e);
	json_t *obj = t_object(object), *o;

	v.object = obj;
	o = pp_pod_json(&v);
	assert_non_null(o);
	snprintf(ret, sizeof(ret), "%s", t_str(o, "status.qosClass"));
	json_decref(o);
	json_decref(obj);
	return ret;
}

static void test_qos_class_follows_requests_and_limits(void **state)
{
	struct pp_pod *pod = t_pod_new("q", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "a", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_string_equal(t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}"),
			    "BestEffort");
	/* Requests default to the limits: limits alone on cpu and memory are Guaranteed. */
	assert_string_equal(
		t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
			 "{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]}}"),
		"Guaranteed");
	assert_string_equal(
		t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
			 "{\"cpu\":\"0.5\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"500m\","
			 "\"memory\":\"1073741824\"}}}]}}"),
		"Guaranteed");
	assert_string_equal(
		t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":"
			 "{\"cpu\":\"100m\"}}}]}}"),
		"Burstable");
	assert_string_equal(
		t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
			 "{\"memory\":\"64Mi\"}}}]}}"),
		"Burstable");
	/* Only cpu and memory count. */
	assert_string_equal(
		t_qos(e, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
			 "{\"ephemeral-storage\":\"1Gi\"}}}]}}"),
		"BestEffort");
	/* Without the object the memory limit of the spec is all there is. */
	pod->containers[0].memory_limit = 64 << 20;
	{
		json_t *o = t_pod_json(e);

		assert_json_str(o, "status.qosClass", "Burstable");
		assert_json_str(o, "spec.containers.0.resources.limits.memory", "67108864");
		json_decref(o);
	}
	t_env_free(e);
}

static void test_object_metadata_spec_and_readiness_gates_are_kept(void **state)
{
	struct pp_pod *pod = t_pod_new("gated", PP_RESTART_ALWAYS);
	struct pp_pod_view v;
	struct pp_pod_cells c;
	struct t_env *e;
	json_t *obj, *o;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	obj = t_object("{\"metadata\":{\"name\":\"gated\",\"labels\":{\"app\":\"x\"},"
		       "\"annotations\":{\"a\":\"b\"},\"resourceVersion\":\"1\"},"
		       "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"busybox\","
		       "\"env\":[{\"name\":\"K\",\"value\":\"V\"}]}],"
		       "\"readinessGates\":[{\"conditionType\":\"example.com/lb\"}]}}");
	v = t_view(e);
	v.object = obj;
	assert_int_equal(pp_pod_cells(&v, &c), 0);
	assert_string_equal(c.gates, "0/1");
	assert_string_equal(c.ready, "1/1");
	assert_string_equal(c.ip, "127.0.0.1");
	assert_string_equal(c.node, "podprobe");
	assert_string_equal(c.nominated, "<none>");
	o = pp_pod_json(&v);
	assert_non_null(o);
	assert_json_str(o, "metadata.labels.app", "x");
	assert_json_str(o, "metadata.annotations.a", "b");
	assert_json_str(o, "metadata.resourceVersion", "107");
	assert_json_str(o, "spec.containers.0.env.0.value", "V");
	assert_json_str(o, "spec.nodeName", "podprobe");
	assert_json_str(o, "status.conditions.3.status", "True");
	assert_json_str(o, "status.conditions.2.status", "False");
	assert_json_str(o, "status.conditions.2.reason", "ReadinessGatesNotReady");
	assert_json_str(o, "status.conditions.2.message",
			"corresponding condition of pod readiness gate \"example.com/lb\" does "
			"not exist.");
	/* The stored object is copied, not changed. */
	assert_null(t_get(obj, "spec.nodeName"));
	json_decref(o);
	json_decref(obj);

	/* Without an object: labels from the spec, no gates, no address. */
	v = t_view(e);
	v.host_ip = NULL;
	v.node_name = NULL;
	v.created = 0;
	assert_int_equal(pp_pod_cells(&v, &c), 0);
	assert_string_equal(c.gates, "<none>");
	assert_string_equal(c.ip, "<none>");
	assert_string_equal(c.node, "<none>");
	assert_string_equal(c.age, "<unknown>");
	t_env_free(e);
}

/* ---- what the API server and kubelet add ----------------------------------------------------- */

static json_t *t_pod_json_of(const struct t_env *e, const json_t *obj)
{
	struct pp_pod_view v = t_view(e);
	json_t *o;

	v.object = obj;
	o = pp_pod_json(&v);
	assert_non_null(o);
	return o;
}

static void assert_json_int(json_t *o, const char *path, json_int_t want)
{
	json_t *v = t_get(o, path);

	if (!json_is_integer(v))
		fail_msg("no integer at %s", path);
	assert_int_equal(json_integer_value(v), want);
}

static void test_spec_shows_api_server_defaults_and_keeps_written_values(void **state)
{
	struct pp_pod *pod = t_pod_new("dflt", PP_RESTART_ALWAYS);
	struct t_env *e;
	json_t *obj, *copy, *o;

	t_pod_add(pod, "side", true, true);
	t_pod_add(pod, "app", false, false);
	t_pod_add(pod, "tagged", false, false);
	e = t_env_new(pod);
	t_start(e);
	obj = t_object(
		"{\"metadata\":{\"name\":\"dflt\"},\"spec\":{\"hostNetwork\":true,"
		"\"volumes\":[{\"name\":\"v\"}],"
		"\"initContainers\":[{\"name\":\"side\",\"image\":\"busybox:latest\","
		"\"restartPolicy\":\"Always\",\"startupProbe\":{\"exec\":{\"command\":[\"true\"]}}}"
		"],"
		"\"containers\":[{\"name\":\"app\",\"image\":\"busybox\","
		"\"ports\":[{\"containerPort\":8080},{\"containerPort\":53,\"protocol\":\"UDP\","
		"\"hostPort\":5353}],"
		"\"env\":[{\"name\":\"P\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata."
		"name\"}}}],"
		"\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"64Mi\"},"
		"\"requests\":{\"cpu\":\"100m\"}},"
		"\"readinessProbe\":{\"httpGet\":{\"port\":8080},\"timeoutSeconds\":4,"
		"\"periodSeconds\":null},"
		"\"livenessProbe\":{\"grpc\":{\"port\":8080},\"failureThreshold\":0},"
		"\"lifecycle\":{\"preStop\":{\"httpGet\":{\"port\":8080,\"path\":\"/q\","
		"\"scheme\":\"HTTPS\"}}}},"
		"{\"name\":\"tagged\",\"image\":\"localhost:5000/app:1.0@sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"imagePullPolicy\":\"Never\",\"terminationMessagePolicy\":"
		"\"FallbackToLogsOnError\"}],"
		"\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":0,"
		"\"securityContext\":{\"runAsUser\":1000}}}");
	copy = json_deep_copy(obj);
	o = t_pod_json_of(e, obj);

	/* SetDefaults_PodSpec / SetDefaults_Pod, around what was written. */
	assert_json_str(o, "spec.dnsPolicy", "ClusterFirst");
	assert_json_str(o, "spec.schedulerName", "default-scheduler");
	assert_true(json_is_true(t_get(o, "spec.enableServiceLinks")));
	assert_json_str(o, "spec.restartPolicy", "Never");
	assert_json_int(o, "spec.terminationGracePeriodSeconds", 0);
	assert_json_int(o, "spec.securityContext.runAsUser", 1000);
	/* No admission plugin ran: no service account, priority or tolerations. */
	assert_no_key(o, "spec.serviceAccountName");
	assert_no_key(o, "spec.priority");
	assert_no_key(o, "spec.tolerations");
	/* Volumes stay as written (a re-apply would patch a defaulted emptyDir). */
	assert_int_equal(json_object_size(t_get(o, "spec.volumes.0")), 1);

	/* SetDefaults_Container: pull policy by tag, termination message, resources {}. */
	assert_json_str(o, "spec.initContainers.0.imagePullPolicy", "Always");
	assert_json_str(o, "spec.containers.0.imagePullPolicy", "Always");
	assert_json_str(o, "spec.containers.1.imagePullPolicy", "Never");
	assert_json_str(o, "spec.containers.0.terminationMessagePath", "/dev/termination-log");
	assert_json_str(o, "spec.containers.0.terminationMessagePolicy", "File");
	assert_json_str(o, "spec.containers.1.terminationMessagePolicy", "FallbackToLogsOnError");
	assert_true(json_is_object(t_get(o, "spec.initContainers.0.resources")));
	assert_int_equal(json_object_size(t_get(o, "spec.initContainers.0.resources")), 0);
	/* Requests default to the limits, key by key. */
	assert_json_str(o, "spec.containers.0.resources.requests.cpu", "100m");
	assert_json_str(o, "spec.containers.0.resources.requests.memory", "64Mi");
	/* Ports: TCP, and a host-network pod's hostPort is its containerPort. */
	assert_json_str(o, "spec.containers.0.ports.0.protocol", "TCP");
	assert_json_int(o, "spec.containers.0.ports.0.hostPort", 8080);
	assert_json_str(o, "spec.containers.0.ports.1.protocol", "UDP");
	assert_json_int(o, "spec.containers.0.ports.1.hostPort", 5353);
	assert_json_str(o, "spec.containers.0.env.0.valueFrom.fieldRef.apiVersion", "v1");

	/* SetDefaults_Probe and SetDefaults_HTTPGetAction; a written value is kept. */
	assert_json_int(o, "spec.containers.0.readinessProbe.timeoutSeconds", 4);
	assert_json_int(o, "spec.containers.0.readinessProbe.periodSeconds", 10);
	assert_json_int(o, "spec.containers.0.readinessProbe.successThreshold", 1);
	assert_json_int(o, "spec.containers.0.readinessProbe.failureThreshold", 3);
	assert_json_str(o, "spec.containers.0.readinessProbe.httpGet.path", "/");
	assert_json_str(o, "spec.containers.0.readinessProbe.httpGet.scheme", "HTTP");
	assert_no_key(o, "spec.containers.0.readinessProbe.initialDelaySeconds");
	assert_json_str(o, "spec.containers.0.livenessProbe.grpc.service", "");
	assert_json_int(o, "spec.containers.0.livenessProbe.failureThreshold", 0);
	assert_json_int(o, "spec.containers.0.livenessProbe.timeoutSeconds", 1);
	assert_json_int(o, "spec.initContainers.0.startupProbe.periodSeconds", 10);
	assert_json_str(o, "spec.containers.0.lifecycle.preStop.httpGet.path", "/q");
	assert_json_str(o, "spec.containers.0.lifecycle.preStop.httpGet.scheme", "HTTPS");
	assert_no_key(o, "spec.containers.1.livenessProbe");

	/* The stored object is read, never changed. */
	assert_true(json_equal(obj, copy));
	json_decref(o);
	json_decref(copy);
	json_decref(obj);

	/* Without the object, the spec built from the pod gets the same defaults. */
	o = t_pod_json(e);
	assert_json_str(o, "spec.dnsPolicy", "ClusterFirst");
	assert_json_str(o, "spec.containers.0.terminationMessagePolicy", "File");
	assert_json_str(o, "spec.containers.0.imagePullPolicy", "IfNotPresent");
	json_decref(o);
	t_env_free(e);
}

/* imagePullPolicy of a container with image <image> and nothing else. */
static void assert_pull_policy(const struct t_env *e, const char *image, const char *want)
{
	json_t *obj = json_pack("{s:{s:[{s:s, s:s}]}}", "spec", "containers", "name", "app",
				"image", image);
	json_t *o;

	assert_non_null(obj);
	o = t_pod_json_of(e, obj);
	if (strcmp(t_str(o, "spec.containers.0.imagePullPolicy"), want))
		fail_msg("%s: %s, not %s", image, t_str(o, "spec.containers.0.imagePullPolicy"),
			 want);
	json_decref(o);
	json_decref(obj);
}

static void test_pull_policy_follows_the_image_tag(void **state)
{
	struct pp_pod *pod = t_pod_new("pull", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	assert_pull_policy(e, "busybox", "Always");
	assert_pull_policy(e, "busybox:latest", "Always");
	assert_pull_policy(e, "docker.io/library/busybox", "Always");
	assert_pull_policy(e, "localhost:5000/busybox", "Always");
	assert_pull_policy(e, "busybox:1.36", "IfNotPresent");
	assert_pull_policy(e, "localhost:5000/busybox:1.36", "IfNotPresent");
	assert_pull_policy(e, "busybox:latest1", "IfNotPresent");
	/* A digest without a tag is not "latest". */
	assert_pull_policy(e,
			   "busybox@sha256:"
			   "0000000000000000000000000000000000000000000000000000000000000000",
			   "IfNotPresent");
	/* References that do not parse have no tag. */
	assert_pull_policy(e, "", "IfNotPresent");
	assert_pull_policy(e, "BusyBox", "IfNotPresent");
	t_env_free(e);
}

/* The containerID of the first container status of <o> into <dst> of <size>. */
static void t_copy_id(char *dst, size_t size, json_t *o)
{
	const char *id = t_str(o, "status.containerStatuses.0.containerID");
	size_t len = id ? strlen(id) : 0;

	assert_true(len < size);
	memcpy(dst, id ? id : "", len + 1);
}

static void test_container_ids_follow_instances_across_two_restarts(void **state)
{
	struct pp_pod *pod = t_pod_new("ids", PP_RESTART_ALWAYS);
	char id[3][128];
	struct t_env *e;
	json_t *o;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	o = t_pod_json(e);
	t_copy_id(id[0], sizeof(id[0]), o);
	assert_no_key(o, "status.containerStatuses.0.lastState.terminated");
	json_decref(o);

	for (int r = 1; r <= 2; r++) {
		t_clock_advance(3 * SEC);
		t_exit(e, 0, 2, 0);
		/*
		 * Dead and waiting for its restart (being created again, then in back-off): the
		 * status is still the dead container's (convertToAPIContainerStatuses: the newest
		 * container, its state moved to lastState), so both ids name it.
		 */
		o = t_pod_json(e);
		assert_json_str(o, "status.containerStatuses.0.state.waiting.reason",
				r == 1 ? "ContainerCreating" : "CrashLoopBackOff");
		assert_json_str(o, "status.containerStatuses.0.containerID", id[r - 1]);
		assert_json_str(o, "status.containerStatuses.0.lastState.terminated.containerID",
				id[r - 1]);
		json_decref(o);

		t_until_running(e, 0);
		o = t_pod_json(e);
		t_copy_id(id[r], sizeof(id[r]), o);
		for (int k = 0; k < r; k++)
			assert_string_not_equal(id[r], id[k]);
		/* Running again: lastState is the instance before, not the current one. */
		assert_json_str(o, "status.containerStatuses.0.lastState.terminated.containerID",
				id[r - 1]);
		assert_json_int(o, "status.containerStatuses.0.restartCount", r);
		json_decref(o);
	}
	t_env_free(e);

	/* A terminated state with a lastState under it: each names its own instance. */
	pod = t_pod_new("ids", PP_RESTART_ON_FAILURE);
	t_pod_add(pod, "job", false, false);
	e = t_env_new(pod);
	t_start(e);
	o = t_pod_json(e);
	t_copy_id(id[0], sizeof(id[0]), o);
	json_decref(o);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0);
	t_until_running(e, 0);
	t_clock_advance(SEC);
	t_exit(e, 0, 0, 0);
	assert_int_equal(e->ps.phase, PP_PHASE_SUCCEEDED);
	o = t_pod_json(e);
	t_copy_id(id[1], sizeof(id[1]), o);
	assert_string_not_equal(id[1], id[0]);
	assert_json_str(o, "status.containerStatuses.0.state.terminated.containerID", id[1]);
	assert_json_str(o, "status.containerStatuses.0.state.terminated.reason", "Completed");
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.containerID", id[0]);
	assert_json_str(o, "status.containerStatuses.0.lastState.terminated.reason", "Error");
	json_decref(o);
	t_env_free(e);
}

static void t_mount(struct pp_container_spec *c, const char *name, const char *path, bool ro)
{
	struct pp_volume_mount *m = realloc(c->mounts, (c->n_mounts + 1) * sizeof(*m));

	assert_non_null(m);
	c->mounts = m;
	m[c->n_mounts] = (struct pp_volume_mount){0};
	m[c->n_mounts].name = strdup(name);
	m[c->n_mounts].mount_path = strdup(path);
	m[c->n_mounts].read_only = ro;
	assert_non_null(m[c->n_mounts].name);
	assert_non_null(m[c->n_mounts].mount_path);
	c->n_mounts++;
}

static void test_container_statuses_list_volume_mounts(void **state)
{
	struct pp_pod *pod = t_pod_new("vm", PP_RESTART_ALWAYS);
	struct t_env *e;
	json_t *o;

	t_mount(t_pod_add(pod, "init", true, false), "data", "/data", false);
	t_mount(t_pod_add(pod, "app", false, false), "data", "/data", false);
	t_mount(&pod->containers[0], "conf", "/etc/app", true);
	t_pod_add(pod, "bare", false, false);
	e = t_env_new(pod);
	t_start(e);
	o = t_pod_json(e);
	assert_json_str(o, "status.initContainerStatuses.0.volumeMounts.0.name", "data");
	assert_json_str(o, "status.initContainerStatuses.0.volumeMounts.0.mountPath", "/data");
	/* Waiting containers have them too: kubelet sets them before any runs. */
	assert_json_str(o, "status.containerStatuses.0.name", "app");
	assert_non_null(t_get(o, "status.containerStatuses.0.state.waiting"));
	assert_int_equal(json_array_size(t_get(o, "status.containerStatuses.0.volumeMounts")), 2);
	assert_json_str(o, "status.containerStatuses.0.volumeMounts.0.name", "data");
	assert_no_key(o, "status.containerStatuses.0.volumeMounts.0.readOnly");
	assert_no_key(o, "status.containerStatuses.0.volumeMounts.0.recursiveReadOnly");
	assert_json_str(o, "status.containerStatuses.0.volumeMounts.1.name", "conf");
	assert_json_str(o, "status.containerStatuses.0.volumeMounts.1.mountPath", "/etc/app");
	assert_true(json_is_true(t_get(o, "status.containerStatuses.0.volumeMounts.1.readOnly")));
	assert_json_str(o, "status.containerStatuses.0.volumeMounts.1.recursiveReadOnly",
			"Disabled");
	assert_json_str(o, "status.containerStatuses.1.name", "bare");
	assert_no_key(o, "status.containerStatuses.1.volumeMounts");
	json_decref(o);
	t_env_free(e);
}

/* ---- Table ------------------------------------------------------------------------------------
 */

static void test_table_has_nine_columns_cells_and_row_objects(void **state)
{
	static const char *const names[] = {
		"Name", "Ready", "Status",	   "Restarts",	     "Age",
		"IP",	"Node",	 "Nominated Node", "Readiness Gates"};
	struct pp_pod *p1 = t_pod_new("web", PP_RESTART_ALWAYS),
		      *p2 = t_pod_new("done", PP_RESTART_NEVER);
	const struct pp_pod_view *views[2];
	struct pp_pod_view v1, v2;
	struct t_env *e1, *e2;
	json_t *t, *row;

	t_pod_add(p1, "web", false, false);
	t_pod_add(p2, "job", false, false);
	e1 = t_env_new(p1);
	e2 = t_env_new(p2);
	t_start(e1);
	t_start(e2);
	t_exit(e2, 0, 0, 0);
	t_clock_advance(2 * SEC);
	v1 = t_view(e1);
	v2 = t_view(e2);
	views[0] = &v1;
	views[1] = &v2;

	t = pp_pod_table(views, 2, 107, PP_INCLUDE_METADATA, true);
	assert_non_null(t);
	assert_json_str(t, "kind", "Table");
	assert_json_str(t, "apiVersion", "meta.k8s.io/v1");
	assert_json_str(t, "metadata.resourceVersion", "107");
	assert_int_equal(json_array_size(t_get(t, "columnDefinitions")), 9);
	for (int i = 0; i < 9; i++) {
		json_t *col = json_array_get(t_get(t, "columnDefinitions"), (size_t)i);

		assert_string_equal(json_string_value(json_object_get(col, "name")), names[i]);
		assert_int_equal(json_integer_value(json_object_get(col, "priority")), i >= 5);
		assert_true(json_string_length(json_object_get(col, "description")) > 0);
	}
	assert_json_str(t, "columnDefinitions.0.format", "name");
	assert_int_equal(json_array_size(t_get(t, "rows")), 2);
	row = t_get(t, "rows.0");
	assert_int_equal(json_array_size(json_object_get(row, "cells")), 9);
	assert_json_str(row, "cells.0", "web");
	assert_json_str(row, "cells.1", "1/1");
	assert_json_str(row, "cells.2", "Running");
	assert_json_str(row, "cells.3", "0");
	assert_json_str(row, "cells.4", "2s");
	assert_json_str(row, "cells.5", "127.0.0.1");
	assert_json_str(row, "cells.6", "podprobe");
	assert_json_str(row, "cells.7", "<none>");
	assert_json_str(row, "cells.8", "<none>");
	assert_json_str(row, "object.kind", "PartialObjectMetadata");
	assert_json_str(row, "object.apiVersion", "meta.k8s.io/v1");
	assert_json_str(row, "object.metadata.name", "web");
	assert_json_str(row, "object.metadata.uid", "8d3c5f0e-uid");
	assert_no_key(row, "object.status");
	assert_no_key(row, "conditions");
	row = t_get(t, "rows.1");
	assert_int_equal(json_array_size(json_object_get(row, "cells")), 9);
	assert_json_str(row, "cells.2", "Completed");
	assert_json_str(row, "conditions.0.type", "Completed");
	assert_json_str(row, "conditions.0.status", "True");
	assert_json_str(row, "conditions.0.reason", "Succeeded");
	json_decref(t);

	t = pp_pod_table(views, 2, 108, PP_INCLUDE_OBJECT, false);
	assert_non_null(t);
	assert_true(json_is_null(t_get(t, "columnDefinitions")));
	assert_json_str(t, "rows.0.object.kind", "Pod");
	assert_json_str(t, "rows.1.object.status.phase", "Succeeded");
	json_decref(t);

	t = pp_pod_table(views, 1, 108, PP_INCLUDE_NONE, true);
	assert_non_null(t);
	assert_no_key(t, "rows.0.object");
	json_decref(t);

	t = pp_pod_table(NULL, 0, 5, PP_INCLUDE_METADATA, true);
	assert_non_null(t);
	assert_int_equal(json_array_size(t_get(t, "rows")), 0);
	json_decref(t);
	t_env_free(e1);
	t_env_free(e2);
}

static void test_state_columns_without_api_metadata(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;
	char buf[48];

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_int_equal(pp_fmt_pod_ready(&e->ps, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "1/1");
	assert_true(pp_fmt_pod_status(&e->ps, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "Running");
	assert_int_equal(pp_fmt_pod_status(&e->ps, buf, 4), -ENOSPC);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0);
	t_until_running(e, 0);
	t_clock_advance(65 * SEC);
	assert_true(pp_fmt_pod_restarts(&e->ps, t_now(), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "1 (65s ago)");
	t_env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_loop_row_counts_restarts_and_age_of_last_exit),
		cmocka_unit_test(test_pod_waiting_for_volumes_is_not_ready_to_start),
		cmocka_unit_test(test_succeeded_pod_reads_completed_with_kubelet_conditions),
		cmocka_unit_test(test_init_containers_show_progress_then_pod_initializing),
		cmocka_unit_test(test_deleted_pod_reads_terminating_with_deletion_metadata),
		cmocka_unit_test(test_running_pod_object_has_kubelet_shape),
		cmocka_unit_test(test_restarted_container_gets_new_id_and_last_state),
		cmocka_unit_test(test_failed_init_reads_init_error_or_crash_loop),
		cmocka_unit_test(test_sidecars_count_in_ready_once_started),
		cmocka_unit_test(test_completed_beside_running_reads_not_ready_or_running),
		cmocka_unit_test(test_terminated_without_reason_shows_signal_or_exit_code),
		cmocka_unit_test(test_deadline_exceeded_shows_pod_reason),
		cmocka_unit_test(test_conditions_keep_transition_times_until_they_flip),
		cmocka_unit_test(test_qos_class_follows_requests_and_limits),
		cmocka_unit_test(test_object_metadata_spec_and_readiness_gates_are_kept),
		cmocka_unit_test(test_spec_shows_api_server_defaults_and_keeps_written_values),
		cmocka_unit_test(test_pull_policy_follows_the_image_tag),
		cmocka_unit_test(test_container_ids_follow_instances_across_two_restarts),
		cmocka_unit_test(test_container_statuses_list_volume_mounts),
		cmocka_unit_test(test_table_has_nine_columns_cells_and_row_objects),
		cmocka_unit_test(test_state_columns_without_api_metadata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
