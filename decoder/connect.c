/*
 * connect.c — Kafka Connect schemas of the Debezium profile (see connect.h).
 *
 * The names, versions and parameters are those of Debezium 3.x's PostgreSQL
 * connector (PostgresValueConverter's schema builders, its SchemaFactory, the
 * Envelope of schema version 2) and Kafka Connect's own logical types
 * (org.apache.kafka.connect.data.Decimal/Date/Time/Timestamp).
 */
#include "connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The source block of every record: io.debezium.connector.postgresql.Source. */
static const char SOURCE_SCHEMA[] =
	"{\"type\":\"struct\",\"fields\":["
	"{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
	"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
	"\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,"
	"last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
	"{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],"
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,"
	"\"field\":\"source\"}";

/* The transaction block (event.block), null unless transaction_topic = on. */
static const char TX_BLOCK_SCHEMA[] =
	"{\"type\":\"struct\",\"fields\":["
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
	"\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}";

static void
put_int(struct jbuf *b, long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%ld", v);

	jbuf_put(b, tmp, (size_t) n);
}

/* "type":T,"optional":X — the head of a schema without a name */
static void
put_head(struct jbuf *b, const char *type, bool optional)
{
	jbuf_puts(b, "{\"type\":\"");
	jbuf_puts(b, type);
	jbuf_puts(b, optional ? "\",\"optional\":true" : "\",\"optional\":false");
}

/* a logical type: its head, name and version */
static void
put_named(struct jbuf *b, const char *type, bool optional, const char *name, int version)
{
	put_head(b, type, optional);
	jbuf_puts(b, ",\"name\":\"");
	jbuf_puts(b, name);
	jbuf_puts(b, "\",\"version\":");
	put_int(b, version);
}

/* org.apache.kafka.connect.data.Decimal of scale (and precision, when >= 0) */
static void
put_decimal(struct jbuf *b, bool optional, int scale, int precision)
{
	put_named(b, "bytes", optional, "org.apache.kafka.connect.data.Decimal", 1);
	jbuf_puts(b, ",\"parameters\":{\"scale\":\"");
	put_int(b, scale);
	if (precision >= 0) {
		jbuf_puts(b, "\",\"connect.decimal.precision\":\"");
		put_int(b, precision);
	}
	jbuf_puts(b, "\"}");
}

static int
precision_of(int32_t typmod)
{
	return typmod >= 0 && typmod <= 6 ? (int) typmod : 6;
}

static void
put_numeric(struct jbuf *b, bool optional, int32_t typmod, bool money, const struct json_opts *o)
{
	switch (o->decimal_mode) {
	case JSON_DECIMAL_STRING:
		put_head(b, "string", optional);
		return;
	case JSON_DECIMAL_DOUBLE:
		put_head(b, "float64", optional);
		return;
	default:
		break;
	}
	if (money) {
		put_decimal(b, optional, 2, -1);
	} else if (typmod >= 4) {
		put_decimal(b, optional, (int) ((typmod - 4) & 0xFFFF), (int) (((typmod - 4) >> 16) & 0xFFFF));
	} else {
		jbuf_puts(b, "{\"type\":\"struct\",\"fields\":["
		             "{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
		             "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]");
		jbuf_puts(b, optional ? ",\"optional\":true" : ",\"optional\":false");
		jbuf_puts(b, ",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
		             "\"doc\":\"Variable scaled decimal\"");
	}
}

