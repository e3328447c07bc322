#!/usr/bin/env bash
# Values over 64 kB among short ones in a Parquet column (issue 13.1): a long value makes
# the writer leave the dictionary for PLAIN; every value before and after it must stay in
# its row, and a long value as a file's first value must not crash the agent. Then the
# writer's property test: random schemas of every SPEC §4 type, values from 0 B to 16 MB,
# nulls, row-group boundaries by rows and bytes, dictionary on and off, every codec,
# savepoint rollbacks; each file read back by DuckDB and by parquet-wasm (arrow-rs) and
# compared value by value (tests/tools/pq_proptest.c, tests/tools/pq-verify.mjs).
# PQ_SEEDS="1-500" runs more seeds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
psql_q "CREATE TABLE t1 (id int PRIMARY KEY, v text); CREATE TABLE t2 (id int PRIMARY KEY, v text);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s)
agent_start a "${args[@]}"
psql_q "BEGIN; INSERT INTO t1 VALUES (1,'short-a'),(2,'short-b'); INSERT INTO t1 VALUES (3, repeat('L',100000));
        INSERT INTO t1 VALUES (4,'short-d'); COMMIT"
psql_q "INSERT INTO t2 VALUES (1, repeat('M',100000))"
psql_q "INSERT INTO t2 VALUES (2, 'after')"
if wait_caught_up 30; then t_ok "the agent got past a long first value"; else t_fail "caught up" "slot did not catch up"; fi
kill -0 "$AGENT_PID" 2>/dev/null && t_ok "agent alive" || t_fail "agent alive" "$(tail -n 5 "$PG_TMP/a.log")"
agent_stop TERM
t_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
rd() {
	duck "SELECT id || ':' || CASE WHEN length(v) > 20 THEN left(v, 1) || length(v) ELSE v END
	      FROM read_parquet($(pq_glob "$P" "public.$1"), filename = true, file_row_number = true)
	      ORDER BY filename, file_row_number" | xargs
}
t_eq "t1: every value in its row" "1:short-a 2:short-b 3:L100000 4:short-d" "$(rd t1)"
t_eq "t2: long first value, then a short one" "1:M100000 2:after" "$(rd t2)"

# the writer's property test
seeds=${PQ_SEEDS:-1-60}
list=$(seq "${seeds%-*}" "${seeds#*-}")
D=$PG_TMP/prop
mkdir -p "$D"
gen_fail=0
for s in $list; do
	if ! "$PGCDC_SRC/${PGCDC_BUILD:-build}/tools/pq_proptest" "$D" "$s" >/dev/null 2>"$D/$s.err"; then
		gen_fail=$((gen_fail + 1))
		t_fail "property seed $s" "the writer failed: $(head -c 300 "$D/$s.err")"
	fi
done
# shellcheck disable=SC2086
if out=$(node "$PGCDC_SRC/tests/tools/pq-verify.mjs" "$D" $list 2>&1); then
	t_ok "property test: seeds $seeds read back equal by DuckDB and parquet-wasm ($(grep -c '^ok' <<<"$out") files)"
else
	grep -v '^ok' <<<"$out" | head -40
	t_fail "property test" "$(grep -c '^FAIL' <<<"$out") seed(s) differ (kept in $D with KEEP_TMP=1)"
fi
t_summary
