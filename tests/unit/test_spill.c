/*
 * test_spill.c — spill files of protocol-2 streamed transactions (agent/spill.c).
 *
 * Each test works in its own directory made with mkdtemp under /tmp and removed
 * afterwards.  Messages are small made-up payloads whose bytes say which
 * (sub)transaction and sequence number they are ("731:732#5"), so a replay can be
 * compared exactly with what should survive: segments, interleaved transactions,
 * subtransaction aborts (nested subtransactions first seen after the aborted one go
 * with it, earlier ones stay), whole aborts, byte accounting, stale files.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/spill.h"
#include "decoder/change.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct tdir {
	char root[64];              /* the mkdtemp directory */
	char spill[PATH_MAX];       /* root/state/spill: spill_new creates it */
};

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rm_rf(sub);
	}
	closedir(d);
	rmdir(path);
}

static int
setup_dir(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/pgcdc-test-spill.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->spill, sizeof(t->spill), "%s/state/spill", t->root);
	*state = t;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct tdir *t = *state;
	struct stat st;

	rm_rf(t->root);
	if (stat(t->root, &st) == 0)
		return -1;   /* left something behind */
	free(t);
	return 0;
}

static bool
file_exists(const struct tdir *t, uint32_t xid)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u.spill", t->spill, xid);
	return stat(path, &st) == 0;
}

static long long
file_size(const struct tdir *t, uint32_t xid)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u.spill", t->spill, xid);
	if (stat(path, &st) != 0)
		return -1;
	return (long long) st.st_size;
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static struct spill *
new_spill(const struct tdir *t)
{
	struct cdc_err err = { 0 };
	struct spill *sp = spill_new(t->spill, &err);

	if (sp == NULL)
		fail_msg("spill_new(%s): %s", t->spill, err.msg);
	assert_int_equal(spill_bytes(sp), 0);
	return sp;
}

/* ---- messages and the replay collector ---------------------------------------------- */

/* A message "<xid>:<msg_xid>#<seq>" at LSN seq*16; returns the bytes it costs on disk. */
static uint64_t
put(struct spill *sp, uint32_t xid, uint32_t msg_xid, int seq)
{
	char buf[64];
	struct cdc_err err = { 0 };
	int n = snprintf(buf, sizeof(buf), "%u:%u#%d", xid, msg_xid, seq);
	int rc = spill_append(sp, msg_xid, (cdc_lsn) seq * 16, (const uint8_t *) buf, (size_t) n, &err);

	if (rc != 0)
		fail_msg("spill_append %s: %d %s", buf, rc, err.msg);
	return 12 + (uint64_t) n;
}

static void
start(struct spill *sp, uint32_t xid, bool first)
{
	struct cdc_err err = { 0 };

	if (spill_start(sp, xid, first, &err) != 0)
		fail_msg("spill_start %u: %s", xid, err.msg);
}

static void
stop(struct spill *sp)
{
	struct cdc_err err = { 0 };

	if (spill_stop(sp, &err) != 0)
		fail_msg("spill_stop: %s", err.msg);
}

struct got {
	char log[8192];          /* messages replayed, ' '-separated */
	int n;
	int fail_at;             /* return CDC_ERR_FATAL for this message (0-based); -1 never */
	cdc_lsn lsns[256];
	size_t lens[256];
};

static int
collect(void *ctx, cdc_lsn lsn, const uint8_t *buf, size_t len, struct cdc_err *err)
{
	struct got *g = ctx;
	size_t used = strlen(g->log);

	if (g->n == g->fail_at)
		return cdc_errf(err, CDC_ERR_FATAL, "refusing message %d", g->n);
	if (g->n < (int) NELEM(g->lsns)) {
		g->lsns[g->n] = lsn;
		g->lens[g->n] = len;
	}
	if (len == 0) {
		snprintf(g->log + used, sizeof(g->log) - used, "%s", used ? " " : "");
	} else if (len < 64) {
		snprintf(g->log + used, sizeof(g->log) - used, "%s%.*s", used ? " " : "", (int) len,
		         (const char *) buf);
	} else {
		/* a big message: check its pattern, log its size */
		for (size_t i = 0; i < len; i++)
			if (buf[i] != (uint8_t) (i * 7 + 3))
				fail_msg("big message byte %zu is 0x%02x", i, buf[i]);
		snprintf(g->log + used, sizeof(g->log) - used, "%s<%zu>", used ? " " : "", len);
	}
	g->n++;
	return 0;
}

