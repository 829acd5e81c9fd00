// SPDX-License-Identifier: Apache-2.0
/*
 * The `apiVersion: v1, kind: Pod` schema, over the YAML document trees of user/core/yaml_tree.c
 * (user/io/manifest_yaml.c builds them with libyaml and calls in at each document's end).
 *
 * A schema-driven walk fills the struct pp_pod. Every mapping key and sequence item it
 * meets is recorded in pod->fields with its position, and each visit is charged to
 * per-document budgets (MAX_VISITS, MAX_COPY_BYTES, MAX_DIAGS) so that alias expansion
 * ("billion laughs") cannot cost unbounded time or memory, and to budgets for the whole
 * buffer that grow with its length (aliases cannot reach across documents, so a file of
 * many pods needs room in proportion, and many small alias-expanding documents still
 * stay bounded). The walk recurses only along the Pod schema, a handful of levels.
 *
 * Positions: a field's position is the start of its key (for sequence items, the start of
 * the item), 1-based. Type errors and the validator's errors both use it.
 *
 * Scalars are typed with the YAML 1.2 core schema: null, true/false, integers (decimal, 0x,
 * 0o), floats, and strings for everything else or anything quoted. As with kubectl, a
 * string field rejects numbers and booleans and an integer field rejects quoted digits.
 * A null value means "absent".
 */
#include "podprobe/manifest_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/pod.h"
#include "podprobe/yaml_scalar.h"
#include "podprobe/yaml_tree.h"

/*
 * Bounds. Per document: fields visited and bytes of text copied by the walk (aliases
 * expanded, paths included), and findings before giving up. Per buffer of <len> bytes: fields
 * visited and bytes copied, at most the per-document bound plus FILE_VISITS_PER_BYTE /
 * FILE_COPY_PER_BYTE times <len> (a field takes at least two bytes of YAML without aliases:
 * "a,"), and MAX_FILE_DIAGS findings. The tree's own bounds are in user/core/yaml_tree.c.
 */
#define MAX_VISITS	     100000u
#define MAX_COPY_BYTES	     (4u * PP_MANIFEST_MAX_BYTES)
#define MAX_DIAGS	     100u
#define FILE_VISITS_PER_BYTE 2u /* divisor: len / 2 */
#define FILE_COPY_PER_BYTE   16u
#define MAX_FILE_DIAGS	     100000u
#define QUOTE_MAX	     96 /* a quoted value in a message */

/* ---- parse state ------------------------------------------------------------------------- */

/* A value met during the walk, at the position of its key (or of itself, for an item). */
struct field {
	const struct pp_ynode *n;
	struct pp_src_pos pos;
};

static void nomem(struct pp_manifest_reader *ps)
{
	ps->err = -ENOMEM;
	ps->stop = true;
}

static void vreport(struct pp_manifest_reader *ps, enum pp_diag_severity sev, struct pp_src_pos pos,
		    const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static void report(struct pp_manifest_reader *ps, enum pp_diag_severity sev, struct pp_src_pos pos,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void error_at(struct pp_manifest_reader *ps, struct pp_src_pos pos, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void vreport(struct pp_manifest_reader *ps, enum pp_diag_severity sev, struct pp_src_pos pos,
		    const char *path, const char *fmt, va_list ap)
{
	if (ps->err)
		return;
	if (ps->n_diags == MAX_DIAGS || ps->file_diags_left == 0) {
		ps->stop = true;
		if (pp_diag_add(ps->diags, PP_DIAG_ERROR, ps->file, pos, "",
				"too many errors and warnings, giving up"))
			nomem(ps);
		ps->n_diags = MAX_DIAGS + 1;
		ps->file_diags_left = SIZE_MAX; /* the message above is the last one */
		return;
	}
	if (ps->n_diags > MAX_DIAGS)
		return;
	ps->n_diags++;
	ps->file_diags_left--;
	if (pp_diag_addv(ps->diags, sev, ps->file, pos, path, fmt, ap))
		nomem(ps);
}

/* An error or warning at <pos> for the current path. */
static void report(struct pp_manifest_reader *ps, enum pp_diag_severity sev, struct pp_src_pos pos,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ps, sev, pos, ps->path ? ps->path : "", fmt, ap);
	va_end(ap);
}

static void report_at(struct pp_manifest_reader *ps, enum pp_diag_severity sev,
		      struct pp_src_pos pos, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A finding at <pos> for <path>. */
static void report_at(struct pp_manifest_reader *ps, enum pp_diag_severity sev,
		      struct pp_src_pos pos, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ps, sev, pos, path, fmt, ap);
	va_end(ap);
}

/* An error at <pos> for <path>. */
static void error_at(struct pp_manifest_reader *ps, struct pp_src_pos pos, const char *path,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ps, PP_DIAG_ERROR, pos, path, fmt, ap);
	va_end(ap);
}

#define error(ps, pos, ...)   report(ps, PP_DIAG_ERROR, pos, __VA_ARGS__)
#define warning(ps, pos, ...) report(ps, PP_DIAG_WARNING, pos, __VA_ARGS__)

/* An error that ends the reading of the buffer. */
#define fatal(ps, pos, ...)                  \
	do {                                 \
		error(ps, pos, __VA_ARGS__); \
		(ps)->stop = true;           \
	} while (0)

/* ---- scalar typing (user/core/yaml_scalar.c) ---------------------------------------------- */

static bool is_digit(char ch, int base)
{
	return ch >= '0' && ch < '0' + base; /* decimal here: quantities */
}

/* ---- walk helpers: path, budget, iteration ------------------------------------------------ */

/* Node <idx>, through an alias to its anchored node. */
static const struct pp_ynode *node_at(const struct pp_manifest_reader *ps, uint32_t idx)
{
	const struct pp_ynode *n = &ps->doc.nodes[idx];

	return n->type == PP_YNODE_ALIAS ? &ps->doc.nodes[n->target] : n;
}

/* Where node <idx> is written: for an alias, the alias itself. */
static struct pp_src_pos pos_at(const struct pp_manifest_reader *ps, uint32_t idx)
{
	return ps->doc.nodes[idx].pos;
}

static bool is_null(const struct pp_ynode *n)
{
	return n->type == PP_YNODE_SCALAR && n->stype == PP_YAML_NULL;
}

/* Append <len> bytes of <s> to the path, after <sep> when not at the root. */
static bool path_push(struct pp_manifest_reader *ps, const char *sep, const char *s, size_t len)
{
	size_t sep_len = ps->path_len ? strlen(sep) : 0;
	size_t need = ps->path_len + sep_len + len + 1;

	if (need > ps->path_cap) {
		size_t cap = ps->path_cap ? ps->path_cap : 128;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(ps->path, cap);
		if (!p) {
			nomem(ps);
			return false;
		}
		ps->path = p;
		ps->path_cap = cap;
	}
	memcpy(ps->path + ps->path_len, sep, sep_len);
	memcpy(ps->path + ps->path_len + sep_len, s, len);
	ps->path_len += sep_len + len;
	ps->path[ps->path_len] = '\0';
	return true;
}

static void path_truncate(struct pp_manifest_reader *ps, size_t len)
{
	ps->path_len = len;
	if (ps->path)
		ps->path[len] = '\0';
}

static bool spend_bytes(struct pp_manifest_reader *ps, size_t n, struct pp_src_pos pos)
{
	if (n > ps->bytes_left) {
		fatal(ps, pos, "too much text (limit %u bytes per document, aliases expanded)",
		      MAX_COPY_BYTES);
		return false;
	}
	if (n > ps->file_bytes_left) {
		fatal(ps, pos, "too much text in the file (aliases expanded)");
		return false;
	}
	ps->bytes_left -= n;
	ps->file_bytes_left -= n;
	return true;
}

/* Record the current path at <pos> in pod->fields, charging the walk budgets. */
static bool visit(struct pp_manifest_reader *ps, struct pp_src_pos pos)
{
	struct pp_pod *pod = ps->pod;
	char *path;

	if (ps->visits_left == 0) {
		fatal(ps, pos, "too many fields (limit %u per document, aliases expanded)",
		      MAX_VISITS);
		return false;
	}
	if (ps->file_visits_left == 0) {
		fatal(ps, pos, "too many fields in the file for its size (aliases expanded)");
		return false;
	}
	ps->visits_left--;
	ps->file_visits_left--;
	if (!spend_bytes(ps, ps->path_len + 1, pos))
		return false;
	if (pod->n_fields == ps->fields_cap) {
		size_t cap = ps->fields_cap ? ps->fields_cap * 2 : 32;
		struct pp_field_pos *fields = realloc(pod->fields, cap * sizeof(*fields));

		if (!fields) {
			nomem(ps);
			return false;
		}
		pod->fields = fields;
		ps->fields_cap = cap;
	}
	path = strdup(ps->path);
	if (!path) {
		nomem(ps);
		return false;
	}
	pod->fields[pod->n_fields++] = (struct pp_field_pos){.path = path, .pos = pos};
	return true;
}

/* The keys of one kind of object. */
struct schema {
	const char *const *keys;    /* known keys, indexed by the object's key enum (holes NULL) */
	unsigned int n_keys;	    /* at most 64, the duplicate mask's width */
	const char *const *ignored; /* accepted without a warning: NULL-terminated, or NULL */
};

#define N_KEYS(keys) (sizeof(keys) / sizeof((keys)[0]))

static bool key_is(const struct pp_ynode *k, const char *name)
{
	return name && k->len == strlen(name) && !memcmp(k->text, name, k->len);
}

static int schema_find(const struct schema *s, const struct pp_ynode *k)
{
	for (unsigned int i = 0; i < s->n_keys; i++)
		if (key_is(k, s->keys[i]))
			return (int)i;
	return -1;
}

static bool in_list(const char *const *list, const struct pp_ynode *k)
{
	for (; list && *list; list++)
		if (key_is(k, *list))
			return true;
	return false;
}

struct map_iter {
	const struct pp_ynode *map;
	const struct schema *schema; /* NULL: free-form keys (annotations, labels, limits) */
	bool bracket;		     /* keys go on the path as "[key]" (resources.limits) */
	size_t base;		     /* path length of the mapping itself */
	uint32_t next;		     /* next key in map->kids */
	uint64_t seen;		     /* known keys met so far */
	int key;		     /* the current key's index in schema->keys, or -1 */
	const struct pp_ynode *key_node;
	struct field f; /* the current value, at its key's position */
};

static void map_begin(struct pp_manifest_reader *ps, struct map_iter *it,
		      const struct pp_ynode *map, const struct schema *schema)
{
	*it = (struct map_iter){.map = map, .schema = schema, .base = ps->path_len};
}

/*
 * Step to the next key the caller handles: a known key of the schema (any key when it is
 * NULL). The path is extended with the key and the key's position recorded. Unknown keys are
 * warned about, duplicates of known keys are errors, ignored keys are skipped silently.
 */
static bool map_next(struct pp_manifest_reader *ps, struct map_iter *it)
{
	char q[QUOTE_MAX];

	while (!ps->stop && it->next + 1 < it->map->n_kids) {
		const struct pp_ynode *k = node_at(ps, it->map->kids[it->next]);
		const struct pp_ynode *v = node_at(ps, it->map->kids[it->next + 1]);
		struct pp_src_pos pos = pos_at(ps, it->map->kids[it->next]);
		int idx;

		it->next += 2;
		path_truncate(ps, it->base);
		if (k->type != PP_YNODE_SCALAR) {
			error(ps, pos, "invalid map key: %s",
			      k->type == PP_YNODE_MAPPING ? "a mapping" : "a sequence");
			continue;
		}
		if (it->bracket
			    ? !path_push(ps, "", "[", 1) || !path_push(ps, "", k->text, k->len) ||
				      !path_push(ps, "", "]", 1)
			    : !path_push(ps, ".", k->text, k->len))
			break;
		if (!visit(ps, pos))
			break;
		it->key_node = k;
		it->f = (struct field){.n = v, .pos = pos};
		it->key = -1;
		if (!it->schema)
			return true;
		idx = schema_find(it->schema, k);
		if (idx >= 0 && (it->seen & (1ull << idx))) {
			error(ps, pos, "duplicate field %s",
			      pp_quote(q, sizeof(q), k->text, k->len));
		} else if (idx >= 0) {
			it->seen |= 1ull << idx;
			it->key = idx;
			return true;
		} else if (!in_list(it->schema->ignored, k)) {
			warning(ps, pos, "unknown field %s",
				pp_quote(q, sizeof(q), k->text, k->len));
		}
	}
	path_truncate(ps, it->base);
	return false;
}

struct seq_iter {
	const struct pp_ynode *seq;
	size_t base;
	uint32_t idx; /* index of the current item */
	uint32_t next;
	struct field f;
};

static void seq_begin(struct pp_manifest_reader *ps, struct seq_iter *it,
		      const struct pp_ynode *seq)
{
	*it = (struct seq_iter){.seq = seq, .base = ps->path_len};
}

/* Step to the next item, with "[i]" on the path and the item's position recorded. */
static bool seq_next(struct pp_manifest_reader *ps, struct seq_iter *it)
{
	char idx[24];
	int n;

	path_truncate(ps, it->base);
	if (ps->stop || it->next >= it->seq->n_kids)
		return false;
	it->idx = it->next++;
	it->f.n = node_at(ps, it->seq->kids[it->idx]);
	it->f.pos = pos_at(ps, it->seq->kids[it->idx]);
	n = snprintf(idx, sizeof(idx), "[%u]", it->idx);
	/* "[i]" attaches to the path without a separator, even at the root. */
	if (!path_push(ps, "", idx, (size_t)n) || !visit(ps, it->f.pos)) {
		path_truncate(ps, it->base);
		return false;
	}
	return true;
}

/* ---- typed values ------------------------------------------------------------------------- */

/* "a mapping", "a sequence", a quoted string or a number/boolean as written. */
static const char *describe(const struct pp_ynode *n, char *buf, size_t size)
{
	if (n->type == PP_YNODE_MAPPING)
		return "a mapping";
	if (n->type == PP_YNODE_SEQUENCE)
		return "a sequence";
	if (n->stype == PP_YAML_STR)
		return pp_quote(buf, size, n->text, n->len);
	if (n->stype == PP_YAML_NULL)
		return "null";
	snprintf(buf, size, "%.40s%s", n->text, n->len > 40 ? "..." : "");
	return buf;
}

static void type_error(struct pp_manifest_reader *ps, const struct field *f, const char *want)
{
	char q[QUOTE_MAX];

	error(ps, f->pos, "must be %s, got %s", want, describe(f->n, q, sizeof(q)));
}

/* True when <f> is a mapping. Null (absent) is false silently, other types are errors. */
static bool want_map(struct pp_manifest_reader *ps, const struct field *f)
{
	if (f->n->type == PP_YNODE_MAPPING)
		return true;
	if (!is_null(f->n))
		type_error(ps, f, "a mapping");
	return false;
}

static bool want_seq(struct pp_manifest_reader *ps, const struct field *f)
{
	if (f->n->type == PP_YNODE_SEQUENCE)
		return true;
	if (!is_null(f->n))
		type_error(ps, f, "a sequence");
	return false;
}

static char *copy_text(struct pp_manifest_reader *ps, const struct pp_ynode *n,
		       struct pp_src_pos pos)
{
	char *s;

	if (!spend_bytes(ps, n->len + 1, pos))
		return NULL;
	s = malloc(n->len + 1);
	if (!s) {
		nomem(ps);
		return NULL;
	}
	memcpy(s, n->text, n->len + 1);
	return s;
}

/* A string into *<dst> (replacing it). Null leaves *<dst> as it is. */
static void read_str(struct pp_manifest_reader *ps, const struct field *f, char **dst)
{
	const struct pp_ynode *n = f->n;
	char *s;

	if (is_null(n))
		return;
	if (n->type != PP_YNODE_SCALAR || n->stype != PP_YAML_STR) {
		type_error(ps, f, "a string");
		return;
	}
	if (memchr(n->text, '\0', n->len)) {
		error(ps, f->pos, "must not contain NUL characters");
		return;
	}
	s = copy_text(ps, n, f->pos);
	if (!s)
		return;
	free(*dst);
	*dst = s;
}

/* An integer in <min>..<max> into *<dst>. Returns true when one was stored. */
static bool read_int(struct pp_manifest_reader *ps, const struct field *f, int64_t *dst,
		     int64_t min, int64_t max)
{
	const struct pp_ynode *n = f->n;
	int64_t v;

	if (is_null(n))
		return false;
	/* go-yaml v2 makes 30.0 a float64, JSON then writes 30: an integer field takes it. */
	if (n->type == PP_YNODE_SCALAR && n->stype == PP_YAML_FLOAT &&
	    pp_yaml_float_int(n->text, &v) && v >= min && v <= max) {
		*dst = v;
		return true;
	}
	if (n->type != PP_YNODE_SCALAR || n->stype != PP_YAML_INT) {
		type_error(ps, f, "an integer");
		return false;
	}
	/*
	 * go-yaml v2 (sigs.k8s.io/yaml) types a plain int with strconv.ParseInt(s, 0, 64): a
	 * leading 0 means octal, so "defaultMode: 0644" is 420 (YAML 1.2 would say 644).
	 */
	if (n->plain && pp_yaml_parse_go_octal(n->text, &v)) {
		if (v < min || v > max) {
			error(ps, f->pos, "must be an integer, got %.40s (out of range)", n->text);
			return false;
		}
		*dst = v;
		return true;
	}
	if (!pp_yaml_parse_int(n->text, &v) || v < min || v > max) {
		error(ps, f->pos, "must be an integer, got %.40s%s (out of range)", n->text,
		      n->len > 40 ? "..." : "");
		return false;
	}
	*dst = v;
	return true;
}

#define read_int32(ps, f, dst) read_int(ps, f, dst, INT32_MIN, INT32_MAX)
#define read_int64(ps, f, dst) read_int(ps, f, dst, INT64_MIN, INT64_MAX)

static void read_bool(struct pp_manifest_reader *ps, const struct field *f, bool *dst)
{
	const struct pp_ynode *n = f->n;

	bool b;

	if (is_null(n))
		return;
	/* go-yaml v2 (sigs.k8s.io/yaml) reads the YAML 1.1 spellings: readOnly: yes. */
	if (n->type == PP_YNODE_SCALAR && n->plain && pp_yaml_bool11(n->text, &b)) {
		*dst = b;
		return;
	}
	if (n->type != PP_YNODE_SCALAR || n->stype != PP_YAML_BOOL) {
		type_error(ps, f, "a boolean");
		return;
	}
	*dst = n->text[0] == 't' || n->text[0] == 'T';
}

/* IntOrString: a number (int32, like Kubernetes) or a port name. */
static void read_port(struct pp_manifest_reader *ps, const struct field *f, struct pp_port_ref *ref)
{
	const struct pp_ynode *n = f->n;

	if (n->type == PP_YNODE_SCALAR && n->stype == PP_YAML_INT)
		read_int32(ps, f, &ref->number);
	else if (n->type == PP_YNODE_SCALAR && n->stype == PP_YAML_STR)
		read_str(ps, f, &ref->name);
	else if (!is_null(n))
		type_error(ps, f, "an integer or a string");
}

/*
 * Calloc an array for the items of the sequence <f>, storing the count in *<ret_n>. Returns
 * NULL (and leaves *<ret_n> alone) when <f> is null, empty, not a sequence, or on ENOMEM.
 */
static void *alloc_items(struct pp_manifest_reader *ps, const struct field *f, size_t size,
			 size_t *ret_n)
{
	void *items;

	if (!want_seq(ps, f) || f->n->n_kids == 0)
		return NULL;
	items = calloc(f->n->n_kids, size);
	if (!items) {
		nomem(ps);
		return NULL;
	}
	*ret_n = f->n->n_kids;
	return items;
}

/* A list of strings; null items become "". */
static void read_strv(struct pp_manifest_reader *ps, const struct field *f, char ***v, size_t *n)
{
	struct seq_iter it;

	*v = alloc_items(ps, f, sizeof(**v), n);
	if (!*v)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		if (is_null(it.f.n)) {
			(*v)[it.idx] = strdup("");
			if (!(*v)[it.idx])
				nomem(ps);
		} else {
			read_str(ps, &it.f, &(*v)[it.idx]);
		}
	}
}

