/* check_cli.c: setting options get their names from the table and land in the settings. */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_options)
{
	struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		QQ_OPT(QQ_SET_ARCH),
		QQ_OPT(QQ_SET_SSH_PORT),
		{ NULL, 0, NULL, 0 }
	};
	struct qq_settings s;

	qq_cli_options(opts);
	ck_assert_str_eq(opts[0].name, "help");
	ck_assert_str_eq(opts[1].name, "arch");
	ck_assert_str_eq(opts[2].name, "ssh-port");
	ck_assert_int_eq(opts[2].has_arg, required_argument);
	qq_settings_init(&s);
	ck_assert_int_eq(qq_cli_setting(&s, opts[2].val, "0"), 1);
	ck_assert_str_eq(s.opt[QQ_SET_SSH_PORT], "0");
	ck_assert_int_eq(qq_cli_setting(&s, 'h', NULL), 0);
	ck_assert_int_eq(qq_cli_setting(&s, QQ_OPT_BASE + QQ_SET__COUNT, "x"), 0);
}
END_TEST

static const struct {
	const char	*arg;
	int		 ok;
	int		 v;
} numbers[] = {
	{ "0", 1, 0 },
	{ "3600", 1, 3600 },
	{ "3601", 0, 0 },
	{ "-1", 0, 0 },
	{ "1s", 0, 0 },
	{ "", 0, 0 },
};

START_TEST(test_number)
{
	struct qq_err e;
	int v = -7;

	if (numbers[_i].ok) {
		ck_assert_int_eq(qq_cli_number("t", numbers[_i].arg, 0, 3600, "seconds", &v, &e), 0);
		ck_assert_int_eq(v, numbers[_i].v);
	} else {
		ck_assert_int_eq(qq_cli_number("t", numbers[_i].arg, 0, 3600, "seconds", &v, &e),
		    QQ_EXIT_INPUT);
		ck_assert_ptr_nonnull(strstr(e.msg, "expected seconds from 0 to 3600"));
		ck_assert_int_eq(v, -7);
	}
}
END_TEST

Suite *
suite_cli(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_options);
	tcase_add_loop_test(tc, test_number, 0, sizeof(numbers) / sizeof(numbers[0]));
	suite_add_tcase(s, tc);
	return s;
}
