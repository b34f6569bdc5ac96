/* cmdline.c: the exact QEMU argv for the guest machine (DESIGN.md section 4). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sha2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

/* Where a QMP socket goes when the workspace path is too deep for sun_path. */
#define QMP_SHORT_DIR "/tmp"
#define QMP_DIGEST_HEX 16

struct arch_devs {
	const char	*arch;
	const char	*tcg_cpu;
	const char	*nic;
	const char	*rng;
};

static const struct arch_devs devs[] = {
	{ "x86_64", "max", "virtio-net-pci", "virtio-rng-pci" },
	{ "aarch64", "cortex-a57", "virtio-net-device", "virtio-rng-device" },
};

int
qq_cmdline_comma(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		if (o + (*in == ',' ? 2 : 1) >= outsz)
			return -1;
		if (*in == ',')
			out[o++] = ',';
		out[o++] = *in;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}

int
qq_cmdline_qmp_path(const char *ws, char *out, size_t outsz, struct qq_err *e)
{
	char hex[SHA256_DIGEST_STRING_LENGTH];
	char path[PATH_MAX];

	if (qq_file_join(path, sizeof(path), ws, "qmp.sock", e) != 0)
		return e->status;
	if (strlen(path) > QQ_SUN_PATH_MAX) {
		SHA256Data((const uint8_t *)ws, strlen(ws), hex);
		snprintf(path, sizeof(path), "%s/qq-%.*s/qmp.sock", QMP_SHORT_DIR, QMP_DIGEST_HEX,
		    hex);
	}
	if (strlcpy(out, path, outsz) >= outsz)
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	return 0;
}

/* Parses "virt-X.Y" exactly; 0 with the version, else -1. */
static int
virt_version(const char *name, size_t len, long *maj, long *min)
{
	const char *p = name + 5, *end = name + len;
	char *q;

	if (len < 8 || strncmp(name, "virt-", 5) != 0 || !isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*maj = strtol(p, &q, 10);
	if (errno != 0 || q >= end || *q != '.' || !isdigit((unsigned char)q[1]))
		return -1;
	*min = strtol(q + 1, &q, 10);
	return errno == 0 && q == end ? 0 : -1;
}

int
qq_cmdline_pick_machine(const char *help, char *out, size_t outsz)
{
	const char *line, *end;
	long maj, min, bmaj = 0, bmin = 0;
	size_t len;
	int found = 0;

	for (line = help; *line != '\0'; line = *end ? end + 1 : end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		len = strcspn(line, " \t\n");
		if (virt_version(line, len, &maj, &min) == -1)
			continue;
		if (len == strlen(QQ_CMDLINE_MACHINE) &&
		    strncmp(line, QQ_CMDLINE_MACHINE, len) == 0) {
			strlcpy(out, QQ_CMDLINE_MACHINE, outsz);
			return 0;
		}
		if (!found || maj < bmaj || (maj == bmaj && min < bmin)) {
			bmaj = maj;
			bmin = min;
			found = 1;
		}
	}
	if (!found)
		return -1;
	snprintf(out, outsz, "virt-%ld.%ld", bmaj, bmin);
	return 1;
}

int
qq_cmdline_machine(const char *qemu, char *out, size_t outsz, char *warn, size_t warnsz,
    struct qq_err *e)
{
	char *const argv[] = { (char *)qemu, "-machine", "help", NULL };
	struct qq_proc_out r;
	const char *end;
	int rc;

	*warn = '\0';
	if (qq_proc_run(argv, NULL, &r, e) != 0)
		return e->status;
	if (r.status != 0) {
		end = strchr(r.errout, '\n');
		qq_err_set(e, QQ_EXIT_RUNTIME, "%s -machine help failed with status %d: %.*s",
		    qemu, r.status, end ? (int)(end - r.errout) : (int)strlen(r.errout),
		    r.errout);
		qq_proc_out_free(&r);
		return e->status;
	}
	rc = qq_cmdline_pick_machine(r.out, out, outsz);
	qq_proc_out_free(&r);
	if (rc == -1)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s lists no virt-X.Y machine: is it an "
		    "aarch64 QEMU?", qemu);
	if (rc == 1)
		snprintf(warn, warnsz, "%s has no machine %s; using %s, the oldest virt-X.Y it "
		    "lists", qemu, QQ_CMDLINE_MACHINE, out);
	return 0;
}

