// SPDX-License-Identifier: Apache-2.0
/*
 * podprobe's command line: parses options (argp, one parser per command), wires the modules
 * and maps results to exit statuses. No lifecycle logic lives here.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "podprobe/api_client.h"
#include "podprobe/backoff.h"
#include "podprobe/clock.h"
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
#include "podprobe/watch.h"

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
	const char *resource; /* get, describe: "pods" */
	const char *output;   /* get -o: NULL (table), wide, name, json */
	const char *selector; /* get -l */
	bool all_ns;	      /* get -A */
	bool previous;
	bool follow;	 /* logs -f */
	long tail;	 /* logs --tail, -1 = all */
	long long grace; /* delete --grace-period, -1 = the pod's */
	bool no_wait;	 /* delete --wait=false */
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
	/* watch */
	const char *pods_file;
	const char *kubeconfig;
	const char *node;
	const char *cgroup_root;
	const char *probe_proxy_addr;
	const char *metrics_addr;
	bool act_restart;
};

static struct pp_opts opts = {
	.events = PP_EVENTS_TEXT,
	.table = PP_TABLE_AUTO,
	.kill_gap = PP_MIN_KILL_GAP,
	.probe_timeout = PP_NSEC_PER_SEC,
	.api_addr = "127.0.0.1:10443",
	.tail = -1,
	.grace = -1,
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
	OPT_TAIL,
	OPT_GRACE,
	OPT_NOW,
	OPT_WAIT,
	OPT_PODS,
	OPT_KUBECONFIG,
	OPT_NODE,
	OPT_CGROUP_ROOT,
	OPT_PROBE_PROXY,
	OPT_METRICS_ADDR,
	OPT_ACT,
};

static const char main_doc[] =
	"podprobe -- run Kubernetes Pod manifests as local processes with kubelet's lifecycle\n"
	"\n"
	"USAGE: podprobe COMMAND [OPTION...] [ARG...]\n"
	"\n"
	"Commands:\n"
	"  run PATH...       run the pods in PATH (files or directories) until they finish\n"
	"  validate PATH...  check manifests as the API server would; exit 0 valid, 2 not\n"
	"  get pods [POD]    list the pods of a running `podprobe run` as `kubectl get pods`\n"
	"  describe pod POD  show a pod and its events as `kubectl describe pod`\n"
	"  logs POD          print a container's log (-c CONTAINER, -p previous, -f follow)\n"
	"  delete POD...     delete pods of a running `podprobe run` (graceful, as kubectl)\n"
	"  probe TARGET      run one probe (tcp://, http://, https://, grpc://, exec -- CMD)\n"
	"  signals           live trace of the kernel events podprobe uses (root, eBPF)\n"
	"  watch             beside kubelet: probe this node's pods, patch readiness gates\n"
	"  help              this text; `podprobe COMMAND --help` describes each command\n"
	"  version           print the version\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe run examples/              # run the bundled db and web pods\n"
	"  podprobe run --events=json pod.yaml # one JSON event per line\n"
	"  podprobe validate pod.yaml\n"
	"  podprobe get pods -o wide\n"
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
	{"container", 'c', "NAME", 0,
	 "The container (default: the pod's kubectl.kubernetes.io/default-container, else its "
	 "first container)",
	 1},
	{"previous", 'p', NULL, 0, "The previous instance's log", 1},
	{"follow", 'f', NULL, 0, "Go on printing what the container writes until it ends", 1},
	{"tail", OPT_TAIL, "N", 0, "Only the last N lines (a live run only)", 1},
	{0},
};

static const struct argp_option get_options[] = {
	{"namespace", 'n', "NS", 0, "The namespace (default \"default\")", 1},
	{"all-namespaces", 'A', NULL, 0, "Pods of every namespace (a NAMESPACE column first)", 1},
	{"output", 'o', "FORMAT", 0,
	 "wide (IP, NODE, NOMINATED NODE, READINESS GATES too), name (pod/NAME) or json", 1},
	{"selector", 'l', "SELECTOR", 0, "Only pods whose labels match (k=v, k!=v, k in (a,b), k)",
	 1},
	{0},
};

