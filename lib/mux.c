/* mux.c: a passenger client of OpenSSH's ControlMaster socket, so a command over the shared connection starts no ssh process. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

/*
 * OpenSSH's PROTOCOL.mux (protocol version 4, unchanged since OpenSSH 5.x;
 * read in openssh-portable's PROTOCOL.mux and mux.c): each message is a
 * uint32 length, then a uint32 type and its body in SSH wire format
 * (RFC 4251: uint32 big-endian, string = uint32 length + bytes, bool sent
 * by mux.c as a uint32).
 */
#define MUX_MSG_HELLO		0x00000001
#define MUX_C_NEW_SESSION	0x10000002
#define MUX_C_ALIVE_CHECK	0x10000004
#define MUX_S_OK		0x80000001
#define MUX_S_PERMISSION_DENIED	0x80000002
#define MUX_S_FAILURE		0x80000003
#define MUX_S_EXIT_MESSAGE	0x80000004
#define MUX_S_ALIVE		0x80000005
#define MUX_S_SESSION_OPENED	0x80000006
#define MUX_S_TTY_ALLOC_FAIL	0x80000008
#define MUX_VERSION		4
#define MUX_MAX_PACKET		(256 * 1024)
/* How long the master may take to answer a request (it answers a new session once the guest confirmed the channel). */
#define MUX_REPLY_MS		120000

struct buf {
	unsigned char	*p;
	size_t		 len, cap, off;
	int		 err;
};

