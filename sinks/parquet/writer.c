/*
 * writer.c — the Parquet file writer (see writer.h for the design).
 *
 * File layout written here: "PAR1", then per row group and per column one column
 * chunk ([dictionary page] data page, each a Thrift compact PageHeader followed by
 * the compressed page body), then the FileMetaData footer, its 4-byte length and
 * "PAR1" (parquet-format README, parquet.thrift).
 */
#include <errno.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "writer.h"
#include "encoding.h"
#include "thrift.h"

#define DICT_MAX_ENTRIES 40000      /* fall back to PLAIN past these ... */
#define DICT_MAX_BYTES (1 << 20)    /* ... or this much dictionary */
#define DICT_PROBE 4096             /* after this many values, keep the dictionary only
                                     * when it holds at most half as many entries */
#define STAT_MAX 1024               /* longer min/max values are truncated */

/* parquet.thrift enums */
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { CT_UTF8 = 0, CT_DECIMAL = 5, CT_DATE = 6, CT_TIME_MICROS = 8, CT_TIMESTAMP_MICROS = 10,
       CT_INT_16 = 16, CT_JSON = 19 };

struct pq_stats {
	bool has_minmax;
	bool min_exact, max_exact;
	uint8_t *min, *max;          /* owned */
	uint32_t minlen, maxlen;
	int64_t null_count;
	bool has_nan_count;
	int64_t nan_count;
};

struct pq_chunk {
	int64_t start;               /* file offset of the chunk's first page */
	int64_t dict_off;            /* dictionary page offset, -1 without one */
	int64_t data_off;
	int64_t num_values;
	int64_t unc, comp;           /* total sizes, page headers included */
	struct pq_stats st;
};

struct pq_rg {
	int64_t rows;
	int64_t offset;
	int64_t unc, comp;
	struct pq_chunk *chunks;     /* ncols */
};

struct pq_col {
	struct pq_coldef d;          /* d.name owned */
	int width;                   /* bytes per PLAIN value; 0 for BYTE_ARRAY */
	struct pq_buf defs;          /* one definition level (0/1) per row; OPTIONAL only */
	struct pq_buf vals;          /* PLAIN values (booleans one byte each) */
	uint32_t nvals;              /* non-null values buffered */
	/* dictionary (BYTE_ARRAY) */
	bool dict_on;                /* the buffered values are dictionary indices */
	bool dict_failed;            /* fell back to PLAIN in this file: stay there */
	struct pq_buf dict;          /* entries, PLAIN-encoded: the dictionary page body */
	uint32_t *doff;              /* offset in dict of entry i */
	uint32_t *dhash;             /* hash of entry i */
	uint32_t ndict, dcap;
	uint32_t *htab;              /* entry index + 1, 0 = empty; open addressing */
	uint32_t hmask;
	struct pq_buf idx;           /* uint32 index per buffered value (dict_on) */
	uint32_t sp_nvals;           /* savepoint: values buffered */
};

struct pq_writer {
	int ncols;
	struct pq_col *cols;
	struct pq_wopts o;
	int fd;
	char *path;
	int64_t off;                 /* end of the valid data in the file */
	int64_t rows;                /* rows buffered */
	int64_t bytes;               /* bytes buffered (approximate, uncompressed) */
	int64_t flushed_rows;        /* rows in written row groups */
	struct pq_rg *rgs;
	int nrg, rgcap;
	bool bad_null;               /* a null was put into a REQUIRED column */
	bool finished;
	/* savepoint */
	bool sp;
	int64_t sp_rows, sp_off, sp_flushed;
	int sp_nrg;
	struct pq_scratch *x;         /* page buffers and zstd context (maybe shared) */
	bool own_scratch;
};

struct pq_scratch {
	struct pq_buf body, tmp, comp, hdr, out;
	uint8_t *used;
	size_t usedcap;
	ZSTD_CCtx *zc;               /* created on first use */
};

/* ---- values ---- */

static int
plain_width(const struct pq_coldef *d)
{
	switch (d->type) {
	case PQ_BOOLEAN: return 1;
	case PQ_INT32: case PQ_FLOAT: return 4;
	case PQ_INT64: case PQ_DOUBLE: return 8;
	case PQ_FLBA: return d->type_length;
	default: return 0;
	}
}

static inline void
put_def(struct pq_col *c, uint8_t def)
{
	if (!c->d.required)
		pq_buf_put_u8(&c->defs, def);
}

void
pq_put_null(struct pq_writer *w, int c)
{
	if (w->cols[c].d.required)
		w->bad_null = true;
	put_def(&w->cols[c], 0);
	w->bytes++;
}

void
pq_put_bool(struct pq_writer *w, int c, bool v)
{
	struct pq_col *col = &w->cols[c];

	put_def(col, 1);
	pq_buf_put_u8(&col->vals, v ? 1 : 0);
	col->nvals++;
	w->bytes += 2;
}

void
pq_put_i32(struct pq_writer *w, int c, int32_t v)
{
	struct pq_col *col = &w->cols[c];

	put_def(col, 1);
	pq_buf_put_le32(&col->vals, (uint32_t) v);
	col->nvals++;
	w->bytes += 5;
}

void
pq_put_i64(struct pq_writer *w, int c, int64_t v)
{
	struct pq_col *col = &w->cols[c];

	put_def(col, 1);
	pq_buf_put_le64(&col->vals, (uint64_t) v);
	col->nvals++;
	w->bytes += 9;
}

void
pq_put_float(struct pq_writer *w, int c, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	pq_put_i32(w, c, (int32_t) u);
}

void
pq_put_double(struct pq_writer *w, int c, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	pq_put_i64(w, c, (int64_t) u);
}

static void
dict_clear(struct pq_col *c)
{
	c->ndict = 0;
	c->dict.len = 0;
	if (c->htab != NULL)
		memset(c->htab, 0, ((size_t) c->hmask + 1) * sizeof(uint32_t));
}

