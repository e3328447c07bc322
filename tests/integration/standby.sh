# shellcheck shell=bash
#
# standby.sh — a physical standby of the test cluster (source after lib.sh).
#
#   standby_create [conf-line...]   stop the primary cleanly, copy its data directory (the
#                                   npm servers have no pg_basebackup), start both; the
#                                   standby streams through the physical slot "sb" with
#                                   hot_standby_feedback, and each argument is appended to its
#                                   postgresql.conf.  Sets SB_PORT, SB_DATA, PRIMARY_PORT.
#   sb_q SQL                        psql_q against the standby
#   standby_promote                 pg_ctl promote, wait until it accepts writes
#   primary_kill                    stop the primary with -m immediate (a crash)
#   wait_replayed [SECONDS]         wait until the standby replayed the primary's current WAL
#
# The standby's log is $PG_TMP/standby.log; it is stopped (immediate) when the script exits.

SB_PORT=
SB_DATA=
PRIMARY_PORT=

_sb_stop_on_exit() {
	[[ -n $SB_DATA && -d $SB_DATA ]] || return 0
	_as_pg "$PG_BIN/pg_ctl" -D "$SB_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}
at_exit _sb_stop_on_exit

sb_q() {
	PGPORT=$SB_PORT psql_q "$@"
}

standby_create() {
	local line
	PRIMARY_PORT=$PGPORT
	psql_q "SELECT pg_create_physical_replication_slot('sb', true)" >/dev/null
	pg_stop fast
	SB_DATA=$PG_TMP/standby
	_as_pg cp -a "$PGDATA" "$SB_DATA"
	# the copy must not carry the primary's slots or pid file
	_as_pg find "$SB_DATA/pg_replslot" -mindepth 1 -delete
	_as_pg rm -f "$SB_DATA/postmaster.pid"
	SB_PORT=$(free_port)
	{
		printf '\n# standby, written by tests/integration/standby.sh\n'
		printf 'port = %s\n' "$SB_PORT"
		printf "primary_conninfo = 'host=127.0.0.1 port=%s user=postgres dbname=postgres application_name=sb'\n" "$PRIMARY_PORT"
		printf "primary_slot_name = 'sb'\n"
		printf 'hot_standby_feedback = on\n'
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} | _as_pg tee -a "$SB_DATA/postgresql.conf" >/dev/null
	_as_pg touch "$SB_DATA/standby.signal"
	_pg_ctl_start || die "standby_create: the primary's port $PGPORT was taken"
	_as_pg "$PG_BIN/pg_ctl" -D "$SB_DATA" -l "$PG_TMP/standby.log" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$PG_TMP/standby.log" >&2; die "standby did not start"; }
	wait_for 30 _sb_streaming || die "standby is not streaming from the primary"
}

_sb_streaming() {
	[[ $(psql_q "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'sb' AND state = 'streaming'") == 1 ]]
}

primary_kill() {
	_as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 60 stop >/dev/null
}

standby_promote() {
	_as_pg "$PG_BIN/pg_ctl" -D "$SB_DATA" -w -t 60 promote >/dev/null || die "promote failed"
	wait_for 30 _sb_primary || die "the promoted standby does not accept writes"
}

_sb_primary() {
	[[ $(sb_q "SELECT pg_is_in_recovery()") == f ]]
}

wait_replayed() {
	local target
	target=$(psql_q "SELECT pg_current_wal_lsn()")
	wait_for "${1:-30}" _sb_replayed "$target"
}

_sb_replayed() {
	[[ $(sb_q "SELECT pg_last_wal_replay_lsn() >= '$1'::pg_lsn") == t ]]
}
