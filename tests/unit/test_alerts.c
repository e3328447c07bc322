/*
 * test_alerts.c — the alert state machine (transitions, each firing once, re-fire
 * every alert_repeat, hysteresis, resolved, unknown values, disabled levels), the
 * hook's JSON, argv splitting, and hook execution: environment, stdin, exit
 * status, output capture, the timeout killing the whole process group, and the
 * runner thread delivering events in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor/alerts.h"

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct alerts *
new_alerts(int64_t repeat_ms)
{
	struct alert_rules r;
	struct alerts *a;

	memset(&r, 0, sizeof(r));
	r.warning[ALERT_LAG_BYTES] = 100;
	r.critical[ALERT_LAG_BYTES] = 1000;
	r.warning[ALERT_LAG_SECONDS] = 60;
	r.critical[ALERT_LAG_SECONDS] = 3600;
	r.warning[ALERT_RETAINED_WAL] = 0;          /* warning level disabled */
	r.critical[ALERT_RETAINED_WAL] = 500;
	r.warning[ALERT_WAL_DISK] = 0.7;
	r.critical[ALERT_WAL_DISK] = 0.85;
	r.critical[ALERT_SLOT_INACTIVE] = 30;
	r.repeat_ms = repeat_ms;
	r.slot = "pgcdc";
	a = alerts_new(&r);
	assert_non_null(a);
	return a;
}

/* Observe a numeric value; returns the severity fired or NULL. */
static const char *
num(struct alerts *a, enum alert_id id, double v, int64_t t, struct alert_event *ev)
{
	struct alert_obs o;

	memset(&o, 0, sizeof(o));
	o.known = true;
	o.value = v;
	return alerts_observe(a, id, &o, t, ev) == 1 ? ev->severity : NULL;
}

static const char *
disc(struct alerts *a, enum alert_id id, enum alert_level l, const char *text, int64_t t,
     struct alert_event *ev)
{
	struct alert_obs o;

	memset(&o, 0, sizeof(o));
	o.known = true;
	o.level = l;
	snprintf(o.text, sizeof(o.text), "%s", text);
	return alerts_observe(a, id, &o, t, ev) == 1 ? ev->severity : NULL;
}

#define assert_fired(got, want) do { \
	const char *g_ = (got); \
	if (g_ == NULL || strcmp(g_, (want)) != 0) \
		fail_msg("line %d: expected %s, got %s", __LINE__, (want), g_ ? g_ : "nothing"); \
} while (0)
#define assert_quiet(got) do { \
	const char *g_ = (got); \
	if (g_ != NULL) \
		fail_msg("line %d: expected no event, got %s", __LINE__, g_); \
} while (0)

/* ------------------------------------------------------------------------ */
/* state machine                                                            */
/* ------------------------------------------------------------------------ */

static void
test_names(void **state)
{
	(void) state;
	assert_string_equal(alert_name(ALERT_LAG_BYTES), "lag_bytes");
	assert_string_equal(alert_name(ALERT_LAG_SECONDS), "lag_seconds");
	assert_string_equal(alert_name(ALERT_RETAINED_WAL), "retained_wal");
	assert_string_equal(alert_name(ALERT_WAL_DISK), "wal_disk");
	assert_string_equal(alert_name(ALERT_WAL_STATUS), "wal_status");
	assert_string_equal(alert_name(ALERT_SLOT_INACTIVE), "slot_inactive");
	assert_string_equal(alert_name(ALERT_SINK_ERROR), "sink_error");
	assert_string_equal(alert_name(ALERT_GAP), "gap");
	assert_string_equal(alert_level_name(ALERT_OK), "ok");
	assert_string_equal(alert_level_name(ALERT_WARNING), "warning");
	assert_string_equal(alert_level_name(ALERT_CRITICAL), "critical");
}

