/*
 * test_pipeline.c — sink fan-out, backpressure and the acknowledgeable LSN
 * (agent/pipeline.c) with fake sinks.
 *
 * A fake sink embeds struct sink first and logs every call it gets ("B729 W+ C729 A"),
 * can answer CDC_ERR_AGAIN a given number of times or fail with a given code, and
 * reports whatever durable LSN the test sets.  The wait hook counts its calls and can
 * give up.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pipeline.h"
#include "decoder/change.h"
#include "sinks/sink.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct fake {
	struct sink base;        /* first: the pipeline sees a struct sink */
	char log[4096];
	cdc_lsn durable;         /* what poll reports */
	int again_begin, again_write, again_commit, again_flush;   /* AGAIN this many times */
	int fail_begin, fail_write, fail_commit, fail_poll, fail_flush;   /* then this code */
	int begins, writes, commits, aborts, flushes, polls;
	int write_attempts;
	bool quiet;              /* AGAIN from write without a message */
};

static void
logf_(struct fake *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
logf_(struct fake *f, const char *fmt, ...)
{
	size_t used = strlen(f->log);
	va_list ap;

	if (used)
		f->log[used++] = ' ';
	va_start(ap, fmt);
	vsnprintf(f->log + used, sizeof(f->log) - used, fmt, ap);
	va_end(ap);
}

static int
fake_begin(struct sink *s, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct fake *f = (struct fake *) s;

	assert_int_equal(err->code, 0);   /* the pipeline clears AGAIN's message */
	if (f->again_begin > 0) {
		f->again_begin--;
		return cdc_errf(err, CDC_ERR_AGAIN, "begin: busy");
	}
	if (f->fail_begin)
		return cdc_errf(err, f->fail_begin, "fake begin fails");
	f->begins++;
	logf_(f, "B%u", txn->xid);
	return 0;
}

static int
fake_write(struct sink *s, const struct cdc_change *ch, struct cdc_err *err)
{
	struct fake *f = (struct fake *) s;

	assert_int_equal(err->code, 0);
	f->write_attempts++;
	if (f->again_write > 0) {
		f->again_write--;
		if (f->quiet)
			return CDC_ERR_AGAIN;
		return cdc_errf(err, CDC_ERR_AGAIN, "write: queue full");
	}
	if (f->fail_write)
		return cdc_errf(err, f->fail_write, "fake write fails on %c", ch->op);
	f->writes++;
	s->records++;
	logf_(f, "W%c@%llX", ch->op, (unsigned long long) ch->lsn);
	return 0;
}

static int
fake_commit(struct sink *s, const struct cdc_txn *txn, struct cdc_err *err)
{
	struct fake *f = (struct fake *) s;

	assert_int_equal(err->code, 0);
	if (f->again_commit > 0) {
		f->again_commit--;
		return cdc_errf(err, CDC_ERR_AGAIN, "commit: busy");
	}
	if (f->fail_commit)
		return cdc_errf(err, f->fail_commit, "fake commit fails");
	f->commits++;
	logf_(f, "C%u", txn->xid);
	return 0;
}

static void
fake_abort(struct sink *s)
{
	struct fake *f = (struct fake *) s;

	f->aborts++;
	logf_(f, "A");
}

static int
fake_poll(struct sink *s, cdc_lsn *durable, struct cdc_err *err)
{
	struct fake *f = (struct fake *) s;

	f->polls++;
	if (f->fail_poll)
		return cdc_errf(err, f->fail_poll, "fake poll fails");
	*durable = f->durable;
	return 0;
}

static int
fake_flush(struct sink *s, int timeout_ms, struct cdc_err *err)
{
	struct fake *f = (struct fake *) s;

	assert_true(timeout_ms > 0);
	f->flushes++;
	if (f->again_flush > 0) {
		f->again_flush--;
		return cdc_errf(err, CDC_ERR_AGAIN, "flush: not yet");
	}
	if (f->fail_flush)
		return cdc_errf(err, f->fail_flush, "fake flush fails");
	logf_(f, "F");
	return 0;
}

static void
fake_close(struct sink *s)
{
	(void) s;
}

static const struct sink_ops fake_ops = {
	.name = "fake",
	.open = NULL,
	.begin = fake_begin,
	.write = fake_write,
	.commit = fake_commit,
	.abort = fake_abort,
	.poll = fake_poll,
	.flush = fake_flush,
	.close = fake_close,
};

static void
fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &fake_ops;
}

