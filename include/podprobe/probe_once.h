/* SPDX-License-Identifier: Apache-2.0 */
/* `podprobe probe`: one attempt on a private loop, for the command line and exec probes. */
#ifndef PODPROBE_PROBE_ONCE_H
#define PODPROBE_PROBE_ONCE_H

#include "podprobe/prober.h"

/*
 * Parse <url> ("tcp://HOST:PORT", "http[s]://HOST:PORT/PATH", "grpc://HOST:PORT[/SERVICE]")
 * into <t> (strings point into <buf> of <size> bytes). Returns 0, or -EINVAL with a reason in
 * <err>.
 */
int pp_probe_parse_url(const char *url, struct pp_probe_target *t, char *buf, size_t size,
		       char *err, size_t errlen);

/* Run one attempt of <t> with <timeout> to its end; fills <ret>. Returns 0 or -errno. */
int pp_probe_once(const struct pp_probe_target *t, pp_nsec timeout, struct pp_probe_report *ret);

#endif
