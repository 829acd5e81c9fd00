// SPDX-License-Identifier: Apache-2.0
/*
 * The API server's HTTP/1.1 request parser (user/core/http_req.c): requests fed whole, byte by
 * byte and split at every offset must parse the same; pipelined requests; Content-Length and
 * chunked bodies; the limits (431, 413) and the malformed heads (400, 501, 505); query and
 * path decoding; header lookup.
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

#include "podprobe/http_req.h"

/* What a parse ends with, compared across feeding patterns. */
struct t_res {
	int rc;	     /* the last feed's return */
	size_t used; /* bytes consumed in total */
	int status;  /* on failure */
	bool complete;
	char method[16];
	char path[256];
	char query[256];
	size_t n_headers;
	bool keep_alive;
	size_t body_len;
	char *body; /* malloc'ed copy */
};

static void t_res_free(struct t_res *t)
{
	free(t->body);
	t->body = NULL;
}

/* Feed <data> in pieces of <step> bytes (0 = whole), each piece in its own exact allocation. */
static void t_parse(const char *data, size_t len, size_t step, struct t_res *t)
{
	struct pp_http_req r;
	size_t off = 0;

	memset(t, 0, sizeof(*t));
	pp_http_req_init(&r, 0, 0);
	while (off < len || !len) {
		size_t n = step && step < len - off ? step : len - off;
		char *piece = malloc(n ? n : 1);
		int rc;

		assert_non_null(piece);
		memcpy(piece, data + off, n);
		rc = pp_http_req_feed(&r, piece, n);
		free(piece);
		t->rc = rc;
		if (rc < 0 || !len)
			break;
		assert_true((size_t)rc <= n);
		off += (size_t)rc;
		t->used = off;
		if (r.complete)
			break;
		/* Only a complete request leaves bytes unconsumed. */
		assert_int_equal(rc, n);
	}
	t->status = r.status;
	t->complete = r.complete;
	if (r.complete) {
		snprintf(t->method, sizeof(t->method), "%s", r.method_str);
		snprintf(t->path, sizeof(t->path), "%s", r.path);
		snprintf(t->query, sizeof(t->query), "%s", r.query);
		t->n_headers = r.n_headers;
		t->keep_alive = r.keep_alive;
		t->body_len = r.body_len;
		t->body = malloc(r.body_len + 1);
		assert_non_null(t->body);
		memcpy(t->body, r.body, r.body_len + 1);
		assert_int_equal(r.body[r.body_len], '\0');
	} else if (t->rc < 0) {
		assert_true(r.status >= 400);
		assert_non_null(r.error);
	} else {
		assert_int_equal(r.status, 0);
	}
	pp_http_req_fini(&r);
}

static void t_same(const struct t_res *a, const struct t_res *b)
{
	assert_int_equal(a->rc < 0 ? a->rc : 0, b->rc < 0 ? b->rc : 0);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->complete, b->complete);
	if (!a->complete)
		return;
	assert_int_equal(a->used, b->used);
	assert_string_equal(a->method, b->method);
	assert_string_equal(a->path, b->path);
	assert_string_equal(a->query, b->query);
	assert_int_equal(a->n_headers, b->n_headers);
	assert_int_equal(a->keep_alive, b->keep_alive);
	assert_int_equal(a->body_len, b->body_len);
	assert_memory_equal(a->body, b->body, a->body_len);
}

/* Parse <s> whole, byte by byte, and split in two at every offset; all must agree. */
static void t_parse_all_ways(const char *s, size_t len, struct t_res *ret)
{
	struct t_res other;

	t_parse(s, len, 0, ret);
	t_parse(s, len, 1, &other);
	t_same(ret, &other);
	t_res_free(&other);
	for (size_t cut = 1; cut < len && len < 2048; cut++) {
		struct pp_http_req r;
		size_t used;
		int rc;

		pp_http_req_init(&r, 0, 0);
		rc = pp_http_req_feed(&r, s, cut);
		used = rc > 0 ? (size_t)rc : 0;
		if (rc >= 0 && !r.complete) {
			rc = pp_http_req_feed(&r, s + cut, len - cut);
			used += rc > 0 ? (size_t)rc : 0;
		}
		assert_int_equal(r.complete, ret->complete);
		assert_int_equal(r.status, ret->status);
		if (r.complete) {
			assert_int_equal(used, ret->used);
			assert_int_equal(r.body_len, ret->body_len);
			assert_memory_equal(r.body, ret->body, r.body_len);
			assert_string_equal(r.path, ret->path);
		}
		pp_http_req_fini(&r);
	}
}

