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
 *
 * Configuration: a sink sees its own section (sinks/sink_config.h, named by its
 * ops' `section`) and [format], through struct sink_env; it includes nothing of
 * agent/.  A new sink is one file, its section in sink_config.h (and its keys in
 * agent/config.c), and one registry line.
 */
#ifndef PGCDC_SINK_H
#define PGCDC_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder/change.h"
#include "../decoder/types.h"
#include "sink_config.h"

struct sink;

/* What every sink may need besides the configuration. */
struct sink_env {
	const void *section;                   /* this sink's own section (sinks_open sets it):
	                                        * struct sink_kafka_cfg for Kafka, ... */
	const struct sink_format_cfg *format;  /* [format] */
	const char *source_name;               /* records' source.name ([sink.kafka] topic_prefix) */
	const char *cfg_path;                  /* the configuration file, for messages */
	const struct cdc_types *types;         /* type registry (borrowed, main thread) */
	const char *dbname;                    /* source.db */
};

struct sink_ops {
	const char *name;
	/* Its section: offsetof(struct sink_sections, <member>). */
	size_t section;
	/* Whether its section enables this sink. */
	bool (*enabled)(const void *section);
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

/* A sink's own section of secs. */
static inline const void *
sink_section(const struct sink_sections *secs, const struct sink_ops *ops)
{
	return *(const void *const *) ((const char *) secs + ops->section);
}

/* Open every enabled sink, in registry order, into out[0..*n), each with env and its
 * own section.  On failure the ones already opened are closed.  Returns 0 or the
 * failing sink's error. */
int sinks_open(const struct sink_sections *secs, const struct sink_env *env, struct sink **out,
               int max, int *n, struct cdc_err *err);
void sinks_close(struct sink **sinks, int n);

/* The JSON encoder options every JSON-writing sink uses ([format], source.name =
 * topic_prefix, source.db, version). */
struct json_opts;
void sink_json_opts(const struct sink_env *env, struct json_opts *o);

#endif
