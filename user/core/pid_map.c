// SPDX-License-Identifier: Apache-2.0
/*
 * Process ids to values in an open-addressed table: one probe sequence, no per-entry
 * allocation, 8 bytes a slot. Deletion shifts the entries of the run back instead of leaving
 * tombstones (Knuth, TAOCP vol. 3, 6.4 Algorithm R), so lookups stay short however many pids
 * come and go: a node's kernel reports every exit of every container process.
 */
#include "podprobe/pid_map.h"

#include <errno.h>
#include <stdlib.h>

#define MIN_CAP 64

static size_t home(const struct pp_pid_map *m, int32_t pid)
{
	/* Fibonacci hashing (the product's high bits): consecutive pids spread over the table. */
	return (size_t)(((uint64_t)(uint32_t)pid * 0x9e3779b97f4a7c15ull) >> 40) & (m->cap - 1);
}

/* The slot of <pid>, or of the empty slot that ends its run. */
static size_t find(const struct pp_pid_map *m, int32_t pid)
{
	size_t i = home(m, pid);

	while (m->slots[i].pid && m->slots[i].pid != pid)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct pp_pid_map *m)
{
	size_t cap = m->cap ? 2 * m->cap : MIN_CAP;
	struct pp_pid_map_slot *old = m->slots, *slots = calloc(cap, sizeof(*slots));
	size_t old_cap = m->cap;

	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].pid)
			slots[find(m, old[i].pid)] = old[i]; /* not there yet: the run's end */
	free(old);
	return 0;
}

int pp_pid_map_set(struct pp_pid_map *m, int32_t pid, uint32_t value)
{
	size_t i;

	if (pid <= 0)
		return -EINVAL;
	if (2 * (m->n + 1) > m->cap) {
		int err = grow(m);

		if (err < 0)
			return err;
	}
	i = find(m, pid);
	if (!m->slots[i].pid) {
		m->slots[i].pid = pid;
		m->n++;
	}
	m->slots[i].value = value;
	return 0;
}

bool pp_pid_map_get(const struct pp_pid_map *m, int32_t pid, uint32_t *ret)
{
	size_t i;

	if (!m->cap || pid <= 0)
		return false;
	i = find(m, pid);
	if (!m->slots[i].pid)
		return false;
	*ret = m->slots[i].value;
	return true;
}

bool pp_pid_map_del(struct pp_pid_map *m, int32_t pid)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap || pid <= 0)
		return false;
	i = find(m, pid);
	if (!m->slots[i].pid)
		return false;
	/* Move back each later entry of the run that may live in the hole. */
	for (j = (i + 1) & mask; m->slots[j].pid; j = (j + 1) & mask) {
		size_t h = home(m, m->slots[j].pid);

		/* <j>'s home is cyclically in (i, j]: it stays; otherwise it fills the hole. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i].pid = 0;
	m->n--;
	return true;
}

void pp_pid_map_free(struct pp_pid_map *m)
{
	free(m->slots);
	*m = (struct pp_pid_map){0};
}
