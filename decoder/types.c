/*
 * types.c — PostgreSQL type knowledge for value mapping (types.h).
 *
 * DESIGN: built-in types (OID < 16384) are fixed by PostgreSQL's pg_type.dat and
 * are resolved from two static, sorted tables: the non-array built-ins (base,
 * pseudo, range, catalog row types; all map to CDC_T_STRING unless named in
 * builtin_kind) and the built-in array types with their element type and
 * delimiter.  Both tables were dumped from a PostgreSQL 15 catalog.  User types
 * (enums, domains, user arrays, extension types) are registered by the agent from
 * pg_type into a small open-addressing hash table keyed by OID; resolution follows
 * domains to their base type with a depth limit, so a catalog loop can never hang
 * the decoder.  Lookups never allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "types.h"

/* Domains over domains deeper than this are treated as text (loop guard). */
#define TYPES_MAX_DOMAIN_DEPTH 32

/* Non-array built-in types of PostgreSQL 15 (pg_type.dat, OIDs below 10000). */
static const uint32_t builtin_scalars[] = {
	16,   /* bool */       17,   /* bytea */      18,   /* char */
	19,   /* name */       20,   /* int8 */       21,   /* int2 */
	22,   /* int2vector */ 23,   /* int4 */       24,   /* regproc */
	25,   /* text */       26,   /* oid */        27,   /* tid */
	28,   /* xid */        29,   /* cid */        30,   /* oidvector */
	32,   /* pg_ddl_command */ 71, /* pg_type */  75,   /* pg_attribute */
	81,   /* pg_proc */    83,   /* pg_class */   114,  /* json */
	142,  /* xml */        194,  /* pg_node_tree */ 269, /* table_am_handler */
	325,  /* index_am_handler */ 600, /* point */ 601,  /* lseg */
	602,  /* path */       603,  /* box */        604,  /* polygon */
	628,  /* line */       650,  /* cidr */       700,  /* float4 */
	701,  /* float8 */     705,  /* unknown */    718,  /* circle */
	774,  /* macaddr8 */   790,  /* money */      829,  /* macaddr */
	869,  /* inet */       1033, /* aclitem */    1042, /* bpchar */
	1043, /* varchar */    1082, /* date */       1083, /* time */
	1114, /* timestamp */  1184, /* timestamptz */ 1186, /* interval */
	1248, /* pg_database */ 1266, /* timetz */    1560, /* bit */
	1562, /* varbit */     1700, /* numeric */    1790, /* refcursor */
	2202, /* regprocedure */ 2203, /* regoper */  2204, /* regoperator */
	2205, /* regclass */   2206, /* regtype */    2249, /* record */
	2275, /* cstring */    2276, /* any */        2277, /* anyarray */
	2278, /* void */       2279, /* trigger */    2280, /* language_handler */
	2281, /* internal */   2283, /* anyelement */ 2776, /* anynonarray */
	2842, /* pg_authid */  2843, /* pg_auth_members */ 2950, /* uuid */
	2970, /* txid_snapshot */ 3115, /* fdw_handler */ 3220, /* pg_lsn */
	3310, /* tsm_handler */ 3361, /* pg_ndistinct */ 3402, /* pg_dependencies */
	3500, /* anyenum */    3614, /* tsvector */   3615, /* tsquery */
	3642, /* gtsvector */  3734, /* regconfig */  3769, /* regdictionary */
	3802, /* jsonb */      3831, /* anyrange */   3838, /* event_trigger */
	3904, /* int4range */  3906, /* numrange */   3908, /* tsrange */
	3910, /* tstzrange */  3912, /* daterange */  3926, /* int8range */
	4066, /* pg_shseclabel */ 4072, /* jsonpath */ 4089, /* regnamespace */
	4096, /* regrole */    4191, /* regcollation */ 4451, /* int4multirange */
	4532, /* nummultirange */ 4533, /* tsmultirange */ 4534, /* tstzmultirange */
	4535, /* datemultirange */ 4536, /* int8multirange */ 4537, /* anymultirange */
	4538, /* anycompatiblemultirange */ 4600, /* pg_brin_bloom_summary */
	4601, /* pg_brin_minmax_multi_summary */ 5017, /* pg_mcv_list */
	5038, /* pg_snapshot */ 5069, /* xid8 */      5077, /* anycompatible */
	5078, /* anycompatiblearray */ 5079, /* anycompatiblenonarray */
	5080, /* anycompatiblerange */ 6101, /* pg_subscription */
};

/* Built-in array types of PostgreSQL 15: array OID, element OID, delimiter.
 * Sorted by array OID.  _record (2287) is a pseudo-type and deliberately absent. */
