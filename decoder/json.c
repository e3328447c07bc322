/*
 * json.c — streaming encoder for the Debezium-compatible JSON record (SPEC §3).
 *
 * DESIGN: every record is written straight into a caller-owned growable jbuf; no
 * tree is built, and once the buffer has grown to the size of the largest record
 * nothing allocates (the one exception is a rare array element that needs
 * backslash-unescaping before it can be parsed as a non-text type and is larger
 * than a small stack buffer).  Values arrive as PostgreSQL 15 prints them under
 * the session settings pgcdc forces (DateStyle=ISO, IntervalStyle=iso_8601,
 * TimeZone=UTC, extra_float_digits=1, bytea_output=hex); each type's text is
 * validated before it is copied, so numbers are emitted verbatim (exact) and a
 * value in an unexpected format fails loudly with CDC_ERR_PROTO instead of
 * producing a record consumers would misread.  On error nothing is left appended.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "civil.h"
#include "change.h"
#include "json.h"
#include "connect.h"
#include "types.h"
#include "text.h"

/* Nesting limits: PostgreSQL arrays have at most 6 dimensions (MAXDIM); element
 * types that are themselves arrays (domains over arrays) add levels. */
#define ARRAY_MAX_DEPTH 32
/* Longest offending text quoted in an error message. */
#define ERR_TEXT_MAX 64
/* Array elements up to this size are unescaped on the stack. */
#define UNESCAPE_STACK 256
/* Internal: array text syntax error (distinct from every cdc_errcode). */
#define ARR_SYNTAX (-100)

/* ---------------------------------------------------------------- jbuf */

void
jbuf_init(struct jbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = false;
}

void
jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	b->oom = false;
}

void
jbuf_free(struct jbuf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	jbuf_init(b);
}

char *
jbuf_reserve(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return NULL;
	if (n <= b->cap - b->len)
		return b->data + b->len;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return NULL;
	}
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = true;
		return NULL;
	}
	b->data = p;
	b->cap = cap;
	return b->data + b->len;
}

void
jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_put(b, s, strlen(s));
}


/* A string literal, without strlen at run time. */
#define JBUF_LIT(b, lit) jbuf_put((b), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------ string escaping */

/* Offset of the first byte of s[i..n) that is not plain ASCII to copy as is (a
 * control character, '"', '\\' or a byte >= 0x80), or n.  Text columns are
 * mostly plain, and this scan is where wide rows spend their encoding time. */
static size_t
plain_run(const unsigned char *s, size_t i, size_t n)
{
#if defined(__SSE2__)
	/* 16 bytes at a time; as signed bytes, every byte >= 0x80 is also < 0x20 */
	const __m128i sp = _mm_set1_epi8(0x20), qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');

	while (n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *) (const void *) (s + i));
		__m128i hit = _mm_or_si128(_mm_cmplt_epi8(v, sp),
		                           _mm_or_si128(_mm_cmpeq_epi8(v, qu), _mm_cmpeq_epi8(v, bs)));
		unsigned m = (unsigned) _mm_movemask_epi8(hit);

		if (m != 0)
			return i + (size_t) __builtin_ctz(m);
		i += 16;
	}
#else
	/* 8 bytes at a time: none < 0x20, '"', '\\' or >= 0x80 */
	while (n - i >= 8) {
		uint64_t w, q, b;

		memcpy(&w, s + i, 8);
		q = w ^ UINT64_C(0x2222222222222222);
		b = w ^ UINT64_C(0x5C5C5C5C5C5C5C5C);
		if (((w | ((w - UINT64_C(0x2020202020202020)) & ~w) |
		      ((q - UINT64_C(0x0101010101010101)) & ~q) |
		      ((b - UINT64_C(0x0101010101010101)) & ~b)) & UINT64_C(0x8080808080808080)) != 0)
			break;
		i += 8;
	}
#endif
	for (; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			break;
	}
	return i;
}

/* Append the escaped body (no quotes) of s[0..n). */
static void
put_escaped(struct jbuf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *) str;
	size_t i = 0, run = 0;

	while ((i = plain_run(s, i, n)) < n) {
		unsigned char c = s[i];
		char esc[6];
		size_t elen = 2;
		int k;

		if (c >= 0x80) {
			k = utf8_seq(s + i, n - i);
			if (k > 0) {
				i += (size_t) k;
				continue;
			}
			jbuf_put(b, s + run, i - run);
			jbuf_put(b, "\xEF\xBF\xBD", 3);   /* U+FFFD */
			i += (size_t) -k;
			run = i;
			continue;
		}
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			elen = 6;
			break;
		}
		jbuf_put(b, s + run, i - run);
		jbuf_put(b, esc, elen);
		i++;
		run = i;
	}
	jbuf_put(b, s + run, n - run);
}

void
jbuf_put_jstring(struct jbuf *b, const char *s, size_t n)
{
	jbuf_putc(b, '"');
	if (n > 0)
		put_escaped(b, s, n);
	jbuf_putc(b, '"');
}

/* A JSON string of possibly-NULL C string s (NULL → JSON null). */
static void
put_cstr(struct jbuf *b, const char *s)
{
	if (s == NULL)
		jbuf_put(b, "null", 4);
	else
		jbuf_put_jstring(b, s, strlen(s));
}

/* A JSON string of s[0..n) where a backslash makes the next byte literal (the
 * quoting of PostgreSQL's array output), unescaped and JSON-escaped in one pass. */
static void
put_pg_unescaped_jstring(struct jbuf *b, const char *s, size_t n)
{
	size_t i = 0, run = 0;

	jbuf_putc(b, '"');
	while (i < n) {
		if (s[i] == '\\') {
			put_escaped(b, s + run, i - run);
			run = i + 1;          /* the escaped byte starts the next run */
			i += 2;
		} else
			i++;
	}
	if (run < n)
		put_escaped(b, s + run, n - run);
	jbuf_putc(b, '"');
}

/* ------------------------------------------------------- value mapping */

struct map_ctx {
	const struct cdc_types *types;
	const struct json_opts *o;
	struct cdc_err *err;
	uint32_t top_oid;         /* the column's type, for messages */
	int32_t typmod;           /* the column's typmod (-1: none), for the Debezium profile */
	int depth;
};

static const char *
kind_name(enum cdc_tkind k)
{
	switch (k) {
	case CDC_T_INT: return "integer";
	case CDC_T_FLOAT: return "float";
	case CDC_T_NUMERIC: return "numeric";
	case CDC_T_BOOL: return "boolean";
	case CDC_T_BYTEA: return "bytea";
	case CDC_T_DATE: return "date";
	case CDC_T_TIME: return "time";
	case CDC_T_TIMESTAMP: return "timestamp";
	case CDC_T_TIMESTAMPTZ: return "timestamptz";
	case CDC_T_INTERVAL: return "interval";
	case CDC_T_JSON: return "json";
	case CDC_T_UUID: return "uuid";
	case CDC_T_ARRAY: return "array";
	case CDC_T_STRING: break;
	}
	return "text";
}

/* The session setting a kind's text format depends on: a value in another
 * format most likely means the connection's settings were not applied. */
static const char *
kind_hint(enum cdc_tkind k)
{
	switch (k) {
	case CDC_T_DATE:
	case CDC_T_TIME:
	case CDC_T_TIMESTAMP:
	case CDC_T_TIMESTAMPTZ:
		return " (expected DateStyle=ISO output)";
	case CDC_T_INTERVAL:
		return " (expected IntervalStyle=iso_8601 output)";
	case CDC_T_BYTEA:
		return " (expected bytea_output=hex)";
	default:
		return "";
	}
}

/* Record why s[0..n) could not be mapped: names the column's type OID, the kind
 * and (at most ERR_TEXT_MAX bytes of) the text, control bytes shown as '?'. */
static int
map_fail(struct map_ctx *c, uint32_t oid, enum cdc_tkind kind, const char *s, size_t n)
{
	char shown[ERR_TEXT_MAX + 1];
	size_t k = n, i;
	bool cut = false;

	if (k > ERR_TEXT_MAX) {
		k = ERR_TEXT_MAX;
		/* do not cut a UTF-8 sequence in half */
		while (k > 0 && ((unsigned char) s[k] & 0xC0) == 0x80)
			k--;
		cut = true;
	}
	for (i = 0; i < k; i++) {
		unsigned char ch = (unsigned char) s[i];

		shown[i] = (ch < 0x20 || ch == 0x7F) ? '?' : (char) ch;
	}
	shown[k] = '\0';
	if (oid != c->top_oid)
		return cdc_errf(c->err, CDC_ERR_PROTO,
		                "cannot map value of type oid %u: element of type oid %u "
		                "is not valid %s text: \"%s\"%s%s", c->top_oid, oid,
		                kind_name(kind), shown, cut ? "..." : "", kind_hint(kind));
	return cdc_errf(c->err, CDC_ERR_PROTO,
	                "cannot map value of type oid %u: not valid %s text: \"%s\"%s%s",
	                oid, kind_name(kind), shown, cut ? "..." : "", kind_hint(kind));
}

bool
json_number(const char *s, size_t n, bool int_only)
{
	size_t i = 0, start;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (int_only)
		return i == n;
	if (i < n && s[i] == '.') {
		start = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == start)
			return false;
	}
	return i == n;
}

static bool
special_float(const char *s, size_t n)
{
	return eq(s, n, "NaN") || eq(s, n, "Infinity") || eq(s, n, "-Infinity");
}

