/*
 * test_metrics.c — the Prometheus text rendering of /metrics: exact sample lines
 * for every SPEC §6 metric, HELP and TYPE once per family and before its samples,
 * counter/gauge types, label escaping, unknown values absent (not 0), nothing
 * secret (sink error text) exported, and the exposition grammar of every line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/metrics.h"

static char *
render(struct cdc_stats *st, const struct mon_view *v)
{
	struct jbuf b;

	jbuf_init(&b);
	metrics_render(&b, st, v);
	jbuf_putc(&b, '\0');
	assert_false(b.oom);
	return b.data;
}

static void
assert_line(const char *text, const char *line)
{
	size_t l = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[l] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
assert_no(const char *text, const char *needle)
{
	if (strstr(text, needle) != NULL)
		fail_msg("unexpected \"%s\" in:\n%s", needle, text);
}

/* Every line is a HELP, a TYPE, or "name{labels} value"; each family has HELP and
 * TYPE exactly once, before its first sample; counters end in _total. */
static void
assert_grammar(const char *text)
{
	char *copy = strdup(text), *save = NULL;
	char typed[64][64];
	int ntyped = 0;

	assert_non_null(copy);
	for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		size_t n = 0;

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char type[16];

			assert_int_equal(sscanf(line + 7, "%63s %15s", name, type), 2);
			if (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0)
				fail_msg("bad type: %s", line);
			if (strcmp(type, "counter") == 0 &&
			    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0))
				fail_msg("counter not named *_total: %s", line);
			for (int i = 0; i < ntyped; i++)
				if (strcmp(typed[i], name) == 0)
					fail_msg("TYPE twice: %s", line);
			assert_true(ntyped < 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			/* its HELP came right before */
			{
				char want[80];

				snprintf(want, sizeof(want), "# HELP %s ", name);
				assert_non_null(strstr(text, want));
				assert_true(strstr(text, want) < strstr(text, line));
			}
			continue;
		}
		assert_true(line[0] != '#');
		while (islower((unsigned char) line[n]) || line[n] == '_')
			n++;
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		{
			bool found = false;

			for (int i = 0; i < ntyped; i++)
				found = found || strcmp(typed[i], name) == 0;
			if (!found)
				fail_msg("sample before its TYPE: %s", line);
		}
		if (line[n] == '{') {
			const char *p = line + n + 1;

			for (;;) {
				while (islower((unsigned char) *p) || *p == '_')
					p++;
				if (*p++ != '=' || *p++ != '"')
					fail_msg("bad label: %s", line);
				while (*p != '"') {
					if (*p == '\0')
						fail_msg("unterminated label: %s", line);
					if (*p == '\\') {
						p++;
						if (*p != '\\' && *p != '"' && *p != 'n')
							fail_msg("bad escape: %s", line);
					}
					p++;
				}
				p++;
				if (*p == ',') {
					p++;
					continue;
				}
				if (*p != '}')
					fail_msg("bad labels: %s", line);
				n = (size_t) (p + 1 - line);
				break;
			}
		}
		if (line[n] != ' ')
			fail_msg("no value: %s", line);
		{
			char *end;

			strtod(line + n + 1, &end);
			if (*end != '\0' || end == line + n + 1)
				fail_msg("bad value: %s", line);
		}
	}
	free(copy);
}

static void
test_escape(void **state)
{
	struct jbuf b;

	(void) state;
	jbuf_init(&b);
	metrics_label_escape(&b, "a\"b\\c\nd");
	jbuf_putc(&b, '\0');
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	jbuf_free(&b);
}

static void
test_stats_only(void **state)
{
	struct cdc_stats *st = stats_new();
	char *t;

	(void) state;
	t = render(st, NULL);
	assert_grammar(t);
	assert_line(t, "pgcdc_up 0");
	assert_line(t, "pgcdc_transactions_total 0");
	assert_line(t, "# TYPE pgcdc_transactions_total counter");
	assert_no(t, "pgcdc_alert_state");
	assert_no(t, "pgcdc_slot_lag_bytes");
	assert_no(t, "pgcdc_changes_total");
	free(t);
	stats_free(st);
}

