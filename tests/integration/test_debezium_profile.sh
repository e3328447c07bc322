#!/usr/bin/env bash
# [format] profile = debezium (SPEC §3a): a real server's rows of the types Debezium's
# own tests use (AbstractRecordsProducerTest: numeric with and without scale, money,
# date, time, time(3), 24:00, timestamp, timestamp(3), timestamptz past 9999 and
# zero fraction, infinity, timetz, interval, bytea, arrays), read back from Kafka with
# kcat and compared value by value with what Debezium's PostgresValueConverter emits,
# under the default modes and under string / double / connect / hex ones; an update
# that kept its key has no before, a delete's before has every column (the others
# null), truncates are skipped; the pgcdc profile is unchanged by all this.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 1
psql_q "CREATE TABLE tt (pk int PRIMARY KEY,
  d numeric(3,2), dzs numeric(4,0), dvs numeric, n numeric(6,4), nvs numeric, nan numeric,
  csh money, ncsh money, dt date, ti time, tip time(3), ttf time,
  ts timestamp, ts_ms timestamp(3), tsneg timestamp, ts_pinf timestamp,
  tz timestamptz, tz_large timestamptz, tz_zero timestamptz, tz_pinf timestamptz,
  ttz timetz, tptz timetz(3), it interval, ba bytea, da date[], na numeric(10,2)[], ia int[]);
CREATE PUBLICATION pgcdc FOR ALL TABLES"
ROW="INSERT INTO tt VALUES (1,
  1.1, 10, 10.1111, 22.22, 22.2200, 'NaN',
  '\$1234.11', '(\$1234.11)', '2016-11-04', '13:51:30', '13:51:30.123', '24:00:00',
  '2016-11-04T13:51:30.123456', '2016-11-04T13:51:30.123456', '1936-10-25T22:10:12.608', 'infinity',
  '2016-11-04T13:51:30.123456+02:00', '21016-11-04T13:51:30.123456+07:00', '21016-11-04T13:51:30.000000+07:00', 'infinity',
  '13:51:30.123789+02:00', '13:51:30.123+02:00', 'P1Y2M3DT4H5M6.78S', E'\\\\001\\\\002\\\\003',
  '{2016-11-04,2016-11-05}', '{1.2,3.4}', '{1,2,3}')"

run_profile() {   # run_profile NAME SLOT [--set ...]: stream ROW, an update, a delete, a truncate
	local name=$1 slot=$2
	shift 2
	psql_q "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput')" >/dev/null
	psql_q "$ROW"
	psql_q "UPDATE tt SET dt = '2016-11-05' WHERE pk = 1"
	psql_q "DELETE FROM tt WHERE pk = 1"
	[[ -z ${EXTRA_SQL-} ]] || psql_q "$EXTRA_SQL" >/dev/null
	psql_q "TRUNCATE tt"
	mapfile -t K < <(kafka_args "$name")
	agent_start "$name" "${K[@]}" --set sink.stdout.enabled=on --set "source.slot=$slot" \
		--set "source.state_dir=$PG_TMP/state-$name" "$@"
	wait_caught_up 60 "$slot" || t_fail "caught up ($name)" "no"
	agent_stop TERM
	kafka_records "$name.public.tt" >"$PG_TMP/$name.kafka"
}

