/*
 * test_parquet.c — the Parquet building blocks against byte vectors derived by
 * hand from the specifications: Thrift compact protocol (varints, zigzag, field
 * headers short and long, booleans, binary, lists, nested structs), the RLE /
 * bit-packing hybrid (the example of parquet-format Encodings.md and runs worked
 * out bit by bit), bit-packed booleans, and the text-to-value conversions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sinks/parquet/convert.h"
#include "sinks/parquet/encoding.h"
#include "sinks/parquet/thrift.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
assert_bytes(const struct pq_buf *b, const uint8_t *want, size_t n)
{
	if (b->len != n || memcmp(b->p, want, n) != 0) {
		fprintf(stderr, "got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len; i++)
			fprintf(stderr, " %02X", b->p[i]);
		fprintf(stderr, "\nwant %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02X", want[i]);
		fprintf(stderr, "\n");
		fail();
	}
	assert_false(b->oom);
}

#define ASSERT_BYTES(buf, ...) do { \
	static const uint8_t want_[] = { __VA_ARGS__ }; \
	assert_bytes((buf), want_, sizeof(want_)); \
} while (0)

/* ---- varints and zigzag ---- */

static void
test_uvarint(void **state)
{
	struct pq_buf b = { 0 };

	pq_put_uvarint(&b, 0);
	pq_put_uvarint(&b, 1);
	pq_put_uvarint(&b, 127);
	pq_put_uvarint(&b, 128);        /* 1000 0000 -> 0x80 0x01 */
	pq_put_uvarint(&b, 300);        /* 1 0010 1100 -> 0xAC 0x02 */
	ASSERT_BYTES(&b, 0x00, 0x01, 0x7F, 0x80, 0x01, 0xAC, 0x02);
	b.len = 0;
	pq_put_uvarint(&b, UINT64_MAX); /* 64 bits: nine 7-bit groups of ones, then 1 */
	ASSERT_BYTES(&b, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
	pq_buf_free(&b);
}

static void
test_zigzag(void **state)
{
	struct pq_buf b = { 0 };

	/* zigzag: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, 150 -> 300, -150 -> 299 */
	pq_put_zigzag(&b, 0);
	pq_put_zigzag(&b, -1);
	pq_put_zigzag(&b, 1);
	pq_put_zigzag(&b, -2);
	pq_put_zigzag(&b, 150);
	pq_put_zigzag(&b, -150);
	ASSERT_BYTES(&b, 0x00, 0x01, 0x02, 0x03, 0xAC, 0x02, 0xAB, 0x02);
	b.len = 0;
	pq_put_zigzag(&b, INT64_MIN);   /* -> UINT64_MAX */
	ASSERT_BYTES(&b, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
	pq_buf_free(&b);
}

/* ---- Thrift compact protocol ---- */

static void
test_thrift_fields(void **state)
{
	struct pq_buf b = { 0 };
	struct pq_tw w;

	pq_tw_init(&w, &b);
	pq_tw_i32(&w, 1, 5);            /* delta 1, type 5 (i32): 0x15; zigzag 5 = 10 */
	pq_tw_i64(&w, 2, -1);           /* delta 1, type 6 (i64): 0x16; zigzag -1 = 1 */
	pq_tw_bool(&w, 3, true);        /* delta 1, type 1 (true): 0x11 */
	pq_tw_bool(&w, 4, false);       /* delta 1, type 2 (false): 0x12 */
	pq_tw_binary(&w, 5, "ab", 2);   /* delta 1, type 8: 0x18, length 2, 'a' 'b' */
	pq_tw_i16(&w, 25, 7);           /* delta 20 > 15: long form 0x04, zigzag id 25 = 50 (0x32), 14 */
	pq_tw_i8(&w, 26, -2);           /* delta 1, type 3 (i8): 0x13, raw byte 0xFE */
	pq_tw_i32(&w, 3, 1);            /* id goes back: long form 0x05, zigzag 3 = 6, value 2 */
	pq_tw_stop(&w);
	ASSERT_BYTES(&b, 0x15, 0x0A, 0x16, 0x01, 0x11, 0x12, 0x18, 0x02, 'a', 'b',
	             0x04, 0x32, 0x0E, 0x13, 0xFE, 0x05, 0x06, 0x02, 0x00);
	pq_buf_free(&b);
}

static void
test_thrift_nested_and_lists(void **state)
{
	struct pq_buf b = { 0 };
	struct pq_tw w;
	char big[20][2];

	pq_tw_init(&w, &b);
	pq_tw_i32(&w, 1, 0);                    /* 0x15 0x00 */
	pq_tw_struct_begin(&w, 3);              /* delta 2, type 12: 0x2C */
	pq_tw_i32(&w, 1, 1);                    /* inner ids restart: 0x15 0x02 */
	pq_tw_struct_end(&w);                   /* 0x00 */
	pq_tw_i32(&w, 4, 1);                    /* outer id 3 -> 4: delta 1: 0x15 0x02 */
	pq_tw_list_begin(&w, 5, PQ_T_I32, 3);   /* 0x19, (3 << 4) | 5 = 0x35 */
	pq_tw_elem_i32(&w, 8);                  /* 0x10 */
	pq_tw_elem_i32(&w, 0);                  /* 0x00 */
	pq_tw_elem_i32(&w, 3);                  /* 0x06 */
	pq_tw_list_begin(&w, 6, PQ_T_STRUCT, 1);    /* 0x19, 0x1C */
	pq_tw_elem_struct_begin(&w);
	pq_tw_string(&w, 1, "k");               /* 0x18 0x01 'k' */
	pq_tw_struct_end(&w);                   /* 0x00 */
	pq_tw_stop(&w);
	ASSERT_BYTES(&b, 0x15, 0x00, 0x2C, 0x15, 0x02, 0x00, 0x15, 0x02, 0x19, 0x35, 0x10, 0x00, 0x06,
	             0x19, 0x1C, 0x18, 0x01, 'k', 0x00, 0x00);

	/* 20 elements: long list header 0xF0 | type, then the size as a varint */
	b.len = 0;
	pq_tw_init(&w, &b);
	pq_tw_list_begin(&w, 1, PQ_T_BINARY, 20);
	for (int i = 0; i < 20; i++) {
		big[i][0] = (char) ('a' + i);
		pq_tw_elem_binary(&w, big[i], 1);
	}
	assert_int_equal(b.len, 3 + 20 * 2);
	assert_int_equal(b.p[0], 0x19);
	assert_int_equal(b.p[1], 0xF8);
	assert_int_equal(b.p[2], 20);
	assert_int_equal(b.p[3], 1);
	assert_int_equal(b.p[4], 'a');
	pq_buf_free(&b);
}

/* A whole PageHeader as Parquet writes it, and read back by the reader. */
static void
test_thrift_page_header_roundtrip(void **state)
{
	struct pq_buf b = { 0 };
	struct pq_tw w;
	struct pq_tr r;
	int16_t id;
	int t, seen = 0;

	pq_tw_init(&w, &b);
	pq_tw_i32(&w, 1, 0);            /* type DATA_PAGE */
	pq_tw_i32(&w, 2, 1000);         /* uncompressed_page_size: zigzag 2000 = 0xD0 0x0F */
	pq_tw_i32(&w, 3, 64);           /* compressed_page_size: 128 = 0x80 0x01 */
	pq_tw_struct_begin(&w, 5);      /* data_page_header: delta 2: 0x2C */
	pq_tw_i32(&w, 1, 100);          /* num_values: 200 = 0xC8 0x01 */
	pq_tw_i32(&w, 2, 8);            /* RLE_DICTIONARY: 16 */
	pq_tw_i32(&w, 3, 3);            /* RLE: 6 */
	pq_tw_i32(&w, 4, 3);
	pq_tw_struct_end(&w);
	pq_tw_stop(&w);
	ASSERT_BYTES(&b, 0x15, 0x00, 0x15, 0xD0, 0x0F, 0x15, 0x80, 0x01, 0x2C, 0x15, 0xC8, 0x01,
	             0x15, 0x10, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00);

	pq_tr_init(&r, b.p, b.len);
	while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
		if (id == 2) {
			assert_int_equal(t, PQ_T_I32);
			assert_int_equal(pq_tr_int(&r), 1000);
			seen++;
		} else if (id == 5) {
			assert_int_equal(t, PQ_T_STRUCT);
			pq_tr_struct_begin(&r);
			while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
				int64_t v = pq_tr_int(&r);

				if (id == 1)
					assert_int_equal(v, 100);
				if (id == 2)
					assert_int_equal(v, 8);
				seen++;
			}
		} else {
			pq_tr_skip(&r, t);
		}
	}
	assert_false(r.err);
	assert_int_equal(seen, 5);
	assert_int_equal(r.pos, b.len);

	/* every truncation is an error, never a read past the end */
	for (size_t n = 0; n < b.len; n++) {
		pq_tr_init(&r, b.p, n);
		/* skipping as a struct needs the stop byte: n < len is always short */
		pq_tr_skip(&r, PQ_T_STRUCT);
		assert_true(r.err);
	}
	pq_buf_free(&b);
}

