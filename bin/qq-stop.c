/* qq-stop: stop the VM of a workspace, gracefully then firmly; --clean also wipes the workspace. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qq.h"

static const char usage_line[] =
    "usage: qq-stop [--clean] [--force] [--powerdown-timeout MS] [--quit-timeout MS] "
    "[--term-timeout MS] [--workspace DIR]\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_line, stderr);
	exit(QQ_EXIT_USAGE);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		{ "clean", 0, NULL, 'c' }, { "force", 0, NULL, 'f' },
		{ "powerdown-timeout", 1, NULL, 'p' }, { "quit-timeout", 1, NULL, 'q' },
		{ "term-timeout", 1, NULL, 't' }, { "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' }, QQ_OPT(QQ_SET_WORKSPACE), { NULL, 0, NULL, 0 }
	};
	struct qq_stop_opts o;
	struct qq_settings s;
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_err e;
	int ch, clean = 0, rc = 0;

	qq_settings_init(&s);
	qq_stop_defaults(&o);
	qq_cli_options(opts);
	while (rc == 0 && (ch = getopt_long(argc, argv, "fhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'c': clean = 1; break;
		case 'f': o.force = 1; break;
		case 'p': rc = qq_cli_ms("powerdown-timeout", optarg, &o.powerdown_ms, &e); break;
		case 'q': rc = qq_cli_ms("quit-timeout", optarg, &o.quit_ms, &e); break;
		case 't': rc = qq_cli_ms("term-timeout", optarg, &o.term_ms, &e); break;
		case 'h': fputs(usage_line, stdout); return 0;
		case 'V': puts("qq-stop " PACKAGE_VERSION); return 0;
		default: usage();
		}
	}
	if (rc != 0)
		return qq_err_report("qq-stop", &e);
	if (optind != argc)
		usage();
	if ((rc = qq_cli_begin(&f, &e)) == 0 &&
	    (rc = qq_settings_get(&s, QQ_SET_WORKSPACE, &f, &e)) == 0)
		rc = clean ? qq_stop_clean(s.val[QQ_SET_WORKSPACE], &o, &f, &e) :
		    qq_stop_ws(s.val[QQ_SET_WORKSPACE], &o, &f, &e);
	return qq_cli_end("qq-stop", &f, rc, &e);
}
