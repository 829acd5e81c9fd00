// SPDX-License-Identifier: Apache-2.0
/*
 * systemd's notification protocol (deploy/podprobe.service is Type=notify): a `podprobe run`
 * started with $NOTIFY_SOCKET sends READY=1 once its loop runs and its API listens (the
 * kubeconfig exists by then), WATCHDOG=1 from the loop at half of $WATCHDOG_USEC, and
 * STOPPING=1 when SIGTERM stops it; without $NOTIFY_SOCKET nothing is sent anywhere.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

/* A datagram socket at <dir>/notify; its fd. */
static int notify_socket(const char *dir, char *path, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(path, size, "%s/notify", dir);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The next datagram within <ms>, NUL-terminated in <buf>; false on timeout. */
static bool next_message(int fd, char *buf, size_t size, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return false;
	n = recv(fd, buf, size - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	return true;
}

static void test_ready_watchdog_stopping(void **state)
{
	struct t_run r;
	const char *argv[] = {"--api-addr=127.0.0.1:0", NULL};
	char path[400], kubeconfig[400], msg[512];
	uint64_t t0, first = 0, last = 0;
	int fd, watchdogs = 0;
	bool ready = false, stopping = false;

	(void)state;
	t_run_init(&r);
	fd = notify_socket(r.dir, path, sizeof(path));
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "200000", 1); /* WATCHDOG=1 every 100 ms */
	t_run_start(&r, argv);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", r.state_dir);

	t0 = t_now_ms();
	while (!ready && t_now_ms() - t0 < 10000 && next_message(fd, msg, sizeof(msg), 10000)) {
		if (strstr(msg, "READY=1")) {
			ready = true;
			/* The API listens before READY=1: its kubeconfig is there already. */
			assert_int_equal(access(kubeconfig, R_OK), 0);
		}
	}
	assert_true(ready);

	/* Five watchdog pings, spaced by about the half period the loop was asked for. */
	t0 = t_now_ms();
	while (watchdogs < 5 && t_now_ms() - t0 < 5000 &&
	       next_message(fd, msg, sizeof(msg), 2000)) {
		if (!strstr(msg, "WATCHDOG=1"))
			continue;
		last = t_now_ms();
		if (!watchdogs++)
			first = last;
	}
	assert_int_equal(watchdogs, 5);
	assert_true(last - first >= 4 * 100 - 50);   /* not sent on every loop turn */
	assert_true(last - first <= 4 * 100 + 1500); /* and not starved by an idle loop */

	t_run_signal(&r, SIGTERM);
	t0 = t_now_ms();
	while (!stopping && t_now_ms() - t0 < 10000 && next_message(fd, msg, sizeof(msg), 10000))
		stopping = strstr(msg, "STOPPING=1") != NULL;
	assert_true(stopping);
	assert_int_equal(t_run_wait_exit(&r, 10000), 0);
	close(fd);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_ready_watchdog_stopping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
