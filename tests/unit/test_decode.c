/*
 * test_decode.c — pgoutput messages to change events (decoder/decode.c, relcache.c)
 * driven by the captured PostgreSQL 15 fixtures (tests/fixtures).
 *
 * The driver does what agent/stream.c does with the spill files, in memory: messages
 * between Stream Start and Stream Stop go to a per-xid list, a Stream Abort of the
 * whole transaction drops the list and one of a subtransaction cuts it at that
 * subtransaction's first message (agent/spill.c), and a Stream Commit replays the list
 * through dec_replay_begin / dec_replay_feed / dec_replay_commit.  Every event is
 * rendered as one line ("c basic new=1|one|10", "d basic K=1|~|~": ~ is NULL, ? an
 * unchanged TOAST value) and whole fixtures are compared line by line with what their
 * SQL did, then transaction coordinates, relation key flags and the error paths.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decoder/change.h"
#include "decoder/decode.h"
#include "decoder/pgoutput.h"
#include "decoder/relcache.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---------------------------------------------------------------------- */

struct rec {
	cdc_lsn lsn;
	uint32_t len;
	const uint8_t *data;
};

struct fixture {
	const char *name;
	uint8_t *raw;
	size_t rawlen;
	struct rec *recs;
	size_t n;
};

static struct fixture fixtures[] = {
	{ .name = "v1_basic" }, { .name = "v1_types" }, { .name = "v1_identity" },
	{ .name = "v1_toast" }, { .name = "v1_rollback" }, { .name = "v1_origin" },
	{ .name = "v2_stream" },
};

/* $PGCDC_SRCDIR/tests/fixtures, else relative to the working directory (the runner uses
 * the repository root), else to this source file; not found is a failure. */
static const char *
fixture_dir(void)
{
	static char dir[PATH_MAX];
	const char *src = getenv("PGCDC_SRCDIR");
	const char *rel[] = { "tests/fixtures", "../tests/fixtures", "../../tests/fixtures",
	                      "../../../tests/fixtures" };
	char probe[PATH_MAX + 64];
	const char *slash;

	if (dir[0] != '\0')
		return dir;
	if (src != NULL) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", src);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	for (size_t i = 0; i < NELEM(rel); i++) {
		snprintf(dir, sizeof(dir), "%s", rel[i]);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	slash = strrchr(__FILE__, '/');
	if (slash != NULL) {
		snprintf(dir, sizeof(dir), "%.*s/../fixtures", (int) (slash - __FILE__), __FILE__);
		snprintf(probe, sizeof(probe), "%s/pgoutput_v1_basic.bin", dir);
		if (access(probe, R_OK) == 0)
			return dir;
	}
	dir[0] = '\0';
	fail_msg("tests/fixtures/pgoutput_*.bin not found (run from the repository root or "
	         "set PGCDC_SRCDIR)");
	return NULL;
}

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static struct fixture *
fx(const char *name)
{
	struct fixture *f = NULL;
	char path[PATH_MAX + 64];
	size_t pos = 0, cap = 64;
	FILE *fp;
	long n;

	for (size_t i = 0; i < NELEM(fixtures); i++)
		if (strcmp(fixtures[i].name, name) == 0)
			f = &fixtures[i];
	assert_non_null(f);
	if (f->raw != NULL)
		return f;
	snprintf(path, sizeof(path), "%s/pgoutput_%s.bin", fixture_dir(), name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	f->raw = malloc((size_t) n);
	assert_non_null(f->raw);
	assert_int_equal(fread(f->raw, 1, (size_t) n, fp), (size_t) n);
	fclose(fp);
	f->rawlen = (size_t) n;
	f->recs = calloc(cap, sizeof(*f->recs));
	assert_non_null(f->recs);
	while (pos < f->rawlen) {
		struct rec *r;

		if (f->rawlen - pos < 12)
			fail_msg("%s: short record header at offset %zu", path, pos);
		if (f->n == cap) {
			cap *= 2;
			f->recs = realloc(f->recs, cap * sizeof(*f->recs));
			assert_non_null(f->recs);
		}
		r = &f->recs[f->n++];
		r->lsn = be(f->raw + pos, 8);
		r->len = (uint32_t) be(f->raw + pos + 8, 4);
		pos += 12;
		if (r->len == 0 || f->rawlen - pos < r->len)
			fail_msg("%s: bad record length %u at offset %zu", path, r->len, pos - 4);
		r->data = f->raw + pos;
		pos += r->len;
	}
	return f;
}

/* ---- event collector ---------------------------------------------------------------- */

struct ev {
	enum dec_evtype type;
	cdc_lsn lsn;
	struct cdc_txn txn;      /* copy of *ev->txn */
	char *line;              /* rendered */
	/* DEC_EV_RELATION */
	uint32_t rel_oid;
	int rel_ncols, rel_npk;
	uint32_t rel_version;
	char rel_key[16], rel_pk[16];   /* 'k' / '.' per column */
};

struct pkfix {
	const char *table;
	const char *cols[4];
	int ncols;
};

struct coll {
	struct ev *evs;
	size_t n, cap;
	struct dec *d;
	long fail_at;              /* return fail_code at this event index (-1: never) */
	int fail_code;
	const struct pkfix *pk;    /* primary keys to set on Relation events, as the agent */
	size_t npk;
};

static void
coll_init(struct coll *c)
{
	memset(c, 0, sizeof(*c));
	c->fail_at = -1;
}

static void
coll_free(struct coll *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->evs[i].line);
	free(c->evs);
	c->evs = NULL;
	c->n = c->cap = 0;
}

struct sbuf {
	char *s;
	size_t n, cap;
};

static void
sb_put(struct sbuf *b, const char *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Printable bytes as they are, others as \xNN. */
static void
sb_bytes(struct sbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char hex[8];

		if (p[i] >= 0x20 && p[i] < 0x7f) {
			sb_put(b, (const char *) &p[i], 1);
		} else {
			snprintf(hex, sizeof(hex), "\\x%02x", p[i]);
			sb_str(b, hex);
		}
	}
}

static void
sb_tuple(struct sbuf *b, const struct cdc_tuple *t)
{
	for (int i = 0; i < t->ncols; i++) {
		const struct cdc_value *v = &t->vals[i];

		if (i > 0)
			sb_str(b, "|");
		switch (v->kind) {
		case CDC_VAL_NULL:
			sb_str(b, "~");
			break;
		case CDC_VAL_UNCHANGED:
			sb_str(b, "?");
			break;
		case CDC_VAL_TEXT:
			if (v->len > 64) {
				char big[32];

				snprintf(big, sizeof(big), "<%u bytes>", v->len);
				sb_str(b, big);
			} else {
				sb_bytes(b, (const uint8_t *) v->data, v->len);
			}
			break;
		default:
			fail_msg("value kind '%c'", v->kind);
		}
	}
}

