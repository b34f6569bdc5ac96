/* check_cmdline.c: the argv for each arch, accel and mode, its escapes, and every rejection. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

static const struct {
	const char	*help;
	int		 rc;
	const char	*out;
} machines[] = {
	{ "virt-2.6 QEMU 2.6\nvirt-4.2 QEMU 4.2 ARM Virtual Machine\nvirt QEMU 7.2\n", 0,
	    "virt-4.2" },
	{ "virt-10.2 QEMU\nvirt-5.0 QEMU\nvirt-4.10 QEMU\nvirt-6.1 QEMU\n", 1, "virt-4.10" },
	{ "virt-5.0\nvirt-5.2\n", 1, "virt-5.0" },
	{ "virt-11.0 x\nvirt-9.9 y\nvirt-10.1 z", 1, "virt-9.9" },
	{ "virt QEMU 10.2 (alias of virt-10.2)\nxlnx-versal-virt Xilinx\nvirt-4.2x bad\n"
	    "virt-.2 bad\nvirt-4. bad\n virt-4.2 indented\n", -1, NULL },
	{ "", -1, NULL },
	{ "Supported machines are:\nnone empty machine\n", -1, NULL },
};

START_TEST(test_pick_machine)
{
	char out[32] = "";

	ck_assert_int_eq(qq_cmdline_pick_machine(machines[_i].help, out, sizeof(out)),
	    machines[_i].rc);
	if (machines[_i].out != NULL)
		ck_assert_str_eq(out, machines[_i].out);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 outsz;
	const char	*out;	/* NULL: too long */
} commas[] = {
	{ "/a/b", 16, "/a/b" },
	{ "/a,b c", 16, "/a,,b c" },
	{ ",,", 16, ",,,," },
	{ "", 1, "" },
	{ "/a,b", 5, NULL },
	{ "/a,b", 6, "/a,,b" },
	{ "abc", 3, NULL },
};

START_TEST(test_comma)
{
	char out[32];
	int rc = qq_cmdline_comma(commas[_i].in, out, commas[_i].outsz);

	if (commas[_i].out == NULL)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, commas[_i].out);
	}
}
END_TEST

#define B97 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct {
	const char	*ws;
	const char	*out;
} qmps[] = {
	{ "/w", "/w/qmp.sock" },
	{ "/a,b c", "/a,b c/qmp.sock" },
	{ "/" B97, "/" B97 "/qmp.sock" },	/* 107 bytes: fits */
	{ "/" B97 "b", "/tmp/qq-b25a23cbc88bdf53/qmp.sock" },
};

START_TEST(test_qmp_path)
{
	char out[PATH_MAX];
	struct qq_err e;

	ck_assert_int_eq(qq_cmdline_qmp_path(qmps[_i].ws, out, sizeof(out), &e), 0);
	ck_assert_str_eq(out, qmps[_i].out);
	ck_assert_int_le(strlen(out), QQ_SUN_PATH_MAX);
}
END_TEST

#define TAIL_X86 "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22 " \
	"-device virtio-net-pci,netdev=net0 -object rng-random,filename=/dev/urandom,id=rng0 " \
	"-device virtio-rng-pci,rng=rng0 -pidfile /w/output/qemu.pid"
#define TAIL_ARM "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22 " \
	"-device virtio-net-device,netdev=net0 -object rng-random,filename=/dev/urandom,id=rng0 " \
	"-device virtio-rng-device,rng=rng0 -pidfile /w/output/qemu.pid"
#define FG " -nographic -serial mon:stdio"
/* Detached: a panic device for the machine (pvpanic on x86, pvpanic-pci on virt), -no-reboot. */
#define BG " -display none -serial file:/w/serial.log -qmp unix:/w/qmp.sock,server=on,wait=off " \
	"-daemonize"
#define BG_X86 " -device pvpanic -no-reboot" BG
#define BG_ARM " -device pvpanic-pci -no-reboot" BG
#define DISK_X86 "-drive file=/w/output/disk-qemu.vmdk,if=ide,id=drv0 "
#define DISK_ARM "-drive file=/w/output/disk-qemu.vmdk,if=none,format=vmdk,id=drv0 " \
	"-device virtio-blk-device,drive=drv0 "

/*
 * Each case: options as "name=value" pairs separated by '|', facts as lines,
 * environment as "NAME=value" lines; @ is the fixture directory, which holds
 * a fake qemu-system-aarch64 (and qemu-old listing no virt-4.2) on PATH.
 * The expected argv is joined by single spaces; "!" starts an error.
 */
