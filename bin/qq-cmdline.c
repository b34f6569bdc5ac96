/* qq-cmdline: turn the facts into the exact QEMU argv, one argument per line. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qq.h"

static const char prog[] = "qq-cmdline";

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: %s [-0dhV] [--accel auto|kvm|tcg] [--append args] [--arch arch] "
	    "[--disk path] [--initrd path] [--kernel path] [--qemu binary] [--ram size] "
	    "[--smp n] [--ssh-port port] [--workspace dir]\n", prog);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		QQ_OPT(QQ_SET_ACCEL), QQ_OPT(QQ_SET_ARCH), QQ_OPT(QQ_SET_QEMU),
		QQ_OPT(QQ_SET_RAM), QQ_OPT(QQ_SET_SMP), QQ_OPT(QQ_SET_SSH_PORT),
		QQ_OPT(QQ_SET_WORKSPACE),
		{ "append", 1, NULL, 'a' }, { "disk", 1, NULL, 'D' },
		{ "initrd", 1, NULL, 'i' }, { "kernel", 1, NULL, 'k' },
		{ "detach", 0, NULL, 'd' }, { "null", 0, NULL, '0' },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct qq_cmdline_opts o = { 0 };
	struct qq_cmdline c = { 0 };
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;
	int ch, i, nul = 0, rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	while ((ch = getopt_long(argc, argv, "0dhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case '0': nul = 1; break;
		case 'd': o.detach = 1; break;
		case 'a': o.append = optarg; break;
		case 'D': o.disk = optarg; break;
		case 'i': o.initrd = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'h': usage(stdout, 0); break;
		case 'V': printf("%s %s\n", prog, PACKAGE_VERSION); return 0;
		default: usage(stderr, QQ_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, QQ_EXIT_USAGE);
	if ((rc = qq_cli_begin(&f, &e)) == 0)
		rc = qq_cmdline_build(&s, &f, &o, &c, &e);
	for (i = 0; i < c.nwarn; i++)
		qq_err_say(stderr, prog, "warning: %s", c.warn[i]);
	if (rc == 0)
		rc = qq_quote_argv(stdout, c.argv, nul, &e);
	qq_cmdline_free(&c);
	qq_facts_free(&f);	/* the output is argv, not facts */
	return rc == 0 ? 0 : qq_err_report(prog, &e);
}