static int
on_event(void *ctx, const struct dec_event *ev, struct cdc_err *err)
{
	struct coll *c = ctx;
	struct ev *e;
	struct sbuf b = { 0 };
	char tmp[128];

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->evs = realloc(c->evs, c->cap * sizeof(*c->evs));
		assert_non_null(c->evs);
	}
	e = &c->evs[c->n];
	memset(e, 0, sizeof(*e));
	e->type = ev->type;
	e->lsn = ev->lsn;
	assert_non_null(ev->txn);
	e->txn = *ev->txn;

	switch (ev->type) {
	case DEC_EV_BEGIN:
		snprintf(tmp, sizeof(tmp), "B %u", ev->txn->xid);
		sb_str(&b, tmp);
		assert_true(dec_in_txn(c->d));
		break;
	case DEC_EV_COMMIT:
		snprintf(tmp, sizeof(tmp), "C %u", ev->txn->xid);
		sb_str(&b, tmp);
		break;
	case DEC_EV_RELATION: {
		struct cdc_rel *r = ev->rel;

		assert_non_null(r);
		assert_ptr_equal(relcache_get(dec_relcache(c->d), r->oid), r);
		for (size_t i = 0; i < c->npk; i++) {
			if (strcmp(c->pk[i].table, r->name) == 0)
				relcache_set_pk(r, (char *const *) c->pk[i].cols, c->pk[i].ncols);
		}
		snprintf(tmp, sizeof(tmp), "R %s.%s", r->schema, r->name);
		sb_str(&b, tmp);
		e->rel_oid = r->oid;
		e->rel_ncols = r->ncols;
		e->rel_npk = r->npk;
		e->rel_version = r->version;
		for (int i = 0; i < r->ncols && i < 15; i++) {
			e->rel_key[i] = r->cols[i].key ? 'k' : '.';
			e->rel_pk[i] = r->cols[i].pk ? 'p' : '.';
		}
		break;
	}
	case DEC_EV_TYPE:
		snprintf(tmp, sizeof(tmp), "Y %u %s.%s", ev->msg->u.type.oid, ev->msg->u.type.schema,
		         ev->msg->u.type.name);
		sb_str(&b, tmp);
		break;
	case DEC_EV_MESSAGE:
		snprintf(tmp, sizeof(tmp), "M %s %s ",
		         ev->msg->u.message.flags & PGO_MESSAGE_TRANSACTIONAL ? "tx" : "nontx",
		         ev->msg->u.message.prefix);
		sb_str(&b, tmp);
		sb_bytes(&b, ev->msg->u.message.content, ev->msg->u.message.len);
		break;
	case DEC_EV_CHANGE: {
		const struct cdc_change *ch = ev->change;

		assert_non_null(ch);
		assert_non_null(ch->rel);
		assert_ptr_equal(ch->txn, ev->txn);
		assert_ptr_equal(ch->rel, ev->rel);
		assert_int_equal(ch->lsn, ev->lsn);
		assert_ptr_equal(relcache_get(dec_relcache(c->d), ch->rel->oid), ch->rel);
		assert_int_equal(ch->snapshot, CDC_SNAP_FALSE);
		assert_true(dec_in_txn(c->d));
		/* the shape of each op */
		switch (ch->op) {
		case CDC_OP_CREATE:
			assert_null(ch->old_tuple);
			assert_non_null(ch->new_tuple);
			break;
		case CDC_OP_UPDATE:
			assert_non_null(ch->new_tuple);
			break;
		case CDC_OP_DELETE:
			assert_non_null(ch->old_tuple);
			assert_null(ch->new_tuple);
			break;
		case CDC_OP_TRUNCATE:
			assert_null(ch->old_tuple);
			assert_null(ch->new_tuple);
			break;
		default:
			fail_msg("op '%c'", ch->op);
		}
		assert_int_equal(ch->old_kind != 0, ch->old_tuple != NULL);
		if (ch->old_tuple != NULL)
			assert_int_equal(ch->old_tuple->ncols, ch->rel->ncols);
		if (ch->new_tuple != NULL)
			assert_int_equal(ch->new_tuple->ncols, ch->rel->ncols);
		snprintf(tmp, sizeof(tmp), "%c %s", ch->op, ch->rel->name);
		sb_str(&b, tmp);
		if (ch->old_tuple != NULL) {
			snprintf(tmp, sizeof(tmp), " %c=", ch->old_kind);
			sb_str(&b, tmp);
			sb_tuple(&b, ch->old_tuple);
		}
		if (ch->new_tuple != NULL) {
			sb_str(&b, " new=");
			sb_tuple(&b, ch->new_tuple);
		}
		/* a record-key change's other half: ">new=" on the delete, "<K=" (or "<O=")
		 * on the create */
		if (ch->other_tuple != NULL) {
			assert_int_equal(ch->other_tuple->ncols, ch->rel->ncols);
			assert_true(ch->op == CDC_OP_DELETE || ch->op == CDC_OP_CREATE);
			if (ch->op == CDC_OP_DELETE) {
				sb_str(&b, " >new=");
			} else {
				snprintf(tmp, sizeof(tmp), " <%c=", ch->other_kind);
				sb_str(&b, tmp);
			}
			sb_tuple(&b, ch->other_tuple);
		}
		break;
	}
	default:
		fail_msg("event type %d", (int) ev->type);
	}
	e->line = b.s;
	if (c->fail_at >= 0 && (size_t) c->fail_at == c->n) {
		c->n++;
		return cdc_errf(err, c->fail_code, "handler refuses event %ld", c->fail_at);
	}
	c->n++;
	return 0;
}

/* ---- the driver: what agent/stream.c + agent/spill.c do, in memory ------------------- */

struct smsg {
	cdc_lsn lsn;
	uint8_t *data;
	size_t len;
	uint32_t xid;   /* the xid prefix of R/Y/I/U/D/T, else 0 (as agent/stream.c reads it) */
	size_t rec;     /* fixture record index */
};

struct sxact {
	uint32_t xid;
	struct smsg *msgs;
	size_t n, cap;
};

struct driver {
	struct dec *d;
	struct pgo_parser *ctl;
	struct sxact *xs;
	size_t nxs, capxs;
	struct sxact *cur;          /* open stream */
	uint32_t cur_xid;
	bool replayed[4096];        /* records replayed at a Stream Commit */
	size_t err_rec;             /* record at which the first error happened */
};

static void
sx_clear(struct sxact *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->msgs[i].data);
	free(x->msgs);
	x->msgs = NULL;
	x->n = x->cap = 0;
}

static struct sxact *
sx_find(struct driver *dr, uint32_t xid)
{
	for (size_t i = 0; i < dr->nxs; i++)
		if (dr->xs[i].xid == xid)
			return &dr->xs[i];
	return NULL;
}

static void
sx_drop(struct driver *dr, struct sxact *x)
{
	size_t i = (size_t) (x - dr->xs);

	sx_clear(x);
	dr->xs[i] = dr->xs[--dr->nxs];
}

static void
driver_init(struct driver *dr, struct coll *c)
{
	memset(dr, 0, sizeof(*dr));
	dr->d = dec_new(on_event, c);
	assert_non_null(dr->d);
	c->d = dr->d;
	dr->ctl = pgo_parser_new();
	assert_non_null(dr->ctl);
}

static void
driver_free(struct driver *dr)
{
	for (size_t i = 0; i < dr->nxs; i++)
		sx_clear(&dr->xs[i]);
	free(dr->xs);
	dec_free(dr->d);
	pgo_parser_free(dr->ctl);
}

/* One record (len may be shorter than the record: a truncated copy is made). */
static int
drive_one(struct driver *dr, size_t ri, cdc_lsn lsn, const uint8_t *p, size_t len,
          struct cdc_err *err)
{
	struct pgo_msg m;
	int rc;

