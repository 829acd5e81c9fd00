// SPDX-License-Identifier: Apache-2.0
/*
 * The shell around the lifecycle controllers. Inputs reach a controller from three sources:
 * a pidfd becoming readable (exit), a deadline in the heap (back-off, SIGKILL, active
 * deadline), and signalfd (pod deletion). Whatever the controller answers is carried out in
 * pp_sup_run_actions(); starting a container feeds its result straight back as the next input.
 */
#include "podprobe/supervisor.h"
#include "supervisor_int.h"
#include "sup_volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/event_ring.h"
#include "podprobe/expand.h"
#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log_index.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/metrics.h"
#include "podprobe/out_queue.h"
#include "podprobe/pid_map.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/pod_env.h"
#include "podprobe/pod_status.h"
#include "podprobe/probe.h"
#include "podprobe/prober.h"
#include "podprobe/probe_runner.h"
#include "podprobe/sd_notify.h"
#include "podprobe/runtime.h"
#include "podprobe/security.h"
#include "podprobe/sched.h"
#include "podprobe/signals.h"
#include "podprobe/yaml_json.h"

#define MAX_PROBES_IN_FLIGHT 4096 /* more wait (late), see probe_runner.h */
#define UI_PERIOD	     PP_NSEC_PER_SEC
#define EVENTS_KEPT	     10000 /* the API's events: the last 10,000, at most an hour old */
#define EVENTS_MAX_AGE	     (3600 * PP_NSEC_PER_SEC)
#define BEGIN_BUDGET	     (20 * PP_NSEC_PER_MSEC) /* of starts a turn, see begin_some() */
#define DEFAULT_PATH	     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define TIDY_BATCH 16 /* cgroups removed between two looks for completions, see tidy_due() */

/* ---- starting containers ----------------------------------------------------------------------
 */

/*
 * The container's environment (pp_env_build(): kubelet's makeEnvironmentVariables) as
 * "NAME=value" strings in <envp>: PATH and HOSTNAME as a runtime provides them, envFrom, then
 * env[] with valueFrom resolved and $(VAR) expanded. <ret_list> (NULL: not wanted) receives
 * the name/value pairs, for expanding command, args and subPathExpr. Fails with -ENOENT or
 * -EINVAL and kubelet's message in <err> (CreateContainerConfigError), or -ENOMEM.
 */
static int build_env(struct pod_rt *pr, const struct pp_container_spec *cs,
		     const struct pp_config_list *configs, struct pp_strv *envp,
		     struct pp_env_list *ret_list, char *err, size_t errlen)
{
	const struct pp_kv base[] = {{"PATH", pr->sup->base_path}, {"HOSTNAME", pr->spec->name}};
	struct pp_env_list list = {0};
	struct pp_env_host host;
	char *s;
	int rc;

	pp_sup_env_host(pr, &host);
	rc = pp_env_build(pr->spec, cs, &host, configs, base, 2, &list, err, errlen);
	for (size_t i = 0; rc == 0 && i < list.n; i++) {
		if (asprintf(&s, "%s=%s", list.v[i].name, list.v[i].value) < 0)
			s = NULL;
		rc = pp_strv_push(envp, s);
	}
	if (rc == 0 && ret_list)
		*ret_list = list;
	else
		pp_env_list_free(&list);
	return rc;
}

static void on_pidfd(void *ctx, int res);

/* A pod-level Warning event (no container): kubelet's recorder.Eventf(pod, ...). */
static void pod_warning(struct pod_rt *pr, const char *reason, const char *message)
{
	pp_sup_emit_event(pr, PP_NO_CONTAINER, PP_EVENT_WARNING, reason, message, pp_clock_now());
	pp_sup_record_event(pr, PP_NO_CONTAINER, PP_EVENT_WARNING, reason, message);
}

/* Whether a container of <pr> was ever created (this run or the one it was adopted from). */
static bool pod_ran(const struct pod_rt *pr)
{
	for (size_t i = 0; i < pr->st.n; i++)
		if (pr->st.c[i].created || pr->st.c[i].instance)
			return true;
	return false;
}

/*
 * PP_ACT_MOUNT: the pod's volumes before its first container (kubelet's SyncPod waits in
 * WaitForAttachAndMount). A volume that cannot be set up keeps every container Waiting and
 * the controller tries again after the volume manager's back-off, with a FailedMount per
 * volume each time. A pod whose containers have run already (re-adopted after a restart of
 * podprobe) has its volumes: as kubelet's reconstructed volumes, a failed refresh only warns.
 */
static void mount_volumes(struct pod_rt *pr, struct pp_actions *acts)
{
	struct pp_config_list configs = {0};
	char msgs[4][SUP_MOUNT_MSG];
	const char *v[4];
	int n = 0;

	if (pr->spec->n_volumes) {
		n = pp_sup_configs_load(pr, &configs);
		if (n == 0)
			n = pp_sup_volumes_setup(pr, &configs, msgs, 4);
		pp_config_list_free(&configs);
	}
	if (n < 0) {
		pp_log_errno(PP_LOG_ERR, n, "pod '%s': cannot set up its volumes", pr->spec->name);
		snprintf(msgs[0], sizeof(msgs[0]), "cannot set up the pod's volumes: %s",
			 strerror(-n));
		n = 1;
	}
	for (int i = 0; i < n; i++)
		v[i] = msgs[i];
	if (n > 0 && !pod_ran(pr)) {
		pp_lc_on_volumes_pending(&pr->st, v, (size_t)n, pp_clock_now(), acts);
		return;
	}
	for (int i = 0; i < n; i++)
		pod_warning(pr, "FailedMount", msgs[i]);
	pp_lc_volumes_ready(&pr->st, pp_clock_now(), acts);
}

