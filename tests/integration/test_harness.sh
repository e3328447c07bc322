#!/usr/bin/env bash
#
# test_harness.sh — checks tests/integration/lib.sh itself: a throwaway cluster starts with the
# settings pgcdc needs, survives fast and immediate restarts without losing committed data,
# enforces the pwuser password rule, and the reporting helpers count correctly.

set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pg_start "work_mem = '7MB'" "cluster_name = 'harness'"

t_eq "wal_level is logical" logical "$(psql_q 'SHOW wal_level')"
t_eq "extra conf lines applied" "7MB harness" "$(psql_q 'SHOW work_mem') $(psql_q 'SHOW cluster_name')"
t_eq "fsync stays on" on "$(psql_q 'SHOW fsync')"
t_eq "listens on the exported port" "$PGPORT" "$(psql_q 'SHOW port')"
t_eq "max_replication_slots" 10 "$(psql_q 'SHOW max_replication_slots')"
t_eq "UTF8 database" UTF8 "$(psql_q 'SHOW server_encoding')"
if [[ -s $PG_TMP/server.log ]]; then
	t_ok "server log in \$PG_TMP"
else
	t_fail "server log in \$PG_TMP" "missing or empty: $PG_TMP/server.log"
fi

# PG_CONNINFO is usable as is, and replication connections are trusted.
t_eq "PG_CONNINFO connects" postgres "$("$PG_BIN/psql" -XAtq "$PG_CONNINFO" -c 'SELECT current_user')"
t_eq "replication connection" "$PGPORT" \
	"$("$PG_BIN/psql" -XAtq "$PG_CONNINFO replication=database" -c 'IDENTIFY_SYSTEM' >/dev/null && echo "$PGPORT")"

# pwuser needs its password over TCP.
psql_q "CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'right'"
if PGPASSWORD=wrong "$PG_BIN/psql" -XAtq "host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser" \
	-c 'SELECT 1' >/dev/null 2>"$PG_TMP/pw.err"; then
	t_fail "wrong password rejected" "connected with a wrong password"
elif grep -q 'password authentication failed' "$PG_TMP/pw.err"; then
	t_ok "wrong password rejected"
else
	t_fail "wrong password rejected" "unexpected error: $(cat "$PG_TMP/pw.err")"
fi
t_eq "right password accepted" pwuser \
	"$(PGPASSWORD=right "$PG_BIN/psql" -XAtq "host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser" -c 'SELECT current_user')"

# Data survives a fast and an immediate (crash-like) restart.
pg_create_db "harness db"
t_eq "pg_create_db" 1 "$(psql_q "SELECT count(*) FROM pg_database WHERE datname = 'harness db'")"
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g" \
	-d "harness db"
pg_restart fast
t_eq "rows after fast restart" 100 "$(psql_q 'SELECT count(*) FROM t' -d "harness db")"
psql_q "INSERT INTO t VALUES (101, 'committed before crash')" -d "harness db"
pg_restart immediate
t_eq "rows after immediate restart" 101 "$(psql_q 'SELECT count(*) FROM t' -d "harness db")"
t_eq "last row intact" "committed before crash" "$(psql_q 'SELECT v FROM t WHERE id = 101' -d "harness db")"
if grep -q 'database system was interrupted\|not properly shut down' "$PG_TMP/server.log"; then
	t_ok "immediate stop forced crash recovery"
else
	t_fail "immediate stop forced crash recovery" "no recovery message in server.log"
fi

# psql_q reads stdin and stops at the first error.
t_eq "psql_q from stdin" 3 "$(printf 'SELECT 1;\nSELECT 3;\n' | psql_q | tail -n 1)"
if psql_q 'SELECT 1/0' 2>/dev/null; then
	t_fail "psql_q fails on SQL error" "exit status 0"
else
	t_ok "psql_q fails on SQL error"
fi

# wait_for: success, and timeout within bounds.
if wait_for 5 true; then t_ok "wait_for success"; else t_fail "wait_for success" "returned non-zero"; fi
start=$(_now_ms)
if wait_for 0.5 false; then
	t_fail "wait_for timeout" "returned 0"
else
	elapsed=$(($(_now_ms) - start))
	if ((elapsed >= 450 && elapsed < 3000)); then
		t_ok "wait_for timeout"
	else
		t_fail "wait_for timeout" "took ${elapsed} ms for 0.5 s"
	fi
fi

# pg_stop really stops; pg_restart brings the same cluster back.
pg_stop fast
if _pg_isready; then t_fail "pg_stop" "server still answers"; else t_ok "pg_stop"; fi
pg_restart fast
t_eq "restart after stop" 101 "$(psql_q 'SELECT count(*) FROM t' -d "harness db")"

# t_summary must fail when a check failed (run in a subshell so our counters are untouched).
if (T_PASS=3 T_FAIL=1 t_summary >/dev/null); then
	t_fail "t_summary fails on failures" "returned 0"
else
	t_ok "t_summary fails on failures"
fi
if (T_PASS=0 T_FAIL=0 t_summary >/dev/null); then
	t_fail "t_summary fails when nothing was checked" "returned 0"
else
	t_ok "t_summary fails when nothing was checked"
fi

t_summary
