/*
 * pipeline.c — sink fan-out, backpressure and the acknowledgeable LSN (see pipeline.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "filter.h"
#include "pipeline.h"

#define WAIT_SLICE_MS 200
#define PIPE_MAX_SINKS 8

struct pipeline {
	struct sink **sinks;
	int nsinks;
	int64_t max_inflight;
	pipe_wait_fn wait;
	void *wait_ctx;
	struct filter *filter;

	bool in_txn;
	bool skipping;            /* the open transaction is a resend: ignore it */
	cdc_lsn handed_commit;    /* commit LSN of the newest transaction handed to sinks */
	cdc_lsn last_commit_end;  /* its end LSN */
	cdc_lsn acked;            /* acknowledgeable LSN, monotonic */
	cdc_lsn idle_pos;         /* newest position with nothing pending */
	int64_t pending_bytes;    /* handed to sinks since their last flush */
	bool stalled[PIPE_MAX_SINKS];
	char stall_msg[PIPE_MAX_SINKS][512];
	uint64_t changes, txns, skipped;
};

struct pipeline *
pipe_new(struct sink **sinks, int n, int64_t max_inflight, cdc_lsn start_lsn,
         pipe_wait_fn wait, void *wait_ctx)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->sinks = sinks;
	p->nsinks = n;
	p->max_inflight = max_inflight;
	p->wait = wait;
	p->wait_ctx = wait_ctx;
	p->acked = start_lsn;
	p->handed_commit = 0;
	return p;
}

void
pipe_free(struct pipeline *p)
{
	free(p);
}

bool
pipe_in_txn(const struct pipeline *p)
{
	return p->in_txn;
}

static void
note_stall(struct pipeline *p, int i, const struct cdc_err *err)
{
	if (i < 0 || i >= PIPE_MAX_SINKS)
		return;
	p->stalled[i] = true;
	snprintf(p->stall_msg[i], sizeof(p->stall_msg[i]), "%s",
	         err->msg[0] ? err->msg : "sink cannot take more data right now");
}

static void
clear_stall(struct pipeline *p, int i)
{
	if (i >= 0 && i < PIPE_MAX_SINKS)
		p->stalled[i] = false;
}

const char *
pipe_sink_stall(const struct pipeline *p, int i)
{
	if (i < 0 || i >= PIPE_MAX_SINKS || !p->stalled[i])
		return NULL;
	return p->stall_msg[i];
}

