// SPDX-License-Identifier: Apache-2.0
/*
 * Go's text/tabwriter (src/text/tabwriter/tabwriter.go: Write, format, writeLines,
 * writePadding) for a text already complete, and cli-runtime's printTable on top of it, so
 * `podprobe get` lines up byte for byte with `kubectl get`.
 */
#include "podprobe/tabwriter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string buffer ----------------------------------------------------------------------- */

/* Room for <n> more bytes and the NUL; false (and b->err set) when there is none. */
static bool reserve(struct pp_strbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return false;
	if (b->len + n + 1 <= b->cap && b->p)
		return true;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return false;
	}
	for (cap = b->cap ? b->cap : 256; cap < b->len + n + 1;)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void pp_strbuf_add(struct pp_strbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void pp_strbuf_adds(struct pp_strbuf *b, const char *s)
{
	pp_strbuf_add(b, s, strlen(s));
}

void pp_strbuf_addc(struct pp_strbuf *b, char c)
{
	pp_strbuf_add(b, &c, 1);
}

void pp_strbuf_addn(struct pp_strbuf *b, char c, size_t n)
{
	if (!reserve(b, n))
		return;
	memset(b->p + b->len, c, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void pp_strbuf_addf(struct pp_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!b->err)
			b->err = -ENOMEM;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void pp_strbuf_fini(struct pp_strbuf *b)
{
	if (!b)
		return;
	free(b->p);
	*b = (struct pp_strbuf){0};
}

/* ---- text/tabwriter ---------------------------------------------------------------------- */

struct tw_cell {
	const char *s;
	size_t size;  /* bytes */
	size_t width; /* runes */
};

struct tw_line {
	struct tw_cell *cells;
	size_t n;
};

struct tw {
	struct pp_strbuf *out;
	const struct pp_tabwriter_cfg *cfg;
	struct tw_line *lines;
	size_t n_lines;
	size_t *widths; /* the stack of column widths format() pushes */
	size_t n_widths;
};

/*
 * Go's utf8.RuneCount: a well-formed sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF) is one rune, and so is each byte that does not start one.
 */
static size_t rune_count(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t count = 0, i = 0;

	while (i < n) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;
		size_t len = c < 0x80	? 1
			     : c < 0xc2 ? 0
			     : c < 0xe0 ? 2
			     : c < 0xf0 ? 3
			     : c < 0xf5 ? 4
					: 0;
		size_t k = 1;

		count++;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len > 1 && i + len <= n && s[i + 1] >= lo && s[i + 1] <= hi)
			for (k = 2; k < len && s[i + k] >= 0x80 && s[i + k] <= 0xbf; k++)
				;
		i += len > 1 && k == len ? len : 1;
	}
	return count;
}

/* writePadding: from <textw> up to <cellw>. */
static void tw_pad(struct tw *t, size_t textw, size_t cellw)
{
	size_t tab = t->cfg->tabwidth;

	if (t->cfg->padchar != '\t') {
		pp_strbuf_addn(t->out, t->cfg->padchar, cellw - textw);
		return;
	}
	if (!tab)
		return; /* tabs have no width: no padding can be done */
	cellw = (cellw + tab - 1) / tab * tab;
	pp_strbuf_addn(t->out, '\t', (cellw - textw + tab - 1) / tab);
}

static void tw_write_lines(struct tw *t, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct tw_line *l = &t->lines[i];

		for (size_t j = 0; j < l->n; j++) {
			const struct tw_cell *c = &l->cells[j];

			pp_strbuf_add(t->out, c->s, c->size);
			if (j < t->n_widths)
				tw_pad(t, c->width, t->widths[j]);
		}
		if (i + 1 < t->n_lines)
			pp_strbuf_addc(t->out, '\n');
	}
}

/* format(): the lines [line0, line1) with the widths of the columns left of them known. */
static void tw_format(struct tw *t, size_t line0, size_t line1)
{
	size_t column = t->n_widths;

	for (size_t this = line0; this < line1; this ++) {
		size_t width = t->cfg->minwidth;

		if (column + 1 >= t->lines[this].n)
			continue;
		/* a cell in this column: a block begins; the lines before it are done */
		tw_write_lines(t, line0, this);
		line0 = this;
		for (; this < line1; this ++) {
			const struct tw_line *l = &t->lines[this];

			if (column + 1 >= l->n)
				break;
			if (l->cells[column].width + t->cfg->padding > width)
				width = l->cells[column].width + t->cfg->padding;
		}
		t->widths[t->n_widths++] = width;
		tw_format(t, line0, this);
		t->n_widths--;
		line0 = this;
	}
	tw_write_lines(t, line0, line1);
}

