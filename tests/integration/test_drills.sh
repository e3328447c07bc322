#!/usr/bin/env bash
# Fault drills (issue 8): Kafka and Parquet sinks enabled together while a mixed
# insert/update/delete load runs, through
#   kill -9 of the agent 10 times at random moments; PostgreSQL fast and immediate
#   restarts; all Kafka brokers down 30 s; one broker down; the Parquet filesystem
#   full, then space freed; SIGSTOP of the agent past wal_sender_timeout, then SIGCONT.
# Then both sinks are replayed and compared with the source table row by row:
# zero lost changes, zero duplicate rows in Parquet; Kafka duplicates (allowed after
# a crash) are counted and reported.  DRILL_KILLS, DRILL_KAFKA_DOWN tune the lengths.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

KILLS=${DRILL_KILLS:-10}
DOWN=${DRILL_KAFKA_DOWN:-30}
pg_start "wal_sender_timeout = 5s"
psql_q "CREATE TABLE d (id int PRIMARY KEY, v int, note text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
kafka_start 3
# the mock broker keeps only 5 MB per partition: spread and compress, and check below
# that nothing was evicted (every partition still starts at offset 0)
kafka_cmd topic drill.public.d 16 >/dev/null
P=$PG_TMP/pq
mkdir -p "$P"
tmpfs=no
if mount -t tmpfs -o size=256m pgcdc-drill "$P" 2>/dev/null; then
	tmpfs=yes
	at_exit "umount -l '$P' 2>/dev/null"
fi
mapfile -t kargs < <(kafka_args drill)
ARGS=("${kargs[@]}" --set sink.kafka.kafka.compression.type=lz4 --set "sink.parquet.directory=$P" --set sink.parquet.rotate_interval=1s
      --set sink.parquet.rotate_rows=20000 --set source.status_interval=1s)
start() { agent_start a "${ARGS[@]}"; }
alive() { kill -0 "$AGENT_PID" 2>/dev/null; }
drill() { echo "drill: $*"; DRILLS=$((DRILLS + 1)); }
DRILLS=0

# the load: batches of inserts, updates and deletes, one transaction each, until told
# to stop; a batch that fails (server restarting) is simply not committed
load() {
	local b=0 next=1
	while [[ ! -f $PG_TMP/stop-load ]]; do
		psql_q "BEGIN; INSERT INTO d SELECT g, 0, 'n' || g FROM generate_series($next, $((next + 49))) g;
		        UPDATE d SET v = v + 1, note = 'u$b' WHERE id IN (SELECT id FROM d ORDER BY random() LIMIT 15);
		        DELETE FROM d WHERE id IN (SELECT id FROM d ORDER BY random() LIMIT 5); COMMIT" \
			>/dev/null 2>&1 && next=$((next + 50))
		b=$((b + 1))
		sleep 0.02
	done
}
start
load &
LOADER=$!
at_exit "touch '$PG_TMP/stop-load'; kill $LOADER 2>/dev/null"

drill "kill -9 x$KILLS at random moments"
for ((k = 0; k < KILLS; k++)); do
	sleep "0.$((RANDOM % 9 + 1))"; sleep $((RANDOM % 2))
	agent_stop KILL
	start
done
drill "PostgreSQL fast restart"
sleep 1; pg_restart fast
drill "PostgreSQL immediate restart"
sleep 2; pg_restart immediate
sleep 3
alive && t_ok "agent survived the server restarts" || { t_fail "agent alive after restarts" "$(tail -3 "$PG_TMP/a.log")"; start; }
drill "all Kafka brokers down ${DOWN} s"
kafka_cmd down all >/dev/null
sleep "$DOWN"
alive && t_ok "agent stayed up while every broker was down" || { t_fail "alive, brokers down" "$(tail -3 "$PG_TMP/a.log")"; start; }
kafka_cmd up all >/dev/null
drill "one Kafka broker down (leadership moves)"
kafka_cmd down 1 >/dev/null
sleep 8
kafka_cmd up 1 >/dev/null
if [[ $tmpfs == yes ]]; then
	drill "Parquet filesystem full, then space freed"
	free=$(df --output=avail -B1 "$P" | tail -1)
	fallocate -l $((free - 64 * 1024)) "$P/.filler" 2>/dev/null || dd if=/dev/zero of="$P/.filler" bs=1M count=$((free / 1048576 - 1)) 2>/dev/null || true
	sleep 8
	alive && t_ok "agent stayed up with the Parquet filesystem full" || { t_fail "alive, disk full" "$(tail -3 "$PG_TMP/a.log")"; start; }
	rm -f "$P/.filler"
