// SPDX-License-Identifier: Apache-2.0
/*
 * The shell around the lifecycle controllers. Inputs reach a controller from three sources:
 * a pidfd becoming readable (exit), a deadline in the heap (back-off, SIGKILL, active
 * deadline), and signalfd (pod deletion). Whatever the controller answers is carried out in
 * run_actions(); starting a container feeds its result straight back as the next input.
 */
#include "podprobe/supervisor.h"

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

#define UI_KEY		     UINT32_MAX
#define MAX_PROBES_IN_FLIGHT 4096	 /* more wait (late), see probe_runner.h */
#define HOOK_KEY_BASE	     0x40000000u /* heap keys: pods below, then 2 per container (sleep hooks) */
#define HOOK_NO_TIMEOUT	     (24 * 3600 * PP_NSEC_PER_SEC) /* kubelet sets none on exec/http hooks */
#define UI_PERIOD	     PP_NSEC_PER_SEC
#define DEFAULT_PATH	     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct pp_supervisor;
struct pod_rt;
struct cont_rt;

struct strv {
	char **v;
	size_t n;
};

static int strv_push(struct strv *sv, char *s)
{
	char **v;

	if (!s)
		return -ENOMEM;
	v = realloc(sv->v, (sv->n + 2) * sizeof(*v));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	sv->v = v;
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* One probe of one container: the runner's job plus the exec command line. */
struct probe_rt {
	struct pp_probe_job job;
	struct cont_rt *c;
	struct strv argv;      /* exec: the command after $(VAR) expansion */
	uint64_t passive_seen; /* accepts on the port already accounted for */
};

/* What the kernel tells about one probed listening port (wedged-listener detection). */
struct port_watch {
	uint16_t port;
	bool wedged; /* connections wait in its accept queue, unaccepted */
	uint32_t last_backlog;
	pp_nsec last_ts;
};

struct cont_rt {
	struct pod_rt *pod;
	uint32_t ci;
	uint32_t instance; /* instance of <proc>; 0 = none */
	struct pp_proc proc;
	uint64_t poll_id;
	struct strv env; /* the running instance's environment (exec probes) */
	struct probe_rt *probes[_PP_PROBE_MAX]; /* NULL for probes the container lacks */
	uint64_t cgroup_id;			/* its cgroup v2 leaf, 0 = none */
	bool oom_seen; /* the kernel OOM-killed a process of this instance */
	uint32_t gidx; /* index in sup->conts (hook timer keys) */
	struct hook_rt {
		struct cont_rt *c; /* back to the container (the attempt's context) */
		enum pp_hook_kind kind;
		uint32_t instance; /* instance the hook runs for, 0 = not running */
		uint64_t attempt;  /* exec/httpGet attempt in flight */
		uint32_t gen;	   /* sleep timer generation */
		struct pp_probe_target target;
		struct strv argv;
	} hooks[_PP_HOOK_MAX];
};

/* A process whose exit the kernel reported first: reaped when its pidfd says so. */
struct reaper {
	struct pp_supervisor *sup;
	struct pp_proc proc;
	struct reaper *next;
};

struct pod_rt {
	struct pp_supervisor *sup;
	struct pp_pod *spec;
	struct pp_pod_state st;
	struct cont_rt *c;
	char key[330]; /* "<namespace>_<name>" */
	char vol_dir[PATH_MAX];
	uint32_t index;
	uint32_t gen; /* generation of the pod's armed deadline */
	pp_nsec armed;
	pp_nsec created;
};

struct pp_supervisor {
	const struct pp_supervisor_cfg *cfg;
	struct pp_loop *loop;
	struct pp_runtime rt;
	struct pp_sched sched;
	struct pp_actions acts;
	struct pod_rt *pods;
	size_t n_pods;
	int sig_fd;
	struct signalfd_siginfo sig_buf;
	unsigned int signals; /* deletion requests received */
	bool table;
	bool dirty;
	unsigned int table_lines;
	char *base_path; /* PATH for containers that set none */
	struct pp_probe_runner *runner;
	struct probe_rt **probes; /* every probe, to free them */
	uint32_t n_probes;
	uint64_t rand;		/* state of the spread's generator */
	struct pp_signals *bpf; /* kernel signals, NULL without eBPF */
	uint64_t bpf_lost;	/* events the kernel dropped, as last seen */
	struct reaper *reapers;
	struct cont_rt **conts; /* every container, by gidx */
	uint32_t n_conts;
	const char *source; /* "kernel" or "probe": what the current input came from */
	struct port_watch *ports;
	size_t n_ports;
	char adjust_msg[160]; /* output of an adjusted result */
};

/* ---- output ------------------------------------------------------------------------------------
 */

static void table_erase(struct pp_supervisor *sup)
{
	if (sup->table && sup->table_lines) {
		printf("\033[%uA\r\033[J", sup->table_lines);
		sup->table_lines = 0;
	}
}

static void table_draw(struct pp_supervisor *sup)
{
	bool ns = false;
	pp_nsec now = pp_clock_now();
	size_t i;

	if (!sup->table)
		return;
	table_erase(sup);
	for (i = 0; i < sup->n_pods; i++)
		ns |= strcmp(sup->pods[i].spec->namespace, "default") != 0;
	if (ns)
		printf("%-16s ", "NAMESPACE");
	printf("%-24s %-7s %-22s %-14s %s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
	for (i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = &sup->pods[i];
		char ready[16], status[64], restarts[48], age[32];

		pp_fmt_pod_ready(&pr->st, ready, sizeof(ready));
		pp_fmt_pod_status(&pr->st, status, sizeof(status));
		pp_fmt_pod_restarts(&pr->st, now, restarts, sizeof(restarts));
		pp_fmt_human_duration(now - pr->created, age, sizeof(age));
		if (ns)
			printf("%-16s ", pr->spec->namespace);
		printf("%-24s %-7s %-22s %-14s %s\n", pr->spec->name, ready, status, restarts, age);
	}
	sup->table_lines = (unsigned int)sup->n_pods + 1;
	fflush(stdout);
	sup->dirty = false;
}

/* Print one event (text or JSON line) above the live table. */
static void emit_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type, const char *reason,
		       const char *message, pp_nsec now)
{
	const char *container = ci == PP_NO_CONTAINER ? "" : pp_pod_container(pr->spec, ci)->name;
	char ts[48], who[400], line[2 * PP_PROBE_OUTPUT_MAX + 2048];
	size_t len = 0;

	pp_clock_rfc3339(now, ts, sizeof(ts));
	switch (pr->sup->cfg->events) {
	case PP_EVENTS_JSON:
		len = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"namespace\":", ts);
		pp_json_append_string(line, sizeof(line), &len, pr->spec->namespace);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"pod\":");
		pp_json_append_string(line, sizeof(line), &len, pr->spec->name);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"container\":");
		pp_json_append_string(line, sizeof(line), &len, container);
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					",\"type\":\"%s\",\"reason\":", pp_event_type_str(type));
		pp_json_append_string(line, sizeof(line), &len, reason);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"message\":");
		pp_json_append_string(line, sizeof(line), &len, message);
		if (pr->sup->source)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						",\"source\":\"%s\"", pr->sup->source);
		table_erase(pr->sup);
		printf("%s}\n", line);
		break;
	case PP_EVENTS_TEXT:
		/* Milliseconds are enough for a reader: cut "....123456789Z" to "....123Z". */
		ts[23] = 'Z';
		ts[24] = '\0';
		snprintf(who, sizeof(who), "%s/%s", pr->spec->namespace, pr->spec->name);
		/* One event, one line: line breaks of probe output are shown as "\n". */
		len = 0;
		for (const char *m = message; *m && len + 3 < sizeof(line); m++) {
			if (*m == '\n' || *m == '\r') {
				if (m[1]) {
					line[len++] = '\\';
					line[len++] = *m == '\n' ? 'n' : 'r';
				}
			} else {
				line[len++] = *m;
			}
		}
		line[len] = '\0';
		table_erase(pr->sup);
		printf("%s  %-20s %-14s %-7s %-18s %s%s%s%s\n", ts, who, container,
		       pp_event_type_str(type), reason, line, pr->sup->source ? " [" : "",
		       pr->sup->source ? pr->sup->source : "", pr->sup->source ? "]" : "");
		break;
	default:
		return;
	}
	fflush(stdout);
	pr->sup->dirty = true;
}

