// SPDX-License-Identifier: Apache-2.0
/*
 * /metrics as Prometheus takes it: `promtool check metrics` finds nothing to complain about in
 * what a running `podprobe run` serves (names, help texts, types, units), and a real
 * Prometheus server scraping podprobe over HTTPS, with the kubeconfig's CA and bearer token,
 * stores its counters (queried back through Prometheus's HTTP API).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integ/support/integ.h"

#define KUBECTL	   "/usr/bin/kubectl"
#define PROMTOOL   "/usr/bin/promtool"
#define PROMETHEUS "/usr/bin/prometheus"

static const char pod_yaml[] = "apiVersion: v1\n"
			       "kind: Pod\n"
			       "metadata: {name: probed}\n"
			       "spec:\n"
			       "  containers:\n"
			       "  - name: app\n"
			       "    image: busybox\n"
			       "    command: [sleep, '600']\n"
			       "    readinessProbe:\n"
			       "      exec: {command: ['true']}\n"
			       "      periodSeconds: 1\n";

static char out[1 << 17];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return t_system(cmd, out, sizeof(out));
}

/* A run serving the API with the probed pod; its kubeconfig path in <kubeconfig>. */
static void start(struct t_run *r, char *kubeconfig, size_t size)
{
	const char *argv[3];

	t_run_init(r);
	argv[0] = "--api-addr=127.0.0.1:0";
	argv[1] = t_write_manifest(r, "pod.yaml", pod_yaml);
	argv[2] = NULL;
	t_run_start(r, argv);
	snprintf(kubeconfig, size, "%s/kubeconfig", r->state_dir);
	t_wait_file(kubeconfig, 10000);
}

/* Poll the run's /metrics (through kubectl) until prober_probe_total is there. */
static void wait_probe_counted(const char *kubeconfig, const char *cache)
{
	uint64_t t0 = t_now_ms();

	while (t_now_ms() - t0 < 20000) {
		if (sh("timeout 20 " KUBECTL " --kubeconfig %s --cache-dir %s get --raw /metrics",
		       kubeconfig, cache) == 0 &&
		    strstr(out, "prober_probe_total{"))
			return;
		usleep(100 * 1000); /* polling a remote counter: no event to wait on */
	}
	fail_msg("no prober_probe_total in /metrics: %.2000s", out);
}

static void test_promtool_check(void **state)
{
	struct t_run r;
	char kubeconfig[400], cache[400], file[400];

	(void)state;
	if (access(PROMTOOL, X_OK) != 0 || access(KUBECTL, X_OK) != 0) {
		print_message("skip: " PROMTOOL " or " KUBECTL
			      " missing (Debian package prometheus)\n");
		skip();
	}
	start(&r, kubeconfig, sizeof(kubeconfig));
	snprintf(cache, sizeof(cache), "%s/kcache", r.dir);
	wait_probe_counted(kubeconfig, cache);
	snprintf(file, sizeof(file), "%s/metrics.txt", r.dir);
	assert_int_equal(sh("timeout 20 " KUBECTL
			    " --kubeconfig %s --cache-dir %s get --raw /metrics > %s",
			    kubeconfig, cache, file),
			 0);
	assert_int_equal(sh("cat %s", file), 0);
	/* The node's families: the running pod and container, its first readiness. */
	assert_non_null(strstr(out, "\nkubelet_running_pods 1\n"));
	assert_non_null(
		strstr(out, "\nkubelet_running_containers{container_state=\"running\"} 1\n"));
	assert_non_null(strstr(out, "\npodprobe_first_readiness_seconds_count 1\n"));
	assert_non_null(strstr(out, "podprobe_container_restarts_total{container=\"app\","
				    "namespace=\"default\",pod=\"probed\"} 0\n"));
	/* promtool prints its findings and exits 1 on any (lint problems included). */
	if (sh(PROMTOOL " check metrics < %s 2>&1", file) != 0)
		fail_msg("promtool check metrics: %.4000s", out);
	t_run_cleanup(&r);
}

