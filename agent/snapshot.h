/*
 * snapshot.h — consistent copies of tables into the sinks (SPEC §7).
 *
 * Owning thread: main.
 */
#ifndef PGCDC_SNAPSHOT_H
#define PGCDC_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "pipeline.h"
#include "stats.h"
#include "../decoder/types.h"

/* One table to copy or backfill, as the catalog describes it inside the reading
 * transaction: its relation as pgoutput would describe it (the publication's
 * column list) and the query that reads it. */
struct snap_table {
	uint32_t oid;
	char *qname;          /* "schema"."table" */
	char *name;           /* schema.table, for messages and metrics */
	char *select;         /* SELECT <columns> FROM <qname> [WHERE <row filter>] */
	char *rowfilter;      /* the publication's row filter, or NULL */
	double reltuples;
	struct cdc_rel *rel;  /* in the caller's relcache */
	struct copytext *ct;  /* parser for its COPY lines */
	uint64_t rows;
	int64_t started_ms;
	bool done;
};

struct relcache;

/* The tables to read (only[0..nonly-1], else source.tables, else the publication's),
 * largest first, into *out (owned: snap_tables_free).  Relations go into rcache,
 * their types into types.  A named table that does not exist, or one without SELECT
 * privilege, is an error. */
int snap_discover(PGconn *conn, const struct cfg *cfg, char *const *only, int nonly,
                  struct relcache *rcache, struct cdc_types *types, struct snap_table **out,
                  int *nout, struct cdc_err *err);
void snap_tables_free(struct snap_table *tables, int n);

struct snap_opts {
	const struct cfg *cfg;
	const char *snapshot_name;   /* exported snapshot every worker imports */
	cdc_lsn lsn;                 /* position of the snapshot: the pseudo-transactions' LSN */
	int64_t ts_us;               /* when it was taken (commit_ts of the pseudo-transactions) */
	char *const *tables;         /* schema.table to copy; NULL: the publication's tables */
	int ntables;
	struct cdc_types *types;     /* borrowed; user types get registered */
	struct pipeline *pipe;       /* borrowed */
	struct cdc_stats *stats;     /* borrowed */
	volatile sig_atomic_t *stop;
};

/* Copy every table inside the exported snapshot with cfg->source.snapshot_workers
 * parallel connections, largest first, emitting op 'r' rows through the pipeline
 * in pseudo-transactions (decoder/change.h).  Returns 0 when every table was
 * copied, CDC_ERR_AGAIN when *stop interrupted it, CDC_ERR_CONN when a connection
 * broke, another code for errors (a table without SELECT privilege, ...). */
int snapshot_copy(const struct snap_opts *o, struct cdc_err *err);

/* `pgcdc snapshot [--table X]...`: export a snapshot from an ordinary connection,
 * copy into the sinks, flush them.  Returns the exit status. */
int snapshot_oneoff(const struct cfg *cfg, char *const *tables, int ntables,
                    volatile sig_atomic_t *stop);

#endif
