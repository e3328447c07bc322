/*
 * config.c — the agent configuration (SPEC §2): INI parsing, --set overrides,
 * typed values, validation, conninfo redaction.
 *
 * DESIGN: one table (`keys`) knows every section.key of SPEC §2 with its type and
 * where its value lives in struct cfg.  The file is read line by line; each
 * `key = value` is lexed (quotes, escapes, inline comments, ${NAME} expansion) and
 * stored at once, converted to its type, so a bad value is reported with the line
 * it is on.  Overrides go through the same path afterwards and replace what the
 * file said.  Per key we remember where it was last set (file line or --set), so
 * the cross-field validation that runs last can point at the offending line.
 * Values of secret keys (conninfo, anything named *password* / *secret*) and
 * values that came from the environment never appear in an error message.
 *
 * The first error stops loading: a config file is fixed one error at a time, and
 * every later message could be a consequence of the first.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "../sinks/sink.h"

/* Caps: a configuration file is small; anything bigger is a mistake. */
#define CFG_MAX_FILE_BYTES (4 * 1024 * 1024)
#define CFG_SHOW_MAX 64              /* value characters quoted in a message */
#define REDACTED "********"

/* ------------------------------------------------------------------------ */
/* The known sections and keys                                              */
/* ------------------------------------------------------------------------ */

enum sect {
	S_SOURCE, S_LOG, S_FILTER, S_FORMAT, S_KAFKA, S_PARQUET, S_STDOUT, S_MONITOR, S_NULL, S_BACKFILL,
	S_COUNT
};

static const char *const sect_names[S_COUNT] = {
	"source", "log", "filter", "format", "sink.kafka", "sink.parquet", "sink.stdout", "monitor",
	"sink.null", "backfill",
};

#define KNOWN_SECTIONS "source, log, filter, format, sink.kafka, sink.parquet, sink.stdout, " \
	"monitor, sink.null, backfill"

enum ktype {
	K_STR,        /* char * */
	K_LIST,       /* struct cfg_list */
	K_BOOL,       /* bool */
	K_INT,        /* int */
	K_INT64,      /* int64_t */
	K_SIZE,       /* int64_t bytes */
	K_DUR,        /* int64_t milliseconds */
	K_PCT,        /* double ratio */
	K_ENUM,       /* an enum cfg_* field: index into opts */
	K_ENUMBOOL,   /* bool: opts[1] chosen */
};

struct keydesc {
	enum sect sect;
	const char *key;
	enum ktype type;
	size_t off;                   /* offsetof(struct cfg, field) */
	const char *const *opts;      /* K_ENUM / K_ENUMBOOL: NULL-terminated, value = index */
	const char *optdesc;          /* "off, all or tables" */
};

/* Enum fields are written as int: the enums have no negative values and GCC/Clang
 * give them int's size. */
_Static_assert(sizeof(enum cfg_create_pub) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_snapshot) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_kafka_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_compression) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_failover) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_on_gap) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_snapshot_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_profile) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_decimal_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_time_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_interval_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_binary_mode) == sizeof(int), "enum size");

static const char *const e_pub[] = { "off", "all", "tables", NULL };
static const char *const e_snap[] = { "initial", "never", "always", NULL };
static const char *const e_level[] = { "debug", "info", "warning", "error", NULL };
static const char *const e_logfmt[] = { "text", "json", NULL };
static const char *const e_numeric[] = { "string", "number", NULL };
static const char *const e_toast[] = { "placeholder", "omit", NULL };
static const char *const e_profile[] = { "pgcdc", "debezium", NULL };
static const char *const e_decimal[] = { "precise", "string", "double", NULL };
static const char *const e_timeprec[] = { "adaptive", "adaptive_time_microseconds", "connect", NULL };
static const char *const e_interval[] = { "numeric", "string", NULL };
static const char *const e_binary[] = { "bytes", "base64", "base64-url-safe", "hex", NULL };
static const char *const e_kfmt[] = { "json", "protobuf", NULL };
static const char *const e_comp[] = { "zstd", "snappy", "none", NULL };
/* the index is the protocol number; 0 = auto (the highest the server has) */
static const char *const e_proto[] = { "auto", "1", "2", NULL };
static const char *const e_failover[] = { "auto", "on", "off", NULL };
static const char *const e_ongap[] = { "stop", "backfill", NULL };
static const char *const e_snapmethod[] = { "online", "exported", NULL };

#define F(field) offsetof(struct cfg, field)

static const struct keydesc keys[] = {
	{ S_SOURCE, "conninfo", K_STR, F(source.conninfo), NULL, NULL },
	{ S_SOURCE, "slot", K_STR, F(source.slot), NULL, NULL },
	{ S_SOURCE, "publication", K_STR, F(source.publication), NULL, NULL },
	{ S_SOURCE, "create_publication", K_ENUM, F(source.create_publication), e_pub,
	  "off, all or tables" },
	{ S_SOURCE, "tables", K_LIST, F(source.tables), NULL, NULL },
	{ S_SOURCE, "snapshot", K_ENUM, F(source.snapshot), e_snap, "initial, never or always" },
	{ S_SOURCE, "snapshot_method", K_ENUM, F(source.snapshot_method), e_snapmethod,
	  "online or exported" },
	{ S_SOURCE, "snapshot_workers", K_INT, F(source.snapshot_workers), NULL, NULL },
	{ S_SOURCE, "protocol", K_ENUM, F(source.protocol), e_proto, "auto, 1 or 2" },
	{ S_SOURCE, "failover", K_ENUM, F(source.failover), e_failover, "auto, on or off" },
	{ S_SOURCE, "on_gap", K_ENUM, F(source.on_gap), e_ongap, "stop or backfill" },
	{ S_SOURCE, "status_interval", K_DUR, F(source.status_interval_ms), NULL, NULL },
	{ S_SOURCE, "heartbeat_interval", K_DUR, F(source.heartbeat_interval_ms), NULL, NULL },
	{ S_SOURCE, "receive_timeout", K_DUR, F(source.receive_timeout_ms), NULL, NULL },
	{ S_SOURCE, "state_dir", K_STR, F(source.state_dir), NULL, NULL },
	{ S_SOURCE, "max_inflight", K_SIZE, F(source.max_inflight), NULL, NULL },

	{ S_LOG, "level", K_ENUM, F(log.level), e_level, "debug, info, warning or error" },
	{ S_LOG, "format", K_ENUM, F(log.format), e_logfmt, "text or json" },

	{ S_FILTER, "exclude_columns", K_LIST, F(filter.exclude_columns), NULL, NULL },
	{ S_FILTER, "mask_columns", K_LIST, F(filter.mask_columns), NULL, NULL },
	{ S_FILTER, "include_tables", K_LIST, F(filter.include_tables), NULL, NULL },

	{ S_FORMAT, "numeric", K_ENUMBOOL, F(format.numeric_as_number), e_numeric,
	  "string or number" },
	{ S_FORMAT, "unchanged_toast", K_ENUMBOOL, F(format.omit_unchanged_toast), e_toast,
	  "placeholder or omit" },
	{ S_FORMAT, "profile", K_ENUM, F(format.profile), e_profile, "pgcdc or debezium" },
	{ S_FORMAT, "decimal_handling_mode", K_ENUM, F(format.decimal_mode), e_decimal,
	  "precise, string or double" },
	{ S_FORMAT, "time_precision_mode", K_ENUM, F(format.time_mode), e_timeprec,
	  "adaptive, adaptive_time_microseconds or connect" },
	{ S_FORMAT, "interval_handling_mode", K_ENUM, F(format.interval_mode), e_interval,
	  "numeric or string" },
	{ S_FORMAT, "binary_handling_mode", K_ENUM, F(format.binary_mode), e_binary,
	  "bytes, base64, base64-url-safe or hex" },
	{ S_FORMAT, "schemas", K_BOOL, F(format.schemas), NULL, NULL },

	{ S_KAFKA, "enabled", K_BOOL, F(kafka.enabled), NULL, NULL },
	{ S_KAFKA, "brokers", K_STR, F(kafka.brokers), NULL, NULL },
	{ S_KAFKA, "topic_prefix", K_STR, F(kafka.topic_prefix), NULL, NULL },
	{ S_KAFKA, "format", K_ENUM, F(kafka.format), e_kfmt, "json or protobuf" },
	{ S_KAFKA, "tombstones", K_BOOL, F(kafka.tombstones), NULL, NULL },
	{ S_KAFKA, "messages", K_BOOL, F(kafka.messages), NULL, NULL },
	{ S_KAFKA, "transaction_topic", K_BOOL, F(kafka.transaction_topic), NULL, NULL },

	{ S_PARQUET, "enabled", K_BOOL, F(parquet.enabled), NULL, NULL },
	{ S_PARQUET, "directory", K_STR, F(parquet.directory), NULL, NULL },
	{ S_PARQUET, "compression", K_ENUM, F(parquet.compression), e_comp,
	  "zstd, snappy or none" },
	{ S_PARQUET, "rotate_rows", K_INT64, F(parquet.rotate_rows), NULL, NULL },
	{ S_PARQUET, "rotate_bytes", K_SIZE, F(parquet.rotate_bytes), NULL, NULL },
	{ S_PARQUET, "rotate_interval", K_DUR, F(parquet.rotate_interval_ms), NULL, NULL },
	{ S_PARQUET, "row_group_rows", K_INT64, F(parquet.row_group_rows), NULL, NULL },

	{ S_STDOUT, "enabled", K_BOOL, F(stdout_sink.enabled), NULL, NULL },
	{ S_NULL, "enabled", K_BOOL, F(null_sink.enabled), NULL, NULL },

	{ S_BACKFILL, "chunk_rows", K_INT64, F(backfill.chunk_rows), NULL, NULL },
	{ S_BACKFILL, "max_rate", K_INT64, F(backfill.max_rate), NULL, NULL },

	{ S_MONITOR, "interval", K_DUR, F(monitor.interval_ms), NULL, NULL },
	{ S_MONITOR, "lag_bytes_warning", K_SIZE, F(monitor.lag_bytes_warning), NULL, NULL },
	{ S_MONITOR, "lag_bytes_critical", K_SIZE, F(monitor.lag_bytes_critical), NULL, NULL },
	{ S_MONITOR, "lag_seconds_warning", K_DUR, F(monitor.lag_seconds_warning_ms), NULL, NULL },
	{ S_MONITOR, "lag_seconds_critical", K_DUR, F(monitor.lag_seconds_critical_ms), NULL, NULL },
	{ S_MONITOR, "retained_wal_warning", K_SIZE, F(monitor.retained_wal_warning), NULL, NULL },
	{ S_MONITOR, "retained_wal_critical", K_SIZE, F(monitor.retained_wal_critical), NULL, NULL },
	{ S_MONITOR, "wal_disk_path", K_STR, F(monitor.wal_disk_path), NULL, NULL },
	{ S_MONITOR, "wal_disk_used_warning", K_PCT, F(monitor.wal_disk_used_warning), NULL, NULL },
	{ S_MONITOR, "wal_disk_used_critical", K_PCT, F(monitor.wal_disk_used_critical), NULL, NULL },
	{ S_MONITOR, "alert_command", K_STR, F(monitor.alert_command), NULL, NULL },
	{ S_MONITOR, "alert_timeout", K_DUR, F(monitor.alert_timeout_ms), NULL, NULL },
	{ S_MONITOR, "alert_repeat", K_DUR, F(monitor.alert_repeat_ms), NULL, NULL },
	{ S_MONITOR, "metrics_listen", K_STR, F(monitor.metrics_listen), NULL, NULL },
};

