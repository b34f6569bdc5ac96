/* check_quote.c: xargs quoting round-trips, and the reader rejects what xargs rejects. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static const struct {
	const char	*arg;
	const char	*quoted;
} quotes[] = {
	{ "plain", "plain" },
	{ "-m", "-m" },
	{ "file=/a,,b/x.vmdk,if=ide", "file=/a,,b/x.vmdk,if=ide" },
	{ "", "''" },
	{ "a b", "'a b'" },
	{ "tab\there", "'tab\there'" },
	{ "it's", "'it'\\''s'" },
	{ "say \"hi\"", "'say \"hi\"'" },
	{ "back\\slash", "'back\\slash'" },
};

START_TEST(test_quote_table)
{
	char *buf = NULL, **argv;
	size_t len = 0, argc;
	struct qq_err e;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_int_eq(qq_quote_write(fp, quotes[_i].arg), 0);
	fclose(fp);
	ck_assert_str_eq(buf, quotes[_i].quoted);
	fp = fmemopen(buf, len, "r");
	ck_assert_int_eq(qq_unquote_read(fp, 0, &argv, &argc, &e), 0);
	fclose(fp);
	ck_assert_uint_eq(argc, 1);
	ck_assert_str_eq(argv[0], quotes[_i].arg);
	qq_argv_free(argv);
	free(buf);
}
END_TEST

START_TEST(test_newline_refused)
{
	char *const argv[] = { "a", "b\nc", NULL };
	char *buf = NULL;
	size_t len = 0;
	struct qq_err e;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_int_eq(qq_quote_argv(fp, argv, 0, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "argument 1"));
	fclose(fp);
	free(buf);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	int		 nul;
	size_t		 argc;	/* (size_t)-1: rejected */
	const char	*joined;	/* arguments joined by '|' */
} reads[] = {
	{ "", 0, 0, 0, "" },
	{ "a\nb\n", 0, 0, 2, "a|b" },
	{ "  a   b \n\n c", 0, 0, 3, "a|b|c" },
	{ "'a b' \"c d\" e\\ f", 0, 0, 3, "a b|c d|e f" },
	{ "x''y", 0, 0, 1, "xy" },
	{ "''\n", 0, 0, 1, "" },
	{ "'a\nb'", 0, 0, (size_t)-1, NULL },
	{ "\"open", 0, 0, (size_t)-1, NULL },
	{ "end\\", 0, 0, (size_t)-1, NULL },
	{ "a b\0c\n\0", 7, 1, 2, "a b|c\n" },
	{ "last", 0, 1, 1, "last" },
};

START_TEST(test_read_table)
{
	FILE *fp = fmemopen((void *)reads[_i].in,
	    reads[_i].len ? reads[_i].len : strlen(reads[_i].in), "r");
	struct qq_err e;
	char **argv, joined[256] = "";
	size_t argc, i;
	int rc;

	rc = qq_unquote_read(fp, reads[_i].nul, &argv, &argc, &e);
	fclose(fp);
	if (reads[_i].argc == (size_t)-1) {
		ck_assert_int_eq(rc, QQ_EXIT_INPUT);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(argc, reads[_i].argc);
	for (i = 0; i < argc; i++) {
		if (i)
			strlcat(joined, "|", sizeof(joined));
		strlcat(joined, argv[i], sizeof(joined));
	}
	ck_assert_ptr_null(argv[argc]);
	ck_assert_str_eq(joined, reads[_i].joined);
	qq_argv_free(argv);
}
END_TEST

START_TEST(test_argv_nul)
{
	char *const argv[] = { "a b", "c\nd", NULL };
	char *buf = NULL;
	size_t len = 0;
	struct qq_err e;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_int_eq(qq_quote_argv(fp, argv, 1, &e), 0);
	fclose(fp);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(buf, "a b\0c\nd\0", 8);
	free(buf);
}
END_TEST

Suite *
suite_quote(void)
{
	Suite *s = suite_create("quote");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_quote_table, 0, sizeof(quotes) / sizeof(quotes[0]));
	tcase_add_test(tc, test_newline_refused);
	tcase_add_loop_test(tc, test_read_table, 0, sizeof(reads) / sizeof(reads[0]));
	tcase_add_test(tc, test_argv_nul);
	suite_add_tcase(s, tc);
	return s;
}
