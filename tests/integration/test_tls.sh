#!/usr/bin/env bash
# TLS to PostgreSQL: a CA and a server certificate made here, the server with
# ssl = on, pgcdc streaming with sslmode=verify-full (both its connections), and a
# clear failure with the wrong CA or the wrong host name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

command -v openssl >/dev/null || die "openssl is needed (Debian package openssl)"
pg_start
C=$PG_TMP/certs
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pgcdc test CA" \
	-keyout "$C/ca.key" -out "$C/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$C/server.key" \
	-out "$C/server.csr" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\n' >"$C/san.ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-days 2 -extfile "$C/san.ext" -out "$C/server.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$C/other.key" -out "$C/other.crt" 2>/dev/null
cp "$C/server.crt" "$C/server.key" "$PGDATA/"
chmod 0600 "$PGDATA/server.key"
((EUID == 0)) && chown postgres: "$PGDATA/server.crt" "$PGDATA/server.key"
printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$PGDATA/postgresql.conf"
# TLS only over TCP: hostnossl connections are rejected
sed -i 's/^host /hostssl /' "$PGDATA/pg_hba.conf"
pg_restart fast
psql_q "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES" -h "$PG_TMP"

TLS="host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres sslmode=verify-full sslrootcert=$C/ca.crt"
agent_start a --set "source.conninfo=$TLS"
psql_q "INSERT INTO t VALUES (1), (2)" -h "$PG_TMP"
wait_caught_up 30 || t_fail "caught up" "slot did not catch up over TLS"
t_eq "the replication connection uses TLS" t \
	"$(psql_q "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_replication r ON r.pid = s.pid" -h "$PG_TMP")"
agent_stop TERM
t_eq "changes streamed over verify-full TLS" "1 2" "$(jq -r .after.id "$PG_TMP/a.out" | xargs)"

mapfile -t base < <(agent_args)
set +e
timeout 20 "$PGCDC_BIN" "${base[@]}" --set "source.conninfo=${TLS/ca.crt/other.crt}" >/dev/null 2>"$PG_TMP/bad.log"; rc=$?
set -e
t_eq "wrong CA: exit 1" 1 "$rc"
grep -q "certificate verify failed" "$PG_TMP/bad.log" && t_ok "wrong CA: says the certificate did not verify" \
	|| t_fail "wrong CA message" "$(cat "$PG_TMP/bad.log")"
set +e
timeout 20 "$PGCDC_BIN" "${base[@]}" --set "source.conninfo=${TLS/host=127.0.0.1/host=localhost hostaddr=127.0.0.1}" >/dev/null 2>"$PG_TMP/bad.log"; rc=$?
set -e
t_eq "wrong host name: exit 1" 1 "$rc"
grep -qE "does not match host name|server certificate for" "$PG_TMP/bad.log" && t_ok "wrong host name: says so" \
	|| t_fail "wrong host message" "$(cat "$PG_TMP/bad.log")"
set +e
timeout 20 "$PGCDC_BIN" "${base[@]}" --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres sslmode=disable" >/dev/null 2>"$PG_TMP/bad.log"; rc=$?
set -e
t_eq "plaintext refused by the server: exit 1" 1 "$rc"
t_summary
