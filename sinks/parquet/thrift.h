/*
 * thrift.h — the Thrift compact protocol, as far as Parquet metadata needs it
 * (page headers, the file footer).  A writer that appends to a pq_buf, and a
 * bounds-checked reader (sticky error flag) used to read footers back: the sink
 * at start, the unit tests for round trips.
 *
 * Compact protocol in brief: a field header is one byte (field-id delta << 4 |
 * type) when the delta is 1..15, else the type byte followed by the zigzag-varint
 * field id; booleans live in the header's type nibble; integers are zigzag varints;
 * binary is a varint length and bytes; a list header is (size << 4 | element type)
 * below 15 elements, else 0xF0 | type and a varint size; a struct ends with 0x00.
 */
#ifndef PGCDC_PQ_THRIFT_H
#define PGCDC_PQ_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encoding.h"

enum pq_ttype {
	PQ_T_STOP = 0,
	PQ_T_TRUE = 1,       /* boolean true (field header) */
	PQ_T_FALSE = 2,      /* boolean false */
	PQ_T_I8 = 3,
	PQ_T_I16 = 4,
	PQ_T_I32 = 5,
	PQ_T_I64 = 6,
	PQ_T_DOUBLE = 7,
	PQ_T_BINARY = 8,
	PQ_T_LIST = 9,
	PQ_T_SET = 10,
	PQ_T_MAP = 11,
	PQ_T_STRUCT = 12,
};

#define PQ_THRIFT_MAX_DEPTH 16

/* Writer.  Fields must be written in the order of their ids inside one struct only
 * for compactness (a smaller id simply takes the long form). */
struct pq_tw {
	struct pq_buf *out;          /* borrowed */
	int16_t last[PQ_THRIFT_MAX_DEPTH];
	int depth;
	bool overflow;               /* nesting deeper than PQ_THRIFT_MAX_DEPTH */
};

void pq_tw_init(struct pq_tw *w, struct pq_buf *out);
void pq_tw_i8(struct pq_tw *w, int16_t id, int8_t v);
void pq_tw_i16(struct pq_tw *w, int16_t id, int16_t v);
void pq_tw_i32(struct pq_tw *w, int16_t id, int32_t v);
void pq_tw_i64(struct pq_tw *w, int16_t id, int64_t v);
void pq_tw_bool(struct pq_tw *w, int16_t id, bool v);
void pq_tw_binary(struct pq_tw *w, int16_t id, const void *p, size_t n);
void pq_tw_string(struct pq_tw *w, int16_t id, const char *s);
/* A struct-valued field: begin, its fields, end (writes the stop byte). */
void pq_tw_struct_begin(struct pq_tw *w, int16_t id);
void pq_tw_struct_end(struct pq_tw *w);
/* A list-valued field of n elements of type etype; then n elements: */
void pq_tw_list_begin(struct pq_tw *w, int16_t id, enum pq_ttype etype, size_t n);
void pq_tw_elem_i32(struct pq_tw *w, int32_t v);
void pq_tw_elem_binary(struct pq_tw *w, const void *p, size_t n);
/* A struct element of a list: begin, fields, pq_tw_struct_end. */
void pq_tw_elem_struct_begin(struct pq_tw *w);
/* End of the outermost struct (a message such as a PageHeader): the stop byte. */
void pq_tw_stop(struct pq_tw *w);

/* Zigzag varint helpers (exposed for tests). */
void pq_put_zigzag(struct pq_buf *b, int64_t v);

/* Reader over a borrowed buffer.  Any malformed or truncated input sets err; every
 * later call then returns zeros. */
struct pq_tr {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool err;
	int16_t last[PQ_THRIFT_MAX_DEPTH];
	int depth;
	int bool_value;              /* value of the boolean in the last field header */
};

void pq_tr_init(struct pq_tr *r, const void *p, size_t len);
/* Next field of the current struct: returns its type (PQ_T_STOP at the end, which
 * also leaves the struct), *id its id. */
int pq_tr_field(struct pq_tr *r, int16_t *id);
/* Enter a struct (after its field header or as a list element). */
void pq_tr_struct_begin(struct pq_tr *r);
int64_t pq_tr_int(struct pq_tr *r);          /* i16 / i32 / i64 (zigzag varint) */
int8_t pq_tr_i8(struct pq_tr *r);
bool pq_tr_bool(struct pq_tr *r);            /* the value of a boolean field */
double pq_tr_double(struct pq_tr *r);
/* Binary/string: returns a borrowed pointer and its length. */
const uint8_t *pq_tr_binary(struct pq_tr *r, size_t *n);
/* List header: element type and count. */
void pq_tr_list(struct pq_tr *r, int *etype, size_t *n);
/* Skip a value of the given type (whole structs and lists included). */
void pq_tr_skip(struct pq_tr *r, int type);

#endif
