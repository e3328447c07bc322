/*
 * stats.h — counters and positions the agent publishes for the monitor thread,
 * `/metrics` and status (SPEC §6).
 *
 * DESIGN: the replication thread is the only writer; the monitor and the HTTP
 * server only read, through stats_read() and stats_foreach_*() which copy under
 * the same mutex.  Writes are a lock and a few additions: cheap next to decoding
 * and encoding a change.
 */
#ifndef PGCDC_STATS_H
#define PGCDC_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "../decoder/change.h"

enum stats_state {
	STATS_STOPPED = 0,
	STATS_CONNECTING,
	STATS_STREAMING,
	STATS_SNAPSHOTTING,
};

#define STATS_MAX_SINKS 4

struct stats_sink {
	char name[16];
	uint64_t records;
	uint64_t errors;
	bool failing;             /* the sink reports a problem right now */
	char last_error[512];
};

/* A copy of the scalar state. */
struct stats_view {
	enum stats_state state;
	cdc_lsn received;         /* newest WAL position received from the server */
	cdc_lsn acked;            /* newest flush position sent to the server */
	int64_t acked_at_ms;      /* wall clock of the last status update sent */
	uint64_t transactions;
	uint64_t changes;
	uint64_t spilled_bytes;
	bool spill_failing;       /* state_dir is full: spilling (and WAL reading) waits */
	char spill_error[512];
	bool gap;                 /* a gap is being closed by a backfill (on_gap = backfill) */
	uint64_t gap_seq;         /* gaps so far: one closed between two samples still counts */
	char gap_why[512];
	int nsinks;
	struct stats_sink sinks[STATS_MAX_SINKS];
	int backend_pid;          /* the walsender serving us (pg_stat_replication.pid) */
};

struct cdc_stats;

struct cdc_stats *stats_new(void);
void stats_free(struct cdc_stats *s);

/* writer side (replication thread) */
void stats_set_state(struct cdc_stats *s, enum stats_state st);
void stats_set_positions(struct cdc_stats *s, cdc_lsn received, cdc_lsn acked, bool sent);
void stats_set_backend_pid(struct cdc_stats *s, int pid);
void stats_add_change(struct cdc_stats *s, const char *schema, const char *table, char op);
/* n changes of one table at once (a backfill chunk) */
void stats_add_changes(struct cdc_stats *s, const char *schema, const char *table, char op,
                       uint64_t n);
void stats_add_transaction(struct cdc_stats *s);
void stats_set_spilled(struct cdc_stats *s, uint64_t bytes);
/* err: why spilling waits (state_dir full), NULL once it goes on */
void stats_set_spill_error(struct cdc_stats *s, const char *err);
/* why: the gap an on_gap = backfill backfill closes; NULL once it is done */
void stats_set_gap(struct cdc_stats *s, const char *why);
/* Register sink i (name) or update its counters; err NULL = healthy. */
void stats_set_sink(struct cdc_stats *s, int i, const char *name, uint64_t records,
                    uint64_t errors, const char *err);
/* Snapshot or backfill progress of one table. */
struct stats_snap {
	const char *state;        /* pending, copying, backfilling, done */
	uint64_t rows;            /* read so far */
	uint64_t estimate;        /* pg_class.reltuples, 0 unknown */
	uint64_t chunks;          /* chunks done (online method; 0 for the exported one) */
	double rows_per_s;        /* since the table's read began, 0 before */
	double eta_s;             /* < 0 unknown (no estimate, no rate, or done) */
};
void stats_set_snapshot(struct cdc_stats *s, const char *table, const struct stats_snap *p);
/* Fill p->rows_per_s and p->eta_s from the rows this run read in elapsed_ms (<= 0: not
 * started), p->rows and p->estimate. */
void stats_snap_rate(struct stats_snap *p, uint64_t rows, int64_t elapsed_ms);

/* reader side (any thread) */
void stats_read(struct cdc_stats *s, struct stats_view *out);
/* counts[] indexed c, u, d, r, t */
typedef void (*stats_table_fn)(void *ctx, const char *table, const uint64_t counts[5]);
void stats_foreach_table(struct cdc_stats *s, stats_table_fn fn, void *ctx);
typedef void (*stats_snap_fn)(void *ctx, const char *table, const struct stats_snap *p);
void stats_foreach_snapshot(struct cdc_stats *s, stats_snap_fn fn, void *ctx);

#endif