/* One flush: <text> holds no '\f' but maybe as its last byte, which then ends a line. */
static int tw_block(struct pp_strbuf *out, const char *text, size_t len,
		    const struct pp_tabwriter_cfg *cfg)
{
	struct tw t = {.out = out, .cfg = cfg};
	size_t n_lines = 1, n_cells = 1, max_cells = 0;
	const char *p = text, *end = text + len;
	struct tw_cell *cells;
	int err = 0;

	for (size_t i = 0; i < len; i++) {
		n_lines += text[i] == '\n' || text[i] == '\f';
		n_cells += text[i] == '\n' || text[i] == '\f' || text[i] == '\t' || text[i] == '\v';
	}
	t.lines = calloc(n_lines, sizeof(*t.lines));
	cells = calloc(n_cells, sizeof(*cells));
	if (!t.lines || !cells) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, k = 0; i < n_lines; i++) {
		struct tw_line *l = &t.lines[i];

		l->cells = &cells[k];
		for (;;) {
			const char *e = p;

			while (e < end && *e != '\t' && *e != '\v' && *e != '\n' && *e != '\f')
				e++;
			cells[k++] = (struct tw_cell){p, (size_t)(e - p),
						      rune_count(p, (size_t)(e - p))};
			l->n++;
			p = e < end ? e + 1 : e;
			if (e == end || *e == '\n' || *e == '\f')
				break;
		}
		if (l->n > max_cells)
			max_cells = l->n;
	}
	t.n_lines = n_lines;
	t.widths = calloc(max_cells + 1, sizeof(*t.widths));
	if (!t.widths) {
		err = -ENOMEM;
		goto out;
	}
	tw_format(&t, 0, n_lines);
out:
	free(t.widths);
	free(cells);
	free(t.lines);
	return err;
}

int pp_tabwriter_format(struct pp_strbuf *out, const char *text, size_t len,
			const struct pp_tabwriter_cfg *cfg)
{
	const char *p = text, *end = text + len;
	int err;

	/* Write: a '\f' forces a flush, so the columns before it end there. */
	do {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		size_t n = ff ? (size_t)(ff - p) + 1 : (size_t)(end - p);

		err = tw_block(out, p, n, cfg);
		p += n;
	} while (!err && p < end);
	if (err < 0 && !out->err)
		out->err = err;
	return out->err;
}

/* ---- kubectl get ------------------------------------------------------------------------- */

static void put_cell(struct pp_strbuf *w, json_t *cell)
{
	const char *s;
	size_t n;

	if (json_is_integer(cell)) {
		pp_strbuf_addf(w, "%lld", (long long)json_integer_value(cell));
		return;
	}
	if (json_is_real(cell)) {
		pp_strbuf_addf(w, "%g", json_real_value(cell));
		return;
	}
	if (json_is_true(cell) || json_is_false(cell)) {
		pp_strbuf_adds(w, json_is_true(cell) ? "true" : "false");
		return;
	}
	s = json_string_value(cell);
	if (!s)
		return;
	/* printTable: cut at the first line break (tabwriter treats '\f' as one), marked "..." */
	n = strcspn(s, "\f\n\r");
	for (size_t i = 0; i < n; i++)
		pp_strbuf_addc(w, s[i] == '\t' ? ' ' : s[i]);
	if (s[n])
		pp_strbuf_adds(w, "...");
}

static bool shown(json_t *col, bool wide)
{
	return wide || json_integer_value(json_object_get(col, "priority")) == 0;
}

int pp_tabwriter_get_table(struct pp_strbuf *out, json_t *table, bool wide, bool namespace)
{
	json_t *cols = json_object_get(table, "columnDefinitions");
	json_t *rows = json_object_get(table, "rows");
	size_t n_cols = json_array_size(cols);
	struct pp_strbuf w = {0};
	bool first = true;
	int err;

	if (!json_is_array(cols) || !json_is_array(rows))
		return -EINVAL;
	if (!json_array_size(rows))
		return 0;
	/* cli-runtime printers/tableprinter.go printTable: the header, then a line per row */
	if (namespace) {
		pp_strbuf_adds(&w, "NAMESPACE");
		first = false;
	}
	for (size_t i = 0; i < n_cols; i++) {
		json_t *c = json_array_get(cols, i);
		const char *name = json_string_value(json_object_get(c, "name"));

		if (!shown(c, wide))
			continue;
		if (!first)
			pp_strbuf_addc(&w, '\t');
		first = false;
		for (const char *p = name ? name : ""; *p; p++)
			pp_strbuf_addc(&w, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	}
	pp_strbuf_addc(&w, '\n');
	for (size_t r = 0; r < json_array_size(rows); r++) {
		json_t *row = json_array_get(rows, r);
		json_t *cells = json_object_get(row, "cells");

		first = true;
		if (namespace) {
			json_t *md = json_object_get(json_object_get(row, "object"), "metadata");
			const char *ns = json_string_value(json_object_get(md, "namespace"));

			pp_strbuf_adds(&w, ns ? ns : "");
			first = false;
		}
		for (size_t i = 0; i < json_array_size(cells) && i < n_cols; i++) {
			if (!shown(json_array_get(cols, i), wide))
				continue;
			if (!first)
				pp_strbuf_addc(&w, '\t');
			first = false;
			put_cell(&w, json_array_get(cells, i));
		}
		pp_strbuf_addc(&w, '\n');
	}
	err = w.err;
	if (!err) {
		struct pp_tabwriter_cfg cfg = PP_TABWRITER_KUBECTL_GET;

		err = pp_tabwriter_format(out, w.p, w.len, &cfg);
	} else if (!out->err) {
		out->err = err;
	}
	pp_strbuf_fini(&w);
	return err < 0 ? err : (int)json_array_size(rows);
}
