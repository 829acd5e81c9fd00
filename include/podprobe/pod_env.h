/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Env valueFrom / envFrom and the contents of configMap, secret, downwardAPI and projected
 * volumes, as kubelet computes them (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables,
 * pkg/volume/{configmap,secret,downwardapi,projected}). Pure.
 */
#ifndef PODPROBE_POD_ENV_H
#define PODPROBE_POD_ENV_H

#include <stdbool.h>

#include "podprobe/pod_env-t.h"

/* The last ConfigMap/Secret of <kind> named <name> in namespace <ns> on <list>, or NULL. */
const struct pp_config_obj *pp_config_find(const struct pp_config_list *list,
					   enum pp_config_kind kind, const char *ns,
					   const char *name);

/*
 * The value of <key> in <o> into a malloc'd, NUL-terminated *<ret> (*<ret_len> bytes, may hold
 * NULs): a Secret's stringData, else its data decoded; a ConfigMap's data, else (when
 * <binary>) its binaryData decoded. Returns 0, -ENOENT (no such key), -EINVAL (bad base64) or
 * -ENOMEM.
 */
int pp_config_value(const struct pp_config_obj *o, const char *key, bool binary, char **ret,
		    size_t *ret_len);

/* Standard base64 as Go's encoding/json decodes []byte (padding required, \r \n skipped). */
int pp_base64_decode(const char *in, char **ret, size_t *ret_len);

/*
 * A fieldRef's value (fieldpath.ExtractFieldPathAsString and kubelet's
 * podFieldSelectorRuntimeValue) into malloc'd *<ret>. Returns 0, -EINVAL with kubelet's
 * message in <err> for a path it does not support, or -ENOMEM.
 */
int pp_env_field_value(const struct pp_pod *pod, const struct pp_env_host *host, const char *path,
		       char **ret, char *err, size_t errlen);

/*
 * A resourceFieldRef's value for container <c> (resource.ExtractContainerResourceValue, with
 * unset limits defaulted to <host>'s allocatable and unset requests to the limits as written).
 * Returns 0, -EINVAL with kubelet's message in <err>, or -ENOMEM.
 */
int pp_env_resource_value(const struct pp_container_spec *c, const struct pp_env_host *host,
			  const struct pp_value_src *src, char **ret, char *err, size_t errlen);

/*
 * Container <c>'s environment as makeEnvironmentVariables makes it: the <n_base> entries of
 * <base> (PATH, HOSTNAME: what the runtime provides), then envFrom in order, then env in order,
 * each literal value $(VAR)-expanded against what is set so far, a later name replacing an
 * earlier one. On success fills <ret> (pp_env_list_free) and returns 0. A missing ConfigMap,
 * Secret or key that is not optional returns -ENOENT with kubelet's message in <err>
 * (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`): the container is not
 * created (CreateContainerConfigError). Other failures: -EINVAL (message), -ENOMEM.
 */
int pp_env_build(const struct pp_pod *pod, const struct pp_container_spec *c,
		 const struct pp_env_host *host, const struct pp_config_list *configs,
		 const struct pp_kv *base, size_t n_base, struct pp_env_list *ret, char *err,
		 size_t errlen);

void pp_env_list_free(struct pp_env_list *l);

/* True when <c> reads ConfigMaps or Secrets (env valueFrom or envFrom). */
bool pp_env_uses_configs(const struct pp_container_spec *c);

/* True when volume <v> is filled from ConfigMaps or Secrets. */
bool pp_vol_uses_configs(const struct pp_volume *v);

/*
 * The files of volume <v> (configMap, secret, downwardAPI or projected) as kubelet's plugins
 * make them (MakePayload, CollectData). Returns 0 with <ret> filled (pp_vol_payload_free), or
 * -ENOENT / -EINVAL with kubelet's SetUp error in <err> (`configmap "x" not found`,
 * `configmap references non-existent config key: k`), or -ENOMEM.
 */
int pp_vol_payload_build(const struct pp_pod *pod, const struct pp_volume *v,
			 const struct pp_env_host *host, const struct pp_config_list *configs,
			 struct pp_vol_payload *ret, char *err, size_t errlen);

void pp_vol_payload_free(struct pp_vol_payload *p);

/*
 * A payload path as AtomicWriter's validatePath takes it: not empty, relative, no ".."
 * element, not starting with "..", at most 4096 bytes.
 */
bool pp_vol_path_ok(const char *path);

/*
 * Expand a volumeMount's subPathExpr with <env> as kubelet does (only $(VAR) references, the
 * result relative with no ".."). Returns 0 with malloc'd *<ret>, -EINVAL with a message, or
 * -ENOMEM.
 */
int pp_env_sub_path_expr(const char *expr, const struct pp_env_list *env, char **ret, char *err,
			 size_t errlen);

#endif
