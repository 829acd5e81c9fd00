/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Pod manifest model: ownership, lookups, defaulting and findings (diags). Pure: no
 * syscalls, no I/O, no clock. Only the snprintf family is used, to format messages into
 * memory.
 */
#include "podprobe/pod.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_kvs(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static void free_handler(struct pp_handler *h)
{
	free_strv(h->command, h->n_command);
	free(h->host);
	free(h->port.name);
	free(h->path);
	free(h->scheme);
	free_kvs(h->headers, h->n_headers);
	free(h->service);
}

static void free_profile(struct pp_profile_spec *p)
{
	free(p->type);
	free(p->localhost_profile);
}

static void free_security(struct pp_security_spec *s)
{
	free(s->supplemental_groups);
	free(s->supplemental_groups_policy);
	free(s->fs_group_change_policy);
	free_kvs(s->sysctls, s->n_sysctls);
	free(s->se_linux_change_policy);
	free_strv(s->cap_add, s->n_cap_add);
	free_strv(s->cap_drop, s->n_cap_drop);
	free(s->proc_mount);
	free_profile(&s->seccomp);
	free_profile(&s->app_armor);
}

static void free_value_src(struct pp_value_src *v)
{
	free(v->name);
	free(v->key);
	free(v->container);
	free(v->api_version);
}

static void free_volume(struct pp_volume *v)
{
	free(v->name);
	free(v->source);
	for (size_t i = 0; i < v->n_proj; i++) {
		struct pp_vol_proj *p = &v->proj[i];

		free(p->name);
		free(p->source);
		free(p->token_path);
		for (size_t j = 0; j < p->n_items; j++) {
			free(p->items[j].key);
			free(p->items[j].path);
			free_value_src(&p->items[j].ref);
		}
		free(p->items);
	}
	free(v->proj);
	free(v->host_path);
	free(v->host_type);
	free(v->claim_name);
}

static void free_container(struct pp_container_spec *c)
{
	free(c->name);
	free(c->image);
	free_strv(c->command, c->n_command);
	free_strv(c->args, c->n_args);
	for (size_t i = 0; c->env_src && i < c->n_env; i++)
		free_value_src(&c->env_src[i]);
	free(c->env_src);
	free_kvs(c->env, c->n_env);
	for (size_t i = 0; i < c->n_env_from; i++) {
		free(c->env_from[i].name);
		free(c->env_from[i].prefix);
	}
	free(c->env_from);
	free(c->working_dir);
	for (size_t i = 0; i < c->n_ports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].protocol);
	}
	free(c->ports);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].name);
		free(c->mounts[i].mount_path);
		free(c->mounts[i].sub_path);
		free(c->mounts[i].sub_path_expr);
	}
	free(c->mounts);
	free_handler(&c->post_start);
	free_handler(&c->pre_stop);
	free_handler(&c->startup.handler);
	free_handler(&c->liveness.handler);
	free_handler(&c->readiness.handler);
	free(c->restart_policy);
	free_security(&c->security);
}

static void free_containers(struct pp_container_spec *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_container(&c[i]);
	free(c);
}

void pp_pod_free(struct pp_pod *pod)
{
	if (!pod)
		return;
	free(pod->file);
	free(pod->source);
	free(pod->api_version);
	free(pod->kind);
	free(pod->name);
	free(pod->namespace);
	free(pod->uid);
	free_kvs(pod->annotations, pod->n_annotations);
	free_kvs(pod->labels, pod->n_labels);
	free(pod->restart_policy_raw);
	free_containers(pod->init_containers, pod->n_init_containers);
	free_containers(pod->containers, pod->n_containers);
	for (size_t i = 0; i < pod->n_volumes; i++)
		free_volume(&pod->volumes[i]);
	free(pod->volumes);
	free(pod->service_account);
	free_security(&pod->security);
	for (size_t i = 0; i < pod->n_fields; i++)
		free(pod->fields[i].path);
	free(pod->fields);
	free(pod);
}

int pp_pod_list_push(struct pp_pod_list *list, struct pp_pod *pod)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		struct pp_pod **items = realloc(list->items, cap * sizeof(*items));

		if (!items) {
			pp_pod_free(pod);
			return -ENOMEM;
		}
		list->items = items;
		list->cap = cap;
	}
	list->items[list->n++] = pod;
	return 0;
}

