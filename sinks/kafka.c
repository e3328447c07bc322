/*
 * kafka.c — the Kafka sink (SPEC §2 [sink.kafka], §3, §5): a librdkafka idempotent
 * producer writing one Debezium-compatible record per change to
 * <topic_prefix>.<schema>.<table>, JSON or protobuf values, JSON keys.
 *
 * DESIGN: durability comes from delivery reports.  Every transaction the pipeline
 * begins gets a tracking entry at the tail of a FIFO; every message produced for it
 * carries a pointer to that entry as its librdkafka opaque and bumps the entry's
 * count of outstanding messages; the delivery-report callback (served on this
 * thread by rd_kafka_poll/rd_kafka_flush) counts it down.  An entry is durable once
 * its transaction has committed, its count is zero and every entry before it is
 * durable: poll() pops such entries from the head and reports the end LSN of the
 * last one.  An aborted transaction's entry stays in the FIFO until its messages
 * are reported (their opaques point at it) and then goes without advancing
 * anything.  Entries are recycled through a free list.
 *
 * Nothing is ever dropped because Kafka is slow or down: message.timeout.ms is 0
 * (infinite) unless the user sets it, so librdkafka retries for ever; its queue
 * fills, produce() answers QUEUE_FULL, and we return CDC_ERR_AGAIN: the pipeline
 * stops reading WAL, keeps the server session alive and retries the same call.
 * A delete's tombstone that hits a full queue is remembered, so the retry does not
 * produce the delete twice.  A delivery report with an error is final (librdkafka
 * retries everything retriable itself): the sink enters a failed state and every
 * later call returns a fatal error naming the table, the LSN and the librdkafka
 * error, while the failed entry never becomes durable, so nothing from it on is
 * acknowledged to PostgreSQL.
 *
 * Ordering: enable.idempotence=true and acks=all are always set (the config layer
 * already refuses anything weaker); the idempotent producer keeps per-partition
 * order across retries (max.in.flight <= 5), and the murmur2_random partitioner
 * sends a key where the Java client would, so one key's records stay in one
 * partition in commit order.
 *
 * Hot path: key and value are encoded into buffers owned by the sink and reused,
 * topic handles are cached per relation, librdkafka copies the bytes (one
 * allocation per message, inside librdkafka).
 *
 * Owning thread: the replication (main) thread.  librdkafka's log callback runs on
 * its own threads and only reads the immutable kafka_ctx.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "sink.h"
#include "../common/log.h"
#include "../decoder/json.h"
#include "../decoder/proto.h"
#include "decoder/pgcdc.pb-c.h"
#include "../common/clock.h"

#define KAFKA_TOPIC_MAX 249            /* Kafka's limit on topic name length */
#define KAFKA_POLL_EVERY 1000          /* serve delivery reports every this many messages */
#define KAFKA_FULL_POLL_MS 10          /* queue full: serve deliveries this long, then retry */
#define KAFKA_FULL_RETRIES 10          /* ... this many times before it is backpressure */
#define KAFKA_CLOSE_FLUSH_MS 5000      /* close(): how long to wait for delivery */
#define KAFKA_PROBE_TIMEOUT_MS 5000    /* check: metadata request timeout */
#define KAFKA_ERRLOG_INTERVAL_MS 30000 /* a transient error code is logged once per this */
#define KAFKA_SECRET_MIN 4             /* shorter secret values are not scrubbed from logs */

struct kafka_sink;

/* What librdkafka's callbacks see (the conf opaque).  Immutable once the producer
 * exists, except through `sink`, which only the main thread's callbacks use. */
struct kafka_ctx {
	struct kafka_sink *sink;   /* NULL for the check probe */
	bool quiet;                /* probe: librdkafka's own log lines at debug level only */
	int nsecrets;
	char **secrets;            /* values of secret-bearing properties, scrubbed from logs */
};

/* One transaction's tracking entry. */
struct ktxn {
	struct ktxn *next;
	cdc_lsn commit_lsn;
	cdc_lsn end_lsn;
	uint64_t outstanding;      /* produced, delivery report not yet served */
	bool committed;
	bool aborted;              /* never becomes durable; the server resends it */
	bool failed;               /* a message got an error report: never durable */
};

/* A cached topic handle; one per relation OID. */
struct ktopic {
	uint32_t oid;              /* 0: empty slot */
	char *schema, *table;      /* copies: a rename means another topic */
	rd_kafka_topic_t *rkt;
};

struct kafka_sink {
	struct sink base;          /* first: the pipeline sees a struct sink */
	rd_kafka_t *rk;
	struct kafka_ctx ctx;
	const struct cdc_types *types;
	struct json_opts jopts;
	struct json_opts hdr_jopts;        /* jopts without schemas: __debezium.* headers */
	char *prefix;
	bool tombstones;
	bool messages;             /* op "m" records to <prefix>.message */
	rd_kafka_topic_t *msg_rkt; /* that topic, once a message came */
	/* transaction_topic: Debezium's transaction metadata for the open transaction */
	bool txmeta;
	rd_kafka_topic_t *tx_rkt;  /* <prefix>.transaction, once needed */
	bool tx_begun;             /* its BEGIN record is produced */
	uint64_t tx_total;         /* its records so far */
	struct txcount {
		uint32_t oid;
		char *collection;      /* "<schema>.<table>" */
		uint64_t n;
	} *txc;
	size_t ntxc, txccap;
	struct jbuf txkey;
	struct proto_enc *penc;    /* format = protobuf, else NULL */
	struct jbuf key, val, name;
	struct jbuf hdr;                /* a record-key change's header value */

	struct ktopic *topics;     /* open addressing on oid */
	size_t topics_cap, ntopics;

	struct ktxn *head, *tail;  /* FIFO of transactions not yet durable (or dropped) */
	struct ktxn *cur;          /* the open transaction (the tail), or NULL */
	struct ktxn *freelist;
	uint64_t outstanding;      /* messages of every entry without a delivery report */
	cdc_lsn durable;
	unsigned since_poll;

