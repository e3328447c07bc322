#!/usr/bin/env bash
# Gap detection (SPEC §5): when the slot was advanced, or dropped and recreated,
# behind pgcdc's back, changes were lost; pgcdc refuses to stream (exit 1) and says
# how to recover, unless started with --accept-gap.  Ordinary restarts, clean or
# kill -9, never trip it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start
psql_q "CREATE TABLE g (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES"
run_fg() {   # run_fg NAME ARGS: the agent in the foreground for a few seconds
	local name=$1
	shift
	local -a base
	mapfile -t base < <(agent_args)
	set +e
	timeout --preserve-status -s TERM 6 "$PGCDC_BIN" "${base[@]}" "$@" >>"$PG_TMP/$name.out" 2>"$PG_TMP/fg.log"
	RC=$?
	set -e
}

agent_start a
psql_q "INSERT INTO g SELECT generate_series(1, 100)"
wait_caught_up 30
agent_stop KILL
psql_q "INSERT INTO g SELECT generate_series(101, 200)"
agent_start a
wait_caught_up 30
agent_stop TERM
t_eq "restart after kill -9: no gap reported, streaming resumed" 200 \
	"$(jq -r .after.id "$PG_TMP/a.out" | sort -u | wc -l)"
t_eq "recorded position equals the slot's" "$(slot_confirmed)" "$(cat "$PG_TMP/state/pgcdc.lsn")"

# 1. the slot advanced past undelivered changes
psql_q "INSERT INTO g SELECT generate_series(201, 300)"
psql_q "SELECT pg_replication_slot_advance('pgcdc', pg_current_wal_lsn())" >/dev/null
run_fg b
t_eq "advanced slot: exit 1" 1 "$RC"
grep -q 'slot "pgcdc" is confirmed up to .* but pgcdc recorded delivery only up to .*never delivered' "$PG_TMP/fg.log" \
	&& t_ok "advanced slot: the message explains the loss" || t_fail "advanced message" "$(cat "$PG_TMP/fg.log")"
grep -q "re-snapshot" "$PG_TMP/fg.log" && t_ok "advanced slot: the message says how to recover" \
	|| t_fail "recover hint" "$(cat "$PG_TMP/fg.log")"
t_eq "advanced slot: nothing streamed" 0 "$(wc -l <"$PG_TMP/b.out")"

run_fg b --accept-gap
t_eq "--accept-gap: streams (stopped by TERM, exit 0)" 0 "$RC"
grep -q "streaming anyway (--accept-gap)" "$PG_TMP/fg.log" && t_ok "--accept-gap: warns" \
	|| t_fail "accept-gap warning" "$(cat "$PG_TMP/fg.log")"
run_fg b
t_eq "after --accept-gap: the next start is clean" 0 "$RC"

# 2. the slot dropped and recreated
psql_q "SELECT pg_drop_replication_slot('pgcdc')" >/dev/null
psql_q "INSERT INTO g SELECT generate_series(301, 400)"
run_fg c
t_eq "dropped slot: exit 1" 1 "$RC"
grep -q 'did not exist and was created anew' "$PG_TMP/fg.log" \
	&& t_ok "dropped slot: the message explains the loss" || t_fail "dropped message" "$(cat "$PG_TMP/fg.log")"
run_fg c
t_eq "dropped slot: still refused on the next start" 1 "$RC"

# 3. a new snapshot re-establishes the state: no gap
run_fg d --set source.snapshot=always
t_eq "snapshot = always after a gap: streams" 0 "$RC"
t_eq "snapshot = always: the table is re-read" 400 "$(grep -c '"op":"r"' "$PG_TMP/d.out" || true)"

# 3b. an unreadable state file is an error naming it, never a first start (issue 13.3): the
# slot advanced behind pgcdc's back would otherwise go unnoticed
psql_q "INSERT INTO g SELECT generate_series(401, 450)"
psql_q "SELECT pg_replication_slot_advance('pgcdc', pg_current_wal_lsn())" >/dev/null
good=$(cat "$PG_TMP/state/pgcdc.lsn")
for kind in garbled empty directory; do
	rm -rf "$PG_TMP/state/pgcdc.lsn"
	case $kind in
	garbled) printf 'not an lsn\n' >"$PG_TMP/state/pgcdc.lsn" ;;
	empty) : >"$PG_TMP/state/pgcdc.lsn" ;;
	directory) mkdir "$PG_TMP/state/pgcdc.lsn" ;;
	esac
	: >"$PG_TMP/s.out"
	run_fg s
	t_eq "$kind state file: exit 1" 1 "$RC"
	grep -q "state file $PG_TMP/state/pgcdc.lsn .*cannot be read\|state file $PG_TMP/state/pgcdc.lsn .*not a position" "$PG_TMP/fg.log" \
		&& t_ok "$kind state file: the error names the file" || t_fail "$kind message" "$(cat "$PG_TMP/fg.log")"
	t_eq "$kind state file: nothing streamed" 0 "$(wc -l <"$PG_TMP/s.out")"
done
rm -rf "$PG_TMP/state/pgcdc.lsn"
echo "$good" >"$PG_TMP/state/pgcdc.lsn"
run_fg s
t_eq "restored state file: the advanced slot is a gap again" 1 "$RC"
run_fg s --accept-gap
t_eq "restored state file, --accept-gap: streams" 0 "$RC"
t_eq "state file written whole" "$(slot_confirmed)" "$(cat "$PG_TMP/state/pgcdc.lsn")"
t_eq "no temporary state file left" "" "$(ls "$PG_TMP/state" | grep tmp || true)"

# 4. a slot invalidated by max_slot_wal_keep_size: its WAL is gone, changes were lost
psql_q "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
psql_q "CREATE TABLE filler (v text)"
for ((i = 0; i < 6; i++)); do
	psql_q "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 20000); SELECT pg_switch_wal()" >/dev/null
	psql_q "CHECKPOINT"
done
t_eq "the slot is invalidated (wal_status lost)" lost \
	"$(psql_q "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'pgcdc'")"
run_fg e
t_eq "invalidated slot: exit 1" 1 "$RC"
grep -q 'has been invalidated (wal_status lost).*changes were lost.*re-snapshot' "$PG_TMP/fg.log" \
	&& t_ok "invalidated slot: the message explains the loss and the recovery" \
	|| t_fail "lost message" "$(cat "$PG_TMP/fg.log")"
t_summary
