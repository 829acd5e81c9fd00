// SPDX-License-Identifier: Apache-2.0
/*
 * The lifecycle controller: kubelet's pod sync loop as a pure state machine.
 *
 * Every public input records what happened (a process started, exited, a probe verdict
 * changed, time passed) and then calls sync_pod(), which — like kubelet's computePodActions —
 * looks at the whole pod and decides what to start, restart or stop next. Decisions come out
 * as actions; nothing here touches a process, a clock or a file. Rule ids (I.1, R.2, T.4...)
 * name kubelet's behaviours, the same in the tests; where each is implemented the comment
 * cites the kubelet source it follows (pkg/kubelet/kuberuntime, pkg/kubelet/status).
 */
#include "podprobe/lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/backoff.h"
#include "podprobe/kubefmt.h"
#include "podprobe/pod.h"

static const char *const phase_names[_PP_PHASE_MAX] = {
	[PP_PHASE_PENDING] = "Pending",
	[PP_PHASE_RUNNING] = "Running",
	[PP_PHASE_SUCCEEDED] = "Succeeded",
	[PP_PHASE_FAILED] = "Failed",
};

static const char *const event_type_names[_PP_EVENT_MAX] = {
	[PP_EVENT_NORMAL] = "Normal",
	[PP_EVENT_WARNING] = "Warning",
};

static const char *const probe_kind_names[_PP_PROBE_MAX] = {
	[PP_PROBE_STARTUP] = "Startup",
	[PP_PROBE_LIVENESS] = "Liveness",
	[PP_PROBE_READINESS] = "Readiness",
};

const char *pp_phase_str(enum pp_phase phase)
{
	return phase < _PP_PHASE_MAX ? phase_names[phase] : "Unknown";
}

const char *pp_event_type_str(enum pp_event_type type)
{
	return type < _PP_EVENT_MAX ? event_type_names[type] : "Normal";
}

const char *pp_probe_kind_str(enum pp_probe_kind kind)
{
	return kind < _PP_PROBE_MAX ? probe_kind_names[kind] : "Unknown";
}

/* ---- actions ------------------------------------------------------------------------------ */

static struct pp_action *act_push(struct pp_actions *acts, enum pp_action_kind kind, uint32_t ci)
{
	struct pp_action *a;

