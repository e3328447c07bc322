/*
 * proto.c — a cdc_change as a serialized pgcdc.v1.Change (see proto.h, pgcdc.proto).
 *
 * DESIGN: protobuf-c packs from a tree of C structs whose strings are NUL-terminated
 * char pointers, while our values are borrowed, unterminated views.  The encoder
 * keeps one Change/Row/Source set and arrays of Column structs that grow to the
 * widest table seen; the bytes of every string and bytes field of the record are
 * appended to one arena buffer (NUL-terminated) and only their offsets noted, and
 * once the record is complete the pointers are patched in (the arena may move while
 * it grows).  The packed message goes to a third reusable buffer.  So a record
 * costs no allocation once the buffers have grown.  Types whose JSON form is a
 * string derived from PostgreSQL's text (date/time types, interval, uuid) and
 * arrays reuse json.c's mapping, so both formats agree by construction.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/pgcdc.pb-c.h"

#include "change.h"
#include "json.h"
#include "proto.h"
#include "types.h"
#include "text.h"

/* Longest float text parsed on the stack (PostgreSQL prints at most ~25 chars). */
#define FLOAT_TEXT_MAX 64
/* Longest offending text quoted in an error message. */
#define ERR_TEXT_MAX 64

typedef Pgcdc__V1__Column Column;

/* Where a column's string or bytes live in the arena until pointers are patched. */
struct slot {
	size_t off;
	size_t len;
	char what;                 /* 0: nothing in the arena, 's' string, 'a' array_json, 'b' bytes */
};

struct proto_enc {
	Pgcdc__V1__Change change;
	Pgcdc__V1__Row before, after;
	Pgcdc__V1__Source source;
	Pgcdc__V1__Message message;
	Pgcdc__V1__TransactionBlock txb;
	char txid[48];             /* transaction_block.id */
	Column *cols;              /* before columns first, then after columns */
	Column **ptrs;             /* ptrs[i] = &cols[i] */
	struct slot *slots;        /* slots[i] for cols[i] */
	size_t cap;                /* capacity of cols, ptrs and slots */
	struct jbuf arena;         /* strings and bytes of the current record */
	struct jbuf scratch;       /* JSON mapping of one value */
	uint8_t *out;              /* the packed message */
	size_t outcap;
	char seq[64];              /* source.sequence */
};

struct proto_enc *
proto_enc_new(void)
{
	struct proto_enc *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	jbuf_init(&e->arena);
	jbuf_init(&e->scratch);
	return e;
}

void
proto_enc_free(struct proto_enc *e)
{
	if (e == NULL)
		return;
	free(e->cols);
	free(e->ptrs);
	free(e->slots);
	jbuf_free(&e->arena);
	jbuf_free(&e->scratch);
	free(e->out);
	free(e);
}

static int
ensure_cols(struct proto_enc *e, size_t n, struct cdc_err *err)
{
	Column *c;
	Column **p;
	struct slot *s;
	size_t cap;

	if (n <= e->cap)
		return 0;
	cap = e->cap < 16 ? 16 : e->cap;
	while (cap < n)
		cap *= 2;
	c = realloc(e->cols, cap * sizeof(*c));
	if (c == NULL)
		goto oom;
	e->cols = c;
	p = realloc(e->ptrs, cap * sizeof(*p));
	if (p == NULL)
		goto oom;
	e->ptrs = p;
	s = realloc(e->slots, cap * sizeof(*s));
	if (s == NULL)
		goto oom;
	e->slots = s;
	e->cap = cap;
	return 0;
oom:
	return cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a protobuf record");
}

/* ------------------------------------------------------------ value mapping */

static int
map_fail(uint32_t oid, const char *kind, const char *s, size_t n, struct cdc_err *err)
{
	char shown[ERR_TEXT_MAX + 1];
	size_t k = n < ERR_TEXT_MAX ? n : ERR_TEXT_MAX, i;

	while (k < n && k > 0 && ((unsigned char) s[k] & 0xC0) == 0x80)
		k--;                   /* do not cut a UTF-8 sequence in half */
	for (i = 0; i < k; i++) {
		unsigned char ch = (unsigned char) s[i];

		shown[i] = (ch < 0x20 || ch == 0x7F) ? '?' : (char) ch;
	}
	shown[k] = '\0';
	return cdc_errf(err, CDC_ERR_PROTO, "cannot map value of type oid %u: not valid %s text: "
	                "\"%s\"%s", oid, kind, shown, k < n ? "..." : "");
}