static const struct argp_option describe_options[] = {
	{"namespace", 'n', "NS", 0, "The pod's namespace (default \"default\")", 1},
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

static const struct argp_option watch_options[] = {
	{"pods", OPT_PODS, "FILE", 0,
	 "Watch the pods of FILE (a PodList: `kubectl get pods -o json`), re-read when it "
	 "changes, instead of asking the API server",
	 1},
	{"kubeconfig", OPT_KUBECONFIG, "FILE", 0,
	 "Reach the API server as FILE says (default: in-cluster service account)", 1},
	{"node", OPT_NODE, "NAME", 0,
	 "Watch the pods with spec.nodeName=NAME (default: $NODE_NAME, else the host name)", 1},
	{"cgroup-root", OPT_CGROUP_ROOT, "DIR", 0,
	 "Find the containers' cgroups below DIR (default /sys/fs/cgroup)", 1},
	{"probe-proxy-addr", OPT_PROBE_PROXY, "ADDR:PORT", 0,
	 "Answer GET /probe/NAMESPACE/POD/CONTAINER/{startup,liveness,readiness} here (plain "
	 "HTTP; 200 when the latest verdict is success, else 503)",
	 2},
	{"metrics-addr", OPT_METRICS_ADDR, "ADDR:PORT", 0,
	 "Serve Prometheus metrics on GET /metrics here (plain HTTP)", 2},
	{"act", OPT_ACT, "WHAT", 0,
	 "restart: a liveness failure or a wedged listener kills the container's cgroup so its "
	 "runtime restarts it (per pod: annotation probe.podprobe.io/act: restart); none "
	 "(default)",
	 2},
	{"events", OPT_EVENTS, "FORMAT", 0,
	 "Output: text (default), json (one object per line) or none", 2},
	{"no-bpf", OPT_NO_BPF, NULL, 0, "No eBPF kernel signals: probes only", 2},
	{"duration", OPT_DURATION, "DURATION", 0, "Stop after DURATION (default: at SIGTERM)", 2},
	{0},
};

static const struct argp_option delete_options[] = {
	{"namespace", 'n', "NS", 0, "The pods' namespace (default \"default\")", 1},
	{"grace-period", OPT_GRACE, "SECONDS", 0,
	 "Seconds the pods get to stop (default: their terminationGracePeriodSeconds)", 1},
	{"now", OPT_NOW, NULL, 0, "Same as --grace-period=1", 1},
	{"wait", OPT_WAIT, "BOOL", OPTION_ARG_OPTIONAL,
	 "Return only once the pods are gone (default true; --wait=false returns at once)", 1},
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
	case 'f':
		opts.follow = true;
		break;
	case OPT_TAIL: {
		char *end;

		errno = 0;
		opts.tail = strtol(arg, &end, 10);
		if (errno || *end || end == arg || opts.tail < -1)
			argp_error(state, "invalid --tail '%s': want a number of lines", arg);
		break;
	}
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

static bool is_pods(const char *res)
{
	return !strcmp(res, "pods") || !strcmp(res, "pod") || !strcmp(res, "po");
}

/* get and describe: RESOURCE [NAME...]; names into opts.args. */
static error_t parse_get(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'n':
		opts.ns = arg;
		break;
	case 'A':
		opts.all_ns = true;
		break;
	case 'o':
		if (strcmp(arg, "wide") && strcmp(arg, "name") && strcmp(arg, "json"))
			argp_error(state, "invalid --output '%s': want wide, name or json", arg);
		opts.output = arg;
		break;
	case 'l':
		opts.selector = arg;
		break;
	case ARGP_KEY_ARG:
		if (!opts.resource) {
			if (!is_pods(arg))
				argp_error(state, "unknown resource type '%s': podprobe knows pods",
					   arg);
			opts.resource = arg;
			break;
		}
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

static error_t parse_watch(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_PODS:
		opts.pods_file = arg;
		break;
	case OPT_KUBECONFIG:
		opts.kubeconfig = arg;
		break;
	case OPT_NODE:
		opts.node = arg;
		break;
	case OPT_CGROUP_ROOT:
		opts.cgroup_root = arg;
		break;
	case OPT_PROBE_PROXY:
		opts.probe_proxy_addr = arg;
		break;
	case OPT_METRICS_ADDR:
		opts.metrics_addr = arg;
		break;
	case OPT_ACT:
		if (!strcmp(arg, "restart"))
			opts.act_restart = true;
		else if (!strcmp(arg, "none"))
			opts.act_restart = false;
		else
			argp_error(state, "invalid --act '%s': want restart or none", arg);
		break;
	case OPT_EVENTS:
	case OPT_NO_BPF:
		return parse_run(key, arg, state);
	case OPT_DURATION:
		return parse_duration_arg(arg, "--duration", &opts.duration, state);
	case ARGP_KEY_ARG:
		argp_error(state, "no arguments expected");
		break;
	case ARGP_KEY_END:
		if (opts.pods_file && opts.kubeconfig)
			argp_error(state, "--pods and --kubeconfig exclude each other");
		break;
	default:
		return parse_common(key, arg, state);
	}
	return 0;
}

static error_t parse_delete(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case 'n':
		opts.ns = arg;
		break;
	case OPT_GRACE:
		errno = 0;
		opts.grace = strtoll(arg, &end, 10);
		/* kubectl: -1 means the pod's own period */
		if (errno || *end || end == arg || opts.grace < -1 || opts.grace > 1000000000)
			argp_error(state, "invalid --grace-period '%s': want seconds", arg);
		break;
	case OPT_NOW:
		opts.grace = 1;
		break;
	case OPT_WAIT:
		if (!arg || !strcmp(arg, "true"))
			opts.no_wait = false;
		else if (!strcmp(arg, "false"))
			opts.no_wait = true;
		else
			argp_error(state, "invalid --wait '%s': want true or false", arg);
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
	"Print the log of a container of POD, as `kubectl logs`: asked of the `podprobe run` that "
	"uses the state directory (through STATE-DIR/api.sock), or, when no run uses it, read "
	"from the log files a finished run left there (without --tail; -f then prints what there "
	"is).\v"
	"Exit status: 0 printed, 1 no such pod, container or log.\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe logs db\n"
	"  podprobe logs web -c init-data\n"
	"  podprobe logs web -c web --previous\n"
	"  podprobe logs -f --tail 20 web",
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
	"Delete pods of the `podprobe run` that uses the same state directory (through "
	"STATE-DIR/api.sock), as `kubectl delete pod`: each gets the kubelet's graceful "
	"termination (Killing, preStop, SIGTERM, SIGKILL after the grace period), and the command "
	"returns once they are gone (unless --wait=false); the other pods go on.\v"
	"Exit status: 0 every pod deleted, 1 otherwise (no such pod, no running podprobe run).\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe delete web\n"
	"  podprobe delete --grace-period 5 --wait=false -n staging db cache",
	common_child,
	NULL,
	NULL,
};

static const struct argp get_argp = {
	get_options,
	parse_get,
	"pods [POD]",
	"List the pods of the `podprobe run` that uses the state directory (through "
	"STATE-DIR/api.sock) with the columns `kubectl get pods` prints: NAME, READY, STATUS, "
	"RESTARTS, AGE (and IP, NODE, NOMINATED NODE, READINESS GATES with -o wide), as the run "
	"computes them.\v"
	"Exit status: 0 listed (an empty list too), 1 no such pod or no running podprobe run.\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe get pods\n"
	"  podprobe get pods -A -o wide\n"
	"  podprobe get pods -l app=web -o name\n"
	"  podprobe get pod web -o json",
	common_child,
	NULL,
	NULL,
};

static const struct argp describe_argp = {
	describe_options,
	parse_get,
	"pod POD...",
	"Show pods of the `podprobe run` that uses the state directory as `kubectl describe pod` "
	"does (reduced): metadata, node, status, IP, each container's state, last state, "
	"readiness and restarts, the conditions, and the pod's events.\v"
	"Exit status: 0 shown, 1 no such pod or no running podprobe run.\n"
	"\n"
	"EXAMPLE:\n"
	"  podprobe describe pod web",
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

static const struct argp watch_argp = {
	watch_options,
	parse_watch,
	"",
	"Beside kubelet: probe the pods of this node that another runtime runs (their own "
	"startup, liveness and readiness probes, against status.podIP), watch their containers' "
	"cgroups with eBPF (a main process exiting, a listener closing), and make the verdicts "
	"count within milliseconds: the condition podprobe.io/ready of pods that list it in "
	"readinessGates, Events, kubelet's prober metrics, a probe proxy, and with --act=restart "
	"killing a failed container's cgroup. Pods come from the API server (list and watch of "
	"spec.nodeName=NODE; in-cluster or --kubeconfig) or from a PodList file (--pods).\v"
	"Exit status: 0 stopped by SIGINT/SIGTERM or --duration, 1 fatal error, 2 usage.\n"
	"\n"
	"EXAMPLES:\n"
	"  podprobe watch                                  # in a DaemonSet (deploy/)\n"
	"  podprobe watch --kubeconfig ~/.kube/config --node worker-1\n"
	"  kubectl get pods -o json > pods.json; podprobe watch --pods pods.json \\\n"
	"      --probe-proxy-addr 127.0.0.1:10280",
	common_child,
	NULL,
	NULL,
};

/* --node's default: NODE_NAME (the downward API's spec.nodeName), else the host name. */
static const char *default_node(void)
{
	static char host[256];
	const char *env = getenv("NODE_NAME");

	if (env && *env)
		return env;
	if (gethostname(host, sizeof(host) - 1) < 0)
		return "localhost";
	return host;
}

static int cmd_watch(void)
{
	struct pp_watch_cfg cfg = {
		.pods_file = opts.pods_file,
		.kubeconfig = opts.kubeconfig,
		.node = opts.node ? opts.node : default_node(),
		.cgroup_root = opts.cgroup_root ? opts.cgroup_root : "/sys/fs/cgroup",
		.probe_proxy_addr = opts.probe_proxy_addr,
		.metrics_addr = opts.metrics_addr,
		.act_restart = opts.act_restart,
		.use_bpf = !opts.no_bpf,
		.events = opts.events,
		.duration = opts.duration,
	};

	return pp_watch_run(&cfg);
}

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
	int errors = 0, rc = 0;
	size_t *first;

	for (size_t i = 0; i < opts.n_args; i++) {
		rc = pp_manifest_load_path(opts.args[i], pods, diags);
		if (rc < 0)
			return rc;
		errors += rc;
	}
	/* As kubectl: a document that did not decode is not validated too (no double reports). */
	if (errors)
		return errors;
	first = calloc(pods->n ? pods->n : 1, sizeof(*first));
	if (!first || pp_pod_list_duplicates(pods, first) < 0) {
		free(first);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pods->n; i++) {
		const struct pp_pod *p = pods->items[i], *q;

		rc = pp_pod_validate(p, diags);
		if (rc < 0)
			break;
		errors += rc;
		if (first[i] == SIZE_MAX)
			continue;
		q = pods->items[first[i]];
		pp_diag_add(diags, PP_DIAG_ERROR, p->file, pp_pod_field_pos(p, "metadata.name"),
			    "metadata.name", "Duplicate value: pod \"%s/%s\" is also defined in %s",
			    p->namespace, p->name, q->file);
		errors++;
	}
	free(first);
	if (rc < 0)
		return rc;
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

/* ---- the commands that talk to a running `podprobe run` (STATE-DIR/api.sock) ------------ */

#define TABLE_ACCEPT "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

/* Percent-encode <s> for a path segment or query value (RFC 3986 unreserved kept). */
static const char *esc(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf[n++] = (char)c;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return buf;
}

/* A failure to reach the run: its message; EXIT_FAILURE. */
static int api_unreachable(int err)
{
	if (err == -ESRCH)
		fprintf(stderr, "podprobe: no running 'podprobe run' uses state directory '%s'\n",
			opts.state_dir);
	else if (err == -EPERM)
		fprintf(stderr,
			"podprobe: %s/api.sock is not served by the podprobe run that holds the "
			"state directory, refusing it\n",
			opts.state_dir);
	else
		pp_log_errno(PP_LOG_ERR, err, "cannot talk to the podprobe run of '%s'",
			     opts.state_dir);
	return EXIT_FAILURE;
}

/* GET <target> with <accept>; the reply parsed into <ret_doc> when 2xx. */
static int api_get(const char *target, const char *accept, struct pp_api_resp *resp,
		   json_t **ret_doc)
{
	char hdr[256];
	int err;

	snprintf(hdr, sizeof(hdr), "Accept: %s\r\n", accept);
	err = pp_api_request(opts.state_dir, "GET", target, hdr, NULL, 0, PP_API_CLIENT_TIMEOUT_MS,
			     NULL, NULL, resp);
	if (err < 0)
		return err;
	*ret_doc = NULL;
	if (resp->status >= 200 && resp->status < 300) {
		*ret_doc = json_loadb(resp->body, resp->len, 0, NULL);
		if (!*ret_doc) {
			pp_api_resp_fini(resp);
			return -EPROTO;
		}
	}
	return 0;
}

/* The "Error from server" line of a failed <resp> to <what>, on stderr. */
static void print_api_error(const struct pp_api_resp *resp, const char *what)
{
	char line[1024];

	pp_api_error_line(resp, what, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

static void print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(4) | JSON_SORT_KEYS);

	if (s)
		printf("%s\n", s);
	free(s);
}

static int cmd_get(void)
{
	const char *ns = opts.ns ? opts.ns : "default";
	const char *name = opts.n_args ? opts.args[0] : NULL;
	bool table = !opts.output || !strcmp(opts.output, "wide");
	char target[2048], e1[512], e2[512], what[600];
	struct pp_api_resp resp = {0};
	json_t *doc = NULL;
	int err, rc = EXIT_SUCCESS;

	if (opts.n_args > 1) {
		fprintf(stderr, "podprobe get: one POD at a time\n");
		return EXIT_USAGE;
	}
	if (name && opts.selector) {
		fprintf(stderr, "error: name cannot be provided when a selector is specified\n");
		return EXIT_FAILURE;
	}
	if (name && opts.all_ns) {
		fprintf(stderr,
			"error: a resource cannot be retrieved by name across all namespaces\n");
		return EXIT_FAILURE;
	}
	if (opts.all_ns)
		snprintf(target, sizeof(target), "/api/v1/pods");
	else if (name)
		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s",
			 esc(ns, e1, sizeof(e1)), esc(name, e2, sizeof(e2)));
	else
		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods",
			 esc(ns, e1, sizeof(e1)));
	if (opts.selector)
		snprintf(target + strlen(target), sizeof(target) - strlen(target),
			 "?labelSelector=%s", esc(opts.selector, e1, sizeof(e1)));
	err = api_get(target, table ? TABLE_ACCEPT : "application/json", &resp, &doc);
	if (err < 0)
		return api_unreachable(err);
	if (!doc) {
		snprintf(what, sizeof(what), "get pods%s%s", name ? " " : "", name ? name : "");
		print_api_error(&resp, what);
		pp_api_resp_fini(&resp);
		return EXIT_FAILURE;
	}
	if (table) {
		err = pp_api_print_table(stdout, doc, opts.output != NULL, opts.all_ns);
		if (err == 0 && opts.all_ns)
			fprintf(stderr, "No resources found\n");
		else if (err == 0)
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err,
				     err == -EINVAL ? "the run's answer is not a Table"
						    : "cannot print the table");
			rc = EXIT_FAILURE;
		}
	} else if (!strcmp(opts.output, "name")) {
		json_t *items = json_object_get(doc, "items"), *it;
		size_t i;

		if (name)
			printf("pod/%s\n", json_string_value(json_object_get(
						   json_object_get(doc, "metadata"), "name")));
		json_array_foreach(items, i, it)
		{
			printf("pod/%s\n", json_string_value(json_object_get(
						   json_object_get(it, "metadata"), "name")));
		}
		if (!name && !json_array_size(items) && opts.all_ns)
			fprintf(stderr, "No resources found\n");
		else if (!name && !json_array_size(items))
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
	} else if (name) {
		print_json(doc);
	} else {
		/* kubectl prints a list as a List of items that carry their kind. */
		json_t *items = json_object_get(doc, "items"), *it;
		json_t *list = json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items",
					 items ? items : json_array(), "kind", "List", "metadata",
					 "resourceVersion", "");
		size_t i;

		json_array_foreach(items, i, it)
		{
			if (!json_object_get(it, "kind"))
				json_object_set_new(it, "kind", json_string("Pod"));
			if (!json_object_get(it, "apiVersion"))
				json_object_set_new(it, "apiVersion", json_string("v1"));
		}
		if (list)
			print_json(list);
		json_decref(list);
	}
	json_decref(doc);
	pp_api_resp_fini(&resp);
	return rc;
}

