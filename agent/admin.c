/*
 * admin.c — check, status and drop-slot.
 *
 * `check` is a preflight: every finding is one line "ok|warning|FAIL  what: detail"
 * and a failing one says how to fix it.  It has no side effects (it creates
 * neither slot nor publication).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "../common/log.h"
#include "pg.h"
#include "../monitor/monitor.h"
#include "../sinks/sink.h"

struct report {
	int fails, warnings;
};

static void
finding(struct report *r, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
finding(struct report *r, const char *level, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(level, "FAIL") == 0)
		r->fails++;
	else if (strcmp(level, "warning") == 0)
		r->warnings++;
	printf("%-8s", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A query of check's: a failure is a finding, never silently passed over. */
static PGresult *
check_query(struct report *r, PGconn *conn, const char *what, const char *sql, int n,
            const char *const *params)
{
	struct cdc_err err = { 0 };
	PGresult *res = pg_query(conn, what, sql, n, params, &err);

	if (res == NULL)
		finding(r, "FAIL", "%s", err.msg);
	return res;
}

/* The first column of check_query's first row (owned), or NULL: no row, NULL, or a
 * failure (*failed, already reported). */
static char *
check_value(struct report *r, PGconn *conn, const char *what, const char *sql, int n,
            const char *const *params, bool *failed)
{
	PGresult *res = check_query(r, conn, what, sql, n, params);
	char *v = NULL;

	*failed = res == NULL;
	if (res != NULL && PQntuples(res) >= 1 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* What reading the tables needs: SELECT on every published table (both snapshot
 * methods), and for the online method and `pgcdc backfill` EXECUTE on
 * pg_logical_emit_message (the watermarks and signals; every role has it unless an
 * administrator revoked it). */
static void
check_backfill(const struct cfg *cfg, PGconn *aux, struct report *r)
{
	bool online = cfg->source.snapshot_method == CFG_SNAPM_ONLINE;
	bool reads = cfg->source.snapshot != CFG_SNAP_NEVER;
	const char *pp[1] = { cfg->source.publication };
	PGresult *res;
	char *v;
	bool failed;

	res = check_query(r, aux, "reading table privileges",
	    "SELECT t.schemaname || '.' || t.tablename FROM pg_publication_tables t "
	    "WHERE t.pubname = $1 AND NOT has_table_privilege(format('%I.%I', t.schemaname, "
	    "t.tablename), 'SELECT') ORDER BY 1", 1, pp);
	if (res != NULL) {
		for (int i = 0; i < PQntuples(res); i++)
			finding(r, reads ? "FAIL" : "warning", "no SELECT privilege on %s: snapshots and "
			        "backfills cannot read it: GRANT SELECT ON %s TO \"%s\"", PQgetvalue(res, i, 0),
			        PQgetvalue(res, i, 0), PQuser(aux));
		if (PQntuples(res) == 0)
			finding(r, "ok", "SELECT on every published table (snapshots and backfills read them)");
		PQclear(res);
	}
	/* the text variant; 17 added a fourth argument (flush), so look it up by name */
	v = check_value(r, aux, "reading function privileges", "SELECT p.oid::regprocedure::text "
	                "FROM pg_proc p WHERE p.proname = 'pg_logical_emit_message' "
	                "AND p.proargtypes[2] = 'text'::regtype "
	                "AND NOT has_function_privilege(p.oid, 'EXECUTE') LIMIT 1", 0, NULL, &failed);
	if (v == NULL && !failed)
		finding(r, "ok", "EXECUTE on pg_logical_emit_message (the online snapshot's watermarks)");
	else if (v != NULL)
		finding(r, online && reads ? "FAIL" : "warning", "no EXECUTE on pg_logical_emit_message: "
		        "the online snapshot method writes its watermarks with it: GRANT EXECUTE ON "
		        "FUNCTION %s TO \"%s\"", v, PQuser(aux));
	free(v);
	if (online && reads && PQserverVersion(aux) < 140000) {
		finding(r, "warning", "snapshot_method = online needs PostgreSQL 14 (logical decoding "
		        "messages in pgoutput): the initial snapshot uses the exported method on %s",
		        pg_version_str(aux));
	} else if (online && reads) {
		struct cdc_err err = { 0 };

		if (pg_in_recovery(aux, &err) == 1)
			finding(r, "warning", "snapshot_method = online: a standby cannot write the "
			        "watermark messages, so the initial snapshot uses the exported method here, "
			        "and backfills (pgcdc backfill, on_gap = backfill) run only against a primary");
	}
}

/* Each enabled sink: probe it when it can be probed. */
static void
check_sinks(const struct cfg *cfg, PGconn *aux, struct report *r)
{
	struct sink_sections secs;
	struct sink_env env;

	cfg_sinks(cfg, &secs, &env);
	env.types = NULL;
	env.dbname = aux ? PQdb(aux) : "";
	for (int i = 0; sink_registry[i] != NULL; i++) {
		const struct sink_ops *ops = sink_registry[i];
		struct cdc_err err = { 0 };
		char info[512] = "";

		env.section = sink_section(&secs, ops);
		if (env.section == NULL || !ops->enabled(env.section))
			continue;
		if (ops->probe == NULL)
			finding(r, "ok", "sink %s", ops->name);
		else if (ops->probe(&env, info, sizeof(info), &err) == 0)
			finding(r, "ok", "sink %s: %s", ops->name, info);
		else
			finding(r, "FAIL", "sink %s: %s", ops->name, err.msg);
	}
}

/* The monitor's view of things (SPEC §6): the slot against the alert thresholds,
 * a free slot for a new one, the pg_wal filesystem, the alert hook. */
static void
check_monitor(const struct cfg *cfg, PGconn *aux, struct report *r)
{
	const int64_t lag_w = cfg->monitor.lag_bytes_warning, lag_c = cfg->monitor.lag_bytes_critical;
	const int64_t ret_w = cfg->monitor.retained_wal_warning, ret_c = cfg->monitor.retained_wal_critical;
	struct cdc_err err = { 0 };
	const char *pp[1] = { cfg->source.slot };
	char path[512], why[600], sql[1200];
	PGresult *res;

	snprintf(sql, sizeof(sql),
	    "SELECT coalesce(pg_wal_lsn_diff(" PG_CURRENT_LSN ", confirmed_flush_lsn)::bigint, 0), "
	    "coalesce(pg_wal_lsn_diff(" PG_CURRENT_LSN ", restart_lsn)::bigint, 0), "
	    "coalesce(wal_status, '') FROM %s s WHERE slot_name = $1",
	    pg_slots_sql(PQserverVersion(aux)));
	res = check_query(r, aux, "reading the slot's lag", sql, 1, pp);
	if (res != NULL && PQntuples(res) == 1) {
		long long l = atoll(PQgetvalue(res, 0, 0)), k = atoll(PQgetvalue(res, 0, 1));
		const char *ws = PQgetvalue(res, 0, 2);

		if ((lag_c > 0 && l >= lag_c) || (lag_w > 0 && l >= lag_w))
			finding(r, "warning", "slot \"%s\" lags %lld bytes behind the server (monitor.lag_bytes_"
			        "%s = %lld): start pgcdc so it catches up, or drop the slot if it is abandoned",
			        cfg->source.slot, l, lag_c > 0 && l >= lag_c ? "critical" : "warning",
			        (long long) (lag_c > 0 && l >= lag_c ? lag_c : lag_w));
		else
			finding(r, "ok", "slot \"%s\" lag %lld bytes, retains %lld bytes of WAL", cfg->source.slot,
			        l, k);
		if ((ret_c > 0 && k >= ret_c) || (ret_w > 0 && k >= ret_w))
			finding(r, "warning", "slot \"%s\" retains %lld bytes of WAL (monitor.retained_wal_%s = "
			        "%lld): let pgcdc catch up, or drop the slot if it is abandoned", cfg->source.slot,
			        k, ret_c > 0 && k >= ret_c ? "critical" : "warning",
			        (long long) (ret_c > 0 && k >= ret_c ? ret_c : ret_w));
		if (strcmp(ws, "extended") == 0 || strcmp(ws, "unreserved") == 0)
			finding(r, "warning", "slot \"%s\" has wal_status %s: it holds more WAL than max_wal_size%s;"
			        " let pgcdc catch up", cfg->source.slot, ws, ws[0] == 'u' ?
			        " and loses it at the next checkpoint" : "");
	} else if (res != NULL) {
		/* a new slot will be created: is there room for it? */
		PQclear(res);
		res = check_query(r, aux, "counting replication slots",
		    "SELECT current_setting('max_replication_slots')::int, "
		    "(SELECT count(*) FROM pg_replication_slots)::int", 0, NULL);
		if (res != NULL && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 1)) >= atoi(PQgetvalue(res, 0, 0)))
			finding(r, "FAIL", "no free replication slot for \"%s\" (max_replication_slots = %s, all "
			        "in use): raise max_replication_slots (restart) or drop an unused slot",
			        cfg->source.slot, PQgetvalue(res, 0, 0));
	}
	PQclear(res);

	if (mon_wal_disk_path(aux, cfg, path, sizeof(path), why, sizeof(why)) != 0) {
		finding(r, "warning", "pg_wal filesystem usage cannot be measured, so the wal_disk alert is "
		        "off: %s", why);
	} else {
		double ratio;
		uint64_t size, avail;

		cdc_err_clear(&err);
		if (mon_wal_disk_usage(path, &ratio, &size, &avail, &err) != 0)
			finding(r, "FAIL", "monitor.wal_disk_path: %s: set it to a readable path on the "
			        "server's pg_wal filesystem, or empty it", err.msg);
		else if (ratio >= cfg->monitor.wal_disk_used_warning)
			finding(r, "warning", "pg_wal filesystem (%s) is %.1f%% full (monitor.wal_disk_used_"
			        "warning = %.0f%%): free space or grow it", path, ratio * 100,
			        cfg->monitor.wal_disk_used_warning * 100);
		else
			finding(r, "ok", "pg_wal filesystem (%s) %.1f%% full", path, ratio * 100);
	}

	if (cfg->monitor.alert_command[0] != '\0') {
		char **argv = alert_argv_split(cfg->monitor.alert_command);

		if (argv == NULL)
			finding(r, "FAIL", "monitor.alert_command: cannot be parsed");
		else if (access(argv[0], X_OK) != 0)
			finding(r, "FAIL", "monitor.alert_command: %s cannot be executed (%s): fix the path or "
			        "chmod +x it", argv[0], strerror(errno));
		else if (argv[0][0] != '/')
			finding(r, "warning", "monitor.alert_command: %s is a relative path: pgcdc runs it "
			        "from its working directory (/ under systemd); give an absolute path", argv[0]);
		else
			finding(r, "ok", "alert hook %s", argv[0]);
		alert_argv_free(argv);
	}
}