static void
replay_expect(struct spill *sp, uint32_t xid, const char *want)
{
	struct got g;
	struct cdc_err err = { 0 };
	int rc;

	memset(&g, 0, sizeof(g));
	g.fail_at = -1;
	rc = spill_replay(sp, xid, collect, &g, &err);
	if (rc != 0)
		fail_msg("spill_replay %u: %d %s", xid, rc, err.msg);
	assert_string_equal(g.log, want);
}

/* ---- tests ---------------------------------------------------------------------------- */

/* One transaction in three segments; replay in order with LSNs and lengths intact,
 * then the file is gone and the bytes are given back. */
static void
test_segments(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct got g;
	struct cdc_err err = { 0 };
	uint64_t bytes = 0;
	int seq = 1;

	start(sp, 728, true);
	for (int i = 0; i < 3; i++)
		bytes += put(sp, 728, 728, seq++);
	stop(sp);
	assert_true(file_exists(t, 728));
	assert_int_equal(spill_bytes(sp), bytes);
	assert_int_equal(file_size(t, 728), (long long) bytes);
	start(sp, 728, false);
	bytes += put(sp, 728, 728, seq++);
	stop(sp);
	start(sp, 728, false);
	stop(sp);   /* an empty segment */
	start(sp, 728, false);
	bytes += put(sp, 728, 728, seq++);
	bytes += put(sp, 728, 0, seq++);   /* no xid prefix (a Message): no subtransaction */
	stop(sp);
	assert_int_equal(spill_bytes(sp), bytes);
	assert_int_equal(file_size(t, 728), (long long) bytes);

	memset(&g, 0, sizeof(g));
	g.fail_at = -1;
	assert_int_equal(spill_replay(sp, 728, collect, &g, &err), 0);
	assert_string_equal(g.log, "728:728#1 728:728#2 728:728#3 728:728#4 728:728#5 728:0#6");
	for (int i = 0; i < 6; i++)
		assert_int_equal(g.lsns[i], (cdc_lsn) (i + 1) * 16);
	assert_int_equal(g.lens[0], strlen("728:728#1"));
	assert_false(file_exists(t, 728));
	assert_int_equal(spill_bytes(sp), 0);
	/* replayed once: a second replay finds nothing */
	replay_expect(sp, 728, "");
	spill_free(sp);
}

/* Two transactions streamed in turns (another one's segment between two of each). */
static void
test_interleaved(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	uint64_t b100 = 0, b200 = 0;

	start(sp, 100, true);
	b100 += put(sp, 100, 100, 1);
	b100 += put(sp, 100, 100, 2);
	stop(sp);
	start(sp, 200, true);
	b200 += put(sp, 200, 200, 3);
	stop(sp);
	start(sp, 100, false);
	b100 += put(sp, 100, 100, 4);
	stop(sp);
	start(sp, 200, false);
	b200 += put(sp, 200, 201, 5);
	b200 += put(sp, 200, 200, 6);
	stop(sp);
	assert_int_equal(spill_bytes(sp), b100 + b200);
	assert_int_equal(file_size(t, 100), (long long) b100);
	assert_int_equal(file_size(t, 200), (long long) b200);

	/* commits in the other order */
	replay_expect(sp, 200, "200:200#3 200:201#5 200:200#6");
	assert_int_equal(spill_bytes(sp), b100);
	assert_false(file_exists(t, 200));
	assert_true(file_exists(t, 100));
	replay_expect(sp, 100, "100:100#1 100:100#2 100:100#4");
	assert_int_equal(spill_bytes(sp), 0);
	spill_free(sp);
}

/* Subtransaction aborts cut the file at the aborted subtransaction's first message:
 * what follows (its own messages and those of subtransactions first seen later, e.g.
 * nested in it) goes, what precedes (including earlier subtransactions) stays. */
