/*
 * decode.c — pgoutput messages to row-change events (see decode.h).
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"

struct dec {
	dec_handler_fn fn;
	void *ctx;
	struct pgo_parser *parser;
	struct relcache *rc;
	struct cdc_txn txn;
	bool in_txn;
	cdc_lsn last_commit_lsn;
};

struct dec *
dec_new(dec_handler_fn fn, void *ctx)
{
	struct dec *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->fn = fn;
	d->ctx = ctx;
	d->parser = pgo_parser_new();
	d->rc = relcache_new();
	if (d->parser == NULL || d->rc == NULL) {
		dec_free(d);
		return NULL;
	}
	return d;
}

void
dec_free(struct dec *d)
{
	if (d == NULL)
		return;
	pgo_parser_free(d->parser);
	relcache_free(d->rc);
	free(d);
}

struct relcache *
dec_relcache(struct dec *d)
{
	return d->rc;
}

bool
dec_in_txn(const struct dec *d)
{
	return d->in_txn;
}

void
dec_reset(struct dec *d)
{
	d->in_txn = false;
	memset(&d->txn, 0, sizeof(d->txn));
	relcache_clear(d->rc);
}

cdc_lsn
dec_last_commit_lsn(const struct dec *d)
{
	return d->last_commit_lsn;
}

void
dec_set_last_commit_lsn(struct dec *d, cdc_lsn lsn)
{
	d->last_commit_lsn = lsn;
}

static int
emit(struct dec *d, enum dec_evtype type, cdc_lsn lsn, const struct cdc_change *ch,
     struct cdc_rel *rel, const struct pgo_msg *msg, struct cdc_err *err)
{
	struct dec_event ev = {
		.type = type, .lsn = lsn, .txn = &d->txn, .change = ch, .rel = rel, .msg = msg,
	};

	return d->fn(d->ctx, &ev, err);
}

static struct cdc_rel *
need_rel(struct dec *d, uint32_t oid, const char *what, cdc_lsn lsn, struct cdc_err *err)
{
	struct cdc_rel *r = relcache_get(d->rc, oid);

	if (r == NULL)
		cdc_errf(err, CDC_ERR_PROTO, "pgoutput: %s at " CDC_LSN_FMT " for relation oid %u "
		         "that no Relation message described", what, CDC_LSN_ARGS(lsn), oid);
	return r;
}

static int
check_tuple(const struct cdc_rel *r, const struct cdc_tuple *t, const char *what, cdc_lsn lsn,
            struct cdc_err *err)
{
	if (t->ncols != r->ncols)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: %s at " CDC_LSN_FMT " on %s.%s has %d "
		                "columns, its Relation message %d", what, CDC_LSN_ARGS(lsn),
		                r->schema, r->name, t->ncols, r->ncols);
	return 0;
}

static bool
same_value(const struct cdc_value *a, const struct cdc_value *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == CDC_VAL_NULL)
		return true;
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Did an update change the record key?  Only decidable where both tuples carry the
 * key values; an unchanged-TOAST or absent old value counts as unchanged. */
static bool
key_changed(const struct cdc_rel *r, const struct cdc_tuple *oldt, char old_kind,
            const struct cdc_tuple *newt)
{
	if (r->npk == 0 || old_kind == 0)
		return false;
	for (int i = 0; i < r->ncols; i++) {
		const struct cdc_value *o = &oldt->vals[i], *n = &newt->vals[i];

		if (!r->cols[i].pk)
			continue;
		if (o->kind == CDC_VAL_UNCHANGED || n->kind == CDC_VAL_UNCHANGED)
			continue;
		if (old_kind == 'K' && !r->cols[i].key)
			continue;   /* a key-only old tuple has no value for this column */
		if (!same_value(o, n))
			return true;
	}
	return false;
}

static int
need_txn(struct dec *d, const char *what, cdc_lsn lsn, struct cdc_err *err)
{
	if (!d->in_txn)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: %s at " CDC_LSN_FMT " outside a "
		                "transaction", what, CDC_LSN_ARGS(lsn));
	return 0;
}

