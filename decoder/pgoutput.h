/*
 * pgoutput.h — pure parser for the pgoutput logical replication protocol,
 * versions 1 and 2 (PostgreSQL's "Logical Replication Message Formats").
 *
 * Input is one XLogData payload (buf, len).  Every read is bounds-checked through
 * a cursor with a sticky error and an end-of-message check.  No libpq, sockets,
 * clock, globals or logging.
 *
 * Returned strings and values are *borrowed*: they point into buf, or into arrays
 * owned by the parser, and stay valid until the next pgo_parse call on the same
 * parser or until buf changes.  Strings are NUL-terminated (the wire carries the NUL).
 */
#ifndef PGCDC_PGOUTPUT_H
#define PGCDC_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"

/* Message types: the wire bytes (logicalproto.h). */
enum pgo_msgtype {
	PGO_MSG_BEGIN = 'B',
	PGO_MSG_COMMIT = 'C',
	PGO_MSG_ORIGIN = 'O',
	PGO_MSG_RELATION = 'R',
	PGO_MSG_TYPE = 'Y',
	PGO_MSG_INSERT = 'I',
	PGO_MSG_UPDATE = 'U',
	PGO_MSG_DELETE = 'D',
	PGO_MSG_TRUNCATE = 'T',
	PGO_MSG_MESSAGE = 'M',
	PGO_MSG_STREAM_START = 'S',
	PGO_MSG_STREAM_STOP = 'E',
	PGO_MSG_STREAM_COMMIT = 'c',
	PGO_MSG_STREAM_ABORT = 'A',
};

/* PostgreSQL's MaxTupleAttributeNumber: no tuple or relation has more columns. */
#define PGO_MAX_COLS 1664

#define PGO_TRUNCATE_CASCADE 1
#define PGO_TRUNCATE_RESTART_SEQS 2
#define PGO_MESSAGE_TRANSACTIONAL 1

struct pgo_relcol {
	uint8_t flags;           /* 1 = part of the replica identity */
	const char *name;
	uint32_t type_oid;
	int32_t typmod;
};

struct pgo_msg {
	char type;               /* enum pgo_msgtype */
	uint32_t xid;            /* the xid prefix of messages inside a stream (0 if none),
	                          * or the xid carried by Begin / Stream messages */
	union {
		struct { cdc_lsn final_lsn; int64_t commit_ts; } begin;          /* xid in .xid */
		struct { uint8_t flags; cdc_lsn commit_lsn; cdc_lsn end_lsn; int64_t commit_ts; } commit;
		struct { cdc_lsn lsn; const char *name; } origin;
		struct {
			uint32_t oid;
			const char *schema;      /* "pg_catalog" when the wire says "" */
			const char *name;
			char replident;
			int ncols;
			const struct pgo_relcol *cols;
		} relation;
		struct { uint32_t oid; const char *schema; const char *name; } type;
		struct { uint32_t rel_oid; struct cdc_tuple newtup; } insert;
		struct {
			uint32_t rel_oid;
			char old_kind;           /* 'K', 'O' or 0 */
			struct cdc_tuple oldtup; /* valid when old_kind != 0 */
			struct cdc_tuple newtup;
		} update;
		struct { uint32_t rel_oid; char old_kind; struct cdc_tuple oldtup; } delete_;
		struct { uint8_t flags; int nrels; const uint32_t *rel_oids; } truncate;
		struct {
			uint8_t flags;           /* PGO_MESSAGE_TRANSACTIONAL */
			cdc_lsn lsn;
			const char *prefix;
			uint32_t len;
			const uint8_t *content;
		} message;
		struct { bool first_segment; } stream_start;                        /* xid in .xid */
		struct { uint8_t flags; cdc_lsn commit_lsn; cdc_lsn end_lsn; int64_t commit_ts; } stream_commit;
		struct { uint32_t subxid; } stream_abort;                          /* xid in .xid */
	} u;
};

struct pgo_parser;

/* Returns an owned parser (about 100 kB of value arrays), NULL on OOM. */
struct pgo_parser *pgo_parser_new(void);
void pgo_parser_free(struct pgo_parser *p);

/* Parse one message.  in_stream: between Stream Start and Stream Stop, where
 * protocol 2 prefixes data messages with the transaction id.  Returns 0 and fills
 * *msg, or CDC_ERR_PROTO with err naming the message type and offset. */
int pgo_parse(struct pgo_parser *p, const uint8_t *buf, size_t len, bool in_stream,
              struct pgo_msg *msg, struct cdc_err *err);

/* Commit timestamps on the wire are microseconds since 2000-01-01.  Saturates
 * instead of overflowing on a value no server sends (found by fuzzing). */
static inline int64_t
pgo_ts_to_unix_us(int64_t pgts)
{
	if (pgts > INT64_MAX - CDC_PG_EPOCH_OFFSET_US)
		return INT64_MAX;
	return pgts + CDC_PG_EPOCH_OFFSET_US;
}

#endif