void
connect_column_schema(struct jbuf *b, const struct cdc_types *types, uint32_t oid, int32_t typmod,
                      bool optional, const struct json_opts *o)
{
	struct cdc_typedesc td;
	uint32_t base;

	types_resolve(types, oid, &td);
	base = td.base_oid != 0 ? td.base_oid : oid;
	if (base == CDC_OID_MONEY) {
		put_numeric(b, optional, typmod, true, o);
		return;
	}
	if (base == CDC_OID_TIMETZ) {
		put_named(b, "string", optional, "io.debezium.time.ZonedTime", 1);
		return;
	}
	if (base == CDC_OID_XML) {
		put_named(b, "string", optional, "io.debezium.data.Xml", 1);
		return;
	}
	switch (td.kind) {
	case CDC_T_INT:
		put_head(b, base == CDC_OID_INT2 ? "int16" : base == CDC_OID_INT4 ? "int32" : "int64",
		         optional);
		return;
	case CDC_T_FLOAT:
		put_head(b, base == CDC_OID_FLOAT4 ? "float32" : "float64", optional);
		return;
	case CDC_T_NUMERIC:
		put_numeric(b, optional, typmod, false, o);
		return;
	case CDC_T_BOOL:
		put_head(b, "boolean", optional);
		return;
	case CDC_T_BYTEA:
		put_head(b, o->binary_mode == JSON_BINARY_BYTES ? "bytes" : "string", optional);
		return;
	case CDC_T_DATE:
		if (o->time_mode == JSON_TIME_CONNECT)
			put_named(b, "int32", optional, "org.apache.kafka.connect.data.Date", 1);
		else
			put_named(b, "int32", optional, "io.debezium.time.Date", 1);
		return;
	case CDC_T_TIME:
		if (o->time_mode == JSON_TIME_CONNECT)
			put_named(b, "int32", optional, "org.apache.kafka.connect.data.Time", 1);
		else if (o->time_mode == JSON_TIME_ADAPTIVE && precision_of(typmod) <= 3)
			put_named(b, "int32", optional, "io.debezium.time.Time", 1);
		else
			put_named(b, "int64", optional, "io.debezium.time.MicroTime", 1);
		return;
	case CDC_T_TIMESTAMP:
		if (o->time_mode == JSON_TIME_CONNECT)
			put_named(b, "int64", optional, "org.apache.kafka.connect.data.Timestamp", 1);
		else if (precision_of(typmod) <= 3)
			put_named(b, "int64", optional, "io.debezium.time.Timestamp", 1);
		else
			put_named(b, "int64", optional, "io.debezium.time.MicroTimestamp", 1);
		return;
	case CDC_T_TIMESTAMPTZ:
		put_named(b, "string", optional, "io.debezium.time.ZonedTimestamp", 1);
		return;
	case CDC_T_INTERVAL:
		if (o->interval_string)
			put_named(b, "string", optional, "io.debezium.time.Interval", 1);
		else
			put_named(b, "int64", optional, "io.debezium.time.MicroDuration", 1);
		return;
	case CDC_T_JSON:
		put_named(b, "string", optional, "io.debezium.data.Json", 1);
		return;
	case CDC_T_UUID:
		put_named(b, "string", optional, "io.debezium.data.Uuid", 1);
		return;
	case CDC_T_ARRAY:
		/* elements are optional (an array may hold NULLs); the typmod is the element's */
		jbuf_puts(b, "{\"type\":\"array\",\"items\":");
		if (td.elem_oid != 0 && td.elem_oid != oid)
			connect_column_schema(b, types, td.elem_oid, typmod, true, o);
		else
			put_head(b, "string", true);
		jbuf_putc(b, '}');
		jbuf_puts(b, optional ? ",\"optional\":true" : ",\"optional\":false");
		return;
	default:
		put_head(b, "string", optional);
		return;
	}
}

