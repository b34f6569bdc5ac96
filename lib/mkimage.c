/* mkimage.c: the guest image from the staged files: mkqnximage (QNX SDP) or an initramfs (Linux), cached (qq-mkimage). */
#include "config.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sha2.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define KEY_FILE	"image.key"
#define DIGESTS_FILE	"image.digests"
#define SNIPPET_DIR	"local/snippets"
#define SNIPPET_FILE	"local/snippets/data_files.custom"
#define IDENT_FILE	"ssh-ident.pub"
#define LOG_FILE	"mkqnximage.log"
#define TAIL_LINES	10
#define KEY_VERSION	"qq-mkimage key 1"

extern char **environ;

struct sfile {
	char	*guest;		/* owned */
	char	*host;		/* owned */
	char	 hex[QQ_DIGEST_HEX];
	mode_t	 mode;
	time_t	 mtime;
};

struct ctx {
	struct qq_ws		 ws;
	struct qq_digest_cache	 dc;
	struct sfile		*files;
	size_t			 nfiles;
	char			 pubkey[QQ_PUBKEY_LINE_MAX];
	SHA2_CTX		 key;
	FILE			*talk;
};

static void
kadd(SHA2_CTX *k, const char *s)
{
	SHA256Update(k, (const uint8_t *)s, strlen(s) + 1);	/* NUL-separated: no ambiguity */
}

static int
wpath(struct ctx *c, const char *rel, char *out, size_t outsz, struct qq_err *e)
{
	return qq_ws_path(&c->ws, rel, out, outsz, e);
}

int
qq_mkimage_builder(const char *opt, char *out, size_t outsz, struct qq_err *e)
{
	const char *v = opt, *from = "--builder";

	if (v == NULL) {
		v = getenv("QNX_QEMU_BUILDER");
		from = "QNX_QEMU_BUILDER";
		if (v == NULL || *v == '\0') {
			v = "mkqnximage";
			from = "default";
		}
	}
	if (strcmp(v, "mkqnximage") != 0 && strcmp(v, "initramfs") != 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%s\": expected mkqnximage or "
		    "initramfs", from, v);
	strlcpy(out, v, outsz);
	return 0;
}

static int
read_pubkey(const struct qq_mkimage_opts *o, const struct qq_facts *f, char *out, size_t outsz,
    struct qq_err *e)
{
	const char *v;
	char *buf = NULL;

	if (o->ssh_pubkey != NULL) {
		if (qq_file_read(o->ssh_pubkey, 65536, &buf, NULL, e) != 0)
			return e->status;
		buf[strcspn(buf, "\r\n")] = '\0';
		v = buf;
	} else if ((v = qq_facts_get(f, "ssh_pubkey")) == NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "no ssh_pubkey fact: run qq-keygen first "
		    "(qq-keygen | qq-stage ... | qq-mkimage) or give --ssh-pubkey FILE");
	/* An OpenSSH public key line: type, base64 blob, optional comment. */
	if (strncmp(v, "ssh-", 4) != 0 && strncmp(v, "ecdsa-", 6) != 0 &&
	    strncmp(v, "sk-", 3) != 0) {
		qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.60s\": expected an OpenSSH public key "
		    "line (ssh-ed25519 AAAA...)", o->ssh_pubkey ? o->ssh_pubkey : "fact ssh_pubkey",
		    v);
		free(buf);
		return e->status;
	}
	if (strlcpy(out, v, outsz) >= outsz) {
		free(buf);
		return qq_err_set(e, QQ_EXIT_INPUT, "public key too long");
	}
	free(buf);
	return 0;
}

static int
cmp_guest(const void *a, const void *b)
{
	return strcmp((*(struct sfile *const *)a)->guest, (*(struct sfile *const *)b)->guest);
}

static void
files_free(struct ctx *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].guest);
		free(c->files[i].host);
	}
	free(c->files);
}

