/* check_accel.c: every branch of the KVM probe, through fake devices, cpuinfo, modules and QEMU. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

/* A path that open(O_RDWR) refuses with EACCES even for root (sysfs, read-only). */
#define EACCES_DEV "/sys/kernel/notes"

/* The fixture: fake QEMUs, cpuinfo files, module dirs and devices under a fresh directory. */
static char *
fixture(void)
{
	char *d = test_tmpdir();
	char path[PATH_MAX];

	test_puts(d, "qemu-kvm", "#!/bin/sh\n[ \"$1 $2\" = '-accel help' ] || exit 9\n"
	    "printf 'Accelerators supported in QEMU binary:\\ntcg\\nkvm\\n'\n", 0755);
	test_puts(d, "qemu-tcg", "#!/bin/sh\nprintf 'Accelerators supported in QEMU binary:\\n"
	    "tcg\\nkvmx\\n'\n", 0755);
	test_puts(d, "qemu-fail", "#!/bin/sh\necho 'qemu: cannot start' >&2\nexit 1\n", 0755);
	test_puts(d, "cpu-vmx", "processor\t: 0\nflags\t\t: fpu vme vmx sse\n", 0644);
	test_puts(d, "cpu-svm", "processor\t: 0\nflags\t\t: fpu svm\n", 0644);
	test_puts(d, "cpu-none", "processor\t: 0\nflags\t\t: fpu vmxx xsvm hypervisor\n"
	    "vmx flags\t: ept\n", 0644);
	test_puts(d, "regular", "", 0666);
	snprintf(path, sizeof(path), "%s/fifo", d);
	ck_assert_int_eq(mkfifo(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/mod-pvm", d);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/mod-pvm/kvm_pvm", d);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/mod-none", d);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	return d;
}

static const struct {
	const char	*host;		/* QQ_HOST_ARCH */
	const char	*arch;		/* target */
	const char	*dev;		/* fixture name, or an absolute path */
	const char	*cpu;		/* fixture name (missing: absent) */
	const char	*mod;		/* fixture dir under which modules live */
	const char	*qemu;		/* fixture name */
	int		 rc;		/* 1 usable, 0 not, -1 error */
	int		 status;	/* error status when rc is -1 */
	const char	*reason;	/* expected reason or error, with @ for the fixture dir */
} probes[] = {
	{ "x86_64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-kvm", 1, 0,
	    "host x86_64, /dev/null opens read-write, the CPU has vmx, @/qemu-kvm lists kvm" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-svm", "mod-pvm", "qemu-kvm", 1, 0,
	    "host x86_64, /dev/null opens read-write, the CPU has svm, @/qemu-kvm lists kvm" },
	{ "arm64", "aarch64", "/dev/null", "missing", "mod-pvm", "qemu-kvm", 1, 0,
	    "host aarch64, /dev/null opens read-write, @/qemu-kvm lists kvm" },
	{ "aarch64", "aarch64", "/dev/null", "missing", "mod-none", "qemu-kvm", 1, 0,
	    "host aarch64, /dev/null opens read-write, @/qemu-kvm lists kvm" },
	{ "x86_64", "aarch64", "/dev/null", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "host x86_64 cannot run aarch64 guests under KVM" },
	{ "aarch64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "host aarch64 cannot run x86_64 guests under KVM" },
	{ "riscv64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "host riscv64 cannot run x86_64 guests under KVM" },
	{ "x86_64", "x86_64", "@/nodev", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "@/nodev: No such file or directory; the kvm module is not loaded or the CPU has "
	    "no virtualization" },
	{ "x86_64", "x86_64", EACCES_DEV, "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    EACCES_DEV ": Permission denied; add your user to group kvm" },
	{ "x86_64", "x86_64", "@/regular", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "@/regular is not a character device" },
	{ "x86_64", "x86_64", "@/fifo", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "@/fifo is not a character device" },
	{ "x86_64", "x86_64", "@", "cpu-vmx", "mod-none", "qemu-kvm", 0, 0,
	    "@: Is a directory" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-none", "mod-pvm", "qemu-kvm", 0, 0,
	    "/dev/null exists but the CPU has no vmx or svm flag and kvm_pvm is loaded: a "
	    "software KVM that cannot boot a stock guest" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-none", "mod-none", "qemu-kvm", 0, 0,
	    "/dev/null exists but the CPU has no vmx or svm flag in @/cpu-none: no hardware "
	    "virtualization" },
	{ "x86_64", "x86_64", "/dev/null", "missing", "mod-none", "qemu-kvm", 0, 0,
	    "unable to read @/missing: No such file or directory" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-tcg", 0, 0,
	    "@/qemu-tcg does not list kvm in -accel help" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-fail", -1, QQ_EXIT_RUNTIME,
	    "@/qemu-fail -accel help failed with status 1: qemu: cannot start" },
	{ "x86_64", "x86_64", "/dev/null", "cpu-vmx", "mod-none", "qemu-missing", -1,
	    QQ_EXIT_NOTFOUND, "unable to find @/qemu-missing: No such file or directory" },
	{ "x86_64", "aarch64", "/dev/null", "cpu-vmx", "mod-none", "qemu-missing", -1,
	    QQ_EXIT_NOTFOUND, "unable to find @/qemu-missing: No such file or directory" },
};

static void
set_probes(const char *d, const char *host, const char *dev, const char *cpu, const char *mod)
{
	char buf[PATH_MAX];

	setenv("QQ_HOST_ARCH", host, 1);
	test_subst(buf, sizeof(buf), dev, d);
	setenv("QQ_KVM_DEVICE", buf, 1);
	snprintf(buf, sizeof(buf), "%s/%s", d, cpu);
	setenv("QQ_CPUINFO", buf, 1);
	snprintf(buf, sizeof(buf), "%s/%s", d, mod);
	setenv("QQ_SYSMODULE", buf, 1);
}

static void
unset_probes(void)
{
	unsetenv("QQ_HOST_ARCH");
	unsetenv("QQ_KVM_DEVICE");
	unsetenv("QQ_CPUINFO");
	unsetenv("QQ_SYSMODULE");
}

START_TEST(test_probe)
{
	char *d = fixture();
	char qemu[PATH_MAX], reason[QQ_ERR_MAX], want[QQ_ERR_MAX];
	struct qq_err e;
	int rc, fd;

	if (strcmp(probes[_i].dev, EACCES_DEV) == 0 &&
	    (fd = open(EACCES_DEV, O_RDWR | O_CLOEXEC)) != -1) {
		close(fd);	/* this kernel lets us write it: nothing to test here */
		test_rmtree(d);
		free(d);
		return;
	}
	set_probes(d, probes[_i].host, probes[_i].dev, probes[_i].cpu, probes[_i].mod);
	snprintf(qemu, sizeof(qemu), "%s/%s", d, probes[_i].qemu);
	test_subst(want, sizeof(want), probes[_i].reason, d);
	reason[0] = '\0';
	rc = qq_accel_probe(probes[_i].arch, qemu, reason, sizeof(reason), &e);
	ck_assert_int_eq(rc, probes[_i].rc);
	if (rc == -1) {
		ck_assert_int_eq(e.status, probes[_i].status);
		ck_assert_str_eq(e.msg, want);
	} else
		ck_assert_str_eq(reason, want);
	unset_probes();
	test_rmtree(d);
	free(d);
}
END_TEST

static const struct {
	const char	*accel;		/* --accel */
	const char	*env;		/* QNX_QEMU_ACCEL */
	const char	*fact;		/* accel= on stdin */
	const char	*dev;		/* the probe's device */
	int		 status;
	const char	*out;		/* accel chosen */
	int		 warned;
	const char	*text;		/* the reason, or the error */
} detects[] = {
	{ "tcg", NULL, NULL, "/dev/null", 0, "tcg", 0, "asked for tcg with --accel" },
	{ NULL, "tcg", NULL, "@/nodev", 0, "tcg", 0, "asked for tcg with QNX_QEMU_ACCEL" },
	{ NULL, "kvm", "tcg", "/dev/null", 0, "tcg", 0, "asked for tcg with fact accel" },
	{ "auto", NULL, NULL, "/dev/null", 0, "kvm", 0,
	    "host x86_64, /dev/null opens read-write, the CPU has vmx, @/qemu-kvm lists kvm" },
	{ NULL, NULL, NULL, "/dev/null", 0, "kvm", 0,
	    "host x86_64, /dev/null opens read-write, the CPU has vmx, @/qemu-kvm lists kvm" },
	{ "kvm", NULL, NULL, "/dev/null", 0, "kvm", 0,
	    "host x86_64, /dev/null opens read-write, the CPU has vmx, @/qemu-kvm lists kvm" },
	{ NULL, NULL, NULL, "@/regular", 0, "tcg", 1, "@/regular is not a character device" },
	{ "kvm", NULL, NULL, "@/regular", QQ_EXIT_NO, NULL, 0,
	    "kvm asked for with --accel but unusable: @/regular is not a character device" },
	{ NULL, "kvm", NULL, "@/nodev", QQ_EXIT_NO, NULL, 0,
	    "kvm asked for with QNX_QEMU_ACCEL but unusable: @/nodev: No such file or "
	    "directory; the kvm module is not loaded or the CPU has no virtualization" },
	{ "fast", NULL, NULL, "/dev/null", QQ_EXIT_INPUT, NULL, 0,
	    "bad --accel \"fast\": expected auto, kvm or tcg" },
	{ NULL, "KVM", NULL, "/dev/null", QQ_EXIT_INPUT, NULL, 0,
	    "bad QNX_QEMU_ACCEL \"KVM\": expected auto, kvm or tcg" },
};

START_TEST(test_detect)
{
	char *d = fixture();
	char qemu[PATH_MAX], want[QQ_ERR_MAX];
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_accel acc;
	struct qq_err e;
	int rc;

	set_probes(d, "x86_64", detects[_i].dev, "cpu-vmx", "mod-none");
	snprintf(qemu, sizeof(qemu), "%s/qemu-kvm", d);
	setenv("QNX_QEMU_BINARY", qemu, 1);
	unsetenv("QNX_QEMU_ARCH");
	if (detects[_i].env != NULL)
		setenv("QNX_QEMU_ACCEL", detects[_i].env, 1);
	else
		unsetenv("QNX_QEMU_ACCEL");
	if (detects[_i].fact != NULL)
		ck_assert_int_eq(qq_facts_set(&f, "accel", detects[_i].fact, &e), 0);
	qq_settings_init(&s);
	if (detects[_i].accel != NULL)
		qq_settings_option(&s, "accel", detects[_i].accel, &e);
	test_subst(want, sizeof(want), detects[_i].text, d);
	rc = qq_accel_facts(&s, &f, &acc, &e);
	ck_assert_int_eq(rc, detects[_i].status);
	if (rc != 0)
		ck_assert_str_eq(e.msg, want);
	else {
		ck_assert_str_eq(acc.accel, detects[_i].out);
		ck_assert_str_eq(acc.reason, want);
		ck_assert_int_eq(acc.warned, detects[_i].warned);
		ck_assert_str_eq(qq_facts_get(&f, "accel"), detects[_i].out);
		ck_assert_str_eq(qq_facts_get(&f, "accel_reason"), want);
	}
	qq_facts_free(&f);
	unsetenv("QNX_QEMU_ACCEL");
	unsetenv("QNX_QEMU_BINARY");
	unset_probes();
	test_rmtree(d);
	free(d);
}
END_TEST

START_TEST(test_facts_pass_through)
{
	char *d = fixture();
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_accel acc;
	struct qq_err e;

	set_probes(d, "x86_64", "/dev/null", "cpu-vmx", "mod-none");
	ck_assert_int_eq(qq_facts_set(&f, "stage", "a", &e), 0);
	ck_assert_int_eq(qq_facts_set(&f, "accel_reason", "old", &e), 0);
	qq_settings_init(&s);
	qq_settings_option(&s, "accel", "tcg", &e);
	qq_settings_option(&s, "arch", "aarch64le", &e);
	ck_assert_int_eq(qq_accel_facts(&s, &f, &acc, &e), 0);
	/* The option's arch goes on as a fact; accel is replaced by the answer; order kept. */
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(f.v[0].key, "stage");
	ck_assert_str_eq(f.v[1].key, "arch");
	ck_assert_str_eq(f.v[1].value, "aarch64");
	ck_assert_str_eq(f.v[2].key, "accel");
	ck_assert_str_eq(f.v[2].value, "tcg");
	ck_assert_str_eq(f.v[3].key, "accel_reason");
	qq_facts_free(&f);
	unset_probes();
	test_rmtree(d);
	free(d);
}
END_TEST

Suite *
suite_accel(void)
{
	Suite *s = suite_create("accel");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_probe, 0, sizeof(probes) / sizeof(probes[0]));
	tcase_add_loop_test(tc, test_detect, 0, sizeof(detects) / sizeof(detects[0]));
	tcase_add_test(tc, test_facts_pass_through);
	suite_add_tcase(s, tc);
	return s;
}