static int
dict_rehash(struct pq_col *c, uint32_t newcap)
{
	uint32_t *nt = calloc(newcap, sizeof(uint32_t));

	if (nt == NULL)
		return -1;
	free(c->htab);
	c->htab = nt;
	c->hmask = newcap - 1;
	for (uint32_t e = 0; e < c->ndict; e++) {
		uint32_t i = c->dhash[e] & c->hmask;

		while (c->htab[i] != 0)
			i = (i + 1) & c->hmask;
		c->htab[i] = e + 1;
	}
	return 0;
}

/* Index of the entry p[0..n) in the dictionary, added when new; -1 on OOM. */
static int64_t
dict_add(struct pq_col *c, const uint8_t *p, size_t n)
{
	uint32_t h = (uint32_t) pq_hash(p, n), i;

	if (c->htab == NULL && dict_rehash(c, 1024) != 0)
		return -1;
	for (i = h & c->hmask; c->htab[i] != 0; i = (i + 1) & c->hmask) {
		uint32_t e = c->htab[i] - 1;

		if (c->dhash[e] == h && pq_get_le32(c->dict.p + c->doff[e]) == n &&
		    memcmp(c->dict.p + c->doff[e] + 4, p, n) == 0)
			return e;
	}
	if (c->ndict == c->dcap) {
		uint32_t ncap = c->dcap ? c->dcap * 2 : 256;
		uint32_t *no = realloc(c->doff, ncap * sizeof(uint32_t));
		uint32_t *nh;

		if (no == NULL)
			return -1;
		c->doff = no;
		nh = realloc(c->dhash, ncap * sizeof(uint32_t));
		if (nh == NULL)
			return -1;
		c->dhash = nh;
		c->dcap = ncap;
	}
	c->doff[c->ndict] = (uint32_t) c->dict.len;
	c->dhash[c->ndict] = h;
	pq_buf_put_le32(&c->dict, (uint32_t) n);
	pq_buf_put(&c->dict, p, n);
	if (c->dict.oom)
		return -1;
	c->htab[i] = ++c->ndict;
	if ((uint64_t) c->ndict * 2 > (uint64_t) c->hmask + 1 &&
	    dict_rehash(c, (c->hmask + 1) * 2) != 0)
		return -1;
	return c->ndict - 1;
}

/* Turn the buffered indices into PLAIN values; the column stays PLAIN for the file. */
static void
dict_fallback(struct pq_col *c)
{
	const uint32_t *ix = (const uint32_t *) (void *) c->idx.p;

	c->vals.len = 0;
	for (uint32_t k = 0; k < c->nvals; k++) {
		const uint8_t *e = c->dict.p + c->doff[ix[k]];

		pq_buf_put(&c->vals, e, 4 + (size_t) pq_get_le32(e));
	}
	c->idx.len = 0;
	c->dict_on = false;
	c->dict_failed = true;
	dict_clear(c);
}

void
pq_put_bytes(struct pq_writer *w, int c, const void *p, size_t n)
{
	struct pq_col *col = &w->cols[c];

	put_def(col, 1);
	w->bytes += (int64_t) n + 4;
	if (col->d.type == PQ_FLBA) {
		col->nvals++;
		pq_buf_put(&col->vals, p, n);
		return;
	}
	/* long values: not worth a dictionary.  The fallback converts the nvals indices
	 * buffered so far, so this value is counted only after it. */
	if (col->dict_on && n > DICT_MAX_BYTES / 16)
		dict_fallback(col);
	col->nvals++;
	if (col->dict_on) {
		int64_t e = dict_add(col, p, n);
		uint32_t u;

		if (e < 0) {
			col->idx.oom = true;
			return;
		}
		u = (uint32_t) e;
		pq_buf_put(&col->idx, &u, sizeof(u));
		if (col->ndict > DICT_MAX_ENTRIES || col->dict.len > DICT_MAX_BYTES ||
		    (col->nvals == DICT_PROBE && col->ndict > DICT_PROBE / 2))
			dict_fallback(col);
		return;
	}
	pq_buf_put_le32(&col->vals, (uint32_t) n);
	pq_buf_put(&col->vals, p, n);
}

int
pq_row_end(struct pq_writer *w, struct cdc_err *err)
{
	if (w->bad_null)
		return cdc_errf(err, CDC_ERR_FATAL, "parquet writer: null in a required column of %s",
		                w->path);
	for (int c = 0; c < w->ncols; c++) {
		const struct pq_col *col = &w->cols[c];

		if (col->defs.oom | col->vals.oom | col->idx.oom | col->dict.oom)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet writer: out of memory "
			                "buffering a row group of %s", w->path);
	}
	w->rows++;
	return 0;
}

bool
pq_writer_full(const struct pq_writer *w)
{
	return (w->o.rg_rows > 0 && w->rows >= w->o.rg_rows) ||
	       (w->o.rg_bytes > 0 && w->bytes >= w->o.rg_bytes);
}

int64_t
pq_writer_rows(const struct pq_writer *w)
{
	return w->flushed_rows + w->rows;
}

int64_t
pq_writer_bytes(const struct pq_writer *w)
{
	return w->off + w->bytes;
}

/* Bytes taken by the first k buffered PLAIN values of c. */
static size_t
plain_bytes(const struct pq_col *c, uint32_t k)
{
	size_t pos = 0;

	if (c->width > 0)
		return (size_t) k * (size_t) c->width;
	for (uint32_t i = 0; i < k && pos + 4 <= c->vals.len; i++)
		pos += 4 + (size_t) pq_get_le32(c->vals.p + pos);
	return pos;
}

/* ---- statistics ---- */

static int
cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);

	if (r != 0)
		return r;
	return an < bn ? -1 : an > bn;
}

/* Two's-complement big-endian comparison (DECIMAL in FLBA). */
static int
cmp_signed_be(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n == 0)
		return 0;
	if (a[0] != b[0])
		return (int8_t) a[0] < (int8_t) b[0] ? -1 : 1;
	return memcmp(a + 1, b + 1, n - 1);
}

static bool
is_text(const struct pq_coldef *d)
{
	return d->ltype == PQ_LT_STRING || d->ltype == PQ_LT_JSON;
}

