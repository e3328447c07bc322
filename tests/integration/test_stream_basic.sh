#!/usr/bin/env bash
# Row changes of every kind stream out as Debezium envelopes, in commit order, and
# nothing of a rolled-back transaction or savepoint appears.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start
psql_q "CREATE TABLE t (id int PRIMARY KEY, name text, big text);
        ALTER TABLE t ALTER big SET STORAGE EXTERNAL;
        CREATE TABLE f (id int PRIMARY KEY, v text); ALTER TABLE f REPLICA IDENTITY FULL;
        CREATE TABLE nokey (a int, b text);
        CREATE TABLE full_nopk (a int, b text); ALTER TABLE full_nopk REPLICA IDENTITY FULL;
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start a
psql_q "INSERT INTO t VALUES (1, 'one', repeat('x', 10000))"
psql_q "UPDATE t SET name = 'uno' WHERE id = 1"
psql_q "UPDATE t SET id = 2 WHERE id = 1"
psql_q "DELETE FROM t WHERE id = 2"
psql_q "BEGIN; INSERT INTO t VALUES (100, 'rolled back', ''); ROLLBACK"
psql_q "BEGIN; INSERT INTO t VALUES (3, 'kept', ''); SAVEPOINT s; INSERT INTO t VALUES (101, 'savepoint', '');
        ROLLBACK TO s; SAVEPOINT s2; INSERT INTO t VALUES (4, 'released', ''); RELEASE s2; COMMIT"
psql_q "INSERT INTO f VALUES (1, 'a')"
psql_q "UPDATE f SET v = 'b'"
psql_q "DELETE FROM f"
psql_q "INSERT INTO nokey VALUES (1, 'x')"
psql_q "INSERT INTO full_nopk VALUES (1, 'x')"
psql_q "UPDATE full_nopk SET b = 'y'"
psql_q "TRUNCATE t, f"
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM
t_eq "agent exits 0 on SIGTERM" 0 "$AGENT_RC"

O=$PG_TMP/a.out
t_eq "every line is JSON" "$(wc -l <"$O")" "$(jq -c . "$O" | wc -l)"
t_eq "ops on t in commit order" "c u d c d c c t" \
	"$(jq -r 'select(.source.table=="t") | .op' "$O" | xargs)"
t_eq "ids on t" "1 1 1 2 2 3 4 null" \
	"$(jq -r 'select(.source.table=="t") | (.after // .before // {id:null}).id' "$O" | xargs)"
t_eq "rolled-back rows never appear" 0 "$(out_count a '(.after.id // 0) >= 100')"

u=$(jq -c 'select(.source.table=="t" and .op=="u")' "$O")
t_eq "update: before holds the key taken from the new row" '{"id":1}' "$(jq -c .before <<<"$u")"
t_eq "update: unchanged TOAST placeholder" '"__debezium_unavailable_value"' "$(jq -c .after.big <<<"$u")"
t_eq "update: changed column" '"uno"' "$(jq -c .after.name <<<"$u")"
c1=$(jq -c 'select(.source.table=="t" and .op=="c")' "$O" | sed -n 1p)
t_eq "insert: 10000-byte TOASTed value delivered" 10000 "$(jq -r '.after.big | length' <<<"$c1")"
t_eq "insert: before is null" null "$(jq -c .before <<<"$c1")"

pk=$(jq -c 'select(.source.table=="t")' "$O" | sed -n '3,4p')
t_eq "PK change: delete of the old key" 'd {"id":1}' "$(jq -r '.op + " " + (.before|tojson)' <<<"$pk" | head -1)"
t_eq "PK change: then create of the new key" 'c 2' "$(jq -r '.op + " " + (.after.id|tostring)' <<<"$pk" | tail -1)"
t_eq "PK change: both records share one LSN" 1 "$(jq -r .source.lsn <<<"$pk" | sort -u | wc -l)"

t_eq "FULL identity: update before-image" '{"id":1,"v":"a"}|{"id":1,"v":"b"}' \
	"$(jq -c 'select(.source.table=="f" and .op=="u") | (.before|tojson) + "|" + (.after|tojson)' -r "$O")"
t_eq "FULL identity: delete before-image" '{"id":1,"v":"b"}' \
	"$(jq -c 'select(.source.table=="f" and .op=="d") | .before' "$O")"
t_eq "FULL identity without key: update before-image" '{"a":1,"b":"x"}' \
	"$(jq -c 'select(.source.table=="full_nopk" and .op=="u") | .before' "$O")"
t_eq "table without key: insert" '{"a":1,"b":"x"}' \
	"$(jq -c 'select(.source.table=="nokey") | .after' "$O")"
t_eq "truncate: before and after are null" 0 "$(out_count a '.op=="t" and (.before != null or .after != null)')"
t_eq "truncate: tables" "f t" "$(jq -r 'select(.op=="t") | .source.table' "$O" | sort | xargs)"

# source block
s=$(head -n 1 "$O" | jq -c '.source')
t_eq "source.connector/db/schema" "postgresql postgres public" "$(jq -r '[.connector,.db,.schema]|join(" ")' <<<"$s")"
t_eq "source.snapshot" '"false"' "$(jq -c .snapshot <<<"$s")"
t_eq "source.txId is a number" number "$(jq -r '.txId|type' <<<"$s")"
t_eq "source.sequence ends with the change's LSN" "$(jq -r .lsn <<<"$s")" \
	"$(jq -r '.sequence|fromjson|.[1]' <<<"$s")"
t_eq "every record has top-level ts_ms >= source.ts_ms" 0 "$(out_count a '.ts_ms < .source.ts_ms')"
# ts_us and ts_ns beside ts_ms, as Debezium 2.6+ (compared in exact integers: jq's
# doubles cannot hold nanoseconds since 1970)
t_eq "every record: ts_us and ts_ns agree with ts_ms (source: commit time, top level: production)" 0 \
	"$(/usr/bin/python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line); s = r["source"]
    bad += not (s["ts_us"] // 1000 == s["ts_ms"] and s["ts_ns"] == s["ts_us"] * 1000 and
                r["ts_ns"] // 1000 == r["ts_us"] and r["ts_us"] // 1000 == r["ts_ms"] and
                r["ts_ns"] >= s["ts_ns"])
print(bad)' "$O")"
t_eq "LSNs never go backwards" "$(jq -r .source.lsn "$O" | xargs)" "$(jq -r .source.lsn "$O" | sort -n | xargs)"
seq0=$(jq -r '.source.sequence | fromjson | .[0] // "null"' "$O")
t_eq "sequence[0] is null only before the first commit" null "$(head -1 <<<"$seq0")"
t_eq "sequence[0] (previous commit LSN) never goes backwards and precedes the change" 0 \
	"$(jq -r '.source | (.sequence|fromjson) as $s | select($s[0] != null and (($s[0]|tonumber) >= .lsn)) | .lsn' "$O" | wc -l)"
t_eq "sequence[0] ascending" "$(sed 1d <<<"$seq0" | xargs)" "$(sed 1d <<<"$seq0" | sort -n | xargs)"

# the slot confirms exactly what was delivered; restarting delivers nothing twice
before=$(wc -l <"$O")
agent_start a
psql_q "INSERT INTO t VALUES (50, 'after restart', '')"
wait_caught_up 60 || true
agent_stop TERM
t_eq "restart: only the new change is delivered" "$((before + 1))" "$(wc -l <"$O")"
t_eq "restart: the new change" 50 "$(tail -1 "$O" | jq .after.id)"
t_summary
