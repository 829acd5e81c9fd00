/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the `podprobe run` engine: the records the supervisor's files share. supervisor.c
 * owns the loop, container starts and the controllers' actions; sup_output.c prints events and
 * the table; sup_probes.c, sup_hooks.c and sup_kernel.c carry probes, lifecycle hooks and eBPF
 * signals for each container; sup_adopt.c keeps records and re-adopts; sup_plan.c decides at
 * start-up; sup_pods.c adds and removes pods while the run goes on; sup_static.c follows
 * manifest directories; api*.c serve the Kubernetes API.
 */
#ifndef PODPROBE_SUPERVISOR_INT_H
#define PODPROBE_SUPERVISOR_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include <jansson.h>

#include "podprobe/accept_watch-t.h"
#include "podprobe/event_ring-t.h"
#include "podprobe/ksig-t.h"
#include "podprobe/lifecycle-t.h"
#include "podprobe/metrics-t.h"
#include "podprobe/pid_map-t.h"
#include "podprobe/pod_env-t.h"
#include "podprobe/pod_record-t.h"
#include "podprobe/pod_status-t.h"
#include "podprobe/prober.h"
#include "podprobe/probe_runner.h"
#include "podprobe/runtime.h"
#include "podprobe/sched.h"
#include "podprobe/signals.h"
#include "podprobe/strv.h"
#include "podprobe/supervisor.h"

/* Keys of the supervisor's deadline heap: pods are 0..n_pods-1. */
#define SUP_HOOK_KEY_BASE    0x40000000u      /* then 2 per container (sleep hooks) */
#define SUP_WATCHDOG_KEY     (UINT32_MAX - 2) /* systemd's WATCHDOG=1 (deploy/podprobe.service) */
#define SUP_BPF_KEY	     (UINT32_MAX - 1) /* the once-a-second eBPF check */
#define SUP_UI_KEY	     UINT32_MAX	      /* the table's redraw */
#define SUP_BPF_CHECK_PERIOD PP_NSEC_PER_SEC  /* how often SUP_BPF_KEY runs */

struct pp_supervisor;
struct pp_api;
struct pp_log_index;
struct sup_static;
struct pp_event;
struct pod_rt;
struct cont_rt;

/* One probe of one container: the runner's job plus the exec command line. */
struct probe_rt {
	struct pp_probe_job job;
	struct cont_rt *c;
	/* c->pod, c->ci and the supervisor: what every attempt needs without c's or the pod's
	 * cache lines (sup_probes.c) */
	struct pod_rt *pod;
	struct pp_supervisor *sup;
	uint32_t ci;
	struct pp_metrics_ref mref; /* its prober_probe_total series, once counted */
	struct pp_strv argv;	    /* exec: the command after $(VAR) expansion */
	uint64_t passive_seen;	    /* accepts on the port already accounted for */
	struct probe_rt *port_next; /* the next probe on port_watch <port_of>'s list */
	uint16_t port_of;	    /* the port whose list it is on; 0 = none */
};

/* What the kernel tells about one probed listening port (wedged-listener detection). */
struct port_watch {
	uint16_t port;
	struct pp_accept_watch aw; /* the kernel's samples of its listener, judged */
	bool seen_listen;	   /* the kernel saw a listener open on it in this run */
	/*
	 * The network probes aimed at the port since they were last armed, so that a kernel
	 * record about the port visits them and not every probe (sup_probes.c: port_link()).
	 */
	struct probe_rt *probes;
	/*
	 * Of those, the first armed tcpSocket probe (the one NotAccepting is told to) and the
	 * least timeout of them (1 s without one), recomputed only when <stale>: an arm, disarm
	 * or release of a probe on the list marks it so.
	 */
	struct probe_rt *tcp_owner;
	pp_nsec tcp_timeout;
	bool stale;
};

