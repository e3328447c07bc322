/*
 * monitor.c — the monitor thread (see monitor.h).
 *
 * DESIGN: one loop, one sample per monitor.interval.  The thread owns an ordinary
 * libpq connection, used only asynchronously (PQconnectStartParams/PQconnectPoll,
 * PQsendQueryParams + poll) with a 10 s deadline per step and a 100 ms check of the
 * stop flag, so neither an unreachable server nor a hung query can keep the
 * monitor (or pgcdc's shutdown) waiting; a query past its deadline is cancelled.
 * A lost connection is retried at the next sample; failures are logged at most
 * once a minute.  Per sample:
 *
 *   1. one query: pg_current_wal_lsn() (on a standby pg_last_wal_replay_lsn()) and the slot's row of pg_replication_slots
 *      (confirmed_flush_lsn, restart_lsn, wal_status, safe_wal_size, active) and
 *      max_slot_wal_keep_size; then pg_stat_replication for pgcdc's walsender (pid
 *      from stats) and pg_stat_replication_slots (PostgreSQL 14+);
 *   2. statfs(2) of the pg_wal filesystem (monitor.wal_disk_path, or the server's
 *      data_directory/pg_wal when the server is on this machine and readable);
 *   3. lag_seconds from the (time, current LSN) history (lag.h);
 *   4. every alert gets one observation; events are logged (warning: WARNING,
 *      critical: ERROR, resolved: INFO) and queued to the hook runner;
 *   5. the sample and alert states are published for /metrics (under the mutex)
 *      and written atomically (write + rename) to <state_dir>/<slot>.monitor.json,
 *      which `pgcdc status` reads, and from which the next start restores the lag
 *      history (wall-clock times), so lag_seconds includes time pgcdc was down.
 *
 * slot_inactive: the slot exists and was seen inactive at 3 consecutive samples,
 * i.e. throughout 2 intervals, while pgcdc is not taking an exported snapshot (the
 * slot is streamed only after it).  sink_error: a sink reports a stall or failure in
 * stats (evaluated even while the server cannot be reached).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "lag.h"
#include "metrics.h"
#include "../common/log.h"
#include "../agent/pg.h"
#include "../common/clock.h"

#define MON_CONNECT_TIMEOUT_MS 10000
#define MON_QUERY_TIMEOUT_MS 10000
#define MON_LAG_HISTORY 256
#define MON_LOG_EVERY_MS 60000
#define MON_INACTIVE_SAMPLES 3       /* inactive at 3 consecutive samples = 2 intervals */

struct monitor {
	const struct cfg *cfg;
	struct cdc_stats *stats;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;                       /* under mu */
	struct mon_view view;            /* under mu: what /metrics reads */

	/* the monitor thread only */
	PGconn *conn;
	int server_version;
	char database[128];
	bool wal_path_known;
	char wal_path[512];
	char wal_disk_problem[sizeof(((struct cdc_err *) 0)->msg)];      /* last statfs problem logged */
	bool conn_failing;
	int64_t conn_logged_ms;
	bool slot_missing_logged;
	uint64_t gap_seq;         /* the last gap the gap alert has seen */
	struct mon_lag *lag;
	struct alerts *alerts;
	int inactive_samples;
	int64_t inactive_since_ms;
	struct alert_hook *hook;
	struct metrics *metrics;
	char state_path[4200];
};

static bool
stopping(struct monitor *m)
{
	bool s;

	pthread_mutex_lock(&m->mu);
	s = m->stop;
	pthread_mutex_unlock(&m->mu);
	return s;
}

