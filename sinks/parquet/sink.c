/*
 * sink.c — the Parquet sink (SPEC §4, §5): one stream of files per table under
 *   <directory>/<schema>.<table>/date=YYYY-MM-DD/<first_lsn>-<last_lsn>.parquet
 * holding whole transactions, committed atomically, acknowledged only once durable,
 * and never written twice.
 *
 * DESIGN
 *
 * Files.  A table has at most one open file (plus, rarely, "frozen" ones, below).
 * It is written as <first_lsn>-<pid>-<n>.parquet.tmp, locked with flock(2) while
 * open; rows go to the writer (writer.h), whose row groups are appended to the
 * .tmp file as they fill, so memory stays bounded whatever a transaction's size.
 * At a transaction boundary the file is closed when it reached rotate_rows,
 * rotate_bytes or rotate_interval (poll() checks the interval too, so an idle
 * stream still rotates), when the transaction's commit date (UTC) differs from the
 * file's, or when the table's columns changed (a new Relation whose column names,
 * types, typmods or key flags differ).  flush() closes every file.  Closing =
 * footer, ftruncate, fsync, rename to <first>-<last>.parquet (commit LSNs), fsync
 * of the directory.  LSNs in names are 16 upper-case hex digits.
 *
 * Durability.  Each open file remembers `prev_end`: an LSN at or after the end of
 * every transaction handed over before its first one (that transaction's commit
 * LSN).  poll() reports the minimum of
 * those over open files, or the end LSN of the last committed transaction when no
 * file is open: every transaction ending at or before that value is in committed
 * files (a transaction touching several tables is durable only once all of its
 * files are).  Transactions skipped as duplicates, or that touched nothing here,
 * are durable as soon as everything before them is.
 *
 * Exactly once.  At open the directory is scanned: per table directory the highest
 * last LSN among committed stream files is the table's high-water mark; a
 * transaction whose commit LSN is at or below it is skipped for that table (its
 * rows are already there; for other tables it may still be written).  The mark
 * follows every transaction written in this process too, so a transaction resent
 * after a reconnect is never written twice.  Stale .tmp files (not locked by a
 * live process) are removed: their transactions were never acknowledged.
 *
 * Rollback.  A transaction cut short (abort()) is removed from every file it
 * touched: the writer rolls back to the savepoint taken at the transaction's first
 * row (in memory, or by cutting the .tmp file back); files it created are deleted.
 *
 * Schema change inside a transaction.  When a table's columns change after this
 * transaction already wrote rows of it, the old file is frozen (no more rows) and a
 * new one started; at commit both are closed together through a commit journal
 * (<directory>/.pgcdc-commit-*.journal: written and fsynced before the renames,
 * removed after; a journal found at start is rolled forward), so a crash can never
 * leave half of a transaction committed for one table.
 *
 * Snapshots (decoder/change.h).  Snapshot pseudo-transactions share one LSN, so
 * they are never deduplicated and never move the high-water mark; their rows go to
 * separate files named
 *   <lsn>-<lsn>-snapshot-<id>-<NNNNNN>.parquet    (id = snapshot time, µs since epoch)
 * Before the first snapshot row a marker <directory>/.pgcdc-snapshot-<lsn>-<id>.inprogress
 * is written and fsynced; when the transaction holding the CDC_SNAP_LAST row commits,
 * every snapshot file is closed and then the marker removed.  Until then snapshot
 * rows do not count as durable.  A marker found at start (not locked by a live
 * process) means that snapshot was interrupted: all of its files are deleted, so an
 * interrupted snapshot leaves nothing behind and its redo produces no duplicates.
 *
 * Disk full.  ENOSPC, EDQUOT and EFBIG return CDC_ERR_AGAIN: the pipeline stops
 * reading WAL and retries; everything needed for the retry is still in memory or in
 * the .tmp files (a failed write is cut back), so nothing is lost and no partial
 * .parquet ever appears.  Retries are spaced by a second.  Any other I/O error is
 * fatal, with a message naming the file; after a fatal error the sink refuses to do
 * anything more (a half-built row is never committed).
 *
 * Owning thread: the replication (main) thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../sink.h"
#include "../../common/log.h"
#include "convert.h"
#include "encoding.h"
#include "writer.h"
#include "../../common/clock.h"
#include "../../common/durable.h"

#define RG_BYTES (32 << 20)      /* a buffered row group is written at this size */
#define RETRY_MS 1000            /* between retries while the disk is full */
#define NMETA 6                  /* metadata columns after the table's */
#define MAX_FROZEN 16
#define LSN_HEX "%016" PRIX64

enum pqv {
	V_STRING, V_INT16, V_INT32, V_INT64, V_FLOAT, V_DOUBLE, V_BOOL,
	V_DEC32, V_DEC64, V_DECFLBA, V_DATE, V_TIME, V_TS, V_TSTZ, V_UUID, V_BYTEA, V_JSON,
	V_INTERVAL,              /* String: PostgreSQL's default text output (SPEC §4) */
};

struct pqs_col {
	char *name;
	uint32_t typoid;
	int32_t typmod;
	bool pk;
	enum pqv kind;
	int precision, scale, flba;
};

/* A table's column set, shared by the table and its files. */
struct pqs_schema {
	int refs;
	int ncols;
	struct pqs_col *cols;
	char *pk;                    /* key column names, comma-separated */
	struct pq_coldef *defs;      /* ncols + NMETA */
};

struct pqs_table;

struct pqs_file {
	struct pqs_file *next, *prev;    /* s->files */
	struct pqs_table *t;
	struct pqs_schema *schema;
	struct pq_writer *w;
	int fd;
	char *dir;                   /* the date= directory */
	char *tmp;
	char *final;                 /* known at open for snapshot files, else at close */
	int32_t date;                /* days since epoch (partition) */
	bool snapshot;
	cdc_lsn snap_lsn;
	int64_t snap_id;
	cdc_lsn first_lsn, last_lsn; /* commit LSNs of its first and last transactions */
	cdc_lsn prev_end;            /* durable floor before its first transaction */
	int64_t opened_ms;
	uint64_t txn_serial;         /* transaction that last wrote into it */
	uint64_t created_serial;     /* transaction that created it */
	int64_t txn_rows;            /* rows of the open transaction */
	bool frozen, close_pending, group, finished, renamed;
};

struct pqs_table {
	struct pqs_table *hnext;
	char *key;                   /* directory name: escaped schema "." escaped table */
	char *qualname;              /* schema.table as PostgreSQL names it */
	char *dir;
	cdc_lsn hwm;                 /* highest stream commit LSN in its files */
	cdc_lsn hwm_open;            /* hwm as the files on disk had it when the sink opened
	                              * (what a backfill chunk's dedupe_lsn is checked against:
	                              * this run's later stream changes do not hold the chunk) */
	struct pqs_schema *schema;   /* current column set */
	const struct cdc_rel *rel;   /* last relation seen, and its version */
	uint32_t relver;
	struct pqs_file *file;       /* open file taking rows */
	struct pqs_file *frozen[MAX_FROZEN];
	int nfrozen;
	int snap_seq;
	uint64_t touched_serial;
};

struct pq_sink {
	struct sink base;            /* first: the pipeline sees a struct sink */
	const struct sink_parquet_cfg *cfg;   /* [sink.parquet] */
	const struct cdc_types *types;
	char *top;                   /* the directory */
	struct pq_wopts wopts;
	/* tables */
	struct pqs_table **buckets;
	size_t nbuckets, ntables;
	const struct cdc_rel *cache_rel;
	uint32_t cache_ver;
	struct pqs_table *cache_t;
	/* open files */
	struct pqs_file files;       /* list head */
	uint64_t tmp_seq;
	unsigned epoch;              /* accepted gaps so far (<directory>/.pgcdc-epoch) */
	bool work;                   /* something may need closing or flushing */
	/* the transaction */
	bool in_txn;
	struct cdc_txn txn;
	uint64_t txn_serial;
	int32_t txn_date;
	struct pqs_table **touched;
	int ntouched, touchedcap;
	bool snap_last, close_at_commit;
	/* durability */
	cdc_lsn last_end, cur_prev, durable;
	/* snapshot */
	bool snap_active, snap_finishing;
	cdc_lsn snap_lsn, snap_prev;
	int64_t snap_id;
	int snap_fd;
	char *snap_marker;
	/* errors */
	int64_t retry_at;
	bool stalled;
	char stall_msg[512];
	int broken;                  /* fatal error code, 0 while healthy */
	char broken_msg[512];
	uint64_t skipped_rows, nan_decimals;
	/* scratch */
	struct pq_buf scratch, unchanged, key;
	struct pq_scratch *wscratch;     /* shared by every writer */
};

/* ---- small helpers ---- */

static char *
xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static bool
disk_full(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

/* The parent directory of path (owned), for fsyncs. */
static char *
parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t) (slash - path));
}

