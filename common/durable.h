/*
 * durable.h — replacing small files so that a crash leaves the old or the new
 * content, never a torn one.  Part of common/.
 */
#ifndef PGCDC_DURABLE_H
#define PGCDC_DURABLE_H

#include <stddef.h>

/* fsync a directory (a rename or unlink in it becomes durable).  0, or -1 with errno. */
int cdc_fsync_dir(const char *dir);

/* Replace path (in directory dir) with data: a temporary path.tmp written and fsynced,
 * swapped with path (renameat2 RENAME_EXCHANGE; a plain rename where the filesystem
 * cannot, or on the first write), dir fsynced.  After a swap path.tmp holds the previous
 * content and is the spare the next write reuses: no inode is allocated or freed per
 * write.  Nothing reads path.tmp.  Returns 0, or -1 with why filled. */
int cdc_write_durably(const char *dir, const char *path, const void *data, size_t n, char *why,
                      size_t whycap);

#endif
