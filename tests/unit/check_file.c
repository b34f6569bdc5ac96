/* check_file.c: atomic writes, bounded reads, mkdir -p and absolute paths. */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_write_read)
{
	char *dir = test_tmpdir(), path[PATH_MAX], *buf;
	struct qq_err e;
	struct stat st;
	size_t len;

	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(qq_file_write_atomic(path, "one", 3, 0600, &e), 0);
	ck_assert_int_eq(qq_file_write_atomic(path, "two!", 4, 0640, &e), 0);
	ck_assert_int_eq(qq_file_read(path, 100, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_str_eq(buf, "two!");
	free(buf);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(qq_file_read(path, 3, &buf, &len, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than 3 bytes"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(qq_file_read(path, 3, &buf, &len, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "No such file"));
	snprintf(path, sizeof(path), "%s/nodir/f", dir);
	ck_assert_int_eq(qq_file_write_atomic(path, "x", 1, 0600, &e), QQ_EXIT_RUNTIME);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_mkdirs)
{
	char *dir = test_tmpdir(), path[PATH_MAX];
	struct qq_err e;
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(qq_file_mkdirs(path, 0700, &e), 0);
	ck_assert_int_eq(qq_file_mkdirs(path, 0700, &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/a/b/c/file", dir);
	ck_assert_int_eq(qq_file_write_atomic(path, "", 0, 0600, &e), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/file/sub", dir);
	ck_assert_int_eq(qq_file_mkdirs(path, 0700, &e), QQ_EXIT_RUNTIME);
	test_rmtree(dir);
	free(dir);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
} abspaths[] = {
	{ "/", "/" },
	{ "/a//b/", "/a/b" },
	{ "/a/./b/../c", "/a/c" },
	{ "/..", "/" },
	{ "/a/b/../../..", "/" },
	{ "x", "/tmp/x" },
	{ "./x/../y", "/tmp/y" },
	{ "..", "/" },
};

START_TEST(test_abspath)
{
	char out[PATH_MAX];
	struct qq_err e;

	ck_assert_int_eq(chdir("/tmp"), 0);
	ck_assert_int_eq(qq_file_abspath(abspaths[_i].in, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, abspaths[_i].out);
}
END_TEST

START_TEST(test_abspath_refuses)
{
	char out[8];
	struct qq_err e;

	ck_assert_int_eq(qq_file_abspath("", out, sizeof(out), &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_file_abspath("/long/path/here", out, sizeof(out), &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_file_join(out, sizeof(out), "/abc", "defgh", &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_file_join(out, sizeof(out), "/a", "b", &e), 0);
	ck_assert_str_eq(out, "/a/b");
}
END_TEST

Suite *
suite_file(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_mkdirs);
	tcase_add_loop_test(tc, test_abspath, 0, sizeof(abspaths) / sizeof(abspaths[0]));
	tcase_add_test(tc, test_abspath_refuses);
	suite_add_tcase(s, tc);
	return s;
}