static void
test_transitions(void **state)
{
	struct alerts *a = new_alerts(0);
	struct alert_event ev;

	(void) state;
	assert_quiet(num(a, ALERT_LAG_BYTES, 50, 1000, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 150, 2000, &ev), "warning");
	assert_int_equal(ev.id, ALERT_LAG_BYTES);
	assert_string_equal(ev.name, "lag_bytes");
	assert_int_equal(ev.level, ALERT_WARNING);
	assert_int_equal(ev.previous, ALERT_OK);
	assert_false(ev.repeat);
	assert_true(ev.numeric);
	assert_string_equal(ev.value, "150");
	assert_string_equal(ev.threshold, "100");
	assert_int_equal(ev.at_ms, 2000);
	assert_non_null(strstr(ev.message, "slot \"pgcdc\" is 150 B behind"));
	assert_non_null(strstr(ev.message, "warning threshold 100 B"));

	assert_quiet(num(a, ALERT_LAG_BYTES, 160, 3000, &ev));     /* once per transition */
	assert_fired(num(a, ALERT_LAG_BYTES, 2048, 4000, &ev), "critical");
	assert_int_equal(ev.previous, ALERT_WARNING);
	assert_string_equal(ev.threshold, "1000");
	assert_non_null(strstr(ev.message, "2.0 kB behind"));
	assert_quiet(num(a, ALERT_LAG_BYTES, 5000, 5000, &ev));

	/* down: critical holds while >= 90% of 1000, then warning */
	assert_quiet(num(a, ALERT_LAG_BYTES, 950, 6000, &ev));
	assert_quiet(num(a, ALERT_LAG_BYTES, 900, 7000, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 899, 8000, &ev), "warning");
	assert_int_equal(ev.previous, ALERT_CRITICAL);
	assert_string_equal(ev.threshold, "100");
	/* warning holds while >= 90, then resolved */
	assert_quiet(num(a, ALERT_LAG_BYTES, 95, 9000, &ev));
	assert_quiet(num(a, ALERT_LAG_BYTES, 90, 10000, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 89, 11000, &ev), "resolved");
	assert_int_equal(ev.level, ALERT_OK);
	assert_int_equal(ev.previous, ALERT_WARNING);
	assert_string_equal(ev.value, "89");
	assert_string_equal(ev.threshold, "100");
	assert_non_null(strstr(ev.message, "resolved (was warning)"));
	assert_quiet(num(a, ALERT_LAG_BYTES, 0, 12000, &ev));

	/* straight from ok to critical and back */
	assert_fired(num(a, ALERT_LAG_BYTES, 10000, 13000, &ev), "critical");
	assert_int_equal(ev.previous, ALERT_OK);
	assert_fired(num(a, ALERT_LAG_BYTES, 0, 14000, &ev), "resolved");
	assert_int_equal(ev.previous, ALERT_CRITICAL);

	/* alerts are independent */
	assert_fired(num(a, ALERT_LAG_SECONDS, 61, 15000, &ev), "warning");
	assert_string_equal(ev.value, "61.0");
	assert_string_equal(ev.threshold, "60.0");
	assert_quiet(num(a, ALERT_LAG_BYTES, 0, 15000, &ev));
	alerts_free(a);
}

static void
test_no_flapping(void **state)
{
	struct alerts *a = new_alerts(0);
	struct alert_event ev;
	int events = 0;

	(void) state;
	/* a value oscillating around the warning threshold fires once */
	for (int i = 0; i < 40; i++)
		events += num(a, ALERT_LAG_BYTES, i % 2 ? 101 : 99, 1000 * i, &ev) != NULL;
	assert_int_equal(events, 1);
	/* ... and around the critical one: one critical */
	events = 0;
	for (int i = 0; i < 40; i++)
		events += num(a, ALERT_LAG_BYTES, i % 2 ? 1001 : 950, 100000 + 1000 * i, &ev) != NULL;
	assert_int_equal(events, 1);
	assert_string_equal(ev.severity, "critical");
	alerts_free(a);
}

static void
test_repeat(void **state)
{
	struct alerts *a = new_alerts(1000);
	struct alert_event ev;

	(void) state;
	assert_fired(num(a, ALERT_LAG_BYTES, 150, 0, &ev), "warning");
	assert_quiet(num(a, ALERT_LAG_BYTES, 150, 500, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 170, 1000, &ev), "warning");
	assert_true(ev.repeat);
	assert_int_equal(ev.previous, ALERT_WARNING);
	assert_string_equal(ev.value, "170");
	assert_non_null(strstr(ev.message, "still firing: slot \"pgcdc\" is 170 B behind"));
	assert_quiet(num(a, ALERT_LAG_BYTES, 150, 1500, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 150, 2000, &ev), "warning");
	/* a transition restarts the repeat clock */
	assert_fired(num(a, ALERT_LAG_BYTES, 5000, 2600, &ev), "critical");
	assert_false(ev.repeat);
	assert_quiet(num(a, ALERT_LAG_BYTES, 5000, 3000, &ev));
	assert_fired(num(a, ALERT_LAG_BYTES, 5000, 3600, &ev), "critical");
	assert_true(ev.repeat);
	assert_fired(num(a, ALERT_LAG_BYTES, 0, 3700, &ev), "resolved");
	/* ok never re-fires */
	for (int i = 1; i <= 10; i++)
		assert_quiet(num(a, ALERT_LAG_BYTES, 0, 3700 + 1000 * i, &ev));
	alerts_free(a);

	/* alert_repeat = 0: never re-fired */
	a = new_alerts(0);
	assert_fired(num(a, ALERT_LAG_BYTES, 150, 0, &ev), "warning");
	for (int i = 1; i <= 10; i++)
		assert_quiet(num(a, ALERT_LAG_BYTES, 150, (int64_t) i * 3600 * 1000, &ev));
	alerts_free(a);
}