#define PARSE(s, res) t_parse_all_ways(s, sizeof(s) - 1, res)

static void test_simple_get_parses_however_it_is_split(void **state)
{
	static const char req[] =
		"GET /api/v1/namespaces/default/pods?limit=500&watch=true HTTP/1.1\r\n"
		"Host: 127.0.0.1:10443\r\n"
		"User-Agent: kubectl/v1.32.4\r\n"
		"Accept:   application/json;as=Table;v=v1;g=meta.k8s.io  \r\n"
		"\r\n";
	struct pp_http_req r;
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_string_equal(t.method, "GET");
	assert_string_equal(t.path, "/api/v1/namespaces/default/pods");
	assert_string_equal(t.query, "limit=500&watch=true");
	assert_int_equal(t.n_headers, 3);
	assert_true(t.keep_alive);
	assert_int_equal(t.body_len, 0);
	assert_int_equal(t.used, sizeof(req) - 1);
	t_res_free(&t);

	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, req, sizeof(req) - 1), sizeof(req) - 1);
	assert_true(r.complete);
	assert_int_equal(r.method, PP_HTTP_GET);
	assert_string_equal(pp_http_req_header(&r, "accept"),
			    "application/json;as=Table;v=v1;g=meta.k8s.io");
	assert_string_equal(pp_http_req_header(&r, "HOST"), "127.0.0.1:10443");
	assert_null(pp_http_req_header(&r, "Authorization"));
	assert_string_equal(r.body, "");
	pp_http_req_fini(&r);
}