/*
 * Before a restart the volumes' contents are written again from the ConfigMaps and Secrets of
 * now (kubelet's reconciler remounts them periodically); one that fails keeps its last
 * contents and says so with FailedMount, and the container starts: the volume is mounted.
 */
static void refresh_volumes(struct pod_rt *pr, const struct pp_config_list *configs)
{
	char msgs[4][SUP_MOUNT_MSG];
	int n = pp_sup_volumes_setup(pr, configs, msgs, 4);

	for (int i = 0; i < n; i++)
		pod_warning(pr, "FailedMount", msgs[i]);
}

static void start_container(struct pod_rt *pr, uint32_t ci, uint32_t instance,
			    struct pp_actions *acts)
{
	struct pp_supervisor *sup = pr->sup;
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);
	struct cont_rt *c = &pr->c[ci];
	struct pp_strv argv = {0}, envp = {0};
	struct pp_config_list configs = {0};
	struct pp_env_list env = {0};
	struct sup_mounts mounts = {0};
	struct pp_spawn_req req = {0};
	char err[512] = "";
	struct pp_exec_security sec;
	bool config_error = false;
	size_t i;
	int rc;

	/* The volumes were set up before the pod's first container (mount_volumes()). */
	rc = pp_sup_configs_load(pr, &configs);
	if (rc == 0 && pr->st.c[ci].created)
		refresh_volumes(pr, &configs);
	/*
	 * CreateContainerConfigError, per container once the volumes are there (env sources,
	 * securityContext, subPath): nothing is created, kubelet retries later.
	 */
	if (rc == 0) {
		rc = pp_security_resolve(pr->spec, cs, pr->st.uid, (uint32_t)geteuid(),
					 (uint32_t)getegid(), &sec, err, sizeof(err));
		config_error = rc < 0;
	}
	if (rc == 0) {
		rc = build_env(pr, cs, &configs, &envp, &env, err, sizeof(err));
		config_error = rc == -ENOENT || rc == -EINVAL;
		for (i = 0; rc == 0 && i < env.n_events; i++)
			pod_warning(pr, "InvalidEnvironmentVariableNames", env.events[i]);
	}
	pp_config_list_free(&configs);
	if (rc == 0) {
		rc = pp_sup_mounts_build(pr, cs, &env, &mounts, err, sizeof(err));
		config_error = rc == -ENOENT || rc == -EINVAL;
	}
	if (config_error) {
		pp_strv_free(&envp);
		pp_env_list_free(&env);
		pp_lc_on_config_error(&pr->st, ci, instance, err, pp_clock_now(), acts);
		return;
	}
	for (i = 0; rc == 0 && i < cs->n_command; i++)
		rc = pp_strv_push(&argv, pp_expand_vars(cs->command[i], env.v, env.n));
	for (i = 0; rc == 0 && i < cs->n_args; i++)
		rc = pp_strv_push(&argv, pp_expand_vars(cs->args[i], env.v, env.n));
	if (rc == 0 && !argv.n)
		rc = -EINVAL;
	if (rc < 0) {
		snprintf(err, sizeof(err), "cannot prepare the process: %s", strerror(-rc));
	} else {
		req = (struct pp_spawn_req){
			.pod_key = pr->key,
			.container = cs->name,
			.restart = pr->st.c[ci].created,
			.pod_uid = pr->st.uid,
			.argv = argv.v,
			.envp = envp.v,
			.working_dir = cs->working_dir,
			.mounts = mounts.v,
			.n_mounts = mounts.n,
			.memory_limit = cs->memory_limit,
			.sec = &sec,
		};
		rc = pp_runtime_spawn(&sup->rt, &req, &c->proc, err, sizeof(err));
	}
	pp_strv_free(&argv);
	pp_strv_free(&c->env);
	if (rc == 0)
		c->env = envp; /* exec probes run with it */
	else
		pp_strv_free(&envp);
	pp_env_list_free(&env);
	pp_sup_mounts_free(&mounts);

	if (rc == 0) {
		c->instance = instance;
		c->sec = sec;
		rc = pp_loop_poll(sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
		if (rc < 0)
			pp_log_errno(PP_LOG_ERR, rc, "cannot watch container '%s'", cs->name);
		pp_lc_on_started(&pr->st, ci, instance, pp_clock_now(), acts);
		pp_sup_probes_arm(c, instance, pp_clock_now(), NULL);
		pp_sup_bpf_track(c);
		/* The file's bytes get the times they were written (kubectl logs --timestamps). */
		pp_log_index_watch(sup->log_index, sup->cfg->state_dir, pr->key, cs->name,
				   req.restart, true);
		/*
		 * Before the loop goes on: a podprobe killed from then on re-adopts it instead
		 * of starting it twice. pp_sup_run_actions() writes it once its actions are done
		 * (one write for the starts and what they reported).
		 */
		pr->record_now = true;
	} else {
		pp_lc_on_start_failed(&pr->st, ci, instance, err, pp_clock_now(), acts);
	}
}