	if (acts->n == acts->cap) {
		size_t cap = acts->cap ? 2 * acts->cap : 16;
		struct pp_action *v = realloc(acts->v, cap * sizeof(*v));

		if (!v) {
			acts->oom = true;
			return NULL;
		}
		acts->v = v;
		acts->cap = cap;
	}
	a = &acts->v[acts->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->container = ci;
	return a;
}

void pp_actions_clear(struct pp_actions *acts)
{
	acts->n = 0;
	acts->oom = false;
}

void pp_actions_free(struct pp_actions *acts)
{
	free(acts->v);
	memset(acts, 0, sizeof(*acts));
}

static void emit(struct pp_actions *acts, uint32_t ci, enum pp_event_type type, const char *reason,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void emit(struct pp_actions *acts, uint32_t ci, enum pp_event_type type, const char *reason,
		 const char *fmt, ...)
{
	struct pp_action *a = act_push(acts, PP_ACT_EVENT, ci);
	va_list ap;

	if (!a)
		return;
	a->type = type;
	a->reason = reason;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
}

static void signal_container(struct pp_pod_state *ps, uint32_t ci, int signo,
			     struct pp_actions *acts)
{
	struct pp_action *a = act_push(acts, PP_ACT_SIGNAL, ci);

	if (!a)
		return;
	a->instance = ps->c[ci].instance;
	a->signo = signo;
}

/* ---- small queries ------------------------------------------------------------------------ */

static const struct pp_container_spec *cspec(const struct pp_pod_state *ps, uint32_t ci)
{
	return pp_pod_container(ps->spec, ci);
}

static bool is_sidecar(const struct pp_pod_state *ps, uint32_t ci)
{
	return ci < ps->spec->n_init_containers && cspec(ps, ci)->sidecar;
}

static bool is_regular_init(const struct pp_pod_state *ps, uint32_t ci)
{
	return ps->c[ci].regular_init;
}

static bool is_main(const struct pp_pod_state *ps, uint32_t ci)
{
	return ci >= ps->spec->n_init_containers;
}

/* A process exists or is being created. */
static bool busy(const struct pp_container_state *c)
{
	return c->alive || c->start_pending;
}

/* "<pod>_<ns>(<uid>)", kubelet's format.Pod. */
static const char *pod_ref(const struct pp_pod_state *ps, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%s(%s)", ps->spec->name, ps->spec->namespace, ps->uid);
	return buf;
}

static const char *default_waiting_reason(const struct pp_pod_state *ps)
{
	return ps->spec->n_init_containers ? "PodInitializing" : "ContainerCreating";
}

static void set_reason(struct pp_container_state *c, const char *reason)
{
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

/* S.9 for containers that can be probed; I.4 for regular init containers. */
static void update_ready(struct pp_pod_state *ps, uint32_t ci)
{
	struct pp_container_state *c = &ps->c[ci];
	const struct pp_container_spec *s = cspec(ps, ci);

	if (is_regular_init(ps, ci)) {
		c->ready = c->init_done;
		return;
	}
	c->started =
		c->state == PP_CSTATE_RUNNING && (!s->startup.set || c->probe_ok[PP_PROBE_STARTUP]);
	c->ready = c->started && (!s->readiness.set || c->probe_ok[PP_PROBE_READINESS]);
}

/* ---- transitions ---------------------------------------------------------------------------- */

static void start_container(struct pp_pod_state *ps, uint32_t ci, struct pp_actions *acts)
{
	struct pp_container_state *c = &ps->c[ci];
	const struct pp_container_spec *s = cspec(ps, ci);
	struct pp_action *a;

	if (c->has_term) {
		c->last = c->term;
		c->has_last = true;
	}
	c->instance++;
	c->config_error = false;
	c->config_retry_at = 0;
	c->state = PP_CSTATE_WAITING;
	set_reason(c, default_waiting_reason(ps));
	c->message[0] = '\0';
	c->start_pending = true;
	c->restart_due = false;
	c->restart_at = 0;
	c->post_start_running = false;
	c->stopping = false;
	c->pre_stop_running = false;
	c->term_sent = false;
	c->kill_sent = false;
	c->kill_at = 0;
	c->restart_after_stop = false;
	/* P2.2: a new instance starts with startup Unknown, liveness Success, readiness Failure. */
	c->probe_ok[PP_PROBE_STARTUP] = false;
	c->probe_ok[PP_PROBE_LIVENESS] = true;
	c->probe_ok[PP_PROBE_READINESS] = false;
	c->started = false;
	c->ready = false;

	emit(acts, ci, PP_EVENT_NORMAL, "Pulled",
	     "Container image \"%s\" already present on machine", s->image ? s->image : "");
	/* "Created" follows once the runtime has made the process: on_started/on_start_failed. */
	a = act_push(acts, PP_ACT_START, ci);
	if (a)
		a->instance = c->instance;
}

static void hook_action(struct pp_pod_state *ps, uint32_t ci, enum pp_action_kind kind,
			enum pp_hook_kind hook, pp_nsec budget, struct pp_actions *acts)
{
	struct pp_action *a = act_push(acts, kind, ci);

	if (!a)
		return;
	a->instance = ps->c[ci].instance;
	a->hook = hook;
	a->hook_budget = budget;
}

/* A sidecar's stop signal waits for the regular containers and later sidecars (T.4). */
static bool turn_to_stop(const struct pp_pod_state *ps, uint32_t ci)
{
	if (!is_sidecar(ps, ci) || !ps->terminating)
		return true;
	for (size_t i = 0; i < ps->n; i++) {
		if (i == ci || !busy(&ps->c[i]))
			continue;
		if (!is_sidecar(ps, (uint32_t)i) || i > ci)
			return false;
	}
	return true;
}

/*
 * Move a stopping container along T.2: preStop (bounded by G), the sidecar's turn (bounded by
 * what is left of G), the stop signal, then SIGKILL after max(what is left, min_kill_gap).
 */
static void advance_stop(struct pp_pod_state *ps, uint32_t ci, pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = &ps->c[ci];

	if (!c->stopping || !c->alive)
		return;
	if (!c->term_sent) {
		if (now < c->stop_deadline && (c->pre_stop_running || !turn_to_stop(ps, ci)))
			return;
		c->term_sent = true;
		c->kill_at = c->stop_deadline > now + ps->cfg->min_kill_gap
				     ? c->stop_deadline
				     : now + ps->cfg->min_kill_gap;
		signal_container(ps, ci, SIGTERM, acts);
	}
	if (!c->kill_sent && now >= c->kill_at) {
		c->kill_sent = true;
		signal_container(ps, ci, SIGKILL, acts);
	}
}

/* Start stopping <ci> (T.2): Killing event, preStop if any, grace period until <deadline>. */
static void stop_container(struct pp_pod_state *ps, uint32_t ci, pp_nsec deadline, pp_nsec now,
			   const char *message, struct pp_actions *acts)
{
	struct pp_container_state *c = &ps->c[ci];
	const struct pp_container_spec *s = cspec(ps, ci);

	if (c->stopping)
		return;
	c->stopping = true;
	c->term_sent = false;
	c->kill_sent = false;
	c->stop_deadline = deadline;
	emit(acts, ci, PP_EVENT_NORMAL, "Killing", "%s", message);
	/* L.5: preStop runs only for a running container and a grace period above 0. */
	if (s->has_pre_stop && c->state == PP_CSTATE_RUNNING && deadline > now) {
		c->pre_stop_running = true;
		hook_action(ps, ci, PP_ACT_HOOK, PP_HOOK_PRE_STOP, deadline - now, acts);
	}
	advance_stop(ps, ci, now, acts);
}

/* Decide, as a container instance ends, whether it will run again (R.2, R.3, I.2, I.6, T.5). */
static void decide_restart(struct pp_pod_state *ps, uint32_t ci)
{
	struct pp_container_state *c = &ps->c[ci];
	enum pp_restart_policy policy = ps->spec->restart_policy;
	int code = c->term.exit_code;
	bool restart;

	if (ps->terminating)
		restart = false;
	else if (is_sidecar(ps, ci))
		restart = true;
	else if (c->restart_after_stop)
		restart = policy != PP_RESTART_NEVER;
	else if (is_regular_init(ps, ci))
		restart = code != 0 && policy != PP_RESTART_NEVER;
	else
		restart = policy == PP_RESTART_ALWAYS ||
			  (policy == PP_RESTART_ON_FAILURE && code != 0);
	c->restart_after_stop = false;
	c->restart_due = restart;
	c->restart_at = 0;
}

/* Restart <ci> now, or enter CrashLoopBackOff until its window passes (R.4, R.6). */
static void try_restart(struct pp_pod_state *ps, uint32_t ci, pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = &ps->c[ci];
	const char *name = cspec(ps, ci)->name;
	pp_nsec until;

	if (c->config_error) {
		/* CreateContainerConfigError: kubelet's next sync tries again (R.9). */
		if (!busy(c) && now >= c->config_retry_at)
			start_container(ps, ci, acts);
		return;
	}
	if (busy(c) || !c->restart_due)
		return;
	if (pp_backoff_holds(&c->backoff, &ps->cfg->backoff, c->term.finished_at, now, &until)) {
		char ref[400], dur[32];

		if (c->restart_at == until)
			return;
		c->restart_at = until;
		c->state = PP_CSTATE_WAITING;
		set_reason(c, "CrashLoopBackOff");
		pp_fmt_go_duration(c->backoff.delay, dur, sizeof(dur));
		pod_ref(ps, ref, sizeof(ref));
		snprintf(c->message, sizeof(c->message),
			 "back-off %s restarting failed container=%s pod=%s", dur, name, ref);
		emit(acts, ci, PP_EVENT_WARNING, "BackOff",
		     "Back-off restarting failed container %s in pod %s", name, ref);
		return;
	}
	pp_backoff_next(&c->backoff, &ps->cfg->backoff, c->term.finished_at, now);
	start_container(ps, ci, acts);
}

/*
 * A regular container being stopped with no restart to follow: the pod is over once it goes,
 * so its sidecars neither restart nor get probed meanwhile (kubelet's computePodActions
 * decides KillPod as soon as nothing is left to start: keepCount 0).
 */
static bool stopping_for_good(const struct pp_pod_state *ps, const struct pp_container_state *c)
{
	return c->stopping &&
	       (!c->restart_after_stop || ps->spec->restart_policy == PP_RESTART_NEVER);
}

static void begin_terminating(struct pp_pod_state *ps, pp_nsec now)
{
	size_t i;

	if (ps->terminating)
		return;
	ps->terminating = true;
	ps->terminate_start = now;
	for (i = 0; i < ps->n; i++) {
		struct pp_container_state *c = &ps->c[i];

		c->restart_due = false;
		c->restart_at = 0;
		c->config_error = false;
		/* A container waiting out its back-off shows its last termination again. */
		if (c->state == PP_CSTATE_WAITING && c->has_term && !busy(c)) {
			c->state = PP_CSTATE_TERMINATED;
			set_reason(c, c->term.reason);
			c->message[0] = '\0';
		}
	}
}

/*
 * Stop what still runs (T.4): every container gets its Killing event and preStop at once;
 * the stop signal of a sidecar waits until the regular containers and later sidecars are gone.
 */
static void drive_termination(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	/* A deletion's gracePeriodSeconds replaces the pod's (kubelet killPod's
	 * gracePeriodOverride). */
	int64_t grace =
		ps->has_grace_override ? ps->grace_override_s : ps->spec->termination_grace_s;
	pp_nsec deadline = ps->terminate_start + (pp_nsec)grace * PP_NSEC_PER_SEC;
	size_t i;

	for (i = 0; i < ps->n; i++) {
		struct pp_container_state *c = &ps->c[i];
		char msg[128];

		if (c->alive && !c->stopping) {
			snprintf(msg, sizeof(msg), "Stopping container %s", cspec(ps, i)->name);
			stop_container(ps, (uint32_t)i, deadline, now, msg, acts);
		}
		advance_stop(ps, (uint32_t)i, now, acts);
	}
}

/* I.2: a regular init container failed and the pod never restarts. */
static int failed_init_never(const struct pp_pod_state *ps)
{
	size_t i;

	if (ps->spec->restart_policy != PP_RESTART_NEVER)
		return -1;
	for (i = 0; i < ps->spec->n_init_containers; i++) {
		const struct pp_container_state *c = &ps->c[i];

		if (is_regular_init(ps, i) && !busy(c) && c->has_term && c->term.exit_code != 0)
			return (int)i;
	}
	return -1;
}

/* PH.1 for a pod that is not terminal yet. */
static enum pp_phase compute_phase(const struct pp_pod_state *ps)
{
	unsigned int pending_init = 0, failed_init = 0, running = 0, waiting = 0, stopped = 0,
		     succeeded = 0;
	enum pp_restart_policy policy = ps->spec->restart_policy;
	size_t i;

	for (i = 0; i < ps->n; i++) {
		const struct pp_container_state *c = &ps->c[i];

		if (is_sidecar(ps, i)) {
			if (c->state == PP_CSTATE_RUNNING) {
				running++;
				pending_init += !c->started;
			} else if (!c->has_term) {
				pending_init++;
				waiting++;
			}
		} else if (is_regular_init(ps, i)) {
			if (c->init_done)
				continue;
			if (c->state == PP_CSTATE_RUNNING || !c->has_term)
				pending_init++;
			else if (c->term.exit_code != 0)
				failed_init++;
		} else if (c->state == PP_CSTATE_RUNNING) {
			running++;
		} else if (c->has_term) {
			stopped++;
			succeeded += c->term.exit_code == 0;
		} else {
			waiting++;
		}
	}
	if (failed_init && policy == PP_RESTART_NEVER)
		return PP_PHASE_FAILED;
	if ((pending_init && !ps->ever_ran_main) || waiting)
		return PP_PHASE_PENDING;
	if (running)
		return PP_PHASE_RUNNING;
	if (stopped) {
		if (policy == PP_RESTART_ALWAYS)
			return PP_PHASE_RUNNING;
		if (stopped == succeeded)
			return PP_PHASE_SUCCEEDED;
		if (policy == PP_RESTART_NEVER)
			return PP_PHASE_FAILED;
		return PP_PHASE_RUNNING;
	}
	return PP_PHASE_PENDING;
}

/* Once nothing runs in a terminating pod: the final phase (PH.1 step 4, PH.3) and its event. */
static void finish_if_done(struct pp_pod_state *ps, struct pp_actions *acts)
{
	const struct pp_container_state *bad = NULL;
	const char *bad_name = NULL;
	int init_failed;
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (busy(&ps->c[i]))
			return;
	init_failed = failed_init_never(ps);
	if (init_failed >= 0) {
		bad = &ps->c[init_failed];
		bad_name = cspec(ps, init_failed)->name;
	}
	for (i = ps->spec->n_init_containers; i < ps->n && !bad_name; i++) {
		const struct pp_container_state *c = &ps->c[i];

		if (!c->has_term || c->term.exit_code != 0) {
			bad = c;
			bad_name = cspec(ps, i)->name;
		}
	}
	ps->terminal = true;
	if (ps->reason[0]) {
		ps->phase = PP_PHASE_FAILED;
		emit(acts, PP_NO_CONTAINER, PP_EVENT_WARNING, "PodFailed", "Pod failed: %s",
		     ps->message);
	} else if (bad_name && bad->has_term) {
		ps->phase = PP_PHASE_FAILED;
		emit(acts, PP_NO_CONTAINER, PP_EVENT_WARNING, "PodFailed",
		     "Pod failed: %scontainer %s terminated with exit code %d (%s)",
		     init_failed >= 0 ? "init " : "", bad_name, bad->term.exit_code,
		     bad->term.reason);
	} else if (bad_name) {
		ps->phase = PP_PHASE_FAILED;
		emit(acts, PP_NO_CONTAINER, PP_EVENT_WARNING, "PodFailed",
		     "Pod failed: container %s never ran", bad_name);
	} else {
		ps->phase = PP_PHASE_SUCCEEDED;
		emit(acts, PP_NO_CONTAINER, PP_EVENT_NORMAL, "PodSucceeded",
		     "Pod succeeded: all containers terminated with exit code 0");
	}
}

/* ---- volumes -------------------------------------------------------------------------------- */

/* Containers may be created: the pod's volumes are set up, or nobody waits for them. */
static bool volumes_ok(const struct pp_pod_state *ps)
{
	return !ps->cfg->wait_for_volumes || ps->volumes_ready;
}

/*
 * kubelet's SyncPod calls WaitForAttachAndMount before it creates any container; the volume
 * manager's reconciler meanwhile tries each mount again once its back-off has passed
 * (nestedpendingoperations). One PP_ACT_MOUNT at a time, none during the back-off.
 */
static void request_mount(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	if (ps->mount_pending || now < ps->mount_retry_at)
		return;
	if (act_push(acts, PP_ACT_MOUNT, PP_NO_CONTAINER))
		ps->mount_pending = true;
}

/* exponentialbackoff.Update: the initial delay, then twice the last, at most the cap. */
static pp_nsec mount_backoff_next(const struct pp_pod_state *ps)
{
	pp_nsec initial = ps->cfg->mount_backoff_initial ? ps->cfg->mount_backoff_initial
							 : PP_MOUNT_BACKOFF_INITIAL;
	pp_nsec max =
		ps->cfg->mount_backoff_max ? ps->cfg->mount_backoff_max : PP_MOUNT_BACKOFF_MAX;
	pp_nsec d = ps->mount_delay ? 2 * ps->mount_delay : initial;

	return d > max ? max : d;
}

/* Walk the init sequence (I.1, I.5); returns true once it is complete. */
static bool sync_init(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	size_t i;

	for (i = 0; i < ps->spec->n_init_containers; i++) {
		struct pp_container_state *c = &ps->c[i];

		if (is_sidecar(ps, i)) {
			if (!c->instance) {
				start_container(ps, i, acts);
				return false;
			}
			try_restart(ps, i, now, acts);
			if (!c->ever_started)
				return false;
			continue;
		}
		if (c->init_done)
			continue;
		if (!c->instance)
			start_container(ps, i, acts);
		else
			try_restart(ps, i, now, acts);
		return false;
	}
	return true;
}

static void sync_pod(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	const struct pp_pod *spec = ps->spec;
	bool mains_done = true;
	size_t i;

	if (ps->terminal || !ps->start_time)
		return;

	for (i = 0; i < ps->n; i++)
		advance_stop(ps, (uint32_t)i, now, acts);

	if (spec->has_active_deadline && !ps->terminating &&
	    now - ps->start_time >= (pp_nsec)spec->active_deadline_s * PP_NSEC_PER_SEC) {
		snprintf(ps->reason, sizeof(ps->reason), "DeadlineExceeded");
		snprintf(ps->message, sizeof(ps->message),
			 "Pod was active on the node longer than the specified deadline");
		emit(acts, PP_NO_CONTAINER, PP_EVENT_NORMAL, "DeadlineExceeded", "%s", ps->message);
		begin_terminating(ps, now);
	}
	if (!ps->terminating && failed_init_never(ps) >= 0)
		begin_terminating(ps, now);

	if (!ps->terminating && !volumes_ok(ps)) {
		/* Every container stays Waiting with its default reason (ContainerCreating). */
		request_mount(ps, now, acts);
	} else if (!ps->terminating) {
		if (sync_init(ps, now, acts))
			ps->initialized = true;
		if (ps->initialized) {
			bool blocked = false;

			for (i = spec->n_init_containers; i < ps->n; i++) {
				struct pp_container_state *c = &ps->c[i];

				/* L.3: in one pass, containers start in order; a postStart holds
				 * the next. */
				if (!c->instance && !blocked)
					start_container(ps, i, acts);
				else if (c->instance)
					try_restart(ps, i, now, acts);
				if (!c->instance || c->start_pending || c->post_start_running)
					blocked = true;
				if ((busy(c) && !stopping_for_good(ps, c)) || c->restart_due ||
				    c->config_error || !c->instance)
					mains_done = false;
			}
			/* I.8: sidecars do not keep a finished pod alive. */
			if (mains_done)
				begin_terminating(ps, now);
		}
	}
	if (ps->terminating) {
		drive_termination(ps, now, acts);
		finish_if_done(ps, acts);
	}
	if (!ps->terminal)
		ps->phase = compute_phase(ps);
}

/* Common tail of every input: sync, then tell the shell the status may have changed. */
static void settle(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	sync_pod(ps, now, acts);
	act_push(acts, PP_ACT_STATUS, PP_NO_CONTAINER);
}

/* ---- inputs ---------------------------------------------------------------------------------- */

int pp_lc_init(struct pp_pod_state *ps, const struct pp_pod *spec, const struct pp_lc_cfg *cfg,
	       const char *uid)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->spec = spec;
	ps->cfg = cfg;
	ps->n = pp_pod_n_all(spec);
	ps->c = calloc(ps->n ? ps->n : 1, sizeof(*ps->c));
	if (!ps->c)
		return -ENOMEM;
	snprintf(ps->uid, sizeof(ps->uid), "%s", uid ? uid : "");
	for (i = 0; i < ps->n; i++) {
		ps->c[i].regular_init =
			i < spec->n_init_containers && !pp_pod_container(spec, i)->sidecar;
		set_reason(&ps->c[i], default_waiting_reason(ps));
	}
	ps->phase = PP_PHASE_PENDING;
	return 0;
}

void pp_lc_free(struct pp_pod_state *ps)
{
	if (!ps)
		return;
	free(ps->c);
	ps->c = NULL;
	ps->n = 0;
}

void pp_lc_start(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	if (ps->start_time)
		return;
	/* 0 marks "not started"; a fake clock at 0 still starts. */
	ps->start_time = now ? now : 1;
	settle(ps, now, acts);
}

static void set_running(struct pp_pod_state *ps, uint32_t ci)
{
	struct pp_container_state *c = &ps->c[ci];

	c->state = PP_CSTATE_RUNNING;
	c->reason[0] = '\0';
	c->message[0] = '\0';
	update_ready(ps, ci);
	if (c->started)
		c->ever_started = true;
}

static struct pp_container_state *current(struct pp_pod_state *ps, uint32_t ci, uint32_t instance)
{
	if (ci >= ps->n || ps->c[ci].instance != instance)
		return NULL;
	return &ps->c[ci];
}

/*
 * The runtime made the instance's process (it started, or exec failed): "Created", and R.7's
 * count of the instances before it. Kubelet counts created containers, so a start refused on
 * its configuration (pp_lc_on_config_error) does not count.
 */
static void created(struct pp_pod_state *ps, uint32_t ci, struct pp_actions *acts)
{
	struct pp_container_state *c = &ps->c[ci];

	c->restart_count = c->created++;
	emit(acts, ci, PP_EVENT_NORMAL, "Created", "Created container: %s", cspec(ps, ci)->name);
}

void pp_lc_on_started(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, pp_nsec now,
		      struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);

	if (!c || !c->start_pending)
		return;
	created(ps, ci, acts);
	c->start_pending = false;
	c->alive = true;
	c->started_at = now;
	if (is_main(ps, ci))
		ps->ever_ran_main = true;
	emit(acts, ci, PP_EVENT_NORMAL, "Started", "Started container %s", cspec(ps, ci)->name);
	if (cspec(ps, ci)->has_post_start) {
		/* L.3: Waiting until postStart returns; it runs beside the process. */
		c->post_start_running = true;
		hook_action(ps, ci, PP_ACT_HOOK, PP_HOOK_POST_START, 0, acts);
	} else {
		set_running(ps, ci);
	}
	settle(ps, now, acts);
}

/* Record the end of the current instance, common to a failed start and an exit. */
static void record_termination(struct pp_pod_state *ps, uint32_t ci, int exit_code, int signo,
			       const char *reason, const char *message, pp_nsec now)
{
	struct pp_container_state *c = &ps->c[ci];

	c->alive = false;
	c->start_pending = false;
	c->post_start_running = false;
	c->pre_stop_running = false;
	c->stopping = false;
	c->kill_at = 0;
	c->term.exit_code = exit_code;
	c->term.signal = signo;
	snprintf(c->term.reason, sizeof(c->term.reason), "%s", reason);
	snprintf(c->term.message, sizeof(c->term.message), "%s", message ? message : "");
	c->term.started_at = c->state == PP_CSTATE_RUNNING ? c->started_at : now;
	c->term.finished_at = now;
	c->has_term = true;
	c->state = PP_CSTATE_TERMINATED;
	set_reason(c, reason);
	c->message[0] = '\0';
	if (is_regular_init(ps, ci) && exit_code == 0)
		c->init_done = true;
	update_ready(ps, ci);
	decide_restart(ps, ci);
}

void pp_lc_on_start_failed(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, const char *err,
			   pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);