/* ---- starting containers ----------------------------------------------------------------------
 */

/*
 * The container's environment: PATH and HOSTNAME as a runtime provides them, then env[] in
 * order, each value expanded against the variables before it. <vars> receives name/value
 * pairs (pointing into <envp> strings) for expanding command and args.
 */
static int build_env(struct pod_rt *pr, const struct pp_container_spec *cs, struct strv *envp,
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
		err = strv_push(envp, s);
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
			err = strv_push(envp, s);
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

static void start_container(struct pod_rt *pr, uint32_t ci, uint32_t instance,
			    struct pp_actions *acts);

static void on_pidfd(void *ctx, int res);
static void probes_arm(struct cont_rt *c, uint32_t instance, pp_nsec now);
static void probes_disarm(struct cont_rt *c);
static void bpf_track(struct cont_rt *c);
static void hook_start(struct pod_rt *pr, uint32_t ci, uint32_t instance, enum pp_hook_kind kind);
static void hooks_cancel(struct cont_rt *c);

static void start_container(struct pod_rt *pr, uint32_t ci, uint32_t instance,
			    struct pp_actions *acts)
{
	struct pp_supervisor *sup = pr->sup;
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);
	struct cont_rt *c = &pr->c[ci];
	struct strv argv = {0}, envp = {0};
	struct pp_mount_req *mounts = NULL;
	struct pp_spawn_req req = {0};
	struct pp_kv *vars = NULL;
	size_t n_vars = 0, i;
	char err[512] = "", (*srcs)[PATH_MAX + 256] = NULL;
	int rc;

	rc = build_env(pr, cs, &envp, &vars, &n_vars);
	for (i = 0; rc == 0 && i < cs->n_command; i++)
		rc = strv_push(&argv, pp_expand_vars(cs->command[i], vars, n_vars));
	for (i = 0; rc == 0 && i < cs->n_args; i++)
		rc = strv_push(&argv, pp_expand_vars(cs->args[i], vars, n_vars));
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
	strv_free(&argv);
	strv_free(&c->env);
	if (rc == 0)
		c->env = envp; /* exec probes run with it */
	else
		strv_free(&envp);
	free(vars);
	free(mounts);
	free(srcs);

	if (rc == 0) {
		c->instance = instance;
		rc = pp_loop_poll(sup->loop, c->proc.pidfd, POLLIN, on_pidfd, c, &c->poll_id);
		if (rc < 0)
			pp_log_errno(PP_LOG_ERR, rc, "cannot watch container '%s'", cs->name);
		pp_lc_on_started(&pr->st, ci, instance, pp_clock_now(), acts);
		probes_arm(c, instance, pp_clock_now());
		bpf_track(c);
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

static void run_actions(struct pod_rt *pr)
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
			emit_event(pr, a.container, a.type, a.reason, a.message, now);
			break;
		case PP_ACT_STATUS:
			pr->sup->dirty = true;
			break;
		case PP_ACT_HOOK:
			hook_start(pr, a.container, a.instance, a.hook);
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

/* ---- probes ------------------------------------------------------------------------------------
 */

static const struct pp_probe_spec *probe_spec(const struct pp_container_spec *cs,
					      enum pp_probe_kind kind)
{
	return kind == PP_PROBE_STARTUP	   ? &cs->startup
	       : kind == PP_PROBE_LIVENESS ? &cs->liveness
					   : &cs->readiness;
}

static bool pod_annotation_true(const struct pp_pod *pod, const char *name)
{
	const char *v = pp_pod_annotation(pod, name);

	return v && !strcmp(v, "true");
}

/* Where the probe of the container's new instance goes (named ports, hosts, exec argv). */
static void probe_prepare_target(struct probe_rt *p)
{
	struct cont_rt *c = p->c;
	struct pp_probe_job *job = &p->job;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);
	const struct pp_handler *h = &probe_spec(cs, job->w.kind)->handler;
	struct pp_probe_target *t = &job->target;
	int port, err;

	strv_free(&p->argv);
	memset(t, 0, sizeof(*t));
	t->kind = h->kind;
	t->mnt_ns_fd = -1;
	job->target_err = 0;
	if (h->kind == PP_HANDLER_EXEC) {
		/* H-EXEC.1: $(VAR) from the container's literal env values only. */
		for (size_t i = 0; i < h->n_command && !job->target_err; i++)
			job->target_err = strv_push(
				&p->argv, pp_expand_vars(h->command[i], cs->env, cs->n_env));
		t->argv = p->argv.v;
		t->envp = c->env.v;
		t->working_dir = cs->working_dir;
		t->cgroup = c->proc.cg2;
		t->mnt_ns_fd = cs->n_mounts ? c->proc.pidfd : -1;
		if (job->target_err)
			snprintf(job->target_msg, sizeof(job->target_msg), "out of memory");
		return;
	}
	port = pp_container_resolve_port(cs, &h->port);
	if (port < 0) {
		/* P1.7: an unknown port name errors (Unknown), it does not fail. */
		job->target_err = port;
		snprintf(job->target_msg, sizeof(job->target_msg), "port %s not found",
			 h->port.name ? h->port.name : "?");
		return;
	}
	err = pp_probe_target_resolve(t, h->host, port);
	if (err < 0) {
		job->target_err = err;
		snprintf(job->target_msg, sizeof(job->target_msg), "lookup %s: no such host",
			 h->host ? h->host : "");
		return;
	}
	t->host = h->host && *h->host ? h->host : "127.0.0.1";
	t->https = h->scheme && !strcasecmp(h->scheme, "HTTPS");
	t->path = h->path;
	t->headers = h->headers;
	t->n_headers = h->n_headers;
	t->service = h->service;
	/* tcp-accept judges the listener's accept queue: the probe must reach that queue. */
	t->full_handshake = pod_annotation_true(c->pod->spec, PP_ANN_TCP_ACCEPT);
}

static bool probe_allowed(struct pp_probe_job *job)
{
	struct probe_rt *p = job->ctx;

	return pp_lc_probe_allowed(&p->c->pod->st, p->c->ci, job->w.kind);
}

static void probe_result(struct pp_probe_job *job, enum pp_probe_result result, const char *output,
			 const struct pp_probe_change *chg)
{
	struct probe_rt *p = job->ctx;
	struct cont_rt *c = p->c;
	struct pod_rt *pr = c->pod;
	char msg[PP_PROBE_OUTPUT_MAX + 256];
	const char *reason;
	pp_nsec now = pp_clock_now();

	/* A burst means the kernel saw the listener close: say so in what follows. */
	pr->sup->source = job->kernel_hint ? "kernel" : "probe";
	if (result != PP_RESULT_FAILURE || chg->published)
		job->kernel_hint = false;
	reason = pp_probe_event(job->w.kind, result, output, msg, sizeof(msg));
	if (reason)
		emit_event(pr, c->ci, PP_EVENT_WARNING, reason, msg, now);
	if (!chg->published) {
		pr->sup->source = NULL;
		return;
	}
	pp_lc_on_probe_verdict(&pr->st, c->ci, job->w.instance, job->w.kind, chg->ok, now,
			       &pr->sup->acts);
	/* P2.5: a container that just started gets its readiness probe at once. */
	if (job->w.kind == PP_PROBE_STARTUP && chg->ok && c->probes[PP_PROBE_READINESS])
		pp_probe_runner_poke(pr->sup->runner, &c->probes[PP_PROBE_READINESS]->job, now);
	run_actions(pr);
	pr->sup->source = NULL;
}

static struct port_watch *port_watch(struct pp_supervisor *sup, uint16_t port, bool add)
{
	struct port_watch *w;

	for (size_t i = 0; i < sup->n_ports; i++)
		if (sup->ports[i].port == port)
			return &sup->ports[i];
	if (!add)
		return NULL;
	w = realloc(sup->ports, (sup->n_ports + 1) * sizeof(*w));
	if (!w)
		return NULL;
	sup->ports = w;
	w = &sup->ports[sup->n_ports++];
	*w = (struct port_watch){.port = port};
	return w;
}

/* probe.podprobe.io/tcp-accept: a tcpSocket success on a wedged listener is a failure. */
static enum pp_probe_result probe_adjust(struct pp_probe_job *job, enum pp_probe_result result,
					 const char **output)
{
	struct probe_rt *p = job->ctx;
	struct pp_supervisor *sup = p->c->pod->sup;
	struct port_watch *w;

	if (result != PP_RESULT_SUCCESS || job->target.kind != PP_HANDLER_TCP_SOCKET ||
	    !pod_annotation_true(p->c->pod->spec, PP_ANN_TCP_ACCEPT))
		return result;
	w = port_watch(sup, (uint16_t)job->target.port, false);
	if (!w || !w->wedged)
		return result;
	snprintf(sup->adjust_msg, sizeof(sup->adjust_msg),
		 "listener on port %d is not accepting connections (%u waiting)", job->target.port,
		 w->last_backlog);
	*output = sup->adjust_msg;
	return PP_RESULT_FAILURE;
}

/*
 * probe.podprobe.io/passive: connections the kernel saw established on the port since the
 * last attempt (not counting the probe's own) stand in for a tcpSocket liveness success.
 */
static bool probe_shortcut(struct pp_probe_job *job, const char **ret_output)
{
	struct probe_rt *p = job->ctx;
	struct pp_supervisor *sup = p->c->pod->sup;
	struct pp_port_accepts pa;

	if (!sup->bpf || job->w.kind != PP_PROBE_LIVENESS ||
	    job->target.kind != PP_HANDLER_TCP_SOCKET ||
	    !pod_annotation_true(p->c->pod->spec, PP_ANN_PASSIVE) ||
	    pp_signals_port_accepts(sup->bpf, (uint16_t)job->target.port, &pa) < 0)
		return false;
	if (p->passive_seen && pa.accepts > p->passive_seen &&
	    pa.last + job->cfg.period >= pp_clock_now()) {
		snprintf(sup->adjust_msg, sizeof(sup->adjust_msg),
			 "passive: %llu connections accepted since the last check",
			 (unsigned long long)(pa.accepts - p->passive_seen));
		p->passive_seen = pa.accepts;
		*ret_output = sup->adjust_msg;
		return true;
	}
	/* A real probe follows; a full handshake of its own would count once, and is no evidence.
	 */
	p->passive_seen = pa.accepts + (job->target.full_handshake ? 1 : 0);
	return false;
}

static const struct pp_probe_job_ops probe_ops = {
	.allowed = probe_allowed,
	.shortcut = probe_shortcut,
	.adjust = probe_adjust,
	.result = probe_result,
};

/* The container's instance <instance> runs: start its probes (P2.2, P2.3). */
static void probes_arm(struct cont_rt *c, uint32_t instance, pp_nsec now)
{
	struct pp_supervisor *sup = c->pod->sup;

	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct probe_rt *p = c->probes[k];
		pp_nsec spread = 0, window;

		if (!p)
			continue;
		probe_prepare_target(p);
		/* Liveness first runs are spread so that many pods do not probe in bursts. */
		window = p->job.cfg.period < PP_PROBE_SPREAD_MAX ? p->job.cfg.period
								 : PP_PROBE_SPREAD_MAX;
		if (k == PP_PROBE_LIVENESS && window) {
			sup->rand = sup->rand * 6364136223846793005ull + 1442695040888963407ull;
			spread = (sup->rand >> 11) % window;
		}
		pp_probe_runner_arm(sup->runner, &p->job, instance, now, spread);
	}
}

