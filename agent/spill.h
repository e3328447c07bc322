/*
 * spill.h — on-disk spill of protocol-2 streamed transactions (SPEC §5).
 *
 * DESIGN: the server streams a large in-progress transaction in chunks between
 * Stream Start and Stream Stop, possibly interleaved with other transactions, and
 * decides its fate later (Stream Commit / Stream Abort).  Each chunk's messages are
 * appended, raw, to <state_dir>/spill/<xid>.spill as [u64 lsn][u32 len][bytes];
 * the offset of the first message of each subtransaction is remembered, so a
 * subtransaction abort truncates the file there (later messages belong to the
 * aborted subtransaction or its children, as PostgreSQL's own apply worker relies
 * on).  At Stream Commit the file is read back message by message.  Memory stays
 * bounded by the largest single message, whatever the transaction's size.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_SPILL_H
#define PGCDC_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "../decoder/change.h"

struct spill;

/* dir is created if missing and emptied of old spill files.  Returns owned, or NULL
 * with err set. */
struct spill *spill_new(const char *dir, struct cdc_err *err);
void spill_free(struct spill *sp);

/* Stream Start for xid: open (first_segment: create) its file for appending.
 * CDC_ERR_AGAIN when state_dir is full (nothing changed: call again later). */
int spill_start(struct spill *sp, uint32_t xid, bool first_segment, struct cdc_err *err);
/* Append one message of the open stream.  msg_xid: the xid prefix it carries.
 * CDC_ERR_AGAIN when state_dir is full (ENOSPC, EDQUOT, EFBIG): a partial record is cut
 * back, so the same call can be made again once there is room. */
int spill_append(struct spill *sp, uint32_t msg_xid, cdc_lsn lsn, const uint8_t *buf,
                 size_t len, struct cdc_err *err);
/* Stream Stop: close the file (it stays on disk). */
int spill_stop(struct spill *sp, struct cdc_err *err);
/* Stream Abort: the whole transaction (subxid == xid) or a subtransaction. */
int spill_abort(struct spill *sp, uint32_t xid, uint32_t subxid, struct cdc_err *err);

/* Replay: call fn for each spilled message of xid, in order, then delete the file.
 * A transaction never streamed (no file) replays nothing.  fn's error stops it. */
typedef int (*spill_fn)(void *ctx, cdc_lsn lsn, const uint8_t *buf, size_t len,
                        struct cdc_err *err);
int spill_replay(struct spill *sp, uint32_t xid, spill_fn fn, void *ctx, struct cdc_err *err);

/* Drop every spilled transaction (new replication session: the server resends). */
void spill_reset(struct spill *sp);

/* Bytes currently spilled (metrics). */
uint64_t spill_bytes(const struct spill *sp);

#endif
