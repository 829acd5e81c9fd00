/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP/2 header for nghttp2 from two NUL-terminated strings (borrowed: they must outlive
 * the submit call). Shared by the gRPC health client, its test server and its tests.
 */
#ifndef PODPROBE_H2_NV_H
#define PODPROBE_H2_NV_H

#include <stdint.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

static inline nghttp2_nv pp_h2_nv(const char *name, const char *value)
{
	return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
			    NGHTTP2_NV_FLAG_NONE};
}

#endif