static void
test_discrete(void **state)
{
	struct alerts *a = new_alerts(0);
	struct alert_event ev;

	(void) state;
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_OK, "reserved", 0, &ev));
	assert_fired(disc(a, ALERT_WAL_STATUS, ALERT_WARNING, "extended", 1000, &ev), "warning");
	assert_false(ev.numeric);
	assert_string_equal(ev.value, "extended");
	assert_string_equal(ev.threshold, "extended");
	assert_non_null(strstr(ev.message, "wal_status extended"));
	/* one ok sample does not clear it; an interruption restarts the count */
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_OK, "reserved", 2000, &ev));
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_WARNING, "extended", 3000, &ev));
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_OK, "reserved", 4000, &ev));
	assert_fired(disc(a, ALERT_WAL_STATUS, ALERT_OK, "reserved", 5000, &ev), "resolved");
	assert_string_equal(ev.threshold, "");
	/* rising is immediate */
	assert_fired(disc(a, ALERT_WAL_STATUS, ALERT_CRITICAL, "unreserved", 6000, &ev), "critical");
	assert_string_equal(ev.threshold, "unreserved");
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_CRITICAL, "lost", 7000, &ev));
	assert_quiet(disc(a, ALERT_WAL_STATUS, ALERT_WARNING, "extended", 8000, &ev));
	assert_fired(disc(a, ALERT_WAL_STATUS, ALERT_WARNING, "extended", 9000, &ev), "warning");
	assert_int_equal(ev.previous, ALERT_CRITICAL);

	/* sink_error: the failing sink's name and its error in the message */
	{
		struct alert_obs o;

		memset(&o, 0, sizeof(o));
		o.known = true;
		o.level = ALERT_CRITICAL;
		snprintf(o.text, sizeof(o.text), "kafka");
		snprintf(o.detail, sizeof(o.detail), "broker 127.0.0.1:9092 down");
		assert_int_equal(alerts_observe(a, ALERT_SINK_ERROR, &o, 10000, &ev), 1);
		assert_string_equal(ev.severity, "critical");
		assert_string_equal(ev.value, "kafka");
		assert_string_equal(ev.threshold, "");
		assert_string_equal(ev.message, "sink kafka is failing: broker 127.0.0.1:9092 down");
	}

	/* gap: critical while a backfill closes it, the gap's description in the message */
	{
		struct alert_obs o;

		memset(&o, 0, sizeof(o));
		o.known = true;
		o.level = ALERT_CRITICAL;
		snprintf(o.detail, sizeof(o.detail), "slot \"s\" does not exist on this server");
		assert_int_equal(alerts_observe(a, ALERT_GAP, &o, 10500, &ev), 1);
		assert_string_equal(ev.severity, "critical");
		assert_string_equal(ev.threshold, "");
		assert_non_null(strstr(ev.message, "an online backfill of every table"));
		assert_non_null(strstr(ev.message, "does not exist on this server"));
		o.level = ALERT_OK;
		o.detail[0] = '\0';
		assert_int_equal(alerts_observe(a, ALERT_GAP, &o, 10600, &ev), 0);   /* hysteresis */
		assert_int_equal(alerts_observe(a, ALERT_GAP, &o, 10700, &ev), 1);
		assert_string_equal(ev.severity, "resolved");
	}

	/* slot_inactive: discrete level, numeric value (seconds), threshold 2 intervals */
	{
		struct alert_obs o;

		memset(&o, 0, sizeof(o));
		o.known = true;
		o.level = ALERT_CRITICAL;
		o.value = 31;
		assert_int_equal(alerts_observe(a, ALERT_SLOT_INACTIVE, &o, 11000, &ev), 1);
		assert_true(ev.numeric);
		assert_string_equal(ev.value, "31");
		assert_string_equal(ev.threshold, "30");
		assert_non_null(strstr(ev.message, "has not been active for 31 s"));
		o.level = ALERT_OK;
		o.value = 0;
		assert_int_equal(alerts_observe(a, ALERT_SLOT_INACTIVE, &o, 12000, &ev), 0);
		assert_int_equal(alerts_observe(a, ALERT_SLOT_INACTIVE, &o, 13000, &ev), 1);
		assert_string_equal(ev.severity, "resolved");
		assert_string_equal(ev.message, "resolved (was critical): slot \"pgcdc\" is active again");
	}
	alerts_free(a);
}

