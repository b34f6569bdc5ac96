/* check_testplan.c: test selection from the stage facts: order, filter, shard, repeat, refusals. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

#include <unistd.h>

#define T "/data/home/root/tests/"

/* The program, three tests and one file elsewhere under /data, in staged (not sorted) order. */
static void
facts(struct qq_facts *f)
{
	struct qq_err e;

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(qq_facts_add(f, "arch", "x86_64", &e), 0);
	ck_assert_int_eq(qq_facts_add(f, "stage", "/data/home/root/hello\t/ws/staging/hello", &e), 0);
	ck_assert_int_eq(qq_facts_add(f, "stage", T "test_sum\t/ws/staging/s", &e), 0);
	ck_assert_int_eq(qq_facts_add(f, "stage", T "test_arch\t/ws/staging/a", &e), 0);
	ck_assert_int_eq(qq_facts_add(f, "stage", T "other check\t/ws/staging/o", &e), 0);
	ck_assert_int_eq(qq_facts_add(f, "stage", "/data/home/root/testsx\t/ws/staging/x", &e), 0);
}

/* The plan's names joined by commas. */
static char *
names(const struct qq_test_plan *p)
{
	static char buf[1024];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < p->n; i++) {
		if (i > 0)
			strlcat(buf, ",", sizeof(buf));
		strlcat(buf, p->v[i].name, sizeof(buf));
	}
	return buf;
}

static const struct {
	const char	*filter;
	int		 repeat, index, total;
	const char	*want;		/* NULL: refused with exit 3 */
	const char	*msg;
} cases[] = {
	{ NULL, 0, 0, 0, "test_sum,test_arch,other check", NULL },
	{ "test_*", 1, 0, 0, "test_sum,test_arch", NULL },
	{ "*check", 0, 0, 0, "other check", NULL },
	{ "test_[a]*", 0, 0, 0, "test_arch", NULL },
	{ "nothing*", 0, 0, 0, NULL, "no staged test matches the filter \"nothing*\"" },
	{ NULL, 2, 0, 0, "test_sum [1/2],test_sum [2/2],test_arch [1/2],test_arch [2/2],"
	    "other check [1/2],other check [2/2]", NULL },
	{ NULL, 0, 0, 2, "test_sum,other check", NULL },
	{ NULL, 0, 1, 2, "test_arch", NULL },
	{ "test_*", 0, 1, 2, "test_arch", NULL },
	{ NULL, 0, 4, 5, "", NULL },			/* an empty shard is fine */
	{ NULL, 3, 1, 3, "test_arch [1/3],test_arch [2/3],test_arch [3/3]", NULL },
	{ NULL, 0, 2, 2, NULL, "bad shard 2 of 2" },
	{ NULL, 0, -1, 2, NULL, "bad shard -1 of 2" },
	{ NULL, 0, 0, -1, NULL, "bad shard" },
};

START_TEST(test_select)
{
	struct qq_test_select sel = { cases[_i].filter, cases[_i].repeat, cases[_i].index,
	    cases[_i].total };
	struct qq_test_plan p;
	struct qq_facts f;
	struct qq_err e;
	int rc;

	facts(&f);
	rc = qq_testplan_build(&f, &sel, &p, &e);
	if (cases[_i].want == NULL) {
		ck_assert_int_eq(rc, QQ_EXIT_INPUT);
		ck_assert_ptr_nonnull(strstr(e.msg, cases[_i].msg));
		ck_assert_uint_eq(p.n, 0);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(names(&p), cases[_i].want);
		ck_assert_uint_eq(p.staged, 3);
	}
	qq_testplan_free(&p);
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_case_fields)
{
	struct qq_test_select sel = { "test_sum", 2, 0, 0 };
	struct qq_test_plan p;
	struct qq_facts f;
	struct qq_err e;

	facts(&f);
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.v[1].guest, T "test_sum");
	ck_assert_str_eq(p.v[1].stem, "test_sum.run2");
	ck_assert_int_eq(p.v[1].run, 2);
	qq_testplan_free(&p);
	sel.repeat = 1;
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_str_eq(p.v[0].stem, "test_sum");
	qq_testplan_free(&p);
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_refusals)
{
	struct qq_test_select sel = { 0 };
	struct qq_test_plan p;
	struct qq_facts f = { 0 };
	struct qq_err e;

	/* No tests staged at all (only the program). */
	ck_assert_int_eq(qq_facts_add(&f, "stage", "/data/home/root/hello\t/ws/h", &e), 0);
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "no tests staged"));
	/* A malformed stage fact is bad input, named. */
	ck_assert_int_eq(qq_facts_add(&f, "stage", "no tab here", &e), 0);
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "no tab here"));
	qq_facts_free(&f);
}
END_TEST

