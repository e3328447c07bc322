/*
 * convert.h — PostgreSQL text output to Parquet physical values.
 *
 * Inputs are the text forms pgcdc's sessions produce (DateStyle=ISO,
 * IntervalStyle=iso_8601, TimeZone=UTC, extra_float_digits=1, bytea_output=hex;
 * see agent/pg.c), borrowed and not NUL-terminated.  Every function returns 0,
 * or -1 when the text is not of the expected shape (nothing is written then).
 * Pure: no allocation, no globals, no locale (floats go through strtod in the C
 * locale the agent runs in).
 */
#ifndef PGCDC_PQ_CONVERT_H
#define PGCDC_PQ_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef __int128 pqc_i128;

/* "infinity" / "-infinity" of date, timestamp and timestamptz are stored as these
 * extremes (the values DuckDB itself uses for them; README "Deviations"). */
#define PQC_DATE_INFINITY INT32_MAX
#define PQC_DATE_NINFINITY (-INT32_MAX)
#define PQC_TS_INFINITY INT64_MAX
#define PQC_TS_NINFINITY (-INT64_MAX)

/* Signed decimal integer within [min, max]. */
int pqc_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);
/* float8 / float4 text, NaN and [-]Infinity included. */
int pqc_double(const char *s, size_t n, double *out);
int pqc_float(const char *s, size_t n, float *out);
/* "t" / "f". */
int pqc_bool(const char *s, size_t n, bool *out);
/* date: days since 1970-01-01 (proleptic Gregorian; " BC" years; infinities). */
int pqc_date(const char *s, size_t n, int32_t *days);
/* time without time zone: microseconds since midnight. */
int pqc_time(const char *s, size_t n, int64_t *us);
/* timestamp (tz = false) or timestamptz (tz = true: the "+HH[:MM[:SS]]" offset is
 * applied): microseconds since 1970-01-01 00:00:00 (UTC for tz). */
int pqc_timestamp(const char *s, size_t n, bool tz, int64_t *us);
/* numeric text to an unscaled integer at `scale` fractional digits (at most 38
 * digits in all).  Returns 1 for NaN and [-]Infinity (no value), 0, or -1. */
int pqc_decimal(const char *s, size_t n, int scale, pqc_i128 *out);
/* Two's-complement big-endian in len bytes. */
void pqc_decimal_be(pqc_i128 v, uint8_t *out, int len);
/* Bytes of a FIXED_LEN_BYTE_ARRAY that holds every precision-digit decimal. */
int pqc_decimal_bytes(int precision);
/* uuid text to 16 bytes. */
int pqc_uuid(const char *s, size_t n, uint8_t out[16]);
/* interval as IntervalStyle = iso_8601 prints it ("P1Y2M3DT4H5M6.5S", the session
 * style pgcdc sets) to PostgreSQL's default text output, IntervalStyle = postgres
 * ("1 year 2 mons 3 days 04:05:06.5"), NUL-terminated in out.  0, or -1 for text that
 * is not such a duration or does not fit. */
int pqc_interval(const char *s, size_t n, char *out, size_t cap);
/* bytea hex output ("\x0a1b") to bytes: out has room for (n - 2) / 2 bytes. */
int pqc_bytea(const char *s, size_t n, uint8_t *out, size_t *outlen);

#endif
