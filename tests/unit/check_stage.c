/* check_stage.c: the test-name rule, the file checks, stage fact parsing, discovery and restaging. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

/* A 64-byte ELF header: class, byte order, type, machine. */
static void
elf(const char *dir, const char *name, int cls, int data, int type, int machine, mode_t mode)
{
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F' };

	h[4] = (unsigned char)cls;
	h[5] = (unsigned char)data;
	h[6] = 1;
	if (data == 1) {
		h[16] = (unsigned char)type;
		h[18] = (unsigned char)(machine & 0xff);
		h[19] = (unsigned char)(machine >> 8);
	} else {
		h[17] = (unsigned char)type;
		h[19] = (unsigned char)(machine & 0xff);
		h[18] = (unsigned char)(machine >> 8);
	}
	test_put(dir, name, h, sizeof(h), mode);
}

static const struct {
	const char	*name;
	int		 ok;
} names[] = {
	{ "test_foo", 1 }, { "a", 1 }, { "foo.bin", 1 }, { "foo.pyc", 1 }, { "x.runfilesx", 1 },
	{ ".hidden", 0 }, { "_private", 0 }, { "", 0 },
	{ "a.py", 0 }, { "a.sh", 0 }, { "a.so", 0 }, { "a.a", 0 }, { "a.o", 0 }, { "a.d", 0 },
	{ "a.h", 0 }, { "a.hpp", 0 }, { "a.cpp", 0 }, { "a.cc", 0 }, { "a.txt", 0 },
	{ "a.md", 0 }, { "a.json", 0 }, { "a.params", 0 }, { "a.runfiles", 0 },
	{ "a.runfiles_manifest", 0 },
	{ ".sh", 0 },
};

START_TEST(test_names)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(qq_stage_test_name_ok(names[i].name) == names[i].ok, "%s",
		    names[i].name);
}
END_TEST

static const struct {
	const char	*file;
	const char	*arch;
	const char	*msg;	/* NULL: accepted */
} checks[] = {
	{ "x64", "x86_64", NULL },
	{ "pie", "x86_64", NULL },
	{ "arm", "aarch64", NULL },
	{ "script", "x86_64", NULL },
	{ "script", "aarch64", NULL },
	{ "arm", "x86_64", "arm is an ELF binary for aarch64, but the target arch is x86_64" },
	{ "x64", "aarch64", "x64 is an ELF binary for x86_64, but the target arch is aarch64" },
	{ "i386", "x86_64", "ELF binary for i386, but" },
	{ "x32", "x86_64", "ELF binary for x32 (32-bit x86_64), but" },
	{ "be", "aarch64", "ELF binary for aarch64 (big-endian), but" },
	{ "riscv", "x86_64", "ELF binary for riscv, but" },
	{ "sparc", "x86_64", "ELF binary for ELF machine 43, but" },
	{ "obj", "x86_64", "obj is an ELF relocatable object (.o), not an executable" },
	{ "core", "x86_64", "core is an ELF core dump, not an executable" },
	{ "text", "x86_64", "text is neither an ELF executable nor a #! script" },
	{ "empty", "x86_64", "empty is neither an ELF executable nor a #! script" },
	{ "short", "x86_64", "short is neither an ELF executable nor a #! script" },
	{ "noexec", "x86_64", "noexec is not executable (mode 0644)" },
	{ "groupx", "x86_64", "groupx is not executable (mode 0655)" },
	{ "dir", "x86_64", "dir is a directory, not a program" },
	{ "missing", "x86_64", "unable to read missing: No such file or directory" },
	{ "fifo", "x86_64", "fifo is not a regular file" },
};

