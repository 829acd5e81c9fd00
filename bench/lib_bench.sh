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

# 1 when process $1 holds a raw IP socket (podprobe's raw SYN prober, user/io/probe_syn.c: its
# IPPROTO_RAW send socket is listed in /proc/net/raw), else 0.
raw_sock() {
	local ino
	ino=$(find /proc/"$1"/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
	if [ -n "$ino" ] && awk 'NR > 1 { print $10 }' /proc/net/raw | grep -qxF "$ino"; then
		echo 1
	else
		echo 0
	fi
}

# CPU time, µs, of everything in the cgroup tree of the podprobe with state dir $1 (its pods'
# containers and what runs in them, exec probes included; podprobe itself is not in it): the
# tree's cgroup v2 cpu.stat usage_usec, which counts exited tasks too. 0 without the tree.
cg_usage_us() {
	local tree d
	tree=$(cg_name "$1")
	for d in /sys/fs/cgroup/unified/"$tree" /sys/fs/cgroup/"$tree"; do
		if [ -r "$d/cpu.stat" ]; then
			awk '$1 == "usage_usec" { print $2 }' "$d/cpu.stat"
			return
		fi
	done
	echo 0
}

# pods_manifest NAME N PROBE BASE NPORTS [INIT] [KA]: N pods as one multi-document YAML on
# stdout, named NAME-0000.., one container `sleep` with a readiness probe at 1 s
# (failureThreshold default): PROBE tcp or http on port BASE + i % NPORTS of 127.0.0.1, or exec
# (`true`). INIT=1 adds an init container `true` and makes the sleep argument per pod
# (3600.<i>), as the pods scenario's pod_json does. KA=1 annotates every pod with
# probe.podprobe.io/http-keepalive: "true" (one kept-alive connection per httpGet target).
pods_manifest() {
	awk -v pre="$1" -v n="$2" -v probe="$3" -v base="$4" -v np="$5" -v init="${6:-0}" \
		-v ka="${7:-0}" 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s-%04d\n", pre, i
		if (ka)
			printf "  annotations: {probe.podprobe.io/http-keepalive: \"true\"}\n"
		printf "spec:\n  terminationGracePeriodSeconds: 1\n"
		if (init)
			printf "  initContainers:\n  - {name: init, image: busybox, command: [\"true\"]}\n"
		printf "  containers:\n  - name: app\n    image: busybox\n"
		if (init)
			printf "    command: [\"sleep\", \"3600.%04d\"]\n", i
		else
			printf "    command: [\"sleep\", \"3600\"]\n"
		printf "    readinessProbe:\n"
		port = base + i % np
		if (probe == "tcp")
			printf "      tcpSocket: {host: 127.0.0.1, port: %d}\n", port
		else if (probe == "http")
			printf "      httpGet: {host: 127.0.0.1, port: %d, path: /healthz}\n", port
		else
			printf "      exec: {command: [\"true\"]}\n"
		printf "      periodSeconds: 1\n"
	} }'
}

# Pods Ready through the API socket $1 of a podprobe run: as `kubectl get pods` reads them (its
# Table; READY k/k, every container ready; the pods here have no readiness gates). A Table
# costs the server about a tenth of a PodList of the same pods, so polling it every 100 ms
# disturbs the run less than a PodList every 250 ms did.
ready_count() {
	curl -s --unix-socket "$1" -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' \
		http://x/api/v1/namespaces/default/pods |
		jq '[.rows[]? | .cells[1] | split("/") | select(.[0] == .[1] and .[0] != "0")] | length'
}

# The value of the Prometheus sample NAME (no labels) in GET /metrics over the API socket $1.
metric() {
	curl -s --unix-socket "$1" http://x/metrics | awk -v n="$2" '$1 == n { print $2; exit }'
}

# wait_api STATE SECS: until STATE/api.sock and STATE/kubeconfig exist (0) or SECS pass (1).
wait_api() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -e "$1/kubeconfig" ] && [ -S "$1/api.sock" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_ready SOCK N SECS [LABEL]: poll the API until N pods are Ready or SECS pass (progress
# lines every ~5 s with LABEL); prints the last count. Polls every 0.25 s, every 1 s above
# 1,000 pods (each list costs podprobe a serialisation of every pod).
wait_ready() {
	local sock=$1 n=$2 secs=$3 label=${4:-} t0 ready=0 iv=0.1 last=0 now
	[ "$n" -gt 1000 ] && iv=1
	t0=$(date +%s)
	while :; do
		ready=$(ready_count "$sock")
		[ "${ready:-0}" -ge "$n" ] && break
		now=$(date +%s)
		[ $((now - t0)) -ge "$secs" ] && break
		if [ -n "$label" ] && [ $((now - last)) -ge 5 ]; then
			progress "$label: ${ready:-0}/$n Ready after $((now - t0)) s"
			last=$now
		fi
		sleep "$iv"
	done
	echo "${ready:-0}"
}

# "STARTED LATE FAILED": probe attempts started, started late, and failed results so far of the
# podprobe run serving API socket $1 (its /metrics: podprobe_probes_started_total,
# podprobe_probes_late_total, prober_probe_total{result="failed"} summed).
pp_counts() {
	curl -s --unix-socket "$1" http://x/metrics | awk '
		$1 == "podprobe_probes_started_total" { s = $2 }
		$1 == "podprobe_probes_late_total" { l = $2 }
		/^prober_probe_total\{/ && /result="failed"/ { f += $NF }
		END { print s + 0, l + 0, f + 0 }'
}
