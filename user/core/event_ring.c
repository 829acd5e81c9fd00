// SPDX-License-Identifier: Apache-2.0
/*
 * The API's events. A slab of <cap> slots threaded on one list in record order (the head is
 * the least recently recorded) and a chained hash of the de-duplication key, so a record is
 * O(1): look the key up, bump or add, move to the tail. This is the de-duplication half of
 * client-go's EventCorrelator (tools/record/events_cache.go eventLogger); the similar-event
 * aggregation ("(combined from similar events)") and the spam filter are not done.
 */
#include "podprobe/event_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/kubefmt.h"

#define NIL UINT32_MAX

struct pp_event_slot {
	struct pp_event ev; /* first: a const struct pp_event * is its slot */
	char *blob;	    /* every string of ev, NUL-separated; NULL for a free slot */
	uint64_t hash;	    /* of the de-duplication key */
	uint32_t prev;	    /* record-order list */
	uint32_t next;	    /* record-order list, or the free list */
	uint32_t hnext;	    /* hash chain */
};

/* ---- UTF-8 ------------------------------------------------------------------------------ */

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = pp_utf8_seq_len(p);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

/*
 * <in> into <out> (PP_EVENT_MESSAGE_MAX + 1 bytes) as valid UTF-8: each byte that starts no
 * valid sequence becomes U+FFFD, as Go's encoding/json writes it; past PP_EVENT_MESSAGE_MAX
 * bytes it is cut on a character boundary and ends in " ..." (the scheduler's truncateMessage,
 * pkg/scheduler/schedule_one.go).
 */
static void message_clean(const char *in, char *out)
{
	static const char suffix[] = " ...";
	const size_t keep = PP_EVENT_MESSAGE_MAX - (sizeof(suffix) - 1);
	const unsigned char *p = (const unsigned char *)in;
	size_t len = 0, cut = 0;

	while (*p) {
		size_t n = pp_utf8_seq_len(p);
		const char *c = (const char *)p;
		size_t w = n;

		if (!n) {
			c = "\xef\xbf\xbd";
			w = 3;
			n = 1;
		}
		if (len + w > PP_EVENT_MESSAGE_MAX) {
			memcpy(out + cut, suffix, sizeof(suffix));
			return;
		}
		memcpy(out + len, c, w);
		len += w;
		if (len <= keep)
			cut = len;
		p += n;
	}
	out[len] = '\0';
}

/* ---- the key ---------------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull; /* a field separator no UTF-8 string holds */
}

static uint64_t key_hash(const struct pp_event_in *in, const char *msg)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv1a(h, in->ns);
	h = fnv1a(h, in->pod);
	h = fnv1a(h, in->pod_uid);
	h = fnv1a(h, in->field_path ? in->field_path : "");
	h = fnv1a(h, in->reason);
	h = fnv1a(h, msg);
	return h ^ (uint64_t)in->type;
}

static bool key_equal(const struct pp_event *e, const struct pp_event_in *in, const char *msg)
{
	return e->type == in->type && !strcmp(e->reason, in->reason) && !strcmp(e->pod, in->pod) &&
	       !strcmp(e->pod_uid, in->pod_uid) && !strcmp(e->ns, in->ns) &&
	       !strcmp(e->field_path, in->field_path ? in->field_path : "") &&
	       !strcmp(e->message, msg) &&
	       !strcmp(e->component, in->component ? in->component : "");
}

/* ---- lists ------------------------------------------------------------------------------ */

static struct pp_event_slot *slot(const struct pp_event_ring *r, uint32_t i)
{
	return &r->slots[i];
}

static uint32_t slot_index(const struct pp_event_ring *r, const struct pp_event *e)
{
	return (uint32_t)((const struct pp_event_slot *)e - r->slots);
}

static void list_unlink(struct pp_event_ring *r, uint32_t i)
{
	struct pp_event_slot *s = slot(r, i);

	if (s->prev != NIL)
		slot(r, s->prev)->next = s->next;
	else
		r->head = s->next;
	if (s->next != NIL)
		slot(r, s->next)->prev = s->prev;
	else
		r->tail = s->prev;
}

static void list_push_tail(struct pp_event_ring *r, uint32_t i)
{
	struct pp_event_slot *s = slot(r, i);

	s->prev = r->tail;
	s->next = NIL;
	if (r->tail != NIL)
		slot(r, r->tail)->next = i;
	else
		r->head = i;
	r->tail = i;
}

static uint32_t *bucket_of(const struct pp_event_ring *r, uint64_t hash)
{
	return &r->buckets[hash & (r->n_buckets - 1)];
}