# defaults: precise, adaptive, numeric, bytes
run_profile dbz dbz --set format.profile=debezium
A=$(jq -c 'select(.op == "c") | .after' "$PG_TMP/dbz.kafka")
v() { jq -c ".$1" <<<"$A"; }
t_eq "numeric(3,2) 1.1: Decimal 1.10, base64 of 110" '"bg=="' "$(v d)"
t_eq "numeric(4,0) 10: Decimal 10" '"Cg=="' "$(v dzs)"
t_eq "numeric without typmod 10.1111: VariableScaleDecimal" '{"scale":4,"value":"AYr3"}' "$(v dvs)"
t_eq "numeric(6,4) 22.22: Decimal 22.2200" '"A2P4"' "$(v n)"
t_eq "numeric without typmod 22.2200: scale stripped to 2" '{"scale":2,"value":"CK4="}' "$(v nvs)"
t_eq "numeric NaN, precise: null" 'null' "$(v nan)"
t_eq "money \$1234.11: Decimal(2) 1234.11" '"AeIT"' "$(v csh)"
t_eq "money (\$1234.11): -1234.11" '"/h3t"' "$(v ncsh)"
t_eq "date: days since the epoch" '17109' "$(v dt)"
t_eq "time: MicroTime" '49890000000' "$(v ti)"
t_eq "time(3): Time in ms" '49890123' "$(v tip)"
t_eq "time 24:00:00: a day in microseconds" '86400000000' "$(v ttf)"
t_eq "timestamp: MicroTimestamp" '1478267490123456' "$(v ts)"
t_eq "timestamp(3): Timestamp in ms" '1478267490123' "$(v ts_ms)"
t_eq "timestamp before 1970" '-1047174587392000' "$(v tsneg)"
t_eq "timestamp infinity: PgStatement.DATE_POSITIVE_INFINITY" '9223372036825200000' "$(v ts_pinf)"
t_eq "timestamptz: UTC, six fraction digits" '"2016-11-04T11:51:30.123456Z"' "$(v tz)"
t_eq "timestamptz past 9999" '"+21016-11-04T06:51:30.123456Z"' "$(v tz_large)"
t_eq "timestamptz, zero fraction kept" '"+21016-11-04T06:51:30.000000Z"' "$(v tz_zero)"
t_eq "timestamptz infinity" '"infinity"' "$(v tz_pinf)"
t_eq "timetz: ZonedTime in UTC" '"11:51:30.123789Z"' "$(v ttz)"
t_eq "timetz(3)" '"11:51:30.123Z"' "$(v tptz)"
t_eq "interval: MicroDuration" '37091106780000' "$(v it)"
t_eq "bytea: base64 bytes" '"AQID"' "$(v ba)"
t_eq "date[]: days" '[17109,17110]' "$(v da)"
t_eq "numeric(10,2)[]: Decimals" '["eA==","AVQ="]' "$(v na)"
t_eq "int[]" '[1,2,3]' "$(v ia)"
t_eq "update that kept its key: before null; delete: every column, the others null" \
	'null {"pk":1,"d":null,"dt":null,"ba":null}' \
	"$(jq -c 'select(.op == "u") | .before' "$PG_TMP/dbz.kafka") $(jq -c 'select(.op == "d") | .before | {pk, d, dt, ba}' "$PG_TMP/dbz.kafka")"
t_eq "truncate skipped (Kafka and stdout); records c u d" "c u d|c u d" \
	"$(jq -r .op "$PG_TMP/dbz.kafka" | xargs)|$(jq -r .op "$PG_TMP/dbz.out" | xargs)"
t_eq "stdout: the same values as Kafka" "" \
	"$(diff <(jq -c '.after' "$PG_TMP/dbz.kafka") <(jq -c '.after' "$PG_TMP/dbz.out"))"
t_eq "the key: {\"pk\":1}" '{"pk":1}' "$(kafka_json dbz.public.tt | jq -r 'select(.payload != null) | .key' | sort -u)"

# the other modes
run_profile dbz2 dbz2 --set format.profile=debezium --set format.decimal_handling_mode=string \
	--set format.time_precision_mode=connect --set format.interval_handling_mode=string \
	--set format.binary_handling_mode=hex
A=$(jq -c 'select(.op == "c") | .after' "$PG_TMP/dbz2.kafka")
t_eq "string decimals: 1.10 10 10.1111 NAN 1234.11 -1234.11" '"1.10" "10" "10.1111" "NAN" "1234.11" "-1234.11"' \
	"$(jq -c '[.d, .dzs, .dvs, .nan, .csh, .ncsh] | .[]' <<<"$A" | xargs -d '\n')"
t_eq "connect: time and timestamp in ms, date in days" '49890000 49890123 1478267490123 17109' \
	"$(jq -c '[.ti, .tip, .ts, .dt] | .[]' <<<"$A" | xargs)"
t_eq "string interval: every component" '"P1Y2M3DT4H5M6.78S"' "$(jq -c .it <<<"$A")"
t_eq "hex bytea" '"010203"' "$(jq -c .ba <<<"$A")"
run_profile dbz3 dbz3 --set format.profile=debezium --set format.decimal_handling_mode=double \
	--set format.binary_handling_mode=base64-url-safe
# (the record's own text: jq would print 10.0 as 10)
raw=$(kafka_json dbz3.public.tt | jq -r 'select(.payload != null) | .payload' | grep '"op":"c"')
t_eq "double decimals, as Java prints doubles: 1.1 10.0 10.1111 \"NaN\" 1234.11" \
	'"d":1.1 "dzs":10.0 "dvs":10.1111 "nan":"NaN" "csh":1234.11' \
	"$(for f in d dzs dvs nan csh; do grep -o "\"$f\":[^,]*" <<<"$raw" | head -1; done | xargs -d '\n')"
