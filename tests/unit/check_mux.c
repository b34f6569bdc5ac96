/* check_mux.c: the ControlMaster client against a stand-in master, and guest jobs run through it. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

static char *dir;
static char ctl[PATH_MAX];
static pid_t master;
static struct qq_guest_conn conn;

static void
setup(void)
{
	test_env_save();
	dir = test_tmpdir();
	snprintf(ctl, sizeof(ctl), "%s/ssh.ctl", dir);
	master = -1;
	memset(&conn, 0, sizeof(conn));
	strlcpy(conn.g.ws, dir, sizeof(conn.g.ws));
	strlcpy(conn.ctl, ctl, sizeof(conn.ctl));
	conn.g.port = 2222;
	/* No ssh may run: a job must go through the master's socket. */
	setenv("PATH", "/nonexistent", 1);
}

static void
teardown(void)
{
	fakemux_stop(master);
	test_env_restore();
	test_rmtree(dir);
	free(dir);
}

/* What was written to path (qq_file_read; valid until the next call). */
static const char *
slurp(const char *path)
{
	static char *buf;
	struct qq_err e;
	size_t len;

	free(buf);
	buf = NULL;
	ck_assert_int_eq(qq_file_read(path, 1 << 20, &buf, &len, &e), 0);
	return buf;
}

START_TEST(test_no_master)
{
	struct qq_err e;
	int fd;

	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), QQ_EXIT_NO);
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ctl));
}
END_TEST

START_TEST(test_not_a_master)
{
	struct sockaddr_un sa;
	struct qq_err e;
	int s, c, fd;
	pid_t pid;

	/* Something else listens there and says something that is no hello. */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strlcpy(sa.sun_path, ctl, sizeof(sa.sun_path));
	ck_assert_int_ne(s = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 1), 0);
	if ((pid = fork()) == 0) {
		c = accept(s, NULL, NULL);
		(void)!write(c, "\0\0\0\x08\0\0\0\x01\0\0\0\x03", 12);	/* hello, version 3 */
		sleep(5);
		_exit(0);
	}
	close(s);
	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "version 3"));
	kill(pid, SIGKILL);
}
END_TEST

START_TEST(test_alive_and_session)
{
	char po[PATH_MAX], pe[PATH_MAX];
	struct qq_err e;
	unsigned sid;
	long pid = 0;
	int fd, fds[3], st;

	ck_assert_int_gt(master = fakemux_start(ctl, 0), 0);
	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), 0);
	ck_assert_int_eq(qq_mux_alive(fd, &pid, &e), 0);
	ck_assert_int_eq(pid, master);
	close(fd);

	snprintf(po, sizeof(po), "%s/o", dir);
	snprintf(pe, sizeof(pe), "%s/e", dir);
	ck_assert_int_ne(fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC), -1);
	ck_assert_int_ne(fds[1] = open(po, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	ck_assert_int_ne(fds[2] = open(pe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), 0);
	ck_assert_int_eq(qq_mux_session(fd, "echo out; echo err >&2; exit 7", fds, &sid, &e), 0);
	ck_assert_int_eq(qq_mux_wait(fd, sid, &st), 7);
	ck_assert_int_eq(st, 7);
	close(fd);
	ck_assert_str_eq(slurp(po), "out\n");
	ck_assert_str_eq(slurp(pe), "err\n");

	/* A death by a signal brings no exit message. */
	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), 0);
	ck_assert_int_eq(qq_mux_session(fd, "kill -KILL $$", fds, &sid, &e), 0);
	ck_assert_int_eq(qq_mux_wait(fd, sid, &st), -1);
	close(fd);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}
END_TEST

START_TEST(test_refused)
{
	struct qq_err e;
	unsigned sid;
	int fd, fds[3];

	ck_assert_int_gt(master = fakemux_start(ctl, 1), 0);
	ck_assert_int_ne(fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC), -1);
	fds[1] = fds[2] = fds[0];
	ck_assert_int_eq(qq_mux_open(ctl, &fd, &e), 0);
	ck_assert_int_eq(qq_mux_session(fd, "true", fds, &sid, &e), QQ_MUX_REFUSED);
	ck_assert_ptr_nonnull(strstr(e.msg, "Session open refused by peer"));
	close(fd);
	close(fds[0]);
}
END_TEST