/* The container's process is gone: stop its probes and drop attempts in flight. */
static void probes_disarm(struct cont_rt *c)
{
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k])
			pp_probe_runner_disarm(c->pod->sup->runner, &c->probes[k]->job);
}

static int probes_setup(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);

	for (int k = 0; k < _PP_PROBE_MAX; k++) {
		struct probe_rt *p, **tab;

		if (!probe_spec(cs, (enum pp_probe_kind)k)->set)
			continue;
		p = calloc(1, sizeof(*p));
		tab = realloc(sup->probes, (sup->n_probes + 1) * sizeof(*tab));
		if (tab)
			sup->probes = tab;
		if (!p || !tab || pp_probe_runner_add(sup->runner, &p->job) < 0) {
			free(p);
			return -ENOMEM;
		}
		sup->probes[sup->n_probes++] = p;
		p->c = c;
		p->job.ctx = p;
		p->job.ops = &probe_ops;
		c->probes[k] = p;
		pp_probe_worker_init(&p->job.w, (enum pp_probe_kind)k);
		if (pp_probe_cfg_from_spec(c->pod->spec, cs, (enum pp_probe_kind)k, &p->job.cfg) <
		    0)
			pp_log(PP_LOG_WARN,
			       "pod '%s': a " PP_ANN_PREFIX "* annotation is not a number of "
			       "milliseconds (1..86400000), ignoring",
			       c->pod->spec->name);
	}
	return 0;
}