	/* write() of a delete produced the record but the tombstone hit a full queue:
	 * the retry of the same change produces only the tombstone */
	const struct cdc_change *tomb_ch;
	cdc_lsn tomb_lsn;

	bool failed;
	bool closing;
	char failmsg[sizeof(((struct cdc_err *) 0)->msg)];
	char lasterr[256];         /* latest transient producer error, for stall messages */
	int lasterr_code;
	int64_t lasterr_logged_ms;
};

/* snprintf that may truncate on purpose (messages). */
static void bfmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
bfmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ secrets, logs */

/* Properties whose values never appear in messages: the same rule as the config
 * layer (agent/config.c key_is_secret). */
static bool
prop_is_secret(const char *key)
{
	return strcasestr(key, "password") != NULL || strcasestr(key, "secret") != NULL ||
	       strstr(key, "sasl.oauthbearer.config") != NULL || strstr(key, "ssl.key.pem") != NULL ||
	       strstr(key, "ssl_key") != NULL;
}

/* Copy src to dst (cap bytes) with every secret value replaced by "********". */
static void
scrub(const struct kafka_ctx *ctx, char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	if (cap == 0)
		return;
	while (*src != '\0' && o + 1 < cap) {
		size_t skip = 0;

		for (int i = 0; ctx != NULL && i < ctx->nsecrets; i++) {
			size_t l = strlen(ctx->secrets[i]);

			if (strncmp(src, ctx->secrets[i], l) == 0) {
				skip = l;
				break;
			}
		}
		if (skip > 0) {
			for (const char *m = "********"; *m != '\0' && o + 1 < cap; m++)
				dst[o++] = *m;
			src += skip;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = '\0';
}

/* librdkafka's log lines (any thread).  Its errors are also reported through the
 * error callback or delivery reports, which decide what is fatal, so its own lines
 * are at most warnings here. */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kafka_ctx *ctx = rd_kafka_opaque(rk);
	char clean[1024];
	int lvl;

	if (level <= 4)
		lvl = LOG_LVL_WARNING;
	else if (level <= 6)
		lvl = LOG_LVL_INFO;
	else
		lvl = LOG_LVL_DEBUG;
	if (ctx != NULL && ctx->quiet)
		lvl = LOG_LVL_DEBUG;
	if (lvl < log_min_level)
		return;
	scrub(ctx, clean, sizeof(clean), buf);
	log_write(lvl, "kafka", "%s: %s", fac, clean);
}

/* Producer-level errors (served by rd_kafka_poll on the main thread).  Only a
 * fatal error (idempotence state lost) is final; the rest (brokers down, transport
 * errors) are what librdkafka retries through: remembered for stall messages and
 * logged at most once per interval and code. */
static void
error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	struct kafka_ctx *ctx = opaque;
	struct kafka_sink *s = ctx != NULL ? ctx->sink : NULL;
	char clean[512];

	scrub(ctx, clean, sizeof(clean), reason);
	if (code == RD_KAFKA_RESP_ERR__FATAL) {
		char fatal[512], fclean[512];
		rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));

		scrub(ctx, fclean, sizeof(fclean), fatal);
		if (s != NULL && !s->failed) {
			s->failed = true;
			bfmt(s->failmsg, sizeof(s->failmsg), "kafka: fatal producer error %s: %s; "
			         "nothing after the last acknowledged position was acknowledged",
			         rd_kafka_err2name(orig), fclean);
		}
		log_error("kafka", "fatal producer error %s: %s", rd_kafka_err2name(orig), fclean);
		return;
	}
	if (s == NULL) {
		log_debug("kafka", "%s: %s", rd_kafka_err2name(code), clean);
		return;
	}
	bfmt(s->lasterr, sizeof(s->lasterr), "%s", clean);
	if (code != s->lasterr_code || mono_ms() - s->lasterr_logged_ms >= KAFKA_ERRLOG_INTERVAL_MS) {
		log_warning("kafka", "%s (%s); librdkafka keeps retrying, nothing is lost", clean,
		            rd_kafka_err2name(code));
		s->lasterr_code = code;
		s->lasterr_logged_ms = mono_ms();
	}
}

/* ------------------------------------------------------------ configuration */

/* "agent.conf:12: sink.kafka.kafka.X" or "--set: sink.kafka.kafka.X" */
static void
prop_where(const char *path, const struct cfg_kv *kv, char *buf, size_t cap)
{
	if (kv->line > 0)
		bfmt(buf, cap, "%s:%d: sink.kafka.kafka.%s", path ? path : "config",
		         kv->line, kv->key);
	else
		bfmt(buf, cap, "--set: sink.kafka.kafka.%s", kv->key);
}

static int
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, struct cdc_err *err)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return cdc_errf(err, CDC_ERR_CONFIG, "sink.kafka: librdkafka refuses %s: %s", key, errstr);
	return 0;
}

static bool
user_sets(const struct sink_kafka_cfg *cfg, const char *key)
{
	for (int i = 0; i < cfg->nprops; i++)
		if (strcmp(cfg->props[i].key, key) == 0)
			return true;
	return false;
}