	if (!c || !c->start_pending)
		return;
	created(ps, ci, acts);
	/* S.4: containerd's StartError with exit code 128. */
	record_termination(ps, ci, 128, 0, "StartError", err, now);
	emit(acts, ci, PP_EVENT_WARNING, "Failed", "Error: %s", err ? err : "");
	settle(ps, now, acts);
}

void pp_lc_on_config_error(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, const char *err,
			   pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);
	pp_nsec retry = ps->cfg->config_retry ? ps->cfg->config_retry : PP_CONFIG_RETRY;

	if (!c || !c->start_pending)
		return;
	c->start_pending = false;
	c->config_error = true;
	c->config_retry_at = now + retry;
	/* S.2: Waiting with the error's name; an earlier termination stays lastState. */
	c->state = PP_CSTATE_WAITING;
	set_reason(c, "CreateContainerConfigError");
	snprintf(c->message, sizeof(c->message), "%s", err ? err : "");
	emit(acts, ci, PP_EVENT_WARNING, "Failed", "Error: %s", err ? err : "");
	settle(ps, now, acts);
}

void pp_lc_on_volumes_pending(struct pp_pod_state *ps, const char *const *messages, size_t n,
			      pp_nsec now, struct pp_actions *acts)
{
	if (ps->terminal || ps->terminating || ps->volumes_ready)
		return;
	ps->mount_pending = false;
	ps->mount_failures++;
	ps->mount_delay = mount_backoff_next(ps);
	ps->mount_retry_at = now + ps->mount_delay;
	/* operation_generator.go: a pod-level Warning FailedMount for each volume at each try. */
	for (size_t i = 0; i < n; i++)
		emit(acts, PP_NO_CONTAINER, PP_EVENT_WARNING, "FailedMount", "%s",
		     messages[i] ? messages[i] : "");
	settle(ps, now, acts);
}

