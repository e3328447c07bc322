/*
 * pq_proptest.c — property test input for the Parquet writer (sinks/parquet/writer.c).
 *
 *   pq_proptest DIR SEED [SEED...]
 *
 * For each seed: a random schema (1-10 columns of every type the Parquet sink writes,
 * SPEC §4: INT16/INT32/INT64, FLOAT, DOUBLE, BOOLEAN, String, bytea, JSON, DECIMAL in
 * INT32 / INT64 / FIXED_LEN_BYTE_ARRAY, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, UUID; required
 * or optional), random rows (nulls, values from 0 B to 16 MB, low and high cardinality so
 * dictionaries are kept and abandoned, long values among short ones), random row-group
 * limits by rows and by bytes (every row group is one page per column), dictionary on or
 * off, every codec, and transaction savepoints rolled back or released as the sink does.
 * Writes DIR/SEED.parquet and DIR/SEED.expect.json: the schema and, per surviving row, one
 * canonical text per value (tests/tools/pq-verify.mjs reads the file back with DuckDB and
 * with parquet-wasm and compares value by value):
 *   integers, decimals (unscaled), dates (days), times and timestamps (µs): decimal text;
 *   float / double: the IEEE-754 bits of the value as a double, 16 hex digits ("NaN" for NaN);
 *   byte arrays: "<length>:<sha256 hex>"; uuid: 32 hex digits; boolean: true / false.
 * The same seed always gives the same file.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sinks/parquet/writer.h"

enum kind { K_I16, K_I32, K_I64, K_FLOAT, K_DOUBLE, K_BOOL, K_STRING, K_BYTEA, K_JSON,
            K_DEC32, K_DEC64, K_DECFLBA, K_DATE, K_TIME, K_TS, K_TSTZ, K_UUID, K_NKINDS };

static const char *const kind_name[K_NKINDS] = {
	"int16", "int32", "int64", "float", "double", "bool", "string", "bytea", "json",
	"dec32", "dec64", "decflba", "date", "time", "ts", "tstz", "uuid",
};

#define MAXCOLS 10
#define BIG_BUDGET (40u << 20)    /* bytes of values over 64 kB per file */

struct col {
	enum kind k;
	struct pq_coldef d;
	char name[16];
	double null_p;
	int pool;                 /* >0: values drawn from this many (dictionary stays) */
	uint64_t pool_seed;
};

static uint64_t rng;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static double
unit(void)
{
	return (double) (rnd() >> 11) / 9007199254740992.0;
}

static void
sha_text(const uint8_t *p, size_t n, char *out)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int k;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	k = sprintf(out, "%zu:", n);
	for (unsigned i = 0; i < mdlen; i++)
		k += sprintf(out + k, "%02x", md[i]);
}

