/*
 * backfill.h — the online snapshot: tables read in chunks while the stream runs
 * (SPEC §7, DBLog watermarks).
 *
 * DESIGN: worker threads (source.snapshot_workers, one connection each) take tables
 * one at a time and read each in chunks of backfill.chunk_rows rows in key order
 * (keyless tables: ranges of pages, by ctid), every chunk in its own short
 * REPEATABLE READ transaction.  Before the read a worker writes the low watermark, a
 * non-transactional logical decoding message with prefix pgcdc.wm and content
 * "<slot> <chunk id> L"; after it, the high watermark "... H".  The rows wait in
 * memory for the replication thread, which sees the watermarks in stream order
 * (backfill_message): from L on it hands every change of the table to the chunk's
 * window (backfill_change, bfwin.h), and at H it drops the rows the window made stale
 * and emits the rest, op "r" with source.snapshot = "incremental", as one
 * pseudo-transaction at H's position, so nothing the stream delivers after H can be
 * overtaken by an older read.  A chunk whose window cannot tell (its low watermark
 * was not seen: a reconnect; a keyless table updated by a transaction the read did
 * not see) is read again.  Each worker has one chunk in flight at a time.
 *
 * Progress: which rows a table has delivered (the last key, or the next page) is kept
 * per table in <state_dir>/<slot>.backfill.  At each high watermark the sinks are
 * flushed, then the file written, and only then does the worker read its next chunk:
 * a restart resumes at the next chunk and re-reads at most the one chunk each worker
 * had in flight.
 *
 * Owning thread: the replication (main) thread; the workers are internal.
 */
#ifndef PGCDC_BACKFILL_H
#define PGCDC_BACKFILL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pipeline.h"
#include "stats.h"
#include "../decoder/types.h"

#define BACKFILL_WM_PREFIX "pgcdc.wm"

struct backfill;

struct bf_opts {
	const struct cfg *cfg;
	struct cdc_types *types;     /* borrowed; the main thread's */
	struct pipeline *pipe;       /* borrowed */
	struct cdc_stats *stats;     /* borrowed */
	volatile sig_atomic_t *stop;
};

/* Returns owned (no workers yet), NULL with err set. */
struct backfill *backfill_new(const struct bf_opts *o, struct cdc_err *err);
/* Stops and joins the workers; NULL is a no-op. */
void backfill_free(struct backfill *b);

/* The server is a standby (standby decoding, 16+): it cannot write the watermark
 * messages, so no backfill starts or resumes there (a recorded one resumes once the
 * agent streams from a primary); `pgcdc backfill` signals are logged and dropped. */
void backfill_set_standby(struct backfill *b, bool standby);

/* Whether <state_dir>/<slot>.backfill records a backfill that has not finished. */
bool backfill_pending(const struct cfg *cfg);

/* Start reading every published table (or source.tables), recording them in the
 * state file first, so a restart resumes them.  Called once the slot exists and
 * before streaming starts. */
int backfill_start(struct backfill *b, struct cdc_err *err);
/* A gap (source.on_gap = backfill): whatever backfill ran stops, every published table
 * is read anew, and stats' gap is cleared once that is done. */
int backfill_gap(struct backfill *b, struct cdc_err *err);
/* Resume what the state file records (a no-op when it records nothing unfinished). */
int backfill_resume(struct backfill *b, struct cdc_err *err);
bool backfill_active(const struct backfill *b);

/* A logical decoding message the stream delivered at lsn (non-transactional ones at
 * their position).  Watermarks of this agent's chunks are acted on; anything else is
 * ignored. */
int backfill_message(struct backfill *b, cdc_lsn lsn, const char *prefix, const uint8_t *content,
                     size_t len, struct cdc_err *err);
/* Every change the stream delivers (before the pipeline sees it). */
int backfill_change(struct backfill *b, const struct cdc_change *ch, struct cdc_err *err);
/* The replication connection was lost: open windows are void (their chunks are read
 * again). */
void backfill_disconnected(struct backfill *b);
/* Called with each status update: raises a worker's fatal error, ends the backfill
 * (joins the workers) once every table is done, and starts the next one asked for. */
int backfill_poll(struct backfill *b, struct cdc_err *err);
/* Every table's last chunk is recorded: the next backfill_poll ends the backfill. */
bool backfill_settled(struct backfill *b);

/* `pgcdc backfill`: a transactional message with prefix pgcdc.signal and content
 * {"slot": ..., "id": ..., "tables": [...]} (no tables: every published one), which the
 * running agent of that slot reads in stream order. */
#define BACKFILL_SIGNAL_PREFIX "pgcdc.signal"
/* A transactional message of the stream: a signal for this slot is staged ... */
int backfill_signal(struct backfill *b, const char *prefix, const uint8_t *content, size_t len);
/* ... and acted on when its transaction commits (a backfill already running: queued;
 * a signal already acted on, sent again after a reconnect: ignored). */
void backfill_commit(struct backfill *b);

/* The command: sends the signal; with wait, shows the progress the agent records in
 * <state_dir>/<slot>.backfill (so it runs where the agent's state_dir is) until the
 * backfill it asked for is done.  Returns the exit status. */
int backfill_command(const struct cfg *cfg, char *const *tables, int ntables, bool wait,
                     volatile sig_atomic_t *stop);

#endif
