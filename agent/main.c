/*
 * main.c — the pgcdc command line (SPEC §1).  The only place that decides the
 * process exit status: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "../common/log.h"
#include "pg.h"
#include "snapshot.h"
#include "backfill.h"
#include "stream.h"
#include "../monitor/monitor.h"
#include "../sinks/sink.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reopen_requested;

static void
on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
on_hup(int sig)
{
	(void) sig;
	reopen_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "pgcdc %s — change data capture for PostgreSQL (pgoutput -> Kafka, Parquet, stdout)\n"
	        "\n"
	        "Usage:\n"
	        "  pgcdc [-c FILE] [run]              stream changes (foreground)\n"
	        "  pgcdc [-c FILE] check              validate config, connect, verify prerequisites\n"
	        "  pgcdc [-c FILE] status [--json]    slot position, lag, WAL retention\n"
	        "  pgcdc [-c FILE] snapshot [--table SCHEMA.TABLE]...\n"
	        "                                     one-off consistent backfill into the sinks\n"
	        "  pgcdc [-c FILE] backfill [--table SCHEMA.TABLE]... [--wait]\n"
	        "                                     ask the running agent for an online backfill\n"
	        "  pgcdc [-c FILE] drop-slot          drop the replication slot (decommission)\n"
	        "  pgcdc --version | --help\n"
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE        configuration file (default %s)\n"
	        "  --set SECTION.KEY=VALUE  override a configuration key (repeatable)\n"
	        "  --json                   status: one JSON object\n"
	        "  --table SCHEMA.TABLE     snapshot, backfill: only this table (repeatable)\n"
	        "  --wait                   backfill: show progress until it is done\n"
	        "  --accept-gap             run: stream even if changes were lost behind pgcdc's back\n"
	        "  --endpos LSN             run: stop (flushed and acknowledged) once the stream reaches LSN\n"
	        "\n"
	        "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n"
	        "Every configuration key is documented in agent.conf.example and pgcdc(1).\n",
	        PGCDC_VERSION, CFG_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *cmd = NULL;
	char **sets = calloc((size_t) argc + 1, sizeof(char *));
	char **tables = calloc((size_t) argc + 1, sizeof(char *));
	int nsets = 0, ntables = 0, status = 2;
	bool json = false, wait = false;
	struct stream_opts sopts = { 0 };
	struct cdc_err err = { 0 };
	struct cfg *cfg = NULL;
	struct sigaction sa;

	if (sets == NULL || tables == NULL) {
		free(sets);
		free(tables);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			status = 0;
			goto out;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("pgcdc %s\n", PGCDC_VERSION);
			status = 0;
			goto out;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc) {
				fprintf(stderr, "pgcdc: %s needs a file name\n", a);
				goto out;
			}
			path = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			path = a + 9;
		} else if (strcmp(a, "--set") == 0) {
			if (++i == argc) {
				fprintf(stderr, "pgcdc: --set needs SECTION.KEY=VALUE\n");
				goto out;
			}
			sets[nsets++] = argv[i];
		} else if (strncmp(a, "--set=", 6) == 0) {
			sets[nsets++] = (char *) a + 6;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--wait") == 0) {
			wait = true;
		} else if (strcmp(a, "--accept-gap") == 0) {
			sopts.accept_gap = true;
		} else if (strcmp(a, "--endpos") == 0) {
			if (++i == argc || cdc_lsn_parse(argv[i], &sopts.endpos) != 0) {
				fprintf(stderr, "pgcdc: --endpos needs an LSN like 0/16B3748\n");
				goto out;
			}
		} else if (strcmp(a, "--table") == 0) {
			if (++i == argc || strchr(argv[i], '.') == NULL) {
				fprintf(stderr, "pgcdc: --table needs SCHEMA.TABLE\n");
				goto out;
			}
			tables[ntables++] = argv[i];
		} else if (a[0] == '-') {
			fprintf(stderr, "pgcdc: unknown option %s (see pgcdc --help)\n", a);
			goto out;
		} else if (cmd == NULL) {
			cmd = a;
		} else {
			fprintf(stderr, "pgcdc: unexpected argument %s (see pgcdc --help)\n", a);
			goto out;
		}
	}
	if (cmd == NULL)
		cmd = "run";
	if (strcmp(cmd, "run") != 0 && strcmp(cmd, "check") != 0 && strcmp(cmd, "status") != 0 &&
	    strcmp(cmd, "snapshot") != 0 && strcmp(cmd, "drop-slot") != 0 &&
	    strcmp(cmd, "backfill") != 0) {
		fprintf(stderr, "pgcdc: unknown command \"%s\" (run, check, status, snapshot, "
		        "backfill, drop-slot; see pgcdc --help)\n", cmd);
		goto out;
	}
	if (ntables > 0 && strcmp(cmd, "snapshot") != 0 && strcmp(cmd, "backfill") != 0) {
		fprintf(stderr, "pgcdc: --table goes with the snapshot and backfill commands\n");
		goto out;
	}
	if (wait && strcmp(cmd, "backfill") != 0) {
		fprintf(stderr, "pgcdc: --wait goes with the backfill command\n");
		goto out;
	}
	if (json && strcmp(cmd, "status") != 0) {
		fprintf(stderr, "pgcdc: --json goes with the status command\n");
		goto out;
	}

	/* Without -c the default file may be absent when --set supplies the config. */
	cfg = cfg_load(path, path == NULL && nsets > 0, sets, nsets, &err);
	if (cfg == NULL) {
		fprintf(stderr, "pgcdc: %s\n", err.msg);
		goto out;
	}
	log_setup(cfg->log.level, cfg->log.format == CFG_LOG_JSON);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (strcmp(cmd, "check") == 0) {
		status = admin_check(cfg);
	} else if (strcmp(cmd, "status") == 0) {
		status = admin_status(cfg, json);
	} else if (strcmp(cmd, "drop-slot") == 0) {
		status = admin_drop_slot(cfg);
	} else if (strcmp(cmd, "snapshot") == 0) {
		status = snapshot_oneoff(cfg, ntables > 0 ? tables : NULL, ntables, &stop_requested);
	} else if (strcmp(cmd, "backfill") == 0) {
		status = backfill_command(cfg, tables, ntables, wait, &stop_requested);
	} else {
		{
			char *red = cfg_conninfo_redacted(cfg->source.conninfo);

			log_info("main", "pgcdc %s starting: conninfo \"%s\", slot \"%s\", publication "
			         "\"%s\"", PGCDC_VERSION, red ? red : "?", cfg->source.slot,
			         cfg->source.publication);
			free(red);
		}
		{
			struct cdc_stats *stats = stats_new();
			struct monitor *mon;

			if (stats == NULL) {
				log_error("main", "out of memory");
				status = 1;
				goto out;
			}
			/* the monitor (and /metrics) run beside the replication thread; a
			 * metrics_listen that cannot be bound stops pgcdc before it streams */
			mon = monitor_start(cfg, stats, &err);
			if (mon == NULL) {
				log_error("main", "%s", err.msg);
				stats_free(stats);
				status = 1;
				goto out;
			}
			status = stream_run(cfg, stats, &sopts, &stop_requested, &reopen_requested);
			monitor_stop(mon);
			stats_free(stats);
		}
	}
out:
	cfg_free(cfg);
	free(sets);
	free(tables);
	return status;
}