static void
put_raw(struct buf *b, const void *s, size_t n)
{
	unsigned char *np;

	if (b->err)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		if ((np = realloc(b->p, b->cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
	}
	if (n > 0)	/* memcpy from NULL is undefined even for 0 bytes */
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char w[4] = { v >> 24, v >> 16, v >> 8, v };

	put_raw(b, w, 4);
}

static void
put_str(struct buf *b, const char *s)
{
	put_u32(b, (uint32_t)strlen(s));
	put_raw(b, s, strlen(s));
}

static int
get_u32(struct buf *b, uint32_t *v)
{
	if (b->len - b->off < 4)
		return -1;
	*v = (uint32_t)b->p[b->off] << 24 | (uint32_t)b->p[b->off + 1] << 16 |
	    (uint32_t)b->p[b->off + 2] << 8 | b->p[b->off + 3];
	b->off += 4;
	return 0;
}

/* A string into out (truncated, NUL-terminated). */
static int
get_str(struct buf *b, char *out, size_t outsz)
{
	uint32_t n;

	if (get_u32(b, &n) != 0 || b->len - b->off < n)
		return -1;
	if (outsz > 0) {
		size_t k = n < outsz - 1 ? n : outsz - 1;

		memcpy(out, b->p + b->off, k);
		out[k] = '\0';
	}
	b->off += n;
	return 0;
}

/* Waits until fd is ready for events, at most ms (-1: no limit); 0, or -1 with errno (ETIMEDOUT). */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { fd, events, 0 };
	int n;

	while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && wait_fd(fd, POLLOUT, MUX_REPLY_MS) == 0)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Exactly n bytes; 0, or -1 with errno (0 for the peer closing). */
static int
read_all(int fd, unsigned char *p, size_t n, int ms)
{
	ssize_t r;

	while (n > 0) {
		if (wait_fd(fd, POLLIN, ms) != 0)
			return -1;
		if ((r = read(fd, p, n)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = 0;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Sends b's bytes as one packet (the length first). */
static int
send_packet(int fd, struct buf *b)
{
	unsigned char len[4];

	if (b->err) {
		errno = ENOMEM;
		return -1;
	}
	len[0] = (unsigned char)(b->len >> 24);
	len[1] = (unsigned char)(b->len >> 16);
	len[2] = (unsigned char)(b->len >> 8);
	len[3] = (unsigned char)b->len;
	return write_all(fd, len, 4) == 0 && write_all(fd, b->p, b->len) == 0 ? 0 : -1;
}

/* One packet into b (reset); -1 with errno, 0 for a close. */
static int
recv_packet(int fd, struct buf *b, int ms)
{
	unsigned char len[4];
	uint32_t n;

	b->len = b->off = 0;
	if (read_all(fd, len, 4, ms) != 0)
		return -1;
	n = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 | (uint32_t)len[2] << 8 | len[3];
	if (n < 4 || n > MUX_MAX_PACKET) {
		errno = EPROTO;
		return -1;
	}
	if (b->cap < n) {
		unsigned char *np = realloc(b->p, n);

		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = n;
	}
	if (read_all(fd, b->p, n, ms) != 0)
		return -1;
	b->len = n;
	return 0;
}

/* mm_send_fd (monitor_fdpass.c): one byte of data carrying fd as SCM_RIGHTS. */
static int
send_fd(int sock, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec v;
	char ch = '\0';
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	v.iov_base = &ch;
	v.iov_len = 1;
	msg.msg_iov = &v;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) == -1)
		if (errno != EINTR && !(errno == EAGAIN && wait_fd(sock, POLLOUT, MUX_REPLY_MS) == 0))
			return -1;
	return n == 1 ? 0 : -1;
}

/* The master (on socket ctl, NULL: already connected) closed the connection (errno 0) or did not answer `what`. */
static int
lost(struct qq_err *e, const char *ctl, const char *what)
{
	if (errno == 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master%s%s closed the connection "
		    "before answering %s", ctl ? " on " : "", ctl ? ctl : "", what);
	return qq_err_sys(e, QQ_EXIT_RUNTIME, "the SSH master%s%s did not answer %s",
	    ctl ? " on " : "", ctl ? ctl : "", what);
}

int
qq_mux_open(const char *ctl, int *fdp, struct qq_err *e)
{
	struct sockaddr_un sa;
	struct buf b = { 0 };
	uint32_t type = 0, ver = 0;
	int fd;

	*fdp = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlcpy(sa.sun_path, ctl, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return qq_err_set(e, QQ_EXIT_RUNTIME, "control socket path too long: %s", ctl);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open a socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return qq_err_sys(e, errno == ENOENT || errno == ECONNREFUSED ? QQ_EXIT_NO :
		    QQ_EXIT_RUNTIME, "no SSH master answers on %s", ctl);
	}
	/* Both sides say hello first (mux.c, mux_client_hello_exchange). */
	put_u32(&b, MUX_MSG_HELLO);
	put_u32(&b, MUX_VERSION);
	if (send_packet(fd, &b) != 0 || recv_packet(fd, &b, MUX_REPLY_MS) != 0) {
		lost(e, ctl, "the hello");
		goto fail;
	}
	if (get_u32(&b, &type) != 0 || type != MUX_MSG_HELLO || get_u32(&b, &ver) != 0 ||
	    ver != MUX_VERSION) {
		qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master on %s speaks another multiplexing "
		    "protocol (hello 0x%08x, version %u; want %d)", ctl, (unsigned)type,
		    (unsigned)ver, MUX_VERSION);
		goto fail;
	}
	free(b.p);
	*fdp = fd;
	return 0;
fail:
	free(b.p);
	close(fd);
	return e->status;
}

int
qq_mux_alive(int fd, long *pid, struct qq_err *e)
{
	struct buf b = { 0 };
	uint32_t type = 0, rid = 0, p = 0;
	int rc = 0;

	put_u32(&b, MUX_C_ALIVE_CHECK);
	put_u32(&b, 1);
	if (send_packet(fd, &b) != 0 || recv_packet(fd, &b, MUX_REPLY_MS) != 0)
		rc = lost(e, NULL, "the alive check");
	else if (get_u32(&b, &type) != 0 || type != MUX_S_ALIVE || get_u32(&b, &rid) != 0 ||
	    rid != 1 || get_u32(&b, &p) != 0)
		rc = qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master gave a bad answer (0x%08x) to "
		    "the alive check", (unsigned)type);
	else
		*pid = (long)p;
	free(b.p);
	return rc;
}

int
qq_mux_session(int fd, const char *cmd, const int fds[3], unsigned *sid, struct qq_err *e)
{
	struct buf b = { 0 };
	char reason[256];
	uint32_t type = 0, rid = 0, s = 0;
	int i, rc = 0;

	/* mux.c, mux_client_request_session: no tty, X11, agent or subsystem, no escape char. */
	put_u32(&b, MUX_C_NEW_SESSION);
	put_u32(&b, 2);
	put_str(&b, "");		/* reserved */
	put_u32(&b, 0);			/* want tty */
	put_u32(&b, 0);			/* want X11 forwarding */
	put_u32(&b, 0);			/* want agent */
	put_u32(&b, 0);			/* subsystem */
	put_u32(&b, 0xffffffffU);	/* no escape char */
	put_str(&b, "");		/* terminal type */
	put_str(&b, cmd);
	if (send_packet(fd, &b) != 0) {
		rc = lost(e, NULL, "the session request");
		goto out;
	}
	/* stdin, stdout, stderr, in that order. */
	for (i = 0; i < 3; i++)
		if (send_fd(fd, fds[i]) != 0) {
			rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to pass a file descriptor to "
			    "the SSH master");
			goto out;
		}
	if (recv_packet(fd, &b, MUX_REPLY_MS) != 0) {
		rc = lost(e, NULL, "the session request");
		goto out;
	}
	if (get_u32(&b, &type) != 0 || get_u32(&b, &rid) != 0 || rid != 2) {
		rc = qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master gave a bad answer to the "
		    "session request");
		goto out;
	}
	switch (type) {
	case MUX_S_SESSION_OPENED:
		if (get_u32(&b, &s) != 0) {
			rc = qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master gave a bad answer to "
			    "the session request");
			break;
		}
		*sid = s;
		break;
	case MUX_S_FAILURE:
	case MUX_S_PERMISSION_DENIED:
		if (get_str(&b, reason, sizeof(reason)) != 0)
			strlcpy(reason, "no reason given", sizeof(reason));
		/* "Session open refused by peer" (mux.c, mux_session_confirm): nothing ran. */
		rc = qq_err_set(e, QQ_MUX_REFUSED, "the SSH master refused the session: %s",
		    reason);
		break;
	default:
		rc = qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH master gave an unexpected answer "
		    "(0x%08x) to the session request", (unsigned)type);
	}
out:
	free(b.p);
	return rc;
}

int
qq_mux_wait(int fd, unsigned sid, int *exitval)
{
	struct buf b = { 0 };
	uint32_t type, s, v;

	/*
	 * The master sends the exit status (if the guest sent one: a death
	 * by a signal has none) and then closes; closing first could lose
	 * output the master still holds (mux.c, mux_client_request_session).
	 */
	*exitval = -1;
	while (recv_packet(fd, &b, -1) == 0) {
		if (get_u32(&b, &type) != 0)
			break;
		if (type == MUX_S_EXIT_MESSAGE && get_u32(&b, &s) == 0 && s == sid &&
		    get_u32(&b, &v) == 0)
			*exitval = (int)(v & 0xff);
	}
	free(b.p);
	return *exitval;
}