t_eq "base64-url-safe bytea" '"AQID"' "$(jq -c 'select(.op == "c") | .after.ba' "$PG_TMP/dbz3.kafka")"

# schemas = on: Kafka Connect's JsonConverter envelopes, read back by an independent
# reader of them (connect_check.py), on the row, message and transaction topics; with
# column defaults (a literal, a sequence, a function, NOT NULL)
psql_q "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE EXTENSION hstore;
  ALTER TABLE tt ADD COLUMN ser serial, ADD COLUMN label text NOT NULL DEFAULT 'new',
  ADD COLUMN mo mood NOT NULL DEFAULT 'ok',
  ADD COLUMN bits bit(3) DEFAULT B'101', ADD COLUMN flag varbit(1), ADD COLUMN hs hstore,
  ALTER d SET DEFAULT 1.5, ALTER dt SET DEFAULT now(), ALTER nvs SET DEFAULT 2.5"
EXTRA_SQL="BEGIN; SELECT pg_logical_emit_message(true, 'outbox', 'hi'); INSERT INTO tt (pk, flag, hs) VALUES (2, B'1', 'a=>1, b=>NULL'); DELETE FROM tt WHERE pk = 2; COMMIT" \
	run_profile dbz4 dbz4 --set format.profile=debezium --set format.schemas=on \
	--set sink.kafka.transaction_topic=on
CC="$(dirname "$0")/connect_check.py"
for topic in dbz4.public.tt dbz4.message dbz4.transaction; do
	kafka_json "$topic" >"$PG_TMP/$topic.raw"
	python3 "$CC" <"$PG_TMP/$topic.raw" >"$PG_TMP/$topic.conv" || true
	t_eq "schemas = on, $topic: every key and value reads back under its schema" "" \
		"$(grep ERROR "$PG_TMP/$topic.conv" || true)"
done
t_eq "schemas = on: records on the three topics (5 rows + 2 tombstones, 1 message, BEGIN/END x4)" \
	"7 1 8" "$(wc -l <"$PG_TMP/dbz4.public.tt.conv") $(wc -l <"$PG_TMP/dbz4.message.conv") $(wc -l <"$PG_TMP/dbz4.transaction.conv")"
C=$(jq -c 'select(.value.op == "c" and .value.after.pk == 1) | .value.after' "$PG_TMP/dbz4.public.tt.conv")
t_eq "schemas = on, converted: Decimals by their scale, VariableScaleDecimal, money, numeric[]" \
	'"1.10" "10" {"scale":4,"value":"018af7"} "1234.11" "-1234.11" ["1.20","3.40"]' \
	"$(jq -c '[.d, .dzs, .dvs, .csh, .ncsh, .na] | .[]' <<<"$C" | xargs -d '\n')"
t_eq "schemas = on: the payload is the schemaless record's" "" \
	"$(diff <(jq -c 'select(.op == "c") | .after' "$PG_TMP/dbz.kafka") \
	        <(jq -r 'select(.payload != null) | .payload' "$PG_TMP/dbz4.public.tt.raw" | jq -c 'select(.payload.op == "c" and .payload.after.pk == 1) | .payload.after | del(.ser, .label, .mo, .bits, .flag, .hs)'))"
S=$(jq -r 'select(.payload != null) | .payload' "$PG_TMP/dbz4.public.tt.raw" | sed -n 1p | jq -c .schema)
fs() { jq -c --arg f "$1" '.fields[] | select(.field == "after") | .fields[] | select(.field == $f)' <<<"$S"; }
t_eq "schemas = on: the envelope's name and version, the row struct's" \
	'"dbz4.public.tt.Envelope" 2 "dbz4.public.tt.Value" "io.debezium.connector.postgresql.Source" "event.block"' \
	"$(jq -c '.name, .version, (.fields[0].name), (.fields[2].name), (.fields[3].name)' <<<"$S" | xargs -d '\n')"
t_eq "schemas = on: the key column is required, the others optional (NOT NULL from the catalog)" \
	'{"type":"int32","optional":false,"field":"pk"} true' "$(fs pk) $(fs d | jq .optional)"
t_eq "schemas = on: defaults as Debezium reads them (serial 0, 'new', 1.5 as Decimal 1.50, now() the epoch, none for a struct)" \
	'{"type":"int32","optional":false,"default":0,"field":"ser"} {"type":"string","optional":false,"default":"new","field":"label"} "AJY=" 0 null' \
	"$(fs ser) $(fs label) $(fs d | jq -c .default) $(fs dt | jq -c .default) $(fs nvs | jq -c .default)"