	if (len == 0)   /* a cut Stream Stop */
		return cdc_errf(err, CDC_ERR_PROTO, "empty XLogData at record %zu", ri);
	switch (p[0]) {
	case 'S':
	case 'E':
	case 'c':
	case 'A':
		if ((rc = pgo_parse(dr->ctl, p, len, false, &m, err)) != 0)
			return rc;
		break;
	default:
		if (dr->cur != NULL) {
			struct sxact *x = dr->cur;
			struct smsg *s;

			if (x->n == x->cap) {
				x->cap = x->cap ? x->cap * 2 : 64;
				x->msgs = realloc(x->msgs, x->cap * sizeof(*x->msgs));
				assert_non_null(x->msgs);
			}
			s = &x->msgs[x->n++];
			s->lsn = lsn;
			s->len = len;
			s->rec = ri;
			s->data = malloc(len);
			assert_non_null(s->data);
			memcpy(s->data, p, len);
			s->xid = len >= 5 && strchr("RYIUDT", p[0]) != NULL ? (uint32_t) be(p + 1, 4) : 0;
			return 0;
		}
		return dec_feed(dr->d, lsn, p, len, err);
	}

	switch (m.type) {
	case PGO_MSG_STREAM_START: {
		struct sxact *x = sx_find(dr, m.xid);

		assert_null(dr->cur);
		if (x == NULL) {
			assert_true(m.u.stream_start.first_segment);
			if (dr->nxs == dr->capxs) {
				dr->capxs = dr->capxs ? dr->capxs * 2 : 4;
				dr->xs = realloc(dr->xs, dr->capxs * sizeof(*dr->xs));
				assert_non_null(dr->xs);
			}
			x = &dr->xs[dr->nxs++];
			memset(x, 0, sizeof(*x));
			x->xid = m.xid;
		} else {
			assert_false(m.u.stream_start.first_segment);
		}
		dr->cur = x;
		return 0;
	}
	case PGO_MSG_STREAM_STOP:
		assert_non_null(dr->cur);
		dr->cur = NULL;
		return 0;
	case PGO_MSG_STREAM_ABORT: {
		struct sxact *x = sx_find(dr, m.xid);

		if (x == NULL)
			return 0;
		if (m.u.stream_abort.subxid == m.xid) {
			sx_drop(dr, x);
			return 0;
		}
		/* cut at the first message of the subtransaction: later ones belong to it or
		 * to subtransactions begun after it */
		for (size_t i = 0; i < x->n; i++) {
			if (x->msgs[i].xid == m.u.stream_abort.subxid) {
				for (size_t k = i; k < x->n; k++)
					free(x->msgs[k].data);
				x->n = i;
				break;
			}
		}
		return 0;
	}
	case PGO_MSG_STREAM_COMMIT: {
		struct sxact *x = sx_find(dr, m.xid);

		if ((rc = dec_replay_begin(dr->d, m.xid, m.u.stream_commit.commit_lsn,
		                           m.u.stream_commit.end_lsn, m.u.stream_commit.commit_ts, err)) != 0)
			return rc;
		for (size_t i = 0; x != NULL && i < x->n; i++) {
			dr->replayed[x->msgs[i].rec < NELEM(dr->replayed) ? x->msgs[i].rec : 0] = true;
			if ((rc = dec_replay_feed(dr->d, x->msgs[i].lsn, x->msgs[i].data, x->msgs[i].len,
			                          err)) != 0)
				return rc;
		}
		if (x != NULL)
			sx_drop(dr, x);
		return dec_replay_commit(dr->d, err);
	}
	default:
		fail_msg("control message '%c'", m.type);
	}
	return 0;
}

/* Drive a whole fixture; record `trunc` (if < f->n) is cut short by one byte.  Stops at
 * the first error, returns it (dr->err_rec says where). */
static int
drive(struct driver *dr, const struct fixture *f, size_t trunc, struct cdc_err *err)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct rec *r = &f->recs[i];
		size_t len = i == trunc ? r->len - 1 : r->len;
		uint8_t *copy = malloc(len ? len : 1);   /* exactly len: over-reads show */
		int rc;

		assert_non_null(copy);
		memcpy(copy, r->data, len);
		rc = drive_one(dr, i, r->lsn, copy, len, err);
		free(copy);
		if (rc != 0) {
			dr->err_rec = i;
			return rc;
		}
	}
	return 0;
}

/* Run a whole fixture, which must decode without error. */
static void
run_ok(const char *name, struct coll *c)
{
	struct fixture *f = fx(name);
	struct driver dr;
	struct cdc_err err = { 0 };
	int rc;

	driver_init(&dr, c);
	rc = drive(&dr, f, SIZE_MAX, &err);
	if (rc != 0)
		fail_msg("%s: record %zu: %d %s", name, dr.err_rec, rc, err.msg);
	assert_false(dec_in_txn(dr.d));
	assert_null(dr.cur);
	assert_int_equal(dr.nxs, 0);   /* every streamed transaction committed or aborted */
	driver_free(&dr);
}

static void
assert_lines(const struct coll *c, const char *const *want, size_t nwant)
{
	for (size_t i = 0; i < nwant && i < c->n; i++) {
		if (strcmp(c->evs[i].line, want[i]) != 0)
			fail_msg("event %zu: got '%s', want '%s'", i, c->evs[i].line, want[i]);
	}
	if (c->n != nwant)
		fail_msg("%zu events, want %zu (first extra/missing: '%s')", c->n, nwant,
		         c->n > nwant ? c->evs[nwant].line : want[c->n]);
}

/* Transaction coordinates over a whole run: Begin/Commit pair up, changes carry their
 * transaction, end_lsn > commit_lsn, prev_commit_lsn chains from `first_prev`. */
static void
check_txns(const struct coll *c, cdc_lsn first_prev)
{
	cdc_lsn prev = first_prev;
	const struct ev *b = NULL;
	size_t ntx = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct ev *e = &c->evs[i];

		switch (e->type) {
		case DEC_EV_BEGIN:
			assert_null(b);
			b = e;
			assert_true(e->txn.xid != 0);
			assert_true(e->txn.commit_lsn != 0);
			assert_int_equal(e->txn.prev_commit_lsn, prev);
			assert_true(e->txn.commit_ts_us > INT64_C(1577836800000000));   /* after 2020 */
			assert_true(e->txn.commit_ts_us < INT64_C(4102444800000000));   /* before 2100 */
			break;
		case DEC_EV_CHANGE:
			assert_non_null(b);
			assert_int_equal(e->txn.xid, b->txn.xid);
			assert_int_equal(e->txn.commit_lsn, b->txn.commit_lsn);
			assert_int_equal(e->txn.prev_commit_lsn, prev);
			assert_true(e->lsn != 0 && e->lsn <= b->txn.commit_lsn);
			break;
		case DEC_EV_COMMIT:
			assert_non_null(b);
			assert_int_equal(e->txn.xid, b->txn.xid);
			assert_int_equal(e->txn.commit_lsn, b->txn.commit_lsn);
			assert_true(e->txn.end_lsn > e->txn.commit_lsn);
			assert_int_equal(e->txn.commit_ts_us, b->txn.commit_ts_us);
			prev = e->txn.commit_lsn;
			b = NULL;
			ntx++;
			break;
		default:
			break;
		}
	}
	assert_null(b);
	assert_true(ntx > 0);
}

