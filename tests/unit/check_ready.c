/* check_ready.c: the readiness wait against stand-ins: an sshd that answers late, a fake ssh, a dying QEMU. */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

/* What a stand-in server saw, shared with the test (MAP_SHARED). */
struct seen {
	int	 accepts;
	int	 open;
	int	 max_open;
};

/*
 * A stand-in for slirp + sshd: accepts every connection, answers banner once
 * delay_ms have passed (never when NULL), and keeps a connection open until
 * the client closes it, counting how many are open at once.
 */
static pid_t
listener(int *port, int delay_ms, const char *banner, struct seen *seen)
{
	struct sockaddr_in sin;
	struct pollfd pfd[64];
	socklen_t len = sizeof(sin);
	int fd, c, n, i;
	long long answer;
	char buf[64];
	pid_t pid;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives a failed test */
		answer = qq_vm_now_ms() + delay_ms;
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		for (n = 1;;) {
			if (poll(pfd, (nfds_t)n, -1) == -1)
				continue;
			for (i = 1; i < n; i++) {
				if (pfd[i].revents == 0 || read(pfd[i].fd, buf, sizeof(buf)) > 0)
					continue;
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
				seen->open--;
			}
			if ((pfd[0].revents & POLLIN) == 0 || (c = accept(fd, NULL, NULL)) == -1)
				continue;
			seen->accepts++;
			if (qq_vm_now_ms() >= answer && banner != NULL) {
				(void)write(c, banner, strlen(banner));
				close(c);
				continue;
			}
			if (++seen->open > seen->max_open)
				seen->max_open = seen->open;
			if (n < 64) {
				pfd[n].fd = c;
				pfd[n++].events = POLLIN;
			} else
				close(c);
		}
	}
	close(fd);
	return pid;
}

static struct seen *
seen_new(void)
{
	struct seen *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(s, MAP_FAILED);
	memset(s, 0, sizeof(*s));
	return s;
}

/*
 * A wait that succeeds returns as soon as the answer comes, so its bound is generous (a
 * loaded machine or valgrind must not turn it into a timeout); a wait that must time out
 * gets a short one.
 */
#define WAIT_OK_MS	20000
#define WAIT_NONE_MS	2500

static const struct {
	int		 delay_ms;
	const char	*banner;
	int		 timeout_ms;
	int		 status;
	enum qq_spawn_wait why;
} waits[] = {
	{ 0, "SSH-2.0-dropbear\r\n", WAIT_OK_MS, 0, QQ_WAIT_OK },
	{ 300, "SSH-2.0-OpenSSH_9.2\r\n", WAIT_OK_MS, 0, QQ_WAIT_OK },
	{ 0, "hello first\r\nSSH-2.0-x\r\n", WAIT_OK_MS, 0, QQ_WAIT_OK },
	/* An accept is not an answer; neither is a line that is not an identification. */
	{ 0, NULL, WAIT_NONE_MS, QQ_EXIT_RUNTIME, QQ_WAIT_TIMEOUT },
	{ 0, "HTTP/1.0 400\r\n", WAIT_NONE_MS, QQ_EXIT_RUNTIME, QQ_WAIT_TIMEOUT },
	{ 0, "SSH-", WAIT_NONE_MS, QQ_EXIT_RUNTIME, QQ_WAIT_TIMEOUT },
};

static void
ready_opts(struct qq_ready_opts *o, struct qq_guest *g, int timeout_ms)
{
	memset(o, 0, sizeof(*o));
	o->guest = g;
	o->timeout_ms = timeout_ms;
	o->pidfd = -1;
}

