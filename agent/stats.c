/*
 * stats.c — mutex-protected counters (see stats.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

#define STATS_NAME 192

struct tstat {
	char name[STATS_NAME];    /* schema.table */
	uint64_t counts[5];
	char snap_state[16];
	struct stats_snap snap;   /* .state points at snap_state */
	bool has_snapshot;
	struct tstat *next;
};

struct cdc_stats {
	pthread_mutex_t mu;
	struct stats_view v;
	struct tstat *tables;
	struct tstat *last;       /* most recently used: changes come in runs per table */
};

struct cdc_stats *
stats_new(void)
{
	struct cdc_stats *s = calloc(1, sizeof(*s));

	if (s != NULL)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void
stats_free(struct cdc_stats *s)
{
	if (s == NULL)
		return;
	while (s->tables != NULL) {
		struct tstat *t = s->tables;

		s->tables = t->next;
		free(t);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
stats_set_state(struct cdc_stats *s, enum stats_state st)
{
	pthread_mutex_lock(&s->mu);
	s->v.state = st;
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_positions(struct cdc_stats *s, cdc_lsn received, cdc_lsn acked, bool sent)
{
	pthread_mutex_lock(&s->mu);
	s->v.received = received;
	s->v.acked = acked;
	if (sent) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s->v.acked_at_ms = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_backend_pid(struct cdc_stats *s, int pid)
{
	pthread_mutex_lock(&s->mu);
	s->v.backend_pid = pid;
	pthread_mutex_unlock(&s->mu);
}

/* Whether an entry's "schema.table" name is schema and table (without
 * formatting it: this runs for every change). */
static bool
name_is(const char *name, const char *schema, const char *table)
{
	size_t sl = strlen(schema);

	return strncmp(name, schema, sl) == 0 && name[sl] == '.' && strcmp(name + sl + 1, table) == 0;
}

/* Find or add a table entry; caller holds the mutex.  NULL on OOM. */
static struct tstat *
table_entry(struct cdc_stats *s, const char *schema, const char *table)
{
	char name[STATS_NAME];
	struct tstat *t;

	if (s->last != NULL && name_is(s->last->name, schema, table))
		return s->last;
	for (t = s->tables; t != NULL && !name_is(t->name, schema, table); t = t->next)
		;
	if (t == NULL) {
		/* new, or a name cut to STATS_NAME (PostgreSQL's names are shorter) */
		snprintf(name, sizeof(name), "%s.%s", schema, table);
		for (t = s->tables; t != NULL && strcmp(t->name, name) != 0; t = t->next)
			;
	}
	if (t == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		memcpy(t->name, name, sizeof(name));
		t->next = s->tables;
		s->tables = t;
	}
	s->last = t;
	return t;
}

static int
op_index(char op)
{
	switch (op) {
	case 'c': return 0;
	case 'u': return 1;
	case 'd': return 2;
	case 'r': return 3;
	default: return 4;
	}
}

void
stats_add_change(struct cdc_stats *s, const char *schema, const char *table, char op)
{
	stats_add_changes(s, schema, table, op, 1);
}

void
stats_add_changes(struct cdc_stats *s, const char *schema, const char *table, char op,
                  uint64_t n)
{
	struct tstat *t;

	pthread_mutex_lock(&s->mu);
	s->v.changes += n;
	t = table_entry(s, schema, table);
	if (t != NULL)
		t->counts[op_index(op)] += n;
	pthread_mutex_unlock(&s->mu);
}

void
stats_add_transaction(struct cdc_stats *s)
{
	pthread_mutex_lock(&s->mu);
	s->v.transactions++;
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_spilled(struct cdc_stats *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->mu);
	s->v.spilled_bytes = bytes;
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_gap(struct cdc_stats *s, const char *why)
{
	pthread_mutex_lock(&s->mu);
	s->v.gap = why != NULL;
	if (why != NULL) {     /* the text stays for an alert that samples it after the end */
		s->v.gap_seq++;
		snprintf(s->v.gap_why, sizeof(s->v.gap_why), "%s", why);
	}
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_spill_error(struct cdc_stats *s, const char *err)
{
	pthread_mutex_lock(&s->mu);
	s->v.spill_failing = err != NULL;
	snprintf(s->v.spill_error, sizeof(s->v.spill_error), "%s", err ? err : "");
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_sink(struct cdc_stats *s, int i, const char *name, uint64_t records, uint64_t errors,
               const char *err)
{
	struct stats_sink *k;

	if (i < 0 || i >= STATS_MAX_SINKS)
		return;
	pthread_mutex_lock(&s->mu);
	k = &s->v.sinks[i];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->records = records;
	k->errors = errors;
	k->failing = err != NULL;
	snprintf(k->last_error, sizeof(k->last_error), "%s", err ? err : "");
	if (i >= s->v.nsinks)
		s->v.nsinks = i + 1;
	pthread_mutex_unlock(&s->mu);
}

void
stats_set_snapshot(struct cdc_stats *s, const char *table, const struct stats_snap *p)
{
	const char *dot = strchr(table, '.');
	char schema[STATS_NAME];
	struct tstat *t;

	snprintf(schema, sizeof(schema), "%.*s", dot ? (int) (dot - table) : 0, table);
	pthread_mutex_lock(&s->mu);
	t = table_entry(s, schema, dot ? dot + 1 : table);
	if (t != NULL) {
		snprintf(t->snap_state, sizeof(t->snap_state), "%s", p->state);
		t->snap = *p;
		t->snap.state = t->snap_state;
		t->has_snapshot = true;
	}
	pthread_mutex_unlock(&s->mu);
}

void
stats_snap_rate(struct stats_snap *p, uint64_t rows, int64_t elapsed_ms)
{
	p->rows_per_s = elapsed_ms > 0 ? (double) rows * 1000.0 / (double) elapsed_ms : 0;
	p->eta_s = -1;
	if (strcmp(p->state, "done") == 0)
		p->eta_s = 0;
	else if (p->rows_per_s > 0 && p->estimate > p->rows)
		p->eta_s = (double) (p->estimate - p->rows) / p->rows_per_s;
}

void
stats_read(struct cdc_stats *s, struct stats_view *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->v;
	pthread_mutex_unlock(&s->mu);
}

void
stats_foreach_table(struct cdc_stats *s, stats_table_fn fn, void *ctx)
{
	pthread_mutex_lock(&s->mu);
	for (struct tstat *t = s->tables; t != NULL; t = t->next)
		fn(ctx, t->name, t->counts);
	pthread_mutex_unlock(&s->mu);
}

void
stats_foreach_snapshot(struct cdc_stats *s, stats_snap_fn fn, void *ctx)
{
	pthread_mutex_lock(&s->mu);
	for (struct tstat *t = s->tables; t != NULL; t = t->next)
		if (t->has_snapshot)
			fn(ctx, t->name, &t->snap);
	pthread_mutex_unlock(&s->mu);
}
