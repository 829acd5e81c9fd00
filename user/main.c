// SPDX-License-Identifier: Apache-2.0
/*
 * podprobe's command line: parses options (argp, one parser per command), wires the modules
 * and maps results to exit statuses. No lifecycle logic lives here.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/backoff.h"
#include "podprobe/kubefmt.h"
#include "podprobe/log.h"
#include "podprobe/logs.h"
#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"
#include "podprobe/probe_once.h"
#include "podprobe/runtime.h"
#include "podprobe/security.h"
#include "podprobe/signals.h"
#include "podprobe/statedir.h"
#include "podprobe/supervisor.h"

#define PP_VERSION "0.1.0"
#define EXIT_USAGE 2

const char *argp_program_version = "podprobe " PP_VERSION;
const char *argp_program_bug_address = "the podprobe issue tracker";
error_t argp_err_exit_status = EXIT_USAGE;

struct pp_opts {
	const char *cmd;
	const char *state_dir;
	const char *ns;
	const char *container;
	const char *pod;
	bool previous;
	bool quiet;
	bool no_cgroups;
	bool no_bpf;
	bool no_fast_detect;
	bool keep_pods;
	const char *api_addr; /* "none" = no API */
	bool api_public;
	unsigned long max_pods;
	enum pp_events_format events;
	enum pp_table_mode table;
	pp_nsec backoff_base;
	pp_nsec backoff_max;
	pp_nsec kill_gap;
	pp_nsec probe_timeout;
	struct pp_kv headers[32];
	size_t n_headers;
	char **args; /* probe: TARGET, or exec CMD... */
	size_t n_args;
	bool all; /* signals: no filtering */
	bool json;
	pp_nsec duration;
	int verbose;
};

static struct pp_opts opts = {
	.events = PP_EVENTS_TEXT,
	.table = PP_TABLE_AUTO,
	.kill_gap = PP_MIN_KILL_GAP,
	.probe_timeout = PP_NSEC_PER_SEC,
	.api_addr = "127.0.0.1:10443",
};

enum {
	OPT_STATE_DIR = 0x100,
	OPT_EVENTS,
	OPT_TABLE,
	OPT_BACKOFF_BASE,
	OPT_BACKOFF_MAX,
	OPT_KILL_GAP,
	OPT_NO_CGROUPS,
	OPT_NO_BPF,
	OPT_NO_FAST_DETECT,
	OPT_KEEP_PODS,
	OPT_API_ADDR,
	OPT_API_PUBLIC,
	OPT_MAX_PODS,
	OPT_TIMEOUT,
	OPT_OUTPUT,
	OPT_DURATION,
};

static const char main_doc[] =
	"podprobe -- run Kubernetes Pod manifests as local processes with kubelet's lifecycle\n"
	"\n"
	"USAGE: podprobe COMMAND [OPTION...] [ARG...]\n"
	"\n"
	"Commands:\n"
	"  run PATH...       run the pods in PATH (files or directories) until they finish\n"
	"  validate PATH...  check manifests as the API server would; exit 0 valid, 2 not\n"
	"  logs POD          print a container's log (-c CONTAINER, -p previous instance)\n"
	"  delete POD...     delete pods of a running `podprobe run` (graceful, as kubectl)\n"
	"  probe TARGET      run one probe (tcp://, http://, https://, grpc://, exec -- CMD)\n"
	"  signals           live trace of the kernel events podprobe uses (root, eBPF)\n"
	"  help              this text; `podprobe COMMAND --help` describes each command\n"
	"  version           print the version\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe run examples/              # run the bundled db and web pods\n"
	"  podprobe run --events=json pod.yaml # one JSON event per line\n"
	"  podprobe validate pod.yaml\n"
	"  podprobe logs web -c init-data\n"
	"  podprobe probe http://127.0.0.1:8080/healthz\n";

/* --state-dir's help names the directory this user gets (filled in by main()). */
static char state_dir_doc[PATH_MAX + 256];

