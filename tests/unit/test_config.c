/*
 * test_config.c — the configuration module (SPEC §2): the example file, every
 * value type, quoting, ${ENV}, overrides, validation messages (exact location
 * prefixes), secrets never echoed, conninfo redaction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"

#define MB (INT64_C(1) << 20)
#define GB (INT64_C(1) << 30)
#define TB (INT64_C(1) << 40)

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct cfg *
load_ok_ov(const char *text, char *const *ov, int nov)
{
	struct cdc_err err = { 0 };
	struct cfg *c = cfg_load_string("t.conf", text, ov, nov, &err);

	if (c == NULL)
		fail_msg("expected the config to load, got: %s", err.msg);
	assert_int_equal(err.code, 0);
	return c;
}

static struct cfg *
load_ok(const char *text)
{
	return load_ok_ov(text, NULL, 0);
}

/* Loading fails; the message starts with prefix and contains needle. */
static void
expect_err_ov(const char *text, char *const *ov, int nov, const char *prefix, const char *needle)
{
	struct cdc_err err = { 0 };
	struct cfg *c = cfg_load_string("t.conf", text, ov, nov, &err);

	if (c != NULL) {
		cfg_free(c);
		fail_msg("expected an error starting %s, but the config loaded:\n%s", prefix, text);
	}
	assert_int_equal(err.code, CDC_ERR_CONFIG);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fail_msg("message prefix: want \"%s\", got \"%s\"", prefix, err.msg);
	if (needle != NULL && strstr(err.msg, needle) == NULL)
		fail_msg("message lacks \"%s\": \"%s\"", needle, err.msg);
}

static void
expect_err(const char *text, const char *prefix, const char *needle)
{
	expect_err_ov(text, NULL, 0, prefix, needle);
}

/* The message of a failing load, for exact comparisons. */
static const char *
err_of(const char *text, char *const *ov, int nov, struct cdc_err *err)
{
	struct cfg *c;

	memset(err, 0, sizeof(*err));
	c = cfg_load_string("t.conf", text, ov, nov, err);
	if (c != NULL) {
		cfg_free(c);
		fail_msg("expected an error:\n%s", text);
	}
	return err->msg;
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t) n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	return buf;
}

/* agent.conf.example: tests run from the repository root; PGCDC_SRCDIR or the
 * location of this source file also work.  Not finding it is a failure. */
static void
example_path(char *buf, size_t n)
{
	const char *src = getenv("PGCDC_SRCDIR");
	const char *slash;

	if (src != NULL) {
		snprintf(buf, n, "%s/agent.conf.example", src);
		if (access(buf, R_OK) == 0)
			return;
	}
	snprintf(buf, n, "agent.conf.example");
	if (access(buf, R_OK) == 0)
		return;
	slash = strrchr(__FILE__, '/');
	if (slash != NULL) {
		snprintf(buf, n, "%.*s/../../agent.conf.example", (int) (slash - __FILE__), __FILE__);
		if (access(buf, R_OK) == 0)
			return;
	}
	fail_msg("agent.conf.example not found (run from the repository root or set PGCDC_SRCDIR)");
}

static void
assert_defaults_except_sinks(const struct cfg *c)
{
	assert_string_equal(c->source.conninfo, "host=127.0.0.1 port=5432 dbname=app user=pgcdc");
	assert_string_equal(c->source.slot, "pgcdc");
	assert_string_equal(c->source.publication, "pgcdc");
	assert_int_equal(c->source.create_publication, CFG_PUB_OFF);
	assert_int_equal(c->source.tables.n, 0);
	assert_int_equal(c->source.snapshot, CFG_SNAP_INITIAL);
	assert_int_equal(c->source.snapshot_workers, 2);
	assert_int_equal(c->source.snapshot_method, CFG_SNAPM_ONLINE);
	assert_int_equal(c->backfill.chunk_rows, 10000);
	assert_int_equal(c->backfill.max_rate, 0);
	assert_int_equal(c->source.protocol, 0);   /* auto */
	assert_int_equal(c->source.status_interval_ms, 10000);
	assert_int_equal(c->source.receive_timeout_ms, 60000);
	assert_int_equal(c->source.failover, CFG_FAILOVER_AUTO);
	assert_int_equal(c->source.on_gap, CFG_GAP_STOP);
	assert_int_equal(c->source.heartbeat_interval_ms, 0);
	assert_string_equal(c->source.state_dir, "/var/lib/pgcdc");
	assert_int_equal(c->source.max_inflight, 64 * MB);
	assert_int_equal(c->log.level, CFG_LOG_INFO);
	assert_int_equal(c->log.format, CFG_LOG_TEXT);
	assert_int_equal(c->filter.exclude_columns.n, 0);
	assert_int_equal(c->filter.mask_columns.n, 0);
	assert_int_equal(c->filter.include_tables.n, 0);
	assert_false(c->format.numeric_as_number);
	assert_false(c->format.omit_unchanged_toast);
	assert_int_equal(c->format.profile, CFG_PROFILE_PGCDC);
	assert_int_equal(c->format.decimal_mode, CFG_DECIMAL_PRECISE);
	assert_int_equal(c->format.time_mode, CFG_TIME_ADAPTIVE);
	assert_int_equal(c->format.interval_mode, CFG_INTERVAL_NUMERIC);
	assert_int_equal(c->format.binary_mode, CFG_BINARY_BYTES);
	assert_string_equal(c->kafka.brokers, "127.0.0.1:9092");
	assert_string_equal(c->kafka.topic_prefix, "pgcdc");
	assert_int_equal(c->kafka.format, CFG_KAFKA_JSON);
	assert_true(c->kafka.tombstones);
	assert_true(c->kafka.messages);
	assert_false(c->kafka.transaction_topic);
	assert_int_equal(c->kafka.nprops, 0);
	assert_string_equal(c->parquet.directory, "/var/lib/pgcdc/parquet");
	assert_int_equal(c->parquet.compression, CFG_COMP_ZSTD);
	assert_int_equal(c->parquet.rotate_rows, 1000000);
	assert_int_equal(c->parquet.rotate_bytes, 128 * MB);
	assert_int_equal(c->parquet.rotate_interval_ms, 5 * 60 * 1000);
	assert_int_equal(c->parquet.row_group_rows, 100000);
	assert_int_equal(c->monitor.interval_ms, 15000);
	assert_int_equal(c->monitor.lag_bytes_warning, 1 * GB);
	assert_int_equal(c->monitor.lag_bytes_critical, 10 * GB);
	assert_int_equal(c->monitor.lag_seconds_warning_ms, 5 * 60 * 1000);
	assert_int_equal(c->monitor.lag_seconds_critical_ms, 60 * 60 * 1000);
	assert_int_equal(c->monitor.retained_wal_warning, 5 * GB);
	assert_int_equal(c->monitor.retained_wal_critical, 20 * GB);
	assert_string_equal(c->monitor.wal_disk_path, "");
	assert_true(fabs(c->monitor.wal_disk_used_warning - 0.70) < 1e-9);
	assert_true(fabs(c->monitor.wal_disk_used_critical - 0.85) < 1e-9);
	assert_string_equal(c->monitor.alert_command, "");
	assert_int_equal(c->monitor.alert_timeout_ms, 10000);
	assert_int_equal(c->monitor.alert_repeat_ms, 3600 * 1000);
	assert_string_equal(c->monitor.metrics_listen, "127.0.0.1:9752");
}

/* ------------------------------------------------------------------------ */
/* the example file and defaults                                            */
/* ------------------------------------------------------------------------ */

