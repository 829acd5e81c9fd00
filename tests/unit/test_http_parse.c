// SPDX-License-Identifier: Apache-2.0
/*
 * The httpGet probe's HTTP/1.x helpers (pkg/probe/http/http.go): the incremental response
 * parser, fed whole, byte by byte and split at every offset, which must all agree; the request
 * builder; redirect resolution.
 */
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

#include "podprobe/http_parse.h"

#define BODY_CAP      PP_HTTP_MAX_BODY_BYTES
#define ALL_PAIRS_MAX 320  /* inputs up to this size are also split in three at every pair */
#define ALL_CUTS_MAX  4096 /* inputs up to this size are split in two at every offset */
#define SAMPLED_CUTS  61   /* larger inputs: this many cuts spread over the input */

/* What a parse ends with, compared field by field across feeding patterns. */
struct t_result {
	int rc; /* last feed, or pp_http_resp_eof() when asked */
	int status;
	bool headers_done;
	bool complete;
	bool has_location;
	bool chunked;
	int64_t content_length;
	size_t body_len;
	const char *error;
	char location[PP_HTTP_LOCATION_MAX];
	char body[BODY_CAP];
};

/* Parse options; zero means the probe's defaults. */
struct t_opts {
	size_t body_cap; /* 0 = BODY_CAP; use (size_t)-1 for a zero-sized buffer */
	size_t max_head; /* 0 = PP_HTTP_MAX_HEADER_BYTES */
	bool eof;	 /* call pp_http_resp_eof() after the last byte */
};

/*
 * Parse <data> fed as the pieces between <cuts> (ascending offsets). Each piece is copied to
 * its own exact-size allocation so that valgrind or ASan catch a read past a piece. Feeding
 * stops at the first non-zero return, which is sticky (test_results_are_sticky).
 */
static void t_parse(const char *data, size_t len, const size_t *cuts, size_t n_cuts,
		    const struct t_opts *o, struct t_result *res)
{
	struct pp_http_resp *r = malloc(sizeof(*r));
	size_t cap = o->body_cap == (size_t)-1 ? 0 : o->body_cap ? o->body_cap : BODY_CAP;
	size_t start = 0;
	int rc = 0;

	assert_non_null(r);
	assert_true(cap <= BODY_CAP);
	memset(res, 0, sizeof(*res));
	pp_http_resp_init(r, res->body, cap);
	if (o->max_head)
		r->max_header_bytes = o->max_head;

	for (size_t i = 0; i <= n_cuts && !rc; i++) {
		size_t stop = i < n_cuts ? cuts[i] : len;
		char *piece = malloc(stop - start ? stop - start : 1);

		assert_non_null(piece);
		memcpy(piece, data + start, stop - start);
		rc = pp_http_resp_feed(r, piece, stop - start);
		free(piece);
		assert_true(rc == 0 || rc == 1 || rc == -EBADMSG || rc == -E2BIG);
		if (rc < 0)
			assert_non_null(r->error);
		start = stop;
	}
	if (o->eof)
		rc = pp_http_resp_eof(r);

	res->rc = rc;
	res->status = r->status;
	res->headers_done = r->headers_done;
	res->complete = r->complete;
	res->has_location = r->has_location;
	res->chunked = r->chunked;
	res->content_length = r->content_length;
	res->body_len = r->body_len;
	res->error = r->error;
	if (r->has_location)
		strcpy(res->location, r->location);
	assert_true(r->body_len <= cap);
	assert_int_equal(r->complete, rc == 1);
	free(r);
}

static void t_assert_same(const struct t_result *a, const struct t_result *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->headers_done, b->headers_done);
	assert_int_equal(a->complete, b->complete);
	assert_int_equal(a->has_location, b->has_location);
	assert_int_equal(a->chunked, b->chunked);
	assert_int_equal(a->content_length, b->content_length);
	assert_int_equal(a->body_len, b->body_len);
	assert_ptr_equal(a->error, b->error);
	assert_string_equal(a->location, b->location);
	assert_memory_equal(a->body, b->body, a->body_len);
}

/*
 * Parse <len> bytes of <data> whole into <ret>, then check that feeding them byte by byte,
 * split in two at every offset and (for small inputs) in three at every pair of offsets,
 * gives exactly the same result.
 */
