// SPDX-License-Identifier: Apache-2.0
/*
 * The shell around the lifecycle controllers. Inputs reach a controller from three sources:
 * a pidfd becoming readable (exit), a deadline in the heap (back-off, SIGKILL, active
 * deadline), and signalfd (pod deletion). Whatever the controller answers is carried out in
 * pp_sup_run_actions(); starting a container feeds its result straight back as the next input.
 */
#include "podprobe/supervisor.h"
#include "supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/expand.h"
#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"
#include "podprobe/prober.h"
#include "podprobe/probe_runner.h"
#include "podprobe/runtime.h"
#include "podprobe/security.h"
#include "podprobe/statedir.h"
#include "podprobe/sched.h"
#include "podprobe/signals.h"

#define MAX_PROBES_IN_FLIGHT 4096 /* more wait (late), see probe_runner.h */
#define UI_PERIOD	     PP_NSEC_PER_SEC
#define DEFAULT_PATH	     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- starting containers ----------------------------------------------------------------------
 */

/*
 * The container's environment: PATH and HOSTNAME as a runtime provides them, then env[] in
 * order, each value expanded against the variables before it. <vars> receives name/value
 * pairs (pointing into <envp> strings) for expanding command and args.
 */
static int build_env(struct pod_rt *pr, const struct pp_container_spec *cs, struct pp_strv *envp,
		     struct pp_kv **ret_vars, size_t *ret_n)
{
	size_t n = 0, cap = cs->n_env + 2;
	struct pp_kv *vars = calloc(cap, sizeof(*vars));
	char *s;
	int err = 0;

	if (!vars)
		return -ENOMEM;
	vars[n++] = (struct pp_kv){"PATH", pr->sup->base_path};
	vars[n++] = (struct pp_kv){"HOSTNAME", pr->spec->name};
	for (size_t i = 0; i < cs->n_env; i++) {
		char *v = pp_expand_vars(cs->env[i].value ? cs->env[i].value : "", vars, n);
		size_t j;

		if (!v) {
			err = -ENOMEM;
			break;
		}
		for (j = 0; j < n && strcmp(vars[j].name, cs->env[i].name); j++)
			;
		/* A later entry with the same name wins; keep the expanded value alive in <envp>.
		 */
		if (asprintf(&s, "%s=%s", cs->env[i].name, v) < 0)
			s = NULL;
		free(v);
		err = pp_strv_push(envp, s);
		if (err < 0)
			break;
		vars[j] = (struct pp_kv){cs->env[i].name, strchr(envp->v[envp->n - 1], '=') + 1};
		if (j == n)
			n++;
	}
	for (size_t i = 0; i < 2 && !err; i++) {
		bool overridden = false;

		for (size_t j = 0; j < cs->n_env; j++)
			overridden |= !strcmp(cs->env[j].name, vars[i].name);
		if (!overridden) {
			if (asprintf(&s, "%s=%s", vars[i].name, vars[i].value) < 0)
				s = NULL;
			err = pp_strv_push(envp, s);
		}
	}
	if (err < 0) {
		free(vars);
		return err;
	}
	*ret_vars = vars;
	*ret_n = n;
	return 0;
}

static void on_pidfd(void *ctx, int res);

