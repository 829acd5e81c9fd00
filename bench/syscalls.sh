#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Syscalls per probe of the probe engine (bench_probe): io_uring_enter and all of them, counted
# with perf's syscall tracepoints (cheap enough not to change the loop's behaviour), or with
# strace -c -f when perf cannot (strace slows every syscall: at 5,000/s the loop saturates and
# batches more, so its figures are a lower bound). One line per kind and target count:
#   bench=syscalls kind=tcp targets=N attempts=... io_uring_enter=... enter_per_probe=...
#   syscalls_per_probe=... counter=perf|strace
# usage: O=build bench/syscalls.sh [SECONDS] [N...]   (default 5 s, 1000 5000)
set -euo pipefail
O=${O:-build}
secs=${1:-5}
shift || true
counts=${*:-1000 5000}
dir=$(mktemp -d)
"$O/tools/fake-target" --port 0 --quiet --backlog 65535 >"$dir/ft" 2>/dev/null &
ft=$!
trap 'kill $ft 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/ft")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "bench: fake-target did not start" >&2; exit 1; }
counter=none
if perf stat -x, -e syscalls:sys_enter_io_uring_enter,raw_syscalls:sys_enter -o /dev/null true 2>/dev/null; then
	counter=perf
elif command -v strace >/dev/null; then
	counter=strace
fi
[ "$counter" != none ] || { echo "bench=syscalls skipped=no-perf-or-strace"; exit 0; }
for kind in tcp http; do
	url="$kind://127.0.0.1:$port"
	[ "$kind" = http ] && url="$url/healthz"
	for n in $counts; do
		run=("$O/bench/bench_probe" -n "$n" -p 1s -s "${secs}s" "$url")
		if [ $counter = perf ]; then
			out=$(perf stat -x, -e syscalls:sys_enter_io_uring_enter,raw_syscalls:sys_enter \
				-o "$dir/st" "${run[@]}")
			enter=$(awk -F, '/io_uring_enter/ { print $1 }' "$dir/st")
			all=$(awk -F, '/raw_syscalls/ { print $1 }' "$dir/st")
		else
			out=$(strace -f -c -o "$dir/st" "${run[@]}")
			enter=$(awk '$NF == "io_uring_enter" { print $4 }' "$dir/st")
			all=$(awk '$NF == "total" { print $4 }' "$dir/st")
		fi
		# The counters include the warm-up period: divide by every attempt started.
		total=$(echo "$out" | sed -n 's/.* attempts_total=\([0-9]*\).*/\1/p')
		# Older bench_probe: the measured attempts plus one warm-up period's.
		[ -n "$total" ] || total=$(($(echo "$out" | sed -n 's/.* attempts=\([0-9]*\).*/\1/p') + n))
		awk -v kind="$kind" -v n="$n" -v total="$total" -v enter="${enter:-0}" -v all="${all:-0}" \
			-v c=$counter 'BEGIN {
			printf "bench=syscalls kind=%s targets=%d attempts=%d io_uring_enter=%d enter_per_probe=%.2f syscalls_per_probe=%.2f counter=%s\n",
				kind, n, total, enter, enter / total, all / total, c }'
	done
done
