#!/usr/bin/env bash
# Row changes of every kind into Parquet, read back with DuckDB: op semantics (updates,
# unchanged TOAST, deletes with the old identity, truncate, primary-key changes,
# rollbacks), transactions over several tables, row groups and dictionary pages,
# rotation by interval on an idle stream, SIGTERM flushing, restart without
# duplicates, ALTER TABLE ADD/DROP COLUMN (also inside a transaction), every
# compression, and an unusable directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
psql_q "CREATE TABLE t (id int PRIMARY KEY, name text, big text);
        ALTER TABLE t ALTER big SET STORAGE EXTERNAL;
        CREATE TABLE f (id int PRIMARY KEY, v text); ALTER TABLE f REPLICA IDENTITY FULL;
        CREATE TABLE nokey (a int, b text);
        CREATE TABLE many (id int PRIMARY KEY, kind text, n bigint);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s --set sink.parquet.row_group_rows=1000)
agent_start a "${args[@]}"
psql_q "INSERT INTO t VALUES (1, 'one', repeat('x', 10000))"
psql_q "UPDATE t SET name = 'uno' WHERE id = 1"
psql_q "UPDATE t SET id = 2 WHERE id = 1"
psql_q "DELETE FROM t WHERE id = 2"
psql_q "BEGIN; INSERT INTO t VALUES (100, 'rolled back', ''); ROLLBACK"
psql_q "BEGIN; INSERT INTO t VALUES (3, 'kept', ''); SAVEPOINT s; INSERT INTO t VALUES (101, 'savepoint', '');
        ROLLBACK TO s; INSERT INTO f VALUES (1, 'a'); COMMIT"
psql_q "UPDATE f SET v = 'b'"
psql_q "DELETE FROM f"
psql_q "INSERT INTO nokey VALUES (1, 'x')"
psql_q "INSERT INTO many SELECT g, CASE WHEN g % 3 = 0 THEN 'fizz' ELSE 'plain' END, g * 7 FROM generate_series(1, 5000) g"
psql_q "TRUNCATE t"
# nothing else happens: only the rotation interval can commit the open files
wait_caught_up 30 || t_fail "idle stream" "the slot did not catch up: open files were not committed by rotate_interval"
t_ok "idle stream: rotate_interval commits the files, the slot catches up"
t_eq "no .tmp while idle" 0 "$(pq_tmp_count "$P")"
agent_stop TERM
t_eq "SIGTERM: agent exits 0" 0 "$AGENT_RC"

# read in write order: file names sort by first LSN, rows by position
rd() {   # rd TABLE COLUMNS [WHERE]
	duck "SELECT $2 FROM read_parquet($(pq_glob "$P" "public.$1"), filename = true, file_row_number = true)
	      ${3:+WHERE $3} ORDER BY filename, file_row_number"
}
t_eq "ops on t in commit order" "c u d c d c t" "$(rd t _pgcdc_op | xargs)"
t_eq "ids on t" "1 1 1 2 2 3 NULL" "$(rd t id | xargs)"
t_eq "rolled back and savepoint rows never appear" 0 \
	"$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P" public.t)) WHERE id >= 100")"
t_eq "update: changed column, unchanged TOAST column null and named" "uno|NULL|big" \
	"$(rd t "name, big, _pgcdc_unchanged" "_pgcdc_op = 'u'")"
t_eq "insert: 10000-byte TOASTed value, no unchanged list" "10000|NULL" \
	"$(rd t "length(big), _pgcdc_unchanged" "_pgcdc_op = 'c' AND id = 1")"
t_eq "delete: old key, other columns null" "1|NULL|NULL" "$(rd t "id, name, big" "_pgcdc_op = 'd' AND id = 1")"
t_eq "primary-key change: delete and create share one LSN" "d 1|c 2" \
	"$(duck "SELECT _pgcdc_op || ' ' || id FROM read_parquet($(pq_glob "$P" public.t)) WHERE _pgcdc_lsn =
	         (SELECT _pgcdc_lsn FROM read_parquet($(pq_glob "$P" public.t)) WHERE _pgcdc_op = 'c' AND id = 2)
	         ORDER BY _pgcdc_op DESC" | paste -sd'|')"
