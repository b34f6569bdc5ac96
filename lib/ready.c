/* ready.c: wait until a guest is ready: an SSH login with the injected key runs `true`, one probe at a time. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

extern char **environ;

/*
 * Every forwarded connection reaches the guest from the same address
 * (10.0.2.2), and sshd servers cap unauthenticated connections per source:
 * dropbear refuses a sixth (options.h, MAX_UNAUTH_PER_IP 5), OpenSSH starts
 * dropping at 10 (sshd_config(5), MaxStartups 10:30:100). So: one probe in
 * flight at a time, a new one at most every ATTEMPT_GAP_MS.
 */
#define ATTEMPT_GAP_MS	200
/*
 * OpenSSH's ConnectTimeout bounds the TCP connect and the wait for the
 * server's identification line ("Connection timed out during banner
 * exchange", sshconnect.c ssh_exchange_identification(timeout_ms)); a probe
 * sent before the guest has an address stalls in slirp, so start short and
 * grow for slow (loaded, TCG) guests.
 */
#define CONNECT_SHORT_S	1
#define CONNECT_MID_S	2
#define CONNECT_LONG_S	5
#define SHORT_UNTIL_MS	10000
#define MID_UNTIL_MS	30000
#define ATTEMPT_SLACK_MS 20000	/* past ConnectTimeout: key exchange and login on a slow guest */
#define STATUS_EVERY_MS	500	/* QMP query-status cadence (connect, ask, close) */
#define QMP_TIMEOUT_MS	400
#define AUTH_FAILS_MAX	3	/* refused keys in a row before it is an answer */
#define ERRBUF		4096

/* One probe: an ssh process, or (no key known) a socket reading the identification line. */
struct probe {
	pid_t		 pid;		/* ssh; 0 none */
	int		 pidfd;		/* ssh's pidfd; -1 none */
	int		 errfd;		/* ssh's stderr; -1 closed */
	int		 fd;		/* banner socket; -1 none */
	int		 connected;
	long long	 start;
	long long	 limit;		/* killed or closed at this time */
	size_t		 len;
	char		 buf[ERRBUF];	/* ssh's stderr, or what the socket sent */
};

static int
connect_timeout_s(long long elapsed_ms)
{
	if (elapsed_ms < SHORT_UNTIL_MS)
		return CONNECT_SHORT_S;
	return elapsed_ms < MID_UNTIL_MS ? CONNECT_MID_S : CONNECT_LONG_S;
}

static void
probe_reset(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->pidfd = p->errfd = p->fd = -1;
}

static int
probe_busy(const struct probe *p)
{
	return p->pid > 0 || p->fd != -1;
}

/* Ends a probe: kills and reaps ssh, closes every descriptor. Returns ssh's wait status or -1. */
static int
probe_end(struct probe *p)
{
	int ws = -1, r;

	if (p->pid > 0) {
		(void)qq_vm_signal(p->pid, p->pidfd, SIGKILL);
		while ((r = waitpid(p->pid, &ws, 0)) == -1 && errno == EINTR)
			;
		if (r == -1)
			ws = -1;
	}
	if (p->pidfd != -1)
		close(p->pidfd);
	if (p->errfd != -1)
		close(p->errfd);
	if (p->fd != -1)
		close(p->fd);
	p->pid = 0;
	p->pidfd = p->errfd = p->fd = -1;
	return ws;
}

static int
ssh_start(struct probe *p, const struct qq_guest *g, int pin, int cto, struct qq_err *e)
{
	posix_spawn_file_actions_t fa;
	struct qq_guest_argv a;
	char opt[64];
	int fds[2], rc;

	probe_reset(p);
	snprintf(opt, sizeof(opt), "ConnectTimeout=%d", cto);
	if ((rc = qq_guest_argv_init(&a, g, QQ_GUEST_BATCH | QQ_GUEST_QUIET | QQ_GUEST_NOCONF |
	    (pin ? QQ_GUEST_PIN : 0), e)) != 0)
		return rc;
	if ((rc = qq_guest_argv_opt(&a, opt, e)) != 0 ||
	    (rc = qq_guest_argv_opt(&a, "ServerAliveInterval=5", e)) != 0 ||
	    (rc = qq_guest_argv_opt(&a, "ServerAliveCountMax=2", e)) != 0 ||
	    (rc = qq_guest_argv_add(&a, "-n", e)) != 0 ||
	    (rc = qq_guest_argv_add(&a, "-T", e)) != 0 ||
	    (rc = qq_guest_argv_finish(&a, (char *[]){ "true", NULL }, e)) != 0)
		goto out;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to start ssh");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
	rc = posix_spawnp(&p->pid, "ssh", &fa, NULL, a.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		p->pid = 0;
		errno = rc;
		rc = qq_err_sys(e, rc == ENOENT ? QQ_EXIT_NOTFOUND : QQ_EXIT_RUNTIME,
		    "unable to run ssh (OpenSSH's client, Debian package openssh-client)");
		goto out;
	}
	p->errfd = fds[0];
	p->pidfd = qq_vm_pidfd(p->pid);	/* -1 (old kernel, valgrind): polled */
	p->start = qq_vm_now_ms();
	p->limit = p->start + cto * 1000LL + ATTEMPT_SLACK_MS;
out:
	qq_guest_argv_free(&a);
	return rc;
}