/* ---- RLE / bit-packing hybrid ---- */

static void
test_rle_spec_example(void **state)
{
	/* Encodings.md: 0..7 at bit width 3, bit-packed -> 10001000 11000110 11111010 */
	static const uint32_t v[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct pq_buf b = { 0 };
	uint32_t back[8];

	pq_rle_encode_u32(&b, v, 8, 3);
	/* header: 1 group of 8 -> (1 << 1) | 1 = 0x03 */
	ASSERT_BYTES(&b, 0x03, 0x88, 0xC6, 0xFA);
	assert_int_equal(pq_rle_decode(b.p, b.len, 3, back, 8), (long) b.len);
	assert_memory_equal(back, v, sizeof(v));
	pq_buf_free(&b);
}

static void
test_rle_runs(void **state)
{
	struct pq_buf b = { 0 };
	uint8_t ones[100], mixed[24], three[3] = { 1, 2, 3 };
	uint32_t wide[10];

	/* 100 ones at width 1: one RLE run, header 100 << 1 = 200 = 0xC8 0x01, value 0x01 */
	memset(ones, 1, sizeof(ones));
	pq_rle_encode_u8(&b, ones, 100, 1);
	ASSERT_BYTES(&b, 0xC8, 0x01, 0x01);

	/* 8 zeros: RLE run of 8 = 0x10, value 0x00 */
	b.len = 0;
	memset(ones, 0, 8);
	pq_rle_encode_u8(&b, ones, 8, 1);
	ASSERT_BYTES(&b, 0x10, 0x00);

	/* 1,0,1,0,1,0,1,0 then 16 ones: a bit-packed group (LSB first: 0b01010101) and
	 * an RLE run of 16 (0x20) of value 1 */
	for (int i = 0; i < 8; i++)
		mixed[i] = (uint8_t) ((i + 1) % 2);
	memset(mixed + 8, 1, 16);
	b.len = 0;
	pq_rle_encode_u8(&b, mixed, 24, 1);
	ASSERT_BYTES(&b, 0x03, 0x55, 0x20, 0x01);

	/* 1,2,3 at width 2: one group padded with zeros: bits 01 10 11 00 | 00 00 00 00,
	 * LSB first -> 0b00111001 = 0x39, 0x00 */
	b.len = 0;
	pq_rle_encode_u8(&b, three, 3, 2);
	ASSERT_BYTES(&b, 0x03, 0x39, 0x00);

	/* width 9: the repeated value takes 2 bytes, little endian: 300 = 0x2C 0x01 */
	for (int i = 0; i < 10; i++)
		wide[i] = 300;
	b.len = 0;
	pq_rle_encode_u32(&b, wide, 10, 9);
	ASSERT_BYTES(&b, 0x14, 0x2C, 0x01);

	/* empty input: nothing */
	b.len = 0;
	pq_rle_encode_u8(&b, three, 0, 1);
	assert_int_equal(b.len, 0);
	pq_buf_free(&b);
}

static void
test_rle_roundtrip(void **state)
{
	uint32_t v[3000], back[3000];
	struct pq_buf b = { 0 };
	uint64_t x = 88172645463325252ULL;

	for (int bw = 1; bw <= 20; bw++) {
		for (size_t n = 0; n < NELEM(v); n++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* stretches of runs and of noise */
			if ((n / 50) % 2 == 0 && n > 0)
				v[n] = v[n - 1];
			else
				v[n] = (uint32_t) (x & ((1u << bw) - 1));
		}
		for (size_t n = 0; n < NELEM(v); n += 97) {
			b.len = 0;
			pq_rle_encode_u32(&b, v, n, bw);
			assert_int_equal(pq_rle_decode(b.p, b.len, bw, back, n), (long) b.len);
			assert_memory_equal(back, v, n * sizeof(uint32_t));
		}
	}
	pq_buf_free(&b);
}

static void
test_bitpack_bools(void **state)
{
	static const uint8_t v[9] = { 1, 0, 1, 1, 0, 0, 0, 0, 1 };
	struct pq_buf b = { 0 };

	pq_bitpack_bools(&b, v, 9);     /* 0b00001101, then 0b00000001 */
	ASSERT_BYTES(&b, 0x0D, 0x01);
	assert_int_equal(pq_bit_width(0), 0);
	assert_int_equal(pq_bit_width(1), 1);
	assert_int_equal(pq_bit_width(2), 2);
	assert_int_equal(pq_bit_width(255), 8);
	assert_int_equal(pq_bit_width(256), 9);
	pq_buf_free(&b);
}

/* ---- conversions ---- */

#define S(lit) lit, strlen(lit)

/* interval: the session's ISO-8601 output to PostgreSQL's default text output (issue
 * 13.10; expected strings printed by PostgreSQL 15 with IntervalStyle = postgres) */
static void
test_convert_interval(void **state)
{
	static const struct { const char *iso; size_t n; const char *pg; } cases[] = {
		{S("PT0S"), "00:00:00"},
		{S("P1Y2M3DT4H5M6.5S"), "1 year 2 mons 3 days 04:05:06.5"},
		{S("P-1Y"), "-1 years"},
		{S("P1M"), "1 mon"},
		{S("P-10M"), "-10 mons"},
		{S("P1DT-1S"), "1 day -00:00:01"},
		{S("P-1DT2H3M"), "-1 days +02:03:00"},
		{S("PT-0.000001S"), "-00:00:00.000001"},
		{S("P100Y-3DT0.00001S"), "100 years -3 days +00:00:00.00001"},
		{S("P2D"), "2 days"},
		{S("P1Y1M"), "1 year 1 mon"},
		{S("P-1Y-1M-2DT-5H"), "-1 years -1 mons -2 days -05:00:00"},
		{S("PT12H"), "12:00:00"},
		{S("PT1.25S"), "00:00:01.25"},
		{S("P178956970Y7M2147483647DT2562047788H54.775807S"), "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807"},
		{S("P-178956970Y-7M-2147483647DT-2562047788H-54.775807S"), "-178956970 years -7 mons -2147483647 days -2562047788:00:54.775807"},
		{S("P1Y-1D"), "1 year -1 days"},
		{S("P-1M1D"), "-1 mons +1 day"},
		{S("P3DT1H"), "3 days 01:00:00"},
		{S("P-3DT-1H"), "-3 days -01:00:00"},
		{S("PT59M"), "00:59:00"},
		{S("P1MT-1S"), "1 mon -00:00:01"},
		{S("infinity"), "infinity"},
		{S("-infinity"), "-infinity"},
	};
	static const char *const bad[] = { "", "P", "1Y", "PT1.1234567S", "P1H", "PT1D", "P1.5Y",
	                                   "PT1.S", "P1Y2", "P99999999999999999999Y", "P1X" };
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pqc_interval(cases[i].iso, cases[i].n, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].pg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pqc_interval(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	assert_int_equal(pqc_interval(S("P1Y2M3DT4H5M6.5S"), out, 10), -1);   /* does not fit */
}

static void
test_convert_dates(void **state)
{
	int32_t d;
	int64_t us;

	assert_int_equal(pqc_date(S("1970-01-01"), &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(pqc_date(S("2000-01-01"), &d), 0);
	assert_int_equal(d, 10957);
	assert_int_equal(pqc_date(S("1969-12-31"), &d), 0);
	assert_int_equal(d, -1);
	assert_int_equal(pqc_date(S("2024-02-29"), &d), 0);
	assert_int_equal(d, 19782);
	/* 1 BC is year 0 (a leap year): 0001-01-01 BC is 366 days before 0001-01-01 */
	assert_int_equal(pqc_date(S("0001-01-01"), &d), 0);
	assert_int_equal(d, -719162);
	assert_int_equal(pqc_date(S("0001-01-01 BC"), &d), 0);
	assert_int_equal(d, -719162 - 366);
	assert_int_equal(pqc_date(S("10000-01-01"), &d), 0);
	assert_int_equal(d, 2932897);
	assert_int_equal(pqc_date(S("infinity"), &d), 0);
	assert_int_equal(d, INT32_MAX);
	assert_int_equal(pqc_date(S("-infinity"), &d), 0);
	assert_int_equal(d, -INT32_MAX);
	assert_int_equal(pqc_date(S("2024-13-01"), &d), -1);
	assert_int_equal(pqc_date(S("2024-01-01x"), &d), -1);
	assert_int_equal(pqc_date(S("24-01-01"), &d), -1);

	assert_int_equal(pqc_timestamp(S("1970-01-01 00:00:00"), false, &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(pqc_timestamp(S("2000-01-01 00:00:01.5"), false, &us), 0);
	assert_int_equal(us, INT64_C(946684801500000));
	assert_int_equal(pqc_timestamp(S("1969-12-31 23:59:59.999999"), false, &us), 0);
	assert_int_equal(us, -1);
	assert_int_equal(pqc_timestamp(S("2026-11-22 10:00:00.123456+00"), true, &us), 0);
	assert_int_equal(us, INT64_C(1795341600123456));
	/* an offset is subtracted: 10:00+05:30 is 04:30 UTC */
	assert_int_equal(pqc_timestamp(S("2026-11-22 10:00:00+05:30"), true, &us), 0);
	assert_int_equal(us, INT64_C(1795341600000000) - INT64_C(19800000000));
	assert_int_equal(pqc_timestamp(S("1900-01-01 00:00:00-00:53:28"), true, &us), 0);
	assert_int_equal(us, INT64_C(-2208988800000000) + INT64_C(3208000000));
	assert_int_equal(pqc_timestamp(S("0044-03-15 12:00:00 BC"), false, &us), 0);
	assert_int_equal(pqc_timestamp(S("0044-03-15 12:00:00+00 BC"), true, &us), 0);
	assert_int_equal(pqc_timestamp(S("infinity"), true, &us), 0);
	assert_int_equal(us, INT64_MAX);
	assert_int_equal(pqc_timestamp(S("-infinity"), false, &us), 0);
	assert_int_equal(us, -INT64_MAX);
	assert_int_equal(pqc_timestamp(S("2026-11-22 10:00:00"), true, &us), -1);   /* no offset */
	assert_int_equal(pqc_timestamp(S("2026-11-22T10:00:00"), false, &us), -1);

	assert_int_equal(pqc_time(S("00:00:00"), &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(pqc_time(S("13:45:10.000001"), &us), 0);
	assert_int_equal(us, INT64_C(49510000001));
	assert_int_equal(pqc_time(S("24:00:00"), &us), 0);
	assert_int_equal(us, INT64_C(86400000000));
	assert_int_equal(pqc_time(S("12:00"), &us), -1);
}

static void
test_convert_bc_timestamp(void **state)
{
	int64_t a, b;
	int32_t d;

	/* a BC timestamp is its BC date's midnight plus the time of day */
	assert_int_equal(pqc_timestamp(S("0044-03-15 12:00:00 BC"), false, &a), 0);
	assert_int_equal(pqc_date(S("0044-03-15 BC"), &d), 0);
	assert_int_equal(a, (int64_t) d * INT64_C(86400000000) + INT64_C(43200000000));
	assert_int_equal(pqc_timestamp(S("0044-03-15 12:00:00+00 BC"), true, &b), 0);
	assert_int_equal(a, b);
}

static void
test_convert_numbers(void **state)
{
	int64_t i;
	double dv;
	float fv;
	bool bv;

	assert_int_equal(pqc_int(S("-32768"), INT16_MIN, INT16_MAX, &i), 0);
	assert_int_equal(i, -32768);
	assert_int_equal(pqc_int(S("32768"), INT16_MIN, INT16_MAX, &i), -1);
	assert_int_equal(pqc_int(S("-9223372036854775808"), INT64_MIN, INT64_MAX, &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(pqc_int(S("9223372036854775808"), INT64_MIN, INT64_MAX, &i), -1);
	assert_int_equal(pqc_int(S(""), INT64_MIN, INT64_MAX, &i), -1);
	assert_int_equal(pqc_int(S("-"), INT64_MIN, INT64_MAX, &i), -1);
	assert_int_equal(pqc_int(S("12a"), INT64_MIN, INT64_MAX, &i), -1);

	assert_int_equal(pqc_double(S("1.5"), &dv), 0);
	assert_true(dv == 1.5);
	assert_int_equal(pqc_double(S("NaN"), &dv), 0);
	assert_true(dv != dv);
	assert_int_equal(pqc_double(S("-Infinity"), &dv), 0);
	assert_true(dv < 0 && dv * 0 != 0);
	assert_int_equal(pqc_double(S("1e+308"), &dv), 0);
	assert_int_equal(pqc_double(S("1.5x"), &dv), -1);
	assert_int_equal(pqc_float(S("3.4028235e+38"), &fv), 0);
	assert_true(fv == 3.4028235e+38f);
	assert_int_equal(pqc_float(S("Infinity"), &fv), 0);
	assert_true(fv > 3.4028235e+38f);
	assert_int_equal(pqc_bool(S("t"), &bv), 0);
	assert_true(bv);
	assert_int_equal(pqc_bool(S("f"), &bv), 0);
	assert_false(bv);
	assert_int_equal(pqc_bool(S("true"), &bv), -1);
}

static void
test_convert_decimal(void **state)
{
	pqc_i128 v;
	uint8_t be[16];

	assert_int_equal(pqc_decimal(S("123.45"), 2, &v), 0);
	assert_true(v == 12345);
	assert_int_equal(pqc_decimal(S("-0.01"), 2, &v), 0);
	assert_true(v == -1);
	assert_int_equal(pqc_decimal(S("-7"), 3, &v), 0);    /* fewer digits: padded */
	assert_true(v == -7000);
	assert_int_equal(pqc_decimal(S("1.50"), 1, &v), 0);  /* trailing zeros beyond the scale */
	assert_true(v == 15);
	assert_int_equal(pqc_decimal(S("1.55"), 1, &v), -1); /* would lose a digit */
	assert_int_equal(pqc_decimal(S("NaN"), 2, &v), 1);
	assert_int_equal(pqc_decimal(S("Infinity"), 2, &v), 1);
	assert_int_equal(pqc_decimal(S("-Infinity"), 0, &v), 1);
	assert_int_equal(pqc_decimal(S("99999999999999999999999999999999999999"), 0, &v), 0);
	assert_int_equal(pqc_decimal(S("999999999999999999999999999999999999999"), 0, &v), -1);
	assert_int_equal(pqc_decimal(S("1.2.3"), 2, &v), -1);
	assert_int_equal(pqc_decimal(S("-"), 2, &v), -1);

	/* two's complement, big endian */
	pqc_decimal_be(-1, be, 5);
	assert_memory_equal(be, "\xFF\xFF\xFF\xFF\xFF", 5);
	pqc_decimal_be(258, be, 3);
	assert_memory_equal(be, "\x00\x01\x02", 3);
	pqc_decimal_be(-258, be, 3);
	assert_memory_equal(be, "\xFF\xFE\xFE", 3);

	/* bytes for a precision: the smallest n with 2^(8n-1) - 1 >= 10^p - 1 */
	assert_int_equal(pqc_decimal_bytes(1), 1);
	assert_int_equal(pqc_decimal_bytes(2), 1);
	assert_int_equal(pqc_decimal_bytes(3), 2);
	assert_int_equal(pqc_decimal_bytes(9), 4);
	assert_int_equal(pqc_decimal_bytes(10), 5);
	assert_int_equal(pqc_decimal_bytes(18), 8);
	assert_int_equal(pqc_decimal_bytes(19), 9);
	assert_int_equal(pqc_decimal_bytes(38), 16);
}

static void
test_convert_uuid_bytea(void **state)
{
	uint8_t u[16], b[8];
	size_t n;

	assert_int_equal(pqc_uuid(S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), u), 0);
	assert_memory_equal(u, "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);
	assert_int_equal(pqc_uuid(S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"), u), -1);
	assert_int_equal(pqc_uuid(S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g"), u), -1);
	assert_int_equal(pqc_bytea(S("\\x00ff10"), b, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "\x00\xff\x10", 3);
	assert_int_equal(pqc_bytea(S("\\x"), b, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pqc_bytea(S("\\x0"), b, &n), -1);
	assert_int_equal(pqc_bytea(S("abc"), b, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uvarint),
		cmocka_unit_test(test_convert_interval),
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_thrift_fields),
		cmocka_unit_test(test_thrift_nested_and_lists),
		cmocka_unit_test(test_thrift_page_header_roundtrip),
		cmocka_unit_test(test_rle_spec_example),
		cmocka_unit_test(test_rle_runs),
		cmocka_unit_test(test_rle_roundtrip),
		cmocka_unit_test(test_bitpack_bools),
		cmocka_unit_test(test_convert_dates),
		cmocka_unit_test(test_convert_bc_timestamp),
		cmocka_unit_test(test_convert_numbers),
		cmocka_unit_test(test_convert_decimal),
		cmocka_unit_test(test_convert_uuid_bytea),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
