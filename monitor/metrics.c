/*
 * metrics.c — /metrics and /healthz (see metrics.h).
 *
 * DESIGN: the listening socket is created here (getaddrinfo, bind, listen) and
 * handed to libmicrohttpd, so a bind failure reports the system's reason ("Address
 * already in use") and the agent refuses to start.  Every request renders a fresh
 * body from copies taken under the stats and monitor locks; nothing is cached.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "../common/log.h"

struct metrics {
	struct MHD_Daemon *d;
	struct monitor *mon;
	char listen[300];
};

/* ------------------------------------------------------------------------ */
/* rendering                                                                */
/* ------------------------------------------------------------------------ */

/* A metric family: HELP and TYPE are written before its first sample, so a family
 * without samples is absent altogether. */
struct fam {
	const char *name, *type, *help;
	bool head;
};

void
metrics_label_escape(struct jbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			jbuf_puts(b, "\\\\");
		else if (*s == '"')
			jbuf_puts(b, "\\\"");
		else if (*s == '\n')
			jbuf_puts(b, "\\n");
		else
			jbuf_putc(b, *s);
	}
}

static void
head(struct jbuf *b, struct fam *f)
{
	if (f->head)
		return;
	f->head = true;
	jbuf_puts(b, "# HELP ");
	jbuf_puts(b, f->name);
	jbuf_putc(b, ' ');
	jbuf_puts(b, f->help);
	jbuf_puts(b, "\n# TYPE ");
	jbuf_puts(b, f->name);
	jbuf_putc(b, ' ');
	jbuf_puts(b, f->type);
	jbuf_putc(b, '\n');
}

/* name{k1="v1",k2="v2"} — k2 may be NULL, k1 too (no labels). */
static void
series(struct jbuf *b, struct fam *f, const char *k1, const char *v1, const char *k2,
       const char *v2)
{
	head(b, f);
	jbuf_puts(b, f->name);
	if (k1 != NULL) {
		jbuf_putc(b, '{');
		jbuf_puts(b, k1);
		jbuf_puts(b, "=\"");
		metrics_label_escape(b, v1);
		jbuf_putc(b, '"');
		if (k2 != NULL) {
			jbuf_putc(b, ',');
			jbuf_puts(b, k2);
			jbuf_puts(b, "=\"");
			metrics_label_escape(b, v2);
			jbuf_putc(b, '"');
		}
		jbuf_putc(b, '}');
	}
	jbuf_putc(b, ' ');
}

static void
put_u64(struct jbuf *b, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	jbuf_puts(b, buf);
}

static void
put_i64(struct jbuf *b, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64 "\n", v);
	jbuf_puts(b, buf);
}

static void
put_f(struct jbuf *b, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.9g\n", v);
	jbuf_puts(b, buf);
}

static void
gauge_i(struct jbuf *b, struct fam *f, int64_t v)
{
	series(b, f, NULL, NULL, NULL, NULL);
	put_i64(b, v);
}

static void
gauge_f(struct jbuf *b, struct fam *f, double v)
{
	series(b, f, NULL, NULL, NULL, NULL);
	put_f(b, v);
}

static struct fam f_changes = { "pgcdc_changes_total", "counter",
	"Row changes delivered to the sinks, by table and op (c, u, d, r, t).", false };
static struct fam f_snap_rows = { "pgcdc_snapshot_rows_total", "counter",
	"Rows copied by the initial snapshot, by table.", false };
static struct fam f_snap_est = { "pgcdc_snapshot_rows_estimate", "gauge",
	"Estimated rows of a table being snapshotted (pg_class.reltuples).", false };
static struct fam f_snap_chunks = { "pgcdc_snapshot_chunks_total", "counter",
	"Chunks read by an online snapshot or backfill, by table.", false };
static struct fam f_snap_rate = { "pgcdc_snapshot_rows_per_second", "gauge",
	"Rows per second of a table's snapshot or backfill since its read began.", false };
static struct fam f_snap_eta = { "pgcdc_snapshot_eta_seconds", "gauge",
	"Estimated seconds until a table's snapshot or backfill is done (when known).", false };

struct table_ctx {
	struct jbuf *b;
	struct fam changes;
};

