/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod validation as the API server does it (K: pkg/apis/core/validation/validation.go), plus
 * the rules of the process runtime (command required; emptyDir, configMap, secret, downwardAPI,
 * projected, hostPath and persistentVolumeClaim volumes only). Pure.
 *
 * Message style: the API server's detail text. The "Required value", "Duplicate value",
 * "Unsupported value", "Not found" and "Invalid value: <string>" prefixes are kept; numeric
 * range errors are reported without "Invalid value: <n>: " because the position and path
 * already point at the number. Positions come from pp_pod_field_pos(): the key of the field,
 * or the closest recorded ancestor when the field is absent.
 */
#include "podprobe/pod.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "podprobe/security.h"

/*
 * Field paths built here hold only known keys and indexes: a container path fits in
 * CPATH_MAX, a probe or hook path in HPATH_MAX, any field below them in VPATH_MAX.
 */
#define CPATH_MAX    64
#define HPATH_MAX    128
#define VPATH_MAX    256
#define QUOTE_MAX    96	 /* a quoted value in a message */
#define MAX_FINDINGS 100 /* per pod; a hostile manifest could otherwise yield millions */

#define MSG_SUBDOMAIN                                                                             \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "     \
	"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"      \
	"[a-z0-9])?)*')"
#define MSG_LABEL                                                                                \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
	"and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " \
	"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
/* IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation, GA in 1.34) */
#define MSG_ENV_NAME                                                                               \
	"a valid environment variable name must consist only of printable ASCII characters other " \
	"than '='"
#define MSG_HEADER_NAME                                                             \
	"a valid HTTP header must consist of alphanumeric characters or '-' (e.g. " \
	"'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
#define MSG_PORT_RANGE	   "must be between 1 and 65535, inclusive"
#define MSG_NONNEG	   "must be greater than or equal to 0"
#define MSG_INIT_FORBIDDEN "may not be set for init containers without restartPolicy=Always"
#define MSG_ID_RANGE	   "must be between 0 and 2147483647, inclusive"
#define MSG_IGNORED	   ", ignoring"

enum probe_kind {
	PROBE_STARTUP = 0,
	PROBE_LIVENESS,
	PROBE_READINESS,
	_PROBE_MAX,
};

static const char *const probe_keys[_PROBE_MAX] = {
	[PROBE_STARTUP] = "startupProbe",
	[PROBE_LIVENESS] = "livenessProbe",
	[PROBE_READINESS] = "readinessProbe",
};

struct vctx {
	const struct pp_pod *pod;
	struct pp_diag_list *diags;
	int err;		 /* -ENOMEM once an append failed */
	int n_errors;		 /* errors added by this validation */
	unsigned int n_findings; /* errors and warnings added */
};

static void report(struct vctx *v, enum pp_diag_severity sev, const char *path, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static void report(struct vctx *v, enum pp_diag_severity sev, const char *path, const char *fmt,
		   ...)
{
	va_list ap;
	int err;

	if (v->err || v->n_findings > MAX_FINDINGS)
		return;
	if (v->n_findings++ == MAX_FINDINGS) {
		sev = PP_DIAG_ERROR;
		err = pp_diag_add(v->diags, sev, v->pod->file, v->pod->pos, "",
				  "too many errors, giving up");
	} else {
		va_start(ap, fmt);
		err = pp_diag_addv(v->diags, sev, v->pod->file, pp_pod_field_pos(v->pod, path),
				   path, fmt, ap);
		va_end(ap);
	}
	if (err)
		v->err = err;
	else if (sev == PP_DIAG_ERROR)
		v->n_errors++;
}

#define error(v, path, ...)   report(v, PP_DIAG_ERROR, path, __VA_ARGS__)
#define warning(v, path, ...) report(v, PP_DIAG_WARNING, path, __VA_ARGS__)

/* <buf> = <prefix><suffix>: field paths are short, see VPATH_MAX. */
static const char *join(char *buf, const char *prefix, const char *suffix)
{
	/* Cut when longer (never for the paths built here); the check keeps GCC quiet. */
	if (snprintf(buf, VPATH_MAX, "%s%s", prefix, suffix) >= VPATH_MAX)
		buf[VPATH_MAX - 1] = '\0';
	return buf;
}

static const char *quote(char *buf, const char *s)
{
	return pp_quote(buf, QUOTE_MAX, s, strlen(s));
}

static bool is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* */
static bool is_subdomain_syntax(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		bool edge = i == 0 || i == len - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (is_lower_alnum(s[i]))
			continue;
		if ((s[i] == '-' || s[i] == '.') && !edge)
			continue;
		return false;
	}
	return len > 0;
}

/* IsValidPortName (IANA_SVC_NAME): the detail of the first rule <s> breaks, or NULL. */
static const char *port_name_error(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;

	if (len > 15)
		return "must be no more than 15 characters";
	for (size_t i = 0; i < len; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens "
			       "(-)";
		letter |= s[i] >= 'a' && s[i] <= 'z';
	}
	if (!letter)
		return "must contain at least one letter (a-z)";
	if (strstr(s, "--"))
		return "must not contain consecutive hyphens";
	if (s[0] == '-' || s[len - 1] == '-')
		return "must not begin or end with a hyphen";
	return NULL;
}

/* K8s apimachinery validation.IsRelaxedEnvVarName: printable ASCII ([ -~]) but '='. */
static bool is_env_name(const char *s)
{
	for (size_t i = 0; s[i]; i++)
		if (s[i] < ' ' || s[i] > '~' || s[i] == '=')
			return false;
	return s[0] != '\0';
}

static bool is_header_name(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		char ch = s[i];

		if (!is_lower_alnum(ch) && !(ch >= 'A' && ch <= 'Z') && ch != '-')
			return false;
	}
	return s[0] != '\0';
}

/*
 * Sorted (name, index) pairs, for duplicate checks and lookups in O(n log n): a hostile
 * manifest can list tens of thousands of containers or ports, too many to compare pairwise.
 */
struct name_ref {
	const char *name;
	size_t idx;
};

/* ---- volume sources and env sources ------------------------------------------------------ */

#define MSG_FILE_MODE "must be a number between 0 and 0777 (octal), both inclusive"
#define MSG_CONFIG_KEY                                                                       \
	"a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. " \
	"'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "          \
	"'[-._a-zA-Z0-9]+')"
#define ENV_FIELD_PATHS                                                                          \
	"\"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", "       \
	"\"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", " \
	"\"status.podIPs\""
#define VOLUME_FIELD_PATHS                                                   \
	"\"metadata.annotations\", \"metadata.labels\", \"metadata.name\", " \
	"\"metadata.namespace\", \"metadata.uid\""
#define RESOURCE_NAMES                                                                        \
	"\"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", " \
	"\"requests.ephemeral-storage\", \"requests.memory\""
