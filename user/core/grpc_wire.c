/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC and protobuf wire coding for grpc.health.v1.Health/Check (see grpc_wire.h). Protobuf is
 * coded by hand: the two messages have one field each, and decoding follows protobuf-go's
 * checks so that a malformed message fails where grpc-go would fail it.
 */
#include "podprobe/grpc_wire.h"

#include <errno.h>
#include <string.h>

#define PB_FIELD_MAX 0x1fffffff /* largest field number */

/* Protobuf wire types; groups (3, 4) never appear in proto3 messages, 6 and 7 are invalid. */
enum pb_wire_type {
	PB_VARINT = 0,
	PB_FIXED64 = 1,
	PB_LEN = 2, /* length-delimited */
	PB_FIXED32 = 5,
};

/* One decoded field; <varint> is set for PB_VARINT, <data> and <len> for PB_LEN. */
struct pb_field {
	uint64_t number;
	unsigned int type;
	uint64_t varint;
	const uint8_t *data;
	size_t len;
};

static const char *const serving_status_names[_PP_GRPC_SERVING_MAX] = {
	[PP_GRPC_SERVING_UNKNOWN] = "UNKNOWN",
	[PP_GRPC_SERVING_SERVING] = "SERVING",
	[PP_GRPC_SERVING_NOT_SERVING] = "NOT_SERVING",
	[PP_GRPC_SERVING_SERVICE_UNKNOWN] = "SERVICE_UNKNOWN",
};

/* codes.Code.String() */
static const char *const code_names[_PP_GRPC_CODE_MAX] = {
	[PP_GRPC_CODE_OK] = "OK",
	[PP_GRPC_CODE_CANCELED] = "Canceled",
	[PP_GRPC_CODE_UNKNOWN] = "Unknown",
	[PP_GRPC_CODE_INVALID_ARGUMENT] = "InvalidArgument",
	[PP_GRPC_CODE_DEADLINE_EXCEEDED] = "DeadlineExceeded",
	[PP_GRPC_CODE_NOT_FOUND] = "NotFound",
	[PP_GRPC_CODE_ALREADY_EXISTS] = "AlreadyExists",
	[PP_GRPC_CODE_PERMISSION_DENIED] = "PermissionDenied",
	[PP_GRPC_CODE_RESOURCE_EXHAUSTED] = "ResourceExhausted",
	[PP_GRPC_CODE_FAILED_PRECONDITION] = "FailedPrecondition",
	[PP_GRPC_CODE_ABORTED] = "Aborted",
	[PP_GRPC_CODE_OUT_OF_RANGE] = "OutOfRange",
	[PP_GRPC_CODE_UNIMPLEMENTED] = "Unimplemented",
	[PP_GRPC_CODE_INTERNAL] = "Internal",
	[PP_GRPC_CODE_UNAVAILABLE] = "Unavailable",
	[PP_GRPC_CODE_DATA_LOSS] = "DataLoss",
	[PP_GRPC_CODE_UNAUTHENTICATED] = "Unauthenticated",
};

const char *pp_grpc_serving_status_name(int32_t status)
{
	if (status < 0 || status >= _PP_GRPC_SERVING_MAX)
		return NULL;
	return serving_status_names[status];
}

const char *pp_grpc_code_name(uint32_t code)
{
	if (code >= _PP_GRPC_CODE_MAX)
		return NULL;
	return code_names[code];
}

/* ---- protobuf ----------------------------------------------------------------------------- */