void pp_lc_volumes_ready(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	if (ps->terminal || ps->volumes_ready)
		return;
	ps->volumes_ready = true;
	ps->mount_pending = false;
	ps->mount_failures = 0;
	ps->mount_delay = 0; /* a success resets the operation's back-off */
	ps->mount_retry_at = 0;
	settle(ps, now, acts);
}

void pp_lc_on_exit(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
		   const struct pp_exit_info *ex, pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);
	const char *name, *reason, *sig;
	int code;

	if (!c || !c->alive)
		return;
	name = cspec(ps, ci)->name;
	if (ex->unknown) {
		/*
		 * Lost while podprobe was down: kubelet's words and exit code for a container it
		 * cannot find (kubelet_pods.go convertToAPIContainerStatuses).
		 */
		record_termination(ps, ci, 137, 0, "ContainerStatusUnknown",
				   "The container could not be located when podprobe restarted.  "
				   "The container used to be Running",
				   now);
		emit(acts, ci, PP_EVENT_WARNING, "Terminated",
		     "Container %s terminated: exit code 137, reason ContainerStatusUnknown", name);
		settle(ps, now, acts);
		return;
	}
	code = ex->signal ? 128 + ex->signal : ex->code;
	reason = ex->oom_killed ? "OOMKilled" : code == 0 ? "Completed" : "Error";
	record_termination(ps, ci, code, ex->signal, reason, NULL, now);
	sig = pp_signal_name(ex->signal);
	if (ex->signal)
		emit(acts, ci, PP_EVENT_WARNING, "Terminated",
		     "Container %s terminated by signal %d (SIG%s): exit code %d, reason %s", name,
		     ex->signal, sig ? sig : "?", code, reason);
	else
		emit(acts, ci, code == 0 ? PP_EVENT_NORMAL : PP_EVENT_WARNING, "Terminated",
		     "Container %s terminated: exit code %d, reason %s", name, code, reason);
	settle(ps, now, acts);
}