static void probes_free(struct pp_supervisor *sup)
{
	for (uint32_t i = 0; i < sup->n_probes; i++) {
		strv_free(&sup->probes[i]->argv);
		free(sup->probes[i]);
	}
	free(sup->probes);
	sup->probes = NULL;
	sup->n_probes = 0;
}

/* The instance's process is gone (pidfd or kernel): its probes stop, the controller decides. */
static void container_exited(struct cont_rt *c, uint32_t instance, const struct pp_exit_info *ex)
{
	struct pod_rt *pr = c->pod;

	c->instance = 0;
	c->cgroup_id = 0;
	c->oom_seen = false;
	hooks_cancel(c);
	probes_disarm(c);
	strv_free(&c->env);
	pp_lc_on_exit(&pr->st, c->ci, instance, ex, pp_clock_now(), &pr->sup->acts);
	run_actions(pr);
}

static void on_reaper(void *ctx, int res)
{
	struct reaper *r = ctx, **pp;
	struct pp_exit_info ex;

	if (pp_runtime_reap(&r->sup->rt, &r->proc, &ex) == -EAGAIN) {
		pp_loop_poll(r->sup->loop, r->proc.pidfd, POLLIN, on_reaper, r, NULL);
		return;
	}
	for (pp = &r->sup->reapers; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

/*
 * The kernel reported the exit of <c>'s main process: act on it now; the pidfd (moved to a
 * reaper) only collects the zombie later. Whichever comes first wins; the other is ignored.
 */
static void kernel_exit(struct cont_rt *c, const struct pp_ksig *sig)
{
	struct pp_supervisor *sup = c->pod->sup;
	struct pp_exit_info ex = {.code = sig->exit_code < 0 ? 0 : sig->exit_code,
				  .signal = sig->signal};
	struct reaper *r = calloc(1, sizeof(*r));
	uint32_t instance = c->instance;

	if (!r)
		return; /* the pidfd path will handle it */
	ex.oom_killed = c->oom_seen && sig->signal == SIGKILL;
	pp_loop_cancel(sup->loop, c->poll_id);
	r->sup = sup;
	r->proc = c->proc;
	r->next = sup->reapers;
	sup->reapers = r;
	if (pp_loop_poll(sup->loop, r->proc.pidfd, POLLIN, on_reaper, r, NULL) < 0)
		pp_log(PP_LOG_WARN, "cannot watch an exited process, ignoring");
	c->proc = (struct pp_proc){.pid = -1, .pidfd = -1};
	sup->source = "kernel";
	container_exited(c, instance, &ex);
	sup->source = NULL;
}

/* ---- lifecycle hooks
 * ------------------------------------------------------------------------------ */

static void hook_done(struct cont_rt *c, enum pp_hook_kind kind, bool ok, const char *message)
{
	struct hook_rt *h = &c->hooks[kind];
	struct pod_rt *pr = c->pod;
	uint32_t instance = h->instance;

	h->instance = 0;
	h->attempt = 0;
	pp_lc_on_hook_done(&pr->st, c->ci, instance, kind, ok, message, pp_clock_now(),
			   &pr->sup->acts);
}

/* L.9: the message kubelet keeps for a failed hook. */
static void hook_message(struct cont_rt *c, const struct pp_handler *h, const char *err, char *buf,
			 size_t size)
{
	const struct pp_pod *pod = c->pod->spec;
	const char *name = pp_pod_container(pod, c->ci)->name;
	char argv[512] = "";
	size_t len = 0;

	if (h->kind == PP_HANDLER_EXEC) {
		for (size_t i = 0; i < h->n_command && len < sizeof(argv); i++)
			len += (size_t)snprintf(argv + len, sizeof(argv) - len, "%s%s",
						i ? " " : "", h->command[i]);
		snprintf(buf, size,
			 "Exec lifecycle hook ([%s]) for Container \"%s\" in Pod \"%s_%s(%s)\" "
			 "failed - "
			 "error: command '%s' exited with a non-zero status, message: \"%.200s\"",
			 argv, name, pod->name, pod->namespace, c->pod->st.uid, argv, err);
	} else if (h->kind == PP_HANDLER_HTTP_GET) {
		snprintf(buf, size,
			 "HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
			 "failed - "
			 "error: %.300s",
			 h->path ? h->path : "/", name, pod->name, pod->namespace, c->pod->st.uid,
			 err);
	} else {
		snprintf(buf, size,
			 "lifecycle hook for Container \"%s\" in Pod \"%s_%s(%s)\" failed - error: "
			 "%s",
			 name, pod->name, pod->namespace, c->pod->st.uid, err);
	}
}

static void on_hook_attempt(void *ctx, const struct pp_probe_report *rep)
{
	struct cont_rt *c = ((struct hook_rt *)ctx)->c;
	enum pp_hook_kind kind = ((struct hook_rt *)ctx)->kind;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);
	const struct pp_handler *h = kind == PP_HOOK_POST_START ? &cs->post_start : &cs->pre_stop;
	char msg[1024];
	bool ok;

	if (!c->hooks[kind].instance)
		return;
	/* L.7: an HTTP hook fails on transport errors only; any status is a success. */
	ok = rep->result == PP_RESULT_SUCCESS || rep->result == PP_RESULT_WARNING ||
	     (h->kind == PP_HANDLER_HTTP_GET && rep->http_status);
	if (!ok)
		hook_message(c, h, rep->message, msg, sizeof(msg));
	hook_done(c, kind, ok, ok ? NULL : msg);
	run_actions(c->pod);
}

/* Run hook <kind> of container <ci>'s instance <instance> (PP_ACT_HOOK). */
static void hook_start(struct pod_rt *pr, uint32_t ci, uint32_t instance, enum pp_hook_kind kind)
{
	struct cont_rt *c = &pr->c[ci];
	struct hook_rt *h = &c->hooks[kind];
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);
	const struct pp_handler *hd = kind == PP_HOOK_POST_START ? &cs->post_start : &cs->pre_stop;
	struct pp_probe_target *t = &h->target;
	char msg[1024];
	int port, err = 0;

	h->c = c;
	h->kind = kind;
	h->instance = instance;
	strv_free(&h->argv);
	memset(t, 0, sizeof(*t));
	t->kind = hd->kind;
	t->mnt_ns_fd = -1;
	switch (hd->kind) {
	case PP_HANDLER_SLEEP:
		h->gen++;
		pp_sched_push(&pr->sup->sched,
			      pp_clock_now() + (pp_nsec)hd->sleep_seconds * PP_NSEC_PER_SEC,
			      HOOK_KEY_BASE + 2 * c->gidx + kind, h->gen);
		return;
	case PP_HANDLER_EXEC:
		/* L.2: the command is used verbatim, no $(VAR) expansion. */
		for (size_t i = 0; i < hd->n_command && !err; i++)
			err = strv_push(&h->argv, strdup(hd->command[i]));
		t->argv = h->argv.v;
		t->envp = c->env.v;
		t->working_dir = cs->working_dir;
		t->cgroup = c->proc.cg2;
		t->mnt_ns_fd = cs->n_mounts ? c->proc.pidfd : -1;
		break;
	case PP_HANDLER_HTTP_GET:
		port = pp_container_resolve_port(cs, &hd->port);
		err = port < 0 ? port : pp_probe_target_resolve(t, hd->host, port);
		t->host = hd->host && *hd->host ? hd->host : "127.0.0.1";
		t->https = hd->scheme && !strcasecmp(hd->scheme, "HTTPS");
		t->path = hd->path;
		t->headers = hd->headers;
		t->n_headers = hd->n_headers;
		t->user_agent = "kube-lifecycle/1.34";
		break;
	default:
		/* L.1: tcpSocket hooks pass validation but kubelet cannot run them. */
		hook_message(c, hd, "invalid handler", msg, sizeof(msg));
		hook_done(c, kind, false, msg);
		return;
	}
	if (!err)
		err = pp_prober_start(pp_probe_runner_prober(pr->sup->runner), t, HOOK_NO_TIMEOUT,
				      on_hook_attempt, h, &h->attempt);
	if (err) {
		hook_message(c, hd, strerror(-err), msg, sizeof(msg));
		hook_done(c, kind, false, msg);
	}
}

