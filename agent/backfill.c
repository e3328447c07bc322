/*
 * backfill.c — the online snapshot (see backfill.h for the design).
 *
 * Locking: b->mu guards the workers' chunk slots, the tables' cursors and b->fatal.
 * The replication thread takes it for each watermark and, while a backfill runs,
 * for each change of the stream; it never holds it while calling into the pipeline.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backfill.h"
#include "bfwin.h"
#include "pg.h"
#include "snapshot.h"
#include "../common/clock.h"
#include "../common/durable.h"
#include "../common/log.h"
#include "../decoder/copytext.h"
#include "../decoder/relcache.h"

#define MAX_WORKERS 64
#define MAX_KEY 32
#define PROGRESS_MS 5000
#define RETRY_MS 2000

enum cstate {
	C_IDLE = 0,    /* no chunk in flight */
	C_READING,     /* low watermark written, rows being read */
	C_POSTED,      /* rows in memory, high watermark written (or being written) */
	C_DONE,        /* emitted at its high watermark */
	C_REREAD,      /* read it again */
	C_VOID,        /* read ahead of a chunk that is read again: dropped */
};

struct bftable {
	struct snap_table *t;
	int nkey;
	int key[MAX_KEY];          /* record key columns: indexes into t->rel->cols */
	char *keytype[MAX_KEY];    /* their SQL types, for the cursor's literals */
	char *cursor[MAX_KEY];     /* keyed: the last key read (text), NULL before the first */
	bool have_cursor;
	uint32_t page, end_page;   /* keyless: next page to read, pages at the start */
	uint32_t pages_per_chunk;
	bool taken, done;
	uint64_t rows, chunks;
	uint64_t rows_before;      /* rows read by an earlier run (resumed), not in the rate */
	int64_t started_ms;
	/* changes the stream delivered of this table that the newest chunk snapshot did
	 * not see (or delivered since): a window copies them at its low watermark */
	struct bfw_chunk *enc;     /* encodes a change's identity for this table */
	struct recent {
		uint32_t xid;
		char kind;
		char *ident;
		size_t len;
	} *recent;
	size_t nrecent, rcap;
	/* as of the acknowledged position: what the state file records */
	char *dur_cursor[MAX_KEY];
	bool dur_have_cursor, dur_done;
	uint32_t dur_page;
	uint64_t dur_rows;
	/* a chunk handed to the sinks and not yet recorded: its commit LSN.  After a crash
	 * the chunk is read again and goes out with dedupe_lsn = this, so Parquet, which
	 * may hold it already, does not write it twice */
	cdc_lsn dur_pending;
};

/* A chunk's rows as read (COPY text lines).  Short lines are copied into blocks and
 * libpq's buffer is freed at once, by the thread that allocated it: a malloc and a free
 * per row on two threads cost more than the copy.  Long lines keep libpq's buffer. */
#define ROW_BLOCK (256 * 1024)
#define ROW_COPY_MAX 4096
struct rowblk {
	struct rowblk *next;
	size_t used;
	char data[ROW_BLOCK];
};
struct bfrows {
	char **lines;
	size_t *lens;
	size_t n, cap;
	struct rowblk *blk;        /* the newest block first */
	char **big;                /* lines kept in libpq's buffer (PQfreemem) */
	size_t nbig, bigcap;
};

/* A chunk in flight: guarded by b->mu, but for its rows (see read_chunk). */
struct bfchunk {
	enum cstate st;
	uint64_t id;
	int table;
	uint32_t page_from, page_to;   /* keyless: its pages */
	struct bfrows rows;
	char *snap;
	struct bfw_chunk *win;
	bool win_reread;
};

/* A worker reads a chunk while the one before waits for its verdict at its high
 * watermark: two slots, used in turn. */
struct bfworker {
	struct backfill *b;
	pthread_t th;
	bool started;
	PGconn *conn;
	struct bfchunk c[2];
};

/* The progress a chunk makes (replication thread only). */
struct pend {
	int table;
	char *cursor[MAX_KEY];
	bool have_cursor;
	uint32_t page;
	bool done;
	uint64_t rows;
};

struct backfill {
	struct bf_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct relcache *rc;
	struct snap_table *tables;
	int ntables;
	struct bftable *bt;
	struct bfworker w[MAX_WORKERS];
	int nworkers;
	uint64_t next_id;
	bool stopping;
	bool active;
	bool emitting;             /* inside high_watermark (its flush sends status updates) */
	json_t *finished;          /* tables an earlier run finished (resumed: kept in the file) */
	char *signal;              /* the id of the `pgcdc backfill` this is, NULL: the initial one */
	bool gap;                  /* this backfill closes a gap (on_gap = backfill) */
	json_t *staged;            /* signals of the transaction being decoded */
	json_t *queue;             /* signals waiting for the running backfill to end */
	json_t *seen;              /* ids of the signals acted on by this process */
	char fatal[512];           /* a worker's unrecoverable error, raised by the main thread */
	bool unwritten;            /* durable progress recorded in memory, not yet in the file */
	bool standby;              /* streaming from a standby: no watermarks can be written */
	int64_t last_progress_ms;
	int64_t started_ms;
};

static void
state_path(const struct cfg *cfg, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.backfill", cfg->source.state_dir, cfg->source.slot);
}

static void
free_strs(char **v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
}

/* Take line (libpq's buffer, len bytes) into r.  Returns 0, -1 when out of memory (the
 * line is freed). */
static int
rows_add(struct bfrows *r, char *line, size_t len)
{
	char *at = line;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		char **nl = realloc(r->lines, cap * sizeof(*nl));
		size_t *nn = nl ? realloc(r->lens, cap * sizeof(*nn)) : NULL;

		if (nl != NULL)
			r->lines = nl;
		if (nn == NULL) {
			PQfreemem(line);
			return -1;
		}
		r->lens = nn;
		r->cap = cap;
	}
	if (len <= ROW_COPY_MAX) {
		if (r->blk == NULL || ROW_BLOCK - r->blk->used < len) {
			struct rowblk *nb = malloc(sizeof(*nb));

			if (nb == NULL) {
				PQfreemem(line);
				return -1;
			}
			nb->next = r->blk;
			nb->used = 0;
			r->blk = nb;
		}
		at = r->blk->data + r->blk->used;
		memcpy(at, line, len);
		r->blk->used += len;
		PQfreemem(line);
	} else {
		if (r->nbig == r->bigcap) {
			size_t cap = r->bigcap ? r->bigcap * 2 : 16;
			char **nb = realloc(r->big, cap * sizeof(*nb));

			if (nb == NULL) {
				PQfreemem(line);
				return -1;
			}
			r->big = nb;
			r->bigcap = cap;
		}
		r->big[r->nbig++] = line;
	}
	r->lines[r->n] = at;
	r->lens[r->n++] = len;
	return 0;
}

/* Forget r's rows; keep_arrays keeps the line arrays for the next chunk. */
static void
rows_free(struct bfrows *r, bool keep_arrays)
{
	while (r->blk != NULL) {
		struct rowblk *next = r->blk->next;

		free(r->blk);
		r->blk = next;
	}
	for (size_t i = 0; i < r->nbig; i++)
		PQfreemem(r->big[i]);
	r->nbig = 0;
	r->n = 0;
	if (!keep_arrays) {
		free(r->lines);
		free(r->lens);
		free(r->big);
		r->lines = NULL;
		r->lens = NULL;
		r->big = NULL;
		r->cap = r->bigcap = 0;
	}
}

static void
chunk_clear(struct bfchunk *c)
{
	rows_free(&c->rows, true);
	free(c->snap);
	c->snap = NULL;
	bfw_chunk_free(c->win);
	c->win = NULL;
	c->win_reread = false;
}

static struct bfw_chunk *new_window(struct bftable *t);
static void start_next(struct backfill *b);
static void reset_tables(struct backfill *b);
static void recent_prune(struct backfill *b, const struct bfw_chunk *seen_by);

/* ---- the state file ---- */

/* The durable progress of every table as the state file's text (owned), NULL on OOM
 * (replication thread). */
