/*
 * test_dbz.c — [format] profile = debezium (SPEC §3a): the values Debezium's
 * PostgresValueConverter emits, mode by mode (decoder/json.c).
 *
 * Expected values are the facts of Debezium's own tests (AbstractRecordsProducerTest:
 * 1.10 in numeric(3,2) is the Decimal 1.10, 10.1111 without typmod the
 * VariableScaleDecimal {scale 4, 101111}, '$1234.11' the Decimal(2) 1234.11,
 * 2016-11-04 day 17109, '13:51:30.123' in time(3) 49890123 ms, 24:00:00 a day of
 * microseconds, timestamptz in UTC with the column's six fraction digits,
 * '+21016-...' past 9999, 'P1Y2M3DT4H5M6.78S' as MicroDuration with 365.25/12-day
 * months or, in string mode, with every component; NaN as "NAN" in string mode;
 * bytea 01 02 03 as "AQID" or "010203"; infinity timestamps as
 * PgStatement.DATE_POSITIVE_INFINITY), encoded the way Kafka Connect's JsonConverter
 * writes them (bytes and Decimal as base64 of the two's-complement unscaled value).
 * Inputs are the text PostgreSQL prints under pgcdc's session settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "decoder/change.h"
#include "decoder/connect.h"
#include "decoder/json.h"
#include "decoder/types.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NUMERIC(p, s) ((((p) << 16) | (s)) + 4)

enum { M_DEFAULT, M_STRING, M_DOUBLE, M_ADAPTIVE_US, M_CONNECT, M_IVSTRING, M_BASE64,
       M_BASE64URL, M_HEX };

struct dcase {
	int mode;
	uint32_t oid;
	int32_t typmod;
	const char *in;
	const char *out;      /* the expected JSON value */
};

