/*
 * test_kafka.c — the Kafka sink (sinks/kafka.c) against librdkafka's mock cluster
 * started in-process: delivery-report durability (FIFO of transactions, aborted ones
 * never durable), backpressure while every broker is down (flush says AGAIN, nothing
 * new is durable, everything is once they return), QUEUE_FULL and the tombstone that
 * is not produced twice, a permanent delivery error putting the sink into a failed
 * state that names table, LSN and error, tombstone rules, configuration errors that
 * name the property without echoing secrets, and the `check` probe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "agent/config.h"
#include "common/log.h"
#include "decoder/change.h"
#include "sinks/sink.h"

struct fx {
	rd_kafka_t *mrk;                 /* hosts the mock cluster */
	rd_kafka_mock_cluster_t *mc;
	char bootstrap[256];
	struct cfg *cfg;
	struct sink *s;
	struct cdc_err err;
	/* one relation t(id int primary key, v text) and a row for it */
	struct cdc_column cols[2];
	struct cdc_rel rel;
	struct cdc_value vals[2];
	struct cdc_tuple tup;
	char idtext[16];
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	log_setup(LOG_LVL_ERROR, false);
	rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
	x->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	assert_non_null(x->mrk);
	x->mc = rd_kafka_mock_cluster_new(x->mrk, 3);
	assert_non_null(x->mc);
	snprintf(x->bootstrap, sizeof(x->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(x->mc));
	assert_int_equal(rd_kafka_mock_topic_create(x->mc, "u.public.t", 3, 3), 0);

	x->cols[0] = (struct cdc_column) { .name = "id", .type_oid = 23, .key = true, .pk = true };
	x->cols[1] = (struct cdc_column) { .name = "v", .type_oid = 25 };
	x->rel = (struct cdc_rel) { .oid = 16400, .schema = "public", .name = "t", .replident = 'd',
	                            .ncols = 2, .cols = x->cols, .npk = 1 };
	x->tup = (struct cdc_tuple) { .ncols = 2, .vals = x->vals };
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	if (x->s != NULL)
		x->s->ops->close(x->s);
	cfg_free(x->cfg);
	rd_kafka_mock_cluster_destroy(x->mc);
	rd_kafka_destroy(x->mrk);
	free(x);
	return 0;
}

/* Load a config with the Kafka sink on the mock cluster plus extra lines for
 * [sink.kafka]; returns 0 or fails the test. */
static void
load(struct fx *x, const char *extra)
{
	char text[2048];

	cfg_free(x->cfg);
	snprintf(text, sizeof(text), "[source]\nconninfo = \"dbname=x\"\n[sink.kafka]\n"
	         "brokers = %s\ntopic_prefix = u\n%s", x->bootstrap, extra);
	cdc_err_clear(&x->err);
	x->cfg = cfg_load_string("test.conf", text, NULL, 0, &x->err);
	if (x->cfg == NULL)
		fail_msg("config: %s", x->err.msg);
}

static struct sink *
open_sink(struct fx *x, const char *extra)
{
	struct sink_env env = { .types = NULL, .dbname = "db" };

	load(x, extra);
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	x->s = sink_kafka_ops.open(&env, &x->err);
	if (x->s == NULL)
		fail_msg("open: %s", x->err.msg);
	return x->s;
}

static struct cdc_txn
txn(cdc_lsn end)
{
	struct cdc_txn t = { .xid = (uint32_t) end, .commit_lsn = end - 8, .end_lsn = end,
	                     .commit_ts_us = INT64_C(1795341600000000) };

	return t;
}

/* A change of op on row id (v = "v<id>"). */
static struct cdc_change
change(struct fx *x, const struct cdc_txn *t, char op, int id, cdc_lsn lsn)
{
	struct cdc_change ch = { .op = op, .lsn = lsn, .txn = t, .rel = &x->rel };

	snprintf(x->idtext, sizeof(x->idtext), "%d", id);
	x->vals[0] = (struct cdc_value) { CDC_VAL_TEXT, (uint32_t) strlen(x->idtext), x->idtext };
	x->vals[1] = (struct cdc_value) { CDC_VAL_TEXT, 1, "v" };
	if (op == CDC_OP_DELETE) {
		ch.old_tuple = &x->tup;
		ch.old_kind = 'K';
	} else if (op != CDC_OP_TRUNCATE) {
		ch.new_tuple = &x->tup;
	}
	return ch;
}

