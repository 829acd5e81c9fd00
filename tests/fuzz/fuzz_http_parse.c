/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the httpGet probe's HTTP/1.x response parser (user/core/http_parse.c) on
 * arbitrary server bytes. Each input is parsed twice: fed whole, and fed in pieces cut at
 * points drawn from a PRNG seeded with the input's hash. pp_http_resp_feed() promises the
 * same result however the bytes are split, so the two parses must agree on every result field
 * and on the body; a difference aborts (a crash to libFuzzer). The body buffer's size and the
 * header limit are drawn the same way, so the body-limit and -E2BIG paths run too. A Location
 * the parse yields then goes through pp_http_resolve_redirect(), and the path through
 * pp_http_build_request(), as probe_http.c would use them.
 *
 * Seeds are plain responses as servers send them (tests/fuzz/corpus/http_parse/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct parse {
	struct pp_http_resp r;
	char *body;
	int rc;
};

static uint64_t next(uint64_t *s)
{
	/* xorshift64*: any fixed generator will do, it only has to be repeatable */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void start(struct parse *p, size_t body_cap, size_t max_head)
{
	/* Exactly <body_cap> bytes, so ASan sees a write past the caller's buffer. */
	p->body = body_cap ? malloc(body_cap) : NULL;
	if (body_cap && !p->body)
		abort();
	pp_http_resp_init(&p->r, p->body, body_cap);
	if (max_head)
		p->r.max_header_bytes = max_head;
	p->rc = 0;
}

static void finish(struct parse *p)
{
	if (p->rc == 0)
		p->rc = pp_http_resp_eof(&p->r);
	/* Sticky: asking again changes nothing. */
	if (pp_http_resp_feed(&p->r, "x", 1) != p->rc)
		abort();
}

static bool same(const struct parse *a, const struct parse *b)
{
	const struct pp_http_resp *x = &a->r, *y = &b->r;

	if (a->rc != b->rc || x->status != y->status || x->headers_done != y->headers_done ||
	    x->complete != y->complete || x->has_location != y->has_location ||
	    x->chunked != y->chunked || x->content_length != y->content_length ||
	    x->body_len != y->body_len)
		return false;
	if ((x->error == NULL) != (y->error == NULL) || (x->error && strcmp(x->error, y->error)))
		return false;
	if (x->has_location && strcmp(x->location, y->location))
		return false;
	return !x->body_len || !memcmp(a->body, b->body, x->body_len);
}

static void use_location(const struct pp_http_resp *r)
{
	struct pp_http_target t;
	char req[4096];
	int n;

	if (!r->has_location)
		return;
	if (strnlen(r->location, sizeof(r->location)) == sizeof(r->location))
		abort(); /* not NUL-terminated */
	if (pp_http_resolve_redirect("http", "127.0.0.1", 8080, "/a/b?c=d", r->location, &t) == 0) {
		if (t.port < 1 || t.port > 65535 || t.path[0] != '/' ||
		    strnlen(t.host, sizeof(t.host)) == sizeof(t.host))
			abort();
		pp_http_same_host(t.host, "127.0.0.1");
	}
	n = pp_http_build_request(req, sizeof(req), "127.0.0.1:8080", r->location, NULL, 0,
				  "kube-probe/1.34");
	if (n >= 0 && (size_t)n != strlen(req))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {PP_HTTP_MAX_BODY_BYTES, 0, 1, 7, 100};
	static const size_t heads[] = {0, 0, 0, 16, 64, 300}; /* 0: the default */
	const char *in = (const char *)data;
	struct parse whole, split;
	uint64_t seed = 0xcbf29ce484222325ULL; /* FNV-1a of the input */
	size_t cap, head, off = 0;

	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;
	cap = caps[next(&seed) % (sizeof(caps) / sizeof(caps[0]))];
	head = heads[next(&seed) % (sizeof(heads) / sizeof(heads[0]))];

	start(&whole, cap, head);
	whole.rc = pp_http_resp_feed(&whole.r, in, size);
	finish(&whole);

	start(&split, cap, head);
	while (off < size && split.rc == 0) {
		/* Mostly short pieces (1..8 bytes: every boundary matters), sometimes long ones. */
		uint64_t v = next(&seed);
		size_t n = v & 0x100 ? (size_t)(v % 8) + 1 : (size_t)(v % (size - off)) + 1;

		if (n > size - off)
			n = size - off;
		split.rc = pp_http_resp_feed(&split.r, in + off, n);
		off += n;
	}
	finish(&split);

	if (!same(&whole, &split))
		abort();
	if (whole.r.body_len > cap || (whole.rc < 0 && !whole.r.error))
		abort();
	use_location(&whole.r);
	free(whole.body);
	free(split.body);
	return 0;
}
