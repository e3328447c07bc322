#!/usr/bin/env bash
# Every type of SPEC §4 streamed into Parquet and read back with DuckDB: values equal
# the source rows (NULLs, NaN, infinities, negative and wide decimals, unicode, empty
# strings, BC dates), column types as DuckDB reports them, column statistics, the
# hive partition, the footer's key-value metadata and the file's name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
psql_q "CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE DOMAIN posint AS int CHECK (VALUE > 0);
        CREATE TABLE ty (
          id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
          b boolean, n52 numeric(5,2), n18 numeric(18,4), n38 numeric(38,10), nfree numeric,
          t text, vc varchar(10), ch char(3), nm name, d date, ts timestamp, tstz timestamptz,
          tm time, ttz timetz, iv interval, u uuid, byt bytea, js json, jb jsonb, arr int[],
          en mood, dom posint, o oid, ip inet);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s)
agent_start a "${args[@]}"
psql_q "INSERT INTO ty VALUES
  (1, 1, 2, 3, 1.5, 2.25, true, 123.45, 12345678901234.5678, 1234567890123456789012345678.0123456789,
   3.14159, 'plain', 'vc', 'ab', 'nm', '2024-01-31', '2024-01-31 12:34:56.123456',
   '2024-01-31 12:34:56.5+02', '13:45:10.000001', '13:45:10+02', '1 year 2 mons 3 days 04:05:06.5',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '{\"k\": [1, 2]}', '{\"b\": 1, \"a\": \"x\"}',
   '{1,NULL,3}', 'happy', 7, 4000000000, '192.168.0.1/24'),
  (2, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', false, -999.99,
   -12345678901234.5678, -1234567890123456789012345678.0123456789, 'NaN', '', 'ünïcødé', 'a',
   'x', 'infinity', '-infinity', 'infinity', '24:00:00', '00:00:00+00', '-1 days',
   '00000000-0000-0000-0000-000000000000', '\\x', '[]', '{}', '{}', 'sad', 1, 0, '::1'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 32767, 2147483647, 9223372036854775807, 'Infinity', 'NaN', true, 'NaN', 0, 0.0000000001,
   '-1e-20', '😀 emoji', 'x''q\"', 'zzz', 'n', '0044-03-15 BC', '0044-03-15 12:00:00 BC',
   '1999-12-31 23:59:59.999999+00', '00:00:00', '23:59:59-05', 'P1Y', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
   '\\xdeadbeef', 'null', '[1, \"two\", null]', '{{1,2},{3,4}}', 'happy', 2147483647, 4294967295, '10.0.0.0/8'),
  (5, 0, 0, 0, '-0', 1e-40, false, 0.01, -0.0001, 99999999999999999999999999.9999999999,
   100000000000000000000000000000, 'line1
line2', '', '', '', '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '00:00:00.5',
   '00:00:00+00', '00:00:00', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\x41', '\"s\"', '1.5', '{}',
   'sad', 42, 1, '0.0.0.0/0')"
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"

files=$(pq_files "$P")
t_eq "one file" 1 "$(wc -l <<<"$files")"
F=$files
G="'$F'"
t_eq "no .tmp left" 0 "$(pq_tmp_count "$P")"

