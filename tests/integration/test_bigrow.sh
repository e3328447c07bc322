#!/usr/bin/env bash
# Rows of hundreds of MB, and a row over 1 GB (issue 5: "a 1 GB row → clear
# message, no hang").
#
# PostgreSQL builds each COPY row in one buffer of at most 1 GB, so the snapshot
# of a table holding a 1.1 GB row cannot succeed: pgcdc must stop with a message
# that names the table and says what to do, and must not hang.  Streamed, the same
# row arrives as an insert and an update of 600 MB and 500 MB, which pgcdc must
# deliver whole; a 400 MB row is snapshotted whole.  The values use letters that
# appear nowhere else in a record, so counting them checks every byte arrived.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start "max_wal_size = 4GB"
psql_q "CREATE TABLE huge (id int PRIMARY KEY, a text, b text);
        CREATE TABLE large (id int PRIMARY KEY, a text);
        CREATE PUBLICATION pgcdc FOR TABLE huge, large"
psql_q "SELECT pg_create_logical_replication_slot('pgcdc', 'pgoutput')" >/dev/null
stamp() { echo "# $(date +%T) $*"; }
stamp writing
MB=1048576
# one statement cannot form a 1.1 GB tuple ("tuple is too big"): fill it in two
psql_q "INSERT INTO huge VALUES (1, repeat('Q', 600 * $MB), NULL)"
psql_q "UPDATE huge SET b = repeat('W', 500 * $MB)"
psql_q "INSERT INTO large VALUES (1, repeat('K', 400 * $MB))"
end=$(psql_q "SELECT pg_current_wal_lsn()")
t_eq "the huge row is over 1 GB" t \
	"$(psql_q "SELECT octet_length(a) + octet_length(b) > 1024 * $MB FROM huge")"

count() { LC_ALL=C tr -cd "$1" <"$2" | wc -c; }
mapfile -t base < <(agent_args)

# --- streaming: every value arrives whole
stamp streaming
rc=0
timeout 600 "$PGCDC_BIN" "${base[@]}" run --endpos "$end" >"$PG_TMP/stream.out" 2>"$PG_TMP/stream.err" || rc=$?
t_eq "stream: exits 0 at --endpos" 0 "$rc"
stamp streamed
t_eq "stream: three records" 3 "$(wc -l <"$PG_TMP/stream.out")"
t_eq "stream: 600 MB of Q (the insert)" $((600 * MB)) "$(count Q "$PG_TMP/stream.out")"
t_eq "stream: 500 MB of W (the update)" $((500 * MB)) "$(count W "$PG_TMP/stream.out")"
t_eq "stream: 400 MB of K" $((400 * MB)) "$(count K "$PG_TMP/stream.out")"
t_eq "stream: the update leaves the unchanged 600 MB value out" 1 \
	"$(grep -c -F '"after":{"id":1,"a":"__debezium_unavailable_value","b":"WWWW' "$PG_TMP/stream.out" || true)"
t_eq "stream: records end whole" '"transaction":null}' \
	"$(tail -c 20 "$PG_TMP/stream.out" | tr -d '\n')"
rm -f "$PG_TMP/stream.out"

# --- snapshot of the 1.1 GB row: a clear error, no hang
stamp snapshot of the 1.1 GB row
rc=0
timeout 300 "$PGCDC_BIN" "${base[@]}" snapshot --table public.huge >"$PG_TMP/huge.out" 2>"$PG_TMP/huge.err" || rc=$?
if ((rc == 124)); then
	t_fail "snapshot of a 1.1 GB row: no hang" "still running after 300 s"
else
	t_ok "snapshot of a 1.1 GB row: no hang (exit $rc)"
fi
t_eq "snapshot of a 1.1 GB row: exits 1" 1 "$rc"
msg=$(grep 'ERROR' "$PG_TMP/huge.err" | head -1 || true)
echo "# $msg"
if [[ $msg == *"COPY of public.huge failed: out of memory"*"a row of public.huge is larger than PostgreSQL can send in one piece (1 GB)"*"column list"* ]]; then
	t_ok "snapshot of a 1.1 GB row: the message names the table, the cause and the remedy"
else
	t_fail "snapshot of a 1.1 GB row: message" "got: $msg"
fi
t_eq "snapshot of a 1.1 GB row: no record written" 0 "$(wc -c <"$PG_TMP/huge.out")"

# --- snapshot of a 400 MB row: whole
stamp snapshot of the 400 MB row
rc=0
timeout 300 "$PGCDC_BIN" "${base[@]}" snapshot --table public.large >"$PG_TMP/large.out" 2>"$PG_TMP/large.err" || rc=$?
t_eq "snapshot of a 400 MB row: exits 0" 0 "$rc"
t_eq "snapshot of a 400 MB row: one record" 1 "$(wc -l <"$PG_TMP/large.out")"
t_eq "snapshot of a 400 MB row: 400 MB of K" $((400 * MB)) "$(count K "$PG_TMP/large.out")"
t_eq "snapshot of a 400 MB row: a snapshot record" '{"before":null,"after":{"id":1,"a":"KKKK' \
	"$(head -c 40 "$PG_TMP/large.out")"
t_eq "snapshot of a 400 MB row: op r, last" 1 \
	"$(tail -c 600 "$PG_TMP/large.out" | grep -c '"snapshot":"last".*"op":"r"')"
stamp done
t_summary