static void
test_example_file(void **state)
{
	static const char *const every_key[] = {
		"conninfo", "slot", "publication", "create_publication", "tables", "snapshot",
		"snapshot_workers", "protocol", "status_interval", "heartbeat_interval", "state_dir",
		"receive_timeout", "failover", "on_gap", "snapshot_method", "chunk_rows", "max_rate",
		"max_inflight", "level", "format", "exclude_columns", "mask_columns",
		"include_tables", "numeric", "unchanged_toast", "profile", "decimal_handling_mode",
		"time_precision_mode", "interval_handling_mode", "binary_handling_mode", "schemas", "brokers", "topic_prefix",
		"tombstones", "messages", "transaction_topic", "kafka.<property>", "directory", "compression", "rotate_rows",
		"rotate_bytes", "rotate_interval", "row_group_rows", "interval",
		"lag_bytes_warning", "lag_bytes_critical", "lag_seconds_warning",
		"lag_seconds_critical", "retained_wal_warning", "retained_wal_critical",
		"wal_disk_path", "wal_disk_used_warning", "wal_disk_used_critical", "alert_command",
		"alert_timeout", "alert_repeat", "metrics_listen", "enabled",
		"[source]", "[log]", "[filter]", "[format]", "[sink.kafka]", "[sink.parquet]",
		"[sink.stdout]", "[monitor]", "[backfill]",
	};
	char path[4096], *ov[] = { "sink.kafka.enabled=on", "sink.parquet.enabled=on" };
	struct cdc_err err = { 0 };
	struct cfg *c;
	char *text;

	example_path(path, sizeof(path));
	c = cfg_load(path, false, NULL, 0, &err);
	if (c == NULL)
		fail_msg("agent.conf.example does not load: %s", err.msg);
	assert_string_equal(c->path, path);
	assert_defaults_except_sinks(c);
	assert_true(c->stdout_sink.enabled);
	assert_false(c->kafka.enabled);
	assert_false(c->parquet.enabled);
	cfg_free(c);

	/* the disabled sinks' documented values are valid once switched on */
	c = cfg_load(path, false, ov, 2, &err);
	if (c == NULL)
		fail_msg("agent.conf.example with every sink on: %s", err.msg);
	assert_true(c->kafka.enabled);
	assert_true(c->parquet.enabled);
	assert_true(c->stdout_sink.enabled);
	assert_defaults_except_sinks(c);
	cfg_free(c);

	/* it documents every key */
	text = read_all(path);
	assert_non_null(text);
	for (size_t i = 0; i < sizeof(every_key) / sizeof(every_key[0]); i++) {
		char pat[128];

		if (every_key[i][0] == '[')
			snprintf(pat, sizeof(pat), "\n%s", every_key[i]);
		else
			snprintf(pat, sizeof(pat), "%s = ", every_key[i]);
		if (strstr(text, pat) == NULL)
			fail_msg("agent.conf.example does not document %s", every_key[i]);
	}
	free(text);
}

static void
test_defaults(void **state)
{
	struct cfg *c = load_ok("[sink.stdout]\n");

	assert_defaults_except_sinks(c);
	assert_true(c->stdout_sink.enabled);
	assert_false(c->kafka.enabled);
	assert_false(c->parquet.enabled);
	assert_string_equal(c->path, "t.conf");
	cfg_free(c);
	cfg_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* value types                                                              */
/* ------------------------------------------------------------------------ */

static void
test_parse_size(void **state)
{
	static const struct { const char *s; int64_t v; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "1B", 1 }, { "1kB", 1024 }, { "64MB", 64 * MB },
		{ "1GB", GB }, { "2TB", 2 * TB }, { " 8 MB ", 8 * MB }, { "1.5GB", GB + GB / 2 },
		{ "0.5kB", 512 },
	};
	static const char *const bad[] = {
		"12XB", "1mb", "1KB", "1kb", "MB", "", " ", "1 2MB", "1MB2", "1e3", "0x10",
	};
	struct cdc_err err = { 0 };
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cdc_err_clear(&err);
		if (cfg_parse_size(ok[i].s, &v, &err) != 0)
			fail_msg("size \"%s\": %s", ok[i].s, err.msg);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cdc_err_clear(&err);
		v = 42;
		if (cfg_parse_size(bad[i], &v, &err) == 0)
			fail_msg("size \"%s\" accepted", bad[i]);
		assert_int_equal(v, 42);
		assert_non_null(strstr(err.msg, "is not a size (use B, kB, MB, GB or TB)"));
	}
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_size("12XB", &v, &err), -1);
	assert_string_equal(err.msg, "\"12XB\" is not a size (use B, kB, MB, GB or TB)");
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_size("-1MB", &v, &err), -1);
	assert_non_null(strstr(err.msg, "must not be negative"));
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_size("8388608TB", &v, &err), -1);   /* 2^63 */
	assert_string_equal(err.msg, "\"8388608TB\" is too large");
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_size("99999999999999999999999", &v, &err), -1);
	assert_non_null(strstr(err.msg, "is too large"));
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_size("8388607TB", &v, &err), 0);
	assert_int_equal(v, INT64_C(8388607) * TB);
}

static void
test_parse_duration(void **state)
{
	static const struct { const char *s; int64_t ms; } ok[] = {
		{ "0", 0 }, { "10", 10000 }, { "250ms", 250 }, { "10s", 10000 }, { "5min", 300000 },
		{ "1h", 3600000 }, { "2d", 172800000 }, { "1.5s", 1500 }, { " 3 min ", 180000 },
		{ "0s", 0 },
	};
	static const char *const bad[] = {
		"5m", "10sec", "1H", "abc", "", "s", "1 h x", "1Min", "10 seconds",
	};
	struct cdc_err err = { 0 };
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cdc_err_clear(&err);
		if (cfg_parse_duration(ok[i].s, &v, &err) != 0)
			fail_msg("duration \"%s\": %s", ok[i].s, err.msg);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cdc_err_clear(&err);
		if (cfg_parse_duration(bad[i], &v, &err) == 0)
			fail_msg("duration \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err.msg, "is not a duration (use ms, s, min, h or d)"));
	}
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_duration("5m", &v, &err), -1);
	assert_string_equal(err.msg, "\"5m\" is not a duration (use ms, s, min, h or d)");
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_duration("-1s", &v, &err), -1);
	assert_non_null(strstr(err.msg, "must not be negative"));
}

