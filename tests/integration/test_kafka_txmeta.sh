#!/usr/bin/env bash
# [sink.kafka] transaction_topic = on (Debezium's transaction metadata, SPEC §3): every
# transaction that produced row records gets a BEGIN record before them and an END
# record after them on <topic_prefix>.transaction, keyed {"id"}, the id "<txId>:<LSN>"
# as Debezium's PostgreSQL connector makes it, END with event_count and the count per
# table (data_collections); each row record carries "transaction": {"id", "total_order",
# "data_collection_order"}.  A transactional message counts as Debezium's do (data
# collection LOGICAL_DECODING_MESSAGE, DBZ-8185).  Snapshot (backfill) rows and
# transactions that produced no record have none.  Off (the default): "transaction": null, no topic.
# JSON and protobuf, read back with kcat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 1
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE u (id int PRIMARY KEY, v text);
CREATE TABLE skipped (id int PRIMARY KEY);
INSERT INTO t VALUES (0, 'before');
CREATE PUBLICATION pgcdc FOR TABLE t, u"
mapfile -t K < <(kafka_args x)
agent_start a "${K[@]}" --set sink.kafka.transaction_topic=on --set source.snapshot=initial
for _ in $(seq 1 100); do grep -qs "backfill: done" "$PG_TMP/a.log" && break; sleep 0.1; done
psql_q "INSERT INTO u VALUES (1, 'u1')"
psql_q "BEGIN; INSERT INTO t VALUES (1, 'a'); INSERT INTO u VALUES (2, 'u2');
        SELECT pg_logical_emit_message(true, 'outbox', 'm'); INSERT INTO t VALUES (2, 'b');
        UPDATE u SET v = 'u1!' WHERE id = 1; COMMIT" >/dev/null
psql_q "INSERT INTO skipped VALUES (1)"
psql_q "BEGIN; INSERT INTO t VALUES (9, 'rolled back'); ROLLBACK"
psql_q "DELETE FROM t WHERE id = 2"
psql_q "SELECT pg_logical_emit_message(false, 'audit', 'n')" >/dev/null
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"

kafka_json x.transaction >"$PG_TMP/tx.json"
jq -c '.payload | fromjson' "$PG_TMP/tx.json" >"$PG_TMP/tx"
{ kafka_records x.public.t; kafka_records x.public.u; } >"$PG_TMP/rows"
# (BEGIN and END ids differ, as Debezium's, so they may land in different partitions)
t_eq "transaction topic: a BEGIN and an END for each of the three transactions with rows" \
	"BEGIN,END BEGIN,END BEGIN,END" \
	"$(jq -rs 'group_by(.id | split(":")[0]) | map(map(.status) | sort | join(",")) | join(" ")' "$PG_TMP/tx")"
t_eq "transaction topic: the transactions are those of the rows" \
	"$(jq -r 'select(.op != "r") | .source.txId' "$PG_TMP/rows" | sort -u | xargs)" \
	"$(jq -r '.id | split(":")[0]' "$PG_TMP/tx" | sort -u | xargs)"
t_eq "keys are {\"id\"} of the record's id" "true" \
	"$(jq -s 'map((.key | fromjson | .id) == (.payload | fromjson | .id)) | all' "$PG_TMP/tx.json")"
# the transaction of four rows in two tables and a transactional message
xid=$(jq -r 'select(.after.id == 1 and .source.table == "t") | .source.txId' "$PG_TMP/rows")
t_eq "END: event_count 5, per table t 2 and u 2, the message under LOGICAL_DECODING_MESSAGE" \
	'5 [{"data_collection":"LOGICAL_DECODING_MESSAGE","event_count":1},{"data_collection":"public.t","event_count":2},{"data_collection":"public.u","event_count":2}]' \
	"$(jq -c --arg x "$xid" 'select(.status == "END" and (.id | startswith($x + ":"))) | "\(.event_count) \(.data_collections | sort_by(.data_collection) | tojson)"' -r "$PG_TMP/tx")"
t_eq "BEGIN: event_count and data_collections null" "null null null null null null" \
	"$(jq -r 'select(.status == "BEGIN") | "\(.event_count) \(.data_collections)"' "$PG_TMP/tx" | xargs)"
# ids: "<txId>:<LSN>": the BEGIN's where the server starts the transaction (its first
# change), the END's past the last; ts_ms the commit time
t_eq "ids: <txId>:<LSN>, BEGIN at the first row, END after the last, ts_ms the commit's" "ok" \
	"$(jq -rs --arg x "$xid" '
		(map(select(.status != null and (.id | startswith($x + ":"))))) as $tx
		| (map(select(.source.txId? == ($x | tonumber)))) as $rows
		| ($tx | map(select(.status == "BEGIN"))[0].id | split(":")[1] | tonumber) as $b
		| ($tx | map(select(.status == "END"))[0].id | split(":")[1] | tonumber) as $e
		| if ($rows | length) == 4 and ($rows | all(.source.lsn >= $b and .source.lsn < $e))
		     and ($tx | all(.ts_ms == $rows[0].source.ts_ms)) then "ok" else [$b, $e, $rows] end' \
		"$PG_TMP/tx" "$PG_TMP/rows")"
