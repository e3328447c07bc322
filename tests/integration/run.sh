#!/usr/bin/env bash
# Run every integration test (tests/integration/test_*.sh, or those named in $TESTS),
# one after another, and print a closing "integration: N passed, N failed".
set -u
cd "$(dirname "$0")"
pass=0; fail=0; broken=()
for t in ${TESTS:-test_*.sh}; do
  [ -f "$t" ] || t="test_$t.sh"
  echo "== $t"
  start=$(date +%s)
  out=$(bash "$t" 2>&1); rc=$?
  echo "$out"
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    broken+=("$t")
    [ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
  fi
  echo "== $t: exit $rc in $(( $(date +%s) - start )) s"
done
[ ${#broken[@]} -eq 0 ] || echo "integration: failing: ${broken[*]}"
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