static const struct argp_option common_options[] = {
	{"state-dir", OPT_STATE_DIR, "DIR", 0, state_dir_doc, 0},
	{"verbose", 'v', NULL, 0, "Print debug messages", 0},
	{NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0},
	{0},
};

static const struct argp_option run_options[] = {
	{"events", OPT_EVENTS, "FORMAT", 0,
	 "Event output: text (default), json (one object per line) or none", 1},
	{"table", OPT_TABLE, "WHEN", 0,
	 "Live pod table: auto (on a terminal with text events, default), always, never", 1},
	{"backoff-base", OPT_BACKOFF_BASE, "DURATION", 0,
	 "First CrashLoopBackOff delay (default 10s; e.g. 100ms)", 2},
	{"backoff-max", OPT_BACKOFF_MAX, "DURATION", 0,
	 "CrashLoopBackOff cap (default 300s); a run of 2x this resets the back-off", 2},
	{"min-kill-gap", OPT_KILL_GAP, "DURATION", 0,
	 "Least time between SIGTERM and SIGKILL (default 2s, as kubelet)", 2},
	{"no-cgroups", OPT_NO_CGROUPS, NULL, 0,
	 "Do not create cgroups (process groups only; no memory limits)", 2},
	{"no-bpf", OPT_NO_BPF, NULL, 0,
	 "No eBPF kernel signals: exits through pidfds, ports through probes only", 2},
	{"no-fast-detect", OPT_NO_FAST_DETECT, NULL, 0,
	 "Do not re-probe at once when the kernel sees a probed port close", 2},
	{"api-addr", OPT_API_ADDR, "ADDR:PORT", 0,
	 "Serve the Kubernetes API for kubectl over HTTPS here (default 127.0.0.1:10443; port 0 "
	 "picks one) and on STATE-DIR/api.sock, writing STATE-DIR/kubeconfig; `none` serves "
	 "nothing. While it serves, the run goes on when its pods end (pods come and go through "
	 "the API) until SIGINT/SIGTERM",
	 3},
	{"api-addr-public", OPT_API_PUBLIC, NULL, 0,
	 "Allow an --api-addr that is not a loopback address", 3},
	{"max-pods", OPT_MAX_PODS, "N", 0, "Pods one run holds at most (default 16384)", 3},
	{"keep-pods", OPT_KEEP_PODS, NULL, 0,
	 "On SIGINT or SIGTERM, exit and leave the pods running: the next `podprobe run` on "
	 "this state directory re-adopts them (as restarting kubelet restarts no pod)",
	 2},
	{0},
};

static const struct argp_option logs_options[] = {
	{"namespace", 'n', "NS", 0, "The pod's namespace (default \"default\")", 1},
	{"container", 'c', "NAME", 0, "The container (needed when the pod has several)", 1},
	{"previous", 'p', NULL, 0, "The previous instance's log", 1},
	{0},
};

static const struct argp_option probe_options[] = {
	{"timeout", OPT_TIMEOUT, "DURATION", 0, "Give up after DURATION (default 1s)", 1},
	{"header", 'H', "'NAME: VALUE'", 0, "Add an HTTP header (repeatable; Host overrides)", 1},
	{0},
};

static const struct argp_option signals_options[] = {
	{"all", 'a', NULL, 0, "Every process and port, not only podprobe's containers", 1},
	{"output", OPT_OUTPUT, "FORMAT", 0, "text (default) or json", 1},
	{"json", 'j', NULL, 0, "Same as --output=json", 1},
	{"duration", OPT_DURATION, "DURATION", 0, "Stop after DURATION (default: at Ctrl-C)", 1},
	{0},
};

static const struct argp_option delete_options[] = {
	{"namespace", 'n', "NS", 0, "The pods' namespace (default \"default\")", 1},
	{0},
};

static const struct argp_option validate_options[] = {
	{"quiet", 'q', NULL, 0, "Print only problems", 1},
	{0},
};

