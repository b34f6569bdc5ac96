/* check_settings.c: every validator's accept and reject table, and the precedence order. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"
#include "suites.h"

static const struct {
	int		 which;
	const char	*in;
	const char	*out;	/* NULL: rejected */
} values[] = {
	{ QQ_SET_ARCH, "x86_64", "x86_64" },
	{ QQ_SET_ARCH, "aarch64", "aarch64" },
	{ QQ_SET_ARCH, "aarch64le", "aarch64" },
	{ QQ_SET_ARCH, "arm64", NULL },
	{ QQ_SET_ARCH, "X86_64", NULL },
	{ QQ_SET_ARCH, "", NULL },
	{ QQ_SET_RAM, "1G", "1G" },
	{ QQ_SET_RAM, "512m", "512M" },
	{ QQ_SET_RAM, "2048", "2048" },
	{ QQ_SET_RAM, "4GB", "4G" },
	{ QQ_SET_RAM, "32M", "32M" },
	{ QQ_SET_RAM, "1T", "1T" },
	{ QQ_SET_RAM, "31M", NULL },
	{ QQ_SET_RAM, "2T", NULL },
	{ QQ_SET_RAM, "0", NULL },
	{ QQ_SET_RAM, "1Q", NULL },
	{ QQ_SET_RAM, "G", NULL },
	{ QQ_SET_RAM, "-1G", NULL },
	{ QQ_SET_RAM, "1.5G", NULL },
	{ QQ_SET_RAM, "99999999999999999999G", NULL },
	{ QQ_SET_RAM, "", NULL },
	{ QQ_SET_SMP, "1", "1" },
	{ QQ_SET_SMP, "64", "64" },
	{ QQ_SET_SMP, "0", NULL },
	{ QQ_SET_SMP, "65", NULL },
	{ QQ_SET_SMP, "two", NULL },
	{ QQ_SET_SMP, "2x", NULL },
	{ QQ_SET_SSH_PORT, "0", "0" },
	{ QQ_SET_SSH_PORT, "2222", "2222" },
	{ QQ_SET_SSH_PORT, "65535", "65535" },
	{ QQ_SET_SSH_PORT, "65536", NULL },
	{ QQ_SET_SSH_PORT, "-1", NULL },
	{ QQ_SET_SSH_PORT, "22a", NULL },
	{ QQ_SET_SSH_PORT, "", NULL },
	{ QQ_SET_ACCEL, "auto", "auto" },
	{ QQ_SET_ACCEL, "kvm", "kvm" },
	{ QQ_SET_ACCEL, "tcg", "tcg" },
	{ QQ_SET_ACCEL, "hvf", NULL },
	{ QQ_SET_ACCEL, "KVM", NULL },
	{ QQ_SET_WORKSPACE, "/a/b/../c/./d", "/a/c/d" },
	{ QQ_SET_WORKSPACE, "/a b,c", "/a b,c" },
	{ QQ_SET_WORKSPACE, "", NULL },
	{ QQ_SET_WORKSPACE, "a\nb", NULL },
	{ QQ_SET_QNX_ROOT, "~/qnx800", "/home/tester/qnx800" },
	{ QQ_SET_QEMU, "qemu-system-x86_64", "qemu-system-x86_64" },
	{ QQ_SET_QEMU, "", NULL },
};

START_TEST(test_validators)
{
	const struct qq_setting_def *d = &qq_settings_table[values[_i].which];
	char out[QQ_VALUE_MAX];
	int rc;

	setenv("HOME", "/home/tester", 1);
	rc = d->valid(values[_i].in, out, sizeof(out));
	if (values[_i].out == NULL)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, values[_i].out);
	}
}
END_TEST

START_TEST(test_precedence)
{
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;

	unsetenv("QNX_QEMU_SMP");
	qq_settings_init(&s);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SMP, &f, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SMP], "2");
	ck_assert_int_eq(s.src[QQ_SET_SMP], QQ_SRC_DEFAULT);

	setenv("QNX_QEMU_SMP", "3", 1);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SMP, &f, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SMP], "3");

	setenv("QNX_QEMU_SMP", "", 1);	/* empty is unset */
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SMP, &f, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SMP], "2");

	setenv("QNX_QEMU_SMP", "3", 1);
	ck_assert_int_eq(qq_facts_set(&f, "smp", "4", &e), 0);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SMP, &f, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SMP], "4");
	ck_assert_int_eq(s.src[QQ_SET_SMP], QQ_SRC_FACT);

	ck_assert_int_eq(qq_settings_option(&s, "smp", "5", &e), 0);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SMP, &f, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SMP], "5");
	ck_assert_int_eq(s.src[QQ_SET_SMP], QQ_SRC_OPTION);

	ck_assert_int_eq(qq_settings_export(&s, &f, &e), 0);
	ck_assert_str_eq(qq_facts_get(&f, "smp"), "5");
	ck_assert_uint_eq(f.n, 1);
	unsetenv("QNX_QEMU_SMP");
	qq_facts_free(&f);
}
END_TEST

#define NL8	"\n\n\n\n\n\n\n\n"
#define ESC8	"\\n\\n\\n\\n\\n\\n\\n\\n"

