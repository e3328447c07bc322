/*
 * snapshot.c — consistent table copies (SPEC §7).
 *
 * DESIGN: the exporting session (the replication connection that created the slot,
 * or an ordinary transaction for `pgcdc snapshot`) keeps the snapshot alive; each
 * table is copied in its own transaction that imports it (BEGIN ISOLATION LEVEL
 * REPEATABLE READ; SET TRANSACTION SNAPSHOT; COPY (SELECT ...) TO STDOUT), so an
 * error on one table (dropped meanwhile) leaves the others alone.  Up to
 * snapshot_workers connections copy at once; this thread takes rows from them a
 * chunk at a time, round robin, while the servers keep producing into their
 * sockets.  Each chunk is one pseudo-transaction (decoder/change.h).  Rows are
 * emitted one behind (the newest is held as a copy), so the very last row of the
 * whole snapshot can be marked "last" once every copy is known to be finished: it
 * goes out in a final pseudo-transaction of its own.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "snapshot.h"
#include "../common/log.h"
#include "pg.h"
#include "../decoder/copytext.h"
#include "../decoder/relcache.h"
#include "../sinks/sink.h"
#include "../common/clock.h"

#define CHUNK_ROWS 100000
#define PROGRESS_MS 5000
#define MAX_WORKERS 64


struct worker {
	PGconn *conn;
	int table;            /* index into tables, -1 when idle */
};

struct snap {
	const struct snap_opts *o;
	struct relcache *rc;
	struct snap_table *tables;
	int ntables;
	int next;             /* next table to start */
	struct worker w[MAX_WORKERS];
	int nworkers;
	struct cdc_txn txn;
	char *held;           /* the newest row, not yet emitted */
	size_t held_len, held_cap;
	int held_table;       /* -1: none held */
	int64_t started_ms, last_progress_ms;
	uint64_t total_rows;
};