static void hash_remove(struct pp_event_ring *r, uint32_t i)
{
	uint32_t *p = bucket_of(r, slot(r, i)->hash);

	while (*p != i)
		p = &slot(r, *p)->hnext;
	*p = slot(r, i)->hnext;
}

static void drop(struct pp_event_ring *r, uint32_t i)
{
	struct pp_event_slot *s = slot(r, i);

	list_unlink(r, i);
	hash_remove(r, i);
	free(s->blob);
	memset(s, 0, sizeof(*s));
	s->next = r->free;
	r->free = i;
	r->len--;
}

/* ---- the ring --------------------------------------------------------------------------- */

int pp_event_ring_init(struct pp_event_ring *r, size_t cap, pp_nsec max_age)
{
	size_t nb = 16;

	memset(r, 0, sizeof(*r));
	r->head = r->tail = r->free = NIL;
	if (!cap || cap >= NIL)
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	r->slots = calloc(cap, sizeof(*r->slots));
	r->buckets = malloc(nb * sizeof(*r->buckets));
	if (!r->slots || !r->buckets) {
		pp_event_ring_fini(r);
		return -ENOMEM;
	}
	memset(r->buckets, 0xff, nb * sizeof(*r->buckets)); /* every chain NIL */
	for (size_t i = cap; i-- > 0;) {
		r->slots[i].next = r->free;
		r->free = (uint32_t)i;
	}
	r->cap = cap;
	r->n_buckets = nb;
	r->max_age = max_age;
	r->next_seq = 1;
	return 0;
}

void pp_event_ring_fini(struct pp_event_ring *r)
{
	if (!r)
		return;
	if (r->slots)
		for (uint32_t i = r->head; i != NIL; i = r->slots[i].next)
			free(r->slots[i].blob);
	free(r->slots);
	free(r->buckets);
	memset(r, 0, sizeof(*r));
	r->head = r->tail = r->free = NIL;
}

static bool expired(const struct pp_event_ring *r, const struct pp_event *e, pp_wall_ns now)
{
	if (r->max_age > INT64_MAX || now <= e->last)
		return false;
	return (uint64_t)now - (uint64_t)e->last > r->max_age;
}

size_t pp_event_ring_expire(struct pp_event_ring *r, pp_wall_ns now)
{
	size_t n = 0;

	/* The head is the oldest last record, so expiry stops at the first one kept. */
	while (r->head != NIL && expired(r, &slot(r, r->head)->ev, now)) {
		drop(r, r->head);
		n++;
	}
	return n;
}