void pp_sup_container_adopted(struct cont_rt *c, const uint8_t *published)
{
	struct pod_rt *pr = c->pod;
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, c->ci);
	char err[512];
	int rc;

	/* Exec probes and hooks run as the container does: it started with this spec. */
	rc = pp_security_resolve(pr->spec, cs, pr->st.uid, (uint32_t)geteuid(), (uint32_t)getegid(),
				 &c->sec, err, sizeof(err));
	if (rc == 0) {
		struct pp_config_list configs = {0};

		pp_strv_free(&c->env);
		rc = pp_sup_configs_load(pr, &configs);
		if (rc == 0)
			rc = build_env(pr, cs, &configs, &c->env, NULL, err, sizeof(err));
		pp_config_list_free(&configs);
		if (rc == -ENOENT || rc == -EINVAL) {
			/* It runs with what it was given; only its exec probes lack those values.
			 */
			pp_log(PP_LOG_WARN,
			       "pod '%s': container '%s': exec probes run without its configured "
			       "environment: %s",
			       pr->spec->name, cs->name, err);
			pp_strv_free(&c->env);
			rc = build_env(pr, &(struct pp_container_spec){.name = cs->name}, NULL,
				       &c->env, NULL, err, sizeof(err));
		}
	}
	if (rc < 0) {
		/* Nothing runs in its name unchecked: it ends, and starts again the usual way. */
		pp_log(PP_LOG_WARN,
		       "pod '%s': container '%s' cannot be re-adopted (%s), killing it",
		       pr->spec->name, cs->name, rc == -EPERM ? err : strerror(-rc));
		pp_strv_free(&c->env);
		pp_runtime_signal(&c->proc, SIGKILL);
	}
	rc = pp_loop_poll(pr->sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
	if (rc < 0)
		pp_log_errno(PP_LOG_ERR, rc, "cannot watch container '%s'", cs->name);
	pp_sup_probes_arm(c, c->instance, pr->st.c[c->ci].started_at, published);
	pp_sup_bpf_track(c);
	pp_log_index_watch(pr->sup->log_index, pr->sup->cfg->state_dir, pr->key, cs->name,
			   pr->st.c[c->ci].restart_count, false);
}

/* ---- actions and timers ------------------------------------------------------------------------
 */

/* Give <pr> its volumes: fresh ones, or for a re-adopted pod the ones its containers use. */
static int pod_volumes(struct pod_rt *pr, bool reuse)
{
	const struct pp_pod *spec = pr->spec;
	char **vols = calloc(spec->n_volumes ? spec->n_volumes : 1, sizeof(*vols));
	int err;

	if (!vols)
		return -ENOMEM;
	for (size_t i = 0; i < spec->n_volumes; i++)
		vols[i] = spec->volumes[i].name;
	err = (reuse ? pp_runtime_reuse_pod : pp_runtime_prepare_pod)(
		&pr->sup->rt, pr->key, vols, spec->n_volumes, pr->vol_dir, sizeof(pr->vol_dir));
	free(vols);
	if (err < 0)
		pp_log_errno(PP_LOG_ERR, err, "pod '%s': cannot create its volumes", spec->name);
	return err;
}

/* Start new pod <pr>: its volumes, its saved manifest, then the controller. */
void pp_sup_pod_begin(struct pod_rt *pr)
{
	pod_volumes(pr, false); /* on failure its containers fail to start, and say why */
	pp_sup_manifest_save(pr);
	pr->created = pp_clock_now();
	pr->begun = true;
	pp_lc_start(&pr->st, pr->created, &pr->sup->acts);
	pp_sup_run_actions(pr);
}

/* A pod of an earlier run that is no longer wanted is gone: its successor may begin. */
static void pod_left(struct pod_rt *pr)
{
	int32_t next = pr->successor;

	pr->successor = -1;
	pp_sup_record_remove(pr);
	/* Unless it was deleted too (Ctrl-C) while it waited. */
	if (next >= 0 && !pr->sup->pods[next].st.deleted) {
		pr->sup->pods[next].waiting = false;
		pp_sup_pod_begin(&pr->sup->pods[next]);
		pp_sup_pod_touch(&pr->sup->pods[next]);
	}
}

static void arm_timer(struct pod_rt *pr)
{
	pp_nsec d = pp_lc_next_deadline(&pr->st);

	if (d == PP_NSEC_INFINITY || d == pr->armed)
		return;
	pr->gen++;
	pr->armed = d;
	if (pp_sched_push(&pr->sup->sched, d, pr->index, pr->gen) < 0)
		pp_log(PP_LOG_ERR, "out of memory arming a timer for pod '%s'", pr->spec->name);
}

