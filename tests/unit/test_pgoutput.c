/*
 * test_pgoutput.c — the pgoutput parser (decoder/pgoutput.c) on bytes captured from
 * PostgreSQL 15 (tests/fixtures, see its README for each scenario).
 *
 * Every record of every fixture is parsed (in_stream between Stream Start and Stream
 * Stop) and its type checked against the fixture's .txt listing; the decoded content
 * is checked against what each scenario's SQL wrote.  Then the hostile inputs: every
 * prefix of every record (pgoutput messages are consumed to their last byte, so a
 * prefix is never a complete message: always CDC_ERR_PROTO), one byte of trailing
 * garbage, unknown type bytes, oversized column counts and lengths, and byte flips.
 * Truncated inputs are handed over in buffers of exactly their length, so a read past
 * the end shows up under ASan and valgrind.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decoder/change.h"
#include "decoder/pgoutput.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---------------------------------------------------------------------- */

struct rec {
	cdc_lsn lsn;            /* wal_start */
	uint32_t len;
	const uint8_t *data;    /* into fixture.raw */
	bool in_stream;         /* strictly between Stream Start and Stream Stop */
	char txt_type;          /* from the .txt listing */
	cdc_lsn txt_lsn;
	uint32_t txt_len;
};

struct fixture {
	const char *name;
	uint8_t *raw;
	size_t rawlen;
	struct rec *recs;
	size_t n;
};

/* The buffer of the last parse_copy: what the parsed message borrows from. */
static uint8_t *kept_copy;

static struct fixture fixtures[] = {
	{ .name = "v1_basic" }, { .name = "v1_types" }, { .name = "v1_identity" },
	{ .name = "v1_toast" }, { .name = "v1_rollback" }, { .name = "v1_origin" },
	{ .name = "v2_stream" },
};

/* The fixture directory: $PGCDC_SRCDIR/tests/fixtures, else relative to the working
 * directory (the runner uses the repository root), else to this source file.  Not
 * finding it is a failure, not a skip. */
static const char *
fixture_dir(void)
{
	static char dir[PATH_MAX];
	const char *src = getenv("PGCDC_SRCDIR");
	const char *rel[] = { "tests/fixtures", "../tests/fixtures", "../../tests/fixtures",
	                      "../../../tests/fixtures" };
	char probe[PATH_MAX + 64];
	const char *slash;

	if (dir[0] != '\0')
		return dir;
	if (src != NULL) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", src);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	for (size_t i = 0; i < NELEM(rel); i++) {
		snprintf(dir, sizeof(dir), "%s", rel[i]);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	slash = strrchr(__FILE__, '/');
	if (slash != NULL) {
		snprintf(dir, sizeof(dir), "%.*s/../fixtures", (int) (slash - __FILE__), __FILE__);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	dir[0] = '\0';
	fail_msg("tests/fixtures/pgoutput_*.bin not found (run from the repository root or "
	         "set PGCDC_SRCDIR)");
	return NULL;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open fixture %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t) n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t) n;
	return buf;
}

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Load <name>.bin and its .txt listing once; the listing must agree record by record. */
static struct fixture *
fx(const char *name)
{
	struct fixture *f = NULL;
	char path[PATH_MAX + 64];
	const char *dir;
	uint8_t *txt;
	size_t txtlen, pos = 0, cap = 64, i;
	bool stream = false;
	char *line, *save = NULL;

	for (i = 0; i < NELEM(fixtures); i++)
		if (strcmp(fixtures[i].name, name) == 0)
			f = &fixtures[i];
	assert_non_null(f);
	if (f->raw != NULL)
		return f;
	dir = fixture_dir();
	snprintf(path, sizeof(path), "%s/pgoutput_%s.bin", dir, name);
	f->raw = slurp(path, &f->rawlen);
	f->recs = calloc(cap, sizeof(*f->recs));
	assert_non_null(f->recs);
	while (pos < f->rawlen) {
		struct rec *r;

		if (f->rawlen - pos < 12)
			fail_msg("%s: short record header at offset %zu", path, pos);
		if (f->n == cap) {
			cap *= 2;
			f->recs = realloc(f->recs, cap * sizeof(*f->recs));
			assert_non_null(f->recs);
		}
		r = &f->recs[f->n++];
		memset(r, 0, sizeof(*r));
		r->lsn = be(f->raw + pos, 8);
		r->len = (uint32_t) be(f->raw + pos + 8, 4);
		pos += 12;
		if (r->len == 0 || f->rawlen - pos < r->len)
			fail_msg("%s: bad record length %u at offset %zu", path, r->len, pos - 4);
		r->data = f->raw + pos;
		pos += r->len;
		if (r->data[0] == 'S') {
			stream = true;
		} else if (r->data[0] == 'E') {
			stream = false;
		} else {
			r->in_stream = stream;
		}
	}

	snprintf(path, sizeof(path), "%s/pgoutput_%s.txt", dir, name);
	txt = slurp(path, &txtlen);
	i = 0;
	for (line = strtok_r((char *) txt, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), i++) {
		unsigned hi, lo, len;
		char t;

		if (sscanf(line, "%X/%X %c %u", &hi, &lo, &t, &len) != 4)
			fail_msg("%s:%zu: cannot read '%s'", path, i + 1, line);
		if (i >= f->n)
			fail_msg("%s lists more records than the .bin holds (%zu)", path, f->n);
		f->recs[i].txt_type = t;
		f->recs[i].txt_lsn = ((cdc_lsn) hi << 32) | lo;
		f->recs[i].txt_len = len;
	}
	free(txt);
	if (i != f->n)
		fail_msg("%s lists %zu records, the .bin holds %zu", path, i, f->n);
	return f;
}

