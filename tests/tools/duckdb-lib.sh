# shellcheck shell=bash
#
# duckdb-lib.sh — helpers for the Parquet integration tests: read files back with DuckDB.
# Source after tests/integration/lib.sh and agent.sh.
#
#   pq_args DIR [--set ...]     print the agent arguments that turn the stdout sink off and
#                               the Parquet sink on, writing to DIR (one per line, for mapfile)
#   duck SQL                    run SQL in DuckDB (tests/tools/duckdb-query.mjs); rows as a|b|c
#   pq_glob DIR [TABLE]         the read_parquet() argument for every committed file of DIR
#                               (of one table directory, e.g. public.t)
#   pq_files DIR                list committed .parquet files, sorted
#   pq_tmp_count DIR            number of .tmp files left in DIR
#   lsn_num LSN                 "X/Y" as a decimal number
#   duck_check NAME SQL         t_ok when SQL returns no row, else t_fail showing the rows
#
# DuckDB comes from npm (@duckdb/node-api, installed by tests/tools/deps.sh); a missing
# install is an error, not a skip.

DUCKDB_QUERY=$PGCDC_SRC/tests/tools/duckdb-query.mjs
[[ -d $PGCDC_SRC/tests/tools/node_modules/@duckdb/node-api ]] ||
	die "DuckDB for node is not installed: run tests/tools/deps.sh"

pq_args() {
	local dir=$1
	shift
	printf '%s\n' --set sink.stdout.enabled=off --set "sink.parquet.directory=$dir" "$@"
}

duck() {
	node "$DUCKDB_QUERY" "$1"
}

pq_glob() {
	if [[ -n ${2-} ]]; then
		printf "'%s/%s/*/*.parquet'" "$1" "$2"
	else
		printf "'%s/*/*/*.parquet'" "$1"
	fi
}

pq_files() {
	find "$1" -name '*.parquet' -type f | sort
}

pq_tmp_count() {
	find "$1" -name '*.tmp' | wc -l
}

lsn_num() {
	local hi=${1%%/*} lo=${1##*/}
	printf '%d\n' $(((16#$hi << 32) + 16#$lo))
}

duck_check() {
	local name=$1 out
	if ! out=$(duck "$2" 2>&1); then
		t_fail "$name" "query failed: $out"
	elif [[ -z $out ]]; then
		t_ok "$name"
	else
		t_fail "$name" "$(head -c 2000 <<<"$out")"
	fi
}
