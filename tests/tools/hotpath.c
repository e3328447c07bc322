/*
 * hotpath.c — a fixed workload through the per-row hot path, for the callgrind
 * regression guard (tests/tools/hotpath-guard.sh): N pgoutput Insert messages of a
 * 6-column row and N Updates with an old key, built in memory, each decoded and
 * encoded to the Debezium envelope and key.  No server, no clock: the instruction
 * count per row is stable from run to run.
 *
 *   hotpath [ROWS]     (default 20000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/decode.h"
#include "decoder/json.h"

struct w {
	uint8_t b[4096];
	size_t n;
};

static void w8(struct w *w, uint8_t v) { w->b[w->n++] = v; }
static void w16(struct w *w, uint16_t v) { w8(w, (uint8_t) (v >> 8)); w8(w, (uint8_t) v); }
static void w32(struct w *w, uint32_t v) { w16(w, (uint16_t) (v >> 16)); w16(w, (uint16_t) v); }
static void w64(struct w *w, uint64_t v) { w32(w, (uint32_t) (v >> 32)); w32(w, (uint32_t) v); }
static void wstr(struct w *w, const char *s) { size_t l = strlen(s) + 1; memcpy(w->b + w->n, s, l); w->n += l; }
static void wtext(struct w *w, const char *s) { w8(w, 't'); w32(w, (uint32_t) strlen(s)); memcpy(w->b + w->n, s, strlen(s)); w->n += strlen(s); }

struct ctx {
	struct jbuf b;
	struct json_opts o;
	size_t bytes;
};

static int
on_event(void *vctx, const struct dec_event *ev, struct cdc_err *err)
{
	struct ctx *c = vctx;

	if (ev->type != DEC_EV_CHANGE)
		return 0;
	jbuf_reset(&c->b);
	if (json_key(&c->b, ev->change, NULL, &c->o, err) < 0)
		return err->code;
	jbuf_reset(&c->b);
	if (json_envelope(&c->b, ev->change, NULL, &c->o, INT64_C(1795341600150000000), err) != 0)
		return err->code;
	c->bytes += c->b.len;
	return 0;
}

static void
row(struct w *w, int i)
{
	char id[16], name[48], amount[16];

	snprintf(id, sizeof(id), "%d", i);
	snprintf(name, sizeof(name), "customer number %d with a name", i);
	snprintf(amount, sizeof(amount), "%d.%02d", i % 1000, i % 100);
	w16(w, 6);
	wtext(w, id);
	wtext(w, name);
	wtext(w, amount);
	wtext(w, "2026-11-22 10:00:00.123456+00");
	wtext(w, i % 2 ? "t" : "f");
	wtext(w, "{new,web}");
}

int
main(int argc, char **argv)
{
	int rows = argc > 1 ? atoi(argv[1]) : 20000;
	struct ctx c = { .o = { .name = "pgcdc", .db = "app", .version = "0.1.0" } };
	struct dec *d = dec_new(on_event, &c);
	struct cdc_err err = { 0 };
	struct w w;
	cdc_lsn lsn = 0x1000000;
	static const struct { const char *name; uint32_t oid; uint8_t key; } cols[6] = {
		{ "id", 20, 1 }, { "name", 25, 0 }, { "amount", 1700, 0 },
		{ "ts", 1184, 0 }, { "flag", 16, 0 }, { "tags", 1009, 0 },
	};

	jbuf_init(&c.b);
	w.n = 0;
	w8(&w, 'R'); w32(&w, 16385); wstr(&w, "public"); wstr(&w, "orders"); w8(&w, 'd'); w16(&w, 6);
	for (int k = 0; k < 6; k++) {
		w8(&w, cols[k].key); wstr(&w, cols[k].name); w32(&w, cols[k].oid); w32(&w, (uint32_t) -1);
	}
	if (dec_feed(d, 0, w.b, w.n, &err) != 0)
		goto fail;
	for (int i = 1; i <= rows; i++) {
		w.n = 0;
		w8(&w, 'B'); w64(&w, lsn + 200); w64(&w, 0); w32(&w, (uint32_t) i);
		if (dec_feed(d, lsn, w.b, w.n, &err) != 0)
			goto fail;
		w.n = 0;
		w8(&w, 'I'); w32(&w, 16385); w8(&w, 'N'); row(&w, i);
		if (dec_feed(d, lsn + 8, w.b, w.n, &err) != 0)
			goto fail;
		w.n = 0;
		w8(&w, 'U'); w32(&w, 16385); w8(&w, 'N'); row(&w, i);
		if (dec_feed(d, lsn + 16, w.b, w.n, &err) != 0)
			goto fail;
		w.n = 0;
		w8(&w, 'C'); w8(&w, 0); w64(&w, lsn + 200); w64(&w, lsn + 256); w64(&w, 0);
		if (dec_feed(d, lsn + 200, w.b, w.n, &err) != 0)
			goto fail;
		lsn += 256;
	}
	printf("%d rows, %zu bytes of JSON\n", 2 * rows, c.bytes);
	dec_free(d);
	jbuf_free(&c.b);
	return 0;
fail:
	fprintf(stderr, "hotpath: %s\n", err.msg);
	dec_free(d);
	jbuf_free(&c.b);
	return 1;
}
