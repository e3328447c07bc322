/*
 * test_durable.c — replacing small state files (common/durable.c): the first write
 * creates the file, later ones swap it with its spare (path.tmp) so that the file
 * keeps one of two inodes and the spare holds the previous content; a torn spare is
 * overwritten, never read; an unwritable directory is an error naming the file; after a
 * swap whose directory fsync failed, no spare is touched until that directory is synced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/durable.h"

static char dir[256];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/test_durable.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
slurp(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static ino_t
inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void
test_swaps_with_spare(void **state)
{
	char path[300], tmp[310], buf[64], why[512];
	ino_t a, b;

	(void) state;
	snprintf(path, sizeof(path), "%s/s.lsn", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(cdc_write_durably(dir, path, "0/1\n", 4, why, sizeof(why)), 0);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/1\n");
	assert_int_equal(cdc_write_durably(dir, path, "0/2\n", 4, why, sizeof(why)), 0);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/2\n");
	slurp(tmp, buf, sizeof(buf));
	assert_string_equal(buf, "0/1\n");        /* the spare: the previous content */
	a = inode(path);
	b = inode(tmp);
	for (int i = 3; i < 9; i++) {
		char line[16];
		int n = snprintf(line, sizeof(line), "0/%d\n", i);

		assert_int_equal(cdc_write_durably(dir, path, line, (size_t) n, why, sizeof(why)), 0);
		slurp(path, buf, sizeof(buf));
		assert_string_equal(buf, line);
		/* two inodes, taking turns */
		assert_true(inode(path) == (i % 2 ? b : a));
		assert_true(inode(tmp) == (i % 2 ? a : b));
	}
	/* a torn spare (a crash mid-write) is rewritten whole */
	{
		FILE *f = fopen(tmp, "w");

		assert_non_null(f);
		fputs("0/DEAD-torn-and-longer-than-the-next-content", f);
		fclose(f);
	}
	assert_int_equal(cdc_write_durably(dir, path, "0/A\n", 4, why, sizeof(why)), 0);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/A\n");
}

static void
test_error_names_file(void **state)
{
	char path[300], why[512];

	(void) state;
	snprintf(path, sizeof(path), "%s/missing/s.lsn", dir);
	assert_int_equal(cdc_write_durably(dir, path, "0/1\n", 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "missing/s.lsn.tmp"));
}

static void
test_unsynced_swap_blocks_spares(void **state)
{
	char path[300], tmp[310], later[300], buf[64], why[512];

	(void) state;
	snprintf(path, sizeof(path), "%s/u.lsn", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(later, sizeof(later), "%s/later", dir);   /* a directory that cannot be synced yet */
	assert_int_equal(cdc_write_durably(dir, path, "0/1\n", 4, why, sizeof(why)), 0);
	assert_int_equal(cdc_write_durably(dir, path, "0/2\n", 4, why, sizeof(why)), 0);
	/* swapped, then the directory fsync fails */
	assert_int_equal(cdc_write_durably(later, path, "0/3\n", 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot fsync"));
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/3\n");
	slurp(tmp, buf, sizeof(buf));
	assert_string_equal(buf, "0/2\n");
	/* the next write syncs that directory first, and fails without touching the spare */
	assert_int_equal(cdc_write_durably(dir, path, "0/4\n", 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, later));
	slurp(tmp, buf, sizeof(buf));
	assert_string_equal(buf, "0/2\n");
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/3\n");
	/* once it can be synced, writes go on */
	assert_int_equal(mkdir(later, 0700), 0);
	assert_int_equal(cdc_write_durably(dir, path, "0/5\n", 4, why, sizeof(why)), 0);
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "0/5\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_swaps_with_spare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_names_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsynced_swap_blocks_spares, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
