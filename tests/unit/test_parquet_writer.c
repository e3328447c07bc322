/*
 * test_parquet_writer.c — Parquet writer round trips (sinks/parquet/writer.c).
 *
 * Files are written to a temporary directory and read back by a small reader
 * written here from the format description (footer through the Thrift reader,
 * pages decompressed with libzstd / libsnappy, definition levels and dictionary
 * indices through the hybrid decoder), so every value, row-group boundary,
 * statistic and key-value pair is checked — including savepoint rollbacks in
 * memory and in the file, the split of a row group at a savepoint, dictionary
 * fallback, every codec, and a write that fails with EFBIG (disk full) and
 * succeeds once the limit is lifted.  The integration tests read files with
 * DuckDB on top of this.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <snappy-c.h>
#include <zstd.h>

#include "sinks/parquet/encoding.h"
#include "sinks/parquet/thrift.h"
#include "sinks/parquet/writer.h"

#define MAXRG 16
#define MAXCOL 8

/* ---- a minimal reader ---- */

struct rd_chunk {
	int type, codec;
	int64_t num_values, data_off, dict_off;
	bool has_stats, has_min, has_max, min_exact, max_exact, has_nan;
	int64_t null_count, nan_count;
	uint8_t min[2048], max[2048];
	size_t minlen, maxlen;
	int encodings[4], nenc;
};

struct rd_file {
	uint8_t *data;
	size_t len;
	int64_t num_rows;
	int nschema;
	int nrg;
	int64_t rg_rows[MAXRG];
	struct rd_chunk ch[MAXRG][MAXCOL];
	int nkv;
	char key[8][64], value[8][64];
};

static void
rd_stats(struct pq_tr *r, struct rd_chunk *c)
{
	int16_t id;
	int t;
	size_t n;
	const uint8_t *p;

	c->has_stats = true;
	pq_tr_struct_begin(r);
	while ((t = pq_tr_field(r, &id)) != PQ_T_STOP) {
		switch (id) {
		case 3: c->null_count = pq_tr_int(r); break;
		case 5:
			p = pq_tr_binary(r, &n);
			assert_true(n <= sizeof(c->max));
			memcpy(c->max, p, n);
			c->maxlen = n;
			c->has_max = true;
			break;
		case 6:
			p = pq_tr_binary(r, &n);
			assert_true(n <= sizeof(c->min));
			memcpy(c->min, p, n);
			c->minlen = n;
			c->has_min = true;
			break;
		case 7: c->max_exact = pq_tr_bool(r); break;
		case 8: c->min_exact = pq_tr_bool(r); break;
		case 9: c->nan_count = pq_tr_int(r); c->has_nan = true; break;
		default: pq_tr_skip(r, t);
		}
	}
}

static void
rd_meta(struct pq_tr *r, struct rd_chunk *c)
{
	int16_t id;
	int t, et;
	size_t n;

	c->dict_off = -1;
	pq_tr_struct_begin(r);
	while ((t = pq_tr_field(r, &id)) != PQ_T_STOP) {
		switch (id) {
		case 1: c->type = (int) pq_tr_int(r); break;
		case 2:
			pq_tr_list(r, &et, &n);
			for (size_t i = 0; i < n; i++) {
				int e = (int) pq_tr_int(r);

				if (c->nenc < 4)
					c->encodings[c->nenc++] = e;
			}
			break;
		case 4: c->codec = (int) pq_tr_int(r); break;
		case 5: c->num_values = pq_tr_int(r); break;
		case 9: c->data_off = pq_tr_int(r); break;
		case 11: c->dict_off = pq_tr_int(r); break;
		case 12: rd_stats(r, c); break;
		default: pq_tr_skip(r, t);
		}
	}
}

