/*
 * test_types.c — type resolution (decoder/types.c): built-in scalars and arrays
 * against PostgreSQL 15's pg_type.dat, user types registered with types_add
 * (domains, enums, user arrays, domain loops), unknown OIDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decoder/types.h"

struct resolve_case {
	uint32_t oid;
	enum cdc_tkind kind;
	uint32_t base;      /* expected base_oid (0: same as oid) */
	uint32_t elem;      /* expected elem_oid */
	char delim;         /* expected delimiter (0: ',') */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
check_cases(const struct cdc_types *t, const struct resolve_case *cases, size_t n)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		const struct resolve_case *c = &cases[i];
		struct cdc_typedesc d;
		uint32_t base = c->base ? c->base : c->oid;
		char delim = c->delim ? c->delim : ',';

		memset(&d, 0x5A, sizeof(d));
		types_resolve(t, c->oid, &d);
		if (d.kind != c->kind || d.base_oid != base || d.elem_oid != c->elem
		    || d.delim != delim) {
			print_error("oid %u: got kind %d base %u elem %u delim '%c', "
			            "want kind %d base %u elem %u delim '%c'\n",
			            c->oid, (int) d.kind, d.base_oid, d.elem_oid, d.delim,
			            (int) c->kind, base, c->elem, delim);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Built-in scalar types: the mapping kinds of SPEC §3. */
static const struct resolve_case builtin_scalar_cases[] = {
	{21, CDC_T_INT, 0, 0, 0},          /* int2 */
	{23, CDC_T_INT, 0, 0, 0},          /* int4 */
	{20, CDC_T_INT, 0, 0, 0},          /* int8 */
	{26, CDC_T_INT, 0, 0, 0},          /* oid */
	{700, CDC_T_FLOAT, 0, 0, 0},       /* float4 */
	{701, CDC_T_FLOAT, 0, 0, 0},       /* float8 */
	{1700, CDC_T_NUMERIC, 0, 0, 0},    /* numeric */
	{16, CDC_T_BOOL, 0, 0, 0},         /* bool */
	{17, CDC_T_BYTEA, 0, 0, 0},        /* bytea */
	{1082, CDC_T_DATE, 0, 0, 0},       /* date */
	{1083, CDC_T_TIME, 0, 0, 0},       /* time */
	{1114, CDC_T_TIMESTAMP, 0, 0, 0},  /* timestamp */
	{1184, CDC_T_TIMESTAMPTZ, 0, 0, 0},/* timestamptz */
	{1186, CDC_T_INTERVAL, 0, 0, 0},   /* interval */
	{114, CDC_T_JSON, 0, 0, 0},        /* json */
	{3802, CDC_T_JSON, 0, 0, 0},       /* jsonb */
	{2950, CDC_T_UUID, 0, 0, 0},       /* uuid */
	/* everything else built in: text output */
	{25, CDC_T_STRING, 0, 0, 0},       /* text */
	{1043, CDC_T_STRING, 0, 0, 0},     /* varchar */
	{1042, CDC_T_STRING, 0, 0, 0},     /* bpchar */
	{18, CDC_T_STRING, 0, 0, 0},       /* char */
	{19, CDC_T_STRING, 0, 0, 0},       /* name: typelem char, but not an array */
	{22, CDC_T_STRING, 0, 0, 0},       /* int2vector: "1 2", not an array */
	{30, CDC_T_STRING, 0, 0, 0},       /* oidvector */
	{24, CDC_T_STRING, 0, 0, 0},       /* regproc: category N, but a name */
	{2205, CDC_T_STRING, 0, 0, 0},     /* regclass */
	{790, CDC_T_STRING, 0, 0, 0},      /* money */
	{142, CDC_T_STRING, 0, 0, 0},      /* xml */
	{869, CDC_T_STRING, 0, 0, 0},      /* inet */
	{650, CDC_T_STRING, 0, 0, 0},      /* cidr */
	{829, CDC_T_STRING, 0, 0, 0},      /* macaddr */
	{774, CDC_T_STRING, 0, 0, 0},      /* macaddr8 */
	{1266, CDC_T_STRING, 0, 0, 0},     /* timetz */
	{600, CDC_T_STRING, 0, 0, 0},      /* point: typelem float8, not an array */
	{603, CDC_T_STRING, 0, 0, 0},      /* box */
	{1560, CDC_T_STRING, 0, 0, 0},     /* bit */
	{3614, CDC_T_STRING, 0, 0, 0},     /* tsvector */
	{3904, CDC_T_STRING, 0, 0, 0},     /* int4range */
	{4451, CDC_T_STRING, 0, 0, 0},     /* int4multirange */
	{3220, CDC_T_STRING, 0, 0, 0},     /* pg_lsn */
	{5069, CDC_T_STRING, 0, 0, 0},     /* xid8 */
	{28, CDC_T_STRING, 0, 0, 0},       /* xid */
	{2249, CDC_T_STRING, 0, 0, 0},     /* record */
	{2287, CDC_T_STRING, 0, 0, 0},     /* _record: pseudo-type, not a real array */
	{9999, CDC_T_STRING, 0, 0, 0},     /* not a type at all */
	{0, CDC_T_STRING, 0, 0, 0},        /* InvalidOid */
};

/* Built-in arrays: OIDs and element types as in PostgreSQL 15's pg_type.dat. */
static const struct resolve_case builtin_array_cases[] = {
	{1000, CDC_T_ARRAY, 0, 16, 0},     /* bool[] */
	{1001, CDC_T_ARRAY, 0, 17, 0},     /* bytea[] */
	{1002, CDC_T_ARRAY, 0, 18, 0},     /* char[] */
	{1003, CDC_T_ARRAY, 0, 19, 0},     /* name[] */
	{1005, CDC_T_ARRAY, 0, 21, 0},     /* int2[] */
	{1007, CDC_T_ARRAY, 0, 23, 0},     /* int4[] */
	{1016, CDC_T_ARRAY, 0, 20, 0},     /* int8[] */
	{1028, CDC_T_ARRAY, 0, 26, 0},     /* oid[] */
	{1021, CDC_T_ARRAY, 0, 700, 0},    /* float4[] */
	{1022, CDC_T_ARRAY, 0, 701, 0},    /* float8[] */
	{1231, CDC_T_ARRAY, 0, 1700, 0},   /* numeric[] */
	{1009, CDC_T_ARRAY, 0, 25, 0},     /* text[] */
	{1015, CDC_T_ARRAY, 0, 1043, 0},   /* varchar[] */
	{1014, CDC_T_ARRAY, 0, 1042, 0},   /* bpchar[] */
	{1182, CDC_T_ARRAY, 0, 1082, 0},   /* date[] */
	{1183, CDC_T_ARRAY, 0, 1083, 0},   /* time[] */
	{1115, CDC_T_ARRAY, 0, 1114, 0},   /* timestamp[] */
	{1185, CDC_T_ARRAY, 0, 1184, 0},   /* timestamptz[] */
	{1187, CDC_T_ARRAY, 0, 1186, 0},   /* interval[] */
	{1270, CDC_T_ARRAY, 0, 1266, 0},   /* timetz[] */
	{199, CDC_T_ARRAY, 0, 114, 0},     /* json[] */
	{3807, CDC_T_ARRAY, 0, 3802, 0},   /* jsonb[] */
	{2951, CDC_T_ARRAY, 0, 2950, 0},   /* uuid[] */
	{1041, CDC_T_ARRAY, 0, 869, 0},    /* inet[] */
	{651, CDC_T_ARRAY, 0, 650, 0},     /* cidr[] */
	{1040, CDC_T_ARRAY, 0, 829, 0},    /* macaddr[] */
	{775, CDC_T_ARRAY, 0, 774, 0},     /* macaddr8[] */
	{791, CDC_T_ARRAY, 0, 790, 0},     /* money[] */
	{143, CDC_T_ARRAY, 0, 142, 0},     /* xml[] */
	{1020, CDC_T_ARRAY, 0, 603, ';'},  /* box[]: the one ';' delimiter */
	{1017, CDC_T_ARRAY, 0, 600, 0},    /* point[] */
	{1561, CDC_T_ARRAY, 0, 1560, 0},   /* bit[] */
	{3905, CDC_T_ARRAY, 0, 3904, 0},   /* int4range[] */
	{6150, CDC_T_ARRAY, 0, 4451, 0},   /* int4multirange[] */
	{3221, CDC_T_ARRAY, 0, 3220, 0},   /* pg_lsn[] */
	{271, CDC_T_ARRAY, 0, 5069, 0},    /* xid8[] */
	{1006, CDC_T_ARRAY, 0, 22, 0},     /* int2vector[] */
	{1263, CDC_T_ARRAY, 0, 2275, 0},   /* cstring[] */
	{6157, CDC_T_ARRAY, 0, 4536, 0},   /* int8multirange[], the highest */
};

static void
test_builtin_scalars(void **state)
{
	(void) state;
	check_cases(NULL, builtin_scalar_cases, NELEM(builtin_scalar_cases));
}

static void
test_builtin_arrays(void **state)
{
	(void) state;
	check_cases(NULL, builtin_array_cases, NELEM(builtin_array_cases));
}

/* A registry changes nothing about built-ins, even when the agent registers them. */
static void
test_builtins_not_overridden(void **state)
{
	struct cdc_types *t = types_new();

	(void) state;
	assert_non_null(t);
	assert_int_equal(types_add(t, 23, 'b', 0, 0, ',', "int4"), 0);
	assert_int_equal(types_add(t, 1007, 'b', 0, 23, ',', "_int4"), 0);
	assert_int_equal(types_add(t, 1700, 'b', 0, 0, ',', "numeric"), 0);
	check_cases(t, builtin_scalar_cases, NELEM(builtin_scalar_cases));
	check_cases(t, builtin_array_cases, NELEM(builtin_array_cases));
	types_free(t);
}

/* The catalog of the PostgreSQL 15 test database the formats were taken from:
 *   create domain dint as int; create domain dtxt as text[];
 *   create type mood as enum ('happy','sad'); create domain dbox as box;
 *   create domain darr as int[]; */
static struct cdc_types *
user_registry(void)
{
	struct cdc_types *t = types_new();

	assert_non_null(t);
	assert_int_equal(types_add(t, 16384, 'b', 0, 16385, ',', "_dint"), 0);
	assert_int_equal(types_add(t, 16385, 'd', 23, 0, ',', "dint"), 0);
	assert_int_equal(types_add(t, 16386, 'b', 0, 16387, ',', "_dtxt"), 0);
	assert_int_equal(types_add(t, 16387, 'd', 1009, 0, ',', "dtxt"), 0);
	assert_int_equal(types_add(t, 16388, 'b', 0, 16389, ',', "_mood"), 0);
	assert_int_equal(types_add(t, 16389, 'e', 0, 0, ',', "mood"), 0);
	assert_int_equal(types_add(t, 16393, 'b', 0, 16394, ';', "_dbox"), 0);
	assert_int_equal(types_add(t, 16394, 'd', 603, 0, ';', "dbox"), 0);
	assert_int_equal(types_add(t, 16395, 'b', 0, 16396, ',', "_darr"), 0);
	assert_int_equal(types_add(t, 16396, 'd', 1007, 0, ',', "darr"), 0);
	/* domain over domain over numeric */
	assert_int_equal(types_add(t, 16400, 'd', 1700, 0, ',', "money2"), 0);
	assert_int_equal(types_add(t, 16401, 'd', 16400, 0, ',', "price"), 0);
	/* extension base type (citext), composite, range */
	assert_int_equal(types_add(t, 16410, 'b', 0, 0, ',', "citext"), 0);
	assert_int_equal(types_add(t, 16411, 'b', 0, 16410, ',', "_citext"), 0);
	assert_int_equal(types_add(t, 16412, 'c', 0, 0, ',', "pair"), 0);
	assert_int_equal(types_add(t, 16413, 'r', 0, 0, ',', "floatrange"), 0);
	/* a fixed-length subscriptable user type: typelem set, not an array */
	assert_int_equal(types_add(t, 16414, 'b', 0, 701, ',', "vec2"), 0);
	/* registered without a name: typelem decides */
	assert_int_equal(types_add(t, 16415, 'b', 0, 16389, ',', NULL), 0);
	/* a domain loop (corrupt input) and a domain over an unknown type */
	assert_int_equal(types_add(t, 16420, 'd', 16421, 0, ',', "loop_a"), 0);
	assert_int_equal(types_add(t, 16421, 'd', 16420, 0, ',', "loop_b"), 0);
	assert_int_equal(types_add(t, 16422, 'd', 16422, 0, ',', "self"), 0);
	assert_int_equal(types_add(t, 16423, 'd', 99999, 0, ',', "over_unknown"), 0);
	return t;
}

static const struct resolve_case user_cases[] = {
	{16385, CDC_T_INT, 23, 0, 0},          /* domain over int */
	{16384, CDC_T_ARRAY, 0, 16385, 0},     /* array of domain over int */
	{16387, CDC_T_ARRAY, 1009, 25, 0},     /* domain over text[] */
	{16386, CDC_T_ARRAY, 0, 16387, 0},     /* array of domain over text[] */
	{16389, CDC_T_STRING, 0, 0, 0},        /* enum */
	{16388, CDC_T_ARRAY, 0, 16389, 0},     /* enum[] */
	{16394, CDC_T_STRING, 603, 0, 0},      /* domain over box */
	{16393, CDC_T_ARRAY, 0, 16394, ';'},   /* array of domain over box: ';' */
	{16396, CDC_T_ARRAY, 1007, 23, 0},     /* domain over int[] */
	{16395, CDC_T_ARRAY, 0, 16396, 0},     /* array of domain over int[] */
	{16401, CDC_T_NUMERIC, 1700, 0, 0},    /* domain over domain over numeric */
	{16410, CDC_T_STRING, 0, 0, 0},        /* citext */
	{16411, CDC_T_ARRAY, 0, 16410, 0},     /* citext[] */
	{16412, CDC_T_STRING, 0, 0, 0},        /* composite */
	{16413, CDC_T_STRING, 0, 0, 0},        /* range */
	{16414, CDC_T_STRING, 0, 0, 0},        /* typelem without '_' name */
	{16415, CDC_T_ARRAY, 0, 16389, 0},     /* unnamed, typelem set */
	{16420, CDC_T_STRING, 16420, 0, 0},    /* domain loop: ends as text */
	{16421, CDC_T_STRING, 16421, 0, 0},
	{16422, CDC_T_STRING, 16422, 0, 0},    /* domain over itself */
	{16423, CDC_T_STRING, 99999, 0, 0},    /* domain over unknown */
	{50000, CDC_T_STRING, 0, 0, 0},        /* unknown user OID */
	{4294967295u, CDC_T_STRING, 0, 0, 0},  /* largest OID */
};

static void
test_user_types(void **state)
{
	struct cdc_types *t = user_registry();
	size_t i;

	(void) state;
	/* loops end wherever the depth guard stops them: only the kind is fixed */
	for (i = 0; i < NELEM(user_cases); i++) {
		const struct resolve_case *c = &user_cases[i];
		struct cdc_typedesc d;

		if (c->oid < 16420 || c->oid > 16422)
			continue;
		types_resolve(t, c->oid, &d);
		assert_int_equal(d.kind, CDC_T_STRING);
		assert_int_equal(d.elem_oid, 0);
		assert_int_equal(d.delim, ',');
	}
	for (i = 0; i < NELEM(user_cases); i++) {
		if (user_cases[i].oid >= 16420 && user_cases[i].oid <= 16422)
			continue;
		check_cases(t, &user_cases[i], 1);
	}
	types_free(t);
}

/* types_add replaces a registration; the name is copied. */
static void
test_replace_and_copy(void **state)
{
	struct cdc_types *t = types_new();
	struct cdc_typedesc d;
	char name[16];

	(void) state;
	assert_non_null(t);
	strcpy(name, "mood");
	assert_int_equal(types_add(t, 20000, 'e', 0, 0, ',', name), 0);
	memset(name, 'x', sizeof(name) - 1);    /* the registry must not keep the pointer */
	types_resolve(t, 20000, &d);
	assert_int_equal(d.kind, CDC_T_STRING);
	/* ALTER DOMAIN can't change the base, but a dropped and recreated OID can */
	assert_int_equal(types_add(t, 20000, 'd', 20, 0, ',', "dom"), 0);
	types_resolve(t, 20000, &d);
	assert_int_equal(d.kind, CDC_T_INT);
	assert_int_equal(d.base_oid, 20);
	strcpy(name, "_x");
	assert_int_equal(types_add(t, 20001, 'b', 0, 20000, 0, name), 0);
	types_resolve(t, 20001, &d);
	assert_int_equal(d.kind, CDC_T_ARRAY);
	assert_int_equal(d.elem_oid, 20000);
	assert_int_equal(d.delim, ',');          /* typdelim 0 defaults to ',' */
	types_free(t);
}

/* Many registrations: the table grows and keeps every entry. */
static void
test_many(void **state)
{
	struct cdc_types *t = types_new();
	uint32_t oid;

	(void) state;
	assert_non_null(t);
	for (oid = 16384; oid < 16384 + 5000; oid++) {
		if (oid % 2)
			assert_int_equal(types_add(t, oid, 'd', oid % 3 ? 23 : 1700, 0, ',', "d"), 0);
		else
			assert_int_equal(types_add(t, oid, 'b', 0, oid + 1, ',', "_a"), 0);
	}
	for (oid = 16384; oid < 16384 + 5000; oid++) {
		struct cdc_typedesc d;

		assert_true(types_known(t, oid));
		types_resolve(t, oid, &d);
		if (oid % 2)
			assert_int_equal(d.kind, oid % 3 ? CDC_T_INT : CDC_T_NUMERIC);
		else {
			assert_int_equal(d.kind, CDC_T_ARRAY);
			assert_int_equal(d.elem_oid, oid + 1);
		}
	}
	assert_false(types_known(t, 16384 + 5000));
	types_free(t);
}

static void
test_known(void **state)
{
	struct cdc_types *t = user_registry();
	size_t i;

	(void) state;
	for (i = 0; i < NELEM(builtin_array_cases); i++)
		assert_true(types_known(NULL, builtin_array_cases[i].oid));
	assert_true(types_known(NULL, 23));
	assert_true(types_known(NULL, 25));
	assert_true(types_known(NULL, 603));
	assert_true(types_known(NULL, 6101));
	assert_false(types_known(NULL, 9999));     /* unassigned */
	assert_false(types_known(NULL, 0));
	assert_false(types_known(NULL, 16385));
	assert_true(types_known(t, 16385));
	assert_true(types_known(t, 16423));
	assert_false(types_known(t, 50000));
	assert_int_equal(types_add(t, 9999, 'b', 0, 0, ',', "late_builtin"), 0);
	assert_true(types_known(t, 9999));
	types_free(t);
}

/* An unlisted built-in registered by the agent (e.g. from a newer server)
 * resolves through the registry. */
static void
test_unlisted_builtin_via_registry(void **state)
{
	struct cdc_types *t = types_new();
	struct cdc_typedesc d;

	(void) state;
	assert_non_null(t);
	types_resolve(t, 9998, &d);
	assert_int_equal(d.kind, CDC_T_STRING);
	assert_int_equal(types_add(t, 9998, 'b', 0, 23, ',', "_newint"), 0);
	types_resolve(t, 9998, &d);
	assert_int_equal(d.kind, CDC_T_ARRAY);
	assert_int_equal(d.elem_oid, 23);
	types_free(t);
}

static void
test_free_null_and_add_null(void **state)
{
	(void) state;
	types_free(NULL);
	assert_int_equal(types_add(NULL, 16384, 'e', 0, 0, ',', "x"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_scalars),
		cmocka_unit_test(test_builtin_arrays),
		cmocka_unit_test(test_builtins_not_overridden),
		cmocka_unit_test(test_user_types),
		cmocka_unit_test(test_replace_and_copy),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_unlisted_builtin_via_registry),
		cmocka_unit_test(test_free_null_and_add_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
