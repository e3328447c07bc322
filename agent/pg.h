/*
 * pg.h — libpq helpers: connections with pgcdc's session settings, catalog
 * queries on an ordinary connection, and the pieces of the replication protocol.
 *
 * Every connection pgcdc opens sets DateStyle=ISO, IntervalStyle=iso_8601,
 * TimeZone=UTC, extra_float_digits=1 and bytea_output=hex, so the text output of
 * values (which pgoutput produces in the walsender with these settings) has one
 * known shape whatever the server's defaults are.  The user's own `options` are
 * kept, after ours.
 *
 * Secrets: messages built here name host, port, user and database, never the
 * password; conninfo is only logged through cfg_conninfo_redacted.
 */
#ifndef PGCDC_PG_H
#define PGCDC_PG_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "../decoder/change.h"
#include "../decoder/types.h"
#include "../decoder/relcache.h"

/* Connect; replication: open a logical walsender connection (replication=database).
 * Returns an owned connection or NULL with err set (CDC_ERR_CONN). */
PGconn *pg_connect(const char *conninfo, bool replication, struct cdc_err *err);

/* Send the server's notices on conn through pgcdc's log, at their severity (pg_connect
 * does it for its connections; for one opened otherwise, such as the monitor's). */
void pg_log_notices(PGconn *conn);

/* "host=H port=P user=U dbname=D" of a connection, for messages. */
const char *pg_describe(PGconn *conn, char *buf, size_t cap);

/* Run a query with text parameters; returns an owned result of status TUPLES_OK or
 * COMMAND_OK, or NULL with err set (CDC_ERR_CONN if the connection broke, else
 * CDC_ERR_FATAL).  what names the action for the message. */
PGresult *pg_query(PGconn *conn, const char *what, const char *sql, int nparams,
                   const char *const *params, struct cdc_err *err);

/*
 * PostgreSQL versions (SPEC §9).  pg_replication_slots grew columns over the
 * versions; PG_SLOTS is a derived table with the same columns on every server, NULL
 * where it has none: slot_name, plugin, slot_type, database, active, active_pid,
 * restart_lsn, confirmed_flush_lsn, wal_status and safe_wal_size (13+),
 * invalidation_reason (17+; on 13-16 derived: "wal_removed" when wal_status is lost,
 * "conflicting" for another invalidation on 16: a standby's recovery conflict),
 * failover and synced (17+).
 * Use it as "FROM <pg_slots_sql(version)> s".
 */
const char *pg_slots_sql(int server_version);

/* The server's current WAL position in SQL: on a standby (standby decoding, 16+) the
 * position it has replayed, since pg_current_wal_lsn() fails during recovery. */
#define PG_CURRENT_LSN "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() " \
	"ELSE pg_current_wal_lsn() END)"

/* The pgoutput protocol for a server: configured 1 or 2, or 0 = auto (2 from
 * PostgreSQL 14, which streams in-progress transactions, else 1).  A protocol the
 * server lacks is CDC_ERR_FATAL, saying so. */
int pg_protocol(int configured, int server_version, struct cdc_err *err);

/* Whether the slot is to be a FAILOVER slot (SPEC §9): source.failover (enum
 * cfg_failover: auto, on, off) against the server.  auto is on for a PostgreSQL 17+
 * primary; on elsewhere is CDC_ERR_FATAL (-1).  A standby cannot have one. */
int pg_failover(int configured, int server_version, bool in_recovery, struct cdc_err *err);

/* pg_is_in_recovery() of an ordinary connection: 1, 0, or -1 with err set. */
int pg_in_recovery(PGconn *conn, struct cdc_err *err);

/* What an invalidation_reason means, for messages ("" for an unknown one). */
const char *pg_invalidation_text(const char *reason);

/* "18.4" of a connection, from its server_version parameter. */
const char *pg_version_str(PGconn *conn);

struct pg_slot {
	bool exists;
	char plugin[64];
	char database[64];
	char slot_type[16];
	bool active;
	int active_pid;
	cdc_lsn confirmed_flush;
	cdc_lsn restart_lsn;
	char wal_status[16];
	long long safe_wal_size;    /* -1 when NULL */
	char invalidation_reason[32]; /* "" = valid (see pg_slots_sql) */
	int failover;               /* 1 / 0; -1 before PostgreSQL 17 */
};

/* The reason the server invalidated the slot (its invalidation_reason, or
 * "wal_removed" for wal_status lost without one), or NULL for a valid slot. */
const char *pg_slot_invalidated(const struct pg_slot *s);

/* Read the slot's row of pg_replication_slots. */
int pg_slot_info(PGconn *conn, const char *slot, struct pg_slot *out, struct cdc_err *err);

/* Register every type the relation's columns use that the registry does not know
 * (domains to their base types, arrays to their elements), from pg_type. */
struct hist;
int pg_load_types(PGconn *conn, struct cdc_types *types, struct hist *hist,
                  const struct cdc_rel *rel, struct cdc_err *err);

/* Learn, as of lsn, what decoding the publication's tables will need from the catalog
 * (agent/history.h): the types of their columns, and the primary keys of those whose
 * replica identity is FULL or NOTHING. */
int pg_learn_publication(PGconn *conn, const char *publication, cdc_lsn lsn,
                         struct cdc_types *types, struct hist *hist, struct cdc_err *err);

/* Set rel's record-key columns to the primary key in force for transaction xid at
 * lsn: the catalog's when it is older than xid (and then remembered in hist), else
 * the one hist learned as of lsn.  *guessed: neither was known, the current one was
 * used. */
int pg_load_pk_as_of(PGconn *conn, struct cdc_rel *rel, uint32_t xid, cdc_lsn lsn,
                     struct hist *hist, bool *guessed, struct cdc_err *err);

/* Set rel's record-key columns to its primary key, when it has one. */
int pg_load_pk(PGconn *conn, struct cdc_rel *rel, struct cdc_err *err);

/* Set the notnull flag and the default expression (defexpr) of rel's columns from
 * the catalog as it is now: the Debezium profile gives a NOT NULL column without a
 * value its default, and the Kafka Connect schemas of schemas = on say which fields
 * are optional and what their defaults are.  A table dropped since
 * leaves every column nullable, without defaults.  Also the labels of the enums the
 * columns are (types_set_labels; types must know the enum types already). */
int pg_load_column_facts(PGconn *conn, struct cdc_rel *rel, struct cdc_types *types,
                         struct cdc_err *err);

/* Check that every table and column [filter] names exists; the message names
 * the first that does not. */
struct cfg;
int pg_validate_filters(PGconn *conn, const struct cfg *cfg, struct cdc_err *err);

/* Replication protocol (CopyBoth) framing. */
void pg_put64(uint8_t *p, uint64_t v);
uint64_t pg_get64(const uint8_t *p);

/* Microseconds since 2000-01-01 (the protocol's clock). */
int64_t pg_now_pgtime(void);

#endif
