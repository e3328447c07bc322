/*
 * writer.h — a Parquet file writer (Apache parquet-format): flat schemas of
 * primitive columns, row groups buffered in memory and appended to the file as
 * they fill, one v1 data page per column chunk (definition levels RLE / bit-packed,
 * values PLAIN, or RLE_DICTIONARY after a dictionary page for byte arrays of low
 * cardinality), zstd / snappy / no compression, column-chunk statistics, and a
 * Thrift compact footer with key-value metadata.
 *
 * DESIGN: rows are appended value by value into per-column buffers that keep their
 * memory between row groups, so the hot path does not allocate once they have
 * grown.  A savepoint (pq_writer_mark) remembers where a transaction began; the
 * file can be rolled back to it (pq_writer_rollback) whether its rows are still in
 * memory or already in the file.  To keep that possible when a row group fills in
 * the middle of a transaction, the rows before the savepoint are written as a row
 * group of their own first, so a rollback only has to cut the file back.  All I/O
 * is pwrite at a tracked offset: a failed write (disk full) changes nothing that
 * a retry cannot redo, and garbage past the offset is truncated away.
 *
 * I/O errors: ENOSPC, EDQUOT and EFBIG return CDC_ERR_AGAIN (nothing lost, retry
 * later); others return CDC_ERR_IO with a message naming the file.
 *
 * Owning thread: whoever created it (the replication thread for the sink).
 */
#ifndef PGCDC_PQ_WRITER_H
#define PGCDC_PQ_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../decoder/change.h"

/* Physical types (parquet.thrift Type). */
enum pq_type {
	PQ_BOOLEAN = 0,
	PQ_INT32 = 1,
	PQ_INT64 = 2,
	PQ_FLOAT = 4,
	PQ_DOUBLE = 5,
	PQ_BYTE_ARRAY = 6,
	PQ_FLBA = 7,             /* FIXED_LEN_BYTE_ARRAY */
};

/* The logical annotations pgcdc writes. */
enum pq_ltype {
	PQ_LT_NONE = 0,
	PQ_LT_STRING,            /* BYTE_ARRAY, UTF-8 */
	PQ_LT_INT16,             /* INT32 holding a 16-bit signed integer */
	PQ_LT_DECIMAL,           /* INT32 / INT64 / FLBA; precision, scale */
	PQ_LT_DATE,              /* INT32 days since 1970-01-01 */
	PQ_LT_TIME_US,           /* INT64 microseconds since midnight, local */
	PQ_LT_TIMESTAMP_US,      /* INT64 microseconds since epoch, not UTC-adjusted */
	PQ_LT_TIMESTAMPTZ_US,    /* INT64 microseconds since epoch, UTC-adjusted */
	PQ_LT_UUID,              /* FLBA(16) */
	PQ_LT_JSON,              /* BYTE_ARRAY */
};

enum pq_codec {
	PQ_CODEC_NONE = 0,
	PQ_CODEC_SNAPPY = 1,
	PQ_CODEC_ZSTD = 6,
};

struct pq_coldef {
	const char *name;        /* copied */
	enum pq_type type;
	enum pq_ltype ltype;
	int type_length;         /* FLBA only */
	int precision, scale;    /* DECIMAL only */
	bool required;           /* REQUIRED (no nulls), else OPTIONAL */
};

struct pq_scratch;

struct pq_wopts {
	enum pq_codec codec;
	int zstd_level;          /* 0 = library default */
	int64_t rg_rows;         /* a row group holds at most this many rows ... */
	int64_t rg_bytes;        /* ... and about this many buffered bytes */
	bool dictionary;         /* try dictionary encoding for byte-array columns */
	struct pq_scratch *scratch;  /* borrowed, shared by writers of one thread; NULL: own */
};

/* Page buffers and the zstd context writers need only while they write a row group
 * or a footer: one set can serve every writer of a thread (a sink with many open
 * files).  Returns owned scratch, NULL on out-of-memory. */
struct pq_scratch *pq_scratch_new(void);
void pq_scratch_free(struct pq_scratch *x);

struct pq_kv {
	const char *key;
	const char *value;
};

struct pq_writer;

/* A writer for a new file on fd (borrowed: the caller closes it); path is only for
 * messages (copied).  Nothing is written until the first row group.  Returns owned
 * writer, or NULL with err set (out of memory, bad column definition). */
struct pq_writer *pq_writer_new(const struct pq_coldef *cols, int ncols, const struct pq_wopts *o,
                                int fd, const char *path, struct cdc_err *err);
void pq_writer_free(struct pq_writer *w);

/* Append one value to column c of the row being built; every column gets exactly
 * one value per row, in any order, then pq_row_end.  Values are copied.  Memory
 * errors are sticky and reported by pq_row_end. */
void pq_put_null(struct pq_writer *w, int c);
void pq_put_bool(struct pq_writer *w, int c, bool v);
void pq_put_i32(struct pq_writer *w, int c, int32_t v);
void pq_put_i64(struct pq_writer *w, int c, int64_t v);
void pq_put_float(struct pq_writer *w, int c, float v);
void pq_put_double(struct pq_writer *w, int c, double v);
/* BYTE_ARRAY (any length) or FLBA (exactly type_length bytes). */
void pq_put_bytes(struct pq_writer *w, int c, const void *p, size_t n);
/* Returns 0, or CDC_ERR_NOMEM. */
int pq_row_end(struct pq_writer *w, struct cdc_err *err);

/* Whether the buffered row group is full (rows or bytes): pq_writer_flush it. */
bool pq_writer_full(const struct pq_writer *w);
/* Write the buffered rows as a row group (splitting at the savepoint, see DESIGN).
 * Returns 0, CDC_ERR_AGAIN (disk full: retry later, nothing lost) or an error. */
int pq_writer_flush(struct pq_writer *w, struct cdc_err *err);

/* Savepoint: remember the current position; rollback returns to it (rows added
 * since are dropped, in memory or in the file); release forgets it. */
void pq_writer_mark(struct pq_writer *w);
void pq_writer_release(struct pq_writer *w);
void pq_writer_rollback(struct pq_writer *w);

/* Finish the file: flush buffered rows, write the footer (with key-value metadata,
 * copied), cut the file to its exact size and fsync it.  Idempotent: after
 * CDC_ERR_AGAIN call it again.  fsync failures are errors (never AGAIN): after a
 * failed fsync the written data cannot be trusted. */
int pq_writer_finish(struct pq_writer *w, const struct pq_kv *kv, int nkv, struct cdc_err *err);

/* Rows in the file so far (written and buffered). */
int64_t pq_writer_rows(const struct pq_writer *w);
/* Bytes written to the file plus bytes buffered (uncompressed) for the next row group. */
int64_t pq_writer_bytes(const struct pq_writer *w);

#endif