#define NKEYS ((int) (sizeof(keys) / sizeof(keys[0])))

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

/* A growable string.  `oom` is sticky; the content is always NUL-terminated
 * once anything was appended. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* Take the content (owned; "" when nothing was appended), NULL on OOM. */
static char *
sb_take(struct sbuf *b)
{
	char *s;

	if (b->oom) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	s = b->p ? b->p : strdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_key_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '.' || c == '-';
}

/* `"value"` for a message: at most CFG_SHOW_MAX characters, control characters
 * shown as '?'.  Returns buf. */
static const char *
show(char *buf, size_t n, const char *s)
{
	size_t o = 0, i;

	if (n < 8) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (i = 0; s[i] != '\0' && i < CFG_SHOW_MAX && o + 5 < n; i++)
		buf[o++] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i] != '\0') {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

#define SHOWBUF (CFG_SHOW_MAX + 16)

/* Whether a key's value must never appear in a message: conninfo carries a
 * password; librdkafka keys holding credentials or private keys. */
static bool
key_is_secret(const char *key)
{
	return strcmp(key, "conninfo") == 0 || strcasestr(key, "password") != NULL ||
	       strcasestr(key, "secret") != NULL || strstr(key, "sasl.oauthbearer.config") != NULL ||
	       strstr(key, "ssl.key.pem") != NULL || strstr(key, "ssl_key") != NULL;
}

static bool
str_in(const char *s, const char *const *opts, int *idx)
{
	for (int i = 0; opts[i] != NULL; i++) {
		if (strcasecmp(s, opts[i]) == 0) {
			*idx = i;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Value parsers (shared with other modules)                                */
/* ------------------------------------------------------------------------ */

/* A non-negative decimal number "123" or "1.5": integer part and the fraction.
 * Advances *pp past it.  Returns false when there is no number or the integer
 * part overflows (then *overflow is set). */
static bool
scan_number(const char **pp, uint64_t *ip, long double *frac, bool *overflow)
{
	const char *p = *pp;
	bool digits = false;
	long double scale = 0.1L;

	*ip = 0;
	*frac = 0.0L;
	*overflow = false;
	while (isdigit((unsigned char) *p)) {
		unsigned d = (unsigned) (*p - '0');

		if (*ip > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			*ip = *ip * 10 + d;
		digits = true;
		p++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char) *p)) {
			*frac += (long double) (*p - '0') * scale;
			scale /= 10.0L;
			digits = true;
			p++;
		}
	}
	if (!digits || *overflow)
		return false;
	*pp = p;
	return true;
}

struct unit {
	const char *name;
	int64_t mult;
};

/* number [ws] unit [ws], the unit optional (then `bare` applies).  disp is the
 * quoted value for messages; what ("a size") and hint ("use B, kB ...") word them. */
static int
parse_scaled(const char *s, const char *disp, const struct unit *units, int64_t bare,
             const char *what, const char *hint, int64_t *out, struct cdc_err *err)
{
	const char *p = s;
	uint64_t ip;
	long double frac, total;
	int64_t mult = -1;
	size_t ulen = 0;
	bool overflow;

	while (is_ws(*p))
		p++;
	if (*p == '-' && isdigit((unsigned char) p[1]))
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not %s: it must not be negative", disp, what);
	if (!scan_number(&p, &ip, &frac, &overflow)) {
		if (overflow)
			return cdc_errf(err, CDC_ERR_CONFIG, "%s is too large", disp);
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not %s (%s)", disp, what, hint);
	}
	while (is_ws(*p))
		p++;
	while (isalpha((unsigned char) p[ulen]))
		ulen++;
	if (ulen == 0) {
		mult = bare;
	} else {
		for (int i = 0; units[i].name != NULL; i++) {
			if (strlen(units[i].name) == ulen && strncmp(p, units[i].name, ulen) == 0)
				mult = units[i].mult;
		}
	}
	p += ulen;
	while (is_ws(*p))
		p++;
	if (mult < 0 || *p != '\0')
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not %s (%s)", disp, what, hint);
	if (frac == 0.0L) {
		/* the common case stays in exact integer arithmetic */
		if (ip > (uint64_t) (INT64_MAX / mult))
			return cdc_errf(err, CDC_ERR_CONFIG, "%s is too large", disp);
		*out = (int64_t) ip * mult;
		return 0;
	}
	total = ((long double) ip + frac) * (long double) mult + 0.5L;
	if (total >= 9.2e18L)
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is too large", disp);
	*out = (int64_t) total;
	return 0;
}

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "kB", INT64_C(1) << 10 },
	{ "MB", INT64_C(1) << 20 },
	{ "GB", INT64_C(1) << 30 },
	{ "TB", INT64_C(1) << 40 },
	{ NULL, 0 },
};

static const struct unit dur_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "min", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000 },
	{ NULL, 0 },
};

#define SIZE_HINT "use B, kB, MB, GB or TB"
#define DUR_HINT "use ms, s, min, h or d"
#define PCT_HINT "use 0% .. 100% or a ratio 0 .. 1"
#define BOOL_HINT "use on/off, true/false, yes/no or 1/0"

static int
parse_size_disp(const char *s, const char *disp, int64_t *out, struct cdc_err *err)
{
	return parse_scaled(s, disp, size_units, 1, "a size", SIZE_HINT, out, err);
}

static int
parse_duration_disp(const char *s, const char *disp, int64_t *out, struct cdc_err *err)
{
	return parse_scaled(s, disp, dur_units, 1000, "a duration", DUR_HINT, out, err);
}