static const struct {
	const char	*opts;
	const char	*facts;
	const char	*env;
	int		 detach;
	int		 status;
	const char	*want;
	const char	*warn;	/* first warning, if any */
} builds[] = {
	{ "accel=tcg", "", "", 0, 0,
	    "qemu-system-x86_64 -smp 2 -m 1G -accel tcg -cpu max -kernel /w/output/ifs.bin "
	    DISK_X86 TAIL_X86 FG, NULL },
	/* kvm asked for by option is probed (qq.7): here under probes that find it usable. */
	{ "accel=kvm", "", "QQ_KVM_DEVICE=/dev/null\nQQ_HOST_ARCH=x86_64\nQQ_CPUINFO=@/cpu-vmx", 1, 0,
	    "qemu-system-x86_64 -smp 2 -m 1G -accel kvm -cpu host -kernel /w/output/ifs.bin "
	    DISK_X86 TAIL_X86 BG_X86, NULL },
	{ "arch=aarch64le", "accel=tcg\n", "", 0, 0,
	    "qemu-system-aarch64 -machine virt-4.2 -smp 2 -m 1G -accel tcg -cpu cortex-a57 "
	    "-kernel /w/output/ifs.bin " DISK_ARM TAIL_ARM FG, NULL },
	{ "", "arch=aarch64\naccel=kvm\n", "", 1, 0,
	    "qemu-system-aarch64 -machine virt-4.2 -smp 2 -m 1G -accel kvm -cpu host "
	    "-kernel /w/output/ifs.bin " DISK_ARM TAIL_ARM BG_ARM, NULL },
	{ "qemu=@/qemu-old", "arch=aarch64\naccel=tcg\n", "", 0, 0,
	    "@/qemu-old -machine virt-5.0 -smp 2 -m 1G -accel tcg -cpu cortex-a57 "
	    "-kernel /w/output/ifs.bin " DISK_ARM TAIL_ARM FG,
	    "@/qemu-old has no machine virt-4.2; using virt-5.0, the oldest virt-X.Y it lists" },
	/* Precedence: option > fact > environment. */
	{ "smp=4|ram=512m", "smp=3\nram=2G\nssh_port=0\naccel=tcg\n",
	    "QNX_QEMU_SMP=8\nQNX_QEMU_SSH_PORT=2022\nQNX_QEMU_RAM=4G", 0, 0,
	    "qemu-system-x86_64 -smp 4 -m 512M -accel tcg -cpu max -kernel /w/output/ifs.bin "
	    DISK_X86 "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:0-:22 "
	    "-device virtio-net-pci,netdev=net0 -object rng-random,filename=/dev/urandom,id=rng0 "
	    "-device virtio-rng-pci,rng=rng0 -pidfile /w/output/qemu.pid" FG, NULL },
	/* The Linux guest: an empty disk fact means no disk; initrd and append appear. */
	{ "accel=tcg", "kernel=/g/vmlinuz\ninitrd=/g/initrd.img\nappend=console=ttyS0 quiet\n"
	    "disk=\n", "", 0, 0,
	    "qemu-system-x86_64 -smp 2 -m 1G -accel tcg -cpu max -kernel /g/vmlinuz "
	    "-initrd /g/initrd.img -append console=ttyS0 quiet " TAIL_X86 FG, NULL },
	{ "accel=tcg|disk=|initrd=|append=|kernel=k", "initrd=/g/i\nappend=x\n", "", 0, 0,
	    "qemu-system-x86_64 -smp 2 -m 1G -accel tcg -cpu max -kernel @/k " TAIL_X86 FG, NULL },
	{ "accel=tcg|disk=d,1.vmdk", "", "", 0, 0,
	    "qemu-system-x86_64 -smp 2 -m 1G -accel tcg -cpu max -kernel /w/output/ifs.bin "
	    "-drive file=@/d,,1.vmdk,if=ide,id=drv0 " TAIL_X86 FG, NULL },
	/* auto runs the detection: here KVM is unusable, so tcg with a warning. */
	{ "accel=auto", "", "QQ_KVM_DEVICE=@/nodev\nQQ_HOST_ARCH=x86_64\nQNX_QEMU_BINARY=@/qemu-x86",
	    0, 0,
	    "@/qemu-x86 -smp 2 -m 1G -accel tcg -cpu max -kernel /w/output/ifs.bin "
	    DISK_X86 TAIL_X86 FG,
	    "using tcg: @/nodev: No such file or directory; the kvm module is not loaded or the "
	    "CPU has no virtualization" },
	{ "", "", "QQ_KVM_DEVICE=/dev/null\nQQ_HOST_ARCH=x86_64\nQQ_CPUINFO=@/cpu-vmx\n"
	    "QNX_QEMU_BINARY=@/qemu-x86", 0, 0,
	    "@/qemu-x86 -smp 2 -m 1G -accel kvm -cpu host -kernel /w/output/ifs.bin "
	    DISK_X86 TAIL_X86 FG, NULL },
	/* kvm asked for but unusable: the negative answer, as from qq-detect-accel. */
	{ "accel=kvm", "", "QQ_KVM_DEVICE=@/nodev\nQQ_HOST_ARCH=x86_64", 0, QQ_EXIT_NO,
	    "!kvm asked for with --accel but unusable: @/nodev: No such file or directory; the kvm "
	    "module is not loaded or the CPU has no virtualization", NULL },
	/* Every bad value of every setting qq-cmdline reads. */
	{ "arch=riscv", "", "", 0, QQ_EXIT_INPUT, "!bad --arch \"riscv\": expected x86_64 or aarch64", NULL },
	{ "", "arch=arm\n", "", 0, QQ_EXIT_INPUT, "!bad fact arch \"arm\": expected x86_64 or aarch64", NULL },
	{ "", "", "QNX_QEMU_ARCH=i386", 0, QQ_EXIT_INPUT,
	    "!bad QNX_QEMU_ARCH \"i386\": expected x86_64 or aarch64", NULL },
	{ "smp=0", "", "", 0, QQ_EXIT_INPUT, "!bad --smp \"0\": expected a CPU count from 1 to 64", NULL },
	{ "", "", "QNX_QEMU_SMP=x", 0, QQ_EXIT_INPUT,
	    "!bad QNX_QEMU_SMP \"x\": expected a CPU count from 1 to 64", NULL },
	{ "ram=1Q", "", "", 0, QQ_EXIT_INPUT,
	    "!bad --ram \"1Q\": expected a size from 32M to 1T such as 1G or 512M", NULL },
	{ "", "ram=16M\n", "", 0, QQ_EXIT_INPUT,
	    "!bad fact ram \"16M\": expected a size from 32M to 1T such as 1G or 512M", NULL },
	{ "ssh-port=65536", "", "", 0, QQ_EXIT_INPUT,
	    "!bad --ssh-port \"65536\": expected a port from 0 to 65535", NULL },
	{ "", "", "QNX_QEMU_SSH_PORT=ssh", 0, QQ_EXIT_INPUT,
	    "!bad QNX_QEMU_SSH_PORT \"ssh\": expected a port from 0 to 65535", NULL },
	{ "workspace=", "", "", 0, QQ_EXIT_INPUT, "!bad --workspace \"\": expected a directory path", NULL },
	{ "qemu=", "", "", 0, QQ_EXIT_INPUT, "!bad --qemu \"\": expected a program name or path", NULL },
	{ "accel=hvf", "", "", 0, QQ_EXIT_INPUT, "!bad --accel \"hvf\": expected auto, kvm or tcg", NULL },
	{ "", "accel=on\n", "", 0, QQ_EXIT_INPUT, "!bad fact accel \"on\": expected auto, kvm or tcg", NULL },
	{ "kernel=", "", "", 0, QQ_EXIT_INPUT, "!bad --kernel \"\": expected a file path", NULL },
	{ "", "kernel=\n", "", 0, QQ_EXIT_INPUT, "!bad fact kernel \"\": expected a file path", NULL },
	{ "append=a\nb", "", "", 0, QQ_EXIT_INPUT, "!bad --append: holds a newline", NULL },
	/* QEMU that cannot tell its machines. */
	{ "qemu=@/qemu-none|arch=aarch64", "accel=tcg\n", "", 0, QQ_EXIT_INPUT,
	    "!@/qemu-none lists no virt-X.Y machine: is it an aarch64 QEMU?", NULL },
	{ "qemu=@/qemu-fail|arch=aarch64", "accel=tcg\n", "", 0, QQ_EXIT_RUNTIME,
	    "!@/qemu-fail -machine help failed with status 3: broken", NULL },
	{ "qemu=@/missing|arch=aarch64", "accel=tcg\n", "", 0, QQ_EXIT_NOTFOUND,
	    "!unable to find @/missing: No such file or directory", NULL },
	{ "qemu=@/missing", "", "", 0, QQ_EXIT_NOTFOUND,
	    "!unable to find QEMU @/missing: No such file or directory", NULL },
};