static int
free_fixtures(void **state)
{
	for (size_t i = 0; i < NELEM(fixtures); i++) {
		free(fixtures[i].raw);
		free(fixtures[i].recs);
		fixtures[i].raw = NULL;
		fixtures[i].recs = NULL;
		fixtures[i].n = 0;
	}
	free(kept_copy);
	kept_copy = NULL;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

static struct pgo_parser *
parser(void)
{
	struct pgo_parser *p = pgo_parser_new();

	assert_non_null(p);
	return p;
}

/* Parse record i of f; it must succeed. */
static void
parse_ok(struct pgo_parser *p, const struct fixture *f, size_t i, struct pgo_msg *m)
{
	struct cdc_err err = { 0 };
	const struct rec *r = &f->recs[i];
	int rc = pgo_parse(p, r->data, r->len, r->in_stream, m, &err);

	if (rc != 0)
		fail_msg("%s record %zu ('%c', %u bytes): rc %d: %s", f->name, i, r->data[0], r->len,
		         rc, err.msg);
	assert_int_equal(err.code, 0);
	assert_int_equal(m->type, (char) r->data[0]);
}

/* Parse a copy of exactly len bytes (so over-reads are caught by ASan/valgrind).  The
 * copy lives until the next call, like the borrowed views into it. */
static int
parse_copy(struct pgo_parser *p, const uint8_t *data, size_t len, bool in_stream,
           struct pgo_msg *m, struct cdc_err *err)
{
	free(kept_copy);
	kept_copy = malloc(len ? len : 1);
	assert_non_null(kept_copy);
	if (len)
		memcpy(kept_copy, data, len);
	return pgo_parse(p, len ? kept_copy : NULL, len, in_stream, m, err);
}

static void
assert_text(const struct cdc_value *v, const char *s)
{
	size_t n = strlen(s);

	if (v->kind != CDC_VAL_TEXT || v->len != n || (n > 0 && memcmp(v->data, s, n) != 0))
		fail_msg("value: want text '%s', got kind '%c' len %u '%.*s'", s, v->kind ? v->kind : '0',
		         v->len, v->data ? (int) (v->len > 80 ? 80 : v->len) : 0, v->data ? v->data : "");
}

static void
assert_sqlnull(const struct cdc_value *v)
{
	assert_int_equal(v->kind, CDC_VAL_NULL);
	assert_int_equal(v->len, 0);
	assert_null(v->data);
}

/* Tuple with exactly the given values: text, or NULL for SQL NULL. */
static void
assert_tuple(const struct cdc_tuple *t, int n, const char *const *vals)
{
	assert_int_equal(t->ncols, n);
	for (int i = 0; i < n; i++) {
		if (vals[i] == NULL)
			assert_sqlnull(&t->vals[i]);
		else
			assert_text(&t->vals[i], vals[i]);
	}
}

#define TUPLE(t, ...) do { \
	const char *const v_[] = { __VA_ARGS__ }; \
	assert_tuple((t), (int) NELEM(v_), v_); \
} while (0)

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void
assert_col(const struct pgo_relcol *c, int flags, const char *name, uint32_t oid, int32_t typmod)
{
	assert_int_equal(c->flags, flags);
	assert_string_equal(c->name, name);
	assert_int_equal(c->type_oid, oid);
	assert_int_equal(c->typmod, typmod);
}

static const char *
msg_name(char t)
{
	switch (t) {
	case 'B': return "Begin";
	case 'C': return "Commit";
	case 'O': return "Origin";
	case 'R': return "Relation";
	case 'Y': return "Type";
	case 'I': return "Insert";
	case 'U': return "Update";
	case 'D': return "Delete";
	case 'T': return "Truncate";
	case 'M': return "Message";
	case 'S': return "Stream Start";
	case 'E': return "Stream Stop";
	case 'c': return "Stream Commit";
	case 'A': return "Stream Abort";
	default: return NULL;
	}
}

/* 2020-01-01 .. 2100-01-01 in PostgreSQL-epoch microseconds: a captured commit time. */
static void
assert_plausible_ts(int64_t pgts)
{
	int64_t unix_us = pgo_ts_to_unix_us(pgts);

	assert_true(unix_us > INT64_C(1577836800000000));
	assert_true(unix_us < INT64_C(4102444800000000));
}

/* ---- every record against the listing -------------------------------------------------- */

static void
check_listing(const char *name, const char *want_counts)
{
	struct fixture *f = fx(name);
	struct pgo_parser *p = parser();
	int counts[256] = { 0 };
	char got[256] = "", part[16];
	bool in_txn = false, stream = false;
	struct pgo_msg begin;

	memset(&begin, 0, sizeof(begin));
	for (size_t i = 0; i < f->n; i++) {
		const struct rec *r = &f->recs[i];
		struct pgo_msg m;

		if (r->txt_type != (char) r->data[0] || r->txt_lsn != r->lsn || r->txt_len != r->len)
			fail_msg("%s record %zu: listing says %c %u at %llX, bin has %c %u at %llX", name, i,
			         r->txt_type, r->txt_len, (unsigned long long) r->txt_lsn, r->data[0], r->len,
			         (unsigned long long) r->lsn);
		parse_ok(p, f, i, &m);
		counts[(unsigned char) m.type]++;

		/* structural facts of the README */
		switch (m.type) {
		case PGO_MSG_BEGIN:
			assert_false(in_txn);
			assert_false(stream);
			in_txn = true;
			begin = m;
			assert_true(r->lsn <= m.u.begin.final_lsn);
			assert_true(m.xid != 0);
			assert_plausible_ts(m.u.begin.commit_ts);
			break;
		case PGO_MSG_COMMIT:
			assert_true(in_txn);
			in_txn = false;
			assert_int_equal(m.u.commit.flags, 0);
			assert_int_equal(m.u.commit.commit_lsn, begin.u.begin.final_lsn);
			assert_int_equal(m.u.commit.end_lsn, r->lsn);
			assert_true(m.u.commit.end_lsn > m.u.commit.commit_lsn);
			assert_int_equal(m.u.commit.commit_ts, begin.u.begin.commit_ts);
			break;
		case PGO_MSG_RELATION:
		case PGO_MSG_TYPE:
			assert_int_equal(r->lsn, 0);
			break;
		case PGO_MSG_INSERT:
		case PGO_MSG_UPDATE:
		case PGO_MSG_DELETE:
		case PGO_MSG_TRUNCATE:
			assert_true(in_txn || stream);
			break;
		case PGO_MSG_STREAM_START:
			assert_false(stream);
			stream = true;
			assert_true(m.xid != 0);
			break;
		case PGO_MSG_STREAM_STOP:
			assert_true(stream);
			stream = false;
			assert_int_equal(m.xid, 0);
			break;
		case PGO_MSG_STREAM_COMMIT:
			assert_false(stream);
			assert_int_equal(m.u.stream_commit.end_lsn, r->lsn);
			assert_true(m.u.stream_commit.end_lsn > m.u.stream_commit.commit_lsn);
			assert_plausible_ts(m.u.stream_commit.commit_ts);
			break;
		case PGO_MSG_STREAM_ABORT:
			assert_false(stream);
			break;
		default:
			break;
		}
		/* inside a stream, every change carries an xid; outside, none does */
		if (strchr("RYIUDT", m.type) != NULL) {
			if (r->in_stream)
				assert_true(m.xid != 0);
			else
				assert_int_equal(m.xid, 0);
		}
	}
	assert_false(in_txn);
	assert_false(stream);
	for (int t = 0; t < 256; t++) {
		if (counts[t] == 0)
			continue;
		snprintf(part, sizeof(part), "%s%c%d", got[0] ? " " : "", t, counts[t]);
		strcat(got, part);
	}
	assert_string_equal(got, want_counts);
	pgo_parser_free(p);
}

/* Counts of the README's table (uppercase sort first: ASCII order). */
static void
test_listing_v1_basic(void **state)
{
	check_listing("v1_basic", "B9 C9 D2 I8 M3 R6 T1 U3");
}

static void
test_listing_v1_types(void **state)
{
	check_listing("v1_types", "B5 C5 I5 R1 Y4");
}

static void
test_listing_v1_identity(void **state)
{
	check_listing("v1_identity", "B20 C20 D5 I14 R10 T1 U7");
}

static void
test_listing_v1_toast(void **state)
{
	check_listing("v1_toast", "B4 C4 D1 I1 R1 U2");
}

static void
test_listing_v1_rollback(void **state)
{
	check_listing("v1_rollback", "B1 C1 I2 M1 R1 U1");
}

static void
test_listing_v1_origin(void **state)
{
	check_listing("v1_origin", "B2 C2 I2 O1 R1");
}

static void
test_listing_v2_stream(void **state)
{
	check_listing("v2_stream", "A2 B2 C2 E10 I3685 R6 S10 c2");
}