static int
parse_percent_disp(const char *s, const char *disp, double *out, struct cdc_err *err)
{
	const char *p = s;
	uint64_t ip;
	long double frac, v;
	bool overflow, pct = false;

	while (is_ws(*p))
		p++;
	if (!scan_number(&p, &ip, &frac, &overflow))
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not a percentage (%s)", disp, PCT_HINT);
	while (is_ws(*p))
		p++;
	if (*p == '%') {
		pct = true;
		p++;
	}
	while (is_ws(*p))
		p++;
	if (*p != '\0')
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not a percentage (%s)", disp, PCT_HINT);
	v = (long double) ip + frac;
	if (pct)
		v /= 100.0L;
	if (v > 1.0L)
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not a percentage: %s (%s)", disp,
		                pct ? "above 100%" : "a ratio above 1", PCT_HINT);
	*out = (double) v;
	return 0;
}

static int
parse_bool_disp(const char *s, const char *disp, bool *out, struct cdc_err *err)
{
	static const char *const yes[] = { "on", "true", "yes", "1", NULL };
	static const char *const no[] = { "off", "false", "no", "0", NULL };
	int i;

	if (str_in(s, yes, &i)) {
		*out = true;
		return 0;
	}
	if (str_in(s, no, &i)) {
		*out = false;
		return 0;
	}
	return cdc_errf(err, CDC_ERR_CONFIG, "%s is not a boolean (%s)", disp, BOOL_HINT);
}

static int
parse_int64_disp(const char *s, const char *disp, int64_t *out, struct cdc_err *err)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0;

	while (is_ws(*p))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char) *p))
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not an integer", disp);
	while (isdigit((unsigned char) *p)) {
		unsigned d = (unsigned) (*p++ - '0');

		if (v > ((uint64_t) INT64_MAX - d) / 10)
			return cdc_errf(err, CDC_ERR_CONFIG, "%s is out of range", disp);
		v = v * 10 + d;
	}
	while (is_ws(*p))
		p++;
	if (*p != '\0')
		return cdc_errf(err, CDC_ERR_CONFIG, "%s is not an integer", disp);
	*out = neg ? -(int64_t) v : (int64_t) v;
	return 0;
}

int
cfg_parse_size(const char *s, int64_t *out, struct cdc_err *err)
{
	char d[SHOWBUF];

	return parse_size_disp(s, show(d, sizeof(d), s), out, err) < 0 ? -1 : 0;
}

int
cfg_parse_duration(const char *s, int64_t *out_ms, struct cdc_err *err)
{
	char d[SHOWBUF];

	return parse_duration_disp(s, show(d, sizeof(d), s), out_ms, err) < 0 ? -1 : 0;
}

int
cfg_parse_percent(const char *s, double *out, struct cdc_err *err)
{
	char d[SHOWBUF];

	return parse_percent_disp(s, show(d, sizeof(d), s), out, err) < 0 ? -1 : 0;
}

int
cfg_parse_bool(const char *s, bool *out, struct cdc_err *err)
{
	char d[SHOWBUF];

	return parse_bool_disp(s, show(d, sizeof(d), s), out, err) < 0 ? -1 : 0;
}

/* Human forms of parsed values, for validation messages. */
static const char *
fmt_size(char *buf, size_t n, int64_t v)
{
	static const char *const u[] = { "TB", "GB", "MB", "kB" };

	for (int i = 0; i < 4; i++) {
		int64_t m = INT64_C(1) << (10 * (4 - i));

		if (v != 0 && v % m == 0) {
			snprintf(buf, n, "%lld%s", (long long) (v / m), u[i]);
			return buf;
		}
	}
	snprintf(buf, n, "%lldB", (long long) v);
	return buf;
}

static const char *
fmt_dur(char *buf, size_t n, int64_t ms)
{
	static const struct unit u[] = {
		{ "d", 86400 * 1000 }, { "h", 3600 * 1000 }, { "min", 60 * 1000 }, { "s", 1000 },
	};

	for (int i = 0; i < 4; i++) {
		if (ms != 0 && ms % u[i].mult == 0) {
			snprintf(buf, n, "%lld%s", (long long) (ms / u[i].mult), u[i].name);
			return buf;
		}
	}
	snprintf(buf, n, "%lldms", (long long) ms);
	return buf;
}

static const char *
fmt_pct(char *buf, size_t n, double r)
{
	snprintf(buf, n, "%.4g%%", r * 100.0);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Lists and identifiers                                                    */
/* ------------------------------------------------------------------------ */

static void
list_free(struct cfg_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Split "a.b, \"x,y\".c" at commas outside double quotes; items trimmed, empty
 * items dropped.  Returns 0 or -1 on OOM (out untouched). */
static int
list_parse(const char *s, struct cfg_list *out)
{
	struct cfg_list l = { 0, NULL };
	const char *p = s;

	for (;;) {
		const char *start, *end;
		bool q = false;
		char **ni;
		char *item;

		while (is_ws(*p))
			p++;
		start = p;
		while (*p != '\0' && (q || *p != ',')) {
			if (*p == '"')
				q = !q;
			p++;
		}
		end = p;
		while (end > start && is_ws(end[-1]))
			end--;
		if (end > start) {
			ni = realloc(l.items, (size_t) (l.n + 1) * sizeof(*ni));
			if (ni == NULL)
				goto oom;
			l.items = ni;
			item = strndup(start, (size_t) (end - start));
			if (item == NULL)
				goto oom;
			l.items[l.n++] = item;
		}
		if (*p == '\0')
			break;
		p++;                                  /* the comma */
	}
	*out = l;
	return 0;
oom:
	list_free(&l);
	return -1;
}

/* Whether s is nparts identifiers joined by '.', each either unquoted
 * (letters, digits, '_', '$', non-ASCII) or double-quoted with "" for a quote. */
static bool
qualified_name_ok(const char *s, int nparts)
{
	const char *p = s;
	int n = 0;

	for (;;) {
		if (*p == '"') {
			const char *start = ++p;

			for (;;) {
				if (*p == '\0')
					return false;
				if (*p == '"') {
					if (p[1] != '"')
						break;
					p++;
				}
				p++;
			}
			if (p == start)
				return false;
			p++;                          /* closing quote */
		} else {
			const char *start = p;

			while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' ||
			       (unsigned char) *p >= 0x80)
				p++;
			if (p == start)
				return false;
		}
		n++;
		if (*p == '.') {
			p++;
			continue;
		}
		return *p == '\0' && n == nparts;
	}
}

/* ------------------------------------------------------------------------ */
/* The parser context                                                       */
/* ------------------------------------------------------------------------ */

/* Where a key was last set. */
struct kstate {
	bool set;
	bool over;            /* by --set (line meaningless) */
	bool expanded;        /* the value used ${NAME} */
	int line;             /* file line */
	char *disp;           /* owned: the value as messages may show it */
};

struct pctx {
	struct cfg *c;
	const char *name;     /* file name for messages */
	struct cdc_err *err;
	int sect;             /* current section of the file, -1 before the first */
	bool present[S_COUNT];
	int sect_line[S_COUNT];   /* first header line, 0 = none in the file */
	struct kstate ks[NKEYS];
};

/* Where a value was written: the file (line) or an override. */
struct where {
	bool over;
	int line;
	const char *sect;
	const char *key;
};

static int
oom(struct pctx *p)
{
	return cdc_errf(p->err, CDC_ERR_NOMEM, "out of memory while reading the configuration");
}

/* "LOC: section.key: why" */
__attribute__((format(printf, 3, 4)))
static int
kerr(struct pctx *p, const struct where *w, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (w->over)
		return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %s.%s: %s", w->sect, w->key, why);
	if (w->line > 0)
		return cdc_errf(p->err, CDC_ERR_CONFIG, "%s:%d: %s.%s: %s", p->name, w->line, w->sect,
		                w->key, why);
	return cdc_errf(p->err, CDC_ERR_CONFIG, "%s: %s.%s: %s", p->name, w->sect, w->key, why);
}

/* "FILE:LINE: why" */
__attribute__((format(printf, 3, 4)))
static int
lerr(struct pctx *p, int line, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line > 0)
		return cdc_errf(p->err, CDC_ERR_CONFIG, "%s:%d: %s", p->name, line, why);
	return cdc_errf(p->err, CDC_ERR_CONFIG, "%s: %s", p->name, why);
}

/* Where key k was set; for a key left at its default, its section header (if
 * any) so the message still points somewhere useful. */
static struct where
key_where(const struct pctx *p, int k)
{
	struct where w = { false, 0, sect_names[keys[k].sect], keys[k].key };

	if (p->ks[k].set) {
		w.over = p->ks[k].over;
		w.line = p->ks[k].line;
	} else {
		w.line = p->sect_line[keys[k].sect];
	}
	return w;
}

