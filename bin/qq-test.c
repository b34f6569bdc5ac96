/* qq-test: run the staged tests in the workspace's running VM; TAP on stdout, JUnit on request. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qq.h"

static const char usage_line[] =
    "usage: qq-test [-v] [-j N] [--filter GLOB] [--repeat N] [--test-timeout SECONDS] "
    "[--junit FILE] [--tap FILE] [--facts] [--workspace DIR] [--arch ARCH]\n";

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
		QQ_OPT(QQ_SET_WORKSPACE), QQ_OPT(QQ_SET_ARCH), QQ_TEST_LONGOPTS,
		{ "tap", 1, NULL, 't' }, { "facts", 0, NULL, 'f' }, { "verbose", 0, NULL, 'v' },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	struct qq_test_opts o = { .tap = stdout };
	struct qq_test_summary sum;
	struct qq_settings s;
	struct qq_facts f = { NULL, 0, 0 };
	struct qq_err e;
	const char *tap = NULL;
	int ch, rc, facts = 0, verbose = isatty(STDERR_FILENO);

	qq_settings_init(&s);
	qq_cli_options(opts);
	while ((ch = getopt_long(argc, argv, "j:vhV", opts, NULL)) != -1) {
		if (qq_cli_setting(&s, ch, optarg))
			continue;
		if ((rc = qq_test_option(&o, ch, optarg, &e)) == -1)
			return qq_err_report("qq-test", &e);
		if (rc == 1)
			continue;
		switch (ch) {
		case 't': tap = optarg; break;
		case 'f': facts = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout, 0);
		case 'V': puts("qq-test " PACKAGE_VERSION); return 0;
		default: usage(stderr, QQ_EXIT_USAGE);
		}
	}
	if (optind != argc || (facts && tap == NULL))
		usage(stderr, QQ_EXIT_USAGE);	/* stdout carries either TAP or the facts */
	signal(SIGPIPE, SIG_IGN);	/* a closed TAP reader is a write error, reported */
	if ((rc = qq_cli_begin(&f, &e)) != 0)
		return qq_cli_end("qq-test", &f, rc, &e);
	if (tap != NULL && (o.tap = fopen(tap, "we")) == NULL) {
		rc = qq_err_sys(&e, QQ_EXIT_INPUT, "bad --tap \"%s\"", tap);
		return qq_cli_end("qq-test", &f, rc, &e);
	}
	o.talk = verbose ? stderr : NULL;
	rc = qq_test_run(&s, &f, &o, &sum, &e);
	if (tap != NULL && fclose(o.tap) == EOF && rc != QQ_EXIT_RUNTIME)
		rc = qq_err_sys(&e, QQ_EXIT_RUNTIME, "unable to write %s", tap);
	if (rc == QQ_EXIT_NO)
		fprintf(stderr, "qq-test: %zu of %zu tests did not pass\n", sum.n - sum.passed,
		    sum.n);
	if (!facts || rc == QQ_EXIT_NO) {
		if (facts && qq_facts_write(&f, stdout, &e) != 0)
			rc = qq_err_report("qq-test", &e);
		qq_facts_free(&f);
		if (rc != 0 && rc != QQ_EXIT_NO)
			rc = qq_err_report("qq-test", &e);
		qq_sig_reraise();	/* as qq_cli_end: a caught signal ends qq-test by it */
		return rc;
	}
	return qq_cli_end("qq-test", &f, rc, &e);
}
