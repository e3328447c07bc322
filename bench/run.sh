#!/usr/bin/env bash
# make bench: pgcdc against pg_recvlogical (the physical limit for reading a slot)
# on the same server and the same backlog, in one run; prints one table.
#
#   BENCH_NARROW=1000000 BENCH_WIDE=200000 BENCH_SNAPSHOT=2000000 bench/run.sh
#   BENCH_SINKS="null stdout kafka parquet"   which pgcdc sinks to measure
#   BENCH_REPEAT=3                            streaming drains per consumer (medians shown)
#   BENCH_PARTS="stream snapshot backfill memory latency"   which measurements to run
#   BENCH_BACKFILL_TPS=500                    the write load during the online backfill
#   BENCH_BACKFILL_CHUNKS=50000               chunk_rows measured besides the default (10000)
#
# Streaming: every consumer gets BENCH_REPEAT slots of its own, created before the
# backlog is written, and drains each alone; wall time from start until the slot
# confirms the backlog's end, CPU = user + system seconds of the consumer process;
# the table shows the median of the drains (this VM's run-to-run noise is ±30 %).  Snapshot: `pgcdc
# snapshot --table` against COPY ... TO STDOUT (FORMAT binary) into /dev/null.
# Online backfill: the same table read by snapshot_method = online from a new slot (the
# backfill's own time as the agent logs it at "backfill: done"; the wall from the start
# with the slot's creation beside it), alone and under a pgbench write load on that table,
# sampling the slot's lag and the oldest open transaction of pgcdc's connections.
# Memory: peak RSS (VmHWM) through one 1M-row transaction, protocols 1 and 2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/integration/lib.sh"
. "$here/../tests/integration/agent.sh"
. "$here/../tests/integration/kafka.sh"

NARROW=${BENCH_NARROW:-1000000}
WIDE=${BENCH_WIDE:-200000}
SNAPROWS=${BENCH_SNAPSHOT:-2000000}
BIGTXN=${BENCH_BIGTXN:-1000000}
SINKS=${BENCH_SINKS:-null stdout kafka parquet}
REPEAT=${BENCH_REPEAT:-3}   # streaming drains per consumer; the table shows the medians
TXN_ROWS=1000
PARTS=" ${BENCH_PARTS:-stream snapshot backfill memory latency} "
part() { [[ $PARTS == *" $1 "* ]]; }
RESULTS=$(mktemp)
at_exit "rm -f '$RESULTS'"

pg_start "shared_buffers = 512MB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" \
	"synchronous_commit = off" "max_replication_slots = 40" "max_wal_senders = 20" \
	"logical_decoding_work_mem = 64MB"
psql_q "CREATE TABLE narrow (id bigint PRIMARY KEY, a int, b text, c timestamptz, d numeric(10,2), e boolean);
        CREATE TABLE wide (id bigint PRIMARY KEY, a int, b text, payload text);
        CREATE TABLE snap (id bigint PRIMARY KEY, a int, b text, c timestamptz, d numeric(10,2), e boolean);
        CREATE TABLE big (id bigint PRIMARY KEY, v text);
        CREATE TABLE lat (id bigserial PRIMARY KEY, v int);
        CREATE PUBLICATION pgcdc FOR TABLE narrow, wide, big, lat;
        CREATE PUBLICATION snappub FOR TABLE snap"

sink_available() {
	case $1 in
	kafka) [[ -x $PGCDC_SRC/${PGCDC_BUILD:-build}/tools/mockbroker ]] ;;
	*) return 0 ;;
	esac
}

start_mock() {
	[[ -n $KAFKA_BOOTSTRAP ]] || kafka_start 3 >/dev/null
}

# sink_args SINK NAME: the pgcdc arguments selecting one sink
sink_args() {
	case $1 in
	null) echo "--set sink.stdout.enabled=off --set sink.null.enabled=on" ;;
	stdout) echo "--set sink.stdout.enabled=on" ;;
	kafka) echo "--set sink.stdout.enabled=off --set sink.kafka.brokers=$KAFKA_BOOTSTRAP --set sink.kafka.topic_prefix=bench$2" ;;
	parquet) echo "--set sink.stdout.enabled=off --set sink.parquet.directory=$PG_TMP/parquet-$2" ;;
	esac
}