static int
begin_snapshot_txn(PGconn *conn, const char *snapname, struct cdc_err *err)
{
	char sql[256];
	PGresult *res;

	res = pg_query(conn, "starting a snapshot transaction",
	               "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
	if (res == NULL)
		return err->code;
	PQclear(res);
	snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", snapname);
	res = pg_query(conn, "importing the snapshot", sql, 0, NULL, err);
	if (res == NULL)
		return err->code;
	PQclear(res);
	return 0;
}

/* Build the relation of one table as pgoutput would describe it: non-dropped columns
 * within the publication's column list (attnames, PostgreSQL 15+), which on 18 names
 * the stored generated columns the publication publishes (publish_generated_columns,
 * or a column list naming them); without a list, the non-generated columns. */
static int
load_relation(struct relcache *rcache, struct cdc_types *types, PGconn *conn, struct snap_table *t,
              const char *attnames_json, struct cdc_err *err)
{
	char oid[16];
	const char *params[2] = { oid, attnames_json };
	struct pgo_relcol *cols = NULL;
	struct pgo_msg m;
	PGresult *res, *rel;
	char replident;
	int n, rc = 0;

	snprintf(oid, sizeof(oid), "%u", t->oid);
	rel = pg_query(conn, "reading the table", "SELECT c.relreplident, n.nspname, c.relname "
	               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	               "WHERE c.oid = $1::oid", 1, params, err);
	if (rel == NULL)
		return err->code;
	if (PQntuples(rel) != 1) {
		PQclear(rel);
		return cdc_errf(err, CDC_ERR_FATAL, "snapshot: table %s vanished", t->name);
	}
	replident = PQgetvalue(rel, 0, 0)[0];
	res = pg_query(conn, "reading the table's columns",
	    "SELECT a.attname, a.atttypid, a.atttypmod, "
	    "  c.relreplident = 'f' OR a.attnum = ANY(coalesce((SELECT i.indkey::int2[] FROM pg_index i "
	    "    WHERE i.indrelid = c.oid AND CASE c.relreplident WHEN 'd' THEN i.indisprimary "
	    "    WHEN 'i' THEN i.indisreplident ELSE false END LIMIT 1), '{}')) "
	    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
	    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
	    "  AND CASE WHEN $2::jsonb IS NULL THEN a.attgenerated = '' "
	    "           ELSE $2::jsonb ? a.attname::text END "
	    "ORDER BY a.attnum", 2, params, err);
	if (res == NULL) {
		PQclear(rel);
		return err->code;
	}
	n = PQntuples(res);
	cols = calloc(n > 0 ? (size_t) n : 1, sizeof(*cols));
	if (cols == NULL) {
		rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		cols[i].name = PQgetvalue(res, i, 0);
		cols[i].type_oid = (uint32_t) strtoul(PQgetvalue(res, i, 1), NULL, 10);
		cols[i].typmod = atoi(PQgetvalue(res, i, 2));
		cols[i].flags = PQgetvalue(res, i, 3)[0] == 't' ? 1 : 0;
	}
	memset(&m, 0, sizeof(m));
	m.type = PGO_MSG_RELATION;
	m.u.relation.oid = t->oid;
	m.u.relation.schema = PQgetvalue(rel, 0, 1);
	m.u.relation.name = PQgetvalue(rel, 0, 2);
	m.u.relation.replident = replident;
	m.u.relation.ncols = n;
	m.u.relation.cols = cols;
	if ((t->rel = relcache_put(rcache, &m, err)) == NULL) {
		rc = err->code;
		goto out;
	}
	if ((t->ct = copytext_new(n)) == NULL) {
		rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = pg_load_types(conn, types, NULL, t->rel, err)) != 0)
		goto out;
	if ((rc = pg_load_column_facts(conn, t->rel, types, err)) != 0)
		goto out;
	if ((replident == 'f' || replident == 'n') && (rc = pg_load_pk(conn, t->rel, err)) != 0)
		goto out;

	/* the COPY query: the columns in order, the publication's row filter */
	{
		size_t cap = 64 + strlen(t->qname), off;
		char *q;

		for (int i = 0; i < n; i++)
			cap += 2 * strlen(cols[i].name) + 4;
		q = malloc(cap);
		if (q == NULL) {
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			goto out;
		}
		off = (size_t) snprintf(q, cap, "SELECT ");
		for (int i = 0; i < n; i++) {
			q[off++] = i ? ',' : ' ';
			q[off++] = '"';
			for (const char *c = cols[i].name; *c; c++) {
				if (*c == '"')
					q[off++] = '"';
				q[off++] = *c;
			}
			q[off++] = '"';
		}
		snprintf(q + off, cap - off, " FROM %s", t->qname);
		t->select = q;
	}
out:
	free(cols);
	PQclear(res);
	PQclear(rel);
	return rc;
}

static int
cmp_size_desc(const void *a, const void *b)
{
	const struct snap_table *x = a, *y = b;

	return (x->reltuples < y->reltuples) - (x->reltuples > y->reltuples);
}

int
snap_discover(PGconn *conn, const struct cfg *cfg, char *const *only, int nonly,
              struct relcache *rcache, struct cdc_types *types, struct snap_table **out, int *nout,
              struct cdc_err *err)
{
	struct snap_table *tables = NULL;
	int ntables = 0;
	const char *params[2];
	char *want = NULL;
	size_t wlen = 0;
	FILE *mf;
	PGresult *res;
	int rc = 0;