static void
test_unknown_and_disabled(void **state)
{
	struct alerts *a = new_alerts(1000);
	struct alert_event ev;
	struct alert_obs o;
	struct alert_view v;

	(void) state;
	memset(&o, 0, sizeof(o));
	alerts_view(a, ALERT_WAL_DISK, &v);
	assert_int_equal(v.level, ALERT_OK);
	assert_string_equal(v.value, "");
	assert_int_equal(v.since_ms, 0);

	assert_fired(num(a, ALERT_WAL_DISK, 0.75, 1000, &ev), "warning");
	assert_string_equal(ev.value, "0.7500");
	assert_string_equal(ev.threshold, "0.7000");
	assert_non_null(strstr(ev.message, "75.0% full"));
	/* not measurable: nothing fires (not even the re-fire), state kept */
	o.known = false;
	o.value = 0;
	assert_int_equal(alerts_observe(a, ALERT_WAL_DISK, &o, 5000, &ev), 0);
	alerts_view(a, ALERT_WAL_DISK, &v);
	assert_int_equal(v.level, ALERT_WARNING);
	assert_string_equal(v.value, "0.7500");
	assert_string_equal(v.threshold, "0.7000");
	assert_int_equal(v.since_ms, 1000);
	assert_true(v.numeric);

	/* retained_wal has its warning level disabled (0): straight to critical */
	assert_quiet(num(a, ALERT_RETAINED_WAL, 400, 1000, &ev));
	alerts_view(a, ALERT_RETAINED_WAL, &v);
	assert_string_equal(v.threshold, "500");      /* what an ok value must stay under */
	assert_fired(num(a, ALERT_RETAINED_WAL, 600, 2000, &ev), "critical");
	assert_fired(num(a, ALERT_RETAINED_WAL, 449, 3000, &ev), "resolved");
	alerts_free(a);
}

static void
test_event_json(void **state)
{
	struct alert_rules r;
	struct alerts *a;
	struct alert_event ev;
	json_error_t jerr;
	json_t *o;
	char *s;

	(void) state;
	memset(&r, 0, sizeof(r));
	r.warning[ALERT_LAG_SECONDS] = 10;
	r.critical[ALERT_LAG_SECONDS] = 100;
	r.slot = "we\"ird\\slot";
	a = alerts_new(&r);
	assert_fired(num(a, ALERT_LAG_SECONDS, 12.25, INT64_C(1795341600123), &ev), "warning");
	s = alert_event_json(&ev, "we\"ird\\slot", "app\ndb");
	assert_non_null(s);
	o = json_loads(s, 0, &jerr);
	if (o == NULL)
		fail_msg("not JSON: %s: %s", jerr.text, s);
	assert_string_equal(json_string_value(json_object_get(o, "alert")), "lag_seconds");
	assert_string_equal(json_string_value(json_object_get(o, "severity")), "warning");
	assert_true(json_is_number(json_object_get(o, "value")));
	assert_true(json_number_value(json_object_get(o, "value")) > 12.19 &&
	            json_number_value(json_object_get(o, "value")) < 12.31);
	assert_true(json_number_value(json_object_get(o, "threshold")) == 10);
	assert_string_equal(json_string_value(json_object_get(o, "slot")), "we\"ird\\slot");
	assert_string_equal(json_string_value(json_object_get(o, "database")), "app\ndb");
	assert_string_equal(json_string_value(json_object_get(o, "message")), ev.message);
	assert_string_equal(json_string_value(json_object_get(o, "previous")), "ok");
	assert_true(json_is_false(json_object_get(o, "repeat")));
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-11-22T10:00:00.123Z");
	json_decref(o);
	free(s);

	/* discrete: value a string, no threshold -> null */
	assert_fired(disc(a, ALERT_SINK_ERROR, ALERT_CRITICAL, "stdout", 0, &ev), "critical");
	s = alert_event_json(&ev, "s", "d");
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "value")), "stdout");
	assert_true(json_is_null(json_object_get(o, "threshold")));
	json_decref(o);
	free(s);
	alerts_free(a);
}