void pp_pod_list_free(struct pp_pod_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		pp_pod_free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = list->cap = 0;
}

const struct pp_container_spec *pp_pod_container(const struct pp_pod *pod, size_t i)
{
	if (i < pod->n_init_containers)
		return &pod->init_containers[i];
	i -= pod->n_init_containers;
	if (i < pod->n_containers)
		return &pod->containers[i];
	return NULL;
}

/*
 * Writes "spec.initContainers[<j>]" or "spec.containers[<j>]" for container <i> (numbered
 * as by pp_pod_container()) into <buf>. Returns the length, -EINVAL when <i> is out of
 * range, or -ENOSPC when <buf> is too small (then it holds a truncated string).
 */
int pp_pod_container_path(const struct pp_pod *pod, size_t i, char *buf, size_t size)
{
	int n;

	if (i >= pp_pod_n_all(pod))
		return -EINVAL;
	if (i < pod->n_init_containers)
		n = snprintf(buf, size, "spec.initContainers[%zu]", i);
	else
		n = snprintf(buf, size, "spec.containers[%zu]", i - pod->n_init_containers);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static const struct pp_field_pos *find_field(const struct pp_pod *pod, const char *path, size_t len)
{
	for (size_t i = 0; i < pod->n_fields; i++) {
		const char *p = pod->fields[i].path;

		if (strncmp(p, path, len) == 0 && p[len] == '\0')
			return &pod->fields[i];
	}
	return NULL;
}

/*
 * Tries <path>, then its parents: the last ".key" or "[i]" is dropped each round, so
 * "spec.containers[0].command" falls back to "spec.containers[0]", then "spec.containers",
 * then "spec". Keys with dots in them (annotation names) only cost a few extra rounds.
 */
struct pp_src_pos pp_pod_field_pos(const struct pp_pod *pod, const char *path)
{
	size_t len = path ? strlen(path) : 0;

	while (len > 0) {
		const struct pp_field_pos *f = find_field(pod, path, len);

		if (f)
			return f->pos;
		while (len > 0 && path[len - 1] != '.' && path[len - 1] != '[')
			len--;
		if (len > 0)
			len--; /* the separator itself */
	}
	return pod->pos;
}

const char *pp_pod_annotation(const struct pp_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_annotations; i++)
		if (strcmp(pod->annotations[i].name, name) == 0)
			return pod->annotations[i].value;
	return NULL;
}

int pp_container_resolve_port(const struct pp_container_spec *c, const struct pp_port_ref *ref)
{
	int64_t port = ref->number;

	if (ref->name) {
		size_t i;

		for (i = 0; i < c->n_ports; i++)
			if (c->ports[i].name && strcmp(c->ports[i].name, ref->name) == 0)
				break;
		if (i == c->n_ports)
			return -ENOENT;
		port = c->ports[i].container_port;
	}
	if (port < 1 || port > 65535)
		return -ERANGE;
	return (int)port;
}

/*
 * The copy in <ret> shares the handler's strings with <spec>: it is a view, valid as long
 * as <spec> is, and must not be freed. Negative values are kept (validation rejects them).
 */
void pp_probe_effective(const struct pp_probe_spec *spec, struct pp_probe_spec *ret)
{
	*ret = *spec;
	if (ret->timeout_s == 0)
		ret->timeout_s = PP_DEFAULT_PROBE_TIMEOUT_S;
	if (ret->period_s == 0)
		ret->period_s = PP_DEFAULT_PROBE_PERIOD_S;
	if (ret->success_threshold == 0)
		ret->success_threshold = PP_DEFAULT_PROBE_SUCCESS;
	if (ret->failure_threshold == 0)
		ret->failure_threshold = PP_DEFAULT_PROBE_FAILURE;
}

static const char *const restart_policy_names[_PP_RESTART_MAX] = {
	[PP_RESTART_ALWAYS] = "Always",
	[PP_RESTART_ON_FAILURE] = "OnFailure",
	[PP_RESTART_NEVER] = "Never",
};

/* Returns "Unknown" for values outside the enum. */
const char *pp_restart_policy_str(enum pp_restart_policy p)
{
	if ((unsigned int)p >= _PP_RESTART_MAX)
		return "Unknown";
	return restart_policy_names[p];
}

