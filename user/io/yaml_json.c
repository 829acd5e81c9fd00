/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to JSON with libyaml's event API, building jansson values as events arrive (the
 * manifest reader, user/io/manifest_yaml.c and user/core/yaml_tree.c, builds its own tree instead;
 * the scalar typing here is the same YAML 1.2 core schema). Aliases are deep copies of the anchored
 * value; each copy is charged its size and height first, so expansion stays within the bounds of
 * yaml_json.h whatever the document ("billion laughs").
 */
#include "podprobe/yaml_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "podprobe/manifest.h"
#include "podprobe/yaml_scalar.h"

struct anchor {
	char *name;
	json_t *v;    /* a reference; NULL until the anchored node is complete */
	size_t nodes; /* its size, charged again for each alias */
	size_t bytes;
	unsigned int height; /* 0 for a scalar, 1 + the deepest child for a collection */
};

struct frame {
	json_t *v; /* the object or array being filled */
	char *key; /* mappings: the key waiting for its value, or NULL */
	size_t key_len;
	int anchor;	    /* index in parse.anchors, or -1 */
	size_t nodes_start; /* parse.nodes when the collection opened */
	size_t bytes_start;
	unsigned int height; /* deepest child so far */
	bool merge_key;	     /* the key waiting is "<<": its value merges, not sets */
	json_t *merges;	     /* values of "<<" (go-yaml's merge key), applied at the end */
};

struct parse {
	char *err;
	size_t err_size;
	int rc;
	json_t *root;
	struct frame stack[PP_YAML_JSON_MAX_DEPTH];
	unsigned int depth;
	struct anchor *anchors;
	size_t n_anchors;
	size_t nodes; /* output so far, aliases expanded */
	size_t bytes;
	bool esc; /* the text's \' escapes were read as \e: ESC in scalars is a quote */
};

__attribute__((format(printf, 4, 5))) static void fail(struct parse *ps, int rc,
						       const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->rc)
		return;
	ps->rc = rc;
	if (!ps->err || !ps->err_size)
		return;
	if (m)
		n = snprintf(ps->err, ps->err_size, "line %zu column %zu: ", m->line + 1,
			     m->column + 1);
	if (n < 0 || (size_t)n >= ps->err_size)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->err_size - (size_t)n, fmt, ap);
	va_end(ap);
}

static void nomem(struct parse *ps)
{
	fail(ps, -ENOMEM, NULL, "out of memory");
}

/* ---- scalar typing: user/core/yaml_scalar.c, as the manifest reader ------------------------ */

static enum pp_yaml_type resolve_scalar(const yaml_event_t *ev)
{
	return pp_yaml_resolve((const char *)ev->data.scalar.tag,
			       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
			       (const char *)ev->data.scalar.value, ev->data.scalar.length);
}

static json_t *scalar_json(struct parse *ps, const yaml_event_t *ev, enum pp_yaml_type t)
{
	const char *text = (const char *)ev->data.scalar.value;
	int64_t i;
	json_t *v;

	switch (t) {
	case PP_YAML_NULL:
		return json_null();
	case PP_YAML_BOOL:
		return json_boolean(text[0] == 't' || text[0] == 'T');
	case PP_YAML_INT:
		/* A plain leading-0 integer is octal to go-yaml v2, as the manifest reader has it.
		 */
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    pp_yaml_parse_go_octal(text, &i))
			return json_integer(i);
		if (pp_yaml_parse_int(text, &i))
			return json_integer(i);
		if (text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
			fail(ps, -EINVAL, &ev->start_mark, "integer %s is out of range", text);
			return NULL;
		}
		/* a decimal past int64, as encoding/json reads one: a float */
		return json_real(strtod(text, NULL));
	case PP_YAML_FLOAT:
		/* go-yaml makes it a float64, which encoding/json writes as an integer. */
		if (pp_yaml_float_int(text, &i))
			return json_integer(i);
		if (pp_yaml_float_special(text)) {
			fail(ps, -EINVAL, &ev->start_mark, "%s cannot be represented in JSON",
			     text);
			return NULL;
		}
		v = json_real(strtod(text, NULL));
		if (!v)
			fail(ps, -EINVAL, &ev->start_mark, "%s is out of range", text);
		return v;
	default:
		break;
	}
	/*
	 * "yes", "off"... stay strings here: go-yaml v2 would make them booleans, but the reader
	 * takes them as booleans only where the schema wants one, and as the strings they look
	 * like elsewhere (an env value "yes"); an object with a boolean there would not decode.
	 */
	if (ps->esc && memchr(text, '\033', ev->data.scalar.length)) {
		char *copy = malloc(ev->data.scalar.length + 1);

		if (!copy)
			return NULL;
		for (size_t k = 0; k < ev->data.scalar.length; k++)
			copy[k] = text[k] == '\033' ? '\'' : text[k];
		v = json_stringn(copy, ev->data.scalar.length);
		free(copy);
		return v;
	}
	return json_stringn(text, ev->data.scalar.length);
}

