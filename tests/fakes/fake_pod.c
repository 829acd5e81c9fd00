// SPDX-License-Identifier: Apache-2.0
#include "fake_pod.h"

#include <stdlib.h>
#include <string.h>

static pp_nsec fake_now = 1000 * PP_NSEC_PER_SEC;

pp_nsec t_now(void)
{
	return fake_now;
}

void t_clock_set(pp_nsec t)
{
	fake_now = t;
}

pp_nsec t_clock_advance(pp_nsec d)
{
	fake_now += d;
	return fake_now;
}

struct pp_pod *t_pod_new(const char *name, enum pp_restart_policy policy)
{
	struct pp_pod *pod = calloc(1, sizeof(*pod));

	if (!pod)
		abort();
	pod->file = strdup("test.yaml");
	pod->api_version = strdup("v1");
	pod->kind = strdup("Pod");
	pod->name = strdup(name);
	pod->namespace = strdup("default");
	pod->restart_policy = policy;
	pod->termination_grace_s = 30;
	return pod;
}

struct pp_container_spec *t_pod_add(struct pp_pod *pod, const char *name, bool init,
				    bool sidecar)
{
	struct pp_container_spec **list = init ? &pod->init_containers : &pod->containers;
	size_t *n = init ? &pod->n_init_containers : &pod->n_containers;
	struct pp_container_spec *c;

	*list = realloc(*list, (*n + 1) * sizeof(**list));
	if (!*list)
		abort();
	c = &(*list)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	c->image = strdup("busybox:1.36");
	c->command = calloc(3, sizeof(char *));
	c->command[0] = strdup("sh");
	c->command[1] = strdup("-c");
	c->command[2] = strdup("true");
	c->n_command = 3;
	c->is_init = init;
	c->sidecar = sidecar;
	if (sidecar)
		c->restart_policy = strdup("Always");
	return c;
}