static int
find_key(int sect, const char *key)
{
	for (int k = 0; k < NKEYS; k++) {
		if ((int) keys[k].sect == sect && strcmp(keys[k].key, key) == 0)
			return k;
	}
	return -1;
}

static int
find_section(const char *name, size_t len)
{
	for (int s = 0; s < S_COUNT; s++) {
		if (strlen(sect_names[s]) == len && strncmp(sect_names[s], name, len) == 0)
			return s;
	}
	return -1;
}

/* Levenshtein distance, capped: only small distances matter for suggestions. */
static int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "unknown key" with the most useful hint we can give. */
static int
unknown_key(struct pctx *p, const struct where *w, int sect, const char *key)
{
	char list[300];
	size_t o = 0;
	int best = -1, bestd = 3;

	for (int k = 0; k < NKEYS; k++) {
		if ((int) keys[k].sect != sect && strcmp(keys[k].key, key) == 0 &&
		    strcmp(key, "enabled") != 0 && strcmp(key, "format") != 0)
			return kerr(p, w, "unknown key (%s belongs in [%s])", key,
			            sect_names[keys[k].sect]);
	}
	if (sect == S_KAFKA && strchr(key, '.') != NULL)
		return kerr(p, w, "unknown key (librdkafka properties take the prefix \"kafka.\": "
		            "kafka.%s = ...)", key);
	for (int k = 0; k < NKEYS; k++) {
		int d;

		if ((int) keys[k].sect != sect)
			continue;
		d = edit_distance(key, keys[k].key);
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best >= 0)
		return kerr(p, w, "unknown key (did you mean \"%s\"?)", keys[best].key);
	list[0] = '\0';
	for (int k = 0; k < NKEYS; k++) {
		if ((int) keys[k].sect == sect && o < sizeof(list))
			o += (size_t) snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
			                       keys[k].key);
	}
	if (sect == S_KAFKA && o < sizeof(list))
		snprintf(list + o, sizeof(list) - o, ", kafka.<property>");
	return kerr(p, w, "unknown key (valid keys: %s)", list);
}

/* ------------------------------------------------------------------------ */
/* Lexing a value                                                           */
/* ------------------------------------------------------------------------ */

/* Expand "${NAME}" in src[0..n) into out (and copy the text as written into raw).
 * Sets *expanded when a variable was used. */
static int
expand(struct pctx *p, const struct where *w, const char *src, size_t n, struct sbuf *out,
       struct sbuf *raw, bool *expanded)
{
	size_t i = 0;

	while (i < n) {
		if (src[i] == '$' && i + 1 < n && src[i + 1] == '{') {
			size_t j = i + 2;
			char name[128];
			const char *v;

			while (j < n && src[j] != '}')
				j++;
			if (j >= n)
				return kerr(p, w, "unterminated \"${\" (write ${NAME} to use an environment "
				            "variable)");
			if (j - (i + 2) == 0 || j - (i + 2) >= sizeof(name))
				return kerr(p, w, "invalid environment variable reference (write ${NAME})");
			memcpy(name, src + i + 2, j - (i + 2));
			name[j - (i + 2)] = '\0';
			for (size_t k = 0; name[k] != '\0'; k++) {
				if (!(isalpha((unsigned char) name[k]) || name[k] == '_' ||
				      (k > 0 && isdigit((unsigned char) name[k]))))
					return kerr(p, w, "invalid environment variable name in ${...} "
					            "(letters, digits and '_')");
			}
			v = getenv(name);
			if (v == NULL)
				return kerr(p, w, "environment variable \"%s\" is not set", name);
			sb_puts(out, v);
			sb_putn(raw, src + i, j + 1 - i);
			*expanded = true;
			i = j + 1;
		} else {
			sb_putc(out, src[i]);
			sb_putc(raw, src[i]);
			i++;
		}
	}
	return 0;
}

/* Lex the value text s[0..n) (after the '=', leading whitespace skipped):
 * "quoted" with \" \\ \$ escapes, or bare up to an inline comment; then ${NAME}
 * expansion.  Returns the value (owned) in *val and the text as written (for
 * messages) in *raw.  For a list (is_list), a value that merely starts with a
 * quoted SQL identifier ("My Schema".orders, ...) is read bare, as written. */
static int
lex_value(struct pctx *p, const struct where *w, const char *s, size_t n, bool comments,
          bool is_list, char **val, char **raw, bool *expanded)
{
	struct sbuf out = { 0 }, rw = { 0 };
	size_t i = 0;
	int rc = -1;
	bool bare = !(n > 0 && s[0] == '"');

	*expanded = false;
	if (!bare) {
		size_t seg = 1;          /* start of the current unescaped segment */

		i = 1;
		for (;;) {
			if (i >= n) {
				kerr(p, w, "unterminated quoted value (missing closing '\"')");
				goto out;
			}
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				char e = i + 1 < n ? s[i + 1] : '\0';

				if (expand(p, w, s + seg, i - seg, &out, &rw, expanded) < 0)
					goto out;
				if (e == '"' || e == '\\' || e == '$') {
					sb_putc(&out, e);     /* \$ keeps "${" literal */
					sb_putc(&rw, e);
					i += 2;
				} else {
					sb_putc(&out, '\\');  /* other backslashes stay (conninfo's \') */
					sb_putc(&rw, '\\');
					i += 1;
				}
				seg = i;
				continue;
			}
			i++;
		}
		if (expand(p, w, s + seg, i - seg, &out, &rw, expanded) < 0)
			goto out;
		i++;                             /* closing quote */
		while (i < n && is_ws(s[i]))
			i++;
		if (i < n && !(comments && s[i] == '#')) {
			if (!is_list) {
				kerr(p, w, "unexpected text after the closing quote (quote the whole "
				     "value)");
				goto out;
			}
			free(out.p);
			free(rw.p);
			memset(&out, 0, sizeof(out));
			memset(&rw, 0, sizeof(rw));
			*expanded = false;
			bare = true;
		}
	}
	if (bare) {
		size_t end = 0;

		while (end < n && !(comments && s[end] == '#' && (end == 0 || is_ws(s[end - 1]))))
			end++;
		while (end > 0 && is_ws(s[end - 1]))
			end--;
		if (expand(p, w, s, end, &out, &rw, expanded) < 0)
			goto out;
	}
	*val = sb_take(&out);
	*raw = sb_take(&rw);
	if (*val == NULL || *raw == NULL) {
		free(*val);
		free(*raw);
		oom(p);
		goto out;
	}
	rc = 0;
out:
	free(out.p);
	free(rw.p);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Storing a value                                                          */
/* ------------------------------------------------------------------------ */

/* How value v of key `key` may be shown in a message. */
static char *
make_disp(const char *key, const char *v, const char *raw, bool expanded)
{
	char buf[SHOWBUF + 40];

	if (key_is_secret(key))
		return strdup("the value (hidden)");
	show(buf, SHOWBUF, expanded ? raw : v);
	if (expanded)
		strcat(buf, " (expanded from the environment)");
	return strdup(buf);
}

/* Checks on a `kafka.<property>` passthrough: nothing may weaken delivery
 * (SPEC §5) or take over what pgcdc configures itself. */
