/*
 * civil.h — proleptic Gregorian calendar arithmetic shared by the value mappers
 * (JSON timestamptz to UTC, Parquet DATE and TIMESTAMP).  Astronomical year
 * numbering (1 BC is year 0); H. Hinnant's days_from_civil / civil_from_days.
 */
#ifndef PGCDC_CIVIL_H
#define PGCDC_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1..12), day d. */
static inline int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

#endif
