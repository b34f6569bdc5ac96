/* check_facts.c: the facts protocol: parsing, rejections, replace and pass-through. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static int
parse(const char *text, size_t len, struct qq_facts *f, struct qq_err *e)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	int rc;

	ck_assert_ptr_nonnull(fp);
	rc = qq_facts_read(f, fp, "test", e);
	fclose(fp);
	return rc;
}

static char *
dump(const struct qq_facts *f)
{
	struct qq_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_int_eq(qq_facts_write(f, fp, &e), 0);
	fclose(fp);
	return buf;
}

static const struct {
	const char	*in;
	const char	*out;	/* NULL: rejected with exit 3 */
	const char	*msg;	/* part of the message when rejected */
} cases[] = {
	{ "", "", NULL },
	{ "a=b\n", "a=b\n", NULL },
	{ "a=b", "a=b\n", NULL },			/* no final newline */
	{ "a=\n", "a=\n", NULL },			/* empty value, kept */
	{ "a=b=c\n", "a=b=c\n", NULL },			/* value is all after the first = */
	{ "x1_y=  sp ace \n", "x1_y=  sp ace \n", NULL },
	{ "k=1\n\nk=2\n", "k=1\nk=2\n", NULL },		/* blank lines dropped */
	{ "a\n", NULL, "no '='" },
	{ "=v\n", NULL, "bad key" },
	{ "A=v\n", NULL, "bad key" },
	{ "1a=v\n", NULL, "bad key" },
	{ "a-b=v\n", NULL, "bad key" },
	{ "a b=v\n", NULL, "bad key" },
	{ "_a=v\n", NULL, "bad key" },
	{ "ok=1\nbad\n", NULL, "line 2" },
};

START_TEST(test_parse_table)
{
	struct qq_facts f = { 0 };
	struct qq_err e;
	int rc;

	rc = parse(cases[_i].in, strlen(cases[_i].in), &f, &e);
	if (cases[_i].out == NULL) {
		ck_assert_int_eq(rc, QQ_EXIT_INPUT);
		ck_assert_ptr_nonnull(strstr(e.msg, cases[_i].msg));
	} else {
		char *out;

		ck_assert_int_eq(rc, 0);
		out = dump(&f);
		ck_assert_str_eq(out, cases[_i].out);
		free(out);
	}
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_nul_refused)
{
	struct qq_facts f = { 0 };
	struct qq_err e;

	ck_assert_int_eq(parse("a=b\0c\n", 6, &f, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "NUL"));
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_set_replaces_and_passes_through)
{
	struct qq_facts f = { 0 };
	struct qq_err e;
	char *out;

	ck_assert_int_eq(parse("foo=1\naccel=kvm\nbar=2\naccel=tcg\n", 32, &f, &e), 0);
	ck_assert_str_eq(qq_facts_get(&f, "accel"), "tcg");
	ck_assert_int_eq(qq_facts_set(&f, "accel", "kvm", &e), 0);
	ck_assert_int_eq(qq_facts_add(&f, "stage", "x", &e), 0);
	ck_assert_int_eq(qq_facts_add(&f, "stage", "y", &e), 0);
	out = dump(&f);
	ck_assert_str_eq(out, "foo=1\nbar=2\naccel=kvm\nstage=x\nstage=y\n");
	free(out);
	qq_facts_del(&f, "stage");
	ck_assert_ptr_null(qq_facts_get(&f, "stage"));
	ck_assert_ptr_null(qq_facts_get(&f, "nothing"));
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_set_refuses)
{
	struct qq_facts f = { 0 };
	struct qq_err e;

	ck_assert_int_eq(qq_facts_set(&f, "Bad", "v", &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_facts_set(&f, "k", "a\nb", &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "newline"));
	ck_assert_int_eq(qq_facts_add(&f, "k", "a\nb", &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_facts_setf(&f, &e, "n", "%d", 42), 0);
	ck_assert_str_eq(qq_facts_get(&f, "n"), "42");
	ck_assert_uint_eq(f.n, 1);
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_keys)
{
	ck_assert(qq_facts_key_ok("a"));
	ck_assert(qq_facts_key_ok("ssh_port2"));
	ck_assert(!qq_facts_key_ok(""));
	ck_assert(!qq_facts_key_ok("a."));
}
END_TEST

Suite *
suite_facts(void)
{
	Suite *s = suite_create("facts");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_nul_refused);
	tcase_add_test(tc, test_set_replaces_and_passes_through);
	tcase_add_test(tc, test_set_refuses);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);
	return s;
}