static int cmd_describe(void)
{
	const char *ns = opts.ns ? opts.ns : "default";
	char target[2048], e1[512], e2[512], e3[256], sel[1200], what[600];
	int rc = EXIT_SUCCESS, err;

	if (!opts.n_args) {
		fprintf(stderr, "podprobe describe: which pod? podprobe describe pod POD\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < opts.n_args; i++) {
		struct pp_api_resp resp = {0}, eresp = {0};
		json_t *pod = NULL, *events = NULL;
		const char *uid;

		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s",
			 esc(ns, e1, sizeof(e1)), esc(opts.args[i], e2, sizeof(e2)));
		err = api_get(target, "application/json", &resp, &pod);
		if (err < 0)
			return api_unreachable(err);
		if (!pod) {
			snprintf(what, sizeof(what), "get pods %s", opts.args[i]);
			print_api_error(&resp, what);
			pp_api_resp_fini(&resp);
			rc = EXIT_FAILURE;
			continue;
		}
		/* As kubectl: only this pod's events, by uid (describe.go describePod). */
		uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
		snprintf(sel, sizeof(sel),
			 "involvedObject.name=%s,involvedObject.namespace=%s,involvedObject.uid=%s",
			 opts.args[i], ns, uid ? uid : "");
		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/events?fieldSelector=%s",
			 esc(ns, e1, sizeof(e1)), esc(sel, e2, sizeof(e2)));
		err = api_get(target, "application/json", &eresp, &events);
		if (err < 0) {
			json_decref(pod);
			pp_api_resp_fini(&resp);
			return api_unreachable(err);
		}
		if (i)
			fputs("\n\n", stdout);
		err = pp_api_print_describe(stdout, pod, events, (int64_t)pp_clock_wall());
		if (err < 0)
			rc = EXIT_FAILURE;
		(void)e3;
		json_decref(pod);
		json_decref(events);
		pp_api_resp_fini(&resp);
		pp_api_resp_fini(&eresp);
	}
	return rc;
}