static void
test_parse_percent(void **state)
{
	static const struct { const char *s; double r; } ok[] = {
		{ "70%", 0.70 }, { "0.7", 0.70 }, { "0", 0.0 }, { "0%", 0.0 }, { "100%", 1.0 },
		{ "1", 1.0 }, { "85.5%", 0.855 }, { " 50 % ", 0.5 }, { ".25", 0.25 },
	};
	static const char *const bad[] = { "170%", "1.5", "abc", "70%%", "", "%", "-5%", "70 percent" };
	struct cdc_err err = { 0 };
	double v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cdc_err_clear(&err);
		if (cfg_parse_percent(ok[i].s, &v, &err) != 0)
			fail_msg("percent \"%s\": %s", ok[i].s, err.msg);
		if (fabs(v - ok[i].r) > 1e-9)
			fail_msg("percent \"%s\" = %g, want %g", ok[i].s, v, ok[i].r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cdc_err_clear(&err);
		if (cfg_parse_percent(bad[i], &v, &err) == 0)
			fail_msg("percent \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err.msg, "is not a percentage"));
	}
	cdc_err_clear(&err);
	assert_int_equal(cfg_parse_percent("170%", &v, &err), -1);
	assert_non_null(strstr(err.msg, "above 100%"));
}

static void
test_parse_bool(void **state)
{
	static const char *const yes[] = { "on", "true", "yes", "1", "ON", "True" };
	static const char *const no[] = { "off", "false", "no", "0", "OFF", "No" };
	static const char *const bad[] = { "maybe", "", "2", "enable", "o" };
	struct cdc_err err = { 0 };
	bool b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(cfg_parse_bool(yes[i], &b, &err), 0);
		assert_true(b);
		b = true;
		assert_int_equal(cfg_parse_bool(no[i], &b, &err), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cdc_err_clear(&err);
		assert_int_equal(cfg_parse_bool(bad[i], &b, &err), -1);
		assert_non_null(strstr(err.msg, "is not a boolean (use on/off, true/false, yes/no or 1/0)"));
	}
}

static void
test_every_key_set(void **state)
{
	static const char text[] =
		"[source]\n"
		"conninfo = host=db.example port=6432 dbname=shop user=cdc\n"
		"slot = shop_cdc_1\n"
		"publication = shop_pub\n"
		"create_publication = tables\n"
		"tables = public.orders, sales.\"Line Items\" , ,public.x\n"
		"snapshot = always\n"
		"on_gap = backfill\n"
		"snapshot_method = online\n"
		"snapshot_workers = 64\n"
		"protocol = 1\n"
		"status_interval = 1s\n"
		"heartbeat_interval = 30s\n"
		"state_dir = /srv/pgcdc\n"
		"max_inflight = 1MB\n"
		"[backfill]\n"
		"chunk_rows = 500\n"
		"max_rate = 2500\n"
		"[log]\n"
		"level = debug\n"
		"format = json\n"
		"[filter]\n"
		"exclude_columns = public.users.password_hash\n"
		"mask_columns = public.users.email, public.users.phone\n"
		"include_tables = public.orders\n"
		"[format]\n"
		"numeric = number\n"
		"unchanged_toast = omit\n"
		"[sink.kafka]\n"
		"brokers = k1:9092,k2:9092\n"
		"topic_prefix = shop-cdc\n"
		"format = protobuf\n"
		"tombstones = off\n"
		"kafka.security.protocol = SASL_SSL\n"
		"kafka.acks = all\n"
		"kafka.enable.idempotence = true\n"
		"[sink.parquet]\n"
		"directory = /data/parquet\n"
		"compression = snappy\n"
		"rotate_rows = 10\n"
		"rotate_bytes = 1kB\n"
		"rotate_interval = 250ms\n"
		"row_group_rows = 5\n"
		"[sink.stdout]\n"
		"enabled = off\n"
		"[monitor]\n"
		"interval = 1min\n"
		"lag_bytes_warning = 2GB\n"
		"lag_bytes_critical = 2GB\n"
		"lag_seconds_warning = 30s\n"
		"lag_seconds_critical = 2h\n"
		"retained_wal_warning = 100MB\n"
		"retained_wal_critical = 1TB\n"
		"wal_disk_path = /var/lib/postgresql/15/main/pg_wal\n"
		"wal_disk_used_warning = 0.5\n"
		"wal_disk_used_critical = 95%\n"
		"alert_command = /usr/lib/pgcdc/alert-mail\n"
		"alert_timeout = 3s\n"
		"alert_repeat = 0\n"
		"metrics_listen = [::1]:9100\n";
	struct cfg *c = load_ok(text);

	assert_string_equal(c->source.conninfo, "host=db.example port=6432 dbname=shop user=cdc");
	assert_string_equal(c->source.slot, "shop_cdc_1");
	assert_string_equal(c->source.publication, "shop_pub");
	assert_int_equal(c->source.create_publication, CFG_PUB_TABLES);
	assert_int_equal(c->source.tables.n, 3);
	assert_string_equal(c->source.tables.items[0], "public.orders");
	assert_string_equal(c->source.tables.items[1], "sales.\"Line Items\"");
	assert_string_equal(c->source.tables.items[2], "public.x");
	assert_int_equal(c->source.snapshot, CFG_SNAP_ALWAYS);
	assert_int_equal(c->source.on_gap, CFG_GAP_BACKFILL);
	assert_int_equal(c->source.snapshot_method, CFG_SNAPM_ONLINE);
	assert_int_equal(c->backfill.chunk_rows, 500);
	assert_int_equal(c->backfill.max_rate, 2500);
	assert_int_equal(c->source.snapshot_workers, 64);
	assert_int_equal(c->source.protocol, 1);
	assert_int_equal(c->source.status_interval_ms, 1000);
	assert_int_equal(c->source.heartbeat_interval_ms, 30000);
	assert_string_equal(c->source.state_dir, "/srv/pgcdc");
	assert_int_equal(c->source.max_inflight, MB);
	assert_int_equal(c->log.level, CFG_LOG_DEBUG);
	assert_int_equal(c->log.format, CFG_LOG_JSON);
	assert_int_equal(c->filter.exclude_columns.n, 1);
	assert_string_equal(c->filter.exclude_columns.items[0], "public.users.password_hash");
	assert_int_equal(c->filter.mask_columns.n, 2);
	assert_string_equal(c->filter.mask_columns.items[1], "public.users.phone");
	assert_int_equal(c->filter.include_tables.n, 1);
	assert_true(c->format.numeric_as_number);
	assert_true(c->format.omit_unchanged_toast);
	assert_true(c->kafka.enabled);
	assert_string_equal(c->kafka.brokers, "k1:9092,k2:9092");
	assert_string_equal(c->kafka.topic_prefix, "shop-cdc");
	assert_int_equal(c->kafka.format, CFG_KAFKA_PROTOBUF);
	assert_false(c->kafka.tombstones);
	assert_int_equal(c->kafka.nprops, 3);
	assert_string_equal(c->kafka.props[0].key, "security.protocol");
	assert_string_equal(c->kafka.props[0].value, "SASL_SSL");
	assert_int_equal(c->kafka.props[0].line, 34);
	assert_string_equal(c->kafka.props[1].key, "acks");
	assert_string_equal(c->kafka.props[2].key, "enable.idempotence");
	assert_true(c->parquet.enabled);
	assert_string_equal(c->parquet.directory, "/data/parquet");
	assert_int_equal(c->parquet.compression, CFG_COMP_SNAPPY);
	assert_int_equal(c->parquet.rotate_rows, 10);
	assert_int_equal(c->parquet.rotate_bytes, 1024);
	assert_int_equal(c->parquet.rotate_interval_ms, 250);
	assert_int_equal(c->parquet.row_group_rows, 5);
	assert_false(c->stdout_sink.enabled);
	assert_int_equal(c->monitor.interval_ms, 60000);
	assert_int_equal(c->monitor.lag_bytes_warning, 2 * GB);
	assert_int_equal(c->monitor.lag_bytes_critical, 2 * GB);
	assert_int_equal(c->monitor.lag_seconds_warning_ms, 30000);
	assert_int_equal(c->monitor.lag_seconds_critical_ms, 7200000);
	assert_int_equal(c->monitor.retained_wal_warning, 100 * MB);
	assert_int_equal(c->monitor.retained_wal_critical, TB);
	assert_string_equal(c->monitor.wal_disk_path, "/var/lib/postgresql/15/main/pg_wal");
	assert_true(fabs(c->monitor.wal_disk_used_warning - 0.5) < 1e-9);
	assert_true(fabs(c->monitor.wal_disk_used_critical - 0.95) < 1e-9);
	assert_string_equal(c->monitor.alert_command, "/usr/lib/pgcdc/alert-mail");
	assert_int_equal(c->monitor.alert_timeout_ms, 3000);
	assert_int_equal(c->monitor.alert_repeat_ms, 0);
	assert_string_equal(c->monitor.metrics_listen, "[::1]:9100");
	cfg_free(c);
}

static void
test_enums_case_and_values(void **state)
{
	struct cfg *c = load_ok("[sink.stdout]\n[source]\ncreate_publication = ALL\n"
	                        "snapshot = Never\n[log]\nlevel = WARNING\n"
	                        "[sink.parquet]\ncompression = none\n[monitor]\nmetrics_listen =\n");

	assert_int_equal(c->source.create_publication, CFG_PUB_ALL);
	assert_int_equal(c->source.snapshot, CFG_SNAP_NEVER);
	assert_int_equal(c->log.level, CFG_LOG_WARNING);
	assert_int_equal(c->parquet.compression, CFG_COMP_NONE);
	assert_string_equal(c->monitor.metrics_listen, "");
	cfg_free(c);
	c = load_ok("[sink.stdout]\n[log]\nlevel = error\n[monitor]\nmetrics_listen = 0.0.0.0:1\n");
	assert_int_equal(c->log.level, CFG_LOG_ERROR);
	assert_string_equal(c->monitor.metrics_listen, "0.0.0.0:1");
	cfg_free(c);
	c = load_ok("[sink.stdout]\n[monitor]\nmetrics_listen = [fe80::1%eth0]:65535\n");
	assert_string_equal(c->monitor.metrics_listen, "[fe80::1%eth0]:65535");
	cfg_free(c);
	c = load_ok("[sink.stdout]\n[monitor]\nmetrics_listen = metrics.internal-host:9752\n");
	cfg_free(c);
	/* the Debezium profile and its modes */
	c = load_ok("[sink.stdout]\n[format]\nprofile = debezium\ndecimal_handling_mode = string\n"
	            "time_precision_mode = adaptive_time_microseconds\ninterval_handling_mode = string\n"
	            "binary_handling_mode = base64-url-safe\n");
	assert_int_equal(c->format.profile, CFG_PROFILE_DEBEZIUM);
	assert_int_equal(c->format.decimal_mode, CFG_DECIMAL_STRING);
	assert_int_equal(c->format.time_mode, CFG_TIME_ADAPTIVE_US);
	assert_int_equal(c->format.interval_mode, CFG_INTERVAL_STRING);
	assert_int_equal(c->format.binary_mode, CFG_BINARY_BASE64_URL);
	cfg_free(c);
	c = load_ok("[sink.stdout]\n[format]\ndecimal_handling_mode = double\n"
	            "time_precision_mode = connect\nbinary_handling_mode = hex\n");
	assert_int_equal(c->format.profile, CFG_PROFILE_PGCDC);
	assert_int_equal(c->format.decimal_mode, CFG_DECIMAL_DOUBLE);
	assert_int_equal(c->format.time_mode, CFG_TIME_CONNECT);
	assert_int_equal(c->format.binary_mode, CFG_BINARY_HEX);
	cfg_free(c);
	/* schemas = on: Debezium's schemas, of JSON records */
	c = load_ok("[sink.stdout]\n[format]\nprofile = debezium\nschemas = on\n");
	assert_true(c->format.schemas);
	cfg_free(c);
	expect_err("[sink.stdout]\n[format]\nschemas = on\n", "t.conf:3: format.schemas: ",
	           "needs profile = debezium");
	expect_err("[sink.kafka]\nbrokers = k:9092\nformat = protobuf\n[format]\nprofile = debezium\n"
	           "schemas = on\n", "t.conf:6: format.schemas: ", "sink.kafka.format is protobuf");
	expect_err("[sink.stdout]\n[format]\nprofile = confluent\n", "t.conf:3: format.profile: ",
	           "pgcdc or debezium");
	expect_err("[sink.stdout]\n[format]\ntime_precision_mode = micro\n",
	           "t.conf:3: format.time_precision_mode: ", "adaptive, adaptive_time_microseconds or connect");
}

/* ------------------------------------------------------------------------ */
/* syntax: quoting, escapes, comments, whitespace                           */
/* ------------------------------------------------------------------------ */

static void
test_quoting_and_comments(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF# leading comment, after a UTF-8 BOM\n"
		"   # indented comment\n"
		"\n"
		"[ source ]   # header comment\r\n"
		"conninfo = \"host=h password='a b\\'c' dbname=x\"   # inline after quotes\n"
		"state_dir=/s1#not_a_comment\n"
		"publication =   \"p # not a comment\"\n"
		"[sink.parquet]\n"
		"directory = \"  spaced \\\"quoted\\\" back\\\\slash \"\n"
		"[source]\n"
		"tables =     # only a comment: empty\n"
		"[sink.stdout]\n"
		"[monitor]\n"
		"alert_command = /bin/alert#1 # the hook\t\n"
		"wal_disk_path = \"\"\n"
		"metrics_listen = \"127.0.0.1:9000\"#tight comment\n"
		"\t  interval\t=\t20s\t\r\n";
	struct cfg *c = load_ok(text);

	assert_string_equal(c->source.conninfo, "host=h password='a b\\'c' dbname=x");
	assert_string_equal(c->source.state_dir, "/s1#not_a_comment");
	assert_string_equal(c->source.publication, "p # not a comment");
	assert_string_equal(c->parquet.directory, "  spaced \"quoted\" back\\slash ");
	assert_int_equal(c->source.tables.n, 0);
	assert_string_equal(c->monitor.alert_command, "/bin/alert#1");
	assert_string_equal(c->monitor.wal_disk_path, "");
	assert_string_equal(c->monitor.metrics_listen, "127.0.0.1:9000");
	assert_int_equal(c->monitor.interval_ms, 20000);
	cfg_free(c);

	/* a file without a final newline; a repeated section header merges */
	c = load_ok("[source]\nslot = a\n[sink.stdout]\n[source]\npublication = b");
	assert_string_equal(c->source.slot, "a");
	assert_string_equal(c->source.publication, "b");
	cfg_free(c);
}

static void
test_env_expansion(void **state)
{
	struct cfg *c;
	struct cdc_err err;

	setenv("PGCDC_T_HOST", "db1", 1);
	setenv("PGCDC_T_PW", "s3cr#t \"x\"", 1);
	setenv("PGCDC_T_SIZE", "2GB", 1);
	setenv("PGCDC_T_EMPTY", "", 1);
	setenv("PGCDC_T_BAD", "12XB-envvalue", 1);
	c = load_ok("[source]\n"
	            "conninfo = host=${PGCDC_T_HOST} user=u # comment\n"
	            "slot = x${PGCDC_T_EMPTY}y\n"
	            "state_dir = \"/a/${PGCDC_T_HOST}/b \\${NOT_EXPANDED} $ {x} $x\"\n"
	            "[monitor]\n"
	            "lag_bytes_warning = ${PGCDC_T_SIZE}\n"
	            "[sink.kafka]\n"
	            "kafka.sasl.password = ${PGCDC_T_PW}\n");
	assert_string_equal(c->source.conninfo, "host=db1 user=u");
	assert_string_equal(c->source.slot, "xy");
	assert_string_equal(c->source.state_dir, "/a/db1/b ${NOT_EXPANDED} $ {x} $x");
	assert_int_equal(c->monitor.lag_bytes_warning, 2 * GB);
	/* an expanded value is taken verbatim: its '#' and quotes are not syntax */
	assert_int_equal(c->kafka.nprops, 1);
	assert_string_equal(c->kafka.props[0].value, "s3cr#t \"x\"");
	cfg_free(c);

	unsetenv("PGCDC_T_UNDEFINED");
	expect_err("[sink.stdout]\n[source]\nconninfo = \"host=x password=${PGCDC_T_UNDEFINED}\"\n",
	           "t.conf:3: source.conninfo: ", "environment variable \"PGCDC_T_UNDEFINED\" is not set");
	expect_err("[sink.stdout]\n[source]\nslot = ${PGCDC_T_HOST\n",
	           "t.conf:3: source.slot: ", "unterminated \"${\"");
	expect_err("[sink.stdout]\n[source]\nslot = ${1ABC}\n",
	           "t.conf:3: source.slot: ", "invalid environment variable name");
	expect_err("[sink.stdout]\n[source]\nslot = ${}\n",
	           "t.conf:3: source.slot: ", "invalid environment variable reference");

	/* a bad expanded value is named by its variable, never shown */
	err_of("[sink.stdout]\n[monitor]\nlag_bytes_warning = ${PGCDC_T_BAD}\n", NULL, 0, &err);
	assert_string_equal(err.msg, "t.conf:3: monitor.lag_bytes_warning: \"${PGCDC_T_BAD}\" "
	                    "(expanded from the environment) is not a size (use B, kB, MB, GB or TB)");
	assert_null(strstr(err.msg, "envvalue"));
	setenv("PGCDC_T_SLOT", "Bad-Slot-envvalue", 1);
	err_of("[sink.stdout]\n[source]\nslot = ${PGCDC_T_SLOT}\n", NULL, 0, &err);
	assert_non_null(strstr(err.msg, "t.conf:3: source.slot: \"${PGCDC_T_SLOT}\""));
	assert_null(strstr(err.msg, "envvalue"));
	setenv("PGCDC_T_TABLES", "a.b, nodot-envvalue", 1);
	err_of("[sink.stdout]\n[source]\ntables = ${PGCDC_T_TABLES}\n", NULL, 0, &err);
	assert_non_null(strstr(err.msg, "t.conf:3: source.tables: item 2 of \"${PGCDC_T_TABLES}\""));
	assert_null(strstr(err.msg, "envvalue"));

	/* overrides expand too, so a secret need not sit in argv */
	{
		char *ov[] = { "sink.kafka.kafka.sasl.password=${PGCDC_T_PW}", "sink.stdout.enabled=1" };

		c = load_ok_ov("", ov, 2);
		assert_string_equal(c->kafka.props[0].value, "s3cr#t \"x\"");
		cfg_free(c);
	}
	unsetenv("PGCDC_T_HOST");
	unsetenv("PGCDC_T_PW");
	unsetenv("PGCDC_T_SIZE");
	unsetenv("PGCDC_T_EMPTY");
	unsetenv("PGCDC_T_BAD");
	unsetenv("PGCDC_T_SLOT");
	unsetenv("PGCDC_T_TABLES");
}

static void
test_lists(void **state)
{
	struct cfg *c = load_ok("[sink.stdout]\n[filter]\n"
	                        "include_tables = , a.b,, \"we,ird\".\"t\"\"q\" ,c.d ,\n"
	                        "exclude_columns = \"S\".\"T\".\"C\", s.t.c\n"
	                        "mask_columns = \"a.b.c, \\\"d\\\".e.f\"  # whole value quoted\n");

	assert_int_equal(c->filter.include_tables.n, 3);
	assert_string_equal(c->filter.include_tables.items[0], "a.b");
	assert_string_equal(c->filter.include_tables.items[1], "\"we,ird\".\"t\"\"q\"");
	assert_string_equal(c->filter.include_tables.items[2], "c.d");
	assert_int_equal(c->filter.exclude_columns.n, 2);
	assert_string_equal(c->filter.exclude_columns.items[0], "\"S\".\"T\".\"C\"");
	assert_int_equal(c->filter.mask_columns.n, 2);
	assert_string_equal(c->filter.mask_columns.items[0], "a.b.c");
	assert_string_equal(c->filter.mask_columns.items[1], "\"d\".e.f");
	cfg_free(c);
}

/* ------------------------------------------------------------------------ */
/* overrides and sink enabling                                              */
/* ------------------------------------------------------------------------ */

static void
test_overrides(void **state)
{
	char *ov1[] = {
		"source.slot=other",
		"monitor.lag_bytes_critical = 50GB",
		"sink.kafka.kafka.sasl.password=hunter2",
		"sink.kafka.kafka.security.protocol=SASL_SSL",
		"sink.kafka.topic_prefix=p2",
		"source.tables=\"a.b, c.d\"",
		"source.slot=final_slot",
	};
	char *ov2[] = { "sink.stdout.enabled=on" };
	char *ov3[] = { "sink.parquet.directory=/tmp/pq" };
	char *ov4[] = { "sink.stdout.enabled=off" };
	char *ov5[] = { "sink.kafka.kafka.acks=-1" };
	struct cfg *c;

	c = load_ok_ov("[source]\nslot = s\n[sink.kafka]\nkafka.security.protocol = PLAINTEXT\n",
	               ov1, 7);
	assert_string_equal(c->source.slot, "final_slot");           /* later --set wins */
	assert_int_equal(c->monitor.lag_bytes_critical, 50 * GB);
	assert_true(c->kafka.enabled);
	assert_string_equal(c->kafka.topic_prefix, "p2");
	assert_int_equal(c->kafka.nprops, 2);
	assert_string_equal(c->kafka.props[0].key, "security.protocol");
	assert_string_equal(c->kafka.props[0].value, "SASL_SSL");    /* replaced in place */
	assert_int_equal(c->kafka.props[0].line, 0);
	assert_string_equal(c->kafka.props[1].key, "sasl.password");
	assert_string_equal(c->kafka.props[1].value, "hunter2");
	assert_int_equal(c->source.tables.n, 2);
	assert_string_equal(c->source.tables.items[1], "c.d");
	cfg_free(c);

	/* enabling a sink from the command line alone */
	c = load_ok_ov("[source]\nslot = s\n", ov2, 1);
	assert_true(c->stdout_sink.enabled);
	assert_false(c->kafka.enabled);
	cfg_free(c);
	c = load_ok_ov("", ov3, 1);
	assert_true(c->parquet.enabled);
	assert_string_equal(c->parquet.directory, "/tmp/pq");
	assert_false(c->stdout_sink.enabled);
	cfg_free(c);

	/* ... and disabling one: then nothing is left */
	expect_err_ov("[sink.stdout]\n", ov4, 1, "t.conf: no sink enabled: ",
	              "add [sink.stdout], [sink.kafka] or [sink.parquet]");

	c = load_ok_ov("[sink.stdout]\n", ov5, 1);
	assert_string_equal(c->kafka.props[0].value, "-1");
	assert_true(c->kafka.enabled);
	cfg_free(c);
}

static void
test_override_errors(void **state)
{
	char *bad_size[] = { "monitor.lag_bytes_warning=12XB" };
	char *no_eq[] = { "monitor.interval" };
	char *no_sect[] = { "sinks.kafka.brokers=x" };
	char *no_dot[] = { "slot=x" };
	char *unknown[] = { "source.slott=x" };
	char *acks[] = { "sink.kafka.kafka.acks=1" };
	char *slot[] = { "source.slot=Bad" };
	char *quote[] = { "source.slot=\"abc" };
	struct cdc_err err;

	err_of("[sink.stdout]\n", bad_size, 1, &err);
	assert_string_equal(err.msg, "--set: monitor.lag_bytes_warning: \"12XB\" is not a size "
	                    "(use B, kB, MB, GB or TB)");
	expect_err_ov("[sink.stdout]\n", no_eq, 1, "--set: monitor.interval: ",
	              "expected section.key=value");
	expect_err_ov("[sink.stdout]\n", no_sect, 1, "--set: sinks.kafka.brokers: ", "unknown section");
	expect_err_ov("[sink.stdout]\n", no_dot, 1, "--set: slot: ", "expected section.key=value");
	expect_err_ov("[sink.stdout]\n", unknown, 1, "--set: source.slott: ", "did you mean \"slot\"");
	expect_err_ov("[sink.stdout]\n", acks, 1, "--set: sink.kafka.kafka.acks: ", "weaken delivery");
	expect_err_ov("[sink.stdout]\n", slot, 1, "--set: source.slot: ",
	              "not a valid replication slot name");
	expect_err_ov("[sink.stdout]\n", quote, 1, "--set: source.slot: ", "unterminated quoted value");
}

static void
test_sink_enabled_key(void **state)
{
	struct cfg *c;

	c = load_ok("[sink.kafka]\nenabled = off\n[sink.parquet]\n");
	assert_false(c->kafka.enabled);
	assert_true(c->parquet.enabled);
	assert_false(c->stdout_sink.enabled);
	cfg_free(c);
	c = load_ok("[sink.kafka]\n[sink.stdout]\nenabled = yes\n");
	assert_true(c->kafka.enabled);
	assert_true(c->stdout_sink.enabled);
	assert_false(c->parquet.enabled);
	cfg_free(c);
	/* a disabled kafka sink's empty brokers do not matter */
	c = load_ok("[sink.kafka]\nenabled = off\nbrokers =\n[sink.stdout]\n");
	assert_false(c->kafka.enabled);
	cfg_free(c);
	expect_err("[sink.kafka]\nenabled = 0\n[sink.parquet]\nenabled = false\n",
	           "t.conf: no sink enabled: add [sink.stdout], [sink.kafka] or [sink.parquet]",
	           "enabled = off");
}

static void
test_kafka_passthrough(void **state)
{
	struct cfg *c = load_ok("[sink.kafka]\n"
	                        "kafka.compression.type = zstd\n"
	                        "kafka.request.required.acks = all\n"
	                        "kafka.enable.idempotence = on\n"
	                        "kafka.sasl.oauthbearer.client.secret = \"x y\"\n"
	                        "kafka.linger_ms_is.Fine_9 = 5\n");

	assert_int_equal(c->kafka.nprops, 5);
	assert_string_equal(c->kafka.props[0].key, "compression.type");
	assert_int_equal(c->kafka.props[0].line, 2);
	assert_string_equal(c->kafka.props[3].value, "x y");
	assert_string_equal(c->kafka.props[4].key, "linger_ms_is.Fine_9");
	cfg_free(c);

	expect_err("[sink.kafka]\nkafka.acks = 1\n", "t.conf:2: sink.kafka.kafka.acks: ",
	           "\"1\" would weaken delivery");
	expect_err("[sink.kafka]\nkafka.request.required.acks = 0\n",
	           "t.conf:2: sink.kafka.kafka.request.required.acks: ", "use all or -1");
	expect_err("[sink.kafka]\nkafka.enable.idempotence = false\n",
	           "t.conf:2: sink.kafka.kafka.enable.idempotence: ", "must stay true");
	expect_err("[sink.kafka]\nkafka.enable.idempotence = sometimes\n",
	           "t.conf:2: sink.kafka.kafka.enable.idempotence: ", "is not a boolean");
	expect_err("[sink.kafka]\nkafka.bootstrap.servers = a:1\n",
	           "t.conf:2: sink.kafka.kafka.bootstrap.servers: ", "sink.kafka.brokers");
	expect_err("[sink.kafka]\nkafka.metadata.broker.list = a:1\n",
	           "t.conf:2: sink.kafka.kafka.metadata.broker.list: ", "brokers = HOST:PORT");
	expect_err("[sink.kafka]\nkafka.transactional.id = x\n",
	           "t.conf:2: sink.kafka.kafka.transactional.id: ", "transactions");
	expect_err("[sink.kafka]\nkafka.delivery.report.only.error = true\n",
	           "t.conf:2: sink.kafka.kafka.delivery.report.only.error: ", "delivery report");
	expect_err("[sink.kafka]\nkafka.partitioner = random\n",
	           "t.conf:2: sink.kafka.kafka.partitioner: ", "per-key ordering");
	expect_err("[sink.kafka]\nkafka. = x\n", "t.conf:2: sink.kafka.kafka.: ",
	           "missing librdkafka property name");
	expect_err("[sink.kafka]\nkafka.a-b = x\n", "t.conf:2: sink.kafka.kafka.a-b: ",
	           "invalid librdkafka property name");
	expect_err("[sink.kafka]\nkafka.x = 1\nkafka.x = 2\n", "t.conf:3: sink.kafka.kafka.x: ",
	           "duplicate key (first set on line 2)");
	expect_err("[sink.kafka]\nsasl.username = u\n", "t.conf:2: sink.kafka.sasl.username: ",
	           "kafka.sasl.username");
	/* kafka.* only in [sink.kafka] */
	expect_err("[sink.stdout]\n[source]\nkafka.acks = all\n", "t.conf:3: source.kafka.acks: ",
	           "unknown key");
}

/* ------------------------------------------------------------------------ */
/* malformed inputs: exact location prefix and a meaningful reason          */
/* ------------------------------------------------------------------------ */

struct bad_case {
	const char *text;
	const char *prefix;
	const char *reason;
};

static void
test_malformed(void **state)
{
	static const struct bad_case cases[] = {
		/* unknown key, with a suggestion */
		{ "[sink.stdout]\n[source]\nslott = x\n", "t.conf:3: source.slott: ",
		  "unknown key (did you mean \"slot\"?)" },
		{ "[sink.stdout]\n[monitor]\nfoo = 1\n", "t.conf:3: monitor.foo: ",
		  "unknown key (valid keys: interval, lag_bytes_warning" },
		{ "[sink.stdout]\n[log]\nslot = x\n", "t.conf:3: log.slot: ", "slot belongs in [source]" },
		/* unknown section */
		{ "[sink.stdout]\n\n[sinks.kafka]\n", "t.conf:3: ", "unknown section [sinks.kafka] (known sections: source," },
		/* bad size */
		{ "[sink.stdout]\n[monitor]\nlag_bytes_warning = 12XB\n",
		  "t.conf:3: monitor.lag_bytes_warning: ",
		  "\"12XB\" is not a size (use B, kB, MB, GB or TB)" },
		{ "[sink.stdout]\n[source]\nmax_inflight = 64 mb\n", "t.conf:3: source.max_inflight: ",
		  "is not a size" },
		/* bad duration */
		{ "[sink.stdout]\n[source]\nstatus_interval = 10 sec\n", "t.conf:3: source.status_interval: ",
		  "\"10 sec\" is not a duration (use ms, s, min, h or d)" },
		{ "[sink.stdout]\n[source]\nreceive_timeout = 500ms\n", "t.conf:3: source.receive_timeout: ",
		  "is too short (0 turns it off, else at least 1s)" },
		/* bad percent */
		{ "[sink.stdout]\n[monitor]\nwal_disk_used_warning = 170%\n",
		  "t.conf:3: monitor.wal_disk_used_warning: ", "is not a percentage" },
		/* bad bool */
		{ "[sink.kafka]\ntombstones = maybe\n", "t.conf:2: sink.kafka.tombstones: ",
		  "\"maybe\" is not a boolean (use on/off, true/false, yes/no or 1/0)" },
		/* bad enums */
		{ "[sink.stdout]\n[source]\ncreate_publication = some\n",
		  "t.conf:3: source.create_publication: ", "(use off, all or tables)" },
		{ "[sink.stdout]\n[source]\nsnapshot = initially\n", "t.conf:3: source.snapshot: ",
		  "(use initial, never or always)" },
		{ "[sink.stdout]\n[log]\nlevel = verbose\n", "t.conf:3: log.level: ",
		  "\"verbose\" is not a valid level (use debug, info, warning or error)" },
		{ "[sink.stdout]\n[log]\nformat = xml\n", "t.conf:3: log.format: ", "(use text or json)" },
		{ "[sink.stdout]\n[format]\nnumeric = float\n", "t.conf:3: format.numeric: ",
		  "(use string or number)" },
		{ "[sink.stdout]\n[format]\nunchanged_toast = null\n", "t.conf:3: format.unchanged_toast: ",
		  "(use placeholder or omit)" },
		{ "[sink.kafka]\nformat = avro\n", "t.conf:2: sink.kafka.format: ", "(use json or protobuf)" },
		{ "[sink.parquet]\ncompression = gzip\n", "t.conf:2: sink.parquet.compression: ",
		  "(use zstd, snappy or none)" },
		/* integers */
		{ "[sink.stdout]\n[source]\nsnapshot_workers = two\n", "t.conf:3: source.snapshot_workers: ",
		  "\"two\" is not an integer" },
		{ "[sink.stdout]\n[source]\nsnapshot_workers = 99999999999\n",
		  "t.conf:3: source.snapshot_workers: ", "out of range" },
		/* unterminated quote */
		{ "[sink.stdout]\n[source]\nslot = \"abc\n", "t.conf:3: source.slot: ",
		  "unterminated quoted value (missing closing '\"')" },
		{ "[sink.stdout]\n[source]\nslot = \"abc\\\"\n", "t.conf:3: source.slot: ",
		  "unterminated quoted value" },
		{ "[sink.stdout]\n[source]\nslot = \"abc\" def\n", "t.conf:3: source.slot: ",
		  "unexpected text after the closing quote" },
		/* missing '=' */
		{ "[sink.stdout]\n[source]\nslot pgcdc\n", "t.conf:3: source.slot: ",
		  "missing '=' (write key = value)" },
		{ "[sink.stdout]\n[source]\nslot: pgcdc\n", "t.conf:3: ",
		  "expected \"key = value\", \"[section]\" or a # comment" },
		{ "[sink.stdout]\n[source]\n= pgcdc\n", "t.conf:3: ", "missing key before '='" },
		/* key outside a section */
		{ "# comment\nslot = x\n[sink.stdout]\n", "t.conf:2: slot: ",
		  "key outside a section (add a [section] header" },
		/* section syntax */
		{ "[sink.stdout\n", "t.conf:1: ", "unterminated section header (missing ']')" },
		{ "[sink.stdout] x\n", "t.conf:1: ", "unexpected text after the section header" },
		/* duplicate key */
		{ "[sink.stdout]\n[source]\nslot = a\n\nslot = b\n", "t.conf:5: source.slot: ",
		  "duplicate key (first set on line 3)" },
		{ "[source]\nslot = a\n[sink.stdout]\n[source]\nslot = b\n", "t.conf:5: source.slot: ",
		  "duplicate key (first set on line 2)" },
		/* undefined env var */
		{ "[sink.stdout]\n[monitor]\nalert_command = ${PGCDC_T_NOPE}/x\n",
		  "t.conf:3: monitor.alert_command: ", "environment variable \"PGCDC_T_NOPE\" is not set" },
		/* no sink */
		{ "[source]\nslot = x\n", "t.conf: no sink enabled: ",
		  "add [sink.stdout], [sink.kafka] or [sink.parquet]" },
		{ "", "t.conf: no sink enabled: ", "[sink.stdout]" },
		/* required values */
		{ "[sink.stdout]\n[source]\nconninfo =\n", "t.conf:3: source.conninfo: ", "is required" },
		{ "[sink.stdout]\n[source]\npublication = \"\"\n", "t.conf:3: source.publication: ",
		  "is required" },
		{ "[sink.stdout]\n[source]\nstate_dir =\n", "t.conf:3: source.state_dir: ", "is required" },
		/* bad slot names */
		{ "[sink.stdout]\n[source]\nslot = PgCdc\n", "t.conf:3: source.slot: ",
		  "\"PgCdc\" is not a valid replication slot name (use 1 to 63 lowercase letters, "
		  "digits or underscores)" },
		{ "[sink.stdout]\n[source]\nslot = my-slot\n", "t.conf:3: source.slot: ",
		  "not a valid replication slot name" },
		{ "[sink.stdout]\n[source]\nslot = "
		  "a234567890123456789012345678901234567890123456789012345678901234\n",
		  "t.conf:3: source.slot: ", "not a valid replication slot name" },
		{ "[sink.stdout]\n[source]\nslot =\n", "t.conf:3: source.slot: ", "is required" },
		/* warning > critical, pointing at the line that was set */
		{ "[sink.stdout]\n[monitor]\nlag_bytes_warning = 20GB\n",
		  "t.conf:3: monitor.lag_bytes_warning: ",
		  "\"20GB\" is above monitor.lag_bytes_critical (10GB)" },
		{ "[sink.stdout]\n[monitor]\n\nlag_seconds_critical = 1min\n",
		  "t.conf:4: monitor.lag_seconds_critical: ",
		  "\"1min\" is below monitor.lag_seconds_warning (5min)" },
		{ "[sink.stdout]\n[monitor]\nretained_wal_warning = 30GB\n",
		  "t.conf:3: monitor.retained_wal_warning: ", "above monitor.retained_wal_critical (20GB)" },
		{ "[sink.stdout]\n[monitor]\nwal_disk_used_warning = 0.9\n",
		  "t.conf:3: monitor.wal_disk_used_warning: ",
		  "warning threshold 90% is above critical threshold 85%" },
		/* bad metrics_listen */
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = 9752\n", "t.conf:3: monitor.metrics_listen: ",
		  "\"9752\" is not host:port" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = localhost:70000\n",
		  "t.conf:3: monitor.metrics_listen: ", "no valid port (1 .. 65535)" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = ::1:9752\n",
		  "t.conf:3: monitor.metrics_listen: ", "put it in brackets, e.g. [::1]:9752" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = [::1]9752\n",
		  "t.conf:3: monitor.metrics_listen: ", "is not host:port" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = [localhost]:80\n",
		  "t.conf:3: monitor.metrics_listen: ", "is not host:port" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = *:80\n",
		  "t.conf:3: monitor.metrics_listen: ", "is not host:port" },
		{ "[sink.stdout]\n[monitor]\nmetrics_listen = host:0\n",
		  "t.conf:3: monitor.metrics_listen: ", "no valid port" },
		/* weakening kafka passthroughs */
		{ "[sink.kafka]\nkafka.acks = 1\n", "t.conf:2: sink.kafka.kafka.acks: ", "weaken delivery" },
		{ "[sink.kafka]\n\nkafka.enable.idempotence = false\n",
		  "t.conf:3: sink.kafka.kafka.enable.idempotence: ", "idempotent producer" },
		/* protocol / workers ranges */
		{ "[sink.stdout]\n[source]\nprotocol = 3\n", "t.conf:3: source.protocol: ",
		  "(use auto, 1 or 2)" },
		{ "[sink.stdout]\n[source]\nprotocol = two\n", "t.conf:3: source.protocol: ",
		  "(use auto, 1 or 2)" },
		{ "[sink.stdout]\n[source]\nfailover = yes\n", "t.conf:3: source.failover: ",
		  "(use auto, on or off)" },
		{ "[sink.stdout]\n[source]\non_gap = ignore\n", "t.conf:3: source.on_gap: ",
		  "(use stop or backfill)" },
		{ "[sink.stdout]\n[source]\nsnapshot_method = lazy\n", "t.conf:3: source.snapshot_method: ",
		  "(use online or exported)" },
		{ "[sink.stdout]\n[backfill]\nchunk_rows = 0\n", "t.conf:3: backfill.chunk_rows: ",
		  "\"0\" is out of range (1 .. 10000000)" },
		{ "[sink.stdout]\n[backfill]\nmax_rate = -5\n", "t.conf:3: backfill.max_rate: ",
		  "\"-5\" is negative" },
		{ "[sink.stdout]\n[source]\nsnapshot_workers = 0\n", "t.conf:3: source.snapshot_workers: ",
		  "\"0\" is out of range (1 .. 64)" },
		{ "[sink.stdout]\n[source]\nsnapshot_workers = 65\n", "t.conf:3: source.snapshot_workers: ",
		  "out of range (1 .. 64)" },
		/* tables without schema, bad column items */
		{ "[sink.stdout]\n[source]\ntables = public.a, orders\n", "t.conf:3: source.tables: ",
		  "item \"orders\" is not schema.table" },
		{ "[sink.stdout]\n[filter]\ninclude_tables = a.b.c\n", "t.conf:3: filter.include_tables: ",
		  "item \"a.b.c\" is not schema.table" },
		{ "[sink.stdout]\n[filter]\nexclude_columns = public.users\n",
		  "t.conf:3: filter.exclude_columns: ", "item \"public.users\" is not schema.table.column" },
		{ "[sink.stdout]\n[filter]\nmask_columns = a.b.c, a..c\n", "t.conf:3: filter.mask_columns: ",
		  "item \"a..c\" is not schema.table.column" },
		{ "[sink.stdout]\n[filter]\nmask_columns = \"a.b.c\n", "t.conf:3: filter.mask_columns: ",
		  "unterminated quoted value" },
		/* create_publication = tables needs tables */
		{ "[sink.stdout]\n[source]\ncreate_publication = tables\n",
		  "t.conf:3: source.create_publication: ", "needs source.tables" },
		/* other ranges */
		{ "[sink.stdout]\n[source]\nstatus_interval = 500ms\n", "t.conf:3: source.status_interval: ",
		  "\"500ms\" is too short (minimum 1s)" },
		{ "[sink.stdout]\n[source]\nmax_inflight = 1023kB\n", "t.conf:3: source.max_inflight: ",
		  "too small (minimum 1MB)" },
		{ "[sink.stdout]\n[monitor]\ninterval = 0\n", "t.conf:3: monitor.interval: ",
		  "must be greater than 0" },
		{ "[sink.stdout]\n[monitor]\nalert_timeout = 0s\n", "t.conf:3: monitor.alert_timeout: ",
		  "must be greater than 0" },
		{ "[sink.parquet]\nrotate_rows = 0\n", "t.conf:2: sink.parquet.rotate_rows: ",
		  "must be greater than 0" },
		{ "[sink.parquet]\nrotate_bytes = 0\n", "t.conf:2: sink.parquet.rotate_bytes: ",
		  "must be greater than 0" },
		{ "[sink.parquet]\nrotate_interval = 0\n", "t.conf:2: sink.parquet.rotate_interval: ",
		  "must be greater than 0" },
		{ "[sink.parquet]\nrow_group_rows = -5\n", "t.conf:2: sink.parquet.row_group_rows: ",
		  "must be greater than 0" },
		{ "[sink.parquet]\ndirectory =\n", "t.conf:2: sink.parquet.directory: ", "is required" },
		/* kafka required values when enabled */
		{ "[sink.kafka]\nbrokers =\n", "t.conf:2: sink.kafka.brokers: ", "is required" },
		{ "[sink.kafka]\ntopic_prefix = \"\"\n", "t.conf:2: sink.kafka.topic_prefix: ", "is required" },
		{ "[sink.kafka]\ntopic_prefix = a/b\n", "t.conf:2: sink.kafka.topic_prefix: ",
		  "not a valid Kafka topic name prefix" },
		/* a key's name with odd characters */
		{ "[sink.stdout]\n[source]\nslot! = x\n", "t.conf:3: ", "expected \"key = value\"" },
	};
	int n = (int) (sizeof(cases) / sizeof(cases[0]));

	assert_true(n >= 20);
	for (int i = 0; i < n; i++)
		expect_err(cases[i].text, cases[i].prefix, cases[i].reason);
}

