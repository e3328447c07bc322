#!/usr/bin/env bash
# `make demo`: a throwaway PostgreSQL, the agent streaming from it, and a few real
# changes shown as the Debezium-compatible records pgcdc emits.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/agent.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[36m%s\033[0m\n' "$1"; psql_q "$1" >/dev/null; }

say "starting a throwaway PostgreSQL 15 (wal_level = logical) in $(dirname "$PG_BIN")"
pg_start
echo "listening on 127.0.0.1:$PGPORT, data in $PGDATA"
psql_q "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(10,2),
          tags text[], created timestamptz DEFAULT now());
        CREATE PUBLICATION pgcdc FOR ALL TABLES"

say "starting pgcdc (stdout sink) — the command:"
mapfile -t base < <(agent_args)
printf '  %q' "$PGCDC_BIN" "${base[@]}"; echo
agent_start demo
tail -n 3 "$PG_TMP/demo.log" | sed 's/^/  log: /'

say "making changes"
show "INSERT INTO orders (id, customer, amount, tags) VALUES (1, 'ada', 12.50, '{new,web}'), (2, 'bob', 99.99, NULL)"
show "UPDATE orders SET amount = 15.00 WHERE id = 1"
show "UPDATE orders SET id = 20 WHERE id = 2"
show "BEGIN; INSERT INTO orders (id, customer) VALUES (3, 'never'); ROLLBACK"
show "DELETE FROM orders WHERE id = 1"
show "TRUNCATE orders"
wait_caught_up 30 || true

say "what pgcdc emitted (one JSON envelope per change; jq just pretty-prints op/before/after)"
jq -c '{op, table: .source.table, lsn: .source.lsn, txId: .source.txId, before, after}' "$PG_TMP/demo.out"

say "one full record"
head -1 "$PG_TMP/demo.out" | jq .

say "slot status (pgcdc status)"
"$PGCDC_BIN" "${base[@]}" status

agent_stop TERM
say "stopped with SIGTERM (exit $AGENT_RC); the cluster is removed on exit"
tail -n 1 "$PG_TMP/demo.log" | sed 's/^/  log: /'
