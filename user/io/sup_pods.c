// SPDX-License-Identifier: Apache-2.0
/*
 * Pods that come and go while `podprobe run` goes on: created through the API or by a followed
 * directory, deleted gracefully and freed once their containers are gone (a turn after their
 * DELETED, when nothing the loop queued for them can read their memory any more), relabelled
 * by a PATCH, and seen by the API and the table through one view.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/clock.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/metrics.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"
#include "podprobe/probe_runner.h"
#include "podprobe/runtime.h"

/* ---- pods that come and go (the API) ------------------------------------------------------ */

void pp_sup_pod_touch(struct pod_rt *pr)
{
	pr->rv = ++pr->sup->rv;
	pr->api_dirty = true;
	pp_sup_turn_work(pr->sup);
}

struct pod_rt *pp_sup_pod_by_uid(struct pp_supervisor *sup, const char *uid)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		if (pr && !strcmp(pr->st.uid, uid))
			return pr;
	}
	return NULL;
}

void pp_sup_pod_view(const struct pod_rt *pr, struct pp_pod_view *v, pp_nsec mono, pp_wall_ns wall)
{
	*v = (struct pp_pod_view){
		.spec = pr->spec,
		.st = &pr->st,
		.object = pr->object,
		.conds = &pr->conds,
		.ext_conditions = pr->ext_conds,
		.resource_version = pr->rv,
		/* Monotonic when it began (re-adopted pods keep theirs), else when it came. */
		.created = pr->created ? (pp_wall_ns)pr->created - (pp_wall_ns)mono + wall
				       : pr->created_wall,
		.deletion = pr->deletion_wall,
		.deletion_grace_s = pr->deletion_grace_s,
		.node_name = pr->sup->node_name,
		.host_ip = "127.0.0.1",
		.mono_now = mono,
		.wall_now = wall,
	};
}

/* A free slot of sup->pods (a removed pod's, or the next unused one), or NULL. */
static struct pod_rt *slot_get(struct pp_supervisor *sup, uint32_t *ret_index)
{
	for (size_t i = 0; i < sup->n_pods; i++)
		if (!sup->pods[i].spec) {
			*ret_index = (uint32_t)i;
			return &sup->pods[i];
		}
	if (sup->n_pods == sup->max_pods)
		return NULL;
	*ret_index = (uint32_t)sup->n_pods;
	return &sup->pods[sup->n_pods++];
}

int pp_sup_pod_create(struct pp_supervisor *sup, struct pp_pod *spec, json_t *object, bool from_api,
		      struct pod_rt *after, struct pod_rt **ret)
{
	uint32_t index, gen;
	struct pod_rt *pr = slot_get(sup, &index);
	int err;

	if (!pr) {
		pp_pod_free(spec);
		json_decref(object);
		return -ENOSPC;
	}
	gen = pr->gen;
	memset(pr, 0, sizeof(*pr));
	pr->gen = gen + 1; /* past the timers a slot's last pod left */
	pr->object = object;
	pr->own_spec = true;
	pr->from_api = from_api;
	err = pp_sup_pod_setup(sup, pr, spec, index, NULL);
	if (err < 0) {
		pp_sup_pod_release(pr);
		return err;
	}
	if (after) {
		/* A new spec of <after>'s pod: it begins once that one is gone. */
		pr->waiting = true;
		after->successor = (int32_t)index;
	} else {
		pp_sup_pod_begin(pr);
	}
	if (from_api)
		pp_sup_record_mark_api(pr);
	pp_log(PP_LOG_NOTICE, "pod '%s' %s", spec->name,
	       from_api ? "created through the API"
	       : after	? "changed in its file"
			: "added to its directory");
	pp_sup_pod_touch(pr);
	*ret = pr;
	return 0;
}

void pp_sup_pod_delete(struct pod_rt *pr, int64_t grace_s, const char *who)
{
	pp_wall_ns now = pp_clock_wall();

	if (pr->deletion_wall)
		return; /* the apiserver keeps the first deletion's time (a shorter one aside) */
	if (grace_s < 0)
		grace_s = pr->spec->termination_grace_s;
	pr->deletion_grace_s = grace_s;
	pr->deletion_wall = now + grace_s * (pp_wall_ns)PP_NSEC_PER_SEC;
	pp_sup_table_erase(pr->sup);
	pp_log(PP_LOG_NOTICE, "deleting pod '%s' (%s, grace period %llds)", pr->spec->name, who,
	       (long long)grace_s);
	/* Watches see it Terminating before anything of the stop can be coalesced into it. */
	pp_sup_pod_touch(pr);
	pp_api_pod_flush(pr, now);
	pp_lc_delete_grace(&pr->st, pp_clock_now(), grace_s, &pr->sup->acts);
	pp_sup_run_actions(pr);
	pp_sup_pod_touch(pr);
}