/* The wait hook: counts, and gives up with `fail` after `fail_after` calls. */
struct waiter {
	int calls;
	int fail_after;          /* -1: never */
	int fail;
	struct pipeline *p;      /* when set: what pipe_sink_stall says at each call */
	char stall[2][128];
};

static int
wait_hook(void *ctx, struct cdc_err *err)
{
	struct waiter *w = ctx;

	w->calls++;
	for (int i = 0; w->p != NULL && i < 2; i++) {
		const char *m = pipe_sink_stall(w->p, i);

		snprintf(w->stall[i], sizeof(w->stall[i]), "%s", m ? m : "(none)");
	}
	if (w->fail_after >= 0 && w->calls > w->fail_after)
		return cdc_errf(err, w->fail, "shutdown requested while waiting");
	return 0;
}

static struct cdc_txn
txn(uint32_t xid, cdc_lsn commit, cdc_lsn end)
{
	struct cdc_txn t = { .xid = xid, .commit_lsn = commit, .end_lsn = end };

	return t;
}

static const struct cdc_rel test_rel = { .oid = 1, .schema = "public", .name = "t" };

static struct cdc_change
change(const struct cdc_txn *t, char op, cdc_lsn lsn)
{
	struct cdc_change ch = { .op = op, .lsn = lsn, .txn = t, .rel = &test_rel };

	return ch;
}

/* A whole transaction with n changes of `bytes` each; every step must succeed. */
static void
deliver(struct pipeline *p, const struct cdc_txn *t, int n, size_t bytes)
{
	struct cdc_err err = { 0 };

	assert_int_equal(pipe_begin(p, t, &err), 0);
	assert_true(pipe_in_txn(p));
	for (int i = 0; i < n; i++) {
		struct cdc_change ch = change(t, 'c', t->commit_lsn - (cdc_lsn) (n - i));

		if (pipe_change(p, &ch, bytes, &err) != 0)
			fail_msg("pipe_change: %s", err.msg);
	}
	if (pipe_commit(p, t, &err) != 0)
		fail_msg("pipe_commit: %s", err.msg);
	assert_false(pipe_in_txn(p));
	assert_int_equal(err.code, 0);
}

static cdc_lsn
poll_ack(struct pipeline *p)
{
	struct cdc_err err = { 0 };
	cdc_lsn ack = 0xDEAD;

	if (pipe_poll(p, &ack, &err) != 0)
		fail_msg("pipe_poll: %s", err.msg);
	return ack;
}

/* ---- tests --------------------------------------------------------------------------- */

/* Every sink gets every call in order; the ack is the minimum over the sinks. */
static void
test_fanout_and_min(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct cdc_txn t1 = txn(729, 0x100, 0x130), t2 = txn(730, 0x200, 0x230);
	struct pipe_stats st;

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, NULL, NULL);
	assert_non_null(p);
	deliver(p, &t1, 2, 10);
	deliver(p, &t2, 1, 10);
	assert_string_equal(a.log, "B729 Wc@FE Wc@FF C729 B730 Wc@1FF C730");
	assert_string_equal(b.log, a.log);
	assert_int_equal(a.base.records, 3);

	assert_int_equal(poll_ack(p), 0);          /* nothing durable yet */
	a.durable = 0x230;
	b.durable = 0x130;
	assert_int_equal(poll_ack(p), 0x130);      /* the slower sink */
	a.durable = 0x130;
	b.durable = 0x230;
	assert_int_equal(poll_ack(p), 0x130);
	a.durable = 0x230;
	assert_int_equal(poll_ack(p), 0x230);
	assert_int_equal(a.polls, 4);
	assert_int_equal(b.polls, 4);

	pipe_stats(p, &st);
	assert_int_equal(st.changes, 3);
	assert_int_equal(st.transactions, 2);
	assert_int_equal(st.skipped_transactions, 0);
	assert_int_equal(st.pending_bytes, 30);
	assert_int_equal(st.last_commit_end, 0x230);
	assert_int_equal(st.acked, 0x230);
	pipe_free(p);
	pipe_free(NULL);
}

/* The acknowledged LSN never goes back: not below the start position, not when a sink
 * reports less than before. */
