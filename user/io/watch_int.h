/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of `podprobe watch` shared by user/io/watch*.c. */
#ifndef PODPROBE_WATCH_INT_H
#define PODPROBE_WATCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <limits.h>

#include "podprobe/accept_watch-t.h"
#include "podprobe/http_req-t.h"
#include "podprobe/metrics-t.h"
#include "podprobe/pod.h"
#include "podprobe/probe_runner.h"
#include "podprobe/watch.h"
#include "podprobe/watch_pod-t.h"

struct pp_loop;
struct pp_signals;
struct pp_watch_http;
struct pp_watch_reply;

/* ---- the engine (watch.c) ---- */

struct wcont;

struct wprobe {
	struct pp_probe_job job;
	struct wcont *c;
	char **argv;	   /* exec: a NULL-terminated view of the handler's command */
	bool has_verdict;  /* a verdict was published for this instance */
	bool ok;	   /* ... and it is Success */
	bool forced;	   /* a kernel signal made it False ahead of the worker */
	bool evidence;	   /* an attempt was counted or the kernel spoke since the arm */
	pp_nsec changed;   /* when the verdict last changed */
	pp_nsec seen;	   /* latest evidence for it (an attempt, a kernel signal) */
	pp_nsec signal_ts; /* kernel time of the signal behind a burst, 0 = none */
};

struct wpod;

struct wcont {
	struct wpod *pod;
	size_t i;			    /* index in pod->wp->containers */
	const struct pp_container_spec *cs; /* its spec from the parsed probe doc, or NULL */
	struct pp_watch_cg_names names;	    /* n == 0: no ID, or one podprobe cannot map */
	bool resolved;			    /* <cg> found */
	char cg[PATH_MAX];
	uint64_t cg_id; /* 0 = unknown */
	int main_pid;	/* 0 = not known yet */
	int pidfd;
	uint64_t poll_id;
	bool exited; /* its main process exited */
	bool killed; /* cgroup.kill written for this container ID */
	struct pp_accept_watch aw;
	struct wprobe *probes[_PP_PROBE_MAX];
	/* A probe of the pod's that asks podprobe's own probe proxy: not run, answered from
	 * the verdict it names (NULL = an ordinary probe, in probes[], or none). */
	struct pp_watch_proxy_ref *proxied[_PP_PROBE_MAX];
};

struct wpod {
	struct pp_watch *w;
	struct pp_watch_pod *wp;
	struct pp_pod_list parsed; /* the probe doc through the manifest reader */
	const struct pp_pod *spec; /* parsed.items[0], or NULL */
	struct wcont *c;	   /* wp->n_containers of them */
	bool act;		   /* --act=restart or the pod's annotation */
	bool seen;		   /* delivered since the last sync began */
	int gate_sent;		   /* readiness told to the API: -1 none yet, 0, 1 */
};

/* The API side (watch_kube.c, when built): where verdicts go besides stdout. */
struct pp_watch_kube_ops {
	void (*gate)(void *kctx, const struct wpod *p, bool ready, const char *message);
	/* The API's object lacks the gate as last set: the next gate() is sent regardless. */
	void (*gate_lost)(void *kctx, const struct wpod *p);
	void (*event)(void *kctx, const struct wpod *p, const char *type, const char *reason,
		      const char *message);
	pp_nsec (*next)(void *kctx); /* its earliest deadline */
	/* Its families for /metrics (podprobe_watch_api_*, podprobe_watch_gate_patch*). */
	void (*metrics)(void *kctx, struct pp_prom_buf *b);
	void (*run)(void *kctx, pp_nsec now); /* after every loop pass */
	void (*free)(void *kctx);
};