static int
handle(struct dec *d, cdc_lsn lsn, const struct pgo_msg *m, bool replay, struct cdc_err *err)
{
	struct cdc_change ch = { .lsn = lsn, .txn = &d->txn };
	struct cdc_rel *r;
	int rc;

	switch (m->type) {
	case PGO_MSG_BEGIN:
		if (d->in_txn)
			return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Begin at " CDC_LSN_FMT " inside "
			                "transaction %u", CDC_LSN_ARGS(lsn), d->txn.xid);
		d->in_txn = true;
		d->txn.xid = m->xid;
		d->txn.begin_lsn = lsn;
		d->txn.commit_lsn = m->u.begin.final_lsn;
		d->txn.end_lsn = 0;
		d->txn.commit_ts_us = pgo_ts_to_unix_us(m->u.begin.commit_ts);
		d->txn.prev_commit_lsn = d->last_commit_lsn;
		return emit(d, DEC_EV_BEGIN, lsn, NULL, NULL, NULL, err);

	case PGO_MSG_COMMIT:
		if ((rc = need_txn(d, "Commit", lsn, err)) != 0)
			return rc;
		if (m->u.commit.commit_lsn != d->txn.commit_lsn)
			return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Commit at " CDC_LSN_FMT " of "
			                "transaction %u names commit LSN " CDC_LSN_FMT ", Begin said "
			                CDC_LSN_FMT, CDC_LSN_ARGS(lsn), d->txn.xid,
			                CDC_LSN_ARGS(m->u.commit.commit_lsn),
			                CDC_LSN_ARGS(d->txn.commit_lsn));
		d->txn.end_lsn = m->u.commit.end_lsn;
		d->txn.commit_ts_us = pgo_ts_to_unix_us(m->u.commit.commit_ts);
		rc = emit(d, DEC_EV_COMMIT, lsn, NULL, NULL, NULL, err);
		d->in_txn = false;
		d->last_commit_lsn = d->txn.commit_lsn;
		return rc;

	case PGO_MSG_ORIGIN:
		return 0;   /* origin of a replicated transaction: nothing to emit */

	case PGO_MSG_RELATION:
		if ((r = relcache_put(d->rc, m, err)) == NULL)
			return err->code;
		return emit(d, DEC_EV_RELATION, lsn, NULL, r, m, err);

	case PGO_MSG_TYPE:
		return emit(d, DEC_EV_TYPE, lsn, NULL, NULL, m, err);

	case PGO_MSG_INSERT:
		if ((rc = need_txn(d, "Insert", lsn, err)) != 0)
			return rc;
		if ((r = need_rel(d, m->u.insert.rel_oid, "Insert", lsn, err)) == NULL)
			return err->code;
		if ((rc = check_tuple(r, &m->u.insert.newtup, "Insert", lsn, err)) != 0)
			return rc;
		ch.op = CDC_OP_CREATE;
		ch.rel = r;
		ch.new_tuple = &m->u.insert.newtup;
		return emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err);

	case PGO_MSG_UPDATE:
		if ((rc = need_txn(d, "Update", lsn, err)) != 0)
			return rc;
		if ((r = need_rel(d, m->u.update.rel_oid, "Update", lsn, err)) == NULL)
			return err->code;
		if ((rc = check_tuple(r, &m->u.update.newtup, "Update", lsn, err)) != 0)
			return rc;
		if (m->u.update.old_kind &&
		    (rc = check_tuple(r, &m->u.update.oldtup, "Update old tuple", lsn, err)) != 0)
			return rc;
		ch.rel = r;
		if (key_changed(r, &m->u.update.oldtup, m->u.update.old_kind, &m->u.update.newtup)) {
			/* record key changed: delete of the old key, then create of the new */
			ch.op = CDC_OP_DELETE;
			ch.old_tuple = &m->u.update.oldtup;
			ch.old_kind = m->u.update.old_kind;
			ch.other_tuple = &m->u.update.newtup;
			if ((rc = emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err)) != 0)
				return rc;
			ch.op = CDC_OP_CREATE;
			ch.old_tuple = NULL;
			ch.old_kind = 0;
			ch.new_tuple = &m->u.update.newtup;
			ch.other_tuple = &m->u.update.oldtup;
			ch.other_kind = m->u.update.old_kind;
			return emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err);
		}
		ch.op = CDC_OP_UPDATE;
		ch.old_kind = m->u.update.old_kind;
		ch.old_tuple = ch.old_kind ? &m->u.update.oldtup : NULL;
		ch.new_tuple = &m->u.update.newtup;
		return emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err);

	case PGO_MSG_DELETE:
		if ((rc = need_txn(d, "Delete", lsn, err)) != 0)
			return rc;
		if ((r = need_rel(d, m->u.delete_.rel_oid, "Delete", lsn, err)) == NULL)
			return err->code;
		if ((rc = check_tuple(r, &m->u.delete_.oldtup, "Delete", lsn, err)) != 0)
			return rc;
		ch.op = CDC_OP_DELETE;
		ch.rel = r;
		ch.old_kind = m->u.delete_.old_kind;
		ch.old_tuple = &m->u.delete_.oldtup;
		return emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err);

	case PGO_MSG_TRUNCATE:
		if ((rc = need_txn(d, "Truncate", lsn, err)) != 0)
			return rc;
		/* resolve all first so a bad oid emits nothing */
		for (int i = 0; i < m->u.truncate.nrels; i++)
			if (need_rel(d, m->u.truncate.rel_oids[i], "Truncate", lsn, err) == NULL)
				return err->code;
		for (int i = 0; i < m->u.truncate.nrels; i++) {
			r = relcache_get(d->rc, m->u.truncate.rel_oids[i]);
			ch.op = CDC_OP_TRUNCATE;
			ch.rel = r;
			if ((rc = emit(d, DEC_EV_CHANGE, lsn, &ch, r, NULL, err)) != 0)
				return rc;
		}
		return 0;

	case PGO_MSG_MESSAGE:
		if ((m->u.message.flags & PGO_MESSAGE_TRANSACTIONAL) &&
		    (rc = need_txn(d, "transactional Message", lsn, err)) != 0)
			return rc;
		return emit(d, DEC_EV_MESSAGE, lsn, NULL, NULL, m, err);

	case PGO_MSG_STREAM_START:
	case PGO_MSG_STREAM_STOP:
	case PGO_MSG_STREAM_COMMIT:
	case PGO_MSG_STREAM_ABORT:
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: %s message at " CDC_LSN_FMT
		                " where %s", replay ? "nested stream" : "stream control",
		                CDC_LSN_ARGS(lsn), replay ? "a spilled transaction is replayed"
		                : "the agent should have handled it");
	default:
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: unexpected message type '%c'", m->type);
	}
}

