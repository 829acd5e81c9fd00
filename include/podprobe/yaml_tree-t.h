/* SPDX-License-Identifier: Apache-2.0 */
/* A YAML document as a tree of nodes with their positions (user/core/yaml_tree.c). */
#ifndef PODPROBE_YAML_TREE_T_H
#define PODPROBE_YAML_TREE_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/pod-t.h"
#include "podprobe/yaml_scalar-t.h"

/* Collections open at once: deeper documents are refused. */
#define PP_YAML_MAX_DEPTH 64

enum pp_ynode_type {
	PP_YNODE_ALIAS = 0, /* a reference to an anchored node (target) */
	PP_YNODE_SCALAR,
	PP_YNODE_SEQUENCE,
	PP_YNODE_MAPPING,
};

struct pp_ynode {
	enum pp_ynode_type type; /* SCALAR, SEQUENCE or MAPPING; ALIAS for an alias */
	uint32_t target;	 /* an alias: the anchored node */
	enum pp_yaml_type stype; /* scalars: the resolved type */
	bool plain;		 /* scalars: written plain, untagged */
	bool merge;		 /* scalars: the merge key "<<" (plain, or !!merge) */
	struct pp_src_pos pos;	 /* start of the node */
	char *text;	/* scalars: the value, NUL-terminated ("\0" escapes may add NULs) */
	size_t len;	/* scalars: bytes in text */
	int anchor;	/* index in pp_ydoc.anchors, or -1 */
	uint32_t *kids; /* sequence items, or mapping keys and values interleaved */
	uint32_t n_kids;
	uint32_t cap_kids;
};

struct pp_yanchor {
	char *name;
	uint32_t node;
	bool done; /* the anchored node is complete: aliases may refer to it */
};

/* One document; zero-initialised is empty. */
struct pp_ydoc {
	struct pp_ynode *nodes;
	uint32_t n_nodes;
	uint32_t cap_nodes;
	uint32_t refs; /* nodes plus alias references, bounded (yaml_tree.c MAX_DOC_NODES) */
	struct pp_yanchor *anchors;
	uint32_t n_anchors;
	uint32_t stack[PP_YAML_MAX_DEPTH]; /* open collections */
	unsigned int depth;
	bool has_root;
	uint32_t root;
	/* The last refusal (-EINVAL from a pp_ydoc_*() call): where, and what. */
	struct pp_src_pos err_pos;
	char err[160];
};

#endif
