/* check_mkimage.c: builder choice, the data_files.custom text, and the cache of the initramfs builder. */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_builder)
{
	static const struct {
		const char	*opt, *env, *want;	/* want NULL: refused */
	} t[] = {
		{ NULL, NULL, "mkqnximage" },
		{ NULL, "", "mkqnximage" },
		{ NULL, "initramfs", "initramfs" },
		{ "mkqnximage", "initramfs", "mkqnximage" },
		{ "initramfs", NULL, "initramfs" },
		{ "docker", NULL, NULL },
		{ NULL, "Initramfs", NULL },
		{ "", NULL, NULL },
	};
	char out[16];
	struct qq_err e;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].env)
			setenv("QNX_QEMU_BUILDER", t[i].env, 1);
		else
			unsetenv("QNX_QEMU_BUILDER");
		if (t[i].want) {
			ck_assert_int_eq(qq_mkimage_builder(t[i].opt, out, sizeof(out), &e), 0);
			ck_assert_str_eq(out, t[i].want);
		} else {
			ck_assert_int_eq(qq_mkimage_builder(t[i].opt, out, sizeof(out), &e),
			    QQ_EXIT_INPUT);
			ck_assert_ptr_nonnull(strstr(e.msg, "expected mkqnximage or initramfs"));
		}
	}
	unsetenv("QNX_QEMU_BUILDER");
}
END_TEST

START_TEST(test_snippet)
{
	static const struct {
		struct qq_mkimage_file	 f;
		const char		*line;	/* NULL: refused */
	} t[] = {
		{ { "/data/home/root/hello", "/ws/staging/data/home/root/hello", 0755 },
		    "[uid=0 gid=0 perms=0755] home/root/hello=/ws/staging/data/home/root/hello\n" },
		{ { "/data/home/root/tests/t", "/w s/t", 0700 },
		    "[uid=0 gid=0 perms=0700] home/root/tests/t=\"/w s/t\"\n" },
		{ { "/data/a=b", "/x,y/z", 04755 },
		    "[uid=0 gid=0 perms=0755] \"a=b\"=/x,y/z\n" },
		{ { "/data/x", "/a\"b", 0755 }, NULL },
		{ { "/data/x", "/a\\b", 0755 }, NULL },
		{ { "/data/x\ty", "/a", 0755 }, NULL },
		{ { "/etc/x", "/a", 0755 }, NULL },
	};
	const char *head = "# data_files.custom: written by qq-mkimage from the stage facts; "
	    "not to be edited\n";
	struct qq_err e;
	char *text, want[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = qq_mkimage_snippet(&t[i].f, 1, &text, &e);

		if (t[i].line == NULL) {
			ck_assert_msg(rc == QQ_EXIT_INPUT, "accepted %s", t[i].f.guest);
			ck_assert_ptr_null(text);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", t[i].f.guest, e.msg);
		snprintf(want, sizeof(want), "%s%s", head, t[i].line);
		ck_assert_str_eq(text, want);
		free(text);
	}
	ck_assert_int_eq(qq_mkimage_snippet(NULL, 0, &text, &e), 0);
	ck_assert_str_eq(text, head);
	free(text);
}
END_TEST

static int
build(const char *ws, const char *base, const char *staged, int rebuild,
    struct qq_mkimage_result *r, struct qq_facts *f, struct qq_err *e)
{
	struct qq_mkimage_opts o = { .builder = "initramfs", .base = base, .rebuild = rebuild };
	struct qq_settings s;
	char v[PATH_MAX * 2];

	qq_facts_free(f);
	qq_settings_init(&s);
	s.opt[QQ_SET_WORKSPACE] = ws;
	snprintf(v, sizeof(v), "/data/home/root/prog\t%s", staged);
	ck_assert_int_eq(qq_facts_add(f, "stage", v, e), 0);
	ck_assert_int_eq(qq_facts_add(f, "ssh_pubkey", "ssh-ed25519 AAAA k@h", e), 0);
	return qq_mkimage_facts(&s, f, &o, r, e);
}

START_TEST(test_initramfs_cache)
{
	char *dir = test_tmpdir(), ws[PATH_MAX], base[PATH_MAX], p[PATH_MAX + 64], prog[PATH_MAX];
	char key1[QQ_DIGEST_HEX];
	struct qq_mkimage_result r;
	struct qq_facts f = { 0 };
	struct qq_err e;
	struct stat st;

	snprintf(ws, sizeof(ws), "%s/ws", dir);
	snprintf(base, sizeof(base), "%s/base", dir);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	ck_assert_int_eq(mkdir(base, 0755), 0);
	snprintf(p, sizeof(p), "%s/vmlinuz", base);
	ck_assert_int_eq(qq_file_write_atomic(p, "K", 1, 0644, &e), 0);
	snprintf(p, sizeof(p), "%s/initrd.img", base);
	ck_assert_int_eq(qq_file_write_atomic(p, "1234567", 7, 0644, &e), 0);
	snprintf(p, sizeof(p), "%s/append", base);
	ck_assert_int_eq(qq_file_write_atomic(p, "quiet\n", 6, 0644, &e), 0);
	ck_assert_int_eq(qq_file_write_atomic(prog, "#!/bin/sh\n", 10, 0755, &e), 0);

	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), 0);
	ck_assert_int_eq(r.built, 1);
	ck_assert_str_eq(r.builder, "initramfs");
	memcpy(key1, r.key, sizeof(key1));
	ck_assert_str_eq(qq_facts_get(&f, "append"), "quiet");
	ck_assert_str_eq(qq_facts_get(&f, "disk"), "");
	snprintf(p, sizeof(p), "%s/output/initrd.img", ws);
	ck_assert_str_eq(qq_facts_get(&f, "initrd"), p);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_gt(st.st_size, 8);
	/* Same inputs: not built; --rebuild: built, same key. */
	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), 0);
	ck_assert_int_eq(r.built, 0);
	ck_assert_str_eq(r.key, key1);
	ck_assert_int_eq(build(ws, base, prog, 1, &r, &f, &e), 0);
	ck_assert_int_eq(r.built, 1);
	ck_assert_str_eq(r.key, key1);
	/* A changed staged file, mode or base: a new key. */
	ck_assert_int_eq(qq_file_write_atomic(prog, "#!/bin/sh\nx\n", 12, 0755, &e), 0);
	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), 0);
	ck_assert_int_eq(r.built, 1);
	ck_assert_str_ne(r.key, key1);
	memcpy(key1, r.key, sizeof(key1));
	ck_assert_int_eq(chmod(prog, 0700), 0);
	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), 0);
	ck_assert_str_ne(r.key, key1);
	memcpy(key1, r.key, sizeof(key1));
	snprintf(p, sizeof(p), "%s/append", base);
	ck_assert_int_eq(qq_file_write_atomic(p, "loud\n", 5, 0644, &e), 0);
	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), 0);
	ck_assert_str_ne(r.key, key1);
	ck_assert_str_eq(qq_facts_get(&f, "append"), "loud");
	/* A staged file that is gone. */
	ck_assert_int_eq(unlink(prog), 0);
	ck_assert_int_eq(build(ws, base, prog, 0, &r, &f, &e), QQ_EXIT_INPUT);
	qq_facts_free(&f);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_mkimage(void)
{
	Suite *s = suite_create("mkimage");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_builder);
	tcase_add_test(tc, test_snippet);
	tcase_add_test(tc, test_initramfs_cache);
	suite_add_tcase(s, tc);
	return s;
}
