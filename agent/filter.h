/*
 * filter.h — the [filter] section (SPEC §2): tables to keep, columns that never
 * leave the agent, columns replaced by the hex SHA-256 of their value.
 *
 * DESIGN: for each relation (per definition version) the filter derives a
 * relation without the excluded columns and with masked columns typed as text;
 * a change is rewritten onto it (tuples remapped, masked values hashed into a
 * scratch buffer) before any sink sees it, so no sink, key or metric can leak an
 * excluded value.  Relations needing nothing pass through untouched.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_FILTER_H
#define PGCDC_FILTER_H

#include <stdbool.h>

#include "../decoder/change.h"

struct cfg;
struct filter;

/* Returns an owned filter (NULL with err set on OOM); NULL cfg lists = no filter. */
struct filter *filter_new(const struct cfg *cfg, struct cdc_err *err);
void filter_free(struct filter *f);

/* Whether the filter does anything at all. */
bool filter_active(const struct filter *f);

/* Rewrite ch.  Returns 1 and sets *out = NULL when the change's table is not
 * included (drop it), 0 with *out pointing at ch itself or at a rewritten change
 * (borrowed, valid until the next call), or a negative code. */
int filter_apply(struct filter *f, const struct cdc_change *ch, const struct cdc_change **out,
                 struct cdc_err *err);

#endif
