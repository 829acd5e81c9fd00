// SPDX-License-Identifier: Apache-2.0
/*
 * The lifecycle controller under a fake clock: init ordering, restart policies, back-off,
 * termination, sidecars, phases and the kubectl columns. Rule ids are those of
 * user/core/lifecycle.c.
 */
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
#include "podprobe/backoff.h"
#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"

#define SEC PP_NSEC_PER_SEC

struct t_env {
	struct pp_pod *pod;
	struct pp_lc_cfg cfg;
	struct pp_pod_state ps;
	struct pp_actions acts;
	uint32_t next_pid;
};

static struct t_env *t_env_new(struct pp_pod *pod)
{
	struct t_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->pod = pod;
	e->cfg.min_kill_gap = PP_MIN_KILL_GAP;
	pp_backoff_cfg_fill(&e->cfg.backoff);
	assert_int_equal(pp_lc_init(&e->ps, pod, &e->cfg, "0000-uid"), 0);
	return e;
}

static void t_env_free(struct t_env *e)
{
	pp_lc_free(&e->ps);
	pp_actions_free(&e->acts);
	pp_pod_free(e->pod);
	free(e);
}

/* Number of actions of <kind> (for events: with <reason>, when not NULL). */
static int t_count(const struct t_env *e, enum pp_action_kind kind, const char *reason)
{
	int n = 0;

	for (size_t i = 0; i < e->acts.n; i++)
		if (e->acts.v[i].kind == kind &&
		    (!reason || (e->acts.v[i].reason && !strcmp(e->acts.v[i].reason, reason))))
			n++;
	return n;
}

static const struct pp_action *t_find(const struct t_env *e, enum pp_action_kind kind,
				      const char *reason)
{
	for (size_t i = 0; i < e->acts.n; i++)
		if (e->acts.v[i].kind == kind &&
		    (!reason || (e->acts.v[i].reason && !strcmp(e->acts.v[i].reason, reason))))
			return &e->acts.v[i];
	return NULL;
}

/* Container started by the last START action, or -1. */
static int t_started(const struct t_env *e)
{
	const struct pp_action *a = t_find(e, PP_ACT_START, NULL);

	return a ? (int)a->container : -1;
}

/*
 * Play the shell: answer every START with "started" (a fresh action list each round), until
 * no START is left. Returns the containers started, as a bit mask.
 */
static unsigned int t_settle(struct t_env *e)
{
	unsigned int mask = 0;
	bool again = true;

	while (again) {
		struct pp_action starts[16];
		size_t n = 0;

		again = false;
		for (size_t i = 0; i < e->acts.n && n < 16; i++)
			if (e->acts.v[i].kind == PP_ACT_START)
				starts[n++] = e->acts.v[i];
		for (size_t i = 0; i < n; i++) {
			pp_actions_clear(&e->acts);
			pp_lc_on_started(&e->ps, starts[i].container, starts[i].instance, t_now(),
					 &e->acts);
			mask |= 1u << starts[i].container;
			again = true;
		}
	}
	return mask;
}

static void t_start(struct t_env *e)
{
	pp_actions_clear(&e->acts);
	pp_lc_start(&e->ps, t_now(), &e->acts);
}

static void t_exit(struct t_env *e, uint32_t ci, int code, int sig, bool oom)
{
	struct pp_exit_info ex = {.code = code, .signal = sig, .oom_killed = oom};

	pp_actions_clear(&e->acts);
	pp_lc_on_exit(&e->ps, ci, e->ps.c[ci].instance, &ex, t_now(), &e->acts);
}

static void t_timer(struct t_env *e)
{
	pp_actions_clear(&e->acts);
	pp_lc_on_timer(&e->ps, t_now(), &e->acts);
}

static void assert_status(const struct t_env *e, const char *want)
{
	char buf[64];

	assert_true(pp_fmt_pod_status(&e->ps, buf, sizeof(buf)) >= 0);
	assert_string_equal(buf, want);
}

/* ---- init containers ------------------------------------------------------------------------- */

static void test_init_containers_run_one_at_a_time_in_order(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "wait-db", true, false);
	t_pod_add(pod, "init-data", true, false);
	t_pod_add(pod, "web", false, false);
	e = t_env_new(pod);

	/* K.2: init statuses decide the column even before anything started. */
	assert_status(e, "Init:0/2");
	t_start(e);
	assert_int_equal(t_started(e), 0);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	assert_non_null(t_find(e, PP_ACT_EVENT, "Pulled"));
	/* "Created" comes once the runtime has made the process, right before "Started". */
	assert_null(t_find(e, PP_ACT_EVENT, "Created"));
	assert_status(e, "Init:0/2");
	assert_int_equal(t_settle(e), 1u << 0);
	assert_non_null(t_find(e, PP_ACT_EVENT, "Created"));
	assert_status(e, "Init:0/2");
	assert_int_equal(e->ps.phase, PP_PHASE_PENDING);

	t_clock_advance(SEC);
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(t_started(e), 1);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	t_settle(e);
	assert_status(e, "Init:1/2");

	t_exit(e, 1, 0, 0, false);
	assert_int_equal(t_started(e), 2);
	/* Init done, the main container is being created (S.1, K.3). */
	assert_status(e, "PodInitializing");
	t_settle(e);
	assert_status(e, "Running");
	assert_int_equal(e->ps.phase, PP_PHASE_RUNNING);
	assert_true(e->ps.initialized);

	char ready[16];
	pp_fmt_pod_ready(&e->ps, ready, sizeof(ready));
	assert_string_equal(ready, "1/1");
	t_env_free(e);
}

static void test_failed_init_under_never_fails_pod_without_starting_main(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_non_null(t_find(e, PP_ACT_EVENT, "PodFailed"));
	assert_int_equal(e->ps.c[1].instance, 0);
	assert_status(e, "Init:Error");
	t_env_free(e);
}

static void test_failed_init_under_always_restarts_with_backoff(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 1, 0, false);
	/* R.4: the first restart is immediate. */
	assert_int_equal(t_started(e), 0);
	t_settle(e);
	assert_int_equal(e->ps.c[0].restart_count, 1);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_non_null(t_find(e, PP_ACT_EVENT, "BackOff"));
	assert_status(e, "Init:CrashLoopBackOff");
	assert_int_equal(pp_lc_next_deadline(&e->ps), t_now() + 10 * SEC);
	t_clock_advance(10 * SEC - 1);
	t_timer(e);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	t_clock_advance(1);
	t_timer(e);
	assert_int_equal(t_started(e), 0);
	assert_int_equal(e->ps.c[1].instance, 0);
	t_env_free(e);
}