# ---- column types as DuckDB sees them ----
want="id INTEGER
i2 SMALLINT
i4 INTEGER
i8 BIGINT
f4 FLOAT
f8 DOUBLE
b BOOLEAN
n52 DECIMAL(5,2)
n18 DECIMAL(18,4)
n38 DECIMAL(38,10)
nfree VARCHAR
t VARCHAR
vc VARCHAR
ch VARCHAR
nm VARCHAR
d DATE
ts TIMESTAMP
tstz TIMESTAMP WITH TIME ZONE
tm TIME
ttz VARCHAR
iv VARCHAR
u UUID
byt BLOB
js JSON
jb JSON
arr VARCHAR
en VARCHAR
dom INTEGER
o VARCHAR
ip VARCHAR
_pgcdc_op VARCHAR
_pgcdc_lsn BIGINT
_pgcdc_commit_lsn BIGINT
_pgcdc_xid BIGINT
_pgcdc_commit_ts TIMESTAMP WITH TIME ZONE
_pgcdc_unchanged VARCHAR
date DATE"
t_eq "DuckDB column types (and the hive partition)" "$want" "$(duck "DESCRIBE SELECT * FROM $G" | cut -d'|' -f1,2 | tr '|' ' ')"
t_eq "Parquet physical and logical types" \
"id INT32  OPTIONAL
i2 INT32  OPTIONAL INT_16 IntType(bitWidth=16, isSigned=1)
i8 INT64  OPTIONAL
f4 FLOAT  OPTIONAL
f8 DOUBLE  OPTIONAL
b BOOLEAN  OPTIONAL
n52 INT32  OPTIONAL DECIMAL DecimalType(scale=2, precision=5)
n18 INT64  OPTIONAL DECIMAL DecimalType(scale=4, precision=18)
n38 FIXED_LEN_BYTE_ARRAY 16 OPTIONAL DECIMAL DecimalType(scale=10, precision=38)
nfree BYTE_ARRAY  OPTIONAL UTF8 StringType()
d INT32  OPTIONAL DATE DateType()
ts INT64  OPTIONAL TIMESTAMP_MICROS TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))
tstz INT64  OPTIONAL TIMESTAMP_MICROS TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))
tm INT64  OPTIONAL TIME_MICROS TimeType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))
u FIXED_LEN_BYTE_ARRAY 16 OPTIONAL  UUIDType()
byt BYTE_ARRAY  OPTIONAL
js BYTE_ARRAY  OPTIONAL JSON JsonType()
_pgcdc_op BYTE_ARRAY  REQUIRED UTF8 StringType()
_pgcdc_lsn INT64  REQUIRED
_pgcdc_commit_ts INT64  REQUIRED TIMESTAMP_MICROS TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))
_pgcdc_unchanged BYTE_ARRAY  OPTIONAL UTF8 StringType()" \
	"$(duck "SELECT name, type, coalesce(type_length::VARCHAR, ''), repetition_type, coalesce(converted_type, ''),
	         coalesce(replace(logical_type, chr(16), '16'), '') FROM parquet_schema($G)
	         WHERE name IN ('id','i2','i8','f4','f8','b','n52','n18','n38','nfree','d','ts','tstz','tm','u','byt',
	                        'js','_pgcdc_op','_pgcdc_lsn','_pgcdc_commit_ts','_pgcdc_unchanged')" |
	   tr '|' ' ' | sed 's/ *$//')"

