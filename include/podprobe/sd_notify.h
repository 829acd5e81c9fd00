/* SPDX-License-Identifier: Apache-2.0 */
/*
 * systemd's service notification protocol (sd_notify(3), "Protocol" in systemd's
 * docs/NOTIFY.md): one datagram of newline-separated VAR=VALUE lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), and the watchdog
 * interval from $WATCHDOG_USEC (for this process when $WATCHDOG_PID is unset or names it).
 * A small implementation instead of libsystemd: the protocol is one sendto(), and podprobe
 * would otherwise link libsystemd for nothing else.
 */
#ifndef PODPROBE_SD_NOTIFY_H
#define PODPROBE_SD_NOTIFY_H

#include "podprobe/time-t.h"

/*
 * Send <state> ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..." lines) to
 * $NOTIFY_SOCKET. Returns 1 when sent, 0 when $NOTIFY_SOCKET is unset (nothing to do), or
 * -errno (-EINVAL for a socket name that is neither absolute nor abstract, -ENAMETOOLONG).
 */
int pp_sd_notify(const char *state);

/*
 * How often to send WATCHDOG=1: half of $WATCHDOG_USEC (as sd_watchdog_enabled(3) advises),
 * or 0 when no watchdog is asked of this process.
 */
pp_nsec pp_sd_watchdog_interval(void);

#endif