static int
check_kafka_prop(struct pctx *p, const struct where *w, const char *prop, const char *v,
                 const char *disp)
{
	struct cdc_err e = { 0 };
	bool b;

	if (strcmp(prop, "bootstrap.servers") == 0 || strcmp(prop, "metadata.broker.list") == 0)
		return kerr(p, w, "pgcdc sets %s itself from sink.kafka.brokers: write "
		            "brokers = HOST:PORT,... instead", prop);
	if (strcmp(prop, "enable.idempotence") == 0) {
		if (parse_bool_disp(v, disp, &b, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		if (!b)
			return kerr(p, w, "must stay true: pgcdc's delivery guarantee needs the "
			            "idempotent producer (no duplicates or reordering when librdkafka "
			            "retries): remove it");
	}
	if (strcmp(prop, "acks") == 0 || strcmp(prop, "request.required.acks") == 0) {
		if (strcmp(v, "all") != 0 && strcmp(v, "-1") != 0)
			return kerr(p, w, "%s would weaken delivery: pgcdc acknowledges WAL only once "
			            "every in-sync replica has a record (use all or -1, or remove this "
			            "line)", disp);
	}
	if (strcmp(prop, "transactional.id") == 0)
		return kerr(p, w, "pgcdc does not use Kafka transactions (it deduplicates by LSN): "
		            "remove this line");
	if (strcmp(prop, "delivery.report.only.error") == 0) {
		if (parse_bool_disp(v, disp, &b, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		if (b)
			return kerr(p, w, "pgcdc needs a delivery report for every record to "
			            "acknowledge WAL: remove this line");
	}
	if (strcmp(prop, "partitioner") == 0 && strcmp(v, "random") == 0)
		return kerr(p, w, "\"random\" would scatter one key's records over partitions and "
		            "break per-key ordering: use a key-hashing partitioner");
	return 0;
}

static int
set_kafka_prop(struct pctx *p, const struct where *w, const char *prop, const char *vtext,
               size_t vlen, bool comments)
{
	struct cfg *c = p->c;
	char *v = NULL, *raw = NULL, *disp = NULL;
	bool expanded;
	int i, rc = -1;

	if (prop[0] == '\0')
		return kerr(p, w, "missing librdkafka property name after \"kafka.\"");
	for (const char *q = prop; *q != '\0'; q++) {
		if (!(isalnum((unsigned char) *q) || *q == '.' || *q == '_'))
			return kerr(p, w, "invalid librdkafka property name (letters, digits, '.' and "
			            "'_')");
	}
	for (i = 0; i < c->kafka.nprops; i++) {
		if (strcmp(c->kafka.props[i].key, prop) == 0)
			break;
	}
	if (i < c->kafka.nprops && !w->over && c->kafka.props[i].line > 0)
		return kerr(p, w, "duplicate key (first set on line %d)", c->kafka.props[i].line);
	if (lex_value(p, w, vtext, vlen, comments, false, &v, &raw, &expanded) < 0)
		return -1;
	disp = make_disp(prop, v, raw, expanded);
	if (disp == NULL) {
		oom(p);
		goto out;
	}
	if (check_kafka_prop(p, w, prop, v, disp) < 0)
		goto out;
	if (i == c->kafka.nprops) {
		struct cfg_kv *np = realloc(c->kafka.props, (size_t) (i + 1) * sizeof(*np));
		char *k;

		if (np == NULL) {
			oom(p);
			goto out;
		}
		c->kafka.props = np;
		k = strdup(prop);
		if (k == NULL) {
			oom(p);
			goto out;
		}
		np[i].key = k;
		np[i].value = NULL;
		c->kafka.nprops++;
	}
	free(c->kafka.props[i].value);
	c->kafka.props[i].value = v;
	c->kafka.props[i].line = w->over ? 0 : w->line;
	v = NULL;
	rc = 0;
out:
	free(v);
	free(raw);
	free(disp);
	return rc;
}

/* Convert v to key k's type and store it in the cfg. */
static int
store(struct pctx *p, const struct where *w, int k, const char *v, const char *disp)
{
	const struct keydesc *kd = &keys[k];
	char *field = (char *) p->c + kd->off;
	struct cdc_err e = { 0 };
	int64_t i64;
	double d;
	bool b;
	int idx;

	switch (kd->type) {
	case K_STR: {
		char *s = strdup(v);

		if (s == NULL)
			return oom(p);
		free(*(char **) field);
		*(char **) field = s;
		return 0;
	}
	case K_LIST: {
		struct cfg_list l;

		if (list_parse(v, &l) < 0)
			return oom(p);
		list_free((struct cfg_list *) field);
		*(struct cfg_list *) field = l;
		return 0;
	}
	case K_BOOL:
		if (parse_bool_disp(v, disp, &b, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		*(bool *) field = b;
		return 0;
	case K_INT:
		if (parse_int64_disp(v, disp, &i64, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		if (i64 < INT_MIN || i64 > INT_MAX)
			return kerr(p, w, "%s is out of range", disp);
		*(int *) field = (int) i64;
		return 0;
	case K_INT64:
		if (parse_int64_disp(v, disp, &i64, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		*(int64_t *) field = i64;
		return 0;
	case K_SIZE:
		if (parse_size_disp(v, disp, &i64, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		*(int64_t *) field = i64;
		return 0;
	case K_DUR:
		if (parse_duration_disp(v, disp, &i64, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		*(int64_t *) field = i64;
		return 0;
	case K_PCT:
		if (parse_percent_disp(v, disp, &d, &e) < 0)
			return kerr(p, w, "%s", e.msg);
		*(double *) field = d;
		return 0;
	case K_ENUM:
	case K_ENUMBOOL:
		if (!str_in(v, kd->opts, &idx))
			return kerr(p, w, "%s is not a valid %s (use %s)", disp, kd->key, kd->optdesc);
		if (kd->type == K_ENUM)
			*(int *) field = idx;
		else
			*(bool *) field = idx == 1;
		return 0;
	}
	return 0;
}

/* One `key = value` of section sect, from the file (line) or an override.  The
 * value text is lexed here so that an unknown or duplicate key is reported
 * before anything about its value. */
static int
set_entry(struct pctx *p, bool over, int line, int sect, const char *key, const char *vtext,
          size_t vlen, bool comments)
{
	struct where w = { over, line, sect_names[sect], key };
	char *v = NULL, *raw = NULL, *disp = NULL;
	bool expanded;
	int k, rc = -1;

	p->present[sect] = true;
	if (sect == S_KAFKA && strncmp(key, "kafka.", 6) == 0)
		return set_kafka_prop(p, &w, key + 6, vtext, vlen, comments);
	k = find_key(sect, key);
	if (k < 0)
		return unknown_key(p, &w, sect, key);
	if (!over && p->ks[k].set && !p->ks[k].over)
		return kerr(p, &w, "duplicate key (first set on line %d)", p->ks[k].line);
	if (lex_value(p, &w, vtext, vlen, comments, keys[k].type == K_LIST, &v, &raw,
	              &expanded) < 0)
		return -1;
	disp = make_disp(key, v, raw, expanded);
	if (disp == NULL) {
		oom(p);
		goto out;
	}
	if (store(p, &w, k, v, disp) < 0)
		goto out;
	free(p->ks[k].disp);
	p->ks[k].disp = disp;
	p->ks[k].set = true;
	p->ks[k].over = over;
	p->ks[k].expanded = expanded;
	p->ks[k].line = line;
	disp = NULL;
	rc = 0;
out:
	free(v);
	free(raw);
	free(disp);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */
/* ------------------------------------------------------------------------ */

static int
parse_line(struct pctx *p, int line, const char *s, size_t n)
{
	size_t i = 0, ks, ke;
	char key[128];

	while (i < n && is_ws(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 0;

	if (s[i] == '[') {
		size_t a = i + 1, b, j;
		int sect;

		for (j = a; j < n && s[j] != ']'; j++)
			;
		if (j == n)
			return lerr(p, line, "unterminated section header (missing ']')");
		b = j;
		while (a < b && is_ws(s[a]))
			a++;
		while (b > a && is_ws(s[b - 1]))
			b--;
		for (j++; j < n && is_ws(s[j]); j++)
			;
		if (j < n && s[j] != '#')
			return lerr(p, line, "unexpected text after the section header");
		sect = find_section(s + a, b - a);
		if (sect < 0) {
			char shown[SHOWBUF];
			char name[CFG_SHOW_MAX + 1];
			size_t len = b - a < CFG_SHOW_MAX ? b - a : CFG_SHOW_MAX;

			memcpy(name, s + a, len);
			name[len] = '\0';
			show(shown, sizeof(shown), name);
			return lerr(p, line, "unknown section [%.*s] (known sections: %s)",
			            (int) strlen(shown) - 2, shown + 1, KNOWN_SECTIONS);
		}
		p->sect = sect;
		p->present[sect] = true;
		if (p->sect_line[sect] == 0)
			p->sect_line[sect] = line;
		return 0;
	}

	ks = i;
	while (i < n && !is_ws(s[i]) && s[i] != '=')
		i++;
	ke = i;
	while (i < n && is_ws(s[i]))
		i++;
	for (size_t j = ks; j < ke; j++) {
		if (!is_key_char(s[j]))
			return lerr(p, line, "expected \"key = value\", \"[section]\" or a # comment");
	}
	if (ke == ks)
		return lerr(p, line, "missing key before '='");
	if (ke - ks >= sizeof(key))
		return lerr(p, line, "key too long");
	memcpy(key, s + ks, ke - ks);
	key[ke - ks] = '\0';
	if (p->sect < 0)
		return lerr(p, line, "%s: key outside a section (add a [section] header such as "
		            "[source] above it)", key);
	if (i == n || s[i] != '=') {
		struct where w = { false, line, sect_names[p->sect], key };

		return kerr(p, &w, "missing '=' (write key = value)");
	}
	i++;
	while (i < n && is_ws(s[i]))
		i++;
	return set_entry(p, false, line, p->sect, key, s + i, n - i, true);
}

static int
parse_text(struct pctx *p, const char *text)
{
	const char *s = text;
	int line = 0;

	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)   /* UTF-8 byte order mark */
		s += 3;
	while (*s != '\0') {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t) (eol - s) : strlen(s);

		line++;
		if (parse_line(p, line, s, n) < 0)
			return -1;
		s += n;
		if (*s == '\n')
			s++;
	}
	return 0;
}

/* "section.key=value": the section is the longest known section name that
 * prefixes the name followed by '.', so sink.kafka.kafka.sasl.password is
 * section sink.kafka, key kafka.sasl.password. */
static int
apply_override(struct pctx *p, const char *o)
{
	const char *eq = strchr(o, '=');
	const char *name = o, *nend, *v;
	int best = -1;
	size_t bestlen = 0;
	char key[128];

	if (eq == NULL) {
		/* echo only the leading key-like part: "x.password:hunter2" must not leak */
		int len = 0;

		while (o[len] != '\0' && is_key_char(o[len]) && len < CFG_SHOW_MAX)
			len++;
		return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %.*s: expected section.key=value",
		                len, o);
	}
	while (is_ws(*name))
		name++;
	nend = eq;
	while (nend > name && is_ws(nend[-1]))
		nend--;
	for (int s = 0; s < S_COUNT; s++) {
		size_t l = strlen(sect_names[s]);

		if ((size_t) (nend - name) >= l + 1 && strncmp(name, sect_names[s], l) == 0 &&
		    name[l] == '.' && l > bestlen) {
			best = s;
			bestlen = l;
		}
	}
	if (best < 0) {
		int len = (int) (nend - name) < CFG_SHOW_MAX ? (int) (nend - name) : CFG_SHOW_MAX;

		if (memchr(name, '.', (size_t) (nend - name)) == NULL)
			return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %.*s: expected section.key=value",
			                len, name);
		return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %.*s: unknown section (known "
		                "sections: %s)", len, name, KNOWN_SECTIONS);
	}
	name += bestlen + 1;
	if ((size_t) (nend - name) >= sizeof(key))
		return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %s.%.*s...: key too long",
		                sect_names[best], 32, name);
	memcpy(key, name, (size_t) (nend - name));
	key[nend - name] = '\0';
	for (const char *q = key; *q != '\0'; q++) {
		if (!is_key_char(*q))
			return cdc_errf(p->err, CDC_ERR_CONFIG, "--set: %s.%s: invalid key name",
			                sect_names[best], key);
	}
	v = eq + 1;
	while (is_ws(*v))
		v++;
	return set_entry(p, true, 0, best, key, v, strlen(v), false);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

/* Message fragment for key k's current value: as written when set, else the
 * default rendered by fmt. */
static const char *
kdisp(const struct pctx *p, int k, const char *fallback)
{
	return p->ks[k].set && p->ks[k].disp ? p->ks[k].disp : fallback;
}

static int
K(const char *sect_key)
{
	const char *dot = strrchr(sect_key, '.');
	int s = find_section(sect_key, (size_t) (dot - sect_key));

	return find_key(s, dot + 1);
}

static int
verr_required(struct pctx *p, int k, const char *what)
{
	struct where w = key_where(p, k);

	return kerr(p, &w, "is required (%s)", what);
}

static int
check_list(struct pctx *p, int k, const struct cfg_list *l, int nparts)
{
	for (int i = 0; i < l->n; i++) {
		if (!qualified_name_ok(l->items[i], nparts)) {
			struct where w = key_where(p, k);
			const char *form = nparts == 2 ? "schema.table" : "schema.table.column";
			char shown[SHOWBUF];

			if (p->ks[k].set && p->ks[k].expanded)
				return kerr(p, &w, "item %d of %s is not %s", i + 1, p->ks[k].disp, form);
			return kerr(p, &w, "item %s is not %s (write %s, comma-separated)",
			            show(shown, sizeof(shown), l->items[i]), form, form);
		}
	}
	return 0;
}

static bool
slot_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return true;
}

static bool
port_ok(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char) *s))
			return false;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return false;
	}
	return v >= 1;
}

/* "" | host:port | [v6]:port.  On failure *why says what is wrong. */
static bool
listen_ok(const char *s, const char **why)
{
	const char *colon;

	*why = "is not host:port (e.g. 127.0.0.1:9752 or [::1]:9752; empty = off)";
	if (*s == '\0')
		return true;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		bool zone = false;

		if (rb == NULL || memchr(s, ':', (size_t) (rb - s)) == NULL)
			return false;
		for (const char *q = s + 1; q < rb; q++) {
			if (*q == '%')
				zone = true;            /* [fe80::1%eth0] */
			else if (!(isxdigit((unsigned char) *q) || *q == ':' || *q == '.' ||
			           (zone && (isalnum((unsigned char) *q) || *q == '_' || *q == '-'))))
				return false;
		}
		if (rb[1] != ':')
			return false;
		*why = "has no valid port (1 .. 65535)";
		return port_ok(rb + 2);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return false;
	if (memchr(s, ':', (size_t) (colon - s)) != NULL) {
		*why = "looks like an IPv6 address: put it in brackets, e.g. [::1]:9752";
		return false;
	}
	for (const char *q = s; q < colon; q++) {
		if (!(isalnum((unsigned char) *q) || *q == '.' || *q == '-' || *q == '_'))
			return false;
	}
	*why = "has no valid port (1 .. 65535)";
	return port_ok(colon + 1);
}

/* Which side of a warning/critical pair a violation is reported on: the one the
 * user changed last (a --set beats the file), else the warning. */
static bool
blame_critical(const struct pctx *p, int kw, int kc)
{
	if (!p->ks[kc].set)
		return false;
	return !p->ks[kw].set || (p->ks[kc].over && !p->ks[kw].over);
}

static int
check_pair_i64(struct pctx *p, const char *warn, const char *crit, int64_t wv, int64_t cv,
               const char *(*fmt)(char *, size_t, int64_t))
{
	int kw = K(warn), kc = K(crit);
	char a[32], b[32];

	if (wv <= cv)
		return 0;
	fmt(a, sizeof(a), wv);
	fmt(b, sizeof(b), cv);
	if (!blame_critical(p, kw, kc)) {
		struct where w = key_where(p, kw);

		return kerr(p, &w, "%s is above %s (%s): a warning threshold must not exceed its "
		            "critical one", kdisp(p, kw, a), crit, b);
	} else {
		struct where w = key_where(p, kc);

		return kerr(p, &w, "%s is below %s (%s): a warning threshold must not exceed its "
		            "critical one", kdisp(p, kc, b), warn, a);
	}
}

static int
validate(struct pctx *p)
{
	struct cfg *c = p->c;
	char a[32], b[32];
	const char *why;
	int k;

	/* [source] */
	if (c->source.conninfo[0] == '\0')
		return verr_required(p, K("source.conninfo"), "a libpq conninfo such as "
		                     "\"host=... dbname=... user=...\"");
	k = K("source.slot");
	if (c->source.slot[0] == '\0')
		return verr_required(p, k, "a replication slot name");
	if (!slot_name_ok(c->source.slot)) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s is not a valid replication slot name (use 1 to 63 lowercase "
		            "letters, digits or underscores)", kdisp(p, k, c->source.slot));
	}
	if (c->source.publication[0] == '\0')
		return verr_required(p, K("source.publication"), "a publication name");
	if (c->source.create_publication == CFG_PUB_TABLES && c->source.tables.n == 0) {
		struct where w = key_where(p, K("source.create_publication"));

		return kerr(p, &w, "\"tables\" needs source.tables (the schema.table list to "
		            "publish)");
	}
	if (check_list(p, K("source.tables"), &c->source.tables, 2) < 0)
		return -1;
	k = K("source.snapshot_workers");
	if (c->source.snapshot_workers < 1 || c->source.snapshot_workers > 64) {
		struct where w = key_where(p, k);

		snprintf(a, sizeof(a), "%d", c->source.snapshot_workers);
		return kerr(p, &w, "%s is out of range (1 .. 64)", kdisp(p, k, a));
	}
	k = K("backfill.chunk_rows");
	if (c->backfill.chunk_rows < 1 || c->backfill.chunk_rows > 10000000) {
		struct where w = key_where(p, k);

		snprintf(a, sizeof(a), "%" PRId64, c->backfill.chunk_rows);
		return kerr(p, &w, "%s is out of range (1 .. 10000000)", kdisp(p, k, a));
	}
	k = K("backfill.max_rate");
	if (c->backfill.max_rate < 0) {
		struct where w = key_where(p, k);

		snprintf(a, sizeof(a), "%" PRId64, c->backfill.max_rate);
		return kerr(p, &w, "%s is negative (rows per second; 0 = unlimited)", kdisp(p, k, a));
	}
	k = K("source.status_interval");
	if (c->source.status_interval_ms < 1000) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s is too short (minimum 1s)",
		            kdisp(p, k, fmt_dur(a, sizeof(a), c->source.status_interval_ms)));
	}
	k = K("source.receive_timeout");
	if (c->source.receive_timeout_ms != 0 && c->source.receive_timeout_ms < 1000) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s is too short (0 turns it off, else at least 1s)",
		            kdisp(p, k, fmt_dur(a, sizeof(a), c->source.receive_timeout_ms)));
	}
	if (c->source.state_dir[0] == '\0')
		return verr_required(p, K("source.state_dir"), "a directory for local state");
	k = K("source.max_inflight");
	if (c->source.max_inflight < (INT64_C(1) << 20)) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s is too small (minimum 1MB)",
		            kdisp(p, k, fmt_size(a, sizeof(a), c->source.max_inflight)));
	}

	/* [filter] */
	if (check_list(p, K("filter.exclude_columns"), &c->filter.exclude_columns, 3) < 0 ||
	    check_list(p, K("filter.mask_columns"), &c->filter.mask_columns, 3) < 0 ||
	    check_list(p, K("filter.include_tables"), &c->filter.include_tables, 2) < 0)
		return -1;

	/* [format] */
	if (c->format.schemas) {
		struct where w = key_where(p, K("format.schemas"));

		if (c->format.profile != CFG_PROFILE_DEBEZIUM)
			return kerr(p, &w, "on needs profile = debezium (the schemas are those of "
			            "Debezium's records)");
		if (c->kafka.enabled && c->kafka.format == CFG_KAFKA_PROTOBUF)
			return kerr(p, &w, "on is for JSON records, and sink.kafka.format is protobuf");
	}

	/* sinks */
	if (c->kafka.enabled) {
		if (c->kafka.brokers[0] == '\0')
			return verr_required(p, K("sink.kafka.brokers"), "HOST:PORT,... of the Kafka "
			                     "bootstrap brokers");
		k = K("sink.kafka.topic_prefix");
		if (c->kafka.topic_prefix[0] == '\0')
			return verr_required(p, k, "topics are named <topic_prefix>.<schema>.<table>");
		for (const char *q = c->kafka.topic_prefix; *q != '\0'; q++) {
			if (!(isalnum((unsigned char) *q) || *q == '.' || *q == '_' || *q == '-')) {
				struct where w = key_where(p, k);

				return kerr(p, &w, "%s is not a valid Kafka topic name prefix (letters, "
				            "digits, '.', '_' and '-')", kdisp(p, k, c->kafka.topic_prefix));
			}
		}
	}
	if (c->parquet.enabled && c->parquet.directory[0] == '\0')
		return verr_required(p, K("sink.parquet.directory"), "where Parquet files go");
	{
		static const char *const pos[] = {
			"sink.parquet.rotate_rows", "sink.parquet.rotate_bytes",
			"sink.parquet.rotate_interval", "sink.parquet.row_group_rows",
		};
		int64_t vals[4] = {
			c->parquet.rotate_rows, c->parquet.rotate_bytes, c->parquet.rotate_interval_ms,
			c->parquet.row_group_rows,
		};

		for (int i = 0; i < 4; i++) {
			if (vals[i] <= 0) {
				struct where w;

				k = K(pos[i]);
				w = key_where(p, k);
				snprintf(a, sizeof(a), "%lld", (long long) vals[i]);
				return kerr(p, &w, "%s must be greater than 0", kdisp(p, k, a));
			}
		}
	}

	/* [monitor] */
	k = K("monitor.interval");
	if (c->monitor.interval_ms <= 0) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s must be greater than 0", kdisp(p, k, "0"));
	}
	if (check_pair_i64(p, "monitor.lag_bytes_warning", "monitor.lag_bytes_critical",
	                   c->monitor.lag_bytes_warning, c->monitor.lag_bytes_critical, fmt_size) < 0 ||
	    check_pair_i64(p, "monitor.lag_seconds_warning", "monitor.lag_seconds_critical",
	                   c->monitor.lag_seconds_warning_ms, c->monitor.lag_seconds_critical_ms,
	                   fmt_dur) < 0 ||
	    check_pair_i64(p, "monitor.retained_wal_warning", "monitor.retained_wal_critical",
	                   c->monitor.retained_wal_warning, c->monitor.retained_wal_critical,
	                   fmt_size) < 0)
		return -1;
	if (c->monitor.wal_disk_used_warning > c->monitor.wal_disk_used_critical) {
		int kw = K("monitor.wal_disk_used_warning"), kc = K("monitor.wal_disk_used_critical");
		struct where w = key_where(p, blame_critical(p, kw, kc) ? kc : kw);

		fmt_pct(a, sizeof(a), c->monitor.wal_disk_used_warning);
		fmt_pct(b, sizeof(b), c->monitor.wal_disk_used_critical);
		return kerr(p, &w, "warning threshold %s is above critical threshold %s: a warning "
		            "threshold must not exceed its critical one", a, b);
	}
	k = K("monitor.alert_timeout");
	if (c->monitor.alert_timeout_ms <= 0) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s must be greater than 0", kdisp(p, k, "0"));
	}
	k = K("monitor.metrics_listen");
	if (!listen_ok(c->monitor.metrics_listen, &why)) {
		struct where w = key_where(p, k);

		return kerr(p, &w, "%s %s", kdisp(p, k, c->monitor.metrics_listen), why);
	}

	if (!c->kafka.enabled && !c->parquet.enabled && !c->stdout_sink.enabled &&
	    !c->null_sink.enabled)
		return lerr(p, 0, "no sink enabled: add [sink.stdout], [sink.kafka] or "
		            "[sink.parquet]%s",
		            p->present[S_KAFKA] || p->present[S_PARQUET] || p->present[S_STDOUT] ?
		            " (or remove enabled = off)" : "");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