static void test_methods_map_to_the_enum_and_unknown_tokens_to_other(void **state)
{
	static const struct {
		const char *req;
		enum pp_http_method m;
	} cases[] = {
		{"POST / HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_POST},
		{"PATCH / HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_PATCH},
		{"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_DELETE},
		{"PUT / HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_PUT},
		{"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_OPTIONS},
		{"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", PP_HTTP_OTHER},
		{"get / HTTP/1.1\r\nHost: x\r\n\r\n",
		 PP_HTTP_OTHER}, /* methods are case-sensitive */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_http_req r;

		pp_http_req_init(&r, 0, 0);
		assert_int_equal(pp_http_req_feed(&r, cases[i].req, strlen(cases[i].req)),
				 strlen(cases[i].req));
		assert_true(r.complete);
		assert_int_equal(r.method, cases[i].m);
		pp_http_req_fini(&r);
	}
}

static void test_content_length_body_is_kept_whole(void **state)
{
	static const char req[] = "POST /api/v1/namespaces/default/pods HTTP/1.1\r\n"
				  "Host: x\r\nContent-Type: application/json\r\n"
				  "Content-Length: 26\r\n\r\n"
				  "{\"kind\":\"Pod\",\"a\":\"\\u0000\"}";
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_int_equal(t.body_len, 26);
	assert_memory_equal(t.body, "{\"kind\":\"Pod\",\"a\":\"\\u0000\"", 26);
	/* The byte after the body is the next request's. */
	assert_int_equal(t.used, sizeof(req) - 2);
	t_res_free(&t);
}

static void test_chunked_body_is_dechunked_with_extensions_and_trailers(void **state)
{
	static const char req[] =
		"PATCH /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n"
		"1;name=value;x\r\n \r\n"
		"00B \r\nworld,again\r\n"
		"0\r\nX-Trailer: yes\r\n\r\n"
		"GET";
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_int_equal(t.body_len, 17);
	assert_string_equal(t.body, "hello world,again");
	assert_int_equal(t.used, sizeof(req) - 1 - 3);
	t_res_free(&t);
}

static void test_chunked_body_accepts_bare_lf(void **state)
{
	static const char req[] = "POST /x HTTP/1.1\nHost: x\ntransfer-encoding: Chunked\n\n"
				  "3\nabc\n0\n\n";
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_string_equal(t.body, "abc");
	t_res_free(&t);
}

static void test_pipelined_requests_parse_one_after_the_other(void **state)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				  "POST /b?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
				  "\r\n" /* a stray CRLF between requests is skipped */
				  "DELETE /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *p = two, *end = two + sizeof(two) - 1;
	const char *paths[] = {"/a", "/b", "/c"};
	struct pp_http_req r;
	int rc;

	pp_http_req_init(&r, 0, 0);
	for (int i = 0; i < 3; i++) {
		rc = pp_http_req_feed(&r, p, (size_t)(end - p));
		assert_true(rc > 0);
		assert_true(r.complete);
		assert_string_equal(r.path, paths[i]);
		assert_int_equal(r.keep_alive, i < 2);
		if (i == 1)
			assert_string_equal(r.body, "xyz");
		p += rc;
		/* A complete request takes nothing more until reset. */
		assert_int_equal(pp_http_req_feed(&r, p, (size_t)(end - p)), 0);
		pp_http_req_reset(&r);
	}
	assert_ptr_equal(p, end);
	pp_http_req_fini(&r);
}

static void test_head_over_64k_is_431_however_it_arrives(void **state)
{
	size_t len = 70 << 10, off;
	char *req = malloc(len);
	struct pp_http_req r;
	int rc = 0;

	assert_non_null(req);
	memset(req, 'a', len);
	memcpy(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 32);
	memcpy(req + len - 4, "\r\n\r\n", 4);
	for (size_t step = 1; step <= len; step = step * 7 + 1) {
		pp_http_req_init(&r, 0, 0);
		for (off = 0; off < len; off += (size_t)rc) {
			size_t n = step < len - off ? step : len - off;

			rc = pp_http_req_feed(&r, req + off, n);
			if (rc < 0)
				break;
			assert_int_equal(rc, n);
		}
		assert_int_equal(rc, -EMSGSIZE);
		assert_int_equal(r.status, 431);
		/* Refused before buffering past the limit. */
		assert_true(off <= PP_HTTP_REQ_MAX_HEAD);
		assert_true(r.cap <= PP_HTTP_REQ_MAX_HEAD + PP_HTTP_REQ_MAX_BODY + 1);
		/* Sticky. */
		assert_int_equal(pp_http_req_feed(&r, "x", 1), -EMSGSIZE);
		pp_http_req_fini(&r);
	}
	free(req);
}

static void test_head_of_exactly_the_limit_is_accepted(void **state)
{
	size_t len = PP_HTTP_REQ_MAX_HEAD;
	char *req = malloc(len);
	struct pp_http_req r;

	assert_non_null(req);
	memset(req, 'a', len);
	memcpy(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 32);
	memcpy(req + len - 4, "\r\n\r\n", 4);
	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, req, len), len);
	assert_true(r.complete);
	assert_int_equal(strlen(pp_http_req_header(&r, "x-big")), len - 32 - 4);
	pp_http_req_fini(&r);
	free(req);
}

static void test_too_many_headers_is_431(void **state)
{
	char req[8192];
	struct pp_http_req r;
	int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\n");

	for (int i = 0; i < PP_HTTP_REQ_MAX_HEADERS; i++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "X-%d: v\r\n", i);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, req, (size_t)n), -EMSGSIZE);
	assert_int_equal(r.status, 431);
	pp_http_req_fini(&r);
}

