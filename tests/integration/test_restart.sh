#!/usr/bin/env bash
# PostgreSQL restarted (fast, then immediate) while the agent is streaming: the agent
# reconnects by itself and every committed row is delivered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start
psql_q "CREATE TABLE r (id int PRIMARY KEY); CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start a --set source.protocol=1

_streaming() { [[ $(psql_q "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgcdc'" 2>/dev/null) == t ]]; }

insert_retry() {   # the server may still be starting: retry until it accepts
	local i
	for ((i = 0; i < 100; i++)); do
		psql_q "INSERT INTO r SELECT g FROM generate_series($1, $2) g" 2>/dev/null && return 0
		sleep 0.2
	done
	die "insert $1..$2 never succeeded"
}

next=1
for round in fast immediate fast; do
	for ((b = 0; b < 5; b++)); do insert_retry $next $((next + 99)); next=$((next + 100)); done
	# a large transaction that is still being decoded and sent when the server goes down
	insert_retry $next $((next + 199999)); next=$((next + 200000))
	pg_restart "$round"
	for ((b = 0; b < 5; b++)); do insert_retry $next $((next + 99)); next=$((next + 100)); done
	# streaming again before the next restart, so that each restart cuts a live session
	# (one during the agent's backoff would be seen as a single outage)
	wait_for 60 _streaming || t_fail "streaming again after the $round restart" "slot not active in 60 s"
done
wait_caught_up 300 || t_fail "caught up" "slot did not catch up after the restarts"
kill -0 "$AGENT_PID" 2>/dev/null && t_ok "agent survived three server restarts" || t_fail "agent alive" "agent exited"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"
reconnects=$(grep -c "reconnecting in" "$PG_TMP/a.log" || true)
if ((reconnects >= 3)); then t_ok "agent reconnected ($reconnects attempts)"
else t_fail "reconnects" "only $reconnects reconnect attempts logged"; fi

psql_q "SELECT id FROM r ORDER BY id" >"$PG_TMP/want"
grep -o '"after":{"id":[0-9]*' "$PG_TMP/a.out" | cut -d: -f3 | sort -n >"$PG_TMP/got_all"
sort -u -n "$PG_TMP/got_all" >"$PG_TMP/got"
t_eq "every committed row delivered ($(wc -l <"$PG_TMP/want") rows), none invented" "" \
	"$(diff "$PG_TMP/want" "$PG_TMP/got" | head -5)"
dups=$(( $(wc -l <"$PG_TMP/got_all") - $(wc -l <"$PG_TMP/got") ))
echo "duplicates after reconnects: $dups of $(wc -l <"$PG_TMP/got_all") records (at-least-once)"
t_summary