/* ---- restart policy and back-off ---------------------------------------------------------- */

static void test_crashing_container_backoff_doubles_to_cap(void **state)
{
	static const unsigned int want[] = {0, 10, 20, 40, 80, 160, 300, 300};
	struct pp_pod *pod = t_pod_new("crash", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		pp_nsec exited;

		t_clock_advance(SEC);
		exited = t_now();
		t_exit(e, 0, 2, 0, false);
		if (want[i] == 0) {
			assert_int_equal(t_started(e), 0);
		} else {
			char msg[64];

			assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
			assert_int_equal(pp_lc_next_deadline(&e->ps), exited + want[i] * SEC);
			assert_status(e, "CrashLoopBackOff");
			snprintf(msg, sizeof(msg), "back-off %s restarting",
				 want[i] == 300	  ? "5m0s"
				 : want[i] == 160 ? "2m40s"
				 : want[i] == 80  ? "1m20s"
						  : "");
			if (want[i] >= 80)
				assert_memory_equal(e->ps.c[0].message, msg, strlen(msg));
			t_clock_set(exited + want[i] * SEC);
			t_timer(e);
			assert_int_equal(t_started(e), 0);
		}
		t_settle(e);
		assert_int_equal(e->ps.c[0].restart_count, i + 1);
	}
	t_env_free(e);
}

/* A container lost while podprobe was down ends as kubelet reports one it cannot find. */
static void test_lost_container_ends_as_container_status_unknown(void **state)
{
	struct pp_pod *pod = t_pod_new("lost", PP_RESTART_ALWAYS);
	struct pp_exit_info ex = {.unknown = true};
	const struct pp_action *ev;
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_clock_advance(SEC);
	pp_actions_clear(&e->acts);
	pp_lc_on_exit(&e->ps, 0, e->ps.c[0].instance, &ex, t_now(), &e->acts);
	assert_string_equal(e->ps.c[0].term.reason, "ContainerStatusUnknown");
	assert_int_equal(e->ps.c[0].term.exit_code, 137);
	assert_non_null(strstr(e->ps.c[0].term.message, "could not be located"));
	ev = t_find(e, PP_ACT_EVENT, "Terminated");
	assert_non_null(ev);
	assert_int_equal(ev->type, PP_EVENT_WARNING);
	assert_non_null(strstr(ev->message, "exit code 137, reason ContainerStatusUnknown"));
	/* restartPolicy Always: it starts again at once (the first restart has no back-off). */
	assert_int_equal(t_started(e), 0);
	t_settle(e);
	assert_int_equal(e->ps.c[0].restart_count, 1);
	t_env_free(e);
}

static void test_backoff_resets_after_ten_minutes_of_running(void **state)
{
	struct pp_pod *pod = t_pod_new("crash", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 1, 0, false); /* immediate restart */
	t_settle(e);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0, false); /* 10 s back-off */
	t_clock_advance(10 * SEC);
	t_timer(e);
	t_settle(e);
	t_clock_advance(601 * SEC); /* ran > 600 s: the entry expires (R.5) */
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_started(e), 0);
	t_env_free(e);
}

static void test_onfailure_completes_on_exit_zero_and_restarts_on_error(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_ON_FAILURE);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 3, 0, false);
	assert_int_equal(t_started(e), 0);
	/* PH.1: a container restarting after a failure keeps the pod Running. */
	assert_int_equal(e->ps.phase, PP_PHASE_RUNNING);
	t_settle(e);
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_SUCCEEDED);
	assert_status(e, "Completed");
	assert_non_null(t_find(e, PP_ACT_EVENT, "PodSucceeded"));
	t_env_free(e);
}

static void test_never_with_error_exit_fails_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_NEVER);
	struct t_env *e;
	const struct pp_action *a;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_status(e, "Error");
	a = t_find(e, PP_ACT_EVENT, "Terminated");
	assert_non_null(a);
	assert_int_equal(a->type, PP_EVENT_WARNING);
	assert_string_equal(a->message, "Container app terminated: exit code 1, reason Error");
	t_env_free(e);
}

static void test_always_restarts_even_after_exit_zero(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(t_started(e), 0);
	assert_false(e->ps.terminal);
	t_env_free(e);
}

static void test_never_mixed_exits_fail_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "a", false, false);
	t_pod_add(pod, "b", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_int_equal(t_settle(e), 3u);
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(e->ps.phase, PP_PHASE_RUNNING);
	assert_false(e->ps.terminal);
	t_exit(e, 1, 1, 0, false);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	t_env_free(e);
}

/* ---- states and reasons -------------------------------------------------------------------- */

static void test_signal_death_reports_128_plus_signal(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_NEVER);
	struct t_env *e;
	const struct pp_action *a;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 0, SIGKILL, false);
	assert_int_equal(e->ps.c[0].term.exit_code, 137);
	assert_string_equal(e->ps.c[0].term.reason, "Error");
	a = t_find(e, PP_ACT_EVENT, "Terminated");
	assert_non_null(a);
	assert_non_null(strstr(a->message, "signal 9 (SIGKILL)"));
	t_env_free(e);
}

static void test_oom_kill_is_reported_as_oomkilled(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 0, SIGKILL, true);
	assert_string_equal(e->ps.c[0].term.reason, "OOMKilled");
	assert_int_equal(e->ps.c[0].term.exit_code, 137);
	t_settle(e);
	t_clock_advance(SEC);
	t_exit(e, 0, 0, SIGKILL, true);
	assert_status(e, "CrashLoopBackOff");
	assert_string_equal(e->ps.c[0].term.reason, "OOMKilled");
	t_env_free(e);
}

static void test_exit_reported_twice_is_handled_once(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_NEVER);
	struct t_env *e;
	struct pp_exit_info ex = {.code = 1};
	uint32_t inst;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	inst = e->ps.c[0].instance;
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Terminated"), 1);
	pp_actions_clear(&e->acts);
	pp_lc_on_exit(&e->ps, 0, inst, &ex, t_now(), &e->acts);
	assert_int_equal(t_count(e, PP_ACT_EVENT, NULL), 0);
	/* An exit of an older instance is ignored too. */
	pp_lc_on_exit(&e->ps, 0, inst - 1, &ex, t_now(), &e->acts);
	assert_int_equal(t_count(e, PP_ACT_EVENT, NULL), 0);
	t_env_free(e);
}