static const struct dcase cases[] = {
	/* numeric, decimal_handling_mode = precise (the default) */
	{ M_DEFAULT, 1700, NUMERIC(3, 2), "1.10", "\"bg==\"" },
	{ M_DEFAULT, 1700, NUMERIC(3, 2), "1.1", "\"bg==\"" },           /* rescaled to 2 */
	{ M_DEFAULT, 1700, NUMERIC(4, 0), "10", "\"Cg==\"" },
	{ M_DEFAULT, 1700, NUMERIC(6, 4), "22.2200", "\"A2P4\"" },
	{ M_DEFAULT, 1700, NUMERIC(3, 2), "-1.10", "\"kg==\"" },
	{ M_DEFAULT, 1700, NUMERIC(5, 0), "128", "\"AIA=\"" },
	{ M_DEFAULT, 1700, NUMERIC(5, 0), "-128", "\"gA==\"" },
	{ M_DEFAULT, 1700, NUMERIC(5, 0), "-129", "\"/38=\"" },
	{ M_DEFAULT, 1700, NUMERIC(5, 2), "0.00", "\"AA==\"" },
	{ M_DEFAULT, 1700, -1, "10.1111", "{\"scale\":4,\"value\":\"AYr3\"}" },
	{ M_DEFAULT, 1700, -1, "10", "{\"scale\":0,\"value\":\"Cg==\"}" },
	{ M_DEFAULT, 1700, -1, "22.2200", "{\"scale\":2,\"value\":\"CK4=\"}" },
	{ M_DEFAULT, 1700, -1, "123456789012345678901234567890",
	  "{\"scale\":0,\"value\":\"AY7pD/bDc+DuTj8K0g==\"}" },
	{ M_DEFAULT, 1700, -1, "-98765432109876543210987654321098765432",
	  "{\"scale\":0,\"value\":\"tbJ4PSPf2jsjsGwufJ9LiA==\"}" },
	{ M_DEFAULT, 1700, NUMERIC(12, 0), "4294967296", "\"AQAAAAA=\"" },
	{ M_DEFAULT, 1700, NUMERIC(12, 0), "-4294967296", "\"/wAAAAA=\"" },
	{ M_DEFAULT, 1700, NUMERIC(12, 0), "1000000000", "\"O5rKAA==\"" },
	{ M_DEFAULT, 1700, -1, "NaN", "null" },
	{ M_DEFAULT, 1700, NUMERIC(5, 2), "Infinity", "null" },
	/* string */
	{ M_STRING, 1700, NUMERIC(3, 2), "1.10", "\"1.10\"" },
	{ M_STRING, 1700, NUMERIC(4, 0), "10", "\"10\"" },
	{ M_STRING, 1700, -1, "22.2200", "\"22.2200\"" },
	{ M_STRING, 1700, -1, "-0.5", "\"-0.5\"" },
	{ M_STRING, 1700, -1, "NaN", "\"NAN\"" },
	{ M_STRING, 1700, -1, "Infinity", "\"POSITIVE_INFINITY\"" },
	{ M_STRING, 1700, -1, "-Infinity", "\"NEGATIVE_INFINITY\"" },
	/* double, as Java's Double.toString */
	{ M_DOUBLE, 1700, NUMERIC(3, 2), "1.10", "1.1" },
	{ M_DOUBLE, 1700, NUMERIC(4, 0), "10", "10.0" },
	{ M_DOUBLE, 1700, -1, "22.2222", "22.2222" },
	{ M_DOUBLE, 1700, -1, "10000000", "1.0E7" },
	{ M_DOUBLE, 1700, -1, "0.0001", "1.0E-4" },
	{ M_DOUBLE, 1700, -1, "0.001", "0.001" },
	{ M_DOUBLE, 1700, -1, "-123456789.5", "-1.234567895E8" },
	{ M_DOUBLE, 1700, -1, "NaN", "\"NaN\"" },
	/* money: a Decimal of scale 2 (money.fraction.digits) */
	{ M_DEFAULT, 790, -1, "$1,234.11", "\"AeIT\"" },
	{ M_DEFAULT, 790, -1, "-$1,234.11", "\"/h3t\"" },
	{ M_STRING, 790, -1, "$1,234.11", "\"1234.11\"" },
	{ M_STRING, 790, -1, "-$0.50", "\"-0.50\"" },
	{ M_DOUBLE, 790, -1, "$1,234.11", "1234.11" },
	/* date: days since the epoch */
	{ M_DEFAULT, 1082, -1, "2016-11-04", "17109" },
	{ M_DEFAULT, 1082, -1, "1969-12-31", "-1" },
	{ M_CONNECT, 1082, -1, "2016-11-04", "17109" },
	/* bit(1) and varbit(1): boolean; bit(n): Bits, little-endian, as few bytes as the
	 * highest set bit needs (BitSet.toByteArray), bytes whatever the binary mode */
	{ M_DEFAULT, 1560, 1, "1", "true" },
	{ M_DEFAULT, 1562, 1, "0", "false" },
	{ M_DEFAULT, 1560, 3, "101", "\"BQ==\"" },
	{ M_DEFAULT, 1560, 9, "100000001", "\"AQE=\"" },
	{ M_DEFAULT, 1562, 16, "0000", "\"\"" },
	{ M_HEX, 1560, 3, "110", "\"Bg==\"" },
	{ M_DEFAULT, 1562, -1, "101", "\"101\"" },
	/* DateTimeFormat.date: infinity is -5877611-06-21, -infinity the day after */
	{ M_DEFAULT, 1082, -1, "infinity", "-2147472693" },
	{ M_DEFAULT, 1082, -1, "-infinity", "-2147472692" },
	/* time: MicroTime above precision 3, Time (ms) up to 3; connect: ms */
	{ M_DEFAULT, 1083, -1, "13:51:30", "49890000000" },
	{ M_DEFAULT, 1083, 3, "13:51:30.123", "49890123" },
	{ M_DEFAULT, 1083, -1, "24:00:00", "86400000000" },
	{ M_ADAPTIVE_US, 1083, 3, "13:51:30.123", "49890123000" },
	{ M_CONNECT, 1083, -1, "13:51:30.123456", "49890123" },
	/* timestamp: MicroTimestamp, Timestamp (ms) up to precision 3; connect: ms */
	{ M_DEFAULT, 1114, -1, "2016-11-04 13:51:30.123456", "1478267490123456" },
	{ M_DEFAULT, 1114, 3, "2016-11-04 13:51:30.123", "1478267490123" },
	{ M_DEFAULT, 1114, -1, "1936-10-25 22:10:12.608", "-1047174587392000" },
	{ M_DEFAULT, 1114, -1, "infinity", "9223372036825200000" },
	{ M_DEFAULT, 1114, -1, "-infinity", "-9223372036832400000" },
	{ M_CONNECT, 1114, -1, "2016-11-04 13:51:30.123456", "1478267490123" },
	{ M_ADAPTIVE_US, 1114, 3, "2016-11-04 13:51:30.123", "1478267490123" },
	/* timestamptz: ZonedTimestamp, UTC, the column's fraction digits */
	{ M_DEFAULT, 1184, -1, "2016-11-04 11:51:30.123456+00", "\"2016-11-04T11:51:30.123456Z\"" },
	{ M_DEFAULT, 1184, -1, "2016-11-04 13:51:30.123456+02", "\"2016-11-04T11:51:30.123456Z\"" },
	{ M_DEFAULT, 1184, -1, "21016-11-04 06:51:30+00", "\"+21016-11-04T06:51:30.000000Z\"" },
	{ M_DEFAULT, 1184, 3, "2016-11-04 11:51:30.1+00", "\"2016-11-04T11:51:30.100Z\"" },
	{ M_DEFAULT, 1184, 0, "2016-11-04 11:51:30+00", "\"2016-11-04T11:51:30Z\"" },
	{ M_DEFAULT, 1184, -1, "infinity", "\"infinity\"" },
	{ M_DEFAULT, 1184, -1, "-infinity", "\"-infinity\"" },
	/* timetz: ZonedTime in UTC */
	{ M_DEFAULT, 1266, -1, "13:51:30.123789+02", "\"11:51:30.123789Z\"" },
	{ M_DEFAULT, 1266, 3, "13:51:30.123+02", "\"11:51:30.123Z\"" },
	{ M_DEFAULT, 1266, -1, "00:30:00+01", "\"23:30:00Z\"" },
	{ M_DEFAULT, 1266, -1, "23:30:00-01:30", "\"01:00:00Z\"" },
	/* interval: MicroDuration (365.25 / 12-day months), or every component */
	{ M_DEFAULT, 1186, -1, "P1Y2M3DT4H5M6.78S", "37091106780000" },
	{ M_DEFAULT, 1186, -1, "PT-0.000001S", "-1" },
	{ M_DEFAULT, 1186, -1, "P1M", "2629800000000" },
	{ M_IVSTRING, 1186, -1, "P1Y2M3DT4H5M6.78S", "\"P1Y2M3DT4H5M6.78S\"" },
	{ M_IVSTRING, 1186, -1, "P3D", "\"P0Y0M3DT0H0M0S\"" },
	{ M_IVSTRING, 1186, -1, "P-1Y-2MT-6.500S", "\"P-1Y-2M0DT0H0M-6.5S\"" },
	/* bytea under binary_handling_mode */
	{ M_DEFAULT, 17, -1, "\\x010203", "\"AQID\"" },
	{ M_BASE64, 17, -1, "\\x010203", "\"AQID\"" },
	{ M_HEX, 17, -1, "\\x010203", "\"010203\"" },
	{ M_BASE64URL, 17, -1, "\\x3c2831302e302c32302e30292c31302e303e",
	  "\"PCgxMC4wLDIwLjApLDEwLjA-\"" },
	{ M_BASE64, 17, -1, "\\x3c2831302e302c32302e30292c31302e303e",
	  "\"PCgxMC4wLDIwLjApLDEwLjA+\"" },
	/* arrays: each element mapped */
	{ M_DEFAULT, 1182, -1, "{2016-11-04,2016-11-05,NULL}", "[17109,17110,null]" },
	{ M_DEFAULT, 1231, NUMERIC(10, 2), "{1.20,3.40}", "[\"eA==\",\"AVQ=\"]" },
	{ M_DEFAULT, 1007, -1, "{1,2,3}", "[1,2,3]" },
	/* the rest as in the pgcdc profile */
	{ M_DEFAULT, 23, -1, "123456", "123456" },
	{ M_DEFAULT, 701, -1, "NaN", "\"NaN\"" },
	{ M_DEFAULT, 16, -1, "t", "true" },
	{ M_DEFAULT, 2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	  "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"" },
	{ M_DEFAULT, 3802, -1, "{\"bar\": \"baz\"}", "\"{\\\"bar\\\": \\\"baz\\\"}\"" },
};

static struct json_opts
opts_for(int mode)
{
	struct json_opts o = { .name = "pgcdc", .db = "app", .version = "0.1.0", .debezium = true };

	switch (mode) {
	case M_STRING: o.decimal_mode = JSON_DECIMAL_STRING; break;
	case M_DOUBLE: o.decimal_mode = JSON_DECIMAL_DOUBLE; break;
	case M_ADAPTIVE_US: o.time_mode = JSON_TIME_ADAPTIVE_US; break;
	case M_CONNECT: o.time_mode = JSON_TIME_CONNECT; break;
	case M_IVSTRING: o.interval_string = true; break;
	case M_BASE64: o.binary_mode = JSON_BINARY_BASE64; break;
	case M_BASE64URL: o.binary_mode = JSON_BINARY_BASE64_URL; break;
	case M_HEX: o.binary_mode = JSON_BINARY_HEX; break;
	default: break;
	}
	return o;
}

static struct cdc_txn txn = {
	.xid = 748, .commit_lsn = 24023200, .end_lsn = 24023248,
	.commit_ts_us = INT64_C(1795341600123456), .prev_commit_lsn = 24023128,
};

/* The record of an insert of one row (id, c) with c of the case's type. */
static json_t *
encode_row(const struct json_opts *o, const struct cdc_change *ch)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_error_t jerr;
	json_t *j;

	cdc_err_clear(&err);
	if (json_envelope(&b, ch, NULL, o, INT64_C(1795341600150123456), &err) != 0)
		fail_msg("json_envelope: %s", err.msg);
	j = json_loadb(b.data, b.len, 0, &jerr);
	if (j == NULL)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int) b.len, b.data);
	jbuf_free(&b);
	return j;
}

