/* result.c: what became of one test (its outcome, in words), and the tail of the output it kept. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

static const char *const names[] = {
	[QQ_OUTCOME_PASSED] = "passed",
	[QQ_OUTCOME_FAILED] = "failed",
	[QQ_OUTCOME_CRASHED] = "crashed",
	[QQ_OUTCOME_TIMEDOUT] = "timed out",
	[QQ_OUTCOME_NOSTART] = "could not start",
	[QQ_OUTCOME_NOTRUN] = "not run",
};

const char *
qq_result_name(enum qq_outcome o)
{
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

void
qq_result_set(struct qq_result *r, int status, int timed_out, const char *signame)
{
	r->status = status;
	r->signame[0] = '\0';
	r->why[0] = '\0';
	if (timed_out) {
		r->outcome = QQ_OUTCOME_TIMEDOUT;
		r->status = QQ_RESULT_TIMEOUT;
	} else if (status == 0)
		r->outcome = QQ_OUTCOME_PASSED;
	else if (status == QQ_EXIT_NOEXEC || status == QQ_EXIT_NOTFOUND)
		r->outcome = QQ_OUTCOME_NOSTART;	/* what the guest's shell says (POSIX sh 2.8.2) */
	else if (status > 128 && status < 128 + 65) {
		r->outcome = QQ_OUTCOME_CRASHED;
		/*
		 * Signal numbers differ between guests (QNX follows System V: SIGBUS is 10,
		 * SIGUSR1 16; Linux has 7 and 10), so the name comes from the guest's own
		 * "kill -l"; without one, only the number is known.
		 */
		if (signame != NULL && *signame != '\0')
			snprintf(r->signame, sizeof(r->signame), "%s%.12s",
			    strncmp(signame, "SIG", 3) == 0 ? "" : "SIG", signame);
		else
			snprintf(r->signame, sizeof(r->signame), "signal %d", status - 128);
	} else
		r->outcome = QQ_OUTCOME_FAILED;
}

void
qq_result_notrun(struct qq_result *r, const char *why)
{
	r->outcome = QQ_OUTCOME_NOTRUN;
	r->status = -1;
	r->signame[0] = '\0';
	r->us = 0;
	strlcpy(r->why, why, sizeof(r->why));
}

void
qq_result_describe(const struct qq_result *r, char *buf, size_t sz)
{
	switch (r->outcome) {
	case QQ_OUTCOME_PASSED:
		snprintf(buf, sz, "passed");
		break;
	case QQ_OUTCOME_FAILED:
		snprintf(buf, sz, "failed: exit code %d", r->status);
		break;
	case QQ_OUTCOME_CRASHED:
		snprintf(buf, sz, "crashed: %s", r->signame);
		break;
	case QQ_OUTCOME_TIMEDOUT:
		snprintf(buf, sz, "timed out after %.1f s: its process group was killed",
		    r->us / 1e6);
		break;
	case QQ_OUTCOME_NOSTART:
		snprintf(buf, sz, "could not start: %s (exit %d)", r->status == QQ_EXIT_NOTFOUND ?
		    "not found" : "not executable or wrong format", r->status);
		break;
	case QQ_OUTCOME_NOTRUN:
		snprintf(buf, sz, "not run: %s", r->why[0] ? r->why : "the runner failed");
		break;
	}
}

/*
 * Copies len bytes of src to dst as valid UTF-8 without the control
 * characters that XML 1.0 and YAML refuse (tab and newline stay); anything
 * else becomes '?'. dst holds at least len + 1 bytes. Returns dst's length.
 */
size_t
qq_result_clean(char *dst, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n, k;
	unsigned cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			dst[o++] = (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' ? (char)c : '?';
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			dst[o++] = '?';
			i++;
			continue;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Truncated, overlong, surrogates, beyond U+10FFFF, C1 controls, U+FFFE/F. */
		if (k <= n || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp < 0xa0) ||
		    cp == 0xfffe || cp == 0xffff) {
			dst[o++] = '?';
			i++;
			continue;
		}
		memcpy(dst + o, s + i, n + 1);
		o += n + 1;
		i += n + 1;
	}
	dst[o] = '\0';
	return o;
}

int
qq_result_tail(const char *path, int lines, size_t maxbytes, struct qq_tail *t, struct qq_err *e)
{
	struct stat st;
	char *raw = NULL;
	size_t len, start;
	ssize_t n;
	off_t off;
	int fd, seen;

	memset(t, 0, sizeof(*t));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;	/* nothing kept: a test that never started */
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	/* Only the end of the file is read: a test may have printed gigabytes. */
	off = st.st_size > (off_t)maxbytes ? st.st_size - (off_t)maxbytes : 0;
	len = (size_t)(st.st_size - off);
	if ((raw = malloc(len + 1)) == NULL)
		goto fail;
	if ((n = pread(fd, raw, len, off)) == -1)
		goto fail;
	len = (size_t)n;
	/* Drop one trailing newline; then count lines back from the end. */
	if (len > 0 && raw[len - 1] == '\n')
		len--;
	for (start = len, seen = 0; start > 0; start--)
		if (raw[start - 1] == '\n' && ++seen == lines)
			break;
	t->size = (unsigned long long)st.st_size;
	t->omitted = (unsigned long long)off + start;
	if ((t->text = malloc(len - start + 1)) == NULL)
		goto fail;
	t->len = qq_result_clean(t->text, raw + start, len - start);
	/* A cut in the middle of a line (or of a character) is an omission too. */
	if (start == 0 && off > 0)
		t->cut = 1;
	free(raw);
	close(fd);
	return 0;
fail:
	qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
	free(raw);
	close(fd);
	return e->status;
}

void
qq_result_tail_free(struct qq_tail *t)
{
	free(t->text);
	t->text = NULL;
	t->len = 0;
}