/*
 * A Kubernetes quantity (k8s.io/apimachinery resource.Quantity) in bytes, rounded up:
 * [+-]digits[.digits] then one of Ki..Ei, n u m "" k M G T P E, or an exponent e<int>.
 * Returns 0, -EINVAL (syntax) or -ERANGE (does not fit in int64_t).
 */
static int parse_quantity_scaled(const char *s, int scale10, int64_t *ret)
{
	static const char binary[] = "KMGTPE";	    /* Ki = 2^10 ... Ei = 2^60 */
	static const char decimal[] = "num kMGTPE"; /* 10^-9 ... 10^18, ' ' is a hole at 10^0 */
	uint64_t v = 0;
	int exp10 = 0, exp2 = 0;
	bool neg = false, digits = false;
	const char *p = s, *c;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; is_digit(*p, 10); p++, digits = true) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.')
		for (p++; is_digit(*p, 10); p++, digits = true)
			if (v <= (UINT64_MAX - 9) / 10) { /* further digits are below precision */
				v = v * 10 + (uint64_t)(*p - '0');
				exp10--;
			}
	if (!digits)
		return -EINVAL;
	exp10 += scale10; /* thousandths for cpu: MilliValue() */

	if (*p && p[1] == 'i' && !p[2] && (c = strchr(binary, *p))) {
		exp2 = 10 * (int)(c - binary + 1);
	} else if ((*p == 'e' || *p == 'E') && p[1]) {
		const char *q = p + 1;
		bool eneg = *q == '-';
		int e = 0;

		if (*q == '-' || *q == '+')
			q++;
		if (!*q)
			return -EINVAL;
		for (; *q; q++) {
			if (!is_digit(*q, 10))
				return -EINVAL;
			if (e < 100000) /* saturate: out of range anyway */
				e = e * 10 + (*q - '0');
		}
		exp10 += eneg ? -e : e;
	} else if (*p && !p[1] && *p != ' ' && (c = strchr(decimal, *p))) {
		exp10 += 3 * (int)(c - decimal) - 9;
	} else if (*p) {
		return -EINVAL;
	}

	if (v && exp2) {
		if (v > (UINT64_MAX >> exp2))
			return -ERANGE;
		v <<= exp2;
	}
	for (; v && exp10 > 0; exp10--) {
		if (v > UINT64_MAX / 10)
			return -ERANGE;
		v *= 10;
	}
	if (exp10 < 0) {
		uint64_t d = 1;

		for (; exp10 < 0 && d <= UINT64_MAX / 10; exp10++)
			d *= 10;
		v = exp10 < 0 ? v != 0 : v / d + (v % d != 0); /* round up, like memory limits */
	}
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* A quantity times 10^<scale10>, rounded up, into *<dst> (resource.Quantity's Value/MilliValue). */
static void read_quantity_scaled(struct pp_manifest_reader *ps, const struct field *f, int scale10,
				 int64_t *dst)
{
	const struct pp_ynode *n = f->n;
	int err;

	if (is_null(n))
		return;
	if (n->type != PP_YNODE_SCALAR || n->stype == PP_YAML_BOOL) {
		type_error(ps, f, "a quantity");
		return;
	}
	err = memchr(n->text, '\0', n->len) ? -EINVAL
					    : parse_quantity_scaled(n->text, scale10, dst);
	if (err == -ERANGE)
		error(ps, f->pos, "quantity out of range");
	else if (err)
		error(ps, f->pos,
		      "quantities must match the regular expression "
		      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
}

static void read_quantity(struct pp_manifest_reader *ps, const struct field *f, int64_t *dst)
{
	read_quantity_scaled(ps, f, 0, dst);
}

/* ---- the Pod schema ------------------------------------------------------------------------ */

/* Handlers: probes take exec/httpGet/tcpSocket/grpc, hooks exec/httpGet/tcpSocket/sleep. */
enum handler_key {
	HK_EXEC = 0,
	HK_HTTP_GET,
	HK_TCP_SOCKET,
	HK_GRPC,
	HK_SLEEP,
	HK_INITIAL_DELAY,
	HK_TIMEOUT,
	HK_PERIOD,
	HK_SUCCESS,
	HK_FAILURE,
	HK_GRACE,
	_HK_MAX,
};

static const char *const probe_keys[_HK_MAX] = {
	[HK_EXEC] = "exec",
	[HK_HTTP_GET] = "httpGet",
	[HK_TCP_SOCKET] = "tcpSocket",
	[HK_GRPC] = "grpc",
	[HK_INITIAL_DELAY] = "initialDelaySeconds",
	[HK_TIMEOUT] = "timeoutSeconds",
	[HK_PERIOD] = "periodSeconds",
	[HK_SUCCESS] = "successThreshold",
	[HK_FAILURE] = "failureThreshold",
	[HK_GRACE] = "terminationGracePeriodSeconds",
};

static const char *const hook_keys[_HK_MAX] = {
	[HK_EXEC] = "exec",
	[HK_HTTP_GET] = "httpGet",
	[HK_TCP_SOCKET] = "tcpSocket",
	[HK_SLEEP] = "sleep",
};

static const struct schema probe_schema = {probe_keys, N_KEYS(probe_keys), NULL};
static const struct schema hook_schema = {hook_keys, N_KEYS(hook_keys), NULL};

enum action_key {
	AK_COMMAND = 0,
	AK_HOST,
	AK_PORT,
	AK_PATH,
	AK_SCHEME,
	AK_HEADERS,
	AK_SERVICE,
	AK_SECONDS,
	_AK_MAX,
};

static const char *const exec_keys[_AK_MAX] = {[AK_COMMAND] = "command"};
static const char *const http_keys[_AK_MAX] = {
	[AK_HOST] = "host",	[AK_PORT] = "port",	      [AK_PATH] = "path",
	[AK_SCHEME] = "scheme", [AK_HEADERS] = "httpHeaders",
};
static const char *const tcp_keys[_AK_MAX] = {[AK_HOST] = "host", [AK_PORT] = "port"};
static const char *const grpc_keys[_AK_MAX] = {[AK_PORT] = "port", [AK_SERVICE] = "service"};
static const char *const sleep_keys[_AK_MAX] = {[AK_SECONDS] = "seconds"};

static const struct schema action_schemas[_PP_HANDLER_MAX] = {
	[PP_HANDLER_EXEC] = {exec_keys, N_KEYS(exec_keys), NULL},
	[PP_HANDLER_HTTP_GET] = {http_keys, N_KEYS(http_keys), NULL},
	[PP_HANDLER_TCP_SOCKET] = {tcp_keys, N_KEYS(tcp_keys), NULL},
	[PP_HANDLER_GRPC] = {grpc_keys, N_KEYS(grpc_keys), NULL},
	[PP_HANDLER_SLEEP] = {sleep_keys, N_KEYS(sleep_keys), NULL},
};

enum kv_key {
	KV_NAME = 0,
	KV_VALUE,
	KV_VALUE_FROM,
	_KV_MAX,
};

static const char *const header_keys[_KV_MAX] = {[KV_NAME] = "name", [KV_VALUE] = "value"};
static const char *const env_keys[_KV_MAX] = {
	[KV_NAME] = "name",
	[KV_VALUE] = "value",
	[KV_VALUE_FROM] = "valueFrom",
};
static const struct schema header_schema = {header_keys, N_KEYS(header_keys), NULL};
static const struct schema env_schema = {env_keys, N_KEYS(env_keys), NULL};

enum port_key {
	PK_NAME = 0,
	PK_CONTAINER_PORT,
	PK_PROTOCOL,
	PK_HOST_PORT,
	PK_HOST_IP,
	_PK_MAX,
};

static const char *const port_keys[_PK_MAX] = {
	[PK_NAME] = "name",	    [PK_CONTAINER_PORT] = "containerPort",
	[PK_PROTOCOL] = "protocol", [PK_HOST_PORT] = "hostPort",
	[PK_HOST_IP] = "hostIP",
};
static const struct schema port_schema = {port_keys, N_KEYS(port_keys), NULL};

enum mount_key {
	MK_NAME = 0,
	MK_MOUNT_PATH,
	MK_READ_ONLY,
	MK_SUB_PATH,
	MK_SUB_PATH_EXPR,
	_MK_MAX,
};

static const char *const mount_keys[_MK_MAX] = {
	[MK_NAME] = "name",	   [MK_MOUNT_PATH] = "mountPath",      [MK_READ_ONLY] = "readOnly",
	[MK_SUB_PATH] = "subPath", [MK_SUB_PATH_EXPR] = "subPathExpr",
};
static const char *const mount_ignored[] = {
	"mountPropagation",
	"recursiveReadOnly",
	NULL,
};
static const struct schema mount_schema = {mount_keys, N_KEYS(mount_keys), mount_ignored};

enum lifecycle_key {
	LK_POST_START = 0,
	LK_PRE_STOP,
	_LK_MAX,
};

static const char *const lifecycle_keys[_LK_MAX] = {
	[LK_POST_START] = "postStart",
	[LK_PRE_STOP] = "preStop",
};
static const char *const lifecycle_ignored[] = {"stopSignal", NULL};
static const struct schema lifecycle_schema = {lifecycle_keys, N_KEYS(lifecycle_keys),
					       lifecycle_ignored};

static const char *const resources_keys[] = {"limits", "requests"};
static const char *const resources_ignored[] = {"claims", NULL};
static const struct schema resources_schema = {resources_keys, N_KEYS(resources_keys),
					       resources_ignored};

enum container_key {
	CK_NAME = 0,
	CK_IMAGE,
	CK_COMMAND,
	CK_ARGS,
	CK_ENV,
	CK_ENV_FROM,
	CK_WORKING_DIR,
	CK_PORTS,
	CK_VOLUME_MOUNTS,
	CK_LIFECYCLE,
	CK_STARTUP_PROBE,
	CK_LIVENESS_PROBE,
	CK_READINESS_PROBE,
	CK_RESTART_POLICY,
	CK_RESOURCES,
	CK_SECURITY_CONTEXT,
	CK_IMAGE_PULL_POLICY,
	_CK_MAX,
};

static const char *const container_keys[_CK_MAX] = {
	[CK_NAME] = "name",
	[CK_IMAGE] = "image",
	[CK_COMMAND] = "command",
	[CK_ARGS] = "args",
	[CK_ENV] = "env",
	[CK_ENV_FROM] = "envFrom",
	[CK_WORKING_DIR] = "workingDir",
	[CK_PORTS] = "ports",
	[CK_VOLUME_MOUNTS] = "volumeMounts",
	[CK_LIFECYCLE] = "lifecycle",
	[CK_STARTUP_PROBE] = "startupProbe",
	[CK_LIVENESS_PROBE] = "livenessProbe",
	[CK_READINESS_PROBE] = "readinessProbe",
	[CK_RESTART_POLICY] = "restartPolicy",
	[CK_RESOURCES] = "resources",
	[CK_SECURITY_CONTEXT] = "securityContext",
	[CK_IMAGE_PULL_POLICY] = "imagePullPolicy",
};
static const char *const container_ignored[] = {
	"terminationMessagePath",
	"terminationMessagePolicy",
	"stdin",
	"stdinOnce",
	"tty",
	"volumeDevices",
	"resizePolicy",
	"restartPolicyRules",
	NULL,
};
static const struct schema container_schema = {container_keys, N_KEYS(container_keys),
					       container_ignored};

/* securityContext: one key enum for the pod's and the containers' (K: core/v1 types.go). */
enum sc_key {
	SC_RUN_AS_USER = 0,
	SC_RUN_AS_GROUP,
	SC_RUN_AS_NON_ROOT,
	SC_SE_LINUX_OPTIONS,
	SC_WINDOWS_OPTIONS,
	SC_SECCOMP_PROFILE,
	SC_APP_ARMOR_PROFILE,
	SC_SUPPLEMENTAL_GROUPS, /* pod only */
	SC_SUPPLEMENTAL_GROUPS_POLICY,
	SC_FS_GROUP,
	SC_FS_GROUP_CHANGE_POLICY,
	SC_SYSCTLS,
	SC_SE_LINUX_CHANGE_POLICY,
	SC_CAPABILITIES, /* container only */
	SC_PRIVILEGED,
	SC_ALLOW_PRIVILEGE_ESCALATION,
	SC_READ_ONLY_ROOT_FILESYSTEM,
	SC_PROC_MOUNT,
	_SC_MAX,
};

static const char *const pod_sc_keys[_SC_MAX] = {
	[SC_RUN_AS_USER] = "runAsUser",
	[SC_RUN_AS_GROUP] = "runAsGroup",
	[SC_RUN_AS_NON_ROOT] = "runAsNonRoot",
	[SC_SE_LINUX_OPTIONS] = "seLinuxOptions",
	[SC_WINDOWS_OPTIONS] = "windowsOptions",
	[SC_SECCOMP_PROFILE] = "seccompProfile",
	[SC_APP_ARMOR_PROFILE] = "appArmorProfile",
	[SC_SUPPLEMENTAL_GROUPS] = "supplementalGroups",
	[SC_SUPPLEMENTAL_GROUPS_POLICY] = "supplementalGroupsPolicy",
	[SC_FS_GROUP] = "fsGroup",
	[SC_FS_GROUP_CHANGE_POLICY] = "fsGroupChangePolicy",
	[SC_SYSCTLS] = "sysctls",
	[SC_SE_LINUX_CHANGE_POLICY] = "seLinuxChangePolicy",
};
static const char *const container_sc_keys[_SC_MAX] = {
	[SC_RUN_AS_USER] = "runAsUser",
	[SC_RUN_AS_GROUP] = "runAsGroup",
	[SC_RUN_AS_NON_ROOT] = "runAsNonRoot",
	[SC_SE_LINUX_OPTIONS] = "seLinuxOptions",
	[SC_WINDOWS_OPTIONS] = "windowsOptions",
	[SC_SECCOMP_PROFILE] = "seccompProfile",
	[SC_APP_ARMOR_PROFILE] = "appArmorProfile",
	[SC_CAPABILITIES] = "capabilities",
	[SC_PRIVILEGED] = "privileged",
	[SC_ALLOW_PRIVILEGE_ESCALATION] = "allowPrivilegeEscalation",
	[SC_READ_ONLY_ROOT_FILESYSTEM] = "readOnlyRootFilesystem",
	[SC_PROC_MOUNT] = "procMount",
};
static const struct schema pod_sc_schema = {pod_sc_keys, N_KEYS(pod_sc_keys), NULL};
static const struct schema container_sc_schema = {container_sc_keys, N_KEYS(container_sc_keys),
						  NULL};

static const char *const profile_keys[] = {"type", "localhostProfile"};
static const struct schema profile_schema = {profile_keys, N_KEYS(profile_keys), NULL};
static const char *const capabilities_keys[] = {"add", "drop"};
static const struct schema capabilities_schema = {capabilities_keys, N_KEYS(capabilities_keys),
						  NULL};
/* String-valued option objects podprobe does not apply: read for their types only. */
static const char *const se_linux_keys[] = {"user", "role", "type", "level"};
static const struct schema se_linux_schema = {se_linux_keys, N_KEYS(se_linux_keys), NULL};
static const char *const windows_keys[] = {"gmsaCredentialSpecName", "gmsaCredentialSpec",
					   "runAsUserName", "hostProcess"};
static const struct schema windows_schema = {windows_keys, N_KEYS(windows_keys), NULL};

enum volume_key {
	VK_NAME = 0,
	VK_EMPTY_DIR,
	VK_CONFIG_MAP,
	VK_SECRET,
	VK_DOWNWARD_API,
	VK_PROJECTED,
	VK_HOST_PATH,
	VK_PVC,
	_VK_MAX,
};

static const char *const volume_keys[_VK_MAX] = {
	[VK_NAME] = "name",
	[VK_EMPTY_DIR] = "emptyDir",
	[VK_CONFIG_MAP] = "configMap",
	[VK_SECRET] = "secret",
	[VK_DOWNWARD_API] = "downwardAPI",
	[VK_PROJECTED] = "projected",
	[VK_HOST_PATH] = "hostPath",
	[VK_PVC] = "persistentVolumeClaim",
};
/* The other volume sources of the API: known, so no "unknown field", but not supported. */
static const char *const volume_sources[] = {
	"gcePersistentDisk",
	"awsElasticBlockStore",
	"gitRepo",
	"nfs",
	"iscsi",
	"glusterfs",
	"rbd",
	"flexVolume",
	"cinder",
	"cephfs",
	"flocker",
	"fc",
	"azureFile",
	"vsphereVolume",
	"quobyte",
	"azureDisk",
	"photonPersistentDisk",
	"portworxVolume",
	"scaleIO",
	"storageos",
	"csi",
	"ephemeral",
	"image",
	NULL,
};
static const struct schema volume_schema = {volume_keys, N_KEYS(volume_keys), volume_sources};

static const char *const empty_dir_ignored[] = {"medium", "sizeLimit", NULL};
static const struct schema empty_dir_schema = {NULL, 0, empty_dir_ignored};

enum spec_key {
	SK_RESTART_POLICY = 0,
	SK_GRACE,
	SK_ACTIVE_DEADLINE,
	SK_INIT_CONTAINERS,
	SK_CONTAINERS,
	SK_VOLUMES,
	SK_SECURITY_CONTEXT,
	SK_SERVICE_ACCOUNT_NAME,
	SK_SERVICE_ACCOUNT,
	_SK_MAX,
};

static const char *const spec_keys[_SK_MAX] = {
	[SK_RESTART_POLICY] = "restartPolicy",
	[SK_GRACE] = "terminationGracePeriodSeconds",
	[SK_ACTIVE_DEADLINE] = "activeDeadlineSeconds",
	[SK_INIT_CONTAINERS] = "initContainers",
	[SK_CONTAINERS] = "containers",
	[SK_VOLUMES] = "volumes",
	[SK_SECURITY_CONTEXT] = "securityContext",
	[SK_SERVICE_ACCOUNT_NAME] = "serviceAccountName",
	[SK_SERVICE_ACCOUNT] = "serviceAccount",
};
static const char *const spec_ignored[] = {
	"nodeSelector",
	"nodeName",
	"tolerations",
	"affinity",
	"automountServiceAccountToken",
	"dnsPolicy",
	"dnsConfig",
	"hostNetwork",
	"hostPID",
	"hostIPC",
	"hostUsers",
	"shareProcessNamespace",
	"readinessGates",
	"enableServiceLinks",
	"imagePullSecrets",
	"schedulerName",
	"priority",
	"priorityClassName",
	"preemptionPolicy",
	"hostname",
	"subdomain",
	"setHostnameAsFQDN",
	"hostAliases",
	"runtimeClassName",
	"overhead",
	"topologySpreadConstraints",
	"os",
	"schedulingGates",
	"resourceClaims",
	"ephemeralContainers",
	"resources",
	NULL,
};
static const struct schema spec_schema = {spec_keys, N_KEYS(spec_keys), spec_ignored};

enum metadata_key {
	MD_NAME = 0,
	MD_NAMESPACE,
	MD_UID,
	MD_ANNOTATIONS,
	MD_LABELS,
	MD_GENERATE_NAME,
	_MD_MAX,
};

static const char *const metadata_keys[_MD_MAX] = {
	[MD_NAME] = "name",	[MD_NAMESPACE] = "namespace",
	[MD_UID] = "uid",	[MD_ANNOTATIONS] = "annotations",
	[MD_LABELS] = "labels", [MD_GENERATE_NAME] = "generateName",
};
static const char *const metadata_ignored[] = {
	"creationTimestamp",
	"resourceVersion",
	"selfLink",
	"ownerReferences",
	"finalizers",
	"managedFields",
	"generation",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
	NULL,
};
static const struct schema metadata_schema = {metadata_keys, N_KEYS(metadata_keys),
					      metadata_ignored};

enum pod_key {
	POD_API_VERSION = 0,
	POD_KIND,
	POD_METADATA,
	POD_SPEC,
	_POD_MAX,
};

static const char *const pod_keys[_POD_MAX] = {
	[POD_API_VERSION] = "apiVersion",
	[POD_KIND] = "kind",
	[POD_METADATA] = "metadata",
	[POD_SPEC] = "spec",
};
static const char *const pod_ignored[] = {"status", NULL};
static const struct schema pod_schema = {pod_keys, N_KEYS(pod_keys), pod_ignored};

/* ---- the walk ------------------------------------------------------------------------------ */

/* A map of string values (annotations, labels) into a kv array. */
static void walk_string_map(struct pp_manifest_reader *ps, const struct field *f,
			    struct pp_kv **ret, size_t *ret_n)
{
	struct map_iter it;
	struct pp_kv *kv;
	size_t n = 0;

	if (!want_map(ps, f) || f->n->n_kids == 0)
		return;
	kv = calloc(f->n->n_kids / 2, sizeof(*kv));
	if (!kv)
		return nomem(ps);
	*ret = kv;
	map_begin(ps, &it, f->n, NULL);
	while (map_next(ps, &it)) {
		if (memchr(it.key_node->text, '\0', it.key_node->len)) {
			error(ps, it.f.pos, "must not contain NUL characters");
			continue;
		}
		read_str(ps, &it.f, &kv[n].value);
		if (!kv[n].value)
			continue; /* null or a type error: no entry */
		kv[n].name = copy_text(ps, it.key_node, it.f.pos);
		if (!kv[n].name) {
			free(kv[n].value);
			kv[n].value = NULL;
			continue;
		}
		n++;
		*ret_n = n;
	}
}

static void walk_headers(struct pp_manifest_reader *ps, const struct field *f, struct pp_handler *h)
{
	struct seq_iter it;

	h->headers = alloc_items(ps, f, sizeof(*h->headers), &h->n_headers);
	if (!h->headers)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_kv *kv = &h->headers[it.idx];
		struct map_iter m;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, &header_schema);
		while (map_next(ps, &m))
			read_str(ps, &m.f, m.key == KV_NAME ? &kv->name : &kv->value);
	}
}

