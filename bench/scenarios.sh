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
#               podprobe twice: its engine (bench_probe; tcp also with --no-raw-syn) and a whole
#               `podprobe run` with N pods whose readiness probes the same targets (tcp with raw
#               SYN and with PODPROBE_NO_RAW_SYN=1), N up to BENCH_RUN_MAX. Once a pod per
#               fleet port has started, the fleet closes and reopens its listeners: podprobe
#               then knows them, as it knows the listeners of the pods it starts, and handles
#               the kernel's accept samples of them.
#   saturation  5,000 targets at 50 ms (100k/s demand), each prober pinned to one core: the
#               rate it sustains, late share, CPU per probe; tcp podprobe with raw SYN and with
#               connect().
#   detect      a fault through the fleet's control socket (tcp: listener closed; http: 500)
#               on many targets at once -> each prober's first failure line for each target,
#               stamped when read (bench_fleet stamp); podprobe as `podprobe run` with one pod
#               per target (readiness, period 1 s, failureThreshold 1), eBPF on and off;
#               the fleet's SYN counter off meanwhile (bench_fleet.c: syncount).
#   pods        PODS pods (init container + main + tcp readiness at 1 s) in one `podprobe run
#               --api-addr=127.0.0.1:0`, POSTed one by one through its API or given as one
#               manifest file: time until all are Ready (read through the API), CPU and RSS
#               while running, CPU per readiness probe, time until all are deleted.
#   exec        N pods with an exec readiness probe (`true`) at 1 s (100/s and 1,000/s): CPU per
#               1k exec probes, podprobe's threads plus the exec'd processes (its cgroup tree).
#
# Writes bench/results/<date>-<host>.md (+ .raw, data and PNG plots in bench/results/<date>-<host>/)
# and prints the tables. A progress line on stderr per run. Knobs (environment):
#   FULL=1            complete run (≥ 200 detection trials, 5 s windows, 3 pod runs, 10,000
#                     pods, `podprobe run` up to 10,000 targets); ~1.5-2 h (default ~30 min)
#   BENCH_SECONDS     measured window per steady run (default 2, FULL 5)
#   BENCH_REPS        repetitions (default 3)
#   BENCH_TARGETS     steady target counts (default "1000 5000 10000")
#   BENCH_RUN_MAX     largest steady N with `podprobe run` rows (default 5000, FULL 10000; 0: none)
#   BENCH_TRIALS      detection trials per prober (default 100, FULL 250: 2 rounds of 125)
#   BENCH_PODS        pod counts of the pod scenario (default "1000", FULL "1000 10000");
#                     BENCH_POD_RUNS (default 3: medians, as the steady rows); BENCH_POD_MODES (default "api manifest")
#   BENCH_EXEC        exec scenario pod counts at 1 s (default "100 1000"); BENCH_EXEC_SECONDS
#                     (default 5, FULL 10)
#   SCENARIOS         subset, e.g. "steady detect" (default "steady saturation detect pods exec")
#   BENCH_KINDS       steady and saturation kinds (default "tcp http")
#   BENCH_PROBERS     only these probers in steady and saturation, e.g. "haproxy podprobe-run"
#                     (podprobe haproxy kubelet uring podprobe-connect podprobe-ka podprobe-run
#                     podprobe-run-connect podprobe-run-ka; saturation's podprobe-syn is
#                     podprobe)
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
	SECS=${BENCH_SECONDS:-5} TRIALS=${BENCH_TRIALS:-250} POD_RUNS=${BENCH_POD_RUNS:-3}
	RUN_MAX=${BENCH_RUN_MAX:-10000} PODS_LIST=${BENCH_PODS:-1000 10000}
	EXEC_SECS=${BENCH_EXEC_SECONDS:-10}
else
	SECS=${BENCH_SECONDS:-2} TRIALS=${BENCH_TRIALS:-100} POD_RUNS=${BENCH_POD_RUNS:-3}
	RUN_MAX=${BENCH_RUN_MAX:-5000} PODS_LIST=${BENCH_PODS:-1000}
	EXEC_SECS=${BENCH_EXEC_SECONDS:-5}