static void test_declared_body_over_3mib_is_413_at_once(void **state)
{
	static const char req[] = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3145729\r\n\r\n";
	static const char huge[] = "POST /x HTTP/1.1\r\nHost: x\r\n"
				   "Content-Length: 99999999999999999999999999\r\n\r\n";
	static const char ok[] = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n";
	struct pp_http_req r;

	pp_http_req_init(&r, 0, 0);
	/* Answered before a body byte arrives, so the client is not made to send 3 MiB. */
	assert_int_equal(pp_http_req_feed(&r, req, sizeof(req) - 1), -EMSGSIZE);
	assert_int_equal(r.status, 413);
	pp_http_req_reset(&r);
	assert_int_equal(pp_http_req_feed(&r, huge, sizeof(huge) - 1), -EMSGSIZE);
	assert_int_equal(r.status, 413);
	pp_http_req_reset(&r);
	assert_int_equal(pp_http_req_feed(&r, ok, sizeof(ok) - 1), sizeof(ok) - 1);
	assert_false(r.complete);
	pp_http_req_fini(&r);
}

static void test_chunked_body_over_the_limit_is_413(void **state)
{
	static const char head[] =
		"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char big_chunk[] = "FFFFFFFFFFFFFFFFFFFF\r\n";
	char chunk[1024 + 16];
	struct pp_http_req r;
	int rc = 0, n;

	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, head, sizeof(head) - 1), sizeof(head) - 1);
	assert_int_equal(pp_http_req_feed(&r, big_chunk, sizeof(big_chunk) - 1), -EMSGSIZE);
	assert_int_equal(r.status, 413);
	pp_http_req_fini(&r);

	/* Many small chunks adding up past the limit. */
	pp_http_req_init(&r, 0, 1 << 20);
	assert_int_equal(pp_http_req_feed(&r, head, sizeof(head) - 1), sizeof(head) - 1);
	n = snprintf(chunk, sizeof(chunk), "400\r\n%01024d\r\n", 0);
	for (int i = 0; i <= 1024 && rc >= 0; i++)
		rc = pp_http_req_feed(&r, chunk, (size_t)n);
	assert_int_equal(rc, -EMSGSIZE);
	assert_int_equal(r.status, 413);
	assert_true(r.cap <= PP_HTTP_REQ_MAX_HEAD + (1 << 20) + 1);
	pp_http_req_fini(&r);
}

static void t_expect_error(const char *req, int status)
{
	struct t_res t;

	t_parse_all_ways(req, strlen(req), &t);
	assert_false(t.complete);
	if (t.status != status)
		fail_msg("'%s': status %d, want %d", req, t.status, status);
	assert_int_equal(t.rc, status == 413 || status == 431 ? -EMSGSIZE : -EINVAL);
	t_res_free(&t);
}

static void test_bad_request_lines_are_400(void **state)
{
	static const char *const bad[] = {
		"garbage\r\n\r\n",
		"GET\r\nHost: x\r\n\r\n",
		"GET /\r\nHost: x\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
		"GET / http/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.10\r\nHost: x\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET x HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://h/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x16\x03\x01\x02\x01\x01\xfc\x03\x03\n\n", /* a TLS hello on the wrong port */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_error(bad[i], 400);
	t_expect_error("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	t_expect_error("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505);
}

static void test_bad_header_syntax_is_400(void **state)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n", /* space before colon */
		"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n  folded\r\n\r\n", /* obs-fold */
		"GET / HTTP/1.1\r\n Host: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nBad(Name): v\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nA: b\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n", /* no Host in 1.1 */
		"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
	};
	static const char nul[] = "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n";
	struct t_res t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_error(bad[i], 400);
	PARSE(nul, &t);
	assert_int_equal(t.status, 400);
	t_res_free(&t);
}

static void test_bad_content_length_and_framing_are_400(void **state)
{
	static const char *const bad[] = {
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\rx",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;\x01\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rx",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_error(bad[i], 400);
	t_expect_error("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		       501);
	t_expect_error("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	t_expect_error("POST / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", 417);
}

static void test_repeated_equal_content_lengths_are_accepted(void **state)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
				  "Content-Length: 02\r\n\r\nab";
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_string_equal(t.body, "ab");
	t_res_free(&t);
}

static void test_chunk_size_line_is_bounded(void **state)
{
	static const char head[] =
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;";
	char ext[5000];
	struct pp_http_req r;

	memset(ext, 'e', sizeof(ext));
	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, head, sizeof(head) - 1), sizeof(head) - 1);
	assert_int_equal(pp_http_req_feed(&r, ext, sizeof(ext)), -EINVAL);
	assert_int_equal(r.status, 400);
	pp_http_req_fini(&r);
}