/* ---- decoded content ----------------------------------------------------------------- */

static void
test_v1_basic_content(void **state)
{
	struct fixture *f = fx("v1_basic");
	struct pgo_parser *p = parser();
	struct pgo_msg m;

	assert_int_equal(f->n, 41);

	/* 0: Begin of xid 729 */
	parse_ok(p, f, 0, &m);
	assert_int_equal(m.xid, 729);
	assert_int_equal(m.u.begin.final_lsn, 0x19530D8);

	/* 1: Relation public.basic (id int PRIMARY KEY, name text, qty int) */
	parse_ok(p, f, 1, &m);
	assert_int_equal(m.u.relation.oid, 16386);
	assert_string_equal(m.u.relation.schema, "public");
	assert_string_equal(m.u.relation.name, "basic");
	assert_int_equal(m.u.relation.replident, 'd');
	assert_int_equal(m.u.relation.ncols, 3);
	assert_col(&m.u.relation.cols[0], 1, "id", 23, -1);
	assert_col(&m.u.relation.cols[1], 0, "name", 25, -1);
	assert_col(&m.u.relation.cols[2], 0, "qty", 23, -1);

	/* 2: INSERT INTO basic VALUES (1, 'one', 10) */
	parse_ok(p, f, 2, &m);
	assert_int_equal(m.u.insert.rel_oid, 16386);
	TUPLE(&m.u.insert.newtup, "1", "one", "10");

	/* 3: Commit */
	parse_ok(p, f, 3, &m);
	assert_int_equal(m.u.commit.commit_lsn, 0x19530D8);
	assert_int_equal(m.u.commit.end_lsn, 0x1953108);

	/* 5: non-key update: no old tuple */
	parse_ok(p, f, 5, &m);
	assert_int_equal(m.u.update.rel_oid, 16386);
	assert_int_equal(m.u.update.old_kind, 0);
	TUPLE(&m.u.update.newtup, "1", "uno", "11");

	/* 8: UPDATE basic SET id = 2: old key 'K', non-key columns NULL */
	parse_ok(p, f, 8, &m);
	assert_int_equal(m.u.update.old_kind, 'K');
	TUPLE(&m.u.update.oldtup, "1", NULL, NULL);
	TUPLE(&m.u.update.newtup, "2", "uno", "11");

	/* 11: DELETE FROM basic WHERE id = 2 */
	parse_ok(p, f, 11, &m);
	assert_int_equal(m.u.delete_.rel_oid, 16386);
	assert_int_equal(m.u.delete_.old_kind, 'K');
	TUPLE(&m.u.delete_.oldtup, "2", NULL, NULL);

	/* 14, 19: trunc_a (serial id) and trunc_b (bigint identity) */
	parse_ok(p, f, 14, &m);
	assert_int_equal(m.u.relation.oid, 16394);
	assert_string_equal(m.u.relation.name, "trunc_a");
	assert_int_equal(m.u.relation.ncols, 2);
	assert_col(&m.u.relation.cols[0], 1, "id", 23, -1);
	assert_col(&m.u.relation.cols[1], 0, "v", 25, -1);
	parse_ok(p, f, 16, &m);
	TUPLE(&m.u.insert.newtup, "2", "a2");
	parse_ok(p, f, 19, &m);
	assert_int_equal(m.u.relation.oid, 16403);
	assert_string_equal(m.u.relation.name, "trunc_b");
	assert_col(&m.u.relation.cols[0], 1, "id", 20, -1);
	assert_col(&m.u.relation.cols[1], 0, "a_id", 23, -1);

	/* 26: TRUNCATE trunc_a, trunc_b RESTART IDENTITY CASCADE */
	parse_ok(p, f, 26, &m);
	assert_int_equal(m.u.truncate.flags, PGO_TRUNCATE_CASCADE | PGO_TRUNCATE_RESTART_SEQS);
	assert_int_equal(m.u.truncate.nrels, 2);
	assert_int_equal(m.u.truncate.rel_oids[0], 16394);
	assert_int_equal(m.u.truncate.rel_oids[1], 16403);

	/* 29: transactional message in its own transaction */
	parse_ok(p, f, 29, &m);
	assert_int_equal(m.u.message.flags, PGO_MESSAGE_TRANSACTIONAL);
	assert_int_equal(m.u.message.lsn, 0x19550C8);
	assert_string_equal(m.u.message.prefix, "pgcdc.test");
	assert_int_equal(m.u.message.len, strlen("transactional message"));
	assert_memory_equal(m.u.message.content, "transactional message", m.u.message.len);

	/* 31: non-transactional message with binary content, before the next Begin */
	parse_ok(p, f, 31, &m);
	assert_int_equal(m.u.message.flags, 0);
	assert_int_equal(m.u.message.lsn, 0x1955138);
	assert_string_equal(m.u.message.prefix, "pgcdc.test");
	assert_int_equal(m.u.message.len, 3);
	assert_memory_equal(m.u.message.content, "\x00\xff\n", 3);
	parse_ok(p, f, 32, &m);
	assert_int_equal(m.type, PGO_MSG_BEGIN);

	/* 33..39: the multi-statement transaction */
	parse_ok(p, f, 33, &m);
	TUPLE(&m.u.insert.newtup, "10", "ten", "100");
	parse_ok(p, f, 34, &m);
	TUPLE(&m.u.insert.newtup, "11", "eleven", "110");
	parse_ok(p, f, 35, &m);
	assert_int_equal(m.u.update.old_kind, 0);
	TUPLE(&m.u.update.newtup, "10", "ten", "101");
	parse_ok(p, f, 36, &m);
	assert_int_equal(m.u.message.flags, PGO_MESSAGE_TRANSACTIONAL);
	assert_int_equal(m.u.message.len, strlen("inside a transaction"));
	assert_memory_equal(m.u.message.content, "inside a transaction", m.u.message.len);
	parse_ok(p, f, 37, &m);
	TUPLE(&m.u.delete_.oldtup, "11", NULL, NULL);
	parse_ok(p, f, 39, &m);
	assert_int_equal(m.u.insert.rel_oid, 16394);
	TUPLE(&m.u.insert.newtup, "1", "after truncate");
	parse_ok(p, f, 40, &m);
	assert_int_equal(m.u.commit.commit_lsn, 0x1955488);
	assert_int_equal(m.u.commit.end_lsn, 0x19554B8);

	pgo_parser_free(p);
}

