#!/usr/bin/env bash
# The monitor (SPEC §6): a stalled sink makes the slot lag; the alert hook fires
# warning, then critical, then resolved once the sink drains, with the PGCDC_*
# environment and the same JSON on stdin; /metrics and /healthz show it;
# `status` reads the monitor's alert states; slot_inactive fires while the agent
# cannot reconnect; a hanging hook is killed after alert_timeout (with its
# children), a failing one is logged, and the agent keeps streaming; a taken
# metrics_listen address stops the agent with exit 1; `check` reports the pg_wal
# filesystem, the alert hook and the slot's lag.
#
# The stall: the agent's stdout is a FIFO that nobody reads, so once the pipe is
# full the stdout sink blocks in write(2) and the slot stops advancing while the
# monitor thread keeps sampling.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

# max_wal_senders = 1: another replication connection can keep the agent out (part 3)
pg_start "wal_sender_timeout = 5min" "max_slot_wal_keep_size = 1GB" "max_wal_senders = 1"
psql_q "CREATE TABLE t (id int PRIMARY KEY, pad text); CREATE PUBLICATION pgcdc FOR ALL TABLES"

MPORT=$(free_port)
URL=http://127.0.0.1:$MPORT
HOOKS=$PG_TMP/hooks.jsonl
LOG=$PG_TMP/mon.log

# The hook records each call as one JSON line: its environment, arguments and stdin.
cat >"$PG_TMP/hook.sh" <<'EOF'
#!/bin/sh
in=$(cat)
out=$1
shift
jq -cn --arg alert "$PGCDC_ALERT" --arg severity "$PGCDC_SEVERITY" --arg value "$PGCDC_VALUE" \
	--arg threshold "$PGCDC_THRESHOLD" --arg slot "$PGCDC_SLOT" --arg database "$PGCDC_DATABASE" \
	--arg message "$PGCDC_MESSAGE" --arg args "$*" --arg inherited "${HOOK_TEST_MARK-}" \
	--argjson stdin "$in" \
	'{alert:$alert, severity:$severity, value:$value, threshold:$threshold, slot:$slot,
	  database:$database, message:$message, args:$args, inherited:$inherited, stdin:$stdin}' >>"$out"
EOF
chmod +x "$PG_TMP/hook.sh"

metric() {   # metric 'name{labels}' -> value (empty when absent)
	curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
http_code() {
	curl -s -o /dev/null -w '%{http_code}' "$URL$1" || true
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }        # for wait_for
healthz_is() { [[ $(http_code /healthz) == "$1" ]]; }
severities() {   # severities ALERT -> the hook's severities for ALERT, in order
	[[ -f $HOOKS ]] || return 0
	jq -r --arg a "$1" 'select(.alert == $a) | .severity' "$HOOKS" | xargs
}
has_severity() {
	[[ " $(severities "$1") " == *" $2 "* ]]
}
hook_rec() {   # hook_rec ALERT SEVERITY JQ -> JQ applied to the first such record
	jq -r --arg a "$1" --arg s "$2" "select(.alert == \$a and .severity == \$s) | $3" "$HOOKS" | head -n 1
}
status_json() {   # status_json [pgcdc args...]
	local -a base
	mapfile -t base < <(agent_args)
	"$PGCDC_BIN" "${base[@]}" "$@" status --json
}
is_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
slot_active() { [[ $(psql_q "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcdc'") == t ]]; }

# ---- 1. stall the sink ------------------------------------------------------------------
FIFO=$PG_TMP/out.fifo
mkfifo "$FIFO"
exec 7<>"$FIFO"          # holds the FIFO open without reading it
mapfile -t BASE < <(agent_args)
HOOK_TEST_MARK=inherited "$PGCDC_BIN" "${BASE[@]}" --set monitor.interval=1s \
	--set monitor.lag_bytes_warning=64kB --set monitor.lag_bytes_critical=1MB \
	--set monitor.wal_disk_used_warning=99% --set monitor.wal_disk_used_critical=100% \
	--set "monitor.alert_command=$PG_TMP/hook.sh $HOOKS extra-arg" \
	--set "monitor.metrics_listen=127.0.0.1:$MPORT" >"$FIFO" 2>>"$LOG" 7<&- &
AGENT_PID=$!
wait_for 30 slot_active || die "the agent did not start: $(cat "$LOG")"
wait_for 10 test -s "$PG_TMP/state/pgcdc.monitor.json" || die "no monitor state file"
t_eq "/healthz while streaming" 200 "$(http_code /healthz)"
t_eq "/nothing is 404" 404 "$(http_code /nothing)"
t_eq "POST /metrics is 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")"
t_eq "pgcdc_up while streaming" 1 "$(metric pgcdc_up)"
t_eq "lag_bytes alert starts ok" 0 "$(metric 'pgcdc_alert_state{alert="lag_bytes"}')"

