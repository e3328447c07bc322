#!/usr/bin/env bash
# A black-holed replication connection (issue 13.5): a proxy between pgcdc and the server
# stops forwarding but keeps the sockets open (no FIN, no RST). pgcdc must notice that
# nothing came from the server for source.receive_timeout, drop the connection (and its
# ordinary connection, frozen too) and reconnect, and deliver what was written meanwhile,
# while the old path stays frozen.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start "wal_sender_timeout = 5s"
psql_q "CREATE TABLE k (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES"
PPORT=$(free_port)
"$PGCDC_SRC/${PGCDC_BUILD:-build}/tools/tcpfreeze" "$PPORT" "$PGPORT" >"$PG_TMP/proxy.out" 2>&1 &
PROXY=$!
at_exit "kill $PROXY 2>/dev/null"
wait_for 5 grep -q ready "$PG_TMP/proxy.out" || die "the proxy did not start"
agent_start a --set "source.conninfo=host=127.0.0.1 port=$PPORT dbname=postgres user=postgres" \
	--set source.receive_timeout=3s
psql_q "INSERT INTO k SELECT generate_series(1, 10)"
wait_caught_up 30 || t_fail "caught up" "before the freeze"
t_eq "rows before the freeze delivered" 10 "$(out_count a '.op == "c"')"
kill -USR1 "$PROXY"   # black-hole every open connection
psql_q "INSERT INTO k SELECT generate_series(11, 20)"
if wait_for 45 _caught_up pgcdc "$(psql_q "SELECT pg_current_wal_lsn()")"; then
	t_ok "the stream resumed on a new connection while the old one stayed frozen"
else
	t_fail "resumed" "$(tail -n 5 "$PG_TMP/a.log")"
fi
t_eq "rows written during the freeze delivered" 20 "$(jq -r 'select(.op == "c") | .after.id' "$PG_TMP/a.out" | sort -u | wc -l)"
grep -q "no message from the server for 3 s (source.receive_timeout)" "$PG_TMP/a.log" &&
	t_ok "the timeout is logged" || t_fail "timeout logged" "$(grep -E 'WARN|ERROR' "$PG_TMP/a.log" | tail -3)"
agent_stop TERM
t_eq "SIGTERM: exit 0" 0 "$AGENT_RC"
t_summary