static int parse_duration_arg(const char *arg, const char *name, pp_nsec *ret,
			      struct argp_state *state)
{
	if (pp_parse_duration(arg, ret) < 0)
		argp_error(state, "invalid %s '%s': want a duration such as 100ms, 10s or 5m", name,
			   arg);
	return 0;
}

static error_t parse_common(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_STATE_DIR:
		opts.state_dir = arg;
		break;
	case 'v':
		opts.verbose++;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Positional arguments (one or more): all of them into opts.args; then the common options. */
static error_t parse_args(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_ARG:
		opts.args = &state->argv[state->next - 1];
		opts.n_args = (size_t)(state->argc - state->next + 1);
		state->next = state->argc;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_usage(state);
		break;
	default:
		return parse_common(key, arg, state);
	}
	return 0;
}

static error_t parse_run(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_EVENTS:
		if (!strcmp(arg, "text"))
			opts.events = PP_EVENTS_TEXT;
		else if (!strcmp(arg, "json"))
			opts.events = PP_EVENTS_JSON;
		else if (!strcmp(arg, "none"))
			opts.events = PP_EVENTS_NONE;
		else
			argp_error(state, "invalid --events '%s': want text, json or none", arg);
		break;
	case OPT_TABLE:
		if (!strcmp(arg, "auto"))
			opts.table = PP_TABLE_AUTO;
		else if (!strcmp(arg, "always"))
			opts.table = PP_TABLE_ALWAYS;
		else if (!strcmp(arg, "never"))
			opts.table = PP_TABLE_NEVER;
		else
			argp_error(state, "invalid --table '%s': want auto, always or never", arg);
		break;
	case OPT_BACKOFF_BASE:
		return parse_duration_arg(arg, "--backoff-base", &opts.backoff_base, state);
	case OPT_BACKOFF_MAX:
		return parse_duration_arg(arg, "--backoff-max", &opts.backoff_max, state);
	case OPT_KILL_GAP:
		return parse_duration_arg(arg, "--min-kill-gap", &opts.kill_gap, state);
	case OPT_NO_CGROUPS:
		opts.no_cgroups = true;
		break;
	case OPT_NO_BPF:
		opts.no_bpf = true;
		break;
	case OPT_NO_FAST_DETECT:
		opts.no_fast_detect = true;
		break;
	case OPT_KEEP_PODS:
		opts.keep_pods = true;
		break;
	case OPT_API_ADDR:
		opts.api_addr = arg;
		break;
	case OPT_API_PUBLIC:
		opts.api_public = true;
		break;
	case ARGP_KEY_NO_ARGS:
		/* Serving the API, a run may start empty: pods come through kubectl. */
		if (!strcmp(opts.api_addr, "none"))
			argp_usage(state);
		break;
	case OPT_MAX_PODS: {
		char *end;

		errno = 0;
		opts.max_pods = strtoul(arg, &end, 10);
		if (errno || *end || !opts.max_pods || opts.max_pods > 1000000)
			argp_error(state, "--max-pods: expected 1..1000000, got \"%s\"", arg);
		break;
	}
	default:
		return parse_args(key, arg, state);
	}
	return 0;
}

static error_t parse_validate(int key, char *arg, struct argp_state *state)
{
	if (key == 'q') {
		opts.quiet = true;
		return 0;
	}
	return parse_args(key, arg, state);
}

static error_t parse_logs(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n':
		opts.ns = arg;
		break;
	case 'c':
		opts.container = arg;
		break;
	case 'p':
		opts.previous = true;
		break;
	case ARGP_KEY_ARG:
		if (opts.pod)
			argp_error(state, "one POD at a time");
		opts.pod = arg;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_usage(state);
		break;
	default:
		return parse_common(key, arg, state);
	}
	return 0;
}