/* mkdir that fsyncs the parent when it created the directory.  0, or -1 (errno). */
static int
make_dir(const char *path)
{
	char *parent;
	int rc;

	if (mkdir(path, 0755) != 0)
		return errno == EEXIST ? 0 : -1;
	parent = parent_of(path);
	if (parent == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = cdc_fsync_dir(parent);
	free(parent);
	return rc;
}

/* mkdir -p. */
static int
make_dirs(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (char *q = p + 1; *q && rc == 0; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		rc = make_dir(p);
		*q = '/';
	}
	if (rc == 0)
		rc = make_dir(p);
	free(p);
	return rc;
}

/* A fatal error: remember it, every later call returns it. */
static int
fail(struct pq_sink *s, struct cdc_err *err)
{
	if (err->code == 0)
		cdc_errf(err, CDC_ERR_FATAL, "parquet sink: unknown error");
	if (!s->broken) {
		s->broken = err->code == CDC_ERR_AGAIN ? CDC_ERR_FATAL : err->code;
		snprintf(s->broken_msg, sizeof(s->broken_msg), "%s", err->msg);
	}
	return err->code;
}

/* A result of I/O: AGAIN starts (or continues) a stall, anything else but 0 is fatal. */
static int
io_result(struct pq_sink *s, int rc, struct cdc_err *err)
{
	if (rc == 0) {
		if (s->stalled) {
			log_info("parquet", "writing again after the disk was full");
			s->stalled = false;
		}
		return 0;
	}
	if (rc == CDC_ERR_AGAIN) {
		if (!s->stalled)
			log_warning("parquet", "%s; holding back until space is free (nothing more is "
			            "acknowledged meanwhile)", err->msg);
		s->stalled = true;
		s->retry_at = mono_ms() + RETRY_MS;
		snprintf(s->stall_msg, sizeof(s->stall_msg), "%s", err->msg);
		return rc;
	}
	return fail(s, err);
}

/* errno of a failed syscall on path: AGAIN for a full disk, else fatal. */
static int
io_errno(struct pq_sink *s, int e, const char *what, const char *path, struct cdc_err *err)
{
	if (disk_full(e))
		cdc_errf(err, CDC_ERR_AGAIN, "parquet sink: %s %s: %s", what, path, strerror(e));
	else
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot %s %s: %s", what, path, strerror(e));
	return io_result(s, err->code, err);
}

/* While stalled, retry only every RETRY_MS. */
static bool
throttled(struct pq_sink *s, struct cdc_err *err)
{
	if (!s->stalled || mono_ms() >= s->retry_at)
		return false;
	cdc_errf(err, CDC_ERR_AGAIN, "%s", s->stall_msg);
	return true;
}

static int
oom(struct pq_sink *s, struct cdc_err *err)
{
	cdc_errf(err, CDC_ERR_NOMEM, "parquet sink: out of memory");
	return fail(s, err);
}

/* Whether a stale file (tmp, marker, journal) is not held by a live process: then
 * it is locked for the caller, who closes *fdp after removing it. */
static bool
stale(const char *path, int *fdp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*fdp = -1;
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return false;
	}
	*fdp = fd;
	return true;
}

/* ---- names ---- */

/* Append name escaped for a directory name: '/', '%', '.', and control bytes as %XX. */
static void
put_escaped(struct pq_buf *b, const char *name)
{
	for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
		if (*p == '/' || *p == '%' || *p == '.' || *p < 0x20 || *p == 0x7f) {
			char hex[4];

			snprintf(hex, sizeof(hex), "%%%02X", *p);
			pq_buf_put(b, hex, 3);
		} else {
			pq_buf_put_u8(b, *p);
		}
	}
}

static void
date_string(int32_t days, char out[40])
{
	time_t t = (time_t) days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static bool
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "<16hex>-<16hex>[-e<epoch>][.<k>].parquet": a committed stream file; *last its last
 * LSN, *epoch its epoch (0 without the -e part).  (.<k> tells apart the files of one
 * transaction split by a change of columns; -e<N> the files written after the N-th
 * accepted gap, see "Epochs".) */
static bool
parse_stream_name(const char *name, cdc_lsn *last, unsigned *epoch)
{
	size_t n = strlen(name);
	const char *r = name + 33, *d;

	if (n < 41 || name[16] != '-' || !all_hex(name, 16) || !all_hex(name + 17, 16) ||
	    !ends_with(name, ".parquet"))
		return false;
	*epoch = 0;
	if (r[0] == '-' && r[1] == 'e') {
		for (d = r + 2; *d >= '0' && *d <= '9'; d++)
			;
		if (d == r + 2 || d - r > 8)
			return false;
		*epoch = (unsigned) strtoul(r + 2, NULL, 10);
		r = d;
	}
	if (r[0] == '.' && r[1] >= '0' && r[1] <= '9') {
		for (d = r + 1; *d >= '0' && *d <= '9'; d++)
			;
		r = d;
	}
	if (strcmp(r, ".parquet") != 0)
		return false;
	*last = strtoull(name + 17, NULL, 16);
	return true;
}

/* The committed name of a stream file: k > 0 for the k-th extra file of a split
 * transaction; the epoch suffix after an accepted gap. */
static char *
stream_name(const struct pq_sink *s, const char *dir, cdc_lsn first, cdc_lsn last, int k)
{
	char ep[16] = "", part[16] = "";

	if (s->epoch > 0)
		snprintf(ep, sizeof(ep), "-e%u", s->epoch);
	if (k > 0)
		snprintf(part, sizeof(part), ".%d", k);
	return xprintf("%s/" LSN_HEX "-" LSN_HEX "%s%s.parquet", dir, first, last, ep, part);
}

/* "<16hex>-<16hex>-snapshot-<id>-<seq>.parquet[.tmp]": a snapshot file. */
static bool
parse_snapshot_name(const char *name, cdc_lsn *lsn, int64_t *id)
{
	const char *p = name + 34, *dash;

	if (strlen(name) < 34 + 9 || name[16] != '-' || name[33] != '-' || !all_hex(name, 16) ||
	    strncmp(p, "snapshot-", 9) != 0)
		return false;
	p += 9;
	dash = strchr(p, '-');
	if (dash == NULL || !all_digits(p, (size_t) (dash - p)))
		return false;
	*lsn = strtoull(name, NULL, 16);
	*id = strtoll(p, NULL, 10);
	return true;
}

/* ---- schemas ---- */

static void
schema_unref(struct pqs_schema *sc)
{
	if (sc == NULL || --sc->refs > 0)
		return;
	for (int i = 0; i < sc->ncols; i++)
		free(sc->cols[i].name);
	free(sc->cols);
	free(sc->pk);
	free(sc->defs);
	free(sc);
}

static void
plan_column(const struct cdc_types *types, struct pqs_col *c, struct pq_coldef *d)
{
	struct cdc_typedesc td;

	types_resolve(types, c->typoid, &td);
	c->kind = V_STRING;
	switch (td.kind) {
	case CDC_T_INT:
		if (td.base_oid == CDC_OID_INT2)
			c->kind = V_INT16;
		else if (td.base_oid == CDC_OID_INT4)
			c->kind = V_INT32;
		else if (td.base_oid == CDC_OID_INT8)
			c->kind = V_INT64;
		break;   /* oid: its text (SPEC §4 lists no integer type for it) */
	case CDC_T_FLOAT:
		c->kind = td.base_oid == CDC_OID_FLOAT4 ? V_FLOAT : V_DOUBLE;
		break;
	case CDC_T_NUMERIC:
		if (c->typmod >= 4) {
			/* numeric typmod = ((precision << 16) | (scale & 0x7ff)) + 4, the scale an
			 * 11-bit signed number since PostgreSQL 15 */
			int32_t m = c->typmod - 4;
			int p = (m >> 16) & 0xffff, sc = m & 0x7ff;

			if (sc & 0x400)
				sc -= 0x800;
			if (p >= 1 && p <= 38 && sc >= 0 && sc <= p) {
				c->precision = p;
				c->scale = sc;
				c->kind = p <= 9 ? V_DEC32 : p <= 18 ? V_DEC64 : V_DECFLBA;
				c->flba = pqc_decimal_bytes(p);
			}
		}
		break;
	case CDC_T_BOOL:
		c->kind = V_BOOL;
		break;
	case CDC_T_BYTEA:
		c->kind = V_BYTEA;
		break;
	case CDC_T_DATE:
		c->kind = V_DATE;
		break;
	case CDC_T_TIME:
		if (td.base_oid == CDC_OID_TIME)
			c->kind = V_TIME;
		break;
	case CDC_T_TIMESTAMP:
		c->kind = V_TS;
		break;
	case CDC_T_TIMESTAMPTZ:
		c->kind = V_TSTZ;
		break;
	case CDC_T_JSON:
		c->kind = V_JSON;
		break;
	case CDC_T_UUID:
		c->kind = V_UUID;
		break;
	case CDC_T_INTERVAL:
		c->kind = V_INTERVAL;
		break;
	default:
		break;
	}
	memset(d, 0, sizeof(*d));
	d->name = c->name;
	switch (c->kind) {
	case V_STRING:
	case V_INTERVAL: d->type = PQ_BYTE_ARRAY; d->ltype = PQ_LT_STRING; break;
	case V_INT16: d->type = PQ_INT32; d->ltype = PQ_LT_INT16; break;
	case V_INT32: d->type = PQ_INT32; break;
	case V_INT64: d->type = PQ_INT64; break;
	case V_FLOAT: d->type = PQ_FLOAT; break;
	case V_DOUBLE: d->type = PQ_DOUBLE; break;
	case V_BOOL: d->type = PQ_BOOLEAN; break;
	case V_DEC32: d->type = PQ_INT32; d->ltype = PQ_LT_DECIMAL; break;
	case V_DEC64: d->type = PQ_INT64; d->ltype = PQ_LT_DECIMAL; break;
	case V_DECFLBA:
		d->type = PQ_FLBA;
		d->ltype = PQ_LT_DECIMAL;
		d->type_length = c->flba;
		break;
	case V_DATE: d->type = PQ_INT32; d->ltype = PQ_LT_DATE; break;
	case V_TIME: d->type = PQ_INT64; d->ltype = PQ_LT_TIME_US; break;
	case V_TS: d->type = PQ_INT64; d->ltype = PQ_LT_TIMESTAMP_US; break;
	case V_TSTZ: d->type = PQ_INT64; d->ltype = PQ_LT_TIMESTAMPTZ_US; break;
	case V_UUID: d->type = PQ_FLBA; d->ltype = PQ_LT_UUID; d->type_length = 16; break;
	case V_BYTEA: d->type = PQ_BYTE_ARRAY; break;
	case V_JSON: d->type = PQ_BYTE_ARRAY; d->ltype = PQ_LT_JSON; break;
	}
	d->precision = c->precision;
	d->scale = c->scale;
}

static struct pqs_schema *
schema_from_rel(const struct pq_sink *s, const struct cdc_rel *rel)
{
	struct pqs_schema *sc = calloc(1, sizeof(*sc));
	struct pq_buf pk = { 0 };
	static const struct pq_coldef meta[NMETA] = {
		{ .name = "_pgcdc_op", .type = PQ_BYTE_ARRAY, .ltype = PQ_LT_STRING, .required = true },
		{ .name = "_pgcdc_lsn", .type = PQ_INT64, .required = true },
		{ .name = "_pgcdc_commit_lsn", .type = PQ_INT64, .required = true },
		{ .name = "_pgcdc_xid", .type = PQ_INT64, .required = true },
		{ .name = "_pgcdc_commit_ts", .type = PQ_INT64, .ltype = PQ_LT_TIMESTAMPTZ_US,
		  .required = true },
		{ .name = "_pgcdc_unchanged", .type = PQ_BYTE_ARRAY, .ltype = PQ_LT_STRING },
	};

	if (sc == NULL)
		return NULL;
	sc->refs = 1;
	sc->ncols = rel->ncols;
	sc->cols = calloc((size_t) rel->ncols + 1, sizeof(*sc->cols));
	sc->defs = calloc((size_t) rel->ncols + NMETA, sizeof(*sc->defs));
	if (sc->cols == NULL || sc->defs == NULL)
		goto oom;
	for (int i = 0; i < rel->ncols; i++) {
		struct pqs_col *c = &sc->cols[i];

		c->name = strdup(rel->cols[i].name);
		if (c->name == NULL) {
			sc->ncols = i;
			goto oom;
		}
		c->typoid = rel->cols[i].type_oid;
		c->typmod = rel->cols[i].typmod;
		c->pk = rel->cols[i].pk;
		plan_column(s->types, c, &sc->defs[i]);
		if (c->pk) {
			if (pk.len > 0)
				pq_buf_put_u8(&pk, ',');
			pq_buf_put(&pk, c->name, strlen(c->name));
		}
	}
	memcpy(sc->defs + rel->ncols, meta, sizeof(meta));
	pq_buf_put_u8(&pk, '\0');
	if (pk.oom)
		goto oom;
	sc->pk = (char *) pk.p;
	return sc;
oom:
	pq_buf_free(&pk);
	schema_unref(sc);
	return NULL;
}

static bool
schema_equal(const struct pqs_schema *a, const struct pqs_schema *b)
{
	if (a == NULL || b == NULL || a->ncols != b->ncols)
		return false;
	for (int i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) != 0 || a->cols[i].typoid != b->cols[i].typoid ||
		    a->cols[i].typmod != b->cols[i].typmod || a->cols[i].pk != b->cols[i].pk)
			return false;
	return true;
}

