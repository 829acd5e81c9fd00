// SPDX-License-Identifier: Apache-2.0
/*
 * A YAML document as a small node tree, built from a parser's events (user/io/manifest_yaml.c
 * feeds it libyaml's). This is where the input is bounded: at most MAX_DOC_NODES nodes and
 * alias references, PP_YAML_MAX_DEPTH nested collections and MAX_ANCHORS anchors per
 * document. Aliases point at the anchored node (the tree is a DAG, never a cycle: an alias to
 * an unfinished node is refused). Merge keys are applied when their mapping ends.
 */
#include "podprobe/yaml_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/pod.h"
#include "podprobe/yaml_scalar.h"

#define MAX_DOC_NODES	100000u
#define MAX_ANCHORS	256u
#define MAX_MERGED_KEYS 1024u /* keys of one mapping with merges (dedup is quadratic) */
#define QUOTE_MAX	96    /* a quoted value in a message */

/* Refuse the document: the message into d->err, at <pos>. Returns -EINVAL. */
static int refuse(struct pp_ydoc *d, struct pp_src_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct pp_ydoc *d, struct pp_src_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	d->err_pos = pos;
	return -EINVAL;
}

void pp_ydoc_free(struct pp_ydoc *d)
{
	for (uint32_t i = 0; i < d->n_nodes; i++) {
		free(d->nodes[i].text);
		free(d->nodes[i].kids);
	}
	free(d->nodes);
	for (uint32_t i = 0; i < d->n_anchors; i++)
		free(d->anchors[i].name);
	free(d->anchors);
	*d = (struct pp_ydoc){0};
}

/* Make node <idx> the root, or the next child of the innermost open collection. */
static int doc_attach(struct pp_ydoc *d, uint32_t idx)
{
	struct pp_ynode *parent;

	if (d->depth == 0) {
		d->root = idx;
		d->has_root = true;
		return 0;
	}
	parent = &d->nodes[d->stack[d->depth - 1]];
	if (parent->n_kids == parent->cap_kids) {
		uint32_t cap = parent->cap_kids ? parent->cap_kids * 2 : 4;
		uint32_t *kids = realloc(parent->kids, cap * sizeof(*kids));

		if (!kids)
			return -ENOMEM;
		parent->kids = kids;
		parent->cap_kids = cap;
	}
	parent->kids[parent->n_kids++] = idx;
	return 0;
}

static int grow_nodes(struct pp_ydoc *d)
{
	uint32_t cap = d->cap_nodes ? d->cap_nodes * 2 : 64;
	struct pp_ynode *nodes = realloc(d->nodes, cap * sizeof(*nodes));

	if (!nodes)
		return -ENOMEM;
	d->nodes = nodes;
	d->cap_nodes = cap;
	return 0;
}

static int doc_charge(struct pp_ydoc *d, struct pp_src_pos pos)
{
	if (d->refs >= MAX_DOC_NODES)
		return refuse(d, pos, "too many YAML nodes in one document (limit %u)",
			      MAX_DOC_NODES);
	d->refs++;
	return 0;
}

/*
 * Add the node of a SCALAR, SEQUENCE-START or MAPPING-START event. Takes the event's value
 * and anchor strings (they are set to NULL).
 */
int pp_ydoc_add_node(struct pp_ydoc *d, enum pp_ynode_type type, struct pp_src_pos pos,
		     const char *tag, bool plain_style, char **text, size_t len, char **anchor)
{
	struct pp_ynode *n;
	uint32_t idx;
	int err;

	err = doc_charge(d, pos);
	if (err)
		return err;
	if (type != PP_YNODE_SCALAR && d->depth == PP_YAML_MAX_DEPTH)
		return refuse(d, pos, "nesting deeper than %d levels", PP_YAML_MAX_DEPTH);
	if (d->n_nodes == d->cap_nodes && grow_nodes(d))
		return -ENOMEM;
	idx = d->n_nodes++;
	n = &d->nodes[idx];
	*n = (struct pp_ynode){.pos = pos, .anchor = -1};
	switch (type) {
	case PP_YNODE_SCALAR:
		n->type = PP_YNODE_SCALAR;
		n->stype = pp_yaml_resolve(tag, plain_style, *text, len);
		n->plain = plain_style && !tag;
		n->merge = (n->plain && len == 2 && !memcmp(*text, "<<", 2)) ||
			   (tag && !strcmp(tag, "tag:yaml.org,2002:merge"));
		n->text = *text;
		n->len = len;
		*text = NULL;
		break;
	case PP_YNODE_SEQUENCE:
		n->type = PP_YNODE_SEQUENCE;
		break;
	default:
		n->type = PP_YNODE_MAPPING;
		break;
	}
	if (doc_attach(d, idx))
		return -ENOMEM;
	if (n->type != PP_YNODE_SCALAR)
		d->stack[d->depth++] = idx;
	if (!*anchor)
		return 0;
	if (d->n_anchors == MAX_ANCHORS)
		return refuse(d, pos, "too many anchors in one document (limit %u)", MAX_ANCHORS);
	if (!d->anchors) {
		d->anchors = calloc(MAX_ANCHORS, sizeof(*d->anchors));
		if (!d->anchors)
			return -ENOMEM;
	}
	n->anchor = (int)d->n_anchors;
	d->anchors[d->n_anchors++] = (struct pp_yanchor){
		.name = *anchor,
		.node = idx,
		.done = n->type == PP_YNODE_SCALAR,
	};
	*anchor = NULL;
	return 0;
}

