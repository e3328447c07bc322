/*
 * monitor.h — the monitor thread (SPEC §6): every monitor.interval it samples the
 * slot and the server over its own ordinary connection, feeds the alert state
 * machine, runs hooks through the hook runner, publishes what it saw for /metrics
 * and writes it to <state_dir>/<slot>.monitor.json for `pgcdc status`.
 *
 * It reads agent state only through stats_read()/stats_foreach_*() and writes
 * none: a monitor that cannot reach the database, or a hook that hangs, never
 * slows the replication thread.
 *
 * Owning thread: monitor_start/monitor_stop belong to main; the sample and the
 * alert states are published under the monitor's mutex (monitor_read, any thread).
 */
#ifndef PGCDC_MONITOR_H
#define PGCDC_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "alerts.h"
#include "../agent/config.h"
#include "../agent/stats.h"

struct json_t;

/* One sample.  has_* = false: that value was NULL or could not be read. */
struct mon_sample {
	int64_t at_ms;                    /* wall clock */
	bool slot_exists;
	cdc_lsn current_lsn;
	bool has_confirmed, has_restart;
	cdc_lsn confirmed_flush_lsn, restart_lsn;
	int64_t lag_bytes;                /* current - confirmed_flush (>= 0) */
	int64_t retained_wal_bytes;       /* current - restart_lsn (>= 0) */
	double lag_seconds;
	bool lag_seconds_lower_bound;     /* confirmed is older than the monitor's history */
	char wal_status[16];              /* reserved | extended | unreserved | lost | "" */
	char invalidation_reason[32];     /* the server's (wal_removed, idle_timeout, ...) | "" */
	bool has_safe_wal_size;
	int64_t safe_wal_size;
	int64_t max_slot_wal_keep_size;   /* bytes; -1 = unlimited */
	bool active;
	int active_pid;
	bool has_write_lag, has_flush_lag, has_replay_lag;   /* pg_stat_replication, seconds */
	double write_lag, flush_lag, replay_lag;
	bool has_slot_stats;              /* pg_stat_replication_slots (PostgreSQL 14+) */
	int64_t spill_txns, spill_count, spill_bytes;
	int64_t stream_txns, stream_count, stream_bytes;
	int64_t total_txns, total_bytes;
	bool has_wal_disk;
	double wal_disk_used_ratio;
	uint64_t wal_disk_size, wal_disk_avail;
	char wal_disk_path[512];
};

/* What /metrics and the state file show. */
struct mon_view {
	bool connected;                   /* the last sampling succeeded */
	bool have_sample;                 /* s holds a sample (the last successful one) */
	struct mon_sample s;
	struct alert_view alerts[ALERT_COUNT];
};

struct monitor;

/* Start the monitor thread, the alert hook runner (when alert_command is set) and
 * the metrics server (when metrics_listen is set).  cfg and stats are borrowed and
 * must outlive the monitor.  Returns owned monitor, or NULL with err set: a
 * metrics_listen address that cannot be bound is CDC_ERR_IO. */
struct monitor *monitor_start(const struct cfg *cfg, struct cdc_stats *stats, struct cdc_err *err);

/* Stop and join everything monitor_start started (a running hook gets the rest of
 * its alert_timeout), then free.  NULL-safe. */
void monitor_stop(struct monitor *m);

/* Copy the published view (any thread). */
void monitor_read(struct monitor *m, struct mon_view *out);

/* The stats the monitor reads (for the metrics server). */
struct cdc_stats *monitor_stats(struct monitor *m);

/* ---- shared with `pgcdc check` and `pgcdc status` ---- */

/* The path whose filesystem holds pg_wal: monitor.wal_disk_path, or, when that is
 * empty and conn goes to this machine (Unix socket or loopback), the server's
 * data_directory + "/pg_wal".  Returns 0 with path filled, or -1 with why filled
 * (unknown: the metric is absent and wal_disk never fires). */
int mon_wal_disk_path(PGconn *conn, const struct cfg *cfg, char *path, size_t cap, char *why,
                      size_t whycap);

/* statfs(2) of path: used / (used + available to unprivileged users), as df shows it.
 * Returns 0, or -1 with err set. */
int mon_wal_disk_usage(const char *path, double *ratio, uint64_t *size, uint64_t *avail,
                       struct cdc_err *err);

/* Path of the state file (<state_dir>/<slot>.monitor.json). */
void mon_state_path(const struct cfg *cfg, char *buf, size_t cap);

/* Load the state file written by a running agent.  Returns owned jansson object or
 * NULL (absent or unreadable; why in err).  *age_ms = now - its written_at_ms. */
struct json_t *mon_state_load(const struct cfg *cfg, int64_t *age_ms, struct cdc_err *err);

/* The alert rules a configuration implies (thresholds in bytes, seconds, ratios). */
void mon_alert_rules(const struct cfg *cfg, struct alert_rules *out);

#endif