/* "-?[0-9]+" within int64 range. */
static bool
parse_int64(const char *s, size_t n, int64_t *out)
{
	uint64_t v = 0, limit;
	bool neg = false;
	size_t i = 0;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n)
		return false;
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		if (v > (limit - (uint64_t) (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
	else
		*out = (int64_t) v;
	return true;
}

static bool
parse_double(const char *s, size_t n, double *out)
{
	char tmp[FLOAT_TEXT_MAX];
	char *end;

	if (eq(s, n, "NaN")) {
		*out = NAN;
		return true;
	}
	if (eq(s, n, "Infinity")) {
		*out = INFINITY;
		return true;
	}
	if (eq(s, n, "-Infinity")) {
		*out = -INFINITY;
		return true;
	}
	if (n >= sizeof(tmp) || !json_number(s, n, false))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, &end);
	return end == tmp + n;
}

/* Append s[0..n) as valid UTF-8 (protobuf strings must be): ill-formed sequences
 * become U+FFFD, exactly as the JSON format escapes them. */
static void
put_utf8(struct jbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t i = 0, run = 0;

	while (i < n) {
		int k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(s + i, n - i);
		if (k > 0) {
			i += (size_t) k;
			continue;
		}
		jbuf_put(b, s + run, i - run);
		jbuf_put(b, "\xEF\xBF\xBD", 3);
		i += (size_t) -k;
		run = i;
	}
	jbuf_put(b, s + run, n - run);
}

/* Start a string/bytes value of column slot sl in the arena. */
static void
arena_begin(struct proto_enc *e, struct slot *sl, char what)
{
	sl->off = e->arena.len;
	sl->what = what;
}

static void
arena_end(struct proto_enc *e, struct slot *sl)
{
	sl->len = e->arena.len - sl->off;
	jbuf_putc(&e->arena, '\0');
}

/* The JSON mapping of a value whose JSON form is a string without escapes (dates,
 * times, intervals, uuids), or an array; the string's body or the array's JSON
 * text goes to the arena. */
static int
via_json(struct proto_enc *e, struct slot *sl, uint32_t typoid, const struct cdc_value *v,
         const struct cdc_types *types, const struct json_opts *o, bool array,
         struct cdc_err *err)
{
	struct jbuf *b = &e->scratch;
	int rc;

	jbuf_reset(b);
	if ((rc = json_put_value(b, types, typoid, v, o, err)) != 0)
		return rc;
	if (array) {
		arena_begin(e, sl, 'a');
		jbuf_put(&e->arena, b->data, b->len);
	} else {
		if (b->len < 2 || b->data[0] != '"' || b->data[b->len - 1] != '"'
		    || memchr(b->data, '\\', b->len) != NULL)
			return cdc_errf(err, CDC_ERR_PROTO, "cannot map value of type oid %u: "
			                "unexpected JSON form %.*s", typoid,
			                (int) (b->len > ERR_TEXT_MAX ? ERR_TEXT_MAX : b->len), b->data);
		arena_begin(e, sl, 's');
		jbuf_put(&e->arena, b->data + 1, b->len - 2);
	}
	arena_end(e, sl);
	return 0;
}

/* Fill column c (name set by the caller) from v of type typoid.  Returns 0, 1 when
 * the column is to be left out (unchanged TOAST with omit), or a negative code. */
static int
put_value(struct proto_enc *e, Column *c, struct slot *sl, uint32_t typoid,
          const struct cdc_value *v, const struct cdc_types *types, const struct json_opts *o,
          struct cdc_err *err)
{
	struct cdc_typedesc td;
	const char *s;
	size_t n, i;

	sl->what = 0;
	if (v == NULL || v->kind == CDC_VAL_NULL) {
		c->value_case = PGCDC__V1__COLUMN__VALUE_NULL_VALUE;
		c->null_value = PGCDC__V1__NULL_VALUE__NULL_VALUE;
		return 0;
	}
	if (v->kind == CDC_VAL_UNCHANGED) {
		if (o != NULL && o->omit_unchanged_toast)
			return 1;
		c->value_case = PGCDC__V1__COLUMN__VALUE_UNCHANGED_TOAST;
		c->unchanged_toast = 1;
		return 0;
	}
	if (v->kind != CDC_VAL_TEXT)
		return cdc_errf(err, CDC_ERR_PROTO, "cannot map value of type oid %u: value kind "
		                "'%c' is not text (pgcdc requests text format)", typoid,
		                v->kind >= 0x20 && v->kind < 0x7F ? v->kind : '?');
	if (v->data == NULL && v->len > 0)
		return cdc_errf(err, CDC_ERR_PROTO, "cannot map value of type oid %u: %u bytes "
		                "announced, no data", typoid, v->len);
	s = v->len > 0 ? v->data : "";
	n = v->len;
	types_resolve(types, typoid, &td);
	switch (td.kind) {
	case CDC_T_INT:
		if (!parse_int64(s, n, &c->int_value))
			return map_fail(typoid, "integer", s, n, err);
		c->value_case = PGCDC__V1__COLUMN__VALUE_INT_VALUE;
		return 0;
	case CDC_T_FLOAT:
		if (!parse_double(s, n, &c->double_value))
			return map_fail(typoid, "float", s, n, err);
		c->value_case = PGCDC__V1__COLUMN__VALUE_DOUBLE_VALUE;
		return 0;
	case CDC_T_BOOL:
		if (eq(s, n, "t") || eq(s, n, "true"))
			c->bool_value = 1;
		else if (eq(s, n, "f") || eq(s, n, "false"))
			c->bool_value = 0;
		else
			return map_fail(typoid, "boolean", s, n, err);
		c->value_case = PGCDC__V1__COLUMN__VALUE_BOOL_VALUE;
		return 0;
	case CDC_T_BYTEA:
		if (n < 2 || s[0] != '\\' || s[1] != 'x' || n % 2 != 0)
			return map_fail(typoid, "bytea", s, n, err);
		arena_begin(e, sl, 'b');
		for (i = 2; i < n; i += 2) {
			int hi = hexval(s[i]), lo = hexval(s[i + 1]);

			if (hi < 0 || lo < 0) {
				e->arena.len = sl->off;
				sl->what = 0;
				return map_fail(typoid, "bytea", s, n, err);
			}
			jbuf_putc(&e->arena, (char) (hi << 4 | lo));
		}
		arena_end(e, sl);
		c->value_case = PGCDC__V1__COLUMN__VALUE_BYTES_VALUE;
		return 0;
	case CDC_T_NUMERIC:
		if (!json_number(s, n, false) && !eq(s, n, "NaN") && !eq(s, n, "Infinity")
		    && !eq(s, n, "-Infinity"))
			return map_fail(typoid, "numeric", s, n, err);
		arena_begin(e, sl, 's');
		jbuf_put(&e->arena, s, n);
		arena_end(e, sl);
		c->value_case = PGCDC__V1__COLUMN__VALUE_STRING_VALUE;
		return 0;
	case CDC_T_DATE:
	case CDC_T_TIME:
	case CDC_T_TIMESTAMP:
	case CDC_T_TIMESTAMPTZ:
	case CDC_T_INTERVAL:
	case CDC_T_UUID:
		c->value_case = PGCDC__V1__COLUMN__VALUE_STRING_VALUE;
		return via_json(e, sl, typoid, v, types, o, false, err);
	case CDC_T_ARRAY:
		c->value_case = PGCDC__V1__COLUMN__VALUE_ARRAY_JSON;
		return via_json(e, sl, typoid, v, types, o, true, err);
	case CDC_T_JSON:
	case CDC_T_STRING:
		break;
	}
	arena_begin(e, sl, 's');
	put_utf8(&e->arena, s, n);
	arena_end(e, sl);
	c->value_case = PGCDC__V1__COLUMN__VALUE_STRING_VALUE;
	return 0;
}

/* ------------------------------------------------------------------ rows */

/* Columns of rel from t (all, or the replica identity columns with keys_only) into
 * row, using column structs from *next on. */
static int
put_row(struct proto_enc *e, Pgcdc__V1__Row *row, size_t *next, const struct cdc_rel *rel,
        const struct cdc_tuple *t, bool keys_only, const struct cdc_types *types,
        const struct json_opts *o, struct cdc_err *err)
{
	size_t first = *next;
	int i, rc;

	pgcdc__v1__row__init(row);
	for (i = 0; i < rel->ncols; i++) {
		const struct cdc_column *col = &rel->cols[i];
		Column *c = &e->cols[*next];

		if (keys_only && !col->key)
			continue;
		pgcdc__v1__column__init(c);
		c->name = col->name != NULL ? col->name : (char *) "";
		rc = put_value(e, c, &e->slots[*next], col->type_oid, tuple_val(t, i), types, o, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			continue;
		e->ptrs[*next] = c;
		(*next)++;
	}
	row->n_columns = *next - first;
	row->columns = row->n_columns > 0 ? &e->ptrs[first] : NULL;
	return 0;
}

static bool
has_key_cols(const struct cdc_rel *rel)
{
	for (int i = 0; i < rel->ncols; i++)
		if (rel->cols[i].key)
			return true;
	return false;
}

static int
check_change(const struct cdc_change *ch, struct cdc_err *err)
{
	if (ch->op == CDC_OP_MESSAGE)
		return ch->msg != NULL && ch->msg->prefix != NULL ? 0 :
		       cdc_errf(err, CDC_ERR_PROTO, "message at " CDC_LSN_FMT " has no content",
		                CDC_LSN_ARGS(ch->lsn));
	if (ch->rel == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " has no relation",
		                CDC_LSN_ARGS(ch->lsn));
	if (ch->rel->ncols < 0 || (ch->rel->ncols > 0 && ch->rel->cols == NULL))
		return cdc_errf(err, CDC_ERR_PROTO, "relation %u has %d columns but no column list",
		                ch->rel->oid, ch->rel->ncols);
	switch (ch->op) {
	case CDC_OP_CREATE:
	case CDC_OP_READ:
	case CDC_OP_UPDATE:
		if (ch->new_tuple == NULL)
			return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " on %s.%s has no "
			                "new row", CDC_LSN_ARGS(ch->lsn),
			                ch->rel->schema ? ch->rel->schema : "?",
			                ch->rel->name ? ch->rel->name : "?");
		return 0;
	case CDC_OP_DELETE:
	case CDC_OP_TRUNCATE:
		return 0;
	default:
		return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " has unknown op 0x%02x",
		                CDC_LSN_ARGS(ch->lsn), (unsigned char) ch->op);
	}
}