/* Settings of the server that can invalidate the slot or let it fill the disk (SPEC
 * §9), as the server's version has them. */
static void
check_invalidation_settings(PGconn *aux, struct report *r)
{
	int ver = PQserverVersion(aux);
	bool failed;
	char *v;

	if (ver < 130000) {
		finding(r, "warning", "PostgreSQL %d has no max_slot_wal_keep_size: nothing bounds the WAL "
		        "a stalled slot retains, so it can fill the server's disk; the monitor's "
		        "retained_wal and wal_disk alerts are the only guard (upgrade to 13+ to set a "
		        "limit)", ver / 10000);
	} else {
		v = check_value(r, aux, "reading max_slot_wal_keep_size", "SHOW max_slot_wal_keep_size",
		                0, NULL, &failed);
		if (v && strcmp(v, "-1") == 0)
			finding(r, "warning", "max_slot_wal_keep_size = -1 (unlimited): a stalled slot can "
			        "fill the server's disk; set a limit (e.g. ALTER SYSTEM SET "
			        "max_slot_wal_keep_size = '50GB') sized to the disk: a slot past it is "
			        "invalidated (wal_removed) instead");
		else if (v)
			finding(r, "ok", "max_slot_wal_keep_size = %s (a slot that falls further behind is "
			        "invalidated: wal_removed)", v);
		free(v);
	}
	if (ver >= 180000) {
		v = check_value(r, aux, "reading idle_replication_slot_timeout",
		                "SHOW idle_replication_slot_timeout", 0, NULL, &failed);
		if (v && strcmp(v, "0") != 0)
			finding(r, "warning", "idle_replication_slot_timeout = %s: the server invalidates "
			        "the slot (idle_timeout) when pgcdc is stopped for longer than that, and "
			        "changes are lost; keep pgcdc's downtime shorter, or set it to 0", v);
		else if (v)
			finding(r, "ok", "idle_replication_slot_timeout = 0 (an idle slot is never "
			        "invalidated)");
		free(v);
	}
}

