/*
 * proto.h — protobuf encoding of one row change as a pgcdc.v1.Change
 * (decoder/pgcdc.proto), for the Kafka sink's `format = protobuf`.
 *
 * The Change carries the same information as the JSON envelope of json.h: the
 * same before/after rules (replica identity, unchanged TOAST), the same source
 * block, values typed where the PostgreSQL type allows (integers as int64, floats
 * as double, bool, bytea as bytes; numeric and the date/time types as the same
 * strings the JSON format writes; arrays as their JSON text).  The record key stays
 * JSON (json_key) in both formats.
 *
 * Pure: no I/O, no clock (the caller passes now_ns), no logging.
 * Owning thread: whoever owns the encoder (the Kafka sink: the main thread).
 */
#ifndef PGCDC_PROTO_H
#define PGCDC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "json.h"
#include "types.h"

struct proto_enc;

/* A reusable encoder: its buffers grow to the largest record and are kept, so
 * encoding allocates nothing once warmed up.  Returns owned encoder, NULL on OOM. */
struct proto_enc *proto_enc_new(void);
void proto_enc_free(struct proto_enc *e);   /* NULL-safe */

/* Encode ch (borrowed) as a serialized pgcdc.v1.Change.  o supplies source.name,
 * source.db, source.version and the unchanged-TOAST policy (numeric stays a string
 * whatever o->numeric_as_number says, except inside array_json, which is exactly
 * the JSON mapping).  now_ns: when the record was produced (the top-level ts_ms, ts_us
 * and ts_ns).  On success returns 0 and sets
 * *out / *outlen to the encoded bytes, borrowed until the next call on e;
 * otherwise returns a negative cdc_errcode with err set (CDC_ERR_PROTO for a value
 * that cannot be mapped, as json_envelope would). */
int proto_encode(struct proto_enc *e, const struct cdc_change *ch, const struct cdc_types *types,
                 const struct json_opts *o, int64_t now_ns, const uint8_t **out, size_t *outlen,
                 struct cdc_err *err);

/* The transaction metadata record (see json_tx_event) as a serialized
 * pgcdc.v1.TransactionEvent; *out borrowed until the next call on e. */
int proto_tx_event(struct proto_enc *e, uint32_t xid, cdc_lsn lsn, int64_t ts_us,
                   const struct json_tx_count *counts, size_t ncounts, uint64_t total,
                   const uint8_t **out, size_t *outlen, struct cdc_err *err);

#endif
