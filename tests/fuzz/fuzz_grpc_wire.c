/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the protobuf and gRPC framing coders of user/core/grpc_wire.c on arbitrary
 * message bodies, with round trips: a HealthCheckRequest or HealthCheckResponse that decodes
 * must encode back to a message that decodes to the same value, and a varint that decodes
 * must encode to at most PP_PB_VARINT_MAX bytes giving the same value. Links libppcore.a only
 * (the Makefile's generic fuzz rule).
 */
#include <stdlib.h>
#include <string.h>

#include "podprobe/grpc_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *data, size_t size)
{
	const uint8_t *service, *again;
	size_t len, again_len, n;
	uint8_t *buf;

	if (pp_grpc_check_request_decode(data, size, &service, &len) < 0)
		return;
	n = pp_grpc_check_request_encode((const char *)service, len, NULL, 0);
	buf = malloc(n ? n : 1);
	if (!buf || pp_grpc_check_request_encode((const char *)service, len, buf, n) != n)
		abort();
	if (pp_grpc_check_request_decode(buf, n, &again, &again_len) < 0 || again_len != len ||
	    (len && memcmp(again, service, len)))
		abort();
	free(buf);
}

static void response(const uint8_t *data, size_t size)
{
	uint8_t buf[PP_GRPC_CHECK_RESPONSE_MAX];
	int32_t status, again;
	size_t n;

	if (pp_grpc_check_response_decode(data, size, &status) < 0)
		return;
	n = pp_grpc_check_response_encode(status, buf, sizeof(buf));
	if (n > sizeof(buf) || pp_grpc_check_response_decode(n ? buf : NULL, n, &again) < 0 ||
	    again != status)
		abort();
	pp_grpc_serving_status_name(status);
}

static void varint(const uint8_t *data, size_t size)
{
	uint8_t buf[PP_PB_VARINT_MAX];
	const uint8_t *p = data, *q = buf;
	uint64_t v, w;
	size_t n;

	if (!size || pp_pb_get_varint(&p, data + size, &v) < 0)
		return;
	if (p <= data || p > data + size)
		abort();
	n = pp_pb_put_varint(buf, v);
	if (n > PP_PB_VARINT_MAX || pp_pb_get_varint(&q, buf + n, &w) < 0 || w != v || q != buf + n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flag;
	uint32_t len;

	request(data, size);
	response(data, size);
	varint(data, size);
	if (size >= PP_GRPC_FRAME_HDR_LEN) {
		uint8_t hdr[PP_GRPC_FRAME_HDR_LEN];

		pp_grpc_frame_get(data, &flag, &len);
		pp_grpc_frame_put(hdr, flag, len);
		if (memcmp(hdr, data, sizeof(hdr)))
			abort();
	}
	pp_grpc_content_type_is_grpc(data, size);
	pp_grpc_code_name(size);
	return 0;
}
