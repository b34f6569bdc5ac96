/* check_guest_run.c: the guest command and its protocol, run by a stand-in ssh that executes it with the local sh. */
#include "config.h"

#include <sys/stat.h>

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

/*
 * The stand-in: ssh(1) hands its last argument to the remote user's shell
 * ("sh -c"); here that shell is the local one. "-O" mux commands succeed.
 * With lost set, it fails as ssh does when the connection is gone (255,
 * a message on stderr, no command run).
 */
static const char fake_ssh[] =
    "#!/bin/sh\n"
    "for a; do last=$a; done\n"
    "case \" $* \" in *\" -O \"*) exit 0 ;; esac\n"
    "[ -e \"${0%/*}/lost\" ] && { echo 'Connection closed by 127.0.0.1 port 2222' >&2; exit 255; }\n"
    "[ -e \"${0%/*}/leader\" ] && exec setsid sh -c \"$last\"\n"
    "exec sh -c \"$last\"\n";

static char *dir;
static struct qq_guest_conn conn;

static void
setup(void)
{
	char path[PATH_MAX * 2];

	test_env_save();
	dir = test_tmpdir();
	test_puts(dir, "ssh", fake_ssh, 0755);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	memset(&conn, 0, sizeof(conn));
	strlcpy(conn.g.ws, dir, sizeof(conn.g.ws));
	snprintf(conn.g.known_hosts, sizeof(conn.g.known_hosts), "%s/known_hosts", dir);
	conn.g.port = 2222;
	snprintf(conn.ctl, sizeof(conn.ctl), "%s/ssh.ctl", dir);
}

static void
teardown(void)
{
	test_env_restore();
	test_rmtree(dir);
	free(dir);
}

