/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text that kubectl lays out, pure: a growing string buffer, a port of Go's text/tabwriter
 * (elastic tabstops) writing into it, and the meta.k8s.io/v1 Table as `kubectl get` prints
 * it. Nothing here writes to a file: the caller prints the buffer.
 */
#ifndef PODPROBE_TABWRITER_H
#define PODPROBE_TABWRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A NUL-terminated string that grows as text is added. Zero-initialise it; the first failed
 * allocation sets <err> to -ENOMEM and every later addition is dropped, so a caller checks
 * once at the end. Release with pp_strbuf_fini().
 */
struct pp_strbuf {
	char *p;    /* the text, NUL-terminated; NULL while empty */
	size_t len; /* bytes of text, without the NUL */
	size_t cap; /* bytes allocated at <p> */
	int err;    /* 0, or -ENOMEM once an addition failed */
};

/* Append <n> bytes at <s> to <b>. */
void pp_strbuf_add(struct pp_strbuf *b, const char *s, size_t n);

/* Append the string <s>. */
void pp_strbuf_adds(struct pp_strbuf *b, const char *s);

/* Append the byte <c>. */
void pp_strbuf_addc(struct pp_strbuf *b, char c);

/* Append <c> <n> times. */
void pp_strbuf_addn(struct pp_strbuf *b, char c, size_t n);

/* Append what snprintf(<fmt>, ...) makes. */
void pp_strbuf_addf(struct pp_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Release <b>'s text and zero it (NULL and a zeroed one are fine). */
void pp_strbuf_fini(struct pp_strbuf *b);

/* The parameters of Go's tabwriter.Writer.Init, flags 0. */
struct pp_tabwriter_cfg {
	size_t minwidth; /* minimal cell width, padding included */
	size_t tabwidth; /* width of a '\t' in the output; used only when padchar is '\t' */
	size_t padding;	 /* added to a cell's width before the column's width is taken */
	char padchar;	 /* ' ', or '\t': padding with tabs, tabwidth columns each */
};

/* cli-runtime printers/tabwriter.go GetNewTabWriter: what `kubectl get` uses. */
#define PP_TABWRITER_KUBECTL_GET ((struct pp_tabwriter_cfg){6, 4, 3, ' '})
/* kubectl describe/describe.go tabbedString: what `kubectl describe` uses. */
#define PP_TABWRITER_KUBECTL_DESCRIBE ((struct pp_tabwriter_cfg){0, 8, 2, ' '})

/*
 * Append <text> (<len> bytes, complete: as Go's Write(text) then Flush()) laid out in columns
 * under <cfg> to <out>. Cells end at '\t' or '\v'; lines at '\n', or at '\f', which also ends
 * every column block and is written as '\n'. The last cell of a line belongs to no column. A
 * column is as wide as its widest cell plus <padding>, at least <minwidth>, over each block of
 * consecutive lines that have it. Widths count runes as Go's utf8.RuneCount does (a byte of a
 * malformed sequence is one). The Escape byte 0xff gets no special meaning (it cannot occur in
 * valid UTF-8). Returns 0, or -ENOMEM (then also in out->err).
 */
int pp_tabwriter_format(struct pp_strbuf *out, const char *text, size_t len,
			const struct pp_tabwriter_cfg *cfg);

/*
 * Append the meta.k8s.io/v1 Table <table> to <out> as `kubectl get` prints it (cli-runtime
 * printers/tableprinter.go printTable, through PP_TABWRITER_KUBECTL_GET): the columns of
 * priority 0, and those of priority 1 too when <wide>; header names upper-cased; with
 * <namespace> (-A) a NAMESPACE column first, from each row's object.metadata.namespace.
 * String cells are cut at the first '\f', '\n' or '\r' (marked "..."), tabs in them become
 * spaces. A Table without rows adds nothing. Returns the number of rows, or -EINVAL when
 * <table> has no columnDefinitions or rows array, -ENOMEM.
 */
int pp_tabwriter_get_table(struct pp_strbuf *out, json_t *table, bool wide, bool namespace);

#endif
