/* check_exec.c: qq-exec's options and refusals: bad values, a missing binary, no VM (99). */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static const struct {
	int		 ch;
	const char	*arg;
	int		 rc;		/* of qq_exec_option, then qq_exec_check */
	const char	*msg;		/* in the message when rc != 0 */
} cases[] = {
	{ QQ_EXEC_OPT_ENV, "NAME", 0, NULL },
	{ QQ_EXEC_OPT_ENV, "NAME=a b=c", 0, NULL },
	{ QQ_EXEC_OPT_ENV, "_X1=", 0, NULL },
	{ QQ_EXEC_OPT_ENV, "1X=y", QQ_EXEC_FAILED, "bad --env \"1X=y\"" },
	{ QQ_EXEC_OPT_ENV, "=y", QQ_EXEC_FAILED, "bad --env" },
	{ QQ_EXEC_OPT_ENV, "A-B", QQ_EXEC_FAILED, "bad --env \"A-B\"" },
	{ QQ_EXEC_OPT_FILE, "data.txt", 0, NULL },
	{ QQ_EXEC_OPT_FILE, "data.txt:sub/in.txt", 0, NULL },
	/* An empty GUEST is the default name: the way to name a HOST with a colon. */
	{ QQ_EXEC_OPT_FILE, "data.txt:", 0, NULL },
	{ QQ_EXEC_OPT_FILE, "a:b:", 0, NULL },
	{ QQ_EXEC_OPT_FILE, "a:b:c.txt", 0, NULL },
	{ QQ_EXEC_OPT_FILE, ":x", QQ_EXEC_FAILED, "bad --file \":x\"" },
	{ QQ_EXEC_OPT_FILE, ":", QQ_EXEC_FAILED, "bad --file \":\"" },
	{ QQ_EXEC_OPT_FILE, "d:/data/lib/libx.so", 0, NULL },
	{ QQ_EXEC_OPT_FILE, "", QQ_EXEC_FAILED, "bad --file" },
	{ QQ_EXEC_OPT_CWD, "/tmp", 0, NULL },
	{ QQ_EXEC_OPT_CWD, "tmp", QQ_EXEC_FAILED, "bad --cwd \"tmp\"" },
	{ QQ_EXEC_OPT_TIMEOUT, "5", 0, NULL },
	{ QQ_EXEC_OPT_TIMEOUT, "0", QQ_EXEC_FAILED, "timeout" },
	{ QQ_EXEC_OPT_TIMEOUT, "5s", QQ_EXEC_FAILED, "timeout" },
	{ 'x', "", QQ_EXIT_USAGE, "unknown option" },
};

START_TEST(test_option)
{
	struct qq_exec_opts o = { 0 };
	struct qq_err e;
	int rc;

	rc = qq_exec_option(&o, cases[_i].ch, cases[_i].arg, &e);
	if (rc == 0)
		rc = qq_exec_check(&o, &e);
	ck_assert_msg(rc == cases[_i].rc, "%s: got %d, want %d (%s)", cases[_i].arg, rc,
	    cases[_i].rc, rc ? e.msg : "");
	if (rc != 0)
		ck_assert_msg(strstr(e.msg, cases[_i].msg) != NULL, "%s: message %s",
		    cases[_i].arg, e.msg);
	qq_exec_free(&o);
}
END_TEST

/* Without a VM, before any ssh: the binary's own 127/126, else qq's 99 naming the cause. */
START_TEST(test_refusals)
{
	struct qq_exec_opts o = { 0 };
	struct qq_exec_result r;
	struct qq_settings s;
	struct qq_err e;
	char *dir = test_tmpdir(), ws[4096], bin[4096];
	char *argv[] = { bin, "arg", NULL };

	snprintf(ws, sizeof(ws), "%s/ws", dir);
	qq_settings_init(&s);
	s.opt[QQ_SET_WORKSPACE] = ws;
	snprintf(bin, sizeof(bin), "%s/missing", dir);
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXIT_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
	test_puts(dir, "plain", "not a program\n", 0644);
	snprintf(bin, sizeof(bin), "%s/plain", dir);
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXIT_NOEXEC);
	ck_assert_ptr_nonnull(strstr(e.msg, "not executable"));
	test_puts(dir, "prog", "#!/bin/sh\n", 0755);
	snprintf(bin, sizeof(bin), "%s/prog", dir);
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "no VM is running in"));
	ck_assert_int_eq(r.status, QQ_EXEC_FAILED);
	/* A --file that is not there: named, before any VM is looked for. */
	ck_assert_int_eq(qq_exec_option(&o, QQ_EXEC_OPT_FILE, "nothere.txt:x", &e), 0);
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "nothere.txt"));
	qq_exec_free(&o);
	test_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * --file HOST[:GUEST] splits at the last colon, and an empty GUEST is the
 * default name (scp's and docker cp's rule): a host file whose name has colons
 * is named with a trailing colon. Which host file was opened shows in the
 * message of a missing one, and an existing one gets past to the VM lookup.
 */
START_TEST(test_file_colon)
{
	static const struct {
		const char	*arg;	/* after DIR/ */
		const char	*want;	/* the host file read, after DIR/ */
	} split[] = {
		{ "gone:", "gone" },
		{ "a:b:", "a:b" },
		{ "a:b:c.txt", "a:b" },
		{ "a:b::", "a:b:" },
		{ "plain:sub/x.txt", "plain" },
	};
	struct qq_exec_opts o = { 0 };
	struct qq_exec_result r;
	struct qq_settings s;
	struct qq_err e;
	char *dir = test_tmpdir(), ws[4096], bin[4096], arg[4096], want[4096 + 32];
	char *argv[] = { bin, NULL };
	size_t i;

	snprintf(ws, sizeof(ws), "%s/ws", dir);
	qq_settings_init(&s);
	s.opt[QQ_SET_WORKSPACE] = ws;
	test_puts(dir, "prog", "#!/bin/sh\n", 0755);
	snprintf(bin, sizeof(bin), "%s/prog", dir);
	for (i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
		snprintf(arg, sizeof(arg), "%s/%s", dir, split[i].arg);
		ck_assert_int_eq(qq_exec_option(&o, QQ_EXEC_OPT_FILE, arg, &e), 0);
		ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
		snprintf(want, sizeof(want), "unable to read %s/%s: ", dir, split[i].want);
		ck_assert_msg(strstr(e.msg, want) != NULL, "%s: %s", split[i].arg, e.msg);
		qq_exec_free(&o);
	}
	/* Present: opened, then no VM (nothing created: no --boot). */
	test_puts(dir, "a:b", "1\n", 0644);
	snprintf(arg, sizeof(arg), "%s/a:b:", dir);
	ck_assert_int_eq(qq_exec_option(&o, QQ_EXEC_OPT_FILE, arg, &e), 0);
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
	ck_assert_msg(strstr(e.msg, "no VM is running in") != NULL, "%s", e.msg);
	qq_exec_free(&o);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_exec(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_option, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_file_colon);
	suite_add_tcase(s, tc);
	return s;
}
