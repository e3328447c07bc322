/*
 * copytext.h — parser for one line of COPY ... TO STDOUT in text format.
 *
 * Fields are separated by tabs, \N is NULL, and backslash escapes (\b \f \n \r
 * \t \v \\ \NNN octal, \xHH hex, and a backslash before any other character
 * meaning that character) are undone, giving each column's text output exactly as
 * pgoutput would send it.  Pure: no I/O.
 */
#ifndef PGCDC_COPYTEXT_H
#define PGCDC_COPYTEXT_H

#include <stddef.h>

#include "change.h"

struct copytext;

/* Returns an owned parser for lines of up to ncols columns, NULL on OOM. */
struct copytext *copytext_new(int ncols);
void copytext_free(struct copytext *ct);

/* Parse line (len bytes; a trailing "\n" is allowed).  On success *tuple points to
 * values borrowed from the parser, valid until the next call.  Returns 0, or
 * CDC_ERR_PROTO (wrong column count, bad escape) / CDC_ERR_NOMEM with err set. */
int copytext_parse(struct copytext *ct, const char *line, size_t len,
                   const struct cdc_tuple **tuple, struct cdc_err *err);

#endif
