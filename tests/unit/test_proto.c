/*
 * test_proto.c — the protobuf encoding of a change (decoder/proto.c).
 *
 * Every encoded record is unpacked with the protobuf-c code generated from
 * decoder/pgcdc.proto and checked field by field: typed values (int64, double, bool,
 * bytes), strings that must equal the JSON format's (timestamps, intervals, numeric),
 * arrays as the JSON format's text, the before/after rules, the source block, and
 * errors for text a type cannot have.  Inputs are PostgreSQL 15's text output under
 * pgcdc's session settings.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder/change.h"
#include "decoder/json.h"
#include "decoder/pgcdc.pb-c.h"
#include "decoder/proto.h"
#include "decoder/types.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct json_opts opts = {
	.name = "pfx", .db = "app", .version = "0.1.0",
};

/* A relation with up to 16 columns and a tuple to go with it. */
struct fx {
	struct cdc_column cols[16];
	struct cdc_rel rel;
	struct cdc_value newv[16], oldv[16];
	struct cdc_tuple newt, oldt;
	struct cdc_txn txn;
	struct cdc_change ch;
	struct proto_enc *e;
};

static void
fx_init(struct fx *f, char op)
{
	memset(f, 0, sizeof(*f));
	f->rel.oid = 16400;
	f->rel.schema = "public";
	f->rel.name = "t";
	f->rel.replident = 'd';
	f->rel.cols = f->cols;
	f->newt.vals = f->newv;
	f->oldt.vals = f->oldv;
	f->txn.xid = 748;
	f->txn.commit_lsn = 24023184;
	f->txn.end_lsn = 24023232;
	f->txn.commit_ts_us = INT64_C(1795341600123456);
	f->txn.prev_commit_lsn = 24023128;
	f->ch.op = op;
	f->ch.lsn = 24023100;
	f->ch.txn = &f->txn;
	f->ch.rel = &f->rel;
	f->ch.new_tuple = &f->newt;
	f->e = proto_enc_new();
	assert_non_null(f->e);
}

/* Add column name/oid with new-row text value (NULL text: SQL NULL). */
static void
col(struct fx *f, const char *name, uint32_t oid, bool key, const char *text)
{
	int i = f->rel.ncols++;

	f->cols[i].name = (char *) name;
	f->cols[i].type_oid = oid;
	f->cols[i].key = key;
	f->cols[i].pk = key;
	if (key)
		f->rel.npk++;
	f->newv[i].kind = text ? CDC_VAL_TEXT : CDC_VAL_NULL;
	f->newv[i].data = text;
	f->newv[i].len = text ? (uint32_t) strlen(text) : 0;
	f->newt.ncols = f->rel.ncols;
}

/* Encode and unpack; the caller frees with pgcdc__v1__change__free_unpacked. */
static Pgcdc__V1__Change *
encode(struct fx *f, const struct json_opts *o)
{
	struct cdc_err err = { 0 };
	const uint8_t *out;
	size_t len;
	Pgcdc__V1__Change *m;
	int rc = proto_encode(f->e, &f->ch, NULL, o, INT64_C(1795341600150123456), &out, &len, &err);

	if (rc != 0)
		fail_msg("proto_encode: %d %s", rc, err.msg);
	m = pgcdc__v1__change__unpack(NULL, len, out);
	assert_non_null(m);
	return m;
}

static const Pgcdc__V1__Column *
find(const Pgcdc__V1__Row *r, const char *name)
{
	assert_non_null(r);
	for (size_t i = 0; i < r->n_columns; i++)
		if (strcmp(r->columns[i]->name, name) == 0)
			return r->columns[i];
	fail_msg("column %s missing", name);
	return NULL;
}

