// SPDX-License-Identifier: Apache-2.0
/*
 * What a starting `podprobe run` does with each listed pod and each record an earlier run left:
 * start, re-adopt, delete gracefully (an old spec, or a pod no longer listed), or wait for the
 * old one to go; and the sweep of cgroups that no record accounts for.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/log.h"
#include "podprobe/pod.h"
#include "podprobe/runtime.h"

static int plan_push(struct plan **v, size_t *n, struct pp_pod *spec, struct pp_pod_record *rec,
		     enum plan_role role)
{
	struct plan *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p) {
		pp_sup_record_free(rec);
		return -ENOMEM;
	}
	*v = p;
	p[(*n)++] = (struct plan){spec, rec, role, false};
	return 0;
}

/*
 * Decide, for every listed pod and every record an earlier run left, what to do: records of
 * this boot with the same spec are re-adopted; a record with another spec is the old pod,
 * deleted gracefully (from its saved manifest) before the new one begins; records of pods no
 * longer listed are deleted gracefully. A record whose manifest cannot be read back is
 * dropped: its processes are swept with the cgroups nothing accounts for.
 */
int pp_sup_make_plan(struct pp_supervisor *sup, struct pp_pod_list *pods, struct plan **ret_v,
		     size_t *ret_n)
{
	struct plan *v = NULL;
	size_t n = 0, n_keys = 0;
	char key[330], **keys = NULL;
	int err = 0;

	for (size_t i = 0; !err && i < pods->n; i++) {
		struct pp_pod *spec = pods->items[i];
		struct pp_pod_record *rec = NULL;
		struct pp_pod *old;

		snprintf(key, sizeof(key), "%s_%s", spec->namespace, spec->name);
		if (pp_sup_record_load(sup, key, &rec) < 0)
			err = plan_push(&v, &n, spec, NULL, PLAN_NEW);
		else if (!strcmp(rec->digest, spec->digest) && rec->n == pp_pod_n_all(spec))
			err = plan_push(&v, &n, spec, rec, PLAN_ADOPT);
		else if ((old = pp_sup_manifest_load(sup, key)) &&
			 !strcmp(old->digest, rec->digest))
			err = plan_push(&v, &n, old, rec, PLAN_LEAVE)
				      ?: plan_push(&v, &n, spec, NULL, PLAN_WAIT);
		else {
			/* Its containers go with the sweep of unrecorded cgroups. */
			pp_sup_record_drop(sup, key, rec);
			err = plan_push(&v, &n, spec, NULL, PLAN_NEW);
		}
	}
	if (!err)
		err = pp_sup_record_keys(sup, &keys, &n_keys);
	for (size_t k = 0; !err && k < n_keys; k++) {
		struct pp_pod_record *rec = NULL;
		struct pp_pod *old;
		bool listed = false;

		for (size_t i = 0; i < pods->n && !listed; i++) {
			snprintf(key, sizeof(key), "%s_%s", pods->items[i]->namespace,
				 pods->items[i]->name);
			listed = !strcmp(key, keys[k]);
		}
		if (listed || pp_sup_record_load(sup, keys[k], &rec) < 0)
			continue;
		old = pp_sup_manifest_load(sup, keys[k]);
		if (old && !strcmp(old->digest, rec->digest) && rec->n == pp_pod_n_all(old) &&
		    pp_sup_record_is_api(sup, keys[k])) {
			/* The API's pods are the API's: re-adopted, not "no longer listed". */
			err = plan_push(&v, &n, old, rec, PLAN_ADOPT);
			if (!err)
				v[n - 1].from_api = true;
		} else if (old && !strcmp(old->digest, rec->digest) &&
			   rec->n == pp_pod_n_all(old)) {
			err = plan_push(&v, &n, old, rec, PLAN_LEAVE);
		} else {
			pp_log(PP_LOG_WARN,
			       "pod '%s' of the last run: its manifest is gone, stopping its "
			       "containers at once",
			       keys[k]);
			pp_sup_record_drop(sup, keys[k], rec);
		}
	}
	for (size_t k = 0; k < n_keys; k++)
		free(keys[k]);
	free(keys);
	if (err) {
		for (size_t i = 0; i < n; i++)
			pp_sup_record_free(v[i].rec);
		free(v);
		return err;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/* Kill what an earlier run left in cgroups that no record to re-adopt accounts for. */
void pp_sup_sweep_leftovers(struct pp_supervisor *sup, const struct plan *v, size_t n)
{
	const char **keep = NULL;
	size_t n_keep = 0, cap = 0;
	int swept;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; v[i].rec && j < v[i].rec->n; j++)
			cap += 2;
	keep = calloc(cap ? cap : 1, sizeof(*keep));
	if (!keep)
		return; /* sweep nothing rather than something to re-adopt */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; v[i].rec && j < v[i].rec->n; j++) {
			const struct pp_cont_record *c = &v[i].rec->c[j];

			if (!c->st.alive)
				continue;
			keep[n_keep++] = c->cg2;
			keep[n_keep++] = c->memv1;
		}
	swept = pp_runtime_sweep(&sup->rt, keep, n_keep);
	if (swept)
		pp_log(PP_LOG_NOTICE, "stopped %d container%s an earlier run left unrecorded",
		       swept, swept == 1 ? "" : "s");
	free(keep);
}
