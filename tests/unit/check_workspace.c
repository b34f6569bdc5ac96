/* check_workspace.c: creation with marker, refusal of foreign directories, the lock. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_create_and_reopen)
{
	char *dir = test_tmpdir(), path[PATH_MAX], p[PATH_MAX];
	struct qq_ws ws;
	struct qq_err e;
	struct stat st;

	snprintf(path, sizeof(path), "%s/deep/ws", dir);
	ck_assert_int_eq(qq_ws_open(&ws, path, 0, &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_ws_open(&ws, path, 1, &e), 0);
	ck_assert_int_eq(qq_ws_path(&ws, QQ_WS_MARKER, p, sizeof(p), &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(qq_ws_open(&ws, path, 0, &e), 0);
	ck_assert_str_eq(ws.path, path);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_refuses_foreign)
{
	char *dir = test_tmpdir(), path[PATH_MAX];
	struct qq_ws ws;
	struct qq_err e;

	snprintf(path, sizeof(path), "%s/precious", dir);
	ck_assert_int_eq(qq_file_write_atomic(path, "x", 1, 0600, &e), 0);
	/* A non-empty directory without the marker is not ours. */
	ck_assert_int_eq(qq_ws_open(&ws, dir, 1, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not a qq workspace"));
	/* A file is not a directory. */
	ck_assert_int_eq(qq_ws_open(&ws, path, 1, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "Not a directory"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_lock)
{
	char *dir = test_tmpdir();
	struct qq_ws ws, ws2;
	struct qq_err e;
	int fds[2], ws_status;
	char c;
	pid_t pid;

	ck_assert_int_eq(qq_ws_open(&ws, dir, 1, &e), 0);
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		struct qq_ws child;

		if (qq_ws_open(&child, dir, 0, &e) != 0 || qq_ws_lock(&child, &e) != 0)
			_exit(1);
		(void)write(fds[1], "L", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	ck_assert_int_eq(qq_ws_open(&ws2, dir, 0, &e), 0);
	ck_assert_int_eq(qq_ws_lock(&ws2, &e), QQ_EXIT_RUNTIME);
	{
		char want[64];

		snprintf(want, sizeof(want), "locked by pid %ld", (long)pid);
		ck_assert_ptr_nonnull(strstr(e.msg, want));
	}
	kill(pid, SIGKILL);
	waitpid(pid, &ws_status, 0);
	ck_assert_int_eq(qq_ws_lock(&ws2, &e), 0);
	qq_ws_close(&ws2);
	ck_assert_int_eq(ws2.lockfd, -1);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_workspace(void)
{
	Suite *s = suite_create("workspace");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_create_and_reopen);
	tcase_add_test(tc, test_refuses_foreign);
	tcase_add_test(tc, test_lock);
	suite_add_tcase(s, tc);
	return s;
}
