/*
 * relcache.h — relation definitions learned from pgoutput Relation messages.
 *
 * The server sends a Relation message before the first change of a table in each
 * session, and again whenever its definition changes; the newest one wins.
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_RELCACHE_H
#define PGCDC_RELCACHE_H

#include "change.h"
#include "pgoutput.h"

struct relcache;

struct relcache *relcache_new(void);
void relcache_free(struct relcache *rc);

/* Store the relation described by a Relation message (msg->type == 'R'), copying
 * everything.  A previous definition of the same oid is freed: pointers to it become
 * invalid.  Column pk flags are preset to key && replident != 'f'.  Returns the
 * cached relation (borrowed), or NULL on OOM (err set). */
struct cdc_rel *relcache_put(struct relcache *rc, const struct pgo_msg *msg, struct cdc_err *err);

/* Borrowed relation for oid, or NULL when no Relation message was seen. */
struct cdc_rel *relcache_get(const struct relcache *rc, uint32_t oid);

/* Set the record-key columns of rel from a list of column names (the primary key
 * as the catalog says).  Names not in the relation are ignored.  nnames == 0 keeps
 * the preset.  */
void relcache_set_pk(struct cdc_rel *rel, char *const *names, int nnames);

/* Forget everything (a new replication session resends Relation messages). */
void relcache_clear(struct relcache *rc);

#endif
