#!/usr/bin/env bash
# format = protobuf carries the same information as format = json: the same workload
# (every SPEC §3 type, updates with unchanged TOAST, FULL and DEFAULT identity, PK change,
# deletes, tombstones, truncate) is streamed through two slots, one per format, read back
# with kcat, the protobuf values decoded with the protobuf-c code generated from
# decoder/pgcdc.proto (build/tools/kafka-protodump) and compared record by record with the
# JSON envelopes. Typed values (int64, double, bool, bytes) are checked directly too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 3
psql_q "CREATE TYPE mood AS ENUM ('sad', 'happy');
  CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
  CREATE TABLE ty (id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, o oid, f4 real,
    f8 double precision, n numeric(10,2), nu numeric, b boolean, t text, vc varchar(10), c char(3),
    e mood, ip inet, m money, x xml, u uuid, by bytea, d date, tm time, ttz timetz, ts timestamp,
    tstz timestamptz, iv interval, j json, jb jsonb, ai int[], a2 int[], at text[], dom posint,
    f8n double precision, f8i double precision, nn numeric, di date, tsi timestamptz, bye bytea,
    ad date[], pt point, big text);
  ALTER TABLE ty ALTER big SET STORAGE EXTERNAL;
  CREATE TABLE full_t (id int PRIMARY KEY, v text); ALTER TABLE full_t REPLICA IDENTITY FULL;
  CREATE TABLE nokey (a int, b text);
  CREATE PUBLICATION pgcdc FOR ALL TABLES"

mapfile -t KJ < <(kafka_args pj json)
mapfile -t KP < <(kafka_args pp protobuf)
KJ+=(--set source.slot=pj)
KP+=(--set source.slot=pp)
slot_active() { [[ $(psql_q "SELECT active FROM pg_replication_slots WHERE slot_name = '$1'") == t ]]; }
slot_idle() { ! slot_active "$1"; }
# create both slots first, so both see the whole workload
agent_start j "${KJ[@]}"
wait_for 30 slot_active pj || t_fail "slot pj created" "not active"
agent_stop TERM
wait_for 30 slot_idle pj
agent_start p "${KP[@]}"
wait_for 30 slot_active pp || t_fail "slot pp created" "not active"
agent_stop TERM
wait_for 30 slot_idle pp

psql_q "INSERT INTO ty VALUES (1, -32768, 2147483647, 9223372036854775807, 4294967295, 1.5, 1.1,
  -12.50, 123456789012345678901234567890.123456789, true, E'h\u00e9llo \U0001F30D \"q\"\n\t', 'abc', 'ab',
  'happy', '192.168.0.1/24', 12.34, '<a>b</a>', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10',
  '2026-11-22', '10:00:00.123456', '10:00:00+02', '2026-11-22 10:00:00.5', '2026-11-22 12:00:00+02',
  '1 year 2 months 3 days 04:05:06.5', '{\"a\": [1, 2]}', '{\"b\": 1, \"a\": 2}', '{1,NULL,3}',
  '{{1,2},{3,4}}', '{\"a b\",\"c\\\"d\",NULL,\"NULL\",\"\"}', 7, 'NaN', '-Infinity', 'NaN', 'infinity',
  '-infinity', '', '{2026-01-02,NULL}', '(1,2)', repeat('z', 3000))"
psql_q "INSERT INTO ty (id) VALUES (2)"
psql_q "INSERT INTO ty (id, f4, f8, d, ts, iv, n, i8, b) VALUES (3, '-0.000125', '1e+100', '0044-03-15 BC',
  '2026-11-22 10:00:00', '-1 day', 0, -9223372036854775808, false)"
psql_q "UPDATE ty SET t = 'changed' WHERE id = 1"        # big: unchanged TOAST
psql_q "UPDATE ty SET id = 4 WHERE id = 2"               # PK change
psql_q "DELETE FROM ty WHERE id = 3"
psql_q "INSERT INTO full_t VALUES (1, 'a'); UPDATE full_t SET v = 'b'; DELETE FROM full_t"
psql_q "INSERT INTO nokey VALUES (1, 'x')"
psql_q "TRUNCATE nokey"