/* The body of one handler kind (exec: {...}, httpGet: {...}, ...). */
static void walk_action(struct pp_manifest_reader *ps, const struct field *f,
			enum pp_handler_kind kind, struct pp_handler *h)
{
	struct map_iter it;

	map_begin(ps, &it, f->n, &action_schemas[kind]);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case AK_COMMAND:
			read_strv(ps, &it.f, &h->command, &h->n_command);
			break;
		case AK_HOST:
			read_str(ps, &it.f, &h->host);
			break;
		case AK_PORT:
			/* gRPC ports are plain numbers (P1.8); the others are IntOrString. */
			if (kind == PP_HANDLER_GRPC)
				read_int32(ps, &it.f, &h->port.number);
			else
				read_port(ps, &it.f, &h->port);
			break;
		case AK_PATH:
			read_str(ps, &it.f, &h->path);
			break;
		case AK_SCHEME:
			read_str(ps, &it.f, &h->scheme);
			break;
		case AK_HEADERS:
			walk_headers(ps, &it.f, h);
			break;
		case AK_SERVICE:
			read_str(ps, &it.f, &h->service);
			break;
		case AK_SECONDS:
			read_int64(ps, &it.f, &h->sleep_seconds);
			break;
		}
	}
}

/*
 * One handler kind key. All of them are counted in n_kinds (validation wants exactly one);
 * only the first is read, so that two kinds never share host/port fields.
 */