static void
test_ack_monotonic(void **state)
{
	struct fake a;
	struct sink *sinks[] = { &a.base };
	struct pipeline *p;
	struct cdc_txn t1 = txn(1, 0x2000, 0x2010), t2 = txn(2, 0x3000, 0x3010);

	fake_init(&a);
	p = pipe_new(sinks, 1, 1 << 20, 0x1000, NULL, NULL);
	assert_int_equal(poll_ack(p), 0x1000);     /* the slot's confirmed position */
	deliver(p, &t1, 1, 1);
	assert_int_equal(poll_ack(p), 0x1000);     /* sink reports 0 */
	a.durable = 0x800;
	assert_int_equal(poll_ack(p), 0x1000);     /* below the start */
	a.durable = 0x2010;
	assert_int_equal(poll_ack(p), 0x2010);
	deliver(p, &t2, 1, 1);
	a.durable = 0x1500;                        /* a sink going back */
	assert_int_equal(poll_ack(p), 0x2010);
	a.durable = 0;
	assert_int_equal(poll_ack(p), 0x2010);
	a.durable = 0x3010;
	assert_int_equal(poll_ack(p), 0x3010);
	pipe_free(p);
}

/* A transaction sent again after a reconnect is skipped whole. */
static void
test_resent_skipped(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(10, 0x500, 0x530), t0 = txn(9, 0x400, 0x430),
	               t2 = txn(11, 0x501, 0x540);
	struct cdc_change ch;
	struct pipe_stats st;

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, NULL, NULL);
	deliver(p, &t1, 1, 5);
	a.log[0] = b.log[0] = '\0';

	/* the same commit LSN again, and an older one */
	for (int k = 0; k < 2; k++) {
		const struct cdc_txn *t = k == 0 ? &t1 : &t0;

		assert_int_equal(pipe_begin(p, t, &err), 1);
		assert_true(pipe_in_txn(p));
		ch = change(t, 'u', t->commit_lsn - 1);
		assert_int_equal(pipe_change(p, &ch, 100, &err), 0);
		assert_int_equal(pipe_commit(p, t, &err), 0);
		assert_false(pipe_in_txn(p));
	}
	assert_string_equal(a.log, "");
	assert_string_equal(b.log, "");
	pipe_stats(p, &st);
	assert_int_equal(st.skipped_transactions, 2);
	assert_int_equal(st.transactions, 1);
	assert_int_equal(st.changes, 1);
	assert_int_equal(st.pending_bytes, 5);
	assert_int_equal(st.last_commit_end, 0x530);

	/* a skipped transaction cut short is not an abort for the sinks */
	assert_int_equal(pipe_begin(p, &t1, &err), 1);
	pipe_abort(p);
	assert_int_equal(a.aborts, 0);
	assert_false(pipe_in_txn(p));

	/* the next new one goes through */
	deliver(p, &t2, 1, 5);
	assert_string_equal(a.log, "B11 Wc@500 C11");
	assert_string_equal(b.log, a.log);
	pipe_free(p);
}

static void
test_abort(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(20, 0x700, 0x730);
	struct cdc_change ch = change(&t1, 'd', 0x6F0);

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, NULL, NULL);
	pipe_abort(p);   /* no transaction open: nothing to tell */
	assert_int_equal(a.aborts, 0);
	assert_int_equal(pipe_begin(p, &t1, &err), 0);
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	pipe_abort(p);
	assert_false(pipe_in_txn(p));
	assert_string_equal(a.log, "B20 Wd@6F0 A");
	assert_string_equal(b.log, "B20 Wd@6F0 A");
	/* the server resends it whole: it is not taken for a duplicate */
	deliver(p, &t1, 1, 1);
	assert_string_equal(a.log, "B20 Wd@6F0 A B20 Wc@6FF C20");
	a.durable = b.durable = 0x730;
	assert_int_equal(poll_ack(p), 0x730);
	pipe_free(p);
}