/* A watch until pod <uid> is DELETED: the stream's lines, parsed as they come. */
struct del_watch {
	const char *uid;
	char *line;
	size_t len, cap;
	bool deleted;
};

static int del_sink(void *ctx, const char *data, size_t len)
{
	struct del_watch *w = ctx;

	for (size_t i = 0; i < len; i++) {
		json_t *ev, *md;
		const char *type, *uid;

		if (data[i] != '\n') {
			if (w->len + 1 >= w->cap) {
				size_t cap = w->cap ? w->cap * 2 : 4096;
				char *l = cap <= (16u << 20) ? realloc(w->line, cap) : NULL;

				if (!l)
					return -ENOMEM;
				w->line = l;
				w->cap = cap;
			}
			w->line[w->len++] = data[i];
			continue;
		}
		ev = json_loadb(w->line, w->len, 0, NULL);
		w->len = 0;
		type = json_string_value(json_object_get(ev, "type"));
		md = json_object_get(json_object_get(ev, "object"), "metadata");
		uid = json_string_value(json_object_get(md, "uid"));
		if (type && !strcmp(type, "DELETED") && (!w->uid || !uid || !strcmp(uid, w->uid)))
			w->deleted = true;
		json_decref(ev);
		if (w->deleted)
			return 1;
	}
	return 0;
}

