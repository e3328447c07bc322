#!/usr/bin/env bash
# Run each cmocka unit-test binary; print a closing "N passed, N failed" line.
# Under VALGRIND=1 each runs under valgrind with leak checking.
set -u
pass=0; fail=0
for t in "$@"; do
  if [ "${VALGRIND:-0}" = 1 ]; then
    runner=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
  else
    runner=()
  fi
  out=$(cd "$(dirname "$0")/../.." && "${runner[@]}" "$t" 2>&1); rc=$?
  echo "$out"
  p=$(echo "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(echo "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0}))
  if [ $rc -ne 0 ]; then
    fail=$((fail + ${f:-1}))
    echo "unit: $(basename "$t") FAILED (exit $rc)"
  fi
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