static void
rd_open(const char *path, struct rd_file *f)
{
	FILE *fp = fopen(path, "rb");
	struct pq_tr r;
	uint32_t flen;
	int16_t id;
	int t, et;
	size_t n;

	memset(f, 0, sizeof(*f));
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	f->len = (size_t) ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f->data = malloc(f->len);
	assert_int_equal(fread(f->data, 1, f->len, fp), f->len);
	fclose(fp);
	assert_true(f->len >= 12);
	assert_memory_equal(f->data, "PAR1", 4);
	assert_memory_equal(f->data + f->len - 4, "PAR1", 4);
	flen = pq_get_le32(f->data + f->len - 8);
	assert_true(flen <= f->len - 12);
	pq_tr_init(&r, f->data + f->len - 8 - flen, flen);
	while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
		switch (id) {
		case 2:
			pq_tr_list(&r, &et, &n);
			f->nschema = (int) n;
			for (size_t i = 0; i < n; i++)
				pq_tr_skip(&r, PQ_T_STRUCT);
			break;
		case 3: f->num_rows = pq_tr_int(&r); break;
		case 4:
			pq_tr_list(&r, &et, &n);
			assert_true(n <= MAXRG);
			f->nrg = (int) n;
			for (size_t g = 0; g < n; g++) {
				pq_tr_struct_begin(&r);
				while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
					if (id == 1) {
						size_t nc;

						pq_tr_list(&r, &et, &nc);
						assert_true(nc <= MAXCOL);
						for (size_t c = 0; c < nc; c++) {
							int16_t cid;
							int ct;

							pq_tr_struct_begin(&r);
							while ((ct = pq_tr_field(&r, &cid)) != PQ_T_STOP) {
								if (cid == 3)
									rd_meta(&r, &f->ch[g][c]);
								else
									pq_tr_skip(&r, ct);
							}
						}
					} else if (id == 3) {
						f->rg_rows[g] = pq_tr_int(&r);
					} else {
						pq_tr_skip(&r, t);
					}
				}
			}
			break;
		case 5:
			pq_tr_list(&r, &et, &n);
			for (size_t i = 0; i < n; i++) {
				int16_t kid;
				int kt;

				pq_tr_struct_begin(&r);
				while ((kt = pq_tr_field(&r, &kid)) != PQ_T_STOP) {
					size_t sl;
					const uint8_t *s = pq_tr_binary(&r, &sl);

					assert_int_equal(kt, PQ_T_BINARY);
					if (f->nkv < 8 && sl < 64)
						memcpy(kid == 1 ? f->key[f->nkv] : f->value[f->nkv], s, sl);
				}
				f->nkv++;
			}
			break;
		default:
			pq_tr_skip(&r, t);
		}
	}
	assert_false(r.err);
}