/*
 * Wait until pod <ns>/<name> of uid <uid> is gone, as kubectl delete does: a watch from
 * <rv> (the DELETE's answer) for its DELETED event; a stream that ends re-checks with a GET
 * (404, another uid, or no run any more: gone). Returns 0 or -errno.
 */
static int wait_gone(const char *ns, const char *name, const char *uid, char *rv, size_t rv_size)
{
	char target[2048], e1[512], e2[512];
	int err = 0;

	for (int round = 0; round < 1000; round++) {
		struct del_watch w = {.uid = uid};
		struct pp_api_resp resp = {0};
		json_t *pod = NULL;
		const char *puid, *prv;

		snprintf(target, sizeof(target),
			 "/api/v1/namespaces/%s/pods?fieldSelector=metadata.name%%3D%s"
			 "&resourceVersion=%s&watch=true",
			 esc(ns, e1, sizeof(e1)), esc(name, e2, sizeof(e2)), rv);
		err = pp_api_request(opts.state_dir, "GET", target, "Accept: application/json\r\n",
				     NULL, 0, -1, del_sink, &w, &resp);
		free(w.line);
		pp_api_resp_fini(&resp);
		if (w.deleted || err == -ESRCH)
			return 0;
		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s",
			 esc(ns, e1, sizeof(e1)), esc(name, e2, sizeof(e2)));
		err = api_get(target, "application/json", &resp, &pod);
		if (err == -ESRCH || (!err && resp.status == 404)) {
			pp_api_resp_fini(&resp);
			return 0;
		}
		pp_api_resp_fini(&resp);
		if (err < 0)
			return err;
		if (!pod)
			return -EPROTO;
		puid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
		prv = json_string_value(
			json_object_get(json_object_get(pod, "metadata"), "resourceVersion"));
		if (!puid || (uid && strcmp(puid, uid))) {
			json_decref(pod);
			return 0; /* another pod of that name now */
		}
		snprintf(rv, rv_size, "%s", prv ? prv : "0");
		json_decref(pod);
	}
	return -ETIMEDOUT;
}