int
dec_feed(struct dec *d, cdc_lsn lsn, const uint8_t *buf, size_t len, struct cdc_err *err)
{
	struct pgo_msg m;
	int rc;

	if ((rc = pgo_parse(d->parser, buf, len, false, &m, err)) != 0)
		return rc;
	return handle(d, lsn, &m, false, err);
}

int
dec_replay_begin(struct dec *d, uint32_t xid, cdc_lsn commit_lsn, cdc_lsn end_lsn,
                 int64_t commit_ts_pg, struct cdc_err *err)
{
	if (d->in_txn)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Commit of transaction %u inside "
		                "transaction %u", xid, d->txn.xid);
	d->in_txn = true;
	d->txn.xid = xid;
	d->txn.begin_lsn = 0;
	d->txn.commit_lsn = commit_lsn;
	d->txn.end_lsn = end_lsn;
	d->txn.commit_ts_us = pgo_ts_to_unix_us(commit_ts_pg);
	d->txn.prev_commit_lsn = d->last_commit_lsn;
	return emit(d, DEC_EV_BEGIN, commit_lsn, NULL, NULL, NULL, err);
}

int
dec_replay_feed(struct dec *d, cdc_lsn lsn, const uint8_t *buf, size_t len, struct cdc_err *err)
{
	struct pgo_msg m;
	int rc;

	if ((rc = pgo_parse(d->parser, buf, len, true, &m, err)) != 0)
		return rc;
	if (m.type == PGO_MSG_BEGIN || m.type == PGO_MSG_COMMIT)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: %s inside a streamed transaction",
		                m.type == PGO_MSG_BEGIN ? "Begin" : "Commit");
	return handle(d, lsn, &m, true, err);
}

int
dec_replay_commit(struct dec *d, struct cdc_err *err)
{
	int rc;

	if (!d->in_txn)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: replay commit without a transaction");
	rc = emit(d, DEC_EV_COMMIT, d->txn.commit_lsn, NULL, NULL, NULL, err);
	d->in_txn = false;
	d->last_commit_lsn = d->txn.commit_lsn;
	return rc;
}