#define MEMORY_DIVISORS "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"

static bool in_strs(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* validatePathNoBacksteps: no ".." element. */
static bool has_backsteps(const char *s)
{
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n + (p[n] == '/');
	}
	return false;
}

/* validateLocalDescendingPath, and ValidateLocalNonReservedPath when <non_reserved>. */
static void validate_local_path(struct vctx *v, const char *s, const char *path, bool non_reserved)
{
	char q[QUOTE_MAX];

	if (s[0] == '/')
		error(v, path, "Invalid value: %s: must be a relative path", quote(q, s));
	if (has_backsteps(s))
		error(v, path, "Invalid value: %s: must not contain '..'", quote(q, s));
	if (non_reserved && !strncmp(s, "..", 2))
		error(v, path, "Invalid value: %s: must not start with '..'", quote(q, s));
}

static void validate_mode(struct vctx *v, bool has, int64_t mode, const char *path)
{
	if (has && (mode < 0 || mode > 0777))
		error(v, path, MSG_FILE_MODE);
}

/* IsConfigMapKey: the first rule <s> breaks, or NULL. */
static const char *config_key_error(const char *s)
{
	if (strlen(s) > 253)
		return "must be no more than 253 characters";
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return MSG_CONFIG_KEY;
	if (!strcmp(s, "."))
		return "must not be '.'";
	if (!strcmp(s, ".."))
		return "must not be '..'";
	if (!strncmp(s, "..", 2))
		return "must not start with '..'";
	return NULL;
}

/* validateObjectFieldSelector, with the env or the volume set of fields. */
static void validate_field_ref(struct vctx *v, const struct pp_value_src *src, const char *path,
			       bool volume)
{
	static const char *const env_fields[] = {
		"metadata.name",
		"metadata.namespace",
		"metadata.uid",
		"spec.nodeName",
		"spec.serviceAccountName",
		"status.hostIP",
		"status.hostIPs",
		"status.podIP",
		"status.podIPs",
		NULL,
	};
	static const char *const volume_fields[] = {
		"metadata.annotations", "metadata.labels", "metadata.name",
		"metadata.namespace",	"metadata.uid",	   NULL,
	};
	/* podshelper.ConvertDownwardAPIFieldLabel */
	static const char *const labels[] = {
		"metadata.annotations",
		"metadata.labels",
		"metadata.name",
		"metadata.namespace",
		"metadata.uid",
		"spec.nodeName",
		"spec.restartPolicy",
		"spec.serviceAccountName",
		"spec.schedulerName",
		"status.phase",
		"status.hostIP",
		"status.hostIPs",
		"status.podIP",
		"status.podIPs",
		"spec.host",
		NULL,
	};
	const char *fp = src->key ? src->key : "";
	char p[VPATH_MAX], q[QUOTE_MAX], head[VPATH_MAX];
	size_t len = strlen(fp);
	const char *sub;

	if (src->api_version && *src->api_version && strcmp(src->api_version, "v1")) {
		error(v, join(p, path, ".fieldPath"),
		      "Invalid value: %s: error converting fieldPath: unsupported pod version: %s",
		      quote(q, fp), src->api_version);
		return;
	}
	if (!*fp) {
		error(v, join(p, path, ".fieldPath"), "Required value");
		return;
	}
	if (len > 2 && !strcmp(fp + len - 2, "']") && (sub = strstr(fp, "['")) && sub > fp) {
		snprintf(head, sizeof(head), "%.*s", (int)(sub - fp), fp);
		if (strcmp(head, "metadata.annotations") && strcmp(head, "metadata.labels"))
			error(v, join(p, path, ".fieldPath"),
			      "Invalid value: %s: error converting fieldPath: field label does not "
			      "support subscript: %s",
			      quote(q, fp), fp);
		return;
	}
	if (!in_strs(fp, labels))
		error(v, join(p, path, ".fieldPath"),
		      "Invalid value: %s: error converting fieldPath: field label not supported: "
		      "%s",
		      quote(q, fp), fp);
	else if (!in_strs(!strcmp(fp, "spec.host") ? "spec.nodeName" : fp,
			  volume ? volume_fields : env_fields))
		error(v, join(p, path, ".fieldPath"), "Unsupported value: %s: supported values: %s",
		      quote(q, fp), volume ? VOLUME_FIELD_PATHS : ENV_FIELD_PATHS);
}

/* validateContainerResourceFieldSelector and validateContainerResourceDivisor. */
static void validate_resource_ref(struct vctx *v, const struct pp_value_src *src, const char *path,
				  bool volume)
{
	static const char *const names[] = {
		"limits.cpu",	"limits.ephemeral-storage",   "limits.memory",
		"requests.cpu", "requests.ephemeral-storage", "requests.memory",
		NULL,
	};
	const char *r = src->key ? src->key : "";
	char p[VPATH_MAX], q[QUOTE_MAX];
	bool cpu = strstr(r, ".cpu") != NULL;

	if (volume && (!src->container || !*src->container)) {
		error(v, join(p, path, ".containerName"), "Required value");
		return;
	}
	if (!*r) {
		error(v, join(p, path, ".resource"), "Required value");
		return;
	}
	if (!in_strs(r, names) && strncmp(r, "limits.hugepages-", 17) &&
	    strncmp(r, "requests.hugepages-", 19)) {
		error(v, join(p, path, ".resource"), "Unsupported value: %s: supported values: %s",
		      quote(q, r), RESOURCE_NAMES);
		return;
	}
	if (!src->divisor_m || !in_strs(r, names))
		return; /* unset (0): "1" */
	if (cpu && src->divisor_m != 1 && src->divisor_m != 1000) {
		error(v, join(p, path, ".divisor"),
		      "Invalid value: %s: only divisor's values 1m and 1 are supported with the "
		      "cpu "
		      "resource",
		      quote(q, r));
	} else if (!cpu) {
		static const int64_t ok[] = {
			1,
			1000,
			1000000,
			1000000000,
			1000000000000,
			1000000000000000,
			1000000000000000000,
			1ll << 10,
			1ll << 20,
			1ll << 30,
			1ll << 40,
			1ll << 50,
			1ll << 60,
		};
		bool valid = false;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			valid |= src->divisor == ok[i] && (src->divisor > INT64_MAX / 1000 ||
							   src->divisor_m == ok[i] * 1000);
		if (!valid)
			error(v, join(p, path, ".divisor"),
			      "Invalid value: %s: only divisor's values " MEMORY_DIVISORS
			      " are supported with the %s resource",
			      quote(q, r),
			      strstr(r, "memory") ? "memory" : "local ephemeral storage");
	}
}