/* Failover slots (SPEC §9, PostgreSQL 17+): what source.failover makes of the slot,
 * and the primary's synchronized_standby_slots; on a standby, standby decoding. */
static void
check_failover(const struct cfg *cfg, PGconn *aux, const struct pg_slot *slot, struct report *r)
{
	struct cdc_err err = { 0 };
	int ver = PQserverVersion(aux), rec, fo;
	bool failed;
	char *v;

	if ((rec = pg_in_recovery(aux, &err)) < 0) {
		finding(r, "FAIL", "%s", err.msg);
		return;
	}
	if (rec == 1)
		finding(r, ver >= 160000 ? "ok" : "FAIL", "the server is a standby: %s", ver >= 160000 ?
		        "standby decoding (the slot, snapshot and stream live here; positions are its "
		        "replay position; the primary needs hot_standby_feedback from it, or a physical "
		        "slot, so the catalog rows decoding needs are kept)" :
		        "logical decoding on a standby needs PostgreSQL 16: connect to the primary");
	if ((fo = pg_failover((int) cfg->source.failover, ver, rec == 1, &err)) < 0) {
		finding(r, "FAIL", "%s", err.msg);
		return;
	}
	if (ver < 170000) {
		if (rec == 0)
			finding(r, "warning", "PostgreSQL %d has no failover slots: after a promotion the "
			        "slot is gone on the new primary, which pgcdc reports as a gap (exit 1); "
			        "see README \"High availability\"", ver / 10000);
		return;
	}
	if (slot->exists && slot->failover == 1)
		finding(r, fo ? "ok" : "warning", "slot \"%s\" is a failover slot%s", cfg->source.slot,
		        fo ? ": standbys with sync_replication_slots = on keep a copy of it" :
		        "; run will make it an ordinary one (source.failover = off)");
	else if (fo)
		finding(r, "ok", "slot \"%s\" %s a failover slot (source.failover): standbys with "
		        "sync_replication_slots = on keep a copy of it", cfg->source.slot,
		        slot->exists ? "is not yet: run will make it" : "will be created as");
	else if (rec == 0)
		finding(r, "warning", "slot \"%s\" is not a failover slot (source.failover = off): a "
		        "promotion loses it, which pgcdc reports as a gap", cfg->source.slot);
	if (!fo || rec == 1)
		return;
	v = check_value(r, aux, "reading synchronized_standby_slots",
	                "SHOW synchronized_standby_slots", 0, NULL, &failed);
	if (v != NULL && v[0] != '\0')
		finding(r, "ok", "synchronized_standby_slots = '%s': pgcdc receives only what those "
		        "standbys have", v);
	else if (!failed)
		finding(r, "warning", "synchronized_standby_slots is empty: pgcdc can receive changes "
		        "no standby has yet, and after promoting a standby that lacks them pgcdc stops "
		        "with a gap (the new primary's history diverged from what was delivered); set it "
		        "to the physical slots of the standbys that sync slots (ALTER SYSTEM SET "
		        "synchronized_standby_slots = 'standby1_slot')");
	free(v);
}

