// SPDX-License-Identifier: Apache-2.0
/*
 * Env valueFrom / envFrom and the payloads of configMap, secret, downwardAPI and projected
 * volumes, following kubelet: pkg/kubelet/kubelet_pods.go (makeEnvironmentVariables,
 * podFieldSelectorRuntimeValue), pkg/api/v1/resource/helpers.go
 * (ExtractContainerResourceValue), pkg/fieldpath/fieldpath.go (ExtractFieldPathAsString,
 * FormatMap), pkg/volume/configmap|secret|downwardapi|projected (MakePayload, CollectData) and
 * pkg/volume/util/atomic_writer.go (validatePath). Pure.
 */
#include "podprobe/pod_env.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/expand.h"
#include "podprobe/pod.h"

#define MODE_DEFAULT 0644 /* ConfigMap/Secret/DownwardAPI/ProjectedVolumeSourceDefaultMode */

/* A malloc'd string formatted like snprintf (NULL on ENOMEM): core does no asprintf. */
static char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* ---- ConfigMaps and Secrets ------------------------------------------------------------------ */

const struct pp_config_obj *pp_config_find(const struct pp_config_list *list,
					   enum pp_config_kind kind, const char *ns,
					   const char *name)
{
	for (size_t i = list ? list->n : 0; name && i-- > 0;) {
		const struct pp_config_obj *o = &list->items[i];

		if (o->kind == kind && o->name && !strcmp(o->name, name) && o->namespace &&
		    !strcmp(o->namespace, ns))
			return o;
	}
	return NULL;
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int pp_base64_decode(const char *in, char **ret, size_t *ret_len)
{
	size_t cap = strlen(in) / 4 * 3 + 4, n = 0;
	unsigned int acc = 0, bits = 0, quads = 0, pad = 0;
	char *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	for (const char *p = in; *p; p++) {
		int v;

		if (*p == '\r' || *p == '\n')
			continue;
		if (*p == '=') {
			pad++;
			quads++;
			continue;
		}
		v = b64_val((unsigned char)*p);
		if (v < 0 || pad) {
			free(out);
			return -EINVAL;
		}
		quads++;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* StdEncoding: whole quantums, at most two '=' that fill the last one exactly. */
	if (quads % 4 || pad > 2 || (pad && bits / 2 != pad) ||
	    (bits && (acc & ((1u << bits) - 1)))) {
		free(out);
		return -EINVAL;
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
}

static const struct pp_kv *kv_find(const struct pp_kv *kv, size_t n, const char *key)
{
	for (size_t i = n; i-- > 0;)
		if (kv[i].name && !strcmp(kv[i].name, key))
			return &kv[i];
	return NULL;
}

static int dup_value(const char *s, char **ret, size_t *ret_len)
{
	char *d = strdup(s ? s : "");

	if (!d)
		return -ENOMEM;
	*ret = d;
	*ret_len = strlen(d);
	return 0;
}

int pp_config_value(const struct pp_config_obj *o, const char *key, bool binary, char **ret,
		    size_t *ret_len)
{
	const struct pp_kv *kv = kv_find(o->data, o->n_data, key);

	/* The API server merges a Secret's stringData over its data. */
	if (kv)
		return dup_value(kv->value, ret, ret_len);
	if (o->kind == PP_CONFIG_MAP && !binary)
		return -ENOENT;
	kv = kv_find(o->b64, o->n_b64, key);
	if (!kv)
		return -ENOENT;
	return pp_base64_decode(kv->value ? kv->value : "", ret, ret_len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every key of <o> once, sorted (ConfigMap binaryData only when <binary>). Caller frees *ret. */
static int config_keys(const struct pp_config_obj *o, bool binary, const char ***ret, size_t *ret_n)
{
	bool b64 = binary || o->kind == PP_CONFIG_SECRET;
	const char **v = calloc(o->n_data + o->n_b64 + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_data; i++)
		v[n++] = o->data[i].name;
	for (size_t i = 0; b64 && i < o->n_b64; i++)
		v[n++] = o->b64[i].name;
	qsort(v, n, sizeof(*v), cmp_str);
	/* Duplicates (a key in both maps, or written twice): once. */
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] && (m == 0 || strcmp(v[m - 1], v[i])))
			v[m++] = v[i];
	*ret = v;
	*ret_n = m;
	return 0;
}

/* The apierrors.NewNotFound text of kubelet's configmap/secret managers. */
static int not_found(const struct pp_config_obj **ret, const struct pp_config_list *configs,
		     bool secret, const char *ns, const char *name, char *err, size_t errlen)
{
	*ret = pp_config_find(configs, secret ? PP_CONFIG_SECRET : PP_CONFIG_MAP, ns, name);
	if (*ret)
		return 0;
	snprintf(err, errlen, "%s \"%s\" not found", secret ? "secret" : "configmap",
		 name ? name : "");
	return -ENOENT;
}

/* ---- the downward API ------------------------------------------------------------------------ */

/* Go's %q of an ASCII-ish string: "..." with \" \\ and control bytes escaped. */
static int go_quote(const char *s, char *out, size_t size)
{
	size_t n = 0;

#define PUT(c)                          \
	do {                            \
		if (n + 1 >= size)      \
			return -ENOSPC; \
		out[n++] = (c);         \
	} while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char hex[] = "0123456789abcdef";

		if (*p == '"' || *p == '\\') {
			PUT('\\');
			PUT((char)*p);
		} else if (*p == '\n' || *p == '\t' || *p == '\r') {
			PUT('\\');
			PUT(*p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
		} else if (*p < 0x20 || *p == 0x7f) {
			PUT('\\');
			PUT('x');
			PUT(hex[*p >> 4]);
			PUT(hex[*p & 15]);
		} else {
			PUT((char)*p);
		}
	}
	PUT('"');
#undef PUT
	out[n] = '\0';
	return (int)n;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const struct pp_kv *const *)a)->name,
		      (*(const struct pp_kv *const *)b)->name);
}

