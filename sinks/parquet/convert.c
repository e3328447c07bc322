/*
 * convert.c — PostgreSQL text output to Parquet values (see convert.h).
 *
 * Calendar arithmetic is proleptic Gregorian with astronomical year numbering
 * (1 BC = year 0), as PostgreSQL computes dates; days from a civil date follow the
 * well-known era / year-of-era decomposition.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../decoder/civil.h"
#include "../../decoder/text.h"
#include "convert.h"

#define US_PER_DAY INT64_C(86400000000)

int
pqc_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, lim;

	if (n == 0)
		return -1;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return -1;
		d = (unsigned) (s[i] - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	{
		int64_t r = neg ? (int64_t) (0 - v) : (int64_t) v;

		if (r < min || r > max)
			return -1;
		*out = r;
	}
	return 0;
}

/* Copy into a NUL-terminated buffer for strtod. */
static int
cstr(const char *s, size_t n, char *buf, size_t cap)
{
	if (n == 0 || n >= cap)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int
pqc_double(const char *s, size_t n, double *out)
{
	char buf[400], *end;   /* float8's longest text form is well below this */
	double d;

	if (cstr(s, n, buf, sizeof(buf)) != 0)
		return -1;
	d = strtod(buf, &end);
	if (*end != '\0')
		return -1;
	*out = d;
	return 0;
}

int
pqc_float(const char *s, size_t n, float *out)
{
	char buf[64], *end;
	float f;

	if (cstr(s, n, buf, sizeof(buf)) != 0)
		return -1;
	f = strtof(buf, &end);
	if (*end != '\0')
		return -1;
	*out = f;
	return 0;
}

int
pqc_bool(const char *s, size_t n, bool *out)
{
	if (n != 1 || (s[0] != 't' && s[0] != 'f'))
		return -1;
	*out = s[0] == 't';
	return 0;
}

/* Digits at s[*i..], between mind and maxd of them. */
static int
digits(const char *s, size_t n, size_t *i, int mind, int maxd, int64_t *out)
{
	int64_t v = 0;
	int k = 0;

	while (*i < n && is_digit(s[*i]) && k < maxd) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	if (k < mind || (*i < n && is_digit(s[*i])))
		return -1;
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" at s[*i..] (year of 4 or more digits): days, before BC handling. */
static int
parse_ymd(const char *s, size_t n, size_t *i, int64_t *y, int64_t *m, int64_t *d)
{
	if (digits(s, n, i, 4, 9, y) != 0 || *i >= n || s[(*i)++] != '-' ||
	    digits(s, n, i, 2, 2, m) != 0 || *i >= n || s[(*i)++] != '-' ||
	    digits(s, n, i, 2, 2, d) != 0)
		return -1;
	if (*m < 1 || *m > 12 || *d < 1 || *d > 31)
		return -1;
	return 0;
}

static bool
bc_suffix(const char *s, size_t n, size_t *i)
{
	if (n - *i >= 3 && memcmp(s + *i, " BC", 3) == 0) {
		*i += 3;
		return true;
	}
	return false;
}

int
pqc_date(const char *s, size_t n, int32_t *days)
{
	size_t i = 0;
	int64_t y, m, d, r;

	if (eq(s, n, "infinity")) {
		*days = PQC_DATE_INFINITY;
		return 0;
	}
	if (eq(s, n, "-infinity")) {
		*days = PQC_DATE_NINFINITY;
		return 0;
	}
	if (parse_ymd(s, n, &i, &y, &m, &d) != 0)
		return -1;
	if (bc_suffix(s, n, &i))
		y = 1 - y;
	if (i != n)
		return -1;
	r = days_from_civil(y, m, d);
	if (r <= PQC_DATE_NINFINITY || r >= PQC_DATE_INFINITY)
		return -1;
	*days = (int32_t) r;
	return 0;
}

/* "HH:MM:SS[.ffffff]" at s[*i..]: microseconds. */
static int
parse_hms(const char *s, size_t n, size_t *i, int64_t *us)
{
	int64_t h, mi, se, frac = 0;

	if (digits(s, n, i, 2, 2, &h) != 0 || *i >= n || s[(*i)++] != ':' ||
	    digits(s, n, i, 2, 2, &mi) != 0 || *i >= n || s[(*i)++] != ':' ||
	    digits(s, n, i, 2, 2, &se) != 0)
		return -1;
	if (*i < n && s[*i] == '.') {
		int k = 0;

		(*i)++;
		while (*i < n && is_digit(s[*i]) && k < 6) {
			frac = frac * 10 + (s[(*i)++] - '0');
			k++;
		}
		if (k == 0 || (*i < n && is_digit(s[*i])))
			return -1;
		for (; k < 6; k++)
			frac *= 10;
	}
	if (h > 24 || mi > 59 || se > 60)
		return -1;
	*us = ((h * 60 + mi) * 60 + se) * 1000000 + frac;
	return 0;
}

int
pqc_time(const char *s, size_t n, int64_t *us)
{
	size_t i = 0;
	int64_t v;

	if (parse_hms(s, n, &i, &v) != 0 || i != n || v > US_PER_DAY)
		return -1;
	*us = v;
	return 0;
}

int
pqc_timestamp(const char *s, size_t n, bool tz, int64_t *us)
{
	size_t i = 0;
	int64_t y, m, d, t, off = 0;

	if (eq(s, n, "infinity")) {
		*us = PQC_TS_INFINITY;
		return 0;
	}
	if (eq(s, n, "-infinity")) {
		*us = PQC_TS_NINFINITY;
		return 0;
	}
	if (parse_ymd(s, n, &i, &y, &m, &d) != 0 || i >= n || s[i++] != ' ' ||
	    parse_hms(s, n, &i, &t) != 0)
		return -1;
	if (tz) {
		int64_t oh, om = 0, os = 0;
		int sign;

		if (i >= n || (s[i] != '+' && s[i] != '-'))
			return -1;
		sign = s[i++] == '-' ? -1 : 1;
		if (digits(s, n, &i, 2, 2, &oh) != 0)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			if (digits(s, n, &i, 2, 2, &om) != 0)
				return -1;
			if (i < n && s[i] == ':') {
				i++;
				if (digits(s, n, &i, 2, 2, &os) != 0)
					return -1;
			}
		}
		off = sign * ((oh * 60 + om) * 60 + os) * 1000000;
	}
	if (bc_suffix(s, n, &i))
		y = 1 - y;
	if (i != n)
		return -1;
	/* PostgreSQL's range (4713 BC .. 294276 AD) stays far inside int64 micros */
	*us = days_from_civil(y, m, d) * US_PER_DAY + t - off;
	return 0;
}

int
pqc_decimal(const char *s, size_t n, int scale, pqc_i128 *out)
{
	size_t i = 0;
	bool neg = false, dot = false;
	int ndig = 0, frac = 0;
	unsigned __int128 v = 0;

	if (eq(s, n, "NaN") || eq(s, n, "Infinity") || eq(s, n, "-Infinity"))
		return 1;
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!is_digit(s[i]))
			return -1;
		if (dot) {
			if (frac == scale) {
				if (s[i] != '0')
					return -1;   /* more fractional digits than the scale holds */
				continue;
			}
			frac++;
		}
		if (v != 0 || s[i] != '0')
			ndig++;
		if (ndig > 38)
			return -1;
		v = v * 10 + (unsigned) (s[i] - '0');
	}
	for (; frac < scale; frac++) {
		if (v != 0)
			ndig++;
		if (ndig > 38)
			return -1;
		v *= 10;
	}
	*out = neg ? -(pqc_i128) v : (pqc_i128) v;
	return 0;
}

