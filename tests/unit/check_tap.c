/* check_tap.c: the TAP 13 report: plan, test points, escaping, YAML diagnostics with output tails. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static char *
report(const struct qq_test_case *c, const struct qq_result *r, const char *resdir)
{
	struct qq_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(qq_tap_result(fp, 7, c, r, resdir, &e), 0);
	fclose(fp);
	return buf;
}

START_TEST(test_plan)
{
	struct qq_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_int_eq(qq_tap_plan(fp, 3, &e), 0);
	ck_assert_int_eq(qq_tap_plan(fp, 0, &e), 0);
	fclose(fp);
	ck_assert_str_eq(buf, "TAP version 13\n1..3\nTAP version 13\n1..0 # SKIP no test in this shard\n");
	free(buf);
}
END_TEST

START_TEST(test_passed)
{
	struct qq_test_case c = { .name = "test_sum", .stem = "test_sum" };
	struct qq_result r = { .us = 12345 };
	char *out;

	qq_result_set(&r, 0, 0, NULL);
	out = report(&c, &r, "/nonexistent");
	ck_assert_str_eq(out, "ok 7 - test_sum # time=12.345ms\n");
	free(out);
	/* A '#' in a name would start a directive: escaped, as is '\'. */
	c.name = "a#b\\c";
	out = report(&c, &r, "/nonexistent");
	ck_assert_str_eq(out, "ok 7 - a\\#b\\\\c # time=12.345ms\n");
	free(out);
}
END_TEST

START_TEST(test_failed)
{
	char *dir = test_tmpdir(), big[4096], *out;
	struct qq_test_case c = { .name = "test_fail", .stem = "test_fail" };
	struct qq_result r = { .us = 2000 };
	size_t i, len = 0;

	for (i = 1; i <= 25; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len, "%s%zu\n", i == 25 ? "  " : "", i);
	test_put(dir, "test_fail.out", big, len, 0644);
	test_puts(dir, "test_fail.err", "bad \"value\"\n", 0644);
	qq_result_set(&r, 3, 0, NULL);
	out = report(&c, &r, dir);
	ck_assert_msg(strncmp(out, "not ok 7 - test_fail # time=2.000ms\n  ---\n"
	    "  message: \"failed: exit code 3\"\n  outcome: \"failed\"\n  exit_code: 3\n"
	    "  duration_ms: 2.000\n", strlen("not ok 7 - test_fail # time=2.000ms\n  ---\n"
	    "  message: \"failed: exit code 3\"\n  outcome: \"failed\"\n  exit_code: 3\n"
	    "  duration_ms: 2.000\n")) == 0, "got %s", out);
	/* The last 20 lines of stdout, the first 5 omitted; a line starting with blanks kept. */
	ck_assert_ptr_nonnull(strstr(out, "  stdout_omitted_bytes: 10\n  stdout: |2\n    6\n"));
	ck_assert_ptr_nonnull(strstr(out, "    24\n      25\n"));
	ck_assert_ptr_null(strstr(out, "    5\n"));
	ck_assert_ptr_nonnull(strstr(out, "  stderr: |2\n    bad \"value\"\n  ...\n"));
	free(out);

	/* A crash names its signal; a test that never ran has no output and no time. */
	qq_result_set(&r, 139, 0, "SEGV");
	out = report(&c, &r, dir);
	ck_assert_ptr_nonnull(strstr(out, "  signal: \"SIGSEGV\"\n"));
	ck_assert_ptr_null(strstr(out, "exit_code"));
	free(out);
	qq_result_notrun(&r, "lost \"guest\"");
	out = report(&c, &r, dir);
	ck_assert_str_eq(out, "not ok 7 - test_fail\n  ---\n  message: \"not run: lost \\\"guest\\\"\"\n"
	    "  outcome: \"not run\"\n  ...\n");
	free(out);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_tap(void)
{
	Suite *s = suite_create("tap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_passed);
	tcase_add_test(tc, test_failed);
	suite_add_tcase(s, tc);
	return s;
}
