/*
 * connect.h — Kafka Connect schemas of the Debezium profile ([format] schemas = on,
 * SPEC §3a): what Kafka Connect's JsonConverter writes beside each payload when
 * schemas.enable is true, with the schema names, versions and parameters Debezium's
 * PostgreSQL connector gives its records.
 *
 * DESIGN: every function appends one complete schema object to a jbuf, in the key
 * order JsonConverter uses (type, fields/items, optional, name, version, doc,
 * parameters, default, field).  The json.c encoder wraps the matching payload as
 * {"schema":...,"payload":...}.  Column nullability comes from cdc_column.notnull,
 * which the agent reads from the catalog.  Pure: no allocation beyond the jbuf.
 */
#ifndef PGCDC_CONNECT_H
#define PGCDC_CONNECT_H

#include "change.h"
#include "json.h"
#include "types.h"

/* <prefix>.<schema>.<table>.Envelope: before/after (.Value), source, transaction,
 * op, ts_ms, ts_us, ts_ns. */
void connect_value_schema(struct jbuf *b, const struct cdc_rel *rel, const struct cdc_types *types,
                          const struct json_opts *o);

/* <prefix>.<schema>.<table>.Key: the record-key columns (cdc_column.pk). */
void connect_key_schema(struct jbuf *b, const struct cdc_rel *rel, const struct cdc_types *types,
                        const struct json_opts *o);

/* io.debezium.connector.postgresql.MessageKey / MessageValue (op "m" records). */
void connect_message_key_schema(struct jbuf *b);
void connect_message_value_schema(struct jbuf *b, const struct json_opts *o);

/* io.debezium.connector.common.TransactionMetadataKey / TransactionMetadataValue. */
void connect_tx_key_schema(struct jbuf *b);
void connect_tx_value_schema(struct jbuf *b);

/* Append the value Debezium's converters give a NOT NULL column that has no value
 * (a column outside the key in the before of a key-only delete): the column's
 * schema default, else the type's fallback (0, "", false, the epoch, []). */
void connect_required_null(struct jbuf *b, const struct cdc_types *types,
                           const struct cdc_column *col, const struct json_opts *o);

/* The schema of one column of type oid (typmod as the Relation message says), up to
 * but not including its closing brace, so that the caller can add "field". */
void connect_column_schema(struct jbuf *b, const struct cdc_types *types, uint32_t oid,
                           int32_t typmod, bool optional, const struct json_opts *o);

#endif