/* A guest job through the master: output, status, signal name, the protocol lines gone. */
static void
job(char *const argv[], int refuse, int want_rc, int want_status, const char *want_out)
{
	char po[PATH_MAX], pe[PATH_MAX];
	struct qq_guest_job j;
	struct qq_err e;
	int fo, fe;

	/* The stand-in master's sh gets a PATH; qq gets none that finds an ssh. */
	setenv("PATH", "/usr/bin:/bin", 1);
	ck_assert_int_gt(master = fakemux_start(ctl, refuse), 0);
	setenv("PATH", "/nonexistent", 1);
	snprintf(po, sizeof(po), "%s/o", dir);
	snprintf(pe, sizeof(pe), "%s/e", dir);
	ck_assert_int_ne(fo = open(po, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_ne(fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(qq_guest_job_start(&conn, argv, -1, fo, fe, &j, &e), want_rc);
	if (want_rc != 0) {
		ck_assert_int_eq(j.refused, 1);
		close(fo);
		close(fe);
		return;
	}
	ck_assert_int_eq(j.pid, 0);	/* no ssh client */
	ck_assert_int_eq(qq_guest_job_wait(&j, &e), 0);
	close(fo);
	close(fe);
	ck_assert_int_eq(j.status, want_status);
	ck_assert_str_eq(slurp(po), want_out);
	ck_assert_ptr_null(strstr(slurp(pe), j.token));
}

START_TEST(test_job_through_master)
{
	char *a[] = { "sh", "-c", "echo \"$1\"; echo err >&2; exit 3", "x", "it's $HOME", NULL };
	char *b[] = { "sh", "-c", "kill -SEGV $$", NULL };

	job(a, 0, 0, 3, "it's $HOME\n");
	fakemux_stop(master);
	unlink(ctl);
	job(b, 0, 0, 128 + SIGSEGV, "");
}
END_TEST

START_TEST(test_job_refusals)
{
	char *a[] = { "echo", "ran once", NULL };

	/* Two refusals ran nothing: the third try runs it, once. */
	job(a, 2, 0, 0, "ran once\n");
	fakemux_stop(master);
	unlink(ctl);
	/* Refused every time: an error, after ten tries. */
	job(a, 1000, QQ_EXIT_RUNTIME, -1, NULL);
}
END_TEST

START_TEST(test_job_master_dies)
{
	/* The status line came, but the master died with the session: nothing counts. */
	char *a[] = { "sh", "-c", "echo out; : QQ_FAKEMUX_DIE; exit 0", NULL };
	char po[PATH_MAX];
	struct qq_guest_job j;
	struct qq_err e;
	int fo;

	setenv("PATH", "/usr/bin:/bin", 1);
	ck_assert_int_gt(master = fakemux_start(ctl, 0), 0);
	setenv("PATH", "/nonexistent", 1);
	snprintf(po, sizeof(po), "%s/o", dir);
	ck_assert_int_ne(fo = open(po, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(qq_guest_job_start(&conn, a, -1, fo, fo, &j, &e), 0);
	ck_assert_int_eq(j.master_pid, master);
	ck_assert_int_eq(qq_guest_job_wait(&j, &e), QQ_EXIT_RUNTIME);
	ck_assert_int_eq(j.status, -1);
	ck_assert_int_eq(j.lost, 1);
	ck_assert_ptr_nonnull(strstr(e.msg, "lost during the command"));
	close(fo);
}
END_TEST

Suite *
suite_mux(void)
{
	Suite *s = suite_create("mux");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_no_master);
	tcase_add_test(tc, test_not_a_master);
	tcase_add_test(tc, test_alive_and_session);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_job_through_master);
	tcase_add_test(tc, test_job_refusals);
	tcase_add_test(tc, test_job_master_dies);
	suite_add_tcase(s, tc);
	return s;
}