/* The API's copy of an event (kubelet's recorder, aggregated in the ring). */
void pp_sup_record_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type,
			 const char *reason, const char *message)
{
	struct pp_supervisor *sup = pr->sup;
	char path[300] = "";
	const struct pp_event *ev;
	struct pp_event_in in;
	bool added;

	if (!sup->api)
		return;
	if (ci < pr->st.n) {
		const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);

		snprintf(path, sizeof(path), "spec.%s{%s}",
			 cs->is_init ? "initContainers" : "containers", cs->name);
	}
	in = (struct pp_event_in){
		.ns = pr->spec->namespace,
		.pod = pr->spec->name,
		.pod_uid = pr->st.uid,
		.field_path = path[0] ? path : NULL,
		.reason = reason,
		.message = message,
		.type = type,
	};
	if (pp_event_ring_record(&sup->events, &in, pp_clock_wall(), ++sup->rv, &ev, &added) == 0)
		pp_api_event_recorded(sup, ev, added);
}

void pp_sup_run_actions(struct pod_rt *pr)
{
	struct pp_actions *acts = &pr->sup->acts;
	pp_nsec now = pp_clock_now();

	/* Carrying out an action may append more (a start reports back at once). */
	for (size_t i = 0; i < acts->n; i++) {
		struct pp_action a = acts->v[i];
		struct cont_rt *c = a.container < pr->st.n ? &pr->c[a.container] : NULL;

		switch (a.kind) {
		case PP_ACT_START:
			/*
			 * Watches hear of an exit before the restart: starting a process takes
			 * milliseconds (clone, cgroup), and the change must not wait for it.
			 */
			if (pr->sup->api && pr->announced) {
				pp_sup_pod_touch(pr); /* its STATUS action comes after this START */
				pp_api_pod_flush(pr, pp_clock_wall());
				pp_loop_submit(pr->sup->loop); /* out before the spawn */
			}
			start_container(pr, a.container, a.instance, acts);
			break;
		case PP_ACT_SIGNAL:
			if (c && c->instance == a.instance && c->proc.pidfd >= 0)
				pp_runtime_signal(&c->proc, a.signo);
			break;
		case PP_ACT_EVENT:
			pp_sup_emit_event(pr, a.container, a.type, a.reason, a.message, now);
			pp_sup_record_event(pr, a.container, a.type, a.reason, a.message);
			break;
		case PP_ACT_STATUS:
			pr->sup->dirty = true;
			pp_sup_pod_touch(pr);
			break;
		case PP_ACT_HOOK:
			pp_sup_hook_start(pr, a.container, a.instance, a.hook);
			break;
		case PP_ACT_MOUNT:
			mount_volumes(pr, acts);
			break;
		default:
			break;
		}
	}
	if (acts->oom)
		pp_log(PP_LOG_ERR, "out of memory: some actions for pod '%s' were lost",
		       pr->spec->name);
	pp_actions_clear(acts);
	arm_timer(pr);
	if (pr->record_now) {
		pr->record_now = false;
		pp_sup_record_write(pr);
	} else {
		pr->record_dirty |= pr->begun;
	}
	pp_sup_turn_work(pr->sup);
	if (pr->st.terminal && pr->leaving && pr->begun)
		pod_left(pr);
}

/* The instance's process is gone (pidfd or kernel): its probes stop, the controller decides. */
void pp_sup_container_exited(struct cont_rt *c, uint32_t instance, const struct pp_exit_info *ex)
{
	struct pod_rt *pr = c->pod;

	pp_log_index_unwatch(pr->sup->log_index, pr->key, pp_pod_container(pr->spec, c->ci)->name,
			     pr->st.c[c->ci].restart_count);
	c->instance = 0;
	c->cgroup_id = 0;
	c->oom_seen = false;
	pp_sup_hooks_cancel(c);
	pp_sup_probes_disarm(c);
	pp_strv_free(&c->env);
	pp_lc_on_exit(&pr->st, c->ci, instance, ex, pp_clock_now(), &pr->sup->acts);
	pp_sup_run_actions(pr);
	pp_api_logs_changed(pr->sup);
}

static void on_pidfd(void *ctx, int res)
{
	struct cont_rt *c = ctx;
	struct pod_rt *pr = c->pod;
	struct pp_exit_info ex;
	uint32_t instance = c->instance;
	int err;

	/*
	 * The kernel's exit record, when one is waiting, comes first: it carries what the pidfd
	 * path cannot (the source of the event) and has then dealt with this exit already.
	 */
	pp_signals_drain(pr->sup->bpf);
	if (c->instance != instance || c->proc.pidfd < 0)
		return;

	err = pp_runtime_reap(&pr->sup->rt, &c->proc, &ex);
	if (err == -EAGAIN) {
		/* Spurious wake-up: watch again. */
		pp_loop_poll(pr->sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
		return;
	}
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot collect the exit of container '%s'",
			     pp_pod_container(pr->spec, c->ci)->name);
		memset(&ex, 0, sizeof(ex));
		ex.code = 255;
	}
	pp_sup_container_exited(c, instance, &ex);
}

static void delete_all(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (!pr)
			continue;
		pp_lc_delete(&pr->st, pp_clock_now(), &sup->acts);
		pp_sup_run_actions(pr);
	}
}

static void kill_all(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		for (size_t j = 0; pr && j < pr->st.n; j++)
			if (pr->c[j].proc.pidfd >= 0)
				pp_runtime_signal(&pr->c[j].proc, SIGKILL);
	}
}

