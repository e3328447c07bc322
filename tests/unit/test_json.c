/*
 * test_json.c — value mapping and the Debezium envelope (decoder/json.c).
 *
 * Inputs are the text PostgreSQL 15 prints under pgcdc's session settings
 * (DateStyle=ISO, IntervalStyle=iso_8601, TimeZone=UTC, extra_float_digits=1,
 * bytea_output=hex), taken from a real server.  Every output is parsed back with
 * jansson (it must be valid JSON) and compared byte for byte with the expected
 * mapping, so exactness of numbers is checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "decoder/change.h"
#include "decoder/json.h"
#include "decoder/types.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct json_opts default_opts = {
	.numeric_as_number = false,
	.omit_unchanged_toast = false,
	.name = "pgcdc",
	.db = "app",
	.version = "0.1.0",
};

static const struct json_opts number_opts = {
	.numeric_as_number = true,
	.omit_unchanged_toast = false,
	.name = "pgcdc",
	.db = "app",
	.version = "0.1.0",
};

/* The user types of the test database (see test_types.c). */
static struct cdc_types *
user_registry(void)
{
	struct cdc_types *t = types_new();

	assert_non_null(t);
	assert_int_equal(types_add(t, 16384, 'b', 0, 16385, ',', "_dint"), 0);
	assert_int_equal(types_add(t, 16385, 'd', 23, 0, ',', "dint"), 0);
	assert_int_equal(types_add(t, 16386, 'b', 0, 16387, ',', "_dtxt"), 0);
	assert_int_equal(types_add(t, 16387, 'd', 1009, 0, ',', "dtxt"), 0);
	assert_int_equal(types_add(t, 16388, 'b', 0, 16389, ',', "_mood"), 0);
	assert_int_equal(types_add(t, 16389, 'e', 0, 0, ',', "mood"), 0);
	assert_int_equal(types_add(t, 16393, 'b', 0, 16394, ';', "_dbox"), 0);
	assert_int_equal(types_add(t, 16394, 'd', 603, 0, ';', "dbox"), 0);
	assert_int_equal(types_add(t, 16395, 'b', 0, 16396, ',', "_darr"), 0);
	assert_int_equal(types_add(t, 16396, 'd', 1007, 0, ',', "darr"), 0);
	assert_int_equal(types_add(t, 16397, 'd', 1700, 0, ',', "price"), 0);
	assert_int_equal(types_add(t, 16398, 'd', 1184, 0, ',', "tstz_d"), 0);
	assert_int_equal(types_add(t, 16399, 'b', 0, 16398, ',', "_tstz_d"), 0);
	assert_int_equal(types_add(t, 16420, 'd', 16421, 0, ',', "loop_a"), 0);
	assert_int_equal(types_add(t, 16421, 'd', 16420, 0, ',', "loop_b"), 0);
	return t;
}

/* ------------------------------------------------------- value mapping */

struct vcase {
	uint32_t oid;
	const char *in;       /* PostgreSQL text output */
	size_t inlen;         /* 0: strlen(in) */
	const char *out;      /* expected JSON, exact bytes */
};

/* Map one value, check the exact output and that jansson parses it. */
static int
run_vcase(struct jbuf *b, const struct cdc_types *t, const struct vcase *c,
          const struct json_opts *o)
{
	struct cdc_value v;
	struct cdc_err err;
	json_error_t jerr;
	json_t *j;
	size_t inlen = c->inlen ? c->inlen : strlen(c->in);
	int rc;

	cdc_err_clear(&err);
	jbuf_reset(b);
	v.kind = CDC_VAL_TEXT;
	v.len = (uint32_t) inlen;
	v.data = c->in;
	rc = json_put_value(b, t, c->oid, &v, o, &err);
	if (rc != 0) {
		print_error("oid %u in '%s': error %d: %s\n", c->oid, c->in, rc, err.msg);
		return 1;
	}
	if (b->len != strlen(c->out) || memcmp(b->data, c->out, b->len) != 0) {
		print_error("oid %u in '%s': got '%.*s', want '%s'\n", c->oid, c->in,
		            (int) b->len, b->data, c->out);
		return 1;
	}
	j = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		print_error("oid %u in '%s': output '%.*s' is not JSON: %s\n", c->oid, c->in,
		            (int) b->len, b->data, jerr.text);
		return 1;
	}
	json_decref(j);
	return 0;
}

static void
run_vcases(const struct vcase *cases, size_t n, const struct json_opts *o)
{
	struct cdc_types *t = user_registry();
	struct jbuf b;
	size_t i;
	int failed = 0;

	jbuf_init(&b);
	for (i = 0; i < n; i++)
		failed += run_vcase(&b, t, &cases[i], o);
	jbuf_free(&b);
	types_free(t);
	assert_int_equal(failed, 0);
}

static const struct vcase int_cases[] = {
	{21, "0", 0, "0"},
	{21, "32767", 0, "32767"},
	{21, "-32768", 0, "-32768"},
	{23, "42", 0, "42"},
	{23, "2147483647", 0, "2147483647"},
	{23, "-2147483648", 0, "-2147483648"},
	{20, "9223372036854775807", 0, "9223372036854775807"},
	{20, "-9223372036854775808", 0, "-9223372036854775808"},
	{26, "4294967295", 0, "4294967295"},
	{16385, "7", 0, "7"},                               /* domain over int */
};

static const struct vcase float_cases[] = {
	{701, "1.1", 0, "1.1"},
	{701, "1e+100", 0, "1e+100"},
	{701, "1e-05", 0, "1e-05"},
	{701, "-0", 0, "-0"},
	{701, "0", 0, "0"},
	{701, "123", 0, "123"},
	{701, "1.2345678901234568e+17", 0, "1.2345678901234568e+17"},
	{701, "5e-324", 0, "5e-324"},
	{701, "1e-320", 0, "1e-320"},
	{701, "-1.7976931348623157e+308", 0, "-1.7976931348623157e+308"},
	{701, "NaN", 0, "\"NaN\""},
	{701, "Infinity", 0, "\"Infinity\""},
	{701, "-Infinity", 0, "\"-Infinity\""},
	{700, "0.1", 0, "0.1"},
	{700, "3.4028235e+38", 0, "3.4028235e+38"},
	{700, "1.1754944e-38", 0, "1.1754944e-38"},
	{700, "NaN", 0, "\"NaN\""},
	{700, "-Infinity", 0, "\"-Infinity\""},
};

static const struct vcase numeric_string_cases[] = {
	{1700, "-12.50", 0, "\"-12.50\""},
	{1700, "0", 0, "\"0\""},
	{1700, "0.00000000000000000001", 0, "\"0.00000000000000000001\""},
	{1700, "100000000000000000000", 0, "\"100000000000000000000\""},
	{1700, "12345678901234567890.123456789012345678901234567890", 0,
	 "\"12345678901234567890.123456789012345678901234567890\""},
	{1700, "NaN", 0, "\"NaN\""},
	{1700, "Infinity", 0, "\"Infinity\""},
	{1700, "-Infinity", 0, "\"-Infinity\""},
	{16397, "9.99", 0, "\"9.99\""},                     /* domain over numeric */
	{1231, "{1.5,NaN,-0.10}", 0, "[\"1.5\",\"NaN\",\"-0.10\"]"},
};

static const struct vcase numeric_number_cases[] = {
	{1700, "-12.50", 0, "-12.50"},
	{1700, "0", 0, "0"},
	{1700, "0.00000000000000000001", 0, "0.00000000000000000001"},
	{1700, "12345678901234567890.123456789012345678901234567890", 0,
	 "12345678901234567890.123456789012345678901234567890"},
	{1700, "NaN", 0, "\"NaN\""},
	{1700, "Infinity", 0, "\"Infinity\""},
	{1700, "-Infinity", 0, "\"-Infinity\""},
	{16397, "9.99", 0, "9.99"},
	{1231, "{1.5,NaN,-0.10}", 0, "[1.5,\"NaN\",-0.10]"},
	/* the option does not touch floats or ints */
	{701, "NaN", 0, "\"NaN\""},
	{23, "1", 0, "1"},
};

static const struct vcase bool_bytea_cases[] = {
	{16, "t", 0, "true"},
	{16, "f", 0, "false"},
	{17, "\\x", 0, "\"\""},
	{17, "\\x0a0b", 0, "\"Cgs=\""},
	{17, "\\x00", 0, "\"AA==\""},
	{17, "\\x00ff10", 0, "\"AP8Q\""},
	{17, "\\xdeadbeef", 0, "\"3q2+7w==\""},
	{17, "\\xDEADBEEF", 0, "\"3q2+7w==\""},
	{17, "\\xfbff", 0, "\"+/8=\""},
	{17, "\\x666f6f626172", 0, "\"Zm9vYmFy\""},          /* RFC 4648 vector "foobar" */
	{17, "\\x666f6f6261", 0, "\"Zm9vYmE=\""},
	{17, "\\x666f6f62", 0, "\"Zm9vYg==\""},
};

