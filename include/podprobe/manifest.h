/* SPDX-License-Identifier: Apache-2.0 */
/* Reading Pod manifests from YAML files (libyaml); the effectful half of the manifest code. */
#ifndef PODPROBE_MANIFEST_H
#define PODPROBE_MANIFEST_H

#include <stddef.h>

#include "podprobe/pod.h"

/* Refuse inputs larger than this, and documents nested deeper than PP_MANIFEST_MAX_DEPTH. */
#define PP_MANIFEST_MAX_BYTES (4u << 20)
#define PP_MANIFEST_MAX_DEPTH 64

/*
 * Parse the YAML in <buf> (<len> bytes, need not be NUL-terminated), named <file> in
 * messages. Every `kind: Pod` document becomes a pod appended to <pods>; syntax errors, wrong
 * types, unsupported kinds and unknown fields (warnings) go to <diags>. Never crashes on any
 * input: this is the fuzzing entry point. Returns the number of errors added to <diags>, or
 * -ENOMEM.
 */
int pp_manifest_parse_buffer(const char *file, const char *buf, size_t len,
			     struct pp_pod_list *pods, struct pp_diag_list *diags);

/*
 * Read <path>: a file, or a directory whose *.yaml, *.yml and *.json files are read in name
 * order (not recursive). Returns the number of errors added to <diags> (an unreadable path is
 * one), or -ENOMEM.
 */
int pp_manifest_load_path(const char *path, struct pp_pod_list *pods, struct pp_diag_list *diags);

#endif