/* Appends one printf-formatted argument. */
static int
push(struct qq_cmdline *c, struct qq_err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
push(struct qq_cmdline *c, struct qq_err *e, const char *fmt, ...)
{
	char **nv, *arg;
	va_list ap;
	int rc;

	if ((nv = reallocarray(c->argv, c->argc + 2, sizeof(*nv))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the QEMU command");
	c->argv = nv;
	va_start(ap, fmt);
	rc = vasprintf(&arg, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		c->argv[c->argc] = NULL;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the QEMU command");
	}
	c->argv[c->argc++] = arg;
	c->argv[c->argc] = NULL;
	return 0;
}

/*
 * One of kernel, disk, initrd, append: option, else fact, else def (NULL: none).
 * An empty value means none, except for the kernel. Paths are made absolute
 * (-daemonize changes directory to /).
 */
static int
image_arg(const char *name, const char *opt, const struct qq_facts *f, const char *def,
    int path, char *out, size_t outsz, struct qq_err *e)
{
	const char *v, *from = "--";
	struct qq_err why;

	if ((v = opt) == NULL) {
		from = "fact ";
		if ((v = qq_facts_get(f, name)) == NULL) {
			v = def;
			from = "default ";
		}
	}
	*out = '\0';
	if (v == NULL)
		return 0;
	if (strchr(v, '\n') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s%s: holds a newline", from, name);
	if (*v == '\0') {
		if (strcmp(name, "kernel") == 0)
			return qq_err_set(e, QQ_EXIT_INPUT, "bad %s%s \"\": expected a file path",
			    from, name);
		return 0;
	}
	if (!path)
		return strlcpy(out, v, outsz) < outsz ? 0 :
		    qq_err_set(e, QQ_EXIT_INPUT, "bad %s%s: longer than %zu bytes", from, name,
		    outsz - 1);
	if (qq_file_abspath(v, out, outsz, &why) != 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s%s \"%s\": %s", from, name, v, why.msg);
	return 0;
}

static const struct arch_devs *
arch_devs(const char *arch)
{
	size_t i;

	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (strcmp(devs[i].arch, arch) == 0)
			return &devs[i];
	return NULL;
}

/* The settings and image paths, resolved before anything is built. */
struct inputs {
	char	 accel[8];
	char	 machine[64];
	char	 kernel[PATH_MAX], disk[PATH_MAX], initrd[PATH_MAX];
	char	 append[QQ_VALUE_MAX];
	char	 qmp[PATH_MAX];
	char	 esc[PATH_MAX * 2];
};

static int
resolve(struct qq_settings *s, const struct qq_facts *f, const struct qq_cmdline_opts *o,
    struct inputs *in, struct qq_cmdline *c, struct qq_err *e)
{
	static const enum qq_setting need[] = { QQ_SET_ARCH, QQ_SET_SMP, QQ_SET_RAM,
	    QQ_SET_SSH_PORT, QQ_SET_WORKSPACE, QQ_SET_QEMU, QQ_SET_ACCEL };
	char def[PATH_MAX];
	const char *ws;
	struct qq_accel acc;
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (qq_settings_get(s, need[i], f, e) != 0)
			return e->status;
	ws = s->val[QQ_SET_WORKSPACE];
	/* mkqnximage's disk is the default only for an image without an initrd. */
	if (qq_file_join(def, sizeof(def), ws, "output/ifs.bin", e) != 0 ||
	    image_arg("kernel", o->kernel, f, def, 1, in->kernel, sizeof(in->kernel), e) != 0 ||
	    image_arg("initrd", o->initrd, f, NULL, 1, in->initrd, sizeof(in->initrd), e) != 0 ||
	    qq_file_join(def, sizeof(def), ws, "output/disk-qemu.vmdk", e) != 0 ||
	    image_arg("disk", o->disk, f, *in->initrd ? NULL : def, 1, in->disk, sizeof(in->disk),
	    e) != 0 ||
	    image_arg("append", o->append, f, NULL, 0, in->append, sizeof(in->append), e) != 0)
		return e->status;
	if (o->detach && qq_cmdline_qmp_path(ws, in->qmp, sizeof(in->qmp), e) != 0)
		return e->status;
	if (strcmp(s->val[QQ_SET_ACCEL], "auto") == 0) {
		if (qq_accel_detect(s, f, &acc, e) != 0)
			return e->status;
		if (acc.warned) {
			/* The same words qq-detect-accel warns with. */
			strlcpy(c->warn[c->nwarn], "using tcg: ", sizeof(c->warn[0]));
			strlcat(c->warn[c->nwarn++], acc.reason, sizeof(c->warn[0]));
		}
		strlcpy(in->accel, acc.accel, sizeof(in->accel));
	} else {
		/*
		 * kvm asked for by option or environment is probed as qq-detect-accel
		 * would (QQ_EXIT_NO when unusable, qq.7); an accel fact is such a verdict.
		 */
		if (strcmp(s->val[QQ_SET_ACCEL], "kvm") == 0 && s->src[QQ_SET_ACCEL] != QQ_SRC_FACT &&
		    qq_accel_detect(s, f, &acc, e) != 0)
			return e->status;
		strlcpy(in->accel, s->val[QQ_SET_ACCEL], sizeof(in->accel));
	}
	in->machine[0] = '\0';
	if (strcmp(s->val[QQ_SET_ARCH], "aarch64") == 0) {
		if (qq_cmdline_machine(s->val[QQ_SET_QEMU], in->machine, sizeof(in->machine),
		    c->warn[c->nwarn], sizeof(c->warn[0]), e) != 0)
			return e->status;
		if (c->warn[c->nwarn][0] != '\0')
			c->nwarn++;
	}
	return 0;
}

/* Appends "-drive file=..." with the path's commas doubled (QemuOpts' escape). */
static int
push_escaped(struct qq_cmdline *c, struct inputs *in, const char *pre, const char *path,
    const char *post, struct qq_err *e)
{
	if (qq_cmdline_comma(path, in->esc, sizeof(in->esc)) == -1)
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	return push(c, e, "%s%s%s", pre, in->esc, post);
}

static int
build(const struct qq_settings *s, struct inputs *in, const struct qq_cmdline_opts *o,
    struct qq_cmdline *c, struct qq_err *e)
{
	const struct arch_devs *d = arch_devs(s->val[QQ_SET_ARCH]);
	const char *ws = s->val[QQ_SET_WORKSPACE];
	int x86 = strcmp(d->arch, "x86_64") == 0;

	if (push(c, e, "%s", s->val[QQ_SET_QEMU]) != 0 ||
	    (*in->machine && (push(c, e, "-machine") != 0 ||
	    push(c, e, "%s", in->machine) != 0)) ||
	    push(c, e, "-smp") != 0 || push(c, e, "%s", s->val[QQ_SET_SMP]) != 0 ||
	    push(c, e, "-m") != 0 || push(c, e, "%s", s->val[QQ_SET_RAM]) != 0 ||
	    push(c, e, "-accel") != 0 || push(c, e, "%s", in->accel) != 0 ||
	    push(c, e, "-cpu") != 0 ||
	    push(c, e, "%s", strcmp(in->accel, "kvm") == 0 ? "host" : d->tcg_cpu) != 0 ||
	    push(c, e, "-kernel") != 0 || push(c, e, "%s", in->kernel) != 0 ||
	    (*in->initrd && (push(c, e, "-initrd") != 0 ||
	    push(c, e, "%s", in->initrd) != 0)) ||
	    (*in->append && (push(c, e, "-append") != 0 ||
	    push(c, e, "%s", in->append) != 0)))
		return e->status;
	if (*in->disk && (push(c, e, "-drive") != 0 ||
	    push_escaped(c, in, "file=", in->disk,
	    x86 ? ",if=ide,id=drv0" : ",if=none,format=vmdk,id=drv0", e) != 0 ||
	    (!x86 && (push(c, e, "-device") != 0 ||
	    push(c, e, "virtio-blk-device,drive=drv0") != 0))))
		return e->status;
	if (push(c, e, "-netdev") != 0 ||
	    push(c, e, "user,id=net0,hostfwd=tcp:127.0.0.1:%s-:22",
	    s->val[QQ_SET_SSH_PORT]) != 0 ||
	    push(c, e, "-device") != 0 || push(c, e, "%s,netdev=net0", d->nic) != 0 ||
	    push(c, e, "-object") != 0 ||
	    push(c, e, "rng-random,filename=/dev/urandom,id=rng0") != 0 ||
	    push(c, e, "-device") != 0 || push(c, e, "%s,rng=rng0", d->rng) != 0 ||
	    push(c, e, "-pidfile") != 0 || push(c, e, "%s/output/qemu.pid", ws) != 0)
		return e->status;
	if (!o->detach)
		return push(c, e, "-nographic") != 0 || push(c, e, "-serial") != 0 ||
		    push(c, e, "mon:stdio") != 0 ? e->status : 0;
	/*
	 * A guest that panics must end the wait at once (qq-spawn(1), guest-panicked):
	 * a pvpanic device reports it over QMP (GUEST_PANICKED, run state
	 * guest-panicked; QEMU's docs/specs/pvpanic.rst: "pvpanic" is the ISA device
	 * of x86 machines, "pvpanic-pci" works on any machine with a PCI bus, which
	 * virt has), and -no-reboot turns a guest that reboots after its panic
	 * (Linux panic=N) into a QEMU that exits. Detached only: at a console, a
	 * user's reboot stays a reboot. On aarch64 the PCI device takes no
	 * virtio-mmio slot: the blk, net, rng transport order is kept.
	 */
	if (push(c, e, "-device") != 0 || push(c, e, "%s", x86 ? "pvpanic" : "pvpanic-pci") != 0 ||
	    push(c, e, "-no-reboot") != 0)
		return e->status;
	/* -serial file: takes the rest literally (QEMU 7.2): no comma doubling there. */
	if (push(c, e, "-display") != 0 || push(c, e, "none") != 0 ||
	    push(c, e, "-serial") != 0 || push(c, e, "file:%s/serial.log", ws) != 0 ||
	    push(c, e, "-qmp") != 0 ||
	    push_escaped(c, in, "unix:", in->qmp, ",server=on,wait=off", e) != 0 ||
	    push(c, e, "-daemonize") != 0)
		return e->status;
	return 0;
}

int
qq_cmdline_build(struct qq_settings *s, const struct qq_facts *f,
    const struct qq_cmdline_opts *o, struct qq_cmdline *c, struct qq_err *e)
{
	struct inputs *in;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the QEMU command");
	if ((rc = resolve(s, f, o, in, c, e)) == 0)
		rc = build(s, in, o, c, e);
	free(in);
	if (rc != 0)
		qq_cmdline_free(c);
	return rc;
}

void
qq_cmdline_free(struct qq_cmdline *c)
{
	size_t i;

	for (i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	c->argv = NULL;
	c->argc = 0;
}