static bool field_ok(const char *s, size_t max, bool required)
{
	if (!s)
		return !required;
	if (required && !*s)
		return false;
	return strnlen(s, max + 1) <= max && utf8_valid(s);
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fill a new event's strings into one block. Returns 0 or -ENOMEM. */
static int event_fill(struct pp_event_slot *s, const struct pp_event_in *in, const char *msg,
		      pp_wall_ns name_ns, uint64_t seq)
{
	const char *fp = in->field_path ? in->field_path : "";
	char name[PP_EVENT_POD_MAX + 2 + 16 + 1], uid[37];
	const char *src[10];
	const char **dst[10] = {&s->ev.name,	  &s->ev.uid,	     &s->ev.ns,	    &s->ev.pod,
				&s->ev.pod_uid,	  &s->ev.field_path, &s->ev.reason, &s->ev.message,
				&s->ev.component, &s->ev.host};
	uint64_t a = splitmix64((uint64_t)name_ns), b = splitmix64(seq ^ a);
	size_t total = 0, off = 0;
	char *blob;

	/* kubelet names events "%v.%x" of the object's name and UnixNano (events_cache.go). */
	if (in->name)
		snprintf(name, sizeof(name), "%s", in->name);
	else
		snprintf(name, sizeof(name), "%s.%llx", in->pod, (unsigned long long)name_ns);
	/* A UUID-shaped uid (version 4, RFC 4122 variant) unique per name time and sequence. */
	snprintf(uid, sizeof(uid), "%08llx-%04llx-4%03llx-%04llx-%012llx",
		 (unsigned long long)(a >> 32), (unsigned long long)((a >> 16) & 0xffff),
		 (unsigned long long)(a & 0xfff), (unsigned long long)(0x8000 | (b >> 50)),
		 (unsigned long long)(b & 0xffffffffffffull));
	src[0] = name;
	src[1] = uid;
	src[2] = in->ns;
	src[3] = in->pod;
	src[4] = in->pod_uid;
	src[5] = fp;
	src[6] = in->reason;
	src[7] = msg;
	src[8] = in->component ? in->component : "";
	src[9] = in->host ? in->host : "";
	for (size_t i = 0; i < 10; i++)
		total += strlen(src[i]) + 1;
	blob = malloc(total);
	if (!blob)
		return -ENOMEM;
	for (size_t i = 0; i < 10; i++) {
		size_t n = strlen(src[i]) + 1;

		memcpy(blob + off, src[i], n);
		*dst[i] = blob + off;
		off += n;
	}
	s->blob = blob;
	return 0;
}

int pp_event_ring_record(struct pp_event_ring *r, const struct pp_event_in *in, pp_wall_ns now,
			 uint64_t rv, const struct pp_event **ret, bool *ret_added)
{
	char msg[PP_EVENT_MESSAGE_MAX + 1];
	struct pp_event_slot *s;
	pp_wall_ns name_ns;
	uint64_t h;
	uint32_t i;
	int err;

	if (!field_ok(in->ns, PP_EVENT_NS_MAX, true) ||
	    !field_ok(in->pod, PP_EVENT_POD_MAX, true) ||
	    !field_ok(in->pod_uid, PP_EVENT_UID_MAX, true) ||
	    !field_ok(in->field_path, PP_EVENT_FIELD_PATH_MAX, false) ||
	    !field_ok(in->reason, PP_EVENT_REASON_MAX, true) || !in->message ||
	    !field_ok(in->name, PP_EVENT_POD_MAX, false) ||
	    !field_ok(in->component, PP_EVENT_REASON_MAX, false) ||
	    !field_ok(in->host, PP_EVENT_POD_MAX, false) ||
	    (unsigned int)in->type >= _PP_EVENT_MAX || rv <= r->last_rv)
		return -EINVAL;
	message_clean(in->message, msg);
	pp_event_ring_expire(r, now);
	if (in->name && pp_event_ring_find(r, in->ns, in->name))
		return -EEXIST;

	h = key_hash(in, msg);
	/* A posted event is its poster's to aggregate: never folded into another. */
	for (i = in->name ? NIL : *bucket_of(r, h); i != NIL; i = slot(r, i)->hnext) {
		s = slot(r, i);
		if (s->hash == h && key_equal(&s->ev, in, msg))
			break;
	}
	if (i != NIL) {
		s->ev.count++;
		s->ev.last = now;
		s->ev.rv = rv;
		list_unlink(r, i);
		list_push_tail(r, i);
		r->last_rv = rv;
		*ret = &s->ev;
		*ret_added = false;
		return 0;
	}

	/* Names carry a time that only grows, so two events of a pod in one ns stay apart. */
	name_ns = now > r->last_name_ns ? now : r->last_name_ns + 1;
	if (r->free == NIL) {
		/* Fill the new event before evicting so ENOMEM leaves the ring as it was. */
		struct pp_event_slot tmp = {0};

		err = event_fill(&tmp, in, msg, name_ns, r->next_seq);
		if (err < 0)
			return err;
		drop(r, r->head);
		i = r->free;
		s = slot(r, i);
		r->free = s->next;
		*s = tmp;
	} else {
		i = r->free;
		s = slot(r, i);
		err = event_fill(s, in, msg, name_ns, r->next_seq);
		if (err < 0)
			return err;
		r->free = s->next;
	}
	s->ev.rv = rv;
	s->ev.seq = r->next_seq++;
	s->ev.first = in->first && in->first < now ? in->first : now;
	s->ev.last = now;
	s->ev.count = in->count ? in->count : 1;
	s->ev.type = in->type;
	s->hash = h;
	s->hnext = *bucket_of(r, h);
	*bucket_of(r, h) = i;
	list_push_tail(r, i);
	r->len++;
	r->last_rv = rv;
	r->last_name_ns = name_ns;
	*ret = &s->ev;
	*ret_added = true;
	return 0;
}

const struct pp_event *pp_event_ring_find(const struct pp_event_ring *r, const char *ns,
					  const char *name)
{
	for (uint32_t i = r->head; i != NIL; i = slot(r, i)->next) {
		const struct pp_event *e = &slot(r, i)->ev;

		if (!strcmp(e->name, name) && !strcmp(e->ns, ns))
			return e;
	}
	return NULL;
}

int pp_event_ring_bump(struct pp_event_ring *r, const struct pp_event *e, uint32_t count,
		       pp_wall_ns now, uint64_t rv)
{
	uint32_t i = slot_index(r, e);
	struct pp_event_slot *s = slot(r, i);

	if (rv <= r->last_rv)
		return -EINVAL;
	s->ev.count = count ? count : s->ev.count + 1;
	if (now > s->ev.last)
		s->ev.last = now;
	s->ev.rv = rv;
	list_unlink(r, i);
	list_push_tail(r, i);
	r->last_rv = rv;
	return 0;
}

const struct pp_event *pp_event_ring_first(const struct pp_event_ring *r)
{
	return r->head == NIL ? NULL : &slot(r, r->head)->ev;
}

const struct pp_event *pp_event_ring_next(const struct pp_event_ring *r, const struct pp_event *e)
{
	uint32_t n = slot(r, slot_index(r, e))->next;

	return n == NIL ? NULL : &slot(r, n)->ev;
}

const struct pp_event *pp_event_ring_after(const struct pp_event_ring *r, uint64_t rv)
{
	uint32_t i = r->tail, found = NIL;

	for (; i != NIL && slot(r, i)->ev.rv > rv; i = slot(r, i)->prev)
		found = i;
	return found == NIL ? NULL : &slot(r, found)->ev;
}

/* ---- API views -------------------------------------------------------------------------- */

static const char *const type_names[_PP_EVENT_MAX] = {
	[PP_EVENT_NORMAL] = "Normal",
	[PP_EVENT_WARNING] = "Warning",
};

json_t *pp_event_json(const struct pp_event *e, const char *host)
{
	char rv[24];
	json_t *io;

	const char *comp = *e->component ? e->component : "kubelet";

	if (*e->host)
		host = e->host;
	if (!host)
		host = "";
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)e->rv);
	io = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace", e->ns, "name",
		       e->pod, "uid", e->pod_uid, "apiVersion", "v1");
	/* fieldPath is omitempty in ObjectReference. */
	if (!io || (*e->field_path &&
		    json_object_set_new(io, "fieldPath", json_string(e->field_path)) < 0)) {
		json_decref(io);
		return NULL;
	}
	return json_pack(
		"{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o?}, s:o, s:s, s:s, s:s, s:{s:s, s:s},"
		" s:o?, s:o?, s:I, s:n, s:s, s:s}",
		"kind", "Event", "apiVersion", "v1", "metadata", "name", e->name, "namespace",
		e->ns, "uid", e->uid, "resourceVersion", rv, "creationTimestamp",
		pp_api_time_json(e->first), "involvedObject", io, "reason", e->reason, "message",
		e->message, "type", type_names[e->type], "source", "component", comp, "host", host,
		"firstTimestamp", pp_api_time_json(e->first), "lastTimestamp",
		pp_api_time_json(e->last), "count", (json_int_t)e->count, "eventTime",
		"reportingComponent", comp, "reportingInstance", host);
}

