/* guest.c: the guest side over OpenSSH's ssh(1): a workspace's running VM, the ssh argv, the pinned host key. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

extern char **environ;

#define PIN_HEADER	"# qq-image "
#define KH_MAX		(1024 * 1024)

/* The image digest of WS/image.key (what mkimage built), or "none". */
static void
read_image(const char *ws, char *out, size_t outsz)
{
	char path[QQ_VALUE_MAX + 16], *buf = NULL;
	struct qq_err ignored;

	strlcpy(out, "none", outsz);
	if (*ws == '\0' || qq_file_join(path, sizeof(path), ws, "image.key", &ignored) != 0 ||
	    qq_file_read(path, 256, &buf, NULL, &ignored) != 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (*buf != '\0' && strlen(buf) < outsz && strspn(buf, "0123456789abcdef") == strlen(buf))
		strlcpy(out, buf, outsz);
	free(buf);
}

int
qq_guest_set(struct qq_guest *g, const char *ws, int port, const char *key, struct qq_err *e)
{
	memset(g, 0, sizeof(*g));
	if (port <= 0 || port > 65535)
		return qq_err_set(e, QQ_EXIT_INPUT, "no SSH port to log in to (got %d)", port);
	g->port = port;
	if (key != NULL && strlcpy(g->key, key, sizeof(g->key)) >= sizeof(g->key))
		return qq_err_set(e, QQ_EXIT_INPUT, "SSH key path too long");
	if (*ws == '\0') {
		/* No workspace: nowhere to pin; ssh says so and goes on (accept-new). */
		strlcpy(g->known_hosts, "/dev/null", sizeof(g->known_hosts));
		strlcpy(g->image, "none", sizeof(g->image));
		return 0;
	}
	if (qq_file_abspath(ws, g->ws, sizeof(g->ws), e) != 0 ||
	    qq_file_join(g->known_hosts, sizeof(g->known_hosts), g->ws, QQ_GUEST_KNOWN_HOSTS,
	    e) != 0)
		return e->status;
	read_image(g->ws, g->image, sizeof(g->image));
	return 0;
}

int
qq_guest_record(const char *ws, int port, const char *key, struct qq_err *e)
{
	struct qq_facts f = { NULL, 0, 0 };
	char path[QQ_VALUE_MAX + 16], image[QQ_GUEST_IMAGE_MAX], *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	read_image(ws, image, sizeof(image));
	if ((rc = qq_file_join(path, sizeof(path), ws, QQ_GUEST_FILE, e)) != 0)
		return rc;
	if ((rc = qq_facts_setf(&f, e, "ssh_port", "%d", port)) != 0 ||
	    (rc = qq_facts_set(&f, "ssh_key", key != NULL ? key : "", e)) != 0 ||
	    (rc = qq_facts_set(&f, "image", image, e)) != 0)
		goto out;
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
		goto out;
	}
	rc = qq_facts_write(&f, fp, e);
	if (fclose(fp) != 0 && rc == 0)
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	if (rc == 0)
		rc = qq_file_write_atomic(path, buf, len, 0644, e);
out:
	free(buf);
	qq_facts_free(&f);
	return rc;
}