struct cont_rt {
	struct pod_rt *pod;
	uint32_t ci;
	uint32_t instance;	/* instance of <proc>; 0 = none */
	uint32_t ready_counted; /* the instance whose first readiness /metrics has counted */
	struct pp_proc proc;
	uint64_t poll_id;
	struct pp_strv env;	     /* the running instance's environment (exec probes) */
	struct pp_exec_security sec; /* the running instance's identity (exec probes, hooks) */
	struct probe_rt *probes[_PP_PROBE_MAX]; /* NULL for probes the container lacks */
	uint64_t cgroup_id;			/* its cgroup v2 leaf, 0 = none */
	bool oom_seen;	   /* the kernel OOM-killed a process of this instance */
	uint32_t gidx;	   /* index in sup->conts (hook timer keys) */
	pid_t pid_tracked; /* the pid sup->main_pids has for it, 0 = none */
	struct hook_rt {
		struct cont_rt *c; /* back to the container (the attempt's context) */
		enum pp_hook_kind kind;
		uint32_t instance; /* instance the hook runs for, 0 = not running */
		uint64_t attempt;  /* exec/httpGet attempt in flight */
		uint32_t gen;	   /* sleep timer generation */
		struct pp_probe_target target;
		struct pp_strv argv;
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
	struct pp_pod_record *rec; /* an earlier run's record to re-adopt, until adopted */
	bool begun;		   /* started or re-adopted: it has a record to keep */
	bool record_dirty;	   /* changed since its record was last written */
	bool record_now;	   /* a container started: written at the end of the actions */
	bool leaving;		   /* an earlier run's pod that is no longer wanted: deleted */
	int32_t successor;	   /* pod waiting for this one to be gone (a new spec), -1 none */
	bool waiting;		   /* a new spec waiting for its predecessor to be gone */
	bool to_begin;		   /* a new pod of the run's manifests, not begun yet */
	/* What the API shows (user/io/api*.c). */
	json_t *object;		   /* the manifest as JSON: metadata and spec as written */
	bool own_spec;		   /* <spec> is this pod's to free (created through the API) */
	bool from_api;		   /* created through the API (owned by it, not by a file) */
	bool gone;		   /* deleted and DELETED: freed at the end of the next turn */
	bool api_dirty;		   /* its object changed this turn: watches hear at the end */
	bool announced;		   /* watches heard of it (ADDED) */
	uint64_t rv;		   /* resourceVersion of its latest change */
	uint64_t created_rv;	   /* ... and of its creation */
	struct pp_pod_conds conds; /* conditions and their lastTransitionTime */
	json_t *ext_conds;	   /* conditions others set through pods/status (gates) */
	pp_wall_ns created_wall;   /* metadata.creationTimestamp */
	pp_wall_ns deletion_wall;  /* metadata.deletionTimestamp, 0 = not being deleted */
	int64_t deletion_grace_s;  /* metadata.deletionGracePeriodSeconds */
};

struct pp_supervisor {
	const struct pp_supervisor_cfg *cfg;
	struct pp_loop *loop;
	struct pp_outq *out; /* stdout: events and the table (sup_output.c) */
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
	/*
	 * Some pod has work for the end of the turn (pp_sup_turn_work()): an API status to
	 * flush, a record to write, a deletion to finish. Without it the end of a turn looks at
	 * no pod (at 5,000 pods three scans per wake-up were a quarter of podprobe's CPU); a sweep
	 * every second (next_sweep) stands behind a mark missed.
	 */
	bool turn_work;
	pp_nsec next_sweep;
	pp_nsec tidy_retry_at; /* ended containers' cgroups still busy: tried again then */
	pp_nsec tidied_at;     /* the last removal of ended containers' cgroups */
	/* The manifests' new pods begin a few a turn: pods [begin_next, n_begin) may wait. */
	size_t begin_next, n_begin;
	pp_nsec records_at; /* when the records marked since the last flush are written; 0 = none */
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
	uint32_t conts_cap;
	uint32_t conts_free;	     /* every gidx below it is taken */
	struct pp_pid_map main_pids; /* containers' main processes: pid -> gidx (sup_kernel.c) */
	bool main_pids_partial;	     /* an insert failed: look containers up one by one */
	const char *source;	     /* "kernel" or "probe": what the current input came from */
	struct port_watch **ports;   /* by port number (65,536 entries) once one is watched */
	char adjust_msg[160];	     /* output of an adjusted result */
	int pods_fd;		     /* <state>/pods: records and saved manifests, -1 none */
	char boot_id[40];
	struct pp_pod_list saved;	/* specs read back from saved manifests (leaving pods) */
	bool running;			/* the pods began: their records are this run's to remove */
	bool keep;			/* --keep-pods and a SIGINT/SIGTERM: end, the pods run on */
	size_t max_pods;		/* slots of <pods>: an address range reserved once, so a
					 * pod never moves; pages are touched only as pods come */
	bool stopping;			/* SIGINT/SIGTERM: the run ends once every pod is gone */
	struct pp_api *api;		/* the Kubernetes API, NULL when not served */
	struct sup_static *statics;	/* watched manifest directories, NULL none */
	struct pp_log_index *log_index; /* times of the log files' bytes, NULL none */
	uint64_t rv;			/* the API's resourceVersion counter */
	uint32_t hook_gen;		/* sleep-hook timer generations, unique in the run */
	char node_name[65];		/* spec.nodeName: the host's name */
	struct pp_env_host node;	/* the host's downward API values (pp_sup_node_read) */
	struct pp_event_ring events;	/* the API's events */
	struct pp_metrics metrics;	/* the probes' metrics (/metrics) */
	/* podprobe's own figures on /metrics (api.c serve_metrics). */
	struct pp_prom_hist ksig_latency[_PP_KSIG_MAX]; /* kernel's record -> handled, by kind */
	struct pp_prom_hist first_ready;		/* container start -> first readiness */
	struct pp_prom_hist loop_lag;			/* loop woke after its deadline by */
	pp_nsec watchdog; /* how often to send systemd WATCHDOG=1, 0 = not asked */
};

/* Slot <i> of sup->pods, or NULL when it holds no pod. */
static inline struct pod_rt *pp_sup_pod(struct pp_supervisor *sup, size_t i)
{
	return sup->pods[i].spec && !sup->pods[i].gone ? &sup->pods[i] : NULL;
}

/* supervisor.c: <pr> for <spec> (UID <uid_in>, or a new one): its controller, containers, probes.
 */
int pp_sup_pod_setup(struct pp_supervisor *sup, struct pod_rt *pr, struct pp_pod *spec,
		     uint32_t index, const char *uid_in);
/* supervisor.c: start new pod <pr>: its volumes, its saved manifest, then the controller. */
void pp_sup_pod_begin(struct pod_rt *pr);

/* What becomes of one pod at start-up (sup_plan.c). */
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
	bool from_api; /* created through the API by an earlier run: it stays */
};