static error_t parse_probe(int key, char *arg, struct argp_state *state)
{
	char *colon;

	switch (key) {
	case OPT_TIMEOUT:
		parse_duration_arg(arg, "--timeout", &opts.probe_timeout, state);
		if (!opts.probe_timeout)
			argp_error(state, "--timeout must be more than 0");
		break;
	case 'H':
		colon = strchr(arg, ':');
		if (!colon || colon == arg)
			argp_error(state, "invalid --header '%s': want 'Name: value'", arg);
		if (opts.n_headers == sizeof(opts.headers) / sizeof(opts.headers[0]))
			argp_error(state, "too many --header options");
		*colon = '\0';
		opts.headers[opts.n_headers++] =
			(struct pp_kv){arg, colon + 1 + strspn(colon + 1, " \t")};
		break;
	default:
		return parse_args(key, arg, state);
	}
	return 0;
}

static error_t parse_signals(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'a':
		opts.all = true;
		break;
	case 'j':
		opts.json = true;
		break;
	case OPT_OUTPUT:
		if (!strcmp(arg, "json"))
			opts.json = true;
		else if (!strcmp(arg, "text"))
			opts.json = false;
		else
			argp_error(state, "invalid --output '%s': want text or json", arg);
		break;
	case OPT_DURATION:
		return parse_duration_arg(arg, "--duration", &opts.duration, state);
	case ARGP_KEY_ARG:
		argp_error(state, "no arguments expected");
		break;
	default:
		return parse_common(key, arg, state);
	}
	return 0;
}

static error_t parse_delete(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n':
		opts.ns = arg;
		break;
	default:
		return parse_args(key, arg, state);
	}
	return 0;
}

static const struct argp_child common_child[] = {
	{&(struct argp){common_options, parse_common, NULL, NULL, NULL, NULL, NULL}, 0,
	 "Common options:", 5},
	{0},
};

static const struct argp run_argp = {
	run_options,
	parse_run,
	"[PATH...]",
	"Run the Pod manifests in PATH (YAML files, multi-document allowed, or directories of "
	"them) as local processes with kubelet's lifecycle: init containers in order, restart "
	"policy with CrashLoopBackOff, graceful termination on SIGINT/SIGTERM. Serves the "
	"Kubernetes API for kubectl (--api-addr): `export KUBECONFIG=STATE-DIR/kubeconfig`. With "
	"--api-addr=none it returns when every pod has Succeeded or Failed.\v"
	"Exit status: 0 every pod Succeeded, 1 a pod Failed, 2 usage or manifest errors.\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe run examples/\n"
	"  podprobe run --events=json --backoff-base=100ms crashy.yaml",
	common_child,
	NULL,
	NULL,
};

static const struct argp validate_argp = {
	validate_options,
	parse_validate,
	"PATH...",
	"Check Pod manifests as the API server would. Problems are printed as "
	"FILE:LINE:COL: FIELD.PATH: MESSAGE; unknown fields are warnings.\v"
	"Exit status: 0 valid, 2 invalid or unreadable.\n"
	"\n"
	"EXAMPLE:\n"
	"  podprobe validate examples/",
	common_child,
	NULL,
	NULL,
};

static const struct argp logs_argp = {
	logs_options,
	parse_logs,
	"POD",
	"Print the log of a container of POD from the state directory (works while podprobe runs "
	"and after it has stopped).\v"
	"EXAMPLES:\n"
	"  podprobe logs db\n"
	"  podprobe logs web -c init-data\n"
	"  podprobe logs web -c web --previous",
	common_child,
	NULL,
	NULL,
};