t_eq "a key-only delete: NOT NULL columns get their default, as Debezium's converters give them" \
	'{"pk":1,"ser":0,"label":"new","mo":"ok","d":null}' \
	"$(jq -c 'select(.value.op == "d" and .value.before.pk == 1) | .value.before | {pk, ser, "label": .label, mo, d}' "$PG_TMP/dbz4.public.tt.conv")"
t_eq "schemas = on: an enum is io.debezium.data.Enum with its labels, its default the label" \
	'{"type":"string","optional":false,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"sad,ok,happy"},"default":"ok","field":"mo"}' \
	"$(fs mo)"
t_eq "bit(3) B'101' as io.debezium.data.Bits (the byte 05, little-endian), varbit(1) a boolean" \
	'"05" true {"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{"length":"3"},"field":"bits"}' \
	"$(jq -c 'select(.value.op == "c" and .value.after.pk == 2) | .value.after | .bits, .flag' "$PG_TMP/dbz4.public.tt.conv" | xargs -d '\n') $(fs bits)"
t_eq "hstore: a JSON object in an io.debezium.data.Json string (hstore.handling.mode = json)" \
	'"{\"a\":\"1\",\"b\":null}" "io.debezium.data.Json"' \
	"$(jq -c 'select(.value.op == "c" and .value.after.pk == 2) | .value.after.hs' "$PG_TMP/dbz4.public.tt.conv") $(fs hs | jq -c .name)"
t_eq "schemas = on: logical types" \
	'"io.debezium.time.Date" "io.debezium.time.MicroTime" "io.debezium.time.Time" "io.debezium.time.MicroTimestamp" "io.debezium.time.ZonedTimestamp" "io.debezium.time.ZonedTime" "io.debezium.time.MicroDuration" {"scale":"2","connect.decimal.precision":"3"}' \
	"$(for f in dt ti tip ts tz ttz it; do fs $f | jq -c .name; done | xargs -d '\n') $(fs d | jq -c .parameters)"
t_eq "schemas = on: the key envelope" \
	'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"pk"}],"optional":false,"name":"dbz4.public.tt.Key"},"payload":{"pk":1}}' \
	"$(jq -r 'select(.payload != null) | .key' "$PG_TMP/dbz4.public.tt.raw" | jq -c 'select(.payload.pk == 1)' | sed -n 1p)"
t_eq "schemas = on: the message record (MessageKey/MessageValue, op m, content)" \
	'"io.debezium.connector.postgresql.MessageKey" "io.debezium.connector.postgresql.MessageValue" "m" "outbox" "6869"' \
	"$(jq -r .key "$PG_TMP/dbz4.message.raw" | jq -c .schema.name) $(jq -r .payload "$PG_TMP/dbz4.message.raw" | jq -c .schema.name) $(jq -c '.value.op, .value.message.prefix, .value.message.content' "$PG_TMP/dbz4.message.conv" | xargs -d '\n')"
t_eq "schemas = on: transaction records (TransactionMetadataKey/Value)" \
	'"io.debezium.connector.common.TransactionMetadataKey" "io.debezium.connector.common.TransactionMetadataValue"' \
	"$(jq -r .key "$PG_TMP/dbz4.transaction.raw" | sed -n 1p | jq -c .schema.name) $(jq -r .payload "$PG_TMP/dbz4.transaction.raw" | sed -n 1p | jq -c .schema.name)"
mapfile -t base < <(agent_args)
set +e
"$PGCDC_BIN" "${base[@]}" --set format.schemas=on check >/dev/null 2>"$PG_TMP/schemas.err"
rc=$?
set -e
t_eq "schemas = on without the Debezium profile: a config error (exit 2)" \
	"2 yes" "$rc $(grep -q 'format.schemas: on needs profile = debezium' "$PG_TMP/schemas.err" && echo yes || echo no)"

# the default profile is untouched
run_profile pg pg
A=$(jq -c 'select(.op == "c") | .after' "$PG_TMP/pg.kafka")
t_eq "pgcdc profile: strings as before" '"1.10" "2016-11-04" "2016-11-04T11:51:30.123456Z" "$1,234.11"' \
	"$(jq -c '[.d, .dt, .tz, .csh] | .[]' <<<"$A" | xargs -d '\n')"
t_eq "pgcdc profile: the truncate is a record" "c u d t" "$(jq -r .op "$PG_TMP/pg.out" | xargs)"
t_summary
