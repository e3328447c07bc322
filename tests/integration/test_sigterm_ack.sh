#!/usr/bin/env bash
# SIGTERM on a backlog (issue 13.2): the position pgcdc logs as acknowledged must be the
# slot's confirmed_flush_lsn once it has exited, and the next start must not deliver
# again what was acknowledged. pgcdc ends the COPY as pg_recvlogical does (final status
# update, CopyDone, then wait for the server's end of the copy); closing the socket right
# after the status update let the walsender die before it read it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"

pg_start
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
agent_start setup
agent_stop TERM
# a backlog of 200k rows in 200 transactions
psql_q "DO \$\$ BEGIN FOR b IN 0..199 LOOP
          INSERT INTO k SELECT g, 'v' FROM generate_series(b * 1000 + 1, b * 1000 + 1000) g; COMMIT;
        END LOOP; END \$\$"
lsn_dec() { local hi=${1%%/*} lo=${1##*/}; echo $(((16#$hi << 32) + 16#$lo)); }
prev_ack=
for i in 1 2 3 4; do
	agent_start "r$i"
	sleep "0.$((1 + RANDOM % 3))"
	agent_stop TERM
	t_eq "run $i: SIGTERM exits 0" 0 "$AGENT_RC"
	ack=$(sed -n 's/.*stopped; acknowledged up to \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' "$PG_TMP/r$i.log" | tail -1)
	slot=$(slot_confirmed)
	if [[ -z $ack ]]; then
		t_fail "run $i: logged position" "no 'stopped; acknowledged up to' line"
	else
		t_eq "run $i: slot confirmed_flush_lsn = logged acknowledgement" "$ack" "$slot"
	fi
	if [[ -n $prev_ack && -s $PG_TMP/r$i.out ]]; then
		first=$(jq -s 'map(.source.lsn) | min' "$PG_TMP/r$i.out")
		# a change of the next transaction may start exactly where the acknowledged commit ended
		if ((first >= $(lsn_dec "$prev_ack"))); then
			t_ok "run $i: nothing acknowledged by run $((i - 1)) is delivered again"
		else
			t_fail "run $i: re-delivery" "first record LSN $first, but $prev_ack was acknowledged"
		fi
	fi
	prev_ack=$ack
done
agent_start final
wait_caught_up 120 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
t_eq "final: slot = logged acknowledgement" \
	"$(sed -n 's/.*stopped; acknowledged up to \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' "$PG_TMP/final.log" | tail -1)" \
	"$(slot_confirmed)"
t_eq "every row delivered" 200000 "$(cat "$PG_TMP"/r*.out "$PG_TMP/final.out" | jq -r 'select(.op=="c") | .after.id' | sort -u | wc -l)"

# A server that sends its CopyDone and then answers nothing more (a proxy mutes it) must
# not hold SIGTERM: waiting for the command's result is bounded like the copy's end.
# Seen once in the differential test on 18 after a fault; pgcdc then waited forever.
PROXY_PORT=$(free_port)
/usr/bin/python3 "$(dirname "$0")/mute_proxy.py" "$PROXY_PORT" "$PGPORT" >"$PG_TMP/proxy.out" 2>&1 &
PROXY=$!
wait_for 10 grep -q ready "$PG_TMP/proxy.out" || t_fail "proxy" "$(cat "$PG_TMP/proxy.out")"
agent_start mute --set "source.conninfo=host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=postgres"
psql_q "INSERT INTO k VALUES (-1, 'muted')"
wait_for 30 grep -q '"muted"' "$PG_TMP/mute.out" || t_fail "mute: streaming" "$(tail -n 5 "$PG_TMP/mute.log")"
kill -TERM "$AGENT_PID"
exited=no
for _ in $(seq 1 400); do
	kill -0 "$AGENT_PID" 2>/dev/null || { exited=yes; break; }
	sleep 0.1
done
if [[ $exited == no ]]; then
	kill -KILL "$AGENT_PID" 2>/dev/null || true
fi
agent_stop TERM
kill "$PROXY" 2>/dev/null || true
t_eq "a server mute after its CopyDone: SIGTERM still ends pgcdc (within 40 s)" yes "$exited"
grep -q "the server did not end the replication command within" "$PG_TMP/mute.log" \
	&& t_ok "mute server: says it did not answer" || t_fail "mute log" "$(tail -n 5 "$PG_TMP/mute.log")"
t_summary
