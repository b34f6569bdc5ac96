/* qq-run: every step in one shot (detect-accel, keygen, stage, mkimage, cmdline, spawn); stop; clean. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define MAXLIST 4096

static const char usage_line[] =
    "usage: qq-run [-dnv] [--wait-ssh[=SECONDS]] [--tests DIR]... [--test FILE]... "
    "[--builder NAME] [--base DIR] [--rebuild] [setting options] PROGRAM\n"
    "       qq-run [-nv] stop|clean [--force] [--powerdown-timeout MS] [--quit-timeout MS] "
    "[--term-timeout MS] [--workspace DIR]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	/* A usage error gets one line; --help the whole synopsis. */
	fputs(status == 0 ? usage_line : "usage: qq-run [-dnv] [options] PROGRAM | stop | clean "
	    "(qq-run --help)\n", fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_SSH_PORT), QQ_OPT(QQ_SET_RAM),
		QQ_OPT(QQ_SET_SMP), QQ_OPT(QQ_SET_QNX_ROOT), QQ_OPT(QQ_SET_WORKSPACE),
		QQ_OPT(QQ_SET_ACCEL), QQ_OPT(QQ_SET_SSH_KEY), QQ_OPT(QQ_SET_QEMU),
		{ "tests", 1, NULL, 'T' }, { "test", 1, NULL, 't' }, { "builder", 1, NULL, 'b' },
		{ "base", 1, NULL, 'B' }, { "ssh-pubkey", 1, NULL, 'k' }, { "rebuild", 0, NULL, 'r' },
		{ "kernel", 1, NULL, 'K' }, { "disk", 1, NULL, 'D' }, { "initrd", 1, NULL, 'I' },
		{ "append", 1, NULL, 'A' }, { "detach", 0, NULL, 'd' }, { "wait-ssh", 2, NULL, 'w' },
		{ "tcg-fallback", 0, NULL, 'g' }, { "force", 0, NULL, 'f' },
		{ "powerdown-timeout", 1, NULL, 'p' }, { "quit-timeout", 1, NULL, 'q' },
		{ "term-timeout", 1, NULL, 'm' }, { "dry-run", 0, NULL, 'n' },
		{ "verbose", 0, NULL, 'v' }, { "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *dirs[MAXLIST], *tests[MAXLIST];
	struct qq_run_opts o = { .talk = stderr, .stage = { .tests = tests, .tests_dirs = dirs } };
	struct qq_settings s;
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_err e;
	int ch, rc = 0;

	qq_settings_init(&s);
	qq_stop_defaults(&o.stop);
	qq_cli_options(opts);
	o.verbose = isatty(STDERR_FILENO);
	while (rc == 0 && (ch = getopt_long(argc, argv, "dnvhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'T': if (o.stage.ntests_dirs < MAXLIST) dirs[o.stage.ntests_dirs++] = optarg; break;
		case 't': if (o.stage.ntests < MAXLIST) tests[o.stage.ntests++] = optarg; break;
		case 'b': o.mkimage.builder = optarg; break;
		case 'B': o.mkimage.base = optarg; break;
		case 'k': o.mkimage.ssh_pubkey = optarg; break;
		case 'r': o.mkimage.rebuild = 1; break;
		case 'K': o.cmdline.kernel = optarg; break;
		case 'D': o.cmdline.disk = optarg; break;
		case 'I': o.cmdline.initrd = optarg; break;
		case 'A': o.cmdline.append = optarg; break;
		case 'd': o.cmdline.detach = o.spawn.detach = 1; break;
		case 'w':	/* waiting for the guest implies running detached */
			o.cmdline.detach = o.spawn.detach = 1;
			o.spawn.wait_ssh = -1;
			if (optarg != NULL)
				rc = qq_cli_number("wait-ssh", optarg, 1, 86400, "seconds",
				    &o.spawn.wait_ssh, &e);
			break;
		case 'g': o.spawn.tcg_fallback = 1; break;
		case 'f': o.stop.force = 1; break;
		case 'p': rc = qq_cli_number("powerdown-timeout", optarg, 0, 3600000,
		    "milliseconds", &o.stop.powerdown_ms, &e); break;
		case 'q': rc = qq_cli_number("quit-timeout", optarg, 0, 3600000,
		    "milliseconds", &o.stop.quit_ms, &e); break;
		case 'm': rc = qq_cli_number("term-timeout", optarg, 0, 3600000,
		    "milliseconds", &o.stop.term_ms, &e); break;
		case 'n': o.dry_run = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(stdout, 0);
		case 'V': puts("qq-run " PACKAGE_VERSION); return 0;
		default: usage(stderr, QQ_EXIT_USAGE);
		}
	}
	if (rc != 0)
		return qq_err_report("qq-run", &e);
	if (argc - optind != 1)
		usage(stderr, QQ_EXIT_USAGE);
	if (strcmp(argv[optind], "stop") == 0)
		o.action = QQ_RUN_STOP;
	else if (strcmp(argv[optind], "clean") == 0)
		o.action = QQ_RUN_CLEAN;
	else
		o.stage.program = argv[optind];
	signal(SIGXFSZ, SIG_IGN);	/* ulimit -f: an error cleaned up like a full disk */
	if ((rc = qq_cli_begin(&f, &e)) == 0)
		rc = qq_run(&s, &f, &o, &e);
	if (o.dry_run && o.action == QQ_RUN_START) {
		qq_facts_free(&f);	/* a dry run prints the argv, not facts */
		return rc == 0 ? 0 : qq_err_report("qq-run", &e);
	}
	return qq_cli_end("qq-run", &f, rc, &e);
}
