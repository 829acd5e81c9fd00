// SPDX-License-Identifier: Apache-2.0
/*
 * The pod as the Kubernetes API shows it. One intermediate status (struct status) is built
 * from the lifecycle controller's state the way kubelet turns the runtime's view into a
 * v1.PodStatus (pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses, prober_manager.go
 * UpdatePodStatus, status/generate.go); the Pod JSON and the `kubectl get pods` cells
 * (pkg/printers/internalversion/printers.go printPod) both read it, so they cannot disagree.
 */
#include "podprobe/pod_status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"

static const char *const cond_names[_PP_COND_MAX] = {
	[PP_COND_READY_TO_START] = "PodReadyToStartContainers",
	[PP_COND_INITIALIZED] = "Initialized",
	[PP_COND_READY] = "Ready",
	[PP_COND_CONTAINERS_READY] = "ContainersReady",
	[PP_COND_SCHEDULED] = "PodScheduled",
};

static const char *const restart_policy_names[_PP_RESTART_MAX] = {
	[PP_RESTART_ALWAYS] = "Always",
	[PP_RESTART_ON_FAILURE] = "OnFailure",
	[PP_RESTART_NEVER] = "Never",
};

const char *pp_pod_cond_str(enum pp_pod_cond c)
{
	return c < _PP_COND_MAX ? cond_names[c] : "";
}

/* ---- the intermediate status -------------------------------------------------------------- */

/* A terminated state (state.terminated or lastState.terminated). */
struct term {
	int exit_code;
	int signal;
	const char *reason;
	const char *message;
	pp_wall_ns started_at;
	pp_wall_ns finished_at;
	uint32_t no; /* which container of the runtime it was (1-based), for its containerID */
};

/* One v1.ContainerStatus. */
struct cont {
	const struct pp_container_spec *spec;
	uint32_t index; /* as pp_pod_container() */
	bool sidecar;
	enum pp_cstate state;
	const char *reason; /* waiting */
	const char *message;
	pp_wall_ns started_at; /* running */
	struct term term;      /* terminated */
	bool has_last;
	struct term last; /* lastState.terminated */
	bool ready;
	bool started;
	uint32_t restart_count;
	uint32_t no; /* the runtime's newest container, 0 = none yet: no containerID */
};

struct cond {
	bool status;
	const char *reason; /* static, or NULL */
	char message[1024];
};

struct status {
	const struct pp_pod_view *v;
	enum pp_phase phase;
	const char *reason; /* status.reason, or "" */
	const char *message;
	pp_wall_ns start_time;
	bool deleting;
	pp_wall_ns deletion;
	int64_t deletion_grace_s;
	size_t n_init, n_main, n_gates, gates_true;
	struct cont *init; /* spec order (kubelet's SortStatusesOfInitContainers) */
	struct cont *main; /* by name (kubelet's SortedContainerStatuses) */
	struct cond cond[_PP_COND_MAX];
};

static pp_wall_ns wall(const struct pp_pod_view *v, pp_nsec t)
{
	if (!t)
		return 0;
	return (pp_wall_ns)((int64_t)t - (int64_t)v->mono_now) + v->wall_now;
}

static const json_t *object_spec(const struct pp_pod_view *v)
{
	return v->object ? json_object_get((const json_t *)v->object, "spec") : NULL;
}

static void fill_term(struct term *t, const struct pp_pod_view *v, const struct pp_term_state *s,
		      uint32_t no)
{
	t->exit_code = s->exit_code;
	t->signal = s->signal;
	t->reason = s->reason;
	t->message = s->message;
	t->started_at = wall(v, s->started_at);
	t->finished_at = wall(v, s->finished_at);
	t->no = no;
}

static void fill_cont(struct cont *k, const struct pp_pod_view *v, uint32_t i)
{
	const struct pp_pod_state *st = v->st;
	const struct pp_container_state *c = &st->c[i];
	bool init = i < st->spec->n_init_containers;
	/* Every created container leaves a termination; a live one has not left its own yet. */
	uint32_t term_no = c->alive && c->created ? c->created - 1 : c->created;

	memset(k, 0, sizeof(*k));
	k->spec = pp_pod_container(st->spec, i);
	k->index = i;
	k->sidecar = init && k->spec->sidecar;
	k->state = c->state;
	k->reason = c->reason;
	k->message = c->message;
	k->no = c->created;
	if (c->state == PP_CSTATE_RUNNING)
		k->started_at = wall(v, c->started_at);
	if (c->state == PP_CSTATE_TERMINATED) {
		fill_term(&k->term, v, &c->term, term_no);
		if (c->has_last) {
			k->has_last = true;
			fill_term(&k->last, v, &c->last, term_no ? term_no - 1 : 0);
		}
	} else if (c->has_term) {
		k->has_last = true;
		fill_term(&k->last, v, &c->term, term_no);
	}
	k->ready = c->ready;
	/* UpdatePodStatus: a running init container without startup probe has started. */
	k->started = init && !k->sidecar ? c->state == PP_CSTATE_RUNNING : c->started;
	k->restart_count = c->restart_count;
}

static void sort_by_name(struct cont *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct cont x = v[i];
		size_t j;

		for (j = i; j > 0 && strcmp(v[j - 1].spec->name, x.spec->name) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Append <name> to "[a b" style <list> of <size>. */
static void list_add(char *list, size_t size, const char *name)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len > 1 ? " " : "", name);
}

static void set_cond(struct cond *c, bool status, const char *reason, const char *prefix,
		     const char *list)
{
	c->status = status;
	c->reason = reason;
	c->message[0] = '\0';
	if (prefix)
		snprintf(c->message, sizeof(c->message), "%s%s]", prefix, list);
}