static void walk_handler_kind(struct pp_manifest_reader *ps, const struct field *f,
			      enum pp_handler_kind kind, struct pp_handler *h)
{
	if (!want_map(ps, f))
		return;
	h->n_kinds++;
	h->kinds |= 1u << kind;
	if (h->kind != PP_HANDLER_NONE)
		return;
	h->kind = kind;
	walk_action(ps, f, kind, h);
}

static const enum pp_handler_kind handler_kinds[_HK_MAX] = {
	[HK_EXEC] = PP_HANDLER_EXEC,
	[HK_HTTP_GET] = PP_HANDLER_HTTP_GET,
	[HK_TCP_SOCKET] = PP_HANDLER_TCP_SOCKET,
	[HK_GRPC] = PP_HANDLER_GRPC,
	[HK_SLEEP] = PP_HANDLER_SLEEP,
};

static void walk_hook(struct pp_manifest_reader *ps, const struct field *f, struct pp_handler *h,
		      bool *has)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	*has = true;
	map_begin(ps, &it, f->n, &hook_schema);
	while (map_next(ps, &it))
		walk_handler_kind(ps, &it.f, handler_kinds[it.key], h);
}

static void walk_probe(struct pp_manifest_reader *ps, const struct field *f,
		       struct pp_probe_spec *p)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	p->set = true;
	map_begin(ps, &it, f->n, &probe_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case HK_INITIAL_DELAY:
			read_int32(ps, &it.f, &p->initial_delay_s);
			break;
		case HK_TIMEOUT:
			read_int32(ps, &it.f, &p->timeout_s);
			break;
		case HK_PERIOD:
			read_int32(ps, &it.f, &p->period_s);
			break;
		case HK_SUCCESS:
			read_int32(ps, &it.f, &p->success_threshold);
			break;
		case HK_FAILURE:
			read_int32(ps, &it.f, &p->failure_threshold);
			break;
		case HK_GRACE:
			p->has_termination_grace = read_int64(ps, &it.f, &p->termination_grace_s);
			break;
		default:
			walk_handler_kind(ps, &it.f, handler_kinds[it.key], &p->handler);
			break;
		}
	}
}

/*
 * K: validation.go validateEnvVarValueFrom: exactly one source, and no non-empty value
 * beside it. <path> is the valueFrom's.
 */
