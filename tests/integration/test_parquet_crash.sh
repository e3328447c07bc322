#!/usr/bin/env bash
# kill -9 of the agent, again and again, while 100000 rows are loaded: the Parquet files
# end up holding every row exactly once, no .tmp is left, files never overlap, every
# committed file is readable at any moment, and the slot never confirms a transaction
# that is not in a committed file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

BATCHES=500   # of 200 rows: 100000 rows
pg_start
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE TABLE side (id int PRIMARY KEY);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_rows=3000 --set sink.parquet.rotate_interval=1s \
	--set sink.parquet.row_group_rows=1000)
agent_start a "${args[@]}"

# The load: one transaction per batch (every 10th also touches a second table); after
# each commit the session prints "batch|WAL insert position", a position at or after
# the end of that batch's commit record.
{
	for ((b = 0; b < BATCHES; b++)); do
		printf "INSERT INTO k SELECT g, md5(g::text) FROM generate_series(%d, %d) g;\n" $((b * 200 + 1)) $((b * 200 + 200))
		((b % 10 == 0)) && printf "BEGIN; INSERT INTO k VALUES (%d, 'x'); INSERT INTO side VALUES (%d); DELETE FROM k WHERE id = %d; COMMIT;\n" \
			$((1000000 + b)) "$b" $((1000000 + b))
		printf "SELECT %d, pg_current_wal_insert_lsn() FROM pg_sleep(0.04);\n" "$b"
	done
} >"$PG_TMP/load.sql"
psql_q - <"$PG_TMP/load.sql" >"$PG_TMP/lsnlog" &
loader=$!

slot_free() { [[ $(psql_q "SELECT count(*) FROM pg_replication_slots WHERE active") == 0 ]]; }
kills=0
bad=""
while kill -0 "$loader" 2>/dev/null && ((kills < 8)); do
	sleep 1.2
	kill -0 "$loader" 2>/dev/null || break
	agent_stop KILL
	kills=$((kills + 1))
	wait_for 20 slot_free || die "the slot stays active after kill -9"
	C=$(lsn_num "$(slot_confirmed)")
	# every committed file is a whole, readable Parquet file, right now
	if [[ -n $(pq_files "$P") ]]; then
		present=$(duck "SELECT (id - 1) // 200 FROM read_parquet($(pq_glob "$P" public.k)) WHERE id <= 100000
		                GROUP BY 1 HAVING count(DISTINCT id) = 200 ORDER BY 1") ||
			bad+=" kill $kills: committed files unreadable;"
	else
		present=""
	fi
	# batches whose commit ended at or before the confirmed position must be in them
	needed=$(while IFS='|' read -r b lsn; do
		if [[ -n $lsn ]] && (($(lsn_num "$lsn") <= C)); then echo "$b"; fi
	done <"$PG_TMP/lsnlog" | sort -n)
	missing=$(comm -23 <(sort <<<"$needed") <(sort <<<"$present") | grep -c . || true)
	((missing == 0)) || bad+=" kill $kills: $missing confirmed batches not in committed files;"
	echo "kill $kills: confirmed $(slot_confirmed), $(grep -c . <<<"$needed") batches confirmed, $(grep -c . <<<"$present") committed"
	agent_start a "${args[@]}"
done
t_eq "kill -9 during the load, 5 times or more" yes "$( ((kills >= 5)) && echo yes || echo "only $kills")"
t_eq "after each kill -9: the slot confirmed only what committed files hold, all readable" "" "$bad"
wait "$loader"
wait_caught_up 120 || t_fail "caught up" "slot did not catch up after the load"
agent_stop TERM
t_eq "agent exits 0 at the end" 0 "$AGENT_RC"

K=$(pq_glob "$P" public.k)
t_eq "exactly 100000 distinct rows, none twice" "100000|100000" \
	"$(duck "SELECT count(*), count(DISTINCT id) FROM read_parquet($K) WHERE _pgcdc_op = 'c' AND id <= 100000")"
t_eq "every value is right" 100000 \
	"$(duck "SELECT count(*) FROM read_parquet($K) WHERE _pgcdc_op = 'c' AND id <= 100000 AND v = md5(id::VARCHAR)")"
t_eq "the two-table transactions: each whole in both tables" "$((BATCHES / 10))|$((BATCHES / 10))|$((BATCHES / 10))" \
	"$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P" public.side))")|$(duck "SELECT count(*) FROM read_parquet($K) WHERE id > 100000 AND _pgcdc_op = 'c'")|$(duck "SELECT count(*) FROM read_parquet($K) WHERE id > 100000 AND _pgcdc_op = 'd'")"
t_eq "no .tmp file left" 0 "$(pq_tmp_count "$P")"
overlap=""
prev=-1
for f in $(pq_files "$P/public.k" | xargs -n1 basename | sort); do
	first=$((16#${f:0:16}))
	last=$((16#${f:17:16}))
	((first > prev)) || overlap+=" $f"
	prev=$last
done
t_eq "files of a table never overlap in LSN" "" "$overlap"
t_eq "file names match their rows' commit LSNs" 0 \
	"$(duck "SELECT count(*) FROM (SELECT filename, min(_pgcdc_commit_lsn) lo, max(_pgcdc_commit_lsn) hi
	         FROM read_parquet($K, filename = true) GROUP BY filename)
	         WHERE NOT filename LIKE '%/' || printf('%016X-%016X', lo, hi) || '.parquet'")"
echo "files: $(pq_files "$P" | wc -l); stale .tmp removed at starts: $(grep -ho 'removed [0-9]* unfinished' "$PG_TMP"/a.log | awk '{s += $2} END {print s + 0}')"
t_summary