static const struct {
	int		 which;
	const char	*env;
	const char	*msg;
} bad[] = {
	{ QQ_SET_ARCH, "sparc", "bad QNX_QEMU_ARCH \"sparc\": expected x86_64 or aarch64" },
	{ QQ_SET_SSH_PORT, "70000", "bad QNX_QEMU_SSH_PORT \"70000\": expected a port from 0 to 65535" },
	{ QQ_SET_RAM, "lots", "bad QNX_QEMU_RAM \"lots\": expected a size from 32M to 1T such as 1G or 512M" },
	{ QQ_SET_SMP, "100", "bad QNX_QEMU_SMP \"100\": expected a CPU count from 1 to 64" },
	{ QQ_SET_ACCEL, "xen", "bad QNX_QEMU_ACCEL \"xen\": expected auto, kvm or tcg" },
	/* The value is shown on one line: control characters, quotes and non-ASCII escaped. */
	{ QQ_SET_RAM, "1\nG", "bad QNX_QEMU_RAM \"1\\nG\": expected a size from 32M to 1T such as 1G or 512M" },
	{ QQ_SET_RAM, "1G\n", "bad QNX_QEMU_RAM \"1G\\n\": expected a size from 32M to 1T such as 1G or 512M" },
	{ QQ_SET_RAM, "1\r\nG", "bad QNX_QEMU_RAM \"1\\r\\nG\": expected a size from 32M to 1T such as 1G or 512M" },
	{ QQ_SET_ARCH, "x86\t64\033[31m", "bad QNX_QEMU_ARCH \"x86\\t64\\033[31m\": expected x86_64 or aarch64" },
	{ QQ_SET_ARCH, "a\"b\\c", "bad QNX_QEMU_ARCH \"a\\\"b\\\\c\": expected x86_64 or aarch64" },
	{ QQ_SET_ARCH, "\303\244\177", "bad QNX_QEMU_ARCH \"\\303\\244\\177\": expected x86_64 or aarch64" },
	{ QQ_SET_ACCEL, "kvm tcg", "bad QNX_QEMU_ACCEL \"kvm tcg\": expected auto, kvm or tcg" },
	/* A long value is cut after 64 bytes. */
	{ QQ_SET_SMP, "1234567890123456789012345678901234567890123456789012345678901234567890",
	    "bad QNX_QEMU_SMP \"1234567890123456789012345678901234567890123456789012345678901234...\": "
	    "expected a CPU count from 1 to 64" },
	{ QQ_SET_SMP, NL8 NL8 NL8 NL8 NL8 NL8 NL8 NL8 "\n",
	    "bad QNX_QEMU_SMP \"" ESC8 ESC8 ESC8 ESC8 ESC8 ESC8 ESC8 ESC8 "...\": "
	    "expected a CPU count from 1 to 64" },
};

START_TEST(test_bad_env_message)
{
	const struct qq_setting_def *d = &qq_settings_table[bad[_i].which];
	struct qq_settings s;
	struct qq_err e;

	qq_settings_init(&s);
	setenv(d->env, bad[_i].env, 1);
	ck_assert_int_eq(qq_settings_get(&s, bad[_i].which, NULL, &e), QQ_EXIT_INPUT);
	ck_assert_str_eq(e.msg, bad[_i].msg);
	ck_assert_ptr_null(strpbrk(e.msg, "\n\r"));
	unsetenv(d->env);
}
END_TEST

START_TEST(test_bad_option_and_fact)
{
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;

	qq_settings_init(&s);
	ck_assert_int_eq(qq_facts_set(&f, "ram", "9Z", &e), 0);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_RAM, &f, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad fact ram \"9Z\""));
	ck_assert_int_eq(qq_settings_option(&s, "ram", "1X", &e), 0);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_RAM, &f, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad --ram \"1X\""));
	ck_assert_int_eq(qq_settings_option(&s, "workspace", "/a\nb", &e), 0);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_WORKSPACE, &f, &e), QQ_EXIT_INPUT);
	ck_assert_str_eq(e.msg, "bad --workspace \"/a\\nb\": expected a directory path");
	ck_assert_int_eq(qq_settings_option(&s, "nope", "1", &e), QQ_EXIT_USAGE);
	qq_facts_free(&f);
}
END_TEST

START_TEST(test_qemu_default_follows_arch)
{
	struct qq_settings s;
	struct qq_err e;

	unsetenv("QNX_QEMU_BINARY");
	qq_settings_init(&s);
	qq_settings_option(&s, "arch", "aarch64le", &e);
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_QEMU, NULL, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_QEMU], "qemu-system-aarch64");
	ck_assert_int_eq(qq_settings_get(&s, QQ_SET_SSH_KEY, NULL, &e), 0);
	ck_assert_str_eq(s.val[QQ_SET_SSH_KEY], "");
}
END_TEST

START_TEST(test_size_parse)
{
	unsigned long long b;

	ck_assert_int_eq(qq_size_parse("1024", &b), 0);
	ck_assert(b == 1024ULL << 20);
	ck_assert_int_eq(qq_size_parse("4k", &b), 0);
	ck_assert(b == 4096);
	ck_assert_int_eq(qq_size_parse("1Gb", &b), 0);
	ck_assert(b == 1ULL << 30);
	ck_assert_int_eq(qq_size_parse("1GG", &b), -1);
	ck_assert_int_eq(qq_size_parse(" 1G", &b), -1);
}
END_TEST

Suite *
suite_settings(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_loop_test(tc, test_validators, 0, sizeof(values) / sizeof(values[0]));
	tcase_add_test(tc, test_precedence);
	tcase_add_loop_test(tc, test_bad_env_message, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_bad_option_and_fact);
	tcase_add_test(tc, test_qemu_default_follows_arch);
	tcase_add_test(tc, test_size_parse);
	suite_add_tcase(s, tc);
	return s;
}