static void
fill_view(struct mon_view *v)
{
	memset(v, 0, sizeof(*v));
	v->connected = true;
	v->have_sample = true;
	v->s.slot_exists = true;
	v->s.has_confirmed = v->s.has_restart = true;
	v->s.current_lsn = 0x200001000;
	v->s.confirmed_flush_lsn = 0x200000000;
	v->s.restart_lsn = 0x1FFFFF000;
	v->s.lag_bytes = 4096;
	v->s.retained_wal_bytes = 8192;
	v->s.lag_seconds = 2.5;
	v->s.has_safe_wal_size = true;
	v->s.safe_wal_size = 1073741824;
	v->s.max_slot_wal_keep_size = 2147483648;
	v->s.active = true;
	v->s.has_wal_disk = true;
	v->s.wal_disk_used_ratio = 0.4375;
	v->s.has_flush_lag = true;
	v->s.flush_lag = 0.125;
	v->s.has_slot_stats = true;
	v->s.spill_bytes = 12345;
	v->alerts[ALERT_LAG_BYTES].level = ALERT_WARNING;
	v->alerts[ALERT_SINK_ERROR].level = ALERT_CRITICAL;
}

static void
test_full(void **state)
{
	struct cdc_stats *st = stats_new();
	struct mon_view v;
	char *t;

	(void) state;
	stats_set_state(st, STATS_STREAMING);
	stats_add_change(st, "public", "orders", 'c');
	stats_add_change(st, "public", "orders", 'c');
	stats_add_change(st, "public", "orders", 'u');
	stats_add_change(st, "public", "we\"ird\\name", 'd');
	stats_add_transaction(st);
	stats_add_transaction(st);
	stats_set_sink(st, 0, "stdout", 3, 0, NULL);
	stats_set_sink(st, 1, "kafka", 7, 2, "SASL authentication failed for password=hunter2");
	stats_set_snapshot(st, "public.orders", &(struct stats_snap) {
		.state = "backfilling", .rows = 100, .estimate = 250, .chunks = 4,
		.rows_per_s = 50, .eta_s = 3 });
	stats_set_snapshot(st, "public.items", &(struct stats_snap) {
		.state = "backfilling", .rows = 7, .eta_s = -1 });
	stats_set_positions(st, 0x200000000, 0x200000000, true);
	fill_view(&v);
	t = render(st, &v);
	assert_grammar(t);

	assert_line(t, "pgcdc_up 1");
	assert_line(t, "pgcdc_monitor_up 1");
	assert_line(t, "pgcdc_slot_lag_bytes 4096");
	assert_line(t, "pgcdc_lag_seconds 2.5");
	assert_line(t, "pgcdc_retained_wal_bytes 8192");
	assert_line(t, "pgcdc_safe_wal_size_bytes 1073741824");
	assert_line(t, "pgcdc_wal_disk_used_ratio 0.4375");
	assert_line(t, "pgcdc_confirmed_flush_lsn 8589934592");
	assert_line(t, "pgcdc_current_wal_lsn 8589938688");
	assert_line(t, "pgcdc_acknowledged_lsn 8589934592");
	assert_line(t, "pgcdc_slot_active 1");
	assert_line(t, "pgcdc_max_slot_wal_keep_size_bytes 2147483648");
	assert_line(t, "pgcdc_replication_lag_seconds{kind=\"flush\"} 0.125");
	assert_no(t, "kind=\"write\"");
	assert_line(t, "pgcdc_slot_spill_bytes_total 12345");
	assert_line(t, "pgcdc_changes_total{table=\"public.orders\",op=\"c\"} 2");
	assert_line(t, "pgcdc_changes_total{table=\"public.orders\",op=\"u\"} 1");
	assert_no(t, "pgcdc_changes_total{table=\"public.orders\",op=\"d\"}");
	assert_line(t, "pgcdc_changes_total{table=\"public.we\\\"ird\\\\name\",op=\"d\"} 1");
	assert_line(t, "pgcdc_transactions_total 2");
	assert_line(t, "pgcdc_sink_records_total{sink=\"stdout\"} 3");
	assert_line(t, "pgcdc_sink_records_total{sink=\"kafka\"} 7");
	assert_line(t, "pgcdc_sink_errors_total{sink=\"stdout\"} 0");
	assert_line(t, "pgcdc_sink_errors_total{sink=\"kafka\"} 2");
	assert_line(t, "pgcdc_sink_failing{sink=\"kafka\"} 1");
	assert_line(t, "pgcdc_snapshot_rows_total{table=\"public.orders\"} 100");
	assert_line(t, "pgcdc_snapshot_chunks_total{table=\"public.orders\"} 4");
	assert_line(t, "pgcdc_snapshot_rows_per_second{table=\"public.orders\"} 50");
	assert_line(t, "pgcdc_snapshot_eta_seconds{table=\"public.orders\"} 3");
	assert_null(strstr(t, "pgcdc_snapshot_eta_seconds{table=\"public.items\"}"));
	assert_line(t, "pgcdc_snapshot_rows_estimate{table=\"public.orders\"} 250");
	assert_line(t, "pgcdc_alert_state{alert=\"lag_bytes\"} 1");
	assert_line(t, "pgcdc_alert_state{alert=\"lag_seconds\"} 0");
	assert_line(t, "pgcdc_alert_state{alert=\"retained_wal\"} 0");
	assert_line(t, "pgcdc_alert_state{alert=\"wal_disk\"} 0");
	assert_line(t, "pgcdc_alert_state{alert=\"wal_status\"} 0");
	assert_line(t, "pgcdc_alert_state{alert=\"slot_inactive\"} 0");
	assert_line(t, "pgcdc_alert_state{alert=\"sink_error\"} 2");
	assert_line(t, "pgcdc_build_info{version=\"" PGCDC_VERSION "\"} 1");

	assert_line(t, "# TYPE pgcdc_slot_lag_bytes gauge");
	assert_line(t, "# TYPE pgcdc_lag_seconds gauge");
	assert_line(t, "# TYPE pgcdc_retained_wal_bytes gauge");
	assert_line(t, "# TYPE pgcdc_safe_wal_size_bytes gauge");
	assert_line(t, "# TYPE pgcdc_wal_disk_used_ratio gauge");
	assert_line(t, "# TYPE pgcdc_confirmed_flush_lsn gauge");
	assert_line(t, "# TYPE pgcdc_changes_total counter");
	assert_line(t, "# TYPE pgcdc_transactions_total counter");
	assert_line(t, "# TYPE pgcdc_sink_records_total counter");
	assert_line(t, "# TYPE pgcdc_sink_errors_total counter");
	assert_line(t, "# TYPE pgcdc_snapshot_rows_total counter");
	assert_line(t, "# TYPE pgcdc_alert_state gauge");
	assert_line(t, "# TYPE pgcdc_up gauge");
	/* a sink's error text (it may quote anything) is not exported */
	assert_no(t, "hunter2");
	assert_no(t, "SASL");
	free(t);
	stats_free(st);
}