/* Collect the secret values to scrub from librdkafka's log lines. */
static int
ctx_init(struct kafka_ctx *ctx, const struct sink_kafka_cfg *cfg, struct cdc_err *err)
{
	ctx->nsecrets = 0;
	ctx->secrets = calloc((size_t) cfg->nprops + 1, sizeof(char *));
	if (ctx->secrets == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
	for (int i = 0; i < cfg->nprops; i++) {
		const struct cfg_kv *kv = &cfg->props[i];

		if (!prop_is_secret(kv->key) || kv->value == NULL || strlen(kv->value) < KAFKA_SECRET_MIN)
			continue;
		if ((ctx->secrets[ctx->nsecrets] = strdup(kv->value)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		ctx->nsecrets++;
	}
	return 0;
}

static void
ctx_free(struct kafka_ctx *ctx)
{
	for (int i = 0; i < ctx->nsecrets; i++)
		free(ctx->secrets[i]);
	free(ctx->secrets);
	ctx->secrets = NULL;
	ctx->nsecrets = 0;
}

/* The producer configuration: our defaults, then every kafka.<property> in file
 * order, then what the delivery guarantee needs (not overridable).  Returns owned
 * conf or NULL with err set (CDC_ERR_CONFIG naming the property). */
static rd_kafka_conf_t *
build_conf(const struct sink_kafka_cfg *cfg, const char *path, struct kafka_ctx *ctx,
           struct cdc_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512], where[300];

	if (conf == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		return NULL;
	}
	if (conf_set(conf, "client.id", "pgcdc", err) != 0 ||
	    /* the Java client's default partitioner: a key lands where Debezium's would */
	    conf_set(conf, "partitioner", "murmur2_random", err) != 0 ||
	    /* infinite: an outage is backpressure, never a dropped record */
	    conf_set(conf, "message.timeout.ms", "0", err) != 0)
		goto fail;
	for (int i = 0; i < cfg->nprops; i++) {
		const struct cfg_kv *kv = &cfg->props[i];
		rd_kafka_conf_res_t res;

		res = rd_kafka_conf_set(conf, kv->key, kv->value != NULL ? kv->value : "", errstr,
		                        sizeof(errstr));
		if (res == RD_KAFKA_CONF_OK)
			continue;
		prop_where(path, kv, where, sizeof(where));
		if (res == RD_KAFKA_CONF_UNKNOWN)
			cdc_errf(err, CDC_ERR_CONFIG, "%s: librdkafka %s has no property \"%s\" (see "
			         "librdkafka's CONFIGURATION.md)", where, rd_kafka_version_str(), kv->key);
		else if (prop_is_secret(kv->key))
			cdc_errf(err, CDC_ERR_CONFIG, "%s: librdkafka rejects the value (hidden)", where);
		else
			cdc_errf(err, CDC_ERR_CONFIG, "%s: librdkafka rejects it: %s", where, errstr);
		goto fail;
	}
	if (conf_set(conf, "bootstrap.servers", cfg->brokers, err) != 0 ||
	    conf_set(conf, "enable.idempotence", "true", err) != 0 ||
	    conf_set(conf, "acks", "all", err) != 0)
		goto fail;
	rd_kafka_conf_set_opaque(conf, ctx);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Create the producer (takes ownership of conf, also on failure). */
static rd_kafka_t *
new_producer(rd_kafka_conf_t *conf, const struct kafka_ctx *ctx, struct cdc_err *err)
{
	char errstr[512], clean[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));

	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		scrub(ctx, clean, sizeof(clean), errstr);
		cdc_errf(err, CDC_ERR_CONFIG, "sink.kafka: librdkafka refuses the configuration: %s",
		         clean);
	}
	return rk;
}

/* ------------------------------------------------------------ tracking */

/* Pop every entry that is complete, from the head: committed ones advance the
 * durable LSN, aborted ones just go.  Stops at the first incomplete or failed one. */
static void
advance(struct kafka_sink *s)
{
	while (s->head != NULL && s->head != s->cur && s->head->outstanding == 0 &&
	       !s->head->failed && (s->head->committed || s->head->aborted)) {
		struct ktxn *t = s->head;

		if (t->committed && t->end_lsn > s->durable)
			s->durable = t->end_lsn;
		s->head = t->next;
		if (s->head == NULL)
			s->tail = NULL;
		t->next = s->freelist;
		s->freelist = t;
	}
}

static int
check_failed(struct kafka_sink *s, struct cdc_err *err)
{
	if (!s->failed)
		return 0;
	return cdc_errf(err, CDC_ERR_FATAL, "%s", s->failmsg);
}

/* The table a topic handle was made for ("schema.table"), from the cache. */
static void
table_of_rkt(const struct kafka_sink *s, const rd_kafka_topic_t *rkt, char *buf, size_t cap)
{
	for (size_t i = 0; i < s->topics_cap; i++) {
		if (s->topics[i].oid != 0 && s->topics[i].rkt == rkt) {
			bfmt(buf, cap, "%s.%s", s->topics[i].schema, s->topics[i].table);
			return;
		}
	}
	snprintf(buf, cap, "?");
}

/* The change LSN a produced value carries (source.lsn), 0 when unknown. */
static cdc_lsn
lsn_of_value(const struct kafka_sink *s, const void *payload, size_t len)
{
	cdc_lsn lsn = 0;

	if (payload == NULL || len == 0)
		return 0;
	if (s->penc != NULL) {
		Pgcdc__V1__Change *m = pgcdc__v1__change__unpack(NULL, len, payload);

		if (m != NULL && m->source != NULL)
			lsn = m->source->lsn;
		if (m != NULL)
			pgcdc__v1__change__free_unpacked(m, NULL);
		return lsn;
	}
	/* JSON: source comes after before/after and only "op", "ts_ms" and
	 * "transaction" follow it, so the last "lsn": is source.lsn */
	{
		const char *p = payload, *hit = NULL;
		static const char pat[] = "\"lsn\":";

		for (size_t i = 0; i + sizeof(pat) - 1 <= len; i++)
			if (memcmp(p + i, pat, sizeof(pat) - 1) == 0)
				hit = p + i + sizeof(pat) - 1;
		while (hit != NULL && hit < p + len && *hit >= '0' && *hit <= '9')
			lsn = lsn * 10 + (cdc_lsn) (*hit++ - '0');
	}
	return lsn;
}

static const char *
error_hint(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return " (raise the topic's max.message.bytes and kafka.message.max.bytes, or "
		       "exclude the large column)";
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return " (grant the producer's principal WRITE and IDEMPOTENT_WRITE on the topic)";
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		return " (create the topic, or enable auto.create.topics.enable on the brokers)";
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
		return " (kafka.message.timeout.ms is set: remove it to wait for the brokers "
		       "indefinitely)";
	default:
		return "";
	}
}

