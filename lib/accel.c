/* accel.c: choosing kvm or tcg for the target arch on this host, and saying why. */
#include "config.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define CPUINFO_MAX (4U << 20)

/* Software KVMs that pass open(2), -accel help and even KVM_RUN, yet cannot boot a stock guest. */
static const char *const soft_kvm[] = { "kvm_pvm" };

/* A probe path: the test override from the environment, else the real one. */
static const char *
probe_path(const char *env, const char *def)
{
	const char *v = getenv(env);

	return v != NULL && *v != '\0' ? v : def;
}

static int
host_arch(char *out, size_t outsz, struct qq_err *e)
{
	struct utsname u;
	const char *m = getenv("QQ_HOST_ARCH");

	if (m == NULL || *m == '\0') {
		if (uname(&u) == -1)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the host arch");
		m = u.machine;
	}
	if (strcmp(m, "arm64") == 0)
		m = "aarch64";
	strlcpy(out, m, outsz);
	return 0;
}

/* 1 when the KVM device opens read-write as a character device; else 0 with a reason. */
static int
device_ok(const char *dev, char *reason, size_t reasonsz)
{
	struct stat st;
	int fd, saved;

	if ((fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) == -1) {
		saved = errno;
		if (saved == EACCES || saved == EPERM)
			snprintf(reason, reasonsz, "%s: %s; add your user to group kvm", dev,
			    strerror(saved));
		else if (saved == ENOENT)
			snprintf(reason, reasonsz, "%s: %s; the kvm module is not loaded or the "
			    "CPU has no virtualization", dev, strerror(saved));
		else
			snprintf(reason, reasonsz, "%s: %s", dev, strerror(saved));
		return 0;
	}
	saved = fstat(fd, &st);
	close(fd);
	if (saved == -1 || !S_ISCHR(st.st_mode)) {
		snprintf(reason, reasonsz, "%s is not a character device", dev);
		return 0;
	}
	return 1;
}

/* 1 when a whole word of a cpuinfo "flags" line is flag. */
static int
has_flag(const char *cpuinfo, const char *flag)
{
	const char *line, *end, *p;
	size_t fl = strlen(flag);

	for (line = cpuinfo; *line != '\0'; line = *end ? end + 1 : end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		if (strncmp(line, "flags", 5) != 0 || (p = memchr(line, ':', end - line)) == NULL)
			continue;
		for (p++; p < end; ) {
			size_t wl;

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			for (wl = 0; p + wl < end && p[wl] != ' ' && p[wl] != '\t'; wl++)
				;
			if (wl == fl && strncmp(p, flag, fl) == 0)
				return 1;
			p += wl;
		}
	}
	return 0;
}

