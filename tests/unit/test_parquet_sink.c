/*
 * test_parquet_sink.c — the Parquet sink's delivery logic (sinks/parquet/sink.c),
 * driven through its sink_ops with synthetic relations and changes in a temporary
 * directory: what poll() reports as durable, file naming, whole transactions,
 * abort, exactly-once across a restart (high-water marks, stale .tmp removal),
 * snapshot markers (held durability, interrupted snapshots purged), a change of
 * columns inside a transaction, rotation by rows and commit date.
 * Row contents are checked by the writer's unit test and by DuckDB in the
 * integration tests; here each file's row count comes from its footer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/config.h"
#include "decoder/change.h"
#include "sinks/sink.h"
#include "sinks/parquet/encoding.h"
#include "sinks/parquet/thrift.h"

#define DAY_US INT64_C(86400000000)
#define T0 INT64_C(1795341600000000)     /* 2026-11-22 10:00:00 UTC */

struct fx {
	char dir[64];
	struct cfg *cfg;
	struct sink *s;
	struct cdc_err err;
};

static char n_id[] = "id", n_v[] = "v", n_w[] = "w", n_public[] = "public", n_t[] = "t", n_u[] = "u";
static struct cdc_column cols1[] = {
	{ .name = n_id, .type_oid = 23, .typmod = -1, .key = true, .pk = true },
	{ .name = n_v, .type_oid = 25, .typmod = -1 },
};
static struct cdc_column cols2[] = {
	{ .name = n_id, .type_oid = 23, .typmod = -1, .key = true, .pk = true },
	{ .name = n_v, .type_oid = 25, .typmod = -1 },
	{ .name = n_w, .type_oid = 1700, .typmod = ((10 << 16) | 2) + 4 },
};
static struct cdc_rel rel_t1 = { .oid = 16400, .schema = n_public, .name = n_t, .replident = 'd',
                                 .ncols = 2, .cols = cols1, .version = 1, .npk = 1 };
static struct cdc_rel rel_t2 = { .oid = 16400, .schema = n_public, .name = n_t, .replident = 'd',
                                 .ncols = 3, .cols = cols2, .version = 2, .npk = 1 };
static struct cdc_rel rel_u = { .oid = 16500, .schema = n_public, .name = n_u, .replident = 'd',
                                .ncols = 2, .cols = cols1, .version = 3, .npk = 1 };

static struct sink *
open_sink(struct fx *x)
{
	struct sink_env env = { .types = NULL, .dbname = "db" };
	struct sink *s;

	cfg_sink_env(x->cfg, &sink_parquet_ops, &env);
	s = sink_parquet_ops.open(&env, &x->err);

	if (s == NULL)
		fail_msg("open: %s", x->err.msg);
	return s;
}