static void start_container(struct pod_rt *pr, uint32_t ci, uint32_t instance,
			    struct pp_actions *acts)
{
	struct pp_supervisor *sup = pr->sup;
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);
	struct cont_rt *c = &pr->c[ci];
	struct pp_strv argv = {0}, envp = {0};
	struct pp_mount_req *mounts = NULL;
	struct pp_spawn_req req = {0};
	struct pp_kv *vars = NULL;
	size_t n_vars = 0, i;
	char err[512] = "", (*srcs)[PATH_MAX + 256] = NULL;
	struct pp_exec_security sec;
	int rc;

	/* CreateContainerConfigError: nothing is created, kubelet retries later. */
	rc = pp_security_resolve(pr->spec, cs, pr->st.uid, (uint32_t)geteuid(), (uint32_t)getegid(),
				 &sec, err, sizeof(err));
	if (rc < 0) {
		pp_lc_on_config_error(&pr->st, ci, instance, err, pp_clock_now(), acts);
		return;
	}
	rc = build_env(pr, cs, &envp, &vars, &n_vars);
	for (i = 0; rc == 0 && i < cs->n_command; i++)
		rc = pp_strv_push(&argv, pp_expand_vars(cs->command[i], vars, n_vars));
	for (i = 0; rc == 0 && i < cs->n_args; i++)
		rc = pp_strv_push(&argv, pp_expand_vars(cs->args[i], vars, n_vars));
	if (rc == 0 && cs->n_mounts) {
		mounts = calloc(cs->n_mounts, sizeof(*mounts));
		srcs = calloc(cs->n_mounts, sizeof(*srcs));
		if (!mounts || !srcs)
			rc = -ENOMEM;
		for (i = 0; rc == 0 && i < cs->n_mounts; i++) {
			snprintf(srcs[i], sizeof(srcs[i]), "%s/%s", pr->vol_dir,
				 cs->mounts[i].name);
			mounts[i] = (struct pp_mount_req){srcs[i], cs->mounts[i].mount_path,
							  cs->mounts[i].read_only};
		}
	}
	if (rc == 0 && !argv.n)
		rc = -EINVAL;
	if (rc < 0) {
		snprintf(err, sizeof(err), "cannot prepare the process: %s", strerror(-rc));
	} else {
		req = (struct pp_spawn_req){
			.pod_key = pr->key,
			.container = cs->name,
			.restart = pr->st.c[ci].created,
			.argv = argv.v,
			.envp = envp.v,
			.working_dir = cs->working_dir,
			.mounts = mounts,
			.n_mounts = cs->n_mounts,
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
	free(vars);
	free(mounts);
	free(srcs);

	if (rc == 0) {
		c->instance = instance;
		c->sec = sec;
		rc = pp_loop_poll(sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
		if (rc < 0)
			pp_log_errno(PP_LOG_ERR, rc, "cannot watch container '%s'", cs->name);
		pp_lc_on_started(&pr->st, ci, instance, pp_clock_now(), acts);
		pp_sup_probes_arm(c, instance, pp_clock_now(), NULL);
		pp_sup_bpf_track(c);
		/* At once: a podprobe killed from here on re-adopts it instead of starting twice.
		 */
		pp_sup_record_write(pr);
	} else {
		pp_lc_on_start_failed(&pr->st, ci, instance, err, pp_clock_now(), acts);
	}
}

void pp_sup_container_adopted(struct cont_rt *c, const uint8_t *published)
{
	struct pod_rt *pr = c->pod;
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, c->ci);
	struct pp_kv *vars = NULL;
	size_t n_vars = 0;
	char err[512];
	int rc;

	/* Exec probes and hooks run as the container does: it started with this spec. */
	rc = pp_security_resolve(pr->spec, cs, pr->st.uid, (uint32_t)geteuid(), (uint32_t)getegid(),
				 &c->sec, err, sizeof(err));
	if (rc == 0) {
		pp_strv_free(&c->env);
		rc = build_env(pr, cs, &c->env, &vars, &n_vars);
		free(vars);
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
static void pod_begin(struct pod_rt *pr)
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
	if (next >= 0 && !pr->sup->pods[next].st.deleted)
		pod_begin(&pr->sup->pods[next]);
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
			start_container(pr, a.container, a.instance, acts);
			break;
		case PP_ACT_SIGNAL:
			if (c && c->instance == a.instance && c->proc.pidfd >= 0)
				pp_runtime_signal(&c->proc, a.signo);
			break;
		case PP_ACT_EVENT:
			pp_sup_emit_event(pr, a.container, a.type, a.reason, a.message, now);
			break;
		case PP_ACT_STATUS:
			pr->sup->dirty = true;
			break;
		case PP_ACT_HOOK:
			pp_sup_hook_start(pr, a.container, a.instance, a.hook);
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
	pr->record_dirty |= pr->begun;
	if (pr->st.terminal && pr->leaving && pr->begun)
		pod_left(pr);
}

/* The instance's process is gone (pidfd or kernel): its probes stop, the controller decides. */
void pp_sup_container_exited(struct cont_rt *c, uint32_t instance, const struct pp_exit_info *ex)
{
	struct pod_rt *pr = c->pod;

	c->instance = 0;
	c->cgroup_id = 0;
	c->oom_seen = false;
	pp_sup_hooks_cancel(c);
	pp_sup_probes_disarm(c);
	pp_strv_free(&c->env);
	pp_lc_on_exit(&pr->st, c->ci, instance, ex, pp_clock_now(), &pr->sup->acts);
	pp_sup_run_actions(pr);
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
		pp_lc_delete(&sup->pods[i].st, pp_clock_now(), &sup->acts);
		pp_sup_run_actions(&sup->pods[i]);
	}
}

static void kill_all(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++)
		for (size_t j = 0; j < sup->pods[i].st.n; j++)
			if (sup->pods[i].c[j].proc.pidfd >= 0)
				pp_runtime_signal(&sup->pods[i].c[j].proc, SIGKILL);
}

