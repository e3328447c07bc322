#!/usr/bin/env bash
# [filter]: excluded columns never leave the agent (values, keys, before-images,
# snapshot rows), masked columns carry the hex SHA-256 of their value, only the
# included tables appear, and a filter naming an unknown column is refused at start;
# a masked key column is masked in a record-key change's Kafka headers too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent.sh"
. "$(dirname "$0")/kafka.sh"

pg_start
psql_q "CREATE TABLE people (id int PRIMARY KEY, email text, ssn text, note text);
        ALTER TABLE people REPLICA IDENTITY FULL;
        CREATE TABLE other (id int PRIMARY KEY, v text);
        INSERT INTO people VALUES (1, 'ann@example.org', 'SSN-111-SECRET', 'pre-existing');
        CREATE PUBLICATION pgcdc FOR ALL TABLES"
F=(--set filter.exclude_columns=public.people.ssn --set filter.mask_columns=public.people.email
   --set filter.include_tables=public.people)
agent_start a --set source.snapshot=initial "${F[@]}"
psql_q "INSERT INTO people VALUES (2, 'bob@example.org', 'SSN-222-SECRET', 'new')"
psql_q "UPDATE people SET note = 'changed', ssn = 'SSN-333-SECRET' WHERE id = 2"
psql_q "DELETE FROM people WHERE id = 1"
psql_q "INSERT INTO other VALUES (1, 'not included')"
wait_caught_up 30 || t_fail "caught up" "slot did not catch up"
agent_stop TERM
O=$PG_TMP/a.out
t_eq "snapshot + 3 changes on people, nothing from other" "r c u d" "$(jq -r .op "$O" | xargs)"
t_eq "excluded column: no value anywhere in the output" 0 "$(grep -c 'SECRET' "$O" || true)"
t_eq "excluded column: no key named ssn" 0 "$(grep -c '"ssn"' "$O" || true)"
t_eq "excluded column: not in the logs either" 0 "$(grep -c 'SECRET' "$PG_TMP/a.log" || true)"
bob=$(printf '%s' 'bob@example.org' | sha256sum | cut -d' ' -f1)
ann=$(printf '%s' 'ann@example.org' | sha256sum | cut -d' ' -f1)
t_eq "masked column: hex SHA-256 in after" "\"$bob\"" "$(jq -c 'select(.op=="c") | .after.email' "$O")"
t_eq "masked column: hex SHA-256 in the FULL before-image" "\"$bob\"" "$(jq -c 'select(.op=="u") | .before.email' "$O")"
t_eq "masked column: in snapshot rows" "\"$ann\"" "$(jq -c 'select(.op=="r") | .after.email' "$O")"
t_eq "masked column: in delete before-images" "\"$ann\"" "$(jq -c 'select(.op=="d") | .before.email' "$O")"
t_eq "masked column: raw value never appears" 0 "$(grep -c 'example.org' "$O" || true)"
t_eq "other columns untouched" '{"id":2,"email":"'"$bob"'","note":"changed"}' "$(jq -c 'select(.op=="u") | .after' "$O")"
t_eq "excluded table: absent" 0 "$(grep -c '"table":"other"' "$O" || true)"

# one-off snapshot uses the same filter
mapfile -t base < <(agent_args)
"$PGCDC_BIN" "${base[@]}" "${F[@]}" snapshot >"$PG_TMP/one.out" 2>"$PG_TMP/one.log"
t_eq "one-off snapshot filtered the same way" '{"id":2,"email":"'"$bob"'","note":"changed"}' "$(jq -c .after "$PG_TMP/one.out")"

set +e
"$PGCDC_BIN" "${base[@]}" --set filter.exclude_columns=public.people.nope >/dev/null 2>"$PG_TMP/bad.log"; rc=$?
set -e
t_eq "unknown filter column: exit 2" 2 "$rc"
grep -q 'filter.exclude_columns: column "public.people.nope" does not exist' "$PG_TMP/bad.log" \
	&& t_ok "unknown filter column: named" || t_fail "unknown column message" "$(cat "$PG_TMP/bad.log")"
set +e
"$PGCDC_BIN" "${base[@]}" --set filter.include_tables=public.ghost >/dev/null 2>"$PG_TMP/bad.log"; rc=$?
set -e
t_eq "unknown filter table: exit 2" 2 "$rc"
grep -q 'filter.include_tables: table "public.ghost" does not exist' "$PG_TMP/bad.log" \
	&& t_ok "unknown filter table: named" || t_fail "unknown table message" "$(cat "$PG_TMP/bad.log")"

# a record-key change names the other key in a Kafka header (__debezium.newkey on the
# delete, __debezium.oldkey on the create): a masked key column is masked there too
kafka_start 1
psql_q "CREATE TABLE keyed (code text PRIMARY KEY, v text); INSERT INTO keyed VALUES ('CODE-OLD-SECRET', 'x')"
mapfile -t K < <(kafka_args f)
agent_start k "${K[@]}" --set filter.mask_columns=public.keyed.code --set filter.include_tables=public.keyed \
	--set source.slot=fk --set "source.state_dir=$PG_TMP/statek"
psql_q "UPDATE keyed SET code = 'CODE-NEW-SECRET'"
wait_caught_up 30 fk || t_fail "caught up" "slot fk did not catch up"
agent_stop TERM
hold=$(printf '%s' 'CODE-OLD-SECRET' | sha256sum | cut -d' ' -f1)
hnew=$(printf '%s' 'CODE-NEW-SECRET' | sha256sum | cut -d' ' -f1)
t_eq "masked key column in the record-key change's headers: its hash" \
	"__debezium.newkey={\"code\":\"$hnew\"} __debezium.oldkey={\"code\":\"$hold\"}" \
	"$(kcat -C -b "$KAFKA_BOOTSTRAP" -t f.public.keyed -e -q -f '%h\n' | grep . | sort | paste -sd ' ')"
t_eq "masked key column: the raw value is nowhere in the topic" 0 \
	"$(kcat -C -b "$KAFKA_BOOTSTRAP" -t f.public.keyed -e -q -f '%k %h %s\n' | grep -c SECRET || true)"
t_summary