const struct pp_ynode *pp_ydoc_node(const struct pp_ydoc *d, uint32_t idx)
{
	const struct pp_ynode *n = &d->nodes[idx];

	return n->type == PP_YNODE_ALIAS ? &d->nodes[n->target] : n;
}

/* True when mapping <kids> (<n> entries, keys and values) has a scalar key like <k>. */
static bool kids_have_key(const struct pp_ydoc *d, const uint32_t *kids, uint32_t n,
			  const struct pp_ynode *k)
{
	for (uint32_t i = 0; i + 1 < n; i += 2) {
		const struct pp_ynode *o = pp_ydoc_node(d, kids[i]);

		if (o->type == PP_YNODE_SCALAR && o->len == k->len &&
		    !memcmp(o->text, k->text, k->len))
			return true;
	}
	return false;
}

/*
 * The merge key (yaml.org/type/merge.html), as go-yaml v2 decode.go merge() applies it:
 * `<<: *m` or `<<: [*a, *b]` adds the pairs of those mappings whose keys the mapping does
 * not have itself; among several, the first listed wins. The merged mappings are complete,
 * so their own merges are already expanded. Every pair added is charged as a node.
 */
static int doc_merge(struct pp_ydoc *d, struct pp_ynode *map)
{
	uint32_t *kids, n = 0, n_merges = 0;
	int err = 0;

	for (uint32_t i = 0; i + 1 < map->n_kids; i += 2)
		n_merges += pp_ydoc_node(d, map->kids[i])->merge;
	if (!n_merges)
		return 0;
	kids = malloc(map->n_kids * sizeof(*kids));
	if (!kids)
		return -ENOMEM;
	for (uint32_t i = 0; i + 1 < map->n_kids; i += 2) {
		if (pp_ydoc_node(d, map->kids[i])->merge)
			continue;
		kids[n++] = map->kids[i];
		kids[n++] = map->kids[i + 1];
	}
	for (uint32_t i = 0; i + 1 < map->n_kids && !err; i += 2) {
		const struct pp_ynode *v = pp_ydoc_node(d, map->kids[i + 1]);
		const uint32_t *srcs = &map->kids[i + 1];
		uint32_t n_srcs = 1;

		if (!pp_ydoc_node(d, map->kids[i])->merge)
			continue;
		if (v->type == PP_YNODE_SEQUENCE) {
			srcs = v->kids;
			n_srcs = v->n_kids;
		}
		for (uint32_t s = 0; s < n_srcs && !err; s++) {
			const struct pp_ynode *m = pp_ydoc_node(d, srcs[s]);

			if (m->type != PP_YNODE_MAPPING) {
				err = refuse(d, d->nodes[map->kids[i]].pos,
					     "map merge requires map or seq of maps as the value");
				break;
			}
			for (uint32_t k = 0; k + 1 < m->n_kids; k += 2) {
				const struct pp_ynode *key = pp_ydoc_node(d, m->kids[k]);
				uint32_t *grown;

				/* Every pair looked at is charged: the lookup is linear. */
				err = doc_charge(d, d->nodes[map->kids[i]].pos);
				if (err)
					break;
				if (key->type == PP_YNODE_SCALAR && kids_have_key(d, kids, n, key))
					continue;
				if (n >= 2 * MAX_MERGED_KEYS) {
					err = refuse(
						d, d->nodes[map->kids[i]].pos,
						"too many keys from merges (limit %u per mapping)",
						MAX_MERGED_KEYS);
					break;
				}
				grown = realloc(kids, (n + 2) * sizeof(*kids));
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				kids = grown;
				kids[n++] = m->kids[k];
				kids[n++] = m->kids[k + 1];
			}
		}
	}
	free(map->kids);
	map->kids = kids;
	map->n_kids = n;
	map->cap_kids = n;
	return err;
}

int pp_ydoc_end_collection(struct pp_ydoc *d)
{
	struct pp_ynode *n;
	int err = 0;

	if (d->depth == 0) /* its start was refused, and reading stopped */
		return 0;
	n = &d->nodes[d->stack[--d->depth]];
	if (n->type == PP_YNODE_MAPPING)
		err = doc_merge(d, n);
	if (n->anchor >= 0)
		d->anchors[n->anchor].done = true;
	return err;
}

int pp_ydoc_add_alias(struct pp_ydoc *d, struct pp_src_pos pos, const char *name)
{
	char q[QUOTE_MAX];
	uint32_t i;
	int err;

	err = doc_charge(d, pos);
	if (err)
		return err;
	for (i = d->n_anchors; i > 0; i--) /* the latest definition wins */
		if (!strcmp(d->anchors[i - 1].name, name))
			break;
	if (i == 0)
		return refuse(d, pos, "found undefined alias %s",
			      pp_quote(q, sizeof(q), name, strlen(name)));
	if (!d->anchors[i - 1].done)
		return refuse(d, pos, "anchor %s value contains itself",
			      pp_quote(q, sizeof(q), name, strlen(name)));
	/* An alias is a node of its own, so that it keeps its position (seq_next()). */
	if (d->n_nodes == d->cap_nodes && grow_nodes(d))
		return -ENOMEM;
	d->nodes[d->n_nodes] = (struct pp_ynode){
		.type = PP_YNODE_ALIAS, .pos = pos, .anchor = -1, .target = d->anchors[i - 1].node};
	if (doc_attach(d, d->n_nodes++))
		return -ENOMEM;
	return 0;
}