static const struct vcase date_time_cases[] = {
	{1082, "2026-11-22", 0, "\"2026-11-22\""},
	{1082, "2000-02-29", 0, "\"2000-02-29\""},
	{1082, "infinity", 0, "\"infinity\""},
	{1082, "-infinity", 0, "\"-infinity\""},
	{1082, "0044-03-15 BC", 0, "\"0044-03-15 BC\""},
	{1082, "10000-01-01", 0, "\"10000-01-01\""},
	{1083, "10:00:00.123456", 0, "\"10:00:00.123456\""},
	{1083, "00:00:00", 0, "\"00:00:00\""},
	{1083, "23:59:59.5", 0, "\"23:59:59.5\""},
	{1083, "24:00:00", 0, "\"24:00:00\""},
	{1114, "2026-11-22 10:00:00.123456", 0, "\"2026-11-22T10:00:00.123456\""},
	{1114, "2026-11-22 10:00:00", 0, "\"2026-11-22T10:00:00\""},
	{1114, "2026-11-22 10:00:00.5", 0, "\"2026-11-22T10:00:00.5\""},
	{1114, "infinity", 0, "\"infinity\""},
	{1114, "-infinity", 0, "\"-infinity\""},
	{1114, "0044-03-15 10:00:00 BC", 0, "\"0044-03-15 10:00:00 BC\""},
	{1114, "20000-01-01 00:00:00", 0, "\"20000-01-01T00:00:00\""},
	{1184, "2026-11-22 10:00:00.123456+00", 0, "\"2026-11-22T10:00:00.123456Z\""},
	{1184, "2026-11-22 10:00:00+00", 0, "\"2026-11-22T10:00:00Z\""},
	{1184, "2026-11-22 15:30:00.123456+05:30", 0, "\"2026-11-22T10:00:00.123456Z\""},
	{1184, "2026-01-01 01:00:00-03", 0, "\"2026-01-01T04:00:00Z\""},
	{1184, "2026-12-31 23:30:00-01", 0, "\"2027-01-01T00:30:00Z\""},
	{1184, "2024-03-01 00:30:00+01", 0, "\"2024-02-29T23:30:00Z\""},
	{1184, "2023-03-01 00:30:00+01", 0, "\"2023-02-28T23:30:00Z\""},
	{1184, "2000-03-01 00:00:00.000001+00:00:01", 0, "\"2000-02-29T23:59:59.000001Z\""},
	/* local mean time offsets, as PostgreSQL prints them for 1900 */
	{1184, "1900-01-01 00:19:32+00:19:32", 0, "\"1900-01-01T00:00:00Z\""},
	{1184, "1899-12-31 20:29:08-03:30:52", 0, "\"1900-01-01T00:00:00Z\""},
	{1184, "infinity", 0, "\"infinity\""},
	{1184, "-infinity", 0, "\"-infinity\""},
	{1184, "20000-01-01 00:00:00+00", 0, "\"20000-01-01T00:00:00Z\""},
	{1184, "0044-03-15 10:00:00+00 BC", 0, "\"0044-03-15 10:00:00+00 BC\""},
	/* PostgreSQL 15 prints '0001-01-01 00:00:00+05:30' as this in UTC */
	{1184, "0001-01-01 00:00:00+05:30", 0, "\"0001-12-31 18:30:00+00 BC\""},
	{1184, "0001-12-31 23:00:00-02 BC", 0, "\"0001-01-01T01:00:00Z\""},
	{16398, "2026-11-22 10:00:00+01", 0, "\"2026-11-22T09:00:00Z\""},   /* domain */
	{1186, "P1Y2M3DT4H5M6.5S", 0, "\"P1Y2M3DT4H5M6.5S\""},
	{1186, "PT0S", 0, "\"PT0S\""},
	{1186, "P-1D", 0, "\"P-1D\""},
	{1186, "P-1DT2H", 0, "\"P-1DT2H\""},
	{1186, "PT-0.000001S", 0, "\"PT-0.000001S\""},
};