static void
test_v1_types_content(void **state)
{
	struct fixture *f = fx("v1_types");
	struct pgo_parser *p = parser();
	struct pgo_msg m;
	static const struct { uint32_t oid; const char *schema, *name; } types[] = {
		{ 16529, "public", "mood" },
		{ 16424, "public", "citext" },
		/* domains: the domain's oid, the base type's (pg_catalog: "" on the wire) name */
		{ 16536, "pg_catalog", "int4" },
		{ 16539, "pg_catalog", "text" },
	};

	for (size_t i = 0; i < NELEM(types); i++) {
		parse_ok(p, f, 1 + i, &m);
		assert_int_equal(m.type, PGO_MSG_TYPE);
		assert_int_equal(m.u.type.oid, types[i].oid);
		assert_string_equal(m.u.type.schema, types[i].schema);
		assert_string_equal(m.u.type.name, types[i].name);
	}

	parse_ok(p, f, 5, &m);
	assert_string_equal(m.u.relation.name, "types");
	assert_int_equal(m.u.relation.ncols, 35);
	assert_col(&m.u.relation.cols[0], 1, "id", 23, -1);
	assert_col(&m.u.relation.cols[7], 0, "c_numeric_10_2", 1700, (10 << 16) + 2 + 4);
	assert_col(&m.u.relation.cols[11], 0, "c_varchar", 1043, 10 + 4);
	assert_col(&m.u.relation.cols[12], 0, "c_char", 1042, 3 + 4);
	assert_col(&m.u.relation.cols[14], 0, "c_enum", 16529, -1);
	assert_col(&m.u.relation.cols[15], 0, "c_citext", 16424, -1);
	assert_col(&m.u.relation.cols[31], 0, "c_int_array", 1007, -1);
	assert_col(&m.u.relation.cols[33], 0, "c_posint", 16536, -1);
	assert_col(&m.u.relation.cols[34], 0, "c_shorttext", 16539, -1);
	for (int c = 1; c < 35; c++)
		assert_int_equal(m.u.relation.cols[c].flags, 0);

	/* row 1 */
	parse_ok(p, f, 6, &m);
	assert_int_equal(m.u.insert.newtup.ncols, 35);
	assert_text(&m.u.insert.newtup.vals[0], "1");
	assert_text(&m.u.insert.newtup.vals[12], "ab ");
	assert_text(&m.u.insert.newtup.vals[19], "$1,234.56");
	assert_text(&m.u.insert.newtup.vals[22], "\\xdeadbeef");
	assert_text(&m.u.insert.newtup.vals[27], "2026-11-22 10:00:00.123456+00");
	assert_text(&m.u.insert.newtup.vals[28], "P1Y2M3DT4H5M6.5S");
	assert_text(&m.u.insert.newtup.vals[31], "{1,NULL,3}");
	assert_text(&m.u.insert.newtup.vals[34], "domain text");

	/* row 2: special values, empty strings, unicode */
	parse_ok(p, f, 9, &m);
	assert_text(&m.u.insert.newtup.vals[5], "NaN");
	assert_text(&m.u.insert.newtup.vals[6], "Infinity");
	assert_text(&m.u.insert.newtup.vals[10], "");
	assert_text(&m.u.insert.newtup.vals[14], "happy \xF0\x9F\x98\x80");
	assert_text(&m.u.insert.newtup.vals[22], "\\x");
	assert_text(&m.u.insert.newtup.vals[24], "24:00:00");
	assert_text(&m.u.insert.newtup.vals[31], "{{1,2},{3,NULL}}");

	/* row 4: BC dates */
	parse_ok(p, f, 15, &m);
	assert_text(&m.u.insert.newtup.vals[23], "4713-01-01 BC");
	assert_int_equal(m.u.insert.newtup.vals[10].len, 100);   /* repeat('é', 50) */

	/* row 5: NULL everywhere but id */
	parse_ok(p, f, 18, &m);
	assert_int_equal(m.u.insert.newtup.ncols, 35);
	assert_text(&m.u.insert.newtup.vals[0], "5");
	for (int c = 1; c < 35; c++)
		assert_sqlnull(&m.u.insert.newtup.vals[c]);

	pgo_parser_free(p);
}

static void
test_v1_identity_content(void **state)
{
	struct fixture *f = fx("v1_identity");
	struct pgo_parser *p = parser();
	struct pgo_msg m;
	static const struct { size_t rec; uint32_t oid; const char *name; char ident; int ncols; } rels[] = {
		{ 1, 16550, "id_default", 'd', 3 },
		{ 15, 16550, "id_default", 'd', 4 },    /* after ADD COLUMN extra */
		{ 19, 16550, "id_default", 'd', 3 },    /* after DROP COLUMN dropme */
		{ 23, 16557, "id_full", 'f', 3 },
		{ 37, 16564, "id_full_nopk", 'f', 2 },
		{ 50, 16569, "id_index", 'i', 3 },
		{ 64, 16575, "id_nothing", 'n', 2 },
		{ 68, 16582, "id_nopk", 'd', 2 },
	};

	for (size_t i = 0; i < NELEM(rels); i++) {
		parse_ok(p, f, rels[i].rec, &m);
		assert_int_equal(m.type, PGO_MSG_RELATION);
		assert_int_equal(m.u.relation.oid, rels[i].oid);
		assert_string_equal(m.u.relation.name, rels[i].name);
		assert_int_equal(m.u.relation.replident, rels[i].ident);
		assert_int_equal(m.u.relation.ncols, rels[i].ncols);
		for (int c = 0; c < m.u.relation.ncols; c++) {
			/* FULL: every column is in the identity; index: only code; default with a
			 * primary key: id; nothing / no key: none */
			bool key = rels[i].ident == 'f' ||
			           (rels[i].ident == 'i' && strcmp(m.u.relation.cols[c].name, "code") == 0) ||
			           (rels[i].oid == 16550 && c == 0);

			assert_int_equal(m.u.relation.cols[c].flags, key ? 1 : 0);
		}
	}
	parse_ok(p, f, 15, &m);
	assert_col(&m.u.relation.cols[3], 0, "extra", 23, -1);
	parse_ok(p, f, 19, &m);
	assert_col(&m.u.relation.cols[2], 0, "extra", 23, -1);

	/* id_default: key update 'K', delete 'K' */
	parse_ok(p, f, 9, &m);
	assert_int_equal(m.u.update.old_kind, 'K');
	TUPLE(&m.u.update.oldtup, "2", NULL, NULL);
	TUPLE(&m.u.update.newtup, "3", "two", "y");
	parse_ok(p, f, 16, &m);
	TUPLE(&m.u.insert.newtup, "4", "four", "z", "40");

	/* id_full: 'O' old rows, NULLs included */
	parse_ok(p, f, 28, &m);
	assert_int_equal(m.u.update.old_kind, 'O');
	TUPLE(&m.u.update.oldtup, "1", "one", "1");
	TUPLE(&m.u.update.newtup, "1", "one", "2");
	parse_ok(p, f, 31, &m);
	assert_int_equal(m.u.update.old_kind, 'O');
	TUPLE(&m.u.update.oldtup, "2", NULL, NULL);
	TUPLE(&m.u.update.newtup, "2", "was null", NULL);
	parse_ok(p, f, 34, &m);
	assert_int_equal(m.u.delete_.old_kind, 'O');
	TUPLE(&m.u.delete_.oldtup, "1", "one", "2");

	/* id_full_nopk: two identical old rows deleted */
	parse_ok(p, f, 46, &m);
	assert_int_equal(m.u.delete_.old_kind, 'O');
	TUPLE(&m.u.delete_.oldtup, "1", "a");
	parse_ok(p, f, 47, &m);
	TUPLE(&m.u.delete_.oldtup, "1", "a");

	/* id_index: 'K' carries only code */
	parse_ok(p, f, 55, &m);
	assert_int_equal(m.u.update.old_kind, 0);
	TUPLE(&m.u.update.newtup, "1", "c1", "uno");
	parse_ok(p, f, 58, &m);
	assert_int_equal(m.u.update.old_kind, 'K');
	TUPLE(&m.u.update.oldtup, NULL, "c2", NULL);
	TUPLE(&m.u.update.newtup, "2", "c3", "tres");
	parse_ok(p, f, 61, &m);
	assert_int_equal(m.u.delete_.old_kind, 'K');
	TUPLE(&m.u.delete_.oldtup, NULL, "c1", NULL);

	/* id_nopk: an all-NULL row */
	parse_ok(p, f, 70, &m);
	TUPLE(&m.u.insert.newtup, NULL, NULL);

	/* TRUNCATE id_nothing, id_nopk: no options */
	parse_ok(p, f, 75, &m);
	assert_int_equal(m.u.truncate.flags, 0);
	assert_int_equal(m.u.truncate.nrels, 2);
	assert_int_equal(m.u.truncate.rel_oids[0], 16575);
	assert_int_equal(m.u.truncate.rel_oids[1], 16582);

	pgo_parser_free(p);
}

