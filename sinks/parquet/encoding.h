/*
 * encoding.h — byte buffers and the Parquet value encodings the writer needs:
 * ULEB128 varints, the RLE / bit-packing hybrid (definition levels, dictionary
 * indices) and bit-packed booleans (Apache parquet-format, Encodings.md).
 *
 * Everything here is pure: no I/O, no globals.  A buffer that fails to grow sets
 * its sticky `oom` flag and drops further writes; callers check it once per batch.
 */
#ifndef PGCDC_PQ_ENCODING_H
#define PGCDC_PQ_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Growable byte buffer.  Zero-initialise; pq_buf_free releases it. */
struct pq_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool oom;            /* sticky: a reservation failed, content is incomplete */
};

void pq_buf_free(struct pq_buf *b);
/* Make room for `extra` more bytes.  Returns 0, or -1 (and sets oom). */
int pq_buf_grow(struct pq_buf *b, size_t extra);

static inline int
pq_buf_reserve(struct pq_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	return pq_buf_grow(b, extra);
}

static inline void
pq_buf_put(struct pq_buf *b, const void *src, size_t n)
{
	if (n == 0 || pq_buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static inline void
pq_buf_put_u8(struct pq_buf *b, uint8_t v)
{
	if (pq_buf_reserve(b, 1) != 0)
		return;
	b->p[b->len++] = v;
}

static inline void
pq_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static inline void
pq_put_le64(uint8_t *p, uint64_t v)
{
	pq_put_le32(p, (uint32_t) v);
	pq_put_le32(p + 4, (uint32_t) (v >> 32));
}

static inline uint32_t
pq_get_le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
pq_get_le64(const uint8_t *p)
{
	return (uint64_t) pq_get_le32(p) | (uint64_t) pq_get_le32(p + 4) << 32;
}

static inline void
pq_buf_put_le32(struct pq_buf *b, uint32_t v)
{
	if (pq_buf_reserve(b, 4) != 0)
		return;
	pq_put_le32(b->p + b->len, v);
	b->len += 4;
}

static inline void
pq_buf_put_le64(struct pq_buf *b, uint64_t v)
{
	if (pq_buf_reserve(b, 8) != 0)
		return;
	pq_put_le64(b->p + b->len, v);
	b->len += 8;
}

/* ULEB128 (unsigned LEB128) varint. */
void pq_put_uvarint(struct pq_buf *b, uint64_t v);

/* Number of bits needed to represent max_value (0 for 0). */
int pq_bit_width(uint64_t max_value);

/* RLE / bit-packing hybrid encoding of n values of bit width bw (0..32), appended to
 * out without the 4-byte length prefix (callers that need it add it).  Runs of 8 or
 * more equal values starting at a group boundary become RLE runs; everything else is
 * bit-packed in groups of 8, the last group padded with zeros. */
void pq_rle_encode_u8(struct pq_buf *out, const uint8_t *v, size_t n, int bw);
void pq_rle_encode_u32(struct pq_buf *out, const uint32_t *v, size_t n, int bw);

/* Decode the hybrid encoding (tests, and the reader side of round trips): up to n
 * values into out.  Returns the number of bytes consumed, or -1 on malformed input. */
long pq_rle_decode(const uint8_t *in, size_t len, int bw, uint32_t *out, size_t n);

/* PLAIN booleans: one bit per value, least significant bit first (v[i] is 0 or 1). */
void pq_bitpack_bools(struct pq_buf *out, const uint8_t *v, size_t n);

/* 64-bit hash of a byte string (dictionary lookups). */
uint64_t pq_hash(const void *p, size_t n);

#endif