/* {"type":"struct","fields":[columns],"optional":X,"name":"<prefix>.<schema>.<table>.<suffix>" */
static void
put_row_struct(struct jbuf *b, const struct cdc_rel *rel, const struct cdc_types *types,
               const struct json_opts *o, bool keys_only, bool optional, const char *suffix)
{
	bool first = true;

	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":[");
	for (int i = 0; i < rel->ncols; i++) {
		const struct cdc_column *col = &rel->cols[i];

		if (keys_only && !col->pk)
			continue;
		if (!first)
			jbuf_putc(b, ',');
		first = false;
		connect_column_schema(b, types, col->type_oid, col->typmod, !col->notnull, o);
		jbuf_puts(b, ",\"field\":");
		jbuf_put_jstring(b, col->name != NULL ? col->name : "", col->name != NULL ? strlen(col->name) : 0);
		jbuf_putc(b, '}');
	}
	jbuf_puts(b, optional ? "],\"optional\":true,\"name\":" : "],\"optional\":false,\"name\":");
	{
		/* the schema name: <prefix>.<schema>.<table>.<suffix>, escaped as one string */
		size_t nlen = strlen(o->name), slen = strlen(rel->schema), tlen = strlen(rel->name);
		size_t xlen = strlen(suffix), len = nlen + slen + tlen + xlen + 3;
		char small[512], *name = len < sizeof(small) ? small : malloc(len + 1);

		if (name == NULL) {
			b->oom = true;
			return;
		}
		snprintf(name, len + 1, "%s.%s.%s.%s", o->name, rel->schema, rel->name, suffix);
		jbuf_put_jstring(b, name, len);
		if (name != small)
			free(name);
	}
}

void
connect_value_schema(struct jbuf *b, const struct cdc_rel *rel, const struct cdc_types *types,
                     const struct json_opts *o)
{
	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":[");
	put_row_struct(b, rel, types, o, false, true, "Value");
	jbuf_puts(b, ",\"field\":\"before\"},");
	put_row_struct(b, rel, types, o, false, true, "Value");
	jbuf_puts(b, ",\"field\":\"after\"},");
	jbuf_puts(b, SOURCE_SCHEMA);
	jbuf_putc(b, ',');
	jbuf_puts(b, TX_BLOCK_SCHEMA);
	jbuf_puts(b, ",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
	             "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
	             "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
	             "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}]"
	             ",\"optional\":false,\"name\":");
	{
		size_t len = strlen(o->name) + strlen(rel->schema) + strlen(rel->name) + 11;
		char small[512], *name = len < sizeof(small) ? small : malloc(len + 1);

		if (name == NULL) {
			b->oom = true;
			return;
		}
		snprintf(name, len + 1, "%s.%s.%s.Envelope", o->name, rel->schema, rel->name);
		jbuf_put_jstring(b, name, len);
		if (name != small)
			free(name);
	}
	jbuf_puts(b, ",\"version\":2}");
}

void
connect_key_schema(struct jbuf *b, const struct cdc_rel *rel, const struct cdc_types *types,
                   const struct json_opts *o)
{
	put_row_struct(b, rel, types, o, true, false, "Key");
	jbuf_putc(b, '}');
}

void
connect_message_key_schema(struct jbuf *b)
{
	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"}],"
	             "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageKey\","
	             "\"version\":1}");
}

void
connect_message_value_schema(struct jbuf *b, const struct json_opts *o)
{
	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
	             "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},");
	jbuf_puts(b, SOURCE_SCHEMA);
	jbuf_putc(b, ',');
	jbuf_puts(b, TX_BLOCK_SCHEMA);
	jbuf_puts(b, ",{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"},");
	put_head(b, o->binary_mode == JSON_BINARY_BYTES ? "bytes" : "string", true);
	jbuf_puts(b, ",\"field\":\"content\"}],\"optional\":false,"
	             "\"name\":\"io.debezium.connector.postgresql.Message\",\"version\":1,"
	             "\"field\":\"message\"}],\"optional\":false,"
	             "\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"version\":1}");
}

void
connect_tx_key_schema(struct jbuf *b)
{
	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
	             "\"optional\":false,"
	             "\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}");
}

void
connect_tx_value_schema(struct jbuf *b)
{
	jbuf_puts(b, "{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
	             "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
	             "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
	             "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
	             "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
	             "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
	             "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
	             "\"optional\":true,\"field\":\"data_collections\"},"
	             "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
	             "\"optional\":false,"
	             "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}");
}
