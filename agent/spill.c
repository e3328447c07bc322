/*
 * spill.c — streamed-transaction spill files (see spill.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spill.h"

#define SPILL_MAX_MSG (UINT32_C(1) << 30)   /* 1 GB: PostgreSQL's own field limit */

struct subx {
	uint32_t subxid;
	off_t offset;
};

struct stxn {
	uint32_t xid;
	off_t size;
	struct subx *subs;
	int nsubs, capsubs;
	struct stxn *next;
};

struct spill {
	char *dir;
	struct stxn *txns;
	struct stxn *cur;     /* open stream, or NULL */
	int fd;               /* fd of cur's file */
	uint64_t bytes;
	uint8_t *rbuf;        /* replay buffer */
	size_t rcap;
};

static void
path_of(const struct spill *sp, uint32_t xid, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%u.spill", sp->dir, xid);
}

static int
mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void
clean_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n > 6 && strcmp(e->d_name + n - 6, ".spill") == 0)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

struct spill *
spill_new(const char *dir, struct cdc_err *err)
{
	struct spill *sp = calloc(1, sizeof(*sp));

	if (sp == NULL || (sp->dir = strdup(dir)) == NULL) {
		free(sp);
		cdc_errf(err, CDC_ERR_NOMEM, "spill: out of memory");
		return NULL;
	}
	sp->fd = -1;
	if (mkdir_p(dir) != 0) {
		cdc_errf(err, CDC_ERR_IO, "spill: cannot create directory %s: %s (check "
		         "source.state_dir and its permissions)", dir, strerror(errno));
		spill_free(sp);
		return NULL;
	}
	clean_dir(dir);
	return sp;
}

static struct stxn *
find(struct spill *sp, uint32_t xid)
{
	for (struct stxn *t = sp->txns; t != NULL; t = t->next)
		if (t->xid == xid)
			return t;
	return NULL;
}

static void
drop(struct spill *sp, struct stxn *t)
{
	char path[PATH_MAX];

	for (struct stxn **pp = &sp->txns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (sp->cur == t) {
		if (sp->fd >= 0)
			close(sp->fd);
		sp->fd = -1;
		sp->cur = NULL;
	}
	path_of(sp, t->xid, path, sizeof(path));
	unlink(path);
	sp->bytes -= (uint64_t) t->size;
	free(t->subs);
	free(t);
}

void
spill_reset(struct spill *sp)
{
	while (sp->txns != NULL)
		drop(sp, sp->txns);
}

void
spill_free(struct spill *sp)
{
	if (sp == NULL)
		return;
	spill_reset(sp);
	free(sp->rbuf);
	free(sp->dir);
	free(sp);
}

uint64_t
spill_bytes(const struct spill *sp)
{
	return sp->bytes;
}

int
spill_start(struct spill *sp, uint32_t xid, bool first_segment, struct cdc_err *err)
{
	char path[PATH_MAX];
	struct stxn *t;

	if (sp->cur != NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Start of transaction %u inside "
		                "the stream of transaction %u", xid, sp->cur->xid);
	t = find(sp, xid);
	if (t == NULL) {
		/* A non-first segment without a file means we missed its start (the server
		 * resends streams from the beginning after a reconnect, so this is a bug). */
		if (!first_segment)
			return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Start continues "
			                "transaction %u whose first segment was never received", xid);
		t = calloc(1, sizeof(*t));
		if (t == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "spill: out of memory");
		t->xid = xid;
		t->next = sp->txns;
		sp->txns = t;
	} else if (first_segment) {
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: transaction %u streamed again from "
		                "its first segment", xid);
	}
	path_of(sp, xid, path, sizeof(path));
	sp->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		int e = errno;

		if (first_segment)
			drop(sp, t);    /* forget it, so that a retry starts it afresh */
		if (e == ENOSPC || e == EDQUOT)
			return cdc_errf(err, CDC_ERR_AGAIN, "spill: state_dir is full: cannot create %s: %s",
			                path, strerror(e));
		return cdc_errf(err, CDC_ERR_IO, "spill: cannot open %s: %s", path, strerror(e));
	}
	sp->cur = t;
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t) w;
	}
	return 0;
}

int
spill_append(struct spill *sp, uint32_t msg_xid, cdc_lsn lsn, const uint8_t *buf, size_t len,
             struct cdc_err *err)
{
	struct stxn *t = sp->cur;
	uint8_t hdr[12];