t_eq "truncate: every column null" "t|NULL|NULL|NULL" "$(rd t "_pgcdc_op, id, name, big" "_pgcdc_op = 't'")"
t_eq "FULL identity: update new row, delete old row" "c 1 a|u 1 b|d 1 b" \
	"$(rd f "_pgcdc_op || ' ' || id || ' ' || v" | paste -sd'|')"
t_eq "a transaction over two tables: one commit LSN in both" 1 \
	"$(duck "SELECT count(DISTINCT _pgcdc_commit_lsn) FROM (
	           SELECT _pgcdc_commit_lsn FROM read_parquet($(pq_glob "$P" public.t)) WHERE id = 3
	           UNION ALL SELECT _pgcdc_commit_lsn FROM read_parquet($(pq_glob "$P" public.f)) WHERE _pgcdc_op = 'c')")"
t_eq "same xid across the two tables" 1 \
	"$(duck "SELECT count(DISTINCT _pgcdc_xid) FROM (
	           SELECT _pgcdc_xid FROM read_parquet($(pq_glob "$P" public.t)) WHERE id = 3
	           UNION ALL SELECT _pgcdc_xid FROM read_parquet($(pq_glob "$P" public.f)) WHERE _pgcdc_op = 'c')")"
t_eq "table without key: empty pgcdc.primary_key" "public.nokey|" \
	"$(duck "SELECT max(CASE WHEN decode(key) = 'pgcdc.table' THEN decode(value) END) || '|' ||
	         max(CASE WHEN decode(key) = 'pgcdc.primary_key' THEN decode(value) END)
	         FROM parquet_kv_metadata($(pq_glob "$P" public.nokey))")"
M=$(pq_glob "$P" public.many)
t_eq "5000 rows, right values" "5000|1666|87517500" \
	"$(duck "SELECT count(*), count(*) FILTER (kind = 'fizz'), sum(n) FROM read_parquet($M)")"
t_eq "row groups of row_group_rows (1000)" "5|1000" \
	"$(duck "SELECT count(DISTINCT row_group_id), max(row_group_num_rows) FROM parquet_metadata($M)")"
t_eq "low-cardinality strings dictionary-encoded" "true|true" \
	"$(duck "SELECT bool_and(encodings LIKE '%RLE_DICTIONARY%') FROM parquet_metadata($M) WHERE path_in_schema = 'kind'")|$(duck "SELECT bool_and(stats_min_value = 'fizz' AND stats_max_value = 'plain') FROM parquet_metadata($M) WHERE path_in_schema = 'kind'")"
t_eq "every row group's id statistics bound its rows" 0 \
	"$(duck "SELECT count(*) FROM parquet_metadata($M) WHERE path_in_schema = 'id' AND
	         TRY_CAST(stats_max_value AS INTEGER) - TRY_CAST(stats_min_value AS INTEGER) + 1 <> row_group_num_rows")"

# ---- restart: SIGTERM commits what is open; nothing is written twice ----
before=$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P"))")
has_tmp2() { [[ $(pq_tmp_count "$P") -eq 2 ]]; }
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1h)
agent_start b "${args[@]}"
psql_q "INSERT INTO t VALUES (50, 'after restart', ''), (51, 'x', '')"
psql_q "INSERT INTO f VALUES (50, 'y')"
wait_for 20 has_tmp2 || true
t_eq "long rotate_interval: the file stays open (.tmp)" 2 "$(pq_tmp_count "$P")"
agent_stop TERM
t_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
t_eq "SIGTERM: files committed" 0 "$(pq_tmp_count "$P")"
t_eq "SIGTERM: the slot confirmed the last transaction" t \
	"$(psql_q "SELECT confirmed_flush_lsn > '0/0'::pg_lsn + $(duck "SELECT max(_pgcdc_commit_lsn) FROM read_parquet($(pq_glob "$P"))")
	           FROM pg_replication_slots")"
t_eq "restart: only the new rows were added" "$((before + 3))" \
	"$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P"))")"
t_eq "no (table, LSN, op) twice" 0 \
	"$(duck "SELECT count(*) FROM (SELECT filename.split('/')[-3] tbl, _pgcdc_lsn, _pgcdc_op, id, count(*) c
	         FROM read_parquet($(pq_glob "$P"), filename = true, union_by_name = true) GROUP BY ALL HAVING c > 1)")"

