/*
 * pgoutput.c — pure parser for pgoutput protocol messages (versions 1 and 2).
 *
 * Mirrors the writer side in PostgreSQL's src/backend/replication/logical/proto.c.
 * Every read goes through struct cur, a bounds-checked cursor with a sticky error
 * flag (as pqformat.c's pq_getmsg* do), and every message must be consumed to its
 * last byte (pq_getmsgend): trailing garbage is a protocol error, not ignored.
 */
#include <string.h>

#include "pgoutput.h"

#include <stdlib.h>

struct pgo_parser {
	struct cdc_value oldvals[PGO_MAX_COLS];
	struct cdc_value newvals[PGO_MAX_COLS];
	struct pgo_relcol cols[PGO_MAX_COLS];
	uint32_t *relids;        /* Truncate's relation list: one statement may name any number */
	size_t relcap;
};

struct cur {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool bad;
	const char *what;   /* first failing field, for the message */
};

static void
cur_fail(struct cur *c, const char *what)
{
	if (!c->bad) {
		c->bad = true;
		c->what = what;
	}
}

static uint8_t
get8(struct cur *c, const char *what)
{
	if (c->bad || c->len - c->pos < 1) {
		cur_fail(c, what);
		return 0;
	}
	return c->buf[c->pos++];
}

static uint16_t
get16(struct cur *c, const char *what)
{
	uint16_t v;

	if (c->bad || c->len - c->pos < 2) {
		cur_fail(c, what);
		return 0;
	}
	v = (uint16_t) ((c->buf[c->pos] << 8) | c->buf[c->pos + 1]);
	c->pos += 2;
	return v;
}

static uint32_t
get32(struct cur *c, const char *what)
{
	uint32_t v;

	if (c->bad || c->len - c->pos < 4) {
		cur_fail(c, what);
		return 0;
	}
	v = ((uint32_t) c->buf[c->pos] << 24) | ((uint32_t) c->buf[c->pos + 1] << 16) |
	    ((uint32_t) c->buf[c->pos + 2] << 8) | (uint32_t) c->buf[c->pos + 3];
	c->pos += 4;
	return v;
}

static uint64_t
get64(struct cur *c, const char *what)
{
	uint64_t hi = get32(c, what);
	uint64_t lo = get32(c, what);

	return (hi << 32) | lo;
}

/* A NUL-terminated string; returns a borrowed pointer into the buffer. */
static const char *
getstr(struct cur *c, const char *what)
{
	const uint8_t *start, *nul;

	if (c->bad) {
		return "";
	}
	start = c->buf + c->pos;
	nul = memchr(start, '\0', c->len - c->pos);
	if (nul == NULL) {
		cur_fail(c, what);
		return "";
	}
	c->pos += (size_t) (nul - start) + 1;
	return (const char *) start;
}

static const uint8_t *
getbytes(struct cur *c, size_t n, const char *what)
{
	const uint8_t *p;

	if (c->bad || c->len - c->pos < n) {
		cur_fail(c, what);
		return NULL;
	}
	p = c->buf + c->pos;
	c->pos += n;
	return p;
}

/* TupleData: Int16 column count, then per column 'n' | 'u' | 't' Int32 len bytes | 'b' ... */
static void
get_tuple(struct cur *c, struct cdc_value *vals, struct cdc_tuple *out)
{
	int n = get16(c, "tuple column count");

	out->ncols = 0;
	out->vals = vals;
	if (c->bad)
		return;
	if (n > PGO_MAX_COLS) {
		cur_fail(c, "tuple column count (over 1664)");
		return;
	}
	for (int i = 0; i < n && !c->bad; i++) {
		uint8_t kind = get8(c, "tuple column kind");

		vals[i].data = NULL;
		vals[i].len = 0;
		switch (kind) {
		case 'n':
		case 'u':
			vals[i].kind = (char) kind;
			break;
		case 't':
		case 'b': {
			uint32_t len = get32(c, "tuple column length");
			const uint8_t *d;

			if (c->bad)
				break;
			if (len > c->len - c->pos) {
				cur_fail(c, "tuple column data");
				break;
			}
			d = getbytes(c, len, "tuple column data");
			vals[i].kind = (char) kind;
			vals[i].len = len;
			vals[i].data = (const char *) d;
			break;
		}
		default:
			if (!c->bad)
				cur_fail(c, "tuple column kind (not n, u, t or b)");
			break;
		}
	}
	if (!c->bad)
		out->ncols = n;
}

