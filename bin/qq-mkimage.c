/* qq-mkimage: build the guest image from the staged files, or reuse it when nothing changed. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qq.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: qq-mkimage [--builder mkqnximage|initramfs] [--base DIR] "
	    "[--ssh-pubkey FILE] [--rebuild] [--mkqnximage-opt OPT]... [--arch ARCH] "
	    "[--ram SIZE] [--workspace DIR] [--qnx-root DIR]\n");
}

int
main(int argc, char *argv[])
{
	static struct option opts[] = {
		QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_WORKSPACE), QQ_OPT(QQ_SET_QNX_ROOT),
		QQ_OPT(QQ_SET_RAM),
		{ "mkqnximage-opt", required_argument, NULL, 'o' },
		{ "builder", required_argument, NULL, 'b' },
		{ "base", required_argument, NULL, 'B' },
		{ "ssh-pubkey", required_argument, NULL, 'k' },
		{ "rebuild", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct qq_mkimage_opts o = { .talk = stderr };
	struct qq_mkimage_result r;
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;
	const char *qopts[argc > 0 ? argc : 1];	/* --mkqnximage-opt, in order */
	int ch, rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	o.qnx_opts = qopts;
	while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'b': o.builder = optarg; break;
		case 'B': o.base = optarg; break;
		case 'k': o.ssh_pubkey = optarg; break;
		case 'r': o.rebuild = 1; break;
		case 'o': qopts[o.nqnx_opts++] = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("qq-mkimage " PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return QQ_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return QQ_EXIT_USAGE;
	}
	rc = qq_cli_begin(&f, &e);
	if (rc == 0)
		rc = qq_mkimage_facts(&s, &f, &o, &r, &e);
	return qq_cli_end("qq-mkimage", &f, rc, &e);
}