static const struct vcase string_cases[] = {
	{25, "", 0, "\"\""},
	{25, "hello", 0, "\"hello\""},
	{25, "a\"b\\c/d", 0, "\"a\\\"b\\\\c/d\""},
	{25, "\x01\x1f\n\t\r\b\f", 0, "\"\\u0001\\u001f\\n\\t\\r\\b\\f\""},
	{25, "a\0b", 3, "\"a\\u0000b\""},
	{25, "del\x7f", 0, "\"del\x7f\""},
	{25, "\xc3\xbc", 0, "\"\xc3\xbc\""},                       /* ü */
	{25, "\xe2\x82\xac", 0, "\"\xe2\x82\xac\""},               /* € */
	{25, "\xf0\x9f\x98\x80!", 0, "\"\xf0\x9f\x98\x80!\""},     /* 😀, 4 bytes */
	{25, "\xf4\x8f\xbf\xbf", 0, "\"\xf4\x8f\xbf\xbf\""},       /* U+10FFFF */
	{25, "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\""},               /* U+2028 is valid JSON */
	/* invalid UTF-8: one U+FFFD per maximal subpart */
	{25, "\xff", 0, "\"\xef\xbf\xbd\""},
	{25, "a\xe2\x82" "b", 0, "\"a\xef\xbf\xbd" "b\""},
	{25, "\xe2\x82", 0, "\"\xef\xbf\xbd\""},
	{25, "\xc0\xaf", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\""},       /* overlong '/' */
	{25, "\xed\xa0\x80", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},   /* surrogate */
	{25, "\xf4\x90\x80\x80", 0,
	 "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},               /* > U+10FFFF */
	{25, "\x80" "x", 0, "\"\xef\xbf\xbd" "x\""},
	{25, "\xf0\x9f\x98", 0, "\"\xef\xbf\xbd\""},
	{1043, "varchar", 0, "\"varchar\""},
	{1042, "ab  ", 0, "\"ab  \""},
	{19, "pg_catalog", 0, "\"pg_catalog\""},
	{18, "x", 0, "\"x\""},
	{790, "$1,000.00", 0, "\"$1,000.00\""},
	{142, "<a x=\"1\"/>", 0, "\"<a x=\\\"1\\\"/>\""},
	{869, "192.168.0.1/24", 0, "\"192.168.0.1/24\""},
	{650, "10.0.0.0/8", 0, "\"10.0.0.0/8\""},
	{829, "08:00:2b:01:02:03", 0, "\"08:00:2b:01:02:03\""},
	{1266, "10:00:00+05:30", 0, "\"10:00:00+05:30\""},
	{603, "(1,1),(0,0)", 0, "\"(1,1),(0,0)\""},
	{22, "1 2", 0, "\"1 2\""},
	{3904, "[1,10)", 0, "\"[1,10)\""},
	{16389, "happy", 0, "\"happy\""},                           /* enum */
	{50000, "(1,\"x y\")", 0, "\"(1,\\\"x y\\\")\""},            /* unknown user OID */
	{16420, "looped", 0, "\"looped\""},                         /* domain loop */
	{114, "{\"a\": [1, 2.5, null]}", 0, "\"{\\\"a\\\": [1, 2.5, null]}\""},
	{3802, "{\"k\": \"\xc3\xbc\\n\"}", 0, "\"{\\\"k\\\": \\\"\xc3\xbc\\\\n\\\"}\""},
	{3802, "[]", 0, "\"[]\""},
	{2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0, "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""},
	{2950, "00000000-0000-0000-0000-000000000000", 0, "\"00000000-0000-0000-0000-000000000000\""},
};

static const struct vcase array_cases[] = {
	{1007, "{1,2,NULL}", 0, "[1,2,null]"},
	{1007, "{{1,2},{3,4}}", 0, "[[1,2],[3,4]]"},
	{1007, "{}", 0, "[]"},
	{1007, "[0:1]={1,2}", 0, "[1,2]"},
	{1007, "[1:2][3:4]={{1,2},{3,4}}", 0, "[[1,2],[3,4]]"},
	{1007, "{{NULL,NULL}}", 0, "[[null,null]]"},
	{1007, "{{{1}}}", 0, "[[[1]]]"},
	{1007, "{{{{{{1,NULL}}}}}}", 0, "[[[[[[1,null]]]]]]"},     /* MAXDIM 6 */
	{1007, "{null,Null}", 0, "[null,null]"},
	{1016, "{9223372036854775807,-9223372036854775808}", 0,
	 "[9223372036854775807,-9223372036854775808]"},
	{1009, "{\"a b\",\"c\\\"d\",NULL,\"NULL\",\"\",\"x\\\\y\",\" s \"}", 0,
	 "[\"a b\",\"c\\\"d\",null,\"NULL\",\"\",\"x\\\\y\",\" s \"]"},
	{1009, "{\"{\",\"}\",\",\",\"\\\\\",\"\\\"\"}", 0,
	 "[\"{\",\"}\",\",\",\"\\\\\",\"\\\"\"]"},
	{1009, "{\xc3\xbc,\xf0\x9f\x98\x80,\"a\tb\"}", 0,
	 "[\"\xc3\xbc\",\"\xf0\x9f\x98\x80\",\"a\\tb\"]"},
	{1009, "{\"a,b\"}", 0, "[\"a,b\"]"},
	{1009, "{\"{}\"}", 0, "[\"{}\"]"},
	{1009, "{\"\\\xff\"}", 0, "[\"\xef\xbf\xbd\"]"},           /* escaped invalid byte */
	{1015, "{abc,NULL}", 0, "[\"abc\",null]"},
	{1014, "{\"a  \"}", 0, "[\"a  \"]"},
	{1003, "{pg_catalog}", 0, "[\"pg_catalog\"]"},
	{1022, "{1.5,NaN,-Infinity,1e+100}", 0, "[1.5,\"NaN\",\"-Infinity\",1e+100]"},
	{1021, "{0.1,Infinity}", 0, "[0.1,\"Infinity\"]"},
	{1000, "{t,f,NULL}", 0, "[true,false,null]"},
	{1001, "{\"\\\\x0a\",\"\\\\x\",NULL}", 0, "[\"Cg==\",\"\",null]"},
	{199, "{\"{\\\"a\\\": 1}\"}", 0, "[\"{\\\"a\\\": 1}\"]"},
	{3807, "{\"{\\\"a\\\": 1}\",\"[]\"}", 0, "[\"{\\\"a\\\": 1}\",\"[]\"]"},
	{1185, "{\"2026-01-01 07:00:00+00\",\"2026-01-01 10:00:00+03\"}", 0,
	 "[\"2026-01-01T07:00:00Z\",\"2026-01-01T07:00:00Z\"]"},
	{1115, "{\"2026-01-01 07:00:00.5\",infinity}", 0,
	 "[\"2026-01-01T07:00:00.5\",\"infinity\"]"},
	{1182, "{2026-01-01,infinity,\"0044-03-15 BC\"}", 0,
	 "[\"2026-01-01\",\"infinity\",\"0044-03-15 BC\"]"},
	{1183, "{10:00:00}", 0, "[\"10:00:00\"]"},
	{1187, "{P1D,PT0S}", 0, "[\"P1D\",\"PT0S\"]"},
	{2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", 0,
	 "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]"},
	{1020, "{(1,1),(0,0);(2,2),(1,1)}", 0, "[\"(1,1),(0,0)\",\"(2,2),(1,1)\"]"},
	{1020, "{(1,1),(0,0)}", 0, "[\"(1,1),(0,0)\"]"},
	{1041, "{192.168.0.1,::1/128}", 0, "[\"192.168.0.1\",\"::1/128\"]"},
	{791, "{\"$1.00\"}", 0, "[\"$1.00\"]"},
	{1270, "{10:00:00+05:30}", 0, "[\"10:00:00+05:30\"]"},
	{3905, "{\"[1,10)\",empty}", 0, "[\"[1,10)\",\"empty\"]"},
	/* user arrays */
	{16384, "{1,2}", 0, "[1,2]"},                              /* dint[] */
	{16387, "{\"a b\",c}", 0, "[\"a b\",\"c\"]"},               /* domain over text[] */
	{16388, "{happy,sad}", 0, "[\"happy\",\"sad\"]"},           /* mood[] */
	{16393, "{(1,1),(0,0);(3,3),(2,2)}", 0, "[\"(1,1),(0,0)\",\"(3,3),(2,2)\"]"},
	{16395, "{\"{1,2}\",\"{3}\",NULL}", 0, "[[1,2],[3],null]"},  /* darr[] */
	{16386, "{\"{\\\"a b\\\",c}\",\"{}\"}", 0, "[[\"a b\",\"c\"],[]]"}, /* dtxt[] */
	{16399, "{\"2026-11-22 10:00:00+01\"}", 0, "[\"2026-11-22T09:00:00Z\"]"},
};

static void test_int(void **s) { (void) s; run_vcases(int_cases, NELEM(int_cases), &default_opts); }
static void test_float(void **s) { (void) s; run_vcases(float_cases, NELEM(float_cases), &default_opts); }
static void test_numeric_string(void **s)
{
	(void) s;
	run_vcases(numeric_string_cases, NELEM(numeric_string_cases), &default_opts);
	run_vcases(numeric_string_cases, NELEM(numeric_string_cases), NULL);   /* no opts */
}
static void test_numeric_number(void **s)
{
	(void) s;
	run_vcases(numeric_number_cases, NELEM(numeric_number_cases), &number_opts);
}
static void test_bool_bytea(void **s)
{
	(void) s;
	run_vcases(bool_bytea_cases, NELEM(bool_bytea_cases), &default_opts);
}
static void test_date_time(void **s)
{
	(void) s;
	run_vcases(date_time_cases, NELEM(date_time_cases), &default_opts);
}
static void test_strings(void **s) { (void) s; run_vcases(string_cases, NELEM(string_cases), &default_opts); }
static void test_arrays(void **s) { (void) s; run_vcases(array_cases, NELEM(array_cases), &default_opts); }

/* Built-ins resolve without a registry. */
static void
test_no_registry(void **state)
{
	static const struct vcase c[] = {
		{23, "1", 0, "1"},
		{1009, "{a}", 0, "[\"a\"]"},
		{16385, "1", 0, "\"1\""},     /* unregistered domain: text */
	};
	struct jbuf b = { 0 };
	size_t i;
	int failed = 0;

	(void) state;
	for (i = 0; i < NELEM(c); i++)
		failed += run_vcase(&b, NULL, &c[i], &default_opts);
	jbuf_free(&b);
	assert_int_equal(failed, 0);
}

/* A long element that needs unescaping before it can be parsed as an array
 * (array of a domain over text[]) goes through the heap path. */
static void
test_array_long_escaped_element(void **state)
{
	struct cdc_types *t = user_registry();
	struct jbuf in = { 0 }, want = { 0 }, b = { 0 };
	struct cdc_value v;
	struct cdc_err err;
	int i;

	(void) state;
	jbuf_puts(&in, "{\"{");
	jbuf_puts(&want, "[[");
	for (i = 0; i < 200; i++) {
		jbuf_puts(&in, i ? ",\\\"x y\\\"" : "\\\"x y\\\"");
		jbuf_puts(&want, i ? ",\"x y\"" : "\"x y\"");
	}
	jbuf_puts(&in, "}\"}");
	jbuf_puts(&want, "]]");
	v.kind = CDC_VAL_TEXT;
	v.data = in.data;
	v.len = (uint32_t) in.len;
	cdc_err_clear(&err);
	assert_int_equal(json_put_value(&b, t, 16386, &v, &default_opts, &err), 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, want.len);
	jbuf_free(&in);
	jbuf_free(&want);
	jbuf_free(&b);
	types_free(t);
}

/* ------------------------------------------------------------- errors */

struct ecase {
	uint32_t oid;
	const char *in;
};

static const struct ecase error_cases[] = {
	{23, ""}, {23, "abc"}, {23, "1.5"}, {23, "+1"}, {23, "01"}, {23, " 1"}, {23, "1e3"},
	{23, "-"}, {20, "1 "},
	{701, "nan"}, {701, "inf"}, {701, ".5"}, {701, "1."}, {701, "1e"}, {701, "--1"},
	{701, "0x10"}, {701, ""}, {700, "1,5"},
	{1700, "1,5"}, {1700, "abc"}, {1700, ""}, {1700, "nan"}, {1700, "1e"},
	{16, "x"}, {16, ""}, {16, "T"}, {16, "yes"},
	{17, "\\x0"}, {17, "abc"}, {17, "\\xzz"}, {17, "\\000"}, {17, ""}, {17, "x00"},
	{1082, "11/22/2026"}, {1082, "2026-13-01"}, {1082, "2026-11-22x"}, {1082, "22.11.2026"},
	{1082, "26-11-22"}, {1082, "2026-11-32"}, {1082, ""}, {1082, "Infinity"},
	{1083, "10:00"}, {1083, "10:00:00+00"}, {1083, "10:00:00."}, {1083, "25:00:00"},
	{1083, "10:60:00"},
	{1114, "2026-11-22T10:00:00"}, {1114, "2026-11-22 10:00:00+00"}, {1114, "2026-11-22"},
	{1114, "Sun Nov 22 10:00:00 2026"}, {1114, "2026-11-22 10:00:00 AD"},
	{1184, "2026-11-22 10:00:00"}, {1184, "2026-11-22 10:00:00+5"},
	{1184, "2026-11-22 10:00:00 UTC"}, {1184, "2026-11-22 10:00:00+05:3"},
	{1184, "2026-11-22 10:00:00+05:30 CET"},
	{1186, "1 day"}, {1186, "@ 1 day"}, {1186, ""}, {1186, "P"}, {1186, "P1 day"},
	{2950, "a0eebc999c0b4ef8bb6d6bb9bd380a11"}, {2950, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"},
	{2950, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{1007, "{1,2"}, {1007, "1,2"}, {1007, "{1,,2}"}, {1007, "{1,x}"}, {1007, "{1}x"},
	{1007, "[0:1]{1,2}"}, {1007, "{\"1}"}, {1007, "{{1,2},{3,4}"}, {1007, ""}, {1007, "{,}"},
	{1007, "{1 2}"}, {1007, "{\"\"}"}, {1009, "{a\"b}"}, {1009, "{\"a\"b}"},
	{1009, "{\"a\\"}, {1007, "{1;2}"}, {1020, "{(1,1),(0,0),(2,2),(1,1)}x"},
	{16384, "{1,a}"}, {16395, "{\"{1,x}\"}"}, {16386, "{\"{\\\"a b\\\"\"}"},
	{16385, "x"}, {1231, "{1,abc}"}, {1001, "{\"\\\\xz\"}"}, {1185, "{\"2026-01-01\"}"},
};

static void
test_errors(void **state)
{
	struct cdc_types *t = user_registry();
	struct jbuf b = { 0 };
	size_t i;
	int failed = 0;

	(void) state;
	for (i = 0; i < NELEM(error_cases); i++) {
		const struct ecase *c = &error_cases[i];
		struct cdc_value v = { CDC_VAL_TEXT, (uint32_t) strlen(c->in), c->in };
		struct cdc_err err;
		char oidtxt[32];
		int rc;

		cdc_err_clear(&err);
		jbuf_reset(&b);
		jbuf_puts(&b, "prefix");
		rc = json_put_value(&b, t, c->oid, &v, &default_opts, &err);
		snprintf(oidtxt, sizeof(oidtxt), "type oid %u", c->oid);
		if (rc != CDC_ERR_PROTO || err.code != CDC_ERR_PROTO) {
			print_error("oid %u in '%s': rc %d, want CDC_ERR_PROTO (output '%.*s')\n",
			            c->oid, c->in, rc, (int) b.len, b.data);
			failed++;
		} else if (strstr(err.msg, oidtxt) == NULL) {
			print_error("oid %u in '%s': message does not name the type: %s\n",
			            c->oid, c->in, err.msg);
			failed++;
		} else if (b.len != 6 || memcmp(b.data, "prefix", 6) != 0) {
			print_error("oid %u in '%s': output not rewound: '%.*s'\n",
			            c->oid, c->in, (int) b.len, b.data);
			failed++;
		}
	}
	jbuf_free(&b);
	types_free(t);
	assert_int_equal(failed, 0);
}

/* The message quotes the offending text, truncated to 64 bytes. */
static void
test_error_message(void **state)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	char longtxt[200];
	struct cdc_value v;

	(void) state;
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_TEXT, 5, "12abc" };
	assert_int_equal(json_put_value(&b, NULL, 23, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 23"));
	assert_non_null(strstr(err.msg, "\"12abc\""));

	memset(longtxt, '7', sizeof(longtxt));
	longtxt[0] = 'x';
	longtxt[70] = '9';
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_TEXT, sizeof(longtxt), longtxt };
	assert_int_equal(json_put_value(&b, NULL, 20, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 20"));
	assert_non_null(strstr(err.msg, "\"x7777777777"));
	assert_null(strchr(err.msg, '9'));                 /* byte 70 is cut off */
	assert_non_null(strstr(err.msg, "..."));
	assert_true(strlen(err.msg) < 200);

	/* control bytes are not copied into the message */
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_TEXT, 3, "a\nb" };
	assert_int_equal(json_put_value(&b, NULL, 16, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_null(strchr(err.msg, '\n'));

	/* a NUL byte is not part of any interval */
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_TEXT, 4, "P1D\0" };
	assert_int_equal(json_put_value(&b, NULL, 1186, &v, &default_opts, &err), CDC_ERR_PROTO);

	/* an array element error names the element */
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_TEXT, 9, "{1,2,zz3}" };
	assert_int_equal(json_put_value(&b, NULL, 1007, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 1007"));
	assert_non_null(strstr(err.msg, "\"zz3\""));

	/* the first error wins */
	v = (struct cdc_value) { CDC_VAL_TEXT, 1, "q" };
	assert_int_equal(json_put_value(&b, NULL, 16, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 1007"));
	assert_int_equal(b.len, 0);
	jbuf_free(&b);
}

/* Every prefix of every input: an error or a valid mapping, never a crash
 * (run under ASan/UBSan).  Each prefix is copied to its own exact-size heap
 * block so a read past the end is caught. */
static void
test_truncation_sweep(void **state)
{
	const struct vcase *tables[] = { int_cases, float_cases, numeric_string_cases,
	                                 bool_bytea_cases, date_time_cases, string_cases,
	                                 array_cases };
	const size_t sizes[] = { NELEM(int_cases), NELEM(float_cases),
	                         NELEM(numeric_string_cases), NELEM(bool_bytea_cases),
	                         NELEM(date_time_cases), NELEM(string_cases),
	                         NELEM(array_cases) };
	struct cdc_types *t = user_registry();
	struct jbuf b = { 0 };
	size_t ti, i, k;
	int bad = 0;

	(void) state;
	for (ti = 0; ti < NELEM(tables); ti++) {
		for (i = 0; i < sizes[ti]; i++) {
			const struct vcase *c = &tables[ti][i];
			size_t n = c->inlen ? c->inlen : strlen(c->in);

			for (k = 0; k <= n; k++) {
				char *copy = malloc(k ? k : 1);
				struct cdc_value v = { CDC_VAL_TEXT, (uint32_t) k, copy };
				struct cdc_err err;
				int rc;

				assert_non_null(copy);
				memcpy(copy, c->in, k);
				cdc_err_clear(&err);
				jbuf_reset(&b);
				rc = json_put_value(&b, t, c->oid, &v, &default_opts, &err);
				if (rc == 0) {
					json_t *j = json_loadb(b.data, b.len,
					                       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

					if (j == NULL) {
						print_error("oid %u prefix %zu of '%s': invalid JSON '%.*s'\n",
						            c->oid, k, c->in, (int) b.len, b.data);
						bad++;
					}
					json_decref(j);
				} else if (rc != CDC_ERR_PROTO || b.len != 0) {
					bad++;
				}
				free(copy);
			}
		}
	}
	jbuf_free(&b);
	types_free(t);
	assert_int_equal(bad, 0);
}

/* Arrays nested deeper than any PostgreSQL array are refused, not recursed into. */
static void
test_array_depth_limit(void **state)
{
	char deep[2 * 1000 + 2];
	struct jbuf b = { 0 };
	struct cdc_value v;
	struct cdc_err err;

	(void) state;
	memset(deep, '{', 1000);
	deep[1000] = '1';
	memset(deep + 1001, '}', 1000);
	v = (struct cdc_value) { CDC_VAL_TEXT, 2001, deep };
	cdc_err_clear(&err);
	assert_int_equal(json_put_value(&b, NULL, 1007, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_int_equal(b.len, 0);
	jbuf_free(&b);
}

/* ------------------------------------------------ value kinds and jbuf */

static void
test_value_kinds(void **state)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	struct cdc_value v;

	(void) state;
	cdc_err_clear(&err);
	v = (struct cdc_value) { CDC_VAL_NULL, 0, NULL };
	assert_int_equal(json_put_value(&b, NULL, 23, &v, &default_opts, &err), 0);
	assert_int_equal(json_put_value(&b, NULL, 23, NULL, &default_opts, &err), 0);
	v = (struct cdc_value) { CDC_VAL_UNCHANGED, 0, NULL };
	assert_int_equal(json_put_value(&b, NULL, 25, &v, &default_opts, &err), 0);
	jbuf_putc(&b, '\0');
	assert_string_equal(b.data, "nullnull\"__debezium_unavailable_value\"");
	/* an empty text value without a data pointer is the empty string */
	jbuf_reset(&b);
	v = (struct cdc_value) { CDC_VAL_TEXT, 0, NULL };
	assert_int_equal(json_put_value(&b, NULL, 25, &v, &default_opts, &err), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "\"\"", 2);
	/* binary values are not requested by pgcdc: refused */
	jbuf_reset(&b);
	v = (struct cdc_value) { CDC_VAL_BINARY, 4, "\0\0\0\1" };
	assert_int_equal(json_put_value(&b, NULL, 23, &v, &default_opts, &err), CDC_ERR_PROTO);
	assert_int_equal(b.len, 0);
	jbuf_free(&b);
}

static void
test_jbuf(void **state)
{
	struct jbuf b;
	size_t cap;
	char *data;
	int i;

	(void) state;
	jbuf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	jbuf_put_jstring(&b, NULL, 0);
	jbuf_putc(&b, ' ');
	jbuf_puts(&b, "ab");
	jbuf_put(&b, "cd", 2);
	jbuf_put(&b, NULL, 0);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "\"\" abcd", 7);
	for (i = 0; i < 100000; i++)
		jbuf_put(&b, "0123456789", 10);
	assert_int_equal(b.len, 7 + 1000000);
	assert_true(b.cap >= b.len);
	assert_false(b.oom);
	assert_memory_equal(b.data + 7 + 999990, "0123456789", 10);
	cap = b.cap;
	data = b.data;
	jbuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);
	jbuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	jbuf_free(&b);          /* twice is fine */
	jbuf_free(NULL);
}

/* Random bytes always escape to a valid JSON string; random valid UTF-8 (every
 * plane, every control character) round-trips through jansson unchanged. */
static void
test_escape_fuzz(void **state)
{
	struct jbuf b = { 0 };
	unsigned seed = 12345;
	unsigned char in[64 * 4];
	int iter;

	(void) state;
	for (iter = 0; iter < 20000; iter++) {
		size_t n = 0, k, len;
		json_t *j;
		json_error_t jerr;
		bool valid = iter % 2 == 0;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 64;
		for (k = 0; k < len; k++) {
			uint32_t cp;

			seed = seed * 1103515245u + 12345u;
			if (!valid) {
				in[n++] = (unsigned char) (seed >> 16);
				continue;
			}
			switch ((seed >> 8) % 4) {
			case 0: cp = (seed >> 16) % 0x80; break;
			case 1: cp = 0x80 + (seed >> 12) % (0x800 - 0x80); break;
			case 2: cp = 0x800 + (seed >> 10) % (0x10000 - 0x800); break;
			default: cp = 0x10000 + (seed >> 4) % (0x110000 - 0x10000); break;
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;
			if (cp == 0)
				cp = 1;     /* jansson refuses \u0000 without JSON_ALLOW_NUL */
			if (cp < 0x80)
				in[n++] = (unsigned char) cp;
			else if (cp < 0x800) {
				in[n++] = (unsigned char) (0xC0 | cp >> 6);
				in[n++] = (unsigned char) (0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				in[n++] = (unsigned char) (0xE0 | cp >> 12);
				in[n++] = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
				in[n++] = (unsigned char) (0x80 | (cp & 0x3F));
			} else {
				in[n++] = (unsigned char) (0xF0 | cp >> 18);
				in[n++] = (unsigned char) (0x80 | (cp >> 12 & 0x3F));
				in[n++] = (unsigned char) (0x80 | (cp >> 6 & 0x3F));
				in[n++] = (unsigned char) (0x80 | (cp & 0x3F));
			}
		}
		jbuf_reset(&b);
		jbuf_put_jstring(&b, (const char *) in, n);
		j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (j == NULL)
			fail_msg("iteration %d: invalid JSON string: %s", iter, jerr.text);
		assert_true(json_is_string(j));
		if (valid) {
			assert_int_equal(json_string_length(j), n);
			assert_memory_equal(json_string_value(j), in, n);
		}
		json_decref(j);
	}
	jbuf_free(&b);
}

/* The escaper scans plain bytes 16 (or 8) at a time: every byte value at every
 * position of a plain run, and multi-byte characters straddling the scan's block
 * boundaries, give exactly what escaping one byte at a time gives. */
static size_t
escape_one(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"': return (size_t) sprintf(out, "\\\"");
	case '\\': return (size_t) sprintf(out, "\\\\");
	case '\b': return (size_t) sprintf(out, "\\b");
	case '\f': return (size_t) sprintf(out, "\\f");
	case '\n': return (size_t) sprintf(out, "\\n");
	case '\r': return (size_t) sprintf(out, "\\r");
	case '\t': return (size_t) sprintf(out, "\\t");
	}
	if (c < 0x20)
		return (size_t) sprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
	if (c >= 0x80)
		return (size_t) sprintf(out, "\xEF\xBF\xBD");   /* a lone byte: U+FFFD */
	out[0] = (char) c;
	return 1;
}

static void
test_escape_block_boundaries(void **state)
{
	static const char *multi[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80" };
	struct jbuf b = { 0 };
	char in[80], want[160];

	(void) state;
	for (size_t len = 1; len <= 70; len += 23) {
		for (size_t pos = 0; pos < len; pos++) {
			for (int c = 1; c < 256; c++) {
				size_t w = 0;

				memset(in, 'a' + (int) (pos % 26), len);
				in[pos] = (char) c;
				want[w++] = '"';
				memcpy(want + w, in, pos);
				w += pos;
				w += escape_one((unsigned char) c, want + w);
				memcpy(want + w, in + pos + 1, len - pos - 1);
				w += len - pos - 1;
				want[w++] = '"';
				jbuf_reset(&b);
				jbuf_put_jstring(&b, in, len);
				if (b.len != w || memcmp(b.data, want, w) != 0)
					fail_msg("byte 0x%02x at %zu of %zu: got %.*s", c, pos, len, (int) b.len, b.data);
			}
		}
	}
	/* valid multi-byte characters at every offset across two 16-byte blocks */
	for (size_t m = 0; m < sizeof(multi) / sizeof(multi[0]); m++) {
		size_t ml = strlen(multi[m]);

		for (size_t pos = 0; pos + ml <= 40; pos++) {
			memset(in, 'x', 40);
			memcpy(in + pos, multi[m], ml);
			jbuf_reset(&b);
			jbuf_put_jstring(&b, in, 40);
			assert_int_equal(b.len, 42);
			assert_memory_equal(b.data + 1, in, 40);
		}
	}
	jbuf_free(&b);
}

/* ------------------------------------------------------------ envelope */

/* orders(id int4 PK, name text, amount numeric, ts timestamptz, doc text) */
static struct cdc_column orders_cols[] = {
	{ "id", 23, -1, true, true, false, NULL },
	{ "name", 25, -1, false, false, false, NULL },
	{ "amount", 1700, -1, false, false, false, NULL },
	{ "ts", 1184, -1, false, false, false, NULL },
	{ "doc", 25, -1, false, false, false, NULL },
};

static struct cdc_rel orders = {
	.oid = 16500, .schema = "public", .name = "orders", .replident = 'd',
	.ncols = 5, .cols = orders_cols, .version = 1, .npk = 1,
};

#define TV(s) { CDC_VAL_TEXT, sizeof(s) - 1, s }
#define TNULL { CDC_VAL_NULL, 0, NULL }
#define TUNCH { CDC_VAL_UNCHANGED, 0, NULL }

static struct cdc_value new_vals[] = {
	TV("1"), TV("a"), TV("12.50"), TV("2026-11-22 10:00:00.123456+00"), TV("long"),
};
static struct cdc_value new_unch_vals[] = {
	TV("1"), TV("b"), TV("13.00"), TV("2026-11-22 11:00:00+01"), TUNCH,
};
static struct cdc_value old_full_vals[] = {
	TV("1"), TV("a"), TV("12.50"), TV("2026-11-22 10:00:00.123456+00"), TV("long"),
};
static struct cdc_value old_key_vals[] = {
	TV("7"), TNULL, TNULL, TNULL, TNULL,
};
static struct cdc_value short_vals[] = { TV("3"), TV("x") };

static struct cdc_tuple new_tup = { 5, new_vals };
static struct cdc_tuple new_unch_tup = { 5, new_unch_vals };
static struct cdc_tuple old_full_tup = { 5, old_full_vals };
static struct cdc_tuple old_key_tup = { 5, old_key_vals };
static struct cdc_tuple short_tup = { 2, short_vals };

static struct cdc_txn txn = {
	.xid = 748, .commit_lsn = 24023200, .end_lsn = 24023248,
	.commit_ts_us = INT64_C(1795341600123456), .prev_commit_lsn = 24023128,
};

/* Debezium 3.x's order (Envelope, AbstractSourceInfoStructMaker, the PostgreSQL
 * connector's SourceInfo) */
static const char *const envelope_keys[] = { "before", "after", "source", "op", "ts_ms",
                                             "ts_us", "ts_ns", "transaction" };
static const char *const source_keys[] = { "version", "connector", "name", "ts_ms",
                                           "snapshot", "db", "sequence", "ts_us", "ts_ns",
                                           "schema", "table", "txId", "lsn", "xmin" };
/* when the record was produced: 2026-11-22T10:00:00.150123456Z */
#define NOW_NS INT64_C(1795341600150123456)

static void
assert_key_order(json_t *obj, const char *const *keys, size_t n)
{
	const char *k;
	json_t *val;
	size_t i = 0;

	assert_true(json_is_object(obj));
	assert_int_equal(json_object_size(obj), n);
	json_object_foreach(obj, k, val) {
		(void) val;
		assert_string_equal(k, keys[i]);
		i++;
	}
}

/* Encode ch and parse it; checks the fixed parts every envelope shares. */
static json_t *
encode(const struct cdc_change *ch, const struct json_opts *o)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_error_t jerr;
	json_t *j, *src;

	cdc_err_clear(&err);
	jbuf_puts(&b, "keep");
	if (json_envelope(&b, ch, NULL, o, NOW_NS, &err) != 0)
		fail_msg("json_envelope: %s", err.msg);
	assert_memory_equal(b.data, "keep", 4);
	j = json_loadb(b.data + 4, b.len - 4, 0, &jerr);
	if (j == NULL)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int) b.len - 4, b.data + 4);
	jbuf_free(&b);
	assert_key_order(j, envelope_keys, NELEM(envelope_keys));
	src = json_object_get(j, "source");
	assert_key_order(src, source_keys, NELEM(source_keys));
	assert_string_equal(json_string_value(json_object_get(src, "connector")), "postgresql");
	assert_string_equal(json_string_value(json_object_get(src, "name")), "pgcdc");
	assert_string_equal(json_string_value(json_object_get(src, "db")), "app");
	assert_string_equal(json_string_value(json_object_get(src, "version")), "0.1.0");
	assert_string_equal(json_string_value(json_object_get(src, "schema")),
	                    ch->rel->schema);
	assert_string_equal(json_string_value(json_object_get(src, "table")), ch->rel->name);
	assert_true(json_is_null(json_object_get(src, "xmin")));
	assert_int_equal(json_integer_value(json_object_get(src, "lsn")), (json_int_t) ch->lsn);
	assert_int_equal(json_integer_value(json_object_get(j, "ts_ms")), INT64_C(1795341600150));
	assert_int_equal(json_integer_value(json_object_get(j, "ts_us")), INT64_C(1795341600150123));
	assert_int_equal(json_integer_value(json_object_get(j, "ts_ns")), NOW_NS);
	if (o->tx_order == 0)
		assert_true(json_is_null(json_object_get(j, "transaction")));
	return j;
}

/* Compare j[field] with the JSON text want ("null" for null). */
static void
assert_field(json_t *j, const char *field, const char *want)
{
	json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
	json_t *got = json_object_get(j, field);

	assert_non_null(w);
	assert_non_null(got);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY);

		print_error("%s: got %s, want %s\n", field, g, want);
		free(g);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

static const char *const full_row =
	"{\"id\":1,\"name\":\"a\",\"amount\":\"12.50\",\"ts\":\"2026-11-22T10:00:00.123456Z\","
	"\"doc\":\"long\"}";

/* A message record, parsed; its keys in Debezium's order plus "message". */
static json_t *
encode_message(const struct cdc_change *ch)
{
	static const char *const keys[] = { "before", "after", "source", "op", "ts_ms", "ts_us",
	                                    "ts_ns", "transaction", "message" };
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_error_t jerr;
	json_t *j;

	cdc_err_clear(&err);
	if (json_envelope(&b, ch, NULL, &default_opts, NOW_NS, &err) != 0)
		fail_msg("json_envelope: %s", err.msg);
	j = json_loadb(b.data, b.len, 0, &jerr);
	if (j == NULL)
		fail_msg("invalid JSON (%s): %.*s", jerr.text, (int) b.len, b.data);
	jbuf_free(&b);
	assert_key_order(j, keys, NELEM(keys));
	assert_key_order(json_object_get(j, "source"), source_keys, NELEM(source_keys));
	assert_field(json_object_get(j, "source"), "schema", "\"\"");
	assert_field(json_object_get(j, "source"), "table", "\"\"");
	return j;
}

/* A logical decoding message: op "m", no before/after, empty schema and table, the
 * content in base64, keyed by its prefix; a non-transactional one has txId null. */
static void
test_envelope_message(void **state)
{
	static const uint8_t content[] = { 'h', 'i', 0x00, 0xff, '\n' };
	struct cdc_message msg = { .prefix = "outbox", .content = content, .len = sizeof(content),
	                           .transactional = true };
	struct cdc_change ch = { .op = CDC_OP_MESSAGE, .lsn = 24023184, .txn = &txn, .msg = &msg };
	struct cdc_txn nontx = { .xid = 0, .commit_lsn = 24023300, .end_lsn = 24023300,
	                         .commit_ts_us = INT64_C(1795341600200000) };
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_t *j, *src;

	(void) state;
	j = encode_message(&ch);
	src = json_object_get(j, "source");
	assert_field(j, "op", "\"m\"");
	assert_field(j, "before", "null");
	assert_field(j, "after", "null");
	assert_field(j, "message", "{\"prefix\":\"outbox\",\"content\":\"aGkA/wo=\"}");
	assert_field(src, "txId", "748");
	assert_field(src, "ts_us", "1795341600123456");
	json_decref(j);
	/* every length's padding */
	for (size_t n = 0; n <= 3; n++) {
		static const char *const want[] = { "\"\"", "\"aA==\"", "\"aGk=\"", "\"aGkA\"" };
		json_t *m;

		msg.len = n;
		j = encode_message(&ch);
		m = json_object_get(j, "message");
		assert_field(m, "content", want[n]);
		json_decref(j);
	}
	msg.len = sizeof(content);
	/* non-transactional: no transaction id */
	ch.txn = &nontx;
	msg.transactional = false;
	msg.prefix = "audit \"quoted\"";
	j = encode_message(&ch);
	src = json_object_get(j, "source");
	assert_field(src, "txId", "null");
	assert_field(src, "ts_ms", "1795341600200");
	assert_field(json_object_get(j, "message"), "prefix", "\"audit \\\"quoted\\\"\"");
	json_decref(j);
	/* the key: {"prefix": ...} */
	cdc_err_clear(&err);
	assert_int_equal(json_key(&b, &ch, NULL, &default_opts, &err), 0);
	jbuf_putc(&b, '\0');
	assert_string_equal(b.data, "{\"prefix\":\"audit \\\"quoted\\\"\"}");
	jbuf_free(&b);
	/* a message record without its message is refused */
	ch.msg = NULL;
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, NOW_NS, &err), CDC_ERR_PROTO);
	jbuf_free(&b);
}

/* The SPEC §3 example, byte for byte. */
static void
test_envelope_exact(void **state)
{
	struct cdc_change ch = { .op = 'c', .lsn = 24023184, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_tup, .snapshot = CDC_SNAP_FALSE };
	struct jbuf b = { 0 };
	struct cdc_err err;
	const char *want =
		"{\"before\":null,"
		"\"after\":{\"id\":1,\"name\":\"a\",\"amount\":\"12.50\","
		"\"ts\":\"2026-11-22T10:00:00.123456Z\",\"doc\":\"long\"},"
		"\"source\":{\"version\":\"0.1.0\",\"connector\":\"postgresql\",\"name\":\"pgcdc\","
		"\"ts_ms\":1795341600123,\"snapshot\":\"false\",\"db\":\"app\","
		"\"sequence\":\"[\\\"24023128\\\",\\\"24023184\\\"]\",\"ts_us\":1795341600123456,"
		"\"ts_ns\":1795341600123456000,\"schema\":\"public\","
		"\"table\":\"orders\",\"txId\":748,\"lsn\":24023184,\"xmin\":null},"
		"\"op\":\"c\",\"ts_ms\":1795341600150,\"ts_us\":1795341600150123,"
		"\"ts_ns\":1795341600150123456,\"transaction\":null}";

	(void) state;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, NOW_NS, &err), 0);
	jbuf_putc(&b, '\0');
	assert_string_equal(b.data, want);
	jbuf_free(&b);
}

/* transaction_topic: the record's "transaction" block, and the BEGIN/END records */
static void
test_envelope_transaction(void **state)
{
	static const struct json_tx_count counts[] = { { "public.orders", 2 }, { "s.\"q\"", 1 } };
	struct cdc_change ch = { .op = 'c', .lsn = 24023184, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_tup };
	struct json_opts o = default_opts;
	struct jbuf k = { 0 }, v = { 0 };
	struct cdc_err err;
	json_t *j;

	(void) state;
	o.tx_order = 3;
	o.tx_collection_order = 2;
	j = encode(&ch, &o);
	assert_field(j, "transaction",
	             "{\"id\":\"748:24023184\",\"total_order\":3,\"data_collection_order\":2}");
	json_decref(j);
	o.tx_order = 0;
	j = encode(&ch, &o);
	assert_field(j, "transaction", "null");
	json_decref(j);

	cdc_err_clear(&err);
	assert_int_equal(json_tx_event(&k, &v, 748, 24023000, INT64_C(1795341600123456), NULL, 0, 0, false,
	                               &err), 0);
	jbuf_putc(&k, '\0');
	jbuf_putc(&v, '\0');
	assert_string_equal(k.data, "{\"id\":\"748:24023000\"}");
	/* TransactionMetadataValue's field order: status, id, event_count, data_collections, ts_ms */
	assert_string_equal(v.data, "{\"status\":\"BEGIN\",\"id\":\"748:24023000\","
	                    "\"event_count\":null,\"data_collections\":null,\"ts_ms\":1795341600123}");
	jbuf_reset(&k);
	jbuf_reset(&v);
	assert_int_equal(json_tx_event(&k, &v, 748, 24023300, INT64_C(1795341600123456), counts, 2, 3, false,
	                               &err), 0);
	jbuf_putc(&v, '\0');
	assert_string_equal(v.data, "{\"status\":\"END\",\"id\":\"748:24023300\","
	                    "\"event_count\":3,\"data_collections\":[{\"data_collection\":\"public.orders\","
	                    "\"event_count\":2},{\"data_collection\":\"s.\\\"q\\\"\",\"event_count\":1}],"
	                    "\"ts_ms\":1795341600123}");
	jbuf_free(&k);
	jbuf_free(&v);
}

static void
test_envelope_create_read(void **state)
{
	struct cdc_change ch = { .op = 'c', .lsn = 24023184, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_tup };
	json_t *j, *src;

	(void) state;
	j = encode(&ch, &default_opts);
	assert_field(j, "before", "null");
	assert_field(j, "after", full_row);
	assert_field(j, "op", "\"c\"");
	src = json_object_get(j, "source");
	assert_field(src, "snapshot", "\"false\"");
	assert_field(src, "ts_ms", "1795341600123");
	assert_field(src, "txId", "748");
	assert_field(src, "sequence", "\"[\\\"24023128\\\",\\\"24023184\\\"]\"");
	json_decref(j);

	/* snapshot rows: "true", and "last" on the final one */
	ch.op = 'r';
	ch.snapshot = CDC_SNAP_TRUE;
	j = encode(&ch, &default_opts);
	assert_field(j, "op", "\"r\"");
	assert_field(j, "before", "null");
	assert_field(j, "after", full_row);
	assert_field(json_object_get(j, "source"), "snapshot", "\"true\"");
	json_decref(j);
	ch.snapshot = CDC_SNAP_LAST;
	j = encode(&ch, &default_opts);
	assert_field(json_object_get(j, "source"), "snapshot", "\"last\"");
	json_decref(j);
	/* a row of an online backfill chunk (SPEC §7) */
	ch.snapshot = CDC_SNAP_INCREMENTAL;
	j = encode(&ch, &default_opts);
	assert_field(j, "op", "\"r\"");
	assert_field(json_object_get(j, "source"), "snapshot", "\"incremental\"");
	json_decref(j);
}

static void
test_envelope_source_edges(void **state)
{
	struct cdc_txn t0 = { .xid = 0, .commit_ts_us = -1500, .prev_commit_lsn = 0 };
	struct cdc_change ch = { .op = 'c', .lsn = UINT64_C(0x7FFFFFFF00000001), .txn = &t0,
	                         .rel = &orders, .new_tuple = &new_tup };
	json_t *j, *src;

	(void) state;
	j = encode(&ch, &default_opts);
	src = json_object_get(j, "source");
	assert_field(src, "txId", "null");
	assert_field(src, "sequence", "\"[null,\\\"9223372032559808513\\\"]\"");
	assert_field(src, "ts_ms", "-2");           /* floor(-1.5 ms) */
	assert_field(src, "ts_us", "-1500");
	assert_field(src, "ts_ns", "-1500000");
	json_decref(j);

	/* commit times whose nanoseconds do not fit in 64 bits (after 2262, before 1677):
	 * ts_ns saturates, the others are exact */
	t0.commit_ts_us = INT64_C(8071679329006880768);
	j = encode(&ch, &default_opts);
	src = json_object_get(j, "source");
	assert_field(src, "ts_us", "8071679329006880768");
	assert_field(src, "ts_ns", "9223372036854775807");
	json_decref(j);
	t0.commit_ts_us = -INT64_C(8071679329006880768);
	j = encode(&ch, &default_opts);
	src = json_object_get(j, "source");
	assert_field(src, "ts_ns", "-9223372036854775808");
	json_decref(j);

	/* no transaction (a snapshot producer may leave it out) */
	ch.txn = NULL;
	ch.lsn = 5;
	j = encode(&ch, &default_opts);
	src = json_object_get(j, "source");
	assert_field(src, "txId", "null");
	assert_field(src, "ts_ms", "0");
	assert_field(src, "ts_us", "0");
	assert_field(src, "sequence", "\"[null,\\\"5\\\"]\"");
	json_decref(j);
}

/* json_opts_prepare only caches escaped text: a prepared and an unprepared opts
 * give the same bytes, also for names that need escaping and names too long for
 * the cache; LSNs and xids of every digit count print as printf does. */
static void
test_envelope_prepared_opts(void **state)
{
	static const char *names[] = { "pgcdc", "we\"ird\\na\xC3\xA9me\x01", NULL };
	static const uint64_t nums[] = { 0, 1, 9, 10, 99, 100, 101, 999, 1000, 4294967295u,
	                                 UINT64_C(10000000000000000000), UINT64_MAX };
	char longname[400];
	struct cdc_txn t = txn;
	struct cdc_change ch = { .op = 'c', .lsn = 24023184, .txn = &t, .rel = &orders,
	                         .new_tuple = &new_tup, .snapshot = CDC_SNAP_FALSE };
	struct jbuf a = { 0 }, b = { 0 };
	struct cdc_err err;

	(void) state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	names[2] = longname;
	for (size_t i = 0; i < NELEM(names); i++) {
		struct json_opts plain = default_opts, prep = default_opts;

		plain.name = prep.name = names[i];
		prep.db = plain.db = i == 1 ? "d\"b" : "app";
		json_opts_prepare(&prep);
		assert_true(i == 2 ? prep.src_head_len == 0 : prep.src_head_len > 0);
		assert_int_equal(plain.src_head_len, 0);
		for (size_t k = 0; k < NELEM(nums); k++) {
			char want[64];
			json_t *j;

			ch.lsn = nums[k];
			t.xid = (uint32_t) nums[k];
			t.prev_commit_lsn = nums[NELEM(nums) - 1 - k];
			cdc_err_clear(&err);
			jbuf_reset(&a);
			jbuf_reset(&b);
			assert_int_equal(json_envelope(&a, &ch, NULL, &plain, 7, &err), 0);
			assert_int_equal(json_envelope(&b, &ch, NULL, &prep, 7, &err), 0);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
			snprintf(want, sizeof(want), ",\"lsn\":%" PRIu64 ",", nums[k]);
			jbuf_putc(&b, '\0');
			assert_non_null(strstr(b.data, want));
			j = json_loadb(a.data, a.len, JSON_DECODE_INT_AS_REAL, NULL);
			assert_non_null(j);
			assert_string_equal(json_string_value(json_object_get(json_object_get(j, "source"),
			                                                      "name")), names[i][0] == 'w'
			                    ? "we\"ird\\na\xC3\xA9me\x01" : names[i]);
			json_decref(j);
		}
	}
	jbuf_free(&a);
	jbuf_free(&b);
}

struct upd_case {
	char replident;
	bool with_key_cols;
	const struct cdc_tuple *old;
	char old_kind;
	const char *before;
};

static void
test_envelope_update(void **state)
{
	const struct upd_case cases[] = {
		{ 'f', true, &old_full_tup, 'O', full_row },
		{ 'd', true, &old_key_tup, 'K', "{\"id\":7}" },
		{ 'i', true, &old_key_tup, 'K', "{\"id\":7}" },
		{ 'd', true, NULL, 0, "{\"id\":1}" },    /* key unchanged: from the new row */
		{ 'i', true, NULL, 0, "{\"id\":1}" },
		{ 'n', true, NULL, 0, "null" },
		{ 'n', false, NULL, 0, "null" },
		{ 'd', false, NULL, 0, "null" },         /* no primary key */
		{ 'f', true, NULL, 0, "null" },
	};
	struct cdc_column cols[5];
	struct cdc_rel rel = orders;
	size_t i;

	(void) state;
	rel.cols = cols;
	for (i = 0; i < NELEM(cases); i++) {
		struct cdc_change ch = { .op = 'u', .lsn = 24023184, .txn = &txn, .rel = &rel,
		                         .old_tuple = cases[i].old, .old_kind = cases[i].old_kind,
		                         .new_tuple = &new_tup };
		json_t *j, *want;

		memcpy(cols, orders_cols, sizeof(cols));
		cols[0].key = cases[i].with_key_cols;
		rel.replident = cases[i].replident;
		j = encode(&ch, &default_opts);
		want = json_loads(cases[i].before, JSON_DECODE_ANY, NULL);
		assert_non_null(want);
		if (!json_equal(json_object_get(j, "before"), want))
			print_error("update case %zu (replident %c, old_kind %c)\n", i,
			            cases[i].replident, cases[i].old_kind ? cases[i].old_kind : '-');
		assert_field(j, "op", "\"u\"");
		assert_field(j, "after", full_row);
		assert_field(j, "before", cases[i].before);
		json_decref(want);
		json_decref(j);
	}
}

static void
test_envelope_delete(void **state)
{
	struct cdc_change ch = { .op = 'd', .lsn = 24023184, .txn = &txn, .rel = &orders,
	                         .old_tuple = &old_key_tup, .old_kind = 'K' };
	json_t *j;

	(void) state;
	j = encode(&ch, &default_opts);
	assert_field(j, "op", "\"d\"");
	assert_field(j, "before", "{\"id\":7}");
	assert_field(j, "after", "null");
	json_decref(j);

	ch.old_tuple = &old_full_tup;
	ch.old_kind = 'O';
	j = encode(&ch, &default_opts);
	assert_field(j, "before", full_row);
	assert_field(j, "after", "null");
	json_decref(j);

	ch.old_tuple = NULL;
	ch.old_kind = 0;
	j = encode(&ch, &default_opts);
	assert_field(j, "before", "null");
	assert_field(j, "after", "null");
	json_decref(j);

	/* a new tuple on a delete is ignored */
	ch.new_tuple = &new_tup;
	j = encode(&ch, &default_opts);
	assert_field(j, "before", "null");
	assert_field(j, "after", "null");
	json_decref(j);
}

static void
test_envelope_truncate(void **state)
{
	struct cdc_change ch = { .op = 't', .lsn = 24023184, .txn = &txn, .rel = &orders };
	json_t *j;

	(void) state;
	j = encode(&ch, &default_opts);
	assert_field(j, "op", "\"t\"");
	assert_field(j, "before", "null");
	assert_field(j, "after", "null");
	json_decref(j);
}

static void
test_envelope_toast(void **state)
{
	struct cdc_change ch = { .op = 'u', .lsn = 24023184, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_unch_tup };
	struct json_opts omit = default_opts;
	json_t *j;

	(void) state;
	j = encode(&ch, &default_opts);
	assert_field(j, "after", "{\"id\":1,\"name\":\"b\",\"amount\":\"13.00\","
	             "\"ts\":\"2026-11-22T10:00:00Z\",\"doc\":\"__debezium_unavailable_value\"}");
	json_decref(j);

	omit.omit_unchanged_toast = true;
	j = encode(&ch, &omit);
	assert_field(j, "after", "{\"id\":1,\"name\":\"b\",\"amount\":\"13.00\","
	             "\"ts\":\"2026-11-22T10:00:00Z\"}");
	json_decref(j);

	/* only the last column unchanged, and omitted: no dangling comma either way */
	{
		struct cdc_value first_unch[] = { TUNCH, TV("b"), TV("1"), TNULL, TV("d") };
		struct cdc_tuple tup = { 5, first_unch };

		ch.new_tuple = &tup;
		j = encode(&ch, &omit);
		assert_field(j, "after", "{\"name\":\"b\",\"amount\":\"1\",\"ts\":null,"
		             "\"doc\":\"d\"}");
		json_decref(j);
	}
}

static void
test_envelope_numeric_number(void **state)
{
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_tup };
	struct jbuf b = { 0 };
	struct cdc_err err;

	(void) state;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &number_opts, 0, &err), 0);
	jbuf_putc(&b, '\0');
	/* verbatim, not re-formatted by a double */
	assert_non_null(strstr(b.data, "\"amount\":12.50,"));
	jbuf_free(&b);
}

