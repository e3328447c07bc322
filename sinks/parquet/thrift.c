/*
 * thrift.c — Thrift compact protocol writer and reader (see thrift.h).
 */
#include <string.h>

#include "thrift.h"

void
pq_put_zigzag(struct pq_buf *b, int64_t v)
{
	pq_put_uvarint(b, ((uint64_t) v << 1) ^ (uint64_t) (v >> 63));
}

void
pq_tw_init(struct pq_tw *w, struct pq_buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* Field header: short form when the id follows the previous one by 1..15. */
static void
field(struct pq_tw *w, int16_t id, int type)
{
	int delta = id - w->last[w->depth];

	if (delta > 0 && delta <= 15) {
		pq_buf_put_u8(w->out, (uint8_t) (delta << 4 | type));
	} else {
		pq_buf_put_u8(w->out, (uint8_t) type);
		pq_put_zigzag(w->out, id);
	}
	w->last[w->depth] = id;
}

void
pq_tw_i8(struct pq_tw *w, int16_t id, int8_t v)
{
	field(w, id, PQ_T_I8);
	pq_buf_put_u8(w->out, (uint8_t) v);
}

void
pq_tw_i16(struct pq_tw *w, int16_t id, int16_t v)
{
	field(w, id, PQ_T_I16);
	pq_put_zigzag(w->out, v);
}

void
pq_tw_i32(struct pq_tw *w, int16_t id, int32_t v)
{
	field(w, id, PQ_T_I32);
	pq_put_zigzag(w->out, v);
}

void
pq_tw_i64(struct pq_tw *w, int16_t id, int64_t v)
{
	field(w, id, PQ_T_I64);
	pq_put_zigzag(w->out, v);
}

void
pq_tw_bool(struct pq_tw *w, int16_t id, bool v)
{
	field(w, id, v ? PQ_T_TRUE : PQ_T_FALSE);
}

void
pq_tw_binary(struct pq_tw *w, int16_t id, const void *p, size_t n)
{
	field(w, id, PQ_T_BINARY);
	pq_put_uvarint(w->out, n);
	pq_buf_put(w->out, p, n);
}

void
pq_tw_string(struct pq_tw *w, int16_t id, const char *s)
{
	pq_tw_binary(w, id, s, strlen(s));
}

static void
push(struct pq_tw *w)
{
	if (w->depth + 1 >= PQ_THRIFT_MAX_DEPTH) {
		w->overflow = true;
		return;
	}
	w->last[++w->depth] = 0;
}

void
pq_tw_struct_begin(struct pq_tw *w, int16_t id)
{
	field(w, id, PQ_T_STRUCT);
	push(w);
}

void
pq_tw_elem_struct_begin(struct pq_tw *w)
{
	push(w);
}

void
pq_tw_struct_end(struct pq_tw *w)
{
	pq_buf_put_u8(w->out, PQ_T_STOP);
	if (w->depth > 0)
		w->depth--;
}

void
pq_tw_stop(struct pq_tw *w)
{
	pq_buf_put_u8(w->out, PQ_T_STOP);
}

void
pq_tw_list_begin(struct pq_tw *w, int16_t id, enum pq_ttype etype, size_t n)
{
	field(w, id, PQ_T_LIST);
	if (n < 15) {
		pq_buf_put_u8(w->out, (uint8_t) (n << 4 | etype));
	} else {
		pq_buf_put_u8(w->out, (uint8_t) (0xF0 | etype));
		pq_put_uvarint(w->out, n);
	}
}

void
pq_tw_elem_i32(struct pq_tw *w, int32_t v)
{
	pq_put_zigzag(w->out, v);
}

void
pq_tw_elem_binary(struct pq_tw *w, const void *p, size_t n)
{
	pq_put_uvarint(w->out, n);
	pq_buf_put(w->out, p, n);
}

/* ---- reader ---- */

void
pq_tr_init(struct pq_tr *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
}

static uint8_t
get_u8(struct pq_tr *r)
{
	if (r->err || r->pos >= r->len) {
		r->err = true;
		return 0;
	}
	return r->p[r->pos++];
}

static uint64_t
get_uvarint(struct pq_tr *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = get_u8(r);

		if (r->err)
			return 0;
		v |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->err = true;
	return 0;
}

static int64_t
get_zigzag(struct pq_tr *r)
{
	uint64_t u = get_uvarint(r);

	return (int64_t) (u >> 1) ^ -(int64_t) (u & 1);
}

int
pq_tr_field(struct pq_tr *r, int16_t *id)
{
	uint8_t b = get_u8(r);
	int type = b & 0x0f, delta = b >> 4;

	*id = 0;
	if (r->err)
		return PQ_T_STOP;
	if (type == PQ_T_STOP) {
		if (r->depth > 0)
			r->depth--;
		return PQ_T_STOP;
	}
	if (delta != 0)
		*id = (int16_t) (r->last[r->depth] + delta);
	else
		*id = (int16_t) get_zigzag(r);
	r->last[r->depth] = *id;
	if (type == PQ_T_TRUE || type == PQ_T_FALSE)
		r->bool_value = type == PQ_T_TRUE;
	return type;
}

void
pq_tr_struct_begin(struct pq_tr *r)
{
	if (r->depth + 1 >= PQ_THRIFT_MAX_DEPTH) {
		r->err = true;
		return;
	}
	r->last[++r->depth] = 0;
}

int64_t
pq_tr_int(struct pq_tr *r)
{
	return get_zigzag(r);
}

int8_t
pq_tr_i8(struct pq_tr *r)
{
	return (int8_t) get_u8(r);
}

bool
pq_tr_bool(struct pq_tr *r)
{
	return r->bool_value != 0;
}

double
pq_tr_double(struct pq_tr *r)
{
	uint8_t b[8];
	double d;

	for (int i = 0; i < 8; i++)
		b[i] = get_u8(r);
	{
		uint64_t u = pq_get_le64(b);

		memcpy(&d, &u, sizeof(d));
	}
	return r->err ? 0 : d;
}

const uint8_t *
pq_tr_binary(struct pq_tr *r, size_t *n)
{
	uint64_t len = get_uvarint(r);
	const uint8_t *p;

	*n = 0;
	if (r->err || len > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += (size_t) len;
	*n = (size_t) len;
	return p;
}

void
pq_tr_list(struct pq_tr *r, int *etype, size_t *n)
{
	uint8_t b = get_u8(r);

	*etype = b & 0x0f;
	*n = b >> 4;
	if (*n == 15)
		*n = (size_t) get_uvarint(r);
	if (r->err || *n > r->len) {   /* every element takes at least a byte... mostly */
		r->err = true;
		*n = 0;
	}
}

void
pq_tr_skip(struct pq_tr *r, int type)
{
	size_t n;
	int etype;
	int16_t id;

	if (r->err)
		return;
	switch (type) {
	case PQ_T_TRUE:
	case PQ_T_FALSE:
		break;
	case PQ_T_I8:
		get_u8(r);
		break;
	case PQ_T_I16:
	case PQ_T_I32:
	case PQ_T_I64:
		get_uvarint(r);
		break;
	case PQ_T_DOUBLE:
		pq_tr_double(r);
		break;
	case PQ_T_BINARY:
		pq_tr_binary(r, &n);
		break;
	case PQ_T_LIST:
	case PQ_T_SET:
		pq_tr_list(r, &etype, &n);
		for (size_t i = 0; i < n && !r->err; i++) {
			if (etype == PQ_T_TRUE || etype == PQ_T_FALSE)
				get_u8(r);   /* booleans in collections take a byte each */
			else
				pq_tr_skip(r, etype);
		}
		break;
	case PQ_T_MAP: {
		uint64_t cnt = get_uvarint(r);
		uint8_t kv = cnt ? get_u8(r) : 0;

		if (cnt > r->len) {
			r->err = true;
			break;
		}
		for (uint64_t i = 0; i < cnt && !r->err; i++) {
			pq_tr_skip(r, kv >> 4);
			pq_tr_skip(r, kv & 0x0f);
		}
		break;
	}
	case PQ_T_STRUCT:
		pq_tr_struct_begin(r);
		for (;;) {
			int t = pq_tr_field(r, &id);

			if (t == PQ_T_STOP || r->err)
				break;
			pq_tr_skip(r, t);
		}
		break;
	default:
		r->err = true;
	}
}
