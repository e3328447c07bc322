#!/usr/bin/env bash
# Initial snapshot with the exported method (snapshot_method = exported; the online
# one, the default, is test_backfill's): 300k existing rows copied while inserts, updates
# and deletes go on; replaying the output (snapshot rows, then the stream) gives exactly the
# table's final state, with no change missed or doubled at the seam.  Then a kill -9
# in the middle of a snapshot, and the one-off `pgcdc snapshot` command.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
psql_q "CREATE TABLE a (id int PRIMARY KEY, v text, n int);
        CREATE TABLE b (id int PRIMARY KEY, v text);
        CREATE TABLE empty (id int PRIMARY KEY);
        CREATE TABLE filtered (id int PRIMARY KEY, secret text, v text);
        CREATE TABLE skipped (id int PRIMARY KEY);
        INSERT INTO a SELECT g, 'a' || g, 0 FROM generate_series(1, 300000) g;
        INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 20000) g;
        INSERT INTO filtered SELECT g, 's', 'f' || g FROM generate_series(1, 100) g;
        INSERT INTO skipped VALUES (1);
        CREATE PUBLICATION pgcdc FOR TABLE a, b, empty, filtered (id, v) WHERE (id <= 10)"

# replay NAME: the final state the output describes, as "table id v" lines; a new
# snapshot (its first row) starts the state over, as a consumer would do
replay() {
	jq -r '[.op, .source.table, .source.snapshot, ((.after // .before).id|tostring),
	        ((.after.v // "") | tostring)] | @tsv' "$PG_TMP/$1.out" |
	awk -F'\t' '
		$1=="r" && !insnap { for (k in s) delete s[k]; insnap=1 }
		$1!="r" { insnap=0 }
		$1=="d" { delete s[$2" "$4]; next }
		{ s[$2" "$4]=$5 }
		END { for (k in s) print k, s[k] }' | sort
}
source_state() {
	psql_q "SELECT 'a ' || id || ' ' || v FROM a UNION ALL SELECT 'b ' || id || ' ' || v FROM b
	        UNION ALL SELECT 'filtered ' || id || ' ' || v FROM filtered WHERE id <= 10" | sort
}

writer() {   # writer BASE: concurrent changes while the snapshot runs
	local i
	for ((i = 0; i < 60; i++)); do
		psql_q "BEGIN; INSERT INTO a VALUES ($(($1 + i)), 'new', 0);
		        UPDATE a SET v = 'upd$i' WHERE id = $((i * 4000 + 7));
		        DELETE FROM a WHERE id = $((i * 4000 + 9)); UPDATE b SET v = 'bu$i' WHERE id = $((i + 1)); COMMIT"
		sleep 0.05
	done
}
kafka_start 3
# the mock keeps 5 MB per partition: spread the 300k-row topic, and compress
kafka_cmd topic snap.public.a 24 >/dev/null
mapfile -t KA < <(kafka_args snap)
# all three sinks at once: stdout, Kafka, Parquet
KA=("${KA[@]/sink.stdout.enabled=off/sink.stdout.enabled=on}" --set sink.kafka.kafka.compression.type=lz4)
P=$PG_TMP/pq
writer 400000 &
wpid=$!
agent_start s --set source.snapshot=initial --set source.snapshot_method=exported --set source.snapshot_workers=2 "${KA[@]}" \
	--set "sink.parquet.directory=$P" --set sink.parquet.rotate_interval=1s
wait $wpid
wait_caught_up 120 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"
O=$PG_TMP/s.out
t_eq "snapshot rows: all of a and b, filtered rows only" $((300000 + 20000 + 10)) \
	"$(grep -c '"op":"r"' "$O" || true)"
t_eq "publication column list respected (no secret column)" 0 "$(grep -c '"secret"' "$O" || true)"
t_eq "table outside the publication not copied" 0 "$(grep -c '"table":"skipped"' "$O" || true)"
t_eq "exactly one row marked last" 1 "$(grep -c '"snapshot":"last"' "$O" || true)"
t_eq "the last-marked row is the last snapshot row" "$(grep '"op":"r"' "$O" | tail -1 | jq -r .source.snapshot)" last
t_eq "snapshot rows come before streamed changes" "" \
	"$(jq -r '.op' "$O" | awk '$1!="r"{s=1} $1=="r"&&s{print "r after stream"; exit}')"
t_eq "snapshot rows map values like streamed ones" '{"id":1,"v":"a1","n":0}' \
	"$(grep '"op":"r"' "$O" | grep '"table":"a"' | jq -c 'select(.after.id==1) | .after')"
replay s >"$PG_TMP/replayed"
source_state >"$PG_TMP/want"
t_eq "replaying snapshot + stream gives the source's final state ($(wc -l <"$PG_TMP/want") rows)" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/replayed" | head -5)"
# Kafka: every topic's records, replayed in LSN order (snapshot rows share the slot's
# consistent point, which precedes every streamed change)
for t in a b filtered; do kafka_records "snap.public.$t"; done >"$PG_TMP/kafka.json"
jq -r '[.source.lsn, .op, .source.table, ((.after // .before).id|tostring), ((.after.v // "")|tostring)] | @tsv' \
	"$PG_TMP/kafka.json" | sort -n -s -k1,1 |
	awk -F'\t' '$2=="d" {delete s[$3" "$4]; next} {s[$3" "$4]=$5} END {for (k in s) print k, s[k]}' | sort >"$PG_TMP/kafka-state"
t_eq "Kafka (kcat): replaying snapshot + stream gives the source's final state" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/kafka-state" | head -5)"
t_eq "Kafka: every partition still starts at offset 0 (nothing evicted by the mock)" 0 \
	"$(kafka_json snap.public.a | jq -r '[.partition, .offset] | @tsv' | sort -k1,1n -k2,2n | awk '!seen[$1]++ && $2 != 0' | wc -l)"
t_eq "Kafka: snapshot rows in the topics" $((300000 + 20000 + 10)) "$(jq -r 'select(.op=="r") | 1' "$PG_TMP/kafka.json" | wc -l)"
# Parquet (DuckDB): the last row of every key, by LSN
duck "SELECT tbl || ' ' || id || ' ' || coalesce(v, '') FROM (
        SELECT *, row_number() OVER (PARTITION BY tbl, id ORDER BY _pgcdc_lsn DESC, _pgcdc_op = 'c') AS rn FROM (
          SELECT 'a' AS tbl, id, v, _pgcdc_lsn, _pgcdc_op FROM read_parquet($(pq_glob "$P" public.a))
          UNION ALL SELECT 'b', id, v, _pgcdc_lsn, _pgcdc_op FROM read_parquet($(pq_glob "$P" public.b))
          UNION ALL SELECT 'filtered', id, v, _pgcdc_lsn, _pgcdc_op FROM read_parquet($(pq_glob "$P" public.filtered))))
      WHERE rn = 1 AND _pgcdc_op <> 'd'" | sort >"$PG_TMP/pq-state"
t_eq "Parquet (DuckDB): replaying snapshot + stream gives the source's final state" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/pq-state" | head -5)"
t_eq "Parquet: no row twice" 0 "$(duck "SELECT count(*) - count(DISTINCT (_pgcdc_lsn, _pgcdc_op, id)) FROM read_parquet($(pq_glob "$P" public.a))")"
t_eq "snapshot state file removed when done" 0 "$(ls "$PG_TMP/state"/*.snapshot 2>/dev/null | wc -l)"

# kill -9 in the middle of a snapshot: the next start drops the half-used slot and redoes it
psql_q "SELECT pg_drop_replication_slot('pgcdc')" >/dev/null
rm -rf "$PG_TMP/state"
# its stdout is a pipe nobody reads yet, so the snapshot stalls part-way through
mkfifo "$PG_TMP/stall"
mapfile -t base < <(agent_args)
"$PGCDC_BIN" "${base[@]}" --set source.snapshot=initial --set source.snapshot_method=exported --set source.snapshot_workers=1 \
	>"$PG_TMP/stall" 2>>"$PG_TMP/k.log" &
kpid=$!
exec 7<"$PG_TMP/stall"          # open the read end, read nothing: the pipe fills
head -c 100000 <&7 >"$PG_TMP/k.part"   # some rows get out
sed '$d' "$PG_TMP/k.part" >>"$PG_TMP/k.out"   # whole lines only (the last one was cut here)
sleep 1
t_eq "killed mid-snapshot: the snapshot marker is there" 1 "$(ls "$PG_TMP/state"/*.snapshot 2>/dev/null | wc -l)"
kill -9 "$kpid"; wait "$kpid" 2>/dev/null || true
exec 7<&-
t_eq "killed mid-snapshot: it had not finished" 0 "$(grep -c '"snapshot":"last"' "$PG_TMP/k.out" || true)"
writer 500000 &
wpid=$!
agent_start k --set source.snapshot=initial --set source.snapshot_method=exported
wait $wpid
wait_caught_up 120 || t_fail "caught up after redo" "slot did not catch up"
agent_stop TERM
grep -q "previous snapshot was interrupted" "$PG_TMP/k.log" && t_ok "redo announced in the log" \
	|| t_fail "redo log" "$(tail -3 "$PG_TMP/k.log")"
replay k >"$PG_TMP/replayed"
source_state >"$PG_TMP/want"
t_eq "after kill -9 and redo: replay equals the source ($(wc -l <"$PG_TMP/want") rows)" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/replayed" | head -5)"

# a table dropped while the snapshot runs: skipped with a warning, the rest delivered.
# One worker copies the largest table first; its stdout is a pipe read only after the
# drop, so the copy of "dropme" has not started when it goes.
psql_q "CREATE TABLE dropme (id int PRIMARY KEY); INSERT INTO dropme VALUES (1), (2)"
psql_q "ALTER PUBLICATION pgcdc ADD TABLE dropme"
mkfifo "$PG_TMP/stall2"
mapfile -t base < <(agent_args)
"$PGCDC_BIN" "${base[@]}" --set source.slot=dropper --set source.snapshot_workers=1 snapshot \
	>"$PG_TMP/stall2" 2>"$PG_TMP/drop.log" &
dpid=$!
exec 8<"$PG_TMP/stall2"
head -c 65536 <&8 >/dev/null   # copying has begun (table a, the largest)
psql_q "DROP TABLE dropme"
cat <&8 >"$PG_TMP/drop.out"
exec 8<&-
set +e; wait "$dpid"; rc=$?; set -e
t_eq "table dropped during a snapshot: the snapshot still succeeds" 0 "$rc"
grep -q "table public.dropme was dropped during the snapshot; skipped" "$PG_TMP/drop.log" \
	&& t_ok "table dropped during a snapshot: named in a warning" || t_fail "dropped table warning" "$(tail -3 "$PG_TMP/drop.log")"
t_eq "table dropped during a snapshot: the others are complete (b)" 20000 \
	"$(grep -c '"table":"b"' "$PG_TMP/drop.out" || true)"

# one-off backfill: twice, identical rows; no slot created
run_oneoff() {
	local -a base
	mapfile -t base < <(agent_args)
	"$PGCDC_BIN" "${base[@]}" --set source.slot=none "$@" >"$PG_TMP/one.out" 2>"$PG_TMP/one.log"
}
run_oneoff snapshot --table public.b && t_ok "pgcdc snapshot exits 0" || t_fail "oneoff" "$(tail -3 "$PG_TMP/one.log")"
jq -c '.after' "$PG_TMP/one.out" | sort >"$PG_TMP/one1"
run_oneoff snapshot --table public.b
jq -c '.after' "$PG_TMP/one.out" | sort >"$PG_TMP/one2"
t_eq "one-off snapshot: all rows of the table" 20000 "$(wc -l <"$PG_TMP/one1")"
t_eq "one-off snapshot twice: identical row sets" "$(md5sum <"$PG_TMP/one1")" "$(md5sum <"$PG_TMP/one2")"
t_eq "one-off snapshot: only the named table" 0 "$(grep -vc '"table":"b"' "$PG_TMP/one.out" || true)"
t_eq "one-off snapshot: no slot" 0 "$(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'none'")"
set +e; run_oneoff snapshot --table public.nope; rc=$?; set -e
t_eq "one-off snapshot of a missing table: exit 1" 1 "$rc"
grep -q "table public.nope does not exist" "$PG_TMP/one.log" && t_ok "missing table named" || t_fail "missing table" "$(cat "$PG_TMP/one.log")"
psql_q "CREATE ROLE weak LOGIN; REVOKE ALL ON b FROM weak"
mapfile -t base < <(agent_args)
set +e
"$PGCDC_BIN" "${base[@]}" --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=weak" \
	snapshot --table public.b >/dev/null 2>"$PG_TMP/weak.log"; rc=$?
set -e
t_eq "snapshot without SELECT privilege: exit 1" 1 "$rc"
grep -q "no SELECT privilege on table public.b: GRANT SELECT ON public.b TO weak" "$PG_TMP/weak.log" \
	&& t_ok "missing privilege named with its fix" || t_fail "privilege" "$(cat "$PG_TMP/weak.log")"
t_summary