static const char *
rd_kv(const struct rd_file *f, const char *key)
{
	for (int i = 0; i < f->nkv && i < 8; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->value[i];
	return NULL;
}

/* One page at off: type, value count, encoding; body decompressed into *body. */
static size_t
rd_page(const struct rd_file *f, int64_t off, int codec, int *type, int *nvalues, int *enc,
        uint8_t **body, size_t *blen)
{
	struct pq_tr r;
	int16_t id;
	int t;
	int64_t unc = 0, comp = 0;

	pq_tr_init(&r, f->data + off, f->len - (size_t) off);
	while ((t = pq_tr_field(&r, &id)) != PQ_T_STOP) {
		if (id == 1) {
			*type = (int) pq_tr_int(&r);
		} else if (id == 2) {
			unc = pq_tr_int(&r);
		} else if (id == 3) {
			comp = pq_tr_int(&r);
		} else if (id == 5 || id == 7) {
			int16_t sid;
			int st;

			pq_tr_struct_begin(&r);
			while ((st = pq_tr_field(&r, &sid)) != PQ_T_STOP) {
				if (sid == 1)
					*nvalues = (int) pq_tr_int(&r);
				else if (sid == 2)
					*enc = (int) pq_tr_int(&r);
				else
					pq_tr_skip(&r, st);
			}
		} else {
			pq_tr_skip(&r, t);
		}
	}
	assert_false(r.err);
	*body = malloc((size_t) unc + 1);
	*blen = (size_t) unc;
	if (codec == 0) {
		assert_int_equal(unc, comp);
		memcpy(*body, f->data + off + (int64_t) r.pos, (size_t) unc);
	} else if (codec == 6) {
		size_t got = ZSTD_decompress(*body, (size_t) unc, f->data + off + (int64_t) r.pos, (size_t) comp);

		assert_false(ZSTD_isError(got));
		assert_int_equal(got, unc);
	} else if (codec == 1) {
		size_t got = (size_t) unc;

		assert_int_equal(snappy_uncompress((const char *) f->data + off + (int64_t) r.pos,
		                                   (size_t) comp, (char *) *body, &got), SNAPPY_OK);
		assert_int_equal(got, unc);
	} else {
		fail_msg("codec %d", codec);
	}
	return r.pos + (size_t) comp;
}

/* Values of column c in row group g, as text ("NULL" for nulls), appended to out. */
static void
rd_column(const struct rd_file *f, int g, int c, bool optional, char **out, int *nout)
{
	const struct rd_chunk *ch = &f->ch[g][c];
	uint8_t *dict = NULL, *body;
	size_t dlen = 0, blen, pos = 0;
	int type = -1, nv = 0, enc = -1, ndict = 0;
	uint32_t *defs, *idx = NULL;
	size_t *doffs = NULL;

	if (ch->dict_off >= 0) {
		rd_page(f, ch->dict_off, ch->codec, &type, &ndict, &enc, &dict, &dlen);
		assert_int_equal(type, 2);
		doffs = calloc((size_t) ndict + 1, sizeof(size_t));
		for (int i = 0; i < ndict; i++) {
			doffs[i] = pos;
			pos += 4 + pq_get_le32(dict + pos);
		}
		assert_int_equal(pos, dlen);
	}
	rd_page(f, ch->data_off, ch->codec, &type, &nv, &enc, &body, &blen);
	assert_int_equal(type, 0);
	assert_int_equal(nv, ch->num_values);
	defs = calloc((size_t) nv + 8, sizeof(uint32_t));
	pos = 0;
	if (optional) {
		uint32_t dl = pq_get_le32(body);

		assert_int_equal(pq_rle_decode(body + 4, dl, 1, defs, (size_t) nv), (long) dl);
		pos = 4 + dl;
	} else {
		for (int i = 0; i < nv; i++)
			defs[i] = 1;
	}
	if (enc == 8) {
		int bw = body[pos++], k = 0;

		for (int i = 0; i < nv; i++)
			k += defs[i] != 0;
		idx = calloc((size_t) k + 8, sizeof(uint32_t));
		assert_true(pq_rle_decode(body + pos, blen - pos, bw, idx, (size_t) k) >= 0);
	} else {
		assert_int_equal(enc, 0);
	}
	for (int i = 0, k = 0; i < nv; i++) {
		char buf[4200];

		if (!defs[i]) {
			snprintf(buf, sizeof(buf), "NULL");
		} else if (idx != NULL) {
			uint32_t e = idx[k++];
			uint32_t l;

			assert_true((int) e < ndict);
			l = pq_get_le32(dict + doffs[e]);
			snprintf(buf, sizeof(buf), "%.*s", (int) l, dict + doffs[e] + 4);
		} else if (ch->type == PQ_INT32) {
			snprintf(buf, sizeof(buf), "%d", (int32_t) pq_get_le32(body + pos));
			pos += 4;
		} else if (ch->type == PQ_INT64) {
			snprintf(buf, sizeof(buf), "%lld", (long long) pq_get_le64(body + pos));
			pos += 8;
		} else if (ch->type == PQ_DOUBLE) {
			uint64_t u = pq_get_le64(body + pos);
			double d;

			memcpy(&d, &u, 8);
			snprintf(buf, sizeof(buf), "%g", d);
			pos += 8;
		} else if (ch->type == PQ_BOOLEAN) {
			snprintf(buf, sizeof(buf), "%s", (body[pos + (size_t) k / 8] >> (k % 8)) & 1 ? "t" : "f");
			k++;
		} else if (ch->type == PQ_BYTE_ARRAY) {
			uint32_t l = pq_get_le32(body + pos);

			snprintf(buf, sizeof(buf), "%.*s", (int) l, body + pos + 4);
			pos += 4 + l;
		} else {
			fail_msg("type %d", ch->type);
		}
		out[(*nout)++] = strdup(buf);
	}
	free(defs);
	free(idx);
	free(doffs);
	free(dict);
	free(body);
}

/* All values of column c, every row group. */
static int
rd_all(const struct rd_file *f, int c, bool optional, char **out)
{
	int n = 0;

	for (int g = 0; g < f->nrg; g++)
		rd_column(f, g, c, optional, out, &n);
	return n;
}

static void
free_strs(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
}

static void
rd_close(struct rd_file *f)
{
	free(f->data);
}

/* ---- fixtures ---- */

struct fx {
	char dir[64];
	char path[128];
	int fd;
	struct pq_writer *w;
	struct cdc_err err;
};

/* id INT32 optional, name STRING optional, n INT64 required */
static const struct pq_coldef cols3[] = {
	{ .name = "id", .type = PQ_INT32 },
	{ .name = "name", .type = PQ_BYTE_ARRAY, .ltype = PQ_LT_STRING },
	{ .name = "n", .type = PQ_INT64, .required = true },
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	snprintf(x->dir, sizeof(x->dir), "/tmp/pgcdc-pqw.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/f.parquet", x->dir);
	x->fd = open(x->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(x->fd >= 0);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	pq_writer_free(x->w);
	close(x->fd);
	unlink(x->path);
	rmdir(x->dir);
	free(x);
	return 0;
}

static void
open_writer(struct fx *x, int64_t rg_rows, enum pq_codec codec)
{
	struct pq_wopts o = { .codec = codec, .rg_rows = rg_rows, .rg_bytes = 1 << 26, .dictionary = true };

	x->w = pq_writer_new(cols3, 3, &o, x->fd, x->path, &x->err);
	assert_non_null(x->w);
}

/* Append a row as the sink does: flush a full row group first. */
static int
row(struct fx *x, int id, const char *name)
{
	int rc;

	if (pq_writer_full(x->w) && (rc = pq_writer_flush(x->w, &x->err)) != 0)
		return rc;
	if (id < 0)
		pq_put_null(x->w, 0);
	else
		pq_put_i32(x->w, 0, id);
	if (name == NULL)
		pq_put_null(x->w, 1);
	else
		pq_put_bytes(x->w, 1, name, strlen(name));
	pq_put_i64(x->w, 2, (int64_t) id * 1000);
	return pq_row_end(x->w, &x->err);
}

static void
finish(struct fx *x)
{
	static const struct pq_kv kv[] = { { "pgcdc.table", "public.t" }, { "k2", "v2" } };

	assert_int_equal(pq_writer_finish(x->w, kv, 2, &x->err), 0);
}

static void
assert_ids(const struct rd_file *f, const char *want)
{
	char *v[4096], joined[8192] = "";
	int n = rd_all(f, 0, true, v);

	for (int i = 0; i < n; i++) {
		strcat(joined, i ? " " : "");
		strcat(joined, v[i]);
	}
	free_strs(v, n);
	assert_string_equal(joined, want);
}

/* ---- tests ---- */

static void
test_roundtrip_rowgroups(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;
	char *v[64] = { 0 };
	int n;

	open_writer(x, 4, PQ_CODEC_ZSTD);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(row(x, i % 5 == 0 ? -1 : i, i % 3 == 0 ? NULL : (i % 2 ? "odd" : "even")), 0);
	assert_int_equal(pq_writer_rows(x->w), 10);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.num_rows, 10);
	assert_int_equal(f.nschema, 4);          /* root + 3 columns */
	assert_int_equal(f.nrg, 3);              /* 4 + 4 + 2 */
	assert_int_equal(f.rg_rows[0], 4);
	assert_int_equal(f.rg_rows[2], 2);
	assert_string_equal(rd_kv(&f, "pgcdc.table"), "public.t");
	assert_string_equal(rd_kv(&f, "k2"), "v2");
	assert_ids(&f, "1 2 3 4 NULL 6 7 8 9 NULL");
	n = rd_all(&f, 1, true, v);
	assert_int_equal(n, 10);
	assert_string_equal(v[0], "odd");
	assert_string_equal(v[1], "even");
	assert_string_equal(v[2], "NULL");
	assert_string_equal(v[9], "even");
	free_strs(v, n);
	n = rd_all(&f, 2, false, v);
	assert_string_equal(v[4], "-1000");
	assert_string_equal(v[9], "-1000");
	free_strs(v, n);
	/* strings are dictionary-encoded, ints PLAIN */
	assert_true(f.ch[0][1].dict_off >= 0);
	assert_int_equal(f.ch[0][1].encodings[0], 8);
	assert_int_equal(f.ch[0][0].dict_off, -1);
	/* statistics of row group 0 (ids 1..4; names odd, even, NULL, even) */
	assert_int_equal(f.ch[0][0].null_count, 0);
	assert_int_equal((int32_t) pq_get_le32(f.ch[0][0].min), 1);
	assert_int_equal((int32_t) pq_get_le32(f.ch[0][0].max), 4);
	assert_int_equal(f.ch[0][1].null_count, 1);
	assert_int_equal(f.ch[0][1].minlen, 4);
	assert_memory_equal(f.ch[0][1].min, "even", 4);
	assert_memory_equal(f.ch[0][1].max, "odd", 3);
	assert_true(f.ch[0][1].min_exact && f.ch[0][1].max_exact);
	/* row group 1: ids 5..8 with 5 null */
	assert_int_equal(f.ch[1][0].null_count, 1);
	assert_int_equal((int32_t) pq_get_le32(f.ch[1][0].min), 6);
	rd_close(&f);
}

static void
test_codecs(void **state)
{
	static const enum pq_codec codecs[] = { PQ_CODEC_NONE, PQ_CODEC_SNAPPY, PQ_CODEC_ZSTD };
	struct fx *x = *state;

	for (size_t k = 0; k < 3; k++) {
		static struct rd_file f;
		char want[4096] = "", num[16];

		pq_writer_free(x->w);
		assert_int_equal(ftruncate(x->fd, 0), 0);
		open_writer(x, 100, codecs[k]);
		for (int i = 0; i < 250; i++) {
			assert_int_equal(row(x, i, "same"), 0);
			snprintf(num, sizeof(num), "%s%d", i ? " " : "", i);
			strcat(want, num);
		}
		finish(x);
		rd_open(x->path, &f);
		assert_int_equal(f.ch[0][0].codec, (int) codecs[k]);
		assert_int_equal(f.nrg, 3);
		assert_ids(&f, want);
		rd_close(&f);
	}
}

/* Rollback while the transaction's rows are still in memory. */
static void
test_rollback_memory(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;

	open_writer(x, 100, PQ_CODEC_ZSTD);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(row(x, i, "a"), 0);
	pq_writer_mark(x->w);
	assert_int_equal(row(x, 4, "new-entry"), 0);
	assert_int_equal(row(x, 5, NULL), 0);
	pq_writer_rollback(x->w);
	assert_int_equal(pq_writer_rows(x->w), 3);
	pq_writer_mark(x->w);
	assert_int_equal(row(x, 6, "b"), 0);
	pq_writer_release(x->w);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.num_rows, 4);
	assert_ids(&f, "1 2 3 6");
	/* the rolled-back value is no statistic */
	assert_memory_equal(f.ch[0][1].max, "b", 1);
	assert_int_equal(f.ch[0][1].null_count, 0);
	rd_close(&f);
}

