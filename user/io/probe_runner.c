// SPDX-License-Identifier: Apache-2.0
/*
 * Many probe workers on one loop. Workers sit in a deadline heap keyed by job index with a
 * generation (stale entries are skipped, never searched for). A due worker starts an attempt
 * when fewer than max_in_flight are running; otherwise it queues, and starts late: lateness is
 * counted, the schedule moves on from the actual start (core/probe_state.c), and nothing is
 * reported as a failure because the engine itself was busy.
 *
 * Batching: a worker due at t may start as late as t + its slack (min(slack, period / 100) for
 * periods of a second or more), and a wake-up starts every worker due by then, so at 1,000
 * probes/s the loop wakes about once per 10 ms instead of once per probe. Kernel-triggered and
 * other poked attempts, bursts and sub-second periods keep (next to) no slack.
 */
#include "podprobe/probe_runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/probe.h"
#include "podprobe/sched.h"

/* Due entries popped, warmed and begun together (pp_probe_runner_run). */
#define RUN_BATCH 32

struct pp_probe_runner {
	struct pp_prober *prober;
	struct pp_slack_sched heap;
	pp_nsec slack;		    /* the most a periodic attempt waits for company */
	struct pp_probe_job **jobs; /* by key; NULL for a removed job's key */
	uint32_t n_jobs;
	uint32_t *free_keys; /* keys of removed jobs, to reuse */
	uint32_t n_free;
	uint32_t *key_gen;	    /* the last generation each key was armed with */
	struct pp_probe_job **wait; /* ring of jobs waiting for room */
	size_t wait_head;
	size_t wait_len;
	size_t wait_cap;
	unsigned int max_in_flight;
	struct pp_probe_runner_stats stats;
};

int pp_probe_runner_new(struct pp_loop *loop, unsigned int max_in_flight,
			struct pp_probe_runner **ret)
{
	struct pp_probe_runner *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = pp_prober_new(loop, &r->prober);
	if (err < 0) {
		free(r);
		return err;
	}
	r->max_in_flight = max_in_flight ? max_in_flight : 1;
	r->slack = PP_PROBE_RUNNER_SLACK;
	*ret = r;
	return 0;
}

void pp_probe_runner_free(struct pp_probe_runner *r)
{
	if (!r)
		return;
	pp_prober_free(r->prober);
	pp_slack_sched_free(&r->heap);
	free(r->jobs);
	free(r->free_keys);
	free(r->key_gen);
	free(r->wait);
	free(r);
}

void pp_probe_runner_set_slack(struct pp_probe_runner *r, pp_nsec slack)
{
	r->slack = slack;
}

pp_nsec pp_probe_runner_slack(const struct pp_probe_runner *r, const struct pp_probe_job *job)
{
	const struct pp_probe_worker *w = &job->w;
	pp_nsec iv =
		job->cfg.fast_period && !w->ever_succeeded ? job->cfg.fast_period : job->cfg.period;

	/* A kernel signal or a burst asks for an answer now. */
	if (job->kernel_hint || w->burst)
		return 0;
	/* Sub-second schedules keep the 1 ms step they always had. */
	if (iv < PP_NSEC_PER_SEC)
		return PP_PROBE_SLACK < r->slack ? PP_PROBE_SLACK : r->slack;
	return iv / 100 < r->slack ? iv / 100 : r->slack;
}

struct pp_prober *pp_probe_runner_prober(struct pp_probe_runner *r)
{
	return r->prober;
}

const struct pp_probe_runner_stats *pp_probe_runner_stats(const struct pp_probe_runner *r)
{
	return &r->stats;
}

