/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label and field selectors, ported from k8s.io/apimachinery:
 *  - labels: pkg/labels/selector.go (Lexer, Parser.parse, parseRequirement, NewRequirement,
 *    Requirement.Matches) with the key and value checks of pkg/util/validation/validation.go
 *    (IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain) and the messages of
 *    field.Error and utilerrors.Aggregate, so a client sees the apiserver's text;
 *  - fields: pkg/fields/selector.go (splitTerms, splitTerm, UnescapeValue, parseSelector),
 *    and the "field label not supported" refusal of the apiserver's field label conversion
 *    (runtime.Scheme.ConvertFieldLabel), applied after the whole selector parsed, in the
 *    order of the sorted terms, as the list handler's Transform does.
 */
#include "podprobe/selector.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* validation.go: qualifiedNameMaxLength, LabelValueMaxLength, DNS1123SubdomainMaxLength */
#define NAME_MAX_LEN	  63
#define VALUE_MAX_LEN	  63
#define SUBDOMAIN_MAX_LEN 253
#define MAX_ERRS	  8 /* aggregated messages kept for one requirement */

#define QNAME_MSG                                                                                \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " \
	"an "                                                                                    \
	"alphanumeric character"
#define QNAME_RE       "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_EXAMPLES "(e.g. 'MyName', or 'my.name', or '123-abc', "
#define LABEL_VALUE_MSG                                                                          \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' " \
	"or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "     \
	"'my_value', or '12345', regex used for validation is "                                  \
	"'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define SUBDOMAIN_MSG                                                                             \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "     \
	"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"      \
	"[a-z0-9])?)*')"

/* ---- a growable string for messages ------------------------------------------------------ */

