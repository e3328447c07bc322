# shellcheck shell=bash
#
# agent.sh — run the pgcdc binary inside integration tests (source after lib.sh).
#
#   agent_start NAME [pgcdc args...]   start `pgcdc run` in the background with a test config
#                                      (conninfo of the test cluster, snapshot never, state in
#                                      $PG_TMP/state, stdout sink); stdout is appended to
#                                      $PG_TMP/NAME.out, stderr to $PG_TMP/NAME.log; sets AGENT_PID
#                                      (AGENT_NOWAIT=1: do not wait for the slot to be active)
#   agent_stop [SIGNAL]                signal the agent (TERM by default) and wait; sets AGENT_RC
#   wait_caught_up [SECONDS] [SLOT]    wait until the slot confirmed the current WAL position
#   slot_confirmed [SLOT]              the slot's confirmed_flush_lsn
#   out_count NAME JQ_FILTER           count records of NAME.out selected by a jq filter
#
# PGCDC_BIN overrides the binary (default: $PGCDC_SRC/${PGCDC_BUILD:-build}/pgcdc).

PGCDC_BIN=${PGCDC_BIN:-$PGCDC_SRC/${PGCDC_BUILD:-build}/pgcdc}
AGENT_PID=
AGENT_RC=

_agent_kill_on_exit() {
	if [[ -n $AGENT_PID ]] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -9 "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
}
at_exit _agent_kill_on_exit

agent_args() {
	printf '%s\n' --set "source.conninfo=$PG_CONNINFO" --set source.snapshot=never \
		--set "source.state_dir=$PG_TMP/state" --set sink.stdout.enabled=on \
		--set monitor.metrics_listen= --set source.status_interval=1s
}

agent_start() {
	local name=$1
	shift
	local -a base
	mapfile -t base < <(agent_args)
	"$PGCDC_BIN" "${base[@]}" "$@" >>"$PG_TMP/$name.out" 2>>"$PG_TMP/$name.log" &
	AGENT_PID=$!
	# AGENT_NOWAIT=1: return at once (an initial snapshot runs before the slot is active)
	[[ ${AGENT_NOWAIT-} == 1 ]] && return 0
	# streaming has begun once the slot is active (or the agent is gone)
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$AGENT_PID" 2>/dev/null || return 0
		[[ $(psql_q "SELECT count(*) FROM pg_replication_slots WHERE active_pid IS NOT NULL") -ge 1 ]] && return 0
		sleep 0.2
	done
	echo "agent_start: slot never became active; log:" >&2
	tail -n 20 "$PG_TMP/$name.log" >&2
	return 1
}

agent_stop() {
	local sig=${1:-TERM}
	AGENT_RC=
	[[ -n $AGENT_PID ]] || return 0
	kill -s "$sig" "$AGENT_PID" 2>/dev/null || true
	set +e
	wait "$AGENT_PID"
	AGENT_RC=$?
	set -e
	AGENT_PID=
}

slot_confirmed() {
	psql_q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${1:-pgcdc}'"
}

wait_caught_up() {
	local secs=${1:-60} slot=${2:-pgcdc} target
	target=$(psql_q "SELECT pg_current_wal_lsn()")
	wait_for "$secs" _caught_up "$slot" "$target"
}

_caught_up() {
	[[ $(psql_q "SELECT coalesce(confirmed_flush_lsn >= '$2'::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = '$1'") == t ]]
}

out_count() {
	jq -c "select($2)" "$PG_TMP/$1.out" | wc -l
}