static const struct ev *
nth_event(const struct coll *c, enum dec_evtype type, size_t nth)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->evs[i].type == type && nth-- == 0)
			return &c->evs[i];
	fail_msg("no event %zu of type %d", nth, (int) type);
	return NULL;
}

/* ---- whole fixtures ----------------------------------------------------------------- */

static void
test_v1_basic(void **state)
{
	static const char *const want[] = {
		"B 729", "R public.basic", "c basic new=1|one|10", "C 729",
		"B 730", "u basic new=1|uno|11", "C 730",
		/* UPDATE basic SET id = 2: the record key changed */
		"B 731", "d basic K=1|~|~ >new=2|uno|11", "c basic new=2|uno|11 <K=1|~|~", "C 731",
		"B 732", "d basic K=2|~|~", "C 732",
		"B 733", "R public.trunc_a", "c trunc_a new=1|a1", "c trunc_a new=2|a2", "C 733",
		"B 734", "R public.trunc_b", "c trunc_b new=1|1", "c trunc_b new=2|2", "C 734",
		"B 735", "R public.trunc_a", "R public.trunc_b", "t trunc_a", "t trunc_b", "C 735",
		"B 736", "M tx pgcdc.test transactional message", "C 736",
		"M nontx pgcdc.test \\x00\\xff\\x0a",
		"B 737", "c basic new=10|ten|100", "c basic new=11|eleven|110", "u basic new=10|ten|101",
		"M tx pgcdc.test inside a transaction", "d basic K=11|~|~", "R public.trunc_a",
		"c trunc_a new=1|after truncate", "C 737",
	};
	struct coll c;
	const struct ev *e;

	coll_init(&c);
	run_ok("v1_basic", &c);
	assert_lines(&c, want, NELEM(want));
	check_txns(&c, 0);

	/* first transaction: coordinates from its Begin and Commit */
	e = nth_event(&c, DEC_EV_COMMIT, 0);
	assert_int_equal(e->txn.xid, 729);
	assert_int_equal(e->txn.commit_lsn, 0x19530D8);
	assert_int_equal(e->txn.end_lsn, 0x1953108);
	assert_int_equal(e->txn.prev_commit_lsn, 0);
	e = nth_event(&c, DEC_EV_BEGIN, 1);
	assert_int_equal(e->txn.prev_commit_lsn, 0x19530D8);
	assert_int_equal(e->txn.end_lsn, 0);   /* not known before the Commit */

	/* the key-changing update: delete then create at the update's LSN */
	assert_int_equal(c.evs[8].lsn, 0x1953188);
	assert_int_equal(c.evs[9].lsn, 0x1953188);
	/* truncate: one change per table, both at the Truncate's LSN */
	assert_int_equal(c.evs[27].lsn, 0x1954DC0);
	assert_int_equal(c.evs[28].lsn, 0x1954DC0);
	/* the non-transactional message between transactions */
	assert_int_equal(c.evs[33].type, DEC_EV_MESSAGE);
	assert_int_equal(c.evs[33].lsn, 0x1955138);

	/* relations: id is the key and the record key, trunc_b's id is a bigint */
	e = nth_event(&c, DEC_EV_RELATION, 0);
	assert_int_equal(e->rel_oid, 16386);
	assert_int_equal(e->rel_ncols, 3);
	assert_string_equal(e->rel_key, "k..");
	assert_string_equal(e->rel_pk, "p..");
	assert_int_equal(e->rel_npk, 1);
	e = nth_event(&c, DEC_EV_RELATION, 2);
	assert_int_equal(e->rel_oid, 16403);
	assert_string_equal(e->rel_pk, "p.");
	/* each Relation message is a new version */
	for (size_t i = 1; i < 6; i++)
		assert_true(nth_event(&c, DEC_EV_RELATION, i)->rel_version >
		            nth_event(&c, DEC_EV_RELATION, i - 1)->rel_version);
	coll_free(&c);
}

static const char *const identity_want[] = {
	"B 763", "R public.id_default", "c id_default new=1|one|x", "c id_default new=2|two|y", "C 763",
	"B 764", "u id_default new=1|one!|x", "C 764",
	"B 765", "d id_default K=2|~|~ >new=3|two|y", "c id_default new=3|two|y <K=2|~|~", "C 765",
	"B 766", "d id_default K=1|~|~", "C 766",
	/* ADD COLUMN extra, then DROP COLUMN dropme */
	"B 768", "R public.id_default", "c id_default new=4|four|z|40", "C 768",
	"B 770", "R public.id_default", "c id_default new=5|five|50", "C 770",
	/* FULL: old rows, NULLs included */
	"B 771", "R public.id_full", "c id_full new=1|one|1", "c id_full new=2|~|~", "C 771",
	"B 772", "u id_full O=1|one|1 new=1|one|2", "C 772",
	"B 773", "u id_full O=2|~|~ new=2|was null|~", "C 773",
	"B 774", "d id_full O=1|one|2", "C 774",
	"B 775", "R public.id_full_nopk", "c id_full_nopk new=1|a", "c id_full_nopk new=1|a",
	"c id_full_nopk new=2|~", "C 775",
	"B 776", "u id_full_nopk O=2|~ new=2|b", "C 776",
	"B 777", "d id_full_nopk O=1|a", "d id_full_nopk O=1|a", "C 777",
	/* USING INDEX on code: the old key holds only code */
	"B 778", "R public.id_index", "c id_index new=1|c1|one", "c id_index new=2|c2|two", "C 778",
	"B 779", "u id_index new=1|c1|uno", "C 779",
	"B 780", "d id_index K=~|c2|~ >new=2|c3|tres", "c id_index new=2|c3|tres <K=~|c2|~", "C 780",
	"B 781", "d id_index K=~|c1|~", "C 781",
	"B 782", "R public.id_nothing", "c id_nothing new=1|nothing", "C 782",
	"B 783", "R public.id_nopk", "c id_nopk new=1|no pk", "c id_nopk new=~|~", "C 783",
	"B 784", "R public.id_nothing", "R public.id_nopk", "t id_nothing", "t id_nopk", "C 784",
};

