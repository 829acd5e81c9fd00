// SPDX-License-Identifier: Apache-2.0
/*
 * tcpSocket (H-TCP.1): success once the handshake completes. The socket is then reset, or
 * closed with a zero linger, so the kernel answers the server with RST: no data, no TIME_WAIT.
 *
 * A connect() goes on a pooled socket (prober.c: pp_attempt_pooled_socket): one ring connect per
 * probe, then the socket is reset with connect(AF_UNSPEC) for the next attempt instead of being
 * closed. tcp_disconnect() sends the RST (when the handshake completed) that close() with a zero
 * linger sends, since that close is the same tcp_disconnect() (tcp_close()): same verdicts, same
 * segments, no TIME_WAIT, and no socket creation, option setting or freeing per probe.
 *
 * When the pool is off or full: where the kernel allows (Linux 6.7: socket commands), the whole
 * probe is one linked chain of ring operations on a direct descriptor (socket, setsockopts,
 * connect, close: one submission, no file descriptor, no syscall of its own); otherwise
 * socket(2) and setsockopt(2) then a ring connect and close.
 *
 * Where podprobe has CAP_NET_RAW, an IPv4 attempt that does not want the full handshake goes
 * without any socket: a raw SYN and its reply (probe_syn.c), with the same verdicts and
 * messages.
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
	/* Only the socket of a direct chain fails so: the message a failed socket(2) gives. */
	if (res == -EMFILE || res == -ENFILE) {
		pp_attempt_finish(a, PP_RESULT_UNKNOWN, 0, "%s",
				  pp_errno_text(res, why, sizeof(why)));
		return;
	}
	pp_target_hostport(a->t, where, sizeof(where));
	pp_attempt_finish(a, pp_errno_is_resource(res) ? PP_RESULT_UNKNOWN : PP_RESULT_FAILURE, 0,
			  "dial tcp %s: connect: %s", where, pp_errno_text(res, why, sizeof(why)));
}

static const int zero_int;
static const struct linger zero_linger = {.l_onoff = 1, .l_linger = 0};

static int tcp_start_direct(struct attempt *a, int file)
{
	const struct pp_loop_sockopt opts[] = {
		/* As pp_attempt_socket(): close with RST. */
		{SOL_SOCKET, SO_LINGER, &zero_linger, sizeof(zero_linger)},
		/* As below: no last ACK unless the full handshake is asked for. */
		{IPPROTO_TCP, TCP_QUICKACK, &zero_int, sizeof(zero_int)},
	};
	uint64_t ids[2];
	int err = pp_loop_connect_direct(pp_attempt_loop(a), (unsigned int)file,
					 a->t->addr.ss_family, opts, a->t->full_handshake ? 1 : 2,
					 (const struct sockaddr *)&a->t->addr, a->t->addrlen,
					 on_connect, a, ids);

	if (err < 0)
		return err;
	a->op = ids[0];
	a->close_op = ids[1];
	return 0;
}

static int tcp_start(struct attempt *a)
{
	int zero = 0, err, file;

	if (pp_attempt_syn_start(a) == 0)
		return 0;
	/* Its options are set: TCP_DEFER_ACCEPT holds the last ACK back, as below. */
	if (pp_attempt_pooled_socket(a, !a->t->full_handshake) == 0)
		return pp_loop_connect(pp_attempt_loop(a), a->fd,
				       (const struct sockaddr *)&a->t->addr, a->t->addrlen,
				       on_connect, a, &a->op);
	file = pp_attempt_direct_file(a);
	if (file >= 0 && tcp_start_direct(a, file) == 0)
		return 0;
	err = pp_attempt_socket(a);

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

/* A direct chain's close ends by itself; the attempt is released after it. */
static unsigned int tcp_retire(struct attempt *a, uint64_t *ids)
{
	if (a->syn_flow)
		pp_syn_retire(pp_attempt_syn_engine(a), a);
	if (!a->close_op)
		return 0;
	ids[0] = a->close_op;
	a->close_op = 0;
	return 1;
}

/* A raw SYN's retransmission is due. */
static void tcp_tick(struct attempt *a, pp_nsec now)
{
	if (a->syn_flow)
		pp_syn_tick(pp_attempt_syn_engine(a), a, now);
}

const struct handler_ops pp_probe_tcp_ops = {
	.start = tcp_start,
	.timeout = tcp_timeout,
	.retire = tcp_retire,
	.tick = tcp_tick,
};