static const struct builtin_array {
	uint32_t oid;
	uint32_t elem;
	char delim;
} builtin_arrays[] = {
	{143, 142, ','},   /* _xml */
	{199, 114, ','},   /* _json */
	{210, 71, ','},    /* _pg_type */
	{270, 75, ','},    /* _pg_attribute */
	{271, 5069, ','},  /* _xid8 */
	{272, 81, ','},    /* _pg_proc */
	{273, 83, ','},    /* _pg_class */
	{629, 628, ','},   /* _line */
	{651, 650, ','},   /* _cidr */
	{719, 718, ','},   /* _circle */
	{775, 774, ','},   /* _macaddr8 */
	{791, 790, ','},   /* _money */
	{1000, 16, ','},   /* _bool */
	{1001, 17, ','},   /* _bytea */
	{1002, 18, ','},   /* _char */
	{1003, 19, ','},   /* _name */
	{1005, 21, ','},   /* _int2 */
	{1006, 22, ','},   /* _int2vector */
	{1007, 23, ','},   /* _int4 */
	{1008, 24, ','},   /* _regproc */
	{1009, 25, ','},   /* _text */
	{1010, 27, ','},   /* _tid */
	{1011, 28, ','},   /* _xid */
	{1012, 29, ','},   /* _cid */
	{1013, 30, ','},   /* _oidvector */
	{1014, 1042, ','}, /* _bpchar */
	{1015, 1043, ','}, /* _varchar */
	{1016, 20, ','},   /* _int8 */
	{1017, 600, ','},  /* _point */
	{1018, 601, ','},  /* _lseg */
	{1019, 602, ','},  /* _path */
	{1020, 603, ';'},  /* _box */
	{1021, 700, ','},  /* _float4 */
	{1022, 701, ','},  /* _float8 */
	{1027, 604, ','},  /* _polygon */
	{1028, 26, ','},   /* _oid */
	{1034, 1033, ','}, /* _aclitem */
	{1040, 829, ','},  /* _macaddr */
	{1041, 869, ','},  /* _inet */
	{1115, 1114, ','}, /* _timestamp */
	{1182, 1082, ','}, /* _date */
	{1183, 1083, ','}, /* _time */
	{1185, 1184, ','}, /* _timestamptz */
	{1187, 1186, ','}, /* _interval */
	{1231, 1700, ','}, /* _numeric */
	{1263, 2275, ','}, /* _cstring */
	{1270, 1266, ','}, /* _timetz */
	{1561, 1560, ','}, /* _bit */
	{1563, 1562, ','}, /* _varbit */
	{2201, 1790, ','}, /* _refcursor */
	{2207, 2202, ','}, /* _regprocedure */
	{2208, 2203, ','}, /* _regoper */
	{2209, 2204, ','}, /* _regoperator */
	{2210, 2205, ','}, /* _regclass */
	{2211, 2206, ','}, /* _regtype */
	{2949, 2970, ','}, /* _txid_snapshot */
	{2951, 2950, ','}, /* _uuid */
	{3221, 3220, ','}, /* _pg_lsn */
	{3643, 3614, ','}, /* _tsvector */
	{3644, 3642, ','}, /* _gtsvector */
	{3645, 3615, ','}, /* _tsquery */
	{3735, 3734, ','}, /* _regconfig */
	{3770, 3769, ','}, /* _regdictionary */
	{3807, 3802, ','}, /* _jsonb */
	{3905, 3904, ','}, /* _int4range */
	{3907, 3906, ','}, /* _numrange */
	{3909, 3908, ','}, /* _tsrange */
	{3911, 3910, ','}, /* _tstzrange */
	{3913, 3912, ','}, /* _daterange */
	{3927, 3926, ','}, /* _int8range */
	{4073, 4072, ','}, /* _jsonpath */
	{4090, 4089, ','}, /* _regnamespace */
	{4097, 4096, ','}, /* _regrole */
	{4192, 4191, ','}, /* _regcollation */
	{5039, 5038, ','}, /* _pg_snapshot */
	{6150, 4451, ','}, /* _int4multirange */
	{6151, 4532, ','}, /* _nummultirange */
	{6152, 4533, ','}, /* _tsmultirange */
	{6153, 4534, ','}, /* _tstzmultirange */
	{6155, 4535, ','}, /* _datemultirange */
	{6157, 4536, ','}, /* _int8multirange */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A registered user type (types_add). */
struct utype {
	uint32_t oid;          /* 0 = empty slot (InvalidOid is never a type) */
	char typtype;
	char delim;
	uint32_t basetype;
	uint32_t elemtype;
	char *name;            /* owned */
	char *labels;          /* an enum's labels in sort order, comma-separated (owned) */
};

struct cdc_types {
	struct utype *slots;   /* open addressing, linear probing; nslots a power of 2 */
	size_t nslots;
	size_t nused;
};

static bool
scalar_builtin(uint32_t oid)
{
	size_t lo = 0, hi = NELEM(builtin_scalars);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (builtin_scalars[mid] == oid)
			return true;
		if (builtin_scalars[mid] < oid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static const struct builtin_array *
array_builtin(uint32_t oid)
{
	size_t lo = 0, hi = NELEM(builtin_arrays);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (builtin_arrays[mid].oid == oid)
			return &builtin_arrays[mid];
		if (builtin_arrays[mid].oid < oid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Mapping kind of a non-array built-in type; everything not named is text. */
static enum cdc_tkind
builtin_kind(uint32_t oid)
{
	switch (oid) {
	case CDC_OID_INT2:
	case CDC_OID_INT4:
	case CDC_OID_INT8:
	case CDC_OID_OID:
		return CDC_T_INT;
	case CDC_OID_FLOAT4:
	case CDC_OID_FLOAT8:
		return CDC_T_FLOAT;
	case CDC_OID_NUMERIC:
		return CDC_T_NUMERIC;
	case CDC_OID_BOOL:
		return CDC_T_BOOL;
	case CDC_OID_BYTEA:
		return CDC_T_BYTEA;
	case CDC_OID_DATE:
		return CDC_T_DATE;
	case CDC_OID_TIME:
		return CDC_T_TIME;
	case CDC_OID_TIMESTAMP:
		return CDC_T_TIMESTAMP;
	case CDC_OID_TIMESTAMPTZ:
		return CDC_T_TIMESTAMPTZ;
	case CDC_OID_INTERVAL:
		return CDC_T_INTERVAL;
	case CDC_OID_JSON:
	case CDC_OID_JSONB:
		return CDC_T_JSON;
	case CDC_OID_UUID:
		return CDC_T_UUID;
	default:
		return CDC_T_STRING;
	}
}

static size_t
hash_oid(uint32_t oid)
{
	uint64_t h = (uint64_t) oid * 2654435761u;   /* Knuth multiplicative, no wrap */

	return (size_t) (h ^ (h >> 32));
}

static struct utype *
lookup(const struct cdc_types *t, uint32_t oid)
{
	size_t mask, i;

	if (t == NULL || t->nslots == 0 || oid == 0)
		return NULL;
	mask = t->nslots - 1;
	for (i = hash_oid(oid) & mask;; i = (i + 1) & mask) {
		if (t->slots[i].oid == oid)
			return &t->slots[i];
		if (t->slots[i].oid == 0)
			return NULL;
	}
}

struct cdc_types *
types_new(void)
{
	struct cdc_types *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nslots = 64;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
types_free(struct cdc_types *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++) {
		free(t->slots[i].name);
		free(t->slots[i].labels);
	}
	free(t->slots);
	free(t);
}

/* Double the table; keeps every entry (names move, not copied). */
static int
grow(struct cdc_types *t)
{
	size_t n = t->nslots * 2, i, mask = n - 1;
	struct utype *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return CDC_ERR_NOMEM;
	for (i = 0; i < t->nslots; i++) {
		size_t j;

		if (t->slots[i].oid == 0)
			continue;
		for (j = hash_oid(t->slots[i].oid) & mask; s[j].oid != 0; j = (j + 1) & mask)
			;
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

int
types_add(struct cdc_types *t, uint32_t oid, char typtype, uint32_t basetype,
          uint32_t elemtype, char delim, const char *name)
{
	struct utype *u;
	char *copy = NULL;
	size_t mask, i;

	if (t == NULL || oid == 0)
		return 0;
	if (name != NULL) {
		copy = strdup(name);
		if (copy == NULL)
			return CDC_ERR_NOMEM;
	}
	u = lookup(t, oid);
	if (u == NULL) {
		/* keep the load factor at or below 1/2 */
		if ((t->nused + 1) * 2 > t->nslots && grow(t) != 0) {
			free(copy);
			return CDC_ERR_NOMEM;
		}
		mask = t->nslots - 1;
		for (i = hash_oid(oid) & mask; t->slots[i].oid != 0; i = (i + 1) & mask)
			;
		u = &t->slots[i];
		u->oid = oid;
		t->nused++;
	}
	free(u->name);
	u->name = copy;
	u->typtype = typtype;
	u->basetype = basetype;
	u->elemtype = elemtype;
	u->delim = delim;
	return 0;
}

int
types_set_labels(struct cdc_types *t, uint32_t oid, const char *labels)
{
	struct utype *u = t != NULL ? lookup(t, oid) : NULL;
	char *copy;

	if (u == NULL)
		return 0;
	if ((copy = strdup(labels)) == NULL)
		return CDC_ERR_NOMEM;
	free(u->labels);
	u->labels = copy;
	return 0;
}

bool
types_is(const struct cdc_types *t, uint32_t oid, const char *name)
{
	const struct utype *u = t != NULL && oid >= CDC_FIRST_USER_OID ? lookup(t, oid) : NULL;

	return u != NULL && u->name != NULL && strcmp(u->name, name) == 0;
}

const char *
types_labels(const struct cdc_types *t, uint32_t oid)
{
	const struct utype *u = t != NULL && oid >= CDC_FIRST_USER_OID ? lookup(t, oid) : NULL;

	return u != NULL && u->typtype == 'e' ? u->labels : NULL;
}

bool
types_known(const struct cdc_types *t, uint32_t oid)
{
	if (oid < CDC_FIRST_USER_OID && (scalar_builtin(oid) || array_builtin(oid) != NULL))
		return true;
	return lookup(t, oid) != NULL;
}

/* Whether a registered type is an array: it has an element type and, when its name
 * is known, the "_" prefix PostgreSQL gives every array type (which tells arrays
 * apart from fixed-length subscriptable types such as point, whose typelem is set
 * too). */
static bool
utype_is_array(const struct utype *u)
{
	if (u->elemtype == 0 || u->typtype == 'd' || u->typtype == 'e')
		return false;
	return u->name == NULL || u->name[0] == '\0' || u->name[0] == '_';
}

/* The common built-in scalar types, resolved without a search (they are most of
 * the columns of most tables; every value of every record is resolved). */
static bool
fast_builtin(uint32_t oid, struct cdc_typedesc *out)
{
	enum cdc_tkind k;

	switch (oid) {
	case CDC_OID_INT2: case CDC_OID_INT4: case CDC_OID_INT8: case CDC_OID_OID:
		k = CDC_T_INT; break;
	case CDC_OID_FLOAT4: case CDC_OID_FLOAT8: k = CDC_T_FLOAT; break;
	case CDC_OID_NUMERIC: k = CDC_T_NUMERIC; break;
	case CDC_OID_BOOL: k = CDC_T_BOOL; break;
	case CDC_OID_BYTEA: k = CDC_T_BYTEA; break;
	case CDC_OID_DATE: k = CDC_T_DATE; break;
	case CDC_OID_TIME: k = CDC_T_TIME; break;
	case CDC_OID_TIMESTAMP: k = CDC_T_TIMESTAMP; break;
	case CDC_OID_TIMESTAMPTZ: k = CDC_T_TIMESTAMPTZ; break;
	case CDC_OID_INTERVAL: k = CDC_T_INTERVAL; break;
	case CDC_OID_JSON: case CDC_OID_JSONB: k = CDC_T_JSON; break;
	case CDC_OID_UUID: k = CDC_T_UUID; break;
	case CDC_OID_TEXT: case CDC_OID_VARCHAR: case CDC_OID_BPCHAR: case CDC_OID_NAME:
		k = CDC_T_STRING; break;
	default:
		return false;
	}
	out->kind = k;
	out->base_oid = oid;
	out->elem_oid = 0;
	out->delim = ',';
	return true;
}

void
types_resolve(const struct cdc_types *t, uint32_t oid, struct cdc_typedesc *out)
{
	int depth;

	if (fast_builtin(oid, out))
		return;

	for (depth = 0; depth <= TYPES_MAX_DOMAIN_DEPTH; depth++) {
		const struct builtin_array *a;
		const struct utype *u;

		out->base_oid = oid;
		out->elem_oid = 0;
		out->delim = ',';
		if (oid < CDC_FIRST_USER_OID) {
			if ((a = array_builtin(oid)) != NULL) {
				out->kind = CDC_T_ARRAY;
				out->elem_oid = a->elem;
				out->delim = a->delim;
				return;
			}
			if (scalar_builtin(oid)) {
				out->kind = builtin_kind(oid);
				return;
			}
		}
		u = lookup(t, oid);
		if (u == NULL) {
			/* unknown (or an unlisted built-in): text output as a string */
			out->kind = CDC_T_STRING;
			return;
		}
		if (u->typtype == 'd' && u->basetype != 0) {
			oid = u->basetype;
			continue;
		}
		if (utype_is_array(u)) {
			out->kind = CDC_T_ARRAY;
			out->elem_oid = u->elemtype;
			out->delim = u->delim != '\0' ? u->delim : ',';
			return;
		}
		/* enums, composites, ranges, extension base types such as citext */
		out->kind = CDC_T_STRING;
		return;
	}
	/* domain chain too deep or looping: keep the text */
	out->kind = CDC_T_STRING;
	out->elem_oid = 0;
	out->delim = ',';
}
