/*
 * null.c — the null sink ([sink.null], a pgcdc extension): encodes every record's
 * key and value exactly as the Kafka and stdout sinks do, then discards them.
 * Durable at commit.  For benchmarks (the cost of decoding and encoding alone)
 * and for dry runs of a configuration.
 */
#include <stdlib.h>

#include "sink.h"
#include "../decoder/json.h"

struct null_sink {
	struct sink base;          /* first: the pipeline sees a struct sink */
	const struct cdc_types *types;
	struct json_opts jopts;
	struct jbuf buf;
	cdc_lsn durable;
};

static bool
null_enabled(const void *section)
{
	return ((const struct sink_enabled_cfg *) section)->enabled;
}

static struct sink *
null_open(const struct sink_env *env, struct cdc_err *err)
{
	struct null_sink *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "null sink: out of memory");
		return NULL;
	}
	s->base.ops = &sink_null_ops;
	s->types = env->types;
	sink_json_opts(env, &s->jopts);
	jbuf_init(&s->buf);
	return &s->base;
}

static int
null_begin(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	return 0;
}

static int
null_write(struct sink *base, const struct cdc_change *ch, struct cdc_err *err)
{
	struct null_sink *s = (struct null_sink *) base;
	int rc;

	jbuf_reset(&s->buf);
	if (json_key(&s->buf, ch, s->types, &s->jopts, err) < 0)
		return err->code;
	jbuf_reset(&s->buf);
	if ((rc = json_envelope(&s->buf, ch, s->types, &s->jopts, 0, err)) != 0)
		return rc;
	base->records++;
	return 0;
}

static int
null_commit(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	((struct null_sink *) base)->durable = txn->end_lsn;
	return 0;
}

static void
null_abort(struct sink *base)
{
}

static int
null_poll(struct sink *base, cdc_lsn *durable, struct cdc_err *err)
{
	*durable = ((struct null_sink *) base)->durable;
	return 0;
}

static int
null_flush(struct sink *base, int timeout_ms, struct cdc_err *err)
{
	return 0;
}

static void
null_close(struct sink *base)
{
	struct null_sink *s = (struct null_sink *) base;

	if (s == NULL)
		return;
	jbuf_free(&s->buf);
	free(s);
}

const struct sink_ops sink_null_ops = {
	.name = "null",
	.section = offsetof(struct sink_sections, null_sink),
	.enabled = null_enabled,
	.open = null_open,
	.begin = null_begin,
	.write = null_write,
	.commit = null_commit,
	.abort = null_abort,
	.poll = null_poll,
	.flush = null_flush,
	.close = null_close,
};