static Pgcdc__V1__Op
op_of(char op)
{
	switch (op) {
	case CDC_OP_CREATE: return PGCDC__V1__OP__OP_CREATE;
	case CDC_OP_UPDATE: return PGCDC__V1__OP__OP_UPDATE;
	case CDC_OP_DELETE: return PGCDC__V1__OP__OP_DELETE;
	case CDC_OP_READ: return PGCDC__V1__OP__OP_READ;
	case CDC_OP_TRUNCATE: return PGCDC__V1__OP__OP_TRUNCATE;
	case CDC_OP_MESSAGE: return PGCDC__V1__OP__OP_MESSAGE;
	default: return PGCDC__V1__OP__OP_UNSPECIFIED;
	}
}

static void
put_source(struct proto_enc *e, const struct cdc_change *ch, const struct json_opts *o)
{
	Pgcdc__V1__Source *src = &e->source;
	const struct cdc_txn *txn = ch->txn;

	pgcdc__v1__source__init(src);
	src->version = (char *) (o != NULL && o->version != NULL ? o->version : "");
	src->connector = (char *) "postgresql";
	src->name = (char *) (o != NULL && o->name != NULL ? o->name : "");
	src->db = (char *) (o != NULL && o->db != NULL ? o->db : "");
	src->schema = ch->rel != NULL && ch->rel->schema != NULL ? ch->rel->schema : (char *) "";
	src->table = ch->rel != NULL && ch->rel->name != NULL ? ch->rel->name : (char *) "";
	switch (ch->snapshot) {
	case CDC_SNAP_TRUE: src->snapshot = (char *) "true"; break;
	case CDC_SNAP_LAST: src->snapshot = (char *) "last"; break;
	case CDC_SNAP_INCREMENTAL: src->snapshot = (char *) "incremental"; break;
	default: src->snapshot = (char *) "false"; break;
	}
	if (txn != NULL) {
		/* floor division, as json.c: commit times before 1970 stay monotonic */
		src->ts_ms = txn->commit_ts_us / 1000;
		if (txn->commit_ts_us % 1000 < 0)
			src->ts_ms--;
		src->ts_us = txn->commit_ts_us;
		/* saturating, as json.c: nanoseconds past 2262 do not fit */
		src->ts_ns = txn->commit_ts_us > INT64_MAX / 1000 ? INT64_MAX :
		             txn->commit_ts_us < INT64_MIN / 1000 ? INT64_MIN : txn->commit_ts_us * 1000;
		src->tx_id = txn->xid;
	}
	if (txn != NULL && txn->prev_commit_lsn != 0)
		snprintf(e->seq, sizeof(e->seq), "[\"%llu\",\"%llu\"]",
		         (unsigned long long) txn->prev_commit_lsn, (unsigned long long) ch->lsn);
	else
		snprintf(e->seq, sizeof(e->seq), "[null,\"%llu\"]", (unsigned long long) ch->lsn);
	src->sequence = e->seq;
	src->lsn = ch->lsn;
}