/* The stage facts, in order; their files' digests come from the fingerprint cache. */
static int
load_files(struct ctx *c, const struct qq_facts *f, struct qq_err *e)
{
	char guest[PATH_MAX], host[PATH_MAX];
	struct sfile **sorted;
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, "stage") == 0)
			n++;
	if ((c->files = calloc(n ? n : 1, sizeof(*c->files))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
	for (i = 0; i < f->n; i++) {
		struct sfile *x = &c->files[c->nfiles];

		if (strcmp(f->v[i].key, "stage") != 0)
			continue;
		if (qq_stage_parse(f->v[i].value, guest, sizeof(guest), host, sizeof(host), e) != 0)
			return e->status;
		if ((x->guest = strdup(guest)) == NULL || (x->host = strdup(host)) == NULL) {
			free(x->guest);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
		}
		c->nfiles++;
		if (qq_digest_get(&c->dc, x->host, x->hex, &st, e) != 0)
			return e->status;
		x->mode = st.st_mode & 0777;
		x->mtime = st.st_mtim.tv_sec;
	}
	if ((sorted = calloc(n ? n : 1, sizeof(*sorted))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
	for (i = 0; i < n; i++)
		sorted[i] = &c->files[i];
	qsort(sorted, n, sizeof(*sorted), cmp_guest);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i]->guest, sorted[i - 1]->guest) == 0) {
			qq_err_set(e, QQ_EXIT_INPUT, "two stage facts for %s: %s and %s",
			    sorted[i]->guest, sorted[i - 1]->host, sorted[i]->host);
			free(sorted);
			return e->status;
		}
	free(sorted);
	return 0;
}