static void
test_v1_identity(void **state)
{
	struct coll c;
	const struct ev *e;
	static const struct {
		uint32_t oid; char ident; int ncols; const char *key, *pk; int npk;
	} rels[] = {
		{ 16550, 'd', 3, "k..", "p..", 1 },
		{ 16550, 'd', 4, "k...", "p...", 1 },   /* ADD COLUMN extra */
		{ 16550, 'd', 3, "k..", "p..", 1 },     /* DROP COLUMN dropme */
		{ 16557, 'f', 3, "kkk", "...", 0 },     /* FULL: every column in the identity,
		                                         * none preset as record key */
		{ 16564, 'f', 2, "kk", "..", 0 },
		{ 16569, 'i', 3, ".k.", ".p.", 1 },     /* the identity index's column */
		{ 16575, 'n', 2, "..", "..", 0 },
		{ 16582, 'd', 2, "..", "..", 0 },       /* no primary key */
	};
	struct cdc_rel *r;

	coll_init(&c);
	run_ok("v1_identity", &c);
	assert_lines(&c, identity_want, NELEM(identity_want));
	check_txns(&c, 0);
	for (size_t i = 0; i < NELEM(rels); i++) {
		e = nth_event(&c, DEC_EV_RELATION, i);
		assert_int_equal(e->rel_oid, rels[i].oid);
		assert_int_equal(e->rel_ncols, rels[i].ncols);
		assert_string_equal(e->rel_key, rels[i].key);
		assert_string_equal(e->rel_pk, rels[i].pk);
		assert_int_equal(e->rel_npk, rels[i].npk);
	}
	/* the column added mid-stream: the insert after it has 4 values (asserted by the
	 * handler against the relation) and the relation a new version */
	assert_true(nth_event(&c, DEC_EV_RELATION, 1)->rel_version >
	            nth_event(&c, DEC_EV_RELATION, 0)->rel_version);
	coll_free(&c);

	/* The cache after the run holds the newest definition of id_default. */
	{
		struct driver dr;
		struct cdc_err err = { 0 };

		coll_init(&c);
		driver_init(&dr, &c);
		assert_int_equal(drive(&dr, fx("v1_identity"), SIZE_MAX, &err), 0);
		r = relcache_get(dec_relcache(dr.d), 16550);
		assert_non_null(r);
		assert_int_equal(r->ncols, 3);
		assert_string_equal(r->cols[2].name, "extra");
		assert_int_equal(r->cols[2].type_oid, 23);
		assert_string_equal(r->schema, "public");
		assert_int_equal(r->replident, 'd');
		assert_null(relcache_get(dec_relcache(dr.d), 1));
		driver_free(&dr);
		coll_free(&c);
	}
}

/* The agent sets the record key of FULL tables from the catalog's primary key
 * (relcache_set_pk on the Relation event): the stream is the same (id_full's updates
 * keep their id), the relation now has a record key. */
static void
test_v1_identity_catalog_pk(void **state)
{
	static const struct pkfix pk[] = {
		{ "id_full", { "id" }, 1 },
		{ "id_full_nopk", { NULL }, 0 },        /* no primary key: preset kept */
		{ "id_index", { "nosuchcol", "code" }, 2 },   /* unknown names are ignored */
	};
	struct coll c;
	const struct ev *e;

	coll_init(&c);
	c.pk = pk;
	c.npk = NELEM(pk);
	run_ok("v1_identity", &c);
	assert_lines(&c, identity_want, NELEM(identity_want));
	e = nth_event(&c, DEC_EV_RELATION, 3);
	assert_int_equal(e->rel_oid, 16557);
	assert_string_equal(e->rel_pk, "p..");
	assert_int_equal(e->rel_npk, 1);
	e = nth_event(&c, DEC_EV_RELATION, 4);
	assert_string_equal(e->rel_pk, "..");
	assert_int_equal(e->rel_npk, 0);
	e = nth_event(&c, DEC_EV_RELATION, 5);
	assert_string_equal(e->rel_pk, ".p.");
	assert_int_equal(e->rel_npk, 1);
	coll_free(&c);
}

/* A FULL update changing the record key splits; without a record key it does not.
 * The bytes are id_full's update of v1_identity (record 28) with the new id 1 -> 9. */
static void
test_full_key_change(void **state)
{
	struct fixture *f = fx("v1_identity");
	static const struct pkfix pk[] = { { "id_full", { "id" }, 1 } };
	const struct rec *u = &f->recs[28];
	uint8_t *patched = malloc(u->len);
	size_t newid;

	assert_non_null(patched);
	memcpy(patched, u->data, u->len);
	/* 'U' oid 'O' ncols 3x('t' len val) 'N' ncols 't' len "1" */
	assert_int_equal(patched[0], 'U');
	assert_int_equal(patched[5], 'O');
	newid = 1 + 4 + 1 + 2 + (1 + 4 + 1) + (1 + 4 + 3) + (1 + 4 + 1) + 1 + 2 + 1 + 4;
	assert_int_equal(patched[newid - 1 - 4 - 2 - 1], 'N');
	assert_int_equal(patched[newid], '1');
	patched[newid] = '9';

	for (int with_pk = 0; with_pk < 2; with_pk++) {
		struct coll c;
		struct driver dr;
		struct cdc_err err = { 0 };

		coll_init(&c);
		if (with_pk) {
			c.pk = pk;
			c.npk = 1;
		}
		driver_init(&dr, &c);
		assert_int_equal(dec_feed(dr.d, 0, f->recs[23].data, f->recs[23].len, &err), 0);
		assert_int_equal(dec_feed(dr.d, f->recs[27].lsn, f->recs[27].data, f->recs[27].len, &err), 0);
		assert_int_equal(dec_feed(dr.d, u->lsn, patched, u->len, &err), 0);
		assert_int_equal(dec_feed(dr.d, f->recs[29].lsn, f->recs[29].data, f->recs[29].len, &err), 0);
		if (with_pk) {
			static const char *const want[] = {
				"R public.id_full", "B 772", "d id_full O=1|one|1 >new=9|one|2",
				"c id_full new=9|one|2 <O=1|one|1", "C 772",
			};
			assert_lines(&c, want, NELEM(want));
		} else {
			static const char *const want[] = {
				"R public.id_full", "B 772", "u id_full O=1|one|1 new=9|one|2", "C 772",
			};
			assert_lines(&c, want, NELEM(want));
		}
		driver_free(&dr);
		coll_free(&c);
	}
	free(patched);
}

static void
test_v1_toast(void **state)
{
	static const char *const want[] = {
		"B 788", "R public.toasty", "c toasty new=1|0|<102400 bytes>", "C 788",
		"B 789", "u toasty new=1|1|?", "C 789",   /* big untouched: unchanged TOAST */
		"B 790", "u toasty new=1|2|short now", "C 790",
		"B 791", "d toasty K=1|~|~", "C 791",
	};
	struct coll c;

	coll_init(&c);
	run_ok("v1_toast", &c);
	assert_lines(&c, want, NELEM(want));
	check_txns(&c, 0);
	coll_free(&c);
}

static void
test_v1_rollback(void **state)
{
	static const char *const want[] = {
		"M nontx pgcdc.test non-transactional, survives rollback",
		"B 796", "R public.rb", "c rb new=2|kept", "c rb new=4|released s2",
		"u rb new=2|kept, updated", "C 796",
	};
	struct coll c;

	coll_init(&c);
	run_ok("v1_rollback", &c);
	assert_lines(&c, want, NELEM(want));
	check_txns(&c, 0);
	coll_free(&c);
}

/* The Origin message of a replicated transaction emits nothing: both inserts, the
 * one with an origin and the one without, come out as ordinary creates. */
static void
test_v1_origin(void **state)
{
	struct coll c;
	int creates = 0;

	coll_init(&c);
	run_ok("v1_origin", &c);
	check_txns(&c, 0);
	for (size_t i = 0; i < c.n; i++) {
		if (strncmp(c.evs[i].line, "c orig new=", 11) == 0) {
			creates++;
			assert_string_equal(c.evs[i].line + 11, creates == 1 ? "1" : "2");
		}
		assert_true(c.evs[i].line[0] != 'O');
	}
	assert_int_equal(creates, 2);
	coll_free(&c);
}