/* Store a byte-array min or max, truncated to STAT_MAX bytes when longer (a shorter
 * prefix for min; for max a prefix with its last byte incremented, so it still
 * bounds the values).  Returns false when no valid bound could be made. */
static bool
stat_bytes(const struct pq_coldef *d, const uint8_t *p, size_t n, bool is_max,
           uint8_t **out, uint32_t *outlen, bool *exact)
{
	size_t L = n;
	uint8_t *b;

	*exact = true;
	if (n > STAT_MAX) {
		*exact = false;
		L = STAT_MAX;
		if (is_text(d))
			while (L > 0 && (p[L] & 0xC0) == 0x80)
				L--;          /* cut at a character boundary */
		if (is_max) {
			uint8_t lim = is_text(d) ? 0x7E : 0xFE;

			while (L > 0 && p[L - 1] > lim)
				L--;
			if (L == 0)
				return false;
		}
	}
	b = malloc(L ? L : 1);
	if (b == NULL)
		return false;
	memcpy(b, p, L);
	if (!*exact && is_max)
		b[L - 1]++;
	*out = b;
	*outlen = (uint32_t) L;
	return true;
}

static bool
stat_fixed(const void *p, size_t n, uint8_t **out, uint32_t *outlen)
{
	uint8_t *b = malloc(n);

	if (b == NULL)
		return false;
	memcpy(b, p, n);
	*out = b;
	*outlen = (uint32_t) n;
	return true;
}

static void
stats_free(struct pq_stats *st)
{
	free(st->min);
	free(st->max);
	st->min = st->max = NULL;
}

/* Statistics of the first k values of c, in a chunk of nrows rows. */
static int
compute_stats(struct pq_writer *w, struct pq_col *c, int64_t nrows, uint32_t k,
              struct pq_stats *st)
{
	const uint8_t *v = c->vals.p;
	bool ok = true;

	memset(st, 0, sizeof(*st));
	st->null_count = nrows - (int64_t) k;
	if (k == 0) {
		if (c->d.type == PQ_FLOAT || c->d.type == PQ_DOUBLE)
			st->has_nan_count = true;
		return 0;
	}
	switch (c->d.type) {
	case PQ_BOOLEAN: {
		uint8_t mn = 1, mx = 0;

		for (uint32_t i = 0; i < k; i++) {
			if (v[i] < mn)
				mn = v[i];
			if (v[i] > mx)
				mx = v[i];
		}
		ok = stat_fixed(&mn, 1, &st->min, &st->minlen) && stat_fixed(&mx, 1, &st->max, &st->maxlen);
		break;
	}
	case PQ_INT32: {
		int32_t mn = INT32_MAX, mx = INT32_MIN;
		uint8_t b[4];

		for (uint32_t i = 0; i < k; i++) {
			int32_t x = (int32_t) pq_get_le32(v + 4 * (size_t) i);

			if (x < mn)
				mn = x;
			if (x > mx)
				mx = x;
		}
		pq_put_le32(b, (uint32_t) mn);
		ok = stat_fixed(b, 4, &st->min, &st->minlen);
		pq_put_le32(b, (uint32_t) mx);
		ok = ok && stat_fixed(b, 4, &st->max, &st->maxlen);
		break;
	}
	case PQ_INT64: {
		int64_t mn = INT64_MAX, mx = INT64_MIN;
		uint8_t b[8];

		for (uint32_t i = 0; i < k; i++) {
			int64_t x = (int64_t) pq_get_le64(v + 8 * (size_t) i);

			if (x < mn)
				mn = x;
			if (x > mx)
				mx = x;
		}
		pq_put_le64(b, (uint64_t) mn);
		ok = stat_fixed(b, 8, &st->min, &st->minlen);
		pq_put_le64(b, (uint64_t) mx);
		ok = ok && stat_fixed(b, 8, &st->max, &st->maxlen);
		break;
	}
	case PQ_FLOAT:
	case PQ_DOUBLE: {
		/* NaN never enters min/max (counted in nan_count); a zero min is written
		 * as -0.0 and a zero max as +0.0 (parquet.thrift ColumnOrder rules). */
		double mn = INFINITY, mx = -INFINITY;
		bool any = false;
		uint8_t b[8];

		st->has_nan_count = true;
		for (uint32_t i = 0; i < k; i++) {
			double x;

			if (c->d.type == PQ_FLOAT) {
				uint32_t u = pq_get_le32(v + 4 * (size_t) i);
				float f;

				memcpy(&f, &u, 4);
				x = f;
			} else {
				uint64_t u = pq_get_le64(v + 8 * (size_t) i);

				memcpy(&x, &u, 8);
			}
			if (isnan(x)) {
				st->nan_count++;
				continue;
			}
			any = true;
			if (x < mn)
				mn = x;
			if (x > mx)
				mx = x;
		}
		if (!any)
			return 0;
		if (mn == 0)
			mn = -0.0;
		if (mx == 0)
			mx = 0.0;
		if (c->d.type == PQ_FLOAT) {
			float f;
			uint32_t u;

			f = (float) mn;
			memcpy(&u, &f, 4);
			pq_put_le32(b, u);
			ok = stat_fixed(b, 4, &st->min, &st->minlen);
			f = (float) mx;
			memcpy(&u, &f, 4);
			pq_put_le32(b, u);
			ok = ok && stat_fixed(b, 4, &st->max, &st->maxlen);
		} else {
			uint64_t u;

			memcpy(&u, &mn, 8);
			pq_put_le64(b, u);
			ok = stat_fixed(b, 8, &st->min, &st->minlen);
			memcpy(&u, &mx, 8);
			pq_put_le64(b, u);
			ok = ok && stat_fixed(b, 8, &st->max, &st->maxlen);
		}
		break;
	}
	case PQ_FLBA: {
		size_t L = (size_t) c->width;
		const uint8_t *mn = v, *mx = v;
		bool dec = c->d.ltype == PQ_LT_DECIMAL;

		for (uint32_t i = 1; i < k; i++) {
			const uint8_t *x = v + L * i;

			if (dec ? cmp_signed_be(x, mn, L) < 0 : memcmp(x, mn, L) < 0)
				mn = x;
			if (dec ? cmp_signed_be(x, mx, L) > 0 : memcmp(x, mx, L) > 0)
				mx = x;
		}
		ok = stat_fixed(mn, L, &st->min, &st->minlen) && stat_fixed(mx, L, &st->max, &st->maxlen);
		break;
	}
	case PQ_BYTE_ARRAY: {
		const uint8_t *mn = NULL, *mx = NULL;
		size_t mnl = 0, mxl = 0;

		if (c->dict_on) {
			/* compare each distinct entry once */
			const uint32_t *ix = (const uint32_t *) (void *) c->idx.p;

			if (w->x->usedcap < c->ndict) {
				uint8_t *nu = realloc(w->x->used, c->ndict);

				if (nu == NULL)
					return -1;
				w->x->used = nu;
				w->x->usedcap = c->ndict;
			}
			memset(w->x->used, 0, c->ndict);
			for (uint32_t i = 0; i < k; i++)
				w->x->used[ix[i]] = 1;
			for (uint32_t e = 0; e < c->ndict; e++) {
				const uint8_t *p;
				size_t n;

				if (!w->x->used[e])
					continue;
				p = c->dict.p + c->doff[e] + 4;
				n = pq_get_le32(p - 4);
				if (mn == NULL || cmp_bytes(p, n, mn, mnl) < 0) {
					mn = p;
					mnl = n;
				}
				if (mx == NULL || cmp_bytes(p, n, mx, mxl) > 0) {
					mx = p;
					mxl = n;
				}
			}
		} else {
			size_t pos = 0;

			for (uint32_t i = 0; i < k; i++) {
				size_t n = pq_get_le32(v + pos);
				const uint8_t *p = v + pos + 4;

				if (mn == NULL || cmp_bytes(p, n, mn, mnl) < 0) {
					mn = p;
					mnl = n;
				}
				if (mx == NULL || cmp_bytes(p, n, mx, mxl) > 0) {
					mx = p;
					mxl = n;
				}
				pos += 4 + n;
			}
		}
		if (!stat_bytes(&c->d, mx, mxl, true, &st->max, &st->maxlen, &st->max_exact)) {
			st->has_minmax = false;
			return 0;   /* no bound possible (or no memory): no min/max */
		}
		ok = stat_bytes(&c->d, mn, mnl, false, &st->min, &st->minlen, &st->min_exact);
		st->has_minmax = ok;
		if (!ok)
			stats_free(st);
		return ok ? 0 : -1;
	}
	}
	if (!ok) {
		stats_free(st);
		return -1;
	}
	st->has_minmax = true;
	st->min_exact = st->max_exact = true;
	return 0;
}