static void on_signal(void *ctx, int res)
{
	struct pp_supervisor *sup = ctx;

	if (res == (int)sizeof(sup->sig_buf)) {
		sup->signals++;
		pp_sup_table_erase(sup);
		if (sup->cfg->keep_pods) {
			pp_log(PP_LOG_NOTICE,
			       "%s: leaving every pod running for the next run (--keep-pods)",
			       strsignal((int)sup->sig_buf.ssi_signo));
			sup->keep = true;
			pp_sd_notify("STOPPING=1");
		} else if (sup->signals == 1) {
			pp_log(PP_LOG_NOTICE,
			       "%s: stopping every pod gracefully (again to kill now)",
			       strsignal((int)sup->sig_buf.ssi_signo));
			sup->stopping = true;
			pp_sd_notify("STOPPING=1");
			delete_all(sup);
		} else {
			pp_log(PP_LOG_NOTICE, "%s: killing every container now",
			       strsignal((int)sup->sig_buf.ssi_signo));
			kill_all(sup);
		}
	}
	if (pp_loop_read(sup->loop, sup->sig_fd, &sup->sig_buf, sizeof(sup->sig_buf), on_signal,
			 sup, NULL) < 0)
		pp_log(PP_LOG_ERR, "cannot watch signals any more");
}

static void on_deadline(struct pp_supervisor *sup, const struct pp_sched_entry *e)
{
	struct pod_rt *pr;

	if (e->key >= SUP_HOOK_KEY_BASE && e->key < SUP_WATCHDOG_KEY) {
		pp_sup_hook_sleep_done(sup, e);
		return;
	}
	if (e->key == SUP_WATCHDOG_KEY) {
		/* From the loop itself: a wedged loop stops the pings and systemd restarts us. */
		pp_sd_notify("WATCHDOG=1");
		pp_sched_push(&sup->sched, pp_clock_now() + sup->watchdog, SUP_WATCHDOG_KEY, 0);
		return;
	}
	if (e->key == SUP_BPF_KEY) {
		pp_sup_bpf_check(sup);
		pp_sched_push(&sup->sched, pp_clock_now() + SUP_BPF_CHECK_PERIOD, SUP_BPF_KEY, 0);
		return;
	}
	if (e->key == SUP_UI_KEY) {
		if (sup->table)
			sup->dirty = true;
		pp_sched_push(&sup->sched, pp_clock_now() + UI_PERIOD, SUP_UI_KEY, 0);
		return;
	}
	if (e->key >= sup->n_pods || !(pr = pp_sup_pod(sup, e->key)))
		return;
	if (e->gen != pr->gen)
		return; /* superseded by a later arm_timer() */
	pr->armed = PP_NSEC_INFINITY;
	pp_lc_on_timer(&pr->st, pp_clock_now(), &sup->acts);
	pp_sup_run_actions(pr);
}

static bool all_terminal(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (pr && !pr->st.terminal)
			return false;
	}
	return true;
}

/* The run is over: every pod ended, and pods come only from files (or a signal said stop). */
static bool run_over(struct pp_supervisor *sup)
{
	return sup->keep || (all_terminal(sup) && (!sup->cfg->serve || sup->stopping));
}

/* ---- set-up and the loop -----------------------------------------------------------------------
 */

/*
 * Ended containers' cgroups are removed when the loop has nothing else to do: an rmdir of a
 * cgroup costs about half the mkdir of the next container's (the kernel's interface files),
 * and a start must not wait for it. The loop then looks for completions without
 * sleeping, and removes TIDY_BATCH between looks that find none (and a batch a second when
 * every look finds some). Those whose processes were still exiting are tried again a second
 * later.
 */
static bool tidy_due(struct pp_supervisor *sup)
{
	pp_nsec now;

	if (!sup->rt.n_graveyard)
		return false;
	now = pp_clock_now();
	if (!sup->rt.n_untried && now >= sup->tidy_retry_at) {
		pp_runtime_tidy_retry(&sup->rt);
		sup->tidy_retry_at = now + PP_NSEC_PER_SEC;
	}
	return sup->rt.n_untried > 0;
}

/*
 * Begin the manifests' new pods BEGIN_BUDGET's worth a turn (one at least), in their order:
 * starting a container holds the loop ~1 ms (the clone until exec, its cgroup and log files),
 * and 5,000 pods begun in one go held back every probe, exit and API request for 10 s. Between
 * turns the pods waiting show as Pending, as a pod does before kubelet's pod worker starts it
 * (pkg/kubelet/pod_workers.go); one deleted meanwhile is not begun.
 */
static void begin_some(struct pp_supervisor *sup)
{
	pp_nsec until = pp_clock_now() + BEGIN_BUDGET;

	while (sup->begin_next < sup->n_begin) {
		struct pod_rt *pr = pp_sup_pod(sup, sup->begin_next++);

		if (!pr || !pr->to_begin)
			continue;
		pr->to_begin = false;
		if (pr->st.deleted)
			continue;
		pp_sup_pod_begin(pr);
		pp_sup_pod_touch(pr);
		if (pp_clock_now() >= until)
			break;
	}
}