void pp_lc_on_probe_verdict(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
			    enum pp_probe_kind kind, bool ok, pp_nsec now, struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);
	const struct pp_container_spec *s;
	const struct pp_probe_spec *probe;
	char msg[256];
	pp_nsec grace;

	if (!c || !c->alive || c->state != PP_CSTATE_RUNNING || kind >= _PP_PROBE_MAX)
		return;
	c->probe_ok[kind] = ok;
	update_ready(ps, ci);
	if (c->started)
		c->ever_started = true;
	s = cspec(ps, ci);
	/* P2.12: no liveness or startup kills while the pod is being torn down. */
	if (ok || kind == PP_PROBE_READINESS || ps->terminating || c->stopping) {
		settle(ps, now, acts);
		return;
	}
	probe = kind == PP_PROBE_LIVENESS ? &s->liveness : &s->startup;
	if (is_sidecar(ps, ci))
		snprintf(msg, sizeof(msg), "Init container %s failed %s probe", s->name,
			 kind == PP_PROBE_LIVENESS ? "liveness" : "startup");
	else
		snprintf(msg, sizeof(msg), "Container %s failed %s probe%s", s->name,
			 kind == PP_PROBE_LIVENESS ? "liveness" : "startup",
			 ps->spec->restart_policy != PP_RESTART_NEVER ? ", will be restarted" : "");
	/* T.1: a probe-level grace period replaces the pod's for the kills it causes. */
	grace = (pp_nsec)(probe->has_termination_grace ? probe->termination_grace_s
						       : ps->spec->termination_grace_s) *
		PP_NSEC_PER_SEC;
	c->restart_after_stop = true;
	stop_container(ps, ci, now + grace, now, msg, acts);
	settle(ps, now, acts);
}

