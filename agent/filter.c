/*
 * filter.c — table and column filters (see filter.h).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "filter.h"
#include "../decoder/types.h"

enum { COL_KEEP = 0, COL_EXCLUDE, COL_MASK };

/* The plan for one relation definition. */
struct plan {
	uint32_t oid;
	uint32_t version;
	bool drop;                 /* table not included */
	bool identity;             /* nothing to change */
	struct cdc_rel rel;        /* derived relation (when !identity) */
	int *map;                  /* derived column i = source column map[i] */
	char *action;              /* per derived column: COL_KEEP or COL_MASK */
	struct plan *next;
};

struct filter {
	const struct cfg *cfg;
	bool active;
	struct plan *plans;
	struct cdc_value *oldv, *newv;
	int cap;
	struct cdc_tuple oldt, newt;
	struct cdc_change out;
	char *hex;                 /* 64 hex chars per masked value */
	int hexcap;
};

static bool
list_has(const struct cfg_list *l, const char *schema, const char *table, const char *col)
{
	char name[600];

	if (col != NULL)
		snprintf(name, sizeof(name), "%s.%s.%s", schema, table, col);
	else
		snprintf(name, sizeof(name), "%s.%s", schema, table);
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->items[i], name) == 0)
			return true;
	return false;
}

struct filter *
filter_new(const struct cfg *cfg, struct cdc_err *err)
{
	struct filter *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	f->cfg = cfg;
	f->active = cfg->filter.exclude_columns.n > 0 || cfg->filter.mask_columns.n > 0 ||
	            cfg->filter.include_tables.n > 0;
	return f;
}

static void
plan_free(struct plan *p)
{
	if (!p->identity && !p->drop) {
		for (int i = 0; i < p->rel.ncols; i++) {
			free(p->rel.cols[i].name);
			free(p->rel.cols[i].defexpr);
		}
		free(p->rel.cols);
		free(p->rel.schema);
		free(p->rel.name);
	}
	free(p->map);
	free(p->action);
	free(p);
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	while (f->plans != NULL) {
		struct plan *p = f->plans;

		f->plans = p->next;
		plan_free(p);
	}
	free(f->oldv);
	free(f->newv);
	free(f->hex);
	free(f);
}

bool
filter_active(const struct filter *f)
{
	return f != NULL && f->active;
}

static struct plan *
make_plan(struct filter *f, const struct cdc_rel *r, struct cdc_err *err)
{
	const struct cfg *c = f->cfg;
	struct plan *p = calloc(1, sizeof(*p));
	int n = 0, masked = 0;

	if (p == NULL)
		goto oom;
	p->oid = r->oid;
	p->version = r->version;
	if (c->filter.include_tables.n > 0 && !list_has(&c->filter.include_tables, r->schema, r->name, NULL)) {
		p->drop = true;
		return p;
	}
	p->map = calloc((size_t) r->ncols + 1, sizeof(*p->map));
	p->action = calloc((size_t) r->ncols + 1, 1);
	if (p->map == NULL || p->action == NULL)
		goto oom;
	for (int i = 0; i < r->ncols; i++) {
		const char *col = r->cols[i].name;

		if (list_has(&c->filter.exclude_columns, r->schema, r->name, col))
			continue;
		p->map[n] = i;
		p->action[n] = list_has(&c->filter.mask_columns, r->schema, r->name, col) ? COL_MASK : COL_KEEP;
		masked += p->action[n] == COL_MASK;
		n++;
	}
	if (n == r->ncols && masked == 0) {
		p->identity = true;
		return p;
	}
	p->rel = *r;
	p->rel.cols = calloc((size_t) n + 1, sizeof(*p->rel.cols));
	p->rel.schema = strdup(r->schema);
	p->rel.name = strdup(r->name);
	p->rel.ncols = 0;
	p->rel.npk = 0;
	if (p->rel.cols == NULL || p->rel.schema == NULL || p->rel.name == NULL)
		goto oom_rel;
	for (int k = 0; k < n; k++) {
		struct cdc_column *d = &p->rel.cols[k];
		/* a masked column's default would be the secret the hash hides */
		const char *def = p->action[k] == COL_MASK ? NULL : r->cols[p->map[k]].defexpr;

		*d = r->cols[p->map[k]];
		d->name = strdup(d->name);
		d->defexpr = def != NULL ? strdup(def) : NULL;
		if (d->name == NULL || (def != NULL && d->defexpr == NULL)) {
			free(d->name);
			free(d->defexpr);
			goto oom_rel;
		}
		p->rel.ncols++;
		if (p->action[k] == COL_MASK) {
			d->type_oid = CDC_OID_TEXT;   /* a hash is text whatever the column was */
			d->typmod = -1;
		}
		if (d->pk)
			p->rel.npk++;
	}
	return p;
oom_rel:
	plan_free(p);
	p = NULL;
oom:
	free(p);
	cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	return NULL;
}

