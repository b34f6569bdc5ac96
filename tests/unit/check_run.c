/* check_run.c: qq-run's composition: settings checked first, step names on errors, dry runs write nothing. */
#include "config.h"

#include <sys/stat.h>

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

struct fixture {
	char			*dir;
	char			 ws[PATH_MAX];
	char			 prog[PATH_MAX];
	struct qq_settings	 s;
	struct qq_facts		 f;
	struct qq_run_opts	 o;
};

static void
setup(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->dir = test_tmpdir();
	snprintf(x->ws, sizeof(x->ws), "%s/ws", x->dir);
	snprintf(x->prog, sizeof(x->prog), "%s/prog.sh", x->dir);
	setenv("HOME", x->dir, 1);
	unsetenv("QNX_QEMU_SMP");
	qq_settings_init(&x->s);
	x->s.opt[QQ_SET_WORKSPACE] = x->ws;
	x->s.opt[QQ_SET_ACCEL] = "tcg";
	qq_stop_defaults(&x->o.stop);
}

static void
teardown(struct fixture *x)
{
	qq_facts_free(&x->f);
	test_rmtree(x->dir);
	free(x->dir);
}

START_TEST(test_bad_setting_first)
{
	struct fixture x;
	struct qq_err e;
	struct stat st;

	setup(&x);
	setenv("QNX_QEMU_SMP", "99", 1);
	x.o.stage.program = "/nonexistent";
	/* The bad setting wins over the missing program: nothing ran. */
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), QQ_EXIT_INPUT);
	ck_assert_str_eq(e.msg, "bad QNX_QEMU_SMP \"99\": expected a CPU count from 1 to 64");
	ck_assert_int_eq(stat(x.ws, &st), -1);
	unsetenv("QNX_QEMU_SMP");
	teardown(&x);
}
END_TEST

START_TEST(test_step_prefix)
{
	struct fixture x;
	struct qq_err e;

	setup(&x);
	x.o.stage.program = "/nonexistent/hello";
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), QQ_EXIT_INPUT);
	ck_assert_msg(strncmp(e.msg, "stage: ", 7) == 0, "message: %s", e.msg);
	ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/hello"));
	teardown(&x);
}
END_TEST

START_TEST(test_dry_run_writes_nothing)
{
	struct fixture x;
	struct qq_err e;
	struct stat st;
	char ssh[PATH_MAX], sdp[PATH_MAX];
	FILE *fp, *saved;
	char *out = NULL;
	size_t outlen = 0;

	setup(&x);
	ck_assert_int_eq(qq_file_write_atomic(x.prog, "#!/bin/sh\necho hi\n", 18, 0755, &e), 0);
	x.o.stage.program = x.prog;
	x.o.dry_run = 1;
	x.s.opt[QQ_SET_SSH_PORT] = "0";
	/* A dry run fails where the real run would: here, no QNX SDP for mkqnximage. */
	snprintf(sdp, sizeof(sdp), "%s/no-sdp", x.dir);
	x.s.opt[QQ_SET_QNX_ROOT] = sdp;
	unsetenv("QNX_HOST");
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "mkimage: unable to find the QNX SDP"));
	ck_assert_int_eq(stat(x.ws, &st), -1);
	/* With the stand-in SDP it succeeds. The argv goes to stdout: catch it. */
	snprintf(sdp, sizeof(sdp), "%s/tests/sdp", getenv("QQ_SRCDIR"));
	qq_facts_free(&x.f);
	fp = open_memstream(&out, &outlen);
	saved = stdout;
	stdout = fp;
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), 0);
	stdout = saved;
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, "\n-nographic\n"));
	ck_assert_ptr_nonnull(strstr(out, x.ws));
	free(out);
	ck_assert_int_eq(stat(x.ws, &st), -1);
	snprintf(ssh, sizeof(ssh), "%s/.ssh", x.dir);
	ck_assert_int_eq(stat(ssh, &st), -1);
	teardown(&x);
}
END_TEST

START_TEST(test_stop_not_running)
{
	struct fixture x;
	struct qq_err e;

	setup(&x);
	x.o.action = QQ_RUN_STOP;
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), QQ_EXIT_NO);
	ck_assert_ptr_nonnull(strstr(e.msg, "not running"));
	x.o.action = QQ_RUN_CLEAN;
	x.s.opt[QQ_SET_WORKSPACE] = x.dir;	/* no .qq marker: not ours */
	ck_assert_int_eq(qq_run(&x.s, &x.f, &x.o, &e), QQ_EXIT_INPUT);
	ck_assert_msg(strncmp(e.msg, "clean: ", 7) == 0, "message: %s", e.msg);
	teardown(&x);
}
END_TEST