/* A tuple with fewer values than the relation has columns: the rest are null. */
static void
test_envelope_short_tuple(void **state)
{
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .new_tuple = &short_tup };
	struct cdc_tuple empty = { 0, NULL };
	json_t *j;

	(void) state;
	j = encode(&ch, &default_opts);
	assert_field(j, "after", "{\"id\":3,\"name\":\"x\",\"amount\":null,\"ts\":null,"
	             "\"doc\":null}");
	json_decref(j);
	ch.new_tuple = &empty;
	j = encode(&ch, &default_opts);
	assert_field(j, "after", "{\"id\":null,\"name\":null,\"amount\":null,\"ts\":null,"
	             "\"doc\":null}");
	json_decref(j);
}

/* Odd names and user types in the envelope. */
static void
test_envelope_names_and_types(void **state)
{
	struct cdc_column cols[] = {
		{ "we\"ird\n", 16384, -1, true, true, false, NULL },
		{ "\xc3\xbc", 16389, -1, false, false, false, NULL },
		{ NULL, 17, -1, false, false, false, NULL },
	};
	struct cdc_rel rel = { .oid = 1, .schema = "s\\", .name = "t\"", .replident = 'd',
	                       .ncols = 3, .cols = cols, .npk = 1 };
	struct cdc_value vals[] = { TV("{1,NULL}"), TV("sad"), TV("\\x0a0b") };
	struct cdc_tuple tup = { 3, vals };
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &rel,
	                         .new_tuple = &tup };
	struct cdc_types *t = user_registry();
	struct jbuf b = { 0 };
	struct cdc_err err;
	json_t *j;

	(void) state;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, t, &default_opts, 0, &err), 0);
	j = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(j);
	assert_field(j, "after", "{\"we\\\"ird\\n\":[1,null],\"\xc3\xbc\":\"sad\",\"\":\"Cgs=\"}");
	assert_field(json_object_get(j, "source"), "schema", "\"s\\\\\"");
	assert_field(json_object_get(j, "source"), "table", "\"t\\\"\"");
	json_decref(j);
	jbuf_free(&b);
	types_free(t);
}

