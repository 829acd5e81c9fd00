/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe metrics, pure: count probe attempts and their durations per container and write them
 * in the Prometheus text exposition format 0.0.4, as kubelet's /metrics shows them.
 */
#ifndef PODPROBE_METRICS_H
#define PODPROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * pp_metrics_probe() in two steps, for a caller that counts the same series again and again:
 * pp_metrics_find() looks the series up (creating it) once and keeps it in <ref> (0, -EINVAL,
 * -ENOMEM); pp_metrics_count() counts one attempt through <ref> without reading the names,
 * or returns false when <ref> is empty or may point to a freed series (find it again). <ref>
 * must not outlive <m>.
 */
int pp_metrics_find(struct pp_metrics *m, const char *ns, const char *pod, const char *uid,
		    const char *container, enum pp_probe_kind kind, struct pp_metrics_ref *ref);
bool pp_metrics_count(struct pp_metrics *m, const struct pp_metrics_ref *ref,
		      enum pp_metric_result result, pp_nsec duration);

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

/*
 * Writing the exposition format by hand, for the families of podprobe's own (API, kernel
 * signals, loop) and `podprobe watch`'s: printf into <b>; a label pair with its value escaped
 * (<comma> puts a "," before it); nanoseconds as exact decimal seconds; "# HELP" and "# TYPE"
 * lines. Failures stick in b->oom; pp_prom_take() hands the text over (or -ENOMEM, freeing it).
 */
void pp_prom_add(struct pp_prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pp_prom_label(struct pp_prom_buf *b, const char *name, const char *v, bool comma);
void pp_prom_seconds(struct pp_prom_buf *b, uint64_t ns);
void pp_prom_family(struct pp_prom_buf *b, const char *name, const char *type, const char *help);
int pp_prom_take(struct pp_prom_buf *b, char **ret_buf, size_t *ret_len);

/* The buckets' upper bounds of every pp_prom_hist: 50 us .. 2.5 s. */
extern const pp_nsec pp_prom_latency_bounds[PP_PROM_LATENCY_N];

/* Count <v> into <h>. */
void pp_prom_hist_observe(struct pp_prom_hist *h, pp_nsec v);

/*
 * <name>_bucket (cumulative, le in seconds), _sum and _count of <h>, with the label pairs
 * <labels> ('kind="exit"', already escaped; NULL or "" for none) on each line.
 */
void pp_prom_hist_write(struct pp_prom_buf *b, const char *name, const char *labels,
			const struct pp_prom_hist *h);

#endif