static int
set_defaults(struct cfg *c)
{
	static const struct {
		size_t off;
		const char *v;
	} strs[] = {
		{ F(source.conninfo), "host=127.0.0.1 port=5432 dbname=app user=pgcdc" },
		{ F(source.slot), "pgcdc" },
		{ F(source.publication), "pgcdc" },
		{ F(source.state_dir), "/var/lib/pgcdc" },
		{ F(kafka.brokers), "127.0.0.1:9092" },
		{ F(kafka.topic_prefix), "pgcdc" },
		{ F(parquet.directory), "/var/lib/pgcdc/parquet" },
		{ F(monitor.wal_disk_path), "" },
		{ F(monitor.alert_command), "" },
		{ F(monitor.metrics_listen), "127.0.0.1:9752" },
	};
	const int64_t MB = INT64_C(1) << 20, GB = INT64_C(1) << 30;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		char *s = strdup(strs[i].v);

		if (s == NULL)
			return -1;
		*(char **) ((char *) c + strs[i].off) = s;
	}
	c->source.create_publication = CFG_PUB_OFF;
	c->source.snapshot = CFG_SNAP_INITIAL;
	c->source.snapshot_workers = 2;
	c->source.snapshot_method = CFG_SNAPM_ONLINE;
	c->backfill.chunk_rows = 10000;
	c->backfill.max_rate = 0;
	c->source.protocol = 0;   /* auto */
	c->source.status_interval_ms = 10 * 1000;
	c->source.heartbeat_interval_ms = 0;
	c->source.receive_timeout_ms = 60 * 1000;
	c->source.max_inflight = 64 * MB;
	c->log.level = CFG_LOG_INFO;
	c->log.format = CFG_LOG_TEXT;
	c->format.numeric_as_number = false;
	c->format.omit_unchanged_toast = false;
	c->kafka.enabled = true;            /* the `enabled` key's default; ANDed with presence */
	c->kafka.format = CFG_KAFKA_JSON;
	c->kafka.tombstones = true;
	c->kafka.messages = true;
	c->parquet.enabled = true;
	c->parquet.compression = CFG_COMP_ZSTD;
	c->parquet.rotate_rows = 1000000;
	c->parquet.rotate_bytes = 128 * MB;
	c->parquet.rotate_interval_ms = 5 * 60 * 1000;
	c->parquet.row_group_rows = 100000;
	c->stdout_sink.enabled = true;
	c->null_sink.enabled = true;
	c->monitor.interval_ms = 15 * 1000;
	c->monitor.lag_bytes_warning = 1 * GB;
	c->monitor.lag_bytes_critical = 10 * GB;
	c->monitor.lag_seconds_warning_ms = 5 * 60 * 1000;
	c->monitor.lag_seconds_critical_ms = 60 * 60 * 1000;
	c->monitor.retained_wal_warning = 5 * GB;
	c->monitor.retained_wal_critical = 20 * GB;
	c->monitor.wal_disk_used_warning = 0.70;
	c->monitor.wal_disk_used_critical = 0.85;
	c->monitor.alert_timeout_ms = 10 * 1000;
	c->monitor.alert_repeat_ms = 60 * 60 * 1000;
	return 0;
}

