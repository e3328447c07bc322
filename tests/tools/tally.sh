# shellcheck shell=bash
# tally LABEL RC TEXT [PREFIX]: add the last "PREFIX<N> passed, <M> failed" line of TEXT
# to the caller's $pass and $fail; a non-zero RC puts LABEL in $broken, and counts as one
# failure when TEXT reported none (a script that died before its summary).
# Sourced by the test runners (tests/integration/run.sh, tests/versions/run.sh, ...).
tally() {
	local label=$1 rc=$2 text=$3 prefix=${4-} line p f
	line=$(grep -E "^${prefix}[0-9]+ passed, [0-9]+ failed" <<<"$text" | tail -1)
	p=$(sed -n "s/^${prefix}\([0-9]*\) passed.*/\1/p" <<<"$line")
	f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ]; then
		broken+=("$label")
		[ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
	fi
}
