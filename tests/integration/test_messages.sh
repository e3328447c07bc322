#!/usr/bin/env bash
# Logical decoding messages (SPEC §3): pg_logical_emit_message, transactional or not,
# becomes an op "m" record (before/after null, message {prefix, content base64}, key
# {"prefix"}) on stdout, on the Kafka topic <topic_prefix>.message (JSON and protobuf,
# read back with kcat), in commit order with its transaction's rows; a rolled-back
# transactional message never appears, nor do pgcdc's own prefixes (pgcdc.*); Parquet
# has no file for messages and goes on; sink.kafka.messages = off leaves the topic out.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
kafka_start 1
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
mapfile -t K < <(kafka_args m)
agent_start a "${K[@]}" --set sink.stdout.enabled=on --set "sink.parquet.directory=$PG_TMP/pq" \
	--set sink.parquet.enabled=on --set sink.parquet.rotate_interval=1s
psql_q "BEGIN; INSERT INTO t VALUES (1, 'a');
        SELECT pg_logical_emit_message(true, 'outbox', 'order 1 created');
        INSERT INTO t VALUES (2, 'b'); COMMIT" >/dev/null
psql_q "SELECT pg_logical_emit_message(false, 'audit', '\x00ff0a'::bytea)" >/dev/null
psql_q "BEGIN; SELECT pg_logical_emit_message(true, 'outbox', 'rolled back'); ROLLBACK" >/dev/null
psql_q "SELECT pg_logical_emit_message(true, 'pgcdc.mine', 'x'), pg_logical_emit_message(false, 'pgcdc.mine', 'y')" >/dev/null
psql_q "INSERT INTO t VALUES (3, 'c')"
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"

O=$PG_TMP/a.out
t_eq "stdout: records in commit order" "c m c m c" "$(jq -r .op "$O" | xargs)"
t_eq "transactional message: inside its transaction (same txId and commit as its rows)" 1 \
	"$(jq -r 'select(.after.id == 1 or .after.id == 2 or .message.prefix == "outbox") | .source.txId' "$O" | sort -u | wc -l)"
t_eq "transactional message: prefix and content (base64)" \
	"$(printf '%s' 'order 1 created' | base64 -w0)" \
	"$(jq -r 'select(.message.prefix == "outbox") | .message.content' "$O")"
t_eq "transactional message: before and after null, empty schema and table" 'null null "" ""' \
	"$(jq -c 'select(.op == "m" and .message.prefix == "outbox") | [.before, .after, .source.schema, .source.table] | map(tojson) | join(" ")' -r "$O")"
t_eq "non-transactional message: txId null, bytes in base64" "null AP8K" \
	"$(jq -r 'select(.message.prefix == "audit") | "\(.source.txId) \(.message.content)"' "$O")"
t_eq "non-transactional message: its LSN between the transactions around it" 1 \
	"$(jq -s '[.[] | .source.lsn] as $l | ($l == ($l | sort)) | if . then 1 else 0 end' "$O")"
t_eq "rolled-back and pgcdc.* messages: absent" 0 \
	"$(jq -r 'select(.op == "m") | .message.prefix' "$O" | grep -cv '^outbox$\|^audit$' || true)"

# Kafka: <prefix>.message, keyed by prefix
kafka_json m.message >"$PG_TMP/m.json"
t_eq "kafka: topic m.message holds both messages" 2 "$(wc -l <"$PG_TMP/m.json")"
t_eq "kafka: keys are {\"prefix\":...}" '{"prefix":"audit"} {"prefix":"outbox"}' \
	"$(jq -r .key "$PG_TMP/m.json" | sort | paste -sd ' ')"
t_eq "kafka: the same values as stdout (but the production times)" "" \
	"$(diff <(jq -c 'select(.op == "m") | del(.ts_ms, .ts_us, .ts_ns, .source.name)' "$O" | sort) \
		<(jq -c '.payload | fromjson | del(.ts_ms, .ts_us, .ts_ns, .source.name)' "$PG_TMP/m.json" | sort))"
t_eq "kafka: the table's topic has the rows only" "c c c" \
	"$(kafka_records m.public.t | jq -r .op | xargs)"
# Parquet: nothing for messages, the rows all there
t_eq "parquet: the three rows, no file for messages" "3 1" \
	"$(duck "SELECT count(*) FROM read_parquet('$PG_TMP/pq/public.t/*/*.parquet')") $(ls "$PG_TMP/pq" | grep -vc '^\.' || true)"

# protobuf: the same message records (Change.message)
mapfile -t KP < <(kafka_args mp protobuf)
psql_q "SELECT pg_create_logical_replication_slot('mp', 'pgoutput')" >/dev/null
psql_q "BEGIN; INSERT INTO t VALUES (4, 'd'); SELECT pg_logical_emit_message(true, 'outbox', 'order 4'); COMMIT;
        SELECT pg_logical_emit_message(false, 'audit', 'z')" >/dev/null
agent_start p "${KP[@]}" --set source.slot=mp --set "source.state_dir=$PG_TMP/statep"
wait_caught_up 60 mp || t_fail "caught up (mp)" "no"
agent_stop TERM
kafka_proto mp.message >"$PG_TMP/mp.json"
t_eq "protobuf: the message records (Change.message), transactional with its txId, the other without" \
	"audit $(printf z | base64) null|outbox $(printf '%s' 'order 4' | base64 -w0) number" \
	"$(jq -r '.value | "\(.message.prefix) \(.message.content) \(.source.txId | if . == null then "null" else type end)"' \
		"$PG_TMP/mp.json" | sort | paste -sd '|')"
t_eq "protobuf: keyed by prefix" '{"prefix":"audit"} {"prefix":"outbox"}' "$(jq -r .key "$PG_TMP/mp.json" | sort | paste -sd ' ')"

# sink.kafka.messages = off: no message topic
psql_q "SELECT pg_create_logical_replication_slot('off', 'pgoutput')" >/dev/null
psql_q "SELECT pg_logical_emit_message(true, 'outbox', 'unsent'); INSERT INTO t VALUES (5, 'e')" >/dev/null
mapfile -t KO < <(kafka_args mo)
agent_start o "${KO[@]}" --set source.slot=off --set "source.state_dir=$PG_TMP/stateo" --set sink.kafka.messages=off
wait_caught_up 60 off || t_fail "caught up (off)" "no"
agent_stop TERM
t_eq "messages = off: the row only, no message topic" "c none" \
	"$(kafka_records mo.public.t | jq -r .op | xargs) $(kcat -L -b "$KAFKA_BOOTSTRAP" 2>&1 | grep -q '"mo.message"' && echo present || echo none)"
t_summary