/* bytes p[0..n) → base64 string (RFC 4648, standard alphabet, padded). */
static void
put_base64(struct jbuf *b, const uint8_t *p, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *d = jbuf_reserve(b, (n + 2) / 3 * 4 + 2);
	size_t i;

	if (d == NULL)
		return;               /* oom is reported by the caller */
	*d++ = '"';
	for (i = 0; i + 2 < n; i += 3) {
		*d++ = b64[p[i] >> 2];
		*d++ = b64[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*d++ = b64[(p[i + 1] & 0x0F) << 2 | p[i + 2] >> 6];
		*d++ = b64[p[i + 2] & 0x3F];
	}
	if (n - i == 1) {
		*d++ = b64[p[i] >> 2];
		*d++ = b64[(p[i] & 0x03) << 4];
		*d++ = '=';
		*d++ = '=';
	} else if (n - i == 2) {
		*d++ = b64[p[i] >> 2];
		*d++ = b64[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*d++ = b64[(p[i + 1] & 0x0F) << 2];
		*d++ = '=';
	}
	*d++ = '"';
	b->len = (size_t) (d - b->data);
}

/* hex digits h[0..n) → base64 string (RFC 4648, standard alphabet, padded). */
static bool
put_hex_as_base64(struct jbuf *b, const char *h, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t nbytes, i, k = 0;
	unsigned char grp[3];
	char *d;

	if (n % 2 != 0)
		return false;
	for (i = 0; i < n; i++)
		if (hexval(h[i]) < 0)
			return false;
	nbytes = n / 2;
	d = jbuf_reserve(b, (nbytes + 2) / 3 * 4 + 2);
	if (d == NULL)
		return true;          /* oom is reported by the caller */
	*d++ = '"';
	for (i = 0; i < nbytes; i++) {
		grp[k++] = (unsigned char) (hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
		if (k == 3) {
			*d++ = b64[grp[0] >> 2];
			*d++ = b64[(grp[0] & 0x03) << 4 | grp[1] >> 4];
			*d++ = b64[(grp[1] & 0x0F) << 2 | grp[2] >> 6];
			*d++ = b64[grp[2] & 0x3F];
			k = 0;
		}
	}
	if (k == 1) {
		*d++ = b64[grp[0] >> 2];
		*d++ = b64[(grp[0] & 0x03) << 4];
		*d++ = '=';
		*d++ = '=';
	} else if (k == 2) {
		*d++ = b64[grp[0] >> 2];
		*d++ = b64[(grp[0] & 0x03) << 4 | grp[1] >> 4];
		*d++ = b64[(grp[1] & 0x0F) << 2];
		*d++ = '=';
	}
	*d++ = '"';
	b->len = (size_t) (d - b->data);
	return true;
}

/* Parse exactly `digits` decimal digits (or, with digits < 0, at least -digits and
 * at most 9) at s[*i]; advances *i. */
static bool
parse_num(const char *s, size_t n, size_t *i, int digits, int64_t *out)
{
	size_t start = *i, min, max;
	int64_t v = 0;

	min = (size_t) (digits < 0 ? -digits : digits);
	max = digits < 0 ? 9 : min;
	while (*i < n && is_digit(s[*i]) && *i - start < max) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i - start < min || (*i < n && is_digit(s[*i])))
		return false;
	*out = v;
	return true;
}

/* ISO date "Y...Y-MM-DD" (year of 4 or more digits) at s[*i]. */
static bool
parse_date(const char *s, size_t n, size_t *i, int64_t *y, int64_t *m, int64_t *d)
{
	if (!parse_num(s, n, i, -4, y) || *i >= n || s[(*i)++] != '-')
		return false;
	if (!parse_num(s, n, i, 2, m) || *i >= n || s[(*i)++] != '-')
		return false;
	if (!parse_num(s, n, i, 2, d))
		return false;
	return *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

/* "HH:MM:SS[.f...]" at s[*i]; frac and fraclen: the fraction including its dot. */
static bool
parse_time(const char *s, size_t n, size_t *i, int64_t *hh, int64_t *mm, int64_t *ss,
           const char **frac, size_t *fraclen)
{
	size_t start;

	if (!parse_num(s, n, i, 2, hh) || *i >= n || s[(*i)++] != ':')
		return false;
	if (!parse_num(s, n, i, 2, mm) || *i >= n || s[(*i)++] != ':')
		return false;
	if (!parse_num(s, n, i, 2, ss))
		return false;
	start = *i;
	if (*i < n && s[*i] == '.') {
		(*i)++;
		while (*i < n && is_digit(s[*i]))
			(*i)++;
		if (*i - start < 2)
			return false;
	}
	*frac = s + start;
	*fraclen = *i - start;
	/* 24:00:00 is a valid time of day; 60 covers a leap second */
	return *hh <= 24 && *mm <= 59 && *ss <= 60;
}

/* A UTC offset "+HH", "+HH:MM" or "+HH:MM:SS" (local mean time zones) at s[*i], in
 * seconds east. */
static bool
parse_offset(const char *s, size_t n, size_t *i, int64_t *off)
{
	int64_t oh, om = 0, os = 0;
	int sign;

	if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
		return false;
	sign = s[(*i)++] == '-' ? -1 : 1;
	if (!parse_num(s, n, i, 2, &oh))
		return false;
	if (*i < n && s[*i] == ':') {
		(*i)++;
		if (!parse_num(s, n, i, 2, &om))
			return false;
		if (*i < n && s[*i] == ':') {
			(*i)++;
			if (!parse_num(s, n, i, 2, &os))
				return false;
		}
	}
	*off = sign * (oh * 3600 + om * 60 + os);
	return true;
}

static bool
is_infinity(const char *s, size_t n)
{
	return eq(s, n, "infinity") || eq(s, n, "-infinity");
}

static void
civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int
map_timestamp(struct jbuf *b, const char *s, size_t n)
{
	int64_t y, mo, d, hh, mi, ss;
	const char *frac;
	size_t i = 0, fl, datelen;

	if (is_infinity(s, n)) {
		jbuf_put_jstring(b, s, n);
		return 0;
	}
	if (!parse_date(s, n, &i, &y, &mo, &d))
		return -1;
	datelen = i;
	if (i >= n || s[i++] != ' ' || !parse_time(s, n, &i, &hh, &mi, &ss, &frac, &fl))
		return -1;
	if (i < n) {
		/* "... BC": no ISO form consumers agree on; keep PostgreSQL's text */
		if (!eq(s + i, n - i, " BC"))
			return -1;
		jbuf_put_jstring(b, s, n);
		return 0;
	}
	jbuf_putc(b, '"');
	jbuf_put(b, s, datelen);
	jbuf_putc(b, 'T');
	jbuf_put(b, s + datelen + 1, n - datelen - 1);
	jbuf_putc(b, '"');
	return 0;
}

static int
map_timestamptz(struct jbuf *b, const char *s, size_t n)
{
	int64_t y, mo, d, hh, mi, ss, off, secs, days, tod;
	const char *frac;
	size_t i = 0, fl;
	char out[96];
	int len;

	if (is_infinity(s, n)) {
		jbuf_put_jstring(b, s, n);
		return 0;
	}
	if (!parse_date(s, n, &i, &y, &mo, &d))
		return -1;
	if (i >= n || s[i++] != ' ' || !parse_time(s, n, &i, &hh, &mi, &ss, &frac, &fl))
		return -1;
	/* Fast path: already UTC ("+00", as pgcdc's TimeZone=UTC session prints it) and
	 * AD: the text is the answer with T and Z. */
	if (n - i == 3 && s[i] == '+' && s[i + 1] == '0' && s[i + 2] == '0' && y >= 1) {
		size_t datelen = 0;

		while (datelen < n && s[datelen] != ' ')
			datelen++;
		jbuf_putc(b, '"');
		jbuf_put(b, s, datelen);
		jbuf_putc(b, 'T');
		jbuf_put(b, s + datelen + 1, i - datelen - 1);
		jbuf_put(b, "Z\"", 2);
		return 0;
	}
	if (!parse_offset(s, n, &i, &off))
		return -1;
	if (i < n) {
		if (!eq(s + i, n - i, " BC"))
			return -1;
		y = 1 - y;            /* 1 BC is astronomical year 0 */
	}
	secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	tod = secs - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	hh = tod / 3600;
	mi = tod / 60 % 60;
	ss = tod % 60;
	if (y >= 1)
		len = snprintf(out, sizeof(out), "\"%04" PRId64 "-%02" PRId64 "-%02" PRId64
		               "T%02" PRId64 ":%02" PRId64 ":%02" PRId64 "%.*sZ\"",
		               y, mo, d, hh, mi, ss, (int) fl, frac);
	else                      /* still BC in UTC: PostgreSQL's form, as for timestamp */
		len = snprintf(out, sizeof(out), "\"%04" PRId64 "-%02" PRId64 "-%02" PRId64
		               " %02" PRId64 ":%02" PRId64 ":%02" PRId64 "%.*s+00 BC\"",
		               1 - y, mo, d, hh, mi, ss, (int) fl, frac);
	if (len < 0 || (size_t) len >= sizeof(out))
		return -1;
	jbuf_put(b, out, (size_t) len);
	return 0;
}

static bool
valid_date(const char *s, size_t n)
{
	int64_t y, m, d;
	size_t i = 0;

	if (is_infinity(s, n))
		return true;
	if (!parse_date(s, n, &i, &y, &m, &d))
		return false;
	return i == n || eq(s + i, n - i, " BC");
}

static bool
valid_time(const char *s, size_t n)
{
	int64_t h, m, sec;
	const char *f;
	size_t i = 0, fl;

	return parse_time(s, n, &i, &h, &m, &sec, &f, &fl) && i == n;
}

/* ISO-8601 duration as IntervalStyle=iso_8601 prints it: "P1Y2M3DT4H5M6.5S",
 * "PT0S", "P-1D", "PT-0.000001S". */
static bool
valid_interval(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != 'P')
		return false;
	for (i = 1; i < n; i++)
		if (!is_digit(s[i]) && (s[i] == '\0' || strchr("YMWDTHS.-", s[i]) == NULL))
			return false;
	return true;
}

static bool
valid_uuid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (hexval(s[i]) < 0)
			return false;
	}
	return true;
}

/* ---- the Debezium profile (SPEC §3a): PostgresValueConverter's mappings ---- */

#define OID_MONEY 790
#define OID_TIMETZ 1266
#define MONEY_SCALE 2                  /* Debezium's money.fraction.digits default */
/* PgStatement.DATE_POSITIVE_INFINITY / _NEGATIVE_INFINITY: what Debezium emits, as
 * microseconds, for a timestamp of infinity / -infinity */
#define DBZ_TS_PINF_US INT64_C(9223372036825200000)
#define DBZ_TS_NINF_US INT64_C(-9223372036832400000)
/* PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE / NEGATIVE_: -5877611-06-21 and
 * -22, as days since the epoch */
#define DBZ_DATE_PINF (-2147472693)
#define DBZ_DATE_NINF (-2147472692)

static void put_i64(struct jbuf *b, int64_t v);
static int64_t floor_div(int64_t a, int64_t b);

