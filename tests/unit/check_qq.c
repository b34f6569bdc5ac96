/* check_qq.c: the unit-test runner: every module's suite, TAP through CK_TAP_LOG_FILE_NAME. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
	suite_run,
};

char *
test_tmpdir(void)
{
	char *d;

	if ((d = strdup("/tmp/qq-unit.XXXXXX")) == NULL || mkdtemp(d) == NULL)
		abort();
	return d;
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

int
main(void)
{
	SRunner *sr;
	size_t i;
	int failed;

	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