static void test_start_failure_is_start_error_with_failed_event(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_NEVER);
	struct t_env *e;
	const struct pp_action *a;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	a = t_find(e, PP_ACT_START, NULL);
	assert_non_null(a);
	uint32_t inst = a->instance;
	pp_actions_clear(&e->acts);
	pp_lc_on_start_failed(&e->ps, 0, inst, "exec: \"nope\": executable file not found in $PATH",
			      t_now(), &e->acts);
	a = t_find(e, PP_ACT_EVENT, "Failed");
	assert_non_null(a);
	assert_string_equal(a->message,
			    "Error: exec: \"nope\": executable file not found in $PATH");
	assert_int_equal(e->ps.c[0].term.exit_code, 128);
	assert_string_equal(e->ps.c[0].term.reason, "StartError");
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	t_env_free(e);
}

/* ---- CreateContainerConfigError ------------------------------------------------------------ */

#define NONROOT_MSG                                                                               \
	"container has runAsNonRoot and image will run as root (pod: \"svc_default(0000-uid)\", " \
	"container: app)"

/* Answer the pending START of <ci> with a configuration error; returns its instance. */
static uint32_t t_config_error(struct t_env *e, uint32_t ci)
{
	const struct pp_action *a = t_find(e, PP_ACT_START, NULL);
	uint32_t inst;

	assert_non_null(a);
	assert_int_equal(a->container, ci);
	inst = a->instance;
	pp_actions_clear(&e->acts);
	pp_lc_on_config_error(&e->ps, ci, inst, NONROOT_MSG, t_now(), &e->acts);
	return inst;
}

static void test_config_error_waits_and_retries_without_counting_a_restart(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_NEVER);
	const struct pp_action *a;
	struct t_env *e;
	pp_nsec failed;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_config_error(e, 0);
	failed = t_now();
	a = t_find(e, PP_ACT_EVENT, "Failed");
	assert_non_null(a);
	assert_int_equal(a->type, PP_EVENT_WARNING);
	assert_string_equal(a->message, "Error: " NONROOT_MSG);
	/* Nothing was created: no Created event, no termination, no restart counted. */
	assert_null(t_find(e, PP_ACT_EVENT, "Created"));
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_WAITING);
	assert_string_equal(e->ps.c[0].reason, "CreateContainerConfigError");
	assert_string_equal(e->ps.c[0].message, NONROOT_MSG);
	assert_false(e->ps.c[0].has_term);
	assert_int_equal(e->ps.c[0].restart_count, 0);
	assert_int_equal(e->ps.phase, PP_PHASE_PENDING);
	assert_false(e->ps.terminal);
	assert_status(e, "CreateContainerConfigError");

	/* Tried again after kubelet's pod-worker back-off, whatever the restart policy. */
	assert_int_equal(pp_lc_next_deadline(&e->ps), failed + PP_CONFIG_RETRY);
	t_clock_set(failed + PP_CONFIG_RETRY - 1);
	t_timer(e);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	t_clock_set(failed + PP_CONFIG_RETRY);
	t_timer(e);
	assert_int_equal(t_started(e), 0);
	t_config_error(e, 0);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Failed"), 1);
	assert_int_equal(e->ps.c[0].restart_count, 0);

	/* Once the configuration can be carried out, the container starts as its first. */
	t_clock_advance(PP_CONFIG_RETRY);
	t_timer(e);
	assert_int_equal(t_settle(e), 1u << 0);
	assert_non_null(t_find(e, PP_ACT_EVENT, "Created"));
	assert_non_null(t_find(e, PP_ACT_EVENT, "Started"));
	assert_int_equal(e->ps.c[0].restart_count, 0);
	assert_status(e, "Running");
	t_exit(e, 0, 0, 0, false);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_SUCCEEDED);
	t_env_free(e);
}

static void test_config_error_of_init_container_holds_the_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", true, false);
	t_pod_add(pod, "main", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_config_error(e, 0);
	assert_status(e, "Init:CreateContainerConfigError");
	assert_int_equal(e->ps.phase, PP_PHASE_PENDING);
	t_clock_advance(PP_CONFIG_RETRY);
	t_timer(e);
	assert_int_equal(t_started(e), 0);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	assert_int_equal(e->ps.c[1].instance, 0);
	t_env_free(e);
}

static void test_config_error_after_a_crash_keeps_the_restart_count(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	t_pod_add(pod, "other", false, false);
	e = t_env_new(pod);
	t_start(e);
	/* A configuration error does not hold the next container (kubelet's start loop). */
	t_config_error(e, 0);
	assert_int_equal(t_started(e), 1);
	t_settle(e);
	t_clock_advance(PP_CONFIG_RETRY);
	t_timer(e);
	t_settle(e);
	assert_int_equal(e->ps.c[0].restart_count, 0);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_started(e), 0); /* R.4: the first restart is at once */
	t_config_error(e, 0);
	/* The waiting container shows the count of the one that ran, and its termination. */
	assert_int_equal(e->ps.c[0].restart_count, 0);
	assert_true(e->ps.c[0].has_term);
	assert_string_equal(e->ps.c[0].reason, "CreateContainerConfigError");
	t_clock_advance(PP_CONFIG_RETRY);
	t_timer(e);
	t_settle(e);
	assert_int_equal(e->ps.c[0].restart_count, 1);
	assert_true(e->ps.c[0].has_last);
	t_env_free(e);
}

static void test_delete_during_config_error_ends_the_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	const struct pp_action *a;
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_config_error(e, 0);
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	a = t_find(e, PP_ACT_EVENT, "PodFailed");
	assert_non_null(a);
	assert_string_equal(a->message, "Pod failed: container app never ran");
	assert_int_equal(pp_lc_next_deadline(&e->ps), PP_NSEC_INFINITY);
	t_env_free(e);
}

static void test_stale_config_error_is_ignored(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_NEVER);
	struct t_env *e;
	uint32_t inst;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	inst = t_find(e, PP_ACT_START, NULL)->instance;
	t_settle(e);
	/* The instance is running: a late configuration error for it changes nothing. */
	pp_actions_clear(&e->acts);
	pp_lc_on_config_error(&e->ps, 0, inst, "late", t_now(), &e->acts);
	assert_int_equal(e->acts.n, 0);
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_RUNNING);
	t_env_free(e);
}

