/*
 * pgo_capture — record the raw pgoutput messages a logical replication slot sends, so
 * the decoder's unit tests can replay real PostgreSQL bytes (the .bin files in
 * tests/fixtures), and list such a recording in a human-readable form.
 *
 *   pgo_capture --conninfo STR --slot S --publication P --proto 1|2 --out FILE
 *               [--start LSN] [--idle-ms N] [--max N]
 *   pgo_capture --list FILE
 *
 * Capture connects with replication=database, runs START_REPLICATION ... LOGICAL with
 * pgoutput's options (messages on; streaming on with protocol 2) and writes one record per
 * XLogData message: [uint64 BE wal_start][uint32 BE payload length][payload]. It answers
 * keepalives that ask for a reply, sends a standby status update every 10 s (flush = wal_start
 * of the last XLogData received), and stops after --idle-ms without XLogData (default 2000)
 * or after --max messages; it then confirms what it recorded, ends the COPY and exits 0.
 * --list prints one line per record: "<wal_start as %X/%X> <message type byte> <length>".
 *
 * A test tool, but held to the project's standards: bounds-checked reads, one cleanup path,
 * libpq and libc only (pg_recvlogical.c is the model).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define STATUS_INTERVAL_MS 10000  /* periodic standby status update */
#define DRAIN_TIMEOUT_MS   5000   /* how long to wait for the server to end COPY */
#define LIST_MAX_FILE      ((size_t)1 << 30)
#define PG_EPOCH_OFFSET_S  INT64_C(946684800) /* 2000-01-01 - 1970-01-01 in seconds */

#define XLOGDATA_HDR   25  /* 'w' + dataStart(8) + walEnd(8) + sendTime(8) */
#define KEEPALIVE_LEN  18  /* 'k' + walEnd(8) + sendTime(8) + replyRequested(1) */
#define RECORD_HDR     12  /* wal_start(8) + length(4) in the fixture file */

struct opts {
	const char *conninfo;
	const char *slot;
	const char *publication;
	const char *out;
	const char *list;
	int proto;
	uint64_t start_lsn;
	long idle_ms;
	long max_msgs;      /* 0 = unlimited */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: pgo_capture --conninfo STR --slot S --publication P --proto 1|2 --out FILE\n"
	        "                   [--start LSN] [--idle-ms N] [--max N]\n"
	        "       pgo_capture --list FILE\n"
	        "Records pgoutput XLogData messages as [u64 BE wal_start][u32 BE length][payload].\n");
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds since 2000-01-01 UTC: the protocol's sendTime. */
static int64_t pg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec - PG_EPOCH_OFFSET_S) * 1000000 + ts.tv_nsec / 1000;
}

/* "X/X" (hex halves, as PostgreSQL prints LSNs) -> 0, else -1. */
static int parse_lsn(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long hi, lo;

	if (s[0] == '\0' || s[0] == '-' || s[0] == '+')
		return -1;
	errno = 0;
	hi = strtoull(s, &end, 16);
	if (errno || end == s || *end != '/' || hi > UINT32_MAX)
		return -1;
	s = end + 1;
	if (s[0] == '\0' || s[0] == '-' || s[0] == '+')
		return -1;
	lo = strtoull(s, &end, 16);
	if (errno || end == s || *end != '\0' || lo > UINT32_MAX)
		return -1;
	*out = (uint64_t)hi << 32 | lo;
	return 0;
}

static int parse_long(const char *name, const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min) {
		fprintf(stderr, "pgo_capture: --%s: \"%s\" is not an integer >= %ld\n", name, s, min);
		return -1;
	}
	*out = v;
	return 0;
}

