#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The API server's figures (make bench): one `podprobe run --api-addr=127.0.0.1:0`, started
# empty; 1 pod, then BENCH_API_PODS (1,000) more created through the API (POST over api.sock,
# one curl, one connection), each one container `sleep 3600.<i>` (the index makes its command
# line unique, so bench_api can find the process to kill). Side by side in the same run:
#  (d) podprobe's VmRSS empty, with 1 pod, with all pods, then with the event ring filled
#      (every pod deleted and re-created through the API BENCH_API_CHURN times: each life
#      adds Pulled/Created/Started/Killing events); per pod and per kept event. Taken first,
#      before any big list: a list's transient objects raise the heap's high-water mark,
#      which is measured at the end (one GET of the whole event ring).
#  (a) `kubectl get pods` wall time with 1 pod vs all, against `kubectl get --raw /healthz`
#      (the floor of a kubectl invocation); the server's time per list request (curl over
#      api.sock, Table as kubectl asks and plain PodList) and its size; median and p90.
#  (b) kill(2) of a container -> its first MODIFIED pod watch event read by a client
#      (bench_api), p50/p99: restartPolicy Always (the restart is in the same event), then
#      with 10 idle watchers open, then restartPolicy Never (no restart).
#  (c) podprobe's CPU (schedstat) over the same window with 0 and with 10 idle
#      `kubectl get pods -w`.
# Lines starting "bench=" are machine-readable (key=value); "#" lines are the table.
# Never asserts on speed. Root only (cgroups, kill of pods' processes); skips with the reason.
# About 2 minutes at the defaults.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
PODS=${BENCH_API_PODS:-1000}
RUNS=${BENCH_API_RUNS:-20}
TRIALS=${BENCH_API_TRIALS:-100}
CPU_SECS=${BENCH_API_CPU_SECONDS:-20}
WATCHERS=${BENCH_API_WATCHERS:-10}
CHURN=${BENCH_API_CHURN:-3}