/* ---- volumes (kubelet's WaitForAttachAndMount) ------------------------------------------------
 */

#define MOUNT_MSG  "MountVolume.SetUp failed for volume \"cfg\" : configmap \"later\" not found"
#define MOUNT_MSG2 "MountVolume.SetUp failed for volume \"tls\" : secret \"tls\" not found"

static struct t_env *t_env_volumes(struct pp_pod *pod)
{
	struct t_env *e = t_env_new(pod);

	e->cfg.wait_for_volumes = true;
	return e;
}

/* The shell's answer to PP_ACT_MOUNT: <n> (at most 2) failures, or with n = 0 ready. */
static void t_answer_mount(struct t_env *e, size_t n)
{
	static const char *const msgs[] = {MOUNT_MSG, MOUNT_MSG2};

	pp_actions_clear(&e->acts);
	if (n)
		pp_lc_on_volumes_pending(&e->ps, msgs, n, t_now(), &e->acts);
	else
		pp_lc_volumes_ready(&e->ps, t_now(), &e->acts);
}

/* The last input asked for the volumes, once: answer as t_answer_mount(). */
static void t_mount(struct t_env *e, size_t n)
{
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 1);
	assert_int_equal(t_find(e, PP_ACT_MOUNT, NULL)->container, PP_NO_CONTAINER);
	t_answer_mount(e, n);
}

/* Nothing of any container happened: no start, no Pulled/Created/Started. */
static void assert_no_container_action(const struct t_env *e)
{
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_int_equal(t_count(e, PP_ACT_HOOK, NULL), 0);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 0);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Pulled"), 0);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Created"), 0);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Started"), 0);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Failed"), 0);
}

static void test_volumes_pending_hold_every_container_with_exponential_back_off(void **state)
{
	/* nestedpendingoperations: 500 ms, doubling, at most 2 min 2 s. */
	static const pp_nsec delays_ms[] = {500,   1000,  2000,	  4000,	  8000,	 16000,
					    32000, 64000, 122000, 122000, 122000};
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	const struct pp_action *a;
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	t_pod_add(pod, "side", false, false);
	e = t_env_volumes(pod);
	t_start(e);
	/* The first sync asks for the volumes, and nothing else. */
	assert_no_container_action(e);
	t_mount(e, 2);
	/* One FailedMount per volume, on the pod (no container), Warning. */
	assert_int_equal(t_count(e, PP_ACT_EVENT, "FailedMount"), 2);
	a = t_find(e, PP_ACT_EVENT, "FailedMount");
	assert_int_equal(a->type, PP_EVENT_WARNING);
	assert_int_equal(a->container, PP_NO_CONTAINER);
	assert_string_equal(a->message, MOUNT_MSG);
	assert_string_equal(e->acts.v[1].message, MOUNT_MSG2);
	assert_no_container_action(e);
	for (size_t i = 0; i < e->ps.n; i++) {
		assert_int_equal(e->ps.c[i].state, PP_CSTATE_WAITING);
		assert_string_equal(e->ps.c[i].reason, "ContainerCreating");
		assert_string_equal(e->ps.c[i].message, "");
		assert_int_equal(e->ps.c[i].instance, 0);
	}
	assert_int_equal(e->ps.phase, PP_PHASE_PENDING);
	assert_status(e, "ContainerCreating");

	for (size_t k = 0; k < sizeof(delays_ms) / sizeof(delays_ms[0]); k++) {
		pp_nsec failed = t_now(), d = delays_ms[k] * PP_NSEC_PER_MSEC;

		assert_int_equal(pp_lc_next_deadline(&e->ps), failed + d);
		/* Not a moment earlier. */
		t_clock_set(failed + d - 1);
		t_timer(e);
		assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
		assert_no_container_action(e);
		t_clock_set(failed + d);
		t_timer(e);
		assert_no_container_action(e);
		assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 1);
		/* One attempt at a time: none again while it is out, and no timer for it. */
		assert_int_equal(pp_lc_next_deadline(&e->ps), PP_NSEC_INFINITY);
		t_timer(e);
		assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
		t_answer_mount(e, 1);
		/* FailedMount again at each retry (the recorder aggregates them). */
		assert_int_equal(t_count(e, PP_ACT_EVENT, "FailedMount"), 1);
		assert_no_container_action(e);
		assert_status(e, "ContainerCreating");
	}
	assert_int_equal(e->ps.mount_failures, 12);
	t_env_free(e);
}

static void test_volumes_ready_start_the_pod_once(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct t_env *e;
	uint32_t inst;

	t_pod_add(pod, "app", false, false);
	e = t_env_volumes(pod);
	t_start(e);
	t_mount(e, 1);
	t_clock_advance(500 * PP_NSEC_PER_MSEC);
	t_timer(e);
	t_mount(e, 1);
	t_clock_advance(SEC);
	t_timer(e);
	t_mount(e, 0);
	/* Now, and only now, the container: Pulled and its start, once. */
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Pulled"), 1);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "FailedMount"), 0);
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
	assert_int_equal(t_started(e), 0);
	inst = t_find(e, PP_ACT_START, NULL)->instance;
	assert_int_equal(inst, 1);
	pp_actions_clear(&e->acts);
	pp_lc_on_started(&e->ps, 0, inst, t_now(), &e->acts);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Created"), 1);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Started"), 1);
	assert_int_equal(t_count(e, PP_ACT_EVENT, "Pulled"), 0);
	assert_int_equal(e->ps.c[0].restart_count, 0);
	assert_status(e, "Running");
	assert_int_equal(e->ps.phase, PP_PHASE_RUNNING);
	/* A restart does not wait for the volumes again: they stay mounted. */
	t_exit(e, 0, 1, 0, false);
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
	assert_int_equal(t_started(e), 0);
	/* An answer nobody asked for changes nothing. */
	pp_actions_clear(&e->acts);
	pp_lc_on_volumes_pending(&e->ps, (const char *const[]){MOUNT_MSG}, 1, t_now(), &e->acts);
	pp_lc_volumes_ready(&e->ps, t_now(), &e->acts);
	assert_int_equal(e->acts.n, 0);
	t_env_free(e);
}