START_TEST(test_check)
{
	char *dir = test_tmpdir(), cwd[PATH_MAX];
	struct qq_err e;
	struct stat st;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	elf(dir, "x64", 2, 1, 2, 62, 0755);
	elf(dir, "pie", 2, 1, 3, 62, 0700);
	elf(dir, "arm", 2, 1, 2, 183, 0755);
	elf(dir, "i386", 1, 1, 2, 3, 0755);
	elf(dir, "x32", 1, 1, 2, 62, 0755);
	elf(dir, "be", 2, 2, 2, 183, 0755);
	elf(dir, "riscv", 2, 1, 2, 243, 0755);
	elf(dir, "sparc", 2, 1, 2, 43, 0755);
	elf(dir, "obj", 2, 1, 1, 62, 0755);
	elf(dir, "core", 2, 1, 4, 62, 0755);
	elf(dir, "noexec", 2, 1, 2, 62, 0644);
	elf(dir, "groupx", 2, 1, 2, 62, 0655);
	test_put(dir, "script", "#!/bin/sh\n", 10, 0755);
	test_put(dir, "text", "hello\n", 6, 0755);
	test_put(dir, "empty", "", 0, 0755);
	test_put(dir, "short", "\177ELF\2\1", 6, 0755);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(mkdir("dir", 0755), 0);
	ck_assert_int_eq(mkfifo("fifo", 0755), 0);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int rc = qq_stage_check(checks[i].file, checks[i].arch, &st, &e);

		if (checks[i].msg == NULL)
			ck_assert_msg(rc == 0, "%s: %s", checks[i].file, e.msg);
		else {
			ck_assert_msg(rc == QQ_EXIT_INPUT, "%s accepted", checks[i].file);
			ck_assert_msg(strstr(e.msg, checks[i].msg) != NULL, "%s: got \"%s\"",
			    checks[i].file, e.msg);
		}
	}
	ck_assert_int_eq(chdir(cwd), 0);
	test_rmtree(dir);
	free(dir);
}
END_TEST

static const struct {
	const char	*in;
	const char	*guest;	/* NULL: refused */
	const char	*host;
} facts[] = {
	{ "/data/home/root/x\t/ws/staging/x", "/data/home/root/x", "/ws/staging/x" },
	{ "/data/x\t/a b/c", "/data/x", "/a b/c" },
	{ "/data/home/root/x", NULL, NULL },
	{ "/data/x\t/a\t/b", NULL, NULL },
	{ "/etc/x\t/a", NULL, NULL },
	{ "/data/\t/a", NULL, NULL },
	{ "/data/x/\t/a", NULL, NULL },
	{ "/data/../etc\t/a", NULL, NULL },
	{ "/data/a/..\t/a", NULL, NULL },
	{ "/data/a//b\t/a", NULL, NULL },
	{ "/data/./b\t/a", NULL, NULL },
	{ "/data/x\trelative", NULL, NULL },
	{ "\t/a", NULL, NULL },
};