static void
test_values(void **state)
{
	int failed = 0;

	(void) state;
	for (size_t k = 0; k < NELEM(cases); k++) {
		const struct dcase *t = &cases[k];
		struct cdc_column cols[] = { { "id", 23, -1, true, true, false, NULL },
		                             { "c", t->oid, t->typmod, false, false, false, NULL } };
		struct cdc_rel rel = { .oid = 16500, .schema = "public", .name = "t",
		                       .replident = 'd', .ncols = 2, .cols = cols, .version = 1,
		                       .npk = 1 };
		struct cdc_value vals[] = { { CDC_VAL_TEXT, 1, "1" },
		                            { CDC_VAL_TEXT, (uint32_t) strlen(t->in), t->in } };
		struct cdc_tuple tup = { 2, vals };
		struct cdc_change ch = { .op = 'c', .lsn = 24023184, .txn = &txn, .rel = &rel,
		                         .new_tuple = &tup };
		struct json_opts o = opts_for(t->mode);
		json_t *j = encode_row(&o, &ch), *got = json_object_get(json_object_get(j, "after"), "c");
		json_t *want = json_loads(t->out, JSON_DECODE_ANY, NULL);

		assert_non_null(want);
		if (got == NULL || !json_equal(got, want)) {
			char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;

			print_error("case %zu (oid %u, typmod %d, mode %d) %s: got %s, want %s\n", k,
			            t->oid, t->typmod, t->mode, t->in, g ? g : "(none)", t->out);
			free(g);
			failed++;
		}
		json_decref(want);
		json_decref(j);
	}
	assert_int_equal(failed, 0);
}

/* before as Debezium builds it; truncates skipped; keys mapped the same way */
static void
test_envelope(void **state)
{
	struct cdc_column cols[] = { { "id", 1700, NUMERIC(5, 0), true, true, false, NULL },
	                             { "v", 25, -1, false, false, false, NULL },
	                             { "d", 1082, -1, false, false, false, NULL } };
	struct cdc_rel rel = { .oid = 16500, .schema = "public", .name = "t", .replident = 'd',
	                       .ncols = 3, .cols = cols, .version = 1, .npk = 1 };
	struct cdc_value nv[] = { { CDC_VAL_TEXT, 2, "10" }, { CDC_VAL_TEXT, 1, "x" },
	                          { CDC_VAL_TEXT, 10, "2016-11-04" } };
	struct cdc_value kv[] = { { CDC_VAL_TEXT, 2, "10" }, { CDC_VAL_NULL, 0, NULL },
	                          { CDC_VAL_NULL, 0, NULL } };
	struct cdc_tuple ntup = { 3, nv }, ktup = { 3, kv };
	struct cdc_change upd = { .op = 'u', .lsn = 1, .txn = &txn, .rel = &rel, .new_tuple = &ntup };
	struct cdc_change del = { .op = 'd', .lsn = 2, .txn = &txn, .rel = &rel, .old_tuple = &ktup,
	                          .old_kind = 'K' };
	struct cdc_change tr = { .op = 't', .lsn = 3, .txn = &txn, .rel = &rel };
	struct json_opts o = opts_for(M_DEFAULT), plain = o;
	struct jbuf kb = { 0 };
	struct cdc_err err;
	json_t *j, *w;

	(void) state;
	/* an update that kept the key (identity default): no before */
	j = encode_row(&o, &upd);
	assert_true(json_is_null(json_object_get(j, "before")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "after"), "d")), 17109);
	json_decref(j);
	/* a delete: every column, those outside the key null */
	j = encode_row(&o, &del);
	w = json_loads("{\"id\":\"Cg==\",\"v\":null,\"d\":null}", 0, NULL);
	assert_true(json_equal(json_object_get(j, "before"), w));
	json_decref(w);
	json_decref(j);
	/* NOT NULL columns outside the key are never null in Debezium's before: the
	 * schema default, else the type's fallback (JdbcValueConverters.convertValue) */
	cols[1].notnull = true;
	cols[2].notnull = true;
	cols[2].defexpr = "'2016-11-04'::date";
	j = encode_row(&o, &del);
	w = json_loads("{\"id\":\"Cg==\",\"v\":\"\",\"d\":17109}", 0, NULL);
	assert_true(json_equal(json_object_get(j, "before"), w));
	json_decref(w);
	json_decref(j);
	cols[2].defexpr = NULL;
	j = encode_row(&o, &del);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "before"), "d")), 0);
	json_decref(j);
	cols[1].notnull = false;
	cols[2].notnull = false;
	/* every fallback is a value of the column's schema: bit(1) is a boolean, bit(n) Bits */
	{
		static const struct { uint32_t oid; int32_t typmod; const char *want; } fb[] = {
			{ 1560, 1, "false" }, { 1562, 1, "false" }, { 1560, 8, "\"\"" }, { 23, -1, "0" },
			{ 25, -1, "\"\"" }, { 1007, -1, "[]" }, { 16, -1, "false" },
		};

		for (size_t k = 0; k < NELEM(fb); k++) {
			struct cdc_column c = { "c", fb[k].oid, fb[k].typmod, false, false, true, NULL };
			struct jbuf fbuf = { 0 };

			connect_required_null(&fbuf, NULL, &c, &o);
			jbuf_putc(&fbuf, '\0');
			if (strcmp(fbuf.data, fb[k].want) != 0)
				fail_msg("fallback of type %u(%d): got %s, want %s", fb[k].oid, fb[k].typmod,
				         fbuf.data, fb[k].want);
			jbuf_free(&fbuf);
		}
	}
	/* the pgcdc profile keeps its before */
	plain.debezium = false;
	j = encode_row(&plain, &upd);
	w = json_loads("{\"id\":\"10\"}", 0, NULL);
	assert_true(json_equal(json_object_get(j, "before"), w));
	json_decref(w);
	json_decref(j);
	/* the key: the same mapping */
	cdc_err_clear(&err);
	assert_int_equal(json_key(&kb, &upd, NULL, &o, &err), 0);
	jbuf_putc(&kb, '\0');
	assert_string_equal(kb.data, "{\"id\":\"Cg==\"}");
	jbuf_free(&kb);
	/* truncates are skipped (skipped.operations = t), only in the profile */
	assert_true(json_skips(&o, &tr));
	assert_false(json_skips(&o, &upd));
	assert_false(json_skips(&plain, &tr));
}

