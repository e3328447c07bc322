#!/usr/bin/env bash
# Callgrind regression guard for the per-row hot path (decode + encode): the
# instruction count per row of tests/tools/hotpath must stay within 25% of the
# committed baseline (bench/hotpath.baseline).  Instruction counts do not depend on
# machine load.  UPDATE=1 rewrites the baseline (after an intended change).
set -u
cd "$(dirname "$0")/../.."
bin=${PGCDC_BUILD:-build}/tools/hotpath
base=bench/hotpath.baseline
rows=5000   # x2 changes
out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$rows" 2>&1) || { echo "$out"; echo "hotpath: 0 passed, 1 failed"; exit 1; }
total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out")
per=$((total / (2 * rows)))
if [ "${UPDATE:-0}" = 1 ] || [ ! -f "$base" ]; then
  echo "$per" >"$base"; echo "hotpath: baseline set to $per instructions per row"
fi
want=$(cat "$base")
limit=$((want * 125 / 100))
echo "hotpath: $per instructions per row (baseline $want, limit $limit)"
if [ "$per" -le "$limit" ]; then echo "hotpath: 1 passed, 0 failed"; else echo "hotpath: 0 passed, 1 failed"; exit 1; fi