static void
test_v1_toast_content(void **state)
{
	struct fixture *f = fx("v1_toast");
	struct pgo_parser *p = parser();
	struct pgo_msg m;

	parse_ok(p, f, 2, &m);
	assert_int_equal(m.u.insert.newtup.ncols, 3);
	assert_text(&m.u.insert.newtup.vals[0], "1");
	assert_text(&m.u.insert.newtup.vals[1], "0");
	assert_int_equal(m.u.insert.newtup.vals[2].kind, CDC_VAL_TEXT);
	assert_int_equal(m.u.insert.newtup.vals[2].len, 102400);   /* 3200 md5 hex strings */
	for (uint32_t i = 0; i < 102400; i++)
		if (strchr("0123456789abcdef", m.u.insert.newtup.vals[2].data[i]) == NULL)
			fail_msg("toast value byte %u is not hex", i);
	/* the value ends exactly at the end of the message */
	assert_ptr_equal(m.u.insert.newtup.vals[2].data + 102400, (const char *) f->recs[2].data + f->recs[2].len);

	/* big not touched: unchanged TOAST, no data */
	parse_ok(p, f, 5, &m);
	assert_int_equal(m.u.update.old_kind, 0);
	assert_int_equal(m.u.update.newtup.ncols, 3);
	assert_text(&m.u.update.newtup.vals[0], "1");
	assert_text(&m.u.update.newtup.vals[1], "1");
	assert_int_equal(m.u.update.newtup.vals[2].kind, CDC_VAL_UNCHANGED);
	assert_int_equal(m.u.update.newtup.vals[2].len, 0);
	assert_null(m.u.update.newtup.vals[2].data);

	parse_ok(p, f, 8, &m);
	TUPLE(&m.u.update.newtup, "1", "2", "short now");
	parse_ok(p, f, 11, &m);
	assert_int_equal(m.u.delete_.old_kind, 'K');
	TUPLE(&m.u.delete_.oldtup, "1", NULL, NULL);
	pgo_parser_free(p);
}

static void
test_v1_rollback_content(void **state)
{
	struct fixture *f = fx("v1_rollback");
	struct pgo_parser *p = parser();
	struct pgo_msg m;
	const char *nt = "non-transactional, survives rollback";

	parse_ok(p, f, 0, &m);
	assert_int_equal(m.u.message.flags, 0);
	assert_string_equal(m.u.message.prefix, "pgcdc.test");
	assert_int_equal(m.u.message.len, strlen(nt));
	assert_memory_equal(m.u.message.content, nt, strlen(nt));
	parse_ok(p, f, 3, &m);
	TUPLE(&m.u.insert.newtup, "2", "kept");
	parse_ok(p, f, 4, &m);
	TUPLE(&m.u.insert.newtup, "4", "released s2");
	parse_ok(p, f, 5, &m);
	TUPLE(&m.u.update.newtup, "2", "kept, updated");
	pgo_parser_free(p);
}

/* A transaction replayed with a replication origin: Origin comes right after its
 * Begin, naming the origin and the origin's commit LSN given to
 * pg_replication_origin_xact_setup. */
static void
test_v1_origin_content(void **state)
{
	struct fixture *f = fx("v1_origin");
	struct pgo_parser *p = parser();
	struct pgo_msg m;

	parse_ok(p, f, 0, &m);
	assert_int_equal(m.type, PGO_MSG_BEGIN);
	parse_ok(p, f, 1, &m);
	assert_int_equal(m.type, PGO_MSG_ORIGIN);
	assert_string_equal(m.u.origin.name, "node_a");
	assert_int_equal(m.u.origin.lsn, 0x100);
	parse_ok(p, f, 3, &m);
	TUPLE(&m.u.insert.newtup, "1");
	parse_ok(p, f, 6, &m);
	TUPLE(&m.u.insert.newtup, "2");
	pgo_parser_free(p);
}