	/* explicit list: --table, else source.tables; as a JSON array */
	{
		char *const *items = only ? only : cfg->source.tables.items;
		int n = only ? nonly : cfg->source.tables.n;

		if (n > 0) {
			mf = open_memstream(&want, &wlen);
			if (mf == NULL)
				return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			fputc('[', mf);
			for (int i = 0; i < n; i++) {
				fprintf(mf, "%s\"", i ? "," : "");
				for (const char *c = items[i]; *c; c++) {
					if (*c == '"' || *c == '\\')
						fputc('\\', mf);
					fputc(*c, mf);
				}
				fputc('"', mf);
			}
			fputc(']', mf);
			fclose(mf);
		}
	}
	params[0] = cfg->source.publication;
	params[1] = want;
	/* Published tables with their column list and row filter (PostgreSQL 15 adds
	 * them to pg_publication_tables; to_jsonb reads them when present).  With an
	 * explicit list, tables outside the publication are copied too (a backfill
	 * "on demand"), entirely. */
	res = pg_query(conn, "listing the tables to snapshot",
	    "WITH want AS (SELECT w FROM jsonb_array_elements_text($2::jsonb) w), "
	    "pub AS (SELECT pt.schemaname, pt.tablename, to_jsonb(pt) AS j "
	    "        FROM pg_publication_tables pt WHERE pt.pubname = $1) "
	    "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
	    "       n.nspname || '.' || c.relname, greatest(c.reltuples, 0), "
	    "       pub.j -> 'attnames', pub.j ->> 'rowfilter', "
	    "       has_table_privilege(c.oid, 'SELECT'), pub.j IS NOT NULL "
	    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "LEFT JOIN pub ON pub.schemaname = n.nspname AND pub.tablename = c.relname "
	    "WHERE c.relkind IN ('r', 'p') AND ((pub.j IS NOT NULL AND ($2::jsonb IS NULL OR "
	    "   n.nspname || '.' || c.relname IN (SELECT w FROM want))) "
	    "   OR ($2::jsonb IS NOT NULL AND n.nspname || '.' || c.relname IN (SELECT w FROM want))) "
	    "ORDER BY 4 DESC", 2, params, err);
	if (res == NULL) {
		free(want);
		return err->code;
	}
	if (want != NULL) {
		/* every explicitly named table must exist */
		char *const *items = only ? only : cfg->source.tables.items;
		int n = only ? nonly : cfg->source.tables.n;

		for (int i = 0; i < n; i++) {
			bool found = false;

			for (int r = 0; r < PQntuples(res) && !found; r++)
				found = strcmp(PQgetvalue(res, r, 2), items[i]) == 0;
			if (!found) {
				rc = cdc_errf(err, CDC_ERR_FATAL, "snapshot: table %s does not exist (write "
				              "it as schema.table)", items[i]);
				goto out;
			}
		}
	}
	ntables = PQntuples(res);
	tables = calloc(ntables > 0 ? (size_t) ntables : 1, sizeof(*tables));
	if (tables == NULL) {
		rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int r = 0; r < ntables; r++) {
		struct snap_table *t = &tables[r];
		const char *filter = PQgetisnull(res, r, 5) ? NULL : PQgetvalue(res, r, 5);
		const char *attnames = PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4);

		if (attnames != NULL && strcmp(attnames, "null") == 0)
			attnames = NULL;
		t->oid = (uint32_t) strtoul(PQgetvalue(res, r, 0), NULL, 10);
		t->qname = strdup(PQgetvalue(res, r, 1));
		t->name = strdup(PQgetvalue(res, r, 2));
		t->reltuples = atof(PQgetvalue(res, r, 3));
		if (t->qname == NULL || t->name == NULL) {
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (PQgetvalue(res, r, 6)[0] != 't') {
			rc = cdc_errf(err, CDC_ERR_FATAL, "snapshot: no SELECT privilege on table %s: "
			              "GRANT SELECT ON %s TO %s", t->name, t->qname, PQuser(conn));
			goto out;
		}
		if ((rc = load_relation(rcache, types, conn, t, attnames, err)) != 0)
			goto out;
		if (filter != NULL && filter[0] != '\0') {
			char *q;

			if ((t->rowfilter = strdup(filter)) == NULL ||
			    asprintf(&q, "%s WHERE %s", t->select, filter) < 0) {
				rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
				goto out;
			}
			free(t->select);
			t->select = q;
		}
	}
	qsort(tables, (size_t) ntables, sizeof(*tables), cmp_size_desc);
out:
	PQclear(res);
	free(want);
	if (rc != 0) {
		snap_tables_free(tables, ntables);
		return rc;
	}
	*out = tables;
	*nout = ntables;
	return 0;
}

