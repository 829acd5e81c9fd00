/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Kubernetes API client on the io_uring loop, for `podprobe watch`: it lists and watches the
 * pods of one node (client-go's reflector: list, then watch from the list's resourceVersion,
 * re-list on 410 Gone or a broken stream, back-off on errors), patches pod conditions
 * (readiness gates, KEP-580) on pods/NAME/status, and posts core/v1 Events aggregated as
 * client-go's tools/record does. HTTPS through OpenSSL, verifying the cluster's CA; the bearer
 * token is re-read when it rotates (bound service-account tokens, KEP-1205).
 *
 * Behaviour the caller can count on (added after the first version of this header):
 * - Lists come in pages of 500 (limit/continue); each page's pods are delivered as it comes.
 *   A list that fails part way is started again with a new SYNC_BEGIN, so a SYNC_BEGIN may
 *   follow another without a SYNC_END between them: only SYNC_END says the set is complete.
 * - The kubeconfig file is looked at again before every new connection; a new server or CA
 *   there (a restarted `podprobe run` writes a new port, CA and token) turns the next watch
 *   into a re-list, since resourceVersions mean nothing across two servers' histories.
 * - A condition patch that cannot be sent stays pending (retried with back-off) with the
 *   latest wanted value; stats.patches_pending says how many pods wait. 404 or 409 (another
 *   uid: the patch carries metadata.uid as a precondition) drops it.
 * - Callbacks run from inside pp_loop_run_once() or the calls of this API; they must not
 *   free the client.
 */
#ifndef PODPROBE_KUBE_CLIENT_H
#define PODPROBE_KUBE_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "podprobe/time-t.h"

struct pp_loop;
struct pp_kube_client;

enum pp_kube_pod_event {
	PP_KUBE_SYNC_BEGIN, /* a (re-)list starts: every pod will be delivered again (pod NULL) */
	PP_KUBE_POD_UPSERT, /* pod added or changed (a full Pod object) */
	PP_KUBE_POD_DELETE, /* pod deleted (its last state) */
	PP_KUBE_SYNC_END,   /* the list is complete: pods not delivered since SYNC_BEGIN are gone
			     * (pod NULL) */
};

/* <pod> is borrowed for the call only (json_incref() to keep it). */
typedef void (*pp_kube_pod_fn)(void *ctx, enum pp_kube_pod_event ev, json_t *pod);

/* Something went wrong or right that a person may want to read (connected, 410, backoff). */
typedef void (*pp_kube_log_fn)(void *ctx, bool error, const char *msg);

struct pp_kube_client_cfg {
	const char *kubeconfig; /* a kubeconfig file; NULL = in-cluster (KUBERNETES_SERVICE_HOST,
				 * /var/run/secrets/kubernetes.io/serviceaccount) */
	const char *sa_dir;	/* in-cluster: the service-account directory; NULL = the default */
	const char *node;	/* watch pods with spec.nodeName=<node> (required) */
	const char *user_agent; /* NULL = "podprobe/<version>" */
	pp_nsec patch_min_interval; /* least gap between two status patches of one pod;
				     * 0 = 100 ms. A change to False is never held back. */
	pp_kube_pod_fn on_pod;	    /* required */
	pp_kube_log_fn on_log;	    /* may be NULL */
	void *ctx;
};

struct pp_kube_client_stats {
	uint64_t requests;	    /* HTTP requests sent */
	uint64_t lists;		    /* (re-)lists started */
	uint64_t watches;	    /* watch streams opened */
	uint64_t gone;		    /* 410 Gone answers that forced a re-list */
	uint64_t errors;	    /* failed requests (transport or non-2xx) */
	uint64_t patches;	    /* condition patches that succeeded */
	uint64_t patch_errors;	    /* condition patches that failed for good */
	uint64_t events_posted;	    /* Events created (POST) */
	uint64_t events_aggregated; /* Events counted into an existing one (PATCH) */
	pp_nsec last_patch_latency; /* from pp_kube_set_condition() to the 2xx answer */
	bool synced;		    /* a list has completed and the watch is open */
	/* added after the first version of this header: */
	uint64_t patch_requests;  /* condition patches sent (coalescing makes it << calls) */
	uint64_t config_reloads;  /* the kubeconfig file changed and was read again */
	uint64_t events_dropped;  /* Events left out: queue full, or failed for good */
	uint32_t patches_pending; /* pods with a condition not yet in the API (or in flight) */
};

/*
 * Read the configuration (kubeconfig or in-cluster files) and start listing and watching on
 * <loop>. Configuration errors (no file, no current context, unsupported auth) come back here
 * as -errno with a message in <err> (may be NULL); connection errors later go to on_log and
 * are retried with back-off. Returns 0 and fills <ret>.
 */
int pp_kube_client_new(struct pp_loop *loop, const struct pp_kube_client_cfg *cfg,
		       struct pp_kube_client **ret, char *err, size_t err_size);

/* Stop everything (requests in flight are retired through the loop) and free. NULL is fine. */
void pp_kube_client_free(struct pp_kube_client *kc);

/*
 * Set condition <type> of pod <ns>/<name> (whose uid must be <uid>) to <status> with <reason>
 * and <message> (may be NULL), by a strategic-merge patch of pods/<name>/status. Coalesced:
 * only the latest wanted value per pod and type is sent, one patch per pod in flight, at most
 * one per patch_min_interval except a change to False; failures are retried with back-off until
 * the pod is gone (404, or another uid). Returns 0 or -ENOMEM (also past 8 condition types
 * on one pod); -EINVAL for a namespace or name that is not a DNS-1123 name, or no <type>.
 */
int pp_kube_set_condition(struct pp_kube_client *kc, const char *ns, const char *name,
			  const char *uid, const char *type, bool status, const char *reason,
			  const char *message);

/*
 * The API's object of pod <ns>/<name> no longer shows the condition <type> as it was last set
 * (a restarted API server that lost it, another writer): the next pp_kube_set_condition() of
 * it is sent even when its value did not change. Unknown pods and types are ignored.
 */
void pp_kube_condition_lost(struct pp_kube_client *kc, const char *ns, const char *name,
			    const char *type);

/*
 * Record an Event about pod <ns>/<name> (<uid>): <type> "Normal" or "Warning", <reason>,
 * <message>, source component "podprobe" (reportingComponent too) on host <node>. Events with the
 * same pod, reason and message within 10 minutes are aggregated into one (count,
 * lastTimestamp), as client-go's EventCorrelator does. Best effort; returns 0 or -ENOMEM (-EINVAL
 * as for pp_kube_set_condition()).
 */
int pp_kube_event(struct pp_kube_client *kc, const char *ns, const char *name, const char *uid,
		  const char *type, const char *reason, const char *message);

const struct pp_kube_client_stats *pp_kube_client_stats(const struct pp_kube_client *kc);

/*
 * Timers (added after the first version of this header). The loop keeps no timers (loop.c),
 * so, as with pp_api_server_next()/_run(): take pp_kube_client_next() — the earliest
 * back-off, patch interval or request deadline, PP_NSEC_INFINITY for none — into the loop's
 * deadline, and call pp_kube_client_run() after every pp_loop_run_once(). Both accept NULL.
 */
pp_nsec pp_kube_client_next(const struct pp_kube_client *kc);
void pp_kube_client_run(struct pp_kube_client *kc, pp_nsec now);

#endif
