// SPDX-License-Identifier: Apache-2.0
/* The pure half of the Kubernetes API client (podprobe/kube_obj.h). */
#include "podprobe/kube_obj.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/api_obj.h"

/* ---- kubeconfig ----------------------------------------------------------------------- */

static int cfg_err(char *err, size_t size, int rc, const char *path, const char *fmt, const char *a,
		   const char *b)
{
	if (err && size) {
		int n = snprintf(err, size, "kubeconfig %s: ", path ? path : "(none)");

		if (n >= 0 && (size_t)n < size)
			snprintf(err + n, size - (size_t)n, fmt, a ? a : "", b ? b : "");
	}
	return rc;
}

/* The entry of list <key> (clusters, users, contexts) named <name>; its index in <ret_i>. */
static const json_t *named(const json_t *doc, const char *key, const char *name, size_t *ret_i)
{
	const json_t *list = json_object_get(doc, key), *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && !strcmp(n, name)) {
			*ret_i = i;
			return e;
		}
	}
	return NULL;
}

/* A path field, relative ones taken from <dir>. */
static int dup_path(const char *v, const char *dir, char **ret)
{
	size_t n;

	if (!v || !*v)
		return 0;
	if (v[0] == '/' || !dir || !*dir) {
		*ret = strdup(v);
	} else {
		n = strlen(dir) + strlen(v) + 2;
		*ret = malloc(n);
		if (*ret)
			snprintf(*ret, n, "%s/%s", dir, v);
	}
	return *ret ? 0 : -ENOMEM;
}

static const char *str_field(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v && *v ? v : NULL;
}

/* A *-data field: base64 of a PEM. */
static int data_field(const json_t *o, const char *k, char **ret, const char *path,
		      const char *where, char *err, size_t size)
{
	const char *v = str_field(o, k);
	char field[128];
	int rc;

	if (!v)
		return 0;
	rc = pp_kube_b64_decode(v, ret);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		snprintf(field, sizeof(field), "%s.%s", where, k);
		return cfg_err(err, size, -EINVAL, path, "%s: not valid base64%s", field, NULL);
	}
	return 0;
}

int pp_kube_config_parse(const json_t *doc, const char *path, const char *dir,
			 struct pp_kube_config *ret, char *err, size_t err_size)
{
	struct pp_kube_config c = {0};
	const json_t *ctx, *cl, *us, *cluster, *user;
	const char *cur, *cl_name, *us_name, *v;
	char where[96], uwhere[96];
	size_t ci, li, ui;
	int rc;

	if (!json_is_object(doc))
		return cfg_err(err, err_size, -EINVAL, path, "not a mapping%s%s", NULL, NULL);
	cur = str_field(doc, "current-context");
	if (!cur)
		return cfg_err(err, err_size, -EINVAL, path, "current-context: not set%s%s", NULL,
			       NULL);
	ctx = named(doc, "contexts", cur, &ci);
	if (!ctx)
		return cfg_err(err, err_size, -EINVAL, path,
			       "current-context: no context named \"%s\" in contexts%s", cur, NULL);
	ctx = json_object_get(ctx, "context");
	cl_name = str_field(ctx, "cluster");
	us_name = str_field(ctx, "user");
	snprintf(where, sizeof(where), "contexts[%zu].context", ci);
	if (!cl_name)
		return cfg_err(err, err_size, -EINVAL, path, "%s.cluster: not set%s", where, NULL);
	cl = named(doc, "clusters", cl_name, &li);
	if (!cl)
		return cfg_err(err, err_size, -EINVAL, path, "%s.cluster: no cluster named \"%s\"",
			       where, cl_name);
	cluster = json_object_get(cl, "cluster");
	snprintf(where, sizeof(where), "clusters[%zu].cluster", li);
	us = us_name ? named(doc, "users", us_name, &ui) : NULL;
	if (us_name && !us) {
		snprintf(where, sizeof(where), "contexts[%zu].context.user", ci);
		return cfg_err(err, err_size, -EINVAL, path, "%s: no user named \"%s\"", where,
			       us_name);
	}
	user = us ? json_object_get(us, "user") : NULL;
	snprintf(uwhere, sizeof(uwhere), "users[%zu].user", us ? ui : 0);

