/*
 * snapshot.h — consistent copies of tables into the sinks (SPEC §7).
 *
 * Owning thread: main.
 */
#ifndef PGCDC_SNAPSHOT_H
#define PGCDC_SNAPSHOT_H

#include <signal.h>

#include "config.h"
#include "pipeline.h"
#include "stats.h"
#include "../decoder/types.h"

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