struct deleted {
	char uid[64];
	char rv[32];
};

static int cmd_delete(void)
{
	const char *ns = opts.ns ? opts.ns : "default";
	struct deleted *del = calloc(opts.n_args, sizeof(*del));
	char target[2048], e1[512], e2[512], body[128], what[600];
	int rc = EXIT_SUCCESS, err;

	if (!del)
		return EXIT_FAILURE;
	/* kubectl delete: propagationPolicy Background, and the grace period when given */
	if (opts.grace >= 0)
		snprintf(body, sizeof(body),
			 "{\"propagationPolicy\":\"Background\",\"gracePeriodSeconds\":%lld}",
			 opts.grace);
	else
		snprintf(body, sizeof(body), "{\"propagationPolicy\":\"Background\"}");
	for (size_t i = 0; i < opts.n_args; i++) {
		struct pp_api_resp resp = {0};
		json_t *pod, *md;

		snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s",
			 esc(ns, e1, sizeof(e1)), esc(opts.args[i], e2, sizeof(e2)));
		err = pp_api_request(
			opts.state_dir, "DELETE", target,
			"Accept: application/json\r\nContent-Type: application/json\r\n", body,
			strlen(body), PP_API_CLIENT_TIMEOUT_MS, NULL, NULL, &resp);
		if (err < 0) {
			free(del);
			return api_unreachable(err);
		}
		if (resp.status < 200 || resp.status >= 300) {
			snprintf(what, sizeof(what), "delete pods %s", opts.args[i]);
			print_api_error(&resp, what);
			pp_api_resp_fini(&resp);
			rc = EXIT_FAILURE;
			continue;
		}
		pod = json_loadb(resp.body, resp.len, 0, NULL);
		md = json_object_get(pod, "metadata");
		snprintf(del[i].uid, sizeof(del[i].uid), "%s",
			 json_string_value(json_object_get(md, "uid"))
				 ? json_string_value(json_object_get(md, "uid"))
				 : "");
		snprintf(del[i].rv, sizeof(del[i].rv), "%s",
			 json_string_value(json_object_get(md, "resourceVersion"))
				 ? json_string_value(json_object_get(md, "resourceVersion"))
				 : "0");
		json_decref(pod);
		pp_api_resp_fini(&resp);
		printf("pod \"%s\" deleted\n", opts.args[i]);
		fflush(stdout);
	}
	for (size_t i = 0; !opts.no_wait && i < opts.n_args; i++) {
		if (!del[i].rv[0])
			continue; /* not deleted */
		err = wait_gone(ns, opts.args[i], del[i].uid[0] ? del[i].uid : NULL, del[i].rv,
				sizeof(del[i].rv));
		if (err < 0) {
			pp_log_errno(PP_LOG_ERR, err, "waiting for pod '%s' to go", opts.args[i]);
			rc = EXIT_FAILURE;
		}
	}
	free(del);
	return rc;
}