static void
load_cfg(struct fx *x, const char *extra)
{
	char text[1024];

	cfg_free(x->cfg);
	snprintf(text, sizeof(text), "[source]\nconninfo = \"dbname=x\"\n[sink.parquet]\n"
	         "directory = %s/out\nrotate_interval = 1h\nrow_group_rows = 3\n%s", x->dir, extra);
	x->cfg = cfg_load_string("test.conf", text, NULL, 0, &x->err);
	if (x->cfg == NULL)
		fail_msg("config: %s", x->err.msg);
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	snprintf(x->dir, sizeof(x->dir), "/tmp/pgcdc-pqs.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	load_cfg(x, "");
	x->s = open_sink(x);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	sink_parquet_ops.close(x->s);
	cfg_free(x->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

/* ---- driving the sink ---- */

static struct cdc_txn
txn(cdc_lsn commit, int64_t ts)
{
	struct cdc_txn t = { .xid = (uint32_t) commit, .commit_lsn = commit, .end_lsn = commit + 8,
	                     .commit_ts_us = ts };

	return t;
}

static int
put(struct fx *x, const struct cdc_txn *t, const struct cdc_rel *rel, int id, char snap)
{
	char idtxt[16], w[] = "12.50";
	struct cdc_value vals[3] = {
		{ .kind = CDC_VAL_TEXT },
		{ .kind = CDC_VAL_TEXT, .len = 3, .data = "abc" },
		{ .kind = CDC_VAL_TEXT, .len = 5, .data = w },
	};
	struct cdc_tuple tup = { .ncols = rel->ncols, .vals = vals };
	struct cdc_change ch = { .op = snap ? CDC_OP_READ : CDC_OP_CREATE, .lsn = t->commit_lsn - 1,
	                         .txn = t, .rel = rel, .new_tuple = &tup, .snapshot = snap };

	snprintf(idtxt, sizeof(idtxt), "%d", id);
	vals[0].len = (uint32_t) strlen(idtxt);
	vals[0].data = idtxt;
	return x->s->ops->write(x->s, &ch, &x->err);
}

/* Begin as the decoder does: the end LSN is known only at the commit. */
static int
begin(struct fx *x, const struct cdc_txn *t)
{
	struct cdc_txn b = *t;

	if (!b.snapshot)
		b.end_lsn = 0;
	return x->s->ops->begin(x->s, &b, &x->err);
}

/* A transaction of n rows of rel (ids from id0), committed. */
static void
commit_rows(struct fx *x, const struct cdc_txn *t, const struct cdc_rel *rel, int id0, int n)
{
	assert_int_equal(begin(x, t), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(put(x, t, rel, id0 + i, 0), 0);
	assert_int_equal(x->s->ops->commit(x->s, t, &x->err), 0);
}

static cdc_lsn
durable(struct fx *x)
{
	cdc_lsn d = 12345;

	assert_int_equal(x->s->ops->poll(x->s, &d, &x->err), 0);
	return d;
}

/* Row count from a file's footer. */
static int64_t
file_rows(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;
	uint32_t flen;
	struct pq_tr r;
	int16_t id;
	int t;
	int64_t rows = -1;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) len);
	assert_int_equal(fread(buf, 1, (size_t) len, f), (size_t) len);
	fclose(f);
	assert_memory_equal(buf + len - 4, "PAR1", 4);
	flen = pq_get_le32(buf + len - 8);
	pq_tr_init(&r, buf + len - 8 - flen, flen);
	while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
		if (id == 3)
			rows = pq_tr_int(&r);
		else
			pq_tr_skip(&r, t);
	}
	assert_false(r.err);
	free(buf);
	return rows;
}

/* "name:rows name:rows ..." of the files in a directory, sorted; "" when none. */
static void
listing(const char *dir, char *out, size_t cap)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		char path[512], item[300];

		if (ents[i]->d_name[0] != '.') {
			struct stat st;

			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			if (strstr(ents[i]->d_name, ".tmp") || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
				snprintf(item, sizeof(item), "%s%s", out[0] ? " " : "", ents[i]->d_name);
			else
				snprintf(item, sizeof(item), "%s%s:%lld", out[0] ? " " : "", ents[i]->d_name,
				         (long long) file_rows(path));
			strncat(out, item, cap - strlen(out) - 1);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static void
assert_listing(struct fx *x, const char *sub, const char *want)
{
	char dir[256], got[4096];

	snprintf(dir, sizeof(dir), "%s/out/%s", x->dir, sub);
	listing(dir, got, sizeof(got));
	assert_string_equal(got, want);
}

#define DT "public.t/date=2026-11-22"
#define DU "public.u/date=2026-11-22"

/* ---- tests ---- */

static void
test_files_and_durability(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0 + 1), c = txn(0x300, T0 + 2);

	assert_int_equal(durable(x), 0);
	commit_rows(x, &a, &rel_t1, 1, 2);
	/* a multi-table transaction */
	assert_int_equal(begin(x, &b), 0);
	assert_int_equal(put(x, &b, &rel_u, 1, 0), 0);
	assert_int_equal(put(x, &b, &rel_t1, 3, 0), 0);
	assert_int_equal(x->s->ops->commit(x->s, &b, &x->err), 0);
	commit_rows(x, &c, &rel_u, 2, 1);
	/* nothing committed yet, only .tmp files: durable is what ends before a's commit */
	assert_int_equal(durable(x), 0x100);
	{
		char want[128];

		snprintf(want, sizeof(want), "0000000000000100-%d-1.parquet.tmp", (int) getpid());
		assert_listing(x, DT, want);
	}
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_int_equal(durable(x), 0x308);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:3");
	assert_listing(x, DU, "0000000000000200-0000000000000300.parquet:2");
	assert_int_equal(x->s->records, 5);
}

static void
test_abort_forgets_the_transaction(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0), c = txn(0x300, T0);

	commit_rows(x, &a, &rel_t1, 1, 2);
	assert_int_equal(begin(x, &b), 0);
	for (int i = 0; i < 7; i++)   /* crosses row groups of 3: rows reach the file */
		assert_int_equal(put(x, &b, &rel_t1, 100 + i, 0), 0);
	assert_int_equal(put(x, &b, &rel_u, 100, 0), 0);   /* a file of its own */
	x->s->ops->abort(x->s);
	assert_listing(x, DU, "");
	/* the resent transaction is written again, once */
	commit_rows(x, &b, &rel_t1, 10, 1);
	commit_rows(x, &c, &rel_t1, 11, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000300.parquet:4");
	assert_int_equal(durable(x), 0x308);
}

static void
test_exactly_once_after_restart(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0), c = txn(0x300, T0);
	char stale[256];
	int fd;

	commit_rows(x, &a, &rel_t1, 1, 2);
	commit_rows(x, &b, &rel_t1, 3, 2);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	/* a crash leaves an uncommitted file of c behind */
	commit_rows(x, &c, &rel_t1, 5, 1);
	sink_parquet_ops.close(x->s);   /* close discards it; a kill -9 would not: */
	snprintf(stale, sizeof(stale), "%s/out/" DT "/0000000000000300-99999-1.parquet.tmp", x->dir);
	fd = open(stale, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	x->s = open_sink(x);
	assert_true(access(stale, F_OK) != 0);   /* removed at open */
	/* the server resends a, b, c: a and b are skipped */
	commit_rows(x, &a, &rel_t1, 1, 2);
	assert_int_equal(durable(x), 0x108);     /* skipped: durable at once */
	commit_rows(x, &b, &rel_t1, 3, 2);
	commit_rows(x, &c, &rel_t1, 5, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:4 "
	               "0000000000000300-0000000000000300.parquet:1");
	/* and a transaction resent within the same process (reconnect) is skipped too */
	commit_rows(x, &c, &rel_t1, 5, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:4 "
	               "0000000000000300-0000000000000300.parquet:1");
	/* online backfill chunks read again after a crash: one first handed at 0x200 (which
	 * the files held when the sink opened) is skipped; one first handed at 0x400 is
	 * written; so is one marked pending at 0x650, which no file held when the sink
	 * opened, though this run's stream went past 0x650 for the table before it came */
	{
		struct cdc_txn again = txn(0x500, T0), fresh = txn(0x600, T0), later = txn(0x700, T0),
		               chunk = txn(0x800, T0);

		again.dedupe_lsn = 0x200;
		fresh.dedupe_lsn = 0x400;
		chunk.dedupe_lsn = 0x650;
		commit_rows(x, &again, &rel_t1, 7, 3);
		commit_rows(x, &fresh, &rel_t1, 10, 2);
		commit_rows(x, &later, &rel_t1, 20, 1);
		commit_rows(x, &chunk, &rel_t1, 30, 2);
		assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
		assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:4 "
		               "0000000000000300-0000000000000300.parquet:1 "
		               "0000000000000600-0000000000000800.parquet:5");
	}
}

static void
test_snapshot_marker_and_durability(void **state)
{
	struct fx *x = *state;
	struct cdc_txn s1 = txn(0x500, T0), s2, s3, a = txn(0x600, T0 + 5);
	char marker[256];

	s1.snapshot = true;
	s1.xid = 0;
	s1.end_lsn = 0x500;
	s2 = s1;
	s3 = s1;
	snprintf(marker, sizeof(marker), "%s/out/.pgcdc-snapshot-0000000000000500-%lld.inprogress",
	         x->dir, (long long) T0);
	/* chunk 1 of t, then u, then the last chunk of t: one LSN for all */
	assert_int_equal(begin(x, &s1), 0);
	assert_int_equal(put(x, &s1, &rel_t1, 1, CDC_SNAP_TRUE), 0);
	assert_int_equal(put(x, &s1, &rel_t1, 2, CDC_SNAP_TRUE), 0);
	assert_true(access(marker, F_OK) == 0);   /* written before the first row */
	assert_int_equal(x->s->ops->commit(x->s, &s1, &x->err), 0);
	assert_int_equal(begin(x, &s2), 0);
	assert_int_equal(put(x, &s2, &rel_u, 1, CDC_SNAP_TRUE), 0);
	assert_int_equal(x->s->ops->commit(x->s, &s2, &x->err), 0);
	/* files committed meanwhile (flush) do not make the snapshot durable */
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_int_equal(durable(x), 0);
	assert_true(access(marker, F_OK) == 0);
	assert_int_equal(begin(x, &s3), 0);
	assert_int_equal(put(x, &s3, &rel_t1, 3, CDC_SNAP_TRUE), 0);
	assert_int_equal(put(x, &s3, &rel_t1, 4, CDC_SNAP_LAST), 0);
	assert_int_equal(x->s->ops->commit(x->s, &s3, &x->err), 0);
	/* the last row committed: every snapshot file closed, marker gone */
	assert_true(access(marker, F_OK) != 0);
	assert_int_equal(durable(x), 0x500);
	assert_listing(x, DT, "0000000000000500-0000000000000500-snapshot-1795341600000000-000001.parquet:2 "
	               "0000000000000500-0000000000000500-snapshot-1795341600000000-000002.parquet:2");
	assert_listing(x, DU, "0000000000000500-0000000000000500-snapshot-1795341600000000-000001.parquet:1");
	/* streaming after it: snapshot files never raise the high-water mark */
	a.commit_lsn = 0x500;   /* a commit at the consistent point itself is still written */
	a.end_lsn = 0x508;
	commit_rows(x, &a, &rel_t1, 10, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_int_equal(durable(x), 0x508);
}

static void
test_interrupted_snapshot_is_purged(void **state)
{
	struct fx *x = *state;
	struct cdc_txn s1 = txn(0x500, T0), a = txn(0x100, T0);

	commit_rows(x, &a, &rel_t1, 1, 1);
	s1.snapshot = true;
	s1.end_lsn = 0x500;
	assert_int_equal(begin(x, &s1), 0);
	assert_int_equal(put(x, &s1, &rel_t1, 1, CDC_SNAP_TRUE), 0);
	assert_int_equal(x->s->ops->commit(x->s, &s1, &x->err), 0);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000100.parquet:1 "
	               "0000000000000500-0000000000000500-snapshot-1795341600000000-000001.parquet:1");
	assert_int_equal(durable(x), 0x108);     /* the snapshot is not */
	/* the agent dies before the snapshot's last row */
	sink_parquet_ops.close(x->s);
	x->s = open_sink(x);
	assert_listing(x, DT, "0000000000000100-0000000000000100.parquet:1");
	{
		char got[1024];
		char top[256];

		snprintf(top, sizeof(top), "%s/out", x->dir);
		listing(top, got, sizeof(got));
		assert_string_equal(got, "public.t");   /* and no marker (dot files not listed) */
		snprintf(top, sizeof(top), "%s/out/.pgcdc-snapshot-0000000000000500-%lld.inprogress",
		         x->dir, (long long) T0);
		assert_true(access(top, F_OK) != 0);
	}
}

/* Columns change after rows of the same transaction: both files commit together. */
static void
test_schema_change_inside_transaction(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0), c = txn(0x300, T0);

	commit_rows(x, &a, &rel_t1, 1, 1);
	assert_int_equal(begin(x, &b), 0);
	assert_int_equal(put(x, &b, &rel_t1, 2, 0), 0);
	assert_int_equal(put(x, &b, &rel_t2, 3, 0), 0);   /* ALTER TABLE ADD COLUMN in between */
	assert_int_equal(put(x, &b, &rel_t2, 4, 0), 0);
	assert_int_equal(durable(x), 0x100);     /* a's file is open (frozen) */
	assert_int_equal(x->s->ops->commit(x->s, &b, &x->err), 0);
	assert_int_equal(durable(x), 0x208);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:2 "
	               "0000000000000200-0000000000000200.parquet:2");
	/* the same relation again (as after a reconnect) is no change of columns */
	commit_rows(x, &c, &rel_t2, 5, 1);
	{
		struct cdc_rel again = rel_t2;
		struct cdc_txn d = txn(0x400, T0);

		again.version = 9;
		commit_rows(x, &d, &again, 6, 1);
	}
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:2 "
	               "0000000000000200-0000000000000200.parquet:2 "
	               "0000000000000300-0000000000000400.parquet:2");
}