/* CDC_ERR_AGAIN is retried after the wait hook; the hook's error stops the wait. */
static void
test_backpressure(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct waiter w = { .fail_after = -1 };
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(30, 0x900, 0x930);
	struct cdc_change ch = change(&t1, 'c', 0x8F0);

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, wait_hook, &w);
	b.again_begin = 1;
	assert_int_equal(pipe_begin(p, &t1, &err), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(err.code, 0);
	b.again_write = 3;
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	assert_int_equal(w.calls, 4);
	assert_int_equal(b.write_attempts, 4);
	assert_int_equal(b.writes, 1);
	assert_int_equal(a.writes, 1);   /* delivered once to the sink that was not full */
	assert_int_equal(err.code, 0);
	a.again_commit = 2;
	assert_int_equal(pipe_commit(p, &t1, &err), 0);
	assert_int_equal(w.calls, 6);
	assert_int_equal(err.code, 0);
	assert_string_equal(a.log, "B30 Wc@8F0 F F C30");   /* waiting flushes the stalled sink */
	assert_string_equal(b.log, "F B30 F F F Wc@8F0 C30");

	/* the hook gives up: its error comes back, the change was not delivered */
	{
		struct cdc_txn t2 = txn(31, 0xA00, 0xA30);
		struct cdc_change ch2 = change(&t2, 'u', 0x9F0);

		w.calls = 0;
		w.fail_after = 2;
		w.fail = CDC_ERR_CONN;
		assert_int_equal(pipe_begin(p, &t2, &err), 0);
		a.again_write = 100;
		memset(&err, 0, sizeof(err));
		assert_int_equal(pipe_change(p, &ch2, 1, &err), CDC_ERR_CONN);
		assert_string_equal(err.msg, "shutdown requested while waiting");
		assert_int_equal(w.calls, 3);
		assert_int_equal(a.write_attempts, 1 + 3);
		assert_int_equal(b.writes, 1);   /* never reached */
		assert_int_equal(a.base.errors, 0);   /* giving up is not the sink's error */
		pipe_abort(p);
		assert_int_equal(a.aborts, 1);
	}

	/* a flush failing while waiting is fatal too */
	{
		struct cdc_txn t3 = txn(32, 0xB00, 0xB30);

		w.fail_after = -1;
		a.again_write = 0;
		a.again_begin = 5;
		a.fail_flush = CDC_ERR_FATAL;
		memset(&err, 0, sizeof(err));
		assert_int_equal(pipe_begin(p, &t3, &err), CDC_ERR_FATAL);
		assert_string_equal(err.msg, "fake flush fails");
		assert_int_equal(a.base.errors, 1);   /* the flush's failure is the sink's */
		assert_int_equal(b.base.errors, 0);
		pipe_abort(p);
	}
	pipe_free(p);
}

/* Past max_inflight bytes the pipeline makes every sink flush, waiting through AGAIN. */
static void
test_max_inflight(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct waiter w = { .fail_after = -1 };
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(40, 0x1000, 0x1030);
	struct cdc_change ch = change(&t1, 'c', 0xF00);
	struct pipe_stats st;

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 100, 0, wait_hook, &w);
	assert_int_equal(pipe_begin(p, &t1, &err), 0);
	assert_int_equal(pipe_change(p, &ch, 60, &err), 0);
	assert_int_equal(a.flushes + b.flushes, 0);
	assert_int_equal(pipe_change(p, &ch, 40, &err), 0);   /* 100: not over */
	assert_int_equal(a.flushes + b.flushes, 0);
	b.again_flush = 2;
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);    /* 101: over */
	assert_int_equal(a.flushes, 1);
	assert_int_equal(b.flushes, 3);
	assert_int_equal(w.calls, 2);
	assert_int_equal(err.code, 0);
	pipe_stats(p, &st);
	assert_int_equal(st.pending_bytes, 0);
	assert_int_equal(pipe_change(p, &ch, 50, &err), 0);
	assert_int_equal(a.flushes, 1);
	pipe_stats(p, &st);
	assert_int_equal(st.pending_bytes, 50);

	/* the wait hook giving up during that flush */
	w.fail_after = w.calls;
	w.fail = CDC_ERR_CONN;
	a.again_flush = 10;
	assert_int_equal(pipe_change(p, &ch, 60, &err), CDC_ERR_CONN);
	/* a flush failing outright */
	memset(&err, 0, sizeof(err));
	a.again_flush = 0;
	a.fail_flush = CDC_ERR_IO;
	assert_int_equal(a.base.errors, 0);   /* the hook gave up, the sink did not fail */
	assert_int_equal(pipe_change(p, &ch, 1, &err), CDC_ERR_IO);
	assert_string_equal(err.msg, "fake flush fails");
	assert_int_equal(a.base.errors, 1);
	pipe_free(p);

	/* pipe_flush: every sink, pending reset; a sink that never gets there times out */
	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, NULL, NULL);
	deliver(p, &t1, 1, 77);
	memset(&err, 0, sizeof(err));
	assert_int_equal(pipe_flush(p, 1000, &err), 0);
	assert_int_equal(a.flushes, 1);
	assert_int_equal(b.flushes, 1);
	pipe_stats(p, &st);
	assert_int_equal(st.pending_bytes, 0);
	b.again_flush = INT_MAX;
	assert_int_equal(pipe_flush(p, 30, &err), CDC_ERR_AGAIN);
	assert_true(b.flushes > 1);
	assert_int_equal(b.base.errors, 0);   /* a timeout is not an error */
	b.again_flush = 0;
	b.fail_flush = CDC_ERR_FATAL;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pipe_flush(p, 30, &err), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "fake flush fails");
	assert_int_equal(b.base.errors, 1);
	pipe_free(p);
}