static void hook_sleep_done(struct pp_supervisor *sup, const struct pp_sched_entry *e)
{
	uint32_t n = e->key - HOOK_KEY_BASE;
	struct cont_rt *c;
	enum pp_hook_kind kind = (enum pp_hook_kind)(n % 2);

	if (n / 2 >= sup->n_conts)
		return;
	c = sup->conts[n / 2];
	if (!c->hooks[kind].instance || c->hooks[kind].gen != e->gen)
		return;
	hook_done(c, kind, true, NULL);
	run_actions(c->pod);
}

/* The container is gone: its hooks stop (exec hooks are killed, sleeps forgotten). */
static void hooks_cancel(struct cont_rt *c)
{
	for (int k = 0; k < _PP_HOOK_MAX; k++) {
		struct hook_rt *h = &c->hooks[k];

		if (h->attempt)
			pp_prober_cancel(pp_probe_runner_prober(c->pod->sup->runner), h->attempt);
		h->attempt = 0;
		h->instance = 0;
		h->gen++;
	}
}

/* ---- kernel signals (eBPF)
 * ----------------------------------------------------------------------- */

#define BPF_KEY		 (UINT32_MAX - 1)
#define BPF_CHECK_PERIOD PP_NSEC_PER_SEC

static struct cont_rt *find_by_pid(struct pp_supervisor *sup, pid_t pid)
{
	for (size_t i = 0; i < sup->n_pods; i++)
		for (size_t j = 0; j < sup->pods[i].st.n; j++)
			if (sup->pods[i].c[j].instance && sup->pods[i].c[j].proc.pid == pid)
				return &sup->pods[i].c[j];
	return NULL;
}

