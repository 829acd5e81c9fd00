/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading `apiVersion: v1, kind: Pod` manifests with libyaml: the effectful half.
 *
 * Per document, libyaml's event API builds the node tree of user/core/yaml_tree.c (which
 * bounds nodes, depth and anchors); at the document's end the schema walk of
 * user/core/manifest_schema.c turns it into a pod. This file reads files and directories,
 * feeds libyaml, mends go-yaml's \' escapes, computes the document digest and reports libyaml's
 * syntax errors.
 */
#include "podprobe/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "podprobe/manifest_schema.h"
#include "podprobe/pod.h"
#include "podprobe/yaml_scalar.h"
#include "podprobe/yaml_tree.h"

#define MAX_QUOTE_FIXES 256u /* \\' escapes mended per buffer (one scan each) */

static void nomem(struct pp_manifest_reader *ps)
{
	ps->err = -ENOMEM;
	ps->stop = true;
}

static struct pp_src_pos mark_pos(const yaml_mark_t *m)
{
	return (struct pp_src_pos){.line = (uint32_t)m->line + 1, .col = (uint32_t)m->column + 1};
}

/* A refusal of the tree (pp_ydoc_*()): an error that ends the reading of the buffer. */
static void tree_result(struct pp_manifest_reader *ps, int err)
{
	if (err == -ENOMEM) {
		nomem(ps);
	} else if (err) {
		pp_manifest_report(ps, PP_DIAG_ERROR, ps->doc.err_pos, "%s", ps->doc.err);
		ps->stop = true;
	}
}

static enum pp_yaml_type resolve_scalar(const yaml_event_t *ev)
{
	return pp_yaml_resolve((const char *)ev->data.scalar.tag,
			       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
			       (const char *)ev->data.scalar.value, ev->data.scalar.length);
}

/* ---- building the tree from events -------------------------------------------------------- */

/*
 * Add the node of a SCALAR, SEQUENCE-START or MAPPING-START event. Takes the event's value
 * and anchor strings (they are set to NULL in <ev>).
 */
static void doc_add_node(struct pp_manifest_reader *ps, yaml_event_t *ev)
{
	struct pp_src_pos pos = mark_pos(&ev->start_mark);
	enum pp_ynode_type type = PP_YNODE_MAPPING;
	yaml_char_t **anchor = &ev->data.mapping_start.anchor;
	const char *tag = NULL;
	char *text = NULL, *name;
	bool plain = false;
	size_t len = 0;

	if (ev->type == YAML_SCALAR_EVENT) {
		type = PP_YNODE_SCALAR;
		tag = (const char *)ev->data.scalar.tag;
		plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		text = (char *)ev->data.scalar.value;
		len = ev->data.scalar.length;
		anchor = &ev->data.scalar.anchor;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		type = PP_YNODE_SEQUENCE;
		anchor = &ev->data.sequence_start.anchor;
	}
	name = (char *)*anchor;
	tree_result(ps, pp_ydoc_add_node(&ps->doc, type, pos, tag, plain, &text, len, &name));
	if (type == PP_YNODE_SCALAR)
		ev->data.scalar.value = (yaml_char_t *)text;
	*anchor = (yaml_char_t *)name;
}

static void doc_add_alias(struct pp_manifest_reader *ps, const yaml_event_t *ev)
{
	tree_result(ps, pp_ydoc_add_alias(&ps->doc, mark_pos(&ev->start_mark),
					  (const char *)ev->data.alias.anchor));
}

/* ---- documents ----------------------------------------------------------------------------- */