/* An abort after a change of columns: back to the old file, nothing of it kept. */
static void
test_schema_change_then_abort(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0);

	commit_rows(x, &a, &rel_t1, 1, 1);
	assert_int_equal(begin(x, &b), 0);
	assert_int_equal(put(x, &b, &rel_t1, 2, 0), 0);
	assert_int_equal(put(x, &b, &rel_t2, 3, 0), 0);
	x->s->ops->abort(x->s);
	commit_rows(x, &b, &rel_t1, 2, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:2");
}

static void
test_rotation_rows_and_dates(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(0x100, T0), t2 = txn(0x200, T0), t3 = txn(0x300, T0),
	               t4 = txn(0x400, T0 + DAY_US);

	sink_parquet_ops.close(x->s);
	load_cfg(x, "rotate_rows = 3\n");
	x->s = open_sink(x);
	commit_rows(x, &t1, &rel_t1, 1, 2);
	commit_rows(x, &t2, &rel_t1, 3, 2);      /* 4 rows >= 3: closed at this commit */
	assert_int_equal(durable(x), 0x208);
	commit_rows(x, &t3, &rel_t1, 5, 1);
	commit_rows(x, &t4, &rel_t1, 6, 1);      /* the next day: a file in its partition, */
	assert_int_equal(durable(x), 0x400);     /* and the previous day's file committed */
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000200.parquet:4 "
	               "0000000000000300-0000000000000300.parquet:1");
	assert_listing(x, "public.t/date=2026-11-23", "0000000000000400-0000000000000400.parquet:1");
	assert_int_equal(durable(x), 0x408);
}