static int log_sink(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (fwrite(data, 1, len, stdout) != len)
		return -EIO;
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* No run: the log files in the state directory. */
static int logs_from_files(const char *ns)
{
	if (opts.tail >= 0) {
		fprintf(stderr,
			"podprobe: no running 'podprobe run' uses state directory '%s' (--tail "
			"needs one)\n",
			opts.state_dir);
		return EXIT_FAILURE;
	}
	return pp_logs_print(opts.state_dir, ns, opts.pod, opts.container, opts.previous) == 0
		       ? EXIT_SUCCESS
		       : EXIT_FAILURE;
}

/*
 * kubectl's default container: the annotation kubectl.kubernetes.io/default-container, else
 * the first; with several, "Defaulted container ..." on stderr (kubectl logs.go, podcmd).
 */
static int pick_container(const char *ns, char *buf, size_t size)
{
	char target[2048], e1[512], e2[512], what[600];
	struct pp_api_resp resp = {0};
	json_t *pod = NULL, *spec, *cs, *ics;
	const char *def;
	size_t n;
	int err;

	snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s", esc(ns, e1, sizeof(e1)),
		 esc(opts.pod, e2, sizeof(e2)));
	err = api_get(target, "application/json", &resp, &pod);
	if (err < 0)
		return err;
	if (!pod) {
		snprintf(what, sizeof(what), "get pods %s", opts.pod);
		print_api_error(&resp, what);
		pp_api_resp_fini(&resp);
		return -ENOENT;
	}
	pp_api_resp_fini(&resp);
	spec = json_object_get(pod, "spec");
	cs = json_object_get(spec, "containers");
	ics = json_object_get(spec, "initContainers");
	def = json_string_value(
		json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"),
				"kubectl.kubernetes.io/default-container"));
	if (!def)
		def = json_string_value(json_object_get(json_array_get(cs, 0), "name"));
	snprintf(buf, size, "%s", def ? def : "");
	n = json_array_size(cs) + json_array_size(ics);
	if (n > 1 && !json_string_value(json_object_get(
			     json_object_get(json_object_get(pod, "metadata"), "annotations"),
			     "kubectl.kubernetes.io/default-container"))) {
		fprintf(stderr, "Defaulted container \"%s\" out of: ", buf);
		for (size_t i = 0; i < json_array_size(cs); i++)
			fprintf(stderr, "%s%s", i ? ", " : "",
				json_string_value(json_object_get(json_array_get(cs, i), "name")));
		for (size_t i = 0; i < json_array_size(ics); i++)
			fprintf(stderr, ", %s (init)",
				json_string_value(json_object_get(json_array_get(ics, i), "name")));
		fputc('\n', stderr);
	}
	json_decref(pod);
	return 0;
}

