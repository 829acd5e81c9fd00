/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's event store, pure: record events with kubelet's de-duplication, age them out,
 * and show them as Event objects, fieldSelector values and `kubectl get events` Table rows.
 */
#ifndef PODPROBE_EVENT_RING_H
#define PODPROBE_EVENT_RING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/api_obj.h"
#include "podprobe/event_ring-t.h"

/*
 * Prepare <r> for at most <cap> events (1..UINT32_MAX - 1), each dropped <max_age> after its
 * last record (PP_NSEC_INFINITY: never). Returns 0, -EINVAL for a bad <cap>, -ENOMEM.
 */
int pp_event_ring_init(struct pp_event_ring *r, size_t cap, pp_nsec max_age);

/* Free every event and the ring's arrays; NULL and a zeroed or finished ring are fine. */
void pp_event_ring_fini(struct pp_event_ring *r);

/*
 * Record <in> at <now> with the new resourceVersion <rv>, after dropping expired events.
 * An event whose namespace, pod, pod uid, field path, type, reason and (cut) message match a
 * kept one updates that one: count + 1, last = <now>, rv = <rv>, name and first kept, and it
 * becomes the newest (events_cache.go eventObserve; source is the same kubelet for all).
 * Otherwise a new event is added, evicting the least recently recorded one when full.
 * *<ret> points into the ring until the next record/expire/fini; *<ret_added> is true for a
 * new event. Returns 0; -EINVAL for a missing ns, pod, pod_uid, reason or message, a value
 * longer than its PP_EVENT_*_MAX, invalid UTF-8 outside the message, a bad type, or an <rv>
 * not above the previous one; -ENOMEM (the ring is then unchanged).
 * An event posted with its own <in>->name is always added (the poster aggregates, as
 * client-go's EventCorrelator does, and patches it by that name: pp_event_ring_bump());
 * -EEXIST when the namespace already has an event of that name.
 */
int pp_event_ring_record(struct pp_event_ring *r, const struct pp_event_in *in, pp_wall_ns now,
			 uint64_t rv, const struct pp_event **ret, bool *ret_added);

/*
 * Drop the events whose last record is more than max_age before <now> (the API server's
 * event TTL). Events outlive their pods, as the API's do. Returns how many went.
 */
size_t pp_event_ring_expire(struct pp_event_ring *r, pp_wall_ns now);

static inline size_t pp_event_ring_len(const struct pp_event_ring *r)
{
	return r->len;
}

/* The event named <name> in namespace <ns>, or NULL. O(n): for API requests only. */
const struct pp_event *pp_event_ring_find(const struct pp_event_ring *r, const char *ns,
					  const char *name);

/*
 * A repeat of <e> (from pp_event_ring_find() or a record): count = <count> (0: count + 1),
 * last = <now>, rv = <rv>, and <e> becomes the newest. Returns 0, or -EINVAL for an <rv> not
 * above the previous one.
 */
int pp_event_ring_bump(struct pp_event_ring *r, const struct pp_event *e, uint32_t count,
		       pp_wall_ns now, uint64_t rv);

/* The least recently recorded event (lowest rv), or NULL when empty. */
const struct pp_event *pp_event_ring_first(const struct pp_event_ring *r);

/* The event recorded after <e> (next higher rv), or NULL at the end. */
const struct pp_event *pp_event_ring_next(const struct pp_event_ring *r, const struct pp_event *e);

/*
 * The first event with rv > <rv>, or NULL: where a watch from <rv> resumes (walks back from
 * the newest, so it costs only the events after <rv>).
 */
const struct pp_event *pp_event_ring_after(const struct pp_event_ring *r, uint64_t rv);

/*
 * <e> as a core/v1 Event object with source {component kubelet, host <host>},
 * reportingComponent "kubelet", reportingInstance <host>, eventTime null. NULL on ENOMEM.
 */
json_t *pp_event_json(const struct pp_event *e, const char *host);

/* The fieldSelector fields of events, NULL-terminated (pkg/registry/core/event/strategy.go). */
extern const char *const pp_event_fields[];

/*
 * The value of fieldSelector field <field> for <e> ("" when empty), or NULL when the API
 * server does not support <field> for events (the caller answers 400
 * "field label not supported: <field>").
 */
const char *pp_event_field(const struct pp_event *e, const char *field);

/*
 * A `kubectl get events` Table of the <n> events <ev> at <now> (pkg/printers/internalversion
 * printers.go printEvent, all ten cells as with -o wide): rows in the given order, each with
 * the row object <inc> asks for; resourceVersion <rv>; columnDefinitions only <with_defs>.
 * NULL on ENOMEM.
 */
json_t *pp_event_table(const struct pp_event *const *ev, size_t n, uint64_t rv,
		       enum pp_include_object inc, bool with_defs, pp_wall_ns now,
		       const char *host);

#endif
