/* SPDX-License-Identifier: Apache-2.0 */
/* The state of reading Pod manifests from YAML document trees (user/core/manifest_schema.c). */
#ifndef PODPROBE_MANIFEST_SCHEMA_T_H
#define PODPROBE_MANIFEST_SCHEMA_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/pod-t.h"
#include "podprobe/yaml_tree-t.h"

/* Refuse inputs larger than this, and documents nested deeper than PP_MANIFEST_MAX_DEPTH. */
#define PP_MANIFEST_MAX_BYTES (4u << 20)
#define PP_MANIFEST_MAX_DEPTH PP_YAML_MAX_DEPTH

/*
 * One buffer being read (pp_manifest_reader_init()). The parser that feeds it fills doc,
 * doc_start and digest; the rest is the schema walk's.
 */
struct pp_manifest_reader {
	const char *file;
	const char *buf; /* the input, for positions of reader errors */
	size_t len;
	struct pp_diag_list *diags;
	struct pp_pod_list *pods;
	struct pp_config_list *configs; /* ConfigMaps and Secrets, or NULL: not kept */
	/*
	 * The caller's randomness for metadata.generateName: fills <len> bytes, true on
	 * success. NULL, or false, takes bytes of the document's digest instead.
	 */
	bool (*fill_random)(void *buf, size_t len);
	int err;	      /* -ENOMEM; sticky */
	bool stop;	      /* a fatal problem: read nothing more from this buffer */
	unsigned int n_diags; /* in the current document */
	size_t visits_left;   /* in the current document */
	size_t bytes_left;
	size_t file_diags; /* in the whole buffer */
	size_t file_diags_left;
	size_t file_visits_left;
	size_t file_bytes_left;
	struct pp_ydoc doc; /* the current document */
	size_t doc_start;   /* byte offset of the current document's start */
	uint64_t digest;    /* FNV-1a over the current document's events */
	struct pp_pod *pod; /* the pod being filled */
	size_t fields_cap;  /* allocated pod->fields */
	char *path;	    /* field path of the walk position, NUL-terminated */
	size_t path_len;
	size_t path_cap;
};

#endif