static const struct argp probe_argp = {
	probe_options,
	parse_probe,
	"TARGET\nexec -- CMD [ARG...]",
	"Run one probe as kubelet would and print one line: the result, the target, the HTTP "
	"status when there is one, the latency and the probe's output. TARGET is "
	"tcp://HOST:PORT, http://HOST:PORT/PATH, https://HOST:PORT/PATH (no certificate "
	"verification) or grpc://HOST:PORT[/SERVICE] (grpc.health.v1); `exec -- CMD` runs a "
	"command.\v"
	"Exit status: 0 success (a warning counts as success), 1 failure, 3 unknown (the probe "
	"errored: bad target, out of resources), 2 usage error. So `podprobe probe ...` works as "
	"an exec probe.\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe probe tcp://127.0.0.1:5432\n"
	"  podprobe probe --timeout 500ms -H 'Host: example.com' http://127.0.0.1:8080/healthz\n"
	"  podprobe probe grpc://127.0.0.1:9090/my.Service\n"
	"  podprobe probe exec -- test -f /tmp/ready",
	common_child,
	NULL,
	NULL,
};

static const struct argp delete_argp = {
	delete_options,
	parse_delete,
	"POD...",
	"Delete pods of the `podprobe run` that uses the same state directory: each gets the "
	"kubelet's graceful termination (Killing, preStop, SIGTERM, SIGKILL after "
	"terminationGracePeriodSeconds) and ends Succeeded or Failed; the other pods go on.\v"
	"Exit status: 0 every pod's deletion began, 1 otherwise (no such pod, no running "
	"podprobe run).\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe delete web\n"
	"  podprobe delete -n staging db cache",
	common_child,
	NULL,
	NULL,
};

static const struct argp signals_argp = {
	signals_options,
	parse_signals,
	"",
	"Trace the kernel events podprobe's eBPF programs see, one line each: process exits "
	"(exit code, signal), OOM kills, TCP listeners opening and closing, accepted "
	"connections. Without --all only the processes of running `podprobe run` instances "
	"(their podprobe-<pid> cgroups) and their listening ports are shown. Needs root and "
	"kernel BTF.\v"
	"EXAMPLES:\n"
	"  podprobe signals\n"
	"  podprobe signals --all --json --duration 10s",
	common_child,
	NULL,
	NULL,
};

