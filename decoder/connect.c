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
#include <strings.h>

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
	const char *labels;
	uint32_t base;

	types_resolve(types, oid, &td);
	base = td.base_oid != 0 ? td.base_oid : oid;
	if ((labels = types_labels(types, base)) != NULL) {
		/* io.debezium.data.Enum, its labels "allowed" */
		put_named(b, "string", optional, "io.debezium.data.Enum", 1);
		jbuf_puts(b, ",\"parameters\":{\"allowed\":");
		jbuf_put_jstring(b, labels, strlen(labels));
		jbuf_putc(b, '}');
		return;
	}
	if (base == CDC_OID_MONEY) {
		put_numeric(b, optional, typmod, true, o);
		return;
	}
	if ((base == CDC_OID_BIT || base == CDC_OID_VARBIT) && typmod >= 1) {
		/* bit(n), varbit(n): boolean for n = 1, else io.debezium.data.Bits */
		if (typmod == 1) {
			put_head(b, "boolean", optional);
		} else {
			put_named(b, "bytes", optional, "io.debezium.data.Bits", 1);
			jbuf_puts(b, ",\"parameters\":{\"length\":\"");
			put_int(b, typmod);
			jbuf_puts(b, "\"}");
		}
		return;
	}
	if (types_is(types, base, "hstore")) {
		/* hstore.handling.mode = json */
		put_named(b, "string", optional, "io.debezium.data.Json", 1);
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
		else if (o->time_mode == JSON_TIME_ADAPTIVE && json_time_precision(typmod) <= 3)
			put_named(b, "int32", optional, "io.debezium.time.Time", 1);
		else
			put_named(b, "int64", optional, "io.debezium.time.MicroTime", 1);
		return;
	case CDC_T_TIMESTAMP:
		if (o->time_mode == JSON_TIME_CONNECT)
			put_named(b, "int64", optional, "org.apache.kafka.connect.data.Timestamp", 1);
		else if (json_time_precision(typmod) <= 3)
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
			/* Debezium's enum arrays alone have required elements */
			connect_column_schema(b, types, td.elem_oid, typmod,
			                      types_labels(types, td.elem_oid) == NULL, o);
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

/* ---- column defaults, as Debezium's PostgresDefaultValueConverter reads them ---- */

/* The value a default generated by a function stands for (Debezium's placeholders,
 * in the server's output format); NULL: Debezium gives the type no default. */
static const char *
default_placeholder(uint32_t base, enum cdc_tkind kind)
{
	switch (base) {
	case CDC_OID_BOOL: return "f";
	case CDC_OID_BPCHAR: case CDC_OID_VARCHAR: case CDC_OID_TEXT: case CDC_OID_XML: return "";
	case CDC_OID_NUMERIC: case CDC_OID_FLOAT4: case CDC_OID_FLOAT8: return "0.0";
	case CDC_OID_INT2: case CDC_OID_INT4: case CDC_OID_INT8: return "0";
	case CDC_OID_JSON: case CDC_OID_JSONB: return "{}";
	case CDC_OID_UUID: return "00000000-0000-0000-0000-000000000000";
	case CDC_OID_DATE: return "1970-01-01";
	case CDC_OID_TIME: return "00:00:00";
	case CDC_OID_TIMESTAMP: return "1970-01-01 00:00:00";
	case CDC_OID_TIMESTAMPTZ: return "1970-01-01 00:00:00+00";
	case CDC_OID_INTERVAL: return "PT0S";
	default:
		(void) kind;
		return NULL;
	}
}

/* Whether expr is a function call (Debezium's ^[(]?[A-Za-z0-9_.]+\(...\)) or one of
 * the SQL current date/time keywords. */
static bool
generated_default(const char *expr)
{
	static const char *const now[] = { "current_timestamp", "current_time", "current_date",
	                                   "localtime", "localtimestamp" };
	const char *p = expr + (expr[0] == '(');
	const char *q = p;

	for (size_t i = 0; i < sizeof(now) / sizeof(now[0]); i++)
		if (strcasecmp(expr, now[i]) == 0)
			return true;
	while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
	       *q == '_' || *q == '.')
		q++;
	return q > p && *q == '(' && strchr(q + 1, ')') != NULL;
}

/* Append the default of column col when Debezium's schema has one: the literal of
 * its default expression (or the placeholder of a generated one) mapped as the
 * column's values are.  Returns whether it appended one. */