/* A required value left unset points at the section header, or has no line. */
static void
test_missing_required_location(void **state)
{
	char *ov[] = { "source.conninfo=" };
	struct cdc_err err;

	err_of("[sink.stdout]\n[source]\nslot = x\n", ov, 1, &err);
	assert_string_equal(err.msg, "--set: source.conninfo: is required (a libpq conninfo such as "
	                    "\"host=... dbname=... user=...\")");
	/* a default value that fails a cross-check: the section header's line */
	err_of("[sink.stdout]\n[monitor]\nlag_bytes_critical = 512MB\n", NULL, 0, &err);
	assert_string_equal(err.msg, "t.conf:3: monitor.lag_bytes_critical: \"512MB\" is below "
	                    "monitor.lag_bytes_warning (1GB): a warning threshold must not exceed "
	                    "its critical one");
	{
		char *ov2[] = { "monitor.lag_bytes_critical=1MB" };

		err_of("[sink.stdout]\n", ov2, 1, &err);
		assert_string_equal(err.msg, "--set: monitor.lag_bytes_critical: \"1MB\" is below "
		                    "monitor.lag_bytes_warning (1GB): a warning threshold must not "
		                    "exceed its critical one");
	}
	{
		/* both set: blame the one the --set changed */
		char *ov5[] = { "monitor.wal_disk_used_critical=60%" };

		err_of("[sink.stdout]\n[monitor]\nwal_disk_used_warning = 70%\n"
		       "wal_disk_used_critical = 90%\n", ov5, 1, &err);
		assert_string_equal(err.msg, "--set: monitor.wal_disk_used_critical: warning threshold "
		                    "70% is above critical threshold 60%: a warning threshold must not "
		                    "exceed its critical one");
	}
	{
		char *ov3[] = { "source.create_publication=tables" };

		err_of("[sink.stdout]\n", ov3, 1, &err);
		assert_string_equal(err.msg, "--set: source.create_publication: \"tables\" needs "
		                    "source.tables (the schema.table list to publish)");
	}
	{
		/* create_publication set in the file, tables emptied by --set: point at the file */
		char *ov4[] = { "source.tables=" };

		err_of("[sink.stdout]\n[source]\ncreate_publication = tables\ntables = a.b\n", ov4, 1, &err);
		assert_non_null(strstr(err.msg, "t.conf:3: source.create_publication: "));
	}
}

