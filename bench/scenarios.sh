#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark scenarios (bench/README.md): podprobe's probe engine and whole `podprobe run`
# side by side with its peers — HAProxy (one thread, `check inter`), a model of kubelet's
# prober (bench/kubelet-model, Go) and a bare liburing loop (bench_uring_ref) — against one
# loopback fleet (bench_fleet) in one run:
#
#   steady      N in {1000, 5000, 10000} targets at 1 s, tcp and http: probes/s (counted by the
#               fleet), prober CPU-s per 1k probes (schedstat over the window), p50/p99 probe
#               latency where the prober reports it, RSS; podprobe ÷ each peer per repetition.
#   saturation  5,000 targets at 50 ms (100k/s demand), each prober pinned to one core: the
#               rate it sustains, late share, CPU per probe.
#   detect      a fault through the fleet's control socket (tcp: listener closed; http: 500)
#               on many targets at once -> each prober's first failure line for each target,
#               stamped when read (bench_fleet stamp); podprobe as `podprobe run` with one pod
#               per target (readiness, period 1 s, failureThreshold 1), eBPF on and off.
#   pods        PODS pods (init container + main + tcp readiness at 1 s) created through the
#               API of one `podprobe run --api-addr=127.0.0.1:0`: time until all are Ready,
#               CPU and RSS while running, CPU per readiness probe, time until all are deleted.
#
# Writes bench/results/<date>-<host>.md (+ .raw, data and PNG plots in bench/results/<date>-<host>/)
# and prints the tables. A progress line on stderr per run. Knobs (environment):
#   FULL=1            complete run (≥ 200 detection trials, 5 s windows, 3 pod runs); ~15-20 min
#   BENCH_SECONDS     measured window per steady run (default 2, FULL 5)
#   BENCH_REPS        repetitions (default 3)
#   BENCH_TARGETS     steady target counts (default "1000 5000 10000")
#   BENCH_TRIALS      detection trials per prober (default 50, FULL 200)
#   BENCH_PODS        pods of the pod scenario (default 1000); BENCH_POD_RUNS (default 1, FULL 3)
#   SCENARIOS         subset, e.g. "steady detect" (default "steady saturation detect pods")
#   RESULTS           output directory (default bench/results)
#   BENCH_PROBE, PODPROBE   podprobe's binaries (default $O/bench/bench_probe, $O/podprobe), e.g.
#                     a build of another commit to compare (PODPROBE_REV names it in the report)
# Root is needed for the SYN counter (CAP_NET_RAW), the pods (cgroups) and installing peers.
# The numbers are CPU time on this machine: other load on it skews them (the load average is
# recorded at the start and end).
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
FULL=${FULL:-0}
if [ "$FULL" = 1 ]; then
	SECS=${BENCH_SECONDS:-5} TRIALS=${BENCH_TRIALS:-200} POD_RUNS=${BENCH_POD_RUNS:-3}
else
	SECS=${BENCH_SECONDS:-2} TRIALS=${BENCH_TRIALS:-50} POD_RUNS=${BENCH_POD_RUNS:-1}
fi
REPS=${BENCH_REPS:-3}
NS=${BENCH_TARGETS:-1000 5000 10000}
PODS=${BENCH_PODS:-1000}
POD_SECS=${BENCH_POD_SECONDS:-10}
SCENARIOS=${SCENARIOS:-steady saturation detect pods}
RESULTS=${RESULTS:-bench/results}
WARM=1.5 # one period of warm-up plus start-up
BENCH_PROBE=${BENCH_PROBE:-$O/bench/bench_probe}
PODPROBE=${PODPROBE:-$O/podprobe}

TMPD=$(mktemp -d /tmp/podprobe-scenarios-XXXXXX) || exit 1
. bench/lib_bench.sh

