/*
 * stdout.c — the stdout sink: one Debezium-compatible JSON envelope per line.
 *
 * Lines are gathered in a buffer and written with write(2) when it passes 64 kB and
 * at every commit; a transaction counts as durable once its last line has been
 * written (stdout has no stronger notion of durable; a regular file is fsynced).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "../decoder/json.h"
#include "../common/clock.h"

#define STDOUT_CHUNK (64 * 1024)

struct stdout_sink {
	struct sink base;          /* first: the pipeline sees a struct sink */
	const struct cdc_types *types;
	struct json_opts jopts;
	struct jbuf buf;
	int fd;
	bool is_file;              /* regular file: fsync at commit */
	cdc_lsn durable;
};

static int
write_all(struct stdout_sink *s, struct cdc_err *err)
{
	size_t off = 0;

	while (off < s->buf.len) {
		ssize_t n = write(s->fd, s->buf.data + off, s->buf.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cdc_errf(err, CDC_ERR_IO, "stdout sink: write failed: %s", strerror(errno));
		}
		off += (size_t) n;
	}
	jbuf_reset(&s->buf);
	return 0;
}

static struct sink *
stdout_open(const struct sink_env *env, struct cdc_err *err)
{
	struct stdout_sink *s = calloc(1, sizeof(*s));
	struct stat st;

	if (s == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "stdout sink: out of memory");
		return NULL;
	}
	s->base.ops = &sink_stdout_ops;
	s->types = env->types;
	s->fd = STDOUT_FILENO;
	s->is_file = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
	sink_json_opts(env, &s->jopts);
	jbuf_init(&s->buf);
	return &s->base;
}

static int
stdout_begin(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	return 0;
}

static int
stdout_write(struct sink *base, const struct cdc_change *ch, struct cdc_err *err)
{
	struct stdout_sink *s = (struct stdout_sink *) base;
	size_t mark = s->buf.len;
	int rc;

	if (json_skips(&s->jopts, ch))
		return 0;
	rc = json_envelope(&s->buf, ch, s->types, &s->jopts, wall_ns(), err);
	if (rc != 0) {
		s->buf.len = mark;
		return rc;
	}
	jbuf_putc(&s->buf, '\n');
	if (s->buf.oom)
		return cdc_errf(err, CDC_ERR_NOMEM, "stdout sink: out of memory");
	base->records++;
	if (s->buf.len >= STDOUT_CHUNK)
		return write_all(s, err);
	return 0;
}

static int
stdout_commit(struct sink *base, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct stdout_sink *s = (struct stdout_sink *) base;
	int rc = write_all(s, err);

	if (rc != 0)
		return rc;
	if (s->is_file && fdatasync(s->fd) != 0 && errno != EINVAL)
		return cdc_errf(err, CDC_ERR_IO, "stdout sink: fsync failed: %s", strerror(errno));
	s->durable = txn->end_lsn;
	return 0;
}

static void
stdout_abort(struct sink *base)
{
	struct stdout_sink *s = (struct stdout_sink *) base;

	jbuf_reset(&s->buf);
}

static int
stdout_poll(struct sink *base, cdc_lsn *durable, struct cdc_err *err)
{
	*durable = ((struct stdout_sink *) base)->durable;
	return 0;
}

static int
stdout_flush(struct sink *base, int timeout_ms, struct cdc_err *err)
{
	return 0;   /* everything up to the last commit is already written */
}

static void
stdout_close(struct sink *base)
{
	struct stdout_sink *s = (struct stdout_sink *) base;

	if (s == NULL)
		return;
	jbuf_free(&s->buf);
	free(s);
}

static bool
stdout_enabled(const void *section)
{
	return ((const struct sink_enabled_cfg *) section)->enabled;
}

const struct sink_ops sink_stdout_ops = {
	.name = "stdout",
	.section = offsetof(struct sink_sections, stdout_sink),
	.enabled = stdout_enabled,
	.open = stdout_open,
	.begin = stdout_begin,
	.write = stdout_write,
	.commit = stdout_commit,
	.abort = stdout_abort,
	.poll = stdout_poll,
	.flush = stdout_flush,
	.close = stdout_close,
};
