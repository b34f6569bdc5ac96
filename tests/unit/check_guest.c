/* check_guest.c: the ssh argv, the workspace's guest record, the pin, and what ssh's failures mean. */
#include "config.h"

#include <sys/prctl.h>
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

static void
argv_is(char *const got[], const char *const want[])
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		ck_assert_ptr_nonnull(got[i]);
		ck_assert_str_eq(got[i], want[i]);
	}
	ck_assert_ptr_null(got[i]);
}

START_TEST(test_argv)
{
	static const char *const want[] = { "ssh", "-p", "2200", "-o", "IdentityFile=\"/k/my key\"",
	    "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\"/w s/known_hosts\"",
	    "-o", "HostKeyAlias=qq-guest", "-o", "CheckHostIP=no",
	    "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
	    "-o", "ControlPath=/w s/ssh.ctl", "-t", "root@127.0.0.1", "--", "ls", "-l", NULL };
	static const char *const pin[] = { "ssh", "-F", "none", "-p", "1",
	    "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\"/dev/null\"",
	    "-o", "HostKeyAlias=qq-guest", "-o", "CheckHostIP=no",
	    "-o", "StrictHostKeyChecking=accept-new", "-o", "HashKnownHosts=no",
	    "-o", "UpdateHostKeys=no", "-o", "LogLevel=ERROR", "root@127.0.0.1", NULL };
	struct qq_guest_argv a;
	struct qq_guest g;
	struct qq_err e;

	ck_assert_int_eq(qq_guest_set(&g, "/w s", 2200, "/k/my key", &e), 0);
	ck_assert_str_eq(g.known_hosts, "/w s/known_hosts");
	ck_assert_int_eq(qq_guest_argv_init(&a, &g, QQ_GUEST_BATCH, &e), 0);
	/* A caller's own options go between the base and the destination. */
	ck_assert_int_eq(qq_guest_argv_opt(&a, "ControlPath=/w s/ssh.ctl", &e), 0);
	ck_assert_int_eq(qq_guest_argv_add(&a, "-t", &e), 0);
	ck_assert_int_eq(qq_guest_argv_finish(&a, (char *[]){ "ls", "-l", NULL }, &e), 0);
	argv_is(a.argv, want);
	qq_guest_argv_free(&a);

	/* No workspace, no key: nowhere to pin, ssh's own key choice. */
	ck_assert_int_eq(qq_guest_set(&g, "", 1, NULL, &e), 0);
	ck_assert_int_eq(qq_guest_argv_init(&a, &g, QQ_GUEST_PIN | QQ_GUEST_QUIET |
	    QQ_GUEST_NOCONF, &e), 0);
	ck_assert_int_eq(qq_guest_argv_finish(&a, NULL, &e), 0);
	argv_is(a.argv, pin);
	qq_guest_argv_free(&a);

	ck_assert_int_eq(qq_guest_set(&g, "/w", 0, NULL, &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_guest_set(&g, "/w", 65536, NULL, &e), QQ_EXIT_INPUT);
}
END_TEST

/* A stand-in QEMU: holds a POSIX write lock on dir/output/qemu.pid until killed. */
static pid_t
holder(const char *dir)
{
	char path[PATH_MAX], c;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int p[2], fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/output", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/output/qemu.pid", dir);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(path, O_RDWR | O_CREAT, 0644)) == -1 || fcntl(fd, F_SETLK, &fl) == -1)
			_exit(1);
		dprintf(fd, "%ld\n", (long)getpid());
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

START_TEST(test_record_open)
{
	struct qq_guest g;
	struct qq_err e;
	char *d = test_tmpdir(), path[PATH_MAX], *text;
	pid_t pid;

	/* Nothing running: a negative answer naming the workspace. */
	ck_assert_int_eq(qq_guest_open(&g, d, &e), QQ_EXIT_NO);
	ck_assert_ptr_nonnull(strstr(e.msg, "no VM is running in "));
	pid = holder(d);
	/* Running, but not started by qq (no record). */
	ck_assert_int_eq(qq_guest_open(&g, d, &e), QQ_EXIT_INPUT);
	test_puts(d, "image.key", "0123abcd\n", 0644);
	ck_assert_int_eq(qq_guest_record(d, 34567, "/k/id", &e), 0);
	snprintf(path, sizeof(path), "%s/guest", d);
	ck_assert_int_eq(qq_file_read(path, 4096, &text, NULL, &e), 0);
	ck_assert_str_eq(text, "ssh_port=34567\nssh_key=/k/id\nimage=0123abcd\n");
	free(text);
	/* A rebuild since the start does not change what the VM booted. */
	test_puts(d, "image.key", "ffff\n", 0644);
	ck_assert_int_eq(qq_guest_open(&g, d, &e), 0);
	ck_assert_int_eq(g.port, 34567);
	ck_assert_str_eq(g.key, "/k/id");
	ck_assert_str_eq(g.image, "0123abcd");
	ck_assert_int_eq(g.pid, pid);
	snprintf(path, sizeof(path), "%s/known_hosts", d);
	ck_assert_str_eq(g.known_hosts, path);
	/* A malformed record. */
	test_puts(d, "guest", "ssh_port=0\n", 0644);
	ck_assert_int_eq(qq_guest_open(&g, d, &e), QQ_EXIT_INPUT);
	test_puts(d, "guest", "not a fact\n", 0644);
	ck_assert_int_eq(qq_guest_open(&g, d, &e), QQ_EXIT_INPUT);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	test_rmtree(d);
	free(d);
}
END_TEST

