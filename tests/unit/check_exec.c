/* check_exec.c: qq-exec's options and refusals: bad values, a missing binary, no VM (99). */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>

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
	/* A workspace that is a file: named, before anything looks inside. */
	s.opt[QQ_SET_WORKSPACE] = bin;
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
	ck_assert_msg(strstr(e.msg, "unable to open workspace ") != NULL &&
	    strstr(e.msg, "prog: Not a directory") != NULL, "%s", e.msg);
	s.opt[QQ_SET_WORKSPACE] = ws;
	/* A setting given as an option is checked even where no boot would use it. */
	s.opt[QQ_SET_RAM] = "lots";
	ck_assert_int_eq(qq_exec_run(&s, &o, argv, &r, &e), QQ_EXEC_FAILED);
	ck_assert_msg(strstr(e.msg, "bad --ram \"lots\"") != NULL, "%s", e.msg);
	s.opt[QQ_SET_RAM] = NULL;
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

/* The (run, num) pairs handed out so far by test_pool. */
static char pairs[64][4200];
static size_t npairs;

/* Takes a directory; it must be one never handed out before. */
static long
take_new(const char *ws, const char *boot, const char *why, char *run, size_t runsz,
    struct qq_sbuf *pre)
{
	struct qq_err e;
	long num = 0;
	size_t i;

	memset(pre, 0, sizeof(*pre));
	ck_assert_msg(qq_exec_pool_take(ws, boot, run, runsz, &num, pre, NULL, &e) == 0, "%s: %s",
	    why, e.msg);
	ck_assert_msg(pre->err == 0, "%s: out of memory", why);
	ck_assert_int_lt(npairs, 64);
	snprintf(pairs[npairs], sizeof(pairs[npairs]), "%s/%ld", run, num);
	for (i = 0; i < npairs; i++)
		ck_assert_msg(strcmp(pairs[i], pairs[npairs]) != 0, "%s: %s handed out again",
		    why, pairs[npairs]);
	npairs++;
	return num;
}

/* WS/exec holds the pool, and no temporary file. */
static void
only_pool(const char *ws)
{
	char path[4200];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/exec", ws);
	ck_assert_ptr_nonnull(dp = opendir(path));
	while ((d = readdir(dp)) != NULL)
		ck_assert_msg(strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    strcmp(d->d_name, "pool") == 0,
		    "left in WS/exec: %s", d->d_name);
	closedir(dp);
}

/*
 * The per-boot pool of working directories: no (directory, number) pair is
 * handed out twice in a boot, whatever became of the pool file meanwhile (a
 * writer killed mid-write, an editor, garbage), it leaves no temporary file,
 * and a pool that cannot be written fails the call.
 */
START_TEST(test_pool)
{
	static const char *const boot = "2049 1234 1700000000.000000005\n";
	static const char *const other = "2049 999 1600000000.000000001\n";
	char *dir = test_tmpdir(), ws[4096], path[4200], run[4096], run1[4096], *buf;
	char cut[8192];
	struct qq_sbuf pre;
	struct qq_err e;
	size_t len;
	long num;
	int k;

	npairs = 0;
	snprintf(ws, sizeof(ws), "%s/ws", dir);
	snprintf(path, sizeof(path), "%s/exec", ws);
	ck_assert_int_eq(qq_file_mkdirs(path, 0755, &e), 0);
	snprintf(path, sizeof(path), "%s/exec/pool", ws);

	/* A new pool: number 1, a batch made, other boots' directories swept, not this one's. */
	num = take_new(ws, boot, "first", run1, sizeof(run1), &pre);
	ck_assert_int_eq(num, 1);
	ck_assert_ptr_nonnull(strstr(run1, "/data/qq-exec/run/4d2-"));
	ck_assert_ptr_nonnull(strstr(pre.p, "mkdir -p"));
	ck_assert_ptr_nonnull(strstr(pre.p, "rm -rf"));
	ck_assert_ptr_nonnull(strstr(pre.p, "case ${qq_o##*/} in '4d2-6553f100-5'.*) ;;"));
	free(pre.p);
	/* The next: from the batch, with nothing to run first. */
	ck_assert_int_eq(take_new(ws, boot, "second", run, sizeof(run), &pre), 2);
	ck_assert_str_eq(run, run1);
	ck_assert_ptr_null(pre.p);
	qq_exec_pool_give(ws, boot, run, 2);
	only_pool(ws);

	/*
	 * The pool cut short (a writer killed mid-write) at many lengths, or
	 * garbled: never a pair handed out before.
	 */
	ck_assert_int_eq(qq_file_read(path, 1 << 20, &buf, &len, &e), 0);
	for (k = 0; k < 6; k++) {
		size_t at = k < 5 ? len * (size_t)k / 5 : len;

		memcpy(cut, buf, at < sizeof(cut) ? at : sizeof(cut) - 1);
		cut[at < sizeof(cut) ? at : sizeof(cut) - 1] = '\0';
		if (k == 5)	/* an editor's change: next lowered below the numbers given */
			strlcpy(strstr(cut, "next ") + 5, "1\nfree\ndone\n",
			    sizeof(cut) - (size_t)(strstr(cut, "next ") + 5 - cut));
		test_puts(ws, "exec/pool", cut, 0644);
		take_new(ws, boot, k < 5 ? "a cut pool" : "an edited pool", run, sizeof(run), &pre);
		ck_assert_msg(strcmp(run, run1) != 0 || k == 5, "cut at %zu: same directory", at);
		/* This boot's earlier directories are kept: their calls may run on. */
		ck_assert_msg(pre.p == NULL || strstr(pre.p, "'4d2-6553f100-5'.*) ;;") != NULL,
		    "a lost pool sweeps this boot's directories: %s", pre.p);
		free(pre.p);
	}
	free(buf);
	test_puts(ws, "exec/pool", "\x01garbage\0\n", 0644);
	take_new(ws, boot, "garbage", run, sizeof(run), &pre);
	free(pre.p);

	/* Another boot's pool: a new one from 1, in a directory of this boot's. */
	test_puts(ws, "exec/pool", other, 0644);
	ck_assert_int_eq(take_new(ws, boot, "another boot's", run, sizeof(run), &pre), 1);
	free(pre.p);
	/* A number given back for a pool that is gone is not taken into the new one. */
	qq_exec_pool_give(ws, boot, run1, 1);
	ck_assert_int_eq(qq_file_read(path, 1 << 20, &buf, &len, &e), 0);
	ck_assert_msg(strstr(buf, "\ndone\n") != NULL, "a stale number was given back: %s", buf);
	free(buf);
	only_pool(ws);

	/* A pool that cannot be written fails the call, naming it. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/exec/pool/x", ws);
	test_puts(ws, "exec/pool/x", "", 0644);
	memset(&pre, 0, sizeof(pre));
	ck_assert_int_eq(qq_exec_pool_take(ws, boot, run, sizeof(run), &num, &pre, NULL, &e),
	    QQ_EXEC_FAILED);
	ck_assert_msg(strstr(e.msg, "unable to ") != NULL && strstr(e.msg, "/exec/pool") !=
	    NULL, "%s", e.msg);
	free(pre.p);
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
	tcase_add_test(tc, test_pool);
	suite_add_tcase(s, tc);
	return s;
}