/* sup_plan.c */
int pp_sup_make_plan(struct pp_supervisor *sup, struct pp_pod_list *pods, struct plan **ret_v,
		     size_t *ret_n);
void pp_sup_sweep_leftovers(struct pp_supervisor *sup, const struct plan *v, size_t n);

/* sup_pods.c: pods that come and go while the run goes on (the API, followed directories). */
/* Free what <pr> holds and empty its slot (its timer generation kept). */
void pp_sup_pod_release(struct pod_rt *pr);
/* End of a loop turn: deleted pods whose containers are gone leave (see sup_pods.c). */
void pp_sup_end_of_turn(struct pp_supervisor *sup);
/*
 * Start pod <spec> (taken over; freed with the pod) whose manifest as JSON is <object> (taken
 * over, NULL: made from <spec>), owned by the API (<from_api>) or by its file; with <after>, it
 * is that pod's new spec and begins once <after> is gone. Returns 0 with <ret>, -ENOSPC when
 * every slot (--max-pods) is taken, or -errno.
 */
int pp_sup_pod_create(struct pp_supervisor *sup, struct pp_pod *spec, json_t *object, bool from_api,
		      struct pod_rt *after, struct pod_rt **ret);
/* Delete <pr> gracefully in <grace_s> seconds; it is removed once its containers are gone. */
void pp_sup_pod_delete(struct pod_rt *pr, int64_t grace_s, const char *who);
/* <object> (taken over) is <pr>'s manifest with new labels or annotations. Returns 0/-errno. */
int pp_sup_pod_relabel(struct pod_rt *pr, json_t *object);
/* A random (version 4) UUID, as the API server assigns, into <buf>. */
void pp_sup_new_uid(struct pp_supervisor *sup, char *buf, size_t size);
/* The pod of UID <uid> still known, or NULL. */
struct pod_rt *pp_sup_pod_by_uid(struct pp_supervisor *sup, const char *uid);
/* <pr> as the pod-status module sees it, at the clock pair <mono>, <wall>. */
void pp_sup_pod_view(const struct pod_rt *pr, struct pp_pod_view *v, pp_nsec mono, pp_wall_ns wall);
/* <pr>'s object changed: a new resourceVersion now, watches hear at the end of the turn. */
void pp_sup_pod_touch(struct pod_rt *pr);