static void
on_table(void *ctx, const char *table, const uint64_t counts[5])
{
	static const char *const ops[5] = { "c", "u", "d", "r", "t" };
	struct table_ctx *t = ctx;

	for (int i = 0; i < 5; i++) {
		if (counts[i] == 0)
			continue;
		series(t->b, &t->changes, "table", table, "op", ops[i]);
		put_u64(t->b, counts[i]);
	}
}

/* One family of per-table snapshot progress: which field of struct stats_snap. */
enum snap_field { SF_ROWS, SF_ESTIMATE, SF_CHUNKS, SF_RATE, SF_ETA };

struct snap_ctx {
	struct jbuf *b;
	struct fam *fam;
	enum snap_field f;
};

static void
on_snapshot(void *ctx, const char *table, const struct stats_snap *p)
{
	struct snap_ctx *c = ctx;

	if (c->f == SF_ETA && p->eta_s < 0)
		return;      /* not known */
	series(c->b, c->fam, "table", table, NULL, NULL);
	switch (c->f) {
	case SF_ROWS:
		put_u64(c->b, p->rows);
		break;
	case SF_ESTIMATE:
		put_u64(c->b, p->estimate);
		break;
	case SF_CHUNKS:
		put_u64(c->b, p->chunks);
		break;
	case SF_RATE:
		put_f(c->b, p->rows_per_s);
		break;
	case SF_ETA:
		put_f(c->b, p->eta_s);
		break;
	}
}

