/* err.c: errors that carry an exit class, reported once by main(). */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LIBBSD_NETBSD_VIS	/* strnvis(dst, dlen, src, flag), NetBSD's argument order */
#include <vis.h>

#include "qq.h"

void
qq_err_vis(char *out, size_t outsz, const char *in, int quoted)
{
	if (outsz == 0)
		return;
	/* strnvis(3) truncates at outsz and NUL-terminates; -1 then: keep what fits. */
	if (strnvis(out, outsz, in, VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_NOLOCALE |
	    (quoted ? VIS_DQ : 0)) == -1)
		out[outsz - 1] = '\0';
}

/* Nonzero when s holds a control character or a byte outside ASCII. */
static int
needs_vis(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 1;
	return 0;
}

/*
 * Every message is one line of printable ASCII: a value holding a newline,
 * an ESC or bytes outside ASCII (a file name, QEMU's words) is escaped here,
 * once for all callers. Idempotent: an escaped message has nothing left to
 * escape, so a message quoted into another (qq-run's step prefix) is not
 * escaped twice.
 */
static void
verr(struct qq_err *e, int status, const char *fmt, va_list ap)
{
	char raw[QQ_ERR_MAX];

	e->status = status;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (needs_vis(raw))
		qq_err_vis(e->msg, sizeof(e->msg), raw, 0);
	else
		memcpy(e->msg, raw, sizeof(raw));
}

int
qq_err_set(struct qq_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(e, status, fmt, ap);
	va_end(ap);
	return status;
}

int
qq_err_sys(struct qq_err *e, int status, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t len;

	va_start(ap, fmt);
	verr(e, status, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	return status;
}

void
qq_err_say(FILE *fp, const char *prog, const char *fmt, ...)
{
	char raw[QQ_ERR_MAX], shown[QQ_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (needs_vis(raw))
		qq_err_vis(shown, sizeof(shown), raw, 0);
	else
		strlcpy(shown, raw, sizeof(shown));
	fprintf(fp, "%s: %s\n", prog, shown);
}

int
qq_err_report(const char *prog, const struct qq_err *e)
{
	fprintf(stderr, "%s: %s\n", prog, e->msg);
	return e->status;
}

int
qq_err_wstatus(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return QQ_EXIT_RUNTIME;
}