/* validateConfigMapKeySelector / validateSecretKeySelector. */
static void validate_key_ref(struct vctx *v, const struct pp_value_src *src, const char *path)
{
	char p[VPATH_MAX], q[QUOTE_MAX];
	const char *msg;

	if (!src->name || !is_subdomain_syntax(src->name) || strlen(src->name) > 253)
		error(v, join(p, path, ".name"), "Invalid value: %s: %s",
		      quote(q, src->name ? src->name : ""),
		      src->name && strlen(src->name) > 253 ? "must be no more than 253 characters"
							   : MSG_SUBDOMAIN);
	if (!src->key || !*src->key)
		error(v, join(p, path, ".key"), "Required value");
	else if ((msg = config_key_error(src->key)))
		error(v, join(p, path, ".key"), "Invalid value: %s: %s", quote(q, src->key), msg);
}

static void validate_env_sources(struct vctx *v, const struct pp_container_spec *c,
				 const char *cpath)
{
	char p[VPATH_MAX], q[QUOTE_MAX];

	for (size_t e = 0; c->env_src && e < c->n_env; e++) {
		const struct pp_value_src *src = &c->env_src[e];

		snprintf(p, sizeof(p), "%s.env[%zu].valueFrom.%s", cpath, e,
			 src->kind == PP_VALUE_FIELD	  ? "fieldRef"
			 : src->kind == PP_VALUE_RESOURCE ? "resourceFieldRef"
			 : src->kind == PP_VALUE_SECRET	  ? "secretKeyRef"
							  : "configMapKeyRef");
		if (src->kind == PP_VALUE_FIELD)
			validate_field_ref(v, src, p, false);
		else if (src->kind == PP_VALUE_RESOURCE)
			validate_resource_ref(v, src, p, false);
		else if (src->kind == PP_VALUE_CONFIG_MAP || src->kind == PP_VALUE_SECRET)
			validate_key_ref(v, src, p);
	}
	for (size_t i = 0; i < c->n_env_from; i++) {
		const struct pp_env_from *e = &c->env_from[i];

		snprintf(p, sizeof(p), "%s.envFrom[%zu].prefix", cpath, i);
		if (e->prefix && *e->prefix && !is_env_name(e->prefix))
			error(v, p, "Invalid value: %s: " MSG_ENV_NAME, quote(q, e->prefix));
		snprintf(p, sizeof(p), "%s.envFrom", cpath);
		if (e->n_refs == 0)
			error(v, p,
			      "Invalid value: \"\": must specify one of: `configMapRef` or "
			      "`secretRef`");
		else if (e->n_refs > 1)
			error(v, p,
			      "Invalid value: \"\": may not have more than one field specified at "
			      "a "
			      "time");
		if (!e->has_ref)
			continue;
		snprintf(p, sizeof(p), "%s.envFrom[%zu].%s.name", cpath, i,
			 e->secret ? "secretRef" : "configMapRef");
		if (!e->name || !*e->name)
			error(v, p, "Required value");
		else if (!is_subdomain_syntax(e->name) || strlen(e->name) > 253)
			error(v, p, "Invalid value: %s: %s", quote(q, e->name),
			      strlen(e->name) > 253 ? "must be no more than 253 characters"
						    : MSG_SUBDOMAIN);
	}
}

/* validateKeyToPath / validateDownwardAPIVolumeFile for the items of <pj> below <path>. */
static void validate_items(struct vctx *v, const struct pp_vol_proj *pj, const char *path)
{
	char p[VPATH_MAX], ip[VPATH_MAX];

	for (size_t i = 0; i < pj->n_items; i++) {
		const struct pp_vol_item *it = &pj->items[i];

		snprintf(ip, sizeof(ip), "%s.items[%zu]", path, i);
		if (pj->kind != PP_PROJ_DOWNWARD_API && (!it->key || !*it->key))
			error(v, join(p, ip, ".key"), "Required value");
		if (!it->path || !*it->path)
			error(v, join(p, ip, ".path"), "Required value");
		else
			validate_local_path(v, it->path, join(p, ip, ".path"), true);
		if (pj->kind == PP_PROJ_DOWNWARD_API) {
			if (it->ref.kind == PP_VALUE_FIELD)
				validate_field_ref(v, &it->ref, join(p, ip, ".fieldRef"), true);
			else if (it->ref.kind == PP_VALUE_RESOURCE)
				validate_resource_ref(v, &it->ref, join(p, ip, ".resourceFieldRef"),
						      true);
			else if (it->ref.kind == _PP_VALUE_MAX)
				error(v, ip,
				      "Invalid value: \"resource\": fieldRef and resourceFieldRef "
				      "can "
				      "not be specified simultaneously");
			else
				error(v, ip,
				      "Required value: one of fieldRef and resourceFieldRef is "
				      "required");
		}
		validate_mode(v, it->has_mode, it->mode, join(p, ip, ".mode"));
	}
}