TCP_BASE=11000 HTTP_BASE=21000 FLEET_N=256
TCP_SOCK=$TMPD/fleet-tcp.sock HTTP_SOCK=$TMPD/fleet-http.sock
PIDS=() # peers and podprobe runs still to stop on exit
PP_PID='' PP_STATE=''

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		stop_pid "$p"
	done
	[ -n "$PP_PID" ] && podprobe_stop "$PP_PID" "$PP_STATE"
	for p in "${FLEET_PIDS[@]}"; do
		stop_pid "$p"
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- peers ---------------------------------------------------------------------------------
[ -x "$FLEET" ] || { echo "# scenarios: no $FLEET (make O=$O $FLEET)" >&2; exit 1; }
root=0
[ "$(id -u)" -eq 0 ] && root=1
install_pkg() { # PKG: apt-get install when root and missing (bench only, never CI)
	[ $root = 1 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1
}
command -v haproxy >/dev/null || { install_pkg haproxy && systemctl stop haproxy >/dev/null 2>&1; }
command -v go >/dev/null || install_pkg golang-go
command -v gnuplot >/dev/null || install_pkg gnuplot-nox
declare -A SKIP # prober -> why it cannot run
command -v haproxy >/dev/null || SKIP[haproxy]="haproxy not installed (apt-get install haproxy)"
KM=$TMPD/kubelet-model
if ! command -v go >/dev/null; then
	SKIP[kubelet]="no go toolchain (apt-get install golang-go)"
elif ! (cd bench/kubelet-model && GOCACHE=${GOCACHE:-${HOME:-$TMPD}/.cache/go-build} GOFLAGS=-mod=mod go build -o "$KM" . 2>"$TMPD/go.err"); then
	SKIP[kubelet]="go build failed: $(head -c 200 "$TMPD/go.err" | tr '\n' ' ')"
fi
[ -x "$O/bench/bench_uring_ref" ] || SKIP[uring]="no $O/bench/bench_uring_ref"
[ -x "$BENCH_PROBE" ] || SKIP[podprobe]="no $BENCH_PROBE"
[ $root = 1 ] || SKIP[pods]="needs root (pods in cgroups)"
for t in kubectl curl jq; do
	command -v $t >/dev/null || SKIP[pods]="no $t"
done
[ -x "$PODPROBE" ] || SKIP[pods]="no $PODPROBE"

# Spread the targets over the fleet's ports when podprobe's bench_probe can (--ports): every
# prober then probes the same N targets on FLEET_N ports; else all on the first port.
SPREAD=1 KA=0
"$BENCH_PROBE" --help 2>/dev/null | grep -q -- '--ports' && SPREAD=${BENCH_PORTS:-$FLEET_N}
"$BENCH_PROBE" --help 2>/dev/null | grep -q -- '--keepalive' && KA=1

fleet_start tcp $TCP_BASE $FLEET_N "$TCP_SOCK" || exit 1
fleet_start http $HTTP_BASE $FLEET_N "$HTTP_SOCK" || exit 1
grep -q 'syn_counter=on' "$TMPD/fleet-tcp.out" ||
	{ echo "# scenarios: the fleet has no SYN counter (needs CAP_NET_RAW): tcp probes cannot be counted" >&2; exit 1; }

stamp=$(date +%Y-%m-%d-%H%M)
host=$(hostname -s)
OUT=$RESULTS/$stamp-$host
mkdir -p "$OUT/data"
RAW=$OUT/raw.txt MD=$RESULTS/$stamp-$host.md
: >"$RAW"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
SECONDS=0

# ---- one measured run ----------------------------------------------------------------------
# run_one PROBER KIND N PERIOD_MS REP [CPU]: starts the prober on the fleet's first port, waits
# WARM, measures SECS (its CPU from schedstat, the probes from the fleet's counters), prints
# one bench=run line. CPU: pin the prober (taskset) to that core.
run_one() {
	local prober=$1 kind=$2 n=$3 pms=$4 rep=$5 cpu=${6:-} port sock out=$TMPD/run.out
	local life pid c0 c1 f0 f1 rss own pre=() dir=$TMPD/hap lat=$TMPD/lat.txt
	life=$(awk -v s="$SECS" 'BEGIN { print s + 1.5 }')
	[ "$kind" = tcp ] && port=$TCP_BASE sock=$TCP_SOCK || port=$HTTP_BASE sock=$HTTP_SOCK
	[ -n "$cpu" ] && pre=(taskset -c "$cpu")
	rm -f "$lat"
	local spread=()
	[ "$SPREAD" -gt 1 ] && spread=(-P "$SPREAD")
	case $prober in
	podprobe | podprobe-ka)
		local url=tcp://127.0.0.1:$port
		[ "$kind" = http ] && url=http://127.0.0.1:$port/healthz
		[ "$prober" = podprobe-ka ] && spread+=(--keepalive)
		"${pre[@]}" "$BENCH_PROBE" "${spread[@]}" -n "$n" -p "${pms}ms" -s "${life}s" "$url" >"$out" 2>&1 &
		;;
	haproxy)
		mkdir -p "$dir"
		haproxy_cfg "$kind" "$port" "$SPREAD" "$n" "${pms}ms" 3 "$dir"
		"${pre[@]}" haproxy -db -f "$dir/h.cfg" >"$out" 2>&1 &
		;;
	kubelet)
		"${pre[@]}" "$KM" -kind "$kind" -n "$n" -port "$port" -ports "$SPREAD" -period "${pms}ms" \
			-seconds "${life}s" -latency-out "$lat" >"$out" 2>&1 &
		;;
	uring)
		"${pre[@]}" "$O/bench/bench_uring_ref" -n "$n" --port "$port" --ports "$SPREAD" -p "${pms}ms" \
			-s "${life}s" --slack 10ms -L "$lat" >"$out" 2>&1 &
		;;
	esac
	pid=$!
	PIDS+=("$pid")
	sleep "$WARM"
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		unset 'PIDS[-1]'
		echo "bench=run prober=$prober kind=$kind targets=$n period_ms=$pms rep=$rep" \
			"failed=$(head -c 200 "$out" | tr -s ' \n' '__')"
		return
	fi
	c0=$(cpu_ns "$pid")
	f0=$(fctl "$sock" stats)
	sleep "$SECS"
	c1=$(cpu_ns "$pid")
	f1=$(fctl "$sock" stats)
	rss=$(rss_kb "$pid")
	if [ "$prober" = haproxy ]; then
		stop_pid "$pid"
	else
		wait "$pid" 2>/dev/null
	fi
	unset 'PIDS[-1]'
	own=$(grep '^bench=' "$out" | tail -n 1)
	[ -s "$lat" ] && cp "$lat" "$OUT/data/lat-$prober-$kind-$n.cdf"
	awk -v pr="$prober" -v k="$kind" -v n="$n" -v pms="$pms" -v rep="$rep" -v s="$SECS" \
		-v c="$(( c1 - c0 ))" -v rss="${rss:-0}" -v cpu="${cpu:--}" \
		-v f0="$f0" -v f1="$f1" -v own="$own" 'function get(line, key,   m) {
			if (match(line, "(^| )" key "=[^ ]*")) {
				m = substr(line, RSTART, RLENGTH); sub(/^ /, "", m); sub(/^[^=]*=/, "", m)
				return m }
			return "-" }
		BEGIN {
			key = k == "tcp" ? "syn" : "requests"
			p = get(f1, key) - get(f0, key)
			fc = get(f1, "cpu_s") - get(f0, "cpu_s")
			printf "bench=run prober=%s kind=%s targets=%d period_ms=%d rep=%d cpu=%s seconds=%s " \
				"probes=%d rate=%.0f cpu_s=%.4f cpu_s_per_1000=%.4f rss_kib=%d p50_ms=%s " \
				"p99_ms=%s late_pct=%s fleet_cpu_s_per_1000=%.4f own_cpu_s_per_1000=%s " \
				"own_failures=%s\n",
				pr, k, n, pms, rep, cpu, s, p, p / s, c / 1e9,
				get(own, "cpu_s_per_1000") != "-" ? get(own, "cpu_s_per_1000") : (p ? c / 1e6 / p : 0), rss,
				get(own, "p50_ms"), get(own, "p99_ms"), get(own, "late_pct"),
				p ? fc * 1000 / p : 0, get(own, "cpu_s_per_1000"), get(own, "failures") }'
}