/* Standby status update ('r'): write = flush = apply = lsn. */
static int send_status(PGconn *conn, uint64_t lsn, bool reply_requested)
{
	uint8_t msg[1 + 8 + 8 + 8 + 8 + 1];

	msg[0] = 'r';
	put_be64(msg + 1, lsn);                 /* write */
	put_be64(msg + 9, lsn);                 /* flush */
	put_be64(msg + 17, lsn);                /* apply */
	put_be64(msg + 25, (uint64_t)pg_now_us()); /* sendTime */
	msg[33] = reply_requested ? 1 : 0;      /* replyRequested */
	if (PQputCopyData(conn, (const char *)msg, (int)sizeof msg) <= 0 || PQflush(conn) != 0) {
		fprintf(stderr, "pgo_capture: could not send standby status update: %s",
		        PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

/* Wait until the connection's socket is readable or timeout_ms passes (EINTR is a wakeup). */
static int wait_readable(PGconn *conn, int64_t timeout_ms)
{
	int fd = PQsocket(conn);
	fd_set rfds;
	struct timeval tv;

	if (fd < 0) {
		fprintf(stderr, "pgo_capture: connection has no socket: %s", PQerrorMessage(conn));
		return -1;
	}
	if (timeout_ms < 1)
		timeout_ms = 1;
	FD_ZERO(&rfds);
	FD_SET(fd, &rfds);
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (select(fd + 1, &rfds, NULL, NULL, &tv) < 0 && errno != EINTR) {
		fprintf(stderr, "pgo_capture: select: %s\n", strerror(errno));
		return -1;
	}
	if (PQconsumeInput(conn) == 0) {
		fprintf(stderr, "pgo_capture: could not receive data: %s", PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

/* Collect the results that follow the end of COPY; -1 if any is an error. */
static int finish_results(PGconn *conn)
{
	PGresult *res;
	int rc = 0;

	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_OUT) {
			fprintf(stderr, "pgo_capture: replication stream ended with an error: %s",
			        PQresultErrorMessage(res));
			rc = -1;
		}
		PQclear(res);
		if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			break; /* cannot happen after COPY ended; do not loop forever */
	}
	return rc;
}

/*
 * End COPY from our side and wait (bounded) for the server to end it too. Data the server
 * had already sent is discarded: it was not recorded, so it was not confirmed either.
 */
static int end_copy(PGconn *conn)
{
	int64_t deadline = mono_ms() + DRAIN_TIMEOUT_MS;

	if (PQputCopyEnd(conn, NULL) <= 0 || PQflush(conn) != 0) {
		fprintf(stderr, "pgo_capture: could not end COPY: %s", PQerrorMessage(conn));
		return -1;
	}
	for (;;) {
		char *buf = NULL;
		int r = PQgetCopyData(conn, &buf, 1);

		if (r > 0) {
			PQfreemem(buf);
			continue;
		}
		if (r == -1)
			return finish_results(conn);
		if (r == -2) {
			fprintf(stderr, "pgo_capture: error while ending COPY: %s", PQerrorMessage(conn));
			return -1;
		}
		if (mono_ms() >= deadline) {
			fprintf(stderr, "pgo_capture: server did not end COPY within %d ms\n",
			        DRAIN_TIMEOUT_MS);
			return -1;
		}
		if (wait_readable(conn, deadline - mono_ms()) < 0)
			return -1;
	}
}

static int write_record(FILE *out, uint64_t wal_start, const uint8_t *payload, uint32_t len)
{
	uint8_t hdr[RECORD_HDR];

	put_be64(hdr, wal_start);
	put_be32(hdr + 8, len);
	if (fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr ||
	    (len > 0 && fwrite(payload, 1, len, out) != len))
		return -1;
	return 0;
}

static char *build_start_command(PGconn *conn, const struct opts *o)
{
	char *slot_ident = PQescapeIdentifier(conn, o->slot, strlen(o->slot));
	char *pubs = NULL, *cmd = NULL;
	size_t n = 0, cap;

	if (slot_ident == NULL) {
		fprintf(stderr, "pgo_capture: bad slot name: %s", PQerrorMessage(conn));
		goto out;
	}
	/* publication_names is a string literal holding identifiers: double its quotes. */
	cap = 2 * strlen(o->publication) + 1;
	pubs = malloc(cap);
	if (pubs == NULL)
		goto oom;
	for (const char *p = o->publication; *p; p++) {
		if (*p == '\'')
			pubs[n++] = '\'';
		pubs[n++] = *p;
	}
	pubs[n] = '\0';
	if (asprintf(&cmd,
	             "START_REPLICATION SLOT %s LOGICAL %X/%X (proto_version '%d', "
	             "publication_names '%s', messages 'true'%s)",
	             slot_ident, (unsigned)(o->start_lsn >> 32), (unsigned)o->start_lsn, o->proto,
	             pubs, o->proto >= 2 ? ", streaming 'on'" : "") < 0) {
		cmd = NULL;
		goto oom;
	}
	goto out;
oom:
	fprintf(stderr, "pgo_capture: out of memory\n");
out:
	PQfreemem(slot_ident);
	free(pubs);
	return cmd;
}

static int capture(const struct opts *o)
{
	const char *keys[] = {"dbname", "replication", "fallback_application_name", NULL};
	const char *vals[] = {o->conninfo, "database", "pgo_capture", NULL};
	PGconn *conn = NULL;
	PGresult *res = NULL;
	FILE *out = NULL;
	char *cmd = NULL;
	char *buf = NULL;
	uint64_t last_lsn = o->start_lsn;
	long nmsgs = 0;
	uint64_t nbytes = 0;
	int64_t last_data, last_status;
	bool streaming = false, created = false;
	int rc = -1;

	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pgo_capture: could not connect: %s",
		        conn ? PQerrorMessage(conn) : "out of memory\n");
		goto out;
	}
	cmd = build_start_command(conn, o);
	if (cmd == NULL)
		goto out;
	out = fopen(o->out, "wb");
	if (out == NULL) {
		fprintf(stderr, "pgo_capture: cannot create \"%s\": %s\n", o->out, strerror(errno));
		goto out;
	}
	created = true;
	res = PQexec(conn, cmd);
	if (PQresultStatus(res) != PGRES_COPY_BOTH) {
		fprintf(stderr, "pgo_capture: %s failed: %s", cmd, PQresultErrorMessage(res));
		goto out;
	}
	PQclear(res);
	res = NULL;
	streaming = true;

	last_data = last_status = mono_ms();
	while (!stop_requested && (o->max_msgs == 0 || nmsgs < o->max_msgs)) {
		int64_t now = mono_ms();
		int r;

		if (now - last_data >= o->idle_ms)
			break;
		if (now - last_status >= STATUS_INTERVAL_MS) {
			if (send_status(conn, last_lsn, false) < 0)
				goto out;
			last_status = now;
		}

		r = PQgetCopyData(conn, &buf, 1);
		if (r == 0) {
			int64_t wake = last_data + o->idle_ms;

			if (last_status + STATUS_INTERVAL_MS < wake)
				wake = last_status + STATUS_INTERVAL_MS;
			if (wait_readable(conn, wake - now) < 0)
				goto out;
			continue;
		}
		if (r == -1) { /* the server ended the stream */
			streaming = false;
			if (finish_results(conn) < 0)
				goto out;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "pgo_capture: could not read COPY data: %s", PQerrorMessage(conn));
			goto out;
		}

		const uint8_t *msg = (const uint8_t *)buf;
		size_t len = (size_t)r;

		if (msg[0] == 'w') {          /* XLogData */
			uint64_t data_start;

			if (len < XLOGDATA_HDR) {
				fprintf(stderr, "pgo_capture: XLogData message of %zu bytes is too short\n", len);
				goto out;
			}
			data_start = get_be64(msg + 1);
			if (write_record(out, data_start, msg + XLOGDATA_HDR,
			                 (uint32_t)(len - XLOGDATA_HDR)) < 0) {
				fprintf(stderr, "pgo_capture: write to \"%s\" failed: %s\n", o->out,
				        strerror(errno));
				goto out;
			}
			if (data_start > last_lsn)
				last_lsn = data_start;
			nmsgs++;
			nbytes += len - XLOGDATA_HDR;
			last_data = mono_ms();
		} else if (msg[0] == 'k') {   /* Primary keepalive */
			if (len < KEEPALIVE_LEN) {
				fprintf(stderr, "pgo_capture: keepalive message of %zu bytes is too short\n", len);
				goto out;
			}
			if (msg[17]) {            /* replyRequested */
				if (send_status(conn, last_lsn, false) < 0)
					goto out;
				last_status = mono_ms();
			}
		} else {
			fprintf(stderr, "pgo_capture: unexpected CopyData message type 0x%02x\n", msg[0]);
			goto out;
		}
		PQfreemem(buf);
		buf = NULL;
	}

	if (streaming) {
		if (send_status(conn, last_lsn, false) < 0 || end_copy(conn) < 0)
			goto out;
	}
	if (fclose(out) != 0) {
		out = NULL;
		fprintf(stderr, "pgo_capture: write to \"%s\" failed: %s\n", o->out, strerror(errno));
		goto out;
	}
	out = NULL;
	fprintf(stderr, "pgo_capture: %ld messages, %" PRIu64 " payload bytes, last %X/%X -> %s\n",
	        nmsgs, nbytes, (unsigned)(last_lsn >> 32), (unsigned)last_lsn, o->out);
	rc = 0;
out:
	PQfreemem(buf);
	PQclear(res);
	free(cmd);
	if (out != NULL)
		fclose(out);
	if (rc != 0 && created)
		unlink(o->out); /* never leave a partial recording behind */
	PQfinish(conn);
	return rc;
}

/* Print one line per record of a recording; -1 on a malformed file. */
static int list_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	struct stat st;
	size_t size, pos = 0;
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "pgo_capture: cannot open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "pgo_capture: \"%s\" is not a regular file\n", path);
		goto out;
	}
	if ((uint64_t)st.st_size > LIST_MAX_FILE) {
		fprintf(stderr, "pgo_capture: \"%s\" is larger than %zu bytes\n", path, LIST_MAX_FILE);
		goto out;
	}
	size = (size_t)st.st_size;
	data = malloc(size ? size : 1);
	if (data == NULL) {
		fprintf(stderr, "pgo_capture: out of memory\n");
		goto out;
	}
	if (fread(data, 1, size, f) != size) {
		fprintf(stderr, "pgo_capture: cannot read \"%s\"\n", path);
		goto out;
	}
	while (pos < size) {
		uint64_t lsn;
		uint32_t len;
		int type;

		if (size - pos < RECORD_HDR) {
			fprintf(stderr, "pgo_capture: \"%s\": truncated record header at offset %zu\n",
			        path, pos);
			goto out;
		}
		lsn = get_be64(data + pos);
		len = get_be32(data + pos + 8);
		pos += RECORD_HDR;
		if (len > size - pos) {
			fprintf(stderr, "pgo_capture: \"%s\": record at offset %zu claims %" PRIu32
			        " bytes, %zu left\n", path, pos - RECORD_HDR, len, size - pos);
			goto out;
		}
		type = len == 0 ? '-' : (data[pos] >= 0x21 && data[pos] <= 0x7e ? data[pos] : '?');
		printf("%X/%X %c %" PRIu32 "\n", (unsigned)(lsn >> 32), (unsigned)lsn, type, len);
		pos += len;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pgo_capture: write to stdout failed\n");
		goto out;
	}
	rc = 0;