/* ---- schemas = on: Kafka Connect's JsonConverter envelopes ---- */

/* Whether payload p is what JsonConverter reads back with schema s (its
 * toConnectData): every struct field of the schema present and no other, integers
 * in range, bytes as base64, nulls only where optional.  Says where it is not. */
static bool
conforms(const json_t *s, const json_t *p, const char *path)
{
	const char *type = json_string_value(json_object_get(s, "type"));
	bool optional = json_is_true(json_object_get(s, "optional"));

	if (type == NULL)
		return print_message("%s: schema without a type\n", path), false;
	if (json_is_null(p)) {
		if (!optional)
			print_message("%s: null in a required field\n", path);
		return optional;
	}
	if (strcmp(type, "struct") == 0) {
		const json_t *fields = json_object_get(s, "fields"), *f;
		size_t i;

		if (!json_is_object(p) || json_object_size(p) != json_array_size(fields))
			return print_message("%s: not a struct of %zu fields\n", path,
			                     json_array_size(fields)), false;
		json_array_foreach(fields, i, f) {
			const char *name = json_string_value(json_object_get(f, "field"));
			char sub[256];

			snprintf(sub, sizeof(sub), "%s.%s", path, name != NULL ? name : "?");
			if (name == NULL || json_object_get(p, name) == NULL)
				return print_message("%s: missing\n", sub), false;
			if (!conforms(f, json_object_get(p, name), sub))
				return false;
		}
		return true;
	}
	if (strcmp(type, "array") == 0) {
		const json_t *e;
		size_t i;

		if (!json_is_array(p))
			return print_message("%s: not an array\n", path), false;
		json_array_foreach(p, i, e)
			if (!conforms(json_object_get(s, "items"), e, path))
				return false;
		return true;
	}
	if (strcmp(type, "string") == 0 || strcmp(type, "bytes") == 0) {
		if (!json_is_string(p))
			return print_message("%s: not a string\n", path), false;
		if (type[0] == 'b')
			for (const char *c = json_string_value(p); *c != '\0'; c++)
				if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
				           *c) == NULL)
					return print_message("%s: not base64\n", path), false;
		return true;
	}
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(p) || (print_message("%s: not a boolean\n", path), false);
	if (strncmp(type, "float", 5) == 0)
		return json_is_number(p) || (print_message("%s: not a number\n", path), false);
	if (strncmp(type, "int", 3) == 0) {
		int bits = atoi(type + 3);
		json_int_t v = json_integer_value(p);

		if (!json_is_integer(p))
			return print_message("%s: not an integer\n", path), false;
		if (bits < 64 && (v >= ((json_int_t) 1 << (bits - 1)) || v < -((json_int_t) 1 << (bits - 1))))
			return print_message("%s: %lld out of %s\n", path, (long long) v, type), false;
		return true;
	}
	return print_message("%s: unknown type %s\n", path, type), false;
}

/* The field schema of column name in the "after" struct of a value schema. */
static const json_t *
field_schema(const json_t *value_schema, const char *name)
{
	const json_t *f, *c;
	size_t i, k;

	json_array_foreach(json_object_get(value_schema, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "field")), "after") == 0)
			json_array_foreach(json_object_get(f, "fields"), k, c)
				if (strcmp(json_string_value(json_object_get(c, "field")), name) == 0)
					return c;
	return NULL;
}

static void
assert_field_schema(const json_t *vs, const char *name, const char *want)
{
	const json_t *got = field_schema(vs, name);
	json_t *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (got == NULL || !json_equal(got, w)) {
		char *g = got != NULL ? json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		fail_msg("schema of %s: got %s, want %s", name, g != NULL ? g : "(none)", want);
	}
	json_decref(w);
}

struct scol {
	const char *name;
	uint32_t oid;
	int32_t typmod;
	bool notnull;
	const char *value;
	const char *schema;       /* expected field schema in the default modes */
};

