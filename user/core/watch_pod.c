// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe watch`, pure: a Pod object of the API into what to watch (podprobe/watch_pod.h).
 * Field names are core/v1's (k8s.io/api/core/v1 types.go: Pod, PodStatus, ContainerStatus).
 */
#include "podprobe/watch_pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/http_req.h"
#include "podprobe/probe-t.h"

static const char *str_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

void pp_watch_pod_free(struct pp_watch_pod *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_containers; i++) {
		free(p->containers[i].name);
		free(p->containers[i].container_id);
	}
	free(p->containers);
	free(p->namespace);
	free(p->name);
	free(p->uid);
	free(p->pod_ip);
	free(p->host_ip);
	json_decref(p->probe_doc);
	free(p);
}

static const char *const probe_keys[] = {"startupProbe", "livenessProbe", "readinessProbe"};

/* The container of spec.containers reduced to what the manifest reader needs for probes. */
static json_t *probe_container(const json_t *c, bool *has_probes)
{
	json_t *out = json_object();
	const json_t *v;

	if (!out)
		return NULL;
	json_object_set_new(out, "name", json_string(str_of(c, "name")));
	if (str_of(c, "image"))
		json_object_set_new(out, "image", json_string(str_of(c, "image")));
	v = json_object_get(c, "ports");
	if (json_is_array(v)) {
		json_t *ports = json_array();
		size_t i;
		const json_t *p;

		json_array_foreach(v, i, p)
		{
			json_t *q = json_object();
			const json_t *f;

			if (!json_is_object(p) || !q) {
				json_decref(q);
				continue;
			}
			if (str_of(p, "name"))
				json_object_set_new(q, "name", json_string(str_of(p, "name")));
			f = json_object_get(p, "containerPort");
			if (json_is_integer(f))
				json_object_set_new(q, "containerPort", json_copy((json_t *)f));
			if (str_of(p, "protocol"))
				json_object_set_new(q, "protocol",
						    json_string(str_of(p, "protocol")));
			json_array_append_new(ports, q);
		}
		json_object_set_new(out, "ports", ports);
	}
	for (size_t k = 0; k < 3; k++) {
		v = json_object_get(c, probe_keys[k]);
		if (json_is_object(v)) {
			json_object_set_new(out, probe_keys[k], json_deep_copy(v));
			*has_probes = true;
		}
	}
	return out;
}