/* A whole transaction of n inserts; returns the write/commit status. */
static int
write_txn(struct fx *x, const struct cdc_txn *t, int n)
{
	const struct sink_ops *ops = x->s->ops;
	int rc;

	if ((rc = ops->begin(x->s, t, &x->err)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		struct cdc_change ch = change(x, t, CDC_OP_CREATE, i + 1, t->commit_lsn - (cdc_lsn) (n - i));

		if ((rc = ops->write(x->s, &ch, &x->err)) != 0)
			return rc;
	}
	return ops->commit(x->s, t, &x->err);
}

static cdc_lsn
durable(struct fx *x)
{
	cdc_lsn d = 12345;

	cdc_err_clear(&x->err);
	if (x->s->ops->poll(x->s, &d, &x->err) != 0)
		fail_msg("poll: %s", x->err.msg);
	return d;
}

/* flush until 0 or a non-AGAIN result, at most ms. */
static int
flush_for(struct fx *x, int ms)
{
	int rc;

	for (int waited = 0;; waited += 200) {
		cdc_err_clear(&x->err);
		rc = x->s->ops->flush(x->s, 200, &x->err);
		if (rc != CDC_ERR_AGAIN || waited >= ms)
			return rc;
	}
}

static void
test_durable_after_delivery(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000), t2 = txn(2000), t3 = txn(3000);

	open_sink(x, "");
	assert_int_equal(durable(x), 0);
	assert_int_equal(write_txn(x, &t1, 3), 0);
	assert_int_equal(write_txn(x, &t2, 5), 0);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 2000);
	assert_int_equal(x->s->records, 8);

	/* an empty transaction is durable as soon as everything before it is */
	assert_int_equal(write_txn(x, &t3, 0), 0);
	assert_int_equal(durable(x), 3000);
}

static void
test_abort_never_durable(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000), t2 = txn(2000);
	struct cdc_change ch;

	open_sink(x, "");
	assert_int_equal(write_txn(x, &t1, 1), 0);
	/* t2 cut short: its messages go out, but it never counts */
	assert_int_equal(x->s->ops->begin(x->s, &t2, &x->err), 0);
	ch = change(x, &t2, CDC_OP_CREATE, 9, 1990);
	assert_int_equal(x->s->ops->write(x->s, &ch, &x->err), 0);
	x->s->ops->abort(x->s);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 1000);
	/* the server resends it whole: now it is durable */
	assert_int_equal(write_txn(x, &t2, 2), 0);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 2000);
}

static void
test_brokers_down_is_backpressure(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000), t2 = txn(2000);
	int rc;

	open_sink(x, "");
	assert_int_equal(write_txn(x, &t1, 2), 0);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 1000);

	rd_kafka_mock_broker_set_down(x->mc, -1);
	assert_int_equal(write_txn(x, &t2, 4), 0);
	rc = flush_for(x, 2000);
	assert_int_equal(rc, CDC_ERR_AGAIN);
	assert_non_null(strstr(x->err.msg, "awaiting delivery"));
	assert_int_equal(durable(x), 1000);       /* nothing new while down */

	rd_kafka_mock_broker_set_up(x->mc, -1);
	assert_int_equal(flush_for(x, 30000), 0);
	assert_int_equal(durable(x), 2000);
}

/* A full producer queue is CDC_ERR_AGAIN; the retry of a delete whose record went
 * out but whose tombstone did not produces only the tombstone. */
static void
test_queue_full_and_tombstone_retry(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000);
	struct cdc_change ins, del;
	const struct sink_ops *ops;

	open_sink(x, "kafka.queue.buffering.max.messages = 2\n");
	ops = x->s->ops;
	rd_kafka_mock_broker_set_down(x->mc, -1);
	assert_int_equal(ops->begin(x->s, &t1, &x->err), 0);
	ins = change(x, &t1, CDC_OP_CREATE, 1, 900);
	assert_int_equal(ops->write(x->s, &ins, &x->err), 0);
	del = change(x, &t1, CDC_OP_DELETE, 1, 950);
	assert_int_equal(ops->write(x->s, &del, &x->err), CDC_ERR_AGAIN);
	assert_non_null(strstr(x->err.msg, "queue full"));
	assert_int_equal(x->s->records, 2);       /* insert + delete record; tombstone pending */

	rd_kafka_mock_broker_set_up(x->mc, -1);
	assert_int_equal(flush_for(x, 30000), 0);
	cdc_err_clear(&x->err);
	assert_int_equal(ops->write(x->s, &del, &x->err), 0);
	assert_int_equal(x->s->records, 3);       /* only the tombstone this time */
	assert_int_equal(ops->commit(x->s, &t1, &x->err), 0);
	assert_int_equal(flush_for(x, 30000), 0);
	assert_int_equal(durable(x), 1000);
}

