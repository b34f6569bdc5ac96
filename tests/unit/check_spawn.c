/* check_spawn.c: what an argv tells and the TCG rewrite (the wait is check_ready.c). */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

#define A(...) { __VA_ARGS__, NULL }

static const struct {
	const char	*argv[40];
	int		 status;	/* of qq_spawn_parse */
	const char	*pidfile, *workspace, *qmp, *serial, *files;	/* files: "|"-joined */
	int		 port, daemonize, stdio, kvm;
} parses[] = {
	/* What qq-cmdline prints for x86_64 / TCG, detached. */
	{ A("qemu-system-x86_64", "-smp", "2", "-m", "1G", "-accel", "tcg", "-cpu", "max",
	    "-kernel", "/w/output/ifs.bin", "-drive", "file=/w/output/disk-qemu.vmdk,if=ide,id=drv0",
	    "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22",
	    "-device", "virtio-net-pci,netdev=net0",
	    "-object", "rng-random,filename=/dev/urandom,id=rng0",
	    "-device", "virtio-rng-pci,rng=rng0", "-pidfile", "/w/output/qemu.pid",
	    "-display", "none", "-serial", "file:/w/serial.log",
	    "-qmp", "unix:/w/qmp.sock,server=on,wait=off", "-daemonize"), 0,
	  "/w/output/qemu.pid", "/w", "/w/qmp.sock", "/w/serial.log",
	  "/w/output/ifs.bin|/w/output/disk-qemu.vmdk", 2222, 1, 0, 0 },
	/* Foreground, KVM, a Linux guest: -initrd, -append, no disk. */
	{ A("qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-kernel", "/k/vmlinuz",
	    "-initrd", "/k/initrd", "-append", "-console=ttyS0 x", "-netdev",
	    "user,id=net0,hostfwd=tcp:127.0.0.1:0-:22", "-pidfile", "/w/output/qemu.pid",
	    "-nographic", "-serial", "mon:stdio"), 0,
	  "/w/output/qemu.pid", "/w", "", "", "/k/vmlinuz|/k/initrd", 0, 0, 1, 1 },
	/* Spaces and commas: doubled in option values, verbatim in -serial file: and -pidfile. */
	{ A("qemu-system-aarch64", "--drive", "file=/a b,,c/d.vmdk,if=none,format=vmdk,id=drv0",
	    "-pidfile", "/a b,c/output/qemu.pid", "-qmp", "unix:/a b,,c/qmp.sock,server=on",
	    "-serial", "file:/a b,c/serial.log", "-nic", "user,hostfwd=udp::53-:53,"
	    "hostfwd=tcp::2200-:22", "-enable-kvm", "-S", "-daemonize"), 0,
	  "/a b,c/output/qemu.pid", "/a b,c", "/a b,c/qmp.sock", "/a b,c/serial.log",
	  "/a b,c/d.vmdk", 2200, 1, 0, 1 },
	/* A pidfile outside output/: no workspace; no forward of port 22. */
	{ A("qemu-system-x86_64", "-pidfile", "/run/q.pid", "-netdev",
	    "user,id=n,hostfwd=tcp::8080-:80", "-machine", "q35,accel=kvm"), 0,
	  "/run/q.pid", "", "", "", "", -1, 0, 0, 1 },
	{ A("qemu-system-x86_64", "-netdev", "user,hostfwd=tcp::99999-:22"), 0,
	  "", "", "", "", "", -1, 0, 0, 0 },
	/* Rejections. */
	{ A("-S"), QQ_EXIT_INPUT, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
	{ A(""), QQ_EXIT_INPUT, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 },
	{ A("qemu-system-x86_64", "-kernel"), QQ_EXIT_INPUT, NULL, NULL, NULL, NULL, NULL,
	  0, 0, 0, 0 },
	{ A("qemu-system-x86_64", "-pidfile", ""), QQ_EXIT_INPUT, NULL, NULL, NULL, NULL, NULL,
	  0, 0, 0, 0 },
	{ A("qemu-system-x86_64", "-serial", "file:"), QQ_EXIT_INPUT, NULL, NULL, NULL, NULL,
	  NULL, 0, 0, 0, 0 },
};

START_TEST(test_parse)
{
	struct qq_spawn_vm *vm = malloc(sizeof(*vm));
	struct qq_err e;
	char files[4096] = "";
	size_t i;

	ck_assert_int_eq(qq_spawn_parse(vm, (char *const *)parses[_i].argv, &e),
	    parses[_i].status);
	if (parses[_i].status == 0) {
		ck_assert_str_eq(vm->pidfile, parses[_i].pidfile);
		ck_assert_str_eq(vm->workspace, parses[_i].workspace);
		ck_assert_str_eq(vm->qmp, parses[_i].qmp);
		ck_assert_str_eq(vm->serial_log, parses[_i].serial);
		for (i = 0; i < vm->nfiles; i++) {
			if (i > 0)
				strlcat(files, "|", sizeof(files));
			strlcat(files, vm->files[i], sizeof(files));
		}
		ck_assert_str_eq(files, parses[_i].files);
		ck_assert_int_eq(vm->ssh_port, parses[_i].port);
		ck_assert_int_eq(vm->daemonize, parses[_i].daemonize);
		ck_assert_int_eq(vm->console_stdio, parses[_i].stdio);
		ck_assert_int_eq(vm->kvm, parses[_i].kvm);
	}
	free(vm);
}
END_TEST

START_TEST(test_argv_tcg)
{
	char *const x86[] = { "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m",
	    "1G", NULL };
	char *const arm[] = { "/usr/bin/qemu-system-aarch64", "-enable-kvm", "-cpu", "host",
	    "-M", "virt-4.2", NULL };
	struct qq_err e;
	char **v;

	ck_assert_int_eq(qq_spawn_argv_tcg(x86, &v, &e), 0);
	ck_assert_str_eq(v[2], "tcg");
	ck_assert_str_eq(v[4], "max");
	ck_assert_str_eq(v[6], "1G");
	ck_assert_ptr_null(v[7]);
	qq_argv_free(v);
	ck_assert_int_eq(qq_spawn_argv_tcg(arm, &v, &e), 0);
	ck_assert_str_eq(v[1], "-cpu");
	ck_assert_str_eq(v[2], "cortex-a57");
	ck_assert_ptr_null(v[5]);
	qq_argv_free(v);
}
END_TEST

START_TEST(test_why_names)
{
	ck_assert_str_eq(qq_spawn_why(QQ_WAIT_OK), "ok");
	ck_assert_str_eq(qq_spawn_why(QQ_WAIT_INTERNAL_ERROR), "internal-error");
	ck_assert_str_eq(qq_spawn_why(QQ_WAIT_INTERRUPTED), "interrupted");
	ck_assert_str_eq(qq_spawn_why(QQ_WAIT_HOSTKEY), "hostkey");
	ck_assert_str_eq(qq_spawn_why(QQ_WAIT_AUTH), "auth");
}
END_TEST

Suite *
suite_spawn(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_parse, 0, sizeof(parses) / sizeof(parses[0]));
	tcase_add_test(tc, test_argv_tcg);
	tcase_add_test(tc, test_why_names);
	suite_add_tcase(s, tc);
	return s;
}
