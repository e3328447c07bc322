/*
 * bfwin.c — the watermark window of an online backfill chunk (see bfwin.h).
 *
 * The keys the window's changes touch are encoded (per key column: kind byte,
 * 4-byte length, bytes) into a hash set; bfw_chunk_keeps looks a chunk row's key up
 * in it as the row is emitted, so the chunk's rows are never copied here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bfwin.h"

struct buf {
	char *p;
	size_t len, cap;
};

struct bfw_chunk {
	char **names;
	int ncols;
	int *key;
	int nkey;
	/* the keys the window's changes touched: open addressing over (hash, offset) */
	struct buf touched;       /* encoded keys, back to back */
	uint64_t *set_hash;
	size_t *set_off, *set_len;
	size_t set_n, set_cap;    /* set_cap: a power of two, or 0 */
	bool truncated;           /* the window truncated the table */
	/* keyless: top-level xids that updated or deleted rows inside the window */
	uint32_t *writers;
	size_t nwriters, wcap;
	/* changes delivered before the window: (xid, kind, encoded keys) */
	struct before {
		uint32_t xid;
		char kind;
		size_t off, len;      /* into bkeys */
	} *before;
	size_t nbefore, bcap;
	struct buf bkeys;
	/* the chunk's snapshot */
	bool have_snap;
	uint32_t xmin, xmax;
	uint32_t *xip;
	size_t nxip;
	/* key columns of the last relation seen, by position in its tuples */
	const struct cdc_rel *map_rel;
	uint32_t map_version;
	int *map;                 /* ncols entries: position in map_rel, -1 when absent */
	int *ident;               /* 0, 1, ... ncols-1: a chunk row's own positions */
};

static int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* FNV-1a, then a final mix so that the low bits spread */
static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char) p[i];
		h *= UINT64_C(1099511628211);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

struct bfw_chunk *
bfw_chunk_new(char *const *names, int ncols, const int *key, int nkey)
{
	struct bfw_chunk *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ncols = ncols;
	c->nkey = nkey;
	c->names = calloc(ncols > 0 ? (size_t) ncols : 1, sizeof(*c->names));
	c->key = calloc(nkey > 0 ? (size_t) nkey : 1, sizeof(*c->key));
	c->map = calloc(ncols > 0 ? (size_t) ncols : 1, sizeof(*c->map));
	c->ident = calloc(ncols > 0 ? (size_t) ncols : 1, sizeof(*c->ident));
	if (c->names == NULL || c->key == NULL || c->map == NULL || c->ident == NULL)
		goto fail;
	for (int i = 0; i < ncols; i++)
		c->ident[i] = i;
	for (int i = 0; i < ncols; i++)
		if ((c->names[i] = strdup(names[i])) == NULL)
			goto fail;
	for (int i = 0; i < nkey; i++) {
		if (key[i] < 0 || key[i] >= ncols)
			goto fail;
		c->key[i] = key[i];
	}
	return c;
fail:
	bfw_chunk_free(c);
	return NULL;
}

void
bfw_chunk_free(struct bfw_chunk *c)
{
	if (c == NULL)
		return;
	for (int i = 0; c->names != NULL && i < c->ncols; i++)
		free(c->names[i]);
	free(c->names);
	free(c->key);
	free(c->map);
	free(c->ident);
	free(c->touched.p);
	free(c->set_hash);
	free(c->set_off);
	free(c->set_len);
	free(c->writers);
	free(c->before);
	free(c->bkeys.p);
	free(c->xip);
	free(c);
}

/* Append the encoded key of values vals[pos[k]] (k over the key columns) to b.
 * Returns 0, 1 when a key value is missing or an unchanged TOAST value, -1 on OOM. */