static void test_keep_alive_follows_version_and_connection(void **state)
{
	static const struct {
		const char *req;
		bool ka;
	} cases[] = {
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, close\r\n\r\n", false},
		{"GET / HTTP/1.0\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pp_http_req r;

		pp_http_req_init(&r, 0, 0);
		assert_int_equal(pp_http_req_feed(&r, cases[i].req, strlen(cases[i].req)),
				 strlen(cases[i].req));
		assert_true(r.complete);
		if (r.keep_alive != cases[i].ka)
			fail_msg("'%s': keep_alive %d", cases[i].req, r.keep_alive);
		pp_http_req_fini(&r);
	}
}

static void test_expect_continue_is_flagged_until_the_body_arrives(void **state)
{
	static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
				   "Expect: 100-continue\r\n\r\n";
	struct pp_http_req r;

	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, head, sizeof(head) - 1), sizeof(head) - 1);
	assert_false(r.complete);
	assert_true(r.head_len > 0);
	assert_true(r.expect_continue);
	assert_int_equal(pp_http_req_feed(&r, "ok", 2), 2);
	assert_true(r.complete);
	assert_false(r.expect_continue);
	assert_string_equal(r.body, "ok");
	pp_http_req_fini(&r);
}

static void test_leading_empty_lines_are_skipped(void **state)
{
	static const char req[] = "\r\n\r\n\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n";
	struct t_res t;

	PARSE(req, &t);
	assert_true(t.complete);
	assert_string_equal(t.path, "/x");
	t_res_free(&t);
}