void
metrics_render(struct jbuf *b, struct cdc_stats *stats, const struct mon_view *view)
{
	struct fam f_build = { "pgcdc_build_info", "gauge", "pgcdc version (always 1).", false };
	struct fam f_up = { "pgcdc_up", "gauge",
		"1 while pgcdc is streaming or snapshotting, 0 otherwise.", false };
	struct fam f_mon = { "pgcdc_monitor_up", "gauge",
		"1 when the monitor's last sample of the server succeeded.", false };
	struct fam f_lag = { "pgcdc_slot_lag_bytes", "gauge",
		"Current WAL LSN minus the slot's confirmed_flush_lsn, in bytes.", false };
	struct fam f_lags = { "pgcdc_lag_seconds", "gauge",
		"How long ago the server wrote the WAL position the slot has confirmed (0 when caught up).",
		false };
	struct fam f_ret = { "pgcdc_retained_wal_bytes", "gauge",
		"WAL the slot keeps on the server: current WAL LSN minus restart_lsn, in bytes.", false };
	struct fam f_safe = { "pgcdc_safe_wal_size_bytes", "gauge",
		"WAL that can still be written before the slot is in danger of losing WAL "
		"(absent when max_slot_wal_keep_size is unlimited).", false };
	struct fam f_disk = { "pgcdc_wal_disk_used_ratio", "gauge",
		"Used fraction of the filesystem holding pg_wal (absent when not measurable).", false };
	struct fam f_conf = { "pgcdc_confirmed_flush_lsn", "gauge",
		"The slot's confirmed_flush_lsn as a number.", false };
	struct fam f_cur = { "pgcdc_current_wal_lsn", "gauge",
		"The server's current WAL LSN (pg_current_wal_lsn) as a number.", false };
	struct fam f_ack = { "pgcdc_acknowledged_lsn", "gauge",
		"The newest position pgcdc acknowledged to the server, as a number.", false };
	struct fam f_active = { "pgcdc_slot_active", "gauge",
		"1 when the replication slot is in use by a walsender.", false };
	struct fam f_keep = { "pgcdc_max_slot_wal_keep_size_bytes", "gauge",
		"The server's max_slot_wal_keep_size in bytes (-1 = unlimited).", false };
	struct fam f_rlag = { "pgcdc_replication_lag_seconds", "gauge",
		"pg_stat_replication write/flush/replay lag of pgcdc's walsender.", false };
	struct fam f_spill_b = { "pgcdc_slot_spill_bytes_total", "counter",
		"pg_stat_replication_slots.spill_bytes: decoded data the server spilled to disk.", false };
	struct fam f_spill_t = { "pgcdc_slot_spill_txns_total", "counter",
		"pg_stat_replication_slots.spill_txns.", false };
	struct fam f_stream_b = { "pgcdc_slot_stream_bytes_total", "counter",
		"pg_stat_replication_slots.stream_bytes: in-progress transaction data streamed.", false };
	struct fam f_stream_t = { "pgcdc_slot_stream_txns_total", "counter",
		"pg_stat_replication_slots.stream_txns.", false };
	struct fam f_txn = { "pgcdc_transactions_total", "counter",
		"Transactions delivered to the sinks.", false };
	struct fam f_srec = { "pgcdc_sink_records_total", "counter", "Records written, by sink.", false };
	struct fam f_serr = { "pgcdc_sink_errors_total", "counter", "Errors reported, by sink.", false };
	struct fam f_sfail = { "pgcdc_sink_failing", "gauge",
		"1 while a sink reports a problem (it stalls or fails).", false };
	struct fam f_alert = { "pgcdc_alert_state", "gauge",
		"Alert state: 0 ok, 1 warning, 2 critical.", false };
	struct table_ctx tc = { .b = b, .changes = f_changes };
	struct fam snapfam[] = { f_snap_rows, f_snap_est, f_snap_chunks, f_snap_rate, f_snap_eta };
	struct stats_view sv;

	stats_read(stats, &sv);
	series(b, &f_build, "version", PGCDC_VERSION, NULL, NULL);
	put_u64(b, 1);
	gauge_i(b, &f_up, sv.state == STATS_STREAMING || sv.state == STATS_SNAPSHOTTING);
	if (view != NULL) {
		const struct mon_sample *s = &view->s;

		gauge_i(b, &f_mon, view->connected);
		if (view->connected && view->have_sample) {
			if (s->slot_exists && s->has_confirmed) {
				gauge_i(b, &f_lag, s->lag_bytes);
				gauge_f(b, &f_lags, s->lag_seconds);
			}
			if (s->slot_exists && s->has_restart)
				gauge_i(b, &f_ret, s->retained_wal_bytes);
			if (s->slot_exists && s->has_safe_wal_size)
				gauge_i(b, &f_safe, s->safe_wal_size);
			if (s->has_wal_disk)
				gauge_f(b, &f_disk, s->wal_disk_used_ratio);
			if (s->slot_exists && s->has_confirmed)
				gauge_i(b, &f_conf, (int64_t) s->confirmed_flush_lsn);
			gauge_i(b, &f_cur, (int64_t) s->current_lsn);
			if (s->slot_exists)
				gauge_i(b, &f_active, s->active);
			gauge_i(b, &f_keep, s->max_slot_wal_keep_size);
			if (s->has_write_lag) {
				series(b, &f_rlag, "kind", "write", NULL, NULL);
				put_f(b, s->write_lag);
			}
			if (s->has_flush_lag) {
				series(b, &f_rlag, "kind", "flush", NULL, NULL);
				put_f(b, s->flush_lag);
			}
			if (s->has_replay_lag) {
				series(b, &f_rlag, "kind", "replay", NULL, NULL);
				put_f(b, s->replay_lag);
			}
			if (s->has_slot_stats) {
				gauge_i(b, &f_spill_b, s->spill_bytes);
				gauge_i(b, &f_spill_t, s->spill_txns);
				gauge_i(b, &f_stream_b, s->stream_bytes);
				gauge_i(b, &f_stream_t, s->stream_txns);
			}
		}
	}
	gauge_i(b, &f_ack, (int64_t) sv.acked);

	stats_foreach_table(stats, on_table, &tc);
	series(b, &f_txn, NULL, NULL, NULL, NULL);
	put_u64(b, sv.transactions);
	for (int i = 0; i < sv.nsinks; i++) {
		series(b, &f_srec, "sink", sv.sinks[i].name, NULL, NULL);
		put_u64(b, sv.sinks[i].records);
	}
	for (int i = 0; i < sv.nsinks; i++) {
		series(b, &f_serr, "sink", sv.sinks[i].name, NULL, NULL);
		put_u64(b, sv.sinks[i].errors);
	}
	for (int i = 0; i < sv.nsinks; i++) {
		series(b, &f_sfail, "sink", sv.sinks[i].name, NULL, NULL);
		put_u64(b, sv.sinks[i].failing ? 1 : 0);
	}
	for (int f = SF_ROWS; f <= SF_ETA; f++) {
		struct snap_ctx sc = { .b = b, .fam = &snapfam[f], .f = (enum snap_field) f };

		stats_foreach_snapshot(stats, on_snapshot, &sc);
	}
	if (view != NULL) {
		for (int i = 0; i < ALERT_COUNT; i++) {
			series(b, &f_alert, "alert", alert_name((enum alert_id) i), NULL, NULL);
			put_u64(b, (uint64_t) view->alerts[i].level);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                     */
/* ------------------------------------------------------------------------ */

static const char *
state_name(enum stats_state st)
{
	switch (st) {
	case STATS_CONNECTING: return "connecting";
	case STATS_STREAMING: return "streaming";
	case STATS_SNAPSHOTTING: return "snapshotting";
	default: return "stopped";
	}
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, char *body, size_t len, bool owned,
      const char *ctype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE
	                                                      : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	static char notfound[] = "not found: try /metrics or /healthz\n";
	static char notallowed[] = "method not allowed\n";

	(void) version;
	(void) upload_data;
	(void) upload_size;
	(void) con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, notallowed, sizeof(notallowed) - 1, false,
		             "text/plain; charset=utf-8");
	if (strcmp(url, "/metrics") == 0) {
		struct mon_view *view = malloc(sizeof(*view));
		struct jbuf b;

		if (view == NULL)
			return MHD_NO;
		jbuf_init(&b);
		monitor_read(m->mon, view);
		metrics_render(&b, monitor_stats(m->mon), view);
		free(view);
		if (b.oom || b.data == NULL) {
			jbuf_free(&b);
			return MHD_NO;
		}
		return reply(c, MHD_HTTP_OK, b.data, b.len, true,
		             "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/healthz") == 0) {
		struct stats_view sv;
		char *body;
		bool up;

		stats_read(monitor_stats(m->mon), &sv);
		up = sv.state == STATS_STREAMING || sv.state == STATS_SNAPSHOTTING;
		if (asprintf(&body, "%s\n", up ? "ok" : state_name(sv.state)) < 0)
			return MHD_NO;
		return reply(c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body, strlen(body), true,
		             "text/plain; charset=utf-8");
	}
	return reply(c, MHD_HTTP_NOT_FOUND, notfound, sizeof(notfound) - 1, false,
	             "text/plain; charset=utf-8");
}

/* Split "host:port" / "[v6]:port" (validated by the config parser). */
static int
split_listen(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		snprintf(host, hcap, "%.*s", (int) (rb - addr - 1), addr + 1);
		snprintf(port, pcap, "%s", rb + 2);
		return 0;
	}
	colon = strrchr(addr, ':');
	if (colon == NULL)
		return -1;
	snprintf(host, hcap, "%.*s", (int) (colon - addr), addr);
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int
open_listener(const char *addr, struct cdc_err *err)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[16];
	int fd = -1, rc, saved = 0;

	if (split_listen(addr, host, sizeof(host), port, sizeof(port)) != 0)
		return cdc_errf(err, CDC_ERR_CONFIG, "monitor.metrics_listen = %s is not host:port",
		                addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return cdc_errf(err, CDC_ERR_IO, "monitor.metrics_listen = %s: cannot resolve \"%s\": %s",
		                addr, host, gai_strerror(rc));
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
		int one = 1;

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (a->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cdc_errf(err, CDC_ERR_IO, "monitor.metrics_listen = %s: cannot listen there: %s "
		                "(is another pgcdc or program using it? choose another address, or set "
		                "it empty to turn /metrics off)", addr, strerror(saved ? saved : EINVAL));
	return fd;
}

struct metrics *
metrics_start(const char *addr, struct monitor *mon, struct cdc_err *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int fd;

	if (m == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	m->mon = mon;
	snprintf(m->listen, sizeof(m->listen), "%s", addr);
	fd = open_listener(addr, err);
	if (fd < 0) {
		free(m);
		return NULL;
	}
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, m,
	                        MHD_OPTION_LISTEN_SOCKET, fd,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
	                        MHD_OPTION_END);
	if (m->d == NULL) {
		close(fd);
		free(m);
		cdc_errf(err, CDC_ERR_IO, "monitor.metrics_listen = %s: the HTTP server did not start",
		         addr);
		return NULL;
	}
	log_info("metrics", "serving /metrics and /healthz on http://%s", addr);
	return m;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