/* Point every string/bytes field at its bytes now that the arena will not move. */
static void
patch(struct proto_enc *e, size_t used)
{
	for (size_t i = 0; i < used; i++) {
		const struct slot *sl = &e->slots[i];
		Column *c = &e->cols[i];

		switch (sl->what) {
		case 's':
			c->string_value = e->arena.data + sl->off;
			break;
		case 'a':
			c->array_json = e->arena.data + sl->off;
			break;
		case 'b':
			c->bytes_value.data = (uint8_t *) e->arena.data + sl->off;
			c->bytes_value.len = sl->len;
			break;
		default:
			break;
		}
	}
}

int
proto_encode(struct proto_enc *e, const struct cdc_change *ch, const struct cdc_types *types,
             const struct json_opts *o, int64_t now_ns, const uint8_t **out, size_t *outlen,
             struct cdc_err *err)
{
	Pgcdc__V1__Change *m = &e->change;
	const struct cdc_rel *rel;
	size_t next = 0, size;
	int rc;

	if ((rc = check_change(ch, err)) != 0)
		return rc;
	rel = ch->rel;
	if (rel != NULL && (rc = ensure_cols(e, 2 * (size_t) rel->ncols, err)) != 0)
		return rc;
	jbuf_reset(&e->arena);
	pgcdc__v1__change__init(m);
	m->op = op_of(ch->op);
	m->ts_ms = now_ns / 1000000 - (now_ns % 1000000 < 0);
	m->ts_us = now_ns / 1000 - (now_ns % 1000 < 0);
	m->ts_ns = now_ns;