static const struct scol scols[] = {
	{ "id", 23, -1, true, "7", "{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}" },
	{ "s", 21, -1, false, "-3", "{\"type\":\"int16\",\"optional\":true,\"field\":\"s\"}" },
	{ "big", 20, -1, false, "9007199254740993",
	  "{\"type\":\"int64\",\"optional\":true,\"field\":\"big\"}" },
	{ "o", 26, -1, false, "4000000000", "{\"type\":\"int64\",\"optional\":true,\"field\":\"o\"}" },
	{ "f4", 700, -1, false, "1.5", "{\"type\":\"float32\",\"optional\":true,\"field\":\"f4\"}" },
	{ "f8", 701, -1, false, "2.25", "{\"type\":\"float64\",\"optional\":true,\"field\":\"f8\"}" },
	{ "flag", 16, -1, false, "t", "{\"type\":\"boolean\",\"optional\":true,\"field\":\"flag\"}" },
	{ "txt", 25, -1, true, "hi", "{\"type\":\"string\",\"optional\":false,\"field\":\"txt\"}" },
	{ "amount", 1700, NUMERIC(10, 2), true, "12.50",
	  "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\","
	  "\"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},"
	  "\"field\":\"amount\"}" },
	{ "n", 1700, -1, false, "10.1111",
	  "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
	  "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],\"optional\":true,"
	  "\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
	  "\"doc\":\"Variable scaled decimal\",\"field\":\"n\"}" },
	{ "m", 790, -1, false, "$1,234.11",
	  "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\","
	  "\"version\":1,\"parameters\":{\"scale\":\"2\"},\"field\":\"m\"}" },
	{ "d", 1082, -1, false, "2016-11-04",
	  "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Date\",\"version\":1,"
	  "\"field\":\"d\"}" },
	{ "t3", 1083, 3, false, "13:51:30.123",
	  "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Time\",\"version\":1,"
	  "\"field\":\"t3\"}" },
	{ "t", 1083, -1, false, "13:51:30.123456",
	  "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTime\",\"version\":1,"
	  "\"field\":\"t\"}" },
	{ "ts3", 1114, 3, false, "2016-11-04 13:51:30.123",
	  "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.Timestamp\",\"version\":1,"
	  "\"field\":\"ts3\"}" },
	{ "ts", 1114, -1, false, "2016-11-04 13:51:30.123456",
	  "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTimestamp\","
	  "\"version\":1,\"field\":\"ts\"}" },
	{ "tz", 1184, -1, false, "2016-11-04 13:51:30.123456+00",
	  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.ZonedTimestamp\","
	  "\"version\":1,\"field\":\"tz\"}" },
	{ "ttz", 1266, -1, false, "13:51:30+02",
	  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.ZonedTime\",\"version\":1,"
	  "\"field\":\"ttz\"}" },
	{ "iv", 1186, -1, false, "P1Y2M3DT4H5M6.78S",
	  "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroDuration\","
	  "\"version\":1,\"field\":\"iv\"}" },
	{ "u", 2950, -1, false, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Uuid\",\"version\":1,"
	  "\"field\":\"u\"}" },
	{ "j", 3802, -1, false, "{\"a\": 1}",
	  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\",\"version\":1,"
	  "\"field\":\"j\"}" },
	{ "x", 142, -1, false, "<a/>",
	  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Xml\",\"version\":1,"
	  "\"field\":\"x\"}" },
	{ "b", 17, -1, false, "\\x010203", "{\"type\":\"bytes\",\"optional\":true,\"field\":\"b\"}" },
	{ "arr", 1007, -1, false, "{1,NULL,3}",
	  "{\"type\":\"array\",\"items\":{\"type\":\"int32\",\"optional\":true},\"optional\":true,"
	  "\"field\":\"arr\"}" },
	{ "nul", 25, -1, false, NULL, "{\"type\":\"string\",\"optional\":true,\"field\":\"nul\"}" },
	{ "bt", 1560, 12, false, "101000000001",
	  "{\"type\":\"bytes\",\"optional\":true,\"name\":\"io.debezium.data.Bits\",\"version\":1,"
	  "\"parameters\":{\"length\":\"12\"},\"field\":\"bt\"}" },
	{ "b1", 1562, 1, false, "1", "{\"type\":\"boolean\",\"optional\":true,\"field\":\"b1\"}" },
};

#define NSCOLS (sizeof(scols) / sizeof(scols[0]))

static json_t *
encode_key(const struct json_opts *o, const struct cdc_change *ch)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_t *j;

	cdc_err_clear(&err);
	if (json_key(&b, ch, NULL, o, &err) != 0)
		fail_msg("json_key: %s", err.msg);
	j = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(j);
	jbuf_free(&b);
	return j;
}