static void
test_unknown_absent(void **state)
{
	struct cdc_stats *st = stats_new();
	struct mon_view v;
	char *t;

	(void) state;
	stats_set_state(st, STATS_CONNECTING);
	fill_view(&v);
	v.s.has_safe_wal_size = false;        /* max_slot_wal_keep_size unlimited */
	v.s.has_wal_disk = false;             /* pg_wal not measurable */
	v.s.has_slot_stats = false;
	t = render(st, &v);
	assert_grammar(t);
	assert_line(t, "pgcdc_up 0");
	assert_line(t, "pgcdc_slot_lag_bytes 4096");
	assert_no(t, "pgcdc_safe_wal_size_bytes");
	assert_no(t, "pgcdc_wal_disk_used_ratio");
	assert_no(t, "pgcdc_slot_spill_bytes_total");
	free(t);

	/* the monitor cannot reach the server: no stale slot values */
	v.connected = false;
	t = render(st, &v);
	assert_grammar(t);
	assert_line(t, "pgcdc_monitor_up 0");
	assert_no(t, "pgcdc_slot_lag_bytes");
	assert_no(t, "pgcdc_lag_seconds");
	assert_no(t, "pgcdc_confirmed_flush_lsn");
	assert_line(t, "pgcdc_alert_state{alert=\"lag_bytes\"} 1");   /* states stay */
	free(t);

	/* the slot does not exist (yet) */
	fill_view(&v);
	v.s.slot_exists = false;
	t = render(st, &v);
	assert_no(t, "pgcdc_slot_lag_bytes");
	assert_no(t, "pgcdc_retained_wal_bytes");
	assert_no(t, "pgcdc_slot_active");
	assert_line(t, "pgcdc_current_wal_lsn 8589938688");
	free(t);
	stats_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_stats_only),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_unknown_absent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