/* fieldpath.FormatMap: `k="v"` lines in key order, no final newline. */
static int format_map(const struct pp_kv *kv, size_t n, char **ret)
{
	const struct pp_kv **v = calloc(n + 1, sizeof(*v));
	size_t cap = 1, len = 0;
	char *out;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = &kv[i];
		cap += strlen(kv[i].name) + 4 * strlen(kv[i].value ? kv[i].value : "") + 5;
	}
	qsort(v, n, sizeof(*v), cmp_kv);
	out = malloc(cap);
	if (!out) {
		free(v);
		return -ENOMEM;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int q;

		if (i && !strcmp(v[i]->name, v[i - 1]->name))
			continue; /* a key written twice: the map holds one */
		len += (size_t)snprintf(out + len, cap - len, "%s%s=", len ? "\n" : "", v[i]->name);
		q = go_quote(v[i]->value ? v[i]->value : "", out + len, cap - len);
		if (q < 0)
			break;
		len += (size_t)q;
	}
	free(v);
	*ret = out;
	return 0;
}

static int dup_ret(const char *s, char **ret)
{
	*ret = strdup(s ? s : "");
	return *ret ? 0 : -ENOMEM;
}

static const char *kv_get(const struct pp_kv *kv, size_t n, const char *key, size_t len)
{
	for (size_t i = n; i-- > 0;)
		if (kv[i].name && strlen(kv[i].name) == len && !memcmp(kv[i].name, key, len))
			return kv[i].value;
	return "";
}