static const char *
msg_name(char t)
{
	switch (t) {
	case PGO_MSG_BEGIN: return "Begin";
	case PGO_MSG_COMMIT: return "Commit";
	case PGO_MSG_ORIGIN: return "Origin";
	case PGO_MSG_RELATION: return "Relation";
	case PGO_MSG_TYPE: return "Type";
	case PGO_MSG_INSERT: return "Insert";
	case PGO_MSG_UPDATE: return "Update";
	case PGO_MSG_DELETE: return "Delete";
	case PGO_MSG_TRUNCATE: return "Truncate";
	case PGO_MSG_MESSAGE: return "Message";
	case PGO_MSG_STREAM_START: return "Stream Start";
	case PGO_MSG_STREAM_STOP: return "Stream Stop";
	case PGO_MSG_STREAM_COMMIT: return "Stream Commit";
	case PGO_MSG_STREAM_ABORT: return "Stream Abort";
	default: return "unknown";
	}
}

struct pgo_parser *
pgo_parser_new(void)
{
	return calloc(1, sizeof(struct pgo_parser));
}

void
pgo_parser_free(struct pgo_parser *p)
{
	if (p == NULL)
		return;
	free(p->relids);
	free(p);
}

int
pgo_parse(struct pgo_parser *p, const uint8_t *buf, size_t len, bool in_stream,
          struct pgo_msg *msg, struct cdc_err *err)
{
	struct cur c = { .buf = buf, .len = len };
	struct pgo_msg m;
	char t;

	memset(&m, 0, sizeof(m));
	if (len == 0)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: empty message");
	t = (char) get8(&c, "message type");
	m.type = t;