	if (ch->op == CDC_OP_UPDATE || ch->op == CDC_OP_DELETE) {
		if (ch->old_tuple != NULL) {
			rc = put_row(e, &e->before, &next, rel, ch->old_tuple, ch->old_kind == 'K',
			             types, o, err);
			m->before = &e->before;
		} else if (ch->op == CDC_OP_UPDATE && (rel->replident == 'd' || rel->replident == 'i')
		           && has_key_cols(rel)) {
			/* an update that left the key alone carries no old key: the key
			 * columns come from the new row (as in the JSON format) */
			rc = put_row(e, &e->before, &next, rel, ch->new_tuple, true, types, o, err);
			m->before = &e->before;
		}
		if (rc != 0)
			return rc;
	}
	if (ch->op == CDC_OP_CREATE || ch->op == CDC_OP_READ || ch->op == CDC_OP_UPDATE) {
		if ((rc = put_row(e, &e->after, &next, rel, ch->new_tuple, false, types, o, err)) != 0)
			return rc;
		m->after = &e->after;
	}
	if (ch->op == CDC_OP_MESSAGE) {
		pgcdc__v1__message__init(&e->message);
		e->message.prefix = (char *) ch->msg->prefix;
		e->message.content.data = (uint8_t *) ch->msg->content;
		e->message.content.len = ch->msg->len;
		m->message = &e->message;
	}
	if (o->tx_order > 0 && ch->txn != NULL) {
		pgcdc__v1__transaction_block__init(&e->txb);
		snprintf(e->txid, sizeof(e->txid), "%" PRIu32 ":%" PRIu64, ch->txn->xid, ch->lsn);
		e->txb.id = e->txid;
		e->txb.total_order = (int64_t) o->tx_order;
		e->txb.data_collection_order = (int64_t) o->tx_collection_order;
		m->transaction_block = &e->txb;
	}
	put_source(e, ch, o);
	m->source = &e->source;
	if (e->arena.oom)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a protobuf record");
	patch(e, next);