/* Saturating arithmetic: text no server sends (a year 10^8) must not overflow;
 * Debezium's own arithmetic is in doubles, cast to long, which saturates too. */
static int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
sat_mul(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	return r;
}


/* bytes → base64 (standard or URL-safe alphabet, padded, as Java's encoders). */
static void
put_b64(struct jbuf *b, const uint8_t *p, size_t n, bool url)
{
	size_t start = b->len;

	put_base64(b, p, n);
	if (url && !b->oom)
		for (size_t i = start; i < b->len; i++) {
			if (b->data[i] == '+')
				b->data[i] = '-';
			else if (b->data[i] == '/')
				b->data[i] = '_';
		}
}

/* A decimal number's digits: sign, digits (no leading zeros but one), scale (digits
 * after the point).  From PostgreSQL's numeric output or a money text (currency
 * symbol and group separators skipped). */
struct dec {
	bool neg;
	char *digits;
	size_t ndigits;
	int scale;
};

static bool
dec_parse(const char *s, size_t n, bool money, struct dec *d)
{
	size_t i;
	bool point = false, any = false;

	memset(d, 0, sizeof(*d));
	if ((d->digits = malloc(n + 1)) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '-' && !any && !point) {
			d->neg = true;
		} else if (ch == '(' && money && !any) {
			d->neg = true;         /* some locales print negative money in parentheses */
		} else if (ch == '.' && !point) {
			point = true;
		} else if (is_digit(ch)) {
			any = true;
			if (d->ndigits == 0 && ch == '0' && !point)
				continue;      /* leading zero */
			d->digits[d->ndigits++] = ch;
			if (point)
				d->scale++;
		} else if (!money || ch == '+' || ch == 'e' || ch == 'E') {
			free(d->digits);
			d->digits = NULL;
			return false;
		}
	}
	if (!any) {
		free(d->digits);
		d->digits = NULL;
		return false;
	}
	return true;
}

/* Bring d to scale s (appending zeros or cutting digits: PostgreSQL already rounded
 * a typed numeric to its scale). */
static bool
dec_rescale(struct dec *d, int s)
{
	if (s > d->scale) {
		char *p = realloc(d->digits, d->ndigits + (size_t) (s - d->scale) + 1);

		if (p == NULL)
			return false;
		d->digits = p;
		while (d->scale < s) {
			d->digits[d->ndigits++] = '0';
			d->scale++;
		}
	} else {
		while (d->scale > s && d->ndigits > 0) {
			d->ndigits--;
			d->scale--;
		}
		d->scale = s;
	}
	return true;
}

/* BigDecimal.stripTrailingZeros, the scale kept at 0 or more (VariableScaleDecimal). */
static void
dec_strip(struct dec *d)
{
	while (d->scale > 0 && d->ndigits > 0 && d->digits[d->ndigits - 1] == '0') {
		d->ndigits--;
		d->scale--;
	}
}

/* The unscaled value as Java's BigInteger.toByteArray: big-endian two's complement,
 * the fewest bytes that keep the sign, then base64 (Kafka Connect's Decimal in
 * JSON). */
static bool
put_unscaled_b64(struct jbuf *b, const struct dec *d, bool url)
{
	size_t nd = d->ndigits, nl = (nd + 8) / 9, cap = nd / 2 + 8, nb = 0;
	uint32_t *limb = malloc((nl + 1) * sizeof(*limb));
	uint8_t *mag = malloc(cap), *out = malloc(cap + 1);
	size_t first = 0, olen;
	bool zero = true;

	if (limb == NULL || mag == NULL || out == NULL) {
		free(limb);
		free(mag);
		free(out);
		return false;
	}
	/* the digits in base 10^9 limbs, most significant first (the first one short) */
	for (size_t i = 0, k = 0; k < nl; k++) {
		size_t len = k == 0 ? nd - (nl - 1) * 9 : 9;
		uint32_t v = 0;

		for (size_t j = 0; j < len; j++)
			v = v * 10 + (uint32_t) (d->digits[i++] - '0');
		limb[k] = v;
		zero = zero && v == 0;
	}
	/* magnitude in base 256, least significant byte first: divide by 2^32 until
	 * nothing is left (quadratic in the digits, but with 9 at a time: 147,000 digits,
	 * numeric's most, take about 0.1 s) */
	while (first < nl) {
		uint64_t rem = 0;

		for (size_t i = first; i < nl; i++) {
			uint64_t cur = rem * 1000000000u + limb[i];

			limb[i] = (uint32_t) (cur >> 32);
			rem = cur & 0xFFFFFFFFu;
		}
		for (int k = 0; k < 4; k++) {
			mag[nb++] = (uint8_t) rem;
			rem >>= 8;
		}
		while (first < nl && limb[first] == 0)
			first++;
	}
	while (nb > 0 && mag[nb - 1] == 0)
		nb--;
	if (zero || nb == 0) {
		out[0] = 0;
		olen = 1;
	} else if (!d->neg) {
		olen = 0;
		if (mag[nb - 1] & 0x80)
			out[olen++] = 0;
		for (size_t i = nb; i-- > 0;)
			out[olen++] = mag[i];
	} else {
		unsigned carry = 1;

		/* two's complement of the magnitude, in place (least significant first) */
		for (size_t i = 0; i < nb; i++) {
			unsigned v = (unsigned) (uint8_t) ~mag[i] + carry;

			mag[i] = (uint8_t) v;
			carry = v >> 8;
		}
		olen = 0;
		if (!(mag[nb - 1] & 0x80))
			out[olen++] = 0xFF;
		for (size_t i = nb; i-- > 0;)
			out[olen++] = mag[i];
	}
	put_b64(b, out, olen, url);
	free(limb);
	free(mag);
	free(out);
	return true;
}

/* The plain text of d (BigDecimal.toPlainString). */
static void
put_dec_plain(struct jbuf *b, const struct dec *d, bool quoted)
{
	size_t ip = d->ndigits > (size_t) d->scale ? d->ndigits - (size_t) d->scale : 0;

	if (quoted)
		jbuf_putc(b, '"');
	if (d->neg && d->ndigits > 0)
		jbuf_putc(b, '-');
	if (ip == 0)
		jbuf_putc(b, '0');
	else
		jbuf_put(b, d->digits, ip);
	if (d->scale > 0) {
		jbuf_putc(b, '.');
		for (size_t z = d->ndigits - ip; z < (size_t) d->scale; z++)
			jbuf_putc(b, '0');
		jbuf_put(b, d->digits + ip, d->ndigits - ip);
	}
	if (quoted)
		jbuf_putc(b, '"');
}

/* A double as Java's Double.toString writes it (shortest digits that read back,
 * plain between 10^-3 and 10^7, else d.dddE±n), which Kafka Connect's JSON has. */