/* ---- pages and chunks ---- */

static int
io_error(struct pq_writer *w, int e, const char *what, struct cdc_err *err)
{
	if (e == ENOSPC || e == EDQUOT || e == EFBIG)
		return cdc_errf(err, CDC_ERR_AGAIN, "parquet: %s %s: %s", what, w->path, strerror(e));
	return cdc_errf(err, CDC_ERR_IO, "parquet: cannot %s %s: %s", what, w->path, strerror(e));
}

static int
pwrite_all(struct pq_writer *w, const uint8_t *p, size_t n, int64_t off, struct cdc_err *err)
{
	while (n > 0) {
		ssize_t r = pwrite(w->fd, p, n, (off_t) off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return io_error(w, errno, "write", err);
		}
		if (r == 0)
			return io_error(w, ENOSPC, "write", err);
		p += r;
		n -= (size_t) r;
		off += r;
	}
	return 0;
}

/* Compress body into w->x->comp (or point at it uncompressed). */
static int
compress(struct pq_writer *w, const uint8_t *src, size_t n, const uint8_t **dst, size_t *dn,
         struct cdc_err *err)
{
	w->x->comp.len = 0;
	switch (w->o.codec) {
	case PQ_CODEC_ZSTD: {
		size_t bound = ZSTD_compressBound(n), r;

		if (w->x->zc == NULL && (w->x->zc = ZSTD_createCCtx()) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory compressing %s", w->path);
		if (pq_buf_reserve(&w->x->comp, bound) != 0)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory compressing %s", w->path);
		r = ZSTD_compressCCtx(w->x->zc, w->x->comp.p, bound, src, n,
		                      w->o.zstd_level ? w->o.zstd_level : ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(r))
			return cdc_errf(err, CDC_ERR_FATAL, "parquet: zstd failed on %s: %s", w->path,
			                ZSTD_getErrorName(r));
		w->x->comp.len = r;
		break;
	}
	case PQ_CODEC_SNAPPY: {
		size_t bound = snappy_max_compressed_length(n), r = bound;

		if (pq_buf_reserve(&w->x->comp, bound) != 0)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory compressing %s", w->path);
		if (snappy_compress((const char *) src, n, (char *) w->x->comp.p, &r) != SNAPPY_OK)
			return cdc_errf(err, CDC_ERR_FATAL, "parquet: snappy failed on %s", w->path);
		w->x->comp.len = r;
		break;
	}
	default:
		*dst = src;
		*dn = n;
		return 0;
	}
	*dst = w->x->comp.p;
	*dn = w->x->comp.len;
	return 0;
}

/* Append one page (PageHeader + compressed body) to w->x->out. */
static int
put_page(struct pq_writer *w, int type, const uint8_t *body, size_t n, int32_t nvalues,
         int encoding, int64_t *unc, int64_t *comp, struct cdc_err *err)
{
	const uint8_t *cb = NULL;
	size_t cn = 0;
	struct pq_tw tw;
	int rc;

	if (n > INT32_MAX)
		return cdc_errf(err, CDC_ERR_FATAL, "parquet: a %zu-byte page is too large for %s "
		                "(limit 2 GB)", n, w->path);
	if ((rc = compress(w, body, n, &cb, &cn, err)) != 0)
		return rc;
	if (cn > INT32_MAX)
		return cdc_errf(err, CDC_ERR_FATAL, "parquet: a compressed page is too large for %s", w->path);
	w->x->hdr.len = 0;
	pq_tw_init(&tw, &w->x->hdr);
	pq_tw_i32(&tw, 1, type);                        /* PageHeader.type */
	pq_tw_i32(&tw, 2, (int32_t) n);                 /* uncompressed_page_size */
	pq_tw_i32(&tw, 3, (int32_t) cn);                /* compressed_page_size */
	if (type == PAGE_DATA) {
		pq_tw_struct_begin(&tw, 5);             /* data_page_header */
		pq_tw_i32(&tw, 1, nvalues);             /* num_values (nulls included) */
		pq_tw_i32(&tw, 2, encoding);            /* encoding */
		pq_tw_i32(&tw, 3, ENC_RLE);             /* definition_level_encoding */
		pq_tw_i32(&tw, 4, ENC_RLE);             /* repetition_level_encoding */
		pq_tw_struct_end(&tw);
	} else {
		pq_tw_struct_begin(&tw, 7);             /* dictionary_page_header */
		pq_tw_i32(&tw, 1, nvalues);             /* num_values */
		pq_tw_i32(&tw, 2, ENC_PLAIN);           /* encoding */
		pq_tw_struct_end(&tw);
	}
	pq_tw_stop(&tw);
	pq_buf_put(&w->x->out, w->x->hdr.p, w->x->hdr.len);
	pq_buf_put(&w->x->out, cb, cn);
	if (w->x->out.oom || w->x->hdr.oom)
		return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
	*unc += (int64_t) (w->x->hdr.len + n);
	*comp += (int64_t) (w->x->hdr.len + cn);
	return 0;
}

/* Encode the chunk of c holding the first nrows rows (k values) into w->x->out. */
static int
encode_chunk(struct pq_writer *w, struct pq_col *c, int64_t nrows, uint32_t k, int64_t start,
             struct pq_chunk *ch, struct cdc_err *err)
{
	bool use_dict = c->dict_on && c->ndict > 0 && k > 0;
	int rc;

