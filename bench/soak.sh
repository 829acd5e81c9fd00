#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Soak (make soak; never part of make test or CI): SOAK_PODS crash-looping pods (sh -c 'exit 1',
# restartPolicy Always, short back-off so they keep restarting) under one `podprobe run` for
# SOAK_SECONDS. Prints podprobe's RSS and open fds once every pod is crash-looping, then every
# minute and at the end, its zombie children (0 expected: each exit is reaped), and after a
# graceful stop (SIGTERM) the processes and cgroups podprobe left behind (0 expected).
# Local processes only: no network. Exit status 1 when an expectation fails.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_PODS=${SOAK_PODS:-1000}
SOAK_BACKOFF_BASE=${SOAK_BACKOFF_BASE:-1s}
SOAK_BACKOFF_MAX=${SOAK_BACKOFF_MAX:-10s}
podprobe=$(realpath "$O/podprobe") || exit 1
bad=0

tmp=$(mktemp -d /tmp/podprobe-soak-XXXXXX) || exit 1
trap 'kill -KILL $pp_pid 2>/dev/null; rm -rf "$tmp"' EXIT

for ((i = 0; i < SOAK_PODS; i++)); do
	printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: crash-%04d}\n' "$i"
	printf 'spec:\n  restartPolicy: Always\n  terminationGracePeriodSeconds: 1\n'
	printf '  containers:\n  - {name: app, image: busybox, command: [sh, -c, "exit 1"]}\n'
done >"$tmp/pods.yaml"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
n_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# Children of <pid> in state Z (an exited container podprobe has not reaped).
n_zombies() {
	local n=0 f rest
	for f in /proc/[0-9]*/stat; do
		read -r rest <"$f" 2>/dev/null || continue
		rest=${rest##*) }
		set -- $rest
		[ "$1" = Z ] && [ "$2" = "$pp_pid" ] && n=$((n + 1))
	done
	echo $n
}
# The fewest zombies over five samples 0.2 s apart: a container that exited this instant is
# a zombie until the loop reaps it, one left for good is counted every time.
min_zombies() {
	local min= z
	for _ in 1 2 3 4 5; do
		z=$(n_zombies)
		[ -z "$min" ] || [ "$z" -lt "$min" ] && min=$z
		sleep 0.2
	done
	echo "$min"
}
count() { grep -c "\"reason\":\"$1\"" "$tmp/events.json"; }
# Pods that have had at least one <reason> event.
n_pods_with() {
	grep "\"reason\":\"$1\"" "$tmp/events.json" | grep -o '"pod":"[^"]*"' | sort -u | wc -l
}
sample() {
	printf 'soak: %-9s t=%4ss  rss %6s kB  fds %5s  Started %7s  BackOff %7s\n' "$1" \
		$(($(date +%s) - t0)) "$(rss_kb $pp_pid)" "$(n_fds $pp_pid)" "$(count Started)" \
		"$(count BackOff)"
}

echo "soak: $SOAK_PODS pods, ${SOAK_SECONDS}s, back-off $SOAK_BACKOFF_BASE..$SOAK_BACKOFF_MAX," \
	"fd limit $(ulimit -n), podprobe $podprobe"
t0=$(date +%s)
"$podprobe" run --api-addr=none --events=json --table=never --state-dir="$tmp/state" \
	--backoff-base="$SOAK_BACKOFF_BASE" --backoff-max="$SOAK_BACKOFF_MAX" \
	--min-kill-gap=200ms "$tmp/pods.yaml" >"$tmp/events.json" 2>"$tmp/stderr" &
pp_pid=$!
# cg_name and other helpers shared with bench/scenarios.sh (functions only).
. bench/lib_bench.sh
tree=$(cg_name "$tmp/state")

# "Start": every pod is crash-looping, i.e. has been put in back-off once (or two minutes
# passed); from then on the number of containers running at any moment stays small.
for ((i = 0; i < 240; i++)); do
	[ "$(n_pods_with BackOff)" -ge "$SOAK_PODS" ] && break
	kill -0 $pp_pid 2>/dev/null || break
	sleep 0.5
done
if ! kill -0 $pp_pid 2>/dev/null; then
	echo "soak: podprobe exited early:" >&2
	tail -n 20 "$tmp/stderr" >&2
	exit 1
fi
sample start
rss0=$(rss_kb $pp_pid) fds0=$(n_fds $pp_pid)
[ -n "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$tree" 2>/dev/null)" ] ||
	echo "soak: no cgroup $tree (no cgroups on this host?)" >&2
next=$((t0 + 60))
while [ $(($(date +%s) - t0)) -lt "$SOAK_SECONDS" ]; do
	kill -0 $pp_pid 2>/dev/null || { echo "soak: podprobe died" >&2; exit 1; }
	if [ "$(date +%s)" -ge $next ]; then
		sample running
		next=$((next + 60))
	fi
	sleep 1
done
sample end
rss1=$(rss_kb $pp_pid) fds1=$(n_fds $pp_pid)
zombies=$(min_zombies)
errors=$(grep -c -i -e 'too many open files' -e 'error' "$tmp/stderr")

# Graceful stop, then what is left: processes in podprobe's cgroups, the cgroups themselves.
kill -TERM $pp_pid
for ((i = 0; i < 600; i++)); do
	kill -0 $pp_pid 2>/dev/null || break
	sleep 0.1
done
if kill -0 $pp_pid 2>/dev/null; then
	echo "soak: podprobe still running 60 s after SIGTERM" >&2
	bad=1
fi
wait $pp_pid
rc=$?
cgroups=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$tree" 2>/dev/null | wc -l)
left=$(grep -l "$tree/" /proc/[0-9]*/cgroup 2>/dev/null | wc -l)

echo "soak: rss ${rss0} kB -> ${rss1} kB ($(((rss1 - rss0))) kB), fds ${fds0} -> ${fds1}"
echo "soak: zombies ${zombies}, processes left ${left}, cgroups left ${cgroups}," \
	"podprobe exit ${rc}, stderr lines with errors ${errors}"
[ "$zombies" -eq 0 ] || bad=1
[ "$left" -eq 0 ] || bad=1
[ "$cgroups" -eq 0 ] || bad=1
[ "$fds1" -le $((fds0 + 16)) ] || { echo "soak: fds grew" >&2; bad=1; }
if [ "$errors" -ne 0 ]; then
	echo "soak: podprobe's stderr:" >&2
	grep -i -m 10 -e 'too many open files' -e 'error' "$tmp/stderr" >&2
	bad=1
fi
exit $bad