static void
test_subxact_abort(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	uint64_t kept;

	start(sp, 731, true);
	kept = put(sp, 731, 731, 1);
	kept += put(sp, 731, 732, 2);          /* SAVEPOINT a */
	kept += put(sp, 731, 731, 3);          /* (after RELEASE a) */
	put(sp, 731, 733, 4);                  /* SAVEPOINT b */
	put(sp, 731, 734, 5);                  /* SAVEPOINT c, inside b */
	stop(sp);
	start(sp, 731, false);
	put(sp, 731, 733, 6);
	put(sp, 731, 734, 7);
	put(sp, 731, 0, 8);
	stop(sp);

	/* ROLLBACK TO b: 733 and 734 (first seen after 733) go; 732 and 731 stay */
	assert_int_equal(spill_abort(sp, 731, 733, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);
	assert_int_equal(file_size(t, 731), (long long) kept);
	/* 734 went with it: its own abort now changes nothing */
	assert_int_equal(spill_abort(sp, 731, 734, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);
	/* an unknown subtransaction (no streamed changes): nothing */
	assert_int_equal(spill_abort(sp, 731, 999, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);

	/* appending continues where the cut left the file; 734 seen again is new */
	start(sp, 731, false);
	kept += put(sp, 731, 735, 9);
	put(sp, 731, 734, 10);
	stop(sp);
	assert_int_equal(file_size(t, 731), (long long) (kept + 12 + strlen("731:734#10")));
	/* aborting 734 now cuts at its new first message only */
	assert_int_equal(spill_abort(sp, 731, 734, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);
	/* 733 itself was forgotten at its abort: a repeated abort cuts nothing */
	assert_int_equal(spill_abort(sp, 731, 733, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);
	assert_int_equal(file_size(t, 731), (long long) kept);
	assert_int_equal(err.code, 0);

	replay_expect(sp, 731, "731:731#1 731:732#2 731:731#3 731:735#9");
	assert_int_equal(spill_bytes(sp), 0);
	spill_free(sp);
}

/* Aborting the earliest subtransaction takes everything after it, including later
 * subtransactions that were first seen after it. */
static void
test_subxact_abort_first(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	uint64_t kept;

	start(sp, 50, true);
	kept = put(sp, 50, 50, 1);
	put(sp, 50, 51, 2);
	put(sp, 50, 52, 3);
	put(sp, 50, 50, 4);
	stop(sp);
	assert_int_equal(spill_abort(sp, 50, 51, &err), 0);
	assert_int_equal(spill_bytes(sp), kept);
	/* 52 is forgotten, so is 51: new messages of them register afresh */
	start(sp, 50, false);
	kept += put(sp, 50, 52, 5);
	stop(sp);
	replay_expect(sp, 50, "50:50#1 50:52#5");

	/* a subtransaction that is the very first message: cut to nothing, the
	 * transaction still exists and replays nothing */
	start(sp, 60, true);
	put(sp, 60, 61, 1);
	stop(sp);
	assert_int_equal(spill_abort(sp, 60, 61, &err), 0);
	assert_int_equal(file_size(t, 60), 0);
	assert_int_equal(spill_bytes(sp), 0);
	start(sp, 60, false);   /* not first: the transaction is still known */
	stop(sp);
	replay_expect(sp, 60, "");
	assert_false(file_exists(t, 60));
	spill_free(sp);
}

static void
test_whole_abort(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	uint64_t b2;

	start(sp, 730, true);
	put(sp, 730, 730, 1);
	put(sp, 730, 731, 2);
	stop(sp);
	start(sp, 740, true);
	b2 = put(sp, 740, 740, 3);
	stop(sp);
	assert_true(file_exists(t, 730));

	assert_int_equal(spill_abort(sp, 730, 730, &err), 0);
	assert_false(file_exists(t, 730));
	assert_int_equal(spill_bytes(sp), b2);
	/* it is forgotten: replay finds nothing, a continuation segment is an error */
	replay_expect(sp, 730, "");
	assert_int_equal(spill_start(sp, 730, false, &err), CDC_ERR_PROTO);
	/* subxid 0 also means the whole transaction */
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_abort(sp, 740, 0, &err), 0);
	assert_false(file_exists(t, 740));
	assert_int_equal(spill_bytes(sp), 0);
	/* abort of a transaction never streamed */
	assert_int_equal(spill_abort(sp, 12345, 12345, &err), 0);
	assert_int_equal(spill_abort(sp, 12345, 12346, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(count_files(t->spill), 0);
	spill_free(sp);
}

static void
test_protocol_errors(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	struct got g;

	/* replay of an unknown xid: nothing, no callback */
	memset(&g, 0, sizeof(g));
	g.fail_at = 0;   /* would fail if called */
	assert_int_equal(spill_replay(sp, 4242, collect, &g, &err), 0);
	assert_int_equal(g.n, 0);

	/* non-first segment without a file */
	assert_int_equal(spill_start(sp, 500, false, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "500"));
	assert_non_null(strstr(err.msg, "first segment"));
	assert_false(file_exists(t, 500));
	/* append and stop outside a stream */
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_append(sp, 0, 1, (const uint8_t *) "x", 1, &err), CDC_ERR_PROTO);
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_stop(sp, &err), CDC_ERR_PROTO);

	/* a stream inside a stream; the first segment twice */
	start(sp, 501, true);
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_start(sp, 502, true, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "inside the stream of transaction 501"));
	/* commit or abort of the transaction whose stream is open */
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_replay(sp, 501, collect, &g, &err), CDC_ERR_PROTO);
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_abort(sp, 501, 501, &err), CDC_ERR_PROTO);
	stop(sp);
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_start(sp, 501, true, &err), CDC_ERR_PROTO);
	assert_non_null(strstr(err.msg, "again"));
	assert_int_equal(spill_bytes(sp), 0);
	spill_free(sp);
}