static void
test_schemas(void **state)
{
	struct cdc_column cols[NSCOLS];
	struct cdc_value vals[NSCOLS];
	struct cdc_rel rel = { .oid = 16500, .schema = "public", .name = "orders", .replident = 'd',
	                       .ncols = (int) NSCOLS, .cols = cols, .version = 1, .npk = 1 };
	struct cdc_tuple tup = { (int) NSCOLS, vals };
	struct cdc_change ins = { .op = 'c', .lsn = 24023184, .txn = &txn, .rel = &rel,
	                          .new_tuple = &tup };
	struct cdc_change del = { .op = 'd', .lsn = 24023190, .txn = &txn, .rel = &rel,
	                          .old_tuple = &tup, .old_kind = 'O' };
	static const char *const modes_want[][3] = {
		/* mode-dependent field schemas: column, mode, expected */
		{ "amount", "S", "{\"type\":\"string\",\"optional\":false,\"field\":\"amount\"}" },
		{ "m", "D", "{\"type\":\"float64\",\"optional\":true,\"field\":\"m\"}" },
		{ "d", "C", "{\"type\":\"int32\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Date\","
		            "\"version\":1,\"field\":\"d\"}" },
		{ "t", "C", "{\"type\":\"int32\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Time\","
		            "\"version\":1,\"field\":\"t\"}" },
		{ "ts", "C", "{\"type\":\"int64\",\"optional\":true,"
		             "\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,\"field\":\"ts\"}" },
		{ "t3", "U", "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTime\","
		             "\"version\":1,\"field\":\"t3\"}" },
		{ "iv", "I", "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.Interval\","
		             "\"version\":1,\"field\":\"iv\"}" },
		{ "b", "B", "{\"type\":\"string\",\"optional\":true,\"field\":\"b\"}" },
		{ "b", "H", "{\"type\":\"string\",\"optional\":true,\"field\":\"b\"}" },
	};
	static const struct { char code; int mode; } mode_of[] = {
		{ 'S', M_STRING }, { 'D', M_DOUBLE }, { 'C', M_CONNECT }, { 'U', M_ADAPTIVE_US },
		{ 'I', M_IVSTRING }, { 'B', M_BASE64 }, { 'H', M_HEX }, { 'X', M_BASE64URL },
	};
	json_t *j, *k, *ws;
	const json_t *vs, *f;
	size_t i;

	(void) state;
	for (i = 0; i < NSCOLS; i++) {
		cols[i] = (struct cdc_column) { (char *) scols[i].name, scols[i].oid, scols[i].typmod,
		                                i == 0, i == 0, scols[i].notnull, NULL };
		vals[i] = scols[i].value == NULL
		          ? (struct cdc_value) { CDC_VAL_NULL, 0, NULL }
		          : (struct cdc_value) { CDC_VAL_TEXT, (uint32_t) strlen(scols[i].value),
		                                 scols[i].value };
	}
	for (size_t m = 0; m < NELEM(mode_of); m++) {
		struct json_opts o = opts_for(mode_of[m].mode);

		o.schemas = true;
		for (int c = 0; c < 2; c++) {
			j = encode_row(&o, c == 0 ? &ins : &del);
			if (!conforms(json_object_get(j, "schema"), json_object_get(j, "payload"), "value"))
				fail_msg("mode %c: the payload does not conform to its schema", mode_of[m].code);
			json_decref(j);
		}
		k = encode_key(&o, &ins);
		assert_true(conforms(json_object_get(k, "schema"), json_object_get(k, "payload"), "key"));
		json_decref(k);
		j = encode_row(&o, &ins);
		for (size_t w = 0; w < NELEM(modes_want); w++)
			if (modes_want[w][1][0] == mode_of[m].code)
				assert_field_schema(json_object_get(j, "schema"), modes_want[w][0], modes_want[w][2]);
		json_decref(j);
	}

	{
		struct json_opts o = opts_for(M_DEFAULT);

		o.schemas = true;
		j = encode_row(&o, &ins);
		vs = json_object_get(j, "schema");
		for (i = 0; i < NSCOLS; i++)
			assert_field_schema(vs, scols[i].name, scols[i].schema);
		/* the envelope: Debezium 3's names, version and field order */
		assert_string_equal(json_string_value(json_object_get(vs, "name")),
		                    "pgcdc.public.orders.Envelope");
		assert_int_equal(json_integer_value(json_object_get(vs, "version")), 2);
		assert_true(json_is_false(json_object_get(vs, "optional")));
		{
			static const char *const order[] = { "before", "after", "source", "transaction", "op",
			                                     "ts_ms", "ts_us", "ts_ns" };
			const char *key;
			json_t *v;
			size_t n = 0;

			assert_int_equal(json_array_size(json_object_get(vs, "fields")), NELEM(order));
			json_array_foreach(json_object_get(vs, "fields"), i, f)
				assert_string_equal(json_string_value(json_object_get(f, "field")), order[i]);
			/* the payload in the same order (JsonConverter writes it so) */
			json_object_foreach(json_object_get(j, "payload"), key, v) {
				(void) v;
				assert_string_equal(key, order[n++]);
			}
		}
		f = json_array_get(json_object_get(vs, "fields"), 0);
		assert_string_equal(json_string_value(json_object_get(f, "name")), "pgcdc.public.orders.Value");
		assert_true(json_is_true(json_object_get(f, "optional")));
		f = json_array_get(json_object_get(vs, "fields"), 2);
		assert_string_equal(json_string_value(json_object_get(f, "name")),
		                    "io.debezium.connector.postgresql.Source");
		ws = json_loads("{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
		                "\"version\":1,\"parameters\":{\"allowed\":\"true,first,"
		                "first_in_data_collection,last_in_data_collection,last,false,incremental\"},"
		                "\"default\":\"false\",\"field\":\"snapshot\"}", 0, NULL);
		assert_true(json_equal(json_array_get(json_object_get(f, "fields"), 4), ws));
		json_decref(ws);
		f = json_array_get(json_object_get(vs, "fields"), 3);
		assert_string_equal(json_string_value(json_object_get(f, "name")), "event.block");
		json_decref(j);

		/* column defaults as Debezium's PostgresDefaultValueConverter reads them: a
		 * literal mapped as the column's values, a function its placeholder, a struct
		 * (VariableScaleDecimal) or an unsupported type none */
		{
			static const char *const defs[][3] = {
				{ "id", "nextval('orders_id_seq'::regclass)", "0" },
				{ "s", "'-3'::smallint", "-3" },
				{ "big", "NULL::bigint", NULL },
				{ "flag", "true", "true" },
				{ "txt", "'it''s'::text", "\"it's\"" },
				{ "amount", "12.5", "\"BOI=\"" },
				{ "n", "1.5", NULL },
				{ "m", "'$1.00'::money", NULL },
				{ "d", "'2016-11-04'::date", "17109" },
				{ "ts", "now()", "0" },
				{ "t", "CURRENT_TIME", "0" },
				{ "u", "gen_random_uuid()", "\"00000000-0000-0000-0000-000000000000\"" },
				{ "j", "'{\"a\": 1}'::jsonb", "\"{\\\"a\\\": 1}\"" },
				{ "b", "'\\x00'::bytea", NULL },
				{ "arr", "'{1}'::integer[]", NULL },
				{ "iv", "'P1D'::interval", "86400000000" },
				{ "f8", "(1.5 + 1)", NULL },
			};
			json_t *d;

			for (i = 0; i < NELEM(defs); i++)
				for (size_t c = 0; c < NSCOLS; c++)
					if (strcmp(cols[c].name, defs[i][0]) == 0)
						cols[c].defexpr = (char *) defs[i][1];
			d = encode_row(&o, &ins);
			assert_true(conforms(json_object_get(d, "schema"), json_object_get(d, "payload"), "value"));
			for (i = 0; i < NELEM(defs); i++) {
				const json_t *got = json_object_get(field_schema(json_object_get(d, "schema"), defs[i][0]),
				                                    "default");
				char *g = got != NULL ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

				if (defs[i][2] == NULL ? got != NULL : g == NULL || strcmp(g, defs[i][2]) != 0)
					fail_msg("default of %s (%s): got %s, want %s", defs[i][0], defs[i][1],
					         g != NULL ? g : "none", defs[i][2] != NULL ? defs[i][2] : "none");
				free(g);
			}
			/* JsonConverter's key order: ..., parameters, default, field */
			{
				struct jbuf raw = { 0 };
				struct cdc_err e;

				cdc_err_clear(&e);
				assert_int_equal(json_envelope(&raw, &ins, NULL, &o, 0, &e), 0);
				jbuf_putc(&raw, '\0');
				assert_non_null(strstr(raw.data, "\"parameters\":{\"scale\":\"2\","
				                                  "\"connect.decimal.precision\":\"10\"},"
				                                  "\"default\":\"BOI=\",\"field\":\"amount\"}"));
				jbuf_free(&raw);
			}
			json_decref(d);
			for (i = 0; i < NSCOLS; i++)
				cols[i].defexpr = NULL;
		}

		/* the key: only the key columns, required, named .Key */
		k = encode_key(&o, &ins);
		ws = json_loads("{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\","
		                "\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
		                "\"name\":\"pgcdc.public.orders.Key\"},\"payload\":{\"id\":7}}", 0, NULL);
		assert_true(json_equal(k, ws));
		json_decref(ws);
		json_decref(k);
	}
}

