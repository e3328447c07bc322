/*
 * lag.h — lag_seconds (SPEC §6): how long ago the server wrote the WAL position
 * the slot has confirmed; 0 when caught up; growing while the agent is down or
 * stalled.
 *
 * PostgreSQL does not record when a WAL position was written, so the monitor
 * keeps a history of (time, pg_current_wal_lsn()) samples and looks up when the
 * server's position passed the slot's confirmed_flush_lsn:
 *
 *   - caught up (confirmed >= current): 0;
 *   - else find the last sample at or below confirmed and the first above it; the
 *     server crossed confirmed between the two, and the time is interpolated
 *     linearly by LSN; lag = now - that time;
 *   - confirmed is older than the oldest sample (the backlog predates the monitor,
 *     e.g. right after pgcdc started): lag = now - oldest sample, a lower bound,
 *     and mon_lag_seconds says so.
 *
 * Memory is bounded: consecutive samples with the same LSN collapse into one entry
 * (first and last time seen); when the history is full, every other entry of its
 * older half is dropped, so the history always reaches back to the first sample
 * while old entries get sparser (resolution degrades gracefully, never the span).
 * The monitor persists the history in its state file and restores it at start, so
 * lag_seconds also covers the time pgcdc was down (see monitor.c).
 *
 * Owning thread: the monitor.
 */
#ifndef PGCDC_LAG_H
#define PGCDC_LAG_H

#include <stdbool.h>
#include <stdint.h>

#include "../decoder/change.h"

struct mon_lag;

/* capacity: entries kept (>= 8; 1024 is plenty).  Returns owned, or NULL on OOM. */
struct mon_lag *mon_lag_new(int capacity);
void mon_lag_free(struct mon_lag *l);

/* Record the server's current WAL position seen at now_ms (any monotonic or wall
 * clock, as long as it is the same for every call).  A position lower than the
 * last one (a different server) starts a new history. */
void mon_lag_add(struct mon_lag *l, int64_t now_ms, cdc_lsn current);

/* Seconds since the server wrote confirmed, as seen at now_ms; *lower_bound is set
 * when confirmed is older than the history (may be NULL).  Call after mon_lag_add
 * for the same sample.  0 when there is no history. */
double mon_lag_seconds(const struct mon_lag *l, int64_t now_ms, cdc_lsn confirmed,
                       bool *lower_bound);

/* Number of entries held. */
int mon_lag_entries(const struct mon_lag *l);

/* Entry i (0 = oldest) of the history, to persist it.  Returns 0, or -1 when out of range. */
int mon_lag_entry(const struct mon_lag *l, int i, cdc_lsn *lsn, int64_t *first_ms,
                  int64_t *last_ms);

/* Append a persisted entry (oldest first); entries that do not extend the history
 * (LSN or time not increasing) are ignored. */
void mon_lag_restore(struct mon_lag *l, cdc_lsn lsn, int64_t first_ms, int64_t last_ms);

#endif