	if (nrows > INT32_MAX)
		return cdc_errf(err, CDC_ERR_FATAL, "parquet: too many rows in a row group of %s", w->path);
	memset(ch, 0, sizeof(*ch));
	ch->start = start;
	ch->dict_off = -1;
	ch->num_values = nrows;
	w->x->out.len = 0;
	w->x->body.len = 0;
	if (!c->d.required) {
		w->x->tmp.len = 0;
		pq_rle_encode_u8(&w->x->tmp, c->defs.p, (size_t) nrows, 1);
		pq_buf_put_le32(&w->x->body, (uint32_t) w->x->tmp.len);
		pq_buf_put(&w->x->body, w->x->tmp.p, w->x->tmp.len);
	}
	if (use_dict) {
		int bw = pq_bit_width(c->ndict - 1);

		if (bw < 1)
			bw = 1;
		pq_buf_put_u8(&w->x->body, (uint8_t) bw);
		pq_rle_encode_u32(&w->x->body, (const uint32_t *) (void *) c->idx.p, k, bw);
		rc = put_page(w, PAGE_DICTIONARY, c->dict.p, c->dict.len, (int32_t) c->ndict, ENC_PLAIN,
		              &ch->unc, &ch->comp, err);
		if (rc != 0)
			return rc;
		ch->dict_off = start;
	} else if (c->d.type == PQ_BOOLEAN) {
		pq_bitpack_bools(&w->x->body, c->vals.p, k);
	} else if (c->dict_on) {
		/* dictionary mode but no values (all null): nothing to add */
	} else {
		pq_buf_put(&w->x->body, c->vals.p, plain_bytes(c, k));
	}
	if (w->x->body.oom || w->x->tmp.oom)
		return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
	ch->data_off = start + (int64_t) w->x->out.len;
	rc = put_page(w, PAGE_DATA, w->x->body.p, w->x->body.len, (int32_t) nrows,
	              use_dict ? ENC_RLE_DICTIONARY : ENC_PLAIN, &ch->unc, &ch->comp, err);
	if (rc != 0)
		return rc;
	ch->dict_off = use_dict ? start : -1;
	if (compute_stats(w, c, nrows, k, &ch->st) != 0)
		return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
	return 0;
}

static void
free_chunks(struct pq_chunk *chunks, int n)
{
	if (chunks == NULL)
		return;
	for (int i = 0; i < n; i++)
		stats_free(&chunks[i].st);
	free(chunks);
}

/* Write the first nrows buffered rows as a row group; kvals[c] values of column c
 * (NULL: all buffered).  On success w->off moves past it. */
static int
write_rowgroup(struct pq_writer *w, int64_t nrows, const uint32_t *kvals, struct cdc_err *err)
{
	struct pq_chunk *chunks;
	struct pq_rg *rg;
	int64_t pos = w->off;
	int rc = 0;

	if (w->nrg == w->rgcap) {
		int ncap = w->rgcap ? w->rgcap * 2 : 8;
		struct pq_rg *nr = realloc(w->rgs, (size_t) ncap * sizeof(*nr));

		if (nr == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
		w->rgs = nr;
		w->rgcap = ncap;
	}
	chunks = calloc((size_t) w->ncols, sizeof(*chunks));
	if (chunks == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
	if (pos == 0) {
		if ((rc = pwrite_all(w, (const uint8_t *) "PAR1", 4, 0, err)) != 0)
			goto fail;
		pos = 4;
	}
	for (int c = 0; c < w->ncols; c++) {
		struct pq_col *col = &w->cols[c];
		uint32_t k = kvals ? kvals[c] : col->nvals;

		if ((rc = encode_chunk(w, col, nrows, k, pos, &chunks[c], err)) != 0)
			goto fail;
		if ((rc = pwrite_all(w, w->x->out.p, w->x->out.len, pos, err)) != 0)
			goto fail;
		pos += (int64_t) w->x->out.len;
	}
	rg = &w->rgs[w->nrg++];
	memset(rg, 0, sizeof(*rg));
	rg->rows = nrows;
	rg->offset = chunks[0].start;
	rg->chunks = chunks;
	for (int c = 0; c < w->ncols; c++) {
		rg->unc += chunks[c].unc;
		rg->comp += chunks[c].comp;
	}
	w->off = pos;
	w->flushed_rows += nrows;
	return 0;
fail:
	free_chunks(chunks, w->ncols);
	/* give back what a partial write took (disk full); a retry rewrites it anyway */
	if (ftruncate(w->fd, (off_t) w->off) != 0) {
		/* best effort */
	}
	return rc;
}

static void
recount_bytes(struct pq_writer *w)
{
	int64_t b = 0;

	for (int c = 0; c < w->ncols; c++)
		b += (int64_t) (w->cols[c].defs.len + w->cols[c].vals.len + w->cols[c].idx.len);
	w->bytes = b;
}

/* Remove the first n bytes of b. */
static void
buf_drop(struct pq_buf *b, size_t n)
{
	if (n == 0)
		return;
	if (b->len > n)
		memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* Drop the first nrows rows (k values per column) from the buffers. */
static void
drop_prefix(struct pq_writer *w, int64_t nrows, bool whole)
{
	for (int c = 0; c < w->ncols; c++) {
		struct pq_col *col = &w->cols[c];

		if (whole) {
			col->defs.len = col->vals.len = col->idx.len = 0;
			col->nvals = 0;
			if (col->d.type == PQ_BYTE_ARRAY) {
				dict_clear(col);
				col->dict_on = w->o.dictionary && !col->dict_failed;
			}
		} else {
			uint32_t k = col->sp_nvals;
			size_t vb = col->dict_on ? 0 : plain_bytes(col, k);

			if (!col->d.required)
				buf_drop(&col->defs, (size_t) nrows);
			buf_drop(&col->vals, vb);
			if (col->dict_on)
				buf_drop(&col->idx, 4 * (size_t) k);
			col->nvals -= k;
		}
	}
	w->rows -= nrows;
	if (whole)
		w->bytes = 0;
	else
		recount_bytes(w);
}

static void
move_savepoint_here(struct pq_writer *w)
{
	w->sp_rows = w->rows;
	for (int c = 0; c < w->ncols; c++)
		w->cols[c].sp_nvals = w->cols[c].nvals;
	w->sp_nrg = w->nrg;
	w->sp_off = w->off;
	w->sp_flushed = w->flushed_rows;
}

int
pq_writer_flush(struct pq_writer *w, struct cdc_err *err)
{
	int rc;

	if (w->rows == 0)
		return 0;
	if (w->sp && w->sp_rows > 0 && w->sp_rows < w->rows) {
		/* rows of earlier transactions first, in a row group of their own */
		uint32_t *k = malloc((size_t) w->ncols * sizeof(uint32_t));

		if (k == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing %s", w->path);
		for (int c = 0; c < w->ncols; c++)
			k[c] = w->cols[c].sp_nvals;
		rc = write_rowgroup(w, w->sp_rows, k, err);
		free(k);
		if (rc != 0)
			return rc;
		drop_prefix(w, w->sp_rows, false);
		w->sp_rows = 0;
		for (int c = 0; c < w->ncols; c++)
			w->cols[c].sp_nvals = 0;
		w->sp_nrg = w->nrg;
		w->sp_off = w->off;
		w->sp_flushed = w->flushed_rows;
		if (!pq_writer_full(w))
			return 0;
	}
	if ((rc = write_rowgroup(w, w->rows, NULL, err)) != 0)
		return rc;
	drop_prefix(w, w->rows, true);
	if (w->sp && w->sp_rows > 0)
		move_savepoint_here(w);    /* everything flushed was from before the savepoint */
	return 0;
}

void
pq_writer_mark(struct pq_writer *w)
{
	w->sp = true;
	move_savepoint_here(w);
}

void
pq_writer_release(struct pq_writer *w)
{
	w->sp = false;
}

void
pq_writer_rollback(struct pq_writer *w)
{
	if (!w->sp)
		return;
	if (w->nrg > w->sp_nrg) {
		for (int i = w->sp_nrg; i < w->nrg; i++)
			free_chunks(w->rgs[i].chunks, w->ncols);
		w->nrg = w->sp_nrg;
		w->off = w->sp_off;
		w->flushed_rows = w->sp_flushed;
		if (ftruncate(w->fd, (off_t) w->off) != 0) {
			/* best effort: pq_writer_finish cuts the file to size anyway */
		}
	}
	for (int c = 0; c < w->ncols; c++) {
		struct pq_col *col = &w->cols[c];
		uint32_t k = col->sp_nvals;

		if (!col->d.required)
			col->defs.len = (size_t) w->sp_rows;
		if (col->dict_on)
			col->idx.len = 4 * (size_t) k;
		else
			col->vals.len = plain_bytes(col, k);
		col->nvals = k;
	}
	w->rows = w->sp_rows;
	recount_bytes(w);
	w->sp = false;
}

/* ---- footer ---- */

static void
put_logical(struct pq_tw *tw, const struct pq_coldef *d)
{
	switch (d->ltype) {
	case PQ_LT_NONE:
		return;
	case PQ_LT_STRING:
		pq_tw_struct_begin(tw, 10);         /* SchemaElement.logicalType */
		pq_tw_struct_begin(tw, 1);          /* STRING */
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_INT16:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, 10);         /* INTEGER */
		pq_tw_i8(tw, 1, 16);                /* bitWidth */
		pq_tw_bool(tw, 2, true);            /* isSigned */
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_DECIMAL:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, 5);          /* DECIMAL */
		pq_tw_i32(tw, 1, d->scale);
		pq_tw_i32(tw, 2, d->precision);
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_DATE:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, 6);          /* DATE */
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_TIME_US:
	case PQ_LT_TIMESTAMP_US:
	case PQ_LT_TIMESTAMPTZ_US:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, d->ltype == PQ_LT_TIME_US ? 7 : 8);   /* TIME / TIMESTAMP */
		pq_tw_bool(tw, 1, d->ltype == PQ_LT_TIMESTAMPTZ_US);        /* isAdjustedToUTC */
		pq_tw_struct_begin(tw, 2);          /* unit */
		pq_tw_struct_begin(tw, 2);          /* MICROS */
		pq_tw_struct_end(tw);
		pq_tw_struct_end(tw);
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_UUID:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, 14);         /* UUID */
		pq_tw_struct_end(tw);
		break;
	case PQ_LT_JSON:
		pq_tw_struct_begin(tw, 10);
		pq_tw_struct_begin(tw, 12);         /* JSON */
		pq_tw_struct_end(tw);
		break;
	}
	pq_tw_struct_end(tw);                       /* end of the LogicalType union */
}