static void
test_envelope_errors(void **state)
{
	struct cdc_value bad_vals[] = { TV("1"), TV("a"), TV("12,50"), TNULL, TNULL };
	struct cdc_tuple bad = { 5, bad_vals };
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .new_tuple = &bad };
	struct jbuf b = { 0 };
	struct cdc_err err;

	(void) state;
	jbuf_puts(&b, "previous record\n");
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 1700"));
	assert_non_null(strstr(err.msg, "12,50"));
	assert_int_equal(b.len, 16);           /* nothing of the failed record is left */

	/* bad value in the before image of a delete */
	ch.op = 'd';
	ch.new_tuple = NULL;
	ch.old_tuple = &bad;
	ch.old_kind = 'O';
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	assert_int_equal(b.len, 16);

	/* malformed changes */
	ch.op = 'c';
	ch.new_tuple = NULL;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	ch.op = 'u';
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	ch.op = 'x';
	ch.new_tuple = &new_tup;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "op"));
	ch.op = 'c';
	ch.rel = NULL;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), CDC_ERR_PROTO);
	assert_int_equal(b.len, 16);
	jbuf_free(&b);
}

/* Once the buffer has grown, encoding the same record again does not reallocate. */
static void
test_envelope_no_realloc(void **state)
{
	struct cdc_change ch = { .op = 'u', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .old_tuple = &old_full_tup, .old_kind = 'O',
	                         .new_tuple = &new_tup };
	struct jbuf b = { 0 };
	struct cdc_err err;
	char *data;
	size_t len, cap;
	int i;

	(void) state;
	cdc_err_clear(&err);
	assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), 0);
	assert_int_equal(json_key(&b, &ch, NULL, &default_opts, &err), 0);
	data = b.data;
	cap = b.cap;
	len = b.len;
	for (i = 0; i < 1000; i++) {
		jbuf_reset(&b);
		assert_int_equal(json_envelope(&b, &ch, NULL, &default_opts, 0, &err), 0);
		assert_int_equal(json_key(&b, &ch, NULL, &default_opts, &err), 0);
		assert_int_equal(b.len, len);
	}
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	jbuf_free(&b);
}