# about 400 kB of WAL, and far more JSON than the pipe holds: the sink blocks mid-way
psql_q "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g"
wait_for 20 has_severity lag_bytes warning || t_fail "warning fired" "hooks: $(severities lag_bytes)"
t_eq "only warning so far" "warning" "$(severities lag_bytes)"
t_eq "PGCDC_SEVERITY" warning "$(hook_rec lag_bytes warning .severity)"
t_eq "PGCDC_THRESHOLD (64kB)" 65536 "$(hook_rec lag_bytes warning .threshold)"
v=$(hook_rec lag_bytes warning .value)
if is_ge "$v" 65536 && ! is_ge "$v" 1048576; then t_ok "PGCDC_VALUE in [64kB, 1MB): $v"
else t_fail "PGCDC_VALUE" "$v"; fi
t_eq "PGCDC_SLOT" pgcdc "$(hook_rec lag_bytes warning .slot)"
t_eq "PGCDC_DATABASE" postgres "$(hook_rec lag_bytes warning .database)"
grep -q 'slot "pgcdc" is .* behind' <<<"$(hook_rec lag_bytes warning .message)" &&
	t_ok "PGCDC_MESSAGE says what lags" || t_fail "PGCDC_MESSAGE" "$(hook_rec lag_bytes warning .message)"
t_eq "arguments after the path are passed" "extra-arg" "$(hook_rec lag_bytes warning .args)"
t_eq "the hook inherits the agent's environment" inherited "$(hook_rec lag_bytes warning .inherited)"
t_eq "stdin JSON matches the environment" "lag_bytes warning $v 65536 pgcdc postgres" \
	"$(hook_rec lag_bytes warning '.stdin | "\(.alert) \(.severity) \(.value) \(.threshold) \(.slot) \(.database)"')"
t_eq "stdin JSON: value and threshold are numbers" "number number" \
	"$(hook_rec lag_bytes warning '.stdin | "\(.value | type) \(.threshold | type)"')"
t_eq "stdin JSON message = PGCDC_MESSAGE" "$(hook_rec lag_bytes warning .message)" \
	"$(hook_rec lag_bytes warning .stdin.message)"
grep -q 'WARNING monitor: alert lag_bytes warning: ' "$LOG" && t_ok "warning logged at WARNING" ||
	t_fail "warning logged" "$(tail -5 "$LOG")"
wait_for 5 metric_is 'pgcdc_alert_state{alert="lag_bytes"}' 1 &&
	t_ok "/metrics: lag_bytes alert state 1" || t_fail "alert state 1" "$(metric 'pgcdc_alert_state{alert="lag_bytes"}')"

# about 4 MB more: critical
psql_q "INSERT INTO t SELECT g, repeat('y', 100) FROM generate_series(2001, 22000) g"
wait_for 20 has_severity lag_bytes critical || t_fail "critical fired" "hooks: $(severities lag_bytes)"
t_eq "warning then critical" "warning critical" "$(severities lag_bytes)"
t_eq "critical: PGCDC_THRESHOLD (1MB)" 1048576 "$(hook_rec lag_bytes critical .threshold)"
t_eq "critical: stdin previous state" warning "$(hook_rec lag_bytes critical .stdin.previous)"
grep -q 'ERROR monitor: alert lag_bytes critical: ' "$LOG" && t_ok "critical logged at ERROR" ||
	t_fail "critical logged" "$(tail -5 "$LOG")"
