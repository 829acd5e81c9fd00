/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of the Kubernetes API client (user/io/kube_*.c): kubeconfig reading from a
 * parsed document (client-go tools/clientcmd), request paths, watch-line decoding
 * (apimachinery watch.Event), the condition patch and the Event objects, the Event
 * correlator's key, and the reflector's back-off. Objects are jansson values; the caller
 * owns what a function returns.
 */
#ifndef PODPROBE_KUBE_OBJ_H
#define PODPROBE_KUBE_OBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/time-t.h"

/* What a kubeconfig's current context (or the in-cluster files) says. Strings are owned. */
struct pp_kube_config {
	char *server;	  /* "https://host:port" as written */
	char host[256];	  /* its host, no brackets */
	int port;	  /* its port (443 when absent) */
	bool host_is_ip;  /* <host> is an IPv4 or IPv6 address */
	bool insecure;	  /* insecure-skip-tls-verify */
	char *ca_pem;	  /* certificate-authority-data, decoded, NUL-terminated; or NULL */
	char *ca_file;	  /* certificate-authority (a path, resolved), or NULL */
	char *token;	  /* user.token, or NULL */
	char *token_file; /* user.tokenFile (resolved), or NULL */
	char *cert_pem;	  /* client-certificate-data, decoded; or NULL */
	char *cert_file;  /* client-certificate (resolved), or NULL */
	char *key_pem;	  /* client-key-data, decoded; or NULL */
	char *key_file;	  /* client-key (resolved), or NULL */
	char *ns;	  /* the context's namespace, "default" when none */
	char *context;	  /* the context's name ("in-cluster" for the in-cluster files) */
};

/*
 * Read the current context of kubeconfig <doc> (YAML or JSON, already a jansson value) into
 * <ret>, as clientcmd's DirectClientConfig does: current-context names a context, whose
 * cluster gives server, certificate-authority(-data) and insecure-skip-tls-verify, and whose
 * user gives token, tokenFile, client-certificate(-data) and client-key(-data). Relative paths
 * are taken relative to <dir> (clientcmd ResolvePaths: the kubeconfig's directory). exec and
 * auth-provider users, and an http:// server, are refused (-ENOTSUP). Errors name <path> and
 * the field ("kubeconfig K: users[0].user.exec: exec plugins are not supported") in <err>.
 * Returns 0 (*<ret> filled; free with pp_kube_config_fini()), -EINVAL, -ENOTSUP or -ENOMEM.
 */
int pp_kube_config_parse(const json_t *doc, const char *path, const char *dir,
			 struct pp_kube_config *ret, char *err, size_t err_size);

/* Free what <c> holds and zero it; accepts a zeroed one. */
void pp_kube_config_fini(struct pp_kube_config *c);

/*
 * "https://host[:port][/]" into <host> (brackets of an IPv6 address removed), <port> and
 * <is_ip>. Returns 0, -ENOTSUP for another scheme, -EINVAL for a malformed one (a path other
 * than "/", a bad port), -ENAMETOOLONG when the host does not fit <host_size>.
 */
int pp_kube_server_parse(const char *server, char *host, size_t host_size, int *ret_port,
			 bool *ret_is_ip);

/* Standard base64 (padding optional, whitespace skipped) into a NUL-terminated buffer that
 * the caller frees. Returns the length, -EINVAL or -ENOMEM. */
int pp_kube_b64_decode(const char *in, char **ret);

/* Percent-encode <in> for a query value (everything but unreserved RFC 3986 characters);
 * returns the length or -ENOSPC. */
int pp_kube_query_escape(const char *in, char *buf, size_t size);

/*
 * The list request's path: /api/v1/pods?fieldSelector=spec.nodeName%3D<node>&limit=<limit>
 * [&continue=<token>]. Returns the length or -ENOSPC.
 */
int pp_kube_list_path(char *buf, size_t size, const char *node, unsigned int limit,
		      const char *cont);

/*
 * The watch request's path, as client-go's reflector sends it: fieldSelector, watch=1,
 * resourceVersion=<rv>, allowWatchBookmarks=true, timeoutSeconds=<timeout_s>.
 */