static int
encode_key(struct buf *b, const struct bfw_chunk *c, const struct cdc_tuple *t, const int *pos)
{
	for (int k = 0; k < c->nkey; k++) {
		const struct cdc_value *v = tuple_val(t, pos[c->key[k]]);
		unsigned char hdr[5];

		if (v == NULL || v->kind == CDC_VAL_UNCHANGED)
			return 1;
		hdr[0] = (unsigned char) v->kind;
		hdr[1] = (unsigned char) (v->len >> 24);
		hdr[2] = (unsigned char) (v->len >> 16);
		hdr[3] = (unsigned char) (v->len >> 8);
		hdr[4] = (unsigned char) v->len;
		if (buf_add(b, hdr, sizeof(hdr)) != 0 ||
		    buf_add(b, v->kind == CDC_VAL_NULL ? "" : v->data,
		            v->kind == CDC_VAL_NULL ? 0 : v->len) != 0)
			return -1;
	}
	return 0;
}

/* One 64-bit transaction id of pg_current_snapshot()'s text, as the 32-bit xid the
 * stream carries. */
static int
parse_xid(const char **p, uint32_t *out)
{
	char *end;
	unsigned long long v = strtoull(*p, &end, 10);

	if (end == *p)
		return -1;
	*out = (uint32_t) v;
	*p = end;
	return 0;
}