/* sup_static.c: directories of manifests watched as kubelet's static pod path. */
int pp_sup_static_setup(struct pp_supervisor *sup);
/* Files changed since the last call: pods added, deleted or replaced to match them. */
void pp_sup_static_sync(struct pp_supervisor *sup);
void pp_sup_static_stop(struct pp_supervisor *sup);
/* <pr> comes from a followed directory (a static pod: the directory decides, not the API). */
bool pp_sup_static_owns(const struct pod_rt *pr);
/* The API deleted such a pod: as kubelet's mirror pod, its object is recreated. */
void pp_sup_static_mirror_deleted(struct pod_rt *pr);

/* api.c: the Kubernetes API (cfg->api_addr, cfg->api_socket); no-ops without it. */
int pp_api_start(struct pp_supervisor *sup);
void pp_api_stop(struct pp_supervisor *sup);
pp_nsec pp_api_next(struct pp_supervisor *sup);
/* Timeouts, and the changes of this turn to the watches. */
/* <sweep>: also flush the API status of every pod that changed (pp_sup_pod_touch()). */
void pp_api_run(struct pp_supervisor *sup, pp_nsec now, bool sweep);

static inline void pp_sup_turn_work(struct pp_supervisor *sup)
{
	sup->turn_work = true;
}
/* <pr>'s change goes to the watches now (a state that must not be coalesced away). */
void pp_api_pod_flush(struct pod_rt *pr, pp_wall_ns wall);
/* <pr> is gone for good: DELETED to the watches. */
void pp_api_pod_gone(struct pod_rt *pr);
/* Event <ev> was recorded (new or aggregated). */
void pp_api_event_recorded(struct pp_supervisor *sup, const struct pp_event *ev, bool added);
/* Container output or exits: log followers catch up. */
void pp_api_logs_changed(struct pp_supervisor *sup);

/* sup_output.c: events (text or JSON lines) above the live table. */
void pp_sup_emit_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type, const char *reason,
		       const char *message, pp_nsec now);
/* Write out the event lines printed this turn (sup_output.c). */
void pp_sup_events_flush(struct pp_supervisor *sup);
void pp_sup_table_erase(struct pp_supervisor *sup);
void pp_sup_table_draw(struct pp_supervisor *sup);

/* supervisor.c: keep event <reason>/<message> of container <ci> for the API. */
void pp_sup_record_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type,
			 const char *reason, const char *message);
/* supervisor.c: carry out (and empty) sup->acts for <pr>, then re-arm its timer. */
void pp_sup_run_actions(struct pod_rt *pr);
/* The instance's process is gone (pidfd or kernel): probes stop, the controller decides. */
void pp_sup_container_exited(struct cont_rt *c, uint32_t instance, const struct pp_exit_info *ex);

/*
 * supervisor.c: <c> runs an instance an earlier podprobe run started (c->proc adopted): watch
 * it, rebuild what exec probes need, and arm its probes with the recorded verdicts.
 */
void pp_sup_container_adopted(struct cont_rt *c, const uint8_t *published);

/* sup_adopt.c: pod records in <state>/pods/<key>/ (record, pod.yaml) and re-adoption. */
/* Read the boot id, open <state>/pods. Returns 0 or -errno (logged). */
int pp_sup_records_open(struct pp_supervisor *sup);
/*
 * The record an earlier run left for pod <key>, when it is whole and of this boot (others are
 * removed, with a warning when unreadable). Returns 0 with <ret> (pp_sup_record_free), or
 * -ENOENT, or -ENOMEM.
 */
