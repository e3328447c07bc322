#!/usr/bin/env bash
#
# capture-fixtures.sh — regenerate tests/fixtures/pgoutput_v<proto>_<scenario>.{bin,txt} from a
# real PostgreSQL (the decoder's unit tests replay these bytes).
#
#   tests/tools/capture-fixtures.sh            # all scenarios
#   tests/tools/capture-fixtures.sh v1_toast   # only the named ones
#
# Each scenario runs in a database of its own: publication `pgcdc` FOR ALL TABLES, a fresh
# pgoutput slot, the scenario's SQL, then pgo_capture records what the slot sends (see
# tests/fixtures/README.md for the record format). Protocol-1 scenarios share one cluster;
# v2_stream gets one with logical_decoding_work_mem = 64kB so that large transactions stream.
# Every fixture is checked for the messages its scenario exists for before anything in
# tests/fixtures is replaced. Environment: PG_BIN (server binaries), PGO_CAPTURE (a built
# pgo_capture to use instead of building one), FIXTURES_DIR (write there instead of
# tests/fixtures), KEEP_TMP=1 (keep the clusters and the staging directory for inspection).

set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

FIXTURES=${FIXTURES_DIR:-$PGCDC_SRC/tests/fixtures}
# Session settings of every connection, so that text output and input parsing are fixed.
SESSION_OPTS='-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=1 -c bytea_output=hex'
export PGOPTIONS=$SESSION_OPTS

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/pgcdc-fixtures.XXXXXX")
# shellcheck disable=SC2016 # expanded when the hook runs
at_exit '[[ ${KEEP_TMP-} == 1 ]] && echo "kept $STAGE" >&2 || rm -rf -- "$STAGE"'

ALL_SCENARIOS=(v1_basic v1_types v1_identity v1_toast v1_rollback v1_origin v2_stream)
if (($# > 0)); then
	SCENARIOS=("$@")
	for s in "${SCENARIOS[@]}"; do
		[[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})"
	done
else
	SCENARIOS=("${ALL_SCENARIOS[@]}")
fi
wanted() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

# pgo_capture: the Makefile's build when the tree builds, else straight from its source
# (it needs only libpq).
build_capture() {
	if [[ -n ${PGO_CAPTURE-} ]]; then
		[[ -x $PGO_CAPTURE ]] || die "PGO_CAPTURE=$PGO_CAPTURE is not executable"
		return
	fi
	if make -C "$PGCDC_SRC" --no-print-directory build/tools/pgo_capture >"$STAGE/make.log" 2>&1; then
		PGO_CAPTURE=$PGCDC_SRC/build/tools/pgo_capture
		return
	fi
	echo "capture-fixtures: make failed (see below), compiling pgo_capture directly" >&2
	tail -n 5 "$STAGE/make.log" >&2
	PGO_CAPTURE=$STAGE/pgo_capture
	local -a cflags libs
	read -ra cflags <<<"$(pkg-config --cflags libpq)"
	read -ra libs <<<"$(pkg-config --libs libpq)"
	"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE -O2 "${cflags[@]}" \
		-o "$PGO_CAPTURE" "$PGCDC_SRC/tests/tools/pgo_capture.c" "${libs[@]}" ||
		die "cannot build pgo_capture"
}

# scenario NAME PROTO < SQL: database + publication + slot, run SQL, capture, list.
scenario() {
	local name=$1 proto=$2 db=fx_$1 slot=fx_$1
	local bin=$STAGE/pgoutput_$name.bin
	echo "== $name" >&2
	pg_create_db "$db"
	psql_q "CREATE PUBLICATION pgcdc FOR ALL TABLES" -d "$db" >/dev/null
	psql_q "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput')" -d "$db" >/dev/null
	psql_q - -d "$db" >/dev/null
	"$PGO_CAPTURE" --conninfo "host=127.0.0.1 port=$PGPORT dbname=$db user=postgres options='$SESSION_OPTS'" \
		--slot "$slot" --publication pgcdc --proto "$proto" --out "$bin" --idle-ms 3000
	"$PGO_CAPTURE" --list "$bin" >"${bin%.bin}.txt"
	psql_q "SELECT pg_drop_replication_slot('$slot')" -d "$db" >/dev/null
}

# count NAME TYPE: how many records of message type TYPE the listing of NAME has.
count() {
	awk -v t="$2" '$2 == t { n++ } END { print n + 0 }' "$STAGE/pgoutput_$1.txt"
}

# expect NAME TYPE OP N: die unless the count of TYPE records in NAME's listing OP N.
expect() {
	local n
	n=$(count "$1" "$2")
	case $3 in
	'==') ((n == $4)) && return 0 ;;
	'>=') ((n >= $4)) && return 0 ;;
	*) die "expect: unknown operator '$3'" ;;
	esac
	die "$1: expected $2 count $3 $4, got $n (listing: $STAGE/pgoutput_$1.txt)"
}
expect_ge() { expect "$1" "$2" '>=' "$3"; }
expect_eq() { expect "$1" "$2" '==' "$3"; }

