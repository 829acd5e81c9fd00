#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `podprobe watch` beside a node (make bench): a `podprobe run --api-addr=127.0.0.1:0` stands
# in for kubelet and the API server, and runs one gate pod (bench/watch_toggle.py: its listener
# closes and opens on signals; tcpSocket readiness every 10 s, failureThreshold 3: kubelet
# would take it out after 30 s) and BENCH_WATCH_PODS (1,000) pods of `demo-app serve` with a
# tcpSocket readiness probe every second, every pod listing the readiness gate
# podprobe.io/ready. One `podprobe watch --kubeconfig` follows them all. Figures:
#  (a) time until every pod's gate is True, from the watch's start;
#  (b) port closed -> the gate False read from an API watch (bench/watch_gate.py), p50/p99
#      over BENCH_WATCH_TRIALS (200) closes;
#  (c) podprobe watch's CPU (schedstat) per second and RSS with all pods watched, over
#      BENCH_WATCH_CPU_SECONDS (20), and the API requests it sent meanwhile (podprobe run's
#      podprobe_api_requests_total, less the two scrapes).
# Lines starting "bench=" are machine-readable. Root only; says why when it skips.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
PODS=${BENCH_WATCH_PODS:-1000}
TRIALS=${BENCH_WATCH_TRIALS:-200}
CPU_SECS=${BENCH_WATCH_CPU_SECONDS:-20}
PY=/usr/bin/python3

skip() {
	echo "# bench_watch: skipped: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (cgroups, eBPF)"
command -v curl >/dev/null || skip "no curl"
[ -x "$PY" ] || skip "no $PY"
[ -x "$O/podprobe" ] || skip "no $O/podprobe"
[ -x "$O/tools/demo-app" ] || skip "no $O/tools/demo-app"
podprobe=$(realpath "$O/podprobe") demo=$(realpath "$O/tools/demo-app")

tmp=$(mktemp -d /tmp/podprobe-bench-watch-XXXXXX) || exit 1
state=$tmp/state sock=$tmp/state/api.sock kc=$tmp/state/kubeconfig
run_pid= watch_pid=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$watch_pid" ] && kill -TERM "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -TERM "$run_pid"
		for ((i = 0; i < 600; i++)); do
			kill -0 "$run_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$run_pid" 2>/dev/null
		wait "$run_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PODS + 1 consecutive loopback ports, below the ephemeral range (where clients' ports come
# from: a bench's probes would take them) and free now.
base=$($PY - "$PODS" <<'PYEOF'
import random, socket, sys
n = int(sys.argv[1]) + 1
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(50):
    base = random.randrange(10000, max(10001, lo - n))
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PYEOF
)
[ -n "$base" ] || skip "no $((PODS + 1)) free consecutive ports below the ephemeral range"
mkdir -p "$tmp/pods"
{
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: gate}\nspec:\n'
	printf '  readinessGates: [{conditionType: podprobe.io/ready}]\n'
	printf '  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n    image: x\n'
	printf '    command: [%s, %s, "%d", %s]\n' "$PY" "$(realpath bench/watch_toggle.py)" "$base" "$tmp/closed"
	printf '    readinessProbe: {tcpSocket: {port: %d}, periodSeconds: 10, failureThreshold: 3}\n' "$base"
	for ((i = 1; i <= PODS; i++)); do
		printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: w-%04d}\nspec:\n' "$i"
		printf '  readinessGates: [{conditionType: podprobe.io/ready}]\n'
		printf '  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n    image: x\n'
		printf '    command: [%s, serve, --port, "%d"]\n' "$demo" $((base + i))
		printf '    readinessProbe: {tcpSocket: {port: %d}, periodSeconds: 1}\n' $((base + i))
	done
} >"$tmp/pods/pods.yaml"

"$podprobe" run --api-addr=127.0.0.1:0 --state-dir "$state" --events=none --table=never \
	"$tmp/pods/pods.yaml" >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
for ((i = 0; i < 300; i++)); do
	[ -e "$kc" ] && [ -e "$tmp/closed.pid" ] && break
	sleep 0.1
done
[ -e "$kc" ] || skip "podprobe run did not serve: $(tail -3 "$tmp/run.err")"
node=$(curl -s --unix-socket "$sock" http://x/api/v1/namespaces/default/pods/gate |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["spec"]["nodeName"])')

# Pods whose condition <type> is True, on the list (podprobe run's API).
conds_true() {
	curl -s --unix-socket "$sock" http://x/api/v1/pods | $PY -c '
import json, sys
n = 0
for p in json.load(sys.stdin)["items"]:
    for c in p.get("status", {}).get("conditions", []):
        n += c.get("type") == sys.argv[1] and c.get("status") == "True"
print(n)' "$1"
}
gates_true() { conds_true podprobe.io/ready; }
api_requests() {
	curl -s --unix-socket "$sock" http://x/metrics | awk '$1 == "podprobe_api_requests_total" { print $2 }'
}
cpu_ns() {
	local f t sum=0
	for f in /proc/"$watch_pid"/task/*/schedstat; do
		read -r t _ <"$f" && sum=$((sum + t))
	done
	echo $sum
}

# podprobe run's own start first: every container ready (its probes), so (a) is the watch's.
for ((i = 0; i < 1200; i++)); do
	[ "$(conds_true ContainersReady)" -ge $((PODS + 1)) ] && break
	sleep 0.1
done
t0=$(date +%s%N)
"$podprobe" watch --kubeconfig "$kc" --node "$node" --probe-proxy-addr 127.0.0.1:0 \
	--events=none >"$tmp/watch.out" 2>"$tmp/watch.err" &
watch_pid=$!
n=0
for ((i = 0; i < 1200; i++)); do
	n=$(gates_true)
	[ "$n" -ge $((PODS + 1)) ] && break
	kill -0 "$watch_pid" 2>/dev/null || skip "podprobe watch ended: $(tail -3 "$tmp/watch.err")"
	sleep 0.1
done
t1=$(date +%s%N)
echo "bench=watch_ready pods=$((PODS + 1)) gates_true=$n seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"

# (c) steady state: nothing changes, nothing should be sent.
r0=$(api_requests) c0=$(cpu_ns) s0=$(date +%s%N)
sleep "$CPU_SECS"
r1=$(api_requests) c1=$(cpu_ns) s1=$(date +%s%N)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$watch_pid/status")
awk -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" -v r0="$r0" -v r1="$r1" -v rss="$rss" -v n=$((PODS + 1)) 'BEGIN {
	secs = (s1 - s0) / 1e9
	printf "bench=watch_steady pods=%d seconds=%.1f cpu_s_per_s=%.4f rss_kb=%d rss_kb_per_pod=%.1f api_requests_per_s=%.3f\n",
		n, secs, (c1 - c0) / 1e9 / secs, rss, rss / n, (r1 - r0 - 1) / secs }'

# (b) port closed -> gate False in the API.
$PY bench/watch_gate.py "$sock" gate "$tmp/closed" "$TRIALS"
echo "# bench_watch: kubelet alone takes the gate pod out after periodSeconds x failureThreshold = 30 s"
