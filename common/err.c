/*
 * err.c — the cdc_err error carrier: first error wins (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
cdc_errf(struct cdc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != 0)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
cdc_err_clear(struct cdc_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
