/* testplan.c: which staged tests qq-test runs, in what order and how often (filter, shard, repeat). */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

#define TESTS_DIR QQ_STAGE_HOME "/tests/"

void
qq_testplan_free(struct qq_test_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].guest);
		free(p->v[i].stem);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int
push(struct qq_test_plan *p, const char *name, const char *guest, int run, int repeat,
    struct qq_err *e)
{
	struct qq_test_case *c, *v;

	if ((v = reallocarray(p->v, p->n + 1, sizeof(*v))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the tests");
	p->v = v;
	c = &p->v[p->n];
	memset(c, 0, sizeof(*c));
	c->run = run;
	/* With --repeat, every run has its own name and its own kept output. */
	if ((repeat > 1 ? asprintf(&c->name, "%s [%d/%d]", name, run, repeat) :
	    asprintf(&c->name, "%s", name)) == -1 ||
	    (repeat > 1 ? asprintf(&c->stem, "%s.run%d", name, run) :
	    asprintf(&c->stem, "%s", name)) == -1 ||
	    (c->guest = strdup(guest)) == NULL) {
		free(c->name);
		free(c->stem);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the tests");
	}
	p->n++;
	return 0;
}

int
qq_testplan_build(const struct qq_facts *f, const struct qq_test_select *sel,
    struct qq_test_plan *p, struct qq_err *e)
{
	char guest[QQ_VALUE_MAX], host[QQ_VALUE_MAX];
	const char *name;
	size_t i, k = 0;
	int run, rc, repeat = sel->repeat > 0 ? sel->repeat : 1;

	memset(p, 0, sizeof(*p));
	if (sel->shard_total < 0 || (sel->shard_total > 0 &&
	    (sel->shard_index < 0 || sel->shard_index >= sel->shard_total)))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad shard %d of %d: the index must be from 0 "
		    "to the total minus 1", sel->shard_index, sel->shard_total);
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].key, "stage") != 0)
			continue;
		if ((rc = qq_stage_parse(f->v[i].value, guest, sizeof(guest), host, sizeof(host),
		    e)) != 0)
			goto fail;
		/* Tests are what qq-stage put under tests/, in the order it staged them. */
		if (strncmp(guest, TESTS_DIR, strlen(TESTS_DIR)) != 0)
			continue;
		name = guest + strlen(TESTS_DIR);
		p->staged++;
		if (sel->filter != NULL && fnmatch(sel->filter, name, 0) != 0)
			continue;
		p->matched++;
		/* Bazel's sharding: test k of the matching ones belongs to shard k mod total. */
		if (sel->shard_total > 0 && (int)(k++ % (size_t)sel->shard_total) !=
		    sel->shard_index)
			continue;
		for (run = 1; run <= repeat; run++)
			if ((rc = push(p, name, guest, run, repeat, e)) != 0)
				goto fail;
	}
	if (p->staged == 0) {
		rc = qq_err_set(e, QQ_EXIT_INPUT, "no tests staged: no stage fact under %s "
		    "(stage them with qq-stage --tests DIR or --test FILE)", TESTS_DIR);
		goto fail;
	}
	if (p->matched == 0) {
		rc = qq_err_set(e, QQ_EXIT_INPUT, "no staged test matches the filter \"%.200s\"",
		    sel->filter);
		goto fail;
	}
	return 0;
fail:
	qq_testplan_free(p);
	return rc;
}

static int
only_names(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
qq_testplan_staged(const char *ws, struct qq_facts *f, struct qq_err *e)
{
	char dir[QQ_VALUE_MAX + 64], host[QQ_VALUE_MAX * 2], value[QQ_VALUE_MAX * 3];
	struct dirent **v = NULL;
	struct stat st;
	int n, i, rc = 0;

	for (i = 0; i < (int)f->n; i++)
		if (strcmp(f->v[i].key, "stage") == 0)
			return 0;	/* the facts say what was staged */
	/* The staging tree mirrors the guest's paths; qq-stage stages tests sorted by name. */
	snprintf(dir, sizeof(dir), "%s/%s%s", ws, QQ_STAGE_DIR, TESTS_DIR);
	if ((n = scandir(dir, &v, only_names, alphasort)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", dir);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "%s%s", dir, v[i]->d_name);
		snprintf(value, sizeof(value), "%s%s\t%s", TESTS_DIR, v[i]->d_name, host);
		if (rc == 0 && lstat(host, &st) == 0 && S_ISREG(st.st_mode) &&
		    strpbrk(v[i]->d_name, "\t\n") == NULL)
			rc = qq_facts_add(f, "stage", value, e);
		free(v[i]);
	}
	free(v);
	return rc;
}

/*
 * The list of files the last run wrote in a results directory: the only
 * files a later run removes there (a user's own files, and anything older
 * than the list, stay).
 */
#define OUTPUTS_LIST	".qq-test-outputs"
#define OUTPUTS_HEAD	"# qq-test: the files its last run wrote here (removed by the next)\n"

/* A name from the list that is a file directly in the directory, never a path out of it. */
static int
list_name_ok(const char *s)
{
	return *s != '\0' && *s != '.' && *s != '#' && strchr(s, '/') == NULL;
}

/* Appends the plan's file names (STEM.out, STEM.err), one a line. */
static void
plan_names(FILE *fp, const struct qq_test_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (list_name_ok(p->v[i].stem) && strchr(p->v[i].stem, '\n') == NULL)
			fprintf(fp, "%s.out\n%s.err\n", p->v[i].stem, p->v[i].stem);
}

/* Writes the list: the plan's names, and old's lines (those still to remove) when given. */
static int
list_write(const char *path, const struct qq_test_plan *p, const char *old, struct qq_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	fputs(OUTPUTS_HEAD, fp);
	plan_names(fp, p);
	if (old != NULL)
		fputs(old, fp);
	if (fclose(fp) != 0) {
		free(buf);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	}
	rc = qq_file_write_atomic(path, buf, len, 0644, e);
	free(buf);
	return rc;
}

int
qq_testplan_outputs(const char *resdir, const struct qq_test_plan *p, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 32], *old = NULL, *s, *line;
	struct stat st;
	size_t len;
	int dfd, rc = 0;

	if ((dfd = open(resdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;	/* no earlier run here; nothing to list either */
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", resdir);
	}
	if (qq_file_join(path, sizeof(path), resdir, OUTPUTS_LIST, e) != 0) {
		close(dfd);
		return e->status;
	}
	if (fstatat(dfd, OUTPUTS_LIST, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (rc = qq_file_read(path, 16 << 20, &old, &len, e)) != 0)
		goto out;
	if (old != NULL && memchr(old, '\0', len) != NULL) {
		rc = qq_err_set(e, QQ_EXIT_RUNTIME, "unable to read %s: not a list of files",
		    path);
		goto out;
	}
	/*
	 * The old names stay listed until they are gone, so that a run killed
	 * meanwhile leaves none of them unlisted.
	 */
	if (old != NULL && (rc = list_write(path, p, old, e)) != 0)
		goto out;
	for (s = old; s != NULL && (line = strsep(&s, "\n")) != NULL; ) {
		if (!list_name_ok(line) || fstatat(dfd, line, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, line, 0) == -1 && errno != ENOENT) {
			rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s/%s", resdir, line);
			goto out;
		}
	}
	rc = list_write(path, p, NULL, e);
out:
	free(old);
	close(dfd);
	return rc;
}
