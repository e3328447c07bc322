/*
 * test_history.c — learned types and keys as of LSN (agent/history.c): positions,
 * persistence across a reopen, and a damaged file as an error naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/history.h"

static char path[64];

static int
setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/pgcdc-hist.XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	close(fd);
	unlink(path);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

static const char *
key_at(struct hist *h, uint32_t rel, cdc_lsn lsn, char *buf, size_t cap)
{
	char *const *names;
	int n = hist_key_at(h, rel, lsn, &names);

	if (n < 0)
		return "unknown";
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		strncat(buf, i ? "," : "", cap - strlen(buf) - 1);
		strncat(buf, names[i], cap - strlen(buf) - 1);
	}
	return buf;
}

static void
test_keys_as_of(void **state)
{
	struct cdc_err err = { 0 };
	struct hist *h = hist_open(path, &err);
	char *id[] = { "id" }, *v[] = { "v" }, *ab[] = { "a", "b" }, buf[64];

	assert_non_null(h);
	assert_string_equal(key_at(h, 10, 0x100, buf, sizeof(buf)), "unknown");
	assert_int_equal(hist_add_key(h, 10, 0x100, id, 1), 0);
	assert_int_equal(hist_add_key(h, 10, 0x200, id, 1), 0);      /* same: no new entry */
	assert_int_equal(hist_add_key(h, 10, 0x300, v, 1), 0);
	assert_int_equal(hist_add_key(h, 11, 0x150, ab, 2), 0);
	assert_int_equal(hist_add_key(h, 12, 0x150, NULL, 0), 0);     /* no primary key */
	assert_string_equal(key_at(h, 10, 0x0ff, buf, sizeof(buf)), "unknown");
	assert_string_equal(key_at(h, 10, 0x100, buf, sizeof(buf)), "id");
	assert_string_equal(key_at(h, 10, 0x2ff, buf, sizeof(buf)), "id");
	assert_string_equal(key_at(h, 10, 0x300, buf, sizeof(buf)), "v");
	assert_string_equal(key_at(h, 11, 0x900, buf, sizeof(buf)), "a,b");
	assert_string_equal(key_at(h, 12, 0x900, buf, sizeof(buf)), "");
	/* an entry learned later for an earlier position (decoding caught up) */
	assert_int_equal(hist_add_key(h, 10, 0x180, v, 1), 0);
	assert_string_equal(key_at(h, 10, 0x1ff, buf, sizeof(buf)), "v");
	assert_string_equal(key_at(h, 10, 0x17f, buf, sizeof(buf)), "id");
	assert_int_equal(hist_add_type(h, 16418, 'd', 23, 0, ',', "posint"), 0);
	assert_int_equal(hist_save(h, &err), 0);
	hist_free(h);

	/* reopened: the same answers, and the types fill a registry */
	h = hist_open(path, &err);
	assert_non_null(h);
	assert_string_equal(key_at(h, 10, 0x2ff, buf, sizeof(buf)), "v");
	assert_string_equal(key_at(h, 10, 0x17f, buf, sizeof(buf)), "id");
	assert_string_equal(key_at(h, 11, 0x900, buf, sizeof(buf)), "a,b");
	{
		struct cdc_types *t = types_new();
		struct cdc_typedesc td;

		assert_false(types_known(t, 16418));
		assert_int_equal(hist_fill_types(h, t, &err), 0);
		types_resolve(t, 16418, &td);
		assert_int_equal(td.kind, CDC_T_INT);
		types_free(t);
	}
	hist_free(h);
}

static void
test_damaged_file(void **state)
{
	struct cdc_err err = { 0 };
	FILE *f = fopen(path, "w");

	fputs("{\"types\": [[1, \"dd\"]], \"keys\": []}", f);
	fclose(f);
	assert_null(hist_open(path, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "cannot be read"));
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	cdc_err_clear(&err);
	assert_null(hist_open(path, &err));
	assert_non_null(strstr(err.msg, path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_as_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
