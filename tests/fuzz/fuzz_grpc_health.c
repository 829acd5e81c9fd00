/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the gRPC probe's response path (user/io/grpc_health.c, sans-I/O nghttp2,
 * with user/core/grpc_wire.c's decoders) on arbitrary server bytes. A client is created and
 * its first flight (preface, SETTINGS, the request) taken as sent; the input is then fed as
 * what the server wrote, and whatever the client queues in reply is taken as sent after every
 * piece. The first input byte steers the run, the rest are the server's bytes:
 *
 *   bits 0-5  piece size (0 = everything in one feed)
 *   bit 6     ask for service "svc" instead of "" (the whole server)
 *   bit 7     end with the probe deadline instead of EOF
 *
 * At the end the client must have a verdict and a message, and the API's promises must hold
 * (results are sticky, nothing pending once the result is known). The bytes of issue 8's
 * NULL + 0 report are this format (tests/fuzz/corpus/grpc_health/issue8-empty-message).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/grpc_health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Take everything the client has to send, as a socket that accepts it all would. */
static void drain(struct pp_grpc_health *g)
{
	const uint8_t *p;
	ssize_t n;

	for (int i = 0; i < 64 && (n = pp_grpc_health_pending(g, &p)) > 0; i++)
		pp_grpc_health_consumed(g, (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_grpc_health *g;
	enum pp_grpc_verdict v;
	const char *msg = NULL;
	const uint8_t *p;
	size_t piece, off = 1;
	uint8_t ctl;
	int rc = 0;

	if (!size)
		return 0;
	ctl = data[0];
	piece = ctl & 0x3f;
	if (pp_grpc_health_new("127.0.0.1:50051", ctl & 0x40 ? "svc" : "", "kube-probe/1.34", 1000,
			       &g) < 0)
		abort();
	drain(g);
	while (off < size && rc == 0) {
		size_t n = piece && piece < size - off ? piece : size - off;

		rc = pp_grpc_health_feed(g, data + off, n);
		if (rc != 0 && rc != 1 && rc != -EPROTO && rc != -ENOMEM)
			abort();
		off += n;
		drain(g);
	}
	if (ctl & 0x80)
		pp_grpc_health_timeout(g);
	else
		pp_grpc_health_eof(g, 0);
	v = pp_grpc_health_result(g, &msg);
	if (v == PP_GRPC_PENDING || v >= _PP_GRPC_VERDICT_MAX || !msg || !*msg ||
	    !strcmp(pp_grpc_verdict_to_string(v), "?"))
		abort();
	/* Known results stay: more input, EOF and the deadline change nothing. */
	if (pp_grpc_health_pending(g, &p) != 0 || pp_grpc_health_eof(g, -ECONNRESET) != 1)
		abort();
	pp_grpc_health_timeout(g);
	pp_grpc_health_feed(g, data, size);
	if (pp_grpc_health_result(g, &msg) != v)
		abort();
	pp_grpc_health_free(g);
	return 0;
}