int pp_probe_runner_add(struct pp_probe_runner *r, struct pp_probe_job *job)
{
	struct pp_probe_job **jobs;
	struct pp_probe_job **wait;
	uint32_t *gens, *keys;

	job->runner = r;
	job->armed = PP_NSEC_INFINITY;
	job->attempt = 0;
	job->queued = false;
	if (r->n_free) {
		/* Past every heap entry the key's last job left, so none of them can fire. */
		job->key = r->free_keys[--r->n_free];
		job->gen = r->key_gen[job->key] + 1;
		r->jobs[job->key] = job;
		return 0;
	}
	jobs = realloc(r->jobs, (r->n_jobs + 1) * sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	r->jobs = jobs;
	gens = realloc(r->key_gen, (r->n_jobs + 1) * sizeof(*gens));
	if (!gens)
		return -ENOMEM;
	r->key_gen = gens;
	keys = realloc(r->free_keys, (r->n_jobs + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	r->free_keys = keys;
	/* The wait ring can hold every job at once: pushing never fails. */
	wait = malloc((r->n_jobs + 1) * sizeof(*wait));
	if (!wait)
		return -ENOMEM;
	for (size_t i = 0; i < r->wait_len; i++)
		wait[i] = r->wait[(r->wait_head + i) % r->wait_cap];
	free(r->wait);
	r->wait = wait;
	r->wait_head = 0;
	r->wait_cap = r->n_jobs + 1;
	job->key = r->n_jobs;
	r->key_gen[job->key] = 0;
	r->jobs[r->n_jobs++] = job;
	return 0;
}

void pp_probe_runner_remove(struct pp_probe_runner *r, struct pp_probe_job *job)
{
	size_t kept = 0;

	if (job->runner != r || job->key >= r->n_jobs || r->jobs[job->key] != job)
		return;
	pp_probe_runner_disarm(r, job);
	/* Out of the wait ring, the others keeping their order. */
	for (size_t i = 0; i < r->wait_len; i++) {
		struct pp_probe_job *w = r->wait[(r->wait_head + i) % r->wait_cap];

		if (w != job)
			r->wait[(r->wait_head + kept++) % r->wait_cap] = w;
	}
	r->wait_len = kept;
	r->key_gen[job->key] = job->gen;
	r->jobs[job->key] = NULL;
	r->free_keys[r->n_free++] = job->key;
	job->runner = NULL;
}

/* <now>: the owner asked for this attempt (a poke): it gets no slack. */
static void arm_timer_at(struct pp_probe_runner *r, struct pp_probe_job *job, bool now)
{
	pp_nsec d = job->w.next_at;

	/* An attempt in flight re-arms when its result comes (never a deadline in the past). */
	if (d == PP_NSEC_INFINITY || (d == job->armed && !now) || job->w.on_hold || job->queued ||
	    job->w.in_flight)
		return;
	job->gen++;
	job->armed = d;
	/* On ENOMEM the job stalls until it is armed again; nothing better is possible. */
	pp_slack_sched_push(&r->heap, d, now ? 0 : pp_probe_runner_slack(r, job), job->key,
			    job->gen);
}

static void arm_timer(struct pp_probe_runner *r, struct pp_probe_job *job)
{
	arm_timer_at(r, job, false);
}

static void deliver(struct pp_probe_runner *r, struct pp_probe_job *job,
		    enum pp_probe_result result, const char *output)
{
	struct pp_probe_change chg;

	job->attempt = 0;
	if (job->ops && job->ops->adjust)
		result = job->ops->adjust(job, result, &output);
	pp_probe_worker_result(&job->w, &job->cfg, result, &chg);
	if (job->ops && job->ops->result)
		job->ops->result(job, result, output, &chg);
	arm_timer(r, job);
}

static void on_done(void *ctx, const struct pp_probe_report *rep)
{
	struct pp_probe_job *job = ctx;

	if (!job->w.instance)
		return;
	job->latency = rep->latency;
	deliver(job->runner, job, rep->result, rep->message);
	job->latency = 0;
}

static void begin(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec now)
{
	pp_nsec late;
	int err;

	if (!pp_probe_worker_due(&job->w, now)) {
		arm_timer(r, job);
		return;
	}
	if (job->ops && job->ops->allowed && !job->ops->allowed(job)) {
		r->stats.skipped++;
		pp_probe_worker_skip(&job->w, &job->cfg, now);
		arm_timer(r, job);
		return;
	}
	if (pp_prober_stats(r->prober)->in_flight >= r->max_in_flight) {
		if (!job->queued) {
			job->queued = true;
			r->wait[(r->wait_head + r->wait_len++) % r->wait_cap] = job;
			r->stats.queued++;
		}
		return;
	}
	late = pp_probe_worker_begin(&job->w, &job->cfg, now);
	if (late > job->cfg.period / 10)
		r->stats.late++;
	if (late > r->stats.max_lateness)
		r->stats.max_lateness = late;
	r->stats.attempts++;
	if (job->target_err) {
		deliver(r, job, PP_RESULT_UNKNOWN, job->target_msg);
		return;
	}
	if (job->ops && job->ops->shortcut) {
		const char *output = "";

		if (job->ops->shortcut(job, &output)) {
			r->stats.shortcuts++;
			deliver(r, job, PP_RESULT_SUCCESS, output);
			return;
		}
	}
	err = pp_prober_start(r->prober, &job->target, job->cfg.timeout, on_done, job,
			      &job->attempt);
	if (err < 0)
		deliver(r, job, PP_RESULT_UNKNOWN, strerror(-err));
	else
		arm_timer(r, job);
}

void pp_probe_runner_arm(struct pp_probe_runner *r, struct pp_probe_job *job, uint32_t instance,
			 pp_nsec started_at, pp_nsec spread)
{
	pp_probe_worker_arm(&job->w, &job->cfg, instance, started_at, spread);
	job->armed = PP_NSEC_INFINITY;
	arm_timer(r, job);
}

void pp_probe_runner_disarm(struct pp_probe_runner *r, struct pp_probe_job *job)
{
	if (job->attempt)
		pp_prober_cancel(r->prober, job->attempt);
	job->attempt = 0;
	pp_probe_worker_disarm(&job->w);
	job->gen++;
	job->armed = PP_NSEC_INFINITY;
}

void pp_probe_runner_poke(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec at)
{
	pp_probe_worker_poke(&job->w, at);
	arm_timer_at(r, job, true);
}

void pp_probe_runner_nudge(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec at)
{
	pp_probe_worker_nudge(&job->w, at);
	arm_timer_at(r, job, true);
}

void pp_probe_runner_burst(struct pp_probe_runner *r, struct pp_probe_job *job, pp_nsec now)
{
	pp_probe_worker_burst(&job->w, now);
	arm_timer_at(r, job, true);
}

pp_nsec pp_probe_runner_next(const struct pp_probe_runner *r)
{
	pp_nsec a = pp_slack_sched_next(&r->heap), b = pp_prober_next_deadline(r->prober);

	if (r->wait_len && pp_prober_stats(r->prober)->in_flight < r->max_in_flight)
		return 0;
	/*
	 * Attempt timeouts wake on whole PP_PROBE_SLACK steps: those ending within one step
	 * share a wake-up. Workers carry their own slack (pp_slack_sched).
	 */
	if (b != PP_NSEC_INFINITY && b % PP_PROBE_SLACK)
		b += PP_PROBE_SLACK - b % PP_PROBE_SLACK;
	return a < b ? a : b;
}

/* The job a heap entry still stands for, or NULL (removed, or armed again since). */
static struct pp_probe_job *live_job(const struct pp_probe_runner *r,
				     const struct pp_sched_entry *e)
{
	struct pp_probe_job *job = e->key < r->n_jobs ? r->jobs[e->key] : NULL;

	return job && e->gen == job->gen ? job : NULL;
}

void pp_probe_runner_run(struct pp_probe_runner *r, pp_nsec now)
{
	pp_prober_run_expired(r->prober, now);
	/* Those that waited go first. */
	while (r->wait_len && pp_prober_stats(r->prober)->in_flight < r->max_in_flight) {
		struct pp_probe_job *job = r->wait[r->wait_head];

		r->wait_head = (r->wait_head + 1) % r->wait_cap;
		r->wait_len--;
		job->queued = false;
		if (job->w.instance)
			begin(r, job, now);
	}
	for (;;) {
		struct pp_sched_entry es[RUN_BATCH];
		size_t n = 0;

		while (n < RUN_BATCH && pp_slack_sched_pop_expired(&r->heap, now, &es[n]))
			n++;
		if (!n)
			break;
		/*
		 * With thousands of jobs each attempt's lines (its job, its pod) are cold: touch
		 * them all first, so that their misses overlap instead of coming one after another.
		 */
		for (size_t i = 0; i < n; i++) {
			struct pp_probe_job *job = live_job(r, &es[i]);

			if (!job)
				continue;
			for (size_t off = 0; off < sizeof(*job); off += 64)
				__builtin_prefetch((const char *)job + off);
			/* The owner's strings that every httpGet request reads. */
			if (job->target.host)
				__builtin_prefetch(job->target.host);
			if (job->target.path)
				__builtin_prefetch(job->target.path);
			if (job->ops && job->ops->prefetch)
				job->ops->prefetch(job);
		}
		/* Looked up again: an attempt begun before may have removed or re-armed it. */
		for (size_t i = 0; i < n; i++) {
			struct pp_probe_job *job = live_job(r, &es[i]);

			if (!job)
				continue;
			job->armed = PP_NSEC_INFINITY;
			begin(r, job, now);
		}
	}
}