static void validate_volume_source(struct vctx *v, size_t i)
{
	static const char *const host_types[] = {
		"",	"BlockDevice",	"CharDevice", "Directory", "DirectoryOrCreate",
		"File", "FileOrCreate", "Socket",     NULL,
	};
	static const char *const proj_keys[_PP_PROJ_MAX] = {
		[PP_PROJ_CONFIG_MAP] = "configMap",	[PP_PROJ_SECRET] = "secret",
		[PP_PROJ_DOWNWARD_API] = "downwardAPI", [PP_PROJ_SA_TOKEN] = "serviceAccountToken",
		[PP_PROJ_OTHER] = "clusterTrustBundle",
	};
	const struct pp_volume *vol = &v->pod->volumes[i];
	const char *src = vol->source ? vol->source : "emptyDir";
	char base[VPATH_MAX], p[VPATH_MAX], sp[VPATH_MAX], q[QUOTE_MAX];

	snprintf(base, sizeof(base), "spec.volumes[%zu].%s", i, src);
	if (vol->n_sources > 1) {
		snprintf(p, sizeof(p), "spec.volumes[%zu]", i);
		error(v, p, "Forbidden: may not specify more than 1 volume type");
	}
	switch (vol->kind) {
	case PP_VOL_UNSUPPORTED:
		error(v, base,
		      "Forbidden: volume %s: %s volumes are not supported by the process runtime "
		      "(supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath, "
		      "persistentVolumeClaim)",
		      quote(q, vol->name ? vol->name : ""), src);
		return;
	case PP_VOL_PVC:
		/* validatePersistentClaimVolumeSource asks only for a name. */
		if (!vol->claim_name || !*vol->claim_name)
			error(v, join(p, base, ".claimName"), "Required value");
		return;
	case PP_VOL_HOST_PATH:
		if (!vol->host_path || !*vol->host_path) {
			error(v, join(p, base, ".path"), "Required value");
			return;
		}
		if (has_backsteps(vol->host_path))
			error(v, join(p, base, ".path"), "Invalid value: %s: must not contain '..'",
			      quote(q, vol->host_path));
		if (vol->host_type && !in_strs(vol->host_type, host_types))
			error(v, join(p, base, ".type"),
			      "Unsupported value: %s: supported values: \"\", \"BlockDevice\", "
			      "\"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", "
			      "\"FileOrCreate\", \"Socket\"",
			      quote(q, vol->host_type));
		return;
	case PP_VOL_CONFIG_MAP:
	case PP_VOL_SECRET:
	case PP_VOL_DOWNWARD_API:
		validate_mode(v, vol->has_default_mode, vol->default_mode,
			      join(p, base, ".defaultMode"));
		if (!vol->n_proj)
			return;
		if (vol->kind != PP_VOL_DOWNWARD_API && (!vol->proj->name || !*vol->proj->name))
			error(v,
			      join(p, base, vol->kind == PP_VOL_SECRET ? ".secretName" : ".name"),
			      "Required value");
		validate_items(v, vol->proj, base);
		return;
	case PP_VOL_PROJECTED:
		validate_mode(v, vol->has_default_mode, vol->default_mode,
			      join(p, base, ".defaultMode"));
		for (size_t k = 0; k < vol->n_proj; k++) {
			const struct pp_vol_proj *pj = &vol->proj[k];

			if (pj->kind == _PP_PROJ_MAX)
				continue;
			if (snprintf(sp, sizeof(sp), "%s.sources[%zu].%s", base, k,
				     pj->kind == PP_PROJ_OTHER && pj->source
					     ? pj->source
					     : proj_keys[pj->kind]) >= (int)sizeof(sp))
				continue; /* cannot happen: a short prefix and known keys */
			if (pj->kind == PP_PROJ_OTHER) {
				error(v, sp, "Forbidden: not supported by the process runtime");
			} else if (pj->kind == PP_PROJ_SA_TOKEN) {
				if (!pj->token_path || !*pj->token_path)
					error(v, join(p, sp, ".path"), "Required value");
				else
					validate_local_path(v, pj->token_path, join(p, sp, ".path"),
							    true);
				warning(v, sp,
					"podprobe has no API server to issue service account "
					"tokens: "
					"no token file is written" MSG_IGNORED);
			} else {
				if (pj->kind != PP_PROJ_DOWNWARD_API && (!pj->name || !*pj->name))
					error(v, join(p, sp, ".name"), "Required value");
				validate_items(v, pj, sp);
			}
		}
		return;
	default:
		return;
	}
}

struct name_set {
	struct name_ref *refs;
	size_t n;
};

