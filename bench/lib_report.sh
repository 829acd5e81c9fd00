#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# report_md RAW OUTDIR LOAD0 LOAD1 SECONDS: the markdown of bench/scenarios.sh from its raw
# key=value lines; also writes OUTDIR/data/cpu-<kind>.dat for bench/plot.sh. Sourced.

# awk helpers shared by the tables: kv() reads key=value fields, mmm() is "median (min–max)".
REPORT_AWK_LIB='
function kv(line, key,   m) {
	if (match(line, "(^| )" key "=[^ ]*")) {
		m = substr(line, RSTART, RLENGTH); sub(/^ /, "", m); sub(/^[^=]*=/, "", m); return m }
	return ""
}
function sortv(s, v,   n, i, j, t) {
	n = split(s, v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return n
}
function med(s,   v, n) {
	n = sortv(s, v); if (!n) return ""
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function mmm(s, fmt,   v, n) {
	n = sortv(s, v); if (!n) return "–"
	if (n == 1) return sprintf(fmt, v[1])
	return sprintf(fmt " (" fmt "–" fmt ")", med(s), v[1], v[n])
}
function q(s, p,   v, n, i) {
	n = sortv(s, v); if (!n) return "–"
	i = int(p * n + 0.999999); if (i < 1) i = 1; if (i > n) i = n; return v[i]
}
'

ms1() { awk '{ if ($1 == "-") print "–"; else printf "%.1f\n", $1 }'; }

# SECS, WARM, REPS, FULL, O, the binaries and the fleet's ports are bench/scenarios.sh's.
# shellcheck disable=SC2153
report_md() {
	local raw=$1 out=$2 load0=$3 load1=$4 secs=$5 f
	local cpu_model
	cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	cat <<EOF
# podprobe benchmark scenarios: $(date -u +%Y-%m-%dT%H:%MZ), $(hostname -s)

- machine: $cpu_model, $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -srm)
- load average: $load0 at start, $load1 at the end; ${secs}s in all; FULL=${FULL:-0}
- **CPU figures are on-CPU time of each prober on a machine shared with other work**: the
  absolute values are noisy; podprobe ÷ peer is taken within one repetition (same load) and is
  the more robust figure. Windows: ${SECS}s after ${WARM}s warm-up; ${REPS} repetitions, prober
  order rotated per repetition; cells are median (min–max).
- peers: HAProxy $(haproxy -v 2>/dev/null | sed -n '1s/HAProxy version \([^ ]*\).*/\1/p') (nbthread 1, \`check inter\`),
  kubelet-model ($(go version 2>/dev/null | awk '{ print $3 }'); bench/kubelet-model), bench_uring_ref (10 ms wake coalescing)
- podprobe: \`$BENCH_PROBE\`, \`$PODPROBE\` (${PODPROBE_REV:-$(git describe --always --dirty 2>/dev/null)})
- probes are counted by the fleet (tcp: SYNs through AF_PACKET + cBPF; http: requests answered);
  CPU per 1k probes is the prober's own getrusage figure where it prints one (bench_probe,
  kubelet-model, bench_uring_ref), else (HAProxy, \`podprobe run\`) schedstat of its threads
  over the fleet's window; the fleet's own CPU is separate.

Commands (all against 127.0.0.1, fleet ports $TCP_BASE (tcp) and $HTTP_BASE (http)):

Targets spread over ${SPREAD:-1} consecutive fleet ports (every prober the same).
podprobe-ka: bench_probe --keepalive (one kept-alive connection per target, opt-in).
podprobe (tcp): bench_probe's default, raw SYN where it has CAP_NET_RAW; podprobe-connect:
bench_probe --no-raw-syn (a connect() per probe). podprobe-run: one whole \`podprobe run\` with
N pods (one container \`sleep\`, readiness tcpSocket/httpGet on the N targets at 1 s), measured
once all are Ready; podprobe-run-connect: the same with PODPROBE_NO_RAW_SYN=1;
podprobe-run-ka (http): the same with every pod annotated probe.podprobe.io/http-keepalive.

\`\`\`
$O/bench/bench_fleet -k tcp -b $TCP_BASE -n $FLEET_N --ctl SOCK     (and -k http -b $HTTP_BASE)
$BENCH_PROBE [-P SPREAD] [--keepalive] -n N -p 1s -s ${SECS}s tcp://127.0.0.1:$TCP_BASE | http://127.0.0.1:$HTTP_BASE/healthz
haproxy -db -f CFG        (lib_bench.sh haproxy_cfg: N servers, check inter 1s fall 3 rise 1)
kubelet-model -kind tcp|http -n N -port PORT -period 1s -seconds S -latency-out F
$O/bench/bench_uring_ref -n N --port $TCP_BASE -p 1s -s S --slack 10ms -L F
[PODPROBE_NO_RAW_SYN=1] $PODPROBE run --api-addr=127.0.0.1:0 --events=json --table=never --state-dir=S PODS.yaml
saturation: the same with 5000 targets at 50 ms under taskset -c $(($(nproc) - 1))
detect: fault = bench_fleet ctl SOCK close|status500 A-B; trial = first failure line per target
pods: podprobe run --api-addr=127.0.0.1:0 --state-dir=S --events=json --table=never [PODS.yaml]; else pods via POST on S/api.sock
exec: podprobe run --api-addr=127.0.0.1:0 ... EXEC-PODS.yaml (readiness exec ["true"] at 1 s)
\`\`\`
EOF
	for kind in tcp http; do
		grep -q "^bench=run .*kind=$kind .*probes=" "$raw" || continue
		echo
		echo "## steady: $kind, every target at 1 s"
		echo
		echo "| targets | prober | probes/s | CPU-s per 1k probes | podprobe ÷ this | this ÷ HAProxy | p50 ms | p99 ms | RSS KiB | late % |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		awk "$REPORT_AWK_LIB"'
		$1 == "bench=run" && kv($0, "kind") == K && kv($0, "probes") != "" {
			p = kv($0, "prober"); n = kv($0, "targets"); r = kv($0, "rep")
			if (!(n in seen_n)) { seen_n[n] = 1; ns[++nn] = n }
			if (!((n, p) in seen)) { seen[n, p] = 1; order[n, ++np[n]] = p }
			if (!(p in seen_p)) { seen_p[p] = 1; allp[++na] = p }
			rate[n, p] = rate[n, p] " " kv($0, "rate")
			c = kv($0, "cpu_s_per_1000"); cpu[n, p] = cpu[n, p] " " c; byrep[n, p, r] = c
			if (kv($0, "p50_ms") != "-") { p50[n, p] = p50[n, p] " " kv($0, "p50_ms"); p99[n, p] = p99[n, p] " " kv($0, "p99_ms") }
			rss[n, p] = rss[n, p] " " kv($0, "rss_kib")
			if (kv($0, "late_pct") != "-") late[n, p] = late[n, p] " " kv($0, "late_pct")
			reps[r] = 1
		}
		END {
			for (i = 1; i <= nn; i++) {
				n = ns[i]; line = n
				for (j = 1; j <= np[n]; j++) {
					p = order[n, j]; ratio = ""; rh = ""
					for (r in reps) {
						if (((n, "podprobe", r) in byrep) && ((n, p, r) in byrep) && byrep[n, p, r] > 0)
							ratio = ratio " " byrep[n, "podprobe", r] / byrep[n, p, r]
						if (((n, "haproxy", r) in byrep) && ((n, p, r) in byrep) && byrep[n, "haproxy", r] > 0)
							rh = rh " " byrep[n, p, r] / byrep[n, "haproxy", r]
					}
					printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, p,
						mmm(rate[n, p], "%.0f"), mmm(cpu[n, p], "%.4f"),
						p == "podprobe" ? "1" : mmm(ratio, "%.2f"),
						p == "haproxy" ? "1" : mmm(rh, "%.2f"),
						mmm(p50[n, p], "%.2f"), mmm(p99[n, p], "%.2f"), mmm(rss[n, p], "%.0f"),
						mmm(late[n, p], "%.2f")
				}
				# The plot data: one column per prober in one order, "-" where it did not run.
				if (i == 1) { h = "targets"; for (j = 1; j <= na; j++) h = h " " allp[j]; print h > DAT }
				for (j = 1; j <= na; j++) line = line " " (((n, allp[j]) in seen) ? med(cpu[n, allp[j]]) : "-")
				print line > DAT
			}
		}' K="$kind" DAT="$out/data/cpu-$kind.dat" "$raw"
		# podprobe-run: how long its N pods took to be all Ready (from its exec); raw SYN seen.
		awk "$REPORT_AWK_LIB"'$1 == "bench=run" && kv($0, "kind") == K && kv($0, "prober") ~ /^podprobe-run/ && kv($0, "ready_ms") ~ /^[0-9]+$/ {
			p = kv($0, "prober"); n = kv($0, "targets")
			if (!((n, p) in s)) o[++k] = n SUBSEP p
			s[n, p] = s[n, p] " " kv($0, "ready_ms") / 1000; raw[n, p] = raw[n, p] kv($0, "raw_syn") }
			END { if (!k) exit
				printf "\n`podprobe run`, its N pods all Ready (from its exec, read through the API), s:"
				for (i = 1; i <= k; i++) { split(o[i], a, SUBSEP)
					printf "%s %s at %s targets %s", (i > 1 ? ";" : ""), a[2], a[1], mmm(s[a[1], a[2]], "%.1f")
					if (K == "tcp")
						printf " (raw SYN socket held: %s)", raw[a[1], a[2]] ~ /^1+$/ ? "yes" : raw[a[1], a[2]] ~ /^0+$/ ? "no" : "in some runs" }
				print "." }' K="$kind" "$raw"
		if [ "$kind" = http ]; then
			awk "$REPORT_AWK_LIB"'$1 == "bench=run" && kv($0, "kind") == "http" && kv($0, "probes") != "" {
				n = kv($0, "targets"); if (!(n in s)) o[++k] = n; s[n] = s[n] " " kv($0, "fleet_cpu_s_per_1000") }
				END { printf "\nThe http fleet itself (accept, read, answer, close): "
				for (i = 1; i <= k; i++) printf "%s%s targets %s CPU-s per 1k requests", (i > 1 ? "; " : ""), o[i], mmm(s[o[i]], "%.4f")
				print "." }' "$raw"
		fi
	done
	if grep -q '^bench=sat ' "$raw"; then
		echo
		echo "## saturation: 5,000 targets at 50 ms (100k/s demand), each prober on one core"
		echo
		echo "| kind | prober | probes/s sustained | ÷ HAProxy's rate | CPU-s per 1k | late % (own count) |"
		echo "|---|---|---|---|---|---|"
		awk "$REPORT_AWK_LIB"'$1 == "bench=sat" && kv($0, "probes") != "" {
			k = kv($0, "kind"); p = kv($0, "prober"); r = kv($0, "rep")
			if (!((k, p) in s)) o[++n] = k SUBSEP p
			s[k, p] = 1; rate[k, p] = rate[k, p] " " kv($0, "rate"); cpu[k, p] = cpu[k, p] " " kv($0, "cpu_s_per_1000")
			if (kv($0, "late_pct") != "-") late[k, p] = late[k, p] " " kv($0, "late_pct")
			byrep[k, p, r] = kv($0, "rate"); reps[r] = 1 }
			END { for (i = 1; i <= n; i++) { split(o[i], a, SUBSEP); k = a[1]; p = a[2]; ratio = ""
				for (r in reps) if (((k, "haproxy", r) in byrep) && ((k, p, r) in byrep) && byrep[k, "haproxy", r] > 0)
					ratio = ratio " " byrep[k, p, r] / byrep[k, "haproxy", r]
				printf "| %s | %s | %s | %s | %s | %s |\n", k, p, mmm(rate[k, p], "%.0f"), mmm(ratio, "%.2f"),
					mmm(cpu[k, p], "%.4f"), mmm(late[k, p], "%.2f") } }' "$raw"
	fi
	if grep -q '^bench=detect ' "$raw"; then
		echo
		echo "## detection: fault (fleet control socket) -> the prober's first failure for that target"
		echo
		echo "Period 1 s, failureThreshold/fall 1; tcp fault: listener closed (connection refused);"
		echo "http fault: 500. podprobe: \`podprobe run\`, one pod per target (readiness), its JSON events."
		echo
		awk "$REPORT_AWK_LIB"'$1 == "bench=detect" && kv($0, "trials") + 0 < 200 { n++ }
			END { if (n) printf "%d prober(s) with fewer than 200 trials (the issue asks ≥ 200: FULL=1 or BENCH_TRIALS=250).\n\n", n }' "$raw"
		echo "| kind | prober | trials | missed | p50 ms | p99 ms | max ms |"
		echo "|---|---|---|---|---|---|---|"
		grep '^bench=detect ' "$raw" | while read -r line; do
			p=$(echo "$line" | field prober) k=$(echo "$line" | field kind)
			f=$out/data/det-$p-$k.txt
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$k" "$p" "$(echo "$line" | field trials)" \
				"$(echo "$line" | field missed)" "$(quantile 0.5 <"$f" | ms1)" \
				"$(quantile 0.99 <"$f" | ms1)" "$(quantile 1 <"$f" | ms1)"
		done
	fi
	if grep -q '^bench=pods ' "$raw"; then
		echo
		echo "## pods: init container + main + tcp readiness at 1 s, in one \`podprobe run\`"
		echo
		echo "api: the run starts empty and the pods are POSTed one by one over its API socket (one"
		echo "serial client), all Ready counted from the first POST; manifest: the same pods in one"
		echo "manifest file on the command line (in bulk, as kubelet gets them from its API watch), all"
		echo "Ready counted from the exec of \`podprobe run\` (its API up after the time in brackets)."
		echo "Ready is read through the API in both; the pods are deleted through the API. RSS per"
		echo "pod: (RSS − RSS before the first POST) ÷ pods for api, RSS ÷ pods (an upper bound) for"
		echo "manifest."
		echo
		if grep -q '^bench=pods .*all_ready_ms=' "$raw"; then
			echo "| pods | given as | runs | all Ready, s | CPU-s per 1k readiness probes | probes/s | RSS KiB (per pod) | all deleted, s |"
			echo "|---|---|---|---|---|---|---|---|"
			awk "$REPORT_AWK_LIB"'$1 == "bench=pods" && kv($0, "all_ready_ms") != "" {
				k = kv($0, "pods") SUBSEP kv($0, "mode"); if (!(k in n)) o[++no] = k; n[k]++
				if (kv($0, "ready") + 0 < kv($0, "pods") + 0) short[k] = short[k] " " kv($0, "ready")
				r[k] = r[k] " " kv($0, "all_ready_ms") / 1000
				if (kv($0, "api_ms") ~ /^[0-9]+$/) api[k] = api[k] " " kv($0, "api_ms") / 1000; c[k] = c[k] " " kv($0, "cpu_s_per_1000"); p[k] = p[k] " " kv($0, "rate")
				m[k] = m[k] " " kv($0, "rss_kib"); pp[k] = pp[k] " " kv($0, "rss_per_pod_kib"); d[k] = d[k] " " kv($0, "all_deleted_ms") / 1000 }
				END { for (i = 1; i <= no; i++) { k = o[i]; split(k, a, SUBSEP)
					printf "| %s | %s | %d | %s%s%s | %s | %s | %s (%s) | %s |\n", a[1], a[2] == "api" ? "API, POSTed one by one" : "one manifest file",
						n[k], mmm(r[k], "%.1f"), api[k] != "" ? " (API " mmm(api[k], "%.1f") ")" : "",
						short[k] != "" ? " (not all Ready:" short[k] ")" : "", mmm(c[k], "%.4f"),
						mmm(p[k], "%.0f"), mmm(m[k], "%.0f"), mmm(pp[k], "%.1f"), mmm(d[k], "%.1f") } }' "$raw"
		fi
		grep '^bench=pods .*\(skipped\|failed\)=' "$raw" | sed 's/^/- /'
	fi
	if grep -q '^bench=exec ' "$raw"; then
		echo
		echo "## exec: readiness exec \`true\` at 1 s, one \`podprobe run\`"
		echo
		echo "N pods = N exec probes/s. CPU per 1k exec probes = podprobe's threads (schedstat: the"
		echo "spawn, the wait, the result) + the exec'd processes (cgroup v2 cpu.stat usage_usec of"
		echo "podprobe's pod tree, where each exec runs in its container's cgroup: exec, \`true\`,"
		echo "exit; the containers' \`sleep\` adds ~0). Probes = podprobe_probes_started_total on"
		echo "/metrics. No peer: bench/kubelet-model has no exec prober (kubelet's exec goes through"
		echo "the CRI's ExecSync to a container runtime, which this machine does not run)."
		echo
		echo "| pods (exec/s) | runs | probes/s | podprobe CPU-s per 1k | exec'd processes CPU-s per 1k | total CPU-s per 1k | late % | RSS KiB | all Ready, s |"
		echo "|---|---|---|---|---|---|---|---|---|"
		awk "$REPORT_AWK_LIB"'$1 == "bench=exec" && kv($0, "probes") != "" {
			k = kv($0, "pods"); if (!(k in n)) o[++no] = k; n[k]++
			r[k] = r[k] " " kv($0, "rate"); a[k] = a[k] " " kv($0, "podprobe_cpu_s_per_1000")
			b[k] = b[k] " " kv($0, "children_cpu_s_per_1000"); t[k] = t[k] " " kv($0, "cpu_s_per_1000")
			l[k] = l[k] " " kv($0, "late_pct"); m[k] = m[k] " " kv($0, "rss_kib"); rd[k] = rd[k] " " kv($0, "all_ready_ms") / 1000 }
			END { for (i = 1; i <= no; i++) { k = o[i]
				printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", k, n[k], mmm(r[k], "%.0f"), mmm(a[k], "%.4f"),
					mmm(b[k], "%.4f"), mmm(t[k], "%.4f"), mmm(l[k], "%.2f"), mmm(m[k], "%.0f"), mmm(rd[k], "%.1f") } }' "$raw"
		grep '^bench=exec .*\(skipped\|failed\)=' "$raw" | sed 's/^/- /'
	fi
	echo
	echo "Raw key=value lines: \`$(basename "$out")/raw.txt\`."
	grep 'skipped=\|failed=' "$raw" | grep -v '^bench=pods\|^bench=exec' | sort -u | sed 's/^/- /'
	# A prober that reports failures against a healthy fleet, or whose probes the fleet never
	# saw, is broken: its row measures nothing.
	awk "$REPORT_AWK_LIB"'($1 == "bench=run" || $1 == "bench=sat") && kv($0, "probes") != "" {
		f = kv($0, "own_failures"); p = kv($0, "probes")
		if ((f != "" && f != "-" && f > 0) || p == 0)
			printf "- **WARNING** %s: %s %s, %s targets, rep %s: the fleet counted %s probes, the prober reports %s failures (a healthy fleet: overload timeouts, or a broken prober)\n",
				$1 == "bench=sat" ? "saturation" : "steady", kv($0, "prober"), kv($0, "kind"),
				kv($0, "targets"), kv($0, "rep"), p, f }
	# A raw SYN row whose probes went through connect() (no CAP_NET_RAW, or a fallback).
	($1 == "bench=run" || $1 == "bench=sat") && kv($0, "raw_syn") == "0" && kv($0, "prober") ~ /^podprobe(-syn|-run)?$/ {
		printf "- **WARNING** %s: %s %s, %s targets, rep %s: no raw SYN (its tcp probes used connect())\n",
			$1 == "bench=sat" ? "saturation" : "steady", kv($0, "prober"), kv($0, "kind"), kv($0, "targets"), kv($0, "rep") }' "$raw"
}
