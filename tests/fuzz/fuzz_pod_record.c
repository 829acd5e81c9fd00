/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the pod record decoder (user/core/pod_record.c) on arbitrary bytes, the
 * text a restarted podprobe reads back from its state directory. Whatever decodes must encode
 * and decode again to the same text. Seeds: records podprobe wrote
 * (tests/fuzz/corpus/pod_record/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/pod_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_pod_record r = {0}, again = {0};
	char err[128], *text = NULL, *text2 = NULL;
	size_t len, len2;

	if (pp_pod_record_decode((const char *)data, size, &r, err, sizeof(err)) < 0)
		return 0;
	if (pp_pod_record_encode(&r, &text, &len) == 0) {
		if (pp_pod_record_decode(text, len, &again, err, sizeof(err)) < 0)
			abort();
		if (pp_pod_record_encode(&again, &text2, &len2) == 0 &&
		    (len2 != len || memcmp(text, text2, len)))
			abort();
	}
	free(text);
	free(text2);
	pp_pod_record_free(&r);
	pp_pod_record_free(&again);
	return 0;
}