	switch (t) {
	case PGO_MSG_BEGIN:
		m.u.begin.final_lsn = get64(&c, "final_lsn");
		m.u.begin.commit_ts = (int64_t) get64(&c, "commit timestamp");
		m.xid = get32(&c, "xid");
		break;
	case PGO_MSG_COMMIT:
		m.u.commit.flags = get8(&c, "flags");
		m.u.commit.commit_lsn = get64(&c, "commit_lsn");
		m.u.commit.end_lsn = get64(&c, "end_lsn");
		m.u.commit.commit_ts = (int64_t) get64(&c, "commit timestamp");
		break;
	case PGO_MSG_ORIGIN:
		m.u.origin.lsn = get64(&c, "origin lsn");
		m.u.origin.name = getstr(&c, "origin name");
		break;
	case PGO_MSG_RELATION: {
		int n;

		if (in_stream)
			m.xid = get32(&c, "xid");
		m.u.relation.oid = get32(&c, "relation oid");
		m.u.relation.schema = getstr(&c, "namespace");
		if (m.u.relation.schema[0] == '\0')
			m.u.relation.schema = "pg_catalog";   /* the wire's "" means pg_catalog */
		m.u.relation.name = getstr(&c, "relation name");
		m.u.relation.replident = (char) get8(&c, "replica identity");
		n = get16(&c, "column count");
		if (!c.bad && n > PGO_MAX_COLS)
			cur_fail(&c, "column count (over 1664)");
		if (!c.bad && strchr("dnfi", m.u.relation.replident) == NULL)
			cur_fail(&c, "replica identity (not d, n, f or i)");
		for (int i = 0; i < n && !c.bad; i++) {
			p->cols[i].flags = get8(&c, "column flags");
			p->cols[i].name = getstr(&c, "column name");
			p->cols[i].type_oid = get32(&c, "column type oid");
			p->cols[i].typmod = (int32_t) get32(&c, "column typmod");
		}
		m.u.relation.ncols = c.bad ? 0 : n;
		m.u.relation.cols = p->cols;
		break;
	}
	case PGO_MSG_TYPE:
		if (in_stream)
			m.xid = get32(&c, "xid");
		m.u.type.oid = get32(&c, "type oid");
		m.u.type.schema = getstr(&c, "type namespace");
		if (m.u.type.schema[0] == '\0')
			m.u.type.schema = "pg_catalog";
		m.u.type.name = getstr(&c, "type name");
		break;
	case PGO_MSG_INSERT:
		if (in_stream)
			m.xid = get32(&c, "xid");
		m.u.insert.rel_oid = get32(&c, "relation oid");
		if (get8(&c, "new tuple marker") != 'N')
			cur_fail(&c, "new tuple marker (not N)");
		get_tuple(&c, p->newvals, &m.u.insert.newtup);
		break;
	case PGO_MSG_UPDATE: {
		uint8_t k;

		if (in_stream)
			m.xid = get32(&c, "xid");
		m.u.update.rel_oid = get32(&c, "relation oid");
		k = get8(&c, "tuple marker");
		if (!c.bad && (k == 'K' || k == 'O')) {
			m.u.update.old_kind = (char) k;
			get_tuple(&c, p->oldvals, &m.u.update.oldtup);
			k = get8(&c, "new tuple marker");
		}
		if (!c.bad && k != 'N')
			cur_fail(&c, "new tuple marker (not N)");
		get_tuple(&c, p->newvals, &m.u.update.newtup);
		break;
	}
	case PGO_MSG_DELETE: {
		uint8_t k;

		if (in_stream)
			m.xid = get32(&c, "xid");
		m.u.delete_.rel_oid = get32(&c, "relation oid");
		k = get8(&c, "old tuple marker");
		if (!c.bad && k != 'K' && k != 'O')
			cur_fail(&c, "old tuple marker (not K or O)");
		m.u.delete_.old_kind = (char) k;
		get_tuple(&c, p->oldvals, &m.u.delete_.oldtup);
		break;
	}
	case PGO_MSG_TRUNCATE: {
		uint32_t n;

		if (in_stream)
			m.xid = get32(&c, "xid");
		n = get32(&c, "relation count");
		m.u.truncate.flags = get8(&c, "truncate flags");
		/* bounded by what the message can hold: 4 bytes per relation oid */
		if (!c.bad && n > (c.len - c.pos) / 4)
			cur_fail(&c, "relation count (more than the message holds)");
		if (!c.bad && n > p->relcap) {
			uint32_t *r = realloc(p->relids, (size_t) n * sizeof(*r));

			if (r == NULL)
				return cdc_errf(err, CDC_ERR_NOMEM, "pgoutput: out of memory for a Truncate "
				                "of %u relations", n);
			p->relids = r;
			p->relcap = n;
		}
		for (uint32_t i = 0; i < n && !c.bad; i++)
			p->relids[i] = get32(&c, "relation oid");
		m.u.truncate.nrels = c.bad ? 0 : (int) n;
		m.u.truncate.rel_oids = p->relids;
		break;
	}
	case PGO_MSG_MESSAGE: {
		/* proto.c writes the xid only for transactional messages inside a stream
		 * (pgoutput_message: in_streaming); non-transactional ones are never
		 * streamed.  So inside a stream read the xid form, and fall back to the
		 * plain form if the flags then say non-transactional. */
		if (in_stream) {
			struct cur save = c;

			m.xid = get32(&c, "xid");
			m.u.message.flags = get8(&c, "message flags");
			if (c.bad || !(m.u.message.flags & PGO_MESSAGE_TRANSACTIONAL)) {
				c = save;   /* non-transactional: no xid on the wire */
				m.xid = 0;
				m.u.message.flags = get8(&c, "message flags");
			}
		} else {
			m.u.message.flags = get8(&c, "message flags");
		}
		m.u.message.lsn = get64(&c, "message lsn");
		m.u.message.prefix = getstr(&c, "message prefix");
		m.u.message.len = get32(&c, "message length");
		m.u.message.content = getbytes(&c, m.u.message.len, "message content");
		break;
	}
	case PGO_MSG_STREAM_START:
		m.xid = get32(&c, "xid");
		m.u.stream_start.first_segment = get8(&c, "first segment") == 1;
		break;
	case PGO_MSG_STREAM_STOP:
		break;
	case PGO_MSG_STREAM_COMMIT:
		m.xid = get32(&c, "xid");
		m.u.stream_commit.flags = get8(&c, "flags");
		m.u.stream_commit.commit_lsn = get64(&c, "commit_lsn");
		m.u.stream_commit.end_lsn = get64(&c, "end_lsn");
		m.u.stream_commit.commit_ts = (int64_t) get64(&c, "commit timestamp");
		break;
	case PGO_MSG_STREAM_ABORT:
		m.xid = get32(&c, "xid");
		m.u.stream_abort.subxid = get32(&c, "subxid");
		break;
	default:
		return cdc_errf(err, CDC_ERR_PROTO,
		                "pgoutput: unknown message type 0x%02x at offset 0: upgrade pgcdc or "
		                "check the server's plugin", (unsigned char) t);
	}

	if (c.bad)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: malformed %s message (%zu bytes): "
		                "bad or truncated %s at offset %zu", msg_name(t), len, c.what, c.pos);
	if (c.pos != len)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: malformed %s message: %zu trailing "
		                "bytes after offset %zu", msg_name(t), len - c.pos, c.pos);
	*msg = m;
	return 0;
}