static void check_value_from(struct pp_manifest_reader *ps, const struct field *from,
			     const char *path, const char *value)
{
	static const char *const sources[] = {"fieldRef",     "resourceFieldRef", "configMapKeyRef",
					      "secretKeyRef", "fileKeyRef",	  NULL};
	unsigned int n = 0;

	if (from->n->type != PP_YNODE_MAPPING) {
		type_error(ps, from, "a mapping");
		return;
	}
	for (uint32_t k = 0; k + 1 < from->n->n_kids; k += 2)
		n += in_list(sources, node_at(ps, from->n->kids[k])) &&
		     !is_null(node_at(ps, from->n->kids[k + 1]));
	if (n == 0)
		error_at(ps, from->pos, path,
			 "Invalid value: \"\": must specify one of: `fieldRef`, "
			 "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
	else if (n > 1)
		error_at(ps, from->pos, path,
			 "Invalid value: \"\": may not have more than one field specified at a "
			 "time");
	if (n && value && *value)
		error_at(ps, from->pos, path,
			 "Invalid value: \"\": may not be specified when `value` is not empty");
}

/* EnvVarSource's references: their keys, by source kind. */
static const char *const field_ref_keys[] = {"apiVersion", "fieldPath"};
static const char *const resource_ref_keys[] = {"containerName", "resource", "divisor"};
static const char *const key_ref_keys[] = {"name", "key", "optional"};
static const char *const file_ref_keys[] = {"path", "volumeName", "key", "optional"};
static const struct schema field_ref_schema = {field_ref_keys, N_KEYS(field_ref_keys), NULL};
static const struct schema resource_ref_schema = {resource_ref_keys, N_KEYS(resource_ref_keys),
						  NULL};
static const struct schema key_ref_schema = {key_ref_keys, N_KEYS(key_ref_keys), NULL};
static const struct schema file_ref_schema = {file_ref_keys, N_KEYS(file_ref_keys), NULL};

/* fieldRef {apiVersion, fieldPath} into <v>. */
static void walk_field_ref(struct pp_manifest_reader *ps, const struct field *f,
			   struct pp_value_src *v)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	v->kind = PP_VALUE_FIELD;
	map_begin(ps, &it, f->n, &field_ref_schema);
	while (map_next(ps, &it))
		read_str(ps, &it.f, it.key == 0 ? &v->api_version : &v->key);
}

/* resourceFieldRef {containerName, resource, divisor} into <v>. */
static void walk_resource_ref(struct pp_manifest_reader *ps, const struct field *f,
			      struct pp_value_src *v)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	v->kind = PP_VALUE_RESOURCE;
	map_begin(ps, &it, f->n, &resource_ref_schema);
	while (map_next(ps, &it)) {
		if (it.key == 0) {
			read_str(ps, &it.f, &v->container);
		} else if (it.key == 1) {
			read_str(ps, &it.f, &v->key);
		} else if (!is_null(it.f.n)) {
			read_quantity_scaled(ps, &it.f, 3, &v->divisor_m);
			read_quantity(ps, &it.f, &v->divisor);
			if (it.f.n->type == PP_YNODE_SCALAR)
				snprintf(v->divisor_raw, sizeof(v->divisor_raw), "%s",
					 it.f.n->text);
		}
	}
}

/* configMapKeyRef / secretKeyRef {name, key, optional}, or configMapRef / secretRef. */
static void walk_key_ref(struct pp_manifest_reader *ps, const struct field *f,
			 enum pp_value_kind kind, struct pp_value_src *v)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	v->kind = kind;
	map_begin(ps, &it, f->n, &key_ref_schema);
	while (map_next(ps, &it)) {
		if (it.key == 0)
			read_str(ps, &it.f, &v->name);
		else if (it.key == 1)
			read_str(ps, &it.f, &v->key);
		else
			read_bool(ps, &it.f, &v->optional);
	}
}

static void walk_value_from(struct pp_manifest_reader *ps, const struct field *f,
			    struct pp_value_src *v)
{
	static const char *const keys[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
					   "secretKeyRef", "fileKeyRef"};
	static const struct schema schema = {keys, N_KEYS(keys), NULL};
	struct map_iter it, fk;
	char *tmp;
	bool b;

	if (f->n->type != PP_YNODE_MAPPING)
		return; /* check_value_from() says so */
	map_begin(ps, &it, f->n, &schema);
	while (map_next(ps, &it)) {
		if (is_null(it.f.n))
			continue;
		/* The first source wins; check_value_from() rejects a second one. */
		if (v->kind != PP_VALUE_NONE)
			continue;
		switch (it.key) {
		case 0:
			walk_field_ref(ps, &it.f, v);
			break;
		case 1:
			walk_resource_ref(ps, &it.f, v);
			break;
		case 2:
			walk_key_ref(ps, &it.f, PP_VALUE_CONFIG_MAP, v);
			break;
		case 3:
			walk_key_ref(ps, &it.f, PP_VALUE_SECRET, v);
			break;
		default:
			if (!want_map(ps, &it.f))
				break;
			v->kind = PP_VALUE_FILE;
			warning(ps, it.f.pos,
				"podprobe does not read env values from files (EnvFiles), the "
				"variable is not set");
			map_begin(ps, &fk, it.f.n, &file_ref_schema);
			while (map_next(ps, &fk)) {
				tmp = NULL;
				if (fk.key == 3) {
					read_bool(ps, &fk.f, &b);
				} else {
					read_str(ps, &fk.f, &tmp);
					free(tmp);
				}
			}
			break;
		}
	}
}

static void walk_env(struct pp_manifest_reader *ps, const struct field *f,
		     struct pp_container_spec *c)
{
	struct seq_iter it;

	c->env = alloc_items(ps, f, sizeof(*c->env), &c->n_env);
	if (!c->env)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_kv *kv = &c->env[it.idx];
		struct map_iter m;

		if (want_map(ps, &it.f)) {
			struct field from = {0};
			char *from_path = NULL;

			map_begin(ps, &m, it.f.n, &env_schema);
			while (map_next(ps, &m)) {
				if (m.key == KV_NAME) {
					read_str(ps, &m.f, &kv->name);
				} else if (m.key == KV_VALUE) {
					read_str(ps, &m.f, &kv->value);
				} else if (!is_null(m.f.n)) {
					from = m.f;
					free(from_path);
					from_path = strdup(ps->path);
					if (!from_path) {
						nomem(ps);
						continue;
					}
					if (!c->env_src)
						c->env_src = calloc(c->n_env, sizeof(*c->env_src));
					if (!c->env_src) {
						nomem(ps);
						continue;
					}
					walk_value_from(ps, &m.f, &c->env_src[it.idx]);
				}
			}
			if (from_path)
				check_value_from(ps, &from, from_path, kv->value);
			free(from_path);
		}
		if (!kv->value && !ps->err) {
			kv->value = strdup(""); /* the model promises "" for an absent value */
			if (!kv->value)
				nomem(ps);
		}
	}
}

/* envFrom: [{prefix, configMapRef: {name, optional}, secretRef: {name, optional}}]. */
static void walk_env_from(struct pp_manifest_reader *ps, const struct field *f,
			  struct pp_container_spec *c)
{
	static const char *const keys[] = {"prefix", "configMapRef", "secretRef"};
	static const char *const ref_keys[] = {"name", "optional"};
	static const struct schema schema = {keys, N_KEYS(keys), NULL};
	static const struct schema ref_schema = {ref_keys, N_KEYS(ref_keys), NULL};
	struct seq_iter it;

	c->env_from = alloc_items(ps, f, sizeof(*c->env_from), &c->n_env_from);
	if (!c->env_from)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_env_from *e = &c->env_from[it.idx];
		struct map_iter m, r;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, &schema);
		while (map_next(ps, &m)) {
			if (m.key == 0) {
				read_str(ps, &m.f, &e->prefix);
				continue;
			}
			if (!want_map(ps, &m.f))
				continue;
			e->n_refs++;
			if (e->has_ref)
				continue; /* the first wins; validation rejects the second */
			e->has_ref = true;
			e->secret = m.key == 2;
			map_begin(ps, &r, m.f.n, &ref_schema);
			while (map_next(ps, &r))
				if (r.key == 0)
					read_str(ps, &r.f, &e->name);
				else
					read_bool(ps, &r.f, &e->optional);
		}
	}
}

static void walk_ports(struct pp_manifest_reader *ps, const struct field *f,
		       struct pp_container_spec *c)
{
	struct seq_iter it;

	c->ports = alloc_items(ps, f, sizeof(*c->ports), &c->n_ports);
	if (!c->ports)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_port_spec *port = &c->ports[it.idx];
		struct map_iter m;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, &port_schema);
		while (map_next(ps, &m)) {
			char *ip = NULL;

			switch (m.key) {
			case PK_NAME:
				read_str(ps, &m.f, &port->name);
				break;
			case PK_CONTAINER_PORT:
				read_int32(ps, &m.f, &port->container_port);
				break;
			case PK_PROTOCOL:
				read_str(ps, &m.f, &port->protocol);
				break;
			case PK_HOST_PORT:
				/* Only checked for conflicts: processes share the host's network.
				 */
				read_int32(ps, &m.f, &port->host_port);
				break;
			default:
				read_str(ps, &m.f, &ip);
				snprintf(port->host_ip, sizeof(port->host_ip), "%s", ip ? ip : "");
				free(ip);
				break;
			}
		}
	}
}

static void walk_mounts(struct pp_manifest_reader *ps, const struct field *f,
			struct pp_container_spec *c)
{
	struct seq_iter it;

	c->mounts = alloc_items(ps, f, sizeof(*c->mounts), &c->n_mounts);
	if (!c->mounts)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_volume_mount *mnt = &c->mounts[it.idx];
		struct map_iter m;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, &mount_schema);
		while (map_next(ps, &m)) {
			if (m.key == MK_NAME)
				read_str(ps, &m.f, &mnt->name);
			else if (m.key == MK_MOUNT_PATH)
				read_str(ps, &m.f, &mnt->mount_path);
			else if (m.key == MK_SUB_PATH)
				read_str(ps, &m.f, &mnt->sub_path);
			else if (m.key == MK_SUB_PATH_EXPR)
				read_str(ps, &m.f, &mnt->sub_path_expr);
			else
				read_bool(ps, &m.f, &mnt->read_only);
		}
	}
}

/*
 * resources: limits.memory is applied, requests.memory only checked against it; cpu and
 * other resources are accepted.
 */
static void walk_resources(struct pp_manifest_reader *ps, const struct field *f,
			   struct pp_container_spec *c)
{
	struct map_iter it, lim;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &it, f->n, &resources_schema);
	while (map_next(ps, &it)) {
		bool limits = it.key == 0;

		if (!want_map(ps, &it.f))
			continue;
		/* ValidateResourceRequirements' paths: limits[memory], requests[cpu]. */
		map_begin(ps, &lim, it.f.n, NULL);
		lim.bracket = true;
		while (map_next(ps, &lim)) {
			const struct pp_ynode *n = lim.f.n;
			char *raw = limits ? c->memory_limit_raw : c->memory_request_raw;

			if (key_is(lim.key_node, "cpu")) {
				/* Read for resourceFieldRef (the downward API); never applied. */
				read_quantity_scaled(ps, &lim.f, 3,
						     limits ? &c->cpu_limit_m : &c->cpu_request_m);
				c->has_cpu_request |= !limits && !is_null(n);
				continue;
			}
			if (key_is(lim.key_node, "ephemeral-storage")) {
				read_quantity(ps, &lim.f,
					      limits ? &c->storage_limit : &c->storage_request);
				c->has_storage_request |= !limits && !is_null(n);
				continue;
			}
			if (!key_is(lim.key_node, "memory"))
				continue;
			read_quantity(ps, &lim.f, limits ? &c->memory_limit : &c->memory_request);
			c->has_memory_request |= !limits && !is_null(n);
			if (n->type == PP_YNODE_SCALAR)
				snprintf(raw, sizeof(c->memory_limit_raw), "%s", n->text);
		}
	}
}

/* A list of integers (supplementalGroups), each in <min>..<max>. */
static void read_int64v(struct pp_manifest_reader *ps, const struct field *f, int64_t **v,
			size_t *n, int64_t min, int64_t max)
{
	struct seq_iter it;

	*v = alloc_items(ps, f, sizeof(**v), n);
	if (!*v)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it))
		read_int(ps, &it.f, &(*v)[it.idx], min, max);
}

/* An object podprobe reads only to check its shape (seLinuxOptions, windowsOptions). */
static void walk_opaque(struct pp_manifest_reader *ps, const struct field *f,
			const struct schema *schema, bool *has)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	*has = true;
	map_begin(ps, &it, f->n, schema);
	while (map_next(ps, &it)) {
		char *tmp = NULL;
		bool b;

		if (key_is(it.key_node, "hostProcess")) {
			read_bool(ps, &it.f, &b);
		} else {
			read_str(ps, &it.f, &tmp);
			free(tmp);
		}
	}
}