static int
converted_type(const struct pq_coldef *d)
{
	switch (d->ltype) {
	case PQ_LT_STRING: return CT_UTF8;
	case PQ_LT_INT16: return CT_INT_16;
	case PQ_LT_DECIMAL: return CT_DECIMAL;
	case PQ_LT_DATE: return CT_DATE;
	case PQ_LT_TIME_US: return CT_TIME_MICROS;
	case PQ_LT_TIMESTAMP_US: case PQ_LT_TIMESTAMPTZ_US: return CT_TIMESTAMP_MICROS;
	case PQ_LT_JSON: return CT_JSON;
	default: return -1;
	}
}

static void
put_stats(struct pq_tw *tw, const struct pq_stats *st)
{
	pq_tw_struct_begin(tw, 12);                 /* ColumnMetaData.statistics */
	pq_tw_i64(tw, 3, st->null_count);           /* null_count */
	if (st->has_minmax) {
		pq_tw_binary(tw, 5, st->max, st->maxlen);   /* max_value */
		pq_tw_binary(tw, 6, st->min, st->minlen);   /* min_value */
		pq_tw_bool(tw, 7, st->max_exact);           /* is_max_value_exact */
		pq_tw_bool(tw, 8, st->min_exact);           /* is_min_value_exact */
	}
	if (st->has_nan_count)
		pq_tw_i64(tw, 9, st->nan_count);    /* nan_count */
	pq_tw_struct_end(tw);
}