	size = pgcdc__v1__change__get_packed_size(m);
	if (size > e->outcap) {
		size_t cap = e->outcap < 256 ? 256 : e->outcap;
		uint8_t *p;

		while (cap < size)
			cap *= 2;
		if ((p = realloc(e->out, cap)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a protobuf record");
		e->out = p;
		e->outcap = cap;
	}
	*outlen = size > 0 ? pgcdc__v1__change__pack(m, e->out) : 0;
	*out = e->out;
	return 0;
}

int
proto_tx_event(struct proto_enc *e, uint32_t xid, cdc_lsn lsn, int64_t ts_us,
               const struct json_tx_count *counts, size_t ncounts, uint64_t total,
               const uint8_t **out, size_t *outlen, struct cdc_err *err)
{
	Pgcdc__V1__TransactionEvent m;
	Pgcdc__V1__DataCollection *dc = NULL, **dcp = NULL;
	char id[48];
	size_t size;
	int rc = 0;

	pgcdc__v1__transaction_event__init(&m);
	snprintf(id, sizeof(id), "%" PRIu32 ":%" PRIu64, xid, lsn);
	m.status = counts == NULL ? "BEGIN" : "END";
	m.id = id;
	m.ts_ms = ts_us / 1000 - (ts_us % 1000 < 0);
	if (counts != NULL && ncounts > 0) {
		dc = calloc(ncounts, sizeof(*dc));
		dcp = calloc(ncounts, sizeof(*dcp));
		if (dc == NULL || dcp == NULL) {
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a protobuf record");
			goto out;
		}
		for (size_t i = 0; i < ncounts; i++) {
			pgcdc__v1__data_collection__init(&dc[i]);
			dc[i].data_collection = (char *) counts[i].collection;
			dc[i].event_count = (int64_t) counts[i].n;
			dcp[i] = &dc[i];
		}
		m.n_data_collections = ncounts;
		m.data_collections = dcp;
	}
	if (counts != NULL)
		m.event_count = (int64_t) total;
	size = pgcdc__v1__transaction_event__get_packed_size(&m);
	if (size > e->outcap) {
		size_t cap = e->outcap < 256 ? 256 : e->outcap;
		uint8_t *p;

		while (cap < size)
			cap *= 2;
		if ((p = realloc(e->out, cap)) == NULL) {
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a protobuf record");
			goto out;
		}
		e->out = p;
		e->outcap = cap;
	}
	*outlen = size > 0 ? pgcdc__v1__transaction_event__pack(&m, e->out) : 0;
	*out = e->out;
out:
	free(dc);
	free(dcp);
	return rc;
}
