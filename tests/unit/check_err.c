/* check_err.c: errors keep their class and one message. */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_set)
{
	struct qq_err e;

	ck_assert_int_eq(qq_err_set(&e, QQ_EXIT_INPUT, "bad %s", "x"), QQ_EXIT_INPUT);
	ck_assert_int_eq(e.status, QQ_EXIT_INPUT);
	ck_assert_str_eq(e.msg, "bad x");
}
END_TEST

START_TEST(test_sys)
{
	struct qq_err e;

	errno = ENOENT;
	ck_assert_int_eq(qq_err_sys(&e, QQ_EXIT_RUNTIME, "unable to read %s", "f"), 4);
	ck_assert_str_eq(e.msg, "unable to read f: No such file or directory");
}
END_TEST

START_TEST(test_truncates)
{
	struct qq_err e;
	char big[3000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	qq_err_set(&e, 3, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), QQ_ERR_MAX - 1);
}
END_TEST

START_TEST(test_wstatus)
{
	ck_assert_int_eq(qq_err_wstatus(3 << 8), 3);
	ck_assert_int_eq(qq_err_wstatus(9), 137);
	ck_assert_int_eq(qq_err_wstatus(0), 0);
}
END_TEST

Suite *
suite_err(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_sys);
	tcase_add_test(tc, test_truncates);
	tcase_add_test(tc, test_wstatus);
	suite_add_tcase(s, tc);
	return s;
}