# ---- values: every (row, column) against the source row ----
# Typed columns are compared with DuckDB literals of the same value; columns mapped to
# String must hold PostgreSQL's text output, byte for byte (taken from the server).
checks=(
	"1|i2|1::SMALLINT" "1|i4|2" "1|i8|3::BIGINT" "1|f4|1.5::FLOAT" "1|f8|2.25::DOUBLE" "1|b|true"
	"1|n52|123.45::DECIMAL(5,2)" "1|n18|12345678901234.5678::DECIMAL(18,4)"
	"1|n38|'1234567890123456789012345678.0123456789'::DECIMAL(38,10)"
	"1|d|DATE '2024-01-31'" "1|ts|TIMESTAMP '2024-01-31 12:34:56.123456'"
	"1|tstz|TIMESTAMPTZ '2024-01-31 10:34:56.5+00'" "1|tm|TIME '13:45:10.000001'"
	"1|u|UUID 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'" "1|byt|'\\x00\\xFF\\x10'::BLOB" "1|dom|7"
	"2|i2|'-32768'::SMALLINT" "2|i4|'-2147483648'::INTEGER" "2|i8|'-9223372036854775808'::BIGINT"
	"2|isnan(f4)|true" "2|f8|'-inf'::DOUBLE" "2|b|false" "2|n52|-999.99::DECIMAL(5,2)"
	"2|n18|-12345678901234.5678::DECIMAL(18,4)"
	"2|n38|'-1234567890123456789012345678.0123456789'::DECIMAL(38,10)"
	"2|d|DATE 'infinity'" "2|ts|TIMESTAMP '-infinity'" "2|tstz|TIMESTAMPTZ 'infinity'"
	"2|tm|TIME '24:00:00'" "2|u|UUID '00000000-0000-0000-0000-000000000000'" "2|byt|''::BLOB"
	"2|dom|1"
	"4|i2|32767::SMALLINT" "4|i4|2147483647" "4|i8|9223372036854775807::BIGINT" "4|f4|'inf'::FLOAT"
	"4|isnan(f8)|true" "4|n52|NULL" "4|n18|0::DECIMAL(18,4)" "4|n38|0.0000000001::DECIMAL(38,10)"
	"4|d|make_date(-43, 3, 15)" "4|ts|make_timestamp(-43, 3, 15, 12, 0, 0)"
	"4|tstz|TIMESTAMPTZ '1999-12-31 23:59:59.999999+00'" "4|tm|TIME '00:00:00'"
	"4|u|UUID 'ffffffff-ffff-ffff-ffff-ffffffffffff'" "4|byt|'\\xDE\\xAD\\xBE\\xEF'::BLOB" "4|dom|2147483647"
	"5|i2|0::SMALLINT" "5|signbit(f4)|true" "5|f8|1e-40::DOUBLE" "5|n52|0.01::DECIMAL(5,2)"
	"5|n18|-0.0001::DECIMAL(18,4)" "5|n38|'99999999999999999999999999.9999999999'::DECIMAL(38,10)"
	"5|d|DATE '1970-01-01'" "5|ts|TIMESTAMP '1970-01-01 00:00:00'" "5|tstz|TIMESTAMPTZ '1970-01-01 00:00:00+00'"
	"5|tm|TIME '00:00:00.5'" "5|u|UUID 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'" "5|byt|'A'::BLOB"
)
strcols=(nfree t vc ch nm ttz iv js jb arr en o ip)
for id in 1 2 3 4 5; do
	for c in "${strcols[@]}"; do
		# the exact bytes of PostgreSQL's text output, passed as hex
		# (format's %s is the type's output function: char(n) keeps its padding)
		v=$(psql_q "SET IntervalStyle = postgres; SET DateStyle = ISO; SET TimeZone = UTC;
		            SELECT CASE WHEN $c IS NULL THEN 'NULL' ELSE 'decode(from_hex(''' ||
		              encode(convert_to(format('%s', $c), 'UTF8'), 'hex') || '''))' END FROM ty WHERE id = $id")
		checks+=("$id|$c::VARCHAR|$v")
	done
done
# row 3 is NULL everywhere but id
for c in i2 i4 i8 f4 f8 b n52 n18 n38 d ts tstz tm u byt dom; do
	checks+=("3|$c|NULL")
done
sql="WITH f AS (SELECT * FROM $G WHERE _pgcdc_op = 'c') "
sep=""
for ck in "${checks[@]}"; do
	IFS='|' read -r id expr want <<<"$ck"
	name=${id}:${expr//\'/}
	sql+="$sep SELECT '$name' AS what, (SELECT ($expr)::VARCHAR FROM f WHERE id = $id) AS got
	      WHERE (SELECT $expr FROM f WHERE id = $id) IS DISTINCT FROM ($want)"
	sep=" UNION ALL"
done
duck_check "every value equals its source (${#checks[@]} checks)" "$sql"
t_eq "five insert rows" "c c c c c" "$(duck "SELECT _pgcdc_op FROM $G ORDER BY id" | xargs)"
t_eq "json text kept" '{"k": [1, 2]}' "$(duck "SELECT js FROM $G WHERE id = 1")"
t_eq "unicode kept" "ünïcødé|😀 emoji" "$(duck "SELECT vc FROM $G WHERE id = 2 UNION ALL SELECT t FROM $G WHERE id = 4" | paste -sd'|')"
t_eq "empty string is not null" "0|false" "$(duck "SELECT length(t), t IS NULL FROM $G WHERE id = 2")"

# ---- metadata columns ----
xid=$(psql_q "SELECT xmin FROM ty WHERE id = 1")
t_eq "_pgcdc_xid is the transaction id" "$xid" "$(duck "SELECT DISTINCT _pgcdc_xid FROM $G")"
t_eq "one commit LSN, distinct change LSNs" "1 5" \
	"$(duck "SELECT count(DISTINCT _pgcdc_commit_lsn), count(DISTINCT _pgcdc_lsn) FROM $G" | tr '|' ' ')"
t_eq "change LSNs below the commit LSN" 0 "$(duck "SELECT count(*) FROM $G WHERE _pgcdc_lsn >= _pgcdc_commit_lsn")"
t_eq "_pgcdc_unchanged null on inserts" 0 "$(duck "SELECT count(_pgcdc_unchanged) FROM $G")"
t_eq "_pgcdc_commit_ts is today's commit time" true \
	"$(duck "SELECT abs(epoch(max(_pgcdc_commit_ts)) - epoch(now())) < 600 FROM $G")"

# ---- file name, hive partition, footer ----
lo=$(duck "SELECT min(_pgcdc_commit_lsn) FROM $G")
hi=$(duck "SELECT max(_pgcdc_commit_lsn) FROM $G")
day=$(duck "SELECT strftime(max(_pgcdc_commit_ts) AT TIME ZONE 'UTC', '%Y-%m-%d') FROM $G")
t_eq "file path: <dir>/<schema>.<table>/date=<commit day>/<first>-<last>.parquet" \
	"$P/public.ty/date=$day/$(printf '%016X-%016X' "$lo" "$hi").parquet" "$F"
t_eq "hive partition column" "$day" \
	"$(duck "SELECT DISTINCT date FROM read_parquet($(pq_glob "$P"), hive_partitioning = true)")"
kv=$(duck "SELECT decode(key) || '=' || decode(value) FROM parquet_kv_metadata($G) ORDER BY 1")
first=$(grep '^pgcdc.first_lsn=' <<<"$kv" | cut -d= -f2)
last=$(grep '^pgcdc.last_lsn=' <<<"$kv" | cut -d= -f2)
t_eq "footer pgcdc.version/table/primary_key" "pgcdc.primary_key=id pgcdc.table=public.ty pgcdc.version=0.1.0" \
	"$(grep -E '^pgcdc\.(version|table|primary_key)=' <<<"$kv" | xargs)"
t_eq "footer pgcdc.first_lsn / last_lsn are the commit LSNs" "$lo $hi" "$(lsn_num "$first") $(lsn_num "$last")"

# ---- statistics: every column chunk's min, max and null count match the data ----
statcols=(id i2 i4 i8 b n52 n18 n38 t vc nm d ts tstz tm u byt dom _pgcdc_op _pgcdc_lsn _pgcdc_xid)
sql="WITH f AS (SELECT * FROM $G), m AS (SELECT path_in_schema AS c, stats_min_value AS mn,
       stats_max_value AS mx, stats_null_count AS nc FROM parquet_metadata($G)), a AS ("
sep=""
for c in "${statcols[@]}"; do
	sql+="$sep SELECT '$c' AS c, min($c)::VARCHAR AS mn, max($c)::VARCHAR AS mx, count(*) - count($c) AS nc FROM f"
	sep=" UNION ALL"
done
sql+=") SELECT a.c, a.mn, m.mn, a.mx, m.mx, a.nc, m.nc FROM a LEFT JOIN m USING (c)
      WHERE m.c IS NULL OR a.mn IS DISTINCT FROM m.mn OR a.mx IS DISTINCT FROM m.mx OR a.nc <> m.nc"
duck_check "statistics (min, max, null count) of ${#statcols[@]} columns match the data" "$sql"
t_eq "every column chunk has a null count" 0 \
	"$(duck "SELECT count(*) FROM parquet_metadata($G) WHERE stats_null_count IS NULL")"
t_eq "float statistics: NaN is not the max (f8 holds 2.25, -inf, NaN, 1e-40)" "2.25" \
	"$(duck "SELECT stats_max_value FROM parquet_metadata($G) WHERE path_in_schema = 'f8'")"
t_eq "zstd compression, dictionary pages for strings" "ZSTD|true" \
	"$(duck "SELECT DISTINCT compression FROM parquet_metadata($G)")|$(duck "SELECT encodings LIKE '%RLE_DICTIONARY%' FROM parquet_metadata($G) WHERE path_in_schema = '_pgcdc_op'")"
t_summary