int pp_sup_record_load(struct pp_supervisor *sup, const char *key, struct pp_pod_record **ret);
/* The manifest pod <key> was started from, parsed and valid, owned by sup->saved; or NULL. */
struct pp_pod *pp_sup_manifest_load(struct pp_supervisor *sup, const char *key);
/* Keep <pr>'s manifest document beside its record (a warning when it cannot). */
void pp_sup_manifest_save(struct pod_rt *pr);
/* The pod keys that have a record in <state>/pods (malloc'd strings). Returns 0 or -errno. */
int pp_sup_record_keys(struct pp_supervisor *sup, char ***ret_keys, size_t *ret_n);
/* Write <pr>'s record now (atomically); a failure is retried at the next flush. */
void pp_sup_record_write(struct pod_rt *pr);
/*
 * Write the records of the pods that changed since their last write, PP_RECORDS_DELAY after
 * the first of them was seen: a burst of changes (125 readiness failures the kernel reported
 * at once) is handled to the end, events out, before its records take the loop, in one pass.
 * Until then sup->records_at is the time (the loop wakes for it); a record a podprobe killed in
 * between did not write is at most that old, and adoption checks each process anyway
 * (sup_adopt.c). Starts are written before the loop goes on (pp_sup_run_actions(): never
 * twice).
 */
#define PP_RECORDS_DELAY (10 * PP_NSEC_PER_MSEC)
void pp_sup_records_flush(struct pp_supervisor *sup, pp_nsec now);
/* <pr> is over for good: remove its record and saved manifest. */
void pp_sup_record_remove(struct pod_rt *pr);
/*
 * Restore <pr> (set up for the same spec) from pr->rec, take over its containers that still
 * run and report those that ended meanwhile; then carry on as at <now>.
 */
void pp_sup_adopt(struct pod_rt *pr, pp_nsec now);
void pp_sup_record_free(struct pp_pod_record *rec);
/* <pr> was created through the API: a restarted run re-adopts it although no file lists it. */
void pp_sup_record_mark_api(struct pod_rt *pr);
bool pp_sup_record_is_api(struct pp_supervisor *sup, const char *key);
/* <pr>'s object changed (labels, annotations): its saved manifest, digest and record follow. */
void pp_sup_manifest_replace(struct pod_rt *pr);
/* <pr> was deleted: its logs and its directory (volumes) go. */
void pp_sup_pod_remove_logs(struct pod_rt *pr);
/* Forget the record <rec> of pod <key> that will not be re-adopted: memory and files. */
void pp_sup_record_drop(struct pp_supervisor *sup, const char *key, struct pp_pod_record *rec);

/* sup_probes.c */
int pp_sup_probes_setup(struct cont_rt *c);
/* An exec probe or hook of <c> runs <argv> as its container: env, directory, cgroup, user. */
void pp_sup_exec_target(const struct cont_rt *c, struct pp_probe_target *t, char *const *argv);
/* <published>: the verdicts of a re-adopted instance (pod record), or NULL for a new one. */
void pp_sup_probes_arm(struct cont_rt *c, uint32_t instance, pp_nsec now, const uint8_t *published);
void pp_sup_probes_disarm(struct cont_rt *c);
void pp_sup_probes_free(struct pp_supervisor *sup);
/* <c>'s pod goes: its probes leave the runner and are freed. */
void pp_sup_probes_release(struct cont_rt *c);

/* sup_hooks.c */
void pp_sup_hook_start(struct pod_rt *pr, uint32_t ci, uint32_t instance, enum pp_hook_kind kind);
void pp_sup_hook_sleep_done(struct pp_supervisor *sup, const struct pp_sched_entry *e);
void pp_sup_hooks_cancel(struct cont_rt *c);

/* sup_kernel.c */
void pp_sup_bpf_setup(struct pp_supervisor *sup);
void pp_sup_bpf_check(struct pp_supervisor *sup);
void pp_sup_bpf_track(struct cont_rt *c);
/* Forget <c>'s main process for the kernel's exit reports (its record goes). */
void pp_sup_pid_untrack(struct cont_rt *c);
/* The watch of <port>, made when <add> and there is none; NULL without one. */
struct port_watch *pp_sup_port_watch(struct pp_supervisor *sup, uint16_t port, bool add);
void pp_sup_ports_free(struct pp_supervisor *sup);
/* <w>'s tcp_owner and tcp_timeout, recomputed when stale. */
void pp_sup_port_tcp_refresh(struct port_watch *w);
void pp_sup_reapers_free(struct pp_supervisor *sup);

#endif