static char *
state_render(struct backfill *b)
{
	json_t *root = json_object(), *arr = json_array();
	char *text = NULL;

	if (root == NULL || arr == NULL) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(root, "tables", arr);
	json_object_set_new(root, "signal", b->signal ? json_string(b->signal) : json_null());
	json_object_set_new(root, "gap", json_boolean(b->gap));
	if (b->finished != NULL)
		json_array_extend(arr, b->finished);
	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < b->ntables; i++) {
		struct bftable *t = &b->bt[i];
		json_t *key = json_null();

		if (t->nkey > 0 && t->dur_have_cursor) {
			key = json_array();
			for (int k = 0; k < t->nkey; k++)
				json_array_append_new(key, json_string(t->dur_cursor[k]));
		}
		json_array_append_new(arr, json_pack("{s:s, s:b, s:o, s:I, s:I, s:o, s:I}",
		    "name", t->t->name, "done", t->dur_done, "key", key,
		    "page", (json_int_t) t->dur_page, "end_page", (json_int_t) t->end_page,
		    "pending", t->dur_pending ? json_integer((json_int_t) t->dur_pending) : json_null(),
		    "rows", (json_int_t) t->dur_rows));
	}
	pthread_mutex_unlock(&b->mu);
	if (json_array_size(arr) == (size_t) b->ntables + (b->finished ? json_array_size(b->finished) : 0))
		text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static int
state_put(struct backfill *b, const char *text, struct cdc_err *err)
{
	char path[4096], why[4400];

	state_path(b->o.cfg, path, sizeof(path));
	if (cdc_write_durably(b->o.cfg->source.state_dir, path, text, strlen(text), why,
	                      sizeof(why)) != 0)
		return cdc_errf(err, CDC_ERR_IO, "%s (check source.state_dir)", why);
	return 0;
}

