/* cli.c: option names for settings, and the read-facts / write-facts frame of every program. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

void
qq_cli_options(struct option *opts)
{
	for (; opts->name != NULL || opts->val != 0; opts++)
		if (opts->name == NULL && opts->val >= QQ_OPT_BASE &&
		    opts->val < QQ_OPT_BASE + QQ_SET__COUNT)
			opts->name = qq_settings_table[opts->val - QQ_OPT_BASE].option;
}

int
qq_cli_setting(struct qq_settings *s, int ch, const char *arg)
{
	if (ch < QQ_OPT_BASE || ch >= QQ_OPT_BASE + QQ_SET__COUNT)
		return 0;
	s->opt[ch - QQ_OPT_BASE] = arg;
	return 1;
}

int
qq_cli_number(const char *opt, const char *arg, long long lo, long long hi, const char *unit,
    int *out, struct qq_err *e)
{
	const char *errstr;
	long long v;

	v = strtonum(arg, lo, hi, &errstr);
	if (errstr != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad --%s \"%.100s\": expected %s from %lld "
		    "to %lld", opt, arg, unit, lo, hi);
	*out = (int)v;
	return 0;
}

int
qq_cli_ms(const char *opt, const char *arg, int *out, struct qq_err *e)
{
	return qq_cli_number(opt, arg, 0, 3600000, "milliseconds", out, e);
}

int
qq_cli_begin(struct qq_facts *f, struct qq_err *e)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	qq_sig_catch();
	return qq_facts_read_stdin(f, e);
}

int
qq_cli_end(const char *prog, struct qq_facts *f, int rc, const struct qq_err *e)
{
	struct qq_err werr;

	if (rc == 0 && qq_facts_write(f, stdout, &werr) != 0) {
		rc = werr.status;
		e = &werr;
	}
	qq_facts_free(f);
	if (rc != 0)
		rc = qq_err_report(prog, e);
	/* A signal ends the program by that signal, after its cleanup (sig.c). */
	qq_sig_reraise();
	return rc;
}

void
qq_cli_help_settings(FILE *fp, const char *page)
{
	fputs("setting options (option > fact > environment > default):\n", fp);
	for (size_t i = 0; i < QQ_SET__COUNT; i++) {
		const struct qq_setting_def *d = &qq_settings_table[i];
		char opt[32];

		snprintf(opt, sizeof(opt), "--%s VALUE", d->option);
		fprintf(fp, "  %-20s %s; fact %s, %s, default %s\n", opt, d->what, d->fact, d->env,
		    d->def != NULL ? d->def : i == QQ_SET_QEMU ? "qemu-system-ARCH" :
		    "~/.ssh/id_ed25519, else ~/.ssh/id_rsa");
	}
	fprintf(fp, "See %s for every option, the facts and the exit statuses.\n", page);
}