static void t_parse_all_ways(const char *data, size_t len, const struct t_opts *o,
			     struct t_result *ret)
{
	struct t_result *alt = malloc(sizeof(*alt));
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));

	assert_non_null(alt);
	assert_non_null(cuts);
	t_parse(data, len, NULL, 0, o, ret);

	for (size_t i = 1; i < len; i++)
		cuts[i - 1] = i;
	t_parse(data, len, cuts, len ? len - 1 : 0, o, alt);
	t_assert_same(ret, alt);

	if (len <= ALL_CUTS_MAX) {
		for (size_t i = 0; i <= len; i++) {
			t_parse(data, len, &i, 1, o, alt);
			t_assert_same(ret, alt);
		}
	} else {
		for (size_t k = 0; k <= SAMPLED_CUTS; k++) {
			size_t i = len / SAMPLED_CUTS * k + k % 7;

			if (i > len)
				i = len;
			t_parse(data, len, &i, 1, o, alt);
			t_assert_same(ret, alt);
		}
	}

	if (len <= ALL_PAIRS_MAX) {
		for (size_t i = 0; i <= len; i++) {
			for (size_t j = i; j <= len; j++) {
				size_t two[2] = {i, j};

				t_parse(data, len, two, 2, o, alt);
				t_assert_same(ret, alt);
			}
		}
	}
	free(cuts);
	free(alt);
}

static const struct t_opts t_default;
static const struct t_opts t_with_eof = {.eof = true};

/* t_parse_all_ways() on a C string with the default options; the result is heap-allocated. */
static struct t_result *t_resp(const char *text, const struct t_opts *o)
{
	struct t_result *res = malloc(sizeof(*res));

	assert_non_null(res);
	t_parse_all_ways(text, strlen(text), o ? o : &t_default, res);
	return res;
}

static void t_expect_error(const char *text, int err, const char *msg)
{
	struct t_result *res = t_resp(text, NULL);

	assert_int_equal(res->rc, err);
	assert_false(res->complete);
	assert_string_equal(res->error, msg);
	free(res);
}

static void t_expect_body(const char *text, int status, const char *body)
{
	struct t_result *res = t_resp(text, NULL);

	assert_int_equal(res->rc, 1);
	assert_true(res->headers_done);
	assert_int_equal(res->status, status);
	assert_int_equal(res->body_len, strlen(body));
	assert_memory_equal(res->body, body, strlen(body));
	assert_null(res->error);
	free(res);
}

/* ---- status line --------------------------------------------------------------------- */

static void test_status_line_with_reason_is_parsed(void **state)
{
	t_expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
	t_expect_body("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 503, "");
	t_expect_body("HTTP/1.1 404 Not  Found, \x80 really\r\nContent-Length: 0\r\n\r\n", 404, "");
}

static void test_status_line_without_reason_is_valid(void **state)
{
	t_expect_body("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 200, "ok");
	t_expect_body("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", 200, "ok");
	t_expect_body("HTTP/1.0 204\r\n\r\n", 204, "");
	/* Go trims spaces before the code. */
	t_expect_body("HTTP/1.1  201 Created\r\nContent-Length: 0\r\n\r\n", 201, "");
}

static void test_bad_status_lines_are_rejected(void **state)
{
	t_expect_error("garbage\r\n\r\n", -EBADMSG, "malformed HTTP response");
	t_expect_error("ICY 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP response");
	t_expect_error("\r\nHTTP/1.1 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP response");
	t_expect_error("http/1.1 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP response");
	t_expect_error("HTTP/2.0 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP version");
	t_expect_error("HTTP/1.x 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP version");
	t_expect_error("HTTP/1.10 200 OK\r\n\r\n", -EBADMSG, "malformed HTTP version");
	t_expect_error("HTTP/1.1200 OK\r\n\r\n", -EBADMSG, "malformed HTTP version");
	t_expect_error("HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 20 OK\r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 2x0 OK\r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 -20 OK\r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 099 OK\r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 \r\n\r\n", -EBADMSG, "malformed HTTP status code");
	t_expect_error("HTTP/1.1 200 OK\rX\n\r\n", -EBADMSG, "malformed HTTP response");
}

/* ---- headers ------------------------------------------------------------------------- */

static void test_bare_lf_line_endings_are_accepted(void **state)
{
	t_expect_body("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 200, "abc");
	t_expect_body("HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 3\r\n\nabc", 200, "abc");
}

static void test_header_names_match_case_insensitively(void **state)
{
	struct t_result *res =
		t_resp("HTTP/1.1 302 Found\r\ncOnTeNt-LeNgTh: 0\r\n"
		       "LOCATION: /next\r\nX-Location: /no\r\nLocations: /no\r\n\r\n",
		       NULL);

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->content_length, 0);
	assert_true(res->has_location);
	assert_string_equal(res->location, "/next");
	free(res);
}

/* Names that start as a known one and go on, or stop short, are other headers. */
static void test_header_names_longer_or_shorter_than_known_ones_are_others(void **state)
{
	struct t_result *res =
		t_resp("HTTP/1.1 302 Found\r\nTransfer-Encoding-Of-Something-Else: chunked\r\n"
		       "Content-Lengt: 9\r\nLocatio: /no\r\nContent-Length: 2\r\n\r\nok",
		       NULL);

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->content_length, 2);
	assert_false(res->chunked);
	assert_false(res->has_location);
	assert_int_equal(res->body_len, 2);
	free(res);
}

static void test_malformed_header_lines_are_rejected(void **state)
{
	t_expect_error("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\nX-A : x\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\n: x\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", -EBADMSG, "malformed header line");
	t_expect_error("HTTP/1.1 200 OK\r\n\rX", -EBADMSG, "malformed header line");
	/* A fold with nothing to continue. */
	t_expect_error("HTTP/1.1 200 OK\r\n X-A: a\r\n\r\n", -EBADMSG, "malformed header line");
}

static void test_obsolete_line_folding_continues_the_value(void **state)
{
	struct t_result *res = t_resp("HTTP/1.1 302 Found\r\nX-Long: a\r\n  b\r\n"
				      "Location: /a\r\n \t/b\r\nContent-Length: 1\r\n\t \r\n\r\nx",
				      NULL);

	assert_int_equal(res->rc, 1);
	assert_string_equal(res->location, "/a /b");
	assert_int_equal(res->content_length, 1);
	free(res);

	/* Folding cannot smuggle a second number into Content-Length. */
	t_expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\nx", -EBADMSG,
		       "invalid Content-Length");
}

