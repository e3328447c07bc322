/*
 * fuzz_value.c — libFuzzer target: the SPEC §3 value mapper.  The first byte picks
 * a type (scalars, arrays, a domain, an enum, unknown), the rest is its text; a
 * second byte with its low bit set picks the Debezium profile (§3a) and its modes,
 * and then, when the first has bit 0x40, a third the column's typmod: the value is mapped with it, and the text is
 * also the column's default expression in its schemas = on schema (connect.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/connect.h"
#include "decoder/json.h"
#include "decoder/types.h"

static const uint32_t oids[] = {
	CDC_OID_INT2, CDC_OID_INT4, CDC_OID_INT8, CDC_OID_OID, CDC_OID_FLOAT4, CDC_OID_FLOAT8,
	CDC_OID_NUMERIC, CDC_OID_BOOL, CDC_OID_BYTEA, CDC_OID_DATE, CDC_OID_TIME, CDC_OID_TIMESTAMP,
	CDC_OID_TIMESTAMPTZ, CDC_OID_INTERVAL, CDC_OID_JSON, CDC_OID_JSONB, CDC_OID_UUID,
	CDC_OID_TEXT, CDC_OID_TIMETZ, CDC_OID_MONEY, 1000, 1005, 1007, 1016, 1021, 1022, 1231, 1009,
	1001, 1182, 1183, 1115, 1185, 1187, 199, 3807, 2951, 1020, 16400, 16401, 16402, 99999,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cdc_types *t;
	struct jbuf b;
	struct cdc_err err = { 0 };
	struct json_opts o = { .name = "f" };
	struct cdc_value v;
	int32_t typmod = -1;
	uint32_t oid;

	if (size < 1)
		return 0;
	t = types_new();
	types_add(t, 16400, 'd', CDC_OID_NUMERIC, 0, ',', "dom");
	types_add(t, 16401, 'b', 0, 16400, ',', "_dom");
	types_add(t, 16402, 'e', 0, 0, ',', "mood");
	types_set_labels(t, 16402, "sad,o\"k");
	jbuf_init(&b);
	v.kind = CDC_VAL_TEXT;
	v.data = (const char *) data + 1;
	v.len = (uint32_t) (size - 1);
	o.numeric_as_number = data[0] & 0x80;
	/* a second byte with its low bit set: the Debezium profile, its modes in the rest */
	if (size > 1 && (data[1] & 1)) {
		o.debezium = true;
		o.decimal_mode = (enum json_decimal) ((data[1] >> 1) % 3);
		o.time_mode = (enum json_time) ((data[1] >> 3) % 3);
		o.interval_string = data[1] & 0x20;
		o.binary_mode = (enum json_binary) (data[1] >> 6);
		v.data++;
		v.len--;
		if (size > 2 && (data[0] & 0x40)) {
			/* numeric-like (precision, scale) typmods, time precisions, or none */
			typmod = data[2] == 0xFF ? -1 : data[2] < 0x10 ? data[2] % 8
			       : (((data[2] & 0x3F) << 16) | (data[2] >> 4)) + 4;
			o.schemas = true;
			v.data++;
			v.len--;
		}
	}
	oid = oids[data[0] % (sizeof(oids) / sizeof(oids[0]))];
	json_put_column_value(&b, t, oid, typmod, &v, &o, &err);
	if (o.schemas) {
		char *def = strndup(v.data, v.len);
		struct cdc_column col = { "c", oid, typmod, false, false, data[2] & 1, def };
		struct cdc_rel rel = { .oid = 16500, .schema = "s", .name = "t", .replident = 'd',
		                       .ncols = 1, .cols = &col, .version = 1 };

		if (def != NULL) {
			jbuf_reset(&b);
			connect_value_schema(&b, &rel, t, &o);
			connect_required_null(&b, t, &col, &o);
			free(def);
		}
	}
	jbuf_free(&b);
	types_free(t);
	return 0;
}
