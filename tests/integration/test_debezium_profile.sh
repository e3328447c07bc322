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

# the default profile is untouched
run_profile pg pg
A=$(jq -c 'select(.op == "c") | .after' "$PG_TMP/pg.kafka")
t_eq "pgcdc profile: strings as before" '"1.10" "2016-11-04" "2016-11-04T11:51:30.123456Z" "$1,234.11"' \
	"$(jq -c '[.d, .dt, .tz, .csh] | .[]' <<<"$A" | xargs -d '\n')"
t_eq "pgcdc profile: the truncate is a record" "c u d t" "$(jq -r .op "$PG_TMP/pg.out" | xargs)"
t_summary
