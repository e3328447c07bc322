/*
 * convert.c — PostgreSQL text output to Parquet values (see convert.h).
 *
 * Calendar arithmetic is proleptic Gregorian with astronomical year numbering
 * (1 BC = year 0), as PostgreSQL computes dates; days from a civil date follow the
 * well-known era / year-of-era decomposition.
 */
#include <inttypes.h>
#include <stdio.h>
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

/* One signed integer of an ISO-8601 duration field. */
static int
iso_num(const char *s, size_t n, size_t *i, int64_t *v, bool *neg)
{
	uint64_t u = 0;
	size_t start;

	*neg = *i < n && s[*i] == '-';
	if (*neg)
		(*i)++;
	start = *i;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (u > (UINT64_MAX - 9) / 10)
			return -1;
		u = u * 10 + (uint64_t) (s[(*i)++] - '0');
	}
	if (*i == start || u > (uint64_t) INT64_MAX)
		return -1;
	*v = *neg ? -(int64_t) u : (int64_t) u;
	return 0;
}

static size_t
put_part(char *out, size_t cap, size_t k, int64_t v, const char *unit, bool *is_zero, bool *is_before)
{
	if (v == 0)
		return k;
	k += (size_t) snprintf(out + k, k < cap ? cap - k : 0, "%s%s%" PRId64 " %s%s", *is_zero ? "" : " ",
	                       *is_before && v > 0 ? "+" : "", v, unit, v != 1 ? "s" : "");
	*is_before = v < 0;
	*is_zero = false;
	return k;
}

int
pqc_interval(const char *s, size_t n, char *out, size_t cap)
{
	int64_t f[6] = { 0 };          /* years, months, days, hours, minutes, seconds */
	int64_t fsec = 0;              /* microseconds, with the sign of the seconds */
	bool time = false, is_zero = true, is_before = false, neg;
	size_t i = 1, k = 0;

	if ((n == 8 && memcmp(s, "infinity", 8) == 0) || (n == 9 && memcmp(s, "-infinity", 9) == 0)) {
		if (n + 1 > cap)
			return -1;
		memcpy(out, s, n);
		out[n] = '\0';
		return 0;
	}
	if (n < 2 || s[0] != 'P')
		return -1;
	while (i < n) {
		int64_t v;
		int slot;

		if (s[i] == 'T' && !time) {
			time = true;
			i++;
			continue;
		}
		if (iso_num(s, n, &i, &v, &neg) != 0 || i >= n)
			return -1;
		if (time && s[i] == '.') {       /* fractional seconds: up to 6 digits */
			int digits = 0;
			int64_t us = 0;

			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
				if (++digits > 6)
					return -1;
				us = us * 10 + (s[i] - '0');
			}
			if (digits == 0 || i >= n || s[i] != 'S')
				return -1;
			while (digits++ < 6)
				us *= 10;
			fsec = neg ? -us : us;
		}
		switch (s[i]) {
		case 'Y': slot = time ? -1 : 0; break;
		case 'M': slot = time ? 4 : 1; break;
		case 'D': slot = time ? -1 : 2; break;
		case 'H': slot = time ? 3 : -1; break;
		case 'S': slot = time ? 5 : -1; break;
		default: slot = -1; break;
		}
		if (slot < 0)
			return -1;
		f[slot] = v;
		i++;
	}
	/* PostgreSQL's IntervalStyle = postgres (EncodeInterval): each nonzero field, a
	 * "+" on a positive field after a negative one, then [-]HH:MM:SS[.ffffff] when the
	 * time is nonzero or everything else is zero */
	k = put_part(out, cap, k, f[0], "year", &is_zero, &is_before);
	k = put_part(out, cap, k, f[1], "mon", &is_zero, &is_before);
	k = put_part(out, cap, k, f[2], "day", &is_zero, &is_before);
	if (is_zero || f[3] != 0 || f[4] != 0 || f[5] != 0 || fsec != 0) {
		bool minus = f[3] < 0 || f[4] < 0 || f[5] < 0 || fsec < 0;
		uint64_t h = f[3] < 0 ? -(uint64_t) f[3] : (uint64_t) f[3];
		uint64_t m = f[4] < 0 ? -(uint64_t) f[4] : (uint64_t) f[4];
		uint64_t sec = f[5] < 0 ? -(uint64_t) f[5] : (uint64_t) f[5];
		uint64_t us = fsec < 0 ? -(uint64_t) fsec : (uint64_t) fsec;

		k += (size_t) snprintf(out + k, k < cap ? cap - k : 0, "%s%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
		                       is_zero ? "" : " ", minus ? "-" : (is_before ? "+" : ""), h, m, sec);
		if (us != 0) {
			char frac[8];
			int l = snprintf(frac, sizeof(frac), "%06" PRIu64, us);

			while (l > 0 && frac[l - 1] == '0')
				frac[--l] = '\0';
			k += (size_t) snprintf(out + k, k < cap ? cap - k : 0, ".%s", frac);
		}
	}
	return k < cap ? 0 : -1;
}
