#!/usr/bin/env bash
# The version suite: what pgcdc must do on every PostgreSQL major (SPEC §9), run by
# tests/versions/run.sh once per major (PG_MAJOR; lib.sh's pg_use_major finds its binaries).
#
# One cluster (logical_decoding_work_mem = 64kB), then:
#  - `check` (no failed line, the right protocol, the settings that can invalidate the
#    slot), and on 12-13 an explicit protocol 2 refused by `check` and `run` before
#    any slot is created;
#  - an initial snapshot and streaming with protocol auto, and on 14+ a second agent
#    with protocol 1 on its own slot: the two must emit the same records;
#  - inserts, updates (key change too), deletes, FULL identity, a transaction over
#    logical_decoding_work_mem and 4096 changes (spilled by the server or streamed), a rollback, savepoint
#    rollbacks inside small and large transactions, ADD / DROP COLUMN, TRUNCATE; on 18
#    published generated columns, in snapshot rows as in streamed ones;
#  - the consumer's replayed state equals the table;
#  - `status --json` (server_version, failover, version-less columns null) and /metrics;
#  - gap refusal after the slot was advanced behind pgcdc's back;
#  - an invalidated slot reported with the server's reason: wal_removed (13+),
#    idle_timeout (18), and `check` warning about idle_replication_slot_timeout.
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/agent.sh"

MAJOR=${PG_MAJOR:?PG_MAJOR: the major version under test}
pg_use_major "$MAJOR"
# 12 has no logical_decoding_work_mem: it spills a transaction past 4096 changes
if ((MAJOR >= 13)); then pg_start "logical_decoding_work_mem = 64kB"; else pg_start; fi
t_eq "server is PostgreSQL $MAJOR" "$MAJOR" "$(($(psql_q "SHOW server_version_num") / 10000))"
WANT_PROTO=$((MAJOR >= 14 ? 2 : 1))