/* The parent of <pid> from /proc, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	pid_t ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

/*
 * The container whose main process is an ancestor of a process whose parent is <ppid>. Exec
 * probes and their children descend from podprobe itself, so they never match.
 */
static struct cont_rt *find_by_ancestry(struct pp_supervisor *sup, pid_t ppid)
{
	for (int depth = 0; depth < 16 && ppid > 1 && ppid != getpid(); depth++) {
		struct cont_rt *c = find_by_pid(sup, ppid);

		if (c)
			return c;
		ppid = parent_of(ppid);
	}
	return NULL;
}

static void ksig_exit(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct cont_rt *c = find_by_pid(sup, (pid_t)sig->tgid);
	const char *sname;
	char msg[256];

	if (c) {
		if (sig->group_dead || sig->leader)
			kernel_exit(c, sig);
		return;
	}
	c = find_by_ancestry(sup, (pid_t)sig->ppid);
	/*
	 * A process of the container's tree (not its main process) died. Clean exits are routine,
	 * and so are deaths while podprobe itself stops the container.
	 */
	if (!c || (!sig->signal && !sig->exit_code) || c->pod->st.c[c->ci].stopping)
		return;
	sname = pp_signal_name(sig->signal);
	if (sig->signal)
		snprintf(msg, sizeof(msg),
			 "Process %s (pid %u) in container %s was killed by signal %d (SIG%s)",
			 sig->comm, sig->tgid, pp_pod_container(c->pod->spec, c->ci)->name,
			 sig->signal, sname ? sname : "?");
	else
		snprintf(msg, sizeof(msg),
			 "Process %s (pid %u) in container %s exited with code %d", sig->comm,
			 sig->tgid, pp_pod_container(c->pod->spec, c->ci)->name, sig->exit_code);
	sup->source = "kernel";
	emit_event(c->pod, c->ci, PP_EVENT_WARNING, "ProcessExited", msg, pp_clock_now());
	sup->source = NULL;
}

