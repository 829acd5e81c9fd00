/* SPDX-License-Identifier: Apache-2.0 */
/* Build pods in code for controller tests (no YAML), and a fake monotonic clock. */
#ifndef PODPROBE_TESTS_FAKE_POD_H
#define PODPROBE_TESTS_FAKE_POD_H

#include "podprobe/lifecycle-t.h"
#include "podprobe/pod-t.h"

/* A pod named <name> in "default" with <policy> and grace 30 s; free with pp_pod_free(). */
struct pp_pod *t_pod_new(const char *name, enum pp_restart_policy policy);

/* Append a container running `sh -c true`; <init> lists it under initContainers. */
struct pp_container_spec *t_pod_add(struct pp_pod *pod, const char *name, bool init,
				    bool sidecar);

/* The fake clock: tests set and advance it; nothing reads a real clock. */
pp_nsec t_now(void);
void t_clock_set(pp_nsec t);
pp_nsec t_clock_advance(pp_nsec d);

#endif