static void test_headers_over_limit_are_too_large(void **state)
{
	/* 17 + 19 + 7 + pad + 2 + 2 bytes of head. */
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
	size_t pad = PP_HTTP_MAX_HEADER_BYTES - 47;
	size_t len = strlen(head) + pad + 4;
	char *text = malloc(len + 2);
	struct t_result *res = malloc(sizeof(*res));

	assert_non_null(text);
	assert_non_null(res);
	memcpy(text, head, strlen(head));
	memset(text + strlen(head), 'a', pad);
	memcpy(text + strlen(head) + pad, "\r\n\r\n", 4);

	/* Exactly at the limit. */
	t_parse_all_ways(text, len, &t_default, res);
	assert_int_equal(res->rc, 1);
	assert_int_equal(res->status, 200);

	/* One byte over. */
	memcpy(text + strlen(head) + pad, "a\r\n\r\n", 5);
	t_parse_all_ways(text, len + 1, &t_default, res);
	assert_int_equal(res->rc, -E2BIG);
	assert_string_equal(res->error, "headers too large");
	assert_false(res->headers_done);

	/* The limit stops an endless head before it ends, and is adjustable. */
	t_parse_all_ways(text, len - 10000, &t_default, res);
	assert_int_equal(res->rc, 0);
	t_parse_all_ways(text, 200, &(struct t_opts){.max_head = 64}, res);
	assert_int_equal(res->rc, -E2BIG);
	free(res);
	free(text);
}

static void test_interim_responses_count_against_the_header_limit(void **state)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t n = PP_HTTP_MAX_HEADER_BYTES / strlen(cont) + 1, len = n * strlen(cont);
	char *text = malloc(len);
	struct t_result *res = malloc(sizeof(*res));

	assert_non_null(text);
	assert_non_null(res);
	for (size_t i = 0; i < n; i++)
		memcpy(text + i * strlen(cont), cont, strlen(cont));
	t_parse_all_ways(text, len, &t_default, res);
	assert_int_equal(res->rc, -E2BIG);
	free(res);
	free(text);
}

/* ---- Content-Length ------------------------------------------------------------------ */

static void test_content_length_frames_the_body(void **state)
{
	struct t_result *res = t_resp("HTTP/1.1 200 OK\r\nContent-Length:   7  \r\n\r\n"
				      "healthyEXTRA",
				      NULL);

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->content_length, 7);
	assert_int_equal(res->body_len, 7);
	assert_memory_equal(res->body, "healthy", 7);
	free(res);

	res = t_resp("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nheal", NULL);
	assert_int_equal(res->rc, 0);
	assert_true(res->headers_done);
	assert_int_equal(res->body_len, 4);
	free(res);
}

static void test_repeated_equal_content_length_is_accepted(void **state)
{
	t_expect_body("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nok", 200,
		      "ok");
}

static void test_conflicting_content_length_is_rejected(void **state)
{
	t_expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		       -EBADMSG, "conflicting Content-Length headers");
}

static void test_invalid_content_length_is_rejected(void **state)
{
	static const char *const bad[] = {
		"abc",
		"-1",
		"+5",
		"",
		"   ",
		"1 2",
		"5, 5",
		"0x10",
		"9223372036854775808",
		"99999999999999999999",
	};
	struct t_result *res;
	char text[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		t_expect_error(text, -EBADMSG, "invalid Content-Length");
	}
	/* The largest value is valid. */
	res = t_resp("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", NULL);
	assert_int_equal(res->rc, 0);
	assert_true(res->headers_done);
	assert_int_equal(res->content_length, INT64_MAX);
	free(res);
}

