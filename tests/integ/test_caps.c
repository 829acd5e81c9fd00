// SPDX-License-Identifier: Apache-2.0
/*
 * The capabilities deploy/ grants instead of `privileged` are enough: `podprobe run` with only
 * the bounding set of deploy/podprobe.service loads every eBPF program (exits, OOM, sockets),
 * runs a pod and hears of its container's death from the kernel; `podprobe signals` with only
 * the DaemonSet's list (deploy/daemonset.yaml) traces. Both lists are read from the shipped
 * files, so the test follows them; and `podprobe watch` with only the DaemonSet's list loads
 * them too, finds a `podprobe run`'s pod through its API and sets its readiness gate.
 * Without one of them (CAP_BPF) eBPF is refused and said so.
 */
#include <errno.h>
#include <linux/capability.h>
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

static const struct {
	const char *name;
	int cap;
} caps[] = {
	{"CHOWN", CAP_CHOWN},
	{"DAC_OVERRIDE", CAP_DAC_OVERRIDE},
	{"DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
	{"FOWNER", CAP_FOWNER},
	{"KILL", CAP_KILL},
	{"SETGID", CAP_SETGID},
	{"SETUID", CAP_SETUID},
	{"SETPCAP", CAP_SETPCAP},
	{"NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
	{"NET_ADMIN", CAP_NET_ADMIN},
	{"SYS_CHROOT", CAP_SYS_CHROOT},
	{"SYS_PTRACE", CAP_SYS_PTRACE},
	{"SYS_ADMIN", CAP_SYS_ADMIN},
	{"SYS_RESOURCE", CAP_SYS_RESOURCE},
	{"PERFMON", CAP_PERFMON},
	{"BPF", CAP_BPF},
};

/* Add capability <name> ("CAP_BPF" or "BPF") to <mask>; fails the test for an unknown one. */
static void add_cap(uint64_t *mask, const char *name)
{
	if (!strncmp(name, "CAP_", 4))
		name += 4;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (!strcmp(caps[i].name, name)) {
			*mask |= 1ull << caps[i].cap;
			return;
		}
	fail_msg("deploy/ names capability %s, which this test does not know", name);
}

/* The unit's CapabilityBoundingSet=. */
static uint64_t service_caps(void)
{
	char line[2048], *tok, *save;
	uint64_t mask = 0;
	FILE *f = fopen("deploy/podprobe.service", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapabilityBoundingSet=", 22))
			for (tok = strtok_r(line + 22, " \n", &save); tok;
			     tok = strtok_r(NULL, " \n", &save))
				add_cap(&mask, tok);
	fclose(f);
	assert_true(mask != 0);
	return mask;
}

/* The DaemonSet container's securityContext.capabilities.add list ("- NAME  # why"). */
static uint64_t daemonset_caps(void)
{
	char line[512], name[64];
	uint64_t mask = 0;
	bool in_add = false;
	FILE *f = fopen("deploy/daemonset.yaml", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "add:")) {
			in_add = true;
			continue;
		}
		if (in_add && sscanf(line, " - %63[A-Z_]", name) == 1)
			add_cap(&mask, name);
		else if (in_add)
			in_add = false;
	}
	fclose(f);
	assert_true(mask != 0);
	return mask;
}

static bool skip_reason(void)
{
	if (geteuid() != 0) {
		print_message("skip: capabilities are dropped from root's; not root\n");
		return true;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		print_message("skip: no kernel BTF at /sys/kernel/btf/vmlinux\n");
		return true;
	}
	return false;
}

static void test_service_caps_run_pods_with_ebpf(void **state)
{
	struct t_run r;
	const struct t_event *ev;
	char yaml[1024], pidfile[400], buf[32];
	FILE *f;
	int pid = 0;

	(void)state;
	if (skip_reason())
		skip();
	t_run_init(&r);
	r.keep_caps = service_caps();
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: capped}\nspec:\n"
		 "  restartPolicy: Never\n  containers:\n"
		 "  - name: app\n    image: busybox\n"
		 "    command: [sh, -c, 'echo $$$$ > pid.tmp && mv pid.tmp pid && exec sleep "
		 "1000']\n"
		 "    workingDir: '%s'\n",
		 r.dir);
	t_run_start(&r, (const char *const[]){"-v", t_write_manifest(&r, "pod.yaml", yaml), NULL});
	t_wait_event(&r, "Started", "app", 0, 5000);
	/* Every program loaded: exits, OOM and the cgroup sockops one (NET_ADMIN). */
	if (!strstr(r.err_text, "kernel signals: eBPF (exits+oom+sockets)"))
		fail_msg("eBPF not complete with the unit's capabilities: %s", r.err_text);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", r.dir);
	t_wait_file(pidfile, 5000);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	if (fgets(buf, sizeof(buf), f))
		pid = atoi(buf);
	fclose(f);
	assert_true(pid > 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	ev = t_wait_event(&r, "Terminated", "app", 0, 3000);
	assert_string_equal(ev->source, "kernel");
	t_run_wait_exit(&r, 10000);
	t_run_cleanup(&r);
}

