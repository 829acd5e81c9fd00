/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kubectl describe pod`, reduced, pure: a Pod object and its events to the text kubectl
 * prints, with the wall time and the local zone given by the caller.
 */
#ifndef PODPROBE_DESCRIBE_H
#define PODPROBE_DESCRIBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "podprobe/tabwriter.h"

/* What the text depends on besides the objects. */
struct pp_describe_env {
	int64_t now_ns; /* wall time (ns since the epoch) that ages count from */
	/* offset east of UTC, in seconds, of the local zone at <t> (s since the epoch); NULL: UTC
	 */
	long (*utc_offset)(int64_t t, void *ctx);
	void *ctx; /* for utc_offset */
};

/*
 * An RFC 3339 time ("2026-12-01T05:35:42Z", a fraction and a "+hh:mm" offset allowed) as ns
 * since the epoch into <ret_ns>. Returns false (<ret_ns> untouched) for anything else.
 */
bool pp_describe_parse_time(const char *s, int64_t *ret_ns);

/*
 * <t_ns> as Go's time.RFC1123Z in the zone <env> gives ("Tue, 01 Dec 2026 10:49:16 +0100"),
 * into <buf> (40 bytes are always enough). Returns the length, or -ENOSPC.
 */
int pp_describe_rfc1123z(int64_t t_ns, const struct pp_describe_env *env, char *buf, size_t size);

/*
 * Append pod <pod> (a Pod object) and its events <events> (an EventList, may be NULL) to
 * <out> as `kubectl describe pod` prints them (kubectl describe.go describePod, through
 * PP_TABWRITER_KUBECTL_DESCRIBE), reduced to: Name, Namespace, Priority, Priority Class Name,
 * Service Account, Node, Start Time, Labels, Annotations, Status (Terminating with a
 * deletionTimestamp), Reason, Message, IP, IPs, Init Containers and Containers (Container ID,
 * Image, Image ID, Port, Host Port, Command, Args, State, Last State, Ready, Restart Count,
 * Limits, Requests, probes, Environment, Mounts), Conditions, Volumes (names and emptyDir),
 * QoS Class, Node-Selectors, Tolerations and Events (sorted by lastTimestamp). Times are shown
 * in <env>'s zone, ages count from env->now_ns (<env> NULL: UTC, now 0). Returns 0, or -EINVAL when
 * <pod> is not an object, -ENOMEM.
 */
int pp_describe_pod(struct pp_strbuf *out, json_t *pod, json_t *events,
		    const struct pp_describe_env *env);

#endif