/* x86: 1 when the CPU shows hardware virtualization; else 0 with a reason naming a soft KVM. */
static int
x86_cpu_ok(const char *dev, char *flag, size_t flagsz, char *reason, size_t reasonsz)
{
	const char *cpuinfo = probe_path("QQ_CPUINFO", "/proc/cpuinfo");
	const char *sysmod = probe_path("QQ_SYSMODULE", "/sys/module");
	char path[PATH_MAX];
	struct qq_err e;
	struct stat st;
	char *buf;
	size_t i;

	if (qq_file_read(cpuinfo, CPUINFO_MAX, &buf, NULL, &e) != 0) {
		snprintf(reason, reasonsz, "%s", e.msg);
		return 0;
	}
	if (has_flag(buf, "vmx") || has_flag(buf, "svm")) {
		strlcpy(flag, has_flag(buf, "vmx") ? "vmx" : "svm", flagsz);
		free(buf);
		return 1;
	}
	free(buf);
	for (i = 0; i < sizeof(soft_kvm) / sizeof(soft_kvm[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", sysmod, soft_kvm[i]) >=
		    sizeof(path) || stat(path, &st) == -1)
			continue;
		snprintf(reason, reasonsz, "%s exists but the CPU has no vmx or svm flag and %s "
		    "is loaded: a software KVM that cannot boot a stock guest", dev, soft_kvm[i]);
		return 0;
	}
	snprintf(reason, reasonsz, "%s exists but the CPU has no vmx or svm flag in %s: "
	    "no hardware virtualization", dev, cpuinfo);
	return 0;
}

/* 1 when "qemu -accel help" lists kvm; 0 when not; an error when QEMU cannot run or fails. */
static int
qemu_lists_kvm(const char *qemu, struct qq_err *e)
{
	char *const argv[] = { (char *)qemu, "-accel", "help", NULL };
	struct qq_proc_out r;
	const char *line, *end;
	int found = 0;

	if (qq_proc_run(argv, NULL, &r, e) != 0)
		return -1;
	if (r.status != 0) {
		end = strchr(r.errout, '\n');
		qq_err_set(e, QQ_EXIT_RUNTIME, "%s -accel help failed with status %d: %.*s", qemu,
		    r.status, end ? (int)(end - r.errout) : (int)strlen(r.errout), r.errout);
		qq_proc_out_free(&r);
		return -1;
	}
	for (line = r.out; *line != '\0' && !found; line = *end ? end + 1 : end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		found = end - line == 3 && strncmp(line, "kvm", 3) == 0;
	}
	qq_proc_out_free(&r);
	return found;
}

int
qq_accel_probe(const char *arch, const char *qemu, char *reason, size_t reasonsz,
    struct qq_err *e)
{
	const char *dev = probe_path("QQ_KVM_DEVICE", "/dev/kvm");
	char host[65], path[PATH_MAX], flag[8] = "";
	int rc;

	if (qq_proc_which(qemu, path, sizeof(path)) == -1) {
		qq_err_sys(e, QQ_EXIT_NOTFOUND, "unable to find %s", qemu);
		return -1;
	}
	if (host_arch(host, sizeof(host), e) != 0)
		return -1;
	if (strcmp(host, arch) != 0) {
		snprintf(reason, reasonsz, "host %s cannot run %s guests under KVM", host, arch);
		return 0;
	}
	if (!device_ok(dev, reason, reasonsz))
		return 0;
	if (strcmp(host, "x86_64") == 0 && !x86_cpu_ok(dev, flag, sizeof(flag), reason, reasonsz))
		return 0;
	if ((rc = qemu_lists_kvm(qemu, e)) == -1)
		return -1;
	if (rc == 0) {
		snprintf(reason, reasonsz, "%s does not list kvm in -accel help", qemu);
		return 0;
	}
	snprintf(reason, reasonsz, "host %s, %s opens read-write%s%s, %s lists kvm", host, dev,
	    *flag ? ", the CPU has " : "", flag, qemu);
	return 1;
}

/* How the accel setting was given, for reasons and messages. */
static const char *
source_name(const struct qq_settings *s)
{
	switch (s->src[QQ_SET_ACCEL]) {
	case QQ_SRC_OPTION:
		return "--accel";
	case QQ_SRC_FACT:
		return "fact accel";
	case QQ_SRC_ENV:
		return "QNX_QEMU_ACCEL";
	default:
		return "default accel";
	}
}

int
qq_accel_detect(struct qq_settings *s, const struct qq_facts *f, struct qq_accel *out,
    struct qq_err *e)
{
	const char *want;
	char reason[QQ_ERR_MAX], path[PATH_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_ACCEL, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_QEMU, f, e) != 0)
		return e->status;
	want = s->val[QQ_SET_ACCEL];
	if (strcmp(want, "tcg") == 0) {
		strlcpy(out->accel, "tcg", sizeof(out->accel));
		snprintf(out->reason, sizeof(out->reason), "asked for tcg with %s",
		    source_name(s));
		return 0;
	}
	/* Whatever the host, the QEMU that will run must exist and be a program (126, 127). */
	if (qq_proc_runnable(s->val[QQ_SET_QEMU], "QEMU", path, sizeof(path), e) != 0)
		return e->status;
	if ((rc = qq_accel_probe(s->val[QQ_SET_ARCH], s->val[QQ_SET_QEMU], reason,
	    sizeof(reason), e)) == -1)
		return e->status;
	if (rc == 1) {
		strlcpy(out->accel, "kvm", sizeof(out->accel));
		strlcpy(out->reason, reason, sizeof(out->reason));
		return 0;
	}
	if (strcmp(want, "kvm") == 0)
		return qq_err_set(e, QQ_EXIT_NO, "kvm asked for with %s but unusable: %s",
		    source_name(s), reason);
	strlcpy(out->accel, "tcg", sizeof(out->accel));
	strlcpy(out->reason, reason, sizeof(out->reason));
	out->warned = 1;
	return 0;
}

int
qq_accel_facts(struct qq_settings *s, struct qq_facts *f, struct qq_accel *out,
    struct qq_err *e)
{
	if (qq_accel_detect(s, f, out, e) != 0 ||
	    qq_settings_export(s, f, e) != 0 ||
	    qq_facts_set(f, "accel", out->accel, e) != 0 ||
	    qq_facts_set(f, "accel_reason", out->reason, e) != 0)
		return e->status;
	return 0;
}