/* The status of the condition of <type> that others set (pods/status), or NULL. */
static const char *ext_cond_status(const struct pp_pod_view *v, const char *type)
{
	size_t i;
	json_t *c;

	if (!type)
		return NULL;
	json_array_foreach((json_t *)v->ext_conditions, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));

		if (t && !strcmp(t, type))
			return json_string_value(json_object_get(c, "status"));
	}
	return NULL;
}

/* status/generate.go, for the phase and container statuses of <s>. */
static void compute_conds(struct status *s)
{
	const struct pp_pod_state *st = s->v->st;
	char incomplete[900] = "[", unready[900] = "[", gates[900] = "";
	bool any_incomplete = false, any_unready = false, regular_started = false;
	const json_t *rg = json_object_get(object_spec(s->v), "readinessGates");
	size_t i;

	for (i = 0; i < s->n_init; i++) {
		const struct cont *k = &s->init[i];

		/* isInitContainerInitialized */
		if (k->sidecar ? !k->started : !k->ready) {
			list_add(incomplete, sizeof(incomplete), k->spec->name);
			any_incomplete = true;
		}
	}
	/* GenerateContainersReadyCondition walks the spec: sidecars, then the containers. */
	for (i = 0; i < s->n_init; i++)
		if (s->init[i].sidecar && !s->init[i].ready) {
			list_add(unready, sizeof(unready), s->init[i].spec->name);
			any_unready = true;
		}
	for (i = st->spec->n_init_containers; i < st->n; i++) {
		const struct pp_container_state *c = &st->c[i];

		if (!c->ready) {
			list_add(unready, sizeof(unready), pp_pod_container(st->spec, i)->name);
			any_unready = true;
		}
		/* HasAnyRegularContainerStarted: running or terminated */
		regular_started |= c->state != PP_CSTATE_WAITING;
	}

	/* The sandbox comes after the volumes (kubelet's SyncPod): not ready while they wait. */
	set_cond(&s->cond[PP_COND_READY_TO_START],
		 st->start_time && !st->terminal &&
			 (!st->cfg || !st->cfg->wait_for_volumes || st->volumes_ready),
		 NULL, NULL, NULL);
	if (s->phase == PP_PHASE_SUCCEEDED)
		set_cond(&s->cond[PP_COND_INITIALIZED], true, "PodCompleted", NULL, NULL);
	else if (regular_started || !any_incomplete)
		set_cond(&s->cond[PP_COND_INITIALIZED], true, NULL, NULL, NULL);
	else
		set_cond(&s->cond[PP_COND_INITIALIZED], false, "ContainersNotInitialized",
			 "containers with incomplete status: ", incomplete);

	if (s->phase == PP_PHASE_SUCCEEDED)
		set_cond(&s->cond[PP_COND_CONTAINERS_READY], false, "PodCompleted", NULL, NULL);
	else if (s->phase == PP_PHASE_FAILED)
		set_cond(&s->cond[PP_COND_CONTAINERS_READY], false, "PodFailed", NULL, NULL);
	else if (any_unready)
		set_cond(&s->cond[PP_COND_CONTAINERS_READY], false, "ContainersNotReady",
			 "containers with unready status: ", unready);
	else
		set_cond(&s->cond[PP_COND_CONTAINERS_READY], true, NULL, NULL, NULL);

	/*
	 * GeneratePodReadyCondition: ContainersReady first, then every readiness gate's condition
	 * (set by others through pods/status) must be True.
	 */
	s->gates_true = 0;
	for (i = 0; i < s->n_gates; i++) {
		const char *type =
			json_string_value(json_object_get(json_array_get(rg, i), "conditionType"));
		const char *status = ext_cond_status(s->v, type);
		size_t len = strlen(gates);

		if (status && !strcmp(status, "True")) {
			s->gates_true++;
			continue;
		}
		if (!status)
			snprintf(gates + len, sizeof(gates) - len,
				 "%scorresponding condition of pod readiness gate \"%s\" does not "
				 "exist.",
				 len ? ", " : "", type ? type : "");
		else
			snprintf(gates + len, sizeof(gates) - len,
				 "%sthe status of pod readiness gate \"%s\" is not \"True\", but "
				 "%s.",
				 len ? ", " : "", type ? type : "", status);
	}
	if (!s->cond[PP_COND_CONTAINERS_READY].status) {
		s->cond[PP_COND_READY] = s->cond[PP_COND_CONTAINERS_READY];
	} else if (s->gates_true < s->n_gates) {
		set_cond(&s->cond[PP_COND_READY], false, "ReadinessGatesNotReady", NULL, NULL);
		snprintf(s->cond[PP_COND_READY].message, sizeof(s->cond[PP_COND_READY].message),
			 "%s", gates);
	} else {
		set_cond(&s->cond[PP_COND_READY], true, NULL, NULL, NULL);
	}
	set_cond(&s->cond[PP_COND_SCHEDULED], true, NULL, NULL, NULL);
}

static void status_free(struct status *s)
{
	free(s->init);
	s->init = s->main = NULL;
}

static int status_build(const struct pp_pod_view *v, struct status *s)
{
	const struct pp_pod_state *st = v->st;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->v = v;
	s->phase = st->phase;
	s->reason = st->reason;
	s->message = st->message;
	s->start_time = wall(v, st->start_time);
	s->n_init = st->spec->n_init_containers;
	s->n_main = st->n - s->n_init;
	s->n_gates = json_array_size(json_object_get(object_spec(v), "readinessGates"));
	/* The controller's deletion stands for the API's when the caller did not set one. */
	s->deleting = v->deletion || st->deleted;
	s->deletion = v->deletion;
	s->deletion_grace_s = v->deletion_grace_s;
	if (!v->deletion && st->deleted) {
		s->deletion = st->terminate_start ? wall(v, st->terminate_start) : v->wall_now;
		s->deletion_grace_s = st->spec->termination_grace_s;
	}
	s->init = calloc(st->n ? st->n : 1, sizeof(*s->init));
	if (!s->init)
		return -ENOMEM;
	s->main = s->init + s->n_init;
	for (i = 0; i < st->n; i++)
		fill_cont(&s->init[i], v, (uint32_t)i);
	sort_by_name(s->main, s->n_main);
	compute_conds(s);
	return 0;
}

