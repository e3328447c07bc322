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
 * progress is published for the monitor (borrowed). */
struct stream_opts {
	bool accept_gap;        /* --accept-gap: stream across a detected gap (SPEC §5) */
	cdc_lsn endpos;         /* --endpos: stop once the stream reaches it (0 = never) */
};

int stream_run(const struct cfg *cfg, struct cdc_stats *stats, const struct stream_opts *opts,
               volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen);

#endif
