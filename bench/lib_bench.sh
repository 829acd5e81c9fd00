#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Helpers of bench/scenarios.sh (sourced; defines functions only). Needs $O (build dir) and $TMPD
# (the scenario's temporary directory) set by the caller.

FLEET=${FLEET:-$O/bench/bench_fleet}

# Progress on stderr while long scenarios run.
progress() { printf '# [%s] %s\n' "$(date +%T)" "$*" >&2; }

# The value of KEY in the key=value line on stdin.
field() { sed -n "s/.*\(^\| \)$1=\([^ ]*\).*/\2/p" | head -n 1; }

# "MEDIAN MIN MAX" of the numbers on stdin ("- - -" when none).
med_min_max() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# Quantile Q (0..1) of the numbers on stdin.
quantile() {
	sort -g | awk -v q="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		i = int(q * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# CPU time of a process's threads, ns: the sum of their schedstat run times (the scheduler's
# clock, the sum_exec_runtime getrusage reports). Threads that exit in a window take their time
# with them (io_uring's io-wq workers): callers prefer a prober's own getrusage figure.
# (On this VM /proc/PID/stat utime+stime and cgroup v2 cpu.stat read up to 3x lower than
# schedstat and getrusage for a prober at saturation; the harness uses the latter, as
# bench/run.sh does.)
cpu_ns() {
	local f t sum=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r t _ <"$f" 2>/dev/null && sum=$((sum + t))
	done
	echo "$sum"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# fleet_start KIND BASE N SOCK: a bench_fleet in the background (FLEET_PIDS gets its pid);
# returns once it listens.
FLEET_PIDS=()
fleet_start() {
	local kind=$1 base=$2 n=$3 sock=$4 out i
	out=$TMPD/fleet-$kind.out
	"$FLEET" -k "$kind" -b "$base" -n "$n" --ctl "$sock" >"$out" 2>&1 &
	FLEET_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -q '^fleet ready' "$out" && return 0
		kill -0 "${FLEET_PIDS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "# bench_fleet ($kind) did not start: $(head -c 300 "$out")" >&2
	return 1
}
fctl() { "$FLEET" ctl "$@"; }

# haproxy_cfg KIND PORT NPORTS N INTER FALL DIR: HAProxy as the peer (bench/haproxy.sh too: one
# thread, `check inter`), N servers round-robin over NPORTS ports from PORT; writes DIR/h.cfg.
haproxy_cfg() {
	local kind=$1 port=$2 nports=$3 n=$4 inter=$5 fall=$6 dir=$7 i
	{
		echo "global"
		echo "  nbthread 1"
		echo "  maxconn 4096"
		echo "defaults"
		echo "  mode $([ "$kind" = http ] && echo http || echo tcp)"
		echo "  timeout connect 1s"
		echo "  timeout client 1s"
		echo "  timeout server 1s"
		echo "  timeout check 1s"
		# HAProxy refuses to run without a listener: a unix socket nobody uses.
		echo "frontend idle"
		echo "  bind unix@$dir/idle.sock"
		echo "  default_backend fleet"
		echo "backend fleet"
		[ "$kind" = http ] && echo "  option httpchk GET /healthz"
		echo "  default-server check inter $inter fall $fall rise 1"
		# Named after the port (detection reads it back) when each has its own.
		for ((i = 0; i < n; i++)); do
			if [ "$nports" -ge "$n" ]; then
				echo "  server s$((port + i)) 127.0.0.1:$((port + i))"
			else
				echo "  server s$i 127.0.0.1:$((port + i % nports))"
			fi
		done
	} >"$dir/h.cfg"
}

# Kill a process we started and reap it.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# podprobe's cgroup tree is named after its state directory's real path: "podprobe-" and its
# FNV-1a 64 hash (include/podprobe/naming.h); bench/soak.sh and bench/bench_api.sh use it too.
cg_name() {
	local s h=$((0xcbf29ce484222325)) i c
	s=$(realpath -m "$1")
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf 'podprobe-%016x' "$h"
}

# Stop the podprobe with pid $1 and state dir $2 (SIGTERM deletes its pods; SIGKILL after 60 s),
# then remove whatever cgroups it left.
podprobe_stop() {
	local pid=$1 state=$2 i d tree
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for ((i = 0; i < 600; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "# podprobe still running 60 s after SIGTERM: SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	fi
	tree=$(cg_name "$state")
	for d in /sys/fs/cgroup/unified/"$tree" /sys/fs/cgroup/"$tree"; do
		[ -d "$d" ] || continue
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			[ -z "$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
			sleep 0.1
		done
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