static void test_without_cap_bpf_ebpf_is_refused_and_said(void **state)
{
	struct t_run r;

	(void)state;
	if (skip_reason())
		skip();
	t_run_init(&r);
	r.keep_caps = service_caps() & ~(1ull << CAP_BPF) & ~(1ull << CAP_SYS_ADMIN);
	t_run_start(&r, (const char *const[]){t_write_manifest(&r, "pod.yaml",
							       "apiVersion: v1\nkind: Pod\n"
							       "metadata: {name: p}\nspec:\n"
							       "  restartPolicy: Never\n"
							       "  containers:\n  - name: c\n"
							       "    image: busybox\n"
							       "    command: ['true']\n"),
					      NULL});
	t_wait_event(&r, "Started", "c", 0, 5000);
	assert_non_null(strstr(r.err_text, "continuing without eBPF assist"));
	assert_int_equal(t_run_wait_exit(&r, 10000), 0);
	t_run_cleanup(&r);
}

static void test_daemonset_caps_trace(void **state)
{
	char cmd[1024], out[4096];
	uint64_t keep;
	int n = 0;

	(void)state;
	if (skip_reason())
		skip();
	keep = daemonset_caps();
	n = snprintf(cmd, sizeof(cmd), "setpriv --bounding-set=-all");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (keep & (1ull << caps[i].cap)) {
			n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, ",+");
			for (const char *c = caps[i].name; *c; c++)
				cmd[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
			cmd[n] = '\0';
		}
	if (access("/usr/bin/setpriv", X_OK) != 0) {
		print_message("skip: no setpriv (util-linux)\n");
		skip();
	}
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " -- %s signals --duration 300ms 2>&1",
		 t_podprobe());
	if (t_system(cmd, out, sizeof(out)) != 0)
		fail_msg("%s: %s", cmd, out);
	assert_non_null(strstr(out, "TIME "));
}

static void test_daemonset_caps_watch(void **state)
{
	struct t_run run, w;
	char kubeconfig[400], node_arg[128], host[64] = "", cmd[600], out[256] = "";
	const char *gated = "apiVersion: v1\nkind: Pod\nmetadata: {name: gated}\nspec:\n"
			    "  readinessGates: [{conditionType: podprobe.io/ready}]\n"
			    "  containers:\n  - name: app\n    image: x\n"
			    "    command: [sleep, '600']\n";
	uint64_t until;

	(void)state;
	if (skip_reason())
		skip();
	if (access("/usr/bin/kubectl", X_OK) != 0) {
		print_message("skip: no /usr/bin/kubectl\n");
		skip();
	}
	t_run_init(&run);
	t_run_start(&run, (const char *const[]){"--api-addr=127.0.0.1:0",
						t_write_manifest(&run, "pod.yaml", gated), NULL});
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", run.state_dir);
	t_wait_file(kubeconfig, 10000);
	t_wait_event(&run, "Started", "app", 0, 10000);

	t_run_init(&w);
	w.keep_caps = daemonset_caps();
	gethostname(host, sizeof(host) - 1);
	snprintf(node_arg, sizeof(node_arg), "--node=%s", host);
	t_watch_start(&w, (const char *const[]){"--kubeconfig", kubeconfig, node_arg, NULL});
	/* No readiness probe: the gate follows the container running, once it is found. */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/kubectl --kubeconfig %s get pod gated -o "
		 "jsonpath='{.status.conditions[?(@.type==\"podprobe.io/ready\")].status}'",
		 kubeconfig);
	for (until = t_now_ms() + 15000; t_now_ms() < until; t_drain(&w, 100))
		if (t_system(cmd, out, sizeof(out)) == 0 && !strcmp(out, "True"))
			break;
	if (strcmp(out, "True"))
		fail_msg("gate '%s' with the DaemonSet's capabilities; watch said: %s", out,
			 w.err_text);
	/* Its stderr is read as it is drained: until the eBPF line is in. */
	for (until = t_now_ms() + 5000;
	     !strstr(w.err_text, "kernel signals:") && t_now_ms() < until;)
		t_drain(&w, 50);
	if (!strstr(w.err_text, "kernel signals: eBPF (exits+oom+sockets)"))
		fail_msg("eBPF not complete with the DaemonSet's capabilities: %s", w.err_text);
	t_run_signal(&w, SIGTERM);
	assert_int_equal(t_run_wait_exit(&w, 5000), 0);
	t_run_cleanup(&w);
	t_run_cleanup(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_service_caps_run_pods_with_ebpf),
		T_TEST(test_without_cap_bpf_ebpf_is_refused_and_said),
		T_TEST(test_daemonset_caps_trace),
		T_TEST(test_daemonset_caps_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
