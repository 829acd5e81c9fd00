#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run test programs, each under a timeout. Exit 77 = skipped (the test prints why),
# 124 = timed out (a failure). Last line: "N passed, N failed, N skipped".
#
# SANITIZE=1 (make test SANITIZE=1): every sanitizer report of a test program and of anything
# it starts with its environment (podprobe, the test servers) goes to
# $O/sanitizer-logs/<dir>-<test>.<pid> (<dir>: unit or integ), kept after the run whatever
# the outcome; a test that left a report fails, even when its own exit status was 0 (a report
# from a child is not the test's exit status). ASAN_OPTIONS and UBSAN_OPTIONS from the
# environment are appended, so they override these defaults; LSAN_OPTIONS is passed as is.
set -u
TIMEOUT=${TEST_TIMEOUT:-300}
SANITIZE=${SANITIZE:-0}
passed=0 failed=0 skipped=0
failed_names=()
san_dir=
if [ "$SANITIZE" = 1 ]; then
	san_dir=$(realpath -m "${O:-build}/sanitizer-logs")
	mkdir -p "$san_dir" || exit 1
	# LeakSanitizer runs at the exit of every sanitized program (a leak makes the exit code 1).
	asan_base="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1"
	asan_base+=":abort_on_error=0:handle_abort=1"
	ubsan_base="print_stacktrace=1:halt_on_error=1:report_error_type=1"
	user_asan=${ASAN_OPTIONS:-} user_ubsan=${UBSAN_OPTIONS:-}
fi

# Print the reports of log key <key> (one line naming them, then the start of each); 1 if any.
san_reports()
{
	local key=$1 f found=0

	[ -n "$san_dir" ] || return 0
	for f in "$san_dir/$key".*; do
		[ -s "$f" ] || continue
		if [ $found -eq 0 ]; then
			printf '  SAN   %-32s sanitizer reports: %s\n' "${key#*-}" \
				"$(cd "$san_dir" && ls "$key".* | tr '\n' ' ')"
		fi
		found=1
		sed 's/^/        /' "$f" | head -n 40
	done
	return $found
}

for t in "$@"; do
	name=${t##*/}
	# Log names carry the directory: tests/unit and tests/integ may share a program name.
	dir=${t%/*}
	key=${dir##*/}-$name
	log=$(mktemp)
	if [ -n "$san_dir" ]; then
		rm -f "$san_dir/$key".*
		export ASAN_OPTIONS="$asan_base:log_path=$san_dir/$key${user_asan:+:$user_asan}"
		export UBSAN_OPTIONS="$ubsan_base:log_path=$san_dir/$key${user_ubsan:+:$user_ubsan}"
	fi
	start=$(date +%s%N)
	timeout -k 5 "$TIMEOUT" "$t" >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	# A cmocka program counts its own tests; others count as one.
	np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	ns=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	test_rc=$rc
	reports=$(san_reports "$key") || { [ $rc -eq 124 ] || rc=san; }
	case $rc in
	0)
		passed=$((passed + ${np:-1}))
		skipped=$((skipped + ${ns:-0}))
		printf '  PASS  %-32s %6ss  %s\n' "$name" "$secs" \
			"${np:+$np tests}${ns:+, $ns skipped: $(grep -m1 '^skip:' "$log" | cut -c7-80)}"
		;;
	77)
		skipped=$((skipped + 1))
		printf '  SKIP  %-32s %s\n' "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-100)"
		;;
	124)
		failed=$((failed + 1)); failed_names+=("$name")
		printf '  FAIL  %-32s timed out after %ss\n' "$name" "$TIMEOUT"
		sed 's/^/        /' "$log" | tail -n 40
		;;
	san)
		failed=$((failed + 1)); failed_names+=("$name")
		printf '  FAIL  %-32s %6ss  exit %d and sanitizer reports (kept in %s)\n' "$name" \
			"$secs" "$test_rc" "$san_dir"
		sed 's/^/        /' "$log" | tail -n 30
		;;
	*)
		failed=$((failed + 1)); failed_names+=("$name")
		printf '  FAIL  %-32s exit %d\n' "$name" "$rc"
		sed 's/^/        /' "$log" | tail -n 60
		;;
	esac
	[ -z "$reports" ] || echo "$reports"
	rm -f "$log"
done
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
