#!/usr/bin/env bash
# Secrets never appear in logs (debug level included, text and JSON), check, status,
# metrics or error messages: a conninfo password, a value expanded from ${ENV}, and
# kafka.sasl.password.  Every output is collected and grepped for all three.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

PW='Pw-S3cret-conninfo'
export PGCDC_TEST_SECRET='Env-S3cret-expanded'
SASL='Sasl-S3cret-kafka'
pg_start
psql_q "CREATE TABLE s (id int PRIMARY KEY, v text); CREATE PUBLICATION pgcdc FOR ALL TABLES;
        CREATE ROLE pwuser LOGIN REPLICATION PASSWORD '$PW';
        CREATE ROLE envuser LOGIN REPLICATION PASSWORD '$PGCDC_TEST_SECRET';
        GRANT SELECT ON s TO pwuser, envuser"
kafka_start 1
OUT=$PG_TMP/all-output
: >"$OUT"
port=$(free_port)
common=(--set source.snapshot=never --set "source.state_dir=$PG_TMP/state" --set log.level=debug
        --set "monitor.metrics_listen=127.0.0.1:$port" --set monitor.interval=1s
        --set "sink.kafka.brokers=$KAFKA_BOOTSTRAP" --set sink.kafka.topic_prefix=sec
        --set "sink.kafka.kafka.sasl.password=$SASL" --set sink.kafka.kafka.sasl.username=u
        --set source.status_interval=1s)
pw_conn="host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser password=$PW"
# shellcheck disable=SC2016
env_conn='host=127.0.0.1 port='"$PGPORT"' dbname=postgres user=envuser password=${PGCDC_TEST_SECRET}'

run() { "$PGCDC_BIN" "$@" >>"$OUT" 2>&1 || true; }

for fmt in text json; do
	for conn in "$pw_conn" "$env_conn"; do
		"$PGCDC_BIN" --set "source.conninfo=$conn" "${common[@]}" --set "log.format=$fmt" \
			>>"$OUT" 2>&1 &
		pid=$!
		wait_for 30 curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null || true
		psql_q "INSERT INTO s VALUES ($RANDOM, 'x') ON CONFLICT DO NOTHING"
		sleep 2
		curl -s "http://127.0.0.1:$port/metrics" >>"$OUT" || true
		curl -s "http://127.0.0.1:$port/healthz" >>"$OUT" || true
		run --set "source.conninfo=$conn" "${common[@]}" --set "log.format=$fmt" status
		run --set "source.conninfo=$conn" "${common[@]}" --set "log.format=$fmt" status --json
		kill -TERM "$pid"; wait "$pid" || true
		run --set "source.conninfo=$conn" "${common[@]}" --set "log.format=$fmt" check
		run --set "source.conninfo=$conn" "${common[@]}" --set "log.format=$fmt" \
			--set "monitor.metrics_listen=127.0.0.1:1" check
	done
done
# errors: a wrong password (the typed one must not be echoed), a bad port in conninfo,
# a malformed config line holding a secret, SASL against a broker that has none
run --set "source.conninfo=host=127.0.0.1 port=$PGPORT dbname=postgres user=pwuser password=Wrong-$PW" "${common[@]}"
run --set "source.conninfo=host=127.0.0.1 port=notaport password=$PW" "${common[@]}"
run --set "source.conninfo=${env_conn/port=$PGPORT/port=1}" "${common[@]}"
printf '[source]\nconninfo = "password=%s\n' "$PW" >"$PG_TMP/bad.conf"
run -c "$PG_TMP/bad.conf" check
printf '[source]\nconninfo = "password=%s" garbage\n[sink.stdout]\n' "$PW" >"$PG_TMP/bad2.conf"
run -c "$PG_TMP/bad2.conf" check
run --set "source.conninfo=$pw_conn" "${common[@]}" --set sink.kafka.kafka.security.protocol=sasl_plaintext \
	--set sink.kafka.kafka.sasl.mechanism=PLAIN check

lines=$(wc -l <"$OUT")
if ((lines > 100)); then t_ok "collected $lines lines of logs, check, status and metrics output"
else t_fail "output collected" "only $lines lines"; fi
grep -q "pgcdc_up" "$OUT" && t_ok "metrics were scraped" || t_fail "metrics" "no pgcdc_up in the output"
grep -q '"level":"DEBUG"' "$OUT" && t_ok "JSON debug logs were produced" || t_fail "json logs" "none"
grep -q "password authentication failed" "$OUT" && t_ok "the wrong-password error was produced" \
	|| t_fail "wrong password" "no such error"
for secret in "$PW" "$PGCDC_TEST_SECRET" "$SASL"; do
	n=$(grep -c -- "${secret#*-}" "$OUT" || true)
	t_eq "secret ${secret%%-*}-…: never printed" 0 "$n"
	((n == 0)) || grep -n -- "${secret#*-}" "$OUT" | head -3
done
t_summary
