// SPDX-License-Identifier: Apache-2.0
/*
 * tcpSocket (H-TCP.1): success once the handshake completes. The socket then closes with a
 * zero linger, so the kernel answers the server with RST: no data, no TIME_WAIT.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>

#include "podprobe/loop.h"
#include "prober_int.h"

static void on_connect(void *ctx, int res)
{
	struct attempt *a = ctx;
	char where[300], why[128];

	a->op = 0;
	if (res == 0) {
		pp_attempt_finish(a, PP_RESULT_SUCCESS, 0, "%s", "");
		return;
	}
	pp_target_hostport(a->t, where, sizeof(where));
	pp_attempt_finish(a, pp_errno_is_resource(res) ? PP_RESULT_UNKNOWN : PP_RESULT_FAILURE, 0,
			  "dial tcp %s: connect: %s", where, pp_errno_text(res, why, sizeof(why)));
}

static int tcp_start(struct attempt *a)
{
	int zero = 0, err = pp_attempt_socket(a);

	if (err < 0)
		return err;
	/*
	 * Only the SYN-ACK matters. With quick ACKs off the kernel holds back the handshake's
	 * last ACK, and the zero-linger close sends RST in its place: the server never gets an
	 * established connection to queue, accept and tear down (HAProxy's tcp check trick).
	 */
	if (!a->t->full_handshake)
		setsockopt(a->fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
	return pp_loop_connect(pp_attempt_loop(a), a->fd, (const struct sockaddr *)&a->t->addr,
			       a->t->addrlen, on_connect, a, &a->op);
}

static void tcp_timeout(struct attempt *a)
{
	char where[300];

	pp_target_hostport(a->t, where, sizeof(where));
	pp_attempt_finish(a, PP_RESULT_FAILURE, 0, "dial tcp %s: i/o timeout", where);
}

const struct handler_ops pp_probe_tcp_ops = {
	.start = tcp_start,
	.timeout = tcp_timeout,
};
