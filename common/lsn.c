/*
 * lsn.c — parsing WAL positions (see lsn.h).
 */
#include <stdio.h>

#include "lsn.h"

int
cdc_lsn_parse(const char *s, cdc_lsn *out)
{
	unsigned hi, lo;
	char extra;

	if (s == NULL || sscanf(s, "%X/%X%c", &hi, &lo, &extra) != 2)
		return -1;
	*out = ((cdc_lsn) hi << 32) | lo;
	return 0;
}