struct pp_watch {
	const struct pp_watch_cfg *cfg;
	struct pp_loop *loop;
	struct pp_outq *out; /* stdout: the event lines (watch_verdicts.c) */
	struct pp_probe_runner *runner;
	struct pp_signals *bpf;
	uint64_t bpf_lost;
	struct pp_watch_http *proxy, *metrics_http;
	int proxy_port, metrics_port; /* their bound ports, 0 = not listening */
	struct pp_metrics metrics;
	struct wpod **pods;
	size_t n_pods, cap_pods;
	char cg2[PATH_MAX]; /* the cgroup v2 tree searched, "" = none */
	unsigned int unresolved;
	pp_nsec next_scan;
	int sig_fd;
	uint64_t sig_op;
	bool stop;
	int ino_fd;
	uint64_t ino_op;
	bool reload;
	char *pods_dir, *pods_base;
	uint32_t instance;
	uint64_t ksig[8];
	uint64_t restarts;
	struct pp_prom_hist detect_lat; /* kernel signal -> the failed verdict it caused */
	const struct pp_watch_kube_ops *kube;
	void *kctx;
};

/*
 * The engine is split by concern: watch.c (setup, the run, signals, teardown),
 * watch_verdicts.c (probe results, verdicts, the readiness gate, actions), watch_pods.c (pods
 * and containers: diffing, attach/detach, the cgroup scan), watch_kernel.c (kernel signals),
 * watch_file.c (the PodList file), watch_proxy.c and watch_metrics.c (what watch_http.c serves).
 */

#define FOR_EACH_CONT(w, c)                                                     \
	for (size_t _i = 0; _i < (w)->n_pods; _i++)                             \
		for (size_t _j = 0; _j < (w)->pods[_i]->wp->n_containers; _j++) \
			if (((c) = &(w)->pods[_i]->c[_j]), 1)

static inline const char *cont_name(const struct wcont *c)
{
	return c->pod->wp->containers[c->i].name;
}

static inline const struct pp_probe_spec *probe_spec(const struct pp_container_spec *cs,
						     enum pp_probe_kind kind)
{
	return kind == PP_PROBE_STARTUP	   ? &cs->startup
	       : kind == PP_PROBE_LIVENESS ? &cs->liveness
					   : &cs->readiness;
}

/* ---- verdicts and actions (watch_verdicts.c) ---- */

/* What the probe runner calls for every watched probe. */
extern const struct pp_probe_job_ops pp_watch_probe_ops;

/*
 * A verdict or action line of pod <p> (container <c>, NULL = the pod) on stdout in the
 * --events format; Warnings and Killing also become Events through w->kube.
 */
void pp_watch_emit(struct wpod *p, const struct wcont *c, const char *type, const char *reason,
		   const char *message, const char *source);

/* Tell the readiness gate podprobe's readiness of <p>, once known and on each change. */
void pp_watch_gate_update(struct wpod *p, const char *message);

/* With the opt-in, kill <c>'s cgroup (once per container ID) because it <why>. */
void pp_watch_act_kill(struct wcont *c, const char *why);

/* A kernel signal says <p> fails now (<burst>: re-probe at once until the worker agrees). */
void pp_watch_force_false(struct wprobe *p, const char *why, pp_nsec ts, bool burst);

/* Where probe <p> goes: the pod's IP and resolved port, or the container (exec). */
void pp_watch_prepare_target(struct wprobe *p);

/* The main process of <c> exited (<how>); <ts> is the kernel's time of it, 0 = unknown. */
void pp_watch_cont_exited(struct wcont *c, const char *how, pp_nsec ts);

/* ---- pods and containers (watch_pods.c) ---- */

/* A Pod object from the pod source (file or API): add it, or apply what changed. */
void pp_watch_upsert(struct pp_watch *w, const json_t *pod);
/* Pod <uid> is gone. */
void pp_watch_delete(struct pp_watch *w, const char *uid);
/* A full list starts / ended: pods not delivered in between are gone. */
void pp_watch_sync_begin(struct pp_watch *w);
void pp_watch_sync_end(struct pp_watch *w);

/* Look for the cgroups of containers not found yet (at most every few seconds). */
void pp_watch_scan_cgroups(struct pp_watch *w, pp_nsec now);

/* Watch the main process of <c>'s cgroup (again, after it changed). */
void pp_watch_follow_main(struct wcont *c);