/* ---- tables ---- */

static uint64_t
key_hash(const char *k)
{
	return pq_hash(k, strlen(k));
}

static struct pqs_table *
table_by_key(struct pq_sink *s, const char *key)
{
	uint64_t h = key_hash(key);
	struct pqs_table *t;

	for (t = s->buckets[h & (s->nbuckets - 1)]; t != NULL; t = t->hnext)
		if (strcmp(t->key, key) == 0)
			return t;
	if (s->ntables >= s->nbuckets) {
		size_t nb = s->nbuckets * 2;
		struct pqs_table **nbk = calloc(nb, sizeof(*nbk));

		if (nbk == NULL)
			return NULL;
		for (size_t i = 0; i < s->nbuckets; i++) {
			while (s->buckets[i] != NULL) {
				struct pqs_table *x = s->buckets[i];

				s->buckets[i] = x->hnext;
				x->hnext = nbk[key_hash(x->key) & (nb - 1)];
				nbk[key_hash(x->key) & (nb - 1)] = x;
			}
		}
		free(s->buckets);
		s->buckets = nbk;
		s->nbuckets = nb;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->key = strdup(key);
	t->dir = xprintf("%s/%s", s->top, key);
	if (t->key == NULL || t->dir == NULL) {
		free(t->key);
		free(t->dir);
		free(t);
		return NULL;
	}
	t->hnext = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = t;
	s->ntables++;
	return t;
}

/* The table of rel, with its column set brought up to date. */
static struct pqs_table *
table_for(struct pq_sink *s, const struct cdc_rel *rel)
{
	struct pqs_table *t;

	if (rel == s->cache_rel && rel->version == s->cache_ver)
		return s->cache_t;
	s->key.len = 0;
	put_escaped(&s->key, rel->schema);
	pq_buf_put_u8(&s->key, '.');
	put_escaped(&s->key, rel->name);
	pq_buf_put_u8(&s->key, '\0');
	if (s->key.oom || (t = table_by_key(s, (const char *) s->key.p)) == NULL)
		return NULL;
	if (t->qualname == NULL && (t->qualname = xprintf("%s.%s", rel->schema, rel->name)) == NULL)
		return NULL;
	if (t->rel != rel || t->relver != rel->version || t->schema == NULL) {
		struct pqs_schema *sc = schema_from_rel(s, rel);

		if (sc == NULL)
			return NULL;
		if (t->file != NULL && schema_equal(sc, t->file->schema)) {
			schema_unref(sc);
			sc = t->file->schema;   /* back to the open file's columns */
			sc->refs++;
		} else if (schema_equal(sc, t->schema)) {
			schema_unref(sc);
			sc = t->schema;
			sc->refs++;
		}
		schema_unref(t->schema);
		t->schema = sc;
		t->rel = rel;
		t->relver = rel->version;
	}
	s->cache_rel = rel;
	s->cache_ver = rel->version;
	s->cache_t = t;
	return t;
}

static int
touch(struct pq_sink *s, struct pqs_table *t)
{
	if (t->touched_serial == s->txn_serial)
		return 0;
	if (s->ntouched == s->touchedcap) {
		int ncap = s->touchedcap ? s->touchedcap * 2 : 16;
		struct pqs_table **nt = realloc(s->touched, (size_t) ncap * sizeof(*nt));

		if (nt == NULL)
			return -1;
		s->touched = nt;
		s->touchedcap = ncap;
	}
	s->touched[s->ntouched++] = t;
	t->touched_serial = s->txn_serial;
	return 0;
}

/* ---- files ---- */

static void
file_unlink_list(struct pqs_file *f)
{
	f->prev->next = f->next;
	f->next->prev = f->prev;
}

static void
file_free(struct pqs_file *f)
{
	pq_writer_free(f->w);
	if (f->fd >= 0)
		close(f->fd);
	schema_unref(f->schema);
	free(f->dir);
	free(f->tmp);
	free(f->final);
	free(f);
}

/* Forget an uncommitted file: delete its .tmp. */
static void
file_discard(struct pq_sink *s, struct pqs_file *f)
{
	if (!f->renamed && unlink(f->tmp) != 0 && errno != ENOENT)
		log_warning("parquet", "cannot remove %s: %s", f->tmp, strerror(errno));
	file_unlink_list(f);
	if (f->t->file == f)
		f->t->file = NULL;
	file_free(f);
	(void) s;
}

static int
file_open(struct pq_sink *s, struct pqs_table *t, struct cdc_err *err)
{
	struct pqs_file *f;
	char date[40];
	int rc;

	if (throttled(s, err))
		return CDC_ERR_AGAIN;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return oom(s, err);
	f->fd = -1;
	f->t = t;
	f->schema = t->schema;
	t->schema->refs++;
	f->date = s->txn_date;
	date_string(f->date, date);
	f->dir = xprintf("%s/date=%s", t->dir, date);
	f->snapshot = s->txn.snapshot;
	f->first_lsn = f->last_lsn = s->txn.commit_lsn;
	if (f->snapshot) {
		f->snap_lsn = s->txn.commit_lsn;
		f->snap_id = s->txn.commit_ts_us;
		f->final = xprintf("%s/" LSN_HEX "-" LSN_HEX "-snapshot-%" PRId64 "-%06d.parquet", f->dir,
		                   f->snap_lsn, f->snap_lsn, f->snap_id, t->snap_seq + 1);
		f->tmp = f->final ? xprintf("%s.tmp", f->final) : NULL;
	} else {
		f->tmp = xprintf("%s/" LSN_HEX "-%ld-%" PRIu64 ".parquet.tmp", f->dir, f->first_lsn,
		                 (long) getpid(), ++s->tmp_seq);
	}
	if (f->dir == NULL || f->tmp == NULL) {
		file_free(f);
		return oom(s, err);
	}
	if (make_dir(t->dir) != 0 || make_dir(f->dir) != 0) {
		rc = io_errno(s, errno, "create directory", f->dir, err);
		file_free(f);
		return rc;
	}
	f->fd = open(f->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		rc = io_errno(s, errno, "create", f->tmp, err);
		file_free(f);
		return rc;
	}
	if (flock(f->fd, LOCK_EX | LOCK_NB) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: %s is in use by another process", f->tmp);
		file_free(f);
		return fail(s, err);
	}
	f->w = pq_writer_new(f->schema->defs, f->schema->ncols + NMETA, &s->wopts, f->fd, f->tmp, err);
	if (f->w == NULL) {
		unlink(f->tmp);
		file_free(f);
		return fail(s, err);
	}
	if (f->snapshot)
		t->snap_seq++;
	f->prev_end = s->cur_prev;
	f->opened_ms = mono_ms();
	f->created_serial = s->txn_serial;
	f->next = &s->files;
	f->prev = s->files.prev;
	s->files.prev->next = f;
	s->files.prev = f;
	t->file = f;
	return io_result(s, 0, err);
}

/* Footer, fsync (the writer), then rename (not yet the directory fsync). */
static int
file_finish(struct pq_sink *s, struct pqs_file *f, struct cdc_err *err)
{
	char first[32], last[32], *final = NULL;
	int rc;

	if (!f->finished) {
		struct pq_kv kv[6];
		int nkv = 0;

		snprintf(first, sizeof(first), CDC_LSN_FMT, CDC_LSN_ARGS(f->first_lsn));
		snprintf(last, sizeof(last), CDC_LSN_FMT, CDC_LSN_ARGS(f->last_lsn));
		kv[nkv++] = (struct pq_kv) { "pgcdc.version", PGCDC_VERSION };
		kv[nkv++] = (struct pq_kv) { "pgcdc.table", f->t->qualname ? f->t->qualname : f->t->key };
		kv[nkv++] = (struct pq_kv) { "pgcdc.primary_key", f->schema->pk };
		kv[nkv++] = (struct pq_kv) { "pgcdc.first_lsn", first };
		kv[nkv++] = (struct pq_kv) { "pgcdc.last_lsn", last };
		if (f->snapshot)
			kv[nkv++] = (struct pq_kv) { "pgcdc.snapshot", "true" };
		rc = pq_writer_finish(f->w, kv, nkv, err);
		if (rc != 0)
			return io_result(s, rc, err);
		f->finished = true;
	}
	if (!f->renamed) {
		if (f->final == NULL) {
			final = stream_name(s, f->dir, f->first_lsn, f->last_lsn, 0);
			if (final == NULL)
				return oom(s, err);
			f->final = final;
		}
		if (rename(f->tmp, f->final) != 0)
			return io_errno(s, errno, "rename to", f->final, err);
		f->renamed = true;
	}
	return 0;
}

static void
file_done(struct pq_sink *s, struct pqs_file *f)
{
	log_debug("parquet", "committed %s (%" PRId64 " rows)", f->final, pq_writer_rows(f->w));
	file_unlink_list(f);
	if (f->t->file == f)
		f->t->file = NULL;
	file_free(f);
	(void) s;
}

static int
file_close(struct pq_sink *s, struct pqs_file *f, struct cdc_err *err)
{
	int rc;

	if (throttled(s, err))
		return CDC_ERR_AGAIN;
	if ((rc = file_finish(s, f, err)) != 0)
		return rc;
	if (cdc_fsync_dir(f->dir) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: fsync of directory %s failed: %s", f->dir,
		         strerror(errno));
		return fail(s, err);
	}
	file_done(s, f);
	return io_result(s, 0, err);
}