/* ---- building ------------------------------------------------------------------------------ */

/* Charge <nodes> values and <bytes> bytes of text to the output, then <height> more levels. */
static bool charge(struct parse *ps, const yaml_mark_t *m, size_t nodes, size_t bytes,
		   unsigned int height)
{
	if (nodes > PP_YAML_JSON_MAX_NODES - ps->nodes) {
		fail(ps, -E2BIG, m, "the document expands to more than %u values",
		     PP_YAML_JSON_MAX_NODES);
		return false;
	}
	if (bytes > PP_YAML_JSON_MAX_BYTES - ps->bytes) {
		fail(ps, -E2BIG, m, "the document expands to more than %u bytes of text",
		     PP_YAML_JSON_MAX_BYTES);
		return false;
	}
	if (ps->depth + height > PP_YAML_JSON_MAX_DEPTH) {
		fail(ps, -E2BIG, m, "nesting deeper than %d levels", PP_YAML_JSON_MAX_DEPTH);
		return false;
	}
	ps->nodes += nodes;
	ps->bytes += bytes;
	return true;
}

static void note_height(struct parse *ps, unsigned int h)
{
	if (ps->depth && ps->stack[ps->depth - 1].height < h)
		ps->stack[ps->depth - 1].height = h;
}

/* Place value <v> (a new reference, taken) in the open collection, or as the root. */
static void place(struct parse *ps, json_t *v, const yaml_mark_t *m)
{
	struct frame *f;

	if (!v)
		return nomem(ps);
	if (ps->depth == 0) {
		if (ps->root)
			json_decref(ps->root);
		ps->root = v;
		return;
	}
	f = &ps->stack[ps->depth - 1];
	if (json_is_array(f->v)) {
		if (json_array_append_new(f->v, v))
			nomem(ps);
		return;
	}
	if (f->merge_key) {
		/* Kept aside: the mapping's own keys, even later ones, win over merged ones. */
		if ((!f->merges && !(f->merges = json_array())) ||
		    json_array_append_new(f->merges, v))
			nomem(ps);
		f->merge_key = false;
	} else if (json_object_setn_new_nocheck(f->v, f->key, f->key_len, v)) {
		nomem(ps);
	}
	free(f->key);
	f->key = NULL;
}

/* The keys of mapping <src> that <dst> lacks, into <dst>. */
static void merge_into(struct parse *ps, json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	if (!json_is_object(src))
		return;
	json_object_foreach(src, k, v)
	{
		if (!json_object_get(dst, k) && json_object_set(dst, k, v))
			return nomem(ps);
	}
}

/* go-yaml's merge key: each "<<" value (a mapping, or a list of them, first one first). */
static void apply_merges(struct parse *ps, struct frame *f)
{
	size_t i, j;
	json_t *m, *e;

	json_array_foreach(f->merges, i, m)
	{
		if (json_is_array(m))
			json_array_foreach(m, j, e) merge_into(ps, f->v, e);
		else
			merge_into(ps, f->v, m);
	}
	json_decref(f->merges);
	f->merges = NULL;
}

/* A scalar as a mapping key: its text, or the canonical form of a null, boolean or integer. */
static void take_key(struct parse *ps, struct frame *f, const yaml_event_t *ev, enum pp_yaml_type t)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	char num[32];
	int64_t i;

	if (t == PP_YAML_NULL) {
		text = "null";
		len = 4;
	} else if (t == PP_YAML_BOOL) {
		text = text[0] == 't' || text[0] == 'T' ? "true" : "false";
		len = strlen(text);
	} else if (t == PP_YAML_INT && pp_yaml_parse_int(text, &i)) {
		len = (size_t)snprintf(num, sizeof(num), "%lld", (long long)i);
		text = num;
	}
	if (t == PP_YAML_STR && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && len == 2 &&
	    !memcmp(text, "<<", 2)) {
		f->merge_key = true;
	} else if (json_object_getn(f->v, text, len)) {
		fail(ps, -EINVAL, &ev->start_mark, "mapping key \"%.*s\" already defined",
		     (int)(len > 64 ? 64 : len), text);
		return;
	}
	if (!charge(ps, &ev->start_mark, 0, len, 0))
		return;
	f->key = malloc(len + 1);
	if (!f->key)
		return nomem(ps);
	memcpy(f->key, text, len);
	f->key[len] = '\0';
	f->key_len = len;
}