static void test_body_is_truncated_at_the_limit_and_complete(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
	static const char unframed[] = "HTTP/1.1 200 OK\r\nX-Framing: none________\r\n\r\n";
	size_t body = 1048576, len = strlen(head) + body;
	char *text = malloc(len);
	struct t_result *res = malloc(sizeof(*res));

	assert_non_null(text);
	assert_non_null(res);
	memcpy(text, head, strlen(head));
	for (size_t i = 0; i < body; i++)
		text[strlen(head) + i] = (char)('a' + i % 26);

	t_parse_all_ways(text, len, &t_default, res);
	assert_int_equal(res->rc, 1);
	assert_true(res->complete);
	assert_int_equal(res->body_len, PP_HTTP_MAX_BODY_BYTES);
	assert_memory_equal(res->body, text + strlen(head), PP_HTTP_MAX_BODY_BYTES);

	/* The same without framing: complete at the limit, no close needed. */
	assert_int_equal(strlen(unframed), strlen(head));
	memcpy(text, unframed, strlen(head));
	t_parse_all_ways(text, len, &t_default, res);
	assert_int_equal(res->rc, 1);
	assert_int_equal(res->content_length, -1);
	assert_int_equal(res->body_len, PP_HTTP_MAX_BODY_BYTES);
	free(res);
	free(text);
}

static void test_zero_sized_body_buffer_completes_after_headers(void **state)
{
	struct t_result *res =
		t_resp("HTTP/1.1 200 OK\r\n\r\nignored", &(struct t_opts){.body_cap = (size_t)-1});

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->body_len, 0);
	free(res);
}

/* ---- connection-close bodies and eof -------------------------------------------------- */

static void test_close_delimited_body_completes_at_eof(void **state)
{
	struct t_result *res = t_resp("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", NULL);

	assert_int_equal(res->rc, 0);
	assert_true(res->headers_done);
	free(res);

	res = t_resp("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", &t_with_eof);
	assert_int_equal(res->rc, 1);
	assert_int_equal(res->body_len, 9);
	assert_memory_equal(res->body, "all of it", 9);
	free(res);

	/* A non-chunked Transfer-Encoding also leaves the close to end the body. */
	res = t_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc",
		     &t_with_eof);
	assert_int_equal(res->rc, 1);
	assert_false(res->chunked);
	assert_int_equal(res->body_len, 3);
	free(res);
}

static void test_eof_before_headers_is_an_error(void **state)
{
	static const char *const cut[] = {
		"",
		"HTTP/1.1",
		"HTTP/1.1 200 OK\r\n",
		"HTTP/1.1 200 OK\r\nContent-",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r",
		"HTTP/1.1 100 Continue\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct t_result *res = t_resp(cut[i], &t_with_eof);

		assert_int_equal(res->rc, -EBADMSG);
		assert_false(res->headers_done);
		assert_string_equal(res->error,
				    "connection closed before the response headers were complete");
		free(res);
	}
}

static void test_eof_before_framed_body_end_is_an_error(void **state)
{
	static const char *const cut[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct t_result *res = t_resp(cut[i], &t_with_eof);

		assert_int_equal(res->rc, -EBADMSG);
		assert_true(res->headers_done);
		assert_string_equal(res->error,
				    "connection closed before the response body was complete");
		free(res);
	}
}

/* ---- chunked ------------------------------------------------------------------------- */

static void test_chunked_body_with_extensions_is_decoded(void **state)
{
	struct t_result *res = t_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5;name=value\r\nhello\r\n"
				      "7 ; a=\"q;x\" ;b\r\n, world\r\n"
				      "b\r\n from chunk\r\n"
				      "C\r\ns, ok: UPPER\r\n"
				      "0000000000000001\r\n!\r\n"
				      "0;last\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\nIGNORED",
				      NULL);

	assert_int_equal(res->rc, 1);
	assert_true(res->chunked);
	assert_int_equal(res->content_length, -1);
	assert_int_equal(res->body_len, strlen("hello, world from chunks, ok: UPPER!"));
	assert_memory_equal(res->body, "hello, world from chunks, ok: UPPER!", res->body_len);
	free(res);

	/* Bare LFs, and "chunked" anywhere in the list, in any case. */
	t_expect_body("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, ChUnKeD\n\n2\nok\n0\n\n", 200,
		      "ok");
	t_expect_body("HTTP/1.1 200 OK\nTransfer-Encoding: cchunked\n\n2\nok\n0\n\n", 200, "ok");
}

static void test_chunked_overrides_content_length(void **state)
{
	t_expect_body("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
		      "2\r\nok\r\n0\r\n\r\n",
		      200, "ok");
}

