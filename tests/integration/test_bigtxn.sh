#!/usr/bin/env bash
# A 1,000,000-row single transaction is delivered completely, with the agent's peak
# RSS (VmHWM) below 100 MB: streamed and spilled with protocol 2, passed through
# without buffering with protocol 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

ROWS=${BIGTXN_ROWS:-1000000}
pg_start "logical_decoding_work_mem = 8MB" "max_wal_size = 2GB"
psql_q "CREATE TABLE big (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"

hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

for proto in 2 1; do
	psql_q "TRUNCATE big"
	name=p$proto
	agent_start "$name" --set source.protocol=$proto --set source.slot=s$proto
	psql_q "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, $ROWS) g"
	# the truncate above comes first in the stream: wait for it all
	wait_caught_up 600 "s$proto" || t_fail "protocol $proto: caught up" "slot s$proto did not catch up in 600 s"
	hwm=$(hwm_kb "$AGENT_PID")
	spilled=$(find "$PG_TMP/state/spill" -name '*.spill' | wc -l)
	agent_stop TERM
	t_eq "protocol $proto: agent exits 0" 0 "$AGENT_RC"
	O=$PG_TMP/$name.out
	t_eq "protocol $proto: $ROWS inserts delivered" "$ROWS" "$(grep -c '"op":"c"' "$O")"
	t_eq "protocol $proto: $ROWS distinct ids" "$ROWS" \
		"$(grep -o '"after":{"id":[0-9]*' "$O" | sort -u | wc -l)"
	t_eq "protocol $proto: one transaction" 1 "$(grep '"op":"c"' "$O" | grep -o '"txId":[0-9]*' | sort -u | wc -l)"
	last=$(grep '"op":"c"' "$O" | tail -1 | jq -c .after)
	t_eq "protocol $proto: last row intact" "{\"id\":$ROWS,\"v\":\"row $ROWS\"}" "$last"
	echo "protocol $proto: peak RSS ${hwm} kB"
	if [[ ${PGCDC_BUILD:-build} == *san* ]]; then
		echo "protocol $proto: sanitizer build, its shadow memory makes RSS meaningless: not asserted"
	elif ((hwm < 100 * 1024)); then t_ok "protocol $proto: peak RSS ${hwm} kB < 100 MB"
	else t_fail "protocol $proto: peak RSS" "${hwm} kB >= 100 MB"; fi
	t_eq "protocol $proto: no spill files left" 0 "$spilled"
	if ((proto == 2)); then
		t_eq "protocol 2: the server streamed the transaction" t \
			"$(psql_q "SELECT stream_txns > 0 FROM pg_stat_replication_slots WHERE slot_name = 's2'")"
	fi
	rm -f "$O"
done
t_summary