void pp_lc_on_hook_done(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
			enum pp_hook_kind hook, bool ok, const char *message, pp_nsec now,
			struct pp_actions *acts)
{
	struct pp_container_state *c = current(ps, ci, instance);

	if (!c || !c->alive)
		return;
	if (hook == PP_HOOK_POST_START && c->post_start_running) {
		c->post_start_running = false;
		if (ok) {
			set_running(ps, ci);
		} else if (!c->stopping) {
			/* L.4: the container is killed, and restarted as a failed start. */
			emit(acts, ci, PP_EVENT_WARNING, "FailedPostStartHook",
			     "PostStartHook failed");
			snprintf(c->message, sizeof(c->message), "%s", message ? message : "");
			c->restart_after_stop = true;
			stop_container(ps, ci,
				       now + (pp_nsec)ps->spec->termination_grace_s *
						       PP_NSEC_PER_SEC,
				       now, "FailedPostStartHook", acts);
		}
	} else if (hook == PP_HOOK_PRE_STOP && c->pre_stop_running) {
		c->pre_stop_running = false;
		/* D.5: a failed preStop only adds an event; the stop goes on. */
		if (!ok)
			emit(acts, ci, PP_EVENT_WARNING, "FailedPreStopHook", "PreStopHook failed");
		advance_stop(ps, ci, now, acts);
	}
	settle(ps, now, acts);
}

