#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: the probe engine against tools/fake-target on 127.0.0.1, side by side in one run.
# Each line is machine-readable (key=value). BENCH_SECONDS shortens or lengthens each run.
set -euo pipefail
O=${O:-build}
# The peer the brief measures against; installed when root (bench only, never CI).
if ! command -v haproxy >/dev/null && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null 2>&1 || true
	systemctl stop haproxy >/dev/null 2>&1 || true
fi
secs=${BENCH_SECONDS:-10}
ft_log=$(mktemp)
"$O/tools/fake-target" --port 0 --quiet --backlog 65535 >"$ft_log" 2>/dev/null &
ft=$!
trap 'kill $ft 2>/dev/null; rm -f "$ft_log"' EXIT
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$ft_log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "bench: fake-target did not start" >&2; exit 1; }
echo "# probe engine, one thread; target: fake-target on 127.0.0.1:$port; ${secs}s per run"
echo "# side by side: HAProxy $(haproxy -v 2>/dev/null | sed -n '1s/HAProxy version \([^ ]*\).*/\1/p') (nbthread 1) checking the same fleet"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
for kind in tcp http; do
	url="$kind://127.0.0.1:$port"
	[ "$kind" = http ] && url="$url/healthz"
	for n in 1000 5000; do
		ours=$("$O/bench/bench_probe" -n "$n" -p 1s -s "${secs}s" "$url")
		peer=$(bench/haproxy.sh "$kind" "$n" "$port" "$secs" || true)
		echo "$ours"
		echo "$peer"
		a=$(echo "$ours" | field cpu_s_per_1000)
		b=$(echo "$peer" | field cpu_s_per_1000)
		[ -n "$b" ] && awk -v a="$a" -v b="$b" -v k="$kind" -v n="$n" \
			'BEGIN { printf "ratio kind=%s targets=%d cpu_podprobe_over_haproxy=%.2f\n", k, n, a / b }'
	done
	# Saturation: demand far above one core; "rate" is the engine's maximum.
	"$O/bench/bench_probe" -n 5000 -p 50ms -s "$((secs / 2 > 0 ? secs / 2 : 1))s" "$url"
done
# 10,000 targets at 1 s: late probes must stay under 1%.
"$O/bench/bench_probe" -n 10000 -p 1s -s "${secs}s" "tcp://127.0.0.1:$port"

# Syscalls per probe (strace -c): io_uring_enter and everything else, tcp and http at 1,000/s.
echo "# syscalls per probe (strace -c -f, ${secs}s of 1,000 targets at 1 s)"
O="$O" bench/syscalls.sh "$secs" 1000 || true

# Detection latency, kill/close -> podprobe's event, with and without eBPF.
echo "# detection: from kill(2) or close(2) to the event podprobe prints (p50/p99 over the trials)"
trials=${BENCH_TRIALS:-200}
for mode in exit port; do
	"$O/bench/bench_detect" --podprobe "$O/podprobe" --mode "$mode" -n "$trials" || true
	"$O/bench/bench_detect" --podprobe "$O/podprobe" --mode "$mode" -n "$trials" --no-bpf || true
done

# eBPF cost under a connect storm: run time per program invocation (kernel BPF stats).
if [ "$(id -u)" -eq 0 ] && command -v bpftool >/dev/null && sysctl -q kernel.bpf_stats_enabled >/dev/null 2>&1; then
	old=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	"$O/podprobe" signals --all --duration "$((secs + 2))s" >/dev/null 2>&1 &
	sig=$!
	sleep 1
	"$O/bench/bench_probe" -n 5000 -p 50ms -s "${secs}s" "tcp://127.0.0.1:$port" | sed 's/^/# storm: /'
	bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(("handle_", "pp_", "exit", "sock", "oom")) and p.get("run_cnt"):
        print("bench=bpf prog=%s run_cnt=%d ns_per_run=%.0f" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
' || true
	wait $sig 2>/dev/null || true
	sysctl -qw kernel.bpf_stats_enabled="$old"
fi

# ---- API server figures (bench/bench_api.sh): kubectl get pods with 1 vs 1,000 pods, list
# time per request, kill -> watch event latency, idle CPU with 0 vs 10 watchers, RSS per pod
# and per kept event. Root only; it says why when it skips.
echo "# API server: 1,000 pods served to kubectl (bench/bench_api.sh)"
O="$O" bench/bench_api.sh || true

# ---- podprobe watch beside a node (bench/bench_watch.sh): port closed -> readiness gate
# False in the API, p50/p99; CPU, RSS and API requests/s with 1,001 watched pods.
echo "# podprobe watch: readiness gate beside a podprobe run (bench/bench_watch.sh)"
O="$O" bench/bench_watch.sh || true
