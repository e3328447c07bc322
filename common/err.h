/*
 * err.h — the error carrier every component uses: the first error wins (curl's
 * failf).  Part of common/, which depends on nothing else of pgcdc's.
 */
#ifndef PGCDC_ERR_H
#define PGCDC_ERR_H

enum cdc_errcode {
	CDC_OK = 0,
	CDC_ERR_PROTO = -1,   /* malformed or unexpected protocol data */
	CDC_ERR_NOMEM = -2,
	CDC_ERR_IO = -3,
	CDC_ERR_CONFIG = -4,
	CDC_ERR_CONN = -5,    /* connection-level problem, retryable */
	CDC_ERR_FATAL = -6,   /* not retryable: stop the agent */
	CDC_ERR_AGAIN = -7,   /* temporary: backpressure, try later */
};

struct cdc_err {
	int code;             /* enum cdc_errcode; 0 while no error */
	char msg[512];
};

/* Record the first error; later calls are ignored.  Returns code. */
int cdc_errf(struct cdc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cdc_err_clear(struct cdc_err *err);

#endif