struct str {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static void str_add(struct str *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void str_cat(struct str *b, const char *s)
{
	str_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void str_fmt(struct str *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= 0)
		str_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at <s> (at most <n> bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t want;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		want = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		want = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < want)
		return 0;
	for (size_t i = 1; i < want; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((want == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (want == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return want;
}

/* <s> quoted as Go's %q (strconv.Quote) does for the ASCII range; valid UTF-8 is kept. */
static void str_quote(struct str *b, const char *s, size_t n)
{
	static const char esc[] = "\aa\bb\ff\nn\rr\tt\vv";
	const unsigned char *u = (const unsigned char *)s;

	str_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		const char *e = u[i] ? strchr(esc, u[i]) : NULL;
		size_t l;

		if (u[i] == '"' || u[i] == '\\') {
			str_add(b, "\\", 1);
			str_add(b, s + i, 1);
			i++;
		} else if (e && (e - esc) % 2 == 0) {
			str_add(b, "\\", 1);
			str_add(b, e + 1, 1);
			i++;
		} else if (u[i] >= 0x20 && u[i] < 0x7f) {
			str_add(b, s + i, 1);
			i++;
		} else if (u[i] >= 0x80 && (l = utf8_len(u + i, n - i)) > 0) {
			str_add(b, s + i, l);
			i += l;
		} else {
			str_fmt(b, "\\x%02x", u[i]);
			i++;
		}
	}
	str_add(b, "\"", 1);
}

/* Copy the message of <b> to the caller's <err>, or "out of memory" when building it failed. */
static int fail(struct str *b, char *err, size_t err_size)
{
	int rc = b->oom ? -ENOMEM : -EINVAL;

	if (err && err_size)
		snprintf(err, err_size, "%s", b->oom ? "out of memory" : b->p ? b->p : "");
	free(b->p);
	*b = (struct str){0};
	return rc;
}

/* ---- selector objects --------------------------------------------------------------------- */

/* A byte range of the input. */
struct span {
	const char *p;
	size_t len;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void req_clear(struct pp_sel_req *r)
{
	free(r->key);
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	*r = (struct pp_sel_req){0};
}

void pp_selector_free(struct pp_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_reqs; i++)
		req_clear(&s->reqs[i]);
	free(s->reqs);
	free(s);
}

static char *dup_span(struct span s)
{
	char *p = malloc(s.len + 1);

	if (!p)
		return NULL;
	memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

/*
 * Append a requirement to <s>, taking <key> and <values> (freed on failure too).
 * Returns 0 or -ENOMEM.
 */
static int sel_add(struct pp_selector *s, char *key, enum pp_sel_op op, char **values, size_t n)
{
	struct pp_sel_req *reqs = realloc(s->reqs, (s->n_reqs + 1) * sizeof(*reqs));

	if (!reqs) {
		struct pp_sel_req tmp = {.key = key, .values = values, .n_values = n};

		req_clear(&tmp);
		return -ENOMEM;
	}
	s->reqs = reqs;
	reqs[s->n_reqs++] =
		(struct pp_sel_req){.key = key, .op = op, .values = values, .n_values = n};
	return 0;
}

static int req_cmp(const void *a, const void *b)
{
	const struct pp_sel_req *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* ---- validation (pkg/util/validation) ----------------------------------------------------- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$ */
static bool qname_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ */
static bool subdomain_ok(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* validation.IsQualifiedName: the problems of label key <k> joined by "; ", or nothing. */
static void check_key(struct str *b, const char *k, size_t n)
{
	const char *slash = memchr(k, '/', n), *name = k;
	size_t name_len = n, start = b->len;

#define SEP() (b->len > start ? str_cat(b, "; ") : (void)0)
	if (slash && memchr(slash + 1, '/', n - (size_t)(slash + 1 - k))) {
		str_cat(b, "a qualified name " QNAME_MSG " " QNAME_EXAMPLES
			   "regex used for validation is '" QNAME_RE "') with an optional DNS "
			   "subdomain prefix and '/' (e.g. 'example.com/MyName')");
		return;
	}
	if (slash) {
		size_t plen = (size_t)(slash - k);

		if (plen == 0) {
			str_cat(b, "prefix part must be non-empty");
		} else {
			if (plen > SUBDOMAIN_MAX_LEN)
				str_fmt(b, "prefix part must be no more than %d characters",
					SUBDOMAIN_MAX_LEN);
			if (!subdomain_ok(k, plen)) {
				SEP();
				str_cat(b, "prefix part " SUBDOMAIN_MSG);
			}
		}
		name = slash + 1;
		name_len = n - plen - 1;
	}
	if (name_len == 0) {
		SEP();
		str_cat(b, "name part must be non-empty");
	} else if (name_len > NAME_MAX_LEN) {
		SEP();
		str_fmt(b, "name part must be no more than %d characters", NAME_MAX_LEN);
	}
	if (!qname_ok(name, name_len)) {
		SEP();
		str_cat(b, "name part " QNAME_MSG " " QNAME_EXAMPLES
			   "regex used for validation is '" QNAME_RE "')");
	}
#undef SEP
}

/* validation.IsValidLabelValue */
static void check_value(struct str *b, const char *v, size_t n)
{
	if (n > VALUE_MAX_LEN)
		str_fmt(b, "must be no more than %d characters", VALUE_MAX_LEN);
	if (n && !qname_ok(v, n)) {
		if (n > VALUE_MAX_LEN)
			str_cat(b, "; ");
		str_cat(b, LABEL_VALUE_MSG);
	}
}

/* strconv.ParseInt(s, 10, 64) */
static bool parse_int64(const char *s, long long *ret)
{
	unsigned long long v = 0, limit;
	bool neg = s[0] == '-';
	size_t i = s[0] == '-' || s[0] == '+';

	if (!s[i])
		return false;
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; s[i]; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned int)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* ---- label selector: lexer ----------------------------------------------------------------- */

enum tok {
	T_ERROR = 0,
	T_EOS,
	T_CLOSE,
	T_COMMA,
	T_NOT,
	T_DOUBLE_EQUALS,
	T_EQUALS,
	T_GT,
	T_ID,
	T_IN,
	T_LT,
	T_NOT_EQUALS,
	T_NOT_IN,
	T_OPEN,
	_T_MAX,
};

struct item {
	enum tok tok;
	struct span lit;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum tok special(char c)
{
	switch (c) {
	case '=':
		return T_EQUALS;
	case '!':
		return T_NOT;
	case '(':
		return T_OPEN;
	case ')':
		return T_CLOSE;
	case ',':
		return T_COMMA;
	case '>':
		return T_GT;
	case '<':
		return T_LT;
	default:
		return T_ERROR;
	}
}

/* Lexer.Lex: the token at *<pos>. Operators are one character, or "==" / "!=". */
static struct item lex(const char *s, size_t n, size_t *pos)
{
	struct item it = {.tok = T_EOS, .lit = {s + n, 0}};
	size_t i = *pos, start;

	while (i < n && is_blank(s[i]))
		i++;
	if (i == n) {
		*pos = i;
		return it;
	}
	start = i;
	it.tok = special(s[i]);
	if (it.tok != T_ERROR) {
		i++;
		if (i < n && s[i] == '=' && (s[start] == '=' || s[start] == '!')) {
			it.tok = s[start] == '=' ? T_DOUBLE_EQUALS : T_NOT_EQUALS;
			i++;
		}
	} else {
		while (i < n && special(s[i]) == T_ERROR && !is_blank(s[i]))
			i++;
		it.tok = T_ID;
		if (i - start == 2 && !memcmp(s + start, "in", 2))
			it.tok = T_IN;
		else if (i - start == 5 && !memcmp(s + start, "notin", 5))
			it.tok = T_NOT_IN;
	}
	it.lit = (struct span){s + start, i - start};
	*pos = i;
	return it;
}

/* ---- label selector: parser ---------------------------------------------------------------- */

enum ctx {
	KEY_AND_OPERATOR = 0,
	VALUES,
};

struct parser {
	struct item *items; /* ends with T_EOS */
	size_t n_items;
	size_t pos;
	struct str msg; /* the error */
};

static struct item peek(const struct parser *p, enum ctx c)
{
	struct item it = p->items[p->pos < p->n_items ? p->pos : p->n_items - 1];

	/* "in" and "notin" are identifiers where a value or key is expected ('x in (in)') */
	if (c == VALUES && (it.tok == T_IN || it.tok == T_NOT_IN))
		it.tok = T_ID;
	return it;
}

static struct item take(struct parser *p, enum ctx c)
{
	struct item it = peek(p, c);

	if (p->pos < p->n_items - 1)
		p->pos++;
	return it;
}

/* "found '<lit>'<rest>" */
static int found(struct parser *p, struct span lit, const char *rest)
{
	str_cat(&p->msg, "found '");
	str_add(&p->msg, lit.p, lit.len);
	str_cat(&p->msg, "'");
	str_cat(&p->msg, rest);
	return -EINVAL;
}

struct values {
	struct span *v;
	size_t n;
	size_t cap;
};

static int values_add(struct values *vs, struct span s)
{
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 4;
		struct span *v = realloc(vs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vs->v = v;
		vs->cap = cap;
	}
	vs->v[vs->n++] = s;
	return 0;
}

static const struct span empty_span = {"", 0};

/* Parser.parseIdentifiersList, after '(' with an identifier or ',' ahead. */
static int parse_identifiers(struct parser *p, struct values *vs)
{
	for (;;) {
		struct item it = take(p, VALUES), next;

		switch (it.tok) {
		case T_ID:
			if (values_add(vs, it.lit))
				return -ENOMEM;
			next = peek(p, VALUES);
			if (next.tok == T_COMMA)
				continue;
			if (next.tok == T_CLOSE)
				return 0;
			return found(p, next.lit, ", expected: ',' or ')'");
		case T_COMMA: /* "(,", ",)" and ",," hold the empty value */
			next = peek(p, VALUES);
			if ((vs->n == 0 || next.tok == T_CLOSE || next.tok == T_COMMA) &&
			    values_add(vs, empty_span))
				return -ENOMEM;
			if (next.tok == T_CLOSE)
				return 0;
			break;
		default:
			return found(p, it.lit, ", expected: ',', or identifier");
		}
	}
}

/* Parser.parseValues: "(a,b)" */
static int parse_values(struct parser *p, struct values *vs)
{
	struct item it = take(p, VALUES);
	int rc;

	if (it.tok != T_OPEN)
		return found(p, it.lit, " expected: '('");
	it = peek(p, VALUES);
	switch (it.tok) {
	case T_ID:
	case T_COMMA:
		rc = parse_identifiers(p, vs);
		if (rc)
			return rc;
		take(p, VALUES); /* the ')' parse_identifiers() stopped at */
		return 0;
	case T_CLOSE: /* "()" is the empty value */
		take(p, VALUES);
		return values_add(vs, empty_span);
	default:
		return found(p, it.lit, ", expected: ',', ')' or identifier");
	}
}

/* Sort and deduplicate <vs> (sets.String.List()). */
static void values_uniq(struct values *vs)
{
	size_t j = 0;

	if (vs->n < 2)
		return;
	qsort(vs->v, vs->n, sizeof(*vs->v), span_cmp);
	for (size_t i = 1; i < vs->n; i++)
		if (span_cmp(&vs->v[j], &vs->v[i]))
			vs->v[++j] = vs->v[i];
	vs->n = j + 1;
}

/* Add the messages of <one> to the aggregate <errs>, skipping a repeat (utilerrors.Aggregate). */
static void agg_add(struct str *errs, size_t *n_errs, struct str *one)
{
	if (one->oom) {
		errs[0].oom = true;
		return;
	}
	for (size_t i = 0; i < *n_errs; i++)
		if (!strcmp(errs[i].p, one->p))
			return;
	if (*n_errs < MAX_ERRS)
		errs[(*n_errs)++] = *one;
	else
		free(one->p);
	*one = (struct str){0};
}

/*
 * NewRequirement: check the values of an operator, then add the requirement. The key is
 * already checked. Returns 0, -EINVAL with p->msg, or -ENOMEM.
 */
static int new_requirement(struct parser *p, struct pp_selector *s, struct span key,
			   enum pp_sel_op op, struct values *vs)
{
	struct str errs[MAX_ERRS] = {{0}}, one = {0};
	size_t n_errs = 0;
	char *k = NULL, **values = NULL;
	int rc = -ENOMEM;

	values_uniq(vs);
	if (op == PP_SEL_GREATER_THAN || op == PP_SEL_LESS_THAN) {
		for (size_t i = 0; i < vs->n; i++) {
			char *v = dup_span(vs->v[i]);
			long long ll;

			if (!v)
				goto out;
			if (!parse_int64(v, &ll)) {
				str_fmt(&one, "values[%zu]: Invalid value: ", i);
				str_quote(&one, vs->v[i].p, vs->v[i].len);
				str_cat(&one, ": for 'Gt', 'Lt' operators, the value must be an "
					      "integer");
				agg_add(errs, &n_errs, &one);
			}
			free(v);
		}
	}
	for (size_t i = 0; i < vs->n; i++) {
		struct str why = {0};

		check_value(&why, vs->v[i].p, vs->v[i].len);
		if (why.len || why.oom) {
			str_fmt(&one, "values[%zu][", i);
			str_add(&one, key.p, key.len);
			str_cat(&one, "]: Invalid value: ");
			str_quote(&one, vs->v[i].p, vs->v[i].len);
			str_cat(&one, ": ");
			str_add(&one, why.p ? why.p : "", why.len);
			one.oom |= why.oom;
			agg_add(errs, &n_errs, &one);
		}
		free(why.p);
	}
	if (errs[0].oom)
		goto out;
	if (n_errs) {
		if (n_errs > 1)
			str_cat(&p->msg, "[");
		for (size_t i = 0; i < n_errs; i++) {
			if (i)
				str_cat(&p->msg, ", ");
			str_add(&p->msg, errs[i].p, errs[i].len);
		}
		if (n_errs > 1)
			str_cat(&p->msg, "]");
		rc = -EINVAL;
		goto out;
	}
	k = dup_span(key);
	if (!k)
		goto out;
	if (vs->n) {
		values = calloc(vs->n, sizeof(*values));
		if (!values)
			goto out;
		for (size_t i = 0; i < vs->n; i++) {
			values[i] = dup_span(vs->v[i]);
			if (!values[i]) {
				struct pp_sel_req tmp = {.values = values, .n_values = vs->n};

				req_clear(&tmp);
				values = NULL;
				goto out;
			}
		}
	}
	rc = sel_add(s, k, op, values, vs->n);
	k = NULL;
out:
	free(k);
	free(one.p);
	for (size_t i = 0; i < n_errs; i++)
		free(errs[i].p);
	return rc;
}

/* Parser.parseRequirement with parseKeyAndInferOperator, parseOperator, parseExactValue. */
static int parse_requirement(struct parser *p, struct pp_selector *s)
{
	struct values vs = {0};
	enum pp_sel_op op = _PP_SEL_OP_MAX;
	struct item it = take(p, VALUES), next;
	struct span key;
	int rc;

	if (it.tok == T_NOT) {
		op = PP_SEL_DOES_NOT_EXIST;
		it = take(p, VALUES);
	}
	if (it.tok != T_ID)
		return found(p, it.lit, ", expected: identifier");
	key = it.lit;
	check_key(&p->msg, key.p, key.len);
	if (p->msg.len || p->msg.oom) {
		struct str why = p->msg;

		p->msg = (struct str){0};
		str_cat(&p->msg, "<nil>: Invalid value: ");
		str_quote(&p->msg, key.p, key.len);
		str_cat(&p->msg, ": ");
		str_add(&p->msg, why.p ? why.p : "", why.len);
		p->msg.oom |= why.oom;
		free(why.p);
		return -EINVAL;
	}
	next = peek(p, VALUES);
	if ((next.tok == T_EOS || next.tok == T_COMMA) && op != PP_SEL_DOES_NOT_EXIST)
		op = PP_SEL_EXISTS;
	if (op == PP_SEL_EXISTS || op == PP_SEL_DOES_NOT_EXIST)
		return new_requirement(p, s, key, op, &vs);

	it = take(p, KEY_AND_OPERATOR);
	switch (it.tok) {
	case T_IN:
		op = PP_SEL_IN;
		break;
	case T_NOT_IN:
		op = PP_SEL_NOT_IN;
		break;
	case T_EQUALS:
		op = PP_SEL_EQUALS;
		break;
	case T_DOUBLE_EQUALS:
		op = PP_SEL_DOUBLE_EQUALS;
		break;
	case T_NOT_EQUALS:
		op = PP_SEL_NOT_EQUALS;
		break;
	case T_GT:
		op = PP_SEL_GREATER_THAN;
		break;
	case T_LT:
		op = PP_SEL_LESS_THAN;
		break;
	default:
		return found(p, it.lit, ", expected: in, notin, =, ==, !=, gt, lt");
	}
	if (op == PP_SEL_IN || op == PP_SEL_NOT_IN) {
		rc = parse_values(p, &vs);
	} else {
		next = peek(p, VALUES);
		if (next.tok == T_EOS || next.tok == T_COMMA) {
			rc = values_add(&vs, empty_span);
		} else {
			it = take(p, VALUES);
			rc = it.tok == T_ID ? values_add(&vs, it.lit)
					    : found(p, it.lit, ", expected: identifier");
		}
	}
	if (rc == 0)
		rc = new_requirement(p, s, key, op, &vs);
	free(vs.v);
	return rc;
}

/* Parser.parse */
static int parse_labels(struct parser *p, struct pp_selector *s)
{
	for (;;) {
		struct item it = peek(p, VALUES);
		int rc;

		if (it.tok == T_EOS)
			return 0;
		if (it.tok != T_ID && it.tok != T_NOT)
			return found(p, it.lit, ", expected: !, identifier, or 'end of string'");
		rc = parse_requirement(p, s);
		if (rc == -EINVAL) {
			struct str why = p->msg;

			p->msg = (struct str){0};
			str_cat(&p->msg, "unable to parse requirement: ");
			str_add(&p->msg, why.p ? why.p : "", why.len);
			p->msg.oom |= why.oom;
			free(why.p);
		}
		if (rc)
			return rc;
		it = take(p, VALUES);
		if (it.tok == T_EOS)
			return 0;
		if (it.tok != T_COMMA)
			return found(p, it.lit, ", expected: ',' or 'end of string'");
		it = peek(p, VALUES);
		if (it.tok != T_ID && it.tok != T_NOT)
			return found(p, it.lit, ", expected: identifier after ','");
	}
}

int pp_selector_parse_labels(const char *s, struct pp_selector **ret, char *err, size_t err_size)
{
	size_t n = s ? strlen(s) : 0, pos = 0;
	struct parser p = {0};
	struct pp_selector *sel;
	int rc;

	if (err && err_size)
		err[0] = '\0';
	sel = calloc(1, sizeof(*sel));
	/* at most one token per byte, plus the end */
	p.items = sel ? malloc((n + 1) * sizeof(*p.items)) : NULL;
	if (!p.items) {
		free(sel);
		p.msg.oom = true;
		return fail(&p.msg, err, err_size);
	}
	do
		p.items[p.n_items] = lex(s ? s : "", n, &pos);
	while (p.items[p.n_items++].tok != T_EOS);

	rc = parse_labels(&p, sel);
	free(p.items);
	if (rc) {
		pp_selector_free(sel);
		if (rc == -ENOMEM)
			p.msg.oom = true;
		return fail(&p.msg, err, err_size);
	}
	free(p.msg.p);
	if (sel->n_reqs > 1)
		qsort(sel->reqs, sel->n_reqs, sizeof(*sel->reqs), req_cmp);
	*ret = sel;
	return 0;
}

/* ---- field selector ------------------------------------------------------------------------ */

/*
 * UnescapeValue: "\\", "\," and "\=" stand for themselves; any other escape, a trailing
 * backslash or a bare ',' or '=' is refused. Writes the value to <out> (room for <n> bytes).
 */
static int unescape(struct span v, char *out, struct str *msg)
{
	size_t j = 0;

	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];

		if (c == ',' || c == '=') {
			/* Go prints the rune with %v: its number */
			str_fmt(msg, "invalid field selector: unescaped character in value: %d", c);
			return -EINVAL;
		}
		if (c != '\\') {
			out[j++] = c;
			continue;
		}
		if (++i == v.len) {
			str_cat(msg, "invalid field selector: invalid escape sequence: \\");
			return -EINVAL;
		}
		c = v.p[i];
		if (c != '\\' && c != ',' && c != '=') {
			size_t l = utf8_len((const unsigned char *)v.p + i, v.len - i);

			str_cat(msg, "invalid field selector: invalid escape sequence: \\");
			/* an invalid byte reads as U+FFFD in Go's range over a string */
			str_add(msg, l ? v.p + i : "\xef\xbf\xbd", l ? l : 3);
			return -EINVAL;
		}
		out[j++] = c;
	}
	out[j] = '\0';
	return 0;
}

/* splitTerm: the first "!=", "==" or "=" splits <term>. */
static bool split_term(struct span term, struct span *lhs, enum pp_sel_op *op, struct span *rhs)
{
	for (size_t i = 0; i < term.len; i++) {
		size_t oplen;

		if (term.p[i] == '!' && i + 1 < term.len && term.p[i + 1] == '=')
			*op = PP_SEL_NOT_EQUALS, oplen = 2;
		else if (term.p[i] == '=' && i + 1 < term.len && term.p[i + 1] == '=')
			*op = PP_SEL_DOUBLE_EQUALS, oplen = 2;
		else if (term.p[i] == '=')
			*op = PP_SEL_EQUALS, oplen = 1;
		else
			continue;
		*lhs = (struct span){term.p, i};
		*rhs = (struct span){term.p + i + oplen, term.len - i - oplen};
		return true;
	}
	return false;
}

static bool allowed_field(const char *const *allowed, const char *f)
{
	if (!allowed)
		return true;
	for (; *allowed; allowed++)
		if (!strcmp(*allowed, f))
			return true;
	return false;
}

int pp_selector_parse_fields(const char *s, const char *const *allowed, struct pp_selector **ret,
			     char *err, size_t err_size)
{
	size_t n = s ? strlen(s) : 0, n_parts = 0, start = 0;
	struct span *parts = NULL;
	struct pp_selector *sel;
	struct str msg = {0};
	bool slash = false;
	int rc = -ENOMEM;

	if (err && err_size)
		err[0] = '\0';
	sel = calloc(1, sizeof(*sel));
	if (!sel)
		goto out;
	sel->fields = true;
	/* splitTerms: commas split, except after a backslash; at most n / 2 + 1 terms */
	parts = malloc((n / 2 + 1) * sizeof(*parts));
	if (!parts)
		goto out;
	for (size_t i = 0; n && i <= n; i++) {
		if (i < n && slash) {
			slash = false;
		} else if (i < n && s[i] == '\\') {
			slash = true;
		} else if (i == n || s[i] == ',') {
			if (i > start) /* empty terms are skipped */
				parts[n_parts++] = (struct span){s + start, i - start};
			start = i + 1;
		}
	}
	qsort(parts, n_parts, sizeof(*parts), span_cmp);

	for (size_t i = 0; i < n_parts; i++) {
		struct span lhs, rhs;
		enum pp_sel_op op;
		char *key, *value, **values;

		if (!split_term(parts[i], &lhs, &op, &rhs)) {
			str_cat(&msg, "invalid selector: '");
			str_add(&msg, s, n);
			str_cat(&msg, "'; can't understand '");
			str_add(&msg, parts[i].p, parts[i].len);
			str_cat(&msg, "'");
			rc = -EINVAL;
			goto out;
		}
		value = malloc(rhs.len + 1);
		if (!value)
			goto out;
		rc = unescape(rhs, value, &msg);
		if (rc) {
			free(value);
			goto out;
		}
		rc = -ENOMEM;
		key = dup_span(lhs);
		values = malloc(sizeof(*values));
		if (!key || !values) {
			free(key);
			free(values);
			free(value);
			goto out;
		}
		values[0] = value;
		if (sel_add(sel, key, op, values, 1))
			goto out;
	}
	/* the field label conversion runs once the whole selector parsed */
	for (size_t i = 0; i < sel->n_reqs; i++) {
		if (!allowed_field(allowed, sel->reqs[i].key)) {
			str_cat(&msg, "field label not supported: ");
			str_cat(&msg, sel->reqs[i].key);
			rc = -EINVAL;
			goto out;
		}
	}
	rc = 0;
out:
	free(parts);
	if (rc) {
		pp_selector_free(sel);
		if (rc == -ENOMEM)
			msg.oom = true;
		return fail(&msg, err, err_size);
	}
	free(msg.p);
	*ret = sel;
	return 0;
}

/* ---- matching ------------------------------------------------------------------------------ */

static bool has_value(const struct pp_sel_req *r, const char *v)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (!strcmp(r->values[i], v))
			return true;
	return false;
}

/* Requirement.Matches; <v> is the label's value, NULL when the label is absent. */
static bool req_matches(const struct pp_sel_req *r, const char *v)
{
	long long have, want;

	switch (r->op) {
	case PP_SEL_EQUALS:
	case PP_SEL_DOUBLE_EQUALS:
	case PP_SEL_IN:
		return v && has_value(r, v);
	case PP_SEL_NOT_EQUALS:
	case PP_SEL_NOT_IN:
		return !v || !has_value(r, v);
	case PP_SEL_EXISTS:
		return v != NULL;
	case PP_SEL_DOES_NOT_EXIST:
		return v == NULL;
	case PP_SEL_GREATER_THAN:
	case PP_SEL_LESS_THAN:
		if (!v || r->n_values != 1 || !parse_int64(v, &have) ||
		    !parse_int64(r->values[0], &want))
			return false;
		return r->op == PP_SEL_GREATER_THAN ? have > want : have < want;
	default:
		return false;
	}
}

bool pp_selector_match_labels(const struct pp_selector *s, const struct pp_kv *labels, size_t n)
{
	if (!s)
		return true;
	for (size_t i = 0; i < s->n_reqs; i++) {
		const char *v = NULL;

		for (size_t j = 0; j < n; j++) {
			if (labels[j].name && !strcmp(labels[j].name, s->reqs[i].key)) {
				v = labels[j].value ? labels[j].value : "";
				break;
			}
		}
		if (!req_matches(&s->reqs[i], v))
			return false;
	}
	return true;
}

bool pp_selector_match_fields(const struct pp_selector *s,
			      const char *(*get)(void *ctx, const char *field), void *ctx)
{
	if (!s)
		return true;
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct pp_sel_req *r = &s->reqs[i];
		const char *v = get(ctx, r->key);

		/* a field always has a value: absent reads as "" (fields.Set.Get) */
		if (!v)
			v = "";
		if (r->n_values != 1)
			return false;
		if ((r->op == PP_SEL_NOT_EQUALS) == !strcmp(v, r->values[0]))
			return false;
	}
	return true;
}

const char *pp_selector_equals(const struct pp_selector *s, const char *field)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct pp_sel_req *r = &s->reqs[i];

		if (strcmp(r->key, field) || r->n_values != 1)
			continue;
		if (r->op == PP_SEL_EQUALS || r->op == PP_SEL_DOUBLE_EQUALS || r->op == PP_SEL_IN)
			return r->values[0];
	}
	return NULL;
}

bool pp_selector_empty(const struct pp_selector *s)
{
	return !s || s->n_reqs == 0;
}
