/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading Pod manifests from YAML files (libyaml); the effectful half of the manifest code. The
 * schema is user/core/manifest_schema.c (manifest_schema.h, included here).
 */
#ifndef PODPROBE_MANIFEST_H
#define PODPROBE_MANIFEST_H

#include <stddef.h>

#include "podprobe/manifest_schema.h" /* PP_MANIFEST_MAX_BYTES, _DEPTH, pp_config_list_free() */
#include "podprobe/pod.h"

/*
 * Parse the YAML in <buf> (<len> bytes, need not be NUL-terminated), named <file> in
 * messages. Every `kind: Pod` document becomes a pod appended to <pods>; syntax errors, wrong
 * types, unknown fields and skipped kinds (warnings) go to <diags>; ConfigMaps and Secrets
 * are skipped silently (see pp_manifest_parse_objects()). Never crashes on any
 * input: this is the fuzzing entry point. Returns the number of errors added to <diags>, or
 * -ENOMEM.
 */
int pp_manifest_parse_buffer(const char *file, const char *buf, size_t len,
			     struct pp_pod_list *pods, struct pp_diag_list *diags);

/*
 * go-yaml accepts \' inside double quotes, libyaml refuses it ("found unknown escape
 * character"). When <buf> has such escapes (and nothing that reads as ESC), stores in
 * *<ret_copy> a malloc'd copy of its <len> bytes where each is \e (so positions and lengths
 * hold; a reader turns ESC back into ') and returns how many; 0 when nothing needs mending
 * (*<ret_copy> untouched), or -ENOMEM. For user/io/yaml_json.c too.
 */
int pp_manifest_fix_escapes(const char *buf, size_t len, char **ret_copy);

/*
 * Read <path>: a file, or a directory whose *.yaml, *.yml and *.json files are read in name
 * order (not recursive). Returns the number of errors added to <diags> (an unreadable path is
 * one), or -ENOMEM.
 */
int pp_manifest_load_path(const char *path, struct pp_pod_list *pods, struct pp_diag_list *diags);

/*
 * pp_manifest_parse_buffer() that also keeps the v1 ConfigMap and Secret documents on
 * <configs> (NULL: they are skipped silently). Other kinds are skipped with a warning.
 */
int pp_manifest_parse_objects(const char *file, const char *buf, size_t len,
			      struct pp_pod_list *pods, struct pp_config_list *configs,
			      struct pp_diag_list *diags);

/* pp_manifest_load_path() with pp_manifest_parse_objects()'s <configs>. */
int pp_manifest_load_objects(const char *path, struct pp_pod_list *pods,
			     struct pp_config_list *configs, struct pp_diag_list *diags);

#endif
