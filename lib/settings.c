/* settings.c: one table of settings and one resolver: option > fact > environment > default. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

#define RAM_MIN	(32ULL << 20)
#define RAM_MAX	(1ULL << 40)
#define SMP_MIN	1
#define SMP_MAX	64
#define PORT_MAX 65535
#define SHOW_MAX 64	/* bytes of a bad value a message quotes */

const struct qq_setting_def qq_settings_table[QQ_SET__COUNT] = {
	[QQ_SET_ARCH] = { "arch", "arch", "QNX_QEMU_ARCH", "x86_64",
	    "x86_64 or aarch64", qq_valid_arch },
	[QQ_SET_SSH_PORT] = { "ssh-port", "ssh_port", "QNX_QEMU_SSH_PORT", "2222",
	    "a port from 0 to 65535", qq_valid_port },
	[QQ_SET_RAM] = { "ram", "ram", "QNX_QEMU_RAM", "1G",
	    "a size from 32M to 1T such as 1G or 512M", qq_valid_ram },
	[QQ_SET_SMP] = { "smp", "smp", "QNX_QEMU_SMP", "2",
	    "a CPU count from 1 to 64", qq_valid_smp },
	[QQ_SET_QNX_ROOT] = { "qnx-root", "qnx_root", "QNX_ROOT", "~/qnx800",
	    "a directory path", qq_valid_path },
	[QQ_SET_WORKSPACE] = { "workspace", "workspace", "QNX_QEMU_WORKSPACE",
	    "./.qnx_qemu_vm", "a directory path", qq_valid_path },
	[QQ_SET_ACCEL] = { "accel", "accel", "QNX_QEMU_ACCEL", "auto",
	    "auto, kvm or tcg", qq_valid_accel },
	[QQ_SET_SSH_KEY] = { "ssh-key", "ssh_key", "QNX_QEMU_SSH_KEY", NULL,
	    "a file path", qq_valid_path },
	[QQ_SET_QEMU] = { "qemu", "qemu", "QNX_QEMU_BINARY", NULL,
	    "a program name or path", qq_valid_command },
};

static int
copy(const char *in, char *out, size_t outsz)
{
	return strlcpy(out, in, outsz) < outsz ? 0 : -1;
}

int
qq_valid_arch(const char *in, char *out, size_t outsz)
{
	if (strcmp(in, "x86_64") == 0 || strcmp(in, "aarch64") == 0)
		return copy(in, out, outsz);
	if (strcmp(in, "aarch64le") == 0)
		return copy("aarch64", out, outsz);
	return -1;
}

int
qq_size_parse(const char *s, unsigned long long *bytes)
{
	unsigned long long n = 0, unit = 1ULL << 20;	/* QEMU -m: plain numbers are MiB */
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K':
		unit = 1ULL << 10;
		p++;
		break;
	case 'm': case 'M':
		unit = 1ULL << 20;
		p++;
		break;
	case 'g': case 'G':
		unit = 1ULL << 30;
		p++;
		break;
	case 't': case 'T':
		unit = 1ULL << 40;
		p++;
		break;
	default:
		return -1;
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p != '\0' || (n != 0 && unit > ULLONG_MAX / n))
		return -1;
	*bytes = n * unit;
	return 0;
}

int
qq_valid_ram(const char *in, char *out, size_t outsz)
{
	unsigned long long b;
	size_t len;

	if (qq_size_parse(in, &b) == -1 || b < RAM_MIN || b > RAM_MAX)
		return -1;
	/* QEMU wants no trailing B; suffixes are case-insensitive to it. */
	if (copy(in, out, outsz) == -1)
		return -1;
	len = strlen(out);
	if (out[len - 1] == 'B' || out[len - 1] == 'b')
		out[--len] = '\0';
	out[len - 1] = (char)toupper((unsigned char)out[len - 1]);
	return 0;
}

static int
number(const char *in, long long lo, long long hi, char *out, size_t outsz)
{
	const char *errstr;
	long long n;

	n = strtonum(in, lo, hi, &errstr);
	if (errstr != NULL)
		return -1;
	return snprintf(out, outsz, "%lld", n) < (int)outsz ? 0 : -1;
}

int
qq_valid_smp(const char *in, char *out, size_t outsz)
{
	return number(in, SMP_MIN, SMP_MAX, out, outsz);
}

int
qq_valid_port(const char *in, char *out, size_t outsz)
{
	return number(in, 0, PORT_MAX, out, outsz);
}

int
qq_valid_accel(const char *in, char *out, size_t outsz)
{
	if (strcmp(in, "auto") == 0 || strcmp(in, "kvm") == 0 || strcmp(in, "tcg") == 0)
		return copy(in, out, outsz);
	return -1;
}

