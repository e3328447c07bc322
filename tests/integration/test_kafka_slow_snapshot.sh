#!/usr/bin/env bash
# A slow Kafka during the initial snapshot with the exported method (issue 13.9): brokers answering in 500 ms push
# back on the snapshot's rows. pgcdc must wait without touching the replication
# connection (no COPY is in progress before START_REPLICATION: a status update there
# failed with "no COPY in progress" and killed pgcdc, and the next start redid the
# snapshot and died the same way), and the monitor must not raise slot_inactive while
# the snapshot's rows drain (the slot is not streamed yet by design).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 1
kafka_cmd topic s.public.big 32   # 300k records: the mock keeps 5 MB per partition
psql_q "CREATE TABLE big (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES;
        INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 300000) g"
mapfile -t K < <(kafka_args s)
printf '#!/bin/sh\necho "$PGCDC_ALERT $PGCDC_SEVERITY" >>"%s/alerts"\nexit 0\n' "$PG_TMP" >"$PG_TMP/hook.sh"
chmod +x "$PG_TMP/hook.sh"
kafka_cmd rtt all 500
AGENT_NOWAIT=1 agent_start a "${K[@]}" --set source.snapshot=initial --set source.snapshot_method=exported \
	--set source.status_interval=1s \
	--set sink.kafka.kafka.queue.buffering.max.messages=5000 --set source.max_inflight=1MB \
	--set monitor.interval=1s --set "monitor.alert_command=$PG_TMP/hook.sh"
sleep 12   # the sink pushes back for many status intervals and monitor samples
if kill -0 "$AGENT_PID" 2>/dev/null; then
	t_ok "alive after 12 s of backpressure during the snapshot"
else
	t_fail "alive during a slow snapshot" "$(grep -E 'ERROR|WARN' "$PG_TMP/a.log" | tail -3)"
fi
kafka_cmd rtt all 0
wait_for 180 grep -q "streaming from slot" "$PG_TMP/a.log" || t_fail "streaming" "never started"
psql_q "INSERT INTO big VALUES (300001, 'streamed')"
wait_caught_up 120 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
t_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
t_eq "no error logged" "" "$(grep -E ' ERROR ' "$PG_TMP/a.log" | head -3)"
t_eq "one snapshot, not redone" 1 "$(grep -c 'created replication slot' "$PG_TMP/a.log")"
t_eq "no slot_inactive alert before streaming" "" "$(grep slot_inactive "$PG_TMP/alerts" 2>/dev/null || true)"
t_eq "every row delivered (snapshot and streamed)" 300001 \
	"$(kafka_records s.public.big | jq -r '.after.id' | sort -u | wc -l)"
t_eq "snapshot rows marked op r" 300000 "$(kafka_records s.public.big | jq -r 'select(.op == "r") | .after.id' | sort -u | wc -l)"
t_summary