skip() {
	echo "# bench_api: skipped: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (pods in cgroups, SIGKILL of their processes)"
command -v kubectl >/dev/null || skip "no kubectl"
command -v curl >/dev/null || skip "no curl"
command -v jq >/dev/null || skip "no jq"
[ -x "$O/podprobe" ] || skip "no $O/podprobe"
[ -x "$O/bench/bench_api" ] || skip "no $O/bench/bench_api"
podprobe=$(realpath "$O/podprobe") client=$(realpath "$O/bench/bench_api")

tmp=$(mktemp -d /tmp/podprobe-bench-api-XXXXXX) || exit 1
state=$tmp/state
sock=$state/api.sock
kc=$state/kubeconfig
pp_pid=
watcher_pids=()
declare -A R # (a)'s figures by name

# cg_name and other helpers shared with bench/scenarios.sh (functions only).
. bench/lib_bench.sh

stop_watchers() {
	local p
	for p in "${watcher_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${watcher_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	watcher_pids=()
}

cleanup() {
	trap - EXIT INT TERM
	stop_watchers
	# SIGTERM, not SIGINT: a shell without job control starts background commands with SIGINT
	# ignored. It deletes every pod (SIGTERM to each container, which `sleep` obeys at once),
	# then whatever podprobe left in its own cgroups (nothing, normally) goes with them.
	podprobe_stop "$pp_pid" "$state"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pp_pid/status"; }
# Time podprobe's threads have spent on a CPU, in ns (schedstat: the scheduler's own clock,
# finer than utime+stime's ticks).
cpu_ns() {
	local f t sum=0
	for f in /proc/"$pp_pid"/task/*/schedstat; do
		read -r t _ <"$f" && sum=$((sum + t))
	done
	echo $sum
}
# Median and p90 of the numbers on stdin, as "MEDIAN P90".
stats() { sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.9 + 0.5); if (i < 1) i = 1;
	printf "%s %s\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[i] }'; }
kube() { kubectl --kubeconfig "$kc" --cache-dir "$tmp/kcache" "$@"; }
TABLE='Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'
# Rows of a small Table list of pods (no objects in it): how many match <query>.
n_rows() {
	curl -s --unix-socket "$sock" -H "$TABLE" \
		"http://x/api/v1/namespaces/default/pods?includeObject=None&$1" |
		grep -o '"cells":' | wc -l
}
# Until every pod is Running, but the restartPolicy Never ones (the list of the others is
# empty), at most 120 s.
wait_running() {
	local i n=0
	for ((i = 0; i < 600; i++)); do
		n=$(n_rows 'fieldSelector=status.phase!=Running&labelSelector=app!=bench-never')
		[ "$n" -eq 0 ] && return 0
		kill -0 "$pp_pid" 2>/dev/null || break
		sleep 0.2
	done
	echo "# bench_api: $n pods not Running after 120 s" >&2
	return 1
}
# Until no pod labelled app=<label> is left, at most 120 s.
wait_deleted() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(n_rows "labelSelector=app=$1")" -eq 0 ] && return 0
		sleep 0.2
	done
	return 1
}
# Events podprobe recorded so far (one --events=json line each, before de-duplication).
n_records() { wc -l <"$tmp/stdout"; }

# Pod bench-<i>: one container `sleep 3600.<i>`; label app=<label>, restartPolicy <policy>.
pod_json() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bench-%04d",' "$1"
	printf '"labels":{"app":"%s"}},"spec":{"restartPolicy":"%s",' "$2" "$3"
	printf '"terminationGracePeriodSeconds":1,"containers":[{"name":"app","image":"busybox",'
	printf '"command":["sleep","3600.%04d"]}]}}\n' "$1"
}
# A curl config that POSTs pods FROM..TO (or DELETEs them) over one connection; POST pods
# are labelled <label> (default bench) with restartPolicy <policy> (default Always).
curl_config() {
	local verb=$1 from=$2 to=$3 label=${4:-bench} policy=${5:-Always} i f
	mkdir -p "$tmp/pods"
	for ((i = from; i <= to; i++)); do
		[ "$i" -gt "$from" ] && printf 'next\n'
		if [ "$verb" = POST ]; then
			f=$tmp/pods/$i.json
			[ -e "$f" ] || pod_json "$i" "$label" "$policy" >"$f"
			printf 'url = "http://x/api/v1/namespaces/default/pods"\n'
			printf 'data-binary = "@%s"\n' "$f"
			printf 'header = "Content-Type: application/json"\n'
		else
			printf 'url = "http://x/api/v1/namespaces/default/pods/bench-%04d"\n' "$i"
			printf 'request = "DELETE"\n'
		fi
		printf 'unix-socket = "%s"\nsilent\noutput = "/dev/null"\n' "$sock"
		printf 'write-out = "%%{http_code}\\n"\n'
	done
}
# Run VERB on pods FROM..TO; prints "OK SECONDS" (OK = 2xx answers).
api_batch() {
	local t0 t1 ok
	curl_config "$@" >"$tmp/curl.cfg"
	t0=$(now_ns)
	ok=$(curl --config "$tmp/curl.cfg" 2>/dev/null | grep -c '^2')
	t1=$(now_ns)
	echo "$ok $(((t1 - t0) / 1000000))"
}

# (a) for the current pod count: kubectl and curl, RUNS times each, after a warm-up.
measure_get() {
	local label=$1 npods=$2 i t0 t1 tbl_b js_b
	kube get pods >/dev/null 2>&1
	kube get --raw /healthz >/dev/null 2>&1
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ns)
		kube get pods >/dev/null 2>&1
		t1=$(now_ns)
		echo $(((t1 - t0) / 1000))
	done >"$tmp/get.$label"
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ns)
		kube get --raw /healthz >/dev/null 2>&1
		t1=$(now_ns)
		echo $(((t1 - t0) / 1000))
	done >"$tmp/floor.$label"
	# kubectl's own request: ?limit=500 (kubectl get's default --chunk-size), Table Accept.
	for ((i = 0; i < RUNS; i++)); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' --unix-socket "$sock" \
			-H "$TABLE" "http://x/api/v1/namespaces/default/pods?limit=500"
	done >"$tmp/tbl.$label"
	for ((i = 0; i < RUNS; i++)); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' --unix-socket "$sock" \
			-H 'Accept: application/json' "http://x/api/v1/namespaces/default/pods"
	done >"$tmp/js.$label"
	read -r get_med get_p90 < <(awk '{ print $1 / 1000 }' "$tmp/get.$label" | stats)
	read -r floor_med floor_p90 < <(awk '{ print $1 / 1000 }' "$tmp/floor.$label" | stats)
	read -r tbl_med tbl_p90 < <(awk '{ print $1 * 1000 }' "$tmp/tbl.$label" | stats)
	read -r js_med js_p90 < <(awk '{ print $1 * 1000 }' "$tmp/js.$label" | stats)
	tbl_b=$(awk 'END { print $2 }' "$tmp/tbl.$label")
	js_b=$(awk 'END { print $2 }' "$tmp/js.$label")
	echo "bench=api_get pods=$npods runs=$RUNS kubectl_get_ms=$get_med kubectl_get_p90_ms=$get_p90" \
		"kubectl_healthz_ms=$floor_med kubectl_healthz_p90_ms=$floor_p90" \
		"list_table_ms=$tbl_med list_table_p90_ms=$tbl_p90 list_table_bytes=$tbl_b" \
		"list_json_ms=$js_med list_json_p90_ms=$js_p90 list_json_bytes=$js_b"
	R[get_$label]=$get_med R[floor_$label]=$floor_med R[tbl_$label]=$tbl_med
	R[js_$label]=$js_med R[tblb_$label]=$tbl_b R[jsb_$label]=$js_b
}

# podprobe's CPU-seconds over CPU_SECS of wall time.
cpu_window() {
	local c0 c1
	c0=$(cpu_ns)
	sleep "$CPU_SECS"
	c1=$(cpu_ns)
	awk -v d=$((c1 - c0)) 'BEGIN { printf "%.6f\n", d / 1e9 }'
}

echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the times)"
echo "# API server, ${PODS}+1 pods (sleep), kubectl $(kubectl version --client -o json 2>/dev/null |
	jq -r .clientVersion.gitVersion), $(nproc) cores; medians of $RUNS runs unless noted"
mkdir -p "$tmp/kcache"
"$podprobe" run --api-addr=127.0.0.1:0 --state-dir="$state" --events=json --table=never --backoff-base=1s \
	>"$tmp/stdout" 2>"$tmp/stderr" &
pp_pid=$!
for ((i = 0; i < 100; i++)); do
	[ -e "$kc" ] && [ -S "$sock" ] && break
	kill -0 "$pp_pid" 2>/dev/null || break
	sleep 0.1
done
if ! [ -e "$kc" ]; then
	echo "# bench_api: podprobe did not start serving:" >&2
	tail -n 5 "$tmp/stderr" >&2
	exit 1
fi
sleep 0.5
rss_empty=$(rss_kb)

# ---- 1 pod --------------------------------------------------------------------------------
read -r ok ms < <(api_batch POST 0 0 bench0)
wait_running 1 || exit 1
sleep 0.5
rss_one=$(rss_kb)
measure_get one 1

# ---- all pods -----------------------------------------------------------------------------
read -r ok ms < <(api_batch POST 1 "$PODS")
t0=$(now_ns)
wait_running || exit 1
t1=$(now_ns)
echo "bench=api_create pods=$PODS created=$ok post_ms=$ms all_running_ms=$(((t1 - t0) / 1000000 + ms))"
sleep 1
rss_all=$(rss_kb)
rec_all=$(n_records)

# ---- (d) fill the event ring: delete and re-create every pod, CHURN times -------------------
# No big list until the RSS samples are taken: a list's transient objects raise the heap's
# high-water mark (measured at the end).
for ((c = 1; c <= CHURN; c++)); do
	read -r dok dms < <(api_batch DELETE 1 "$PODS")
	t0=$(now_ns)
	wait_deleted bench || exit 1
	t1=$(now_ns)
	rss_del=$(rss_kb)
	read -r cok cms < <(api_batch POST 1 "$PODS")
	wait_running || exit 1
	echo "bench=api_churn cycle=$c deleted=$dok delete_post_ms=$dms all_gone_ms=$(((t1 - t0) / 1000000 + dms))" \
		"rss_1pod_kb=$rss_del created=$cok post_ms=$cms rss_kb=$(rss_kb) records=$(n_records)"
done
sleep 1
rss_churn=$(rss_kb)
rec_churn=$(n_records)

# ---- (a) at all pods --------------------------------------------------------------------------
measure_get all $((PODS + 1))

# ---- (b) kill -> MODIFIED watch event -----------------------------------------------------
lat_tbl=$("$client" --sock "$sock" --first 1 --trials "$TRIALS")
echo "$lat_tbl"
lat_js=$("$client" --sock "$sock" --first $((TRIALS + 1)) --trials "$TRIALS" --json)
echo "$lat_js"
# The same without a restart in the turn: restartPolicy Never pods go Failed on the kill.
never=5001
read -r ok ms < <(api_batch POST "$never" $((never + TRIALS - 1)) bench-never Never)
wait_running || true
lat_nev=$("$client" --sock "$sock" --first "$never" --trials "$TRIALS")
echo "${lat_nev/bench=api_watch/bench=api_watch restart=Never}"
api_batch DELETE "$never" $((never + TRIALS - 1)) >/dev/null
wait_deleted bench-never || true
wait_running || true
rss_b=$(rss_kb)

# ---- (c) CPU with 0 and with WATCHERS idle watchers -----------------------------------------
n_watches() {
	curl -s --unix-socket "$sock" http://x/metrics | awk '$1 == "podprobe_api_watches" { print $2 }'
}
sleep 1
cpu0=$(cpu_window)
w0=$(n_watches)
w0=${w0:-0}
for ((i = 0; i < WATCHERS; i++)); do
	kube get pods -w >"$tmp/watch.$i" 2>&1 &
	watcher_pids+=($!)
done
# Every watcher has listed and is now watching: podprobe's own gauge when it has one, else
# each has printed the whole list (header and every row).
for ((t = 0; t < 600; t++)); do
	n=$(n_watches)
	if [ -n "$n" ]; then
		[ "$n" -ge $((w0 + WATCHERS)) ] && break
	else
		w0=0 n=0
		for ((i = 0; i < WATCHERS; i++)); do
			[ "$(wc -l <"$tmp/watch.$i")" -ge $((PODS + 2)) ] && n=$((n + 1))
		done
		[ "$n" -ge "$WATCHERS" ] && break
	fi
	sleep 0.1
done
sleep 1
cpu10=$(cpu_window)
rss_watch=$(rss_kb)
echo "bench=api_idle_cpu seconds=$CPU_SECS watchers=$w0 cpu_s=$cpu0"
echo "bench=api_idle_cpu seconds=$CPU_SECS watchers=$((n - w0)) cpu_s=$cpu10 rss_kb=$rss_watch"
# The same kill -> event latency with the watchers connected (each gets every event).
lat_fan=$("$client" --sock "$sock" --first $((2 * TRIALS + 1)) --trials $((TRIALS / 2)))
echo "${lat_fan/bench=api_watch/bench=api_watch watchers=$WATCHERS}"
stop_watchers
wait_running || true

# ---- the event ring's size, and what one list of it costs --------------------------------
rss_prelist=$(rss_kb)
ev=$(curl -s -w '%{time_total} %{size_download}' -o "$tmp/events.json" --unix-socket "$sock" \
	"http://x/api/v1/events")
ring=$(jq '.items | length' "$tmp/events.json")
rm -f "$tmp/events.json"
evt=$(curl -s -w '%{time_total} %{size_download}' -o /dev/null --unix-socket "$sock" -H "$TABLE" \
	"http://x/api/v1/namespaces/default/events?limit=500")
read -r ev_ms ev_bytes evt_ms evt_bytes < <(echo "$ev $evt" | awk '{ print $1 * 1000, $2, $3 * 1000, $4 }')
sleep 0.5
rss_postlist=$(rss_kb)
echo "bench=api_events_list events=$ring json_ms=$ev_ms json_bytes=$ev_bytes table_ms=$evt_ms" \
	"table_bytes=$evt_bytes rss_before_kb=$rss_prelist rss_after_kb=$rss_postlist"
echo "bench=api_rss empty_kb=$rss_empty one_pod_kb=$rss_one all_kb=$rss_all records_all=$rec_all" \
	"after_churn_kb=$rss_churn records_after_churn=$rec_churn ring=$ring"

# ---- the table ----------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
awk -v n="$PODS" -v g1="${R[get_one]}" -v g2="${R[get_all]}" -v f1="${R[floor_one]}" \
	-v f2="${R[floor_all]}" -v t1="${R[tbl_one]}" -v t2="${R[tbl_all]}" -v j1="${R[js_one]}" \
	-v j2="${R[js_all]}" -v tb1="${R[tblb_one]}" -v tb2="${R[tblb_all]}" -v jb1="${R[jsb_one]}" \
	-v jb2="${R[jsb_all]}" \
	-v l50="$(echo "$lat_tbl" | field p50_ms)" -v l99="$(echo "$lat_tbl" | field p99_ms)" \
	-v j50="$(echo "$lat_js" | field p50_ms)" -v j99="$(echo "$lat_js" | field p99_ms)" \
	-v w50="$(echo "$lat_fan" | field p50_ms)" -v w99="$(echo "$lat_fan" | field p99_ms)" \
	-v n50="$(echo "$lat_nev" | field p50_ms)" -v n99="$(echo "$lat_nev" | field p99_ms)" \
	-v rb="$rss_b" \
	-v c0="$cpu0" -v c10="$cpu10" -v cs="$CPU_SECS" -v nw="$WATCHERS" \
	-v r0="$rss_empty" -v r1="$rss_one" -v ra="$rss_all" -v rc="$rss_churn" -v rw="$rss_watch" \
	-v rp="$rss_postlist" -v ea="$rec_all" -v ring="$ring" -v em="$ev_ms" -v eb="$ev_bytes" \
	-v etm="$evt_ms" -v etb="$evt_bytes" 'BEGIN {
	printf "# %-48s %12s %12s %8s\n", "", "1 pod", n + 1 " pods", "ratio"
	printf "# %-48s %12.1f %12.1f %8.2f\n", "(a) kubectl get pods, ms", g1, g2, g2 / g1
	printf "# %-48s %12.1f %12.1f %8.2f\n", "    kubectl get --raw /healthz (floor), ms", f1, f2, f2 / f1
	printf "# %-48s %12.2f %12.2f %8.2f\n", "    get pods / floor", g1 / f1, g2 / f2, (g2 / f2) / (g1 / f1)
	printf "# %-48s %12.2f %12.2f %8.1f\n", "    server: list as Table (kubectl), ms", t1, t2, t2 / t1
	printf "# %-48s %12d %12d %8.1f\n", "            its bytes", tb1, tb2, tb2 / tb1
	printf "# %-48s %12.2f %12.2f %8.1f\n", "    server: list as PodList (-o json), ms", j1, j2, j2 / j1
	printf "# %-48s %12d %12d %8.1f\n", "            its bytes", jb1, jb2, jb2 / jb1
	printf "# %-48s %12s %12s\n", "(b) kill -> first MODIFIED read, ms", "p50", "p99"
	printf "# %-48s %12.2f %12.2f\n", "    Table watch (as kubectl get -w)", l50, l99
	printf "# %-48s %12.2f %12.2f\n", "    Pod JSON watch", j50, j99
	printf "# %-48s %12.2f %12.2f\n", "    Table watch, " nw " idle watchers also open", w50, w99
	printf "# %-48s %12.2f %12.2f\n", "    Table watch, restartPolicy Never (no respawn)", n50, n99
	printf "# %-48s %12s %12s %8s\n", "(c) podprobe CPU-s per " cs " s (schedstat)", "0 watchers", nw " watchers", "ratio"
	printf "# %-48s %12.6f %12.6f %8s\n", "", c0, c10, (c0 > 0 ? sprintf("%.2f", c10 / c0) : "-")
	printf "# %-48s %12s %12s %8s\n", "(d) podprobe VmRSS", "kB", "events", "kB/unit"
	printf "# %-48s %12d %12s\n", "    empty", r0, "0"
	printf "# %-48s %12d %12s %8.1f\n", "    " n + 1 " pods (unit: pod)", ra, ea, (ra - r0) / (n + 1)
	printf "# %-48s %12d %12d %8.1f\n", "    + event ring filled (unit: pod)", rc, ring, (rc - r0) / (n + 1)
	if (ring > ea)
		printf "# %-48s %12d %12d %8.2f\n", "      difference (unit: event)", rc - ra, ring - ea, (rc - ra) / (ring - ea)
	printf "# %-48s %12d\n", "    after the lists and kills of (a) and (b)", rb
	printf "# %-48s %12d %12s %8s\n", "    with " nw " kubectl get -w connected (growth)", rw, "", sprintf("+%d", rw - rb)
	printf "# %-48s %12d\n", "    after one GET /api/v1/events", rp
	printf "# %-48s %12.1f %12d\n", "    that list: ms, bytes (JSON)", em, eb
	printf "# %-48s %12.1f %12d\n", "    the same as Table (kubectl get events)", etm, etb
}'
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); ${SECONDS}s in all"