int
qq_valid_path(const char *in, char *out, size_t outsz)
{
	struct qq_err e;
	char buf[QQ_VALUE_MAX];
	const char *home;

	if (*in == '\0' || strchr(in, '\n') != NULL)
		return -1;
	if (strncmp(in, "~/", 2) == 0 || strcmp(in, "~") == 0) {
		if ((home = getenv("HOME")) == NULL || *home == '\0')
			return -1;
		if ((size_t)snprintf(buf, sizeof(buf), "%s%s", home, in + 1) >= sizeof(buf))
			return -1;
		in = buf;
	}
	return qq_file_abspath(in, out, outsz, &e) == 0 ? 0 : -1;
}

int
qq_valid_command(const char *in, char *out, size_t outsz)
{
	if (*in == '\0' || strchr(in, '\n') != NULL)
		return -1;
	return copy(in, out, outsz);
}

void
qq_settings_init(struct qq_settings *s)
{
	memset(s, 0, sizeof(*s));
}

int
qq_settings_option(struct qq_settings *s, const char *option, const char *value,
    struct qq_err *e)
{
	int i;

	for (i = 0; i < QQ_SET__COUNT; i++)
		if (strcmp(qq_settings_table[i].option, option) == 0) {
			s->opt[i] = value;
			return 0;
		}
	return qq_err_set(e, QQ_EXIT_USAGE, "unknown setting --%s", option);
}

/*
 * A bad value as it may appear in a one-line message: control characters, quotes and
 * bytes outside ASCII escaped C-style (\n, \t, \033), anything past SHOW_MAX bytes cut
 * and marked with "...". out holds at least 4 * SHOW_MAX + 4 bytes.
 */
static void
show(const char *in, char *out, size_t outsz)
{
	char cut[SHOW_MAX + 1];

	strlcpy(cut, in, sizeof(cut));
	qq_err_vis(out, outsz, cut, 1);
	if (strlen(in) > SHOW_MAX)
		strlcat(out, "...", outsz);
}

int
qq_settings_get(struct qq_settings *s, enum qq_setting which, const struct qq_facts *f,
    struct qq_err *e)
{
	const struct qq_setting_def *d = &qq_settings_table[which];
	const char *in = NULL, *fv, *ev;
	char from[128];
	char def[QQ_VALUE_MAX], shown[4 * SHOW_MAX + 4];

	if (s->opt[which] != NULL) {
		in = s->opt[which];
		s->src[which] = QQ_SRC_OPTION;
		snprintf(from, sizeof(from), "--%s", d->option);
	} else if (f != NULL && (fv = qq_facts_get(f, d->fact)) != NULL) {
		in = fv;
		s->src[which] = QQ_SRC_FACT;
		snprintf(from, sizeof(from), "fact %s", d->fact);
	} else if ((ev = getenv(d->env)) != NULL && *ev != '\0') {
		in = ev;
		s->src[which] = QQ_SRC_ENV;
		snprintf(from, sizeof(from), "%s", d->env);
	} else {
		s->src[which] = QQ_SRC_DEFAULT;
		snprintf(from, sizeof(from), "default %s", d->fact);
		if (d->def != NULL)
			in = d->def;
		else if (which == QQ_SET_QEMU) {
			if (qq_settings_get(s, QQ_SET_ARCH, f, e) != 0)
				return e->status;
			strlcpy(def, "qemu-system-", sizeof(def));
			strlcat(def, s->val[QQ_SET_ARCH], sizeof(def));
			in = def;
		} else {
			s->val[which][0] = '\0';	/* no default: the caller searches */
			return 0;
		}
	}
	if (d->valid(in, s->val[which], sizeof(s->val[which])) == -1) {
		show(in, shown, sizeof(shown));
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%s\": expected %s",
		    from, shown, d->what);
	}
	return 0;
}

int
qq_settings_export(const struct qq_settings *s, struct qq_facts *f, struct qq_err *e)
{
	int i;

	const char *cur;

	for (i = 0; i < QQ_SET__COUNT; i++) {
		/*
		 * From the environment too, so that a setting given to the first step holds
		 * for the whole pipeline; but not QNX_ROOT: an SDP environment inherited from
		 * the user's shell outranks it, and a qnx_root fact would outrank that.
		 */
		if (s->src[i] != QQ_SRC_OPTION &&
		    (s->src[i] != QQ_SRC_ENV || i == QQ_SET_QNX_ROOT))
			continue;
		/* An equal fact stays where it is: re-exporting never reorders the facts. */
		if ((cur = qq_facts_get(f, qq_settings_table[i].fact)) != NULL &&
		    strcmp(cur, s->val[i]) == 0)
			continue;
		if (qq_facts_set(f, qq_settings_table[i].fact, s->val[i], e) != 0)
			return e->status;
	}
	return 0;
}