int pp_env_field_value(const struct pp_pod *pod, const struct pp_env_host *host, const char *path,
		       char **ret, char *err, size_t errlen)
{
	size_t len = path ? strlen(path) : 0;
	const char *sub;

	if (!path)
		path = "";
	/* SplitMaybeSubscriptedPath: "metadata.labels['k']". */
	if (len > 2 && !strcmp(path + len - 2, "']") && (sub = strstr(path, "['")) && sub > path) {
		const char *key = sub + 2;
		size_t klen = (size_t)(path + len - 2 - key);

		if (!strncmp(path, "metadata.annotations", (size_t)(sub - path)) &&
		    sub - path == 20)
			return dup_ret(kv_get(pod->annotations, pod->n_annotations, key, klen),
				       ret);
		if (!strncmp(path, "metadata.labels", (size_t)(sub - path)) && sub - path == 15)
			return dup_ret(kv_get(pod->labels, pod->n_labels, key, klen), ret);
		snprintf(err, errlen, "fieldPath \"%s\" does not support subscript", path);
		return -EINVAL;
	}
	if (!strcmp(path, "metadata.name"))
		return dup_ret(pod->name, ret);
	if (!strcmp(path, "metadata.namespace"))
		return dup_ret(pod->namespace, ret);
	if (!strcmp(path, "metadata.uid"))
		return dup_ret(host->uid, ret);
	if (!strcmp(path, "metadata.annotations"))
		return format_map(pod->annotations, pod->n_annotations, ret);
	if (!strcmp(path, "metadata.labels"))
		return format_map(pod->labels, pod->n_labels, ret);
	if (!strcmp(path, "spec.nodeName"))
		return dup_ret(host->node_name, ret);
	if (!strcmp(path, "spec.serviceAccountName"))
		/* The ServiceAccount admission plugin's default. */
		return dup_ret(pod->service_account && *pod->service_account ? pod->service_account
									     : "default",
			       ret);
	/* One address family: hostIPs and podIPs hold the one address, "a,b" otherwise. */
	if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs"))
		return dup_ret(host->host_ip, ret);
	if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs"))
		return dup_ret(host->pod_ip, ret);
	snprintf(err, errlen, "unsupported fieldPath: %s", path);
	return -EINVAL;
}

/* ceil(v / d) as math.Ceil(float64(v) / float64(d)) gives it for these magnitudes. */
static int64_t ceil_div(int64_t v, int64_t d)
{
	if (d <= 0)
		d = 1;
	if (v <= 0)
		return v / d;
	return v / d + (v % d != 0);
}

int pp_env_resource_value(const struct pp_container_spec *c, const struct pp_env_host *host,
			  const struct pp_value_src *src, char **ret, char *err, size_t errlen)
{
	const char *r = src->key ? src->key : "";
	/* MergeContainerResourceLimits: an unset limit is the node's allocatable. */
	int64_t cpu_lim = c->cpu_limit_m ? c->cpu_limit_m : host->cpu_m;
	int64_t mem_lim = c->memory_limit ? c->memory_limit : host->memory;
	int64_t sto_lim = c->storage_limit ? c->storage_limit : host->storage;
	/* SetDefaults_Pod: an unset request is the limit as written (before the node's). */
	int64_t cpu_req = c->has_cpu_request ? c->cpu_request_m : c->cpu_limit_m;
	int64_t mem_req = c->has_memory_request ? c->memory_request : c->memory_limit;
	int64_t sto_req = c->has_storage_request ? c->storage_request : c->storage_limit;
	int64_t dm = src->divisor_m > 0 ? src->divisor_m : 1000; /* "1" */
	int64_t d = src->divisor > 0 ? src->divisor : 1;
	int64_t v;
	char buf[24];

	if (!strcmp(r, "limits.cpu"))
		v = ceil_div(cpu_lim, dm);
	else if (!strcmp(r, "requests.cpu"))
		v = ceil_div(cpu_req, dm);
	else if (!strcmp(r, "limits.memory"))
		v = ceil_div(mem_lim, d);
	else if (!strcmp(r, "requests.memory"))
		v = ceil_div(mem_req, d);
	else if (!strcmp(r, "limits.ephemeral-storage"))
		v = ceil_div(sto_lim, d);
	else if (!strcmp(r, "requests.ephemeral-storage"))
		v = ceil_div(sto_req, d);
	else if (!strncmp(r, "limits.hugepages-", 17) || !strncmp(r, "requests.hugepages-", 19))
		v = 0; /* podprobe reads no hugepages resources: none requested */
	else {
		snprintf(err, errlen, "unsupported container resource : %s", r);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return dup_ret(buf, ret);
}

/* ---- the environment ------------------------------------------------------------------------- */

void pp_env_list_free(struct pp_env_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	for (size_t i = 0; i < l->n_events; i++)
		free(l->events[i]);
	free(l->events);
	memset(l, 0, sizeof(*l));
}

/* Set <name> to <value> (taken over): a name set before keeps its place. */
static int env_set(struct pp_env_list *l, const char *name, char *value)
{
	char *n;

	if (!value)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name)) {
			free(l->v[i].value);
			l->v[i].value = value;
			return 0;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct pp_kv *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(value);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	n = strdup(name);
	if (!n) {
		free(value);
		return -ENOMEM;
	}
	l->v[l->n++] = (struct pp_kv){n, value};
	return 0;
}

