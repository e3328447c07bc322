#!/usr/bin/env bash
# Protocol 2 with a tiny logical_decoding_work_mem, so the server streams large
# in-progress transactions: committed ones arrive whole and in commit order, aborted
# ones and rolled-back (nested) savepoints never appear, interleaved small
# transactions keep their place.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start "logical_decoding_work_mem = 64kB"
psql_q "CREATE TABLE s (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start a --set source.protocol=2
ins() { echo "INSERT INTO s SELECT g, 'v' || g FROM generate_series($1, $2) g;"; }

# 1. a large transaction that stays open while small ones commit
psql_q "BEGIN; $(ins 1 5000) SELECT pg_sleep(2); $(ins 5001 10000) COMMIT" >/dev/null &
bg=$!
sleep 1
psql_q "INSERT INTO s VALUES (100001, 'small 1')"
psql_q "INSERT INTO s VALUES (100002, 'small 2')"
wait $bg
# 2. a large transaction rolled back
psql_q "BEGIN; $(ins 20001 25000) ROLLBACK"
# 3. a rolled-back savepoint and a released one inside a large transaction
psql_q "BEGIN; $(ins 30001 32000) SAVEPOINT s1; $(ins 40001 45000) ROLLBACK TO s1; $(ins 32001 34000)
        SAVEPOINT s2; $(ins 50001 55000) RELEASE s2; COMMIT"
# 4. nested savepoints, the outer one rolled back
psql_q "BEGIN; SAVEPOINT a; $(ins 60001 63000) SAVEPOINT b; $(ins 70001 73000) ROLLBACK TO a;
        $(ins 64001 65000) COMMIT"
# 5. a large transaction aborted by an error
psql_q "BEGIN; $(ins 80001 85000) INSERT INTO s VALUES (1, 'duplicate key'); COMMIT" 2>/dev/null || true
psql_q "INSERT INTO s VALUES (100003, 'small 3')"
wait_caught_up 120 || t_fail "caught up" "slot did not confirm the current WAL position"
streamed=$(psql_q "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'pgcdc'")
spilled=$(find "$PG_TMP/state/spill" -name '*.spill' | wc -l)
agent_stop TERM

O=$PG_TMP/a.out
if ((streamed >= 4)); then t_ok "the server streamed $streamed transactions"
else t_fail "server streamed" "only $streamed transactions were streamed"; fi
t_eq "agent exits 0" 0 "$AGENT_RC"
t_eq "no spill files left" 0 "$spilled"
psql_q "SELECT id FROM s ORDER BY id" >"$PG_TMP/want"
jq -r 'select(.op=="c") | .after.id' "$O" | sort -n >"$PG_TMP/got"
t_eq "delivered ids are exactly the committed rows ($(wc -l <"$PG_TMP/want"))" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/got" | head -5)"
t_eq "no row of an aborted transaction or savepoint" 0 \
	"$(out_count a '(.after.id >= 20001 and .after.id <= 25000) or (.after.id >= 40001 and .after.id <= 45000) or (.after.id >= 60001 and .after.id <= 63000) or (.after.id >= 70001 and .after.id <= 73000) or (.after.id >= 80001 and .after.id <= 85000)')"
order=$(jq -r 'select(.op=="c") | .after.id' "$O" | awk '$1==100001{print "s1"} $1==100002{print "s2"} $1==1{print "big-first"} $1==10000{print "big-last"} $1==100003{print "s3"}' | xargs)
t_eq "commit order: small transactions before the large one that committed after them" \
	"s1 s2 big-first big-last s3" "$order"
t_eq "the large transaction is one transaction" 1 \
	"$(jq -r 'select(.op=="c" and .after.id <= 10000) | .source.txId' "$O" | sort -u | wc -l)"
t_eq "its rows are in insert order" "$(seq 1 10000 | xargs | md5sum)" \
	"$(jq -r 'select(.op=="c" and .after.id <= 10000) | .after.id' "$O" | xargs | md5sum)"
t_summary