agent_start j "${KJ[@]}"
wait_for 30 slot_active pj || true
wait_caught_up 60 pj || t_fail "json slot caught up" "no"
agent_stop TERM
wait_for 30 slot_idle pj
agent_start p "${KP[@]}"
wait_for 30 slot_active pp || true
wait_caught_up 60 pp || t_fail "protobuf slot caught up" "no"
agent_stop TERM
t_eq "protobuf agent exits 0" 0 "$AGENT_RC"

# the same records, normalized: {key, value} without what legitimately differs (the
# top-level ts_ms, ts_us and ts_ns, when the record was made; source.name, the topic prefix)
norm='{key, value: (if .value == null then null else (.value | del(.ts_ms, .ts_us, .ts_ns) | del(.source.name)) end)}'
: >"$PG_TMP/json.norm"
: >"$PG_TMP/proto.norm"
: >"$PG_TMP/proto.raw"
for tbl in ty full_t nokey; do
	kafka_json "pj.public.$tbl" | jq -c "{key, value: (.payload | if . == null then null else fromjson end)} | $norm" -S \
		>>"$PG_TMP/json.norm"
	kafka_proto "pp.public.$tbl" | tee -a "$PG_TMP/proto.raw" | jq -c "$norm" -S >>"$PG_TMP/proto.norm"
done
t_eq "json topics: 15 messages" 15 "$(wc -l <"$PG_TMP/json.norm")"
t_eq "protobuf topics: as many messages" "$(wc -l <"$PG_TMP/json.norm")" "$(wc -l <"$PG_TMP/proto.norm")"
t_eq "protobuf records decode to the JSON records, field by field" "" \
	"$(diff <(sort "$PG_TMP/json.norm") <(sort "$PG_TMP/proto.norm") | sed -n '1,6p')"
t_eq "source.name is each format's topic prefix" "pj pp" \
	"$(kafka_records pj.public.ty | jq -r .source.name | sort -u) $(jq -r '.value.source.name // empty' "$PG_TMP/proto.raw" | sort -u)"

# typed values straight from the protobuf decoding (exact text, not through jq's doubles)
r1=$(grep '"op":"c"' "$PG_TMP/proto.raw" | grep '"id":1,' | sed -n 1p)
for want in '"i8":9223372036854775807,' '"o":4294967295,' '"f8":1.1,' '"b":true,' '"by":"AP8Q",' \
	'"n":"-12.50",' '"nu":"123456789012345678901234567890.123456789",' '"f8n":"NaN",' '"f8i":"-Infinity",' \
	'"ts":"2026-11-22T10:00:00.5",' '"tstz":"2026-11-22T10:00:00Z",' '"ai":[1,null,3],' '"bye":"",'; do
	grep -qF "$want" <<<"$r1" && t_ok "protobuf value $want" || t_fail "protobuf value $want" "$r1"
done
r3=$(grep '"op":"c"' "$PG_TMP/proto.raw" | grep '"id":3,' | sed -n 1p)
grep -qF '"i8":-9223372036854775808,' <<<"$r3" && t_ok "protobuf int64 min exact" || t_fail "protobuf int64 min exact" "$r3"
t_eq "protobuf unchanged TOAST" '"__debezium_unavailable_value"' \
	"$(jq -c 'select(.value.op == "u" and .value.source.table == "ty") | .value.after.big' "$PG_TMP/proto.raw")"
t_eq "protobuf tombstones: null values after the deletes (keys 2, 3, 1)" 3 \
	"$(jq -c 'select(.value == null)' "$PG_TMP/proto.raw" | wc -l)"
t_eq "protobuf keys stay JSON" '{"id":1}' "$(jq -r 'select(.value.op == "c" and .value.after.id == 1) | .key' "$PG_TMP/proto.raw" | sed -n 1p)"
t_summary
