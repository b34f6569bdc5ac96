/* qq-keygen: find the SSH key to inject into the guest, or create one. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qq.h"

static const char prog[] = "qq-keygen";

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: %s [-hV] [--ssh-key path]\n", prog);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct option opts[] = {
		QQ_OPT(QQ_SET_SSH_KEY),
		{ "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_key key;
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
	    (rc = qq_keygen_facts(&s, &f, &key, &e)) == 0 && key.created && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: created %s\n", prog, key.key);
	if (rc == 0 && *key.warn)
		fprintf(stderr, "%s: warning: %s\n", prog, key.warn);
	return qq_cli_end(prog, &f, rc, &e);
}
