// SPDX-License-Identifier: Apache-2.0
/*
 * `kubectl describe pod` (kubectl pkg/describe/describe.go describePod and the helpers it
 * calls), reduced to the fields podprobe's pods have. The text is built with tabs, then laid
 * out by the tabwriter as kubectl's tabbedString does; the Events block is flushed on its own
 * (DescribeEvents calls w.Flush() first), so its columns do not line up with the rest.
 */
#include "podprobe/describe.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/api_obj.h"
#include "podprobe/kubefmt.h"

#define NS_PER_SEC	   1000000000ll
#define MAX_ANNOTATION_LEN 140 /* describe.go maxAnnotationLen */

/* The scratch text of one flush, and where the flushes go. */
struct desc {
	struct pp_strbuf *out;
	struct pp_strbuf w;
	const struct pp_describe_env *env;
};

/* ---- times ------------------------------------------------------------------------------- */

bool pp_describe_parse_time(const char *s, int64_t *ret_ns)
{
	pp_wall_ns t;

	if (!s || pp_api_time_parse(s, &t) < 0)
		return false;
	*ret_ns = t;
	return true;
}

int pp_describe_rfc1123z(int64_t t_ns, const struct pp_describe_env *env, char *buf, size_t size)
{
	static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t t = t_ns / NS_PER_SEC - (t_ns % NS_PER_SEC < 0);
	long off = env && env->utc_offset ? env->utc_offset(t, env->ctx) : 0;
	int64_t local = t + off, days = local / 86400 - (local % 86400 < 0);
	int64_t secs = local - days * 86400, y;
	long aoff = off < 0 ? -off : off;
	unsigned int m, d;
	int n;

	pp_civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, size, "%s, %02u %s %04lld %02d:%02d:%02d %c%02ld%02ld",
		     wdays[((days % 7) + 11) % 7], d, months[m - 1], (long long)y,
		     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
		     off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* A time field as RFC1123Z; Go's zero time when unset, as metav1.Time prints it. */
static const char *rfc1123z(const struct desc *ds, json_t *v, char *buf, size_t size)
{
	int64_t ns;

	if (!pp_describe_parse_time(json_string_value(v), &ns) ||
	    pp_describe_rfc1123z(ns, ds->env, buf, size) < 0)
		snprintf(buf, size, "Mon, 01 Jan 0001 00:00:00 +0000");
	return buf;
}

/* describe.go translateTimestampSince: HumanDuration of now - <v>, "<unknown>" when unset. */
static const char *since(const struct desc *ds, json_t *v, char *buf, size_t size)
{
	int64_t t;

	if (!pp_describe_parse_time(json_string_value(v), &t) ||
	    pp_fmt_human_duration(ds->env->now_ns - t, buf, size) < 0)
		snprintf(buf, size, "<unknown>");
	return buf;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object <o> sorted, without <skip> (may be NULL); NULL on ENOMEM (*ret_n 0). */
static const char **sorted_keys(struct desc *ds, json_t *o, const char *skip, size_t *ret_n)
{
	const char **keys = calloc(json_object_size(o) + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	size_t n = 0;

	*ret_n = 0;
	if (!keys) {
		ds->w.err = -ENOMEM;
		return NULL;
	}
	json_object_foreach(o, k, v)
	{
		if (!skip || strcmp(k, skip))
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_n = n;
	return keys;
}

/* The scratch text so far, laid out, to the output (tabbedString's tabwriter Flush). */
static void flush(struct desc *ds)
{
	struct pp_tabwriter_cfg cfg = PP_TABWRITER_KUBECTL_DESCRIBE;

	if (ds->w.err) {
		if (!ds->out->err)
			ds->out->err = ds->w.err;
		return;
	}
	pp_tabwriter_format(ds->out, ds->w.p ? ds->w.p : "", ds->w.len, &cfg);
	ds->w.len = 0;
}

/* ---- the sections ------------------------------------------------------------------------ */

/* describe.go printLabelsMultiline: "Title:\tk=v", then "\tk=v" per further label. */
static void labels_multiline(struct desc *ds, const char *title, json_t *labels)
{
	struct pp_strbuf *w = &ds->w;
	size_t n;
	const char **keys = sorted_keys(ds, labels, NULL, &n);

	pp_strbuf_addf(w, "%s:\t", title);
	if (!n)
		pp_strbuf_adds(w, "<none>\n");
	for (size_t i = 0; i < n; i++)
		pp_strbuf_addf(w, "%s%s=%s\n", i ? "\t" : "", keys[i], str(labels, keys[i]));
	free(keys);
}

/* describe.go printAnnotationsMultiline (without last-applied-configuration). */
static void annotations_multiline(struct desc *ds, json_t *ann)
{
	struct pp_strbuf *w = &ds->w;
	size_t n;
	const char **keys =
		sorted_keys(ds, ann, "kubectl.kubernetes.io/last-applied-configuration", &n);

	pp_strbuf_adds(w, "Annotations:\t");
	if (!n)
		pp_strbuf_adds(w, "<none>\n");
	for (size_t i = 0; i < n; i++) {
		const char *v = str(ann, keys[i]);
		size_t vl = strlen(v);

		if (i)
			pp_strbuf_addc(w, '\t');
		if (vl && v[vl - 1] == '\n')
			vl--;
		if (vl + strlen(keys[i]) + 2 > MAX_ANNOTATION_LEN || memchr(v, '\n', vl)) {
			pp_strbuf_addf(w, "%s:\n", keys[i]);
			for (const char *s = v; s <= v + vl;) {
				const char *e = memchr(s, '\n', (size_t)(v + vl - s));
				size_t l = e ? (size_t)(e - s) : (size_t)(v + vl - s);
				bool cut = l > MAX_ANNOTATION_LEN - 2;

				pp_strbuf_addf(w, "\t  %.*s%s\n",
					       (int)(cut ? MAX_ANNOTATION_LEN - 2 : l), s,
					       cut ? "..." : "");
				s += l + 1;
			}
		} else {
			pp_strbuf_addf(w, "%s: %.*s\n", keys[i], (int)vl, v);
		}
	}
	free(keys);
}

/* describe.go describeStatus: State / Last State of a container. */
static void container_state(struct desc *ds, const char *title, json_t *state)
{
	struct pp_strbuf *w = &ds->w;
	json_t *run = json_object_get(state, "running");
	json_t *wait = json_object_get(state, "waiting");
	json_t *term = json_object_get(state, "terminated");
	char t[64];

	if (run) {
		pp_strbuf_addf(w, "    %s:\tRunning\n", title);
		pp_strbuf_addf(w, "      Started:\t%s\n",
			       rfc1123z(ds, json_object_get(run, "startedAt"), t, sizeof(t)));
	} else if (wait) {
		pp_strbuf_addf(w, "    %s:\tWaiting\n", title);
		if (*str(wait, "reason"))
			pp_strbuf_addf(w, "      Reason:\t%s\n", str(wait, "reason"));
	} else if (term) {
		long long sig = num(term, "signal");

		pp_strbuf_addf(w, "    %s:\tTerminated\n", title);
		if (*str(term, "reason"))
			pp_strbuf_addf(w, "      Reason:\t%s\n", str(term, "reason"));
		if (*str(term, "message"))
			pp_strbuf_addf(w, "      Message:\t%s\n", str(term, "message"));
		pp_strbuf_addf(w, "      Exit Code:\t%lld\n", num(term, "exitCode"));
		if (sig > 0)
			pp_strbuf_addf(w, "      Signal:\t%lld\n", sig);
		pp_strbuf_addf(w, "      Started:\t%s\n",
			       rfc1123z(ds, json_object_get(term, "startedAt"), t, sizeof(t)));
		pp_strbuf_addf(w, "      Finished:\t%s\n",
			       rfc1123z(ds, json_object_get(term, "finishedAt"), t, sizeof(t)));
	} else {
		pp_strbuf_addf(w, "    %s:\tWaiting\n", title);
	}
}

/* describe.go describeContainerPorts / describeContainerHostPorts: "8080/TCP, 9090/UDP". */
static void ports_string(json_t *ports, const char *key, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(ports) && len < size; i++) {
		json_t *p = json_array_get(ports, i);
		int n = snprintf(buf + len, size - len, "%s%lld/%s", i ? ", " : "", num(p, key),
				 str(p, "protocol"));

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* describe.go describeContainerCommand / describeContainerArgs: a line per line. */
static void lines_of(struct desc *ds, const char *title, json_t *list)
{
	struct pp_strbuf *w = &ds->w;

	if (!json_array_size(list))
		return;
	pp_strbuf_addf(w, "    %s:\n", title);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));

		for (s = s ? s : ""; s;) {
			const char *e = strchr(s, '\n');

			pp_strbuf_addf(w, "      %.*s\n", e ? (int)(e - s) : (int)strlen(s), s);
			s = e ? e + 1 : NULL;
		}
	}
}

/* describe.go describeResources: Limits and Requests, names sorted. */
static void resources(struct desc *ds, json_t *res)
{
	static const char *const kinds[2] = {"limits", "requests"};
	static const char *const titles[2] = {"Limits", "Requests"};
	struct pp_strbuf *w = &ds->w;

	for (int k = 0; k < 2; k++) {
		json_t *m = json_object_get(res, kinds[k]);
		size_t n;
		const char **keys = sorted_keys(ds, m, NULL, &n);

		if (n)
			pp_strbuf_addf(w, "    %s:\n", titles[k]);
		for (size_t i = 0; i < n; i++) {
			json_t *q = json_object_get(m, keys[i]);

			if (json_is_integer(q))
				pp_strbuf_addf(w, "      %s:\t%lld\n", keys[i],
					       (long long)json_integer_value(q));
			else
				pp_strbuf_addf(w, "      %s:\t%s\n", keys[i], str(m, keys[i]));
		}
		free(keys);
	}
}

/* An IntOrString port as text. */
static void port_text(json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, size, "%s", json_string_value(v) ? json_string_value(v) : "");
}

/* describe.go DescribeProbe */
static void probe(struct desc *ds, const char *title, json_t *p)
{
	struct pp_strbuf *w = &ds->w;
	json_t *exec = json_object_get(p, "exec"), *http = json_object_get(p, "httpGet");
	json_t *tcp = json_object_get(p, "tcpSocket"), *grpc = json_object_get(p, "grpc");
	char port[64];

	if (!json_is_object(p))
		return;
	pp_strbuf_addf(w, "    %s:\t", title);
	if (exec) {
		json_t *cmd = json_object_get(exec, "command");

		pp_strbuf_adds(w, "exec [");
		for (size_t i = 0; i < json_array_size(cmd); i++) {
			const char *a = json_string_value(json_array_get(cmd, i));

			pp_strbuf_addf(w, "%s%s", i ? " " : "", a ? a : "");
		}
		pp_strbuf_adds(w, "]");
	} else if (http) {
		const char *scheme = str(http, "scheme");

		port_text(json_object_get(http, "port"), port, sizeof(port));
		pp_strbuf_adds(w, "http-get ");
		if (*scheme) {
			for (const char *c = scheme; *c; c++)
				pp_strbuf_addc(w, *c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
			pp_strbuf_addc(w, ':');
		}
		pp_strbuf_addf(w, "//%s%s%s%s", str(http, "host"), *port ? ":" : "", port,
			       str(http, "path"));
	} else if (tcp) {
		port_text(json_object_get(tcp, "port"), port, sizeof(port));
		pp_strbuf_addf(w, "tcp-socket %s:%s", str(tcp, "host"), port);
	} else if (grpc) {
		pp_strbuf_addf(w, "grpc <pod>:%lld %s", num(grpc, "port"), str(grpc, "service"));
	} else {
		pp_strbuf_adds(w, "unknown");
	}
	pp_strbuf_addf(w, " delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld\n",
		       num(p, "initialDelaySeconds"), num(p, "timeoutSeconds"),
		       num(p, "periodSeconds"), num(p, "successThreshold"),
		       num(p, "failureThreshold"));
}

/* describe.go describeContainerEnvVars, reduced: env sources are not resolved. */
static void environment(struct desc *ds, json_t *env)
{
	struct pp_strbuf *w = &ds->w;

	pp_strbuf_adds(w,
		       json_array_size(env) ? "    Environment:\n" : "    Environment:\t<none>\n");
	for (size_t j = 0; j < json_array_size(env); j++) {
		json_t *e = json_array_get(env, j);

		if (json_object_get(e, "valueFrom"))
			pp_strbuf_addf(w, "      %s:\t<set from a source>\n", str(e, "name"));
		else
			pp_strbuf_addf(w, "      %s:\t%s\n", str(e, "name"), str(e, "value"));
	}
}

/* describe.go describeContainerVolumes */
static void mounts(struct desc *ds, json_t *list)
{
	struct pp_strbuf *w = &ds->w;

	pp_strbuf_adds(w, json_array_size(list) ? "    Mounts:\n" : "    Mounts:\t<none>\n");
	for (size_t j = 0; j < json_array_size(list); j++) {
		json_t *m = json_array_get(list, j);

		pp_strbuf_addf(w, "      %s from %s (%s", str(m, "mountPath"), str(m, "name"),
			       json_is_true(json_object_get(m, "readOnly")) ? "ro" : "rw");
		if (*str(m, "subPath"))
			pp_strbuf_addf(w, ",path=\"%s\"", str(m, "subPath"));
		pp_strbuf_adds(w, ")\n");
	}
}

/* describe.go describeContainers, reduced (envFrom and env sources not resolved). */
static void containers(struct desc *ds, const char *label, json_t *specs, json_t *statuses)
{
	struct pp_strbuf *w = &ds->w;
	char ports[512];

	pp_strbuf_addf(w, "%s:%s\n", label, json_array_size(specs) ? "" : " <none>");
	for (size_t i = 0; i < json_array_size(specs); i++) {
		json_t *c = json_array_get(specs, i), *st = NULL;
		const char *name = str(c, "name");

		for (size_t j = 0; j < json_array_size(statuses); j++)
			if (!strcmp(str(json_array_get(statuses, j), "name"), name))
				st = json_array_get(statuses, j);
		pp_strbuf_addf(w, "  %s:\n", name);
		if (st)
			pp_strbuf_addf(w, "    Container ID:\t%s\n", str(st, "containerID"));
		pp_strbuf_addf(w, "    Image:\t%s\n", str(c, "image"));
		if (st)
			pp_strbuf_addf(w, "    Image ID:\t%s\n", str(st, "imageID"));
		ports_string(json_object_get(c, "ports"), "containerPort", ports, sizeof(ports));
		pp_strbuf_addf(w, "    %s:\t%s\n", strchr(ports, ',') ? "Ports" : "Port",
			       *ports ? ports : "<none>");
		ports_string(json_object_get(c, "ports"), "hostPort", ports, sizeof(ports));
		pp_strbuf_addf(w, "    %s:\t%s\n", strchr(ports, ',') ? "Host Ports" : "Host Port",
			       *ports ? ports : "<none>");
		lines_of(ds, "Command", json_object_get(c, "command"));
		lines_of(ds, "Args", json_object_get(c, "args"));
		if (st) {
			json_t *last = json_object_get(st, "lastState");

			container_state(ds, "State", json_object_get(st, "state"));
			if (json_object_get(last, "terminated"))
				container_state(ds, "Last State", last);
			pp_strbuf_addf(w, "    Ready:\t%s\n",
				       json_is_true(json_object_get(st, "ready")) ? "True"
										  : "False");
			pp_strbuf_addf(w, "    Restart Count:\t%lld\n", num(st, "restartCount"));
		}
		resources(ds, json_object_get(c, "resources"));
		probe(ds, "Liveness", json_object_get(c, "livenessProbe"));
		probe(ds, "Readiness", json_object_get(c, "readinessProbe"));
		probe(ds, "Startup", json_object_get(c, "startupProbe"));
		environment(ds, json_object_get(c, "env"));
		mounts(ds, json_object_get(c, "volumeMounts"));
	}
}

/* A *bool as describe.go's %v prints it: <nil> when unset (a set one as its value). */
static const char *opt_bool(json_t *o, const char *key)
{
	json_t *b = json_object_get(o, key);

	return !b ? "<nil>" : json_is_true(b) ? "true" : "false";
}

/* describe.go printProjectedVolumeSource */
static void projected(struct desc *ds, json_t *pv)
{
	struct pp_strbuf *w = &ds->w;
	json_t *srcs = json_object_get(pv, "sources");

	pp_strbuf_adds(w,
		       "    Type:\tProjected (a volume that contains injected data from multiple "
		       "sources)\n");
	for (size_t i = 0; i < json_array_size(srcs); i++) {
		json_t *s = json_array_get(srcs, i), *x;

		if ((x = json_object_get(s, "secret")))
			pp_strbuf_addf(w, "    SecretName:\t%s\n    SecretOptionalName:\t%s\n",
				       str(x, "name"), opt_bool(x, "optional"));
		else if (json_object_get(s, "downwardAPI"))
			pp_strbuf_adds(w, "    DownwardAPI:\ttrue\n");
		else if ((x = json_object_get(s, "configMap")))
			pp_strbuf_addf(w, "    ConfigMapName:\t%s\n    ConfigMapOptional:\t%s\n",
				       str(x, "name"), opt_bool(x, "optional"));
		else if ((x = json_object_get(s, "serviceAccountToken")))
			/* The API server defaults expirationSeconds to 3600. */
			pp_strbuf_addf(w, "    TokenExpirationSeconds:\t%lld\n",
				       json_object_get(x, "expirationSeconds")
					       ? num(x, "expirationSeconds")
					       : 3600);
	}
}

/*
 * describe.go describeVolumes: emptyDir, configMap, secret, hostPath, downwardAPI, projected
 * and persistentVolumeClaim; other sources as <unknown>.
 */
static void volumes(struct desc *ds, json_t *vols)
{
	struct pp_strbuf *w = &ds->w;

	if (!json_array_size(vols)) {
		pp_strbuf_adds(w, "Volumes:\t<none>\n");
		return;
	}
	pp_strbuf_adds(w, "Volumes:\n");
	for (size_t i = 0; i < json_array_size(vols); i++) {
		json_t *v = json_array_get(vols, i), *x;

		pp_strbuf_addf(w, "  %s:\n", str(v, "name"));
		if ((x = json_object_get(v, "emptyDir"))) {
			pp_strbuf_addf(w,
				       "    Type:\tEmptyDir (a temporary directory that shares a "
				       "pod's lifetime)\n    Medium:\t%s\n    SizeLimit:\t%s\n",
				       str(x, "medium"),
				       *str(x, "sizeLimit") ? str(x, "sizeLimit") : "<unset>");
		} else if ((x = json_object_get(v, "configMap"))) {
			pp_strbuf_addf(w,
				       "    Type:\tConfigMap (a volume populated by a ConfigMap)\n"
				       "    Name:\t%s\n    Optional:\t%s\n",
				       str(x, "name"),
				       json_is_true(json_object_get(x, "optional")) ? "true"
										    : "false");
		} else if ((x = json_object_get(v, "secret"))) {
			pp_strbuf_addf(w,
				       "    Type:\tSecret (a volume populated by a Secret)\n"
				       "    SecretName:\t%s\n    Optional:\t%s\n",
				       str(x, "secretName"),
				       json_is_true(json_object_get(x, "optional")) ? "true"
										    : "false");
		} else if ((x = json_object_get(v, "hostPath"))) {
			pp_strbuf_addf(w,
				       "    Type:\tHostPath (bare host directory volume)\n"
				       "    Path:\t%s\n    HostPathType:\t%s\n",
				       str(x, "path"),
				       json_object_get(x, "type") ? str(x, "type") : "<none>");
		} else if ((x = json_object_get(v, "downwardAPI"))) {
			json_t *items = json_object_get(x, "items");

			pp_strbuf_adds(w,
				       "    Type:\tDownwardAPI (a volume populated by information "
				       "about the pod)\n    Items:\n");
			for (size_t j = 0; j < json_array_size(items); j++) {
				json_t *it = json_array_get(items, j), *f;

				if ((f = json_object_get(it, "fieldRef")))
					pp_strbuf_addf(w, "      %s -> %s\n", str(f, "fieldPath"),
						       str(it, "path"));
				if ((f = json_object_get(it, "resourceFieldRef")))
					pp_strbuf_addf(w, "      %s -> %s\n", str(f, "resource"),
						       str(it, "path"));
			}
		} else if ((x = json_object_get(v, "projected"))) {
			projected(ds, x);
		} else if ((x = json_object_get(v, "persistentVolumeClaim"))) {
			pp_strbuf_addf(w,
				       "    Type:\tPersistentVolumeClaim (a reference to a "
				       "PersistentVolumeClaim in the same namespace)\n"
				       "    ClaimName:\t%s\n    ReadOnly:\t%s\n",
				       str(x, "claimName"),
				       json_is_true(json_object_get(x, "readOnly")) ? "true"
										    : "false");
		} else {
			pp_strbuf_adds(w, "  <unknown>\n");
		}
	}
}

/* describe.go printPodTolerationsMultiline */
static void tolerations(struct desc *ds, json_t *tol)
{
	struct pp_strbuf *w = &ds->w;

	pp_strbuf_adds(w, "Tolerations:\t");
	if (!json_array_size(tol))
		pp_strbuf_adds(w, "<none>\n");
	for (size_t i = 0; i < json_array_size(tol); i++) {
		json_t *t = json_array_get(tol, i), *secs = json_object_get(t, "tolerationSeconds");
		const char *key = str(t, "key"), *val = str(t, "value"), *eff = str(t, "effect");

		pp_strbuf_addf(w, "%s%s", i ? "\t" : "", key);
		if (*val)
			pp_strbuf_addf(w, "=%s", val);
		if (*eff)
			pp_strbuf_addf(w, ":%s", eff);
		if (!strcmp(str(t, "operator"), "Exists") && !*val)
			pp_strbuf_addf(w, "%sop=Exists", *key ? " " : "");
		if (json_is_integer(secs))
			pp_strbuf_addf(w, " for %llds", (long long)json_integer_value(secs));
		pp_strbuf_addc(w, '\n');
	}
}

/* describe.go DescribeEvents: sorted by lastTimestamp (stable), ages from firstTimestamp. */
static void events_block(struct desc *ds, json_t *list)
{
	struct pp_strbuf *w = &ds->w;
	json_t *items = json_object_get(list, "items");
	size_t n = json_array_size(items);
	json_t **ev;
	int64_t *last;
	char a[32], b[32], interval[96];

	if (!n) {
		pp_strbuf_adds(w, "Events:\t<none>\n");
		return;
	}
	ev = calloc(n, sizeof(*ev));
	last = calloc(n, sizeof(*last));
	if (!ev || !last) {
		w->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		ev[i] = json_array_get(items, i);
		if (!pp_describe_parse_time(str(ev[i], "lastTimestamp"), &last[i]))
			last[i] = INT64_MIN;
		/* insertion sort: stable, as sort.Sort is for these sizes */
		while (j > 0 && last[j - 1] > last[j]) {
			json_t *te = ev[j - 1];
			int64_t tl = last[j - 1];

			ev[j - 1] = ev[j];
			last[j - 1] = last[j];
			ev[j] = te;
			last[j] = tl;
			j--;
		}
	}
	flush(ds);
	pp_strbuf_adds(w, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n"
			  "  ----\t------\t----\t----\t-------\n");
	for (size_t i = 0; i < n; i++) {
		json_t *e = ev[i], *series = json_object_get(e, "series");
		long long count = num(e, "count");
		const char *src = str(json_object_get(e, "source"), "component");
		const char *msg = str(e, "message");
		size_t ml;

		if (json_is_string(json_object_get(e, "eventTime")))
			since(ds, json_object_get(e, "eventTime"), a, sizeof(a));
		else
			since(ds, json_object_get(e, "firstTimestamp"), a, sizeof(a));
		if (series)
			snprintf(interval, sizeof(interval), "%s (x%lld over %s)",
				 since(ds, json_object_get(series, "lastObservedTime"), b,
				       sizeof(b)),
				 num(series, "count"), a);
		else if (count > 1)
			snprintf(interval, sizeof(interval), "%s (x%lld over %s)",
				 since(ds, json_object_get(e, "lastTimestamp"), b, sizeof(b)),
				 count, a);
		else
			snprintf(interval, sizeof(interval), "%s", a);
		if (!*src)
			src = str(e, "reportingController");
		msg += strspn(msg, " \t\n\r");
		ml = strlen(msg);
		while (ml && strchr(" \t\n\r", msg[ml - 1]))
			ml--;
		pp_strbuf_addf(w, "  %s\t%s\t%s\t%s\t%.*s\n", str(e, "type"), str(e, "reason"),
			       interval, src, (int)ml, msg);
	}
out:
	free(ev);
	free(last);
}

int pp_describe_pod(struct pp_strbuf *out, json_t *pod, json_t *events,
		    const struct pp_describe_env *env)
{
	json_t *md = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
	json_t *st = json_object_get(pod, "status"), *conds, *ips;
	static const struct pp_describe_env utc_epoch;
	struct desc ds = {.out = out, .env = env ? env : &utc_epoch};
	struct pp_strbuf *w = &ds.w;
	char t[64];
	int err;

	if (!json_is_object(pod))
		return -EINVAL;
	/* describe.go describePod */
	pp_strbuf_addf(w, "Name:\t%s\n", str(md, "name"));
	pp_strbuf_addf(w, "Namespace:\t%s\n", str(md, "namespace"));
	if (json_is_integer(json_object_get(spec, "priority")))
		pp_strbuf_addf(w, "Priority:\t%lld\n", num(spec, "priority"));
	if (*str(spec, "priorityClassName"))
		pp_strbuf_addf(w, "Priority Class Name:\t%s\n", str(spec, "priorityClassName"));
	if (*str(spec, "serviceAccountName"))
		pp_strbuf_addf(w, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
	if (!*str(spec, "nodeName"))
		pp_strbuf_adds(w, "Node:\t<none>\n");
	else
		pp_strbuf_addf(w, "Node:\t%s/%s\n", str(spec, "nodeName"), str(st, "hostIP"));
	if (json_object_get(st, "startTime") && !json_is_null(json_object_get(st, "startTime")))
		pp_strbuf_addf(w, "Start Time:\t%s\n",
			       rfc1123z(&ds, json_object_get(st, "startTime"), t, sizeof(t)));
	labels_multiline(&ds, "Labels", json_object_get(md, "labels"));
	annotations_multiline(&ds, json_object_get(md, "annotations"));
	if (json_is_string(json_object_get(md, "deletionTimestamp")) &&
	    strcmp(str(st, "phase"), "Failed") && strcmp(str(st, "phase"), "Succeeded")) {
		pp_strbuf_addf(w, "Status:\tTerminating (lasts %s)\n",
			       since(&ds, json_object_get(md, "deletionTimestamp"), t, sizeof(t)));
		pp_strbuf_addf(w, "Termination Grace Period:\t%llds\n",
			       num(md, "deletionGracePeriodSeconds"));
	} else {
		pp_strbuf_addf(w, "Status:\t%s\n", str(st, "phase"));
	}
	if (*str(st, "reason"))
		pp_strbuf_addf(w, "Reason:\t%s\n", str(st, "reason"));
	if (*str(st, "message"))
		pp_strbuf_addf(w, "Message:\t%s\n", str(st, "message"));
	pp_strbuf_addf(w, "IP:\t%s\n", str(st, "podIP"));
	ips = json_object_get(st, "podIPs");
	pp_strbuf_adds(w, json_array_size(ips) ? "IPs:\n" : "IPs:\t<none>\n");
	for (size_t i = 0; i < json_array_size(ips); i++)
		pp_strbuf_addf(w, "  IP:\t%s\n", str(json_array_get(ips, i), "ip"));
	if (json_array_size(json_object_get(spec, "initContainers")))
		containers(&ds, "Init Containers", json_object_get(spec, "initContainers"),
			   json_object_get(st, "initContainerStatuses"));
	containers(&ds, "Containers", json_object_get(spec, "containers"),
		   json_object_get(st, "containerStatuses"));
	conds = json_object_get(st, "conditions");
	if (json_array_size(conds)) {
		pp_strbuf_adds(w, "Conditions:\n  Type\tStatus\n");
		for (size_t i = 0; i < json_array_size(conds); i++)
			pp_strbuf_addf(w, "  %s \t%s \n", str(json_array_get(conds, i), "type"),
				       str(json_array_get(conds, i), "status"));
	}
	volumes(&ds, json_object_get(spec, "volumes"));
	if (*str(st, "qosClass"))
		pp_strbuf_addf(w, "QoS Class:\t%s\n", str(st, "qosClass"));
	labels_multiline(&ds, "Node-Selectors", json_object_get(spec, "nodeSelector"));
	tolerations(&ds, json_object_get(spec, "tolerations"));
	events_block(&ds, events);
	flush(&ds);
	err = out->err;
	pp_strbuf_fini(w);
	return err;
}
