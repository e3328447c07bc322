#!/usr/bin/env bash
# Permanent Kafka errors stop the agent (exit 1) with a message naming the table, the
# LSN and the librdkafka error, and the slot's confirmed position never passes the
# failed record, so a restart once the cause is fixed delivers it:
#   - a record larger than kafka.message.max.bytes (refused by produce());
#   - a delivery report with TOPIC_AUTHORIZATION_FAILED (injected into the mock broker).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 3
psql_q "CREATE TABLE big (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
mapfile -t K < <(kafka_args e)

lsn_le() { [[ $(psql_q "SELECT '$1'::pg_lsn <= '$2'::pg_lsn") == t ]]; }

# --- a record too large for the producer ------------------------------------------------
agent_start a "${K[@]}" --set sink.kafka.kafka.message.max.bytes=20000
psql_q "INSERT INTO big SELECT g, 'small' FROM generate_series(1, 5) g"
wait_caught_up 30 || t_fail "small rows acknowledged" "slot did not catch up"
l_before=$(psql_q "SELECT pg_current_wal_lsn()")
psql_q "INSERT INTO big VALUES (6, repeat('x', 50000))"
psql_q "INSERT INTO big VALUES (7, 'after the big one')"
l_after=$(psql_q "SELECT pg_current_wal_lsn()")
wait_for 30 bash -c "! kill -0 $AGENT_PID" || t_fail "agent stops on a permanent error" "still running after 30 s"
agent_stop TERM
t_eq "too large: agent exits 1" 1 "$AGENT_RC"
msg=$(grep 'ERROR' "$PG_TMP/a.log" | grep 'kafka' | sed -n 1p || true)
[[ $msg == *"table public.big at LSN "*"MSG_SIZE_TOO_LARGE"* ]] && t_ok "too large: message names table, LSN and error" ||
	t_fail "too large: message names table, LSN and error" "$msg"
lsn=$(sed -n 's/.*table public\.big at LSN \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' <<<"$msg")
[[ -n $lsn ]] && lsn_le "$l_before" "$lsn" && lsn_le "$lsn" "$l_after" && t_ok "too large: the LSN is the big row's ($lsn)" ||
	t_fail "too large: the LSN is the big row's" "'$lsn' not within $l_before..$l_after"
c=$(slot_confirmed)
lsn_le "$c" "$l_before" && t_ok "too large: slot not confirmed past the failed record ($c)" ||
	t_fail "too large: slot not confirmed past the failed record" "$c > $l_before"
t_eq "too large: the rows before it were delivered" "1 2 3 4 5" "$(kafka_records e.public.big | jq -r .after.id | sort -n | xargs)"

agent_start a "${K[@]}" --set sink.kafka.kafka.message.max.bytes=20000
wait_for 30 bash -c "! kill -0 $AGENT_PID" || true
agent_stop TERM
t_eq "too large: a restart stops at the same record (exit 1)" 1 "$AGENT_RC"
lsn_le "$(slot_confirmed)" "$l_before" && t_ok "too large: still not confirmed past it" ||
	t_fail "too large: still not confirmed past it" "$(slot_confirmed)"

agent_start a "${K[@]}"     # the limit lifted: the big record and what follows arrive
wait_caught_up 30 || t_fail "caught up once the limit is lifted" "slot did not catch up"
agent_stop TERM
t_eq "too large: nothing lost once the limit is lifted" "1 2 3 4 5 6 7" \
	"$(kafka_records e.public.big | jq -r .after.id | sort -n | uniq | xargs)"
t_eq "too large: the big record is whole" 50000 \
	"$(kafka_records e.public.big | jq -r 'select(.after.id == 6) | .after.v | length')"

# --- a permanent error in a delivery report ------------------------------------------------
: >"$PG_TMP/a.log"
agent_start a "${K[@]}"
psql_q "INSERT INTO big VALUES (8, 'before')"
wait_caught_up 30 || t_fail "row 8 acknowledged" "slot did not catch up"
kafka_cmd produce-error 29 1      # the next Produce request: TOPIC_AUTHORIZATION_FAILED
l_before=$(psql_q "SELECT pg_current_wal_lsn()")
psql_q "INSERT INTO big VALUES (9, 'refused')"
l_after=$(psql_q "SELECT pg_current_wal_lsn()")
wait_for 30 bash -c "! kill -0 $AGENT_PID" || t_fail "agent stops on a failed delivery" "still running after 30 s"
agent_stop TERM
t_eq "delivery error: agent exits 1" 1 "$AGENT_RC"
msg=$(grep 'ERROR' "$PG_TMP/a.log" | grep 'kafka' | sed -n 1p || true)
[[ $msg == *"table public.big at LSN "*"TOPIC_AUTHORIZATION_FAILED"* ]] &&
	t_ok "delivery error: message names table, LSN and error" ||
	t_fail "delivery error: message names table, LSN and error" "$msg"
lsn=$(sed -n 's/.*table public\.big at LSN \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' <<<"$msg")
[[ -n $lsn ]] && lsn_le "$l_before" "$lsn" && lsn_le "$lsn" "$l_after" && t_ok "delivery error: the LSN is row 9's ($lsn)" ||
	t_fail "delivery error: the LSN is row 9's" "'$lsn' not within $l_before..$l_after"
lsn_le "$(slot_confirmed)" "$l_before" && t_ok "delivery error: slot not confirmed past the failed record" ||
	t_fail "delivery error: slot not confirmed past the failed record" "$(slot_confirmed) > $l_before"
agent_start a "${K[@]}"
wait_caught_up 30 || t_fail "caught up after the error" "slot did not catch up"
agent_stop TERM
t_eq "delivery error: the record arrives after a restart" 1 \
	"$(kafka_records e.public.big | jq -r 'select(.after.id == 9) | .after.v' | sort -u | grep -c refused)"
t_summary
