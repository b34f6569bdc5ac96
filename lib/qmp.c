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

#include <jansson.h>

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

/*
 * The kind of one QMP line, by its top-level member (QEMU's docs/interop/qmp-spec:
 * a server message is a JSON object holding exactly one of "QMP" (greeting),
 * "return", "error" (with "desc") or "event"). Parsed with jansson, so a key name
 * inside a string value never counts (https://jansson.readthedocs.io/en/latest/apiref.html).
 */
int
qq_qmp_kind(const char *line, char *desc, size_t descsz)
{
	json_t *root, *v;
	int kind = QQ_QMP_OTHER;

	if (desc != NULL && descsz > 0)
		*desc = '\0';
	if ((root = json_loads(line, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return QQ_QMP_OTHER;
	if (!json_is_object(root))
		goto out;
	if (json_object_get(root, "QMP") != NULL)
		kind = QQ_QMP_GREETING;
	else if (json_object_get(root, "return") != NULL)
		kind = QQ_QMP_RETURN;
	else if ((v = json_object_get(root, "event")) != NULL) {
		kind = QQ_QMP_EVENT;
		if (json_is_string(v) && desc != NULL && descsz > 0)
			strlcpy(desc, json_string_value(v), descsz);
	} else if ((v = json_object_get(root, "error")) != NULL) {
		kind = QQ_QMP_ERROR;
		v = json_is_object(v) ? json_object_get(v, "desc") : NULL;
		if (desc != NULL && descsz > 0)
			strlcpy(desc, json_is_string(v) ? json_string_value(v) : "unknown error",
			    descsz);
	}
out:
	json_decref(root);
	return kind;
}

/* Waits for the reply to the last command: a "return" or "error" line; events are skipped. */
static int
await_reply(struct qq_qmp *q, long long deadline, char **reply, struct qq_err *e)
{
	char desc[256];
	size_t len;
	int kind;

	for (;;) {
		if (read_line(q, deadline, &len, e) != 0)
			return e->status;
		if ((kind = qq_qmp_kind(q->buf, desc, sizeof(desc))) == QQ_QMP_RETURN)
			break;
		if (kind == QQ_QMP_ERROR) {
			consume(q, len);
			return qq_err_set(e, QQ_EXIT_RUNTIME, "QMP error: %s", desc);
		}
		consume(q, len);	/* an event, the greeting, or a line that is not QMP */
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
	if (qq_qmp_kind(q->buf, NULL, 0) != QQ_QMP_GREETING) {
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

/* Depth first through objects (member order), never into strings: the first key holding a string. */
static const char *
find_string(json_t *v, const char *key, int depth)
{
	const char *k, *found;
	json_t *m;

	if (!json_is_object(v) || depth > 32)
		return NULL;
	if ((m = json_object_get(v, key)) != NULL)
		return json_is_string(m) ? json_string_value(m) : NULL;
	json_object_foreach(v, k, m)
		if ((found = find_string(m, key, depth + 1)) != NULL)
			return found;
	return NULL;
}

int
qq_qmp_string(const char *json, const char *key, char *out, size_t outsz)
{
	json_t *root;
	const char *v;
	int rc = -1;

	if (outsz == 0 || (root = json_loads(json, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if ((v = find_string(root, key, 0)) != NULL && strlcpy(out, v, outsz) < outsz)
		rc = 0;
	json_decref(root);
	return rc;
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
