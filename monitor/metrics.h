/*
 * metrics.h — Prometheus /metrics and /healthz over HTTP (libmicrohttpd, its own
 * internal polling thread), SPEC §6.
 *
 * /metrics: text exposition format 0.0.4 with HELP and TYPE lines; counters end in
 * _total; label values escaped (\\, \", \n).  Values that are not known (no sample
 * yet, the monitor's connection is down, NULL in the catalog, WAL disk path
 * unknown) are absent rather than 0.  Nothing secret is exported: no conninfo, no
 * sink error text.
 * /healthz: 200 "ok" while the agent is streaming or snapshotting, else 503 with
 * the state.  Anything else: 404; methods other than GET/HEAD: 405.
 *
 * Owning thread: the HTTP thread reads stats and the monitor view through their
 * locked copies only.
 */
#ifndef PGCDC_METRICS_H
#define PGCDC_METRICS_H

#include "monitor.h"
#include "../decoder/json.h"

struct metrics;

/* Listen on addr ("HOST:PORT", "[V6]:PORT"; names resolve, first address that
 * binds wins) and serve.  mon is borrowed.  Returns owned server or NULL with err
 * set (CDC_ERR_IO: cannot resolve, bind or listen, with the reason). */
struct metrics *metrics_start(const char *addr, struct monitor *mon, struct cdc_err *err);
void metrics_stop(struct metrics *m);   /* NULL-safe */

/* The /metrics body for these inputs (stats borrowed; view may be NULL: no
 * monitor data).  Appends to b. */
void metrics_render(struct jbuf *b, struct cdc_stats *stats, const struct mon_view *view);

/* Append s as a Prometheus label value (without the quotes). */
void metrics_label_escape(struct jbuf *b, const char *s);

#endif