static void
i128_text(__int128 v, char *out)
{
	char tmp[48];
	int n = 0;
	unsigned __int128 u = v < 0 ? -(unsigned __int128) v : (unsigned __int128) v;

	do {
		tmp[n++] = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u);
	if (v < 0)
		*out++ = '-';
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

static void
dbl_text(double d, char *out)
{
	uint64_t u;

	if (isnan(d)) {
		strcpy(out, "NaN");
		return;
	}
	memcpy(&u, &d, 8);
	sprintf(out, "%016" PRIx64, u);
}

/* A length: mostly short, sometimes medium, now and then past 64 kB, rarely up to 16 MB. */
static size_t
rand_len(size_t *big_left)
{
	uint64_t r = below(1000);
	size_t n;

	if (r < 700)
		n = below(24);
	else if (r < 940)
		n = 24 + below(4000);
	else if (r < 995)
		n = 60000 + below(300000);
	else
		n = (1u << 20) + below(15u << 20);
	if (n > 65536) {
		if (n > *big_left)
			n = below(24);
		else
			*big_left -= n;
	}
	return n;
}

/* Valid UTF-8 of about n bytes: ASCII, quotes, backslashes, control characters,
 * two-, three- and four-byte sequences (emoji); long ones repeat a random block. */
static size_t
rand_utf8(uint8_t *p, size_t n)
{
	static const char *const pieces[] = { "a", "Z", "0", " ", "\"", "\\", "\t", "\n", "\x01",
	                                      "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	                                      "'", "{", "%" };
	size_t k = 0, blk = n > 4096 ? 4096 : n;

	while (k < blk) {
		const char *s = pieces[below(16)];
		size_t l = strlen(s);

		if (k + l > blk)
			break;
		memcpy(p + k, s, l);
		k += l;
	}
	/* repeat whole pieces' block: stays valid UTF-8 */
	while (k > 0 && k + k <= n) {
		memcpy(p + k, p, k);
		k += k;
	}
	while (k < n)
		p[k++] = 'x';
	return k;
}

static size_t
rand_bytes(uint8_t *p, size_t n)
{
	size_t k = 0, blk = n > 4096 ? 4096 : n;

	for (; k < blk; k++)
		p[k] = (uint8_t) rnd();
	while (k > 0 && k + k <= n) {
		memcpy(p + k, p, k);
		k += k;
	}
	while (k < n)
		p[k] = (uint8_t) k, k++;
	return k;
}

static size_t
rand_json(uint8_t *p, size_t n)
{
	int k = sprintf((char *) p, "{\"n\":%" PRId64 ",\"s\":\"", (int64_t) rnd() % 100000);
	size_t body = n > (size_t) k + 2 ? n - (size_t) k - 2 : 0;

	for (size_t i = 0; i < body; i++)
		p[k + i] = (uint8_t) ('a' + (i * 7 + (size_t) k) % 26);
	memcpy(p + k + body, "\"}", 2);
	return (size_t) k + body + 2;
}

static __int128
pow10_i128(int p)
{
	__int128 v = 1;

	while (p-- > 0)
		v *= 10;
	return v;
}

static void
col_init(struct col *c, int i)
{
	memset(c, 0, sizeof(*c));
	c->k = (enum kind) below(K_NKINDS);
	snprintf(c->name, sizeof(c->name), "c%d_%s", i, kind_name[c->k]);
	c->d.name = c->name;
	c->d.required = below(4) == 0;
	c->null_p = c->d.required ? 0 : (below(3) == 0 ? 0.5 : 0.05);
	c->pool = below(3) == 0 ? 1 + (int) below(8) : 0;
	c->pool_seed = rnd();
	switch (c->k) {
	case K_I16: c->d.type = PQ_INT32; c->d.ltype = PQ_LT_INT16; break;
	case K_I32: c->d.type = PQ_INT32; break;
	case K_I64: c->d.type = PQ_INT64; break;
	case K_FLOAT: c->d.type = PQ_FLOAT; break;
	case K_DOUBLE: c->d.type = PQ_DOUBLE; break;
	case K_BOOL: c->d.type = PQ_BOOLEAN; break;
	case K_STRING: c->d.type = PQ_BYTE_ARRAY; c->d.ltype = PQ_LT_STRING; break;
	case K_BYTEA: c->d.type = PQ_BYTE_ARRAY; break;
	case K_JSON: c->d.type = PQ_BYTE_ARRAY; c->d.ltype = PQ_LT_JSON; break;
	case K_DEC32:
		c->d.type = PQ_INT32; c->d.ltype = PQ_LT_DECIMAL;
		c->d.precision = 1 + (int) below(9);
		break;
	case K_DEC64:
		c->d.type = PQ_INT64; c->d.ltype = PQ_LT_DECIMAL;
		c->d.precision = 10 + (int) below(9);
		break;
	case K_DECFLBA:
		c->d.type = PQ_FLBA; c->d.ltype = PQ_LT_DECIMAL;
		c->d.precision = 19 + (int) below(20);
		break;
	case K_DATE: c->d.type = PQ_INT32; c->d.ltype = PQ_LT_DATE; break;
	case K_TIME: c->d.type = PQ_INT64; c->d.ltype = PQ_LT_TIME_US; break;
	case K_TS: c->d.type = PQ_INT64; c->d.ltype = PQ_LT_TIMESTAMP_US; break;
	case K_TSTZ: c->d.type = PQ_INT64; c->d.ltype = PQ_LT_TIMESTAMPTZ_US; break;
	case K_UUID: c->d.type = PQ_FLBA; c->d.ltype = PQ_LT_UUID; c->d.type_length = 16; break;
	default: break;
	}
	if (c->d.ltype == PQ_LT_DECIMAL) {
		c->d.scale = (int) below((uint64_t) c->d.precision + 1);
		if (c->k == K_DECFLBA) {
			int nb = 1;

			while (nb < 16 && ((__int128) 1 << (8 * nb - 1)) - 1 < pow10_i128(c->d.precision) - 1)
				nb++;
			c->d.type_length = nb;
		}
	}
}

/* Put one random value of column c into the writer and its canonical text into out
 * (NULL pointer text "null" for a null). */
static void
put_value(struct pq_writer *w, int ci, struct col *c, uint8_t *buf, size_t *big_left, char *out)
{
	uint64_t saved = 0;
	size_t n;

	if (c->null_p > 0 && unit() < c->null_p) {
		pq_put_null(w, ci);
		strcpy(out, "null");
		return;
	}
	if (c->pool > 0) {           /* a value from a small pool: same seed, same value */
		saved = rng;
		rng = c->pool_seed + below((uint64_t) c->pool) * 7919;
	}
	switch (c->k) {
	case K_I16: {
		int32_t v = (int16_t) rnd();

		pq_put_i32(w, ci, v);
		sprintf(out, "%" PRId32, v);
		break;
	}
	case K_I32:
	case K_DATE: {
		int32_t v = below(20) == 0 ? (below(2) ? INT32_MAX : -INT32_MAX) : (int32_t) rnd();

		if (c->k == K_DATE && below(20) != 0)
			v = (int32_t) (below(200000)) - 100000;
		pq_put_i32(w, ci, v);
		sprintf(out, "%" PRId32, v);
		break;
	}
	case K_I64:
	case K_TS:
	case K_TSTZ:
	case K_TIME: {
		int64_t v = (int64_t) rnd();

		if (c->k == K_TIME)
			v = (int64_t) below(86400000001ULL);
		else if (c->k != K_I64 && below(20) == 0)
			v = below(2) ? INT64_MAX : -INT64_MAX;
		else if (c->k != K_I64)
			v = (int64_t) below(8000000000000000ULL) - 4000000000000000LL;
		pq_put_i64(w, ci, v);
		sprintf(out, "%" PRId64, v);
		break;
	}
	case K_FLOAT: {
		static const float sp[] = { 0.0f, -0.0f, INFINITY, -INFINITY, 1.5f, -3.25e-30f };
		uint32_t u = (uint32_t) rnd();
		float f;

		memcpy(&f, &u, 4);
		if (below(5) == 0)
			f = sp[below(6)];
		else if (below(10) == 0)
			f = NAN;
		pq_put_float(w, ci, f);
		dbl_text((double) f, out);
		break;
	}
	case K_DOUBLE: {
		static const double sp[] = { 0.0, -0.0, INFINITY, -INFINITY, 1e300, -5e-324 };
		uint64_t u = rnd();
		double d;

		memcpy(&d, &u, 8);
		if (below(5) == 0)
			d = sp[below(6)];
		else if (below(10) == 0)
			d = NAN;
		pq_put_double(w, ci, d);
		dbl_text(d, out);
		break;
	}
	case K_BOOL: {
		bool b = rnd() & 1;

		pq_put_bool(w, ci, b);
		strcpy(out, b ? "true" : "false");
		break;
	}
	case K_STRING:
	case K_BYTEA:
	case K_JSON:
		n = rand_len(big_left);
		if (c->k == K_STRING)
			n = rand_utf8(buf, n);
		else if (c->k == K_BYTEA)
			n = rand_bytes(buf, n);
		else
			n = rand_json(buf, n);
		pq_put_bytes(w, ci, buf, n);
		sha_text(buf, n, out);
		break;
	case K_DEC32:
	case K_DEC64:
	case K_DECFLBA: {
		__int128 lim = pow10_i128(c->d.precision) - 1;
		__int128 v = (__int128) ((((unsigned __int128) rnd() << 64) | rnd()) % (unsigned __int128) (lim + 1));

		if (rnd() & 1)
			v = -v;
		if (below(10) == 0)
			v = below(2) ? lim : -lim;
		if (c->k == K_DEC32) {
			pq_put_i32(w, ci, (int32_t) v);
		} else if (c->k == K_DEC64) {
			pq_put_i64(w, ci, (int64_t) v);
		} else {
			uint8_t be[16];
			unsigned __int128 u = (unsigned __int128) v;

			for (int i = c->d.type_length - 1; i >= 0; i--) {
				be[i] = (uint8_t) u;
				u >>= 8;
			}
			pq_put_bytes(w, ci, be, (size_t) c->d.type_length);
		}
		i128_text(v, out);
		break;
	}
	case K_UUID: {
		uint8_t u[16];

		for (int i = 0; i < 16; i++) {
			u[i] = (uint8_t) rnd();
			sprintf(out + 2 * i, "%02x", u[i]);
		}
		pq_put_bytes(w, ci, u, 16);
		break;
	}
	default:
		break;
	}
	if (c->pool > 0)
		rng = saved;
}

static int
one_seed(const char *dir, uint64_t seed)
{
	char path[512], epath[512], tmp[600];
	struct col cols[MAXCOLS];
	struct pq_coldef defs[MAXCOLS];
	struct pq_wopts o = { 0 };
	struct cdc_err err = { 0 };
	struct pq_writer *w;
	static const int64_t rgr[] = { 1, 3, 100, 1000, 5000, 100000 };
	static const int64_t rgb[] = { 1 << 12, 1 << 16, 1 << 20, 1 << 26 };
	static const enum pq_codec codecs[] = { PQ_CODEC_NONE, PQ_CODEC_SNAPPY, PQ_CODEC_ZSTD };
	size_t big_left = BIG_BUDGET;
	int ncols, nrows, fd, rc = 1, vlen;
	char **rows = NULL;       /* canonical text of each row, "[...]" */
	int nlive = 0, mark = -1;
	uint8_t *buf = malloc(16u << 20);
	char *line = NULL, *val = malloc(128);
	FILE *ef = NULL;

	rng = seed * 0x2545f4914f6cdd1dULL + 1;
	ncols = 1 + (int) below(MAXCOLS);
	for (int i = 0; i < ncols; i++) {
		col_init(&cols[i], i);
		defs[i] = cols[i].d;
	}
	o.codec = codecs[below(3)];
	o.zstd_level = (int) below(4);
	o.rg_rows = rgr[below(6)];
	o.rg_bytes = rgb[below(4)];
	o.dictionary = below(4) != 0;
	switch (below(4)) {
	case 0: nrows = (int) below(5); break;
	case 1: nrows = (int) below(200); break;
	case 2: nrows = 1000 + (int) below(4000); break;
	default: nrows = 4000 + (int) below(9000); break;
	}
	snprintf(path, sizeof(path), "%s/%" PRIu64 ".parquet", dir, seed);
	snprintf(epath, sizeof(epath), "%s/%" PRIu64 ".expect.json", dir, seed);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || buf == NULL || val == NULL) {
		perror(path);
		goto out;
	}
	w = pq_writer_new(defs, ncols, &o, fd, path, &err);
	if (w == NULL) {
		fprintf(stderr, "seed %" PRIu64 ": %s\n", seed, err.msg);
		goto out;
	}
	rows = calloc((size_t) nrows + 1, sizeof(char *));
	line = malloc((size_t) ncols * 90 + 8);
	for (int r = 0; r < nrows; r++) {
		size_t k = 0;

		/* transactions as the sink writes them: a savepoint, rolled back or released */
		if (mark < 0 && below(50) == 0) {
			pq_writer_mark(w);
			mark = nlive;
		} else if (mark >= 0 && below(40) == 0) {
			if (below(2)) {
				pq_writer_rollback(w);
				for (int i = mark; i < nlive; i++)
					free(rows[i]);
				nlive = mark;
			} else {
				pq_writer_release(w);
			}
			mark = -1;
		}
		if (pq_writer_full(w) && pq_writer_flush(w, &err) != 0) {
			fprintf(stderr, "seed %" PRIu64 ": flush: %s\n", seed, err.msg);
			pq_writer_free(w);
			goto out;
		}
		line[k++] = '[';
		for (int i = 0; i < ncols; i++) {
			put_value(w, i, &cols[i], buf, &big_left, val);
			vlen = (int) strlen(val);
			k += (size_t) sprintf(line + k, "%s%s%s%s", i ? "," : "",
			                      strcmp(val, "null") ? "\"" : "", val,
			                      strcmp(val, "null") ? "\"" : "");
			(void) vlen;
		}
		line[k++] = ']';
		line[k] = '\0';
		if (pq_row_end(w, &err) != 0) {
			fprintf(stderr, "seed %" PRIu64 ": %s\n", seed, err.msg);
			pq_writer_free(w);
			goto out;
		}
		rows[nlive++] = strdup(line);
	}
	if (mark >= 0 && below(2)) {
		pq_writer_rollback(w);
		for (int i = mark; i < nlive; i++)
			free(rows[i]);
		nlive = mark;
	}
	{
		struct pq_kv kv[] = { { "pgcdc.table", "public.proptest" } };

		if (pq_writer_finish(w, kv, 1, &err) != 0) {
			fprintf(stderr, "seed %" PRIu64 ": finish: %s\n", seed, err.msg);
			pq_writer_free(w);
			goto out;
		}
	}
	pq_writer_free(w);
	ef = fopen(epath, "w");
	if (ef == NULL) {
		perror(epath);
		goto out;
	}
	fprintf(ef, "{\"seed\":%" PRIu64 ",\"codec\":%d,\"rg_rows\":%" PRId64 ",\"rg_bytes\":%" PRId64
	        ",\"dictionary\":%s,\"columns\":[", seed, (int) o.codec, o.rg_rows, o.rg_bytes,
	        o.dictionary ? "true" : "false");
	for (int i = 0; i < ncols; i++)
		fprintf(ef, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"required\":%s,\"precision\":%d,\"scale\":%d}",
		        i ? "," : "", cols[i].name, kind_name[cols[i].k],
		        cols[i].d.required ? "true" : "false", cols[i].d.precision, cols[i].d.scale);
	fprintf(ef, "],\n\"rows\":[\n");
	for (int i = 0; i < nlive; i++)
		fprintf(ef, "%s%s\n", rows[i], i + 1 < nlive ? "," : "");
	fprintf(ef, "]}\n");
	if (fclose(ef) != 0) {
		ef = NULL;
		perror(epath);
		goto out;
	}
	ef = NULL;
	snprintf(tmp, sizeof(tmp), "seed %" PRIu64 ": %d columns, %d rows, codec %d, dictionary %s, "
	         "row groups of %" PRId64 " rows / %" PRId64 " bytes\n", seed, ncols, nlive, (int) o.codec,
	         o.dictionary ? "on" : "off", o.rg_rows, o.rg_bytes);
	fputs(tmp, stdout);
	rc = 0;
out:
	if (ef)
		fclose(ef);
	if (fd >= 0)
		close(fd);
	for (int i = 0; rows && i < nlive; i++)
		free(rows[i]);
	free(rows);
	free(line);
	free(buf);
	free(val);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pq_proptest DIR SEED [SEED...]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		rc |= one_seed(argv[1], strtoull(argv[i], NULL, 10));
	return rc;
}
