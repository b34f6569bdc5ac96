/* keygen.c: finding the SSH key pair to inject into the guest, or creating one. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

/* The seed's search order, under ~/.ssh; the first is the one created when none exists. */
static const char *const defaults[] = { "id_ed25519", "id_rsa" };

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/* Key type names start so: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com. */
static const char *const type_prefixes[] = { "ssh-", "ecdsa-", "sk-" };

static int
key_type(const char *type, size_t len)
{
	size_t i, pl;

	for (i = 0; i < sizeof(type_prefixes) / sizeof(type_prefixes[0]); i++) {
		pl = strlen(type_prefixes[i]);
		if (len > pl && strncmp(type, type_prefixes[i], pl) == 0)
			return 1;
	}
	return 0;
}

/* Opens path as a regular file for reading; every failure is bad input. */
static int
open_regular(const char *path, struct stat *st, struct qq_err *e)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", path);
		return -1;
	}
	if (fstat(fd, st) == -1) {
		qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		qq_err_set(e, QQ_EXIT_INPUT, "unable to read %s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the one line of a .pub file into line; anything else is bad input. */
static int
read_pub(const char *pub, char *line, size_t linesz, struct qq_err *e)
{
	struct stat st;
	size_t len = 0, n;
	ssize_t r;
	const char *p;
	int fd;

	if ((fd = open_regular(pub, &st, e)) == -1)
		return e->status;
	while (len < linesz - 1) {
		if ((r = read(fd, line + len, linesz - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", pub);
			close(fd);
			return e->status;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == linesz - 1)
		return qq_err_set(e, QQ_EXIT_INPUT, "unable to read %s: larger than %zu bytes",
		    pub, linesz - 2);
	line[len] = '\0';
	if (strlen(line) != len)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s holds a NUL byte", pub);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is empty: expected one public key line",
		    pub);
	if (strchr(line, '\n') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s holds more than one line: expected one "
		    "public key line", pub);
	/* "type base64 [comment]", as ssh-keygen writes it. */
	n = strcspn(line, " \t");
	p = line + n;
	if (!key_type(line, n) || *p == '\0')
		n = 0;
	else {
		p++;
		p += (n = strspn(p, b64));
	}
	if (n == 0 || (*p != '\0' && *p != ' ' && *p != '\t'))
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is not an OpenSSH public key: expected "
		    "\"type base64 [comment]\"", pub);
	return 0;
}

int
qq_keygen_check(const char *path, struct qq_key *out, struct qq_err *e)
{
	size_t len = strlen(path);
	char why[QQ_ERR_MAX];
	struct stat st;
	int fd;

	memset(out, 0, sizeof(*out));
	if (len > 4 && strcmp(path + len - 4, ".pub") == 0) {
		if (strlcpy(out->pub, path, sizeof(out->pub)) >= sizeof(out->pub))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
		memcpy(out->key, path, len - 4);
		out->key[len - 4] = '\0';
	} else {
		if (strlcpy(out->key, path, sizeof(out->key)) >= sizeof(out->key) ||
		    snprintf(out->pub, sizeof(out->pub), "%s.pub", path) >= (int)sizeof(out->pub))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	}
	if (read_pub(out->pub, out->line, sizeof(out->line), e) != 0)
		return e->status;
	if ((fd = open_regular(out->key, &st, e)) == -1) {
		/* Without its private half the key is useless for logging in. */
		strlcpy(why, e->msg, sizeof(why));
		return qq_err_set(e, QQ_EXIT_INPUT, "%s has no usable private half: %s", out->pub,
		    why);
	}
	close(fd);
	if ((st.st_mode & 077) != 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "private key %s is open to group or others "
		    "(mode %04o); ssh refuses it: chmod 600 it", out->key,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Creates HOME/.ssh (0700) and the first default key with ssh-keygen, never overwriting. */
static int
create(const char *dir, struct qq_key *out, struct qq_err *e)
{
	char key[PATH_MAX];
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key, NULL };
	struct qq_proc_out r;
	struct stat st;
	const char *end;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", dir);
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "unable to create a key in %s: not a directory",
		    dir);
	if (qq_file_join(key, sizeof(key), dir, defaults[0], e) != 0)
		return e->status;
	if (lstat(key, &st) == 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s exists without %s.pub; not overwriting it "
		    "(ssh-keygen -y -f %s > %s.pub writes the public half)", key, key, key, key);
	if (qq_proc_run(argv, NULL, &r, e) != 0)
		return e->status;
	if (r.status != 0) {
		end = strchr(r.errout, '\n');
		qq_err_set(e, QQ_EXIT_RUNTIME, "unable to create %s: ssh-keygen exited %d: %.*s",
		    key, r.status, end ? (int)(end - r.errout) : (int)strlen(r.errout), r.errout);
		qq_proc_out_free(&r);
		return e->status;
	}
	qq_proc_out_free(&r);
	if (qq_keygen_check(key, out, e) != 0)
		return e->status;
	out->created = 1;
	return 0;
}

static int
find(struct qq_settings *s, const struct qq_facts *f, struct qq_key *out, int nocreate,
    struct qq_err *e)
{
	const char *home;
	char dir[PATH_MAX], pub[PATH_MAX];
	struct stat st;
	size_t i;

	if (qq_settings_get(s, QQ_SET_SSH_KEY, f, e) != 0)
		return e->status;
	if (s->val[QQ_SET_SSH_KEY][0] != '\0')
		return qq_keygen_check(s->val[QQ_SET_SSH_KEY], out, e);
	if ((home = getenv("HOME")) == NULL || *home != '/')
		return qq_err_set(e, QQ_EXIT_INPUT, "HOME is not set to an absolute path; give "
		    "--ssh-key or QNX_QEMU_SSH_KEY");
	if (qq_file_join(dir, sizeof(dir), home, ".ssh", e) != 0)
		return e->status;
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if ((size_t)snprintf(pub, sizeof(pub), "%s/%s.pub", dir, defaults[i]) >=
		    sizeof(pub))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", dir);
		if (lstat(pub, &st) == 0)
			return qq_keygen_check(pub, out, e);
	}
	if (nocreate) {
		/* Dry run: name the key that would be made, make nothing. */
		if ((size_t)snprintf(out->key, sizeof(out->key), "%s/%s", dir, defaults[0]) >=
		    sizeof(out->key))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", dir);
		out->line[0] = '\0';
		out->created = 0;
		return 0;
	}
	return create(dir, out, e);
}

int
qq_keygen_find(struct qq_settings *s, const struct qq_facts *f, struct qq_key *out,
    struct qq_err *e)
{
	return find(s, f, out, 0, e);
}

int
qq_keygen_peek(struct qq_settings *s, const struct qq_facts *f, struct qq_key *out,
    struct qq_err *e)
{
	return find(s, f, out, 1, e);
}

int
qq_keygen_locked(const struct qq_key *k, char *warn, size_t warnsz)
{
	char *keygen[] = { "ssh-keygen", "-y", "-P", "", "-f", (char *)k->key, NULL };
	char *add[] = { "ssh-add", "-L", NULL };
	struct qq_proc_out po;
	struct qq_err e;
	const char *l, *nl;
	size_t len;
	int held = 0;

	*warn = '\0';
	if (qq_proc_run(keygen, NULL, &po, &e) != 0)
		return 0;
	/* ssh-keygen: "incorrect passphrase supplied to decrypt private key" (OpenSSH 9.2). */
	if (po.status == 0 || strstr(po.errout, "passphrase") == NULL) {
		qq_proc_out_free(&po);
		return 0;
	}
	qq_proc_out_free(&po);
	/* The agent lists "TYPE BASE64 COMMENT" lines; ours is held when its "TYPE BASE64" is. */
	len = strcspn(k->line, " ");
	if (k->line[len] == ' ')
		len += 1 + strcspn(k->line + len + 1, " ");
	if (getenv("SSH_AUTH_SOCK") != NULL && qq_proc_run(add, NULL, &po, &e) == 0) {
		for (l = po.out; po.status == 0 && !held && l != NULL && *l; l = nl) {
			nl = strchr(l, '\n');
			held = strncmp(l, k->line, len) == 0 && strchr(" \n", l[len]) != NULL;
			nl = nl != NULL ? nl + 1 : NULL;
		}
		qq_proc_out_free(&po);
	}
	if (held)
		return 0;
	snprintf(warn, warnsz, "%s has a passphrase and no ssh-agent holds it: logins without "
	    "a terminal (--wait-ssh, qq-test, CI) will be refused; run ssh-add %s", k->key,
	    k->key);
	return 1;
}

int
qq_keygen_facts(struct qq_settings *s, struct qq_facts *f, struct qq_key *out,
    struct qq_err *e)
{
	if (qq_keygen_find(s, f, out, e) != 0 ||
	    qq_settings_export(s, f, e) != 0 ||
	    qq_facts_set(f, "ssh_key", out->key, e) != 0 ||
	    qq_facts_set(f, "ssh_pubkey", out->line, e) != 0)
		return e->status;
	(void)qq_keygen_locked(out, out->warn, sizeof(out->warn));
	return 0;
}