static void
put_java_double(struct jbuf *b, double v)
{
	char digs[40], out[64];
	int exp10 = 0, nd = 0, len;

	if (isnan(v) || isinf(v)) {
		jbuf_puts(b, isnan(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	if (v == 0) {
		jbuf_puts(b, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		char tmp[40];

		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(v));
		if (strtod(tmp, NULL) == fabs(v) || prec == 17) {
			char *e = strchr(tmp, 'e');

			exp10 = atoi(e + 1);
			nd = 0;
			for (char *p = tmp; p < e; p++)
				if (is_digit(*p))
					digs[nd++] = *p;
			while (nd > 1 && digs[nd - 1] == '0')
				nd--;
			break;
		}
	}
	len = 0;
	if (v < 0)
		out[len++] = '-';
	if (fabs(v) >= 1e-3 && fabs(v) < 1e7) {
		if (exp10 >= 0) {
			for (int i = 0; i <= exp10; i++)
				out[len++] = i < nd ? digs[i] : '0';
			out[len++] = '.';
			if (nd > exp10 + 1)
				for (int i = exp10 + 1; i < nd; i++)
					out[len++] = digs[i];
			else
				out[len++] = '0';
		} else {
			out[len++] = '0';
			out[len++] = '.';
			for (int i = -1; i > exp10; i--)
				out[len++] = '0';
			for (int i = 0; i < nd; i++)
				out[len++] = digs[i];
		}
	} else {
		out[len++] = digs[0];
		out[len++] = '.';
		if (nd > 1)
			for (int i = 1; i < nd; i++)
				out[len++] = digs[i];
		else
			out[len++] = '0';
		len += snprintf(out + len, sizeof(out) - (size_t) len, "E%d", exp10);
	}
	jbuf_put(b, out, (size_t) len);
}

/* numeric and money under decimal_handling_mode. */
static int
dbz_decimal(struct jbuf *b, struct map_ctx *c, bool money, const char *s, size_t n)
{
	const struct json_opts *o = c->o;
	int32_t typmod = c->typmod;
	struct dec d;
	bool ok = true;

	if (!money && special_float(s, n)) {
		/* precise cannot carry them: null, as Debezium; string: SpecialValueDecimal's
		 * names; double: the IEEE values, which JSON quotes */
		if (o->decimal_mode == JSON_DECIMAL_STRING)
			jbuf_puts(b, s[0] == 'N' ? "\"NAN\"" : s[0] == '-' ? "\"NEGATIVE_INFINITY\""
			                                                   : "\"POSITIVE_INFINITY\"");
		else if (o->decimal_mode == JSON_DECIMAL_DOUBLE)
			jbuf_put_jstring(b, s, n);
		else
			jbuf_puts(b, "null");
		return 0;
	}
	if (!dec_parse(s, n, money, &d))
		return -1;
	if (money)
		ok = dec_rescale(&d, MONEY_SCALE);
	else if (typmod >= 4)
		ok = dec_rescale(&d, (int) ((typmod - 4) & 0xFFFF));
	if (ok) {
		switch (o->decimal_mode) {
		case JSON_DECIMAL_STRING:
			put_dec_plain(b, &d, true);
			break;
		case JSON_DECIMAL_DOUBLE: {
			struct jbuf t = { 0 };

			put_dec_plain(&t, &d, false);
			jbuf_putc(&t, '\0');
			if (t.oom)
				ok = false;
			else
				put_java_double(b, strtod(t.data, NULL));
			jbuf_free(&t);
			break;
		}
		default:
			if (money || typmod >= 4) {
				ok = put_unscaled_b64(b, &d, false);
			} else {
				/* no scale declared: io.debezium.data.VariableScaleDecimal */
				dec_strip(&d);
				JBUF_LIT(b, "{\"scale\":");
				put_i64(b, d.scale);
				JBUF_LIT(b, ",\"value\":");
				ok = put_unscaled_b64(b, &d, false);
				jbuf_putc(b, '}');
			}
			break;
		}
	}
	free(d.digits);
	if (!ok)
		b->oom = true;
	return 0;
}

/* "HH:MM:SS[.f]" → microseconds of the day (24:00:00 is a day's worth). */
static bool
time_micros(const char *s, size_t n, size_t *i, int64_t *us)
{
	int64_t hh, mi, ss, f = 0;
	const char *frac;
	size_t fl;

	if (!parse_time(s, n, i, &hh, &mi, &ss, &frac, &fl))
		return false;
	for (size_t k = 1; k < 7; k++)
		f = f * 10 + (k < fl ? frac[k] - '0' : 0);
	*us = ((hh * 60 + mi) * 60 + ss) * 1000000 + f;
	return true;
}

/* "Y-M-D HH:MM:SS[.f][ BC]" → microseconds since the epoch (proleptic Gregorian,
 * as java.time).  *i is left after the time (an offset may follow). */
static bool
timestamp_micros(const char *s, size_t n, size_t *i, int64_t *us, bool *bc)
{
	int64_t y, mo, d, tod;
	size_t end = n;

	*bc = n > 3 && eq(s + n - 3, 3, " BC");
	if (*bc)
		end = n - 3;
	if (!parse_date(s, end, i, &y, &mo, &d) || *i >= end || s[(*i)++] != ' ')
		return false;
	if (!time_micros(s, end, i, &tod))
		return false;
	if (*bc)
		y = 1 - y;
	*us = sat_add(sat_mul(days_from_civil(y, mo, d), INT64_C(86400000000)), tod);
	return true;
}

/* An ISO year as java.time prints it: 4 digits, a sign past 9999 or before 0. */
static void
put_iso_year(struct jbuf *b, int64_t y)
{
	char tmp[32];
	int len;

	if (y > 9999)
		len = snprintf(tmp, sizeof(tmp), "+%" PRId64, y);
	else if (y < 0)
		len = snprintf(tmp, sizeof(tmp), "-%04" PRId64, -y);
	else
		len = snprintf(tmp, sizeof(tmp), "%04" PRId64, y);
	jbuf_put(b, tmp, (size_t) len);
}

/* "HH:MM:SS" and the fraction of us: width digits (0: as many as needed, none for
 * a whole second), as Debezium's ZonedTimestamp / ZonedTime formatters. */
static void
put_clock(struct jbuf *b, int64_t tod_us, int width)
{
	char tmp[40];
	int64_t f = tod_us % 1000000, sec = tod_us / 1000000;
	int len = snprintf(tmp, sizeof(tmp), "%02" PRId64 ":%02" PRId64 ":%02" PRId64,
	                   sec / 3600, sec / 60 % 60, sec % 60);

	jbuf_put(b, tmp, (size_t) len);
	if (width > 0) {
		len = snprintf(tmp, sizeof(tmp), ".%06" PRId64, f);
		jbuf_put(b, tmp, (size_t) (width < 6 ? width + 1 : 7));
	} else if (f != 0) {
		len = snprintf(tmp, sizeof(tmp), ".%06" PRId64, f);
		while (tmp[len - 1] == '0')
			len--;
		jbuf_put(b, tmp, (size_t) len);
	}
}

/* timestamptz: UTC, ISO-8601 with the column's precision in fraction digits. */
static int
dbz_timestamptz(struct jbuf *b, struct map_ctx *c, const char *s, size_t n)
{
	int64_t us, days, tod, y, mo, d, off;
	size_t i = 0, end = n;
	bool bc = n > 3 && eq(s + n - 3, 3, " BC");
	char tmp[16];

	if (is_infinity(s, n)) {
		jbuf_put_jstring(b, s, n);
		return 0;
	}
	if (bc)
		end = n - 3;
	if (!parse_date(s, end, &i, &y, &mo, &d) || i >= end || s[i++] != ' ' ||
	    !time_micros(s, end, &i, &tod))
		return -1;
	if (!parse_offset(s, end, &i, &off) || i != end)
		return -1;
	if (bc)
		y = 1 - y;
	us = sat_add(sat_mul(days_from_civil(y, mo, d), INT64_C(86400000000)), tod - off * 1000000);
	days = floor_div(us, INT64_C(86400000000));
	tod = us - days * INT64_C(86400000000);
	civil_from_days(days, &y, &mo, &d);
	jbuf_putc(b, '"');
	put_iso_year(b, y);
	snprintf(tmp, sizeof(tmp), "-%02d-%02dT", (int) mo, (int) d);
	jbuf_put(b, tmp, 7);
	put_clock(b, tod, json_time_precision(c->typmod));
	jbuf_put(b, "Z\"", 2);
	return 0;
}

/* timetz: the time in UTC, "HH:MM:SS[.f]Z" (ZonedTime). */
static int
dbz_timetz(struct jbuf *b, const char *s, size_t n)
{
	int64_t tod, off, day = INT64_C(86400000000);
	size_t i = 0;

	if (!time_micros(s, n, &i, &tod) || !parse_offset(s, n, &i, &off) || i != n)
		return -1;
	tod -= off * 1000000;
	tod = ((tod % day) + day) % day;
	jbuf_putc(b, '"');
	put_clock(b, tod, 0);
	jbuf_put(b, "Z\"", 2);
	return 0;
}

/* An ISO-8601 duration as IntervalStyle=iso_8601 prints it → its components. */
struct ival {
	int64_t y, m, d, h, mi;
	int64_t sec_us;          /* seconds and fraction, in microseconds */
	struct dec sec;          /* the seconds as written */
};

static bool
ival_parse(const char *s, size_t n, struct ival *v)
{
	size_t i = 1;
	bool t = false;

	memset(v, 0, sizeof(*v));
	if (n < 2 || s[0] != 'P')
		return false;
	while (i < n) {
		size_t start = i;
		bool neg = false;
		int64_t whole = 0, frac = 0;
		int fd = 0;

		if (s[i] == 'T') {
			t = true;
			i++;
			continue;
		}
		if (s[i] == '-') {
			neg = true;
			i++;
		}
		if (i >= n || !is_digit(s[i]))
			return false;
		while (i < n && is_digit(s[i])) {
			if (whole > (INT64_MAX - 9) / 10)
				return false;
			whole = whole * 10 + (s[i++] - '0');
		}
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && is_digit(s[i])) {
				if (fd < 6) {
					frac = frac * 10 + (s[i] - '0');
					fd++;
				}
				i++;
			}
		}
		if (i >= n)
			return false;
		if (neg)
			whole = -whole;
		switch (s[i++]) {
		case 'Y': v->y = whole; break;
		case 'M': if (t) v->mi = whole; else v->m = whole; break;
		case 'W': v->d = sat_add(v->d, sat_mul(whole, 7)); break;
		case 'D': v->d = sat_add(v->d, whole); break;
		case 'H': v->h = whole; break;
		case 'S':
			while (fd < 6) {
				frac *= 10;
				fd++;
			}
			v->sec_us = sat_add(sat_mul(whole, 1000000), neg ? -frac : frac);
			free(v->sec.digits);
			if (!dec_parse(s + start, i - 1 - start, false, &v->sec))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

static int
dbz_interval(struct jbuf *b, struct map_ctx *c, const char *s, size_t n)
{
	struct ival v;
	char tmp[160];
	int len;

	if (!ival_parse(s, n, &v)) {
		free(v.sec.digits);
		return -1;
	}
	if (c->o->interval_string) {
		/* Interval.toIsoString: every component, seconds stripped of trailing zeros */
		len = snprintf(tmp, sizeof(tmp), "\"P%" PRId64 "Y%" PRId64 "M%" PRId64 "DT%" PRId64
		               "H%" PRId64 "M", v.y, v.m, v.d, v.h, v.mi);
		jbuf_put(b, tmp, (size_t) len);
		if (v.sec.digits != NULL) {
			dec_strip(&v.sec);
			put_dec_plain(b, &v.sec, false);
		} else {
			jbuf_putc(b, '0');
		}
		jbuf_put(b, "S\"", 2);
	} else {
		/* MicroDuration: months of 365.25 / 12 days (2,629,800 s), exactly */
		int64_t secs = sat_add(sat_add(sat_mul(sat_add(sat_mul(v.y, 12), v.m), INT64_C(2629800)),
		                               sat_mul(v.d, 86400)),
		                       sat_add(sat_mul(v.h, 3600), sat_mul(v.mi, 60)));
		int64_t us = sat_add(sat_mul(secs, 1000000), v.sec_us);

		put_i64(b, us);
	}
	free(v.sec.digits);
	return 0;
}

/* bytea ("\x..." hex) under binary_handling_mode. */
static int
dbz_bytea(struct jbuf *b, const struct json_opts *o, const char *s, size_t n)
{
	size_t nb;
	uint8_t *p;

	if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n - 2) % 2 != 0)
		return -1;
	for (size_t i = 2; i < n; i++)
		if (hexval(s[i]) < 0)
			return -1;
	if (o->binary_mode == JSON_BINARY_HEX) {
		jbuf_putc(b, '"');
		jbuf_put(b, s + 2, n - 2);   /* bytea_output=hex: lower case, as Debezium's */
		jbuf_putc(b, '"');
		return 0;
	}
	nb = (n - 2) / 2;
	if ((p = malloc(nb + 1)) == NULL) {
		b->oom = true;
		return 0;
	}
	for (size_t i = 0; i < nb; i++)
		p[i] = (uint8_t) (hexval(s[2 + 2 * i]) << 4 | hexval(s[3 + 2 * i]));
	put_b64(b, p, nb, o->binary_mode == JSON_BINARY_BASE64_URL);
	free(p);
	return 0;
}

/* One double-quoted hstore token ("...", backslash escapes) at s[*i], unescaped
 * into a JSON string; false when there is none. */
static bool
hstore_token(struct jbuf *b, const char *s, size_t n, size_t *i)
{
	size_t start;
	char *t;
	size_t k = 0;

	if (*i >= n || s[*i] != '"')
		return false;
	start = ++*i;
	for (; *i < n && s[*i] != '"'; (*i)++)
		if (s[*i] == '\\')
			(*i)++;
	if (*i >= n)
		return false;
	if ((t = malloc(*i - start + 1)) == NULL) {
		b->oom = true;
		return true;
	}
	for (size_t j = start; j < *i; j++) {
		if (s[j] == '\\')
			j++;
		t[k++] = s[j];
	}
	jbuf_put_jstring(b, t, k);
	free(t);
	(*i)++;
	return true;
}

/* hstore, hstore.handling.mode = json: io.debezium.data.Json, the map as a JSON
 * object in a string ({"a":"1","b":null}); keys in the server's order. */
static int
dbz_hstore(struct jbuf *b, const char *s, size_t n)
{
	struct jbuf j = { 0 };
	size_t i = 0;
	bool first = true;
	int rc = 0;

	jbuf_putc(&j, '{');
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == ','))
			i++;
		if (i >= n)
			break;
		if (!first)
			jbuf_putc(&j, ',');
		first = false;
		if (!hstore_token(&j, s, n, &i) || i + 2 > n || s[i] != '=' || s[i + 1] != '>') {
			rc = -1;
			break;
		}
		i += 2;
		jbuf_putc(&j, ':');
		if (i + 4 <= n && memcmp(s + i, "NULL", 4) == 0) {
			jbuf_puts(&j, "null");
			i += 4;
		} else if (!hstore_token(&j, s, n, &i)) {
			rc = -1;
			break;
		}
	}
	jbuf_putc(&j, '}');
	if (rc == 0 && j.oom)
		b->oom = true;
	else if (rc == 0)
		jbuf_put_jstring(b, j.data, j.len);
	jbuf_free(&j);
	return rc;
}