static void test_chunked_body_stops_at_the_limit(void **state)
{
	struct t_result *res = t_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n7\r\n, world\r\n",
				      &(struct t_opts){.body_cap = 8});

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->body_len, 8);
	assert_memory_equal(res->body, "hello, w", 8);
	free(res);
}

static void test_invalid_chunk_sizes_are_rejected(void **state)
{
#define CH "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	t_expect_error(CH "zz\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH ";ext\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "-5\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "5x\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "5 5\r\n", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "5\rhello", -EBADMSG, "invalid chunk size");
	t_expect_error(CH "10000000000000000\r\n", -EBADMSG, "chunk size too large");
	t_expect_error(CH "5\r\nhelloXX", -EBADMSG, "malformed chunked encoding");
	t_expect_error(CH "5\r\nhello\rX", -EBADMSG, "malformed chunked encoding");
	t_expect_error(CH "0\r\n\rX", -EBADMSG, "malformed chunked encoding");
	t_expect_error(CH "5;a\x01\r\n", -EBADMSG, "invalid chunk extension");
#undef CH
}

static void test_chunk_size_line_is_bounded(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;";
	size_t len = strlen(head) + 5000;
	char *text = malloc(len);
	struct t_result *res = malloc(sizeof(*res));

	assert_non_null(text);
	assert_non_null(res);
	memcpy(text, head, strlen(head));
	memset(text + strlen(head), 'e', 5000);
	t_parse_all_ways(text, len, &t_default, res);
	assert_int_equal(res->rc, -EBADMSG);
	assert_string_equal(res->error, "chunk size line too long");
	free(res);
	free(text);
}

/* ---- status codes without a body, interim responses ------------------------------------- */

static void test_continue_then_final_response(void **state)
{
	struct t_result *res = t_resp("HTTP/1.1 100 Continue\r\n\r\n"
				      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n"
				      "Location: /hint\r\nContent-Length: 9\r\n\r\n"
				      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
				      NULL);

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->status, 200);
	assert_false(res->has_location);
	assert_int_equal(res->content_length, 2);
	assert_memory_equal(res->body, "ok", 2);
	free(res);
}

static void test_switching_protocols_is_final_without_body(void **state)
{
	t_expect_body("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nbinary", 101, "");
}

static void test_no_content_and_not_modified_have_no_body(void **state)
{
	t_expect_body("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 204, "");
	t_expect_body("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", 304,
		      "");
}

/* ---- Location ------------------------------------------------------------------------ */

static void test_location_is_captured_and_trimmed(void **state)
{
	struct t_result *res =
		t_resp("HTTP/1.1 301 Moved\r\nlocation: \t http://h/next?a=b c \t\r\n"
		       "Location: /second\r\nContent-Length: 0\r\n\r\n",
		       NULL);

	assert_int_equal(res->rc, 1);
	assert_int_equal(res->status, 301);
	assert_true(res->has_location);
	assert_string_equal(res->location, "http://h/next?a=b c");
	free(res);

	/* An empty Location is no Location, as Go's client sees it. */
	res = t_resp("HTTP/1.1 302 Found\r\nLocation:   \r\nContent-Length: 0\r\n\r\n", NULL);
	assert_int_equal(res->rc, 1);
	assert_false(res->has_location);
	free(res);
}

static void test_location_over_2047_bytes_is_too_long(void **state)
{
	static const char head[] = "HTTP/1.1 302 Found\r\nLocation: /";
	static const char tail[] = "   \r\nContent-Length: 0\r\n\r\n";
	size_t n = PP_HTTP_LOCATION_MAX - 1; /* the longest value that fits */
	char *text = malloc(strlen(head) + n + strlen(tail) + 1);
	struct t_result *res;

	assert_non_null(text);
	strcpy(text, head);
	memset(text + strlen(head), 'x', n - 1);
	strcpy(text + strlen(head) + n - 1, tail);
	res = t_resp(text, NULL);
	assert_int_equal(res->rc, 1);
	assert_int_equal(strlen(res->location), n);
	free(res);

	/* One more byte, then one more after trailing whitespace that looked droppable. */
	text[strlen(head) + n - 1] = 'x';
	t_expect_error(text, -EBADMSG, "Location header too long");
	memcpy(text + strlen(head) + n - 1, " x", 2);
	t_expect_error(text, -EBADMSG, "Location header too long");
	free(text);
}

/* ---- feeding contract ----------------------------------------------------------------- */

static void test_results_are_sticky(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXX";
	static const char again[] = "HTTP/1.1 200 OK\r\n\r\n";
	static char body[16];
	struct pp_http_resp r;

	pp_http_resp_init(&r, body, sizeof(body));
	assert_int_equal(pp_http_resp_feed(&r, ok, strlen(ok)), 1);
	assert_int_equal(pp_http_resp_feed(&r, "more", 4), 1);
	assert_int_equal(pp_http_resp_feed(&r, NULL, 0), 1);
	assert_int_equal(pp_http_resp_eof(&r), 1);
	assert_int_equal(r.body_len, 2);

	pp_http_resp_init(&r, body, sizeof(body));
	assert_int_equal(pp_http_resp_feed(&r, NULL, 0), 0);
	assert_int_equal(pp_http_resp_feed(&r, "nope", 4), -EBADMSG);
	assert_int_equal(pp_http_resp_feed(&r, again, strlen(again)), -EBADMSG);
	assert_int_equal(pp_http_resp_eof(&r), -EBADMSG);
	assert_string_equal(r.error, "malformed HTTP response");
}

static void test_parser_state_stays_small(void **state)
{
	/* Thousands are in flight: the Location field plus a few hundred bytes at most. */
	assert_true(sizeof(struct pp_http_resp) <= PP_HTTP_LOCATION_MAX + 256);
}

/* ---- request ------------------------------------------------------------------------- */

#define UA "kube-probe/1.34"

static void t_expect_request(const char *path, const struct pp_kv *h, size_t n, const char *want)
{
	char buf[1024];

	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "10.0.0.5:8080", path, h, n, UA),
			 strlen(want));
	assert_string_equal(buf, want);
}

