#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Before/after of the probe engine, interleaved in one time window: for each repetition, kind
# (tcp, http) and target count, runs bench_probe of every build in BUILDS and then HAProxy
# (bench/haproxy.sh) one after the other on the same fake-target, and prints the medians of
# CPU-s per 1,000 probes and of each build's ratio to the HAProxy run of its repetition.
# usage: BUILDS="/tmp/build-old build" bench/compare.sh [REPS] [SECONDS] [N...]
set -euo pipefail
read -r -a builds <<<"${BUILDS:?build dirs to compare, the first one also serves fake-target}"
reps=${1:-3} secs=${2:-10}
shift 2 || true
counts=${*:-1000 5000}
dir=$(mktemp -d)
"${builds[0]}/tools/fake-target" --port 0 --quiet --backlog 65535 >"$dir/ft" 2>/dev/null &
ft=$!
trap 'kill $ft 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/ft")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "compare: fake-target did not start" >&2; exit 1; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
for rep in $(seq "$reps"); do
	for kind in tcp http; do
		url="$kind://127.0.0.1:$port"
		[ "$kind" = http ] && url="$url/healthz"
		for n in $counts; do
			line="rep=$rep kind=$kind targets=$n"
			for i in "${!builds[@]}"; do
				v=$("${builds[$i]}/bench/bench_probe" -n "$n" -p 1s -s "${secs}s" "$url" |
					field cpu_s_per_1000 || true)
				line="$line b$i=${v:-NA}"
			done
			h=$(bench/haproxy.sh "$kind" "$n" "$port" "$secs" | field cpu_s_per_1000 || true)
			echo "$line haproxy=${h:-NA} load=$(cut -d' ' -f1 /proc/loadavg)"
		done
	done
done | tee "$dir/rows"
for i in "${!builds[@]}"; do echo "# b$i = ${builds[$i]}"; done
# Medians over the repetitions (NA rows are left out of a column).
awk '
function med(v, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	delete f
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["kind"] " " f["targets"]; keys[k] = 1
	for (name in f) {
		if (name !~ /^b[0-9]+$/ && name != "haproxy") continue
		if (f[name] == "NA") continue
		cols[name] = 1; m = ++cnt[k, name]; V[k, name, m] = f[name]
		if (name != "haproxy" && f["haproxy"] != "NA" && f["haproxy"] > 0) {
			r = ++rc[k, name]; R[k, name, r] = f[name] / f["haproxy"]
		}
	}
}
END {
	for (k in keys) {
		split(k, kk, " ")
		out = sprintf("median kind=%s targets=%s", kk[1], kk[2])
		for (name in cols) {
			n = cnt[k, name]; delete v
			for (i = 1; i <= n; i++) v[i] = V[k, name, i]
			if (n) out = out sprintf(" %s=%.4f", name, med(v, n))
			n = rc[k, name]; delete v
			for (i = 1; i <= n; i++) v[i] = R[k, name, i]
			if (n) out = out sprintf(" %s_over_haproxy=%.2f", name, med(v, n))
		}
		print out
	}
}' "$dir/rows" | sort