static void ksig_oom(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct cont_rt *c = find_by_pid(sup, (pid_t)sig->tgid);
	char msg[256];

	if (!c)
		c = find_by_ancestry(sup, (pid_t)sig->ppid);
	if (!c)
		for (size_t i = 0; !c && i < sup->n_pods; i++)
			for (size_t j = 0; !c && j < sup->pods[i].st.n; j++)
				if (sig->cgroup_id && sup->pods[i].c[j].cgroup_id == sig->cgroup_id)
					c = &sup->pods[i].c[j];
	if (!c)
		return;
	if (c->proc.pid == (pid_t)sig->tgid)
		c->oom_seen = true;
	snprintf(msg, sizeof(msg),
		 "Memory cgroup out of memory: killed process %u (%s) in container %s", sig->tgid,
		 sig->comm, pp_pod_container(c->pod->spec, c->ci)->name);
	sup->source = "kernel";
	emit_event(c->pod, c->ci, PP_EVENT_WARNING, "OOMKilling", msg, pp_clock_now());
	sup->source = NULL;
}

/* A listener on <port> opened (<open>) or closed: probe the affected probes now. */
static void ksig_listener(struct pp_supervisor *sup, uint16_t port, bool open)
{
	pp_nsec now = pp_clock_now();

	if (!port)
		return;
	for (uint32_t i = 0; i < sup->n_probes; i++) {
		struct pp_probe_job *job = &sup->probes[i]->job;
		enum pp_probe_kind kind = job->w.kind;

		if (!job->w.instance || job->target.kind == PP_HANDLER_EXEC ||
		    job->target.port != port)
			continue;
		if (open && kind != PP_PROBE_LIVENESS) {
			/* Startup or readiness: the port is up, ask now instead of next period. */
			job->kernel_hint = true;
			pp_probe_runner_poke(sup->runner, job, now);
		} else if (!open && kind != PP_PROBE_STARTUP && sup->cfg->fast_detect) {
			/* Liveness or readiness: probe now and again every few ms until it settles.
			 */
			job->kernel_hint = true;
			pp_probe_runner_burst(sup->runner, job, now);
		}
	}
}

/*
 * Wedged listeners (kubernetes issue 103632): the kernel completes handshakes for an app that
 * never calls accept(), so tcpSocket probes pass. A listener whose accept queue stayed non-empty
 * and did not shrink across two reports at least a probe timeout apart holds connections
 * nobody accepted for that long: NotAccepting.
 */
static void ksig_accepts(struct pp_supervisor *sup, const struct pp_ksig *sig)
{
	struct port_watch *w = port_watch(sup, sig->port, true);
	struct probe_rt *owner = NULL;
	pp_nsec timeout = PP_NSEC_PER_SEC;
	char msg[256];

	if (!w)
		return;
	for (uint32_t i = 0; i < sup->n_probes; i++) {
		struct pp_probe_job *job = &sup->probes[i]->job;

		if (job->w.instance && job->target.kind == PP_HANDLER_TCP_SOCKET &&
		    job->target.port == sig->port) {
			if (!owner || job->cfg.timeout < timeout)
				timeout = job->cfg.timeout;
			owner = owner ? owner : sup->probes[i];
		}
	}
	if (!sig->backlog) {
		w->wedged = false;
	} else if (!w->wedged && w->last_ts && w->last_backlog && sig->backlog >= w->last_backlog &&
		   sig->ts - w->last_ts >= timeout && owner) {
		w->wedged = true;
		snprintf(
			msg, sizeof(msg),
			"Listener on port %u has %u connections that were not accepted for %llu ms",
			sig->port, sig->backlog,
			(unsigned long long)((sig->ts - w->last_ts) / PP_NSEC_PER_MSEC));
		sup->source = "kernel";
		emit_event(owner->c->pod, owner->c->ci, PP_EVENT_WARNING, "NotAccepting", msg,
			   pp_clock_now());
		sup->source = NULL;
	}
	w->last_ts = sig->ts;
	w->last_backlog = sig->backlog;
}

static void on_ksig(void *ctx, const struct pp_ksig *sig)
{
	struct pp_supervisor *sup = ctx;

	switch (sig->kind) {
	case PP_KSIG_EXIT:
		ksig_exit(sup, sig);
		break;
	case PP_KSIG_OOM:
		ksig_oom(sup, sig);
		break;
	case PP_KSIG_ACCEPTS:
		ksig_accepts(sup, sig);
		break;
	case PP_KSIG_LISTEN:
	case PP_KSIG_UNLISTEN:
		pp_log(PP_LOG_DEBUG, "kernel: port %u %s (pid %u)", sig->port,
		       sig->kind == PP_KSIG_LISTEN ? "listening" : "closed", sig->tgid);
		ksig_listener(sup, sig->port, sig->kind == PP_KSIG_LISTEN);
		break;
	default:
		break;
	}
}

/* Watch <c>'s new instance: its cgroup (or pid) and the ports its probes and spec name. */
static void bpf_track(struct cont_rt *c)
{
	struct pp_supervisor *sup = c->pod->sup;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);

	if (!sup->bpf)
		return;
	if (!c->proc.cg2 || pp_signals_cgroup_id(c->proc.cg2, &c->cgroup_id) < 0)
		pp_signals_track_tgid(sup->bpf, (uint32_t)c->proc.pid, true);
	for (size_t i = 0; i < cs->n_ports; i++)
		if (cs->ports[i].container_port > 0 && cs->ports[i].container_port <= 65535)
			pp_signals_track_port(sup->bpf, (uint16_t)cs->ports[i].container_port,
					      true);
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (c->probes[k] && c->probes[k]->job.target.kind != PP_HANDLER_EXEC &&
		    c->probes[k]->job.target.port > 0)
			pp_signals_track_port(sup->bpf, (uint16_t)c->probes[k]->job.target.port,
					      true);
}