START_TEST(test_options)
{
	struct qq_run_opts o = { .talk = NULL };
	struct qq_err e;

	qq_run_init(&o);
	ck_assert_int_eq(o.stop.powerdown_ms > 0, 1);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_TESTS, "a", &e), 0);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_TESTS, "b", &e), 0);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_TEST, "c", &e), 0);
	ck_assert_uint_eq(o.stage.ntests_dirs, 2);
	ck_assert_str_eq(o.stage.tests_dirs[1], "b");
	ck_assert_str_eq(o.stage.tests[0], "c");
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_WAIT_SSH, NULL, &e), 0);
	ck_assert_int_eq(o.spawn.wait_ssh, -1);
	ck_assert_int_eq(o.cmdline.detach && o.spawn.detach, 1);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_WAIT_SSH, "30", &e), 0);
	ck_assert_int_eq(o.spawn.wait_ssh, 30);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_WAIT_SSH, "0", &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_POWERDOWN, "250", &e), 0);
	ck_assert_int_eq(o.stop.powerdown_ms, 250);
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_TERM, "soon", &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad --term-timeout \"soon\""));
	ck_assert_int_eq(qq_run_option(&o, '?', NULL, &e), QQ_EXIT_USAGE);
	ck_assert_int_eq(qq_run_operand(&o, "stop", &e), 0);
	ck_assert_int_eq(o.action, QQ_RUN_STOP);
	ck_assert_int_eq(qq_run_operand(&o, "clean", &e), 0);
	ck_assert_int_eq(o.action, QQ_RUN_CLEAN);
	ck_assert_int_eq(qq_run_operand(&o, "./stop", &e), 0);
	ck_assert_int_eq(o.action, QQ_RUN_START);
	ck_assert_str_eq(o.stage.program, "./stop");
	ck_assert_int_eq(qq_run_option(&o, QQ_RUN_OPT_CLEAN, NULL, &e), 0);
	ck_assert_int_eq(qq_run_operand(&o, "stop", &e), 0);
	ck_assert_int_eq(o.action, QQ_RUN_CLEAN);
	ck_assert_int_eq(qq_run_operand(&o, "bin/hello", &e), QQ_EXIT_USAGE);
	qq_run_free(&o);
	ck_assert_ptr_null(o.stage.tests);
}
END_TEST

/* "ssh" with options on either side of it; the guest command keeps its own options. */
START_TEST(test_ssh_word)
{
	static const struct option opts[] = {
		{ "workspace", 1, NULL, 'W' }, { NULL, 0, NULL, 0 }
	};
	char a0[] = "qq-run", a1[] = "ssh", a2[] = "--workspace", a3[] = "w s", a4[] = "ls",
	    a5[] = "-l";
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	struct qq_run_opts o;
	struct qq_err e;
	int argc = 6, ch, seen = 0;

	ck_assert_int_eq(qq_run_ssh_word(&argc, argv, "+v", opts), 1);
	ck_assert_int_eq(argc, 5);
	while ((ch = getopt_long(argc, argv, "+v", opts, NULL)) != -1)
		seen += ch == 'W' && strcmp(optarg, "w s") == 0;
	ck_assert_int_eq(seen, 1);
	qq_run_init(&o);
	ck_assert_int_eq(qq_run_operands(&o, 1, argc, argv, &e), 0);
	ck_assert_int_eq(o.action, QQ_RUN_SSH);
	ck_assert_str_eq(o.ssh_cmd[0], "ls");
	ck_assert_str_eq(o.ssh_cmd[1], "-l");
	ck_assert_ptr_null(o.ssh_cmd[2]);
	ck_assert_int_eq(qq_run_prints_facts(&o), 1);
	qq_run_free(&o);
	/* Without "ssh": at most one operand. */
	argc = 3;
	argv[1] = a4;
	argv[2] = a5;
	argv[3] = NULL;
	ck_assert_int_eq(qq_run_ssh_word(&argc, argv, "+", opts), 0);
	optind = 1;
	qq_run_init(&o);
	ck_assert_int_eq(qq_run_operands(&o, 0, argc, argv, &e), QQ_EXIT_USAGE);
	qq_run_free(&o);
}
END_TEST

Suite *
suite_run(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bad_setting_first);
	tcase_add_test(tc, test_step_prefix);
	tcase_add_test(tc, test_dry_run_writes_nothing);
	tcase_add_test(tc, test_stop_not_running);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_ssh_word);
	suite_add_tcase(s, tc);
	return s;
}
