/*
 * kafka-protodump.c — decode pgcdc's protobuf records (pgcdc.v1.Change) read back
 * from Kafka by kcat, with the protobuf-c code generated from decoder/pgcdc.proto,
 * and print each as the Debezium JSON envelope it stands for, so the tests can
 * compare `format = protobuf` with `format = json` field by field.
 *
 *   kcat -C -b BROKERS -t TOPIC -e -q -f '%p %o %K %S\n%k%s' | kafka-protodump
 *
 * Input: per message a header line "PARTITION OFFSET KEYLEN VALUELEN" (a length of
 * -1 means null) followed by the key and value bytes.  Output: one line per message,
 *   {"partition":P,"offset":O,"key":"<key text>"|null,"value":{envelope}|null}
 * where the envelope maps typed values back the way the JSON format writes them:
 * int64 → number, double → number (NaN/±Infinity as strings), bytes → base64,
 * array_json → the embedded JSON, unchanged_toast → "__debezium_unavailable_value",
 * tx_id 0 → null, transaction_block → "transaction".  A value that is not a valid
 * Change is an error (exit 1).
 *
 * With --transaction the values are pgcdc.v1.TransactionEvent records (the
 * transaction topic), printed as the JSON format writes them (a BEGIN's 0 and empty
 * list as null).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/json.h"
#include "decoder/pgcdc.pb-c.h"

static void
put_base64(struct jbuf *b, const uint8_t *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	jbuf_putc(b, '"');
	for (i = 0; i + 2 < n; i += 3) {
		jbuf_putc(b, t[p[i] >> 2]);
		jbuf_putc(b, t[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		jbuf_putc(b, t[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]);
		jbuf_putc(b, t[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		jbuf_putc(b, t[p[i] >> 2]);
		jbuf_putc(b, t[(p[i] & 3) << 4]);
		jbuf_puts(b, "==");
	} else if (n - i == 2) {
		jbuf_putc(b, t[p[i] >> 2]);
		jbuf_putc(b, t[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		jbuf_putc(b, t[(p[i + 1] & 15) << 2]);
		jbuf_putc(b, '=');
	}
	jbuf_putc(b, '"');
}

/* The shortest %g form that reads back as d. */
static void
put_double(struct jbuf *b, double d)
{
	char tmp[64];

	if (isnan(d)) {
		jbuf_puts(b, "\"NaN\"");
		return;
	}
	if (isinf(d)) {
		jbuf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	jbuf_puts(b, tmp);
}

static void
put_str(struct jbuf *b, const char *s)
{
	jbuf_put_jstring(b, s, strlen(s));
}

static int
put_row(struct jbuf *b, const Pgcdc__V1__Row *row)
{
	char tmp[32];

	if (row == NULL) {
		jbuf_puts(b, "null");
		return 0;
	}
	jbuf_putc(b, '{');
	for (size_t i = 0; i < row->n_columns; i++) {
		const Pgcdc__V1__Column *c = row->columns[i];

		if (i > 0)
			jbuf_putc(b, ',');
		put_str(b, c->name);
		jbuf_putc(b, ':');
		switch (c->value_case) {
		case PGCDC__V1__COLUMN__VALUE_NULL_VALUE:
			jbuf_puts(b, "null");
			break;
		case PGCDC__V1__COLUMN__VALUE_BOOL_VALUE:
			jbuf_puts(b, c->bool_value ? "true" : "false");
			break;
		case PGCDC__V1__COLUMN__VALUE_INT_VALUE:
			snprintf(tmp, sizeof(tmp), "%lld", (long long) c->int_value);
			jbuf_puts(b, tmp);
			break;
		case PGCDC__V1__COLUMN__VALUE_DOUBLE_VALUE:
			put_double(b, c->double_value);
			break;
		case PGCDC__V1__COLUMN__VALUE_STRING_VALUE:
			put_str(b, c->string_value);
			break;
		case PGCDC__V1__COLUMN__VALUE_BYTES_VALUE:
			put_base64(b, c->bytes_value.data, c->bytes_value.len);
			break;
		case PGCDC__V1__COLUMN__VALUE_ARRAY_JSON:
			jbuf_puts(b, c->array_json);
			break;
		case PGCDC__V1__COLUMN__VALUE_UNCHANGED_TOAST:
			jbuf_puts(b, "\"" CDC_UNAVAILABLE_VALUE "\"");
			break;
		default:
			fprintf(stderr, "kafka-protodump: column %s has no value\n", c->name);
			return -1;
		}
	}
	jbuf_putc(b, '}');
	return 0;
}

static const char *
op_letter(Pgcdc__V1__Op op)
{
	switch (op) {
	case PGCDC__V1__OP__OP_CREATE: return "c";
	case PGCDC__V1__OP__OP_UPDATE: return "u";
	case PGCDC__V1__OP__OP_DELETE: return "d";
	case PGCDC__V1__OP__OP_READ: return "r";
	case PGCDC__V1__OP__OP_TRUNCATE: return "t";
	case PGCDC__V1__OP__OP_MESSAGE: return "m";
	default: return NULL;
	}
}

static int
put_change(struct jbuf *b, const uint8_t *p, size_t n)
{
	Pgcdc__V1__Change *m = pgcdc__v1__change__unpack(NULL, n, p);
	const Pgcdc__V1__Source *s;
	char tmp[64];
	int rc = -1;

	if (m == NULL) {
		fprintf(stderr, "kafka-protodump: a %zu-byte value is not a pgcdc.v1.Change\n", n);
		return -1;
	}
	s = m->source;
	if (s == NULL || op_letter(m->op) == NULL) {
		fprintf(stderr, "kafka-protodump: Change without source or op\n");
		goto out;
	}
	jbuf_puts(b, "{\"before\":");
	if (put_row(b, m->before) != 0)
		goto out;
	jbuf_puts(b, ",\"after\":");
	if (put_row(b, m->after) != 0)
		goto out;
	jbuf_puts(b, ",\"source\":{\"version\":");
	put_str(b, s->version);
	jbuf_puts(b, ",\"connector\":");
	put_str(b, s->connector);
	jbuf_puts(b, ",\"name\":");
	put_str(b, s->name);
	snprintf(tmp, sizeof(tmp), ",\"ts_ms\":%lld", (long long) s->ts_ms);
	jbuf_puts(b, tmp);
	jbuf_puts(b, ",\"snapshot\":");
	put_str(b, s->snapshot);
	jbuf_puts(b, ",\"db\":");
	put_str(b, s->db);
	jbuf_puts(b, ",\"sequence\":");
	put_str(b, s->sequence);
	snprintf(tmp, sizeof(tmp), ",\"ts_us\":%lld,\"ts_ns\":%lld", (long long) s->ts_us,
	         (long long) s->ts_ns);
	jbuf_puts(b, tmp);
	jbuf_puts(b, ",\"schema\":");
	put_str(b, s->schema);
	jbuf_puts(b, ",\"table\":");
	put_str(b, s->table);
	if (s->tx_id != 0)
		snprintf(tmp, sizeof(tmp), ",\"txId\":%lld", (long long) s->tx_id);
	else
		snprintf(tmp, sizeof(tmp), ",\"txId\":null");
	jbuf_puts(b, tmp);
	snprintf(tmp, sizeof(tmp), ",\"lsn\":%llu,\"xmin\":null}", (unsigned long long) s->lsn);
	jbuf_puts(b, tmp);
	jbuf_puts(b, ",\"op\":\"");
	jbuf_puts(b, op_letter(m->op));
	snprintf(tmp, sizeof(tmp), "\",\"ts_ms\":%lld,\"ts_us\":%lld,", (long long) m->ts_ms,
	         (long long) m->ts_us);
	jbuf_puts(b, tmp);
	snprintf(tmp, sizeof(tmp), "\"ts_ns\":%lld,\"transaction\":", (long long) m->ts_ns);
	jbuf_puts(b, tmp);
	if (m->transaction_block != NULL) {
		jbuf_puts(b, "{\"id\":");
		put_str(b, m->transaction_block->id);
		snprintf(tmp, sizeof(tmp), ",\"total_order\":%lld,\"data_collection_order\":%lld}",
		         (long long) m->transaction_block->total_order,
		         (long long) m->transaction_block->data_collection_order);
		jbuf_puts(b, tmp);
	} else {
		jbuf_puts(b, "null");
	}
	if (m->message != NULL) {
		jbuf_puts(b, ",\"message\":{\"prefix\":");
		put_str(b, m->message->prefix);
		jbuf_puts(b, ",\"content\":");
		put_base64(b, m->message->content.data, m->message->content.len);
		jbuf_puts(b, "}");
	}
	jbuf_puts(b, "}");
	rc = 0;
out:
	pgcdc__v1__change__free_unpacked(m, NULL);
	return rc;
}

/* A pgcdc.v1.TransactionEvent as the JSON format's transaction record. */
static int
put_tx_event(struct jbuf *b, const uint8_t *p, size_t n)
{
	Pgcdc__V1__TransactionEvent *m = pgcdc__v1__transaction_event__unpack(NULL, n, p);
	bool begin;
	char tmp[64];

	if (m == NULL) {
		fprintf(stderr, "kafka-protodump: a %zu-byte value is not a pgcdc.v1.TransactionEvent\n", n);
		return -1;
	}
	begin = strcmp(m->status, "BEGIN") == 0;
	jbuf_puts(b, "{\"status\":");
	put_str(b, m->status);
	jbuf_puts(b, ",\"id\":");
	put_str(b, m->id);
	snprintf(tmp, sizeof(tmp), ",\"ts_ms\":%lld,\"event_count\":", (long long) m->ts_ms);
	jbuf_puts(b, tmp);
	if (begin) {
		jbuf_puts(b, "null,\"data_collections\":null}");
	} else {
		snprintf(tmp, sizeof(tmp), "%lld,\"data_collections\":[", (long long) m->event_count);
		jbuf_puts(b, tmp);
		for (size_t i = 0; i < m->n_data_collections; i++) {
			jbuf_puts(b, i ? ",{\"data_collection\":" : "{\"data_collection\":");
			put_str(b, m->data_collections[i]->data_collection);
			snprintf(tmp, sizeof(tmp), ",\"event_count\":%lld}",
			         (long long) m->data_collections[i]->event_count);
			jbuf_puts(b, tmp);
		}
		jbuf_puts(b, "]}");
	}
	pgcdc__v1__transaction_event__free_unpacked(m, NULL);
	return 0;
}

/* Read exactly n bytes (n < 0: none) into a fresh buffer. */
static int
read_bytes(long n, uint8_t **out)
{
	*out = NULL;
	if (n <= 0)
		return 0;
	if ((*out = malloc((size_t) n)) == NULL || fread(*out, 1, (size_t) n, stdin) != (size_t) n) {
		fprintf(stderr, "kafka-protodump: truncated input\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	bool tx = argc > 1 && strcmp(argv[1], "--transaction") == 0;
	struct jbuf b;
	long part, klen, vlen;
	long long off;
	int rc = 0;

	jbuf_init(&b);
	while (scanf("%ld %lld %ld %ld", &part, &off, &klen, &vlen) == 4) {
		uint8_t *key = NULL, *val = NULL;
		char tmp[64];

		if (getchar() != '\n' || read_bytes(klen, &key) != 0 || read_bytes(vlen, &val) != 0) {
			fprintf(stderr, "kafka-protodump: malformed input at offset %lld\n", off);
			free(key);
			free(val);
			rc = 1;
			break;
		}
		jbuf_reset(&b);
		snprintf(tmp, sizeof(tmp), "{\"partition\":%ld,\"offset\":%lld,\"key\":", part, off);
		jbuf_puts(&b, tmp);
		if (klen < 0)
			jbuf_puts(&b, "null");
		else
			jbuf_put_jstring(&b, (const char *) (key ? key : (uint8_t *) ""), (size_t) klen);
		jbuf_puts(&b, ",\"value\":");
		if (vlen < 0)
			jbuf_puts(&b, "null");
		else if ((tx ? put_tx_event : put_change)(&b, val ? val : (const uint8_t *) "",
		                                          (size_t) vlen) != 0)
			rc = 1;
		jbuf_puts(&b, "}\n");
		free(key);
		free(val);
		if (rc != 0)
			break;
		fwrite(b.data, 1, b.len, stdout);
	}
	jbuf_free(&b);
	return rc;
}
