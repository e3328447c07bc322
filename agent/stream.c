/*
 * stream.c — the replication session: connect, make sure the slot and the
 * publication exist, START_REPLICATION, then loop reading CopyData messages.
 *
 * DESIGN: one thread does everything in order: XLogData payloads are routed to the
 * spill (inside a protocol-2 stream) or to the decoder, whose events drive the
 * pipeline; keepalives and status updates are answered in the same loop, and the
 * pipeline calls back into stream_wait() while a sink stalls so status updates keep
 * flowing while no WAL is read.  A lost connection (server restart, network) closes
 * the session, forgets partial state (the server resends from the acknowledged
 * position) and reconnects with exponential backoff from 1 s to 30 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "../common/log.h"
#include "pg.h"
#include "pipeline.h"
#include "filter.h"
#include "snapshot.h"
#include "backfill.h"
#include "spill.h"
#include "history.h"
#include "stats.h"
#include "../decoder/decode.h"
#include "../sinks/sink.h"
#include "../common/clock.h"
#include "../common/durable.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct agent {
	const struct cfg *cfg;
	struct cdc_stats *stats;
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *reopen;
	bool accept_gap;           /* --accept-gap */
	cdc_lsn endpos;            /* --endpos, 0 = none */
	PGconn *repl;
	PGconn *aux;
	struct dec *dec;
	struct pgo_parser *ctl;    /* parses stream control messages */
	struct spill *spill;
	struct pipeline *pipe;
	struct filter *filter;
	struct cdc_types *types;
	struct hist *hist;         /* learned types and keys, as of LSN (history.h) */
	struct backfill *bf;       /* the online snapshot (backfill.h); NULL before the sinks open */
	bool bf_start;             /* the slot was just created for an online snapshot */
	bool gap_backfill;         /* a gap taken over by on_gap = backfill: backfill every table */
	uint32_t cur_xid;          /* the transaction being decoded ... */
	cdc_lsn cur_commit;        /* ... and its commit LSN: the position a Relation applies at */
	struct sink *sinks[4];
	int nsinks;
	char dbname[128];
	char sysid[32];            /* IDENTIFY_SYSTEM systemid of this connection */
	unsigned timeline;         /* ... and its timeline */
	cdc_lsn server_wal_end;    /* IDENTIFY_SYSTEM xlogpos of this connection */
	int server_version;        /* of this connection (PQserverVersion) */
	int protocol;              /* pgoutput protocol of this session (source.protocol, auto) */
	bool in_recovery;          /* the server is a standby (standby decoding, 16+) */
	bool connected;            /* a replication connection was made at least once */
	bool failover;             /* the slot is to be a FAILOVER slot (source.failover) */

	cdc_lsn received;          /* newest WAL position received */
	cdc_lsn sent_flush;        /* last flush position reported to the server */
	int64_t last_status_ms;
	int64_t last_poll_ms;      /* sinks last polled between status updates */
	unsigned since_timers;     /* messages since the timers were last looked at */
	int64_t last_heartbeat_ms;
	int64_t last_recv_ms;      /* when a message from the server was last seen */
	bool got_msg;              /* a message came since the timers were last looked at */
	bool pinged;               /* a reply was requested for this silence */
	bool spill_full;           /* waiting for room in state_dir to spill */
	cdc_lsn state_written;
	bool in_stream;
	bool streaming;            /* START_REPLICATION succeeded on repl */
	size_t cur_msg_len;        /* payload length of the message being decoded */
	/* batched receive (see wait_readable) */
	bool rcv_batched;          /* SO_RCVLOWAT is raised on the replication socket */
	bool drained;              /* the socket was read since the last message */
	size_t burst;              /* bytes received since the loop last had to wait */
	int64_t last_wait_us;      /* how long that wait took */
	char slot_q[200];          /* quoted slot identifier */
};

static void
quote_ident(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	out[o++] = '"';
	for (const char *p = in; *p && o + 3 < cap; p++) {
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* ---- state file: the last acknowledged position, for gap detection ----
 *
 * Written (and fsynced) BEFORE a status update tells the server a newer flush
 * position, so the slot's confirmed_flush_lsn can never be ahead of what pgcdc
 * recorded as delivered: if it is at the next start, something else moved it. */

static void
state_path(const struct agent *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.lsn", a->cfg->source.state_dir, a->cfg->source.slot);
}

/* The recorded position in *out: 0 when there is no state file (a first start).
 * A file that exists but cannot be read, or does not hold a position, is an error
 * naming it (SPEC §5): taking it for a first start would disable gap detection. */
static int
state_read(const struct agent *a, cdc_lsn *out, struct cdc_err *err)
{
	char path[4096], line[64] = "";
	cdc_lsn lsn = 0;
	FILE *f;
	int e;

	state_path(a, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT) {
			*out = 0;
			return 0;
		}
		return cdc_errf(err, CDC_ERR_FATAL, "state file %s cannot be read: %s (it records the "
		                "position pgcdc delivered; fix its permissions)", path, strerror(errno));
	}
	errno = 0;
	if (fgets(line, sizeof(line), f) == NULL) {
		e = ferror(f) ? errno : 0;
		fclose(f);
		return cdc_errf(err, CDC_ERR_FATAL, "state file %s cannot be read: %s (it records the "
		                "position pgcdc delivered; restore it, or remove it only if the slot "
		                "and every sink are to start over)", path, e ? strerror(e) : "it is empty");
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (cdc_lsn_parse(line, &lsn) != 0 || lsn == 0)
		return cdc_errf(err, CDC_ERR_FATAL, "state file %s holds \"%.40s\", not a position "
		                "(X/X): it records the position pgcdc delivered; restore it, or remove it "
		                "only if the slot and every sink are to start over", path, line);
	*out = lsn;
	return 0;
}

static int
state_write(struct agent *a, cdc_lsn lsn)
{
	char path[4096], line[64], why[4400];
	int n;

	if (lsn == a->state_written)
		return 0;
	state_path(a, path, sizeof(path));
	n = snprintf(line, sizeof(line), CDC_LSN_FMT "\n", CDC_LSN_ARGS(lsn));
	if (cdc_write_durably(a->cfg->source.state_dir, path, line, (size_t) n, why, sizeof(why)) != 0) {
		log_warning("state", "cannot record position: %s", why);
		return -1;
	}
	a->state_written = lsn;
	return 0;
}

/* ---- system file: which database cluster and timeline pgcdc streamed from ----
 *
 * <state_dir>/<slot>.system holds "<system identifier> <timeline>", written (fsynced)
 * on every connection once the gap check has passed.  A different system identifier
 * at the next connection is a gap (SPEC §5): the database was replaced or restored,
 * and its slot's positions do not continue what was delivered.  A new timeline is a
 * promotion (failover) or a point-in-time recovery: logged, not a gap by itself. */

static void
system_path(const struct agent *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.system", a->cfg->source.state_dir, a->cfg->source.slot);
}

/* *have = false when there is no file; an unreadable or garbled one is an error. */
static int
system_read(const struct agent *a, char *sysid, size_t cap, unsigned *tli, bool *have,
            struct cdc_err *err)
{
	char path[4096], line[128] = "", id[32];
	FILE *f;

	*have = false;
	system_path(a, path, sizeof(path));
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return cdc_errf(err, CDC_ERR_FATAL, "state file %s cannot be read: %s (it records the "
		                "database pgcdc streams from; fix its permissions)", path, strerror(errno));
	}
	if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "%31[0-9] %u", id, tli) != 2) {
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		return cdc_errf(err, CDC_ERR_FATAL, "state file %s holds \"%.60s\", not \"<system "
		                "identifier> <timeline>\": restore it, or remove it only if the slot and "
		                "every sink are to start over", path, line);
	}
	fclose(f);
	snprintf(sysid, cap, "%s", id);
	*have = true;
	return 0;
}

static int
system_write(struct agent *a, struct cdc_err *err)
{
	char path[4096], line[96], why[4400];
	int n;

	system_path(a, path, sizeof(path));
	n = snprintf(line, sizeof(line), "%s %u\n", a->sysid, a->timeline);
	if (cdc_write_durably(a->cfg->source.state_dir, path, line, (size_t) n, why, sizeof(why)) != 0)
		return cdc_errf(err, CDC_ERR_IO, "%s (check source.state_dir)", why);
	return 0;
}

/* ---- status updates ---- */