int
admin_check(const struct cfg *cfg)
{
	struct report r = { 0 };
	struct cdc_err err = { 0 };
	char desc[600];
	PGconn *aux = NULL, *repl = NULL;
	char *v = NULL;
	struct pg_slot slot;
	const char *pp[1], *why;
	bool failed;
	int proto;

	aux = pg_connect(cfg->source.conninfo, false, &err);
	if (aux == NULL) {
		finding(&r, "FAIL", "connect: %s: check source.conninfo, that the server runs and "
		        "pg_hba.conf admits this client", err.msg);
		goto out;
	}
	finding(&r, "ok", "connect: %s (PostgreSQL %s)", pg_describe(aux, desc, sizeof(desc)),
	        pg_version_str(aux));
	if (PQserverVersion(aux) < 120000)
		finding(&r, "FAIL", "PostgreSQL %s is older than 12, the oldest pgcdc supports",
		        pg_version_str(aux));
	proto = pg_protocol(cfg->source.protocol, PQserverVersion(aux), &err);
	if (proto < 0)
		finding(&r, "FAIL", "%s", err.msg);
	else
		finding(&r, "ok", "pgoutput protocol %d%s%s", proto, cfg->source.protocol == 0 ?
		        " (source.protocol = auto)" : "", proto >= 2 ? ": large transactions are "
		        "streamed while in progress" : ": large transactions are decoded by the server "
		        "at commit (spilled to its disk)");
	cdc_err_clear(&err);

	v = check_value(&r, aux, "reading wal_level", "SHOW wal_level", 0, NULL, &failed);
	if (v && strcmp(v, "logical") == 0)
		finding(&r, "ok", "wal_level = logical");
	else if (!failed)
		finding(&r, "FAIL", "wal_level = %s: logical decoding needs wal_level = logical: set it "
		        "in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart the server",
		        v ? v : "?");
	free(v);

	v = check_value(&r, aux, "reading the role", "SELECT CASE WHEN rolsuper THEN 'superuser' WHEN "
	                "rolreplication THEN 'replication' ELSE 'none' END FROM pg_roles WHERE "
	                "rolname = current_user", 0, NULL, &failed);
	if (v && strcmp(v, "none") != 0)
		finding(&r, "ok", "role \"%s\" may replicate (%s)", PQuser(aux), v);
	else if (!failed)
		finding(&r, "FAIL", "role \"%s\" lacks the REPLICATION attribute: ALTER ROLE \"%s\" "
		        "REPLICATION", PQuser(aux), PQuser(aux));
	free(v);

	pp[0] = cfg->source.publication;
	v = check_value(&r, aux, "reading the publication", "SELECT (SELECT count(*) FROM "
	                "pg_publication_tables t WHERE t.pubname = p.pubname)::text FROM "
	                "pg_publication p WHERE p.pubname = $1", 1, pp, &failed);
	if (v != NULL) {
		finding(&r, "ok", "publication \"%s\" exists (%s tables)", cfg->source.publication, v);
	} else if (failed) {
		;
	} else if (cfg->source.create_publication != CFG_PUB_OFF) {
		finding(&r, "ok", "publication \"%s\" does not exist yet; run will create it (%s)",
		        cfg->source.publication,
		        cfg->source.create_publication == CFG_PUB_ALL ? "FOR ALL TABLES" : "FOR TABLE ...");
	} else {
		finding(&r, "FAIL", "publication \"%s\" does not exist: CREATE PUBLICATION \"%s\" FOR "
		        "ALL TABLES, or set source.create_publication = all", cfg->source.publication,
		        cfg->source.publication);
	}
	free(v);

	/* tables published for update/delete without any replica identity */
	{
		PGresult *res = check_query(&r, aux, "reading replica identities",
		    "SELECT t.schemaname || '.' || t.tablename FROM pg_publication_tables t "
		    "JOIN pg_namespace n ON n.nspname = t.schemaname "
		    "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename "
		    "JOIN pg_publication p ON p.pubname = t.pubname "
		    "WHERE t.pubname = $1 AND (p.pubupdate OR p.pubdelete) AND "
		    "(c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS "
		    "(SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) "
		    "ORDER BY 1", 1, pp);

		if (res != NULL) {
			for (int i = 0; i < PQntuples(res); i++)
				finding(&r, "FAIL", "table %s has no replica identity, so the server rejects its "
				        "UPDATE and DELETE: add a primary key or ALTER TABLE %s REPLICA IDENTITY "
				        "FULL", PQgetvalue(res, i, 0), PQgetvalue(res, i, 0));
			PQclear(res);
		}
	}

	check_invalidation_settings(aux, &r);
	check_backfill(cfg, aux, &r);

	if (pg_slot_info(aux, cfg->source.slot, &slot, &err) != 0) {
		finding(&r, "FAIL", "%s", err.msg);
	} else if (!slot.exists) {
		finding(&r, "ok", "slot \"%s\" does not exist yet; run will create it (pgoutput)",
		        cfg->source.slot);
	} else if (strcmp(slot.plugin, "pgoutput") != 0) {
		finding(&r, "FAIL", "slot \"%s\" uses plugin %s, not pgoutput: drop it or choose "
		        "another slot name", cfg->source.slot, slot.plugin);
	} else if (strcmp(slot.database, PQdb(aux)) != 0) {
		finding(&r, "FAIL", "slot \"%s\" belongs to database \"%s\", not \"%s\": choose "
		        "another slot name", cfg->source.slot, slot.database, PQdb(aux));
	} else if ((why = pg_slot_invalidated(&slot)) != NULL) {
		finding(&r, "FAIL", "slot \"%s\" is invalidated (invalidation_reason %s: %s): changes "
		        "after " CDC_LSN_FMT " were lost; drop it (pgcdc drop-slot) and re-snapshot",
		        cfg->source.slot, why, pg_invalidation_text(why),
		        CDC_LSN_ARGS(slot.confirmed_flush));
	} else {
		finding(&r, "ok", "slot \"%s\" (pgoutput) confirmed up to " CDC_LSN_FMT "%s",
		        cfg->source.slot, CDC_LSN_ARGS(slot.confirmed_flush),
		        slot.active ? ", active" : "");
	}
	cdc_err_clear(&err);
	check_failover(cfg, aux, &slot, &r);

	repl = pg_connect(cfg->source.conninfo, true, &err);
	if (repl == NULL) {
		finding(&r, "FAIL", "replication connection: %s: pg_hba.conf needs a line for this "
		        "role and database that allows replication connections", err.msg);
	} else {
		PGresult *res = pg_query(repl, "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM", 0, NULL, &err);

		if (res != NULL)
			finding(&r, "ok", "replication connection (system %s, timeline %s)",
			        PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		else
			finding(&r, "FAIL", "replication connection: %s", err.msg);
		PQclear(res);
	}
	check_monitor(cfg, aux, &r);
	check_sinks(cfg, aux, &r);
out:
	printf("%d failed, %d warnings\n", r.fails, r.warnings);
	PQfinish(aux);
	PQfinish(repl);
	return r.fails > 0 ? 1 : 0;
}

/* What the running agent's monitor last wrote (<state_dir>/<slot>.monitor.json):
 * alert states, snapshot progress, lag_seconds.  Stale when pgcdc stopped or the
 * file is older than 3 monitor intervals. */
struct monitor_state {
	json_t *o;                /* owned; NULL = no file */
	bool stale;
	int64_t age_ms;
	char why[600];
};

static void
monitor_state_load(const struct cfg *cfg, struct monitor_state *ms)
{
	struct cdc_err err = { 0 };
	json_t *iv, *run;
	int64_t interval;

	memset(ms, 0, sizeof(*ms));
	ms->o = mon_state_load(cfg, &ms->age_ms, &err);
	if (ms->o == NULL) {
		snprintf(ms->why, sizeof(ms->why), "no monitor state (%s): is pgcdc running?", err.msg);
		ms->stale = true;
		return;
	}
	iv = json_object_get(ms->o, "interval_ms");
	run = json_object_get(ms->o, "running");
	interval = json_is_integer(iv) ? json_integer_value(iv) : cfg->monitor.interval_ms;
	if (json_is_false(run)) {
		ms->stale = true;
		snprintf(ms->why, sizeof(ms->why), "pgcdc is not running (these are its last values)");
	} else if (ms->age_ms > 3 * interval) {
		ms->stale = true;
		snprintf(ms->why, sizeof(ms->why), "not updated for %lld s (more than 3 monitor intervals): "
		         "pgcdc is not running or its monitor is stuck", (long long) (ms->age_ms / 1000));
	}
}

/* status --json: fill snapshot and alerts, add lag_seconds and monitor. */
static void
monitor_state_json(const struct monitor_state *ms, json_t *o, json_t *snap, json_t *alerts)
{
	json_t *mon = json_object(), *sample = NULL, *v;
	const char *key;

	if (ms->o != NULL) {
		sample = json_object_get(ms->o, "sample");
		json_object_update(snap, json_object_get(ms->o, "snapshot"));
		json_object_foreach(json_object_get(ms->o, "alerts"), key, v) {
			json_t *a = json_deep_copy(v);

			json_object_set_new(a, "stale", json_boolean(ms->stale));
			json_object_set_new(alerts, key, a);
		}
		json_object_set(mon, "updated_at", json_object_get(ms->o, "written_at"));
		json_object_set(mon, "pid", json_object_get(ms->o, "pid"));
		json_object_set(mon, "connected", json_object_get(ms->o, "connected"));
	}
	json_object_set_new(mon, "stale", json_boolean(ms->stale));
	if (ms->why[0] != '\0')
		json_object_set_new(mon, "note", json_string(ms->why));
	json_object_set_new(o, "lag_seconds", !ms->stale && json_is_object(sample) ?
	                    json_incref(json_object_get(sample, "lag_seconds")) : json_null());
	if (json_object_get(o, "lag_seconds") == NULL)
		json_object_set_new(o, "lag_seconds", json_null());
	json_object_set_new(o, "monitor", mon);
}

static void
print_json_scalar(const json_t *v)
{
	if (json_is_string(v))
		printf("%s", json_string_value(v));
	else if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		printf("%g", json_real_value(v));
	else
		printf("-");
}

/* status (text): lag_seconds, alerts, snapshot. */
static void
monitor_state_print(const struct monitor_state *ms)
{
	json_t *sample, *v;
	const char *key;

	if (ms->o == NULL) {
		printf("monitor                 %s\n", ms->why);
		return;
	}
	sample = json_object_get(ms->o, "sample");
	if (!ms->stale && json_is_object(sample)) {
		printf("lag_seconds             ");
		print_json_scalar(json_object_get(sample, "lag_seconds"));
		printf("\n");
	}
	printf("monitor                 updated %s%s%s\n",
	       json_string_value(json_object_get(ms->o, "written_at")) ?
	       json_string_value(json_object_get(ms->o, "written_at")) : "?",
	       ms->stale ? ", STALE: " : "", ms->stale ? ms->why : "");
	json_object_foreach(json_object_get(ms->o, "alerts"), key, v) {
		printf("alert %-17s %-8s value ", key, json_string_value(json_object_get(v, "state")));
		print_json_scalar(json_object_get(v, "value"));
		printf(", threshold ");
		print_json_scalar(json_object_get(v, "threshold"));
		printf(", since ");
		print_json_scalar(json_object_get(v, "since"));
		printf("\n");
	}
	json_object_foreach(json_object_get(ms->o, "snapshot"), key, v) {
		json_t *eta = json_object_get(v, "eta_s");

		printf("snapshot %-14s %s, ", key, json_string_value(json_object_get(v, "state")));
		print_json_scalar(json_object_get(v, "rows"));
		printf(" rows");
		if (json_integer_value(json_object_get(v, "chunks")) > 0) {
			printf(" in ");
			print_json_scalar(json_object_get(v, "chunks"));
			printf(" chunks");
		}
		if (json_number_value(json_object_get(v, "rows_per_s")) > 0)
			printf(", %.0f rows/s", json_number_value(json_object_get(v, "rows_per_s")));
		if (json_is_number(eta) && strcmp(json_string_value(json_object_get(v, "state")), "done") != 0)
			printf(", ETA %.0f s", json_number_value(eta));
		printf("\n");
	}
}

int
admin_status(const struct cfg *cfg, bool json)
{
	struct cdc_err err = { 0 };
	const char *pp[1] = { cfg->source.slot };
	PGconn *aux;
	PGresult *res;
	struct monitor_state ms = { 0 };
	char sql[2000];
	int status = 1;

	aux = pg_connect(cfg->source.conninfo, false, &err);
	if (aux == NULL) {
		log_error("status", "%s", err.msg);
		return 1;
	}
	monitor_state_load(cfg, &ms);
	/* what a version lacks is NULL: wal_status, safe_wal_size, max_slot_wal_keep_size
	 * before 13, invalidation_reason before 13, failover before 17 */
	snprintf(sql, sizeof(sql),
	    "SELECT s.plugin, s.active, coalesce(s.active_pid, 0), "
	    "coalesce(s.confirmed_flush_lsn::text, ''), coalesce(s.restart_lsn::text, ''), "
	    PG_CURRENT_LSN "::text, "
	    "coalesce(pg_wal_lsn_diff(" PG_CURRENT_LSN ", s.confirmed_flush_lsn)::bigint, 0), "
	    "coalesce(pg_wal_lsn_diff(" PG_CURRENT_LSN ", s.restart_lsn)::bigint, 0), "
	    "s.wal_status, s.safe_wal_size, "
	    "pg_size_bytes(current_setting('max_slot_wal_keep_size', true)), s.database, "
	    "s.invalidation_reason, s.failover "
	    "FROM %s s WHERE s.slot_name = $1", pg_slots_sql(PQserverVersion(aux)));
	res = pg_query(aux, "reading the slot", sql, 1, pp, &err);
	if (res == NULL) {
		log_error("status", "%s", err.msg);
		goto out;
	}
	if (PQntuples(res) != 1) {
		log_error("status", "slot \"%s\" does not exist: start `pgcdc run` to create it",
		          cfg->source.slot);
		PQclear(res);
		goto out;
	}
	if (json) {
		json_t *o = json_object(), *snap = json_object(), *alerts = json_object();
		char *s;

		json_object_set_new(o, "slot", json_string(cfg->source.slot));
		json_object_set_new(o, "database", json_string(PQgetvalue(res, 0, 11)));
		json_object_set_new(o, "plugin", json_string(PQgetvalue(res, 0, 0)));
		json_object_set_new(o, "active", json_boolean(PQgetvalue(res, 0, 1)[0] == 't'));
		json_object_set_new(o, "active_pid", json_integer(atoi(PQgetvalue(res, 0, 2))));
		json_object_set_new(o, "confirmed_flush_lsn", json_string(PQgetvalue(res, 0, 3)));
		json_object_set_new(o, "restart_lsn", json_string(PQgetvalue(res, 0, 4)));
		json_object_set_new(o, "current_lsn", json_string(PQgetvalue(res, 0, 5)));
		json_object_set_new(o, "lag_bytes", json_integer(atoll(PQgetvalue(res, 0, 6))));
		json_object_set_new(o, "retained_wal_bytes", json_integer(atoll(PQgetvalue(res, 0, 7))));
		json_object_set_new(o, "wal_status", PQgetisnull(res, 0, 8) ? json_null()
		                    : json_string(PQgetvalue(res, 0, 8)));
		json_object_set_new(o, "safe_wal_size", PQgetisnull(res, 0, 9) ? json_null()
		                    : json_integer(atoll(PQgetvalue(res, 0, 9))));
		json_object_set_new(o, "max_slot_wal_keep_size", PQgetisnull(res, 0, 10) ? json_null()
		                    : json_integer(atoll(PQgetvalue(res, 0, 10))));
		json_object_set_new(o, "invalidation_reason", PQgetisnull(res, 0, 12) ? json_null()
		                    : json_string(PQgetvalue(res, 0, 12)));
		json_object_set_new(o, "failover", PQgetisnull(res, 0, 13) ? json_null()
		                    : json_boolean(PQgetvalue(res, 0, 13)[0] == 't'));
		json_object_set_new(o, "server_version", json_string(pg_version_str(aux)));
		json_object_set_new(o, "server_version_num", json_integer(PQserverVersion(aux)));
		monitor_state_json(&ms, o, snap, alerts);
		json_object_set_new(o, "snapshot", snap);
		json_object_set_new(o, "alerts", alerts);
		s = json_dumps(o, JSON_COMPACT);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		printf("slot                    %s (%s, database %s)\n", cfg->source.slot,
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 11));
		printf("active                  %s", PQgetvalue(res, 0, 1)[0] == 't' ? "yes" : "no");
		if (PQgetvalue(res, 0, 1)[0] == 't')
			printf(" (pid %s)", PQgetvalue(res, 0, 2));
		printf("\nconfirmed_flush_lsn     %s\n", PQgetvalue(res, 0, 3));
		printf("restart_lsn             %s\n", PQgetvalue(res, 0, 4));
		printf("current_lsn             %s\n", PQgetvalue(res, 0, 5));
		printf("lag_bytes               %s\n", PQgetvalue(res, 0, 6));
		printf("retained_wal_bytes      %s\n", PQgetvalue(res, 0, 7));
		printf("wal_status              %s\n", PQgetisnull(res, 0, 8) ? "- (PostgreSQL 13+)"
		       : PQgetvalue(res, 0, 8));
		if (!PQgetisnull(res, 0, 12))
			printf("invalidation_reason     %s (%s)\n", PQgetvalue(res, 0, 12),
			       pg_invalidation_text(PQgetvalue(res, 0, 12)));
		printf("safe_wal_size           %s\n", PQgetisnull(res, 0, 9) ? "unlimited"
		       : PQgetvalue(res, 0, 9));
		printf("max_slot_wal_keep_size  %s\n", PQgetisnull(res, 0, 10) ?
		       "- (PostgreSQL 13+)" : PQgetvalue(res, 0, 10));
		printf("failover                %s\n", PQgetisnull(res, 0, 13) ? "- (PostgreSQL 17+)"
		       : PQgetvalue(res, 0, 13)[0] == 't' ? "on" : "off");
		printf("server_version          %s\n", pg_version_str(aux));
		monitor_state_print(&ms);
	}
	PQclear(res);
	status = 0;
out:
	json_decref(ms.o);
	PQfinish(aux);
	return status;
}

