/* facts.c: reading, editing and writing the key=value facts between programs. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

void
qq_facts_free(struct qq_facts *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	free(f->v);
	f->v = NULL;
	f->n = f->cap = 0;
}

int
qq_facts_key_ok(const char *key)
{
	const char *p;

	if (*key < 'a' || *key > 'z')
		return 0;
	for (p = key + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int
append(struct qq_facts *f, const char *key, size_t keylen, const char *value,
    size_t valuelen, struct qq_err *e)
{
	struct qq_fact *v;
	char *k, *val;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;

		if ((v = reallocarray(f->v, cap, sizeof(*v))) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to store facts");
		f->v = v;
		f->cap = cap;
	}
	k = strndup(key, keylen);
	val = strndup(value, valuelen);
	if (k == NULL || val == NULL) {
		free(k);
		free(val);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to store facts");
	}
	f->v[f->n].key = k;
	f->v[f->n].value = val;
	f->n++;
	return 0;
}

int
qq_facts_read(struct qq_facts *f, FILE *fp, const char *name, struct qq_err *e)
{
	char *line = NULL, *eq;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len) != NULL) {
			rc = qq_err_set(e, QQ_EXIT_INPUT,
			    "bad fact at %s line %zu: NUL byte", name, lineno);
			break;
		}
		if (len == 0)
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = qq_err_set(e, QQ_EXIT_INPUT,
			    "bad fact at %s line %zu: no '=' in \"%.60s\"", name, lineno, line);
			break;
		}
		*eq = '\0';
		if (!qq_facts_key_ok(line)) {
			rc = qq_err_set(e, QQ_EXIT_INPUT,
			    "bad fact at %s line %zu: bad key \"%.60s\"", name, lineno, line);
			break;
		}
		if ((rc = append(f, line, (size_t)(eq - line), eq + 1,
		    (size_t)(len - (eq + 1 - line)), e)) != 0)
			break;
	}
	if (rc == 0 && ferror(fp))
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read facts from %s", name);
	free(line);
	return rc;
}

int
qq_facts_read_stdin(struct qq_facts *f, struct qq_err *e)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) == -1)
		return 0;	/* closed stdin: no facts */
	if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISSOCK(st.st_mode))
		return 0;
	return qq_facts_read(f, stdin, "standard input", e);
}

const char *
qq_facts_get(const struct qq_facts *f, const char *key)
{
	size_t i;

	for (i = f->n; i > 0; i--)
		if (strcmp(f->v[i - 1].key, key) == 0)
			return f->v[i - 1].value;
	return NULL;
}

void
qq_facts_del(struct qq_facts *f, const char *key)
{
	size_t i, j;

	for (i = j = 0; i < f->n; i++) {
		if (strcmp(f->v[i].key, key) == 0) {
			free(f->v[i].key);
			free(f->v[i].value);
		} else
			f->v[j++] = f->v[i];
	}
	f->n = j;
}

int
qq_facts_add(struct qq_facts *f, const char *key, const char *value, struct qq_err *e)
{
	if (!qq_facts_key_ok(key))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad fact key \"%s\"", key);
	if (strchr(value, '\n') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "bad value for fact %s: it holds a newline", key);
	return append(f, key, strlen(key), value, strlen(value), e);
}

int
qq_facts_set(struct qq_facts *f, const char *key, const char *value, struct qq_err *e)
{
	if (!qq_facts_key_ok(key))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad fact key \"%s\"", key);
	if (strchr(value, '\n') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "bad value for fact %s: it holds a newline", key);
	qq_facts_del(f, key);
	return append(f, key, strlen(key), value, strlen(value), e);
}

int
qq_facts_setf(struct qq_facts *f, struct qq_err *e, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to store fact %s", key);
	rc = qq_facts_set(f, key, v, e);
	free(v);
	return rc;
}

int
qq_facts_write(const struct qq_facts *f, FILE *fp, struct qq_err *e)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (fprintf(fp, "%s=%s\n", f->v[i].key, f->v[i].value) < 0)
			break;
	if (fflush(fp) == EOF || ferror(fp))
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write facts");
	return 0;
}