/* A crash between a commit journal and its renames: the next start completes them. */
static void
test_commit_journal_rolled_forward(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0), b = txn(0x200, T0);
	char dir[256], tmp[512], cmd[1024], journal[300];
	FILE *f;

	commit_rows(x, &a, &rel_t1, 1, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	sink_parquet_ops.close(x->s);
	/* as if a group commit of b had written its journal and died before renaming:
	 * a finished file under its .tmp name (a copy of the committed one will do) */
	snprintf(dir, sizeof(dir), "%s/out/" DT, x->dir);
	snprintf(tmp, sizeof(tmp), "%s/0000000000000200-4242-1.parquet.tmp", dir);
	snprintf(cmd, sizeof(cmd), "cp %s/0000000000000100-0000000000000100.parquet %s", dir, tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(journal, sizeof(journal), "%s/out/.pgcdc-commit-4242-1.journal", x->dir);
	f = fopen(journal, "w");
	assert_non_null(f);
	fprintf(f, DT "/0000000000000200-4242-1.parquet.tmp\t" DT "/0000000000000200-0000000000000200.parquet\n");
	fclose(f);
	x->s = open_sink(x);
	assert_true(access(journal, F_OK) != 0);
	assert_listing(x, DT, "0000000000000100-0000000000000100.parquet:1 "
	               "0000000000000200-0000000000000200.parquet:1");
	/* and its transaction counts as written */
	commit_rows(x, &b, &rel_t1, 2, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	assert_listing(x, DT, "0000000000000100-0000000000000100.parquet:1 "
	               "0000000000000200-0000000000000200.parquet:1");
}

/* A journal entry that is not a plain file name in its table directory is refused
 * (issue 13.8): "../" or absolute paths must never be renamed, whatever the journal says. */
static void
test_commit_journal_paths_confined(void **state)
{
	struct fx *x = *state;
	struct cdc_txn a = txn(0x100, T0);
	char outside[300], victim[300], journal[300], cmd[700];
	FILE *f;

	commit_rows(x, &a, &rel_t1, 1, 1);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);
	sink_parquet_ops.close(x->s);
	snprintf(outside, sizeof(outside), "%s/outside.parquet.tmp", x->dir);
	snprintf(victim, sizeof(victim), "%s/victim", x->dir);
	snprintf(cmd, sizeof(cmd), "echo data > %s && echo keep > %s", outside, victim);
	assert_int_equal(system(cmd), 0);
	snprintf(journal, sizeof(journal), "%s/out/.pgcdc-commit-4243-1.journal", x->dir);
	f = fopen(journal, "w");
	assert_non_null(f);
	fprintf(f, "../outside.parquet.tmp\t" DT "/0000000000000300-0000000000000300.parquet\n");
	fprintf(f, DT "/../../outside.parquet.tmp\t" DT "/0000000000000300-0000000000000300.parquet\n");
	fprintf(f, "%s\t%s\n", outside, victim);
	fprintf(f, DT "/0000000000000100-0000000000000100.parquet\t../victim\n");
	fprintf(f, DT "/0000000000000100-0000000000000100.parquet\t" DT "/../../victim\n");
	fprintf(f, DT "/0000000000000100-0000000000000100.parquet\tpublic.t2/date=2026-11-22/x.parquet\n");
	fclose(f);
	x->s = open_sink(x);
	assert_true(access(journal, F_OK) != 0);          /* the journal is done with */
	assert_int_equal(access(outside, F_OK), 0);       /* nothing outside was moved */
	snprintf(cmd, sizeof(cmd), "grep -qx keep %s", victim);
	assert_int_equal(system(cmd), 0);                 /* nor overwritten */
	assert_listing(x, DT, "0000000000000100-0000000000000100.parquet:1");
	unlink(outside);
	unlink(victim);
}

/* A snapshot given up in the same process (a new one starts): its files go. */
static void
test_snapshot_abandoned_for_a_new_one(void **state)
{
	struct fx *x = *state;
	struct cdc_txn s1 = txn(0x500, T0), s2 = txn(0x900, T0 + 1000);
	char m1[256], m2[256];

	s1.snapshot = s2.snapshot = true;
	s1.end_lsn = 0x500;
	s2.end_lsn = 0x900;
	snprintf(m1, sizeof(m1), "%s/out/.pgcdc-snapshot-0000000000000500-%lld.inprogress", x->dir,
	         (long long) T0);
	snprintf(m2, sizeof(m2), "%s/out/.pgcdc-snapshot-0000000000000900-%lld.inprogress", x->dir,
	         (long long) (T0 + 1000));
	assert_int_equal(begin(x, &s1), 0);
	assert_int_equal(put(x, &s1, &rel_t1, 1, CDC_SNAP_TRUE), 0);
	assert_int_equal(x->s->ops->commit(x->s, &s1, &x->err), 0);
	assert_int_equal(x->s->ops->flush(x->s, 1000, &x->err), 0);   /* a committed file of it */
	assert_int_equal(begin(x, &s2), 0);
	assert_int_equal(put(x, &s2, &rel_t1, 1, CDC_SNAP_TRUE), 0);
	assert_true(access(m1, F_OK) != 0);
	assert_true(access(m2, F_OK) == 0);
	assert_int_equal(put(x, &s2, &rel_t1, 2, CDC_SNAP_LAST), 0);
	assert_int_equal(x->s->ops->commit(x->s, &s2, &x->err), 0);
	assert_true(access(m2, F_OK) != 0);
	assert_listing(x, DT, "0000000000000900-0000000000000900-snapshot-1795341600001000-000002.parquet:2");
	assert_int_equal(durable(x), 0x900);
}

static void
test_unwritable_directory(void **state)
{
	struct fx *x = *state;
	struct sink_env env = { .types = NULL, .dbname = "db" };
	char info[256];
	struct cfg *c;
	char text[512];

	snprintf(text, sizeof(text), "[source]\nconninfo = \"dbname=x\"\n[sink.parquet]\n"
	         "directory = /dev/null/pgcdc\n");
	c = cfg_load_string("test.conf", text, NULL, 0, &x->err);
	assert_non_null(c);
	cfg_sink_env(c, &sink_parquet_ops, &env);
	assert_null(sink_parquet_ops.open(&env, &x->err));
	assert_non_null(strstr(x->err.msg, "/dev/null/pgcdc"));
	cdc_err_clear(&x->err);
	assert_int_not_equal(sink_parquet_ops.probe(&env, info, sizeof(info), &x->err), 0);
	cfg_free(c);
	cdc_err_clear(&x->err);
	cfg_sink_env(x->cfg, &sink_parquet_ops, &env);
	assert_int_equal(sink_parquet_ops.probe(&env, info, sizeof(info), &x->err), 0);
	assert_non_null(strstr(info, "writable"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_durability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_forgets_the_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exactly_once_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_marker_and_durability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_snapshot_is_purged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_change_inside_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_change_then_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_rows_and_dates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_journal_rolled_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_journal_paths_confined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_abandoned_for_a_new_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