/* Close a table's frozen files and their successor together (see DESIGN). */
static int
group_close(struct pq_sink *s, struct pqs_table *t, struct cdc_err *err)
{
	struct pqs_file *g[MAX_FROZEN + 1];
	char *jtmp = NULL, *jpath = NULL;
	struct pq_buf jb = { 0 };
	int n = 0, rc = 0, jfd = -1;

	if (throttled(s, err))
		return CDC_ERR_AGAIN;
	for (int i = 0; i < t->nfrozen; i++)
		g[n++] = t->frozen[i];
	if (t->file != NULL && t->file->group)
		g[n++] = t->file;
	/* 1. every file complete and fsynced under its .tmp name */
	for (int i = 0; i < n; i++) {
		if (g[i]->finished)
			continue;
		g[i]->renamed = true;   /* finish only: the renames come below */
		rc = file_finish(s, g[i], err);
		g[i]->renamed = false;
		if (rc != 0)
			return rc;
	}
	for (int i = 0; i < n; i++) {
		/* names are unique within the group: the files may share first and last LSN */
		for (int k = 0; g[i]->final == NULL; k++) {
			bool taken = false;

			g[i]->final = stream_name(s, g[i]->dir, g[i]->first_lsn, g[i]->last_lsn, k);
			if (g[i]->final == NULL)
				return oom(s, err);
			for (int j = 0; j < i; j++)
				taken = taken || strcmp(g[j]->final, g[i]->final) == 0;
			if (taken || access(g[i]->final, F_OK) == 0) {
				free(g[i]->final);
				g[i]->final = NULL;
			}
		}
	}
	/* 2. the journal: which renames make up the commit */
	jtmp = xprintf("%s/.pgcdc-commit-%ld-%" PRIu64 ".jtmp", s->top, (long) getpid(), ++s->tmp_seq);
	jpath = jtmp ? strndup(jtmp, strlen(jtmp) - 5) : NULL;
	if (jpath != NULL) {
		char *j2 = xprintf("%s.journal", jpath);

		free(jpath);
		jpath = j2;
	}
	if (jtmp == NULL || jpath == NULL) {
		rc = oom(s, err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		pq_buf_put(&jb, g[i]->tmp + strlen(s->top) + 1, strlen(g[i]->tmp) - strlen(s->top) - 1);
		pq_buf_put_u8(&jb, '\t');
		pq_buf_put(&jb, g[i]->final + strlen(s->top) + 1, strlen(g[i]->final) - strlen(s->top) - 1);
		pq_buf_put_u8(&jb, '\n');
	}
	if (jb.oom) {
		rc = oom(s, err);
		goto out;
	}
	jfd = open(jtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (jfd < 0 || flock(jfd, LOCK_EX) != 0 || write(jfd, jb.p, jb.len) != (ssize_t) jb.len) {
		rc = io_errno(s, errno ? errno : ENOSPC, "write", jtmp, err);
		unlink(jtmp);
		goto out;
	}
	if (fsync(jfd) != 0 || rename(jtmp, jpath) != 0 || cdc_fsync_dir(s->top) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot commit journal %s: %s", jpath, strerror(errno));
		unlink(jtmp);
		rc = fail(s, err);
		goto out;
	}
	/* 3. the renames: from here on the journal completes them after a crash */
	for (int i = 0; i < n; i++) {
		if (!g[i]->renamed && rename(g[i]->tmp, g[i]->final) != 0) {
			cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot rename %s: %s", g[i]->tmp, strerror(errno));
			rc = fail(s, err);
			goto out;
		}
		g[i]->renamed = true;
	}
	for (int i = 0; i < n; i++)
		if (cdc_fsync_dir(g[i]->dir) != 0) {
			cdc_errf(err, CDC_ERR_IO, "parquet sink: fsync of directory %s failed: %s", g[i]->dir,
			         strerror(errno));
			rc = fail(s, err);
			goto out;
		}
	if (unlink(jpath) != 0 || cdc_fsync_dir(s->top) != 0)
		log_warning("parquet", "cannot remove journal %s: %s", jpath, strerror(errno));
	for (int i = 0; i < n; i++)
		file_done(s, g[i]);
	t->nfrozen = 0;
	rc = io_result(s, 0, err);
out:
	if (jfd >= 0)
		close(jfd);
	pq_buf_free(&jb);
	free(jtmp);
	free(jpath);
	return rc;
}

/* Remove the marker of a finished (or abandoned) snapshot. */
static int
snapshot_end(struct pq_sink *s, struct cdc_err *err)
{
	if (unlink(s->snap_marker) != 0 && errno != ENOENT) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot remove %s: %s", s->snap_marker,
		         strerror(errno));
		return fail(s, err);
	}
	if (cdc_fsync_dir(s->top) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: fsync of directory %s failed: %s", s->top,
		         strerror(errno));
		return fail(s, err);
	}
	close(s->snap_fd);
	s->snap_fd = -1;
	free(s->snap_marker);
	s->snap_marker = NULL;
	s->snap_active = s->snap_finishing = false;
	return 0;
}

