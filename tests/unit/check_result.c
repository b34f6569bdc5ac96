/* check_result.c: the outcome of a remote status, its words, cleaning, and the tail of kept output. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static const struct {
	int		 status;
	int		 timed_out;
	const char	*signame;
	enum qq_outcome	 outcome;
	const char	*words;
} cases[] = {
	{ 0, 0, NULL, QQ_OUTCOME_PASSED, "passed" },
	{ 3, 0, NULL, QQ_OUTCOME_FAILED, "failed: exit code 3" },
	{ 1, 0, NULL, QQ_OUTCOME_FAILED, "failed: exit code 1" },
	{ 255, 0, NULL, QQ_OUTCOME_FAILED, "failed: exit code 255" },
	{ 128, 0, NULL, QQ_OUTCOME_FAILED, "failed: exit code 128" },
	{ 124, 0, NULL, QQ_OUTCOME_FAILED, "failed: exit code 124" },	/* by itself: a failure */
	{ 139, 0, "SEGV", QQ_OUTCOME_CRASHED, "crashed: SIGSEGV" },
	{ 134, 0, "SIGABRT", QQ_OUTCOME_CRASHED, "crashed: SIGABRT" },
	{ 138, 0, NULL, QQ_OUTCOME_CRASHED, "crashed: signal 10" },	/* SIGBUS on QNX, SIGUSR1 on Linux */
	{ 137, 1, "KILL", QQ_OUTCOME_TIMEDOUT, "timed out after 2.5 s: its process group was killed" },
	{ 126, 0, NULL, QQ_OUTCOME_NOSTART, "could not start: not executable or wrong format (exit 126)" },
	{ 127, 0, NULL, QQ_OUTCOME_NOSTART, "could not start: not found (exit 127)" },
};

START_TEST(test_outcomes)
{
	struct qq_result r = { .us = 2500000 };
	char buf[QQ_ERR_MAX];

	qq_result_set(&r, cases[_i].status, cases[_i].timed_out, cases[_i].signame);
	ck_assert_int_eq(r.outcome, cases[_i].outcome);
	qq_result_describe(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, cases[_i].words);
	if (cases[_i].timed_out)
		ck_assert_int_eq(r.status, QQ_RESULT_TIMEOUT);
}
END_TEST

START_TEST(test_notrun)
{
	struct qq_result r;
	char buf[QQ_ERR_MAX];

	qq_result_notrun(&r, "the connection to the guest was lost");
	ck_assert_int_eq(r.outcome, QQ_OUTCOME_NOTRUN);
	ck_assert_str_eq(qq_result_name(r.outcome), "not run");
	qq_result_describe(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "not run: the connection to the guest was lost");
	ck_assert_str_eq(qq_result_name(QQ_OUTCOME_NOSTART), "could not start");
	ck_assert_str_eq(qq_result_name((enum qq_outcome)99), "unknown");
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} cleans[] = {
	{ "plain\ttext\n", 11, "plain\ttext\n" },
	{ "nul\0x", 5, "nul?x" },
	{ "esc\033[0m", 7, "esc?[0m" },
	{ "cr\r\n", 4, "cr?\n" },
	{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },		/* valid UTF-8 kept */
	{ "\xe2\x82\xac!", 4, "\xe2\x82\xac!" },
	{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
	{ "bad\xff", 4, "bad?" },
	{ "cut\xe2\x82", 5, "cut??" },			/* truncated sequence */
	{ "\xc0\xaf", 2, "??" },			/* overlong */
	{ "\xed\xa0\x80", 3, "???" },			/* surrogate */
	{ "\xc2\x85", 2, "??" },			/* C1 control */
	{ "\xef\xbf\xbe", 3, "???" },			/* U+FFFE */
};

START_TEST(test_clean)
{
	char out[64];
	size_t n;

	n = qq_result_clean(out, cleans[_i].in, cleans[_i].len);
	ck_assert_str_eq(out, cleans[_i].out);
	ck_assert_uint_eq(n, strlen(cleans[_i].out));
}
END_TEST

START_TEST(test_tail)
{
	char *dir = test_tmpdir(), path[PATH_MAX], *big;
	struct qq_tail t;
	struct qq_err e;
	size_t i, len = 0;

	/* 30 lines: the last 20 come back, the first 10 counted as omitted. */
	big = malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	for (i = 1; i <= 30; i++)
		len += (size_t)sprintf(big + len, "line %zu\n", i);
	test_put(dir, "thirty", big, len, 0644);
	snprintf(path, sizeof(path), "%s/thirty", dir);
	ck_assert_int_eq(qq_result_tail(path, 20, 8192, &t, &e), 0);
	ck_assert_ptr_nonnull(strstr(t.text, "line 11\nline 12\n"));
	ck_assert_ptr_null(strstr(t.text, "line 10\n"));
	ck_assert(strncmp(t.text, "line 11\n", 8) == 0);
	ck_assert(t.len > 7 && strcmp(t.text + t.len - 7, "line 30") == 0);
	ck_assert_uint_eq(t.omitted, strlen("line 1\n") * 9 + strlen("line 10\n"));
	ck_assert_uint_eq(t.size, len);
	ck_assert_int_eq(t.cut, 0);
	qq_result_tail_free(&t);

	/* One huge line: only the last maxbytes are read, and the cut is said. */
	memset(big, 'x', 1 << 20);
	big[(1 << 20) - 1] = '\n';
	test_put(dir, "huge", big, 1 << 20, 0644);
	snprintf(path, sizeof(path), "%s/huge", dir);
	ck_assert_int_eq(qq_result_tail(path, 20, 100, &t, &e), 0);
	ck_assert_uint_eq(t.len, 99);
	ck_assert_int_eq(t.cut, 1);
	ck_assert_uint_eq(t.omitted, (1 << 20) - 100);
	qq_result_tail_free(&t);

	/* Fewer lines than asked, no final newline, binary bytes cleaned. */
	test_puts(dir, "short", "a\x01\nb", 0644);
	snprintf(path, sizeof(path), "%s/short", dir);
	ck_assert_int_eq(qq_result_tail(path, 20, 8192, &t, &e), 0);
	ck_assert_str_eq(t.text, "a?\nb");
	ck_assert_uint_eq(t.omitted, 0);
	qq_result_tail_free(&t);

	/* Empty and missing files: an empty tail. */
	test_puts(dir, "empty", "", 0644);
	snprintf(path, sizeof(path), "%s/empty", dir);
	ck_assert_int_eq(qq_result_tail(path, 20, 8192, &t, &e), 0);
	ck_assert_uint_eq(t.len, 0);
	qq_result_tail_free(&t);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(qq_result_tail(path, 20, 8192, &t, &e), 0);
	ck_assert_ptr_null(t.text);

	/* A directory cannot be read: a runtime error naming it. */
	ck_assert_int_eq(qq_result_tail(dir, 20, 8192, &t, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, dir));
	free(big);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_result(void)
{
	Suite *s = suite_create("result");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_outcomes, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_notrun);
	tcase_add_loop_test(tc, test_clean, 0, sizeof(cleans) / sizeof(cleans[0]));
	tcase_add_test(tc, test_tail);
	suite_add_tcase(s, tc);
	return s;
}
