/*
 * encoding.c — varints, the RLE / bit-packing hybrid and bit-packed booleans
 * (Apache parquet-format Encodings.md), and the dictionary hash.
 *
 * The hybrid encoder looks for runs only at group boundaries (every 8 values of
 * the pending bit-packed stretch): a bit-packed run must hold a multiple of 8
 * values except at the very end, so a run found elsewhere could not be cut out
 * without padding in the middle.  Runs of definition levels (all set, or all
 * null) and of repeated dictionary indices are found that way.
 */
#include <stdlib.h>

#include "encoding.h"

void
pq_buf_free(struct pq_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

int
pq_buf_grow(struct pq_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *np;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX - b->len) {
		b->oom = true;
		return -1;
	}
	need = b->len + extra;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	np = realloc(b->p, cap);
	if (np == NULL) {
		b->oom = true;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

void
pq_put_uvarint(struct pq_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		tmp[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	pq_buf_put(b, tmp, n);
}

int
pq_bit_width(uint64_t max_value)
{
	int w = 0;

	while (max_value) {
		w++;
		max_value >>= 1;
	}
	return w;
}

/* One RLE run: header (count << 1), then the value in ceil(bw / 8) bytes, LE. */
static void
put_rle_run(struct pq_buf *out, uint32_t value, size_t count, int bw)
{
	pq_put_uvarint(out, (uint64_t) count << 1);
	for (int i = 0; i < (bw + 7) / 8; i++)
		pq_buf_put_u8(out, (uint8_t) (value >> (8 * i)));
}

/* Pack `count` values (LSB first), padding the last group of 8 with zeros. */
#define DEFINE_BITPACK(name, T)                                                       \
	static void                                                                   \
	name(struct pq_buf *out, const T *v, size_t count, int bw, bool header)       \
	{                                                                             \
		size_t groups = (count + 7) / 8;                                      \
		uint64_t acc = 0;                                                     \
		int nbits = 0;                                                        \
                                                                                      \
		if (header)                                                           \
			pq_put_uvarint(out, ((uint64_t) groups << 1) | 1);            \
		if (pq_buf_reserve(out, groups * (size_t) bw + 8) != 0)               \
			return;                                                       \
		for (size_t i = 0; i < groups * 8; i++) {                             \
			uint64_t x = i < count ? (uint64_t) v[i] : 0;                 \
                                                                                      \
			acc |= x << nbits;                                            \
			nbits += bw;                                                  \
			while (nbits >= 8) {                                          \
				out->p[out->len++] = (uint8_t) acc;                   \
				acc >>= 8;                                            \
				nbits -= 8;                                           \
			}                                                             \
		}                                                                     \
		if (nbits > 0)                                                        \
			out->p[out->len++] = (uint8_t) acc;                           \
	}

DEFINE_BITPACK(bitpack_u8, uint8_t)
DEFINE_BITPACK(bitpack_u32, uint32_t)

#define DEFINE_RLE(name, T, packer)                                                   \
	void                                                                          \
	name(struct pq_buf *out, const T *v, size_t n, int bw)                        \
	{                                                                             \
		size_t i = 0, pend = 0;   /* v[pend..i) waits to be bit-packed */      \
                                                                                      \
		while (i < n) {                                                       \
			size_t run = 1;                                               \
                                                                                      \
			while (i + run < n && v[i + run] == v[i])                     \
				run++;                                                \
			if (run >= 8) {                                               \
				if (i > pend)                                         \
					packer(out, v + pend, i - pend, bw, true);    \
				put_rle_run(out, (uint32_t) v[i], run, bw);           \
				i += run;                                             \
				pend = i;                                             \
			} else {                                                      \
				i += n - i < 8 ? n - i : 8;                           \
			}                                                             \
		}                                                                     \
		if (pend < n)                                                         \
			packer(out, v + pend, n - pend, bw, true);                    \
	}

DEFINE_RLE(pq_rle_encode_u8, uint8_t, bitpack_u8)
DEFINE_RLE(pq_rle_encode_u32, uint32_t, bitpack_u32)

void
pq_bitpack_bools(struct pq_buf *out, const uint8_t *v, size_t n)
{
	size_t nbytes = (n + 7) / 8;

	if (pq_buf_reserve(out, nbytes) != 0)
		return;
	memset(out->p + out->len, 0, nbytes);
	for (size_t i = 0; i < n; i++)
		if (v[i])
			out->p[out->len + i / 8] |= (uint8_t) (1u << (i % 8));
	out->len += nbytes;
}

static int
get_uvarint(const uint8_t *in, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= len)
			return -1;
		b = in[(*pos)++];
		v |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

long
pq_rle_decode(const uint8_t *in, size_t len, int bw, uint32_t *out, size_t n)
{
	size_t pos = 0, got = 0;
	int vbytes = (bw + 7) / 8;

	if (bw < 0 || bw > 32)
		return -1;
	while (got < n) {
		uint64_t h;

		if (get_uvarint(in, len, &pos, &h) != 0)
			return -1;
		if (h & 1) {
			size_t count = (size_t) (h >> 1) * 8, nbytes = (size_t) (h >> 1) * (size_t) bw;
			uint64_t acc = 0;
			int nbits = 0;
			size_t bi = 0;

			if (nbytes > len - pos)
				return -1;
			for (size_t k = 0; k < count; k++) {
				uint32_t x;

				while (nbits < bw) {
					acc |= (uint64_t) in[pos + bi++] << nbits;
					nbits += 8;
				}
				x = bw == 0 ? 0 : (uint32_t) (acc & ((UINT64_C(1) << bw) - 1));
				acc >>= bw;
				nbits -= bw;
				if (got < n)
					out[got++] = x;
			}
			pos += nbytes;
		} else {
			size_t count = (size_t) (h >> 1);
			uint32_t x = 0;

			if (count == 0 || (size_t) vbytes > len - pos)
				return -1;
			for (int k = 0; k < vbytes; k++)
				x |= (uint32_t) in[pos + (size_t) k] << (8 * k);
			pos += (size_t) vbytes;
			for (size_t k = 0; k < count && got < n; k++)
				out[got++] = x;
		}
	}
	return (long) pos;
}

uint64_t
pq_hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (n * UINT64_C(0xff51afd7ed558ccd));
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 29;
	return h;
}