void
snap_tables_free(struct snap_table *tables, int n)
{
	for (int i = 0; tables != NULL && i < n; i++) {
		copytext_free(tables[i].ct);
		free(tables[i].qname);
		free(tables[i].name);
		free(tables[i].select);
		free(tables[i].rowfilter);
	}
	free(tables);
}

static void
table_progress(const struct snap_table *t, int64_t now, struct stats_snap *p)
{
	*p = (struct stats_snap) {
		.state = t->done ? "done" : t->started_ms ? "copying" : "pending",
		.rows = t->rows, .estimate = (uint64_t) t->reltuples,
	};
	stats_snap_rate(p, t->rows, t->started_ms ? now - t->started_ms : 0);
}

static void
progress(struct snap *s, bool force)
{
	int64_t now = mono_ms();
	struct stats_snap p;

	for (int i = 0; i < s->ntables; i++) {
		table_progress(&s->tables[i], now, &p);
		stats_set_snapshot(s->o->stats, s->tables[i].name, &p);
	}
	if (!force && now - s->last_progress_ms < PROGRESS_MS)
		return;
	s->last_progress_ms = now;
	for (int i = 0; i < s->nworkers; i++) {
		struct snap_table *t;

		if (s->w[i].table < 0)
			continue;
		t = &s->tables[s->w[i].table];
		table_progress(t, now, &p);
		if (p.eta_s >= 0)
			log_info("snapshot", "%s: %" PRIu64 " of ~%.0f rows (%.0f%%), %.0f rows/s, ETA %.0f s",
			         t->name, t->rows, t->reltuples, 100.0 * (double) t->rows / t->reltuples,
			         p.rows_per_s, p.eta_s);
		else
			log_info("snapshot", "%s: %" PRIu64 " rows, %.0f rows/s", t->name, t->rows,
			         p.rows_per_s);
	}
}

/* Start copying the next table on worker w; returns 0 (or 1 when no table is left). */
static int
start_table(struct snap *s, struct worker *w, struct cdc_err *err)
{
	struct snap_table *t;
	PGresult *res;
	char *sql;
	int rc;

	if (s->next >= s->ntables)
		return 1;
	t = &s->tables[s->next++];
	if ((rc = begin_snapshot_txn(w->conn, s->o->snapshot_name, err)) != 0)
		return rc;
	if (asprintf(&sql, "COPY (%s) TO STDOUT", t->select) < 0)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	res = PQexec(w->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		bool gone = state && strcmp(state, "42P01") == 0;

		if (gone) {
			/* dropped since the snapshot was taken: nothing will ever change in it again */
			log_warning("snapshot", "table %s was dropped during the snapshot; skipped", t->name);
			PQclear(res);
			PQclear(PQexec(w->conn, "ROLLBACK"));
			t->done = true;
			return start_table(s, w, err);
		}
		rc = cdc_errf(err, PQstatus(w->conn) == CONNECTION_OK ? CDC_ERR_FATAL : CDC_ERR_CONN,
		              "snapshot: COPY of %s failed: %s", t->name, m ? m : PQerrorMessage(w->conn));
		PQclear(res);
		return rc;
	}
	PQclear(res);
	t->started_ms = mono_ms();
	w->table = (int) (t - s->tables);
	log_info("snapshot", "copying %s (~%.0f rows)", t->name, t->reltuples);
	return 0;
}

/* Emit one row now, opening a pseudo-transaction if none is open. */
static int
emit_now(struct snap *s, struct snap_table *t, const char *line, size_t len, char flag,
         struct cdc_err *err)
{
	const struct cdc_tuple *tup;
	struct cdc_change ch = { 0 };
	int rc;