probers_for() { # KIND: the probers of that kind, rotated by REP so no one always goes first
	local list=(podprobe haproxy kubelet) i
	[ "$1" = tcp ] && list+=(uring)
	[ "$1" = http ] && [ "$KA" = 1 ] && list+=(podprobe-ka)
	for ((i = 0; i < ${#list[@]}; i++)); do
		echo "${list[(i + $2) % ${#list[@]}]}"
	done
}

# ---- steady ----------------------------------------------------------------------------------
scen_steady() {
	local kind n rep p total=0 k=0
	for n in $NS; do total=$((total + (7 + KA) * REPS)); done
	for kind in tcp http; do
		for n in $NS; do
			for ((rep = 1; rep <= REPS; rep++)); do
				for p in $(probers_for $kind $rep); do
					k=$((k + 1))
					if [ -n "${SKIP[$p]:-}" ]; then
						echo "bench=run prober=$p kind=$kind targets=$n skipped=${SKIP[$p]// /_}" >>"$RAW"
						continue
					fi
					progress "steady $k/$total: $p $kind n=$n rep $rep/$REPS (${SECONDS}s so far)"
					run_one "$p" "$kind" "$n" 1000 "$rep" >>"$RAW"
				done
			done
		done
	done
}

# ---- saturation ------------------------------------------------------------------------------
scen_saturation() {
	local kind rep p k=0 cpu
	cpu=$(($(nproc) - 1))
	for kind in tcp http; do
		for ((rep = 1; rep <= REPS; rep++)); do
			for p in $(probers_for $kind $rep); do
				k=$((k + 1))
				[ -n "${SKIP[$p]:-}" ] && continue
				[ "$p" = podprobe-ka ] && continue
				progress "saturation $k: $p $kind 5000 targets at 50 ms on cpu $cpu, rep $rep/$REPS"
				run_one "$p" "$kind" 5000 50 "$rep" "$cpu" | sed 's/^bench=run/bench=sat/' >>"$RAW"
			done
		done
	done
}

# ---- detection -------------------------------------------------------------------------------
# detect_one PROBER KIND [--no-bpf]: K = TRIALS/ROUNDS targets on fleet ports BASE..BASE+K-1,
# ROUNDS faults on all of them; each target's first failure after a fault is one trial.
ROUNDS=$(( TRIALS > 100 ? 2 : 1 ))
detect_one() {
	local prober=$1 kind=$2 nobpf=${3:-} K base sock log=$TMPD/det.log pid fault r t i
	local label=$prober dir=$TMPD/det
	K=$(( (TRIALS + ROUNDS - 1) / ROUNDS ))
	[ "$K" -gt $FLEET_N ] && K=$FLEET_N
	[ "$kind" = tcp ] && base=$TCP_BASE sock=$TCP_SOCK fault=close ||
		base=$HTTP_BASE sock=$HTTP_SOCK fault=status500
	rm -rf "$dir" && mkdir -p "$dir"
	: >"$log"
	case $prober in
	haproxy)
		haproxy_cfg "$kind" "$base" "$K" "$K" 1s 1 "$dir"
		haproxy -db -f "$dir/h.cfg" > >("$FLEET" stamp >"$log") 2>&1 &
		pid=$!
		;;
	kubelet)
		"$KM" -kind "$kind" -n "$K" -port "$base" -ports "$K" -seconds 0 -events \
			> >("$FLEET" stamp >"$log") 2>&1 &
		pid=$!
		;;
	podprobe)
		[ -n "$nobpf" ] && label=podprobe-nobpf
		for ((i = 0; i < K; i++)); do
			printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: det-%d}\n' $((base + i))
			printf 'spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n'
			printf '  - name: app\n    image: busybox\n    command: ["sleep", "3600"]\n'
			printf '    readinessProbe:\n'
			if [ "$kind" = tcp ]; then
				printf '      tcpSocket: {host: 127.0.0.1, port: %d}\n' $((base + i))
			else
				printf '      httpGet: {host: 127.0.0.1, port: %d, path: /healthz}\n' $((base + i))
			fi
			printf '      periodSeconds: 1\n      failureThreshold: 1\n'
		done >"$dir/pods.yaml"
		PP_STATE=$dir/state
		"$PODPROBE" run $nobpf --api-addr=127.0.0.1:0 --events=json --table=never \
			--state-dir="$PP_STATE" "$dir/pods.yaml" > >("$FLEET" stamp >"$log") 2>"$dir/err" &
		PP_PID=$!
		pid=$PP_PID
		;;
	esac
	[ "$prober" != podprobe ] && PIDS+=("$pid")
	# Up: every target seen healthy once (podprobe: every container started), then a period.
	for ((i = 0; i < 200; i++)); do
		[ "$prober" != podprobe ] && break
		[ "$(grep -c '"reason":"Started"' "$log")" -ge "$K" ] && break
		sleep 0.1
	done
	sleep 2.5
	for ((r = 1; r <= ROUNDS; r++)); do
		progress "detect: $label $kind round $r/$ROUNDS, $K targets"
		t=$(fctl "$sock" $fault "$base-$((base + K - 1))" | field t_ns)
		echo "$t" >>"$dir/faults"
		sleep 3
		fctl "$sock" heal "$base-$((base + K - 1))" >/dev/null
		sleep 3
	done
	if [ "$prober" = podprobe ]; then
		podprobe_stop "$PP_PID" "$PP_STATE"
		PP_PID=
	else
		stop_pid "$pid"
		unset 'PIDS[-1]'
	fi
	sleep 0.2
	# Failure lines -> "STAMP PORT"; then per fault the first line of each port within 3 s.
	case $prober in
	haproxy) sed -n 's/^\([0-9]*\) .*Server fleet\/s\([0-9]*\) is DOWN.*/\1 \2/p' "$log" ;;
	kubelet) sed -n 's/^\([0-9]*\) fail port=\([0-9]*\).*/\1 \2/p' "$log" ;;
	podprobe) grep '"reason":"Unhealthy"' "$log" | sed -n 's/^\([0-9]*\) .*"pod":"det-\([0-9]*\)".*/\1 \2/p' ;;
	esac | awk -v faults="$(tr '\n' ' ' <"$dir/faults")" -v K="$K" -v lab="$label" -v k="$kind" \
		-v out="$OUT/data/det-$label-$kind.txt" 'BEGIN { nf = split(faults, F, " ") }
		{ for (i = nf; i >= 1; i--) if ($1 >= F[i]) break
		  if (i < 1 || $1 - F[i] > 3e9 || seen[i, $2]++) next
		  print ($1 - F[i]) / 1e6 > out; n++ }
		END { printf "bench=detect prober=%s kind=%s faults=%d targets=%d trials=%d missed=%d\n",
			lab, k, nf, K, n, nf * K - n }' >>"$RAW"
	[ -s "$OUT/data/det-$label-$kind.txt" ] || : >"$OUT/data/det-$label-$kind.txt"
}