static void
test_v2_stream_content(void **state)
{
	struct fixture *f = fx("v2_stream");
	struct pgo_parser *p = parser();
	struct pgo_msg m;
	/* Stream Start: xid and first-segment flag, in order */
	static const struct { uint32_t xid; bool first; } starts[] = {
		{ 728, true }, { 728, false }, { 728, false }, { 728, false }, { 728, false },
		{ 730, true }, { 730, false },
		{ 731, true }, { 731, false }, { 731, false },
	};
	size_t nstart = 0, nabort = 0, ncommit = 0;
	uint32_t cur = 0;
	int ins_728 = 0, ins_730 = 0, ins_732 = 0, ins_731 = 0, ins_733 = 0;
	int next_728 = 1;

	for (size_t i = 0; i < f->n; i++) {
		parse_ok(p, f, i, &m);
		switch (m.type) {
		case PGO_MSG_STREAM_START:
			assert_true(nstart < NELEM(starts));
			assert_int_equal(m.xid, starts[nstart].xid);
			assert_int_equal(m.u.stream_start.first_segment, starts[nstart].first);
			cur = m.xid;
			nstart++;
			break;
		case PGO_MSG_STREAM_STOP:
			cur = 0;
			break;
		case PGO_MSG_STREAM_ABORT:
			/* the whole of 730, then subtransaction 732 of 731 */
			assert_int_equal(m.xid, nabort == 0 ? 730 : 731);
			assert_int_equal(m.u.stream_abort.subxid, nabort == 0 ? 730 : 732);
			nabort++;
			break;
		case PGO_MSG_STREAM_COMMIT:
			assert_int_equal(m.xid, ncommit == 0 ? 728 : 731);
			assert_int_equal(m.u.stream_commit.flags, 0);
			assert_int_equal(m.u.stream_commit.commit_lsn, ncommit == 0 ? 0x198F5D8 : 0x19D6EC0);
			assert_int_equal(m.u.stream_commit.end_lsn, ncommit == 0 ? 0x198F608 : 0x19D6EF8);
			ncommit++;
			break;
		case PGO_MSG_RELATION:
			if (cur == 0) {
				assert_int_equal(m.xid, 0);
				assert_string_equal(m.u.relation.name, "small");
			} else if (m.xid == 728 || m.xid == 730 || m.xid == 732) {
				assert_string_equal(m.u.relation.name, "big");
			} else {
				assert_true(m.xid == 731 || m.xid == 733);
				assert_string_equal(m.u.relation.name, "small");
			}
			break;
		case PGO_MSG_INSERT: {
			const struct cdc_tuple *t = &m.u.insert.newtup;
			char want[64];

			assert_int_equal(t->ncols, 2);
			if (cur == 0) {
				assert_int_equal(m.xid, 0);
				assert_int_equal(m.u.insert.rel_oid, 16393);
				break;
			}
			/* every change carries the xid of the (sub)transaction it belongs to */
			switch (m.xid) {
			case 728:
				assert_int_equal(cur, 728);
				snprintf(want, sizeof(want), "%d", next_728);
				assert_text(&t->vals[0], want);
				snprintf(want, sizeof(want), "row %d", next_728);
				assert_text(&t->vals[1], want);
				next_728++;
				ins_728++;
				break;
			case 730:
				assert_int_equal(cur, 730);
				assert_int_equal(memcmp(t->vals[1].data, "rolled back ", 12), 0);
				ins_730++;
				break;
			case 731:
				assert_int_equal(cur, 731);
				TUPLE(t, "2", "before savepoint");
				ins_731++;
				break;
			case 732:
				assert_int_equal(cur, 731);
				assert_int_equal(memcmp(t->vals[1].data, "subxact ", 8), 0);
				ins_732++;
				break;
			case 733:
				assert_int_equal(cur, 731);
				TUPLE(t, "3", "after rollback to savepoint");
				ins_733++;
				break;
			default:
				fail_msg("record %zu: insert with xid %u", i, m.xid);
			}
			break;
		}
		default:
			break;
		}
	}
	assert_int_equal(nstart, NELEM(starts));
	assert_int_equal(nabort, 2);
	assert_int_equal(ncommit, 2);
	assert_int_equal(ins_728, 2000);
	assert_int_equal(ins_731, 1);
	assert_int_equal(ins_733, 1);
	/* the rolled-back ones were streamed only in part before their abort */
	assert_int_equal(ins_730, 830);
	assert_int_equal(ins_732, 851);

	/* A streamed change read as if outside a stream is malformed (the xid is taken for
	 * the relation oid, the oid's first byte for the tuple marker). */
	{
		struct cdc_err err = { 0 };
		const struct rec *r = &f->recs[2];

		assert_true(r->in_stream);
		assert_int_equal(pgo_parse(p, r->data, r->len, false, &m, &err), CDC_ERR_PROTO);
		assert_contains(err.msg, "Insert");
	}
	pgo_parser_free(p);
}

/* ---- hostile input ------------------------------------------------------------------- */

/* Every prefix of every record: CDC_ERR_PROTO naming the message, *msg untouched.  The
 * prefix is copied into a buffer of exactly its length, except for the middle of huge
 * records (the 100 kB TOAST insert), where the copies would cost minutes under
 * valgrind: there the prefix is a view into the full record. */
static void
sweep_prefixes(const char *name)
{
	struct fixture *f = fx(name);
	struct pgo_parser *p = parser();
	size_t total = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct rec *r = &f->recs[i];
		const char *want = msg_name((char) r->data[0]);

		assert_non_null(want);
		for (size_t k = 0; k < r->len; k++) {
			struct cdc_err err = { 0 };
			struct pgo_msg m, sentinel;
			int rc;

			memset(&m, 0x5A, sizeof(m));
			sentinel = m;
			if (r->len <= 4096 || k < 512 || r->len - k < 512)
				rc = parse_copy(p, r->data, k, r->in_stream, &m, &err);
			else
				rc = pgo_parse(p, r->data, k, r->in_stream, &m, &err);
			if (rc != CDC_ERR_PROTO)
				fail_msg("%s record %zu ('%c', %u bytes): prefix of %zu bytes gave %d", name, i,
				         r->data[0], r->len, k, rc);
			assert_int_equal(err.code, CDC_ERR_PROTO);
			if (k == 0) {
				assert_contains(err.msg, "empty");
			} else {
				assert_contains(err.msg, "malformed");
				assert_contains(err.msg, want);
			}
			/* out-parameters are set only on success */
			assert_memory_equal(&m, &sentinel, sizeof(m));
			total++;
		}
	}
	assert_true(total > 0);
	pgo_parser_free(p);
}

static void
test_truncation_v1_basic(void **state)
{
	sweep_prefixes("v1_basic");
}

static void
test_truncation_v1_types(void **state)
{
	sweep_prefixes("v1_types");
}

static void
test_truncation_v1_identity(void **state)
{
	sweep_prefixes("v1_identity");
}

static void
test_truncation_v1_toast(void **state)
{
	sweep_prefixes("v1_toast");
}

static void
test_truncation_v1_rollback(void **state)
{
	sweep_prefixes("v1_rollback");
}

static void
test_truncation_v1_origin(void **state)
{
	sweep_prefixes("v1_origin");
}

static void
test_truncation_v2_stream(void **state)
{
	sweep_prefixes("v2_stream");
}

/* One extra byte after any complete message is an error (pq_getmsgend). */
static void
test_trailing_garbage(void **state)
{
	struct pgo_parser *p = parser();

	for (size_t fi = 0; fi < NELEM(fixtures); fi++) {
		struct fixture *f = fx(fixtures[fi].name);

		for (size_t i = 0; i < f->n; i++) {
			const struct rec *r = &f->recs[i];
			static const uint8_t extra[] = { 0x00, 'N', 0xFF };

			for (size_t e = 0; e < NELEM(extra); e++) {
				uint8_t *buf = malloc(r->len + 1);
				struct cdc_err err = { 0 };
				struct pgo_msg m;
				int rc;

				assert_non_null(buf);
				memcpy(buf, r->data, r->len);
				buf[r->len] = extra[e];
				rc = pgo_parse(p, buf, r->len + 1, r->in_stream, &m, &err);
				free(buf);
				if (rc != CDC_ERR_PROTO)
					fail_msg("%s record %zu ('%c') + byte 0x%02x: rc %d", f->name, i,
					         r->data[0], extra[e], rc);
				assert_contains(err.msg, "trailing");
			}
		}
	}
	pgo_parser_free(p);
}

static void
test_unknown_type(void **state)
{
	struct pgo_parser *p = parser();
	int unknown = 0;

	for (int t = 0; t < 256; t++) {
		uint8_t buf[32];
		struct cdc_err err = { 0 };
		struct pgo_msg m;
		int rc;

		if (msg_name((char) t) != NULL)
			continue;
		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t) t;
		for (size_t len = 1; len <= sizeof(buf); len += 31) {
			cdc_err_clear(&err);
			rc = pgo_parse(p, buf, len, false, &m, &err);
			assert_int_equal(rc, CDC_ERR_PROTO);
			assert_contains(err.msg, "unknown message type");
			rc = pgo_parse(p, buf, len, true, &m, &err);
			assert_int_equal(rc, CDC_ERR_PROTO);
		}
		unknown++;
	}
	assert_int_equal(unknown, 256 - 14);
	pgo_parser_free(p);
}

/* A writer for hand-made messages. */
struct wbuf {
	uint8_t b[65536];
	size_t n;
};

static void
w8(struct wbuf *w, uint8_t v)
{
	assert_true(w->n < sizeof(w->b));
	w->b[w->n++] = v;
}