static struct plan *
plan_for(struct filter *f, const struct cdc_rel *r, struct cdc_err *err)
{
	struct plan **pp, *p;

	for (pp = &f->plans; (p = *pp) != NULL; pp = &p->next) {
		if (p->oid != r->oid)
			continue;
		if (p->version == r->version)
			return p;
		*pp = p->next;   /* redefined: build anew */
		plan_free(p);
		break;
	}
	p = make_plan(f, r, err);
	if (p != NULL) {
		p->next = f->plans;
		f->plans = p;
	}
	return p;
}

static int
ensure_cap(struct filter *f, int ncols, int nmasked, struct cdc_err *err)
{
	if (ncols > f->cap) {
		struct cdc_value *o = realloc(f->oldv, (size_t) ncols * sizeof(*o));
		struct cdc_value *n;

		if (o == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		f->oldv = o;
		n = realloc(f->newv, (size_t) ncols * sizeof(*n));
		if (n == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		f->newv = n;
		f->cap = ncols;
	}
	if (2 * nmasked > f->hexcap) {
		char *h = realloc(f->hex, (size_t) (2 * nmasked) * 64);

		if (h == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		f->hex = h;
		f->hexcap = 2 * nmasked;
	}
	return 0;
}

static void
sha256_hex(const char *data, size_t len, char out[64])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
}

static void
remap(const struct plan *p, const struct cdc_tuple *src, struct cdc_value *dst,
      struct cdc_tuple *out, char *hex, int *hexused)
{
	for (int k = 0; k < p->rel.ncols; k++) {
		int i = p->map[k];
		struct cdc_value v = i < src->ncols ? src->vals[i]
		                     : (struct cdc_value) { .kind = CDC_VAL_NULL };

		if (p->action[k] == COL_MASK && (v.kind == CDC_VAL_TEXT || v.kind == CDC_VAL_BINARY)) {
			char *h = hex + 64 * (*hexused)++;

			sha256_hex(v.data, v.len, h);
			v.kind = CDC_VAL_TEXT;
			v.data = h;
			v.len = 64;
		}
		dst[k] = v;
	}
	out->ncols = p->rel.ncols;
	out->vals = dst;
}

int
filter_apply(struct filter *f, const struct cdc_change *ch, const struct cdc_change **out,
             struct cdc_err *err)
{
	struct plan *p;
	int masked = 0, hexused = 0, rc;

	*out = ch;
	if (!f->active || ch->rel == NULL)
		return 0;
	if ((p = plan_for(f, ch->rel, err)) == NULL)
		return err->code;
	if (p->drop) {
		*out = NULL;
		return 1;
	}
	if (p->identity)
		return 0;
	for (int k = 0; k < p->rel.ncols; k++)
		masked += p->action[k] == COL_MASK;
	if ((rc = ensure_cap(f, p->rel.ncols, masked, err)) != 0)
		return rc;
	f->out = *ch;
	f->out.rel = &p->rel;
	if (ch->old_tuple != NULL) {
		remap(p, ch->old_tuple, f->oldv, &f->oldt, f->hex, &hexused);
		f->out.old_tuple = &f->oldt;
	}
	if (ch->new_tuple != NULL) {
		remap(p, ch->new_tuple, f->newv, &f->newt, f->hex, &hexused);
		f->out.new_tuple = &f->newt;
	}
	/* a record-key change's other half (its key goes into a Kafka header): filtered
	 * like the rows, in the buffer the half itself leaves free (a delete has no new
	 * row, a create no old one) */
	if (ch->other_tuple != NULL) {
		if (ch->new_tuple == NULL) {
			remap(p, ch->other_tuple, f->newv, &f->newt, f->hex, &hexused);
			f->out.other_tuple = &f->newt;
		} else if (ch->old_tuple == NULL) {
			remap(p, ch->other_tuple, f->oldv, &f->oldt, f->hex, &hexused);
			f->out.other_tuple = &f->oldt;
		} else {
			f->out.other_tuple = NULL;    /* not a split key change: no header */
		}
	}
	*out = &f->out;
	return 0;
}