/* Whether the innermost open collection is a mapping waiting for a key. */
static bool want_key(const struct parse *ps)
{
	const struct frame *f = ps->depth ? &ps->stack[ps->depth - 1] : NULL;

	return f && json_is_object(f->v) && !f->key;
}

static int add_anchor(struct parse *ps, yaml_char_t **name, const yaml_mark_t *m)
{
	struct anchor *a;

	if (!*name)
		return -1;
	if (ps->n_anchors == PP_YAML_JSON_MAX_ANCHORS) {
		fail(ps, -E2BIG, m, "more than %u anchors", PP_YAML_JSON_MAX_ANCHORS);
		return -1;
	}
	if (!ps->anchors) {
		ps->anchors = calloc(PP_YAML_JSON_MAX_ANCHORS, sizeof(*ps->anchors));
		if (!ps->anchors) {
			nomem(ps);
			return -1;
		}
	}
	a = &ps->anchors[ps->n_anchors];
	*a = (struct anchor){.name = (char *)*name};
	*name = NULL; /* taken from the event */
	return (int)ps->n_anchors++;
}

static void on_scalar(struct parse *ps, yaml_event_t *ev)
{
	enum pp_yaml_type t = resolve_scalar(ev);
	const yaml_mark_t *m = &ev->start_mark;
	int anchor;
	json_t *v;

	if (want_key(ps)) {
		if (ev->data.scalar.anchor) {
			fail(ps, -EINVAL, m, "anchors on mapping keys are not supported");
			return;
		}
		take_key(ps, &ps->stack[ps->depth - 1], ev, t);
		return;
	}
	if (!charge(ps, m, 1, ev->data.scalar.length, 0))
		return;
	v = scalar_json(ps, ev, t);
	if (ps->rc) /* a refused scalar */
		return;
	if (!v)
		return nomem(ps);
	anchor = add_anchor(ps, &ev->data.scalar.anchor, m);
	if (ps->rc) {
		json_decref(v);
		return;
	}
	if (anchor >= 0)
		ps->anchors[anchor] = (struct anchor){.name = ps->anchors[anchor].name,
						      .v = json_incref(v),
						      .nodes = 1,
						      .bytes = ev->data.scalar.length};
	place(ps, v, m);
}

static void on_start(struct parse *ps, yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	bool map = ev->type == YAML_MAPPING_START_EVENT;
	struct frame *f;
	json_t *v;

	if (want_key(ps)) {
		fail(ps, -EINVAL, m, "a mapping key must be a scalar, not a %s",
		     map ? "mapping" : "sequence");
		return;
	}
	if (!charge(ps, m, 1, 0, 1))
		return;
	v = map ? json_object() : json_array();
	if (!v)
		return nomem(ps);
	f = &ps->stack[ps->depth];
	*f = (struct frame){
		.v = v,
		.anchor = add_anchor(
			ps, map ? &ev->data.mapping_start.anchor : &ev->data.sequence_start.anchor,
			m),
		.nodes_start = ps->nodes - 1,
		.bytes_start = ps->bytes,
	};
	if (ps->rc) {
		json_decref(v);
		return;
	}
	place(ps, json_incref(v), m); /* the frame keeps a reference until the end event */
	ps->depth++;
}

static void on_end(struct parse *ps)
{
	struct frame *f = &ps->stack[--ps->depth];
	unsigned int h = f->height + 1;

	if (f->merges)
		apply_merges(ps, f);
	if (f->anchor >= 0) {
		struct anchor *a = &ps->anchors[f->anchor];

		a->v = json_incref(f->v);
		a->nodes = ps->nodes - f->nodes_start;
		a->bytes = ps->bytes - f->bytes_start;
		a->height = h;
	}
	json_decref(f->v);
	free(f->key);
	*f = (struct frame){0};
	note_height(ps, h);
}

