/* qq-stage: check the program and its tests, then copy them into the workspace's staging tree. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "qq.h"

#define MAXLIST 4096

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: qq-stage [--arch ARCH] [--workspace DIR] [--tests DIR]... "
	    "[--test FILE]... PROGRAM\n");
}

int
main(int argc, char *argv[])
{
	static struct option opts[] = {
		QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_WORKSPACE),
		{ "tests", required_argument, NULL, 'T' },
		{ "test", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *dirs[MAXLIST], *tests[MAXLIST];
	struct qq_stage_opts o = { .tests = tests, .tests_dirs = dirs };
	struct qq_stage_result res;
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;
	int ch, rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		if (ch == 'T' && o.ntests_dirs < MAXLIST)
			dirs[o.ntests_dirs++] = optarg;
		else if (ch == 't' && o.ntests < MAXLIST)
			tests[o.ntests++] = optarg;
		else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else if (ch == 'V') {
			puts("qq-stage " PACKAGE_VERSION);
			return 0;
		} else {
			usage(stderr);
			return QQ_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return QQ_EXIT_USAGE;
	}
	o.program = argv[optind];
	/* A file size limit (ulimit -f) becomes an EFBIG error, cleaned up like a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	rc = qq_cli_begin(&f, &e);
	if (rc == 0)
		rc = qq_stage_facts(&s, &f, &o, &res, &e);
	return qq_cli_end("qq-stage", &f, rc, &e);
}