# The largest payload of message type TYPE in NAME's listing.
max_len() {
	awk -v t="$2" '$2 == t && $3 > m { m = $3 } END { print m + 0 }' "$STAGE/pgoutput_$1.txt"
}

build_capture

# --------------------------------------------------------------------------------------------
# Protocol 1 scenarios
# --------------------------------------------------------------------------------------------
if wanted v1_basic || wanted v1_types || wanted v1_identity || wanted v1_toast || wanted v1_rollback ||
	wanted v1_origin; then
	pg_start

	if wanted v1_basic; then
		scenario v1_basic 1 <<-'SQL'
			CREATE TABLE basic (id int PRIMARY KEY, name text, qty int);
			CREATE TABLE trunc_a (id serial PRIMARY KEY, v text);
			CREATE TABLE trunc_b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			                      a_id int REFERENCES trunc_a (id));
			INSERT INTO basic VALUES (1, 'one', 10);
			UPDATE basic SET name = 'uno', qty = 11 WHERE id = 1;
			UPDATE basic SET id = 2 WHERE id = 1;
			DELETE FROM basic WHERE id = 2;
			INSERT INTO trunc_a (v) VALUES ('a1'), ('a2');
			INSERT INTO trunc_b (a_id) VALUES (1), (2);
			TRUNCATE trunc_a, trunc_b RESTART IDENTITY CASCADE;
			SELECT pg_logical_emit_message(true, 'pgcdc.test', 'transactional message');
			SELECT pg_logical_emit_message(false, 'pgcdc.test', '\x00ff0a'::bytea);
			BEGIN;
			INSERT INTO basic VALUES (10, 'ten', 100), (11, 'eleven', 110);
			UPDATE basic SET qty = qty + 1 WHERE id = 10;
			SELECT pg_logical_emit_message(true, 'pgcdc.test', 'inside a transaction');
			DELETE FROM basic WHERE id = 11;
			INSERT INTO trunc_a (v) VALUES ('after truncate');
			COMMIT;
		SQL
		expect_eq v1_basic T 1
		expect_eq v1_basic M 3
		expect_eq v1_basic I 8
		expect_eq v1_basic U 3
		expect_eq v1_basic D 2
		expect_ge v1_basic R 3
	fi

	if wanted v1_types; then
		if [[ $(psql_q "SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'") == 1 ]]; then
			citext_ext='CREATE EXTENSION citext;'
			citext_col=', c_citext citext'
			citext_vals=("'CaseInsensitive'" "'ÄÖÜ straße'" "''")
		else
			echo "capture-fixtures: citext is not installed, v1_types goes without it" >&2
			citext_ext='' citext_col='' citext_vals=('' '' '')
		fi
		c() { if [[ -n $citext_col ]]; then printf ', %s' "$1"; fi; }
		scenario v1_types 1 <<-SQL
			$citext_ext
			CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy 😀');
			CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
			CREATE DOMAIN shorttext AS text CHECK (length(VALUE) < 100);
			CREATE TABLE types (
			    id int PRIMARY KEY,
			    c_int2 smallint, c_int4 integer, c_int8 bigint, c_oid oid,
			    c_float4 real, c_float8 double precision,
			    c_numeric_10_2 numeric(10,2), c_numeric numeric,
			    c_bool boolean, c_text text, c_varchar varchar(10), c_char char(3), c_name name,
			    c_enum mood$citext_col, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money,
			    c_xml xml, c_uuid uuid, c_bytea bytea,
			    c_date date, c_time time, c_timetz timetz, c_timestamp timestamp,
			    c_timestamptz timestamptz, c_interval interval,
			    c_json json, c_jsonb jsonb, c_int_array int[], c_text_array text[],
			    c_posint posint, c_shorttext shorttext);
			-- 1: ordinary values
			INSERT INTO types VALUES (1,
			    42, 100000, 9000000000, 12345,
			    3.14, 2.718281828459045,
			    1234.56, 3.14159265358979323846264338327950288,
			    true, 'hello', 'varchar', 'ab', 'pg_class',
			    'ok'$(c "${citext_vals[0]}"), '192.168.1.10/24', '10.0.0.0/8', '08:00:2b:01:02:03', 1234.56,
			    '<doc><a b="c">d</a></doc>', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\xdeadbeef',
			    '2026-11-22', '10:00:00.123456', '10:00:00.5+05:30', '2026-11-22 10:00:00.123456',
			    '2026-11-22 12:00:00.123456+02', '1 year 2 months 3 days 04:05:06.5',
			    '{"a": [1, 2.50, null], "b": "x"}', '{"a": [1, 2.50, null], "b": "x"}',
			    '{1,NULL,3}', '{"a b","c\\"d","NULL",NULL,"",e,"back\\\\slash","{braces}"}',
			    7, 'domain text');
			-- 2: special values: NaN, infinities, empty strings, unicode, minimums, 2-D array
			INSERT INTO types VALUES (2,
			    -32768, -2147483648, -9223372036854775808, 4294967295,
			    'NaN', 'Infinity',
			    'NaN', 'Infinity',
			    false, '', '', '', '',
			    'happy 😀'$(c "${citext_vals[1]}"), '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff',
			    '-92233720368547758.08',
			    '', '00000000-0000-0000-0000-000000000000', '',
			    'infinity', '24:00:00', '23:59:59.999999-12', 'infinity',
			    '-infinity', '-1 years -2 months +3 days -04:05:06',
			    '""', '{"unicode": "😀 ü \\u00e9", "nested": {"k": [true, false]}}',
			    '{{1,2},{3,NULL}}', '{}',
			    2147483647, 'ünïcødé 😀 "quoted" \ back');
			-- 3: the other ends
			INSERT INTO types VALUES (3,
			    32767, 2147483647, 9223372036854775807, 0,
			    '-Infinity', '-0',
			    -99999999.99, '-Infinity',
			    true, E'line1\nline2\ttab', 'ten chars!', 'xyz', repeat('n', 63),
			    'sad'$(c "${citext_vals[2]}"), '0.0.0.0/0', '::/0', '00:00:00:00:00:00', 0,
			    '<?xml version="1.0"?><r/>', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\x000102ff',
			    '-infinity', '00:00:00', '24:00:00+00', '-infinity',
			    'infinity', '0',
			    'null', '[]',
			    '{}', '{{a,b},{c,NULL}}',
			    1, '');
			-- 4: extreme magnitudes, BC dates, long numerics
			INSERT INTO types VALUES (4,
			    0, 0, 0, 1,
			    1.4e-45, 5e-324,
			    0.01, '-0.000000000000000000000000000001',
			    false, repeat('é', 50), 'ü', 'ä', 'x',
			    'ok'$(c "${citext_vals[0]}"), '255.255.255.255', '192.168.0.0/16', '01:23:45:67:89:ab', 0.01,
			    '<a/>', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\x00',
			    '4713-01-01 BC', '23:59:59.999999', '00:00:00+15:59', '0044-03-15 12:00:00 BC',
			    '294276-12-31 23:59:59.999999+00', '1.5 seconds',
			    '[1e400, 1.0e-10]', '{"big": 1e400}',
			    '{-2147483648,2147483647}', '{"🙂"}',
			    123, 'x');
			-- 5: all NULL
			INSERT INTO types (id) VALUES (5);
		SQL
		expect_eq v1_types I 5
		expect_ge v1_types Y 3
	fi

	if wanted v1_identity; then
		scenario v1_identity 1 <<-'SQL'
			CREATE TABLE id_default (id int PRIMARY KEY, v text, dropme text);
			CREATE TABLE id_full (id int PRIMARY KEY, v text, n int);
			ALTER TABLE id_full REPLICA IDENTITY FULL;
			CREATE TABLE id_full_nopk (a int, b text);
			ALTER TABLE id_full_nopk REPLICA IDENTITY FULL;
			CREATE TABLE id_index (id int NOT NULL, code text NOT NULL, v text);
			CREATE UNIQUE INDEX id_index_code ON id_index (code);
			ALTER TABLE id_index REPLICA IDENTITY USING INDEX id_index_code;
			CREATE TABLE id_nothing (id int PRIMARY KEY, v text);
			ALTER TABLE id_nothing REPLICA IDENTITY NOTHING;
			CREATE TABLE id_nopk (a int, b text);

			-- DEFAULT (primary key): non-key update (no old key), key update ('K'), delete
			INSERT INTO id_default VALUES (1, 'one', 'x'), (2, 'two', 'y');
			UPDATE id_default SET v = 'one!' WHERE id = 1;
			UPDATE id_default SET id = 3 WHERE id = 2;
			DELETE FROM id_default WHERE id = 1;
			-- a second and a third Relation message for id_default: column added, column dropped
			ALTER TABLE id_default ADD COLUMN extra int DEFAULT 7;
			INSERT INTO id_default VALUES (4, 'four', 'z', 40);
			ALTER TABLE id_default DROP COLUMN dropme;
			INSERT INTO id_default VALUES (5, 'five', 50);

			-- FULL with a primary key: old row ('O') on update and delete, NULLs included
			INSERT INTO id_full VALUES (1, 'one', 1), (2, NULL, NULL);
			UPDATE id_full SET n = n + 1 WHERE id = 1;
			UPDATE id_full SET v = 'was null' WHERE id = 2;
			DELETE FROM id_full WHERE id = 1;

			-- FULL without a primary key
			INSERT INTO id_full_nopk VALUES (1, 'a'), (1, 'a'), (2, NULL);
			UPDATE id_full_nopk SET b = 'b' WHERE a = 2;
			DELETE FROM id_full_nopk WHERE a = 1;

			-- USING INDEX: non-key update, key update ('K' holds only the index column), delete
			INSERT INTO id_index VALUES (1, 'c1', 'one'), (2, 'c2', 'two');
			UPDATE id_index SET v = 'uno' WHERE code = 'c1';
			UPDATE id_index SET code = 'c3', v = 'tres' WHERE code = 'c2';
			DELETE FROM id_index WHERE code = 'c1';

			-- NOTHING and no primary key: PostgreSQL refuses UPDATE/DELETE on such tables while
			-- a publication publishes them, so only inserts (and truncate) can reach the stream.
			INSERT INTO id_nothing VALUES (1, 'nothing');
			INSERT INTO id_nopk VALUES (1, 'no pk'), (NULL, NULL);
			TRUNCATE id_nothing, id_nopk;
		SQL
		# Show that the server really refuses them (the fixture cannot contain such changes).
		for tbl in id_nothing id_nopk; do
			if psql_q "UPDATE $tbl SET $([[ $tbl == id_nothing ]] && echo v || echo b) = 'x'" \
				-d fx_v1_identity >/dev/null 2>"$STAGE/err"; then
				die "v1_identity: UPDATE on $tbl was expected to fail"
			fi
			grep -q 'does not have a replica identity' "$STAGE/err" ||
				die "v1_identity: unexpected error for $tbl: $(cat "$STAGE/err")"
		done
		expect_eq v1_identity I 14
		expect_eq v1_identity U 7
		expect_eq v1_identity D 5
		expect_eq v1_identity T 1
		# id_default three times, the other five tables once each, and the two truncated ones
		# again: TRUNCATE gives them new relfilenodes, which invalidates pgoutput's cache entry
		expect_eq v1_identity R 10
	fi

	if wanted v1_toast; then
		scenario v1_toast 1 <<-'SQL'
			CREATE TABLE toasty (id int PRIMARY KEY, counter int, big text);
			-- 100 kB of random hex: pglz cannot shrink it, so it is stored out of line
			INSERT INTO toasty SELECT 1, 0, string_agg(md5(random()::text), '')
			                   FROM generate_series(1, 3200);
			-- big not touched: the new tuple carries it as unchanged TOAST ('u')
			UPDATE toasty SET counter = counter + 1 WHERE id = 1;
			-- big changed: sent in full again
			UPDATE toasty SET big = 'short now', counter = counter + 1 WHERE id = 1;
			DELETE FROM toasty WHERE id = 1;
		SQL
		expect_eq v1_toast I 1
		expect_eq v1_toast U 2
		expect_eq v1_toast D 1
		# The insert carries the 100 kB value; both updates are small (unchanged TOAST, short value).
		(($(max_len v1_toast I) > 100000)) || die "v1_toast: insert is not carrying the 100 kB value"
		(($(max_len v1_toast U) < 1000)) || die "v1_toast: an update carries the large value"
	fi

	if wanted v1_rollback; then
		scenario v1_rollback 1 <<-'SQL'
			CREATE TABLE rb (id int PRIMARY KEY, v text);
			BEGIN;
			INSERT INTO rb VALUES (1, 'rolled back');
			SELECT pg_logical_emit_message(true, 'pgcdc.test', 'transactional, rolled back');
			SELECT pg_logical_emit_message(false, 'pgcdc.test', 'non-transactional, survives rollback');
			ROLLBACK;
			BEGIN;
			INSERT INTO rb VALUES (2, 'kept');
			SAVEPOINT s1;
			INSERT INTO rb VALUES (3, 'rolled back to s1');
			UPDATE rb SET v = 'update rolled back' WHERE id = 2;
			ROLLBACK TO SAVEPOINT s1;
			SAVEPOINT s2;
			INSERT INTO rb VALUES (4, 'released s2');
			RELEASE SAVEPOINT s2;
			UPDATE rb SET v = 'kept, updated' WHERE id = 2;
			COMMIT;
		SQL
		expect_eq v1_rollback B 1
		expect_eq v1_rollback C 1
		expect_eq v1_rollback I 2
		expect_eq v1_rollback U 1
		expect_eq v1_rollback M 1
	fi

	if wanted v1_origin; then
		# a transaction replayed from another node carries a replication origin: the
		# server sends an Origin message after its Begin
		scenario v1_origin 1 <<-'SQL'
			CREATE TABLE orig (id int PRIMARY KEY);
			SELECT pg_replication_origin_create('node_a');
			SELECT pg_replication_origin_session_setup('node_a');
			BEGIN;
			SELECT pg_replication_origin_xact_setup('0/100', '2026-11-22 10:00:00+00');
			INSERT INTO orig VALUES (1);
			COMMIT;
			SELECT pg_replication_origin_session_reset();
			INSERT INTO orig VALUES (2);
		SQL
		expect_eq v1_origin O 1
		expect_eq v1_origin B 2
		expect_eq v1_origin I 2
	fi

	pg_destroy