static void
test_tombstone_rules(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000), t2 = txn(2000);
	struct cdc_change ch;
	const struct sink_ops *ops;

	open_sink(x, "");
	ops = x->s->ops;
	assert_int_equal(ops->begin(x->s, &t1, &x->err), 0);
	ch = change(x, &t1, CDC_OP_DELETE, 1, 900);
	assert_int_equal(ops->write(x->s, &ch, &x->err), 0);
	assert_int_equal(x->s->records, 2);       /* delete + tombstone */
	ch = change(x, &t1, CDC_OP_TRUNCATE, 0, 910);
	assert_int_equal(ops->write(x->s, &ch, &x->err), 0);
	assert_int_equal(x->s->records, 3);       /* truncate: one record, null key */
	x->rel.npk = 0;                           /* a table without key: no tombstone */
	x->cols[0].pk = false;
	ch = change(x, &t1, CDC_OP_DELETE, 2, 920);
	ch.old_kind = 'O';
	assert_int_equal(ops->write(x->s, &ch, &x->err), 0);
	assert_int_equal(x->s->records, 4);
	assert_int_equal(ops->commit(x->s, &t1, &x->err), 0);
	x->rel.npk = 1;
	x->cols[0].pk = true;
	ops->close(x->s);
	x->s = NULL;

	open_sink(x, "tombstones = off\n");
	ops = x->s->ops;
	assert_int_equal(ops->begin(x->s, &t2, &x->err), 0);
	ch = change(x, &t2, CDC_OP_DELETE, 1, 1900);
	assert_int_equal(ops->write(x->s, &ch, &x->err), 0);
	assert_int_equal(x->s->records, 1);
	assert_int_equal(ops->commit(x->s, &t2, &x->err), 0);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 2000);
}

/* A permanent error in a delivery report: every later call fails with a message
 * naming table, LSN and error; nothing from the failed transaction on is durable. */