START_TEST(test_banner)
{
	struct qq_ready_opts o;
	struct qq_guest g;
	enum qq_spawn_wait why;
	struct qq_err e;
	struct seen *seen = seen_new();
	int port;
	pid_t pid = listener(&port, waits[_i].delay_ms, waits[_i].banner, seen);

	ck_assert_int_eq(qq_guest_set(&g, "", port, NULL, &e), 0);
	ready_opts(&o, &g, waits[_i].timeout_ms);
	ck_assert_int_eq(qq_ready_wait(&o, &why, &e), waits[_i].status);
	ck_assert_int_eq(why, waits[_i].why);
	if (why == QQ_WAIT_TIMEOUT)
		ck_assert_ptr_nonnull(strstr(e.msg, "no SSH identification from 127.0.0.1:"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* One connection in flight at a time, never a burst. */
	ck_assert_int_le(seen->max_open, 1);
	munmap(seen, sizeof(*seen));
}
END_TEST

START_TEST(test_exit)
{
	struct qq_ready_opts o;
	struct qq_guest g;
	enum qq_spawn_wait why;
	struct qq_err e;
	struct seen *seen = seen_new();
	int port;
	pid_t pid = listener(&port, 0, NULL, seen), victim;

	/*
	 * The process we watch dies while nothing answers: reported at once. Its 200 ms of
	 * life is no timing guess: should it die before the wait starts, the wait reports
	 * the same (a zombie's pidfd is readable, and qq_vm_alive sees zombies as dead).
	 */
	if ((victim = fork()) == 0) {
		usleep(200000);
		_exit(0);
	}
	ck_assert_int_eq(qq_guest_set(&g, "", port, NULL, &e), 0);
	ready_opts(&o, &g, 10000);
	o.pid = victim;
	o.pidfd = qq_vm_pidfd(victim);	/* -1 under valgrind: then the pid is polled */
	ck_assert_int_eq(qq_ready_wait(&o, &why, &e), QQ_EXIT_RUNTIME);
	ck_assert_int_eq(why, QQ_WAIT_EXITED);
	ck_assert_str_eq(e.msg, "QEMU exited before SSH answered");
	if (o.pidfd != -1)
		close(o.pidfd);
	waitpid(victim, NULL, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(seen, sizeof(*seen));
}
END_TEST

/*
 * A fake ssh(1) first on PATH: logs its argv, notes any overlap with another
 * copy of itself (flock), and acts out its mode file for attempt N (counted in its log):
 * "ok N" fails like a guest without network until attempt N; "hostkey" and
 * "denied" print what OpenSSH 9.2 prints (sshconnect.c, sshconnect2.c);
 * "false" is a login whose command fails.
 */
static const char fake_ssh[] =
    "#!/bin/sh\n"
    "d=${0%/ssh}\n"
    "exec 9>>\"$d/lock\"\n"
    "flock -n 9 || echo overlap >>\"$d/overlap\"\n"
    "echo \"$*\" >>\"$d/log\"\n"
    "n=$(wc -l <\"$d/log\")\n"
    "sleep 0.05\n"
    "read -r mode arg <\"$d/mode\"\n"
    "case $mode in\n"
    "ok) [ \"$n\" -ge \"$arg\" ] && exit 0\n"
    "    echo 'kex_exchange_identification: Connection closed by remote host' >&2; exit 255 ;;\n"
    "hostkey) cat >&2 <<'EOF'\n"
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
    "The fingerprint for the ED25519 key sent by the remote host is\n"
    "SHA256:offeredOFFEREDoffered0000000000000000000000.\n"
    "Host key verification failed.\n"
    "EOF\n"
    "    exit 255 ;;\n"
    "denied) echo 'root@127.0.0.1: Permission denied (publickey).' >&2; exit 255 ;;\n"
    "false) exit 1 ;;\n"
    "esac\n"
    "exit 255\n";

/* A real ed25519 public key (made by ssh-keygen for this test) and its fingerprint. */
#define PIN_LINE "qq-guest ssh-ed25519 " \
    "AAAAC3NzaC1lZDI1NTE5AAAAIPxGYz3ma0R4bdON1pSbi/9PkzoBbCjTWca7ZfscXIj5\n"
#define PIN_FP "SHA256:Hud9SYBGkcEtGCJYP4qqlOEK5FQcBBzPJtvSiW9vP2o"

static const struct {
	const char	*mode;
	const char	*known_hosts;	/* NULL: none */
	const char	*image;		/* WS/image.key; NULL none */
	int		 status;
	enum qq_spawn_wait why;
	int		 attempts;	/* exactly, or -N: at least N */
	const char	*strict;	/* the StrictHostKeyChecking the fake saw */
	const char	*msg;		/* in the error */
} fakes[] = {
	{ "ok 1", NULL, NULL, 0, QQ_WAIT_OK, 1, "accept-new", NULL },
	{ "ok 4", NULL, "abc123\n", 0, QQ_WAIT_OK, 4, "accept-new", NULL },
	/* A pin for this image: kept, and enforced. */
	{ "ok 1", "# qq-image abc123\n" PIN_LINE, "abc123\n", 0, QQ_WAIT_OK, 1, "yes", NULL },
	/* A pin for another image: replaced (the next login pins). */
	{ "ok 1", "# qq-image 0ld\n" PIN_LINE, "abc123\n", 0, QQ_WAIT_OK, 1, "accept-new",
	  NULL },
	/* A header without a key yet (a first login that failed): still pinning. */
	{ "ok 2", "# qq-image abc123\n", "abc123\n", 0, QQ_WAIT_OK, 2, "accept-new", NULL },
	{ "hostkey", "# qq-image abc123\n" PIN_LINE, "abc123\n", QQ_EXIT_RUNTIME,
	  QQ_WAIT_HOSTKEY, 1, "yes", "pinned " PIN_FP ", offered "
	  "SHA256:offeredOFFEREDoffered0000000000000000000000;" },
	{ "denied", NULL, NULL, QQ_EXIT_RUNTIME, QQ_WAIT_AUTH, 3, "accept-new",
	  "the guest refused the key /k/id" },
	{ "false", NULL, NULL, QQ_EXIT_RUNTIME, QQ_WAIT_AUTH, 1, "accept-new",
	  "the guest ran `true` with exit status 1" },
	{ "ok 1000", NULL, NULL, QQ_EXIT_RUNTIME, QQ_WAIT_TIMEOUT, -2, "accept-new",
	  "last: ssh: kex_exchange_identification: Connection closed by remote host)" },
};

static int
lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 0;

	if (fp == NULL)
		return 0;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

START_TEST(test_fake_ssh)
{
	struct qq_ready_opts o;
	struct qq_guest g;
	enum qq_spawn_wait why;
	struct qq_err e;
	char *d = test_tmpdir(), text[4096], path[PATH_MAX], *log = NULL;
	size_t len;
	int n;

	test_puts(d, "ssh", fake_ssh, 0755);
	test_puts(d, "mode", fakes[_i].mode, 0644);
	snprintf(text, sizeof(text), "%s:%s", d, getenv("PATH"));
	setenv("PATH", text, 1);
	if (fakes[_i].known_hosts != NULL)
		test_puts(d, "known_hosts", fakes[_i].known_hosts, 0600);
	if (fakes[_i].image != NULL)
		test_puts(d, "image.key", fakes[_i].image, 0644);
	ck_assert_int_eq(qq_guest_set(&g, d, 2222, "/k/id", &e), 0);
	ready_opts(&o, &g, fakes[_i].why == QQ_WAIT_TIMEOUT ? 1500 : WAIT_OK_MS);
	ck_assert_int_eq(qq_ready_wait(&o, &why, &e), fakes[_i].status);
	ck_assert_int_eq(why, fakes[_i].why);
	if (fakes[_i].msg != NULL)
		ck_assert_msg(strstr(e.msg, fakes[_i].msg) != NULL, "%s", e.msg);
	snprintf(path, sizeof(path), "%s/log", d);
	n = lines(path);
	if (fakes[_i].attempts > 0)
		ck_assert_int_eq(n, fakes[_i].attempts);
	else
		ck_assert_int_ge(n, -fakes[_i].attempts);
	/* Never two probes at once. */
	snprintf(path, sizeof(path), "%s/overlap", d);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/log", d);
	ck_assert_int_eq(qq_file_read(path, 1 << 20, &log, &len, &e), 0);
	snprintf(text, sizeof(text), "-o StrictHostKeyChecking=%s", fakes[_i].strict);
	ck_assert_msg(strstr(log, text) != NULL, "%s", log);
	/* The probe's own argv: the key, batch mode, pinned file, the command. */
	ck_assert_ptr_nonnull(strstr(log, "-F none -p 2222 -o IdentityFile=\"/k/id\" -o IdentitiesOnly=yes "));
	ck_assert_ptr_nonnull(strstr(log, "-o BatchMode=yes"));
	ck_assert_ptr_nonnull(strstr(log, "-o HostKeyAlias=qq-guest"));
	ck_assert_ptr_nonnull(strstr(log, "-o ConnectTimeout=1 "));
	ck_assert_ptr_nonnull(strstr(log, " root@127.0.0.1 -- true\n"));
	free(log);
	if (fakes[_i].image != NULL && fakes[_i].why == QQ_WAIT_OK &&
	    strcmp(fakes[_i].strict, "accept-new") == 0) {
		/* The new pin starts with the image it belongs to; the old key is gone. */
		snprintf(path, sizeof(path), "%s/known_hosts", d);
		ck_assert_int_eq(qq_file_read(path, 1 << 20, &log, &len, &e), 0);
		ck_assert_str_eq(log, "# qq-image abc123\n");
		free(log);
	}
	test_rmtree(d);
	free(d);
}
END_TEST

Suite *
suite_ready(void)
{
	Suite *s = suite_create("ready");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_loop_test(tc, test_banner, 0, sizeof(waits) / sizeof(waits[0]));
	tcase_add_test(tc, test_exit);
	tcase_add_loop_test(tc, test_fake_ssh, 0, sizeof(fakes) / sizeof(fakes[0]));
	suite_add_tcase(s, tc);
	return s;
}