/* ------------------------------------------------------------------------ */
/* secrets                                                                  */
/* ------------------------------------------------------------------------ */

static void
test_secrets_not_in_messages(void **state)
{
	static const char *const texts[] = {
		"[sink.stdout]\n[source]\nconninfo = \"host=x password=hunter2\n",
		"[sink.stdout]\n[source]\nconninfo = \"host=x password=hunter2\" trailing\n",
		"[sink.stdout]\n[source]\nconninfo = host=x password=hunter2\nconninfo = x\n",
		"[sink.stdout]\n[source]\npassword = hunter2\n",
		"[sink.kafka]\nkafka.sasl.password = hunter2\nkafka.sasl.password = hunter2\n",
		"[sink.kafka]\nkafka.sasl.password = \"hunter2\n",
		"[sink.kafka]\nkafka.ssl.key.password = hunter2 ${PGCDC_T_NOPE}\n",
		"[sink.kafka]\nkafka.sasl.oauthbearer.client.secret = \"hunter2\" x\n",
		"[sink.stdout]\nhunter2\n",
		"[sink.stdout]\nhunter2 = x\n",
		"hunter2\n",
	};
	char *ov1[] = { "sink.kafka.kafka.sasl.password:hunter2" };
	char *ov2[] = { "sink.kafka.kafka.sasl.password=\"hunter2" };
	char *ov3[] = { "source.conninfo=password=hunter2 \"x" };
	struct cdc_err err;

	unsetenv("PGCDC_T_NOPE");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		err_of(texts[i], NULL, 0, &err);
		/* the last entries name "hunter2" as a key or line, not as a value */
		if (i < 8 && strstr(err.msg, "hunter2") != NULL)
			fail_msg("secret in message: %s", err.msg);
		assert_true(strncmp(err.msg, "t.conf:", 7) == 0);
	}
	err_of("", ov1, 1, &err);
	assert_null(strstr(err.msg, "hunter2"));
	assert_non_null(strstr(err.msg, "--set: sink.kafka.kafka.sasl.password: expected section.key=value"));
	err_of("", ov2, 1, &err);
	assert_null(strstr(err.msg, "hunter2"));
	assert_string_equal(err.msg, "--set: sink.kafka.kafka.sasl.password: unterminated quoted "
	                    "value (missing closing '\"')");
	err_of("", ov3, 1, &err);                /* valid conninfo, but no sink */
	assert_null(strstr(err.msg, "hunter2"));

	/* a secret's undefined variable is named, nothing else */
	err_of("[sink.kafka]\nkafka.sasl.password = ${PGCDC_T_NOPE}\n", NULL, 0, &err);
	assert_string_equal(err.msg, "t.conf:2: sink.kafka.kafka.sasl.password: environment "
	                    "variable \"PGCDC_T_NOPE\" is not set");
}