static const char *default_state_dir(void)
{
	static char buf[PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return "/run/podprobe";
	if (xdg && *xdg)
		snprintf(buf, sizeof(buf), "%s/podprobe", xdg);
	else
		snprintf(buf, sizeof(buf), "/tmp/podprobe-%u", (unsigned int)getuid());
	return buf;
}

static void fill_state_dir_doc(void)
{
	snprintf(state_dir_doc, sizeof(state_dir_doc),
		 "Logs, volumes and state, kept private (mode 0700, refused when owned by "
		 "someone else or writable by others; one `podprobe run` at a time). Default "
		 "/run/podprobe as root, else $XDG_RUNTIME_DIR/podprobe, or /tmp/podprobe-UID "
		 "when XDG_RUNTIME_DIR is unset; for you now: %s",
		 default_state_dir());
}

static void print_diags(const struct pp_diag_list *diags)
{
	char line[2048];

	for (size_t i = 0; i < diags->n; i++) {
		pp_diag_format(&diags->items[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
}

/* Read and validate every path; pods land in <pods>. Returns the number of errors or -ENOMEM. */
static int load_manifests(struct pp_pod_list *pods, struct pp_diag_list *diags)
{
	int errors = 0, rc;

	for (size_t i = 0; i < opts.n_args; i++) {
		rc = pp_manifest_load_path(opts.args[i], pods, diags);
		if (rc < 0)
			return rc;
		errors += rc;
	}
	/* As kubectl: a document that did not decode is not validated too (no double reports). */
	if (errors)
		return errors;
	for (size_t i = 0; i < pods->n; i++) {
		const struct pp_pod *p = pods->items[i];

		rc = pp_pod_validate(p, diags);
		if (rc < 0)
			return rc;
		errors += rc;
		for (size_t j = 0; j < i; j++) {
			const struct pp_pod *q = pods->items[j];

			if (p->name && q->name && !strcmp(p->name, q->name) &&
			    !strcmp(p->namespace, q->namespace)) {
				pp_diag_add(diags, PP_DIAG_ERROR, p->file,
					    pp_pod_field_pos(p, "metadata.name"), "metadata.name",
					    "Duplicate value: pod \"%s/%s\" is also defined in %s",
					    p->namespace, p->name, q->file);
				errors++;
			}
		}
	}
	return errors;
}

static int cmd_validate(void)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	int errors = load_manifests(&pods, &diags);

	print_diags(&diags);
	if (errors == 0 && !opts.quiet)
		printf("%zu pod%s valid\n", pods.n, pods.n == 1 ? "" : "s");
	else if (errors > 0)
		fprintf(stderr, "podprobe: %d error%s\n", errors, errors == 1 ? "" : "s");
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
	return errors == 0 ? EXIT_SUCCESS : EXIT_USAGE;
}

static int cmd_probe(void)
{
	struct pp_probe_target t;
	struct pp_probe_report *rep;
	char buf[4096], err[512], lat[32];
	const char *what;
	int rc;

	if (!strcmp(opts.args[0], "exec")) {
		if (opts.n_args < 2) {
			fprintf(stderr,
				"podprobe probe: exec needs a command: exec -- CMD [ARG...]\n");
			return EXIT_USAGE;
		}
		memset(&t, 0, sizeof(t));
		t.kind = PP_HANDLER_EXEC;
		t.argv = opts.args + 1;
		t.mnt_ns_fd = -1;
		what = "exec";
	} else {
		if (opts.n_args != 1) {
			fprintf(stderr, "podprobe probe: one TARGET at a time\n");
			return EXIT_USAGE;
		}
		if (pp_probe_parse_url(opts.args[0], &t, buf, sizeof(buf), err, sizeof(err)) < 0) {
			fprintf(stderr, "podprobe probe: %s\n", err);
			return EXIT_USAGE;
		}
		t.headers = opts.headers;
		t.n_headers = opts.n_headers;
		what = opts.args[0];
	}
	rep = malloc(sizeof(*rep));
	if (!rep)
		return EXIT_FAILURE;
	rc = pp_probe_once(&t, opts.probe_timeout, rep);
	if (rc < 0) {
		pp_log_errno(PP_LOG_ERR, rc, "cannot run the probe");
		free(rep);
		return 3;
	}
	pp_fmt_go_duration(rep->latency, lat, sizeof(lat));
	/* One line: newlines of exec output and bodies are shown as spaces. */
	for (char *c = rep->message; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	for (size_t n = strlen(rep->message); n && rep->message[n - 1] == ' ';)
		rep->message[--n] = '\0';
	printf("%s %s", pp_probe_result_str(rep->result), what);
	if (rep->http_status)
		printf(" %d", rep->http_status);
	printf(" %s%s%s\n", lat, rep->message[0] ? ": " : "", rep->message);
	rc = rep->result == PP_RESULT_SUCCESS || rep->result == PP_RESULT_WARNING ? 0
	     : rep->result == PP_RESULT_FAILURE					  ? 1
										  : 3;
	free(rep);
	return rc;
}

static int cmd_delete(void)
{
	const char *ns = opts.ns ? opts.ns : "default";
	int rc = EXIT_SUCCESS;

	for (size_t i = 0; i < opts.n_args; i++) {
		int err = pp_supervisor_request_delete(opts.state_dir, ns, opts.args[i]);

		if (err == 0) {
			printf("pod \"%s\" deleted\n", opts.args[i]);
			continue;
		}
		rc = EXIT_FAILURE;
		if (err == -ENOENT)
			fprintf(stderr, "Error from podprobe (NotFound): pods \"%s\" not found\n",
				opts.args[i]);
		else if (err == -ESRCH)
			fprintf(stderr,
				"podprobe: no running 'podprobe run' uses state directory '%s'\n",
				opts.state_dir);
		else
			pp_log_errno(PP_LOG_ERR, err, "cannot delete pod '%s'", opts.args[i]);
	}
	return rc;
}

/* --api-addr: HOST:PORT with a numeric host, loopback unless --api-addr-public. */
static bool api_addr_ok(const char *addr, char *err, size_t size)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	unsigned char buf[16];
	size_t len = colon ? (size_t)(colon - addr) : 0;
	char *end;
	unsigned long port;

	if (!colon || !len || len >= sizeof(host)) {
		snprintf(err, size, "expected ADDRESS:PORT, got \"%s\"", addr);
		return false;
	}
	if (addr[0] == '[' && addr[len - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)len - 2, addr + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)len, addr);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535) {
		snprintf(err, size, "bad port in \"%s\"", addr);
		return false;
	}
	if (inet_pton(AF_INET, host, buf) == 1) {
		if (buf[0] != 127 && !opts.api_public) {
			snprintf(err, size,
				 "%s is not a loopback address: add --api-addr-public to serve the "
				 "API beyond this host",
				 host);
			return false;
		}
		return true;
	}
	if (inet_pton(AF_INET6, host, buf) == 1) {
		static const unsigned char lo[16] = {[15] = 1};

		if (memcmp(buf, lo, 16) && !opts.api_public) {
			snprintf(err, size,
				 "%s is not a loopback address: add --api-addr-public to serve the "
				 "API beyond this host",
				 host);
			return false;
		}
		return true;
	}
	snprintf(err, size, "\"%s\" is not an IPv4 or IPv6 address", host);
	return false;
}

static int cmd_run(void)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	struct pp_supervisor_cfg cfg = {
		.state_dir = opts.state_dir,
		.events = opts.events,
		.table = opts.table,
		.use_cgroups = !opts.no_cgroups,
		.use_bpf = !opts.no_bpf,
		.fast_detect = !opts.no_fast_detect,
		.keep_pods = opts.keep_pods,
		.max_pods = opts.max_pods,
		.watch_dirs = opts.args, /* argv: NULL after the last */
		.lc =
			{
				.backoff = {.base = opts.backoff_base, .max = opts.backoff_max},
				.min_kill_gap = opts.kill_gap,
			},
	};
	char msg[PATH_MAX + 256];
	int errors, rc, dir_fd, lock_fd;
	pid_t holder = 0;

	pp_backoff_cfg_fill(&cfg.lc.backoff);
	if (strcmp(opts.api_addr, "none")) {
		if (!api_addr_ok(opts.api_addr, msg, sizeof(msg))) {
			fprintf(stderr, "podprobe: --api-addr: %s\n", msg);
			return EXIT_USAGE;
		}
		cfg.api_addr = opts.api_addr;
		cfg.serve = true;
	}
	/* podprobe's own commands (delete, logs, get, describe) talk to the run through it. */
	cfg.api_socket = true;
	errors = load_manifests(&pods, &diags);
	print_diags(&diags);
	if (errors == 0 && pods.n == 0 && !cfg.serve) {
		pp_log(PP_LOG_ERR, "no pods found in the given paths");
		errors = 1;
	}
	if (errors != 0) {
		if (errors > 0)
			fprintf(stderr, "podprobe: %d error%s, nothing started\n", errors,
				errors == 1 ? "" : "s");
		pp_pod_list_free(&pods);
		pp_diag_list_free(&diags);
		return EXIT_USAGE;
	}
	pp_diag_list_free(&diags);
	/* What a non-root podprobe cannot apply is said once, before anything starts. */
	for (size_t i = 0; i < pods.n; i++)
		if (pp_security_host_warnings(pods.items[i], (uint32_t)geteuid(), &diags) < 0)
			break;
	print_diags(&diags);
	pp_diag_list_free(&diags);

	/* The state directory is ours alone for the whole run (lock_fd stays open). */
	dir_fd = pp_statedir_open(opts.state_dir, true, msg, sizeof(msg));
	if (dir_fd < 0) {
		fprintf(stderr, "podprobe: %s\n", msg);
		pp_pod_list_free(&pods);
		return EXIT_USAGE;
	}
	lock_fd = pp_statedir_lock(dir_fd, &holder);
	/*
	 * A run killed a moment ago can leave its lock held for a moment more, by a child it was
	 * starting (between clone and exec the lock fd is still open there): when the pid in
	 * the lock file is dead, wait for the lock, at most 2 s.
	 */
	for (int i = 0; i < 100 && lock_fd == -EWOULDBLOCK && holder > 0 && kill(holder, 0) < 0 &&
			errno == ESRCH;
	     i++) {
		poll(NULL, 0, 20);
		lock_fd = pp_statedir_lock(dir_fd, &holder);
	}
	close(dir_fd);
	if (lock_fd < 0) {
		if (lock_fd == -EWOULDBLOCK && holder > 0)
			fprintf(stderr,
				"podprobe: state directory %s is in use by podprobe pid %d\n",
				opts.state_dir, (int)holder);
		else if (lock_fd == -EWOULDBLOCK)
			fprintf(stderr,
				"podprobe: state directory %s is in use by another podprobe\n",
				opts.state_dir);
		else
			pp_log_errno(PP_LOG_ERR, lock_fd, "cannot lock state directory '%s'",
				     opts.state_dir);
		pp_pod_list_free(&pods);
		return EXIT_USAGE;
	}
	rc = pp_supervisor_run(&cfg, &pods);
	pp_pod_list_free(&pods);
	close(lock_fd);
	if (rc < 0)
		return EXIT_FAILURE;
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	const struct argp *argp;
	int rc;

	/* Many pods mean many fds; the processes started get the original soft limit back. */
	rc = pp_proc_raise_nofile();
	if (rc < 0)
		pp_log_errno(PP_LOG_WARN, rc, "cannot raise the open-file limit, ignoring");
	fill_state_dir_doc();
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		fputs(main_doc, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("%s\n", argp_program_version);
		return EXIT_SUCCESS;
	}
	opts.cmd = argv[1];
	if (!strcmp(opts.cmd, "run"))
		argp = &run_argp;
	else if (!strcmp(opts.cmd, "validate"))
		argp = &validate_argp;
	else if (!strcmp(opts.cmd, "logs"))
		argp = &logs_argp;
	else if (!strcmp(opts.cmd, "probe"))
		argp = &probe_argp;
	else if (!strcmp(opts.cmd, "signals"))
		argp = &signals_argp;
	else if (!strcmp(opts.cmd, "delete"))
		argp = &delete_argp;
	else {
		fprintf(stderr, "podprobe: unknown command '%s'\n\n%s", opts.cmd, main_doc);
		return EXIT_USAGE;
	}
	/* argp names the program after argv[0]: make it "podprobe run". */
	{
		char name[64];

		snprintf(name, sizeof(name), "podprobe %s", opts.cmd);
		argv[1] = name;
		if (argp_parse(argp, argc - 1, argv + 1, 0, NULL, NULL))
			return EXIT_USAGE;
		argv[1] = (char *)opts.cmd;
	}
	pp_log_set_level(opts.verbose ? PP_LOG_DEBUG : PP_LOG_INFO);
	if (!opts.state_dir)
		opts.state_dir = default_state_dir();

	if (!strcmp(opts.cmd, "run"))
		rc = cmd_run();
	else if (!strcmp(opts.cmd, "validate"))
		rc = cmd_validate();
	else if (!strcmp(opts.cmd, "probe"))
		rc = cmd_probe();
	else if (!strcmp(opts.cmd, "delete"))
		rc = cmd_delete();
	else if (!strcmp(opts.cmd, "signals"))
		rc = pp_signals_trace(opts.all, opts.json,
				      (unsigned int)(opts.duration / PP_NSEC_PER_MSEC));
	else
		rc = pp_logs_print(opts.state_dir, opts.ns ? opts.ns : "default", opts.pod,
				   opts.container, opts.previous) == 0
			     ? EXIT_SUCCESS
			     : EXIT_FAILURE;
	return rc;
}
