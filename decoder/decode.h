/*
 * decode.h — turns parsed pgoutput messages into row-change events.
 *
 * DESIGN: the decoder keeps the transaction being received and the relation cache,
 * and hands each result to one callback as a plain event struct.  It splits an
 * update that changes the record key into a delete of the old key followed by a
 * create of the new one, fans a multi-table Truncate out into one change per table,
 * and refuses changes for relations it has no definition for.  Streamed (protocol
 * 2) transactions are spilled by the agent and replayed here at Stream Commit
 * between dec_replay_begin and dec_replay_commit.  Pure: no I/O, clock or globals.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_DECODE_H
#define PGCDC_DECODE_H

#include "change.h"
#include "pgoutput.h"
#include "relcache.h"

enum dec_evtype {
	DEC_EV_BEGIN = 1,     /* txn */
	DEC_EV_CHANGE,        /* txn, change */
	DEC_EV_COMMIT,        /* txn */
	DEC_EV_RELATION,      /* rel (mutable: the handler may correct pk columns) */
	DEC_EV_TYPE,          /* msg (Type message) */
	DEC_EV_MESSAGE,       /* msg (logical decoding message), txn when transactional */
};

struct dec_event {
	enum dec_evtype type;
	cdc_lsn lsn;                      /* WAL position of the message */
	const struct cdc_txn *txn;
	const struct cdc_change *change;
	struct cdc_rel *rel;
	const struct pgo_msg *msg;
};

/* The handler returns 0, or a negative code (with err set) that stops decoding and
 * is returned by dec_feed. */
typedef int (*dec_handler_fn)(void *ctx, const struct dec_event *ev, struct cdc_err *err);

struct dec;

/* Returns an owned decoder, NULL on OOM. */
struct dec *dec_new(dec_handler_fn fn, void *ctx);
void dec_free(struct dec *d);

struct relcache *dec_relcache(struct dec *d);

/* Decode one message received outside a stream at WAL position lsn. */
int dec_feed(struct dec *d, cdc_lsn lsn, const uint8_t *buf, size_t len, struct cdc_err *err);

/* Replay of a streamed transaction: begin (emits DEC_EV_BEGIN), feed each spilled
 * message in order (they carry the stream xid prefix), commit (emits DEC_EV_COMMIT). */
int dec_replay_begin(struct dec *d, uint32_t xid, cdc_lsn commit_lsn, cdc_lsn end_lsn,
                     int64_t commit_ts_pg, struct cdc_err *err);
int dec_replay_feed(struct dec *d, cdc_lsn lsn, const uint8_t *buf, size_t len,
                    struct cdc_err *err);
int dec_replay_commit(struct dec *d, struct cdc_err *err);

/* Whether a transaction is open (Begin seen, Commit not yet). */
bool dec_in_txn(const struct dec *d);

/* Forget the open transaction and every relation (new replication session). */
void dec_reset(struct dec *d);

/* Commit LSN of the last committed transaction (source.sequence); settable so a
 * restarted agent continues the sequence. */
cdc_lsn dec_last_commit_lsn(const struct dec *d);
void dec_set_last_commit_lsn(struct dec *d, cdc_lsn lsn);

#endif
