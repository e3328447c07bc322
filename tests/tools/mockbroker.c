/*
 * mockbroker.c — a Kafka-protocol cluster for the integration tests: librdkafka's
 * mock cluster (rdkafka_mock.h) in a process of its own, listening on loopback only
 * (every mock broker binds 127.0.0.1 on an ephemeral port).
 *
 *   mockbroker [-n BROKERS]          (default 3 brokers, ids 1..BROKERS)
 *
 * The first line on stdout is the bootstrap servers string ("127.0.0.1:P1,..."),
 * flushed at once.  Then commands are read from stdin, one per line; each is
 * answered with exactly one line on stdout, "ok <command>" or "error: <why>", so a
 * driver can wait for it:
 *
 *   down <id>|all                    disconnect the broker(s), refuse new connections
 *   up <id>|all                      accept connections again
 *   topic <name> <partitions> [<rf>] create a topic (otherwise producers' metadata
 *                                    requests auto-create them with 4 partitions)
 *   produce-error <code> [<count>]   the next <count> (1) Produce requests fail with
 *                                    Kafka error <code> (e.g. 29 TOPIC_AUTHORIZATION_FAILED)
 *   rtt <id>|all <ms>                delay every response
 *   quit                             exit
 *
 * Exits 0 on end of input, quit, SIGTERM or SIGINT; 1 when the cluster cannot start.
 * tests/integration/kafka.sh drives it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define PRODUCE_API_KEY 0     /* Kafka ProduceRequest */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void) sig;
	stop = 1;
}

static void
reply(const char *fmt, const char *arg)
{
	printf(fmt, arg);
	putchar('\n');
	fflush(stdout);
}

/* "all" → -1, else a broker id in 1..n; returns 0 or -1. */
static int
broker_arg(const char *s, int n, int *id)
{
	char *end;
	long v;

	if (s == NULL)
		return -1;
	if (strcmp(s, "all") == 0) {
		*id = -1;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > n)
		return -1;
	*id = (int) v;
	return 0;
}

static void
command(rd_kafka_mock_cluster_t *mc, int nbrokers, char *line)
{
	char *cmd, *a1, *a2, *a3, *save = NULL, copy[512];
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
	int id;

	size_t l = strlen(line);

	if (l >= sizeof(copy))
		l = sizeof(copy) - 1;
	memcpy(copy, line, l);
	copy[l] = '\0';
	cmd = strtok_r(line, " \t", &save);
	if (cmd == NULL)
		return;
	a1 = strtok_r(NULL, " \t", &save);
	a2 = strtok_r(NULL, " \t", &save);
	a3 = strtok_r(NULL, " \t", &save);
	if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
		if (broker_arg(a1, nbrokers, &id) < 0) {
			reply("error: %s: expected a broker id or all", copy);
			return;
		}
		e = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id)
		                  : rd_kafka_mock_broker_set_up(mc, id);
	} else if (strcmp(cmd, "topic") == 0) {
		int parts = a2 ? atoi(a2) : 0, rf = a3 ? atoi(a3) : (nbrokers < 3 ? nbrokers : 3);

		if (a1 == NULL || parts < 1 || rf < 1 || rf > nbrokers) {
			reply("error: %s: expected topic NAME PARTITIONS [REPLICATION]", copy);
			return;
		}
		e = rd_kafka_mock_topic_create(mc, a1, parts, rf);
	} else if (strcmp(cmd, "produce-error") == 0) {
		int code = a1 ? atoi(a1) : 0, cnt = a2 ? atoi(a2) : 1;

		if (code == 0 || cnt < 1) {
			reply("error: %s: expected produce-error CODE [COUNT]", copy);
			return;
		}
		for (int i = 0; i < cnt; i++)
			rd_kafka_mock_push_request_errors(mc, PRODUCE_API_KEY, 1, (rd_kafka_resp_err_t) code);
	} else if (strcmp(cmd, "rtt") == 0) {
		if (broker_arg(a1, nbrokers, &id) < 0 || a2 == NULL) {
			reply("error: %s: expected rtt ID|all MS", copy);
			return;
		}
		e = rd_kafka_mock_broker_set_rtt(mc, id, atoi(a2));
	} else if (strcmp(cmd, "quit") == 0) {
		stop = 1;
	} else {
		reply("error: %s: unknown command (down, up, topic, produce-error, rtt, quit)", copy);
		return;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		printf("error: %s: %s\n", copy, rd_kafka_err2str(e));
		fflush(stdout);
		return;
	}
	reply("ok %s", copy);
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa;
	char errstr[512], buf[4096];
	size_t len = 0;
	rd_kafka_t *rk;
	int opt, nbrokers = 3;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n' && atoi(optarg) >= 1) {
			nbrokers = atoi(optarg);
		} else {
			fprintf(stderr, "usage: mockbroker [-n BROKERS]\n");
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;    /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the handle only hosts the cluster's bookkeeping; it connects nowhere */
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "mockbroker: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (mc == NULL) {
		fprintf(stderr, "mockbroker: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;        /* end of input */
		len += (size_t) n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			command(mc, nbrokers, buf);
			len -= (size_t) (nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0;      /* an overlong line: drop it */
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
