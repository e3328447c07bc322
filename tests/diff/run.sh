#!/usr/bin/env bash
# The randomized differential test (tests/diff/difftest.py), with the stdout, Kafka
# (librdkafka's mock cluster, tests/integration/kafka.sh, read back with kcat) and Parquet
# (read back with DuckDB) sinks: SEEDS (a list or ranges:
# "1-20 33", default 1-5) on each major of PG_VERSIONS (default 15), with PROTOCOLS
# (default: both the server offers, alternating per seed) and STEPS transactions per
# session (default 60).  MUTATE=1 adds the self-test: one seed per mutation (of a stdout record, a Parquet row,
# a Kafka record), which must make the comparison fail.  A failing seed prints its number and keeps its work
# directory (workload SQL, records, the oracle's transactions, logs) under
# ${DIFF_KEEP:-/tmp/pgcdc-diff}.  Closes with "diff: N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/agent.sh"
. "$(dirname "$0")/../integration/kafka.sh"

expand() {   # "1-3 7" -> 1 2 3 7
	local part
	for part in $1; do
		if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
	done
}
keep=${DIFF_KEEP:-/tmp/pgcdc-diff}
mkdir -p "$keep"
pass=0; fail=0; failed=()
totals=$(mktemp)
at_exit rm -f "$totals"
for major in ${PG_VERSIONS:-15}; do
	pg_use_major "$major"
	conf=("logical_decoding_work_mem = 64kB" "max_prepared_transactions = 10" "max_connections = 60")
	((major >= 13)) || conf=("max_prepared_transactions = 10" "max_connections = 60")
	pg_start "${conf[@]}"
	kafka_start 3
	export DIFF_PGCTL="runuser -u postgres -- $PG_BIN/pg_ctl -D $PGDATA -l $PG_TMP/server.log -w -t 60"
	((EUID == 0)) || DIFF_PGCTL="$PG_BIN/pg_ctl -D $PGDATA -l $PG_TMP/server.log -w -t 60"
	protos=${PROTOCOLS:-$( ((major >= 14)) && echo "1 2" || echo 1)}
	read -ra plist <<<"$protos"
	i=0
	for seed in $(expand "${SEEDS:-1-5}"); do
		proto=${plist[$((i % ${#plist[@]}))]}
		i=$((i + 1))
		work=$PG_TMP/diff-$seed
		start=$(date +%s)
		if /usr/bin/python3 "$PGCDC_SRC/tests/diff/difftest.py" --seed "$seed" --major "$major" \
			--protocol "$proto" --steps "${STEPS:-60}" --pgcdc "$PGCDC_BIN" --work "$work" \
			--brokers "$KAFKA_BOOTSTRAP" --parquet \
			--admin "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" >"$work.txt" 2>&1; then
			pass=$((pass + 1))
			echo "ok   - PostgreSQL $major seed $seed (protocol $proto, $(( $(date +%s) - start )) s:" \
				"$(awk '/^phase/ { printf "%s%s %.0f", sep, $2, $3; sep = ", " }' "$work.txt"))"
			cat "$work/stats.json" >>"$totals"; echo >>"$totals"
		else
			fail=$((fail + 1)); failed+=("$major:$seed")
			echo "FAIL - PostgreSQL $major seed $seed (protocol $proto): $(head -c 3000 "$work.txt")"
			rm -rf "$keep/pg$major-seed$seed"
			cp -a "$work" "$keep/pg$major-seed$seed" 2>/dev/null || true
			cp "$work.txt" "$keep/pg$major-seed$seed/result.txt" 2>/dev/null || true
			echo "       kept in $keep/pg$major-seed$seed"
		fi
		psql_q "DROP DATABASE IF EXISTS diff_$seed" >/dev/null 2>&1 || true
	done
	if [[ ${MUTATE-} == 1 ]]; then
		for m in drop change swap dup pq-drop pq-change kafka-drop; do
			seed=$(( $(expand "${SEEDS:-1-5}" | head -1) ))
			work=$PG_TMP/mut-$m
			if /usr/bin/python3 "$PGCDC_SRC/tests/diff/difftest.py" --seed "$seed" --major "$major" \
				--protocol "${plist[0]}" --steps 20 --faults off --mutate "$m" --pgcdc "$PGCDC_BIN" \
				--parquet --brokers "$KAFKA_BOOTSTRAP" --prefix "mut-$m-$major" \
				--work "$work" --admin "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" \
				>"$work.txt" 2>&1; then
				pass=$((pass + 1)); echo "ok   - self-test: mutation $m caught ($(tail -1 "$work.txt" | cut -c1-160))"
			else
				fail=$((fail + 1)); failed+=("mutation:$m")
				echo "FAIL - self-test: mutation $m: $(tail -3 "$work.txt")"
			fi
			psql_q "DROP DATABASE IF EXISTS diff_$seed" >/dev/null 2>&1 || true
		done
	fi
	kafka_stop
	pg_destroy
done
# what the passing seeds covered
/usr/bin/python3 - "$totals" <<'PY'
import json, sys
t = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        for k, v in json.loads(line).items():
            t[k] = t.get(k, 0) + v
print("diff: covered " + ", ".join("%s %d" % (k, v) for k, v in sorted(t.items())))
PY
[ ${#failed[@]} -eq 0 ] || echo "diff: failing: ${failed[*]}"
echo "diff: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