static void walk_profile(struct pp_manifest_reader *ps, const struct field *f,
			 struct pp_profile_spec *p)
{
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	p->set = true;
	map_begin(ps, &it, f->n, &profile_schema);
	while (map_next(ps, &it))
		read_str(ps, &it.f, it.key == 0 ? &p->type : &p->localhost_profile);
}

static void walk_sysctls(struct pp_manifest_reader *ps, const struct field *f,
			 struct pp_security_spec *sc)
{
	struct seq_iter it;

	sc->sysctls = alloc_items(ps, f, sizeof(*sc->sysctls), &sc->n_sysctls);
	if (!sc->sysctls)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_kv *kv = &sc->sysctls[it.idx];
		struct map_iter m;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, &header_schema);
		while (map_next(ps, &m))
			read_str(ps, &m.f, m.key == KV_NAME ? &kv->name : &kv->value);
	}
}

/* spec.securityContext (<pod>) or a container's securityContext. */
static void walk_security(struct pp_manifest_reader *ps, const struct field *f,
			  struct pp_security_spec *sc, bool pod)
{
	struct map_iter it, caps;

	if (!want_map(ps, f))
		return;
	sc->set = true;
	map_begin(ps, &it, f->n, pod ? &pod_sc_schema : &container_sc_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case SC_RUN_AS_USER:
			sc->has_run_as_user = read_int64(ps, &it.f, &sc->run_as_user);
			break;
		case SC_RUN_AS_GROUP:
			sc->has_run_as_group = read_int64(ps, &it.f, &sc->run_as_group);
			break;
		case SC_RUN_AS_NON_ROOT:
			sc->has_run_as_non_root = !is_null(it.f.n);
			read_bool(ps, &it.f, &sc->run_as_non_root);
			break;
		case SC_SE_LINUX_OPTIONS:
			walk_opaque(ps, &it.f, &se_linux_schema, &sc->has_se_linux_options);
			break;
		case SC_WINDOWS_OPTIONS:
			walk_opaque(ps, &it.f, &windows_schema, &sc->has_windows_options);
			break;
		case SC_SECCOMP_PROFILE:
			walk_profile(ps, &it.f, &sc->seccomp);
			break;
		case SC_APP_ARMOR_PROFILE:
			walk_profile(ps, &it.f, &sc->app_armor);
			break;
		case SC_SUPPLEMENTAL_GROUPS:
			read_int64v(ps, &it.f, &sc->supplemental_groups, &sc->n_supplemental_groups,
				    INT64_MIN, INT64_MAX);
			break;
		case SC_SUPPLEMENTAL_GROUPS_POLICY:
			read_str(ps, &it.f, &sc->supplemental_groups_policy);
			break;
		case SC_FS_GROUP:
			sc->has_fs_group = read_int64(ps, &it.f, &sc->fs_group);
			break;
		case SC_FS_GROUP_CHANGE_POLICY:
			read_str(ps, &it.f, &sc->fs_group_change_policy);
			break;
		case SC_SYSCTLS:
			walk_sysctls(ps, &it.f, sc);
			break;
		case SC_SE_LINUX_CHANGE_POLICY:
			read_str(ps, &it.f, &sc->se_linux_change_policy);
			break;
		case SC_CAPABILITIES:
			if (!want_map(ps, &it.f))
				break;
			sc->has_capabilities = true;
			map_begin(ps, &caps, it.f.n, &capabilities_schema);
			while (map_next(ps, &caps))
				if (caps.key == 0)
					read_strv(ps, &caps.f, &sc->cap_add, &sc->n_cap_add);
				else
					read_strv(ps, &caps.f, &sc->cap_drop, &sc->n_cap_drop);
			break;
		case SC_PRIVILEGED:
			sc->has_privileged = !is_null(it.f.n);
			read_bool(ps, &it.f, &sc->privileged);
			break;
		case SC_ALLOW_PRIVILEGE_ESCALATION:
			sc->has_allow_privilege_escalation = !is_null(it.f.n);
			read_bool(ps, &it.f, &sc->allow_privilege_escalation);
			break;
		case SC_READ_ONLY_ROOT_FILESYSTEM:
			read_bool(ps, &it.f, &sc->read_only_root_fs);
			break;
		case SC_PROC_MOUNT:
			read_str(ps, &it.f, &sc->proc_mount);
			break;
		}
	}
}

/*
 * K: validation.go validatePullPolicy: the values are case-sensitive ("always" is refused).
 * Nothing is pulled here, so the value is only checked.
 */
static void read_pull_policy(struct pp_manifest_reader *ps, const struct field *f)
{
	char *policy = NULL;
	char q[QUOTE_MAX];

	read_str(ps, f, &policy);
	if (policy && *policy && strcmp(policy, "Always") && strcmp(policy, "IfNotPresent") &&
	    strcmp(policy, "Never"))
		error(ps, f->pos,
		      "Unsupported value: %s: supported values: \"Always\", \"IfNotPresent\", "
		      "\"Never\"",
		      pp_quote(q, sizeof(q), policy, strlen(policy)));
	free(policy);
}

static void walk_container(struct pp_manifest_reader *ps, const struct pp_ynode *map,
			   struct pp_container_spec *c)
{
	struct map_iter it, lc;

	map_begin(ps, &it, map, &container_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case CK_NAME:
			read_str(ps, &it.f, &c->name);
			break;
		case CK_IMAGE:
			read_str(ps, &it.f, &c->image);
			break;
		case CK_COMMAND:
			read_strv(ps, &it.f, &c->command, &c->n_command);
			break;
		case CK_ARGS:
			read_strv(ps, &it.f, &c->args, &c->n_args);
			break;
		case CK_ENV:
			walk_env(ps, &it.f, c);
			break;
		case CK_ENV_FROM:
			walk_env_from(ps, &it.f, c);
			break;
		case CK_WORKING_DIR:
			read_str(ps, &it.f, &c->working_dir);
			break;
		case CK_PORTS:
			walk_ports(ps, &it.f, c);
			break;
		case CK_VOLUME_MOUNTS:
			walk_mounts(ps, &it.f, c);
			break;
		case CK_LIFECYCLE:
			if (!want_map(ps, &it.f))
				break;
			map_begin(ps, &lc, it.f.n, &lifecycle_schema);
			while (map_next(ps, &lc))
				if (lc.key == LK_POST_START)
					walk_hook(ps, &lc.f, &c->post_start, &c->has_post_start);
				else
					walk_hook(ps, &lc.f, &c->pre_stop, &c->has_pre_stop);
			break;
		case CK_STARTUP_PROBE:
			walk_probe(ps, &it.f, &c->startup);
			break;
		case CK_LIVENESS_PROBE:
			walk_probe(ps, &it.f, &c->liveness);
			break;
		case CK_READINESS_PROBE:
			walk_probe(ps, &it.f, &c->readiness);
			break;
		case CK_RESTART_POLICY:
			read_str(ps, &it.f, &c->restart_policy);
			break;
		case CK_RESOURCES:
			walk_resources(ps, &it.f, c);
			break;
		case CK_SECURITY_CONTEXT:
			walk_security(ps, &it.f, &c->security, false);
			break;
		case CK_IMAGE_PULL_POLICY:
			read_pull_policy(ps, &it.f);
			break;
		}
	}
}

static void walk_containers(struct pp_manifest_reader *ps, const struct field *f, bool init,
			    struct pp_container_spec **ret, size_t *ret_n)
{
	struct pp_container_spec *cs;
	struct seq_iter it;
	size_t n = 0;

	cs = alloc_items(ps, f, sizeof(*cs), &n);
	if (!cs)
		return;
	*ret = cs;
	*ret_n = n;
	for (size_t i = 0; i < n; i++)
		cs[i].is_init = init;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_container_spec *c = &cs[it.idx];

		if (want_map(ps, &it.f))
			walk_container(ps, it.f.n, c);
		/* An init container with restartPolicy: Always is a sidecar (KEP-753). */
		c->sidecar = init && c->restart_policy && !strcmp(c->restart_policy, "Always");
	}
}

/* KeyToPath {key, path, mode} or DownwardAPIVolumeFile {path, fieldRef, resourceFieldRef, mode}. */
static void walk_vol_items(struct pp_manifest_reader *ps, const struct field *f, bool downward,
			   struct pp_vol_proj *p)
{
	static const char *const keys[] = {"key", "path", "mode", "fieldRef", "resourceFieldRef"};
	static const struct schema kp_schema = {keys, 3, NULL};
	static const struct schema dapi_schema = {keys + 1, 4, NULL};
	struct seq_iter it;

	p->items = alloc_items(ps, f, sizeof(*p->items), &p->n_items);
	if (!p->items)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_vol_item *item = &p->items[it.idx];
		struct map_iter m;

		if (!want_map(ps, &it.f))
			continue;
		map_begin(ps, &m, it.f.n, downward ? &dapi_schema : &kp_schema);
		while (map_next(ps, &m)) {
			int key = downward ? m.key + 1 : m.key;

			if (key == 0) {
				read_str(ps, &m.f, &item->key);
			} else if (key == 1) {
				read_str(ps, &m.f, &item->path);
			} else if (key == 2) {
				item->has_mode |= read_int32(ps, &m.f, &item->mode);
			} else if (item->ref.kind != PP_VALUE_NONE) {
				item->ref.kind = _PP_VALUE_MAX; /* both: validation says so */
			} else if (key == 3) {
				walk_field_ref(ps, &m.f, &item->ref);
			} else {
				walk_resource_ref(ps, &m.f, &item->ref);
			}
		}
	}
}

/*
 * A configMap / secret / downwardAPI source {name|secretName, items, optional, defaultMode}
 * into <p>; <v> takes defaultMode when it is a volume's own (not a projected source).
 */
static void walk_vol_source(struct pp_manifest_reader *ps, const struct field *f,
			    enum pp_proj_kind kind, struct pp_vol_proj *p, struct pp_volume *v)
{
	static const char *const keys[] = {"name", "items", "optional", "defaultMode"};
	static const char *const secret_keys[] = {"secretName", "items", "optional", "defaultMode"};
	static const struct schema cm_vol = {keys, 4, NULL}, cm_proj = {keys, 3, NULL};
	static const struct schema s_vol = {secret_keys, 4, NULL}, s_proj = {keys, 3, NULL};
	static const struct schema d_vol = {keys + 1, 3, NULL}, d_proj = {keys + 1, 1, NULL};
	const struct schema *schema;
	struct map_iter m;

	p->kind = kind;
	if (!want_map(ps, f))
		return;
	if (kind == PP_PROJ_DOWNWARD_API)
		schema = v ? &d_vol : &d_proj;
	else if (kind == PP_PROJ_SECRET)
		schema = v ? &s_vol : &s_proj;
	else
		schema = v ? &cm_vol : &cm_proj;
	map_begin(ps, &m, f->n, schema);
	while (map_next(ps, &m)) {
		const char *k = schema->keys[m.key];

		if (!strcmp(k, "items"))
			walk_vol_items(ps, &m.f, kind == PP_PROJ_DOWNWARD_API, p);
		else if (!strcmp(k, "optional"))
			read_bool(ps, &m.f, &p->optional);
		else if (!strcmp(k, "defaultMode"))
			v->has_default_mode |= read_int32(ps, &m.f, &v->default_mode);
		else
			read_str(ps, &m.f, &p->name);
	}
}

