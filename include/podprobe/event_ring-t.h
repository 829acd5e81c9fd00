/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Types of the API's event store: Kubernetes Event objects (core/v1) about pods, kept in a
 * bounded ring with kubelet's recorder de-duplication (client-go tools/record/events_cache.go,
 * eventLogger.eventObserve: a repeat of a kept event bumps its count and lastTimestamp instead
 * of adding one).
 */
#ifndef PODPROBE_EVENT_RING_T_H
#define PODPROBE_EVENT_RING_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/lifecycle-t.h"
#include "podprobe/time-t.h"

/* Input limits: longer values are refused, except the message, which is cut. */
#define PP_EVENT_NS_MAX		63   /* a namespace is a DNS label */
#define PP_EVENT_POD_MAX	253  /* a pod name is a DNS subdomain */
#define PP_EVENT_UID_MAX	36   /* a UUID */
#define PP_EVENT_FIELD_PATH_MAX 128  /* "spec.initContainers{" + a DNS label + "}" fits */
#define PP_EVENT_REASON_MAX	128  /* pkg/apis/core/validation/events.go ReasonLengthLimit */
#define PP_EVENT_MESSAGE_MAX	1024 /* the same file's NoteLengthLimit */

/* What happened, as the lifecycle reports it; all strings are borrowed for the call. */
struct pp_event_in {
	const char *ns;		/* involvedObject.namespace */
	const char *pod;	/* involvedObject.name */
	const char *pod_uid;	/* involvedObject.uid: describe filters on it, so required */
	const char *field_path; /* "spec.containers{web}", "spec.initContainers{init}", or NULL */
	const char *reason;	/* "Started", "Unhealthy"... */
	const char *message;	/* any bytes; cut to PP_EVENT_MESSAGE_MAX, invalid UTF-8 replaced */
	enum pp_event_type type;
	/* Events other components post through the API (a `podprobe watch`); NULL for kubelet's. */
	const char *name;      /* metadata.name as the poster chose it (NULL = "<pod>.<hex>") */
	const char *component; /* source.component and reportingComponent (NULL = "kubelet") */
	const char *host;      /* source.host and reportingInstance (NULL = this node) */
	pp_wall_ns first;      /* firstTimestamp when the poster gave one (0 = now) */
	uint32_t count;	       /* count when the poster gave one (0 = 1) */
};

/* One kept Event. The strings live in one block the ring owns; "" when unset. */
struct pp_event {
	uint64_t rv;		 /* metadata.resourceVersion: the rv of its last record */
	uint64_t seq;		 /* creation order, from 1, never reused */
	pp_wall_ns first;	 /* firstTimestamp (and creationTimestamp) */
	pp_wall_ns last;	 /* lastTimestamp */
	uint32_t count;		 /* count: occurrences folded into this Event */
	enum pp_event_type type; /* type: Normal / Warning */
	const char *name;	 /* metadata.name "<pod>.<hex ns>", unique in the ring */
	const char *uid;	 /* metadata.uid, UUID-shaped, unique in the ring */
	const char *ns;
	const char *pod;
	const char *pod_uid;
	const char *field_path;
	const char *reason;
	const char *message;
	const char *component; /* "" = kubelet */
	const char *host;      /* "" = this node */
};

struct pp_event_slot; /* private to event_ring.c */

/*
 * The ring: at most <cap> events, ordered by their last record (oldest first), so eviction
 * and expiry both take from the head and a list is in resourceVersion order.
 */
struct pp_event_ring {
	struct pp_event_slot *slots; /* cap of them */
	uint32_t *buckets;	     /* dedup hash: slot index chains, n_buckets (a power of 2) */
	size_t cap;
	size_t n_buckets;
	size_t len;
	uint32_t head; /* least recently recorded, or UINT32_MAX */
	uint32_t tail; /* most recently recorded, or UINT32_MAX */
	uint32_t free; /* free slot list, or UINT32_MAX */
	pp_nsec max_age;
	uint64_t next_seq;
	uint64_t last_rv;	 /* the rv of the newest record; rvs must grow */
	pp_wall_ns last_name_ns; /* the time in the newest name, kept increasing for uniqueness */
};

#endif
