/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Pod schema, sans I/O (user/core/manifest_schema.c): each finished YAML document tree
 * becomes a struct pp_pod (kind Pod), a struct pp_config_obj (v1 ConfigMap, Secret) or a
 * warning (other kinds), with errors and warnings at the API server's field paths.
 */
#ifndef PODPROBE_MANIFEST_SCHEMA_H
#define PODPROBE_MANIFEST_SCHEMA_H

#include <stddef.h>

#include "podprobe/manifest_schema-t.h"

/*
 * Start reading the <len> bytes of <buf> (kept for positions and each pod's source), named
 * <file> in messages: pods go to <pods>, ConfigMaps and Secrets to <configs> (NULL: skipped),
 * findings to <diags>, with the budgets of a buffer of that size.
 */
void pp_manifest_reader_init(struct pp_manifest_reader *ps, const char *file, const char *buf,
			     size_t len, struct pp_pod_list *pods, struct pp_config_list *configs,
			     struct pp_diag_list *diags);

/*
 * ps->doc is complete (it ends at byte <doc_end>; it is the <doc_index>th of the buffer): turn
 * it into a pod or a config object if it is one, then empty it and renew the per-document
 * budgets.
 */
void pp_manifest_reader_end_document(struct pp_manifest_reader *ps, unsigned int doc_index,
				     size_t doc_end);

/* Free what <ps> holds (the pods, configs and diags stay with the caller). */
void pp_manifest_reader_release(struct pp_manifest_reader *ps);

/*
 * A finding at <pos>, for the current field path (pp_manifest_report()) or for <path>, within
 * the budgets of findings. Sets ps->err on ENOMEM.
 */
void pp_manifest_report(struct pp_manifest_reader *ps, enum pp_diag_severity sev,
			struct pp_src_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pp_manifest_error_at(struct pp_manifest_reader *ps, struct pp_src_pos pos, const char *path,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Free the items of <list> (NULL is fine) and empty it. */
void pp_config_list_free(struct pp_config_list *list);

#endif