void pp_lc_on_timer(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	settle(ps, now, acts);
}

void pp_lc_delete(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts)
{
	ps->deleted = true;
	if (ps->terminal)
		return;
	if (!ps->start_time)
		ps->start_time = now ? now : 1;
	begin_terminating(ps, now);
	settle(ps, now, acts);
}

void pp_lc_delete_grace(struct pp_pod_state *ps, pp_nsec now, int64_t grace_s,
			struct pp_actions *acts)
{
	if (!ps->terminating && grace_s >= 0) {
		ps->has_grace_override = true;
		ps->grace_override_s = grace_s;
	}
	pp_lc_delete(ps, now, acts);
}

pp_nsec pp_lc_next_deadline(const struct pp_pod_state *ps)
{
	pp_nsec next = PP_NSEC_INFINITY;
	size_t i;

	if (ps->terminal || !ps->start_time)
		return next;
	for (i = 0; i < ps->n; i++) {
		const struct pp_container_state *c = &ps->c[i];

		if (c->restart_due && c->restart_at && c->restart_at < next)
			next = c->restart_at;
		if (c->config_error && c->config_retry_at < next)
			next = c->config_retry_at;
		if (c->alive && c->stopping && !c->term_sent && c->stop_deadline < next)
			next = c->stop_deadline;
		if (c->alive && c->term_sent && !c->kill_sent && c->kill_at < next)
			next = c->kill_at;
	}
	if (!ps->terminating && !volumes_ok(ps) && !ps->mount_pending && ps->mount_retry_at &&
	    ps->mount_retry_at < next)
		next = ps->mount_retry_at;
	if (ps->spec->has_active_deadline && !ps->terminating) {
		pp_nsec d = ps->start_time + (pp_nsec)ps->spec->active_deadline_s * PP_NSEC_PER_SEC;

		if (d < next)
			next = d;
	}
	return next;
}

bool pp_lc_probe_allowed(const struct pp_pod_state *ps, uint32_t ci, enum pp_probe_kind kind)
{
	const struct pp_container_state *c;

	if (ci >= ps->n || is_regular_init(ps, ci) || ps->terminal)
		return false;
	c = &ps->c[ci];
	if (!c->alive || c->state != PP_CSTATE_RUNNING)
		return false;
	/*
	 * P2.12: liveness and startup stop once the container or its pod is being stopped;
	 * readiness goes on until the process is gone, so a container that stops serving during
	 * its preStop or grace period turns unready (kubelet's prober_manager keeps the readiness
	 * worker until the container is removed; upstream e2e "should mark readiness on pods to
	 * false while pod is in progress of terminating").
	 */
	switch (kind) {
	case PP_PROBE_STARTUP:
		return !ps->terminating && !c->stopping && !c->started;
	case PP_PROBE_LIVENESS:
		return !ps->terminating && !c->stopping && c->started;
	case PP_PROBE_READINESS:
		return c->started;
	default:
		return false;
	}
}
