#!/usr/bin/env bash
# Failover (SPEC §5, §9), with servers from the version matrix (tests/tools/pg/<major>):
#  A. PostgreSQL 17: primary + standby with slot sync (sync_replication_slots,
#     synchronized_standby_slots), pgcdc on a multi-host conninfo with a writer running;
#     the primary crashes (immediate stop), the standby is promoted: pgcdc finds its synced
#     failover slot there and goes on — the consumer's replayed state equals the final
#     table, no change lost, no new snapshot.
#  B. PostgreSQL 16 (no failover slots): the same drill ends in exit 1 with the gap named,
#     and no new slot left on the new primary.
#  C. PostgreSQL 16 standby decoding: pgcdc on a hot standby — snapshot, stream, `status`,
#     `/metrics`, `check`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/standby.sh"

WRITER_PID=
_writer_stop() { [[ -z $WRITER_PID ]] || { touch "$PG_TMP/stop-writer"; wait "$WRITER_PID" 2>/dev/null; WRITER_PID=; }; }
at_exit _writer_stop

# writer CONNINFO: insert, update and delete in t every 100 ms until $PG_TMP/stop-writer
# exists; failed statements (the failover window) are skipped
writer() {
	local i=1000
	while [[ ! -e $PG_TMP/stop-writer ]]; do
		i=$((i + 1))
		"$PG_BIN/psql" -XAtq "$1" -c "INSERT INTO t VALUES ($i, 'v$i'); UPDATE t SET v = 'u$i' WHERE id = $((i - 3));
			DELETE FROM t WHERE id = $((i - 7)) AND $i % 5 = 0" >/dev/null 2>&1 || true
		sleep 0.1
	done
}

# replayed NAME: the consumer's state of t from NAME.out, "id|v" sorted
replayed() {
	jq -r 'select(.source.table=="t") | [.op, ((.after // .before // {}).id // ""), (.after.v // "")] | @tsv' "$PG_TMP/$1.out" |
		awk -F'\t' '$1 == "t" { delete s; next } $1 == "d" { delete s[$2]; next } { s[$2] = $3 }
		            END { for (k in s) print k "|" s[k] }' | sort -t'|' -k1,1n
}

setup() {   # setup MAJOR [standby conf...]: primary with t (100 rows) and a standby
	local major=$1
	shift
	pg_use_major "$major"
	if ((major >= 17)); then
		pg_start "synchronized_standby_slots = 'sb'"
	else
		pg_start
	fi
	psql_q "CREATE TABLE t (id int PRIMARY KEY, v text);
	        INSERT INTO t SELECT g, 'pre' || g FROM generate_series(1, 100) g;
	        CREATE PUBLICATION pgcdc FOR ALL TABLES"
	standby_create "$@"
	MH="host=127.0.0.1,127.0.0.1 port=$PRIMARY_PORT,$SB_PORT dbname=postgres user=postgres target_session_attrs=read-write"
}

# drill NAME: writer on, pgcdc on the multi-host conninfo, primary crash, promotion
drill() {
	local name=$1 t0
	rm -f "$PG_TMP/stop-writer"
	AGENT_NOWAIT=1 agent_start "$name" --set "source.conninfo=$MH" --set source.snapshot=initial
	wait_for 60 _slot_active_on_primary || t_fail "$name: streaming" "$(tail -5 "$PG_TMP/$name.log")"
	writer "$MH" &
	WRITER_PID=$!
	sleep 3
}

