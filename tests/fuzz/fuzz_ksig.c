/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the BPF ring buffer record decoder (user/core/ksig.c) on arbitrary bytes,
 * and the wedged-listener rule (user/core/accept_watch.c) on what it decodes. Each input is
 * decoded as one ring buffer sample, then walked as a sequence of records the way the ring
 * lays them out (each record's header size, rounded up to 8), every ACCEPTS record fed to one
 * pp_accept_watch. Besides the sanitizers, a broken promise aborts: a decoded event's kind in
 * range, its comm terminated, an exit code or a signal but not both, accepted + backlog equal
 * to established for a known queue, a rejected record leaving the output untouched, a stall no
 * longer than the span of the reports fed.
 *
 * Seeds are real records captured from the kernel (tests/fuzz/corpus/ksig/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/accept_watch.h"
#include "podprobe/ksig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pp_ksig *k)
{
	if ((unsigned int)k->kind >= _PP_KSIG_MAX || !memchr(k->comm, '\0', sizeof(k->comm)))
		abort();
	if (!strcmp(pp_ksig_kind_str(k->kind), "?"))
		abort();
	if (k->kind == PP_KSIG_EXIT) {
		if (k->signal ? k->exit_code != -1 || k->signal > 0x7e
			      : k->exit_code < 0 || k->exit_code > 255 || k->core_dumped)
			abort();
	}
	if (k->kind == PP_KSIG_ACCEPTS && k->queue_known && k->accepted &&
	    k->accepted + k->backlog != k->established)
		abort();
}

static void decode_one(const uint8_t *data, size_t size)
{
	struct pp_ksig k, before;
	int rc;

	memset(&k, 0xa5, sizeof(k));
	before = k;
	rc = pp_ksig_decode(data, size, &k);
	if (rc == 0)
		check(&k);
	else if (rc != -EBADMSG || memcmp(&k, &before, sizeof(k)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_accept_watch w = {0};
	pp_nsec oldest = UINT64_MAX;
	size_t off = 0;
	int n = 0;

	decode_one(data, size);
	if (pp_ksig_decode(NULL, size, NULL) != -EINVAL)
		abort();

	/* As a ring: records back to back, each starting 8-byte aligned. */
	while (off + 16 <= size && n++ < 256) {
		uint16_t rec_size;
		struct pp_ksig k;

		memcpy(&rec_size, data + off + 12, sizeof(rec_size));
		if (pp_ksig_decode(data + off, size - off, &k) == 0) {
			check(&k);
			if (k.kind == PP_KSIG_ACCEPTS && k.queue_known) {
				if (k.ts < oldest)
					oldest = k.ts;
				pp_accept_watch_on_report(
					&w, k.cookie, k.backlog, k.accepted, k.established, k.ts,
					(pp_nsec)(k.max_backlog % 4096) * 1000000);
				if (w.last < oldest ||
				    pp_accept_watch_stalled_for(&w) > w.last - oldest)
					abort();
				if (pp_accept_watch_wedged(&w) && !w.stalled)
					abort();
			}
		}
		off += rec_size < 16 ? 16 : ((size_t)rec_size + 7) & ~(size_t)7;
	}
	return 0;
}
