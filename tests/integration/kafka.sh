# shellcheck shell=bash
#
# kafka.sh — a Kafka-protocol cluster for integration tests (source after lib.sh and agent.sh).
#
# The cluster is librdkafka's mock cluster in its own process (tests/tools/mockbroker.c),
# listening on 127.0.0.1 only; it goes away when the test exits. Records are read back
# with kcat, an independent client.
#
#   kafka_start [BROKERS]          start a cluster (default 3 brokers); sets KAFKA_BOOTSTRAP, KAFKA_PID
#   kafka_cmd CMD...               send a command and wait for its answer (fails on an error answer):
#                                  down ID|all, up ID|all, topic NAME PARTITIONS, produce-error CODE [N]
#   kafka_stop                     stop the cluster
#   kafka_args PREFIX [FORMAT]     one --set option per line for agent_start: Kafka sink on (this
#                                  cluster, topic prefix PREFIX, format json|protobuf), stdout sink off
#   kafka_json TOPIC               every message of TOPIC as one JSON line (kcat -J): partition, offset,
#                                  key, payload (strings; null for null)
#   kafka_records TOPIC            every non-null value of TOPIC, one JSON envelope per line
#   kafka_proto TOPIC              every message of a protobuf TOPIC, decoded by build/tools/kafka-protodump:
#                                  {"partition","offset","key","value":{envelope}|null} per line
#   kafka_count TOPIC              number of messages in TOPIC
#   kafka_partition N KEY...       the Java client's partition of each KEY among N (kafka-murmur2)
#
# The mock keeps at most 5 MB (and 100,000 batches) per partition and silently drops the
# oldest batches past that: tests that write more use more partitions or compression, and
# check that every partition still starts at offset 0.
#
# Tools come from $PGCDC_SRC/${PGCDC_BUILD:-build}/tools.

KAFKA_TOOLS=${KAFKA_TOOLS:-$PGCDC_SRC/${PGCDC_BUILD:-build}/tools}
KAFKA_BOOTSTRAP=
KAFKA_PID=
_KAFKA_FD=
_KAFKA_OUT=

kafka_start() {
	local n=${1:-3}
	[[ -x $KAFKA_TOOLS/mockbroker ]] || die "kafka_start: $KAFKA_TOOLS/mockbroker not built (make)"
	command -v kcat >/dev/null || die "kafka_start: kcat not installed"
	local fifo=$PG_TMP/kafka.in
	_KAFKA_OUT=$PG_TMP/kafka.out
	rm -f "$fifo" "$_KAFKA_OUT"
	mkfifo "$fifo"
	# read-write open does not block; the broker sees end of input when we close it
	exec {_KAFKA_FD}<>"$fifo"
	"$KAFKA_TOOLS/mockbroker" -n "$n" <"$fifo" >"$_KAFKA_OUT" 2>"$PG_TMP/kafka.err" &
	KAFKA_PID=$!
	wait_for 10 test -s "$_KAFKA_OUT" || die "kafka_start: the mock cluster did not start: $(cat "$PG_TMP/kafka.err")"
	KAFKA_BOOTSTRAP=$(head -n 1 "$_KAFKA_OUT")
	[[ $KAFKA_BOOTSTRAP == 127.0.0.1:* ]] || die "kafka_start: unexpected bootstrap '$KAFKA_BOOTSTRAP'"
	export KAFKA_BOOTSTRAP
}

kafka_cmd() {
	[[ -n $KAFKA_PID ]] || die "kafka_cmd: no cluster (kafka_start first)"
	local before
	before=$(wc -l <"$_KAFKA_OUT")
	printf '%s\n' "$*" >&"$_KAFKA_FD"
	wait_for 10 _kafka_answered "$before" || die "kafka_cmd: no answer to '$*'"
	local answer
	answer=$(sed -n "$((before + 1))p" "$_KAFKA_OUT")
	[[ $answer == ok* ]] || die "kafka_cmd: $answer"
}

_kafka_answered() {
	(($(wc -l <"$_KAFKA_OUT") > $1))
}

kafka_stop() {
	if [[ -n $_KAFKA_FD ]]; then
		exec {_KAFKA_FD}>&-
		_KAFKA_FD=
	fi
	if [[ -n $KAFKA_PID ]]; then
		kill -TERM "$KAFKA_PID" 2>/dev/null
		wait "$KAFKA_PID" 2>/dev/null
		KAFKA_PID=
	fi
	return 0
}
at_exit kafka_stop

kafka_args() {
	printf '%s\n' --set sink.stdout.enabled=off --set sink.kafka.enabled=on \
		--set "sink.kafka.brokers=$KAFKA_BOOTSTRAP" --set "sink.kafka.topic_prefix=$1" \
		--set "sink.kafka.format=${2:-json}"
}

kafka_json() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -J
}

kafka_records() {
	kafka_json "$1" | jq -c 'select(.payload != null) | .payload | fromjson'
}

kafka_proto() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f '%p %o %K %S\n%k%s' | "$KAFKA_TOOLS/kafka-protodump"
}

kafka_count() {
	kafka_json "$1" | wc -l
}

kafka_partition() {
	"$KAFKA_TOOLS/kafka-murmur2" "$@"
}