static int push_str(char ***v, size_t *n, char *s)
{
	char **g;

	if (!s)
		return -ENOMEM;
	g = realloc(*v, (*n + 1) * sizeof(*g));
	if (!g) {
		free(s);
		return -ENOMEM;
	}
	*v = g;
	g[(*n)++] = s;
	return 0;
}

/* IsRelaxedEnvVarName (GA in 1.34): printable ASCII other than '='. */
static bool env_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < ' ' || *s > '~' || *s == '=')
			return false;
	return true;
}

static int env_from_one(const struct pp_pod *pod, const struct pp_env_from *e,
			const struct pp_config_list *configs, struct pp_env_list *l, char *err,
			size_t errlen)
{
	const struct pp_config_obj *o;
	const char **keys = NULL;
	size_t n_keys = 0, prefix = e->prefix ? strlen(e->prefix) : 0, inv_len = 0;
	char *invalid = NULL;
	int rc;

	rc = not_found(&o, configs, e->secret, pod->namespace, e->name, err, errlen);
	if (rc < 0)
		return e->optional ? 0 : rc;
	rc = config_keys(o, false, &keys, &n_keys);
	for (size_t i = 0; rc == 0 && i < n_keys; i++) {
		size_t klen = strlen(keys[i]);
		char *name = malloc(prefix + klen + 1), *val;
		size_t len;

		if (!name) {
			rc = -ENOMEM;
			break;
		}
		memcpy(name, e->prefix ? e->prefix : "", prefix);
		memcpy(name + prefix, keys[i], klen + 1);
		if (!env_name_ok(name)) {
			/* Skipped, and named in one Warning event (sorted, as kubelet sorts). */
			char *grown = realloc(invalid, inv_len + prefix + klen + 3);

			if (!grown) {
				free(name);
				rc = -ENOMEM;
				break;
			}
			invalid = grown;
			inv_len += (size_t)snprintf(invalid + inv_len, prefix + klen + 3, "%s%s",
						    inv_len ? ", " : "", name);
			free(name);
			continue;
		}
		rc = pp_config_value(o, keys[i], false, &val, &len);
		if (rc == -EINVAL) {
			snprintf(err, errlen, "secret \"%s\": data[%s] is not valid base64",
				 o->name, keys[i]);
		} else if (rc == 0) {
			rc = env_set(l, name, val);
		}
		free(name);
	}
	if (rc == 0 && invalid) {
		char *msg;

		msg = strfmt("Keys [%s] from the EnvFrom %s %s/%s were skipped since they are "
			     "considered invalid environment variable names.",
			     invalid, e->secret ? "secret" : "configMap", pod->namespace, e->name);
		rc = push_str(&l->events, &l->n_events, msg);
	}
	free(invalid);
	free(keys);
	return rc;
}

