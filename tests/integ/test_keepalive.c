// SPDX-License-Identifier: Apache-2.0
/*
 * probe.podprobe.io/http-keepalive: "true" makes a pod's httpGet probes reuse one HTTP/1.1
 * connection (issue 12, item 3); without it every attempt is a new connection, as kubelet
 * (DisableKeepAlives since kubernetes #15733). The app is a keep-alive HTTP/1.1 server that
 * writes "<connections> <requests>" to a file after each request.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

static const char server_py[] =
	"import http.server, os, sys\n"
	"port, out = int(sys.argv[1]), sys.argv[2]\n"
	"n = {'c': 0, 'r': 0}\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def setup(self):\n"
	"        n['c'] += 1\n"
	"        super().setup()\n"
	"    def do_GET(self):\n"
	"        n['r'] += 1\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', '2')\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b'ok')\n"
	"        open(out + '.tmp', 'w').write('%d %d' % (n['c'], n['r']))\n"
	"        os.rename(out + '.tmp', out)\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()\n";

/* Run a pod probing the server every 100 ms (keep-alive or not) until it served 10 requests. */
static void probe_counts(bool keepalive, int *ret_conns, int *ret_reqs)
{
	struct t_run r;
	char yaml[2048], py[400], counts[400], cmd[600], out[64];
	int port = t_free_port(), c = 0, q = 0;
	uint64_t t0;
	FILE *f;

	t_run_init(&r);
	snprintf(py, sizeof(py), "%s/server.py", r.dir);
	f = fopen(py, "w");
	assert_non_null(f);
	fputs(server_py, f);
	fclose(f);
	snprintf(counts, sizeof(counts), "%s/counts", r.dir);
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ka\n  annotations:\n"
		 "    probe.podprobe.io/period-ms: '100'\n%s"
		 "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n"
		 "    image: python\n    command: [/usr/bin/python3, '%s', '%d', '%s']\n"
		 "    readinessProbe:\n      httpGet: {path: /, port: %d}\n",
		 keepalive ? "    probe.podprobe.io/http-keepalive: 'true'\n" : "", py, port,
		 counts, port);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "pod.yaml", yaml), NULL});
	t_wait_event(&r, "Started", "app", 0, 10000);
	snprintf(cmd, sizeof(cmd), "cat %s 2>/dev/null", counts);
	for (t0 = t_now_ms(); q < 10 && t_now_ms() - t0 < 20000;) {
		if (t_system(cmd, out, sizeof(out)) == 0 && sscanf(out, "%d %d", &c, &q) == 2 &&
		    q >= 10)
			break;
		usleep(50 * 1000); /* the app's file: nothing to wait on */
	}
	assert_true(q >= 10);
	t_run_signal(&r, SIGTERM);
	t_run_wait_exit(&r, 10000);
	t_run_cleanup(&r);
	*ret_conns = c;
	*ret_reqs = q;
}

static void test_keepalive_annotation_reuses_one_connection(void **state)
{
	int c, q;

	(void)state;
	probe_counts(true, &c, &q);
	/* The first attempts may race the server's accept; then one connection serves all. */
	if (c > 2)
		fail_msg("keep-alive: %d connections for %d requests", c, q);
}

static void test_default_is_a_new_connection_per_probe(void **state)
{
	int c, q;

	(void)state;
	probe_counts(false, &c, &q);
	assert_int_equal(c, q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_keepalive_annotation_reuses_one_connection),
		T_TEST(test_default_is_a_new_connection_per_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