/* spill_new creates the directory and removes *.spill files a previous run left. */
static void
test_stale_files(void **state)
{
	struct tdir *t = *state;
	struct spill *sp;
	struct cdc_err err = { 0 };
	const char *names[] = { "728.spill", "junk.spill", "keep.txt", ".spill", "x.spill.bak" };
	char path[PATH_MAX + 32];

	sp = new_spill(t);   /* creates root/state/spill */
	spill_free(sp);
	for (size_t i = 0; i < NELEM(names); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", t->spill, names[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("stale", f);
		fclose(f);
	}
	assert_int_equal(count_files(t->spill), 5);
	sp = new_spill(t);
	assert_int_equal(count_files(t->spill), 3);
	assert_false(file_exists(t, 728));
	snprintf(path, sizeof(path), "%s/keep.txt", t->spill);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/.spill", t->spill);
	assert_int_equal(access(path, F_OK), 0);
	/* a stale file of a transaction streamed again starts fresh */
	start(sp, 728, true);
	put(sp, 728, 728, 1);
	stop(sp);
	replay_expect(sp, 728, "728:728#1");
	spill_free(sp);

	/* a directory that cannot be created */
	snprintf(path, sizeof(path), "%s/keep.txt/spill", t->spill);
	assert_null(spill_new(path, &err));
	assert_int_equal(err.code, CDC_ERR_IO);
	assert_non_null(strstr(err.msg, path));
	spill_free(NULL);
}