/* ----------------------------------------------------------------- key */

static void
expect_key(const struct cdc_change *ch, const struct json_opts *o, const char *want)
{
	struct jbuf b = { 0 };
	struct cdc_err err;
	int rc;

	cdc_err_clear(&err);
	jbuf_puts(&b, "k=");
	rc = json_key(&b, ch, NULL, o, &err);
	if (want == NULL) {
		assert_int_equal(rc, 1);
		assert_int_equal(b.len, 2);
	} else {
		json_t *j, *w;

		if (rc != 0)
			fail_msg("json_key: %d %s", rc, err.msg);
		jbuf_putc(&b, '\0');
		if (strcmp(b.data + 2, want) != 0)
			fail_msg("key: got %s, want %s", b.data + 2, want);
		j = json_loads(b.data + 2, 0, NULL);
		w = json_loads(want, 0, NULL);
		assert_non_null(j);
		assert_true(json_equal(j, w));
		json_decref(j);
		json_decref(w);
	}
	jbuf_free(&b);
}

static void
test_key(void **state)
{
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .new_tuple = &new_tup };
	struct cdc_value unch_key_vals[] = { TUNCH, TV("n"), TNULL, TNULL, TNULL };
	struct cdc_tuple unch_key = { 5, unch_key_vals };

	(void) state;
	expect_key(&ch, &default_opts, "{\"id\":1}");
	ch.op = 'r';
	expect_key(&ch, &default_opts, "{\"id\":1}");
	/* update: the new key */
	ch.op = 'u';
	ch.old_tuple = &old_key_tup;
	ch.old_kind = 'K';
	expect_key(&ch, &default_opts, "{\"id\":1}");
	/* update whose new key is unchanged TOAST: the old one */
	ch.new_tuple = &unch_key;
	expect_key(&ch, &default_opts, "{\"id\":7}");
	/* ... and without an old tuple, the placeholder (nothing better is known) */
	ch.old_tuple = NULL;
	ch.old_kind = 0;
	expect_key(&ch, &default_opts, "{\"id\":\"__debezium_unavailable_value\"}");
	/* delete: the old key */
	ch.op = 'd';
	ch.new_tuple = NULL;
	ch.old_tuple = &old_key_tup;
	ch.old_kind = 'K';
	expect_key(&ch, &default_opts, "{\"id\":7}");
	ch.old_tuple = &old_full_tup;
	ch.old_kind = 'O';
	expect_key(&ch, &default_opts, "{\"id\":1}");
	/* delete without an old row: null key */
	ch.old_tuple = NULL;
	ch.old_kind = 0;
	expect_key(&ch, &default_opts, NULL);
	/* truncate: null key */
	ch.op = 't';
	ch.new_tuple = &new_tup;
	expect_key(&ch, &default_opts, NULL);
}