/* Delivery reports (served on the main thread by rd_kafka_poll/flush). */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_ctx *ctx = opaque;
	struct kafka_sink *s = ctx != NULL ? ctx->sink : NULL;
	struct ktxn *t = m->_private;
	char table[300];
	cdc_lsn lsn;

	if (s == NULL || t == NULL)
		return;
	if (t->outstanding > 0)
		t->outstanding--;
	if (s->outstanding > 0)
		s->outstanding--;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->lasterr[0] = '\0';
		return;
	}
	if (s->closing)
		return;                /* purged at close: not acknowledged, resent next time */
	t->failed = true;
	if (s->failed)
		return;
	s->failed = true;
	table_of_rkt(s, m->rkt, table, sizeof(table));
	lsn = lsn_of_value(s, m->payload, m->len);
	if (lsn != 0)
		bfmt(s->failmsg, sizeof(s->failmsg), "kafka: delivery of the record of table %s at "
		         "LSN " CDC_LSN_FMT " to topic \"%s\" failed: %s: %s%s; nothing from there on "
		         "is acknowledged", table, CDC_LSN_ARGS(lsn), rd_kafka_topic_name(m->rkt),
		         rd_kafka_err2name(m->err), rd_kafka_err2str(m->err), error_hint(m->err));
	else
		bfmt(s->failmsg, sizeof(s->failmsg), "kafka: delivery of a %s of table %s in the "
		         "transaction committed at LSN " CDC_LSN_FMT " to topic \"%s\" failed: %s: "
		         "%s%s; nothing from there on is acknowledged",
		         m->payload == NULL ? "tombstone" : "record", table,
		         CDC_LSN_ARGS(t->commit_lsn), rd_kafka_topic_name(m->rkt),
		         rd_kafka_err2name(m->err), rd_kafka_err2str(m->err), error_hint(m->err));
	(void) rk;
}

/* ------------------------------------------------------------ topics */

static uint32_t
hash_oid(uint32_t oid)
{
	oid ^= oid >> 16;
	oid *= 0x45d9f3bU;
	oid ^= oid >> 16;
	return oid;
}

/* <prefix>.<schema>.<table> into s->name, characters Kafka does not allow in topic
 * names replaced by '_' (as Debezium does).  Returns whether anything was replaced. */
static bool
topic_name(struct kafka_sink *s, const char *schema, const char *table)
{
	const char *parts[3] = { s->prefix, schema, table };
	bool replaced = false;

	jbuf_reset(&s->name);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			jbuf_putc(&s->name, '.');
		for (const char *p = parts[i]; *p != '\0'; p++) {
			char c = *p;

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '.' || c == '_' || c == '-')) {
				c = '_';
				replaced = true;
			}
			jbuf_putc(&s->name, c);
		}
	}
	jbuf_putc(&s->name, '\0');
	return replaced;
}

/* <topic_prefix><suffix>, one topic as Debezium's: ".message" for logical decoding
 * messages, ".transaction" for transaction metadata.  Cached in *rkt. */
static rd_kafka_topic_t *
own_topic(struct kafka_sink *s, rd_kafka_topic_t **rkt, const char *suffix, struct cdc_err *err)
{
	if (*rkt != NULL)
		return *rkt;
	jbuf_reset(&s->name);
	jbuf_puts(&s->name, s->prefix);
	jbuf_puts(&s->name, suffix);
	jbuf_putc(&s->name, '\0');
	if (s->name.oom) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		return NULL;
	}
	if ((*rkt = rd_kafka_topic_new(s->rk, s->name.data, NULL)) == NULL)
		cdc_errf(err, CDC_ERR_FATAL, "kafka: cannot create a handle for topic \"%s\": %s",
		         s->name.data, rd_kafka_err2str(rd_kafka_last_error()));
	return *rkt;
}

static int
topics_grow(struct kafka_sink *s, struct cdc_err *err)
{
	size_t cap = s->topics_cap ? s->topics_cap * 2 : 64;
	struct ktopic *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
	for (size_t i = 0; i < s->topics_cap; i++) {
		struct ktopic *o = &s->topics[i];
		size_t j;

		if (o->oid == 0)
			continue;
		for (j = hash_oid(o->oid) & (cap - 1); t[j].oid != 0; j = (j + 1) & (cap - 1))
			;
		t[j] = *o;
	}
	free(s->topics);
	s->topics = t;
	s->topics_cap = cap;
	return 0;
}

/* The topic handle for rel's records (cached per OID; a renamed table gets the new
 * topic).  Returns NULL with err set. */
