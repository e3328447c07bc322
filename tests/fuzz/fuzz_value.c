/*
 * fuzz_value.c — libFuzzer target: the SPEC §3 value mapper.  The first byte picks
 * a type (scalars, arrays, a domain, an enum, unknown), the rest is its text; a
 * second byte with its low bit set picks the Debezium profile (§3a) and its modes.
 */
#include <stdint.h>
#include <string.h>

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

	if (size < 1)
		return 0;
	t = types_new();
	types_add(t, 16400, 'd', CDC_OID_NUMERIC, 0, ',', "dom");
	types_add(t, 16401, 'b', 0, 16400, ',', "_dom");
	types_add(t, 16402, 'e', 0, 0, ',', "mood");
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
	}
	json_put_value(&b, t, oids[data[0] % (sizeof(oids) / sizeof(oids[0]))], &v, &o, &err);
	jbuf_free(&b);
	types_free(t);
	return 0;
}