/* Randomness for metadata.generateName (pp_manifest_reader.fill_random). */
static bool fill_random(void *buf, size_t len)
{
	return getrandom(buf, len, 0) == (ssize_t)len;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static void digest_bytes(struct pp_manifest_reader *ps, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ps->digest = (ps->digest ^ ((const unsigned char *)p)[i]) * FNV_PRIME;
}

/*
 * The document's digest: what the events say (structure, scalars with their resolved type,
 * anchors and aliases), not how the text says it, so comments and layout do not change it.
 */
static void digest_event(struct pp_manifest_reader *ps, const yaml_event_t *ev)
{
	unsigned char tag = (unsigned char)ev->type;
	const yaml_char_t *a = NULL;
	uint64_t len;

	digest_bytes(ps, &tag, 1);
	if (ev->type == YAML_SCALAR_EVENT) {
		tag = (unsigned char)resolve_scalar(ev);
		len = ev->data.scalar.length;
		digest_bytes(ps, &tag, 1);
		digest_bytes(ps, &len, sizeof(len));
		digest_bytes(ps, ev->data.scalar.value, ev->data.scalar.length);
		a = ev->data.scalar.anchor;
	} else if (ev->type == YAML_ALIAS_EVENT) {
		a = ev->data.alias.anchor;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		a = ev->data.sequence_start.anchor;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		a = ev->data.mapping_start.anchor;
	}
	if (a)
		digest_bytes(ps, a, strlen((const char *)a) + 1);
}

/* libyaml's problem text at its position: the one error of a malformed stream. */
static void syntax_error(struct pp_manifest_reader *ps, const yaml_parser_t *parser)
{
	struct pp_src_pos pos = mark_pos(&parser->problem_mark);

	if (parser->error == YAML_MEMORY_ERROR)
		return nomem(ps);
	if (parser->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark. */
		size_t off = parser->problem_offset < ps->len ? parser->problem_offset : ps->len;

		pos = (struct pp_src_pos){.line = 1, .col = 1};
		for (size_t i = 0; i < off; i++) {
			if (ps->buf[i] == '\n') {
				pos.line++;
				pos.col = 1;
			} else if (((unsigned char)ps->buf[i] & 0xc0) != 0x80) {
				pos.col++; /* count characters, not UTF-8 continuation bytes */
			}
		}
	}
	pp_manifest_error_at(ps, pos, "", "%s", parser->problem ? parser->problem : "invalid YAML");
	ps->stop = true;
}

/* Scan <buf> with libyaml's scanner: true at the end, false with the problem in <parser>. */
static bool scan_all(yaml_parser_t *parser, const char *buf, size_t len)
{
	yaml_token_t tok;
	bool end = false;

	yaml_parser_set_input_string(parser, (const unsigned char *)buf, len);
	while (!end) {
		if (!yaml_parser_scan(parser, &tok))
			return false;
		end = tok.type == YAML_STREAM_END_TOKEN;
		yaml_token_delete(&tok);
	}
	return true;
}

/* True when text <buf> can yield an ESC character: "\e", "\x1b", "\u001b", "\U0000001b". */
static bool may_have_esc(const char *buf, size_t len)
{
	static const char *const forms[] = {"x1b",   "x1B",	  "u001b",
					    "u001B", "U0000001b", "U0000001B"};

	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == 0x1b)
			return true;
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'e')
			return true;
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
			if (len - i - 1 >= strlen(forms[f]) &&
			    !memcmp(buf + i + 1, forms[f], strlen(forms[f])))
				return true;
	}
	return len && buf[len - 1] == 0x1b;
}

int pp_manifest_fix_escapes(const char *buf, size_t len, char **ret_copy)
{
	yaml_parser_t parser;
	char *copy = NULL;
	int fixes = 0;

	if (!buf || len == 0 || !memchr(buf, '\'', len) || may_have_esc(buf, len))
		return 0;
	for (;;) {
		const char *text = copy ? copy : buf;
		size_t at;
		bool done;

		if (!yaml_parser_initialize(&parser)) {
			free(copy);
			return -ENOMEM;
		}
		done = scan_all(&parser, text, len);
		at = parser.problem_mark.index;
		if (!done && (parser.error != YAML_SCANNER_ERROR || !parser.problem ||
			      strcmp(parser.problem, "found unknown escape character")))
			done = true;
		yaml_parser_delete(&parser);
		if (done)
			break;
		/* libyaml's mark is at the backslash; allow for one past it. */
		if (at + 1 < len && text[at] == '\\' && text[at + 1] == '\'')
			;
		else if (at > 0 && at < len && text[at - 1] == '\\' && text[at] == '\'')
			at--;
		else
			break;
		if (fixes == MAX_QUOTE_FIXES)
			break;
		if (!copy) {
			copy = malloc(len);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, buf, len);
		}
		copy[at + 1] = 'e';
		fixes++;
	}
	if (!fixes) {
		free(copy);
		return 0;
	}
	*ret_copy = copy;
	return fixes;
}

/* Undo pp_manifest_fix_escapes() in a scalar: its ESC characters were \' in the text. */
static void unfix_escapes(yaml_event_t *ev)
{
	char *p = (char *)ev->data.scalar.value;

	for (size_t i = 0; i < ev->data.scalar.length; i++)
		if (p[i] == 0x1b)
			p[i] = '\'';
}

int pp_manifest_parse_buffer(const char *file, const char *buf, size_t len,
			     struct pp_pod_list *pods, struct pp_diag_list *diags)
{
	return pp_manifest_parse_objects(file, buf, len, pods, NULL, diags);
}

int pp_manifest_parse_objects(const char *file, const char *buf, size_t len,
			      struct pp_pod_list *pods, struct pp_config_list *configs,
			      struct pp_diag_list *diags)
{
	size_t errors_before = diags->n_errors;
	struct pp_manifest_reader ps;
	unsigned int doc_index = 0;
	char *fixed = NULL;
	yaml_parser_t parser;
	yaml_event_t ev;
	int fixes;

	pp_manifest_reader_init(&ps, file, buf, len, pods, configs, diags);
	ps.fill_random = fill_random;
	if (len > PP_MANIFEST_MAX_BYTES) {
		pp_manifest_error_at(&ps, (struct pp_src_pos){0}, "",
				     "input is larger than %u bytes, refusing",
				     PP_MANIFEST_MAX_BYTES);
		return ps.err ? ps.err : (int)(diags->n_errors - errors_before);
	}
	/*
	 * go-yaml (kubectl, the API server) takes \' in double quotes, libyaml does not: parse
	 * a copy where each is \e (same length, so positions hold) and turn ESC back into '.
	 */
	fixes = pp_manifest_fix_escapes(buf, len, &fixed);
	if (fixes < 0)
		return fixes;
	if (!yaml_parser_initialize(&parser)) {
		free(fixed);
		return -ENOMEM;
	}
	/* libyaml asserts on a NULL input, even an empty one. */
	yaml_parser_set_input_string(&parser,
				     (const unsigned char *)(fixed ? fixed
							     : buf ? buf
								   : ""),
				     len);

