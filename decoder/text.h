/*
 * text.h — small byte-level helpers shared by the value mappers (json.c, proto.c),
 * the COPY text parser and the Parquet converter.  Header-only, no state.
 */
#ifndef PGCDC_TEXT_H
#define PGCDC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Whether s[0..n) is exactly the C string lit. */
static inline bool
eq(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && memcmp(s, lit, l) == 0;
}

/* The value of a hex digit, or -1. */
static inline int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (1..4), or, when it is
 * ill-formed, minus the length of its maximal subpart (Unicode §3.9, "U+FFFD
 * substitution of maximal subparts"), which is what one U+FFFD replaces. */
static inline int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	int len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;        /* overlong */
		else if (c == 0xED)
			hi = 0x9F;        /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;        /* overlong */
		else if (c == 0xF4)
			hi = 0x8F;        /* above U+10FFFF */
	} else
		return -1;
	for (i = 1; i < len; i++) {
		if ((size_t) i >= n || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

#endif
