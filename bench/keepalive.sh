#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# httpGet with and without keep-alive (pp_probe_target.keepalive) on a keep-alive capable fleet
# (bench_fleet, one target per port), next to HAProxy's httpchk on fake-target in the same
# repetition. Prints one line per run and the medians:
#   ka kind=http targets=N rep=R close=... keepalive=... haproxy=... (CPU-s per 1,000 probes)
# usage: O=build bench/keepalive.sh [REPS] [SECONDS] [N...]   (default 3, 8 s, 1000 5000)
set -euo pipefail
O=${O:-build}
reps=${1:-3} secs=${2:-8}
shift 2 || true
counts=${*:-1000 5000}
base=${KA_BASE:-25000} # below the usual ephemeral range (32768-)
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
"$O/tools/fake-target" --port 0 --quiet --backlog 65535 >"$dir/ft" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/ft")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "keepalive: fake-target did not start" >&2; exit 1; }
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
"$O/bench/bench_fleet" -k http -b "$base" -n "$max" -m "$((max * 2))" >"$dir/fleet" 2>&1 &
pids+=($!)
sleep 1
kill -0 "${pids[1]}" 2>/dev/null || { echo "keepalive: bench_fleet: $(head -c 300 "$dir/fleet")" >&2; exit 1; }
url="http://127.0.0.1:$base/healthz"
for rep in $(seq "$reps"); do
	for n in $counts; do
		c=$("$O/bench/bench_probe" -n "$n" -P "$n" -p 1s -s "${secs}s" "$url")
		k=$("$O/bench/bench_probe" -n "$n" -P "$n" -k -p 1s -s "${secs}s" "$url")
		h=$(bench/haproxy.sh http "$n" "$port" "$secs" | field cpu_s_per_1000 || true)
		echo "ka kind=http targets=$n rep=$rep close=$(echo "$c" | field cpu_s_per_1000)" \
			"keepalive=$(echo "$k" | field cpu_s_per_1000) haproxy=${h:-NA}" \
			"close_failures=$(echo "$c" | field failures) ka_failures=$(echo "$k" | field failures)"
	done
done | tee "$dir/rows"
awk '
function med(v, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	delete f
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["targets"]; m = ++c[k]; C[k, m] = f["close"]; K[k, m] = f["keepalive"]
	if (f["haproxy"] != "NA") { RC[k, m] = f["close"] / f["haproxy"]; RK[k, m] = f["keepalive"] / f["haproxy"] }
}
END {
	for (k in c) {
		n = c[k]
		for (i = 1; i <= n; i++) { a[i] = C[k, i]; b[i] = K[k, i]; x[i] = RC[k, i]; y[i] = RK[k, i] }
		printf "median kind=http targets=%s reps=%d close=%.4f keepalive=%.4f close_over_haproxy=%.2f keepalive_over_haproxy=%.2f\n",
			k, n, med(a, n), med(b, n), med(x, n), med(y, n)
	}
}' "$dir/rows"