/* ------------------------------------------------------------------------ */
/* hook execution                                                           */
/* ------------------------------------------------------------------------ */

static char tmpdir[64];

static int
setup_dir(void **state)
{
	(void) state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pgcdc-alerts.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(buf);
	if (f == NULL)
		return buf;
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_argv_split(void **state)
{
	char **argv;

	(void) state;
	argv = alert_argv_split("  /usr/bin/hook  --to\tops@example.com \n");
	assert_non_null(argv);
	assert_string_equal(argv[0], "/usr/bin/hook");
	assert_string_equal(argv[1], "--to");
	assert_string_equal(argv[2], "ops@example.com");
	assert_null(argv[3]);
	alert_argv_free(argv);
	assert_null(alert_argv_split(""));
	assert_null(alert_argv_split(" \t "));
	assert_null(alert_argv_split(NULL));
	/* no shell: quotes and $ are plain characters */
	argv = alert_argv_split("/bin/echo '$(rm' x;y");
	assert_string_equal(argv[1], "'$(rm'");
	assert_string_equal(argv[2], "x;y");
	alert_argv_free(argv);
}

static void
test_run_ok(void **state)
{
	char path[128];
	char *argv[] = { path, (char *) "arg one", NULL };
	char *envp[] = { (char *) "FOO=bar", (char *) "PATH=/usr/bin:/bin", NULL };
	struct alert_run_result res;

	(void) state;
	snprintf(path, sizeof(path), "%s/ok.sh", tmpdir);
	write_script(path, "read line\necho \"got $line|$1|$FOO|$(cat)\"\n");
	assert_int_equal(alert_run(argv, envp, "first\nrest", 5000, &res), 0);
	assert_true(res.started);
	assert_false(res.timed_out);
	assert_int_equal(res.exit_status, 0);
	assert_string_equal(res.output, "got first|arg one|bar|rest\n");

	/* a hook that never reads stdin is fine */
	write_script(path, "exit 0\n");
	assert_int_equal(alert_run(argv, envp, "{\"x\":1}", 5000, &res), 0);
}

static void
test_run_fail(void **state)
{
	char path[128], missing[128];
	char *argv[] = { path, NULL };
	char *argv2[] = { missing, NULL };
	char *envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
	struct alert_run_result res;

	(void) state;
	snprintf(path, sizeof(path), "%s/fail.sh", tmpdir);
	write_script(path, "echo 'to stdout'\necho 'oops: broken' >&2\nexit 3\n");
	assert_int_equal(alert_run(argv, envp, "", 5000, &res), -1);
	assert_true(res.started);
	assert_false(res.timed_out);
	assert_int_equal(res.exit_status, 3);
	assert_string_equal(res.output, "to stdout\noops: broken\n");

	write_script(path, "kill -TERM $$\n");
	assert_int_equal(alert_run(argv, envp, "", 5000, &res), -1);
	assert_int_equal(res.signal, SIGTERM);

	snprintf(missing, sizeof(missing), "%s/no-such-hook", tmpdir);
	assert_int_equal(alert_run(argv2, envp, "", 5000, &res), -1);
	assert_int_equal(res.exit_status, 127);
	assert_non_null(strstr(res.output, "cannot execute"));
	assert_non_null(strstr(res.output, "no such file"));

	/* not executable */
	write_script(path, "exit 0\n");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(alert_run(argv, envp, "", 5000, &res), -1);
	assert_int_equal(res.exit_status, 127);
	assert_non_null(strstr(res.output, "permission denied"));
}

static void
test_run_timeout(void **state)
{
	char path[128], pidfile[128], procpath[64], body[512];
	char *argv[] = { path, NULL };
	char *envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
	struct alert_run_result res;
	char *pid;
	struct timespec t = { 0, 50 * 1000 * 1000 };

	(void) state;
	snprintf(path, sizeof(path), "%s/hang.sh", tmpdir);
	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", tmpdir);
	snprintf(body, sizeof(body), "echo started\nsleep 30 &\necho $! >%s\nwait\n", pidfile);
	write_script(path, body);
	assert_int_equal(alert_run(argv, envp, "", 300, &res), -1);
	assert_true(res.timed_out);
	assert_int_equal(res.signal, SIGKILL);
	assert_true(res.elapsed_ms >= 300);
	assert_true(res.elapsed_ms < 3000);
	assert_string_equal(res.output, "started\n");
	/* its child, in its process group, was killed as well (allow a zombie) */
	pid = slurp(pidfile);
	assert_true(atoi(pid) > 0);
	snprintf(procpath, sizeof(procpath), "/proc/%d/stat", atoi(pid));
	for (int i = 0; i < 40; i++) {
		char *st = slurp(procpath);
		char *rp = strrchr(st, ')');
		bool gone = st[0] == '\0' || (rp != NULL && rp[2] == 'Z');

		free(st);
		if (gone)
			break;
		if (i == 39)
			fail_msg("the hook's child %d survived the timeout", atoi(pid));
		nanosleep(&t, NULL);
	}
	free(pid);
}

static void
test_runner(void **state)
{
	char path[128], out[128], cmd[300];
	struct alerts *a = new_alerts(0);
	struct alert_event evs[3];
	struct alert_hook *h;
	struct cdc_err err = { 0 };
	struct timespec t = { 0, 20 * 1000 * 1000 };
	char *got;
	uint64_t started = 0;
	int queued = 1;

	(void) state;
	snprintf(path, sizeof(path), "%s/rec.sh", tmpdir);
	snprintf(out, sizeof(out), "%s/rec.out", tmpdir);
	write_script(path, "out=$1\nprintf '%s|%s|%s|%s|%s|%s|%s|%s|' \"$PGCDC_ALERT\" \"$PGCDC_SEVERITY\" "
	             "\"$PGCDC_VALUE\" \"$PGCDC_THRESHOLD\" \"$PGCDC_SLOT\" \"$PGCDC_DATABASE\" "
	             "\"$(env | grep -c '^PGCDC_ALERT=')\" \"$PGCDC_MESSAGE\" >>\"$out\"\n"
	             "cat >>\"$out\"\necho >>\"$out\"\n");
	assert_fired(num(a, ALERT_LAG_BYTES, 150, 1000, &evs[0]), "warning");
	assert_fired(num(a, ALERT_LAG_BYTES, 1500, 2000, &evs[1]), "critical");
	assert_fired(num(a, ALERT_LAG_BYTES, 0, 3000, &evs[2]), "resolved");

	/* a stale variable in the agent's environment is replaced, not duplicated */
	setenv("PGCDC_ALERT", "stale", 1);
	snprintf(cmd, sizeof(cmd), "  %s   %s ", path, out);
	assert_null(alert_hook_new("   ", 1000, "pgcdc", &err));
	assert_int_equal(err.code, CDC_ERR_CONFIG);
	cdc_err_clear(&err);
	h = alert_hook_new(cmd, 5000, "pgcdc", &err);
	assert_non_null(h);
	alert_hook_set_database(h, "app");
	for (int i = 0; i < 3; i++)
		alert_hook_fire(h, &evs[i]);
	for (int i = 0; i < 500 && (started < 3 || queued > 0); i++) {
		alert_hook_counts(h, &started, &queued);
		nanosleep(&t, NULL);
	}
	assert_int_equal(started, 3);
	alert_hook_free(h);          /* waits for the running hook */
	unsetenv("PGCDC_ALERT");
	got = slurp(out);
	{
		char *l1 = got, *l2 = strchr(l1, '\n'), *l3;

		assert_non_null(l2);
		*l2++ = '\0';
		l3 = strchr(l2, '\n');
		assert_non_null(l3);
		*l3++ = '\0';
		assert_non_null(strstr(l1, "lag_bytes|warning|150|100|pgcdc|app|1|slot \"pgcdc\" is 150 B"));
		assert_non_null(strstr(l1, "|{\"alert\":\"lag_bytes\",\"severity\":\"warning\",\"value\":150,"
		                       "\"threshold\":100,\"slot\":\"pgcdc\",\"database\":\"app\","));
		assert_non_null(strstr(l2, "lag_bytes|critical|1500|1000|pgcdc|app|1|"));
		assert_non_null(strstr(l3, "lag_bytes|resolved|0|100|pgcdc|app|1|resolved (was critical)"));
	}
	free(got);
	alert_hook_free(NULL);
	alerts_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_no_flapping),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_discrete),
		cmocka_unit_test(test_unknown_and_disabled),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_argv_split),
		cmocka_unit_test_setup_teardown(test_run_ok, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_run_fail, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_run_timeout, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_runner, setup_dir, teardown_dir),
	};

	signal(SIGPIPE, SIG_IGN);    /* as the agent does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