else
	echo "drill: Parquet filesystem full: skipped (this user cannot mount a tmpfs)"
fi
drill "SIGSTOP past wal_sender_timeout (5 s), then SIGCONT"
kill -STOP "$AGENT_PID"; sleep 9; kill -CONT "$AGENT_PID"
sleep 3

touch "$PG_TMP/stop-load"
wait "$LOADER" || true
wait_caught_up 240 || t_fail "caught up at the end" "slot did not catch up"
agent_stop TERM
t_eq "agent exits 0 at the end" 0 "$AGENT_RC"

# --- the source, and each sink replayed ---
psql_q "SELECT id || '|' || v || '|' || note FROM d ORDER BY id" >"$PG_TMP/want"

t_eq "Kafka: every partition still starts at offset 0 (nothing evicted by the mock)" 0 \
	"$(kafka_json drill.public.d | jq -r '[.partition, .offset] | @tsv' | sort -k1,1n -k2,2n | awk '!seen[$1]++ && $2 != 0' | wc -l)"
kafka_records drill.public.d >"$PG_TMP/k.json"
# replay in LSN order (per key, Kafka keeps commit order; duplicates replay idempotently)
jq -r '[.source.lsn, .op, ((.after // .before).id), (.after.v // ""), (.after.note // "")] | @tsv' "$PG_TMP/k.json" |
	sort -n -s -k1,1 | awk -F'\t' '$2=="d" {delete s[$3]; next} {s[$3]=$3"|"$4"|"$5} END {for (k in s) print s[k]}' |
	sort -t'|' -k1,1n >"$PG_TMP/kafka-state"
t_eq "Kafka: replayed state equals the table ($(wc -l <"$PG_TMP/want") rows)" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/kafka-state" | head -5)"
krec=$(wc -l <"$PG_TMP/k.json")
kdist=$(jq -r '[.source.lsn, .op, ((.after // .before).id)] | @tsv' "$PG_TMP/k.json" | sort -u | wc -l)

duck "SELECT id || '|' || v || '|' || note FROM (
        SELECT *, row_number() OVER (PARTITION BY id ORDER BY _pgcdc_lsn DESC, _pgcdc_op = 'c') AS rn
        FROM read_parquet($(pq_glob "$P" public.d))) WHERE rn = 1 AND _pgcdc_op <> 'd' ORDER BY id" >"$PG_TMP/pq-state"
t_eq "Parquet: replayed state equals the table" "" "$(diff "$PG_TMP/want" "$PG_TMP/pq-state" | head -5)"
prow=$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P" public.d))")
pdup=$(duck "SELECT count(*) - count(DISTINCT (_pgcdc_lsn, _pgcdc_op, id)) FROM read_parquet($(pq_glob "$P" public.d))")
t_eq "Parquet: no duplicate rows" 0 "$pdup"
t_eq "Parquet: no .tmp files left" 0 "$(pq_tmp_count "$P")"
# the two sinks hold exactly the same changes (identified by LSN, op and key)
jq -r '[.source.lsn, .op, ((.after // .before).id)] | @tsv' "$PG_TMP/k.json" | sort -u >"$PG_TMP/k.changes"
duck "SELECT DISTINCT _pgcdc_lsn || chr(9) || _pgcdc_op || chr(9) || id FROM read_parquet($(pq_glob "$P" public.d))" |
	sort -u >"$PG_TMP/p.changes"
changes=$(wc -l <"$PG_TMP/p.changes")
t_eq "Kafka and Parquet hold the same $changes changes" "" "$(diff "$PG_TMP/k.changes" "$PG_TMP/p.changes" | head -5)"
t_eq "Parquet: one row per change" "$changes" "$prow"
lost_k=$(diff "$PG_TMP/want" "$PG_TMP/kafka-state" | grep -c '^<' || true)
lost_p=$(diff "$PG_TMP/want" "$PG_TMP/pq-state" | grep -c '^<' || true)
echo "drills: $DRILLS run; $changes changes checked; lost: kafka $lost_k, parquet $lost_p;" \
	"duplicated: parquet $pdup, kafka $((krec - kdist)) of $krec records ($(echo "scale=2; 100 * ($krec - $kdist) / $krec" | bc)%)"
t_summary