static int cmp_name_ref(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Build a set from the <n> names returned by <get>(<ctx>, i), skipping NULL and "" ones.
 * Fills <ret_dup> (n entries, may be NULL) with true for every entry whose name occurred at a
 * lower index. Returns 0 or -ENOMEM.
 */
static int name_set_build(struct name_set *set, size_t n, const char *(*get)(const void *, size_t),
			  const void *ctx, bool *ret_dup)
{
	set->refs = NULL;
	set->n = 0;
	if (n == 0)
		return 0;
	set->refs = malloc(n * sizeof(*set->refs));
	if (!set->refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name = get(ctx, i);

		if (name && *name)
			set->refs[set->n++] = (struct name_ref){name, i};
	}
	qsort(set->refs, set->n, sizeof(*set->refs), cmp_name_ref);
	for (size_t i = 1; ret_dup && i < set->n; i++)
		if (strcmp(set->refs[i - 1].name, set->refs[i].name) == 0)
			ret_dup[set->refs[i].idx] = true;
	return 0;
}

static bool name_set_has(const struct name_set *set, const char *name)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(set->refs[mid].name, name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static const char *get_regular_name(const void *ctx, size_t i)
{
	return ((const struct pp_pod *)ctx)->containers[i].name;
}

static const char *get_init_name(const void *ctx, size_t i)
{
	return ((const struct pp_pod *)ctx)->init_containers[i].name;
}

struct host_port_ref {
	char key[96]; /* "<protocol>/<hostIP>/<hostPort>", as AccumulateUniqueHostPorts */
	size_t idx;   /* container index (pp_pod_container()) */
	size_t port;
};

static int cmp_host_port(const void *a, const void *b)
{
	const struct host_port_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/*
 * K: validation.go checkHostPortConflicts / AccumulateUniqueHostPorts over spec.containers:
 * a hostPort (non-zero) may appear once per protocol and hostIP; every later one is
 * "ports[j].hostPort: Duplicate value: \"TCP//8080\"".
 */
static void validate_host_ports(struct vctx *v)
{
	const struct pp_pod *pod = v->pod;
	struct host_port_ref *refs;
	size_t n = 0, cap = 0;
	char p[VPATH_MAX], cpath[CPATH_MAX], q[QUOTE_MAX];

	for (size_t i = 0; i < pod->n_containers; i++)
		for (size_t j = 0; j < pod->containers[i].n_ports; j++)
			cap += pod->containers[i].ports[j].host_port != 0;
	if (cap == 0)
		return;
	refs = calloc(cap, sizeof(*refs));
	if (!refs) {
		v->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < pod->n_containers; i++) {
		const struct pp_container_spec *c = &pod->containers[i];

		for (size_t j = 0; j < c->n_ports; j++) {
			const struct pp_port_spec *port = &c->ports[j];

			if (port->host_port == 0)
				continue;
			snprintf(refs[n].key, sizeof(refs[n].key), "%s/%s/%lld",
				 port->protocol ? port->protocol : "TCP", port->host_ip,
				 (long long)port->host_port);
			refs[n].idx = pod->n_init_containers + i;
			refs[n].port = j;
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), cmp_host_port);
	for (size_t k = 1; k < n; k++) {
		if (strcmp(refs[k - 1].key, refs[k].key))
			continue;
		pp_pod_container_path(pod, refs[k].idx, cpath, sizeof(cpath));
		snprintf(p, sizeof(p), "%s.ports[%zu].hostPort", cpath, refs[k].port);
		error(v, p, "Duplicate value: %s", quote(q, refs[k].key));
	}
	free(refs);
}

static const char *get_port_name(const void *ctx, size_t i)
{
	return ((const struct pp_container_spec *)ctx)->ports[i].name;
}

static const char *get_mount_path(const void *ctx, size_t i)
{
	return ((const struct pp_container_spec *)ctx)->mounts[i].mount_path;
}

static const char *get_volume_name(const void *ctx, size_t i)
{
	return ((const struct pp_pod *)ctx)->volumes[i].name;
}

/* A probe or hook port: a number in 1..65535, or an IANA_SVC_NAME (P1.6, P1.7). */
static void validate_port_ref(struct vctx *v, const struct pp_container_spec *c,
			      const struct pp_port_ref *ref, const char *path)
{
	char q[QUOTE_MAX];
	const char *msg;

	if (!ref->name) {
		if (ref->number < 1 || ref->number > 65535)
			error(v, path, MSG_PORT_RANGE);
		return;
	}
	msg = port_name_error(ref->name);
	if (msg)
		error(v, path, "Invalid value: %s: %s", quote(q, ref->name), msg);
	else if (pp_container_resolve_port(c, ref) == -ENOENT)
		/* Not an API error: the kubelet reports the probe as Unknown at run time. */
		warning(v, path, "port name %s not found in the container's ports",
			quote(q, ref->name));
}

/* The handler of a probe (exec/httpGet/tcpSocket/grpc) or a hook (exec/httpGet/tcpSocket/sleep). */
static void validate_handler(struct vctx *v, const struct pp_container_spec *c,
			     const struct pp_handler *h, const char *path)
{
	/* The order validateHandler / validateLifecycleHandler test the kinds in. */
	static const struct {
		enum pp_handler_kind kind;
		const char *key;
	} order[] = {
		{PP_HANDLER_EXEC, ".exec"},
		{PP_HANDLER_HTTP_GET, ".httpGet"},
		{PP_HANDLER_TCP_SOCKET, ".tcpSocket"},
		{PP_HANDLER_GRPC, ".grpc"},
		{PP_HANDLER_SLEEP, ".sleep"},
	};
	char p[VPATH_MAX], q[QUOTE_MAX];
	unsigned int seen = 0;

	if (h->n_kinds == 0) {
		error(v, path, "Required value: must specify a handler type");
		return;
	}
	if (h->n_kinds > 1) {
		/* Upstream flags every kind after the first: "<path>.tcpSocket: Forbidden: ..." */
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (!(h->kinds & (1u << order[i].kind)))
				continue;
			if (seen++)
				error(v, join(p, path, order[i].key),
				      "Forbidden: may not specify more than 1 handler type");
		}
		if (!seen)
			error(v, path, "Forbidden: may not specify more than 1 handler type");
		return;
	}
	switch (h->kind) {
	case PP_HANDLER_EXEC:
		if (h->n_command == 0)
			error(v, join(p, path, ".exec.command"), "Required value");
		break;
	case PP_HANDLER_HTTP_GET:
		validate_port_ref(v, c, &h->port, join(p, path, ".httpGet.port"));
		if (h->scheme && strcmp(h->scheme, "HTTP") && strcmp(h->scheme, "HTTPS"))
			error(v, join(p, path, ".httpGet.scheme"),
			      "Unsupported value: %s: supported values: \"HTTP\", \"HTTPS\"",
			      quote(q, h->scheme));
		/* validateHTTPGetAction: IsHTTPHeaderName errors on the list, no index. */
		for (size_t i = 0; i < h->n_headers; i++) {
			const char *name = h->headers[i].name ? h->headers[i].name : "";

			if (!is_header_name(name))
				error(v, join(p, path, ".httpGet.httpHeaders"),
				      "Invalid value: %s: %s", quote(q, name), MSG_HEADER_NAME);
		}
		break;
	case PP_HANDLER_TCP_SOCKET:
		validate_port_ref(v, c, &h->port, join(p, path, ".tcpSocket.port"));
		break;
	case PP_HANDLER_GRPC:
		/* The reader only accepts a number here: gRPC ports cannot be named (P1.8). */
		if (h->port.name || h->port.number < 1 || h->port.number > 65535)
			error(v, join(p, path, ".grpc.port"), MSG_PORT_RANGE);
		break;
	case PP_HANDLER_SLEEP: {
		/*
		 * validateSleepAction with PodLifecycleSleepActionAllowZero (GA in 1.34,
		 * KEP-4818): 0 is "no sleep". The pod's grace period is the one after the
		 * registry's PrepareForCreate, which turns a negative one into 1.
		 */
		int64_t grace = v->pod->termination_grace_s < 0 ? 1 : v->pod->termination_grace_s;

		if (h->sleep_seconds < 0 || h->sleep_seconds > grace)
			error(v, join(p, path, ".sleep"),
			      "Invalid value: %lld: must be non-negative and less than "
			      "terminationGracePeriodSeconds (%lld)",
			      (long long)h->sleep_seconds, (long long)grace);
		break;
	}
	default:
		break;
	}
}

/* P1.2 - P1.5 */
static void validate_probe(struct vctx *v, const struct pp_container_spec *c,
			   const struct pp_probe_spec *probe, enum probe_kind kind,
			   const char *cpath)
{
	const struct {
		const char *key;
		int64_t value;
	} ints[] = {
		{".initialDelaySeconds", probe->initial_delay_s},
		{".timeoutSeconds", probe->timeout_s},
		{".periodSeconds", probe->period_s},
		{".successThreshold", probe->success_threshold},
		{".failureThreshold", probe->failure_threshold},
	};
	char path[HPATH_MAX], p[VPATH_MAX];
	struct pp_probe_spec eff;

	snprintf(path, sizeof(path), "%s.%s", cpath, probe_keys[kind]);
	validate_handler(v, c, &probe->handler, path);
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (ints[i].value < 0)
			error(v, join(p, path, ints[i].key), MSG_NONNEG);

	pp_probe_effective(probe, &eff);
	if (kind != PROBE_READINESS && probe->success_threshold >= 0 && eff.success_threshold != 1)
		error(v, join(p, path, ".successThreshold"), "must be 1");

	join(p, path, ".terminationGracePeriodSeconds");
	if (probe->has_termination_grace && kind == PROBE_READINESS)
		error(v, p, "must not be set for readinessProbes");
	else if (probe->has_termination_grace && probe->termination_grace_s < 1)
		error(v, p, "must be greater than 0");
}

static void validate_ports(struct vctx *v, const struct pp_container_spec *c, const char *cpath)
{
	struct name_set set;
	bool *dup;
	char p[VPATH_MAX], q[QUOTE_MAX];

	if (c->n_ports == 0)
		return;
	dup = calloc(c->n_ports, sizeof(*dup));
	if (!dup || name_set_build(&set, c->n_ports, get_port_name, c, dup)) {
		free(dup);
		v->err = -ENOMEM;
		return;
	}
	free(set.refs);

	for (size_t i = 0; i < c->n_ports; i++) {
		const struct pp_port_spec *port = &c->ports[i];
		const char *msg;

		snprintf(p, sizeof(p), "%s.ports[%zu].containerPort", cpath, i);
		if (port->container_port == 0)
			error(v, p, "Required value");
		else if (port->container_port < 1 || port->container_port > 65535)
			error(v, p, MSG_PORT_RANGE);

		snprintf(p, sizeof(p), "%s.ports[%zu].name", cpath, i);
		if (port->name && *port->name) {
			msg = port_name_error(port->name);
			if (msg)
				error(v, p, "Invalid value: %s: %s", quote(q, port->name), msg);
			else if (dup[i])
				error(v, p, "Duplicate value: %s", quote(q, port->name));
		}

		snprintf(p, sizeof(p), "%s.ports[%zu].protocol", cpath, i);
		if (port->protocol && strcmp(port->protocol, "TCP") &&
		    strcmp(port->protocol, "UDP") && strcmp(port->protocol, "SCTP"))
			error(v, p,
			      "Unsupported value: %s: supported values: \"SCTP\", \"TCP\", \"UDP\"",
			      quote(q, port->protocol));
	}
	free(dup);
}

static void validate_mounts(struct vctx *v, const struct pp_container_spec *c, const char *cpath,
			    const struct name_set *volumes)
{
	struct name_set set;
	bool *dup;
	char p[VPATH_MAX], q[QUOTE_MAX];

	if (c->n_mounts == 0)
		return;
	dup = calloc(c->n_mounts, sizeof(*dup));
	if (!dup || name_set_build(&set, c->n_mounts, get_mount_path, c, dup)) {
		free(dup);
		v->err = -ENOMEM;
		return;
	}
	free(set.refs);

	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct pp_volume_mount *m = &c->mounts[i];

		snprintf(p, sizeof(p), "%s.volumeMounts[%zu].name", cpath, i);
		if (!m->name || !*m->name)
			error(v, p, "Required value");
		else if (!name_set_has(volumes, m->name))
			error(v, p, "Not found: %s", quote(q, m->name));

		snprintf(p, sizeof(p), "%s.volumeMounts[%zu].mountPath", cpath, i);
		if (!m->mount_path || !*m->mount_path)
			error(v, p, "Required value");
		/* validateVolumeMounts asks for no absolute path (a relative one is valid). */
		else if (dup[i])
			error(v, p, "Invalid value: %s: must be unique", quote(q, m->mount_path));

		/* ValidateVolumeMounts: these two paths lack the index upstream too. */
		snprintf(p, sizeof(p), "%s.volumeMounts.subPath", cpath);
		if (m->sub_path && *m->sub_path)
			validate_local_path(v, m->sub_path, p, false);
		if (m->sub_path_expr && *m->sub_path_expr) {
			if (m->sub_path && *m->sub_path) {
				snprintf(p, sizeof(p), "%s.volumeMounts[%zu].subPathExpr", cpath,
					 i);
				error(v, p,
				      "Invalid value: %s: subPathExpr and subPath are mutually "
				      "exclusive",
				      quote(q, m->sub_path_expr));
			}
			snprintf(p, sizeof(p), "%s.volumeMounts.subPathExpr", cpath);
			validate_local_path(v, m->sub_path_expr, p, false);
		}
	}
	free(dup);
}

/* seccompProfile / appArmorProfile: validateSeccompProfileField, ValidateAppArmorProfileField. */
static void validate_profile(struct vctx *v, const struct pp_profile_spec *p, const char *path,
			     const char *what)
{
	const char *type = p->type ? p->type : "";
	char q[QUOTE_MAX], k[VPATH_MAX];
	bool localhost = !strcmp(type, "Localhost");

	if (!p->set)
		return;
	if (!localhost && strcmp(type, "RuntimeDefault") && strcmp(type, "Unconfined")) {
		error(v, join(k, path, ".type"),
		      "Unsupported value: %s: supported values: \"Localhost\", \"RuntimeDefault\", "
		      "\"Unconfined\"",
		      quote(q, type));
		return;
	}
	join(k, path, ".localhostProfile");
	if (localhost && (!p->localhost_profile || !*p->localhost_profile))
		error(v, k, "Required value: must be set when %s type is Localhost", what);
	else if (!localhost && p->localhost_profile)
		error(v, k, "can only be set when %s type is Localhost", what);
	else if (strcmp(type, "Unconfined"))
		/* Unconfined is what every podprobe process is: only the others are dropped. */
		warning(v, path,
			"podprobe applies no %s profile: the process runs Unconfined" MSG_IGNORED,
			what);
}

static void validate_choice(struct vctx *v, const char *value, const char *path, const char *a,
			    const char *b)
{
	char q[QUOTE_MAX];

	if (value && strcmp(value, a) && strcmp(value, b))
		error(v, path, "Unsupported value: %s: supported values: \"%s\", \"%s\"",
		      quote(q, value), a, b);
}

static void validate_caps(struct vctx *v, char *const *names, size_t n, const char *path)
{
	char p[VPATH_MAX], q[QUOTE_MAX];

	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!names[i] || !*names[i])
			error(v, p, "Required value");
		else if (strcasecmp(names[i], "ALL") && pp_cap_from_name(names[i]) < 0)
			/* The API takes any string; containerd then fails to create the container.
			 */
			error(v, p,
			      "Unsupported value: %s: not a Linux capability (write names without "
			      "the CAP_ prefix, e.g. \"NET_ADMIN\", or \"ALL\")",
			      quote(q, names[i]));
	}
}