fi
REPS=${BENCH_REPS:-3}
NS=${BENCH_TARGETS:-1000 5000 10000}
POD_SECS=${BENCH_POD_SECONDS:-10}
POD_MODES=${BENCH_POD_MODES:-api manifest}
EXEC_NS=${BENCH_EXEC:-100 1000}
SCENARIOS=${SCENARIOS:-steady saturation detect pods exec}
read -r -a PROBERS <<<"${BENCH_PROBERS:-}"
KINDS=${BENCH_KINDS:-tcp http}
RESULTS=${RESULTS:-bench/results}
WARM=1.5 # one period of warm-up plus start-up
BENCH_PROBE=${BENCH_PROBE:-$O/bench/bench_probe}
PODPROBE=${PODPROBE:-$O/podprobe}

# State dirs on a tmpfs where there is one, as podprobe's default /run/podprobe is on most
# systems: a journal-less ext4 (this VM's root) scans its recently deleted inodes on every
# allocation (fs/ext4/ialloc.c recently_deleted), so after a run's thousands of files are
# removed the next run's pods would measure the file system, not podprobe.
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	TMPD=$(mktemp -d /dev/shm/podprobe-scenarios-XXXXXX) || exit 1
else
	TMPD=$(mktemp -d /tmp/podprobe-scenarios-XXXXXX) || exit 1
fi
. bench/lib_bench.sh

# BENCH_TCP_BASE, BENCH_HTTP_BASE: the fleets' first ports (another run on the machine uses them).
TCP_BASE=${BENCH_TCP_BASE:-11000} HTTP_BASE=${BENCH_HTTP_BASE:-21000} FLEET_N=256
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

# A `podprobe run` holds one fd per pod (its pidfd: measured, `fds=` in the raw lines) plus
# its raw SYN pool (up to 4,096 bound sockets), its tcp pool (256) and ~50 of its own: 10,000
# pods need ~14,600, below this machine's 20,000 RLIMIT_NOFILE hard limit. As root, try to raise the hard limit for what this script
# starts (a unit file's LimitNOFILE does that for a node agent). Where it cannot be raised,
# FULL's 10,000-pod runs become 5,000 (explicit BENCH_RUN_MAX / BENCH_PODS are kept); the
# results say which.
NOFILE_NOTE=
pods_fds() { echo $(($1 + 4608)); }
maxpods=0
for n in $PODS_LIST $EXEC_NS; do
	[ "$n" -gt "$maxpods" ] && maxpods=$n
done
for n in $NS; do
	[ "$n" -le "$RUN_MAX" ] && [ "$n" -gt "$maxpods" ] && maxpods=$n
done
need=$(pods_fds "$maxpods") hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
	if [ $root = 1 ] && ulimit -Hn "$need" 2>/dev/null; then
		NOFILE_NOTE="RLIMIT_NOFILE hard limit raised from $hard to $need for $maxpods pods in one \`podprobe run\`"
	elif [ "$FULL" = 1 ] && [ -z "${BENCH_RUN_MAX:-}${BENCH_PODS:-}" ]; then
		RUN_MAX=5000 PODS_LIST="1000 5000"
		NOFILE_NOTE="RLIMIT_NOFILE hard limit $hard (cannot be raised here): 10,000 pods in one \`podprobe run\` need ~$need fds (one per pod + the raw SYN and tcp pools), so \`podprobe run\` stops at 5,000 targets and pods at 5,000"
	else
		NOFILE_NOTE="RLIMIT_NOFILE hard limit $hard: $maxpods pods in one \`podprobe run\` need ~$need fds and may not all start"
	fi
fi

# Spread the targets over the fleet's ports when podprobe's bench_probe can (--ports): every
# prober then probes the same N targets on FLEET_N ports; else all on the first port.
SPREAD=1 KA=0
"$BENCH_PROBE" --help 2>/dev/null | grep -q -- '--ports' && SPREAD=${BENCH_PORTS:-$FLEET_N}
"$BENCH_PROBE" --help 2>/dev/null | grep -q -- '--keepalive' && KA=1
# bench_probe sends tcp probes as raw SYNs where it has CAP_NET_RAW; --no-raw-syn is connect().
NR=0
"$BENCH_PROBE" --help 2>/dev/null | grep -q -- '--no-raw-syn' && NR=1