static void
test_key_no_pk(void **state)
{
	struct cdc_column cols[5];
	struct cdc_rel rel = orders;
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &rel,
	                         .new_tuple = &new_tup };

	(void) state;
	memcpy(cols, orders_cols, sizeof(cols));
	rel.cols = cols;
	rel.npk = 0;
	expect_key(&ch, &default_opts, NULL);
	/* npk set but no column flagged: still no key */
	cols[0].pk = false;
	rel.npk = 1;
	expect_key(&ch, &default_opts, NULL);
}

/* A composite key in column order; a numeric key column honours the option;
 * values can be null. */
static void
test_key_composite(void **state)
{
	struct cdc_column cols[] = {
		{ "amount", 1700, -1, true, true, false, NULL },
		{ "name", 25, -1, false, false, false, NULL },
		{ "id", 23, -1, true, true, false, NULL },
		{ "pk_not_identity", 23, -1, false, true, false, NULL },
	};
	struct cdc_rel rel = { .oid = 2, .schema = "public", .name = "c", .replident = 'i',
	                       .ncols = 4, .cols = cols, .npk = 3 };
	struct cdc_value nv[] = { TV("12.50"), TV("n"), TV("5"), TV("9") };
	struct cdc_value ov[] = { TV("-1.0"), TNULL, TV("4"), TNULL };
	struct cdc_tuple nt = { 4, nv }, ot = { 4, ov }, shortt = { 1, ov };
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &rel,
	                         .new_tuple = &nt };

	(void) state;
	expect_key(&ch, &default_opts, "{\"amount\":\"12.50\",\"id\":5,\"pk_not_identity\":9}");
	expect_key(&ch, &number_opts, "{\"amount\":12.50,\"id\":5,\"pk_not_identity\":9}");
	/* delete with the identity key: a pk column outside the identity is null */
	ch.op = 'd';
	ch.new_tuple = NULL;
	ch.old_tuple = &ot;
	ch.old_kind = 'K';
	expect_key(&ch, &default_opts, "{\"amount\":\"-1.0\",\"id\":4,\"pk_not_identity\":null}");
	/* a short old tuple: missing values are null, never read out of bounds */
	ch.old_tuple = &shortt;
	expect_key(&ch, &default_opts, "{\"amount\":\"-1.0\",\"id\":null,\"pk_not_identity\":null}");
}

