#!/usr/bin/env bash
# Bad input gets a clear message and the right exit status (SPEC §1: 1 runtime,
# 2 configuration), and secrets stay out of every message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

# run_agent NAME ARGS...: run pgcdc in the foreground with the test config; sets RC, ERR
run_agent() {
	local name=$1; shift
	local -a base
	mapfile -t base < <(agent_args)
	set +e
	timeout 30 "$PGCDC_BIN" "${base[@]}" "$@" >"$PG_TMP/$name.out" 2>"$PG_TMP/$name.log"
	RC=$?
	set -e
	ERR=$(cat "$PG_TMP/$name.log")
}
expect() {   # expect NAME EXIT_STATUS GREP_PATTERN
	t_eq "$1: exit status" "$2" "$RC"
	if grep -qE "$3" <<<"$ERR"; then t_ok "$1: message"; else t_fail "$1: message" "no /$3/ in: $ERR"; fi
}

pg_start
psql_q "CREATE TABLE e (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES;
        CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 's3cret-right'; GRANT SELECT ON e TO pwuser;
        CREATE ROLE norepl LOGIN"
psql_q "SELECT pg_create_logical_replication_slot('other', 'test_decoding')" >/dev/null

port=$(free_port)
run_agent unreachable --set "source.conninfo=host=127.0.0.1 port=$port dbname=postgres user=postgres connect_timeout=3"
expect "unreachable server" 1 "cannot connect to PostgreSQL.*(refused|could not connect)"

run_agent badpw --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser password=Wr0ngSecret"
expect "wrong password" 1 "password authentication failed for user \"pwuser\""
t_eq "wrong password: the password is not logged" 0 "$(grep -c Wr0ngSecret "$PG_TMP/badpw.log" || true)"

run_agent norepl --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=norepl"
expect "role without REPLICATION" 1 "(must be superuser or replication role|permission denied)"

run_agent plugin --set source.slot=other
expect "slot with another plugin" 1 'slot "other" uses plugin test_decoding, not pgoutput'

run_agent nopub --set source.publication=nope --set source.create_publication=off
expect "missing publication" 1 'publication "nope" does not exist'

psql_q "CREATE PUBLICATION emptypub"
run_agent emptypub --set source.publication=emptypub snapshot
expect "snapshot of a publication with no tables" 0 'nothing to copy: publication "emptypub" has no tables'

printf '[source]\nslot = pgcdc\nstatus_interval = 10 parsecs\n[sink.stdout]\n' >"$PG_TMP/bad.conf"
set +e; ERR=$("$PGCDC_BIN" -c "$PG_TMP/bad.conf" run 2>&1); RC=$?; set -e
expect "malformed config file" 2 "bad.conf:3: source.status_interval: "

set +e; ERR=$("$PGCDC_BIN" -c "$PG_TMP/none.conf" check 2>&1); RC=$?; set -e
expect "missing config file" 2 "none.conf"

set +e; ERR=$("$PGCDC_BIN" frobnicate 2>&1); RC=$?; set -e
expect "unknown command" 2 'unknown command "frobnicate"'

# created publication
run_agent createpub --set source.publication=made --set source.create_publication=all --set source.slot=made &
sleep 3; pkill -TERM -f "source.slot=made" || true; wait
t_eq "create_publication = all creates it FOR ALL TABLES" t \
	"$(psql_q "SELECT puballtables FROM pg_publication WHERE pubname = 'made'")"

# check: findings and exit status
set +e
CHK=$("$PGCDC_BIN" --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=norepl" \
	--set source.publication=nope --set sink.stdout.enabled=on check 2>&1); RC=$?
set -e
t_eq "check (no REPLICATION, no publication): exit 1" 1 "$RC"
grep -q 'FAIL.*lacks the REPLICATION attribute: ALTER ROLE "norepl" REPLICATION' <<<"$CHK" \
	&& t_ok "check names the missing privilege and its fix" || t_fail "check privilege" "$CHK"
grep -q 'FAIL.*publication "nope" does not exist' <<<"$CHK" \
	&& t_ok "check names the missing publication" || t_fail "check publication" "$CHK"
grep -q 'warning.*max_slot_wal_keep_size = -1' <<<"$CHK" \
	&& t_ok "check warns about unlimited max_slot_wal_keep_size" || t_fail "check wal keep" "$CHK"

set +e
CHK=$("$PGCDC_BIN" --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser password=s3cret-right" \
	--set sink.stdout.enabled=on check 2>&1); RC=$?
set -e
t_eq "check with a password: passes" 0 "$RC"
t_eq "check with a password: the password never printed" 0 "$(grep -c s3cret-right <<<"$CHK" || true)"

# drop-slot
set +e; ERR=$("$PGCDC_BIN" --set "source.conninfo=$PG_CONNINFO" --set source.slot=other --set sink.stdout.enabled=on drop-slot 2>&1); RC=$?; set -e
expect "drop-slot" 0 'dropped replication slot "other"'
t_eq "drop-slot removed it" 0 "$(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'other'")"

# a server with wal_level = replica
pg_destroy
pg_start "wal_level = replica"
psql_q "CREATE PUBLICATION pgcdc FOR ALL TABLES"
run_agent replica
expect "wal_level = replica" 1 "logical decoding requires wal_level"
set +e; CHK=$("$PGCDC_BIN" --set "source.conninfo=$PG_CONNINFO" --set sink.stdout.enabled=on check 2>&1); RC=$?; set -e
t_eq "check on wal_level = replica: exit 1" 1 "$RC"
grep -q "FAIL.*wal_level = replica" <<<"$CHK" && t_ok "check names wal_level" || t_fail "check wal_level" "$CHK"
t_summary