static rd_kafka_topic_t *
topic_for(struct kafka_sink *s, const struct cdc_rel *rel, struct cdc_err *err)
{
	const char *schema = rel->schema != NULL ? rel->schema : "";
	const char *table = rel->name != NULL ? rel->name : "";
	struct ktopic *t;
	size_t j;

	if (s->topics_cap == 0 || (s->ntopics + 1) * 2 > s->topics_cap)
		if (topics_grow(s, err) != 0)
			return NULL;
	for (j = hash_oid(rel->oid) & (s->topics_cap - 1); s->topics[j].oid != 0;
	     j = (j + 1) & (s->topics_cap - 1)) {
		t = &s->topics[j];
		if (t->oid != rel->oid)
			continue;
		if (strcmp(t->schema, schema) == 0 && strcmp(t->table, table) == 0)
			return t->rkt;
		/* renamed: replace the entry */
		rd_kafka_topic_destroy(t->rkt);
		free(t->schema);
		free(t->table);
		s->ntopics--;
		break;
	}
	t = &s->topics[j];
	memset(t, 0, sizeof(*t));
	if (topic_name(s, schema, table))
		log_warning("kafka", "table %s.%s: characters Kafka does not allow in topic names "
		            "replaced by '_': topic \"%s\"", schema, table, s->name.data);
	if (s->name.oom) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		return NULL;
	}
	if (strlen(s->name.data) > KAFKA_TOPIC_MAX) {
		cdc_errf(err, CDC_ERR_FATAL, "kafka: the topic name for table %s.%s, \"%.40s...\", is "
		         "longer than Kafka's %d characters: choose a shorter sink.kafka.topic_prefix",
		         schema, table, s->name.data, KAFKA_TOPIC_MAX);
		return NULL;
	}
	t->schema = strdup(schema);
	t->table = strdup(table);
	if (t->schema == NULL || t->table == NULL) {
		free(t->schema);
		free(t->table);
		t->schema = t->table = NULL;
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		return NULL;
	}
	t->rkt = rd_kafka_topic_new(s->rk, s->name.data, NULL);
	if (t->rkt == NULL) {
		free(t->schema);
		free(t->table);
		t->schema = t->table = NULL;
		cdc_errf(err, CDC_ERR_FATAL, "kafka: cannot create a handle for topic \"%s\": %s",
		         s->name.data, rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	t->oid = rel->oid;
	s->ntopics++;
	log_debug("kafka", "table %s.%s -> topic %s", schema, table, s->name.data);
	return t->rkt;
}

/* ------------------------------------------------------------ transaction metadata */

static int produce(struct kafka_sink *s, rd_kafka_topic_t *rkt, const struct cdc_change *ch,
                   const void *key, size_t keylen, const void *val, size_t vallen,
                   const char *hname, const struct jbuf *hval, struct cdc_err *err);

static void
tx_reset(struct kafka_sink *s)
{
	for (size_t i = 0; i < s->ntxc; i++)
		free(s->txc[i].collection);
	s->ntxc = 0;
	s->tx_begun = false;
	s->tx_total = 0;
}

/* Whether ch gets transaction metadata: the changes of a transaction the server
 * decoded; not snapshot or backfill rows, nor messages (Debezium counts no message). */
static bool
tx_has_meta(const struct kafka_sink *s, const struct cdc_change *ch)
{
	/* rows and, as Debezium's, transactional messages (data collection
	 * LOGICAL_DECODING_MESSAGE) */
	bool counted = ch->op == CDC_OP_MESSAGE ? ch->msg != NULL && ch->msg->transactional
	                                        : ch->rel != NULL && ch->op != CDC_OP_READ;

	return s->txmeta && counted && ch->txn != NULL && !ch->txn->snapshot && ch->txn->xid != 0;
}

/* The count entry of ch's table in the open transaction, added if new (rel NULL: the
 * messages', Debezium's LOGICAL_DECODING_MESSAGE); NULL: OOM. */
static struct txcount *
tx_count(struct kafka_sink *s, const struct cdc_rel *rel)
{
	uint32_t oid = rel != NULL ? rel->oid : 0;
	struct txcount *c;
	int len;

	for (size_t i = s->ntxc; i-- > 0;)
		if (s->txc[i].oid == oid)
			return &s->txc[i];
	if (s->ntxc == s->txccap) {
		size_t cap = s->txccap ? s->txccap * 2 : 8;
		struct txcount *n = realloc(s->txc, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		s->txc = n;
		s->txccap = cap;
	}
	c = &s->txc[s->ntxc];
	if (rel == NULL)
		len = asprintf(&c->collection, "LOGICAL_DECODING_MESSAGE");
	else
		len = asprintf(&c->collection, "%s.%s", rel->schema ? rel->schema : "",
		               rel->name ? rel->name : "");
	if (len < 0)
		return NULL;
	c->oid = oid;
	c->n = 0;
	s->ntxc++;
	return c;
}

/* Produce the BEGIN (counts NULL) or END record of the open transaction. */
static int
tx_produce(struct kafka_sink *s, const struct cdc_txn *txn, bool end, const struct cdc_change *ch,
           struct cdc_err *err)
{
	struct json_tx_count counts[64], *cv = counts;
	rd_kafka_topic_t *rkt;
	cdc_lsn lsn = end ? txn->end_lsn : (txn->begin_lsn ? txn->begin_lsn : ch->lsn);
	const uint8_t *pval = NULL;
	const void *val = NULL;
	size_t vallen = 0;
	int rc;

	if ((rkt = own_topic(s, &s->tx_rkt, ".transaction", err)) == NULL)
		return err->code;
	if (end && s->ntxc > 64 && (cv = malloc(s->ntxc * sizeof(*cv))) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
	for (size_t i = 0; end && i < s->ntxc; i++) {
		cv[i].collection = s->txc[i].collection;
		cv[i].n = s->txc[i].n;
	}
	jbuf_reset(&s->txkey);
	jbuf_reset(&s->val);
	/* the key is JSON in both formats, as a row's */
	rc = json_tx_event(&s->txkey, &s->val, txn->xid, lsn, txn->commit_ts_us, end ? cv : NULL,
	                   s->ntxc, s->tx_total, s->jopts.debezium && s->jopts.schemas, err);
	if (rc == 0 && s->penc != NULL)
		rc = proto_tx_event(s->penc, txn->xid, lsn, txn->commit_ts_us, end ? cv : NULL, s->ntxc,
		                    s->tx_total, &pval, &vallen, err);
	if (rc == 0 && s->penc != NULL) {
		val = pval;
	} else if (rc == 0) {
		val = s->val.data;
		vallen = s->val.len;
	}
	if (cv != counts)
		free(cv);
	if (rc != 0)
		return rc;
	return produce(s, rkt, ch, s->txkey.data, s->txkey.len, val, vallen, NULL, NULL, err);
}

/* ------------------------------------------------------------ the sink */

static void
free_txns(struct ktxn *t)
{
	while (t != NULL) {
		struct ktxn *n = t->next;

		free(t);
		t = n;
	}
}

static void
kafka_close(struct sink *base)
{
	struct kafka_sink *s = (struct kafka_sink *) base;

	if (s == NULL)
		return;
	if (s->rk != NULL) {
		if (s->outstanding > 0 && !s->failed)
			rd_kafka_flush(s->rk, KAFKA_CLOSE_FLUSH_MS);
		rd_kafka_poll(s->rk, 0);
		advance(s);
		if (s->outstanding > 0)
			log_warning("kafka", "%" PRIu64 " records still awaited delivery at shutdown: "
			            "not acknowledged, they are sent again on the next start", s->outstanding);
		s->closing = true;
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(s->rk, 0);
		for (size_t i = 0; i < s->topics_cap; i++)
			if (s->topics[i].oid != 0)
				rd_kafka_topic_destroy(s->topics[i].rkt);
		if (s->msg_rkt != NULL)
			rd_kafka_topic_destroy(s->msg_rkt);
		if (s->tx_rkt != NULL)
			rd_kafka_topic_destroy(s->tx_rkt);
		rd_kafka_destroy(s->rk);
	}
	for (size_t i = 0; i < s->topics_cap; i++) {
		free(s->topics[i].schema);
		free(s->topics[i].table);
	}
	free(s->topics);
	tx_reset(s);
	free(s->txc);
	jbuf_free(&s->txkey);
	free_txns(s->head);
	free_txns(s->freelist);
	proto_enc_free(s->penc);
	jbuf_free(&s->key);
	jbuf_free(&s->val);
	jbuf_free(&s->hdr);
	jbuf_free(&s->name);
	ctx_free(&s->ctx);
	free(s->prefix);
	free(s);
}

static struct sink *
kafka_open(const struct sink_env *env, struct cdc_err *err)
{
	const struct sink_kafka_cfg *cfg = env->section;
	struct kafka_sink *s = calloc(1, sizeof(*s));
	rd_kafka_conf_t *conf;

	if (s == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		return NULL;
	}
	s->base.ops = &sink_kafka_ops;
	s->types = env->types;
	s->tombstones = cfg->tombstones;
	s->messages = cfg->messages;
	s->txmeta = cfg->transaction_topic;
	s->prefix = strdup(cfg->topic_prefix);
	sink_json_opts(env, &s->jopts);
	s->hdr_jopts = s->jopts;
	s->hdr_jopts.schemas = false;
	jbuf_init(&s->key);
	jbuf_init(&s->val);
	jbuf_init(&s->name);
	jbuf_init(&s->txkey);
	s->ctx.sink = s;
	if (s->prefix == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		goto fail;
	}
	if (cfg->format == CFG_KAFKA_PROTOBUF && (s->penc = proto_enc_new()) == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		goto fail;
	}
	if (ctx_init(&s->ctx, cfg, err) != 0)
		goto fail;
	if ((conf = build_conf(cfg, env->cfg_path, &s->ctx, err)) == NULL)
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	if ((s->rk = new_producer(conf, &s->ctx, err)) == NULL)
		goto fail;
	if (user_sets(cfg, "message.timeout.ms"))
		log_warning("kafka", "kafka.message.timeout.ms is set: a record the brokers do not "
		            "confirm in time stops the agent instead of waiting for them");
	log_info("kafka", "producing to %s: topics %s.<schema>.<table>, %s values, tombstones %s "
	         "(librdkafka %s, idempotent, acks=all)", cfg->brokers, s->prefix,
	         s->penc != NULL ? "protobuf (pgcdc.v1.Change)" : "JSON",
	         s->tombstones ? "on" : "off", rd_kafka_version_str());
	return &s->base;
fail:
	kafka_close(&s->base);
	return NULL;
}

static int
kafka_begin(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct kafka_sink *s = (struct kafka_sink *) base;
	struct ktxn *t;
	int rc;

	if ((rc = check_failed(s, err)) != 0)
		return rc;
	if (s->cur != NULL) {      /* not expected: begin without commit or abort */
		s->cur->aborted = true;
		s->cur = NULL;
	}
	if ((t = s->freelist) != NULL)
		s->freelist = t->next;
	else if ((t = malloc(sizeof(*t))) == NULL)
		return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
	memset(t, 0, sizeof(*t));
	t->commit_lsn = txn->commit_lsn;
	t->end_lsn = txn->end_lsn;
	if (s->tail != NULL)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
	s->cur = t;
	s->tomb_ch = NULL;
	tx_reset(s);
	return 0;
}

/* Produce one message for the open transaction: 0, CDC_ERR_AGAIN (queue full) or
 * a fatal error (the sink is then failed). */
static int
produce(struct kafka_sink *s, rd_kafka_topic_t *rkt, const struct cdc_change *ch,
        const void *key, size_t keylen, const void *val, size_t vallen, const char *hname,
        const struct jbuf *hval, struct cdc_err *err)
{
	struct ktxn *t = s->cur;
	rd_kafka_resp_err_t e;
	char fatal[256], what[240];

	t->outstanding++;
	s->outstanding++;
	/* A full queue is first served in place, as librdkafka recommends: deliveries
	 * make room within milliseconds while the brokers keep up, and producing goes
	 * on without the whole queue being drained first.  Only a queue that stays full
	 * (brokers slow or down) is handed back to the pipeline as backpressure. */
	for (int tries = 0;; tries++) {
		int r;

		if (hname == NULL) {
			r = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *) val,
			                     vallen, key, keylen, t);
			e = r == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
		} else {
			/* librdkafka owns the headers once the record is queued */
			rd_kafka_headers_t *h = rd_kafka_headers_new(1);

			rd_kafka_header_add(h, hname, -1, hval->data, (ssize_t) hval->len);
			e = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(rkt),
			                      RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
			                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			                      RD_KAFKA_V_VALUE((void *) val, vallen),
			                      RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_HEADERS(h),
			                      RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
				rd_kafka_headers_destroy(h);
		}
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			s->base.records++;
			if (++s->since_poll >= KAFKA_POLL_EVERY) {
				s->since_poll = 0;
				rd_kafka_poll(s->rk, 0);
			}
			return 0;
		}
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries == KAFKA_FULL_RETRIES)
			break;
		rd_kafka_poll(s->rk, KAFKA_FULL_POLL_MS);
	}
	t->outstanding--;
	s->outstanding--;
	if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		rd_kafka_poll(s->rk, 0);
		return cdc_errf(err, CDC_ERR_AGAIN, "kafka: producer queue full, %" PRIu64 " records "
		                "awaiting delivery%s%s", s->outstanding, s->lasterr[0] ? ": " : "",
		                s->lasterr);
	}
	s->failed = true;
	/* what the record is of: a table, a message (no relation), a transaction (no change) */
	if (ch == NULL)
		snprintf(what, sizeof(what), "transaction at " CDC_LSN_FMT, CDC_LSN_ARGS(t->commit_lsn));
	else if (ch->rel != NULL)
		snprintf(what, sizeof(what), "table %.100s.%.100s", ch->rel->schema, ch->rel->name);
	else
		snprintf(what, sizeof(what), "message \"%.100s\"", ch->msg ? ch->msg->prefix : "?");
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		e = rd_kafka_fatal_error(s->rk, fatal, sizeof(fatal));
		bfmt(s->failmsg, sizeof(s->failmsg), "kafka: cannot produce the record of %s at LSN "
		         CDC_LSN_FMT ": fatal producer error %s: %s", what, CDC_LSN_ARGS(ch ? ch->lsn : t->end_lsn),
		         rd_kafka_err2name(e), fatal);
	} else {
		bfmt(s->failmsg, sizeof(s->failmsg), "kafka: cannot produce the %s of %s "
		         "at LSN " CDC_LSN_FMT " to topic \"%s\" (%zu bytes): %s: %s%s",
		         val == NULL ? "tombstone" : "record", what,
		         CDC_LSN_ARGS(ch ? ch->lsn : t->end_lsn), rd_kafka_topic_name(rkt), vallen + keylen,
		         rd_kafka_err2name(e), rd_kafka_err2str(e), error_hint(e));
	}
	return cdc_errf(err, CDC_ERR_FATAL, "%s", s->failmsg);
}