/* Close what is due and write full row groups.  Returns 0, AGAIN or an error. */
static int
do_work(struct pq_sink *s, struct cdc_err *err)
{
	int rc;

	if (!s->work)
		return 0;
	if (throttled(s, err))
		return CDC_ERR_AGAIN;
again:
	for (struct pqs_file *f = s->files.next, *next; f != &s->files; f = next) {
		next = f->next;
		if (f->txn_rows > 0)
			continue;       /* holds the open transaction's rows */
		if (f->close_pending && f->group) {
			if ((rc = group_close(s, f->t, err)) != 0)
				return rc;
			goto again;     /* several files went */
		}
		if (f->close_pending && !f->frozen) {
			if ((rc = file_close(s, f, err)) != 0)
				return rc;
		} else if (!f->close_pending && pq_writer_full(f->w)) {
			if ((rc = io_result(s, pq_writer_flush(f->w, err), err)) != 0)
				return rc;
		}
	}
	if (s->snap_finishing) {
		for (struct pqs_file *f = s->files.next; f != &s->files; f = f->next)
			if (f->snapshot)
				return 0;   /* still open (a transaction of it is in progress) */
		if ((rc = snapshot_end(s, err)) != 0)
			return rc;
	}
	s->work = false;
	return 0;
}

/* ---- recovery and purges ---- */

struct purge {
	cdc_lsn lsn;
	int64_t id;
};

static bool
purged(const struct purge *p, int np, const char *name)
{
	cdc_lsn lsn;
	int64_t id;

	if (!parse_snapshot_name(name, &lsn, &id))
		return false;
	for (int i = 0; i < np; i++)
		if (p[i].lsn == lsn && p[i].id == id)
			return true;
	return false;
}

/* Walk <top>/<table>/date=*: drop stale .tmp files (clean_tmp) and files of purged
 * snapshots; note the high-water mark of every table (hwm). */
static int
scan_tree(struct pq_sink *s, bool clean_tmp, bool hwm, const struct purge *p, int np,
          int *ntmp, int *nsnap, struct cdc_err *err)
{
	DIR *top = opendir(s->top);
	struct dirent *te;

	if (top == NULL) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot read directory %s: %s", s->top, strerror(errno));
		return fail(s, err);
	}
	while ((te = readdir(top)) != NULL) {
		char *tdir;
		DIR *td;
		struct dirent *de;
		struct pqs_table *t = NULL;

		if (te->d_name[0] == '.' || strchr(te->d_name, '.') == NULL)
			continue;
		if ((tdir = xprintf("%s/%s", s->top, te->d_name)) == NULL)
			goto oom;
		td = opendir(tdir);
		if (td == NULL) {
			free(tdir);
			continue;   /* not a directory */
		}
		if (hwm && (t = table_by_key(s, te->d_name)) == NULL) {
			closedir(td);
			free(tdir);
			goto oom;
		}
		while ((de = readdir(td)) != NULL) {
			char *ddir;
			DIR *dd;
			struct dirent *fe;
			bool removed = false;

			if (strncmp(de->d_name, "date=", 5) != 0)
				continue;
			if ((ddir = xprintf("%s/%s", tdir, de->d_name)) == NULL || (dd = opendir(ddir)) == NULL) {
				free(ddir);
				continue;
			}
			while ((fe = readdir(dd)) != NULL) {
				cdc_lsn last;
				unsigned ep;
				char *path;
				int lfd;

				if (fe->d_name[0] == '.')
					continue;
				if (hwm && parse_stream_name(fe->d_name, &last, &ep)) {
					/* files of earlier epochs are history: they do not skip
					 * anything the server sends now */
					if (ep == s->epoch && last > t->hwm)
						t->hwm = t->hwm_open = last;
					continue;
				}
				if (!(clean_tmp && ends_with(fe->d_name, ".parquet.tmp")) &&
				    !purged(p, np, fe->d_name))
					continue;
				if ((path = xprintf("%s/%s", ddir, fe->d_name)) == NULL)
					continue;
				if (stale(path, &lfd) || !ends_with(fe->d_name, ".tmp")) {
					if (unlink(path) == 0) {
						removed = true;
						if (purged(p, np, fe->d_name))
							(*nsnap)++;
						else
							(*ntmp)++;
					} else {
						log_warning("parquet", "cannot remove %s: %s", path, strerror(errno));
					}
				}
				if (lfd >= 0)
					close(lfd);
				free(path);
			}
			closedir(dd);
			if (removed && cdc_fsync_dir(ddir) != 0)
				log_warning("parquet", "fsync of %s failed: %s", ddir, strerror(errno));
			free(ddir);
		}
		closedir(td);
		free(tdir);
	}
	closedir(top);
	return 0;
oom:
	closedir(top);
	return oom(s, err);
}

/* Whether p is "<table dir>/date=YYYY-MM-DD/<file>" with plain names: no "." or ".."
 * component, no leading "/" or ".", nothing deeper.  Sets *dirlen to the length of the
 * "<table dir>/date=..." part. */
static bool
journal_path_ok(const char *p, const char *suffix, size_t *dirlen)
{
	const char *s1 = strchr(p, '/'), *s2, *file;

	if (p[0] == '\0' || p[0] == '.' || p[0] == '/' || s1 == NULL)
		return false;
	s2 = strchr(s1 + 1, '/');
	if (s2 == NULL || s2 - s1 - 1 != 15 || strncmp(s1 + 1, "date=", 5) != 0)
		return false;
	for (const char *d = s1 + 6; d < s2; d++)
		if (!((*d >= '0' && *d <= '9') || *d == '-'))
			return false;
	file = s2 + 1;
	if (file[0] == '\0' || file[0] == '.' || strchr(file, '/') != NULL || !ends_with(file, suffix))
		return false;
	*dirlen = (size_t) (s2 - p);
	return true;
}

/* Complete the renames of a commit journal left by a crash.  An entry must rename a
 * .parquet.tmp to a .parquet in the same table and date directory, both plain names
 * (the only renames a commit makes); anything else is refused and logged, so a
 * damaged or planted journal cannot move files in or out of the directory. */
static void
roll_forward(struct pq_sink *s, const char *jpath)
{
	FILE *f = fopen(jpath, "r");
	char line[8192];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tab = strchr(line, '\t'), *nl, *from, *to;

		if (tab == NULL || (nl = strchr(tab, '\n')) == NULL)
			continue;
		*tab = *nl = '\0';
		{
			size_t fl = 0, tl = 0;

			if (!journal_path_ok(line, ".parquet.tmp", &fl) ||
			    !journal_path_ok(tab + 1, ".parquet", &tl) || fl != tl ||
			    strncmp(line, tab + 1, fl) != 0) {
				log_warning("parquet", "commit journal %s: refusing entry \"%.200s\" -> "
				            "\"%.200s\": not a file of one table's directory", jpath, line,
				            tab + 1);
				continue;
			}
		}
		from = xprintf("%s/%s", s->top, line);
		to = xprintf("%s/%s", s->top, tab + 1);
		if (from != NULL && to != NULL && access(from, F_OK) == 0) {
			if (rename(from, to) != 0)
				log_warning("parquet", "cannot complete commit %s -> %s: %s", from, to,
				            strerror(errno));
			else {
				char *dir = parent_of(to);

				if (dir != NULL)
					cdc_fsync_dir(dir);
				free(dir);
				log_info("parquet", "completed the interrupted commit of %s", to);
			}
		}
		free(from);
		free(to);
	}
	fclose(f);
}

static int
recover(struct pq_sink *s, struct cdc_err *err)
{
	DIR *d = opendir(s->top);
	struct dirent *e;
	struct purge *p = NULL;
	char **markers = NULL;
	int np = 0, ntmp = 0, nsnap = 0, rc;

	if (d == NULL) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot read directory %s: %s", s->top, strerror(errno));
		return fail(s, err);
	}
	while ((e = readdir(d)) != NULL) {
		char *path;
		int lfd;

		if (strncmp(e->d_name, ".pgcdc-", 7) != 0)
			continue;
		if ((path = xprintf("%s/%s", s->top, e->d_name)) == NULL)
			continue;
		if (!stale(path, &lfd)) {
			free(path);
			continue;
		}
		if (ends_with(e->d_name, ".journal")) {
			roll_forward(s, path);
			unlink(path);
		} else if (ends_with(e->d_name, ".jtmp")) {
			unlink(path);
		} else if (ends_with(e->d_name, ".inprogress") &&
		           strncmp(e->d_name, ".pgcdc-snapshot-", 16) == 0 && strlen(e->d_name) > 16 + 17) {
			struct purge *np2 = realloc(p, (size_t) (np + 1) * sizeof(*p));
			char **nm = realloc(markers, (size_t) (np + 1) * sizeof(*markers));

			if (np2 != NULL)
				p = np2;
			if (nm != NULL)
				markers = nm;
			if (np2 != NULL && nm != NULL) {
				p[np].lsn = strtoull(e->d_name + 16, NULL, 16);
				p[np].id = strtoll(e->d_name + 16 + 17, NULL, 10);
				markers[np++] = path;
				path = NULL;
			}
		}
		close(lfd);
		free(path);
	}
	closedir(d);
	rc = scan_tree(s, true, true, p, np, &ntmp, &nsnap, err);
	for (int i = 0; i < np; i++) {
		if (rc == 0) {
			log_warning("parquet", "snapshot at " CDC_LSN_FMT " was interrupted: removed its files",
			            CDC_LSN_ARGS(p[i].lsn));
			unlink(markers[i]);
		}
		free(markers[i]);
	}
	free(markers);
	free(p);
	if (rc != 0)
		return rc;
	cdc_fsync_dir(s->top);
	if (ntmp > 0 || nsnap > 0)
		log_info("parquet", "%s: removed %d unfinished .tmp file(s) and %d file(s) of "
		         "interrupted snapshots", s->top, ntmp, nsnap);
	return 0;
}