/*
 * A securityContext at <path> (K: validation.go ValidatePodSecurityContext,
 * ValidateSecurityContext), and a warning for each field the process runtime cannot honour.
 */
static void validate_security(struct vctx *v, const struct pp_security_spec *sc, const char *path,
			      bool pod)
{
	char p[VPATH_MAX];

	if (!sc->set)
		return;
	if (sc->has_run_as_user && (sc->run_as_user < 0 || sc->run_as_user > INT32_MAX))
		error(v, join(p, path, ".runAsUser"), MSG_ID_RANGE);
	if (sc->has_run_as_group && (sc->run_as_group < 0 || sc->run_as_group > INT32_MAX))
		error(v, join(p, path, ".runAsGroup"), MSG_ID_RANGE);
	if (sc->has_fs_group && (sc->fs_group < 0 || sc->fs_group > INT32_MAX))
		error(v, join(p, path, ".fsGroup"), MSG_ID_RANGE);
	for (size_t i = 0; i < sc->n_supplemental_groups; i++) {
		int64_t g = sc->supplemental_groups[i];

		snprintf(p, sizeof(p), "%s.supplementalGroups[%zu]", path, i);
		if (g < 0 || g > INT32_MAX)
			error(v, p, MSG_ID_RANGE);
	}
	/* The runtime's limit: groups travel in a fixed array to the new process. */
	if (sc->n_supplemental_groups + sc->has_fs_group > PP_SEC_MAX_GROUPS)
		error(v, join(p, path, ".supplementalGroups"),
		      "Too many: %zu: must have at most %d items (with fsGroup)",
		      sc->n_supplemental_groups + sc->has_fs_group, PP_SEC_MAX_GROUPS);
	validate_choice(v, sc->supplemental_groups_policy,
			join(p, path, ".supplementalGroupsPolicy"), "Merge", "Strict");
	validate_choice(v, sc->fs_group_change_policy, join(p, path, ".fsGroupChangePolicy"),
			"Always", "OnRootMismatch");
	validate_choice(v, sc->se_linux_change_policy, join(p, path, ".seLinuxChangePolicy"),
			"MountOption", "Recursive");
	validate_choice(v, sc->proc_mount, join(p, path, ".procMount"), "Default", "Unmasked");

	if (sc->has_capabilities) {
		validate_caps(v, sc->cap_add, sc->n_cap_add, join(p, path, ".capabilities.add"));
		validate_caps(v, sc->cap_drop, sc->n_cap_drop, join(p, path, ".capabilities.drop"));
	}
	if (sc->has_allow_privilege_escalation && !sc->allow_privilege_escalation) {
		if (sc->has_privileged && sc->privileged)
			error(v, path,
			      "cannot set `allowPrivilegeEscalation` to false and `privileged` to "
			      "true");
		for (size_t i = 0; i < sc->n_cap_add; i++)
			if (sc->cap_add[i] && !strcmp(sc->cap_add[i], "CAP_SYS_ADMIN"))
				error(v, path,
				      "cannot set `allowPrivilegeEscalation` to false and "
				      "`capabilities.Add` CAP_SYS_ADMIN");
	}
	validate_profile(v, &sc->seccomp, join(p, path, ".seccompProfile"), "seccomp");
	validate_profile(v, &sc->app_armor, join(p, path, ".appArmorProfile"), "AppArmor");

	/* What the process runtime cannot do: never dropped silently. */
	if (sc->has_se_linux_options)
		warning(v, join(p, path, ".seLinuxOptions"),
			"podprobe does not set SELinux labels" MSG_IGNORED);
	if (sc->se_linux_change_policy)
		warning(v, join(p, path, ".seLinuxChangePolicy"),
			"podprobe does not relabel volumes for SELinux" MSG_IGNORED);
	if (sc->has_windows_options)
		warning(v, join(p, path, ".windowsOptions"),
			"Windows only: podprobe runs Linux processes" MSG_IGNORED);
	if (sc->n_sysctls)
		warning(v, join(p, path, ".sysctls"),
			"podprobe does not set sysctls: pods share the host's network and IPC "
			"namespaces" MSG_IGNORED);
	if (sc->proc_mount)
		warning(v, join(p, path, ".procMount"),
			"processes see the host's /proc, nothing is masked" MSG_IGNORED);
	if (sc->read_only_root_fs)
		warning(v, join(p, path, ".readOnlyRootFilesystem"),
			"there is no image root file system: the host's file system stays "
			"writable to the process" MSG_IGNORED);
	if (!pod && sc->has_privileged && sc->privileged)
		warning(v, join(p, path, ".privileged"),
			"podprobe gives the process every capability and changes nothing else: "
			"it already shares the host's devices, /proc and /sys");
}

