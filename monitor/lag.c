/*
 * lag.c — the (time, current WAL LSN) history behind lag_seconds (see lag.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lag.h"

struct lag_entry {
	cdc_lsn lsn;
	int64_t first_ms;          /* first sample that saw this position */
	int64_t last_ms;           /* last sample that saw it */
};

struct mon_lag {
	int cap, n;
	struct lag_entry *e;       /* ascending LSN and time */
};

struct mon_lag *
mon_lag_new(int capacity)
{
	struct mon_lag *l = calloc(1, sizeof(*l));

	if (capacity < 8)
		capacity = 8;
	if (l == NULL || (l->e = calloc((size_t) capacity, sizeof(*l->e))) == NULL) {
		free(l);
		return NULL;
	}
	l->cap = capacity;
	return l;
}

void
mon_lag_free(struct mon_lag *l)
{
	if (l == NULL)
		return;
	free(l->e);
	free(l);
}

/* Full: keep every other entry of the older half (always entry 0), all of the
 * newer half. */
static void
thin(struct mon_lag *l)
{
	int half = l->n / 2, o = 0;

	for (int i = 0; i < half; i += 2)
		l->e[o++] = l->e[i];
	memmove(&l->e[o], &l->e[half], (size_t) (l->n - half) * sizeof(*l->e));
	l->n = o + (l->n - half);
}

void
mon_lag_add(struct mon_lag *l, int64_t now_ms, cdc_lsn current)
{
	if (l->n > 0) {
		struct lag_entry *last = &l->e[l->n - 1];

		if (current == last->lsn) {
			last->last_ms = now_ms;
			return;
		}
		if (current < last->lsn)
			l->n = 0;
	}
	if (l->n == l->cap)
		thin(l);
	l->e[l->n].lsn = current;
	l->e[l->n].first_ms = now_ms;
	l->e[l->n].last_ms = now_ms;
	l->n++;
}

double
mon_lag_seconds(const struct mon_lag *l, int64_t now_ms, cdc_lsn confirmed, bool *lower_bound)
{
	const struct lag_entry *prev, *next;
	double at;
	int lo, hi;

	if (lower_bound != NULL)
		*lower_bound = false;
	if (l->n == 0 || confirmed >= l->e[l->n - 1].lsn)
		return 0;
	if (confirmed < l->e[0].lsn) {
		if (lower_bound != NULL)
			*lower_bound = true;
		return now_ms > l->e[0].first_ms ? (double) (now_ms - l->e[0].first_ms) / 1000.0 : 0;
	}
	/* first entry above confirmed: entries are ascending, e[0] <= confirmed < e[n-1] */
	lo = 0;
	hi = l->n - 1;
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;

		if (l->e[mid].lsn <= confirmed)
			lo = mid;
		else
			hi = mid;
	}
	prev = &l->e[lo];
	next = &l->e[hi];
	/* the server was at prev->lsn until prev->last_ms and at next->lsn from
	 * next->first_ms: it crossed confirmed in between */
	at = (double) prev->last_ms + (double) (confirmed - prev->lsn) /
	     (double) (next->lsn - prev->lsn) * (double) (next->first_ms - prev->last_ms);
	return (double) now_ms > at ? ((double) now_ms - at) / 1000.0 : 0;
}

int
mon_lag_entries(const struct mon_lag *l)
{
	return l->n;
}

int
mon_lag_entry(const struct mon_lag *l, int i, cdc_lsn *lsn, int64_t *first_ms, int64_t *last_ms)
{
	if (i < 0 || i >= l->n)
		return -1;
	*lsn = l->e[i].lsn;
	*first_ms = l->e[i].first_ms;
	*last_ms = l->e[i].last_ms;
	return 0;
}

void
mon_lag_restore(struct mon_lag *l, cdc_lsn lsn, int64_t first_ms, int64_t last_ms)
{
	if (last_ms < first_ms)
		return;
	if (l->n > 0 && (lsn <= l->e[l->n - 1].lsn || first_ms < l->e[l->n - 1].last_ms))
		return;
	if (l->n == l->cap)
		thin(l);
	l->e[l->n].lsn = lsn;
	l->e[l->n].first_ms = first_ms;
	l->e[l->n].last_ms = last_ms;
	l->n++;
}