/* `podprobe delete`: requests are files "<ns>_<pod>" in <state>/control/delete. */
static void control_requests(struct pp_supervisor *sup)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], done[PATH_MAX + 320];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" PP_CONTROL_DIR, sup->cfg->state_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		bool found = false;

		if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* Every pod of that name: a replaced one on its way out and its successor. */
		for (size_t i = 0; i < sup->n_pods; i++) {
			struct pod_rt *pr = &sup->pods[i];

			if (strcmp(pr->key, e->d_name))
				continue;
			if (!found) {
				pp_sup_table_erase(sup);
				pp_log(PP_LOG_NOTICE, "deleting pod '%s' (podprobe delete)",
				       pr->spec->name);
			}
			found = true;
			pp_lc_delete(&pr->st, pp_clock_now(), &sup->acts);
			pp_sup_run_actions(pr);
		}
		if (found) {
			unlink(path);
		} else {
			snprintf(done, sizeof(done), "%s.notfound", path);
			rename(path, done);
		}
	}
	closedir(d);
}

static void on_signal(void *ctx, int res)
{
	struct pp_supervisor *sup = ctx;

	if (res == (int)sizeof(sup->sig_buf) && sup->sig_buf.ssi_signo == SIGUSR1) {
		control_requests(sup);
	} else if (res == (int)sizeof(sup->sig_buf)) {
		sup->signals++;
		pp_sup_table_erase(sup);
		if (sup->cfg->keep_pods) {
			pp_log(PP_LOG_NOTICE,
			       "%s: leaving every pod running for the next run (--keep-pods)",
			       strsignal((int)sup->sig_buf.ssi_signo));
			sup->keep = true;
		} else if (sup->signals == 1) {
			pp_log(PP_LOG_NOTICE,
			       "%s: stopping every pod gracefully (again to kill now)",
			       strsignal((int)sup->sig_buf.ssi_signo));
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

	if (e->key >= SUP_HOOK_KEY_BASE && e->key < SUP_BPF_KEY) {
		pp_sup_hook_sleep_done(sup, e);
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
	if (e->key >= sup->n_pods)
		return;
	pr = &sup->pods[e->key];
	if (e->gen != pr->gen)
		return; /* superseded by a later arm_timer() */
	pr->armed = PP_NSEC_INFINITY;
	pp_lc_on_timer(&pr->st, pp_clock_now(), &sup->acts);
	pp_sup_run_actions(pr);
}

static bool all_terminal(const struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++)
		if (!sup->pods[i].st.terminal)
			return false;
	return true;
}

/* ---- set-up and the loop -----------------------------------------------------------------------
 */

/* <pr> for <spec>: its controller (UID <uid>, or a new one), containers and probes. */
static int pod_setup(struct pp_supervisor *sup, struct pod_rt *pr, struct pp_pod *spec,
		     uint32_t index, const char *uid_in)
{
	char uid[40];
	unsigned char r[16];
	FILE *f;
	int err;

	pr->sup = sup;
	pr->spec = spec;
	pr->index = index;
	pr->armed = PP_NSEC_INFINITY;
	pr->successor = -1;
	snprintf(pr->key, sizeof(pr->key), "%s_%s", spec->namespace, spec->name);
	if (uid_in || spec->uid) {
		snprintf(uid, sizeof(uid), "%s", uid_in ? uid_in : spec->uid);
	} else {
		/* A random (version 4) UUID, as the API server assigns. */
		f = fopen("/dev/urandom", "re");
		if (!f || fread(r, 1, sizeof(r), f) != sizeof(r))
			memset(r, index, sizeof(r));
		if (f)
			fclose(f);
		r[6] = (r[6] & 0x0f) | 0x40;
		r[8] = (r[8] & 0x3f) | 0x80;
		snprintf(uid, sizeof(uid),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
			 r[12], r[13], r[14], r[15]);
	}
	err = pp_lc_init(&pr->st, spec, &sup->cfg->lc, uid);
	if (err < 0)
		return err;
	pr->c = calloc(pr->st.n ? pr->st.n : 1, sizeof(*pr->c));
	if (!pr->c)
		return -ENOMEM;
	for (size_t i = 0; i < pr->st.n; i++) {
		struct cont_rt **conts = realloc(sup->conts, (sup->n_conts + 1) * sizeof(*conts));

		if (!conts)
			return -ENOMEM;
		sup->conts = conts;
		pr->c[i] = (struct cont_rt){
			.pod = pr, .ci = (uint32_t)i, .proc.pidfd = -1, .gidx = sup->n_conts};
		sup->conts[sup->n_conts++] = &pr->c[i];
	}
	for (uint32_t i = 0; i < pr->st.n; i++) {
		err = pp_sup_probes_setup(&pr->c[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

/* What becomes of one pod at start-up. */
enum plan_role {
	PLAN_NEW = 0, /* start it */
	PLAN_ADOPT,   /* re-adopt it from its record */
	PLAN_LEAVE,   /* an earlier run's pod (another spec, or no longer listed): delete it */
	PLAN_WAIT,    /* a new spec of a PLAN_LEAVE pod: begins once that one is gone */
	_PLAN_MAX,
};

struct plan {
	struct pp_pod *spec;
	struct pp_pod_record *rec; /* PLAN_ADOPT, PLAN_LEAVE */
	enum plan_role role;
};

static int plan_push(struct plan **v, size_t *n, struct pp_pod *spec, struct pp_pod_record *rec,
		     enum plan_role role)
{
	struct plan *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p) {
		pp_sup_record_free(rec);
		return -ENOMEM;
	}
	*v = p;
	p[(*n)++] = (struct plan){spec, rec, role};
	return 0;
}

/*
 * Decide, for every listed pod and every record an earlier run left, what to do: records of
 * this boot with the same spec are re-adopted; a record with another spec is the old pod,
 * deleted gracefully (from its saved manifest) before the new one begins; records of pods no
 * longer listed are deleted gracefully. A record whose manifest cannot be read back is
 * dropped: its processes are swept with the cgroups nothing accounts for.
 */
static int make_plan(struct pp_supervisor *sup, struct pp_pod_list *pods, struct plan **ret_v,
		     size_t *ret_n)
{
	struct plan *v = NULL;
	size_t n = 0, n_keys = 0;
	char key[330], **keys = NULL;
	int err = 0;

	for (size_t i = 0; !err && i < pods->n; i++) {
		struct pp_pod *spec = pods->items[i];
		struct pp_pod_record *rec = NULL;
		struct pp_pod *old;

		snprintf(key, sizeof(key), "%s_%s", spec->namespace, spec->name);
		if (pp_sup_record_load(sup, key, &rec) < 0)
			err = plan_push(&v, &n, spec, NULL, PLAN_NEW);
		else if (!strcmp(rec->digest, spec->digest) && rec->n == pp_pod_n_all(spec))
			err = plan_push(&v, &n, spec, rec, PLAN_ADOPT);
		else if ((old = pp_sup_manifest_load(sup, key)) &&
			 !strcmp(old->digest, rec->digest))
			err = plan_push(&v, &n, old, rec, PLAN_LEAVE)
				      ?: plan_push(&v, &n, spec, NULL, PLAN_WAIT);
		else {
			/* Its containers go with the sweep of unrecorded cgroups. */
			pp_sup_record_drop(sup, key, rec);
			err = plan_push(&v, &n, spec, NULL, PLAN_NEW);
		}
	}
	if (!err)
		err = pp_sup_record_keys(sup, &keys, &n_keys);
	for (size_t k = 0; !err && k < n_keys; k++) {
		struct pp_pod_record *rec = NULL;
		struct pp_pod *old;
		bool listed = false;

		for (size_t i = 0; i < pods->n && !listed; i++) {
			snprintf(key, sizeof(key), "%s_%s", pods->items[i]->namespace,
				 pods->items[i]->name);
			listed = !strcmp(key, keys[k]);
		}
		if (listed || pp_sup_record_load(sup, keys[k], &rec) < 0)
			continue;
		old = pp_sup_manifest_load(sup, keys[k]);
		if (old && !strcmp(old->digest, rec->digest) && rec->n == pp_pod_n_all(old)) {
			err = plan_push(&v, &n, old, rec, PLAN_LEAVE);
		} else {
			pp_log(PP_LOG_WARN,
			       "pod '%s' of the last run: its manifest is gone, stopping its "
			       "containers at once",
			       keys[k]);
			pp_sup_record_drop(sup, keys[k], rec);
		}
	}
	for (size_t k = 0; k < n_keys; k++)
		free(keys[k]);
	free(keys);
	if (err) {
		for (size_t i = 0; i < n; i++)
			pp_sup_record_free(v[i].rec);
		free(v);
		return err;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/* Kill what an earlier run left in cgroups that no record to re-adopt accounts for. */
static void sweep_leftovers(struct pp_supervisor *sup, const struct plan *v, size_t n)
{
	const char **keep = NULL;
	size_t n_keep = 0, cap = 0;
	int swept;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; v[i].rec && j < v[i].rec->n; j++)
			cap += 2;
	keep = calloc(cap ? cap : 1, sizeof(*keep));
	if (!keep)
		return; /* sweep nothing rather than something to re-adopt */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; v[i].rec && j < v[i].rec->n; j++) {
			const struct pp_cont_record *c = &v[i].rec->c[j];

			if (!c->st.alive)
				continue;
			keep[n_keep++] = c->cg2;
			keep[n_keep++] = c->memv1;
		}
	swept = pp_runtime_sweep(&sup->rt, keep, n_keep);
	if (swept)
		pp_log(PP_LOG_NOTICE, "stopped %d container%s an earlier run left unrecorded",
		       swept, swept == 1 ? "" : "s");
	free(keep);
}

int pp_supervisor_request_delete(const char *state_dir, const char *ns, const char *name)
{
	char path[PATH_MAX], req[PATH_MAX + 400], nf[PATH_MAX + 420];
	pp_nsec until = pp_clock_now() + 10 * PP_NSEC_PER_SEC;
	pid_t pid;
	int pidfd, fd, rc;

	/* Only a live run that provably holds the state directory's lock is signalled. */
	rc = pp_statedir_holder(state_dir, &pid, &pidfd);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/control", state_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/" PP_CONTROL_DIR, state_dir);
	mkdir(path, 0700);
	snprintf(req, sizeof(req), "%s/%s_%s", path, ns, name);
	snprintf(nf, sizeof(nf), "%s.notfound", req);
	unlink(nf);
	fd = open(req, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		close(pidfd);
		return rc;
	}
	close(fd);
	rc = (int)syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0);
	close(pidfd);
	if (rc < 0)
		return -errno;
	/* The run removes the request once the pod's deletion has begun. */
	while (access(req, F_OK) == 0 && pp_clock_now() < until)
		poll(NULL, 0, 10);
	if (access(nf, F_OK) == 0) {
		unlink(nf);
		return -ENOENT;
	}
	if (access(req, F_OK) == 0) {
		unlink(req);
		return -ETIMEDOUT;
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
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sup->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sup->sig_fd < 0)
		return -errno;
	return pp_loop_read(sup->loop, sup->sig_fd, &sup->sig_buf, sizeof(sup->sig_buf), on_signal,
			    sup, NULL);
}

int pp_supervisor_run(const struct pp_supervisor_cfg *cfg, struct pp_pod_list *pods)
{
	struct pp_supervisor sup = {.cfg = cfg, .sig_fd = -1};
	struct plan *plan = NULL;
	size_t n_plan = 0;
	struct pp_sched_entry e;
	const char *path = getenv("PATH");
	int err, rc = 0;
	size_t i;

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
	err = pp_probe_runner_new(sup.loop, MAX_PROBES_IN_FLIGHT, &sup.runner);
	if (err < 0)
		goto out_loop;
	sup.rand = (uint64_t)pp_clock_now() | 1;
	err = pp_runtime_init(&sup.rt, cfg->state_dir, cfg->use_cgroups);
	if (err < 0)
		goto out_loop;
	err = signals_setup(&sup);
	if (err < 0) {
		pp_log_errno(PP_LOG_ERR, err, "cannot set up signal handling");
		goto out_runtime;
	}
	pp_sup_bpf_setup(&sup);
	err = pp_sup_records_open(&sup);
	if (!err)
		err = make_plan(&sup, pods, &plan, &n_plan);
	if (!err && !(sup.pods = calloc(n_plan ? n_plan : 1, sizeof(*sup.pods))))
		err = -ENOMEM;
	if (err < 0)
		goto out_pods;
	sweep_leftovers(&sup, plan, n_plan);
	for (i = 0; i < n_plan; i++) {
		struct pod_rt *pr = &sup.pods[i];

		err = pod_setup(&sup, pr, plan[i].spec, (uint32_t)i,
				plan[i].rec ? plan[i].rec->pod.uid : NULL);
		sup.n_pods = i + 1;
		pr->rec = plan[i].rec;
		plan[i].rec = NULL;
		pr->leaving = plan[i].role == PLAN_LEAVE;
		if (plan[i].role == PLAN_WAIT)
			sup.pods[i - 1].successor = (int32_t)i;
		if (err < 0)
			goto out_pods;
	}
	if (sup.table)
		pp_sched_push(&sup.sched, pp_clock_now() + UI_PERIOD, SUP_UI_KEY, 0);
	sup.running = true;
	for (i = 0; i < sup.n_pods; i++) {
		struct pod_rt *pr = &sup.pods[i];

		if (plan[i].role == PLAN_NEW) {
			pod_begin(pr);
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

	while (!all_terminal(&sup) && !sup.keep) {
		pp_nsec next = pp_sched_next(&sup.sched), pnext = pp_probe_runner_next(sup.runner);

		err = pp_loop_run_once(sup.loop, pnext < next ? pnext : next);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "event loop failed");
			kill_all(&sup);
			goto out_pods;
		}
		pp_probe_runner_run(sup.runner, pp_clock_now());
		while (pp_sched_pop_expired(&sup.sched, pp_clock_now(), &e))
			on_deadline(&sup, &e);
		pp_sup_records_flush(&sup);
		if (sup.dirty)
			pp_sup_table_draw(&sup);
	}
	pp_sup_table_draw(&sup);
	for (i = 0; i < sup.n_pods && !sup.keep; i++)
		if (sup.pods[i].st.phase == PP_PHASE_FAILED && !sup.pods[i].leaving)
			rc = 1;
	err = 0;
out_pods:
	if (sup.keep) {
		/* Kept for the next run: every record as things stand now. */
		for (i = 0; i < sup.n_pods; i++)
			if (sup.pods[i].begun)
				pp_sup_record_write(&sup.pods[i]);
	} else {
		/* Every pod has ended (or was killed): nothing is left for a later run to adopt. */
		for (i = 0; sup.running && i < sup.n_pods; i++)
			if (sup.pods[i].begun)
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
	for (i = 0; i < sup.n_pods; i++) {
		for (size_t j = 0; sup.pods[i].c && j < sup.pods[i].st.n; j++) {
			/* Still running only when kept (--keep-pods) or killed just now. */
			pp_runtime_forget(&sup.pods[i].c[j].proc);
			pp_strv_free(&sup.pods[i].c[j].env);
			for (int k = 0; k < _PP_HOOK_MAX; k++)
				pp_strv_free(&sup.pods[i].c[j].hooks[k].argv);
		}
		pp_lc_free(&sup.pods[i].st);
		pp_sup_record_free(sup.pods[i].rec);
		free(sup.pods[i].c);
	}
	pp_sup_probes_free(&sup);
	free(sup.conts);
	free(sup.ports);
	if (sup.sig_fd >= 0)
		close(sup.sig_fd);
	if (sup.pods_fd >= 0)
		close(sup.pods_fd);
	pp_pod_list_free(&sup.saved);
out_runtime:
	pp_runtime_fini(&sup.rt);
out_loop:
	pp_probe_runner_free(sup.runner);
	pp_loop_free(sup.loop);
out:
	pp_sched_free(&sup.sched);
	pp_actions_free(&sup.acts);
	free(sup.pods);
	free(sup.base_path);
	return err < 0 ? err : rc;
}
