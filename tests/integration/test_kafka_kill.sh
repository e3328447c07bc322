#!/usr/bin/env bash
# kill -9 of the agent six times during a 100,000-row load to Kafka: every row id is in
# the topic afterwards (at-least-once: records after the last acknowledged position are
# sent again, so duplicates are allowed, counted and reported), and per key the records
# keep commit order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

ROWS=100000
BATCH=500
pg_start
kafka_start 3
kafka_cmd topic kk.public.k 6   # the mock keeps 5 MB per partition: compress, spread
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
mapfile -t K < <(kafka_args kk)
K+=(--set sink.kafka.kafka.compression.type=lz4)
agent_start a "${K[@]}"

load() {
	local b
	for ((b = 0; b < ROWS / BATCH; b++)); do
		psql_q "INSERT INTO k SELECT g, 'v' FROM generate_series($((b * BATCH + 1)), $((b * BATCH + BATCH))) g"
		sleep 0.05
	done
}
load &
loader=$!
at_exit "kill $loader 2>/dev/null; wait $loader 2>/dev/null"
kills=0
for ((i = 0; i < 6; i++)); do
	sleep 1.5
	agent_stop KILL
	[[ $AGENT_RC == 137 ]] && kills=$((kills + 1))
	agent_start a "${K[@]}"
done
during=$(psql_q "SELECT count(*) FROM k")
wait "$loader"
t_eq "agent killed (-9) 6 times" 6 "$kills"
((during < ROWS)) && t_ok "the kills happened during the load ($during of $ROWS rows written)" ||
	t_fail "the kills happened during the load" "load had already finished"
wait_caught_up 180 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
t_eq "agent exits 0 on SIGTERM" 0 "$AGENT_RC"

kcat -C -b "$KAFKA_BOOTSTRAP" -t kk.public.k -e -q -f '%p %o %s\n' |
	jq -R -r 'split(" ") as $f | ($f[2:] | join(" ") | fromjson) as $v | "\($f[0]) \($v.after.id) \($f[1])"' \
	>"$PG_TMP/recs"
t_eq "the mock kept every partition whole (first offsets 0)" 0 \
	"$(awk '{ if (!($1 in lo) || $3 < lo[$1]) lo[$1] = $3 } END { for (p in lo) s += lo[p]; print s+0 }' "$PG_TMP/recs")"
total=$(wc -l <"$PG_TMP/recs")
unique=$(cut -d' ' -f2 <"$PG_TMP/recs" | sort -un | wc -l)
t_eq "every row id present in the topic" "$ROWS" "$unique"
t_eq "ids are exactly 1..$ROWS" "1 $ROWS" "$(cut -d' ' -f2 <"$PG_TMP/recs" | sort -un | sed -n '1p;$p' | xargs)"
t_eq "one partition per key" 0 "$(awk '{ if (($2 in p) && p[$2] != $1) n++; p[$2] = $1 } END { print n+0 }' "$PG_TMP/recs")"
dups=$((total - unique))
ratio=$(awk -v d="$dups" -v r="$ROWS" 'BEGIN { printf "%.4f", d / r }')
echo "kill -9 x6 during $ROWS rows: $total records, $dups duplicates (ratio $ratio)"
((dups < ROWS)) && t_ok "duplicates bounded: $dups (ratio $ratio)" || t_fail "duplicates bounded" "$dups"
t_summary