/* One valueFrom: 1 when an optional source is missing (the variable is not set). */
static int value_from(const struct pp_pod *pod, const struct pp_container_spec *c,
		      const struct pp_env_host *host, const struct pp_config_list *configs,
		      const struct pp_value_src *src, char **ret, char *err, size_t errlen)
{
	const struct pp_config_obj *o;
	bool secret = src->kind == PP_VALUE_SECRET;
	size_t len;
	int rc;

	switch (src->kind) {
	case PP_VALUE_FIELD:
		return pp_env_field_value(pod, host, src->key, ret, err, errlen);
	case PP_VALUE_RESOURCE:
		return pp_env_resource_value(c, host, src, ret, err, errlen);
	case PP_VALUE_CONFIG_MAP:
	case PP_VALUE_SECRET:
		rc = not_found(&o, configs, secret, pod->namespace, src->name, err, errlen);
		if (rc < 0)
			return src->optional ? 1 : rc;
		rc = pp_config_value(o, src->key ? src->key : "", false, ret, &len);
		if (rc == -ENOENT) {
			if (src->optional)
				return 1;
			snprintf(err, errlen, "couldn't find key %s in %s %s/%s",
				 src->key ? src->key : "", secret ? "Secret" : "ConfigMap",
				 pod->namespace, src->name);
		} else if (rc == -EINVAL) {
			snprintf(err, errlen, "secret \"%s\": data[%s] is not valid base64",
				 src->name, src->key);
		}
		return rc;
	default:
		return 1; /* fileKeyRef: not supported (a warning when read) */
	}
}

int pp_env_build(const struct pp_pod *pod, const struct pp_container_spec *c,
		 const struct pp_env_host *host, const struct pp_config_list *configs,
		 const struct pp_kv *base, size_t n_base, struct pp_env_list *ret, char *err,
		 size_t errlen)
{
	struct pp_env_list l = {0};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n_base; i++)
		rc = env_set(&l, base[i].name, strdup(base[i].value ? base[i].value : ""));
	/* "Env will override EnvFrom variables": envFrom first. */
	for (size_t i = 0; rc == 0 && i < c->n_env_from; i++)
		if (c->env_from[i].has_ref)
			rc = env_from_one(pod, &c->env_from[i], configs, &l, err, errlen);
	for (size_t i = 0; rc == 0 && i < c->n_env; i++) {
		const struct pp_value_src *src = c->env_src ? &c->env_src[i] : NULL;
		const char *value = c->env[i].value ? c->env[i].value : "";
		char *v = NULL;

		if (!c->env[i].name)
			continue;
		if (*value || !src || src->kind == PP_VALUE_NONE) {
			/* Step 1a: expand $(VAR) against what is set so far. */
			v = pp_expand_vars(value, l.v, l.n);
			rc = v ? 0 : -ENOMEM;
		} else {
			rc = value_from(pod, c, host, configs, src, &v, err, errlen);
		}
		if (rc == 1) {
			rc = 0;
			continue; /* optional and missing: not set */
		}
		if (rc == 0)
			rc = env_set(&l, c->env[i].name, v);
	}
	if (rc < 0) {
		pp_env_list_free(&l);
		return rc;
	}
	*ret = l;
	return 0;
}

bool pp_env_uses_configs(const struct pp_container_spec *c)
{
	if (c->n_env_from)
		return true;
	for (size_t i = 0; c->env_src && i < c->n_env; i++)
		if (c->env_src[i].kind == PP_VALUE_CONFIG_MAP ||
		    c->env_src[i].kind == PP_VALUE_SECRET)
			return true;
	return false;
}

bool pp_vol_uses_configs(const struct pp_volume *v)
{
	for (size_t i = 0; i < v->n_proj; i++)
		if (v->proj[i].kind == PP_PROJ_CONFIG_MAP || v->proj[i].kind == PP_PROJ_SECRET)
			return true;
	return false;
}

