#!/usr/bin/env bash
# Kafka sink against a mock Kafka cluster, read back with kcat: topics, JSON keys and
# Debezium envelopes, tombstones, PK changes, truncates, null keys, partitions equal to
# the Java client's murmur2 choice, per-key commit order, a clean restart delivering
# nothing twice, `pgcdc check` with reachable and unreachable brokers, and
# librdkafka property errors that name the key and never echo a secret.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 3
kafka_cmd topic x.public.t 4
psql_q "CREATE TABLE t (id int PRIMARY KEY, name text, big text);
        ALTER TABLE t ALTER big SET STORAGE EXTERNAL;
        CREATE TABLE nokey (a int, b text); ALTER TABLE nokey REPLICA IDENTITY FULL;
        CREATE TABLE comp (a int, b text, v int, PRIMARY KEY (b, a));
        CREATE TABLE \"Odd Name\" (id int PRIMARY KEY);
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
mapfile -t K < <(kafka_args x)
agent_start a "${K[@]}"

psql_q "INSERT INTO t SELECT g, 'n' || g, '' FROM generate_series(1, 60) g"
psql_q "UPDATE t SET name = 'u1' WHERE id = 7"
psql_q "UPDATE t SET big = repeat('x', 5000) WHERE id = 7"
psql_q "UPDATE t SET name = 'u2' WHERE id = 7"       # big is unchanged TOAST now
psql_q "DELETE FROM t WHERE id = 7"
psql_q "INSERT INTO t VALUES (7, 'again', '')"
psql_q "UPDATE t SET id = 100 WHERE id = 8"          # PK change: delete + tombstone + create
psql_q "INSERT INTO nokey VALUES (1, 'x'), (2, 'y')"
psql_q "DELETE FROM nokey WHERE a = 1"               # no key: no tombstone
psql_q "INSERT INTO comp VALUES (1, 'b', 10)"
psql_q "INSERT INTO \"Odd Name\" VALUES (1)"
psql_q "BEGIN; INSERT INTO t VALUES (999, 'rolled back', ''); ROLLBACK"
psql_q "TRUNCATE nokey"
wait_caught_up 60 || t_fail "caught up" "slot did not confirm the current WAL position"
agent_stop TERM
t_eq "agent exits 0 on SIGTERM" 0 "$AGENT_RC"

