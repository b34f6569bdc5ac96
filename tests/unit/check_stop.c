/* check_stop.c: stale and foreign pidfiles, and clean's refusals and link safety (no QEMU needed). */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_not_running)
{
	char *dir = test_tmpdir(), pidfile[PATH_MAX], buf[32];
	struct qq_stop_opts o;
	enum qq_stop_step by;
	struct qq_err e;
	pid_t pid;

	qq_stop_defaults(&o);
	snprintf(pidfile, sizeof(pidfile), "%s/qemu.pid", dir);
	ck_assert_int_eq(qq_stop_vm(pidfile, NULL, &o, &by, &e), QQ_EXIT_NO);
	ck_assert_ptr_nonnull(strstr(e.msg, "not running (no "));
	/* A live process named by an unlocked pidfile is not signalled; the file goes. */
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	ck_assert_int_eq(qq_file_write_atomic(pidfile, buf, strlen(buf), 0644, &e), 0);
	ck_assert_int_eq(qq_stop_vm(pidfile, "", &o, &by, &e), QQ_EXIT_NO);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not our QEMU"));
	ck_assert_int_eq(access(pidfile, F_OK), -1);
	ck_assert_int_eq(qq_vm_alive(pid), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_clean)
{
	char *dir = test_tmpdir(), ws[PATH_MAX], p[PATH_MAX + 64], keep[PATH_MAX];
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_stop_opts o;
	struct qq_ws w;
	struct qq_err e;

	qq_stop_defaults(&o);
	snprintf(ws, sizeof(ws), "%s/ws", dir);
	snprintf(keep, sizeof(keep), "%s/keep", dir);
	ck_assert_int_eq(qq_file_write_atomic(keep, "k", 1, 0644, &e), 0);
	ck_assert_int_eq(qq_ws_open(&w, ws, 1, &e), 0);
	snprintf(p, sizeof(p), "%s/output/deep/er", ws);
	ck_assert_int_eq(qq_file_mkdirs(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/output/deep/er/f", ws);
	ck_assert_int_eq(qq_file_write_atomic(p, "x", 1, 0644, &e), 0);
	snprintf(p, sizeof(p), "%s/output/up", ws);
	ck_assert_int_eq(symlink(dir, p), 0);
	snprintf(p, sizeof(p), "%s/filelink", ws);
	ck_assert_int_eq(symlink(keep, p), 0);
	ck_assert_int_eq(qq_stop_clean(ws, &o, &f, &e), 0);
	ck_assert_str_eq(qq_facts_get(&f, "cleaned"), ws);
	ck_assert_ptr_null(qq_facts_get(&f, "stopped_by"));
	ck_assert_int_eq(access(ws, F_OK), -1);
	ck_assert_int_eq(access(keep, F_OK), 0);
	/* Again: nothing to do. */
	ck_assert_int_eq(qq_stop_clean(ws, &o, &f, &e), 0);
	qq_facts_free(&f);
	/* Not ours: no marker. A file. A link to a workspace. */
	ck_assert_int_eq(qq_stop_clean(dir, &o, &f, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not a qq workspace"));
	ck_assert_int_eq(qq_stop_clean(keep, &o, &f, &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(access(keep, F_OK), 0);
	ck_assert_int_eq(qq_ws_open(&w, ws, 1, &e), 0);
	snprintf(p, sizeof(p), "%s/alias", dir);
	ck_assert_int_eq(symlink(ws, p), 0);
	ck_assert_int_eq(qq_stop_clean(p, &o, &f, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link"));
	ck_assert_int_eq(access(ws, F_OK), 0);
	qq_facts_free(&f);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_clean_busy)
{
	char *dir = test_tmpdir();
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_stop_opts o;
	struct qq_ws w, w2;
	struct qq_err e;
	int locked[2], release[2];
	char c;
	pid_t pid;

	/* Another step holds the workspace lock: clean waits for nobody and deletes nothing. */
	qq_stop_defaults(&o);
	ck_assert_int_eq(qq_ws_open(&w, dir, 1, &e), 0);
	ck_assert_int_eq(qq_ws_open(&w2, dir, 0, &e), 0);
	ck_assert_int_eq(pipe(locked), 0);
	ck_assert_int_eq(pipe(release), 0);
	if ((pid = fork()) == 0) {
		/* Holds the lock until the test closes release (or dies). */
		close(locked[0]);
		close(release[1]);
		if (qq_ws_lock(&w2, &e) != 0 || write(locked[1], "L", 1) != 1)
			_exit(1);
		_exit(read(release[0], &c, 1) == 0 ? 0 : 1);
	}
	close(locked[1]);
	close(release[0]);
	/* The child has the lock once it says so; EOF instead means it failed to take it. */
	ck_assert_int_eq(read(locked[0], &c, 1), 1);
	ck_assert_int_eq(qq_stop_clean(dir, &o, &f, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "is busy"));
	ck_assert_int_eq(access(dir, F_OK), 0);
	close(release[1]);
	close(locked[0]);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	qq_facts_free(&f);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_step_names)
{
	ck_assert_str_eq(qq_stop_step_name(QQ_STOP_POWERDOWN), "powerdown");
	ck_assert_str_eq(qq_stop_step_name(QQ_STOP_QUIT), "quit");
	ck_assert_str_eq(qq_stop_step_name(QQ_STOP_SIGTERM), "sigterm");
	ck_assert_str_eq(qq_stop_step_name(QQ_STOP_SIGKILL), "sigkill");
}
END_TEST

Suite *
suite_stop(void)
{
	Suite *s = suite_create("stop");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_not_running);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_clean_busy);
	tcase_add_test(tc, test_step_names);
	suite_add_tcase(s, tc);
	return s;
}
