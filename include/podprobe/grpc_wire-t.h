/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC and protobuf wire definitions shared by the gRPC probe (user/io/grpc_health.c), the test
 * server (tools/grpc-health-server.c) and their tests: grpc.health.v1 serving statuses, gRPC
 * status codes, the Check method's path and the 5-byte gRPC message prefix.
 */
#ifndef PODPROBE_GRPC_WIRE_T_H
#define PODPROBE_GRPC_WIRE_T_H

#define PP_GRPC_HEALTH_SERVICE	   "grpc.health.v1.Health"
#define PP_GRPC_CHECK_PATH	   "/" PP_GRPC_HEALTH_SERVICE "/Check"
#define PP_GRPC_FRAME_HDR_LEN	   5  /* compressed flag + 4-byte big-endian length */
#define PP_PB_VARINT_MAX	   10 /* bytes of the longest protobuf varint */
#define PP_GRPC_CHECK_RESPONSE_MAX (1 + PP_PB_VARINT_MAX) /* encoded HealthCheckResponse */

/* grpc.health.v1.HealthCheckResponse.ServingStatus */
enum pp_grpc_serving_status {
	PP_GRPC_SERVING_UNKNOWN = 0,
	PP_GRPC_SERVING_SERVING = 1,
	PP_GRPC_SERVING_NOT_SERVING = 2,
	PP_GRPC_SERVING_SERVICE_UNKNOWN = 3,
	_PP_GRPC_SERVING_MAX,
};

/* google.golang.org/grpc/codes */
enum pp_grpc_code {
	PP_GRPC_CODE_OK = 0,
	PP_GRPC_CODE_CANCELED = 1,
	PP_GRPC_CODE_UNKNOWN = 2,
	PP_GRPC_CODE_INVALID_ARGUMENT = 3,
	PP_GRPC_CODE_DEADLINE_EXCEEDED = 4,
	PP_GRPC_CODE_NOT_FOUND = 5,
	PP_GRPC_CODE_ALREADY_EXISTS = 6,
	PP_GRPC_CODE_PERMISSION_DENIED = 7,
	PP_GRPC_CODE_RESOURCE_EXHAUSTED = 8,
	PP_GRPC_CODE_FAILED_PRECONDITION = 9,
	PP_GRPC_CODE_ABORTED = 10,
	PP_GRPC_CODE_OUT_OF_RANGE = 11,
	PP_GRPC_CODE_UNIMPLEMENTED = 12,
	PP_GRPC_CODE_INTERNAL = 13,
	PP_GRPC_CODE_UNAVAILABLE = 14,
	PP_GRPC_CODE_DATA_LOSS = 15,
	PP_GRPC_CODE_UNAUTHENTICATED = 16,
	_PP_GRPC_CODE_MAX,
};

#endif