t_eq "rows: transaction.id is <txId>:<its LSN>" "true" \
	"$(jq -s 'map(select(.op != "r")) | map(.transaction.id == "\(.source.txId):\(.source.lsn)") | all' "$PG_TMP/rows")"
t_eq "rows: total_order over the transaction, data_collection_order within the table" \
	"t:1:1:1 u:2:2:1 t:2:4:2 u:1:5:2" \
	"$(jq -r --arg x "$xid" 'select(.source.txId == ($x | tonumber)) | [.source.lsn, "\(.source.table):\(.after.id):\(.transaction.total_order):\(.transaction.data_collection_order)"] | @tsv' "$PG_TMP/rows" \
		| sort -n | cut -f2 | xargs)"
end_of() {   # end_of JQ-SELECTOR: the END record of the transaction of the row selected
	local x
	x=$(jq -r "select($1) | .source.txId" "$PG_TMP/rows")
	jq -r --arg x "$x" 'select(.status == "END" and (.id | startswith($x + ":"))) | "\(.event_count) \(.data_collections | tojson)"' "$PG_TMP/tx"
}
t_eq "a single-row transaction: END counts 1" \
	'1 [{"data_collection":"public.u","event_count":1}]' "$(end_of '.op == "c" and .after.id == 1 and .source.table == "u"')"
t_eq "the delete's transaction: END counts 1 on t" \
	'1 [{"data_collection":"public.t","event_count":1}]' "$(end_of '.op == "d"')"
t_eq "the message: its transaction block, third in the transaction, first of its collection" \
	"true 3 1" "$(kafka_records x.message | jq -r --arg x "$xid" 'select(.message.prefix == "outbox") | "\(.transaction.id == "\($x):\(.source.lsn)") \(.transaction.total_order) \(.transaction.data_collection_order)"')"
t_eq "backfill rows: transaction null" "null" "$(jq -c 'select(.op == "r") | .transaction' "$PG_TMP/rows")"
t_eq "a non-transactional message: transaction null" "null" \
	"$(kafka_records x.message | jq -c 'select(.message.prefix == "audit") | .transaction')"

# protobuf: Change.transaction_block and TransactionEvent on the same topic
mapfile -t KP < <(kafka_args xp protobuf)
psql_q "SELECT pg_create_logical_replication_slot('xp', 'pgoutput')" >/dev/null
psql_q "BEGIN; INSERT INTO t VALUES (5, 'e'); INSERT INTO u VALUES (5, 'e'); COMMIT" >/dev/null
agent_start p "${KP[@]}" --set source.slot=xp --set "source.state_dir=$PG_TMP/statep" \
	--set sink.kafka.transaction_topic=on
wait_caught_up 60 xp || t_fail "caught up (xp)" "no"
agent_stop TERM
kcat -C -b "$KAFKA_BOOTSTRAP" -t xp.transaction -e -q -f '%p %o %K %S\n%k%s' \
	| "$KAFKA_TOOLS/kafka-protodump" --transaction >"$PG_TMP/xp.json"
t_eq "protobuf: BEGIN, END with the counts" \
	'BEGIN END 2 [{"data_collection":"public.t","event_count":1},{"data_collection":"public.u","event_count":1}]' \
	"$(jq -r '.value.status' "$PG_TMP/xp.json" | xargs) $(jq -c 'select(.value.status == "END") | .value | "\(.event_count) \(.data_collections | sort_by(.data_collection) | tojson)"' -r "$PG_TMP/xp.json")"
t_eq "protobuf: BEGIN has null counts, keys are {\"id\"}" "null null true" \
	"$(jq -r 'select(.value.status == "BEGIN") | "\(.value.event_count) \(.value.data_collections) \((.key | fromjson | .id) == .value.id)"' "$PG_TMP/xp.json")"
{ kafka_proto xp.public.t; kafka_proto xp.public.u; } >"$PG_TMP/xprows.json"
t_eq "protobuf: rows carry the transaction block, id <txId>:<LSN>" "1:1:true 2:1:true" \
	"$(jq -r '.value | "\(.transaction.total_order):\(.transaction.data_collection_order):\(.transaction.id == "\(.source.txId):\(.source.lsn)")"' "$PG_TMP/xprows.json" | sort | xargs)"

# off (the default): no topic, "transaction": null
psql_q "SELECT pg_create_logical_replication_slot('off', 'pgoutput')" >/dev/null
psql_q "INSERT INTO t VALUES (6, 'f')"
mapfile -t KO < <(kafka_args xo)
agent_start o "${KO[@]}" --set source.slot=off --set "source.state_dir=$PG_TMP/stateo"
wait_caught_up 60 off || t_fail "caught up (off)" "no"
agent_stop TERM
t_eq "transaction_topic = off: transaction null, no topic" "null none" \
	"$(kafka_records xo.public.t | jq -c .transaction | xargs) $(kcat -L -b "$KAFKA_BOOTSTRAP" 2>&1 | grep -q '"xo.transaction"' && echo present || echo none)"
t_summary