static void test_reset_reuses_the_parser_after_a_large_body(void **state)
{
	size_t n = 2u << 20;
	char head[128], *body = malloc(n);
	struct pp_http_req r;
	int hl = snprintf(head, sizeof(head),
			  "PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);

	assert_non_null(body);
	memset(body, 'b', n);
	pp_http_req_init(&r, 0, 0);
	assert_int_equal(pp_http_req_feed(&r, head, (size_t)hl), hl);
	for (size_t off = 0; off < n; off += 4096)
		assert_int_equal(pp_http_req_feed(&r, body + off, 4096), 4096);
	assert_true(r.complete);
	assert_int_equal(r.body_len, n);
	assert_string_equal(r.path, "/b");
	assert_string_equal(pp_http_req_header(&r, "host"), "x");
	pp_http_req_reset(&r);
	/* The 2 MiB buffer is not kept for an idle keep-alive connection. */
	assert_true(r.cap <= 64u << 10);
	assert_int_equal(pp_http_req_feed(&r, "GET /c HTTP/1.1\r\nHost: y\r\n\r\n", 28), 28);
	assert_true(r.complete);
	assert_string_equal(r.path, "/c");
	pp_http_req_fini(&r);
	free(body);
}

static void test_query_parameters_are_decoded(void **state)
{
	static const char q[] = "labelSelector=app%3Dweb%2Ctier+in+%28a%29&watch&fieldSelector="
				"&a%62c=1&limit=500&bad=%zz&nul=%00&limit=9";
	char buf[64];

	assert_int_equal(pp_http_query_get(q, "labelSelector", buf, sizeof(buf)), 19);
	assert_string_equal(buf, "app=web,tier in (a)");
	assert_int_equal(pp_http_query_get(q, "watch", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(pp_http_query_get(q, "fieldSelector", buf, sizeof(buf)), 0);
	assert_int_equal(pp_http_query_get(q, "abc", buf, sizeof(buf)), 1); /* encoded key */
	assert_string_equal(buf, "1");
	assert_int_equal(pp_http_query_get(q, "limit", buf, sizeof(buf)), 3); /* the first */
	assert_string_equal(buf, "500");
	assert_int_equal(pp_http_query_get(q, "missing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(pp_http_query_get(q, "lim", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(pp_http_query_get(q, "bad", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pp_http_query_get(q, "nul", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pp_http_query_get(q, "limit", buf, 3), -ENOSPC);
	assert_int_equal(pp_http_query_get(q, "limit", buf, 4), 3);
	assert_int_equal(pp_http_query_get("", "a", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(pp_http_query_get("a=%4", "a", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pp_http_query_get("a=%", "a", buf, sizeof(buf)), -EINVAL);
}

static void test_path_segments_are_unescaped_without_plus(void **state)
{
	char buf[32];

	assert_int_equal(pp_http_unescape("web%2D1+x", 9, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "web-1+x");
	assert_int_equal(pp_http_unescape("abcdef", 3, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(pp_http_unescape("a%2", 3, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pp_http_unescape("a%2fb", 5, buf, sizeof(buf)), 3);
	assert_int_equal(pp_http_unescape("abc", 3, buf, 3), -ENOSPC);
	assert_int_equal(pp_http_unescape("", 0, buf, 1), 0);
	assert_int_equal(pp_http_unescape("", 0, buf, 0), -ENOSPC);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/*
 * Random bytes and mutated requests: the parse ends (complete or an error with a status) and
 * random splits agree with the whole parse.
 */
static void test_random_inputs_never_stall_and_splits_agree(void **state)
{
	static const char base[] =
		"POST /a?b=c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		"\r\n4\r\nabcd\r\n0\r\n\r\n";
	static const char alphabet[] = "\r\n :;0123456789aAfFxX/?%&=-GETPOSTHTTP/1.\t\x01\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char in[256];

	for (int iter = 0; iter < 20000; iter++) {
		struct t_res whole, split;
		size_t len;

		if (iter & 1) {
			len = sizeof(base) - 1;
			memcpy(in, base, len);
			for (int m = 0; m < 3; m++)
				in[xorshift(&seed) % len] =
					alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
		} else {
			len = xorshift(&seed) % sizeof(in);
			for (size_t i = 0; i < len; i++)
				in[i] = alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
		}
		t_parse(in, len, 0, &whole);
		t_parse(in, len, (size_t)(xorshift(&seed) % 9) + 1, &split);
		t_same(&whole, &split);
		t_res_free(&whole);
		t_res_free(&split);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get_parses_however_it_is_split),
		cmocka_unit_test(test_methods_map_to_the_enum_and_unknown_tokens_to_other),
		cmocka_unit_test(test_content_length_body_is_kept_whole),
		cmocka_unit_test(test_chunked_body_is_dechunked_with_extensions_and_trailers),
		cmocka_unit_test(test_chunked_body_accepts_bare_lf),
		cmocka_unit_test(test_pipelined_requests_parse_one_after_the_other),
		cmocka_unit_test(test_head_over_64k_is_431_however_it_arrives),
		cmocka_unit_test(test_head_of_exactly_the_limit_is_accepted),
		cmocka_unit_test(test_too_many_headers_is_431),
		cmocka_unit_test(test_declared_body_over_3mib_is_413_at_once),
		cmocka_unit_test(test_chunked_body_over_the_limit_is_413),
		cmocka_unit_test(test_bad_request_lines_are_400),
		cmocka_unit_test(test_bad_header_syntax_is_400),
		cmocka_unit_test(test_bad_content_length_and_framing_are_400),
		cmocka_unit_test(test_repeated_equal_content_lengths_are_accepted),
		cmocka_unit_test(test_chunk_size_line_is_bounded),
		cmocka_unit_test(test_keep_alive_follows_version_and_connection),
		cmocka_unit_test(test_expect_continue_is_flagged_until_the_body_arrives),
		cmocka_unit_test(test_leading_empty_lines_are_skipped),
		cmocka_unit_test(test_reset_reuses_the_parser_after_a_large_body),
		cmocka_unit_test(test_query_parameters_are_decoded),
		cmocka_unit_test(test_path_segments_are_unescaped_without_plus),
		cmocka_unit_test(test_random_inputs_never_stall_and_splits_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
