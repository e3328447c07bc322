/*
 * log.c — stderr logging, text or JSON lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int log_min_level = LOG_LVL_INFO;
static bool log_json;

static const char *const level_names[] = { "DEBUG", "INFO", "WARNING", "ERROR" };

void
log_setup(int min_level, bool json)
{
	log_min_level = min_level;
	log_json = json;
}

static size_t
json_escape(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *) src; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char) *p;
		} else if (*p < 0x20) {
			o += (size_t) snprintf(dst + o, cap - o, "\\u%04x", *p);
		} else {
			dst[o++] = (char) *p;
		}
	}
	dst[o] = '\0';
	return o;
}

void
log_write(int level, const char *component, const char *fmt, ...)
{
	char msg[2048], line[4400], ts[96];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < LOG_LVL_DEBUG || level > LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)   /* one event, one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_json) {
		char emsg[sizeof(msg) * 2], ecomp[128];

		json_escape(emsg, sizeof(emsg), msg);
		json_escape(ecomp, sizeof(ecomp), component);
		n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
		             "\"msg\":\"%s\"}\n", ts, level_names[level], ecomp, emsg);
	} else {
		n = snprintf(line, sizeof(line), "%s %s %s: %s\n", ts, level_names[level], component, msg);
	}
	if (n < 0)
		return;
	if ((size_t) n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void) !write(STDERR_FILENO, line, (size_t) n);
}
