/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the lifecycle controller: one pp_pod_state per pod, driven by timestamped inputs
 * (start, process started/exited, probe verdicts, timers, deletion) and answering with
 * actions (start a container, signal it, emit an event) that the shell carries out.
 */
#ifndef PODPROBE_LIFECYCLE_T_H
#define PODPROBE_LIFECYCLE_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/backoff-t.h"
#include "podprobe/pod-t.h"
#include "podprobe/time-t.h"

#define PP_NO_CONTAINER UINT32_MAX
/*
 * The least time between the stop signal and SIGKILL (kubelet's minimumGracePeriodInSeconds,
 * pkg/kubelet/kuberuntime/kuberuntime_container.go).
 */
#define PP_MIN_KILL_GAP (2 * PP_NSEC_PER_SEC)

enum pp_phase {
	PP_PHASE_PENDING = 0,
	PP_PHASE_RUNNING,
	PP_PHASE_SUCCEEDED,
	PP_PHASE_FAILED,
	_PP_PHASE_MAX,
};

enum pp_cstate {
	PP_CSTATE_WAITING = 0,
	PP_CSTATE_RUNNING,
	PP_CSTATE_TERMINATED,
	_PP_CSTATE_MAX,
};

enum pp_event_type {
	PP_EVENT_NORMAL = 0,
	PP_EVENT_WARNING,
	_PP_EVENT_MAX,
};

enum pp_hook_kind {
	PP_HOOK_POST_START = 0,
	PP_HOOK_PRE_STOP,
	_PP_HOOK_MAX,
};

enum pp_probe_kind {
	PP_PROBE_STARTUP = 0,
	PP_PROBE_LIVENESS,
	PP_PROBE_READINESS,
	_PP_PROBE_MAX,
};

/* How a container instance ended, as the runtime saw it. */
struct pp_exit_info {
	int code;	 /* exit status when signal == 0 */
	int signal;	 /* terminating signal, or 0 */
	bool oom_killed; /* the memory cgroup OOM-killed it */
	bool unknown;	 /* it ended while nobody watched and how is lost (adoption) */
};

/* A terminated state (state.terminated / lastState.terminated of the API). */
struct pp_term_state {
	int exit_code; /* 128 + signal for a signal death (S.5) */
	int signal;
	char reason[24]; /* Completed, Error, OOMKilled, StartError */
	char message[256];
	pp_nsec started_at;
	pp_nsec finished_at;
};

struct pp_container_state {
	/*
	 * First, in one cache line, what pp_lc_probe_allowed() reads before every probe attempt:
	 * with thousands of pods each attempt would otherwise miss the cache a few times.
	 */
	enum pp_cstate state;
	bool regular_init;	/* a non-sidecar init container: fixed by the spec at init */
	bool alive;		/* the newest instance's process has not been reaped */
	bool stopping;		/* being stopped (Killing emitted) */
	uint32_t restart_count; /* R.7 */
	uint32_t instance;	/* id of the newest instance; 0 = never started */
	bool start_pending;	/* start action issued, no answer yet */
	bool started;		/* S.8 */
	bool ever_started;	/* some instance reached started: lets the next init run (I.5) */
	bool ready;		/* S.9 */
	bool probe_ok[_PP_PROBE_MAX]; /* published verdicts of the current instance */
	bool init_done;		      /* regular init container: exited 0 (I.3) */
	pp_nsec started_at;
	struct pp_term_state term; /* newest termination */
	bool has_term;
	struct pp_term_state last; /* lastState.terminated (S.6) */
	bool has_last;
	struct pp_backoff backoff;
	bool restart_due;	 /* will be started again (maybe after back-off) */
	pp_nsec restart_at;	 /* back-off expiry while restart_due, else 0 */
	bool post_start_running; /* postStart in flight: Waiting until it returns (L.3) */
	bool pre_stop_running;	 /* preStop in flight (L.5, L.6) */
	pp_nsec stop_deadline;	 /* end of the grace period G */
	bool term_sent;		 /* stop signal sent */
	pp_nsec kill_at;	 /* SIGKILL time once term_sent */
	bool kill_sent;
	bool restart_after_stop; /* R.3: a probe kill decided to restart */
	uint32_t created;	 /* instances the runtime created (started or failed to) */
	bool config_error;	 /* Waiting in CreateContainerConfigError, retried at */
	pp_nsec config_retry_at; /* ... this time */
	char reason[32];	 /* waiting reason while WAITING; term.reason when TERMINATED */
	char message[512];	 /* waiting message (CrashLoopBackOff text, start error) */
};