mapfile -t BASE < <(agent_args)
pgcdc() { "$PGCDC_BIN" "${BASE[@]}" "$@"; }
slot_active() { [[ $(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$1' AND active") == 1 ]]; }

gen_ddl=""
gen_pub=""
if ((MAJOR >= 18)); then
	gen_ddl="CREATE TABLE app.g (id int PRIMARY KEY, x int, gx int GENERATED ALWAYS AS (x * 2) STORED);
	         INSERT INTO app.g VALUES (1, 10);"
	gen_pub="WITH (publish_generated_columns = stored)"
fi
psql_q "CREATE SCHEMA app;
        CREATE TABLE app.t (id int PRIMARY KEY, v text, n numeric(10,2), big text);
        ALTER TABLE app.t ALTER big SET STORAGE EXTERNAL;
        CREATE TABLE app.f (id int PRIMARY KEY, v text); ALTER TABLE app.f REPLICA IDENTITY FULL;
        INSERT INTO app.t SELECT g, 'pre ' || g, g * 1.5, '' FROM generate_series(1, 100) g;
        INSERT INTO app.f VALUES (1, 'f1'), (2, 'f2');
        $gen_ddl
        CREATE PUBLICATION pgcdc FOR ALL TABLES $gen_pub"

# --- check -------------------------------------------------------------------------------
set +e
out=$(pgcdc check 2>&1); rc=$?
set -e
t_eq "check: exit 0" 0 "$rc"
t_eq "check: no failed line" "" "$(grep '^FAIL' <<<"$out")"
grep -q "^ok *connect: .*(PostgreSQL $MAJOR\." <<<"$out" && t_ok "check: names the server's version" ||
	t_fail "check: version" "$out"
grep -q "^ok *pgoutput protocol $WANT_PROTO (source.protocol = auto)" <<<"$out" &&
	t_ok "check: protocol auto is $WANT_PROTO" || t_fail "check: protocol" "$out"
if ((MAJOR < 13)); then
	grep -q "^warning *PostgreSQL 12 has no max_slot_wal_keep_size" <<<"$out" &&
		t_ok "check: warns that nothing bounds the slot's WAL on 12" || t_fail "check: 12 warning" "$out"
else
	grep -q "^warning *max_slot_wal_keep_size = -1 (unlimited)" <<<"$out" &&
		t_ok "check: warns about unlimited max_slot_wal_keep_size" || t_fail "check: keep size" "$out"
fi
t_eq "check: every line is a finding or the total" "" \
	"$(grep -vE '^(ok|warning|FAIL) |^[0-9]+ failed, [0-9]+ warnings$' <<<"$out")"

if ((MAJOR < 14)); then
	set +e
	out=$(pgcdc --set source.protocol=2 check 2>&1); rc=$?
	set -e
	t_eq "check, protocol 2 on $MAJOR: exit 1" 1 "$rc"
	grep -q "^FAIL *source.protocol = 2 needs PostgreSQL 14 or later.*server is PostgreSQL $MAJOR" <<<"$out" &&
		t_ok "check, protocol 2 on $MAJOR: says why" || t_fail "check: protocol 2" "$out"
	set +e
	timeout 60 "$PGCDC_BIN" "${BASE[@]}" --set source.protocol=2 --set source.snapshot=initial \
		>/dev/null 2>"$PG_TMP/p2.log"; rc=$?
	set -e
	t_eq "run, protocol 2 on $MAJOR: exit 1" 1 "$rc"
	grep -q "source.protocol = 2 needs PostgreSQL 14" "$PG_TMP/p2.log" &&
		t_ok "run, protocol 2 on $MAJOR: says why" || t_fail "run: protocol 2" "$(cat "$PG_TMP/p2.log")"
	t_eq "run, protocol 2 on $MAJOR: no slot left behind" 0 "$(psql_q "SELECT count(*) FROM pg_replication_slots")"
fi

# --- snapshot and streaming ------------------------------------------------------------------
MPORT=$(free_port)
agent_start a --set source.snapshot=initial --set "monitor.metrics_listen=127.0.0.1:$MPORT" \
	--set monitor.interval=1s
PID_A=$AGENT_PID
PID_B=
if ((MAJOR >= 14)); then
	# protocol 1 on its own slot, from the same point (snapshot never: created now)
	agent_start b --set source.protocol=1 --set source.slot=p1 --set "source.state_dir=$PG_TMP/state1"
	PID_B=$AGENT_PID
	wait_for 30 slot_active p1 ||
		t_fail "protocol 1 agent" "slot p1 never became active"
fi
grep -q "protocol $WANT_PROTO, auto" "$PG_TMP/a.log" && t_ok "run: protocol auto streams with $WANT_PROTO" ||
	t_fail "run: protocol" "$(cat "$PG_TMP/a.log")"
# the initial snapshot: online on 14+ (the default; chunks between watermark messages
# the agent decodes from its own stream), the exported method on 12-13
if ((MAJOR >= 14)); then
	wait_for 60 grep -qs "backfill: done" "$PG_TMP/a.log" && t_ok "online snapshot: done" ||
		t_fail "online snapshot" "$(tail -n 20 "$PG_TMP/a.log")"
	SNAPKIND=incremental
else
	grep -q "uses the exported method" "$PG_TMP/a.log" && t_ok "online snapshot: falls back to exported on $MAJOR" ||
		t_fail "exported fallback" "$(cat "$PG_TMP/a.log")"
	SNAPKIND=true
fi

ins() { echo "INSERT INTO app.t (id, v, big) SELECT g, 'r' || g, repeat('x', 100) FROM generate_series($1, $2) g;"; }
psql_q "INSERT INTO app.t VALUES (101, 'one', 1.25, repeat('y', 5000))"
psql_q "UPDATE app.t SET v = 'uno' WHERE id = 101"
psql_q "UPDATE app.t SET id = 1002 WHERE id = 2"
psql_q "DELETE FROM app.t WHERE id = 3"
psql_q "BEGIN; $(ins 1001 1001) $(ins 103 1000) $(ins 10001 14200) COMMIT"   # > 64kB, > 4096 rows
psql_q "BEGIN; $(ins 5000 5000) ROLLBACK"
psql_q "BEGIN; $(ins 5001 5001) SAVEPOINT s; $(ins 5002 5002) ROLLBACK TO s; $(ins 5003 5003) COMMIT"
psql_q "BEGIN; $(ins 6001 7000) SAVEPOINT s; $(ins 8001 9000) ROLLBACK TO s; $(ins 7001 7500) COMMIT"
psql_q "UPDATE app.f SET v = 'f1b' WHERE id = 1"
psql_q "DELETE FROM app.f WHERE id = 2"
psql_q "ALTER TABLE app.t ADD COLUMN extra int DEFAULT 7"
psql_q "INSERT INTO app.t (id, v) VALUES (9001, 'added')"
psql_q "UPDATE app.t SET extra = 8 WHERE id = 1"
psql_q "ALTER TABLE app.t DROP COLUMN n"
psql_q "INSERT INTO app.t (id, v) VALUES (9002, 'dropped')"
psql_q "TRUNCATE app.f"
psql_q "INSERT INTO app.f VALUES (3, 'after truncate')"
if ((MAJOR >= 18)); then
	psql_q "INSERT INTO app.g VALUES (2, 20)"
	psql_q "UPDATE app.g SET x = 30 WHERE id = 1"
fi
wait_caught_up 120 || t_fail "caught up" "slot pgcdc did not confirm the current WAL position"
[[ -z $PID_B ]] || wait_caught_up 120 p1 || t_fail "caught up (p1)" "slot p1 did not confirm the current WAL position"

# --- status and /metrics while running ----------------------------------------------------------
set +e
st=$(pgcdc status --json 2>&1); rc=$?
set -e
t_eq "status --json: exit 0" 0 "$rc"
t_eq "status --json: server_version" "$MAJOR" "$(jq -r '.server_version | split(".")[0]' <<<"$st")"
t_eq "status --json: slot, plugin, active" "pgcdc pgoutput true" "$(jq -r '"\(.slot) \(.plugin) \(.active)"' <<<"$st")"
t_eq "status --json: confirmed_flush_lsn is the current position" "$(psql_q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcdc'")" \
	"$(jq -r .confirmed_flush_lsn <<<"$st")"
if ((MAJOR < 13)); then
	t_eq "status --json: no wal_status, safe_wal_size, max_slot_wal_keep_size on 12" "null null null" \
		"$(jq -r '"\(.wal_status) \(.safe_wal_size) \(.max_slot_wal_keep_size)"' <<<"$st")"
else
	t_eq "status --json: wal_status reserved, max_slot_wal_keep_size -1" "reserved -1" \
		"$(jq -r '"\(.wal_status) \(.max_slot_wal_keep_size)"' <<<"$st")"
fi
if ((MAJOR < 17)); then
	t_eq "status --json: failover null before 17" null "$(jq -r .failover <<<"$st")"
else
	t_eq "status --json: failover true on 17+ (source.failover = auto)" true "$(jq -r .failover <<<"$st")"
fi
t_eq "status --json: invalidation_reason null" null "$(jq -r .invalidation_reason <<<"$st")"
M=$(curl -sf "http://127.0.0.1:$MPORT/metrics" || true)
t_eq "/metrics: pgcdc_up 1" 1 "$(awk '$1 == "pgcdc_up" { print $2 }' <<<"$M")"
t_eq "/metrics: app.t creates counted" 1 "$(grep -c '^pgcdc_changes_total{table="app.t",op="c"} [1-9]' <<<"$M")"
t_eq "/metrics: snapshot rows of app.t" 100 \
	"$(awk -F' ' '$1 == "pgcdc_snapshot_rows_total{table=\"app.t\"}" { print $2 }' <<<"$M")"
wait_for 10 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^pgcdc_confirmed_flush_lsn [1-9]'" &&
	t_ok "/metrics: confirmed_flush_lsn sampled" || t_fail "/metrics: confirmed_flush_lsn" "$M"

kill -TERM "$PID_A" ${PID_B:+"$PID_B"}
set +e
wait "$PID_A"; rc_a=$?
rc_b=0
[[ -z $PID_B ]] || { wait "$PID_B"; rc_b=$?; }
set -e
AGENT_PID=
t_eq "agents exit 0 on SIGTERM" "0 0" "$rc_a $rc_b"

# --- what was delivered ------------------------------------------------------------------------
O=$PG_TMP/a.out
t_eq "every line is JSON" "$(wc -l <"$O")" "$(jq -c . "$O" | wc -l)"
t_eq "snapshot: 100 rows of app.t, 2 of app.f" "100 2" \
	"$(out_count a 'select(.op=="r" and .source.table=="t")' | head -1) $(out_count a 'select(.op=="r" and .source.table=="f")')"
t_eq "snapshot: a row's values" '{"id":7,"v":"pre 7","n":"10.50","big":""}' \
	"$(jq -c 'select(.op=="r" and .source.table=="t" and .after.id==7) | .after' "$O")"
t_eq "snapshot: source.snapshot $SNAPKIND on every read row but the exported method's last" 1 \
	"$(jq -r 'select(.op=="r") | .source.snapshot' "$O" | sort | uniq -c | awk -v k="$SNAPKIND" '
		$2 == k && $1 >= 101 { ok++ } $2 == "last" && k == "true" && $1 == 1 { ok++ } END {
		print (k == "incremental" && ok == 1 && NR == 1) || (k == "true" && ok == 2 && NR == 2) }')"
t_eq "ops on app.t outside the large transactions, in commit order" \
	"c101 u101 d2 c1002 d3 c5001 c5003 c9001 u1 c9002" \
	"$(jq -r 'select(.source.table=="t" and .op!="r") | "\(.op)\((.after // .before).id)"' "$O" |
		grep -xE '[cud](101|2|1002|3|5001|5003|9001|1|9002)' | xargs)"
t_eq "update: the new value, TOAST unchanged" '"uno" "__debezium_unavailable_value"' \
	"$(jq -c 'select(.source.table=="t" and .op=="u" and .after.id==101) | [.after.v, .after.big] | map(tojson) | join(" ")' -r "$O")"
t_eq "key change: delete of 2, create of 1002" 'd 2 c 1002' \
	"$(jq -r 'select(.source.table=="t" and ((.before.id // 0) == 2 or (.after.id // 0) == 1002)) | "\(.op) \((.after // .before).id)"' "$O" | xargs)"
big='select(.op=="c" and ((.after.id >= 103 and .after.id <= 1001) or (.after.id >= 10001 and .after.id <= 14200))) | .source.txId'
t_eq "the large transaction: 5099 rows, one transaction" "5099 1" \
	"$(jq -r "$big" "$O" | wc -l) $(jq -r "$big" "$O" | sort -u | wc -l)"
t_eq "rolled back: nothing of the rollback or the savepoints" 0 \
	"$(out_count a 'select(.source.table=="t" and ((.after.id // 0) == 5000 or (.after.id // 0) == 5002 or ((.after.id // 0) >= 8001 and (.after.id // 0) <= 9000)))')"
t_eq "savepoints: the kept rows" "5001 5003 1500" \
	"$(jq -r 'select(.op=="c" and (.after.id == 5001 or .after.id == 5003)) | .after.id' "$O" | xargs) $(out_count a 'select(.op=="c" and .after.id >= 6001 and .after.id <= 7500)')"
t_eq "FULL identity: update and delete before-images" '{"id":1,"v":"f1"} {"id":2,"v":"f2"}' \
	"$(jq -c 'select(.source.table=="f" and (.op=="u" or .op=="d")) | .before' "$O" | xargs -d '\n')"
t_eq "ADD COLUMN: the default, then an update" '{"id":9001,"v":"added","n":null,"big":null,"extra":7} 8' \
	"$(jq -c 'select(.op=="c" and .after.id==9001) | .after' "$O") $(jq -r 'select(.source.table=="t" and .op=="u" and .after.id==1) | .after.extra' "$O")"
t_eq "DROP COLUMN: gone from later records" '{"id":9002,"v":"dropped","big":null,"extra":7}' \
	"$(jq -c 'select(.op=="c" and .after.id==9002) | .after' "$O")"
t_eq "TRUNCATE: an op t record, then the insert" "t c" \
	"$(jq -r 'select(.source.table=="f" and .op!="r" and .op!="u" and .op!="d") | .op' "$O" | xargs)"
if ((MAJOR >= 18)); then
	t_eq "generated column in the snapshot row" '{"id":1,"x":10,"gx":20}' \
		"$(jq -c 'select(.op=="r" and .source.table=="g") | .after' "$O")"
	t_eq "generated column in streamed rows" '{"id":2,"x":20,"gx":40} {"id":1,"x":30,"gx":60}' \
		"$(jq -c 'select(.op!="r" and .source.table=="g") | .after' "$O" | xargs -d '\n')"
fi
# the consumer's state (last write per key wins) equals the table
jq -r 'select(.source.table=="t") | [.op, ((.after // .before // {}).id // ""), (.after.v // "")] | @tsv' "$O" |
	awk -F'\t' '$1 == "t" { delete s; next } $1 == "d" { delete s[$2]; next } { s[$2] = $3 }
	            END { for (k in s) print k "|" s[k] }' | sort -t'|' -k1,1n >"$PG_TMP/replayed"
psql_q "SELECT id, v FROM app.t ORDER BY id" >"$PG_TMP/table"
t_eq "replayed state of app.t equals the table ($(wc -l <"$PG_TMP/table") rows)" "" \
	"$(diff "$PG_TMP/table" "$PG_TMP/replayed" | head -5)"
if ((MAJOR >= 14)); then
	strm=$(psql_q "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'pgcdc'")
	((strm >= 1)) && t_ok "protocol 2: the server streamed $strm transactions" ||
		t_fail "protocol 2: streamed" "stream_txns = $strm"
	proj='select(.op!="r") | [.op, .source.table, .source.lsn, .source.txId, .before, .after] | tojson'
	t_eq "protocol 1 and protocol 2 emit the same records" "" \
		"$(diff <(jq -r "$proj" "$O") <(jq -r "$proj" "$PG_TMP/b.out") | head -5)"
fi

# --- online snapshot under a concurrent writer (14+) ----------------------------------------------
# integer, composite, UUID and text keys and a keyless table, read in chunks of 250 rows by
# 2 workers while a writer inserts, updates (key changes too) and deletes: the state
# replayed from the records equals each table (test_backfill does more on 15)
if ((MAJOR >= 14)); then
	CHECK=$PGCDC_SRC/tests/integration/backfill_check.py
	/usr/bin/python3 "$CHECK" setup "$PG_CONNINFO" 3000
	psql_q "CREATE PUBLICATION bfpub FOR TABLE k_int, k_comp, k_uuid, k_text, nokey"
	/usr/bin/python3 "$CHECK" writer "$PG_CONNINFO" 5 >"$PG_TMP/bfw.out" &
	WPID=$!
	agent_start bf --set source.slot=bf --set source.publication=bfpub --set source.snapshot=initial \
		--set "source.state_dir=$PG_TMP/statebf" --set backfill.chunk_rows=250 --set source.snapshot_workers=2 \
		--set backfill.max_rate=4000
	# 15000 rows at 4000 rows/s: the backfill runs while the writer does
	wait_for 60 grep -qs "backfill: done" "$PG_TMP/bf.log" && t_ok "online snapshot under a writer: $(grep -o "backfill: done: .*" "$PG_TMP/bf.log")" ||
		t_fail "online snapshot under a writer" "$(tail -n 20 "$PG_TMP/bf.log")"
	wait "$WPID"
	wait_caught_up 60 bf || t_fail "caught up (bf)" "slot bf did not confirm the current WAL position"
	agent_stop TERM
	/usr/bin/python3 "$CHECK" compare "$PG_CONNINFO" "$PG_TMP/bf.out" >"$PG_TMP/bfcmp"
	t_eq "online snapshot under $(cat "$PG_TMP/bfw.out") writer transactions: each replayed table equals the table" \
		"public.k_int missing=0 extra=0 extra_not_written=0 public.k_comp missing=0 extra=0 extra_not_written=0 public.k_uuid missing=0 extra=0 extra_not_written=0 public.k_text missing=0 extra=0 extra_not_written=0 missing=0 extra_not_written=0" \
		"$(grep '^public.k_' "$PG_TMP/bfcmp" | xargs) $(grep '^public.nokey ' "$PG_TMP/bfcmp" | grep -o 'missing=[0-9]*\|extra_not_written=[0-9]*' | xargs)"
	psql_q "SELECT pg_drop_replication_slot('bf')" >/dev/null
fi

# --- gap refusal ----------------------------------------------------------------------------
psql_q "INSERT INTO app.t (id, v) VALUES (9100, 'never delivered')"
psql_q "SELECT pg_replication_slot_advance('pgcdc', pg_current_wal_lsn())" >/dev/null
set +e
timeout 60 "$PGCDC_BIN" "${BASE[@]}" >"$PG_TMP/gap.out" 2>"$PG_TMP/gap.log"; rc=$?
set -e
t_eq "gap: exit 1" 1 "$rc"
grep -q 'advanced or recreated behind pgcdc.s back' "$PG_TMP/gap.log" && t_ok "gap: named" ||
	t_fail "gap: message" "$(cat "$PG_TMP/gap.log")"
t_eq "gap: nothing delivered" 0 "$(wc -l <"$PG_TMP/gap.out")"

# --- invalidated slots -------------------------------------------------------------------------
if ((MAJOR >= 13)); then
	psql_q "SELECT pg_create_logical_replication_slot('lost', 'pgoutput')" >/dev/null
	psql_q "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
	for ((i = 0; i < 4; i++)); do
		psql_q "INSERT INTO app.f SELECT g, repeat('x', 1000) FROM generate_series(100, 3000) g; DELETE FROM app.f WHERE id >= 100; SELECT pg_switch_wal()" >/dev/null
		psql_q "CHECKPOINT"
	done
	t_eq "wal_removed: the server invalidated the slot" lost \
		"$(psql_q "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'lost'")"
	set +e
	timeout 60 "$PGCDC_BIN" "${BASE[@]}" --set source.slot=lost --set "source.state_dir=$PG_TMP/state2" \
		>/dev/null 2>"$PG_TMP/lost.log"; rc=$?
	out=$(pgcdc --set source.slot=lost check 2>&1)
	st=$(pgcdc --set source.slot=lost status --json 2>&1)
	set -e
	t_eq "wal_removed: run exits 1" 1 "$rc"
	grep -q 'invalidation_reason wal_removed: the WAL it needed was removed' "$PG_TMP/lost.log" &&
		t_ok "wal_removed: run names the reason" || t_fail "wal_removed: run" "$(cat "$PG_TMP/lost.log")"
	grep -q '^FAIL *slot "lost" is invalidated (invalidation_reason wal_removed' <<<"$out" &&
		t_ok "wal_removed: check fails naming the reason" || t_fail "wal_removed: check" "$out"
	t_eq "wal_removed: status --json" "lost wal_removed" "$(jq -r '"\(.wal_status) \(.invalidation_reason)"' <<<"$st")"
	psql_q "ALTER SYSTEM RESET max_slot_wal_keep_size" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
fi
if ((MAJOR >= 18)); then
	psql_q "SELECT pg_create_logical_replication_slot('idle', 'pgoutput')" >/dev/null
	psql_q "ALTER SYSTEM SET idle_replication_slot_timeout = '1s'" >/dev/null
	psql_q "SELECT pg_reload_conf()" >/dev/null
	out=$(pgcdc --set source.slot=idle check 2>&1 || true)
	grep -q '^warning *idle_replication_slot_timeout = 1s: the server invalidates the slot (idle_timeout)' <<<"$out" &&
		t_ok "idle_timeout: check warns about the setting" || t_fail "idle_timeout: check warning" "$out"
	sleep 2.5
	psql_q "CHECKPOINT"
	t_eq "idle_timeout: the server invalidated the slot" idle_timeout \
		"$(psql_q "SELECT invalidation_reason FROM pg_replication_slots WHERE slot_name = 'idle'")"
	set +e
	timeout 60 "$PGCDC_BIN" "${BASE[@]}" --set source.slot=idle --set "source.state_dir=$PG_TMP/state3" \
		>/dev/null 2>"$PG_TMP/idle.log"; rc=$?
	out=$(pgcdc --set source.slot=idle check 2>&1)
	set -e
	t_eq "idle_timeout: run exits 1" 1 "$rc"
	grep -q 'invalidation_reason idle_timeout: it was inactive for longer than idle_replication_slot_timeout' "$PG_TMP/idle.log" &&
		t_ok "idle_timeout: run names the reason" || t_fail "idle_timeout: run" "$(cat "$PG_TMP/idle.log")"
	grep -q '^FAIL *slot "idle" is invalidated (invalidation_reason idle_timeout' <<<"$out" &&
		t_ok "idle_timeout: check fails naming the reason" || t_fail "idle_timeout: check" "$out"
fi
t_summary