/* Once a second: events the kernel had to drop mean a resync (probe every port now). */
static void bpf_check(struct pp_supervisor *sup)
{
	struct pp_signals_stats st;

	if (!sup->bpf || pp_signals_stats(sup->bpf, &st) < 0 || st.lost == sup->bpf_lost)
		return;
	pp_log(PP_LOG_WARN, "kernel dropped %llu events (ring buffer full); probing every port now",
	       (unsigned long long)(st.lost - sup->bpf_lost));
	sup->bpf_lost = st.lost;
	for (uint32_t i = 0; i < sup->n_probes; i++)
		if (sup->probes[i]->job.target.kind != PP_HANDLER_EXEC)
			pp_probe_runner_poke(sup->runner, &sup->probes[i]->job, pp_clock_now());
}

static void bpf_setup(struct pp_supervisor *sup)
{
	struct pp_signals_cfg cfg = {.fn = on_ksig, .ctx = sup};
	int err;

	if (!sup->cfg->use_bpf) {
		pp_log(PP_LOG_NOTICE, "kernel signals: off (--no-bpf): exits through pidfds, "
				      "ports through probes only");
		return;
	}
	if (geteuid() != 0) {
		pp_log(PP_LOG_NOTICE, "kernel signals: off (not root): exits through pidfds, "
				      "ports through probes only");
		return;
	}
	err = pp_signals_open(sup->loop, &cfg, &sup->bpf);
	if (err < 0) {
		sup->bpf = NULL;
		pp_log(PP_LOG_WARN, "eBPF: %s, continuing without eBPF assist",
		       pp_signals_strerror(err));
		return;
	}
	/* podprobe's own cgroup subtree holds every container: one entry covers them all. */
	if (sup->rt.cg2_root) {
		uint64_t id;

		if (pp_signals_cgroup_id(sup->rt.cg2_root, &id) == 0)
			pp_signals_track_cgroup(sup->bpf, id, true);
	}
	pp_log(PP_LOG_NOTICE, "kernel signals: eBPF (%s)%s", pp_signals_mode(sup->bpf),
	       sup->cfg->fast_detect ? "" : ", fast detection off");
	pp_sched_push(&sup->sched, pp_clock_now() + BPF_CHECK_PERIOD, BPF_KEY, 0);
}

static void reapers_free(struct pp_supervisor *sup)
{
	while (sup->reapers) {
		struct reaper *r = sup->reapers;
		struct pp_exit_info ex;

		/* Killed or dead already: the zombie appears within moments. */
		for (int i = 0; i < 200 && pp_runtime_reap(&sup->rt, &r->proc, &ex) == -EAGAIN; i++)
			poll(NULL, 0, 5);
		sup->reapers = r->next;
		free(r);
	}
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
	container_exited(c, instance, &ex);
}

static void delete_all(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		pp_lc_delete(&sup->pods[i].st, pp_clock_now(), &sup->acts);
		run_actions(&sup->pods[i]);
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
		table_erase(sup);
		pp_log(PP_LOG_NOTICE, "deleting pod '%s' (podprobe delete)", pr->spec->name);
		pp_lc_delete(&pr->st, pp_clock_now(), &sup->acts);
		run_actions(pr);
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
		table_erase(sup);
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

	if (e->key >= HOOK_KEY_BASE && e->key < BPF_KEY) {
		hook_sleep_done(sup, e);
		return;
	}
	if (e->key == BPF_KEY) {
		bpf_check(sup);
		pp_sched_push(&sup->sched, pp_clock_now() + BPF_CHECK_PERIOD, BPF_KEY, 0);
		return;
	}
	if (e->key == UI_KEY) {
		if (sup->table)
			sup->dirty = true;
		pp_sched_push(&sup->sched, pp_clock_now() + UI_PERIOD, UI_KEY, 0);
		return;
	}
	if (e->key >= sup->n_pods)
		return;
	pr = &sup->pods[e->key];
	if (e->gen != pr->gen)
		return; /* superseded by a later arm_timer() */
	pr->armed = PP_NSEC_INFINITY;
	pp_lc_on_timer(&pr->st, pp_clock_now(), &sup->acts);
	run_actions(pr);
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
		err = probes_setup(&pr->c[i]);
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
	bpf_setup(&sup);
	pid_file(&sup, true);
	for (i = 0; i < pods->n; i++) {
		err = pod_setup(&sup, &sup.pods[i], pods->items[i], (uint32_t)i);
		sup.n_pods = i + 1;
		if (err < 0)
			goto out_pods;
	}
	if (sup.table)
		pp_sched_push(&sup.sched, pp_clock_now() + UI_PERIOD, UI_KEY, 0);
	for (i = 0; i < sup.n_pods; i++) {
		sup.pods[i].created = pp_clock_now();
		pp_lc_start(&sup.pods[i].st, sup.pods[i].created, &sup.acts);
		run_actions(&sup.pods[i]);
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
			table_draw(&sup);
	}
	table_draw(&sup);
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
	reapers_free(&sup);
	pp_probe_runner_free(sup.runner);
	sup.runner = NULL;
	for (i = 0; i < sup.n_pods; i++) {
		for (size_t j = 0; sup.pods[i].c && j < sup.pods[i].st.n; j++) {
			strv_free(&sup.pods[i].c[j].env);
			for (int k = 0; k < _PP_HOOK_MAX; k++)
				strv_free(&sup.pods[i].c[j].hooks[k].argv);
		}
		pp_lc_free(&sup.pods[i].st);
		free(sup.pods[i].c);
	}
	probes_free(&sup);
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
