/* check_proc.c: spawning without a shell, capturing output, and each failure class. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_capture)
{
	char *const argv[] = { "sh", "-c", "printf 'out;%s' \"$1\"; printf err >&2; exit 3",
	    "sh", "a b'c", NULL };
	struct qq_proc_out r;
	struct qq_err e;

	ck_assert_int_eq(qq_proc_run(argv, NULL, &r, &e), 0);
	ck_assert_str_eq(r.out, "out;a b'c");
	ck_assert_str_eq(r.errout, "err");
	ck_assert_int_eq(r.status, 3);
	qq_proc_out_free(&r);
}
END_TEST

START_TEST(test_big_output)
{
	char *const argv[] = { "head", "-c", "300000", "/dev/zero", NULL };
	struct qq_proc_out r;
	struct qq_err e;

	ck_assert_int_eq(qq_proc_run(argv, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.outlen, 300000);
	ck_assert_int_eq(r.status, 0);
	qq_proc_out_free(&r);
}
END_TEST

START_TEST(test_signal_and_stdin)
{
	char *const argv[] = { "sh", "-c", "cat; kill -9 $$", NULL };
	struct qq_proc_out r;
	struct qq_err e;

	ck_assert_int_eq(qq_proc_run(argv, NULL, &r, &e), 0);
	ck_assert_str_eq(r.out, "");	/* stdin is /dev/null */
	ck_assert_int_eq(r.status, 137);
	qq_proc_out_free(&r);
}
END_TEST

START_TEST(test_not_found)
{
	char *const argv[] = { "qq-no-such-program", NULL };
	char *const argv2[] = { "/etc/passwd", NULL };
	struct qq_proc_out r;
	struct qq_err e;

	ck_assert_int_eq(qq_proc_run(argv, NULL, &r, &e), QQ_EXIT_NOTFOUND);
	ck_assert_str_eq(e.msg, "unable to find qq-no-such-program: No such file or directory");
	ck_assert_int_eq(qq_proc_run(argv2, NULL, &r, &e), QQ_EXIT_NOEXEC);
}
END_TEST

START_TEST(test_which)
{
	char out[PATH_MAX];

	ck_assert_int_eq(qq_proc_which("sh", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "/sh"));
	ck_assert_int_eq(qq_proc_which("/nonexistent/x", out, sizeof(out)), -1);
}
END_TEST

Suite *
suite_proc(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_big_output);
	tcase_add_test(tc, test_signal_and_stdin);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_which);
	suite_add_tcase(s, tc);
	return s;
}