void
pqc_decimal_be(pqc_i128 v, uint8_t *out, int len)
{
	unsigned __int128 u = (unsigned __int128) v;

	for (int i = len - 1; i >= 0; i--) {
		out[i] = (uint8_t) u;
		u >>= 8;
	}
}

int
pqc_decimal_bytes(int precision)
{
	unsigned __int128 pow10 = 1;

	for (int i = 0; i < precision; i++)
		pow10 *= 10;
	for (int nb = 1; nb <= 16; nb++) {
		unsigned __int128 max = ((unsigned __int128) 1 << (8 * nb - 1)) - 1;

		if (max >= pow10 - 1)
			return nb;
	}
	return 16;
}

int
pqc_uuid(const char *s, size_t n, uint8_t out[16])
{
	uint8_t b[16];
	int k = 0;

	for (size_t i = 0; i < n; i++) {
		int h, l;

		if (s[i] == '-')
			continue;
		if (k == 16 || i + 1 >= n || (h = hexval(s[i])) < 0 || (l = hexval(s[i + 1])) < 0)
			return -1;
		b[k++] = (uint8_t) (h << 4 | l);
		i++;
	}
	if (k != 16)
		return -1;
	memcpy(out, b, 16);
	return 0;
}

int
pqc_bytea(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
	size_t k = 0;

	if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2 != 0)
		return -1;
	for (size_t i = 2; i < n; i += 2) {
		int h = hexval(s[i]), l = hexval(s[i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[k++] = (uint8_t) (h << 4 | l);
	}
	*outlen = k;
	return 0;
}
