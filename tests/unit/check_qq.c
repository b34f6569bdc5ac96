/* check_qq.c: the unit-test runner: every module's suite, TAP through CK_TAP_LOG_FILE_NAME. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"

static Suite *(*const suites[])(void) = {
	suite_cli,
	suite_err,
	suite_facts,
	suite_file,
	suite_proc,
	suite_quote,
	suite_settings,
	suite_workspace,
	suite_accel,
	suite_keygen,
	suite_cmdline,
	suite_copy,
	suite_cpio,
	suite_digest,
	suite_mkimage,
	suite_stage,
	suite_qmp,
	suite_vm,
	suite_stop,
	suite_spawn,
	suite_ready,
	suite_guest,
	suite_run,
	suite_result,
	suite_testplan,
	suite_tap,
	suite_junit,
	suite_guest_run,
	suite_mux,
	suite_exec,
};

/*
 * Every test directory lives under one directory per run, removed when the run ends:
 * a test that fails an assertion (its child exits before its own cleanup) or loses
 * track of a HOME it set leaves nothing behind in /tmp.
 */
static char rundir[] = "/tmp/qq-unit.XXXXXX";

char *
test_tmpdir(void)
{
	char *d;

	if (asprintf(&d, "%s/t.XXXXXX", rundir) == -1 || mkdtemp(d) == NULL)
		abort();
	return d;
}

/*
 * A checked fixture for tests that change HOME, PATH or the working directory: without
 * it, under CK_FORK=no, the next test would run with the HOME of a removed directory.
 */
static char *saved_home, *saved_path, *saved_cwd;

void
test_env_save(void)
{
	const char *v;

	saved_home = (v = getenv("HOME")) != NULL ? strdup(v) : NULL;
	saved_path = (v = getenv("PATH")) != NULL ? strdup(v) : NULL;
	saved_cwd = getcwd(NULL, 0);
}

void
test_env_restore(void)
{
	if (saved_home != NULL)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	if (saved_path != NULL)
		setenv("PATH", saved_path, 1);
	if (saved_cwd != NULL && chdir(saved_cwd) == -1)
		abort();
	free(saved_home);
	free(saved_path);
	free(saved_cwd);
	saved_home = saved_path = saved_cwd = NULL;
}

void
test_rmtree(const char *path)
{
	char *const argv[] = { "rm", "-rf", (char *)path, NULL };
	pid_t pid;

	/* Tests only: the library never removes trees this way. */
	if ((pid = fork()) == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) == -1)
			;
}

void
test_put(const char *dir, const char *name, const void *buf, size_t len, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), -1);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

void
test_puts(const char *dir, const char *name, const char *text, mode_t mode)
{
	test_put(dir, name, text, strlen(text), mode);
}

void
test_subst(char *out, size_t outsz, const char *s, const char *dir)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < outsz; s++) {
		if (*s == '@') {
			o += strlcpy(out + o, dir, outsz - o);
			continue;
		}
		out[o++] = *s;
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

int
main(void)
{
	SRunner *sr;
	size_t i;
	int failed;

	if (mkdtemp(rundir) == NULL) {
		perror(rundir);
		return 99;	/* automake: a hard error */
	}
	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	test_rmtree(rundir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