/* Runs argv through the stand-in; the output files' contents in out and err (static). */
static int
run(char *const argv[], struct qq_guest_job *j, char **out, char **err)
{
	static char *o, *e2;
	char po[PATH_MAX], pe[PATH_MAX];
	struct qq_err e;
	size_t len;
	int fo, fe, rc;

	snprintf(po, sizeof(po), "%s/o", dir);
	snprintf(pe, sizeof(pe), "%s/e", dir);
	ck_assert_int_ne(fo = open(po, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_ne(fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(qq_guest_job_start(&conn, argv, -1, fo, fe, j, &e), 0);
	rc = qq_guest_job_wait(j, &e);
	close(fo);
	close(fe);
	free(o);
	free(e2);
	ck_assert_int_eq(qq_file_read(po, 1 << 24, &o, &len, &e), 0);
	ck_assert_int_eq(qq_file_read(pe, 1 << 24, &e2, &len, &e), 0);
	*out = o;
	*err = e2;
	return rc;
}

START_TEST(test_status_and_output)
{
	char *a1[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	char *a2[] = { "sh", "-c", "printf '%s\\n' \"$1\"", "x", "it's a 'quoted' $HOME \\", NULL };
	char *a3[] = { "sh", "-c", "printf 'no newline' >&2; exit 255", NULL };
	char *a4[] = { "sh", "-c", "cat; echo \"stdin gave $?\"", NULL };
	struct qq_guest_job j;
	char *out, *err;

	ck_assert_int_eq(run(a1, &j, &out, &err), 0);
	ck_assert_int_eq(j.status, 3);
	ck_assert_str_eq(out, "out\n");
	ck_assert_str_eq(err, "err\n");	/* the group and status lines are gone */
	ck_assert(j.pgid > 1);
	ck_assert_int_eq(run(a2, &j, &out, &err), 0);
	ck_assert_str_eq(out, "it's a 'quoted' $HOME \\\n");
	ck_assert_int_eq(j.status, 0);
	/* 255 from the command is the command's, not a lost connection. */
	ck_assert_int_eq(run(a3, &j, &out, &err), 0);
	ck_assert_int_eq(j.status, 255);
	ck_assert_str_eq(err, "no newline");
	ck_assert_int_eq(run(a4, &j, &out, &err), 0);
	ck_assert_str_eq(out, "stdin gave 0\n");
}
END_TEST

START_TEST(test_signal)
{
	char *a[] = { "sh", "-c", "echo before >&2; kill -SEGV $$", NULL };
	struct qq_guest_job j;
	char *out, *err;

	ck_assert_int_eq(run(a, &j, &out, &err), 0);
	ck_assert_int_eq(j.status, 128 + SIGSEGV);
	ck_assert_str_eq(j.signame, "SEGV");
	ck_assert_ptr_nonnull(strstr(err, "before\n"));
	ck_assert_ptr_null(strstr(err, j.token));
}
END_TEST

START_TEST(test_big_stderr)
{
	/* 2 MB through the pipe, passed on whole; the last bytes are not taken for a status. */
	char *a[] = { "sh", "-c", "i=0; while [ $i -lt 2048 ]; do printf '%01023d\\n' $i >&2; "
	    "i=$((i + 1)); done", NULL };
	struct qq_guest_job j;
	char *out, *err;

	ck_assert_int_eq(run(a, &j, &out, &err), 0);
	ck_assert_int_eq(j.status, 0);
	ck_assert_uint_eq(strlen(err), 2048 * 1024);
	ck_assert(strncmp(err + 2047 * 1024, "0000", 4) == 0);
}
END_TEST

START_TEST(test_stderr_streams)
{
	/* A line of stderr is passed on while the command still runs, not at its end. */
	char *a[] = { "sh", "-c", "echo step1 >&2; sleep 30", NULL };
	char pe[PATH_MAX], *err = NULL;
	struct qq_guest_job j;
	struct pollfd p;
	struct qq_err e;
	size_t len = 0;
	int fe, seen = 0;

	snprintf(pe, sizeof(pe), "%s/e", dir);
	ck_assert_int_ne(fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(qq_guest_job_start(&conn, a, -1, fe, fe, &j, &e), 0);
	while (!seen && j.errfd != -1) {
		p.fd = j.errfd;
		p.events = POLLIN;
		ck_assert_int_eq(poll(&p, 1, 20000), 1);
		(void)qq_guest_job_read(&j);
		free(err);
		err = NULL;
		ck_assert_int_eq(qq_file_read(pe, 1 << 20, &err, &len, &e), 0);
		seen = strncmp(err, "step1", 5) == 0;
	}
	ck_assert_msg(seen, "stderr held back: \"%s\"", err);
	ck_assert_int_ne(j.errfd, -1);	/* still running */
	ck_assert_int_eq(qq_guest_job_kill(&conn, &j, &e), 0);
	(void)qq_guest_job_wait(&j, &e);
	free(err);
	close(fe);
}
END_TEST

START_TEST(test_lost)
{
	char *a[] = { "true", NULL };
	struct qq_guest_job j;
	struct qq_err e;
	char *out, *err;

	test_puts(dir, "lost", "", 0644);
	ck_assert_int_eq(run(a, &j, &out, &err), QQ_EXIT_RUNTIME);
	ck_assert_int_eq(j.status, -1);
	/* ssh's own words stay in the kept stderr. */
	ck_assert_str_eq(err, "Connection closed by 127.0.0.1 port 2222\n");
	(void)e;
}
END_TEST

START_TEST(test_kill_group)
{
	char *a[] = { "sh", "-c", "sleep 1000 & echo started; sleep 1000", NULL };
	char po[PATH_MAX];
	struct qq_guest_job j;
	struct pollfd p;
	struct qq_err e;
	int fo, fe;

	snprintf(po, sizeof(po), "%s/o", dir);
	ck_assert_int_ne(fo = open(po, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -1);
	ck_assert_int_ne(fe = open("/dev/null", O_WRONLY | O_CLOEXEC), -1);
	ck_assert_int_eq(qq_guest_job_start(&conn, a, -1, fo, fe, &j, &e), 0);
	/* The group line comes first. */
	while (j.pgid == 0) {
		p.fd = j.errfd;
		p.events = POLLIN;
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_int_eq(qq_guest_job_read(&j), 1);
	}
	ck_assert_int_eq(kill(-(pid_t)j.pgid, 0), 0);
	ck_assert_int_eq(qq_guest_job_kill(&conn, &j, &e), 0);
	ck_assert_int_eq(qq_guest_job_wait(&j, &e), QQ_EXIT_RUNTIME);	/* killed before its status */
	/* Both sleeps are gone with their group (once their new parent has reaped them). */
	for (int i = 0; i < 1000 && kill(-(pid_t)j.pgid, 0) == 0; i++)
		usleep(10000);
	ck_assert_int_eq(kill(-(pid_t)j.pgid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	close(fo);
	close(fe);
}
END_TEST

START_TEST(test_script_quoting)
{
	char *a[] = { "/data/home/root/tests/it's", NULL }, *s;
	struct qq_err e;

	ck_assert_int_eq(qq_guest_script("qq-0123", a, 1, &s, &e), 0);
	ck_assert_ptr_nonnull(strstr(s, "'/data/home/root/tests/it'\\''s'"));
	ck_assert_ptr_nonnull(strstr(s, "exec setsid sh -c "));
	ck_assert_ptr_nonnull(strstr(s, "set -m"));
	ck_assert_ptr_nonnull(strstr(s, "</dev/null"));
	free(s);
	ck_assert_int_eq(qq_guest_script("qq-0123", a, 0, &s, &e), 0);
	ck_assert_ptr_null(strstr(s, "</dev/null"));
	free(s);
}
END_TEST

/*
 * The guest command under the shells a guest may have: busybox ash (the
 * Linux test guest's), pdksh's descendant mksh (QNX's ksh is pdksh) and
 * dash; both as OpenSSH starts it (a session leader: "leader") and as
 * dropbear does (in the group of the connection's process). The shell
 * under test is the fake ssh's "sh" and every "sh" after it (PATH).
 */
START_TEST(test_shells)
{
	static const char *const shells[] = { "/usr/bin/busybox", "/usr/bin/mksh", "/bin/mksh",
	    "/bin/dash" };
	char *segv[] = { "sh", "-c", "echo before >&2; kill -SEGV $$", NULL };
	char *intr[] = { "sh", "-c", "kill -INT $$; echo survived", NULL };
	char *plain[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	char link[PATH_MAX], lead[PATH_MAX];
	struct qq_guest_job j;
	char *out, *err;
	int k, leader, tried = 0;

	snprintf(link, sizeof(link), "%s/sh", dir);
	snprintf(lead, sizeof(lead), "%s/leader", dir);
	for (k = 0; k < 4; k++) {
		if (access(shells[k], X_OK) != 0)
			continue;
		tried++;
		unlink(link);
		ck_assert_int_eq(symlink(shells[k], link), 0);
		for (leader = 0; leader < 2; leader++) {
			if (leader)
				test_puts(dir, "leader", "", 0644);
			else
				unlink(lead);
			ck_assert_msg(run(plain, &j, &out, &err) == 0, "%s", shells[k]);
			ck_assert_int_eq(j.status, 3);
			ck_assert_str_eq(out, "out\n");
			ck_assert_msg(strcmp(err, "err\n") == 0, "%s leader=%d: stderr \"%s\"",
			    shells[k], leader, err);
			/* The waiting shell's report of the signal is not the command's stderr. */
			ck_assert_int_eq(run(segv, &j, &out, &err), 0);
			ck_assert_int_eq(j.status, 128 + SIGSEGV);
			ck_assert_str_eq(j.signame, "SEGV");
			ck_assert_msg(strcmp(err, "before\n") == 0, "%s leader=%d: stderr \"%s\"",
			    shells[k], leader, err);
			/* SIGINT is not ignored: the command dies of it, as it would anywhere. */
			ck_assert_int_eq(run(intr, &j, &out, &err), 0);
			ck_assert_msg(j.status == 128 + SIGINT, "%s leader=%d: status %d, out \"%s\"",
			    shells[k], leader, j.status, out);
			ck_assert_str_eq(out, "");
		}
	}
	ck_assert_int_gt(tried, 0);
}
END_TEST

START_TEST(test_ctl_path)
{
	char out[QQ_VALUE_MAX], ws[300];
	struct qq_err e;

	ck_assert_int_eq(qq_guest_ctl_path("/short/ws", out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, "/short/ws/ssh.ctl");
	/* Too long for sun_path with ssh's temporary suffix: the short private directory. */
	memset(ws, 'w', sizeof(ws));
	ws[0] = '/';
	ws[100] = '\0';
	ck_assert_int_eq(qq_guest_ctl_path(ws, out, sizeof(out), &e), 0);
	ck_assert(strncmp(out, "/tmp/qq-", 8) == 0);
	ck_assert(strlen(out) + 17 <= QQ_SUN_PATH_MAX);
	*strrchr(out, '/') = '\0';
	ck_assert_int_eq(rmdir(out), 0);
	/* A path ssh_config would split or expand: the short directory too. */
	ck_assert_int_eq(qq_guest_ctl_path("/with space/ws", out, sizeof(out), &e), 0);
	ck_assert(strncmp(out, "/tmp/qq-", 8) == 0);
	*strrchr(out, '/') = '\0';
	ck_assert_int_eq(rmdir(out), 0);
	ck_assert_int_eq(qq_guest_ctl_path("/50%/ws", out, sizeof(out), &e), 0);
	ck_assert(strncmp(out, "/tmp/qq-", 8) == 0);
	*strrchr(out, '/') = '\0';
	ck_assert_int_eq(rmdir(out), 0);
}
END_TEST

Suite *
suite_guest_run(void)
{
	Suite *s = suite_create("guest_run");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_status_and_output);
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_big_stderr);
	tcase_add_test(tc, test_stderr_streams);
	tcase_add_test(tc, test_lost);
	tcase_add_test(tc, test_kill_group);
	tcase_add_test(tc, test_script_quoting);
	tcase_add_test(tc, test_shells);
	tcase_add_test(tc, test_ctl_path);
	suite_add_tcase(s, tc);
	return s;
}