	v = str_field(cluster, "server");
	if (!v)
		return cfg_err(err, err_size, -EINVAL, path, "%s.server: not set%s", where, NULL);
	c.server = strdup(v);
	if (!c.server)
		goto oom;
	rc = pp_kube_server_parse(v, c.host, sizeof(c.host), &c.port, &c.host_is_ip);
	if (rc < 0) {
		pp_kube_config_fini(&c);
		return cfg_err(err, err_size, rc == -ENOTSUP ? -ENOTSUP : -EINVAL, path,
			       rc == -ENOTSUP ? "%s.server: only https:// servers are supported "
						"(a bearer token is never sent in clear)"
					      : "%s.server: malformed URL",
			       where, NULL);
	}
	c.insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
	rc = data_field(cluster, "certificate-authority-data", &c.ca_pem, path, where, err,
			err_size);
	if (!rc && !c.ca_pem)
		rc = dup_path(str_field(cluster, "certificate-authority"), dir, &c.ca_file);
	if (rc < 0)
		goto fail;
	if (user && json_object_get(user, "exec")) {
		rc = cfg_err(err, err_size, -ENOTSUP, path,
			     "%s.exec: exec credential plugins are not supported (use a token, "
			     "tokenFile or a client certificate)",
			     uwhere, NULL);
		goto fail;
	}
	if (user && json_object_get(user, "auth-provider")) {
		rc = cfg_err(err, err_size, -ENOTSUP, path,
			     "%s.auth-provider: auth-provider plugins are not supported (use a "
			     "token, tokenFile or a client certificate)",
			     uwhere, NULL);
		goto fail;
	}
	if (user && (json_object_get(user, "username") || json_object_get(user, "password"))) {
		rc = cfg_err(err, err_size, -ENOTSUP, path,
			     "%s.username: basic authentication is not supported%s", uwhere, NULL);
		goto fail;
	}
	v = str_field(user, "token");
	if (v && !(c.token = strdup(v)))
		goto oom;
	if (!c.token && (rc = dup_path(str_field(user, "tokenFile"), dir, &c.token_file)) < 0)
		goto fail;
	if ((rc = data_field(user, "client-certificate-data", &c.cert_pem, path, uwhere, err,
			     err_size)) < 0 ||
	    (!c.cert_pem &&
	     (rc = dup_path(str_field(user, "client-certificate"), dir, &c.cert_file)) < 0) ||
	    (rc = data_field(user, "client-key-data", &c.key_pem, path, uwhere, err, err_size)) <
		    0 ||
	    (!c.key_pem && (rc = dup_path(str_field(user, "client-key"), dir, &c.key_file)) < 0))
		goto fail;
	if ((c.cert_pem || c.cert_file) != (c.key_pem || c.key_file)) {
		rc = cfg_err(err, err_size, -EINVAL, path,
			     "%s: a client certificate needs its key (client-key or "
			     "client-key-data) and the other way round%s",
			     uwhere, NULL);
		goto fail;
	}
	v = str_field(ctx, "namespace");
	c.ns = strdup(v ? v : "default");
	c.context = strdup(cur);
	if (!c.ns || !c.context)
		goto oom;
	*ret = c;
	return 0;
oom:
	rc = -ENOMEM;
	cfg_err(err, err_size, rc, path, "out of memory%s%s", NULL, NULL);
fail:
	pp_kube_config_fini(&c);
	return rc;
}

void pp_kube_config_fini(struct pp_kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_pem);
	free(c->ca_file);
	free(c->token);
	free(c->token_file);
	free(c->cert_pem);
	free(c->cert_file);
	free(c->key_pem);
	free(c->key_file);
	free(c->ns);
	free(c->context);
	memset(c, 0, sizeof(*c));
}

static bool is_ipv4(const char *s)
{
	unsigned int parts = 0, v = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned int)(*s - '0');
			if (++digits > 3 || v > 255)
				return false;
		} else if ((*s == '.' || !*s) && digits) {
			parts++;
			v = digits = 0;
			if (!*s)
				return parts == 4;
		} else {
			return false;
		}
	}
}