/* The manifest the probe parser reads (see struct pp_watch_pod). */
static json_t *probe_doc(const json_t *pod, const struct pp_watch_pod *p, bool *has_probes)
{
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *ann = json_object_get(meta, "annotations");
	const json_t *containers = json_object_get(spec, "containers");
	json_t *doc, *md, *cs, *an, *v;
	const char *key;
	size_t i;

	doc = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:[]}}", "apiVersion", "v1", "kind",
			"Pod", "metadata", "name", p->name, "namespace", p->namespace, "uid",
			p->uid, "spec", "containers");
	if (!doc)
		return NULL;
	md = json_object_get(doc, "metadata");
	if (json_is_object(ann)) {
		an = json_object();
		json_object_foreach((json_t *)ann, key, v)
		{
			if (json_is_string(v) &&
			    !strncmp(key, PP_ANN_PREFIX, strlen(PP_ANN_PREFIX)))
				json_object_set_new(an, key, json_string(json_string_value(v)));
		}
		json_object_set_new(md, "annotations", an);
	}
	cs = json_object_get(json_object_get(doc, "spec"), "containers");
	json_array_foreach(containers, i, v)
	{
		if (i >= PP_WATCH_MAX_CONTAINERS)
			break;
		if (json_array_append_new(cs, probe_container(v, has_probes)) < 0) {
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}

/* containerStatuses[] entry named <name>, or NULL. */
static const json_t *status_of(const json_t *statuses, const char *name)
{
	size_t i;
	const json_t *s;

	json_array_foreach(statuses, i, s)
	{
		const char *n = str_of(s, "name");

		if (n && !strcmp(n, name))
			return s;
	}
	return NULL;
}

static bool has_gate(const json_t *spec)
{
	size_t i;
	const json_t *g;

	json_array_foreach(json_object_get(spec, "readinessGates"), i, g)
	{
		const char *t = str_of(g, "conditionType");

		if (t && !strcmp(t, PP_WATCH_GATE))
			return true;
	}
	return false;
}

static int fill_containers(const json_t *pod, struct pp_watch_pod *p)
{
	const json_t *containers = json_object_get(json_object_get(pod, "spec"), "containers");
	const json_t *statuses =
		json_object_get(json_object_get(pod, "status"), "containerStatuses");
	size_t n = json_array_size(containers), i;
	const json_t *c;

	if (n > PP_WATCH_MAX_CONTAINERS)
		n = PP_WATCH_MAX_CONTAINERS;
	p->containers = calloc(n ? n : 1, sizeof(*p->containers));
	if (!p->containers)
		return -ENOMEM;
	json_array_foreach(containers, i, c)
	{
		struct pp_watch_container *wc = &p->containers[p->n_containers];
		const char *name = str_of(c, "name");
		const json_t *st, *rc;

		if (i >= n)
			break;
		if (!name)
			continue;
		p->n_containers++;
		if (dup_opt(name, &wc->name) < 0)
			return -ENOMEM;
		st = status_of(statuses, name);
		if (!st)
			continue;
		if (str_of(st, "containerID") && *str_of(st, "containerID") &&
		    dup_opt(str_of(st, "containerID"), &wc->container_id) < 0)
			return -ENOMEM;
		rc = json_object_get(st, "restartCount");
		if (json_is_integer(rc) && json_integer_value(rc) >= 0 &&
		    json_integer_value(rc) <= UINT32_MAX)
			wc->restart_count = (uint32_t)json_integer_value(rc);
		wc->ready = json_is_true(json_object_get(st, "ready"));
		wc->started = json_is_true(json_object_get(st, "started"));
		wc->running =
			json_is_object(json_object_get(json_object_get(st, "state"), "running"));
	}
	return 0;
}

int pp_watch_pod_from_json(const json_t *pod, struct pp_watch_pod **ret, char *err, size_t size)
{
	const json_t *meta = json_object_get(pod, "metadata");
	const json_t *status = json_object_get(pod, "status");
	const char *name = str_of(meta, "name"), *uid = str_of(meta, "uid");
	const char *ns = str_of(meta, "namespace"), *act;
	struct pp_watch_pod *p;
	int rc;

	if (!json_is_object(pod) || !name || !*name || !uid || !*uid) {
		snprintf(err, size, "%s",
			 !json_is_object(pod) ? "not an object"
			 : !name || !*name    ? "no metadata.name"
					      : "no metadata.uid");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = dup_opt(name, &p->name);
	if (!rc)
		rc = dup_opt(uid, &p->uid);
	if (!rc)
		rc = dup_opt(ns && *ns ? ns : "default", &p->namespace);
	if (!rc)
		rc = dup_opt(str_of(status, "podIP"), &p->pod_ip);
	if (!rc)
		rc = dup_opt(str_of(status, "hostIP"), &p->host_ip);
	if (!rc)
		rc = fill_containers(pod, p);
	if (rc < 0)
		goto fail;
	p->gate = has_gate(json_object_get(pod, "spec"));
	act = str_of(json_object_get(meta, "annotations"), PP_WATCH_ACT_ANNOTATION);
	p->act_restart = act && !strcmp(act, "restart");
	p->probe_doc = probe_doc(pod, p, &p->has_probes);
	if (!p->probe_doc) {
		rc = -ENOMEM;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	snprintf(err, size, "out of memory");
	pp_watch_pod_free(p);
	return rc;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

enum pp_watch_change pp_watch_pod_compare(const struct pp_watch_pod *old,
					  const struct pp_watch_pod *new, uint64_t *ret_mask)
{
	uint64_t mask = 0;

	*ret_mask = 0;
	if (!str_eq(old->pod_ip, new->pod_ip) || old->gate != new->gate ||
	    old->act_restart != new->act_restart || old->n_containers != new->n_containers ||
	    !json_equal(old->probe_doc, new->probe_doc))
		return PP_WATCH_SPEC;
	for (size_t i = 0; i < old->n_containers; i++) {
		const struct pp_watch_container *a = &old->containers[i], *b = &new->containers[i];

		if (!str_eq(a->name, b->name))
			return PP_WATCH_SPEC;
		if (!str_eq(a->container_id, b->container_id) ||
		    a->restart_count != b->restart_count || a->running != b->running)
			mask |= 1ull << (i < 63 ? i : 63);
	}
	*ret_mask = mask;
	return mask ? PP_WATCH_CONTAINERS : PP_WATCH_SAME;
}

static const char *const change_str[_PP_WATCH_CHANGE_MAX] = {
	[PP_WATCH_SAME] = "same",
	[PP_WATCH_CONTAINERS] = "containers",
	[PP_WATCH_SPEC] = "spec",
};

const char *pp_watch_change_str(enum pp_watch_change c)
{
	return (unsigned int)c < _PP_WATCH_CHANGE_MAX ? change_str[c] : "?";
}

static const struct {
	const char *scheme;
	enum pp_watch_runtime rt;
	const char *scope; /* systemd driver: <scope>ID.scope */
	const char *plain; /* cgroupfs driver: <plain>ID */
} runtimes[] = {
	/* containerd pkg/cri: "cri-containerd" systemd prefix; cgroupfs: the bare ID. */
	{"containerd", PP_WATCH_RT_CONTAINERD, "cri-containerd-", ""},
	/* CRI-O internal/config/cgmgr: crio-ID.scope (systemd), crio-ID (cgroupfs). */
	{"cri-o", PP_WATCH_RT_CRIO, "crio-", "crio-"},
	/* moby daemon/oci_linux.go: docker-ID.scope (systemd), /docker/ID or podUID/ID. */
	{"docker", PP_WATCH_RT_DOCKER, "docker-", ""},
};

/* A path component that names exactly one directory entry. */
static bool safe_name(const char *s, size_t len)
{
	if (!len || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20)
			return false;
	return true;
}

/* As user/io/runtime.c safe_component(): '/' becomes '_', at most <max> - 1 bytes. */
static void safe_component(const char *s, char *out, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < max; i++)
		out[i] = s[i] == '/' ? '_' : s[i];
	out[i] = '\0';
}

int pp_watch_cgroup_names(const char *container_id, const char *pod_uid, const char *container,
			  uint32_t restart_count, struct pp_watch_cg_names *ret)
{
	const char *sep = container_id ? strstr(container_id, "://") : NULL;
	const char *id;
	size_t slen, idlen;
	struct pp_watch_cg_names out = {0};

	if (!sep)
		return -EINVAL;
	slen = (size_t)(sep - container_id);
	id = sep + 3;
	idlen = strlen(id);
	if (slen == 8 && !strncmp(container_id, "podprobe", 8)) {
		char name[128], uid[9];

		/* podprobe run's leaf (runtime.c pp_runtime_spawn): the ID's hash is no path. */
		if (!container || !safe_name(container, strlen(container)))
			return -EINVAL;
		safe_component(container, name, sizeof(name));
		out.runtime = PP_WATCH_RT_PODPROBE;
		if (pod_uid && *pod_uid) {
			safe_component(pod_uid, uid, sizeof(uid));
			snprintf(out.names[out.n++], PP_WATCH_CG_NAME_MAX, "%s-%s-%u", name, uid,
				 restart_count);
		} else
			snprintf(out.names[out.n++], PP_WATCH_CG_NAME_MAX, "%s-%u", name,
				 restart_count);
		*ret = out;
		return 0;
	}
	if (!safe_name(id, idlen) || idlen + 32 > PP_WATCH_CG_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		if (strlen(runtimes[i].scheme) != slen ||
		    strncmp(container_id, runtimes[i].scheme, slen))
			continue;
		out.runtime = runtimes[i].rt;
		snprintf(out.names[out.n++], PP_WATCH_CG_NAME_MAX, "%s%s.scope", runtimes[i].scope,
			 id);
		snprintf(out.names[out.n++], PP_WATCH_CG_NAME_MAX, "%s%s", runtimes[i].plain, id);
		*ret = out;
		return 0;
	}
	return -EPROTONOSUPPORT;
}

int pp_watch_main_pid(const int32_t *pids, const int32_t *ppids, size_t n)
{
	int32_t best = -1, lowest = -1;

	for (size_t i = 0; i < n; i++) {
		bool inside = false;

		for (size_t j = 0; j < n && !inside; j++)
			inside = ppids[i] == pids[j];
		if (lowest < 0 || pids[i] < lowest)
			lowest = pids[i];
		if (!inside && (best < 0 || pids[i] < best))
			best = pids[i];
	}
	if (!n)
		return -ENOENT;
	/* Every parent inside is a cycle no process tree has; take the lowest then. */
	return best >= 0 ? best : lowest;
}

static const char *const kind_names[_PP_PROBE_MAX] = {
	[PP_PROBE_STARTUP] = "startup",
	[PP_PROBE_LIVENESS] = "liveness",
	[PP_PROBE_READINESS] = "readiness",
};

const char *pp_watch_kind_str(enum pp_probe_kind kind)
{
	return (unsigned int)kind < _PP_PROBE_MAX ? kind_names[kind] : "?";
}

/* Segment <i> of <path> (after the leading '/') decoded into <buf>. */
static int segment(const char **p, char *buf, size_t size)
{
	const char *s = *p, *e = strchr(s, '/');
	size_t len = e ? (size_t)(e - s) : strlen(s);
	int rc;

	if (!len)
		return -ENOENT;
	rc = pp_http_unescape(s, len, buf, size);
	if (rc == -ENOSPC)
		return -ENAMETOOLONG;
	if (rc <= 0)
		return -ENOENT;
	*p = e ? e + 1 : s + len;
	return e ? 1 : 0;
}

int pp_watch_proxy_path(const char *path, char *ns, char *pod, char *container, size_t size,
			enum pp_probe_kind *ret_kind)
{
	char kind[16];
	const char *p;
	int rc;

	if (strncmp(path, "/probe/", 7))
		return -ENOENT;
	p = path + 7;
	if ((rc = segment(&p, ns, size)) != 1 || (rc = segment(&p, pod, size)) != 1 ||
	    (rc = segment(&p, container, size)) != 1)
		return rc < 0 ? rc : -ENOENT;
	rc = segment(&p, kind, sizeof(kind));
	if (rc != 0)
		return rc < 0 && rc != -ENAMETOOLONG ? rc : -ENOENT;
	for (int k = 0; k < _PP_PROBE_MAX; k++)
		if (!strcmp(kind, kind_names[k])) {
			*ret_kind = (enum pp_probe_kind)k;
			return 0;
		}
	return -ENOENT;
}

/* The proxy path at <s> (a "/probe/..." up to a space, quote, '?' or '#') into <ref>. */
static void ref_from(const char *s, struct pp_watch_proxy_ref *ref)
{
	size_t len = strcspn(s, " \t\n\"'?#");
	char path[4 * PP_WATCH_NAME_MAX];

	ref->named = false;
	if (len >= sizeof(path))
		return;
	memcpy(path, s, len);
	path[len] = '\0';
	/* kubelet expands $(VAR) in an exec command (from the container's env): not here. */
	if (strstr(path, "$("))
		return;
	ref->named = pp_watch_proxy_path(path, ref->ns, ref->pod, ref->container, sizeof(ref->ns),
					 &ref->kind) == 0;
}

bool pp_watch_probe_proxied(const struct pp_handler *h, int port, int proxy_port,
			    struct pp_watch_proxy_ref *ret)
{
	char hostport[16];
	const char *at, *probe;
	size_t len = 0, off = 0;
	char *line;

	if (!h || proxy_port < 1 || proxy_port > 65535)
		return false;
	if (h->kind == PP_HANDLER_HTTP_GET) {
		if (port != proxy_port || !h->path || strncmp(h->path, "/probe/", 7))
			return false;
		ref_from(h->path, ret);
		return true;
	}
	if (h->kind != PP_HANDLER_EXEC || !h->n_command)
		return false;
	for (size_t i = 0; i < h->n_command; i++)
		len += (h->command[i] ? strlen(h->command[i]) : 0) + 1;
	line = malloc(len);
	if (!line)
		return false;
	for (size_t i = 0; i < h->n_command; i++) {
		size_t n = h->command[i] ? strlen(h->command[i]) : 0;

		memcpy(line + off, h->command[i] ? h->command[i] : "", n);
		off += n;
		line[off++] = i + 1 < h->n_command ? ' ' : '\0';
	}
	snprintf(hostport, sizeof(hostport), ":%d/", proxy_port);
	at = strstr(line, hostport);
	probe = strstr(line, "/probe/");
	if (!at || !probe) {
		free(line);
		return false;
	}
	/* The URL's own path when it is there (":PORT/probe/..."), else the first one. */
	at += strlen(hostport) - 1;
	ref_from(!strncmp(at, "/probe/", 7) ? at : probe, ret);
	free(line);
	return true;
}