/* bit(n), varbit(n): a boolean for n = 1, else io.debezium.data.Bits, the bits as a
 * little-endian number in as few bytes as its highest set bit needs (Debezium's
 * BitSet.toByteArray); "101" is 0x05. */
static int
dbz_bits(struct jbuf *b, struct map_ctx *c, const char *s, size_t n)
{
	uint8_t *p;
	size_t nb = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '0' && s[i] != '1')
			return -1;
	if (c->typmod == 1) {
		jbuf_puts(b, memchr(s, '1', n) != NULL ? "true" : "false");
		return 0;
	}
	if ((p = calloc(n / 8 + 1, 1)) == NULL) {
		b->oom = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (s[n - 1 - i] == '1') {
			p[i / 8] |= (uint8_t) (1u << (i % 8));
			nb = i / 8 + 1;
		}
	/* Bits are bytes whatever binary_handling_mode says (it is bytea's) */
	put_base64(b, p, nb);
	free(p);
	return 0;
}

/* The Debezium mapping of one value: 0, -1 (cannot be mapped), or 1 when the kind
 * maps as in the pgcdc profile. */
static int
map_debezium(struct jbuf *b, struct map_ctx *c, uint32_t oid, const struct cdc_typedesc *td,
             const char *s, size_t n)
{
	const struct json_opts *o = c->o;
	int64_t us, y, mo, d;
	size_t i = 0;
	bool bc;

	if (oid == OID_MONEY)
		return dbz_decimal(b, c, true, s, n);
	if ((oid == CDC_OID_BIT || oid == CDC_OID_VARBIT) && c->typmod >= 1)
		return dbz_bits(b, c, s, n);
	if (td->kind == CDC_T_STRING && types_is(c->types, oid, "hstore"))
		return dbz_hstore(b, s, n);
	if (oid == OID_TIMETZ)
		return dbz_timetz(b, s, n);
	switch (td->kind) {
	case CDC_T_NUMERIC:
		return dbz_decimal(b, c, false, s, n);
	case CDC_T_BYTEA:
		return dbz_bytea(b, o, s, n);
	case CDC_T_DATE:
		/* io.debezium.time.Date: days since the epoch.  Debezium reads 'infinity' as
		 * its POSITIVE_INFINITY_LOCAL_DATE, -5877611-06-21 (-infinity the day after),
		 * whose epoch days it emits */
		if (is_infinity(s, n)) {
			put_i64(b, s[0] == '-' ? DBZ_DATE_NINF : DBZ_DATE_PINF);
			return 0;
		}
		bc = n > 3 && eq(s + n - 3, 3, " BC");
		if (!parse_date(s, bc ? n - 3 : n, &i, &y, &mo, &d) || i != (bc ? n - 3 : n))
			return -1;
		put_i64(b, days_from_civil(bc ? 1 - y : y, mo, d));
		return 0;
	case CDC_T_TIME:
		/* Time (ms, int32) up to precision 3, MicroTime (µs) above; connect: ms */
		if (!time_micros(s, n, &i, &us) || i != n)
			return -1;
		if (o->time_mode == JSON_TIME_CONNECT ||
		    (o->time_mode == JSON_TIME_ADAPTIVE && json_time_precision(c->typmod) <= 3))
			us /= 1000;
		put_i64(b, us);
		return 0;
	case CDC_T_TIMESTAMP:
		/* Timestamp (ms) up to precision 3, MicroTimestamp (µs) above; connect: ms */
		if (is_infinity(s, n))
			us = s[0] == '-' ? DBZ_TS_NINF_US : DBZ_TS_PINF_US;
		else if (!timestamp_micros(s, n, &i, &us, &bc) || i != (bc ? n - 3 : n))
			return -1;
		if (o->time_mode == JSON_TIME_CONNECT || json_time_precision(c->typmod) <= 3)
			us = floor_div(us, 1000);
		put_i64(b, us);
		return 0;
	case CDC_T_TIMESTAMPTZ:
		return dbz_timestamptz(b, c, s, n);
	case CDC_T_INTERVAL:
		return dbz_interval(b, c, s, n);
	default:
		return 1;
	}
}

static int map_text(struct jbuf *b, struct map_ctx *c, uint32_t oid,
                    const struct cdc_typedesc *td, const char *s, size_t n);

/* Unescape an array element (a backslash makes the next byte literal) and map
 * it: on the stack when small, else on the heap (a rare path: only non-text
 * element types with escapes, such as arrays of domains over arrays, get here). */
static int
map_unescaped(struct jbuf *b, struct map_ctx *c, const struct cdc_typedesc *ed,
              const char *s, size_t n)
{
	char stackbuf[UNESCAPE_STACK] = "", *buf;
	size_t i, k = 0;
	int rc;

	buf = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
	if (buf == NULL)
		return cdc_errf(c->err, CDC_ERR_NOMEM, "out of memory unescaping an array element "
		                "of type oid %u", c->top_oid);
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		buf[k++] = s[i];
	}
	rc = map_text(b, c, ed->base_oid, ed, buf, k);
	if (buf != stackbuf)
		free(buf);
	return rc;
}

/* Element of an array, raw from the array text: unquoted, or the inside of a
 * quoted element with backslash escapes still in it (esc says whether any). */
static int
map_element(struct jbuf *b, struct map_ctx *c, const struct cdc_typedesc *ed,
            const char *s, size_t n, bool esc)
{
	if (!esc)
		return map_text(b, c, ed->base_oid, ed, s, n);
	if (ed->kind == CDC_T_STRING || ed->kind == CDC_T_JSON) {
		put_pg_unescaped_jstring(b, s, n);
		return 0;
	}
	if (ed->kind == CDC_T_BYTEA && n >= 3 && s[0] == '\\' && s[1] == '\\' && s[2] == 'x'
	    && memchr(s + 3, '\\', n - 3) == NULL) {
		if (!put_hex_as_base64(b, s + 3, n - 3))
			return map_fail(c, ed->base_oid, ed->kind, s, n);
		return 0;
	}
	return map_unescaped(b, c, ed, s, n);
}

static bool
skip_space(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'
	                  || s[*i] == '\v' || s[*i] == '\f'))
		(*i)++;
	return *i < n;
}

/* One brace level "{e,e,...}" at s[*i] → "[...]". */
static int
map_array_level(struct jbuf *b, struct map_ctx *c, const struct cdc_typedesc *ed, char delim,
                const char *s, size_t n, size_t *i, int level)
{
	int rc;

	if (level >= ARRAY_MAX_DEPTH || *i >= n || s[*i] != '{')
		return ARR_SYNTAX;
	(*i)++;
	jbuf_putc(b, '[');
	if (skip_space(s, n, i) && s[*i] == '}') {
		(*i)++;
		jbuf_putc(b, ']');
		return 0;
	}
	for (;;) {
		if (!skip_space(s, n, i))
			return ARR_SYNTAX;
		if (s[*i] == '{') {
			if ((rc = map_array_level(b, c, ed, delim, s, n, i, level + 1)) != 0)
				return rc;
		} else if (s[*i] == '"') {
			size_t start = ++(*i);
			bool esc = false;

			while (*i < n && s[*i] != '"') {
				if (s[*i] == '\\') {
					esc = true;
					(*i)++;
				}
				(*i)++;
			}
			if (*i >= n)
				return ARR_SYNTAX;
			if ((rc = map_element(b, c, ed, s + start, *i - start, esc)) != 0)
				return rc;
			(*i)++;
		} else {
			size_t start = *i, end;
			bool esc = false;

			while (*i < n && s[*i] != delim && s[*i] != '}' && s[*i] != '{'
			       && s[*i] != '"') {
				if (s[*i] == '\\') {
					esc = true;
					(*i)++;
				}
				(*i)++;
			}
			if (*i > n)
				return ARR_SYNTAX;
			end = *i;
			while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'
			                       || s[end - 1] == '\n' || s[end - 1] == '\r'))
				end--;
			if (end == start)
				return ARR_SYNTAX;
			if (!esc && end - start == 4 && strncasecmp(s + start, "NULL", 4) == 0)
				jbuf_put(b, "null", 4);
			else if ((rc = map_element(b, c, ed, s + start, end - start, esc)) != 0)
				return rc;
		}
		if (!skip_space(s, n, i))
			return ARR_SYNTAX;
		if (s[*i] == '}') {
			(*i)++;
			jbuf_putc(b, ']');
			return 0;
		}
		if (s[*i] != delim)
			return ARR_SYNTAX;
		(*i)++;
		jbuf_putc(b, ',');
	}
}

