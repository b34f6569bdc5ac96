/* spawn.c: start QEMU from its argv, foreground or detached (the wait for SSH is ready.c). */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"

#define WAIT_KVM_S	60	/* default --wait-ssh under KVM */
#define WAIT_TCG_S	300	/* TCG boots 5 to 20 times slower */
#define TAIL_LINES	20

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* QEMU options that take no argument; every other option takes one. */
static const char *const noarg[] = {
	"-S", "-daemonize", "-nographic", "-enable-kvm", "-no-reboot", "-no-shutdown",
	"-snapshot", "-s", "-full-screen", "-nodefaults", "-no-user-config", "-no-hpet",
	"-no-acpi", "-win2k-hack", "-no-fd-bootchk", "-preconfig", "-only-migratable",
	"-enable-fips", "-alt-grab", "-ctrl-grab", "-no-quit", "-no-frame", "-semihosting",
	"-portrait", "-singlestep", "-curses", "-sdl", "-h", "-help", "-version",
	"-nodefconfig", NULL
};

static int
takes_arg(const char *opt)
{
	size_t i;

	for (i = 0; noarg[i] != NULL; i++)
		if (strcmp(opt, noarg[i]) == 0)
			return 0;
	return 1;
}

/*
 * Finds the n-th (from 0) comma-separated field of a QEMU option string,
 * undoing the ",," escape. Returns 1 and fills out, 0 past the last field.
 */
static int
opts_field(const char *s, int n, char *out, size_t outsz)
{
	size_t o = 0;
	int i = 0;

	for (;;) {
		if (*s == '\0' || (*s == ',' && s[1] != ',')) {
			if (i == n) {
				out[o < outsz ? o : outsz - 1] = '\0';
				return o < outsz ? 1 : -1;
			}
			if (*s == '\0')
				return 0;
			i++;
			o = 0;
			s++;
			continue;
		}
		if (i == n && o < outsz)
			out[o] = *s;
		if (i == n)
			o++;
		s += *s == ',' ? 2 : 1;
	}
}

/* The value of key=VALUE among the fields of s, unescaped; 1 found, 0 not, -1 too long. */
static int
opts_get(const char *s, const char *key, int nth, char *out, size_t outsz)
{
	char field[QQ_VALUE_MAX];
	size_t klen = strlen(key);
	int i, r, seen = 0;

	for (i = 0; (r = opts_field(s, i, field, sizeof(field))) != 0; i++) {
		if (r == -1)
			return -1;
		if (strncmp(field, key, klen) == 0 && field[klen] == '=' && seen++ == nth)
			return strlcpy(out, field + klen + 1, outsz) < outsz ? 1 : -1;
	}
	return 0;
}

/* hostfwd=[tcp:]HADDR:HPORT-[GADDR]:GPORT: the host port when GPORT is 22, else -1. */
static int
hostfwd_ssh_port(const char *v)
{
	char hport[16], gport[16];
	const char *p, *dash, *errstr;
	long long h;

	if (strncmp(v, "udp:", 4) == 0)
		return -1;
	if (strncmp(v, "tcp:", 4) == 0)
		v += 4;
	if ((p = strchr(v, ':')) == NULL || (dash = strchr(p, '-')) == NULL ||
	    (size_t)(dash - p - 1) >= sizeof(hport))
		return -1;
	memcpy(hport, p + 1, (size_t)(dash - p - 1));
	hport[dash - p - 1] = '\0';
	if ((p = strrchr(dash, ':')) == NULL || strlcpy(gport, p + 1, sizeof(gport)) >=
	    sizeof(gport) || strcmp(gport, "22") != 0)
		return -1;
	h = strtonum(hport, 0, 65535, &errstr);
	return errstr == NULL ? (int)h : -1;
}

static int
add_file(struct qq_spawn_vm *vm, const char *what, const char *path, struct qq_err *e)
{
	if (vm->nfiles >= QQ_SPAWN_FILES)
		return qq_err_set(e, QQ_EXIT_INPUT, "too many files in the QEMU argv");
	vm->file_what[vm->nfiles] = what;
	if (strlcpy(vm->files[vm->nfiles], path, sizeof(vm->files[0])) >= sizeof(vm->files[0]))
		return qq_err_set(e, QQ_EXIT_INPUT, "%s path too long: %s", what, path);
	vm->nfiles++;
	return 0;
}