static void
test_conninfo_redacted(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "host=h password=secret dbname=d", "host=h password=******** dbname=d" },
		{ "password=secret", "password=********" },
		{ "host=h password = 'se cr\\'et' user=u", "host=h password = ******** user=u" },
		{ "host=h password='se cr\\'et", "host=h password=********" },
		{ "password=se\\ cret user=u", "password=******** user=u" },
		{ "host=h sslpassword=k dbname=d", "host=h sslpassword=******** dbname=d" },
		{ "host=h dbname='pass word' user=u", "host=h dbname='pass word' user=u" },
		{ "host=h port=5432", "host=h port=5432" },
		{ "", "" },
		{ "password=", "password=********" },
		{ "postgresql://user:secret@host:5432/db", "postgresql://user:********@host:5432/db" },
		{ "postgres://user:secret@host/db?sslmode=require",
		  "postgres://user:********@host/db?sslmode=require" },
		{ "postgresql://user@host/db?password=secret&sslmode=require",
		  "postgresql://user@host/db?password=********&sslmode=require" },
		{ "postgresql://u:p%40ss@h1:5432,h2:5433/db?application_name=a&%70assword=x",
		  "postgresql://u:********@h1:5432,h2:5433/db?application_name=a&%70assword=********" },
		{ "postgresql://u:pa@s/s@host/db", "postgresql://u:********@host/db" },
		{ "postgresql://host/db", "postgresql://host/db" },
		{ "postgresql://user@host", "postgresql://user@host" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = cfg_conninfo_redacted(cases[i].in);

		assert_non_null(r);
		if (strcmp(r, cases[i].out) != 0)
			fail_msg("redact \"%s\": got \"%s\", want \"%s\"", cases[i].in, r, cases[i].out);
		free(r);
	}
}

