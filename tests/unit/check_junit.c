/* check_junit.c: the JUnit report, read back with libxml2's parser and XPath. */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "qq.h"
#include "suites.h"

/* The string value of an XPath expression over doc. */
static char *
xp(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;
	char *s;

	ck_assert_ptr_nonnull(ctx);
	o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	ck_assert_ptr_nonnull(o);
	s = (char *)xmlXPathCastToString(o);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return s;
}

static void
is(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xp(doc, expr);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", expr, got, want);
	xmlFree(got);
}

START_TEST(test_report)
{
	char *dir = test_tmpdir(), path[PATH_MAX], *big, *sysout;
	struct qq_test_case cases[] = {
		{ "pass", "/data/home/root/tests/pass", "pass", 1 },
		{ "fail", "/data/home/root/tests/fail", "fail", 1 },
		{ "segv", "/data/home/root/tests/segv", "segv", 1 },
		{ "hang", "/data/home/root/tests/hang", "hang", 1 },
		{ "noexec", "/data/home/root/tests/noexec", "noexec", 1 },
		{ "later <&>", "/data/home/root/tests/later", "later", 1 },
	};
	struct qq_test_plan plan = { cases, 6, 6, 6 };
	struct qq_result r[6];
	struct qq_junit j = { "qq.x86_64", &plan, r, dir, 0, 4500000 };
	struct qq_err e;
	struct stat st;
	xmlDocPtr doc;
	size_t big_len = 200000;

	memset(r, 0, sizeof(r));
	qq_result_set(&r[0], 0, 0, NULL);
	qq_result_set(&r[1], 3, 0, NULL);
	qq_result_set(&r[2], 139, 0, "SEGV");
	qq_result_set(&r[3], 137, 1, NULL);
	qq_result_set(&r[4], 126, 0, NULL);
	qq_result_notrun(&r[5], "the guest died");
	r[1].us = 1500000;
	test_puts(dir, "pass.out", "all good\n", 0644);
	test_puts(dir, "fail.err", "expected 4, got \x01 5 <tag> & \xff\n", 0644);
	/* A big output: system-out holds its end only, and says so. */
	big = malloc(big_len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'y', big_len);
	big[big_len - 1] = '\n';
	memcpy(big + big_len - 5, "END", 3);
	test_put(dir, "hang.out", big, big_len, 0644);
	free(big);
	snprintf(path, sizeof(path), "%s/report.xml", dir);
	ck_assert_int_eq(qq_junit_write(path, &j, &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);

	ck_assert_ptr_nonnull(doc = xmlReadFile(path, NULL, XML_PARSE_NONET));
	is(doc, "string(/testsuites/@tests)", "6");
	is(doc, "string(/testsuites/testsuite/@name)", "qq.x86_64");
	is(doc, "string(/testsuites/testsuite/@failures)", "3");
	is(doc, "string(/testsuites/testsuite/@errors)", "1");
	is(doc, "string(/testsuites/testsuite/@skipped)", "1");
	is(doc, "string(/testsuites/testsuite/@time)", "4.500");
	is(doc, "string(/testsuites/testsuite/@timestamp)", "1970-01-01T00:00:00");
	is(doc, "count(//testcase)", "6");
	is(doc, "string(//testcase[1]/@name)", "pass");
	is(doc, "string(//testcase[1]/@classname)", "qq.x86_64");
	is(doc, "count(//testcase[1]/*[self::failure or self::error or self::skipped])", "0");
	is(doc, "string(//testcase[1]/system-out)", "all good\n");
	is(doc, "string(//testcase[2]/@time)", "1.500");
	is(doc, "string(//testcase[2]/failure/@message)", "failed: exit code 3");
	is(doc, "string(//testcase[2]/failure/@type)", "failed");
	is(doc, "contains(//testcase[2]/failure, 'expected 4, got ? 5 <tag> & ?')", "true");
	is(doc, "string(//testcase[2]/system-err)", "expected 4, got ? 5 <tag> & ?\n");
	is(doc, "string(//testcase[3]/failure/@message)", "crashed: SIGSEGV");
	is(doc, "string(//testcase[4]/failure/@type)", "timed out");
	is(doc, "string(//testcase[5]/error/@message)",
	    "could not start: not executable or wrong format (exit 126)");
	is(doc, "string(//testcase[6]/@name)", "later <&>");
	is(doc, "string(//testcase[6]/skipped/@message)", "not run: the guest died");
	is(doc, "count(//testcase[6]/system-out)", "0");
	sysout = xp(doc, "string(//testcase[4]/system-out)");
	ck_assert_ptr_nonnull(strstr(sysout, "bytes not shown; the whole output is in"));
	ck_assert_ptr_nonnull(strstr(sysout, "yyEND"));
	ck_assert(strlen(sysout) < QQ_JUNIT_OUT_BYTES + 1024);
	xmlFree(sysout);
	xmlFreeDoc(doc);

	/* An unwritable place: a runtime error naming it, nothing left behind. */
	snprintf(path, sizeof(path), "%s/no/such/dir/report.xml", dir);
	ck_assert_int_eq(qq_junit_write(path, &j, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "no/such/dir"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_junit(void)
{
	Suite *s = suite_create("junit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_report);
	suite_add_tcase(s, tc);
	return s;
}