static void test_prometheus_scrapes(void **state)
{
	struct t_run r;
	char kubeconfig[400], cache[400], ca[400], token[400], cfg[400], data[400], server[256];
	char url[300];
	int port, prom_port, status;
	uint64_t t0;
	pid_t prom;
	FILE *f;
	bool found = false;

	(void)state;
	if (access(PROMETHEUS, X_OK) != 0 || access(KUBECTL, X_OK) != 0) {
		print_message("skip: " PROMETHEUS " or " KUBECTL
			      " missing (Debian package prometheus)\n");
		skip();
	}
	start(&r, kubeconfig, sizeof(kubeconfig));
	snprintf(cache, sizeof(cache), "%s/kcache", r.dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", r.dir);
	snprintf(token, sizeof(token), "%s/token", r.dir);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", r.dir);
	snprintf(data, sizeof(data), "%s/prom-data", r.dir);
	assert_int_equal(sh(KUBECTL
			    " --kubeconfig %s config view --raw -o "
			    "jsonpath='{.clusters[0].cluster.certificate-authority-data}' | "
			    "base64 -d > %s",
			    kubeconfig, ca),
			 0);
	assert_int_equal(sh(KUBECTL " --kubeconfig %s config view --raw -o "
				    "jsonpath='{.users[0].user.token}' > %s",
			    kubeconfig, token),
			 0);
	assert_int_equal(sh(KUBECTL " --kubeconfig %s config view --raw -o "
				    "jsonpath='{.clusters[0].cluster.server}'",
			    kubeconfig),
			 0);
	assert_int_equal(sscanf(out, "https://127.0.0.1:%d", &port), 1);
	snprintf(server, sizeof(server), "127.0.0.1:%d", port);

	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
		"global: {scrape_interval: 1s, scrape_timeout: 900ms}\n"
		"scrape_configs:\n"
		"- job_name: podprobe\n"
		"  scheme: https\n"
		"  tls_config: {ca_file: %s}\n"
		"  authorization: {credentials_file: %s}\n"
		"  static_configs: [{targets: ['%s']}]\n",
		ca, token, server);
	assert_int_equal(fclose(f), 0);

	prom_port = t_free_port();
	prom = fork();
	assert_true(prom >= 0);
	if (prom == 0) {
		char listen[64], cfg_arg[450], data_arg[450];
		int null_fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if (null_fd >= 0 && !getenv("T_VERBOSE")) {
			dup2(null_fd, 1);
			dup2(null_fd, 2);
		}
		snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", prom_port);
		snprintf(cfg_arg, sizeof(cfg_arg), "--config.file=%s", cfg);
		snprintf(data_arg, sizeof(data_arg), "--storage.tsdb.path=%s", data);
		execl(PROMETHEUS, PROMETHEUS, cfg_arg, data_arg, listen, (char *)NULL);
		_exit(127);
	}

	/* Until Prometheus has scraped podprobe and stored a sample of the probe counter. */
	snprintf(url, sizeof(url),
		 "http://127.0.0.1:%d/api/v1/"
		 "query?query=prober_probe_total%%7Bpod%%3D%%22probed%%22%%7D",
		 prom_port);
	t0 = t_now_ms();
	while (!found && t_now_ms() - t0 < 30000) {
		if (sh("curl -sS --max-time 2 '%s' 2>/dev/null", url) == 0 &&
		    strstr(out, "\"success\"") &&
		    strstr(out, "\"__name__\":\"prober_probe_total\"") &&
		    strstr(out, "\"result\":\"successful\""))
			found = true;
		else
			usleep(200 *
			       1000); /* Prometheus's own scrape cadence: nothing to wait on */
	}
	if (!found)
		fail_msg("Prometheus stored no prober_probe_total: %.2000s", out);
	/* The target is up: TLS verified with the CA, the token accepted. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=up", prom_port);
	assert_int_equal(sh("curl -sS --max-time 2 '%s'", url), 0);
	assert_non_null(strstr(out, "\"job\":\"podprobe\""));
	assert_non_null(strstr(out, "\"1\"]"));

	kill(prom, SIGTERM);
	assert_int_equal(waitpid(prom, &status, 0), prom);
	t_run_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_TEST(test_promtool_check),
		T_TEST(test_prometheus_scrapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
