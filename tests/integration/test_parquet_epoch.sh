#!/usr/bin/env bash
# The server's LSNs go backwards under a Parquet directory (issue 13.4): a database
# rebuilt or restored (lower LSNs) with the same directory, or a stray file named with a
# high LSN. SPEC §5: a sink position ahead of the server's WAL end is a gap (exit 1,
# naming both); after --accept-gap the sink starts a new epoch, so nothing the new
# server sends is skipped as a replay, and exactly-once holds again from there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/pgcdc-epoch.XXXXXX")
at_exit "rm -rf '$W'"
P=$W/pq
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s --set "source.state_dir=$W/state")
run_fg() {   # run_fg ARGS: the agent in the foreground until TERM after 6 s (or its exit)
	local -a base
	mapfile -t base < <(agent_args)
	set +e
	timeout --preserve-status -s TERM 8 "$PGCDC_BIN" "${base[@]}" "${args[@]}" "$@" >/dev/null 2>"$W/fg.log"
	RC=$?
	set -e
}
count() { duck "SELECT count(*) FROM read_parquet($(pq_glob "$P" public.t)) WHERE $1"; }

# the first database: its LSNs grow well past where a new cluster starts
pg_start
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start a "${args[@]}"
for i in 1 2 3 4; do psql_q "SELECT pg_switch_wal(); INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series($((i * 1000)), $((i * 1000 + 999))) g" >/dev/null; done
wait_caught_up 60 || t_fail "caught up" "first database"
agent_stop TERM
high=$(psql_q "SELECT pg_current_wal_lsn()")
t_eq "first database: 4000 rows in Parquet" 4000 "$(count "_pgcdc_op = 'c'")"

# the database rebuilt: a new cluster, lower LSNs, the same Parquet directory and state
pg_destroy
pg_start
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES;
        INSERT INTO t SELECT g, 'new' FROM generate_series(1, 50) g"
t_eq "the new server's WAL ends below what Parquet holds" t "$(psql_q "SELECT pg_current_wal_lsn() < '$high'::pg_lsn")"
rm -rf "$W/state"   # a rebuilt host: the slot and its state are gone too
run_fg --set source.snapshot=always
t_eq "sink ahead of the server: exit 1" 1 "$RC"
grep -q "sink parquet holds changes up to .* beyond the end of the server's WAL" "$W/fg.log" &&
	t_ok "the gap names the sink and both positions" || t_fail "gap message" "$(grep ERROR "$W/fg.log")"
grep -q -- "--accept-gap" "$W/fg.log" && t_ok "the message says how to recover" || t_fail "recovery hint" "$(grep ERROR "$W/fg.log")"

agent_start b "${args[@]}" --set source.snapshot=always --accept-gap
psql_q "INSERT INTO t SELECT g, 'after' FROM generate_series(100001, 100500) g"
wait_caught_up 60 || t_fail "caught up" "after --accept-gap"
agent_stop TERM
t_eq "--accept-gap: exit 0" 0 "$AGENT_RC"
grep -q "epoch 1 starts" "$PG_TMP/b.log" && t_ok "a new epoch is logged" || t_fail "epoch logged" "$(grep -i epoch "$PG_TMP/b.log")"
t_eq "the snapshot landed" 50 "$(count "_pgcdc_op = 'r'")"
t_eq "every change after the gap reached Parquet (500)" 500 "$(count "_pgcdc_op = 'c' AND id > 100000")"
t_eq "new files carry the epoch" 0 "$(find "$P/public.t" -name '*.parquet' -newer "$W/fg.log" ! -name '*-e1.parquet' ! -name '*snapshot*' | wc -l)"

# restart: exactly once again within the epoch
agent_start c "${args[@]}"
psql_q "INSERT INTO t SELECT g, 'later' FROM generate_series(200001, 200100) g"
wait_caught_up 60 || t_fail "caught up" "restart"
agent_stop TERM
t_eq "restart in the epoch: 100 new rows, nothing twice" "600 600" \
	"$(duck "SELECT count(*), count(DISTINCT id) FROM read_parquet($(pq_glob "$P" public.t)) WHERE _pgcdc_op = 'c' AND id > 100000" | tr '|' ' ')"

# a stray file named with a high LSN
f=$(find "$P/public.t" -name '*-e1.parquet' | head -1)
cp "$f" "$(dirname "$f")/00000000FFFFFF00-00000000FFFFFF00-e1.parquet"
run_fg
t_eq "stray high file: exit 1" 1 "$RC"
grep -q "sink parquet holds changes up to 0/FFFFFF00" "$W/fg.log" && t_ok "stray file: the gap names its position" ||
	t_fail "stray message" "$(grep ERROR "$W/fg.log")"
t_summary
