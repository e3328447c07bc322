#!/usr/bin/env bash
# The initial snapshot (exported method) into Parquet: snapshot files (op "r") beside the streamed ones;
# an agent killed in the middle of the snapshot leaves files the next start removes
# (its marker is still there), so the redone snapshot yields every row exactly once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

ROWS=${PQ_SNAPSHOT_ROWS:-2000000}
pg_start
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE TABLE u (id int PRIMARY KEY);
        INSERT INTO k SELECT g, md5(g::text) FROM generate_series(1, $ROWS) g; INSERT INTO u VALUES (1), (2);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mapfile -t args < <(pq_args "$P" --set source.snapshot=initial --set source.snapshot_method=exported \
	--set sink.parquet.rotate_interval=1s \
	--set source.max_inflight=8MB)
marker() { compgen -G "$P/.pgcdc-snapshot-*.inprogress" >/dev/null; }
# started by hand: agent_start would wait for streaming, that is for the snapshot's end
mapfile -t base < <(agent_args)
"$PGCDC_BIN" "${base[@]}" "${args[@]}" >>"$PG_TMP/a.out" 2>>"$PG_TMP/a.log" &
AGENT_PID=$!
wait_for 30 marker || die "no snapshot marker appeared; log: $(tail -5 "$PG_TMP/a.log")"
sleep 0.3
agent_stop KILL
if marker; then
	t_ok "killed in the middle of the snapshot: its marker is still there"
else
	t_fail "killed in the middle of the snapshot" "the snapshot had finished (make PQ_SNAPSHOT_ROWS larger)"
fi
old_id=$(basename "$(compgen -G "$P/.pgcdc-snapshot-*.inprogress" | head -1)" | cut -d- -f4 | cut -d. -f1)
echo "interrupted snapshot $old_id left $(find "$P" -name "*-snapshot-$old_id-*.parquet" | wc -l) committed file(s)"

agent_start a "${args[@]}"
done_snap() { grep -q "snapshot: done" "$PG_TMP/a.log"; }
wait_for 120 done_snap || die "the snapshot was not redone"
psql_q "INSERT INTO k VALUES ($((ROWS + 1)), 'streamed'); UPDATE u SET id = 3 WHERE id = 2"
wait_caught_up 60 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"

t_eq "the next start removed the interrupted snapshot's files" 1 \
	"$(grep -c "snapshot at .* was interrupted: removed its files" "$PG_TMP/a.log")"
t_eq "no file of the interrupted snapshot left" 0 "$(find "$P" -name "*-snapshot-$old_id-*" | wc -l)"
t_eq "no marker, no .tmp left" "0 0" "$(compgen -G "$P/.pgcdc-*" | wc -l) $(pq_tmp_count "$P")"
K=$(pq_glob "$P" public.k)
t_eq "every row exactly once, as a snapshot read" "r|$ROWS|$ROWS" \
	"$(duck "SELECT _pgcdc_op, count(*), count(DISTINCT id) FROM read_parquet($K) WHERE _pgcdc_op = 'r' GROUP BY 1")"
t_eq "snapshot values right" "$ROWS" "$(duck "SELECT count(*) FROM read_parquet($K) WHERE v = md5(id::VARCHAR)")"
t_eq "then the stream, in a file of its own" "c|$((ROWS + 1))|0" \
	"$(duck "SELECT _pgcdc_op, id, filename LIKE '%snapshot%' FROM read_parquet($K, filename = true) WHERE _pgcdc_op <> 'r'" | sed 's/false$/0/')"
U=$(pq_glob "$P" public.u)
t_eq "second table: snapshot then update" "r 1|r 2|d 2|c 3" \
	"$(duck "SELECT _pgcdc_op || ' ' || id FROM read_parquet($U, filename = true, file_row_number = true)
	         ORDER BY filename, file_row_number" | paste -sd'|')"
snap_files=$(pq_files "$P" | grep -c -- '-snapshot-')
t_eq "snapshot files: one snapshot id and LSN, footer says so" "1|1|$snap_files" \
	"$(pq_files "$P" | grep -- '-snapshot-' | xargs -n1 basename | cut -d- -f4 | sort -u | wc -l)|$(pq_files "$P" | grep -- '-snapshot-' | xargs -n1 basename | cut -c1-33 | sort -u | wc -l)|$(duck "SELECT count(*) FROM parquet_kv_metadata($(pq_glob "$P")) WHERE decode(key) = 'pgcdc.snapshot' AND decode(value) = 'true'")"
t_eq "snapshot rows carry the snapshot LSN and xid 0" "1|0" \
	"$(duck "SELECT count(DISTINCT _pgcdc_commit_lsn), max(_pgcdc_xid) FROM read_parquet($K) WHERE _pgcdc_op = 'r'")"
t_summary
