// SPDX-License-Identifier: Apache-2.0
/*
 * Deadlines in a binary min-heap keyed by absolute time. Owners never remove entries: they
 * bump a generation instead and drop stale entries when they pop, which keeps push/pop
 * O(log n) and the heap a plain array (16 bytes an entry).
 */
#include "podprobe/sched.h"

#include <errno.h>
#include <stdlib.h>

static void swap(struct pp_sched_entry *a, struct pp_sched_entry *b)
{
	struct pp_sched_entry t = *a;

	*a = *b;
	*b = t;
}

int pp_sched_push(struct pp_sched *s, pp_nsec deadline, uint32_t key, uint32_t gen)
{
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct pp_sched_entry *h = realloc(s->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->cap = cap;
	}
	i = s->n++;
	s->heap[i] = (struct pp_sched_entry){.deadline = deadline, .key = key, .gen = gen};
	while (i > 0 && s->heap[(i - 1) / 2].deadline > s->heap[i].deadline) {
		swap(&s->heap[(i - 1) / 2], &s->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

pp_nsec pp_sched_next(const struct pp_sched *s)
{
	return s->n ? s->heap[0].deadline : PP_NSEC_INFINITY;
}

bool pp_sched_pop_expired(struct pp_sched *s, pp_nsec now, struct pp_sched_entry *ret)
{
	size_t i = 0;

	if (!s->n || s->heap[0].deadline > now)
		return false;
	*ret = s->heap[0];
	s->heap[0] = s->heap[--s->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n && s->heap[l].deadline < s->heap[m].deadline)
			m = l;
		if (r < s->n && s->heap[r].deadline < s->heap[m].deadline)
			m = r;
		if (m == i)
			break;
		swap(&s->heap[i], &s->heap[m]);
		i = m;
	}
	return true;
}

void pp_sched_free(struct pp_sched *s)
{
	free(s->heap);
	s->heap = NULL;
	s->n = s->cap = 0;
}
