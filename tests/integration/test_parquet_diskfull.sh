#!/usr/bin/env bash
# A full disk under the Parquet directory: the agent says so, acknowledges nothing it
# could not commit, leaves no partial .parquet, keeps running, and once space is back
# delivers everything exactly once.  The disk is a 512 kB tmpfs (when this user may
# mount), else a 512 kB file size limit (RLIMIT_FSIZE: EFBIG, handled like ENOSPC;
# PQ_DISKFULL=rlimit forces that).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$PGCDC_SRC/tests/tools/duckdb-lib.sh"

pg_start
psql_q "CREATE TABLE k (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES"
P=$PG_TMP/pq
mkdir -p "$P"
if [[ ${PQ_DISKFULL-} != rlimit ]] && mount -t tmpfs -o size=512k pgcdc-test "$P" 2>/dev/null; then
	mode=tmpfs
	at_exit "umount '$P'"
	grow() { mount -o remount,size=64m "$P"; }
	FULL_MSG="No space left on device"
else
	mode=rlimit
	# SIGXFSZ ignored, so writes past the limit fail with EFBIG instead of killing
	cat >"$PG_TMP/limited.sh" <<-EOF
		#!/usr/bin/env bash
		trap '' XFSZ
		ulimit -S -f 512
		exec "$PGCDC_BIN" "\$@"
	EOF
	chmod +x "$PG_TMP/limited.sh"
	PGCDC_BIN=$PG_TMP/limited.sh
	grow() { prlimit --pid "$AGENT_PID" --fsize=unlimited:unlimited; }
	FULL_MSG="File too large"
fi
echo "full disk simulated with: $mode"
if [[ $mode == tmpfs ]]; then
	chown postgres: "$P" 2>/dev/null || true
fi
mapfile -t args < <(pq_args "$P" --set sink.parquet.rotate_interval=1s --set sink.parquet.compression=none \
	--set sink.parquet.row_group_rows=2000)
agent_start a "${args[@]}"
psql_q "INSERT INTO k SELECT g, 'small' FROM generate_series(1, 100) g"
wait_caught_up 30 || t_fail "before: caught up" "the first rows were not committed"
# one transaction of ~2 MB of values: its file cannot fit
psql_q "INSERT INTO k SELECT g, md5(g::text) || md5((g + 1)::text) FROM generate_series(101, 30100) g"
psql_q "INSERT INTO k SELECT g, 'after' FROM generate_series(30101, 30200) g"
stalled() { grep -q "holding back until space is free" "$PG_TMP/a.log"; }
if wait_for 60 stalled; then
	t_ok "disk full: the agent says so and waits"
else
	t_fail "disk full: the agent says so and waits" "no such message; log: $(tail -3 "$PG_TMP/a.log")"
fi
t_eq "the message names the file and the error" 1 \
	"$(grep "holding back" "$PG_TMP/a.log" | grep -c "$P/public.k/date=.*\.parquet\.tmp: $FULL_MSG")"
sleep 2
t_eq "still running while the disk is full" yes "$(kill -0 "$AGENT_PID" 2>/dev/null && echo yes)"
t_eq "no partial .parquet: every committed file reads" 100 \
	"$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P"))")"
commit_big=$(psql_q "SELECT (pg_current_wal_lsn())")
t_eq "nothing of the big transaction acknowledged" t \
	"$(psql_q "SELECT confirmed_flush_lsn < '$commit_big'::pg_lsn FROM pg_replication_slots")"

grow
wait_for 60 grep -q "writing again after the disk was full" "$PG_TMP/a.log" ||
	t_fail "space back: resumes" "no resume message"
wait_caught_up 60 || t_fail "space back: caught up" "slot did not catch up"
agent_stop TERM
t_eq "agent exits 0" 0 "$AGENT_RC"
t_eq "every row exactly once" "30200|30200|30200" \
	"$(duck "SELECT count(*), count(DISTINCT id), max(id) FROM read_parquet($(pq_glob "$P"))")"
t_eq "values intact" 30000 \
	"$(duck "SELECT count(*) FROM read_parquet($(pq_glob "$P")) WHERE v = md5(id::VARCHAR) || md5((id + 1)::VARCHAR)")"
t_eq "no .tmp left" 0 "$(pq_tmp_count "$P")"
t_summary