scen_detect() {
	local kind p
	for kind in tcp http; do
		[ "$FULL" = 1 ] || [ "$kind" = tcp ] || continue
		for p in haproxy kubelet; do
			[ -n "${SKIP[$p]:-}" ] && continue
			detect_one $p $kind
		done
		if [ -z "${SKIP[pods]:-}" ]; then
			detect_one podprobe $kind
			detect_one podprobe $kind --no-bpf
		fi
	done
}

# ---- pods --------------------------------------------------------------------------------------
# The pod: init container `true`, main `sleep 3600.<i>`, tcp readiness at 1 s on a fleet port.
pod_json() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"scale-%04d"},' "$1"
	printf '"spec":{"terminationGracePeriodSeconds":1,'
	printf '"initContainers":[{"name":"init","image":"busybox","command":["true"]}],'
	printf '"containers":[{"name":"app","image":"busybox","command":["sleep","3600.%04d"],' "$1"
	printf '"readinessProbe":{"tcpSocket":{"host":"127.0.0.1","port":%d},' $((TCP_BASE + $1 % FLEET_N))
	printf '"periodSeconds":1}}]}}\n'
}
# curl_pods VERB: one curl, one connection, every pod POSTed (or DELETEd) over api.sock.
curl_pods() {
	local verb=$1 sock=$2 i
	for ((i = 0; i < PODS; i++)); do
		[ "$i" -gt 0 ] && printf 'next\n'
		if [ "$verb" = POST ]; then
			[ -e "$TMPD/pods/$i.json" ] || pod_json "$i" >"$TMPD/pods/$i.json"
			printf 'url = "http://x/api/v1/namespaces/default/pods"\n'
			printf 'data-binary = "@%s"\nheader = "Content-Type: application/json"\n' "$TMPD/pods/$i.json"
		else
			printf 'url = "http://x/api/v1/namespaces/default/pods/scale-%04d"\nrequest = "DELETE"\n' "$i"
		fi
		printf 'unix-socket = "%s"\nsilent\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$sock"
	done >"$TMPD/curl.cfg"
	curl --config "$TMPD/curl.cfg" 2>/dev/null | grep -c '^2'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

pods_one() {
	local rep=$1 state=$TMPD/pods-state sock kc i t0 ready=0 ready_ms del_ms c0 c1 f0 f1 rss0 rss ok n
	mkdir -p "$TMPD/pods"
	PP_STATE=$state
	"$PODPROBE" run --api-addr=127.0.0.1:0 --state-dir="$state" --events=json --table=never \
		>"$TMPD/pods.out" 2>"$TMPD/pods.err" &
	PP_PID=$!
	sock=$state/api.sock kc=$state/kubeconfig
	for ((i = 0; i < 100; i++)); do
		[ -e "$kc" ] && [ -S "$sock" ] && break
		sleep 0.1
	done
	if ! [ -S "$sock" ]; then
		echo "bench=pods rep=$rep failed=podprobe_did_not_serve:$(tail -n 1 "$TMPD/pods.err" | tr ' ' _)" >>"$RAW"
		podprobe_stop "$PP_PID" "$state"
		PP_PID=
		return
	fi
	sleep 0.5
	rss0=$(rss_kb "$PP_PID")
	progress "pods: creating $PODS pods (run $rep/$POD_RUNS)"
	t0=$(now_ms)
	ok=$(curl_pods POST "$sock")
	# At most 180 s (the loop's own time counted), then the run reports how many were Ready.
	for ((i = 0; i < 720; i++)); do
		ready=$(curl -s --unix-socket "$sock" http://x/api/v1/namespaces/default/pods |
			jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
		[ "${ready:-0}" -ge "$PODS" ] && break
		[ $(($(now_ms) - t0)) -gt 180000 ] && break
		[ $((i % 10)) = 0 ] && progress "pods: $ready/$PODS Ready after $(( $(now_ms) - t0 )) ms"
		sleep 0.25
	done
	ready_ms=$(( $(now_ms) - t0 ))
	# The same count through kubectl, once (the brief's reader).
	n=$(kubectl --kubeconfig "$kc" get pods -o json 2>/dev/null |
		jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
	progress "pods: $ready Ready (kubectl says ${n:-?}); measuring ${POD_SECS}s"
	sleep 1
	c0=$(cpu_ns "$PP_PID")
	f0=$(fctl "$TCP_SOCK" stats)
	sleep "$POD_SECS"
	c1=$(cpu_ns "$PP_PID")
	f1=$(fctl "$TCP_SOCK" stats)
	rss=$(rss_kb "$PP_PID")
	progress "pods: deleting $PODS pods"
	t0=$(now_ms)
	curl_pods DELETE "$sock" >/dev/null
	for ((i = 0; i < 1200; i++)); do
		n=$(curl -s --unix-socket "$sock" http://x/api/v1/namespaces/default/pods | jq '.items | length')
		[ "${n:-1}" -eq 0 ] && break
		sleep 0.25
	done
	del_ms=$(( $(now_ms) - t0 ))
	podprobe_stop "$PP_PID" "$state"
	PP_PID=
	rm -rf "$state"
	awk -v rep="$rep" -v pods="$PODS" -v ok="$ok" -v ready="$ready" -v kready="${n:-}" \
		-v rms="$ready_ms" -v dms="$del_ms" -v c="$((c1 - c0))" -v s="$POD_SECS" \
		-v s0="$(echo "$f0" | field syn)" -v s1="$(echo "$f1" | field syn)" \
		-v rss0="$rss0" -v rss="$rss" 'BEGIN {
		p = s1 - s0
		printf "bench=pods rep=%d pods=%d created=%d ready=%d all_ready_ms=%d seconds=%d " \
			"cpu_s=%.4f probes=%d rate=%.0f cpu_s_per_1000=%.4f rss_empty_kib=%d rss_kib=%d " \
			"rss_per_pod_kib=%.1f all_deleted_ms=%d\n", rep, pods, ok, ready, rms, s,
			c / 1e9, p, p / s, p ? c / 1e6 / p : 0, rss0, rss, (rss - rss0) / pods, dms }' >>"$RAW"
}

scen_pods() {
	local rep
	if [ -n "${SKIP[pods]:-}" ]; then
		echo "bench=pods skipped=${SKIP[pods]// /_}" >>"$RAW"
		return
	fi
	for ((rep = 1; rep <= POD_RUNS; rep++)); do
		pods_one "$rep"
	done
}

for s in $SCENARIOS; do
	case $s in
	steady | saturation | detect | pods) "scen_$s" ;;
	*) echo "# scenarios: unknown scenario '$s'" >&2 ;;
	esac
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----------------------------------------------------------------------------------
. bench/lib_report.sh
report_md "$RAW" "$OUT" "$load0" "$load1" "$SECONDS" >"$MD"
for p in "${!SKIP[@]}"; do
	echo "- skipped $p: ${SKIP[$p]}" >>"$MD"
done
if command -v gnuplot >/dev/null; then
	bench/plot.sh "$OUT" >>"$MD" 2>"$TMPD/plot.err" ||
		echo "- plots failed: $(head -c 300 "$TMPD/plot.err")" >>"$MD"
else
	echo "- plots skipped: no gnuplot (apt-get install gnuplot-nox)" >>"$MD"
fi
cat "$MD"
echo "# written: $MD (raw lines: $RAW)"