	if ((rc = copytext_parse(t->ct, line, len, &tup, err)) != 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		cdc_err_clear(err);
		return cdc_errf(err, rc, "snapshot of %s: %s", t->name, msg);
	}
	if (!pipe_in_txn(s->o->pipe) && (rc = pipe_begin(s->o->pipe, &s->txn, err)) < 0)
		return rc;
	ch.op = CDC_OP_READ;
	ch.lsn = s->o->lsn;
	ch.txn = &s->txn;
	ch.rel = t->rel;
	ch.new_tuple = tup;
	ch.snapshot = flag;
	if ((rc = pipe_change(s->o->pipe, &ch, len, err)) != 0)
		return rc;
	stats_add_change(s->o->stats, t->rel->schema, t->rel->name, CDC_OP_READ);
	s->total_rows++;
	return 0;
}

/* A row arrives: emit the one held before it, hold this one. */
static int
emit(struct snap *s, struct snap_table *t, const char *line, size_t len, struct cdc_err *err)
{
	int rc;

	if (s->held_table >= 0 &&
	    (rc = emit_now(s, &s->tables[s->held_table], s->held, s->held_len, CDC_SNAP_TRUE, err)) != 0)
		return rc;
	if (len > s->held_cap) {
		size_t cap = len < 4096 ? 4096 : len;
		char *nb = realloc(s->held, cap);

		if (nb == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory for a %zu-byte row", len);
		s->held = nb;
		s->held_cap = cap;
	}
	memcpy(s->held, line, len);
	s->held_len = len;
	s->held_table = (int) (t - s->tables);
	t->rows++;
	return 0;
}

/* The error of a COPY that ended badly, with what to do about a row too large to
 * send: PostgreSQL builds each COPY row in one buffer of at most 1 GB. */
static int
copy_failed(PGconn *conn, const PGresult *res, const char *table, struct cdc_err *err)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	int code = PQstatus(conn) == CONNECTION_OK ? CDC_ERR_FATAL : CDC_ERR_CONN;

	if (m == NULL)
		return cdc_errf(err, code, "snapshot: COPY of %s failed: %s", table,
		                PQerrorMessage(conn));
	if (d != NULL && strstr(d, "Cannot enlarge string buffer") != NULL)
		return cdc_errf(err, code, "snapshot: COPY of %s failed: %s (%s): a row of %s is "
		                "larger than PostgreSQL can send in one piece (1 GB); leave its largest "
		                "columns out of the publication's column list, or the table out of "
		                "source.tables and the snapshot", table, m, d, table);
	return cdc_errf(err, code, "snapshot: COPY of %s failed: %s%s%s", table, m,
	                d != NULL ? ": " : "", d != NULL ? d : "");
}

/* Copy up to CHUNK_ROWS rows of w's table as one pseudo-transaction. */
static int
copy_chunk(struct snap *s, struct worker *w, struct cdc_err *err)
{
	struct snap_table *t = &s->tables[w->table];
	int n = 0, rc = 0;

	while (n < CHUNK_ROWS && !*s->o->stop) {
		char *line = NULL;
		int len = PQgetCopyData(w->conn, &line, 0);

		if (len == -1) {
			PGresult *res = PQgetResult(w->conn);

			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				rc = copy_failed(w->conn, res, t->name, err);
				PQclear(res);
				goto out;
			}
			PQclear(res);
			res = pg_query(w->conn, "ending the snapshot transaction", "COMMIT", 0, NULL, err);
			if (res == NULL) {
				rc = err->code;
				goto out;
			}
			PQclear(res);
			t->done = true;
			w->table = -1;
			log_info("snapshot", "%s done: %" PRIu64 " rows in %.1f s", t->name, t->rows,
			         (double) (mono_ms() - t->started_ms) / 1000.0);
			break;
		}
		if (len < 0) {
			rc = cdc_errf(err, CDC_ERR_CONN, "snapshot: reading %s failed: %s", t->name,
			              PQerrorMessage(w->conn));
			goto out;
		}
		rc = emit(s, t, line, (size_t) len, err);
		PQfreemem(line);
		if (rc != 0)
			goto out;
		n++;
	}
	/* a chunk that emitted nothing (an empty table) is no transaction at all */
	if (pipe_in_txn(s->o->pipe))
		rc = pipe_commit(s->o->pipe, &s->txn, err);
