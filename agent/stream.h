/*
 * stream.h — `pgcdc run`: the replication session (SPEC §5).
 *
 * Owning thread: main.
 */
#ifndef PGCDC_STREAM_H
#define PGCDC_STREAM_H

#include <signal.h>

#include "config.h"
#include "stats.h"

/* Stream until *stop becomes non-zero (then flush, acknowledge, return 0) or a fatal
 * error (return 1 with the error logged).  reopen is set by SIGHUP.  stats: where
 * progress is published for the monitor (borrowed).  accept_gap: stream even when
 * the slot moved past what pgcdc recorded as delivered (SPEC §5). */
int stream_run(const struct cfg *cfg, struct cdc_stats *stats, bool accept_gap,
               volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen);

#endif
