/*
 * pg.c — libpq helpers (see pg.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "../common/log.h"
#include "pg.h"
#include "history.h"

#define SESSION_OPTIONS "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC " \
	"-c extra_float_digits=1 -c bytea_output=hex"

/* Notices and warnings the server sends (SPEC §5) go through pgcdc's log, at the
 * level their severity says, instead of libpq's default of raw lines on stderr. */
static void
notice_to_log(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	int level = LOG_LVL_INFO;

	(void) arg;
	if (sev == NULL)
		sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		level = LOG_LVL_WARNING;
	else if (sev != NULL && strncmp(sev, "DEBUG", 5) == 0)
		level = LOG_LVL_DEBUG;
	log_write(level, "server", "%s: %s%s%s%s", sev ? sev : "NOTICE", msg ? msg : "?",
	          detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
	if (hint)
		log_write(level, "server", "hint: %s", hint);
}

void
pg_log_notices(PGconn *conn)
{
	PQsetNoticeReceiver(conn, notice_to_log, NULL);
}

PGconn *
pg_connect(const char *conninfo, bool replication, struct cdc_err *err)
{
	const char *keys[6], *vals[6];
	char *errmsg = NULL, *options = NULL;
	PQconninfoOption *parsed;
	PGconn *conn = NULL;
	const char *user_opts = NULL;
	int n = 0;

	parsed = PQconninfoParse(conninfo, &errmsg);
	if (parsed == NULL) {
		/* libpq's message quotes no values, only the syntax problem */
		cdc_errf(err, CDC_ERR_CONFIG, "source.conninfo: %s", errmsg ? errmsg : "out of memory");
		PQfreemem(errmsg);
		return NULL;
	}
	for (PQconninfoOption *o = parsed; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val != NULL && o->val[0] != '\0')
			user_opts = o->val;
	if (asprintf(&options, "%s%s%s", SESSION_OPTIONS, user_opts ? " " : "",
	             user_opts ? user_opts : "") < 0) {
		PQconninfoFree(parsed);
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	PQconninfoFree(parsed);

	keys[n] = "dbname"; vals[n++] = conninfo;      /* expanded: the user's settings */
	keys[n] = "options"; vals[n++] = options;      /* later keywords override earlier */
	keys[n] = "fallback_application_name"; vals[n++] = "pgcdc";
	if (replication) {
		keys[n] = "replication";
		vals[n++] = "database";
	}
	keys[n] = NULL; vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	free(options);
	if (conn == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory connecting to PostgreSQL");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[400];
		size_t l;

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		l = strlen(msg);
		while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
			msg[--l] = '\0';
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		cdc_errf(err, CDC_ERR_CONN, "cannot connect to PostgreSQL%s: %s",
		         replication ? " (replication connection)" : "", msg);
		PQfinish(conn);
		return NULL;
	}
	pg_log_notices(conn);
	return conn;
}

const char *
pg_describe(PGconn *conn, char *buf, size_t cap)
{
	snprintf(buf, cap, "host=%s port=%s user=%s dbname=%s", PQhost(conn), PQport(conn),
	         PQuser(conn), PQdb(conn));
	return buf;
}

PGresult *
pg_query(PGconn *conn, const char *what, const char *sql, int nparams,
         const char *const *params, struct cdc_err *err)
{
	PGresult *res = nparams > 0 ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
	                            : PQexec(conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	{
		const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
		bool broken = PQstatus(conn) != CONNECTION_OK;
		char msg[400];
		size_t l;

		snprintf(msg, sizeof(msg), "%s", m ? m : PQerrorMessage(conn));
		l = strlen(msg);
		while (l > 0 && msg[l - 1] == '\n')
			msg[--l] = '\0';
		cdc_errf(err, broken ? CDC_ERR_CONN : CDC_ERR_FATAL, "%s failed: %s%s%s", what, msg,
		         hint ? " (hint: " : "", hint ? hint : "");
		if (hint)
			strncat(err->msg, ")", sizeof(err->msg) - strlen(err->msg) - 1);
	}
	PQclear(res);
	return NULL;
}

const char *
pg_slots_sql(int v)
{
#define SLOTS_COMMON "SELECT slot_name, plugin, slot_type, database, active, active_pid, " \
	"restart_lsn, confirmed_flush_lsn, "
	if (v >= 170000)
		return "(" SLOTS_COMMON "wal_status, safe_wal_size, invalidation_reason::text, "
		       "failover, synced FROM pg_catalog.pg_replication_slots)";
	if (v >= 160000)
		/* 16 sets conflicting for every invalidation, and clears restart_lsn for
		 * wal_removed only */
		return "(" SLOTS_COMMON "wal_status, safe_wal_size, CASE WHEN restart_lsn IS NULL AND "
		       "(conflicting OR wal_status = 'lost') THEN 'wal_removed' WHEN conflicting THEN "
		       "'conflicting' END AS "
		       "invalidation_reason, NULL::bool AS failover, NULL::bool AS synced "
		       "FROM pg_catalog.pg_replication_slots)";
	if (v >= 130000)
		return "(" SLOTS_COMMON "wal_status, safe_wal_size, CASE WHEN wal_status = 'lost' "
		       "THEN 'wal_removed' END AS invalidation_reason, NULL::bool AS failover, "
		       "NULL::bool AS synced FROM pg_catalog.pg_replication_slots)";
	return "(" SLOTS_COMMON "NULL::text AS wal_status, NULL::bigint AS safe_wal_size, "
	       "NULL::text AS invalidation_reason, NULL::bool AS failover, NULL::bool AS synced "
	       "FROM pg_catalog.pg_replication_slots)";
#undef SLOTS_COMMON
}

int
pg_protocol(int configured, int server_version, struct cdc_err *err)
{
	int best = server_version >= 140000 ? 2 : 1;

	if (configured == 0)
		return best;
	if (configured > best) {
		cdc_errf(err, CDC_ERR_FATAL, "source.protocol = %d needs PostgreSQL 14 or later "
		         "(streaming of in-progress transactions), and the server is PostgreSQL %d: "
		         "set source.protocol = auto (or 1); large transactions are then decoded by "
		         "the server at commit", configured, server_version / 10000);
		return -1;
	}
	return configured;
}

int
pg_failover(int configured, int server_version, bool in_recovery, struct cdc_err *err)
{
	if (configured == CFG_FAILOVER_OFF)
		return 0;
	if (configured == CFG_FAILOVER_AUTO)
		return server_version >= 170000 && !in_recovery;
	if (server_version < 170000) {
		cdc_errf(err, CDC_ERR_FATAL, "source.failover = on needs PostgreSQL 17 or later "
		         "(failover slots), and the server is PostgreSQL %d: set source.failover = auto "
		         "(or off); a failover on this server loses the slot, which pgcdc reports as "
		         "a gap", server_version / 10000);
		return -1;
	}
	if (in_recovery) {
		cdc_errf(err, CDC_ERR_FATAL, "source.failover = on, but the server is a standby, where "
		         "a slot cannot be a failover slot: set source.failover = auto (or off), or "
		         "connect to the primary");
		return -1;
	}
	return 1;
}

int
pg_in_recovery(PGconn *conn, struct cdc_err *err)
{
	PGresult *res = pg_query(conn, "asking whether the server is a standby",
	                         "SELECT pg_is_in_recovery()", 0, NULL, err);
	int v;

	if (res == NULL)
		return -1;
	v = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return v;
}

const char *
pg_invalidation_text(const char *r)
{
	if (strcmp(r, "wal_removed") == 0)
		return "the WAL it needed was removed (max_slot_wal_keep_size)";
	if (strcmp(r, "idle_timeout") == 0)
		return "it was inactive for longer than idle_replication_slot_timeout";
	if (strcmp(r, "rows_removed") == 0)
		return "catalog rows it needed were removed (on a standby: hot_standby_feedback off, "
		       "or no physical slot between the servers)";
	if (strcmp(r, "wal_level_insufficient") == 0)
		return "the primary's wal_level was lowered below logical";
	if (strcmp(r, "conflicting") == 0)
		return "a recovery conflict on the standby (rows it needed were removed, or the "
		       "primary's wal_level was lowered)";
	return "";
}

const char *
pg_version_str(PGconn *conn)
{
	const char *v = conn ? PQparameterStatus(conn, "server_version") : NULL;

	return v ? v : "?";
}

const char *
pg_slot_invalidated(const struct pg_slot *s)
{
	if (s->invalidation_reason[0] != '\0')
		return s->invalidation_reason;
	return strcmp(s->wal_status, "lost") == 0 ? "wal_removed" : NULL;
}

int
pg_slot_info(PGconn *conn, const char *slot, struct pg_slot *out, struct cdc_err *err)
{
	const char *params[1] = { slot };
	char sql[1200];
	PGresult *res;

	memset(out, 0, sizeof(*out));
	out->safe_wal_size = -1;
	out->failover = -1;
	snprintf(sql, sizeof(sql), "SELECT coalesce(plugin, ''), coalesce(database::text, ''), "
	         "slot_type, active, coalesce(active_pid, 0), coalesce(confirmed_flush_lsn::text, ''), "
	         "coalesce(restart_lsn::text, ''), coalesce(wal_status, ''), "
	         "coalesce(safe_wal_size::text, ''), coalesce(invalidation_reason, ''), "
	         "coalesce(failover::int, -1) FROM %s s WHERE slot_name = $1",
	         pg_slots_sql(PQserverVersion(conn)));
	res = pg_query(conn, "reading pg_replication_slots", sql, 1, params, err);
	if (res == NULL)
		return err->code;
	if (PQntuples(res) == 1) {
		out->exists = true;
		snprintf(out->plugin, sizeof(out->plugin), "%s", PQgetvalue(res, 0, 0));
		snprintf(out->database, sizeof(out->database), "%s", PQgetvalue(res, 0, 1));
		snprintf(out->slot_type, sizeof(out->slot_type), "%s", PQgetvalue(res, 0, 2));
		out->active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		out->active_pid = atoi(PQgetvalue(res, 0, 4));
		cdc_lsn_parse(PQgetvalue(res, 0, 5), &out->confirmed_flush);
		cdc_lsn_parse(PQgetvalue(res, 0, 6), &out->restart_lsn);
		snprintf(out->wal_status, sizeof(out->wal_status), "%s", PQgetvalue(res, 0, 7));
		if (PQgetvalue(res, 0, 8)[0] != '\0')
			out->safe_wal_size = atoll(PQgetvalue(res, 0, 8));
		snprintf(out->invalidation_reason, sizeof(out->invalidation_reason), "%s",
		         PQgetvalue(res, 0, 9));
		out->failover = atoi(PQgetvalue(res, 0, 10));
	}
	PQclear(res);
	return 0;
}

/* Fetch the given type oids (and, transitively, their base and element types). */
static int
load_oids(PGconn *conn, struct cdc_types *types, struct hist *hist, uint32_t *oids, int n,
          int depth, struct cdc_err *err)
{
	char list[16 * 64 + 8];
	size_t off = 0;
	const char *params[1];
	uint32_t next[64];
	int nnext = 0;
	PGresult *res;

	if (n == 0 || depth > 8)
		return 0;
	off += (size_t) snprintf(list + off, sizeof(list) - off, "{");
	for (int i = 0; i < n && i < 64; i++)
		off += (size_t) snprintf(list + off, sizeof(list) - off, "%s%u", i ? "," : "", oids[i]);
	snprintf(list + off, sizeof(list) - off, "}");
	params[0] = list;
	res = pg_query(conn, "reading pg_type",
	               "SELECT oid, typtype, typbasetype, typelem, typdelim, typname, typcategory "
	               "FROM pg_type WHERE oid = ANY($1::oid[])", 1, params, err);
	if (res == NULL)
		return err->code;
	for (int r = 0; r < PQntuples(res); r++) {
		uint32_t oid = (uint32_t) strtoul(PQgetvalue(res, r, 0), NULL, 10);
		char typtype = PQgetvalue(res, r, 1)[0];
		uint32_t base = (uint32_t) strtoul(PQgetvalue(res, r, 2), NULL, 10);
		uint32_t elem = (uint32_t) strtoul(PQgetvalue(res, r, 3), NULL, 10);
		char delim = PQgetvalue(res, r, 4)[0];
		char category = PQgetvalue(res, r, 6)[0];

		/* typelem is also set for fixed-length "arrays" like point; only true
		 * arrays (category A) map to JSON arrays */
		if (category != 'A')
			elem = 0;
		if (types_add(types, oid, typtype, base, elem, delim, PQgetvalue(res, r, 5)) != 0 ||
		    (hist != NULL &&
		     hist_add_type(hist, oid, typtype, base, elem, delim, PQgetvalue(res, r, 5)) != 0)) {
			PQclear(res);
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory registering types");
		}
		if (base && !types_known(types, base) && nnext < 64)
			next[nnext++] = base;
		if (elem && !types_known(types, elem) && nnext < 64)
			next[nnext++] = elem;
	}
	PQclear(res);
	return load_oids(conn, types, hist, next, nnext, depth + 1, err);
}

/* Queue type oid o for load_oids, loading a full batch of 64 first. */
static int
queue_oid(PGconn *conn, struct cdc_types *types, struct hist *hist, uint32_t *oids, int *n,
          uint32_t o, struct cdc_err *err)
{
	int rc;

	if (o < CDC_FIRST_USER_OID || types_known(types, o))
		return 0;
	for (int k = 0; k < *n; k++)
		if (oids[k] == o)
			return 0;
	if (*n == 64) {
		if ((rc = load_oids(conn, types, hist, oids, *n, 0, err)) != 0)
			return rc;
		*n = 0;
	}
	oids[(*n)++] = o;
	return 0;
}

int
pg_load_types(PGconn *conn, struct cdc_types *types, struct hist *hist, const struct cdc_rel *rel,
              struct cdc_err *err)
{
	uint32_t oids[64];
	int n = 0, rc;

	for (int i = 0; i < rel->ncols; i++)
		if ((rc = queue_oid(conn, types, hist, oids, &n, rel->cols[i].type_oid, err)) != 0)
			return rc;
	return load_oids(conn, types, hist, oids, n, 0, err);
}

/* the published tables, as (oid, relreplident) rows joined with what follows */
#define PUB_TABLES "FROM pg_publication_tables p JOIN pg_namespace n ON n.nspname = p.schemaname " \
                   "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename "

int
pg_learn_publication(PGconn *conn, const char *publication, cdc_lsn lsn, struct cdc_types *types,
                     struct hist *hist, struct cdc_err *err)
{
	const char *params[1] = { publication };
	PGresult *res;
	uint32_t oids[64];
	int n = 0, rc = 0, rows;

	res = pg_query(conn, "reading the published tables' column types",
	               "SELECT DISTINCT a.atttypid " PUB_TABLES
	               "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
	               "WHERE p.pubname = $1", 1, params, err);
	if (res == NULL)
		return err->code;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++)
		rc = queue_oid(conn, types, hist, oids, &n,
		               (uint32_t) strtoul(PQgetvalue(res, r, 0), NULL, 10), err);
	PQclear(res);
	if (rc != 0 || (rc = load_oids(conn, types, hist, oids, n, 0, err)) != 0)
		return rc;
	/* the primary keys of tables whose Relation message does not name them */
	res = pg_query(conn, "reading the published tables' primary keys",
	               "SELECT c.oid, a.attname " PUB_TABLES
	               "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
	               "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
	               "WHERE p.pubname = $1 AND c.relreplident IN ('f', 'n') ORDER BY c.oid, a.attnum",
	               1, params, err);
	if (res == NULL)
		return err->code;
	rows = PQntuples(res);
	for (int r = 0; r < rows && rc == 0;) {
		char *names[PGO_MAX_COLS];
		uint32_t oid = (uint32_t) strtoul(PQgetvalue(res, r, 0), NULL, 10);
		int k = 0;

		for (; r < rows && (uint32_t) strtoul(PQgetvalue(res, r, 0), NULL, 10) == oid; r++)
			if (!PQgetisnull(res, r, 1) && k < PGO_MAX_COLS)
				names[k++] = PQgetvalue(res, r, 1);
		if (hist_add_key(hist, oid, lsn, names, k) != 0)
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	}
	PQclear(res);
	return rc;
}

/* The primary key columns of reloid in column order: (attname, whether the key's
 * index is younger than transaction xid; false when xid is 0). */
static PGresult *
query_pk(PGconn *conn, uint32_t reloid, uint32_t xid, struct cdc_err *err)
{
	char oid[16], xs[16];
	const char *params[2] = { oid, xs };

	snprintf(oid, sizeof(oid), "%u", reloid);
	snprintf(xs, sizeof(xs), "%u", xid);
	return pg_query(conn, "reading the primary key",
	                "SELECT a.attname, $2::text <> '0' AND age(i.xmin) < age($2::xid) "
	                "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
	                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisprimary "
	                "ORDER BY a.attnum", 2, params, err);
}

int
pg_load_pk_as_of(PGconn *conn, struct cdc_rel *rel, uint32_t xid, cdc_lsn lsn, struct hist *hist,
                 bool *guessed, struct cdc_err *err)
{
	char *names[PGO_MAX_COLS], *const *hn;
	PGresult *res;
	bool newer = false;
	int n, k;

	*guessed = false;
	if ((res = query_pk(conn, rel->oid, xid, err)) == NULL)
		return err->code;
	n = PQntuples(res);
	for (int r = 0; r < n && r < PGO_MAX_COLS; r++) {
		names[r] = PQgetvalue(res, r, 0);
		newer = newer || PQgetvalue(res, r, 1)[0] == 't';
	}
	if (n > PGO_MAX_COLS)
		n = PGO_MAX_COLS;
	if (n > 0 && !newer) {
		/* the catalog's key held when this transaction ran */
		relcache_set_pk(rel, names, n);
		k = hist_add_key(hist, rel->oid, lsn, names, n);
		PQclear(res);
		return k == 0 ? 0 : cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
	}
	/* created since, or the table is gone: what was learned as of lsn */
	k = hist_key_at(hist, rel->oid, lsn, &hn);
	if (k >= 0)
		relcache_set_pk(rel, hn, k);
	else if (n > 0) {
		relcache_set_pk(rel, names, n);
		*guessed = true;
	}
	PQclear(res);
	return 0;
}

int
pg_load_pk(PGconn *conn, struct cdc_rel *rel, struct cdc_err *err)
{
	char *names[PGO_MAX_COLS];
	PGresult *res = query_pk(conn, rel->oid, 0, err);
	int n;

	if (res == NULL)
		return err->code;
	n = PQntuples(res);
	for (int r = 0; r < n && r < PGO_MAX_COLS; r++)
		names[r] = PQgetvalue(res, r, 0);
	relcache_set_pk(rel, names, n < PGO_MAX_COLS ? n : PGO_MAX_COLS);
	PQclear(res);
	return 0;
}

int
pg_load_column_facts(PGconn *conn, struct cdc_rel *rel, struct cdc_types *types,
                     struct cdc_err *err)
{
	char oid[16];
	const char *params[1] = { oid };
	PGresult *res;
	int rc = 0;

	snprintf(oid, sizeof(oid), "%u", rel->oid);
	/* the default as JDBC's COLUMN_DEF, which Debezium reads; none for generated columns */
	/* and the labels of the enum a column is (or is an array of), as they are now */
	res = pg_query(conn, "reading the columns' NOT NULL constraints and defaults",
	               "SELECT a.attname, a.attnotnull, CASE WHEN a.attgenerated = '' "
	               "THEN pg_get_expr(d.adbin, d.adrelid) END, x.oid, "
	               "(SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e "
	               " WHERE e.enumtypid = x.oid) FROM pg_attribute a "
	               "JOIN pg_type t ON t.oid = a.atttypid "
	               "CROSS JOIN LATERAL (SELECT CASE WHEN t.typcategory = 'A' THEN t.typelem "
	               "  ELSE t.oid END AS oid) x "
	               "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
	               "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
	               1, params, err);
	if (res == NULL)
		return err->code;
	for (int i = 0; i < rel->ncols; i++) {
		struct cdc_column *col = &rel->cols[i];

		col->notnull = false;
		free(col->defexpr);
		col->defexpr = NULL;
		for (int r = 0; r < PQntuples(res); r++) {
			if (strcmp(PQgetvalue(res, r, 0), col->name) != 0)
				continue;
			col->notnull = PQgetvalue(res, r, 1)[0] == 't';
			if (!PQgetisnull(res, r, 2) && (col->defexpr = strdup(PQgetvalue(res, r, 2))) == NULL)
				rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			if (!PQgetisnull(res, r, 4) &&
			    types_set_labels(types, (uint32_t) strtoul(PQgetvalue(res, r, 3), NULL, 10),
			                     PQgetvalue(res, r, 4)) != 0)
				rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		}
	}
	PQclear(res);
	return rc;
}

void
pg_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (56 - 8 * i));
}