int
qq_guest_open(struct qq_guest *g, const char *ws, struct qq_err *e)
{
	struct qq_facts f = { NULL, 0, 0 };
	char abs[QQ_VALUE_MAX], pidfile[QQ_VALUE_MAX + 32], path[QQ_VALUE_MAX + 16];
	const char *port, *key, *image, *errstr;
	long long p;
	pid_t pid;
	FILE *fp;
	int held, rc;

	if ((rc = qq_file_abspath(ws, abs, sizeof(abs), e)) != 0 ||
	    (rc = qq_file_join(pidfile, sizeof(pidfile), abs, "output/qemu.pid", e)) != 0 ||
	    (rc = qq_file_join(path, sizeof(path), abs, QQ_GUEST_FILE, e)) != 0)
		return rc;
	/* Held is enough: from another PID namespace the holder's pid reads as 0. */
	if ((held = qq_vm_held(pidfile, &pid)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the lock of %s", pidfile);
	if (held == 0)
		return qq_err_set(e, QQ_EXIT_NO, "no VM is running in %s", abs);
	if ((fp = fopen(path, "re")) == NULL)
		return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s (was the VM started by "
		    "qq-spawn or qq-run with -d?)", path);
	rc = qq_facts_read(&f, fp, path, e);
	fclose(fp);
	if (rc != 0)
		goto out;
	port = qq_facts_get(&f, "ssh_port");
	key = qq_facts_get(&f, "ssh_key");
	image = qq_facts_get(&f, "image");
	p = port != NULL ? strtonum(port, 1, 65535, &errstr) : 0;
	if (p == 0) {
		rc = qq_err_set(e, QQ_EXIT_INPUT, "%s names no SSH port", path);
		goto out;
	}
	if ((rc = qq_guest_set(g, abs, (int)p, key, e)) != 0)
		goto out;
	/* The image the VM booted, not what image.key says now (a rebuild since). */
	if (image != NULL && *image != '\0')
		strlcpy(g->image, image, sizeof(g->image));
	g->pid = pid;
	g->hidden = pid == 0;
out:
	qq_facts_free(&f);
	return rc;
}

int
qq_guest_pin_prepare(const struct qq_guest *g, int *pinned, struct qq_err *e)
{
	char header[sizeof(PIN_HEADER) + QQ_GUEST_IMAGE_MAX + 1], *buf = NULL, *line, *nl;
	struct qq_err missing;
	size_t len;
	int same;

	*pinned = 0;
	if (strcmp(g->known_hosts, "/dev/null") == 0)
		return 0;
	snprintf(header, sizeof(header), PIN_HEADER "%s\n", g->image);
	if (qq_file_read(g->known_hosts, KH_MAX, &buf, &len, &missing) != 0) {
		if (missing.status != QQ_EXIT_INPUT)	/* not ENOENT */
			return qq_err_set(e, missing.status, "%s", missing.msg);
	} else {
		same = strncmp(buf, header, strlen(header)) == 0;
		for (line = buf; same && line != NULL && *line != '\0'; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			if (*line != '#' && *line != '\0')
				*pinned = 1;
		}
		free(buf);
		if (same)
			return 0;
	}
	/* None yet, or made for another image: the next login pins afresh. */
	return qq_file_write_atomic(g->known_hosts, header, strlen(header), 0600, e);
}

/* The first whitespace-separated word of text starting with "SHA256:", into out. */
static int
sha256_word(const char *text, char *out, size_t outsz)
{
	const char *p = text;
	size_t n;

	while ((p = strstr(p, "SHA256:")) != NULL) {
		if (p == text || strchr(" \t\n(", p[-1]) != NULL) {
			n = strcspn(p, " \t\n.,)");
			if (n < outsz) {
				memcpy(out, p, n);
				out[n] = '\0';
				return 0;
			}
		}
		p += 7;
	}
	return -1;
}

int
qq_guest_pin_fingerprint(const struct qq_guest *g, char *out, size_t outsz)
{
	char *argv[] = { "ssh-keygen", "-l", "-F", QQ_GUEST_ALIAS, "-f",
	    (char *)g->known_hosts, NULL };
	struct qq_proc_out po;
	struct qq_err e;
	int rc;

	if (qq_proc_run(argv, NULL, &po, &e) != 0)
		return -1;
	rc = po.status == 0 ? sha256_word(po.out, out, outsz) : -1;
	qq_proc_out_free(&po);
	return rc;
}

int
qq_guest_argv_add(struct qq_guest_argv *a, const char *arg, struct qq_err *e)
{
	char **v;

	if (a->argc + 2 > a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 32;

		if ((v = reallocarray(a->argv, ncap, sizeof(*v))) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the ssh command");
		a->argv = v;
		a->cap = ncap;
	}
	if ((a->argv[a->argc] = strdup(arg)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the ssh command");
	a->argv[++a->argc] = NULL;
	return 0;
}

int
qq_guest_argv_opt(struct qq_guest_argv *a, const char *opt, struct qq_err *e)
{
	int rc;

	if ((rc = qq_guest_argv_add(a, "-o", e)) != 0)
		return rc;
	return qq_guest_argv_add(a, opt, e);
}

/* "-o" "key=value" from a key and a value. */
static int
optkv(struct qq_guest_argv *a, const char *key, const char *value, struct qq_err *e)
{
	char buf[QQ_VALUE_MAX + 64];

	if ((size_t)snprintf(buf, sizeof(buf), "%s=%s", key, value) >= sizeof(buf))
		return qq_err_set(e, QQ_EXIT_INPUT, "ssh option %s too long", key);
	return qq_guest_argv_opt(a, buf, e);
}

/*
 * "-o" "key=\"path\"" for a path option: ssh_config(5) splits an unquoted value
 * at blanks (UserKnownHostsFile then names two files) and expands "%" tokens,
 * so the path is double-quoted, '"' and '\\' get a backslash (OpenSSH's
 * argv_split), and '%' is doubled (checked with `ssh -G`, OpenSSH 9.2).
 */
static int
optpath(struct qq_guest_argv *a, const char *key, const char *path, struct qq_err *e)
{
	char buf[2 * QQ_VALUE_MAX + 64];
	size_t o;

	o = (size_t)snprintf(buf, sizeof(buf), "%s=\"", key);
	for (const char *p = path; *p != '\0'; p++) {
		if (o + 4 >= sizeof(buf))
			return qq_err_set(e, QQ_EXIT_INPUT, "ssh option %s too long", key);
		if (*p == '"' || *p == '\\')
			buf[o++] = '\\';
		else if (*p == '%')
			buf[o++] = '%';
		buf[o++] = *p;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return qq_guest_argv_opt(a, buf, e);
}

int
qq_guest_argv_init(struct qq_guest_argv *a, const struct qq_guest *g, int flags,
    struct qq_err *e)
{
	char port[16];
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(port, sizeof(port), "%d", g->port);
	if ((rc = qq_guest_argv_add(a, "ssh", e)) != 0 ||
	    ((flags & QQ_GUEST_NOCONF) && ((rc = qq_guest_argv_add(a, "-F", e)) != 0 ||
	    (rc = qq_guest_argv_add(a, "none", e)) != 0)) ||
	    (rc = qq_guest_argv_add(a, "-p", e)) != 0 ||
	    (rc = qq_guest_argv_add(a, port, e)) != 0 ||
	    (*g->key && (rc = optpath(a, "IdentityFile", g->key, e)) != 0) ||
	    (rc = qq_guest_argv_opt(a, "IdentitiesOnly=yes", e)) != 0 ||
	    (rc = optpath(a, "UserKnownHostsFile", g->known_hosts, e)) != 0 ||
	    /* The alias keys the pin independently of the (changing) forwarded port. */
	    (rc = optkv(a, "HostKeyAlias", QQ_GUEST_ALIAS, e)) != 0 ||
	    (rc = qq_guest_argv_opt(a, "CheckHostIP=no", e)) != 0 ||
	    (rc = optkv(a, "StrictHostKeyChecking", flags & QQ_GUEST_PIN ? "accept-new" : "yes",
	    e)) != 0 ||
	    ((flags & QQ_GUEST_PIN) && ((rc = qq_guest_argv_opt(a, "HashKnownHosts=no", e)) != 0 ||
	    (rc = qq_guest_argv_opt(a, "UpdateHostKeys=no", e)) != 0)) ||
	    ((flags & QQ_GUEST_BATCH) && (rc = qq_guest_argv_opt(a, "BatchMode=yes", e)) != 0) ||
	    ((flags & QQ_GUEST_QUIET) && (rc = qq_guest_argv_opt(a, "LogLevel=ERROR", e)) != 0)) {
		qq_guest_argv_free(a);
		return rc;
	}
	return 0;
}

int
qq_guest_argv_finish(struct qq_guest_argv *a, char *const cmd[], struct qq_err *e)
{
	int rc;
	size_t i;

	if ((rc = qq_guest_argv_add(a, QQ_GUEST_USER_HOST, e)) != 0)
		return rc;
	if (cmd == NULL)
		return 0;
	if ((rc = qq_guest_argv_add(a, "--", e)) != 0)
		return rc;
	for (i = 0; cmd[i] != NULL; i++)
		if ((rc = qq_guest_argv_add(a, cmd[i], e)) != 0)
			return rc;
	return 0;
}

void
qq_guest_argv_free(struct qq_guest_argv *a)
{
	size_t i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

/* The last non-empty line of text (at most outsz - 1 bytes). */
static void
last_line(const char *text, char *out, size_t outsz)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	snprintf(out, outsz, "%.*s", (int)(end - start), start);
}

int
qq_guest_failure(const struct qq_guest *g, const char *err, struct qq_err *e)
{
	char offered[128], pinned[128], line[512];

	/* ssh(1)'s words (sshconnect.c, OpenSSH 9.2): fixed English text, no locale. */
	if (strstr(err, "REMOTE HOST IDENTIFICATION HAS CHANGED") != NULL ||
	    strstr(err, "Host key verification failed") != NULL) {
		if (sha256_word(err, offered, sizeof(offered)) == -1)
			strlcpy(offered, "(not shown by ssh)", sizeof(offered));
		if (qq_guest_pin_fingerprint(g, pinned, sizeof(pinned)) == -1)
			strlcpy(pinned, "(none readable)", sizeof(pinned));
		qq_err_set(e, QQ_EXIT_RUNTIME, "the guest's host key changed but its image did "
		    "not (image %.12s): pinned %s, offered %s; if the guest was rebuilt outside "
		    "qq, remove %s", g->image, pinned, offered, g->known_hosts);
		return 1;
	}
	if (strstr(err, "Permission denied") != NULL) {
		if (*g->key)
			qq_err_set(e, QQ_EXIT_RUNTIME, "the guest refused the key %s: is %s.pub the "
			    "key injected into the image? (a key with a passphrase needs ssh-agent)",
			    g->key, g->key);
		else
			qq_err_set(e, QQ_EXIT_RUNTIME, "the guest refused ssh's default keys "
			    "(Permission denied)");
		return 2;
	}
	last_line(err, line, sizeof(line));
	qq_err_set(e, QQ_EXIT_RUNTIME, "ssh: %s", *line ? line : "failed without a message");
	return 0;
}

int
qq_guest_run(const struct qq_guest *g, char *const cmd[], int *status, struct qq_err *e)
{
	struct qq_guest_argv a;
	struct sigaction ign, oint, oquit;
	posix_spawnattr_t sa;
	sigset_t dfl;
	pid_t pid;
	int rc, ws, pinned, flags = isatty(STDIN_FILENO) ? 0 : QQ_GUEST_BATCH;

	*status = QQ_GUEST_FAILED;
	/* No pin yet (a foreground start, a failed wait): this login pins, as the probe would. */
	if ((rc = qq_guest_pin_prepare(g, &pinned, e)) != 0)
		return rc;
	if ((rc = qq_guest_argv_init(&a, g, flags | (pinned ? 0 : QQ_GUEST_PIN), e)) != 0)
		return rc;
	if ((rc = qq_guest_argv_finish(&a, cmd, e)) != 0)
		goto out;
	/* While ssh runs in the foreground, the terminal's ^C and ^\ are its to report. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(NULL);
	posix_spawnattr_init(&sa);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, "ssh", NULL, &sa, a.argv, environ);
	posix_spawnattr_destroy(&sa);
	if (rc != 0) {
		errno = rc;
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run ssh");
	} else {
		while ((rc = waitpid(pid, &ws, 0)) == -1 && errno == EINTR)
			;
		if (rc == -1)
			rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for ssh");
		else {
			rc = 0;
			*status = qq_err_wstatus(ws);
		}
	}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
out:
	qq_guest_argv_free(&a);
	return rc;
}