static void
test_v1_types(void **state)
{
	struct coll c;
	size_t nc = 0;

	coll_init(&c);
	run_ok("v1_types", &c);
	check_txns(&c, 0);
	assert_string_equal(c.evs[1].line, "Y 16529 public.mood");
	assert_string_equal(c.evs[2].line, "Y 16424 public.citext");
	assert_string_equal(c.evs[3].line, "Y 16536 pg_catalog.int4");
	assert_string_equal(c.evs[4].line, "Y 16539 pg_catalog.text");
	assert_string_equal(c.evs[5].line, "R public.types");
	assert_int_equal(c.evs[5].rel_ncols, 35);
	for (size_t i = 0; i < c.n; i++) {
		if (c.evs[i].type == DEC_EV_CHANGE) {
			char pfx[32];

			snprintf(pfx, sizeof(pfx), "c types new=%zu|", ++nc);
			assert_int_equal(strncmp(c.evs[i].line, pfx, strlen(pfx)), 0);
		}
	}
	assert_int_equal(nc, 5);
	assert_string_equal(nth_event(&c, DEC_EV_CHANGE, 4)->line,
	                    "c types new=5|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~|~");
	coll_free(&c);
}

/* Protocol 2: the streamed transactions are replayed at their Stream Commit, the
 * aborted ones (whole, and the subtransaction) leave nothing. */
static void
test_v2_stream(void **state)
{
	struct coll c;
	size_t i = 0, next = 1;
	const struct ev *e;

	coll_init(&c);
	run_ok("v2_stream", &c);
	check_txns(&c, 0);

	/* the interleaved small transaction commits first */
	assert_string_equal(c.evs[i++].line, "B 729");
	assert_string_equal(c.evs[i++].line, "R public.small");
	assert_string_equal(c.evs[i++].line, "c small new=1|interleaved, committed first");
	assert_string_equal(c.evs[i++].line, "C 729");
	/* xid 728 replayed: 2000 rows, in order */
	e = &c.evs[i];
	assert_string_equal(c.evs[i++].line, "B 728");
	assert_int_equal(e->txn.commit_lsn, 0x198F5D8);
	assert_int_equal(e->txn.end_lsn, 0x198F608);
	assert_int_equal(e->txn.prev_commit_lsn, 0x196D7E8);
	assert_int_equal(e->lsn, 0x198F5D8);
	assert_string_equal(c.evs[i++].line, "R public.big");
	assert_int_equal(c.evs[i].lsn, 0x194BB90);   /* the spilled message's own LSN */
	for (; next <= 2000; next++, i++) {
		char want[64];

		assert_true(i < c.n);
		snprintf(want, sizeof(want), "c big new=%zu|row %zu", next, next);
		if (strcmp(c.evs[i].line, want) != 0)
			fail_msg("event %zu: got '%s', want '%s'", i, c.evs[i].line, want);
		assert_int_equal(c.evs[i].txn.xid, 728);
	}
	assert_string_equal(c.evs[i++].line, "C 728");
	/* xid 731: the rows before and after the rolled-back savepoint (subxact 732) */
	assert_string_equal(c.evs[i].line, "B 731");
	assert_int_equal(c.evs[i].txn.prev_commit_lsn, 0x198F5D8);
	i++;
	assert_string_equal(c.evs[i++].line, "R public.small");
	assert_string_equal(c.evs[i++].line, "c small new=2|before savepoint");
	assert_string_equal(c.evs[i++].line, "R public.small");
	assert_string_equal(c.evs[i++].line, "c small new=3|after rollback to savepoint");
	assert_string_equal(c.evs[i++].line, "C 731");
	/* the plain transaction after */
	assert_string_equal(c.evs[i].line, "B 734");
	assert_int_equal(c.evs[i].txn.prev_commit_lsn, 0x19D6EC0);
	i++;
	assert_string_equal(c.evs[i++].line, "c small new=4|plain");
	assert_string_equal(c.evs[i++].line, "C 734");
	assert_int_equal(i, c.n);
	for (i = 0; i < c.n; i++) {
		assert_null(strstr(c.evs[i].line, "rolled back"));
		assert_null(strstr(c.evs[i].line, "subxact"));
	}
	coll_free(&c);
}

/* ---- error paths -------------------------------------------------------------------- */

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* Feed records of a fixture by index to a fresh decoder; all but the last must succeed,
 * the last's return code is returned. */
static int
feed_recs(struct dec *d, const struct fixture *f, const size_t *idx, size_t n, struct cdc_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &f->recs[idx[i]];
		int rc = dec_feed(d, r->lsn, r->data, r->len, err);

		if (i + 1 == n)
			return rc;
		if (rc != 0)
			fail_msg("%s record %zu: %s", f->name, idx[i], err->msg);
	}
	return 0;
}

#define FEED(d, f, err, ...) \
	feed_recs((d), (f), (const size_t[]) { __VA_ARGS__ }, \
	          NELEM(((const size_t[]) { __VA_ARGS__ })), (err))

static void
test_errors(void **state)
{
	struct fixture *b = fx("v1_basic");
	struct fixture *id = fx("v1_identity");
	struct coll c;
	struct dec *d;
	struct cdc_err err;
	size_t idx[3];

	/* Insert before its Relation: named by oid, nothing emitted for it */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	idx[0] = 0; idx[1] = 2;
	assert_int_equal(feed_recs(d, b, idx, 2, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "Insert");
	assert_contains(err.msg, "16386");
	assert_contains(err.msg, "no Relation message");
	assert_int_equal(c.n, 1);   /* the Begin only */
	dec_free(d);
	coll_free(&c);

	/* Commit without Begin */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	idx[0] = 3;
	assert_int_equal(feed_recs(d, b, idx, 1, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "Commit");
	assert_contains(err.msg, "outside a transaction");
	assert_int_equal(c.n, 0);

	/* Begin inside a transaction */
	memset(&err, 0, sizeof(err));
	idx[0] = 0; idx[1] = 0;
	assert_int_equal(feed_recs(d, b, idx, 2, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "inside transaction 729");
	dec_free(d);
	coll_free(&c);

	/* Commit naming another commit LSN than its Begin */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	idx[0] = 0; idx[1] = 6;
	assert_int_equal(feed_recs(d, b, idx, 2, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "Begin said 0/19530D8");
	dec_free(d);
	coll_free(&c);

	/* Changes outside a transaction; a transactional message outside one */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	idx[0] = 1; idx[1] = 2;
	assert_int_equal(feed_recs(d, b, idx, 2, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "outside a transaction");
	memset(&err, 0, sizeof(err));
	idx[0] = 29;
	assert_int_equal(feed_recs(d, b, idx, 1, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "transactional Message");
	/* a non-transactional one is fine there */
	memset(&err, 0, sizeof(err));
	idx[0] = 31;
	assert_int_equal(feed_recs(d, b, idx, 1, &err), 0);
	assert_string_equal(c.evs[c.n - 1].line, "M nontx pgcdc.test \\x00\\xff\\x0a");
	/* stream control messages are the agent's business */
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_feed(d, 0, fx("v2_stream")->recs[0].data, fx("v2_stream")->recs[0].len,
	                          &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "stream control");
	/* a malformed message is the parser's error */
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_feed(d, 0, b->recs[2].data, b->recs[2].len - 1, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "malformed Insert");
	dec_free(d);
	coll_free(&c);

	/* Tuple column count not matching the relation: the insert with 4 values after
	 * the first (3-column) definition of id_default */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, id, &err, 1, 14, 16), CDC_ERR_PROTO);
	assert_contains(err.msg, "Insert");
	assert_contains(err.msg, "public.id_default has 4 columns, its Relation message 3");
	dec_free(d);
	coll_free(&c);
	/* ... an update and a delete against the 4-column definition */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, id, &err, 15, 8, 9), CDC_ERR_PROTO);
	assert_contains(err.msg, "Update");
	assert_contains(err.msg, "has 3 columns, its Relation message 4");
	dec_free(d);
	coll_free(&c);
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, id, &err, 15, 11, 12), CDC_ERR_PROTO);
	assert_contains(err.msg, "Delete");
	dec_free(d);
	coll_free(&c);
	/* ... an update whose old key has fewer columns than its new tuple */
	{
		static const uint8_t upd[] = {
			'U', 0, 0, 0x40, 0xA6,          /* oid 16550 */
			'K', 0, 2, 'n', 'n',
			'N', 0, 3, 't', 0, 0, 0, 1, '1', 'n', 'n',
		};

		coll_init(&c);
		d = dec_new(on_event, &c);
		c.d = d;
		memset(&err, 0, sizeof(err));
		assert_int_equal(FEED(d, id, &err, 1, 8), 0);
		assert_int_equal(dec_feed(d, 0x10, upd, sizeof(upd), &err), CDC_ERR_PROTO);
		assert_contains(err.msg, "Update old tuple");
		assert_contains(err.msg, "has 2 columns, its Relation message 3");
		assert_int_equal(c.n, 2);   /* R, B: no change emitted */
		dec_free(d);
		coll_free(&c);
	}

	/* Truncate naming a relation never described: nothing emitted, not even for the
	 * table that is known */
	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, b, &err, 23, 24, 26), CDC_ERR_PROTO);
	assert_contains(err.msg, "Truncate");
	assert_contains(err.msg, "16403");
	assert_int_equal(c.n, 2);   /* B, R */
	dec_free(d);
	coll_free(&c);
}