# drain_agent SLOT TARGET_LSN ARGS...: prints "wall cpu"; pgcdc stops by itself at
# --endpos, as pg_recvlogical does with -E
drain_agent() {
	local slot=$1 target=$2 t
	shift 2
	local -a base
	mapfile -t base < <(agent_args)
	TIMEFORMAT='%R %U %S'
	t=$( { time "$PGCDC_BIN" "${base[@]}" --set "source.slot=$slot" "$@" run --endpos "$target" \
		>/dev/null 2>"$PG_TMP/bench-$slot.log"; } 2>&1 ) || { cat "$PG_TMP/bench-$slot.log" >&2; die "pgcdc failed draining $slot"; }
	awk '{printf "%s %s\n", $1, $2 + $3}' <<<"$t"
}

drain_recvlogical() {
	local slot=$1 target=$2 t
	TIMEFORMAT='%R %U %S'
	t=$( { time "$PG_BIN/pg_recvlogical" -d "$PG_CONNINFO" -S "$slot" --start -o proto_version=1 \
		-o publication_names=pgcdc -o messages=true -f /dev/null -E "$target" --no-loop \
		2>/dev/null; } 2>&1 )
	awk '{printf "%s %s\n", $1, $2 + $3}' <<<"$t"
}

row() { printf '%s\n' "$*" >>"$RESULTS"; }

# drop_slot NAME: once the walsender of the consumer that just exited has let go of it
drop_slot() {
	wait_for 30 _slot_idle "$1" || true
	psql_q "SELECT pg_drop_replication_slot('$1')" >/dev/null
}
_slot_idle() { [[ $(psql_q "SELECT active FROM pg_replication_slots WHERE slot_name = '$1'") == f ]]; }

# median of the numbers given one per line
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

stream_bench() {
	[[ " $SINKS " == *" kafka "* ]] && sink_available kafka && start_mock
	local name=$1 rows=$2 sql=$3 consumers=(recvlogical) c k target r base_wall base_cpu walls cpus
	for c in $SINKS; do sink_available "$c" && consumers+=("$c"); done
	for c in "${consumers[@]}"; do
		for ((k = 1; k <= REPEAT; k++)); do
			psql_q "SELECT pg_create_logical_replication_slot('${name}_${c}_$k', 'pgoutput')" >/dev/null
		done
	done
	echo "bench: writing $rows $name rows in transactions of $TXN_ROWS" >&2
	for ((r = 0; r < rows; r += TXN_ROWS)); do
		echo "BEGIN; ${sql//@LO@/$((r + 1))}" | sed "s/@HI@/$((r + TXN_ROWS))/"; echo "COMMIT;"
	done | psql_q - >/dev/null
	target=$(psql_q "SELECT pg_current_wal_lsn()")
	for c in "${consumers[@]}"; do
		walls=() cpus=()
		for ((k = 1; k <= REPEAT; k++)); do
			echo "bench: $name -> $c ($k of $REPEAT)" >&2
			if [[ $c == recvlogical ]]; then
				read -r wall cpu < <(drain_recvlogical "${name}_${c}_$k" "$target")
			else
				# shellcheck disable=SC2046
				read -r wall cpu < <(drain_agent "${name}_${c}_$k" "$target" $(sink_args "$c" "$name$k"))
			fi
			walls+=("$wall") cpus+=("$cpu")
			drop_slot "${name}_${c}_$k"
		done
		wall=$(printf '%s\n' "${walls[@]}" | median)
		cpu=$(printf '%s\n' "${cpus[@]}" | median)
		if [[ $c == recvlogical ]]; then
			base_wall=$wall; base_cpu=$cpu
		fi
		row "$(printf '| stream %s %s rows | %s | %.2f s | %.2fx | %.2f s | %.3f us | %.2fx |' "$name" "$rows" "$c" \
			"$wall" "$(echo "$wall / $base_wall" | bc -l)" "$cpu" "$(echo "$cpu * 1000000 / $rows" | bc -l)" \
			"$(echo "$cpu / $base_cpu" | bc -l)")"
		if [[ $c == parquet && -d $PGCDC_SRC/tests/tools/node_modules/@duckdb/node-api ]]; then
			# file size against DuckDB writing the very same rows with zstd
			local dir=$PG_TMP/parquet-${name}1 ours duck
			ours=$(find "$dir" -name '*.parquet' -printf '%s\n' | awk '{t += $1} END {print t}')
			node "$PGCDC_SRC/tests/tools/duckdb-query.mjs" "COPY (SELECT * FROM read_parquet('$dir/*/*/*.parquet')) TO '$PG_TMP/duck-$name.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
			duck=$(stat -c %s "$PG_TMP/duck-$name.parquet")
			row "$(printf '| Parquet size, %s %s rows (zstd) | parquet | %.1f MB, DuckDB %.1f MB | %.2fx of DuckDB | | | |' "$name" "$rows" \
				"$(echo "$ours / 1048576" | bc -l)" "$(echo "$duck / 1048576" | bc -l)" "$(echo "$ours / $duck" | bc -l)")"
		fi
	done
}

