/*
 * types.h — PostgreSQL type knowledge for value mapping.
 *
 * Built-in types (OID < 16384) are known statically.  User-defined types (enums,
 * domains, composite, user arrays, extension types such as citext) are registered
 * by the agent from pg_type (types_add); the decoder stays pure and never queries.
 * Resolution follows domains to their base type and arrays to their element type.
 *
 * Owning thread: the replication (main) thread.
 */
#ifndef PGCDC_TYPES_H
#define PGCDC_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/* How a value of a type is mapped (SPEC §3). */
enum cdc_tkind {
	CDC_T_STRING = 0,   /* anything else: text output as a JSON string */
	CDC_T_INT,          /* int2 int4 int8 oid: JSON number */
	CDC_T_FLOAT,        /* float4 float8: number; NaN/Infinity/-Infinity as strings */
	CDC_T_NUMERIC,      /* numeric: string (exact) or number when configured */
	CDC_T_BOOL,         /* bool: true/false */
	CDC_T_BYTEA,        /* bytea: base64 string */
	CDC_T_DATE,         /* "YYYY-MM-DD" */
	CDC_T_TIME,         /* "HH:MM:SS[.ffffff]" */
	CDC_T_TIMESTAMP,    /* "YYYY-MM-DDTHH:MM:SS[.ffffff]" */
	CDC_T_TIMESTAMPTZ,  /* same, UTC, with Z */
	CDC_T_INTERVAL,     /* ISO-8601 duration */
	CDC_T_JSON,         /* json/jsonb: string holding the JSON text */
	CDC_T_UUID,         /* string */
	CDC_T_ARRAY,        /* JSON array of mapped elements */
};

/* Well-known OIDs used across modules. */
enum {
	CDC_OID_BOOL = 16, CDC_OID_BYTEA = 17, CDC_OID_NAME = 19, CDC_OID_INT8 = 20,
	CDC_OID_INT2 = 21, CDC_OID_INT4 = 23, CDC_OID_TEXT = 25, CDC_OID_OID = 26,
	CDC_OID_JSON = 114, CDC_OID_XML = 142, CDC_OID_FLOAT4 = 700, CDC_OID_FLOAT8 = 701,
	CDC_OID_MONEY = 790, CDC_OID_BPCHAR = 1042, CDC_OID_VARCHAR = 1043,
	CDC_OID_DATE = 1082, CDC_OID_TIME = 1083, CDC_OID_TIMESTAMP = 1114,
	CDC_OID_TIMESTAMPTZ = 1184, CDC_OID_INTERVAL = 1186, CDC_OID_TIMETZ = 1266,
	CDC_OID_NUMERIC = 1700, CDC_OID_UUID = 2950, CDC_OID_JSONB = 3802,
	CDC_OID_BOX = 603, CDC_OID_BIT = 1560, CDC_OID_VARBIT = 1562,
	CDC_FIRST_USER_OID = 16384,
};

/* The resolved description of a type. */
struct cdc_typedesc {
	enum cdc_tkind kind;
	uint32_t base_oid;  /* after following domains */
	uint32_t elem_oid;  /* element type for CDC_T_ARRAY, else 0 */
	char delim;         /* array element delimiter (',' except box: ';') */
};

struct cdc_types;

/* Returns owned registry, NULL on out-of-memory. */
struct cdc_types *types_new(void);
void types_free(struct cdc_types *t);

/* Register (or replace) a user type from pg_type: typtype ('b','d','e','c','r','m','p'),
 * typbasetype (domains, else 0), typelem (arrays, else 0), typdelim, typname (copied).
 * Returns 0 or CDC_ERR_NOMEM. */
int types_add(struct cdc_types *t, uint32_t oid, char typtype, uint32_t basetype,
              uint32_t elemtype, char delim, const char *name);

/* Whether the registry knows oid (built-in or added). */
bool types_known(const struct cdc_types *t, uint32_t oid);

/* An enum type's labels, comma-separated in their sort order (Debezium's Enum
 * "allowed"): set by the agent from pg_enum; NULL when oid is no enum or they are
 * not known.  The string stays valid until the next types_set_labels of oid. */
int types_set_labels(struct cdc_types *t, uint32_t oid, const char *labels);

/* Whether oid is the registered (extension) type of that name, e.g. "hstore". */
bool types_is(const struct cdc_types *t, uint32_t oid, const char *name);
const char *types_labels(const struct cdc_types *t, uint32_t oid);

/* Resolve oid.  Unknown OIDs resolve to CDC_T_STRING (text output), never fail.
 * t may be NULL (built-ins only). */
void types_resolve(const struct cdc_types *t, uint32_t oid, struct cdc_typedesc *out);

#endif
