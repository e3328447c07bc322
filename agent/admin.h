/*
 * admin.h — the one-shot commands: check, status, drop-slot (SPEC §1, §6).
 * Each returns the process exit status (0 ok, 1 failure) and prints its report on
 * stdout; errors are logged.
 */
#ifndef PGCDC_ADMIN_H
#define PGCDC_ADMIN_H

#include <stdbool.h>

#include "config.h"

int admin_check(const struct cfg *cfg);
int admin_status(const struct cfg *cfg, bool json);
int admin_drop_slot(const struct cfg *cfg);

#endif
