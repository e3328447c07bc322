#!/usr/bin/env bash
# `make check`: unit tests, then integration tests against a real PostgreSQL (Debian's
# 15), then the version suite on every other major (tests/versions/run.sh, PG_VERSIONS
# narrows it; not in sanitizer builds: the matrix runs once); closes with one
# "check: N passed, N failed" line over all.
set -u
build=${PGCDC_BUILD:-build}
cd "$(dirname "$0")/../.."
unit_out=$(mktemp); int_out=$(mktemp); ver_out=$(mktemp)
trap 'rm -f "$unit_out" "$int_out" "$ver_out"' EXIT
tests/tools/run-unit.sh "$build"/tests/test_* 2>&1 | tee "$unit_out"
urc=${PIPESTATUS[0]}
hp=0; hf=0
case $build in
  *san*) echo "hotpath: sanitizer build, instruction counts not comparable: skipped" ;;
  *) if PGCDC_BUILD=$build tests/tools/hotpath-guard.sh; then hp=1; else hf=1; fi ;;
esac
PGCDC_BUILD=$build tests/integration/run.sh 2>&1 | tee "$int_out"
irc=${PIPESTATUS[0]}
vrc=0
case $build in
  *san*) echo "versions: sanitizer build: the version matrix runs in the plain build's make check"
         echo "versions: 0 passed, 0 failed" >"$ver_out" ;;
  *) PGCDC_BUILD=$build tests/versions/run.sh 2>&1 | tee "$ver_out"
     vrc=${PIPESTATUS[0]} ;;
esac
sum() { sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p" "$2" | tail -1; }
read -r up uf <<<"$(sum unit "$unit_out")"
read -r ip if_ <<<"$(sum integration "$int_out")"
read -r vp vf <<<"$(sum versions "$ver_out")"
up=${up:-0}; uf=${uf:-1}; ip=${ip:-0}; if_=${if_:-1}; vp=${vp:-0}; vf=${vf:-1}
echo "check: $((up + ip + vp + hp)) passed, $((uf + if_ + vf + hf)) failed"
[ "$urc" -eq 0 ] && [ "$irc" -eq 0 ] && [ "$vrc" -eq 0 ] && [ "$hf" -eq 0 ]