uint64_t
pg_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

int64_t
pg_now_pgtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - CDC_PG_EPOCH_OFFSET_US;
}

static int
validate_list(PGconn *conn, const struct cfg_list *l, const char *key, bool columns,
              struct cdc_err *err)
{
	for (int i = 0; i < l->n; i++) {
		const char *item = l->items[i], *params[3];
		char schema[256], table[256], column[256];
		const char *d1 = strchr(item, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
		PGresult *res;
		bool found;

		if (d1 == NULL || (columns && d2 == NULL))
			return cdc_errf(err, CDC_ERR_CONFIG, "filter.%s: \"%s\" is not %s", key, item,
			                columns ? "schema.table.column" : "schema.table");
		snprintf(schema, sizeof(schema), "%.*s", (int) (d1 - item), item);
		if (columns) {
			snprintf(table, sizeof(table), "%.*s", (int) (d2 - d1 - 1), d1 + 1);
			snprintf(column, sizeof(column), "%s", d2 + 1);
		} else {
			snprintf(table, sizeof(table), "%s", d1 + 1);
			column[0] = '\0';
		}
		params[0] = schema;
		params[1] = table;
		params[2] = column;
		res = pg_query(conn, "checking [filter]",
		    "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		    "WHERE n.nspname = $1 AND c.relname = $2), "
		    "EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
		    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
		    "AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped)", 3, params, err);
		if (res == NULL)
			return err->code;
		found = PQgetvalue(res, 0, columns ? 1 : 0)[0] == 't';
		if (!found && columns && PQgetvalue(res, 0, 0)[0] != 't')
			cdc_errf(err, CDC_ERR_CONFIG, "filter.%s: table %s.%s does not exist (item \"%s\")",
			         key, schema, table, item);
		else if (!found)
			cdc_errf(err, CDC_ERR_CONFIG, "filter.%s: %s \"%s\" does not exist in database "
			         "\"%s\"", key, columns ? "column" : "table", item, PQdb(conn));
		PQclear(res);
		if (!found)
			return err->code;
	}
	return 0;
}

int
pg_validate_filters(PGconn *conn, const struct cfg *cfg, struct cdc_err *err)
{
	int rc;

	if ((rc = validate_list(conn, &cfg->filter.exclude_columns, "exclude_columns", true, err)) != 0 ||
	    (rc = validate_list(conn, &cfg->filter.mask_columns, "mask_columns", true, err)) != 0 ||
	    (rc = validate_list(conn, &cfg->filter.include_tables, "include_tables", false, err)) != 0)
		return rc;
	return 0;
}
