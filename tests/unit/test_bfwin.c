/*
 * test_bfwin.c — the watermark window of an online backfill chunk (agent/bfwin.c).
 *
 * Chunks hold rows whose first column is the key (or a composite key), changes are
 * built as the decoder would hand them over, and each test checks exactly which rows
 * survive: updates, deletes and key changes inside the window drop the rows with
 * those keys whether they arrive before or after the rows; inserts of other keys
 * drop nothing; a truncate drops all; columns are matched by name across a changed
 * relation; a missing key column or an unchanged TOASTed key asks for a new read; a
 * keyless chunk is read again only when a transaction its snapshot does not see
 * updated or deleted rows; snapshot text and xid wraparound; 20000 rows against
 * 5000 touched keys; changes delivered before the window count only when the chunk's
 * snapshot does not see their transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/bfwin.h"
#include "decoder/change.h"

/* A tuple of up to 4 text values ("\\N" for NULL, "\\U" for unchanged TOAST). */
struct ttup {
	struct cdc_value v[4];
	struct cdc_tuple t;
};

static const struct cdc_tuple *
tup(struct ttup *o, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);

		if (strcmp(s, "\\N") == 0)
			o->v[i] = (struct cdc_value) { .kind = CDC_VAL_NULL };
		else if (strcmp(s, "\\U") == 0)
			o->v[i] = (struct cdc_value) { .kind = CDC_VAL_UNCHANGED };
		else
			o->v[i] = (struct cdc_value) { .kind = CDC_VAL_TEXT, .len = (uint32_t) strlen(s),
			                               .data = s };
	}
	va_end(ap);
	o->t.ncols = n;
	o->t.vals = o->v;
	return &o->t;
}

static struct cdc_column cols_idv[] = { { .name = "id" }, { .name = "v" } };
static struct cdc_rel rel_idv = { .oid = 1, .schema = "public", .name = "t", .ncols = 2,
                                  .cols = cols_idv, .version = 1 };
static struct cdc_txn txn = { .xid = 700 };

/* The rows a chunk read, as COPY lines: the module keeps none of them, it answers
 * bfw_chunk_keeps row by row as the backfill emits them. */
#define MAX_ROWS 20000
static char *rows[MAX_ROWS];
static int nrows;

static void
rows_clear(void)
{
	for (int i = 0; i < nrows; i++)
		free(rows[i]);
	nrows = 0;
}

static void
add_line(const char *line)
{
	assert_true(nrows < MAX_ROWS);
	rows[nrows] = strdup(line);
	assert_non_null(rows[nrows]);
	nrows++;
}

static void
add_row(const char *id, const char *v)
{
	char line[64];

	snprintf(line, sizeof(line), "%s\t%s", id, v);
	add_line(line);
}

/* Whether the chunk emits row i (its line split at tabs into up to 4 values). */
static bool
kept(struct bfw_chunk *c, int i)
{
	char buf[64], *f[4];
	int n = 0;
	struct ttup t;

	snprintf(buf, sizeof(buf), "%s", rows[i]);
	for (char *p = buf, *tab; n < 4; p = tab + 1) {
		f[n++] = p;
		if ((tab = strchr(p, '\t')) == NULL)
			break;
		*tab = '\0';
	}
	t = (struct ttup) { 0 };
	for (int k = 0; k < n; k++)
		t.v[k] = (struct cdc_value) { .kind = CDC_VAL_TEXT, .len = (uint32_t) strlen(f[k]),
		                              .data = f[k] };
	t.t.ncols = n;
	t.t.vals = t.v;
	return bfw_chunk_keeps(c, &t.t);
}

static size_t
ndropped(struct bfw_chunk *c)
{
	size_t d = 0;

	for (int i = 0; i < nrows; i++)
		d += !kept(c, i);
	return d;
}

static int
change(struct bfw_chunk *c, const struct cdc_rel *rel, char op, const struct cdc_tuple *old,
       const struct cdc_tuple *new, uint32_t xid)
{
	struct cdc_txn x = txn;
	struct cdc_change ch = { .op = op, .txn = &x, .rel = rel, .old_tuple = old,
	                         .new_tuple = new, .old_kind = old ? 'K' : 0 };
	struct cdc_err err = { 0 };

	x.xid = xid;
	return bfw_chunk_change(c, &ch, &err);
}