static void on_alias(struct parse *ps, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const yaml_mark_t *m = &ev->start_mark;
	const struct anchor *a = NULL;
	json_t *copy;

	/* the latest definition of a name wins */
	for (size_t i = ps->n_anchors; i > 0 && !a; i--)
		if (!strcmp(ps->anchors[i - 1].name, name))
			a = &ps->anchors[i - 1];
	if (!a) {
		fail(ps, -EINVAL, m, "unknown anchor '%s' referenced", name);
		return;
	}
	if (!a->v) {
		fail(ps, -EINVAL, m, "anchor '%s' value contains itself", name);
		return;
	}
	if (want_key(ps)) {
		struct frame *f = &ps->stack[ps->depth - 1];
		size_t len;

		if (!json_is_string(a->v)) {
			fail(ps, -EINVAL, m, "a mapping key must be a string, not alias '%s'",
			     name);
			return;
		}
		len = json_string_length(a->v);
		if (json_object_getn(f->v, json_string_value(a->v), len)) {
			fail(ps, -EINVAL, m, "mapping key \"%.*s\" already defined",
			     (int)(len > 64 ? 64 : len), json_string_value(a->v));
			return;
		}
		if (!charge(ps, m, 0, len, 0))
			return;
		f->key = malloc(len + 1);
		if (!f->key)
			return nomem(ps);
		memcpy(f->key, json_string_value(a->v), len + 1);
		f->key_len = len;
		return;
	}
	if (!charge(ps, m, a->nodes, a->bytes, a->height))
		return;
	copy = json_deep_copy(a->v);
	note_height(ps, a->height);
	place(ps, copy, m);
}

static void syntax_error(struct parse *ps, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return nomem(ps);
	if (p->context)
		fail(ps, -EINVAL, &p->problem_mark, "%s %s",
		     p->problem ? p->problem : "invalid YAML", p->context);
	else
		fail(ps, -EINVAL, &p->problem_mark, "%s", p->problem ? p->problem : "invalid YAML");
}

static void cleanup(struct parse *ps)
{
	while (ps->depth) {
		struct frame *f = &ps->stack[--ps->depth];

		json_decref(f->v);
		json_decref(f->merges);
		free(f->key);
	}
	for (size_t i = 0; i < ps->n_anchors; i++) {
		free(ps->anchors[i].name);
		json_decref(ps->anchors[i].v);
	}
	free(ps->anchors);
	ps->anchors = NULL;
	ps->n_anchors = 0;
}

int pp_yaml_to_json(const char *buf, size_t len, unsigned int doc_index, json_t **ret, char *err,
		    size_t err_size)
{
	struct parse ps = {.err = err, .err_size = err_size};
	char *fixed = NULL;
	unsigned int doc = 0;
	bool in_doc = false, done = false;
	yaml_parser_t parser;
	yaml_event_t ev;

	if (err && err_size)
		err[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	/* go-yaml takes \' in double quotes, libyaml does not: read as \e, ESC is a quote. */
	if (buf && pp_manifest_fix_escapes(buf, len, &fixed) > 0) {
		buf = fixed;
		ps.esc = true;
	}
	/* libyaml asserts on a NULL input, even an empty one */
	yaml_parser_set_input_string(&parser, (const unsigned char *)(buf ? buf : ""), len);

	while (!ps.rc && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&ps, &parser);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			in_doc = doc == doc_index;
		} else if (ev.type == YAML_DOCUMENT_END_EVENT) {
			done = in_doc;
			in_doc = false;
			doc++;
		} else if (ev.type == YAML_STREAM_END_EVENT) {
			done = true;
		} else if (in_doc) {
			switch (ev.type) {
			case YAML_SCALAR_EVENT:
				on_scalar(&ps, &ev);
				break;
			case YAML_SEQUENCE_START_EVENT:
			case YAML_MAPPING_START_EVENT:
				on_start(&ps, &ev);
				break;
			case YAML_SEQUENCE_END_EVENT:
			case YAML_MAPPING_END_EVENT:
				on_end(&ps);
				break;
			case YAML_ALIAS_EVENT:
				on_alias(&ps, &ev);
				break;
			default:
				break;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	free(fixed);
	cleanup(&ps);
	if (!ps.rc && !ps.root) {
		ps.rc = -ENOENT;
		if (err && err_size)
			snprintf(err, err_size, "the stream has no document %u", doc_index);
	}
	if (ps.rc) {
		json_decref(ps.root);
		return ps.rc;
	}
	*ret = ps.root;
	return 0;
}
