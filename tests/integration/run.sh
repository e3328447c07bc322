#!/usr/bin/env bash
# Run every integration test (tests/integration/test_*.sh, or those named in $TESTS),
# one after another, and print a closing "integration: N passed, N failed".
set -u
cd "$(dirname "$0")"
. ../tools/tally.sh
pass=0; fail=0; broken=()
for t in ${TESTS:-test_*.sh}; do
  [ -f "$t" ] || t="test_$t.sh"
  echo "== $t"
  start=$(date +%s)
  out=$(bash "$t" 2>&1); rc=$?
  echo "$out"
  tally "$t" "$rc" "$out"
  echo "== $t: exit $rc in $(( $(date +%s) - start )) s"
done
[ ${#broken[@]} -eq 0 ] || echo "integration: failing: ${broken[*]}"
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