static int
send_status(struct agent *a, bool reply, struct cdc_err *err)
{
	uint8_t msg[1 + 8 * 4 + 1];
	cdc_lsn ack = 0, write_pos;
	int rc;

	if ((rc = pipe_poll(a->pipe, &ack, err)) != 0)
		return rc;
	/* record first, then tell the server: never confirm what is not recorded */
	if (ack > a->state_written && state_write(a, ack) != 0)
		ack = a->state_written > a->sent_flush ? a->state_written : a->sent_flush;
	/* backfill progress is recorded for the chunks every sink made durable */
	if ((rc = backfill_poll(a->bf, err)) != 0)
		return rc;
	write_pos = a->received > ack ? a->received : ack;
	msg[0] = 'r';
	pg_put64(msg + 1, write_pos);          /* write */
	pg_put64(msg + 9, ack);                /* flush: durable in every sink */
	pg_put64(msg + 17, ack);               /* apply */
	pg_put64(msg + 25, (uint64_t) pg_now_pgtime());
	msg[33] = reply ? 1 : 0;
	if (PQputCopyData(a->repl, (const char *) msg, sizeof(msg)) <= 0 || PQflush(a->repl) != 0)
		return cdc_errf(err, CDC_ERR_CONN, "sending standby status update failed: %s",
		                PQerrorMessage(a->repl));
	if (ack != a->sent_flush)
		log_debug("stream", "acknowledged " CDC_LSN_FMT, CDC_LSN_ARGS(ack));
	a->sent_flush = ack;
	a->last_status_ms = mono_ms();
	stats_set_positions(a->stats, a->received, ack, true);
	stats_set_spilled(a->stats, spill_bytes(a->spill));
	for (int i = 0; i < a->nsinks; i++)
		stats_set_sink(a->stats, i, a->sinks[i]->ops->name, a->sinks[i]->records,
		               a->sinks[i]->errors, pipe_sink_stall(a->pipe, i));
	return 0;
}

/* Send a status update when the interval passed, or soon after the acknowledgeable
 * position moved (so the slot follows delivery closely). */
static int
maybe_status(struct agent *a, struct cdc_err *err)
{
	int64_t now = mono_ms(), since = now - a->last_status_ms;
	cdc_lsn ack = 0;
	int rc;

	if (since >= a->cfg->source.status_interval_ms)
		return send_status(a, false, err);
	if (since >= 200 && now - a->last_poll_ms >= 20) {
		a->last_poll_ms = now;
		if ((rc = pipe_poll(a->pipe, &ack, err)) != 0)
			return rc;
		if (ack != a->sent_flush)
			return send_status(a, false, err);
	}
	return 0;
}

/* source.receive_timeout: a connection over which nothing, not even a keepalive,
 * arrives for that long is taken as dead (a black-holed path keeps the socket open and
 * would stall pgcdc until the network returned).  Halfway, a status update asks the
 * server for a reply, as the walreceiver does.  Time spent waiting on a stalled sink
 * does not count: the message being processed then counts as received at its end. */
static int
check_receive(struct agent *a, struct cdc_err *err)
{
	int64_t now = mono_ms(), timeout = a->cfg->source.receive_timeout_ms;

	if (a->got_msg) {
		a->got_msg = false;
		a->pinged = false;
		a->last_recv_ms = now;
		return 0;
	}
	if (timeout <= 0)
		return 0;
	if (now - a->last_recv_ms >= timeout)
		return cdc_errf(err, CDC_ERR_CONN, "no message from the server for %" PRId64 " s "
		                "(source.receive_timeout): the connection is taken as dead",
		                timeout / 1000);
	if (!a->pinged && now - a->last_recv_ms >= timeout / 2) {
		a->pinged = true;
		return send_status(a, true, err);
	}
	return 0;
}

/* The pipeline waits on a sink: keep the session alive, honour shutdown.  Before
 * START_REPLICATION (the initial snapshot drains into the sinks) there is no COPY to
 * send status updates on, and none is needed: the replication connection waits for a
 * command, with no wal_sender_timeout. */
static int
stream_wait(void *ctx, struct cdc_err *err)
{
	struct agent *a = ctx;

	if (*a->stop)
		return cdc_errf(err, CDC_ERR_AGAIN, "shutdown requested while a sink was stalled");
	if (a->streaming && mono_ms() - a->last_status_ms >= a->cfg->source.status_interval_ms)
		return send_status(a, false, err);
	return 0;
}

/* state_dir is full while a streamed transaction is spilled: wait a second for room
 * as the Parquet sink does on a full disk (no WAL is read meanwhile, status updates
 * keep the session alive, a critical sink_error alert names the spill); the caller
 * then retries the same message.  0, or the error that ends the wait (shutdown). */
