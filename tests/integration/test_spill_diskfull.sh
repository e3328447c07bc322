#!/usr/bin/env bash
# state_dir full while a large streamed transaction is spilled (issue 13.7): pgcdc must
# not exit; it pauses reading WAL (keeping the connection alive), raises a critical
# sink_error alert naming the spill, and resumes by itself once there is room, with
# every row of the transaction delivered. state_dir is a small tmpfs grown mid-test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

((EUID == 0)) || die "needs root to mount a tmpfs"
pg_start "logical_decoding_work_mem = 64kB" "wal_sender_timeout = 10s"
S=$PG_TMP/state
mkdir -p "$S"
mount -t tmpfs -o size=2m pgcdc-spill "$S" || die "cannot mount a tmpfs on $S"
at_exit "umount '$S'"
psql_q "CREATE TABLE big (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
printf '#!/bin/sh\necho "$PGCDC_ALERT $PGCDC_SEVERITY $PGCDC_MESSAGE" >>"%s/alerts"\nexit 0\n' "$PG_TMP" >"$PG_TMP/hook.sh"
chmod +x "$PG_TMP/hook.sh"
agent_start a --set monitor.interval=1s --set "monitor.alert_command=$PG_TMP/hook.sh" --set source.protocol=2
# about 15 MB of changes in one transaction: streamed by the server, spilled by pgcdc
psql_q "INSERT INTO big SELECT g, repeat('s', 120) FROM generate_series(1, 100000) g"
# the transaction's commit ends at or before this position; the slot may confirm idle
# positions inside the transaction (it is resent whole), never its end
end=$(psql_q "SELECT pg_current_wal_lsn()")
if wait_for 60 grep -q "spill.*no space\|state_dir is full" "$PG_TMP/a.log"; then
	t_ok "the full state_dir is logged"
else
	t_fail "full logged" "$(grep -E 'WARN|ERROR' "$PG_TMP/a.log" | tail -3)"
fi
sleep 4
kill -0 "$AGENT_PID" 2>/dev/null && t_ok "still running while state_dir is full" ||
	t_fail "running" "$(grep -E 'ERROR' "$PG_TMP/a.log" | tail -3)"
t_eq "the transaction is not acknowledged while it cannot be spilled" t \
	"$(psql_q "SELECT confirmed_flush_lsn < '$end'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'pgcdc'")"
t_eq "nothing of it delivered while it cannot be spilled" 0 "$(out_count a '.op == "c"')"
wait_for 10 grep -q "sink_error critical" "$PG_TMP/alerts" && t_ok "sink_error alert raised" ||
	t_fail "alert" "$(cat "$PG_TMP/alerts" 2>/dev/null)"
mount -o remount,size=64m "$S"
wait_caught_up 120 || t_fail "caught up" "not after the space came back"
t_eq "every row of the transaction delivered once" "100000 100000" \
	"$(jq -r 'select(.op == "c") | .after.id' "$PG_TMP/a.out" | sort | uniq | wc -l) $(out_count a '.op == "c"')"
wait_for 10 grep -q "sink_error resolved" "$PG_TMP/alerts" && t_ok "sink_error resolved" ||
	t_fail "resolved" "$(cat "$PG_TMP/alerts" 2>/dev/null)"
agent_stop TERM
t_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
t_eq "no spill file left" "" "$(ls "$S/spill")"
t_summary