fleet_start tcp "$TCP_BASE" $FLEET_N "$TCP_SOCK" || exit 1
fleet_start http "$HTTP_BASE" $FLEET_N "$HTTP_SOCK" || exit 1
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

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The SKIP key of a prober: bench_probe's variants are podprobe's, `podprobe run` rows need
# what the pods need.
skip_of() {
	case $1 in
	podprobe-run*) echo "${SKIP[pods]:-}" ;;
	podprobe*) echo "${SKIP[podprobe]:-}" ;;
	*) echo "${SKIP[$1]:-}" ;;
	esac
}

# pprun_wait STATE N LOG T0: a `podprobe run` of N pods just started at T0 (ms): waits for its
# API, for N Started events in LOG and for all N Ready through the API (at most 60 s plus
# 50 ms per pod for each), then prints the ms from T0 to all Ready ("-1" when they were not).
pprun_wait() {
	local st=$1 n=$2 log=$3 t0=$4 cap i ready
	cap=$((60 + n / 20))
	wait_api "$st" "$cap" || { echo -1; return; }
	for ((i = 0; i < cap * 4; i++)); do
		[ "$(grep -c '"reason":"Started"' "$log")" -ge "$n" ] && break
		[ $((i % 20)) = 19 ] && progress "podprobe run: $(grep -c '"reason":"Started"' "$log")/$n started"
		sleep 0.25
	done
	ready=$(wait_ready "$st/api.sock" "$n" "$cap" "podprobe run")
	[ "$ready" -ge "$n" ] && echo $(($(now_ms) - t0)) || echo -1
}

# relisten_after_started LOG K SOCK PORTS: once K Started events are in LOG (at most 20 s),
# the fleet closes and reopens PORTS.
relisten_after_started() {
	local i
	for ((i = 0; i < 400; i++)); do
		[ "$(grep -c '"reason":"Started"' "$1")" -ge "$2" ] && break
		sleep 0.05
	done
	fctl "$3" close "$4" >/dev/null
	fctl "$3" open "$4" >/dev/null
}

