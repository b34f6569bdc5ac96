/* check_vm.c: pidfile lock holders, liveness, port checks, the short QMP directory. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_holder)
{
	char *dir = test_tmpdir(), path[PATH_MAX], c;
	struct flock fl;
	int fds[2], fd, st;
	pid_t pid, sub, inner;

	snprintf(path, sizeof(path), "%s/qemu.pid", dir);
	ck_assert_int_eq(qq_vm_holder(path), 0);	/* no file */
	ck_assert_int_eq(qq_vm_held(path, NULL), 0);
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		/* As QEMU does: lockf(3) on the pidfile, then the pid in it. */
		fd = open(path, O_RDWR | O_CREAT, 0644);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		if (fd == -1 || fcntl(fd, F_SETLK, &fl) == -1)
			_exit(1);
		dprintf(fd, "%ld\n", (long)getpid());
		(void)write(fds[1], "L", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	ck_assert_int_eq(qq_vm_holder(path), pid);
	ck_assert_int_eq(qq_vm_held(path, NULL), 1);
	ck_assert_int_eq(qq_vm_pidfile_read(path), pid);
	/*
	 * Seen from a new PID namespace (Bazel's linux-sandbox runs each test in
	 * one): the lock is still held, its holder's pid reads as 0. Where no
	 * namespace can be made (no privilege, no user namespaces), nothing to see.
	 */
	if ((sub = fork()) == 0) {
		if (unshare(CLONE_NEWPID) == -1 && unshare(CLONE_NEWUSER | CLONE_NEWPID) == -1)
			_exit(77);
		if ((inner = fork()) == 0)
			_exit(qq_vm_held(path, NULL) == 1 && qq_vm_holder(path) == 0 ? 0 : 1);
		if (inner == -1 || waitpid(inner, &st, 0) != inner || !WIFEXITED(st))
			_exit(2);
		_exit(WEXITSTATUS(st));
	}
	ck_assert_int_ne(sub, -1);
	ck_assert_int_eq(waitpid(sub, &st, 0), sub);
	ck_assert(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77));
	ck_assert_int_eq(qq_vm_alive(pid), 1);
	ck_assert_int_eq(qq_vm_is_qemu(pid, NULL, 0), 0);
	kill(pid, SIGKILL);
	/* Unreaped, the child is a zombie: not alive, and its lock is gone. */
	ck_assert_int_eq(qq_vm_wait_gone(pid, qq_vm_pidfd(pid), 2000), 0);
	ck_assert_int_eq(qq_vm_alive(pid), 0);
	ck_assert_int_eq(qq_vm_holder(path), 0);
	ck_assert_int_eq(qq_vm_held(path, NULL), 0);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pidfile_read)
{
	static const char *const bad[] = { "", "abc\n", "0\n", "-5\n", "99999999999\n" };
	char *dir = test_tmpdir(), path[PATH_MAX];
	struct qq_err e;
	size_t i;

	snprintf(path, sizeof(path), "%s/qemu.pid", dir);
	ck_assert_int_eq(qq_vm_pidfile_read(path), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(qq_file_write_atomic(path, bad[i], strlen(bad[i]), 0644, &e), 0);
		ck_assert_int_eq(qq_vm_pidfile_read(path), -1);
	}
	ck_assert_int_eq(qq_file_write_atomic(path, "123\n", 4, 0644, &e), 0);
	ck_assert_int_eq(qq_vm_pidfile_read(path), 123);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_wait_gone_timeout)
{
	pid_t pid;
	long long t0;

	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	t0 = qq_vm_now_ms();
	ck_assert_int_eq(qq_vm_wait_gone(pid, -1, 100), -1);	/* no pidfd: polls */
	ck_assert_int_ge(qq_vm_now_ms() - t0, 100);
	kill(pid, SIGKILL);
	ck_assert_int_eq(qq_vm_wait_gone(pid, -1, 2000), 0);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char who[128];
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	ck_assert_int_eq(qq_vm_port_busy(port), 1);
	ck_assert_int_eq(qq_vm_port_holder(port, who, sizeof(who)), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "pid %ld (", (long)getpid());
		ck_assert_ptr_nonnull(strstr(who, want));
	}
	close(fd);
	ck_assert_int_eq(qq_vm_port_busy(port), 0);
}
END_TEST

START_TEST(test_qmp_dir)
{
	char *dir = test_tmpdir(), d[64], ws[PATH_MAX], out[PATH_MAX], link[PATH_MAX + 16];
	struct qq_err e;

	/* sha256("/w") = 5b0d9d4c...: the first 16 hex digits name the directory. */
	ck_assert_int_eq(qq_vm_qmp_dir("/w", d, sizeof(d)), 0);
	ck_assert_int_eq(strlen(d), strlen("/tmp/qq-") + 16);
	ck_assert_int_eq(strncmp(d, "/tmp/qq-", 8), 0);
	ck_assert_int_eq(qq_vm_qmp_dir("/w2", out, sizeof(out)), 0);
	ck_assert_str_ne(d, out);
	/* A workspace without a socket; with one; with a link to its short directory. */
	snprintf(ws, sizeof(ws), "%s", dir);
	ck_assert_int_eq(qq_vm_qmp_path(ws, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "");
	snprintf(link, sizeof(link), "%s/qmp.sock", ws);
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	ck_assert_int_eq(qq_vm_qmp_path(ws, out, sizeof(out), &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "expected /tmp/qq-"));
	unlink(link);
	ck_assert_int_eq(qq_vm_qmp_dir(ws, d, sizeof(d)), 0);
	strlcat(d, "/qmp.sock", sizeof(d));
	ck_assert_int_eq(symlink(d, link), 0);
	ck_assert_int_eq(qq_vm_qmp_path(ws, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, d);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_dir_private)
{
	char *dir = test_tmpdir(), p[PATH_MAX];
	struct qq_err e;
	struct stat st;

	snprintf(p, sizeof(p), "%s/short", dir);
	ck_assert_int_eq(qq_vm_dir_private(p, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(qq_vm_dir_private(p, &e), 0);	/* ours already */
	ck_assert_int_eq(chmod(p, 0777), 0);
	ck_assert_int_eq(qq_vm_dir_private(p, &e), QQ_EXIT_RUNTIME);
	ck_assert_int_eq(chmod(p, 0720), 0);
	ck_assert_int_eq(qq_vm_dir_private(p, &e), QQ_EXIT_RUNTIME);
	rmdir(p);
	ck_assert_int_eq(symlink(dir, p), 0);		/* a link is not a directory of ours */
	ck_assert_int_eq(qq_vm_dir_private(p, &e), QQ_EXIT_RUNTIME);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_vm(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_holder);
	tcase_add_test(tc, test_pidfile_read);
	tcase_add_test(tc, test_wait_gone_timeout);
	tcase_add_test(tc, test_port);
	tcase_add_test(tc, test_qmp_dir);
	tcase_add_test(tc, test_dir_private);
	suite_add_tcase(s, tc);
	return s;
}
