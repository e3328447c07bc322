/*
 * relcache.c — open-addressing hash of relation oid -> struct cdc_rel.
 */
#include <stdlib.h>
#include <string.h>

#include "relcache.h"

struct relcache {
	struct cdc_rel **slots;
	size_t cap;          /* power of two */
	size_t n;
	uint32_t version;    /* bumped for every stored definition */
};

static void
rel_free(struct cdc_rel *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		free(r->cols[i].defexpr);
	}
	free(r->cols);
	free(r->schema);
	free(r->name);
	free(r);
}

struct relcache *
relcache_new(void)
{
	struct relcache *rc = calloc(1, sizeof(*rc));

	if (rc == NULL)
		return NULL;
	rc->cap = 64;
	rc->slots = calloc(rc->cap, sizeof(*rc->slots));
	if (rc->slots == NULL) {
		free(rc);
		return NULL;
	}
	return rc;
}

void
relcache_clear(struct relcache *rc)
{
	if (rc == NULL)
		return;
	for (size_t i = 0; i < rc->cap; i++) {
		rel_free(rc->slots[i]);
		rc->slots[i] = NULL;
	}
	rc->n = 0;
}

void
relcache_free(struct relcache *rc)
{
	if (rc == NULL)
		return;
	relcache_clear(rc);
	free(rc->slots);
	free(rc);
}

static size_t
slot_of(const struct relcache *rc, uint32_t oid)
{
	size_t i = (oid * 2654435761u) & (rc->cap - 1);

	while (rc->slots[i] != NULL && rc->slots[i]->oid != oid)
		i = (i + 1) & (rc->cap - 1);
	return i;
}

struct cdc_rel *
relcache_get(const struct relcache *rc, uint32_t oid)
{
	return rc->slots[slot_of(rc, oid)];
}

static int
grow(struct relcache *rc)
{
	struct relcache bigger = { .cap = rc->cap * 2 };

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (bigger.slots == NULL)
		return -1;
	for (size_t i = 0; i < rc->cap; i++)
		if (rc->slots[i] != NULL)
			bigger.slots[slot_of(&bigger, rc->slots[i]->oid)] = rc->slots[i];
	free(rc->slots);
	rc->slots = bigger.slots;
	rc->cap = bigger.cap;
	return 0;
}

struct cdc_rel *
relcache_put(struct relcache *rc, const struct pgo_msg *msg, struct cdc_err *err)
{
	struct cdc_rel *r;
	size_t i;

	if ((rc->n + 1) * 2 > rc->cap && grow(rc) != 0)
		goto oom;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto oom;
	r->oid = msg->u.relation.oid;
	r->replident = msg->u.relation.replident;
	r->schema = strdup(msg->u.relation.schema);
	r->name = strdup(msg->u.relation.name);
	r->ncols = msg->u.relation.ncols;
	r->cols = calloc(r->ncols > 0 ? (size_t) r->ncols : 1, sizeof(*r->cols));
	if (r->schema == NULL || r->name == NULL || r->cols == NULL) {
		r->ncols = 0;
		rel_free(r);
		goto oom;
	}
	for (int c = 0; c < r->ncols; c++) {
		const struct pgo_relcol *src = &msg->u.relation.cols[c];

		r->cols[c].name = strdup(src->name);
		if (r->cols[c].name == NULL) {
			r->ncols = c;
			rel_free(r);
			goto oom;
		}
		r->cols[c].type_oid = src->type_oid;
		r->cols[c].typmod = src->typmod;
		r->cols[c].key = (src->flags & 1) != 0;
		r->cols[c].pk = r->cols[c].key && r->replident != 'f';
		if (r->cols[c].pk)
			r->npk++;
	}
	r->version = ++rc->version;

	i = slot_of(rc, r->oid);
	if (rc->slots[i] != NULL)
		rel_free(rc->slots[i]);
	else
		rc->n++;
	rc->slots[i] = r;
	return r;
oom:
	cdc_errf(err, CDC_ERR_NOMEM, "out of memory caching relation %s.%s",
	         msg->u.relation.schema, msg->u.relation.name);
	return NULL;
}

void
relcache_set_pk(struct cdc_rel *rel, char *const *names, int nnames)
{
	if (nnames <= 0)
		return;
	rel->npk = 0;
	for (int c = 0; c < rel->ncols; c++) {
		rel->cols[c].pk = false;
		for (int k = 0; k < nnames; k++) {
			if (strcmp(rel->cols[c].name, names[k]) == 0) {
				rel->cols[c].pk = true;
				rel->npk++;
				break;
			}
		}
	}
}
