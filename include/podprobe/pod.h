/* SPDX-License-Identifier: Apache-2.0 */
/* The Pod manifest model: ownership, lookups, defaulting and validation (pure). */
#ifndef PODPROBE_POD_H
#define PODPROBE_POD_H

#include <stdarg.h>

#include "podprobe/pod-t.h"

/* A growable list of pods; pp_pod_list_free() frees the pods too. */
struct pp_pod_list {
	struct pp_pod **items;
	size_t n;
	size_t cap;
};

/* Free <pod> and everything it owns. Accepts NULL. */
void pp_pod_free(struct pp_pod *pod);

/* Append <pod> to <list>, which takes ownership. Returns 0 or -ENOMEM (pod then freed). */
int pp_pod_list_push(struct pp_pod_list *list, struct pp_pod *pod);
void pp_pod_list_free(struct pp_pod_list *list);

/* Number of containers, init containers first. */
static inline size_t pp_pod_n_all(const struct pp_pod *pod)
{
	return pod->n_init_containers + pod->n_containers;
}

/* Container <i> in the order init containers, then regular containers. */
const struct pp_container_spec *pp_pod_container(const struct pp_pod *pod, size_t i);

/* The field path prefix of container <i>: "spec.initContainers[2]" or "spec.containers[0]". */
int pp_pod_container_path(const struct pp_pod *pod, size_t i, char *buf, size_t size);

/*
 * Position of the field at <path>, or of its closest recorded ancestor when the field
 * itself is absent (so "missing field" errors point at the enclosing object). Returns the
 * document start when nothing matches.
 */
struct pp_src_pos pp_pod_field_pos(const struct pp_pod *pod, const char *path);

/* The value of annotation <name>, or NULL. */
const char *pp_pod_annotation(const struct pp_pod *pod, const char *name);

/*
 * Resolve a probe/hook port against the container's ports: a number is returned as is, a
 * name is looked up in <c>->ports (first match). Returns the port (1..65535), -ENOENT for an
 * unknown name, -ERANGE for a number out of range.
 */
int pp_container_resolve_port(const struct pp_container_spec *c, const struct pp_port_ref *ref);

/* <spec> with the API server's defaults applied (P1.1) into <ret>. */
void pp_probe_effective(const struct pp_probe_spec *spec, struct pp_probe_spec *ret);

/* "Always", "OnFailure", "Never". */
const char *pp_restart_policy_str(enum pp_restart_policy p);

/*
 * Check <pod> as the API server would (names, DNS-1123 labels, uniqueness, handlers, probe
 * ranges and thresholds, ports, volumes, command). Appends findings to <diags>. Returns the
 * number of errors found (0 = valid) or -ENOMEM.
 */
int pp_pod_validate(const struct pp_pod *pod, struct pp_diag_list *diags);

/*
 * The pods of <pods> that share namespace and name with an earlier one (the API server refuses
 * the second create: AlreadyExists): <ret_first>[i] (pods->n entries) is the index of the
 * first pod of that name for each such pod i, SIZE_MAX for the others. O(n log n), so a
 * manifest of 10,000 pods is not 50 million comparisons. Returns 0 or -ENOMEM.
 */
int pp_pod_list_duplicates(const struct pp_pod_list *pods, size_t *ret_first);

/* True for a DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
bool pp_is_dns1123_label(const char *s);

/* True for a DNS-1123 subdomain (pod names): dot-separated labels, at most 253 characters. */
bool pp_is_dns1123_subdomain(const char *s);

/*
 * Append a finding. <file> and <path> are copied; <fmt> formats the message. Returns 0 or
 * -ENOMEM.
 */
int pp_diag_add(struct pp_diag_list *diags, enum pp_diag_severity sev, const char *file,
		struct pp_src_pos pos, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* pp_diag_add() with a va_list, for callers that wrap it in their own variadic helper. */
int pp_diag_addv(struct pp_diag_list *diags, enum pp_diag_severity sev, const char *file,
		 struct pp_src_pos pos, const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* Format <d> as "file:line:col: path: message" (or "warning: ..." for warnings). */
int pp_diag_format(const struct pp_diag *d, char *buf, size_t size);

void pp_diag_list_free(struct pp_diag_list *diags);

/*
 * Write the <len> bytes at <s> into <buf> as a double-quoted string for a message: '"', '\\'
 * and control bytes are escaped, and the text is cut with "..." to fit <size> (>= 8).
 * Returns <buf>.
 */
const char *pp_quote(char *buf, size_t size, const char *s, size_t len);

#endif
