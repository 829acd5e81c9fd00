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
	int rc;

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
			.restart = instance - 1,
			.argv = argv.v,
			.envp = envp.v,
			.working_dir = cs->working_dir,
			.mounts = mounts,
			.n_mounts = cs->n_mounts,
			.memory_limit = cs->memory_limit,
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
		rc = pp_loop_poll(sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
		if (rc < 0)
			pp_log_errno(PP_LOG_ERR, rc, "cannot watch container '%s'", cs->name);
		pp_lc_on_started(&pr->st, ci, instance, pp_clock_now(), acts);
		pp_sup_probes_arm(c, instance, pp_clock_now());
		pp_sup_bpf_track(c);
	} else {
		pp_lc_on_start_failed(&pr->st, ci, instance, err, pp_clock_now(), acts);
	}
}

/* ---- actions and timers ------------------------------------------------------------------------
 */

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
		struct pod_rt *pr = NULL;

		if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
			continue;
		for (size_t i = 0; i < sup->n_pods && !pr; i++)
			if (!strcmp(sup->pods[i].key, e->d_name))
				pr = &sup->pods[i];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!pr) {
			snprintf(done, sizeof(done), "%s.notfound", path);
			rename(path, done);
			continue;
		}
		pp_sup_table_erase(sup);
		pp_log(PP_LOG_NOTICE, "deleting pod '%s' (podprobe delete)", pr->spec->name);
		pp_lc_delete(&pr->st, pp_clock_now(), &sup->acts);
		pp_sup_run_actions(pr);
		unlink(path);
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
		if (sup->signals == 1) {
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

static int pod_setup(struct pp_supervisor *sup, struct pod_rt *pr, struct pp_pod *spec,
		     uint32_t index)
{
	char uid[40], **vols;
	unsigned char r[16];
	FILE *f;
	int err;

	pr->sup = sup;
	pr->spec = spec;
	pr->index = index;
	pr->armed = PP_NSEC_INFINITY;
	snprintf(pr->key, sizeof(pr->key), "%s_%s", spec->namespace, spec->name);
	if (spec->uid) {
		snprintf(uid, sizeof(uid), "%s", spec->uid);
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
	vols = calloc(spec->n_volumes ? spec->n_volumes : 1, sizeof(*vols));
	if (!pr->c || !vols) {
		free(vols);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pr->st.n; i++) {
		struct cont_rt **conts = realloc(sup->conts, (sup->n_conts + 1) * sizeof(*conts));

		if (!conts)
			return -ENOMEM;
		sup->conts = conts;
		pr->c[i] = (struct cont_rt){
			.pod = pr, .ci = (uint32_t)i, .proc.pidfd = -1, .gidx = sup->n_conts};
		sup->conts[sup->n_conts++] = &pr->c[i];
	}
	for (size_t i = 0; i < spec->n_volumes; i++)
		vols[i] = spec->volumes[i].name;
	err = pp_runtime_prepare_pod(&sup->rt, pr->key, vols, spec->n_volumes, pr->vol_dir,
				     sizeof(pr->vol_dir));
	free(vols);
	if (err < 0)
		return pp_log_errno(PP_LOG_ERR, err, "pod '%s': cannot create its volumes",
				    spec->name);
	for (uint32_t i = 0; i < pr->st.n; i++) {
		err = pp_sup_probes_setup(&pr->c[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

/* <state>/podprobe.pid names this run for `podprobe delete`. */
static void pid_file(struct pp_supervisor *sup, bool create)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" PP_PID_FILE, sup->cfg->state_dir);
	if (!create) {
		unlink(path);
		return;
	}
	f = fopen(path, "we");
	if (!f) {
		pp_log_errno(PP_LOG_WARN, -errno,
			     "cannot write '%s' (podprobe delete will not find "
			     "this run), ignoring",
			     path);
		return;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

int pp_supervisor_request_delete(const char *state_dir, const char *ns, const char *name)
{
	char path[PATH_MAX], req[PATH_MAX + 400], nf[PATH_MAX + 420];
	pp_nsec until = pp_clock_now() + 10 * PP_NSEC_PER_SEC;
	int pid = 0, fd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/" PP_PID_FILE, state_dir);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1 || kill(pid, 0) < 0) {
		if (f)
			fclose(f);
		return -ESRCH;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/control", state_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/" PP_CONTROL_DIR, state_dir);
	mkdir(path, 0700);
	snprintf(req, sizeof(req), "%s/%s_%s", path, ns, name);
	snprintf(nf, sizeof(nf), "%s.notfound", req);
	unlink(nf);
	fd = open(req, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	if (kill(pid, SIGUSR1) < 0)
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
	struct pp_sched_entry e;
	const char *path = getenv("PATH");
	int err, rc = 0;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	sup.base_path = strdup(path && *path ? path : DEFAULT_PATH);
	sup.pods = calloc(pods->n ? pods->n : 1, sizeof(*sup.pods));
	if (!sup.base_path || !sup.pods) {
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
	pid_file(&sup, true);
	for (i = 0; i < pods->n; i++) {
		err = pod_setup(&sup, &sup.pods[i], pods->items[i], (uint32_t)i);
		sup.n_pods = i + 1;
		if (err < 0)
			goto out_pods;
	}
	if (sup.table)
		pp_sched_push(&sup.sched, pp_clock_now() + UI_PERIOD, SUP_UI_KEY, 0);
	for (i = 0; i < sup.n_pods; i++) {
		sup.pods[i].created = pp_clock_now();
		pp_lc_start(&sup.pods[i].st, sup.pods[i].created, &sup.acts);
		pp_sup_run_actions(&sup.pods[i]);
	}

	while (!all_terminal(&sup)) {
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
		if (sup.dirty)
			pp_sup_table_draw(&sup);
	}
	pp_sup_table_draw(&sup);
	for (i = 0; i < sup.n_pods; i++)
		if (sup.pods[i].st.phase == PP_PHASE_FAILED)
			rc = 1;
	err = 0;
out_pods:
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
			pp_strv_free(&sup.pods[i].c[j].env);
			for (int k = 0; k < _PP_HOOK_MAX; k++)
				pp_strv_free(&sup.pods[i].c[j].hooks[k].argv);
		}
		pp_lc_free(&sup.pods[i].st);
		free(sup.pods[i].c);
	}
	pp_sup_probes_free(&sup);
	free(sup.conts);
	free(sup.ports);
	if (sup.sig_fd >= 0)
		close(sup.sig_fd);
	pid_file(&sup, false);
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