int pp_sup_pod_relabel(struct pod_rt *pr, json_t *object)
{
	json_t *meta = json_object_get(object, "metadata");
	struct pp_kv *kv[2] = {NULL, NULL};
	size_t n[2] = {0, 0};
	const char *names[2] = {"labels", "annotations"};
	int err = 0;

	for (int w = 0; w < 2; w++) {
		json_t *m = json_object_get(meta, names[w]);
		const char *k;
		json_t *v;

		kv[w] = calloc(json_object_size(m) + 1, sizeof(**kv));
		if (!kv[w]) {
			err = -ENOMEM;
			break;
		}
		json_object_foreach(m, k, v)
		{
			kv[w][n[w]].name = strdup(k);
			kv[w][n[w]].value = strdup(json_string_value(v));
			if (!kv[w][n[w]].name || !kv[w][n[w]].value)
				err = -ENOMEM;
			n[w]++;
		}
	}
	if (err) {
		for (int w = 0; w < 2; w++) {
			for (size_t i = 0; kv[w] && i < n[w]; i++) {
				free(kv[w][i].name);
				free(kv[w][i].value);
			}
			free(kv[w]);
		}
		json_decref(object);
		return err;
	}
	for (size_t i = 0; i < pr->spec->n_labels; i++) {
		free(pr->spec->labels[i].name);
		free(pr->spec->labels[i].value);
	}
	free(pr->spec->labels);
	for (size_t i = 0; i < pr->spec->n_annotations; i++) {
		free(pr->spec->annotations[i].name);
		free(pr->spec->annotations[i].value);
	}
	free(pr->spec->annotations);
	pr->spec->labels = kv[0];
	pr->spec->n_labels = n[0];
	pr->spec->annotations = kv[1];
	pr->spec->n_annotations = n[1];
	json_decref(pr->object);
	pr->object = object;
	pp_sup_manifest_replace(pr);
	pp_sup_pod_touch(pr);
	return 0;
}

/* Free what <pr> holds and empty its slot (its timer generation kept). */
void pp_sup_pod_release(struct pod_rt *pr)
{
	struct pp_supervisor *sup = pr->sup;
	uint32_t gen = pr->gen;

	for (size_t j = 0; pr->c && j < pr->st.n; j++) {
		struct cont_rt *c = &pr->c[j];

		if (sup->runner) /* at the run's end the prober went first, with its attempts */
			pp_sup_hooks_cancel(c);
		pp_sup_probes_release(c);
		pp_sup_pid_untrack(c);
		pp_runtime_forget(&c->proc);
		pp_strv_free(&c->env);
		for (int k = 0; k < _PP_HOOK_MAX; k++)
			pp_strv_free(&c->hooks[k].argv);
		if (c->gidx < sup->n_conts && sup->conts[c->gidx] == c) {
			sup->conts[c->gidx] = NULL;
			if (c->gidx < sup->conts_free)
				sup->conts_free = c->gidx;
		}
	}
	pp_metrics_forget_pod(&sup->metrics, pr->st.uid);
	pp_lc_free(&pr->st);
	pp_sup_record_free(pr->rec);
	free(pr->c);
	json_decref(pr->object);
	json_decref(pr->ext_conds);
	if (pr->own_spec)
		pp_pod_free(pr->spec);
	memset(pr, 0, sizeof(*pr));
	pr->gen = gen;
}

/* Deleted through the API and nothing of it runs any more: it goes. */
static bool pod_done(const struct pod_rt *pr)
{
	if (!pr->deletion_wall || !pr->st.terminal)
		return false;
	for (size_t j = 0; j < pr->st.n; j++)
		if (pr->c[j].proc.pidfd >= 0 || pr->st.c[j].alive)
			return false;
	return true;
}

/*
 * End of a loop turn. A pod deleted through the API whose containers are all gone becomes
 * DELETED for the watches and is marked gone; it is freed at the end of the next turn, when
 * the loop has submitted since, so that nothing queued for it can still read its memory.
 */
void pp_sup_end_of_turn(struct pp_supervisor *sup)
{
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = &sup->pods[i];

		if (pr->spec && pr->gone) {
			pp_sup_pod_release(pr);
			continue;
		}
		if (!pr->spec || !pod_done(pr))
			continue;
		pr->rv = ++sup->rv;
		pp_api_pod_gone(pr);
		pp_sup_record_remove(pr);
		pp_sup_pod_remove_logs(pr);
		pp_sup_table_erase(sup);
		pp_log(PP_LOG_NOTICE, "pod '%s' deleted", pr->spec->name);
		pr->gone = true;
		pp_sup_turn_work(sup); /* freed at the end of the next turn */
		sup->dirty = true;
		if (pr->successor >= 0 && sup->pods[pr->successor].spec) {
			struct pod_rt *next = &sup->pods[pr->successor];

			pr->successor = -1;
			next->waiting = false;
			pp_sup_pod_begin(next);
			pp_sup_pod_touch(next);
		}
	}
}