# ---- ALTER TABLE ADD / DROP COLUMN mid-stream, and inside a transaction ----
psql_q "CREATE TABLE s (id int PRIMARY KEY, a text)"
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s)
agent_start c "${args[@]}"
psql_q "INSERT INTO s SELECT g, 'a' || g FROM generate_series(1, 3) g"
psql_q "ALTER TABLE s ADD COLUMN b int"
psql_q "INSERT INTO s SELECT g, 'a' || g, g * 10 FROM generate_series(4, 6) g"
psql_q "ALTER TABLE s DROP COLUMN a"
psql_q "INSERT INTO s SELECT g, g * 10 FROM generate_series(7, 9) g"
psql_q "BEGIN; INSERT INTO s VALUES (10, 100); ALTER TABLE s ADD COLUMN c text;
        INSERT INTO s VALUES (11, 110, 'c11'); COMMIT"
wait_caught_up 30 || t_fail "schema: caught up" "slot did not catch up"
agent_stop TERM
S=$(pq_glob "$P" public.s)
t_eq "one file per column set (the split transaction's first part joins rows 7-9)" 4 "$(pq_files "$P/public.s" | wc -l)"
t_eq "each file has its own columns" "id,a|id,a,b|id,b|id,b,c" \
	"$(duck "SELECT string_agg(name, ',' ORDER BY name = 'id' DESC, name) FROM parquet_schema($S)
	         WHERE name NOT LIKE '\\_pgcdc%' ESCAPE '\\' AND name <> 'schema' AND num_children IS NULL
	         GROUP BY file_name ORDER BY file_name" | paste -sd'|')"
t_eq "union_by_name: values where each column existed" \
	"1 a1 NULL NULL|2 a2 NULL NULL|3 a3 NULL NULL|4 a4 40 NULL|5 a5 50 NULL|6 a6 60 NULL|7 NULL 70 NULL|8 NULL 80 NULL|9 NULL 90 NULL|10 NULL 100 NULL|11 NULL 110 c11" \
	"$(duck "SELECT id, a, b, c FROM read_parquet($S, union_by_name = true) ORDER BY id" | tr '|' ' ' | paste -sd'|')"
t_eq "the split transaction: both files end at its commit LSN" 2 \
	"$(pq_files "$P/public.s" | grep -c "$(printf '%016X' "$(duck "SELECT DISTINCT _pgcdc_commit_lsn FROM read_parquet($S, union_by_name = true) WHERE id = 11")").parquet")"
t_eq "no commit journal left" "" "$(find "$P" -maxdepth 1 -name '.pgcdc-commit*')"

# ---- compression codecs ----
has_tmp() { [[ $(pq_tmp_count "$P") -gt 0 ]]; }
base=0
for codec in snappy none; do
	base=$((base + 10000))
	pq_files "$P" >"$PG_TMP/before"
	mapfile -t args < <(pq_args "$P" --set sink.parquet.compression=$codec)
	agent_start "z$codec" "${args[@]}"
	psql_q "INSERT INTO many SELECT g, 'k', g FROM generate_series($((base + 1)), $((base + 100))) g"
	wait_for 20 has_tmp || t_fail "$codec: rows received" "no .tmp file appeared"
	agent_stop TERM
	new=$(pq_files "$P" | comm -13 "$PG_TMP/before" -)
	t_eq "compression = $codec" "$([[ $codec == none ]] && echo UNCOMPRESSED || echo SNAPPY)|100|$((base * 100 + 5050))|1" \
		"$(duck "SELECT DISTINCT compression FROM parquet_metadata('$new')")|$(duck "SELECT count(*), sum(n) FROM '$new'")|$(wc -l <<<"$new")"
done

# ---- a directory that cannot be used ----
mapfile -t base < <(agent_args)
set +e
"$PGCDC_BIN" "${base[@]}" --set sink.stdout.enabled=off --set sink.parquet.directory=/dev/null/pq >"$PG_TMP/bad.out" 2>"$PG_TMP/bad.log"
rc=$?
set -e
t_eq "unusable directory: exit 1" 1 "$rc"
t_eq "unusable directory: the error names it" 1 "$(grep -c 'parquet sink: cannot create directory /dev/null/pq' "$PG_TMP/bad.log")"
t_summary