START_TEST(test_parse)
{
	char guest[PATH_MAX], host[PATH_MAX];
	struct qq_err e;

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		int rc = qq_stage_parse(facts[i].in, guest, sizeof(guest), host, sizeof(host), &e);

		if (facts[i].guest == NULL) {
			ck_assert_msg(rc == QQ_EXIT_INPUT, "accepted: %s", facts[i].in);
			ck_assert_ptr_nonnull(strstr(e.msg, "bad stage fact"));
		} else {
			ck_assert_msg(rc == 0, "%s: %s", facts[i].in, e.msg);
			ck_assert_str_eq(guest, facts[i].guest);
			ck_assert_str_eq(host, facts[i].host);
		}
	}
}
END_TEST

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_discover)
{
	char *dir = test_tmpdir(), sub[PATH_MAX], **v;
	const char *want[] = { "a", "sub/b", "sub/deep/c" };
	struct qq_err e;
	size_t n;

	snprintf(sub, sizeof(sub), "%s/sub/deep", dir);
	ck_assert_int_eq(qq_file_mkdirs(sub, 0755, &e), 0);
	snprintf(sub, sizeof(sub), "%s/.git", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	test_put(dir, "a", "#!", 2, 0755);
	test_put(dir, "sub/b", "#!", 2, 0700);
	test_put(dir, "sub/deep/c", "#!", 2, 0755);
	test_put(dir, ".git/hook", "#!", 2, 0755);
	test_put(dir, "x.sh", "#!", 2, 0755);
	test_put(dir, "_y", "#!", 2, 0755);
	test_put(dir, "z", "#!", 2, 0644);
	ck_assert_int_eq(qq_stage_discover(dir, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, want[i]);
		ck_assert_str_eq(v[i], sub);
	}
	ck_assert_ptr_null(v[n]);
	qq_argv_free(v);
	snprintf(sub, sizeof(sub), "%s/none", dir);
	ck_assert_int_eq(qq_stage_discover(sub, &v, &n, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "unable to read tests directory"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

static int
stage(const char *ws, const char *prog, const char *test, struct qq_stage_result *r,
    struct qq_facts *f, struct qq_err *e)
{
	struct qq_settings s;
	const char *tests[1] = { test };
	struct qq_stage_opts o = { .program = prog, .tests = tests, .ntests = test ? 1 : 0 };

	qq_settings_init(&s);
	s.opt[QQ_SET_WORKSPACE] = ws;
	s.opt[QQ_SET_ARCH] = "x86_64";
	return qq_stage_facts(&s, f, &o, r, e);
}

START_TEST(test_restage)
{
	char *dir = test_tmpdir(), ws[PATH_MAX], p[PATH_MAX], t[PATH_MAX], staged[PATH_MAX * 2];
	struct qq_stage_result r;
	struct qq_facts f = { 0 };
	struct qq_err e;
	struct stat st1, st2;
	size_t nstage = 0;

	snprintf(ws, sizeof(ws), "%s/ws", dir);
	snprintf(p, sizeof(p), "%s/prog", dir);
	snprintf(t, sizeof(t), "%s/t1", dir);
	elf(dir, "prog", 2, 1, 2, 62, 0755);
	test_put(dir, "t1", "#!/bin/sh\n", 10, 0750);
	ck_assert_int_eq(stage(ws, p, t, &r, &f, &e), 0);
	ck_assert_uint_eq(r.files, 2);
	ck_assert_uint_eq(r.copied, 2);
	ck_assert_int_eq(r.changed, 1);
	for (size_t i = 0; i < f.n; i++)
		if (strcmp(f.v[i].key, "stage") == 0)
			nstage++;
	ck_assert_uint_eq(nstage, 2);
	snprintf(staged, sizeof(staged), "/data/home/root/tests/t1\t%s/staging/data/home/root/tests/t1",
	    ws);
	ck_assert_str_eq(qq_facts_get(&f, "stage"), staged);
	snprintf(staged, sizeof(staged), "%s/staging/data/home/root/prog", ws);
	ck_assert_int_eq(stat(staged, &st1), 0);
	/* Nothing changed: nothing copied, the tree not even replaced. */
	ck_assert_int_eq(stage(ws, p, t, &r, &f, &e), 0);
	ck_assert_uint_eq(r.copied, 0);
	ck_assert_int_eq(r.changed, 0);
	/* One file changed: only it is copied; the other keeps its inode. */
	test_put(dir, "t1", "#!/bin/sh\necho 2\n", 17, 0750);
	ck_assert_int_eq(stage(ws, p, t, &r, &f, &e), 0);
	ck_assert_uint_eq(r.copied, 1);
	ck_assert_int_eq(r.changed, 1);
	ck_assert_int_eq(stat(staged, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	/* A test no longer asked for is removed. */
	ck_assert_int_eq(stage(ws, p, NULL, &r, &f, &e), 0);
	ck_assert_int_eq(r.changed, 1);
	snprintf(staged, sizeof(staged), "%s/staging/data/home/root/tests/t1", ws);
	ck_assert_int_eq(stat(staged, &st2), -1);
	/* A bad file stops everything; the staging tree is the previous one. */
	elf(dir, "arm", 2, 1, 2, 183, 0755);
	snprintf(t, sizeof(t), "%s/arm", dir);
	ck_assert_int_eq(stage(ws, p, t, &r, &f, &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(stat(staged, &st2), -1);
	qq_facts_free(&f);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_stage(void)
{
	Suite *s = suite_create("stage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_discover);
	tcase_add_test(tc, test_restage);
	suite_add_tcase(s, tc);
	return s;
}
