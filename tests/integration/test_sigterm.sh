#!/usr/bin/env bash
# The agent stopped (SIGTERM, and kill -9) in the middle of a write load and started
# again: no change is lost; a clean stop delivers nothing twice.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
load() {   # 300 transactions of 50 rows, with a few updates and deletes
	local b
	for ((b = 0; b < 300; b++)); do
		psql_q "BEGIN; INSERT INTO k SELECT g, 'v' FROM generate_series($((b * 50 + 1)), $((b * 50 + 50))) g;
		        UPDATE k SET v = 'u' WHERE id = $((b * 50 + 1)); DELETE FROM k WHERE id = $((b * 50 + 2)); COMMIT"
	done
}
agent_start a   # creates the slot: the load must come after it (snapshot = never)
load &
loader=$!
for sig in TERM TERM KILL TERM; do
	sleep 1.5
	agent_stop $sig
	[[ $sig == TERM ]] && t_eq "SIGTERM: agent exits 0" 0 "$AGENT_RC"
	agent_start a
done
wait $loader
wait_caught_up 120 || t_fail "caught up" "slot did not catch up"
agent_stop TERM

O=$PG_TMP/a.out
t_eq "the output is whole JSON lines" "$(wc -l <"$O")" "$(jq -c . "$O" | wc -l)"
# replay the output: the final state must equal the table's
jq -r 'if .op == "d" then "d \(.before.id)" else "\(.op) \(.after.id) \(.after.v)" end' "$O" |
	awk '$1=="d" {delete s[$2]; next} {s[$2]=$3} END {for (k in s) print k, s[k]}' | sort -n >"$PG_TMP/replayed"
psql_q "SELECT id || ' ' || v FROM k ORDER BY id" >"$PG_TMP/want"
t_eq "replaying the output gives the table ($(wc -l <"$PG_TMP/want") rows)" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/replayed" | head -5)"
t_eq "every insert delivered" 15000 "$(jq -r 'select(.op=="c") | .after.id' "$O" | sort -u | wc -l)"
t_eq "every delete delivered" 300 "$(jq -r 'select(.op=="d") | .before.id' "$O" | sort -u | wc -l)"
total=$(jq -r 'select(.op=="c") | .after.id' "$O" | wc -l)
echo "inserts delivered: $total records for 15000 rows (duplicates after kill -9 only)"
t_summary