static int
kafka_write(struct sink *base, const struct cdc_change *ch, struct cdc_err *err)
{
	struct kafka_sink *s = (struct kafka_sink *) base;
	rd_kafka_topic_t *rkt;
	const void *key = NULL, *val;
	const char *hname = NULL;
	struct txcount *tc = NULL;
	size_t keylen = 0, vallen;
	int rc;

	if ((rc = check_failed(s, err)) != 0)
		return rc;
	if (s->cur == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "kafka sink: change at " CDC_LSN_FMT " outside a "
		                "transaction", CDC_LSN_ARGS(ch->lsn));
	if (s->penc == NULL && json_skips(&s->jopts, ch))
		return 0;
	if (ch->op == CDC_OP_MESSAGE) {
		if (!s->messages)
			return 0;
		if ((rkt = own_topic(s, &s->msg_rkt, ".message", err)) == NULL)
			return err->code;
	} else if (ch->rel == NULL) {
		return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " has no relation",
		                CDC_LSN_ARGS(ch->lsn));
	} else if ((rkt = topic_for(s, ch->rel, err)) == NULL) {
		return err->code;
	}

	/* transaction_topic: BEGIN before the transaction's first record, and the record's
	 * place in it (counted once the record is produced) */
	s->jopts.tx_order = 0;
	if (tx_has_meta(s, ch)) {
		if (!s->tx_begun) {
			if ((rc = tx_produce(s, ch->txn, false, ch, err)) != 0)
				return rc;
			s->tx_begun = true;
		}
		if ((tc = tx_count(s, ch->rel)) == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "kafka sink: out of memory");
		s->jopts.tx_order = s->tx_total + 1;
		s->jopts.tx_collection_order = tc->n + 1;
	}

	jbuf_reset(&s->key);
	rc = json_key(&s->key, ch, s->types, &s->jopts, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		key = s->key.data;
		keylen = s->key.len;
	}

	if (s->tomb_ch != ch || s->tomb_lsn != ch->lsn) {
		s->tomb_ch = NULL;
		if (s->penc != NULL) {
			const uint8_t *out;

			rc = proto_encode(s->penc, ch, s->types, &s->jopts, wall_ns(), &out, &vallen, err);
			val = out;
		} else {
			jbuf_reset(&s->val);
			rc = json_envelope(&s->val, ch, s->types, &s->jopts, wall_ns(), err);
			val = s->val.data;
			vallen = s->val.len;
		}
		if (rc != 0)
			return rc;
		/* a record-key change: the delete names the new key, the create the old one,
		 * in the headers Debezium uses */
		if (ch->other_tuple != NULL && key != NULL) {
			struct cdc_change other = { .op = ch->op == CDC_OP_DELETE ? CDC_OP_CREATE
			                                                          : CDC_OP_DELETE,
			                            .lsn = ch->lsn, .txn = ch->txn, .rel = ch->rel };

			if (ch->op == CDC_OP_DELETE) {
				other.new_tuple = ch->other_tuple;
			} else {
				other.old_tuple = ch->other_tuple;
				other.old_kind = ch->other_kind;
			}
			jbuf_reset(&s->hdr);
			/* the header is the key's payload, without a schema */
			if ((rc = json_key(&s->hdr, &other, s->types, &s->hdr_jopts, err)) < 0)
				return rc;
			hname = rc == 0 ? (ch->op == CDC_OP_DELETE ? "__debezium.newkey"
			                                           : "__debezium.oldkey") : NULL;
		}
		if ((rc = produce(s, rkt, ch, key, keylen, val, vallen, hname, &s->hdr, err)) != 0)
			return rc;
		if (tc != NULL) {
			tc->n++;
			s->tx_total++;
		}
	}
	/* a delete is followed by a tombstone (same key, null value) for log compaction;
	 * a record without a key has nothing to compact */
	if (ch->op == CDC_OP_DELETE && s->tombstones && key != NULL) {
		rc = produce(s, rkt, ch, key, keylen, NULL, 0, NULL, NULL, err);
		if (rc == CDC_ERR_AGAIN) {
			s->tomb_ch = ch;   /* the retry of this change produces only the tombstone */
			s->tomb_lsn = ch->lsn;
		}
		if (rc != 0)
			return rc;
	}
	s->tomb_ch = NULL;
	return 0;
}