/* The handler's error stops decoding and comes back from dec_feed. */
static void
test_handler_error(void **state)
{
	struct fixture *b = fx("v1_basic");
	struct coll c;
	struct dec *d;
	struct cdc_err err = { 0 };

	/* fail on the delete half of the key-changing update: the create is not emitted */
	coll_init(&c);
	c.fail_at = 2;
	c.fail_code = CDC_ERR_FATAL;
	d = dec_new(on_event, &c);
	c.d = d;
	assert_int_equal(FEED(d, b, &err, 1, 7, 8), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "handler refuses event 2");
	assert_int_equal(c.n, 3);
	assert_string_equal(c.evs[2].line, "d basic K=1|~|~ >new=2|uno|11");
	dec_free(d);
	coll_free(&c);

	/* fail on the first table of a truncate: the second is not emitted */
	coll_init(&c);
	c.fail_at = 3;
	c.fail_code = CDC_ERR_AGAIN;
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, b, &err, 23, 24, 25, 26), CDC_ERR_AGAIN);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.evs[3].line, "t trunc_a");
	dec_free(d);
	coll_free(&c);

	/* an error from the Commit event still ends the transaction */
	coll_init(&c);
	c.fail_at = 3;
	c.fail_code = CDC_ERR_IO;
	d = dec_new(on_event, &c);
	c.d = d;
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, b, &err, 0, 1, 2, 3), CDC_ERR_IO);
	assert_false(dec_in_txn(d));
	dec_free(d);
	coll_free(&c);
}

static void
test_replay_api(void **state)
{
	struct fixture *s = fx("v2_stream");
	struct fixture *b = fx("v1_basic");
	struct coll c;
	struct dec *d;
	struct cdc_err err = { 0 };

	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	/* commit without begin */
	assert_int_equal(dec_replay_commit(d, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "without a transaction");

	/* begin inside a transaction */
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, b, &err, 0), 0);
	assert_int_equal(dec_replay_begin(d, 728, 0x198F5D8, 0x198F608, 0, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "inside transaction 729");
	dec_free(d);
	coll_free(&c);

	coll_init(&c);
	d = dec_new(on_event, &c);
	c.d = d;
	dec_set_last_commit_lsn(d, 0x1000);
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_replay_begin(d, 728, 0x198F5D8, 0x198F608, 0, &err), 0);
	assert_true(dec_in_txn(d));
	assert_int_equal(c.evs[0].txn.prev_commit_lsn, 0x1000);
	assert_int_equal(c.evs[0].txn.commit_ts_us, CDC_PG_EPOCH_OFFSET_US);
	/* the streamed R and I (they carry the xid prefix) */
	assert_int_equal(dec_replay_feed(d, s->recs[1].lsn, s->recs[1].data, s->recs[1].len, &err), 0);
	assert_int_equal(dec_replay_feed(d, s->recs[2].lsn, s->recs[2].data, s->recs[2].len, &err), 0);
	assert_string_equal(c.evs[2].line, "c big new=1|row 1");
	assert_int_equal(c.evs[2].txn.end_lsn, 0x198F608);
	/* no Begin, Commit or stream message inside a replay */
	assert_int_equal(dec_replay_feed(d, 0, b->recs[0].data, b->recs[0].len, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "Begin inside a streamed transaction");
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_replay_feed(d, 0, s->recs[0].data, s->recs[0].len, &err), CDC_ERR_PROTO);
	assert_contains(err.msg, "nested stream");
	/* a message without the xid prefix is malformed in a replay */
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_replay_feed(d, 0, b->recs[2].data, b->recs[2].len, &err), CDC_ERR_PROTO);
	memset(&err, 0, sizeof(err));
	assert_int_equal(dec_replay_commit(d, &err), 0);
	assert_false(dec_in_txn(d));
	assert_string_equal(c.evs[c.n - 1].line, "C 728");
	assert_int_equal(dec_last_commit_lsn(d), 0x198F5D8);

	/* dec_reset forgets the relations and the open transaction */
	memset(&err, 0, sizeof(err));
	assert_int_equal(FEED(d, b, &err, 0, 1), 0);
	assert_true(dec_in_txn(d));
	dec_reset(d);
	assert_false(dec_in_txn(d));
	assert_null(relcache_get(dec_relcache(d), 16386));
	assert_int_equal(FEED(d, b, &err, 0, 2), CDC_ERR_PROTO);
	assert_contains(err.msg, "16386");
	/* the commit sequence survives a reset (it continues across sessions) */
	assert_int_equal(dec_last_commit_lsn(d), 0x198F5D8);
	dec_free(d);
	coll_free(&c);
	dec_free(NULL);
}