row "| measurement | consumer | wall | wall vs pg_recvlogical / COPY | CPU | CPU per row | CPU vs pg_recvlogical |"
row "|---|---|---|---|---|---|---|"
part stream && stream_bench narrow "$NARROW" "INSERT INTO narrow SELECT g, g % 1000, 'name ' || g, '2026-11-22 10:00:00+00'::timestamptz + g * interval '1 s', (g % 10000) / 100.0, g % 2 = 0 FROM generate_series(@LO@, @HI@) g;"
part stream && stream_bench wide "$WIDE" "INSERT INTO wide SELECT g, g % 1000, 'name ' || g, repeat(md5(g::text), 31) FROM generate_series(@LO@, @HI@) g;"

# snapshot
if part snapshot || part backfill; then
echo "bench: snapshot of $SNAPROWS rows" >&2
psql_q "INSERT INTO snap SELECT g, g % 1000, 'name ' || g, '2026-11-22 10:00:00+00'::timestamptz + g * interval '1 s', (g % 10000) / 100.0, g % 2 = 0 FROM generate_series(1, $SNAPROWS) g"
psql_q "VACUUM ANALYZE snap"
TIMEFORMAT='%R'
copy_wall=$( { time psql_q "COPY snap TO STDOUT (FORMAT binary)" >/dev/null; } 2>&1 )
row "$(printf '| snapshot %s rows | COPY binary | %.2f s (%.0f rows/s) | 1.00x | | | |' "$SNAPROWS" "$copy_wall" "$(echo "$SNAPROWS / $copy_wall" | bc -l)")"
fi
part snapshot && for c in $SINKS; do
	sink_available "$c" || continue
	[[ $c == kafka ]] && start_mock
	mapfile -t base < <(agent_args)
	# shellcheck disable=SC2046
	w=$( { time "$PGCDC_BIN" "${base[@]}" --set source.publication=snappub $(sink_args "$c" snap) \
		snapshot --table public.snap >/dev/null 2>"$PG_TMP/bench-snap.log"; } 2>&1 )
	row "$(printf '| snapshot %s rows | %s | %.2f s (%.0f rows/s) | %.2fx of COPY rows/s | | | |' "$SNAPROWS" "$c" "$w" \
		"$(echo "$SNAPROWS / $w" | bc -l)" "$(echo "$copy_wall / $w" | bc -l)")"
done