/* The kept rows' lines, joined by '|'. */
static void
survivors(struct bfw_chunk *c, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < nrows; i++)
		if (kept(c, i))
			o += (size_t) snprintf(out + o, cap - o, "%s%s", o ? "|" : "", rows[i]);
}

/* A chunk of (id, v) keyed by id; the rows of an earlier chunk are forgotten. */
static struct bfw_chunk *
chunk_idv(void)
{
	char *names[] = { "id", "v" };
	int key[] = { 0 };
	struct bfw_chunk *c = bfw_chunk_new(names, 2, key, 1);

	assert_non_null(c);
	rows_clear();
	return c;
}

static void
test_keyed_window(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct ttup a, b;
	char out[256];

	for (int i = 1; i <= 6; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d", i);
		add_row(id, "x");
	}
	/* an update that kept the key (no old tuple), a delete (old key), an insert of a
	 * key the chunk does not hold, a key change 5 -> 10 (delete + create) */
	assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, "2", "y"), 701), 0);
	assert_int_equal(change(c, &rel_idv, CDC_OP_DELETE, tup(&a, 2, "4", "\\N"), NULL, 702), 0);
	assert_int_equal(change(c, &rel_idv, CDC_OP_CREATE, NULL, tup(&a, 2, "9", "n"), 703), 0);
	assert_int_equal(change(c, &rel_idv, CDC_OP_DELETE, tup(&a, 2, "5", "\\N"), NULL, 704), 0);
	assert_int_equal(change(c, &rel_idv, CDC_OP_CREATE, NULL, tup(&b, 2, "10", "k"), 704), 0);
	/* the same key twice */
	assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, "2", "z"), 705), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "1\tx|3\tx|6\tx");
	assert_int_equal(ndropped(c), 3);
	bfw_chunk_free(c);
}

static void
test_changes_before_rows(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct ttup a;
	char out[256];

	/* the stream reaches the window's changes before the worker's rows arrive */
	assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, "3", "new"), 701), 0);
	add_row("1", "a");
	add_row("3", "old");
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "1\ta");
	bfw_chunk_free(c);
}

static void
test_truncate_drops_all(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct cdc_change ch = { .op = CDC_OP_TRUNCATE, .txn = &txn, .rel = &rel_idv };
	struct cdc_err err = { 0 };
	char out[256];

	add_row("1", "a");
	add_row("2", "b");
	assert_int_equal(bfw_chunk_change(c, &ch, &err), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(ndropped(c), 2);
	bfw_chunk_free(c);
}

/* A composite key (a text column and an int), the relation's columns in another order
 * with one more (a column added after the chunk was read): matched by name. */
static void
test_composite_by_name(void **state)
{
	char *names[] = { "a", "b", "v" };
	int key[] = { 0, 1 };
	struct bfw_chunk *c = bfw_chunk_new(names, 3, key, 2);
	struct cdc_column cols[] = { { .name = "v" }, { .name = "b" }, { .name = "a" },
	                             { .name = "added" } };
	struct cdc_rel rel = { .oid = 2, .ncols = 4, .cols = cols, .version = 3 };
	struct ttup o;
	char out[256];

	assert_non_null(c);
	add_line("k\t1\tp");
	add_line("k\t2\tq");
	add_line("1\tk\tr");
	/* (a, b) = ("k", "2") in the relation's order v, b, a, added */
	assert_int_equal(change(c, &rel, CDC_OP_UPDATE, NULL, tup(&o, 4, "z", "2", "k", "\\N"), 9), 0);
	/* ("1", "k") must not match ("k", "1"): the key is ordered, not a set */
	assert_int_equal(change(c, &rel, CDC_OP_DELETE, tup(&o, 4, "\\N", "k", "1", "\\N"), NULL, 9), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "k\t1\tp");
	bfw_chunk_free(c);
}

static void
test_unmatchable(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct cdc_column cols[] = { { .name = "renamed" }, { .name = "v" } };
	struct cdc_rel rel = { .oid = 1, .ncols = 2, .cols = cols, .version = 2 };
	struct ttup a;

	add_row("1", "a");
	/* the key column is gone from the relation (renamed or dropped): read again */
	assert_int_equal(change(c, &rel, CDC_OP_CREATE, NULL, tup(&a, 2, "1", "a"), 701), 1);
	/* an unchanged TOASTed key value cannot be matched */
	assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, "\\U", "a"), 702), 1);
	bfw_chunk_free(c);
}