/* An unfinished snapshot gives way to a new one: its files and marker go. */
static int
snapshot_abandon(struct pq_sink *s, struct cdc_err *err)
{
	struct purge p = { s->snap_lsn, s->snap_id };
	int ntmp = 0, nsnap = 0, rc;

	for (struct pqs_file *f = s->files.next, *next; f != &s->files; f = next) {
		next = f->next;
		if (f->snapshot && f->txn_rows == 0 && !f->frozen)
			file_discard(s, f);
	}
	if ((rc = scan_tree(s, false, false, &p, 1, &ntmp, &nsnap, err)) != 0)
		return rc;
	log_warning("parquet", "snapshot at " CDC_LSN_FMT " was not finished: removed %d of its "
	            "files", CDC_LSN_ARGS(s->snap_lsn), nsnap);
	return snapshot_end(s, err);
}

/* Before a snapshot row: the in-progress marker exists. */
static int
snapshot_prepare(struct pq_sink *s, struct cdc_err *err)
{
	char line[64];
	int fd, n;

	if (s->snap_active && s->snap_lsn == s->txn.commit_lsn && s->snap_id == s->txn.commit_ts_us)
		return 0;
	if (s->snap_active && s->snap_finishing) {
		/* the previous snapshot is finishing: its files close first */
		int rc = do_work(s, err);

		if (rc != 0)
			return rc;
		if (s->snap_active)
			return cdc_errf(err, CDC_ERR_AGAIN, "parquet sink: the previous snapshot is still "
			                "being committed");
	}
	if (s->snap_active) {
		int rc = snapshot_abandon(s, err);

		if (rc != 0)
			return rc;
	}
	if (throttled(s, err))
		return CDC_ERR_AGAIN;
	free(s->snap_marker);
	s->snap_marker = xprintf("%s/.pgcdc-snapshot-" LSN_HEX "-%" PRId64 ".inprogress", s->top,
	                         s->txn.commit_lsn, s->txn.commit_ts_us);
	if (s->snap_marker == NULL)
		return oom(s, err);
	fd = open(s->snap_marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_errno(s, errno, "create", s->snap_marker, err);
	n = snprintf(line, sizeof(line), CDC_LSN_FMT " %" PRId64 "\n", CDC_LSN_ARGS(s->txn.commit_lsn),
	             s->txn.commit_ts_us);
	if (flock(fd, LOCK_EX) != 0 || write(fd, line, (size_t) n) != n) {
		int e = errno ? errno : ENOSPC;

		close(fd);
		unlink(s->snap_marker);
		return io_errno(s, e, "write", s->snap_marker, err);
	}
	if (fsync(fd) != 0 || cdc_fsync_dir(s->top) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: fsync of %s failed: %s", s->snap_marker,
		         strerror(errno));
		close(fd);
		return fail(s, err);
	}
	s->snap_fd = fd;
	s->snap_active = true;
	s->snap_lsn = s->txn.commit_lsn;
	s->snap_id = s->txn.commit_ts_us;
	s->snap_prev = s->cur_prev;
	return 0;
}

/* ---- rows ---- */

static int
bad_value(struct pq_sink *s, const struct pqs_file *f, const struct pqs_col *c,
          const struct cdc_value *v, struct cdc_err *err)
{
	cdc_errf(err, CDC_ERR_PROTO, "parquet sink: %s.%s: cannot convert \"%.*s\" to the column's "
	         "Parquet type", f->t->qualname, c->name, (int) (v->len > 80 ? 80 : v->len), v->data);
	return fail(s, err);
}

static int
put_value(struct pq_sink *s, struct pqs_file *f, int i, const struct cdc_value *v,
          struct cdc_err *err)
{
	const struct pqs_col *c = &f->schema->cols[i];
	struct pq_writer *w = f->w;
	const char *d = v->data;
	size_t n = v->len;

