#!/usr/bin/env bash
# Every type of SPEC §3, streamed from a real server, compared value by value.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

# a server whose own defaults differ from what pgcdc asks for: the output must not change
pg_start "DateStyle = 'SQL, DMY'" "TimeZone = 'Asia/Kolkata'" "IntervalStyle = 'postgres_verbose'" \
	"extra_float_digits = 0" "bytea_output = 'escape'"
psql_q "CREATE EXTENSION citext;
  CREATE TYPE mood AS ENUM ('sad', 'happy');
  CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
  CREATE DOMAIN email AS text;
  CREATE DOMAIN tags AS text[];
  CREATE TABLE ty (id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, o oid, f4 real,
    f8 double precision, n numeric(10,2), nu numeric, b boolean, t text, vc varchar(10), c char(3),
    nm name, e mood, ci citext, ip inet, cidr_ cidr, mac macaddr, m money, x xml, u uuid, by bytea,
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval, j json, jb jsonb,
    ai int[], a2 int[], at text[], dom posint, dt email, dtags tags, em mood[],
    f8n double precision, f8i double precision, nn numeric, di date, tsi timestamptz, bye bytea,
    ad date[], ats timestamptz[], pt point);
  CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start a
psql_q "INSERT INTO ty VALUES (1, -32768, 2147483647, 9223372036854775807, 4294967295, 1.5, 1.1,
  -12.50, 123456789012345678901234567890.123456789, true, E'h\u00e9llo \U0001F30D \"q\"\n\t', 'abc', 'ab',
  'nm', 'happy', 'MiXeD', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 12.34, '<a>b</a>',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '2026-11-22', '10:00:00.123456', '10:00:00+02',
  '2026-11-22 10:00:00.5', '2026-11-22 12:00:00+02', '1 year 2 months 3 days 04:05:06.5',
  '{\"a\": [1, 2]}', '{\"b\": 1, \"a\": 2}', '{1,NULL,3}', '{{1,2},{3,4}}', '{\"a b\",\"c\\\"d\",NULL,\"NULL\",\"\"}',
  7, 'x@y.z', '{x,y}', '{sad,happy}', 'NaN', '-Infinity', 'NaN', 'infinity', '-infinity', '',
  '{2026-01-02,NULL}', '{\"2026-11-22 12:00:00+02\"}', '(1,2)')"
psql_q "INSERT INTO ty (id) VALUES (2)"
psql_q "INSERT INTO ty (id, f4, f8, d, ts, iv, n, i8) VALUES (3, '-0.000125', '1e+100', '0044-03-15 BC',
  '2026-11-22 10:00:00', '-1 day', 0, -9223372036854775808)"
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM

O=$PG_TMP/a.out
t_eq "three inserts" 3 "$(wc -l <"$O")"
row1=$(sed -n 1p "$O")
expect='{"id":1,"i2":-32768,"i4":2147483647,"o":4294967295,"f4":1.5,"f8":1.1,
 "n":"-12.50","nu":"123456789012345678901234567890.123456789","b":true,"t":"h\u00e9llo \ud83c\udf0d \"q\"\n\t",
 "vc":"abc","c":"ab ","nm":"nm","e":"happy","ci":"MiXeD","ip":"192.168.0.1/24","cidr_":"10.0.0.0/8",
 "mac":"08:00:2b:01:02:03","m":"$12.34","x":"<a>b</a>","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
 "by":"AP8Q","d":"2026-11-22","tm":"10:00:00.123456","ttz":"10:00:00+02","ts":"2026-11-22T10:00:00.5",
 "tstz":"2026-11-22T10:00:00Z","iv":"P1Y2M3DT4H5M6.5S","j":"{\"a\": [1, 2]}","jb":"{\"a\": 2, \"b\": 1}",
 "ai":[1,null,3],"a2":[[1,2],[3,4]],"at":["a b","c\"d",null,"NULL",""],"dom":7,"dt":"x@y.z",
 "dtags":["x","y"],"em":["sad","happy"],
 "f8n":"NaN","f8i":"-Infinity","nn":"NaN","di":"infinity","tsi":"-infinity","bye":"",
 "ad":["2026-01-02",null],"ats":["2026-11-22T10:00:00Z"],"pt":"(1,2)"}'
# compare everything but i8 through jq (which reads numbers as doubles) ...
t_eq "row 1: every value" "$(jq -cS . <<<"$expect")" "$(jq -cS '.after | del(.i8)' <<<"$row1")"
# ... and the exact digits of the big integers as text
t_eq "row 1: bigint max exact" 1 "$(grep -c '"i8":9223372036854775807,' <<<"$row1")"
t_eq "row 1: float8 shortest exact text" 1 "$(grep -c '"f8":1.1,' <<<"$row1")"
row2=$(sed -n 2p "$O")
t_eq "row 2: all NULL columns are null" 0 "$(jq '[.after | to_entries[] | select(.key != "id" and .value != null)] | length' <<<"$row2")"
t_eq "row 2: every column present" 47 "$(jq '.after | length' <<<"$row2")"
row3=$(sed -n 3p "$O")
t_eq "row 3: small negative real" 1 "$(grep -c '"f4":-0.000125,' <<<"$row3")"
t_eq "row 3: double 1e+100 as a number" 1 "$(grep -c '"f8":1e+100,' <<<"$row3")"
t_eq "row 3: BC date" '"0044-03-15 BC"' "$(jq -c .after.d <<<"$row3")"
t_eq "row 3: whole-second timestamp" '"2026-11-22T10:00:00"' "$(jq -c .after.ts <<<"$row3")"
t_eq "row 3: negative interval" '"P-1D"' "$(jq -c .after.iv <<<"$row3")"
t_eq "row 3: numeric zero" '"0.00"' "$(jq -c .after.n <<<"$row3")"
t_eq "row 3: bigint min exact" 1 "$(grep -c '"i8":-9223372036854775808,' <<<"$row3")"

# numeric = number
psql_q "SELECT pg_drop_replication_slot('pgcdc')" >/dev/null
rm -rf "$PG_TMP/state"
agent_start b --set format.numeric=number
psql_q "INSERT INTO ty (id, n, nu, nn) VALUES (4, -12.5, 0.000000000000000000001, 'NaN')"
wait_caught_up 60 || true
agent_stop TERM
t_eq "numeric=number: exact digits as numbers" 1 \
	"$(grep -c '"n":-12.50,"nu":0.000000000000000000001,' "$PG_TMP/b.out")"
t_eq "numeric=number: NaN stays a string" '"NaN"' "$(jq -c .after.nn "$PG_TMP/b.out")"
t_summary