#define KEYLINE "qq-guest ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPxGYz3ma0R4bdON1pSbi/9PkzoBbCjTWca7ZfscXIj5\n"

static const struct {
	const char	*before;	/* NULL: no file */
	const char	*image;		/* image.key; NULL: none */
	int		 pinned;
	const char	*after;
} pins[] = {
	{ NULL, NULL, 0, "# qq-image none\n" },
	{ NULL, "beef\n", 0, "# qq-image beef\n" },
	{ "# qq-image beef\n", "beef\n", 0, "# qq-image beef\n" },
	{ "# qq-image beef\n" KEYLINE, "beef\n", 1, "# qq-image beef\n" KEYLINE },
	/* Another image (a rebuild): the pin goes. */
	{ "# qq-image cafe\n" KEYLINE, "beef\n", 0, "# qq-image beef\n" },
	/* Not ours (no header): replaced by a fresh pin, as after a rebuild. */
	{ KEYLINE, "beef\n", 0, "# qq-image beef\n" },
	/* An image.key that is not a digest is no image. */
	{ NULL, "../x\n", 0, "# qq-image none\n" },
};

START_TEST(test_pin_prepare)
{
	struct qq_guest g;
	struct qq_err e;
	char *d = test_tmpdir(), path[PATH_MAX], *text;
	int pinned = -1;

	if (pins[_i].before != NULL)
		test_puts(d, "known_hosts", pins[_i].before, 0600);
	if (pins[_i].image != NULL)
		test_puts(d, "image.key", pins[_i].image, 0644);
	ck_assert_int_eq(qq_guest_set(&g, d, 22, "/k", &e), 0);
	ck_assert_int_eq(qq_guest_pin_prepare(&g, &pinned, &e), 0);
	ck_assert_int_eq(pinned, pins[_i].pinned);
	snprintf(path, sizeof(path), "%s/known_hosts", d);
	ck_assert_int_eq(qq_file_read(path, 4096, &text, NULL, &e), 0);
	ck_assert_str_eq(text, pins[_i].after);
	free(text);
	if (pins[_i].pinned) {
		char fp[128];

		ck_assert_int_eq(qq_guest_pin_fingerprint(&g, fp, sizeof(fp)), 0);
		ck_assert_str_eq(fp, "SHA256:Hud9SYBGkcEtGCJYP4qqlOEK5FQcBBzPJtvSiW9vP2o");
	}
	test_rmtree(d);
	free(d);
}
END_TEST

static const struct {
	const char	*err;
	int		 kind;
	const char	*msg;
} failures[] = {
	{ "kex_exchange_identification: Connection closed by remote host\r\n", 0,
	  "ssh: kex_exchange_identification: Connection closed by remote host" },
	{ "Connection timed out during banner exchange\nConnection to UNKNOWN port 2222 "
	  "timed out\n", 0, "ssh: Connection to UNKNOWN port 2222 timed out" },
	{ "", 0, "ssh: failed without a message" },
	{ "root@127.0.0.1: Permission denied (publickey).\n", 2,
	  "the guest refused the key /k/id" },
	{ "Host key verification failed.\n", 1,
	  "the guest's host key changed but its image did not (image none): pinned (none "
	  "readable), offered (not shown by ssh)" },
};

START_TEST(test_failure)
{
	struct qq_guest g;
	struct qq_err e;
	char *d = test_tmpdir();

	ck_assert_int_eq(qq_guest_set(&g, d, 22, "/k/id", &e), 0);
	ck_assert_int_eq(qq_guest_failure(&g, failures[_i].err, &e), failures[_i].kind);
	ck_assert_msg(strncmp(e.msg, failures[_i].msg, strlen(failures[_i].msg)) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(e.status, QQ_EXIT_RUNTIME);
	test_rmtree(d);
	free(d);
}
END_TEST

Suite *
suite_guest(void)
{
	Suite *s = suite_create("guest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_argv);
	tcase_add_test(tc, test_record_open);
	tcase_add_loop_test(tc, test_pin_prepare, 0, sizeof(pins) / sizeof(pins[0]));
	tcase_add_loop_test(tc, test_failure, 0, sizeof(failures) / sizeof(failures[0]));
	suite_add_tcase(s, tc);
	return s;
}