int pp_kube_server_parse(const char *server, char *host, size_t host_size, int *ret_port,
			 bool *ret_is_ip)
{
	const char *p, *h, *he, *pe;
	size_t n;
	long port = 443;
	bool v6 = false;

	if (!server || strncasecmp(server, "https://", 8))
		return server && strstr(server, "://") ? -ENOTSUP : -EINVAL;
	h = server + 8;
	if (*h == '[') {
		he = strchr(h, ']');
		if (!he)
			return -EINVAL;
		h++;
		p = he + 1;
		v6 = true;
	} else {
		he = h + strcspn(h, ":/?#");
		p = he;
	}
	n = (size_t)(he - h);
	if (!n)
		return -EINVAL;
	if (n >= host_size)
		return -ENAMETOOLONG;
	if (*p == ':') {
		char *end;

		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535)
			return -EINVAL;
		p = end;
	}
	pe = p;
	if (*pe && strcmp(pe, "/"))
		return -EINVAL; /* a path prefix (a proxy) is not supported */
	memcpy(host, h, n);
	host[n] = '\0';
	if (!v6 && strpbrk(host, "@ \t"))
		return -EINVAL;
	*ret_port = (int)port;
	*ret_is_ip = v6 || is_ipv4(host);
	return 0;
}

/* ---- base64 ----------------------------------------------------------------------------- */

static int b64_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int pp_kube_b64_decode(const char *in, char **ret)
{
	size_t len = strlen(in), n = 0;
	unsigned int acc = 0, bits = 0, pad = 0;
	char *out = malloc(len / 4 * 3 + 4);

	if (!out)
		return -ENOMEM;
	for (const char *p = in; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64_val(*p);
		if (v < 0 || pad)
			goto bad;
		acc = acc << 6 | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)))
		goto bad;
	out[n] = '\0';
	*ret = out;
	return (int)n;
bad:
	free(out);
	return -EINVAL;
}

/* ---- request paths ----------------------------------------------------------------------- */

int pp_kube_query_escape(const char *in, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			     *p == '~';

		if (n + (plain ? 1 : 3) >= size)
			return -ENOSPC;
		if (plain) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	if (n >= size)
		return -ENOSPC;
	buf[n] = '\0';
	return (int)n;
}

static int sel(const char *node, char *buf, size_t size)
{
	char raw[300];

	if (snprintf(raw, sizeof(raw), "spec.nodeName=%s", node) >= (int)sizeof(raw))
		return -ENOSPC;
	return pp_kube_query_escape(raw, buf, size);
}