/* A row group fills inside a transaction: the rows before the savepoint are written
 * as their own row group, so a rollback just cuts the file back. */
static void
test_split_and_rollback_file(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;
	struct stat st;

	open_writer(x, 4, PQ_CODEC_ZSTD);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(row(x, i, "pre"), 0);
	pq_writer_mark(x->w);
	for (int i = 10; i < 20; i++)   /* 13 rows: two flushes happen inside */
		assert_int_equal(row(x, i, "txn"), 0);
	assert_true(fstat(x->fd, &st) == 0 && st.st_size > 0);
	pq_writer_rollback(x->w);
	assert_int_equal(pq_writer_rows(x->w), 3);
	/* a later transaction commits normally */
	pq_writer_mark(x->w);
	assert_int_equal(row(x, 4, "post"), 0);
	pq_writer_release(x->w);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.num_rows, 4);
	assert_int_equal(f.nrg, 2);
	assert_int_equal(f.rg_rows[0], 3);       /* the split-off rows of before the savepoint */
	assert_ids(&f, "1 2 3 4");
	rd_close(&f);

	/* without rollback the same sequence keeps every row, in order */
	pq_writer_free(x->w);
	assert_int_equal(ftruncate(x->fd, 0), 0);
	open_writer(x, 4, PQ_CODEC_ZSTD);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(row(x, i, "pre"), 0);
	pq_writer_mark(x->w);
	for (int i = 10; i < 20; i++)
		assert_int_equal(row(x, i, "txn"), 0);
	pq_writer_release(x->w);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.num_rows, 13);
	assert_int_equal(f.rg_rows[0], 3);
	assert_ids(&f, "1 2 3 10 11 12 13 14 15 16 17 18 19");
	rd_close(&f);
}