static int
banner_start(struct probe *p, int port, int cto)
{
	struct sockaddr_in sin;

	probe_reset(p);
	if ((p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->start = qq_vm_now_ms();
	p->limit = p->start + cto * 1000LL;
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		p->connected = 1;
	else if (errno != EINPROGRESS) {
		(void)probe_end(p);
		return -1;
	}
	return 0;
}

/* Reads the socket; 1 when a whole line starting "SSH-" came (RFC 4253 4.2), -1 when done. */
static int
banner_read(struct probe *p)
{
	ssize_t n;
	char *line, *nl;

	n = read(p->fd, p->buf + p->len, 256 - 1 - p->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	/* RFC 4253 allows other lines before the identification line. */
	for (line = p->buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		if (strncmp(line, "SSH-", 4) == 0)
			return 1;
	if (line != p->buf) {
		p->len -= (size_t)(line - p->buf);
		memmove(p->buf, line, p->len + 1);
	}
	return p->len == 256 - 1 ? -1 : 0;
}

/* Keeps the tail of ssh's stderr. */
static void
err_read(struct probe *p)
{
	ssize_t n;

	for (;;) {
		if (p->len == sizeof(p->buf) - 1) {
			memmove(p->buf, p->buf + sizeof(p->buf) / 2, sizeof(p->buf) / 2);
			p->len -= sizeof(p->buf) / 2;
		}
		n = read(p->errfd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(p->errfd);
				p->errfd = -1;
			}
			break;
		}
		p->len += (size_t)n;
	}
	p->buf[p->len] = '\0';
}

/* QEMU's run state: connect, query-status, close, so that no one else is locked out of QMP. */
static enum qq_spawn_wait
qmp_status(const char *path, char *status, size_t statussz)
{
	struct qq_qmp *q;
	struct qq_err e;
	char *reply = NULL;
	enum qq_spawn_wait why = QQ_WAIT_OK;

	if (path == NULL || *path == '\0' || (q = malloc(sizeof(*q))) == NULL)
		return QQ_WAIT_OK;
	/* Busy (qq-stop holds it) or going away: QEMU's exit shows on the pidfd. */
	if (qq_qmp_open(q, path, QMP_TIMEOUT_MS, &e) == 0 &&
	    qq_qmp_cmd(q, "{\"execute\": \"query-status\"}", QMP_TIMEOUT_MS, &reply, &e) == 0 &&
	    qq_qmp_string(reply, "status", status, statussz) == 0) {
		if (strcmp(status, "internal-error") == 0)
			why = QQ_WAIT_INTERNAL_ERROR;
		else if (strcmp(status, "shutdown") == 0 || strcmp(status, "guest-panicked") == 0 ||
		    strcmp(status, "io-error") == 0)
			why = QQ_WAIT_STOPPED;
	}
	free(reply);
	qq_qmp_close(q);
	free(q);
	return why;
}

int
qq_ready_wait(const struct qq_ready_opts *o, enum qq_spawn_wait *why, struct qq_err *e)
{
	struct probe p;
	struct pollfd pfd[3];
	struct qq_err last;
	long long now, t0, deadline, next_attempt, next_status, wake;
	char status[64];
	int n, r, ws, kind, pinned = 0, auth_fails = 0, attempts = 0, banner_only;
	int qemu_gone = 0;

	*why = QQ_WAIT_OK;
	probe_reset(&p);
	banner_only = o->guest->key[0] == '\0';
	strlcpy(last.msg, "no answer yet", sizeof(last.msg));
	if (!banner_only && (r = qq_guest_pin_prepare(o->guest, &pinned, e)) != 0)
		return r;
	t0 = now = qq_vm_now_ms();
	deadline = now + o->timeout_ms;
	next_attempt = next_status = now;
	for (r = -1; r == -1; ) {
		if (o->interrupted != NULL && *o->interrupted) {
			r = qq_err_set(e, 128 + *o->interrupted, "interrupted by signal %d",
			    (int)*o->interrupted);
			*why = QQ_WAIT_INTERRUPTED;
			break;
		}
		now = qq_vm_now_ms();
		if (now >= deadline) {
			*why = QQ_WAIT_TIMEOUT;
			if (banner_only)
				r = qq_err_set(e, QQ_EXIT_RUNTIME, "no SSH identification from "
				    "127.0.0.1:%d within %d s", o->guest->port, o->timeout_ms / 1000);
			else
				r = qq_err_set(e, QQ_EXIT_RUNTIME, "no SSH login to 127.0.0.1:%d "
				    "within %d s (%d attempts; last: %s)", o->guest->port,
				    o->timeout_ms / 1000, attempts, last.msg);
			break;
		}
		if (now >= next_status) {
			next_status = now + STATUS_EVERY_MS;
			if (o->pid > 0 && o->pidfd == -1 && !qq_vm_alive(o->pid))
				qemu_gone = 1;
			else if ((*why = qmp_status(o->qmp, status, sizeof(status))) != QQ_WAIT_OK) {
				r = qq_err_set(e, QQ_EXIT_RUNTIME,
				    "QEMU stopped in state %s before SSH answered", status);
				break;
			}
		}
		if (qemu_gone) {
			*why = QQ_WAIT_EXITED;
			r = qq_err_set(e, QQ_EXIT_RUNTIME, "QEMU exited before SSH answered");
			break;
		}
		/* A probe past its time is killed; a new one starts only when none is in flight. */
		if (probe_busy(&p) && now >= p.limit) {
			(void)probe_end(&p);
			strlcpy(last.msg, "ssh: no answer in time", sizeof(last.msg));
		}
		if (!probe_busy(&p) && now >= next_attempt) {
			int cto = connect_timeout_s(now - t0);

			next_attempt = now + ATTEMPT_GAP_MS;
			attempts++;
			if (banner_only)
				(void)banner_start(&p, o->guest->port, cto);
			else if ((r = ssh_start(&p, o->guest, !pinned, cto, e)) != 0)
				break;
			r = -1;
		}
		n = 0;
		if (p.fd != -1) {
			pfd[n].fd = p.fd;
			pfd[n++].events = p.connected ? POLLIN : POLLOUT;
		}
		if (p.errfd != -1) {
			pfd[n].fd = p.errfd;
			pfd[n++].events = POLLIN;
		} else if (p.pidfd != -1) {
			pfd[n].fd = p.pidfd;
			pfd[n++].events = POLLIN;
		}
		if (o->pidfd != -1) {
			pfd[n].fd = o->pidfd;
			pfd[n++].events = POLLIN;
		}
		wake = next_status < deadline ? next_status : deadline;
		if (!probe_busy(&p) && next_attempt < wake)
			wake = next_attempt;
		if (probe_busy(&p) && p.limit < wake)
			wake = p.limit;
		/* Without a pidfd the ssh is polled for its exit. */
		if (p.pid > 0 && p.pidfd == -1 && p.errfd == -1 && now + 20 < wake)
			wake = now + 20;
		now = qq_vm_now_ms();
		if (poll(pfd, (nfds_t)n, wake > now ? (int)(wake - now) : 0) == -1) {
			if (errno == EINTR)
				continue;
			*why = QQ_WAIT_TIMEOUT;
			r = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for SSH");
			break;
		}
		if (o->pidfd != -1 && pfd[n - 1].fd == o->pidfd && pfd[n - 1].revents != 0)
			qemu_gone = 1;
		if (p.fd != -1 && pfd[0].revents != 0) {
			int err;
			socklen_t len = sizeof(err);

			if (!p.connected) {
				if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
				    err != 0) {
					(void)probe_end(&p);
					continue;
				}
				p.connected = 1;
			}
			switch (p.connected && (pfd[0].revents & (POLLIN | POLLHUP)) ?
			    banner_read(&p) : 0) {
			case 1:
				(void)probe_end(&p);
				r = 0;
				break;
			case -1:
				(void)probe_end(&p);
				break;
			}
			continue;
		}
		if (p.errfd != -1)
			err_read(&p);
		/* stderr at its end: ssh exited or is exiting; its pidfd (or the 20 ms tick) says when. */
		if (p.pid > 0 && p.errfd == -1) {
			pid_t w;

			while ((w = waitpid(p.pid, &ws, WNOHANG)) == -1 && errno == EINTR)
				;
			if (w == 0)
				continue;
			p.pid = 0;
			(void)probe_end(&p);
			if (w == -1)
				ws = -1;
			if (ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
				r = 0;
				break;
			}
			kind = qq_guest_failure(o->guest, p.buf, &last);
			if (kind == 1) {
				r = qq_err_set(e, QQ_EXIT_RUNTIME, "%s", last.msg);
				*why = QQ_WAIT_HOSTKEY;
				break;
			}
			auth_fails = kind == 2 ? auth_fails + 1 : 0;
			if (auth_fails >= AUTH_FAILS_MAX) {
				r = qq_err_set(e, QQ_EXIT_RUNTIME, "%s", last.msg);
				*why = QQ_WAIT_AUTH;
				break;
			}
			if (ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) != QQ_GUEST_FAILED) {
				/* The login worked but `true` failed: an answer, not a wait. */
				r = qq_err_set(e, QQ_EXIT_RUNTIME, "the guest ran `true` with exit "
				    "status %d", WEXITSTATUS(ws));
				*why = QQ_WAIT_AUTH;
				break;
			}
		}
	}
	(void)probe_end(&p);
	if (r == 0)
		*why = QQ_WAIT_OK;
	return r;
}
