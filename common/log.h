/*
 * log.h — one line per event on stderr (SPEC §1):
 *   2026-11-22T10:00:00.123Z LEVEL component: message key=value ...
 * or one JSON object per line with [log] format = json.
 * The macros test the level before evaluating their arguments; each line is one
 * write(2), so lines from different threads never interleave.
 * Never pass secrets: log conninfo only through cfg_conninfo_redacted.
 * Part of common/: depends on nothing else of pgcdc's.
 */
#ifndef PGCDC_LOG_H
#define PGCDC_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARNING, LOG_LVL_ERROR };

extern int log_min_level;   /* written once at startup, before threads */

void log_setup(int min_level, bool json);
void log_write(int level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, comp, ...) \
	do { if ((lvl) >= log_min_level) log_write((lvl), (comp), __VA_ARGS__); } while (0)
#define log_debug(comp, ...) LOG_AT(LOG_LVL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) LOG_AT(LOG_LVL_INFO, comp, __VA_ARGS__)
#define log_warning(comp, ...) LOG_AT(LOG_LVL_WARNING, comp, __VA_ARGS__)
#define log_error(comp, ...) LOG_AT(LOG_LVL_ERROR, comp, __VA_ARGS__)

#endif