/* Rollback of a transaction that started on an empty row group and was flushed whole. */
static void
test_rollback_whole_rowgroups(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;

	open_writer(x, 4, PQ_CODEC_SNAPPY);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(row(x, i, "a"), 0);
	assert_int_equal(pq_writer_flush(x->w, &x->err), 0);
	pq_writer_mark(x->w);
	for (int i = 100; i < 110; i++)
		assert_int_equal(row(x, i, "b"), 0);
	pq_writer_rollback(x->w);
	assert_int_equal(pq_writer_rows(x->w), 4);
	assert_int_equal(row(x, 5, "c"), 0);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.nrg, 2);
	assert_ids(&f, "1 2 3 4 5");
	rd_close(&f);
}

/* Thousands of distinct strings: the dictionary gives way to PLAIN. */
static void
test_dictionary_fallback(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;
	char *v[6000] = { 0 }, name[32];
	int n;

	open_writer(x, 10000, PQ_CODEC_ZSTD);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "name-%05d", i);
		assert_int_equal(row(x, i, name), 0);
	}
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.ch[0][1].dict_off, -1);
	n = rd_all(&f, 1, true, v);
	assert_int_equal(n, 5000);
	assert_string_equal(v[0], "name-00000");
	assert_string_equal(v[4999], "name-04999");
	free_strs(v, n);
	assert_memory_equal(f.ch[0][1].min, "name-00000", 10);
	assert_memory_equal(f.ch[0][1].max, "name-04999", 10);
	rd_close(&f);
}