int pp_env_sub_path_expr(const char *expr, const struct pp_env_list *env, char **ret, char *err,
			 size_t errlen)
{
	size_t cap = strlen(expr) + 1, len = 0, mlen = 0;
	char *out = malloc(cap), missing[256] = "";

	if (!out)
		return -ENOMEM;
	for (const char *p = expr; *p;) {
		const char *add = p, *close;
		size_t add_len = 1;

		if (p[0] == '$' && p[1] == '$') {
			p += 2;
		} else if (p[0] == '$' && p[1] == '(' && (close = strchr(p + 2, ')'))) {
			size_t nlen = (size_t)(close - p - 2);
			const char *v = NULL;

			for (size_t i = 0; i < env->n; i++)
				if (strlen(env->v[i].name) == nlen &&
				    !memcmp(env->v[i].name, p + 2, nlen))
					v = env->v[i].value;
			if (!v || !*v) {
				/* ExpandContainerVolumeMounts: "missing value for A, B". */
				if (mlen + nlen + 3 < sizeof(missing))
					mlen += (size_t)snprintf(
						missing + mlen, sizeof(missing) - mlen, "%s%.*s",
						mlen ? ", " : "", (int)nlen, p + 2);
				v = "";
			}
			add = v;
			add_len = strlen(v);
			p = close + 1;
		} else {
			p++;
		}
		if (len + add_len + 1 > cap) {
			char *g;

			cap = 2 * (len + add_len + 1);
			g = realloc(out, cap);
			if (!g) {
				free(out);
				return -ENOMEM;
			}
			out = g;
		}
		memcpy(out + len, add, add_len);
		len += add_len;
	}
	out[len] = '\0';
	if (mlen) {
		snprintf(err, errlen, "missing value for %s", missing);
		free(out);
		return -EINVAL;
	}
	*ret = out;
	return 0;
}

/* ---- volume payloads --------------------------------------------------------------------------
 */

bool pp_vol_path_ok(const char *path)
{
	size_t len = strlen(path);

	if (!len || len > 4096 || path[0] == '/' || !strncmp(path, "..", 2))
		return false;
	for (const char *p = path; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && !memcmp(p, "..", 2))
			return false;
		p += n;
		if (*p)
			p++;
	}
	return true;
}

void pp_vol_payload_free(struct pp_vol_payload *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].data);
	}
	free(p->v);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	memset(p, 0, sizeof(*p));
}

/* Add (or, for a path given twice, replace: payload is a map) a file; <data> is taken over. */
static int payload_put(struct pp_vol_payload *p, const char *path, char *data, size_t len,
		       int64_t mode)
{
	char *dup;

	if (!data)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].path, path)) {
			free(p->v[i].data);
			p->v[i].data = data;
			p->v[i].len = len;
			p->v[i].mode = (uint32_t)mode & 07777;
			return 0;
		}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		struct pp_vol_file *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			free(data);
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	dup = strdup(path);
	if (!dup) {
		free(data);
		return -ENOMEM;
	}
	p->v[p->n++] = (struct pp_vol_file){dup, data, len, (uint32_t)mode & 07777};
	return 0;
}

