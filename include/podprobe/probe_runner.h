/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The probe runner: drives many probe workers on the loop. It owns the prober, one heap of
 * worker deadlines and a bounded number of attempts in flight; a due worker that finds no room
 * waits in a FIFO and starts late instead of failing (overload spreads, it never turns into
 * false failures). Owners (the pod supervisor, the bench) embed one pp_probe_job per probe and
 * hear about results through its ops.
 */
#ifndef PODPROBE_PROBE_RUNNER_H
#define PODPROBE_PROBE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/probe-t.h"
#include "podprobe/prober.h"

struct pp_loop;
struct pp_probe_runner;
struct pp_probe_job;

struct pp_probe_job_ops {
	/* May the attempt run now (gates such as startup, P2.8)? NULL = always. */
	bool (*allowed)(struct pp_probe_job *job);
	/*
	 * A hint, before a batch of due attempts is begun: start loading what allowed() will
	 * read (__builtin_prefetch), so that the batch's cache misses overlap. NULL = none.
	 */
	void (*prefetch)(const struct pp_probe_job *job);
	/*
	 * Before an attempt starts: the owner may answer it without touching the network
	 * (passive evidence). Return true and fill <ret_output> (static or owned by the job) to
	 * count a Success. NULL = never.
	 */
	bool (*shortcut)(struct pp_probe_job *job, const char **ret_output);
	/*
	 * Before a result is counted: the owner may turn it into another (a tcpSocket success on a
	 * listener that accepts nothing). NULL = keep.
	 */
	enum pp_probe_result (*adjust)(struct pp_probe_job *job, enum pp_probe_result result,
				       const char **output);
	/*
	 * An attempt ended with <result> and <output>; <chg> says whether the worker published a
	 * new verdict. Called after the worker has counted it.
	 */
	void (*result)(struct pp_probe_job *job, enum pp_probe_result result, const char *output,
		       const struct pp_probe_change *chg);
};

struct pp_probe_job {
	struct pp_probe_worker w;
	struct pp_probe_cfg cfg;
	struct pp_probe_target target; /* filled by the owner before arming */
	int target_err;		       /* the target could not be resolved: attempts error... */
	char target_msg[96];	       /* ...with this output */
	const struct pp_probe_job_ops *ops;
	void *ctx;			/* the owner's */
	struct pp_probe_runner *runner; /* set by pp_probe_runner_add() */
	uint32_t key;
	uint32_t gen;
	pp_nsec armed;
	uint64_t attempt; /* in flight, 0 = none */
	bool queued;	  /* waiting for room */
	bool kernel_hint; /* the owner poked it because of a kernel signal */
	pp_nsec latency;  /* of the attempt whose result is being delivered (0: no network) */
};

struct pp_probe_runner_stats {
	uint64_t attempts;  /* started */
	uint64_t late;	    /* started more than a tenth of a period after due */
	uint64_t queued;    /* had to wait for room */
	uint64_t skipped;   /* gated turns */
	uint64_t shortcuts; /* answered by the owner without a probe (passive) */
	pp_nsec max_lateness;
};

/*
 * The default most a periodic attempt may start after it is due so that it shares a wake-up
 * with others (pp_probe_runner_set_slack).
 */
#define PP_PROBE_RUNNER_SLACK (10 * PP_NSEC_PER_MSEC)

/*
 * A runner with at most <max_in_flight> attempts at once, and PP_PROBE_RUNNER_SLACK. Returns 0
 * or -errno.
 */
int pp_probe_runner_new(struct pp_loop *loop, unsigned int max_in_flight,
			struct pp_probe_runner **ret);
void pp_probe_runner_free(struct pp_probe_runner *r);

/*
 * At most <slack> between when a periodic attempt is due and when it starts (0 = none: every
 * worker wakes the loop on time). Each worker gets min(<slack>, period / 100) for periods of a
 * second or more, at most 1 ms (as before) for sub-second ones, and none for attempts poked or
 * bursting (kernel signals). Applies to attempts armed from now on.
 */
void pp_probe_runner_set_slack(struct pp_probe_runner *r, pp_nsec slack);

/* The slack <job>'s next periodic attempt gets. */
pp_nsec pp_probe_runner_slack(const struct pp_probe_runner *r, const struct pp_probe_job *job);

/* Register <job> (its kind in job->w.kind via pp_probe_worker_init). Returns 0 or -ENOMEM. */
int pp_probe_runner_add(struct pp_probe_runner *r, struct pp_probe_job *job);

/*
 * Unregister <job> (disarmed first: an attempt in flight is cancelled); its memory is the
 * owner's again at once. Its key goes to the next job added.
 */
void pp_probe_runner_remove(struct pp_probe_runner *r, struct pp_probe_job *job);

/* Start probing a new container instance (P2.2, P2.3); <spread> delays the first attempt. */
void pp_probe_runner_arm(struct pp_probe_runner *r, struct pp_probe_job *job, uint32_t instance,
			 pp_nsec started_at, pp_nsec spread);

/* Stop probing <job>; an attempt in flight is cancelled (no result). */
void pp_probe_runner_disarm(struct pp_probe_runner *r, struct pp_probe_job *job);

/* Run <job>'s next attempt at <at> at the latest (P2.5's immediate readiness run). */
void pp_probe_runner_poke(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec at);

/* An extra attempt of <job> at <at> at the latest, its period left as it was (kernel signals). */
void pp_probe_runner_nudge(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec at);

/* Probe <job> now and then in a burst (pp_probe_worker_burst), because the kernel said so. */
void pp_probe_runner_burst(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec now);

/* The earliest deadline (worker or attempt), or PP_NSEC_INFINITY. */
pp_nsec pp_probe_runner_next(const struct pp_probe_runner *r);

/* Handle everything due at <now>: attempt timeouts, due workers, waiting workers. */
void pp_probe_runner_run(struct pp_probe_runner *r, pp_nsec now);

const struct pp_probe_runner_stats *pp_probe_runner_stats(const struct pp_probe_runner *r);
struct pp_prober *pp_probe_runner_prober(struct pp_probe_runner *r);

#endif