# online backfill (snapshot_method = online): alone, then under a write load
# bf_run SINK TPS: prints "wall max_lag_bytes oldest_xact_s"
bf_run() {
	local sink=$1 tps=$2 chunk=${3:-10000} slot="bf_$1_$2_${3:-10000}${4:+_$4}" pid lp=0 lag=0 old=0 l o t0 t1
	local -a base
	mapfile -t base < <(agent_args)
	t0=$(date +%s.%N)
	# shellcheck disable=SC2046
	"$PGCDC_BIN" "${base[@]}" --set source.publication=snappub --set "source.slot=$slot" \
		--set source.snapshot=initial --set source.snapshot_method=online \
		--set "backfill.chunk_rows=$chunk" $(sink_args "$sink" "$slot") >/dev/null 2>"$PG_TMP/$slot.log" &
	pid=$!
	if ((tps > 0)); then
		printf '\\set id random(1, %d)\nUPDATE snap SET a = a + 1 WHERE id = :id;\n' "$SNAPROWS" >"$PG_TMP/bfload.sql"
		"$PG_BIN/pgbench" -n -c 2 -j 2 -R "$tps" -T 3600 -f "$PG_TMP/bfload.sql" -h 127.0.0.1 -p "$PGPORT" \
			-U postgres postgres >"$PG_TMP/bfload.out" 2>&1 &
		lp=$!
	fi
	until grep -qs "backfill: done" "$PG_TMP/$slot.log"; do
		kill -0 "$pid" 2>/dev/null || { cat "$PG_TMP/$slot.log" >&2; die "pgcdc exited during the online backfill"; }
		# sampled under the write load only: a psql (a connection and a backend) every
		# 0.2 s would take CPU from the throughput it measures on two cores
		if ((tps == 0)); then
			sleep 0.2
			continue
		fi
		read -r l o < <(psql_q "SELECT coalesce((SELECT pg_current_wal_lsn() - confirmed_flush_lsn
			FROM pg_replication_slots WHERE slot_name = '$slot'), 0),
			coalesce((SELECT max(extract(epoch FROM now() - xact_start)) FROM pg_stat_activity
			WHERE application_name = 'pgcdc' AND backend_type = 'client backend'), 0)" | tr '|' ' ')
		awk -v a="$l" -v b="$lag" 'BEGIN { exit !(a > b) }' && lag=$l
		awk -v a="$o" -v b="$old" 'BEGIN { exit !(a > b) }' && old=$o
		sleep 0.2
	done
	t1=$(date +%s.%N)
	((lp > 0)) && { kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null || true; }
	kill -TERM "$pid"; wait "$pid" || true
	drop_slot "$slot"
	# the backfill's own time (from its start to its last chunk recorded), without the
	# agent's start and the slot's creation
	echo "$(echo "$t1 - $t0" | bc -l) $lag $old $(sed -n 's/.*backfill: done: [0-9]* tables in \([0-9.]*\) s.*/\1/p' "$PG_TMP/$slot.log")"
}
# bf_pairs SINK CHUNK: REPEAT runs of a COPY then an online backfill, alternating so that
# both see the same neighbours; prints the medians "copy_s backfill_s wall_s" and each
# run's ratio to stderr
bf_pairs() {
	local sink=$1 chunk=$2 k cw w lag old bf
	local -a cws bfs ws
	for ((k = 1; k <= REPEAT; k++)); do
		cw=$( { time psql_q "COPY snap TO STDOUT (FORMAT binary)" >/dev/null; } 2>&1 )
		read -r w lag old bf < <(bf_run "$sink" 0 "$chunk" "$k")
		printf 'bench: run %d: COPY %.2f s, online backfill %.2f s: %.2fx\n' "$k" "$cw" "$bf" \
			"$(echo "$cw / $bf" | bc -l)" >&2
		cws+=("$cw") bfs+=("$bf") ws+=("$w")
	done
	echo "$(printf '%s\n' "${cws[@]}" | median) $(printf '%s\n' "${bfs[@]}" | median) $(printf '%s\n' "${ws[@]}" | median)"
}
if part backfill; then
	TIMEFORMAT='%R'
	for c in $SINKS; do
		sink_available "$c" || continue
		[[ $c == kafka ]] && start_mock
		echo "bench: online backfill of $SNAPROWS rows -> $c, $REPEAT times, each after a COPY" >&2
		read -r cw bf w < <(bf_pairs "$c" 10000)
		row "$(printf '| online backfill %s rows | %s | %.2f s (%.0f rows/s; %.2f s with the start and slot creation) | %.2fx of COPY rows/s (COPY %.2f s; medians of %d) | | | |' \
			"$SNAPROWS" "$c" "$bf" "$(echo "$SNAPROWS / $bf" | bc -l)" "$w" "$(echo "$cw / $bf" | bc -l)" "$cw" "$REPEAT")"
	done
	# larger chunks: fewer watermarks, flushes and records per row
	for chunk in ${BENCH_BACKFILL_CHUNKS-50000}; do
		sink_available parquet || break
		echo "bench: online backfill of $SNAPROWS rows -> parquet, chunks of $chunk, $REPEAT times" >&2
		read -r cw bf w < <(bf_pairs parquet "$chunk")
		row "$(printf '| online backfill %s rows, chunk_rows %s | parquet | %.2f s (%.0f rows/s; %.2f s with the start and slot creation) | %.2fx of COPY rows/s (COPY %.2f s; medians of %d) | | | |' \
			"$SNAPROWS" "$chunk" "$bf" "$(echo "$SNAPROWS / $bf" | bc -l)" "$w" "$(echo "$cw / $bf" | bc -l)" "$cw" "$REPEAT")"
	done
	tps=${BENCH_BACKFILL_TPS:-500}
	for c in $SINKS; do
		[[ $c == parquet ]] || continue
		echo "bench: online backfill of $SNAPROWS rows -> $c under $tps tps" >&2
		read -r w lag old bf < <(bf_run "$c" "$tps")
		row "$(printf '| online backfill %s rows under %s tps | %s | %.2f s (%.0f rows/s) | max slot lag %.1f MB | oldest pgcdc transaction %.2f s | | |' \
			"$SNAPROWS" "$tps" "$c" "$bf" "$(echo "$SNAPROWS / $bf" | bc -l)" "$(echo "$lag / 1048576" | bc -l)" "$old")"
	done