static void test_volumes_pending_hold_init_containers(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "side", true, true);
	t_pod_add(pod, "prep", true, false);
	t_pod_add(pod, "app", false, false);
	e = t_env_volumes(pod);
	t_start(e);
	assert_no_container_action(e);
	t_mount(e, 1);
	assert_no_container_action(e);
	/* kubelet's default waiting reason for a pod with init containers. */
	for (size_t i = 0; i < e->ps.n; i++)
		assert_string_equal(e->ps.c[i].reason, "PodInitializing");
	assert_status(e, "Init:0/2");
	assert_int_equal(e->ps.phase, PP_PHASE_PENDING);
	t_clock_advance(500 * PP_NSEC_PER_MSEC);
	t_timer(e);
	t_mount(e, 0);
	/* The init sequence starts as usual: the sidecar first, nothing else yet. */
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	assert_int_equal(t_started(e), 0);
	assert_int_equal(t_settle(e), (1u << 0) | (1u << 1));
	t_exit(e, 1, 0, 0, false);
	assert_int_equal(t_started(e), 2);
	t_env_free(e);
}

static void test_delete_while_volumes_pending_ends_the_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct t_env *e;

	pod->termination_grace_s = 30;
	t_pod_add(pod, "app", false, false);
	e = t_env_volumes(pod);
	t_start(e);
	t_mount(e, 1);
	t_clock_advance(100 * PP_NSEC_PER_MSEC);
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	/* Gone at once: nothing ran, nothing to stop, no mount tried again. */
	assert_true(e->ps.terminal);
	assert_no_container_action(e);
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
	assert_int_equal(e->ps.c[0].instance, 0);
	assert_int_equal(e->ps.c[0].created, 0);
	assert_int_equal(pp_lc_next_deadline(&e->ps), PP_NSEC_INFINITY);
	t_clock_advance(10 * SEC);
	t_timer(e);
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
	assert_no_container_action(e);
	/* A late answer finds the pod over. */
	pp_actions_clear(&e->acts);
	pp_lc_volumes_ready(&e->ps, t_now(), &e->acts);
	assert_int_equal(e->acts.n, 0);
	t_env_free(e);
}

static void test_active_deadline_counts_while_volumes_pending(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct t_env *e;
	pp_nsec started = t_now();

	pod->has_active_deadline = true;
	pod->active_deadline_s = 5;
	t_pod_add(pod, "app", false, false);
	e = t_env_volumes(pod);
	t_start(e);
	for (int i = 0; i < 3; i++) {
		t_mount(e, 1);
		t_clock_set(pp_lc_next_deadline(&e->ps));
		t_timer(e);
	}
	t_mount(e, 1); /* failed at 3.5 s: the next try would be at 7.5 s */
	assert_int_equal(pp_lc_next_deadline(&e->ps), started + 5 * SEC);
	t_clock_set(started + 5 * SEC);
	t_timer(e);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_string_equal(e->ps.reason, "DeadlineExceeded");
	assert_no_container_action(e);
	t_env_free(e);
}

static void test_nothing_waits_for_volumes_unless_asked(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_int_equal(t_count(e, PP_ACT_MOUNT, NULL), 0);
	assert_int_equal(t_started(e), 0);
	t_env_free(e);
}

/* ---- termination ---------------------------------------------------------------------------- */

static void test_delete_sends_sigterm_then_sigkill_after_grace(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;
	const struct pp_action *a;
	pp_nsec deleted;

	pod->termination_grace_s = 5;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	deleted = t_now();
	pp_lc_delete(&e->ps, deleted, &e->acts);
	a = t_find(e, PP_ACT_EVENT, "Killing");
	assert_non_null(a);
	assert_string_equal(a->message, "Stopping container app");
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->signo, SIGTERM);
	assert_status(e, "Terminating");
	assert_int_equal(pp_lc_next_deadline(&e->ps), deleted + 5 * SEC);
	t_clock_set(deleted + 5 * SEC - 1);
	t_timer(e);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 0);
	t_clock_set(deleted + 5 * SEC);
	t_timer(e);
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->signo, SIGKILL);
	t_exit(e, 0, 0, SIGKILL, false);
	/* T.5: nothing restarts in a deleted pod; PH.3: the exits decide the phase. */
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	t_env_free(e);
}

static void test_sigkill_comes_at_least_two_seconds_after_sigterm(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	pod->termination_grace_s = 0;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	assert_int_equal(pp_lc_next_deadline(&e->ps), t_now() + 2 * SEC);
	t_env_free(e);
}

static void test_delete_during_backoff_ends_pod_without_restart(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 1, 0, false);
	t_settle(e);
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0, false);
	assert_status(e, "CrashLoopBackOff");
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_int_equal(pp_lc_next_deadline(&e->ps), PP_NSEC_INFINITY);
	t_env_free(e);
}

static void test_sidecars_stop_after_main_in_reverse_order(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_NEVER);
	struct t_env *e;
	const struct pp_action *a;

	t_pod_add(pod, "s1", true, true);
	t_pod_add(pod, "s2", true, true);
	t_pod_add(pod, "main", false, false);
	e = t_env_new(pod);
	t_start(e);
	/* I.5: each sidecar starts once the one before it has started. */
	assert_int_equal(t_started(e), 0);
	assert_int_equal(t_settle(e), 7u);
	assert_status(e, "Running");
	char ready[16];
	pp_fmt_pod_ready(&e->ps, ready, sizeof(ready));
	assert_string_equal(ready, "3/3");

	t_exit(e, 2, 0, 0, false);
	/* I.8 and T.4: main done, so the last sidecar is stopped first, alone. */
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->container, 1);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 1);
	t_exit(e, 1, 0, SIGTERM, false);
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->container, 0);
	t_exit(e, 0, 0, SIGTERM, false);
	/* Sidecar exit codes do not decide the phase. */
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_SUCCEEDED);
	t_env_free(e);
}

static void test_sidecar_restarts_whatever_the_pod_policy(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_NEVER);
	struct t_env *e;

	t_pod_add(pod, "proxy", true, true);
	t_pod_add(pod, "main", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(t_started(e), 0);
	t_env_free(e);
}