/* A value too long for the dictionary after short ones, and as a column's first value:
 * the fallback to PLAIN must carry exactly the values buffered before it (issue 13.1:
 * the value count was raised first, so the fallback read an index never buffered and
 * shifted every later value; as the first value it read past the buffer). */
static void
test_dictionary_fallback_long_value(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;
	char *v[8] = { 0 };
	size_t big = 100000;
	char *longv = malloc(big + 1);
	int n;

	memset(longv, 'L', big);
	longv[big] = '\0';
	open_writer(x, 100, PQ_CODEC_ZSTD);
	assert_int_equal(row(x, 1, "short-a"), 0);
	assert_int_equal(row(x, 2, "short-b"), 0);
	assert_int_equal(row(x, 3, longv), 0);
	assert_int_equal(row(x, 4, "short-d"), 0);
	finish(x);
	rd_open(x->path, &f);
	n = rd_all(&f, 1, true, v);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "short-a");
	assert_string_equal(v[1], "short-b");
	assert_int_equal(strspn(v[2], "L"), strlen(v[2]));
	assert_true(strlen(v[2]) >= 4000);
	assert_string_equal(v[3], "short-d");
	free_strs(v, n);
	assert_ids(&f, "1 2 3 4");
	rd_close(&f);

	/* a new file whose first value is the long one */
	pq_writer_free(x->w);
	assert_int_equal(ftruncate(x->fd, 0), 0);
	memset(longv, 'M', big);
	open_writer(x, 100, PQ_CODEC_NONE);
	assert_int_equal(row(x, 1, longv), 0);
	assert_int_equal(row(x, 2, "after"), 0);
	finish(x);
	rd_open(x->path, &f);
	n = rd_all(&f, 1, true, v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0][0], 'M');
	assert_int_equal(strspn(v[0], "M"), strlen(v[0]));
	assert_string_equal(v[1], "after");
	free_strs(v, n);
	rd_close(&f);
	free(longv);
}