/* One wait step while a sink is stalled: give it time, keep the connection alive. */
static int
wait_step(struct pipeline *p, int i, struct cdc_err *err)
{
	struct cdc_err ferr = { 0 };
	struct sink *s = p->sinks[i];
	int rc = s->ops->flush(s, WAIT_SLICE_MS, &ferr);

	if (rc != 0 && rc != CDC_ERR_AGAIN) {
		s->errors++;
		return cdc_errf(err, rc, "%s", ferr.msg);
	}
	if (rc == CDC_ERR_AGAIN) {
		note_stall(p, i, &ferr);
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return p->wait != NULL ? p->wait(p->wait_ctx, err) : 0;
}

static int
drain_if_needed(struct pipeline *p, struct cdc_err *err)
{
	if (p->pending_bytes <= p->max_inflight)
		return 0;
	for (int i = 0; i < p->nsinks; i++) {
		struct sink *s = p->sinks[i];
		int rc;

		while ((rc = s->ops->flush(s, WAIT_SLICE_MS, err)) == CDC_ERR_AGAIN) {
			note_stall(p, i, err);
			cdc_err_clear(err);
			if (p->wait != NULL && (rc = p->wait(p->wait_ctx, err)) != 0)
				return rc;
		}
		if (rc != 0) {
			s->errors++;
			return rc;
		}
		clear_stall(p, i);
	}
	p->pending_bytes = 0;
	return 0;
}

/* Call one operation on every sink in turn.  A sink answering CDC_ERR_AGAIN is
 * waited for (wait_step keeps the session alive) and asked again; any other
 * failure counts against the sink and stops the call. */
enum sink_call { CALL_BEGIN, CALL_WRITE, CALL_COMMIT };

static int
each_sink(struct pipeline *p, enum sink_call call, const struct cdc_txn *txn,
          const struct cdc_change *ch, struct cdc_err *err)
{
	for (int i = 0; i < p->nsinks; i++) {
		struct sink *s = p->sinks[i];
		int rc;

		for (;;) {
			switch (call) {
			case CALL_BEGIN: rc = s->ops->begin(s, txn, err); break;
			case CALL_WRITE: rc = s->ops->write(s, ch, err); break;
			default: rc = s->ops->commit(s, txn, err); break;
			}
			if (rc != CDC_ERR_AGAIN)
				break;
			note_stall(p, i, err);
			cdc_err_clear(err);
			if ((rc = wait_step(p, i, err)) != 0)
				return rc;
		}
		if (rc != 0) {
			s->errors++;
			return rc;
		}
		clear_stall(p, i);
	}
	return 0;
}

int
pipe_begin(struct pipeline *p, const struct cdc_txn *txn, struct cdc_err *err)
{
	p->in_txn = true;
	p->skipping = !txn->snapshot && p->handed_commit != 0 && txn->commit_lsn <= p->handed_commit;
	if (p->skipping) {
		p->skipped++;
		return 1;
	}
	return each_sink(p, CALL_BEGIN, txn, NULL, err);
}

void
pipe_set_filter(struct pipeline *p, struct filter *f)
{
	p->filter = f;
}

int
pipe_change(struct pipeline *p, const struct cdc_change *ch, size_t bytes, struct cdc_err *err)
{
	int frc;

	if (p->skipping)
		return 0;
	if (p->filter != NULL) {
		if ((frc = filter_apply(p->filter, ch, &ch, err)) < 0)
			return frc;
		if (frc == 1)
			return 0;   /* a table the filter leaves out */
	}
	if ((frc = each_sink(p, CALL_WRITE, NULL, ch, err)) != 0)
		return frc;
	p->changes++;
	p->pending_bytes += (int64_t) bytes;
	return drain_if_needed(p, err);
}

int
pipe_commit(struct pipeline *p, const struct cdc_txn *txn, struct cdc_err *err)
{
	int rc;

	p->in_txn = false;
	if (p->skipping) {
		p->skipping = false;
		return 0;
	}
	if ((rc = each_sink(p, CALL_COMMIT, txn, NULL, err)) != 0)
		return rc;
	p->txns++;
	p->handed_commit = txn->commit_lsn;
	p->last_commit_end = txn->end_lsn;
	return drain_if_needed(p, err);
}

void
pipe_abort(struct pipeline *p)
{
	if (p->in_txn && !p->skipping)
		for (int i = 0; i < p->nsinks; i++)
			p->sinks[i]->ops->abort(p->sinks[i]);
	p->in_txn = false;
	p->skipping = false;
}

void
pipe_note_idle_position(struct pipeline *p, cdc_lsn lsn)
{
	if (lsn > p->idle_pos)
		p->idle_pos = lsn;
}

int
pipe_poll(struct pipeline *p, cdc_lsn *ack, struct cdc_err *err)
{
	cdc_lsn min = UINT64_MAX;

	for (int i = 0; i < p->nsinks; i++) {
		cdc_lsn d = 0;
		int rc = p->sinks[i]->ops->poll(p->sinks[i], &d, err);

		if (rc != 0) {
			p->sinks[i]->errors++;
			return rc;
		}
		if (d < min)
			min = d;
	}
	if (p->nsinks == 0)
		min = p->last_commit_end;
	/* Everything handed over is durable: so is any later position at which the
	 * server had nothing for us (idle keepalives, heartbeat messages). */
	if (min >= p->last_commit_end && !p->in_txn) {
		if (p->idle_pos > min)
			min = p->idle_pos;
	}
	if (p->last_commit_end != 0 || min != 0) {
		if (min != UINT64_MAX && min > p->acked)
			p->acked = min;
	}
	*ack = p->acked;
	return 0;
}

int
pipe_flush(struct pipeline *p, int timeout_ms, struct cdc_err *err)
{
	struct timespec start, now;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < p->nsinks; i++) {
		struct sink *s = p->sinks[i];

		for (;;) {
			long spent;

			rc = s->ops->flush(s, WAIT_SLICE_MS, err);
			if (rc != CDC_ERR_AGAIN)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
			if (spent >= timeout_ms)
				return rc;
			cdc_err_clear(err);
		}
		if (rc != 0) {
			s->errors++;
			return rc;
		}
	}
	p->pending_bytes = 0;
	return 0;
}

void
pipe_stats(const struct pipeline *p, struct pipe_stats *out)
{
	out->changes = p->changes;
	out->transactions = p->txns;
	out->skipped_transactions = p->skipped;
	out->pending_bytes = p->pending_bytes;
	out->last_commit_end = p->last_commit_end;
	out->acked = p->acked;
}