/* Write the durable progress of every table (replication thread). */
static int
state_write(struct backfill *b, struct cdc_err *err)
{
	char *text = state_render(b);
	int rc;

	if (text == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	if ((rc = state_put(b, text, err)) == 0)
		b->unwritten = false;
	free(text);
	return rc;
}

/* The same, on a thread of its own, so that a chunk's rows go into the pipeline while
 * its pending mark is fsynced (the sinks make nothing of a transaction durable before
 * its commit, which waits for this). */
struct state_async {
	struct backfill *b;
	pthread_t th;
	bool started;
	char *text;
	int rc;
	struct cdc_err err;
};

static void *
state_async_main(void *arg)
{
	struct state_async *a = arg;

	a->rc = state_put(a->b, a->text, &a->err);
	return NULL;
}

static int
state_write_start(struct backfill *b, struct state_async *a, struct cdc_err *err)
{
	memset(a, 0, sizeof(*a));
	a->b = b;
	if ((a->text = state_render(b)) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	if (pthread_create(&a->th, NULL, state_async_main, a) != 0) {
		/* no thread: write it here */
		a->rc = state_put(b, a->text, err);
		free(a->text);
		a->text = NULL;
		if (a->rc == 0)
			b->unwritten = false;
		return a->rc;
	}
	a->started = true;
	return 0;
}

/* Wait for the write state_write_start began (if any); its result. */
static int
state_write_wait(struct state_async *a, struct cdc_err *err)
{
	if (!a->started)
		return 0;
	pthread_join(a->th, NULL);
	a->started = false;
	free(a->text);
	a->text = NULL;
	if (a->rc != 0) {
		*err = a->err;
		return a->rc;
	}
	a->b->unwritten = false;
	return 0;
}

static json_t *
state_read(const struct cfg *cfg)
{
	char path[4096];
	json_error_t je;

	state_path(cfg, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return NULL;
	return json_load_file(path, 0, &je);
}

bool
backfill_pending(const struct cfg *cfg)
{
	json_t *root = state_read(cfg), *t;
	size_t i;
	bool pending = false;

	json_array_foreach(json_object_get(root, "tables"), i, t)
		pending = pending || !json_is_true(json_object_get(t, "done"));
	json_decref(root);
	return pending;
}

/* ---- workers ---- */

static int64_t
now_ms(void)
{
	return mono_ms();
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool
stopping(struct backfill *b)
{
	bool s;

	pthread_mutex_lock(&b->mu);
	s = b->stopping || *b->o.stop;
	pthread_mutex_unlock(&b->mu);
	return s;
}

/* Run sql (simple protocol, maybe several statements) with "%s" standing for the
 * content of watermark kind of chunk id, as a literal: the high watermark rides with the
 * chunk's COMMIT in one round trip.  Returns the last statement's result, NULL with err
 * set. */
static PGresult *
with_watermark(struct bfworker *w, uint64_t id, char kind, const char *what, const char *sql,
               struct cdc_err *err)
{
	char content[300], *lit, *q = NULL;
	PGresult *res;

	snprintf(content, sizeof(content), "%s %" PRIu64 " %c", w->b->o.cfg->source.slot, id, kind);
	if ((lit = PQescapeLiteral(w->conn, content, strlen(content))) == NULL) {
		cdc_errf(err, PQstatus(w->conn) == CONNECTION_OK ? CDC_ERR_NOMEM : CDC_ERR_CONN,
		         "%s failed: %s", what, PQerrorMessage(w->conn));
		return NULL;
	}
	if (asprintf(&q, sql, lit) < 0)
		q = NULL;
	PQfreemem(lit);
	if (q == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	res = pg_query(w->conn, what, q, 0, NULL, err);
	free(q);
	return res;
}

/* The query reading chunk c of table t: keyed, the rows after key (all with !have_key);
 * keyless, c's pages. */
static char *
chunk_query(struct backfill *b, struct bfworker *w, const struct bfchunk *c, struct bftable *t,
            char *const *key, bool have_key)
{
	char *q = NULL, *where = NULL, *order = NULL;
	size_t wl = 0, ol = 0;
	FILE *wf = open_memstream(&where, &wl), *of = open_memstream(&order, &ol);
	int64_t n = b->o.cfg->backfill.chunk_rows;

	if (wf == NULL || of == NULL) {
		if (wf)
			fclose(wf);
		if (of)
			fclose(of);
		free(where);
		free(order);
		return NULL;
	}
	if (t->nkey > 0) {
		for (int k = 0; k < t->nkey; k++) {
			const char *name = t->t->rel->cols[t->key[k]].name;
			char *id = PQescapeIdentifier(w->conn, name, strlen(name));

			fprintf(of, "%s%s", k ? ", " : "", id ? id : "?");
			PQfreemem(id);
		}
		fclose(of);
		if (have_key) {
			fprintf(wf, "(%s) > (", order);
			for (int k = 0; k < t->nkey; k++) {
				char *lit = PQescapeLiteral(w->conn, key[k], strlen(key[k]));

				fprintf(wf, "%s%s::%s", k ? ", " : "", lit ? lit : "NULL", t->keytype[k]);
				PQfreemem(lit);
			}
			fputc(')', wf);
		} else {
			fputs("true", wf);
		}
		fclose(wf);
		if (asprintf(&q, "COPY (SELECT * FROM (%s) AS s WHERE %s ORDER BY %s LIMIT %" PRId64
		             ") TO STDOUT", t->t->select, where, order, n) < 0)
			q = NULL;
	} else {
		fclose(of);
		fclose(wf);
		if (asprintf(&q, "COPY (%s %s ctid >= '(%u,0)'::tid AND ctid < '(%u,0)'::tid) TO STDOUT",
		             t->t->select, t->t->rowfilter ? "AND" : "WHERE", c->page_from,
		             c->page_to) < 0)
			q = NULL;
	}
	free(where);
	free(order);
	return q;
}

/* Read chunk c (see chunk_query).  Returns 0, 1 when the table is gone, or a code. */
static int
read_chunk(struct bfworker *w, struct bfchunk *c, struct bftable *t, char *const *key,
           bool have_key, struct cdc_err *err)
{
	struct backfill *b = w->b;
	PGresult *res;
	char *q;
	int rc = 0;

	/* the low watermark, then the chunk's transaction and its snapshot (a BEGIN after
	 * a statement in the same query string would take that statement into its
	 * transaction, which then cannot be REPEATABLE READ) */
	res = with_watermark(w, c->id, 'L', "writing a backfill watermark",
	                     "SELECT pg_logical_emit_message(false, '" BACKFILL_WM_PREFIX "', %s)", err);
	if (res == NULL)
		return err->code;
	PQclear(res);
	res = pg_query(w->conn, "starting a backfill chunk", "BEGIN ISOLATION LEVEL REPEATABLE READ "
	               "READ ONLY; SELECT pg_current_snapshot()::text", 0, NULL, err);
	if (res == NULL)
		return err->code;
	pthread_mutex_lock(&b->mu);
	free(c->snap);
	c->snap = strdup(PQgetvalue(res, 0, 0));
	pthread_mutex_unlock(&b->mu);
	PQclear(res);
	if ((q = chunk_query(b, w, c, t, key, have_key)) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	res = PQexec(w->conn, q);
	free(q);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		rc = state && strcmp(state, "42P01") == 0 ? 1 :
		     cdc_errf(err, PQstatus(w->conn) == CONNECTION_OK ? CDC_ERR_FATAL : CDC_ERR_CONN,
		              "backfill of %s: reading a chunk failed: %s", t->t->name,
		              m ? m : PQerrorMessage(w->conn));
		PQclear(res);
		PQclear(PQexec(w->conn, "ROLLBACK"));
		return rc;
	}
	PQclear(res);
	for (;;) {
		char *line = NULL;
		int len = PQgetCopyData(w->conn, &line, 0);

		if (len == -1)
			break;
		if (len < 0)
			return cdc_errf(err, CDC_ERR_CONN, "backfill of %s: reading a chunk failed: %s",
			                t->t->name, PQerrorMessage(w->conn));
		/* no lock: the replication thread touches the rows only once the chunk is
		 * posted */
		if (rows_add(&c->rows, line, (size_t) len) != 0)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	}
	res = PQgetResult(w->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		rc = cdc_errf(err, PQstatus(w->conn) == CONNECTION_OK ? CDC_ERR_FATAL : CDC_ERR_CONN,
		              "backfill of %s: reading a chunk failed: %s", t->t->name,
		              m ? m : PQerrorMessage(w->conn));
		PQclear(res);
		return rc;
	}
	PQclear(res);
	return 0;     /* the transaction ends with the high watermark */
}

/* The next table for a worker, or -1. */
static int
take_table(struct backfill *b)
{
	int i = -1;

	pthread_mutex_lock(&b->mu);
	for (int k = 0; k < b->ntables; k++)
		if (!b->bt[k].taken && !b->bt[k].done) {
			b->bt[k].taken = true;
			b->bt[k].started_ms = now_ms();
			b->bt[k].rows_before = b->bt[k].rows;
			i = k;
			break;
		}
	pthread_mutex_unlock(&b->mu);
	return i;
}

/* Where the table's next chunk starts, as recorded by the verdicts so far. */
static void
from_table(struct backfill *b, struct bftable *t, char **key, bool *have_key, uint32_t *page)
{
	pthread_mutex_lock(&b->mu);
	for (int k = 0; k < t->nkey; k++) {
		free(key[k]);
		key[k] = t->have_cursor ? strdup(t->cursor[k]) : NULL;
	}
	*have_key = t->have_cursor;
	*page = t->page;
	pthread_mutex_unlock(&b->mu);
	for (int k = 0; *have_key && k < t->nkey; k++)
		if (key[k] == NULL)
			*have_key = false;     /* out of memory: from the start, read again */
}

/* The key of chunk c's last row (worker: its own parser, ct). */
static int
last_key(struct copytext *ct, struct bftable *t, const struct bfchunk *c, char **key,
         struct cdc_err *err)
{
	const struct cdc_tuple *tup;
	int rc;

	if ((rc = copytext_parse(ct, c->rows.lines[c->rows.n - 1], c->rows.lens[c->rows.n - 1], &tup,
	                         err)) != 0)
		return rc;
	for (int k = 0; k < t->nkey; k++) {
		const struct cdc_value *v = tuple_val(tup, t->key[k]);

		free(key[k]);
		key[k] = NULL;
		if (v == NULL || v->kind != CDC_VAL_TEXT)
			return cdc_errf(err, CDC_ERR_PROTO, "backfill of %s: a row without its key",
			                t->t->name);
		if ((key[k] = strndup(v->data, v->len)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Wait for posted chunk c's verdict (C_POSTED: stopping) and free the slot. */
static enum cstate
verdict_of(struct backfill *b, struct bfchunk *c)
{
	enum cstate v;

	pthread_mutex_lock(&b->mu);
	while (c->st == C_POSTED && !b->stopping && !*b->o.stop)
		pthread_cond_wait(&b->cv, &b->mu);
	v = c->st;
	c->st = C_IDLE;
	chunk_clear(c);
	pthread_mutex_unlock(&b->mu);
	return v;
}

/* Drop chunk c, whose high watermark was not written or which was read ahead of a
 * chunk read again: the replication thread no longer finds it. */
static void
drop_chunk(struct backfill *b, struct bfchunk *c)
{
	pthread_mutex_lock(&b->mu);
	c->st = C_IDLE;
	chunk_clear(c);
	pthread_mutex_unlock(&b->mu);
}

/* Backfill table ti chunk by chunk.  Returns 0 when done (or stopping), a code on an
 * error worth a retry.
 *
 * The worker reads ahead: once a chunk's high watermark is written it reads the next
 * one, from that chunk's last key, while the replication thread gives the verdict on
 * the first.  A chunk read again (its verdict C_REREAD) voids the chunk read ahead
 * (C_VOID, set with the verdict), and the worker starts again where the verdicts
 * left the table.  So a chunk goes out only after every chunk before it went out. */
static int
do_table(struct bfworker *w, int ti, struct cdc_err *err)
{
	struct backfill *b = w->b;
	struct bftable *t = &b->bt[ti];
	struct copytext *ct = NULL;
	struct bfchunk *prev = NULL, *c;
	char *key[MAX_KEY] = { 0 };
	bool have_key, last = false;
	uint32_t page;
	int64_t t0 = now_ms();
	uint64_t read_rows = 0;
	PGresult *res;
	int rc = 0, slot = 0;

	if (t->nkey > 0 && (ct = copytext_new(t->t->rel->ncols)) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	from_table(b, t, key, &have_key, &page);
	for (;;) {
		enum cstate verdict;
		bool done, start;

		if (stopping(b))
			break;
		/* backfill.max_rate, shared evenly by the workers */
		if (b->o.cfg->backfill.max_rate > 0 && !last) {
			double per = (double) b->o.cfg->backfill.max_rate / b->nworkers;
			int64_t due = t0 + (int64_t) (1000.0 * (double) read_rows / per);

			/* in short steps: a stop must not wait for a slow rate */
			while (due > now_ms() && !stopping(b))
				sleep_ms(due - now_ms() < 100 ? due - now_ms() : 100);
		}
		c = &w->c[slot];
		pthread_mutex_lock(&b->mu);
		done = t->done;
		/* not ahead of a chunk already known to be read again */
		start = !done && !last && (prev == NULL || prev->st == C_POSTED || prev->st == C_DONE);
		if (start) {
			chunk_clear(c);
			c->id = ++b->next_id;
			c->table = ti;
			c->st = C_READING;
			c->page_from = page;
			c->page_to = page + t->pages_per_chunk;
		}
		pthread_mutex_unlock(&b->mu);
		if (done && prev == NULL)
			break;
		if (!start)
			c = NULL;
		if (c != NULL) {
			if ((rc = read_chunk(w, c, t, key, have_key, err)) != 0) {
				drop_chunk(b, c);
				if (rc == 1) {
					log_warning("backfill", "table %s was dropped during its backfill; skipped",
					            t->t->name);
					pthread_mutex_lock(&b->mu);
					t->done = true;
					pthread_mutex_unlock(&b->mu);
					rc = 0;
				}
				goto settle;
			}
			/* where the next chunk starts: c's rows are this thread's until its high
			 * watermark is written */
			if (t->nkey > 0) {
				last = (int64_t) c->rows.n < b->o.cfg->backfill.chunk_rows;
				if (!last && (rc = last_key(ct, t, c, key, err)) != 0) {
					PQclear(PQexec(w->conn, "ROLLBACK"));
					drop_chunk(b, c);
					goto settle;
				}
				have_key = have_key || !last;
			} else {
				page = c->page_to;
				last = page >= t->end_page;
			}
			pthread_mutex_lock(&b->mu);
			if (c->st == C_READING)
				c->st = C_POSTED;
			read_rows += c->rows.n;
			pthread_mutex_unlock(&b->mu);
			/* The walsender decodes only flushed WAL, and a non-transactional message
			 * alone flushes nothing: the high watermark would wait for the WAL writer
			 * (up to wal_writer_delay, 200 ms) or the next commit.  Taking a
			 * transaction id makes the statement commit, which flushes
			 * (synchronous_commit = local, set on this connection: never waiting for a
			 * synchronous standby). */
			res = with_watermark(w, c->id, 'H', "ending a backfill chunk", "COMMIT; "
			                     "SELECT pg_logical_emit_message(false, '" BACKFILL_WM_PREFIX
			                     "', %s), txid_current()", err);
			if (res == NULL) {
				rc = err->code;
				drop_chunk(b, c);
				goto settle;
			}
			PQclear(res);
		}
		if (prev != NULL) {
			verdict = verdict_of(b, prev);
			prev = NULL;
			if (verdict == C_POSTED)
				break;     /* stopping */
			if (verdict == C_REREAD) {
				/* the chunk read ahead is void (or was not started) */
				if (c != NULL)
					drop_chunk(b, c);
				c = NULL;
				last = false;
				from_table(b, t, key, &have_key, &page);
			}
		}
		if (c != NULL) {
			prev = c;
			slot ^= 1;
		}
	}
	rc = 0;
settle:
	/* a chunk waiting for its verdict is dropped: if it has one, the table's cursor
	 * says so, otherwise the replication thread no longer finds it and the next read
	 * starts where it did */
	if (prev != NULL)
		drop_chunk(b, prev);
	copytext_free(ct);
	free_strs(key, MAX_KEY);
	return rc;
}

static void *
worker_main(void *arg)
{
	struct bfworker *w = arg;
	struct backfill *b = w->b;
	int ti = -1;

	while (!stopping(b)) {
		struct cdc_err err = { 0 };
		int rc;

		if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK) {
			PQfinish(w->conn);
			w->conn = pg_connect(b->o.cfg->source.conninfo, false, &err);
			if (w->conn == NULL) {
				log_warning("backfill", "worker: %s; retrying", err.msg);
				sleep_ms(RETRY_MS);
				continue;
			}
			PQclear(PQexec(w->conn, "SET synchronous_commit = local"));
		}
		if (ti < 0 && (ti = take_table(b)) < 0)
			break;
		rc = do_table(w, ti, &err);
		if (rc == 0) {
			ti = -1;
			continue;
		}
		if (rc == CDC_ERR_CONN) {
			log_warning("backfill", "%s; reconnecting", err.msg);
			PQfinish(w->conn);
			w->conn = NULL;
		} else {
			/* another error (privileges, a query the server refuses, a column dropped
			 * by DDL since the table was described): the agent stops; the next start
			 * describes the tables again and resumes at the recorded chunk */
			pthread_mutex_lock(&b->mu);
			if (b->fatal[0] == '\0')
				snprintf(b->fatal, sizeof(b->fatal), "%s", err.msg);
			pthread_mutex_unlock(&b->mu);
			break;
		}
		sleep_ms(RETRY_MS);
	}
	PQfinish(w->conn);
	w->conn = NULL;
	return NULL;
}

/* ---- setup ---- */

struct backfill *
backfill_new(const struct bf_opts *o, struct cdc_err *err)
{
	struct backfill *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->rc = relcache_new()) == NULL) {
		free(b);
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	b->o = *o;
	b->staged = json_array();
	b->queue = json_array();
	b->seen = json_array();
	if (b->staged == NULL || b->queue == NULL || b->seen == NULL) {
		json_decref(b->staged);
		json_decref(b->queue);
		json_decref(b->seen);
		relcache_free(b->rc);
		free(b);
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	/* the signal the state file names was acted on: a restart that is sent its
	 * transaction again must not start it twice */
	{
		json_t *root = state_read(o->cfg);

		if (json_is_string(json_object_get(root, "signal")))
			json_array_append(b->seen, json_object_get(root, "signal"));
		json_decref(root);
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	return b;
}

static void
stop_workers(struct backfill *b)
{
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	for (int i = 0; i < b->nworkers; i++)
		if (b->w[i].started)
			pthread_join(b->w[i].th, NULL);
	for (int i = 0; i < b->nworkers; i++) {
		for (int k = 0; k < 2; k++) {
			struct bfchunk *c = &b->w[i].c[k];

			chunk_clear(c);
			rows_free(&c->rows, false);
			c->st = C_IDLE;
		}
		b->w[i].started = false;
	}
	b->nworkers = 0;
	b->stopping = false;
}

/* Forget the tables of a finished backfill (workers stopped). */
static void
reset_tables(struct backfill *b)
{
	for (int i = 0; b->bt != NULL && i < b->ntables; i++) {
		free_strs(b->bt[i].keytype, b->bt[i].nkey);
		free_strs(b->bt[i].cursor, b->bt[i].nkey);
		free_strs(b->bt[i].dur_cursor, b->bt[i].nkey);
		for (size_t k = 0; k < b->bt[i].nrecent; k++)
			free(b->bt[i].recent[k].ident);
		free(b->bt[i].recent);
		bfw_chunk_free(b->bt[i].enc);
	}
	free(b->bt);
	b->bt = NULL;
	snap_tables_free(b->tables, b->ntables);
	b->tables = NULL;
	b->ntables = 0;
	json_decref(b->finished);
	b->finished = NULL;
	free(b->signal);
	b->signal = NULL;
}

void
backfill_free(struct backfill *b)
{
	if (b == NULL)
		return;
	stop_workers(b);
	if (b->unwritten) {
		struct cdc_err err = { 0 };

		if (state_write(b, &err) != 0)
			log_warning("backfill", "%s: the next start reads the last chunk again", err.msg);
	}
	reset_tables(b);
	relcache_free(b->rc);
	json_decref(b->staged);
	json_decref(b->queue);
	json_decref(b->seen);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

/* Key columns, their types and (keyless) the page ranges of the discovered tables. */
static int
describe(struct backfill *b, PGconn *conn, struct cdc_err *err)
{
	b->bt = calloc(b->ntables > 0 ? (size_t) b->ntables : 1, sizeof(*b->bt));
	if (b->bt == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	for (int i = 0; i < b->ntables; i++) {
		struct bftable *t = &b->bt[i];
		const struct cdc_rel *rel;
		char oid[16];
		const char *params[1] = { oid };
		PGresult *res;

		t->t = &b->tables[i];
		rel = t->t->rel;
		snprintf(oid, sizeof(oid), "%u", rel->oid);
		for (int c = 0; c < rel->ncols; c++) {
			if (!rel->cols[c].pk)
				continue;
			if (t->nkey == MAX_KEY)
				return cdc_errf(err, CDC_ERR_FATAL, "backfill of %s: a key of more than %d "
				                "columns", t->t->name, MAX_KEY);
			t->key[t->nkey++] = c;
		}
		if ((t->enc = new_window(t)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		res = pg_query(conn, "describing a table to backfill",
		               "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
		               "  (SELECT greatest(pg_relation_size(c.oid) / current_setting('block_size')::int, 0) "
		               "     FROM pg_class c WHERE c.oid = $1::oid), "
		               "  (SELECT CASE WHEN c.relpages > 0 THEN c.reltuples / c.relpages END "
		               "     FROM pg_class c WHERE c.oid = $1::oid) "
		               "FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 "
		               "AND NOT a.attisdropped", 1, params, err);
		if (res == NULL)
			return err->code;
		for (int k = 0; k < t->nkey; k++)
			for (int r = 0; r < PQntuples(res); r++)
				if (strcmp(PQgetvalue(res, r, 0), rel->cols[t->key[k]].name) == 0 &&
				    (t->keytype[k] = strdup(PQgetvalue(res, r, 1))) == NULL) {
					PQclear(res);
					return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
				}
		for (int k = 0; k < t->nkey; k++)
			if (t->keytype[k] == NULL) {
				PQclear(res);
				return cdc_errf(err, CDC_ERR_FATAL, "backfill of %s: key column %s not found",
				                t->t->name, rel->cols[t->key[k]].name);
			}
		if (PQntuples(res) > 0) {
			/* rows per page from the statistics; 50 before the table was ever analyzed */
			double per_page = PQgetisnull(res, 0, 3) ? 50 : atof(PQgetvalue(res, 0, 3));
			double pages = (double) b->o.cfg->backfill.chunk_rows / (per_page > 1 ? per_page : 1);

			t->end_page = (uint32_t) strtoul(PQgetvalue(res, 0, 2), NULL, 10);
			t->pages_per_chunk = pages < 1 ? 1 : pages > 1e6 ? 1000000 : (uint32_t) pages;
		}
		PQclear(res);
	}
	return 0;
}

/* Discover the tables (only: NULL = all) and start the workers. */
static int
begin(struct backfill *b, char *const *only, int nonly, json_t *resume, struct cdc_err *err)
{
	PGconn *conn = pg_connect(b->o.cfg->source.conninfo, false, err);
	int nworkers = b->o.cfg->source.snapshot_workers, rc;
	PGresult *res;

	if (conn == NULL)
		return err->code;
	res = pg_query(conn, "starting discovery", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	               0, NULL, err);
	if (res == NULL) {
		rc = err->code;
		goto out;
	}
	PQclear(res);
	if ((rc = snap_discover(conn, b->o.cfg, only, nonly, b->rc, b->o.types, &b->tables,
	                        &b->ntables, err)) != 0 ||
	    (rc = describe(b, conn, err)) != 0)
		goto out;
	PQclear(PQexec(conn, "COMMIT"));
	/* progress recorded by an earlier run */
	if (resume != NULL) {
		json_t *jt;
		size_t i;

		json_array_foreach(json_object_get(resume, "tables"), i, jt) {
			const char *name = json_string_value(json_object_get(jt, "name"));
			json_t *key = json_object_get(jt, "key");

			for (int k = 0; name != NULL && k < b->ntables; k++) {
				struct bftable *t = &b->bt[k];

				if (strcmp(t->t->name, name) != 0)
					continue;
				t->done = t->dur_done = json_is_true(json_object_get(jt, "done"));
				t->page = t->dur_page = (uint32_t) json_integer_value(json_object_get(jt, "page"));
				t->rows = t->dur_rows = (uint64_t) json_integer_value(json_object_get(jt, "rows"));
				/* a keyless table ends where it ended when its backfill began: later
				 * pages hold rows the stream delivers */
				t->dur_pending = (cdc_lsn) json_integer_value(json_object_get(jt, "pending"));
				if (json_is_integer(json_object_get(jt, "end_page")))
					t->end_page = (uint32_t) json_integer_value(json_object_get(jt, "end_page"));
				if (json_is_array(key) && (int) json_array_size(key) == t->nkey) {
					for (int c = 0; c < t->nkey; c++) {
						const char *v = json_string_value(json_array_get(key, (size_t) c));

						t->cursor[c] = strdup(v ? v : "");
						t->dur_cursor[c] = strdup(v ? v : "");
						if (t->cursor[c] == NULL || t->dur_cursor[c] == NULL) {
							rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
							goto out;
						}
					}
					t->have_cursor = t->dur_have_cursor = true;
				}
			}
		}
	}
	if ((rc = state_write(b, err)) != 0)
		goto out;
	{
		double total = 0;
		int left = 0;

		for (int i = 0; i < b->ntables; i++)
			if (!b->bt[i].done) {
				total += b->tables[i].reltuples;
				left++;
			}
		if (nworkers > left)
			nworkers = left;
		if (nworkers < 1 && left > 0)
			nworkers = 1;
		log_info("backfill", "%s %d tables (~%.0f rows) online, in chunks of %" PRId64 " rows, "
		         "with %d workers%s", resume ? "resuming" : "reading", left, total,
		         b->o.cfg->backfill.chunk_rows, nworkers,
		         b->o.cfg->backfill.max_rate > 0 ? " (throttled)" : "");
	}
	b->started_ms = b->last_progress_ms = now_ms();
	for (int i = 0; i < nworkers; i++) {
		b->w[i].b = b;
		b->w[i].c[0].st = b->w[i].c[1].st = C_IDLE;
		if (pthread_create(&b->w[i].th, NULL, worker_main, &b->w[i]) != 0) {
			rc = cdc_errf(err, CDC_ERR_FATAL, "backfill: cannot start a worker thread");
			goto out;
		}
		b->w[i].started = true;
		b->nworkers = i + 1;
	}
	b->active = b->nworkers > 0;
out:
	PQfinish(conn);
	return rc;
}

int
backfill_start(struct backfill *b, struct cdc_err *err)
{
	if (b->active)
		return 0;
	reset_tables(b);
	b->gap = false;
	return begin(b, NULL, 0, NULL, err);
}

int
backfill_gap(struct backfill *b, struct cdc_err *err)
{
	stop_workers(b);
	b->active = false;
	reset_tables(b);
	b->gap = true;
	return begin(b, NULL, 0, NULL, err);
}

void
backfill_set_standby(struct backfill *b, bool standby)
{
	if (b != NULL)
		b->standby = standby;
}

int
backfill_resume(struct backfill *b, struct cdc_err *err)
{
	json_t *root, *jt;
	char **names = NULL;
	int n = 0, rc;
	size_t i;

	if (b->active || !backfill_pending(b->o.cfg))
		return 0;
	if (b->standby) {
		log_warning("backfill", "a backfill recorded in the state file is not finished; it "
		            "resumes when pgcdc streams from a primary (a standby cannot write its "
		            "watermarks)");
		return 0;
	}
	if ((root = state_read(b->o.cfg)) == NULL)
		return 0;
	reset_tables(b);
	b->gap = json_is_true(json_object_get(root, "gap"));
	if (b->gap)
		stats_set_gap(b->o.stats, "the backfill closing an earlier gap (source.on_gap = backfill) "
		              "resumes after a restart");
	names = calloc(json_array_size(json_object_get(root, "tables")) + 1, sizeof(*names));
	if (names == NULL) {
		json_decref(root);
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	}
	json_array_foreach(json_object_get(root, "tables"), i, jt)
		if (!json_is_true(json_object_get(jt, "done")) &&
		    json_string_value(json_object_get(jt, "name")) != NULL)
			names[n++] = (char *) json_string_value(json_object_get(jt, "name"));
	free(b->signal);
	b->signal = json_string_value(json_object_get(root, "signal")) ?
	            strdup(json_string_value(json_object_get(root, "signal"))) : NULL;
	if (b->signal != NULL && b->seen != NULL)
		json_array_append_new(b->seen, json_string(b->signal));
	b->finished = json_array();
	json_array_foreach(json_object_get(root, "tables"), i, jt)
		if (json_is_true(json_object_get(jt, "done")))
			json_array_append(b->finished, jt);
	rc = begin(b, names, n, root, err);
	free(names);
	json_decref(root);
	return rc;
}

bool
backfill_active(const struct backfill *b)
{
	return b != NULL && b->active;
}

/* ---- the replication thread's side ---- */

static bool
in_flight(const struct bfchunk *c)
{
	return c->st == C_READING || c->st == C_POSTED;
}

static struct bfchunk *
find_chunk(struct backfill *b, uint64_t id, struct bfworker **w)
{
	for (int i = 0; i < b->nworkers; i++)
		for (int k = 0; k < 2; k++)
			if (b->w[i].c[k].id == id && in_flight(&b->w[i].c[k])) {
				*w = &b->w[i];
				return &b->w[i].c[k];
			}
	return NULL;
}

/* Chunk c of worker w is read again: so is the chunk w read ahead of it (b->mu held). */
static void
reread(struct backfill *b, struct bfworker *w, struct bfchunk *c)
{
	struct bfchunk *ahead = &w->c[c == &w->c[0] ? 1 : 0];

	c->st = C_REREAD;
	if (in_flight(ahead) && ahead->id > c->id) {
		ahead->st = C_VOID;
		bfw_chunk_free(ahead->win);
		ahead->win = NULL;
	}
	pthread_cond_broadcast(&b->cv);
}

static struct bfw_chunk *
new_window(struct bftable *t)
{
	const struct cdc_rel *rel = t->t->rel;
	char *names[rel->ncols > 0 ? rel->ncols : 1];

	for (int c = 0; c < rel->ncols; c++)
		names[c] = rel->cols[c].name;
	return bfw_chunk_new(names, rel->ncols, t->key, t->nkey);
}

/* A chunk is durable in every sink: its progress becomes the table's recorded one.
 * The file is written with the next chunk's pending mark (which must be durable before
 * that chunk goes out anyway), by the next backfill_poll, or now when the table is
 * done: a crash before then re-reads this chunk once, and Parquet, which the pending
 * mark in the file tells that it holds the chunk, skips it. */
static int
record(struct backfill *b, struct pend *p, struct cdc_err *err)
{
	struct bftable *t = &b->bt[p->table];

	pthread_mutex_lock(&b->mu);
	if (p->have_cursor) {
		free_strs(t->dur_cursor, t->nkey);
		memcpy(t->dur_cursor, p->cursor, sizeof(t->dur_cursor));
		memset(p->cursor, 0, sizeof(p->cursor));
		t->dur_have_cursor = true;
	}
	t->dur_page = p->page;
	t->dur_done = p->done;
	t->dur_rows = p->rows;
	t->dur_pending = 0;
	b->unwritten = true;
	pthread_mutex_unlock(&b->mu);
	return p->done ? state_write(b, err) : 0;
}

/* Emit a chunk's rows at its high watermark; its commit waits for the pending mark
 * being written (aw). */
static int
emit_chunk(struct backfill *b, struct bftable *t, const struct bfrows *rows, cdc_lsn at,
           cdc_lsn dedupe, struct bfw_chunk *win, struct state_async *aw, uint64_t *emitted,
           struct cdc_err *err)
{
	struct timespec now;
	struct cdc_txn txn = { 0 };
	int rc = 0;
	bool open = false;

	clock_gettime(CLOCK_REALTIME, &now);
	/* at is the end of the watermark's record, where the next record, maybe a commit,
	 * starts: the chunk takes the position just before it, so the pipeline never
	 * mistakes that transaction for one handed to the sinks already */
	txn.commit_lsn = at - 1;
	txn.end_lsn = at;
	txn.dedupe_lsn = dedupe;
	txn.commit_ts_us = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
	*emitted = 0;
	for (size_t i = 0; i < rows->n; i++) {
		struct cdc_change ch = { 0 };
		const struct cdc_tuple *tup;
		size_t len = rows->lens[i];

		if ((rc = copytext_parse(t->t->ct, rows->lines[i], len, &tup, err)) != 0)
			goto out;
		if (!bfw_chunk_keeps(win, tup))
			continue;
		if (!open) {
			if ((rc = pipe_begin(b->o.pipe, &txn, err)) < 0)
				goto out;
			open = true;
		}
		ch.op = CDC_OP_READ;
		ch.lsn = at;
		ch.txn = &txn;
		ch.rel = t->t->rel;
		ch.new_tuple = tup;
		ch.snapshot = CDC_SNAP_INCREMENTAL;
		if ((rc = pipe_change(b->o.pipe, &ch, len, err)) != 0)
			goto out;
		(*emitted)++;
	}
	stats_add_changes(b->o.stats, t->t->rel->schema, t->t->rel->name, CDC_OP_READ, *emitted);
	if ((rc = state_write_wait(aw, err)) == 0 && open)
		rc = pipe_commit(b->o.pipe, &txn, err);
out:
	if (rc != 0 && open)
		pipe_abort(b->o.pipe);
	if (aw->started) {
		struct cdc_err e2 = { 0 };

		state_write_wait(aw, &e2);
	}
	return rc;
}

static void
table_progress(const struct bftable *t, int64_t now, struct stats_snap *p)
{
	*p = (struct stats_snap) {
		.state = t->done ? "done" : t->taken ? "backfilling" : "pending",
		.rows = t->rows, .estimate = (uint64_t) t->t->reltuples, .chunks = t->chunks,
	};
	stats_snap_rate(p, t->rows - t->rows_before, t->taken ? now - t->started_ms : 0);
}

static void
progress(struct backfill *b, bool force)
{
	int64_t now = now_ms();
	struct stats_snap p;

	for (int i = 0; i < b->ntables; i++) {
		table_progress(&b->bt[i], now, &p);
		stats_set_snapshot(b->o.stats, b->bt[i].t->name, &p);
	}
	if (!force && now - b->last_progress_ms < PROGRESS_MS)
		return;
	b->last_progress_ms = now;
	for (int i = 0; i < b->ntables; i++) {
		struct bftable *t = &b->bt[i];

		if (!t->taken || t->done)
			continue;
		table_progress(t, now, &p);
		if (p.eta_s >= 0)
			log_info("backfill", "%s: %" PRIu64 " of ~%.0f rows (%.0f%%) in %" PRIu64 " chunks, "
			         "%.0f rows/s, ETA %.0f s", t->t->name, t->rows, t->t->reltuples,
			         100.0 * (double) t->rows / t->t->reltuples, t->chunks, p.rows_per_s, p.eta_s);
		else
			log_info("backfill", "%s: %" PRIu64 " rows in %" PRIu64 " chunks, %.0f rows/s",
			         t->t->name, t->rows, t->chunks, p.rows_per_s);
	}
}

/* The high watermark of worker w's chunk at lsn (b->mu held on entry, released). */
static int
high_watermark(struct backfill *b, struct bfworker *w, struct bfchunk *c, cdc_lsn at,
               struct cdc_err *err)
{
	struct bftable *t = &b->bt[c->table];
	struct bfw_chunk *win = c->win;
	struct pend p = { .table = c->table };
	struct state_async aw = { 0 };
	uint64_t emitted = 0;
	cdc_lsn dedupe;
	size_t nlines = c->rows.n;
	struct bfrows rows;
	int rc = 0;

	c->win = NULL;
	if (win == NULL || c->win_reread || c->snap == NULL) {
		/* its low watermark was not seen, or the window cannot tell */
		bfw_chunk_free(win);
		reread(b, w, c);
		pthread_mutex_unlock(&b->mu);
		log_debug("backfill", "%s: chunk %" PRIu64 " read again", t->t->name, c->id);
		return 0;
	}
	/* each row is kept or dropped as it is emitted (bfw_chunk_keeps) */
	rc = bfw_chunk_set_snapshot(win, c->snap, err);
	if (rc == 0) {
		int f = bfw_chunk_finish(win);

		recent_prune(b, win);
		if (f < 0)
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		else if (f > 0)
			rc = 1;
	}
	if (rc == 1) {
		rc = 0;
		bfw_chunk_free(win);
		reread(b, w, c);
		pthread_mutex_unlock(&b->mu);
		log_debug("backfill", "%s: chunk %" PRIu64 " read again (rows updated by a transaction "
		          "it did not see)", t->t->name, c->id);
		return 0;
	}
	/* where the next chunk starts */
	if (rc == 0 && t->nkey > 0 && nlines > 0) {
		const struct cdc_tuple *tup;

		if ((rc = copytext_parse(t->t->ct, c->rows.lines[nlines - 1],
		                         c->rows.lens[nlines - 1], &tup, err)) == 0) {
			for (int k = 0; k < t->nkey && rc == 0; k++) {
				const struct cdc_value *v = tuple_val(tup, t->key[k]);

				if (v == NULL || v->kind != CDC_VAL_TEXT)
					rc = cdc_errf(err, CDC_ERR_PROTO, "backfill of %s: a row without its key",
					              t->t->name);
				else if ((p.cursor[k] = strndup(v->data, v->len)) == NULL)
					rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			}
			p.have_cursor = rc == 0;
		}
	}
	if (rc != 0) {
		/* nothing went out: the error ends the session, the chunk is read again */
		free_strs(p.cursor, MAX_KEY);
		bfw_chunk_free(win);
		reread(b, w, c);
		pthread_mutex_unlock(&b->mu);
		return rc;
	}
	/* The verdict: the table's cursor (or page) moves on, and the worker reads its next
	 * chunk while this one goes out to the sinks and is made durable.  That chunk's high
	 * watermark is handled only after this one is recorded, so a crash still re-reads
	 * at most one chunk per worker.  The rows are this thread's from here. */
	rows = c->rows;
	memset(&c->rows, 0, sizeof(c->rows));
	if (t->nkey > 0) {
		if (p.have_cursor) {
			for (int k = 0; k < t->nkey; k++) {
				free(t->cursor[k]);
				t->cursor[k] = strdup(p.cursor[k]);
			}
			t->have_cursor = true;
		}
		p.done = (int64_t) nlines < b->o.cfg->backfill.chunk_rows;
	} else {
		t->page = c->page_to;
		p.page = t->page;
		p.done = t->page >= t->end_page;
	}
	t->done = p.done;
	/* marked pending (durably) before the rows go out: a sink may make them durable
	 * at once */
	dedupe = t->dur_pending;
	if (dedupe == 0)
		t->dur_pending = at - 1;
	c->st = C_DONE;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	b->emitting = true;
	if (dedupe == 0)
		rc = state_write_start(b, &aw, err);
	if (rc == 0)
		rc = emit_chunk(b, t, &rows, at, dedupe, win, &aw, &emitted, err);
	rows_free(&rows, false);
	bfw_chunk_free(win);
	/* the chunk counts once every sink made it durable */
	while (rc == 0 && (rc = pipe_flush(b->o.pipe, 1000, err)) == CDC_ERR_AGAIN && !*b->o.stop)
		cdc_err_clear(err);
	if (rc == 0) {
		pthread_mutex_lock(&b->mu);
		t->rows += emitted;
		t->chunks++;
		p.rows = t->rows;
		pthread_mutex_unlock(&b->mu);
		rc = record(b, &p, err);
	}
	b->emitting = false;
	free_strs(p.cursor, MAX_KEY);
	if (rc != 0) {
		/* the cursor is past the chunk, which may be in a sink already: going on in this
		 * process (a reconnect) could lose it or leave a pending mark that no longer
		 * says what a sink holds.  The agent stops; the next start resumes at the
		 * recorded chunk (the pending mark in the file tells Parquet what it holds). */
		pthread_mutex_lock(&b->mu);
		if (b->fatal[0] == '\0' && !*b->o.stop)
			snprintf(b->fatal, sizeof(b->fatal), "a chunk of %s could not be delivered and "
			         "recorded (%.200s); a restart resumes at the recorded chunk", t->t->name,
			         err->msg);
		pthread_mutex_unlock(&b->mu);
		return rc;
	}
	if (p.done)
		log_info("backfill", "%s done: %" PRIu64 " rows in %" PRIu64 " chunks, %.1f s", t->t->name,
		         t->rows, t->chunks, (double) (now_ms() - t->started_ms) / 1000.0);
	progress(b, false);
	return 0;
}

int
backfill_message(struct backfill *b, cdc_lsn lsn, const char *prefix, const uint8_t *content,
                 size_t len, struct cdc_err *err)
{
	char buf[300], slot[256], kind;
	unsigned long long id;
	struct bfworker *w = NULL;
	struct bfchunk *c;

	if (b == NULL || !b->active || strcmp(prefix, BACKFILL_WM_PREFIX) != 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, content, len);
	buf[len] = '\0';
	if (sscanf(buf, "%255s %llu %c", slot, &id, &kind) != 3 ||
	    strcmp(slot, b->o.cfg->source.slot) != 0)
		return 0;      /* another agent's watermark */
	pthread_mutex_lock(&b->mu);
	if ((c = find_chunk(b, id, &w)) == NULL) {
		pthread_mutex_unlock(&b->mu);
		return 0;      /* an old chunk's, sent again after a reconnect */
	}
	if (kind == 'L') {
		struct bftable *t = &b->bt[c->table];

		bfw_chunk_free(c->win);
		c->win = new_window(t);
		c->win_reread = c->win == NULL;
		for (size_t i = 0; c->win != NULL && i < t->nrecent; i++)
			if (bfw_chunk_before(c->win, t->recent[i].xid, t->recent[i].kind, t->recent[i].ident,
			                     t->recent[i].len) != 0)
				c->win_reread = true;
		pthread_mutex_unlock(&b->mu);
		return 0;
	}
	if (kind != 'H' || c->st != C_POSTED) {
		pthread_mutex_unlock(&b->mu);
		return 0;
	}
	return high_watermark(b, w, c, lsn, err);
}

static int
recent_add(struct bftable *t, const struct recent *e)
{
	if (t->nrecent == t->rcap) {
		size_t cap = t->rcap ? t->rcap * 2 : 64;
		struct recent *nr = realloc(t->recent, cap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		t->recent = nr;
		t->rcap = cap;
	}
	t->recent[t->nrecent++] = *e;
	return 0;
}

/* Forget what a chunk snapshot sees: every later snapshot sees it too, and open
 * windows copied what they need at their low watermark. */
static void
recent_prune(struct backfill *b, const struct bfw_chunk *seen_by)
{
	for (int i = 0; i < b->ntables; i++) {
		struct bftable *t = &b->bt[i];
		size_t k = 0;

		for (size_t j = 0; j < t->nrecent; j++) {
			if (bfw_chunk_sees(seen_by, t->recent[j].xid))
				free(t->recent[j].ident);
			else
				t->recent[k++] = t->recent[j];
		}
		t->nrecent = k;
	}
}

int
backfill_change(struct backfill *b, const struct cdc_change *ch, struct cdc_err *err)
{
	int rc = 0;

	if (b == NULL || !b->active)
		return 0;
	pthread_mutex_lock(&b->mu);
	if (b->fatal[0] != '\0') {
		rc = cdc_errf(err, CDC_ERR_FATAL, "backfill: %s", b->fatal);
		pthread_mutex_unlock(&b->mu);
		return rc;
	}
	for (int i = 0; i < b->ntables && rc == 0; i++) {
		struct bftable *t = &b->bt[i];
		struct recent e = { .xid = ch->txn != NULL ? ch->txn->xid : 0 };
		int r;

		if (t->dur_done || t->t->oid != ch->rel->oid)
			continue;
		r = bfw_chunk_ident(t->enc, ch, &e.kind, &e.ident, &e.len);
		if (r > 0)
			e.kind = BFW_REREAD;       /* cannot be matched: chunks that did not see it read again */
		if (r < 0 || (e.kind != BFW_NONE && recent_add(t, &e) != 0)) {
			free(e.ident);
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		}
	}
	for (int i = 0; i < b->nworkers * 2 && rc == 0; i++) {
		struct bfchunk *c = &b->w[i / 2].c[i % 2];
		int r;

		if (c->win == NULL || c->win_reread || !in_flight(c) ||
		    b->bt[c->table].t->oid != ch->rel->oid)
			continue;
		if ((r = bfw_chunk_change(c->win, ch, err)) < 0) {
			rc = r;
			break;
		}
		if (r > 0)
			c->win_reread = true;
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

void
backfill_disconnected(struct backfill *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < b->nworkers; i++)
		for (int k = 0; k < 2; k++) {
			bfw_chunk_free(b->w[i].c[k].win);
			b->w[i].c[k].win = NULL;
		}
	pthread_mutex_unlock(&b->mu);
}

bool
backfill_settled(struct backfill *b)
{
	bool all_done = b != NULL && b->active && !b->emitting;

	if (!all_done)
		return false;
	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < b->ntables; i++)
		all_done = all_done && b->bt[i].dur_done;
	pthread_mutex_unlock(&b->mu);
	return all_done;
}

int
backfill_poll(struct backfill *b, struct cdc_err *err)
{
	bool all_done = true, fatal;
	int rc;

	if (b == NULL || !b->active)
		return 0;
	pthread_mutex_lock(&b->mu);
	fatal = b->fatal[0] != '\0';
	if (fatal)
		rc = cdc_errf(err, CDC_ERR_FATAL, "backfill: %s", b->fatal);
	pthread_mutex_unlock(&b->mu);
	if (fatal)
		return rc;
	if (b->emitting)
		return 0;      /* a status update from inside the chunk's flush */
	if (b->unwritten && (rc = state_write(b, err)) != 0)
		return rc;
	pthread_mutex_lock(&b->mu);
	for (int i = 0; i < b->ntables; i++)
		all_done = all_done && b->bt[i].dur_done;
	pthread_mutex_unlock(&b->mu);
	if (all_done) {
		progress(b, true);
		log_info("backfill", "done: %d tables in %.2f s", b->ntables,
		         (double) (now_ms() - b->started_ms) / 1000.0);
		stop_workers(b);
		b->active = false;
		if (b->gap) {
			log_info("backfill", "the gap is closed: every table was read again");
			stats_set_gap(b->o.stats, NULL);
			b->gap = false;
		}
		start_next(b);
	}
	return 0;
}

/* ---- `pgcdc backfill`: signals ---- */

int
backfill_signal(struct backfill *b, const char *prefix, const uint8_t *content, size_t len)
{
	json_t *j;
	json_error_t je;

	if (b == NULL || strcmp(prefix, BACKFILL_SIGNAL_PREFIX) != 0)
		return 0;
	j = json_loadb((const char *) content, len, 0, &je);
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "id")) ||
	    (json_object_get(j, "tables") != NULL && !json_is_array(json_object_get(j, "tables")))) {
		log_warning("backfill", "ignoring a malformed %s message", BACKFILL_SIGNAL_PREFIX);
		json_decref(j);
		return 0;
	}
	if (!json_is_string(json_object_get(j, "slot")) ||
	    strcmp(json_string_value(json_object_get(j, "slot")), b->o.cfg->source.slot) != 0) {
		json_decref(j);
		return 0;      /* for another agent */
	}
	json_array_append_new(b->staged, j);
	return 0;
}

static bool
seen_id(struct backfill *b, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(b->seen, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return true;
	return false;
}

/* Start the oldest queued signal when no backfill runs. */
static void
start_next(struct backfill *b)
{
	while (!b->active && json_array_size(b->queue) > 0) {
		json_t *j = json_incref(json_array_get(b->queue, 0)), *t;
		const char *id = json_string_value(json_object_get(j, "id"));
		char **names = calloc(json_array_size(json_object_get(j, "tables")) + 1, sizeof(*names));
		struct cdc_err err = { 0 };
		size_t i;
		int n = 0;

		json_array_remove(b->queue, 0);
		if (names == NULL) {
			log_error("backfill", "out of memory starting backfill %s", id);
			json_decref(j);
			continue;
		}
		json_array_foreach(json_object_get(j, "tables"), i, t)
			if (json_is_string(t))
				names[n++] = (char *) json_string_value(t);
		reset_tables(b);
		b->signal = strdup(id);
		log_info("backfill", "backfill %s asked for by pgcdc backfill: %s", id,
		         n > 0 ? "the tables named" : "every published table");
		if (begin(b, n > 0 ? names : NULL, n, NULL, &err) != 0) {
			/* a table that does not exist, a missing privilege: this backfill cannot
			 * run, streaming goes on */
			log_error("backfill", "backfill %s: %s", id, err.msg);
			stop_workers(b);
			b->active = false;
			reset_tables(b);
		}
		free(names);
		json_decref(j);
	}
}

void
backfill_commit(struct backfill *b)
{
	json_t *j;
	size_t i;

	if (b == NULL || json_array_size(b->staged) == 0)
		return;
	json_array_foreach(b->staged, i, j) {
		const char *id = json_string_value(json_object_get(j, "id"));

		if (seen_id(b, id))
			continue;      /* sent again after a reconnect */
		json_array_append_new(b->seen, json_string(id));
		if (b->standby) {
			log_warning("backfill", "backfill %s not run: this agent streams from a standby, "
			            "which cannot write the online backfill's watermarks (run it with an "
			            "agent on the primary)", id);
			continue;
		}
		if (b->active)
			log_info("backfill", "backfill %s queued: another backfill is running", id);
		json_array_append(b->queue, j);
	}
	json_array_clear(b->staged);
	start_next(b);
}

/* The recorded progress of backfill id: 1 done, 0 running, -1 not started yet. */
static int
show_progress(const struct cfg *cfg, const char *id, bool print)
{
	json_t *root = state_read(cfg), *t;
	const char *sig = json_string_value(json_object_get(root, "signal"));
	bool done = true;
	size_t i;

	if (sig == NULL || strcmp(sig, id) != 0) {
		json_decref(root);
		return -1;
	}
	json_array_foreach(json_object_get(root, "tables"), i, t) {
		bool d = json_is_true(json_object_get(t, "done"));

		done = done && d;
		if (print)
			printf("  %-40s %s, %" JSON_INTEGER_FORMAT " rows\n",
			       json_string_value(json_object_get(t, "name")), d ? "done" : "backfilling",
			       json_integer_value(json_object_get(t, "rows")));
	}
	json_decref(root);
	return done ? 1 : 0;
}

int
backfill_command(const struct cfg *cfg, char *const *tables, int ntables, bool wait,
                 volatile sig_atomic_t *stop)
{
	struct cdc_err err = { 0 };
	PGconn *conn = pg_connect(cfg->source.conninfo, false, &err);
	json_t *msg = json_object(), *arr = json_array();
	char id[64], *content = NULL;
	const char *params[2];
	PGresult *res = NULL;
	struct timespec now;
	int status = 1;

	if (conn == NULL) {
		fprintf(stderr, "pgcdc: %s\n", err.msg);
		goto out;
	}
	if (PQserverVersion(conn) < 140000) {
		fprintf(stderr, "pgcdc: backfill needs PostgreSQL 14 or later (logical decoding "
		        "messages in pgoutput); this server is %s: use pgcdc snapshot\n",
		        pg_version_str(conn));
		goto out;
	}
	/* the tables must exist: the agent would only log it */
	for (int i = 0; i < ntables; i++) {
		const char *p[1] = { tables[i] };

		PQclear(res);
		res = pg_query(conn, "looking up a table", "SELECT to_regclass(quote_ident(split_part($1, "
		               "'.', 1)) || '.' || quote_ident(substr($1, strpos($1, '.') + 1))) IS NOT NULL",
		               1, p, &err);
		if (res == NULL) {
			fprintf(stderr, "pgcdc: %s\n", err.msg);
			goto out;
		}
		if (PQgetvalue(res, 0, 0)[0] != 't') {
			fprintf(stderr, "pgcdc: table %s does not exist (write it as schema.table)\n",
			        tables[i]);
			status = 2;
			goto out;
		}
		json_array_append_new(arr, json_string(tables[i]));
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(id, sizeof(id), "%lld-%d", (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000,
	         (int) getpid());
	json_object_set_new(msg, "slot", json_string(cfg->source.slot));
	json_object_set_new(msg, "id", json_string(id));
	json_object_set(msg, "tables", arr);
	if ((content = json_dumps(msg, JSON_COMPACT)) == NULL)
		goto out;
	params[0] = BACKFILL_SIGNAL_PREFIX;
	params[1] = content;
	PQclear(res);
	res = pg_query(conn, "sending the backfill signal",
	               "SELECT pg_logical_emit_message(true, $1, $2)::text", 2, params, &err);
	if (res == NULL) {
		fprintf(stderr, "pgcdc: %s\n", err.msg);
		goto out;
	}
	printf("backfill %s of %s asked for at %s: the agent of slot \"%s\" starts it when its "
	       "stream reaches that position\n", id, ntables > 0 ? "the tables named" :
	       "every published table", PQgetvalue(res, 0, 0), cfg->source.slot);
	fflush(stdout);
	status = 0;
	if (wait) {
		int64_t t0 = mono_ms(), last = 0;
		int st;

		while ((st = show_progress(cfg, id, false)) != 1) {
			if (*stop) {
				printf("stopped waiting; the backfill goes on\n");
				goto out;
			}
			if (mono_ms() - last >= 2000) {
				last = mono_ms();
				if (st < 0) {
					if (mono_ms() - t0 > 10000)
						printf("waiting for the agent to start backfill %s (is pgcdc running with "
						       "state_dir %s?)\n", id, cfg->source.state_dir);
				} else {
					printf("backfill %s:\n", id);
					show_progress(cfg, id, true);
				}
				fflush(stdout);
			}
			sleep_ms(200);
		}
		printf("backfill %s done:\n", id);
		show_progress(cfg, id, true);
	}
out:
	free(content);
	json_decref(msg);
	json_decref(arr);
	PQclear(res);
	PQfinish(conn);
	return status;
}