static void test_request_has_probe_defaults(void **state)
{
	t_expect_request("/healthz", NULL, 0,
			 "GET /healthz HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
}

static void test_request_target_is_normalized(void **state)
{
	t_expect_request(NULL, NULL, 0,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
	t_expect_request("healthz?full=1", NULL, 0,
			 "GET /healthz?full=1 HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA
			 "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
	t_expect_request("/a b/\xc3\xa9?q=1#frag", NULL, 0,
			 "GET /a%20b/%C3%A9?q=1 HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA
			 "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}

static void test_request_user_agent_override_and_empty(void **state)
{
	const struct pp_kv mine[] = {{"user-agent", "my-agent/2"}, {"User-Agent", "second"}};
	const struct pp_kv empty[] = {{"User-Agent", ""}};

	t_expect_request("/", mine, 2,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: my-agent/2\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
	t_expect_request("/", empty, 1,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
}

static void test_request_accept_given_or_empty(void **state)
{
	const struct pp_kv given[] = {{"accept", "application/json"}, {"ACCEPT", "text/plain"}};
	const struct pp_kv empty[] = {{"Accept", NULL}, {"Accept", "text/plain"}};

	t_expect_request("/", given, 2,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "Accept: application/json\r\nAccept: text/plain\r\n"
			 "Connection: close\r\n\r\n");
	t_expect_request("/", empty, 2,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "Connection: close\r\n\r\n");
}

static void test_request_host_header_overrides_host(void **state)
{
	const struct pp_kv host[] = {{"X-A", "1"}, {"host", "example.com"}, {"Host", "no"}};
	const struct pp_kv empty[] = {{"Host", ""}};

	t_expect_request("/", host, 3,
			 "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: " UA "\r\n"
			 "X-A: 1\r\nAccept: */*\r\nConnection: close\r\n\r\n");
	t_expect_request("/", empty, 1,
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
}

static void test_request_header_names_are_canonical_and_repeatable(void **state)
{
	const struct pp_kv h[] = {
		{"x-foo-bar", "1"},
		{"X-FOO-BAR", "  2 \t"},
		{"content-TYPE", "t"},
		{"x-1abc-9", "n"},
		{"Connection", "keep-alive"},
		{"content-length", "5"},
		{"Transfer-Encoding", "chunked"},
	};

	t_expect_request("/", h, sizeof(h) / sizeof(h[0]),
			 "GET / HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: " UA "\r\n"
			 "X-Foo-Bar: 1\r\nX-Foo-Bar: 2\r\nContent-Type: t\r\nX-1abc-9: n\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n");
}

static void test_request_rejects_header_injection(void **state)
{
	const struct pp_kv crlf[] = {{"X-A", "a\r\nX-Evil: 1"}};
	const struct pp_kv name[] = {{"Bad Name", "a"}};
	const struct pp_kv noname[] = {{"", "a"}};
	const struct pp_kv host[] = {{"Host", "a b"}};
	char buf[512];

	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "h:80", "/", crlf, 1, UA),
			 -EINVAL);
	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "h:80", "/", name, 1, UA),
			 -EINVAL);
	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "h:80", "/", noname, 1, UA),
			 -EINVAL);
	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "h:80", "/", host, 1, UA),
			 -EINVAL);
	assert_int_equal(pp_http_build_request(buf, sizeof(buf), "", "/", NULL, 0, UA), -EINVAL);
	assert_int_equal(pp_http_build_request(buf, sizeof(buf), NULL, "/", NULL, 0, UA), -EINVAL);
}