/* The Debezium profile's message record: MessageValue {op, ts_ms, source,
 * transaction, message}, the content by binary_handling_mode; with schemas. */
static void
test_message_record(void **state)
{
	static const uint8_t content[] = { 0xfb, 0xff, 'a' };
	struct cdc_message msg = { .prefix = "outbox", .content = content, .len = sizeof(content),
	                           .transactional = true };
	struct cdc_change ch = { .op = 'm', .lsn = 24023184, .txn = &txn, .msg = &msg };
	struct json_opts o = opts_for(M_DEFAULT);
	json_t *j, *w, *k;
	const char *key;
	json_t *v;
	size_t n = 0;
	static const char *const order[] = { "op", "ts_ms", "source", "transaction", "message" };

	(void) state;
	j = encode_row(&o, &ch);
	json_object_foreach(j, key, v) {
		(void) v;
		assert_true(n < NELEM(order));
		assert_string_equal(key, order[n++]);
	}
	assert_int_equal(n, NELEM(order));
	w = json_loads("{\"prefix\":\"outbox\",\"content\":\"+/9h\"}", 0, NULL);
	assert_true(json_equal(json_object_get(j, "message"), w));
	json_decref(w);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "source"), "table")), "");
	json_decref(j);
	o = opts_for(M_BASE64URL);
	j = encode_row(&o, &ch);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "message"), "content")),
	                    "-_9h");
	json_decref(j);
	o = opts_for(M_HEX);
	o.schemas = true;
	j = encode_row(&o, &ch);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "payload"),
	                    "message"), "content")), "fbff61");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "schema"), "name")),
	                    "io.debezium.connector.postgresql.MessageValue");
	assert_true(conforms(json_object_get(j, "schema"), json_object_get(j, "payload"), "message"));
	json_decref(j);
	k = encode_key(&o, &ch);
	w = json_loads("{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,"
	               "\"field\":\"prefix\"}],\"optional\":false,"
	               "\"name\":\"io.debezium.connector.postgresql.MessageKey\",\"version\":1},"
	               "\"payload\":{\"prefix\":\"outbox\"}}", 0, NULL);
	assert_true(json_equal(k, w));
	json_decref(w);
	json_decref(k);
}

/* An unchanged TOASTed value is Debezium's placeholder in the column's own type. */
static void
test_unchanged_toast(void **state)
{
	struct cdc_column cols[] = {
		{ "id", 23, -1, true, true, true, NULL }, { "b", 17, -1, false, false, false, NULL },
		{ "ta", 1009, -1, false, false, false, NULL }, { "ia", 1007, -1, false, false, false, NULL },
		{ "ua", 2951, -1, false, false, false, NULL }, { "j", 3802, -1, false, false, false, NULL },
		{ "ba", 1001, -1, false, false, false, NULL }, { "la", 1016, -1, false, false, false, NULL },
	};
	struct cdc_value vals[8];
	struct cdc_rel rel = { .oid = 16500, .schema = "public", .name = "t", .replident = 'd',
	                       .ncols = 8, .cols = cols, .version = 1, .npk = 1 };
	struct cdc_tuple tup = { 8, vals };
	struct cdc_change upd = { .op = 'u', .lsn = 1, .txn = &txn, .rel = &rel, .new_tuple = &tup };
	struct json_opts o = opts_for(M_DEFAULT);
	json_t *j, *w;
	static const char ints[] = "[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,"
	                           "108,97,98,108,101,95,118,97,108,117,101]";
	char want[1024];

	(void) state;
	vals[0] = (struct cdc_value) { CDC_VAL_TEXT, 1, "1" };
	for (int i = 1; i < 8; i++)
		vals[i] = (struct cdc_value) { CDC_VAL_UNCHANGED, 0, NULL };
	snprintf(want, sizeof(want), "{\"id\":1,\"b\":\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\","
	         "\"ta\":[\"__debezium_unavailable_value\"],\"ia\":%s,"
	         "\"ua\":[\"b68a35a7-17ad-35b3-af2a-ae46edb4545a\"],\"j\":\"__debezium_unavailable_value\","
	         "\"ba\":[\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"],\"la\":%s}", ints, ints);
	j = encode_row(&o, &upd);
	w = json_loads(want, 0, NULL);
	assert_non_null(w);
	if (!json_equal(json_object_get(j, "after"), w)) {
		char *g = json_dumps(json_object_get(j, "after"), JSON_COMPACT | JSON_PRESERVE_ORDER);

		fail_msg("after: %s", g);
	}
	json_decref(w);
	json_decref(j);
	o.schemas = true;
	j = encode_row(&o, &upd);
	assert_true(conforms(json_object_get(j, "schema"), json_object_get(j, "payload"), "value"));
	json_decref(j);
	o = opts_for(M_HEX);
	j = encode_row(&o, &upd);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "after"), "b")),
	                    "5f5f646562657a69756d5f756e617661696c61626c655f76616c7565");
	json_decref(j);
	/* the pgcdc profile: the string, whatever the type */
	o.debezium = false;
	j = encode_row(&o, &upd);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "after"), "ia")),
	                    "__debezium_unavailable_value");
	json_decref(j);
}