/*
 * The manifest of <spec> as the API stores it: its document as JSON, or (a document the JSON
 * reader cannot take) just its name and namespace; the pod-status module fills in the rest.
 */
static json_t *manifest_object(const struct pp_pod *spec)
{
	char err[256];
	json_t *obj = NULL, *meta;

	if (spec->source &&
	    pp_yaml_to_json(spec->source, spec->source_len, 0, &obj, err, sizeof(err)) == 0 &&
	    json_is_object(obj)) {
		meta = json_object_get(obj, "metadata");
		if (json_is_object(meta)) {
			json_object_set_new(meta, "namespace", json_string(spec->namespace));
			return obj;
		}
	}
	json_decref(obj);
	return json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata",
			 "name", spec->name, "namespace", spec->namespace);
}

void pp_sup_new_uid(struct pp_supervisor *sup, char *buf, size_t size)
{
	unsigned char r[16];

	/* One system call: no file and no 4 KiB stdio read per pod. */
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* Unique within the run at least. */
		for (size_t i = 0; i < sizeof(r); i++) {
			sup->rand = sup->rand * 6364136223846793005ull + 1442695040888963407ull;
			r[i] = (unsigned char)(sup->rand >> 56);
		}
	}
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
}

/* <pr> for <spec>: its controller (UID <uid>, or a new one), containers and probes. */
int pp_sup_pod_setup(struct pp_supervisor *sup, struct pod_rt *pr, struct pp_pod *spec,
		     uint32_t index, const char *uid_in)
{
	char uid[40];
	int err;

	pr->sup = sup;
	pr->spec = spec;
	pr->index = index;
	pr->armed = PP_NSEC_INFINITY;
	pr->successor = -1;
	pr->created_wall = pp_clock_wall();
	pr->rv = pr->created_rv = ++sup->rv;
	if (!pr->object)
		pr->object = manifest_object(spec);
	snprintf(pr->key, sizeof(pr->key), "%s_%s", spec->namespace, spec->name);
	if (uid_in || spec->uid)
		snprintf(uid, sizeof(uid), "%s", uid_in ? uid_in : spec->uid);
	else
		pp_sup_new_uid(sup, uid, sizeof(uid));
	err = pp_lc_init(&pr->st, spec, &sup->cfg->lc, uid);
	if (err < 0)
		return err;
	pr->c = calloc(pr->st.n ? pr->st.n : 1, sizeof(*pr->c));
	if (!pr->c)
		return -ENOMEM;
	for (size_t i = 0; i < pr->st.n; i++) {
		uint32_t free_gidx = sup->conts_free;

		/*
		 * A deleted pod's container index first (hook timer keys are unique per run); the
		 * search starts at the lowest one that may be free, so 10,000 pods are not 10,000
		 * walks over every container.
		 */
		while (free_gidx < sup->n_conts && sup->conts[free_gidx])
			free_gidx++;
		if (free_gidx == sup->n_conts) {
			if (sup->n_conts == sup->conts_cap) {
				uint32_t cap = sup->conts_cap ? 2 * sup->conts_cap : 64;
				struct cont_rt **conts = realloc(sup->conts, cap * sizeof(*conts));

				if (!conts)
					return -ENOMEM;
				sup->conts = conts;
				sup->conts_cap = cap;
			}
			sup->conts[sup->n_conts++] = NULL;
		}
		pr->c[i] = (struct cont_rt){
			.pod = pr, .ci = (uint32_t)i, .proc.pidfd = -1, .gidx = free_gidx};
		sup->conts[free_gidx] = &pr->c[i];
		sup->conts_free = free_gidx + 1;
	}
	for (uint32_t i = 0; i < pr->st.n; i++) {
		err = pp_sup_probes_setup(&pr->c[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

static int signals_setup(struct pp_supervisor *sup)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sup->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sup->sig_fd < 0)
		return -errno;
	return pp_loop_read(sup->loop, sup->sig_fd, &sup->sig_buf, sizeof(sup->sig_buf), on_signal,
			    sup, NULL);
}

int pp_supervisor_run(const struct pp_supervisor_cfg *cfg_in, struct pp_pod_list *pods)
{
	struct pp_supervisor_cfg own = *cfg_in;
	const struct pp_supervisor_cfg *cfg = &own;
	struct pp_supervisor sup = {.cfg = cfg, .sig_fd = -1};
	struct plan *plan = NULL;
	size_t n_plan = 0;
	struct pp_sched_entry e;
	const char *path = getenv("PATH");
	int err, rc = 0;
	size_t i;

	/* Containers wait for their pod's volumes: PP_ACT_MOUNT, mount_volumes(). */
	own.lc.wait_for_volumes = true;
	signal(SIGPIPE, SIG_IGN);
	sup.pods_fd = -1;
	sup.base_path = strdup(path && *path ? path : DEFAULT_PATH);
	if (!sup.base_path) {
		err = -ENOMEM;
		goto out;
	}
	sup.table = cfg->table == PP_TABLE_ALWAYS ||
		    (cfg->table == PP_TABLE_AUTO && cfg->events == PP_EVENTS_TEXT &&
		     isatty(STDOUT_FILENO));
	err = pp_loop_new(256, &sup.loop);
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot create the io_uring loop");
		goto out;
	}
	/* Whatever went to stdout before (stdio) goes first; from here on, the queue. */
	fflush(stdout);
	err = pp_outq_new(sup.loop, STDOUT_FILENO, PP_OUTQ_CAP, &sup.out);
	if (err < 0)
		goto out_loop;
	err = pp_probe_runner_new(sup.loop, MAX_PROBES_IN_FLIGHT, &sup.runner);
	if (err < 0)
		goto out_loop;
	sup.rand = (uint64_t)pp_clock_now() | 1;
	err = pp_runtime_init(&sup.rt, cfg->state_dir, cfg->use_cgroups);
	if (err < 0)
		goto out_loop;
	sup.rt.defer_tidy = true; /* the loop removes ended containers' cgroups: tidy_due() */
	err = signals_setup(&sup);
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot set up signal handling");
		goto out_runtime;
	}
	pp_sup_bpf_setup(&sup);
	err = pp_sup_records_open(&sup);
	if (!err)
		err = pp_sup_make_plan(&sup, pods, &plan, &n_plan);
	sup.max_pods = cfg->max_pods ? cfg->max_pods : PP_DEFAULT_MAX_PODS;
	if (!err && n_plan > sup.max_pods) {
		pp_log(PP_LOG_ERR, "%zu pods, more than --max-pods %zu", n_plan, sup.max_pods);
		err = -E2BIG;
	}
	/* Reserved once, touched as pods come: a pod never moves while the run goes on. */
	if (!err) {
		sup.pods = mmap(NULL, sup.max_pods * sizeof(*sup.pods), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (sup.pods == MAP_FAILED) {
			sup.pods = NULL;
			err = -errno;
		}
	}
	if (!err)
		err = pp_event_ring_init(&sup.events, EVENTS_KEPT, EVENTS_MAX_AGE);
	if (!err)
		err = pp_metrics_init(&sup.metrics);
	if (err < 0)
		goto out_pods;
	if (gethostname(sup.node_name, sizeof(sup.node_name) - 1) < 0 || !sup.node_name[0])
		snprintf(sup.node_name, sizeof(sup.node_name), "podprobe");
	pp_sup_node_read(&sup);
	pp_sup_sweep_leftovers(&sup, plan, n_plan);
	for (i = 0; i < n_plan; i++) {
		struct pod_rt *pr = &sup.pods[i];

		err = pp_sup_pod_setup(&sup, pr, plan[i].spec, (uint32_t)i,
				       plan[i].rec ? plan[i].rec->pod.uid : NULL);
		sup.n_pods = i + 1;
		pr->rec = plan[i].rec;
		plan[i].rec = NULL;
		pr->leaving = plan[i].role == PLAN_LEAVE;
		pr->from_api = plan[i].from_api;
		if (plan[i].role == PLAN_WAIT) {
			sup.pods[i - 1].successor = (int32_t)i;
			pr->waiting = true;
		}
		if (err < 0)
			goto out_pods;
	}
	/* Without it logs still work: their lines then get the file's mtime. */
	err = pp_log_index_new(sup.loop, &sup.log_index);
	if (err < 0)
		pp_log_errno(PP_LOG_WARN, err, "log line times: cannot watch the log files");
	if (sup.table)
		pp_sched_push(&sup.sched, pp_clock_now() + UI_PERIOD, SUP_UI_KEY, 0);
	err = pp_api_start(&sup);
	if (!err)
		err = pp_sup_static_setup(&sup);
	if (err < 0)
		goto out_pods;
	sup.running = true;
	for (i = 0; i < sup.n_pods; i++) {
		struct pod_rt *pr = &sup.pods[i];

		if (plan[i].role == PLAN_NEW) {
			pr->to_begin = true;
		} else if (plan[i].role != PLAN_WAIT) {
			pod_volumes(pr, true);
			pp_sup_adopt(pr, pp_clock_now());
		}
		if (plan[i].role == PLAN_LEAVE && !pr->st.terminal) {
			pp_log(PP_LOG_NOTICE, "pod '%s' of the last run is %s: deleting it",
			       pr->spec->name,
			       pr->successor >= 0 ? "replaced" : "no longer listed");
			pp_lc_delete(&pr->st, pp_clock_now(), &sup.acts);
			pp_sup_run_actions(pr);
		}
	}

	sup.n_begin = sup.n_pods;
	/* systemd (Type=notify): the loop runs, the API listens (sd_notify(3)). */
	pp_sd_notify("READY=1");
	sup.watchdog = pp_sd_watchdog_interval();
	if (sup.watchdog)
		pp_sched_push(&sup.sched, pp_clock_now() + sup.watchdog, SUP_WATCHDOG_KEY, 0);

	while (!run_over(&sup)) {
		pp_nsec next = pp_sched_next(&sup.sched), pnext = pp_probe_runner_next(sup.runner);
		pp_nsec anext = pp_api_next(&sup), lnext = pp_log_index_next(sup.log_index), now;
		bool sweep, begin_more, tidy;

		if (pnext < next)
			next = pnext;
		if (lnext < next)
			next = lnext;
		if (anext < next)
			next = anext;
		if (sup.records_at && sup.records_at < next)
			next = sup.records_at;
		if (sup.rt.n_graveyard && sup.tidy_retry_at < next)
			next = sup.tidy_retry_at; /* a cgroup still busy: tidy_due() */
		/* What this turn (or the start) printed, before the wait. */
		pp_sup_events_flush(&sup);
		begin_more = sup.begin_next < sup.n_begin;
		tidy = !begin_more && tidy_due(&sup);
		err = pp_loop_run_once(sup.loop, begin_more || tidy ? 0 : next);
		/* Loop lag: how late a wake-up for a deadline came (/metrics). */
		now = pp_clock_now();
		if (err == 0 && !begin_more && next != PP_NSEC_INFINITY && now >= next)
			pp_prom_hist_observe(&sup.loop_lag, now - next);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "event loop failed");
			kill_all(&sup);
			goto out_pods;
		}
		pp_probe_runner_run(sup.runner, pp_clock_now());
		pp_log_index_run(sup.log_index, pp_clock_now());
		while (pp_sched_pop_expired(&sup.sched, pp_clock_now(), &e))
			on_deadline(&sup, &e);
		if (begin_more)
			begin_some(&sup);
		now = pp_clock_now();
		/* Nothing came (the loop was idle), or it has not been idle for a second. */
		if (tidy && (err == 0 || now >= sup.tidied_at + PP_NSEC_PER_SEC)) {
			pp_runtime_tidy(&sup.rt, TIDY_BATCH);
			sup.tidied_at = now;
		}
		sweep = sup.turn_work || now >= sup.next_sweep;
		if (sweep) {
			sup.turn_work = false;
			sup.next_sweep = now + PP_NSEC_PER_SEC;
		}
		pp_api_run(&sup, now, sweep);
		if (sweep)
			pp_sup_end_of_turn(&sup);
		pp_sup_events_flush(&sup);
		if (sweep || (sup.records_at && now >= sup.records_at))
			pp_sup_records_flush(&sup, now);
		pp_sup_static_sync(&sup); /* nothing to do unless a manifest directory changed */
		if (sup.dirty)
			pp_sup_table_draw(&sup);
	}
	pp_sup_table_draw(&sup);
	pp_sd_notify("STOPPING=1");
	for (i = 0; i < sup.n_pods && !sup.keep; i++)
		if (pp_sup_pod(&sup, i) && sup.pods[i].st.phase == PP_PHASE_FAILED &&
		    !sup.pods[i].leaving && !sup.pods[i].from_api)
			rc = 1;
	err = 0;