static void
w16(struct wbuf *w, uint16_t v)
{
	w8(w, (uint8_t) (v >> 8));
	w8(w, (uint8_t) v);
}

static void
w32(struct wbuf *w, uint32_t v)
{
	w16(w, (uint16_t) (v >> 16));
	w16(w, (uint16_t) v);
}

static void
wstr(struct wbuf *w, const char *s)
{
	do
		w8(w, (uint8_t) *s);
	while (*s++);
}

static int
parse_w(struct pgo_parser *p, const struct wbuf *w, struct pgo_msg *m, struct cdc_err *err)
{
	cdc_err_clear(err);
	return parse_copy(p, w->b, w->n, false, m, err);
}

static void
test_column_count_limit(void **state)
{
	struct pgo_parser *p = parser();
	struct cdc_err err = { 0 };
	struct pgo_msg m;
	struct wbuf *w = calloc(1, sizeof(*w));

	assert_non_null(w);

	/* Relation with 1665 columns: refused before reading them */
	w->n = 0;
	w8(w, 'R'); w32(w, 1); wstr(w, "public"); wstr(w, "wide"); w8(w, 'd'); w16(w, PGO_MAX_COLS + 1);
	for (int c = 0; c < PGO_MAX_COLS + 1; c++) {
		w8(w, 0); wstr(w, "c"); w32(w, 23); w32(w, (uint32_t) -1);
	}
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "column count");

	/* ... and with 1664 it is fine */
	w->n = 0;
	w8(w, 'R'); w32(w, 1); wstr(w, ""); wstr(w, "wide"); w8(w, 'd'); w16(w, PGO_MAX_COLS);
	for (int c = 0; c < PGO_MAX_COLS; c++) {
		w8(w, c == 0); wstr(w, c == PGO_MAX_COLS - 1 ? "last" : "c"); w32(w, 23); w32(w, (uint32_t) -1);
	}
	assert_int_equal(parse_w(p, w, &m, &err), 0);
	assert_int_equal(m.u.relation.ncols, PGO_MAX_COLS);
	assert_string_equal(m.u.relation.schema, "pg_catalog");
	assert_string_equal(m.u.relation.cols[PGO_MAX_COLS - 1].name, "last");
	assert_int_equal(m.u.relation.cols[0].flags, 1);

	/* Insert tuples: 1665 columns refused, 1664 accepted, 65535 refused */
	w->n = 0;
	w8(w, 'I'); w32(w, 1); w8(w, 'N'); w16(w, PGO_MAX_COLS + 1);
	for (int c = 0; c < PGO_MAX_COLS + 1; c++)
		w8(w, 'n');
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "tuple column count");

	w->n = 0;
	w8(w, 'I'); w32(w, 1); w8(w, 'N'); w16(w, PGO_MAX_COLS);
	for (int c = 0; c < PGO_MAX_COLS; c++)
		w8(w, c % 2 ? 'n' : 'u');
	assert_int_equal(parse_w(p, w, &m, &err), 0);
	assert_int_equal(m.u.insert.newtup.ncols, PGO_MAX_COLS);
	assert_int_equal(m.u.insert.newtup.vals[PGO_MAX_COLS - 1].kind, 'n');
	assert_int_equal(m.u.insert.newtup.vals[PGO_MAX_COLS - 2].kind, 'u');

	w->n = 0;
	w8(w, 'I'); w32(w, 1); w8(w, 'N'); w16(w, 0xFFFF);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);

	/* Update: old tuple over the limit */
	w->n = 0;
	w8(w, 'U'); w32(w, 1); w8(w, 'O'); w16(w, PGO_MAX_COLS + 1);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);

	/* Truncate: one statement may name more tables than a relation has columns
	 * (no 1664 cap), but never more than the message holds */
	w->n = 0;
	w8(w, 'T'); w32(w, 5000); w8(w, 0);
	for (int c = 0; c < 5000; c++)
		w32(w, (uint32_t) c + 1);
	assert_int_equal(parse_w(p, w, &m, &err), 0);
	assert_int_equal(m.u.truncate.nrels, 5000);
	assert_int_equal(m.u.truncate.rel_oids[4999], 5000);
	w->n = 0;
	w8(w, 'T'); w32(w, 0xFFFFFFFFu); w8(w, 0); w32(w, 1);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);

	free(w);
	pgo_parser_free(p);
}

/* Tuple column lengths that run past the message end: 'I' of v1_basic record 2 is
 * 'I' oid(4) 'N' ncols(2) then 't' len(4) "1" ...; patch the first length. */
static void
test_column_length_overrun(void **state)
{
	struct fixture *f = fx("v1_basic");
	struct pgo_parser *p = parser();
	const struct rec *r = &f->recs[2];
	size_t off = 1 + 4 + 1 + 2 + 1;   /* the first column's Int32 length */
	uint32_t lens[] = { 0, 0, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 1u << 30 };
	struct pgo_msg m;

	assert_int_equal(r->data[0], 'I');
	assert_int_equal(r->data[off - 1], 't');
	assert_int_equal(be(r->data + off, 4), 1);
	lens[0] = (uint32_t) (r->len - off - 4 + 1);   /* one more than what is left */
	lens[1] = (uint32_t) (r->len - off - 4) + 1000;
	for (size_t i = 0; i < NELEM(lens); i++) {
		uint8_t *buf = malloc(r->len);
		struct cdc_err err = { 0 };

		assert_non_null(buf);
		memcpy(buf, r->data, r->len);
		for (int b = 0; b < 4; b++)
			buf[off + (size_t) b] = (uint8_t) (lens[i] >> (24 - 8 * b));
		assert_int_equal(pgo_parse(p, buf, r->len, false, &m, &err), CDC_ERR_PROTO);
		assert_contains(err.msg, "tuple column data");
		free(buf);
	}
	/* exactly what is left: the value swallows the rest, then the column count is short */
	{
		uint8_t *buf = malloc(r->len);
		struct cdc_err err = { 0 };
		uint32_t left = (uint32_t) (r->len - off - 4);

		assert_non_null(buf);
		memcpy(buf, r->data, r->len);
		for (int b = 0; b < 4; b++)
			buf[off + (size_t) b] = (uint8_t) (left >> (24 - 8 * b));
		assert_int_equal(pgo_parse(p, buf, r->len, false, &m, &err), CDC_ERR_PROTO);
		free(buf);
	}

	/* Message content length past the end */
	{
		const struct rec *mr = &f->recs[31];
		uint8_t *buf = malloc(mr->len);
		struct cdc_err err = { 0 };
		size_t loff = mr->len - 3 - 4;   /* Int32 length before the 3 content bytes */

		assert_int_equal(mr->data[0], 'M');
		assert_int_equal(be(mr->data + loff, 4), 3);
		assert_non_null(buf);
		memcpy(buf, mr->data, mr->len);
		buf[loff + 3] = 4;
		assert_int_equal(pgo_parse(p, buf, mr->len, false, &m, &err), CDC_ERR_PROTO);
		assert_contains(err.msg, "message content");
		free(buf);
	}
	pgo_parser_free(p);
}

