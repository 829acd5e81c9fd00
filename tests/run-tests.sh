#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run test programs, each under a timeout. Exit 77 = skipped (the test prints why),
# 124 = timed out (a failure). Last line: "N passed, N failed, N skipped".
set -u
TIMEOUT=${TEST_TIMEOUT:-300}
passed=0 failed=0 skipped=0
failed_names=()
for t in "$@"; do
	name=${t##*/}
	log=$(mktemp)
	start=$(date +%s%N)
	timeout -k 5 "$TIMEOUT" "$t" >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	# A cmocka program counts its own tests; others count as one.
	np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	ns=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
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
	*)
		failed=$((failed + 1)); failed_names+=("$name")
		printf '  FAIL  %-32s exit %d\n' "$name" "$rc"
		sed 's/^/        /' "$log" | tail -n 60
		;;
	esac
	rm -f "$log"
done
[ $failed -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
