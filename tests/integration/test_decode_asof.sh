#!/usr/bin/env bash
# The same WAL gives the same records whenever it is decoded (issue 13.6). Keys and types
# came from the catalog of the moment a Relation message arrived, so catching up after
# DDL gave other records than decoding live: a primary key moved under REPLICA IDENTITY
# FULL turned an update into delete + create, and a dropped domain turned a number into
# a string. The same workload runs in two databases: one decoded live, one caught up
# after the DDL (pgcdc stopped meanwhile); their records, and their Kafka keys, must be
# the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
kafka_start 1
setup="CREATE TABLE f (id int PRIMARY KEY, v text); ALTER TABLE f REPLICA IDENTITY FULL;
       CREATE DOMAIN posint AS int; CREATE TABLE h (id int PRIMARY KEY, n posint);
       CREATE TABLE g (id int PRIMARY KEY, v text); ALTER TABLE g REPLICA IDENTITY FULL;
       CREATE PUBLICATION pgcdc FOR ALL TABLES"
work=("INSERT INTO f VALUES (1,'a')" "UPDATE f SET v='b' WHERE id=1"
      "ALTER TABLE f DROP CONSTRAINT f_pkey, ADD PRIMARY KEY (v)" "UPDATE f SET id = 2 WHERE v = 'b'"
      "INSERT INTO h VALUES (1,5)" "UPDATE h SET n = 6" "INSERT INTO g VALUES (1,'x')" "UPDATE g SET v = 'y'"
      "DROP TABLE h" "DROP TABLE g" "DROP DOMAIN posint")
records() {   # the records of NAME.out without production times
	jq -c '[.source.table, .op, .before, .after]' "$PG_TMP/$1.out"
}
run_db() {   # run_db DB MODE: the workload in database DB, decoded live or caught up
	local db=$1 mode=$2
	pg_create_db "$db"
	psql_q "$setup" -d "$db"
	mapfile -t A < <(kafka_args "$db"; printf '%s\n' --set sink.stdout.enabled=on \
		--set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=$db user=postgres" \
		--set "source.slot=s_$db" --set "source.state_dir=$PG_TMP/state_$db")
	agent_start "$db" "${A[@]}"
	[[ $mode == catchup ]] && agent_stop TERM
	local stmt
	for stmt in "${work[@]}"; do   # one transaction each; live: decoded before the next
		psql_q "$stmt" -d "$db"
		[[ $mode == live ]] && { wait_caught_up 30 "s_$db" || t_fail "$db live" "not caught up after: $stmt"; }
	done
	[[ $mode == catchup ]] && agent_start "$db" "${A[@]}"
	wait_caught_up 60 "s_$db" || t_fail "$db caught up" "slot s_$db did not catch up"
	agent_stop TERM
	records "$db" >"$PG_TMP/$db.rec"
	for t in f g h; do   # key and op of every Kafka message
		kafka_json "$db.public.$t" | jq -c --arg t "$t" '[$t, .key, (.payload | if . == null then null else fromjson | .op end)]'
	done | sort >"$PG_TMP/$db.keys"   # partitions are read in any order
}
run_db live live
run_db late catchup
t_eq "live: f's update before the key moved is an update" \
	'["f","c",null,{"id":1,"v":"a"}] ["f","u",{"id":1,"v":"a"},{"id":1,"v":"b"}]' \
	"$(grep '"f"' "$PG_TMP/live.rec" | head -2 | xargs -0 printf '%s' | tr '\n' ' ' | sed 's/ $//')"
t_eq "live: a domain over int is a number" '{"id":1,"n":5}' "$(grep '"h","c"' "$PG_TMP/live.rec" | jq -c '.[3]')"
t_eq "caught up after the DDL: the same records as live" "" "$(diff "$PG_TMP/live.rec" "$PG_TMP/late.rec")"
t_eq "live: f's key is id until the key moved, then v" \
	'["f","{\"id\":1}","c"] ["f","{\"id\":1}","u"] ["f","{\"v\":\"b\"}","u"]' \
	"$(grep '^\["f"' "$PG_TMP/live.keys" | paste -sd' ')"
t_eq "caught up: the same Kafka keys and ops as live (a dropped table keeps its key)" "" \
	"$(diff "$PG_TMP/live.keys" "$PG_TMP/late.keys")"
t_eq "the learned types and keys are kept in state_dir" 1 \
	"$(jq '[.types[] | select(.[5] == "posint")] | length' "$PG_TMP/state_late/s_late.catalog")"
t_summary
