/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lifecycle controller: pure, clock-free, no I/O. Every input takes the current time
 * <now> and appends the actions it decides to <acts> (which the caller empties after carrying
 * them out). Inputs naming a container take its index (init containers first) and the
 * instance id from the PP_ACT_START that created it; inputs about an older instance are
 * ignored, so an exit reported twice (pidfd and kernel) is handled once.
 */
#ifndef PODPROBE_LIFECYCLE_H
#define PODPROBE_LIFECYCLE_H

#include "podprobe/lifecycle-t.h"

/*
 * Set up <ps> for <spec> (borrowed; must outlive <ps>) with <cfg> (borrowed) and pod <uid>
 * (copied). Returns 0 or -ENOMEM.
 */
int pp_lc_init(struct pp_pod_state *ps, const struct pp_pod *spec, const struct pp_lc_cfg *cfg,
	       const char *uid);
void pp_lc_free(struct pp_pod_state *ps);

/* Begin running the pod: status.startTime = <now>; the first init container or the containers. */
void pp_lc_start(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts);

/* The process of <ci>/<instance> is running (after PP_ACT_START succeeded). */
void pp_lc_on_started(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, pp_nsec now,
		      struct pp_actions *acts);

/* PP_ACT_START for <ci>/<instance> failed with message <err> (exec or set-up failure). */
void pp_lc_on_start_failed(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, const char *err,
			   pp_nsec now, struct pp_actions *acts);

/*
 * PP_ACT_START for <ci>/<instance> could not even be prepared: the container's configuration
 * cannot be carried out (<err>, e.g. runAsNonRoot with uid 0). As kubelet's
 * CreateContainerConfigError: no process was created, so no restart is counted and no
 * termination recorded; the container waits with that reason and <err> as message, a Warning
 * Failed "Error: <err>" is emitted, and the start is tried again after cfg->config_retry
 * whatever the restart policy (K: kuberuntime_container.go startContainer,
 * ErrCreateContainerConfig; kuberuntime_manager.go computePodActions).
 */
void pp_lc_on_config_error(struct pp_pod_state *ps, uint32_t ci, uint32_t instance, const char *err,
			   pp_nsec now, struct pp_actions *acts);

/*
 * With cfg->wait_for_volumes, the pod's first sync asks for its volumes (PP_ACT_MOUNT) and no
 * container is created, no Pulled emitted, until the shell answers pp_lc_volumes_ready(), as
 * kubelet's SyncPod waits in WaitForAttachAndMount. Meanwhile the containers stay Waiting with
 * their default reason (ContainerCreating, PodInitializing with init containers) and the pod
 * Pending; deletion and activeDeadlineSeconds work as usual.
 *
 * pp_lc_on_volumes_pending(): the PP_ACT_MOUNT failed; <n> <messages> (one per volume,
 * `MountVolume.SetUp failed for volume "v" : ...`) become pod-level Warning FailedMount events,
 * and the next PP_ACT_MOUNT comes from pp_lc_on_timer() after the volume manager's back-off:
 * cfg->mount_backoff_initial, doubling at each failure up to cfg->mount_backoff_max
 * (kubelet's nestedpendingoperations / exponentialbackoff). Ignored once ready or terminating.
 *
 * pp_lc_volumes_ready(): every volume is set up; the back-off is reset and the containers
 * start as they would have.
 */
void pp_lc_on_volumes_pending(struct pp_pod_state *ps, const char *const *messages, size_t n,
			      pp_nsec now, struct pp_actions *acts);
void pp_lc_volumes_ready(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts);

/* The main process of <ci>/<instance> ended as <ex>. */
void pp_lc_on_exit(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
		   const struct pp_exit_info *ex, pp_nsec now, struct pp_actions *acts);

/*
 * A probe's published verdict changed (after its thresholds, P2.6): <ok> for Success. A
 * startup Success marks the container started; readiness drives ready; a liveness or startup
 * Failure kills the container (Killing event) and decides the restart at kill time (R.3).
 */
void pp_lc_on_probe_verdict(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
			    enum pp_probe_kind kind, bool ok, pp_nsec now, struct pp_actions *acts);

/*
 * Lifecycle hook <hook> of <ci>/<instance> finished: <ok>, else <message> says why (L.9).
 * postStart success makes the container Running; failure kills it (L.4). preStop lets the
 * stop signal go (L.6); a failure only adds FailedPreStopHook.
 */
void pp_lc_on_hook_done(struct pp_pod_state *ps, uint32_t ci, uint32_t instance,
			enum pp_hook_kind hook, bool ok, const char *message, pp_nsec now,
			struct pp_actions *acts);

/* Deadlines may have passed: back-off expiry, SIGKILL after grace, activeDeadlineSeconds. */
void pp_lc_on_timer(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts);

/* Delete the pod: stop every container gracefully (T.2, T.4); nothing restarts (T.5). */
void pp_lc_delete(struct pp_pod_state *ps, pp_nsec now, struct pp_actions *acts);

/*
 * pp_lc_delete() with the deletion's gracePeriodSeconds <grace_s> (DeleteOptions) in place of
 * the pod's terminationGracePeriodSeconds; < 0 keeps the pod's. A pod already terminating keeps
 * its deadlines.
 */
void pp_lc_delete_grace(struct pp_pod_state *ps, pp_nsec now, int64_t grace_s,
			struct pp_actions *acts);

/* The next time pp_lc_on_timer() has work, or PP_NSEC_INFINITY. */
pp_nsec pp_lc_next_deadline(const struct pp_pod_state *ps);

/*
 * May probe <kind> of container <ci> run an attempt now? Only for a running container that is
 * not being stopped (P2.11, P2.13); liveness and readiness wait for startup (P2.8); startup
 * stops once it has passed; liveness and startup stop while the pod terminates (P2.12).
 */
bool pp_lc_probe_allowed(const struct pp_pod_state *ps, uint32_t ci, enum pp_probe_kind kind);

void pp_actions_clear(struct pp_actions *acts);
void pp_actions_free(struct pp_actions *acts);

/* Names for display: "Pending", "Running", ...; "Normal"/"Warning"; "Startup"... */
const char *pp_phase_str(enum pp_phase phase);
const char *pp_event_type_str(enum pp_event_type type);
const char *pp_probe_kind_str(enum pp_probe_kind kind);

#endif