const char *const pp_event_fields[] = {
	"involvedObject.kind",
	"involvedObject.namespace",
	"involvedObject.name",
	"involvedObject.uid",
	"involvedObject.apiVersion",
	"involvedObject.resourceVersion",
	"involvedObject.fieldPath",
	"reason",
	"reportingComponent",
	"source",
	"type",
	"metadata.name",
	"metadata.namespace",
	NULL,
};

const char *pp_event_field(const struct pp_event *e, const char *field)
{
	/* ToSelectableFields in pkg/registry/core/event/strategy.go; index = pp_event_fields. */
	const char *comp = *e->component ? e->component : "kubelet";
	const char *v[] = {
		"Pod",	   e->ns, e->pod, e->pod_uid,	       "v1",	"",    e->field_path,
		e->reason, comp,  comp,	  type_names[e->type], e->name, e->ns,
	};

	for (size_t i = 0; pp_event_fields[i]; i++)
		if (!strcmp(field, pp_event_fields[i]))
			return v[i];
	return NULL;
}

/* Go's unicode.IsSpace for one UTF-8 sequence at <s> of length <n>. */
static bool is_space(const char *s, size_t n)
{
	static const char *const wide[] = {
		"\xc2\x85",	"\xc2\xa0",	"\xe1\x9a\x80", "\xe2\x80\xa8",
		"\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
	};
	const unsigned char *u = (const unsigned char *)s;

	if (n == 1)
		return *s == ' ' || (*s >= '\t' && *s <= '\r');
	if (n == 3 && u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x80 && u[2] <= 0x8a)
		return true; /* U+2000..U+200A */
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (strlen(wide[i]) == n && !memcmp(s, wide[i], n))
			return true;
	return false;
}

