/*
 * history.h — what pgcdc learned from the catalog, kept as of the WAL position it
 * applies to and persisted in <state_dir>/<slot>.catalog, so that the same WAL always
 * gives the same records (issue 13.6).
 *
 * pgoutput's Relation message says which columns form the replica identity and their
 * type OIDs, but not what a type is (a domain's base type, an array's element) nor,
 * under REPLICA IDENTITY FULL or NOTHING, which columns are the primary key (the
 * record key).  pgcdc reads those from the catalog, which is the catalog of *now*:
 * catching up after DDL (a primary key moved, a domain or table dropped) would give
 * other records than decoding live did.  So:
 *  - types: a type OID never changes meaning while it exists, so every type pgcdc
 *    learns is kept for good, and the types of every published table are learned at
 *    each connection, before anything is decoded;
 *  - keys: each learned primary key is kept with the position from which it holds;
 *    the one in force at a change's position is used when the catalog's current key
 *    was created after the change's transaction (or the table is gone).
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_HISTORY_H
#define PGCDC_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "../decoder/change.h"
#include "../decoder/types.h"

struct hist;

/* Load path (a missing file is an empty history; one that cannot be read or parsed is
 * an error naming it).  Returns owned, or NULL with err set. */
struct hist *hist_open(const char *path, struct cdc_err *err);
void hist_free(struct hist *h);

/* Register every type the history knows into types. 0 or CDC_ERR_NOMEM. */
int hist_fill_types(const struct hist *h, struct cdc_types *types, struct cdc_err *err);
/* Remember a type read from pg_type (as types_add takes it). */
int hist_add_type(struct hist *h, uint32_t oid, char typtype, uint32_t base, uint32_t elem,
                  char delim, const char *name);
/* Remember that from lsn on, relation reloid's primary key is names[0..n) (n = 0: it
 * has none).  Nothing is added when that is already the newest entry. */
int hist_add_key(struct hist *h, uint32_t reloid, cdc_lsn lsn, char *const *names, int n);
/* The primary key in force at lsn: the newest entry from at or before lsn.  Returns
 * the number of names (borrowed, valid until the next hist_add_key), or -1 when the
 * history has no entry for reloid at or before lsn. */
int hist_key_at(const struct hist *h, uint32_t reloid, cdc_lsn lsn, char *const **names);
/* Write the file when something was added (write, fsync, rename, fsync the dir). */
int hist_save(struct hist *h, struct cdc_err *err);

#endif