/* The relation cache on its own: many oids (it grows), replacement, clear. */
static void
test_relcache(void **state)
{
	struct relcache *rc = relcache_new();
	struct cdc_err err = { 0 };
	struct pgo_relcol cols[3] = {
		{ 1, "id", 23, -1 }, { 0, "name", 25, -1 }, { 1, "tenant", 20, -1 },
	};
	struct pgo_msg m;
	char name[32];
	struct cdc_rel *r;
	uint32_t v;
	char *const pk_tenant[] = { "tenant" };

	assert_non_null(rc);
	memset(&m, 0, sizeof(m));
	m.type = PGO_MSG_RELATION;
	m.u.relation.schema = "app";
	m.u.relation.name = name;
	m.u.relation.replident = 'd';
	m.u.relation.cols = cols;
	/* 1000 relations with clustered and spread oids: every one found afterwards */
	for (uint32_t i = 0; i < 1000; i++) {
		m.u.relation.oid = i % 2 ? 16384 + i : i * 65536u;
		m.u.relation.ncols = 1 + (int) (i % 3);
		snprintf(name, sizeof(name), "t%u", i);
		r = relcache_put(rc, &m, &err);
		assert_non_null(r);
		assert_int_equal(r->oid, m.u.relation.oid);
		assert_int_equal(r->version, i + 1);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		r = relcache_get(rc, i % 2 ? 16384 + i : i * 65536u);
		assert_non_null(r);
		snprintf(name, sizeof(name), "t%u", i);
		assert_string_equal(r->name, name);
		assert_string_equal(r->schema, "app");
		assert_int_equal(r->ncols, 1 + (int) (i % 3));
		assert_int_equal(r->npk, i % 3 == 2 ? 2 : 1);
	}
	assert_null(relcache_get(rc, 16384));   /* even oids below 16384+1000 were not used */

	/* replacing a definition: copied, not borrowed; a new version */
	snprintf(name, sizeof(name), "renamed");
	m.u.relation.oid = 16385;
	m.u.relation.ncols = 3;
	m.u.relation.replident = 'f';
	r = relcache_put(rc, &m, &err);
	assert_non_null(r);
	v = r->version;
	assert_int_equal(v, 1001);
	snprintf(name, sizeof(name), "scribbled");
	r = relcache_get(rc, 16385);
	assert_string_equal(r->name, "renamed");
	assert_int_equal(r->replident, 'f');
	/* FULL: key columns are not preset as the record key */
	assert_true(r->cols[0].key && !r->cols[0].pk);
	assert_int_equal(r->npk, 0);
	relcache_set_pk(r, pk_tenant, 0);   /* no names: keep */
	assert_int_equal(r->npk, 0);
	relcache_set_pk(r, pk_tenant, 1);
	assert_int_equal(r->npk, 1);
	assert_true(r->cols[2].pk && !r->cols[0].pk && !r->cols[1].pk);

	relcache_clear(rc);
	assert_null(relcache_get(rc, 16385));
	assert_null(relcache_get(rc, 0));
	/* usable after a clear */
	m.u.relation.oid = 7;
	assert_non_null(relcache_put(rc, &m, &err));
	assert_non_null(relcache_get(rc, 7));
	assert_int_equal(err.code, 0);
	relcache_free(rc);
	relcache_free(NULL);
}

/* Every record cut short by one byte, the rest of the fixture intact: an error at that
 * record (or, for a streamed change, at its transaction's Stream Commit), never a
 * crash; a streamed change of an aborted (sub)transaction is never decoded, so cutting
 * it is harmless.  In v2_stream the inserts are sampled. */
static void
sweep_truncated(const char *name)
{
	struct fixture *f = fx(name);
	struct driver clean;
	struct coll c;
	struct cdc_err err = { 0 };
	size_t runs = 0, harmless = 0, at_commit = 0;

	/* which records a clean run replays */
	coll_init(&c);
	driver_init(&clean, &c);
	assert_true(f->n <= NELEM(clean.replayed));
	assert_int_equal(drive(&clean, f, SIZE_MAX, &err), 0);
	coll_free(&c);

	for (size_t i = 0; i < f->n; i++) {
		const struct rec *r = &f->recs[i];
		bool streamed = false;
		struct driver dr;
		int rc;

		if (r->data[0] == 'I' && f->n > 1000 && i % 61 != 0 && f->recs[i - 1].data[0] == 'I' &&
		    i + 1 < f->n && f->recs[i + 1].data[0] == 'I')
			continue;
		/* inside a stream? */
		for (size_t k = i; k-- > 0;) {
			if (f->recs[k].data[0] == 'E')
				break;
			if (f->recs[k].data[0] == 'S') {
				streamed = r->data[0] != 'E';
				break;
			}
		}
		coll_init(&c);
		driver_init(&dr, &c);
		memset(&err, 0, sizeof(err));
		rc = drive(&dr, f, i, &err);
		runs++;
		if (streamed && !clean.replayed[i]) {
			if (rc != 0)
				fail_msg("%s record %zu (aborted stream data) cut: %d at %zu: %s", name, i, rc,
				         dr.err_rec, err.msg);
			harmless++;
		} else {
			if (rc != CDC_ERR_PROTO)
				fail_msg("%s record %zu ('%c') cut: rc %d", name, i, r->data[0], rc);
			assert_true(err.msg[0] != '\0');
			if (streamed) {
				assert_int_equal(f->recs[dr.err_rec].data[0], 'c');
				assert_true(dr.err_rec > i);
				at_commit++;
			} else if (dr.err_rec != i) {
				fail_msg("%s record %zu cut: error at record %zu: %s", name, i, dr.err_rec, err.msg);
			}
		}
		driver_free(&dr);
		coll_free(&c);
	}
	assert_true(runs > 0);
	if (strcmp(name, "v2_stream") == 0) {
		assert_true(harmless > 0);
		assert_true(at_commit > 0);
	}
	driver_free(&clean);
}

static void
test_truncated_v1_basic(void **state)
{
	sweep_truncated("v1_basic");
}

static void
test_truncated_v1_types(void **state)
{
	sweep_truncated("v1_types");
}

static void
test_truncated_v1_identity(void **state)
{
	sweep_truncated("v1_identity");
}

static void
test_truncated_v1_toast(void **state)
{
	sweep_truncated("v1_toast");
}

static void
test_truncated_v1_rollback(void **state)
{
	sweep_truncated("v1_rollback");
}

static void
test_truncated_v1_origin(void **state)
{
	sweep_truncated("v1_origin");
}

static void
test_truncated_v2_stream(void **state)
{
	sweep_truncated("v2_stream");
}

static int
free_fixtures(void **state)
{
	for (size_t i = 0; i < NELEM(fixtures); i++) {
		free(fixtures[i].raw);
		free(fixtures[i].recs);
		fixtures[i].raw = NULL;
		fixtures[i].recs = NULL;
		fixtures[i].n = 0;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_basic),
		cmocka_unit_test(test_v1_identity),
		cmocka_unit_test(test_v1_identity_catalog_pk),
		cmocka_unit_test(test_full_key_change),
		cmocka_unit_test(test_v1_toast),
		cmocka_unit_test(test_v1_rollback),
		cmocka_unit_test(test_v1_origin),
		cmocka_unit_test(test_v1_types),
		cmocka_unit_test(test_v2_stream),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_handler_error),
		cmocka_unit_test(test_replay_api),
		cmocka_unit_test(test_relcache),
		cmocka_unit_test(test_truncated_v1_basic),
		cmocka_unit_test(test_truncated_v1_types),
		cmocka_unit_test(test_truncated_v1_identity),
		cmocka_unit_test(test_truncated_v1_toast),
		cmocka_unit_test(test_truncated_v1_rollback),
		cmocka_unit_test(test_truncated_v1_origin),
		cmocka_unit_test(test_truncated_v2_stream),
	};

	return cmocka_run_group_tests(tests, NULL, free_fixtures);
}
