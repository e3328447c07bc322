#!/usr/bin/env bash
# `make check`: unit tests, then integration tests against a real PostgreSQL;
# closes with one "check: N passed, N failed" line over both.
set -u
build=${PGCDC_BUILD:-build}
cd "$(dirname "$0")/../.."
unit_out=$(mktemp); int_out=$(mktemp)
trap 'rm -f "$unit_out" "$int_out"' EXIT
tests/tools/run-unit.sh "$build"/tests/test_* 2>&1 | tee "$unit_out"
urc=${PIPESTATUS[0]}
hp=0; hf=0
case $build in
  *san*) echo "hotpath: sanitizer build, instruction counts not comparable: skipped" ;;
  *) if PGCDC_BUILD=$build tests/tools/hotpath-guard.sh; then hp=1; else hf=1; fi ;;
esac
PGCDC_BUILD=$build tests/integration/run.sh 2>&1 | tee "$int_out"
irc=${PIPESTATUS[0]}
sum() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p" "$2" | tail -1; }
read -r up uf <<<"$(sum unit "$unit_out")"
read -r ip if_ <<<"$(sum integration "$int_out")"
up=${up:-0}; uf=${uf:-1}; ip=${ip:-0}; if_=${if_:-1}
echo "check: $((up + ip + hp)) passed, $((uf + if_ + hf)) failed"
[ "$urc" -eq 0 ] && [ "$irc" -eq 0 ] && [ "$hf" -eq 0 ]
