/* qq-spawn: start QEMU from the argv qq-cmdline prints, in the foreground or detached. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

static const char usage_line[] =
    "usage: qq-spawn [-0dv] [--wait-ssh[=SECONDS]] [--tcg-fallback] [--ssh-key FILE] "
    "[-- qemu-argv ...]\n";

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
		{ "detach", 0, NULL, 'd' }, { "wait-ssh", 2, NULL, 'w' },
		{ "tcg-fallback", 0, NULL, 't' }, { "verbose", 0, NULL, 'v' },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
		QQ_OPT(QQ_SET_SSH_KEY), { NULL, 0, NULL, 0 }
	};
	struct qq_spawn_opts o = { 0, 0, 0, NULL };
	struct qq_spawn_result r = { 0 };
	struct qq_settings s;
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_err e;
	char **qargv = NULL;
	size_t n;
	int ch, nul = 0, verbose = isatty(STDERR_FILENO), rc;

	qq_settings_init(&s);
	qq_cli_options(opts);
	while ((ch = getopt_long(argc, argv, "+0dvhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		switch (ch) {
		case '0': nul = 1; break;
		case 'd': o.detach = 1; break;
		case 't': o.tcg_fallback = 1; break;
		case 'v': verbose = 1; break;
		case 'w':
			o.wait_ssh = -1;
			if (optarg != NULL && qq_cli_number("wait-ssh", optarg, 1, 86400, "seconds",
			    &o.wait_ssh, &e) != 0)
				return qq_err_report("qq-spawn", &e);
			break;
		case 'h': fputs(usage_line, stdout); return 0;
		case 'V': puts("qq-spawn " PACKAGE_VERSION); return 0;
		default: usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = qq_settings_get(&s, QQ_SET_SSH_KEY, NULL, &e)) != 0)
		return qq_err_report("qq-spawn", &e);
	o.ssh_key = s.val[QQ_SET_SSH_KEY];
	if (optind < argc)
		qargv = argv + optind;
	else if (isatty(STDIN_FILENO))
		usage();
	else if ((rc = qq_unquote_read(stdin, nul, &qargv, &n, &e)) == 0 && n == 0)
		rc = qq_err_set(&e, QQ_EXIT_INPUT, "no QEMU argv on standard input");
	if (rc == 0)
		rc = qq_spawn_run(qargv, &o, &r, &f, &e);
	qq_spawn_report(stderr, &r, rc, verbose);
	if (optind >= argc)
		qq_argv_free(qargv);
	qq_spawn_result_free(&r);
	return qq_cli_end("qq-spawn", &f, rc, &e);
}