int pp_kube_watch_path(char *buf, size_t size, const char *node, const char *rv,
		       unsigned int timeout_s);

enum pp_kube_watch_type {
	PP_KUBE_WATCH_ADDED = 0,
	PP_KUBE_WATCH_MODIFIED,
	PP_KUBE_WATCH_DELETED,
	PP_KUBE_WATCH_BOOKMARK,
	PP_KUBE_WATCH_ERROR,
	_PP_KUBE_WATCH_MAX,
};

/* One decoded watch line. */
struct pp_kube_watch_ev {
	enum pp_kube_watch_type type;
	json_t *object; /* owned reference: the Pod, the bookmark's object or the Status */
	const char *rv; /* object.metadata.resourceVersion (inside <object>), or NULL */
	int code;	/* ERROR: the Status's code (410 for Gone), else 0 */
};

/*
 * Decode one line of a watch stream ({"type":T,"object":{...}}). Returns 0 with *<ret> (drop
 * ret->object with json_decref()), or -EBADMSG for a line that is not such an event (a
 * message in <err>, which may be NULL).
 */
int pp_kube_watch_decode(const char *line, size_t len, struct pp_kube_watch_ev *ret, char *err,
			 size_t err_size);

/*
 * The strategic-merge patch of pods/NAME/status setting one condition, with the pod's uid as
 * a precondition (kubelet's status manager puts the uid in its patches too:
 * pkg/util/pod/pod.go PatchPodStatus; the apiserver answers 409 Conflict when it differs):
 * {"metadata":{"uid":U},"status":{"conditions":[{"type":T,"status":"True"|"False",
 * "reason":R,"message":M,"lastProbeTime":null,"lastTransitionTime":<now>}]}}. <reason> and
 * <message> are left out when NULL; <uid> too when NULL or "". NULL on ENOMEM.
 */
json_t *pp_kube_condition_patch(const char *uid, const char *type, bool status, const char *reason,
				const char *message, pp_wall_ns now);

/* What an Event is about and says. */
struct pp_kube_event_info {
	const char *ns, *name, *uid; /* the Pod */
	const char *type;	     /* "Normal" or "Warning" */
	const char *reason, *message;
	const char *node; /* source.host, reportingInstance */
};

/*
 * A core/v1 Event as client-go's tools/record makes it (event.go makeEvent): metadata.name
 * "<pod>.<hex of <unique>>", involvedObject {kind Pod, namespace, name, uid, apiVersion v1},
 * reason, message, type, source {component podprobe, host}, reportingComponent "podprobe",
 * reportingInstance <node>, firstTimestamp = lastTimestamp = <now>, count 1. NULL on ENOMEM.
 */
json_t *pp_kube_event_new(const struct pp_kube_event_info *e, uint64_t unique, pp_wall_ns now);

/* The merge patch that aggregates an Event: {"count":N,"lastTimestamp":<now>}. */
json_t *pp_kube_event_count_patch(unsigned int count, pp_wall_ns now);

/*
 * The EventCorrelator's key of an Event (client-go tools/record events_cache.go getEventKey:
 * source, involved object, type, reason, message), as one string into <buf>. Returns the
 * length, -ENOSPC when it does not fit.
 */
int pp_kube_event_key(const struct pp_kube_event_info *e, char *buf, size_t size);

/*
 * The reflector's back-off (client-go reflector.go: wait.NewExponentialBackoffManager(800ms,
 * 30s, 2m, 2.0, 1.0)): each failure doubles the step from 800 ms up to 30 s, a wait of
 * step × (1 + jitter × <rnd>) is taken, and a step untouched for <reset> starts over.
 */
struct pp_kube_backoff {
	pp_nsec initial, max, reset; /* 0 = 800 ms, 30 s, 2 min */
	pp_nsec step;		     /* current step, 0 = none yet */
	pp_nsec last;		     /* when the step last moved */
};

/* The wait before the next attempt after a failure at <now>; <rnd> in [0, 1). */
pp_nsec pp_kube_backoff_next(struct pp_kube_backoff *b, pp_nsec now, double rnd);

/* A success at <now>: the step starts over once it has been stable for <reset>. */
void pp_kube_backoff_success(struct pp_kube_backoff *b, pp_nsec now);

#endif