/* Other malformed fields the parser must refuse. */
static void
test_bad_fields(void **state)
{
	struct pgo_parser *p = parser();
	struct cdc_err err = { 0 };
	struct pgo_msg m;
	struct wbuf *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	/* replica identity not d/n/f/i */
	w->n = 0;
	w8(w, 'R'); w32(w, 1); wstr(w, "s"); wstr(w, "t"); w8(w, 'x'); w16(w, 0);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "replica identity");
	/* string without its NUL */
	w->n = 0;
	w8(w, 'R'); w32(w, 1); w8(w, 's');
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	/* Insert without 'N' */
	w->n = 0;
	w8(w, 'I'); w32(w, 1); w8(w, 'K'); w16(w, 0);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "new tuple marker");
	/* Update: old tuple then no 'N' */
	w->n = 0;
	w8(w, 'U'); w32(w, 1); w8(w, 'K'); w16(w, 0); w8(w, 'O'); w16(w, 0);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	/* Delete with 'N' */
	w->n = 0;
	w8(w, 'D'); w32(w, 1); w8(w, 'N'); w16(w, 0);
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "old tuple marker");
	/* tuple column kind not n/u/t/b */
	w->n = 0;
	w8(w, 'I'); w32(w, 1); w8(w, 'N'); w16(w, 1); w8(w, 'x');
	assert_int_equal(parse_w(p, w, &m, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "tuple column kind");
	/* binary values are accepted and borrowed */
	w->n = 0;
	w8(w, 'I'); w32(w, 7); w8(w, 'N'); w16(w, 2); w8(w, 'b'); w32(w, 2); w8(w, 0); w8(w, 1);
	w8(w, 't'); w32(w, 0);
	assert_int_equal(parse_w(p, w, &m, &err), 0);
	assert_int_equal(m.u.insert.rel_oid, 7);
	assert_int_equal(m.u.insert.newtup.vals[0].kind, CDC_VAL_BINARY);
	assert_int_equal(m.u.insert.newtup.vals[0].len, 2);
	assert_int_equal(m.u.insert.newtup.vals[1].kind, CDC_VAL_TEXT);
	assert_int_equal(m.u.insert.newtup.vals[1].len, 0);
	/* Origin */
	w->n = 0;
	w8(w, 'O'); w32(w, 0); w32(w, 0x100); wstr(w, "node_a");
	assert_int_equal(parse_w(p, w, &m, &err), 0);
	assert_int_equal(m.u.origin.lsn, 0x100);
	assert_string_equal(m.u.origin.name, "node_a");
	/* a transactional Message inside a stream carries the xid */
	w->n = 0;
	w8(w, 'M'); w32(w, 900); w8(w, 1); w32(w, 0); w32(w, 0x42); wstr(w, "pfx"); w32(w, 2);
	w8(w, 'h'); w8(w, 'i');
	cdc_err_clear(&err);
	assert_int_equal(parse_copy(p, w->b, w->n, true, &m, &err), 0);
	assert_int_equal(m.xid, 900);
	assert_int_equal(m.u.message.flags, 1);
	assert_int_equal(m.u.message.lsn, 0x42);
	assert_string_equal(m.u.message.prefix, "pfx");
	assert_memory_equal(m.u.message.content, "hi", 2);

	/* the first error wins */
	cdc_err_clear(&err);
	cdc_errf(&err, CDC_ERR_IO, "earlier");
	assert_int_equal(pgo_parse(p, (const uint8_t *) "B", 1, false, &m, &err), CDC_ERR_PROTO);
	assert_int_equal(err.code, CDC_ERR_IO);
	assert_string_equal(err.msg, "earlier");

	free(w);
	pgo_parser_free(p);
}

/* Byte flips over small records: never a crash, result 0 or CDC_ERR_PROTO, and a success
 * is self-consistent.  Records are deduplicated by (type, length, in_stream), a few of
 * each, so the 3685 inserts of v2_stream do not dominate. */
static void
test_byte_flips(void **state)
{
	struct pgo_parser *p = parser();
	size_t tried = 0, ok = 0;

	for (size_t fi = 0; fi < NELEM(fixtures); fi++) {
		struct fixture *f = fx(fixtures[fi].name);
		static uint8_t seen[256][2][128];

		memset(seen, 0, sizeof(seen));
		for (size_t i = 0; i < f->n; i++) {
			const struct rec *r = &f->recs[i];
			uint8_t *buf;

			if (r->len > 127 || seen[r->data[0]][r->in_stream][r->len]++ >= 3)
				continue;
			buf = malloc(r->len);
			assert_non_null(buf);
			for (size_t pos = 0; pos < r->len; pos++) {
				const uint8_t orig = r->data[pos];
				const uint8_t vals[] = { 0x00, 0xFF, 0x7F, 0x80, (uint8_t) (orig ^ 0x01),
				                         (uint8_t) (orig ^ 0x80), (uint8_t) (orig + 1), 'n', 't',
				                         'u', 'N', 'K', 'O' };

				for (size_t v = 0; v < NELEM(vals); v++) {
					struct cdc_err err = { 0 };
					struct pgo_msg m;
					int rc;

					memcpy(buf, r->data, r->len);
					buf[pos] = vals[v];
					rc = pgo_parse(p, buf, r->len, r->in_stream, &m, &err);
					tried++;
					if (rc == 0) {
						ok++;
						assert_int_equal(err.code, 0);
						assert_int_equal(m.type, (char) buf[0]);
					} else if (rc != CDC_ERR_PROTO) {
						fail_msg("%s record %zu byte %zu = 0x%02x: rc %d", f->name, i, pos,
						         vals[v], rc);
					} else {
						assert_int_equal(err.code, CDC_ERR_PROTO);
						assert_true(err.msg[0] != '\0');
					}
				}
			}
			free(buf);
		}
	}
	assert_true(tried > 10000);
	/* flips inside values and LSNs still parse: the sweep exercised both paths */
	assert_true(ok > 0 && ok < tried);
	pgo_parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing_v1_basic),
		cmocka_unit_test(test_listing_v1_types),
		cmocka_unit_test(test_listing_v1_identity),
		cmocka_unit_test(test_listing_v1_toast),
		cmocka_unit_test(test_listing_v1_rollback),
		cmocka_unit_test(test_listing_v1_origin),
		cmocka_unit_test(test_listing_v2_stream),
		cmocka_unit_test(test_v1_basic_content),
		cmocka_unit_test(test_v1_types_content),
		cmocka_unit_test(test_v1_identity_content),
		cmocka_unit_test(test_v1_toast_content),
		cmocka_unit_test(test_v1_rollback_content),
		cmocka_unit_test(test_v1_origin_content),
		cmocka_unit_test(test_v2_stream_content),
		cmocka_unit_test(test_truncation_v1_basic),
		cmocka_unit_test(test_truncation_v1_types),
		cmocka_unit_test(test_truncation_v1_identity),
		cmocka_unit_test(test_truncation_v1_toast),
		cmocka_unit_test(test_truncation_v1_rollback),
		cmocka_unit_test(test_truncation_v1_origin),
		cmocka_unit_test(test_truncation_v2_stream),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_column_count_limit),
		cmocka_unit_test(test_column_length_overrun),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_byte_flips),
	};

	return cmocka_run_group_tests(tests, NULL, free_fixtures);
}