sleep 2    # let lag_seconds grow
M=$(curl -s "$URL/metrics")
lag=$(awk '$1 == "pgcdc_slot_lag_bytes" { print $2 }' <<<"$M")
is_ge "$lag" 1048576 && t_ok "/metrics: pgcdc_slot_lag_bytes $lag >= 1MB" || t_fail "lag metric" "$lag"
secs=$(awk '$1 == "pgcdc_lag_seconds" { print $2 }' <<<"$M")
is_ge "$secs" 1 && t_ok "/metrics: pgcdc_lag_seconds $secs grows while stalled" || t_fail "lag_seconds" "$secs"
t_eq "/metrics: lag_bytes alert state 2" 2 "$(awk '$1 == "pgcdc_alert_state{alert=\"lag_bytes\"}" { print $2 }' <<<"$M")"
t_eq "/metrics: other alerts ok" "0 0 0 0 0" "$(awk '$1 ~ /^pgcdc_alert_state\{alert="(retained_wal|wal_disk|wal_status|slot_inactive|sink_error)"\}$/ { print $2 }' <<<"$M" | xargs)"
retained=$(awk '$1 == "pgcdc_retained_wal_bytes" { print $2 }' <<<"$M")
is_ge "$retained" "$lag" && t_ok "/metrics: retained WAL >= lag" || t_fail "retained" "$retained < $lag"
is_ge "$(awk '$1 == "pgcdc_safe_wal_size_bytes" { print $2 }' <<<"$M")" 1 &&
	t_ok "/metrics: pgcdc_safe_wal_size_bytes (max_slot_wal_keep_size = 1GB)" || t_fail "safe_wal_size" "$M"
ratio=$(awk '$1 == "pgcdc_wal_disk_used_ratio" { print $2 }' <<<"$M")
df_ratio=$(df -P "$PGDATA/pg_wal" | awk 'NR == 2 { sub("%", "", $5); print $5 / 100 }')
awk -v a="$ratio" -v b="$df_ratio" 'BEGIN { d = a - b; exit !(a > 0 && a <= 1 && d < 0.02 && d > -0.02) }' &&
	t_ok "/metrics: pgcdc_wal_disk_used_ratio $ratio matches df ($df_ratio)" || t_fail "wal disk ratio" "$ratio vs $df_ratio"
conf=$(awk '$1 == "pgcdc_confirmed_flush_lsn" { print $2 }' <<<"$M")
t_eq "/metrics: pgcdc_confirmed_flush_lsn is the slot's" \
	"$(psql_q "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'pgcdc'")" "$conf"
for n in pgcdc_slot_lag_bytes pgcdc_lag_seconds pgcdc_retained_wal_bytes pgcdc_safe_wal_size_bytes \
	pgcdc_wal_disk_used_ratio pgcdc_confirmed_flush_lsn pgcdc_alert_state pgcdc_up; do
	grep -qx "# TYPE $n gauge" <<<"$M" || t_fail "TYPE $n gauge" "missing"
	grep -q "^# HELP $n " <<<"$M" || t_fail "HELP $n" "missing"
done
for n in pgcdc_changes_total pgcdc_transactions_total pgcdc_sink_records_total pgcdc_sink_errors_total; do
	grep -qx "# TYPE $n counter" <<<"$M" || t_fail "TYPE $n counter" "missing"
done
t_ok "/metrics: HELP and TYPE lines with gauge/counter types"
missing=
for n in $(grep -o 'pgcdc_[a-z_]*' "$PGCDC_SRC/docs/examples/prometheus-rules.yml" | sort -u); do
	grep -q "^# TYPE $n " <<<"$M" || missing="$missing $n"
done
t_eq "every metric the example Prometheus rules use is exported" "" "$missing"
t_eq "/metrics: every sample line is name{labels} value" 0 \
	"$(grep -v '^#' <<<"$M" | grep -cvE '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$' || true)"
t_eq "/metrics: no conninfo or secrets" 0 "$(grep -ci 'host=\|password' <<<"$M" || true)"
t_eq "/healthz while the sink is stalled (still streaming)" 200 "$(http_code /healthz)"
S=$(status_json)
t_eq "status --json: alerts.lag_bytes" "critical 1048576 false" \
	"$(jq -r '.alerts.lag_bytes | "\(.state) \(.threshold) \(.stale)"' <<<"$S")"
t_eq "status --json: monitor fresh, lag_seconds a number" "false number" \
	"$(jq -r '"\(.monitor.stale) \(.lag_seconds | type)"' <<<"$S")"
mapfile -t base < <(agent_args)
"$PGCDC_BIN" "${base[@]}" status | grep -qE '^alert lag_bytes +critical +value [0-9]+, threshold 1048576' &&
	t_ok "status (text) lists the alert" || t_fail "status text" "$("$PGCDC_BIN" "${base[@]}" status)"

# ---- 2. drain: resolved ------------------------------------------------------------------
cat "$FIFO" >"$PG_TMP/drained.out" 7<&- &
CAT_PID=$!
at_exit "kill $CAT_PID 2>/dev/null"
wait_for 60 has_severity lag_bytes resolved || t_fail "resolved fired" "hooks: $(severities lag_bytes)"
t_eq "warning, critical, resolved: each once" "warning critical resolved" "$(severities lag_bytes)"
t_eq "resolved: stdin previous state" critical "$(hook_rec lag_bytes resolved .stdin.previous)"
grep -q 'INFO monitor: alert lag_bytes resolved: ' "$LOG" && t_ok "resolved logged" || t_fail "resolved logged" "$(tail -5 "$LOG")"
drained() { [[ $(jq -c 'select(.op == "c")' "$PG_TMP/drained.out" 2>/dev/null | wc -l) == 22000 ]]; }
wait_for 30 drained || true
t_eq "every row delivered after the stall" 22000 "$(jq -c 'select(.op == "c")' "$PG_TMP/drained.out" | wc -l)"
M=$(curl -s "$URL/metrics")
t_eq "/metrics: pgcdc_changes_total{table,op}" 22000 "$(awk '$1 == "pgcdc_changes_total{table=\"public.t\",op=\"c\"}" { print $2 }' <<<"$M")"
t_eq "/metrics: pgcdc_transactions_total" 2 "$(awk '$1 == "pgcdc_transactions_total" { print $2 }' <<<"$M")"
t_eq "/metrics: pgcdc_sink_records_total{sink}" 22000 "$(awk '$1 == "pgcdc_sink_records_total{sink=\"stdout\"}" { print $2 }' <<<"$M")"
t_eq "/metrics: pgcdc_sink_errors_total{sink}" 0 "$(awk '$1 == "pgcdc_sink_errors_total{sink=\"stdout\"}" { print $2 }' <<<"$M")"
t_eq "/metrics: lag_bytes alert state back to 0" 0 "$(awk '$1 == "pgcdc_alert_state{alert=\"lag_bytes\"}" { print $2 }' <<<"$M")"
wait_for 10 metric_is pgcdc_lag_seconds 0 && t_ok "/metrics: pgcdc_lag_seconds 0 when caught up" ||
	t_fail "lag_seconds caught up" "$(metric pgcdc_lag_seconds)"

# ---- 3. the agent cannot reconnect: slot_inactive, /healthz 503 ---------------------------
# Its walsender is terminated and another replication connection takes the only
# walsender (max_wal_senders = 1) before the agent's first retry, 1 s later.
psql_q "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'pgcdc'" >/dev/null
no_walsender() { [[ $(psql_q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'") == 0 ]]; }
wait_for 5 no_walsender || die "the walsender did not exit"
"$PG_BIN/psql" -Xq "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres replication=database" \
	-c "SELECT pg_sleep(120)" >/dev/null 2>&1 7<&- &
BLOCKER=$!
at_exit "kill $BLOCKER 2>/dev/null"
wait_for 10 healthz_is 503 && t_ok "/healthz 503 while reconnecting" ||
	t_fail "healthz 503" "$(http_code /healthz)"
t_eq "pgcdc_up 0 while reconnecting" 0 "$(metric pgcdc_up)"
wait_for 15 has_severity slot_inactive critical || t_fail "slot_inactive fired" "$(severities slot_inactive)"
t_eq "slot_inactive: critical" critical "$(hook_rec slot_inactive critical .severity)"
t_eq "slot_inactive: threshold is 2 intervals" 2 "$(hook_rec slot_inactive critical .threshold)"
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'" >/dev/null
kill "$BLOCKER" 2>/dev/null || true
wait_for 40 healthz_is 200 && t_ok "/healthz 200 again after reconnecting" ||
	t_fail "healthz 200" "$(http_code /healthz)"
wait_for 10 has_severity slot_inactive resolved || t_fail "slot_inactive resolved" "$(severities slot_inactive)"
t_eq "slot_inactive: critical then resolved" "critical resolved" "$(severities slot_inactive)"

agent_stop TERM
t_eq "agent exits 0 on SIGTERM" 0 "$AGENT_RC"
t_eq "/metrics gone after exit" 000 "$(http_code /metrics)"
t_eq "status --json after exit: alerts marked stale" "true true" \
	"$(status_json | jq -r '"\(.monitor.stale) \(.alerts.lag_bytes.stale)"')"
exec 7<&-

# ---- 4. a hook that hangs, one that fails, re-fire ---------------------------------------
cat >"$PG_TMP/hook2.sh" <<'EOF'
#!/bin/sh
# 1st call: hang (with a child); 2nd: fail; 3rd: succeed
dir=$1
n=$(($(cat "$dir/calls" 2>/dev/null || echo 0) + 1))
echo "$n" >"$dir/calls"
case $n in
1) sleep 300 & echo $! >"$dir/child.pid"; wait ;;
2) echo "boom: broken hook" >&2; exit 3 ;;
*) echo "$n $PGCDC_ALERT $PGCDC_SEVERITY $(cat)" >>"$dir/ok" ;;
esac
EOF
chmod +x "$PG_TMP/hook2.sh"
agent_start h --set monitor.interval=1s --set monitor.retained_wal_warning=1B \
	--set monitor.retained_wal_critical=1TB --set monitor.alert_timeout=1s --set monitor.alert_repeat=2s \
	--set "monitor.alert_command=$PG_TMP/hook2.sh $PG_TMP" --set "monitor.metrics_listen=127.0.0.1:$MPORT"
wait_for 30 test -s "$PG_TMP/ok" || t_fail "third hook call" "$(cat "$PG_TMP/h.log")"
grep -q 'WARNING alert: hook .*hook2.sh for retained_wal warning did not finish within 1000 ms (alert_timeout): killed its process group' "$PG_TMP/h.log" &&
	t_ok "a hanging hook is killed after alert_timeout" || t_fail "hang killed" "$(cat "$PG_TMP/h.log")"
child=$(cat "$PG_TMP/child.pid")
# gone, or a zombie nobody reaped yet (no init in some containers)
if [[ -e /proc/$child && $(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null) != Z ]]; then
	t_fail "the hook's child was killed too" "pid $child alive: $(cat "/proc/$child/cmdline" | tr '\0' ' ')"
else t_ok "the hook's child was killed too (process group)"; fi
grep -q 'WARNING alert: hook .*hook2.sh for retained_wal warning exited with status 3: boom: broken hook' "$PG_TMP/h.log" &&
	t_ok "a failing hook is logged with its status and output" || t_fail "fail logged" "$(cat "$PG_TMP/h.log")"
read -r n a sev json <"$PG_TMP/ok"
t_eq "re-fired every alert_repeat while firing (3rd call: same alert, severity, repeat)" \
	"3 retained_wal warning true" "$n $a $sev $(jq -r .repeat <<<"$json")"
kill -0 "$AGENT_PID" && t_ok "the agent keeps running" || t_fail "agent alive" "gone"
psql_q "INSERT INTO t VALUES (-1, 'after hooks')"
row_out() { [[ $(out_count h '.after.id == -1') == 1 ]]; }
wait_for 20 row_out && t_ok "and keeps streaming" ||
	t_fail "streaming after hooks" "$(tail -3 "$PG_TMP/h.log")"

# ---- 5. metrics_listen taken: exit 1 before streaming -------------------------------------
set +e
"$PGCDC_BIN" "${BASE[@]}" --set source.slot=second --set "monitor.metrics_listen=127.0.0.1:$MPORT" \
	>/dev/null 2>"$PG_TMP/bind.log"
rc=$?
set -e
t_eq "metrics_listen in use: exit 1" 1 "$rc"
grep -q "monitor.metrics_listen = 127.0.0.1:$MPORT: cannot listen there: Address already in use" "$PG_TMP/bind.log" &&
	t_ok "metrics_listen in use: says so" || t_fail "bind message" "$(cat "$PG_TMP/bind.log")"
t_eq "metrics_listen in use: no slot created" 0 \
	"$(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'second'")"
agent_stop TERM

# ---- 6. check --------------------------------------------------------------------------
chk() {   # chk ARGS... -> sets RC and OUT
	set +e
	OUT=$("$PGCDC_BIN" "${BASE[@]}" "$@" check 2>&1)
	RC=$?
	set -e
}
psql_q "INSERT INTO t SELECT g, repeat('z', 100) FROM generate_series(100000, 101000) g"   # the slot lags
chk --set monitor.wal_disk_used_warning=100% --set monitor.wal_disk_used_critical=100%
t_eq "check: passes" 0 "$RC"
grep -qE '^ok +pg_wal filesystem \(.*/pg_wal\) [0-9.]+% full' <<<"$OUT" &&
	t_ok "check: measures the pg_wal filesystem" || t_fail "check wal disk" "$OUT"
chk --set monitor.lag_bytes_warning=16kB
grep -qE '^warning +slot "pgcdc" lags [0-9]+ bytes behind the server \(monitor.lag_bytes_warning = 16384\)' <<<"$OUT" &&
	t_ok "check: warns about the slot's lag" || t_fail "check lag" "$OUT"
chk --set monitor.wal_disk_path=/nonexistent/pg_wal
t_eq "check: unreadable wal_disk_path fails" 1 "$RC"
grep -q '^FAIL.*monitor.wal_disk_path: statfs(/nonexistent/pg_wal): No such file or directory' <<<"$OUT" &&
	t_ok "check: names the unreadable wal_disk_path" || t_fail "check wal_disk_path" "$OUT"
chk --set "monitor.alert_command=$PG_TMP/no-such-hook --flag"
t_eq "check: missing alert hook fails" 1 "$RC"
grep -q "^FAIL.*monitor.alert_command: $PG_TMP/no-such-hook cannot be executed" <<<"$OUT" &&
	t_ok "check: names the missing hook" || t_fail "check hook" "$OUT"
chk --set "monitor.alert_command=$PG_TMP/hook.sh"
grep -q "^ok .*alert hook $PG_TMP/hook.sh" <<<"$OUT" && t_ok "check: accepts an executable hook" ||
	t_fail "check good hook" "$OUT"
psql_q "CREATE TABLE nokey (a int)"
chk
t_eq "check: a published table without replica identity fails" 1 "$RC"
grep -q '^FAIL.*table public.nokey has no replica identity.*REPLICA IDENTITY FULL' <<<"$OUT" &&
	t_ok "check: names the table and the fix" || t_fail "check replica identity" "$OUT"

# ---- 7. snapshot progress in /metrics and status ------------------------------------------
psql_q "CREATE TABLE s (id int PRIMARY KEY); INSERT INTO s SELECT generate_series(1, 3000)"
agent_start snap --set source.slot=snap --set source.snapshot=initial --set monitor.interval=1s \
	--set "monitor.metrics_listen=127.0.0.1:$MPORT"
wait_for 30 metric_is 'pgcdc_snapshot_rows_total{table="public.s"}' 3000 &&
	t_ok "/metrics: pgcdc_snapshot_rows_total{table}" ||
	t_fail "snapshot rows metric" "$(curl -s "$URL/metrics" | grep snapshot)"
snap_done() {
	[[ $(status_json --set source.slot=snap | jq -r '.snapshot["public.s"] | "\(.state) \(.rows)"') == "done 3000" ]]
}
wait_for 10 snap_done && t_ok "status --json: snapshot per table (state, rows)" ||
	t_fail "status snapshot" "$(status_json --set source.slot=snap | jq -c .snapshot)"
agent_stop TERM
t_summary