static void
test_typed_values(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;
	const Pgcdc__V1__Column *c;

	fx_init(&f, CDC_OP_CREATE);
	col(&f, "id", CDC_OID_INT4, true, "1");
	col(&f, "i8max", CDC_OID_INT8, false, "9223372036854775807");
	col(&f, "i8min", CDC_OID_INT8, false, "-9223372036854775808");
	col(&f, "o", CDC_OID_OID, false, "4294967295");
	col(&f, "f8", CDC_OID_FLOAT8, false, "1.1");
	col(&f, "f4", CDC_OID_FLOAT4, false, "-0.000125");
	col(&f, "nan", CDC_OID_FLOAT8, false, "NaN");
	col(&f, "inf", CDC_OID_FLOAT8, false, "-Infinity");
	col(&f, "b", CDC_OID_BOOL, false, "t");
	col(&f, "by", CDC_OID_BYTEA, false, "\\x00ff10");
	col(&f, "bye", CDC_OID_BYTEA, false, "\\x");
	col(&f, "n", CDC_OID_NUMERIC, false, "-12.50");
	col(&f, "t", CDC_OID_TEXT, false, "h\xc3\xa9llo \"q\"\n");
	col(&f, "nul", CDC_OID_TEXT, false, NULL);
	col(&f, "empty", CDC_OID_TEXT, false, "");
	m = encode(&f, &opts);

	assert_int_equal(m->op, PGCDC__V1__OP__OP_CREATE);
	assert_null(m->before);
	assert_int_equal(m->after->n_columns, 15);
	c = find(m->after, "id");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_INT_VALUE);
	assert_int_equal(c->int_value, 1);
	assert_true(find(m->after, "i8max")->int_value == INT64_MAX);
	assert_true(find(m->after, "i8min")->int_value == INT64_MIN);
	assert_true(find(m->after, "o")->int_value == 4294967295LL);
	c = find(m->after, "f8");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_DOUBLE_VALUE);
	assert_true(c->double_value == 1.1);
	assert_true(find(m->after, "f4")->double_value == -0.000125);
	assert_true(isnan(find(m->after, "nan")->double_value));
	assert_true(isinf(find(m->after, "inf")->double_value) && find(m->after, "inf")->double_value < 0);
	c = find(m->after, "b");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_BOOL_VALUE);
	assert_true(c->bool_value);
	c = find(m->after, "by");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_BYTES_VALUE);
	assert_int_equal(c->bytes_value.len, 3);
	assert_memory_equal(c->bytes_value.data, "\x00\xff\x10", 3);
	c = find(m->after, "bye");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_BYTES_VALUE);
	assert_int_equal(c->bytes_value.len, 0);
	c = find(m->after, "n");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_STRING_VALUE);
	assert_string_equal(c->string_value, "-12.50");
	assert_string_equal(find(m->after, "t")->string_value, "h\xc3\xa9llo \"q\"\n");
	assert_int_equal(find(m->after, "nul")->value_case, PGCDC__V1__COLUMN__VALUE_NULL_VALUE);
	c = find(m->after, "empty");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_STRING_VALUE);
	assert_string_equal(c->string_value, "");
	assert_true(m->ts_ms == 1795341600150);
	assert_true(m->ts_us == INT64_C(1795341600150123));
	assert_true(m->ts_ns == INT64_C(1795341600150123456));
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