/* Idle positions are acknowledged only once everything handed over is durable and no
 * transaction is open. */
static void
test_idle_position(void **state)
{
	struct fake a;
	struct sink *sinks[] = { &a.base };
	struct pipeline *p;
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(50, 0x5000, 0x5030), t2 = txn(51, 0x7000, 0x7030);

	fake_init(&a);
	p = pipe_new(sinks, 1, 1 << 20, 0x100, NULL, NULL);
	/* nothing ever handed over: the idle position is acknowledgeable at once */
	pipe_note_idle_position(p, 0x400);
	assert_int_equal(poll_ack(p), 0x400);

	deliver(p, &t1, 1, 1);
	pipe_note_idle_position(p, 0x6000);
	assert_int_equal(poll_ack(p), 0x400);      /* t1 is not durable */
	a.durable = 0x5000;
	assert_int_equal(poll_ack(p), 0x5000);     /* partly: still not */
	a.durable = 0x5030;
	assert_int_equal(poll_ack(p), 0x6000);     /* t1 durable: the idle position */

	/* inside a transaction the idle position waits */
	assert_int_equal(pipe_begin(p, &t2, &err), 0);
	pipe_note_idle_position(p, 0x6500);
	assert_int_equal(poll_ack(p), 0x6000);
	assert_int_equal(pipe_commit(p, &t2, &err), 0);
	assert_int_equal(poll_ack(p), 0x6000);     /* t2 not durable */
	a.durable = 0x7030;
	assert_int_equal(poll_ack(p), 0x7030);     /* the idle position is older than t2 */
	pipe_note_idle_position(p, 0x6800);        /* older than what is acked: no effect */
	assert_int_equal(poll_ack(p), 0x7030);
	pipe_note_idle_position(p, 0x9000);
	assert_int_equal(poll_ack(p), 0x9000);
	pipe_free(p);

	/* no sinks at all: everything handed over counts as durable */
	p = pipe_new(NULL, 0, 1 << 20, 0, NULL, NULL);
	deliver(p, &t1, 1, 1);
	assert_int_equal(poll_ack(p), 0x5030);
	pipe_note_idle_position(p, 0x5500);
	assert_int_equal(poll_ack(p), 0x5500);
	pipe_free(p);
}

/* A fatal sink error comes back with the sink's message and counts on that sink. */
static void
test_fatal_errors(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(60, 0x100, 0x130);
	struct cdc_change ch = change(&t1, 'c', 0xF0);
	cdc_lsn ack = 0x77;

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, NULL, NULL);
	assert_int_equal(pipe_begin(p, &t1, &err), 0);
	b.fail_write = CDC_ERR_FATAL;
	assert_int_equal(pipe_change(p, &ch, 1, &err), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "fake write fails on c");
	assert_int_equal(b.base.errors, 1);
	assert_int_equal(a.base.errors, 0);
	b.fail_write = 0;

	memset(&err, 0, sizeof(err));
	a.fail_commit = CDC_ERR_IO;
	assert_int_equal(pipe_commit(p, &t1, &err), CDC_ERR_IO);
	assert_string_equal(err.msg, "fake commit fails");
	assert_int_equal(a.base.errors, 1);
	a.fail_commit = 0;

	memset(&err, 0, sizeof(err));
	b.fail_poll = CDC_ERR_FATAL;
	assert_int_equal(pipe_poll(p, &ack, &err), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "fake poll fails");
	assert_int_equal(ack, 0x77);   /* not set on error */
	assert_int_equal(b.base.errors, 2);
	b.fail_poll = 0;

	memset(&err, 0, sizeof(err));
	a.fail_begin = CDC_ERR_FATAL;
	assert_int_equal(pipe_begin(p, &t1, &err), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "fake begin fails");
	assert_int_equal(a.base.errors, 2);
	assert_int_equal(b.begins, 1);   /* the sink after the failing one is not called */
	pipe_free(p);
}