/* One label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 characters, the first <len> bytes of <s>. */
static bool is_label(const char *s, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && (ch != '-' || i == 0 || i == len - 1))
			return false;
	}
	return true;
}

bool pp_is_dns1123_label(const char *s)
{
	return s && is_label(s, strlen(s));
}

bool pp_is_dns1123_subdomain(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	/* K: apimachinery IsDNS1123Subdomain: labels of any length, at most 253 in all. */
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
		bool edge = i == 0 || i == len - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (!alnum && ((s[i] != '-' && s[i] != '.') || edge))
			return false;
	}
	return true;
}

int pp_diag_addv(struct pp_diag_list *diags, enum pp_diag_severity sev, const char *file,
		 struct pp_src_pos pos, const char *path, const char *fmt, va_list ap)
{
	struct pp_diag *d;
	va_list aq;
	int n;

	if (diags->n == diags->cap) {
		size_t cap = diags->cap ? diags->cap * 2 : 8;
		struct pp_diag *items = realloc(diags->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		diags->items = items;
		diags->cap = cap;
	}
	d = &diags->items[diags->n];
	*d = (struct pp_diag){.severity = sev, .pos = pos};

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	d->message = malloc((size_t)n + 1);
	d->file = strdup(file ? file : "");
	d->path = strdup(path ? path : "");
	if (!d->message || !d->file || !d->path) {
		free(d->message);
		free(d->file);
		free(d->path);
		return -ENOMEM;
	}
	vsnprintf(d->message, (size_t)n + 1, fmt, ap);

	diags->n++;
	if (sev == PP_DIAG_ERROR)
		diags->n_errors++;
	return 0;
}

int pp_diag_add(struct pp_diag_list *diags, enum pp_diag_severity sev, const char *file,
		struct pp_src_pos pos, const char *path, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = pp_diag_addv(diags, sev, file, pos, path, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * "FILE:LINE:COL: PATH: MESSAGE", with "warning: " before PATH for warnings. ":LINE:COL" is
 * left out when the position is unknown (line 0), "FILE" when there is no file name and
 * "PATH: " when the path is empty. Returns the length, or -ENOSPC when <buf> is too small
 * (it then holds a truncated, NUL-terminated string).
 */
int pp_diag_format(const struct pp_diag *d, char *buf, size_t size)
{
	const char *file = d->file ? d->file : "";
	const char *path = d->path ? d->path : "";
	char where[32] = "";
	int n;

	if (d->pos.line)
		snprintf(where, sizeof(where), ":%u:%u", d->pos.line, d->pos.col);
	n = snprintf(buf, size, "%s%s%s%s%s%s%s", file, where, *file || *where ? ": " : "",
		     d->severity == PP_DIAG_WARNING ? "warning: " : "", path, *path ? ": " : "",
		     d->message ? d->message : "");
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

void pp_diag_list_free(struct pp_diag_list *diags)
{
	if (!diags)
		return;
	for (size_t i = 0; i < diags->n; i++) {
		free(diags->items[i].file);
		free(diags->items[i].path);
		free(diags->items[i].message);
	}
	free(diags->items);
	*diags = (struct pp_diag_list){0};
}

/* The escaped form of <ch> for pp_quote() into <esc>, returning its length. */
static size_t quote_char(unsigned char ch, char esc[8])
{
	if (ch == '"' || ch == '\\')
		return (size_t)snprintf(esc, 8, "\\%c", ch);
	if (ch < 0x20 || ch == 0x7f)
		return (size_t)snprintf(esc, 8, "\\x%02x", ch);
	esc[0] = (char)ch;
	return 1;
}

const char *pp_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t need = 0, room, o = 0;
	char esc[8];
	bool cut;

	for (size_t i = 0; i < len; i++)
		need += quote_char((unsigned char)s[i], esc);
	/* Two quotes and a NUL around the text, plus "..." when it does not fit. */
	cut = need + 3 > size;
	room = cut ? size - 6 : need;

	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		size_t n = quote_char((unsigned char)s[i], esc);

		if (o - 1 + n > room)
			break;
		memcpy(buf + o, esc, n);
		o += n;
	}
	if (cut) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
