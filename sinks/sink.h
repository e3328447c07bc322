/*
 * sink.h — the interface between the pipeline and every output (stdout, Kafka,
 * Parquet).  The pipeline talks only to this header; adding a sink touches no
 * other module (curl's client writers, Redis's ConnectionType).
 *
 * Protocol, per transaction, in commit order:
 *   begin(txn) -> write(change)* -> commit(txn)
 * or, when the transaction is cut short (connection lost before its Commit),
 *   begin(txn) -> write(change)* -> abort()
 * and the sink must forget the partial transaction: the server resends it whole.
 *
 * Durability: poll(&durable) reports the end LSN up to which every committed
 * transaction is durable in this sink (Kafka: delivery reports; Parquet: file
 * renamed and fsynced; stdout: written and flushed).  The pipeline acknowledges to
 * PostgreSQL the minimum over all sinks.  flush() forces buffered data out (on
 * shutdown and when the pipeline is over max_inflight), it may block.
 *
 * Every callback returns 0, CDC_ERR_AGAIN for temporary trouble (the pipeline
 * keeps the data and retries the same call later: backpressure), or another
 * negative code with err set (fatal: the agent stops without acknowledging).
 * Changes are borrowed: a sink copies whatever it keeps past the call.
 */
#ifndef PGCDC_SINK_H
#define PGCDC_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder/change.h"
#include "../decoder/types.h"

struct cfg;
struct sink;

/* What every sink may need besides the configuration. */
struct sink_env {
	const struct cfg *cfg;
	const struct cdc_types *types;   /* type registry (borrowed, main thread) */
	const char *dbname;              /* source.db */
};

struct sink_ops {
	const char *name;
	/* Whether the configuration enables this sink. */
	bool (*enabled)(const struct cfg *cfg);
	/* Create the instance; returns owned sink or NULL with err set. */
	struct sink *(*open)(const struct sink_env *env, struct cdc_err *err);
	int (*begin)(struct sink *s, const struct cdc_txn *txn, struct cdc_err *err);
	int (*write)(struct sink *s, const struct cdc_change *ch, struct cdc_err *err);
	int (*commit)(struct sink *s, const struct cdc_txn *txn, struct cdc_err *err);
	void (*abort)(struct sink *s);
	/* Report progress without blocking: *durable = end LSN of the newest transaction
	 * such that it and all before it are durable (0 if none yet). */
	int (*poll)(struct sink *s, cdc_lsn *durable, struct cdc_err *err);
	/* Push buffered data out and wait up to timeout_ms for durability. */
	int (*flush)(struct sink *s, int timeout_ms, struct cdc_err *err);
	void (*close)(struct sink *s);   /* NULL-safe; flush first to keep data */
	/* Optional (may be NULL): for `pgcdc check`, verify the sink is reachable and
	 * usable without writing data; fill info with a one-line description. */
	int (*probe)(const struct sink_env *env, char *info, size_t infocap, struct cdc_err *err);
	/* Optional: the highest commit LSN the sink already holds from earlier runs, up
	 * to which it skips what the server resends as replays (0: none).  A position
	 * ahead of the server's WAL end is a gap (SPEC §5): the database was restored or
	 * replaced, or the sink holds data from elsewhere. */
	cdc_lsn (*position)(struct sink *s);
	/* Optional: after an accepted gap (--accept-gap), start a new epoch durably, so
	 * that nothing the server sends from now on is skipped as a replay. */
	int (*new_epoch)(struct sink *s, struct cdc_err *err);
};

/* Every sink instance starts with this header. */
struct sink {
	const struct sink_ops *ops;
	uint64_t records;                /* records written (metrics) */
	uint64_t errors;
};

extern const struct sink_ops sink_stdout_ops;
extern const struct sink_ops sink_null_ops;
extern const struct sink_ops sink_parquet_ops;
extern const struct sink_ops sink_kafka_ops;      /* sinks/kafka.c */

/* Every sink pgcdc knows, NULL-terminated (sinks/registry.c).  Adding a sink means
 * adding its ops there; nothing else changes. */
extern const struct sink_ops *const sink_registry[];

/* Open every enabled sink, in registry order, into out[0..*n).  On failure the
 * ones already opened are closed.  Returns 0 or the failing sink's error. */
int sinks_open(const struct sink_env *env, struct sink **out, int max, int *n,
               struct cdc_err *err);
void sinks_close(struct sink **sinks, int n);

/* The JSON encoder options every JSON-writing sink uses ([format], source.name =
 * topic_prefix, source.db, version). */
struct json_opts;
void sink_json_opts(const struct sink_env *env, struct json_opts *o);

#endif
