#!/usr/bin/env bash
# Gap detection (SPEC §5): when the slot was advanced, or dropped and recreated,
# behind pgcdc's back, changes were lost; pgcdc refuses to stream (exit 1) and says
# how to recover, unless started with --accept-gap.  Ordinary restarts, clean or
# kill -9, never trip it.  The check runs on every connection: a slot dropped while
# pgcdc is connected is found at the reconnect, and no new slot is left behind; a
# server that is another database cluster (system identifier) is a gap too.
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
grep -q 'slot "pgcdc" does not exist on this server (system [0-9]*, timeline 1), but pgcdc delivered up to .*does not create a new slot over a gap' "$PG_TMP/fg.log" \
	&& t_ok "dropped slot: the message explains the loss" || t_fail "dropped message" "$(cat "$PG_TMP/fg.log")"
t_eq "dropped slot: no new slot left behind holding WAL" 0 "$(psql_q "SELECT count(*) FROM pg_replication_slots")"
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
# the spare a state file is written to (then swapped in) torn, as a crash mid-write leaves it:
# never read
printf '0/DEAD' >"$PG_TMP/state/pgcdc.lsn.tmp"
run_fg s --accept-gap
t_eq "restored state file, --accept-gap: streams" 0 "$RC"
t_eq "state file written whole" "$(slot_confirmed)" "$(cat "$PG_TMP/state/pgcdc.lsn")"
spare=$(cat "$PG_TMP/state/pgcdc.lsn.tmp")
t_eq "the spare holds a whole earlier position" t \
	"$(psql_q "SELECT '$spare'::pg_lsn < '$(cat "$PG_TMP/state/pgcdc.lsn")'::pg_lsn")"
t_eq "the system file records the server and timeline" "$(psql_q "SELECT system_identifier FROM pg_control_system()") 1" \
	"$(cat "$PG_TMP/state/pgcdc.system")"

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
grep -q 'has been invalidated by the server (invalidation_reason wal_removed: the WAL it needed was removed (max_slot_wal_keep_size)).*re-snapshot' "$PG_TMP/fg.log" \
	&& t_ok "invalidated slot: the message explains the loss and the recovery" \
	|| t_fail "lost message" "$(cat "$PG_TMP/fg.log")"
# 5. the slot dropped while pgcdc is connected: found at the reconnect, exit 1, no new slot
# (a fresh start first: the invalidated slot and the state go)
psql_q "ALTER SYSTEM RESET max_slot_wal_keep_size" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
psql_q "SELECT pg_drop_replication_slot('pgcdc')" >/dev/null
rm -f "$PG_TMP/state/pgcdc.lsn" "$PG_TMP/state/pgcdc.system"
: >"$PG_TMP/e.out"
agent_start e
psql_q "INSERT INTO g SELECT generate_series(451, 460)"
wait_caught_up 30
kick() {   # end pgcdc's walsender and drop the slot before pgcdc reconnects
	psql_q "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'pgcdc' AND active_pid IS NOT NULL" >/dev/null
	psql_q "SELECT pg_drop_replication_slot('pgcdc')" >/dev/null 2>&1
}
wait_for 20 kick || t_fail "drop while connected" "could not drop the slot"
psql_q "INSERT INTO g SELECT generate_series(461, 470)"
set +e
timeout 60 tail --pid="$AGENT_PID" -f /dev/null
set -e
agent_stop TERM
t_eq "slot dropped while connected: exit 1 at the reconnect" 1 "$AGENT_RC"
grep -q 'slot "pgcdc" does not exist on this server' "$PG_TMP/e.log" \
	&& t_ok "slot dropped while connected: the gap is named" || t_fail "reconnect gap" "$(tail -5 "$PG_TMP/e.log")"
t_eq "slot dropped while connected: no new slot" 0 "$(psql_q "SELECT count(*) FROM pg_replication_slots")"
t_eq "slot dropped while connected: nothing of the gap delivered" 0 "$(out_count e 'select(.after.id > 460)')"

# 6. another database cluster behind the same conninfo (system identifier): a gap, even
# with a slot of the same name there
saved=$(mktemp -d)
at_exit rm -rf "$saved"
cp -a "$PG_TMP/state" "$saved/"
pg_destroy
pg_start
psql_q "CREATE TABLE g (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES"
psql_q "SELECT pg_create_logical_replication_slot('pgcdc', 'pgoutput')" >/dev/null
cp -a "$saved/state" "$PG_TMP/"
: >"$PG_TMP/f.out"
run_fg f
t_eq "another cluster: exit 1" 1 "$RC"
grep -q 'the server is another database cluster (system identifier [0-9]*, timeline 1) than the one pgcdc streamed from (system identifier [0-9]*' "$PG_TMP/fg.log" \
	&& t_ok "another cluster: both system identifiers named" || t_fail "sysid message" "$(cat "$PG_TMP/fg.log")"
t_eq "another cluster: nothing streamed" 0 "$(wc -l <"$PG_TMP/f.out")"

t_summary
