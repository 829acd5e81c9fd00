/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC and protobuf wire coding, pure: names of serving statuses and status codes, protobuf
 * varints, the gRPC message prefix, and the two grpc.health.v1 messages. The message coders
 * work on the message body; the 5-byte prefix is pp_grpc_frame_put()/pp_grpc_frame_get().
 */
#ifndef PODPROBE_GRPC_WIRE_H
#define PODPROBE_GRPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/grpc_wire-t.h"

/* "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"; NULL for other values. */
const char *pp_grpc_serving_status_name(int32_t status);

/* codes.Code.String() of <code>: "OK", "NotFound", ...; NULL past Unauthenticated. */
const char *pp_grpc_code_name(uint32_t code);

/*
 * Read the varint at *<pp> (at most PP_PB_VARINT_MAX bytes, none at or past <end>). Returns 0,
 * sets <ret> and moves *<pp> past it; -EBADMSG when it is truncated or longer.
 */
int pp_pb_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *ret);

/* Write <v> as a varint to <p> (room for PP_PB_VARINT_MAX bytes); returns its length. */
size_t pp_pb_put_varint(uint8_t *p, uint64_t v);

/* Write the prefix of a message of <len> bytes: <flag> (1 = compressed), big-endian length. */
void pp_grpc_frame_put(uint8_t *hdr, uint8_t flag, uint32_t len);

/* Read the PP_GRPC_FRAME_HDR_LEN bytes at <hdr> into <ret_flag> and <ret_len>. */
void pp_grpc_frame_get(const uint8_t *hdr, uint8_t *ret_flag, uint32_t *ret_len);

/*
 * HealthCheckRequest { string service = 1; } for the <len> bytes of <service> ("" is the empty
 * message). Returns its length; writes it to <buf> only when <size> is at least that.
 */
size_t pp_grpc_check_request_encode(const char *service, size_t len, uint8_t *buf, size_t size);

/*
 * Decode a HealthCheckRequest of <len> bytes: sets <ret_service> (pointing into <msg>) and
 * <ret_len> to the last service field, "" when there is none; unknown fields are skipped.
 * <msg> may be NULL when <len> is 0 (an empty message). Returns 0 or -EBADMSG.
 */
int pp_grpc_check_request_decode(const uint8_t *msg, size_t len, const uint8_t **ret_service,
				 size_t *ret_len);

/*
 * HealthCheckResponse { ServingStatus status = 1; } (UNKNOWN is the empty message). Returns its
 * length, at most PP_GRPC_CHECK_RESPONSE_MAX; writes it to <buf> only when <size> is enough.
 */
size_t pp_grpc_check_response_encode(int32_t status, uint8_t *buf, size_t size);

/*
 * Decode a HealthCheckResponse of <len> bytes as protobuf-go does: the last status field wins,
 * an absent one is UNKNOWN, values outside the enum are kept, unknown fields (and field 1 with
 * another wire type) are skipped. <msg> may be NULL when <len> is 0. Returns 0 and sets
 * <ret_status>, or -EBADMSG.
 */
int pp_grpc_check_response_decode(const uint8_t *msg, size_t len, int32_t *ret_status);

/* A gRPC content-type: "application/grpc", alone or followed by '+' or ';' (as grpc-go). */
bool pp_grpc_content_type_is_grpc(const uint8_t *value, size_t len);

#endif