/* Statistics: floats skip NaN and count it; long strings are truncated bounds. */
static void
test_stats_edge_cases(void **state)
{
	static const struct pq_coldef c[] = {
		{ .name = "f", .type = PQ_DOUBLE },
		{ .name = "s", .type = PQ_BYTE_ARRAY, .ltype = PQ_LT_STRING },
		{ .name = "b", .type = PQ_BOOLEAN },
	};
	struct pq_wopts o = { .codec = PQ_CODEC_NONE, .rg_rows = 100, .dictionary = false };
	struct fx *x = *state;
	static struct rd_file f;
	char big[2000], *v[8] = { 0 };
	double d;
	int n;

	memset(big, 'a', sizeof(big));
	x->w = pq_writer_new(c, 3, &o, x->fd, x->path, &x->err);
	assert_non_null(x->w);
	pq_put_double(x->w, 0, NAN);
	pq_put_bytes(x->w, 1, big, sizeof(big));
	pq_put_bool(x->w, 2, true);
	assert_int_equal(pq_row_end(x->w, &x->err), 0);
	pq_put_double(x->w, 0, -0.0);
	pq_put_bytes(x->w, 1, "b", 1);
	pq_put_bool(x->w, 2, true);
	assert_int_equal(pq_row_end(x->w, &x->err), 0);
	pq_put_double(x->w, 0, -INFINITY);
	pq_put_null(x->w, 1);
	pq_put_bool(x->w, 2, false);
	assert_int_equal(pq_row_end(x->w, &x->err), 0);
	finish(x);
	rd_open(x->path, &f);
	assert_true(f.ch[0][0].has_nan);
	assert_int_equal(f.ch[0][0].nan_count, 1);
	{
		uint64_t u = pq_get_le64(f.ch[0][0].min);

		memcpy(&d, &u, 8);
		assert_true(isinf(d) && d < 0);
		u = pq_get_le64(f.ch[0][0].max);
		memcpy(&d, &u, 8);
		assert_true(d == 0 && !signbit(d));   /* a zero max is written as +0.0 */
	}
	/* min "aaaa...a" (2000) truncated to a 1024-byte prefix; max "b" exact */
	assert_int_equal(f.ch[0][1].minlen, 1024);
	assert_false(f.ch[0][1].min_exact);
	assert_int_equal(f.ch[0][1].maxlen, 1);
	assert_true(f.ch[0][1].max_exact);
	assert_int_equal(f.ch[0][1].null_count, 1);
	assert_int_equal(f.ch[0][2].min[0], 0);
	assert_int_equal(f.ch[0][2].max[0], 1);
	n = rd_all(&f, 2, true, v);
	assert_string_equal(v[0], "t");
	assert_string_equal(v[2], "f");
	free_strs(v, n);
	n = rd_all(&f, 0, true, v);
	assert_string_equal(v[0], "nan");
	assert_string_equal(v[2], "-inf");
	free_strs(v, n);
	rd_close(&f);

	/* a max longer than the limit is cut and its last byte incremented */
	pq_writer_free(x->w);
	assert_int_equal(ftruncate(x->fd, 0), 0);
	x->w = pq_writer_new(c, 3, &o, x->fd, x->path, &x->err);
	pq_put_double(x->w, 0, 1);
	pq_put_bytes(x->w, 1, big, sizeof(big));
	pq_put_bool(x->w, 2, false);
	assert_int_equal(pq_row_end(x->w, &x->err), 0);
	finish(x);
	rd_open(x->path, &f);
	assert_int_equal(f.ch[0][1].maxlen, 1024);
	assert_int_equal(f.ch[0][1].max[1023], 'b');
	assert_false(f.ch[0][1].max_exact);
	rd_close(&f);
}