out:
	free(data);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"conninfo", required_argument, NULL, 'd'},
		{"slot", required_argument, NULL, 'S'},
		{"publication", required_argument, NULL, 'P'},
		{"proto", required_argument, NULL, 'v'},
		{"out", required_argument, NULL, 'o'},
		{"start", required_argument, NULL, 's'},
		{"idle-ms", required_argument, NULL, 'i'},
		{"max", required_argument, NULL, 'm'},
		{"list", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.idle_ms = 2000};
	struct sigaction sa;
	long proto = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.conninfo = optarg; break;
		case 'S': o.slot = optarg; break;
		case 'P': o.publication = optarg; break;
		case 'o': o.out = optarg; break;
		case 'l': o.list = optarg; break;
		case 'v':
			if (parse_long("proto", optarg, 1, &proto) < 0)
				return 1;
			break;
		case 's':
			if (parse_lsn(optarg, &o.start_lsn) < 0) {
				fprintf(stderr, "pgo_capture: --start: \"%s\" is not an LSN (X/X)\n", optarg);
				return 1;
			}
			break;
		case 'i':
			if (parse_long("idle-ms", optarg, 1, &o.idle_ms) < 0)
				return 1;
			break;
		case 'm':
			if (parse_long("max", optarg, 1, &o.max_msgs) < 0)
				return 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pgo_capture: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (o.list != NULL)
		return list_file(o.list) == 0 ? 0 : 1;

	if (o.conninfo == NULL || o.slot == NULL || o.publication == NULL || o.out == NULL) {
		fprintf(stderr, "pgo_capture: --conninfo, --slot, --publication and --out are required\n");
		usage(stderr);
		return 1;
	}
	if (proto != 1 && proto != 2) {
		fprintf(stderr, "pgo_capture: --proto must be 1 or 2\n");
		return 1;
	}
	o.proto = (int)proto;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	return capture(&o) == 0 ? 0 : 1;
}