	switch (c->kind) {
	case V_STRING:
	case V_JSON:
		pq_put_bytes(w, i, d, n);
		return 0;
	case V_INTERVAL: {
		/* the session prints ISO 8601 (the JSON records' form); SPEC §4 wants the
		 * type's text output, as IntervalStyle = postgres (the default) prints it */
		char txt[160];

		if (pqc_interval(d, n, txt, sizeof(txt)) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_bytes(w, i, txt, strlen(txt));
		return 0;
	}
	case V_INT16:
	case V_INT32: {
		int64_t x;

		if (pqc_int(d, n, c->kind == V_INT16 ? INT16_MIN : INT32_MIN,
		            c->kind == V_INT16 ? INT16_MAX : INT32_MAX, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_i32(w, i, (int32_t) x);
		return 0;
	}
	case V_INT64: {
		int64_t x;

		if (pqc_int(d, n, INT64_MIN, INT64_MAX, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_i64(w, i, x);
		return 0;
	}
	case V_FLOAT: {
		float x;

		if (pqc_float(d, n, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_float(w, i, x);
		return 0;
	}
	case V_DOUBLE: {
		double x;

		if (pqc_double(d, n, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_double(w, i, x);
		return 0;
	}
	case V_BOOL: {
		bool x;

		if (pqc_bool(d, n, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_bool(w, i, x);
		return 0;
	}
	case V_DEC32:
	case V_DEC64:
	case V_DECFLBA: {
		pqc_i128 x;
		int r = pqc_decimal(d, n, c->scale, &x);

		if (r < 0)
			return bad_value(s, f, c, v, err);
		if (r == 1) {
			/* NaN has no DECIMAL form: null (README "Deviations") */
			s->nan_decimals++;
			pq_put_null(w, i);
		} else if (c->kind == V_DEC32) {
			pq_put_i32(w, i, (int32_t) x);
		} else if (c->kind == V_DEC64) {
			pq_put_i64(w, i, (int64_t) x);
		} else {
			uint8_t be[16];

			pqc_decimal_be(x, be, c->flba);
			pq_put_bytes(w, i, be, (size_t) c->flba);
		}
		return 0;
	}
	case V_DATE: {
		int32_t x;

		if (pqc_date(d, n, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_i32(w, i, x);
		return 0;
	}
	case V_TIME: {
		int64_t x;

		if (pqc_time(d, n, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_i64(w, i, x);
		return 0;
	}
	case V_TS:
	case V_TSTZ: {
		int64_t x;

		if (pqc_timestamp(d, n, c->kind == V_TSTZ, &x) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_i64(w, i, x);
		return 0;
	}
	case V_UUID: {
		uint8_t u[16];

		if (pqc_uuid(d, n, u) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_bytes(w, i, u, 16);
		return 0;
	}
	case V_BYTEA: {
		size_t len;

		s->scratch.len = 0;
		if (pq_buf_reserve(&s->scratch, n / 2 + 1) != 0)
			return oom(s, err);
		if (pqc_bytea(d, n, s->scratch.p, &len) != 0)
			return bad_value(s, f, c, v, err);
		pq_put_bytes(w, i, s->scratch.p, len);
		return 0;
	}
	}
	return bad_value(s, f, c, v, err);
}

static int
put_row(struct pq_sink *s, struct pqs_file *f, const struct cdc_change *ch, struct cdc_err *err)
{
	const struct cdc_tuple *tup = NULL;
	const struct pqs_schema *sc = f->schema;
	struct pq_writer *w = f->w;
	char op = ch->op;
	int rc;

	switch (ch->op) {
	case CDC_OP_CREATE:
	case CDC_OP_UPDATE:
	case CDC_OP_READ:
		tup = ch->new_tuple;
		break;
	case CDC_OP_DELETE:
		tup = ch->old_tuple;   /* the old identity (or whole row with FULL) */
		break;
	default:
		break;                 /* truncate: no values */
	}
	if (tup != NULL && tup->ncols != sc->ncols) {
		cdc_errf(err, CDC_ERR_PROTO, "parquet sink: %s: a row of %d columns for a relation of %d",
		         f->t->qualname, tup->ncols, sc->ncols);
		return fail(s, err);
	}
	s->unchanged.len = 0;
	for (int i = 0; i < sc->ncols; i++) {
		const struct cdc_value *v = tup ? &tup->vals[i] : NULL;

		if (v == NULL || v->kind == CDC_VAL_NULL) {
			pq_put_null(w, i);
		} else if (v->kind == CDC_VAL_UNCHANGED) {
			pq_put_null(w, i);
			if (s->unchanged.len > 0)
				pq_buf_put_u8(&s->unchanged, ',');
			pq_buf_put(&s->unchanged, sc->cols[i].name, strlen(sc->cols[i].name));
		} else if ((rc = put_value(s, f, i, v, err)) != 0) {
			return rc;
		}
	}
	pq_put_bytes(w, sc->ncols, &op, 1);                                 /* _pgcdc_op */
	pq_put_i64(w, sc->ncols + 1, (int64_t) ch->lsn);                   /* _pgcdc_lsn */
	pq_put_i64(w, sc->ncols + 2, (int64_t) s->txn.commit_lsn);         /* _pgcdc_commit_lsn */
	pq_put_i64(w, sc->ncols + 3, (int64_t) s->txn.xid);                /* _pgcdc_xid */
	pq_put_i64(w, sc->ncols + 4, s->txn.commit_ts_us);                 /* _pgcdc_commit_ts */
	if (s->unchanged.len > 0)                                          /* _pgcdc_unchanged */
		pq_put_bytes(w, sc->ncols + 5, s->unchanged.p, s->unchanged.len);
	else
		pq_put_null(w, sc->ncols + 5);
	if (s->unchanged.oom || s->scratch.oom)
		return oom(s, err);
	if ((rc = pq_row_end(w, err)) != 0)
		return fail(s, err);
	f->txn_rows++;
	return 0;
}

/* ---- the sink interface ---- */

static int
broken(const struct pq_sink *s, struct cdc_err *err)
{
	return cdc_errf(err, s->broken, "%s", s->broken_msg);
}

static int
pqs_begin(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;
	int64_t days;

	if (s->broken)
		return broken(s, err);
	if (s->in_txn)
		base->ops->abort(base);   /* a begin without commit: the old one was cut short */
	s->txn = *txn;
	s->in_txn = true;
	s->txn_serial++;
	s->snap_last = false;
	s->close_at_commit = false;
	days = txn->commit_ts_us / INT64_C(86400000000);
	if (txn->commit_ts_us < 0 && txn->commit_ts_us % INT64_C(86400000000) != 0)
		days--;
	s->txn_date = (int32_t) days;
	/* The durable floor below this transaction (its end LSN is not known before its
	 * commit): every transaction handed before it ends at or before its commit
	 * record's start (WAL order), also those of earlier runs, acknowledged already.
	 * Snapshot pseudo-transactions share one LSN (commit = end): they keep the floor
	 * from before the first of them. */
	if (txn->snapshot) {
		if (txn->commit_lsn > s->last_end)
			s->cur_prev = s->last_end;
	} else {
		s->cur_prev = txn->commit_lsn > s->last_end ? txn->commit_lsn : s->last_end;
	}
	return 0;
}

/* Make t->file a file that can take this transaction's next row. */
static int
ensure_file(struct pq_sink *s, struct pqs_table *t, struct cdc_err *err)
{
	struct pqs_file *f = t->file;
	int rc;

	if (f != NULL && (f->schema != t->schema || f->snapshot != s->txn.snapshot ||
	                  f->date != s->txn_date || f->close_pending ||
	                  (f->snapshot && (f->snap_lsn != s->txn.commit_lsn ||
	                                   f->snap_id != s->txn.commit_ts_us)))) {
		if (f->txn_rows > 0) {
			/* the columns changed inside this transaction: see DESIGN */
			if (t->nfrozen == MAX_FROZEN) {
				cdc_errf(err, CDC_ERR_FATAL, "parquet sink: %s changed its columns more than "
				         "%d times in one transaction", t->qualname, MAX_FROZEN);
				return fail(s, err);
			}
			f->frozen = true;
			t->frozen[t->nfrozen++] = f;
			t->file = NULL;
		} else if ((rc = file_close(s, f, err)) != 0) {
			return rc;
		}
	}
	if (t->file == NULL && (rc = file_open(s, t, err)) != 0)
		return rc;
	return 0;
}

static int
pqs_write(struct sink *base, const struct cdc_change *ch, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;
	struct pqs_table *t;
	struct pqs_file *f;
	int rc;

	if (s->broken)
		return broken(s, err);
	if (!s->in_txn) {
		cdc_errf(err, CDC_ERR_FATAL, "parquet sink: a change outside a transaction");
		return fail(s, err);
	}
	if (ch->op == CDC_OP_MESSAGE)
		return 0;       /* files are per table: logical decoding messages have none */
	if ((t = table_for(s, ch->rel)) == NULL)
		return oom(s, err);
	if (!s->txn.snapshot && (s->txn.commit_lsn <= t->hwm ||
	                         (s->txn.dedupe_lsn != 0 && s->txn.dedupe_lsn <= t->hwm_open))) {
		s->skipped_rows++;      /* already in a committed file (a backfill chunk: its first read) */
		return 0;
	}
	if (s->txn.snapshot && (rc = snapshot_prepare(s, err)) != 0)
		return rc;
	if ((rc = ensure_file(s, t, err)) != 0)
		return rc;
	f = t->file;
	if (f->txn_serial != s->txn_serial) {
		if (touch(s, t) != 0)
			return oom(s, err);
		pq_writer_mark(f->w);
		f->txn_serial = s->txn_serial;
		f->txn_rows = 0;
	}
	if (pq_writer_full(f->w)) {
		if (throttled(s, err))
			return CDC_ERR_AGAIN;
		if ((rc = io_result(s, pq_writer_flush(f->w, err), err)) != 0)
			return rc;
	}
	if ((rc = put_row(s, f, ch, err)) != 0)
		return rc;
	if (ch->snapshot == CDC_SNAP_LAST)
		s->snap_last = true;
	base->records++;
	return 0;
}

static bool
rotate_due(const struct pq_sink *s, const struct pqs_file *f, int64_t now)
{
	const struct sink_parquet_cfg *c = s->cfg;

	return (c->rotate_rows > 0 && pq_writer_rows(f->w) >= c->rotate_rows) ||
	       (c->rotate_bytes > 0 && pq_writer_bytes(f->w) >= c->rotate_bytes) ||
	       (c->rotate_interval_ms > 0 && now - f->opened_ms >= c->rotate_interval_ms);
}

static int
pqs_commit(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;
	int64_t now = mono_ms();

	if (s->broken)
		return broken(s, err);
	if (s->in_txn) {
		for (int i = 0; i < s->ntouched; i++) {
			struct pqs_table *t = s->touched[i];

			for (int k = 0; k <= t->nfrozen; k++) {
				struct pqs_file *f = k < t->nfrozen ? t->frozen[k] : t->file;

				if (f == NULL || f->txn_serial != s->txn_serial)
					continue;
				f->last_lsn = txn->commit_lsn;
				f->txn_rows = 0;
				f->created_serial = 0;
				pq_writer_release(f->w);
			}
			if (!txn->snapshot && txn->commit_lsn > t->hwm)
				t->hwm = txn->commit_lsn;
			if (t->nfrozen > 0) {
				for (int k = 0; k < t->nfrozen; k++)
					t->frozen[k]->close_pending = t->frozen[k]->group = true;
				if (t->file != NULL)
					t->file->close_pending = t->file->group = true;
				s->work = true;
			} else if (t->file != NULL && (s->close_at_commit || rotate_due(s, t->file, now))) {
				t->file->close_pending = true;
				s->work = true;
			} else if (t->file != NULL && pq_writer_full(t->file->w)) {
				s->work = true;
			}
		}
		if (s->snap_last) {
			for (struct pqs_file *f = s->files.next; f != &s->files; f = f->next)
				if (f->snapshot)
					f->close_pending = true;
			s->snap_finishing = true;
			s->work = true;
		}
		if (txn->end_lsn > s->last_end)
			s->last_end = txn->end_lsn;
		s->in_txn = false;
		s->ntouched = 0;
	}
	return do_work(s, err);
}

static void
pqs_abort(struct sink *base)
{
	struct pq_sink *s = (struct pq_sink *) base;

	if (!s->in_txn)
		return;
	for (int i = 0; i < s->ntouched; i++) {
		struct pqs_table *t = s->touched[i];
		struct pqs_file *keep = NULL;

		for (int k = 0; k <= t->nfrozen; k++) {
			struct pqs_file *f = k < t->nfrozen ? t->frozen[k] : t->file;

			if (f == NULL)
				continue;
			if (f->created_serial == s->txn_serial) {
				file_discard(s, f);
				continue;
			}
			if (f->txn_serial == s->txn_serial) {
				pq_writer_rollback(f->w);
				f->txn_rows = 0;
			}
			keep = f;
		}
		t->nfrozen = 0;
		t->file = keep;
		if (keep != NULL)
			keep->frozen = false;
	}
	s->ntouched = 0;
	s->in_txn = false;
	s->snap_last = false;
	s->work = true;
}

static int
pqs_poll(struct sink *base, cdc_lsn *durable, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;
	int64_t interval = s->cfg->rotate_interval_ms, now = mono_ms();
	cdc_lsn d;
	int rc;

	if (s->broken)
		return broken(s, err);
	if (interval > 0) {
		for (struct pqs_file *f = s->files.next; f != &s->files; f = f->next) {
			if (!f->close_pending && !f->frozen && f->txn_rows == 0 &&
			    now - f->opened_ms >= interval) {
				f->close_pending = true;
				s->work = true;
			}
		}
	}
	rc = do_work(s, err);
	if (rc == CDC_ERR_AGAIN)
		cdc_err_clear(err);     /* disk full: report what is durable, retry later */
	else if (rc != 0)
		return rc;
	d = s->last_end;
	for (struct pqs_file *f = s->files.next; f != &s->files; f = f->next)
		if (f->prev_end < d)
			d = f->prev_end;
	if (s->snap_active && s->snap_prev < d)
		d = s->snap_prev;
	if (d > s->durable)
		s->durable = d;
	*durable = s->durable;
	return 0;
}

static int
pqs_flush(struct sink *base, int timeout_ms, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;

	if (s->broken)
		return broken(s, err);
	for (struct pqs_file *f = s->files.next; f != &s->files; f = f->next) {
		if (f->txn_rows == 0 && !f->frozen)
			f->close_pending = true;
		else
			s->close_at_commit = true;
	}
	s->work = true;
	return do_work(s, err);
}

static void
pqs_close(struct sink *base)
{
	struct pq_sink *s = (struct pq_sink *) base;

	if (s == NULL)
		return;
	while (s->files.next != &s->files)
		file_discard(s, s->files.next);
	if (s->snap_fd >= 0)
		close(s->snap_fd);   /* an unfinished snapshot's marker stays: purged at the next start */
	for (size_t i = 0; i < s->nbuckets; i++) {
		while (s->buckets[i] != NULL) {
			struct pqs_table *t = s->buckets[i];

			s->buckets[i] = t->hnext;
			schema_unref(t->schema);
			free(t->key);
			free(t->qualname);
			free(t->dir);
			free(t);
		}
	}
	if (s->nan_decimals > 0)
		log_warning("parquet", "%" PRIu64 " NaN value(s) of DECIMAL columns were written as null",
		            s->nan_decimals);
	free(s->buckets);
	free(s->touched);
	free(s->top);
	free(s->snap_marker);
	pq_buf_free(&s->scratch);
	pq_buf_free(&s->unchanged);
	pq_buf_free(&s->key);
	pq_scratch_free(s->wscratch);
	free(s);
}

static int epoch_read(struct pq_sink *s, struct cdc_err *err);

static struct sink *
pqs_open(const struct sink_env *env, struct cdc_err *err)
{
	const struct sink_parquet_cfg *c = env->section;
	struct pq_sink *s = calloc(1, sizeof(*s));
	size_t len;

	if (s == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "parquet sink: out of memory");
		return NULL;
	}
	s->base.ops = &sink_parquet_ops;
	s->cfg = c;
	s->types = env->types;
	s->files.next = s->files.prev = &s->files;
	s->snap_fd = -1;
	s->top = strdup(c->directory ? c->directory : "");
	s->nbuckets = 64;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	if (s->top == NULL || s->buckets == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "parquet sink: out of memory");
		goto fail;
	}
	len = strlen(s->top);
	while (len > 1 && s->top[len - 1] == '/')
		s->top[--len] = '\0';
	if (len == 0) {
		cdc_errf(err, CDC_ERR_CONFIG, "sink.parquet.directory is empty");
		goto fail;
	}
	s->wopts.codec = c->compression == CFG_COMP_ZSTD ? PQ_CODEC_ZSTD :
	                 c->compression == CFG_COMP_SNAPPY ? PQ_CODEC_SNAPPY : PQ_CODEC_NONE;
	s->wopts.rg_rows = c->row_group_rows > 0 ? c->row_group_rows : 100000;
	s->wopts.rg_bytes = RG_BYTES;
	s->wopts.dictionary = true;
	s->wopts.scratch = s->wscratch = pq_scratch_new();
	if (s->wscratch == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "parquet sink: out of memory");
		goto fail;
	}
	if (make_dirs(s->top) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot create directory %s: %s (check "
		         "sink.parquet.directory)", s->top, strerror(errno));
		goto fail;
	}
	if (access(s->top, W_OK | X_OK) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: directory %s is not writable: %s", s->top,
		         strerror(errno));
		goto fail;
	}
	if (epoch_read(s, err) != 0 || recover(s, err) != 0)
		goto fail;
	return &s->base;
fail:
	pqs_close(&s->base);
	return NULL;
}

/* ---- epochs ----
 *
 * A gap accepted with --accept-gap after the server's LSNs went backwards (a database
 * restored or rebuilt, or a file from elsewhere) would leave high-water marks above
 * everything the server sends, so every new change would be skipped as a replay.
 * The sink then starts a new epoch: <directory>/.pgcdc-epoch holds its number N, and
 * the files written in it are named <first>-<last>-eN.parquet; only the current
 * epoch's files set high-water marks, older ones stay as history. */

static char *
epoch_path(const struct pq_sink *s)
{
	return xprintf("%s/.pgcdc-epoch", s->top);
}

static int
epoch_read(struct pq_sink *s, struct cdc_err *err)
{
	char *path = epoch_path(s), line[32] = "", *end;
	unsigned long v;
	FILE *f;

	if (path == NULL)
		return oom(s, err);
	f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;

		free(path);
		if (e == ENOENT)
			return 0;
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot read %s/.pgcdc-epoch: %s", s->top, strerror(e));
		return fail(s, err);
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	v = strtoul(line, &end, 10);
	if (end == line || (*end != '\n' && *end != '\0') || v == 0 || v > 9999999) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: %s holds \"%.20s\", not an epoch number: "
		         "restore it (it tells which files count for exactly-once delivery)", path, line);
		free(path);
		return fail(s, err);
	}
	free(path);
	s->epoch = (unsigned) v;
	return 0;
}

static cdc_lsn
pqs_position(struct sink *base)
{
	struct pq_sink *s = (struct pq_sink *) base;
	cdc_lsn high = 0;

	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct pqs_table *t = s->buckets[i]; t != NULL; t = t->hnext)
			if (t->hwm > high)
				high = t->hwm;
	return high;
}

static int
pqs_new_epoch(struct sink *base, struct cdc_err *err)
{
	struct pq_sink *s = (struct pq_sink *) base;
	char *path = epoch_path(s), *tmp = path ? xprintf("%s.tmp", path) : NULL, line[32];
	int fd = -1, n;

	if (path == NULL || tmp == NULL) {
		free(path);
		free(tmp);
		return oom(s, err);
	}
	n = snprintf(line, sizeof(line), "%u\n", s->epoch + 1);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t) n) != n || fsync(fd) != 0 || rename(tmp, path) != 0 ||
	    cdc_fsync_dir(s->top) != 0) {
		cdc_errf(err, CDC_ERR_IO, "parquet sink: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(path);
		free(tmp);
		return fail(s, err);
	}
	close(fd);
	s->epoch++;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct pqs_table *t = s->buckets[i]; t != NULL; t = t->hnext)
			t->hwm = t->hwm_open = 0;
	log_warning("parquet", "epoch %u starts in %s: files written from now on are named "
	            "<first>-<last>-e%u.parquet; earlier files stay as they are and no longer "
	            "decide what is a replay", s->epoch, s->top, s->epoch);
	free(path);
	free(tmp);
	return 0;
}

static bool
pqs_enabled(const void *section)
{
	return ((const struct sink_parquet_cfg *) section)->enabled;
}

static int
pqs_probe(const struct sink_env *env, char *info, size_t infocap, struct cdc_err *err)
{
	const char *dir = ((const struct sink_parquet_cfg *) env->section)->directory;
	struct stat st;
	char *probe, *anc;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		return cdc_errf(err, CDC_ERR_CONFIG, "sink.parquet.directory is empty");
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cdc_errf(err, CDC_ERR_IO, "sink.parquet.directory %s is not a directory", dir);
		if ((probe = xprintf("%s/.pgcdc-probe-XXXXXX", dir)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		fd = mkstemp(probe);
		if (fd < 0) {
			cdc_errf(err, CDC_ERR_IO, "sink.parquet.directory %s is not writable: %s", dir,
			         strerror(errno));
			free(probe);
			return err->code;
		}
		close(fd);
		unlink(probe);
		free(probe);
		snprintf(info, infocap, "directory %s is writable", dir);
		return 0;
	}
	if (errno != ENOENT)
		return cdc_errf(err, CDC_ERR_IO, "sink.parquet.directory %s: %s", dir, strerror(errno));
	/* missing: it will be created where its nearest existing ancestor allows it */
	anc = strdup(dir);
	if (anc == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	for (;;) {
		char *slash = strrchr(anc, '/');

		if (slash == NULL) {
			strcpy(anc, ".");
			break;
		}
		if (slash == anc) {
			anc[1] = '\0';
			break;
		}
		*slash = '\0';
		if (stat(anc, &st) == 0)
			break;
	}
	if (access(anc, W_OK | X_OK) != 0) {
		cdc_errf(err, CDC_ERR_IO, "sink.parquet.directory %s does not exist and cannot be created "
		         "in %s: %s", dir, anc, strerror(errno));
		free(anc);
		return err->code;
	}
	free(anc);
	snprintf(info, infocap, "directory %s will be created", dir);
	return 0;
}

const struct sink_ops sink_parquet_ops = {
	.name = "parquet",
	.section = offsetof(struct sink_sections, parquet),
	.enabled = pqs_enabled,
	.open = pqs_open,
	.begin = pqs_begin,
	.write = pqs_write,
	.commit = pqs_commit,
	.abort = pqs_abort,
	.poll = pqs_poll,
	.flush = pqs_flush,
	.close = pqs_close,
	.probe = pqs_probe,
	.position = pqs_position,
	.new_epoch = pqs_new_epoch,
};
