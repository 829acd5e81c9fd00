#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: the probe engine against tools/fake-target on 127.0.0.1, side by side in one run.
# Each line is machine-readable (key=value). BENCH_SECONDS shortens or lengthens each run.
set -euo pipefail
O=${O:-build}
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
for kind in tcp http; do
	url="$kind://127.0.0.1:$port"
	[ "$kind" = http ] && url="$url/healthz"
	for n in 1000 5000; do
		"$O/bench/bench_probe" -n "$n" -p 1s -s "${secs}s" "$url"
	done
	# Saturation: demand far above one core; "rate" is the engine's maximum.
	"$O/bench/bench_probe" -n 5000 -p 50ms -s "$((secs / 2 > 0 ? secs / 2 : 1))s" "$url"
done
# 10,000 targets at 1 s: late probes must stay under 1%.
"$O/bench/bench_probe" -n 10000 -p 1s -s "${secs}s" "tcp://127.0.0.1:$port"
