// SPDX-License-Identifier: Apache-2.0
/* Event lines: JSON that always parses (whatever bytes a probe printed), one-line text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/event_fmt.h"

static struct pp_event_line sample(const char *message, const char *source)
{
	return (struct pp_event_line){
		.time = "2026-12-01T07:30:00.123456789Z",
		.namespace = "default",
		.pod = "web",
		.container = "app",
		.type = "Warning",
		.reason = "Unhealthy",
		.message = message,
		.source = source,
	};
}

/* ---- a strict checker: an object of string members, valid escapes, valid UTF-8 ---------- */

struct cur {
	const unsigned char *p;
	const unsigned char *end;
};

static bool utf8_ok(struct cur *c)
{
	unsigned char b = *c->p;
	size_t n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3
						 : b >= 0xf0 && b <= 0xf4 ? 4
									  : 0;
	uint32_t cp;

	if (!n || c->p + n > c->end)
		return false;
	cp = n == 1 ? b : b & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	c->p += n;
	return true;
}

/* A JSON string at c->p; its decoded bytes (escapes undone, UTF-8 kept) go to <out>. */
static bool json_string(struct cur *c, char *out, size_t size)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p++ != '"')
		return false;
	while (c->p < c->end && *c->p != '"') {
		const unsigned char *start = c->p;

		if (*c->p < 0x20)
			return false;
		if (*c->p == '\\') {
			char e;

			if (++c->p >= c->end)
				return false;
			e = (char)*c->p++;
			if (e == 'u') {
				if (c->end - c->p < 4)
					return false;
				for (int i = 0; i < 4; i++)
					if (!strchr("0123456789abcdefABCDEF", c->p[i]))
						return false;
				c->p += 4;
				if (n < size)
					out[n++] = '?';
				continue;
			}
			if (!strchr("\"\\/bfnrt", e))
				return false;
			if (n < size)
				out[n++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
			continue;
		}
		if (!utf8_ok(c))
			return false;
		while (start < c->p && n < size)
			out[n++] = (char)*start++;
	}
	if (c->p >= c->end)
		return false;
	c->p++;
	if (n < size)
		out[n] = '\0';
	return n < size;
}

/* Checks <line> and returns the decoded value of member <key> in <val>. */
static bool json_object_ok(const char *line, const char *key, char *val, size_t size)
{
	struct cur c = {(const unsigned char *)line, (const unsigned char *)line + strlen(line)};
	static char k[256], v[128 * 1024];
	bool found = false;

	if (*c.p++ != '{')
		return false;
	for (;;) {
		if (!json_string(&c, k, sizeof(k)) || c.p >= c.end || *c.p++ != ':' ||
		    !json_string(&c, v, sizeof(v)))
			return false;
		if (!strcmp(k, key)) {
			size_t l = strlen(v);

			if (l >= size)
				return false;
			memcpy(val, v, l + 1);
			found = true;
		}
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		break;
	}
	return found && c.p + 1 == c.end && *c.p == '}';
}

static void test_json_line_has_every_field(void **state)
{
	struct pp_event_line ev = sample("Readiness probe failed: \"x\"\n", "kernel");
	char buf[1024];

	assert_true(pp_event_format_json(&ev, buf, sizeof(buf)) > 0);
	assert_string_equal(
		buf, "{\"time\":\"2026-12-01T07:30:00.123456789Z\",\"namespace\":\"default\","
		     "\"pod\":\"web\",\"container\":\"app\",\"type\":\"Warning\",\"reason\":"
		     "\"Unhealthy\",\"message\":\"Readiness probe failed: \\\"x\\\"\\n\","
		     "\"source\":\"kernel\"}");
	ev.source = NULL;
	assert_true(pp_event_format_json(&ev, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "source"));
}

static void test_json_replaces_bytes_that_are_not_utf8(void **state)
{
	/* A lone continuation byte, an overlong '/', a surrogate, a cut sequence; then "é". */
	struct pp_event_line ev = sample("a\x80"
					 "b\xc0\xaf"
					 "c\xed\xa0\x80"
					 "d\xe2\x82"
					 "\xc3\xa9",
					 NULL);
	char buf[1024], msg[256];

	assert_true(pp_event_format_json(&ev, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd"
				    "\\ufffd\xc3\xa9\""));
	assert_true(json_object_ok(buf, "message", msg, sizeof(msg)));
}

/* The regression: 10 KiB of control characters once made a cut, unparseable line. */
static void test_json_of_random_bytes_always_parses(void **state)
{
	static char msg[12 * 1024 + 1], back[12 * 1024 + 1];
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int round = 0; round < 2000; round++) {
		size_t n;
		struct pp_event_line ev;
		char *buf;
		size_t size;
		bool printable = true;
		int len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = (size_t)(seed >> 33) % (sizeof(msg) - 1);
		if (round % 4 == 0)
			n = sizeof(msg) - 1; /* the largest probe output and more */
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* Mostly control characters and high bytes: the worst case for escaping. */
			msg[i] = (char)((seed >> 40) % 255 + 1);
			if (round % 3 == 0)
				msg[i] = (char)((seed >> 40) % 31 + 1);
			printable &= msg[i] >= 0x20 && msg[i] < 0x7f;
		}
		msg[n] = '\0';
		ev = sample(msg, round % 2 ? "probe" : NULL);
		size = pp_event_line_max(&ev);
		buf = malloc(size);
		assert_non_null(buf);
		len = pp_event_format_json(&ev, buf, size);
		assert_true(len > 0);
		assert_int_equal(strlen(buf), (size_t)len);
		assert_true(json_object_ok(buf, "message", back, sizeof(back)));
		if (printable)
			assert_string_equal(back, msg);
		free(buf);
	}
}

static void test_too_small_a_buffer_is_an_error_not_an_overflow(void **state)
{
	struct pp_event_line ev = sample("0123456789\x01\x02\x03", "probe");
	char buf[80 + 16];

	memset(buf, 'C', sizeof(buf));
	assert_int_equal(pp_event_format_json(&ev, buf, 80), -ENOSPC);
	assert_int_equal(pp_event_format_text(&ev, buf, 40), -ENOSPC);
	for (size_t i = 80; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'C');
}

static void test_text_line_is_one_line_without_control_characters(void **state)
{
	struct pp_event_line ev = sample("line1\nline2\r\t\x1b[2J\x7f end\n", "kernel");
	char buf[1024];

	assert_true(pp_event_format_text(&ev, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "2026-12-01T07:30:00.123Z  default/web          app            "
				 "Warning Unhealthy          "
				 "line1\\nline2\\r\\t\\x1b[2J\\x7f end [kernel]");
	for (const char *p = buf; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_line_has_every_field),
		cmocka_unit_test(test_json_replaces_bytes_that_are_not_utf8),
		cmocka_unit_test(test_json_of_random_bytes_always_parses),
		cmocka_unit_test(test_too_small_a_buffer_is_an_error_not_an_overflow),
		cmocka_unit_test(test_text_line_is_one_line_without_control_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