static void
test_key_error(void **state)
{
	struct cdc_value vals[] = { TV("x1"), TV("a"), TNULL, TNULL, TNULL };
	struct cdc_tuple tup = { 5, vals };
	struct cdc_change ch = { .op = 'c', .lsn = 1, .txn = &txn, .rel = &orders,
	                         .new_tuple = &tup };
	struct jbuf b = { 0 };
	struct cdc_err err;

	(void) state;
	cdc_err_clear(&err);
	jbuf_puts(&b, "ab");
	assert_int_equal(json_key(&b, &ch, NULL, &default_opts, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "type oid 23"));
	assert_int_equal(b.len, 2);
	jbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_float),
		cmocka_unit_test(test_numeric_string),
		cmocka_unit_test(test_numeric_number),
		cmocka_unit_test(test_bool_bytea),
		cmocka_unit_test(test_date_time),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_no_registry),
		cmocka_unit_test(test_array_long_escaped_element),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_array_depth_limit),
		cmocka_unit_test(test_value_kinds),
		cmocka_unit_test(test_jbuf),
		cmocka_unit_test(test_escape_fuzz),
		cmocka_unit_test(test_escape_block_boundaries),
		cmocka_unit_test(test_envelope_exact),
		cmocka_unit_test(test_envelope_message),
		cmocka_unit_test(test_envelope_create_read),
		cmocka_unit_test(test_envelope_transaction),
		cmocka_unit_test(test_envelope_source_edges),
		cmocka_unit_test(test_envelope_prepared_opts),
		cmocka_unit_test(test_envelope_update),
		cmocka_unit_test(test_envelope_delete),
		cmocka_unit_test(test_envelope_truncate),
		cmocka_unit_test(test_envelope_toast),
		cmocka_unit_test(test_envelope_numeric_number),
		cmocka_unit_test(test_envelope_short_tuple),
		cmocka_unit_test(test_envelope_names_and_types),
		cmocka_unit_test(test_envelope_errors),
		cmocka_unit_test(test_envelope_no_realloc),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_no_pk),
		cmocka_unit_test(test_key_composite),
		cmocka_unit_test(test_key_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