static int cmd_logs(void)
{
	const char *ns = opts.ns ? opts.ns : "default";
	char cname[256], target[2048], e1[512], e2[512], e3[512], what[600];
	struct pp_api_resp resp = {0};
	int err;

	if (opts.container) {
		snprintf(cname, sizeof(cname), "%s", opts.container);
	} else {
		err = pick_container(ns, cname, sizeof(cname));
		if (err == -ESRCH)
			return logs_from_files(ns);
		if (err == -ENOENT)
			return EXIT_FAILURE;
		if (err < 0)
			return api_unreachable(err);
	}
	snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s/log?container=%s%s%s",
		 esc(ns, e1, sizeof(e1)), esc(opts.pod, e2, sizeof(e2)), esc(cname, e3, sizeof(e3)),
		 opts.previous ? "&previous=true" : "", opts.follow ? "&follow=true" : "");
	if (opts.tail >= 0)
		snprintf(target + strlen(target), sizeof(target) - strlen(target), "&tailLines=%ld",
			 opts.tail);
	err = pp_api_request(opts.state_dir, "GET", target, "Accept: application/json, */*\r\n",
			     NULL, 0, opts.follow ? -1 : PP_API_CLIENT_TIMEOUT_MS, log_sink, NULL,
			     &resp);
	if (err == -ESRCH && opts.container)
		return logs_from_files(ns);
	if (err < 0)
		return api_unreachable(err);
	if (resp.status < 200 || resp.status >= 300) {
		snprintf(what, sizeof(what), "get pods %s", opts.pod);
		print_api_error(&resp, what);
		pp_api_resp_fini(&resp);
		return EXIT_FAILURE;
	}
	pp_api_resp_fini(&resp);
	return EXIT_SUCCESS;
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
	else if (!strcmp(opts.cmd, "get"))
		argp = &get_argp;
	else if (!strcmp(opts.cmd, "describe"))
		argp = &describe_argp;
	else if (!strcmp(opts.cmd, "watch"))
		argp = &watch_argp;
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
	else if (!strcmp(opts.cmd, "get"))
		rc = cmd_get();
	else if (!strcmp(opts.cmd, "describe"))
		rc = cmd_describe();
	else if (!strcmp(opts.cmd, "watch"))
		rc = cmd_watch();
	else if (!strcmp(opts.cmd, "signals"))
		rc = pp_signals_trace(opts.all, opts.json,
				      (unsigned int)(opts.duration / PP_NSEC_PER_MSEC));
	else
		rc = cmd_logs();
	return rc;
}
