// SPDX-License-Identifier: Apache-2.0
/*
 * Plain scalars under the YAML 1.2 core schema (yaml.org/spec/1.2.2 §10.3.2, "Tag Resolution"),
 * as sigs.k8s.io/yaml reads manifests: null ~ "" Null NULL, true/false in three casings, ints
 * in decimal, 0o octal and 0x hex, floats with .inf and .nan; everything else is a string.
 */
#include "podprobe/yaml_scalar.h"

#include <stdlib.h>
#include <string.h>

static bool is_digit(char ch, int base)
{
	if (base == 16)
		return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		       (ch >= 'A' && ch <= 'F');
	return ch >= '0' && ch < '0' + base;
}

static int digit_value(char ch)
{
	if (ch >= 'a')
		return ch - 'a' + 10;
	if (ch >= 'A')
		return ch - 'A' + 10;
	return ch - '0';
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+: its base and where its digits start. */
static bool int_syntax(const char *s, int *ret_base, size_t *ret_skip)
{
	size_t i = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		i = 2;
	} else if (s[0] == '-' || s[0] == '+') {
		i = 1;
	}
	if (!s[i])
		return false;
	*ret_skip = i;
	for (; s[i]; i++)
		if (!is_digit(s[i], base))
			return false;
	*ret_base = base;
	return true;
}

bool pp_yaml_parse_int(const char *s, int64_t *ret)
{
	uint64_t v = 0, limit;
	bool neg = s[0] == '-';
	size_t i;
	int base;

	if (!int_syntax(s, &base, &i))
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; s[i]; i++) {
		unsigned int d = (unsigned int)digit_value(s[i]);

		if (v > (limit - d) / (unsigned int)base)
			return false;
		v = v * (unsigned int)base + d;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool pp_yaml_float_special(const char *s)
{
	size_t i = s[0] == '-' || s[0] == '+';

	if (!strcmp(s + i, ".inf") || !strcmp(s + i, ".Inf") || !strcmp(s + i, ".INF"))
		return true;
	return i == 0 && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"));
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and [-+]?.inf, .nan */
static bool float_syntax(const char *s)
{
	size_t i = 0, digits = 0;

	if (pp_yaml_float_special(s))
		return true;
	if (s[i] == '-' || s[i] == '+')
		i++;
	for (; is_digit(s[i], 10); i++)
		digits++;
	if (s[i] == '.')
		for (i++; is_digit(s[i], 10); i++)
			digits++;
	if (!digits)
		return false;
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '-' || s[i] == '+')
			i++;
		if (!is_digit(s[i], 10))
			return false;
		while (is_digit(s[i], 10))
			i++;
	}
	return s[i] == '\0';
}

enum pp_yaml_type pp_yaml_resolve_plain(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
	int base;
	size_t skip;

	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(s, nulls[i]))
			return PP_YAML_NULL;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!strcmp(s, bools[i]))
			return PP_YAML_BOOL;
	if (int_syntax(s, &base, &skip))
		return PP_YAML_INT;
	if (float_syntax(s))
		return PP_YAML_FLOAT;
	return PP_YAML_STR;
}

enum pp_yaml_type pp_yaml_resolve(const char *tag, bool plain, const char *text, size_t len)
{
	static const char *const typed[] = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool",
					    "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"};

	if (memchr(text, '\0', len))
		return PP_YAML_STR;
	if (tag && (!strcmp(tag, "!") || !strcmp(tag, "tag:yaml.org,2002:str")))
		return PP_YAML_STR;
	for (size_t i = 0; tag && i < sizeof(typed) / sizeof(typed[0]); i++)
		if (!strcmp(tag, typed[i]))
			return pp_yaml_resolve_plain(text);
	return plain ? pp_yaml_resolve_plain(text) : PP_YAML_STR;
}

bool pp_yaml_bool11(const char *s, bool *ret)
{
	/* go-yaml v2 resolve.go resolveMapList: the YAML 1.1 bool spellings. */
	static const char *const yes[] = {"y",	  "Y",	  "yes", "Yes", "YES", "true",
					  "True", "TRUE", "on",	 "On",	"ON"};
	static const char *const no[] = {"n",	  "N",	   "no",  "No",	 "NO", "false",
					 "False", "FALSE", "off", "Off", "OFF"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*ret = true;
			return true;
		}
		if (!strcmp(s, no[i])) {
			*ret = false;
			return true;
		}
	}
	return false;
}

bool pp_yaml_float_int(const char *s, int64_t *ret)
{
	double d;
	char *end;

	if (pp_yaml_float_special(s) || !float_syntax(s))
		return false;
	d = strtod(s, &end);
	/* 2^63 is the first double beyond int64_t; -2^63 itself fits. */
	if (*end || !(d < 9223372036854775808.0 && d >= -9223372036854775808.0) ||
	    (double)(int64_t)d != d)
		return false;
	*ret = (int64_t)d;
	return true;
}

bool pp_yaml_parse_go_octal(const char *s, int64_t *ret)
{
	bool neg = s[0] == '-';
	const char *p = s + (s[0] == '-' || s[0] == '+');
	uint64_t v = 0;

	if (p[0] != '0' || !p[1])
		return false;
	for (p++; *p; p++) {
		if (*p < '0' || *p > '7' || v > (uint64_t)INT64_MAX / 8)
			return false;
		v = v * 8 + (uint64_t)(*p - '0');
	}
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return true;
}
