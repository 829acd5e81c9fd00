/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe metrics, pure: count probe attempts and their durations per container and write them
 * in the Prometheus text exposition format 0.0.4, as kubelet's /metrics shows them.
 */
#ifndef PODPROBE_METRICS_H
#define PODPROBE_METRICS_H

#include <stddef.h>

#include "podprobe/metrics-t.h"

/* An empty set. Returns 0 or -ENOMEM. */
int pp_metrics_init(struct pp_metrics *m);

/* Free every series; NULL and a zeroed or finished set are fine. */
void pp_metrics_fini(struct pp_metrics *m);

/*
 * Count one probe attempt of probe <kind> of <container> in pod <ns>/<pod> (uid <uid>) that
 * gave <result> and took <duration>: prober_probe_total + 1, and, for a successful or unknown
 * result (not a failed one, as kubelet's worker.doProbe), one prober_probe_duration_seconds
 * observation. Attempts kubelet throws away (a prober error) are not to be counted.
 * Returns 0, -EINVAL for a NULL string or a bad <kind> or <result>, -ENOMEM.
 */
int pp_metrics_probe(struct pp_metrics *m, const char *ns, const char *pod, const char *uid,
		     const char *container, enum pp_probe_kind kind, enum pp_metric_result result,
		     pp_nsec duration);

/* Drop every series of the pod <uid>, as kubelet's probe workers delete theirs on stop. */
void pp_metrics_forget_pod(struct pp_metrics *m, const char *uid);

/*
 * The metrics as Prometheus text (# HELP, # TYPE, then the series sorted by label values,
 * labels in name order as client_golang writes them; label values escaped). Series of two
 * pods that share namespace and name (a replaced pod) are one histogram series, as kubelet's
 * histogram has no pod_uid label. *<ret_buf> is malloc'd and NUL-terminated, the caller frees
 * it; *<ret_len> is its length. A family without series is left out. Returns 0 or -ENOMEM.
 */
int pp_metrics_write(const struct pp_metrics *m, char **ret_buf, size_t *ret_len);

#endif