	if (t == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "spill: message outside a stream");
	if (len > SPILL_MAX_MSG)
		return cdc_errf(err, CDC_ERR_PROTO, "spill: message of %zu bytes is over 1 GB", len);
	if (msg_xid != 0 && msg_xid != t->xid) {
		bool seen = false;

		for (int i = 0; i < t->nsubs && !seen; i++)
			seen = t->subs[i].subxid == msg_xid;
		if (!seen) {
			if (t->nsubs == t->capsubs) {
				int cap = t->capsubs ? t->capsubs * 2 : 8;
				struct subx *s = realloc(t->subs, (size_t) cap * sizeof(*s));

				if (s == NULL)
					return cdc_errf(err, CDC_ERR_NOMEM, "spill: out of memory");
				t->subs = s;
				t->capsubs = cap;
			}
			t->subs[t->nsubs].subxid = msg_xid;
			t->subs[t->nsubs].offset = t->size;
			t->nsubs++;
		}
	}
	for (int i = 0; i < 8; i++)
		hdr[i] = (uint8_t) (lsn >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		hdr[8 + i] = (uint8_t) ((uint32_t) len >> (24 - 8 * i));
	if (write_all(sp->fd, hdr, sizeof(hdr)) != 0 || write_all(sp->fd, buf, len) != 0) {
		int e = errno;

		/* cut a partial record back, so the file ends at a record boundary */
		if (ftruncate(sp->fd, t->size) != 0)
			return cdc_errf(err, CDC_ERR_IO, "spill: writing transaction %u to %s failed (%s) "
			                "and cutting it back failed too: %s", t->xid, sp->dir, strerror(e),
			                strerror(errno));
		if (e == ENOSPC || e == EDQUOT || e == EFBIG)
			return cdc_errf(err, CDC_ERR_AGAIN, "spill: state_dir is full: writing transaction "
			                "%u to %s: %s", t->xid, sp->dir, strerror(e));
		return cdc_errf(err, CDC_ERR_IO, "spill: writing transaction %u to %s failed: %s",
		                t->xid, sp->dir, strerror(e));
	}
	t->size += (off_t) (sizeof(hdr) + len);
	sp->bytes += sizeof(hdr) + len;
	return 0;
}

int
spill_stop(struct spill *sp, struct cdc_err *err)
{
	if (sp->cur == NULL)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Stop without Stream Start");
	if (close(sp->fd) != 0) {
		sp->fd = -1;
		sp->cur = NULL;
		return cdc_errf(err, CDC_ERR_IO, "spill: closing spill file failed: %s", strerror(errno));
	}
	sp->fd = -1;
	sp->cur = NULL;
	return 0;
}

int
spill_abort(struct spill *sp, uint32_t xid, uint32_t subxid, struct cdc_err *err)
{
	struct stxn *t = find(sp, xid);
	char path[PATH_MAX];
	int k = -1;

	if (t == NULL)
		return 0;   /* nothing of it was streamed to us */
	if (sp->cur == t)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Abort of transaction %u inside "
		                "its own stream", xid);
	if (subxid == xid || subxid == 0) {
		drop(sp, t);
		return 0;
	}
	for (int i = 0; i < t->nsubs; i++)
		if (t->subs[i].subxid == subxid)
			k = i;
	if (k < 0)
		return 0;   /* the subtransaction had no streamed changes */
	path_of(sp, xid, path, sizeof(path));
	if (truncate(path, t->subs[k].offset) != 0)
		return cdc_errf(err, CDC_ERR_IO, "spill: truncating %s failed: %s", path, strerror(errno));
	sp->bytes -= (uint64_t) (t->size - t->subs[k].offset);
	t->size = t->subs[k].offset;
	/* every subtransaction first seen at or after the cut is gone with it */
	int keep = 0;
	for (int i = 0; i < t->nsubs; i++)
		if (t->subs[i].offset < t->size)
			t->subs[keep++] = t->subs[i];
	t->nsubs = keep;
	return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t) r;
	}
	return 0;
}

int
spill_replay(struct spill *sp, uint32_t xid, spill_fn fn, void *ctx, struct cdc_err *err)
{
	struct stxn *t = find(sp, xid);
	char path[PATH_MAX];
	off_t pos = 0;
	int fd, rc = 0;

	if (t == NULL)
		return 0;
	if (sp->cur == t)
		return cdc_errf(err, CDC_ERR_PROTO, "pgoutput: Stream Commit of transaction %u inside "
		                "its own stream", xid);
	path_of(sp, xid, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cdc_errf(err, CDC_ERR_IO, "spill: cannot open %s: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (pos < t->size) {
		uint8_t hdr[12];
		cdc_lsn lsn = 0;
		uint32_t len = 0;

		if (read_all(fd, hdr, sizeof(hdr)) != 0) {
			rc = cdc_errf(err, CDC_ERR_IO, "spill: %s is short at offset %lld", path,
			              (long long) pos);
			break;
		}
		for (int i = 0; i < 8; i++)
			lsn = (lsn << 8) | hdr[i];
		for (int i = 0; i < 4; i++)
			len = (len << 8) | hdr[8 + i];
		if (len > SPILL_MAX_MSG) {
			rc = cdc_errf(err, CDC_ERR_IO, "spill: %s is corrupt at offset %lld", path,
			              (long long) pos);
			break;
		}
		if (len > sp->rcap) {
			size_t cap = len < 65536 ? 65536 : len;
			uint8_t *nb = realloc(sp->rbuf, cap);

			if (nb == NULL) {
				rc = cdc_errf(err, CDC_ERR_NOMEM, "spill: out of memory for a %u-byte message", len);
				break;
			}
			sp->rbuf = nb;
			sp->rcap = cap;
		}
		if (read_all(fd, sp->rbuf, len) != 0) {
			rc = cdc_errf(err, CDC_ERR_IO, "spill: %s is short at offset %lld", path,
			              (long long) pos);
			break;
		}
		pos += (off_t) (sizeof(hdr) + len);
		if ((rc = fn(ctx, lsn, sp->rbuf, len, err)) != 0)
			break;
	}
	close(fd);
	if (rc == 0)
		drop(sp, t);
	/* keep the replay buffer from pinning a huge message's memory */
	if (sp->rcap > (1u << 20)) {
		free(sp->rbuf);
		sp->rbuf = NULL;
		sp->rcap = 0;
	}
	return rc;
}