/* Array text "{...}", optionally with a "[lo:hi]...=" dimension prefix (dropped). */
static int
map_array(struct jbuf *b, struct map_ctx *c, uint32_t oid, const struct cdc_typedesc *td,
          const char *s, size_t n)
{
	struct cdc_typedesc ed;
	size_t i = 0;
	int rc;

	if (c->depth >= ARRAY_MAX_DEPTH)
		return map_fail(c, oid, td->kind, s, n);
	types_resolve(c->types, td->elem_oid, &ed);
	skip_space(s, n, &i);
	if (i < n && s[i] == '[') {
		const char *eqp = memchr(s + i, '=', n - i);

		if (eqp == NULL)
			return map_fail(c, oid, td->kind, s, n);
		i = (size_t) (eqp - s) + 1;
		skip_space(s, n, &i);
	}
	c->depth++;
	rc = map_array_level(b, c, &ed, td->delim ? td->delim : ',', s, n, &i, 0);
	c->depth--;
	if (rc == 0 && skip_space(s, n, &i))
		rc = ARR_SYNTAX;      /* text after the closing brace */
	if (rc == ARR_SYNTAX)
		return map_fail(c, oid, td->kind, s, n);
	return rc;                /* 0, or an element's error (already recorded) */
}

/* Map s[0..n), the text output of a value of type oid resolved to td.  Returns
 * 0, or a negative cdc_errcode with c->err filled. */
static int
map_text(struct jbuf *b, struct map_ctx *c, uint32_t oid, const struct cdc_typedesc *td,
         const char *s, size_t n)
{
	if (c->o != NULL && c->o->debezium) {
		int rc = map_debezium(b, c, oid, td, s, n);

		if (rc < 0)
			goto bad;
		if (rc == 0)
			return 0;
	}
	switch (td->kind) {
	case CDC_T_INT:
		if (!json_number(s, n, true))
			goto bad;
		jbuf_put(b, s, n);
		return 0;
	case CDC_T_FLOAT:
		if (special_float(s, n))
			jbuf_put_jstring(b, s, n);
		else if (json_number(s, n, false))
			jbuf_put(b, s, n);
		else
			goto bad;
		return 0;
	case CDC_T_NUMERIC:
		if (special_float(s, n))
			jbuf_put_jstring(b, s, n);
		else if (!json_number(s, n, false))
			goto bad;
		else if (c->o != NULL && c->o->numeric_as_number)
			jbuf_put(b, s, n);
		else
			jbuf_put_jstring(b, s, n);
		return 0;
	case CDC_T_BOOL:
		if (eq(s, n, "t") || eq(s, n, "true"))
			jbuf_put(b, "true", 4);
		else if (eq(s, n, "f") || eq(s, n, "false"))
			jbuf_put(b, "false", 5);
		else
			goto bad;
		return 0;
	case CDC_T_BYTEA:
		if (n < 2 || s[0] != '\\' || s[1] != 'x' || !put_hex_as_base64(b, s + 2, n - 2))
			goto bad;
		return 0;
	case CDC_T_DATE:
		if (!valid_date(s, n))
			goto bad;
		jbuf_put_jstring(b, s, n);
		return 0;
	case CDC_T_TIME:
		if (!valid_time(s, n))
			goto bad;
		jbuf_put_jstring(b, s, n);
		return 0;
	case CDC_T_TIMESTAMP:
		if (map_timestamp(b, s, n) != 0)
			goto bad;
		return 0;
	case CDC_T_TIMESTAMPTZ:
		if (map_timestamptz(b, s, n) != 0)
			goto bad;
		return 0;
	case CDC_T_INTERVAL:
		if (!valid_interval(s, n))
			goto bad;
		jbuf_put_jstring(b, s, n);
		return 0;
	case CDC_T_UUID:
		if (!valid_uuid(s, n))
			goto bad;
		jbuf_put_jstring(b, s, n);
		return 0;
	case CDC_T_ARRAY:
		return map_array(b, c, oid, td, s, n);
	case CDC_T_JSON:
	case CDC_T_STRING:
		jbuf_put_jstring(b, s, n);
		return 0;
	}
bad:
	return map_fail(c, oid, td->kind, s, n);
}

/* Debezium's placeholder for an unchanged TOASTed value of type typoid
 * (UnchangedToastedPlaceholder): the placeholder's bytes for bytea, one-element
 * lists for text-like, bytea and uuid arrays (the uuid named from its bytes), its
 * bytes as numbers for integer and date arrays, else the placeholder string. */
static void
put_dbz_unchanged(struct jbuf *b, struct map_ctx *c, uint32_t typoid)
{
	static const char str[] = "\"" CDC_UNAVAILABLE_VALUE "\"";
	static const char b64[] = "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"";
	static const char hex[] = "\"5f5f646562657a69756d5f756e617661696c61626c655f76616c7565\"";
	struct cdc_typedesc td, ed;
	uint32_t elem;

	types_resolve(c->types, typoid, &td);
	if (td.kind == CDC_T_BYTEA) {
		jbuf_puts(b, c->o->binary_mode == JSON_BINARY_HEX ? hex : b64);
		return;
	}
	if (td.kind != CDC_T_ARRAY || td.elem_oid == 0) {
		jbuf_puts(b, str);
		return;
	}
	types_resolve(c->types, td.elem_oid, &ed);
	elem = ed.base_oid != 0 ? ed.base_oid : td.elem_oid;
	switch (elem) {
	case CDC_OID_TEXT: case CDC_OID_VARCHAR: case CDC_OID_BPCHAR: case CDC_OID_JSON:
	case CDC_OID_JSONB:
		jbuf_putc(b, '[');
		jbuf_puts(b, str);
		jbuf_putc(b, ']');
		return;
	case CDC_OID_BYTEA:
		jbuf_putc(b, '[');
		jbuf_puts(b, c->o->binary_mode == JSON_BINARY_HEX ? hex : b64);
		jbuf_putc(b, ']');
		return;
	case CDC_OID_INT4: case CDC_OID_DATE: case CDC_OID_INT8:
		jbuf_putc(b, '[');
		for (size_t i = 0; i < sizeof(CDC_UNAVAILABLE_VALUE) - 1; i++) {
			if (i > 0)
				jbuf_putc(b, ',');
			put_i64(b, (unsigned char) CDC_UNAVAILABLE_VALUE[i]);
		}
		jbuf_putc(b, ']');
		return;
	case CDC_OID_UUID:
		jbuf_puts(b, "[\"b68a35a7-17ad-35b3-af2a-ae46edb4545a\"]");
		return;
	default:
		jbuf_puts(b, str);
		return;
	}
}

static int
put_value(struct jbuf *b, struct map_ctx *c, uint32_t typoid, const struct cdc_value *v)
{
	struct cdc_typedesc td;
	size_t start = b->len;
	int rc;

	if (v == NULL || v->kind == CDC_VAL_NULL) {
		jbuf_put(b, "null", 4);
		return 0;
	}
	if (v->kind == CDC_VAL_UNCHANGED) {
		if (c->o != NULL && c->o->debezium)
			put_dbz_unchanged(b, c, typoid);
		else
			jbuf_put_jstring(b, CDC_UNAVAILABLE_VALUE, sizeof(CDC_UNAVAILABLE_VALUE) - 1);
		return 0;
	}
	if (v->kind != CDC_VAL_TEXT)
		return cdc_errf(c->err, CDC_ERR_PROTO, "cannot map value of type oid %u: "
		                "value kind '%c' is not text (pgcdc requests text format)",
		                typoid, v->kind >= 0x20 && v->kind < 0x7F ? v->kind : '?');
	if (v->data == NULL && v->len > 0)
		return cdc_errf(c->err, CDC_ERR_PROTO, "cannot map value of type oid %u: "
		                "%u bytes announced, no data", typoid, v->len);
	c->top_oid = typoid;
	c->depth = 0;
	types_resolve(c->types, typoid, &td);
	rc = map_text(b, c, typoid, &td, v->len > 0 ? v->data : "", v->len);
	if (rc != 0)
		b->len = start;
	return rc;
}

static int
check_oom(struct jbuf *b, size_t start, struct cdc_err *err)
{
	if (!b->oom)
		return 0;
	if (b->len > start)
		b->len = start;
	return cdc_errf(err, CDC_ERR_NOMEM, "out of memory encoding a JSON record");
}

int
json_put_value(struct jbuf *b, const struct cdc_types *types, uint32_t typoid,
               const struct cdc_value *v, const struct json_opts *o, struct cdc_err *err)
{
	return json_put_column_value(b, types, typoid, -1, v, o, err);
}

int
json_put_column_value(struct jbuf *b, const struct cdc_types *types, uint32_t typoid,
                      int32_t typmod, const struct cdc_value *v, const struct json_opts *o,
                      struct cdc_err *err)
{
	struct map_ctx c = { .types = types, .o = o, .err = err, .top_oid = typoid, .typmod = typmod };
	size_t start = b->len;
	int rc;

	if (b->oom)
		return check_oom(b, start, err);
	rc = put_value(b, &c, typoid, v);
	if (rc != 0) {
		b->len = start;
		return rc;
	}
	return check_oom(b, start, err);
}

/* ------------------------------------------------------------ envelope */

/* {"col":value,...} of rel's columns from t: all of them, or only the replica
 * identity columns (cdc_column.key) with keys_only. */
static int
put_row(struct jbuf *b, struct map_ctx *c, const struct cdc_rel *rel,
        const struct cdc_tuple *t, bool keys_only)
{
	bool first = true;
	int i, rc;

	jbuf_putc(b, '{');
	for (i = 0; i < rel->ncols; i++) {
		const struct cdc_column *col = &rel->cols[i];
		const struct cdc_value *v = tuple_val(t, i);

		/* Debezium's before of a key-only identity has every column, the others null */
		if (keys_only && !col->key && (c->o == NULL || !c->o->debezium))
			continue;
		if (v != NULL && v->kind == CDC_VAL_UNCHANGED && c->o != NULL
		    && c->o->omit_unchanged_toast)
			continue;
		if (!first)
			jbuf_putc(b, ',');
		first = false;
		put_cstr(b, col->name != NULL ? col->name : "");
		jbuf_putc(b, ':');
		c->typmod = col->typmod;
		if (keys_only && !col->key && col->notnull)
			/* Debezium's converters never give a NOT NULL column null */
			connect_required_null(b, c->types, col, c->o);
		else if (keys_only && !col->key)
			jbuf_put(b, "null", 4);
		else if ((rc = put_value(b, c, col->type_oid, v)) != 0)
			return rc;
	}
	jbuf_putc(b, '}');
	return 0;
}