static void validate_container(struct vctx *v, size_t i, bool dup_name,
			       const struct name_set *volumes)
{
	const struct pp_container_spec *c = pp_pod_container(v->pod, i);
	const struct pp_probe_spec *probes[_PROBE_MAX] = {
		[PROBE_STARTUP] = &c->startup,
		[PROBE_LIVENESS] = &c->liveness,
		[PROBE_READINESS] = &c->readiness,
	};
	char cpath[CPATH_MAX], hpath[HPATH_MAX], p[VPATH_MAX], q[QUOTE_MAX], spath[VPATH_MAX];
	bool regular_init = c->is_init && !c->sidecar;

	pp_pod_container_path(v->pod, i, cpath, sizeof(cpath));

	join(p, cpath, ".name");
	if (!c->name || !*c->name)
		error(v, p, "Required value");
	else if (strlen(c->name) > 63)
		error(v, p, "Invalid value: %s: must be no more than 63 characters",
		      quote(q, c->name));
	else if (!pp_is_dns1123_label(c->name))
		error(v, p, "Invalid value: %s: " MSG_LABEL, quote(q, c->name));
	else if (dup_name)
		error(v, p, "Duplicate value: %s", quote(q, c->name));

	if (!c->image || !*c->image)
		error(v, join(p, cpath, ".image"), "Required value");
	/*
	 * Not an API rule: the process runtime has no image ENTRYPOINT/CMD. args alone run as
	 * the command, as with an image without ENTRYPOINT (`kubectl run X --image=Y -- CMD`).
	 */
	if (c->n_command == 0 && c->n_args == 0)
		error(v, join(p, cpath, ".command"),
		      "Required value: the process runtime has no image entrypoint or default "
		      "command; add command (or args, which then run as the command)");
	else if (c->n_command == 0)
		warning(v, join(p, cpath, ".args"),
			"no command: podprobe runs args as the command (the image's ENTRYPOINT is "
			"not known here)");

	join(p, cpath, ".restartPolicy");
	if (c->restart_policy && !c->is_init)
		error(v, p, "may not be set for non-init containers");
	else if (c->restart_policy && strcmp(c->restart_policy, "Always"))
		error(v, p, "Unsupported value: %s: supported values: \"Always\"",
		      quote(q, c->restart_policy));

	/* P1.9: only sidecars among init containers may have hooks and probes. */
	if (regular_init && (c->has_post_start || c->has_pre_stop))
		error(v, join(p, cpath, ".lifecycle"), MSG_INIT_FORBIDDEN);
	if (!regular_init && c->has_post_start) {
		snprintf(hpath, sizeof(hpath), "%s.lifecycle.postStart", cpath);
		validate_handler(v, c, &c->post_start, hpath);
	}
	if (!regular_init && c->has_pre_stop) {
		snprintf(hpath, sizeof(hpath), "%s.lifecycle.preStop", cpath);
		validate_handler(v, c, &c->pre_stop, hpath);
	}

	for (int k = 0; k < _PROBE_MAX; k++) {
		if (!probes[k]->set)
			continue;
		snprintf(p, sizeof(p), "%s.%s", cpath, probe_keys[k]);
		if (regular_init)
			error(v, p, MSG_INIT_FORBIDDEN);
		else
			validate_probe(v, c, probes[k], k, cpath);
	}

	validate_ports(v, c, cpath);

	for (size_t e = 0; e < c->n_env; e++) {
		const char *name = c->env[e].name;

		snprintf(p, sizeof(p), "%s.env[%zu].name", cpath, e);
		if (!name || !*name)
			error(v, p, "Required value");
		else if (!is_env_name(name))
			error(v, p, "Invalid value: %s: " MSG_ENV_NAME, quote(q, name));
	}

	validate_env_sources(v, c, cpath);
	validate_mounts(v, c, cpath, volumes);

	/* ValidateResourceRequirements: paths are limits[memory], requests[memory]. */
	if (c->memory_limit < 0)
		error(v, join(p, cpath, ".resources.limits[memory]"),
		      "Invalid value: %s: " MSG_NONNEG, quote(q, c->memory_limit_raw));
	if (c->memory_request < 0)
		error(v, join(p, cpath, ".resources.requests[memory]"),
		      "Invalid value: %s: " MSG_NONNEG, quote(q, c->memory_request_raw));
	else if (c->memory_limit > 0 && c->memory_request > c->memory_limit)
		error(v, join(p, cpath, ".resources.requests[memory]"),
		      "Invalid value: %s: must be less than or equal to memory limit of %s",
		      quote(q, c->memory_request_raw), c->memory_limit_raw);

	validate_security(v, &c->security, join(spath, cpath, ".securityContext"), false);
}