static int
set_path(char *dst, size_t dstsz, const char *what, const char *val, struct qq_err *e)
{
	if (*val == '\0')
		return qq_err_set(e, QQ_EXIT_INPUT, "empty %s in the QEMU argv", what);
	return qq_file_abspath(val, dst, dstsz, e);
}

int
qq_spawn_parse(struct qq_spawn_vm *vm, char *const argv[], struct qq_err *e)
{
	char v[QQ_VALUE_MAX], opt[64];
	const char *a, *val;
	size_t i;
	int n, r;

	memset(vm, 0, sizeof(*vm));
	vm->ssh_port = -1;
	if (argv[0] == NULL || *argv[0] == '\0' || *argv[0] == '-')
		return qq_err_set(e, QQ_EXIT_INPUT, "no QEMU program at the start of the argv");
	if (strlcpy(vm->qemu, argv[0], sizeof(vm->qemu)) >= sizeof(vm->qemu))
		return qq_err_set(e, QQ_EXIT_INPUT, "QEMU program name too long");
	for (i = 1; argv[i] != NULL; i++) {
		a = argv[i];
		if (a[0] != '-')
			continue;	/* a value of an option we do not know; harmless */
		/* QEMU takes --opt as -opt. */
		if (strlcpy(opt, a[1] == '-' ? a + 1 : a, sizeof(opt)) >= sizeof(opt))
			continue;
		if (!takes_arg(opt)) {
			if (strcmp(opt, "-daemonize") == 0)
				vm->daemonize = 1;
			else if (strcmp(opt, "-nographic") == 0)
				vm->console_stdio = 1;
			else if (strcmp(opt, "-enable-kvm") == 0)
				vm->kvm = 1;
			continue;
		}
		if ((val = argv[i + 1]) == NULL)
			return qq_err_set(e, QQ_EXIT_INPUT, "QEMU option %s lacks its value", a);
		i++;
		if (strcmp(opt, "-pidfile") == 0) {
			if (set_path(vm->pidfile, sizeof(vm->pidfile), "-pidfile", val, e) != 0)
				return e->status;
		} else if (strcmp(opt, "-kernel") == 0 || strcmp(opt, "-initrd") == 0) {
			if (add_file(vm, opt[1] == 'k' ? "kernel" : "initrd", val, e) != 0)
				return e->status;
		} else if (strcmp(opt, "-drive") == 0) {
			if ((r = opts_get(val, "file", 0, v, sizeof(v))) == -1)
				return qq_err_set(e, QQ_EXIT_INPUT, "-drive value too long");
			if (r == 1 && add_file(vm, "disk", v, e) != 0)
				return e->status;
		} else if (strcmp(opt, "-qmp") == 0) {
			/* unix:PATH[,server=on,...]: PATH has its commas doubled. */
			if (strncmp(val, "unix:", 5) == 0) {
				if (opts_field(val + 5, 0, v, sizeof(v)) != 1)
					return qq_err_set(e, QQ_EXIT_INPUT, "-qmp path too long");
				if (set_path(vm->qmp, sizeof(vm->qmp), "-qmp unix: path", v, e) != 0)
					return e->status;
			}
		} else if (strcmp(opt, "-serial") == 0) {
			/* QEMU takes the path of "file:" verbatim (no comma escape). */
			if (strncmp(val, "file:", 5) == 0) {
				if (set_path(vm->serial_log, sizeof(vm->serial_log),
				    "-serial file: path", val + 5, e) != 0)
					return e->status;
			} else if (strcmp(val, "mon:stdio") == 0 || strcmp(val, "stdio") == 0)
				vm->console_stdio = 1;
		} else if (strcmp(opt, "-netdev") == 0 || strcmp(opt, "-nic") == 0) {
			for (n = 0; (r = opts_get(val, "hostfwd", n, v, sizeof(v))) == 1; n++)
				if (vm->ssh_port == -1)
					vm->ssh_port = hostfwd_ssh_port(v);
			if (r == -1)
				return qq_err_set(e, QQ_EXIT_INPUT, "%s value too long", a);
		} else if (strcmp(opt, "-accel") == 0) {
			if (opts_field(val, 0, v, sizeof(v)) == 1 &&
			    (strcmp(v, "kvm") == 0 || strcmp(v, "accel=kvm") == 0))
				vm->kvm = 1;
		} else if (strcmp(opt, "-machine") == 0 || strcmp(opt, "-M") == 0) {
			if (opts_get(val, "accel", 0, v, sizeof(v)) == 1 && strncmp(v, "kvm", 3) == 0)
				vm->kvm = 1;
		}
	}
	/* The workspace is the parent of the pidfile's output/ directory. */
	if (*vm->pidfile) {
		char *s;

		strlcpy(v, vm->pidfile, sizeof(v));
		if ((s = strrchr(v, '/')) != NULL) {
			*s = '\0';
			if ((s = strrchr(v, '/')) != NULL && strcmp(s + 1, "output") == 0) {
				*s = '\0';
				strlcpy(vm->workspace, *v ? v : "/", sizeof(vm->workspace));
			}
		}
	}
	return 0;
}

