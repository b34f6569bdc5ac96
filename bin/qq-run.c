/* qq-run: every step in one shot (detect-accel, keygen, stage, mkimage, cmdline, spawn); stop; clean. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

static const char usage_line[] =
    "usage: qq-run [-0dnv] [--wait-ssh[=SECONDS]] [--tests DIR]... [--test FILE]... "
    "[--builder NAME] [--base DIR] [--rebuild] [--mkqnximage-opt OPT]... [setting options] PROGRAM\n"
    "       qq-run [-0dnv] [--wait-ssh[=SECONDS]] --image DIR | --kernel FILE [--disk FILE] "
    "[--initrd FILE] [--append ARGS] [setting options]\n"
    "       qq-run --run-tests [--keep] [-j N] [--filter GLOB] [--repeat N] "
    "[--test-timeout SECONDS] [--junit FILE] [start options] PROGRAM\n"
    "       qq-run [-nv] stop|clean [--clean] [--force] [--powerdown-timeout MS] [--quit-timeout MS] "
    "[--term-timeout MS] [--workspace DIR]\n"
    "       qq-run [--workspace DIR] ssh [COMMAND [ARG...]]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	/* A usage error gets one line; --help the whole synopsis and the setting options. */
	fputs(status == 0 ? usage_line : "usage: qq-run [-0dnv] [options] PROGRAM | stop | clean | "
	    "ssh [COMMAND] (qq-run --help)\n", fp);
	if (status == 0)
		qq_cli_help_settings(fp, "qq-run(1)");
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_SSH_PORT), QQ_OPT(QQ_SET_RAM),
		QQ_OPT(QQ_SET_SMP), QQ_OPT(QQ_SET_QNX_ROOT), QQ_OPT(QQ_SET_WORKSPACE),
		QQ_OPT(QQ_SET_ACCEL), QQ_OPT(QQ_SET_SSH_KEY), QQ_OPT(QQ_SET_QEMU),
		{ "tests", 1, NULL, QQ_RUN_OPT_TESTS }, { "test", 1, NULL, QQ_RUN_OPT_TEST },
		{ "builder", 1, NULL, QQ_RUN_OPT_BUILDER }, { "base", 1, NULL, QQ_RUN_OPT_BASE },
		{ "ssh-pubkey", 1, NULL, QQ_RUN_OPT_SSH_PUBKEY },
		{ "rebuild", 0, NULL, QQ_RUN_OPT_REBUILD }, { "kernel", 1, NULL, QQ_RUN_OPT_KERNEL },
		{ "disk", 1, NULL, QQ_RUN_OPT_DISK }, { "initrd", 1, NULL, QQ_RUN_OPT_INITRD },
		{ "append", 1, NULL, QQ_RUN_OPT_APPEND }, { "detach", 0, NULL, 'd' },
		{ "wait-ssh", 2, NULL, QQ_RUN_OPT_WAIT_SSH },
		{ "tcg-fallback", 0, NULL, QQ_RUN_OPT_TCG_FALLBACK },
		{ "force", 0, NULL, QQ_RUN_OPT_FORCE },
		{ "powerdown-timeout", 1, NULL, QQ_RUN_OPT_POWERDOWN },
		{ "quit-timeout", 1, NULL, QQ_RUN_OPT_QUIT },
		{ "term-timeout", 1, NULL, QQ_RUN_OPT_TERM }, { "dry-run", 0, NULL, 'n' },
		{ "clean", 0, NULL, QQ_RUN_OPT_CLEAN }, { "null", 0, NULL, '0' },
		{ "verbose", 0, NULL, 'v' }, { "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
		{ "image", 1, NULL, QQ_RUN_OPT_IMAGE },
		{ "mkqnximage-opt", 1, NULL, QQ_RUN_OPT_MKQNXIMAGE_OPT },
		{ "run-tests", 0, NULL, QQ_RUN_OPT_RUN_TESTS }, { "keep", 0, NULL, QQ_RUN_OPT_KEEP },
		QQ_TEST_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct qq_run_opts o = { .talk = stderr };
	struct qq_settings s;
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_err e;
	int ch, rc = 0, ssh;

	qq_settings_init(&s);
	qq_run_init(&o);
	qq_cli_options(opts);
	o.verbose = isatty(STDERR_FILENO);
	ssh = qq_run_ssh_word(&argc, argv, "+0dnvhVj:", opts);
	while (rc == 0 && (ch = getopt_long(argc, argv, ssh ? "+0dnvhVj:" : "0dnvhVj:", opts,
	    NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		if (ch == 'h')
			usage(stdout, 0);
		if (ch == 'V') {
			puts("qq-run " PACKAGE_VERSION);
			return 0;
		}
		if ((rc = qq_run_option(&o, ch, optarg, &e)) == QQ_EXIT_USAGE)
			usage(stderr, QQ_EXIT_USAGE);
	}
	if (rc == 0 && qq_run_operands(&o, ssh, argc, argv, &e) == QQ_EXIT_USAGE)
		usage(stderr, QQ_EXIT_USAGE);
	if (rc == 0) {
		signal(SIGXFSZ, SIG_IGN);	/* ulimit -f: an error cleaned up like a full disk */
		if ((rc = qq_cli_begin(&f, &e)) == 0)
			rc = qq_run(&s, &f, &o, &e);
		if (!qq_run_prints_facts(&o))
			qq_facts_free(&f);
	}
	qq_run_free(&o);
	if (ssh && rc == 0) {
		qq_facts_free(&f);	/* the guest's output is the output */
		return o.ssh_status;
	}
	return qq_cli_end("qq-run", &f, rc, &e);
}