/* The names in dir (hidden ones too), sorted, joined by spaces. */
static char *
ls(const char *dir)
{
	static char buf[4096];
	struct dirent **v;
	int n, i;

	buf[0] = '\0';
	ck_assert_int_ge(n = scandir(dir, &v, NULL, alphasort), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 && strcmp(v[i]->d_name, "..") != 0) {
			strlcat(buf, v[i]->d_name, sizeof(buf));
			strlcat(buf, " ", sizeof(buf));
		}
		free(v[i]);
	}
	free(v);
	return buf;
}

/* What a run writes: STEM.out and STEM.err for every planned test. */
static void
run_writes(const char *dir, const struct qq_test_plan *p)
{
	char name[512];
	size_t i;

	for (i = 0; i < p->n; i++) {
		snprintf(name, sizeof(name), "%s.out", p->v[i].stem);
		test_puts(dir, name, "out\n", 0644);
		snprintf(name, sizeof(name), "%s.err", p->v[i].stem);
		test_puts(dir, name, "err\n", 0644);
	}
}

/*
 * --repeat 3, then --repeat 2, then once, then another test only, then an
 * empty shard: after each, only that run's files (and files qq-test did not
 * write) are in the results directory.
 */
START_TEST(test_outputs)
{
	struct qq_test_select sel = { "test_sum", 3, 0, 0 };
	struct qq_test_plan p;
	struct qq_facts f;
	struct qq_err e;
	char *dir = test_tmpdir(), res[4096], outside[4096 + 32];
	struct stat st;

	facts(&f);
	snprintf(res, sizeof(res), "%s/missing", dir);
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	/* No directory: nothing to remove, nothing made. */
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	ck_assert_int_eq(stat(res, &st), -1);
	snprintf(res, sizeof(res), "%s/results", dir);
	ck_assert_int_eq(mkdir(res, 0755), 0);
	/* The user's own files, one named as a run of ours would be, written before any run. */
	test_puts(res, "notes.txt", "mine\n", 0644);
	test_puts(res, "test_sum.run7.out", "mine too\n", 0644);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	run_writes(res, &p);
	qq_testplan_free(&p);

	sel.repeat = 2;
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	/* Before the run writes anything, the last run's files are gone. */
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_sum.run7.out ");
	run_writes(res, &p);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_sum.run1.err test_sum.run1.out "
	    "test_sum.run2.err test_sum.run2.out test_sum.run7.out ");
	qq_testplan_free(&p);

	sel.repeat = 1;
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	run_writes(res, &p);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_sum.err test_sum.out "
	    "test_sum.run7.out ");
	qq_testplan_free(&p);

	/* Another filter: the other test's files go too (they were the last run's). */
	sel.filter = "test_arch";
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	run_writes(res, &p);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_arch.err test_arch.out "
	    "test_sum.run7.out ");

	/* A list naming paths out of the directory, or a directory: none of them removed. */
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	test_puts(dir, "outside", "keep\n", 0644);
	ck_assert_int_eq(mkdir(strcat(strcpy(outside, res), "/sub.out"), 0755), 0);
	test_puts(res, ".qq-test-outputs", "../outside\n/etc/hostname\nsub.out\n..\n.\n"
	    "notes.txt/\n", 0644);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt sub.out test_arch.err test_arch.out "
	    "test_sum.run7.out ");
	ck_assert_int_eq(stat(strcat(strcpy(outside, dir), "/outside"), &st), 0);
	ck_assert_int_eq(rmdir(strcat(strcpy(outside, res), "/sub.out")), 0);
	/* The last list was whole: this run's names, not the odd ones. */
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_sum.run7.out ");
	qq_testplan_free(&p);

	/* An empty shard: no test, no file of an earlier run. */
	sel.filter = NULL;
	run_writes(res, &p);
	sel.shard_index = 4;
	sel.shard_total = 5;
	ck_assert_int_eq(qq_testplan_build(&f, &sel, &p, &e), 0);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_int_eq(qq_testplan_outputs(res, &p, &e), 0);
	ck_assert_str_eq(ls(res), ".qq-test-outputs notes.txt test_sum.run7.out ");
	qq_testplan_free(&p);
	qq_facts_free(&f);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_testplan(void)
{
	Suite *s = suite_create("testplan");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_select, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_case_fields);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_outputs);
	suite_add_tcase(s, tc);
	return s;
}
