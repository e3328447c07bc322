/*
 * lsn.h — WAL positions (LSNs): the type, printing, parsing.  Part of common/.
 */
#ifndef PGCDC_LSN_H
#define PGCDC_LSN_H

#include <stdint.h>

typedef uint64_t cdc_lsn;

/* LSNs print as %X/%X through this pair, like PostgreSQL's LSN_FORMAT_ARGS. */
#define CDC_LSN_FMT "%X/%X"
#define CDC_LSN_ARGS(lsn) ((unsigned) ((uint64_t) (lsn) >> 32)), ((unsigned) (lsn))

/* Parse "X/Y" (as PostgreSQL prints an LSN) into *out; returns 0 or -1. */
int cdc_lsn_parse(const char *s, cdc_lsn *out);

#endif