static int
key_file_matches(struct ctx *c, const char *hex, const char *const outputs[], struct qq_err *e)
{
	char path[PATH_MAX], *buf = NULL;
	struct qq_err missing;
	struct stat st;
	int ok;

	if (wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return -1;
	if (qq_file_read(path, 256, &buf, NULL, &missing) != 0)
		return 0;	/* no key: build */
	ok = strncmp(buf, hex, QQ_DIGEST_HEX - 1) == 0 && buf[QQ_DIGEST_HEX - 1] == '\n';
	free(buf);
	for (size_t i = 0; ok && outputs[i] != NULL; i++)
		if (wpath(c, outputs[i], path, sizeof(path), e) != 0 || stat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			ok = 0;
	return ok;
}

static int
write_key(struct ctx *c, const char *hex, struct qq_err *e)
{
	char path[PATH_MAX], line[QQ_DIGEST_HEX + 1];

	if (wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return e->status;
	snprintf(line, sizeof(line), "%s\n", hex);
	return qq_file_write_atomic(path, line, strlen(line), 0644, e);
}

static int
forget_key(struct ctx *c, struct qq_err *e)
{
	char path[PATH_MAX];

	if (wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return e->status;
	if (unlink(path) == -1 && errno != ENOENT)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", path);
	return 0;
}

/* Writes path only when its content differs (so a cache hit writes nothing). */
static int
write_if_changed(const char *path, const char *text, mode_t mode, struct qq_err *e)
{
	char *old = NULL;
	size_t len = strlen(text), oldlen;
	struct qq_err ignored;
	int same;

	if (qq_file_read(path, len + 1, &old, &oldlen, &ignored) == 0) {
		same = oldlen == len && memcmp(old, text, len) == 0;
		free(old);
		if (same)
			return 0;
	}
	return qq_file_write_atomic(path, text, len, mode, e);
}

/* mkifs buildfile quoting: plain paths stay plain, others are double-quoted. */
static int
bf_path(FILE *fp, const char *p, const char *what, struct qq_err *e)
{
	const char *s;
	int plain = 1;

	if (strpbrk(p, "\"\\\n\t\r") != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s %s cannot be written in a mkqnximage "
		    "buildfile (it holds a quote, backslash, tab or newline)", what, p);
	for (s = p; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._-+,@%:~", *s) != NULL))
			plain = 0;
	fprintf(fp, plain ? "%s" : "\"%s\"", p);
	return 0;
}

int
qq_mkimage_snippet(const struct qq_mkimage_file *v, size_t n, char **textp, struct qq_err *e)
{
	size_t len;
	FILE *fp;

	*textp = NULL;
	if ((fp = open_memstream(textp, &len)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	fputs("# data_files.custom: written by qq-mkimage from the stage facts; not to be edited\n",
	    fp);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(v[i].guest, "/data/", 6) != 0) {
			qq_err_set(e, QQ_EXIT_INPUT, "%s is not under /data", v[i].guest);
			goto fail;
		}
		/* Target paths are relative to the /data partition. */
		fprintf(fp, "[uid=0 gid=0 perms=0%03o] ", (unsigned)(v[i].mode & 0777));
		if (bf_path(fp, v[i].guest + 6, "guest path", e) != 0)
			goto fail;
		fputc('=', fp);
		if (bf_path(fp, v[i].host, "staged path", e) != 0)
			goto fail;
		fputc('\n', fp);
	}
	if (fclose(fp) != 0) {
		free(*textp);
		*textp = NULL;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	}
	return 0;
fail:
	fclose(fp);
	free(*textp);
	*textp = NULL;
	return e->status;
}

struct sdp {
	int	 source;			/* 1: source qnxsdp-env.sh first */
	char	 root[PATH_MAX];
	char	 mk[PATH_MAX];			/* mkqnximage */
	char	 hex[QQ_DIGEST_HEX];		/* its digest */
};

static int
find_sdp(struct ctx *c, struct qq_settings *s, const struct qq_facts *f, struct sdp *sdp,
    struct qq_err *e)
{
	const char *host = getenv("QNX_HOST"), *target = getenv("QNX_TARGET");
	char env[PATH_MAX];
	struct utsname u;
	struct stat st;

	memset(sdp, 0, sizeof(*sdp));
	if (host != NULL && *host != '\0' && target != NULL && *target != '\0') {
		/* The SDP environment is already set: use it as it is. */
		if ((size_t)snprintf(sdp->mk, sizeof(sdp->mk), "%s/usr/bin/mkqnximage", host) >=
		    sizeof(sdp->mk))
			return qq_err_set(e, QQ_EXIT_INPUT, "QNX_HOST too long");
		if (stat(sdp->mk, &st) == -1)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find mkqnximage at %s: %s "
			    "(QNX_HOST is %s: fix it, or unset QNX_HOST and QNX_TARGET to use "
			    "QNX_ROOT)", sdp->mk, strerror(errno), host);
	} else {
		if (qq_settings_get(s, QQ_SET_QNX_ROOT, f, e) != 0)
			return e->status;
		strlcpy(sdp->root, s->val[QQ_SET_QNX_ROOT], sizeof(sdp->root));
		sdp->source = 1;
		if (stat(sdp->root, &st) == -1)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find the QNX SDP at %s: %s "
			    "(set QNX_ROOT or --qnx-root to its installation directory)", sdp->root,
			    strerror(errno));
		if ((size_t)snprintf(env, sizeof(env), "%s/qnxsdp-env.sh", sdp->root) >=
		    sizeof(env))
			return qq_err_set(e, QQ_EXIT_INPUT, "QNX_ROOT too long");
		if (stat(env, &st) == -1)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find %s: %s (set QNX_ROOT or "
			    "--qnx-root to the SDP installation directory)", env, strerror(errno));
		/* Where qnxsdp-env.sh puts QNX_HOST; the digest needs the file before sourcing. */
		if (uname(&u) == -1)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to find the host machine");
		if ((size_t)snprintf(sdp->mk, sizeof(sdp->mk), "%s/host/linux/%s/usr/bin/mkqnximage",
		    sdp->root, u.machine) >= sizeof(sdp->mk))
			return qq_err_set(e, QQ_EXIT_INPUT, "QNX_ROOT too long");
		if (stat(sdp->mk, &st) == -1)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find mkqnximage at %s: %s "
			    "(set QNX_ROOT to an SDP 8 installation, or source qnxsdp-env.sh so that "
			    "QNX_HOST is set)", sdp->mk, strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || access(sdp->mk, X_OK) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to run %s: not an executable file",
		    sdp->mk);
	return qq_digest_get(&c->dc, sdp->mk, sdp->hex, NULL, e);
}

static void
show_tail(FILE *talk, const char *log)
{
	char buf[4096];
	ssize_t n;
	off_t end;
	int fd, lines = 0;
	char *p, *start;

	if (talk == NULL || (fd = open(log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ?
	    end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	for (start = p; *start != '\0'; start = p) {
		p = start + strcspn(start, "\n");
		fprintf(talk, "mkqnximage.log: %.*s\n", (int)(p - start), start);
		if (*p == '\n')
			p++;
	}
}

static int
run_mkqnximage(struct ctx *c, const struct sdp *sdp, char *const args[], size_t nargs,
    struct qq_err *e)
{
	static const char src_script[] =
	    "cd -- \"$1\" || exit 1; source \"$2/qnxsdp-env.sh\" >/dev/null || exit 1; "
	    "shift 2; exec \"$@\"";
	static const char env_script[] = "cd -- \"$1\" || exit 1; shift; exec \"$@\"";
	posix_spawn_file_actions_t fa;
	char bash[PATH_MAX], log[PATH_MAX];
	char **argv;
	size_t i, k = 0;
	pid_t pid;
	int fd, rc, ws;

	if (qq_proc_which("bash", bash, sizeof(bash)) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find bash, which qnxsdp-env.sh "
		    "and mkqnximage need");
	if (wpath(c, LOG_FILE, log, sizeof(log), e) != 0)
		return e->status;
	if ((argv = calloc(nargs + 8, sizeof(*argv))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run mkqnximage");
	/* Every value is a positional parameter: nothing is pasted into the script. */
	argv[k++] = "bash";
	argv[k++] = "-c";
	argv[k++] = (char *)(sdp->source ? src_script : env_script);
	argv[k++] = "qq-mkimage";
	argv[k++] = c->ws.path;
	if (sdp->source)
		argv[k++] = (char *)sdp->root;
	argv[k++] = (char *)sdp->mk;
	for (i = 0; i < nargs; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1) {
		free(argv);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", log);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
	rc = posix_spawn(&pid, bash, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	free(argv);
	if (rc != 0) {
		errno = rc;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run %s", bash);
	}
	while (waitpid(pid, &ws, 0) == -1) {
		if (errno != EINTR)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for mkqnximage");
		if (qq_sig_caught())	/* interrupted: end mkqnximage too, then report 128+n */
			(void)kill(pid, SIGTERM);
	}
	if (qq_sig_check(e) != 0)
		return e->status;
	if ((rc = qq_err_wstatus(ws)) != 0) {
		show_tail(c->talk, log);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "mkqnximage failed (exit %d); its log is %s",
		    rc, log);
	}
	return 0;
}

static int
build_mkqnximage(struct ctx *c, struct qq_settings *s, struct qq_facts *f,
    const struct qq_mkimage_opts *o, struct qq_mkimage_result *r, struct qq_err *e)
{
	static const char *const outputs[] = { "output/ifs.bin", "output/disk-qemu.vmdk", NULL };
	struct qq_mkimage_file *mf = NULL;
	char arch[64], ident[PATH_MAX + 16], identpath[PATH_MAX], path[PATH_MAX];
	char identtext[QQ_PUBKEY_LINE_MAX + 2];
	char *snippet = NULL, *args[6];
	struct sdp sdp;
	size_t i;
	int rc;

	if (find_sdp(c, s, f, &sdp, e) != 0)
		return e->status;
	snprintf(arch, sizeof(arch), "--arch=%s",
	    strcmp(s->val[QQ_SET_ARCH], "aarch64") == 0 ? "aarch64le" : "x86_64");
	if (wpath(c, IDENT_FILE, identpath, sizeof(identpath), e) != 0)
		return e->status;
	snprintf(ident, sizeof(ident), "--ssh-ident=%s", identpath);
	args[0] = "--type=qemu";
	args[1] = arch;
	args[2] = ident;
	args[3] = "--noprompt";
	args[4] = "--force";
	args[5] = "--build";
	if ((mf = calloc(c->nfiles ? c->nfiles : 1, sizeof(*mf))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	for (i = 0; i < c->nfiles; i++) {
		mf[i].guest = c->files[i].guest;
		mf[i].host = c->files[i].host;
		mf[i].mode = c->files[i].mode;
	}
	rc = qq_mkimage_snippet(mf, c->nfiles, &snippet, e);
	free(mf);
	if (rc != 0)
		return e->status;
	/* The snippet is a function of (guest, mode, host) and its format version. */
	kadd(&c->key, "mkqnximage snippet 1");
	for (i = 0; i < c->nfiles; i++)
		kadd(&c->key, c->files[i].host);
	for (i = 0; i < 6; i++)
		kadd(&c->key, args[i]);
	kadd(&c->key, sdp.mk);
	kadd(&c->key, sdp.hex);
	kadd(&c->key, sdp.root);
	kadd(&c->key, sdp.source ? "" : getenv("QNX_HOST"));
	kadd(&c->key, sdp.source ? "" : getenv("QNX_TARGET"));
	SHA256End(&c->key, r->key);
	if (!o->rebuild && (rc = key_file_matches(c, r->key, outputs, e)) != 0) {
		free(snippet);
		if (rc == -1)
			return e->status;
		if (c->talk != NULL)
			fprintf(c->talk, "qq-mkimage: nothing changed since the last build "
			    "(image.key %.12s); mkqnximage not run\n", r->key);
		goto facts;
	}
	r->built = 1;
	snprintf(identtext, sizeof(identtext), "%s\n", c->pubkey);
	if (forget_key(c, e) != 0 || wpath(c, SNIPPET_DIR, path, sizeof(path), e) != 0 ||
	    qq_file_mkdirs(path, 0755, e) != 0 ||
	    wpath(c, SNIPPET_FILE, path, sizeof(path), e) != 0 ||
	    qq_file_write_atomic(path, snippet, strlen(snippet), 0644, e) != 0 ||
	    write_if_changed(identpath, identtext, 0644, e) != 0) {
		free(snippet);
		return e->status;
	}
	free(snippet);
	if (run_mkqnximage(c, &sdp, args, 6, e) != 0)
		return e->status;
	for (i = 0; outputs[i] != NULL; i++) {
		struct stat st;

		if (wpath(c, outputs[i], path, sizeof(path), e) != 0)
			return e->status;
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			return qq_err_set(e, QQ_EXIT_RUNTIME, "mkqnximage did not write %s; its log "
			    "is %s/%s", outputs[i], c->ws.path, LOG_FILE);
	}
	if (write_key(c, r->key, e) != 0)
		return e->status;
facts:
	qq_facts_del(f, "initrd");
	qq_facts_del(f, "append");
	if (wpath(c, outputs[0], path, sizeof(path), e) != 0 ||
	    qq_facts_set(f, "kernel", path, e) != 0 ||
	    wpath(c, outputs[1], path, sizeof(path), e) != 0 ||
	    qq_facts_set(f, "disk", path, e) != 0)
		return e->status;
	return 0;
}

#define INITRAMFS_KERNEL "output/vmlinuz"
#define INITRAMFS_INITRD "output/initrd.img"

struct base {
	char	 dir[PATH_MAX];
	char	 kernel[PATH_MAX];
	char	 initrd[PATH_MAX];
	char	 append[QQ_VALUE_MAX];
};

/* The base guest's directory, files and kernel command line (--base or QNX_QEMU_BASE). */
static int
base_read(const struct qq_mkimage_opts *o, struct base *b, struct qq_err *e)
{
	const char *dir = o->base;
	char path[PATH_MAX], *buf = NULL;
	struct stat st;
	size_t len;

	if (dir == NULL && ((dir = getenv("QNX_QEMU_BASE")) == NULL || *dir == '\0'))
		return qq_err_set(e, QQ_EXIT_INPUT, "the initramfs builder needs a base guest: "
		    "give --base DIR (holding vmlinuz, initrd.img and append) or set QNX_QEMU_BASE");
	if (qq_file_abspath(dir, b->dir, sizeof(b->dir), e) != 0)
		return e->status;
	if (stat(b->dir, &st) == -1)
		return qq_err_sys(e, errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
		    QQ_EXIT_INPUT : QQ_EXIT_RUNTIME, "unable to read base guest %s", b->dir);
	if (!S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad base guest %s: not a directory (a base "
		    "guest holds vmlinuz, initrd.img and append)", b->dir);
	if (qq_file_join(b->kernel, sizeof(b->kernel), b->dir, "vmlinuz", e) != 0 ||
	    qq_file_join(b->initrd, sizeof(b->initrd), b->dir, "initrd.img", e) != 0 ||
	    qq_file_join(path, sizeof(path), b->dir, "append", e) != 0)
		return e->status;
	if (qq_file_read(path, sizeof(b->append) - 1, &buf, &len, e) != 0) {
		if (e->status == QQ_EXIT_INPUT)
			strlcat(e->msg, " (a base guest holds vmlinuz, initrd.img and append)",
			    sizeof(e->msg));
		return e->status;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (strchr(buf, '\n') != NULL || memchr(buf, '\0', len) != NULL) {
		free(buf);
		return qq_err_set(e, QQ_EXIT_INPUT, "%s must hold one line (the kernel command "
		    "line)", path);
	}
	strlcpy(b->append, buf, sizeof(b->append));
	free(buf);
	return 0;
}

static int
find_base(struct ctx *c, const struct qq_mkimage_opts *o, struct base *b, struct qq_err *e)
{
	static const char *const names[] = { "vmlinuz", "initrd.img", "append" };
	char path[PATH_MAX], hex[QQ_DIGEST_HEX];

	if (base_read(o, b, e) != 0)
		return e->status;
	kadd(&c->key, "initramfs");
	for (size_t i = 0; i < 3; i++) {
		if (qq_file_join(path, sizeof(path), b->dir, names[i], e) != 0)
			return e->status;
		if (qq_digest_get(&c->dc, path, hex, NULL, e) != 0) {
			if (e->status == QQ_EXIT_INPUT)
				strlcat(e->msg, " (a base guest holds vmlinuz, initrd.img and append)",
				    sizeof(e->msg));
			return e->status;
		}
		kadd(&c->key, names[i]);
		kadd(&c->key, hex);
	}
	return 0;
}

struct dirs {
	char	**v;
	size_t	  n, cap;
};

static int
dirs_add(struct dirs *d, const char *p, size_t len)
{
	char **v;

	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i]) == len && strncmp(d->v[i], p, len) == 0)
			return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		if ((v = reallocarray(d->v, cap, sizeof(*v))) == NULL)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	if ((d->v[d->n] = strndup(p, len)) == NULL)
		return -1;
	d->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
write_initrd(struct ctx *c, const struct base *b, const char *out, struct qq_err *e)
{
	static const char *const fixed[] = {
		"data", "data/home", "data/home/root", "data/home/root/tests",
	};
	struct qq_cpio_entry *v = NULL;
	struct dirs d = { 0 };
	char tmp[PATH_MAX] = "", keyline[QQ_PUBKEY_LINE_MAX + 2];
	size_t i, n = 0;
	off_t size;
	int in = -1, fd = -1, rc = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (dirs_add(&d, fixed[i], strlen(fixed[i])) == -1)
			goto nomem;
	for (i = 0; i < c->nfiles; i++)	/* every parent of a staged file */
		for (const char *p = c->files[i].guest + 1; (p = strchr(p, '/')) != NULL; p++)
			if (dirs_add(&d, c->files[i].guest + 1,
			    (size_t)(p - c->files[i].guest - 1)) == -1)
				goto nomem;
	qsort(d.v, d.n, sizeof(*d.v), cmp_str);	/* parents before children */
	if ((v = calloc(d.n + c->nfiles + 3, sizeof(*v))) == NULL)
		goto nomem;
	for (i = 0; i < d.n; i++)
		v[n++] = (struct qq_cpio_entry){ .path = d.v[i], .mode = S_IFDIR | 0755 };
	/* Root's home is a real directory with the key (testguest-notes.md). */
	snprintf(keyline, sizeof(keyline), "%s\n", c->pubkey);
	v[n++] = (struct qq_cpio_entry){ .path = "root", .mode = S_IFDIR | 0700 };
	v[n++] = (struct qq_cpio_entry){ .path = "root/.ssh", .mode = S_IFDIR | 0700 };
	v[n++] = (struct qq_cpio_entry){ .path = "root/.ssh/authorized_keys",
	    .mode = S_IFREG | 0600, .data = keyline, .len = strlen(keyline) };
	for (i = 0; i < c->nfiles; i++)
		v[n++] = (struct qq_cpio_entry){ .path = c->files[i].guest + 1,
		    .mode = S_IFREG | c->files[i].mode, .src = c->files[i].host,
		    .mtime = c->files[i].mtime };
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", out) >= sizeof(tmp)) {
		*tmp = '\0';
		rc = qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", out);
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", tmp);
		goto done;
	}
	if ((in = open(b->initrd, O_RDONLY | O_CLOEXEC)) == -1 || qq_copy_fd(in, fd, NULL) == -1 ||
	    (size = lseek(fd, 0, SEEK_END)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", b->initrd, tmp);
		goto done;
	}
	/* An uncompressed archive appended to an initrd must start 4-byte aligned. */
	if (size % 4 != 0 && write(fd, "\0\0\0", (size_t)(4 - size % 4)) != 4 - size % 4) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", tmp);
		goto done;
	}
	if ((rc = qq_cpio_write(fd, v, n, e)) != 0 || (rc = qq_sig_check(e)) != 0)
		goto done;
	if (fchmod(fd, 0644) == -1 || close(fd) == -1) {
		fd = -1;
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, out) == -1)
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", out);
done:
	if (in != -1)
		close(in);
	if (fd != -1)
		close(fd);
	if (rc != 0 && *tmp != '\0')
		unlink(tmp);
	for (i = 0; i < d.n; i++)
		free(d.v[i]);
	free(d.v);
	free(v);
	return rc;
nomem:
	*tmp = '\0';
	rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list the initramfs");
	goto done;
}

static int
copy_atomic(const char *src, const char *dst, struct qq_err *e)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", dst, (long)getpid()) >= sizeof(tmp))
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", dst);
	unlink(tmp);
	if (qq_copy_file(src, tmp, 0644, e) != 0)
		return e->status;
	if (rename(tmp, dst) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", dst);
		unlink(tmp);
		return e->status;
	}
	return 0;
}

static int
build_initramfs(struct ctx *c, struct qq_facts *f, const struct qq_mkimage_opts *o,
    struct qq_mkimage_result *r, struct qq_err *e)
{
	static const char *const outputs[] = { INITRAMFS_KERNEL, INITRAMFS_INITRD, NULL };
	char kernel[PATH_MAX], initrd[PATH_MAX], dir[PATH_MAX];
	struct base b;
	int rc;

	if (find_base(c, o, &b, e) != 0)
		return e->status;
	kadd(&c->key, b.append);
	SHA256End(&c->key, r->key);
	if (wpath(c, outputs[0], kernel, sizeof(kernel), e) != 0 ||
	    wpath(c, outputs[1], initrd, sizeof(initrd), e) != 0 ||
	    wpath(c, "output", dir, sizeof(dir), e) != 0)
		return e->status;
	if (!o->rebuild && (rc = key_file_matches(c, r->key, outputs, e)) != 0) {
		if (rc == -1)
			return e->status;
		if (c->talk != NULL)
			fprintf(c->talk, "qq-mkimage: nothing changed since the last build "
			    "(image.key %.12s); initrd not rebuilt\n", r->key);
	} else {
		r->built = 1;
		if (forget_key(c, e) != 0 || qq_file_mkdirs(dir, 0755, e) != 0 ||
		    copy_atomic(b.kernel, kernel, e) != 0 || write_initrd(c, &b, initrd, e) != 0 ||
		    write_key(c, r->key, e) != 0)
			return e->status;
	}
	if (qq_facts_set(f, "kernel", kernel, e) != 0 || qq_facts_set(f, "disk", "", e) != 0 ||
	    qq_facts_set(f, "initrd", initrd, e) != 0 ||
	    qq_facts_set(f, "append", b.append, e) != 0)
		return e->status;
	return 0;
}

int
qq_mkimage_facts(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
    struct qq_mkimage_result *r, struct qq_err *e)
{
	struct ctx c;
	char builder[16], path[PATH_MAX];
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(r, 0, sizeof(*r));
	c.ws.lockfd = -1;
	c.dc.dirfd = -1;
	c.talk = o->talk;
	e->status = 0;
	if (qq_mkimage_builder(o->builder, builder, sizeof(builder), e) != 0 ||
	    qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_WORKSPACE, f, e) != 0 ||
	    read_pubkey(o, f, c.pubkey, sizeof(c.pubkey), e) != 0)
		return e->status;
	strlcpy(r->builder, builder, sizeof(r->builder));
	/* Everything the build needs is checked before the workspace is touched. */
	if (qq_mkimage_plan(s, f, o, builder, sizeof(builder), e) != 0)
		return e->status;
	if (qq_ws_begin(&c.ws, s->val[QQ_SET_WORKSPACE], 1, e) != 0)
		goto out;
	if (wpath(&c, DIGESTS_FILE, path, sizeof(path), e) != 0 ||
	    qq_digest_load(&c.dc, path, e) != 0)
		goto out;
	if (load_files(&c, f, e) != 0)
		goto out;
	SHA256Init(&c.key);
	kadd(&c.key, KEY_VERSION);
	kadd(&c.key, c.pubkey);
	for (i = 0; i < c.nfiles; i++) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%03o", (unsigned)c.files[i].mode);
		kadd(&c.key, c.files[i].guest);
		kadd(&c.key, mode);
		kadd(&c.key, c.files[i].hex);
	}
	if (strcmp(builder, "initramfs") == 0) {
		if (build_initramfs(&c, f, o, r, e) != 0)
			goto out;
	} else if (build_mkqnximage(&c, s, f, o, r, e) != 0)
		goto out;
	if (qq_digest_save(&c.dc, path, e) != 0)
		goto out;
	qq_settings_export(s, f, e);
out:
	qq_digest_free(&c.dc);
	files_free(&c);
	qq_ws_close(&c.ws);
	return e->status;
}

int
qq_mkimage_plan(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
    char *builder, size_t buildersz, struct qq_err *e)
{
	char kernel[PATH_MAX], initrd[PATH_MAX], key[QQ_PUBKEY_LINE_MAX];
	struct base b;
	struct ctx c;
	struct sdp sdp;
	struct qq_mkimage_file *mf = NULL;
	char *snippet = NULL;
	int rc;

	/* What a build would refuse, checked without writing: the same calls, in the same order. */
	if (qq_mkimage_builder(o->builder, builder, buildersz, e) != 0 ||
	    qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_WORKSPACE, f, e) != 0)
		return e->status;
	if ((o->ssh_pubkey != NULL || qq_facts_get(f, "ssh_pubkey") != NULL) &&
	    read_pubkey(o, f, key, sizeof(key), e) != 0)
		return e->status;
	memset(&c, 0, sizeof(c));
	c.ws.lockfd = -1;
	c.dc.dirfd = -1;
	if (qq_ws_check(&c.ws, s->val[QQ_SET_WORKSPACE], e) != 0)
		return e->status;
	/* The stage facts as the build reads them (their files may not be staged yet). */
	if ((mf = calloc(f->n ? f->n : 1, sizeof(*mf) + 2 * PATH_MAX)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the image");
	rc = 0;
	for (size_t i = 0, k = 0; rc == 0 && i < f->n; i++) {
		char *guest = (char *)(mf + f->n) + 2 * PATH_MAX * k;

		if (strcmp(f->v[i].key, "stage") != 0)
			continue;
		rc = qq_stage_parse(f->v[i].value, guest, PATH_MAX, guest + PATH_MAX, PATH_MAX, e);
		mf[k] = (struct qq_mkimage_file){ .guest = guest, .host = guest + PATH_MAX,
		    .mode = 0755 };
		c.nfiles = ++k;
	}
	if (rc == 0 && strcmp(builder, "initramfs") != 0 &&
	    (rc = qq_mkimage_snippet(mf, c.nfiles, &snippet, e)) == 0) {
		c.nfiles = 0;
		rc = find_sdp(&c, s, f, &sdp, e);
	}
	c.nfiles = 0;
	free(snippet);
	free(mf);
	qq_digest_free(&c.dc);
	if (rc != 0 || strcmp(builder, "initramfs") != 0)
		return rc;	/* qq-cmdline's defaults are mkqnximage's outputs */
	if (base_read(o, &b, e) != 0 ||
	    qq_file_join(kernel, sizeof(kernel), s->val[QQ_SET_WORKSPACE], INITRAMFS_KERNEL, e) != 0 ||
	    qq_file_join(initrd, sizeof(initrd), s->val[QQ_SET_WORKSPACE], INITRAMFS_INITRD, e) != 0 ||
	    qq_facts_set(f, "kernel", kernel, e) != 0 || qq_facts_set(f, "disk", "", e) != 0 ||
	    qq_facts_set(f, "initrd", initrd, e) != 0 ||
	    qq_facts_set(f, "append", b.append, e) != 0)
		return e->status;
	return 0;
}