out_pods:
	/* The last lines, while everything they may wait on still runs: a bounded wait. */
	pp_outq_drain(sup.out, pp_clock_now() + PP_OUTQ_DRAIN_MAX);
	pp_sup_static_stop(&sup);
	pp_api_stop(&sup);
	pp_log_index_free(sup.log_index);
	sup.log_index = NULL;
	if (sup.keep) {
		/* Kept for the next run: every record as things stand now. */
		for (i = 0; i < sup.n_pods; i++)
			if (pp_sup_pod(&sup, i) && sup.pods[i].begun)
				pp_sup_record_write(&sup.pods[i]);
	} else {
		/* Every pod has ended (or was killed): nothing is left for a later run to adopt. */
		for (i = 0; sup.running && i < sup.n_pods; i++)
			if (pp_sup_pod(&sup, i) && sup.pods[i].begun)
				pp_sup_record_remove(&sup.pods[i]);
	}
	for (i = 0; plan && i < n_plan; i++)
		pp_sup_record_free(plan[i].rec);
	free(plan);
	if (sup.bpf) {
		struct pp_signals_stats st;

		if (pp_signals_stats(sup.bpf, &st) == 0)
			pp_log(PP_LOG_NOTICE, "kernel signals: %llu events, %llu lost",
			       (unsigned long long)st.events, (unsigned long long)st.lost);
	}
	pp_signals_close(sup.bpf);
	sup.bpf = NULL;
	pp_sup_reapers_free(&sup);
	pp_probe_runner_free(sup.runner);
	sup.runner = NULL;
	for (i = 0; i < sup.n_pods; i++)
		if (sup.pods[i].spec)
			pp_sup_pod_release(&sup.pods[i]);
	pp_sup_probes_free(&sup);
	free(sup.conts);
	pp_pid_map_free(&sup.main_pids);
	pp_sup_ports_free(&sup);
	if (sup.sig_fd >= 0)
		close(sup.sig_fd);
	if (sup.pods_fd >= 0)
		close(sup.pods_fd);
	pp_pod_list_free(&sup.saved);
out_runtime:
	pp_runtime_fini(&sup.rt);
out_loop:
	pp_probe_runner_free(sup.runner);
	pp_outq_free(sup.out);
	pp_loop_free(sup.loop);
out:
	pp_sched_free(&sup.sched);
	pp_actions_free(&sup.acts);
	pp_event_ring_fini(&sup.events);
	pp_metrics_fini(&sup.metrics);
	if (sup.pods)
		munmap(sup.pods, sup.max_pods * sizeof(*sup.pods));
	free(sup.base_path);
	return err < 0 ? err : rc;
}