static void
put_footer(struct pq_writer *w, struct pq_buf *b, const struct pq_kv *kv, int nkv)
{
	struct pq_tw tw;
	char created[64];

	pq_tw_init(&tw, b);
	pq_tw_i32(&tw, 1, 1);                                   /* FileMetaData.version */
	pq_tw_list_begin(&tw, 2, PQ_T_STRUCT, (size_t) w->ncols + 1);   /* schema */
	pq_tw_elem_struct_begin(&tw);                           /* the root group */
	pq_tw_string(&tw, 4, "schema");                         /* name */
	pq_tw_i32(&tw, 5, w->ncols);                            /* num_children */
	pq_tw_struct_end(&tw);
	for (int c = 0; c < w->ncols; c++) {
		const struct pq_coldef *d = &w->cols[c].d;
		int ct = converted_type(d);

		pq_tw_elem_struct_begin(&tw);
		pq_tw_i32(&tw, 1, d->type);                     /* type */
		if (d->type == PQ_FLBA)
			pq_tw_i32(&tw, 2, d->type_length);      /* type_length */
		pq_tw_i32(&tw, 3, d->required ? REP_REQUIRED : REP_OPTIONAL);   /* repetition_type */
		pq_tw_string(&tw, 4, d->name);                  /* name */
		if (ct >= 0)
			pq_tw_i32(&tw, 6, ct);                  /* converted_type */
		if (d->ltype == PQ_LT_DECIMAL) {
			pq_tw_i32(&tw, 7, d->scale);            /* scale */
			pq_tw_i32(&tw, 8, d->precision);        /* precision */
		}
		put_logical(&tw, d);                            /* logicalType (10) */
		pq_tw_struct_end(&tw);
	}
	pq_tw_i64(&tw, 3, w->flushed_rows);                     /* num_rows */
	pq_tw_list_begin(&tw, 4, PQ_T_STRUCT, (size_t) w->nrg); /* row_groups */
	for (int r = 0; r < w->nrg; r++) {
		const struct pq_rg *rg = &w->rgs[r];

		pq_tw_elem_struct_begin(&tw);
		pq_tw_list_begin(&tw, 1, PQ_T_STRUCT, (size_t) w->ncols);   /* columns */
		for (int c = 0; c < w->ncols; c++) {
			const struct pq_chunk *ch = &rg->chunks[c];
			const struct pq_coldef *d = &w->cols[c].d;
			bool dict = ch->dict_off >= 0;

			pq_tw_elem_struct_begin(&tw);           /* ColumnChunk */
			pq_tw_i64(&tw, 2, ch->start);           /* file_offset */
			pq_tw_struct_begin(&tw, 3);             /* meta_data */
			pq_tw_i32(&tw, 1, d->type);             /* type */
			pq_tw_list_begin(&tw, 2, PQ_T_I32, dict ? 3 : 2);   /* encodings */
			if (dict)
				pq_tw_elem_i32(&tw, ENC_RLE_DICTIONARY);
			pq_tw_elem_i32(&tw, ENC_PLAIN);
			pq_tw_elem_i32(&tw, ENC_RLE);
			pq_tw_list_begin(&tw, 3, PQ_T_BINARY, 1);   /* path_in_schema */
			pq_tw_elem_binary(&tw, d->name, strlen(d->name));
			pq_tw_i32(&tw, 4, w->o.codec);          /* codec */
			pq_tw_i64(&tw, 5, ch->num_values);      /* num_values */
			pq_tw_i64(&tw, 6, ch->unc);             /* total_uncompressed_size */
			pq_tw_i64(&tw, 7, ch->comp);            /* total_compressed_size */
			pq_tw_i64(&tw, 9, ch->data_off);        /* data_page_offset */
			if (dict)
				pq_tw_i64(&tw, 11, ch->dict_off);   /* dictionary_page_offset */
			put_stats(&tw, &ch->st);                /* statistics (12) */
			pq_tw_struct_end(&tw);                  /* meta_data */
			pq_tw_struct_end(&tw);                  /* ColumnChunk */
		}
		pq_tw_i64(&tw, 2, rg->unc);                     /* total_byte_size */
		pq_tw_i64(&tw, 3, rg->rows);                    /* num_rows */
		pq_tw_i64(&tw, 5, rg->offset);                  /* file_offset */
		pq_tw_i64(&tw, 6, rg->comp);                    /* total_compressed_size */
		if (r <= INT16_MAX)
			pq_tw_i16(&tw, 7, (int16_t) r);         /* ordinal */
		pq_tw_struct_end(&tw);
	}
	if (nkv > 0) {
		pq_tw_list_begin(&tw, 5, PQ_T_STRUCT, (size_t) nkv);    /* key_value_metadata */
		for (int i = 0; i < nkv; i++) {
			pq_tw_elem_struct_begin(&tw);
			pq_tw_string(&tw, 1, kv[i].key);            /* key */
			if (kv[i].value != NULL)
				pq_tw_string(&tw, 2, kv[i].value);  /* value */
			pq_tw_struct_end(&tw);
		}
	}
	snprintf(created, sizeof(created), "pgcdc version %s", PGCDC_VERSION);
	pq_tw_string(&tw, 6, created);                          /* created_by */
	pq_tw_list_begin(&tw, 7, PQ_T_STRUCT, (size_t) w->ncols);   /* column_orders */
	for (int c = 0; c < w->ncols; c++) {
		pq_tw_elem_struct_begin(&tw);                   /* ColumnOrder */
		pq_tw_struct_begin(&tw, 1);                     /* TYPE_ORDER */
		pq_tw_struct_end(&tw);
		pq_tw_struct_end(&tw);
	}
	pq_tw_stop(&tw);
}

