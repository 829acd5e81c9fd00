#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run each libFuzzer target named on the command line (fuzz_<name> in $FUZZ_O) for
# $FUZZ_SECONDS seconds: the seeds of tests/fuzz/corpus/<name>/ first, then new inputs, which
# go to $FUZZ_O/corpus/<name>/ (the seeds stay untouched). Any crash, sanitizer report, leak,
# timeout (> 10 s for one input) or out-of-memory fails the target; the input is kept as
# $FUZZ_O/artifacts/<name>/crash-* (or leak-*, timeout-*, oom-*): replay it with
# `$FUZZ_O/fuzz_<name> FILE`. Extra libFuzzer flags, one per line: tests/fuzz/fuzz_<name>.options.
# Prints one line per target (execs, execs/s, corpus growth), then "fuzz: N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
FUZZ_O=${FUZZ_O:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:report_error_type=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
passed=0 failed=0
failed_names=()

# The value of libFuzzer's final "stat::<key>: N" line in <log>.
stat()
{
	sed -n "s/^stat::$2: *\([0-9]*\).*/\1/p" "$1" | tail -n1
}

for name in "$@"; do
	bin=$FUZZ_O/fuzz_$name
	work=$FUZZ_O/corpus/$name
	art=$FUZZ_O/artifacts/$name
	log=$FUZZ_O/fuzz_$name.log
	seeds=tests/fuzz/corpus/$name
	opts=()
	mkdir -p "$work" "$art"
	if [ -f "tests/fuzz/fuzz_$name.options" ]; then
		while read -r o; do
			case $o in '' | '#'*) ;; *) opts+=("$o") ;; esac
		done <"tests/fuzz/fuzz_$name.options"
	fi
	[ -d "$seeds" ] || { echo "  WARN  $name has no seed corpus ($seeds)"; seeds=; }
	n_seeds=$( [ -n "$seeds" ] && find "$seeds" -type f | wc -l || echo 0)
	# -timeout: one input running longer is a hang, reported like a crash.
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "${opts[@]}" "$work" ${seeds:+"$seeds"} \
		>"$log" 2>&1
	rc=$?
	execs=$(stat "$log" number_of_executed_units)
	rate=$(stat "$log" average_exec_per_sec)
	added=$(stat "$log" new_units_added)
	rss=$(stat "$log" peak_rss_mb)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	info=$(printf '%ss, %s execs, %s/s, cov %s, %s seeds + %s new inputs, peak RSS %s MB' \
		"$FUZZ_SECONDS" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$n_seeds" "${added:-?}" \
		"${rss:-?}")
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf '  PASS  fuzz_%-24s %s\n' "$name" "$info"
	else
		failed=$((failed + 1)); failed_names+=("$name")
		printf '  FAIL  fuzz_%-24s exit %d after %s\n' "$name" "$rc" "$info"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
			"$log" | sed 's/^/        /' | head -n 20
		grep -E '^    #[0-9]+ ' "$log" | sed 's/^/        /' | head -n 25
		echo "        full log: $log"
	fi
done
[ $failed -eq 0 ] || echo "fuzz failed: ${failed_names[*]}"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
