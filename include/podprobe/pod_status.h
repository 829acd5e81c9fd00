/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod as the Kubernetes API shows it, pure: the Pod object (metadata, spec, and the status
 * kubelet writes: phase, conditions, container statuses), the `kubectl get pods` cells (a
 * port of printers.go printPod) and the Table of them. All of it comes from one intermediate
 * status built from the lifecycle controller's state, so the object and the row agree.
 */
#ifndef PODPROBE_POD_STATUS_H
#define PODPROBE_POD_STATUS_H

#include <jansson.h>

#include "podprobe/api_obj.h"
#include "podprobe/pod_status-t.h"

/* API name of condition <c> ("PodReadyToStartContainers", "Ready"...), "" when out of range. */
const char *pp_pod_cond_str(enum pp_pod_cond c);

/*
 * Record the condition statuses of <st> at wall time <now> into <c>: the first call sets every
 * lastTransitionTime to <now>, later calls move one only when its condition flips. Call it
 * whenever the state may have changed (after each controller input). Readiness gates are not
 * seen here: the Ready condition tracked is that of the containers.
 */
void pp_pod_conds_update(struct pp_pod_conds *c, const struct pp_pod_state *st, pp_wall_ns now);
/* The same for the whole view <v>: readiness gates (v->ext_conditions) count for Ready. */
void pp_pod_conds_update_view(struct pp_pod_conds *c, const struct pp_pod_view *v, pp_wall_ns now);

/*
 * The Pod object of <v>: kind, apiVersion, metadata (<v>->object's metadata when given, else
 * name, namespace, labels and annotations of the spec; plus uid, resourceVersion,
 * creationTimestamp, and deletionTimestamp with deletionGracePeriodSeconds while deleting),
 * spec (<v>->object's, or a minimal one from <v>->spec; with nodeName) and status. NULL on
 * ENOMEM; the caller owns the result.
 */
json_t *pp_pod_json(const struct pp_pod_view *v);

/* The `kubectl get pods -o wide` cells of <v> into <ret>. Returns 0, or -ENOMEM. */
int pp_pod_cells(const struct pp_pod_view *v, struct pp_pod_cells *ret);

/*
 * A meta.k8s.io/v1 Table of the pods <v>[0..<n>) at list resourceVersion <rv>: the nine pod
 * columns (columnDefinitions only when <with_defs>), one row per pod with all nine cells, the
 * row object as <inc> asks, and the Completed row condition of Succeeded and Failed pods.
 * NULL on ENOMEM; the caller owns the result.
 */
json_t *pp_pod_table(const struct pp_pod_view *const *v, size_t n, uint64_t rv,
		     enum pp_include_object inc, bool with_defs);

/*
 * The READY, STATUS and RESTARTS cells of <ps> alone (no API metadata: not deleted unless the
 * controller was told, created unknown), RESTARTS at monotonic <now>. Return the length, or
 * -ENOSPC / -ENOMEM.
 */
int pp_fmt_pod_ready(const struct pp_pod_state *ps, char *buf, size_t size);
int pp_fmt_pod_status(const struct pp_pod_state *ps, char *buf, size_t size);
int pp_fmt_pod_restarts(const struct pp_pod_state *ps, pp_nsec now, char *buf, size_t size);

#endif
