// SPDX-License-Identifier: Apache-2.0
/*
 * Surviving a restart of podprobe, as kubelet survives its own: each pod's state lives in
 * <state>/pods/<namespace>_<pod>/record (user/core/pod_record.c's text, replaced atomically
 * after every change) beside the manifest it was started from (pod.yaml). A run that finds a
 * record of this boot re-adopts the containers that still run (pidfd, verified by start time
 * and cgroup, never by pid alone), goes on counting restarts and probing, and reports those
 * that ended meanwhile with the status it can still learn, else as ContainerStatusUnknown.
 */
#include "supervisor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/clock.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/pod_record.h"
#include "podprobe/pod_store.h"
#include "podprobe/proc_identity.h"
#include "podprobe/statedir.h"

#define RECORD_FILE   "record"
#define MANIFEST_FILE "pod.yaml"
#define API_MARK_FILE "api" /* the pod was created through the API: it is not a file's */

int pp_sup_records_open(struct pp_supervisor *sup)
{
	int fd, err;

	sup->pods_fd = -1;
	err = pp_boot_id(sup->boot_id, sizeof(sup->boot_id));
	if (err < 0)
		return pp_log_errno(PP_LOG_ERR, err, "cannot read the kernel's boot id");
	fd = pp_statedir_mkdirat(sup->rt.dir_fd, "pods", 0700);
	if (fd < 0)
		return pp_log_errno(PP_LOG_ERR, fd, "cannot open '%s/pods'", sup->cfg->state_dir);
	sup->pods_fd = fd;
	return 0;
}