int pp_pb_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *ret)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < PP_PB_VARINT_MAX && p < end; i++, p++) {
		v |= (uint64_t)(*p & 0x7f) << (7 * i);
		if (!(*p & 0x80)) {
			*pp = p + 1;
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

size_t pp_pb_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

/* Read the field at *<pp> (before <end>), value included, and move *<pp> past it. */
static int read_field(const uint8_t **pp, const uint8_t *end, struct pb_field *ret)
{
	const uint8_t *p = *pp;
	struct pb_field f = {0};
	uint64_t key;

	if (pp_pb_get_varint(&p, end, &key) < 0 || key >> 3 == 0 || key >> 3 > PB_FIELD_MAX)
		return -EBADMSG;
	f.number = key >> 3;
	f.type = (unsigned int)(key & 7);
	switch (f.type) {
	case PB_VARINT:
		if (pp_pb_get_varint(&p, end, &f.varint) < 0)
			return -EBADMSG;
		break;
	case PB_FIXED64:
		if (end - p < 8)
			return -EBADMSG;
		p += 8;
		break;
	case PB_LEN:
		if (pp_pb_get_varint(&p, end, &key) < 0 || key > (uint64_t)(end - p))
			return -EBADMSG;
		f.data = p;
		f.len = (size_t)key;
		p += key;
		break;
	case PB_FIXED32:
		if (end - p < 4)
			return -EBADMSG;
		p += 4;
		break;
	default:
		return -EBADMSG;
	}
	*pp = p;
	*ret = f;
	return 0;
}

/* ---- gRPC message prefix ------------------------------------------------------------------ */

void pp_grpc_frame_put(uint8_t *hdr, uint8_t flag, uint32_t len)
{
	hdr[0] = flag;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

void pp_grpc_frame_get(const uint8_t *hdr, uint8_t *ret_flag, uint32_t *ret_len)
{
	*ret_flag = hdr[0];
	*ret_len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
}

/* ---- grpc.health.v1 messages -------------------------------------------------------------- */

size_t pp_grpc_check_request_encode(const char *service, size_t len, uint8_t *buf, size_t size)
{
	size_t n, off;

	if (!len) /* proto3 does not send an empty string */
		return 0;
	n = 1 + varint_len(len) + len;
	if (n > size)
		return n;
	buf[0] = 1 << 3 | PB_LEN;
	off = 1 + pp_pb_put_varint(buf + 1, len);
	memcpy(buf + off, service, len);
	return n;
}

int pp_grpc_check_request_decode(const uint8_t *msg, size_t len, const uint8_t **ret_service,
				 size_t *ret_len)
{
	const uint8_t *p, *end, *service = (const uint8_t *)"";
	size_t service_len = 0;
	struct pb_field f;

	/* An empty message may come as NULL, and NULL + 0 is undefined in C: no arithmetic. */
	for (p = msg, end = len ? msg + len : msg; len && p < end;) {
		if (read_field(&p, end, &f) < 0)
			return -EBADMSG;
		if (f.number == 1 && f.type == PB_LEN) {
			service = f.data;
			service_len = f.len;
		}
	}
	*ret_service = service;
	*ret_len = service_len;
	return 0;
}

size_t pp_grpc_check_response_encode(int32_t status, uint8_t *buf, size_t size)
{
	uint64_t v = (uint64_t)(int64_t)status; /* int32 enums are sign-extended on the wire */
	size_t n;

	if (!status) /* proto3 does not send the default */
		return 0;
	n = 1 + varint_len(v);
	if (n > size)
		return n;
	buf[0] = 1 << 3 | PB_VARINT;
	pp_pb_put_varint(buf + 1, v);
	return n;
}

int pp_grpc_check_response_decode(const uint8_t *msg, size_t len, int32_t *ret_status)
{
	const uint8_t *p, *end;
	int32_t status = PP_GRPC_SERVING_UNKNOWN;
	struct pb_field f;

	/* An empty message (UNKNOWN) may come as NULL, and NULL + 0 is undefined in C. */
	for (p = msg, end = len ? msg + len : msg; len && p < end;) {
		if (read_field(&p, end, &f) < 0)
			return -EBADMSG;
		if (f.number == 1 && f.type == PB_VARINT)
			status = (int32_t)(uint32_t)f.varint;
	}
	*ret_status = status;
	return 0;
}

bool pp_grpc_content_type_is_grpc(const uint8_t *value, size_t len)
{
	static const char base[] = "application/grpc";
	const size_t n = sizeof(base) - 1;

	return len >= n && !memcmp(value, base, n) &&
	       (len == n || value[n] == '+' || value[n] == ';');
}