fi

# memory through one large transaction
part memory && for proto in 1 2; do
	psql_q "TRUNCATE big" >/dev/null
	psql_q "SELECT pg_create_logical_replication_slot('big$proto', 'pgoutput')" >/dev/null
	psql_q "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, $BIGTXN) g" >/dev/null
	target=$(psql_q "SELECT pg_current_wal_lsn()")
	mapfile -t base < <(agent_args)
	"$PGCDC_BIN" "${base[@]}" --set source.slot=big$proto --set source.protocol=$proto \
		--set sink.stdout.enabled=off --set sink.null.enabled=on >/dev/null 2>&1 &
	pid=$!
	hwm=0
	until [[ $(psql_q "SELECT coalesce(confirmed_flush_lsn >= '$target', false) FROM pg_replication_slots WHERE slot_name = 'big$proto'") == t ]]; do
		kill -0 "$pid" 2>/dev/null || die "pgcdc exited in the large-transaction run"
		sleep 0.2
	done
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill -TERM "$pid"; wait "$pid" || true
	row "$(printf '| peak RSS, one %s-row transaction, protocol %s | null | %.1f MB | | | | |' "$BIGTXN" "$proto" "$(echo "$hwm / 1024" | bc -l)")"
	drop_slot "big$proto"
done

# commit-to-Kafka latency at about 1000 transactions/s (pgbench, rate-limited)
if part latency && [[ " $SINKS " == *" kafka "* ]] && sink_available kafka; then
	start_mock
	echo "bench: latency at ~${BENCH_TPS:-1000} tps for ${BENCH_LAT_SECONDS:-20} s" >&2
	printf 'INSERT INTO lat (v) VALUES (1);\n' >"$PG_TMP/lat.sql"
	psql_q "SELECT pg_create_logical_replication_slot('lat', 'pgoutput')" >/dev/null
	mapfile -t base < <(agent_args)
	"$PGCDC_BIN" "${base[@]}" --set source.slot=lat --set sink.stdout.enabled=off \
		--set "sink.kafka.brokers=$KAFKA_BOOTSTRAP" --set sink.kafka.topic_prefix=lat >/dev/null 2>"$PG_TMP/bench-lat.log" &
	lpid=$!
	sleep 2
	# synchronous commits here (the server default in this run is off, for fast backlogs,
	# which would hold WAL back from the walsender for up to wal_writer_delay)
	PGOPTIONS='-c synchronous_commit=on' "$PG_BIN/pgbench" -n -c 4 -j 2 -R "${BENCH_TPS:-1000}" -T "${BENCH_LAT_SECONDS:-20}" -f "$PG_TMP/lat.sql" \
		-h 127.0.0.1 -p "$PGPORT" -U postgres postgres >"$PG_TMP/pgbench.out" 2>&1
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$PG_TMP/pgbench.out" | head -1)
	wait_for 60 _caught_up lat "$(psql_q "SELECT pg_current_wal_lsn()")" || true
	kill -TERM "$lpid"; wait "$lpid" || true
	# latency of a record: its Kafka CreateTime (stamped when pgcdc produced it) minus
	# its commit time (source.ts_ms)
	kcat -C -b "$KAFKA_BOOTSTRAP" -t lat.public.lat -e -q -f '%T %s\n' 2>/dev/null |
		awk '{ match($0, /"ts_ms":[0-9]+,"snapshot"/); c = substr($0, RSTART + 8, 13); print $1 - c }' |
		sort -n >"$PG_TMP/lat.ms"
	n=$(wc -l <"$PG_TMP/lat.ms")
	p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1' "$PG_TMP/lat.ms")
	p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1' "$PG_TMP/lat.ms")
	row "| commit-to-Kafka latency, $n records at ${tps:-?} tps | kafka | p50 ${p50} ms, p99 ${p99} ms | | | | |"
fi

echo
echo "pgcdc $("$PGCDC_BIN" --version | cut -d' ' -f2), PostgreSQL $(psql_q 'SHOW server_version' | cut -d' ' -f1), $(nproc) cores, $(date -u +%Y-%m-%d)"
cat "$RESULTS"
