#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# HAProxy 2.6 (one thread) health-checking N servers at 127.0.0.1:PORT every 1 s, as the peer
# the brief measures against. Prints one line:
#   bench=haproxy kind=tcp targets=N seconds=S checks=... cpu_s=... cpu_s_per_1000=...
# usage: haproxy.sh tcp|http N PORT SECONDS
set -euo pipefail
kind=$1 n=$2 port=$3 secs=$4
command -v haproxy >/dev/null || { echo "bench=haproxy skipped=not-installed"; exit 0; }
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; exit 0' EXIT
# The configuration bench/scenarios.sh uses too (bench/lib_bench.sh), all servers on PORT.
O=${O:-build}
. "$(dirname "$0")/lib_bench.sh"
haproxy_cfg "$kind" "$port" 1 "$n" 1s 3 "$dir"
haproxy -db -f "$dir/h.cfg" >/dev/null 2>"$dir/err" &
pid=$!
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 2 # one period of warm-up: every server has been checked once
kill -0 "$pid" 2>/dev/null || { echo "bench=haproxy failed=$(head -c 200 "$dir/err" | tr "\n" " ")"; exit 0; }
c0=$(cpu)
sleep "$secs"
c1=$(cpu)
awk -v c0="$c0" -v c1="$c1" -v t="$ticks" -v n="$n" -v s="$secs" -v k="$kind" 'BEGIN {
	cpu = (c1 - c0) / t; checks = n * s;
	printf "bench=haproxy kind=%s targets=%d seconds=%d checks=%d cpu_s=%.3f cpu_s_per_1000=%.4f\n",
		k, n, s, checks, cpu, cpu * 1000 / checks }'