static bool
has_key_cols(const struct cdc_rel *rel)
{
	int i;

	for (i = 0; i < rel->ncols; i++)
		if (rel->cols[i].key)
			return true;
	return false;
}

/* The before image per SPEC §3: what the replica identity provides. */
static int
put_before(struct jbuf *b, struct map_ctx *c, const struct cdc_change *ch)
{
	const struct cdc_rel *rel = ch->rel;

	if (ch->old_tuple != NULL)
		return put_row(b, c, rel, ch->old_tuple, ch->old_kind == 'K');
	/* An update that left the key alone carries no old key: the key columns are
	 * those of the new row (Debezium: no before at all). */
	if (ch->op == CDC_OP_UPDATE && (rel->replident == 'd' || rel->replident == 'i')
	    && has_key_cols(rel) && (c->o == NULL || !c->o->debezium))
		return put_row(b, c, rel, ch->new_tuple, true);
	jbuf_put(b, "null", 4);
	return 0;
}

/* Decimal digits of v at the end of tmp[24]; returns where they start.  printf is
 * a tenth of the encoder's time otherwise (LSNs, xids and ts_ms in every record);
 * two digits per division halve the rest. */
static char *
u64_digits(uint64_t v, char tmp[24])
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char *p = tmp + 24;

	while (v >= 100) {
		unsigned r = (unsigned) (v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else
		*--p = (char) ('0' + v);
	return p;
}

static void
put_u64(struct jbuf *b, uint64_t v)
{
	char tmp[24], *p = u64_digits(v, tmp);

	jbuf_put(b, p, (size_t) (tmp + 24 - p));
}

static void
put_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		jbuf_putc(b, '-');
		put_u64(b, (uint64_t) 0 - (uint64_t) v);
	} else {
		put_u64(b, (uint64_t) v);
	}
}

/* The constant start of "source" (up to its ts_ms) and its db part, escaped. */
static void
put_source_head(struct jbuf *b, const struct json_opts *o)
{
	JBUF_LIT(b, "\"source\":{\"version\":");
	put_cstr(b, o != NULL ? o->version : NULL);
	JBUF_LIT(b, ",\"connector\":\"postgresql\",\"name\":");
	put_cstr(b, o != NULL ? o->name : NULL);
	JBUF_LIT(b, ",\"ts_ms\":");
}

static void
put_source_db(struct jbuf *b, const struct json_opts *o)
{
	JBUF_LIT(b, "\",\"db\":");
	put_cstr(b, o != NULL ? o->db : NULL);
	JBUF_LIT(b, ",\"sequence\":");
}

/* Renders a part into dst[cap] through a scratch jbuf; 0 when it does not fit. */
static size_t
prepare_part(char *dst, size_t cap, void (*put)(struct jbuf *, const struct json_opts *),
             const struct json_opts *o)
{
	struct jbuf t = { 0 };
	size_t n = 0;

	put(&t, o);
	if (!t.oom && t.len <= cap) {
		memcpy(dst, t.data, t.len);
		n = t.len;
	}
	jbuf_free(&t);
	return n;
}