static void test_request_reports_a_small_buffer(void **state)
{
	char buf[256];
	int len = pp_http_build_request(buf, sizeof(buf), "h:80", "/", NULL, 0, UA);

	assert_true(len > 0);
	for (int size = 0; size <= len; size++) {
		char *small = malloc(size ? size : 1);

		assert_non_null(small);
		assert_int_equal(pp_http_build_request(small, size, "h:80", "/", NULL, 0, UA),
				 -ENOSPC);
		free(small);
	}
	assert_int_equal(pp_http_build_request(buf, len + 1, "h:80", "/", NULL, 0, UA), len);
}

static void test_host_is_joined_with_port(void **state)
{
	char buf[64];

	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "10.0.0.5", 80), 11);
	assert_string_equal(buf, "10.0.0.5:80");
	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "::1", 8080), 10);
	assert_string_equal(buf, "[::1]:8080");
	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "h", 65535), 7);
	assert_string_equal(buf, "h:65535");
	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "h", 0), -EINVAL);
	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "h", 65536), -EINVAL);
	assert_int_equal(pp_http_format_host(buf, sizeof(buf), "", 80), -EINVAL);
	assert_int_equal(pp_http_format_host(buf, 4, "h", 80), -ENOSPC);
	assert_int_equal(pp_http_format_host(buf, 5, "h", 80), 4);
}

/* ---- redirects ----------------------------------------------------------------------- */

static void t_expect_target(const char *base_path, const char *location, const char *scheme,
			    const char *host, int port, const char *path)
{
	struct pp_http_target t;

	assert_int_equal(
		pp_http_resolve_redirect("HTTP", "10.0.0.5", 8080, base_path, location, &t), 0);
	assert_string_equal(t.scheme, scheme);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
	assert_string_equal(t.path, path);
}

static void t_expect_bad_target(const char *location, int err)
{
	struct pp_http_target t;

	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(pp_http_resolve_redirect("http", "10.0.0.5", 8080, "/a/b", location, &t),
			 err);
	/* Untouched on failure. */
	assert_int_equal(t.port, 0x5a5a5a5a);
	assert_int_equal(t.scheme[0], 0x5a);
}

static void test_redirect_absolute_urls(void **state)
{
	t_expect_target("/a/b", "http://example.com:9090/x?y=1", "http", "example.com", 9090,
			"/x?y=1");
	t_expect_target("/a/b", "https://Example.com/", "https", "Example.com", 443, "/");
	t_expect_target("/a/b", "HTTP://example.com", "http", "example.com", 80, "/");
	t_expect_target("/a/b", "http://h?q", "http", "h", 80, "/?q");
	t_expect_target("/a/b", "http://h:/p", "http", "h", 80, "/p");
	t_expect_target("/a/b", "http://user:pw@h:81/p", "http", "h", 81, "/p");
	t_expect_target("/a/b", "http://[::1]:8080/v6", "http", "::1", 8080, "/v6");
	t_expect_target("/a/b", "https://[fe80::1%25eth0]/z", "https", "fe80::1%25eth0", 443, "/z");
	t_expect_target("/a/b", "http://h/x/./y/../z#frag", "http", "h", 80, "/x/z");
}

static void test_redirect_relative_references(void **state)
{
	t_expect_target("/a/b", "//other/x", "http", "other", 80, "/x");
	t_expect_target("/a/b", "/abs?q=1", "http", "10.0.0.5", 8080, "/abs?q=1");
	t_expect_target("/a/b?x=1", "c/d", "http", "10.0.0.5", 8080, "/a/c/d");
	t_expect_target("/a/b/c", "../c", "http", "10.0.0.5", 8080, "/a/c");
	t_expect_target("/a/b/c", "../../../../x", "http", "10.0.0.5", 8080, "/x");
	t_expect_target("/a/b", "./", "http", "10.0.0.5", 8080, "/a/");
	t_expect_target("/a/b", ".", "http", "10.0.0.5", 8080, "/a/");
	t_expect_target("/a/b", "..", "http", "10.0.0.5", 8080, "/");
	t_expect_target("/a/b?x=1", "?q=2", "http", "10.0.0.5", 8080, "/a/b?q=2");
	t_expect_target("/a/b?x=1", "", "http", "10.0.0.5", 8080, "/a/b?x=1");
	t_expect_target("/a/b?x=1", "#top", "http", "10.0.0.5", 8080, "/a/b?x=1");
	t_expect_target("/", "next", "http", "10.0.0.5", 8080, "/next");
	t_expect_target(NULL, "next", "http", "10.0.0.5", 8080, "/next");
	t_expect_target("/a//b", "../c", "http", "10.0.0.5", 8080, "/a/c");
}