static void
test_keyless(void **state)
{
	char *names[] = { "v", "k" };
	struct bfw_chunk *c = bfw_chunk_new(names, 2, NULL, 0);
	struct cdc_column cols[] = { { .name = "v" }, { .name = "k" } };
	struct cdc_rel rel = { .oid = 3, .ncols = 2, .cols = cols, .version = 1 };
	struct ttup t, o;
	struct cdc_err err = { 0 };
	char out[256];

	assert_non_null(c);
	add_line("a\t1");
	add_line("a\t1");
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:103,105", &err), 0);
	/* inserts never matter; an update by a transaction the snapshot sees is reflected */
	assert_int_equal(change(c, &rel, CDC_OP_CREATE, NULL, tup(&t, 2, "a", "1"), 107), 0);
	assert_int_equal(change(c, &rel, CDC_OP_UPDATE, tup(&o, 2, "a", "1"), tup(&t, 2, "b", "1"), 104), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "a\t1|a\t1");
	/* a delete by a transaction running when the snapshot was taken: read again */
	assert_int_equal(change(c, &rel, CDC_OP_DELETE, tup(&o, 2, "a", "1"), NULL, 105), 0);
	assert_int_equal(bfw_chunk_finish(c), 1);
	bfw_chunk_free(c);

	/* an update by a transaction that started after the snapshot: read again */
	c = bfw_chunk_new(names, 2, NULL, 0);
	assert_non_null(c);
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:", &err), 0);
	assert_int_equal(change(c, &rel, CDC_OP_UPDATE, tup(&o, 2, "a", "1"), tup(&t, 2, "b", "1"), 111), 0);
	assert_int_equal(bfw_chunk_finish(c), 1);
	bfw_chunk_free(c);

	/* no snapshot: nothing can be shown to be seen */
	c = bfw_chunk_new(names, 2, NULL, 0);
	assert_non_null(c);
	assert_int_equal(change(c, &rel, CDC_OP_DELETE, tup(&o, 2, "a", "1"), NULL, 5), 0);
	assert_int_equal(bfw_chunk_finish(c), 1);
	bfw_chunk_free(c);
}

static void
test_snapshot_text(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct cdc_err err = { 0 };

	assert_int_equal(bfw_chunk_set_snapshot(c, "100:105:101,103", &err), 0);
	assert_true(bfw_chunk_sees(c, 99));
	assert_false(bfw_chunk_sees(c, 101));
	assert_true(bfw_chunk_sees(c, 102));
	assert_false(bfw_chunk_sees(c, 103));
	assert_true(bfw_chunk_sees(c, 104));
	assert_false(bfw_chunk_sees(c, 105));
	assert_false(bfw_chunk_sees(c, 200));
	/* 64-bit ids past the first wraparound: 2^32 + 94 .. 2^32 + 104 */
	assert_int_equal(bfw_chunk_set_snapshot(c, "4294967390:4294967400:4294967395", &err), 0);
	assert_true(bfw_chunk_sees(c, 4294967295u));     /* just before the wrap */
	assert_true(bfw_chunk_sees(c, 100));
	assert_false(bfw_chunk_sees(c, 99));            /* 2^32 + 99: running */
	assert_false(bfw_chunk_sees(c, 104));
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:x:", &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "100:x:"));
	cdc_err_clear(&err);
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:105:1;2", &err), CDC_ERR_PROTO);
	bfw_chunk_free(c);
}