/* Strings derived like the JSON format's: both formats give the same text. */
static void
test_strings_as_json(void **state)
{
	static const struct {
		uint32_t oid;
		const char *in, *want;
	} cases[] = {
		{ CDC_OID_TIMESTAMP, "2026-11-22 10:00:00.5", "2026-11-22T10:00:00.5" },
		{ CDC_OID_TIMESTAMPTZ, "2026-11-22 12:00:00+02", "2026-11-22T10:00:00Z" },
		{ CDC_OID_TIMESTAMPTZ, "infinity", "infinity" },
		{ CDC_OID_DATE, "2026-11-22", "2026-11-22" },
		{ CDC_OID_DATE, "0044-03-15 BC", "0044-03-15 BC" },
		{ CDC_OID_TIME, "10:00:00.123456", "10:00:00.123456" },
		{ CDC_OID_INTERVAL, "P1Y2M3DT4H5M6.5S", "P1Y2M3DT4H5M6.5S" },
		{ CDC_OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" },
		{ CDC_OID_JSONB, "{\"a\": [1, 2]}", "{\"a\": [1, 2]}" },
		{ CDC_OID_MONEY, "$12.34", "$12.34" },
		{ CDC_OID_NUMERIC, "NaN", "NaN" },
		{ 600 /* point */, "(1,2)", "(1,2)" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fx f;
		Pgcdc__V1__Change *m;
		const Pgcdc__V1__Column *c;

		fx_init(&f, CDC_OP_CREATE);
		col(&f, "v", cases[i].oid, false, cases[i].in);
		m = encode(&f, &opts);
		c = find(m->after, "v");
		assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_STRING_VALUE);
		if (strcmp(c->string_value, cases[i].want) != 0)
			fail_msg("oid %u '%s': got '%s', want '%s'", cases[i].oid, cases[i].in,
			         c->string_value, cases[i].want);
		pgcdc__v1__change__free_unpacked(m, NULL);
		proto_enc_free(f.e);
	}
}

static void
test_arrays_as_json_text(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;
	const Pgcdc__V1__Column *c;

	fx_init(&f, CDC_OP_CREATE);
	col(&f, "ai", 1007 /* int4[] */, false, "{1,NULL,3}");
	col(&f, "at", 1009 /* text[] */, false, "{\"a b\",\"c\\\"d\",NULL}");
	col(&f, "ab", 1001 /* bytea[] */, false, "{\"\\\\x00ff\"}");
	m = encode(&f, &opts);
	c = find(m->after, "ai");
	assert_int_equal(c->value_case, PGCDC__V1__COLUMN__VALUE_ARRAY_JSON);
	assert_string_equal(c->array_json, "[1,null,3]");
	assert_string_equal(find(m->after, "at")->array_json, "[\"a b\",\"c\\\"d\",null]");
	assert_string_equal(find(m->after, "ab")->array_json, "[\"AP8=\"]");
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

static void
test_source_block(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;

	fx_init(&f, CDC_OP_CREATE);
	col(&f, "id", CDC_OID_INT4, true, "1");
	m = encode(&f, &opts);
	assert_string_equal(m->source->version, "0.1.0");
	assert_string_equal(m->source->connector, "postgresql");
	assert_string_equal(m->source->name, "pfx");
	assert_string_equal(m->source->db, "app");
	assert_string_equal(m->source->schema, "public");
	assert_string_equal(m->source->table, "t");
	assert_string_equal(m->source->snapshot, "false");
	assert_string_equal(m->source->sequence, "[\"24023128\",\"24023100\"]");
	assert_true(m->source->ts_ms == 1795341600123);
	assert_true(m->source->ts_us == INT64_C(1795341600123456));
	assert_true(m->source->ts_ns == INT64_C(1795341600123456000));
	assert_true(m->source->tx_id == 748);
	assert_true(m->source->lsn == 24023100);
	pgcdc__v1__change__free_unpacked(m, NULL);

	/* a snapshot row: op r, no xid, "last", no previous commit */
	f.ch.op = CDC_OP_READ;
	f.ch.snapshot = CDC_SNAP_LAST;
	f.txn.snapshot = true;
	f.txn.xid = 0;
	f.txn.prev_commit_lsn = 0;
	f.txn.commit_ts_us = -1500;   /* before 1970: floor division */
	m = encode(&f, &opts);
	assert_int_equal(m->op, PGCDC__V1__OP__OP_READ);
	assert_string_equal(m->source->snapshot, "last");
	assert_true(m->source->tx_id == 0);
	assert_string_equal(m->source->sequence, "[null,\"24023100\"]");
	assert_true(m->source->ts_ms == -2);
	assert_true(m->source->ts_us == -1500);
	assert_non_null(m->after);
	assert_null(m->before);
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

static void
test_before_after_rules(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;

	/* update that left the key alone (DEFAULT identity, no old tuple): before = the
	 * key columns of the new row; unchanged TOAST as a flag */
	fx_init(&f, CDC_OP_UPDATE);
	col(&f, "id", CDC_OID_INT4, true, "5");
	col(&f, "v", CDC_OID_TEXT, false, "new");
	col(&f, "big", CDC_OID_TEXT, false, NULL);
	f.newv[2].kind = CDC_VAL_UNCHANGED;
	m = encode(&f, &opts);
	assert_int_equal(m->op, PGCDC__V1__OP__OP_UPDATE);
	assert_int_equal(m->before->n_columns, 1);
	assert_string_equal(m->before->columns[0]->name, "id");
	assert_true(m->before->columns[0]->int_value == 5);
	assert_int_equal(m->after->n_columns, 3);
	assert_int_equal(find(m->after, "big")->value_case, PGCDC__V1__COLUMN__VALUE_UNCHANGED_TOAST);
	pgcdc__v1__change__free_unpacked(m, NULL);

	/* unchanged_toast = omit: the column is left out */
	{
		struct json_opts omit = opts;

		omit.omit_unchanged_toast = true;
		m = encode(&f, &omit);
		assert_int_equal(m->after->n_columns, 2);
		pgcdc__v1__change__free_unpacked(m, NULL);
	}

	/* delete with a key-only old tuple: before = key columns, no after */
	f.ch.op = CDC_OP_DELETE;
	f.ch.new_tuple = NULL;
	f.ch.old_tuple = &f.oldt;
	f.ch.old_kind = 'K';
	f.oldt.ncols = 3;
	f.oldv[0] = (struct cdc_value) { CDC_VAL_TEXT, 1, "5" };
	f.oldv[1] = (struct cdc_value) { CDC_VAL_NULL, 0, NULL };
	f.oldv[2] = (struct cdc_value) { CDC_VAL_NULL, 0, NULL };
	m = encode(&f, &opts);
	assert_int_equal(m->op, PGCDC__V1__OP__OP_DELETE);
	assert_null(m->after);
	assert_int_equal(m->before->n_columns, 1);
	assert_true(m->before->columns[0]->int_value == 5);
	pgcdc__v1__change__free_unpacked(m, NULL);

	/* FULL identity delete: every column */
	f.rel.replident = 'f';
	f.ch.old_kind = 'O';
	m = encode(&f, &opts);
	assert_int_equal(m->before->n_columns, 3);
	pgcdc__v1__change__free_unpacked(m, NULL);

	/* table without identity: update has no before */
	f.rel.replident = 'n';
	f.cols[0].key = false;
	f.ch.op = CDC_OP_UPDATE;
	f.ch.old_tuple = NULL;
	f.ch.old_kind = 0;
	f.ch.new_tuple = &f.newt;
	m = encode(&f, &opts);
	assert_null(m->before);
	pgcdc__v1__change__free_unpacked(m, NULL);

	/* truncate: neither */
	f.ch.op = CDC_OP_TRUNCATE;
	f.ch.new_tuple = NULL;
	m = encode(&f, &opts);
	assert_int_equal(m->op, PGCDC__V1__OP__OP_TRUNCATE);
	assert_null(m->before);
	assert_null(m->after);
	assert_string_equal(m->source->table, "t");
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

/* Bad text fails like the JSON format (CDC_ERR_PROTO, the type named), leaving the
 * encoder usable. */
static void
test_bad_text(void **state)
{
	static const struct {
		uint32_t oid;
		const char *in;
	} cases[] = {
		{ CDC_OID_INT4, "12x" }, { CDC_OID_INT8, "9223372036854775808" }, { CDC_OID_INT4, "" },
		{ CDC_OID_INT4, "-" }, { CDC_OID_FLOAT8, "1e" }, { CDC_OID_FLOAT8, "0x10" },
		{ CDC_OID_FLOAT8, "inf" }, { CDC_OID_BOOL, "yes" }, { CDC_OID_BYTEA, "\\x0" },
		{ CDC_OID_BYTEA, "\\xzz" }, { CDC_OID_BYTEA, "abc" }, { CDC_OID_NUMERIC, "1.2.3" },
		{ CDC_OID_TIMESTAMP, "22/11/2026" }, { CDC_OID_UUID, "not-a-uuid" },
		{ 1007, "{1,2" },
	};
	struct fx f;

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cdc_err err = { 0 };
		const uint8_t *out;
		size_t len;
		int rc;

		fx_init(&f, CDC_OP_CREATE);
		col(&f, "v", cases[i].oid, false, cases[i].in);
		rc = proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err);
		if (rc != CDC_ERR_PROTO)
			fail_msg("oid %u '%s': rc %d, want CDC_ERR_PROTO", cases[i].oid, cases[i].in, rc);
		assert_non_null(strstr(err.msg, "type oid"));
		/* the same encoder still works */
		f.newv[0] = (struct cdc_value) { CDC_VAL_NULL, 0, NULL };
		cdc_err_clear(&err);
		assert_int_equal(proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err), 0);
		proto_enc_free(f.e);
	}

	/* a change without a new row, an unknown op, binary values */
	fx_init(&f, CDC_OP_CREATE);
	col(&f, "v", CDC_OID_INT4, false, "1");
	{
		struct cdc_err err = { 0 };
		const uint8_t *out;
		size_t len;

		f.newv[0].kind = CDC_VAL_BINARY;
		assert_int_equal(proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err), CDC_ERR_PROTO);
		f.newv[0].kind = CDC_VAL_TEXT;
		f.ch.op = 'x';
		cdc_err_clear(&err);
		assert_int_equal(proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err), CDC_ERR_PROTO);
		f.ch.op = CDC_OP_CREATE;
		f.ch.new_tuple = NULL;
		cdc_err_clear(&err);
		assert_int_equal(proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err), CDC_ERR_PROTO);
		f.ch.rel = NULL;
		cdc_err_clear(&err);
		assert_int_equal(proto_encode(f.e, &f.ch, NULL, &opts, 0, &out, &len, &err), CDC_ERR_PROTO);
	}
	proto_enc_free(f.e);
}

