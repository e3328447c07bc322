#!/usr/bin/env bash
# The randomized differential test against PostgreSQL's own decoder (tests/diff/), as
# `make check` runs it: DIFF_SEEDS (default 1-12) on PostgreSQL 15, protocols 1 and 2
# alternating, every seed with its lifecycle faults, and the mutation self-test.  The
# long run is `make check-diff SEEDS=1-500 [PG_VERSIONS=...]`; the other majors run one
# seed each in the version suite.
set -u
cd "$(dirname "$0")"
out=$(SEEDS=${DIFF_SEEDS:-1-12} PG_VERSIONS=15 MUTATE=1 bash ../diff/run.sh 2>&1)
rc=$?
echo "$out"
line=$(grep -E '^diff: [0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
p=$(sed -n 's/^diff: \([0-9]*\) passed.*/\1/p' <<<"$line")
f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")
echo "${p:-0} passed, $(( ${f:-0} + (rc != 0 && ${f:-0} == 0 ? 1 : 0) )) failed"
exit $rc
