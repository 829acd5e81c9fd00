// SPDX-License-Identifier: Apache-2.0
/*
 * gRPC and protobuf wire coding: status and code names, varints at their limits, the 5-byte
 * message prefix, and the grpc.health.v1 Check messages encoded, decoded and round-tripped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/grpc_wire.h"

#define T_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Decode <msg> as a HealthCheckRequest and expect <want> as the service. */
static void t_request_is(const uint8_t *msg, size_t len, const char *want)
{
	const uint8_t *svc = NULL;
	size_t svc_len = SIZE_MAX;

	assert_int_equal(pp_grpc_check_request_decode(msg, len, &svc, &svc_len), 0);
	assert_int_equal(svc_len, strlen(want));
	assert_memory_equal(svc, want, svc_len);
}

static void t_request_is_bad(const uint8_t *msg, size_t len)
{
	const uint8_t *svc = NULL;
	size_t svc_len = 77;

	assert_int_equal(pp_grpc_check_request_decode(msg, len, &svc, &svc_len), -EBADMSG);
	assert_null(svc);
	assert_int_equal(svc_len, 77);
}

static void t_response_is(const uint8_t *msg, size_t len, int32_t want)
{
	int32_t st = -12345;

	assert_int_equal(pp_grpc_check_response_decode(msg, len, &st), 0);
	assert_int_equal(st, want);
}

static void t_response_is_bad(const uint8_t *msg, size_t len)
{
	int32_t st = -12345;

	assert_int_equal(pp_grpc_check_response_decode(msg, len, &st), -EBADMSG);
	assert_int_equal(st, -12345);
}

/* ---- names -------------------------------------------------------------------------------- */

static void test_serving_status_names_match_the_proto(void **state)
{
	static const char *const want[_PP_GRPC_SERVING_MAX] = {"UNKNOWN", "SERVING", "NOT_SERVING",
							       "SERVICE_UNKNOWN"};
	static const int32_t outside[] = {_PP_GRPC_SERVING_MAX, 7, -1, INT32_MIN, INT32_MAX};

	(void)state;
	for (int32_t st = 0; st < _PP_GRPC_SERVING_MAX; st++)
		assert_string_equal(pp_grpc_serving_status_name(st), want[st]);
	for (size_t i = 0; i < T_LEN(outside); i++)
		assert_null(pp_grpc_serving_status_name(outside[i]));
}

static void test_code_names_match_grpc_go(void **state)
{
	/* google.golang.org/grpc/codes, code_string.go */
	static const char *const want[_PP_GRPC_CODE_MAX] = {
		"OK",
		"Canceled",
		"Unknown",
		"InvalidArgument",
		"DeadlineExceeded",
		"NotFound",
		"AlreadyExists",
		"PermissionDenied",
		"ResourceExhausted",
		"FailedPrecondition",
		"Aborted",
		"OutOfRange",
		"Unimplemented",
		"Internal",
		"Unavailable",
		"DataLoss",
		"Unauthenticated",
	};

	(void)state;
	for (uint32_t c = 0; c < _PP_GRPC_CODE_MAX; c++)
		assert_string_equal(pp_grpc_code_name(c), want[c]);
	assert_null(pp_grpc_code_name(_PP_GRPC_CODE_MAX));
	assert_null(pp_grpc_code_name(UINT32_MAX));
}

/* ---- varints ------------------------------------------------------------------------------ */

static void test_varint_round_trips_at_every_length(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
	} cases[] = {
		{0, 1},
		{1, 1},
		{127, 1},
		{128, 2},
		{300, 2},
		{16383, 2},
		{16384, 3},
		{UINT32_MAX, 5},
		{(uint64_t)1 << 56, 9},
		{((uint64_t)1 << 63) - 1, 9},
		{(uint64_t)1 << 63, 10},
		{UINT64_MAX, 10},
	};

	(void)state;
	for (size_t i = 0; i < T_LEN(cases); i++) {
		uint8_t buf[PP_PB_VARINT_MAX + 1];
		const uint8_t *p = buf;
		uint64_t v = 0;

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(pp_pb_put_varint(buf, cases[i].v), cases[i].len);
		assert_int_equal(buf[cases[i].len], 0xee); /* nothing written past it */
		assert_int_equal(pp_pb_get_varint(&p, buf + sizeof(buf), &v), 0);
		assert_true(v == cases[i].v);
		assert_ptr_equal(p, buf + cases[i].len);
	}
}