/* Protobuf strings must be UTF-8: ill-formed bytes become U+FFFD, as in JSON. */
static void
test_invalid_utf8(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;

	fx_init(&f, CDC_OP_CREATE);
	col(&f, "t", CDC_OID_TEXT, false, "a\xff" "b\xe2\x82" "c\xf0\x9f\x8c\x8d");
	m = encode(&f, &opts);
	assert_string_equal(find(m->after, "t")->string_value,
	                    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x8c\x8d");
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

/* One encoder, many records of different widths: each decodes to itself (the
 * reused buffers never leak one record into the next). */
static void
test_reuse(void **state)
{
	struct fx f;
	char texts[200][64];

	fx_init(&f, CDC_OP_CREATE);
	for (int round = 0; round < 200; round++) {
		Pgcdc__V1__Change *m;
		int ncols = 1 + round % 16;

		f.rel.ncols = 0;
		f.rel.npk = 0;
		for (int i = 0; i < ncols; i++) {
			snprintf(texts[round], sizeof(texts[round]), "r%d-%s", round,
			         round % 3 == 0 ? "a long enough value to grow the arena" : "s");
			col(&f, i == 0 ? "id" : "c", i == 0 ? CDC_OID_INT4 : CDC_OID_TEXT, i == 0,
			    i == 0 ? "7" : texts[round]);
		}
		m = encode(&f, &opts);
		assert_int_equal(m->after->n_columns, (size_t) ncols);
		for (int i = 1; i < ncols; i++)
			assert_string_equal(m->after->columns[i]->string_value, texts[round]);
		pgcdc__v1__change__free_unpacked(m, NULL);
	}
	proto_enc_free(f.e);
	proto_enc_free(NULL);
}

/* CREATE TABLE z () is legal: an empty row, present (not null). */
static void
test_zero_columns(void **state)
{
	struct fx f;
	Pgcdc__V1__Change *m;

	fx_init(&f, CDC_OP_CREATE);
	m = encode(&f, &opts);
	assert_non_null(m->after);
	assert_int_equal(m->after->n_columns, 0);
	pgcdc__v1__change__free_unpacked(m, NULL);
	proto_enc_free(f.e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_strings_as_json),
		cmocka_unit_test(test_arrays_as_json_text),
		cmocka_unit_test(test_source_block),
		cmocka_unit_test(test_before_after_rules),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_zero_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