/* projected {sources, defaultMode}. */
static void walk_projected(struct pp_manifest_reader *ps, const struct field *f,
			   struct pp_volume *v)
{
	static const char *const keys[] = {"sources", "defaultMode"};
	static const char *const src_keys[] = {"configMap", "secret", "downwardAPI",
					       "serviceAccountToken"};
	static const char *const src_other[] = {"clusterTrustBundle", "podCertificate", NULL};
	static const char *const sat_keys[] = {"audience", "expirationSeconds", "path"};
	static const struct schema schema = {keys, N_KEYS(keys), NULL};
	static const struct schema src_schema = {src_keys, N_KEYS(src_keys), src_other};
	static const struct schema sat_schema = {sat_keys, N_KEYS(sat_keys), NULL};
	struct map_iter m, sm, tm;
	struct seq_iter it;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &m, f->n, &schema);
	while (map_next(ps, &m)) {
		if (m.key == 1) {
			v->has_default_mode |= read_int32(ps, &m.f, &v->default_mode);
			continue;
		}
		v->proj = alloc_items(ps, &m.f, sizeof(*v->proj), &v->n_proj);
		if (!v->proj)
			continue;
		seq_begin(ps, &it, m.f.n);
		while (seq_next(ps, &it)) {
			struct pp_vol_proj *p = &v->proj[it.idx];

			p->kind = _PP_PROJ_MAX; /* no source: validation says so */
			if (!want_map(ps, &it.f))
				continue;
			/* Unknown-but-listed sources: what the key was, for the warning. */
			for (uint32_t k = 0; k + 1 < it.f.n->n_kids; k += 2) {
				const struct pp_ynode *key = node_at(ps, it.f.n->kids[k]);

				if (in_list(src_other, key) && !p->source) {
					p->kind = PP_PROJ_OTHER;
					p->source = copy_text(ps, key, it.f.pos);
				}
			}
			map_begin(ps, &sm, it.f.n, &src_schema);
			while (map_next(ps, &sm)) {
				int64_t exp;
				char *aud = NULL;

				if (sm.key < 3) {
					walk_vol_source(ps, &sm.f, (enum pp_proj_kind)sm.key, p,
							NULL);
					continue;
				}
				p->kind = PP_PROJ_SA_TOKEN;
				free(p->source);
				p->source = strdup("serviceAccountToken");
				if (!p->source)
					nomem(ps);
				if (!want_map(ps, &sm.f))
					continue;
				map_begin(ps, &tm, sm.f.n, &sat_schema);
				while (map_next(ps, &tm)) {
					if (tm.key == 1) {
						read_int64(ps, &tm.f, &exp);
					} else if (tm.key == 2) {
						read_str(ps, &tm.f, &p->token_path);
					} else {
						read_str(ps, &tm.f, &aud);
						free(aud);
						aud = NULL;
					}
				}
			}
		}
	}
}

static void walk_host_path(struct pp_manifest_reader *ps, const struct field *f,
			   struct pp_volume *v)
{
	static const char *const keys[] = {"path", "type"};
	static const struct schema schema = {keys, N_KEYS(keys), NULL};
	struct map_iter m;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &m, f->n, &schema);
	while (map_next(ps, &m))
		read_str(ps, &m.f, m.key == 0 ? &v->host_path : &v->host_type);
}

static void walk_claim(struct pp_manifest_reader *ps, const struct field *f, struct pp_volume *v)
{
	static const char *const keys[] = {"claimName", "readOnly"};
	static const struct schema schema = {keys, N_KEYS(keys), NULL};
	struct map_iter m;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &m, f->n, &schema);
	while (map_next(ps, &m))
		if (m.key == 0)
			read_str(ps, &m.f, &v->claim_name);
		else
			read_bool(ps, &m.f, &v->claim_read_only);
}

static void walk_volumes(struct pp_manifest_reader *ps, const struct field *f, struct pp_pod *pod)
{
	struct seq_iter it;

	pod->volumes = alloc_items(ps, f, sizeof(*pod->volumes), &pod->n_volumes);
	if (!pod->volumes)
		return;
	seq_begin(ps, &it, f->n);
	while (seq_next(ps, &it)) {
		struct pp_volume *v = &pod->volumes[it.idx];
		struct map_iter m, ed;
		bool other = false;

		if (!want_map(ps, &it.f))
			continue;
		for (uint32_t k = 0; k + 1 < it.f.n->n_kids; k += 2) {
			const struct pp_ynode *key = node_at(ps, it.f.n->kids[k]);

			if (!in_list(volume_sources, key) ||
			    is_null(node_at(ps, it.f.n->kids[k + 1])))
				continue;
			v->n_sources++;
			if (!other) {
				other = true;
				free(v->source);
				v->source = copy_text(ps, key, it.f.pos);
			}
		}
		map_begin(ps, &m, it.f.n, &volume_schema);
		while (map_next(ps, &m)) {
			enum pp_volume_kind kind = PP_VOL_EMPTY_DIR;

			if (m.key == VK_NAME) {
				read_str(ps, &m.f, &v->name);
				continue;
			}
			if (is_null(m.f.n))
				continue;
			v->n_sources++;
			/* The first source decides; validation rejects a second one. */
			if (v->n_sources > 1 || other)
				continue;
			free(v->source);
			v->source = copy_text(ps, m.key_node, m.f.pos);
			switch (m.key) {
			case VK_EMPTY_DIR:
				if (want_map(ps, &m.f)) {
					map_begin(ps, &ed, m.f.n, &empty_dir_schema);
					while (map_next(ps, &ed))
						;
				}
				break;
			case VK_HOST_PATH:
				kind = PP_VOL_HOST_PATH;
				walk_host_path(ps, &m.f, v);
				break;
			case VK_PVC:
				kind = PP_VOL_PVC;
				walk_claim(ps, &m.f, v);
				break;
			case VK_PROJECTED:
				kind = PP_VOL_PROJECTED;
				walk_projected(ps, &m.f, v);
				break;
			default:
				kind = m.key == VK_CONFIG_MAP ? PP_VOL_CONFIG_MAP
				       : m.key == VK_SECRET   ? PP_VOL_SECRET
							      : PP_VOL_DOWNWARD_API;
				v->proj = calloc(1, sizeof(*v->proj));
				if (!v->proj) {
					nomem(ps);
					break;
				}
				v->n_proj = 1;
				walk_vol_source(ps, &m.f,
						kind == PP_VOL_CONFIG_MAP ? PP_PROJ_CONFIG_MAP
						: kind == PP_VOL_SECRET	  ? PP_PROJ_SECRET
									  : PP_PROJ_DOWNWARD_API,
						v->proj, v);
				break;
			}
			v->kind = kind;
		}
		if (other)
			v->kind = PP_VOL_UNSUPPORTED;
		/* Kubernetes defaults a volume without a source to emptyDir. */
		v->empty_dir = v->kind == PP_VOL_EMPTY_DIR;
	}
}

static void walk_spec(struct pp_manifest_reader *ps, const struct field *f, struct pp_pod *pod)
{
	static const char *const policies[_PP_RESTART_MAX] = {
		[PP_RESTART_ALWAYS] = "Always",
		[PP_RESTART_ON_FAILURE] = "OnFailure",
		[PP_RESTART_NEVER] = "Never",
	};
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &it, f->n, &spec_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case SK_RESTART_POLICY:
			read_str(ps, &it.f, &pod->restart_policy_raw);
			/* An unsupported value stays Always here; validation rejects it. */
			for (int i = 0; pod->restart_policy_raw && i < _PP_RESTART_MAX; i++)
				if (!strcmp(pod->restart_policy_raw, policies[i]))
					pod->restart_policy = (enum pp_restart_policy)i;
			break;
		case SK_GRACE:
			read_int64(ps, &it.f, &pod->termination_grace_s);
			break;
		case SK_ACTIVE_DEADLINE:
			pod->has_active_deadline = read_int64(ps, &it.f, &pod->active_deadline_s);
			break;
		case SK_INIT_CONTAINERS:
			walk_containers(ps, &it.f, true, &pod->init_containers,
					&pod->n_init_containers);
			break;
		case SK_CONTAINERS:
			walk_containers(ps, &it.f, false, &pod->containers, &pod->n_containers);
			break;
		case SK_VOLUMES:
			walk_volumes(ps, &it.f, pod);
			break;
		case SK_SECURITY_CONTEXT:
			walk_security(ps, &it.f, &pod->security, true);
			break;
		case SK_SERVICE_ACCOUNT_NAME:
			read_str(ps, &it.f, &pod->service_account);
			break;
		case SK_SERVICE_ACCOUNT: {
			/* The deprecated alias fills serviceAccountName when that is empty. */
			char *alias = NULL;

			read_str(ps, &it.f, &alias);
			if (alias && (!pod->service_account || !*pod->service_account)) {
				free(pod->service_account);
				pod->service_account = alias;
			} else {
				free(alias);
			}
			break;
		}
		}
	}
}

/*
 * metadata.generateName without a name: the API server's SimpleNameGenerator
 * (apiserver/pkg/storage/names/generate.go): the prefix, cut to 58 characters, then 5
 * random characters of utilrand.String's alphabet.
 */
static void generate_name(struct pp_manifest_reader *ps, struct pp_pod *pod, const char *prefix)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char rnd[5];
	size_t n = strnlen(prefix, 58);
	char *name;

	if (!ps->fill_random || !ps->fill_random(rnd, sizeof(rnd)))
		for (size_t i = 0; i < sizeof(rnd); i++) /* entropy is not the point here */
			rnd[i] = (unsigned char)(ps->digest >> (8 * i));
	name = malloc(n + sizeof(rnd) + 1);
	if (!name)
		return nomem(ps);
	memcpy(name, prefix, n);
	for (size_t i = 0; i < sizeof(rnd); i++)
		name[n + i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	name[n + sizeof(rnd)] = '\0';
	free(pod->name);
	pod->name = name;
	pod->name_generated = true;
}

static void walk_metadata(struct pp_manifest_reader *ps, const struct field *f, struct pp_pod *pod)
{
	char *gen = NULL;
	struct map_iter it;

	if (!want_map(ps, f))
		return;
	map_begin(ps, &it, f->n, &metadata_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case MD_NAME:
			read_str(ps, &it.f, &pod->name);
			break;
		case MD_NAMESPACE:
			read_str(ps, &it.f, &pod->namespace);
			break;
		case MD_UID:
			read_str(ps, &it.f, &pod->uid);
			break;
		case MD_ANNOTATIONS:
			walk_string_map(ps, &it.f, &pod->annotations, &pod->n_annotations);
			break;
		case MD_LABELS:
			walk_string_map(ps, &it.f, &pod->labels, &pod->n_labels);
			break;
		case MD_GENERATE_NAME:
			read_str(ps, &it.f, &gen);
			break;
		}
	}
	if (gen && *gen && (!pod->name || !*pod->name))
		generate_name(ps, pod, gen);
	free(gen);
}

static void walk_pod(struct pp_manifest_reader *ps, const struct pp_ynode *root, struct pp_pod *pod)
{
	struct map_iter it;

	map_begin(ps, &it, root, &pod_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case POD_API_VERSION:
			read_str(ps, &it.f, &pod->api_version);
			break;
		case POD_KIND:
			read_str(ps, &it.f, &pod->kind);
			break;
		case POD_METADATA:
			walk_metadata(ps, &it.f, pod);
			break;
		case POD_SPEC:
			walk_spec(ps, &it.f, pod);
			break;
		}
	}
}

/* ---- documents ----------------------------------------------------------------------------- */

/* The first pair of <root> with key <name>: its key node into *<ret_key>, or false. */
static bool top_field(struct pp_manifest_reader *ps, const struct pp_ynode *root, const char *name,
		      const struct pp_ynode **ret_key, struct field *ret)
{
	for (uint32_t i = 0; i + 1 < root->n_kids; i += 2) {
		const struct pp_ynode *k = node_at(ps, root->kids[i]);

		if (k->type == PP_YNODE_SCALAR && key_is(k, name)) {
			*ret_key = k;
			*ret = (struct field){.n = node_at(ps, root->kids[i + 1]), .pos = k->pos};
			return true;
		}
	}
	return false;
}