void
json_opts_prepare(struct json_opts *o)
{
	o->src_head_len = 0;
	o->src_db_len = 0;
	o->src_head_len = prepare_part(o->src_head, sizeof(o->src_head), put_source_head, o);
	o->src_db_len = prepare_part(o->src_db, sizeof(o->src_db), put_source_db, o);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Microseconds as nanoseconds, saturating: past 2262 (or before 1677) they do not fit
 * in 64 bits (found by fuzzing: a Begin can carry any commit time). */
static int64_t
us_to_ns(int64_t us)
{
	if (us > INT64_MAX / 1000)
		return INT64_MAX;
	if (us < INT64_MIN / 1000)
		return INT64_MIN;
	return us * 1000;
}

static void
put_source(struct jbuf *b, const struct cdc_change *ch, const struct json_opts *o)
{
	const struct cdc_txn *txn = ch->txn;
	const char *snap;
	char seq[64], lsn_tmp[24], *lsn;
	size_t k = 0, lsn_len;
	int64_t ts_us = txn != NULL ? txn->commit_ts_us : 0;

	switch (ch->snapshot) {
	case CDC_SNAP_TRUE: snap = "true"; break;
	case CDC_SNAP_LAST: snap = "last"; break;
	case CDC_SNAP_INCREMENTAL: snap = "incremental"; break;
	default: snap = "false"; break;
	}
	lsn = u64_digits(ch->lsn, lsn_tmp);
	lsn_len = (size_t) (lsn_tmp + 24 - lsn);
	/* "sequence": ["<previous commit LSN>","<this LSN>"], a JSON string itself */
	if (txn != NULL && txn->prev_commit_lsn != 0) {
		char tmp[24], *d = u64_digits(txn->prev_commit_lsn, tmp);

		memcpy(seq, "\"[\\\"", 4);
		k = 4;
		memcpy(seq + k, d, (size_t) (tmp + 24 - d));
		k += (size_t) (tmp + 24 - d);
		memcpy(seq + k, "\\\"", 2);
		k += 2;
	} else {
		memcpy(seq, "\"[null", 6);
		k = 6;
	}
	memcpy(seq + k, ",\\\"", 3);
	k += 3;
	memcpy(seq + k, lsn, lsn_len);
	k += lsn_len;
	memcpy(seq + k, "\\\"]\"", 4);
	k += 4;

	if (o != NULL && o->src_head_len > 0)
		jbuf_put(b, o->src_head, o->src_head_len);
	else
		put_source_head(b, o);
	/* floor division: commit times before 1970 stay monotonic */
	put_i64(b, floor_div(ts_us, 1000));
	JBUF_LIT(b, ",\"snapshot\":\"");
	jbuf_puts(b, snap);
	if (o != NULL && o->src_db_len > 0)
		jbuf_put(b, o->src_db, o->src_db_len);
	else
		put_source_db(b, o);
	jbuf_put(b, seq, k);
	/* PostgreSQL keeps commit times in microseconds */
	JBUF_LIT(b, ",\"ts_us\":");
	put_i64(b, ts_us);
	JBUF_LIT(b, ",\"ts_ns\":");
	put_i64(b, us_to_ns(ts_us));
	/* a message has no table: empty strings, as Debezium's */
	JBUF_LIT(b, ",\"schema\":");
	put_cstr(b, ch->rel != NULL ? ch->rel->schema : "");
	JBUF_LIT(b, ",\"table\":");
	put_cstr(b, ch->rel != NULL ? ch->rel->name : "");
	JBUF_LIT(b, ",\"txId\":");
	if (txn != NULL && txn->xid != 0)
		put_u64(b, txn->xid);
	else
		jbuf_put(b, "null", 4);
	JBUF_LIT(b, ",\"lsn\":");
	jbuf_put(b, lsn, lsn_len);
	JBUF_LIT(b, ",\"xmin\":null}");
}

static int
check_change(const struct cdc_change *ch, struct cdc_err *err)
{
	if (ch->op == CDC_OP_MESSAGE)
		return ch->msg != NULL && ch->msg->prefix != NULL ? 0 :
		       cdc_errf(err, CDC_ERR_PROTO, "message at " CDC_LSN_FMT " has no content",
		                CDC_LSN_ARGS(ch->lsn));
	if (ch->rel == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " has no relation",
		                CDC_LSN_ARGS(ch->lsn));
	if (ch->rel->ncols > 0 && ch->rel->cols == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "relation %u has %d columns but no column list",
		                ch->rel->oid, ch->rel->ncols);
	switch (ch->op) {
	case CDC_OP_CREATE:
	case CDC_OP_READ:
	case CDC_OP_UPDATE:
		if (ch->new_tuple == NULL)
			return cdc_errf(err, CDC_ERR_PROTO, "%s change at " CDC_LSN_FMT " on %s.%s "
			                "has no new row", ch->op == CDC_OP_UPDATE ? "update"
			                : ch->op == CDC_OP_READ ? "snapshot" : "insert",
			                CDC_LSN_ARGS(ch->lsn), ch->rel->schema ? ch->rel->schema : "?",
			                ch->rel->name ? ch->rel->name : "?");
		return 0;
	case CDC_OP_DELETE:
	case CDC_OP_TRUNCATE:
		return 0;
	default:
		return cdc_errf(err, CDC_ERR_PROTO, "change at " CDC_LSN_FMT " has unknown op 0x%02x",
		                CDC_LSN_ARGS(ch->lsn), (unsigned char) ch->op);
	}
}

/* A transaction id as Debezium 3's PostgreSQL connector makes it: "<txId>:<LSN>". */
static void
put_tx_id(struct jbuf *b, uint32_t xid, cdc_lsn lsn)
{
	jbuf_putc(b, '"');
	put_u64(b, xid);
	jbuf_putc(b, ':');
	put_u64(b, lsn);
	jbuf_putc(b, '"');
}

/* "transaction":{...} of ch, or null (see json_opts.tx_order) */
static void
put_tx_block(struct jbuf *b, const struct cdc_change *ch, const struct json_opts *o)
{
	if (o->tx_order > 0 && ch->txn != NULL) {
		JBUF_LIT(b, "\"transaction\":{\"id\":");
		put_tx_id(b, ch->txn->xid, ch->lsn);
		JBUF_LIT(b, ",\"total_order\":");
		put_u64(b, o->tx_order);
		JBUF_LIT(b, ",\"data_collection_order\":");
		put_u64(b, o->tx_collection_order);
		jbuf_putc(b, '}');
	} else {
		JBUF_LIT(b, "\"transaction\":null");
	}
}

/* The Debezium profile's message record: io.debezium.connector.postgresql.MessageValue
 * {op, ts_ms, source, transaction, message}, the content as binary_handling_mode says. */
static void
put_dbz_message(struct jbuf *b, const struct cdc_change *ch, const struct json_opts *o,
                int64_t now_ns)
{
	static const char hex[] = "0123456789abcdef";

	JBUF_LIT(b, "{\"op\":\"m\",\"ts_ms\":");
	put_i64(b, floor_div(now_ns, 1000000));
	jbuf_putc(b, ',');
	put_source(b, ch, o);
	jbuf_putc(b, ',');
	put_tx_block(b, ch, o);
	JBUF_LIT(b, ",\"message\":{\"prefix\":");
	put_cstr(b, ch->msg->prefix);
	JBUF_LIT(b, ",\"content\":");
	if (o->binary_mode == JSON_BINARY_HEX) {
		jbuf_putc(b, '"');
		for (size_t i = 0; i < ch->msg->len; i++) {
			jbuf_putc(b, hex[ch->msg->content[i] >> 4]);
			jbuf_putc(b, hex[ch->msg->content[i] & 15]);
		}
		jbuf_putc(b, '"');
	} else {
		put_b64(b, ch->msg->content, ch->msg->len, o->binary_mode == JSON_BINARY_BASE64_URL);
	}
	JBUF_LIT(b, "}}");
}

static int put_envelope(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
                        const struct json_opts *o, int64_t now_ns, struct cdc_err *err);

int
json_envelope(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
              const struct json_opts *o, int64_t now_ns, struct cdc_err *err)
{
	size_t start = b->len;
	int rc;

	if (!o->debezium || !o->schemas)
		return put_envelope(b, ch, types, o, now_ns, err);
	if ((rc = check_change(ch, err)) != 0)
		return rc;
	/* Kafka Connect's JsonConverter envelope */
	JBUF_LIT(b, "{\"schema\":");
	if (ch->op == CDC_OP_MESSAGE)
		connect_message_value_schema(b, o);
	else
		connect_value_schema(b, ch->rel, types, o);
	JBUF_LIT(b, ",\"payload\":");
	if ((rc = put_envelope(b, ch, types, o, now_ns, err)) != 0) {
		b->len = start;
		return rc;
	}
	jbuf_putc(b, '}');
	return check_oom(b, start, err);
}

static int
put_envelope(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
             const struct json_opts *o, int64_t now_ns, struct cdc_err *err)
{
	struct map_ctx c = { .types = types, .o = o, .err = err, .typmod = -1 };
	size_t start = b->len;
	char op[2] = { ch->op, '\0' };
	int rc;

	if ((rc = check_change(ch, err)) != 0)
		return rc;
	if (b->oom)
		return check_oom(b, start, err);
	if (ch->op == CDC_OP_MESSAGE && o->debezium) {
		put_dbz_message(b, ch, o, now_ns);
		return check_oom(b, start, err);
	}

	JBUF_LIT(b, "{\"before\":");
	switch (ch->op) {
	case CDC_OP_UPDATE:
	case CDC_OP_DELETE:
		rc = put_before(b, &c, ch);
		break;
	default:
		jbuf_put(b, "null", 4);
		break;
	}
	if (rc != 0)
		goto out;
	JBUF_LIT(b, ",\"after\":");
	switch (ch->op) {
	case CDC_OP_CREATE:
	case CDC_OP_READ:
	case CDC_OP_UPDATE:
		rc = put_row(b, &c, ch->rel, ch->new_tuple, false);
		break;
	default:
		jbuf_put(b, "null", 4);
		break;
	}
	if (rc != 0)
		goto out;
	jbuf_putc(b, ',');
	put_source(b, ch, o);
	if (o->debezium) {
		/* Debezium 3's envelope order: the transaction block follows the source */
		jbuf_putc(b, ',');
		put_tx_block(b, ch, o);
	}
	JBUF_LIT(b, ",\"op\":\"");
	jbuf_puts(b, op);
	JBUF_LIT(b, "\",\"ts_ms\":");
	put_i64(b, floor_div(now_ns, 1000000));
	JBUF_LIT(b, ",\"ts_us\":");
	put_i64(b, floor_div(now_ns, 1000));
	JBUF_LIT(b, ",\"ts_ns\":");
	put_i64(b, now_ns);
	if (!o->debezium) {
		jbuf_putc(b, ',');
		put_tx_block(b, ch, o);
	}
	if (ch->op == CDC_OP_MESSAGE) {
		JBUF_LIT(b, ",\"message\":{\"prefix\":");
		put_cstr(b, ch->msg->prefix);
		JBUF_LIT(b, ",\"content\":");
		put_base64(b, ch->msg->content, ch->msg->len);
		jbuf_putc(b, '}');
	}
	jbuf_putc(b, '}');
	rc = check_oom(b, start, err);
out:
	if (rc != 0)
		b->len = start;
	return rc;
}

/* The value of record-key column i: from the primary tuple (new for c/u/r, old for
 * d) unless it is missing there or unchanged TOAST, then from the other one.  A
 * key-only old tuple ('K') only carries the identity columns. */
static const struct cdc_value *
key_val(const struct cdc_change *ch, int i)
{
	const struct cdc_column *col = &ch->rel->cols[i];
	const struct cdc_value *nv = tuple_val(ch->new_tuple, i);
	const struct cdc_value *ov = tuple_val(ch->old_tuple, i);
	const struct cdc_value *first, *second;

	if (ch->old_kind == 'K' && !col->key)
		ov = NULL;
	first = ch->op == CDC_OP_DELETE ? ov : nv;
	second = ch->op == CDC_OP_DELETE ? nv : ov;
	if (first != NULL && first->kind != CDC_VAL_UNCHANGED)
		return first;
	if (second != NULL && second->kind != CDC_VAL_UNCHANGED)
		return second;
	return first != NULL ? first : second;
}

static int put_key(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
                   const struct json_opts *o, struct cdc_err *err);

int
json_key(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
         const struct json_opts *o, struct cdc_err *err)
{
	size_t start = b->len;
	int rc;

	if (!o->debezium || !o->schemas)
		return put_key(b, ch, types, o, err);
	JBUF_LIT(b, "{\"schema\":");
	if (ch->op == CDC_OP_MESSAGE)
		connect_message_key_schema(b);
	else if (ch->rel != NULL)
		connect_key_schema(b, ch->rel, types, o);
	JBUF_LIT(b, ",\"payload\":");
	if ((rc = put_key(b, ch, types, o, err)) != 0) {
		b->len = start;   /* no key (1), or an error */
		return rc;
	}
	jbuf_putc(b, '}');
	return check_oom(b, start, err);
}

static int
put_key(struct jbuf *b, const struct cdc_change *ch, const struct cdc_types *types,
        const struct json_opts *o, struct cdc_err *err)
{
	struct map_ctx c = { .types = types, .o = o, .err = err, .typmod = -1 };
	const struct cdc_rel *rel = ch->rel;
	size_t start = b->len;
	bool first = true;
	int i, rc = 0;

	if (ch->op == CDC_OP_MESSAGE && ch->msg != NULL) {
		/* Debezium keys a message by its prefix */
		JBUF_LIT(b, "{\"prefix\":");
		put_cstr(b, ch->msg->prefix);
		jbuf_putc(b, '}');
		return check_oom(b, start, err);
	}

	if (rel == NULL || rel->npk <= 0 || ch->op == CDC_OP_TRUNCATE || rel->cols == NULL)
		return 1;
	/* a key built from no row at all would be {"id":null} for every such record */
	if ((ch->op == CDC_OP_DELETE ? ch->old_tuple : ch->new_tuple) == NULL
	    && (ch->op == CDC_OP_DELETE ? ch->new_tuple : ch->old_tuple) == NULL)
		return 1;
	for (i = 0; i < rel->ncols; i++)
		if (rel->cols[i].pk)
			break;
	if (i == rel->ncols)
		return 1;
	if (b->oom)
		return check_oom(b, start, err);

	jbuf_putc(b, '{');
	for (i = 0; i < rel->ncols; i++) {
		const struct cdc_column *col = &rel->cols[i];

		if (!col->pk)
			continue;
		if (!first)
			jbuf_putc(b, ',');
		first = false;
		put_cstr(b, col->name != NULL ? col->name : "");
		jbuf_putc(b, ':');
		c.typmod = col->typmod;
		if ((rc = put_value(b, &c, col->type_oid, key_val(ch, i))) != 0)
			goto out;
	}
	jbuf_putc(b, '}');
	rc = check_oom(b, start, err);
out:
	if (rc != 0)
		b->len = start;
	return rc;
}

int
json_tx_event(struct jbuf *key, struct jbuf *val, uint32_t xid, cdc_lsn lsn, int64_t ts_us,
              const struct json_tx_count *counts, size_t ncounts, uint64_t total,
              bool schemas, struct cdc_err *err)
{
	size_t kstart = key->len, vstart = val->len;
	int rc;

	if (schemas) {
		JBUF_LIT(key, "{\"schema\":");
		connect_tx_key_schema(key);
		JBUF_LIT(key, ",\"payload\":");
		JBUF_LIT(val, "{\"schema\":");
		connect_tx_value_schema(val);
		JBUF_LIT(val, ",\"payload\":");
	}
	JBUF_LIT(key, "{\"id\":");
	put_tx_id(key, xid, lsn);
	jbuf_putc(key, '}');
	/* TransactionMetadataValue's field order */
	JBUF_LIT(val, "{\"status\":");
	if (counts == NULL)
		JBUF_LIT(val, "\"BEGIN\"");
	else
		JBUF_LIT(val, "\"END\"");
	JBUF_LIT(val, ",\"id\":");
	put_tx_id(val, xid, lsn);
	if (counts == NULL) {
		JBUF_LIT(val, ",\"event_count\":null,\"data_collections\":null");
	} else {
		JBUF_LIT(val, ",\"event_count\":");
		put_u64(val, total);
		JBUF_LIT(val, ",\"data_collections\":[");
		for (size_t i = 0; i < ncounts; i++) {
			if (i > 0)
				jbuf_putc(val, ',');
			JBUF_LIT(val, "{\"data_collection\":");
			put_cstr(val, counts[i].collection);
			JBUF_LIT(val, ",\"event_count\":");
			put_u64(val, counts[i].n);
			jbuf_putc(val, '}');
		}
		jbuf_putc(val, ']');
	}
	JBUF_LIT(val, ",\"ts_ms\":");
	put_i64(val, floor_div(ts_us, 1000));
	jbuf_putc(val, '}');
	if (schemas) {
		jbuf_putc(key, '}');
		jbuf_putc(val, '}');
	}
	if ((rc = check_oom(key, kstart, err)) != 0)
		return rc;
	if ((rc = check_oom(val, vstart, err)) != 0)
		key->len = kstart;
	return rc;
}