static void validate_metadata(struct vctx *v)
{
	const struct pp_pod *pod = v->pod;
	char q[QUOTE_MAX];

	if (!pod->name || !*pod->name)
		error(v, "metadata.name", "Required value");
	else if (strlen(pod->name) > 253)
		error(v, "metadata.name", "Invalid value: %s: must be no more than 253 characters",
		      quote(q, pod->name));
	else if (!is_subdomain_syntax(pod->name))
		error(v, "metadata.name", "Invalid value: %s: " MSG_SUBDOMAIN, quote(q, pod->name));

	if (!pod->namespace || !*pod->namespace)
		return;
	if (strlen(pod->namespace) > 63)
		error(v, "metadata.namespace",
		      "Invalid value: %s: must be no more than 63 characters",
		      quote(q, pod->namespace));
	else if (!pp_is_dns1123_label(pod->namespace))
		error(v, "metadata.namespace", "Invalid value: %s: " MSG_LABEL,
		      quote(q, pod->namespace));
}

static void validate_pod_spec(struct vctx *v)
{
	const struct pp_pod *pod = v->pod;
	char q[QUOTE_MAX];

	if (pod->restart_policy_raw && strcmp(pod->restart_policy_raw, "Always") &&
	    strcmp(pod->restart_policy_raw, "OnFailure") &&
	    strcmp(pod->restart_policy_raw, "Never"))
		error(v, "spec.restartPolicy",
		      "Unsupported value: %s: supported values: \"Always\", \"OnFailure\", "
		      "\"Never\"",
		      quote(q, pod->restart_policy_raw));
	/*
	 * ValidatePodSpec only requires terminationGracePeriodSeconds (defaulted to 30); a
	 * negative one is valid and the registry's PrepareForCreate makes it 1.
	 */
	if (pod->has_active_deadline &&
	    (pod->active_deadline_s < 1 || pod->active_deadline_s > INT32_MAX))
		error(v, "spec.activeDeadlineSeconds",
		      "must be between 1 and 2147483647, inclusive");
	if (pod->n_containers == 0)
		error(v, "spec.containers", "Required value");
}

static void validate_volumes(struct vctx *v, const bool *dup)
{
	const struct pp_pod *pod = v->pod;
	char p[VPATH_MAX], q[QUOTE_MAX];

	for (size_t i = 0; i < pod->n_volumes; i++) {
		const char *name = pod->volumes[i].name;

		snprintf(p, sizeof(p), "spec.volumes[%zu].name", i);
		if (!name || !*name)
			error(v, p, "Required value");
		else if (strlen(name) > 63)
			error(v, p, "Invalid value: %s: must be no more than 63 characters",
			      quote(q, name));
		else if (!pp_is_dns1123_label(name))
			error(v, p, "Invalid value: %s: " MSG_LABEL, quote(q, name));
		else if (dup[i])
			error(v, p, "Duplicate value: %s", quote(q, name));

		validate_volume_source(v, i);
	}
}

struct pod_ref {
	const struct pp_pod *pod;
	size_t idx;
};

static bool same_pod_name(const struct pp_pod *x, const struct pp_pod *y)
{
	return !strcmp(x->namespace, y->namespace) && !strcmp(x->name, y->name);
}

static int cmp_pod_ref(const void *a, const void *b)
{
	const struct pod_ref *x = a, *y = b;
	int c = strcmp(x->pod->namespace, y->pod->namespace);

	if (!c)
		c = strcmp(x->pod->name, y->pod->name);
	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

int pp_pod_list_duplicates(const struct pp_pod_list *pods, size_t *ret_first)
{
	struct pod_ref *v;
	size_t n = 0, first = 0;

	for (size_t i = 0; i < pods->n; i++)
		ret_first[i] = SIZE_MAX;
	if (pods->n < 2)
		return 0;
	v = malloc(pods->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < pods->n; i++)
		if (pods->items[i]->name && pods->items[i]->namespace)
			v[n++] = (struct pod_ref){pods->items[i], i};
	qsort(v, n, sizeof(*v), cmp_pod_ref);
	for (size_t k = 1; k < n; k++) {
		if (!same_pod_name(v[k].pod, v[first].pod))
			first = k;
		else
			ret_first[v[k].idx] = v[first].idx;
	}
	free(v);
	return 0;
}

int pp_pod_validate(const struct pp_pod *pod, struct pp_diag_list *diags)
{
	struct vctx v = {.pod = pod, .diags = diags};
	size_t n_all = pp_pod_n_all(pod);
	struct name_set volumes = {0}, names = {0}, inits = {0};
	bool *vol_dup = NULL, *name_dup = NULL;
	size_t n_init = pod->n_init_containers;

	vol_dup = calloc(pod->n_volumes + 1, sizeof(*vol_dup));
	name_dup = calloc(n_all + 1, sizeof(*name_dup));
	/*
	 * validateContainers checks the regular containers among themselves (a later one is the
	 * duplicate); validateInitContainers then starts from their names, so an init container
	 * that clashes with a regular one is the one flagged (spec.initContainers[i].name).
	 */
	if (!vol_dup || !name_dup ||
	    name_set_build(&volumes, pod->n_volumes, get_volume_name, pod, vol_dup) ||
	    name_set_build(&names, pod->n_containers, get_regular_name, pod, name_dup + n_init) ||
	    name_set_build(&inits, n_init, get_init_name, pod, name_dup)) {
		v.err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_init; i++) {
		const char *name = pod->init_containers[i].name;

		if (name && *name && name_set_has(&names, name))
			name_dup[i] = true;
	}

	validate_metadata(&v);
	validate_pod_spec(&v);
	validate_volumes(&v, vol_dup);
	validate_security(&v, &pod->security, "spec.securityContext", true);
	validate_host_ports(&v);
	/* Names are unique across initContainers and containers (see above). */
	for (size_t i = 0; i < n_all && !v.err && v.n_findings <= MAX_FINDINGS; i++)
		validate_container(&v, i, name_dup[i], &volumes);
out:
	free(volumes.refs);
	free(names.refs);
	free(inits.refs);
	free(vol_dup);
	free(name_dup);
	return v.err ? v.err : v.n_errors;
}
