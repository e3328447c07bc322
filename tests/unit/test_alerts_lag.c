/*
 * test_alerts_lag.c — lag_seconds estimation (monitor/lag.h): 0 when caught up,
 * interpolation between samples, idle positions collapsed, growing while stalled,
 * the lower bound when confirmed predates the history, bounded memory that keeps
 * the oldest sample, a server going back, and restoring a persisted history.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>

#include "monitor/lag.h"

#define assert_secs(got, want) do { \
	double g_ = (got), w_ = (want); \
	if (fabs(g_ - w_) > 1e-6) \
		fail_msg("line %d: expected %.6f s, got %.6f s", __LINE__, w_, g_); \
} while (0)

static void
test_caught_up(void **state)
{
	struct mon_lag *l = mon_lag_new(16);
	bool lb = true;

	(void) state;
	assert_secs(mon_lag_seconds(l, 1000, 0, &lb), 0);   /* no history */
	assert_false(lb);
	mon_lag_add(l, 1000, 500);
	assert_secs(mon_lag_seconds(l, 1000, 500, &lb), 0);
	assert_secs(mon_lag_seconds(l, 1000, 600, &lb), 0); /* ahead: caught up */
	mon_lag_free(l);
	mon_lag_free(NULL);
}

static void
test_interpolation(void **state)
{
	struct mon_lag *l = mon_lag_new(16);
	bool lb = true;

	(void) state;
	mon_lag_add(l, 0, 100);
	mon_lag_add(l, 1000, 200);
	mon_lag_add(l, 2000, 300);
	/* confirmed exactly at a sample: the server was there until that sample */
	assert_secs(mon_lag_seconds(l, 2000, 100, &lb), 2.0);
	assert_false(lb);
	assert_secs(mon_lag_seconds(l, 2000, 200, NULL), 1.0);
	/* between samples: linear by LSN */
	assert_secs(mon_lag_seconds(l, 2000, 150, NULL), 1.5);
	assert_secs(mon_lag_seconds(l, 2000, 275, NULL), 0.25);
	mon_lag_free(l);
}

static void
test_idle_and_stalled(void **state)
{
	struct mon_lag *l = mon_lag_new(16);

	(void) state;
	/* an idle server: one entry, last seen at the newest sample */
	for (int t = 0; t <= 5000; t += 1000)
		mon_lag_add(l, t, 100);
	assert_int_equal(mon_lag_entries(l), 1);
	/* WAL written between 5000 and 6000; the agent confirmed only up to 100 */
	mon_lag_add(l, 6000, 200);
	assert_secs(mon_lag_seconds(l, 6000, 100, NULL), 1.0);
	/* the agent is stalled: lag keeps growing with time, whatever the server does */
	for (int t = 7000; t <= 20000; t += 1000) {
		mon_lag_add(l, t, 200);
		assert_secs(mon_lag_seconds(l, t, 100, NULL), (t - 5000) / 1000.0);
	}
	mon_lag_add(l, 21000, 300);
	assert_secs(mon_lag_seconds(l, 21000, 100, NULL), 16.0);
	/* it catches up part way, then fully */
	assert_secs(mon_lag_seconds(l, 21000, 200, NULL), 1.0);
	assert_secs(mon_lag_seconds(l, 21000, 300, NULL), 0);
	mon_lag_free(l);
}

static void
test_lower_bound(void **state)
{
	struct mon_lag *l = mon_lag_new(16);
	bool lb = false;

	(void) state;
	mon_lag_add(l, 5000, 1000);
	mon_lag_add(l, 6000, 1000);
	/* the backlog predates the first sample: counted from it, flagged */
	assert_secs(mon_lag_seconds(l, 6000, 10, &lb), 1.0);
	assert_true(lb);
	assert_secs(mon_lag_seconds(l, 9000, 10, &lb), 4.0);
	mon_lag_free(l);
}

static void
test_bounded(void **state)
{
	struct mon_lag *l = mon_lag_new(8);
	cdc_lsn lsn;
	int64_t first, last;

	(void) state;
	for (int i = 0; i < 1000; i++)
		mon_lag_add(l, (int64_t) i * 1000, (cdc_lsn) i * 10);
	assert_true(mon_lag_entries(l) <= 8);
	/* the oldest sample is kept: the span never shrinks */
	assert_int_equal(mon_lag_entry(l, 0, &lsn, &first, &last), 0);
	assert_int_equal(lsn, 0);
	assert_int_equal(first, 0);
	assert_secs(mon_lag_seconds(l, 999000, 0, NULL), 999.0);
	/* the newest samples are exact */
	assert_secs(mon_lag_seconds(l, 999000, 9985, NULL), 0.5);
	/* entries stay ordered */
	for (int i = 1; i < mon_lag_entries(l); i++) {
		cdc_lsn p;
		int64_t pf, pl;

		assert_int_equal(mon_lag_entry(l, i - 1, &p, &pf, &pl), 0);
		assert_int_equal(mon_lag_entry(l, i, &lsn, &first, &last), 0);
		assert_true(lsn > p);
		assert_true(first > pl);
	}
	assert_int_equal(mon_lag_entry(l, mon_lag_entries(l), &lsn, &first, &last), -1);
	mon_lag_free(l);
}

static void
test_reset_and_restore(void **state)
{
	struct mon_lag *l = mon_lag_new(16);

	(void) state;
	mon_lag_add(l, 0, 1000);
	mon_lag_add(l, 1000, 2000);
	mon_lag_add(l, 2000, 500);    /* a different server: start over */
	assert_int_equal(mon_lag_entries(l), 1);
	mon_lag_free(l);

	/* restore a persisted history (pgcdc was down from 10 s to 100 s) */
	l = mon_lag_new(16);
	mon_lag_restore(l, 100, 0, 5000);
	mon_lag_restore(l, 200, 6000, 10000);
	mon_lag_restore(l, 150, 11000, 12000);     /* LSN going back: ignored */
	mon_lag_restore(l, 300, 9000, 9500);       /* time going back: ignored */
	mon_lag_restore(l, 400, 13000, 12000);     /* last before first: ignored */
	assert_int_equal(mon_lag_entries(l), 2);
	/* the server wrote more while pgcdc was down; pgcdc had confirmed 200 */
	mon_lag_add(l, 100000, 900);
	assert_secs(mon_lag_seconds(l, 100000, 200, NULL), 90.0);
	mon_lag_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caught_up),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_idle_and_stalled),
		cmocka_unit_test(test_lower_bound),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_reset_and_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