static void test_sidecar_with_startup_probe_gates_next_init(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *sc;
	struct t_env *e;

	sc = t_pod_add(pod, "proxy", true, true);
	sc->startup.set = true;
	t_pod_add(pod, "init", true, false);
	t_pod_add(pod, "main", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_int_equal(t_settle(e), 1u);
	assert_status(e, "Init:0/2");
	pp_actions_clear(&e->acts);
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_STARTUP, true, t_now(),
			       &e->acts);
	assert_int_equal(t_started(e), 1);
	t_env_free(e);
}

static void test_liveness_failure_kills_and_restarts(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ON_FAILURE);
	struct pp_container_spec *c;
	struct t_env *e;
	const struct pp_action *a;

	c = t_pod_add(pod, "app", false, false);
	c->liveness.set = true;
	c->liveness.has_termination_grace = true;
	c->liveness.termination_grace_s = 3;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_LIVENESS, false, t_now(),
			       &e->acts);
	a = t_find(e, PP_ACT_EVENT, "Killing");
	assert_non_null(a);
	assert_string_equal(a->message, "Container app failed liveness probe, will be restarted");
	/* T.1: the probe's grace period applies to the kill it causes. */
	assert_int_equal(pp_lc_next_deadline(&e->ps), t_now() + 3 * SEC);
	/* R.3: decided at kill time, whatever the exit code. */
	t_exit(e, 0, 0, 0, false);
	assert_int_equal(t_started(e), 0);
	t_env_free(e);
}

static void test_readiness_drives_ready_column(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct pp_container_spec *c;
	struct t_env *e;
	char ready[16];

	c = t_pod_add(pod, "app", false, false);
	c->readiness.set = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_fmt_pod_ready(&e->ps, ready, sizeof(ready));
	assert_string_equal(ready, "0/1");
	pp_actions_clear(&e->acts);
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_READINESS, true, t_now(),
			       &e->acts);
	pp_fmt_pod_ready(&e->ps, ready, sizeof(ready));
	assert_string_equal(ready, "1/1");
	t_env_free(e);
}

static void test_active_deadline_fails_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("job", PP_RESTART_ALWAYS);
	struct t_env *e;
	const struct pp_action *a;
	pp_nsec started;

	pod->has_active_deadline = true;
	pod->active_deadline_s = 5;
	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	started = t_now();
	t_start(e);
	t_settle(e);
	assert_int_equal(pp_lc_next_deadline(&e->ps), started + 5 * SEC);
	t_clock_set(started + 5 * SEC);
	t_timer(e);
	a = t_find(e, PP_ACT_EVENT, "DeadlineExceeded");
	assert_non_null(a);
	assert_string_equal(a->message,
			    "Pod was active on the node longer than the specified deadline");
	assert_non_null(t_find(e, PP_ACT_SIGNAL, NULL));
	t_exit(e, 0, 0, SIGTERM, false);
	assert_true(e->ps.terminal);
	assert_int_equal(e->ps.phase, PP_PHASE_FAILED);
	assert_string_equal(e->ps.reason, "DeadlineExceeded");
	t_env_free(e);
}

static void test_restarts_column_shows_age_of_last_exit(void **state)
{
	struct pp_pod *pod = t_pod_new("svc", PP_RESTART_ALWAYS);
	struct t_env *e;
	char buf[48];

	t_pod_add(pod, "app", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_fmt_pod_restarts(&e->ps, t_now(), buf, sizeof(buf));
	assert_string_equal(buf, "0");
	t_exit(e, 0, 1, 0, false);
	t_settle(e);
	t_clock_advance(45 * SEC);
	pp_fmt_pod_restarts(&e->ps, t_now(), buf, sizeof(buf));
	assert_string_equal(buf, "1 (45s ago)");
	t_env_free(e);
}

/* ---- lifecycle hooks ---------------------------------------------------------------------------
 */

static const struct pp_action *t_find_hook(const struct t_env *e, enum pp_hook_kind hook)
{
	for (size_t i = 0; i < e->acts.n; i++)
		if (e->acts.v[i].kind == PP_ACT_HOOK && e->acts.v[i].hook == hook)
			return &e->acts.v[i];
	return NULL;
}

static void t_hook_done(struct t_env *e, uint32_t ci, enum pp_hook_kind hook, bool ok)
{
	pp_actions_clear(&e->acts);
	pp_lc_on_hook_done(&e->ps, ci, e->ps.c[ci].instance, hook, ok, ok ? NULL : "hook failed",
			   t_now(), &e->acts);
}

static void test_post_start_holds_running_and_the_next_container(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;

	a = t_pod_add(pod, "a", false, false);
	a->has_post_start = true;
	t_pod_add(pod, "b", false, false);
	e = t_env_new(pod);
	t_start(e);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 1);
	pp_actions_clear(&e->acts);
	pp_lc_on_started(&e->ps, 0, e->ps.c[0].instance, t_now(), &e->acts);
	/* L.3: Started comes before the hook; the container stays Waiting; b waits too. */
	assert_non_null(t_find(e, PP_ACT_EVENT, "Started"));
	assert_non_null(t_find_hook(e, PP_HOOK_POST_START));
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_WAITING);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_false(pp_lc_probe_allowed(&e->ps, 0, PP_PROBE_LIVENESS));
	assert_status(e, "ContainerCreating");
	t_clock_advance(5 * SEC);
	t_hook_done(e, 0, PP_HOOK_POST_START, true);
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_RUNNING);
	assert_int_equal(t_started(e), 1);
	t_env_free(e);
}

static void test_failed_post_start_kills_and_restarts(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;
	const struct pp_action *ev;

	a = t_pod_add(pod, "a", false, false);
	a->has_post_start = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	t_hook_done(e, 0, PP_HOOK_POST_START, false);
	assert_non_null(t_find(e, PP_ACT_EVENT, "FailedPostStartHook"));
	ev = t_find(e, PP_ACT_EVENT, "Killing");
	assert_non_null(ev);
	assert_string_equal(ev->message, "FailedPostStartHook");
	assert_int_equal(t_find(e, PP_ACT_SIGNAL, NULL)->signo, SIGTERM);
	t_exit(e, 0, 0, SIGTERM, false);
	assert_int_equal(t_started(e), 0);
	t_env_free(e);
}