/* kubelet's pod worker retries a failed sync after 10 s (kubelet.go backOffPeriod, R.9). */
#define PP_CONFIG_RETRY (10 * PP_NSEC_PER_SEC)

/*
 * A failed volume set-up is tried again after 500 ms, doubling up to 2 min 2 s (kubelet's
 * volume manager: pkg/util/goroutinemap/exponentialbackoff initialDurationBeforeRetry,
 * maxDurationBeforeRetry, as nestedpendingoperations applies them).
 */
#define PP_MOUNT_BACKOFF_INITIAL (500 * PP_NSEC_PER_MSEC)
#define PP_MOUNT_BACKOFF_MAX	 (122 * PP_NSEC_PER_SEC)

struct pp_lc_cfg {
	struct pp_backoff_cfg backoff;
	pp_nsec min_kill_gap; /* PP_MIN_KILL_GAP unless tests shrink it */
	pp_nsec config_retry; /* CreateContainerConfigError retry, 0 = PP_CONFIG_RETRY */
	/*
	 * The shell mounts volumes: no container of a pod starts before it answers a
	 * PP_ACT_MOUNT with pp_lc_volumes_ready() (kubelet's SyncPod waits in
	 * WaitForAttachAndMount before any container). false: volumes are never waited for.
	 */
	bool wait_for_volumes;
	pp_nsec mount_backoff_initial; /* 0 = PP_MOUNT_BACKOFF_INITIAL */
	pp_nsec mount_backoff_max;     /* 0 = PP_MOUNT_BACKOFF_MAX */
};

struct pp_pod_state {
	const struct pp_pod *spec;
	const struct pp_lc_cfg *cfg;
	/*
	 * First, with spec and cfg in one cache line, what pp_lc_probe_allowed() reads of the pod
	 * before every probe attempt (each attempt would otherwise miss once more).
	 */
	size_t n; /* containers: init first, then regular */
	struct pp_container_state *c;
	bool terminating; /* killing every container: deletion, deadline, completion */
	bool terminal;	  /* phase is Succeeded or Failed for good (PH.2) */
	char uid[40];
	enum pp_phase phase;
	char reason[32]; /* status.reason (DeadlineExceeded), or "" */
	char message[128];
	pp_nsec start_time;	  /* status.startTime (T.6), 0 before start */
	bool initialized;	  /* C.3: every regular init container done, sidecars started */
	bool ever_ran_main;	  /* a regular container has started at least once */
	bool deleted;		  /* deletion requested (SIGINT/SIGTERM to podprobe) */
	bool has_grace_override;  /* the deletion gave its own grace period... */
	int64_t grace_override_s; /* ... of this many seconds */
	pp_nsec terminate_start;
	/* Volumes (cfg->wait_for_volumes): every container waits until they are ready. */
	bool volumes_ready;	 /* the shell answered pp_lc_volumes_ready() */
	bool mount_pending;	 /* PP_ACT_MOUNT issued, no answer yet */
	uint32_t mount_failures; /* attempts that failed since the last success */
	pp_nsec mount_delay;	 /* back-off after the last failure, 0 before any */
	pp_nsec mount_retry_at;	 /* next PP_ACT_MOUNT after a failure */
};

/* What the shell must do. */
enum pp_action_kind {
	PP_ACT_START = 0, /* start container <container> as instance <instance> */
	PP_ACT_SIGNAL,	  /* send <signo> to every process of <container>'s instance */
	PP_ACT_EVENT,	  /* print/record an event */
	PP_ACT_STATUS,	  /* the pod's displayed status changed */
	PP_ACT_HOOK,	  /* run lifecycle hook <hook> of <container>/<instance> */
	PP_ACT_MOUNT,	  /* set up the pod's volumes: answer pp_lc_volumes_ready/_pending */
	_PP_ACT_MAX,
};

struct pp_action {
	enum pp_action_kind kind;
	uint32_t container; /* index as pp_pod_container(), or PP_NO_CONTAINER */
	uint32_t instance;
	int signo;
	enum pp_hook_kind hook;	 /* PP_ACT_HOOK */
	pp_nsec hook_budget;	 /* PP_ACT_HOOK: how long it may run (preStop: G) */
	enum pp_event_type type; /* PP_ACT_EVENT */
	const char *reason;	 /* PP_ACT_EVENT: static string */
	char message[640];	 /* PP_ACT_EVENT */
};

struct pp_actions {
	struct pp_action *v;
	size_t n;
	size_t cap;
	bool oom; /* an action was dropped for lack of memory */
};

#endif