static int
spill_full_wait(struct agent *a, struct cdc_err *err)
{
	int rc;

	if (!a->spill_full) {
		log_warning("stream", "%s: WAL reading pauses until there is room (nothing is lost)",
		            err->msg);
		stats_set_spill_error(a->stats, err->msg);
		a->spill_full = true;
	}
	cdc_err_clear(err);
	for (int i = 0; i < 10; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if ((rc = stream_wait(a, err)) != 0)
			return rc;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
spill_room_again(struct agent *a)
{
	if (!a->spill_full)
		return;
	a->spill_full = false;
	stats_set_spill_error(a->stats, NULL);
	log_info("stream", "state_dir has room again: spilling and WAL reading resume");
}

/* ---- decoder events ---- */

static int
aux_ensure(struct agent *a, struct cdc_err *err)
{
	if (a->aux != NULL && PQstatus(a->aux) == CONNECTION_OK)
		return 0;
	PQfinish(a->aux);
	a->aux = pg_connect(a->cfg->source.conninfo, false, err);
	return a->aux == NULL ? err->code : 0;
}

/* Whether this server can run an online backfill: logical decoding messages in pgoutput
 * (14+) and a primary to write the watermarks on. */
static bool
online_ok(const struct agent *a)
{
	return a->server_version >= 140000 && !a->in_recovery;
}

/* pgcdc's own messages (watermarks, signals, heartbeats; "pgcdc_heartbeat" as versions
 * before 0.2 wrote it) are never records. */
static bool
own_message(const char *prefix)
{
	return strncmp(prefix, "pgcdc.", 6) == 0 || strcmp(prefix, "pgcdc_heartbeat") == 0;
}

/* A logical decoding message of the database's (SPEC §3): an op "m" record.  A
 * transactional one goes out with the transaction it belongs to; a non-transactional
 * one is a transaction of its own at its position (txId null; its time is when pgcdc
 * read it: the server sends none). */
static int
message_record(struct agent *a, const struct dec_event *ev, struct cdc_err *err)
{
	struct cdc_message m = {
		.prefix = ev->msg->u.message.prefix, .content = ev->msg->u.message.content,
		.len = ev->msg->u.message.len,
		.transactional = (ev->msg->u.message.flags & PGO_MESSAGE_TRANSACTIONAL) != 0,
	};
	struct cdc_change ch = { .op = CDC_OP_MESSAGE, .lsn = ev->lsn, .msg = &m };
	struct cdc_txn t = { .commit_lsn = ev->lsn, .end_lsn = ev->lsn,
	                     .commit_ts_us = wall_ns() / 1000 };
	int rc;

	if (m.transactional) {
		ch.txn = ev->txn;
		return pipe_change(a->pipe, &ch, a->cur_msg_len, err);
	}
	ch.txn = &t;
	/* pipe_begin says 1 for a position delivered before (sent again after a
	 * reconnect): change and commit then pass it over */
	if ((rc = pipe_begin(a->pipe, &t, err)) < 0)
		return rc;
	if ((rc = pipe_change(a->pipe, &ch, a->cur_msg_len, err)) != 0 ||
	    (rc = pipe_commit(a->pipe, &t, err)) != 0) {
		pipe_abort(a->pipe);
		return rc;
	}
	return 0;
}

static int
on_event(void *ctx, const struct dec_event *ev, struct cdc_err *err)
{
	struct agent *a = ctx;
	int rc;

	switch (ev->type) {
	case DEC_EV_BEGIN:
		a->cur_xid = ev->txn->xid;
		a->cur_commit = ev->txn->commit_lsn;
		rc = pipe_begin(a->pipe, ev->txn, err);
		return rc > 0 ? 0 : rc;
	case DEC_EV_CHANGE:
		if ((rc = backfill_change(a->bf, ev->change, err)) != 0)
			return rc;
		if ((rc = pipe_change(a->pipe, ev->change, a->cur_msg_len, err)) != 0)
			return rc;
		stats_add_change(a->stats, ev->rel->schema, ev->rel->name, ev->change->op);
		return 0;
	case DEC_EV_COMMIT:
		if ((rc = pipe_commit(a->pipe, ev->txn, err)) != 0)
			return rc;
		stats_add_transaction(a->stats);
		backfill_commit(a->bf);      /* a `pgcdc backfill` signal of this transaction */
		return 0;
	case DEC_EV_RELATION:
		log_debug("stream", "relation %s.%s (oid %u, %d columns, replica identity %c)",
		          ev->rel->schema, ev->rel->name, ev->rel->oid, ev->rel->ncols,
		          ev->rel->replident);
		if ((rc = aux_ensure(a, err)) != 0)
			return rc;
		/* what the catalog says as of this message's position, not as of now */
		if ((rc = pg_load_types(a->aux, a->types, a->hist, ev->rel, err)) != 0)
			return rc;
		if (a->cfg->format.profile == CFG_PROFILE_DEBEZIUM &&
		    (rc = pg_load_column_facts(a->aux, ev->rel, a->types, err)) != 0)
			return rc;
		if (ev->rel->replident == 'f' || ev->rel->replident == 'n') {
			bool guessed = false;

			if ((rc = pg_load_pk_as_of(a->aux, ev->rel, a->cur_xid, a->cur_commit, a->hist,
			                           &guessed, err)) != 0)
				return rc;
			if (guessed)
				log_warning("stream", "the primary key of %s.%s at " CDC_LSN_FMT " is not known "
				            "(created since, and not learned before): using today's as the "
				            "record key", ev->rel->schema, ev->rel->name,
				            CDC_LSN_ARGS(a->cur_commit));
		}
		return hist_save(a->hist, err);
	case DEC_EV_TYPE:
		return 0;   /* resolved from pg_type when a relation uses it */
	case DEC_EV_MESSAGE:
		if (!own_message(ev->msg->u.message.prefix))
			return message_record(a, ev, err);
		if (!(ev->msg->u.message.flags & PGO_MESSAGE_TRANSACTIONAL)) {
			/* a watermark of an online snapshot chunk may emit the chunk here */
			if ((rc = backfill_message(a->bf, ev->lsn, ev->msg->u.message.prefix,
			                           ev->msg->u.message.content, ev->msg->u.message.len,
			                           err)) != 0)
				return rc;
			pipe_note_idle_position(a->pipe, ev->lsn);
			/* the last chunk is recorded: end the backfill now (the next status
			 * update would, up to 200 ms later), and start a queued one */
			if (backfill_settled(a->bf))
				return send_status(a, false, err);
		} else {
			return backfill_signal(a->bf, ev->msg->u.message.prefix,
			                       ev->msg->u.message.content, ev->msg->u.message.len);
		}
		return 0;
	}
	return 0;
}

static int
replay_one(void *ctx, cdc_lsn lsn, const uint8_t *buf, size_t len, struct cdc_err *err)
{
	struct agent *a = ctx;

	a->cur_msg_len = len;
	return dec_replay_feed(a->dec, lsn, buf, len, err);
}

/* One XLogData payload. */
static int
on_xlogdata(struct agent *a, cdc_lsn lsn, const uint8_t *p, size_t len, struct cdc_err *err)
{
	struct pgo_msg m;
	int rc;

	if (len == 0)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: empty XLogData at " CDC_LSN_FMT,
		                CDC_LSN_ARGS(lsn));
	switch (p[0]) {
	case PGO_MSG_STREAM_START:
	case PGO_MSG_STREAM_STOP:
	case PGO_MSG_STREAM_COMMIT:
	case PGO_MSG_STREAM_ABORT:
		if ((rc = pgo_parse(a->ctl, p, len, false, &m, err)) != 0)
			return rc;
		break;
	default:
		if (a->in_stream) {
			uint32_t xid = 0;

			if (len >= 5 && strchr("RYIUDT", p[0]) != NULL)
				xid = ((uint32_t) p[1] << 24) | ((uint32_t) p[2] << 16) |
				      ((uint32_t) p[3] << 8) | p[4];
			while ((rc = spill_append(a->spill, xid, lsn, p, len, err)) == CDC_ERR_AGAIN)
				if ((rc = spill_full_wait(a, err)) != 0)
					return rc;
			if (rc == 0)
				spill_room_again(a);
			return rc;
		}
		a->cur_msg_len = len;
		return dec_feed(a->dec, lsn, p, len, err);
	}

	switch (m.type) {
	case PGO_MSG_STREAM_START:
		if (a->in_stream)
			return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: nested Stream Start at " CDC_LSN_FMT,
			                CDC_LSN_ARGS(lsn));
		while ((rc = spill_start(a->spill, m.xid, m.u.stream_start.first_segment, err)) ==
		       CDC_ERR_AGAIN)
			if ((rc = spill_full_wait(a, err)) != 0)
				return rc;
		if (rc != 0)
			return rc;
		spill_room_again(a);
		a->in_stream = true;
		return 0;
	case PGO_MSG_STREAM_STOP:
		a->in_stream = false;
		return spill_stop(a->spill, err);
	case PGO_MSG_STREAM_COMMIT:
		log_debug("stream", "streamed transaction %u commits at " CDC_LSN_FMT ", %" PRIu64
		          " bytes spilled in all", m.xid, CDC_LSN_ARGS(m.u.stream_commit.commit_lsn),
		          spill_bytes(a->spill));
		if ((rc = dec_replay_begin(a->dec, m.xid, m.u.stream_commit.commit_lsn,
		                           m.u.stream_commit.end_lsn, m.u.stream_commit.commit_ts, err)) != 0)
			return rc;
		if ((rc = spill_replay(a->spill, m.xid, replay_one, a, err)) != 0)
			return rc;
		return dec_replay_commit(a->dec, err);
	case PGO_MSG_STREAM_ABORT:
		log_debug("stream", "streamed transaction %u: abort of %s %u", m.xid,
		          m.xid == m.u.stream_abort.subxid ? "transaction" : "subtransaction",
		          m.u.stream_abort.subxid);
		return spill_abort(a->spill, m.xid, m.u.stream_abort.subxid, err);
	}
	return 0;
}

/* ---- session setup ---- */

