// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch` (podprobe/watch.h): setup, the run and teardown. The pods of a PodList
 * file (watch_file.c) or of the API (watch_kube.c) become watched containers (watch_pods.c)
 * whose own probes the shared probe runner runs against status.podIP (kubelet
 * pkg/kubelet/prober/prober.go runProbe); verdicts and actions are watch_verdicts.c's, kernel
 * signals watch_kernel.c's, the probe proxy and /metrics watch_proxy.c's and watch_metrics.c's.
 */
#include "podprobe/watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/log.h"
#include "podprobe/loop.h"
#include "podprobe/metrics.h"
#include "podprobe/out_queue.h"
#include "podprobe/probe_runner.h"
#include "podprobe/sd_notify.h"
#include "podprobe/signals.h"
#include "watch_int.h"

#define TICK		 (100 * PP_NSEC_PER_MSEC)
#define MAX_IN_FLIGHT	 4096
#define BPF_CHECK_PERIOD PP_NSEC_PER_SEC

/* ---- the run ------------------------------------------------------------------------------ */

static void on_signal(void *ctx, int res)
{
	struct pp_watch *w = ctx;
	struct signalfd_siginfo si;

	w->sig_op = 0;
	while (read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		w->stop = true;
	(void)res;
	if (!w->stop)
		pp_loop_poll(w->loop, w->sig_fd, POLLIN, on_signal, w, &w->sig_op);
}

static int signals_setup(struct pp_watch *w)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	w->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w->sig_fd < 0)
		return -errno;
	return pp_loop_poll(w->loop, w->sig_fd, POLLIN, on_signal, w, &w->sig_op);
}

static void watch_free(struct pp_watch *w)
{
	pp_watch_pods_free(w);
	if (w->kube && w->kube->free)
		w->kube->free(w->kctx);
	pp_watch_http_free(w->proxy);
	pp_watch_http_free(w->metrics_http);
	pp_signals_close(w->bpf);
	pp_probe_runner_free(w->runner);
	pp_outq_free(w->out);
	pp_loop_free(w->loop);
	pp_metrics_fini(&w->metrics);
	if (w->sig_fd >= 0)
		close(w->sig_fd);
	if (w->ino_fd >= 0)
		close(w->ino_fd);
	free(w->pods_dir);
	free(w->pods_base);
}

int pp_watch_run(const struct pp_watch_cfg *cfg)
{
	struct pp_watch w = {.cfg = cfg, .sig_fd = -1, .ino_fd = -1};
	pp_nsec start = pp_clock_now(), end = cfg->duration ? start + cfg->duration : 0;
	pp_nsec next_tick = start + TICK, next_bpf = start + BPF_CHECK_PERIOD;
	pp_nsec wd_every, next_wd;
	char err[256];
	int rc, status = 0;

	if (!cfg->pods_file && !pp_watch_kube_start) {
		fprintf(stderr, "podprobe watch: pods from the Kubernetes API are not built yet; "
				"use --pods FILE\n");
		return 2;
	}
	fflush(stdout); /* stdio's lines first; from here on, the queue */
	if (pp_metrics_init(&w.metrics) < 0 || pp_loop_new(4096, &w.loop) < 0 ||
	    pp_outq_new(w.loop, STDOUT_FILENO, PP_OUTQ_CAP, &w.out) < 0 ||
	    pp_probe_runner_new(w.loop, MAX_IN_FLIGHT, &w.runner) < 0) {
		fprintf(stderr, "podprobe watch: cannot set up the loop\n");
		status = 1;
		goto out;
	}
	if (signals_setup(&w) < 0) {
		fprintf(stderr, "podprobe watch: cannot watch SIGINT/SIGTERM\n");
		status = 1;
		goto out;
	}
	if (pp_watch_cg2_root(cfg->cgroup_root, w.cg2, sizeof(w.cg2)) < 0) {
		w.cg2[0] = '\0';
		pp_log(PP_LOG_WARN, "no cgroup v2 hierarchy at %s: no kernel signals per container",
		       cfg->cgroup_root);
	}
	if (pp_watch_serve_setup(&w) < 0) {
		status = 2;
		goto out;
	}
	pp_watch_bpf_setup(&w);
	if (cfg->pods_file) {
		rc = pp_watch_file_setup(&w);
		if (rc < 0)
			pp_log(PP_LOG_WARN, "cannot watch %s for changes: %s", cfg->pods_file,
			       strerror(-rc));
		if (pp_watch_file_load(&w) < 0 && access(cfg->pods_file, R_OK) < 0) {
			fprintf(stderr, "podprobe watch: %s: %s\n", cfg->pods_file,
				strerror(errno));
			status = 2;
			goto out;
		}
		pp_log(PP_LOG_NOTICE, "watching %zu pods from %s", w.n_pods, cfg->pods_file);
	} else {
		rc = pp_watch_kube_start(&w, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "podprobe watch: %s\n", err);
			status = 2;
			goto out;
		}
	}
	/* systemd Type=notify: the loop runs (sd_notify(3)); WATCHDOG=1 from the loop itself. */
	pp_sd_notify("READY=1\nSTATUS=watching pods");
	wd_every = pp_sd_watchdog_interval();
	next_wd = wd_every ? pp_clock_now() + wd_every : PP_NSEC_INFINITY;
	while (!w.stop) {
		pp_nsec now = pp_clock_now(), dl = pp_probe_runner_next(w.runner);

		if (next_tick < dl)
			dl = next_tick;
		if (next_wd < dl)
			dl = next_wd;
		if (w.kube && w.kube->next(w.kctx) < dl)
			dl = w.kube->next(w.kctx);
		if (end && end < dl)
			dl = end;
		rc = pp_loop_run_once(w.loop, dl);
		if (rc < 0 && rc != -EINTR && rc != -ETIME) {
			pp_log_errno(PP_LOG_ERR, rc, "the loop failed");
			status = 1;
			break;
		}
		pp_probe_runner_run(w.runner, pp_clock_now());
		if (w.kube)
			w.kube->run(w.kctx, pp_clock_now());
		if (w.reload) {
			w.reload = false;
			pp_watch_file_load(&w);
		}
		now = pp_clock_now();
		if (now >= next_tick) {
			next_tick = now + TICK;
			pp_watch_tick(&w, now);
		}
		if (now >= next_wd) {
			next_wd = now + wd_every;
			pp_sd_notify("WATCHDOG=1");
		}
		if (now >= next_bpf) {
			next_bpf = now + BPF_CHECK_PERIOD;
			pp_watch_bpf_check(&w);
		}
		if (end && now >= end)
			break;
	}
	pp_sd_notify("STOPPING=1");
	pp_outq_drain(w.out, pp_clock_now() + PP_OUTQ_DRAIN_MAX);
out:
	watch_free(&w);
	return status;
}