J=$PG_TMP/t.json
kafka_json x.public.t >"$J"
# one line per message: partition offset key-or-NULL op-or-TOMBSTONE id lsn
jq -r '[.partition, .offset, (.key // "NULL"),
        (if .payload == null then "TOMBSTONE" else (.payload | fromjson | .op) end),
        (if .payload == null then "-" else (.payload | fromjson | (.after // .before).id) end),
        (if .payload == null then "-" else (.payload | fromjson | .source.lsn) end)] | @tsv' "$J" >"$PG_TMP/t.tsv"

t_eq "topic x.public.t: 60 inserts, 3 updates, 2 deletes + 2 tombstones, 2 creates" 69 "$(wc -l <"$J")"
t_eq "rolled-back rows never appear" 0 "$(awk -F'\t' '$5 == 999' "$PG_TMP/t.tsv" | wc -l)"
t_eq "key is the JSON of the primary key" '{"id":1}' "$(jq -r 'select(.payload != null) | select((.payload|fromjson).after.id == 1) | .key' "$J")"

# history of id 7, in consumption order (one partition, offset order)
t_eq "id 7: ops in commit order, tombstone after the delete" "c u u u d TOMBSTONE c" \
	"$(awk -F'\t' '$3 == "{\"id\":7}" {print $4}' "$PG_TMP/t.tsv" | xargs)"
t_eq "id 7: one partition" 1 "$(awk -F'\t' '$3 == "{\"id\":7}" {print $1}' "$PG_TMP/t.tsv" | sort -u | wc -l)"
u2=$(jq -c 'select(.payload != null) | .payload | fromjson | select(.op == "u" and .after.name == "u2")' "$J")
t_eq "unchanged TOAST placeholder" '"__debezium_unavailable_value"' "$(jq -c .after.big <<<"$u2")"
d7=$(jq -c 'select(.payload != null) | .payload | fromjson | select(.op == "d" and .before.id == 7)' "$J")
t_eq "delete: before holds the key, after is null" '[{"id":7},null]' "$(jq -c '[.before, .after]' <<<"$d7")"
t_eq "tombstones: exactly after the two deletes (keys 7 and 8)" '{"id":7} {"id":8}' \
	"$(awk -F'\t' '$4 == "TOMBSTONE" {print $3}' "$PG_TMP/t.tsv" | sort | paste -sd ' ')"

t_eq "PK change: old key created, deleted, tombstoned" "c d TOMBSTONE" \
	"$(awk -F'\t' '$3 == "{\"id\":8}" {print $4}' "$PG_TMP/t.tsv" | xargs)"
t_eq "PK change: the new key is created once" "c" "$(awk -F'\t' '$3 == "{\"id\":100}" {print $4}' "$PG_TMP/t.tsv" | xargs)"
t_eq "PK change: delete and create share the change's LSN" 1 \
	"$(awk -F'\t' '($3 == "{\"id\":8}" && $4 == "d") || $3 == "{\"id\":100}" {print $6}' "$PG_TMP/t.tsv" | sort -u | wc -l)"

# the PK change's headers, as Debezium's: the delete names the new key, the create the old
# one; no other record of the topic (the tombstone included) has headers
t_eq "PK change: __debezium.newkey on the delete, __debezium.oldkey on the create (kcat %h)" \
	'{"id":100}|__debezium.oldkey={"id":8} {"id":8}|__debezium.newkey={"id":100}' \
	"$(kcat -C -b "$KAFKA_BOOTSTRAP" -t x.public.t -e -q -f '%k|%h\n' | grep -v '|$' | sort | xargs -d '\n')"
t_eq "PK change: the headers are on the delete and the create, not on the tombstone" "c d" \
	"$(jq -r 'select(.headers != null and (.headers | length) > 0) | .payload | fromjson | .op' "$J" | sort | xargs)"

# per key, LSNs never go backwards in the topic (commit order)
t_eq "per-key order = commit order" "" \
	"$(awk -F'\t' '$6 != "-" { if (($3 in last) && $6+0 < last[$3]+0) print $3; last[$3] = $6 }' "$PG_TMP/t.tsv")"

# partitions: the Java client's murmur2 partition of the key bytes
"$KAFKA_TOOLS/kafka-murmur2" --selftest >/dev/null || t_fail "murmur2 test tool" "does not match Kafka's vectors"
mapfile -t keys < <(cut -f3 "$PG_TMP/t.tsv")
mapfile -t want < <(kafka_partition 4 "${keys[@]}")
got=$(cut -f1 "$PG_TMP/t.tsv" | xargs)
t_eq "every key on the partition the Java client would choose (${#keys[@]} messages)" "${want[*]}" "$got"
t_eq "keys spread over all 4 partitions" 4 "$(cut -f1 "$PG_TMP/t.tsv" | sort -u | wc -l)"

# envelope and source block
c1=$(jq -c 'select(.payload != null) | .payload | fromjson | select(.op == "c" and .after.id == 1)' "$J")
t_eq "insert envelope" '[{"id":1,"name":"n1","big":""},null,"c",null]' "$(jq -c '[.after, .before, .op, .transaction]' <<<"$c1")"
t_eq "source: connector, name (= topic_prefix), db, schema, table, snapshot" \
	"postgresql x postgres public t false" \
	"$(jq -r '.source | [.connector, .name, .db, .schema, .table, .snapshot] | join(" ")' <<<"$c1")"
t_eq "source.sequence ends with the change's LSN" "$(jq -r .source.lsn <<<"$c1")" \
	"$(jq -r '.source.sequence | fromjson | .[1]' <<<"$c1")"

# tables without a key, composite keys, truncate, topic names
N=$(kafka_json x.public.nokey)
t_eq "no primary key: null keys" "NULL NULL NULL NULL" "$(jq -r '.key // "NULL"' <<<"$N" | xargs)"
t_eq "no primary key: delete without tombstone, then truncate (by LSN)" "c c d t" \
	"$(jq -r 'if .payload == null then "0 TOMBSTONE" else (.payload | fromjson | "\(.source.lsn) \(.op)") end' <<<"$N" |
		sort -n -s -k1,1 | cut -d' ' -f2 | xargs)"
t_eq "no primary key: FULL identity delete carries the old row" '{"a":1,"b":"x"}' \
	"$(jq -c 'select(.payload != null) | .payload | fromjson | select(.op == "d") | .before' <<<"$N")"
tr=$(jq -c 'select(.payload != null) | .payload | fromjson | select(.op == "t")' <<<"$N")
t_eq "truncate: before and after null" "null null" "$(jq -c '.before, .after' <<<"$tr" | xargs)"
t_eq "composite key in column order" '{"a":1,"b":"b"}' "$(kafka_json x.public.comp | jq -r .key)"
t_eq "characters Kafka refuses in topic names become _" 1 "$(kafka_count 'x.public.Odd_Name')"
grep -q 'topic "x.public.Odd_Name"' "$PG_TMP/a.log" && t_ok "renamed topic is logged" ||
	t_fail "renamed topic is logged" "no warning in the log"

# a clean stop acknowledged everything: a restart delivers only what is new
before=$(kafka_count x.public.t)
agent_start a "${K[@]}"
psql_q "INSERT INTO t VALUES (500, 'after restart', '')"
wait_caught_up 60 || true
agent_stop TERM
t_eq "restart: only the new change is delivered" "$((before + 1))" "$(kafka_count x.public.t)"

# an initial snapshot (the online method, the default) through another slot: op "r"
# rows, snapshot "incremental"
psql_q "CREATE PUBLICATION snap FOR TABLE comp"
agent_start s "${K[@]}" --set sink.kafka.topic_prefix=xs --set source.slot=snap \
	--set source.publication=snap --set source.snapshot=initial
wait_for 30 grep -qs "backfill: done" "$PG_TMP/s.log" || t_fail "online snapshot done" "$(tail -5 "$PG_TMP/s.log")"
psql_q "INSERT INTO comp VALUES (2, 'b', 20)"
wait_caught_up 60 snap || t_fail "snapshot slot caught up" "no"
agent_stop TERM
S=$(kafka_records xs.public.comp)
t_eq "snapshot: the existing row as op r, snapshot incremental, no txId, then the insert" \
	'[1,"r","incremental",null] [2,"c","false",true]' \
	"$(jq -c '[.after.a, .op, .source.snapshot, (if .op == "r" then .source.txId else (.source.txId|type == "number") end)]' <<<"$S" | sort | paste -sd ' ')"
t_eq "snapshot: record key" '{"a":1,"b":"b"}' \
	"$(kafka_json xs.public.comp | jq -r 'select((.payload | fromjson).op == "r") | .key')"

# pgcdc check: reachable, then unreachable brokers
mapfile -t base < <(agent_args)
set +e
out=$("$PGCDC_BIN" "${base[@]}" "${K[@]}" check 2>&1)
rc=$?
set -e
t_eq "check: exit 0 with reachable brokers" 0 "$rc"
line=$(grep 'sink kafka' <<<"$out" || true)
[[ $line == ok*"3 brokers reachable"*"x.public.t (4 partitions)"* ]] && t_ok "check: brokers and topics reported" ||
	t_fail "check: brokers and topics reported" "$line"
set +e
start=$(date +%s)
out=$("$PGCDC_BIN" "${base[@]}" "${K[@]}" --set sink.kafka.brokers=127.0.0.1:1 check 2>&1)
rc=$?
took=$(($(date +%s) - start))
set -e
t_eq "check: exit 1 with unreachable brokers" 1 "$rc"
line=$(grep 'sink kafka' <<<"$out" || true)
[[ $line == FAIL*"127.0.0.1:1"*"metadata"* ]] && t_ok "check: unreachable brokers named" ||
	t_fail "check: unreachable brokers named" "$line"
((took <= 15)) && t_ok "check: bounded by the metadata timeout (${took} s)" || t_fail "check: bounded" "${took} s"

# librdkafka refuses a property: the key is named, a secret value never shown
set +e
out=$("$PGCDC_BIN" "${base[@]}" "${K[@]}" --set sink.kafka.kafka.no.such.property=1 check 2>&1)
set -e
grep -q 'sink.kafka.kafka.no.such.property: librdkafka .* has no property' <<<"$out" &&
	t_ok "unknown librdkafka property named" || t_fail "unknown librdkafka property named" "$out"
set +e
out=$("$PGCDC_BIN" "${base[@]}" "${K[@]}" --set sink.kafka.kafka.compression.type=fancy check 2>&1)
set -e
grep -q 'sink.kafka.kafka.compression.type: librdkafka rejects it' <<<"$out" &&
	t_ok "invalid value: key and reason named" || t_fail "invalid value: key and reason named" "$out"
secret=S3cr3t-Pem-Value-123
set +e
out=$("$PGCDC_BIN" "${base[@]}" "${K[@]}" --set sink.kafka.kafka.security.protocol=ssl \
	--set "sink.kafka.kafka.ssl.key.pem=$secret" --set "sink.kafka.kafka.ssl.key.password=$secret" check 2>&1)
rc=$?
run_out=$(timeout 30 "$PGCDC_BIN" "${base[@]}" "${K[@]}" --set sink.kafka.kafka.security.protocol=ssl \
	--set "sink.kafka.kafka.ssl.key.pem=$secret" --set "sink.kafka.kafka.ssl.key.password=$secret" run 2>&1)
run_rc=$?
set -e
t_eq "bad TLS key: check fails" 1 "$rc"
grep -q 'sink kafka: .*librdkafka refuses the configuration' <<<"$out" && t_ok "bad TLS key: reported" ||
	t_fail "bad TLS key: reported" "$out"
[[ $run_rc -ne 0 ]] && t_ok "bad TLS key: run refuses to start (exit $run_rc)" || t_fail "bad TLS key: run" "exit 0"
grep -qF "$secret" <<<"$out$run_out" && t_fail "secret never printed" "$(grep -F "$secret" <<<"$out$run_out" | sed -n '1,2p')" ||
	t_ok "secret never printed"
t_summary