/* The directory of pod <key> (made when <create>), or -errno. */
static int pod_dir(struct pp_supervisor *sup, const char *key, bool create)
{
	if (sup->pods_fd < 0 || !pp_statedir_pod_key_ok(key))
		return -EINVAL;
	int fd;

	if (create)
		return pp_statedir_mkdirat(sup->pods_fd, key, 0700);
	fd = openat(sup->pods_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void pp_sup_record_free(struct pp_pod_record *rec)
{
	pp_pod_record_free(rec);
	free(rec);
}

static void remove_files(struct pp_supervisor *sup, const char *key)
{
	static const char *const names[] = {RECORD_FILE, MANIFEST_FILE, API_MARK_FILE};
	int fd = pod_dir(sup, key, false);
	char spare[64];

	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unlinkat(fd, names[i], 0);
		/* pp_store_write()'s spare copy */
		snprintf(spare, sizeof(spare), "%s.tmp", names[i]);
		unlinkat(fd, spare, 0);
	}
	close(fd);
}

void pp_sup_record_drop(struct pp_supervisor *sup, const char *key, struct pp_pod_record *rec)
{
	pp_sup_record_free(rec);
	remove_files(sup, key);
}

int pp_sup_record_load(struct pp_supervisor *sup, const char *key, struct pp_pod_record **ret)
{
	struct pp_pod_record *rec;
	char *text = NULL, err[160];
	size_t len;
	int fd, rc;

	fd = pod_dir(sup, key, false);
	if (fd < 0)
		return -ENOENT;
	rc = pp_store_read(fd, RECORD_FILE, PP_RECORD_MAX_BYTES, &text, &len);
	close(fd);
	if (rc < 0) {
		if (rc != -ENOENT)
			pp_log_errno(PP_LOG_WARN, rc, "pod '%s': cannot read its record, ignoring",
				     key);
		return -ENOENT;
	}
	rec = calloc(1, sizeof(*rec));
	rc = rec ? pp_pod_record_decode(text, len, rec, err, sizeof(err)) : -ENOMEM;
	free(text);
	if (rc == -EBADMSG)
		pp_log(PP_LOG_WARN, "pod '%s': its record is not valid (%s), ignoring", key, err);
	else if (rc == 0 && strcmp(rec->boot_id, sup->boot_id))
		rc = -ESTALE; /* written before a reboot: none of its processes exist */
	if (rc < 0) {
		pp_sup_record_free(rec);
		remove_files(sup, key);
		return rc == -ENOMEM ? rc : -ENOENT;
	}
	*ret = rec;
	return 0;
}

struct pp_pod *pp_sup_manifest_load(struct pp_supervisor *sup, const char *key)
{
	struct pp_diag_list diags = {0};
	struct pp_pod_list pods = {0};
	struct pp_pod *pod = NULL;
	char *text = NULL, name[400];
	size_t len;
	int fd, rc;

	fd = pod_dir(sup, key, false);
	if (fd < 0)
		return NULL;
	rc = pp_store_read(fd, MANIFEST_FILE, PP_MANIFEST_MAX_BYTES, &text, &len);
	close(fd);
	if (rc < 0)
		return NULL;
	snprintf(name, sizeof(name), "%s/pods/%s/" MANIFEST_FILE, sup->cfg->state_dir, key);
	rc = pp_manifest_parse_buffer(name, text, len, &pods, &diags);
	free(text);
	/* podprobe wrote it: exactly one valid pod, else it is not trusted. */
	if (rc == 0 && pods.n == 1 && pp_pod_validate(pods.items[0], &diags) == 0) {
		pod = pods.items[0];
		pods.n = 0;
		if (pp_pod_list_push(&sup->saved, pod) < 0)
			pod = NULL; /* freed by the push */
	}
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
	return pod;
}

void pp_sup_manifest_save(struct pod_rt *pr)
{
	int fd, rc = -EINVAL;

	if (!pr->spec->source)
		return;
	fd = pod_dir(pr->sup, pr->key, true);
	if (fd >= 0) {
		rc = pp_store_write(fd, MANIFEST_FILE, pr->spec->source, pr->spec->source_len);
		close(fd);
	}
	if (rc < 0)
		pp_log_errno(PP_LOG_WARN, rc,
			     "pod '%s': cannot save its manifest (a restarted podprobe could not "
			     "stop it gracefully), ignoring",
			     pr->spec->name);
}

void pp_sup_record_mark_api(struct pod_rt *pr)
{
	int fd = pod_dir(pr->sup, pr->key, true), rc = fd;

	if (fd >= 0) {
		rc = pp_store_write(fd, API_MARK_FILE, "api\n", 4);
		close(fd);
	}
	if (rc < 0)
		pp_log_errno(PP_LOG_WARN, rc,
			     "pod '%s': cannot mark it as the API's (a restarted podprobe would "
			     "delete it), ignoring",
			     pr->spec->name);
}

bool pp_sup_record_is_api(struct pp_supervisor *sup, const char *key)
{
	int fd = pod_dir(sup, key, false);
	bool yes;

	if (fd < 0)
		return false;
	yes = faccessat(fd, API_MARK_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return yes;
}

void pp_sup_manifest_replace(struct pod_rt *pr)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	char *text = json_dumps(pr->object, JSON_COMPACT | JSON_PRESERVE_ORDER);

	/* Its new text and digest, so that a restarted podprobe re-adopts it as it is now. */
	if (text &&
	    pp_manifest_parse_buffer(pr->spec->file ? pr->spec->file : "request", text,
				     strlen(text), &pods, &diags) == 0 &&
	    pods.n == 1) {
		free(pr->spec->source);
		pr->spec->source = text;
		pr->spec->source_len = strlen(text);
		text = NULL;
		snprintf(pr->spec->digest, sizeof(pr->spec->digest), "%s", pods.items[0]->digest);
		pp_sup_manifest_save(pr);
		pp_sup_record_write(pr);
	}
	free(text);
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
}

void pp_sup_pod_remove_logs(struct pod_rt *pr)
{
	int logs =
		openat(pr->sup->rt.dir_fd, "logs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	/* As kubelet's garbage collection of a deleted pod: its logs and volumes go. */
	if (logs >= 0) {
		pp_statedir_remove_tree(logs, pr->key);
		close(logs);
	}
	if (pr->sup->pods_fd >= 0)
		pp_statedir_remove_tree(pr->sup->pods_fd, pr->key);
}

int pp_sup_record_keys(struct pp_supervisor *sup, char ***ret_keys, size_t *ret_n)
{
	struct pp_strv keys = {0};
	struct dirent *e;
	DIR *d;
	int fd, err = 0;

	*ret_keys = NULL;
	*ret_n = 0;
	if (sup->pods_fd < 0)
		return 0;
	fd = fcntl(sup->pods_fd, F_DUPFD_CLOEXEC, 3);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!err && (e = readdir(d))) {
		char rec[NAME_MAX + sizeof("/" RECORD_FILE)];

		/* Pods with a record: after a normal end only volumes are left. */
		snprintf(rec, sizeof(rec), "%s/" RECORD_FILE, e->d_name);
		if (e->d_name[0] != '.' && pp_statedir_pod_key_ok(e->d_name) &&
		    faccessat(dirfd(d), rec, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			err = pp_strv_push(&keys, strdup(e->d_name));
	}
	closedir(d);
	if (err) {
		pp_strv_free(&keys);
		return err;
	}
	*ret_keys = keys.v;
	*ret_n = keys.n;
	return 0;
}

void pp_sup_record_write(struct pod_rt *pr)
{
	struct pp_pod_record rec = {0};
	char *text;
	size_t len;
	int fd, rc;

	pr->record_dirty = false;
	if (!pr->begun)
		return;
	rec.c = calloc(pr->st.n ? pr->st.n : 1, sizeof(*rec.c));
	if (!rec.c) {
		pr->record_dirty = true;
		pp_sup_turn_work(pr->sup);
		return;
	}
	snprintf(rec.boot_id, sizeof(rec.boot_id), "%s", pr->sup->boot_id);
	snprintf(rec.digest, sizeof(rec.digest), "%s", pr->spec->digest);
	rec.created = pr->created;
	rec.pod = pr->st; /* the codec reads only the recorded scalars */
	rec.n = pr->st.n;
	for (size_t i = 0; i < pr->st.n; i++) {
		const struct cont_rt *c = &pr->c[i];
		struct pp_cont_record *r = &rec.c[i];

		r->st = pr->st.c[i];
		for (int k = 0; k < _PP_PROBE_MAX; k++)
			r->probe_published[k] = c->probes[k] ? c->probes[k]->job.w.published : 0;
		if (c->instance && c->proc.pidfd >= 0) {
			r->pid = c->proc.pid;
			r->pid_start = c->proc.start_ticks;
			snprintf(r->cg2, sizeof(r->cg2), "%s", c->proc.cg2 ? c->proc.cg2 : "");
			snprintf(r->memv1, sizeof(r->memv1), "%s",
				 c->proc.memv1 ? c->proc.memv1 : "");
		}
	}
	rc = pp_pod_record_encode(&rec, &text, &len);
	free(rec.c);
	if (rc == 0) {
		fd = pod_dir(pr->sup, pr->key, true);
		rc = fd < 0 ? fd : pp_store_write(fd, RECORD_FILE, text, len);
		if (fd >= 0)
			close(fd);
		free(text);
	}
	if (rc < 0) {
		pr->record_dirty = true; /* tried again after the next pass */
		pp_sup_turn_work(pr->sup);
		pp_log_errno(PP_LOG_WARN, rc, "pod '%s': cannot write its record", pr->spec->name);
	}
}

void pp_sup_records_flush(struct pp_supervisor *sup, pp_nsec now)
{
	bool due = sup->records_at && now >= sup->records_at;

	if (sup->records_at && !due)
		return; /* the flush is set already */
	sup->records_at = 0;
	for (size_t i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i) ? &sup->pods[i] : NULL;

		if (!pr || !pr->record_dirty)
			continue;
		if (due)
			pp_sup_record_write(pr);
		/* Marked since, or its write failed: written PP_RECORDS_DELAY from now. */
		if (pr->record_dirty && !sup->records_at)
			sup->records_at = now + PP_RECORDS_DELAY;
		if (!due && sup->records_at)
			break;
	}
}

void pp_sup_record_remove(struct pod_rt *pr)
{
	pr->record_dirty = false;
	pr->begun = false;
	remove_files(pr->sup, pr->key);
}

/* The recorded fields of the pod, into the controller's fresh state (same spec, same size). */
static void restore_state(struct pod_rt *pr, const struct pp_pod_record *rec)
{
	struct pp_pod_state *ps = &pr->st;

	ps->phase = rec->pod.phase;
	snprintf(ps->reason, sizeof(ps->reason), "%s", rec->pod.reason);
	snprintf(ps->message, sizeof(ps->message), "%s", rec->pod.message);
	ps->start_time = rec->pod.start_time;
	ps->initialized = rec->pod.initialized;
	ps->ever_ran_main = rec->pod.ever_ran_main;
	ps->terminating = rec->pod.terminating;
	ps->deleted = rec->pod.deleted;
	ps->terminate_start = rec->pod.terminate_start;
	ps->terminal = rec->pod.terminal;
	for (size_t i = 0; i < ps->n; i++) {
		bool regular_init = ps->c[i].regular_init; /* the spec's, not recorded */

		ps->c[i] = rec->c[i].st;
		ps->c[i].regular_init = regular_init;
		/* A start in flight has no process to show for it: it never happened. */
		ps->c[i].start_pending = false;
	}
	pr->created = rec->created;
}

void pp_sup_adopt(struct pod_rt *pr, pp_nsec now)
{
	struct pp_pod_record *rec = pr->rec;
	struct pp_actions *acts = &pr->sup->acts;
	unsigned int running = 0, ended = 0;

	pr->rec = NULL;
	pr->begun = true;
	restore_state(pr, rec);
	for (size_t i = 0; i < pr->st.n; i++) {
		const struct pp_cont_record *r = &rec->c[i];
		struct pp_container_state *cs = &pr->st.c[i];
		struct cont_rt *c = &pr->c[i];
		struct pp_exit_info ex = {0};
		int rc;

		if (!cs->alive)
			continue;
		rc = pp_runtime_adopt(&pr->sup->rt, r->pid, r->pid_start, r->cg2, r->memv1,
				      &c->proc, &ex);
		if (rc == 0) {
			c->instance = cs->instance;
			pp_sup_container_adopted(c, r->probe_published);
			running++;
			continue;
		}
		/* It ended while nobody watched: how, if a zombie still says, else unknown. */
		ex.unknown = rc < 0;
		ended++;
		pp_lc_on_exit(&pr->st, (uint32_t)i, cs->instance, &ex, now, acts);
	}
	/* Hooks that were running are not run again (kubelet does not either): done. */
	for (size_t i = 0; i < pr->st.n; i++) {
		struct pp_container_state *cs = &pr->st.c[i];

		if (cs->alive && cs->post_start_running)
			pp_lc_on_hook_done(&pr->st, (uint32_t)i, cs->instance, PP_HOOK_POST_START,
					   true, NULL, now, acts);
		if (cs->alive && cs->pre_stop_running)
			pp_lc_on_hook_done(&pr->st, (uint32_t)i, cs->instance, PP_HOOK_PRE_STOP,
					   true, NULL, now, acts);
	}
	pp_log(PP_LOG_NOTICE,
	       "pod '%s': re-adopted from the last run, %u container%s running, "
	       "%u ended meanwhile",
	       pr->spec->name, running, running == 1 ? "" : "s", ended);
	pp_sup_record_free(rec);
	/* Back-offs, grace periods and deadlines that passed while podprobe was down. */
	pp_lc_on_timer(&pr->st, now, acts);
	pr->record_dirty = true;
	pp_sup_run_actions(pr);
}
