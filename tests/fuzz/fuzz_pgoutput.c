/*
 * fuzz_pgoutput.c — libFuzzer target: a whole pgoutput message stream through the
 * parser, the decoder (with protocol-2 streams routed and replayed as the agent
 * does) and the JSON encoder of every resulting change.
 *
 * Input: records of [u16 big-endian length][payload], one XLogData payload each
 * (tests/fuzz/seed-pgoutput.sh turns the captured fixtures into seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/decode.h"
#include "decoder/json.h"
#include "decoder/types.h"

struct smsg {
	const uint8_t *p;
	size_t n;
	uint32_t xid;
};

struct ctx {
	struct jbuf b;
	struct cdc_types *types;
	struct json_opts o;
};

static int
on_event(void *vctx, const struct dec_event *ev, struct cdc_err *err)
{
	struct ctx *c = vctx;

	if (ev->type != DEC_EV_CHANGE)
		return 0;
	jbuf_reset(&c->b);
	(void) json_envelope(&c->b, ev->change, c->types, &c->o, 0, err);
	cdc_err_clear(err);
	jbuf_reset(&c->b);
	(void) json_key(&c->b, ev->change, c->types, &c->o, err);
	cdc_err_clear(err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { .o = { .name = "f", .db = "d", .version = "0" } };
	struct dec *d;
	struct pgo_parser *ctl = pgo_parser_new();
	struct smsg stream[256];
	int nstream = 0;
	bool in_stream = false;
	size_t pos = 0;
	cdc_lsn lsn = 0;

	c.types = types_new();
	types_add(c.types, 16400, 'd', CDC_OID_INT4, 0, ',', "dom");
	types_add(c.types, 16401, 'b', 0, 16400, ',', "_dom");
	types_add(c.types, 16402, 'e', 0, 0, ',', "mood");
	jbuf_init(&c.b);
	d = dec_new(on_event, &c);
	while (d != NULL && ctl != NULL && size - pos >= 2) {
		size_t n = ((size_t) data[pos] << 8) | data[pos + 1];
		const uint8_t *p = data + pos + 2;
		struct cdc_err err = { 0 };
		struct pgo_msg m;

		pos += 2;
		if (n > size - pos)
			n = size - pos;
		pos += n;
		lsn += 8;
		if (n == 0)
			continue;
		switch (p[0]) {
		case 'S': case 'E': case 'c': case 'A':
			if (pgo_parse(ctl, p, n, false, &m, &err) != 0)
				continue;
			if (m.type == 'S') {
				in_stream = true;
			} else if (m.type == 'E') {
				in_stream = false;
			} else if (m.type == 'A') {
				int keep = 0;

				for (int i = 0; i < nstream; i++)
					if (stream[i].xid != m.u.stream_abort.subxid && m.xid != m.u.stream_abort.subxid)
						stream[keep++] = stream[i];
				nstream = keep;
			} else if (!dec_in_txn(d) &&
			           dec_replay_begin(d, m.xid, m.u.stream_commit.commit_lsn,
			                            m.u.stream_commit.end_lsn, 0, &err) == 0) {
				for (int i = 0; i < nstream; i++)
					if (dec_replay_feed(d, lsn, stream[i].p, stream[i].n, &err) != 0)
						cdc_err_clear(&err);
				dec_replay_commit(d, &err);
				nstream = 0;
			}
			break;
		default:
			if (in_stream) {
				if (nstream < 256) {
					stream[nstream].p = p;
					stream[nstream].n = n;
					stream[nstream].xid = n >= 5 ? ((uint32_t) p[1] << 24 | (uint32_t) p[2] << 16 |
					                                (uint32_t) p[3] << 8 | p[4]) : 0;
					nstream++;
				}
			} else if (dec_feed(d, lsn, p, n, &err) != 0) {
				/* the agent stops on a protocol error; keep going to reach more states */
				if (dec_in_txn(d) && err.code == CDC_ERR_PROTO && p[0] == 'B')
					dec_reset(d);
			}
		}
	}
	dec_free(d);
	pgo_parser_free(ctl);
	jbuf_free(&c.b);
	types_free(c.types);
	return 0;
}
