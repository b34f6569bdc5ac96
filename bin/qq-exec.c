/* qq-exec: run one host binary in the workspace's running VM, as if it ran here (the build systems' emulator hook). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qq.h"

static const char usage_line[] =
    "usage: qq-exec [-v] [--boot] [--timeout SECONDS] [--file HOST[:GUEST]] "
    "[--env NAME[=VALUE]] [--cwd DIR] [--workspace DIR] [--builder NAME] [--base DIR] "
    "BINARY [ARG ...]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	fputs(usage_line, fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		{ "file", 1, NULL, QQ_EXEC_OPT_FILE }, { "env", 1, NULL, QQ_EXEC_OPT_ENV },
		{ "cwd", 1, NULL, QQ_EXEC_OPT_CWD }, { "timeout", 1, NULL, QQ_EXEC_OPT_TIMEOUT },
		{ "boot", 0, NULL, QQ_EXEC_OPT_BOOT }, { "builder", 1, NULL, QQ_EXEC_OPT_BUILDER },
		{ "base", 1, NULL, QQ_EXEC_OPT_BASE }, QQ_OPT(QQ_SET_WORKSPACE),
		QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_SSH_PORT), QQ_OPT(QQ_SET_RAM),
		QQ_OPT(QQ_SET_SMP), QQ_OPT(QQ_SET_ACCEL), QQ_OPT(QQ_SET_QNX_ROOT),
		QQ_OPT(QQ_SET_SSH_KEY), QQ_OPT(QQ_SET_QEMU), { "verbose", 0, NULL, 'v' },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	struct qq_exec_opts o = { 0 };
	struct qq_exec_result r;
	struct qq_settings s;
	struct qq_err e;
	int ch, rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	/* "+": the binary's own arguments are not ours. */
	while ((ch = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'v': o.talk = stderr; continue;
		case 'h': usage(stdout, 0);
		case 'V': puts("qq-exec " PACKAGE_VERSION); return 0;
		case '?': usage(stderr, QQ_EXIT_USAGE);
		}
		if ((rc = qq_exec_option(&o, ch, optarg, &e)) != 0)
			return rc == QQ_EXIT_USAGE ? (usage(stderr, rc), rc) :
			    qq_err_report("qq-exec", &e);
	}
	if (optind == argc)
		usage(stderr, QQ_EXIT_USAGE);
	signal(SIGPIPE, SIG_IGN);	/* a closed reader is the binary's business, not ours */
	rc = qq_exec_run(&s, &o, argv + optind, &r, &e);
	qq_exec_free(&o);
	if (rc != 0)
		return qq_err_report("qq-exec", &e);
	qq_exec_die(&r);
	return r.status;
}
