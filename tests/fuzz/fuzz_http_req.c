/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the API server's HTTP/1.1 request parser (user/core/http_req.c) on
 * arbitrary client bytes. The input is parsed as a connection would: requests one after the
 * other (pipelined), each through pp_http_req_reset(); once whole, once in pieces cut at points
 * drawn from a PRNG seeded with the input's hash. pp_http_req_feed() promises the same result
 * however the bytes arrive, so both runs must see the same requests (method, target, headers,
 * body) and end the same way; a difference aborts. Every returned string is read to its NUL, so
 * ASan sees a pointer left in a moved buffer. The limits are drawn small too, so the 413 and
 * 431 paths run. Query parameters of each request go through pp_http_query_get().
 *
 * Seeds are requests as kubectl and curl send them (tests/fuzz/corpus/http_req/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQS 16

/* A digest of one parsed request: FNV-1a over every field it hands out. */
static uint64_t digest(const struct pp_http_req *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *strs[3] = {r->method_str, r->path, r->query};

#define MIX(p, n)                           \
	for (size_t i_ = 0; i_ < (n); i_++) \
		h = (h ^ (uint8_t)(p)[i_]) * 0x100000001b3ULL;
	for (int i = 0; i < 3; i++)
		MIX(strs[i], strlen(strs[i]) + 1);
	for (size_t i = 0; i < r->n_headers; i++) {
		MIX(r->headers[i].name, strlen(r->headers[i].name) + 1);
		MIX(r->headers[i].value, strlen(r->headers[i].value) + 1);
	}
	MIX(r->body, r->body_len + 1);
	h ^= (uint64_t)r->method << 1 | r->keep_alive;
#undef MIX
	if (r->body[r->body_len])
		abort();
	return h;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

struct run {
	uint64_t digests[MAX_REQS];
	int n;
	int status; /* of the failure that ended the run, 0 if none */
};

static void use_query(const struct pp_http_req *r)
{
	static const char *const names[] = {"watch", "labelSelector", "a", ""};
	char buf[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = pp_http_query_get(r->query, names[i], buf, sizeof(buf));

		if (n >= 0 && ((size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n))
			abort();
	}
	if (pp_http_unescape(r->path, strlen(r->path), buf, sizeof(buf)) >= (int)sizeof(buf))
		abort();
}

static void parse(const uint8_t *data, size_t size, uint64_t *seed, bool split, size_t max_head,
		  size_t max_body, struct run *out)
{
	struct pp_http_req r;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	pp_http_req_init(&r, max_head, max_body);
	while (off < size && out->n < MAX_REQS) {
		size_t n = size - off;
		int rc;

		if (split) {
			uint64_t v = next(seed);

			n = v & 0x100 ? (size_t)(v % 8) + 1 : (size_t)(v % (size - off)) + 1;
			if (n > size - off)
				n = size - off;
		}
		rc = pp_http_req_feed(&r, (const char *)data + off, n);
		if (rc < 0) {
			if (!r.error || r.status < 400 || pp_http_req_feed(&r, "x", 1) != rc)
				abort();
			out->status = r.status;
			break;
		}
		if ((size_t)rc > n || (!r.complete && (size_t)rc != n) || (n && !rc && !r.complete))
			abort();
		off += (size_t)rc;
		if (r.complete) {
			out->digests[out->n++] = digest(&r);
			use_query(&r);
			pp_http_req_reset(&r);
		}
	}
	pp_http_req_fini(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t heads[] = {0, 0, 64, 300};
	static const size_t bodies[] = {0, 0, 1, 16};
	uint64_t seed = 0xcbf29ce484222325ULL;
	struct run whole, split;
	size_t head, body;

	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;
	head = heads[next(&seed) % 4];
	body = bodies[next(&seed) % 4];
	parse(data, size, &seed, false, head, body, &whole);
	parse(data, size, &seed, true, head, body, &split);
	if (whole.n != split.n || whole.status != split.status ||
	    memcmp(whole.digests, split.digests, sizeof(whole.digests)))
		abort();
	return 0;
}