static bool is_string(const struct pp_ynode *n)
{
	return n->type == PP_YNODE_SCALAR && n->stype == PP_YAML_STR && !memchr(n->text, 0, n->len);
}

enum doc_kind {
	DOC_SKIP = 0, /* empty, refused or skipped */
	DOC_POD,
	DOC_CONFIG,
	_DOC_MAX,
};

/*
 * Decide what the document is before reading it. A v1 Pod is read; v1 ConfigMaps and
 * Secrets are kept for the pods' volumes and env; any other kind (Service, Deployment, ...)
 * is skipped with a warning naming it, so that files mixing kinds still load. Empty
 * documents are skipped.
 */
static enum doc_kind document_kind(struct pp_manifest_reader *ps, const struct pp_ynode *root)
{
	const struct pp_ynode *kind_key, *api_key;
	struct field kind, api;
	char q1[QUOTE_MAX], q2[QUOTE_MAX];
	bool kind_ok;

	if (is_null(root))
		return DOC_SKIP;
	if (root->type != PP_YNODE_MAPPING) {
		error_at(ps, root->pos, "", "a Pod manifest must be a mapping, got %s",
			 describe(root, q1, sizeof(q1)));
		return DOC_SKIP;
	}
	if (!top_field(ps, root, "kind", &kind_key, &kind)) {
		error_at(ps, root->pos, "kind", "Required value");
		return DOC_SKIP;
	}
	if (!top_field(ps, root, "apiVersion", &api_key, &api)) {
		error_at(ps, root->pos, "apiVersion", "Required value");
		return DOC_SKIP;
	}
	if (!is_string(kind.n) || !is_string(api.n)) {
		bool bad_kind = !is_string(kind.n);

		error_at(ps, bad_kind ? kind.pos : api.pos, bad_kind ? "kind" : "apiVersion",
			 "must be a string, got %s",
			 describe(bad_kind ? kind.n : api.n, q1, sizeof(q1)));
		return DOC_SKIP;
	}
	kind_ok = !strcmp(kind.n->text, "Pod");
	if (kind_ok && strcmp(api.n->text, "v1")) {
		error_at(ps, api.pos, "apiVersion",
			 "unsupported kind %s in version %s: only kind \"Pod\" in version \"v1\" "
			 "is supported",
			 pp_quote(q1, sizeof(q1), kind.n->text, kind.n->len),
			 pp_quote(q2, sizeof(q2), api.n->text, api.n->len));
		return DOC_SKIP;
	}
	if (kind_ok)
		return DOC_POD;
	if (!strcmp(api.n->text, "v1") &&
	    (!strcmp(kind.n->text, "ConfigMap") || !strcmp(kind.n->text, "Secret")))
		return DOC_CONFIG;
	report_at(ps, PP_DIAG_WARNING, kind.pos, "kind",
		  "skipping kind %s in version %s: podprobe runs Pods and reads ConfigMaps and "
		  "Secrets only",
		  pp_quote(q1, sizeof(q1), kind.n->text, kind.n->len),
		  pp_quote(q2, sizeof(q2), api.n->text, api.n->len));
	return DOC_SKIP;
}

enum config_key {
	CFG_API_VERSION = 0,
	CFG_KIND,
	CFG_METADATA,
	CFG_DATA,
	CFG_BINARY_DATA,
	CFG_STRING_DATA,
	CFG_TYPE,
	CFG_IMMUTABLE,
	_CFG_MAX,
};

static const char *const config_keys[_CFG_MAX] = {
	[CFG_API_VERSION] = "apiVersion",
	[CFG_KIND] = "kind",
	[CFG_METADATA] = "metadata",
	[CFG_DATA] = "data",
	[CFG_BINARY_DATA] = "binaryData",
	[CFG_STRING_DATA] = "stringData",
	[CFG_TYPE] = "type",
	[CFG_IMMUTABLE] = "immutable",
};
static const char *const config_ignored[] = {"status", NULL};
static const struct schema config_schema = {config_keys, N_KEYS(config_keys), config_ignored};
/* name and namespace are kept; labels, annotations and uid are not needed yet. */
static const char *const config_md_keys[] = {"name", "namespace", "labels", "annotations", "uid"};
static const struct schema config_md_schema = {config_md_keys, N_KEYS(config_md_keys),
					       metadata_ignored};

static void free_kvs(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static void config_obj_clear(struct pp_config_obj *o)
{
	free(o->file);
	free(o->name);
	free(o->namespace);
	free(o->type);
	free_kvs(o->data, o->n_data);
	free_kvs(o->b64, o->n_b64);
	*o = (struct pp_config_obj){0};
}

void pp_config_list_free(struct pp_config_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		config_obj_clear(&list->items[i]);
	free(list->items);
	*list = (struct pp_config_list){0};
}

static int config_list_push(struct pp_config_list *list, struct pp_config_obj *o)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		struct pp_config_obj *items = realloc(list->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		list->items = items;
		list->cap = cap;
	}
	list->items[list->n++] = *o;
	return 0;
}

/*
 * A ConfigMap or Secret onto ps->configs (when kept), values as written. The walk records
 * fields into a scratch pod: its bookkeeping needs one.
 */
static void finish_config(struct pp_manifest_reader *ps, const struct pp_ynode *root)
{
	struct pp_config_obj o = {.pos = root->pos};
	const struct pp_ynode *kind_key;
	struct map_iter it, md;
	struct field kind;
	struct pp_pod *sink;
	bool secret;

	if (!ps->configs)
		return;
	secret = top_field(ps, root, "kind", &kind_key, &kind) && key_is(kind.n, "Secret");
	o.kind = secret ? PP_CONFIG_SECRET : PP_CONFIG_MAP;
	sink = calloc(1, sizeof(*sink));
	if (!sink)
		return nomem(ps);
	ps->pod = sink;
	ps->fields_cap = 0;
	path_truncate(ps, 0);
	map_begin(ps, &it, root, &config_schema);
	while (map_next(ps, &it)) {
		switch (it.key) {
		case CFG_METADATA:
			if (!want_map(ps, &it.f))
				break;
			map_begin(ps, &md, it.f.n, &config_md_schema);
			while (map_next(ps, &md))
				if (md.key <= 1)
					read_str(ps, &md.f, md.key == 0 ? &o.name : &o.namespace);
			break;
		case CFG_DATA:
			if (secret)
				walk_string_map(ps, &it.f, &o.b64, &o.n_b64);
			else
				walk_string_map(ps, &it.f, &o.data, &o.n_data);
			break;
		case CFG_BINARY_DATA:
		case CFG_STRING_DATA:
			if ((it.key == CFG_STRING_DATA) != secret)
				warning(ps, it.f.pos, "not a field of %s, ignoring",
					secret ? "Secret" : "ConfigMap");
			else if (secret)
				walk_string_map(ps, &it.f, &o.data, &o.n_data);
			else
				walk_string_map(ps, &it.f, &o.b64, &o.n_b64);
			break;
		case CFG_TYPE:
			read_str(ps, &it.f, &o.type);
			break;
		case CFG_IMMUTABLE:
			read_bool(ps, &it.f, &o.immutable);
			break;
		default:
			break;
		}
	}
	ps->pod = NULL;
	pp_pod_free(sink);
	o.file = strdup(ps->file);
	if (!o.namespace || !*o.namespace) {
		free(o.namespace);
		o.namespace = strdup("default");
	}
	if (!o.file || !o.namespace || (!ps->err && config_list_push(ps->configs, &o)))
		nomem(ps);
	if (ps->err)
		config_obj_clear(&o);
}

/* Turn the finished document into a pod on ps->pods, if it is one. */
static void finish_document(struct pp_manifest_reader *ps, unsigned int doc_index, size_t doc_end)
{
	const struct pp_ynode *root;
	struct pp_pod *pod;

	if (!ps->doc.has_root)
		return;
	root = node_at(ps, ps->doc.root);
	switch (document_kind(ps, root)) {
	case DOC_POD:
		break;
	case DOC_CONFIG:
		return finish_config(ps, root);
	default:
		return;
	}
	pod = calloc(1, sizeof(*pod));
	if (!pod || !(pod->file = strdup(ps->file))) {
		free(pod);
		return nomem(ps);
	}
	pod->doc_index = doc_index;
	pod->pos = root->pos;
	snprintf(pod->digest, sizeof(pod->digest), "fnv1a64:%016llx",
		 (unsigned long long)ps->digest);
	if (ps->buf && doc_end > ps->doc_start && doc_end <= ps->len) {
		pod->source_len = doc_end - ps->doc_start;
		pod->source = malloc(pod->source_len + 1);
		if (!pod->source) {
			pp_pod_free(pod);
			return nomem(ps);
		}
		memcpy(pod->source, ps->buf + ps->doc_start, pod->source_len);
		pod->source[pod->source_len] = '\0';
	}
	pod->restart_policy = PP_RESTART_ALWAYS;
	pod->termination_grace_s = PP_DEFAULT_GRACE_S;

	ps->pod = pod;
	ps->fields_cap = 0;
	path_truncate(ps, 0);
	walk_pod(ps, root, pod);
	ps->pod = NULL;

	/* The registry's PrepareForCreate (pkg/registry/core/pod/strategy.go) makes a negative
	 * terminationGracePeriodSeconds 1: validation accepts it, the stored pod has 1. */
	if (pod->termination_grace_s < 0)
		pod->termination_grace_s = 1;
	if (!ps->err && (!pod->namespace || !*pod->namespace)) {
		free(pod->namespace);
		pod->namespace = strdup("default");
		if (!pod->namespace)
			nomem(ps);
	}
	if (ps->err) {
		pp_pod_free(pod);
		return;
	}
	/* Pods with errors are kept too: the caller looks at the error count. */
	if (pp_pod_list_push(ps->pods, pod))
		nomem(ps);
}

/* ---- the reader ----------------------------------------------------------------------------- */

void pp_manifest_reader_init(struct pp_manifest_reader *ps, const char *file, const char *buf,
			     size_t len, struct pp_pod_list *pods, struct pp_config_list *configs,
			     struct pp_diag_list *diags)
{
	*ps = (struct pp_manifest_reader){
		.file = file ? file : "",
		.buf = buf,
		.len = len,
		.diags = diags,
		.pods = pods,
		.configs = configs,
		.visits_left = MAX_VISITS,
		.bytes_left = MAX_COPY_BYTES,
		.file_diags_left = MAX_FILE_DIAGS,
		.file_visits_left = MAX_VISITS + len / FILE_VISITS_PER_BYTE,
		.file_bytes_left = MAX_COPY_BYTES + (size_t)FILE_COPY_PER_BYTE * len,
	};
}

void pp_manifest_reader_end_document(struct pp_manifest_reader *ps, unsigned int doc_index,
				     size_t doc_end)
{
	finish_document(ps, doc_index, doc_end);
	pp_ydoc_free(&ps->doc);
	/* The next document has budgets of its own (the buffer's still apply). */
	ps->visits_left = MAX_VISITS;
	ps->bytes_left = MAX_COPY_BYTES;
	if (ps->n_diags <= MAX_DIAGS)
		ps->n_diags = 0;
}

void pp_manifest_reader_release(struct pp_manifest_reader *ps)
{
	pp_ydoc_free(&ps->doc);
	free(ps->path);
	ps->path = NULL;
	ps->path_len = ps->path_cap = 0;
}

void pp_manifest_report(struct pp_manifest_reader *ps, enum pp_diag_severity sev,
			struct pp_src_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ps, sev, pos, ps->path ? ps->path : "", fmt, ap);
	va_end(ap);
}

void pp_manifest_error_at(struct pp_manifest_reader *ps, struct pp_src_pos pos, const char *path,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ps, PP_DIAG_ERROR, pos, path, fmt, ap);
	va_end(ap);
}