/* Every tick: the cgroup scan, and the new main process of a container restarted in place. */
void pp_watch_tick(struct pp_watch *w, pp_nsec now);

/* Forget every pod (teardown). */
void pp_watch_pods_free(struct pp_watch *w);

/* ---- kernel signals (watch_kernel.c) ---- */

/* Open the eBPF signals when allowed (else say why not and go on without them). */
void pp_watch_bpf_setup(struct pp_watch *w);

/* Events lost on a full ring buffer: probe every port now. */
void pp_watch_bpf_check(struct pp_watch *w);

/* ---- the PodList file (watch_file.c) ---- */

/* Read cfg->pods_file and sync the pods with it. Returns 0, -EINVAL (kept as they were). */
int pp_watch_file_load(struct pp_watch *w);

/* Re-read the file when it is written or replaced. Returns 0 or -errno. */
int pp_watch_file_setup(struct pp_watch *w);

/* ---- what the plain-HTTP servers answer (watch_proxy.c, watch_metrics.c) ---- */

/* Listen on --probe-proxy-addr and --metrics-addr. Returns 0 or -errno (said on stderr). */
int pp_watch_serve_setup(struct pp_watch *w);

/* The /metrics body into <rep> (status stays 0 on ENOMEM). */
void pp_watch_metrics_reply(struct pp_watch *w, struct pp_watch_reply *rep);

/* ---- the API (watch_kube.c) ---- */

/*
 * Start the API pod source and the verdict sink on w->loop (watch_kube.c). A weak reference:
 * NULL while that file is not built. Returns 0 or -errno with a reason in <err>.
 */
int pp_watch_kube_start(struct pp_watch *w, char *err, size_t size) __attribute__((weak));

/* ---- cgroups (watch_cgroup.c) ---- */

/* Bounds of one walk of the cgroup tree. */
#define PP_WATCH_CG_MAX_DEPTH 12
#define PP_WATCH_CG_MAX_DIRS  200000

/*
 * The cgroup v2 hierarchy at or below <root>: <root> itself when it is a cgroup2 mount (or a
 * directory of one), else <root>/unified (the hybrid layout of systemd). Returns 0 and fills
 * <buf>, or -EMEDIUMTYPE / -errno.
 */
int pp_watch_cg2_root(const char *root, char *buf, size_t size);

/*
 * Walk the directories below <root> breadth-first (at most PP_WATCH_CG_MAX_DEPTH levels and
 * PP_WATCH_CG_MAX_DIRS directories), calling <fn>(<ctx>, name, path) for each; <fn> returns
 * true to stop. Returns the number of directories seen or -errno.
 */
int pp_watch_cg_walk(const char *root, bool (*fn)(void *ctx, const char *name, const char *path),
		     void *ctx);

/* The main process of cgroup <path> (pp_watch_main_pid() over cgroup.procs), or -errno. */
int pp_watch_cg_main_pid(const char *path);

/* Write "1" to <path>/cgroup.kill. Returns 0 or -errno. */
int pp_watch_cg_kill(const char *path);

/* ---- the plain-HTTP server of the probe proxy and /metrics (watch_http.c) ---- */

struct pp_watch_reply {
	int status;
	const char *content_type; /* NULL = text/plain; charset=utf-8 */
	char extra[512];	  /* more header lines, each ending in \r\n, or "" */
	char *body;		  /* malloc'd, taken by the server; or NULL */
	size_t body_len;
};

/* Answer the complete request <req> into <rep> (status 0 = 500). */
typedef void (*pp_watch_http_fn)(void *ctx, const struct pp_http_req *req,
				 struct pp_watch_reply *rep);

/*
 * Listen on <addr> ("IP:PORT", port 0 = any) and serve on <loop>. Returns 0 and fills <ret>
 * and <ret_port> (the bound port), or -errno with a reason in <err>.
 */
int pp_watch_http_new(struct pp_loop *loop, const char *addr, pp_watch_http_fn fn, void *ctx,
		      struct pp_watch_http **ret, int *ret_port, char *err, size_t err_size);
void pp_watch_http_free(struct pp_watch_http *h);

#endif