void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	free(c->path);
	for (int k = 0; k < NKEYS; k++) {
		char *field = (char *) c + keys[k].off;

		if (keys[k].type == K_STR)
			free(*(char **) field);
		else if (keys[k].type == K_LIST)
			list_free((struct cfg_list *) field);
	}
	for (int i = 0; i < c->kafka.nprops; i++) {
		free(c->kafka.props[i].key);
		free(c->kafka.props[i].value);
	}
	free(c->kafka.props);
	free(c);
}

/* text may be NULL (no file): defaults + overrides. */
static struct cfg *
load(const char *name, const char *text, char *const *overrides, int noverrides,
     struct cdc_err *err)
{
	struct pctx p;
	struct cfg *c;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.err = err;
	p.sect = -1;
	c = calloc(1, sizeof(*c));
	p.c = c;
	if (c == NULL || set_defaults(c) < 0 || (c->path = strdup(name)) == NULL) {
		oom(&p);
		goto out;
	}
	if (text != NULL && parse_text(&p, text) < 0)
		goto out;
	for (int i = 0; i < noverrides; i++) {
		if (apply_override(&p, overrides[i]) < 0)
			goto out;
	}
	c->kafka.enabled = c->kafka.enabled && p.present[S_KAFKA];
	c->parquet.enabled = c->parquet.enabled && p.present[S_PARQUET];
	c->stdout_sink.enabled = c->stdout_sink.enabled && p.present[S_STDOUT];
	c->null_sink.enabled = c->null_sink.enabled && p.present[S_NULL];
	if (validate(&p) < 0)
		goto out;
	rc = 0;
out:
	for (int k = 0; k < NKEYS; k++)
		free(p.ks[k].disp);
	if (rc < 0) {
		cfg_free(c);
		return NULL;
	}
	return c;
}