static const char *const envs[] = { "QNX_QEMU_ARCH", "QNX_QEMU_SMP", "QNX_QEMU_RAM",
	"QNX_QEMU_SSH_PORT", "QNX_QEMU_ACCEL", "QNX_QEMU_WORKSPACE", "QNX_QEMU_BINARY",
	"QQ_KVM_DEVICE", "QQ_HOST_ARCH", "QQ_CPUINFO", "QQ_SYSMODULE" };

START_TEST(test_build)
{
	char *d = test_tmpdir(), *oldpath = strdup(getenv("PATH")), *oldcwd = getcwd(NULL, 0);
	char opts[1024], env[1024], path[PATH_MAX * 2], want[4096], got[4096];
	char *line, *save, *eq;
	struct qq_cmdline_opts o = { 0 };
	struct qq_cmdline c;
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_err e;
	FILE *fp;
	size_t i;
	int rc;

	test_puts(d, "qemu-system-aarch64", "#!/bin/sh\n[ \"$1 $2\" = '-machine help' ] || exit 9\n"
	    "printf 'virt-2.6  QEMU 2.6\\nvirt-4.2  QEMU 4.2\\nvirt  (alias of virt-7.2)\\n'\n", 0755);
	test_puts(d, "qemu-old", "#!/bin/sh\nprintf 'virt-10.0  x\\nvirt-5.0  y\\nvirt-5.1 z\\n'\n", 0755);
	test_puts(d, "qemu-none", "#!/bin/sh\nprintf 'pc  x\\nq35  y\\n'\n", 0755);
	test_puts(d, "qemu-fail", "#!/bin/sh\necho broken >&2; exit 3\n", 0755);
	test_puts(d, "qemu-x86", "#!/bin/sh\nprintf 'tcg\\nkvm\\n'\n", 0755);
	test_puts(d, "cpu-vmx", "flags : vmx\n", 0755);
	snprintf(path, sizeof(path), "%s:%s", d, oldpath);
	setenv("PATH", path, 1);
	ck_assert_int_eq(chdir(d), 0);
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		unsetenv(envs[i]);
	setenv("QNX_QEMU_WORKSPACE", "/w", 1);
	test_subst(env, sizeof(env), builds[_i].env, d);
	for (line = strtok_r(env, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	fp = fmemopen((void *)builds[_i].facts, strlen(builds[_i].facts), "r");
	if (*builds[_i].facts != '\0') {
		ck_assert_ptr_nonnull(fp);
		ck_assert_int_eq(qq_facts_read(&f, fp, "facts", &e), 0);
	}
	if (fp != NULL)
		fclose(fp);
	qq_settings_init(&s);
	test_subst(opts, sizeof(opts), builds[_i].opts, d);
	for (line = strtok_r(opts, "|", &save); line; line = strtok_r(NULL, "|", &save)) {
		eq = strchr(line, '=');
		*eq++ = '\0';
		if (strcmp(line, "kernel") == 0)
			o.kernel = eq;
		else if (strcmp(line, "disk") == 0)
			o.disk = eq;
		else if (strcmp(line, "initrd") == 0)
			o.initrd = eq;
		else if (strcmp(line, "append") == 0)
			o.append = eq;
		else
			ck_assert_int_eq(qq_settings_option(&s, line, eq, &e), 0);
	}
	o.detach = builds[_i].detach;
	test_subst(want, sizeof(want), builds[_i].want, d);
	rc = qq_cmdline_build(&s, &f, &o, &c, &e);
	ck_assert_int_eq(rc, builds[_i].status);
	if (rc != 0)
		ck_assert_str_eq(e.msg, want + 1);
	else {
		got[0] = '\0';
		for (i = 0; i < c.argc; i++) {
			if (i > 0)
				strlcat(got, " ", sizeof(got));
			strlcat(got, c.argv[i], sizeof(got));
		}
		ck_assert_ptr_null(c.argv[c.argc]);
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(c.nwarn, builds[_i].warn != NULL);
		if (builds[_i].warn != NULL) {
			test_subst(want, sizeof(want), builds[_i].warn, d);
			ck_assert_str_eq(c.warn[0], want);
		}
		qq_cmdline_free(&c);
	}
	qq_facts_free(&f);
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		unsetenv(envs[i]);
	setenv("PATH", oldpath, 1);
	ck_assert_int_eq(chdir(oldcwd), 0);
	free(oldpath);
	free(oldcwd);
	test_rmtree(d);
	free(d);
}
END_TEST

Suite *
suite_cmdline(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_loop_test(tc, test_pick_machine, 0, sizeof(machines) / sizeof(machines[0]));
	tcase_add_loop_test(tc, test_comma, 0, sizeof(commas) / sizeof(commas[0]));
	tcase_add_loop_test(tc, test_qmp_path, 0, sizeof(qmps) / sizeof(qmps[0]));
	tcase_add_loop_test(tc, test_build, 0, sizeof(builds) / sizeof(builds[0]));
	suite_add_tcase(s, tc);
	return s;
}