int pp_kube_list_path(char *buf, size_t size, const char *node, unsigned int limit,
		      const char *cont)
{
	char s[1000], c[3000] = "";
	int n;

	if (sel(node, s, sizeof(s)) < 0 ||
	    (cont && *cont && pp_kube_query_escape(cont, c, sizeof(c)) < 0))
		return -ENOSPC;
	n = snprintf(buf, size, "/api/v1/pods?fieldSelector=%s&limit=%u%s%s", s, limit,
		     *c ? "&continue=" : "", c);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int pp_kube_watch_path(char *buf, size_t size, const char *node, const char *rv,
		       unsigned int timeout_s)
{
	char s[1000], r[200];
	int n;

	if (sel(node, s, sizeof(s)) < 0 || pp_kube_query_escape(rv ? rv : "", r, sizeof(r)) < 0)
		return -ENOSPC;
	n = snprintf(buf, size,
		     "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=%s&resourceVersion=%s"
		     "&timeoutSeconds=%u&watch=1",
		     s, r, timeout_s);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* ---- watch lines --------------------------------------------------------------------------- */

static const char *const watch_names[_PP_KUBE_WATCH_MAX] = {
	[PP_KUBE_WATCH_ADDED] = "ADDED",     [PP_KUBE_WATCH_MODIFIED] = "MODIFIED",
	[PP_KUBE_WATCH_DELETED] = "DELETED", [PP_KUBE_WATCH_BOOKMARK] = "BOOKMARK",
	[PP_KUBE_WATCH_ERROR] = "ERROR",
};

int pp_kube_watch_decode(const char *line, size_t len, struct pp_kube_watch_ev *ret, char *err,
			 size_t err_size)
{
	json_error_t je;
	json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je), *obj;
	const char *type;
	int t;

	if (!doc) {
		if (err && err_size)
			snprintf(err, err_size, "watch event: %s", je.text);
		return -EBADMSG;
	}
	type = json_string_value(json_object_get(doc, "type"));
	obj = json_object_get(doc, "object");
	for (t = 0; type && t < _PP_KUBE_WATCH_MAX; t++)
		if (!strcmp(type, watch_names[t]))
			break;
	if (!type || t == _PP_KUBE_WATCH_MAX || !json_is_object(obj)) {
		if (err && err_size)
			snprintf(err, err_size, "watch event: %s",
				 !type			   ? "no type"
				 : t == _PP_KUBE_WATCH_MAX ? "unknown type"
							   : "no object");
		json_decref(doc);
		return -EBADMSG;
	}
	json_incref(obj);
	json_decref(doc);
	ret->type = (enum pp_kube_watch_type)t;
	ret->object = obj;
	ret->rv = json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	ret->code = t == PP_KUBE_WATCH_ERROR ? (int)json_integer_value(json_object_get(obj, "code"))
					     : 0;
	return 0;
}

/* ---- condition patch and Events ------------------------------------------------------------ */

json_t *pp_kube_condition_patch(const char *uid, const char *type, bool status, const char *reason,
				const char *message, pp_wall_ns now)
{
	json_t *c =
		json_pack("{s:s, s:s, s:n, s:o}", "type", type, "status", status ? "True" : "False",
			  "lastProbeTime", "lastTransitionTime", pp_api_time_json(now));
	json_t *p;

	if (!c)
		return NULL;
	if ((reason && json_object_set_new(c, "reason", json_string(reason)) < 0) ||
	    (message && json_object_set_new(c, "message", json_string(message)) < 0)) {
		json_decref(c);
		return NULL;
	}
	p = json_pack("{s:{s:[o]}}", "status", "conditions", c);
	if (p && uid && *uid &&
	    json_object_set_new(p, "metadata", json_pack("{s:s}", "uid", uid)) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

json_t *pp_kube_event_new(const struct pp_kube_event_info *e, uint64_t unique, pp_wall_ns now)
{
	char name[300];

	/* event.go makeEvent names it "<ref.Name>.<t.UnixNano() in hex>" */
	snprintf(name, sizeof(name), "%s.%llx", e->name, (unsigned long long)unique);
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, "
			 "s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:i}",
			 "kind", "Event", "apiVersion", "v1", "metadata", "name", name, "namespace",
			 e->ns, "involvedObject", "kind", "Pod", "namespace", e->ns, "name",
			 e->name, "uid", e->uid ? e->uid : "", "apiVersion", "v1", "reason",
			 e->reason ? e->reason : "", "message", e->message ? e->message : "",
			 "type", e->type ? e->type : "Normal", "source", "component", "podprobe",
			 "host", e->node ? e->node : "", "reportingComponent", "podprobe",
			 "reportingInstance", e->node ? e->node : "", "firstTimestamp",
			 pp_api_time_json(now), "lastTimestamp", pp_api_time_json(now), "count", 1);
}

json_t *pp_kube_event_count_patch(unsigned int count, pp_wall_ns now)
{
	return json_pack("{s:i, s:o}", "count", (json_int_t)count, "lastTimestamp",
			 pp_api_time_json(now));
}

int pp_kube_event_key(const struct pp_kube_event_info *e, char *buf, size_t size)
{
	/* events_cache.go getEventKey: source.component, source.host, involvedObject kind,
	 * namespace, name, uid, apiVersion, type, reason, message; joined with "" there, with a
	 * separator here so that fields cannot run into each other. */
	int n = snprintf(
		buf, size, "podprobe\x1f%s\x1fPod\x1f%s\x1f%s\x1f%s\x1fv1\x1f%s\x1f%s\x1f%s",
		e->node ? e->node : "", e->ns, e->name, e->uid ? e->uid : "",
		e->type ? e->type : "", e->reason ? e->reason : "", e->message ? e->message : "");

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* ---- back-off ------------------------------------------------------------------------------ */

static void backoff_fill(struct pp_kube_backoff *b)
{
	if (!b->initial)
		b->initial = 800 * PP_NSEC_PER_MSEC;
	if (!b->max)
		b->max = 30 * PP_NSEC_PER_SEC;
	if (!b->reset)
		b->reset = 120 * PP_NSEC_PER_SEC;
}

pp_nsec pp_kube_backoff_next(struct pp_kube_backoff *b, pp_nsec now, double rnd)
{
	backoff_fill(b);
	/* wait.exponentialBackoffManagerImpl.getNextBackoff: past resetDuration since the last
	 * back-off, start again from the initial step. */
	if (!b->step || now - b->last > b->reset)
		b->step = b->initial;
	else if (b->step < b->max)
		b->step = b->step * 2 > b->max ? b->max : b->step * 2;
	b->last = now;
	if (rnd < 0 || rnd >= 1)
		rnd = 0;
	return b->step + (pp_nsec)((double)b->step * rnd);
}

void pp_kube_backoff_success(struct pp_kube_backoff *b, pp_nsec now)
{
	backoff_fill(b);
	if (b->step && now - b->last > b->reset)
		b->step = 0;
}