int
qq_spawn_check(const struct qq_spawn_vm *vm, struct qq_err *e)
{
	char path[PATH_MAX], holder[128];
	struct stat st;
	size_t i;
	pid_t pid;
	int busy;

	if (qq_proc_which(vm->qemu, path, sizeof(path)) == -1)
		return qq_err_sys(e, QQ_EXIT_NOTFOUND, "unable to find QEMU %s", vm->qemu);
	if (access(path, X_OK) == -1)
		return qq_err_sys(e, QQ_EXIT_NOEXEC, "unable to run QEMU %s", path);
	for (i = 0; i < vm->nfiles; i++)
		if (stat(vm->files[i], &st) == -1 || access(vm->files[i], R_OK) == -1)
			return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s %s",
			    vm->file_what[i], vm->files[i]);
	if (*vm->pidfile) {
		if ((pid = qq_vm_holder(vm->pidfile)) == -1)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the lock of %s",
			    vm->pidfile);
		if (pid > 0)
			return qq_err_set(e, QQ_EXIT_RUNTIME,
			    "a VM of workspace %s is already running (pid %ld holds %s); "
			    "stop it with qq-stop", *vm->workspace ? vm->workspace : "(none)",
			    (long)pid, vm->pidfile);
	}
	if (vm->ssh_port > 0 && (busy = qq_vm_port_busy(vm->ssh_port)) != 0) {
		if (busy == -1)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to check port %d",
			    vm->ssh_port);
		if (qq_vm_port_holder(vm->ssh_port, holder, sizeof(holder)) == -1)
			strlcpy(holder, "a process /proc does not show", sizeof(holder));
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "SSH port %d on 127.0.0.1 is already in use by %s; choose another "
		    "(--ssh-port, QNX_QEMU_SSH_PORT, 0 picks a free one)", vm->ssh_port,
		    holder);
	}
	return 0;
}