/* Enums: io.debezium.data.Enum with the labels allowed (arrays of them with
 * required elements), a literal default; the values their label. */
static void
test_enum_schema(void **state)
{
	struct cdc_types *types = types_new();
	struct cdc_column cols[] = {
		{ "id", 23, -1, true, true, true, NULL },
		{ "m", 16600, -1, false, false, true, "'ok'::mood" },
		{ "ms", 16601, -1, false, false, false, NULL },
	};
	struct cdc_value vals[] = { { CDC_VAL_TEXT, 1, "1" }, { CDC_VAL_TEXT, 5, "happy" },
	                            { CDC_VAL_TEXT, 8, "{sad,ok}" } };
	struct cdc_rel rel = { .oid = 16500, .schema = "public", .name = "t", .replident = 'd',
	                       .ncols = 3, .cols = cols, .version = 1, .npk = 1 };
	struct cdc_tuple tup = { 3, vals };
	struct cdc_change ins = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &rel, .new_tuple = &tup };
	struct json_opts o = opts_for(M_DEFAULT);
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_t *j;

	(void) state;
	assert_int_equal(types_add(types, 16600, 'e', 0, 0, ',', "mood"), 0);
	assert_int_equal(types_add(types, 16601, 'b', 0, 16600, ',', "_mood"), 0);
	assert_null(types_labels(types, 16600));
	assert_int_equal(types_set_labels(types, 16600, "sad,ok,happy"), 0);
	o.schemas = true;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ins, types, &o, 0, &err), 0);
	j = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(j);
	assert_field_schema(json_object_get(j, "schema"), "m",
	                    "{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Enum\","
	                    "\"version\":1,\"parameters\":{\"allowed\":\"sad,ok,happy\"},\"default\":\"ok\","
	                    "\"field\":\"m\"}");
	assert_field_schema(json_object_get(j, "schema"), "ms",
	                    "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false,"
	                    "\"name\":\"io.debezium.data.Enum\",\"version\":1,"
	                    "\"parameters\":{\"allowed\":\"sad,ok,happy\"}},\"optional\":true,\"field\":\"ms\"}");
	assert_true(conforms(json_object_get(j, "schema"), json_object_get(j, "payload"), "value"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "payload"),
	                    "after"), "m")), "happy");
	json_decref(j);

	/* hstore (hstore.handling.mode = json): a JSON object in an io.debezium.data.Json string */
	{
		static const char hs[] = "\"a\"=>\"1\", \"b\\\"q\"=>NULL, \"c\"=>\"x\\\\y\"";
		struct cdc_column hcols[] = { { "id", 23, -1, true, true, true, NULL },
		                              { "h", 16700, -1, false, false, false, NULL } };
		struct cdc_value hv[] = { { CDC_VAL_TEXT, 1, "1" },
		                          { CDC_VAL_TEXT, sizeof(hs) - 1, hs } };
		struct cdc_rel hrel = { .oid = 16501, .schema = "public", .name = "h", .replident = 'd',
		                        .ncols = 2, .cols = hcols, .version = 1, .npk = 1 };
		struct cdc_tuple htup = { 2, hv };
		struct cdc_change hins = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &hrel,
		                           .new_tuple = &htup };

		assert_int_equal(types_add(types, 16700, 'b', 0, 0, ',', "hstore"), 0);
		jbuf_reset(&b);
		assert_int_equal(json_envelope(&b, &hins, types, &o, 0, &err), 0);
		j = json_loadb(b.data, b.len, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j,
		                    "payload"), "after"), "h")), "{\"a\":\"1\",\"b\\\"q\":null,\"c\":\"x\\\\y\"}");
		assert_field_schema(json_object_get(j, "schema"), "h",
		                    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\","
		                    "\"version\":1,\"field\":\"h\"}");
		json_decref(j);
	}
	jbuf_free(&b);
	types_free(types);
}

/* The transaction topic's records with schemas. */
static void
test_tx_schemas(void **state)
{
	struct json_tx_count counts[] = { { "public.orders", 2 } };
	struct jbuf k = { 0 }, v = { 0 };
	struct cdc_err err;
	json_t *jk, *jv;

	(void) state;
	cdc_err_clear(&err);
	for (int end = 0; end < 2; end++) {
		jbuf_reset(&k);
		jbuf_reset(&v);
		assert_int_equal(json_tx_event(&k, &v, 748, 24023300, INT64_C(1795341600123456),
		                               end ? counts : NULL, 1, 2, true, &err), 0);
		jk = json_loadb(k.data, k.len, 0, NULL);
		jv = json_loadb(v.data, v.len, 0, NULL);
		assert_non_null(jk);
		assert_non_null(jv);
		assert_string_equal(json_string_value(json_object_get(json_object_get(jk, "schema"), "name")),
		                    "io.debezium.connector.common.TransactionMetadataKey");
		assert_string_equal(json_string_value(json_object_get(json_object_get(jv, "schema"), "name")),
		                    "io.debezium.connector.common.TransactionMetadataValue");
		assert_true(conforms(json_object_get(jk, "schema"), json_object_get(jk, "payload"), "txkey"));
		assert_true(conforms(json_object_get(jv, "schema"), json_object_get(jv, "payload"), "txvalue"));
		json_decref(jk);
		json_decref(jv);
	}
	jbuf_free(&k);
	jbuf_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_schemas),
		cmocka_unit_test(test_message_record),
		cmocka_unit_test(test_tx_schemas),
		cmocka_unit_test(test_unchanged_toast),
		cmocka_unit_test(test_enum_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