struct cfg *
cfg_load_string(const char *name, const char *text, char *const *overrides, int noverrides,
                struct cdc_err *err)
{
	return load(name ? name : "(string)", text ? text : "", overrides, noverrides, err);
}

struct cfg *
cfg_load(const char *path, bool allow_missing, char *const *overrides, int noverrides,
         struct cdc_err *err)
{
	struct sbuf b = { 0 };
	struct cfg *c = NULL;
	char chunk[8192];
	FILE *f;
	size_t n;

	if (path == NULL)
		path = CFG_DEFAULT_PATH;
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && allow_missing)
			return load(path, NULL, overrides, noverrides, err);
		cdc_errf(err, CDC_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (memchr(chunk, '\0', n) != NULL) {
			cdc_errf(err, CDC_ERR_CONFIG, "%s: contains a NUL byte: not a text file", path);
			goto out;
		}
		if (b.len + n > CFG_MAX_FILE_BYTES) {
			cdc_errf(err, CDC_ERR_CONFIG, "%s: larger than %d bytes: not a configuration "
			         "file", path, CFG_MAX_FILE_BYTES);
			goto out;
		}
		sb_putn(&b, chunk, n);
	}
	if (ferror(f)) {
		cdc_errf(err, CDC_ERR_CONFIG, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (b.oom) {
		cdc_errf(err, CDC_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	c = load(path, b.p ? b.p : "", overrides, noverrides, err);
out:
	fclose(f);
	free(b.p);
	return c;
}

/* ------------------------------------------------------------------------ */
/* conninfo redaction                                                       */
/* ------------------------------------------------------------------------ */

/* Whether the (possibly percent-encoded) URI parameter name n[0..len) names a
 * password. */
static bool
uri_key_secret(const char *n, size_t len)
{
	char dec[64];
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < sizeof(dec); i++) {
		if (n[i] == '%' && i + 2 < len && isxdigit((unsigned char) n[i + 1]) &&
		    isxdigit((unsigned char) n[i + 2])) {
			char hex[3] = { n[i + 1], n[i + 2], '\0' };

			dec[o++] = (char) strtol(hex, NULL, 16);
			i += 2;
		} else {
			dec[o++] = n[i];
		}
	}
	dec[o] = '\0';
	return key_is_secret(dec);
}

static void
redact_uri(struct sbuf *b, const char *s, size_t prefix)
{
	const char *rest = s + prefix;
	const char *q = strchr(rest, '?');
	const char *end = q ? q : rest + strlen(rest);
	const char *at = NULL, *colon;

	/* The last '@' before the query: a password with an unencoded '@' or '/'
	 * is still covered (over-redacting is the safe side). */
	for (const char *x = rest; x < end; x++) {
		if (*x == '@')
			at = x;
	}
	if (at != NULL && (colon = memchr(rest, ':', (size_t) (at - rest))) != NULL) {
		sb_putn(b, s, (size_t) (colon + 1 - s));
		sb_puts(b, REDACTED);
		sb_putn(b, at, (size_t) (end - at));
	} else {
		sb_putn(b, s, (size_t) (end - s));
	}
	if (q == NULL)
		return;
	sb_putc(b, '?');
	for (const char *x = q + 1;;) {
		const char *amp = strchr(x, '&');
		const char *pend = amp ? amp : x + strlen(x);
		const char *eq = memchr(x, '=', (size_t) (pend - x));

		if (eq != NULL && uri_key_secret(x, (size_t) (eq - x))) {
			sb_putn(b, x, (size_t) (eq + 1 - x));
			sb_puts(b, REDACTED);
		} else {
			sb_putn(b, x, (size_t) (pend - x));
		}
		if (amp == NULL)
			break;
		sb_putc(b, '&');
		x = amp + 1;
	}
}

/* keyword = value pairs as libpq's conninfo_parse reads them: values bare (up
 * to whitespace) or single-quoted, backslash escaping the next character. */
static void
redact_kv(struct sbuf *b, const char *s)
{
	size_t i = 0;

	while (s[i] != '\0') {
		size_t ks = i, v;
		bool secret;
		char kw[64];

		if (isspace((unsigned char) s[i])) {
			sb_putc(b, s[i++]);
			continue;
		}
		while (s[i] != '\0' && !isspace((unsigned char) s[i]) && s[i] != '=')
			i++;
		snprintf(kw, sizeof(kw), "%.*s", (int) (i - ks), s + ks);
		secret = strcasestr(kw, "password") != NULL;
		sb_putn(b, s + ks, i - ks);
		while (isspace((unsigned char) s[i]))
			sb_putc(b, s[i++]);
		if (s[i] != '=')
			continue;
		sb_putc(b, s[i++]);
		while (isspace((unsigned char) s[i]))
			sb_putc(b, s[i++]);
		v = i;
		if (s[i] == '\'') {
			i++;
			while (s[i] != '\0' && s[i] != '\'') {
				if (s[i] == '\\' && s[i + 1] != '\0')
					i++;
				i++;
			}
			if (s[i] == '\'')
				i++;
		} else {
			while (s[i] != '\0' && !isspace((unsigned char) s[i])) {
				if (s[i] == '\\' && s[i + 1] != '\0')
					i++;
				i++;
			}
		}
		if (secret)
			sb_puts(b, REDACTED);
		else
			sb_putn(b, s + v, i - v);
	}
}

char *
cfg_conninfo_redacted(const char *conninfo)
{
	struct sbuf b = { 0 };

	if (conninfo == NULL)
		return strdup("");
	if (strncmp(conninfo, "postgresql://", 13) == 0)
		redact_uri(&b, conninfo, 13);
	else if (strncmp(conninfo, "postgres://", 11) == 0)
		redact_uri(&b, conninfo, 11);
	else
		redact_kv(&b, conninfo);
	return sb_take(&b);
}

void
cfg_sinks(const struct cfg *c, struct sink_sections *secs, struct sink_env *env)
{
	secs->stdout_sink = &c->stdout_sink;
	secs->null_sink = &c->null_sink;
	secs->kafka = &c->kafka;
	secs->parquet = &c->parquet;
	env->section = NULL;
	env->format = &c->format;
	env->source_name = c->kafka.topic_prefix;
	env->cfg_path = c->path;
}

void
cfg_sink_env(const struct cfg *c, const struct sink_ops *ops, struct sink_env *env)
{
	struct sink_sections secs;
	const struct cdc_types *types = env->types;
	const char *dbname = env->dbname;

	cfg_sinks(c, &secs, env);
	env->section = sink_section(&secs, ops);
	env->types = types;
	env->dbname = dbname;
}
