/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding the raw records of the BPF ring buffer (pure; fuzzed by tests/fuzz/fuzz_ksig.c). */
#ifndef PODPROBE_KSIG_H
#define PODPROBE_KSIG_H

#include <stddef.h>

#include "podprobe/ksig-t.h"

/*
 * Decode one ring buffer sample <data> of <size> bytes (any alignment) into <ret>. The record
 * must carry PP_EV_ABI_VERSION, a known type, and a header size at least that type's record
 * and at most <size>. Returns 0 and fills <ret>; -EINVAL when <data> or <ret> is NULL;
 * -EBADMSG for anything else wrong with the record (<ret> untouched then).
 */
int pp_ksig_decode(const void *data, size_t size, struct pp_ksig *ret);

/* "exit", "oom", "listen", "unlisten", "accepts"; "?" when out of range. */
const char *pp_ksig_kind_str(enum pp_ksig_kind kind);

#endif
