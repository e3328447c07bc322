/*
 * config.h — the agent configuration (SPEC §2): parsing, validation, overrides.
 *
 * The file is INI: [section], key = value, '#' comments, values optionally
 * double-quoted, ${NAME} expands an environment variable.  Every key of SPEC §2 is
 * known; unknown keys and sections are errors.  Errors read
 * "FILE:LINE: section.key: why" (overrides: "--set: section.key: why"; syntax
 * errors without a key "FILE:LINE: why"; file-wide ones "FILE: why").  Values of
 * conninfo and of keys named *password* / *secret* never appear in messages, nor
 * the value of an ${NAME} expansion.
 *
 * Each [sink.*] section also takes `enabled = on|off` (a pgcdc extension): a sink
 * is enabled iff its section appears (in the file or through any --set key of it)
 * and enabled is not off.
 *
 * The sections sinks read are typed in sinks/sink_config.h and embedded here;
 * cfg_sinks hands each sink its own (sinks never include this header).
 *
 * Owning thread: built by main before any thread starts; read-only afterwards.
 */
#ifndef PGCDC_CONFIG_H
#define PGCDC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder/change.h"
#include "../sinks/sink_config.h"

#define CFG_DEFAULT_PATH "/etc/pgcdc/agent.conf"

enum cfg_create_pub { CFG_PUB_OFF = 0, CFG_PUB_ALL, CFG_PUB_TABLES };
enum cfg_snapshot { CFG_SNAP_INITIAL = 0, CFG_SNAP_NEVER, CFG_SNAP_ALWAYS };
enum cfg_log_level { CFG_LOG_DEBUG = 0, CFG_LOG_INFO, CFG_LOG_WARNING, CFG_LOG_ERROR };
enum cfg_log_format { CFG_LOG_TEXT = 0, CFG_LOG_JSON };
enum cfg_failover { CFG_FAILOVER_AUTO = 0, CFG_FAILOVER_ON, CFG_FAILOVER_OFF };
enum cfg_on_gap { CFG_GAP_STOP = 0, CFG_GAP_BACKFILL };
enum cfg_snapshot_method { CFG_SNAPM_ONLINE = 0, CFG_SNAPM_EXPORTED };

/* A list of strings from a comma-separated value ("a.b, c.d"): items trimmed, empty
 * items dropped. */
struct cfg_list {
	int n;
	char **items;
};

/* Durations are milliseconds, sizes bytes, percentages a ratio 0.0 .. 1.0. */
struct cfg {
	char *path;           /* the file read, for messages */

	struct {
		char *conninfo;       /* secret-bearing: never log it (use cfg_conninfo_redacted) */
		char *slot;
		char *publication;
		enum cfg_create_pub create_publication;
		struct cfg_list tables;
		enum cfg_snapshot snapshot;
		enum cfg_snapshot_method snapshot_method;   /* SPEC §7 */
		int snapshot_workers;     /* 1 .. 64 */
		int protocol;             /* 1 or 2; 0 = auto (2 on PostgreSQL 14+, else 1) */
		enum cfg_failover failover;   /* FAILOVER slots (PostgreSQL 17+); auto = on there */
		enum cfg_on_gap on_gap;
		int64_t status_interval_ms;
		int64_t heartbeat_interval_ms;  /* 0 = off */
		int64_t receive_timeout_ms;     /* nothing from the server this long: reconnect; 0 = off */
		char *state_dir;
		int64_t max_inflight;     /* bytes */
	} source;

	struct {
		int64_t chunk_rows;       /* rows per chunk of an online backfill */
		int64_t max_rate;         /* rows/s over all workers; 0 = unlimited */
	} backfill;

	struct {
		enum cfg_log_level level;
		enum cfg_log_format format;
	} log;

	struct {
		struct cfg_list exclude_columns;   /* schema.table.column */
		struct cfg_list mask_columns;      /* schema.table.column */
		struct cfg_list include_tables;    /* schema.table */
	} filter;

	/* what sinks see (sinks/sink_config.h); cfg_sinks hands each its own section */
	struct sink_format_cfg format;
	struct sink_kafka_cfg kafka;
	struct sink_parquet_cfg parquet;
	struct sink_enabled_cfg stdout_sink;
	struct sink_enabled_cfg null_sink;

	struct {
		int64_t interval_ms;
		int64_t lag_bytes_warning, lag_bytes_critical;
		int64_t lag_seconds_warning_ms, lag_seconds_critical_ms;
		int64_t retained_wal_warning, retained_wal_critical;
		char *wal_disk_path;               /* "" = data_directory if readable */
		double wal_disk_used_warning, wal_disk_used_critical;   /* ratios */
		char *alert_command;               /* "" = none */
		int64_t alert_timeout_ms;
		int64_t alert_repeat_ms;
		char *metrics_listen;              /* "" = off */
	} monitor;
};

/* The sinks' view of c (sinks/sink.h): every sink's section, and in *env the
 * parts of a struct sink_env the configuration gives ([format], the records'
 * source.name, the file name for messages). */
struct sink_env;
void cfg_sinks(const struct cfg *c, struct sink_sections *secs, struct sink_env *env);
/* The same for one sink (tests, tools): *env gets its section too; types and dbname
 * are left as they are. */
struct sink_ops;
void cfg_sink_env(const struct cfg *c, const struct sink_ops *ops, struct sink_env *env);

/* Parse path (NULL = CFG_DEFAULT_PATH) then apply overrides ("section.key=value",
 * noverrides of them, borrowed; the value is read like a file value without
 * comments: quotes, escapes and ${NAME} work; a later one wins), then validate.  Returns an owned cfg, or NULL with err
 * filled ("FILE:LINE: section.key: why").  A missing file is an error unless
 * allow_missing is set (then defaults + overrides are used). */
struct cfg *cfg_load(const char *path, bool allow_missing, char *const *overrides,
                     int noverrides, struct cdc_err *err);

/* Parse from a string (tests); name is used in messages as the file name. */
struct cfg *cfg_load_string(const char *name, const char *text, char *const *overrides,
                            int noverrides, struct cdc_err *err);

void cfg_free(struct cfg *c);

/* Parsers shared with other modules.  Return 0 or -1 (why in err->msg, without
 * location).  Sizes: "64MB", "1GB", "512" (bytes), units B kB MB GB TB 1024-based.
 * Durations: "10s", "5min", "250ms", "1h", "2d", "0"; a bare number is seconds.
 * Percent: "70%" or "0.7". */
int cfg_parse_size(const char *s, int64_t *out, struct cdc_err *err);
int cfg_parse_duration(const char *s, int64_t *out_ms, struct cdc_err *err);
int cfg_parse_percent(const char *s, double *out, struct cdc_err *err);
int cfg_parse_bool(const char *s, bool *out, struct cdc_err *err);

/* Copy conninfo with any password=... value replaced by "********" (keyword form
 * and postgresql:// URIs).  Returns owned string, NULL on OOM. */
char *cfg_conninfo_redacted(const char *conninfo);

#endif
