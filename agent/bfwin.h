/*
 * bfwin.h — the watermark window of an online backfill chunk (SPEC §7, DBLog).
 *
 * An online backfill reads a table in chunks while the stream runs.  Each chunk is
 * read in its own short transaction between two non-transactional logical decoding
 * messages (prefix pgcdc.wm), the low watermark L before the read and the high
 * watermark H after it.  The stream delivers transactions in commit order and the
 * watermarks at their WAL positions, so every transaction the stream delivers
 * between L and H committed either before the chunk's read (the chunk shows its
 * effect) or after it (the chunk shows the older state): either way the stream's
 * record is at least as new as the chunk's row, so the chunk must not emit that
 * row.  What is left is emitted at H, before anything the stream delivers after H,
 * so no row is ever overtaken by an older read.
 *
 * This module is that bookkeeping, pure (no I/O, no clock):
 *
 * - Keyed tables (a primary key or identity index): a change inside the window drops
 *   the chunk's rows with its keys (the old key and the new one); a truncate drops the
 *   whole chunk.  Rows inserted after the backfill began and read by a chunk are sent
 *   twice (by the stream and by the chunk): harmless for a replay by key.
 *
 * - Keyless tables (read by ctid ranges) have no key to match a change with a row, and
 *   matching by content could drop a different row with the same content, which would
 *   lose it.  So a keyless chunk is read again (new watermarks) when a transaction
 *   inside its window that the chunk's snapshot does not see (it committed after the
 *   read: pg_current_snapshot() of the chunk's transaction) updated or deleted rows of
 *   the table: the chunk may hold those rows in their old state.  Inserts need nothing:
 *   a row inserted by a transaction the chunk does not see is not in the chunk.  Rows
 *   written while the table's backfill runs (inserted, or the new row of an update)
 *   can be delivered twice, by the stream and by a later chunk: without a key nothing
 *   tells them apart from rows the stream never delivered, and dropping by content
 *   could lose a row.  So keyless tables are at-least-once for rows written during
 *   their backfill, exact otherwise; never stale, never lost.  (A keyless table can
 *   only be updated or deleted from with REPLICA IDENTITY FULL.)
 *
 * Columns are matched by name, so a chunk read before an ALTER TABLE still finds its
 * key columns in a change made after it; a change that lacks one of the chunk's
 * columns cannot be matched, and bfw_chunk_change says so: the caller reads the
 * chunk again.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_BFWIN_H
#define PGCDC_BFWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../decoder/change.h"

struct bfw_chunk;

/* A chunk of a table whose columns (as read, in order) are names[0..ncols-1], of which
 * the record key is key[0..nkey-1] (indexes into names); nkey = 0: a keyless table.
 * names are copied.  Returns owned, NULL on OOM. */
struct bfw_chunk *bfw_chunk_new(char *const *names, int ncols, const int *key, int nkey);
void bfw_chunk_free(struct bfw_chunk *c);

/* The snapshot the chunk was read in, as pg_current_snapshot() prints it
 * ("xmin:xmax:xip,...", 64-bit transaction ids): needed for keyless tables. */
int bfw_chunk_set_snapshot(struct bfw_chunk *c, const char *snap, struct cdc_err *err);

/* Whether the chunk's snapshot sees (top-level) transaction xid as committed. */
bool bfw_chunk_sees(const struct bfw_chunk *c, uint32_t xid);

/* A change of the chunk's table that the stream delivered between the watermarks
 * (before or after the rows arrive: a worker reads them while the stream runs).
 * Returns 0, 1 when the chunk must be read again (a column of the chunk is missing
 * from the change, or a key column is an unchanged TOAST value that cannot be
 * matched), or a negative code on OOM. */
int bfw_chunk_change(struct bfw_chunk *c, const struct cdc_change *ch, struct cdc_err *err);

/* WAL order is not visibility order: a transaction whose commit record precedes the
 * low watermark can still be invisible to the chunk's read (it leaves the proc array
 * after writing its commit record; with synchronous replication, after the standby
 * answers).  The stream delivers it before the window, and the chunk holds rows older
 * than it.  So changes delivered before the window are handed over too, with their
 * transaction: at the high watermark they count like the window's own when the
 * chunk's snapshot does not see that transaction.
 *
 * A change's identity for that: bfw_chunk_ident encodes what a change means to a
 * chunk of this table (the keys it touches, or for a keyless table whether it
 * updates or deletes) into *out (owned, *len bytes; kind BFW_*); bfw_chunk_before
 * hands one to a window.  Returns 0, 1 when the change cannot be matched (as for
 * bfw_chunk_change), -1 on OOM. */
/* BFW_REREAD: a change that cannot be matched (the caller's kind for a 1 from
 * bfw_chunk_ident): a chunk whose snapshot does not see it is read again. */
enum { BFW_KEYS = 'k', BFW_WRITE = 'w', BFW_TRUNCATE = 't', BFW_NONE = 'n', BFW_REREAD = 'r' };
int bfw_chunk_ident(struct bfw_chunk *c, const struct cdc_change *ch, char *kind, char **out,
                    size_t *len);
int bfw_chunk_before(struct bfw_chunk *c, uint32_t xid, char kind, const char *ident, size_t len);

/* At the high watermark, once the snapshot is in: take in the changes delivered before
 * the window that the snapshot does not see.  Returns 0, 1 when a keyless chunk must be
 * read again (a transaction its snapshot does not see updated or deleted rows), -1 on
 * OOM. */
int bfw_chunk_finish(struct bfw_chunk *c);

/* After bfw_chunk_finish, whether a row read by the chunk (its tuple, ncols values in
 * the chunk's column order) is to be emitted: not when a change of the window (or one
 * before it the snapshot does not see) touched its key, nor after a truncate. */
bool bfw_chunk_keeps(struct bfw_chunk *c, const struct cdc_tuple *t);

#endif