int
admin_drop_slot(const struct cfg *cfg)
{
	struct cdc_err err = { 0 };
	const char *pp[1] = { cfg->source.slot };
	struct pg_slot slot;
	PGconn *aux;
	PGresult *res;
	char path[4096];
	int status = 1;

	aux = pg_connect(cfg->source.conninfo, false, &err);
	if (aux == NULL) {
		log_error("drop-slot", "%s", err.msg);
		return 1;
	}
	if (pg_slot_info(aux, cfg->source.slot, &slot, &err) != 0) {
		log_error("drop-slot", "%s", err.msg);
		goto out;
	}
	if (!slot.exists) {
		log_info("drop-slot", "slot \"%s\" does not exist; nothing to drop", cfg->source.slot);
		status = 0;
		goto out;
	}
	if (slot.active) {
		log_error("drop-slot", "slot \"%s\" is in use by process %d: stop the agent first",
		          cfg->source.slot, slot.active_pid);
		goto out;
	}
	res = pg_query(aux, "dropping the slot", "SELECT pg_drop_replication_slot($1)", 1, pp, &err);
	if (res == NULL) {
		log_error("drop-slot", "%s", err.msg);
		goto out;
	}
	PQclear(res);
	snprintf(path, sizeof(path), "%s/%s.lsn", cfg->source.state_dir, cfg->source.slot);
	unlink(path);
	log_info("drop-slot", "dropped replication slot \"%s\" (it had confirmed up to " CDC_LSN_FMT
	         "); the server no longer retains WAL for it", cfg->source.slot,
	         CDC_LSN_ARGS(slot.confirmed_flush));
	status = 0;
out:
	PQfinish(aux);
	return status;
}