static int
kafka_commit(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct kafka_sink *s = (struct kafka_sink *) base;
	int rc;

	if ((rc = check_failed(s, err)) != 0)
		return rc;
	if (s->cur == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "kafka sink: commit at " CDC_LSN_FMT " without a "
		                "transaction", CDC_LSN_ARGS(txn->end_lsn));
	/* its END record, with the counts; a commit retried after a full queue does not
	 * produce it twice */
	if (s->tx_begun) {
		if ((rc = tx_produce(s, txn, true, NULL, err)) != 0)
			return rc;
		s->tx_begun = false;
	}
	tx_reset(s);
	s->cur->committed = true;
	s->cur->commit_lsn = txn->commit_lsn;
	s->cur->end_lsn = txn->end_lsn;
	s->cur = NULL;
	s->tomb_ch = NULL;
	rd_kafka_poll(s->rk, 0);
	advance(s);
	return check_failed(s, err);
}

static void
kafka_abort(struct sink *base)
{
	struct kafka_sink *s = (struct kafka_sink *) base;

	/* its messages may already be on their way (at-least-once); it just never
	 * becomes durable, and the server resends it whole */
	if (s->cur != NULL)
		s->cur->aborted = true;
	s->cur = NULL;
	s->tomb_ch = NULL;
	tx_reset(s);
	advance(s);
}