static bool
default_value(struct jbuf *b, const struct cdc_types *types, const struct cdc_column *col,
              const struct json_opts *o)
{
	struct cdc_typedesc td;
	const char *expr = col->defexpr, *ph;
	char *text = NULL;
	size_t start = b->len, n;
	struct cdc_err err;
	uint32_t base;
	bool ok = true;

	if (expr == NULL)
		return false;
	types_resolve(types, col->type_oid, &td);
	base = td.base_oid != 0 ? td.base_oid : col->type_oid;
	while (*expr == ' ')
		expr++;
	if (types_labels(types, base) != NULL) {
		/* an enum: the quoted label only ('happy'::mood) */
		const char *q = strchr(expr, '\'');
		const char *e = q != NULL ? strchr(q + 1, '\'') : NULL;

		if (expr[0] != '\'' || e == NULL)
			return false;
		jbuf_put_jstring(b, q + 1, (size_t) (e - q - 1));
		return true;
	}
	if (td.kind == CDC_T_ARRAY || (ph = default_placeholder(base, td.kind)) == NULL)
		return false;
	if (generated_default(expr)) {
		text = strdup(ph);
	} else if (strchr(expr, '\'') == NULL) {
		/* a bare constant: 123, 1.5, true; NULL::type is no default */
		if (strncmp(expr, "NULL::", 6) == 0)
			return false;
		n = strlen(expr);
		while (n > 0 && expr[n - 1] == ' ')
			n--;
		text = strndup(expr, n);
	} else {
		/* the first quoted literal, '' unescaped: 'abc'::text, '-1'::integer */
		const char *q = strchr(expr, '\'') + 1;
		size_t k = 0;

		if ((text = malloc(strlen(q) + 1)) == NULL) {
			b->oom = true;
			return false;
		}
		for (; *q != '\0'; q++) {
			if (*q == '\'' && q[1] == '\'')
				q++;
			else if (*q == '\'')
				break;
			text[k++] = *q;
		}
		text[k] = '\0';
	}
	if (text == NULL) {
		b->oom = true;
		return false;
	}
	if (base == CDC_OID_BOOL) {
		/* Boolean.parseBoolean: true only for "true" */
		bool t = strcasecmp(text, "true") == 0 || strcmp(text, "t") == 0;

		jbuf_puts(b, t ? "true" : "false");
	} else {
		struct cdc_value v = { CDC_VAL_TEXT, (uint32_t) strlen(text), text };

		cdc_err_clear(&err);
		/* what the mapping cannot read (an expression), or a struct (Debezium drops
		 * those, KAFKA-12694), is no default */
		if (json_put_column_value(b, types, col->type_oid, col->typmod, &v, o, &err) != 0 ||
		    b->oom || b->data[b->len - 1] == '}') {
			b->len = start;
			ok = false;
		}
	}
	free(text);
	return ok;
}

static void
put_default(struct jbuf *b, const struct cdc_types *types, const struct cdc_column *col,
            const struct json_opts *o)
{
	size_t start = b->len;

	jbuf_puts(b, ",\"default\":");
	if (!default_value(b, types, col, o))
		b->len = start;
}

void
connect_required_null(struct jbuf *b, const struct cdc_types *types, const struct cdc_column *col,
                      const struct json_opts *o)
{
	struct cdc_typedesc td;
	uint32_t base;

	if (default_value(b, types, col, o))
		return;
	/* JdbcValueConverters' and PostgresValueConverter's fallbacks */
	types_resolve(types, col->type_oid, &td);
	base = td.base_oid != 0 ? td.base_oid : col->type_oid;
	if (base == CDC_OID_MONEY || td.kind == CDC_T_NUMERIC) {
		struct cdc_value v = { CDC_VAL_TEXT, 1, "0" };
		struct cdc_err err;
		size_t start = b->len;

		cdc_err_clear(&err);
		if (base == CDC_OID_MONEY)
			v = (struct cdc_value) { CDC_VAL_TEXT, 5, "$0.00" };
		if (json_put_column_value(b, types, col->type_oid, col->typmod, &v, o, &err) == 0)
			return;
		b->len = start;
	}
	if (base == CDC_OID_TIMETZ) {
		jbuf_puts(b, "\"00:00:00Z\"");
		return;
	}
	if ((base == CDC_OID_BIT || base == CDC_OID_VARBIT) && col->typmod == 1) {
		jbuf_puts(b, "false");   /* a boolean; bit(n) is Bits, empty bytes below */
		return;
	}
	switch (td.kind) {
	case CDC_T_INT: case CDC_T_DATE: case CDC_T_TIME: case CDC_T_TIMESTAMP:
		jbuf_puts(b, "0");
		return;
	case CDC_T_INTERVAL:
		jbuf_puts(b, o->interval_string ? "\"P0Y0M0DT0H0M0S\"" : "0");
		return;
	case CDC_T_FLOAT:
		jbuf_puts(b, "0.0");
		return;
	case CDC_T_BOOL:
		jbuf_puts(b, "false");
		return;
	case CDC_T_TIMESTAMPTZ:
		jbuf_puts(b, "\"1970-01-01T00:00:00Z\"");
		return;
	case CDC_T_JSON:
		jbuf_puts(b, "\"{}\"");
		return;
	case CDC_T_ARRAY:
		jbuf_puts(b, "[]");
		return;
	case CDC_T_NUMERIC:
		jbuf_puts(b, "null");
		return;
	default:
		/* strings, bytes (empty either way) */
		jbuf_puts(b, "\"\"");
		return;
	}
}

/* "<prefix>.<schema>.<table>.<suffix>", escaped as one JSON string: a table's
 * schema names (Debezium's schema.name.adjustment.mode = none). */
static void
put_table_name(struct jbuf *b, const struct cdc_rel *rel, const struct json_opts *o,
               const char *suffix)
{
	size_t len = strlen(o->name) + strlen(rel->schema) + strlen(rel->name) + strlen(suffix) + 3;
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
		put_default(b, types, col, o);
		jbuf_puts(b, ",\"field\":");
		jbuf_put_jstring(b, col->name != NULL ? col->name : "", col->name != NULL ? strlen(col->name) : 0);
		jbuf_putc(b, '}');
	}
	jbuf_puts(b, optional ? "],\"optional\":true,\"name\":" : "],\"optional\":false,\"name\":");
	put_table_name(b, rel, o, suffix);
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
	put_table_name(b, rel, o, "Envelope");
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