/* strings.TrimSpace of the (valid UTF-8) <s>. */
static json_t *trimmed(const char *s)
{
	size_t len = strlen(s), start = 0, end = 0, i = 0;
	bool seen = false;

	while (i < len) {
		size_t n = pp_utf8_seq_len((const unsigned char *)s + i);

		if (!n)
			n = 1;
		if (!is_space(s + i, n)) {
			if (!seen)
				start = i;
			seen = true;
			end = i + n;
		}
		i += n;
	}
	return json_stringn(s + start, seen ? end - start : 0);
}

/* translateTimestampSince: HumanDuration(now - t), "<unknown>" when unset. */
static json_t *since(pp_wall_ns t, pp_wall_ns now)
{
	char buf[32];

	if (!t)
		return json_string("<unknown>");
	if (t > now) /* HumanDuration: under -1s "<invalid>", else "0s" */
		return json_string((uint64_t)t - (uint64_t)now > PP_NSEC_PER_SEC ? "<invalid>"
										 : "0s");
	pp_fmt_human_duration((uint64_t)now - (uint64_t)t, buf, sizeof(buf));
	return json_string(buf);
}

static const struct pp_table_col event_cols[] = {
	{"Last Seen", "string", "",
	 "The time at which the most recent occurrence of this event was recorded.", 0},
	{"Type", "string", "",
	 "Type of this event (Normal, Warning), new types could be added in the future", 0},
	{"Reason", "string", "",
	 "This should be a short, machine understandable string that gives the reason for the "
	 "transition into the object's current status.",
	 0},
	{"Object", "string", "", "The object that this event is about.", 0},
	{"Subobject", "string", "",
	 "If referring to a piece of an object instead of an entire object, this string should "
	 "contain a valid JSON/Go field access statement, such as "
	 "desiredState.manifest.containers[2].",
	 1},
	{"Source", "string", "",
	 "The component reporting this event. Should be a short machine understandable string.", 1},
	{"Message", "string", "", "A human-readable description of the status of this operation.",
	 0},
	{"First Seen", "string", "",
	 "The time at which the event was first recorded. (Time of server receipt is in "
	 "TypeMeta.)",
	 1},
	{"Count", "string", "", "The number of times this event has occurred.", 1},
	{"Name", "string", "name",
	 "Name must be unique within a namespace. Is required when creating resources, although "
	 "some resources may allow a client to request the generation of an appropriate name "
	 "automatically. Name is primarily intended for creation idempotence and configuration "
	 "definition. Cannot be updated.",
	 1},
};

static int table_row(json_t *t, const struct pp_event *e, enum pp_include_object inc,
		     pp_wall_ns now, const char *host)
{
	char object[8 + PP_EVENT_POD_MAX], source[PP_EVENT_REASON_MAX + 4 + PP_EVENT_POD_MAX];
	const char *comp = *e->component ? e->component : "kubelet";
	json_t *cells, *obj = NULL, *full;

	/* printEvent: "<lower(kind)>/<name>"; formatEventSource: "component, host". */
	snprintf(object, sizeof(object), "pod/%s", e->pod);
	if (*e->host)
		host = e->host;
	if (host && *host)
		snprintf(source, sizeof(source), "%s, %s", comp, host);
	else
		snprintf(source, sizeof(source), "%s", comp);
	cells = json_pack("[o?, s, s, s, s, s, o?, o?, I, s]",
			  since(e->last ? e->last : e->first, now), type_names[e->type], e->reason,
			  object, e->field_path, source, trimmed(e->message), since(e->first, now),
			  (json_int_t)(e->count ? e->count : 1), e->name);
	if (!cells)
		return -ENOMEM;
	if (inc != PP_INCLUDE_NONE) {
		full = pp_event_json(e, host);
		if (!full) {
			json_decref(cells);
			return -ENOMEM;
		}
		obj = pp_table_row_object(full, inc);
		json_decref(full);
		if (!obj) {
			json_decref(cells);
			return -ENOMEM;
		}
	}
	return pp_table_add_row(t, cells, obj);
}

json_t *pp_event_table(const struct pp_event *const *ev, size_t n, uint64_t rv,
		       enum pp_include_object inc, bool with_defs, pp_wall_ns now, const char *host)
{
	json_t *t =
		pp_table_new(event_cols, sizeof(event_cols) / sizeof(event_cols[0]), rv, with_defs);

	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (table_row(t, ev[i], inc, now, host) < 0) {
			json_decref(t);
			return NULL;
		}
	return t;
}
