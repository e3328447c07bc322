/*
 * durable.c — replacing small files durably (see durable.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"

int
cdc_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* A directory whose fsync failed after a swap: the swap may not be on disk, and the spare
 * may still be the file there.  The next write makes it durable before it touches a spare. */
static pthread_mutex_t unsynced_mu = PTHREAD_MUTEX_INITIALIZER;
static char unsynced[4096];

static int
settle_unsynced(char *why, size_t whycap)
{
	int rc = 0;

	pthread_mutex_lock(&unsynced_mu);
	if (unsynced[0] != '\0') {
		if (cdc_fsync_dir(unsynced) == 0) {
			unsynced[0] = '\0';
		} else {
			snprintf(why, whycap, "cannot fsync %s: %s", unsynced, strerror(errno));
			rc = -1;
		}
	}
	pthread_mutex_unlock(&unsynced_mu);
	return rc;
}

int
cdc_write_durably(const char *dir, const char *path, const void *data, size_t n, char *why,
                  size_t whycap)
{
	char tmp[4200];
	bool swapped = false;
	int fd;

	if (settle_unsynced(why, whycap) != 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
		snprintf(why, whycap, "path too long: %.200s...", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t) n || fsync(fd) != 0) {
		int e = errno;

		snprintf(why, whycap, "cannot write %s: %s", tmp, strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(why, whycap, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* Swapping the two names (Linux 3.15+, most local filesystems) keeps both inodes:
	 * no inode is freed or allocated per write, which on a busy state directory is
	 * most of the cost (ext4 without a journal scans past recently freed inodes at
	 * every creation).  The old content stays in path.tmp, which nothing reads. */
#ifdef RENAME_EXCHANGE
	swapped = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0;
	if (!swapped && errno != ENOENT && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		snprintf(why, whycap, "cannot rename %s: %s", tmp, strerror(errno));
		return -1;
	}
#endif
	if (!swapped && rename(tmp, path) != 0) {
		snprintf(why, whycap, "cannot rename %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (cdc_fsync_dir(dir) != 0) {
		snprintf(why, whycap, "cannot fsync %s: %s", dir, strerror(errno));
		if (swapped) {
			pthread_mutex_lock(&unsynced_mu);
			snprintf(unsynced, sizeof(unsynced), "%s", dir);
			pthread_mutex_unlock(&unsynced_mu);
		}
		return -1;
	}
	return 0;
}
