/*
 * sink_config.h — the configuration sinks see: [format] and each sink's own
 * section.  The agent's struct cfg (agent/config.h) embeds these structs and hands
 * each sink only its own section through struct sink_env (sinks/sink.h), so a sink
 * never reads source, filter or monitor settings, nor another sink's.
 */
#ifndef PGCDC_SINK_CONFIG_H
#define PGCDC_SINK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum cfg_kafka_format { CFG_KAFKA_JSON = 0, CFG_KAFKA_PROTOBUF };
enum cfg_compression { CFG_COMP_ZSTD = 0, CFG_COMP_SNAPPY, CFG_COMP_NONE };
/* [format] profile and Debezium's handling modes (the order of json.h's enums) */
enum cfg_profile { CFG_PROFILE_PGCDC = 0, CFG_PROFILE_DEBEZIUM };
enum cfg_decimal_mode { CFG_DECIMAL_PRECISE = 0, CFG_DECIMAL_STRING, CFG_DECIMAL_DOUBLE };
enum cfg_time_mode { CFG_TIME_ADAPTIVE = 0, CFG_TIME_ADAPTIVE_US, CFG_TIME_CONNECT };
enum cfg_interval_mode { CFG_INTERVAL_NUMERIC = 0, CFG_INTERVAL_STRING };
enum cfg_binary_mode { CFG_BINARY_BYTES = 0, CFG_BINARY_BASE64, CFG_BINARY_BASE64_URL,
                       CFG_BINARY_HEX };

/* One `kafka.<property> = value` passthrough. */
struct cfg_kv {
	char *key;            /* librdkafka property name, without the "kafka." prefix */
	char *value;
	int line;             /* where it was set, for error messages; 0 = --set */
};

/* [format]: how records are encoded, by every sink that writes JSON. */
struct sink_format_cfg {
	bool numeric_as_number;            /* numeric = number */
	bool omit_unchanged_toast;         /* unchanged_toast = omit */
	enum cfg_profile profile;          /* pgcdc (SPEC §3) | debezium (§3a) */
	enum cfg_decimal_mode decimal_mode;
	enum cfg_time_mode time_mode;
	enum cfg_interval_mode interval_mode;
	enum cfg_binary_mode binary_mode;
	bool schemas;                      /* schemas = on: Kafka Connect JsonConverter envelopes */
};

/* [sink.kafka] */
struct sink_kafka_cfg {
	bool enabled;                      /* [sink.kafka] present, enabled != off */
	char *brokers;
	char *topic_prefix;
	enum cfg_kafka_format format;
	bool tombstones;
	bool messages;                     /* op "m" records to <topic_prefix>.message */
	bool transaction_topic;            /* BEGIN/END records to <topic_prefix>.transaction */
	int nprops;
	struct cfg_kv *props;              /* kafka.<property> passthrough, in file order */
};

/* [sink.parquet] */
struct sink_parquet_cfg {
	bool enabled;                      /* [sink.parquet] present, enabled != off */
	char *directory;
	enum cfg_compression compression;
	int64_t rotate_rows;
	int64_t rotate_bytes;
	int64_t rotate_interval_ms;
	int64_t row_group_rows;
};

/* [sink.stdout], [sink.null]: nothing but enabled */
struct sink_enabled_cfg {
	bool enabled;
};

/* Every sink's section, as the registry hands them out: a sink's ops name its own
 * by offsetof(struct sink_sections, <member>). */
struct sink_sections {
	const struct sink_enabled_cfg *stdout_sink;
	const struct sink_enabled_cfg *null_sink;      /* a pgcdc extension: encode, discard */
	const struct sink_kafka_cfg *kafka;
	const struct sink_parquet_cfg *parquet;
};

#endif
