// SPDX-License-Identifier: Apache-2.0
/*
 * grpc (H-GRPC.1-2): one grpc.health.v1.Health/Check call over h2c. The protocol lives in
 * grpc_health.c (nghttp2, no I/O); this file moves its bytes over the loop's socket, one
 * operation at a time, and turns its verdict into a probe result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/grpc_health.h"
#include "podprobe/loop.h"
#include "prober_int.h"

#define DEFAULT_UA "kube-probe/1.34"

struct grpc_state {
	struct pp_grpc_health *g;
	char in[4096];
};

static void grpc_pump(struct attempt *a);

static void grpc_conclude(struct attempt *a)
{
	struct grpc_state *s = a->proto;
	const char *msg = "";
	enum pp_grpc_verdict v = pp_grpc_health_result(s->g, &msg);

	pp_attempt_finish(a, v == PP_GRPC_SERVING ? PP_RESULT_SUCCESS : PP_RESULT_FAILURE, 0, "%s",
			  msg ? msg : "");
}

static void on_recv(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct grpc_state *s = a->proto;

	a->op = 0;
	if (res <= 0)
		pp_grpc_health_eof(s->g, res);
	else
		pp_grpc_health_feed(s->g, (const uint8_t *)s->in, (size_t)res);
	grpc_pump(a);
}

static void on_send(void *ctx, int res)
{
	struct attempt *a = ctx;
	struct grpc_state *s = a->proto;

	a->op = 0;
	if (res < 0)
		pp_grpc_health_eof(s->g, res);
	else
		pp_grpc_health_consumed(s->g, (size_t)res);
	grpc_pump(a);
}

/* Send what the client has, else read; conclude once it knows. */
static void grpc_pump(struct attempt *a)
{
	struct grpc_state *s = a->proto;
	const uint8_t *data;
	ssize_t n;
	int rc;

	if (pp_grpc_health_result(s->g, NULL) != PP_GRPC_PENDING) {
		grpc_conclude(a);
		return;
	}
	n = pp_grpc_health_pending(s->g, &data);
	if (n > 0)
		rc = pp_loop_send(pp_attempt_loop(a), a->fd, data, (unsigned int)n, on_send, a,
				  &a->op);
	else if (n == 0)
		rc = pp_loop_recv(pp_attempt_loop(a), a->fd, s->in, sizeof(s->in), on_recv, a,
				  &a->op);
	else
		rc = (int)n;
	if (rc < 0) {
		pp_grpc_health_eof(s->g, rc);
		grpc_conclude(a);
	}
}

static void on_connect(void *ctx, int res)
{
	struct attempt *a = ctx;
	char where[300], why[128];

	a->op = 0;
	if (res < 0) {
		pp_target_hostport(a->t, where, sizeof(where));
		pp_attempt_finish(a,
				  pp_errno_is_resource(res) ? PP_RESULT_UNKNOWN : PP_RESULT_FAILURE,
				  0, "error: dial tcp %s: connect: %s", where,
				  pp_errno_text(res, why, sizeof(why)));
		return;
	}
	grpc_pump(a);
}

static int grpc_start(struct attempt *a)
{
	struct grpc_state *s = calloc(1, sizeof(*s));
	char authority[300];
	int err;

	if (!s)
		return -ENOMEM;
	a->proto = s;
	pp_target_hostport(a->t, authority, sizeof(authority));
	err = pp_grpc_health_new(authority, a->t->service ? a->t->service : "",
				 a->t->user_agent ? a->t->user_agent : DEFAULT_UA,
				 (unsigned int)(a->timeout / PP_NSEC_PER_MSEC), &s->g);
	if (err < 0)
		return err;
	err = pp_attempt_socket(a);
	if (err < 0)
		return err;
	return pp_loop_connect(pp_attempt_loop(a), a->fd, (const struct sockaddr *)&a->t->addr,
			       a->t->addrlen, on_connect, a, &a->op);
}

static void grpc_timeout(struct attempt *a)
{
	struct grpc_state *s = a->proto;

	pp_grpc_health_timeout(s->g);
	grpc_conclude(a);
}

static void grpc_cleanup(struct attempt *a)
{
	struct grpc_state *s = a->proto;

	if (!s)
		return;
	pp_grpc_health_free(s->g);
	free(s);
	a->proto = NULL;
}

const struct handler_ops pp_probe_grpc_ops = {
	.start = grpc_start,
	.timeout = grpc_timeout,
	.cleanup = grpc_cleanup,
};