static void
one_line(char *s)
{
	size_t l = strlen(s);

	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

void
mon_alert_rules(const struct cfg *cfg, struct alert_rules *out)
{
	memset(out, 0, sizeof(*out));
	out->warning[ALERT_LAG_BYTES] = (double) cfg->monitor.lag_bytes_warning;
	out->critical[ALERT_LAG_BYTES] = (double) cfg->monitor.lag_bytes_critical;
	out->warning[ALERT_LAG_SECONDS] = (double) cfg->monitor.lag_seconds_warning_ms / 1000.0;
	out->critical[ALERT_LAG_SECONDS] = (double) cfg->monitor.lag_seconds_critical_ms / 1000.0;
	out->warning[ALERT_RETAINED_WAL] = (double) cfg->monitor.retained_wal_warning;
	out->critical[ALERT_RETAINED_WAL] = (double) cfg->monitor.retained_wal_critical;
	out->warning[ALERT_WAL_DISK] = cfg->monitor.wal_disk_used_warning;
	out->critical[ALERT_WAL_DISK] = cfg->monitor.wal_disk_used_critical;
	out->critical[ALERT_SLOT_INACTIVE] = 2.0 * (double) cfg->monitor.interval_ms / 1000.0;
	out->repeat_ms = cfg->monitor.alert_repeat_ms;
	out->slot = cfg->source.slot;
}

/* ------------------------------------------------------------------------ */
/* WAL disk                                                                 */
/* ------------------------------------------------------------------------ */

static bool
host_is_local(PGconn *conn)
{
	const char *host = PQhost(conn), *addr = PQhostaddr(conn);
	const char *h[2] = { host, addr };

	if (host == NULL || host[0] == '\0' || host[0] == '/' || strcmp(host, "localhost") == 0)
		return true;
	for (int i = 0; i < 2; i++) {
		struct in_addr a4;
		struct in6_addr a6;

		if (h[i] == NULL || h[i][0] == '\0')
			continue;
		if (inet_pton(AF_INET, h[i], &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
			return true;
		if (inet_pton(AF_INET6, h[i], &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
	}
	return false;
}

int
mon_wal_disk_usage(const char *path, double *ratio, uint64_t *size, uint64_t *avail,
                   struct cdc_err *err)
{
	struct statfs st;
	uint64_t bs, used, total;

	if (statfs(path, &st) != 0)
		return cdc_errf(err, CDC_ERR_IO, "statfs(%s): %s", path, strerror(errno));
	bs = st.f_frsize > 0 ? (uint64_t) st.f_frsize : (uint64_t) st.f_bsize;
	used = ((uint64_t) st.f_blocks - (uint64_t) st.f_bfree) * bs;
	total = used + (uint64_t) st.f_bavail * bs;
	*ratio = total > 0 ? (double) used / (double) total : 0;
	*size = (uint64_t) st.f_blocks * bs;
	*avail = (uint64_t) st.f_bavail * bs;
	return 0;
}

/* data_directory: the server's setting, NULL when this role may not see it. */
static int
wal_path_from(PGconn *conn, const struct cfg *cfg, const char *data_directory, char *path,
              size_t cap, char *why, size_t whycap)
{
	struct cdc_err err = { 0 };
	double r;
	uint64_t a, b;

	if (cfg->monitor.wal_disk_path[0] != '\0') {
		snprintf(path, cap, "%s", cfg->monitor.wal_disk_path);
		return 0;
	}
	if (!host_is_local(conn)) {
		snprintf(why, whycap, "the server (host %s) is not on this machine: set "
		         "monitor.wal_disk_path to a path on its pg_wal filesystem if that is mounted "
		         "here", PQhost(conn));
		return -1;
	}
	if (data_directory == NULL || data_directory[0] == '\0') {
		snprintf(why, whycap, "role \"%s\" may not read data_directory (it needs "
		         "pg_read_all_settings): set monitor.wal_disk_path", PQuser(conn));
		return -1;
	}
	snprintf(path, cap, "%s/pg_wal", data_directory);
	if (mon_wal_disk_usage(path, &r, &a, &b, &err) != 0) {
		snprintf(why, whycap, "%s: set monitor.wal_disk_path to a readable path on the "
		         "pg_wal filesystem", err.msg);
		return -1;
	}
	return 0;
}

int
mon_wal_disk_path(PGconn *conn, const struct cfg *cfg, char *path, size_t cap, char *why,
                  size_t whycap)
{
	PGresult *res = NULL;
	const char *dd = NULL;
	int rc;

	if (cfg->monitor.wal_disk_path[0] == '\0' && host_is_local(conn)) {
		res = PQexec(conn, "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
			dd = PQgetvalue(res, 0, 0);
	}
	rc = wal_path_from(conn, cfg, dd, path, cap, why, whycap);
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* the connection                                                           */
/* ------------------------------------------------------------------------ */

static PGconn *
mon_connect(struct monitor *m, struct cdc_err *err)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { m->cfg->source.conninfo, "pgcdc monitor", NULL };
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t deadline = mono_ms() + MON_CONNECT_TIMEOUT_MS;
	PGconn *c = PQconnectStartParams(keys, vals, 1);
	char msg[400];

	if (c == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		struct pollfd pfd = { .fd = PQsocket(c),
		                      .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT };
		int64_t left = deadline - mono_ms();
		int r;

		if (stopping(m)) {
			cdc_errf(err, CDC_ERR_CONN, "monitor stopping");
			PQfinish(c);
			return NULL;
		}
		if (left <= 0) {
			cdc_errf(err, CDC_ERR_CONN, "cannot connect to PostgreSQL: no answer within %d s",
			         MON_CONNECT_TIMEOUT_MS / 1000);
			PQfinish(c);
			return NULL;
		}
		r = poll(&pfd, 1, left < 100 ? (int) left : 100);
		if (r > 0 || (r < 0 && errno != EINTR))
			st = PQconnectPoll(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		one_line(msg);
		cdc_errf(err, CDC_ERR_CONN, "cannot connect to PostgreSQL: %s", msg);
		PQfinish(c);
		return NULL;
	}
	pg_log_notices(c);
	return c;
}

/* Run one query asynchronously; cancelled after MON_QUERY_TIMEOUT_MS or on stop.
 * Returns an owned TUPLES_OK result or NULL with err set (CDC_ERR_CONN when the
 * connection broke). */
static PGresult *
mon_query(struct monitor *m, const char *what, const char *sql, int n, const char *const *params,
          struct cdc_err *err)
{
	int64_t deadline = mono_ms() + MON_QUERY_TIMEOUT_MS;
	bool cancelled = false, timed_out = false;
	PGresult *res = NULL, *r;
	char msg[400];

	if (!PQsendQueryParams(m->conn, sql, n, NULL, params, NULL, NULL, 0))
		goto broken;
	while (PQisBusy(m->conn)) {
		struct pollfd pfd = { .fd = PQsocket(m->conn), .events = POLLIN };

		if (!cancelled && (stopping(m) || mono_ms() >= deadline)) {
			PGcancel *cancel = PQgetCancel(m->conn);
			char ebuf[256];

			timed_out = !stopping(m);
			if (cancel != NULL) {
				(void) PQcancel(cancel, ebuf, sizeof(ebuf));
				PQfreeCancel(cancel);
			}
			cancelled = true;
			deadline = mono_ms() + 2000;
		} else if (cancelled && mono_ms() >= deadline) {
			/* the server does not answer even the cancel: drop the connection */
			cdc_errf(err, CDC_ERR_CONN, "%s: no answer from the server", what);
			PQfinish(m->conn);
			m->conn = NULL;
			return NULL;
		}
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			goto broken;
		if (!PQconsumeInput(m->conn))
			goto broken;
	}
	while ((r = PQgetResult(m->conn)) != NULL) {
		if (res == NULL)
			res = r;
		else
			PQclear(r);
	}
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	if (PQstatus(m->conn) != CONNECTION_OK) {
		PQclear(res);
		goto broken;
	}
	{
		const char *pm = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		snprintf(msg, sizeof(msg), "%s", pm ? pm : PQerrorMessage(m->conn));
		one_line(msg);
		cdc_errf(err, CDC_ERR_FATAL, "%s failed: %s%s", what, msg,
		         timed_out ? " (cancelled: no answer within 10 s)" : "");
	}
	PQclear(res);
	return NULL;
broken:
	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(m->conn));
	one_line(msg);
	cdc_errf(err, CDC_ERR_CONN, "%s failed: connection lost: %s", what, msg);
	return NULL;
}

static int
ensure_conn(struct monitor *m)
{
	struct cdc_err err = { 0 };
	int64_t now = mono_ms();

	if (m->conn != NULL && PQstatus(m->conn) == CONNECTION_OK)
		return 0;
	PQfinish(m->conn);
	m->conn = mon_connect(m, &err);
	if (m->conn == NULL) {
		if (!stopping(m) && (!m->conn_failing || now - m->conn_logged_ms >= MON_LOG_EVERY_MS)) {
			log_warning("monitor", "%s; retrying every %" PRId64 " ms (slot lag and WAL alerts "
			            "are not evaluated meanwhile)", err.msg, m->cfg->monitor.interval_ms);
			m->conn_logged_ms = now;
		}
		m->conn_failing = true;
		return -1;
	}
	if (m->conn_failing)
		log_info("monitor", "connected to PostgreSQL again");
	m->conn_failing = false;
	m->server_version = PQserverVersion(m->conn);
	snprintf(m->database, sizeof(m->database), "%s", PQdb(m->conn));
	alert_hook_set_database(m->hook, m->database);

	/* where pg_wal lives: known once per connection */
	{
		PGresult *res = NULL;
		const char *dd = NULL;
		char path[512] = "", why[600] = "";
		bool was_known = m->wal_path_known;

		if (m->cfg->monitor.wal_disk_path[0] == '\0' && host_is_local(m->conn)) {
			res = mon_query(m, "reading data_directory",
			                "SELECT setting FROM pg_settings WHERE name = 'data_directory'", 0,
			                NULL, &err);
			if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
				dd = PQgetvalue(res, 0, 0);
		}
		m->wal_path_known = wal_path_from(m->conn, m->cfg, dd, path, sizeof(path), why,
		                                  sizeof(why)) == 0;
		PQclear(res);
		if (m->wal_path_known && (!was_known || strcmp(path, m->wal_path) != 0))
			log_info("monitor", "measuring the pg_wal filesystem at %s", path);
		else if (!m->wal_path_known && (was_known || m->wal_path[0] == '\0'))
			log_info("monitor", "pg_wal filesystem usage unknown (no wal_disk alert): %s", why);
		snprintf(m->wal_path, sizeof(m->wal_path), "%s", m->wal_path_known ? path : "-");
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* sampling                                                                 */
/* ------------------------------------------------------------------------ */

static int64_t
num(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static int
read_sample(struct monitor *m, const struct stats_view *sv, struct mon_sample *s,
            struct cdc_err *err)
{
	const char *pp[1] = { m->cfg->source.slot };
	char sql[1400];
	struct cdc_err e2 = { 0 };
	PGresult *res;

	/* columns a server lacks are NULL (pg_slots_sql); max_slot_wal_keep_size is 13+ */
	snprintf(sql, sizeof(sql),
	    "SELECT " PG_CURRENT_LSN "::text, s.slot_name IS NOT NULL, "
	    "s.confirmed_flush_lsn::text, s.restart_lsn::text, coalesce(s.wal_status, ''), "
	    "s.safe_wal_size, coalesce(s.active, false), coalesce(s.active_pid, 0), "
	    "pg_size_bytes(current_setting('max_slot_wal_keep_size', true)), "
	    "coalesce(s.invalidation_reason, '') "
	    "FROM (SELECT 1) AS one LEFT JOIN %s s ON s.slot_name = $1",
	    pg_slots_sql(m->server_version));
	res = mon_query(m, "reading the slot", sql, 1, pp, err);
	if (res == NULL)
		return err->code;
	if (PQntuples(res) != 1 || cdc_lsn_parse(PQgetvalue(res, 0, 0), &s->current_lsn) != 0) {
		PQclear(res);
		return cdc_errf(err, CDC_ERR_FATAL, "reading the slot: unexpected result");
	}
	s->slot_exists = PQgetvalue(res, 0, 1)[0] == 't';
	s->has_confirmed = !PQgetisnull(res, 0, 2) &&
	                   cdc_lsn_parse(PQgetvalue(res, 0, 2), &s->confirmed_flush_lsn) == 0;
	s->has_restart = !PQgetisnull(res, 0, 3) &&
	                 cdc_lsn_parse(PQgetvalue(res, 0, 3), &s->restart_lsn) == 0;
	snprintf(s->wal_status, sizeof(s->wal_status), "%s", PQgetvalue(res, 0, 4));
	s->has_safe_wal_size = !PQgetisnull(res, 0, 5);
	s->safe_wal_size = num(res, 5);
	s->active = PQgetvalue(res, 0, 6)[0] == 't';
	s->active_pid = (int) num(res, 7);
	s->max_slot_wal_keep_size = PQgetisnull(res, 0, 8) ? -1 : num(res, 8);
	snprintf(s->invalidation_reason, sizeof(s->invalidation_reason), "%s", PQgetvalue(res, 0, 9));
	PQclear(res);

	if (s->has_confirmed)
		s->lag_bytes = s->current_lsn > s->confirmed_flush_lsn ?
		               (int64_t) (s->current_lsn - s->confirmed_flush_lsn) : 0;
	if (s->has_restart)
		s->retained_wal_bytes = s->current_lsn > s->restart_lsn ?
		                        (int64_t) (s->current_lsn - s->restart_lsn) : 0;
	mon_lag_add(m->lag, s->at_ms, s->current_lsn);
	if (s->has_confirmed)
		s->lag_seconds = mon_lag_seconds(m->lag, s->at_ms, s->confirmed_flush_lsn,
		                                 &s->lag_seconds_lower_bound);

	/* pg_stat_replication: our walsender's lag */
	if (sv->backend_pid > 0) {
		char pid[16];
		const char *p1[1] = { pid };

		snprintf(pid, sizeof(pid), "%d", sv->backend_pid);
		res = mon_query(m, "reading pg_stat_replication",
		                "SELECT extract(epoch FROM write_lag)::float8, "
		                "extract(epoch FROM flush_lag)::float8, "
		                "extract(epoch FROM replay_lag)::float8 "
		                "FROM pg_stat_replication WHERE pid = $1::int", 1, p1, &e2);
		if (res != NULL && PQntuples(res) == 1) {
			s->has_write_lag = !PQgetisnull(res, 0, 0);
			s->has_flush_lag = !PQgetisnull(res, 0, 1);
			s->has_replay_lag = !PQgetisnull(res, 0, 2);
			s->write_lag = s->has_write_lag ? strtod(PQgetvalue(res, 0, 0), NULL) : 0;
			s->flush_lag = s->has_flush_lag ? strtod(PQgetvalue(res, 0, 1), NULL) : 0;
			s->replay_lag = s->has_replay_lag ? strtod(PQgetvalue(res, 0, 2), NULL) : 0;
		}
		PQclear(res);
		if (e2.code == CDC_ERR_CONN || m->conn == NULL)
			return cdc_errf(err, CDC_ERR_CONN, "%s", e2.msg);
		if (e2.code != 0)
			log_debug("monitor", "%s", e2.msg);
		cdc_err_clear(&e2);
	}

	/* pg_stat_replication_slots: the server's spill/stream counters */
	if (m->server_version >= 140000 && s->slot_exists) {
		res = mon_query(m, "reading pg_stat_replication_slots",
		                "SELECT spill_txns, spill_count, spill_bytes, stream_txns, stream_count, "
		                "stream_bytes, total_txns, total_bytes FROM pg_stat_replication_slots "
		                "WHERE slot_name = $1", 1, pp, &e2);
		if (res != NULL && PQntuples(res) == 1) {
			s->has_slot_stats = true;
			s->spill_txns = num(res, 0);
			s->spill_count = num(res, 1);
			s->spill_bytes = num(res, 2);
			s->stream_txns = num(res, 3);
			s->stream_count = num(res, 4);
			s->stream_bytes = num(res, 5);
			s->total_txns = num(res, 6);
			s->total_bytes = num(res, 7);
		}
		PQclear(res);
		if (e2.code == CDC_ERR_CONN || m->conn == NULL)
			return cdc_errf(err, CDC_ERR_CONN, "%s", e2.msg);
		if (e2.code != 0)
			log_debug("monitor", "%s", e2.msg);
	}

	/* the pg_wal filesystem */
	if (m->wal_path_known) {
		struct cdc_err de = { 0 };

		if (mon_wal_disk_usage(m->wal_path, &s->wal_disk_used_ratio, &s->wal_disk_size,
		                       &s->wal_disk_avail, &de) == 0) {
			s->has_wal_disk = true;
			snprintf(s->wal_disk_path, sizeof(s->wal_disk_path), "%s", m->wal_path);
			m->wal_disk_problem[0] = '\0';
		} else if (strcmp(de.msg, m->wal_disk_problem) != 0) {
			log_warning("monitor", "pg_wal filesystem usage unknown: %s", de.msg);
			snprintf(m->wal_disk_problem, sizeof(m->wal_disk_problem), "%s", de.msg);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* alerts                                                                   */
/* ------------------------------------------------------------------------ */

static void
report(struct monitor *m, const struct alert_event *ev)
{
	if (ev->level == ALERT_CRITICAL)
		log_error("monitor", "alert %s critical: %s", ev->name, ev->message);
	else if (ev->level == ALERT_WARNING)
		log_warning("monitor", "alert %s warning: %s", ev->name, ev->message);
	else
		log_info("monitor", "alert %s resolved: %s", ev->name, ev->message);
	alert_hook_fire(m->hook, ev);
}

static void
evaluate(struct monitor *m, const struct mon_sample *s, bool ok, const struct stats_view *sv,
         int64_t now)
{
	struct alert_obs o[ALERT_COUNT];
	struct alert_event ev;

	memset(o, 0, sizeof(o));
	if (ok && s->slot_exists) {
		if (s->has_confirmed) {
			o[ALERT_LAG_BYTES].known = true;
			o[ALERT_LAG_BYTES].value = (double) s->lag_bytes;
			o[ALERT_LAG_SECONDS].known = true;
			o[ALERT_LAG_SECONDS].value = s->lag_seconds;
		}
		if (s->has_restart) {
			o[ALERT_RETAINED_WAL].known = true;
			o[ALERT_RETAINED_WAL].value = (double) s->retained_wal_bytes;
		}
		if (s->wal_status[0] != '\0') {
			struct alert_obs *w = &o[ALERT_WAL_STATUS];

			w->known = true;
			/* an invalidated slot: "lost: <the server's reason>" */
			snprintf(w->text, sizeof(w->text), "%s%s%s", s->wal_status,
			         s->invalidation_reason[0] ? ": " : "", s->invalidation_reason);
			w->level = strcmp(s->wal_status, "extended") == 0 ? ALERT_WARNING :
			           strcmp(s->wal_status, "unreserved") == 0 ||
			           strcmp(s->wal_status, "lost") == 0 ? ALERT_CRITICAL : ALERT_OK;
		}
		if (sv->state == STATS_SNAPSHOTTING) {
			/* the exported snapshot is copied before the slot is streamed: inactive
			 * by design, not an outage */
			m->inactive_samples = 0;
		} else if (!s->active) {
			if (m->inactive_samples++ == 0)
				m->inactive_since_ms = now;
		} else {
			m->inactive_samples = 0;
		}
		o[ALERT_SLOT_INACTIVE].known = true;
		o[ALERT_SLOT_INACTIVE].value = m->inactive_samples > 0 ?
		                               (double) (now - m->inactive_since_ms) / 1000.0 : 0;
		o[ALERT_SLOT_INACTIVE].level = m->inactive_samples >= MON_INACTIVE_SAMPLES ?
		                               ALERT_CRITICAL : ALERT_OK;
		m->slot_missing_logged = false;
	} else if (ok && !m->slot_missing_logged) {
		log_info("monitor", "slot \"%s\" does not exist (yet): slot alerts wait for it",
		         m->cfg->source.slot);
		m->slot_missing_logged = true;
	}
	if (ok && s->has_wal_disk) {
		o[ALERT_WAL_DISK].known = true;
		o[ALERT_WAL_DISK].value = s->wal_disk_used_ratio;
		snprintf(o[ALERT_WAL_DISK].detail, sizeof(o[ALERT_WAL_DISK].detail), "%.*s",
		         (int) sizeof(o[ALERT_WAL_DISK].detail) - 1, s->wal_disk_path);
	}
	{
		struct alert_obs *e = &o[ALERT_SINK_ERROR];
		size_t len = 0;

		e->known = true;
		for (int i = 0; i < sv->nsinks; i++) {
			if (!sv->sinks[i].failing)
				continue;
			if (e->level == ALERT_OK)
				snprintf(e->detail, sizeof(e->detail), "%.*s", (int) sizeof(e->detail) - 1,
				         sv->sinks[i].last_error);
			e->level = ALERT_CRITICAL;
			len += (size_t) snprintf(e->text + len, sizeof(e->text) > len ? sizeof(e->text) - len : 0,
			                         "%s%s", len ? "," : "", sv->sinks[i].name);
			if (len >= sizeof(e->text))
				len = sizeof(e->text) - 1;
		}
		if (sv->spill_failing) {
			/* not a sink, but the same effect: nothing more is read or delivered */
			if (e->level == ALERT_OK)
				snprintf(e->detail, sizeof(e->detail), "%.*s", (int) sizeof(e->detail) - 1,
				         sv->spill_error);
			e->level = ALERT_CRITICAL;
			snprintf(e->text + len, sizeof(e->text) > len ? sizeof(e->text) - len : 0, "%sspill",
			         len ? "," : "");
		}
	}
	o[ALERT_GAP].known = true;
	/* a gap whose backfill ended before this sample still fires (and then resolves) */
	o[ALERT_GAP].level = sv->gap || sv->gap_seq != m->gap_seq ? ALERT_CRITICAL : ALERT_OK;
	m->gap_seq = sv->gap_seq;
	snprintf(o[ALERT_GAP].detail, sizeof(o[ALERT_GAP].detail), "%.*s",
	         (int) sizeof(o[ALERT_GAP].detail) - 1, sv->gap_why);
	for (int i = 0; i < ALERT_COUNT; i++)
		if (alerts_observe(m->alerts, (enum alert_id) i, &o[i], now, &ev) == 1)
			report(m, &ev);
}

/* ------------------------------------------------------------------------ */
/* the state file                                                           */
/* ------------------------------------------------------------------------ */

void
mon_state_path(const struct cfg *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s.monitor.json", cfg->source.state_dir, cfg->source.slot);
}

static json_t *
iso_time(int64_t ms)
{
	char buf[64];
	time_t t = (time_t) (ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));
	return json_string(buf);
}

static json_t *
lsn_json(cdc_lsn lsn)
{
	char buf[32];

	snprintf(buf, sizeof(buf), CDC_LSN_FMT, CDC_LSN_ARGS(lsn));
	return json_string(buf);
}

/* An alert value: a number when the alert is numeric, else a string; "" = null. */
static json_t *
alert_value_json(const char *v, bool numeric)
{
	if (v[0] == '\0')
		return json_null();
	if (!numeric)
		return json_string(v);
	if (strchr(v, '.') != NULL)
		return json_real(strtod(v, NULL));
	return json_integer(strtoll(v, NULL, 10));
}

static void
on_snapshot(void *ctx, const char *table, const struct stats_snap *p)
{
	json_object_set_new(ctx, table, json_pack("{s:s, s:I, s:I, s:I, s:f, s:o}", "state", p->state,
	                                          "rows", (json_int_t) p->rows,
	                                          "estimate", (json_int_t) p->estimate,
	                                          "chunks", (json_int_t) p->chunks,
	                                          "rows_per_s", p->rows_per_s,
	                                          "eta_s", p->eta_s >= 0 ? json_real(p->eta_s)
	                                                                 : json_null()));
}

static json_t *
sample_json(const struct mon_sample *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "at", iso_time(s->at_ms));
	json_object_set_new(o, "slot_exists", json_boolean(s->slot_exists));
	json_object_set_new(o, "current_lsn", lsn_json(s->current_lsn));
	json_object_set_new(o, "confirmed_flush_lsn", s->has_confirmed ?
	                    lsn_json(s->confirmed_flush_lsn) : json_null());
	json_object_set_new(o, "restart_lsn", s->has_restart ? lsn_json(s->restart_lsn) : json_null());
	json_object_set_new(o, "lag_bytes", s->has_confirmed ? json_integer(s->lag_bytes) : json_null());
	json_object_set_new(o, "lag_seconds", s->has_confirmed ? json_real(s->lag_seconds) : json_null());
	json_object_set_new(o, "lag_seconds_lower_bound", json_boolean(s->lag_seconds_lower_bound));
	json_object_set_new(o, "retained_wal_bytes", s->has_restart ?
	                    json_integer(s->retained_wal_bytes) : json_null());
	json_object_set_new(o, "wal_status", json_string(s->wal_status));
	json_object_set_new(o, "safe_wal_size", s->has_safe_wal_size ?
	                    json_integer(s->safe_wal_size) : json_null());
	json_object_set_new(o, "max_slot_wal_keep_size", json_integer(s->max_slot_wal_keep_size));
	json_object_set_new(o, "active", json_boolean(s->active));
	json_object_set_new(o, "active_pid", json_integer(s->active_pid));
	json_object_set_new(o, "write_lag", s->has_write_lag ? json_real(s->write_lag) : json_null());
	json_object_set_new(o, "flush_lag", s->has_flush_lag ? json_real(s->flush_lag) : json_null());
	json_object_set_new(o, "replay_lag", s->has_replay_lag ? json_real(s->replay_lag) : json_null());
	if (s->has_slot_stats)
		json_object_set_new(o, "slot_stats", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "spill_txns", (json_int_t) s->spill_txns, "spill_count", (json_int_t) s->spill_count,
		    "spill_bytes", (json_int_t) s->spill_bytes, "stream_txns", (json_int_t) s->stream_txns,
		    "stream_count", (json_int_t) s->stream_count,
		    "stream_bytes", (json_int_t) s->stream_bytes, "total_txns", (json_int_t) s->total_txns,
		    "total_bytes", (json_int_t) s->total_bytes));
	else
		json_object_set_new(o, "slot_stats", json_null());
	if (s->has_wal_disk)
		json_object_set_new(o, "wal_disk", json_pack("{s:s, s:f, s:I, s:I}", "path",
		    s->wal_disk_path, "used_ratio", s->wal_disk_used_ratio,
		    "size", (json_int_t) s->wal_disk_size, "avail", (json_int_t) s->wal_disk_avail));
	else
		json_object_set_new(o, "wal_disk", json_null());
	return o;
}

static void
write_state(struct monitor *m, const struct mon_view *v, bool running)
{
	char tmp[4300];
	json_t *o = json_object(), *alerts = json_object(), *snap = json_object(), *hist = json_array();
	int64_t now = wall_ms();
	cdc_lsn lsn;
	int64_t first, last;

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "running", json_boolean(running));
	json_object_set_new(o, "written_at_ms", json_integer(now));
	json_object_set_new(o, "written_at", iso_time(now));
	json_object_set_new(o, "interval_ms", json_integer(m->cfg->monitor.interval_ms));
	json_object_set_new(o, "slot", json_string(m->cfg->source.slot));
	json_object_set_new(o, "database", json_string(m->database));
	json_object_set_new(o, "connected", json_boolean(v->connected));
	json_object_set_new(o, "sample", v->have_sample ? sample_json(&v->s) : json_null());
	for (int i = 0; i < ALERT_COUNT; i++) {
		const struct alert_view *a = &v->alerts[i];

		json_object_set_new(alerts, alert_name((enum alert_id) i), json_pack("{s:s, s:o, s:o, s:o}",
		    "state", alert_level_name(a->level),
		    "value", alert_value_json(a->value, a->numeric),
		    "threshold", alert_value_json(a->threshold, a->numeric),
		    "since", iso_time(a->since_ms)));
	}
	json_object_set_new(o, "alerts", alerts);
	stats_foreach_snapshot(m->stats, on_snapshot, snap);
	json_object_set_new(o, "snapshot", snap);
	for (int i = 0; mon_lag_entry(m->lag, i, &lsn, &first, &last) == 0; i++)
		json_array_append_new(hist, json_pack("[o, I, I]", lsn_json(lsn), (json_int_t) first,
		                                      (json_int_t) last));
	json_object_set_new(o, "lag_history", hist);

	snprintf(tmp, sizeof(tmp), "%s.tmp", m->state_path);
	if (json_dump_file(o, tmp, JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0 ||
	    rename(tmp, m->state_path) != 0) {
		static int64_t logged;

		/* ENOENT: state_dir not created yet (the replication thread does that) */
		if (errno != ENOENT && now - logged >= MON_LOG_EVERY_MS) {
			log_warning("monitor", "cannot write %s: %s (pgcdc status will not show alerts)",
			            m->state_path, strerror(errno));
			logged = now;
		}
		unlink(tmp);
	}
	json_decref(o);
}

/* Restore the lag history of a previous run of this slot's agent. */
static void
restore_history(struct monitor *m)
{
	struct cdc_err err = { 0 };
	int64_t age;
	json_t *o = mon_state_load(m->cfg, &age, &err), *hist;
	size_t i;
	json_t *e;

	if (o == NULL)
		return;
	hist = json_object_get(o, "lag_history");
	json_array_foreach(hist, i, e) {
		cdc_lsn lsn;

		if (json_array_size(e) == 3 && json_is_string(json_array_get(e, 0)) &&
		    cdc_lsn_parse(json_string_value(json_array_get(e, 0)), &lsn) == 0)
			mon_lag_restore(m->lag, lsn, json_integer_value(json_array_get(e, 1)),
			                json_integer_value(json_array_get(e, 2)));
	}
	if (mon_lag_entries(m->lag) > 0)
		log_debug("monitor", "restored %d lag history entries from %s", mon_lag_entries(m->lag),
		          m->state_path);
	json_decref(o);
}

json_t *
mon_state_load(const struct cfg *cfg, int64_t *age_ms, struct cdc_err *err)
{
	char path[4200];
	json_error_t jerr;
	json_t *o, *w;

	mon_state_path(cfg, path, sizeof(path));
	o = json_load_file(path, 0, &jerr);
	if (o == NULL) {
		cdc_errf(err, CDC_ERR_IO, "%s: %s", path, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		cdc_errf(err, CDC_ERR_IO, "%s: not a JSON object", path);
		return NULL;
	}
	w = json_object_get(o, "written_at_ms");
	*age_ms = json_is_integer(w) ? wall_ms() - json_integer_value(w) : INT64_MAX;
	return o;
}

/* ------------------------------------------------------------------------ */
/* the thread                                                               */
/* ------------------------------------------------------------------------ */

static void
sample_once(struct monitor *m)
{
	struct mon_sample *s = calloc(1, sizeof(*s));
	struct mon_view *v = calloc(1, sizeof(*v));
	struct stats_view sv;
	struct cdc_err err = { 0 };
	bool ok = false;

	if (s == NULL || v == NULL) {
		free(s);
		free(v);
		return;
	}
	stats_read(m->stats, &sv);
	s->at_ms = wall_ms();
	if (ensure_conn(m) == 0) {
		if (read_sample(m, &sv, s, &err) == 0) {
			ok = true;
		} else if (!stopping(m)) {
			log_warning("monitor", "%s", err.msg);
			if (err.code == CDC_ERR_CONN && m->conn != NULL) {
				PQfinish(m->conn);
				m->conn = NULL;
			}
		}
	}
	evaluate(m, s, ok, &sv, s->at_ms);

	pthread_mutex_lock(&m->mu);
	m->view.connected = ok;
	if (ok) {
		m->view.s = *s;
		m->view.have_sample = true;
	}
	for (int i = 0; i < ALERT_COUNT; i++)
		alerts_view(m->alerts, (enum alert_id) i, &m->view.alerts[i]);
	*v = m->view;
	pthread_mutex_unlock(&m->mu);
	write_state(m, v, true);
	free(s);
	free(v);
}

static void *
mon_main(void *arg)
{
	struct monitor *m = arg;
	int64_t next = mono_ms();

	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		int64_t now;

		pthread_mutex_unlock(&m->mu);
		sample_once(m);
		pthread_mutex_lock(&m->mu);
		now = mono_ms();
		next += m->cfg->monitor.interval_ms;
		if (next < now)
			next = now;
		while (!m->stop && mono_ms() < next) {
			struct timespec ts;

			ts.tv_sec = (time_t) (next / 1000);
			ts.tv_nsec = (long) (next % 1000) * 1000000;
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
		}
	}
	pthread_mutex_unlock(&m->mu);
	{
		struct mon_view *v = malloc(sizeof(*v));

		if (v != NULL) {
			pthread_mutex_lock(&m->mu);
			*v = m->view;
			pthread_mutex_unlock(&m->mu);
			write_state(m, v, false);
			free(v);
		}
	}
	PQfinish(m->conn);
	m->conn = NULL;
	return NULL;
}

static void
mon_free(struct monitor *m)
{
	metrics_stop(m->metrics);
	alert_hook_free(m->hook);
	mon_lag_free(m->lag);
	alerts_free(m->alerts);
	PQfinish(m->conn);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

struct monitor *
monitor_start(const struct cfg *cfg, struct cdc_stats *stats, struct cdc_err *err)
{
	struct monitor *m = calloc(1, sizeof(*m));
	struct alert_rules rules;
	pthread_condattr_t ca;
	sigset_t all, old;
	char hookpath[512] = "";
	int rc;

	if (m == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	m->cfg = cfg;
	m->stats = stats;
	mon_alert_rules(cfg, &rules);
	m->alerts = alerts_new(&rules);
	m->lag = mon_lag_new(MON_LAG_HISTORY);
	if (m->alerts == NULL || m->lag == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		mon_free(m);
		return NULL;
	}
	mon_state_path(cfg, m->state_path, sizeof(m->state_path));
	restore_history(m);
	for (int i = 0; i < ALERT_COUNT; i++)
		alerts_view(m->alerts, (enum alert_id) i, &m->view.alerts[i]);

	/* every thread started here (ours, the hook runner, libmicrohttpd's) blocks all
	 * signals: SIGTERM/SIGINT/SIGHUP reach the replication thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (cfg->monitor.alert_command[0] != '\0') {
		char **argv = alert_argv_split(cfg->monitor.alert_command);

		/* only the path is logged: arguments may carry tokens */
		snprintf(hookpath, sizeof(hookpath), "%s", argv ? argv[0] : "");
		if (argv != NULL && access(argv[0], X_OK) != 0)
			log_warning("monitor", "monitor.alert_command: %s cannot be executed (%s): alert hooks "
			            "will fail until it can", argv[0], strerror(errno));
		alert_argv_free(argv);
		m->hook = alert_hook_new(cfg->monitor.alert_command, cfg->monitor.alert_timeout_ms,
		                         cfg->source.slot, err);
		if (m->hook == NULL)
			goto fail;
	}
	if (cfg->monitor.metrics_listen[0] != '\0') {
		m->metrics = metrics_start(cfg->monitor.metrics_listen, m, err);
		if (m->metrics == NULL)
			goto fail;
	}
	if ((rc = pthread_create(&m->thread, NULL, mon_main, m)) != 0) {
		cdc_errf(err, CDC_ERR_FATAL, "cannot start the monitor thread: %s", strerror(rc));
		goto fail;
	}
	m->thread_started = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("monitor", "watching slot \"%s\" every %" PRId64 " ms%s%s", cfg->source.slot,
	         cfg->monitor.interval_ms, m->hook ? "; alert hook " : "; no alert hook", hookpath);
	return m;
fail:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	mon_free(m);
	return NULL;
}

void
monitor_stop(struct monitor *m)
{
	if (m == NULL)
		return;
	/* the HTTP thread reads the view: stop it first */
	metrics_stop(m->metrics);
	m->metrics = NULL;
	if (m->thread_started) {
		pthread_mutex_lock(&m->mu);
		m->stop = true;
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thread, NULL);
	}
	mon_free(m);
}

void
monitor_read(struct monitor *m, struct mon_view *out)
{
	pthread_mutex_lock(&m->mu);
	*out = m->view;
	pthread_mutex_unlock(&m->mu);
}

struct cdc_stats *
monitor_stats(struct monitor *m)
{
	return m->stats;
}
