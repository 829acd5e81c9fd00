/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building a YAML document tree from a parser's events (user/core/yaml_tree.c): the caller
 * feeds nodes, collection ends and aliases in document order. Every call returns 0, -ENOMEM,
 * or -EINVAL when the document is refused (too large, too deep, a bad alias or merge), with
 * the message in doc->err at doc->err_pos; after a refusal the document is to be dropped.
 */
#ifndef PODPROBE_YAML_TREE_H
#define PODPROBE_YAML_TREE_H

#include "podprobe/yaml_tree-t.h"

/* Free the nodes and anchors of <d> and make it empty. */
void pp_ydoc_free(struct pp_ydoc *d);

/*
 * Add a node at <pos>: a scalar (with its <tag> or NULL, whether it was written plain, and
 * its <len> bytes of *<text>), or the start of a sequence or mapping (<text> NULL). Takes
 * *<text> and *<anchor> (malloc'd; the anchor's name or NULL) and sets them to NULL when it
 * keeps them; what is left is the caller's to free.
 */
int pp_ydoc_add_node(struct pp_ydoc *d, enum pp_ynode_type type, struct pp_src_pos pos,
		     const char *tag, bool plain_style, char **text, size_t len, char **anchor);

/* The end of the innermost open collection: merge keys of a mapping are applied here. */
int pp_ydoc_end_collection(struct pp_ydoc *d);

/* An alias at <pos> to the anchor <name>. */
int pp_ydoc_add_alias(struct pp_ydoc *d, struct pp_src_pos pos, const char *name);

/* Node <idx>, through an alias to its anchored node. */
const struct pp_ynode *pp_ydoc_node(const struct pp_ydoc *d, uint32_t idx);

#endif
