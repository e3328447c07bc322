#!/usr/bin/env bash
# An idle slot does not pin WAL (SPEC §5, §6): the slot's database stays idle while
# another database on the same server writes about 200 MB of WAL; pgcdc (with
# source.heartbeat_interval = 1s) keeps acknowledging, so the slot's retained WAL
# (current LSN - restart_lsn), sampled throughout, stays below 64 MB, and its
# confirmed_flush_lsn stays within a few MB of the server's position.  A control
# slot that nobody reads retains all of it, which shows the measurement works.
#
# PostgreSQL moves a logical slot's restart_lsn only when the walsender decodes an
# xl_running_xacts record (the bgwriter writes one every 15 s while there is
# activity, and every checkpoint does; PostgreSQL 15 has no pg_log_standby_snapshot())
# and the client has confirmed past it.  So even a client that acknowledges at once
# retains up to 15-30 s of the server's WAL: written flat out, 200 MB in a few
# seconds stay retained until the next such record whatever pgcdc does.  The writer
# therefore runs a CHECKPOINT after every CHECKPOINT_MB (as a busy server's
# checkpoints would), so the bound measures pgcdc's acknowledgements rather than the
# bgwriter's timer; CHECKPOINT_MB=0 leaves the server alone (then pace the writes
# with WRITE_SECONDS, e.g. 60, to stay below the bound).  WRITE_SECONDS paces the
# writer (default 10 s for the 200 MB; 0 = flat out).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

TOTAL_MB=${TOTAL_MB:-200}
CHUNK_MB=5
CHECKPOINT_MB=${CHECKPOINT_MB:-20}
WRITE_SECONDS=${WRITE_SECONDS:-10}
LIMIT_MB=64
ACK_LIMIT_MB=16

pg_start
psql_q "CREATE TABLE quiet (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES"
pg_create_db other
psql_q "CREATE TABLE big (id bigserial PRIMARY KEY, pad text)" -d other
psql_q "SELECT pg_create_logical_replication_slot('control', 'pgoutput')" >/dev/null
agent_start a --set source.heartbeat_interval=1s --set monitor.interval=1s \
	--set "monitor.metrics_listen=127.0.0.1:$(free_port)"
wait_caught_up 30 || die "the agent did not catch up"

retained() {   # retained SLOT -> bytes
	psql_q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '$1'"
}
sampler() {    # "retained lag" of the pgcdc slot, every 0.2 s
	while :; do
		psql_q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint || ' ' ||
		        pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
		        FROM pg_replication_slots WHERE slot_name = 'pgcdc'" >>"$PG_TMP/samples"
		sleep 0.2
	done
}
start_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
: >"$PG_TMP/samples"
sampler &
SAMPLER=$!
at_exit "kill $SAMPLER 2>/dev/null"

# ~1 kB rows, CHUNK_MB per transaction
chunks=$((TOTAL_MB / CHUNK_MB))
rows=$((CHUNK_MB * 1024 * 1024 / 1200))
t0=$(date +%s%N)
for ((i = 1; i <= chunks; i++)); do
	psql_q "INSERT INTO big (pad) SELECT repeat(md5(g::text), 32) FROM generate_series(1, $rows) g" -d other
	if ((CHECKPOINT_MB > 0 && i * CHUNK_MB % CHECKPOINT_MB == 0)); then
		psql_q "CHECKPOINT" -d other
	fi
	if ((WRITE_SECONDS > 0)); then
		due=$((t0 + i * WRITE_SECONDS * 1000000000 / chunks))
		now=$(date +%s%N)
		((now >= due)) || sleep "$(awk -v d=$((due - now)) 'BEGIN { printf "%.3f", d / 1e9 }')"
	fi
done
elapsed=$((($(date +%s%N) - t0) / 1000000))
sleep 1
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true

written=$(psql_q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start_lsn')::bigint")
max=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$PG_TMP/samples")
maxlag=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$PG_TMP/samples")
n=$(wc -l <"$PG_TMP/samples")
control=$(retained control)
echo "# wrote $((written / 1048576)) MB of WAL in $elapsed ms (CHECKPOINT every $CHECKPOINT_MB MB); $n samples" \
	"of the pgcdc slot: retained WAL max $((max / 1048576)) MB ($max bytes), unconfirmed (lag) max" \
	"$((maxlag / 1024)) kB; control slot retains $((control / 1048576)) MB"

((written >= (TOTAL_MB - 10) * 1048576)) && t_ok "about $TOTAL_MB MB of WAL written elsewhere" ||
	t_fail "WAL written" "$written bytes"
((n >= 20)) && t_ok "sampled throughout ($n samples)" || t_fail "samples" "$n"
((maxlag < ACK_LIMIT_MB * 1048576)) && t_ok "pgcdc confirmed the server's position throughout (lag max $((maxlag / 1024)) kB < $ACK_LIMIT_MB MB)" ||
	t_fail "idle acknowledgement" "lag max $maxlag bytes"
((max < LIMIT_MB * 1048576)) && t_ok "idle slot's retained WAL stayed below $LIMIT_MB MB (max $((max / 1048576)) MB)" ||
	t_fail "idle slot pinned WAL" "max $max bytes"
((control >= written - 1048576)) && t_ok "a slot nobody acknowledges retains it all ($((control / 1048576)) MB)" ||
	t_fail "control slot" "$control of $written"
t_eq "the agent sent nothing for the other database" 0 "$(wc -l <"$PG_TMP/a.out")"
kill -0 "$AGENT_PID" && t_ok "agent still running" || t_fail "agent" "exited: $(tail -3 "$PG_TMP/a.log")"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"
t_summary