out:
	if (rc != 0)
		pipe_abort(s->o->pipe);
	return rc;
}

int
snapshot_copy(const struct snap_opts *o, struct cdc_err *err)
{
	struct snap s = { .o = o };
	int nworkers = o->cfg->source.snapshot_workers, rc;
	PGresult *res;

	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;
	s.held_table = -1;
	s.txn.snapshot = true;
	s.txn.commit_lsn = s.txn.end_lsn = o->lsn;
	s.txn.commit_ts_us = o->ts_us;
	s.started_ms = s.last_progress_ms = mono_ms();
	if ((s.rc = relcache_new()) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	stats_set_state(o->stats, STATS_SNAPSHOTTING);

	/* worker 0 also discovers the tables, inside the snapshot */
	s.w[0].table = -1;
	s.w[0].conn = pg_connect(o->cfg->source.conninfo, false, err);
	if (s.w[0].conn == NULL) {
		rc = err->code;
		goto out;
	}
	s.nworkers = 1;
	if ((rc = begin_snapshot_txn(s.w[0].conn, o->snapshot_name, err)) != 0 ||
	    (rc = snap_discover(s.w[0].conn, o->cfg, o->tables, o->ntables, s.rc, o->types, &s.tables,
	                        &s.ntables, err)) != 0)
		goto out;
	res = pg_query(s.w[0].conn, "ending discovery", "COMMIT", 0, NULL, err);
	if (res == NULL) {
		rc = err->code;
		goto out;
	}
	PQclear(res);
	if (s.ntables == 0) {
		log_warning("snapshot", "nothing to copy: publication \"%s\" has no tables%s",
		            o->cfg->source.publication, o->tables ? " among those named" : "");
		rc = 0;
		goto out;
	}
	{
		double total = 0;

		for (int i = 0; i < s.ntables; i++)
			total += s.tables[i].reltuples;
		log_info("snapshot", "copying %d tables (~%.0f rows) at " CDC_LSN_FMT " with %d "
		         "workers", s.ntables, total, CDC_LSN_ARGS(o->lsn),
		         nworkers < s.ntables ? nworkers : s.ntables);
	}
	if (nworkers > s.ntables)
		nworkers = s.ntables;
	for (int i = 1; i < nworkers; i++) {
		s.w[i].table = -1;
		s.w[i].conn = pg_connect(o->cfg->source.conninfo, false, err);
		if (s.w[i].conn == NULL) {
			rc = err->code;
			goto out;
		}
		s.nworkers++;
	}
	for (int i = 0; i < s.nworkers; i++)
		if ((rc = start_table(&s, &s.w[i], err)) < 0)
			goto out;

	for (;;) {
		bool busy = false;

		for (int i = 0; i < s.nworkers; i++) {
			if (s.w[i].table < 0)
				continue;
			busy = true;
			if ((rc = copy_chunk(&s, &s.w[i], err)) != 0)
				goto out;
			if (s.w[i].table < 0 && (rc = start_table(&s, &s.w[i], err)) < 0)
				goto out;
			progress(&s, false);
			if (*o->stop) {
				rc = cdc_errf(err, CDC_ERR_AGAIN, "snapshot interrupted by shutdown");
				goto out;
			}
		}
		if (!busy)
			break;
	}
	if (s.held_table >= 0) {
		/* the very last row of the snapshot */
		if ((rc = emit_now(&s, &s.tables[s.held_table], s.held, s.held_len, CDC_SNAP_LAST, err)) != 0 ||
		    (rc = pipe_commit(o->pipe, &s.txn, err)) != 0) {
			pipe_abort(o->pipe);
			goto out;
		}
	}
	progress(&s, true);
	log_info("snapshot", "done: %" PRIu64 " rows from %d tables in %.1f s", s.total_rows,
	         s.ntables, (double) (mono_ms() - s.started_ms) / 1000.0);
	rc = 0;
out:
	for (int i = 0; i < s.nworkers; i++)
		PQfinish(s.w[i].conn);
	snap_tables_free(s.tables, s.ntables);
	free(s.held);
	relcache_free(s.rc);
	return rc;
}

int
snapshot_oneoff(const struct cfg *cfg, char *const *tables, int ntables,
                volatile sig_atomic_t *stop)
{
	struct cdc_err err = { 0 };
	struct sink *sinks[8];
	int nsinks = 0, status = 1;
	struct cdc_types *types = types_new();
	struct cdc_stats *stats = stats_new();
	struct pipeline *pipe = NULL;
	struct filter *filter = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	struct snap_opts o = { .cfg = cfg, .tables = tables, .ntables = ntables };
	struct timespec now;

	if (types == NULL || stats == NULL) {
		log_error("snapshot", "out of memory");
		goto out;
	}
	conn = pg_connect(cfg->source.conninfo, false, &err);
	if (conn == NULL || pg_validate_filters(conn, cfg, &err) != 0 ||
	    (filter = filter_new(cfg, &err)) == NULL) {
		log_error("snapshot", "%s", err.msg);
		if (err.code == CDC_ERR_CONFIG)
			status = 2;
		goto out;
	}
	res = pg_query(conn, "starting the snapshot", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	               0, NULL, &err);
	if (res == NULL) {
		log_error("snapshot", "%s", err.msg);
		goto out;
	}
	PQclear(res);
	res = pg_query(conn, "exporting the snapshot", "SELECT pg_export_snapshot(), "
	               PG_CURRENT_LSN "::text", 0, NULL, &err);
	if (res == NULL) {
		log_error("snapshot", "%s", err.msg);
		goto out;
	}
	o.snapshot_name = PQgetvalue(res, 0, 0);
	cdc_lsn_parse(PQgetvalue(res, 0, 1), &o.lsn);
	clock_gettime(CLOCK_REALTIME, &now);
	o.ts_us = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
	{
		struct sink_sections secs;
		struct sink_env env;

		cfg_sinks(cfg, &secs, &env);
		env.types = types;
		env.dbname = PQdb(conn);
		if (sinks_open(&secs, &env, sinks, 8, &nsinks, &err) != 0) {
			log_error("snapshot", "%s", err.msg);
			goto out;
		}
	}
	pipe = pipe_new(sinks, nsinks, cfg->source.max_inflight, 0, NULL, NULL);
	if (pipe == NULL) {
		log_error("snapshot", "out of memory");
		goto out;
	}
	pipe_set_filter(pipe, filter);
	o.types = types;
	o.pipe = pipe;
	o.stats = stats;
	o.stop = stop;
	log_info("snapshot", "one-off snapshot at " CDC_LSN_FMT " (no slot)", CDC_LSN_ARGS(o.lsn));
	if (snapshot_copy(&o, &err) != 0) {
		log_error("snapshot", "%s", err.msg);
		goto out;
	}
	cdc_err_clear(&err);
	if (pipe_flush(pipe, 600000, &err) != 0) {
		log_error("snapshot", "sinks did not make the snapshot durable: %s", err.msg);
		goto out;
	}
	status = 0;
out:
	PQclear(res);
	PQfinish(conn);
	sinks_close(sinks, nsinks);
	pipe_free(pipe);
	filter_free(filter);
	stats_free(stats);
	types_free(types);
	return status;
}