/* ------------------------------------------------------------------------ */
/* files                                                                    */
/* ------------------------------------------------------------------------ */

static void
write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
test_load_file(void **state)
{
	char dir[] = "/tmp/pgcdc_test_config_XXXXXX";
	char path[256], missing[256];
	char *ov[] = { "sink.stdout.enabled=on" };
	struct cdc_err err = { 0 };
	struct cfg *c;
	static const char text[] = "[sink.stdout]\n[monitor]\nlag_bytes_warning = 12XB\n";

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	snprintf(missing, sizeof(missing), "%s/none.conf", dir);

	write_file(path, text, strlen(text));
	c = cfg_load(path, false, NULL, 0, &err);
	assert_null(c);
	{
		char want[512];

		snprintf(want, sizeof(want), "%s:3: monitor.lag_bytes_warning: \"12XB\" is not a size "
		         "(use B, kB, MB, GB or TB)", path);
		assert_string_equal(err.msg, want);
	}

	write_file(path, "[sink.stdout]\n\0x", 16);
	cdc_err_clear(&err);
	assert_null(cfg_load(path, false, NULL, 0, &err));
	assert_non_null(strstr(err.msg, "NUL byte"));

	write_file(path, "[sink.stdout]\n", 14);
	cdc_err_clear(&err);
	c = cfg_load(path, false, NULL, 0, &err);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	cfg_free(c);

	cdc_err_clear(&err);
	assert_null(cfg_load(missing, false, NULL, 0, &err));
	assert_int_equal(err.code, CDC_ERR_CONFIG);
	assert_true(strncmp(err.msg, missing, strlen(missing)) == 0);
	assert_non_null(strstr(err.msg, "cannot open: No such file or directory"));

	cdc_err_clear(&err);
	c = cfg_load(missing, true, ov, 1, &err);
	if (c == NULL)
		fail_msg("allow_missing: %s", err.msg);
	assert_true(c->stdout_sink.enabled);
	assert_defaults_except_sinks(c);
	cfg_free(c);

	cdc_err_clear(&err);
	assert_null(cfg_load(missing, true, NULL, 0, &err));
	assert_non_null(strstr(err.msg, "no sink enabled"));

	cdc_err_clear(&err);
	assert_null(cfg_load(dir, false, NULL, 0, &err));      /* a directory */
	assert_true(strncmp(err.msg, dir, strlen(dir)) == 0);

	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_percent),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_every_key_set),
		cmocka_unit_test(test_enums_case_and_values),
		cmocka_unit_test(test_quoting_and_comments),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_sink_enabled_key),
		cmocka_unit_test(test_kafka_passthrough),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing_required_location),
		cmocka_unit_test(test_secrets_not_in_messages),
		cmocka_unit_test(test_conninfo_redacted),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
