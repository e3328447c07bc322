/*
 * change.h — the row-change model shared by the decoder, the pipeline and every sink.
 *
 * A struct cdc_change is one logical row event (insert, update, delete, truncate,
 * snapshot read) with its transaction coordinates.  Values inside are *borrowed*
 * views into a decoder buffer (or a snapshot COPY line): a sink that keeps anything
 * past the call that handed it the change must copy it.
 */
#ifndef PGCDC_CHANGE_H
#define PGCDC_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/lsn.h"

/* PostgreSQL epoch (2000-01-01) to Unix epoch, in microseconds. */
#define CDC_PG_EPOCH_OFFSET_US INT64_C(946684800000000)

/* One column of a relation, as a pgoutput Relation message describes it. */
struct cdc_column {
	char *name;           /* owned by the relcache */
	uint32_t type_oid;
	int32_t typmod;
	bool key;             /* part of the replica identity (Relation message flag) */
	bool pk;              /* part of the record key: the primary key, else the identity
	                       * index; the decoder presets key && replident != 'f', the
	                       * agent may correct it from the catalog */
	bool notnull;         /* NOT NULL in the catalog (pg_attribute.attnotnull), as the
	                       * agent read it; false until then */
	char *defexpr;        /* the column's default as pg_get_expr prints it, NULL for
	                       * none (owned by the relcache).  notnull and defexpr are
	                       * read only in the Debezium profile */
};

/* One relation (table).  Owned by the relcache; pointers stay valid until the
 * relation is replaced by a newer Relation message, which bumps `version`. */
struct cdc_rel {
	uint32_t oid;
	char *schema;
	char *name;
	char replident;       /* 'd' default, 'n' nothing, 'f' full, 'i' index */
	int ncols;
	struct cdc_column *cols;
	uint32_t version;     /* increments each time this oid's definition changes */
	int npk;              /* number of columns with pk set; 0 = null record key */
};

/* One column value of a tuple. */
enum cdc_val_kind {
	CDC_VAL_NULL = 'n',
	CDC_VAL_UNCHANGED = 'u',   /* unchanged TOASTed value: not sent */
	CDC_VAL_TEXT = 't',        /* text output of the type */
	CDC_VAL_BINARY = 'b',      /* binary send format (not requested by pgcdc) */
};

struct cdc_value {
	char kind;                 /* enum cdc_val_kind */
	uint32_t len;
	const char *data;          /* borrowed, NOT NUL-terminated; len bytes */
};

struct cdc_tuple {
	int ncols;
	struct cdc_value *vals;    /* borrowed array of ncols values */
};

/* Value of column i of tuple t; NULL when the tuple has no such column. */
static inline const struct cdc_value *
tuple_val(const struct cdc_tuple *t, int i)
{
	if (t == NULL || t->vals == NULL || i < 0 || i >= t->ncols)
		return NULL;
	return &t->vals[i];
}

enum cdc_op {
	CDC_OP_CREATE = 'c',
	CDC_OP_UPDATE = 'u',
	CDC_OP_DELETE = 'd',
	CDC_OP_READ = 'r',         /* snapshot row */
	CDC_OP_TRUNCATE = 't',
	CDC_OP_MESSAGE = 'm',      /* a logical decoding message (pg_logical_emit_message) */
};

/* source.snapshot of the Debezium envelope */
enum cdc_snap_flag {
	CDC_SNAP_FALSE = 0,
	CDC_SNAP_TRUE = 1,
	CDC_SNAP_LAST = 2,
	CDC_SNAP_INCREMENTAL = 3,  /* a row of an online backfill chunk (SPEC §7) */
};

/* Transaction coordinates, shared by every change of one transaction.
 *
 * Snapshot rows (SPEC §7) travel in pseudo-transactions with snapshot = true:
 * xid 0, commit_lsn = end_lsn = the slot's consistent point (or, for a one-off
 * `pgcdc snapshot`, the WAL position when its snapshot was taken), commit_ts_us =
 * when the snapshot was taken.  One snapshot is delivered as one or more such
 * pseudo-transactions (one per table, or per chunk of a table) that all share
 * that LSN, every change with op 'r'; the very last row of the whole snapshot has
 * change->snapshot = CDC_SNAP_LAST, the others CDC_SNAP_TRUE.  Sinks must not treat
 * two snapshot pseudo-transactions with the same LSN as duplicates. */
struct cdc_txn {
	bool snapshot;             /* a snapshot pseudo-transaction (see above) */
	uint32_t xid;
	cdc_lsn begin_lsn;         /* where the server sent its Begin (0: replayed from a spill,
	                            * which has none) */
	cdc_lsn commit_lsn;        /* LSN of the commit record (Begin's final_lsn) */
	cdc_lsn end_lsn;           /* end of the commit record: what gets acknowledged.  Known
	                            * only at commit for protocol-1 transactions (0 while their
	                            * changes are written), set from the start for replayed
	                            * streamed ones: sinks must read it in commit(), not write() */
	int64_t commit_ts_us;      /* commit time, microseconds since Unix epoch */
	cdc_lsn prev_commit_lsn;   /* commit LSN of the previous transaction (source.sequence) */
	cdc_lsn dedupe_lsn;        /* 0, or: an online backfill chunk read again after a crash,
	                            * first handed to the sinks at this commit LSN; a sink that
	                            * keeps exactly-once (Parquet) skips it when it held a
	                            * transaction of the chunk's table at or past it before
	                            * this run (what it wrote since does not hold the chunk) */
};

/* A logical decoding message: the record of a CDC_OP_MESSAGE change (rel is NULL). */
struct cdc_message {
	const char *prefix;
	const uint8_t *content;
	size_t len;
	bool transactional;    /* else: emitted at once, outside any transaction (txId null) */
};

struct cdc_change {
	char op;                          /* enum cdc_op */
	cdc_lsn lsn;                      /* LSN of this change */
	const struct cdc_txn *txn;        /* borrowed */
	const struct cdc_rel *rel;        /* borrowed */
	const struct cdc_tuple *old_tuple;/* before image or NULL */
	char old_kind;                    /* 'K' key only, 'O' full old row, 0 none */
	const struct cdc_tuple *new_tuple;/* after image or NULL */
	char snapshot;                    /* enum cdc_snap_flag */
	/* An update that changed the record key is split into a delete of the old key and
	 * a create of the new one.  On the delete, other_tuple is the new row (its key is
	 * Debezium's __debezium.newkey header); on the create, the old tuple, of
	 * other_kind ('K' or 'O'; __debezium.oldkey).  NULL otherwise. */
	const struct cdc_tuple *other_tuple;
	char other_kind;
	const struct cdc_message *msg;    /* CDC_OP_MESSAGE only */
};

#endif
