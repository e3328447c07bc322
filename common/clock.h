/*
 * clock.h — the two clocks pgcdc reads, in one place.
 *
 * mono_*: CLOCK_MONOTONIC, for intervals and timeouts (never jumps).
 * wall_ms, wall_ns: CLOCK_REALTIME in milli- or nanoseconds since the epoch, for
 * timestamps that leave the process.  It is the precise clock on purpose: the coarse one lags by
 * up to a tick, which could stamp a record as produced before its own commit.
 * Part of common/: depends on nothing else of pgcdc's.
 */
#ifndef PGCDC_CLOCK_H
#define PGCDC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
