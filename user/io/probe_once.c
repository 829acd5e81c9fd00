// SPDX-License-Identifier: Apache-2.0
#include "podprobe/probe_once.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "podprobe/clock.h"
#include "podprobe/loop.h"

struct once {
	struct pp_probe_report *rep;
	bool done;
};

static void on_done(void *ctx, const struct pp_probe_report *rep)
{
	struct once *o = ctx;

	*o->rep = *rep;
	o->done = true;
}

int pp_probe_once(const struct pp_probe_target *t, pp_nsec timeout, struct pp_probe_report *ret)
{
	struct once o = {.rep = ret};
	struct pp_prober *pr = NULL;
	struct pp_loop *loop = NULL;
	int err;

	err = pp_loop_new(64, &loop);
	if (err < 0)
		return err;
	err = pp_prober_new(loop, &pr);
	if (err < 0)
		goto out;
	err = pp_prober_start(pr, t, timeout, on_done, &o, NULL);
	while (err == 0 && !o.done) {
		err = pp_loop_run_once(loop, pp_prober_next_deadline(pr));
		if (err >= 0)
			err = 0;
		pp_prober_run_expired(pr, pp_clock_now());
	}
out:
	pp_prober_free(pr);
	pp_loop_free(loop);
	return err;
}

int pp_probe_parse_url(const char *url, struct pp_probe_target *t, char *buf, size_t size,
		       char *err, size_t errlen)
{
	static const struct {
		const char *scheme;
		enum pp_handler_kind kind;
		bool https;
	} schemes[] = {
		{"tcp://", PP_HANDLER_TCP_SOCKET, false},
		{"http://", PP_HANDLER_HTTP_GET, false},
		{"https://", PP_HANDLER_HTTP_GET, true},
		{"grpc://", PP_HANDLER_GRPC, false},
	};
	const char *rest = NULL, *slash, *colon;
	char *host, *end;
	size_t hlen;
	long port;
	int rc;

	memset(t, 0, sizeof(*t));
	t->mnt_ns_fd = -1;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (!strncasecmp(url, schemes[i].scheme, n)) {
			rest = url + n;
			t->kind = schemes[i].kind;
			t->https = schemes[i].https;
			break;
		}
	}
	if (!rest) {
		snprintf(err, errlen,
			 "unsupported target '%s': want tcp://, http://, https:// or grpc://", url);
		return -EINVAL;
	}
	slash = strchr(rest, '/');
	hlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (hlen + 2 >= size) {
		snprintf(err, errlen, "target '%s' is too long", url);
		return -EINVAL;
	}
	memcpy(buf, rest, hlen);
	buf[hlen] = '\0';
	host = buf;
	if (host[0] == '[') {
		char *close = strchr(host, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad address in '%s': want [IPv6]:PORT", url);
			return -EINVAL;
		}
		*close = '\0';
		colon = close + 1;
		host++;
	} else {
		colon = strrchr(host, ':');
		if (!colon) {
			snprintf(err, errlen, "missing port in '%s'", url);
			return -EINVAL;
		}
		*(char *)colon = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535) {
		snprintf(err, errlen, "bad port in '%s': want 1..65535", url);
		return -EINVAL;
	}
	/* Path (http) or service (grpc) after the host, in the rest of <buf>. */
	if (slash) {
		char *p = buf + hlen + 1;

		snprintf(p, size - hlen - 1, "%s", t->kind == PP_HANDLER_GRPC ? slash + 1 : slash);
		if (t->kind == PP_HANDLER_GRPC)
			t->service = p;
		else
			t->path = p;
	}
	rc = pp_probe_target_resolve(t, host, (int)port);
	if (rc < 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
			 rc == -ENOENT ? "no such host" : strerror(-rc));
		return -EINVAL;
	}
	t->host = host;
	return 0;
}