# ---- one measured run ----------------------------------------------------------------------
# run_one PROBER KIND N PERIOD_MS REP [CPU]: starts the prober on the fleet's first port, waits
# WARM, measures SECS (its CPU from schedstat, the probes from the fleet's counters), prints
# one bench=run line. CPU: pin the prober (taskset) to that core. podprobe-run[-connect]: one
# `podprobe run` with N pods whose readiness probes the N targets (PODPROBE_NO_RAW_SYN=1 for
# -connect; pods annotated probe.podprobe.io/http-keepalive for -ka), measured once all are
# Ready and one more period has passed.
run_one() {
	local prober=$1 kind=$2 n=$3 pms=$4 rep=$5 cpu=${6:-} port sock out=$TMPD/run.out
	local life pid c0 c1 f0 f1 rss own pre=() dir=$TMPD/hap lat=$TMPD/lat.txt
	local st=$TMPD/run-state pprun=0 ready_ms=- raw=- t0 envs=() m0 m1 fds=-
	life=$(awk -v s="$SECS" 'BEGIN { print s + 1.5 }')
	[ "$kind" = tcp ] && port=$TCP_BASE sock=$TCP_SOCK || port=$HTTP_BASE sock=$HTTP_SOCK
	[ -n "$cpu" ] && pre=(taskset -c "$cpu")
	rm -f "$lat"
	local spread=()
	[ "$SPREAD" -gt 1 ] && spread=(-P "$SPREAD")
	case $prober in
	podprobe | podprobe-ka | podprobe-syn | podprobe-connect)
		local url=tcp://127.0.0.1:$port
		[ "$kind" = http ] && url=http://127.0.0.1:$port/healthz
		[ "$prober" = podprobe-ka ] && spread+=(--keepalive)
		[ "$prober" = podprobe-connect ] && spread+=(--no-raw-syn)
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
	podprobe-run | podprobe-run-connect | podprobe-run-ka)
		pprun=1
		[ "$prober" = podprobe-run-connect ] && envs=(PODPROBE_NO_RAW_SYN=1)
		pods_manifest run "$n" "$kind" "$port" "$SPREAD" 0 "$([ "$prober" = podprobe-run-ka ] &&
			echo 1 || echo 0)" >"$TMPD/run-pods.yaml"
		rm -rf "$st"
		PP_STATE=$st
		t0=$(now_ms)
		env "${envs[@]}" "${pre[@]}" "$PODPROBE" run --api-addr=127.0.0.1:0 --events=json \
			--table=never --state-dir="$st" "$TMPD/run-pods.yaml" >"$out" 2>"$TMPD/run.err" &
		;;
	esac
	pid=$!
	if [ $pprun = 1 ]; then
		PP_PID=$pid
		# The listeners podprobe sees open (see the top): once a pod per port has started
		# (and tracks it), the targets' ports are closed and reopened at once. Early, so
		# that only the pods probing by then are re-probed by the kernel's signals, and
		# all Ready is timed as before.
		wait_api "$st" 60 && relisten_after_started "$out" $((n < SPREAD ? n : SPREAD)) "$sock" \
			"$port-$((port + SPREAD - 1))"
		ready_ms=$(pprun_wait "$st" "$n" "$out" "$t0")
		sleep "$WARM"
	else
		PIDS+=("$pid")
		sleep "$WARM"
	fi
	if ! kill -0 "$pid" 2>/dev/null || [ "$ready_ms" = -1 ]; then
		if [ $pprun = 1 ]; then
			cat "$TMPD/run.err" >>"$out"
			podprobe_stop "$pid" "$st"
			PP_PID=
		else
			wait "$pid" 2>/dev/null
			unset 'PIDS[-1]'
		fi
		local why
		why=$(tail -c 200 "$out" | tr -s ' \n' '__')
		[ "$ready_ms" = -1 ] && why=not_all_Ready:$why
		echo "bench=run prober=$prober kind=$kind targets=$n period_ms=$pms rep=$rep failed=$why"
		return
	fi
	[ $pprun = 1 ] && m0=$(pp_counts "$st/api.sock")
	c0=$(cpu_ns "$pid")
	f0=$(fctl "$sock" stats)
	sleep "$SECS"
	c1=$(cpu_ns "$pid")
	f1=$(fctl "$sock" stats)
	[ $pprun = 1 ] && m1=$(pp_counts "$st/api.sock")
	rss=$(rss_kb "$pid")
	if [ $pprun = 1 ]; then
		[ "$kind" = tcp ] && raw=$(raw_sock "$pid")
		fds=$(find /proc/"$pid"/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		podprobe_stop "$pid" "$st"
		PP_PID=
		rm -rf "$st"
	elif [ "$prober" = haproxy ]; then
		stop_pid "$pid"
		unset 'PIDS[-1]'
	else
		wait "$pid" 2>/dev/null
		unset 'PIDS[-1]'
	fi
	own=$(grep '^bench=' "$out" | tail -n 1)
	# `podprobe run` prints no bench line: its late share and failures from its /metrics.
	[ $pprun = 1 ] && own=$(echo "$m0 $m1" | awk '{ n = $4 - $1
		printf "late_pct=%.2f failures=%d\n", (n > 0 ? 100 * ($5 - $2) / n : 0), $6 - $3 }')
	# Raw SYN: bench_probe counts the attempts that went as raw SYNs; for `podprobe run`, whether
	# it held a raw socket.
	case $prober in
	podprobe | podprobe-syn | podprobe-connect)
		[ "$kind" = tcp ] && raw=$(echo "$own" | awk '{ print (match($0, / raw_syn=[1-9]/) ? 1 : 0) }') ;;
	esac
	[ -s "$lat" ] && cp "$lat" "$OUT/data/lat-$prober-$kind-$n.cdf"
	awk -v pr="$prober" -v k="$kind" -v n="$n" -v pms="$pms" -v rep="$rep" -v s="$SECS" \
		-v c="$(( c1 - c0 ))" -v rss="${rss:-0}" -v cpu="${cpu:--}" \
		-v f0="$f0" -v f1="$f1" -v own="$own" -v rms="$ready_ms" -v raw="$raw" -v fds="$fds" 'function get(line, key,   m) {
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
				"own_failures=%s ready_ms=%s raw_syn=%s fds=%s\n",
				pr, k, n, pms, rep, cpu, s, p, p / s, c / 1e9,
				get(own, "cpu_s_per_1000") != "-" ? get(own, "cpu_s_per_1000") : (p ? c / 1e6 / p : 0), rss,
				get(own, "p50_ms"), get(own, "p99_ms"), get(own, "late_pct"),
				p ? fc * 1000 / p : 0, get(own, "cpu_s_per_1000"), get(own, "failures"), rms, raw, fds }'
}