	while (!ps.stop) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&ps, &parser);
			break;
		}
		if (fixed && ev.type == YAML_SCALAR_EVENT)
			unfix_escapes(&ev);
		digest_event(&ps, &ev);
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			ps.doc_start = ev.start_mark.index;
			ps.digest = FNV_OFFSET;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			doc_add_node(&ps, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			tree_result(&ps, pp_ydoc_end_collection(&ps.doc));
			break;
		case YAML_ALIAS_EVENT:
			doc_add_alias(&ps, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
			pp_manifest_reader_end_document(&ps, doc_index++, ev.end_mark.index);
			break;
		case YAML_STREAM_END_EVENT:
			ps.stop = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}

	pp_manifest_reader_release(&ps);
	free(fixed);
	yaml_parser_delete(&parser);
	return ps.err ? ps.err : (int)(diags->n_errors - errors_before);
}

/* ---- files and directories ---------------------------------------------------------------- */

static int read_error(struct pp_diag_list *diags, const char *path, int errnum)
{
	return pp_diag_add(diags, PP_DIAG_ERROR, path, (struct pp_src_pos){0}, "",
			   "cannot read: %s", strerror(errnum));
}

static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode)	? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISDIR(mode)	? "a directory"
				: "not a file";
}

/*
 * Read at most PP_MANIFEST_MAX_BYTES + 1 bytes (one more tells "too large" apart). The open
 * does not block (a FIFO would wait for a writer) and only regular files are read.
 */
static int load_file(const char *path, struct pp_pod_list *pods, struct pp_config_list *configs,
		     struct pp_diag_list *diags)
{
	size_t len = 0, cap = 64 * 1024;
	struct stat st;
	char *buf, *p;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return read_error(diags, path, errno);
	if (fstat(fd, &st) < 0) {
		err = read_error(diags, path, errno);
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		err = pp_diag_add(diags, PP_DIAG_ERROR, path, (struct pp_src_pos){0}, "",
				  "cannot read: %s, not a regular file", file_kind(st.st_mode));
		close(fd);
		return err;
	}
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len <= PP_MANIFEST_MAX_BYTES) {
		if (len == cap) {
			cap = cap * 2 > PP_MANIFEST_MAX_BYTES + 1 ? PP_MANIFEST_MAX_BYTES + 1
								  : cap * 2;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				goto out;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = read_error(diags, path, errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	err = pp_manifest_parse_objects(path, buf, len, pods, configs, diags);
	err = err < 0 ? err : 0;
out:
	free(buf);
	close(fd);
	return err;
}

static bool is_manifest_name(const char *name)
{
	static const char *const exts[] = {".yaml", ".yml", ".json"};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t n = strlen(exts[i]);

		if (len > n && !strcmp(name + len - n, exts[i]))
			return true;
	}
	return false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml, *.yml and *.json regular files of <dir>, in strcmp order. */
static int load_dir(const char *dir, struct pp_pod_list *pods, struct pp_config_list *configs,
		    struct pp_diag_list *diags)
{
	char **names = NULL, **tmp, *path;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return read_error(diags, dir, errno);
	while ((de = readdir(d))) {
		if (!is_manifest_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(names, cap * sizeof(*names));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			names = tmp;
		}
		if (asprintf(&names[n], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			     de->d_name) < 0) {
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n > 1) /* names is NULL when nothing matched: qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof(*names), cmp_names);

	for (size_t i = 0; i < n && !err; i++) {
		path = names[i];
		/* Sub-directories named *.yaml are skipped: the walk is not recursive. */
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		err = load_file(path, pods, configs, diags);
	}
	if (!err && n == 0)
		err = pp_diag_add(diags, PP_DIAG_ERROR, dir, (struct pp_src_pos){0}, "",
				  "no *.yaml, *.yml or *.json files in the directory");
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

int pp_manifest_load_path(const char *path, struct pp_pod_list *pods, struct pp_diag_list *diags)
{
	return pp_manifest_load_objects(path, pods, NULL, diags);
}

int pp_manifest_load_objects(const char *path, struct pp_pod_list *pods,
			     struct pp_config_list *configs, struct pp_diag_list *diags)
{
	size_t errors_before = diags->n_errors;
	struct stat st;
	int err;

	if (stat(path, &st) < 0)
		err = read_error(diags, path, errno);
	else if (S_ISDIR(st.st_mode))
		err = load_dir(path, pods, configs, diags);
	else
		err = load_file(path, pods, configs, diags);
	return err < 0 ? err : (int)(diags->n_errors - errors_before);
}