/* configmap.MakePayload / secret.MakePayload: every key, or the items asked for. */
static int key_payload(const struct pp_vol_proj *pj, const struct pp_config_obj *o,
		       int64_t def_mode, struct pp_vol_payload *p, char *err, size_t errlen)
{
	bool secret = pj->kind == PP_PROJ_SECRET;
	const char **keys = NULL;
	size_t n = 0, len;
	char *data;
	int rc = 0;

	if (!o)
		return 0; /* optional and missing: empty */
	if (!pj->n_items) {
		rc = config_keys(o, true, &keys, &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = pp_config_value(o, keys[i], true, &data, &len);
			if (rc == 0 && !pp_vol_path_ok(keys[i])) {
				free(data);
				snprintf(err, errlen, "invalid path %s", keys[i]);
				rc = -EINVAL;
			} else if (rc == 0) {
				rc = payload_put(p, keys[i], data, len, def_mode);
			}
		}
		free(keys);
		return rc;
	}
	for (size_t i = 0; i < pj->n_items; i++) {
		const struct pp_vol_item *it = &pj->items[i];

		rc = pp_config_value(o, it->key ? it->key : "", true, &data, &len);
		if (rc == -ENOENT) {
			if (pj->optional)
				continue;
			snprintf(err, errlen, "%s references non-existent %s key: %s",
				 secret ? "secret" : "configmap", secret ? "secret" : "config",
				 it->key ? it->key : "");
			return rc;
		}
		if (rc < 0)
			return rc;
		rc = payload_put(p, it->path ? it->path : "", data, len,
				 it->has_mode ? it->mode : def_mode);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The container a downwardAPI resourceFieldRef names (init containers too). */
static const struct pp_container_spec *find_container(const struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; name && i < pp_pod_n_all(pod); i++) {
		const struct pp_container_spec *c = pp_pod_container(pod, i);

		if (c->name && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

/* downwardapi.CollectData. */
static int downward_payload(const struct pp_pod *pod, const struct pp_vol_proj *pj,
			    const struct pp_env_host *host, int64_t def_mode,
			    struct pp_vol_payload *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < pj->n_items; i++) {
		const struct pp_vol_item *it = &pj->items[i];
		char *v = NULL;
		int rc;

		if (it->ref.kind == PP_VALUE_FIELD) {
			rc = pp_env_field_value(pod, host, it->ref.key, &v, err, errlen);
		} else if (it->ref.kind == PP_VALUE_RESOURCE) {
			const struct pp_container_spec *c = find_container(pod, it->ref.container);

			if (!c) {
				snprintf(err, errlen, "container %s not found",
					 it->ref.container ? it->ref.container : "");
				return -EINVAL;
			}
			rc = pp_env_resource_value(c, host, &it->ref, &v, err, errlen);
		} else {
			continue;
		}
		if (rc < 0)
			return rc;
		rc = payload_put(p, it->path ? it->path : "", v, strlen(v),
				 it->has_mode ? it->mode : def_mode);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pp_vol_payload_build(const struct pp_pod *pod, const struct pp_volume *v,
			 const struct pp_env_host *host, const struct pp_config_list *configs,
			 struct pp_vol_payload *ret, char *err, size_t errlen)
{
	int64_t def_mode = v->has_default_mode ? v->default_mode : MODE_DEFAULT;
	struct pp_vol_payload p = {0};
	char first[512] = "";
	unsigned int n_err = 0;
	int rc = 0, first_rc = 0;

	for (size_t i = 0; rc == 0 && i < v->n_proj; i++) {
		const struct pp_vol_proj *pj = &v->proj[i];
		const struct pp_config_obj *o = NULL;
		char e[512] = "";
		int r = 0;

		switch (pj->kind) {
		case PP_PROJ_CONFIG_MAP:
		case PP_PROJ_SECRET:
			r = not_found(&o, configs, pj->kind == PP_PROJ_SECRET, pod->namespace,
				      pj->name, e, sizeof(e));
			if (r < 0 && pj->optional)
				r = 0;
			if (r == 0)
				r = key_payload(pj, o, def_mode, &p, e, sizeof(e));
			break;
		case PP_PROJ_DOWNWARD_API:
			r = downward_payload(pod, pj, host, def_mode, &p, e, sizeof(e));
			break;
		case PP_PROJ_SA_TOKEN: {
			char *w =
				strfmt("volume \"%s\": serviceAccountToken \"%s\" is not written: "
				       "podprobe has no API server to issue tokens",
				       v->name, pj->token_path ? pj->token_path : "");
			r = push_str(&p.warnings, &p.n_warnings, w);
			break;
		}
		default:
			break;
		}
		if (r == -ENOMEM) {
			rc = r;
		} else if (r < 0) {
			/* projected: every source is tried, the errors are aggregated. */
			if (!n_err++) {
				first_rc = r;
				snprintf(first, sizeof(first), "%s", e);
			} else {
				size_t fl = strlen(first);

				snprintf(first + fl, sizeof(first) - fl, ", %s", e);
			}
		}
	}
	if (rc == 0 && n_err) {
		/* utilerrors.NewAggregate: one error as itself, more as "[a, b]". */
		if (n_err > 1)
			snprintf(err, errlen, "[%s]", first);
		else
			snprintf(err, errlen, "%s", first);
		rc = first_rc;
	}
	for (size_t i = 0; rc == 0 && i < p.n; i++)
		if (!pp_vol_path_ok(p.v[i].path)) {
			snprintf(err, errlen, "invalid path %s", p.v[i].path);
			rc = -EINVAL;
		}
	if (rc < 0) {
		pp_vol_payload_free(&p);
		return rc;
	}
	*ret = p;
	return 0;
}
