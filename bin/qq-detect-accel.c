/* qq-detect-accel: choose kvm or tcg for the target arch on this host, and say why. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qq.h"

static const char prog[] = "qq-detect-accel";

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: %s [-hV] [--accel auto|kvm|tcg] [--arch arch] [--qemu binary]\n",
	    prog);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		QQ_OPT(QQ_SET_ACCEL),
		QQ_OPT(QQ_SET_ARCH),
		QQ_OPT(QQ_SET_QEMU),
		{ "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_accel acc;
	struct qq_err e;
	int ch, rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, QQ_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, QQ_EXIT_USAGE);
	if ((rc = qq_cli_begin(&f, &e)) == 0 &&
	    (rc = qq_accel_facts(&s, &f, &acc, &e)) == 0 && acc.warned)
		qq_err_say(stderr, prog, "warning: using tcg: %s", acc.reason);
	return qq_cli_end(prog, &f, rc, &e);
}
