/* quote.c: arguments one per line, quoted the way xargs(1) unquotes them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

/* Bytes that xargs treats as separators or quoting. */
static const char special[] = " \t\n\v\f\r'\"\\";

int
qq_quote_write(FILE *fp, const char *arg)
{
	const char *p;

	if (strchr(arg, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (*arg != '\0' && strpbrk(arg, special) == NULL)
		return fputs(arg, fp) == EOF ? -1 : 0;
	/* Single quotes protect everything but a single quote: close, escape, reopen. */
	if (putc('\'', fp) == EOF)
		return -1;
	for (p = arg; *p != '\0'; p++) {
		if (*p == '\'') {
			if (fputs("'\\''", fp) == EOF)
				return -1;
		} else if (putc(*p, fp) == EOF)
			return -1;
	}
	return putc('\'', fp) == EOF ? -1 : 0;
}

int
qq_quote_argv(FILE *fp, char *const argv[], int nul, struct qq_err *e)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++) {
		if (nul) {
			if (fputs(argv[i], fp) == EOF || putc('\0', fp) == EOF)
				break;
			continue;
		}
		if (qq_quote_write(fp, argv[i]) == -1) {
			if (errno == EINVAL)
				return qq_err_set(e, QQ_EXIT_INPUT,
				    "argument %zu holds a newline; use -0", i);
			break;
		}
		if (putc('\n', fp) == EOF)
			break;
	}
	if (argv[i] != NULL || fflush(fp) == EOF || ferror(fp))
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write arguments");
	return 0;
}

void
qq_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

struct buf {
	char	*p;
	size_t	 len, cap;
};

static int
buf_put(struct buf *b, char c)
{
	char *p;

	if (b->len + 1 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;

		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return 0;
}

static int
argv_push(char ***argvp, size_t *argcp, size_t *capp, struct buf *b)
{
	char **v;

	if (*argcp + 2 > *capp) {
		size_t cap = *capp ? *capp * 2 : 16;

		if ((v = reallocarray(*argvp, cap, sizeof(*v))) == NULL)
			return -1;
		*argvp = v;
		*capp = cap;
	}
	if (b->p == NULL && (b->p = strdup("")) == NULL)	/* an empty argument: '' */
		return -1;
	(*argvp)[(*argcp)++] = b->p;
	(*argvp)[*argcp] = NULL;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

int
qq_unquote_read(FILE *fp, int nul, char ***argvp, size_t *argcp, struct qq_err *e)
{
	struct buf b = { NULL, 0, 0 };
	char **argv = NULL;
	size_t argc = 0, cap = 0, line = 1;
	int c, quote = 0, inarg = 0;

	while ((c = getc(fp)) != EOF) {
		if (nul) {
			if (c == '\0') {
				if (argv_push(&argv, &argc, &cap, &b) == -1)
					goto nomem;
			} else if (buf_put(&b, (char)c) == -1)
				goto nomem;
			inarg = c != '\0';
			continue;
		}
		if (quote) {
			if (c == '\n')
				goto unmatched;
			if (c == quote)
				quote = 0;
			else if (buf_put(&b, (char)c) == -1)
				goto nomem;
			continue;
		}
		switch (c) {
		case '\n':
			line++;
			/* FALLTHROUGH */
		case ' ': case '\t': case '\v': case '\f': case '\r':
			if (inarg && argv_push(&argv, &argc, &cap, &b) == -1)
				goto nomem;
			inarg = 0;
			break;
		case '\'': case '"':
			quote = c;
			inarg = 1;
			break;
		case '\\':
			if ((c = getc(fp)) == EOF) {
				qq_err_set(e, QQ_EXIT_INPUT,
				    "bad argument at line %zu: backslash at end of input", line);
				goto fail;
			}
			if (c == '\n')
				line++;
			/* FALLTHROUGH */
		default:
			if (buf_put(&b, (char)c) == -1)
				goto nomem;
			inarg = 1;
		}
	}
	/* A closed descriptor (qq-spawn <&-) holds no arguments, like /dev/null. */
	if (ferror(fp) && errno != EBADF) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read arguments");
		goto fail;
	}
	if (quote)
		goto unmatched;
	if (inarg && argv_push(&argv, &argc, &cap, &b) == -1)
		goto nomem;
	if (argv == NULL) {
		if ((argv = calloc(1, sizeof(*argv))) == NULL)
			goto nomem;
	}
	*argvp = argv;
	*argcp = argc;
	return 0;
unmatched:
	qq_err_set(e, QQ_EXIT_INPUT, "bad argument at line %zu: unmatched %s quote", line,
	    quote == '"' ? "double" : "single");
	goto fail;
nomem:
	qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read arguments");
fail:
	free(b.p);
	qq_argv_free(argv);
	return e->status;
}
