/*
 * test_copytext.c — the COPY text-format line parser (decoder/copytext.c) that reads
 * snapshot and backfill rows: plain fields are views into the line, \N is NULL, every
 * escape PostgreSQL's COPY TO writes is decoded (and the octal and hex forms COPY FROM
 * accepts), empty fields and lines, a trailing newline, and a wrong column count is an
 * error naming both counts.  A randomized round trip checks the field splitting
 * against an escaper written here, for lines of every length up to 300 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder/copytext.h"

static const struct cdc_tuple *
parse_ok(struct copytext *ct, const char *line)
{
	const struct cdc_tuple *t = NULL;
	struct cdc_err err = { 0 };

	assert_int_equal(copytext_parse(ct, line, strlen(line), &t, &err), 0);
	assert_non_null(t);
	return t;
}

static void
assert_text(const struct cdc_tuple *t, int i, const char *want, size_t wantlen)
{
	assert_int_equal(t->vals[i].kind, CDC_VAL_TEXT);
	assert_int_equal(t->vals[i].len, wantlen);
	assert_memory_equal(t->vals[i].data, want, wantlen);
}

static void
test_plain_and_null(void **state)
{
	struct copytext *ct = copytext_new(4);
	const char *line = "1\tname 1\t\\N\t2026-11-22 10:00:01+00\n";
	const struct cdc_tuple *t = parse_ok(ct, line);

	(void) state;
	assert_int_equal(t->ncols, 4);
	assert_text(t, 0, "1", 1);
	assert_text(t, 1, "name 1", 6);
	assert_ptr_equal(t->vals[1].data, line + 2);     /* a view into the line */
	assert_int_equal(t->vals[2].kind, CDC_VAL_NULL);
	assert_text(t, 3, "2026-11-22 10:00:01+00", 22);
	copytext_free(ct);
}

static void
test_escapes(void **state)
{
	struct copytext *ct = copytext_new(5);
	const struct cdc_tuple *t =
		parse_ok(ct, "a\\tb\\nc\\\\d\t\\b\\f\\r\\v\t\\101\\x42\\x4a\\7\t\\\\N\\\\N\tx\\\\");

	(void) state;
	assert_text(t, 0, "a\tb\nc\\d", 7);
	assert_text(t, 1, "\b\f\r\v", 4);
	assert_text(t, 2, "ABJ\a", 4);
	assert_text(t, 3, "\\N\\N", 4);      /* an escaped backslash before N is not NULL */
	assert_text(t, 4, "x\\", 2);
	copytext_free(ct);
}

static void
test_empty_fields(void **state)
{
	struct copytext *ct = copytext_new(3), *one = copytext_new(1);
	const struct cdc_tuple *t = parse_ok(ct, "\t\t");

	(void) state;
	assert_int_equal(t->ncols, 3);
	for (int i = 0; i < 3; i++)
		assert_text(t, i, "", 0);
	t = parse_ok(one, "\n");
	assert_int_equal(t->ncols, 1);
	assert_text(t, 0, "", 0);
	copytext_free(ct);
	copytext_free(one);
}

static void
test_column_count(void **state)
{
	struct copytext *ct = copytext_new(3), *none = copytext_new(0);
	const struct cdc_tuple *t = NULL;
	struct cdc_err err = { 0 };

	(void) state;
	assert_int_not_equal(copytext_parse(ct, "1\t2", 3, &t, &err), 0);
	assert_non_null(strstr(err.msg, "2 columns, expected 3"));
	cdc_err_clear(&err);
	assert_int_not_equal(copytext_parse(ct, "1\t2\t3\t4", 7, &t, &err), 0);
	assert_non_null(strstr(err.msg, "more than the 3 expected"));
	cdc_err_clear(&err);
	assert_int_equal(copytext_parse(none, "\n", 1, &t, &err), 0);
	assert_int_equal(t->ncols, 0);
	assert_int_not_equal(copytext_parse(none, "x", 1, &t, &err), 0);
	copytext_free(ct);
	copytext_free(none);
}

/* COPY TO's escaping of one field */
static size_t
escape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
		case '\t': out[o++] = '\\'; out[o++] = 't'; break;
		case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
		case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
		default: out[o++] = s[i];
		}
	}
	return o;
}

static void
test_random_round_trip(void **state)
{
	static const char alphabet[] = "ab\\\t\n\r N0x7";
	enum { NC = 6 };
	struct copytext *ct = copytext_new(NC);
	unsigned seed = 12345;

	(void) state;
	for (int iter = 0; iter < 20000; iter++) {
		char field[NC][64], line[NC * 130 + 2];
		size_t flen[NC], n = 0;
		const struct cdc_tuple *t = NULL;
		struct cdc_err err = { 0 };

		for (int c = 0; c < NC; c++) {
			flen[c] = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
			if (iter % 7 == 0 && c == 2)
				flen[c] = 0;
			for (size_t k = 0; k < flen[c]; k++)
				field[c][k] = alphabet[((seed = seed * 1103515245u + 12345u) >> 16) %
				                       (sizeof(alphabet) - 1)];
			if (c > 0)
				line[n++] = '\t';
			n += escape(field[c], flen[c], line + n);
		}
		if (iter % 2)
			line[n++] = '\n';
		assert_int_equal(copytext_parse(ct, line, n, &t, &err), 0);
		assert_int_equal(t->ncols, NC);
		for (int c = 0; c < NC; c++)
			assert_text(t, c, field[c], flen[c]);
	}
	copytext_free(ct);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_null),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_column_count),
		cmocka_unit_test(test_random_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