static void
test_permanent_delivery_error(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(1000), t2 = txn(0x2000000), t3 = txn(0x3000000);
	cdc_lsn d = 0;
	int rc;

	open_sink(x, "");
	assert_int_equal(write_txn(x, &t1, 1), 0);
	assert_int_equal(flush_for(x, 10000), 0);
	assert_int_equal(durable(x), 1000);

	rd_kafka_mock_push_request_errors(x->mc, 0 /* Produce */, 1,
	                                  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	assert_int_equal(write_txn(x, &t2, 1), 0);
	rc = flush_for(x, 10000);
	assert_int_equal(rc, CDC_ERR_FATAL);
	assert_non_null(strstr(x->err.msg, "table public.t"));
	assert_non_null(strstr(x->err.msg, "at LSN 0/1FFFFF7"));   /* the change's LSN */
	assert_non_null(strstr(x->err.msg, "TOPIC_AUTHORIZATION_FAILED"));

	cdc_err_clear(&x->err);
	assert_int_equal(x->s->ops->poll(x->s, &d, &x->err), CDC_ERR_FATAL);
	cdc_err_clear(&x->err);
	assert_int_equal(x->s->ops->begin(x->s, &t3, &x->err), CDC_ERR_FATAL);
	cdc_err_clear(&x->err);
	assert_int_equal(x->s->ops->commit(x->s, &t3, &x->err), CDC_ERR_FATAL);
	assert_non_null(strstr(x->err.msg, "TOPIC_AUTHORIZATION_FAILED"));
}

/* A record larger than message.max.bytes is refused by produce(): fatal at once. */
static void
test_message_too_large(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(0x5000000);
	struct cdc_change ch;
	char *big = malloc(5000);

	memset(big, 'x', 5000);
	open_sink(x, "kafka.message.max.bytes = 2000\n");
	assert_int_equal(x->s->ops->begin(x->s, &t1, &x->err), 0);
	ch = change(x, &t1, CDC_OP_CREATE, 1, 0x4ffff00);
	x->vals[1] = (struct cdc_value) { CDC_VAL_TEXT, 5000, big };
	assert_int_equal(x->s->ops->write(x->s, &ch, &x->err), CDC_ERR_FATAL);
	assert_non_null(strstr(x->err.msg, "table public.t at LSN 0/4FFFF00"));
	assert_non_null(strstr(x->err.msg, "MSG_SIZE_TOO_LARGE"));
	cdc_err_clear(&x->err);
	assert_int_equal(flush_for(x, 1000), CDC_ERR_FATAL);
	free(big);
}

/* With kafka.message.timeout.ms set by the user, an undelivered record is a permanent
 * error (the agent stops), never a silently dropped record. */
static void
test_user_message_timeout(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(0x6000000);

	open_sink(x, "kafka.message.timeout.ms = 500\n");
	rd_kafka_mock_broker_set_down(x->mc, -1);
	assert_int_equal(write_txn(x, &t1, 1), 0);
	assert_int_equal(flush_for(x, 10000), CDC_ERR_FATAL);
	assert_non_null(strstr(x->err.msg, "table public.t at LSN 0/5FFFFF7"));
	assert_non_null(strstr(x->err.msg, "_MSG_TIMED_OUT"));
	assert_non_null(strstr(x->err.msg, "kafka.message.timeout.ms is set"));
	rd_kafka_mock_broker_set_up(x->mc, -1);
	cdc_err_clear(&x->err);
	assert_int_equal(x->s->ops->poll(x->s, &(cdc_lsn) { 0 }, &x->err), CDC_ERR_FATAL);
}

/* A topic the cluster says does not exist (auto-creation off): permanent, after
 * topic.metadata.propagation.max.ms. */
static void
test_unknown_topic(void **state)
{
	struct fx *x = *state;
	struct cdc_txn t1 = txn(0x7000000);

	rd_kafka_mock_topic_set_error(x->mc, "u.public.gone", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	x->rel.name = "gone";
	open_sink(x, "kafka.topic.metadata.propagation.max.ms = 500\n");
	assert_int_equal(write_txn(x, &t1, 1), 0);
	assert_int_equal(flush_for(x, 10000), CDC_ERR_FATAL);
	assert_non_null(strstr(x->err.msg, "table public.gone at LSN 0/6FFFFF7"));
	assert_non_null(strstr(x->err.msg, "UNKNOWN_TOPIC"));
	assert_non_null(strstr(x->err.msg, "create the topic"));
	x->rel.name = "t";
}

static void
test_config_errors(void **state)
{
	struct fx *x = *state;
	struct sink_env env = { .types = NULL, .dbname = "db" };
	char info[512];

	load(x, "kafka.no.such.thing = 1\n");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	assert_null(sink_kafka_ops.open(&env, &x->err));
	assert_int_equal(x->err.code, CDC_ERR_CONFIG);
	assert_non_null(strstr(x->err.msg, "test.conf:6: sink.kafka.kafka.no.such.thing"));

	load(x, "kafka.compression.type = fancy\n");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	assert_null(sink_kafka_ops.open(&env, &x->err));
	assert_non_null(strstr(x->err.msg, "sink.kafka.kafka.compression.type: librdkafka rejects it"));

	/* librdkafka refuses the producer; the secret never appears */
	load(x, "kafka.security.protocol = ssl\nkafka.ssl.key.pem = TopSecretPemValue\n"
	        "kafka.ssl.key.password = TopSecretPemValue\n");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	assert_null(sink_kafka_ops.open(&env, &x->err));
	assert_int_equal(x->err.code, CDC_ERR_CONFIG);
	assert_null(strstr(x->err.msg, "TopSecretPemValue"));
	cdc_err_clear(&x->err);
	assert_int_not_equal(sink_kafka_ops.probe(&env, info, sizeof(info), &x->err), 0);
	assert_null(strstr(x->err.msg, "TopSecretPemValue"));

	/* idempotence needs max.in.flight <= 5: librdkafka says so */
	load(x, "kafka.max.in.flight = 10\n");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	assert_null(sink_kafka_ops.open(&env, &x->err));
	assert_non_null(strstr(x->err.msg, "max.in.flight"));
}

static void
test_probe(void **state)
{
	struct fx *x = *state;
	struct sink_env env = { .types = NULL, .dbname = "db" };
	char info[512] = "";
	struct timespec a, b;

	load(x, "");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	assert_int_equal(rd_kafka_mock_topic_create(x->mc, "other.public.t", 1, 1), 0);
	if (sink_kafka_ops.probe(&env, info, sizeof(info), &x->err) != 0)
		fail_msg("probe: %s", x->err.msg);
	assert_non_null(strstr(info, "3 brokers reachable"));
	assert_non_null(strstr(info, "u.public.t (3 partitions)"));
	assert_null(strstr(info, "other.public.t"));

	load(x, "");
	free(x->cfg->kafka.brokers);
	x->cfg->kafka.brokers = strdup("127.0.0.1:1");
	cfg_sink_env(x->cfg, &sink_kafka_ops, &env);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cdc_err_clear(&x->err);
	assert_int_not_equal(sink_kafka_ops.probe(&env, info, sizeof(info), &x->err), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_non_null(strstr(x->err.msg, "127.0.0.1:1"));
	assert_true(b.tv_sec - a.tv_sec <= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_durable_after_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_never_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_brokers_down_is_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_and_tombstone_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstone_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_delivery_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_message_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_topic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
