/* err.c: errors that carry an exit class, reported once by main(). */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qq.h"

static void
verr(struct qq_err *e, int status, const char *fmt, va_list ap)
{
	e->status = status;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
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
