// SPDX-License-Identifier: Apache-2.0
/*
 * `podprobe run --events=json`: every line is one JSON object, whatever bytes a probe prints
 * (a full 10 KiB of control characters and bytes that are not UTF-8 once gave cut lines).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/integ.h"

#define PYTHON "/usr/bin/python3"

/*
 * Validates every line of a file as JSON (python's json module is strict about control
 * characters in strings; the bytes must decode as UTF-8). Prints the number of lines and of
 * Unhealthy events with a message of at least 9,000 characters (near the 10 KiB kept).
 */
static const char check_py[] =
	"import json,sys\n"
	"n=big=0\n"
	"for raw in open(sys.argv[1],'rb'):\n"
	"    ev=json.loads(raw.decode('utf-8'))\n"
	"    n+=1\n"
	"    if ev['reason']=='Unhealthy' and len(ev['message'])>=9000: big+=1\n"
	"print(n,big)\n";

static void test_json_events_parse_whatever_the_probe_prints(void **state)
{
	struct t_run r;
	char cmd[2048], out[128], script[400], events[400];
	const char *manifest;
	unsigned int lines = 0, big = 0;
	FILE *f;

	if (access(PYTHON, X_OK) != 0) {
		print_message("skip: %s is needed to check the JSON\n", PYTHON);
		skip();
	}
	t_run_init(&r);
	/* The probe prints 10 KiB of random bytes, control characters and all, and fails. */
	manifest = t_write_manifest(
		&r, "noisy.yaml",
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: noisy}\n"
		"spec:\n"
		"  restartPolicy: Never\n"
		"  containers:\n"
		"  - name: app\n"
		"    image: busybox\n"
		"    command: [sleep, '3']\n"
		"    readinessProbe:\n"
		"      exec:\n"
		"        command: [sh, -c, 'head -c 12000 /dev/urandom | tr -d \\\\000; exit 1']\n"
		"      periodSeconds: 1\n"
		"      failureThreshold: 1\n");
	snprintf(script, sizeof(script), "%s/check.py", r.dir);
	snprintf(events, sizeof(events), "%s/events.json", r.dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(check_py, f);
	fclose(f);
	/* podprobe exits by itself once the pod has Succeeded (about 3 s). */
	snprintf(cmd, sizeof(cmd),
		 "timeout -k 2 20 %s run --api-addr=none --events=json --table=never --no-bpf --state-dir=%s "
		 "%s >%s 2>/dev/null",
		 t_podprobe(), r.state_dir, manifest, events);
	assert_int_equal(t_system(cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", PYTHON, script, events);
	assert_int_equal(t_system(cmd, out, sizeof(out)), 0);
	assert_int_equal(sscanf(out, "%u %u", &lines, &big), 2);
	assert_true(lines >= 5);
	/* At least one attempt printed enough to fill the 10 KiB of output kept. */
	assert_true(big >= 1);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_events_parse_whatever_the_probe_prints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