_slot_active_on_primary() {
	[[ $(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcdc' AND active") == 1 ]]
}
_synced() {
	[[ $(sb_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcdc' AND synced AND NOT temporary") == 1 ]]
}
_streams_again() {   # a second "streaming from slot" line in the log
	[[ $(grep -c 'streaming from slot' "$PG_TMP/$1.log") -ge 2 ]]
}
_caught_up_sb() {
	[[ $(sb_q "SELECT coalesce(confirmed_flush_lsn >= pg_current_wal_lsn(), false) FROM pg_replication_slots WHERE slot_name = 'pgcdc'") == t ]]
}

# --- A. PostgreSQL 17: failover slot synced to the standby --------------------------------
setup 17 "sync_replication_slots = on" "synchronized_standby_slots = ''"
drill a
wait_for 60 _synced && t_ok "17: the standby holds a synced copy of the failover slot" ||
	t_fail "17: synced" "$(sb_q "SELECT slot_name, synced, temporary FROM pg_replication_slots")"
t_eq "17: the slot was created as a failover slot" t \
	"$(psql_q "SELECT failover FROM pg_replication_slots WHERE slot_name = 'pgcdc'")"
sleep 2
t0=$(date +%s.%N)
primary_kill
standby_promote
wait_for 60 _streams_again a || t_fail "17: resumed" "$(tail -8 "$PG_TMP/a.log")"
resume=$(echo "$(date +%s.%N) - $t0" | bc)
echo "17: streaming again on the promoted standby $resume s after the crash"
sleep 3
_writer_stop
PGPORT=$SB_PORT
# a promoted standby whose synchronized_standby_slots names a slot it lacks holds failover
# slots back: the server's WARNING reaches pgcdc's log (not raw libpq lines on stderr)
sb_q "ALTER SYSTEM SET synchronized_standby_slots = 'gone'" >/dev/null
sb_q "SELECT pg_reload_conf()" >/dev/null
sb_q "INSERT INTO t VALUES (99999, 'held back')"
_warned() { grep -q 'WARNING server: WARNING: replication slot "gone" specified in parameter "synchronized_standby_slots" does not exist' "$PG_TMP/a.log"; }
wait_for 30 _warned && t_ok "17: the server's warning is logged through pgcdc's log" ||
	t_fail "17: warning" "$(tail -5 "$PG_TMP/a.log")"
t_eq "17: nothing held back is delivered meanwhile" 0 "$(out_count a 'select(.after.id == 99999)')"
sb_q "ALTER SYSTEM RESET synchronized_standby_slots" >/dev/null
sb_q "SELECT pg_reload_conf()" >/dev/null
wait_for 60 _caught_up_sb || t_fail "17: caught up on the new primary" "$(tail -5 "$PG_TMP/a.log")"
t_eq "17: delivered once the setting is fixed" 1 "$(out_count a 'select(.after.id == 99999)')"
t_eq "17: every stderr line is a log line" "" "$(grep -v '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T' "$PG_TMP/a.log" || true)"
agent_stop TERM
t_eq "17: pgcdc exits 0 after the failover" 0 "$AGENT_RC"
t_eq "17: pgcdc still runs after the failover (no exit on the way)" 1 "$(grep -c 'starting:' "$PG_TMP/a.log")"
grep -q 'timeline is 2, pgcdc last streamed on 1' "$PG_TMP/a.log" && t_ok "17: the new timeline is logged" ||
	t_fail "17: timeline" "$(grep stream "$PG_TMP/a.log" | tail -5)"
psql_q "SELECT id, v FROM t ORDER BY id" >"$PG_TMP/table"
replayed a >"$PG_TMP/replayed"
rows=$(wc -l <"$PG_TMP/table")
t_eq "17: the replayed state equals the new primary's table ($rows rows)" "" \
	"$(diff "$PG_TMP/table" "$PG_TMP/replayed" | head -5)"
((rows > 120)) && t_ok "17: the writer wrote on both sides of the failover ($rows rows)" ||
	t_fail "17: writes" "only $rows rows"
t_eq "17: no new snapshot (op r only for the 100 initial rows)" 100 "$(out_count a 'select(.op=="r")')"
total=$(out_count a 'select(.op!="r")')
uniq=$(jq -r 'select(.op!="r") | [.op, .source.lsn, (.after // .before).id] | @tsv' "$PG_TMP/a.out" | sort -u | wc -l)
echo "17: $total change records, $((total - uniq)) sent again after the failover"
after=$(jq -r 'select(.op=="c") | .after.id' "$PG_TMP/a.out" | sort -n | uniq | wc -l)
want=$(psql_q "SELECT count(*) FROM t WHERE id > 1000")
deleted_since=$(jq -r 'select(.op=="d") | .before.id' "$PG_TMP/a.out" | sort -u | wc -l)
echo "17: $after inserts delivered, $want rows above 1000 in the table, $deleted_since deleted"
_sb_stop_on_exit
pg_destroy

# --- A2. PostgreSQL 17 without synchronized_standby_slots: the standby falls behind what
# pgcdc delivered, is promoted, and its history diverges from what was delivered: a gap
setup 17 "sync_replication_slots = on" "synchronized_standby_slots = ''"
psql_q "ALTER SYSTEM SET synchronized_standby_slots = ''" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
AGENT_NOWAIT=1 agent_start d --set "source.conninfo=$MH" --set source.snapshot=never
wait_for 60 _slot_active_on_primary || t_fail "17/diverged: streaming" "$(tail -5 "$PG_TMP/d.log")"
psql_q "INSERT INTO t VALUES (2001, 'synced')"
wait_for 60 _synced || t_fail "17/diverged: synced" "no synced slot"
wait_caught_up 30
sb_q "ALTER SYSTEM SET primary_conninfo = ''" >/dev/null   # the standby stops receiving
sb_q "SELECT pg_reload_conf()" >/dev/null
_sb_cut() { [[ $(psql_q "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'sb'") == 0 ]]; }
wait_for 30 _sb_cut || t_fail "17/diverged: standby cut" "still replicating"
psql_q "INSERT INTO t SELECT g, 'only on the old primary' FROM generate_series(2002, 2020) g"
wait_caught_up 30 || t_fail "17/diverged: delivered" "not caught up"
agent_stop TERM
primary_kill
standby_promote
set +e
mapfile -t base < <(agent_args)
timeout 60 "$PGCDC_BIN" "${base[@]}" --set "source.conninfo=$MH" >"$PG_TMP/d2.out" 2>"$PG_TMP/d2.log"; rc=$?
set -e
t_eq "17/diverged: exit 1" 1 "$rc"
grep -q 'pgcdc delivered up to .* on timeline 1, but this server (timeline 2) left timeline 1 at .*synchronized_standby_slots' "$PG_TMP/d2.log" &&
	t_ok "17/diverged: the diverged history is named" || t_fail "17/diverged: message" "$(tail -3 "$PG_TMP/d2.log")"
t_eq "17/diverged: nothing streamed" 0 "$(wc -l <"$PG_TMP/d2.out")"
_sb_stop_on_exit
pg_destroy

# --- B. PostgreSQL 16: no failover slots, the failover is a gap ---------------------------
setup 16
drill b
sleep 2
primary_kill
standby_promote
set +e
timeout 90 tail --pid="$AGENT_PID" -f /dev/null
set -e
_writer_stop
agent_stop TERM
t_eq "16: exit 1 after the failover" 1 "$AGENT_RC"
grep -q 'slot "pgcdc" does not exist on this server (system [0-9]*, timeline 2), but pgcdc delivered up to' "$PG_TMP/b.log" &&
	t_ok "16: the gap is named (slot lost in the failover)" || t_fail "16: gap" "$(tail -5 "$PG_TMP/b.log")"
t_eq "16: no new slot on the new primary" 0 "$(sb_q "SELECT count(*) FROM pg_replication_slots WHERE slot_type = 'logical'")"
_sb_stop_on_exit
pg_destroy

# --- C. PostgreSQL 16: standby decoding ----------------------------------------------------
setup 16
SBC="host=127.0.0.1 port=$SB_PORT dbname=postgres user=postgres"
MPORT=$(free_port)
AGENT_NOWAIT=1 agent_start c --set "source.conninfo=$SBC" --set source.snapshot=initial \
	--set "monitor.metrics_listen=127.0.0.1:$MPORT" --set monitor.interval=1s
# a slot on a standby waits for a running-transactions record from the primary
_sb_slot() {
	psql_q "SELECT pg_log_standby_snapshot()" >/dev/null
	grep -q 'streaming from slot' "$PG_TMP/c.log"
}
wait_for 60 _sb_slot && t_ok "standby: slot created and streaming there" || t_fail "standby: slot" "$(tail -5 "$PG_TMP/c.log")"
psql_q "INSERT INTO t SELECT g, 'new' || g FROM generate_series(101, 150) g; UPDATE t SET v = 'upd' WHERE id = 1; DELETE FROM t WHERE id = 2"
_sb_delivered() { [[ $(out_count c 'select(.op!="r")') -ge 52 ]]; }
wait_for 60 _sb_delivered || t_fail "standby: streamed" "$(tail -5 "$PG_TMP/c.log")"
t_eq "standby: snapshot rows" 100 "$(out_count c 'select(.op=="r")')"
t_eq "standby: streamed changes" "50 1 1" \
	"$(out_count c 'select(.op=="c")') $(out_count c 'select(.op=="u")') $(out_count c 'select(.op=="d")')"
# the online method (the default) needs the server to write watermark messages: a
# standby cannot, so the exported method is used, and `pgcdc backfill` (written on the
# primary, replicated) is logged and not run there
grep -q "a standby cannot write the online method's watermark messages: the initial snapshot uses the exported method" \
	"$PG_TMP/c.log" && t_ok "standby: the initial snapshot uses the exported method, with a log line" ||
	t_fail "standby: exported fallback" "$(head -5 "$PG_TMP/c.log")"
t_eq "standby: snapshot rows are the exported method's" "last true" \
	"$(jq -r 'select(.op=="r") | .source.snapshot' "$PG_TMP/c.out" | sort -u | xargs)"
mapfile -t pbase < <(agent_args)
"$PGCDC_BIN" "${pbase[@]}" backfill --table public.t >"$PG_TMP/sbf.out" 2>&1 &&
	t_ok "standby: pgcdc backfill written on the primary" || t_fail "standby: pgcdc backfill" "$(cat "$PG_TMP/sbf.out")"
psql_q "INSERT INTO t VALUES (151, 'after the signal')"
_sb_after() { [[ $(out_count c 'select(.op=="c" and .after.id==151)') -ge 1 ]]; }
wait_for 60 _sb_after && t_ok "standby: streaming goes on after the signal" || t_fail "standby: after the signal" "$(tail -5 "$PG_TMP/c.log")"
grep -q "backfill [0-9a-f-]* not run: this agent streams from a standby" "$PG_TMP/c.log" &&
	t_ok "standby: the signal is logged, not run" || t_fail "standby: signal" "$(tail -5 "$PG_TMP/c.log")"
t_eq "standby: no row read again" 100 "$(out_count c 'select(.op=="r")')"
set +e
st=$("$PGCDC_BIN" --set "source.conninfo=$SBC" --set "source.state_dir=$PG_TMP/state" --set sink.stdout.enabled=on status --json 2>&1); rc=$?
ck=$("$PGCDC_BIN" --set "source.conninfo=$SBC" --set "source.state_dir=$PG_TMP/state" --set sink.stdout.enabled=on check 2>&1); crc=$?
set -e
t_eq "standby: status exits 0" 0 "$rc"
t_eq "standby: status shows the slot at the standby's replay position" "true 16" \
	"$(jq -r '"\(.active) \(.server_version | split(".")[0])"' <<<"$st")"
[[ $(jq -r .current_lsn <<<"$st") == "$(sb_q "SELECT pg_last_wal_replay_lsn()")" ]] &&
	t_ok "standby: current_lsn is the replay position" || t_fail "standby: current_lsn" "$st"
t_eq "standby: check exits 0" 0 "$crc"
grep -q '^ok *the server is a standby: standby decoding' <<<"$ck" && t_ok "standby: check says standby decoding" ||
	t_fail "standby: check" "$ck"
grep -q "^warning *snapshot_method = online: a standby cannot write the watermark messages" <<<"$ck" &&
	t_ok "standby: check says the online method falls back here" || t_fail "standby: check online" "$ck"
_metrics_ok() { curl -sf "http://127.0.0.1:$MPORT/metrics" | grep -q '^pgcdc_slot_lag_bytes [0-9]'; }
wait_for 20 _metrics_ok && t_ok "standby: /metrics samples the slot" ||
	t_fail "standby: /metrics" "$(curl -s "http://127.0.0.1:$MPORT/metrics" | grep -v '^#' | head -20)"
t_eq "standby: the monitor logged no failure" "" "$(grep -i 'monitor.*fail\|recovery is in progress' "$PG_TMP/c.log" || true)"
agent_stop TERM
t_eq "standby: exit 0" 0 "$AGENT_RC"
t_summary