/* A file size limit makes writes fail with EFBIG: CDC_ERR_AGAIN, nothing lost;
 * once the limit is lifted the same calls succeed and the file is whole. */
static void
test_disk_full_retry(void **state)
{
	struct fx *x = *state;
	static struct rd_file f;
	struct rlimit old, lim;
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	char name[64], want[8192] = "", num[16];
	int rc;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	open_writer(x, 50, PQ_CODEC_NONE);
	lim = old;
	lim.rlim_cur = 2048;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "value-%d-%s", i, "padding-padding-padding");
		while ((rc = row(x, i, name)) == CDC_ERR_AGAIN) {
			assert_non_null(strstr(x->err.msg, "File too large"));
			/* "space comes back" */
			lim.rlim_cur = old.rlim_cur;
			assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
			cdc_err_clear(&x->err);
		}
		assert_int_equal(rc, 0);
		snprintf(num, sizeof(num), "%s%d", i ? " " : "", i);
		strcat(want, num);
	}
	assert_int_equal(lim.rlim_cur, old.rlim_cur);   /* the limit was hit */
	/* closing hits the limit too (the last row group and the footer): AGAIN, then
	 * done once the limit is lifted */
	lim.rlim_cur = (rlim_t) lseek(x->fd, 0, SEEK_END) + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(pq_writer_finish(x->w, NULL, 0, &x->err), CDC_ERR_AGAIN);
	cdc_err_clear(&x->err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	finish(x);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	rd_open(x->path, &f);
	assert_int_equal(f.num_rows, 300);
	assert_ids(&f, want);
	rd_close(&f);
}

static void
test_io_error_is_fatal(void **state)
{
	struct fx *x = *state;
	int rfd = open(x->path, O_RDONLY);
	struct pq_wopts o = { .codec = PQ_CODEC_ZSTD, .rg_rows = 2 };
	int fd = x->fd;

	x->fd = rfd;   /* a read-only descriptor: EBADF on write */
	x->w = pq_writer_new(cols3, 3, &o, rfd, x->path, &x->err);
	assert_int_equal(row(x, 1, "a"), 0);
	assert_int_equal(row(x, 2, "b"), 0);
	assert_int_equal(row(x, 3, "c"), CDC_ERR_IO);
	assert_non_null(strstr(x->err.msg, x->path));
	x->fd = fd;
	close(rfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_rowgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codecs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_and_rollback_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_whole_rowgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dictionary_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dictionary_fallback_long_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_edge_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_error_is_fatal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