/* The last lines of the console log, for a failed wait; NULL when there is none. */
static char *
console_tail(const char *log)
{
	char *buf = NULL, *p, *out;
	size_t len = 0, i;
	int lines = 0;
	struct stat st;
	int fd;
	off_t from;
	ssize_t n;

	if (*log == '\0' || (fd = open(log, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (buf = malloc(65537)) == NULL) {
		close(fd);
		return NULL;
	}
	from = st.st_size > 65536 ? st.st_size - 65536 : 0;
	if ((n = pread(fd, buf, 65536, from)) > 0)
		len = (size_t)n;
	close(fd);
	buf[len] = '\0';
	/* Drop carriage returns and NULs: the console is a terminal stream. */
	for (i = 0, p = buf; i < len; i++)
		if (buf[i] != '\r' && buf[i] != '\0')
			*p++ = buf[i];
	*p = '\0';
	len = (size_t)(p - buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (p = buf + len; p > buf; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	if (len == 0) {
		free(buf);
		return NULL;
	}
	out = strdup(p);
	free(buf);
	return out;
}

int
qq_spawn_argv_tcg(char *const argv[], char ***out, struct qq_err *e)
{
	const char *base, *cpu;
	size_t n, i, o;
	char **v;

	for (n = 0; argv[n] != NULL; n++)
		;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to rewrite the argv");
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	cpu = strstr(base, "aarch64") != NULL ? "cortex-a57" : "max";
	for (i = o = 0; i < n; i++) {
		const char *a = argv[i], *repl = a;

		if (strcmp(a, "-enable-kvm") == 0 || strcmp(a, "--enable-kvm") == 0)
			continue;
		if (i > 0 && (strcmp(argv[i - 1], "-accel") == 0 ||
		    strcmp(argv[i - 1], "--accel") == 0) && strncmp(a, "kvm", 3) == 0)
			repl = "tcg";
		else if (i > 0 && (strcmp(argv[i - 1], "-cpu") == 0 ||
		    strcmp(argv[i - 1], "--cpu") == 0) && strncmp(a, "host", 4) == 0)
			repl = cpu;
		if ((v[o++] = strdup(repl)) == NULL) {
			qq_argv_free(v);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to rewrite the argv");
		}
	}
	*out = v;
	return 0;
}

/* Forks a guard that stops the VM should this process die before it disarms the guard. */
static pid_t
watchdog_arm(const struct qq_spawn_vm *vm, int *fdp)
{
	struct qq_stop_opts o;
	enum qq_stop_step by;
	struct qq_err e;
	long long deadline;
	int p[2], null;
	pid_t pid;
	char c;
	ssize_t n;

	*fdp = -1;
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[0]);
		*fdp = p[1];
		return pid;
	}
	/* The guard: quiet, immune to the terminal's signals, holding only its pipe. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (dup2(p[0], 3) == -1)
		_exit(1);
	closefrom(4);
	while ((n = read(3, &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);	/* disarmed */
	/* Our parent died: stop the VM it started, once QEMU has taken its pidfile. */
	qq_stop_defaults(&o);
	o.force = 1;
	o.quit_ms = o.term_ms = 2000;
	for (deadline = qq_vm_now_ms() + 10000; qq_vm_now_ms() < deadline; ) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (qq_vm_holder(vm->pidfile) > 0) {
			if (qq_stop_vm(vm->pidfile, vm->qmp, &o, &by, &e) == 0)
				qq_vm_cleanup(vm->short_qmp ? vm->workspace : NULL, vm->pidfile,
				    vm->qmp);
			_exit(0);
		}
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

static void
watchdog_disarm(pid_t pid, int fd)
{
	if (pid <= 0)
		return;
	(void)write(fd, "D", 1);
	close(fd);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* Stops the VM this call started, for a failed or interrupted start. */
static void
stop_started(const struct qq_spawn_vm *vm)
{
	struct qq_stop_opts o;
	enum qq_stop_step by;
	struct qq_err e;

	qq_stop_defaults(&o);
	o.force = 1;
	o.quit_ms = o.term_ms = 2000;
	if (qq_stop_vm(vm->pidfile, vm->qmp, &o, &by, &e) == 0 || e.status == QQ_EXIT_NO)
		qq_vm_cleanup(vm->short_qmp ? vm->workspace : NULL, vm->pidfile, vm->qmp);
}

/* Makes the short QMP directory of a deep workspace, or checks it is ours. */
static int
prepare_qmp(struct qq_spawn_vm *vm, struct qq_err *e)
{
	char dir[64], qdir[QQ_VALUE_MAX], *s;

	if (*vm->qmp == '\0' || *vm->workspace == '\0')
		return 0;
	strlcpy(qdir, vm->qmp, sizeof(qdir));
	if ((s = strrchr(qdir, '/')) != NULL)
		*s = '\0';
	if (qq_vm_qmp_dir(vm->workspace, dir, sizeof(dir)) == -1 || strcmp(qdir, dir) != 0)
		return 0;
	vm->short_qmp = 1;
	return qq_vm_dir_private(dir, e);
}

/* Records in the workspace where the short QMP socket lives: WS/qmp.sock -> /tmp/qq-.../qmp.sock. */
static int
record_qmp(const struct qq_spawn_vm *vm, struct qq_err *e)
{
	char link[QQ_VALUE_MAX + 16], tmp[QQ_VALUE_MAX + 32];

	if (!vm->short_qmp)
		return 0;
	if (qq_file_join(link, sizeof(link), vm->workspace, "qmp.sock", e) != 0 ||
	    qq_file_join(tmp, sizeof(tmp), vm->workspace, ".qmp.sock.tmp", e) != 0)
		return e->status;
	(void)unlink(tmp);
	if (symlink(vm->qmp, tmp) == -1 || rename(tmp, link) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to record the QMP socket in %s", link);
		(void)unlink(tmp);
		return e->status;
	}
	return 0;
}

/* The first line of QEMU's complaint, without its program-name prefix. */
static void
first_line(const char *text, char *out, size_t outsz)
{
	const char *p = text, *colon;
	size_t len;

	while (*p == '\n')
		p++;
	len = strcspn(p, "\n");
	if (strncmp(p, "qemu-system-", 12) == 0 && (colon = strstr(p, ": ")) != NULL &&
	    (size_t)(colon - p) < len) {
		len -= (size_t)(colon + 2 - p);
		p = colon + 2;
	}
	snprintf(out, outsz, "%.*s", (int)len, p);
}

static int
launch_failed(const struct qq_spawn_vm *vm, const struct qq_proc_out *po, struct qq_err *e)
{
	char line[512], holder[128];
	pid_t pid;

	first_line(po->errout, line, sizeof(line));
	if (*line == '\0')
		snprintf(line, sizeof(line), "exit status %d and no message", po->status);
	if ((pid = qq_vm_holder(vm->pidfile)) > 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "a VM of workspace %s is already running (pid %ld); QEMU said: %s",
		    vm->workspace, (long)pid, line);
	/* Nothing runs here: a socket QEMU created before giving up is litter. */
	qq_vm_cleanup(NULL, NULL, vm->qmp);
	if (vm->short_qmp) {
		char dir[64];

		if (qq_vm_qmp_dir(vm->workspace, dir, sizeof(dir)) == 0)
			(void)rmdir(dir);
	}
	if (strstr(po->errout, "Could not set up host forwarding rule") != NULL) {
		if (vm->ssh_port > 0 &&
		    qq_vm_port_holder(vm->ssh_port, holder, sizeof(holder)) == 0)
			return qq_err_set(e, QQ_EXIT_RUNTIME,
			    "SSH port %d on 127.0.0.1 is already in use by %s (QEMU: %s)",
			    vm->ssh_port, holder, line);
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "SSH port %d on 127.0.0.1 could not be forwarded, probably in use (QEMU: %s)",
		    vm->ssh_port, line);
	}
	return qq_err_set(e, QQ_EXIT_RUNTIME, "QEMU refused to start: %s", line);
}

/* Asks QEMU which host port it bound for "hostfwd=...:0-:22". */
static int
read_port(struct qq_qmp *q, struct qq_err *e)
{
	char *reply, text[8192];
	int port;

	if (q->fd == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "SSH port 0 needs the QMP socket to learn the port QEMU chose");
	if (qq_qmp_cmd(q, "{\"execute\": \"human-monitor-command\", \"arguments\": "
	    "{\"command-line\": \"info usernet\"}}", 2000, &reply, e) != 0)
		return e->status;
	port = qq_qmp_string(reply, "return", text, sizeof(text)) == 0 ?
	    qq_qmp_usernet_port(text) : -1;
	free(reply);
	if (port <= 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "QEMU did not report its SSH forward port");
	return port;
}

static const char *const why_name[] = {
	[QQ_WAIT_OK] = "ok",
	[QQ_WAIT_TIMEOUT] = "timeout",
	[QQ_WAIT_EXITED] = "exited",
	[QQ_WAIT_INTERNAL_ERROR] = "internal-error",
	[QQ_WAIT_STOPPED] = "stopped",
	[QQ_WAIT_INTERRUPTED] = "interrupted",
	[QQ_WAIT_HOSTKEY] = "hostkey",
	[QQ_WAIT_AUTH] = "auth",
};

/* ssh -i takes the private half; the ssh_key setting may name the .pub. "" unknown. */
static void
private_key(const struct qq_spawn_opts *o, char *key, size_t keysz)
{
	size_t len;

	*key = '\0';
	if (o->ssh_key == NULL || strlcpy(key, o->ssh_key, keysz) >= keysz) {
		*key = '\0';
		return;
	}
	if ((len = strlen(key)) > 4 && strcmp(key + len - 4, ".pub") == 0)
		key[len - 4] = '\0';
}

/* One detached start, with the optional wait. */
static int
start_detached(struct qq_spawn_vm *vm, char *const argv[], const struct qq_spawn_opts *o,
    struct qq_spawn_result *r, struct qq_err *e)
{
	struct qq_proc_out po;
	struct qq_qmp q;
	struct qq_guest g;
	struct qq_ready_opts ro;
	enum qq_spawn_wait why = QQ_WAIT_OK;
	char key[QQ_VALUE_MAX];
	char msg[QQ_ERR_MAX];
	int wfd, pidfd = -1, rc, timeout;
	pid_t wpid;

	q.fd = -1;
	private_key(o, key, sizeof(key));
	if (prepare_qmp(vm, e) != 0)
		return e->status;
	wpid = watchdog_arm(vm, &wfd);
	if (qq_proc_run(argv, NULL, &po, e) != 0)
		goto out;
	if (po.status != 0) {
		launch_failed(vm, &po, e);
		qq_proc_out_free(&po);
		goto out;
	}
	qq_proc_out_free(&po);
	r->pid = qq_vm_pidfile_read(vm->pidfile);
	if (r->pid <= 0 || qq_vm_holder(vm->pidfile) != r->pid) {
		qq_err_set(e, QQ_EXIT_RUNTIME, "QEMU started but %s does not name a locked pid",
		    vm->pidfile);
		stop_started(vm);
		goto out;
	}
	pidfd = qq_vm_pidfd(r->pid);
	if (record_qmp(vm, e) != 0)
		goto fail;
	r->ssh_port = vm->ssh_port;
	if (vm->ssh_port == 0) {
		/* QEMU has one QMP connection: ask, then let go of it (qq-stop may need it). */
		if ((*vm->qmp && qq_qmp_open(&q, vm->qmp, 2000, e) != 0) ||
		    (r->ssh_port = read_port(&q, e)) < 0)
			goto fail;
		qq_qmp_close(&q);
	}
	if (*vm->workspace && r->ssh_port > 0 &&
	    qq_guest_record(vm->workspace, r->ssh_port, key, e) != 0)
		goto fail;
	if (interrupted) {
		qq_err_set(e, 128 + interrupted, "interrupted by signal %d; the VM was stopped",
		    (int)interrupted);
		goto fail;
	}
	e->status = 0;
	if (o->wait_ssh != 0) {
		if (r->ssh_port <= 0) {
			qq_err_set(e, QQ_EXIT_INPUT,
			    "--wait-ssh needs a forward to guest port 22 in the argv (hostfwd=...-:22)");
			goto fail;
		}
		timeout = o->wait_ssh > 0 ? o->wait_ssh : vm->kvm ? WAIT_KVM_S : WAIT_TCG_S;
		if (qq_guest_set(&g, vm->workspace, r->ssh_port, key, e) != 0)
			goto fail;
		ro.guest = &g;
		ro.timeout_ms = timeout * 1000;
		ro.pid = r->pid;
		ro.pidfd = pidfd;
		ro.qmp = vm->qmp;
		ro.interrupted = &interrupted;
		if (qq_ready_wait(&ro, &why, e) != 0) {
			r->why = why;
			r->console_tail = console_tail(vm->serial_log);
			snprintf(msg, sizeof(msg), "%s", e->msg);
			if (why == QQ_WAIT_INTERNAL_ERROR && vm->kvm)
				qq_err_set(e, QQ_EXIT_RUNTIME,
				    "KVM failed at run time (QMP status internal-error): this "
				    "host's KVM cannot run the guest; the VM was stopped; use TCG "
				    "(QNX_QEMU_ACCEL=tcg)");
			else if (why == QQ_WAIT_INTERRUPTED)
				qq_err_set(e, e->status, "%s while waiting for SSH; the VM was stopped",
				    msg);
			else
				qq_err_set(e, QQ_EXIT_RUNTIME, "%s; the VM was stopped; console log: %s",
				    msg, *vm->serial_log ? vm->serial_log : "(none: no -serial file:)");
			goto fail;
		}
	}
	e->status = 0;
	goto out;
fail:
	qq_qmp_close(&q);
	stop_started(vm);
out:
	rc = e->status;
	qq_qmp_close(&q);
	if (pidfd != -1)
		close(pidfd);
	watchdog_disarm(wpid, wfd);
	return rc;
}

void
qq_spawn_result_free(struct qq_spawn_result *r)
{
	free(r->console_tail);
	r->console_tail = NULL;
}

void
qq_spawn_report(FILE *fp, const struct qq_spawn_result *r, int rc, int verbose)
{
	if (rc != 0 && r->console_tail != NULL)
		fprintf(fp, "%s\n", r->console_tail);
	if (r->retried_tcg)
		fputs("qq-spawn: KVM failed at run time (QMP status internal-error); "
		    "retried under TCG\n", fp);
	if (rc == 0 && verbose && *r->hint)
		fprintf(fp, "%s\n", r->hint);
}

const char *
qq_spawn_why(enum qq_spawn_wait why)
{
	return why_name[why];
}

/* How to log in: qq-run ssh for a workspace (the pinned key), else plain ssh with the key. */
static int
hint(const struct qq_spawn_opts *o, const char *ws, int port, struct qq_spawn_result *r)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return -1;
	if (*ws) {
		fputs("qq-run ssh --workspace ", fp);
		(void)qq_quote_write(fp, ws);
	} else {
		fprintf(fp, "ssh -p %d -o IdentitiesOnly=yes", port);
		if (o->ssh_key != NULL && *o->ssh_key) {
			fputs(" -i ", fp);
			(void)qq_quote_write(fp, o->ssh_key);
		}
		fputs(" " QQ_GUEST_USER_HOST, fp);
	}
	fclose(fp);
	if (buf == NULL)
		return -1;
	strlcpy(r->hint, buf, sizeof(r->hint));
	free(buf);
	return 0;
}

int
qq_spawn_run(char *const argv[], const struct qq_spawn_opts *o, struct qq_spawn_result *r,
    struct qq_facts *f, struct qq_err *e)
{
	struct sigaction sa, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct qq_spawn_vm *vm;
	char path[PATH_MAX], key[QQ_VALUE_MAX], **tcg = NULL;
	int rc, i;

	memset(r, 0, sizeof(*r));
	if ((vm = malloc(sizeof(*vm))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to start QEMU");
	if ((rc = qq_spawn_parse(vm, argv, e)) != 0)
		goto out;
	if (!vm->daemonize) {
		if (o->detach || o->wait_ssh != 0) {
			rc = qq_err_set(e, QQ_EXIT_USAGE, "%s needs a detached argv (with "
			    "-daemonize, from qq-cmdline --detach)", o->detach ? "-d" : "--wait-ssh");
			goto out;
		}
		if ((rc = qq_spawn_check(vm, e)) != 0)
			goto out;
		/* Foreground: the terminal becomes the guest console. */
		if (qq_proc_which(vm->qemu, path, sizeof(path)) == -1) {
			rc = qq_err_sys(e, QQ_EXIT_NOTFOUND, "unable to find QEMU %s", vm->qemu);
			goto out;
		}
		/* qq-run ssh from another terminal needs the port and key (a port 0 is unknown). */
		private_key(o, key, sizeof(key));
		if (*vm->workspace && vm->ssh_port > 0)
			(void)qq_guest_record(vm->workspace, vm->ssh_port, key, e);
		fflush(NULL);
		execv(path, argv);
		rc = qq_err_sys(e, errno == ENOENT ? QQ_EXIT_NOTFOUND : QQ_EXIT_NOEXEC,
		    "unable to run %s", path);
		goto out;
	}
	if (*vm->pidfile == '\0') {
		rc = qq_err_set(e, QQ_EXIT_INPUT,
		    "a detached argv needs -pidfile: without it the VM cannot be found and stopped");
		goto out;
	}
	if ((rc = qq_spawn_check(vm, e)) != 0)
		goto out;
	interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll(2) returns at once */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	rc = start_detached(vm, argv, o, r, e);
	if (rc == QQ_EXIT_RUNTIME && r->why == QQ_WAIT_INTERNAL_ERROR && vm->kvm &&
	    o->tcg_fallback && !interrupted) {
		/* The accelerator was chosen for the user: say so and retry once under TCG. */
		qq_spawn_result_free(r);
		memset(r, 0, sizeof(*r));
		if ((rc = qq_spawn_argv_tcg(argv, &tcg, e)) == 0 &&
		    (rc = qq_spawn_parse(vm, tcg, e)) == 0) {
			rc = start_detached(vm, tcg, o, r, e);
			r->retried_tcg = 1;
		}
	}
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (rc != 0)
		goto out;
	if ((rc = qq_facts_setf(f, e, "pid", "%ld", (long)r->pid)) != 0 ||
	    (r->ssh_port >= 0 &&
	    (rc = qq_facts_setf(f, e, "ssh_port", "%d", r->ssh_port)) != 0) ||
	    (*vm->qmp && (rc = qq_facts_set(f, "qmp", vm->qmp, e)) != 0) ||
	    (*vm->serial_log && (rc = qq_facts_set(f, "serial_log", vm->serial_log, e)) != 0))
		goto out;
	if (r->ssh_port > 0)
		(void)hint(o, vm->workspace, r->ssh_port, r);
out:
	qq_argv_free(tcg);
	free(vm);
	return rc;
}