static void test_varint_of_ten_bytes_is_the_longest_accepted(void **state)
{
	static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	const uint8_t *p = max;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(pp_pb_put_varint((uint8_t[PP_PB_VARINT_MAX]){0}, UINT64_MAX), 10);
	assert_int_equal(pp_pb_get_varint(&p, max + sizeof(max), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_ptr_equal(p, max + sizeof(max));
}

static void test_varint_longer_than_ten_bytes_is_rejected(void **state)
{
	static const uint8_t overlong[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					   0x80, 0x80, 0x80, 0x80, 0x01};
	const uint8_t *p = overlong;
	uint64_t v = 42;

	(void)state;
	assert_int_equal(pp_pb_get_varint(&p, overlong + sizeof(overlong), &v), -EBADMSG);
	assert_ptr_equal(p, overlong);
	assert_int_equal(v, 42);
}

static void test_varint_padded_with_zero_groups_is_accepted(void **state)
{
	/* protobuf-go accepts non-minimal encodings too */
	static const uint8_t padded[] = {0x81, 0x80, 0x00};
	const uint8_t *p = padded;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(pp_pb_get_varint(&p, padded + sizeof(padded), &v), 0);
	assert_int_equal(v, 1);
	assert_ptr_equal(p, padded + 3);
}

static void test_varint_truncated_is_rejected(void **state)
{
	static const uint8_t cut[] = {0xac, 0x02};
	const uint8_t *p = cut;
	uint64_t v = 42;

	(void)state;
	/* the end comes before the byte without the continuation bit */
	assert_int_equal(pp_pb_get_varint(&p, cut + 1, &v), -EBADMSG);
	assert_int_equal(pp_pb_get_varint(&p, cut, &v), -EBADMSG);
	assert_ptr_equal(p, cut);
	assert_int_equal(v, 42);
	assert_int_equal(pp_pb_get_varint(&p, cut + 2, &v), 0);
	assert_int_equal(v, 300);
}

/* ---- message prefix ----------------------------------------------------------------------- */

static void test_frame_header_is_flag_and_big_endian_length(void **state)
{
	uint8_t hdr[PP_GRPC_FRAME_HDR_LEN];
	uint8_t flag = 0xee;
	uint32_t len = 0;

	(void)state;
	pp_grpc_frame_put(hdr, 0, 0x01020304);
	assert_memory_equal(hdr, ((uint8_t[]){0, 1, 2, 3, 4}), sizeof(hdr));
	pp_grpc_frame_get(hdr, &flag, &len);
	assert_int_equal(flag, 0);
	assert_int_equal(len, 0x01020304);

	pp_grpc_frame_put(hdr, 1, UINT32_MAX);
	assert_memory_equal(hdr, ((uint8_t[]){1, 0xff, 0xff, 0xff, 0xff}), sizeof(hdr));
	pp_grpc_frame_get(hdr, &flag, &len);
	assert_int_equal(flag, 1);
	assert_int_equal(len, UINT32_MAX);

	pp_grpc_frame_put(hdr, 0, 0);
	assert_memory_equal(hdr, ((uint8_t[]){0, 0, 0, 0, 0}), sizeof(hdr));
}

/* ---- HealthCheckRequest ------------------------------------------------------------------- */

static void test_request_encodes_service_as_field_one(void **state)
{
	uint8_t buf[256];
	char name[201];

	(void)state;
	assert_int_equal(pp_grpc_check_request_encode("foo", 3, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, ((uint8_t[]){0x0a, 3, 'f', 'o', 'o'}), 5);

	/* a length of 128 or more takes a two-byte varint */
	memset(name, 'x', 200);
	name[200] = '\0';
	assert_int_equal(pp_grpc_check_request_encode(name, 200, buf, sizeof(buf)), 203);
	assert_memory_equal(buf, ((uint8_t[]){0x0a, 0xc8, 0x01}), 3);
	assert_memory_equal(buf + 3, name, 200);
}

static void test_request_for_whole_server_is_empty(void **state)
{
	uint8_t buf[8];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pp_grpc_check_request_encode("", 0, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 0xee);
	t_request_is(buf, 0, "");
}

static void test_request_encode_sizes_without_writing_when_short(void **state)
{
	uint8_t buf[5];

	(void)state;
	assert_int_equal(pp_grpc_check_request_encode("foo", 3, NULL, 0), 5);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pp_grpc_check_request_encode("foo", 3, buf, 4), 5);
	assert_memory_equal(buf, ((uint8_t[]){0xee, 0xee, 0xee, 0xee, 0xee}), 5);
}

static void test_request_round_trips(void **state)
{
	static const char *const names[] = {"a", "grpc.health.v1.Health", "db"};
	uint8_t buf[2048];
	char big[1024];

	(void)state;
	for (size_t i = 0; i < T_LEN(names); i++) {
		size_t n =
			pp_grpc_check_request_encode(names[i], strlen(names[i]), buf, sizeof(buf));

		t_request_is(buf, n, names[i]);
	}
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t_request_is(buf, pp_grpc_check_request_encode(big, strlen(big), buf, sizeof(buf)), big);
}

static void test_request_decode_skips_unknown_fields_last_service_wins(void **state)
{
	static const uint8_t msg[] = {
		0x0a, 1,    'a',		      /* service "a" */
		0x10, 0x96, 0x01,		      /* field 2, varint */
		0x19, 1,    2,	  3,   4, 5, 6, 7, 8, /* field 3, fixed64 */
		0x25, 1,    2,	  3,   4,	      /* field 4, fixed32 */
		0x08, 5,			      /* field 1 as a varint: not the service */
		0x0a, 2,    'b',  'c',		      /* service "bc" */
		0x2a, 0,			      /* field 5, empty bytes */
	};

	(void)state;
	t_request_is(msg, sizeof(msg), "bc");
	t_request_is(msg + 3, sizeof(msg) - 3 - 6, ""); /* no service field */
}

static void test_request_decode_rejects_malformed(void **state)
{
	(void)state;
	t_request_is_bad((uint8_t[]){0x02, 0}, 2);	     /* field number 0 */
	t_request_is_bad((uint8_t[]){0x0a, 4, 'a', 'b'}, 4); /* length past the end */
	t_request_is_bad((uint8_t[]){0x0a}, 1);		     /* no length */
	t_request_is_bad((uint8_t[]){0x0a, 0x80}, 2);	     /* truncated length */
	t_request_is_bad((uint8_t[]){0x88}, 1);		     /* truncated key */
	t_request_is_bad((uint8_t[]){0x10}, 1);		     /* varint field without value */
	t_request_is_bad((uint8_t[]){0x19, 1, 2, 3, 4, 5, 6, 7}, 8); /* short fixed64 */
	t_request_is_bad((uint8_t[]){0x25, 1, 2, 3}, 4);	     /* short fixed32 */
	t_request_is_bad((uint8_t[]){0x0b}, 1);			     /* start group */
	t_request_is_bad((uint8_t[]){0x0c}, 1);			     /* end group */
	t_request_is_bad((uint8_t[]){0x0e, 0}, 2);		     /* wire type 6 */
	t_request_is_bad((uint8_t[]){0x0f, 0}, 2);		     /* wire type 7 */
	/* field number 2^29, one past the largest */
	t_request_is_bad((uint8_t[]){0x82, 0x80, 0x80, 0x80, 0x10, 0}, 6);
}

/* ---- HealthCheckResponse ------------------------------------------------------------------ */

static void test_response_encodes_status_as_field_one(void **state)
{
	uint8_t buf[PP_GRPC_CHECK_RESPONSE_MAX];

	(void)state;
	assert_int_equal(pp_grpc_check_response_encode(PP_GRPC_SERVING_SERVING, buf, sizeof(buf)),
			 2);
	assert_memory_equal(buf, ((uint8_t[]){0x08, 1}), 2);
	assert_int_equal(
		pp_grpc_check_response_encode(PP_GRPC_SERVING_NOT_SERVING, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, ((uint8_t[]){0x08, 2}), 2);
	/* UNKNOWN is proto3's default: the empty message */
	assert_int_equal(pp_grpc_check_response_encode(PP_GRPC_SERVING_UNKNOWN, buf, sizeof(buf)),
			 0);
	/* a negative enum value is sign-extended to ten bytes */
	assert_int_equal(pp_grpc_check_response_encode(-1, buf, sizeof(buf)),
			 PP_GRPC_CHECK_RESPONSE_MAX);
	assert_memory_equal(
		buf,
		((uint8_t[]){0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
		PP_GRPC_CHECK_RESPONSE_MAX);
}

static void test_response_encode_sizes_without_writing_when_short(void **state)
{
	uint8_t buf[2] = {0xee, 0xee};

	(void)state;
	assert_int_equal(pp_grpc_check_response_encode(PP_GRPC_SERVING_SERVING, NULL, 0), 2);
	assert_int_equal(pp_grpc_check_response_encode(PP_GRPC_SERVING_SERVING, buf, 1), 2);
	assert_memory_equal(buf, ((uint8_t[]){0xee, 0xee}), 2);
}

static void test_response_round_trips(void **state)
{
	static const int32_t statuses[] = {
		PP_GRPC_SERVING_UNKNOWN,
		PP_GRPC_SERVING_SERVING,
		PP_GRPC_SERVING_NOT_SERVING,
		PP_GRPC_SERVING_SERVICE_UNKNOWN,
		7,
		INT32_MAX,
		-1,
		INT32_MIN,
	};
	uint8_t buf[PP_GRPC_CHECK_RESPONSE_MAX];

	(void)state;
	for (size_t i = 0; i < T_LEN(statuses); i++) {
		size_t n = pp_grpc_check_response_encode(statuses[i], buf, sizeof(buf));

		assert_true(n <= sizeof(buf));
		t_response_is(buf, n, statuses[i]);
	}
}

static void test_response_decode_skips_unknown_fields_last_status_wins(void **state)
{
	/* status = 7 after an unknown string field 2 and a fixed32 field 3 */
	static const uint8_t unknown_first[] = {0x12, 2, 'h', 'i', 0x1d, 1, 2, 3, 4, 0x08, 7};
	static const uint8_t twice[] = {0x08, 1, 0x08, 2};
	/* field 1 as bytes and a fixed64 field 4: no status, so UNKNOWN */
	static const uint8_t wrong_type[] = {0x0a, 1, 'x', 0x21, 1, 2, 3, 4, 5, 6, 7, 8};

	(void)state;
	t_response_is(unknown_first, sizeof(unknown_first), 7);
	t_response_is(twice, sizeof(twice), PP_GRPC_SERVING_NOT_SERVING);
	t_response_is(wrong_type, sizeof(wrong_type), PP_GRPC_SERVING_UNKNOWN);
	t_response_is(twice, 0, PP_GRPC_SERVING_UNKNOWN);
}

static void test_response_status_keeps_the_low_32_bits(void **state)
{
	/* 0x100000005: enums are int32, protobuf-go truncates */
	static const uint8_t wide[] = {0x08, 0x85, 0x80, 0x80, 0x80, 0x10};

	(void)state;
	t_response_is(wide, sizeof(wide), 5);
}

static void test_response_decode_rejects_malformed(void **state)
{
	(void)state;
	t_response_is_bad((uint8_t[]){0x08, 0xff}, 2);	  /* truncated status */
	t_response_is_bad((uint8_t[]){0x08}, 1);	  /* no status */
	t_response_is_bad((uint8_t[]){0x00, 1}, 2);	  /* field number 0 */
	t_response_is_bad((uint8_t[]){0x12, 3, 'h'}, 3);  /* length past the end */
	t_response_is_bad((uint8_t[]){0x1d, 1, 2}, 3);	  /* short fixed32 */
	t_response_is_bad((uint8_t[]){0x19, 1}, 2);	  /* short fixed64 */
	t_response_is_bad((uint8_t[]){0x0b, 0x0c}, 2);	  /* a group */
	t_response_is_bad((uint8_t[]){0x08, 1, 0x0f}, 3); /* wire type 7 after a good field */
	t_response_is_bad((uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x10, 1}, 6); /* field 2^29 */
}

/* ---- content-type ------------------------------------------------------------------------- */

/*
 * The empty message (UNKNOWN, or a request for the whole server) arrives as (NULL, 0) from a
 * caller with no buffer for zero bytes: decoding must not compute NULL + 0 (undefined; UBSan
 * aborts on it), and reads as the defaults.
 */
static void test_empty_messages_decode_from_null(void **state)
{
	const uint8_t *service = NULL;
	size_t len = 99;
	int32_t status = 99;

	assert_int_equal(pp_grpc_check_response_decode(NULL, 0, &status), 0);
	assert_int_equal(status, PP_GRPC_SERVING_UNKNOWN);
	assert_int_equal(pp_grpc_check_request_decode(NULL, 0, &service, &len), 0);
	assert_non_null(service);
	assert_int_equal(len, 0);
}

static void test_content_type_is_grpc_with_optional_subtype(void **state)
{
	static const struct {
		const char *v;
		bool grpc;
	} cases[] = {
		{"application/grpc", true},
		{"application/grpc+proto", true},
		{"application/grpc;charset=utf-8", true},
		{"application/grpc+", true},
		{"application/grpcx", false},
		{"application/grp", false},
		{"APPLICATION/GRPC", false},
		{"text/plain; charset=utf-8", false},
		{"", false},
	};

	(void)state;
	for (size_t i = 0; i < T_LEN(cases); i++)
		assert_int_equal(pp_grpc_content_type_is_grpc((const uint8_t *)cases[i].v,
							      strlen(cases[i].v)),
				 cases[i].grpc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serving_status_names_match_the_proto),
		cmocka_unit_test(test_code_names_match_grpc_go),
		cmocka_unit_test(test_varint_round_trips_at_every_length),
		cmocka_unit_test(test_varint_of_ten_bytes_is_the_longest_accepted),
		cmocka_unit_test(test_varint_longer_than_ten_bytes_is_rejected),
		cmocka_unit_test(test_varint_padded_with_zero_groups_is_accepted),
		cmocka_unit_test(test_varint_truncated_is_rejected),
		cmocka_unit_test(test_frame_header_is_flag_and_big_endian_length),
		cmocka_unit_test(test_request_encodes_service_as_field_one),
		cmocka_unit_test(test_request_for_whole_server_is_empty),
		cmocka_unit_test(test_request_encode_sizes_without_writing_when_short),
		cmocka_unit_test(test_request_round_trips),
		cmocka_unit_test(test_request_decode_skips_unknown_fields_last_service_wins),
		cmocka_unit_test(test_request_decode_rejects_malformed),
		cmocka_unit_test(test_response_encodes_status_as_field_one),
		cmocka_unit_test(test_response_encode_sizes_without_writing_when_short),
		cmocka_unit_test(test_response_round_trips),
		cmocka_unit_test(test_response_decode_skips_unknown_fields_last_status_wins),
		cmocka_unit_test(test_response_status_keeps_the_low_32_bits),
		cmocka_unit_test(test_response_decode_rejects_malformed),
		cmocka_unit_test(test_empty_messages_decode_from_null),
		cmocka_unit_test(test_content_type_is_grpc_with_optional_subtype),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
