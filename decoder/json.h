/*
 * json.h — streaming JSON encoder for the Debezium-compatible envelope (SPEC §3).
 *
 * DESIGN: records are written straight into a reusable growable buffer instead of
 * building a jansson tree per record (allocation-free on the hot path once the
 * buffer has grown).  Numbers from PostgreSQL's text output are copied verbatim
 * after validation, so values are exact (1.1 stays 1.1).  Tests parse the output
 * with jansson and compare.
 */
#ifndef PGCDC_JSON_H
#define PGCDC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "change.h"
#include "types.h"

/* Growable byte buffer.  Zero-initialise, or jbuf_init. */
struct jbuf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;           /* sticky: an allocation failed, content is incomplete */
};

void jbuf_init(struct jbuf *b);
void jbuf_reset(struct jbuf *b);      /* len = 0, keeps memory */
void jbuf_free(struct jbuf *b);
/* Make room for n more bytes; returns where they go, or NULL (oom set). */
char *jbuf_reserve(struct jbuf *b, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);

/* The appends are inline: the encoder makes several per value, and the common
 * case (room left) is a store and an add. */
static inline void
jbuf_put(struct jbuf *b, const void *p, size_t n)
{
	char *d;

	if (n == 0)
		return;
	if (!b->oom && n <= b->cap - b->len)
		d = b->data + b->len;
	else if ((d = jbuf_reserve(b, n)) == NULL)
		return;
	memcpy(d, p, n);
	b->len += n;
}

static inline void
jbuf_putc(struct jbuf *b, char c)
{
	char *d;

	if (!b->oom && b->len < b->cap)
		d = b->data + b->len;
	else if ((d = jbuf_reserve(b, 1)) == NULL)
		return;
	*d = c;
	b->len++;
}
/* Append s[0..n) as a quoted, escaped JSON string (invalid UTF-8 becomes U+FFFD). */
void jbuf_put_jstring(struct jbuf *b, const char *s, size_t n);

/* [format] profile = debezium (SPEC §3a) and Debezium's handling modes. */
enum json_decimal { JSON_DECIMAL_PRECISE = 0, JSON_DECIMAL_STRING, JSON_DECIMAL_DOUBLE };
enum json_time { JSON_TIME_ADAPTIVE = 0, JSON_TIME_ADAPTIVE_US, JSON_TIME_CONNECT };
enum json_binary { JSON_BINARY_BYTES = 0, JSON_BINARY_BASE64, JSON_BINARY_BASE64_URL,
                   JSON_BINARY_HEX };

struct json_opts {
	bool numeric_as_number;      /* [format] numeric = number */
	bool omit_unchanged_toast;   /* [format] unchanged_toast = omit */
	bool debezium;               /* [format] profile = debezium: the modes below apply */
	enum json_decimal decimal_mode;
	enum json_time time_mode;
	bool interval_string;        /* interval_handling_mode = string */
	enum json_binary binary_mode;
	bool schemas;                /* schemas = on: {"schema":...,"payload":...} (Debezium profile) */
	const char *name;            /* source.name (topic_prefix) */
	const char *db;              /* source.db */
	const char *version;         /* source.version */
	/* Filled by json_opts_prepare: the parts of "source" that are the same in every
	 * record, escaped once.  Zero lengths (opts not prepared, or too long to fit)
	 * make the encoder escape name, db and version per record instead. */
	char src_head[320];          /* "source":{"version":..,"connector":..,"name":..,"ts_ms": */
	size_t src_head_len;
	char src_db[200];            /* ","db":"..","sequence": (after the snapshot flag) */
	size_t src_db_len;
	/* [sink.kafka] transaction_topic: this record's place in its transaction, set by
	 * the sink before each record; tx_order 0 renders "transaction":null */
	uint64_t tx_order;           /* total_order: 1 for the transaction's first record */
	uint64_t tx_collection_order;/* data_collection_order: the same within the table */
};

/* Escape the constant parts of the "source" block once (call after setting name,
 * db and version, and again whenever they change). */
void json_opts_prepare(struct json_opts *o);

#define CDC_UNAVAILABLE_VALUE "__debezium_unavailable_value"

/* Whether s[0..n) is a JSON number (RFC 8259 §6), which is how PostgreSQL prints
 * integers, floats and numerics; int_only forbids fraction and exponent. */
bool json_number(const char *s, size_t n, bool int_only);

/* Append the JSON mapping of one value of type typoid (SPEC §3 value mapping).
 * Returns 0, or CDC_ERR_PROTO when the text cannot be mapped (err says why). */
int json_put_value(struct jbuf *b, const struct cdc_types *types, uint32_t typoid,
                   const struct cdc_value *v, const struct json_opts *o, struct cdc_err *err);

/* A time or timestamp column's fractional-second precision: typmod, or 6 without
 * one (Debezium's adaptive modes switch to milliseconds up to 3). */
static inline int
json_time_precision(int32_t typmod)
{
	return typmod >= 0 && typmod <= 6 ? (int) typmod : 6;
}

/* The same for a column value: typmod as the column's (numeric scale, time
 * precision in the Debezium profile). */
int json_put_column_value(struct jbuf *b, const struct cdc_types *types, uint32_t typoid,
                          int32_t typmod, const struct cdc_value *v, const struct json_opts *o,
                          struct cdc_err *err);

/* Whether the records of o leave ch out: the Debezium profile skips truncates, as
 * Debezium's skipped.operations = t does by default. */
static inline bool
json_skips(const struct json_opts *o, const struct cdc_change *ch)
{
	return o->debezium && ch->op == CDC_OP_TRUNCATE;
}

/* Append the envelope {"before","after","source","op","ts_ms","transaction"} of ch.
 * now_ns: when pgcdc produced the record, nanoseconds since the epoch (the top-level
 * ts_ms, ts_us and ts_ns). */
int json_envelope(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
                  const struct json_opts *o, int64_t now_ns, struct cdc_err *err);

/* One table's records in a transaction, for its END record. */
struct json_tx_count {
	const char *collection;      /* "<schema>.<table>" */
	uint64_t n;
};

/* The transaction metadata record (Debezium's, [sink.kafka] transaction_topic) of
 * transaction xid: key {"id"} into key, value into val.  BEGIN when counts is NULL,
 * else END with the total and the per-table counts.  The id is "<xid>:<lsn>" as
 * Debezium's PostgreSQL connector makes it (lsn: where the BEGIN or COMMIT is). */
int json_tx_event(struct jbuf *key, struct jbuf *val, uint32_t xid, cdc_lsn lsn, int64_t ts_us,
                  const struct json_tx_count *counts, size_t ncounts, uint64_t total,
                  bool schemas, struct cdc_err *err);

/* Append the record key: {"col":value,...} of the key columns (cdc_column.pk).
 * Returns 1 (and appends nothing) when the relation has no key: the key is null. */
int json_key(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
             const struct json_opts *o, struct cdc_err *err);

#endif