/* While a sink answers CDC_ERR_AGAIN the pipeline can say why (for the monitor); the
 * stall is forgotten at the sink's next success. */
static void
test_stall(void **state)
{
	struct fake a, b;
	struct sink *sinks[] = { &a.base, &b.base };
	struct pipeline *p;
	struct waiter w = { .fail_after = -1 };
	struct cdc_err err = { 0 };
	struct cdc_txn t1 = txn(70, 0x100, 0x130);
	struct cdc_change ch = change(&t1, 'c', 0xF0);

	fake_init(&a);
	fake_init(&b);
	p = pipe_new(sinks, 2, 1 << 20, 0, wait_hook, &w);
	w.p = p;
	assert_null(pipe_sink_stall(p, 0));
	assert_null(pipe_sink_stall(p, 1));
	assert_null(pipe_sink_stall(p, -1));
	assert_null(pipe_sink_stall(p, 1000));
	assert_int_equal(pipe_begin(p, &t1, &err), 0);
	b.again_write = 2;
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	assert_int_equal(w.calls, 2);
	assert_string_equal(w.stall[0], "(none)");
	assert_string_equal(w.stall[1], "write: queue full");
	assert_null(pipe_sink_stall(p, 1));   /* the write went through */

	/* a flush answering AGAIN while waiting: its message wins */
	b.again_write = 1;
	b.again_flush = 1;
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	assert_string_equal(w.stall[1], "flush: not yet");
	assert_null(pipe_sink_stall(p, 1));

	/* an AGAIN without a message still reads as a stall */
	a.quiet = true;
	a.again_write = 1;
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	assert_string_equal(w.stall[0], "sink cannot take more data right now");

	/* the wait is given up: the stall remains until the sink succeeds again */
	w.fail_after = w.calls;
	w.fail = CDC_ERR_CONN;
	a.quiet = false;
	a.again_write = 1;
	assert_int_equal(pipe_change(p, &ch, 1, &err), CDC_ERR_CONN);
	assert_non_null(pipe_sink_stall(p, 0));
	assert_string_equal(pipe_sink_stall(p, 0), "write: queue full");
	w.fail_after = -1;
	memset(&err, 0, sizeof(err));
	assert_int_equal(pipe_change(p, &ch, 1, &err), 0);
	assert_null(pipe_sink_stall(p, 0));
	pipe_free(p);
}

/* Snapshot pseudo-transactions share one LSN and are never taken for resends; a real
 * transaction at or below that LSN after them is. */
static void
test_snapshot_txns(void **state)
{
	struct fake a;
	struct sink *sinks[] = { &a.base };
	struct pipeline *p;
	struct cdc_err err = { 0 };
	struct cdc_txn s1 = txn(0, 0x500, 0x500), s2 = txn(0, 0x500, 0x500);
	struct cdc_txn old = txn(7, 0x500, 0x520), next = txn(8, 0x600, 0x620);
	struct pipe_stats st;

	s1.snapshot = s2.snapshot = true;
	fake_init(&a);
	p = pipe_new(sinks, 1, 1 << 20, 0, NULL, NULL);
	deliver(p, &s1, 2, 1);
	deliver(p, &s2, 1, 1);
	assert_int_equal(pipe_begin(p, &old, &err), 1);
	assert_int_equal(pipe_commit(p, &old, &err), 0);
	deliver(p, &next, 1, 1);
	assert_string_equal(a.log, "B0 Wc@4FE Wc@4FF C0 B0 Wc@4FF C0 B8 Wc@5FF C8");
	pipe_stats(p, &st);
	assert_int_equal(st.transactions, 3);
	assert_int_equal(st.skipped_transactions, 1);
	a.durable = 0x500;
	assert_int_equal(poll_ack(p), 0x500);
	pipe_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_and_min),
		cmocka_unit_test(test_ack_monotonic),
		cmocka_unit_test(test_resent_skipped),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_max_inflight),
		cmocka_unit_test(test_idle_position),
		cmocka_unit_test(test_fatal_errors),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_snapshot_txns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