/* spill_reset and spill_free delete every file; a callback error keeps the file. */
static void
test_reset_and_errors(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	struct got g;
	uint64_t bytes = 0;

	start(sp, 1, true);
	bytes += put(sp, 1, 1, 1);
	bytes += put(sp, 1, 1, 2);
	bytes += put(sp, 1, 1, 3);
	stop(sp);
	start(sp, 2, true);
	put(sp, 2, 2, 1);
	stop(sp);

	/* the callback refuses the second message: replay stops, the file stays */
	memset(&g, 0, sizeof(g));
	g.fail_at = 1;
	assert_int_equal(spill_replay(sp, 1, collect, &g, &err), CDC_ERR_FATAL);
	assert_string_equal(err.msg, "refusing message 1");
	assert_string_equal(g.log, "1:1#1");
	assert_true(file_exists(t, 1));
	/* and can be replayed whole later */
	replay_expect(sp, 1, "1:1#1 1:1#2 1:1#3");

	/* a file cut short behind the spill's back: an I/O error, not garbage */
	start(sp, 3, true);
	bytes = put(sp, 3, 3, 1);
	bytes += put(sp, 3, 3, 2);
	stop(sp);
	{
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/3.spill", t->spill);
		assert_int_equal(truncate(path, (off_t) bytes - 3), 0);
	}
	memset(&g, 0, sizeof(g));
	g.fail_at = -1;
	memset(&err, 0, sizeof(err));
	assert_int_equal(spill_replay(sp, 3, collect, &g, &err), CDC_ERR_IO);
	assert_non_null(strstr(err.msg, "short"));
	assert_string_equal(g.log, "3:3#1");

	/* a stream left open at reset: closed and deleted too */
	start(sp, 4, true);
	put(sp, 4, 4, 1);
	spill_reset(sp);
	assert_int_equal(spill_bytes(sp), 0);
	assert_int_equal(count_files(t->spill), 0);
	/* usable after a reset, and the open stream is gone */
	start(sp, 4, true);
	stop(sp);
	start(sp, 5, true);
	put(sp, 5, 5, 1);
	stop(sp);
	spill_free(sp);
	assert_int_equal(count_files(t->spill), 0);
}

/* A full state_dir (here a file size limit: EFBIG, handled like ENOSPC) is
 * CDC_ERR_AGAIN, not an error: the partial record is cut back and the same append
 * succeeds once there is room, and the replay has every message once (issue 13.7). */
static void
test_full_then_room(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	struct rlimit old, lim;
	uint8_t big[3000];
	int rc;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t) (i * 7 + 3);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	start(sp, 740, true);
	put(sp, 740, 740, 1);
	lim = old;
	lim.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(spill_append(sp, 740, 32, big, sizeof(big), &err), 0);
	rc = spill_append(sp, 741, 48, big, sizeof(big), &err);      /* past 4 kB */
	assert_int_equal(rc, CDC_ERR_AGAIN);
	assert_non_null(strstr(err.msg, "state_dir is full"));
	assert_int_equal(file_size(t, 740), 12 + 9 + 12 + 3000);     /* cut back */
	cdc_err_clear(&err);
	assert_int_equal(spill_append(sp, 741, 48, big, sizeof(big), &err), CDC_ERR_AGAIN);
	cdc_err_clear(&err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);          /* room again */
	assert_int_equal(spill_append(sp, 741, 48, big, sizeof(big), &err), 0);
	stop(sp);
	replay_expect(sp, 740, "740:740#1 <3000> <3000>");
	spill_free(sp);
}

/* Messages larger than the replay buffer, one over 1 MB (the buffer is released after
 * it), an empty one, and the byte count. */
static void
test_big_messages(void **state)
{
	struct tdir *t = *state;
	struct spill *sp = new_spill(t);
	struct cdc_err err = { 0 };
	const size_t sizes[] = { 100000, 0, 2u << 20, 70000 };
	uint64_t bytes = 0;
	uint8_t *buf = malloc(2u << 20);

	assert_non_null(buf);
	for (size_t i = 0; i < (2u << 20); i++)
		buf[i] = (uint8_t) (i * 7 + 3);
	start(sp, 9, true);
	bytes += put(sp, 9, 9, 1);
	for (size_t i = 0; i < NELEM(sizes); i++) {
		assert_int_equal(spill_append(sp, 9, 0x1000 + i, buf, sizes[i], &err), 0);
		bytes += 12 + sizes[i];
	}
	stop(sp);
	assert_int_equal(spill_bytes(sp), bytes);
	assert_int_equal(file_size(t, 9), (long long) bytes);
	replay_expect(sp, 9, "9:9#1 <100000>  <2097152> <70000>");
	free(buf);

	/* the replay buffer works again after being released */
	start(sp, 10, true);
	put(sp, 10, 10, 1);
	stop(sp);
	replay_expect(sp, 10, "10:10#1");
	spill_free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_segments, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_interleaved, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_subxact_abort, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_subxact_abort_first, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_whole_abort, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_stale_files, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_reset_and_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_big_messages, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_full_then_room, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