static void test_pre_stop_runs_before_sigterm(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;
	const struct pp_action *h;
	pp_nsec deleted;

	pod->termination_grace_s = 10;
	a = t_pod_add(pod, "a", false, false);
	a->has_pre_stop = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	deleted = t_now();
	pp_lc_delete(&e->ps, deleted, &e->acts);
	/* L.5: Killing, then preStop; no signal yet. */
	assert_non_null(t_find(e, PP_ACT_EVENT, "Killing"));
	h = t_find_hook(e, PP_HOOK_PRE_STOP);
	assert_non_null(h);
	assert_int_equal(h->hook_budget, 10 * SEC);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 0);
	t_clock_advance(3 * SEC);
	t_hook_done(e, 0, PP_HOOK_PRE_STOP, true);
	assert_int_equal(t_find(e, PP_ACT_SIGNAL, NULL)->signo, SIGTERM);
	/* The hook's time counts against the grace period. */
	assert_int_equal(pp_lc_next_deadline(&e->ps), deleted + 10 * SEC);
	t_env_free(e);
}

/*
 * P2.12, upstream e2e "should mark readiness on pods to false while pod is in progress of
 * terminating": during preStop and the grace period readiness goes on (liveness and startup
 * stop), and a failure turns the container unready while it still runs.
 */
static void test_readiness_goes_on_while_the_pod_terminates(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;

	pod->termination_grace_s = 30;
	a = t_pod_add(pod, "a", false, false);
	a->has_pre_stop = true;
	a->readiness.set = true;
	a->liveness.set = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_READINESS, true, t_now(),
			       &e->acts);
	assert_true(e->ps.c[0].ready);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	assert_non_null(t_find_hook(e, PP_HOOK_PRE_STOP));
	assert_true(pp_lc_probe_allowed(&e->ps, 0, PP_PROBE_READINESS));
	assert_false(pp_lc_probe_allowed(&e->ps, 0, PP_PROBE_LIVENESS));
	assert_false(pp_lc_probe_allowed(&e->ps, 0, PP_PROBE_STARTUP));
	t_clock_advance(2 * SEC);
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_READINESS, false, t_now(),
			       &e->acts);
	assert_false(e->ps.c[0].ready);
	assert_int_equal(e->ps.c[0].state, PP_CSTATE_RUNNING);
	/* A liveness failure now kills nothing more (the stop is under way). */
	pp_lc_on_probe_verdict(&e->ps, 0, e->ps.c[0].instance, PP_PROBE_LIVENESS, false, t_now(),
			       &e->acts);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 0);
	t_env_free(e);
}

/*
 * Issue 11, item 3: restartPolicy Never, the only regular container fails liveness and runs a
 * 13 s preStop. The pod is over as soon as that stop begins: a sidecar that exits meanwhile
 * is not restarted when its back-off ends, and is not liveness-probed.
 */
static void test_sidecar_not_restarted_while_the_last_main_stops_for_good(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *side, *main;
	struct t_env *e;

	pod->termination_grace_s = 30;
	side = t_pod_add(pod, "side", true, true);
	side->liveness.set = true;
	main = t_pod_add(pod, "main", false, false);
	main->has_pre_stop = true;
	main->liveness.set = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	assert_true(e->ps.c[1].alive);
	pp_actions_clear(&e->acts);
	pp_lc_on_probe_verdict(&e->ps, 1, e->ps.c[1].instance, PP_PROBE_LIVENESS, false, t_now(),
			       &e->acts);
	assert_non_null(t_find_hook(e, PP_HOOK_PRE_STOP));
	assert_true(e->ps.terminating);
	assert_false(pp_lc_probe_allowed(&e->ps, 0, PP_PROBE_LIVENESS));
	/* The sidecar dies during the preStop: nothing restarts it, even after its back-off. */
	t_clock_advance(SEC);
	t_exit(e, 0, 1, 0, false);
	t_clock_advance(20 * SEC);
	t_timer(e);
	assert_int_equal(t_count(e, PP_ACT_START, NULL), 0);
	assert_false(e->ps.c[0].restart_due);
	t_env_free(e);
}

static void test_pre_stop_overrunning_grace_gets_sigterm_then_sigkill(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;
	pp_nsec deleted;

	pod->termination_grace_s = 5;
	a = t_pod_add(pod, "a", false, false);
	a->has_pre_stop = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	deleted = t_now();
	pp_lc_delete(&e->ps, deleted, &e->acts);
	assert_int_equal(pp_lc_next_deadline(&e->ps), deleted + 5 * SEC);
	t_clock_set(deleted + 5 * SEC);
	t_timer(e);
	/* L.6: G passed with the hook still running: SIGTERM now, SIGKILL 2 s later. */
	assert_int_equal(t_find(e, PP_ACT_SIGNAL, NULL)->signo, SIGTERM);
	assert_int_equal(pp_lc_next_deadline(&e->ps), deleted + 7 * SEC);
	t_clock_set(deleted + 7 * SEC);
	t_timer(e);
	assert_int_equal(t_find(e, PP_ACT_SIGNAL, NULL)->signo, SIGKILL);
	t_env_free(e);
}

static void test_failed_pre_stop_only_adds_an_event(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *a;
	struct t_env *e;

	a = t_pod_add(pod, "a", false, false);
	a->has_pre_stop = true;
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	t_hook_done(e, 0, PP_HOOK_PRE_STOP, false);
	assert_non_null(t_find(e, PP_ACT_EVENT, "FailedPreStopHook"));
	assert_int_equal(t_find(e, PP_ACT_SIGNAL, NULL)->signo, SIGTERM);
	t_env_free(e);
}

static void test_sidecar_pre_stop_starts_with_termination_but_signal_waits(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_ALWAYS);
	struct pp_container_spec *sc;
	struct t_env *e;
	const struct pp_action *a;

	sc = t_pod_add(pod, "proxy", true, true);
	sc->has_pre_stop = true;
	t_pod_add(pod, "main", false, false);
	e = t_env_new(pod);
	t_start(e);
	t_settle(e);
	pp_actions_clear(&e->acts);
	pp_lc_delete(&e->ps, t_now(), &e->acts);
	/* D.10: the sidecar's preStop runs at once; only main gets SIGTERM now. */
	assert_non_null(t_find_hook(e, PP_HOOK_PRE_STOP));
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->container, 1);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 1);
	t_hook_done(e, 0, PP_HOOK_PRE_STOP, true);
	assert_int_equal(t_count(e, PP_ACT_SIGNAL, NULL), 0);
	t_exit(e, 1, 0, SIGTERM, false);
	a = t_find(e, PP_ACT_SIGNAL, NULL);
	assert_non_null(a);
	assert_int_equal(a->container, 0);
	t_env_free(e);
}

