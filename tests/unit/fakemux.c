/* fakemux.c: a stand-in OpenSSH ControlMaster for the unit tests, following openssh-portable's PROTOCOL.mux (version 4). */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"

/*
 * What it does, as mux.c's master does: it says hello (type 1, version 4)
 * and reads the client's; it answers MUX_C_ALIVE_CHECK with its pid; for
 * MUX_C_NEW_SESSION it reads the request and the three descriptors (one
 * byte of data each, SCM_RIGHTS), replies MUX_S_SESSION_OPENED (or, for
 * the first `refuse` requests, MUX_S_FAILURE "Session open refused by
 * peer", mux.c mux_session_confirm), runs the command with the local
 * sh -c as the guest's sshd runs it with the user's shell, and sends
 * MUX_S_EXIT_MESSAGE for an exit (none for a death by a signal: the peer's
 * exit-signal is not passed on) before closing. A command containing
 * QQ_FAKEMUX_DIE makes the master die after it, without an exit message,
 * as a master does when its connection to the guest is lost.
 */

static int
rd(int fd, void *p, size_t n)
{
	ssize_t r;
	char *c = p;

	while (n > 0) {
		if ((r = read(fd, c, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint32_t
u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Sends a packet of n uint32 words. */
static void
send_words(int fd, const uint32_t *w, size_t n)
{
	unsigned char buf[64];
	size_t i;

	put32(buf, (uint32_t)(n * 4));
	for (i = 0; i < n; i++)
		put32(buf + 4 + i * 4, w[i]);
	(void)!write(fd, buf, 4 + n * 4);
}

static void
send_failure(int fd, uint32_t rid, const char *why)
{
	unsigned char buf[256];
	size_t n = strlen(why);

	put32(buf, (uint32_t)(12 + n));
	put32(buf + 4, 0x80000003);
	put32(buf + 8, rid);
	put32(buf + 12, (uint32_t)n);
	memcpy(buf + 16, why, n);
	(void)!write(fd, buf, 16 + n);
}

static int
recv_fd(int sock)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec v;
	char ch;
	int fd;

	memset(&msg, 0, sizeof(msg));
	v.iov_base = &ch;
	v.iov_len = 1;
	msg.msg_iov = &v;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if (recvmsg(sock, &msg, 0) != 1 || (c = CMSG_FIRSTHDR(&msg)) == NULL ||
	    c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* Reads a string at *p (advancing it) into a malloc'd C string. */
static char *
str(unsigned char **p, const unsigned char *end)
{
	uint32_t n;
	char *s;

	if (end - *p < 4 || (uint32_t)(end - *p - 4) < (n = u32(*p)))
		return NULL;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, *p + 4, n);
	s[n] = '\0';
	*p += 4 + n;
	return s;
}

static void
serve(int c, int *refuse, uint32_t *nsid)
{
	unsigned char len[4], *pkt, *p, *end;
	uint32_t n, type, rid, hello[2] = { 1, 4 };
	char *cmd = NULL;
	int fds[3], i, st;
	pid_t pid, sh;

	send_words(c, hello, 2);
	for (;;) {
		if (rd(c, len, 4) != 0 || (n = u32(len)) < 4 || n > 1 << 20 ||
		    (pkt = malloc(n)) == NULL)
			return;
		if (rd(c, pkt, n) != 0) {
			free(pkt);
			return;
		}
		type = u32(pkt);
		rid = n >= 8 ? u32(pkt + 4) : 0;
		if (type == 1) {		/* the client's hello */
			free(pkt);
			continue;
		}
		if (type == 0x10000004) {	/* alive check */
			uint32_t w[3] = { 0x80000005, rid, (uint32_t)getpid() };

			send_words(c, w, 3);
			free(pkt);
			continue;
		}
		if (type != 0x10000002) {
			free(pkt);
			return;
		}
		/* reserved, 4 flags, escape char, term, command */
		p = pkt + 8;
		end = pkt + n;
		free(str(&p, end));
		p += 5 * 4;
		free(str(&p, end));
		cmd = str(&p, end);
		free(pkt);
		for (i = 0; i < 3; i++)
			fds[i] = recv_fd(c);
		if (cmd == NULL || fds[0] == -1 || fds[1] == -1 || fds[2] == -1)
			return;
		if (*refuse > 0) {
			(*refuse)--;
			send_failure(c, rid, "Session open refused by peer");
			for (i = 0; i < 3; i++)
				close(fds[i]);
			free(cmd);
			return;
		}
		(*nsid)++;
		if ((pid = fork()) == 0) {
			uint32_t w[3] = { 0x80000006, rid, *nsid };

			signal(SIGCHLD, SIG_DFL);
			send_words(c, w, 3);
			if ((sh = fork()) == 0) {
				for (i = 0; i < 3; i++)
					dup2(fds[i], i);
				execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
				_exit(127);
			}
			for (i = 0; i < 3; i++)
				close(fds[i]);
			while (waitpid(sh, &st, 0) == -1 && errno == EINTR)
				;
			if (strstr(cmd, "QQ_FAKEMUX_DIE") != NULL) {
				/* The connection to the guest dies under the session. */
				kill(getppid(), SIGKILL);
				_exit(0);
			}
			if (WIFEXITED(st)) {
				uint32_t x[3] = { 0x80000004, *nsid, (uint32_t)WEXITSTATUS(st) };

				send_words(c, x, 3);
			}
			_exit(0);
		}
		for (i = 0; i < 3; i++)
			close(fds[i]);
		free(cmd);
		return;
	}
}

pid_t
fakemux_start(const char *path, int refuse)
{
	struct sockaddr_un sa;
	uint32_t nsid = 0;
	pid_t pid;
	int s, c;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(s, 16) == -1)
		return -1;
	if ((pid = fork()) != 0) {
		close(s);
		return pid;
	}
	signal(SIGCHLD, SIG_IGN);	/* session runners reap themselves */
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		serve(c, &refuse, &nsid);
		close(c);
	}
}

void
fakemux_stop(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
	}
}