/* ---- conditions over time ------------------------------------------------------------------ */

void pp_pod_conds_update(struct pp_pod_conds *c, const struct pp_pod_state *st, pp_wall_ns now)
{
	struct pp_pod_view v = {.spec = st->spec, .st = st};

	pp_pod_conds_update_view(c, &v, now);
}

void pp_pod_conds_update_view(struct pp_pod_conds *c, const struct pp_pod_view *v, pp_wall_ns now)
{
	struct status s;

	if (status_build(v, &s) < 0)
		return; /* kept as it was: the next update catches up */
	for (int i = 0; i < _PP_COND_MAX; i++) {
		if (!c->known || c->status[i] != s.cond[i].status)
			c->since[i] = now;
		c->status[i] = s.cond[i].status;
	}
	c->known = true;
	status_free(&s);
}

/* ---- the printPod port --------------------------------------------------------------------- */

static void later(pp_wall_ns *latest, bool *have, const struct cont *k)
{
	if (k->has_last && (!*have || k->last.finished_at > *latest)) {
		*latest = k->last.finished_at;
		*have = true;
	}
}

static void fill_cells(const struct status *s, struct pp_pod_cells *ret)
{
	const struct pp_pod_view *v = s->v;
	unsigned int ready = 0, total = (unsigned int)s->n_main;
	unsigned long restarts = 0, side_restarts = 0;
	pp_wall_ns last = 0, side_last = 0;
	bool have_last = false, have_side_last = false, initializing = false;
	char reason[64], age[16]; /* the longest HumanDuration is "<invalid>" or "7y364d" */
	size_t i;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < s->n_init; i++)
		total += s->init[i].sidecar;
	snprintf(reason, sizeof(reason), "%s", s->reason[0] ? s->reason : pp_phase_str(s->phase));
	for (i = 0; i < s->n_init; i++) {
		const struct cont *k = &s->init[i];

		restarts += k->restart_count;
		later(&last, &have_last, k);
		if (k->sidecar) {
			side_restarts += k->restart_count;
			later(&side_last, &have_side_last, k);
		}
		if (k->state == PP_CSTATE_TERMINATED && k->term.exit_code == 0)
			continue;
		if (k->sidecar && k->started) {
			ready += k->ready;
			continue;
		}
		if (k->state == PP_CSTATE_TERMINATED) {
			if (k->term.reason[0])
				snprintf(reason, sizeof(reason), "Init:%s", k->term.reason);
			else if (k->term.signal)
				snprintf(reason, sizeof(reason), "Init:Signal:%d", k->term.signal);
			else
				snprintf(reason, sizeof(reason), "Init:ExitCode:%d",
					 k->term.exit_code);
		} else if (k->state == PP_CSTATE_WAITING && k->reason[0] &&
			   strcmp(k->reason, "PodInitializing")) {
			snprintf(reason, sizeof(reason), "Init:%s", k->reason);
		} else {
			snprintf(reason, sizeof(reason), "Init:%zu/%zu", i, s->n_init);
		}
		initializing = true;
		break;
	}
	if (!initializing || s->cond[PP_COND_INITIALIZED].status) {
		bool has_running = false;

		restarts = side_restarts;
		last = side_last;
		have_last = have_side_last;
		/* Backwards, so that the first container's state wins. */
		for (i = s->n_main; i-- > 0;) {
			const struct cont *k = &s->main[i];

			restarts += k->restart_count;
			later(&last, &have_last, k);
			if (k->state == PP_CSTATE_WAITING && k->reason[0]) {
				snprintf(reason, sizeof(reason), "%s", k->reason);
			} else if (k->state == PP_CSTATE_TERMINATED && k->term.reason[0]) {
				snprintf(reason, sizeof(reason), "%s", k->term.reason);
			} else if (k->state == PP_CSTATE_TERMINATED) {
				if (k->term.signal)
					snprintf(reason, sizeof(reason), "Signal:%d",
						 k->term.signal);
				else
					snprintf(reason, sizeof(reason), "ExitCode:%d",
						 k->term.exit_code);
			} else if (k->ready && k->state == PP_CSTATE_RUNNING) {
				has_running = true;
				ready++;
			}
		}
		if (!strcmp(reason, "Completed") && has_running)
			snprintf(reason, sizeof(reason), "%s",
				 s->cond[PP_COND_READY].status ? "Running" : "NotReady");
	}
	if (s->deleting && !strcmp(s->reason, "NodeLost"))
		snprintf(reason, sizeof(reason), "Unknown");
	else if (s->deleting && s->phase != PP_PHASE_SUCCEEDED && s->phase != PP_PHASE_FAILED)
		snprintf(reason, sizeof(reason), "Terminating");

	snprintf(ret->name, sizeof(ret->name), "%s", v->spec->name);
	snprintf(ret->ready, sizeof(ret->ready), "%u/%u", ready, total);
	snprintf(ret->status, sizeof(ret->status), "%s", reason);
	if (restarts && have_last) {
		pp_fmt_human_duration(v->wall_now - last, age, sizeof(age));
		snprintf(ret->restarts, sizeof(ret->restarts), "%lu (%s ago)", restarts, age);
	} else {
		snprintf(ret->restarts, sizeof(ret->restarts), "%lu", restarts);
	}
	if (v->created)
		pp_fmt_human_duration(v->wall_now - v->created, ret->age, sizeof(ret->age));
	else
		snprintf(ret->age, sizeof(ret->age), "<unknown>");
	snprintf(ret->ip, sizeof(ret->ip), "%s", v->host_ip && *v->host_ip ? v->host_ip : "<none>");
	snprintf(ret->node, sizeof(ret->node), "%s",
		 v->node_name && *v->node_name ? v->node_name : "<none>");
	snprintf(ret->nominated, sizeof(ret->nominated), "<none>");
	if (s->n_gates)
		snprintf(ret->gates, sizeof(ret->gates), "%zu/%zu", s->gates_true, s->n_gates);
	else
		snprintf(ret->gates, sizeof(ret->gates), "<none>");
}