static void test_redirect_rejects_bad_locations(void **state)
{
	static const char *const bad[] = {
		"ftp://h/",	"mailto:x@y",	       "http:foo",	  "http://",
		"http:///x",	"http://:80/",	       "http://[::1",	  "http://[::1]x/",
		"http://[]/",	"http://[h]/",	       "http://h:70000/", "http://h:0/",
		"http://h:8a/", "http://a:b:c/",       "http://h\x01/",	  "/x\r\nX: y",
		"http://h<>/",	"javascript:alert(1)",
	};
	struct pp_http_target t;
	char *long_path = malloc(PP_HTTP_PATH_MAX + 2);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_bad_target(bad[i], -EINVAL);
	assert_int_equal(pp_http_resolve_redirect("ftp", "h", 21, "/", "/x", &t), -EINVAL);

	assert_non_null(long_path);
	memset(long_path, 'p', PP_HTTP_PATH_MAX + 1);
	long_path[0] = '/';
	long_path[PP_HTTP_PATH_MAX - 1] = '\0';
	assert_int_equal(pp_http_resolve_redirect("http", "h", 80, "/", long_path, &t), 0);
	long_path[PP_HTTP_PATH_MAX - 1] = 'p';
	long_path[PP_HTTP_PATH_MAX] = '\0';
	t_expect_bad_target(long_path, -ENAMETOOLONG);
	free(long_path);
}

static void test_same_host_ignores_case_only(void **state)
{
	assert_true(pp_http_same_host("Example.COM", "example.com"));
	assert_true(pp_http_same_host("::1", "::1"));
	assert_false(pp_http_same_host("a", "b"));
	assert_false(pp_http_same_host("a", "ab"));
	assert_false(pp_http_same_host("ab", "a"));
	assert_false(pp_http_same_host(NULL, "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_line_with_reason_is_parsed),
		cmocka_unit_test(test_status_line_without_reason_is_valid),
		cmocka_unit_test(test_bad_status_lines_are_rejected),
		cmocka_unit_test(test_bare_lf_line_endings_are_accepted),
		cmocka_unit_test(test_header_names_match_case_insensitively),
		cmocka_unit_test(test_header_names_longer_or_shorter_than_known_ones_are_others),
		cmocka_unit_test(test_malformed_header_lines_are_rejected),
		cmocka_unit_test(test_obsolete_line_folding_continues_the_value),
		cmocka_unit_test(test_headers_over_limit_are_too_large),
		cmocka_unit_test(test_interim_responses_count_against_the_header_limit),
		cmocka_unit_test(test_content_length_frames_the_body),
		cmocka_unit_test(test_repeated_equal_content_length_is_accepted),
		cmocka_unit_test(test_conflicting_content_length_is_rejected),
		cmocka_unit_test(test_invalid_content_length_is_rejected),
		cmocka_unit_test(test_body_is_truncated_at_the_limit_and_complete),
		cmocka_unit_test(test_zero_sized_body_buffer_completes_after_headers),
		cmocka_unit_test(test_close_delimited_body_completes_at_eof),
		cmocka_unit_test(test_eof_before_headers_is_an_error),
		cmocka_unit_test(test_eof_before_framed_body_end_is_an_error),
		cmocka_unit_test(test_chunked_body_with_extensions_is_decoded),
		cmocka_unit_test(test_chunked_overrides_content_length),
		cmocka_unit_test(test_chunked_body_stops_at_the_limit),
		cmocka_unit_test(test_invalid_chunk_sizes_are_rejected),
		cmocka_unit_test(test_chunk_size_line_is_bounded),
		cmocka_unit_test(test_continue_then_final_response),
		cmocka_unit_test(test_switching_protocols_is_final_without_body),
		cmocka_unit_test(test_no_content_and_not_modified_have_no_body),
		cmocka_unit_test(test_location_is_captured_and_trimmed),
		cmocka_unit_test(test_location_over_2047_bytes_is_too_long),
		cmocka_unit_test(test_results_are_sticky),
		cmocka_unit_test(test_parser_state_stays_small),
		cmocka_unit_test(test_request_has_probe_defaults),
		cmocka_unit_test(test_request_target_is_normalized),
		cmocka_unit_test(test_request_user_agent_override_and_empty),
		cmocka_unit_test(test_request_accept_given_or_empty),
		cmocka_unit_test(test_request_host_header_overrides_host),
		cmocka_unit_test(test_request_header_names_are_canonical_and_repeatable),
		cmocka_unit_test(test_request_rejects_header_injection),
		cmocka_unit_test(test_request_reports_a_small_buffer),
		cmocka_unit_test(test_host_is_joined_with_port),
		cmocka_unit_test(test_redirect_absolute_urls),
		cmocka_unit_test(test_redirect_relative_references),
		cmocka_unit_test(test_redirect_rejects_bad_locations),
		cmocka_unit_test(test_same_host_ignores_case_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
