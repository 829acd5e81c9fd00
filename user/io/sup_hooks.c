// SPDX-License-Identifier: Apache-2.0
/*
 * Lifecycle hooks (postStart, preStop): exec and httpGet run as prober attempts, sleep as a
 * deadline in the supervisor's heap; each result goes back to the controller.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "podprobe/clock.h"
#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"

#define HOOK_NO_TIMEOUT (24 * 3600 * PP_NSEC_PER_SEC) /* kubelet sets none on exec/http hooks */

/* ---- lifecycle hooks
 * ------------------------------------------------------------------------------ */

static void hook_done(struct cont_rt *c, enum pp_hook_kind kind, bool ok, const char *message)
{
	struct hook_rt *h = &c->hooks[kind];
	struct pod_rt *pr = c->pod;
	uint32_t instance = h->instance;

	h->instance = 0;
	h->attempt = 0;
	pp_lc_on_hook_done(&pr->st, c->ci, instance, kind, ok, message, pp_clock_now(),
			   &pr->sup->acts);
}

/* L.9: the message kubelet keeps for a failed hook. */
static void hook_message(struct cont_rt *c, const struct pp_handler *h, const char *err, char *buf,
			 size_t size)
{
	const struct pp_pod *pod = c->pod->spec;
	const char *name = pp_pod_container(pod, c->ci)->name;
	char argv[512] = "";
	size_t len = 0;

	if (h->kind == PP_HANDLER_EXEC) {
		for (size_t i = 0; i < h->n_command && len < sizeof(argv); i++)
			len += (size_t)snprintf(argv + len, sizeof(argv) - len, "%s%s",
						i ? " " : "", h->command[i]);
		snprintf(buf, size,
			 "Exec lifecycle hook ([%s]) for Container \"%s\" in Pod \"%s_%s(%s)\" "
			 "failed - "
			 "error: command '%s' exited with a non-zero status, message: \"%.200s\"",
			 argv, name, pod->name, pod->namespace, c->pod->st.uid, argv, err);
	} else if (h->kind == PP_HANDLER_HTTP_GET) {
		snprintf(buf, size,
			 "HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" "
			 "failed - "
			 "error: %.300s",
			 h->path ? h->path : "/", name, pod->name, pod->namespace, c->pod->st.uid,
			 err);
	} else {
		snprintf(buf, size,
			 "lifecycle hook for Container \"%s\" in Pod \"%s_%s(%s)\" failed - error: "
			 "%s",
			 name, pod->name, pod->namespace, c->pod->st.uid, err);
	}
}

static void on_hook_attempt(void *ctx, const struct pp_probe_report *rep)
{
	struct cont_rt *c = ((struct hook_rt *)ctx)->c;
	enum pp_hook_kind kind = ((struct hook_rt *)ctx)->kind;
	const struct pp_container_spec *cs = pp_pod_container(c->pod->spec, c->ci);
	const struct pp_handler *h = kind == PP_HOOK_POST_START ? &cs->post_start : &cs->pre_stop;
	char msg[1024];
	bool ok;

	if (!c->hooks[kind].instance)
		return;
	/* L.7: an HTTP hook fails on transport errors only; any status is a success. */
	ok = rep->result == PP_RESULT_SUCCESS || rep->result == PP_RESULT_WARNING ||
	     (h->kind == PP_HANDLER_HTTP_GET && rep->http_status);
	if (!ok)
		hook_message(c, h, rep->message, msg, sizeof(msg));
	hook_done(c, kind, ok, ok ? NULL : msg);
	pp_sup_run_actions(c->pod);
}

/* Run hook <kind> of container <ci>'s instance <instance> (PP_ACT_HOOK). */
void pp_sup_hook_start(struct pod_rt *pr, uint32_t ci, uint32_t instance, enum pp_hook_kind kind)
{
	struct cont_rt *c = &pr->c[ci];
	struct hook_rt *h = &c->hooks[kind];
	const struct pp_container_spec *cs = pp_pod_container(pr->spec, ci);
	const struct pp_handler *hd = kind == PP_HOOK_POST_START ? &cs->post_start : &cs->pre_stop;
	struct pp_probe_target *t = &h->target;
	char msg[1024];
	int port, err = 0;

	h->c = c;
	h->kind = kind;
	h->instance = instance;
	pp_strv_free(&h->argv);
	memset(t, 0, sizeof(*t));
	t->kind = hd->kind;
	t->mnt_ns_fd = -1;
	switch (hd->kind) {
	case PP_HANDLER_SLEEP:
		h->gen = ++pr->sup->hook_gen;
		pp_sched_push(&pr->sup->sched,
			      pp_clock_now() + (pp_nsec)hd->sleep_seconds * PP_NSEC_PER_SEC,
			      SUP_HOOK_KEY_BASE + 2 * c->gidx + kind, h->gen);
		return;
	case PP_HANDLER_EXEC:
		/* L.2: the command is used verbatim, no $(VAR) expansion. */
		for (size_t i = 0; i < hd->n_command && !err; i++)
			err = pp_strv_push(&h->argv, strdup(hd->command[i]));
		pp_sup_exec_target(c, t, h->argv.v);
		break;
	case PP_HANDLER_HTTP_GET:
		port = pp_container_resolve_port(cs, &hd->port);
		err = port < 0 ? port : pp_probe_target_resolve(t, hd->host, port);
		t->host = hd->host && *hd->host ? hd->host : "127.0.0.1";
		t->https = hd->scheme && !strcasecmp(hd->scheme, "HTTPS");
		t->path = hd->path;
		t->headers = hd->headers;
		t->n_headers = hd->n_headers;
		t->user_agent = "kube-lifecycle/1.34";
		break;
	default:
		/* L.1: tcpSocket hooks pass validation but kubelet cannot run them. */
		hook_message(c, hd, "invalid handler", msg, sizeof(msg));
		hook_done(c, kind, false, msg);
		return;
	}
	if (!err)
		err = pp_prober_start(pp_probe_runner_prober(pr->sup->runner), t, HOOK_NO_TIMEOUT,
				      on_hook_attempt, h, &h->attempt);
	if (err) {
		hook_message(c, hd, strerror(-err), msg, sizeof(msg));
		hook_done(c, kind, false, msg);
	}
}

void pp_sup_hook_sleep_done(struct pp_supervisor *sup, const struct pp_sched_entry *e)
{
	uint32_t n = e->key - SUP_HOOK_KEY_BASE;
	struct cont_rt *c;
	enum pp_hook_kind kind = (enum pp_hook_kind)(n % 2);

	if (n / 2 >= sup->n_conts)
		return;
	c = sup->conts[n / 2];
	if (!c || !c->hooks[kind].instance || c->hooks[kind].gen != e->gen)
		return;
	hook_done(c, kind, true, NULL);
	pp_sup_run_actions(c->pod);
}

/* The container is gone: its hooks stop (exec hooks are killed, sleeps forgotten). */
void pp_sup_hooks_cancel(struct cont_rt *c)
{
	for (int k = 0; k < _PP_HOOK_MAX; k++) {
		struct hook_rt *h = &c->hooks[k];

		if (h->attempt)
			pp_prober_cancel(pp_probe_runner_prober(c->pod->sup->runner), h->attempt);
		h->attempt = 0;
		h->instance = 0;
		h->gen++;
	}
}