static int
ensure_publication(struct agent *a, struct cdc_err *err)
{
	const struct cfg *c = a->cfg;
	const char *params[1] = { c->source.publication };
	PGresult *res;
	char pubq[200], sql[8192];
	bool exists;

	res = pg_query(a->aux, "looking up the publication",
	               "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, params, err);
	if (res == NULL)
		return err->code;
	exists = PQntuples(res) == 1;
	PQclear(res);
	if (exists)
		return 0;
	if (c->source.create_publication == CFG_PUB_OFF)
		return cdc_errf(err, CDC_ERR_FATAL, "publication \"%s\" does not exist: create it "
		                "(CREATE PUBLICATION %s FOR ALL TABLES) or set "
		                "source.create_publication = all", c->source.publication,
		                c->source.publication);
	quote_ident(c->source.publication, pubq, sizeof(pubq));
	if (c->source.create_publication == CFG_PUB_ALL) {
		snprintf(sql, sizeof(sql), "CREATE PUBLICATION %s FOR ALL TABLES", pubq);
	} else {
		size_t off = (size_t) snprintf(sql, sizeof(sql), "CREATE PUBLICATION %s FOR TABLE ", pubq);

		for (int i = 0; i < c->source.tables.n && off < sizeof(sql) - 300; i++) {
			char *dot;

			/* schema.table: quote each part */
			dot = strchr(c->source.tables.items[i], '.');
			{
				char sch[130], tab[130], qs[300], qt[300];

				snprintf(sch, sizeof(sch), "%.*s", (int) (dot - c->source.tables.items[i]),
				         c->source.tables.items[i]);
				snprintf(tab, sizeof(tab), "%s", dot + 1);
				quote_ident(sch, qs, sizeof(qs));
				quote_ident(tab, qt, sizeof(qt));
				off += (size_t) snprintf(sql + off, sizeof(sql) - off, "%s%s.%s", i ? ", " : "",
				                         qs, qt);
			}
		}
	}
	res = pg_query(a->aux, "creating the publication", sql, 0, NULL, err);
	if (res == NULL)
		return err->code;
	PQclear(res);
	log_info("stream", "created publication \"%s\" (%s)", c->source.publication,
	         c->source.create_publication == CFG_PUB_ALL ? "FOR ALL TABLES" : "FOR TABLE ...");
	return 0;
}

static void
marker_path(const struct agent *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.snapshot", a->cfg->source.state_dir, a->cfg->source.slot);
}

static int
drop_slot(struct agent *a, struct cdc_err *err)
{
	const char *params[1] = { a->cfg->source.slot };

	/* a killed agent's walsender may take a moment to notice and release the slot */
	for (int i = 0; i < 100; i++) {
		struct pg_slot s;
		PGresult *res;
		int rc;

		if ((rc = pg_slot_info(a->aux, a->cfg->source.slot, &s, err)) != 0)
			return rc;
		if (!s.exists)
			return 0;
		if (!s.active) {
			res = pg_query(a->aux, "dropping the slot", "SELECT pg_drop_replication_slot($1)",
			               1, params, err);
			if (res == NULL)
				return err->code;
			PQclear(res);
			return 0;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return cdc_errf(err, CDC_ERR_FATAL, "slot \"%s\" stays in use by another process: stop it "
	                "first", a->cfg->source.slot);
}

/* An existing slot whose FAILOVER property is not what source.failover asks (17+). */
static int
alter_failover(struct agent *a, struct cdc_err *err)
{
	char sql[300];
	PGresult *res;

	snprintf(sql, sizeof(sql), "ALTER_REPLICATION_SLOT %s (FAILOVER %s)", a->slot_q,
	         a->failover ? "true" : "false");
	res = pg_query(a->repl, "altering the slot's failover property", sql, 0, NULL, err);
	if (res == NULL) {
		if (err->code == CDC_ERR_CONN)
			return err->code;
		log_warning("stream", "slot \"%s\" stays %s: %s", a->cfg->source.slot,
		            a->failover ? "without failover (a failover loses it)" : "a failover slot",
		            err->msg);
		cdc_err_clear(err);
		return 0;
	}
	PQclear(res);
	log_info("stream", "slot \"%s\" is %s a failover slot (source.failover)", a->cfg->source.slot,
	         a->failover ? "now" : "no longer");
	return 0;
}

/* Make sure the slot exists and is ours to use; return where to start and, when
 * the slot was just created for a snapshot, the exported snapshot's name. */
static int
ensure_slot(struct agent *a, bool first, cdc_lsn *start, bool *created, char *snapname,
            size_t snapcap, struct cdc_err *err)
{
	const struct cfg *c = a->cfg;
	struct pg_slot s;
	PGresult *res;
	char sql[300], marker[4200];
	const char *r;
	bool interrupted, want_snapshot;
	int rc;

	snapname[0] = '\0';
	*created = false;
	marker_path(a, marker, sizeof(marker));
	interrupted = access(marker, F_OK) == 0;
	if ((rc = pg_slot_info(a->aux, c->source.slot, &s, err)) != 0)
		return rc;
	if (s.exists) {
		if (strcmp(s.slot_type, "logical") != 0)
			return cdc_errf(err, CDC_ERR_FATAL, "slot \"%s\" is a %s slot, not logical: drop it "
			                "or choose another slot name", c->source.slot, s.slot_type);
		if (strcmp(s.plugin, "pgoutput") != 0)
			return cdc_errf(err, CDC_ERR_FATAL, "slot \"%s\" uses plugin %s, not pgoutput: drop "
			                "it or choose another slot name", c->source.slot, s.plugin);
		if (strcmp(s.database, a->dbname) != 0)
			return cdc_errf(err, CDC_ERR_FATAL, "slot \"%s\" belongs to database \"%s\", not "
			                "\"%s\": choose another slot name", c->source.slot, s.database,
			                a->dbname);
	}
	if (interrupted && c->source.snapshot == CFG_SNAP_NEVER) {
		log_warning("stream", "a previous snapshot did not finish, but source.snapshot = never: "
		            "not redoing it (%s removed)", marker);
		unlink(marker);
		interrupted = false;
	}
	if (s.exists && (interrupted || (first && c->source.snapshot == CFG_SNAP_ALWAYS))) {
		log_info("stream", "%s: dropping slot \"%s\" to take a new snapshot", interrupted ?
		         "the previous snapshot was interrupted" : "source.snapshot = always",
		         c->source.slot);
		if ((rc = drop_slot(a, err)) != 0)
			return rc;
		s.exists = false;
	}
	if (s.exists && (r = pg_slot_invalidated(&s)) != NULL && c->source.on_gap == CFG_GAP_BACKFILL &&
	    online_ok(a)) {
		char why[300];

		snprintf(why, sizeof(why), "slot \"%s\" has been invalidated by the server "
		         "(invalidation_reason %s): changes since " CDC_LSN_FMT " can no longer be decoded",
		         c->source.slot, r, CDC_LSN_ARGS(s.confirmed_flush));
		log_warning("stream", "%s; source.on_gap = backfill: dropping it, creating it anew and "
		            "backfilling every published table online (alert \"gap\" until it is done)", why);
		stats_set_gap(a->stats, why);
		a->gap_backfill = true;
		if ((rc = drop_slot(a, err)) != 0)
			return rc;
		s.exists = false;
	}
	if (s.exists) {
		if ((r = pg_slot_invalidated(&s)) != NULL) {
			return cdc_errf(err, CDC_ERR_FATAL, "slot \"%s\" has been invalidated by the server "
			                "(invalidation_reason %s: %s): changes since " CDC_LSN_FMT " can no "
			                "longer be decoded; drop the slot (pgcdc drop-slot) and re-snapshot",
			                c->source.slot, r, pg_invalidation_text(r),
			                CDC_LSN_ARGS(s.confirmed_flush));
		}
		*start = s.confirmed_flush;
		if (s.failover >= 0 && (s.failover == 1) != a->failover && !a->in_recovery)
			return alter_failover(a, err);
		return 0;
	}
	/* after a gap the online backfill reads every table: no exported snapshot */
	want_snapshot = c->source.snapshot != CFG_SNAP_NEVER && !a->gap_backfill;
	/* the online method reads the tables while streaming: it needs messages (14+) and
	 * a server that can write them (not a standby) */
	if (want_snapshot && c->source.snapshot_method == CFG_SNAPM_ONLINE) {
		if (online_ok(a)) {
			want_snapshot = false;
			a->bf_start = true;
		} else if (a->in_recovery) {
			log_info("stream", "a standby cannot write the online method's watermark messages: "
			         "the initial snapshot uses the exported method");
		} else {
			log_info("stream", "PostgreSQL %d's pgoutput carries no logical decoding messages: "
			         "the initial snapshot uses the exported method", a->server_version / 10000);
		}
	}
	if (a->failover)    /* 17+: the option-list syntax (15+) carries FAILOVER */
		snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT '%s', "
		         "FAILOVER)", a->slot_q, want_snapshot ? "export" : "nothing");
	else
		snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput %s", a->slot_q,
		         want_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
	res = pg_query(a->repl, "creating the replication slot", sql, 0, NULL, err);
	if (res == NULL)
		return err->code;
	if (PQntuples(res) != 1 || cdc_lsn_parse(PQgetvalue(res, 0, 1), start) != 0) {
		PQclear(res);
		return cdc_errf(err, CDC_ERR_PROTO, "CREATE_REPLICATION_SLOT returned an unexpected result");
	}
	if (want_snapshot && !PQgetisnull(res, 0, 2))
		snprintf(snapname, snapcap, "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	*created = true;
	log_info("stream", "created replication slot \"%s\" (pgoutput%s) at " CDC_LSN_FMT "%s",
	         c->source.slot, a->failover ? ", failover" : "", CDC_LSN_ARGS(*start),
	         snapname[0] ? ", with a snapshot" : "");
	return 0;
}

/* The initial snapshot, between slot creation and START_REPLICATION: rows up to
 * the slot's consistent point, streaming continues right after it. */
static int
initial_snapshot(struct agent *a, const char *snapname, cdc_lsn lsn, struct cdc_err *err)
{
	struct snap_opts o = {
		.cfg = a->cfg, .snapshot_name = snapname, .lsn = lsn, .types = a->types,
		.pipe = a->pipe, .stats = a->stats, .stop = a->stop,
	};
	char marker[4200], line[64];
	struct timespec now;
	FILE *f;
	int rc;

	marker_path(a, marker, sizeof(marker));
	f = fopen(marker, "w");
	snprintf(line, sizeof(line), CDC_LSN_FMT "\n", CDC_LSN_ARGS(lsn));
	if (f == NULL || fputs(line, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		if (f != NULL)
			fclose(f);
		return cdc_errf(err, CDC_ERR_IO, "cannot write %s: %s (check source.state_dir)", marker,
		                strerror(errno));
	}
	fclose(f);
	clock_gettime(CLOCK_REALTIME, &now);
	o.ts_us = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if ((rc = snapshot_copy(&o, err)) != 0)
		return rc;
	/* the snapshot counts only once every sink has made it durable */
	while ((rc = pipe_flush(a->pipe, 1000, err)) == CDC_ERR_AGAIN) {
		cdc_err_clear(err);
		if (*a->stop)
			return cdc_errf(err, CDC_ERR_AGAIN, "stopped while the sinks flushed the snapshot");
	}
	if (rc != 0)
		return rc;
	if (unlink(marker) != 0)
		return cdc_errf(err, CDC_ERR_IO, "cannot remove %s: %s", marker, strerror(errno));
	return 0;
}

static int
identify(struct agent *a, struct cdc_err *err)
{
	PGresult *res = pg_query(a->repl, "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM", 0, NULL, err);

	if (res == NULL)
		return err->code;
	if (PQntuples(res) != 1 || PQnfields(res) < 4) {
		PQclear(res);
		return cdc_errf(err, CDC_ERR_PROTO, "IDENTIFY_SYSTEM returned an unexpected result");
	}
	if (PQgetisnull(res, 0, 3)) {
		PQclear(res);
		return cdc_errf(err, CDC_ERR_FATAL, "the replication connection is not bound to a "
		                "database: put dbname=... in source.conninfo");
	}
	snprintf(a->dbname, sizeof(a->dbname), "%s", PQgetvalue(res, 0, 3));
	snprintf(a->sysid, sizeof(a->sysid), "%s", PQgetvalue(res, 0, 0));
	a->timeline = (unsigned) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (cdc_lsn_parse(PQgetvalue(res, 0, 2), &a->server_wal_end) != 0) {
		PQclear(res);
		return cdc_errf(err, CDC_ERR_PROTO, "IDENTIFY_SYSTEM returned an unexpected xlogpos");
	}
	PQclear(res);
	return 0;
}

static int
start_replication(struct agent *a, cdc_lsn start, struct cdc_err *err)
{
	const struct cfg *c = a->cfg;
	char sql[1024], pubq[300];
	PGresult *res;

	/* publication_names is a list of identifiers inside a string literal */
	{
		char q[200];
		size_t o = 0;

		quote_ident(c->source.publication, q, sizeof(q));
		for (const char *p = q; *p && o + 2 < sizeof(pubq); p++) {
			if (*p == '\'')
				pubq[o++] = '\'';
			pubq[o++] = *p;
		}
		pubq[o] = '\0';
	}
	/* only options the server knows: messages from 14, streaming with protocol 2 (14+) */
	snprintf(sql, sizeof(sql), "START_REPLICATION SLOT %s LOGICAL %X/%X (proto_version '%d', "
	         "publication_names '%s'%s%s)", a->slot_q, CDC_LSN_ARGS(start), a->protocol, pubq,
	         a->server_version >= 140000 ? ", messages 'true'" : "",
	         a->protocol >= 2 ? ", streaming 'on'" : "");
	res = PQexec(a->repl, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		bool broken = PQstatus(a->repl) != CONNECTION_OK;

		cdc_errf(err, broken || (m && strstr(m, "is active")) ? CDC_ERR_CONN : CDC_ERR_FATAL,
		         "START_REPLICATION failed: %s", m ? m : PQerrorMessage(a->repl));
		PQclear(res);
		return err->code;
	}
	PQclear(res);
	log_info("stream", "streaming from slot \"%s\" at " CDC_LSN_FMT " (database \"%s\", "
	         "publication \"%s\", PostgreSQL %s, protocol %d%s)", c->source.slot,
	         CDC_LSN_ARGS(start), a->dbname, c->source.publication, pg_version_str(a->repl),
	         a->protocol, c->source.protocol == 0 ? ", auto" : "");
	return 0;
}

static int
open_sinks(struct agent *a, struct cdc_err *err)
{
	struct sink_sections secs;
	struct sink_env env;
	int rc;

	cfg_sinks(a->cfg, &secs, &env);
	env.types = a->types;
	env.dbname = a->dbname;
	rc = sinks_open(&secs, &env, a->sinks, (int) (sizeof(a->sinks) / sizeof(a->sinks[0])),
	                &a->nsinks, err);

	if (rc != 0)
		return rc;
	for (int i = 0; i < a->nsinks; i++) {
		stats_set_sink(a->stats, i, a->sinks[i]->ops->name, 0, 0, NULL);
		log_info("stream", "sink %s open", a->sinks[i]->ops->name);
	}
	return 0;
}

/* Where this server's history left timeline tli (TIMELINE_HISTORY of its current
 * timeline): *found = false when tli is not an ancestor of it. */
static int
timeline_switch(struct agent *a, unsigned tli, cdc_lsn *at, bool *found, struct cdc_err *err)
{
	char sql[64];
	PGresult *res;
	const char *p;

	*found = false;
	snprintf(sql, sizeof(sql), "TIMELINE_HISTORY %u", a->timeline);
	if ((res = pg_query(a->repl, "TIMELINE_HISTORY", sql, 0, NULL, err)) == NULL)
		return err->code;
	/* lines "<parent timeline>\t<switch point>\t<reason>" */
	for (p = PQntuples(res) == 1 && PQnfields(res) >= 2 ? PQgetvalue(res, 0, 1) : ""; *p;) {
		unsigned t, hi, lo;

		if (sscanf(p, "%u %X/%X", &t, &hi, &lo) == 3 && t == tli) {
			*at = ((cdc_lsn) hi << 32) | lo;
			*found = true;
			break;
		}
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	PQclear(res);
	return 0;
}

/* SPEC §5: refuse to stream across changes that were never delivered.  Runs on every
 * connection, before the slot is created, so a refused gap leaves no new slot behind
 * holding WAL.  renewing: pgcdc itself is about to drop and recreate the slot with a
 * new snapshot (an interrupted one, or source.snapshot = always at start). */
static int
gap_check(struct agent *a, bool renewing, cdc_lsn *recorded_out, struct cdc_err *err)
{
	const struct cfg *c = a->cfg;
	cdc_lsn recorded = 0;
	char why[900] = "", rec_sysid[32] = "";
	unsigned rec_tli = 0;
	bool have_sys = false, other_system = false;
	struct pg_slot s;
	int rc;

	if ((rc = state_read(a, &recorded, err)) != 0 ||
	    (rc = system_read(a, rec_sysid, sizeof(rec_sysid), &rec_tli, &have_sys, err)) != 0)
		return rc;
	*recorded_out = recorded;
	/* a sink that holds changes beyond the server's WAL would skip everything up to
	 * there as replays, whatever the slot says (and a snapshot does not help) */
	for (int i = 0; i < a->nsinks; i++) {
		const struct sink_ops *ops = a->sinks[i]->ops;
		cdc_lsn pos = ops->position ? ops->position(a->sinks[i]) : 0;

		if (pos <= a->server_wal_end)
			continue;
		snprintf(why, sizeof(why), "sink %s holds changes up to " CDC_LSN_FMT ", beyond the "
		         "end of the server's WAL (" CDC_LSN_FMT "): the database was restored, "
		         "rebuilt or replaced, or the sink holds data from elsewhere, and nothing the "
		         "server sends up to that position would be delivered", ops->name,
		         CDC_LSN_ARGS(pos), CDC_LSN_ARGS(a->server_wal_end));
		if (!a->accept_gap && c->source.on_gap != CFG_GAP_BACKFILL)
			return cdc_errf(err, CDC_ERR_FATAL, "%s. To recover, re-snapshot (source.snapshot "
			                "= always for one start) and start with --accept-gap: the sink then "
			                "starts a new epoch and keeps what it holds as history", why);
		if (!a->accept_gap) {
			if (!online_ok(a))
				return cdc_errf(err, CDC_ERR_FATAL, "%s. source.on_gap = backfill needs "
				                "PostgreSQL 14 or later and a primary (the online backfill "
				                "writes watermark messages)", why);
			stats_set_gap(a->stats, why);
			a->gap_backfill = true;
		}
		log_warning("stream", "%s; starting a new epoch (%s)", why,
		            a->accept_gap ? "--accept-gap" : "source.on_gap = backfill");
		if (ops->new_epoch && (rc = ops->new_epoch(a->sinks[i], err)) != 0)
			return rc;
		why[0] = '\0';
	}
	if (have_sys && strcmp(rec_sysid, a->sysid) != 0 && !renewing) {
		other_system = true;
		snprintf(why, sizeof(why), "the server is another database cluster (system identifier "
		         "%s, timeline %u) than the one pgcdc streamed from (system identifier %s, "
		         "timeline %u, delivered up to " CDC_LSN_FMT "): the database was replaced, "
		         "re-initialised or restored from a backup, and its positions do not continue "
		         "what was delivered", a->sysid, a->timeline, rec_sysid, rec_tli,
		         CDC_LSN_ARGS(recorded));
	} else if (recorded != 0 && !renewing) {
		cdc_lsn sw = 0;
		bool found = false;

		if (have_sys && rec_tli < a->timeline &&
		    (rc = timeline_switch(a, rec_tli, &sw, &found, err)) != 0)
			return rc;
		if ((rc = pg_slot_info(a->aux, c->source.slot, &s, err)) != 0)
			return rc;
		if (found && sw < recorded)
			snprintf(why, sizeof(why), "pgcdc delivered up to " CDC_LSN_FMT " on timeline %u, "
			         "but this server (timeline %u) left timeline %u at " CDC_LSN_FMT ": it was "
			         "promoted before it had received everything pgcdc had delivered (the "
			         "primary's synchronized_standby_slots did not name its slot), so changes "
			         "delivered after " CDC_LSN_FMT " are not in its history and its own changes "
			         "since may reuse those positions", CDC_LSN_ARGS(recorded), rec_tli,
			         a->timeline, rec_tli, CDC_LSN_ARGS(sw), CDC_LSN_ARGS(sw));
		else if (!s.exists)
			snprintf(why, sizeof(why), "slot \"%s\" does not exist on this server (system %s, "
			         "timeline %u), but pgcdc delivered up to " CDC_LSN_FMT " from it: it was "
			         "dropped, or lost in a failover to a server that had no synced copy of it "
			         "(PostgreSQL 16 and older, or source.failover off); changes made since "
			         "were never delivered, and pgcdc does not create a new slot over a gap",
			         c->source.slot, a->sysid, a->timeline, CDC_LSN_ARGS(recorded));
		else if (s.confirmed_flush > recorded)
			snprintf(why, sizeof(why), "slot \"%s\" is confirmed up to " CDC_LSN_FMT " but "
			         "pgcdc recorded delivery only up to " CDC_LSN_FMT ": the slot was advanced "
			         "or recreated behind pgcdc's back, and changes in between were never "
			         "delivered", c->source.slot, CDC_LSN_ARGS(s.confirmed_flush),
			         CDC_LSN_ARGS(recorded));
	}
	if (have_sys && !other_system && rec_tli != a->timeline)
		log_info("stream", "the server's timeline is %u, pgcdc last streamed on %u: it was "
		         "promoted (failover) or recovered to a point in time", a->timeline, rec_tli);
	if (why[0] == '\0')
		return 0;
	if (!a->accept_gap && c->source.on_gap == CFG_GAP_BACKFILL) {
		if (!online_ok(a))
			return cdc_errf(err, CDC_ERR_FATAL, "%s. source.on_gap = backfill needs PostgreSQL 14 "
			                "or later and a primary (an online backfill writes watermark "
			                "messages); this server is %d%s: recover by hand (re-snapshot and "
			                "--accept-gap)", why, a->server_version / 10000,
			                a->in_recovery ? ", a standby" : "");
		log_warning("stream", "%s; source.on_gap = backfill: streaming on from the slot and "
		            "backfilling every published table online (alert \"gap\" until it is done)",
		            why);
		stats_set_gap(a->stats, why);
		a->gap_backfill = true;
	}
	if (a->accept_gap || a->gap_backfill) {
		if (a->accept_gap)
			log_warning("stream", "%s; streaming anyway (--accept-gap)", why);
		/* positions of another cluster can overlap what a sink holds: nothing after
		 * the gap may be skipped as a replay */
		for (int i = 0; other_system && i < a->nsinks; i++) {
			const struct sink_ops *ops = a->sinks[i]->ops;

			if (ops->new_epoch && ops->position && ops->position(a->sinks[i]) != 0 &&
			    (rc = ops->new_epoch(a->sinks[i], err)) != 0)
				return rc;
		}
		return 0;
	}
	return cdc_errf(err, CDC_ERR_FATAL, "%s. To recover: re-snapshot (source.snapshot = always "
	                "for one start, or `pgcdc snapshot`) and start with --accept-gap, which "
	                "creates the slot anew and streams from now (consumers must drop rows deleted "
	                "in the gap themselves); or remove %s/%s.lsn and %s.system if this is intended",
	                why, c->source.state_dir, c->source.slot, c->source.slot);
}

/* Open the session: both connections, publication, slot (and the initial
 * snapshot when the slot is new), START_REPLICATION. */
static int
session_open(struct agent *a, bool first, struct cdc_err *err)
{
	cdc_lsn start = 0, acked = 0, recorded = 0;
	bool created = false;
	char snapname[128];
	struct pipe_stats st;
	int rc;

	if ((rc = aux_ensure(a, err)) != 0)
		return rc;
	a->repl = pg_connect(a->cfg->source.conninfo, true, err);
	if (a->repl == NULL)
		return err->code;
	a->connected = true;
	if ((rc = identify(a, err)) != 0)
		return rc;
	/* before anything is created: a protocol the server lacks is a configuration error */
	a->server_version = PQserverVersion(a->repl);
	if ((a->protocol = pg_protocol(a->cfg->source.protocol, a->server_version, err)) < 0)
		return err->code;
	if ((rc = pg_in_recovery(a->aux, err)) < 0)
		return err->code;
	a->in_recovery = rc == 1;
	if ((rc = pg_failover((int) a->cfg->source.failover, a->server_version, a->in_recovery,
	                      err)) < 0)
		return err->code;
	a->failover = rc == 1;
	if (first && (rc = ensure_publication(a, err)) != 0)
		return rc;
	if (first && (rc = pg_validate_filters(a->aux, a->cfg, err)) != 0)
		return rc;
	/* learn the types and keys decoding will need while the catalog still has them */
	if ((rc = pg_learn_publication(a->aux, a->cfg->source.publication, a->server_wal_end,
	                               a->types, a->hist, err)) != 0 ||
	    (rc = hist_save(a->hist, err)) != 0)
		return rc;
	if (a->pipe == NULL) {
		/* sinks need the database name, known once connected */
		if ((rc = open_sinks(a, err)) != 0)
			return rc;
		a->pipe = pipe_new(a->sinks, a->nsinks, a->cfg->source.max_inflight, 0, stream_wait, a);
		if (a->pipe == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		if ((a->filter = filter_new(a->cfg, err)) == NULL)
			return err->code;
		pipe_set_filter(a->pipe, a->filter);
	}
	if (a->bf == NULL) {
		struct bf_opts bo = { .cfg = a->cfg, .types = a->types, .pipe = a->pipe,
		                      .stats = a->stats, .stop = a->stop };

		if ((a->bf = backfill_new(&bo, err)) == NULL)
			return err->code;
	}
	backfill_set_standby(a->bf, a->in_recovery);
	{
		char marker[4200];
		bool renewing;

		marker_path(a, marker, sizeof(marker));
		renewing = (access(marker, F_OK) == 0 && a->cfg->source.snapshot != CFG_SNAP_NEVER) ||
		           (first && a->cfg->source.snapshot == CFG_SNAP_ALWAYS);
		if ((rc = gap_check(a, renewing, &recorded, err)) != 0)
			return rc;
	}
	if ((rc = ensure_slot(a, first, &start, &created, snapname, sizeof(snapname), err)) != 0)
		return rc;
	if ((rc = system_write(a, err)) != 0)
		return rc;
	a->accept_gap = false;   /* --accept-gap answers the gap found at start, not later ones */
	if (snapname[0] != '\0' && (rc = initial_snapshot(a, snapname, start, err)) != 0)
		return rc;
	/* the online snapshot: started with a new slot, resumed after a restart */
	if (a->gap_backfill) {
		/* whatever ran before: a gap means every table again */
		a->gap_backfill = false;
		a->bf_start = false;
		if ((rc = backfill_gap(a->bf, err)) != 0)
			return rc;
	} else if (a->bf_start) {
		a->bf_start = false;
		if ((rc = backfill_start(a->bf, err)) != 0)
			return rc;
	} else if ((rc = backfill_resume(a->bf, err)) != 0) {
		return rc;
	}
	pipe_stats(a->pipe, &st);
	acked = st.acked;
	if (acked > start)
		start = acked;
	/* What pgcdc recorded as delivered is a floor too: the server may not have been
	 * told (a SIGTERM while disconnected), or may have lost it (a crash reverts the
	 * slot to its last checkpoint); either way it would resend what every sink
	 * already holds.  Not for a slot just created: its positions start anew. */
	if (!created && recorded > start) {
		log_info("stream", "slot \"%s\" is confirmed up to " CDC_LSN_FMT ", pgcdc recorded "
		         "delivery up to " CDC_LSN_FMT ": starting there", a->cfg->source.slot,
		         CDC_LSN_ARGS(start), CDC_LSN_ARGS(recorded));
		start = recorded;
	}
	if ((rc = start_replication(a, start, err)) != 0)
		return rc;
	a->streaming = true;
	stats_set_backend_pid(a->stats, PQbackendPID(a->repl));
	stats_set_state(a->stats, STATS_STREAMING);
	a->received = start;
	a->sent_flush = start;
	a->rcv_batched = false;   /* a new socket */
	a->drained = false;
	a->burst = 0;
	a->last_wait_us = INT64_MAX;
	a->last_status_ms = mono_ms();
	a->last_recv_ms = a->last_status_ms;
	a->got_msg = false;
	a->pinged = false;
	return 0;
}

/* Forget the session.  The ordinary connection goes too: whatever broke the
 * replication connection (a failover, a dead network path) may have left it
 * connected to a server that is gone or unreachable. */
static void
session_close(struct agent *a)
{
	if (a->pipe != NULL)
		pipe_abort(a->pipe);
	backfill_disconnected(a->bf);
	dec_reset(a->dec);
	spill_reset(a->spill);
	a->in_stream = false;
	a->streaming = false;
	PQfinish(a->repl);
	a->repl = NULL;
	PQfinish(a->aux);
	a->aux = NULL;
	if (a->spill_full) {          /* the transaction is resent from its start */
		a->spill_full = false;
		stats_set_spill_error(a->stats, NULL);
	}
}

/* ---- the loop ---- */

static int
heartbeat(struct agent *a)
{
	struct cdc_err err = { 0 };
	PGresult *res;

	a->last_heartbeat_ms = mono_ms();
	if (a->in_recovery)
		return 0;   /* a standby cannot write WAL: the primary's activity moves the slot */
	if (aux_ensure(a, &err) != 0) {
		log_warning("stream", "heartbeat skipped: %s", err.msg);
		return 0;
	}
	res = pg_query(a->aux, "heartbeat", "SELECT pg_logical_emit_message(false, 'pgcdc.heartbeat', '')",
	               0, NULL, &err);
	if (res == NULL)
		log_warning("stream", "%s", err.msg);
	PQclear(res);
	return 0;
}

/*
 * Waiting for the walsender.  libpq reads at most its buffer (about 16 kB) per
 * recv(), and a consumer faster than the walsender would otherwise wake for every
 * send the walsender makes: during a backlog that is a select() and a context
 * switch per few kB, which costs more CPU than decoding the rows.  Two things keep
 * that down:
 *  - when the buffered messages are used up, the socket is read once more before
 *    waiting (a non-blocking recv() returns what is there, even below the
 *    low-water mark), and the loop only waits when that brings nothing;
 *  - while data streams in (a wait that brought RCV_BATCH_ON bytes or more, or that
 *    ended within RCV_WAIT_MS), SO_RCVLOWAT is raised so that select() wakes once
 *    RCV_LOWAT bytes are in, or after RCV_WAIT_MS at most: the tail of a burst is
 *    delayed by that much, never more.  A wait that times out drops back to waking
 *    on every byte, so a quiet stream keeps its latency.
 */
#define RCV_LOWAT    (64 * 1024)
#define RCV_BATCH_ON (8 * 1024)
#define RCV_WAIT_MS  2
#define TIMERS_EVERY 64

static void
set_rcvlowat(struct agent *a, bool on)
{
	int v = 1, rcvbuf = 0;
	socklen_t len = sizeof rcvbuf;

	if (on == a->rcv_batched)
		return;
	/* at most a quarter of the receive buffer: some kernels clamp the TCP window
	 * to the low-water mark when twice that does not fit in the buffer */
	if (on) {
		if (getsockopt(PQsocket(a->repl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) != 0)
			return;
		v = rcvbuf / 4 < RCV_LOWAT ? rcvbuf / 4 : RCV_LOWAT;
		if (v < 4096)
			return;
	}
	/* best effort: without it the loop only wakes more often */
	if (setsockopt(PQsocket(a->repl), SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
		a->rcv_batched = on;
}

/* waits until the replication socket may be readable; 0 or the error code */
static int
wait_readable(struct agent *a, struct cdc_err *err)
{
	struct timeval tv = { 0, 100 * 1000 };
	int sock = PQsocket(a->repl), r;
	int64_t t0, waited;
	fd_set rfds;

	if (a->burst >= RCV_BATCH_ON || a->last_wait_us < RCV_WAIT_MS * 1000)
		set_rcvlowat(a, true);
	if (a->rcv_batched)
		tv.tv_usec = RCV_WAIT_MS * 1000;
	FD_ZERO(&rfds);
	FD_SET(sock, &rfds);
	t0 = mono_us();
	r = select(sock + 1, &rfds, NULL, NULL, &tv);
	if (r < 0 && errno != EINTR)
		return cdc_errf(err, CDC_ERR_CONN, "select failed: %s", strerror(errno));
	waited = mono_us() - t0;
	a->burst = 0;
	a->last_wait_us = waited;
	if (r == 0) {
		set_rcvlowat(a, false);   /* timed out: nothing is streaming in */
		a->last_wait_us = INT64_MAX;
	}
	return 0;
}

static int
loop(struct agent *a, struct cdc_err *err)
{
	int rc;

	while (!*a->stop) {
		char *buf = NULL;
		int n;

		if (*a->reopen) {
			/* SIGHUP: logs go to stderr and records to sinks that keep no file
			 * open across transactions, so there is nothing to reopen */
			*a->reopen = 0;
			log_info("stream", "SIGHUP received: logs go to stderr, nothing to reopen");
		}
		/* the clock is read before every wait and every TIMERS_EVERY messages */
		if (a->drained || ++a->since_timers >= TIMERS_EVERY) {
			a->since_timers = 0;
			if ((rc = check_receive(a, err)) != 0)
				return rc;
			if ((rc = maybe_status(a, err)) != 0)
				return rc;
			if (a->cfg->source.heartbeat_interval_ms > 0 &&
			    mono_ms() - a->last_heartbeat_ms >= a->cfg->source.heartbeat_interval_ms)
				heartbeat(a);
		}

		n = PQgetCopyData(a->repl, &buf, 1);
		if (n == 0) {
			if (a->drained && (rc = wait_readable(a, err)) != 0)
				return rc;
			if (PQconsumeInput(a->repl) == 0)
				return cdc_errf(err, CDC_ERR_CONN, "replication connection lost: %s",
				                PQerrorMessage(a->repl));
			a->drained = true;
			continue;
		}
		a->drained = false;
		if (n > 0) {
			a->burst += (size_t) n;
			a->got_msg = true;
		}
		if (n == -1) {
			PGresult *res = PQgetResult(a->repl);
			const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

			cdc_errf(err, CDC_ERR_CONN, "the server ended replication%s%s", m ? ": " : "",
			         m ? m : "");
			PQclear(res);
			return err->code;
		}
		if (n < 0)
			return cdc_errf(err, CDC_ERR_CONN, "replication connection lost: %s",
			                PQerrorMessage(a->repl));

		if (buf[0] == 'w' && n >= 25) {
			const uint8_t *u = (const uint8_t *) buf;
			cdc_lsn start = pg_get64(u + 1);

			if (start > a->received)
				a->received = start;
			rc = on_xlogdata(a, start, u + 25, (size_t) n - 25, err);
		} else if (buf[0] == 'k' && n >= 18) {
			const uint8_t *u = (const uint8_t *) buf;
			cdc_lsn wal_end = pg_get64(u + 1);

			if (wal_end > a->received)
				a->received = wal_end;
			if (!a->in_stream)
				pipe_note_idle_position(a->pipe, wal_end);
			rc = u[17] ? send_status(a, false, err) : 0;
		} else {
			rc = cdc_errf(err, CDC_ERR_PROTO, "unexpected CopyData message '%c' (%d bytes) "
			              "on the replication connection", buf[0], n);
		}
		PQfreemem(buf);
		if (rc != 0)
			return rc;
		if (a->endpos != 0 && a->received >= a->endpos && !pipe_in_txn(a->pipe) && !a->in_stream) {
			log_info("stream", "reached --endpos " CDC_LSN_FMT, CDC_LSN_ARGS(a->endpos));
			return 0;
		}
	}
	return 0;
}

/*
 * End the COPY as pg_recvlogical does: after the final status update, CopyDone, then
 * read (and drop) what the walsender still sends until its own CopyDone and the
 * command's result.  The walsender reads our status update before it ends its side,
 * so confirmed_flush_lsn is the position we logged; closing the socket right after
 * the status update could make it die ("connection reset") before reading it.
 * Bounded by END_COPY_MS: a server that does not answer is left behind.
 */
#define END_COPY_MS 10000

static void
end_copy(struct agent *a)
{
	int64_t deadline = mono_ms() + END_COPY_MS;
	PGresult *res;

	if (PQputCopyEnd(a->repl, NULL) != 1 || PQflush(a->repl) != 0) {
		log_warning("stream", "ending the replication copy failed: %s", PQerrorMessage(a->repl));
		return;
	}
	for (;;) {
		char *buf = NULL;
		int n = PQgetCopyData(a->repl, &buf, 1);

		if (n > 0) {
			PQfreemem(buf);
			continue;
		}
		if (n == -1)
			break;                  /* the server's CopyDone */
		if (n < -1) {
			log_warning("stream", "ending the replication copy: %s", PQerrorMessage(a->repl));
			return;
		}
		/* nothing buffered: wait for the socket, within the deadline */
		int64_t left = deadline - mono_ms();
		struct timeval tv;
		fd_set rfds;
		int sock = PQsocket(a->repl);

		if (left <= 0) {
			log_warning("stream", "the server did not end the replication copy within %d s",
			            END_COPY_MS / 1000);
			return;
		}
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		FD_ZERO(&rfds);
		FD_SET(sock, &rfds);
		if (select(sock + 1, &rfds, NULL, NULL, &tv) < 0 && errno != EINTR)
			return;
		if (PQconsumeInput(a->repl) == 0) {
			log_warning("stream", "ending the replication copy: %s", PQerrorMessage(a->repl));
			return;
		}
	}
	/* the command's result, within the same deadline: a server that sent its CopyDone
	 * and then stopped answering (seen once in the differential test on 18, after a
	 * fault) must not hold the shutdown, where a blocking PQgetResult waited forever */
	for (;;) {
		int64_t left = deadline - mono_ms();
		struct timeval tv;
		fd_set rfds;
		int sock = PQsocket(a->repl);

		if (PQconsumeInput(a->repl) == 0)
			break;
		if (!PQisBusy(a->repl)) {
			if ((res = PQgetResult(a->repl)) == NULL)
				break;
			PQclear(res);
			continue;
		}
		if (left <= 0 || sock < 0) {
			log_warning("stream", "the server did not end the replication command within %d s",
			            END_COPY_MS / 1000);
			break;
		}
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		FD_ZERO(&rfds);
		FD_SET(sock, &rfds);
		if (select(sock + 1, &rfds, NULL, NULL, &tv) < 0 && errno != EINTR)
			break;
	}
	a->streaming = false;
}

static void
shutdown_flush(struct agent *a)
{
	struct cdc_err err = { 0 };
	cdc_lsn ack = 0;

	if (a->pipe == NULL)
		return;
	pipe_abort(a->pipe);   /* a partial transaction is resent whole next time */
	if (pipe_flush(a->pipe, 30000, &err) != 0)
		log_warning("stream", "sinks did not finish flushing: %s", err.msg);
	cdc_err_clear(&err);
	if (a->repl != NULL && a->streaming && PQstatus(a->repl) == CONNECTION_OK) {
		if (send_status(a, false, &err) != 0)
			log_warning("stream", "final status update failed: %s", err.msg);
		else
			end_copy(a);
	}
	cdc_err_clear(&err);
	if (pipe_poll(a->pipe, &ack, &err) == 0)
		state_write(a, ack);
	log_info("stream", "stopped; acknowledged up to " CDC_LSN_FMT, CDC_LSN_ARGS(ack));
}

int
stream_run(const struct cfg *cfg, struct cdc_stats *stats, const struct stream_opts *opts,
           volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen)
{
	struct agent a = {
		.cfg = cfg, .stats = stats, .stop = stop, .reopen = reopen, .accept_gap = opts->accept_gap,
		.endpos = opts->endpos,
	};
	struct cdc_err err = { 0 };
	char spilldir[4096];
	int64_t backoff = BACKOFF_MIN_MS;
	int status = 1, rc;
	bool first = true;

	quote_ident(cfg->source.slot, a.slot_q, sizeof(a.slot_q));
	snprintf(spilldir, sizeof(spilldir), "%s/spill", cfg->source.state_dir);
	a.types = types_new();
	a.dec = dec_new(on_event, &a);
	a.ctl = pgo_parser_new();
	if (a.types == NULL || a.dec == NULL || a.ctl == NULL) {
		log_error("stream", "out of memory");
		goto out;
	}
	if ((a.spill = spill_new(spilldir, &err)) == NULL) {
		log_error("stream", "%s", err.msg);
		goto out;
	}
	{
		char hpath[4200];

		snprintf(hpath, sizeof(hpath), "%s/%s.catalog", cfg->source.state_dir, cfg->source.slot);
		if ((a.hist = hist_open(hpath, &err)) == NULL ||
		    hist_fill_types(a.hist, a.types, &err) != 0) {
			log_error("stream", "%s", err.msg);
			goto out;
		}
	}

	for (;;) {
		cdc_err_clear(&err);
		stats_set_state(stats, STATS_CONNECTING);
		rc = session_open(&a, first, &err);
		if (rc == 0) {
			first = false;
			backoff = BACKOFF_MIN_MS;
			rc = loop(&a, &err);
		}
		if (rc == 0 || *stop) {
			/* asked to stop (an interrupted snapshot is redone at the next start) */
			shutdown_flush(&a);
			status = 0;
			goto out;
		}
		if (rc != CDC_ERR_CONN || (first && !a.connected)) {
			/* configuration, privilege, protocol, sink errors: not retried; nor is
			 * a first connection that cannot be made (the user is there to read
			 * why).  One that was made and then lost (a server restarting while
			 * pgcdc sets up) is retried like any later one. */
			log_error("stream", "%s", err.msg);
			if (a.pipe != NULL && rc != CDC_ERR_PROTO)
				shutdown_flush(&a);
			status = rc == CDC_ERR_CONFIG ? 2 : 1;
			goto out;
		}
		log_warning("stream", "%s; reconnecting in %" PRId64 " ms", err.msg, backoff);
		stats_set_state(stats, STATS_CONNECTING);   /* /healthz: not streaming while we wait */
		session_close(&a);
		for (int64_t waited = 0; waited < backoff && !*stop; waited += 100) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		if (*stop) {
			shutdown_flush(&a);
			status = 0;
			goto out;
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
out:
	stats_set_state(stats, STATS_STOPPED);
	if (a.repl != NULL)
		PQfinish(a.repl);
	PQfinish(a.aux);
	backfill_free(a.bf);
	sinks_close(a.sinks, a.nsinks);
	pipe_free(a.pipe);
	filter_free(a.filter);
	spill_free(a.spill);
	hist_free(a.hist);
	dec_free(a.dec);
	pgo_parser_free(a.ctl);
	types_free(a.types);
	return status;
}