# probers_for KIND REP [N]: the probers of that kind, rotated by REP so no one always goes
# first; with N (steady) also `podprobe run` when N <= RUN_MAX.
probers_for() {
	local list=(podprobe haproxy kubelet) i
	[ "$1" = tcp ] && list+=(uring)
	[ "$1" = tcp ] && [ "$NR" = 1 ] && list+=(podprobe-connect)
	[ "$1" = http ] && [ "$KA" = 1 ] && list+=(podprobe-ka)
	if [ -n "${3:-}" ] && [ "$3" -le "$RUN_MAX" ]; then
		list+=(podprobe-run)
		[ "$1" = tcp ] && list+=(podprobe-run-connect)
		[ "$1" = http ] && list+=(podprobe-run-ka)
	fi
	for ((i = 0; i < ${#list[@]}; i++)); do
		echo "${list[(i + $2) % ${#list[@]}]}"
	done | if [ ${#PROBERS[@]} -gt 0 ]; then grep -xF -f <(printf '%s\n' "${PROBERS[@]}"); else cat; fi
}

# ---- steady ----------------------------------------------------------------------------------
scen_steady() {
	local kind n rep p total=0 k=0 why
	for kind in $KINDS; do
		for n in $NS; do
			total=$((total + REPS * $(probers_for "$kind" 1 "$n" | wc -l)))
		done
	done
	for kind in $KINDS; do
		for n in $NS; do
			for ((rep = 1; rep <= REPS; rep++)); do
				for p in $(probers_for "$kind" $rep "$n"); do
					k=$((k + 1))
					why=$(skip_of "$p")
					if [ -n "$why" ]; then
						echo "bench=run prober=$p kind=$kind targets=$n skipped=${why// /_}" >>"$RAW"
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
	for kind in $KINDS; do
		for ((rep = 1; rep <= REPS; rep++)); do
			for p in $(probers_for "$kind" $rep); do
				k=$((k + 1))
				[ -n "$(skip_of "$p")" ] && continue
				[ "$p" = podprobe-ka ] && continue
				# tcp: the engine with raw SYN (bench_probe's default as root) and connect().
				[ "$kind" = tcp ] && [ "$p" = podprobe ] && p=podprobe-syn
				progress "saturation $k: $p $kind 5000 targets at 50 ms on cpu $cpu, rep $rep/$REPS"
				run_one "$p" "$kind" 5000 50 "$rep" "$cpu" | sed 's/^bench=run/bench=sat/' >>"$RAW"
			done
		done
	done
}

# ---- detection -------------------------------------------------------------------------------
# detect_one PROBER KIND [--no-bpf]: K = TRIALS/ROUNDS targets on fleet ports BASE..BASE+K-1,
# ROUNDS faults on all of them; each target's first failure after a fault is one trial. At most
# 128 targets per round (all of them fail at once), so 250 trials are 2 rounds of 125.
ROUNDS=$(( (TRIALS + 127) / 128 ))
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
		"$PODPROBE" run ${nobpf:+"$nobpf"} --api-addr=127.0.0.1:0 --events=json --table=never \
			--state-dir="$PP_STATE" "$dir/pods.yaml" > >("$FLEET" stamp >"$log") 2>"$dir/err" &
		PP_PID=$!
		pid=$PP_PID
		;;
	esac
	[ "$prober" != podprobe ] && PIDS+=("$pid")
	# Nothing here reads the SYN counts: the counter's wake-ups stay out of the timing
	# (bench_fleet.c, syncount).
	fctl "$sock" syncount off >/dev/null
	# Up: every target seen healthy once (podprobe: every container started), then a period.
	for ((i = 0; i < 200; i++)); do
		[ "$prober" != podprobe ] && break
		[ "$(grep -c '"reason":"Started"' "$log")" -ge "$K" ] && break
		sleep 0.1
	done
	sleep 2.5
	for ((r = 1; r <= ROUNDS; r++)); do
		progress "detect: $label $kind round $r/$ROUNDS, $K targets"
		# From the start of the fault on the range (t0_ns): a fast prober reports the first
		# ports before the fleet has reached the last (t_ns), and those would otherwise
		# count against the next round.
		t=$(fctl "$sock" $fault "$base-$((base + K - 1))" | field t0_ns)
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
	fctl "$sock" syncount on >/dev/null
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
# The pod: init container `true`, main `sleep 3600.<i>`, tcp readiness at 1 s on a fleet port
# (pods_manifest ... 1 writes the same pods as one file).
pod_json() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"scale-%04d"},' "$1"
	printf '"spec":{"terminationGracePeriodSeconds":1,'
	printf '"initContainers":[{"name":"init","image":"busybox","command":["true"]}],'
	printf '"containers":[{"name":"app","image":"busybox","command":["sleep","3600.%04d"],' "$1"
	printf '"readinessProbe":{"tcpSocket":{"host":"127.0.0.1","port":%d},' $((TCP_BASE + $1 % FLEET_N))
	printf '"periodSeconds":1}}]}}\n'
}
# curl_cfg VERB SOCK N: the pods' JSON files and the config of one curl, one connection, N pods
# POSTed (or DELETEd) over api.sock, into $TMPD/curl-VERB.cfg: written before a measured window
# opens (~50 ms for 1,000 pods here), so that the window times podprobe, not bash.
curl_cfg() {
	local verb=$1 sock=$2 n=$3 i
	for ((i = 0; i < n; i++)); do
		[ "$i" -gt 0 ] && printf 'next\n'
		if [ "$verb" = POST ]; then
			[ -e "$TMPD/pods/$i.json" ] || pod_json "$i" >"$TMPD/pods/$i.json"
			printf 'url = "http://x/api/v1/namespaces/default/pods"\n'
			printf 'data-binary = "@%s"\nheader = "Content-Type: application/json"\n' "$TMPD/pods/$i.json"
		else
			printf 'url = "http://x/api/v1/namespaces/default/pods/scale-%04d"\nrequest = "DELETE"\n' "$i"
		fi
		printf 'unix-socket = "%s"\nsilent\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$sock"
	done >"$TMPD/curl-$verb.cfg"
}
# curl_pods VERB: runs curl_cfg's requests; prints how many were answered 2xx.
curl_pods() {
	curl --config "$TMPD/curl-$1.cfg" 2>/dev/null | grep -c '^2'
}

# pods_one REP MODE N: N pods in one `podprobe run`. MODE api: the run starts empty and the pods
# are POSTed one by one over its API socket (a serial client); t0 = the first POST. MODE
# manifest: the same pods in one manifest file on the command line (they arrive in bulk, as
# kubelet gets them from its API watch); t0 = the exec of `podprobe run`. Ready is read
# through the API in both.
pods_one() {
	local rep=$1 mode=$2 pods=$3 state=$TMPD/pods-state sock kc i t0 ready=0 ready_ms del_ms
	local c0 c1 f0 f1 rss0=0 rss ok n cap args=() api_ms=- fds
	cap=$((180 > pods / 20 ? 180 : pods / 20))
	mkdir -p "$TMPD/pods"
	PP_STATE=$state
	sock=$state/api.sock kc=$state/kubeconfig
	rm -rf "$state"
	if [ "$mode" = manifest ]; then
		pods_manifest scale "$pods" tcp "$TCP_BASE" "$FLEET_N" 1 >"$TMPD/pods.yaml"
		args=("$TMPD/pods.yaml")
		progress "pods: $pods pods from one manifest file (run $rep/$POD_RUNS)"
	fi
	t0=$(now_ms)
	"$PODPROBE" run --api-addr=127.0.0.1:0 --state-dir="$state" --events=json --table=never \
		"${args[@]}" >"$TMPD/pods.out" 2>"$TMPD/pods.err" &
	PP_PID=$!
	if ! wait_api "$state" "$cap"; then
		echo "bench=pods mode=$mode pods=$pods rep=$rep failed=podprobe_did_not_serve:$(tail -n 1 "$TMPD/pods.err" | tr ' ' _)" >>"$RAW"
		podprobe_stop "$PP_PID" "$state"
		PP_PID=
		return
	fi
	[ "$mode" = manifest ] && api_ms=$(($(now_ms) - t0))
	if [ "$mode" = api ]; then
		sleep 0.5
		rss0=$(rss_kb "$PP_PID")
		progress "pods: POSTing $pods pods (run $rep/$POD_RUNS)"
		curl_cfg POST "$sock" "$pods"
		t0=$(now_ms)
		ok=$(curl_pods POST)
	else
		ok=$pods
	fi
	# At most max(180 s, 50 ms per pod) in all, then the run reports how many were Ready.
	ready=$(wait_ready "$sock" "$pods" $((cap - ($(now_ms) - t0) / 1000)) "pods ($mode)")
	ready_ms=$(($(now_ms) - t0))
	# The same count through kubectl, once (the brief's reader).
	n=$(kubectl --kubeconfig "$kc" get pods -o json 2>/dev/null |
		jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
	progress "pods: $ready Ready in $ready_ms ms (kubectl says ${n:-?}); measuring ${POD_SECS}s"
	sleep 1
	c0=$(cpu_ns "$PP_PID")
	f0=$(fctl "$TCP_SOCK" stats)
	sleep "$POD_SECS"
	c1=$(cpu_ns "$PP_PID")
	f1=$(fctl "$TCP_SOCK" stats)
	rss=$(rss_kb "$PP_PID")
	fds=$(find /proc/"$PP_PID"/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	progress "pods: deleting $pods pods"
	curl_cfg DELETE "$sock" "$pods"
	t0=$(now_ms)
	curl_pods DELETE >/dev/null
	for ((i = 0; i < cap * 4; i++)); do
		n=$(curl -s --unix-socket "$sock" http://x/api/v1/namespaces/default/pods | jq '.items | length')
		[ "${n:-1}" -eq 0 ] && break
		sleep 0.25
	done
	del_ms=$(($(now_ms) - t0))
	podprobe_stop "$PP_PID" "$state"
	PP_PID=
	rm -rf "$state"
	awk -v rep="$rep" -v mode="$mode" -v pods="$pods" -v ok="$ok" -v ready="$ready" \
		-v rms="$ready_ms" -v dms="$del_ms" -v c="$((c1 - c0))" -v s="$POD_SECS" \
		-v s0="$(echo "$f0" | field syn)" -v s1="$(echo "$f1" | field syn)" \
		-v rss0="$rss0" -v rss="$rss" -v ams="$api_ms" -v fds="$fds" 'BEGIN {
		p = s1 - s0
		printf "bench=pods mode=%s rep=%d pods=%d created=%d ready=%d api_ms=%s all_ready_ms=%d seconds=%d " \
			"cpu_s=%.4f probes=%d rate=%.0f cpu_s_per_1000=%.4f rss_empty_kib=%s rss_kib=%d " \
			"rss_per_pod_kib=%s all_deleted_ms=%d fds=%d\n", mode, rep, pods, ok, ready, ams, rms, s,
			c / 1e9, p, p / s, p ? c / 1e6 / p : 0, mode == "api" ? rss0 : "-", rss,
			mode == "api" ? sprintf("%.1f", (rss - rss0) / pods) : sprintf("%.1f", rss / pods), dms, fds }' >>"$RAW"
}

scen_pods() {
	local rep mode n
	if [ -n "${SKIP[pods]:-}" ]; then
		echo "bench=pods skipped=${SKIP[pods]// /_}" >>"$RAW"
		return
	fi
	for n in $PODS_LIST; do
		for ((rep = 1; rep <= POD_RUNS; rep++)); do
			for mode in $POD_MODES; do
				pods_one "$rep" "$mode" "$n"
			done
		done
	done
}

# ---- exec --------------------------------------------------------------------------------------
# exec_one REP N: one `podprobe run` of N pods (main `sleep`, readiness exec `true` at 1 s, so N
# exec probes/s), measured for EXEC_SECS once all are Ready. CPU = schedstat of podprobe's
# threads (the spawn itself) + the cgroup v2 usage of its pods' tree (the exec'd processes run in
# the container's cgroup, so their whole life — exec, run, exit — is there; the `sleep`s add ~0);
# probes = podprobe's own count (podprobe_probes_started_total on /metrics), late share from
# podprobe_probes_late_total.
exec_one() {
	local rep=$1 n=$2 st=$TMPD/exec-state out=$TMPD/exec.out t0 rms c0 c1 g0 g1 m0 m1 l0 l1 rss
	pods_manifest ex "$n" exec 0 1 >"$TMPD/exec-pods.yaml"
	rm -rf "$st"
	PP_STATE=$st
	progress "exec: $n pods with exec readiness at 1 s (run $rep/$POD_RUNS)"
	t0=$(now_ms)
	"$PODPROBE" run --api-addr=127.0.0.1:0 --events=json --table=never --state-dir="$st" \
		"$TMPD/exec-pods.yaml" >"$out" 2>"$TMPD/exec.err" &
	PP_PID=$!
	rms=$(pprun_wait "$st" "$n" "$out" "$t0")
	if [ "$rms" = -1 ] || ! kill -0 "$PP_PID" 2>/dev/null; then
		echo "bench=exec rep=$rep pods=$n failed=not_all_Ready:$(tail -c 200 "$TMPD/exec.err" | tr -s ' \n' '__')" >>"$RAW"
		podprobe_stop "$PP_PID" "$st"
		PP_PID=
		return
	fi
	sleep "$WARM"
	m0=$(metric "$st/api.sock" podprobe_probes_started_total)
	l0=$(metric "$st/api.sock" podprobe_probes_late_total)
	c0=$(cpu_ns "$PP_PID") g0=$(cg_usage_us "$st")
	sleep "$EXEC_SECS"
	c1=$(cpu_ns "$PP_PID") g1=$(cg_usage_us "$st")
	m1=$(metric "$st/api.sock" podprobe_probes_started_total)
	l1=$(metric "$st/api.sock" podprobe_probes_late_total)
	rss=$(rss_kb "$PP_PID")
	podprobe_stop "$PP_PID" "$st"
	PP_PID=
	rm -rf "$st"
	awk -v rep="$rep" -v n="$n" -v s="$EXEC_SECS" -v rms="$rms" -v c="$((c1 - c0))" \
		-v g="$((g1 - g0))" -v p="$((${m1:-0} - ${m0:-0}))" -v l="$((${l1:-0} - ${l0:-0}))" \
		-v rss="$rss" 'BEGIN {
		printf "bench=exec rep=%d pods=%d all_ready_ms=%d seconds=%s probes=%d rate=%.0f " \
			"podprobe_cpu_s=%.4f children_cpu_s=%.4f podprobe_cpu_s_per_1000=%.4f " \
			"children_cpu_s_per_1000=%.4f cpu_s_per_1000=%.4f late_pct=%.2f rss_kib=%d\n",
			rep, n, rms, s, p, p / s, c / 1e9, g / 1e6, p ? c / 1e6 / p : 0, p ? g / 1e3 / p : 0,
			p ? (c / 1e6 + g / 1e3) / p : 0, p ? 100 * l / p : 0, rss }' >>"$RAW"
}

scen_exec() {
	local rep n
	if [ -n "${SKIP[pods]:-}" ]; then
		echo "bench=exec skipped=${SKIP[pods]// /_}" >>"$RAW"
		return
	fi
	for n in $EXEC_NS; do
		for ((rep = 1; rep <= POD_RUNS; rep++)); do
			exec_one "$rep" "$n"
		done
	done
}

for s in $SCENARIOS; do
	case $s in
	steady | saturation | detect | pods | exec) "scen_$s" ;;
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
[ -n "$NOFILE_NOTE" ] && echo "- $NOFILE_NOTE" >>"$MD"
if command -v gnuplot >/dev/null; then
	bench/plot.sh "$OUT" >>"$MD" 2>"$TMPD/plot.err" ||
		echo "- plots failed: $(head -c 300 "$TMPD/plot.err")" >>"$MD"
else
	echo "- plots skipped: no gnuplot (apt-get install gnuplot-nox)" >>"$MD"
fi
cat "$MD"
echo "# written: $MD (raw lines: $RAW)"