/* ---- random sequences: invariants ------------------------------------------------------------ */

static void test_random_inputs_keep_invariants(void **state)
{
	unsigned int seed = 12345;

	for (int round = 0; round < 300; round++) {
		struct pp_pod *pod = t_pod_new("rnd", (enum pp_restart_policy)(rand_r(&seed) % 3));
		struct t_env *e;
		int n_init = rand_r(&seed) % 3, n_main = 1 + rand_r(&seed) % 2;
		char name[8];

		for (int i = 0; i < n_init; i++) {
			snprintf(name, sizeof(name), "i%d", i);
			t_pod_add(pod, name, true, rand_r(&seed) % 3 == 0);
		}
		for (int i = 0; i < n_main; i++) {
			snprintf(name, sizeof(name), "m%d", i);
			t_pod_add(pod, name, false, false);
		}
		e = t_env_new(pod);
		t_start(e);
		for (int step = 0; step < 60 && !e->ps.terminal; step++) {
			uint32_t ci = (uint32_t)(rand_r(&seed) % e->ps.n);
			bool was_terminal = e->ps.terminal;

			switch (rand_r(&seed) % 5) {
			case 0:
				t_settle(e);
				break;
			case 1:
				if (e->ps.c[ci].alive)
					t_exit(e, ci, rand_r(&seed) % 2, 0, false);
				break;
			case 2:
				t_clock_advance((pp_nsec)(rand_r(&seed) % 400) * SEC);
				t_timer(e);
				/* Whatever was due has been handled: the next deadline is ahead. */
				t_settle(e);
				assert_true(pp_lc_next_deadline(&e->ps) > t_now());
				break;
			case 3:
				if (rand_r(&seed) % 10 == 0) {
					pp_actions_clear(&e->acts);
					pp_lc_delete(&e->ps, t_now(), &e->acts);
				}
				break;
			default:
				t_settle(e);
				if (e->ps.c[ci].alive)
					t_exit(e, ci, 0, SIGKILL, false);
				break;
			}
			for (size_t i = 0; i < e->ps.n; i++) {
				const struct pp_container_state *c = &e->ps.c[i];

				/* R.7: every instance the runtime created, less the current. */
				assert_int_equal(c->created,
						 c->instance - (c->start_pending ? 1 : 0));
				assert_int_equal(c->restart_count, c->created ? c->created - 1 : 0);
				assert_false(c->alive && c->start_pending);
				if (c->state == PP_CSTATE_RUNNING)
					assert_true(c->alive);
			}
			/* PH.2: a terminal phase never changes. */
			if (was_terminal)
				assert_true(e->ps.terminal);
		}
		t_env_free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_containers_run_one_at_a_time_in_order),
		cmocka_unit_test(test_failed_init_under_never_fails_pod_without_starting_main),
		cmocka_unit_test(test_failed_init_under_always_restarts_with_backoff),
		cmocka_unit_test(test_crashing_container_backoff_doubles_to_cap),
		cmocka_unit_test(test_lost_container_ends_as_container_status_unknown),
		cmocka_unit_test(test_backoff_resets_after_ten_minutes_of_running),
		cmocka_unit_test(test_onfailure_completes_on_exit_zero_and_restarts_on_error),
		cmocka_unit_test(test_never_with_error_exit_fails_pod),
		cmocka_unit_test(test_always_restarts_even_after_exit_zero),
		cmocka_unit_test(test_never_mixed_exits_fail_pod),
		cmocka_unit_test(test_signal_death_reports_128_plus_signal),
		cmocka_unit_test(test_oom_kill_is_reported_as_oomkilled),
		cmocka_unit_test(test_exit_reported_twice_is_handled_once),
		cmocka_unit_test(test_start_failure_is_start_error_with_failed_event),
		cmocka_unit_test(test_config_error_waits_and_retries_without_counting_a_restart),
		cmocka_unit_test(test_config_error_of_init_container_holds_the_pod),
		cmocka_unit_test(test_config_error_after_a_crash_keeps_the_restart_count),
		cmocka_unit_test(test_delete_during_config_error_ends_the_pod),
		cmocka_unit_test(test_stale_config_error_is_ignored),
		cmocka_unit_test(test_delete_sends_sigterm_then_sigkill_after_grace),
		cmocka_unit_test(test_sigkill_comes_at_least_two_seconds_after_sigterm),
		cmocka_unit_test(test_delete_during_backoff_ends_pod_without_restart),
		cmocka_unit_test(test_sidecars_stop_after_main_in_reverse_order),
		cmocka_unit_test(test_sidecar_restarts_whatever_the_pod_policy),
		cmocka_unit_test(test_sidecar_not_restarted_while_the_last_main_stops_for_good),
		cmocka_unit_test(test_sidecar_with_startup_probe_gates_next_init),
		cmocka_unit_test(test_liveness_failure_kills_and_restarts),
		cmocka_unit_test(test_readiness_drives_ready_column),
		cmocka_unit_test(test_active_deadline_fails_pod),
		cmocka_unit_test(test_restarts_column_shows_age_of_last_exit),
		cmocka_unit_test(test_post_start_holds_running_and_the_next_container),
		cmocka_unit_test(test_failed_post_start_kills_and_restarts),
		cmocka_unit_test(test_pre_stop_runs_before_sigterm),
		cmocka_unit_test(test_readiness_goes_on_while_the_pod_terminates),
		cmocka_unit_test(test_pre_stop_overrunning_grace_gets_sigterm_then_sigkill),
		cmocka_unit_test(test_failed_pre_stop_only_adds_an_event),
		cmocka_unit_test(test_sidecar_pre_stop_starts_with_termination_but_signal_waits),
		cmocka_unit_test(
			test_volumes_pending_hold_every_container_with_exponential_back_off),
		cmocka_unit_test(test_volumes_ready_start_the_pod_once),
		cmocka_unit_test(test_volumes_pending_hold_init_containers),
		cmocka_unit_test(test_delete_while_volumes_pending_ends_the_pod),
		cmocka_unit_test(test_active_deadline_counts_while_volumes_pending),
		cmocka_unit_test(test_nothing_waits_for_volumes_unless_asked),
		cmocka_unit_test(test_random_inputs_keep_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