int
pq_writer_finish(struct pq_writer *w, const struct pq_kv *kv, int nkv, struct cdc_err *err)
{
	int64_t end;
	int rc;

	if (w->finished)
		return 0;
	w->sp = false;
	if ((rc = pq_writer_flush(w, err)) != 0)
		return rc;
	if (w->off == 0) {
		/* no row at all: still a valid file, with no row group */
		if ((rc = pwrite_all(w, (const uint8_t *) "PAR1", 4, 0, err)) != 0)
			return rc;
		w->off = 4;
	}
	w->x->out.len = 0;
	put_footer(w, &w->x->out, kv, nkv);
	if (w->x->out.len > UINT32_MAX)
		return cdc_errf(err, CDC_ERR_FATAL, "parquet: footer of %s too large", w->path);
	pq_buf_put_le32(&w->x->out, (uint32_t) w->x->out.len);
	pq_buf_put(&w->x->out, "PAR1", 4);
	if (w->x->out.oom)
		return cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory writing the footer of %s",
		                w->path);
	if ((rc = pwrite_all(w, w->x->out.p, w->x->out.len, w->off, err)) != 0) {
		if (ftruncate(w->fd, (off_t) w->off) != 0) {
			/* best effort */
		}
		return rc;
	}
	end = w->off + (int64_t) w->x->out.len;
	if (ftruncate(w->fd, (off_t) end) != 0)
		return cdc_errf(err, CDC_ERR_IO, "parquet: cannot truncate %s: %s", w->path, strerror(errno));
	if (fsync(w->fd) != 0)
		return cdc_errf(err, CDC_ERR_IO, "parquet: fsync of %s failed: %s", w->path, strerror(errno));
	w->off = end;
	w->finished = true;
	return 0;
}

/* ---- lifetime ---- */

struct pq_writer *
pq_writer_new(const struct pq_coldef *cols, int ncols, const struct pq_wopts *o, int fd,
              const char *path, struct cdc_err *err)
{
	struct pq_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		goto oom;
	w->o = *o;
	w->fd = fd;
	w->ncols = ncols;
	w->path = strdup(path);
	w->cols = calloc((size_t) (ncols > 0 ? ncols : 1), sizeof(*w->cols));
	if (w->path == NULL || w->cols == NULL)
		goto oom;
	for (int c = 0; c < ncols; c++) {
		struct pq_col *col = &w->cols[c];

		col->d = cols[c];
		if ((cols[c].type == PQ_FLBA && (cols[c].type_length <= 0 || cols[c].type_length > 64)) ||
		    cols[c].type == 3 /* INT96 */ || cols[c].type > PQ_FLBA) {
			cdc_errf(err, CDC_ERR_FATAL, "parquet: unsupported definition of column %s",
			         cols[c].name);
			pq_writer_free(w);
			return NULL;
		}
		col->d.name = strdup(cols[c].name);
		if (col->d.name == NULL)
			goto oom;
		col->width = plain_width(&col->d);
		col->dict_on = o->dictionary && col->d.type == PQ_BYTE_ARRAY;
	}
	w->x = o->scratch;
	if (w->x == NULL) {
		if ((w->x = pq_scratch_new()) == NULL)
			goto oom;
		w->own_scratch = true;
	}
	return w;
oom:
	cdc_errf(err, CDC_ERR_NOMEM, "parquet: out of memory creating a writer for %s", path);
	pq_writer_free(w);
	return NULL;
}

void
pq_writer_free(struct pq_writer *w)
{
	if (w == NULL)
		return;
	for (int c = 0; w->cols != NULL && c < w->ncols; c++) {
		struct pq_col *col = &w->cols[c];

		free((char *) col->d.name);
		pq_buf_free(&col->defs);
		pq_buf_free(&col->vals);
		pq_buf_free(&col->dict);
		pq_buf_free(&col->idx);
		free(col->doff);
		free(col->dhash);
		free(col->htab);
	}
	for (int i = 0; i < w->nrg; i++)
		free_chunks(w->rgs[i].chunks, w->ncols);
	free(w->rgs);
	free(w->cols);
	free(w->path);
	if (w->own_scratch)
		pq_scratch_free(w->x);
	free(w);
}

struct pq_scratch *
pq_scratch_new(void)
{
	return calloc(1, sizeof(struct pq_scratch));
}

void
pq_scratch_free(struct pq_scratch *x)
{
	if (x == NULL)
		return;
	pq_buf_free(&x->body);
	pq_buf_free(&x->tmp);
	pq_buf_free(&x->comp);
	pq_buf_free(&x->hdr);
	pq_buf_free(&x->out);
	free(x->used);
	ZSTD_freeCCtx(x->zc);
	free(x);
}
