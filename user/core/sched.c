// SPDX-License-Identifier: Apache-2.0
/*
 * Deadlines in a 4-ary min-heap keyed by absolute time. Owners never remove entries: they
 * bump a generation instead and drop stale entries when they pop, which keeps push/pop
 * O(log n) and the heap a plain array (16 bytes an entry). Four children a node halve a binary
 * heap's depth, and the four (64 bytes) span at most two cache lines: with thousands of probes
 * due each second, a pop's cache misses were most of its cost (perf annotate of a whole run at
 * 5,000 pods).
 */
#include "podprobe/sched.h"

#include <errno.h>
#include <stdlib.h>

#define ARITY 4

int pp_sched_push(struct pp_sched *s, pp_nsec deadline, uint32_t key, uint32_t gen)
{
	struct pp_sched_entry e = {.deadline = deadline, .key = key, .gen = gen};
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct pp_sched_entry *h = realloc(s->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->cap = cap;
	}
	/* Sift up: parents later than <e> move down into the hole. */
	for (i = s->n++; i > 0; i = (i - 1) / ARITY) {
		const struct pp_sched_entry *p = &s->heap[(i - 1) / ARITY];

		if (p->deadline <= deadline)
			break;
		s->heap[i] = *p;
	}
	s->heap[i] = e;
	return 0;
}

pp_nsec pp_sched_next(const struct pp_sched *s)
{
	return s->n ? s->heap[0].deadline : PP_NSEC_INFINITY;
}

bool pp_sched_pop_expired(struct pp_sched *s, pp_nsec now, struct pp_sched_entry *ret)
{
	struct pp_sched_entry last;
	size_t i = 0;

	if (!s->n || s->heap[0].deadline > now)
		return false;
	*ret = s->heap[0];
	last = s->heap[--s->n];
	if (!s->n)
		return true;
	/* Sift down: the earliest child moves up into the hole until <last> fits there. */
	for (;;) {
		size_t c = ARITY * i + 1, end = c + ARITY, m = c;

		if (c >= s->n)
			break;
		if (end > s->n)
			end = s->n;
		for (size_t j = c + 1; j < end; j++)
			if (s->heap[j].deadline < s->heap[m].deadline)
				m = j;
		if (s->heap[m].deadline >= last.deadline)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	s->heap[i] = last;
	return true;
}

void pp_sched_free(struct pp_sched *s)
{
	free(s->heap);
	s->heap = NULL;
	s->n = s->cap = 0;
}

/*
 * Slack classes. Linux's timer slack (hrtimer_set_expires_range_ns(), prctl PR_SET_TIMERSLACK)
 * gives each timer a [soft, hard] range and fires every timer whose soft expiry has passed when
 * any of them fires; this is the same rule with one heap per slack value.
 */
static int class_for(struct pp_slack_sched *s, pp_nsec slack)
{
	int best = -1, zero = -1;

	for (unsigned int i = 0; i < s->n_cls; i++) {
		if (s->slack[i] == slack)
			return (int)i;
		if (s->slack[i] == 0)
			zero = (int)i;
		if (s->slack[i] < slack && (best < 0 || s->slack[i] > s->slack[best]))
			best = (int)i;
	}
	/* The last class is kept for slack 0, so that a class with less slack always exists. */
	if (s->n_cls + 1 < PP_SLACK_CLASSES ||
	    (s->n_cls < PP_SLACK_CLASSES && (slack == 0 || zero >= 0))) {
		s->slack[s->n_cls] = slack;
		return (int)s->n_cls++;
	}
	if (best >= 0)
		return best;
	s->slack[s->n_cls] = 0;
	return (int)s->n_cls++;
}

int pp_slack_sched_push(struct pp_slack_sched *s, pp_nsec deadline, pp_nsec slack, uint32_t key,
			uint32_t gen)
{
	return pp_sched_push(&s->cls[class_for(s, slack)], deadline, key, gen);
}

pp_nsec pp_slack_sched_next(const struct pp_slack_sched *s)
{
	pp_nsec next = PP_NSEC_INFINITY;

	for (unsigned int i = 0; i < s->n_cls; i++) {
		pp_nsec d = pp_sched_next(&s->cls[i]), latest;

		if (d == PP_NSEC_INFINITY)
			continue;
		latest = d > PP_NSEC_INFINITY - 1 - s->slack[i] ? PP_NSEC_INFINITY - 1
								: d + s->slack[i];
		if (latest < next)
			next = latest;
	}
	return next;
}

bool pp_slack_sched_pop_expired(struct pp_slack_sched *s, pp_nsec now, struct pp_sched_entry *ret)
{
	int best = -1;
	pp_nsec best_d = PP_NSEC_INFINITY;

	for (unsigned int i = 0; i < s->n_cls; i++) {
		pp_nsec d = pp_sched_next(&s->cls[i]);

		if (d <= now && (best < 0 || d < best_d)) {
			best = (int)i;
			best_d = d;
		}
	}
	return best >= 0 && pp_sched_pop_expired(&s->cls[best], now, ret);
}

size_t pp_slack_sched_len(const struct pp_slack_sched *s)
{
	size_t n = 0;

	for (unsigned int i = 0; i < s->n_cls; i++)
		n += s->cls[i].n;
	return n;
}

void pp_slack_sched_free(struct pp_slack_sched *s)
{
	for (unsigned int i = 0; i < PP_SLACK_CLASSES; i++)
		pp_sched_free(&s->cls[i]);
	s->n_cls = 0;
}
