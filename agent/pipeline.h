/*
 * pipeline.h — fans decoded transactions out to the sinks and decides which LSN
 * may be acknowledged to PostgreSQL (SPEC §5).
 *
 * DESIGN: nothing is buffered here: each change goes to every sink as it is
 * decoded (with protocol 1 the server only sends committed transactions; streamed
 * ones are spilled and replayed at their commit), so memory does not grow with a
 * transaction's size.  What is bounded is what the sinks hold without having made
 * it durable: past max_inflight bytes the pipeline makes the sinks flush, and while
 * a sink answers CDC_ERR_AGAIN (queue full, broker down, disk full) it waits,
 * calling the wait hook so the replication connection keeps sending status updates
 * while no more WAL is read.  The acknowledgeable LSN is the minimum over the sinks
 * of the end LSN up to which they report everything durable; it never goes back.
 * A transaction the server sends again after a reconnect (commit LSN at or below
 * one already handed to the sinks) is skipped whole.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_PIPELINE_H
#define PGCDC_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "../decoder/change.h"
#include "../sinks/sink.h"

/* Called while the pipeline waits for a sink; returns 0 to keep waiting, non-zero
 * (with err set) to give up (shutdown requested, connection lost). */
typedef int (*pipe_wait_fn)(void *ctx, struct cdc_err *err);

struct pipeline;

/* sinks: borrowed array of n opened sinks (the pipeline does not close them).
 * start_lsn: the position already acknowledged (the slot's confirmed_flush_lsn). */
struct pipeline *pipe_new(struct sink **sinks, int n, int64_t max_inflight, cdc_lsn start_lsn,
                          pipe_wait_fn wait, void *wait_ctx);
void pipe_free(struct pipeline *p);

/* Apply filter (borrowed; NULL = none) to every change before the sinks see it:
 * changes of tables it excludes are dropped, columns removed or masked. */
struct filter;
void pipe_set_filter(struct pipeline *p, struct filter *f);

/* Transaction flow.  pipe_begin returns 1 when the transaction was already handed
 * to the sinks (resent after a reconnect): then its changes and commit are ignored. */
int pipe_begin(struct pipeline *p, const struct cdc_txn *txn, struct cdc_err *err);
int pipe_change(struct pipeline *p, const struct cdc_change *ch, size_t bytes, struct cdc_err *err);
int pipe_commit(struct pipeline *p, const struct cdc_txn *txn, struct cdc_err *err);
/* The open transaction was cut short (connection lost): sinks forget it. */
void pipe_abort(struct pipeline *p);
bool pipe_in_txn(const struct pipeline *p);

/* Poll sinks for durability; returns the LSN that may be acknowledged now. */
int pipe_poll(struct pipeline *p, cdc_lsn *ack, struct cdc_err *err);

/* Position reached with nothing to deliver (keepalive WAL end, a non-transactional
 * message): acknowledgeable once everything before it is durable. */
void pipe_note_idle_position(struct pipeline *p, cdc_lsn lsn);

/* Flush every sink and wait until all handed transactions are durable or
 * timeout_ms passes (CDC_ERR_AGAIN). */
int pipe_flush(struct pipeline *p, int timeout_ms, struct cdc_err *err);

/* The message of sink i's current stall (it answered CDC_ERR_AGAIN and has not
 * succeeded since), or NULL while it is healthy.  Borrowed until the next call. */
const char *pipe_sink_stall(const struct pipeline *p, int i);

/* Counters for status/metrics. */
struct pipe_stats {
	uint64_t changes;
	uint64_t transactions;
	uint64_t skipped_transactions;
	int64_t pending_bytes;
	cdc_lsn last_commit_end;
	cdc_lsn acked;
};
void pipe_stats(const struct pipeline *p, struct pipe_stats *out);

#endif