int
bfw_chunk_set_snapshot(struct bfw_chunk *c, const char *snap, struct cdc_err *err)
{
	const char *p = snap;
	size_t n = 1;

	for (const char *q = snap; *q; q++)
		n += *q == ',';
	free(c->xip);
	c->nxip = 0;
	if ((c->xip = calloc(n, sizeof(*c->xip))) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	if (parse_xid(&p, &c->xmin) != 0 || *p++ != ':' || parse_xid(&p, &c->xmax) != 0 ||
	    *p++ != ':')
		goto bad;
	while (*p != '\0') {
		if (parse_xid(&p, &c->xip[c->nxip]) != 0)
			goto bad;
		c->nxip++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	c->have_snap = true;
	return 0;
bad:
	return cdc_errf(err, CDC_ERR_PROTO, "backfill: unexpected snapshot \"%s\"", snap);
}

/* a precedes b, modulo 2^32 (TransactionIdPrecedes for normal xids) */
static bool
xid_precedes(uint32_t a, uint32_t b)
{
	return (int32_t) (a - b) < 0;
}

bool
bfw_chunk_sees(const struct bfw_chunk *c, uint32_t xid)
{
	if (!c->have_snap)
		return false;
	if (xid_precedes(xid, c->xmin))
		return true;       /* finished before the snapshot; committed, since the stream has it */
	if (!xid_precedes(xid, c->xmax))
		return false;      /* started after the snapshot */
	for (size_t i = 0; i < c->nxip; i++)
		if (c->xip[i] == xid)
			return false;  /* running when the snapshot was taken */
	return true;
}

static int
set_grow(struct bfw_chunk *c)
{
	size_t cap = c->set_cap ? c->set_cap * 2 : 64;
	uint64_t *h = calloc(cap, sizeof(*h));
	size_t *off = calloc(cap, sizeof(*off)), *len = calloc(cap, sizeof(*len));

	if (h == NULL || off == NULL || len == NULL) {
		free(h);
		free(off);
		free(len);
		return -1;
	}
	for (size_t i = 0; i < c->set_cap; i++) {
		size_t j;

		if (c->set_len[i] == 0)
			continue;
		for (j = c->set_hash[i] & (cap - 1); len[j] != 0; j = (j + 1) & (cap - 1))
			;
		h[j] = c->set_hash[i];
		off[j] = c->set_off[i];
		len[j] = c->set_len[i];
	}
	free(c->set_hash);
	free(c->set_off);
	free(c->set_len);
	c->set_hash = h;
	c->set_off = off;
	c->set_len = len;
	c->set_cap = cap;
	return 0;
}

/* Whether the encoded key p[0..n) is in the set; inserts it when add (it lives at
 * touched[off]).  Every encoded key is at least 5 bytes, so length 0 marks a free slot. */
static bool
set_find(struct bfw_chunk *c, const char *p, size_t n, bool add, size_t off)
{
	uint64_t h = hash_bytes(p, n);
	size_t j;

	if (c->set_cap == 0)
		return false;
	for (j = h & (c->set_cap - 1); c->set_len[j] != 0; j = (j + 1) & (c->set_cap - 1))
		if (c->set_hash[j] == h && c->set_len[j] == n &&
		    memcmp(c->touched.p + c->set_off[j], p, n) == 0)
			return true;
	if (add) {
		c->set_hash[j] = h;
		c->set_off[j] = off;
		c->set_len[j] = n;
		c->set_n++;
	}
	return false;
}

/* Positions of the chunk's columns in rel's tuples, by name. */
static void
map_columns(struct bfw_chunk *c, const struct cdc_rel *rel)
{
	if (c->map_rel == rel && c->map_version == rel->version)
		return;
	for (int i = 0; i < c->ncols; i++) {
		c->map[i] = -1;
		for (int j = 0; j < rel->ncols; j++)
			if (strcmp(rel->cols[j].name, c->names[i]) == 0) {
				c->map[i] = j;
				break;
			}
	}
	c->map_rel = rel;
	c->map_version = rel->version;
}

/* Remember the key of tuple t (a change's image) as touched by the window. */
static int
touch(struct bfw_chunk *c, const struct cdc_tuple *t)
{
	size_t off = c->touched.len;
	int rc;

	if ((rc = encode_key(&c->touched, c, t, c->map)) != 0)
		return rc;
	if ((c->set_n + 1) * 2 > c->set_cap && set_grow(c) != 0)
		return -1;
	if (set_find(c, c->touched.p + off, c->touched.len - off, true, off))
		c->touched.len = off;      /* already there */
	return 0;
}

int
bfw_chunk_change(struct bfw_chunk *c, const struct cdc_change *ch, struct cdc_err *err)
{
	int rc;

	if (ch->op == CDC_OP_TRUNCATE) {
		c->truncated = true;
		return 0;
	}
	map_columns(c, ch->rel);
	if (c->nkey == 0) {
		/* keyless: only who updated or deleted matters (bfw_chunk_finish) */
		if (ch->op != CDC_OP_UPDATE && ch->op != CDC_OP_DELETE)
			return 0;
		if (c->nwriters == c->wcap) {
			size_t cap = c->wcap ? c->wcap * 2 : 16;
			uint32_t *nw = realloc(c->writers, cap * sizeof(*nw));

			if (nw == NULL)
				return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			c->writers = nw;
			c->wcap = cap;
		}
		if (c->nwriters == 0 || c->writers[c->nwriters - 1] != ch->txn->xid)
			c->writers[c->nwriters++] = ch->txn->xid;
		return 0;
	}
	for (int k = 0; k < c->nkey; k++)
		if (c->map[c->key[k]] < 0)
			return 1;
	/* the old key (a delete; an update that changed the key or of a FULL identity),
	 * and the new one */
	if (ch->old_tuple != NULL && (rc = touch(c, ch->old_tuple)) != 0)
		goto out;
	if (ch->new_tuple != NULL && (rc = touch(c, ch->new_tuple)) != 0)
		goto out;
	return 0;
out:
	if (rc < 0)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	return rc;
}

int
bfw_chunk_ident(struct bfw_chunk *c, const struct cdc_change *ch, char *kind, char **out,
                size_t *len)
{
	struct buf b = { 0 };
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (ch->op == CDC_OP_TRUNCATE) {
		*kind = BFW_TRUNCATE;
		return 0;
	}
	map_columns(c, ch->rel);
	if (c->nkey == 0) {
		*kind = ch->op == CDC_OP_UPDATE || ch->op == CDC_OP_DELETE ? BFW_WRITE : BFW_NONE;
		return 0;
	}
	for (int k = 0; k < c->nkey; k++)
		if (c->map[c->key[k]] < 0)
			return 1;
	/* old key then new key, each nkey values (decoded by their 5-byte headers) */
	if (ch->old_tuple != NULL && (rc = encode_key(&b, c, ch->old_tuple, c->map)) != 0)
		goto fail;
	if (ch->new_tuple != NULL && (rc = encode_key(&b, c, ch->new_tuple, c->map)) != 0)
		goto fail;
	*kind = BFW_KEYS;
	*out = b.p;
	*len = b.len;
	return 0;
fail:
	free(b.p);
	return rc;
}

int
bfw_chunk_before(struct bfw_chunk *c, uint32_t xid, char kind, const char *ident, size_t len)
{
	struct before e = { .xid = xid, .kind = kind, .off = c->bkeys.len, .len = len };

	if (kind == BFW_NONE)
		return 0;
	if (c->nbefore == c->bcap) {
		size_t cap = c->bcap ? c->bcap * 2 : 64;
		struct before *nb = realloc(c->before, cap * sizeof(*nb));

		if (nb == NULL)
			return -1;
		c->before = nb;
		c->bcap = cap;
	}
	if (buf_add(&c->bkeys, ident, len) != 0)
		return -1;
	c->before[c->nbefore++] = e;
	return 0;
}

/* The keys of entry e (nkey values each, back to back) into the touched set. */
static int
touch_encoded(struct bfw_chunk *c, const char *p, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t start = pos, off;

		for (int k = 0; k < c->nkey; k++) {
			uint32_t n;

			if (pos + 5 > len)
				return 0;
			n = ((uint32_t) (unsigned char) p[pos + 1] << 24) |
			    ((uint32_t) (unsigned char) p[pos + 2] << 16) |
			    ((uint32_t) (unsigned char) p[pos + 3] << 8) | (unsigned char) p[pos + 4];
			pos += 5 + n;
		}
		if (pos > len)
			return 0;
		off = c->touched.len;
		if (buf_add(&c->touched, p + start, pos - start) != 0)
			return -1;
		if ((c->set_n + 1) * 2 > c->set_cap && set_grow(c) != 0)
			return -1;
		if (set_find(c, c->touched.p + off, pos - start, true, off))
			c->touched.len = off;
	}
	return 0;
}

int
bfw_chunk_finish(struct bfw_chunk *c)
{
	/* changes delivered before the window by transactions the read did not see */
	for (size_t i = 0; i < c->nbefore; i++) {
		const struct before *e = &c->before[i];

		if (bfw_chunk_sees(c, e->xid))
			continue;
		if (e->kind == BFW_TRUNCATE)
			c->truncated = true;
		else if (e->kind == BFW_WRITE || e->kind == BFW_REREAD)
			return 1;
		else if (touch_encoded(c, c->bkeys.p + e->off, e->len) != 0)
			return -1;
	}
	if (c->truncated)
		return 0;
	if (c->nkey == 0) {
		for (size_t i = 0; i < c->nwriters; i++)
			if (!bfw_chunk_sees(c, c->writers[i]))
				return 1;
	}
	return 0;
}

bool
bfw_chunk_keeps(struct bfw_chunk *c, const struct cdc_tuple *t)
{
	size_t off = c->touched.len;
	bool hit;

	if (c->truncated)
		return false;
	if (c->nkey == 0 || c->set_n == 0)
		return true;
	/* encode the key at the end of the touched buffer, look it up, take it back */
	if (encode_key(&c->touched, c, t, c->ident) != 0) {
		c->touched.len = off;
		return true;        /* no key to match (cannot happen for a keyed table's row) */
	}
	hit = set_find(c, c->touched.p + off, c->touched.len - off, false, 0);
	c->touched.len = off;
	return !hit;
}