static void
test_many(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct ttup a;
	char id[16];

	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%d", i);
		add_row(id, "v");
	}
	/* every fourth key, plus keys outside the chunk */
	for (int i = 0; i < 40000; i += 8) {
		snprintf(id, sizeof(id), "%d", i / 2);
		assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, id, "w"), 800), 0);
	}
	for (int i = 20000; i < 20500; i++) {
		snprintf(id, sizeof(id), "%d", i);
		assert_int_equal(change(c, &rel_idv, CDC_OP_CREATE, NULL, tup(&a, 2, id, "w"), 801), 0);
	}
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_int_equal(ndropped(c), 5000);
	for (int i = 0; i < nrows; i++)
		if ((i % 4 == 0) == kept(c, i))
			fail_msg("row %d: kept %d", i, kept(c, i));
	bfw_chunk_free(c);
}

/* Changes delivered before the window count when the chunk's snapshot does not see
 * their transaction (a commit record before the low watermark, still invisible). */
static void
test_before_window(void **state)
{
	struct bfw_chunk *enc = chunk_idv(), *c = chunk_idv();
	struct ttup a, o;
	struct cdc_txn x = txn;
	struct cdc_change up = { .op = CDC_OP_UPDATE, .txn = &x, .rel = &rel_idv };
	struct cdc_change kc = { .op = CDC_OP_UPDATE, .txn = &x, .rel = &rel_idv, .old_kind = 'K' };
	struct cdc_change tr = { .op = CDC_OP_TRUNCATE, .txn = &x, .rel = &rel_idv };
	struct cdc_err err = { 0 };
	char kind, *id, out[256];
	size_t len;

	for (int i = 1; i <= 5; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", i);
		add_row(k, "x");
	}
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:105", &err), 0);
	/* key 2 updated by 105 (running for the snapshot): dropped */
	up.new_tuple = tup(&a, 2, "2", "y");
	assert_int_equal(bfw_chunk_ident(enc, &up, &kind, &id, &len), 0);
	assert_int_equal(kind, BFW_KEYS);
	assert_int_equal(bfw_chunk_before(c, 105, kind, id, len), 0);
	free(id);
	/* key 3 updated by 99 (seen): kept */
	up.new_tuple = tup(&a, 2, "3", "y");
	assert_int_equal(bfw_chunk_ident(enc, &up, &kind, &id, &len), 0);
	assert_int_equal(bfw_chunk_before(c, 99, kind, id, len), 0);
	free(id);
	/* a key change 4 -> 40 by 120 (after the snapshot): both keys count */
	kc.old_tuple = tup(&o, 2, "4", "\\N");
	kc.new_tuple = tup(&a, 2, "40", "z");
	assert_int_equal(bfw_chunk_ident(enc, &kc, &kind, &id, &len), 0);
	assert_int_equal(bfw_chunk_before(c, 120, kind, id, len), 0);
	free(id);
	/* a truncate the snapshot saw: nothing */
	assert_int_equal(bfw_chunk_ident(enc, &tr, &kind, &id, &len), 0);
	assert_int_equal(kind, BFW_TRUNCATE);
	assert_int_equal(bfw_chunk_before(c, 101, kind, id, len), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	survivors(c, out, sizeof(out));
	assert_string_equal(out, "1\tx|3\tx|5\tx");
	bfw_chunk_free(c);

	/* a truncate it did not see: everything goes */
	c = chunk_idv();
	add_row("1", "x");
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:", &err), 0);
	assert_int_equal(bfw_chunk_before(c, 110, BFW_TRUNCATE, NULL, 0), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_int_equal(ndropped(c), 1);
	bfw_chunk_free(c);

	/* an unmatchable change it did not see: read again; one it saw: nothing */
	c = chunk_idv();
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:", &err), 0);
	assert_int_equal(bfw_chunk_before(c, 50, BFW_REREAD, NULL, 0), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_int_equal(bfw_chunk_before(c, 111, BFW_REREAD, NULL, 0), 0);
	assert_int_equal(bfw_chunk_finish(c), 1);
	bfw_chunk_free(c);
	bfw_chunk_free(enc);
}

/* Keyless: an update or delete before the window by a transaction the snapshot does
 * not see means a new read; inserts never matter. */
static void
test_before_window_keyless(void **state)
{
	char *names[] = { "v", "k" };
	struct bfw_chunk *enc = bfw_chunk_new(names, 2, NULL, 0), *c = bfw_chunk_new(names, 2, NULL, 0);
	struct cdc_column cols[] = { { .name = "v" }, { .name = "k" } };
	struct cdc_rel rel = { .oid = 3, .ncols = 2, .cols = cols, .version = 1 };
	struct ttup t, o;
	struct cdc_txn x = txn;
	struct cdc_change ins = { .op = CDC_OP_CREATE, .txn = &x, .rel = &rel };
	struct cdc_change del = { .op = CDC_OP_DELETE, .txn = &x, .rel = &rel, .old_kind = 'O' };
	struct cdc_err err = { 0 };
	char kind, *id;
	size_t len;

	assert_non_null(enc);
	assert_non_null(c);
	ins.new_tuple = tup(&t, 2, "a", "1");
	assert_int_equal(bfw_chunk_ident(enc, &ins, &kind, &id, &len), 0);
	assert_int_equal(kind, BFW_NONE);
	del.old_tuple = tup(&o, 2, "a", "1");
	assert_int_equal(bfw_chunk_ident(enc, &del, &kind, &id, &len), 0);
	assert_int_equal(kind, BFW_WRITE);
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:", &err), 0);
	assert_int_equal(bfw_chunk_before(c, 90, BFW_WRITE, NULL, 0), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_int_equal(bfw_chunk_before(c, 112, BFW_WRITE, NULL, 0), 0);
	assert_int_equal(bfw_chunk_finish(c), 1);
	bfw_chunk_free(c);
	bfw_chunk_free(enc);
}

/* Row by row without keeping the rows: bfw_chunk_keeps after bfw_chunk_finish. */
static void
test_keeps(void **state)
{
	struct bfw_chunk *c = chunk_idv();
	struct cdc_change tr = { .op = CDC_OP_TRUNCATE, .txn = &txn, .rel = &rel_idv };
	struct cdc_err err = { 0 };
	struct ttup a;

	assert_true(bfw_chunk_keeps(c, tup(&a, 2, "1", "x")));      /* nothing touched */
	assert_int_equal(change(c, &rel_idv, CDC_OP_UPDATE, NULL, tup(&a, 2, "2", "y"), 701), 0);
	assert_int_equal(bfw_chunk_set_snapshot(c, "100:110:", &err), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_true(bfw_chunk_keeps(c, tup(&a, 2, "1", "x")));
	assert_false(bfw_chunk_keeps(c, tup(&a, 2, "2", "old")));
	assert_true(bfw_chunk_keeps(c, tup(&a, 2, "3", "x")));
	assert_false(bfw_chunk_keeps(c, tup(&a, 2, "2", "old")));  /* asking twice changes nothing */
	assert_int_equal(bfw_chunk_change(c, &tr, &err), 0);
	assert_int_equal(bfw_chunk_finish(c), 0);
	assert_false(bfw_chunk_keeps(c, tup(&a, 2, "1", "x")));     /* truncated: nothing */
	bfw_chunk_free(c);
}

static int
teardown(void **state)
{
	rows_clear();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_keyed_window, teardown),
		cmocka_unit_test_teardown(test_changes_before_rows, teardown),
		cmocka_unit_test_teardown(test_truncate_drops_all, teardown),
		cmocka_unit_test_teardown(test_composite_by_name, teardown),
		cmocka_unit_test_teardown(test_unmatchable, teardown),
		cmocka_unit_test_teardown(test_keyless, teardown),
		cmocka_unit_test_teardown(test_snapshot_text, teardown),
		cmocka_unit_test_teardown(test_many, teardown),
		cmocka_unit_test_teardown(test_before_window, teardown),
		cmocka_unit_test_teardown(test_before_window_keyless, teardown),
		cmocka_unit_test_teardown(test_keeps, teardown),
	};

	bfw_chunk_free(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