static int
kafka_poll(struct sink *base, cdc_lsn *durable, struct cdc_err *err)
{
	struct kafka_sink *s = (struct kafka_sink *) base;
	int rc;

	rd_kafka_poll(s->rk, 0);
	s->since_poll = 0;
	advance(s);
	if ((rc = check_failed(s, err)) != 0)
		return rc;
	*durable = s->durable;
	return 0;
}

static int
kafka_flush(struct sink *base, int timeout_ms, struct cdc_err *err)
{
	struct kafka_sink *s = (struct kafka_sink *) base;
	int rc;

	if ((rc = check_failed(s, err)) != 0)
		return rc;
	if (s->outstanding > 0)
		rd_kafka_flush(s->rk, timeout_ms > 0 ? timeout_ms : 0);
	else
		rd_kafka_poll(s->rk, 0);
	advance(s);
	if ((rc = check_failed(s, err)) != 0)
		return rc;
	if (s->outstanding > 0)
		return cdc_errf(err, CDC_ERR_AGAIN, "kafka: %" PRIu64 " records awaiting delivery "
		                "reports%s%s", s->outstanding, s->lasterr[0] ? ": " : "", s->lasterr);
	return 0;
}

static bool
kafka_enabled(const void *section)
{
	return ((const struct sink_kafka_cfg *) section)->enabled;
}

/* `pgcdc check`: the configuration is accepted, the brokers answer a metadata
 * request, and which <prefix>.* topics exist. */
static int
kafka_probe(const struct sink_env *env, char *info, size_t cap, struct cdc_err *err)
{
	const struct sink_kafka_cfg *cfg = env->section;
	struct kafka_ctx ctx = { .sink = NULL, .quiet = true };
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_resp_err_t e;
	rd_kafka_t *rk = NULL;
	size_t plen = strlen(cfg->topic_prefix), o;
	int ntopics = 0, shown = 0, rc = 0;

	if ((rc = ctx_init(&ctx, cfg, err)) != 0)
		goto out;
	if ((conf = build_conf(cfg, env->cfg_path, &ctx, err)) == NULL) {
		rc = err->code;
		goto out;
	}
	if ((rk = new_producer(conf, &ctx, err)) == NULL) {
		rc = err->code;
		goto out;
	}
	e = rd_kafka_metadata(rk, 1, NULL, &md, KAFKA_PROBE_TIMEOUT_MS);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		md = NULL;
		rc = cdc_errf(err, CDC_ERR_CONN, "brokers %s did not answer a metadata request within "
		              "%d s: %s (%s)", cfg->brokers, KAFKA_PROBE_TIMEOUT_MS / 1000,
		              rd_kafka_err2str(e), rd_kafka_err2name(e));
		goto out;
	}
	o = (size_t) snprintf(info, cap, "%d broker%s reachable via %s, ", md->broker_cnt,
	                      md->broker_cnt == 1 ? "" : "s", cfg->brokers);
	for (int i = 0; i < md->topic_cnt; i++) {
		const char *name = md->topics[i].topic;

		if (strncmp(name, cfg->topic_prefix, plen) != 0 || name[plen] != '.')
			continue;
		if (ntopics++ == 0 && o < cap)
			o += (size_t) snprintf(info + o, cap - o, "topics:");
		if (o + strlen(name) + 40 < cap) {
			o += (size_t) snprintf(info + o, cap - o, " %s (%d partition%s)%s", name,
			                       md->topics[i].partition_cnt,
			                       md->topics[i].partition_cnt == 1 ? "" : "s",
			                       md->topics[i].err ? " [error]" : "");
			shown++;
		}
	}
	if (ntopics == 0 && o < cap)
		snprintf(info + o, cap - o, "no topic %s.* yet (created on the first record where "
		         "the brokers auto-create topics)", cfg->topic_prefix);
	else if (shown < ntopics && o < cap)
		snprintf(info + o, cap - o, " and %d more", ntopics - shown);
out:
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	if (rk != NULL)
		rd_kafka_destroy(rk);
	ctx_free(&ctx);
	return rc;
}

const struct sink_ops sink_kafka_ops = {
	.name = "kafka",
	.section = offsetof(struct sink_sections, kafka),
	.enabled = kafka_enabled,
	.open = kafka_open,
	.begin = kafka_begin,
	.write = kafka_write,
	.commit = kafka_commit,
	.abort = kafka_abort,
	.poll = kafka_poll,
	.flush = kafka_flush,
	.close = kafka_close,
	.probe = kafka_probe,
};
