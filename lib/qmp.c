/* qmp.c: a small QMP client: greeting, qmp_capabilities, one command at a time, bounded reads. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"

/* Reads one line (without its newline) before the deadline; the line stays in q->buf. */
static int
read_line(struct qq_qmp *q, long long deadline, size_t *linelen, struct qq_err *e)
{
	struct pollfd pfd;
	char *nl;
	ssize_t n;
	long long left;

	for (;;) {
		if ((nl = memchr(q->buf, '\n', q->len)) != NULL) {
			*linelen = (size_t)(nl - q->buf);
			*nl = '\0';
			return 0;
		}
		if (q->len >= sizeof(q->buf) - 1)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP reply longer than %zu bytes",
			    sizeof(q->buf) - 1);
		if ((left = deadline - qq_vm_now_ms()) <= 0)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP did not answer in time");
		pfd.fd = q->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read QMP");
		}
		if (pfd.revents == 0)
			continue;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read QMP");
		}
		if (n == 0)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP connection closed");
		q->len += (size_t)n;
	}
}

/* Drops the line returned by read_line. */
static void
consume(struct qq_qmp *q, size_t linelen)
{
	memmove(q->buf, q->buf + linelen + 1, q->len - linelen - 1);
	q->len -= linelen + 1;
}

static int
send_all(struct qq_qmp *q, const char *s, long long deadline, struct qq_err *e)
{
	size_t len = strlen(s);
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		n = send(q->fd, s, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write QMP");
			if (qq_vm_now_ms() >= deadline)
				return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP did not read in time");
			pfd.fd = q->fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, (int)(deadline - qq_vm_now_ms()));
			continue;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits for the reply to the last command: a "return" or "error" line; events are skipped. */
static int
await_reply(struct qq_qmp *q, long long deadline, char **reply, struct qq_err *e)
{
	char desc[256];
	size_t len;

	for (;;) {
		if (read_line(q, deadline, &len, e) != 0)
			return e->status;
		if (strstr(q->buf, "\"return\"") != NULL && strstr(q->buf, "\"event\"") == NULL)
			break;
		if (strncmp(q->buf, "{\"error\"", 8) == 0) {
			if (qq_qmp_string(q->buf, "desc", desc, sizeof(desc)) == -1)
				strlcpy(desc, "unknown error", sizeof(desc));
			consume(q, len);
			return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP error: %s", desc);
		}
		consume(q, len);	/* an event or the greeting */
	}
	if (reply != NULL && (*reply = strdup(q->buf)) == NULL) {
		consume(q, len);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read QMP");
	}
	consume(q, len);
	return 0;
}

int
qq_qmp_open(struct qq_qmp *q, const char *path, int timeout_ms, struct qq_err *e)
{
	struct sockaddr_un sun;
	long long deadline = qq_vm_now_ms() + timeout_ms;
	size_t len;

	q->fd = -1;
	q->len = 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >= sizeof(sun.sun_path))
		return qq_err_set(e, QQ_EXIT_INPUT, "QMP socket path %s is longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
	if ((q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to connect to %s", path);
	/* A unix-socket connect completes or fails at once; EAGAIN means a full backlog. */
	if (connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to connect to %s", path);
		goto fail;
	}
	/* The greeting is the first line: {"QMP": {...}}. */
	if (read_line(q, deadline, &len, e) != 0)
		goto fail;
	if (strncmp(q->buf, "{\"QMP\"", 6) != 0) {
		qq_err_set(e, QQ_EXIT_RUNTIME, "%s does not speak QMP", path);
		goto fail;
	}
	consume(q, len);
	if (send_all(q, "{\"execute\": \"qmp_capabilities\"}\n", deadline, e) != 0 ||
	    await_reply(q, deadline, NULL, e) != 0)
		goto fail;
	return 0;
fail:
	qq_qmp_close(q);
	return e->status;
}

int
qq_qmp_cmd(struct qq_qmp *q, const char *cmd, int timeout_ms, char **reply, struct qq_err *e)
{
	long long deadline = qq_vm_now_ms() + timeout_ms;
	char *line;
	int rc;

	if (reply != NULL)
		*reply = NULL;
	if (q->fd == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP is not connected");
	if ((line = malloc(strlen(cmd) + 2)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write QMP");
	strcpy(line, cmd);
	strcat(line, "\n");
	rc = send_all(q, line, deadline, e);
	free(line);
	if (rc == 0 && (rc = await_reply(q, deadline, reply, e)) != 0 &&
	    strncmp(e->msg, "QMP error: ", 11) != 0)
		qq_qmp_close(q);	/* a late reply must never answer the next command */
	return rc;
}

void
qq_qmp_close(struct qq_qmp *q)
{
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
	q->len = 0;
}

int
qq_qmp_string(const char *json, const char *key, char *out, size_t outsz)
{
	char pat[128];
	const char *p;
	size_t o = 0;

	if ((size_t)snprintf(pat, sizeof(pat), "\"%s\"", key) >= sizeof(pat) || outsz == 0)
		return -1;
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"')
		return -1;
	for (; *p != '"'; p++) {
		char c = *p;

		if (c == '\0')
			return -1;
		if (c == '\\') {
			switch (*++p) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': c = *p; break;
			case 'u':
				/* Only ASCII escapes occur in what we read; others become '?'. */
				if (strspn(p + 1, "0123456789abcdefABCDEF") < 4)
					return -1;
				{
					char hex[5] = { p[1], p[2], p[3], p[4], '\0' };
					unsigned long v = strtoul(hex, NULL, 16);

					c = v > 0 && v < 0x80 ? (char)v : '?';
				}
				p += 4;
				break;
			default:
				return -1;
			}
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
qq_qmp_usernet_port(const char *text)
{
	const char *p, *errstr;
	char addr[64], port[16], daddr[64], dport[16];
	long long n;

	/* "  TCP[HOST_FORWARD]  11       127.0.0.1 40685       10.0.2.15    22 ..." */
	for (p = text; (p = strstr(p, "TCP[HOST_FORWARD]")) != NULL; p++) {
		const char *q = p + strlen("TCP[HOST_FORWARD]");
		int fd;

		if (sscanf(q, " %d %63s %15s %63s %15s", &fd, addr, port, daddr, dport) != 5 ||
		    strcmp(dport, "22") != 0)
			continue;
		n = strtonum(port, 1, 65535, &errstr);
		if (errstr == NULL)
			return (int)n;
	}
	return -1;
}