int pp_pod_cells(const struct pp_pod_view *v, struct pp_pod_cells *ret)
{
	struct status s;
	int err = status_build(v, &s);

	if (err < 0)
		return err;
	fill_cells(&s, ret);
	status_free(&s);
	return 0;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* Set <key> of <o> to <val> (a new reference, may be NULL on ENOMEM); false on failure. */
static bool put(json_t *o, const char *key, json_t *val)
{
	return json_object_set_new(o, key, val) == 0;
}

static bool put_time(json_t *o, const char *key, pp_wall_ns t)
{
	return put(o, key, pp_api_time_json(t));
}

/* FNV-1a 64 of <s> from <seed>. */
static uint64_t fnv1a(uint64_t seed, const char *s)
{
	uint64_t h = seed;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * "podprobe://" and 64 hex digits (the length of a containerd id), the same for the same pod
 * uid, container index and container number: stable across calls and runs.
 */
static json_t *container_id(const struct status *s, uint32_t index, uint32_t no)
{
	char key[96], id[96];
	size_t len;

	snprintf(key, sizeof(key), "%s/%u/%u", s->v->st->uid, index, no);
	len = (size_t)snprintf(id, sizeof(id), "podprobe://");
	for (uint64_t i = 0; i < 4; i++)
		len += (size_t)snprintf(
			id + len, sizeof(id) - len, "%016llx",
			(unsigned long long)fnv1a(0xcbf29ce484222325ull ^ (i << 56) ^ i, key));
	return json_string(id);
}

static json_t *term_json(const struct status *s, const struct cont *k, const struct term *t)
{
	json_t *o = json_object();
	bool ok = o && put(o, "exitCode", json_integer(t->exit_code));

	if (ok && t->signal)
		ok = put(o, "signal", json_integer(t->signal));
	if (ok && t->reason[0])
		ok = put(o, "reason", json_string(t->reason));
	if (ok && t->message[0])
		ok = put(o, "message", json_string(t->message));
	ok = ok && put_time(o, "startedAt", t->started_at) &&
	     put_time(o, "finishedAt", t->finished_at);
	if (ok && t->no)
		ok = put(o, "containerID", container_id(s, k->index, t->no));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *state_json(const struct status *s, const struct cont *k)
{
	json_t *o = json_object(), *in = NULL;
	bool ok = o != NULL;

	switch (k->state) {
	case PP_CSTATE_RUNNING:
		in = json_object();
		ok = ok && in && put_time(in, "startedAt", k->started_at);
		ok = ok && put(o, "running", json_incref(in));
		break;
	case PP_CSTATE_TERMINATED:
		in = term_json(s, k, &k->term);
		ok = ok && in && put(o, "terminated", json_incref(in));
		break;
	default:
		in = json_object();
		if (ok && in && k->reason[0])
			ok = put(in, "reason", json_string(k->reason));
		if (ok && in && k->message[0])
			ok = put(in, "message", json_string(k->message));
		ok = ok && in && put(o, "waiting", json_incref(in));
		break;
	}
	json_decref(in);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * status.volumeMounts, from the spec's mounts as kubelet copies them
 * (kubelet_pods.go convertToAPIContainerStatuses, RecursiveReadOnlyMounts: beta and on since
 * 1.31). A read-only mount says whether it is recursive; podprobe's are not (the manifest's
 * recursiveReadOnly is ignored), which kubelet words "Disabled".
 */
static json_t *mounts_json(const struct pp_container_spec *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n_mounts; i++) {
		const struct pp_volume_mount *m = &c->mounts[i];
		json_t *o = json_pack("{s:s, s:s}", "name", m->name ? m->name : "", "mountPath",
				      m->mount_path ? m->mount_path : "");
		bool ok = o != NULL;

		if (ok && m->read_only)
			ok = put(o, "readOnly", json_true()) &&
			     put(o, "recursiveReadOnly", json_string("Disabled"));
		if (!ok || json_array_append_new(a, o) < 0) {
			if (!ok)
				json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *cont_json(const struct status *s, const struct cont *k)
{
	json_t *o = json_object(), *last = json_object();
	bool ok = o && last;

	if (ok && k->has_last)
		ok = put(last, "terminated", term_json(s, k, &k->last));
	ok = ok && put(o, "name", json_string(k->spec->name)) &&
	     put(o, "state", state_json(s, k)) && put(o, "lastState", json_incref(last)) &&
	     put(o, "ready", json_boolean(k->ready)) &&
	     put(o, "restartCount", json_integer(k->restart_count)) &&
	     put(o, "image", json_string(k->spec->image ? k->spec->image : "")) &&
	     put(o, "imageID", json_string(""));
	if (ok && k->no)
		ok = put(o, "containerID", container_id(s, k->index, k->no));
	ok = ok && put(o, "started", json_boolean(k->started));
	if (ok && k->spec->n_mounts)
		ok = put(o, "volumeMounts", mounts_json(k->spec));
	json_decref(last);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *conts_json(const struct status *s, const struct cont *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, cont_json(s, &v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *conds_json(const struct status *s)
{
	const struct pp_pod_view *v = s->v;
	json_t *a = json_array();

	for (int i = 0; a && i < _PP_COND_MAX; i++) {
		const struct cond *c = &s->cond[i];
		pp_wall_ns since = v->created ? v->created : v->wall_now;
		json_t *o = json_object();
		bool ok;

		if (v->conds && v->conds->known)
			since = v->conds->since[i];
		ok = o && put(o, "type", json_string(cond_names[i])) &&
		     put(o, "status", json_string(c->status ? "True" : "False")) &&
		     put(o, "lastProbeTime", json_null()) &&
		     put_time(o, "lastTransitionTime", since);
		if (ok && c->reason)
			ok = put(o, "reason", json_string(c->reason));
		if (ok && c->message[0])
			ok = put(o, "message", json_string(c->message));
		if (!ok || json_array_append_new(a, o) < 0) {
			if (!ok)
				json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	/* Conditions others own (readiness gates, set through pods/status) follow kubelet's. */
	for (size_t k = 0; a && k < json_array_size(v->ext_conditions); k++)
		if (json_array_append_new(a, json_deep_copy(json_array_get(v->ext_conditions, k))) <
		    0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- QoS class (pkg/apis/core/v1/helper/qos ComputePodQOS) ------------------------------- */

/* A resource.Quantity ("100m", "1Gi", "1e3", 2) as a number; false when absent or malformed. */
static bool quantity(const json_t *q, long double *ret)
{
	static const struct {
		const char *suffix;
		long double mult; /* negative: divided by -mult, so that "500m" is exactly 0.5 */
	} suffixes[] = {
		{"Ki", 1024.0L},
		{"Mi", 1048576.0L},
		{"Gi", 1073741824.0L},
		{"Ti", 1099511627776.0L},
		{"Pi", 1125899906842624.0L},
		{"Ei", 1152921504606846976.0L},
		{"n", -1e9L},
		{"u", -1e6L},
		{"m", -1e3L},
		{"", 1.0L},
		{"k", 1e3L},
		{"M", 1e6L},
		{"G", 1e9L},
		{"T", 1e12L},
		{"P", 1e15L},
		{"E", 1e18L},
	};
	const char *str, *p;
	char *end;
	long double n;

	if (json_is_number(q)) {
		*ret = (long double)json_number_value(q);
		return true;
	}
	str = json_string_value(q);
	if (!str || !*str)
		return false;
	n = strtold(str, &end);
	if (end == str)
		return false;
	p = end;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(p, suffixes[i].suffix)) {
			*ret = suffixes[i].mult < 0 ? n / -suffixes[i].mult : n * suffixes[i].mult;
			return true;
		}
	return false;
}

static const char *qos_class(const struct status *s)
{
	static const char *const res[2] = {"cpu", "memory"};
	const json_t *spec = object_spec(s->v);
	const char *lists[2] = {"containers", "initContainers"};
	long double req[2] = {0}, lim[2] = {0};
	bool has_req[2] = {false}, has_lim[2] = {false}, guaranteed = true;
	int n_req = 0, n_lim = 0;

	if (!spec) {
		/* Only a memory limit is known of a pod without its object: never Guaranteed. */
		for (size_t i = 0; i < pp_pod_n_all(s->v->spec); i++)
			if (pp_pod_container(s->v->spec, i)->memory_limit > 0)
				return "Burstable";
		return "BestEffort";
	}
	for (int l = 0; l < 2; l++) {
		const json_t *cs = json_object_get(spec, lists[l]);

		for (size_t i = 0; i < json_array_size(cs); i++) {
			const json_t *r = json_object_get(json_array_get(cs, i), "resources");
			const json_t *rq = json_object_get(r, "requests");
			const json_t *lm = json_object_get(r, "limits");
			bool found[2] = {false, false};

			for (int k = 0; k < 2; k++) {
				long double q;

				/* SetDefaults_Pod: an unset request defaults to the limit. */
				if ((quantity(json_object_get(rq, res[k]), &q) ||
				     quantity(json_object_get(lm, res[k]), &q)) &&
				    q > 0) {
					req[k] += q;
					has_req[k] = true;
				}
				if (quantity(json_object_get(lm, res[k]), &q) && q > 0) {
					lim[k] += q;
					has_lim[k] = true;
					found[k] = true;
				}
			}
			if (!found[0] || !found[1])
				guaranteed = false;
		}
	}
	for (int k = 0; k < 2; k++) {
		n_req += has_req[k];
		n_lim += has_lim[k];
		if (has_req[k] && (!has_lim[k] || lim[k] != req[k]))
			guaranteed = false;
	}
	if (!n_req && !n_lim)
		return "BestEffort";
	if (guaranteed && n_req == n_lim)
		return "Guaranteed";
	return "Burstable";
}

static json_t *ips_json(const char *ip)
{
	return json_pack("[{s:s}]", "ip", ip);
}

static json_t *status_json(const struct status *s)
{
	const struct pp_pod_view *v = s->v;
	json_t *o = json_object();
	bool ok = o && put(o, "phase", json_string(pp_phase_str(s->phase))) &&
		  put(o, "conditions", conds_json(s));

	if (ok && s->message[0])
		ok = put(o, "message", json_string(s->message));
	if (ok && s->reason[0])
		ok = put(o, "reason", json_string(s->reason));
	if (ok && v->host_ip && *v->host_ip)
		ok = put(o, "hostIP", json_string(v->host_ip)) &&
		     put(o, "hostIPs", ips_json(v->host_ip)) &&
		     put(o, "podIP", json_string(v->host_ip)) &&
		     put(o, "podIPs", ips_json(v->host_ip));
	if (ok && s->start_time)
		ok = put_time(o, "startTime", s->start_time);
	if (ok && s->n_init)
		ok = put(o, "initContainerStatuses", conts_json(s, s->init, s->n_init));
	ok = ok && put(o, "containerStatuses", conts_json(s, s->main, s->n_main)) &&
	     put(o, "qosClass", json_string(qos_class(s)));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *kv_json(const struct pp_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		if (!put(o, kv[i].name, json_string(kv[i].value ? kv[i].value : ""))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *metadata_json(const struct status *s)
{
	const struct pp_pod_view *v = s->v;
	const struct pp_pod *spec = v->spec;
	const json_t *given =
		v->object ? json_object_get((const json_t *)v->object, "metadata") : NULL;
	const char *uid = v->st->uid[0] ? v->st->uid : spec->uid ? spec->uid : "";
	char rv[24];
	json_t *md = json_is_object(given) ? json_deep_copy(given) : json_object();
	bool ok = md != NULL;

	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)v->resource_version);
	ok = ok && put(md, "name", json_string(spec->name)) &&
	     put(md, "namespace", json_string(spec->namespace ? spec->namespace : "default")) &&
	     put(md, "uid", json_string(uid)) && put(md, "resourceVersion", json_string(rv));
	if (ok && v->created)
		ok = put_time(md, "creationTimestamp", v->created);
	if (ok && !json_is_object(given) && spec->n_labels)
		ok = put(md, "labels", kv_json(spec->labels, spec->n_labels));
	if (ok && !json_is_object(given) && spec->n_annotations)
		ok = put(md, "annotations", kv_json(spec->annotations, spec->n_annotations));
	if (ok && s->deleting)
		ok = put_time(md, "deletionTimestamp", s->deletion) &&
		     put(md, "deletionGracePeriodSeconds", json_integer(s->deletion_grace_s));
	if (!ok) {
		json_decref(md);
		return NULL;
	}
	return md;
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *container_spec_json(const struct pp_container_spec *c)
{
	json_t *o = json_object();
	bool ok = o && put(o, "name", json_string(c->name)) &&
		  put(o, "image", json_string(c->image ? c->image : ""));

	if (ok && c->command)
		ok = put(o, "command", strv_json(c->command, c->n_command));
	if (ok && c->args)
		ok = put(o, "args", strv_json(c->args, c->n_args));
	if (ok && c->n_ports) {
		json_t *ports = json_array();

		ok = put(o, "ports", json_incref(ports));
		for (size_t i = 0; ok && i < c->n_ports; i++) {
			const struct pp_port_spec *p = &c->ports[i];
			json_t *po = json_pack("{s:I, s:s}", "containerPort",
					       (json_int_t)p->container_port, "protocol",
					       p->protocol ? p->protocol : "TCP");

			ok = po && (!p->name || put(po, "name", json_string(p->name)));
			ok = ok ? json_array_append_new(ports, po) == 0 : (json_decref(po), false);
		}
		json_decref(ports);
	}
	if (ok && c->memory_limit > 0) {
		char mem[24];

		snprintf(mem, sizeof(mem), "%lld", (long long)c->memory_limit);
		ok = put(o, "resources", json_pack("{s:{s:s}}", "limits", "memory", mem));
	}
	if (ok && c->restart_policy)
		ok = put(o, "restartPolicy", json_string(c->restart_policy));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *containers_json(const struct pp_container_spec *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, container_spec_json(&v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- the API server's defaulting of the spec ----------------------------------------------- */

/*
 * What a real API server stores for a Pod is the manifest after defaulting
 * (pkg/apis/core/v1/defaults.go and the SetObjectDefaults_Pod walk of zz_generated.defaults.go),
 * and kubectl shows that: `describe` prints "timeout=1s period=10s #success=1 #failure=3" for a
 * probe written without them. The same is done here to the copy of the spec. Only keys that
 * are absent (or null) get a value: what the user wrote is kept as written, so a re-apply of the
 * same manifest finds nothing of its own changed (the server also replaces a written 0 or "",
 * which Go cannot tell from absent; those are shown as written). Admission plugins (ServiceAccount,
 * Priority, DefaultTolerationSeconds) are not the API's defaulting and add nothing here.
 */

/* Absent or null: the Go zero value of a field the user left out. */
static bool absent(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return !v || json_is_null(v);
}

/* Give <key> of <o> the default <val> (a new reference) when <o> is an object without one. */
static bool dflt(json_t *o, const char *key, json_t *val)
{
	if (!json_is_object(o) || !absent(o, key)) {
		json_decref(val);
		return true;
	}
	return put(o, key, val);
}

/*
 * SetDefaults_Container's tag test, as parsers.ParseImageName reads a reference: no tag and no
 * digest means "latest"; a reference that does not parse (empty, upper case in the path) has no
 * tag at all.
 */
static bool image_is_latest(const char *image)
{
	const char *path = image, *slash, *end, *colon;

	if (!image || !*image)
		return false;
	/* splitDockerDomain: the first component is a registry when it has '.', ':' or is
	 * "localhost"; anything else belongs to the repository path, which must be lower case. */
	slash = strchr(image, '/');
	if (slash &&
	    (memchr(image, '.', (size_t)(slash - image)) ||
	     memchr(image, ':', (size_t)(slash - image)) || !strncmp(image, "localhost/", 10)))
		path = slash + 1;
	end = strchr(path, '@');
	if (!end)
		end = path + strlen(path);
	for (const char *p = path; p < end; p++)
		if (*p >= 'A' && *p <= 'Z')
			return false;
	colon = memrchr(path, ':', (size_t)(end - path));
	if (colon)
		return (size_t)(end - colon - 1) == 6 && !strncmp(colon + 1, "latest", 6);
	return *end != '@';
}

/* SetDefaults_HTTPGetAction */
static bool default_http_get(json_t *h)
{
	return dflt(h, "path", json_string("/")) && dflt(h, "scheme", json_string("HTTP"));
}

/* SetDefaults_Probe, its httpGet, and the grpc service's declarative default (+default="") */
static bool default_probe(json_t *p)
{
	if (!json_is_object(p))
		return true;
	return dflt(p, "timeoutSeconds", json_integer(1)) &&
	       dflt(p, "periodSeconds", json_integer(10)) &&
	       dflt(p, "successThreshold", json_integer(1)) &&
	       dflt(p, "failureThreshold", json_integer(3)) &&
	       default_http_get(json_object_get(p, "httpGet")) &&
	       dflt(json_object_get(p, "grpc"), "service", json_string(""));
}

/* SetDefaults_ObjectFieldSelector */
static bool default_field_ref(json_t *ref)
{
	return dflt(ref, "apiVersion", json_string("v1"));
}

/*
 * One container of the spec: SetDefaults_Container, the ports' protocol (+default="TCP"), env
 * fieldRefs, probes and hooks (SetObjectDefaults_Pod), SetDefaults_Pod's requests from limits and
 * hostNetwork's host ports. "resources" is a struct value in the Go type, which encoding/json
 * writes even when empty: a real server always shows `resources: {}`.
 */
static bool default_container(json_t *c, bool host_network)
{
	static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
	static const char *const hooks[] = {"postStart", "preStop"};
	const json_t *image = json_object_get(c, "image");
	json_t *ports = json_object_get(c, "ports"), *env = json_object_get(c, "env");
	json_t *res, *limits, *requests, *lc;
	const char *key;
	json_t *val;
	bool ok;
	size_t i;

	if (!json_is_object(c))
		return true;
	ok = dflt(c, "imagePullPolicy",
		  json_string(image_is_latest(json_string_value(image)) ? "Always"
									: "IfNotPresent")) &&
	     dflt(c, "terminationMessagePath", json_string("/dev/termination-log")) &&
	     dflt(c, "terminationMessagePolicy", json_string("File")) &&
	     dflt(c, "resources", json_object());
	for (i = 0; ok && i < json_array_size(ports); i++) {
		json_t *p = json_array_get(ports, i);
		json_t *cp = json_object_get(p, "containerPort");

		ok = dflt(p, "protocol", json_string("TCP"));
		/* defaultHostNetworkPorts: a host-network pod's hostPort is its containerPort. */
		if (ok && host_network && json_is_integer(cp))
			ok = dflt(p, "hostPort", json_integer(json_integer_value(cp)));
	}
	for (i = 0; ok && i < json_array_size(env); i++)
		ok = default_field_ref(json_object_get(
			json_object_get(json_array_get(env, i), "valueFrom"), "fieldRef"));
	res = json_object_get(c, "resources");
	limits = json_object_get(res, "limits");
	if (ok && json_is_object(res) && json_is_object(limits)) {
		ok = dflt(res, "requests", json_object());
		requests = json_object_get(res, "requests");
		json_object_foreach(limits, key, val)
		{
			if (ok)
				ok = dflt(requests, key, json_deep_copy(val));
		}
	}
	for (i = 0; ok && i < sizeof(probes) / sizeof(probes[0]); i++)
		ok = default_probe(json_object_get(c, probes[i]));
	lc = json_object_get(c, "lifecycle");
	for (i = 0; ok && i < sizeof(hooks) / sizeof(hooks[0]); i++)
		ok = default_http_get(json_object_get(json_object_get(lc, hooks[i]), "httpGet"));
	return ok;
}

/*
 * SetObjectDefaults_Pod on the spec <s>: SetDefaults_Pod, SetDefaults_PodSpec, the containers.
 * Volumes are left as written: SetDefaults_Volume turns a volume without a source into an
 * emptyDir, but kubectl apply then patches that volume with its "$retainKeys" (the source is a
 * retainKeys struct) on every re-apply, and a patch of the spec is refused here; the other
 * sources' defaults (defaultMode...) are of sources the process runtime refuses.
 */
static bool default_spec(json_t *s)
{
	static const char *const lists[] = {"initContainers", "containers"};
	bool host_network = json_is_true(json_object_get(s, "hostNetwork"));
	bool ok = dflt(s, "dnsPolicy", json_string("ClusterFirst")) &&
		  dflt(s, "restartPolicy", json_string("Always")) &&
		  dflt(s, "securityContext", json_object()) &&
		  dflt(s, "terminationGracePeriodSeconds", json_integer(PP_DEFAULT_GRACE_S)) &&
		  dflt(s, "schedulerName", json_string("default-scheduler")) &&
		  dflt(s, "enableServiceLinks", json_true());

	for (size_t l = 0; ok && l < sizeof(lists) / sizeof(lists[0]); l++) {
		const json_t *cs = json_object_get(s, lists[l]);

		for (size_t i = 0; ok && i < json_array_size(cs); i++)
			ok = default_container(json_array_get(cs, i), host_network);
	}
	return ok;
}

static json_t *spec_json(const struct status *s)
{
	const struct pp_pod_view *v = s->v;
	const struct pp_pod *p = v->spec;
	const json_t *given = object_spec(v);
	json_t *o;
	bool ok;

	if (json_is_object(given)) {
		o = json_deep_copy(given);
		ok = o != NULL;
	} else {
		o = json_object();
		ok = o && put(o, "containers", containers_json(p->containers, p->n_containers));
		if (ok && p->n_init_containers)
			ok = put(o, "initContainers",
				 containers_json(p->init_containers, p->n_init_containers));
		ok = ok &&
		     put(o, "restartPolicy",
			 json_string(p->restart_policy < _PP_RESTART_MAX
					     ? restart_policy_names[p->restart_policy]
					     : "Always")) &&
		     put(o, "terminationGracePeriodSeconds", json_integer(p->termination_grace_s));
		if (ok && p->has_active_deadline)
			ok = put(o, "activeDeadlineSeconds", json_integer(p->active_deadline_s));
	}
	ok = ok && default_spec(o);
	if (ok && v->node_name && *v->node_name)
		ok = put(o, "nodeName", json_string(v->node_name));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *pod_json(const struct status *s)
{
	json_t *o = json_pack("{s:s, s:s}", "kind", "Pod", "apiVersion", "v1");

	if (!o || !put(o, "metadata", metadata_json(s)) || !put(o, "spec", spec_json(s)) ||
	    !put(o, "status", status_json(s))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *pp_pod_json(const struct pp_pod_view *v)
{
	struct status s;
	json_t *o;

	if (status_build(v, &s) < 0)
		return NULL;
	o = pod_json(&s);
	status_free(&s);
	return o;
}

/* ---- Table --------------------------------------------------------------------------------- */

/* printers.go AddHandlers podColumnDefinitions, descriptions from the API's swagger docs. */
static const struct pp_table_col pod_columns[] = {
	{"Name", "string", "name",
	 "Name must be unique within a namespace. Is required when creating resources, although "
	 "some resources may allow a client to request the generation of an appropriate name "
	 "automatically. Name is primarily intended for creation idempotence and configuration "
	 "definition. Cannot be updated. More info: "
	 "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
	 0},
	{"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
	 0},
	{"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
	{"Restarts", "string", "",
	 "The number of times the containers in this pod have been restarted and when the last "
	 "container in this pod has restarted.",
	 0},
	{"Age", "string", "",
	 "CreationTimestamp is a timestamp representing the server time when this object was "
	 "created. It is not guaranteed to be set in happens-before order across separate "
	 "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
	 "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
	 "https://git.k8s.io/community/contributors/devel/sig-architecture/"
	 "api-conventions.md#metadata",
	 0},
	{"IP", "string", "",
	 "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
	 "yet allocated.",
	 1},
	{"Node", "string", "",
	 "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
	 "candidate for scheduling by the scheduler defined in schedulerName. Once this field is "
	 "set, the kubelet for this node becomes responsible for the lifecycle of this pod. This "
	 "field should not be used to express a desire for the pod to be scheduled on a specific "
	 "node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
	 1},
	{"Nominated Node", "string", "",
	 "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
	 "cannot be scheduled right away as preemption victims receive their graceful termination "
	 "periods. This field does not guarantee that the pod will be scheduled on this node. "
	 "Scheduler may decide to place the pod elsewhere if other nodes become available sooner. "
	 "Scheduler may also decide to give the resources on this node to a higher priority pod "
	 "that is created after preemption. As a result, this field may be different than "
	 "PodSpec.nodeName when the pod is scheduled.",
	 1},
	{"Readiness Gates", "string", "",
	 "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready "
	 "when all its containers are ready AND all conditions specified in the readiness gates "
	 "have status equal to \"True\" More info: "
	 "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
	 1},
};

#define N_POD_COLUMNS (sizeof(pod_columns) / sizeof(pod_columns[0]))

static json_t *row_object(const struct status *s, enum pp_include_object inc)
{
	json_t *tmp, *o;

	if (inc == PP_INCLUDE_OBJECT)
		return pod_json(s);
	if (inc != PP_INCLUDE_METADATA)
		return NULL;
	/* PartialObjectMetadata needs only the metadata: no need to build the whole pod. */
	tmp = json_object();
	if (!tmp || !put(tmp, "metadata", metadata_json(s))) {
		json_decref(tmp);
		return NULL;
	}
	o = pp_table_row_object(tmp, inc);
	json_decref(tmp);
	return o;
}

/* printers.go podSuccessConditions / podFailedConditions */
static int add_row_conditions(json_t *table, enum pp_phase phase)
{
	json_t *rows = json_object_get(table, "rows");
	json_t *row = json_array_get(rows, json_array_size(rows) - 1);
	bool ok = phase == PP_PHASE_SUCCEEDED;

	if (phase != PP_PHASE_SUCCEEDED && phase != PP_PHASE_FAILED)
		return 0;
	if (!put(row, "conditions",
		 json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed", "status", "True",
			   "reason", ok ? "Succeeded" : "Failed", "message",
			   ok ? "The pod has completed successfully." : "The pod failed.")))
		return -ENOMEM;
	return 0;
}

json_t *pp_pod_table(const struct pp_pod_view *const *v, size_t n, uint64_t rv,
		     enum pp_include_object inc, bool with_defs)
{
	json_t *t = pp_table_new(pod_columns, N_POD_COLUMNS, rv, with_defs);

	for (size_t i = 0; t && i < n; i++) {
		struct pp_pod_cells c;
		struct status s;
		json_t *obj = NULL, *cells;
		int err;

		if (status_build(v[i], &s) < 0)
			goto fail;
		fill_cells(&s, &c);
		cells = json_pack("[s, s, s, s, s, s, s, s, s]", c.name, c.ready, c.status,
				  c.restarts, c.age, c.ip, c.node, c.nominated, c.gates);
		if (cells && inc != PP_INCLUDE_NONE) {
			obj = row_object(&s, inc);
			if (!obj) {
				json_decref(cells);
				cells = NULL;
			}
		}
		err = pp_table_add_row(t, cells, obj);
		if (!err)
			err = add_row_conditions(t, s.phase);
		status_free(&s);
		if (err)
			goto fail;
	}
	return t;
fail:
	json_decref(t);
	return NULL;
}

/* ---- the columns of a pod state alone ----------------------------------------------------- */

static int state_cells(const struct pp_pod_state *ps, pp_nsec now, struct pp_pod_cells *ret)
{
	struct pp_pod_view v = {
		.spec = ps->spec,
		.st = ps,
		.mono_now = now,
		.wall_now = (pp_wall_ns)now,
	};

	return pp_pod_cells(&v, ret);
}

static int copy_out(const char *s, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", s);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int pp_fmt_pod_ready(const struct pp_pod_state *ps, char *buf, size_t size)
{
	struct pp_pod_cells c;
	int err = state_cells(ps, 0, &c);

	return err < 0 ? err : copy_out(c.ready, buf, size);
}

int pp_fmt_pod_status(const struct pp_pod_state *ps, char *buf, size_t size)
{
	struct pp_pod_cells c;
	int err = state_cells(ps, 0, &c);

	return err < 0 ? err : copy_out(c.status, buf, size);
}

int pp_fmt_pod_restarts(const struct pp_pod_state *ps, pp_nsec now, char *buf, size_t size)
{
	struct pp_pod_cells c;
	int err = state_cells(ps, now, &c);

	return err < 0 ? err : copy_out(c.restarts, buf, size);
}