fi

# --------------------------------------------------------------------------------------------
# Protocol 2: streaming of large in-progress transactions
# --------------------------------------------------------------------------------------------
if wanted v2_stream; then
	# 64kB is the smallest allowed: about 400 small inserts fill it.
	pg_start "logical_decoding_work_mem = 64kB"
	# psql's \! runs the second session while the first one's transaction is open.
	second="\"$PG_BIN/psql\" -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U postgres -d fx_v2_stream"
	scenario v2_stream 2 <<-SQL
		CREATE TABLE big (id int PRIMARY KEY, payload text);
		CREATE TABLE small (id int PRIMARY KEY, note text);
		-- 1: large, committed (Stream Start/Stop ... Stream Commit), with a small transaction
		--    of another session committing while it is in progress
		BEGIN;
		INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
		\\! $second -c "INSERT INTO small VALUES (1, 'interleaved, committed first')"
		INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1001, 2000) g;
		COMMIT;
		-- 2: large, rolled back (Stream Abort with xid = subxid)
		BEGIN;
		INSERT INTO big SELECT g, 'rolled back ' || g FROM generate_series(10001, 11000) g;
		ROLLBACK;
		-- 3: large savepoint rolled back (Stream Abort of the subtransaction), then commit
		BEGIN;
		INSERT INTO small VALUES (2, 'before savepoint');
		SAVEPOINT sp;
		INSERT INTO big SELECT g, 'subxact ' || g FROM generate_series(20001, 21000) g;
		ROLLBACK TO SAVEPOINT sp;
		INSERT INTO small VALUES (3, 'after rollback to savepoint');
		COMMIT;
		-- 4: small, plain
		INSERT INTO small VALUES (4, 'plain');
	SQL
	expect_ge v2_stream S 5
	expect_ge v2_stream E 5
	expect_eq v2_stream c 2
	expect_eq v2_stream A 2
	expect_eq v2_stream B 2
	expect_eq v2_stream C 2
	# committed: 2000 big rows, small rows 1..4; the aborted rows are only partly streamed
	(($(count v2_stream I) >= 2004)) || die "v2_stream: too few inserts"
	pg_destroy
fi

# --------------------------------------------------------------------------------------------
mkdir -p "$FIXTURES"
for s in "${SCENARIOS[@]}"; do
	for ext in bin txt; do
		install -m 0644 "$STAGE/pgoutput_$s.$ext" "$FIXTURES/pgoutput_$s.$ext"
	done
	printf '%-12s %8d bytes  %s\n' "$s" "$(stat -c %s "$FIXTURES/pgoutput_$s.bin")" \
		"$(awk '{ print $2 }' "$FIXTURES/pgoutput_$s.txt" | LC_ALL=C sort | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')"
done
echo "fixtures written to $FIXTURES"
