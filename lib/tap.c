/* tap.c: the TAP version 13 report of a test run (testanything.org/tap-version-13-specification). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

/* A test point's description: '#' would start a directive and '\' escapes, so both are escaped. */
static void
put_desc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '#' || *s == '\\')
			fputc('\\', fp);
		fputc((unsigned char)*s < 0x20 ? '?' : *s, fp);
	}
}

/* A YAML double-quoted scalar. */
static void
put_yaml_str(FILE *fp, const char *s)
{
	size_t len = strlen(s);
	char *c = malloc(len + 1);

	if (c == NULL) {
		fputs("\"?\"", fp);
		return;
	}
	qq_result_clean(c, s, len);
	fputc('"', fp);
	for (const char *p = c; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', fp);
		if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
	free(c);
}

/* The tail of one kept output as a literal block (explicit indentation: a line may start with blanks). */
static int
put_tail(FILE *fp, const char *key, const char *path, struct qq_err *e)
{
	struct qq_tail t;
	const char *p, *nl;

	if (qq_result_tail(path, QQ_TAP_TAIL_LINES, QQ_TAP_TAIL_BYTES, &t, e) != 0)
		return e->status;
	if (t.len > 0) {
		if (t.omitted > 0)
			fprintf(fp, "  %s_omitted_bytes: %llu\n", key, t.omitted);
		fprintf(fp, "  %s: |2\n", key);
		for (p = t.text; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			fprintf(fp, "    %.*s\n", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
		}
	}
	qq_result_tail_free(&t);
	return 0;
}

int
qq_tap_plan(FILE *fp, size_t n, struct qq_err *e)
{
	fputs("TAP version 13\n", fp);
	if (n == 0)
		fputs("1..0 # SKIP no test in this shard\n", fp);
	else
		fprintf(fp, "1..%zu\n", n);
	if (fflush(fp) == EOF || ferror(fp))
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the TAP report");
	return 0;
}

int
qq_tap_result(FILE *fp, size_t num, const struct qq_test_case *c, const struct qq_result *r,
    const char *resdir, struct qq_err *e)
{
	char msg[QQ_ERR_MAX], path[QQ_VALUE_MAX * 2];
	int rc;

	fprintf(fp, "%sok %zu - ", r->outcome == QQ_OUTCOME_PASSED ? "" : "not ", num);
	put_desc(fp, c->name);
	if (r->outcome != QQ_OUTCOME_NOTRUN)
		fprintf(fp, " # time=%.3fms", r->us / 1000.0);
	fputc('\n', fp);
	if (r->outcome != QQ_OUTCOME_PASSED) {
		qq_result_describe(r, msg, sizeof(msg));
		fputs("  ---\n  message: ", fp);
		put_yaml_str(fp, msg);
		fputs("\n  outcome: ", fp);
		put_yaml_str(fp, qq_result_name(r->outcome));
		fputc('\n', fp);
		if (r->outcome == QQ_OUTCOME_FAILED || r->outcome == QQ_OUTCOME_NOSTART)
			fprintf(fp, "  exit_code: %d\n", r->status);
		if (r->outcome == QQ_OUTCOME_CRASHED) {
			fputs("  signal: ", fp);
			put_yaml_str(fp, r->signame);
			fputc('\n', fp);
		}
		if (r->outcome != QQ_OUTCOME_NOTRUN) {
			fprintf(fp, "  duration_ms: %.3f\n", r->us / 1000.0);
			snprintf(path, sizeof(path), "%s/%s.out", resdir, c->stem);
			fputs("  stdout_file: ", fp);
			put_yaml_str(fp, path);
			fputc('\n', fp);
			if ((rc = put_tail(fp, "stdout", path, e)) != 0)
				return rc;
			snprintf(path, sizeof(path), "%s/%s.err", resdir, c->stem);
			fputs("  stderr_file: ", fp);
			put_yaml_str(fp, path);
			fputc('\n', fp);
			if ((rc = put_tail(fp, "stderr", path, e)) != 0)
				return rc;
		}
		fputs("  ...\n", fp);
	}
	if (fflush(fp) == EOF || ferror(fp))
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the TAP report");
	return 0;
}
